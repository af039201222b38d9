"""The bootstrap over trials behind the dynamics statistics' uncertainty: replicates of |λ_max|, the SE and
the interval of |λ_max| and τ.

The fit's sufficient statistics are per-trial sums (:class:`neurolearn.stats.dynamics_fit.DynamicsFit`), so a
resample of trials is a vector of trial multiplicities (:func:`bootstrap_weights`) that re-weights them; the
fit re-estimates its basis from the re-weighted sums and solves for A (``fit.eigenvalues(weights)``). Nothing
here refits from the data. A fit is anything with ``eigenvalues(weights=None)``, ``n_trials`` and ``dt``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = ["bootstrap_estimates", "bootstrap_weights", "top_modulus", "top_eigenvalue", "hull_interval",
           "timescale_of", "BIAS_NOTE"]

BIAS_NOTE = {
    "iv": "instrumental variables (lagged activity, inputs): no attenuation by observation noise independent "
          "across bins; a degenerate spectrum (A proportional to I, every kept eigenvalue unresolved from the "
          "top) read as the pooled decay of the neurons' own activity, not the largest of its noisy eigenvalues; "
          "bootstrap over trials, the predictable directions re-estimated in every resample "
          "(their number and the leading components fixed)",
    "ols": "none: observation noise attenuates A (tau shortened); bootstrap over trials, PCA basis fixed",
}


def bootstrap_estimates(fit, n_boot, random_state, level):
    """Point estimates of |λ_max| and τ with SEs, intervals that contain them, and the replicates.

    Parameters
    ----------
    fit : DynamicsFit
        The fit (:func:`neurolearn.stats.dynamics_select.fit_dynamics`).
    n_boot : int
        Resamples of trials (0: point estimates only, NaN SEs and intervals).
    random_state : int, Generator or None
        Seed of the resampling.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    dict
        ``eig`` (the fit's eigenvalues by decreasing modulus), ``lam``, ``tau``, ``se_lam``, ``se_tau``,
        ``ci_lam``, ``ci_tau`` and the replicates ``lams``, ``taus``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.dynamics_fit import DynamicsFit
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((60, 30))
    >>> for k in range(1, 30):
    ...     x[:, k] = 0.9 * x[:, k - 1] + rng.standard_normal(60)
    >>> noisy = np.stack([x, -x], 1) + rng.standard_normal((60, 2, 30))
    >>> rec = xr.DataArray(noisy, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> out = bootstrap_estimates(DynamicsFit(rec, n_components=1), 50, 0, 0.95)
    >>> lower, upper = out["ci_lam"]
    >>> bool(lower <= out["lam"] <= upper), out["lams"].shape
    (True, (50,))
    """
    eig = fit.eigenvalues()
    # the reported |λ_max| (a degenerate spectrum's common decay: neurolearn.stats.dynamics_degenerate)
    lam = float(fit.reported_modulus()) if hasattr(fit, "reported_modulus") else float(np.abs(eig[0]))
    out = {"eig": eig, "lam": lam, "tau": timescale_of(lam, fit.dt), "se_lam": np.nan, "se_tau": np.nan,
           "ci_lam": (np.nan, np.nan), "ci_tau": (np.nan, np.nan), "lams": np.array([]), "taus": np.array([])}
    if n_boot <= 0:
        return out
    rng = np.random.default_rng(random_state)
    weights = bootstrap_weights(rng, fit.n_trials, n_boot)
    lams = np.array([top_modulus(fit, w) for w in weights])
    out["lams"], out["taus"] = lams, np.array([timescale_of(x, fit.dt) for x in lams])
    finite = lams[np.isfinite(lams)]
    if finite.size < 2:
        return out
    alpha = (1.0 - level) / 2.0
    z = float(norm.ppf(1.0 - alpha))
    (lower, upper), q_lo, q_hi = hull_interval(lam, finite, level)
    se = float((q_hi - q_lo) / (2.0 * z))
    if getattr(fit, "degenerate", False):
        # A degenerate reading (the pooled decay, neurolearn.stats.dynamics_degenerate) and a slow mode inside
        # the noise disc of such a bulk give the same eigenvalue statistics (a mode at 0.95 over 40 neurons
        # sharing 0.867: pooled 0.876, the largest eigenvalue 0.937): the interval spans both readings, the
        # largest eigenvalue's own hull interval (its basis re-estimated per resample) included, and the SE
        # is the interval's
        edges = np.array([top_eigenvalue(fit, w) for w in weights])
        edges = edges[np.isfinite(edges)]
        if edges.size >= 2:
            (edge_lo, edge_hi), _, _ = hull_interval(float(np.abs(eig[0])), edges, level)
            lower, upper = min(lower, edge_lo), max(upper, edge_hi)
            se = float((upper - lower) / (2.0 * z))
    out["ci_lam"], out["se_lam"] = (lower, upper), se
    # τ increases monotonically with |λ|: its interval is the image of |λ|'s, and an upper end at |λ| >= 1
    # is τ = inf rather than a dropped resample.
    tau_lo, tau_hi = timescale_of(lower, fit.dt), timescale_of(upper, fit.dt)
    out["ci_tau"], out["se_tau"] = (tau_lo, tau_hi), float((tau_hi - tau_lo) / (2.0 * z))
    return out


def hull_interval(lam, replicates, level):
    """The hull of the basic and percentile bootstrap intervals of ``replicates`` and ``lam``, with the
    replicates' quantiles: ``((lower, upper), q_lo, q_hi)``.

    Examples
    --------
    >>> import numpy as np
    >>> (lower, upper), q_lo, q_hi = hull_interval(0.5, np.linspace(0.4, 0.7, 301), 0.9)
    >>> round(lower, 3), round(upper, 3)
    (0.315, 0.685)
    """
    alpha = (1.0 - level) / 2.0
    q_lo, q_hi = np.quantile(replicates, [alpha, 1.0 - alpha])
    # The hull of two bootstrap readings of the replicates, and of λ̂ (kept inside when the whole replicate
    # distribution lies on one side of it):
    # - the basic (reflected) interval [2λ̂ − q_hi, 2λ̂ − q_lo] takes the replicates' spread about λ̂ as the
    #   estimate's about the truth: a replicate distribution shifted below λ̂ (the downward small-sample bias
    #   of |λ| near a slow mode, which resampling reproduces in part) moves it up, and a long lower tail
    #   becomes a long upper one. Right within the kept directions: linear systems at |λ| 1.0 cover 0.92-0.97
    #   with it and 0.84-0.89 with the percentile interval; trained RNNs at 16 trials 0.83-0.95 and 0.59-0.86.
    # - the percentile interval [q_lo, q_hi] keeps the replicates' tails where they are. Right where the error
    #   is which directions are kept: a slower mode in a less predictable direction (a dense slow bulk under
    #   the outlier: 30 units, bulk 0.8, outlier 0.87, whose direction is the most predictable in 2 of 40
    #   networks) is missed by the estimate (mean 0.65 at 31 trials x 11 bins), while resamples that find it
    #   read higher (replicates +0.03 above λ̂), so the reflection points the wrong way: the basic interval
    #   covered 0.80 (e.g. 0.083 [0.000, 0.159] with SE 0.38), the percentile 0.96.
    # The data do not say which error dominates; the hull covers under either (benchmarks/bench_dynamics.py
    # section 7), 10-20 % wider than the basic interval where the replicates are skewed.
    lower = max(0.0, min(lam, 2.0 * lam - q_hi, q_lo))
    upper = max(lam, 2.0 * lam - q_lo, q_hi)
    return (float(lower), float(upper)), float(q_lo), float(q_hi)


def top_eigenvalue(fit, weights):
    """The largest eigenvalue modulus of A re-fitted to a resample (NaN if it lost a direction), whatever the
    fit reports (:func:`top_modulus`)."""
    try:
        return float(np.abs(fit.eigenvalues(weights)[0]))
    except np.linalg.LinAlgError:
        return np.nan


def top_modulus(fit, weights):
    """|λ_max| of the fit re-weighted by one resample's trial ``weights`` (NaN if it lost a direction).

    Examples
    --------
    >>> import numpy as np
    >>> class Fit:  # anything with eigenvalues(weights)
    ...     def eigenvalues(self, weights=None):
    ...         return np.array([0.5 * weights.sum(), 0.1])
    >>> top_modulus(Fit(), np.ones(3))
    1.5
    """
    try:
        if hasattr(fit, "reported_modulus"):  # the whole choice repeated in the resample
            return float(fit.reported_modulus(weights))
        return float(np.abs(fit.eigenvalues(weights)[0]))
    except np.linalg.LinAlgError:  # a resample that lost a component entirely
        return np.nan


def bootstrap_weights(rng, n, n_boot):
    """Multiplicities of n items resampled with replacement, one row per resample.

    Examples
    --------
    >>> import numpy as np
    >>> w = bootstrap_weights(np.random.default_rng(0), 5, 3)
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5.0, 5.0, 5.0])
    """
    draws = rng.integers(0, n, size=(n_boot, n))
    weights = np.zeros((n_boot, n))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n), draws.ravel()), 1.0)
    return weights


def timescale_of(modulus, dt):
    """τ = −dt/log|λ| (inf for |λ| ≥ 1, 0 for λ = 0, NaN for NaN).

    Examples
    --------
    >>> round(float(timescale_of(0.9, 0.05)), 4), timescale_of(1.0, 0.05)
    (0.4746, inf)
    """
    if not np.isfinite(modulus):
        return np.nan if np.isnan(modulus) else np.inf
    if modulus >= 1.0:
        return np.inf
    if modulus <= 0.0:
        return 0.0
    return -dt / np.log(modulus)
