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

Generalised least squares with bootstrap replicates
---------------------------------------------------
When statistics carry bootstrap replicates ``name_boot`` (see :mod:`neurolearn.fitting.covariance`), the
values are Gaussian with a joint covariance ``C`` over sessions and statistics. With ``C = L L^T``
(Cholesky), the residual vector is ``L^-1 (value - prediction)`` (whitened), ``chi2`` its squared norm, and
``-2 log L = chi2 + n log(2 pi) + log det C``. Without replicates ``C`` is diagonal and this is the weighted
case above.

Training time
-------------
Session ``s`` (coord ``training_time`` if the statistics declare one on ``session``, else ``session_index``,
or a user-given training amount per session via ``time=``) maps to
model time by ``tau = time_scale * max(s - onset, 0)``: sessions before the onset sit at ``tau = 0`` (no
training yet). ``time_scale`` (> 0, searched on a log scale) and ``onset`` are fitted like any other parameter
unless fixed, e.g. ``fixed={"time_scale": 1.0, "onset": 0.0}`` to use the given times as model time.

Parameters are searched in a unit box (:mod:`neurolearn.fitting.search_box`): ``u = (theta - lower) / (upper -
lower)``, or the same on ``log(theta)`` for parameters declared ``log_scale``, so one step size suits every
parameter.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import xarray as xr
from scipy.linalg import cholesky, solve_triangular

from neurolearn.data import SESSION
from neurolearn.errors import FitError
from neurolearn.fitting.areas import AREA, flatten_areas
from neurolearn.fitting.covariance import observation_covariance
from neurolearn.fitting.estimands import check_measured_as
from neurolearn.fitting.fittable import (
    MIN_VALUES_PER_STATISTIC,
    check_arguments,
    drop_not_predicted,
    drop_sparse,
)
from neurolearn.fitting.reference import reference_session, without_reference_values
from neurolearn.fitting.search_box import FreeParameter, free_parameters
from neurolearn.fitting.validation import (
    ONSET,
    TIME_SCALE,
    FitWarning,
    check_fixed,
    choose_observables,
    flag_reasons,
    numeric_values,
    sessions_where,
    standard_errors,
    training_times,
)

