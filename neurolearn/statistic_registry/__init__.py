"""Every summary statistic declared as data: one registry that summarize, plots, fitting, the report and the
docs read (as :data:`neurolearn.theory.MODELS` declares the models).

Each :class:`Statistic` says what the number means, its units, the natural range of its *estimand* (the
population quantity it estimates), the estimator and its bias handling, what its interval resamples, how its
chance level is computed, what the data must have for it to be computed at all (:class:`Requirements`) and
which reduced models predict it. A statistic the data cannot support is NaN with a reason in
``<name>_flag`` (see :mod:`neurolearn.stats.flags`); the reasons it can give are listed in ``reasons``.

The registry sits in the base layer beside :mod:`neurolearn.data` (it imports nothing from the package), so
every layer can read it; :data:`neurolearn.stats.STATISTICS` is the same mapping. The declarations are in
:mod:`~neurolearn.statistic_registry.types`, the table of entries in :mod:`~neurolearn.statistic_registry.entries`.

Examples
--------
>>> from neurolearn.statistic_registry import STATISTICS
>>> STATISTICS["task_alignment"].range
(-1.0, 1.0)
>>> STATISTICS["kernel_similarity"].pairwise
True
>>> "lazy-rich" in STATISTICS["task_alignment"].predicted_by
True
"""

from __future__ import annotations

import math

from neurolearn.errors import DataError
from neurolearn.statistic_registry.entries import ENTRIES
from neurolearn.statistic_registry.types import Requirements, Statistic

__all__ = ["Requirements", "Statistic", "STATISTICS", "STATISTIC_NAMES", "statistic", "label", "registry_markdown"]


STATISTICS: dict[str, Statistic] = {entry.name: entry for entry in ENTRIES}

#: the stable statistic names (keys of :data:`STATISTICS`)
STATISTIC_NAMES: tuple[str, ...] = tuple(STATISTICS)


def statistic(name: str) -> Statistic:
    """The registry entry of ``name``; a clear error naming the known statistics otherwise.

    Examples
    --------
    >>> statistic("margin").family
    'readout'
    """
    try:
        return STATISTICS[name]
    except KeyError:
        raise DataError(f"unknown statistic {name!r}; known: {sorted(STATISTICS)}") from None


def label(name: str) -> str:
    """Axis label of ``name`` (the name itself for a variable that is not a registered statistic).

    Examples
    --------
    >>> label("task_alignment"), label("something_else")
    ('kernel-task alignment', 'something_else')
    """
    entry = STATISTICS.get(name)
    return entry.label if entry is not None else name


def registry_markdown() -> str:
    """The registry as the Markdown page ``docs/statistics.md`` (written by ``docs/make_statistics.py``; a test
    checks the page is current).

    Examples
    --------
    >>> registry_markdown().splitlines()[0]
    '# Statistics'
    """
    def fmt(bound):
        return "∞" if bound == math.inf else ("−∞" if bound == -math.inf else f"{bound:g}")

    lines = [
        "# Statistics",
        "",
        "Every statistic neurolearn computes, as declared in `neurolearn.stats.STATISTICS` (generated "
        "from it by `docs/make_statistics.py`; do not edit by hand). Each value comes with `<name>_se`, "
        "`<name>_ci` and `<name>_flag`: `\"\"` where the data support the value, otherwise the reason it is NaN "
        "(or, for a value at chance, why it carries no information). A reported value never lies outside its "
        "estimand's range by more than three standard errors (judged with n_boot > 0; without a standard error one outside it keeps its number, flagged as not judged), a statistic whose standard error exceeds "
        "its resolution (half its range when bounded, or a declared natural unit; judged on the interval's side toward "
        "the range's low end where the registry says so) is NaN (not resolved), and intervals "
        "always contain their estimate. `neurolearn.summarize` computes every family; the capacity family (the "
        "manifold statistics: a linear program per dichotomy, seconds per session) only when `statistics=` names "
        "one of them, e.g. `summarize(tree, statistics=[\"manifold_capacity\", \"manifold_radius\", "
        "\"manifold_dimension\"])`. A fit leaves out a `manifold_capacity` flagged as the capacity of fewer points "
        "per condition than its manifolds need.",
        "",
        "| statistic | range | family | needs | predicted by |",
        "|---|---|---|---|---|",
    ]
    for entry in STATISTICS.values():
        low, high = entry.range
        lines.append(f"| `{entry.name}` | [{fmt(low)}, {fmt(high)}] | {entry.family} | {entry.needs.describe()} | "
                     f"{', '.join(entry.predicted_by) or '—'} |")
    for entry in STATISTICS.values():
        lines += ["", f"## `{entry.name}` — {entry.label}", "", entry.meaning, ""]
        rows = [("units", entry.units or "dimensionless"),
                ("estimand", entry.estimand),
                ("range", f"[{fmt(entry.range[0])}, {fmt(entry.range[1])}]"),
                (("not resolved when its interval's half-width toward the range's low end (estimate - lower end, "
                  "or for an estimate below it upper end - estimate) / z exceeds"
                  if entry.resolution_side == "lower" else "not resolved when its SE exceeds"),
                 fmt(entry.unresolved_above()) + (" and half the estimate" if entry.resolution_se is not None else "")),
                ("estimator and bias handling", entry.estimator),
                ("interval", entry.interval or "none"),
                ("chance", entry.chance or "none"),
                ("needs", entry.needs.describe()),
                ("NaN or flagged when", "; ".join(entry.reasons) or "—"),
                ("invariant to", ", ".join(entry.invariant_to) or "—"),
                ("dims", "(session, session_other)" if entry.pairwise else "(session,)"),
                ("predicted by", ", ".join(entry.predicted_by) or "—")]
        if entry.follows:
            rows.insert(3, ("computed from", f"`{entry.follows}` (NaN with it, with its reason)"))
        lines += [f"- **{key}**: {value}" for key, value in rows]
    return "\n".join(lines) + "\n"
