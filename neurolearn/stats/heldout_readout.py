"""The readout estimator of ``generalization_error`` (``method="readout"``): kernel ridge regression of the target
on the training-stimulus conditions' mean responses, its held-out squared error with the held-out trial noise
removed, and its bootstrap (trials within every condition, held-out conditions resampled, plus the
training-set jackknife spread). The estimand and the family around it are described in
:mod:`neurolearn.stats.generalization`, which uses these functions and re-exports
:func:`readout_generalization_error`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from neurolearn.data import TRIAL
from neurolearn.errors import InsufficientDataError
from neurolearn.stats.behavior import coding_column
from neurolearn.stats.estimate import bootstrap_interval

__all__ = ["readout_generalization_error", "readout_layout", "bootstrap_draws", "readout_session",
           "readout_null", "N_PERMUTATIONS"]

#: Permutations of the target across the training conditions behind ``generalization_error_chance`` and
#: ``_pvalue``; all of them where there are at most this many (up to 5 training conditions), else random draws
N_PERMUTATIONS = 200


def readout_generalization_error(responses, target, conditions, is_heldout, *, ridge: float = 0.0) -> float:
    """Held-out error of a kernel ridge readout trained on the training conditions (``method="readout"``).

    Parameters
    ----------
    responses : array_like, shape (trials, neurons)
    target : array_like, shape (trials,)
        Regression target (constant within a condition).
    conditions : array_like, shape (trials,)
        Condition of each trial.
    is_heldout : array_like of bool, shape (trials,)
        Held-out trials (constant within a condition).
    ridge : float
        Relative to the training kernel's mean diagonal.

    Returns
    -------
    float
        ``mean_h (y_hat_h - y_h)^2 / var_c(y_c)``, held-out trial noise removed: the readout's held-out
        mean squared error over the target's variance across all conditions (``ddof=1``; 1 = predicting the
        target's mean, no generalisation; unchanged by a recoding ``a * y + b`` of the target). The readout
        is ``y_hat = ybar_t + (r - rbar_t) . w``, ``ybar_t`` and ``rbar_t`` the training conditions' mean
        target and mean response, ``w`` the kernel ridge regression of the centred training targets on the
        centred training means.

    Raises
    ------
    InsufficientDataError
        No held-out or no training condition, a target constant over the conditions, or a held-out flag
        varying within a condition.

    Examples
    --------
    A target the representation carries exactly is predicted without error from two training conditions:

    >>> rng = np.random.default_rng(0)
    >>> means = rng.standard_normal((4, 50)); y = means @ rng.standard_normal(50) / 50
    >>> trials = np.repeat(np.arange(4), 3)
    >>> error = readout_generalization_error(means[trials], y[trials], trials, trials == 3)
    >>> 0.0 <= error < 1.0
    True

    The error does not depend on how the target is coded (here 0/1 or 1/2):

    >>> flat = np.ones((12, 50)) + 0.1 * rng.standard_normal((12, 50))
    >>> labels = np.repeat([0.0, 1.0, 0.0, 1.0], 3)
    >>> err01 = readout_generalization_error(flat, labels, trials, trials >= 2)
    >>> err12 = readout_generalization_error(flat, labels + 1.0, trials, trials >= 2)
    >>> bool(abs(err01 - err12) < 1e-10)
    True
    """
    responses = np.asarray(responses, float)
    means, targets, flags, groups = _condition_parts(responses, np.asarray(target, float),
                                                     np.asarray(conditions), np.asarray(is_heldout, bool))
    starts = np.concatenate([[0], np.cumsum([g.size for g in groups])[:-1]])
    return _readout_error(responses[np.concatenate(groups)], starts, means, targets, flags, ridge=ridge)


def readout_layout(rec, mask, target, by):
    """From coords alone: the trial groups of the conditions (finite targets only), their held-out flags and
    targets, and the trials kept; raises the reason a session cannot give the readout's error."""
    if target is None:
        raise InsufficientDataError("no target column (target=None)")
    column = coding_column(target) if not isinstance(target, str) else target
    for name in (column, by):
        if name not in rec.coords or rec.coords[name].dims != (TRIAL,):
            raise InsufficientDataError(f"no trial coord {name!r}")
    y = np.asarray(rec.coords[column].values)
    if y.dtype.kind not in "iufb":
        raise InsufficientDataError(f"target {column!r} is not numeric (the readout regresses it)")
    y = y.astype(float)
    keep = np.isfinite(y)
    groups, flags, targets = _condition_groups(y[keep], np.asarray(rec.coords[by].values)[keep], mask[keep])
    return groups, flags, targets, keep


