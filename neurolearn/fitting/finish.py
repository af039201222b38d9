"""From a fit's optimum to its :class:`~neurolearn.fitting.result.FitResult`: intervals, identifiability
flags, misfit, the message.

:func:`~neurolearn.fitting.least_squares.fit` searches (:mod:`~neurolearn.fitting.multistart`); this module
finishes: profile or bootstrap intervals (:mod:`~neurolearn.fitting.intervals`), moving the optimum where a
profile finds a lower chi-square, the Birge widening of a fit its own SEs contradict, the reasons a parameter is
not identifiable (:mod:`~neurolearn.fitting.reasons`), and the one warning a failed or hollow fit gives.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy.stats import chi2 as chi2_distribution

from neurolearn.fitting.covariance import interval_inflation, sandwich_ratios
from neurolearn.fitting.intervals import BetterMinimum, bootstrap_intervals, profile_intervals
from neurolearn.fitting.learner import weighting_label
from neurolearn.fitting.multistart import flat_in_time, local_fit, unit_covariance
from neurolearn.fitting.problem import ONSET, TIME_SCALE, FitWarning
from neurolearn.fitting.reasons import kept_moving, natural_bounds, not_converged, parameter_reasons, refit_failed
from neurolearn.fitting.reasons import non_finite as non_finite_text
from neurolearn.fitting.reasons import wider_than_range
from neurolearn.fitting.result import FitResult

__all__ = ["finish_fit", "longer_run", "POOR_FIT_DISPERSION", "POOR_FIT_PVALUE"]

# A profile that finds a lower minimum moves the optimum; give up moving after this many times.
_MAX_RECENTRES = 3
#: A fit this improbable under its own SEs is widened (and triggers the search's wider multi-start).
POOR_FIT_PVALUE = 1e-3
#: chi2 over its expectation above which a converged fit at a point flat in time, or with no identifiable
#: parameter, warns that it holds no estimates (the saturated faces of adversary S6-5 read 18-46)
POOR_FIT_DISPERSION = 4.0


def longer_run(problem, optimum, origin):
    """One longer run from a point whose run stopped at its evaluation limit, before declaring failure; its
    history says so (``origin``: where the point came from, for the message)."""
    budget = 500 * (problem.n_free + 1)
    retry = local_fit(problem, optimum.u, max_nfev=budget)
    if retry.success or retry.chi2 < optimum.chi2:
        retry.chi2_of_starts, retry.alternatives = optimum.chi2_of_starts, optimum.alternatives
        outcome = "converged" if retry.success else "stopped short again"
        retry.history = (*optimum.history, f"{outcome} in a longer run (up to {budget} evaluations) from {origin}, "
                         f"whose run had stopped at chi2 {optimum.chi2:.6g} ({optimum.solver_message})")
        return retry
    optimum.history = (*optimum.history, f"a longer run (up to {budget} evaluations) from {origin} "
                       f"found no lower chi-square ({retry.solver_message})")
    return optimum


def finish_fit(problem, optimum, interval="profile", level=0.95, n_boot=200, rng=None, label=None, options=None,
               learner_at=None, statistics_problem=None):
    """Intervals, identifiability flags and the :class:`FitResult` of an optimum of ``problem``; ``learner_at``:
    the parameters the model's learner covariance in ``problem`` was evaluated at (:mod:`.learner`), or None;
    ``statistics_problem``: the problem from the statistics alone (default ``problem``)."""
    notes = []
    n_profile = 0
    # why the fit reports no estimates, in one clause (None while it has a minimum to report)
    failure = None
    moves = []  # (parameter, chi2 the profile found, chi2 of the optimum it was below)
    # 1 unless the replicates declare the neurons they resample (covariance.declare_units): a covariance estimated
    # from them is worth fewer draws, and Percival et al.'s m1 widens the intervals to match
    inflation = interval_inflation(problem.covariance_draws, problem.n_free)
    for _ in range(_MAX_RECENTRES + 1):
        ratios, reference = _sandwich(problem, optimum)
        dispersion = _misfit_scale(problem, optimum, reference)
        misfit = dispersion if interval == "profile" else 1.0
        unit_se = np.sqrt(np.clip(np.diag(unit_covariance(optimum.jac)), 0.0, np.inf)) if problem.n_free else np.empty(0)
        unit_se = unit_se * np.sqrt(ratios)
        unit_ci = np.full((problem.n_free, 2), np.nan)
        open_ends = np.zeros((problem.n_free, 2), dtype=bool)
        limited_by = [set() for _ in range(problem.n_free)]
        n_failed = 0
        if not optimum.success or interval is None or problem.n_free == 0:
            break
        try:
            if interval == "profile":
                unit_ci, open_ends, limited_by, n_profile = profile_intervals(problem, optimum.u, optimum.chi2, unit_se, level,
                                                                            jac=optimum.jac,
                                                                            alternatives=optimum.alternatives,
                                                                            scale=misfit * inflation * ratios)
            else:
                prediction = problem.predict_array(problem.values(optimum.u))
                unit_ci, open_ends, samples, n_failed = bootstrap_intervals(problem, optimum.u, prediction, level,
                                                                             n_boot, rng)
                if n_failed:
                    notes.append(f"{n_failed} of {n_boot} bootstrap refits did not converge (excluded)")
            break
        except BetterMinimum as better:
            name = problem.free[better.parameter].name if better.parameter is not None else "a parameter"
            found = problem.chi2(better.u) if better.chi2 is None else better.chi2
            moves.append((name, float(found), float(optimum.chi2)))
            moved = local_fit(problem, better.u)
            moved.chi2_of_starts = optimum.chi2_of_starts
            if not moved.success:
                moved = longer_run(problem, moved, "the profile's point")
            # the head says how the starts' optimum was found; how the refit went belongs to this move's note
            how, moved.history = moved.history, optimum.history
            if not moved.success:
                failure, optimum = refit_failed(name, found, optimum.chi2, moved), moved
                break
            notes.append(f"the profile of {name} found a lower chi-square ({found:.6g} < {optimum.chi2:.6g}); the "
                         f"optimum was moved there (chi2 {moved.chi2:.6g}{', ' + how[0] if how else ''})")
            optimum = moved
    else:
        failure = kept_moving(moves)
        optimum.status = 0

    values = problem.values(optimum.u)
    non_finite = _non_finite_predictions(problem, values)
    if non_finite:
        # the optimiser "converged" onto the penalty for non-finite predictions: no usable minimum
        failure = non_finite_text(problem, values, non_finite)
        optimum.status = 0
    elif not optimum.success and failure is None:
        failure = not_converged(optimum)
    success = bool(optimum.success)
    free = problem.free
    params, ci, se, identifiable, censored = {}, {}, {}, {}, {}
    for j, p in enumerate(free):
        params[p.name] = values[p.name] if success else float("nan")
        if success and np.isfinite(unit_ci[j]).all():
            ci[p.name] = (float(p.from_unit(unit_ci[j, 0])), float(p.from_unit(unit_ci[j, 1])))
        else:
            ci[p.name] = (float("nan"), float("nan"))
        se[p.name] = (float(abs(p.unit_derivative(optimum.u[j])) * unit_se[j] * np.sqrt(inflation)) if success
                      else float("nan"))
        no_interval = ""
        if success and interval is not None and not np.isfinite(unit_ci[j]).all():
            no_interval = (f"no interval: fewer than 2 of {n_boot} bootstrap refits converged" if interval == "bootstrap"
                           else "no interval could be computed")
        wald = ("not constrained by the data (singular Jacobian)" if not np.isfinite(se[p.name]) else
                wider_than_range(p, se[p.name], unit_se[j] * np.sqrt(inflation)) if success else "")
        reasons, one_sided, ends = parameter_reasons(p, open_ends[j], natural_bounds(problem, p),
                                                     [free[i].name for i in limited_by[j]], no_interval, wald)
        if not p.identifiable:
            reasons.insert(0, "declared non-identifiable by the model")
        # an end at a search bound that is not a natural limit: the interval of the estimand runs past the box
        censored[p.name] = tuple(bool(success and e) for e in ends)
        identifiable[p.name] = success and not reasons
        if reasons and success:
            notes.append(f"{p.name}: not identifiable ({'; '.join(reasons)})")
        if one_sided and success:
            # an open end at a limit no value can pass (a fraction correct at 1) is a one-sided interval, not a
            # sign the data leave the parameter free (Parameter.natural)
            notes.append(f"{p.name}: interval one-sided at its natural {' and '.join(one_sided)}")
    for name, value in problem.fixed.items():
        params[name] = value
    params = {name: params[name] for name in _parameter_order(problem)}

    if success:
        prediction = problem.predict_array(values)
        chi2 = float(optimum.chi2)
    else:
        prediction = np.full(problem.data.shape, np.nan)
        chi2 = float("nan")
        notes = [failure]
    k, n = problem.n_free, problem.n_obs
    minus_two_log_l = chi2 + problem.log_likelihood_constant()
    dof = n - k
    pvalue = _chi2_pvalue(chi2, dof, reference) if success else float("nan")
    if success:
        agree = sum(abs(c - optimum.chi2) <= 1e-3 * max(1.0, optimum.chi2) for c in optimum.chi2_of_starts)
        # starts that agree on a face where the time mapping does nothing (every session past the model's
        # transition) found no minimum, only a place none of them could leave (adversary S6-5)
        flat = flat_in_time(problem, optimum.jac)
        where = "stopped at the best point, which is flat in time" if flat else "reached the best minimum"
        head = f"converged ({optimum.solver_message}); {agree} of {len(optimum.chi2_of_starts) or 1} starts {where}"
        for step in optimum.history:
            head += f"; {step}"
        if interval == "profile":
            head += f"; {n_profile} profile re-optimisations"
        notes.insert(0, head)
        if problem.missing_observables:
            notes.append(f"model statistics absent from the data, not fitted: {list(problem.missing_observables)}")
        notes.extend(problem.notes)
        if dispersion > 1.0:
            widened = (f"so profile intervals are widened by sqrt(chi2/dof) = {np.sqrt(misfit):.3g}" if misfit > 1.0
                       else "intervals are not widened (interval != 'profile')")
            against = (f"{dof} degrees of freedom" if reference is None else
                       f"its sandwich reference {reference[1]:.3g} x chi2({reference[2]:.3g}), mean {reference[0]:.4g}")
            notes.append(f"model misfit: chi2 = {chi2:.4g} on {against} (p = "
                         f"{pvalue:.2g}); the statistics scatter around the model more than "
                         f"their SEs allow, {widened}; compare() ranks by quasi-AIC with this dispersion "
                         f"c = {'chi2/dof = ' if reference is None else 'chi2 / its mean = '}{dispersion:.3g}")
        if inflation > 1.0:
            notes.append(f"intervals widened by sqrt(m1) = {np.sqrt(inflation):.3g}: the covariance is estimated from "
                         f"the recorded neurons (worth {min(n for n, _ in problem.covariance_draws):.0f} draws; "
                         "Percival et al. 2014)")
    else:
        notes.extend(problem.notes)
    if not success:
        warnings.warn(f"fit of model {problem.model.name!r}: {notes[0]}", FitWarning, stacklevel=3)
    elif dispersion > POOR_FIT_DISPERSION and (flat or (identifiable and not any(identifiable.values()))):
        warnings.warn(f"fit of model {problem.model.name!r}: chi2 = {chi2:.4g} on {dof} degrees of freedom at a "
                      f"point {'flat in time' if flat else 'where no parameter is identifiable'}: a local minimum "
                      "or a wrong model, not estimates (interval='profile' searches across basins)", FitWarning,
                      stacklevel=3)
    result = FitResult(
        model=problem.model,
        label=label or _default_label(problem),
        params=params,
        ci=ci,
        open_ends=censored,
        se=se,
        identifiable=identifiable,
        predicted=_session_dataset(problem, prediction, values if success else None),
        residuals=_session_dataset(problem, np.where(problem.mask, (problem.data - prediction) / problem.se, np.nan),
                                   values if success else None),
        chi2=chi2,
        log_likelihood=-0.5 * minus_two_log_l,
        aic=minus_two_log_l + 2 * k,
        bic=minus_two_log_l + k * np.log(n),
        n_obs=n,
        n_params=k,
        chi2_pvalue=float(pvalue),
        success=success,
        message="; ".join(notes),
        observables=problem.observables,
        missing_observables=problem.missing_observables,
        fixed=dict(problem.fixed),
        interval=interval,
        level=level,
        dispersion=float(dispersion) if success else float("nan"),
        weighting=weighting_label(problem, learner_at),
        learner_covariance=learner_at,
        best_point=None if success else _best_point(problem, values),
        _problem=problem,
        _statistics_problem=problem if statistics_problem is None else statistics_problem,
        _unit=np.array(optimum.u, dtype=float),
        _options=dict(options or {}),
    )
    return result


def _misfit_scale(problem, optimum, reference=None) -> float:
    """chi2/dof where the fit is improbable under its own SEs (p < POOR_FIT_PVALUE), else 1.

    Intervals computed with SEs the residuals contradict are too narrow (a zero-width interval at chi2/dof of
    hundreds); inflating the SEs by the Birge ratio sqrt(chi2/dof) is the standard remedy for overdispersion.
    It does not make a wrong model right: the message says the model misfits. With a sandwich ``reference``
    ``(expected, a, b)`` (weights="independent") chi2 is referred to ``a chi2_b`` and the ratio is chi2 over its
    expectation.
    """
    dof = problem.n_obs - problem.n_free
    if not (optimum.success and np.isfinite(optimum.chi2) and dof > 0):
        return 1.0
    if _chi2_pvalue(optimum.chi2, dof, reference) >= POOR_FIT_PVALUE:
        return 1.0
    expected = dof if reference is None else reference[0]
    return max(1.0, float(optimum.chi2) / expected)


def _chi2_pvalue(chi2, dof, reference=None) -> float:
    """Upper tail of ``chi2``: chi-square on ``dof``, or Satterthwaite's ``a chi2_b`` for a sandwich reference."""
    if reference is None:
        return float(chi2_distribution.sf(chi2, dof))
    _, a, b = reference
    return float(chi2_distribution.sf(chi2 / a, b))


