"""Trend of a statistic after behaviour saturates: is the representation still improving when behaviour is not?

Used to detect hidden progress during overtraining (docs/theory.md §2.4): a statistic such as the readout
margin that keeps rising once fraction correct has reached its plateau.

The sessions' values scatter about any line by more than their SEs say whenever the statistic's estimand
depends on which neurons were recorded (fresh cells each day: the margin of 30 cells varies with the cells,
and its SE resamples trials only), so the slope is a random-effects meta-regression, not a weighted
least-squares line through the SEs alone: a between-session variance ``tau^2`` is estimated from the residuals
(method of moments, DerSimonian-Laird), each session weighted ``1 / (se^2 + tau^2)``, and the slope's SE is
the Knapp-Hartung one (the weighted residual variance ``q``, at least 1) on the Student-t with ``n - 2``
degrees of freedom.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import t as student_t

from neurolearn.errors import DataError, shown

__all__ = ["post_saturation_trend", "trend_slope"]


def post_saturation_trend(stats, name: str, *, tolerance: float = 0.02, level: float = 0.95):
    """Slope of statistic ``name`` per session from the session where behaviour saturates to the last one.

    Saturation is the first session whose ``behavior`` is within ``tolerance`` of the mean of the last three
    sessions. The slope and its interval are :func:`trend_slope`'s over the sessions from there on (those with
    a finite value and a positive SE ``name_se``): a random-effects line whose interval counts the sessions'
    scatter beyond their SEs, with a Student-t quantile on ``n - 2`` degrees of freedom, so that a statistic
    that is flat after saturation has an interval above 0 in about ``(1 - level) / 2`` of datasets or fewer
    (0.020-0.027 at level 0.95 in simulations with and without scatter beyond the SEs). With
    fewer than 3 such sessions there is no residual to judge the scatter by: slope and interval are NaN.

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
    slope, interval = trend_slope(x[keep], y[keep], se[keep], level=level)
    return start, slope, interval


def trend_slope(x, y, se, *, level: float = 0.95):
    """Random-effects slope of ``y`` on ``x`` (values with standard errors ``se``) and its interval.

    Model ``y_i = a + b x_i + u_i + e_i`` with ``e_i ~ (0, se_i^2)`` the values' own errors and
    ``u_i ~ (0, tau^2)`` scatter between them that the SEs do not hold. ``tau^2`` is the DerSimonian-Laird
    moment estimate from the weighted least-squares residuals, ``max(0, (Q - (n - 2)) / tr P)`` with ``Q`` the
    residual chi-square at weights ``1 / se^2`` and ``P`` its residual projection; the slope is the weighted
    least-squares one at weights ``w_i = 1 / (se_i^2 + tau^2)`` (the plain inverse-variance slope when
    ``tau^2 = 0``). Its SE is Knapp-Hartung's, ``sqrt(max(1, q) / sum w (x - xbar)^2)`` with
    ``q = sum w r^2 / (n - 2)``, and the interval ``b +- t_{n-2} SE``. ``max(1, q)`` keeps the interval no
    narrower than the SEs alone say; the t quantile carries the uncertainty of ``q`` from few points.

    Parameters
    ----------
    x, y, se : array_like, shape (n,)
        Positions, values and their standard errors (finite, ``se > 0``).
    level : float
        Interval coverage.

    Returns
    -------
    (float, (float, float))
        Slope and interval; NaN with fewer than 3 points (no degree of freedom for the scatter) or when all
        ``x`` are equal.

    Raises
    ------
    DataError
        Arrays of different lengths, a non-finite value, or an SE that is not positive.

    Examples
    --------
    Values that scatter about a flat line by 10 times their SEs: the line through the SEs alone calls a
    slope, this one does not.

    >>> x = np.arange(6.0)
    >>> y = np.array([0.3, -0.5, 0.6, -0.2, 0.9, 0.1])
    >>> slope, (low, high) = trend_slope(x, y, np.full(6, 0.05))
    >>> round(slope, 3), low < 0 < high
    (0.069, True)
    """
    x, y, se = (np.asarray(v, dtype=float).ravel() for v in (x, y, se))
    if not x.size == y.size == se.size:
        raise DataError(f"trend_slope: expected x, y and se of one length, found {x.size}, {y.size}, {se.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(se)) and np.all(se > 0)):
        raise DataError(f"trend_slope: expected finite x and y and finite se > 0, found se {shown(se.tolist()[:6])}")
    nan = float("nan")
    n = x.size
    if n < 3 or np.ptp(x) == 0:
        return nan, (nan, nan)
    tau2 = _between_variance(x, y, se)
    w = 1.0 / (se**2 + tau2)
    xbar, ybar = np.sum(w * x) / w.sum(), np.sum(w * y) / w.sum()
    spread = np.sum(w * (x - xbar) ** 2)
    slope = float(np.sum(w * (x - xbar) * (y - ybar)) / spread)
    residual = y - ybar - slope * (x - xbar)
    q = float(np.sum(w * residual**2) / (n - 2))
    half = float(student_t.ppf(0.5 + level / 2, n - 2) * np.sqrt(max(1.0, q) / spread))
    return slope, (slope - half, slope + half)


def _between_variance(x, y, se) -> float:
    """DerSimonian-Laird moment estimate of the scatter about the line beyond the SEs (0 if none).

    Examples
    --------
    >>> x = np.arange(5.0)
    >>> _between_variance(x, 2 * x, np.ones(5))  # on the line: no scatter
    0.0
    """
    w = 1.0 / se**2
    design = np.column_stack([np.ones_like(x), x])
    weighted = design * w[:, None]
    projection = np.diag(w) - weighted @ np.linalg.solve(design.T @ weighted, weighted.T)
    q = float(y @ projection @ y)
    return max(0.0, (q - (x.size - 2)) / float(np.trace(projection)))
