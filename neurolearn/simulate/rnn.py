"""A linear RNN learning to integrate, trained by backpropagation through time, and its recordings.

The network ``h_{k+1} = W h_k + u x_k`` with readout ``y_k = v . h_{k+1}`` is trained to reproduce the target
filter ``y*_k = sum_n rho_star**n x_{k-n}`` (``rho_star -> 1`` is a perfect integrator) on white-noise input
(Bordelon, Cotler, Pehlevan & Zavatone-Veth 2025). For unit white noise the expected squared error is the
impulse-response loss ``L = 1/2 sum_n (v W^n u - rho_star^n)^2``, so by default the gradient is computed by
BPTT through an impulse (the exact expected gradient); ``input="noise"`` uses sampled white-noise batches.
With a small initial ``W`` one outlier eigenvalue of ``W`` rises out of the bulk while the loss falls; this is
what :mod:`neurolearn.theory.integrator` reduces.

Recordings are time-resolved hidden states ``(trial, neuron, time)`` driven by white-noise input at training
checkpoints, so that a linear dynamical model fitted to the activity recovers ``W``'s slow mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, RESPONSES, TIME, TRIAL
from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas

__all__ = [
    "IntegratorTraining",
    "train_integrator",
    "impulse_response",
    "integrator_loss",
    "record_rnn_activity",
    "simulate_integrator_sessions",
]


@dataclass
class IntegratorTraining:
    """Checkpoints of a trained linear RNN.

    Attributes
    ----------
    steps : ndarray of int, shape (C,)
        Training step of each checkpoint.
    loss : ndarray, shape (C,)
        Expected (impulse-response) loss ``1/2 sum_n (k_n - rho_star^n)^2`` at each checkpoint.
    initial_loss : float
        The loss of the zero network, ``1/(2(1 - rho_star^2))`` (truncated at ``horizon``); ``loss /
        initial_loss`` is the normalised loss.
    outlier_eigenvalue : ndarray, shape (C,)
        Largest eigenvalue modulus of ``W`` at each checkpoint.
    W, u, v : ndarray, shapes (C, N, N), (C, N), (C, N)
        The parameters at each checkpoint.
    rho_star : float
    """

    steps: np.ndarray
    loss: np.ndarray
    initial_loss: float
    outlier_eigenvalue: np.ndarray
    W: np.ndarray
    u: np.ndarray
    v: np.ndarray
    rho_star: float

    @property
    def normalized_loss(self) -> np.ndarray:
        """Loss relative to the loss of the zero network (1 = nothing learned)."""
        return self.loss / self.initial_loss


def impulse_response(W, u, v, horizon: int) -> np.ndarray:
    """``k_n = v . W^n u`` for ``n = 0 .. horizon-1``: the RNN's linear filter from input to output.

    Examples
    --------
    >>> import numpy as np
    >>> impulse_response(0.5 * np.eye(2), np.array([1.0, 0.0]), np.array([1.0, 0.0]), 4).tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    h = np.asarray(u, dtype=float).copy()
    W = np.asarray(W, dtype=float)
    out = np.empty(horizon)
    for n in range(horizon):
        out[n] = v @ h
        h = W @ h
    return out


def integrator_loss(kernel, rho_star: float) -> float:
    """Expected squared error on unit white noise of a filter ``kernel`` against ``rho_star**n``.

    Examples
    --------
    >>> round(integrator_loss(np.zeros(2000), 0.95), 4)  # 1 / (2 (1 - 0.95^2))
    5.1282
    """
    kernel = np.asarray(kernel, dtype=float)
    target = rho_star ** np.arange(kernel.size)
    return float(0.5 * np.sum((kernel - target) ** 2))


