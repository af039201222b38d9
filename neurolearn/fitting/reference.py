"""Statistics measured from a reference session, and that session's place in a fit.

``kernel_change`` (and ``reference_agreement``) are measured from the first session
:func:`~neurolearn.summarize` saw -- named in ``stats.attrs["reference_session"]`` -- not from the start of
training. Two things follow for a fit:

* the reference session's own value (``kernel_change = 0``, ``reference_agreement = 1``, with SE 0) is the
  definition, not a measurement: it is left out of the fitted values (and so out of the degrees of freedom,
  instead of entering with its zero SE floored to the smallest positive one);
* the model must predict the same estimand: a model declares such observables in
  :attr:`neurolearn.theory.Model.referenced` and the fitter evaluates them from the model's state at the
  reference session's model time (``function(..., reference_time=tau_r)``). Before this, a recording that
  began after training had started (``tau_r > 0``) was compared with the change from the start of training,
  and the definitional zero, floored, pinned the model's change at the first session to 0: a rich network
  (gamma0 = 4) whose recordings began at training time 0.6 was fitted gamma0 = 0.21 [0.001, 0.29] in 3 of 3
  seeds.

A referenced statistic whose reference session is not among the fitted sessions (statistics subset after
summarize) cannot be placed in model time; it is left out of the fit with a warning.
"""

from __future__ import annotations

import numpy as np

from neurolearn.data import se_name

__all__ = ["REFERENCE_ATTR", "reference_session", "without_reference_values"]

#: ``stats.attrs`` key: the session referenced statistics are measured from (summarize's first session)
REFERENCE_ATTR = "reference_session"


def reference_session(stats, model, chosen) -> tuple[int | None, str | None]:
    """Position of the reference session among ``stats``' sessions, and its name.

    ``(None, None)`` when no statistic in ``chosen`` is one of the model's :attr:`~neurolearn.theory.Model.referenced`
    observables; ``(None, name)`` when the reference named in ``stats.attrs`` is not among the sessions.
    Statistics without the attribute (built by hand) take their first session as the reference.

    Examples
    --------
    >>> import xarray as xr
    >>> from neurolearn.theory import MODELS
    >>> stats = xr.Dataset(coords={"session": ["d1", "d2", "d3"]}, attrs={"reference_session": "d1"})
    >>> reference_session(stats, MODELS["lazy-rich"], ["kernel_change", "behavior"])
    (0, 'd1')
    >>> reference_session(stats, MODELS["lazy-rich"], ["behavior"])
    (None, None)
    """
    if not set(chosen) & set(getattr(model, "referenced", ())):
        return None, None
    sessions = [str(s) for s in np.asarray(stats["session"].values)] if "session" in stats.coords else []
    name = stats.attrs.get(REFERENCE_ATTR)
    if name is None:
        return (0, sessions[0]) if sessions else (None, None)
    name = str(name)
    return (sessions.index(name), name) if name in sessions else (None, name)


def without_reference_values(stats, model, chosen, index, name):
    """``stats`` with the referenced statistics' definitional values at the reference session removed.

    At the reference session (position ``index``) each referenced statistic in ``chosen`` becomes NaN with SE
    NaN and the reason in its ``_flag`` variable (made where there is none). Where the reference session is
    absent (``index`` None, ``name`` given), every value of them becomes NaN with that reason; the fit then
    leaves them out as statistics with too few values, its one warning naming the reason.
    """
    referenced = [n for n in chosen if n in getattr(model, "referenced", ()) and n in stats.data_vars]
    if not referenced or name is None:
        return stats
    stats = stats.copy()
    if index is None:
        reason = (f"its reference session {name!r} (summarize's first session) is not among the fitted sessions, so "
                  "the model time it is measured from is unknown; fit statistics that include it")
        where = np.ones(stats.sizes["session"], dtype=bool)
    else:
        reason = "the reference session: its value is the definition (change from itself), not a measurement"
        where = np.arange(stats.sizes["session"]) == index
    for statistic in referenced:
        for key in (statistic, se_name(statistic)):
            if key in stats.data_vars:
                stats[key] = stats[key].where(~_along_session(stats[key], where))
        flag = f"{statistic}_flag"
        if flag not in stats.data_vars:
            stats[flag] = ("session", np.full(stats.sizes["session"], "", dtype=object))
        if stats[flag].dims == ("session",):
            values = np.asarray(stats[flag].values, dtype=object).copy()
            values[where & (values == "")] = reason
            stats[flag] = ("session", values.astype(str))
    return stats


def _along_session(da, where):
    import xarray as xr

    return xr.DataArray(where, dims=["session"]).broadcast_like(da) if "session" in da.dims else \
        xr.zeros_like(da, dtype=bool)
