"""Neuron resampling of the kernel statistics: shared Poisson weights, linearised replicates, the exact
leave-one-neuron-out jackknife, and replicate transforms that make intervals contain their estimate.

Bootstraps resample neurons. Each replicate of a linear or U-statistic quantity is computed from its
per-neuron influence (first-order expansion in the resampling weights, :func:`replicate`), so a replicate
costs one dot product over neurons instead of a new kernel. Resampling weights are Poisson(1) per neuron
*id* (:func:`neuron_bootstrap_weights`, :func:`session_bootstrap_weights`), so tracked neurons share their
weight across sessions. :func:`leave_one_out` and :func:`jackknife_bias` give the O(N) jackknife, and
:func:`jackknife_spread` its SE with that SE's degrees of freedom (:func:`t_spread` the Student factor);
:func:`recentre_replicates` and :func:`normal_score_replicates` make every interval contain its estimate.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student

from neurolearn.errors import DataError

__all__ = ["neuron_bootstrap_weights", "session_bootstrap_weights", "replicate", "leave_one_out",
           "jackknife_bias", "jackknife_spread", "t_spread", "recentre_replicates", "normal_score_replicates",
           "effective_cells", "few_cell_widening"]


def neuron_bootstrap_weights(neuron_ids, n_boot: int, random_state=None, *, universe=None) -> np.ndarray:
    """Poisson(1) resampling weights per neuron id, shape ``(n_boot, len(neuron_ids))``.

    Weights are drawn for every id of ``universe`` (default: the ids themselves, sorted) and looked up, so
    sessions that share ids (tracked neurons) get the same weight for the same cell when given the same
    ``universe`` and ``random_state``.

    Examples
    --------
    >>> w = neuron_bootstrap_weights([3, 1, 2], 1000, random_state=0)
    >>> w.shape, round(float(w.mean()), 1)
    ((1000, 3), 1.0)
    """
    ids = np.asarray(neuron_ids)
    universe = np.unique(ids) if universe is None else np.asarray(universe)
    rng = np.random.default_rng(random_state)
    all_weights = rng.poisson(1.0, size=(int(n_boot), universe.size)).astype(np.uint8)
    position = np.searchsorted(universe, ids)
    if np.any(position >= universe.size) or np.any(universe[np.minimum(position, universe.size - 1)] != ids):
        raise DataError("neuron_bootstrap_weights: some neuron ids are not in the given universe")
    return all_weights[:, position]


def session_bootstrap_weights(neuron_id_lists, n_boot: int, random_state=None) -> list[np.ndarray | None]:
    """Poisson(1) neuron weights for several sessions from one draw, shared by neuron id (tracked cells).

    Returns one ``(n_boot, N_s)`` uint8 array per session (``None`` each when ``n_boot`` is 0). Equivalent to
    :func:`neuron_bootstrap_weights` with the union of all ids as ``universe``, without redrawing per session.
    """
    if not n_boot:
        return [None] * len(neuron_id_lists)
    universe = np.unique(np.concatenate([np.asarray(ids) for ids in neuron_id_lists]))
    rng = np.random.default_rng(random_state)
    all_weights = rng.poisson(1.0, size=(int(n_boot), universe.size)).astype(np.uint8)
    return [all_weights[:, np.searchsorted(universe, np.asarray(ids))] for ids in neuron_id_lists]


def replicate(value, weights, influence):
    """Linearised bootstrap replicates value + Σ_i (w_i - 1) influence_i for every row of ``weights``."""
    influence = np.asarray(influence, dtype=float)
    return value + weights @ influence.T - influence.sum(axis=-1)


def leave_one_out(value, influence, order: int):
    """Exact leave-one-neuron-out values of a mean (``order=1``) or a U-statistic over neuron pairs
    (``order=2``) from its per-neuron influence: value - n/(n - order) * influence_i."""
    influence = np.asarray(influence, dtype=float)
    n = influence.shape[-1]
    return value - n / (n - order) * influence


def jackknife_bias(function, values, leave_one_out_by_sample) -> float:
    """Jackknife estimate of the O(1/n) bias of ``function(*values)`` (one term per independent sample).

    ``leave_one_out_by_sample`` is a list with, per sample of neurons, a dict {argument index: vector of
    leave-one-out values of that argument}; the other arguments stay at their full-sample values. For a
    smooth function of means and U-statistics the corrected estimate ``function(*values) - bias`` is unbiased
    to O(1/n²).
    """
    theta = function(*values)
    bias = 0.0
    for loo in leave_one_out_by_sample:
        n = len(next(iter(loo.values())))
        args = [loo.get(k, values[k]) for k in range(len(values))]
        with np.errstate(invalid="ignore", divide="ignore"):
            thetas = np.asarray(function(*args), dtype=float)
        finite = np.isfinite(thetas)
        if finite.sum() < 2:
            return float("nan")
        bias += (n - 1) * (thetas[finite].mean() - theta)
    return float(bias)


def jackknife_spread(leave_one_out_values) -> tuple[float, float]:
    """Jackknife SE of a statistic from its leave-one-neuron-out values, and the degrees of freedom of the SE.

    ``se = sqrt((n - 1)/n Σ_i (θ_(i) - θ̄)²)`` over the finite values. The leave-one-out values are exact (a
    ratio of means and U-statistics evaluated without neuron i), so the SE keeps each neuron's effect on the
    ratio in full, which the first-order replicates (:func:`replicate`, then the ratio) do not: on log-normal-
    rate Poisson sessions, where a few high-rate cells carry the kernel (about 3 effective cells of 50-300),
    the replicates' SD was 0.62-0.76 of the target agreement's spread over recordings and 0.94-1.92 of the
    task alignment's (RMS up to 2.8: replicate tails where the denominator's replicate nears 0), where this
    SE's RMS was 1.00-1.13 and 0.86-1.07 (benchmarks/bench_alignment_se.py).

    ``df`` is the Satterthwaite degrees of freedom of the variance estimate Σ d_i² from its terms' sample
    kurtosis: with n_eff = (Σ d²)² / Σ d⁴ (:func:`effective_cells`), Var(Σ d²)/(Σ d²)² ≈ 1/n_eff - 1/n, so
    ``df = 2 n n_eff / (n - n_eff)`` (n for Gaussian terms, about 2 n_eff when a few cells dominate).

    Returns
    -------
    (se, df) : (float, float)
        NaN both with fewer than 3 finite leave-one-out values; ``df`` is inf when all deviations are equal.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(200)
    >>> loo = (x.sum() - x) / 199  # leave-one-out means: the jackknife SE is the SE of the mean
    >>> se, df = jackknife_spread(loo)
    >>> bool(np.isclose(se, x.std(ddof=1) / np.sqrt(200))), 150 < df < 260
    (True, True)
    """
    values = np.asarray(leave_one_out_values, dtype=float)
    values = values[np.isfinite(values)]
    n = values.size
    if n < 3:
        return float("nan"), float("nan")
    deviations = values - values.mean()
    se = float(np.sqrt((n - 1) / n * np.sum(deviations * deviations)))
    n_effective = effective_cells(deviations)
    if not np.isfinite(n_effective):
        return se, float("nan")
    df = 2.0 * n * n_effective / (n - n_effective) if n_effective < n else float("inf")
    return se, float(df)


def t_spread(se, df, level: float = 0.95) -> float:
    """``se · t_q(df) / z_q``, q = (1 + level)/2: an SE whose normal interval is the Student-t interval of ``se``
    with ``df`` degrees of freedom (the SE's own sampling error; ``se`` unchanged for inf or NaN df).

    Examples
    --------
    >>> round(t_spread(1.0, 10.0), 4), t_spread(1.0, float("inf"))  # t_0.975(10) / z_0.975 = 2.2281 / 1.96
    (1.1368, 1.0)
    """
    if not np.isfinite(df):
        return float(se)
    q = 0.5 + level / 2.0
    return float(se * student.ppf(q, max(float(df), 1.0)) / norm.ppf(q))


def recentre_replicates(estimate, replicates, axis: int = 0):
    """Shift bootstrap replicates so that their median is the point estimate (NaN replicates kept).

    The point estimate is jackknife bias-corrected while the replicates of a ratio are skewed around the
    uncorrected value, so a plain percentile interval can miss its own estimate (3.67 [1.97, 3.92]). After
    the shift any central percentile interval contains the estimate; its width and shape are the
    bootstrap's.

    Examples
    --------
    >>> recentre_replicates(1.0, np.array([3.0, 4.0, 5.0])).tolist()
    [0.0, 1.0, 2.0]
    """
    replicates = np.asarray(replicates, dtype=float)
    if replicates.size == 0:
        return replicates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
        median = np.nanmedian(replicates, axis=axis, keepdims=True)
    return replicates + (np.asarray(estimate, dtype=float) - median)


def normal_score_replicates(estimate, replicates, *, scale: str = "sd", spread=None):
    """Replicates mapped to normal scores: estimate + spread · z(rank), NaN replicates kept.

    The percentile interval of the result is the normal interval estimate ± z·spread (it contains the
    estimate, symmetrically), and the order of the replicates is kept, so their dependence across statistics
    and sessions (the shared neuron weights) survives as a Gaussian copula of the ranks. z are the normal
    quantiles of the ranks, (rank + 0.5)/n, scaled to unit SD.

    Parameters
    ----------
    estimate : float or ndarray (K,)
        The point estimate (one per column of a 2-D ``replicates``).
    replicates : ndarray (B,) or (B, K)
        Bootstrap replicates; a 2-D array is mapped column by column (each column its own ranks and spread).
    scale : {"sd", "iqr"}
        The spread: the SD of the finite replicates (``"sd"``), or the robust scale IQR/1.349 (``"iqr"``),
        which ignores a ratio's replicate tails. Used with ``"sd"`` for the task alignment, whose percentile
        intervals under-covered on realistic spiking sessions (down to 0.92) while the normal interval did
        not (0.94-0.97), and with ``"iqr"`` for the kernel similarity of sessions sharing no neuron id
        (benchmarks/bench_kernel_coverage.py).
    spread : float or ndarray (K,), optional
        A given spread instead of one from the replicates (``scale`` is then not used): the replicates supply
        only their order. Used with the jackknife SE (:func:`jackknife_spread`) for the task alignment and
        the target agreement.

    Returns
    -------
    ndarray, the shape of ``replicates``
        NaN where a replicate is not finite, and in every column with fewer than 2 finite replicates.

    Examples
    --------
    >>> out = normal_score_replicates(0.5, np.array([0.0, 3.0, 1.0, np.nan]))
    >>> bool(np.isnan(out[3])), bool(out[0] < out[2] < out[1]), round(float(np.nanstd(out, ddof=1)), 6)
    (True, True, 1.527525)
    >>> reps = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])  # one ratio tail
    >>> out = normal_score_replicates(np.array([1.0]), reps, scale="iqr")
    >>> bool(np.all(np.diff(out[:, 0]) > 0)), round(float(out[:, 0].std(ddof=1)), 4)  # IQR 2 -> SD 1.4826
    (True, 1.4826)
    """
    if scale not in ("sd", "iqr"):
        raise ValueError(f"scale: expected 'sd' or 'iqr', found {scale!r}")
    replicates = np.asarray(replicates, dtype=float)
    vector = replicates.ndim == 1
    columns = replicates[:, None] if vector else replicates
    finite = np.isfinite(columns)
    count = finite.sum(axis=0)
    ranks = np.empty(columns.shape)  # rank among the finite replicates of the column (non-finite last)
    np.put_along_axis(ranks, np.argsort(np.where(finite, columns, np.inf), axis=0, kind="stable"),
                      np.arange(columns.shape[0], dtype=float)[:, None], axis=0)
    masked = np.where(finite, columns, np.nan)

    def sd(values):  # SD of the finite entries per column (a vector's over its finite values alone)
        if vector:
            return values[finite[:, 0], 0].std(ddof=1) if count[0] >= 2 else np.nan
        return np.nanstd(values, axis=0, ddof=1)

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns without 2 finite replicates: NaN
        scores = np.where(finite, norm.ppf((ranks + 0.5) / count), np.nan)
        # the two products keep the order of operations of the functions this one replaced (bit-identical)
        if spread is not None:
            shift = np.asarray(spread, dtype=float) * (scores / sd(scores))
        elif scale == "sd":
            shift = sd(masked) * scores / sd(scores)
        else:
            quartiles = np.nanquantile(masked, [0.25, 0.75], axis=0)
            shift = (quartiles[1] - quartiles[0]) / (norm.ppf(0.75) - norm.ppf(0.25)) * (scores / sd(scores))
    out = np.where(finite & (count >= 2), np.asarray(estimate, dtype=float) + shift, np.nan)
    return out[:, 0] if vector else out


def effective_cells(influence) -> float:
    """Effective number of cells (Σ u²)² / Σ u⁴ of per-cell influences u (N for equal influences, 1 for one).

    Examples
    --------
    >>> effective_cells(np.ones(10)), effective_cells(np.r_[1.0, np.zeros(9)])
    (10.0, 1.0)
    """
    u2 = np.asarray(influence, dtype=float) ** 2
    total = u2.sum()
    return float(total * total / np.sum(u2 * u2)) if total > 0 else float("nan")


def few_cell_widening(estimate, replicates, n_effective, axis: int = 0):
    """Replicates spread about the estimate by t_{0.975}(n_eff - 1) / z_{0.975} (at least 1 degree of freedom).

    A bootstrap over cells whose influences concentrate on a few cells gives a spread that is itself a
    few-cell estimate (as a t statistic's SD is); scaling the deviations by the Student factor at the 95 %
    level gives the t-type interval there (and an approximation at other levels). Order and NaN are kept;
    the median of replicates re-centred on the estimate stays the estimate. ``n_effective`` broadcasts
    against the replicates with ``axis`` removed; NaN leaves its replicates unchanged.

    Examples
    --------
    >>> few_cell_widening(1.0, np.array([0.0, 1.0, 2.0]), 3.0).round(3).tolist()  # t(2): 4.303 / 1.960
    [-1.195, 1.0, 3.195]
    """
    replicates = np.asarray(replicates, dtype=float)
    n_effective = np.asarray(n_effective, dtype=float)
    known = np.isfinite(n_effective)
    factor = student.ppf(0.975, np.maximum(np.where(known, n_effective, 2.0) - 1.0, 1.0)) / norm.ppf(0.975)
    estimate = np.expand_dims(np.asarray(estimate, dtype=float), axis) if np.ndim(estimate) else float(estimate)
    widened = estimate + np.expand_dims(factor, axis) * (replicates - estimate)
    return np.where(np.expand_dims(known, axis), widened, replicates)  # NaN n_eff: the replicates as they were