def bootstrap_draws(rng, groups, heldout_index, n_boot):
    """The readout bootstrap's random draws, in the order it makes them: per replicate the trials of every
    condition and the held-out conditions tested, then the training-set noise (:func:`readout_session`)."""
    draws = [(np.concatenate([g[rng.integers(0, g.size, g.size)] for g in groups]),
              rng.choice(heldout_index, heldout_index.size)) for _ in range(n_boot)]
    return draws, rng.standard_normal(n_boot)


def readout_session(rec, mask, target, by, ridge, n_boot, rng, level, training_jackknife=True):
    """One session's readout error, SE, interval, replicates and fixed-training-set SE.

    ``training_jackknife=False`` leaves out the training set's jackknife spread (its normal draws are still
    made, so the stream is the same). The last value is the SE of the replicates without that spread (trials
    and held-out stimuli resampled, the training stimuli held fixed) either way: with
    ``training_jackknife=False`` it equals the SE; by default it is what a fit that adds one learner's
    scatter over training sets itself weights by (:mod:`neurolearn.fitting.training_set`)."""
    groups, flags, targets, keep = readout_layout(rec, mask, target, by)
    responses = np.asarray(rec.values, float)[keep]
    means = _means(responses, groups)
    sizes = np.array([g.size for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    value = _readout_error(responses[np.concatenate(groups)], starts, means, targets, flags, ridge=ridge)
    replicates = np.full(n_boot, np.nan)
    draws, noise = bootstrap_draws(rng, groups, np.nonzero(flags)[0], n_boot)
    for b, (trials, tested) in enumerate(draws):
        # trials within every condition (each condition keeps its count), and which held-out conditions count
        ordered = responses[trials]
        boot_means = np.add.reduceat(ordered, starts, axis=0) / sizes[:, None]
        replicates[b] = _readout_error(ordered, starts, boot_means, targets, flags, ridge=ridge,
                                       tested=tested)
    if n_boot:
        fixed_se, _ = bootstrap_interval(value, replicates, level)
        if training_jackknife:
            # which stimuli were trained on is itself a sample: add the leave-one-training-condition-out
            # jackknife variance (conservative, Efron-Stein) to every replicate as independent normal noise
            spread = _training_set_sd(responses[np.concatenate(groups)], starts, means, targets, flags,
                                      ridge)
            replicates = replicates + spread * noise
        se, (lo, hi) = bootstrap_interval(value, replicates, level)
    else:
        se, lo, hi, fixed_se = np.nan, np.nan, np.nan, np.nan
    return value, se, (lo, hi), replicates, fixed_se


def _training_set_sd(ordered, starts, means, targets, flags, ridge):
    """Jackknife SD of the error over the training conditions (0 with fewer than 2 of them)."""
    training = np.nonzero(~flags)[0]
    if training.size < 2:
        return 0.0
    values = []
    for left_out in training:
        keep = np.ones(flags.size, dtype=bool)
        keep[left_out] = False
        index = np.nonzero(keep)[0]
        rows = np.concatenate([np.arange(starts[c], starts[c] + _size(starts, ordered, c)) for c in index])
        sub_starts = np.concatenate([[0], np.cumsum([_size(starts, ordered, c) for c in index])[:-1]])
        values.append(_readout_error(ordered[rows], sub_starts, means[keep], targets[keep], flags[keep],
                                     ridge=ridge))
    values = np.asarray(values)
    n = values.size
    return float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))


def _size(starts, ordered, c):
    end = starts[c + 1] if c + 1 < starts.size else ordered.shape[0]
    return int(end - starts[c])


