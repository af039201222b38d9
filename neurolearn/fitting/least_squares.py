"""``fit``: a theory model fitted to per-session statistics by weighted least squares.

The steps, each in its own module: :mod:`~neurolearn.fitting.problem` joins model and statistics (weights,
time mapping, search box); :mod:`~neurolearn.fitting.multistart` finds the minimum;
:mod:`~neurolearn.fitting.finish` turns the minimum into intervals, flags what the data cannot pin down and
writes the message;
:class:`~neurolearn.fitting.result.FitResult` holds the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np
from scipy.stats import chi2 as chi2_distribution

from neurolearn.errors import FitError
from neurolearn.fitting.areas import with_layers
from neurolearn.fitting.finish import POOR_FIT_PVALUE, finish_fit, longer_run
from neurolearn.fitting.learner import has_learner_covariance, learner_fit
from neurolearn.fitting.training_set import training_set_unchanged
from neurolearn.fitting.multistart import local_fit, multistart
from neurolearn.fitting.problem import build_problem
from neurolearn.fitting.result import FitResult

__all__ = ["fit", "INTERVALS"]

INTERVALS = ("profile", "bootstrap", None)


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
    if np.isfinite(optimum.chi2) and chi2_distribution.sf(optimum.chi2, dof) < POOR_FIT_PVALUE:
        # A chi-square far beyond its degrees of freedom is either a wrong model or a local minimum; a wider
        # search costs little next to reporting a wrong basin.
        n_wider = 4 * n_starts
        wider = multistart(problem, n_starts=n_wider, rng=rng, n_screen=64 * max(problem.n_free, 1))
        if wider.chi2 < optimum.chi2 - 1e-6 * max(1.0, optimum.chi2):
            wider.history = (*optimum.history, f"found by a wider search ({n_wider} starts) after the first search's "
                             f"best {'minimum' if optimum.success else 'point'} had chi2 {optimum.chi2:.7g}")
            optimum = wider
    if not optimum.success:
        optimum = longer_run(problem, optimum, "the best start")
    return optimum


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
