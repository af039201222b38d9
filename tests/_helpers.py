"""Helpers shared by tests of several packages."""

import numpy as np


def r_squared(observed, predicted) -> float:
    """Coefficient of determination of ``predicted`` for ``observed``, over the finite observed values
    (a statistic refused as NaN by summarize is left out, not counted as a miss).

    Examples
    --------
    >>> r_squared([1.0, 2.0, 3.0, np.nan], [1.0, 2.0, 3.5, 0.0])
    0.875
    """
    observed, predicted = np.asarray(observed, float), np.asarray(predicted, float)
    keep = np.isfinite(observed)
    residual = np.sum((observed[keep] - predicted[keep]) ** 2)
    return float(1.0 - residual / np.sum((observed[keep] - observed[keep].mean()) ** 2))
