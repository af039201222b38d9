"""Checks of what :func:`~neurolearn.fitting.fit` is given: numbers where numbers belong, usable standard
errors, training times, fixed values inside their bounds. Every refusal is a
:class:`~neurolearn.errors.FitError` naming the statistic or parameter, what was expected and what was found.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import xarray as xr

from neurolearn.data import SESSION, se_name
from neurolearn.errors import FitError, FitWarning
from neurolearn.fitting.estimands import stand_in_hint

__all__ = ["FitWarning", "TIME_SCALE", "ONSET", "TRAINING_TIME", "SHARED_OBSERVABLE", "MIN_RELATIVE_SE",
           "check_fixed", "choose_observables", "flag_reasons", "numeric_values", "sessions_where",
           "standard_errors", "training_times"]

TIME_SCALE = "time_scale"
ONSET = "onset"
#: the statistics coord that declares training time per session (used instead of session_index)
TRAINING_TIME = "training_time"
# The statistic every model predicts: a default fit must match at least one other of the model's statistics.
SHARED_OBSERVABLE = "behavior"
# Standard errors below this fraction of a statistic's scale (max(1, max |value|)) cannot weight a fit in
# double precision (their squares underflow, residuals overflow); they are refused, not floored silently.
MIN_RELATIVE_SE = 1e-10


def numeric_values(stats, name, model) -> np.ndarray:
    """Values of statistic ``name`` as floats, refusing text, dates and other non-numbers."""
    da = stats[name]
    if da.dtype.kind not in "biuf":
        try:
            if da.dtype.kind != "O":
                raise TypeError
            return np.asarray(da.values, dtype=float)
        except (TypeError, ValueError):
            example = np.asarray(da.values).ravel()[:3].tolist()
            raise FitError(f"fit of model {model.name!r}: expected numeric values of statistic {name!r}, found "
                           f"dtype {da.dtype} (e.g. {example})") from None
    return np.asarray(da.values, dtype=float)


def flag_reasons(stats, names, data) -> str:
    """The reasons summarize gave for NaN values (its ``<name>_flag`` variables), if any."""
    reasons = set()
    for name, row in zip(names, data):
        flag = stats.get(f"{name}_flag")
        if flag is None or flag.dims != (SESSION,):
            continue
        reasons.update(str(r) for r, bad in zip(flag.values, ~np.isfinite(row)) if bad and str(r))
    return f"; flagged: {sorted(reasons)}" if reasons else ""


def choose_observables(stats, model, observables):
    """The statistics to fit and the model observables the statistics lack."""
    # statistics proper: per-session variables that are not the SE/interval/chance companion of another one
    names = {str(v) for v in stats.data_vars}
    companions = {f"{n}{suffix}" for n in names for suffix in ("_se", "_ci", "_chance", "_boot", "_flag")}
    per_session = [str(v) for v, da in stats.data_vars.items() if da.dims == (SESSION,) and str(v) not in companions]
    if observables is None:
        chosen = [o for o in model.observables if o in per_session]
        if not chosen:
            raise FitError(
                f"fit of model {model.name!r}: statistics lack every statistic the model predicts; expected some "
                f"of {list(model.observables)}, found per-session statistics {sorted(per_session)}"
                + _not_from_summarize(model.observables) + stand_in_hint(per_session, model))
        own = [o for o in model.observables if o != SHARED_OBSERVABLE]
        if own and set(chosen) <= {SHARED_OBSERVABLE}:
            # every model predicts behaviour; a fit to it alone cannot tell this model from any other
            raise FitError(
                f"fit of model {model.name!r}: statistics lack every statistic specific to the model; expected "
                f"some of {own}, found per-session statistics {sorted(per_session)} (only {SHARED_OBSERVABLE!r} "
                f"matches, which every model predicts); pass observables=[{SHARED_OBSERVABLE!r}] to fit "
                "behaviour alone"
            )
    else:
        if isinstance(observables, str):
            observables = [observables]
        observables = list(observables)
        if not all(isinstance(o, str) for o in observables):
            raise FitError(f"fit of model {model.name!r}: expected observables as statistic names, found {observables}")
        unpredicted = [o for o in observables if o not in model.observables]
        if unpredicted:
            raise FitError(
                f"fit of model {model.name!r}: the model does not predict {unpredicted}; it predicts "
                f"{list(model.observables)}"
            )
        absent = [o for o in observables if o not in per_session]
        if absent:
            raise FitError(
                f"fit of model {model.name!r}: statistics lack {absent}; found per-session statistics "
                f"{sorted(per_session)}"
            )
        if not observables:
            raise FitError(f"fit of model {model.name!r}: expected at least one observable, found none")
        chosen = observables
    missing = [o for o in model.observables if o not in per_session]
    return chosen, missing


def standard_errors(stats, name, model, se_floor):
    key = se_name(name)
    if key not in stats.data_vars:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has no standard error {key!r} to weight it by; "
            f"found variables {sorted(map(str, stats.data_vars))}"
        )
    values = numeric_values(stats, name, model)
    se = numeric_values(stats, key, model).copy()
    used = np.isfinite(values)
    se = _floored(stats, name, key, model, values, se, used, se_floor)
    scale = max(1.0, float(np.max(np.abs(values[used]), initial=0.0)))
    tiny = used & (se > 0) & (se < MIN_RELATIVE_SE * scale)
    if tiny.any():
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has standard errors too small to weight a fit at "
            f"sessions {sessions_where(stats, tiny)} (smallest {float(se[tiny].min()):.3g}); expected {key!r} >= "
            f"{MIN_RELATIVE_SE * scale:.3g} ({MIN_RELATIVE_SE:g} x the statistic's scale {scale:.3g}); pass "
            "se_floor=<number> to raise them"
        )
    return se


def _floored(stats, name, key, model, values, se, used, se_floor):
    """``se`` with the ``se_floor`` policy applied (refusing NaN SEs of fitted values)."""
    bad_nan = used & np.isnan(se)
    if bad_nan.any():
        # adversary A10: statistics summarised without bootstrap (n_boot=0, --n-boot 0) have no SE at all
        n_boot = stats.attrs.get("n_boot")
        hint = ("; these statistics were summarised with n_boot=0 (no bootstrap, so no standard errors): "
                "summarise again with n_boot > 0 (the command line's --n-boot, default 200) to fit them"
                if n_boot is not None and str(n_boot) == "0" else "")
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has finite values with non-finite {key!r} at "
            f"sessions {sessions_where(stats, bad_nan)}; expected a standard error for every value fitted{hint}"
        )
    if isinstance(se_floor, Real) and not isinstance(se_floor, bool):
        if not se_floor > 0:
            raise FitError(f"fit: expected se_floor > 0, 'auto' or None, found {se_floor!r}")
        low = used & (se < se_floor)
        if low.any():
            warnings.warn(f"{key}: raised {int(low.sum())} standard errors below {se_floor} to it", FitWarning, stacklevel=5)
        return np.where(low, float(se_floor), se)
    nonpositive = used & (se <= 0)
    if not nonpositive.any():
        return se
    if se_floor is None:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has standard errors <= 0 at sessions "
            f"{sessions_where(stats, nonpositive)}; expected positive SEs (pass se_floor='auto' or a number to floor them)"
        )
    if se_floor != "auto":
        raise FitError(f"fit: expected se_floor 'auto', a positive number or None, found {se_floor!r}")
    positive = se[used & (se > 0)]
    if positive.size == 0:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has no positive standard error in any session; "
            f"expected bootstrap SEs{_exact_values_hint(stats, name, model, values, used)} (or pass "
            "se_floor=<number> to weight it anyway)"
        )
    floor = float(positive.min())
    warnings.warn(
        f"{key}: {int(nonpositive.sum())} standard errors <= 0 raised to the smallest positive one ({floor:.3g})",
        FitWarning,
        stacklevel=5,
    )
    return np.where(nonpositive, floor, se)


def sessions_where(stats, flags):
    ids = np.asarray(stats[SESSION].values) if SESSION in stats.coords else np.arange(flags.size)
    return [x.item() if hasattr(x, "item") else x for x in ids[flags]]


def training_times(stats, time, model) -> np.ndarray:
    n = stats.sizes[SESSION]
    if time is None:
        if TRAINING_TIME in stats.coords and stats[TRAINING_TIME].dims == (SESSION,):
            values = stats[TRAINING_TIME].values
            name = f"coord {TRAINING_TIME!r}"
        elif "session_index" in stats.coords:
            values = stats["session_index"].values
            name = "coord 'session_index'"
            _warn_uneven_days(stats, model)
        else:
            values = np.arange(n)
            name = "session order"
    elif isinstance(time, str):
        if time not in stats.coords:
            raise FitError(
                f"fit of model {model.name!r}: time={time!r} is not a coord of the statistics; found coords "
                f"{sorted(map(str, stats.coords))}"
            )
        values = stats[time].values
        name = f"coord {time!r}"
    else:
        values = time.values if isinstance(time, xr.DataArray) else time
        name = "time"
    kind = np.asarray(values).dtype
    if kind.kind in "mM":
        # a cast would give nanoseconds (since 1970 for dates): time_scale then fits to 0 with a zero-width interval
        raise FitError(f"fit of model {model.name!r}: expected numeric training times in {name}, found {kind} "
                       "(dates or durations); pass them in a unit of your choosing, e.g. days since the first "
                       "session: (t - t.min()) / np.timedelta64(1, 'D')")
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise FitError(f"fit of model {model.name!r}: expected numeric training times in {name}, found "
                       f"{np.asarray(values).dtype}") from None
    if values.shape != (n,):
        raise FitError(f"fit of model {model.name!r}: expected one training time per session ({n}) in {name}, "
                       f"found shape {values.shape}")
    if not np.isfinite(values).all():
        raise FitError(f"fit of model {model.name!r}: expected finite training times in {name}, found {values}")
    if np.ptp(values) <= 0:
        raise FitError(f"fit of model {model.name!r}: expected training times that differ across sessions in "
                       f"{name}, found {values}")
    return values


def _warn_uneven_days(stats, model) -> None:
    """One warning when the session order stands in for training time but the sessions' start times are
    spaced unevenly (adversary F26: days 0, 1, 2, 10 and 30 were fitted as 0..4 without a word). Whether the
    animal trained on the days between is the user's to say, through ``time=``."""
    if "session_start_time" not in stats.coords or stats.sizes[SESSION] < 3:
        return
    import pandas as pd

    try:
        starts = pd.to_datetime([str(t) for t in stats["session_start_time"].values], utc=True, format="mixed")
    except (TypeError, ValueError):
        return
    if starts.isna().any():
        return
    days = (starts - starts.min()).total_seconds().to_numpy() / 86400.0
    gaps = np.diff(np.sort(days))
    median = float(np.median(gaps))
    if median <= 0 or gaps.max() <= 2.0 * median:
        return
    shown_days = ", ".join(f"{d:.3g}" for d in days[:8]) + (" ..." if days.size > 8 else "")
    warnings.warn(f"fit of model {model.name!r}: training time is the session order (0..{days.size - 1}), while "
                  f"session_start_time spaces the sessions over days [{shown_days}]: pass time= (days, or "
                  "sessions or trials of training) if that is the training clock", FitWarning, stacklevel=4)


