"""The fitting problem: a theory model joined to per-session statistics, as standardised residuals.

A :class:`FitProblem` is everything :func:`neurolearn.fit` needs and nothing it computes: which statistics are
matched (the intersection of what the model predicts and what the statistics hold), their values and standard
errors as arrays, how sessions map to training time, which parameters are free and their search box.

Weighted least squares with known standard errors
--------------------------------------------------
Each statistic value is treated as Gaussian around the model's prediction with its bootstrap standard error as
the (known) standard deviation, independently across sessions and statistics. The residual of one value is
``(value - prediction) / se`` and ``chi2`` is the sum of squared residuals, so that

    -2 log L = chi2 + sum(log(2 pi se^2)).

The constant does not depend on the parameters; it makes AIC/BIC of fits to the *same* statistics comparable.

Training time
-------------
Session ``s`` (coord ``session_index``, or a user-given training amount per session via ``time=``) maps to
model time by ``tau = time_scale * max(s - onset, 0)``: sessions before the onset sit at ``tau = 0`` (no
training yet). ``time_scale`` (> 0, searched on a log scale) and ``onset`` are fitted like any other parameter
unless fixed, e.g. ``fixed={"time_scale": 1.0, "onset": 0.0}`` to use the given times as model time.

Parameters are searched in a unit box: ``u = (theta - lower) / (upper - lower)``, or the same on
``log(theta)`` for parameters declared ``log_scale``, so one step size suits every parameter.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from numbers import Real

import numpy as np
import xarray as xr

from neurolearn.data import SESSION, se_name
from neurolearn.errors import FitError

__all__ = ["FitProblem", "FreeParameter", "FitWarning", "TIME_SCALE", "ONSET", "build_problem"]

TIME_SCALE = "time_scale"
ONSET = "onset"

# How far (as a factor) the time scale may stray from the model's declared time span per recorded span.
# A model that declares metadata["time_span"] is searched over 100x either way; one that does not, 10^4x.
_TIME_SCALE_RANGE_DECLARED = 1e2
_TIME_SCALE_RANGE_UNDECLARED = 1e4


class FitWarning(UserWarning):
    """Something about a fit the user should know (an SE floor applied, a fit that did not converge)."""


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


@dataclass(frozen=True)
class FitProblem:
    """A model joined to statistics: arrays, weights, time mapping and free parameters.

    Attributes
    ----------
    model : neurolearn.theory.Model
    observables : tuple of str
        Statistics matched (rows of ``data``).
    missing_observables : tuple of str
        Statistics the model predicts that the statistics lack (not fitted).
    session : ndarray
        Session ids (coord ``session`` of the statistics).
    session_time : ndarray
        Training amount per session before the time mapping (``session_index`` or ``time=``).
    data, se : ndarray, shape (n_observables, n_sessions)
        Values and standard errors (after any floor); NaN values are not fitted.
    mask : ndarray of bool
        Which values enter the fit.
    free : tuple of FreeParameter
    fixed : dict
        Fixed parameter values (model and time mapping).
    session_coords : dict
        The statistics' coords along ``session`` (name -> values), carried to predictions.
    """

    model: object
    observables: tuple
    missing_observables: tuple
    session: np.ndarray
    session_time: np.ndarray
    data: np.ndarray
    se: np.ndarray
    mask: np.ndarray
    free: tuple
    fixed: dict
    session_coords: dict

    @property
    def n_obs(self) -> int:
        """Number of values fitted."""
        return int(self.mask.sum())

    @property
    def n_free(self) -> int:
        return len(self.free)

    @property
    def free_names(self) -> tuple:
        return tuple(p.name for p in self.free)

    def unit_default(self) -> np.ndarray:
        """The default parameter values in the unit box (a start every multi-start includes)."""
        return np.array([float(p.to_unit(p.default)) for p in self.free])

    @cached_property
    def _box(self):
        """Vectorised unit-box map: log-lower, log-span, lower, span and log flags of the free parameters."""
        log = np.array([p.log_scale for p in self.free], dtype=bool)
        lower = np.array([p.lower for p in self.free], dtype=float)
        upper = np.array([p.upper for p in self.free], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_lower = np.where(log, np.log(np.where(log, lower, 1.0)), 0.0)
            log_span = np.where(log, np.log(np.where(log, upper, 1.0)) - log_lower, 0.0)
        return log, log_lower, log_span, lower, upper - lower

    @cached_property
    def _fitted(self):
        """Masked values and SEs as flat vectors (the residual's constant part)."""
        return self.data[self.mask], self.se[self.mask]

    def natural(self, u) -> np.ndarray:
        """Free parameter values (natural units) of unit-box point ``u``."""
        log, log_lower, log_span, lower, span = self._box
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return np.where(log, np.exp(log_lower + u * log_span), lower + u * span)

    def values(self, u) -> dict:
        """All parameter values (free from ``u``, then fixed) by name."""
        out = dict(zip(self.free_names, self.natural(u).tolist()))
        out.update(self.fixed)
        return out

    def training_time(self, values: dict, session_time=None) -> np.ndarray:
        """Model time of each session: ``time_scale * max(session_time - onset, 0)``."""
        s = self.session_time if session_time is None else np.asarray(session_time, dtype=float)
        return values[TIME_SCALE] * np.maximum(s - values[ONSET], 0.0)

    def predict_array(self, values: dict, session_time=None) -> np.ndarray:
        """Predictions, shape (n_observables, n_sessions), from the model's ``function`` directly.

        ``Model.function`` is called rather than ``Model.predict`` because the optimiser calls this thousands
        of times and does not need a Dataset each time.
        """
        tau = self.training_time(values, session_time)
        model_values = {k: v for k, v in values.items() if k not in (TIME_SCALE, ONSET)}
        out = self.model.function(tau, **model_values)
        rows = [np.asarray(out[name], dtype=float) for name in self.observables]
        return np.stack([row if row.shape == tau.shape else np.broadcast_to(row, tau.shape) for row in rows])

    def residuals(self, u) -> np.ndarray:
        """Standardised residuals ``(data - prediction) / se`` of the fitted values, as a flat vector.

        Non-finite predictions (a model evaluated outside its valid region) become a large finite residual so
        that the optimiser backs away instead of stopping.
        """
        try:
            pred = self.predict_array(self.values(u))
        except (FloatingPointError, ValueError, ZeroDivisionError, OverflowError):
            return np.full(self.n_obs, 1e6)
        data, se = self._fitted
        r = (data - pred[self.mask]) / se
        bad = ~np.isfinite(r)
        if bad.any():
            r[bad] = 1e6
        return r

    def chi2(self, u) -> float:
        r = self.residuals(u)
        return float(r @ r)

    def log_likelihood_constant(self) -> float:
        """``sum(log(2 pi se^2))`` over fitted values, so that ``-2 log L = chi2 + this``."""
        return float(np.sum(np.log(2.0 * np.pi * self.se[self.mask] ** 2)))

    def with_data(self, data) -> "FitProblem":
        """The same problem with other values (a parametric-bootstrap replicate)."""
        return replace(self, data=np.asarray(data, dtype=float))

    def with_mask(self, mask) -> "FitProblem":
        """The same problem fitting only the values where ``mask`` (held-out sessions for cross-validation)."""
        return replace(self, mask=self.mask & np.asarray(mask, dtype=bool))


def build_problem(stats, model, observables=None, fixed=None, time=None, se_floor="auto") -> FitProblem:
    """Join ``stats`` and ``model`` into a :class:`FitProblem`, refusing what cannot be fitted.

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics over dim ``session`` in the form of :mod:`neurolearn.data` (``name`` with ``name_se``).
    model : str or neurolearn.theory.Model
    observables : sequence of str, optional
        Restrict the fit to these statistics (each must be predicted by the model and present in ``stats``).
        Default: every statistic the model predicts that ``stats`` holds.
    fixed : dict, optional
        Parameter name -> value held fixed (model parameters, ``time_scale``, ``onset``).
    time : str or array_like, optional
        Training amount per session (a coord name of ``stats`` or an array over sessions) used instead of
        ``session_index`` before the ``time_scale``/``onset`` mapping.
    se_floor : "auto", float or None
        Standard errors <= 0 (e.g. a behaviour at 100% correct in every bootstrap resample) cannot weight a
        fit. ``"auto"`` raises them to the smallest positive SE of the same statistic (warning how many);
        a float raises every SE below it to it; None refuses them with :class:`FitError`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.theory import Model, Parameter
    >>> rise = Model("rise", "exponential approach", "1 - exp(-t/k)", "", (Parameter("k", 1.0, (0.1, 10.0), "rate"),),
    ...              ("behavior",), lambda t, k: {"behavior": 1 - np.exp(-t / k)})
    >>> stats = xr.Dataset({"behavior": ("session", [0.1, 0.5, 0.7, 0.8]), "behavior_se": ("session", [0.05] * 4)},
    ...                    coords={"session": ["a", "b", "c", "d"], "session_index": ("session", np.arange(4))})
    >>> problem = build_problem(stats, rise, fixed={"onset": 0.0})
    >>> problem.observables, problem.free_names, problem.n_obs
    (('behavior',), ('k', 'time_scale'), 4)
    """
    from neurolearn.theory import get_model

    model = get_model(model)
    if not isinstance(stats, xr.Dataset):
        raise FitError(f"fit of model {model.name!r}: expected statistics as an xarray.Dataset over dim "
                       f"'session', found {type(stats).__name__}")
    if SESSION not in stats.dims:
        raise FitError(f"fit of model {model.name!r}: expected statistics over dim 'session', found dims "
                       f"{tuple(stats.dims)}")
    n_sessions = stats.sizes[SESSION]
    chosen, missing = _choose_observables(stats, model, observables)
    session_time = _session_time(stats, time, model)
    fixed = _check_fixed(fixed, model)

    data = np.stack([np.asarray(stats[name].values, dtype=float) for name in chosen])
    se = np.stack([_standard_errors(stats, name, model, se_floor) for name in chosen])
    # an infinite SE (a bootstrap that found the statistic unbounded, e.g. a timescale near an eigenvalue of 1)
    # carries no information: that value is left out of the fit, and the user is told which
    uninformative = np.isfinite(data) & np.isposinf(se)
    if uninformative.any():
        left_out = {name: _where(stats, row) for name, row in zip(chosen, uninformative) if row.any()}
        warnings.warn(f"fit of model {model.name!r}: values with an infinite standard error left out: {left_out}",
                      FitWarning, stacklevel=3)
    mask = np.isfinite(data) & ~uninformative
    free = _free_parameters(model, fixed, session_time)
    n_obs = int(mask.sum())
    if n_obs <= len(free):
        raise FitError(
            f"fit of model {model.name!r}: expected more fitted values than free parameters, found {n_obs} values "
            f"({n_sessions} sessions x {list(chosen)}) for {len(free)} free parameters {[p.name for p in free]}; "
            "add sessions or statistics, or fix parameters"
        )
    session = np.asarray(stats[SESSION].values) if SESSION in stats.coords else np.arange(n_sessions)
    coords = {str(k): np.asarray(v.values) for k, v in stats.coords.items() if v.dims == (SESSION,)}
    coords.setdefault(SESSION, session)
    return FitProblem(model, tuple(chosen), tuple(missing), session, session_time, data, se, mask, tuple(free), fixed,
                      coords)


def _choose_observables(stats, model, observables):
    """The statistics to fit and the model observables the statistics lack."""
    # statistics proper: per-session variables that are not the SE/interval/chance companion of another one
    names = {str(v) for v in stats.data_vars}
    companions = {f"{n}{suffix}" for n in names for suffix in ("_se", "_ci", "_chance")}
    per_session = [str(v) for v, da in stats.data_vars.items() if da.dims == (SESSION,) and str(v) not in companions]
    if observables is None:
        chosen = [o for o in model.observables if o in per_session]
        if not chosen:
            raise FitError(
                f"fit of model {model.name!r}: statistics lack every statistic the model predicts; expected some "
                f"of {list(model.observables)}, found per-session statistics {sorted(per_session)}"
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


def _standard_errors(stats, name, model, se_floor):
    key = se_name(name)
    if key not in stats.data_vars:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has no standard error {key!r} to weight it by; "
            f"found variables {sorted(map(str, stats.data_vars))}"
        )
    values = np.asarray(stats[name].values, dtype=float)
    se = np.asarray(stats[key].values, dtype=float).copy()
    used = np.isfinite(values)
    bad_nan = used & np.isnan(se)
    if bad_nan.any():
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has finite values with non-finite {key!r} at "
            f"sessions {_where(stats, bad_nan)}; expected a standard error for every value fitted"
        )
    if isinstance(se_floor, Real) and not isinstance(se_floor, bool):
        if not se_floor > 0:
            raise FitError(f"fit: expected se_floor > 0, 'auto' or None, found {se_floor!r}")
        low = used & (se < se_floor)
        if low.any():
            warnings.warn(f"{key}: raised {int(low.sum())} standard errors below {se_floor} to it", FitWarning, stacklevel=4)
        return np.where(low, float(se_floor), se)
    nonpositive = used & (se <= 0)
    if not nonpositive.any():
        return se
    if se_floor is None:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has standard errors <= 0 at sessions "
            f"{_where(stats, nonpositive)}; expected positive SEs (pass se_floor='auto' or a number to floor them)"
        )
    if se_floor != "auto":
        raise FitError(f"fit: expected se_floor 'auto', a positive number or None, found {se_floor!r}")
    positive = se[used & (se > 0)]
    if positive.size == 0:
        raise FitError(
            f"fit of model {model.name!r}: statistic {name!r} has no positive standard error in any session; "
            "expected bootstrap SEs (pass se_floor=<number> to weight it anyway)"
        )
    floor = float(positive.min())
    warnings.warn(
        f"{key}: {int(nonpositive.sum())} standard errors <= 0 raised to the smallest positive one ({floor:.3g})",
        FitWarning,
        stacklevel=4,
    )
    return np.where(nonpositive, floor, se)