@single_threaded_blas()
def train_integrator(
    n_neurons: int = 100,
    rho_star: float = 0.95,
    *,
    n_steps: int = 200,
    learning_rate: float = 0.0026,
    init_scale: float = 0.1,
    readout_scale: float = 2.0,
    horizon: int | None = None,
    input: str = "impulse",
    batch_size: int = 16,
    checkpoints=None,
    rng=None,
) -> IntegratorTraining:
    """Train ``h_{k+1} = W h_k + u x_k``, ``y_k = v . h_{k+1}`` by BPTT to reproduce ``rho_star**n``.

    Parameters
    ----------
    n_neurons : int
        Hidden units N.
    rho_star : float
        Target filter decay, in (0, 1).
    n_steps : int
        Full gradient steps.
    learning_rate : float
        Step size of plain gradient descent.
    init_scale : float
        ``W`` starts as ``init_scale * G / sqrt(N)`` with Gaussian G, so its bulk eigenvalues fill a disk of
        radius ~``init_scale``; small values put the network in the regime of a single learned outlier.
    readout_scale : float
        ``u`` and ``v`` start with i.i.d. entries of standard deviation ``readout_scale / sqrt(N)``.
    horizon : int, optional
        Time steps of the filter that enter the loss (default: until ``rho_star**n < 1e-4``).
    input : {"impulse", "noise"}
        ``"impulse"``: gradient of the expected white-noise loss, computed by BPTT through a unit impulse.
        ``"noise"``: BPTT on ``batch_size`` sampled white-noise sequences of length ``2 * horizon`` (loss on
        the second half, where the response is stationary) -- a stochastic estimate of the same gradient.
    checkpoints : array_like of int, optional
        Steps at which to store the parameters (default: every step ``0..n_steps``).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    IntegratorTraining

    Examples
    --------
    >>> run = train_integrator(20, 0.9, n_steps=50, learning_rate=0.005, rng=0)
    >>> bool(run.normalized_loss[-1] < run.normalized_loss[0])
    True
    """
    if not 0.0 < rho_star < 1.0:
        raise DataError(f"train_integrator: expected rho_star in (0, 1), found {rho_star}")
    if input not in ("impulse", "noise"):
        raise DataError(f"train_integrator: expected input 'impulse' or 'noise', found {input!r}")
    if n_neurons < 1 or n_steps < 0:
        raise DataError(
            f"train_integrator: expected n_neurons >= 1 and n_steps >= 0, found {n_neurons}, {n_steps}"
        )
    rng = np.random.default_rng(rng)
    if horizon is None:
        horizon = int(np.ceil(np.log(1e-4) / np.log(rho_star)))
    N = n_neurons
    W = init_scale * rng.standard_normal((N, N)) / np.sqrt(N)
    u = readout_scale * rng.standard_normal(N) / np.sqrt(N)
    v = readout_scale * rng.standard_normal(N) / np.sqrt(N)
    if checkpoints is None:
        checkpoints = np.arange(n_steps + 1)
    checkpoints = np.unique(np.asarray(checkpoints, dtype=int))
    if checkpoints.size and (checkpoints.min() < 0 or checkpoints.max() > n_steps):
        raise DataError(
            f"train_integrator: expected checkpoints within 0..{n_steps}, found "
            f"{checkpoints.min()}..{checkpoints.max()}"
        )
    target = rho_star ** np.arange(horizon)
    initial_loss = 0.5 * float(target @ target)
    store = {"W": [], "u": [], "v": [], "loss": [], "outlier": []}
    wanted = set(checkpoints.tolist())
    impulse = np.zeros((1, horizon))
    impulse[0, 0] = 1.0
    for step in range(n_steps + 1):
        if step in wanted:
            kernel = impulse_response(W, u, v, horizon)
            store["W"].append(W.copy())
            store["u"].append(u.copy())
            store["v"].append(v.copy())
            store["loss"].append(integrator_loss(kernel, rho_star))
            store["outlier"].append(float(np.max(np.abs(np.linalg.eigvals(W)))))
        if step == n_steps:
            break
        if input == "impulse":
            gW, gu, gv = _bptt_gradient(W, u, v, impulse, target[None, :], first_scored=0)
        else:
            x = rng.standard_normal((batch_size, 2 * horizon))
            # the target output is the target filter applied to the input (causal convolution)
            y_star = np.stack([np.convolve(row, target)[: 2 * horizon] for row in x])
            gW, gu, gv = _bptt_gradient(W, u, v, x, y_star, first_scored=horizon)
        W -= learning_rate * gW
        u -= learning_rate * gu
        v -= learning_rate * gv
    return IntegratorTraining(
        steps=checkpoints,
        loss=np.asarray(store["loss"]),
        initial_loss=initial_loss,
        outlier_eigenvalue=np.asarray(store["outlier"]),
        W=np.asarray(store["W"]),
        u=np.asarray(store["u"]),
        v=np.asarray(store["v"]),
        rho_star=float(rho_star),
    )


