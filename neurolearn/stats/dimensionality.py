"""Participation ratio of the population covariance across conditions, naive and bias-corrected.

PR = (Σλ)² / Σλ² = (tr C)² / tr(C²), C the covariance of the population response vector across conditions.
The naive PR of a P x N sample is biased low twice over: few conditions spread a low-rank covariance's
spectrum, few neurons do the same from the other side, and trial noise adds an isotropic floor (THEORY.md: 50
true dimensions read ~16 at P = N = 50).

The corrected estimator (``estimator="unbiased"``) treats conditions as samples from a stimulus distribution
and neurons as samples from a population of cells, and estimates numerator and denominator with U-statistics
that never multiply a quantity by itself:

* (tr C)²: pairs of distinct neurons i ≠ j and four distinct conditions, Σ d^i_{μν} d^j_{κλ} with
  d^i_{μν} = ((m_{μi} - m_{νi})² - sem2_{μi} - sem2_{νi}) / 2, an unbiased estimate of neuron i's variance
  across conditions (the squared standard errors remove trial noise);
* tr(C²): pairs of distinct neurons of the HSIC U-statistic (Song et al. 2012) of their zero-diagonal linear
  kernels, an unbiased estimate of Cov(x_i, x_j)² (off-diagonal entries contain no trial-noise bias).

Both are unbiased for the infinite-neuron, infinite-condition population; the O(1/N) bias of their ratio
is removed by an exact leave-one-neuron-out jackknife (leave-one-out U-statistics follow from the per-neuron
influence terms in O(N)). Condition sampling is not jackknifed. The bootstrap resamples neurons (linearised); condition sampling is not resampled.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset
from neurolearn.stats.kernels import (
    ConditionStatistics,
    condition_statistics,
    jackknife_bias,
    leave_one_out,
    neuron_bootstrap_weights,
    replicate,
)

__all__ = ["participation_ratio", "naive_participation_ratio"]

ESTIMATORS = ("unbiased", "naive")


def participation_ratio(
    recording: xr.DataArray,
    by: str = "stimulus",
    *,
    estimator: str = "unbiased",
    n_boot: int = 0,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Participation ratio of the condition-mean responses of one session.

    Parameters
    ----------
    recording : xarray.DataArray
    by : str
        Trial coord defining conditions (>= 4 conditions; >= 2 trials each for ``"unbiased"``).
    estimator : {"unbiased", "naive"}
        Bias handling (module docstring). ``"naive"``: PR of the sample covariance of the condition means.
    n_boot, random_state, level
        Neuron bootstrap (linearised replicates).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> means = rng.standard_normal((50, 50)) @ rng.standard_normal((50, 50))  # 50 equal dims, P = N = 50
    >>> rec = make_recording(means, n_trials=2, noise_sd=1.0, rng=1)
    >>> pr = participation_ratio(rec)["participation_ratio"].item()
    >>> naive = participation_ratio(rec, estimator="naive")["participation_ratio"].item()
    >>> pr > 35, naive < 20
    (True, True)
    """
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: expected one of {list(ESTIMATORS)}, found {estimator!r}")
    stats = condition_statistics(recording, by, min_trials=2 if estimator == "unbiased" else 1)
    value, replicates = participation_with_replicates(
        stats, unbiased=estimator == "unbiased", n_boot=n_boot, random_state=random_state
    )
    se, ci = bootstrap_interval(value, replicates, level) if n_boot else (np.nan, (np.nan, np.nan))
    return estimate_dataset(
        "participation_ratio", value, se, ci, level=level, session_id=stats.session_id, estimator=estimator,
        bootstrap="neurons (Poisson weights, linearised)", n_boot=int(n_boot),
    )


def naive_participation_ratio(responses) -> float:
    """PR of the sample covariance of a (samples x features) array: tr(HXXᵀH)² / ‖HXXᵀH‖².

    Examples
    --------
    >>> import numpy as np
    >>> round(naive_participation_ratio(np.eye(5)), 6)  # 5 samples span 4 equal centred dimensions
    4.0
    """
    x = np.asarray(responses, dtype=float)
    x = x - x.mean(axis=0)
    gram = x @ x.T
    return float(np.trace(gram) ** 2 / np.sum(gram * gram))


