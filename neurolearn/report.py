"""The report of an analysis: one section per dataset with its statistics, kernels, fits and model comparison.

:func:`build_report` (what ``neurolearn report`` runs) and :func:`analysis_section` draw the figures
(:mod:`neurolearn.plot`) and tables of each dataset; the page they are written into, self-contained HTML with
every figure inlined, is :mod:`neurolearn.report_page`, whose names are re-exported here. Fits are read as
:class:`~neurolearn.fit_records.FitRecord` (from memory or JSON alike).
"""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Mapping
from typing import Sequence

from neurolearn.fit_records import comparable_groups, fit_record
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
    "flags_table",
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
        Statistics over ``session`` (:func:`neurolearn.summarize`), or over ``area`` and ``session``
        (:func:`neurolearn.stats.areas.summarize_areas`): then one line per area in each panel, a table of
        statistics per area, the flags labelled by area and the kernel similarity drawn per area.
    fits : sequence of FitResult, FitRecord or dict
        Fits of theory models to ``stats`` (objects, or ``FitResult.to_dict()`` read back from JSON); a joint
        fit over areas is drawn over each area's data.
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
    import numpy as np
    import xarray as xr

    from neurolearn import plot
    from neurolearn.errors import DataError

    if not isinstance(stats, xr.Dataset):
        raise DataError(f"report section {name!r}: expected statistics as an xarray.Dataset (neurolearn.summarize), "
                        f"found {type(stats).__name__}")
    fits = [fit_record(f) for f in fits]
    figures, tables = [], []

    def add(what, fig, caption):
        figures.append(ReportFigure(f"{_slug(name)}_{what}.png", figure_to_png(fig, dpi=dpi), caption))
        if progress:
            print(f"report: {name}: figure {len(figures)} ({what})", file=sys.stderr, flush=True)

    names = plot.trajectory_statistics(stats)
    areas = [str(a) for a in stats[plot.AREA].values] if plot.AREA in stats.dims else []
    if names:
        add("statistics", plot.plot_trajectories(stats, names, title=name),
            "Statistics across sessions" + (", one line per area (one for a statistic the same in every area)"
                                            if areas else "") +
            "; bars are bootstrap intervals, dashed lines chance levels.")
        for where, table in _statistics_tables(stats, names):
            tables.append((f"Statistics per session{where} (estimate [interval]; * a flag below)", table))
        flags = flags_table(stats, names)
        if len(flags):
            tables.append(("Flags: why a value is missing or what it does not mean", flags))
    for pairwise in ("kernel_similarity", "code_overlap"):
        if pairwise in stats and set(stats[pairwise].dims) == {"session", "session_other"}:
            add(pairwise, plot.plot_kernel_similarity(stats, pairwise).figure,
                f"{plot.LABELS.get(pairwise, pairwise)} between every pair of sessions.")
        elif pairwise in stats and set(stats[pairwise].dims) == {plot.AREA, "session", "session_other"}:
            for area in areas:
                add(f"{pairwise}_{_slug(area)}", plot.plot_kernel_similarity(stats, pairwise, area=area).figure,
                    f"{plot.LABELS.get(pairwise, pairwise)} between every pair of sessions, area {area}.")
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
    groups, alone = comparable_groups(fits)
    for number, group in enumerate(groups):
        comparison = _comparison(group)
        criterion = "qaic" if np.isfinite(comparison["qaic"][comparison["success"]]).all() else "aic"
        ax = plot.plot_comparison(comparison, criterion=criterion)
        what = ", ".join(group[0].observables)
        among = f", among fits to the same statistics ({what})" if what else ""
        add("comparison" if number == 0 else f"comparison_{number + 1}", ax.figure,
            f"{comparison.attrs.get('criterion', criterion.upper())} of each model relative to the best{among}.")
        tables.append(("Model comparison" + (f" (fits to {what})" if what else ""), comparison))
    if groups and alone or len(alone) > 1:
        # information criteria of fits to different values are not comparable: say which were left out
        text = (text + "\n\n" if text else "") + (
            "Not compared (fitted to other statistics than any other fit; AIC compares only fits to the same "
            "values): " + "; ".join(f"{f.label} ({', '.join(f.observables)})" for f in alone) + ".")
    return Section(name, text, figures, tables)