def _condition_parts(responses, y, conditions, mask):
    """Condition means, targets, held-out flags and trial indices per condition (checked)."""
    groups, flags, targets = _condition_groups(y, conditions, mask)
    return _means(responses, groups), targets, flags, groups


def _condition_groups(y, conditions, mask):
    """Trial indices per condition, held-out flags and targets, from coords alone (checked)."""
    labels, inverse = np.unique(conditions, return_inverse=True)
    groups = [np.nonzero(inverse == c)[0] for c in range(labels.size)]
    if any(mask[g].any() != mask[g].all() for g in groups):
        raise InsufficientDataError("the held-out column varies within a condition")
    flags = np.array([mask[g].all() for g in groups])
    if not flags.any():
        raise InsufficientDataError("no held-out trials (heldout marks none)")
    if flags.all():
        raise InsufficientDataError("no training-stimulus trials (heldout marks every trial held out)")
    targets = np.array([y[g].mean() for g in groups])
    if not _variance(targets, flags, np.nonzero(flags)[0]) > 0:
        raise InsufficientDataError("the target is constant over the conditions")
    return groups, flags, targets


def _variance(targets, flags, test):
    """The target's variance (``ddof=1``) over the training conditions and the held-out conditions ``test``
    (repeats allowed, a bootstrap replicate's): the normaliser of the readout's error, so the error does not
    depend on the target's offset or scale, and predicting the target's mean reads 1."""
    values = np.concatenate([targets[~flags], targets[test]])
    return float(values.var(ddof=1)) if values.size > 1 else float("nan")


def _means(responses, groups):
    return np.array([responses[g].mean(axis=0) for g in groups])