def participation_with_replicates(stats: ConditionStatistics, *, unbiased=True, n_boot=0, random_state=None,
                                  weights=None):
    """PR point estimate and linearised neuron-bootstrap replicates (numpy core)."""
    M = stats.means
    n_cond, n_neurons = M.shape
    if n_cond < 4:
        raise DataError(f"session {stats.session_id!r}: participation ratio needs at least 4 conditions, found {n_cond}")
    if weights is None and n_boot:
        weights = neuron_bootstrap_weights(stats.neurons, n_boot, random_state)
    if not unbiased:
        centred = M - M.mean(axis=0)
        gram = centred @ centred.T
        trace, frob = np.trace(gram), np.sum(gram * gram)
        value = float(trace**2 / frob)
        if weights is None:
            return value, np.empty(0)
        # trace = Σ_i t_i (linear), frob = Σ_ij w_i w_j c_ij² -> first-order influences
        t = np.sum(centred * centred, axis=0)
        row = np.einsum("pn,pn->n", gram @ centred, centred)
        trace_b = replicate(trace, weights, t)
        frob_b = replicate(frob, weights, 2.0 * row)
        return value, trace_b**2 / frob_b
    if n_neurons < 2:
        raise DataError(f"session {stats.session_id!r}: participation ratio needs at least 2 neurons, found {n_neurons}")
    numerator, numerator_influence = _variance_product_u(M, stats.sem2)
    denominator, denominator_influence = _covariance_square_u(M)

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    value = float(ratio(numerator, denominator))
    # the ratio of two unbiased U-statistics keeps an O(1/N) bias: exact leave-one-neuron-out jackknife
    bias = jackknife_bias(ratio, (numerator, denominator),
                          [{0: leave_one_out(numerator, numerator_influence, 2),
                            1: leave_one_out(denominator, denominator_influence, 2)}])
    bias = bias if np.isfinite(bias) else 0.0
    if weights is None:
        return value - bias, np.empty(0)
    num_b = replicate(numerator, weights, numerator_influence)
    den_b = replicate(denominator, weights, denominator_influence)
    return value - bias, ratio(num_b, den_b) - bias


def _u_over_neurons(total_pair, own, cross_with_total, n):
    """U-statistic over distinct neurons of a bilinear form, and its first-order influence."""
    value = (total_pair - own.sum()) / (n * (n - 1))
    pair_sums = cross_with_total - own
    return value, 2.0 * (pair_sums - (n - 1) * value) / (n * (n - 1))


def _variance_product_u(M, V):
    """Unbiased (tr C)² per neuron pair: 4-distinct-condition U-statistic of trial-corrected half squared differences."""
    n_cond, n = M.shape
    p4 = n_cond * (n_cond - 1) * (n_cond - 2) * (n_cond - 3)
    e = M * M - V  # unbiased squared means
    sum_e, sum_m, sum_v = e.sum(0), M.sum(0), V.sum(0)
    # per-neuron D^i = (e 1ᵀ + 1 eᵀ)/2 - m mᵀ + diag(v): total S, row sums r, and ⟨D, D⟩
    totals = n_cond * sum_e - sum_m**2 + sum_v
    rows = (n_cond * e + sum_e) / 2.0 - M * sum_m + V
    frob = (2 * n_cond * (e * e).sum(0) + 2 * sum_e**2) / 4.0 - 2 * (e * M).sum(0) * sum_m + (M * M).sum(0) ** 2 \
        - (V * V).sum(0)
    own = (totals * totals - 4.0 * (rows * rows).sum(0) + 2.0 * frob) / p4
    E = e.sum(1)
    D_total = (E[:, None] + E[None, :]) / 2.0 - M @ M.T
    np.fill_diagonal(D_total, 0.0)
    S_total, r_total = D_total.sum(), D_total.sum(1)
    total_pair = (S_total**2 - 4.0 * r_total @ r_total + 2.0 * np.sum(D_total * D_total)) / p4
    inner = e.T @ r_total - np.einsum("pn,pn->n", D_total @ M, M)  # ⟨D^i, D_total⟩
    cross = (totals * S_total - 4.0 * rows.T @ r_total + 2.0 * inner) / p4
    return _u_over_neurons(total_pair, own, cross, n)


def _covariance_square_u(M):
    """Unbiased tr(C²) per neuron pair: HSIC U-statistic (Song et al. 2012) of zero-diagonal linear kernels."""
    n_cond, n = M.shape
    a = 1.0 / ((n_cond - 1) * (n_cond - 2))
    b = 2.0 / (n_cond - 2)
    norm = 1.0 / (n_cond * (n_cond - 3))
    sum_m, sum_m2, sum_m4 = M.sum(0), (M * M).sum(0), (M**4).sum(0)
    ones_k = sum_m**2 - sum_m2  # 1ᵀK̃_i 1
    row_k = M * sum_m - M * M  # K̃_i 1
    own = norm * ((sum_m2**2 - sum_m4) + a * ones_k**2 - b * (row_k * row_k).sum(0))
    K_total = M @ M.T
    np.fill_diagonal(K_total, 0.0)
    row_total = K_total.sum(1)
    total_pair = norm * (np.sum(K_total * K_total) + a * row_total.sum() ** 2 - b * row_total @ row_total)
    cross = norm * (np.einsum("pn,pn->n", K_total @ M, M) + a * ones_k * row_total.sum() - b * row_k.T @ row_total)
    return _u_over_neurons(total_pair, own, cross, n)
