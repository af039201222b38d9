"""Two-layer linear networks trained in numpy, recorded at checkpoints ("sessions") with known ground truth.

The network is ``f(x) = (1 / (gamma0 N)) sum_i a_i (w_i . x)`` with ``N`` hidden units, inputs in ``D``
dimensions, initial weights ``a_i, w_ij ~ N(0, sigma^2)`` and the task ``y(x) = y beta_hat . x``. It is
trained by gradient flow on the squared error over whitened inputs (so the training loss is the population
loss ``|beta - y beta_hat|^2 / 2`` with ``beta = W^T a / (gamma0 N)``) at learning rate ``gamma0^2 N``,
integrated with classical Runge-Kutta steps a quarter of the fastest kernel timescale.

* ``sigma = 1`` is the mean-field / muP parameterisation with richness ``gamma0``, the network of the
  ``"lazy-rich"`` model (:mod:`neurolearn.theory.lazy_rich`).
* ``gamma0 = 1`` with small ``sigma`` is the small-initialisation network of the ``"silent-alignment"`` model
  (:mod:`neurolearn.theory.silent_alignment`).

The initialisation is centred by antisymmetric doubling: hidden units come in pairs ``(a_i, w_i)`` and
``(-a_i, w_i)``, so ``f_0 = 0`` exactly while every unit's marginal distribution stays Gaussian.

A recording is the hidden layer, ``h_i(x) = w_i . x``, on a fixed probe set of ``P`` conditions that is
whitened and centred (``X^T X = P I``, ``1^T X = 0``) and whose first input coordinate is the binary task
label ``+-1``, the task direction ``beta_hat``. The regression target of a condition is therefore ``y``
times its label, so the label kernel and the regression-target kernel coincide.

The ground-truth record :class:`SimulatedLearning` (:mod:`neurolearn.simulate.truth`) and the
fixed-first-layer simulator :func:`simulate_readout_learning_sessions`
(:mod:`neurolearn.simulate.readout_learning`) are re-exported here, where they were first defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas
from neurolearn.simulate.readout_learning import simulate_readout_learning_sessions
from neurolearn.simulate.truth import SimulatedLearning, _behavior, _centred_alignment, _session_ids

__all__ = [
    "whitened_probe_set",
    "LinearNetworkRun",
    "train_two_layer_linear",
    "SimulatedLearning",
    "simulate_lazy_rich_sessions",
    "simulate_silent_alignment_sessions",
    "simulate_readout_learning_sessions",
]


def whitened_probe_set(n_conditions: int, input_dim: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Probe inputs ``X`` (P x D) with ``X^T X = P I``, ``1^T X = 0`` and first column the labels.

    Parameters
    ----------
    n_conditions : int
        ``P``; even (balanced labels) and at least ``input_dim + 1`` (so the centred probe set can span all
        ``D`` input dimensions).
    input_dim : int
        ``D >= 2``.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    inputs : numpy.ndarray, shape (P, D)
    labels : numpy.ndarray of int, shape (P,)
        ``+1`` / ``-1``, balanced, equal to ``inputs[:, 0]``.

    Examples
    --------
    >>> x, labels = whitened_probe_set(8, 3, rng=0)
    >>> bool(np.allclose(x.T @ x, 8 * np.eye(3))), bool(np.allclose(x.sum(0), 0)), labels.tolist()
    (True, True, [1, -1, 1, -1, 1, -1, 1, -1])
    """
    if input_dim < 2:
        raise DataError(f"whitened_probe_set: expected input_dim >= 2, found {input_dim}")
    if n_conditions % 2 or n_conditions < input_dim + 1:
        raise DataError(
            f"whitened_probe_set: expected an even number of conditions >= input_dim + 1 = {input_dim + 1}, "
            f"found {n_conditions}"
        )
    rng = np.random.default_rng(rng)
    labels = np.where(np.arange(n_conditions) % 2 == 0, 1, -1)
    fixed = np.column_stack([np.ones(n_conditions), labels]) / np.sqrt(n_conditions)
    # the other input coordinates: random directions orthogonal to the constant and to the labels
    other = rng.standard_normal((n_conditions, input_dim - 1))
    other -= fixed @ (fixed.T @ other)
    q, _ = np.linalg.qr(other)
    inputs = np.column_stack([labels, np.sqrt(n_conditions) * q])
    return inputs, labels