def readout_null(rec, mask, target, by, ridge, rng, n_permutations=N_PERMUTATIONS):
    """The permutation null of one session's readout error: ``(chance, pvalue, n_permutations)``.

    The training conditions' targets are permuted among them (the held-out targets, the responses and the
    normaliser unchanged) and the readout refitted: a population whose condition responses are exchangeable
    (no stimulus information) gives the observed error the same distribution as every permuted one, so the mean
    over permutations is its expectation at this shape and these held-out targets (exact where every permutation
    is enumerated: at most ``n_permutations`` of them) and ``pvalue = P(null <= observed)`` counting the
    observed labelling as one draw (Phipson & Smyth 2010). It is not 1: a readout of noise adds its own
    variance, and with few held-out conditions their targets' distance from the training mean decides it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> import xarray as xr
    >>> trials = np.repeat(np.arange(8), 4)
    >>> rec = xr.DataArray(rng.poisson(5.0, (32, 30)).astype(float), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", trials), "y": ("trial", np.sin(trials))})
    >>> chance, pvalue, n = readout_null(rec, trials >= 6, "y", "stimulus", 0.0, rng)
    >>> n, round(chance, 1), bool(0 < pvalue <= 1)  # two held-out targets near the training mean: chance 0.3
    (200, 0.3, True)
    """
    groups, flags, targets, keep = readout_layout(rec, mask, target, by)
    responses = np.asarray(rec.values, float)[keep]
    means = _means(responses, groups)
    sizes = np.array([g.size for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ordered = responses[np.concatenate(groups)]
    value = _readout_error(ordered, starts, means, targets, flags, ridge=ridge)
    n_train = int((~flags).sum())
    exact = math.factorial(n_train) <= n_permutations
    if exact:
        orders = np.array(list(itertools.permutations(range(n_train))))
    else:
        orders = np.array([rng.permutation(n_train) for _ in range(n_permutations)])
    null = _readout_errors(ordered, starts, means, targets, flags, orders, ridge=ridge)
    null = null[np.isfinite(null)]
    if null.size == 0 or not np.isfinite(value):
        return float("nan"), float("nan"), int(orders.shape[0])
    below = int(np.sum(null <= value + 1e-12 * max(1.0, abs(value))))
    # enumerated: the observed labelling is one of the permutations; drawn: counted as one more draw
    pvalue = below / null.size if exact else (1 + below) / (1 + null.size)
    return float(null.mean()), float(pvalue), int(orders.shape[0])


def _readout_errors(ordered, starts, means, targets, flags, orders, *, ridge):
    """:func:`_readout_error` for many labellings at once: ``orders[j]`` permutes the training conditions'
    targets (the kernel, its solve and the held-out targets shared), one error per row."""
    n_neurons = means.shape[1]
    train, test = ~flags, np.nonzero(flags)[0]
    offset = means[train].mean(axis=0)
    r_train = means[train] - offset
    y_mean = targets[train].mean()
    y_train = (targets[train] - y_mean)[orders].T  # training conditions x labellings
    kernel = r_train @ r_train.T / n_neurons
    scale = np.trace(kernel) / kernel.shape[0]
    if not scale > 0:
        weights = np.zeros((n_neurons, orders.shape[0]))
    elif ridge > 0:
        weights = r_train.T @ np.linalg.solve(kernel + ridge * scale * np.eye(kernel.shape[0]), y_train) / n_neurons
    else:
        weights = r_train.T @ np.linalg.lstsq(kernel, y_train, rcond=None)[0] / n_neurons
    squared = (y_mean + (means[test] - offset) @ weights - targets[test][:, None]) ** 2
    projection = ordered @ weights
    sizes = np.diff(np.append(starts, ordered.shape[0]))
    total = np.add.reduceat(projection, starts, axis=0)
    square = np.add.reduceat(projection**2, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (square - total**2 / sizes[:, None]) / (sizes[:, None] - 1)
    noise = np.where(sizes[:, None] > 1, spread / sizes[:, None], 0.0)[test]
    variance = _variance(targets, flags, test)
    if not variance > 0:
        return np.full(orders.shape[0], np.nan)
    return np.mean(squared - noise, axis=0) / variance


def _readout_error(ordered, starts, means, targets, flags, *, ridge, tested=None):
    """Held-out squared error / the target's variance over the conditions. ``ordered``: the trials'
    responses grouped by condition, condition ``c`` starting at row ``starts[c]``; ``tested`` (held-out
    condition indices, repeats allowed) replaces the held-out set in a bootstrap replicate.

    The readout predicts the training conditions' mean target plus kernel ridge regression of the centred
    target on the centred training responses (both centred by the training conditions' means), so the error
    does not depend on the target's offset or scale, nor on a common firing rate (an intercept for free)."""
    n_neurons = means.shape[1]
    train, test = ~flags, np.nonzero(flags)[0] if tested is None else tested
    offset = means[train].mean(axis=0)
    r_train = means[train] - offset
    y_mean = targets[train].mean()
    y_train = targets[train] - y_mean
    kernel = r_train @ r_train.T / n_neurons
    scale = np.trace(kernel) / kernel.shape[0]
    if not scale > 0:
        # the training conditions' responses are all the same (or one training condition): nothing to regress
        # on, the readout predicts the training mean
        weights = np.zeros(n_neurons)
    elif ridge > 0:
        dual = np.linalg.solve(kernel + ridge * scale * np.eye(kernel.shape[0]), y_train)
        weights = r_train.T @ dual / n_neurons  # the readout in neuron space
    else:
        dual = np.linalg.lstsq(kernel, y_train, rcond=None)[0]  # minimum-norm interpolant
        weights = r_train.T @ dual / n_neurons
    squared = (y_mean + (means[test] - offset) @ weights - targets[test]) ** 2
    # trial noise of a held-out mean adds var(w . r) / n to its squared error: remove it
    projection = ordered @ weights
    sizes = np.diff(np.append(starts, ordered.shape[0]))
    total = np.add.reduceat(projection, starts)
    square = np.add.reduceat(projection**2, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (square - total**2 / sizes) / (sizes - 1)
    noise = np.where(sizes > 1, spread / sizes, 0.0)[test]
    variance = _variance(targets, flags, test)
    if not variance > 0:  # a replicate whose conditions all have one target value: no ratio
        return float("nan")
    return float(np.mean(squared - noise) / variance)