def record_rnn_activity(
    W,
    u,
    *,
    n_trials: int = 40,
    n_time: int = 60,
    repeats: int = 2,
    noise_sd: float = 0.0,
    input_sd: float = 1.0,
    dt: float = 1.0,
    behavior: float | None = None,
    session_id: str = "session-0",
    session_start_time: str = "2026-01-01T09:00:00",
    rng=None,
) -> xr.DataArray:
    """Hidden states of the RNN driven by white-noise input -> a ``(trial, neuron, time)`` recording.

    Each trial starts at ``h = 0`` and runs ``n_time`` steps of ``h_{k+1} = W h_k + u x_k`` with
    ``x_k ~ N(0, input_sd^2)``; Gaussian measurement noise of standard deviation ``noise_sd`` is added to
    every bin. Because the input is independent of the current state, regressing ``h_{k+1}`` on ``h_k``
    recovers ``W`` on the visited subspace, which is what a linear-dynamics timescale estimator does.

    Parameters
    ----------
    W, u : ndarray
        Recurrent weights (N, N) and input weights (N,).
    n_trials, n_time : int
        Trials and time bins per trial.
    repeats : int
        Presentations of each input sequence (a "stimulus"); trials of one stimulus differ only by
        measurement noise, which condition-mean statistics need (at least 2 trials per condition).
    noise_sd : float
        Measurement noise added to the recorded states.
    input_sd : float
        Standard deviation of the white-noise drive.
    dt : float
        Seconds per RNN step (the ``bin_size`` attr and the spacing of the ``time`` coord).
    behavior : float, optional
        Probability of a correct report (e.g. ``1 - normalised loss``); adds a ``correct`` trial coord.
    session_id, session_start_time : str
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    xarray.DataArray
        Named ``responses``; trial coords ``stimulus`` (input-sequence id), ``target`` (sign of the summed
        input), ``input_total``, ``start_time``, ``stop_time`` (and ``correct``); a ``(trial, time)`` coord
        ``input`` whose entry k is the input driving the transition from bin k to k+1; ``time`` coord in
        seconds.

    Examples
    --------
    >>> rec = record_rnn_activity(0.5 * np.eye(3), np.ones(3), n_trials=4, n_time=10, rng=0)
    >>> dict(rec.sizes)
    {'trial': 4, 'neuron': 3, 'time': 10}
    """
    from neurolearn.simulate.recording import _recording_attrs

    rng = np.random.default_rng(rng)
    W = np.asarray(W, dtype=float)
    u = np.asarray(u, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or u.shape != (W.shape[0],):
        raise DataError(
            "record_rnn_activity: expected W of shape (N, N) and u of shape (N,), "
            f"found {W.shape} and {u.shape}"
        )
    if n_trials < 1 or n_time < 2:
        raise DataError(
            f"record_rnn_activity: expected n_trials >= 1 and n_time >= 2, found {n_trials}, {n_time}"
        )
    if repeats < 1:
        raise DataError(f"record_rnn_activity: expected repeats >= 1, found {repeats}")
    N = W.shape[0]
    stimulus = np.arange(n_trials) // repeats
    # one extra input sample: the drive of the transition out of the last bin (the ``input`` coord convention)
    x = (input_sd * rng.standard_normal((stimulus.max() + 1, n_time + 1)))[stimulus]
    states = np.empty((n_trials, N, n_time))
    h = np.zeros((n_trials, N))
    for k in range(n_time):
        h = h @ W.T + np.outer(x[:, k], u)
        states[:, :, k] = h
    states += noise_sd * rng.standard_normal(states.shape)
    start = np.arange(n_trials) * (n_time + 5) * dt
    total = x[:, :n_time].sum(axis=1)
    coords = {
        "stimulus": (TRIAL, stimulus),
        # input[:, k] drives the transition from bin k to bin k+1 (x_{k+1} = A x_k + B u_k, as
        # neurolearn.stats.dynamics fits it)
        "input": ((TRIAL, TIME), x[:, 1:]),
        "input_total": (TRIAL, total),
        "target": (TRIAL, np.sign(total)),
        "start_time": (TRIAL, start),
        "stop_time": (TRIAL, start + n_time * dt),
        NEURON: np.arange(N),
        TIME: (np.arange(n_time) + 0.5) * dt,
    }
    if behavior is not None:
        coords["correct"] = (TRIAL, rng.random(n_trials) < float(behavior))
    return xr.DataArray(
        states,
        dims=(TRIAL, NEURON, TIME),
        coords=coords,
        name=RESPONSES,
        attrs={**_recording_attrs(session_id, session_start_time, units="a.u.", window=(0.0, float(n_time * dt)),
                                  bin_size=float(dt)), "tracked": True},  # the same network's units every session
    )


def simulate_integrator_sessions(
    n_sessions: int = 8,
    *,
    n_neurons: int = 60,
    rho_star: float = 0.9,
    n_steps: int = 200,
    learning_rate: float = 0.006,
    init_scale: float = 0.1,
    readout_scale: float = 2.0,
    n_trials: int = 30,
    n_time: int = 50,
    noise_sd: float = 0.01,
    dt: float = 1.0,
    rng=None,
) -> tuple[xr.DataTree, xr.Dataset]:
    """Recordings of an RNN learning to integrate, one session per evenly spaced training checkpoint.

    Runs in about a second with the defaults.

    Returns
    -------
    tree : xarray.DataTree
        One ``(trial, neuron, time)`` session per checkpoint (ids ``day00``, ``day01``, ...).
    truth : xarray.Dataset
        Over dim ``session``: ``step``, ``loss``, ``normalized_loss``, ``behavior`` (``1 - normalised loss``),
        ``outlier_eigenvalue`` (largest ``|eig W|``) and ``timescale`` (``-dt / log outlier_eigenvalue``, s).

    Examples
    --------
    >>> tree, truth = simulate_integrator_sessions(3, n_neurons=20, n_steps=40, n_trials=5, rng=0)
    >>> list(tree.children), truth.sizes["session"]
    (['day00', 'day01', 'day02'], 3)
    """
    from neurolearn.simulate.recording import _session_start, _session_truth, make_session_tree

    rng = np.random.default_rng(rng)
    if n_sessions < 1:
        raise DataError(f"simulate_integrator_sessions: expected n_sessions >= 1, found {n_sessions}")
    steps = np.unique(np.linspace(0, n_steps, n_sessions).round().astype(int))
    run = train_integrator(
        n_neurons, rho_star, n_steps=n_steps, learning_rate=learning_rate, init_scale=init_scale,
        readout_scale=readout_scale, checkpoints=steps, rng=rng,
    )
    behavior = np.clip(1.0 - run.normalized_loss, 0.0, 1.0)
    ids = [f"day{i:02d}" for i in range(steps.size)]
    recordings = [
        record_rnn_activity(
            run.W[i], run.u[i], n_trials=n_trials, n_time=n_time, noise_sd=noise_sd, dt=dt,
            behavior=behavior[i], session_id=ids[i], session_start_time=_session_start(i), rng=rng,
        )
        for i in range(steps.size)
    ]
    truth = _session_truth(
        ids,
        {
            "step": steps,
            "loss": run.loss,
            "normalized_loss": run.normalized_loss,
            "behavior": behavior,
            "outlier_eigenvalue": run.outlier_eigenvalue,
            "timescale": -dt / np.log(run.outlier_eigenvalue),
        },
        {"rho_star": rho_star, "n_neurons": n_neurons, "dt": dt},
    )
    return make_session_tree(recordings), truth


def _bptt_gradient(W, u, v, x, y_star, first_scored: int):
    """Gradients of ``1/(2B) sum_{b, k >= first_scored} (y_bk - y*_bk)^2`` by backpropagation through time."""
    B, T = x.shape
    N = W.shape[0]
    H = np.zeros((T + 1, B, N))
    for k in range(T):
        H[k + 1] = H[k] @ W.T + np.outer(x[:, k], u)
    y = H[1:] @ v  # (T, B)
    err = y - y_star.T
    err[:first_scored] = 0.0
    err /= B
    gv = np.einsum("tbn,tb->n", H[1:], err)
    deltas = np.empty((T, B, N))
    delta = np.zeros((B, N))
    for k in range(T - 1, -1, -1):
        # delta = dLoss/dh_{k+1}: direct readout error plus what flows back from h_{k+2}
        delta = delta @ W + np.outer(err[k], v)
        deltas[k] = delta
    gW = deltas.reshape(T * B, N).T @ H[:-1].reshape(T * B, N)
    gu = np.einsum("tbn,bt->n", deltas, x)
    return gW, gu, gv