def _where(stats, flags):
    ids = np.asarray(stats[SESSION].values) if SESSION in stats.coords else np.arange(flags.size)
    return [x.item() if hasattr(x, "item") else x for x in ids[flags]]


def _session_time(stats, time, model) -> np.ndarray:
    n = stats.sizes[SESSION]
    if time is None:
        if "session_index" in stats.coords:
            values = stats["session_index"].values
        else:
            values = np.arange(n)
        name = "coord 'session_index'"
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


def _check_fixed(fixed, model) -> dict:
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
    for k, v in fixed.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v):
            raise FitError(f"fit of model {model.name!r}: expected a finite number for fixed {k!r}, found {v!r}")
        out[k] = float(v)
    if TIME_SCALE in out and out[TIME_SCALE] <= 0:
        raise FitError(f"fit of model {model.name!r}: expected time_scale > 0, found {out[TIME_SCALE]}")
    return out


def _free_parameters(model, fixed, session_time) -> list:
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
        declared = model.metadata.get("time_span")
        ratio = _TIME_SCALE_RANGE_DECLARED if declared else _TIME_SCALE_RANGE_UNDECLARED
        typical = float(declared or 1.0) / span
        free.append(FreeParameter(TIME_SCALE, typical / ratio, typical * ratio, typical, True, True,
                                  "model time per unit of session time"))
    if ONSET not in fixed:
        free.append(FreeParameter(ONSET, start - span, start + 0.5 * span, start, False, True,
                                  "session time at which training starts (tau = 0)"))
    return free