@dataclass
class LinearNetworkRun:
    """A trained two-layer linear network, summarised at the checkpoint times.

    Attributes
    ----------
    times : ndarray (T,)
        Training times of the checkpoints.
    residual : ndarray (T,)
        ``Delta = y - beta . beta_hat``, the residual along the task.
    error : ndarray (T,)
        Squared error of the network over whitened inputs relative to the target power,
        ``|beta - y beta_hat|^2 / y^2`` (equal to its mean over the probe set).
    task_eigenvalue, orthogonal_eigenvalue : ndarray (T,)
        Eigenvalue of the input-space tangent kernel ``H = (1/N) sum_i (w_i w_i^T + a_i^2 I)`` along the task
        (``H_y``) and its mean over the orthogonal directions (``H_perp``).
    hidden_task_eigenvalue, hidden_orthogonal_eigenvalue : ndarray (T,)
        The same for the hidden layer's kernel ``M = (1/N) sum_i w_i w_i^T``.
    recorded_weights : ndarray (T, n_recorded, D)
        First-layer weights of the recorded hidden units (responses are ``inputs @ w.T``).
    recorded_units : ndarray (n_recorded,)
        Indices of the recorded hidden units.
    richness, init_scale, target_scale : float
        ``gamma0``, ``sigma``, ``y``.
    """

    times: np.ndarray
    residual: np.ndarray
    error: np.ndarray
    task_eigenvalue: np.ndarray
    orthogonal_eigenvalue: np.ndarray
    hidden_task_eigenvalue: np.ndarray
    hidden_orthogonal_eigenvalue: np.ndarray
    recorded_weights: np.ndarray
    recorded_units: np.ndarray
    richness: float
    init_scale: float
    target_scale: float

    def condition_responses(self, inputs) -> np.ndarray:
        """Noiseless hidden responses of the recorded units, shape (T, P, n_recorded).

        Examples
        --------
        >>> run = train_two_layer_linear([0.0, 1.0], n_hidden=20, input_dim=4, n_recorded=5, rng=0)
        >>> run.condition_responses(whitened_probe_set(6, 4, rng=0)[0]).shape
        (2, 6, 5)
        """
        return np.einsum("pd,tnd->tpn", np.asarray(inputs, dtype=float), self.recorded_weights)