def _exact_values_hint(stats, name, model, values, used) -> str:
    """What to do with a statistic every fitted value of which is exact (SE 0): it is a fact of the design, not a
    measurement to weigh (reference_agreement is exactly +1 or -1 where the targets are equal or opposite on the
    shared conditions: a reversal or an unchanged task; adversary S5-8)."""
    exact = sorted({round(float(v), 6) for v in values[used]})
    others = [o for o in model.observables if o != name and o in stats.data_vars]
    hint = (f"; its values {exact[:6]} are exact (SE 0 in every session): facts of the design, not measurements. "
            f"Leave it out (observables={others!r})")
    switched = [v for v in exact if v != 1.0]  # +1 while the first task is trained; the new task's rho after
    if name == "reference_agreement" and "rho" in model.params and len(switched) <= 1:
        hint += f" and state what it says: fixed={{'rho': {switched[0] if switched else 1.0:g}}}"
    return hint


def check_fixed(fixed, model) -> dict:
    if fixed is None:
        return {}
    if not isinstance(fixed, dict):
        raise FitError(f"fit of model {model.name!r}: expected fixed as a dict name -> value, found "
                       f"{type(fixed).__name__}")
    allowed = [*model.params, TIME_SCALE, ONSET]
    unknown = [k for k in fixed if k not in allowed]
    if unknown:
        raise FitError(f"fit of model {model.name!r}: cannot fix unknown parameters {unknown}; parameters are "
                       f"{allowed}")
    out = {}
    bounds = {p.name: tuple(map(float, p.bounds)) for p in model.parameters}
    for k, v in fixed.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v):
            raise FitError(f"fit of model {model.name!r}: expected a finite number for fixed {k!r}, found {v!r}")
        out[k] = float(v)
        if k in bounds and not bounds[k][0] <= out[k] <= bounds[k][1]:
            raise FitError(f"fit of model {model.name!r}: expected fixed {k!r} within its bounds "
                           f"[{bounds[k][0]:g}, {bounds[k][1]:g}], found {out[k]:g}")
    if TIME_SCALE in out and out[TIME_SCALE] <= 0:
        raise FitError(f"fit of model {model.name!r}: expected time_scale > 0, found {out[TIME_SCALE]}")
    return out


def _not_from_summarize(observables) -> str:
    """Where the statistics :func:`neurolearn.summarize` does not compute come from (adversary A9: the capacity
    statistics, computed on request per session)."""
    from neurolearn.statistic_registry import STATISTICS

    if any(STATISTICS[name].family == "capacity" for name in observables if name in STATISTICS):
        return ("; summarize computes the capacity statistics only on request: neurolearn.summarize(tree, "
                "statistics=['manifold_capacity', 'manifold_radius', 'manifold_dimension'], ...)")
    return ""
