"""Which statistics and arguments :func:`~neurolearn.fitting.problem.build_problem` can use.

A statistic needs at least :data:`MIN_VALUES_PER_STATISTIC` fittable values (finite, with a finite standard
error) to enter a fit; one with fewer (finite only in a reference session, every later session flagged) is left
out with one :class:`~neurolearn.fitting.validation.FitWarning` naming it, its sessions and summarize's reasons,
and the fit runs on the others. Arguments read only in some branches (``se_floor``) are checked up front, so
that a bad one is refused whatever the statistics hold.

A value can be finite and still not be what the models predict: summarize keeps it with a flag saying it
measures another quantity (``manifold_capacity`` of fewer trials per condition than 10x the clouds' dimension
is the capacity of that many points, above the full manifolds' capacity the ``capacity`` model predicts).
The registry declares such flags per statistic (:func:`not_predicted`); :func:`drop_not_predicted` leaves those
values out of every fit, with one warning naming the statistic, its sessions and the flag.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np

from neurolearn.data import SESSION, se_name
from neurolearn.errors import FitError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.fitting.validation import (
    SHARED_OBSERVABLE,
    FitWarning,
    flag_reasons,
    numeric_values,
    sessions_where,
)

__all__ = ["MIN_VALUES_PER_STATISTIC", "check_arguments", "drop_sparse", "drop_not_predicted", "not_predicted"]

#: A statistic with fewer fittable values (finite, with a finite SE) than this is left out of a fit, with a
#: warning: one value cannot show change across sessions, and a statistic defined relative to a reference session
#: is often finite only there (kernel_change = 0 with SE 0 by definition).
MIN_VALUES_PER_STATISTIC = 2


def not_predicted(name: str) -> tuple:
    """Texts whose presence in ``<name>_flag`` marks a kept value as another estimand than the models predict.

    Read from the registry entry's ``not_predicted``;
    ``name`` may carry an area suffix (``manifold_capacity[V1]``, :mod:`neurolearn.fitting.areas`).

    Examples
    --------
    >>> not_predicted("manifold_capacity"), not_predicted("task_alignment")
    (('the capacity of that many points per condition',), ())
    """
    base = name.split("[", 1)[0]
    entry = STATISTICS.get(base)
    return tuple(entry.not_predicted) if entry is not None else ()


def drop_not_predicted(stats, model, chosen, data):
    """NaN where a statistic's flag declares its value another estimand than the model predicts (warning once).

    Returns ``data`` (a copy, those values NaN) and the notes for the result: per statistic, the sessions left
    out and the first such flag.

    Examples
    --------
    >>> import warnings, xarray as xr
    >>> stats = xr.Dataset({"manifold_capacity_flag": ("session", ["", "6 trials ...: the capacity of that many "
    ...                                                            "points per condition, ... (value kept)"])},
    ...                    coords={"session": ["a", "b"]})
    >>> class M: name = "capacity"
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     out, notes = drop_not_predicted(stats, M, ["manifold_capacity"], np.array([[0.3, 0.5]]))
    >>> out.tolist(), notes[0][:55]
    ([[0.3, nan]], "not fitted, not the model's estimand: manifold_capacity")
    """
    data = np.array(data, dtype=float, copy=True)
    found = []
    for i, name in enumerate(chosen):
        markers = not_predicted(name)
        flag = stats.get(f"{name}_flag")
        if not markers or flag is None or flag.dims != (SESSION,):
            continue
        texts = np.asarray(flag.values).astype(str)
        marked = np.array([any(m in text for m in markers) for text in texts]) & np.isfinite(data[i])
        if not marked.any():
            continue
        data[i, marked] = np.nan
        found.append(f"{name} in sessions {sessions_where(stats, marked)} (flagged: {str(texts[marked][0])!r})")
    if not found:
        return data, []
    warnings.warn(f"fit of model {model.name!r}: values flagged as measuring another quantity than the model "
                  f"predicts left out of the fit: {'; '.join(found)}", FitWarning, stacklevel=4)
    return data, [f"not fitted, not the model's estimand: {text}" for text in found]


def drop_sparse(stats, model, chosen, data, default):
    """Leave out statistics with fewer than :data:`MIN_VALUES_PER_STATISTIC` fittable values, warning once.

    A value is fittable when it is finite and its standard error is not infinite (a NaN standard error of a
    finite value is refused later by :func:`~neurolearn.fitting.validation.standard_errors`). Returns the
    statistics kept, their rows of ``data`` and name -> description of each one left out; raises
    :class:`FitError` when none is kept, or when a default fit keeps only the shared ``behavior``.
    """
    dropped = {}
    for name, row in zip(chosen, data):
        key = se_name(name)
        if key not in stats.data_vars:
            continue  # refused with its own message by standard_errors
        se = numeric_values(stats, key, model)
        finite = np.isfinite(row)
        if int((finite & ~np.isposinf(se)).sum()) >= MIN_VALUES_PER_STATISTIC:
            continue
        where = sessions_where(stats, finite)
        text = f"{name!r} (finite in {len(where)} of {row.size} sessions"
        if where:
            errors = ", ".join(f"{v:.3g}" for v in se[finite])
            text += f", {where}, with standard error{'s' if len(where) > 1 else ''} {errors}"
        if not finite.all():
            text += f"; NaN in {sessions_where(stats, ~finite)}{flag_reasons(stats, [name], [row])}"
        dropped[name] = text + ")"
    if not dropped:
        return chosen, data, dropped
    found = "; ".join(dropped.values())
    kept = [i for i, name in enumerate(chosen) if name not in dropped]
    if not kept:
        raise FitError(f"fit of model {model.name!r}: expected at least {MIN_VALUES_PER_STATISTIC} fittable values "
                       f"(finite, with a finite standard error) of some statistic, found {found}")
    own = [o for o in model.observables if o != SHARED_OBSERVABLE]
    if default and own and all(chosen[i] == SHARED_OBSERVABLE for i in kept):
        raise FitError(f"fit of model {model.name!r}: statistics with too few fittable values left only "
                       f"{SHARED_OBSERVABLE!r}, which every model predicts; expected at least "
                       f"{MIN_VALUES_PER_STATISTIC} fittable values of some of {own}, found {found}; pass "
                       f"observables=[{SHARED_OBSERVABLE!r}] to fit behaviour alone")
    warnings.warn(f"fit of model {model.name!r}: statistics with fewer than {MIN_VALUES_PER_STATISTIC} fittable "
                  f"values (finite, with a finite standard error) left out of the fit: {found}", FitWarning,
                  stacklevel=4)
    return [chosen[i] for i in kept], data[kept], dropped


def check_arguments(model, observables, se_floor) -> None:
    """Refuse ``observables`` and ``se_floor`` of the wrong kind before anything reads them.

    ``se_floor`` is read only where a standard error needs flooring, so a bad value would otherwise pass
    silently on most statistics and fail on others.
    """
    if observables is not None and not isinstance(observables, str):
        try:
            iter(observables)
        except TypeError:
            raise FitError(f"fit of model {model.name!r}: expected observables a statistic name or a sequence of "
                           f"them, found {observables!r}") from None
    number = isinstance(se_floor, Real) and not isinstance(se_floor, bool)
    if not (se_floor is None or (isinstance(se_floor, str) and se_floor == "auto")
            or (number and np.isfinite(se_floor) and se_floor > 0)):
        raise FitError(f"fit of model {model.name!r}: expected se_floor 'auto', a positive number or None, found "
                       f"{se_floor!r}")
