"""Hidden progress during overtraining: a two-layer network on a separable task, logistic vs squared loss.

"Do mice grok?" (Kumar et al. 2025). A two-layer network ``f(x) = a . h(x) / sqrt(N)``,
``h(x) = W x / sqrt(D)`` is trained by full-batch gradient descent on P linearly separable stimuli from two
categories (Gaussian clouds around two class means). With the logistic loss the training accuracy saturates
early, but the loss never reaches zero: the weights keep growing and rotate toward the max-margin direction
(implicit bias of gradient descent), so the class separation of the hidden representation, its margin and the
accuracy on held-out stimuli keep rising ~log t. With the squared error the residual goes to zero and learning
stops: no hidden progress.

The recorded representation is the hidden layer ``h`` on a probe set (the training stimuli and held-out
stimuli) at checkpoints; :func:`simulate_overtraining_sessions` turns it into noisy sessions with the trial
coords a behavioural experiment has (``stimulus``, ``target``, ``correct``, ``is_train``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas

__all__ = [
    "OvertrainingRun",
    "train_two_layer",
    "simulate_overtraining_sessions",
]


@dataclass
class OvertrainingRun:
    """Checkpoints of a two-layer network trained on a separable binary task.

    Attributes
    ----------
    steps : ndarray of int, shape (C,)
    train_accuracy, heldout_accuracy : ndarray, shape (C,)
        The network's own accuracy on the training and held-out stimuli.
    train_loss : ndarray, shape (C,)
    network_margin : ndarray, shape (C,)
        ``min_mu y_mu f(x_mu) / ||W^T a||`` on the training set: the normalised margin of the end-to-end
        linear predictor, which rises toward the max-margin value under the logistic loss.
    weight_norm : ndarray, shape (C,)
        ``||W^T a|| / sqrt(N D)``, the scale of the end-to-end predictor (grows ~log t with the logistic
        loss).
    hidden : ndarray, shape (C, Q, N)
        Hidden representation of the probe stimuli (training stimuli first, then held-out ones).
    output : ndarray, shape (C, Q)
        Network output ``f`` on the probe stimuli.
    target : ndarray, shape (Q,)
        Labels (+1/-1) of the probe stimuli.
    is_train : ndarray of bool, shape (Q,)
    loss : str
    """

    steps: np.ndarray
    train_accuracy: np.ndarray
    heldout_accuracy: np.ndarray
    train_loss: np.ndarray
    network_margin: np.ndarray
    weight_norm: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    target: np.ndarray
    is_train: np.ndarray
    loss: str


@single_threaded_blas()
def train_two_layer(
    *,
    loss: str = "logistic",
    dim: int = 30,
    width: int = 40,
    n_train: int = 40,
    n_heldout: int = 40,
    separation: float = 3.0,
    learning_rate: float = 0.5,
    checkpoints=(0, 10, 100, 1000),
    init_scale: float = 1.0,
    rng=None,
) -> OvertrainingRun:
    """Train ``f(x) = a . (W x / sqrt(D)) / sqrt(N)`` by full-batch gradient descent; record checkpoints.

    Parameters
    ----------
    loss : {"logistic", "mse"}
        ``mean log(1 + exp(-y f))`` or ``mean (f - y)^2 / 2``.
    dim, width : int
        Input dimension D and hidden units N.
    n_train, n_heldout : int
        Training stimuli (the task) and held-out stimuli (only probed), alternating between the two classes.
    separation : float
        Distance between the two class means in units of the within-class standard deviation of every input
        dimension.
    learning_rate : float
    checkpoints : sequence of int
        Steps at which to record (the last one sets the training length; log-spaced steps show the ~log t
        growth).
    init_scale : float
        Standard deviation of the initial entries of W and a.
    rng : numpy.random.Generator or int, optional

    Examples
    --------
    >>> run = train_two_layer(checkpoints=[0, 100, 1000], rng=0)
    >>> run.train_accuracy[-1], bool(run.weight_norm[-1] > run.weight_norm[1])
    (np.float64(1.0), True)
    """
    if loss not in ("logistic", "mse"):
        raise DataError(f"train_two_layer: expected loss 'logistic' or 'mse', found {loss!r}")
    checkpoints = np.unique(np.asarray(checkpoints, dtype=int))
    if checkpoints.size == 0 or checkpoints.min() < 0:
        raise DataError(
            f"train_two_layer: expected non-negative checkpoint steps, found {checkpoints.tolist()}"
        )
    if min(dim, width, n_train) < 1 or n_heldout < 0:
        raise DataError(
            f"train_two_layer: expected positive dim, width, n_train and n_heldout >= 0, found "
            f"{dim}, {width}, {n_train}, {n_heldout}"
        )
    rng = np.random.default_rng(rng)
    D, N = dim, width
    # two stimulus categories (e.g. odour classes): Gaussian clouds whose means are +-separation/2 along a
    # random unit direction; with n_train < 2 * dim the training set is linearly separable with probability ~1
    direction = rng.standard_normal(D)
    direction /= np.linalg.norm(direction)
    y = np.where(np.arange(n_train + n_heldout) % 2 == 0, 1.0, -1.0)
    X = rng.standard_normal((n_train + n_heldout, D)) + 0.5 * separation * y[:, None] * direction
    is_train = np.arange(n_train + n_heldout) < n_train
    Xtr, ytr = X[is_train], y[is_train]
    W = init_scale * rng.standard_normal((N, D))
    a = init_scale * rng.standard_normal(N)
    record = {k: [] for k in ("train_acc", "held_acc", "loss", "margin", "norm", "hidden", "output")}
    last = int(checkpoints.max())
    wanted = set(checkpoints.tolist())
    for step in range(last + 1):
        Htr = Xtr @ W.T / np.sqrt(D)
        f = Htr @ a / np.sqrt(N)
        if step in wanted:
            H = X @ W.T / np.sqrt(D)
            f_all = H @ a / np.sqrt(N)
            predictor = W.T @ a
            record["train_acc"].append(float(np.mean(np.sign(f_all[is_train]) == y[is_train])))
            held_correct = np.sign(f_all[~is_train]) == y[~is_train]
            record["held_acc"].append(float(np.mean(held_correct)) if n_heldout else np.nan)
            if loss == "logistic":
                record["loss"].append(float(np.mean(np.logaddexp(0.0, -ytr * f))))
            else:
                record["loss"].append(float(0.5 * np.mean((f - ytr) ** 2)))
            record["margin"].append(float(np.min(ytr * (Xtr @ predictor)) / np.linalg.norm(predictor)))
            record["norm"].append(float(np.linalg.norm(predictor) / np.sqrt(N * D)))
            record["hidden"].append(H)
            record["output"].append(f_all)
        if step == last:
            break
        dloss_df = (-ytr * _sigmoid(-ytr * f) if loss == "logistic" else f - ytr) / n_train
        grad_a = Htr.T @ dloss_df / np.sqrt(N)
        grad_W = np.outer(a, dloss_df @ Xtr) / np.sqrt(N * D)
        a -= learning_rate * grad_a
        W -= learning_rate * grad_W
    return OvertrainingRun(
        steps=checkpoints,
        train_accuracy=np.asarray(record["train_acc"]),
        heldout_accuracy=np.asarray(record["held_acc"]),
        train_loss=np.asarray(record["loss"]),
        network_margin=np.asarray(record["margin"]),
        weight_norm=np.asarray(record["norm"]),
        hidden=np.asarray(record["hidden"]),
        output=np.asarray(record["output"]),
        target=y,
        is_train=is_train,
        loss=loss,
    )


def simulate_overtraining_sessions(
    n_sessions: int = 12,
    *,
    loss: str = "logistic",
    steps_per_session: int = 120,
    dim: int = 30,
    width: int = 40,
    n_train: int = 60,
    n_heldout: int = 0,
    separation: float = 3.0,
    learning_rate: float = 0.5,
    n_trials: int = 8,
    noise_sd: float = 1.0,
    lapse: float = 0.05,
    rng=None,
) -> tuple[xr.DataTree, xr.Dataset]:
    """Recordings of the hidden layer across training and overtraining, one session per checkpoint.

    Checkpoints are evenly spaced (``steps_per_session`` apart, starting at step 0), like daily sessions.
    Each session holds the hidden responses to the trained stimuli with Gaussian trial noise. Trial coords:
    ``stimulus``, ``target`` (+1/-1), ``is_train``, and ``correct``: drawn with probability
    ``lapse/2 + (1 - lapse)`` where the network classifies the stimulus correctly and ``lapse/2`` where it
    does not (an animal's occasional random choices), so the expected fraction correct is
    ``behavior = lapse/2 + (1 - lapse) * training accuracy`` -- the overtraining model's behaviour link. The
    readout statistics' "held-out" accuracy leaves stimuli out of the decoder's training, not the network's.
    With ``n_heldout > 0`` probe trials of stimuli the network never trained on are added (``is_train`` False,
    ``correct`` where the network is right); the fraction correct over all trials then mixes both.

    Returns
    -------
    tree : xarray.DataTree
    truth : xarray.Dataset
        Over ``session``: ``step``, ``behavior`` (expected fraction correct), ``train_accuracy``,
        ``network_heldout_accuracy``,
        ``network_margin``, ``weight_norm``, ``train_loss``.

    Examples
    --------
    >>> tree, truth = simulate_overtraining_sessions(3, steps_per_session=300, n_trials=2, rng=0)
    >>> list(tree.children), float(truth.train_accuracy[-1]), float(truth.behavior[-1])
    (['day00', 'day01', 'day02'], 1.0, 0.975)
    """
    from neurolearn.simulate.recording import _record_checkpoints, _session_truth

    if not 0.0 <= lapse <= 1.0:
        raise DataError(f"simulate_overtraining_sessions: expected lapse in [0, 1], found {lapse}")
    if n_sessions < 1 or steps_per_session < 1:
        raise DataError(
            f"simulate_overtraining_sessions: expected n_sessions >= 1 and steps_per_session >= 1, found "
            f"{n_sessions}, {steps_per_session}"
        )
    rng = np.random.default_rng(rng)
    steps = np.arange(n_sessions) * steps_per_session
    run = train_two_layer(
        loss=loss, dim=dim, width=width, n_train=n_train, n_heldout=n_heldout, separation=separation,
        learning_rate=learning_rate, checkpoints=steps, rng=rng,
    )
    ids = [f"day{i:02d}" for i in range(steps.size)]
    # per session and stimulus: the probability of a correct report, with lapses either way
    network_right = np.sign(run.output) == run.target
    correct_probability = np.where(network_right, 1.0 - 0.5 * lapse, 0.5 * lapse)
    tree = _record_checkpoints(
        run.hidden, session_ids=ids, n_trials=n_trials, noise_sd=noise_sd, target=run.target.astype(int),
        behavior=correct_probability, is_train=run.is_train, rng=rng,
    )
    truth = _session_truth(
        ids,
        {
            "step": steps,
            "behavior": 0.5 * lapse + (1.0 - lapse) * run.train_accuracy,
            "train_accuracy": run.train_accuracy,
            "network_heldout_accuracy": run.heldout_accuracy,
            "network_margin": run.network_margin,
            "weight_norm": run.weight_norm,
            "train_loss": run.train_loss,
        },
        {"loss": loss, "dim": dim, "width": width, "n_train": n_train, "n_heldout": n_heldout,
         "lapse": lapse},
    )
    return tree, truth


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))
