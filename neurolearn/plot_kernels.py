"""Representation kernels drawn per session on one colour scale."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import SESSION
from neurolearn.errors import DataError
from neurolearn.plot_layout import dim_labels, panel_grid

__all__ = ["plot_kernels"]


def plot_kernels(kernels: xr.DataArray, *, ncols: int = 5, cmap="RdBu_r", max_sessions: int | None = 10,
                 vmax: float | None = None):
    """One representation kernel (condition x condition Gram matrix) per session, on a shared colour scale.

    Parameters
    ----------
    kernels : xarray.DataArray
        Dims ``("session", a, b)``: the kernel of each session (``a``, ``b`` are condition dims).
    ncols : int
        Panels per row.
    cmap : str
        Colour map; the scale is symmetric about zero (kernels of centred responses have both signs).
    max_sessions : int or None
        Show at most this many sessions, evenly spaced and always including the first and last; None for all.
    vmax : float, optional
        Colour scale ``[-vmax, vmax]``; default the largest absolute entry shown. A smaller value saturates
        the diagonal and brings out the off-diagonal (task) structure.

    Returns
    -------
    matplotlib.figure.Figure
        Each axes holds one image (gid = session id) whose array is that session's kernel.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> k = xr.DataArray(np.stack([np.eye(2), 2 * np.eye(2)]), coords={"session": ["d0", "d1"]},
    ...                  dims=("session", "condition", "condition_other"))
    >>> fig = plot_kernels(k)
    >>> [float(np.asarray(ax.images[0].get_array()).max()) for ax in fig.axes[:2]]
    [1.0, 2.0]
    """
    if not isinstance(kernels, xr.DataArray) or kernels.ndim != 3 or SESSION not in kernels.dims:
        found = tuple(kernels.dims) if isinstance(kernels, xr.DataArray) else type(kernels).__name__
        raise DataError(
            f"kernels: expected a DataArray with dims ('session', condition, condition), found {found}"
        )
    other = [d for d in kernels.dims if d != SESSION]
    kernels = kernels.transpose(SESSION, *other)
    n = kernels.sizes[SESSION]
    chosen = np.arange(n)
    if max_sessions is not None and n > max_sessions:
        chosen = np.unique(np.round(np.linspace(0, n - 1, max_sessions)).astype(int))
    values = np.asarray(kernels.values, dtype=float)
    if vmax is not None:
        scale = float(vmax)
    else:
        scale = float(np.nanmax(np.abs(values[chosen]))) if np.isfinite(values[chosen]).any() else 1.0
    scale = scale if scale > 0 else 1.0
    fig, axes = panel_grid(len(chosen), ncols, panel=(2.2, 2.2), colorbar=True)
    labels = dim_labels(kernels, SESSION)
    image = None
    for ax, index in zip(axes, chosen):
        image = ax.imshow(values[index], cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest",
                          gid=str(labels[index]))
        ax.set_title(str(labels[index]), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    extend = "both" if vmax is not None else "neither"
    fig.colorbar(image, ax=axes, shrink=0.8, label="kernel entry", extend=extend)
    return fig