def _sandwich(problem, optimum):
    """Per-parameter variance ratios and chi2's reference of a working-independence fit; (1, None) otherwise."""
    ones = np.ones(problem.n_free)
    covariance = problem.standardised_sandwich()
    if covariance is None or optimum.jac is None or not problem.n_free or not np.isfinite(optimum.jac).all():
        return ones, None
    residuals = problem.residuals(optimum.u)
    return sandwich_ratios(optimum.jac, covariance, residuals=residuals)


def _non_finite_predictions(problem, values) -> int:
    """How many fitted values the model predicts as non-finite at ``values`` (all of them if it raises)."""
    try:
        with np.errstate(all="ignore"):
            prediction = problem.predict_array(values)
    except (FloatingPointError, ValueError, ZeroDivisionError, OverflowError):
        return problem.n_obs
    return int((~np.isfinite(prediction[problem.mask])).sum())


def _parameter_order(problem):
    names = [p.name for p in problem.model.parameters]
    return [*names, TIME_SCALE, ONSET]


def _default_label(problem):
    model_fixed = {k: v for k, v in problem.fixed.items() if k in problem.model.params}
    if not model_fixed:
        return problem.model.name
    return f"{problem.model.name} ({', '.join(f'{k}={v:g}' for k, v in model_fixed.items())})"


def _best_point(problem, values):
    """Free parameter -> its value at the lowest chi-square a fit that did not converge reached (None where
    that point has a non-finite value)."""
    point = {p.name: float(values[p.name]) for p in problem.free}
    return point if all(np.isfinite(v) for v in point.values()) else None


def _session_dataset(problem, array, values):
    from neurolearn.data import SESSION

    coords = {name: (SESSION, v) for name, v in problem.session_coords.items()}
    tau = problem.training_time(values) if values is not None else np.full(problem.session_time.shape, np.nan)
    coords["training_time"] = (SESSION, tau)
    data_vars = {name: (SESSION, array[i]) for i, name in enumerate(problem.observables)}
    return xr.Dataset(data_vars, coords=coords, attrs={"model": problem.model.name})