def build_report(path, stats: dict, fits: dict | None = None, *, title: str = "neurolearn report",
                 summary: str = "", texts: dict | None = None, kernels: dict | None = None,
                 figure_dir=None, dpi: int = 100, progress: bool = False) -> tuple[Path, list[Path]]:
    """One section per dataset (:func:`analysis_section`), written as one HTML file.

    Parameters
    ----------
    path : path-like
        The HTML file to write.
    stats : dict or xarray.Dataset
        Dataset name -> statistics Dataset (over ``session``, or ``area`` and ``session``: see
        :func:`analysis_section`); or one statistics Dataset, shown as one section named ``"statistics"``.
    fits, texts, kernels : dict, optional
        Dataset name -> fits / explanatory text / per-session kernels. With one Dataset: its fits (a
        sequence), its text (str) and its kernels (DataArray).
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

    Raises
    ------
    DataError
        ``stats`` is neither a Dataset nor a dict of Datasets, or ``fits`` does not match it (checked before
        anything is drawn or written).
    """
    stats, fits, texts, kernels = _by_dataset(stats, fits, texts, kernels)
    for name, data in stats.items():
        _check_pairing(name, data, fits.get(name, ()))
    sections = [
        analysis_section(name, data, fits.get(name, ()), kernels=kernels.get(name), text=texts.get(name, ""),
                         dpi=dpi, progress=progress)
        for name, data in stats.items()
    ]
    saved = save_figures(sections, figure_dir) if figure_dir is not None else []
    return write_report(path, title, sections, summary=summary), saved


def _by_dataset(stats, fits, texts, kernels):
    """``build_report``'s inputs as dicts keyed by dataset name, or a :class:`DataError` naming what was found."""
    import xarray as xr

    from neurolearn.errors import DataError

    if isinstance(stats, xr.Dataset):
        name = "statistics"
        if isinstance(fits, (Mapping, str)) or fits is not None and not isinstance(fits, Sequence):
            raise DataError(f"build_report: fits: expected a sequence of fits of the one statistics Dataset, found "
                            f"{type(fits).__name__}")
        return ({name: stats}, {name: list(fits or ())}, {name: texts} if isinstance(texts, str) else texts or {},
                {name: kernels} if isinstance(kernels, xr.DataArray) else kernels or {})
    expected = "build_report: expected statistics as an xarray.Dataset or a dict of name -> xarray.Dataset"
    if not isinstance(stats, Mapping):
        raise DataError(f"{expected}, found {type(stats).__name__}")
    wrong = {str(k): type(v).__name__ for k, v in stats.items() if not isinstance(v, xr.Dataset)}
    if wrong:
        raise DataError(f"{expected}, found " + ", ".join(f"{t} for {k!r}" for k, t in wrong.items()))
    for option, value in (("fits", fits), ("texts", texts), ("kernels", kernels)):
        if value is not None and not isinstance(value, Mapping):
            raise DataError(f"build_report: {option}: expected a dict of dataset name -> {option} (keyed as the "
                            f"statistics), found {type(value).__name__}")
    return stats, fits or {}, texts or {}, kernels or {}


def _check_pairing(name, stats, fits):
    """Refuse statistics that are not over sessions, and fits made on sessions the statistics do not hold (a
    fit drawn over other sessions' statistics would look like theirs: adversary F15)."""
    import numpy as np

    from neurolearn.errors import DataError

    if "session" not in stats.dims:
        raise DataError(f"build_report: {name!r}: expected statistics over dim 'session' (what summarize writes), "
                        f"found dims {tuple(map(str, stats.dims))}")
    held = {str(s) for s in np.asarray(stats["session"].values)}
    for fit in map(fit_record, fits):
        predicted = getattr(fit, "predicted", None)
        if predicted is None or "session" not in predicted.coords:
            continue
        sessions = [str(s) for s in np.asarray(predicted["session"].values)]
        missing = [s for s in sessions if s not in held]
        if missing:
            raise DataError(f"build_report: {name!r}: fit {fit.label or fit.model_name!r} was made on sessions "
                            f"{missing[:5]}{' ...' if len(missing) > 5 else ''} that the statistics do not hold "
                            f"(they hold {sorted(held)[:5]}{' ...' if len(held) > 5 else ''}): expected the fit of "
                            "these statistics")


