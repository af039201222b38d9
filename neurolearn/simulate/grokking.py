"""Grokking as the lazy-to-rich transition: a quadratic-activation network on a quadratic target, in numpy.

Kumar, Bordelon, Gershman & Pehlevan (2024). The network ``f(x) = (alpha/N) sum_i phi(w_i . x)`` with
``phi(h) = h + (eps/2) h^2`` learns the target ``y = (beta . x)^2 / 2`` from P samples ``x ~ N(0, I/D)``. The
trained predictor is centred, ``g = f(W) - f(W0)`` (zero at initialisation), and full-batch gradient
descent uses the mean-field step ``w_i -= (eta0 / alpha^2) N dL/dw_i`` so that in function space a step is
O(eta0) for every ``alpha``: large ``alpha`` trains lazily (a kernel fit of the training set, features barely
move), small ``alpha`` richly. With ``D << P << D^2`` the lazy fit memorises the training set but cannot
represent ``beta beta^T``, so the test loss falls only once ``M = mean_i w_i w_i^T`` aligns with
``beta beta^T`` -- later the lazier the network.

The test loss (mean squared error over the input distribution) is a function of two summary statistics,
``dw = mean_i (w_i - w_i(0))`` and ``dM = M - M(0)``:

    L = 1/4 (|beta|^2/D - (alpha eps/D) tr dM)^2 + ||alpha eps dM - beta beta^T||_F^2 / (2 D^2)
        + (alpha^2/D) |dw|^2,

computed exactly at every checkpoint (:func:`summary_test_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas

__all__ = [
    "GrokkingTraining",
    "train_grokking",
    "summary_test_loss",
    "steps_to_fraction",
    "simulate_grokking_sessions",
]


@dataclass
class GrokkingTraining:
    """Checkpoints of a trained grokking network.

    Attributes
    ----------
    steps : ndarray of int, shape (C,)
    train_loss, test_loss : ndarray, shape (C,)
        Mean squared error on the training set and over the input distribution (exact, from summary
        statistics).
    initial_loss : float
        Test loss of the zero predictor, ``E[y^2] = 3 |beta|^4 / (4 D^2)``.
    alignment : ndarray, shape (C,)
        Cosine between ``dM`` and ``beta beta^T`` (Frobenius), the feature alignment that grokking needs.
    probe_activity : ndarray, shape (C, Q, N)
        Hidden activity ``phi(w_i . x)`` on a probe set of Q inputs (first half training inputs, second half
        held-out) at each checkpoint.
    probe_inputs : ndarray, shape (Q, D)
    probe_target : ndarray, shape (Q,)
    probe_is_train : ndarray of bool, shape (Q,)
    alpha, epsilon : float
    """

    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    initial_loss: float
    alignment: np.ndarray
    probe_activity: np.ndarray
    probe_inputs: np.ndarray
    probe_target: np.ndarray
    probe_is_train: np.ndarray
    alpha: float
    epsilon: float


def summary_test_loss(dw_mean, dM, beta, alpha: float, epsilon: float) -> float:
    """Exact test MSE of the centred predictor from ``dw = mean(w - w0)`` and ``dM = M - M0``.

    Examples
    --------
    >>> import numpy as np
    >>> D = 4; beta = np.ones(D)
    >>> summary_test_loss(np.zeros(D), np.zeros((D, D)), beta, 1.0, 0.5)  # zero predictor: 3|beta|^4/(4D^2)
    0.75
    >>> summary_test_loss(np.zeros(D), np.outer(beta, beta) / 0.5, beta, 1.0, 0.5)  # exact target
    0.0
    """
    beta = np.asarray(beta, dtype=float)
    D = beta.size
    A = alpha * epsilon * np.asarray(dM) - np.outer(beta, beta)
    linear = alpha**2 / D * np.sum(np.square(dw_mean))
    return float(0.25 * (np.trace(A) / D) ** 2 + np.sum(A**2) / (2 * D**2) + linear)


@single_threaded_blas()
def train_grokking(
    alpha: float,
    *,
    dim: int = 50,
    width: int = 200,
    n_train: int = 225,
    epsilon: float = 0.25,
    learning_rate: float = 1.5,
    n_steps: int = 20_000,
    checkpoint_every: int = 200,
    n_probe: int = 40,
    rng=None,
) -> GrokkingTraining:
    """Full-batch gradient descent of the centred network; losses, alignment, probe activity per checkpoint.

    Parameters
    ----------
    alpha : float
        Laziness: output scale of the network (large = lazy).
    dim, width, n_train : int
        Input dimension D, hidden units N, training samples P (grokking needs ``D << P << D^2``).
    epsilon : float
        Strength of the quadratic part of the activation (small = features start misaligned).
    learning_rate : float
        ``eta0``; the per-neuron step is ``eta0 N / alpha^2`` times the gradient.
    n_steps, checkpoint_every : int
    n_probe : int
        Probe inputs whose hidden activity is stored (half from the training set, half held out).
    rng : numpy.random.Generator or int, optional

    Examples
    --------
    >>> run = train_grokking(0.5, dim=10, width=20, n_train=40, n_steps=400, checkpoint_every=200, rng=0)
    >>> run.steps.tolist(), bool(run.train_loss[-1] < run.train_loss[0])
    ([0, 200, 400], True)
    """
    if alpha <= 0 or epsilon <= 0:
        raise DataError(
            f"train_grokking: expected alpha > 0 and epsilon > 0, found alpha={alpha}, epsilon={epsilon}"
        )
    if min(dim, width, n_train) < 1 or n_steps < 0 or checkpoint_every < 1:
        raise DataError(
            "train_grokking: expected positive dim, width, n_train, checkpoint_every and n_steps >= 0, "
            f"found {dim}, {width}, {n_train}, {checkpoint_every}, {n_steps}"
        )
    rng = np.random.default_rng(rng)
    D, N, P = dim, width, n_train
    beta = rng.standard_normal(D)
    X = rng.standard_normal((P, D)) / np.sqrt(D)
    y = 0.5 * (X @ beta) ** 2
    W0 = rng.standard_normal((N, D))
    W = W0.copy()
    n_half = n_probe // 2
    X_new = rng.standard_normal((n_probe - n_half, D)) / np.sqrt(D)
    probe = np.vstack([X[:n_half], X_new])
    probe_is_train = np.arange(n_probe) < n_half
    M0 = W0.T @ W0 / N
    f0 = _network(X @ W0.T, alpha, epsilon)
    step_size = learning_rate * N / alpha**2
    record = {"train": [], "test": [], "align": [], "probe": []}
    bb = np.outer(beta, beta)
    for step in range(n_steps + 1):
        _, residual, grad = _loss_terms(W, X, y, f0, alpha, epsilon)
        if step % checkpoint_every == 0:
            dM = W.T @ W / N - M0
            record["train"].append(float(np.mean(residual**2)))
            record["test"].append(summary_test_loss((W - W0).mean(axis=0), dM, beta, alpha, epsilon))
            cosine = np.sum(dM * bb) / (np.linalg.norm(dM) * np.linalg.norm(bb) + 1e-300)
            record["align"].append(float(cosine))
            record["probe"].append(_phi(probe @ W.T, epsilon))
        if step == n_steps:
            break
        W -= step_size * grad
    return GrokkingTraining(
        steps=np.arange(0, n_steps + 1, checkpoint_every),
        train_loss=np.asarray(record["train"]),
        test_loss=np.asarray(record["test"]),
        initial_loss=0.75 * float(beta @ beta) ** 2 / D**2,
        alignment=np.asarray(record["align"]),
        probe_activity=np.asarray(record["probe"]),
        probe_inputs=probe,
        probe_target=0.5 * (probe @ beta) ** 2,
        probe_is_train=probe_is_train,
        alpha=float(alpha),
        epsilon=float(epsilon),
    )


def steps_to_fraction(steps, loss, fraction: float = 0.1, initial=None):
    """First checkpoint step at which ``loss`` falls below ``fraction`` of its initial value (None if never).

    Examples
    --------
    >>> steps_to_fraction([0, 200, 400, 600], [1.0, 0.5, 0.09, 0.01])
    400
    """
    loss = np.asarray(loss, dtype=float)
    start = loss[0] if initial is None else initial
    below = np.nonzero(loss < fraction * start)[0]
    return int(np.asarray(steps)[below[0]]) if below.size else None


def simulate_grokking_sessions(
    n_sessions: int = 10,
    *,
    alpha: float = 0.5,
    dim: int = 20,
    width: int = 60,
    n_train: int = 80,
    epsilon: float = 0.25,
    learning_rate: float = 1.5,
    n_steps: int = 3000,
    n_probe: int = 40,
    n_trials: int = 4,
    noise_sd: float = 0.05,
    heldout_behavior: str = "train",
    rng=None,
) -> tuple[xr.DataTree, xr.Dataset]:
    """Recordings of the hidden layer of a grokking network at evenly spaced checkpoints (about a second).

    Each session holds the hidden activity on ``n_probe`` probe inputs (conditions; first half from the
    training set, trial coord ``is_train``; the documented held-out column ``heldout`` is its complement, True
    for the novel inputs) with Gaussian trial noise; ``target`` is the regression target ``y``; ``correct`` is
    drawn with probability ``behavior = 1 - train_loss / initial_loss`` (clipped to [0, 1]) on trained
    inputs.

    Parameters
    ----------
    heldout_behavior : {"train", "test"}
        Probability correct on held-out trials: ``"train"`` (default, as the bundled example data were made)
        draws them at the training behaviour like every other trial; ``"test"`` at
        ``1 - test_loss / initial_loss`` (clipped to [0, 1]), the behaviour of an animal that generalises as
        the network does, so that held-out behaviour measures the ``grokking`` model's
        ``generalization_error = L_test / L0`` (:func:`neurolearn.stats.generalization.generalization_summary`
        with ``method="behavior"``). Either way the same random numbers are drawn, so everything else is
        identical.

    Returns
    -------
    tree : xarray.DataTree
    truth : xarray.Dataset
        Over ``session``: ``step``, ``train_loss``, ``test_loss``, ``behavior``, ``generalization_error``
        (``test_loss / initial_loss``), ``feature_alignment`` (cosine of ``dM`` with ``beta beta^T``).

    Examples
    --------
    >>> tree, truth = simulate_grokking_sessions(3, n_steps=200, n_trials=2, rng=0)
    >>> list(tree.children), truth.sizes["session"]
    (['day00', 'day01', 'day02'], 3)
    >>> rec = tree["day00"].dataset["responses"]
    >>> bool((rec.heldout.values == ~rec.is_train.values).all())
    True
    """
    from neurolearn.simulate.recording import _record_checkpoints, _session_truth, make_session_tree

    if n_sessions < 2:
        raise DataError(f"simulate_grokking_sessions: expected n_sessions >= 2, found {n_sessions}")
    if heldout_behavior not in ("train", "test"):
        raise DataError(
            "simulate_grokking_sessions: expected heldout_behavior 'train' or 'test', "
            f"found {heldout_behavior!r}"
        )
    rng = np.random.default_rng(rng)
    every = max(1, n_steps // (n_sessions - 1))
    run = train_grokking(
        alpha, dim=dim, width=width, n_train=n_train, epsilon=epsilon, learning_rate=learning_rate,
        n_steps=every * (n_sessions - 1), checkpoint_every=every, n_probe=n_probe, rng=rng,
    )
    behavior = np.clip(1.0 - run.train_loss / run.initial_loss, 0.0, 1.0)
    per_condition = np.repeat(behavior[:, None], run.probe_is_train.size, axis=1)
    if heldout_behavior == "test":
        test_behavior = np.clip(1.0 - run.test_loss / run.initial_loss, 0.0, 1.0)
        per_condition[:, ~run.probe_is_train] = test_behavior[:, None]
    ids = [f"day{i:02d}" for i in range(run.steps.size)]
    tree = _record_checkpoints(
        run.probe_activity, session_ids=ids, n_trials=n_trials, noise_sd=noise_sd, target=run.probe_target,
        behavior=per_condition, is_train=run.probe_is_train, rng=rng,
    )
    # the documented held-out column (neurolearn.stats.generalization): trials of inputs never trained on
    recordings = [child.dataset["responses"] for child in tree.children.values()]
    tree = make_session_tree([rec.assign_coords(heldout=("trial", ~rec.is_train.values))
                              for rec in recordings])
    truth = _session_truth(
        ids,
        {
            "step": run.steps,
            "train_loss": run.train_loss,
            "test_loss": run.test_loss,
            "behavior": behavior,
            "generalization_error": run.test_loss / run.initial_loss,
            "feature_alignment": run.alignment,
        },
        {"alpha": alpha, "epsilon": epsilon, "dim": dim, "width": width, "n_train": n_train},
    )
    return tree, truth


def _loss_terms(W, X, y, f0, alpha, epsilon):
    """Pre-activations, residual of the centred predictor and the gradient of the train MSE w.r.t. ``W``."""
    P, N = X.shape[0], W.shape[0]
    H = X @ W.T
    residual = _network(H, alpha, epsilon) - f0 - y
    # dL/dw_i for L = mean_mu residual^2: (2/P) sum_mu residual_mu (alpha/N) phi'(h_i mu) x_mu
    grad = (2.0 * alpha / (P * N)) * ((residual[:, None] * (1.0 + epsilon * H)).T @ X)
    return H, residual, grad


def _phi(h, epsilon):
    return h + 0.5 * epsilon * h**2


def _network(H, alpha, epsilon):
    """``f = (alpha/N) sum_i phi(h_i)`` for pre-activations ``H`` of shape (samples, N)."""
    return alpha * _phi(H, epsilon).mean(axis=1)