__all__ = ["FitProblem", "FreeParameter", "FitWarning", "TIME_SCALE", "ONSET", "MIN_VALUES_PER_STATISTIC",
           "build_problem"]


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
    covariance : ndarray or None
        Joint covariance of the flattened (row-major) ``data`` from bootstrap replicates, or None (diagonal
        ``se**2``). Only the rows and columns of values in ``mask`` are used.
    notes : tuple of str
        What the join did that the result should say (values left out, how the values were weighted).
    covariance_draws : tuple of (float, int)
        Per correlated block whose replicates declare the neurons they resample
        (:func:`neurolearn.fitting.covariance.declare_units`): the Gaussian draws its covariance is worth and its
        number of values, for :func:`neurolearn.fitting.covariance.interval_inflation`; empty otherwise.
    dropped_observables : tuple of str
        Statistics the model predicts and the statistics hold, left out for having fewer than
        :data:`MIN_VALUES_PER_STATISTIC` fittable values (their reasons are in ``notes``).
    sandwich_covariance : ndarray or None
        With ``weights="independent"``: the estimated joint covariance of the flattened ``data`` (sample
        correlation of the replicates, not Hartlap-scaled) while the fit weights each value by ``1 / se**2``
        alone (``covariance`` None); for a model with ``covariance_shrinkage > 0``, the same while ``covariance``
        holds the shrunk working covariance that weights. Intervals then come from the sandwich
        (:func:`neurolearn.fitting.covariance.sandwich_ratios`). None otherwise.
    reference : int or None
        Position of the session the model's :attr:`~neurolearn.theory.Model.referenced` observables are measured
        from (:mod:`neurolearn.fitting.reference`): they are predicted from the model's state at its model time.
        None when no referenced observable is fitted.
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
    covariance: np.ndarray | None = None
    notes: tuple = ()
    covariance_draws: tuple = ()
    sandwich_covariance: np.ndarray | None = None
    dropped_observables: tuple = ()
    reference: int | None = None

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

    @cached_property
    def whitener(self):
        """Lower Cholesky factor of the covariance of the fitted values, or None (diagonal SEs)."""
        if self.covariance is None:
            return None
        index = np.flatnonzero(self.mask.ravel())
        try:
            return cholesky(self.covariance[np.ix_(index, index)], lower=True)
        except np.linalg.LinAlgError:
            raise FitError(f"fit of model {self.model.name!r}: the covariance of the statistics from their "
                           "bootstrap replicates is not positive definite") from None

    def whiten(self, difference) -> np.ndarray:
        """Standardised residuals of flat ``difference`` = value - prediction over the fitted values."""
        if self.whitener is None:
            return difference / self._fitted[1]
        return solve_triangular(self.whitener, difference, lower=True, check_finite=False)

    def noise(self, rng) -> np.ndarray:
        """One Gaussian draw of the statistics' errors (shape of ``data``; 0 outside ``mask``), from the joint
        covariance when there is one (also the sandwich's, with ``weights="independent"``)."""
        z = rng.standard_normal(self.n_obs)
        out = np.zeros(self.data.shape)
        if self.sandwich_covariance is not None:
            index = np.flatnonzero(self.mask.ravel())
            c = self.sandwich_covariance[np.ix_(index, index)]
            w, v = np.linalg.eigh(c)
            out[self.mask] = v @ (np.sqrt(np.clip(w, 0.0, None)) * z)
            return out
        out[self.mask] = z * self._fitted[1] if self.whitener is None else self.whitener @ z
        return out

    def standardised_sandwich(self) -> np.ndarray | None:
        """``sandwich_covariance`` of the fitted values as :meth:`residuals` standardises them, or None: over
        ``se se^T`` for SE weights, ``L^-1 S L^-T`` for the working covariance ``covariance = L L^T`` (a model's
        shrunk weights, :attr:`neurolearn.theory.Model.covariance_shrinkage`)."""
        if self.sandwich_covariance is None:
            return None
        index = np.flatnonzero(self.mask.ravel())
        c = self.sandwich_covariance[np.ix_(index, index)]
        if self.whitener is None:
            se = self._fitted[1]
            return c / np.outer(se, se)
        half = solve_triangular(self.whitener, c, lower=True, check_finite=False)
        return solve_triangular(self.whitener, half.T, lower=True, check_finite=False)

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

    def reference_time(self, values: dict) -> float:
        """Model time of the reference session (0 when no referenced observable is fitted)."""
        if self.reference is None:
            return 0.0
        return float(self.training_time(values, self.session_time[[self.reference]])[0])

    def predict_array(self, values: dict, session_time=None) -> np.ndarray:
        """Predictions, shape (n_observables, n_sessions), from the model's ``function`` directly.

        ``Model.function`` is called rather than ``Model.predict`` because the optimiser calls this thousands
        of times and does not need a Dataset each time.
        """
        tau = self.training_time(values, session_time)
        model_values = {k: v for k, v in values.items() if k not in (TIME_SCALE, ONSET)}
        if self.reference is not None:
            model_values["reference_time"] = self.reference_time(values)
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
        difference = data - pred[self.mask]
        bad = ~np.isfinite(difference)
        if bad.any():
            difference[bad] = 1e6 * se[bad]
        r = self.whiten(difference)
        bad = ~np.isfinite(r)
        if bad.any():
            r[bad] = 1e6
        return r

    def chi2(self, u) -> float:
        r = self.residuals(u)
        return float(r @ r)

    @property
    def has_jacobian(self) -> bool:
        """Whether the model supplies derivatives (:attr:`neurolearn.theory.Model.jacobian`)."""
        return getattr(self.model, "jacobian", None) is not None

    def jacobian(self, u) -> np.ndarray:
        """Jacobian of :meth:`residuals` in the unit box, shape ``(n_obs, n_free)``.

        From the model's derivatives (chained through the time mapping ``tau = time_scale * max(s - onset, 0)``
        and the unit box) where the model supplies them and they are finite at ``u``; otherwise forward
        differences with the step least squares uses (:data:`~neurolearn.fitting.multistart.DIFF_STEP`,
        backward at the upper edge), which is also what a point with non-finite predictions gets.
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        derivative = self._prediction_derivative(u) if self.has_jacobian else None
        if derivative is None:
            return self._difference_jacobian(u)
        if self.whitener is None:
            return -derivative / self._fitted[1][:, None]
        return -solve_triangular(self.whitener, derivative, lower=True, check_finite=False)

    def _prediction_derivative(self, u):
        """d(prediction)/du of the fitted values, ``(n_obs, n_free)``, or None where the model cannot give it."""
        values = self.values(u)
        if self.reference_time(values) > 0.0:
            return None  # the model's derivatives are of the change from the start of training
        tau = self.training_time(values)
        model_values = {k: v for k, v in values.items() if k not in (TIME_SCALE, ONSET)}
        try:
            with np.errstate(all="ignore"):
                out = self.model.jacobian(tau, **model_values)
        except (FloatingPointError, ValueError, ZeroDivisionError, OverflowError):
            return None
        if not all(name in out for name in self.observables):
            return None
        elapsed = self.session_time - values[ONSET]
        columns = []
        for j, p in enumerate(self.free):
            if p.name == TIME_SCALE:
                chain, key = np.maximum(elapsed, 0.0), "time"
            elif p.name == ONSET:
                chain, key = np.where(elapsed > 0, -values[TIME_SCALE], 0.0), "time"
            else:
                chain, key = 1.0, p.name
            scale = float(p.unit_derivative(u[j]))
            rows = []
            for name in self.observables:
                d = out[name].get(key)
                if d is None:
                    return None
                rows.append(np.broadcast_to(np.asarray(d, dtype=float), tau.shape) * (chain * scale))
            columns.append(np.stack(rows)[self.mask])
        derivative = np.column_stack(columns) if columns else np.empty((self.n_obs, 0))
        return derivative if np.isfinite(derivative).all() else None

    def _difference_jacobian(self, u):
        from neurolearn.fitting.multistart import DIFF_STEP

        r0 = self.residuals(u)
        out = np.empty((r0.size, self.n_free))
        for j in range(self.n_free):
            step = DIFF_STEP if u[j] + DIFF_STEP <= 1.0 else -DIFF_STEP
            shifted = u.copy()
            shifted[j] += step
            out[:, j] = (self.residuals(shifted) - r0) / (shifted[j] - u[j])
        return out

    def log_likelihood_constant(self) -> float:
        """``n log(2 pi) + log det C`` over fitted values (``sum log(2 pi se^2)`` when diagonal), so that
        ``-2 log L = chi2 + this``."""
        if self.whitener is None:
            return float(np.sum(np.log(2.0 * np.pi * self.se[self.mask] ** 2)))
        return float(self.n_obs * np.log(2.0 * np.pi) + 2.0 * np.sum(np.log(np.diag(self.whitener))))

    def with_data(self, data) -> "FitProblem":
        """The same problem with other values (a parametric-bootstrap replicate)."""
        return replace(self, data=np.asarray(data, dtype=float))

    def with_mask(self, mask) -> "FitProblem":
        """The same problem fitting only the values where ``mask`` (held-out sessions for cross-validation)."""
        return replace(self, mask=self.mask & np.asarray(mask, dtype=bool))


WEIGHTS = ("joint", "independent")


def build_problem(stats, model, observables=None, fixed=None, time=None, se_floor="auto",
                  weights="joint") -> FitProblem:
    """Join ``stats`` and ``model`` into a :class:`FitProblem`, refusing what cannot be fitted.

    A statistic with fewer than :data:`MIN_VALUES_PER_STATISTIC` fittable values (finite, with a finite
    standard error; e.g. one defined relative to a reference session and NaN elsewhere) is left out with one
    :class:`FitWarning` naming it, its sessions and summarize's reasons, and the fit runs on the others;
    :class:`FitError` if none remains (or, for a default fit, only ``behavior``).

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics over dim ``session`` in the form of :mod:`neurolearn.data` (``name`` with ``name_se``).
        With a dim ``area`` (and coord ``layer`` on it) and a model with per-layer observables, every area
        is fitted jointly (:func:`neurolearn.fitting.areas.flatten_areas`).
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
    weights : {"joint", "independent"}
        ``"joint"`` (default): values with bootstrap replicates are weighted by the inverse of their estimated
        joint covariance (generalised least squares); for a model that declares ``covariance_shrinkage > 0`` by
        the inverse of that covariance with its correlations shrunk toward 0, the unshrunk one kept as
        ``sandwich_covariance`` for the intervals and the goodness of fit. ``"independent"``: every value by
        ``1 / se**2`` alone, and the joint covariance (not Hartlap-scaled) is kept as ``sandwich_covariance``
        for the intervals and the goodness of fit (a working-independence fit with sandwich variance; see
        :func:`neurolearn.fitting.covariance.sandwich_ratios`).

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
    if AREA in stats.dims:
        # several recorded areas, each a layer of a per-layer model: one joint problem (fitting.areas)
        stats, model = flatten_areas(stats, model)
    elif model.per_layer:
        raise FitError(f"fit of model {model.name!r}: it predicts {list(model.per_layer)} per layer; expected "
                       f"statistics with dim {AREA!r} and a coord 'layer' on it (neurolearn.stats.areas."
                       f"summarize_areas(tree, layers=...)), found dims {tuple(stats.dims)}; one area alone: "
                       f"stats.expand_dims(area=['A']).assign_coords(layer=('area', [1]))")
    if SESSION not in stats.dims:
        raise FitError(f"fit of model {model.name!r}: expected statistics over dim 'session', found dims "
                       f"{tuple(stats.dims)}")
    n_sessions = stats.sizes[SESSION]
    if n_sessions == 0:
        raise FitError(f"fit of model {model.name!r}: expected statistics of at least one session, found 0 sessions")
    check_arguments(model, observables, se_floor)
    chosen, missing = choose_observables(stats, model, observables)
    check_measured_as(stats, model, chosen)
    session_time = training_times(stats, time, model)
    fixed = check_fixed(fixed, model)
    reference, reference_name = reference_session(stats, model, chosen)
    stats = without_reference_values(stats, model, chosen, reference, reference_name)

    data = np.stack([numeric_values(stats, name, model) for name in chosen])
    # a value flagged as another estimand (the registry's not_predicted: a manifold_capacity of too few trials
    # is the capacity of those points, not of the manifolds) is left out as a NaN value would be
    data, other_estimand = drop_not_predicted(stats, model, chosen, data)
    chosen, data, dropped = drop_sparse(stats, model, chosen, data, default=observables is None)
    se = np.stack([standard_errors(stats, name, model, se_floor) for name in chosen])
    notes = other_estimand + [f"not fitted, too few values: {description}" for description in dropped.values()]
    left_nan = {name: sessions_where(stats, ~np.isfinite(row)) for name, row in zip(chosen, data) if not np.isfinite(row).all()}
    if left_nan:
        count = sum(len(v) for v in left_nan.values())
        notes.append(f"{count} NaN statistic value(s) left out of the fit (sessions {left_nan}"
                     f"{flag_reasons(stats, chosen, data)})")
    # an infinite SE (a bootstrap that found the statistic unbounded, e.g. a timescale near an eigenvalue of 1)
    # carries no information: that value is left out of the fit, and the user is told which
    uninformative = np.isfinite(data) & np.isposinf(se)
    if uninformative.any():
        left_out = {name: sessions_where(stats, row) for name, row in zip(chosen, uninformative) if row.any()}
        warnings.warn(f"fit of model {model.name!r}: values with an infinite standard error left out: {left_out}",
                      FitWarning, stacklevel=3)
    mask = np.isfinite(data) & ~uninformative
    if weights not in WEIGHTS:
        raise FitError(f"fit of model {model.name!r}: expected weights one of {list(WEIGHTS)}, found {weights!r}")
    draws = []
    shrinkage = 1.0 if weights == "independent" else model.covariance_shrinkage
    if not shrinkage:
        sandwich = None
        covariance, weighting = observation_covariance(stats, chosen, data, se, mask, model.name, draws=draws)
    else:  # working weights (SEs alone, or the model's shrunk correlations): sandwich with the unshrunk covariance
        sandwich, weighting = observation_covariance(stats, chosen, data, se, mask, model.name, debias=False)
        covariance = None if shrinkage == 1.0 else observation_covariance(
            stats, chosen, data, se, mask, model.name, debias=False, shrinkage=shrinkage)[0]
        if sandwich is not None:
            weighting = [w.replace("weighted by their joint covariance", "correlated") for w in weighting]
            weighting.append(("every value weighted by 1 / se**2 alone" + (" (weights='independent')" if weights ==
                              "independent" else f" (model {model.name!r}'s covariance_shrinkage = 1)"))
                             if covariance is None else
                             (f"values weighted by their joint covariance with its correlations shrunk by lambda = "
                              f"{shrinkage:g} toward 0 (model {model.name!r}'s covariance_shrinkage)"))
            weighting[-1] += "; intervals and chi-square's reference from the sandwich with the joint covariance"
    notes.extend(weighting)
    free = free_parameters(model, fixed, session_time)
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
                      coords, covariance, tuple(notes), covariance_draws=tuple(draws), sandwich_covariance=sandwich,
                      dropped_observables=tuple(dropped),
                      reference=reference if any(n in model.referenced for n in chosen) else None)
