"""``fit``: a theory model fitted to per-session statistics by weighted least squares.

The steps, each in its own module: :mod:`~neurolearn.fitting.problem` joins model and statistics (weights,
time mapping, search box); :mod:`~neurolearn.fitting.multistart` finds the minimum;
:mod:`~neurolearn.fitting.intervals` gives intervals and flags what the data cannot pin down;
:class:`~neurolearn.fitting.result.FitResult` holds the outcome.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import xarray as xr
from scipy.stats import chi2 as chi2_distribution

from neurolearn.errors import FitError
from neurolearn.fitting.areas import with_layers
from neurolearn.fitting.covariance import interval_inflation, sandwich_ratios
from neurolearn.fitting.intervals import BetterMinimum, bootstrap_intervals, profile_intervals
from neurolearn.fitting.learner import has_learner_covariance, learner_fit, weighting_label
from neurolearn.fitting.training_set import training_set_unchanged
from neurolearn.fitting.multistart import flat_in_time, local_fit, multistart, unit_covariance
from neurolearn.fitting.problem import ONSET, TIME_SCALE, FitWarning, build_problem
from neurolearn.fitting.reasons import kept_moving, natural_bounds, not_converged, parameter_reasons, refit_failed
from neurolearn.fitting.reasons import non_finite as non_finite_text
from neurolearn.fitting.reasons import wider_than_range
from neurolearn.fitting.result import FitResult

__all__ = ["fit", "INTERVALS"]

INTERVALS = ("profile", "bootstrap", None)
# A profile that finds a lower minimum moves the optimum; give up moving after this many times.
_MAX_RECENTRES = 3
# A fit this improbable under its own SEs triggers a wider multi-start search.
_POOR_FIT_PVALUE = 1e-3


#: chi2 over its expectation above which a converged fit at a point flat in time, or with no identifiable
#: parameter, warns that it holds no estimates (the saturated faces of adversary S6-5 read 18-46)
POOR_FIT_DISPERSION = 4.0

def fit(
    stats,
    model,
    observables=None,
    fixed=None,
    time=None,
    n_starts: int = 4,
    interval: str | None = "profile",
    level: float = 0.95,
    n_boot: int = 200,
    se_floor="auto",
    label: str | None = None,
    random_state=None,
    areas=None,
    weights: str = "joint",
    learner_covariance: bool = True,
) -> FitResult:
    """Fit a theory model to statistics across sessions (weighted least squares, bounded multi-start).

    Every statistic the model predicts that ``stats`` holds is fitted jointly, each value weighted by
    ``1 / se**2`` from its ``name_se`` variable (values are treated as Gaussian with known SE). Statistics
    with bootstrap replicates ``name_boot`` (dims ``(session, "bootstrap")``, attr ``resampling``) are instead
    weighted by their joint covariance across sessions and statistics (generalised least squares, correlations
    shrunk toward 0; see :mod:`neurolearn.fitting.covariance`): summarize resamples each neuron once for all
    sessions, so with the same neurons every session their errors are shared. NaN values (sessions
    summarize flagged) are left out, with their count in ``message``; a statistic with fewer than two fittable
    values (e.g. finite only in a reference session) is left out whole, with a :class:`FitWarning` and the
    reason in ``message``. Session ``s`` maps to model time
    ``tau = time_scale * max(s - onset, 0)`` with ``time_scale`` and ``onset`` fitted unless fixed (see
    :mod:`neurolearn.fitting.problem`).

    When chi-square is improbable under the statistics' own uncertainty (p < 1e-3) the model misfits: profile
    intervals are widened by the Birge ratio ``sqrt(c)``, ``c = chi2 / dof`` (``dispersion``), the message says
    so, and :func:`neurolearn.compare` ranks by quasi-AIC with the same kind of factor.

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics over dim ``session`` (as :func:`neurolearn.summarize` returns). Session time is the coord
        ``training_time`` on ``session`` if there is one (a declared training amount per session, e.g. trials
        or days of training), else ``session_index``, else 0, 1, ...
    model : str or neurolearn.theory.Model
        A name in :data:`neurolearn.theory.MODELS` or a model.
    observables : sequence of str, optional
        Fit only these statistics.
    fixed : dict, optional
        Parameter values to hold fixed, e.g. ``{"gamma0": 0.01}`` for a lazy hypothesis, or
        ``{"time_scale": 1.0, "onset": 0.0}`` to use session times as model time.
    time : str or array_like, optional
        Training amount per session (a coord name of ``stats`` or values) replacing ``training_time`` /
        ``session_index``.
    n_starts : int
        Local optimisations, started from the best distinct points of a Sobol screen of the search box.
    interval : {"profile", "bootstrap", None}
        Profile likelihood (default), parametric bootstrap (``n_boot`` refits), or none (fast; ``ci`` NaN, and
        ``identifiable`` then rests on the model's declarations and the Jacobian's rank only).
    level : float
        Coverage of the intervals.
    n_boot : int
        Bootstrap replicates for ``interval="bootstrap"``.
    se_floor : "auto", float or None
        How to treat standard errors <= 0 (see :func:`neurolearn.fitting.problem.build_problem`).
    label : str, optional
        Name in :func:`compare` tables; default the model name plus fixed model parameters.
    random_state : int or numpy.random.Generator, optional
        Seeds the Sobol screen and the bootstrap.
    areas : mapping, optional
        Area name -> layer of a per-layer model (``{"V1": 1, "LM": 2}``), for statistics with a dim ``area``
        (:func:`neurolearn.stats.areas.summarize_areas`): the areas are fitted jointly, each area's statistics
        matched to its layer's prediction, every parameter shared (:mod:`neurolearn.fitting.areas`). Not
        needed when the statistics already carry a ``layer`` coord on ``area``.
    weights : {"joint", "independent"}
        ``"joint"`` (default): generalised least squares with the replicates' joint covariance.
        ``"independent"``: each value weighted by ``1 / se**2`` alone (a working-independence fit), the joint
        covariance entering only the intervals (each parameter's profile threshold raised by its sandwich
        variance ratio, :func:`neurolearn.fitting.covariance.sandwich_ratios`) and the reference distribution
        of ``chi2`` (Satterthwaite's scaled chi-square, whose p-value is ``chi2_pvalue``; ``dispersion`` is then
        ``chi2`` over its expectation when that p < 1e-3). Its intervals do not depend on the inverse of a
        covariance estimated from the recorded neurons, whose noise makes GLS intervals too narrow when few
        neurons carry many correlated values (docs/theory.md §2.8); they are wider.
    learner_covariance : bool
        Where the model declares a learner covariance (:attr:`neurolearn.theory.Model.learner_covariance`, e.g.
        ``kernel-learning-curve``: one learner's curve scatters about the theory's mean, correlated across
        sessions, which no bootstrap of the recording sees), True (default) fits in stages: a pilot fit, the
        model's covariance at its parameters added to the statistics' (the SEs to ``sqrt(se**2 + diag)``), a
        refit, and once more at the refit's parameters (:mod:`neurolearn.fitting.learner`);
        ``FitResult.learner_covariance`` holds the parameters of the last evaluation and the message says so.
        A statistic whose summary stored its SE with the training stimuli held fixed (``generalization_error``'s
        coord ``generalization_error_fixed_se``) is weighted by that SE in this stage, so the training set is
        counted once (:mod:`neurolearn.fitting.training_set`). False: the statistics' covariance alone. No effect
        for a model that declares none. Such a model's time is the training set's size: where every fitted
        session holds the same number of training conditions (the summary's coord
        ``generalization_training_conditions``) and ``time`` is None, the fit warns that the session order
        stands in for the examples (:func:`neurolearn.fitting.training_set.training_set_unchanged`).

    Returns
    -------
    FitResult
        ``params``, ``ci``, ``se``, ``identifiable``, ``predicted``, ``residuals``, ``chi2``, ``aic``, ``bic``,
        ``dispersion``, ``weighting``, ``success``, ``message``, ``open_ends``, ``plot()``, ``to_dict()``. A fit with no
        minimum to report has ``success=False``, NaN estimates and a message (and a warning) whose first clause is
        its one cause: ``"did not converge (...)"`` (the optimiser stopped at its evaluation limit, also in one
        longer run; or the refit from a lower point a profile found did), ``"no stable minimum: ..."`` (profiles
        kept finding lower chi-squares) or ``"no usable minimum: ..."`` (the model's predictions are not finite
        at the best point). An interval open at a search bound makes its parameter not identifiable and is
        censored there (``open_ends``), unless the model declares that bound a natural limit
        (:attr:`neurolearn.theory.Parameter.natural`, e.g. a ceiling of 1): the message then notes the interval
        as one-sided there (open at both natural limits: the whole range, not identifiable).

    Raises
    ------
    FitError
        Statistics lack what the model predicts (the message lists what was found; a default fit must match
        some statistic besides ``behavior``), no sessions, non-numeric values, missing, non-positive (with
        ``se_floor=None``) or vanishingly small standard errors, unknown or non-numeric fixed parameters or
        fixed values outside their bounds, bad options (``n_starts``, ``interval``, ``level``, ``n_boot``,
        ``se_floor``, ``label``, ``random_state``, ``areas``, ``observables``, ``weights``, ``learner_covariance``
        of the wrong kind), a model's learner covariance that fails or has the wrong shape, or no
        more values than free parameters.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> from neurolearn.theory import Model, Parameter
    >>> rise = Model("rise", "exponential approach to 1", "b(t) = 1 - exp(-t / k)", "",
    ...              (Parameter("k", 2.0, (0.1, 20.0), "learning time constant (sessions)", log_scale=True),),
    ...              ("behavior",), lambda t, k: {"behavior": 1.0 - np.exp(-t / k)})
    >>> s = np.arange(12.0)
    >>> noise = 0.02 * np.random.default_rng(0).standard_normal(12)
    >>> stats = xr.Dataset({"behavior": ("session", 1 - np.exp(-s / 3.0) + noise),
    ...                     "behavior_se": ("session", np.full(12, 0.02))},
    ...                    coords={"session": [f"day{i}" for i in range(12)], "session_index": ("session", s)})
    >>> res = fit(stats, rise, fixed={"time_scale": 1.0, "onset": 0.0}, random_state=0)
    >>> res.success, abs(res.params["k"] - 3.0) < 0.3  # the true time constant is 3 sessions
    (True, True)
    >>> lo, hi = res.ci["k"]
    >>> bool(lo < 3.0 < hi), res.identifiable["k"]
    (True, True)
    >>> len(json.dumps(res.to_dict(), allow_nan=False)) > 0
    True
    """
    _check_options(n_starts, interval, level, n_boot)
    if not isinstance(learner_covariance, (bool, np.bool_)):
        raise FitError(f"fit: expected learner_covariance True or False, found {learner_covariance!r}")
    rng = _generator(random_state)
    if label is not None and not isinstance(label, str):
        raise FitError(f"fit: expected label a string or None, found {label!r}")
    if areas is not None:
        if not isinstance(areas, Mapping):
            raise FitError(f"fit: expected areas a mapping area name -> layer (e.g. {{'V1': 1, 'LM': 2}}), found "
                           f"{type(areas).__name__} {areas!r}")
        stats = with_layers(stats, dict(areas))
    problem = build_problem(stats, model, observables=observables, fixed=fixed, time=time, se_floor=se_floor,
                            weights=weights)
    if time is None and has_learner_covariance(problem.model):
        problem = training_set_unchanged(problem)
    optimum = _optimise(problem, n_starts, rng)
    learner_at, statistics_problem = None, problem
    if learner_covariance and has_learner_covariance(problem.model):
        # pilot fit -> the model's learner covariance at its parameters added -> refit (fitting.learner)
        problem, optimum, learner_at = learner_fit(problem, optimum,
                                                   lambda stage, u0: _optimise(stage, n_starts, rng, u0),
                                                   weights=weights)
    options = {"observables": problem.observables, "fixed": fixed, "time": time, "n_starts": n_starts,
               "se_floor": se_floor, "label": label, "weights": weights, "learner_covariance": learner_covariance}
    return finish_fit(problem, optimum, interval=interval, level=level, n_boot=n_boot, rng=rng, label=label,
                      options=options, learner_at=learner_at, statistics_problem=statistics_problem)


def _optimise(problem, n_starts, rng, u0=None):
    """The fit's search: a multi-start (wider where chi-square is improbable), one longer run if it failed, and
    a local run from ``u0`` (a previous stage's optimum) when given, keeping the lowest minimum."""
    optimum = multistart(problem, n_starts=n_starts, rng=rng)
    if u0 is not None:
        restart = local_fit(problem, u0)
        if restart.success and restart.chi2 < optimum.chi2:
            restart.chi2_of_starts = tuple(sorted((*optimum.chi2_of_starts, restart.chi2)))
            restart.alternatives = (*optimum.alternatives, (optimum.u, optimum.chi2))
            optimum = restart
    dof = problem.n_obs - problem.n_free
    if np.isfinite(optimum.chi2) and chi2_distribution.sf(optimum.chi2, dof) < _POOR_FIT_PVALUE:
        # A chi-square far beyond its degrees of freedom is either a wrong model or a local minimum; a wider
        # search costs little next to reporting a wrong basin.
        n_wider = 4 * n_starts
        wider = multistart(problem, n_starts=n_wider, rng=rng, n_screen=64 * max(problem.n_free, 1))
        if wider.chi2 < optimum.chi2 - 1e-6 * max(1.0, optimum.chi2):
            wider.history = (*optimum.history, f"found by a wider search ({n_wider} starts) after the first search's "
                             f"best {'minimum' if optimum.success else 'point'} had chi2 {optimum.chi2:.7g}")
            optimum = wider
    if not optimum.success:
        optimum = _longer_run(problem, optimum, "the best start")
    return optimum


def _longer_run(problem, optimum, origin):
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
                moved = _longer_run(problem, moved, "the profile's point")
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
    """chi2/dof where the fit is improbable under its own SEs (p < _POOR_FIT_PVALUE), else 1.

    Intervals computed with SEs the residuals contradict are too narrow (a zero-width interval at chi2/dof of
    hundreds); inflating the SEs by the Birge ratio sqrt(chi2/dof) is the standard remedy for overdispersion.
    It does not make a wrong model right: the message says the model misfits. With a sandwich ``reference``
    ``(expected, a, b)`` (weights="independent") chi2 is referred to ``a chi2_b`` and the ratio is chi2 over its
    expectation.
    """
    dof = problem.n_obs - problem.n_free
    if not (optimum.success and np.isfinite(optimum.chi2) and dof > 0):
        return 1.0
    if _chi2_pvalue(optimum.chi2, dof, reference) >= _POOR_FIT_PVALUE:
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


def _generator(random_state) -> np.random.Generator:
    """``numpy.random.default_rng(random_state)``, refusing what numpy would refuse with a typed error."""
    if not isinstance(random_state, bool):
        try:
            return np.random.default_rng(random_state)
        except (TypeError, ValueError):
            pass
    raise FitError(f"fit: expected random_state None, a non-negative integer or a numpy Generator, found "
                   f"{random_state!r}")


def _check_options(n_starts, interval, level, n_boot):
    if isinstance(n_starts, bool) or not isinstance(n_starts, Integral) or n_starts < 1:
        raise FitError(f"fit: expected n_starts a positive integer, found {n_starts!r}")
    if interval not in INTERVALS:
        raise FitError(f"fit: expected interval one of {list(INTERVALS)}, found {interval!r}")
    if not isinstance(level, float) or not 0.0 < level < 1.0:
        raise FitError(f"fit: expected level a float in (0, 1), found {level!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 2:
        raise FitError(f"fit: expected n_boot an integer >= 2, found {n_boot!r}")


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
