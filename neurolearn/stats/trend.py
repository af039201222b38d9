"""Trend of a statistic after behaviour saturates: is the representation still improving when behaviour is not?

Used to detect hidden progress during overtraining (docs/theory.md §2.4): a statistic such as the readout
margin that keeps rising once fraction correct has reached its plateau.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = ["post_saturation_trend"]


def post_saturation_trend(stats, name: str, *, tolerance: float = 0.02, level: float = 0.95):
    """Slope of statistic ``name`` per session from the session where behaviour saturates to the last one.

    Saturation is the first session whose ``behavior`` is within ``tolerance`` of the mean of the last three
    sessions. The slope is a weighted least-squares line through the per-session values with weights
    ``1 / name_se**2``; its interval is ``slope +- z * SE`` with ``SE = 1 / sqrt(sum w (x - xbar)^2)``,
    treating sessions as independent (their bootstrap errors are not, exactly: the same neurons are resampled
    in every session, which makes the interval approximate).

    Returns
    -------
    (int, float, (float, float))
        Saturation session (position), slope, interval.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> s = np.arange(8)
    >>> stats = xr.Dataset({"behavior": ("session", np.minimum(0.5 + 0.2 * s, 1.0)),
    ...                     "margin": ("session", 0.1 * s), "margin_se": ("session", np.full(8, 0.01))})
    >>> start, slope, (low, high) = post_saturation_trend(stats, "margin")
    >>> start, round(slope, 6), low > 0
    (3, 0.1, True)
    """
    behavior = np.asarray(stats["behavior"].values, dtype=float)
    plateau = np.nanmean(behavior[-3:])
    start = int(np.argmax(behavior >= plateau - tolerance))
    x = np.arange(behavior.size, dtype=float)[start:]
    y = np.asarray(stats[name].values, dtype=float)[start:]
    se = np.asarray(stats[f"{name}_se"].values, dtype=float)[start:]
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0)
    x, y, se = x[keep], y[keep], se[keep]
    if x.size < 3:
        nan = float("nan")
        return start, nan, (nan, nan)
    w = 1.0 / se**2
    xbar, ybar = np.sum(w * x) / w.sum(), np.sum(w * y) / w.sum()
    spread = np.sum(w * (x - xbar) ** 2)
    slope = float(np.sum(w * (x - xbar) * (y - ybar)) / spread)
    half = float(norm.ppf(0.5 + level / 2) / np.sqrt(spread))
    return start, slope, (slope - half, slope + half)
