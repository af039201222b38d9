"""Figure layout shared by the plotting modules: a new axes, a grid of panels, tick labels from a dim."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["new_axes", "panel_grid", "dim_labels"]


def new_axes(ax):
    """``ax`` itself, or the axes of a new pyplot-free figure."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.2), layout="constrained")
    return fig.add_subplot()


def panel_grid(n: int, ncols: int, *, panel=(3.6, 2.8), colorbar: bool = False) -> tuple:
    """A constrained-layout figure of ``n`` panels in rows of ``ncols`` (unused ones removed)."""
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    width = panel[0] * ncols + (1.0 if colorbar else 0.0)
    fig = Figure(figsize=(width, panel[1] * nrows + 0.4), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def dim_labels(array, dim: str) -> list[str]:
    """The coord values of ``dim`` as strings, else positions."""
    if dim in array.coords:
        return [str(v) for v in array.coords[dim].values]
    return [str(i) for i in range(array.sizes[dim])]