def _statistics_tables(stats, names):
    """(where, table) of :func:`statistics_table`: one table, or one per area (``" in area V1 (layer 1)"``)."""
    import numpy as np

    from neurolearn.plot import AREA

    if AREA not in stats.dims:
        return [("", statistics_table(stats, names))]
    out = []
    for index, area in enumerate(stats[AREA].values):
        one = stats.isel({AREA: index})
        shown = [n for n in names if AREA not in stats[n].dims or np.isfinite(one[n].values).any()]
        layer = f" (layer {int(one['layer'])})" if "layer" in one.coords and one["layer"].ndim == 0 else ""
        out.append((f" in area {area}{layer}", statistics_table(one, shown)))
    return out


def flags_table(stats, names: Sequence[str]):
    """One row per flagged value (``name_flag`` not empty): session, statistic, estimate and the reason (the
    area first, for statistics over ``area``).

    Examples
    --------
    >>> import xarray as xr
    >>> stats = xr.Dataset({"margin": ("session", [float("nan"), 0.5]),
    ...                     "margin_flag": ("session", ["fewer than 2 trials", ""])},
    ...                    coords={"session": ["d0", "d1"]})
    >>> flags_table(stats, ["margin"]).to_dict("records")
    [{'session': 'd0', 'statistic': 'margin', 'estimate': '—', 'reason': 'fewer than 2 trials'}]
    """
    import numpy as np
    import pandas as pd

    from neurolearn.data import flag_name
    from neurolearn.plot import AREA

    if AREA in stats.dims:  # one row per flagged value of each area, the area first
        parts = [flags_table(stats.isel({AREA: i}), names).assign(area=str(a))
                 for i, a in enumerate(stats[AREA].values)]
        table = pd.concat(parts, ignore_index=True)
        return table[["area", "session", "statistic", "estimate", "reason"]]
    rows = []
    for name in names:
        flag = flag_name(name)
        if flag not in stats or stats[flag].dims != ("session",):
            continue
        values = np.asarray(stats[name].values, dtype=float) if stats[name].dims == ("session",) else None
        for position, (session, reason) in enumerate(zip(stats["session"].values, stats[flag].values)):
            if str(reason):
                rows.append({"session": str(session), "statistic": name,
                             "estimate": _fmt(values[position]) if values is not None else "",
                             "reason": str(reason)})
    return pd.DataFrame(rows, columns=["session", "statistic", "estimate", "reason"])


def statistics_table(stats, names: Sequence[str]):
    """Per-session table: one column per statistic, cells ``estimate [lower, upper]``, marked ``*`` where the
    value has a flag (:func:`flags_table` gives the reasons).

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
        flag = f"{name}_flag"
        if flag in stats and stats[flag].dims == ("session",):
            columns[name] = [cell + (" *" if str(reason) else "")
                             for cell, reason in zip(columns[name], stats[flag].values)]
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
    """:func:`neurolearn.compare` of fits in memory; for fits read back from a file, the same table from their
    records: quasi-AIC with the most complex converged fit's dispersion, as ``compare`` ranks by default."""
    import numpy as np
    import pandas as pd

    from neurolearn.errors import FitError
    from neurolearn.fitting import compare

    results = [f.result for f in fits if f.result is not None]
    if len(results) == len(fits):
        try:
            return compare(results)
        except FitError:
            pass  # same observables, different values (another se_floor, data): ranked from the records below
    ok = [f for f in fits if f.success and np.isfinite(f.dispersion)]
    reference = min(ok, key=lambda f: (-f.n_params, f.chi2)) if ok else None
    c = float(reference.dispersion) if reference is not None and reference.dispersion > 1.0 else 1.0
    table = pd.DataFrame({
        "label": [f.label for f in fits],
        "model": [f.model for f in fits],
        "n_params": [f.n_params for f in fits],
        "n_obs": [f.n_obs for f in fits],
        "chi2": [f.chi2 for f in fits],
        "dispersion": c,
        "qaic": [f.chi2 / c + 2 * f.n_params + (f.aic - f.chi2 - 2 * f.n_params) for f in fits],
        "aic": [f.aic for f in fits],
        "bic": [f.bic for f in fits],
        "success": [f.success for f in fits],
    })
    for key in ("qaic", "aic", "bic"):
        best = table.loc[table["success"], key].min()
        table[f"delta_{key}"] = np.where(table["success"], table[key] - best, np.nan)
    criterion = "AIC" if c == 1.0 else f"QAIC (c = chi2/dof = {c:.3g} from {reference.label!r}, the most complex model)"
    table["criterion"] = criterion
    key = "qaic" if np.isfinite(table.loc[table["success"], "qaic"]).all() else "aic"  # records without chi2
    table = table.sort_values(["success", key], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.attrs["criterion"] = criterion
    return table


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
