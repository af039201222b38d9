"""A degenerate spectrum in the dynamics fit: every kept direction decays at one rate.

When every neuron follows the same AR(1) (A = λI: a calcium indicator's decay seen alone, or any population
whose neurons share one timescale), every eigenvalue of A is λ. The fit's k eigenvalues are then k noisy
estimates of one value, spread over a disc of radius about σ√k around λ (σ the sampling error of A's
entries; the circular law), and the largest modulus is the disc's edge, biased upward by about that radius:
indicator-only calcium (40 ROIs, λ 0.867 per 0.1 s bin, 8 conditions x 8 trials) read 0.90-0.91 [0.88, 0.92],
timescale 0.94-1.07 s for a true 0.7 s (adversary S5-2). Resampling reproduces little of it (a replicate's
edge is the edge of Â's disc widened again), and the directions kept are the leading principal components,
the most variable of many equivalent directions, whose own decay reads slow too (+0.02 in λ at 10 of 40):
the mean of the kept eigenvalues was still 0.889 for 0.867. Bin averaging an AR(1) (0.1 s bins of 30 Hz
frames) is not a cause: its autocovariances at lags ≥ 1 are λ^ℓ times one constant, so the lagged
instruments stay valid (0.923 with frames averaged, 0.925 without, both for 0.867).

Estimand when the spectrum is degenerate: the common modulus λ (τ = −Δt/log λ), which is |λ_max|. The fit
takes the spectrum for degenerate when, with at least ``MIN_DIRECTIONS`` directions kept,
  (1) the kept eigenvalues lie within ``SPREAD_Z`` noise radii of their mean in the complex plane
      (:func:`cluster_spread`; the radius from the two-stage least-squares covariance S ⊗ (ΦᵀP_ΨΦ)⁻¹, inflated
      by the errors' serial correlation, :func:`serial_inflation`),
  (2) the second |λ| lies within ``TOP_Z`` radii of the top (:func:`cluster_gaps`: the top is not resolved),
  (3) the pooled decay (below) agrees with the mean of the kept eigenvalues (within ``AGREEMENT`` radii:
      :func:`pooled_agreement`), and
  (4) A ∝ I in the kept directions is not grossly rejected (Wald test, p above ``ISOTROPY_ALPHA``).
It then reports the pooled instrumental-variable decay of the neurons
themselves (:func:`pooled_decay`): one coefficient for every neuron's own transition x_{k+1} = λ x_k, its lags
as instruments, the sums over all neurons pooled, no direction selected. Where A = λI this is λ; where the
neurons mix decays it is their mean weighted by each neuron's lagged autocovariance (white-noise neurons
weigh nothing): decays spread over 0.867 ± 0.03 read about their mean, not their largest, and one slow mode
the data do not resolve from such a bulk is averaged into it (``benchmarks/bench_dynamics_degenerate.py``).

The bootstrap re-estimates the pooled decay in every resample with the choice kept (re-testing it per
resample widened the interval 15-20 fold: a resample of a non-isotropic Â rejects isotropy and reads the
disc's edge; :meth:`~neurolearn.stats.dynamics_fit.DynamicsFit.reported_modulus`). The condition means of
the pooled moments are those of all trials (not re-estimated per resample: a factor common to numerator and
denominator).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2

__all__ = ["ISOTROPY_ALPHA", "SPREAD_Z", "TOP_Z", "AGREEMENT", "MIN_DIRECTIONS", "PooledNeurons", "pooled_decay",
           "isotropy_test", "cluster_spread", "cluster_gaps", "pooled_agreement", "is_degenerate",
           "serial_inflation"]

#: level of the Wald test of A ∝ I in the kept directions below which the spectrum is not degenerate: a guard
#: against gross anisotropy only, since the test over-rejects where the kept directions are the most variable
#: of many equivalent ones and where bin-averaging leaves MA(1) errors (40 neurons sharing one AR(1), 3 frames
#: per bin: p < 1e-4 in 3 of 10 even with the clustered inflation); outlier modes reject it at p < 1e-7
ISOTROPY_ALPHA = 1e-6
#: how many k-fold noise radii (:func:`cluster_spread`) the kept eigenvalues may lie from their mean in the
#: complex plane: 40 neurons sharing one AR(1) (bins, 3 frames per bin, 8 x 24 trials, Poisson, calcium; 80
#: recordings) at most 1.9; the dense network of section 6 at 120 x 30 at least 3.9
SPREAD_Z = 2.5
#: how many radii of a 2-fold cluster (:func:`cluster_gaps`) the second |λ| may lie below the top: the same
#: degenerate recordings at most 1.64; an isolated slow mode (0.95 over 0.5, 0.3, 0.1) at least 2.5
TOP_Z = 2.0
#: the window, in k-fold radii, of (mean Re λ_kept − pooled decay) (:func:`pooled_agreement`): under a
#: degenerate spectrum both read λ, the kept mean a little high (its directions are the most variable of many
#: equivalent ones): 0.01 to 0.57 over 95 recordings sharing one AR(1) (bins, frames, 4-24 trials, Poisson,
#: calcium; 10 of 40 directions kept), 1.25 with 5 of 20 kept (the reported_modulus example); an isolated slow
#: mode over faster ones (6 modes, 20 neurons) -1.66 to -0.74, where the pooled decay weighs the slow mode's
#: neurons and the kept mean the fast modes; the dense network of section 6 at 120 x 30 -10.3 to -0.02. The
#: upper end guards against slow kept directions among faster (autocorrelated) ones the pooled decay averages in
AGREEMENT = (-0.5, 2.0)
#: the fewest kept directions read as a degenerate spectrum. With two or three the max is of few estimates
#: (upward by about 0.56 of their SE for two), and the criteria have little power: the linear systems of
#: ``benchmarks/bench_dynamics.py`` section 1 (a mode at 1.0 over 0.5, 0.2, -0.1, Poisson counts) passed them in
#: 2 of the 3 of 39 recordings that kept three directions (0.98 and 0.97 pooled for 1.03 and 0.99 fitted)
MIN_DIRECTIONS = 4


class PooledNeurons:
    """Per-trial moments of every neuron's own [lags, present, following], summed over neurons and bins.

    Parameters
    ----------
    values : ndarray
        ``(trial, neuron, time)`` activity (after any deconvolution).
    codes : ndarray of int
        Condition of every trial.
    mode : {"time", "none"}
        ``"time"``: each condition's mean time course (over all its trials) removed per neuron; ``"none"``:
        each neuron centred over trials and bins.
    lags : tuple of int
        The instruments' lags.
    steps : ndarray of int
        The transitions t → t + 1 fitted.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((4, 3, 10))
    >>> PooledNeurons(x, np.zeros(4, int), "none", (1, 2), np.arange(2, 9)).trial_moments.shape
    (4, 4, 4)
    """

    def __init__(self, values, codes, mode, lags, steps):
        codes = np.asarray(codes)
        self.n_lags = len(lags)
        self.n_observations = int(values.shape[0] * values.shape[1] * len(steps))
        if _is_lazy(values):
            # out of core (a dask-backed session, which the fit itself sees only through its leading components):
            # the means first, then the trials block by block, one block in memory at a time; the same sums
            self.trial_moments = _blockwise_moments(values, codes, mode, lags, steps)
            return
        values = np.asarray(values, float)
        if mode == "time":
            values = values.copy()
            for c in np.unique(codes):
                values[codes == c] -= values[codes == c].mean(axis=0, keepdims=True)
        else:
            values = values - values.mean(axis=(0, 2), keepdims=True)
        self.trial_moments = _trial_moments(values, lags, steps)

    def moments(self, weights=None):
        """The moments summed over trials (with ``weights``, a resample's multiplicities)."""
        if weights is None:
            return self.trial_moments.sum(0)
        return np.einsum("t,tpq->pq", weights, self.trial_moments)


def _trial_moments(centred, lags, steps):
    """(trial, column, column) sums over neurons and transitions of the columns [lags..., present, following]."""
    series = [centred[:, :, steps - lag] for lag in lags] + [centred[:, :, steps], centred[:, :, steps + 1]]
    return np.stack([np.stack([np.einsum("tns,tns->t", a, b) for b in series], axis=1) for a in series], axis=1)


def _is_lazy(values) -> bool:
    from dask import is_dask_collection

    return is_dask_collection(values)


def _blockwise_moments(values, codes, mode, lags, steps):
    """:func:`_trial_moments` of a dask ``(trial, neuron, time)`` array centred as :class:`PooledNeurons` centres
    it, reading each block of trials once after one pass for the means (per condition and neuron, or per
    neuron: small)."""
    import dask

    values = values.astype(float)
    if mode == "time":
        labels = np.unique(codes)
        means = np.stack(dask.compute(*[values[np.flatnonzero(codes == c)].mean(axis=0) for c in labels],
                                      scheduler="synchronous"))  # (condition, neuron, time)
        position = np.searchsorted(labels, codes)
    else:
        mean = np.asarray(values.mean(axis=(0, 2)).compute(scheduler="synchronous"))[None, :, None]
    parts, start = [], 0
    for size in values.chunks[0]:
        block = np.asarray(values[start:start + size].compute(scheduler="synchronous"), dtype=float)
        block = block - (means[position[start:start + size]] if mode == "time" else mean)
        parts.append(_trial_moments(block, lags, steps))
        start += size
    return np.concatenate(parts, axis=0)


def pooled_decay(moments, n_lags):
    """The pooled two-stage least-squares decay |λ| from :class:`PooledNeurons` moments.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = np.zeros((50, 20, 40))
    >>> for k in range(1, 40):
    ...     x[..., k] = 0.8 * x[..., k - 1] + rng.standard_normal((50, 20))
    >>> m = PooledNeurons(x, np.zeros(50, int), "none", (1, 2), np.arange(2, 39)).moments()
    >>> bool(abs(pooled_decay(m, 2) - 0.8) < 0.02)
    True
    """
    p = n_lags
    zz, zx, zy = moments[:p, :p], moments[:p, p], moments[:p, p + 1]
    projected = np.linalg.pinv(zz) @ np.c_[zx, zy]  # pinv: identical lags (activity constant in a trial)
    denominator = float(zx @ projected[:, 0])
    return abs(float(zx @ projected[:, 1]) / denominator) if denominator > 0 else np.nan


def serial_inflation(pooled):
    """How much serial correlation of the errors inflates the variance of a lagged-instrument fit: the
    trial-clustered variance of the pooled decay over its textbook (serially independent) variance, at least 1.

    The analytic covariance S ⊗ G assumes errors independent across bins; bins averaging an AR(1) over frames
    leave MA(1) errors, which it understates (40 neurons sharing one AR(1) of 3 frames per bin: the Wald test
    of A ∝ I at p < 1e-4 in 8 of 10). Trials are independent, so the clustered variance holds either way.
    """
    p = pooled.n_lags
    m = pooled.moments()
    zz, zx, zy = m[:p, :p], m[:p, p], m[:p, p + 1]
    pi = np.linalg.pinv(zz) @ zx
    strength = float(zx @ pi)
    if not strength > 0:
        return 1.0
    lam = float(zy @ pi) / strength
    t = pooled.trial_moments
    scores = (t[:, :p, p + 1] - lam * t[:, :p, p]) @ pi / strength  # (trial,) each trial's influence
    clustered = float(np.sum(scores ** 2))
    xx, xy, yy = m[p, p], m[p, p + 1], m[p + 1, p + 1]
    residual = (yy - 2 * lam * xy + lam**2 * xx) / max(pooled.n_observations, 1)
    textbook = residual / strength
    return max(1.0, clustered / textbook) if textbook > 0 and np.isfinite(clustered) else 1.0


def _covariance_parts(fit, moments):
    """A (k × k), the residual covariance S and the regressors' (ΦᵀP_ΨΦ)⁻¹ block G of the fit's equations."""
    P, F, Y = fit._blocks
    k = fit.k
    coef = fit.coefficients(moments)
    zz, zx = moments[P, P], moments[P, F]
    xx, xy, yy = moments[F, F], moments[F, Y], moments[Y, Y]
    n = xx[-1, -1]  # the intercept's sum of squares: the transitions
    jitter = 1e-12 * np.trace(zz) / zz.shape[0] * np.eye(zz.shape[0])
    xpx = zx.T @ np.linalg.solve(zz + jitter, zx)
    resid = (yy - coef.T @ xy - xy.T @ coef + coef.T @ xx @ coef) / n
    gram = np.linalg.inv(xpx)[:k, :k] * getattr(fit, "inflation", 1.0)
    return coef[:k].T, resid, gram


def isotropy_test(fit, moments):
    """Wald test of A = aI in the fit's kept directions: (statistic, df, p, a).

    Under the null the fitted coefficients C = Aᵀ have covariance S ⊗ G (S the residuals', G the
    regressors' block of (ΦᵀP_ΨΦ)⁻¹); a is the GLS estimate under C = aI and W = tr(S⁻¹ DᵀG⁻¹D), D = C − aI,
    is χ² on k² − 1 df.
    """
    a_matrix, resid, gram = _covariance_parts(fit, moments)
    k = a_matrix.shape[0]
    coef = a_matrix.T
    s_inv, g_inv = np.linalg.inv(resid), np.linalg.inv(gram)
    a = float(np.trace(g_inv @ coef @ s_inv) / np.trace(g_inv @ s_inv))
    d = coef - a * np.eye(k)
    statistic = float(np.trace(s_inv @ d.T @ g_inv @ d))
    df = k * k - 1
    return statistic, df, float(chi2.sf(statistic, df)), a


def cluster_gaps(fit, moments):
    """(|λ_1| − |λ_j|) / r_j for j = 2..k: how far below the top each eigenvalue lies, in units of the noise
    radius of a j-fold cluster.

    r_j is the circular-law radius of the eigenvalues of A's compression to the span Q_j (orthonormal) of its
    top j eigenvectors: the entries of Q_jᴴ E Q_j (E = Â − A, covariance S ⊗ G as in :func:`isotropy_test`)
    have variances (Q_jᴴ S Q_j)_aa (Q_jᴴ G Q_j)_bb, so r_j² = tr(Q_jᴴ S Q_j) tr(Q_jᴴ G Q_j) / j. (The
    eigenvectors themselves are ill-conditioned in a cluster; their span is not.)
    """
    a_matrix, resid, gram = _covariance_parts(fit, moments)
    lam, right = np.linalg.eig(a_matrix)
    order = np.argsort(-np.abs(lam), kind="stable")
    lam, right = lam[order], right[:, order]
    modulus = np.abs(lam)
    gaps = np.empty(modulus.size - 1)
    for j in range(2, modulus.size + 1):
        span = np.linalg.qr(right[:, :j])[0]
        radius2 = (np.real(np.trace(span.conj().T @ resid @ span))
                   * np.real(np.trace(span.conj().T @ gram @ span)) / j)
        gaps[j - 2] = (modulus[0] - modulus[j - 1]) / np.sqrt(radius2) if radius2 > 0 else np.nan
    return gaps


def cluster_spread(fit, moments):
    """max_j |λ_j − λ̄| / r_k: how far the kept eigenvalues lie from their mean in the complex plane, in units of
    the circular-law radius r_k = sqrt(tr S tr G / k) of k noisy estimates of one eigenvalue."""
    a_matrix, resid, gram = _covariance_parts(fit, moments)
    lam = np.linalg.eigvals(a_matrix)
    radius2 = np.trace(resid) * np.trace(gram) / lam.size
    if not radius2 > 0:
        return np.nan
    radius = np.sqrt(radius2)
    return float(np.max(np.abs(lam - lam.mean())) / radius)


def pooled_agreement(fit, moments, pooled_value):
    """(mean Re λ − ``pooled_value``) / r_k, the kept eigenvalues' mean against the pooled decay in units of
    the k-fold radius (:func:`cluster_spread`)."""
    a_matrix, resid, gram = _covariance_parts(fit, moments)
    lam = np.linalg.eigvals(a_matrix)
    radius2 = np.trace(resid) * np.trace(gram) / lam.size
    return float((np.mean(lam.real) - pooled_value) / np.sqrt(radius2)) if radius2 > 0 else np.nan


def is_degenerate(fit, moments):
    """Whether the fit's spectrum is taken for degenerate (see the module docstring)."""
    if fit.k < MIN_DIRECTIONS:
        return False
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            # an exact fit (no residual) has no noise disc: nothing to read as degenerate
            if not (cluster_gaps(fit, moments)[0] <= TOP_Z and cluster_spread(fit, moments) <= SPREAD_Z):
                return False
            agreement = pooled_agreement(fit, moments, pooled_decay(fit.pooled.moments(), fit.pooled.n_lags))
            if not AGREEMENT[0] <= agreement <= AGREEMENT[1]:
                return False
            return bool(isotropy_test(fit, moments)[2] > ISOTROPY_ALPHA)
    except np.linalg.LinAlgError:
        return False
