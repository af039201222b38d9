"""Model comparison drawn as each fit's information criterion relative to the best."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError
from neurolearn.plot_layout import new_axes

__all__ = ["plot_comparison"]


def plot_comparison(table, *, criterion: str = "aic", ax=None):
    """Model comparison: each model's information criterion relative to the best (lower is better).

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`neurolearn.compare` returns: one row per fit, named by column ``label`` (else ``model``,
        else the index), with a column ``criterion``.
    criterion : str
        Column to compare (``"aic"``, ``"bic"``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        With horizontal bars (gid = model name) whose widths are ``criterion - min(criterion)``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": ["lazy-rich", "silent-alignment"], "aic": [10.0, 14.5]})
    >>> ax = plot_comparison(table)
    >>> [float(bar.get_width()) for bar in ax.patches]
    [0.0, 4.5]
    """
    models, values = _comparison_values(table, criterion)
    delta = values - np.nanmin(values)
    ax = new_axes(ax)
    positions = np.arange(len(models))
    bars = ax.barh(positions, delta, color=["C2" if d == 0 else "C0" for d in delta])
    for bar, model, value in zip(bars, models, delta):
        bar.set_gid(model)
        # the best model's bar has zero width: the printed number keeps it visible
        ax.annotate("best" if value == 0 else f"+{value:.1f}", (value, bar.get_y() + bar.get_height() / 2),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(positions, models)
    ax.invert_yaxis()
    ax.axvline(2.0, color="0.5", ls=":", lw=1)
    ax.set_xlabel(f"\N{GREEK CAPITAL LETTER DELTA}{criterion.upper()} (0 = best; > 2: less support)")
    ax.set_title("model comparison")
    return ax


def _comparison_values(table, criterion: str):
    columns = getattr(table, "columns", None)
    if columns is None:
        raise DataError(
            f"comparison: expected a pandas DataFrame from compare(), found {type(table).__name__}"
        )
    if criterion not in columns:
        raise DataError(f"comparison: no column {criterion!r}; columns: {[str(c) for c in columns]}")
    # `label` tells apart fits of one model under different fixed parameters; fall back to `model`, the index
    key = "label" if "label" in columns else "model" if "model" in columns else None
    models = [str(m) for m in (table[key] if key else table.index)]
    return models, np.asarray(table[criterion], dtype=float)
