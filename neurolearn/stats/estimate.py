"""One statistic with its uncertainty, in the Dataset form every extractor returns.

A per-session estimate is an :class:`xarray.Dataset` with scalar variables ``name``, ``name_se`` and
``name_ci`` (dim ``ci_bound`` = ``["lower", "upper"]``, attr ``level``), optionally ``name_chance``. Attrs
record the estimator choices (``estimator``, ``bias_correction``, ``n_boot``, ...). :func:`summarize`
concatenates these over sessions.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import norm

from neurolearn.data import CI_BOUND, ci_name, se_name

__all__ = ["estimate_dataset", "bootstrap_interval", "agresti_coull_se", "wilson_interval"]


def estimate_dataset(name, value, se=np.nan, ci=(np.nan, np.nan), *, chance=None, level=0.95, **attrs) -> xr.Dataset:
    """Package a point estimate, its standard error and interval as a Dataset.

    Examples
    --------
    >>> ds = estimate_dataset("margin", 0.5, 0.1, (0.3, 0.7), estimator="svm")
    >>> float(ds["margin"]), ds["margin_ci"].sel(ci_bound="upper").item(), ds.attrs["estimator"]
    (0.5, 0.7, 'svm')
    """
    data_vars = {
        name: ((), float(value)),
        se_name(name): ((), float(se)),
        ci_name(name): ((CI_BOUND,), np.asarray(ci, dtype=float), {"level": level}),
    }
    if chance is not None:
        data_vars[f"{name}_chance"] = ((), float(chance))
    ds = xr.Dataset(data_vars, coords={CI_BOUND: ["lower", "upper"]})
    ds.attrs.update(attrs)
    return ds


def bootstrap_interval(point: float, samples, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Standard error and percentile interval from bootstrap ``samples``, re-centred on ``point``.

    The interval is ``point + (q_lo - m, q_hi - m)`` with ``q`` the replicates' quantiles and ``m`` their
    median: the bootstrap gives the *shape* of the sampling distribution, the estimate its location. Bias-
    corrected estimates (a jackknife of a ratio) sit away from the centre of replicates drawn around the
    uncorrected value, and a plain percentile interval can then exclude its own estimate; the re-centred
    interval always contains it (q_lo <= m <= q_hi; the differences are taken first, so rounding cannot put a
    bound on the wrong side of the estimate).

    Non-finite samples (a resample that hit a degenerate case) are dropped; with fewer than two finite
    samples, or a non-finite ``point``, the SE and interval are NaN, never silently zero.

    Examples
    --------
    >>> se, (lo, hi) = bootstrap_interval(0.0, np.random.default_rng(0).standard_normal(4000))
    >>> round(se, 1), abs(lo + 1.96) < 0.1, abs(hi - 1.96) < 0.1
    (1.0, True, True)
    >>> se, (lo, hi) = bootstrap_interval(5.0, np.random.default_rng(0).standard_normal(4000))
    >>> lo < 5.0 < hi
    True
    """
    samples = np.asarray(samples, dtype=float)
    samples = samples[np.isfinite(samples)]
    if samples.size < 2 or not np.isfinite(point):
        return float("nan"), (float("nan"), float("nan"))
    alpha = (1.0 - level) / 2.0
    lo, median, hi = np.quantile(samples, [alpha, 0.5, 1.0 - alpha])
    return float(samples.std(ddof=1)), (float(point + (lo - median)), float(point + (hi - median)))


def agresti_coull_se(successes, n) -> float:
    """Agresti-Coull binomial standard error, (k+2)/(n+4) in place of k/n.

    Used as a floor under the SE of a proportion: at 0 or 100% correct the plain binomial SE and every
    bootstrap resample read 0, and a fit would then weight that session infinitely.

    Examples
    --------
    >>> round(agresti_coull_se(20, 20), 4)
    0.0564
    """
    shrunk = (float(successes) + 2.0) / (n + 4.0)
    return float(np.sqrt(shrunk * (1.0 - shrunk) / (n + 4.0)))


def wilson_interval(successes, n, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``successes / n`` (Brown, Cai & DasGupta 2001).

    Unlike a normal interval about k/n it does not collapse at 0 or 100% correct: 16 of 16 correct gives
    [0.806, 1.0], where k/n ± 1.96·SE would give a point. It always contains k/n.

    Examples
    --------
    >>> [round(x, 3) for x in wilson_interval(16, 16)]
    [0.806, 1.0]
    >>> lower, upper = wilson_interval(12, 16)
    >>> bool(lower < 0.75 < upper)
    True
    """
    n = float(n)
    if not n > 0:
        return (np.nan, np.nan)
    p = float(successes) / n
    z = float(norm.ppf(0.5 + level / 2.0))
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    # At p = 0 (1) the lower (upper) bound is exactly 0 (1); centre ∓ half can miss it by an ulp, and the
    # bounds are kept on either side of p whatever the rounding.
    lower = 0.0 if p <= 0.0 else min(centre - half, p)
    upper = 1.0 if p >= 1.0 else max(centre + half, p)
    return (float(max(lower, 0.0)), float(min(upper, 1.0)))

