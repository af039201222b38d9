"""What ``neurolearn fit`` prints: each fit's parameters with intervals and every flag.

Read by a person deciding whether a fit can be used: a parameter the data do not pin down, an estimate
sitting on its search bound, a model that misfits its statistics or a fit that failed are said in words,
never left to the JSON.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_fit", "fixed_outside_bounds"]


def format_fit(result) -> str:
    """A fit as text: one line on the fit, a table of parameters with intervals and flags, the fit's flags.

    Flags: did not converge, model misfit (chi-square improbable under the statistics' SEs; intervals are
    widened), a parameter not identifiable (with the reason), an estimate at a bound of its search box, the
    model's statistics missing from the data. An interval one-sided at a natural limit of its parameter
    (:attr:`neurolearn.theory.Parameter.natural`, e.g. a ceiling of 1) and an estimate at such a limit are
    said in the parameter's notes but are not flags. Used by ``neurolearn fit``; ``result`` is a
    :class:`neurolearn.fitting.FitResult`.
    """
    head = (f"{result.label}: {'converged' if result.success else 'FAILED'}; chi2 = {result.chi2:.4g} on "
            f"{result.n_obs} values, {result.n_params} free parameters (p = {result.chi2_pvalue:.3g}); "
            f"AIC = {result.aic:.4g}")
    bounds = _search_bounds(result)
    reasons = _identifiability_reasons(result.message)
    one_sided = _one_sided_intervals(result.message)
    natural = _natural_bounds(result)
    rows, at_bound, unidentified = [], [], []
    level = f"{100 * result.level:g}%"
    for name, value in result.params.items():
        free = name in result.ci
        lo, hi = result.ci.get(name, (math.nan, math.nan))
        notes = []
        if not free:
            notes.append("fixed")
        elif result.success and not result.identifiable.get(name, True):
            unidentified.append(name)
            notes.append(f"not identifiable ({reasons.get(name, 'see message')})")
        if free and result.success and name in one_sided:
            notes.append(f"one-sided interval (natural {one_sided[name]})")
        side = _bound_side(value, bounds.get(name)) if free and result.success else None
        if side:
            # an estimate at a natural limit (ceiling 1) is said in the table, not flagged as stuck on the box
            is_natural = natural.get(name, (False, False))[side == "upper"]
            if not is_natural:
                at_bound.append(name)
            notes.append(f"at its {'natural ' if is_natural else ''}{side} bound {bounds[name][side == 'upper']:.4g}")
        rows.append({"parameter": name, "estimate": _number(value),
                     f"{level} interval": f"[{_number(lo)}, {_number(hi)}]" if free else "",
                     "se": _number(result.se.get(name, math.nan)) if free else "", "notes": "; ".join(notes)})
    flags = []
    if not result.success:
        flags.append(f"fit failed: {result.message}")
    if "model misfit" in (result.message or ""):
        flags.append(f"model misfit (p = {result.chi2_pvalue:.2g}): intervals widened by sqrt(chi2/dof)")
    if unidentified:
        flags.append(f"not identifiable: {', '.join(unidentified)}")
    if at_bound:
        flags.append(f"at a bound: {', '.join(at_bound)}")
    if result.missing_observables:
        flags.append(f"statistics missing, not fitted: {', '.join(result.missing_observables)}")
    return "\n".join([head, _text_table(rows), "flags: " + ("; ".join(flags) if flags else "none")])


def fixed_outside_bounds(models, fixed: dict) -> str:
    """What is wrong with ``fixed`` values outside their parameter's bounds in ``models`` ("" if nothing).

    Examples
    --------
    >>> from neurolearn.theory import MODELS
    >>> fixed_outside_bounds([MODELS["lazy-rich"]], {"gamma0": -5.0})  # doctest: +ELLIPSIS
    "--fix gamma0=-5 lies outside its bounds [0.001, 100] in model 'lazy-rich' (richness ...)"
    >>> fixed_outside_bounds([MODELS["lazy-rich"]], {"chance": 0.5})
    ''
    """
    problems = []
    for model in models:
        for p in model.parameters:
            if p.name in fixed:
                lo, hi = map(float, p.bounds)
                if not lo <= fixed[p.name] <= hi:
                    problems.append(f"--fix {p.name}={fixed[p.name]:g} lies outside its bounds [{lo:g}, {hi:g}] "
                                    f"in model {model.name!r} ({p.meaning})")
    return "; ".join(problems)


# --- helpers ---------------------------------------------------------------------------------------------


def _search_bounds(result) -> dict:
    problem = getattr(result, "_problem", None)
    bounds = {p.name: (float(p.lower), float(p.upper)) for p in getattr(problem, "free", ())}
    for p in getattr(result.model, "parameters", ()):
        bounds.setdefault(p.name, tuple(map(float, p.bounds)))
    return bounds


def _natural_bounds(result) -> dict:
    """Parameter name -> whether its (lower, upper) search bound is a natural limit the model declares."""
    bounds = _search_bounds(result)
    return {p.name: tuple(bool(n) and float(edge) == float(declared)
                          for n, edge, declared in zip(p.natural, bounds.get(p.name, p.bounds), p.bounds))
            for p in getattr(result.model, "parameters", ()) if hasattr(p, "natural")}


def _bound_side(value, bounds) -> str | None:
    if bounds is None or not all(map(_finite, (value, *bounds))):
        return None
    lo, hi = bounds
    if lo > 0 and value > 0:  # positive parameters are searched on a log scale: compare ratios
        near_lo, near_hi = math.log(value / lo) <= 1e-4, math.log(hi / value) <= 1e-4
    else:  # the optimiser stops within ~1e-8 of the box in its unit coordinates
        tolerance = 1e-6 * (hi - lo)
        near_lo, near_hi = value - lo <= tolerance, hi - value <= tolerance
    return "lower" if near_lo else "upper" if near_hi else None


def _identifiability_reasons(message: str) -> dict:
    """Parameter name -> the reasons of the fit's note that it is not identifiable.

    The reasons may hold parentheses of their own, one level deep ("... (confounded); SE of log(k) ...").

    Examples
    --------
    >>> _identifiability_reasons("converged; k: not identifiable (ends where a reach bounds (confounded); SE of "
    ...                          "log(k) 9 exceeds its range log(10 / 0.1) = 4.61); a: interval one-sided")
    {'k': 'ends where a reach bounds (confounded); SE of log(k) 9 exceeds its range log(10 / 0.1) = 4.61'}
    """
    pattern = r"(\w+): not identifiable \(((?:[^()]|\([^()]*\))*)\)(?=; |$)"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, message or "")}


def _one_sided_intervals(message: str) -> dict:
    """Parameter name -> "upper bound 1" (etc.) from the fit's notes on intervals one-sided at a natural bound.

    Examples
    --------
    >>> _one_sided_intervals("converged; ceiling: interval one-sided at its natural upper bound 1; x: other")
    {'ceiling': 'upper bound 1'}
    """
    return {m.group(1): m.group(2)
            for m in re.finditer(r"(\w+): interval one-sided at its natural (.*?)(?=; |$)", message or "")}


def _text_table(rows: list[dict]) -> str:
    """Rows as aligned text columns: names and notes left-aligned, numbers right-aligned, nothing cut."""
    columns = list(rows[0]) if rows else []
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    left = {columns[0], columns[-1]} if columns else set()

    def line(cells):
        return "  ".join(str(cells[c]).ljust(widths[c]) if c in left else str(cells[c]).rjust(widths[c])
                         for c in columns).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])


def _number(value) -> str:
    return f"{value:.4g}" if _finite(value) else "nan" if value is not None else ""


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
