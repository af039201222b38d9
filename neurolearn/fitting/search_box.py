"""The search box of a fit: which parameters are free, their ranges, and the unit-box map the optimiser uses.

Parameters are searched in a unit box: ``u = (theta - lower) / (upper - lower)``, or the same on
``log(theta)`` for parameters declared ``log_scale``, so one step size suits every parameter. A model
parameter's range is its declared bounds; ``time_scale`` is searched on a log scale around the model's
``time_span`` per recorded span of session time (100x either way, 10^4x for a model that declares none), and
``onset`` from one span before the first session to half a span after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from neurolearn.fitting.validation import ONSET, TIME_SCALE

__all__ = ["FreeParameter", "free_parameters", "reopened"]


# How far (as a factor) the time scale may stray from the model's declared time span per recorded span.
# A model that declares its time_span is searched over 100x either way; one that does not, 10^4x.
_TIME_SCALE_RANGE_DECLARED = 1e2
_TIME_SCALE_RANGE_UNDECLARED = 1e4


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the fit searches, with its box and whether the model declares it identifiable."""

    name: str
    lower: float
    upper: float
    default: float
    log_scale: bool = False
    identifiable: bool = True
    meaning: str = ""

    def to_unit(self, value):
        """Map natural values to the unit box ``[0, 1]``."""
        value = np.asarray(value, dtype=float)
        if self.log_scale:
            return (np.log(value) - np.log(self.lower)) / (np.log(self.upper) - np.log(self.lower))
        return (value - self.lower) / (self.upper - self.lower)

    def from_unit(self, u):
        """Map unit-box values back to natural values."""
        u = np.asarray(u, dtype=float)
        if self.log_scale:
            return np.exp(np.log(self.lower) + u * (np.log(self.upper) - np.log(self.lower)))
        return self.lower + u * (self.upper - self.lower)

    def unit_derivative(self, u):
        """d(theta)/du, to carry standard errors from the unit box to natural units."""
        if self.log_scale:
            return self.from_unit(u) * (np.log(self.upper) - np.log(self.lower))
        return np.asarray(self.upper - self.lower, dtype=float)


def free_parameters(model, fixed, session_time) -> list:
    """The :class:`FreeParameter` of every parameter of ``model`` not in ``fixed``, then ``time_scale`` and
    ``onset`` unless fixed; a parameter with a zero-width box is moved into ``fixed`` (which is updated).

    Parameters
    ----------
    model : neurolearn.theory.Model
    fixed : dict
        Fixed values by name (changed in place for zero-width boxes).
    session_time : ndarray
        Training amount per session before the time mapping (sets the ``time_scale`` and ``onset`` boxes).
    """
    free = []
    for p in model.parameters:
        if p.name in fixed:
            continue
        lo, hi = map(float, p.bounds)
        if lo == hi:
            fixed[p.name] = lo  # a zero-width box is a fixed value
            continue
        free.append(FreeParameter(p.name, lo, hi, float(p.default), bool(p.log_scale), bool(p.identifiable),
                                  p.meaning))
    start, span = float(session_time.min()), float(np.ptp(session_time))
    if TIME_SCALE not in fixed:
        declared = model.time_span
        ratio = _TIME_SCALE_RANGE_DECLARED if declared else _TIME_SCALE_RANGE_UNDECLARED
        typical = float(declared or 1.0) / span
        free.append(FreeParameter(TIME_SCALE, typical / ratio, typical * ratio, typical, True, True,
                                  "model time per unit of session time"))
    if ONSET not in fixed:
        free.append(FreeParameter(ONSET, start - span, start + 0.5 * span, start, False, True,
                                  "session time at which training starts (tau = 0)"))
    return free


def reopened(p, lower=False, upper=False, widths=1.0) -> FreeParameter:
    """``p`` with its box reopened past its lower and/or upper edge by ``widths`` box widths, on its own scale.

    Used to ask whether a search bound (one that is not a natural limit of the model) cut a profile short: a
    nuisance that meets it at an interval end is let run on, and the end re-profiled.

    Examples
    --------
    >>> p = FreeParameter("k", 0.1, 10.0, 1.0, log_scale=True)
    >>> q = reopened(p, upper=True)
    >>> round(q.lower, 6), round(q.upper, 6)
    (0.1, 1000.0)
    >>> r = reopened(FreeParameter("a", 0.0, 2.0, 1.0), lower=True, widths=0.5)
    >>> r.lower, r.upper
    (-1.0, 2.0)
    """
    if p.log_scale:
        factor = (p.upper / p.lower) ** widths
        lo, hi = p.lower / factor if lower else p.lower, p.upper * factor if upper else p.upper
    else:
        width = widths * (p.upper - p.lower)
        lo, hi = p.lower - width if lower else p.lower, p.upper + width if upper else p.upper
    return replace(p, lower=float(lo), upper=float(hi))
