"""The report of an analysis: one section per dataset with its statistics, kernels, fits and model comparison.

:func:`build_report` (what ``neurolearn report`` runs) and :func:`analysis_section` draw the figures
(:mod:`neurolearn.plot`) and tables of each dataset; the page they are written into, self-contained HTML with
every figure inlined, is :mod:`neurolearn.report_page`, whose names are re-exported here. Fits are read as
:class:`~neurolearn.fit_records.FitRecord` (from memory or JSON alike).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from neurolearn.fit_records import fit_record
from neurolearn.report_page import (
    PNG_SIGNATURE,
    ReportFigure,
    Section,
    embedded_images,
    figure_to_png,
    render_report,
    save_figures,
    write_report,
)

__all__ = [
    "ReportFigure",
    "Section",
    "figure_to_png",
    "render_report",
    "write_report",
    "embedded_images",
    "analysis_section",
    "build_report",
    "fit_table",
    "statistics_table",
    "save_figures",
    "PNG_SIGNATURE",
]


def analysis_section(name: str, stats, fits=(), *, kernels=None, text: str = "", dpi: int = 100,
                     progress: bool = False) -> Section:
    """The standard section for one dataset: its statistics, kernels, fits and model comparison.

    Parameters
    ----------
    name : str
        Dataset name; figure files are called ``{name}_<what>.png``.
    stats : xarray.Dataset
        Statistics over ``session`` (:func:`neurolearn.summarize`).
    fits : sequence of FitResult, FitRecord or dict
        Fits of theory models to ``stats`` (objects, or ``FitResult.to_dict()`` read back from JSON).
    kernels : xarray.DataArray, optional
        Per-session kernels ``(session, condition, condition)`` to show.
    text : str
        Paragraphs shown under the heading.
    dpi : int
        Resolution of the embedded figures.
    progress : bool
        Print a line on stderr as each figure is drawn.

    Returns
    -------
    Section
        Figures: statistic trajectories with intervals, kernel similarity (if present), kernels (if given),
        one overlay per fit, model comparison (two or more fits). Tables: per-session statistics with
        intervals, fitted parameters, model comparison.
    """
    from neurolearn import plot

    fits = [fit_record(f) for f in fits]
    figures, tables = [], []

    def add(what, fig, caption):
        figures.append(ReportFigure(f"{_slug(name)}_{what}.png", figure_to_png(fig, dpi=dpi), caption))
        if progress:
            print(f"report: {name}: figure {len(figures)} ({what})", file=sys.stderr, flush=True)

    names = plot.trajectory_statistics(stats)
    if names:
        add("statistics", plot.plot_trajectories(stats, names, title=name),
            "Statistics across sessions; bars are bootstrap intervals, dashed lines chance levels.")
        tables.append(("Statistics per session (estimate [interval])", statistics_table(stats, names)))
    for pairwise in ("kernel_similarity", "code_overlap"):
        if pairwise in stats and set(stats[pairwise].dims) == {"session", "session_other"}:
            add(pairwise, plot.plot_kernel_similarity(stats, pairwise).figure,
                f"{plot.LABELS.get(pairwise, pairwise)} between every pair of sessions.")
    if kernels is not None:
        add("kernels", plot.plot_kernels(kernels, vmax=kernels.attrs.get("display_limit")),
            "Representation kernel (condition x condition) per session"
            + (f", {kernels.attrs['description']}." if "description" in kernels.attrs else "."))
    for fit in fits:
        if fit.predicted is not None and fit.predicted.data_vars:
            add(f"fit_{_slug(fit.label)}", plot.plot_fit(fit, stats),
                f"Fit of {fit.label} (line) over the data it was fitted to.")
    if fits:
        tables.append(("Fitted parameters", fit_table(fits)))
    if len(fits) > 1:
        comparison = _comparison(fits)
        ax = plot.plot_comparison(comparison)
        add("comparison", ax.figure, "Akaike information criterion of each model relative to the best.")
        tables.append(("Model comparison", comparison))
    return Section(name, text, figures, tables)


def build_report(path, stats: dict, fits: dict | None = None, *, title: str = "neurolearn report",
                 summary: str = "", texts: dict | None = None, kernels: dict | None = None,
                 figure_dir=None, dpi: int = 100, progress: bool = False) -> tuple[Path, list[Path]]:
    """One section per dataset (:func:`analysis_section`), written as one HTML file.

    Parameters
    ----------
    path : path-like
        The HTML file to write.
    stats : dict
        Dataset name -> statistics Dataset.
    fits, texts, kernels : dict, optional
        Dataset name -> fits / explanatory text / per-session kernels.
    title, summary : str
        Report title and the text under it.
    figure_dir : path-like, optional
        Also save every figure there as the PNG file it is named after (the same bytes as embedded).
    dpi : int
    progress : bool
        Print a line on stderr per figure (the report of a long study draws dozens).

    Returns
    -------
    (Path, list of Path)
        The report and the saved figure files (empty without ``figure_dir``).
    """
    fits, texts, kernels = fits or {}, texts or {}, kernels or {}
    sections = [
        analysis_section(name, data, fits.get(name, ()), kernels=kernels.get(name), text=texts.get(name, ""),
                         dpi=dpi, progress=progress)
        for name, data in stats.items()
    ]
    saved = save_figures(sections, figure_dir) if figure_dir is not None else []
    return write_report(path, title, sections, summary=summary), saved


def statistics_table(stats, names: Sequence[str]):
    """Per-session table: one column per statistic, cells ``estimate [lower, upper]``.

    Examples
    --------
    >>> import xarray as xr
    >>> stats = xr.Dataset({"margin": ("session", [0.5]),
    ...                     "margin_ci": (("session", "ci_bound"), [[0.4, 0.7]])},
    ...                    coords={"session": ["d0"], "ci_bound": ["lower", "upper"]})
    >>> statistics_table(stats, ["margin"]).loc["d0", "margin"]
    '0.5 [0.4, 0.7]'
    """
    import numpy as np
    import pandas as pd

    sessions = [str(s) for s in stats["session"].values] if "session" in stats.coords else None
    columns = {}
    for name in names:
        values = np.asarray(stats[name].values, dtype=float)
        ci = f"{name}_ci"
        if ci in stats:
            bounds = stats[ci].transpose("session", "ci_bound")
            lower = np.asarray(bounds.sel(ci_bound="lower").values, dtype=float)
            upper = np.asarray(bounds.sel(ci_bound="upper").values, dtype=float)
            columns[name] = [f"{_fmt(v)} [{_fmt(lo)}, {_fmt(hi)}]" for v, lo, hi in zip(values, lower, upper)]
        else:
            columns[name] = [_fmt(v) for v in values]
    table = pd.DataFrame(columns, index=sessions)
    table.index.name = "session"
    return table


def fit_table(fits):
    """One row per fitted parameter: model, estimate, interval, whether the data pin it down.

    Examples
    --------
    >>> row = fit_table([{"model": "m", "params": {"a": 1.0}, "ci": {"a": [0.5, 2.0]},
    ...                   "identifiable": {"a": True}, "success": True}]).iloc[0]
    >>> row["parameter"], float(row["estimate"]), float(row["lower"]), float(row["upper"]), row["status"]
    ('a', 1.0, 0.5, 2.0, 'identifiable')
    """
    import pandas as pd

    rows = []
    for fit in map(fit_record, fits):
        for parameter, value in fit.params.items():
            free = parameter in fit.ci
            lower, upper = fit.ci.get(parameter, (None, None))
            rows.append({
                "model": fit.label,
                "parameter": parameter,
                "estimate": _float(value),
                "lower": _float(lower),
                "upper": _float(upper),
                "status": ("fixed" if not free else "identifiable" if fit.identifiable.get(parameter, True)
                           else "not identifiable"),
                "converged": bool(fit.success),
            })
    columns = ["model", "parameter", "estimate", "lower", "upper", "status", "converged"]
    return pd.DataFrame(rows, columns=columns)


# --- helpers -------------------------------------------------------------------------------------------


def _comparison(fits):
    import pandas as pd

    from neurolearn.fitting import compare

    results = [f.result for f in fits if f.result is not None]
    if len(results) == len(fits):
        return compare(results)
    table = pd.DataFrame({
        "label": [f.label for f in fits],
        "model": [f.model for f in fits],
        "aic": [f.aic for f in fits],
        "bic": [f.bic for f in fits],
        "success": [f.success for f in fits],
    })
    table["delta_aic"] = table["aic"] - table["aic"].min()
    return table.sort_values("aic").reset_index(drop=True)


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "figure"


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _fmt(value) -> str:
    value = _float(value)
    return "—" if value != value else f"{value:.3g}"
