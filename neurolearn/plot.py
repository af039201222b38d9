"""Figures of statistics, kernels and fits: matplotlib, no computation beyond layout.

Every function takes what the other layers return (statistics from :func:`neurolearn.summarize`, kernels, a
fit in memory or read back from JSON, the table of :func:`neurolearn.compare`) and returns the
:class:`~matplotlib.figure.Figure` or :class:`~matplotlib.axes.Axes` it drew on, made without pyplot so
that a script or the CLI never accumulates open figures (in a notebook, display the returned figure).

Artists carry a ``gid`` naming what they show (``"behavior"``, ``"behavior_ci"``, ``"prediction"``,
``"kernel_similarity"`` ...), so that tests and users can find the data behind each one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Sequence

import numpy as np
import xarray as xr

from neurolearn.data import CI_BOUND, SESSION, SESSION_OTHER, ci_name
from neurolearn.errors import DataError
from neurolearn.fit_records import fit_record
from neurolearn.plot_comparison import plot_comparison
from neurolearn.plot_kernels import plot_kernels
from neurolearn.plot_layout import dim_labels as _labels
from neurolearn.plot_layout import new_axes as _axes
from neurolearn.plot_layout import panel_grid as _grid
from neurolearn.statistic_registry import STATISTICS

__all__ = [
    "plot_trajectory",
    "plot_trajectories",
    "plot_kernel_similarity",
    "plot_kernels",
    "plot_fit",
    "plot_comparison",
    "trajectory_statistics",
]

#: axis labels, read from the statistics registry (anything else is labelled by its name)
LABELS = {name: entry.label for name, entry in STATISTICS.items()}
#: the dim of statistics per recorded area (:mod:`neurolearn.stats.areas`)
AREA = "area"


def plot_trajectory(stats: xr.Dataset, name: str, *, ax=None, label: str | None = None, color=None):
    """One statistic across sessions, with its interval as vertical bars.

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics over dim ``session`` (the form :func:`neurolearn.summarize` returns), or over ``area`` and
        ``session`` (:func:`neurolearn.stats.areas.summarize_areas`).
    name : str
        The statistic; ``name`` must have dims ``("session",)`` or ``("area", "session")``. Its interval
        ``name_ci`` is drawn when present, and ``name_chance`` as a dashed line. Over areas: one line per area
        (gid ``name[area]``, label the area, colour ``C0``, ``C1`` ... in the order of the areas), except for
        a statistic with the same value in every area that has one (the animal's behaviour): one line.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made if omitted.
    label, color :
        Legend label (default: the statistic name) and colour of the line.

    Returns
    -------
    matplotlib.axes.Axes
        With a line (gid ``name``) whose x are the session positions (coord ``session_index`` if present)
        and y the statistic, a :class:`~matplotlib.collections.LineCollection` (gid ``name + "_ci"``) of
        lower-upper bars, and a chance line (gid ``name + "_chance"``) if available.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> stats = xr.Dataset({"margin": ("session", [0.1, 0.4, 0.6])}, coords={"session": ["d0", "d1", "d2"]})
    >>> ax = plot_trajectory(stats, "margin")
    >>> ax.lines[0].get_ydata().tolist()
    [0.1, 0.4, 0.6]
    """
    if AREA in _variable(stats, name).dims:
        return _area_trajectories(stats, name, _axes(ax), label, color)
    values = _session_statistic(stats, name)
    x = session_positions(stats)
    ax = _axes(ax)
    line = ax.plot(x, values.values, marker="o", ms=4, lw=1.5, color=color, label=label or name, gid=name)[0]
    ci = ci_name(name)
    if ci in stats:
        bounds = stats[ci].transpose(SESSION, CI_BOUND)
        lower = bounds.sel({CI_BOUND: "lower"}).values
        upper = bounds.sel({CI_BOUND: "upper"}).values
        ax.vlines(x, lower, upper, color=line.get_color(), lw=1.2, alpha=0.8, gid=f"{name}_ci")
    chance = f"{name}_chance"
    if chance in stats:
        level = np.asarray(stats[chance].values, dtype=float)
        # one legend entry for chance however many trajectories share the axes
        shown = any(line.get_label() == "chance" for line in ax.lines)
        label = "_chance" if shown else "chance"
        if level.ndim == 0:
            ax.axhline(float(level), color="0.5", ls="--", lw=1, gid=chance, label=label)
        else:
            ax.plot(x, level, color="0.5", ls="--", lw=1, gid=chance, label=label)
    ax.set_xlabel("session")
    ax.set_ylabel(_label(name))
    _session_ticks(ax, stats, x)
    return ax


def plot_trajectories(stats: xr.Dataset, names: Sequence[str] | None = None, *, ncols: int = 3, title=None):
    """A grid of :func:`plot_trajectory` panels, one per statistic.

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics over dim ``session``.
    names : sequence of str, optional
        Which statistics; default :func:`trajectory_statistics` (every per-session statistic with values).
    ncols : int
        Panels per row.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import xarray as xr
    >>> stats = xr.Dataset({"behavior": ("session", [0.5, 0.9]), "margin": ("session", [0.1, 0.3])})
    >>> fig = plot_trajectories(stats)
    >>> [ax.get_title() for ax in fig.axes]
    ['behavior', 'margin']
    """
    names = list(trajectory_statistics(stats) if names is None else names)
    if not names:
        raise DataError(
            "statistics: expected at least one per-session statistic to plot, found none among "
            f"{sorted(map(str, stats.data_vars))}"
        )
    fig, axes = _grid(len(names), ncols)
    for ax, name in zip(axes, names):
        plot_trajectory(stats, name, ax=ax)
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return fig


def plot_kernel_similarity(stats: xr.Dataset, name: str = "kernel_similarity", *, ax=None, cmap="viridis",
                           area: str | None = None):
    """Session x session similarity of representation kernels (CKA) as an image.

    Parameters
    ----------
    stats : xarray.Dataset or xarray.DataArray
        Holding ``name`` with dims ``("session", "session_other")``, or that matrix itself.
    name : str
        Which pairwise statistic (``"kernel_similarity"``, ``"code_overlap"``).
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Colour map. The colour scale is fixed to [0, 1] when all values lie there (CKA, overlaps), so that
        figures of different datasets compare.
    area : str, optional
        For statistics over ``area`` (:func:`neurolearn.stats.areas.summarize_areas`), the area to draw
        (required there: one image per area).

    Returns
    -------
    matplotlib.axes.Axes
        With one image (gid ``name``) whose array is the matrix, rows = ``session``, columns =
        ``session_other``, and a colour bar.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> sim = xr.DataArray(np.eye(3), dims=("session", "session_other"), name="kernel_similarity")
    >>> ax = plot_kernel_similarity(sim)
    >>> np.asarray(ax.images[0].get_array()).tolist()[0]
    [1.0, 0.0, 0.0]
    """
    matrix = stats if isinstance(stats, xr.DataArray) else _variable(stats, name)
    matrix = _one_area(matrix, name, area)
    if set(matrix.dims) != {SESSION, SESSION_OTHER}:
        raise DataError(
            f"statistic {name!r}: expected dims ('session', 'session_other'), found {tuple(matrix.dims)}"
        )
    matrix = matrix.transpose(SESSION, SESSION_OTHER)
    values = np.asarray(matrix.values, dtype=float)
    finite = values[np.isfinite(values)]
    in_unit_range = finite.size > 0 and finite.min() >= 0.0 and finite.max() <= 1.0
    ax = _axes(ax)
    image = ax.imshow(
        np.ma.masked_invalid(values),
        cmap=cmap,
        vmin=0.0 if in_unit_range else None,
        vmax=1.0 if in_unit_range else None,
        interpolation="nearest",
        gid=name,
    )
    ax.figure.colorbar(image, ax=ax, label=LABELS.get(name, name), shrink=0.85)
    rows = _labels(matrix, SESSION)
    cols = _labels(matrix, SESSION_OTHER)
    step = max(1, math.ceil(len(rows) / 12))
    ax.set_yticks(np.arange(len(rows))[::step], rows[::step])
    ax.set_xticks(np.arange(len(cols))[::step], cols[::step], rotation=90)
    ax.set_xlabel("session")
    ax.set_ylabel("session")
    ax.set_title(LABELS.get(name, name) + (f" \N{EM DASH} {area}" if area is not None else ""))
    return ax


def plot_fit(fit, stats: xr.Dataset | None = None, *, statistics: Sequence[str] | None = None,
             ncols: int = 3):
    """Fitted model predictions over the data they were fitted to, one panel per observable.

    Parameters
    ----------
    fit : FitResult, FitRecord or dict
        A fit in memory or read back from JSON (:func:`neurolearn.files.read_fits`), drawn alike: uses
        ``fit.predicted`` (a Dataset over ``session``), the model's name and ``fit.params`` (title).
    stats : xarray.Dataset, optional
        The data, drawn as :func:`plot_trajectory` (with intervals) under the prediction (else none). Over
        ``area`` (a joint fit, whose predictions are named ``task_alignment[V1]`` ...): each prediction is
        drawn over its area's values (:func:`neurolearn.fitting.areas.flat_statistics`).
    statistics : sequence of str, optional
        Which observables; default every per-session variable of ``fit.predicted``.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        Each panel has the data line (gid = statistic), its interval bars and the model line
        (gid ``"prediction"``) whose y are ``fit.predicted[statistic]``.

    Examples
    --------
    >>> stats = xr.Dataset({"behavior": ("session", [0.5, 0.8])}, coords={"session": ["d0", "d1"]})
    >>> fit = {"model": "rise", "session": ["d0", "d1"], "predicted": {"behavior": [0.55, 0.75]}}
    >>> fig = plot_fit(fit, stats)
    >>> [line.get_ydata().tolist() for line in fig.axes[0].lines if line.get_gid() == "prediction"]
    [[0.55, 0.75]]
    """
    if isinstance(fit, Mapping):
        fit = fit_record(fit)
    predicted = getattr(fit, "predicted", None)
    if not isinstance(predicted, xr.Dataset):
        raise DataError(f"fit: expected a FitResult with a `predicted` Dataset, found {type(fit).__name__}")
    names = list(statistics) if statistics is not None else [
        str(v) for v in predicted.data_vars if predicted[v].dims == (SESSION,)
    ]
    if not names:
        raise DataError(f"fit of {_model_name(fit)!r}: expected per-session predictions, found none")
    if stats is not None and AREA in getattr(stats, "dims", ()):
        from neurolearn.fitting.areas import flat_statistics

        stats = flat_statistics(stats, shared=[n for n in names if n in stats.data_vars])
    fig, axes = _grid(len(names), ncols)
    for ax, name in zip(axes, names):
        if name not in predicted:
            raise DataError(
                f"fit of {_model_name(fit)!r}: no prediction for {name!r}; "
                f"predicted: {sorted(map(str, predicted.data_vars))}"
            )
        if stats is not None and name in stats:
            plot_trajectory(stats, name, ax=ax, label="data", color="0.25")
            x = _aligned_positions(predicted, stats)
        else:
            x = session_positions(predicted)
            ax.set_xlabel("session")
            ax.set_ylabel(_label(name))
        ax.plot(x, predicted[name].values, color="C3", lw=2, label=_model_name(fit), gid="prediction")
        ax.set_title(name)
    axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle(_fit_title(fit))
    return fig


def trajectory_statistics(stats: xr.Dataset) -> list[str]:
    """Names of the per-session statistics in ``stats`` that have at least one finite value.

    A statistic is a variable with dims ``("session",)`` (or ``area`` and ``session``) that is not an
    uncertainty or chance variable (``_se``, ``_chance``) nor a coordinate.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> trajectory_statistics(xr.Dataset({"margin": ("session", [1.0]), "margin_se": ("session", [0.1]),
    ...                                   "timescale": ("session", [np.nan])}))
    ['margin']
    """
    names = []
    for name, variable in stats.data_vars.items():
        name = str(name)
        if set(variable.dims) not in ({SESSION}, {AREA, SESSION}) or name.endswith(("_se", "_chance")):
            continue
        if np.issubdtype(variable.dtype, np.number) and np.isfinite(variable.values).any():
            names.append(name)
    return names


def session_positions(stats) -> np.ndarray:
    """x positions of the sessions: coord ``session_index`` when present, else 0, 1, 2, ...

    Examples
    --------
    >>> import xarray as xr
    >>> session_positions(xr.Dataset(coords={"session": ["a", "b"], "session_index": ("session", [3, 4])}))
    array([3., 4.])
    """
    if "session_index" in stats.coords and stats.coords["session_index"].dims == (SESSION,):
        return np.asarray(stats.coords["session_index"].values, dtype=float)
    if SESSION not in stats.dims:
        raise DataError(f"statistics: expected a 'session' dim, found dims {tuple(stats.dims)}")
    return np.arange(stats.sizes[SESSION], dtype=float)


# --- helpers -------------------------------------------------------------------------------------------


def _session_statistic(stats: xr.Dataset, name: str) -> xr.DataArray:
    values = _variable(stats, name)
    if values.dims != (SESSION,):
        raise DataError(
            f"statistic {name!r}: expected dims ('session',) for a trajectory, found {tuple(values.dims)}"
        )
    return values


def _area_trajectories(stats, name, ax, label, color):
    """One line per area of a statistic over ``area`` (one line if it is the same in every area)."""
    from neurolearn.fitting.areas import area_observable, flat_statistics, same_in_every_area

    own = [v for v in stats.data_vars if v == name or str(v).startswith(name + "_")]
    once = same_in_every_area(stats[name])
    flat = flat_statistics(stats[own], shared=[name] if once else [])
    if once:
        return plot_trajectory(flat, name, ax=ax, label=label, color=color)
    for index, area in enumerate(_labels(stats[name], AREA)):
        plot_trajectory(flat, area_observable(name, area), ax=ax, label=f"{label}: {area}" if label else area,
                        color=f"C{index}")
    ax.set_ylabel(_label(name))
    ax.legend(fontsize=8, frameon=False)
    return ax


def _one_area(matrix, name, area):
    if AREA not in matrix.dims:
        if area is not None:
            raise DataError(f"statistic {name!r}: expected dim 'area' for area={area!r}, found {tuple(matrix.dims)}")
        return matrix
    areas = _labels(matrix, AREA)
    if area is None:
        raise DataError(f"statistic {name!r} has dim 'area': expected area=<one of {areas}> (one image per area)")
    if str(area) not in areas:
        raise DataError(f"statistic {name!r}: found no area {area!r}, expected one of {areas}")
    return matrix.isel({AREA: areas.index(str(area))}, drop=True)


def _label(name: str) -> str:
    """Axis label of a statistic, or of ``name[area]`` (a statistic of one area in a joint fit)."""
    stem, bracket, area = str(name).partition("[")
    if bracket and area.endswith("]"):
        return f"{LABELS.get(stem, stem)} [{area[:-1]}]"
    return LABELS.get(name, name)


def _variable(stats, name: str) -> xr.DataArray:
    if not isinstance(stats, xr.Dataset):
        raise DataError(f"statistics: expected an xarray.Dataset, found {type(stats).__name__}")
    if name not in stats:
        raise DataError(f"statistics: no variable {name!r}; available: {sorted(map(str, stats.data_vars))}")
    return stats[name]


def _aligned_positions(predicted: xr.Dataset, stats: xr.Dataset) -> np.ndarray:
    # predictions are drawn at the data's session positions so that model and data share one x axis
    if SESSION in predicted.coords and SESSION in stats.coords:
        index = {str(s): p for s, p in zip(stats[SESSION].values, session_positions(stats))}
        try:
            return np.array([index[str(s)] for s in predicted[SESSION].values], dtype=float)
        except KeyError:
            pass
    return session_positions(predicted)


def _session_ticks(ax, stats, x) -> None:
    if SESSION not in stats.coords or len(x) > 12 or len(x) == 0:
        return
    labels = [str(s) for s in stats[SESSION].values]
    if max(len(s) for s in labels) > 8:
        return
    ax.set_xticks(x, labels, rotation=45 if len(x) > 6 else 0, fontsize=8)


def _model_name(fit) -> str:
    model = getattr(fit, "model", None)
    return str(getattr(model, "name", model) or "model")


def _fit_title(fit) -> str:
    params = getattr(fit, "params", None) or {}
    shown = ", ".join(f"{k}={_number(v)}" for k, v in list(params.items())[:4])
    return f"{_model_name(fit)}: {shown}" if shown else _model_name(fit)


def _number(value) -> str:
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)