def train_two_layer_linear(
    times,
    *,
    richness: float = 1.0,
    init_scale: float = 1.0,
    input_dim: int = 20,
    n_hidden: int = 2000,
    target_scale: float = 1.0,
    n_recorded: int | None = None,
    readout_scale: float | None = None,
    rng=None,
) -> LinearNetworkRun:
    """Train the two-layer linear network by gradient flow and summarise it at ``times``.

    Parameters
    ----------
    times : array_like
        Non-decreasing checkpoint times (training time, ``>= 0``).
    richness : float
        ``gamma0 > 0``.
    init_scale : float
        ``sigma > 0``, standard deviation of the initial weights.
    input_dim : int
        ``D``.
    n_hidden : int
        ``N``, even (antisymmetric doubling).
    target_scale : float
        ``y``.
    n_recorded : int, optional
        Number of hidden units whose weights are kept (a random subset; default all).
    readout_scale : float, optional
        Standard deviation of the initial readout weights ``a_i`` if it differs from ``init_scale`` (an
        unbalanced initialisation; the first-layer weights keep ``init_scale``).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    LinearNetworkRun

    Examples
    --------
    >>> run = train_two_layer_linear([0.0, 0.5], richness=1.0, n_hidden=2000, rng=0)
    >>> round(float(run.residual[0]), 3), bool(abs(run.residual[1] - 0.338) < 0.01)
    (1.0, True)
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or times[0] < 0:
        raise DataError(f"train_two_layer_linear: expected non-decreasing times >= 0, found {times!r}")
    readout_scale = init_scale if readout_scale is None else readout_scale
    if not richness > 0 or not init_scale > 0 or not readout_scale > 0:
        raise DataError(
            f"train_two_layer_linear: expected richness, init_scale and readout_scale > 0, "
            f"found {richness!r}, {init_scale!r}, {readout_scale!r}"
        )
    if n_hidden < 2 or n_hidden % 2:
        raise DataError(f"train_two_layer_linear: expected an even n_hidden >= 2, found {n_hidden}")
    if input_dim < 2:
        raise DataError(f"train_two_layer_linear: expected input_dim >= 2, found {input_dim}")
    rng = np.random.default_rng(rng)
    half = n_hidden // 2
    a_half = readout_scale * rng.standard_normal(half)
    w_half = init_scale * rng.standard_normal((half, input_dim))
    readout = np.concatenate([a_half, -a_half])
    weights = np.concatenate([w_half, w_half])
    n_recorded = n_hidden if n_recorded is None else int(n_recorded)
    if not 1 <= n_recorded <= n_hidden:
        raise DataError(
            f"train_two_layer_linear: expected 1 <= n_recorded <= n_hidden={n_hidden}, found {n_recorded}"
        )
    recorded = np.sort(rng.choice(n_hidden, size=n_recorded, replace=False))

    gamma0, y = float(richness), float(target_scale)
    target = np.zeros(input_dim)
    target[0] = y
    scale = 1.0 / (gamma0 * n_hidden)
    # one state array, column 0 the readout a, columns 1.. the first-layer weights W, so a Runge-Kutta stage
    # is a handful of whole-array operations
    state = np.column_stack([readout, weights])

    def flow(current):
        # gradient flow at learning rate gamma0^2 N on |beta - y beta_hat|^2 / 2:
        # da_i/dt = gamma0 w_i . r, dw_i/dt = gamma0 a_i r with r = y beta_hat - beta
        a, w = current[:, 0], current[:, 1:]
        residual = target - scale * (a @ w)
        out = np.empty_like(current)
        out[:, 0] = w @ (gamma0 * residual)
        np.multiply(a[:, None], gamma0 * residual[None, :], out=out[:, 1:])
        return out

    # The fastest kernel eigenvalue is at most 2 sqrt(rho^2 + gamma0^2 y^2) with rho the mean initial weight
    # variance of the two layers (+ finite-N spread); classical
    # RK4 at a quarter of its inverse has local error ~ (1/4)^5 / 120 ~ 1e-5 relative, far below the
    # O(1/sqrt N) finite-width fluctuations the simulation is meant to show.
    mean_variance = 0.5 * (init_scale**2 + readout_scale**2)
    fastest = 2.0 * np.sqrt(mean_variance**2 + (gamma0 * y) ** 2) + max(init_scale, readout_scale) ** 2
    max_step = 0.25 / fastest

    summaries = {k: np.empty(times.size) for k in ("residual", "error", "h_y", "h_perp", "m_y", "m_perp")}
    recorded_weights = np.empty((times.size, n_recorded, input_dim))
    # thousands of small matrix-vector products: BLAS threads only add contention (20x slower on a busy
    # machine)
    with single_threaded_blas():
        _integrate(flow, state, times, max_step, summaries, recorded_weights, recorded, scale, target)
    return LinearNetworkRun(
        times=times,
        residual=summaries["residual"],
        error=summaries["error"],
        task_eigenvalue=summaries["h_y"],
        orthogonal_eigenvalue=summaries["h_perp"],
        hidden_task_eigenvalue=summaries["m_y"],
        hidden_orthogonal_eigenvalue=summaries["m_perp"],
        recorded_weights=recorded_weights,
        recorded_units=recorded,
        richness=gamma0,
        init_scale=float(init_scale),
        target_scale=y,
    )


def _integrate(flow, state, times, max_step, summaries, recorded_weights, recorded, scale, target):
    """Classical RK4 through the checkpoints, summarising the network at each (fills the arrays in place)."""
    n_hidden, input_dim = state.shape[0], state.shape[1] - 1
    y = target[0]
    now = 0.0
    for index, checkpoint in enumerate(times):
        n_steps = int(np.ceil((checkpoint - now) / max_step)) if checkpoint > now else 0
        if n_steps:
            dt = (checkpoint - now) / n_steps
            for _ in range(n_steps):
                k1 = flow(state)
                k2 = flow(state + (0.5 * dt) * k1)
                k3 = flow(state + (0.5 * dt) * k2)
                k4 = flow(state + dt * k3)
                k1 += k4
                k2 += k3
                k1 += 2.0 * k2
                state += (dt / 6.0) * k1
            now = checkpoint
        readout, weights = state[:, 0], state[:, 1:]
        beta = scale * (readout @ weights)
        hidden_kernel = weights.T @ weights / n_hidden
        readout_power = readout @ readout / n_hidden
        m_y = hidden_kernel[0, 0]
        m_perp = (np.trace(hidden_kernel) - m_y) / (input_dim - 1)
        summaries["residual"][index] = y - beta[0]
        summaries["error"][index] = np.sum((beta - target) ** 2) / y**2
        summaries["m_y"][index], summaries["m_perp"][index] = m_y, m_perp
        summaries["h_y"][index], summaries["h_perp"][index] = m_y + readout_power, m_perp + readout_power
        recorded_weights[index] = weights[recorded]


def simulate_lazy_rich_sessions(
    gamma0: float,
    n_sessions: int = 12,
    *,
    session_interval: float = 0.2,
    n_conditions: int = 32,
    n_neurons: int = 100,
    n_trials: int = 10,
    noise_sd: float = 1.0,
    input_dim: int = 20,
    n_hidden: int = 1000,
    chance: float = 0.5,
    ceiling: float = 1.0,
    rng=None,
):
    """Recordings of the hidden layer of a lazy or rich network over ``n_sessions`` sessions of training.

    Session ``s`` is recorded after training time ``s * session_interval`` (session 0 before training). Each
    session records ``n_neurons`` hidden units (the same tracked units every session) on ``n_conditions``
    probe conditions, ``n_trials`` trials each, with Gaussian trial noise of standard deviation ``noise_sd``
    (hidden responses have standard deviation about ``sqrt(input_dim)`` before learning). Trial coord
    ``target`` is the condition's binary label, ``stimulus`` the condition index, and ``correct`` is drawn
    with probability ``chance + (ceiling - chance) (1 - error)`` where ``error`` is the network's squared
    error relative to the target power: the behaviour link of the ``"lazy-rich"`` model.

    Parameters
    ----------
    gamma0 : float
        Richness (``0.1``: lazy, ``>= 2``: rich).
    n_sessions, session_interval, n_conditions, n_neurons, n_trials, noise_sd, input_dim, n_hidden
        Sizes of the experiment and of the network (``n_hidden`` even and ``>= n_neurons``).
    chance, ceiling : float
        Behaviour before and after learning.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    tree : xarray.DataTree
        One child per session (``session-00``, ...), each with a ``responses`` (trial, neuron) recording;
        :func:`neurolearn.simulate.nwb.write_sessions_nwb` (``kind="ophys"``, the responses are signed) writes
        it as NWB files that :func:`neurolearn.read_sessions` reads back exactly.
    truth : SimulatedLearning
        ``truth.parameters`` are the true ``"lazy-rich"`` parameters (``d_eff = input_dim``).

    Examples
    --------
    >>> tree, truth = simulate_lazy_rich_sessions(4.0, n_sessions=3, n_neurons=20, n_hidden=200, rng=0)
    >>> list(tree.children), truth.parameters["gamma0"], float(truth.behavior[0])
    (['session-00', 'session-01', 'session-02'], 4.0, 0.5)
    """
    return _simulate_sessions(
        model="lazy-rich",
        parameters={"gamma0": float(gamma0), "d_eff": float(input_dim), "chance": chance, "ceiling": ceiling},
        training_time=session_interval * np.arange(n_sessions),
        richness=float(gamma0),
        init_scale=1.0,
        n_conditions=n_conditions, n_neurons=n_neurons, n_trials=n_trials, noise_sd=noise_sd,
        input_dim=input_dim, n_hidden=n_hidden, chance=chance, ceiling=ceiling, rng=rng,
    )


def simulate_silent_alignment_sessions(
    init_variance: float,
    n_sessions: int = 12,
    *,
    hidden_share: float = 1.0,
    session_interval: float | None = None,
    n_conditions: int = 32,
    n_neurons: int = 100,
    n_trials: int = 10,
    noise_sd: float | None = None,
    input_dim: int = 20,
    n_hidden: int = 1000,
    chance: float = 0.5,
    ceiling: float = 1.0,
    rng=None,
):
    """Recordings of a two-layer linear network trained from small initial weights (silent alignment).

    The network has ``gamma0 = 1``, mean initial weight variance ``rho = init_variance`` over its two layers,
    split as ``sigma_w^2 = hidden_share * rho`` (first layer, the recorded one) and
    ``sigma_a^2 = (2 - hidden_share) * rho`` (readout), and task singular value ``s = y = 1``, so time is in
    units of ``1/s``. By default sessions span twice the loss-drop delay ``log(s / rho) / (2 s)`` plus ``2/s``
    and the trial noise is ``sigma_w sqrt(input_dim) / 4``, a quarter of the initial response scale.
    Everything else is as in :func:`simulate_lazy_rich_sessions`.

    Returns
    -------
    tree : xarray.DataTree
    truth : SimulatedLearning
        ``truth.parameters`` are the true ``"silent-alignment"`` parameters.

    Examples
    --------
    >>> tree, truth = simulate_silent_alignment_sessions(0.01, n_sessions=3, n_neurons=20, n_hidden=200,
    ...                                                  rng=0)
    >>> truth.model, truth.parameters["init_variance"], truth.parameters["hidden_share"]
    ('silent-alignment', 0.01, 1.0)
    """
    if not init_variance > 0:
        raise DataError(
            f"simulate_silent_alignment_sessions: expected init_variance > 0, found {init_variance!r}"
        )
    if not 0 < hidden_share < 2:
        raise DataError(
            f"simulate_silent_alignment_sessions: expected 0 < hidden_share < 2, found {hidden_share!r}"
        )
    hidden_variance = hidden_share * init_variance
    if session_interval is None:
        delay = 0.5 * max(np.log(1.0 / init_variance), 0.0)
        session_interval = (2.0 * delay + 2.0) / max(n_sessions - 1, 1)
    if noise_sd is None:
        noise_sd = 0.25 * np.sqrt(hidden_variance * input_dim)
    return _simulate_sessions(
        model="silent-alignment",
        parameters={"init_variance": float(init_variance), "hidden_share": float(hidden_share),
                    "d_eff": float(input_dim), "chance": chance, "ceiling": ceiling},
        training_time=session_interval * np.arange(n_sessions),
        richness=1.0,
        init_scale=float(np.sqrt(hidden_variance)),
        readout_scale=float(np.sqrt((2.0 - hidden_share) * init_variance)),
        n_conditions=n_conditions, n_neurons=n_neurons, n_trials=n_trials, noise_sd=noise_sd,
        input_dim=input_dim, n_hidden=n_hidden, chance=chance, ceiling=ceiling, rng=rng,
    )


def _simulate_sessions(*, model, parameters, training_time, richness, init_scale, n_conditions, n_neurons,
                       n_trials, noise_sd, input_dim, n_hidden, chance, ceiling, rng, readout_scale=None):
    from neurolearn.simulate.recording import _record_checkpoints

    if n_neurons > n_hidden:
        raise DataError(f"{model} simulation: expected n_neurons <= n_hidden={n_hidden}, found {n_neurons}")
    if not (0.0 <= chance <= 1.0 and 0.0 <= ceiling <= 1.0):
        raise DataError(
            f"{model} simulation: expected chance and ceiling in [0, 1], found {chance}, {ceiling}"
        )
    rng = np.random.default_rng(rng)
    inputs, labels = whitened_probe_set(n_conditions, input_dim, rng)
    run = train_two_layer_linear(
        training_time, richness=richness, init_scale=init_scale, input_dim=input_dim, n_hidden=n_hidden,
        n_recorded=n_neurons, readout_scale=readout_scale, rng=rng,
    )
    behavior = _behavior(run.error, chance, ceiling)
    responses = run.condition_responses(inputs)
    kernels = responses @ responses.transpose(0, 2, 1) / n_neurons
    tree = _record_checkpoints(
        responses, session_ids=_session_ids(training_time.size), n_trials=n_trials, noise_sd=noise_sd,
        target=labels, behavior=behavior, rng=rng,
    )
    truth = SimulatedLearning(
        model=model,
        parameters=parameters,
        training_time=training_time,
        behavior=behavior,
        task_alignment=np.array([_centred_alignment(k, labels) for k in kernels]),
        kernel_change=np.linalg.norm(kernels - kernels[0], axis=(1, 2)) / np.linalg.norm(kernels[0]),
        condition_kernels=kernels,
        probe_inputs=inputs,
        labels=labels,
        run=run,
    )
    return tree, truth
