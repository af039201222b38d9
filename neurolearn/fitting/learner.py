"""The model's learner covariance: one network's scatter about the theory's mean curve, added to the weights.

A reduced theory predicts an *average*: kernel regression's error averaged over training sets, a network's
course averaged over initialisations. A recording is of one learner -- one animal, one network, one nested
training stream -- whose curve scatters about that average by an amount correlated across its sessions (a
curve that sits high at 20 examples sits high at 30: the first 20 examples are among the 30). No bootstrap of
the recording sees it: it resamples trials and neurons of *this* learner. A fit weighted by the recording's
covariance alone then treats a smooth deviation of the whole curve as improbable and moves the parameters to
follow it, with intervals too narrow along the direction it moves them.

A model may declare that covariance (:attr:`neurolearn.theory.Model.learner_covariance`, a function of the
training times and parameters). :func:`neurolearn.fit` then fits in stages:

1. a pilot fit with the statistics' covariance alone;
2. the model's covariance at the pilot's parameters, ``C_learner(theta_pilot)``, added to the statistics'
   covariance (``C = C_stats + C_learner``; the SEs become ``sqrt(se**2 + diag C_learner)``), and a refit;
3. re-evaluations of ``C_learner`` and refits until the weights are those of the estimate they give: a point
   ``theta*`` whose refit with ``C_learner(theta*)`` returns ``theta*`` to within :data:`TOLERANCE` (0.25) of each
   parameter's SE (a shift that costs a 95 % interval under half a percentage point of coverage), at most
   :data:`MAX_EVALUATIONS` (2) evaluations by default. A fit whose first refit already moved less stops there.
   One that has not settled reports its last stage (the scheme whose coverage the models' documentation
   measures) and says so in its message and a :class:`~neurolearn.errors.FitWarning`, with how far each refit
   moved: its weights are not those of its own estimate. Re-evaluating need not settle: a covariance evaluated
   at a low estimate can pull the refit high and back (the bundled integrator example's chi2 reads 7.9, 24.6,
   5.8, 28.4 after 1-4 plain evaluations), so from the third evaluation on (``learner_fit(max_evaluations=)``)
   a parameter whose move reverses the previous one steps only part of the way. Measured (2026-12-08, at most
   6 evaluations): kernel-learning-curve fits of benchmarks/bench_fit.py's design settle in 6 of 12 seeds and
   its recovery design in 20 of 20; the other six and the integrator example do not (their refits hop between
   two basins whose order the covariance flips), at 2-4x the cost; so the default stays at two evaluations and
   the flag says where the weights did not settle (benchmarks/bench_learner_convergence.py).

Intervals, chi-square and the log-likelihood are those of the reported stage, with ``C_learner`` held fixed (a
quasi-likelihood: its dependence on the parameters is not profiled). ``FitResult.learner_covariance`` holds
the parameters it was evaluated at, and the message says so and whether the weights settled.
``fit(..., learner_covariance=False)`` fits with the statistics' covariance alone.

The statistics' part of ``C`` must leave the learner's variability out, or it is counted twice and the
intervals are conservative. ``generalization_error``'s default SE includes a jackknife over the training
stimuli, which is that variability; so where its summary stored the SE with the training stimuli held fixed
(the session coord ``generalization_error_fixed_se``, which :func:`neurolearn.summarize` and
:func:`~neurolearn.stats.generalization.generalization_summary` write), stage 2 starts from that SE in place
of ``generalization_error_se`` (:func:`neurolearn.fitting.training_set.fixed_training_set`) and the message
says so. Without the learner covariance the fit keeps the statistic's own SE.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from neurolearn.errors import FitError, FitWarning, NeurolearnError
from neurolearn.fitting.multistart import unit_covariance
from neurolearn.fitting.training_set import fixed_training_set
from neurolearn.fitting.validation import ONSET, TIME_SCALE

__all__ = ["FLOOR", "MAX_EVALUATIONS", "TOLERANCE", "has_learner_covariance", "learner_block",
           "learner_fit", "weighting_label", "with_learner_covariance"]

#: Cap on the evaluations of the model's learner covariance (each followed by a refit).
MAX_EVALUATIONS = 2
#: A refit that moves every parameter by at most this fraction of its SE from where the covariance was evaluated
#: is self-consistent (the iteration stops).
TOLERANCE = 0.25
#: ... or by at most this fraction of its search box (unit box; a parameter at a bound has an SE near 0).
FLOOR = 1e-3


def has_learner_covariance(model) -> bool:
    """Whether ``model`` declares a learner covariance (:attr:`neurolearn.theory.Model.learner_covariance`)."""
    return getattr(model, "learner_covariance", None) is not None


def learner_block(problem, values) -> np.ndarray:
    """The model's learner covariance at parameter ``values`` over ``problem``'s flattened values.

    Parameters
    ----------
    problem : neurolearn.fitting.problem.FitProblem
    values : dict
        Every parameter's value (model and time mapping), as :meth:`FitProblem.values` returns.

    Returns
    -------
    numpy.ndarray, shape (n_observables * n_sessions,) * 2
        Row-major like ``problem.data`` (observable ``i`` at session ``j`` is row ``i * n_sessions + j``),
        the model's blocks of the fitted observables picked out of its observable-major matrix.

    Raises
    ------
    FitError
        The model's function fails at ``values``, or returns a matrix of the wrong shape, non-finite or not
        symmetric.
    """
    model = problem.model
    tau = problem.training_time(values)
    model_values = {k: v for k, v in values.items() if k not in (TIME_SCALE, ONSET)}
    n = tau.size
    size = len(model.observables) * n
    try:
        full = np.asarray(model.learner_covariance(tau, **model_values), dtype=float)
    except NeurolearnError as exc:
        raise FitError(f"fit of model {model.name!r}: its learner covariance failed at {model_values}: {exc}") from None
    if full.shape != (size, size):
        raise FitError(f"fit of model {model.name!r}: expected its learner covariance shaped ({size}, {size}) "
                       f"({len(model.observables)} observables x {n} sessions), found {full.shape}")
    if not np.isfinite(full).all() or not np.allclose(full, full.T, rtol=1e-8, atol=1e-12 * np.abs(full).max(initial=1.0)):
        raise FitError(f"fit of model {model.name!r}: expected its learner covariance finite and symmetric at "
                       f"{model_values}, found {'non-finite' if not np.isfinite(full).all() else 'asymmetric'} entries")
    index = np.concatenate([model.observables.index(name) * n + np.arange(n) for name in problem.observables])
    return full[np.ix_(index, index)]


def with_learner_covariance(problem, values, weights="joint"):
    """``problem`` (as built from the statistics alone) with the model's learner covariance at ``values`` added.

    A statistic whose summary stored its SE with the training stimuli held fixed is first weighted by that SE
    (:func:`neurolearn.fitting.training_set.fixed_training_set`: its training-set jackknife is the variability
    the learner covariance adds). The joint covariance (or the diagonal ``se**2`` when the statistics carry no
    replicates; with ``weights="independent"`` the sandwich's covariance, the weights staying diagonal) gains
    the model's block (:func:`learner_block`); the SEs of the fitted values become ``sqrt(se**2 + diag)`` so
    that the reported standardised residuals and diagonal weights include it. Values outside ``mask`` are left
    as they are.

    Parameters
    ----------
    problem : neurolearn.fitting.problem.FitProblem
    values : dict
        Every parameter's value, where the model's covariance is evaluated.
    weights : {"joint", "independent"}
        The fit's weighting: ``"independent"`` keeps the weights diagonal (the SEs) and adds the block to the
        sandwich's covariance, built from the SEs where the statistics have no replicates.

    Returns
    -------
    neurolearn.fitting.problem.FitProblem
        A new problem (``problem`` is not changed), with a note saying at which parameters the block was added.
    """
    problem = fixed_training_set(problem)
    block = learner_block(problem, values)
    mask = problem.mask.ravel()
    block = np.where(np.outer(mask, mask), block, 0.0)
    se = np.sqrt(problem.se**2 + np.diag(block).reshape(problem.se.shape))
    se = np.where(problem.mask, se, problem.se)
    covariance, sandwich = problem.covariance, problem.sandwich_covariance
    diagonal = np.diag(np.where(mask, problem.se.ravel() ** 2, 1.0))
    if weights == "independent":
        sandwich = (diagonal if sandwich is None else sandwich) + block
    else:
        covariance = (diagonal if covariance is None else covariance) + block
    shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items() if k in problem.model.params)
    note = (f"the model's learner covariance (one learner's scatter about the mean curve, correlated across "
            f"sessions) added to the statistics' covariance at {shown}, then refitted")
    return replace(problem, covariance=covariance, sandwich_covariance=sandwich, se=se,
                   notes=(*problem.notes, note))


def learner_fit(problem, optimum, optimise, weights="joint", max_evaluations=None, trace=None):
    """Refit ``problem`` with the model's learner covariance until its weights are those of its own estimate.

    The map ``T(theta)``: the fit with ``C_learner(theta)`` added. Starting from the pilot's ``theta_0`` the
    covariance is evaluated at ``e_1 = theta_0``, then at ``e_2 = T(e_1)``, then at ``e + alpha * (T(e) - e)``
    with a step ``alpha`` per parameter that halves each time the parameter's move reverses (:class:`_Search`;
    in a 2-cycle ``T(a) = b``, ``T(b) = a`` the third evaluation is the midpoint ``(a + b) / 2``). It stops at
    the first evaluation whose refit moved every free parameter by at most :data:`TOLERANCE` of its SE (the
    refit's Jacobian SE in the unit box, at most a quarter of the box, or :data:`FLOOR` of the box): the
    estimate is self-consistent, the covariance it is weighted by evaluated at the estimate to within that.
    After ``max_evaluations`` without settling it reports the last stage (the scheme whose coverage was measured:
    with the default two, the refit weighted by the covariance at the first refit) and says so in a note and a
    :class:`~neurolearn.errors.FitWarning`. Where the fit has two basins whose order
    the covariance flips (a covariance evaluated in one makes the other the lower), ``T`` jumps between them and
    a self-consistent point need not exist; such fits end unsettled.

    Parameters
    ----------
    problem : neurolearn.fitting.problem.FitProblem
        Built from the statistics alone.
    optimum : neurolearn.fitting.multistart.Optimum
        The pilot fit of ``problem``.
    optimise : callable
        ``optimise(problem, u0) -> Optimum``: the fit's search, ``u0`` a start to include (the previous stage's
        optimum).
    weights : {"joint", "independent"}
    max_evaluations : int, optional
        Cap on the evaluations of the learner covariance, each followed by a refit (default
        :data:`MAX_EVALUATIONS`).
    trace : list, optional
        Receives one dict per stage: ``at`` (the parameters the covariance was evaluated at), ``estimate``,
        ``chi2`` and ``gap`` (the largest move of a parameter from ``at`` to ``estimate``, in units of its
        tolerance: <= 1 is settled).

    Returns
    -------
    problem : FitProblem
        The reported stage's (with the learner covariance), or ``problem`` itself if the pilot did not converge.
    optimum : Optimum
    at : dict or None
        The model parameters the reported stage's learner covariance was evaluated at (None: not added).
    """
    cap = MAX_EVALUATIONS if max_evaluations is None else int(max_evaluations)
    if cap < 1 or not optimum.success:
        return problem, optimum, None
    base, names = problem, problem.model.params
    search = _Search(np.asarray(optimum.u, dtype=float))
    stages, start = [], optimum.u
    for _ in range(cap):
        point = search.point
        values = base.values(point)
        stage = with_learner_covariance(base, values, weights)
        refit = optimise(stage, start)
        at = {k: float(v) for k, v in values.items() if k in names}
        if not refit.success:  # reported as the fit's failure, as any search's
            return stage, refit, at
        move = np.asarray(refit.u, dtype=float) - point
        tolerance = _tolerance(refit)
        gap = float(np.max(np.abs(move) / tolerance, initial=0.0))
        stages.append((gap, stage, refit, at))
        if trace is not None:
            trace.append({"at": at, "estimate": {k: float(v) for k, v in stage.values(refit.u).items() if k in names},
                          "chi2": float(refit.chi2), "gap": gap})
        if gap <= 1.0:
            break
        search.update(move, tolerance)
        start = refit.u
    gap, stage, refit, at = stages[-1]
    n = len(stages)
    if gap <= 1.0:
        note = (f"the learner covariance's weights are self-consistent: evaluated {n} time{'s' * (n > 1)}, the last "
                f"refit moved no parameter by more than {TOLERANCE:g} of its SE from where the covariance was "
                f"evaluated (at most {gap:.2g} of that)")
    else:
        note = (f"the learner covariance's weights did not settle in {n} evaluations: each refit moved a parameter "
                f"{', '.join(f'{s[0] * TOLERANCE:.2g}' for s in stages)} SE from where the covariance was evaluated "
                f"(tolerance {TOLERANCE:g} SE); reported the last evaluation, whose weights were evaluated "
                f"{gap * TOLERANCE:.2g} SE from its estimate")
        warnings.warn(f"fit of model {base.model.name!r}: {note}", FitWarning, stacklevel=3)
    return replace(stage, notes=(*stage.notes, note)), refit, at


def _tolerance(optimum) -> np.ndarray:
    """Per free parameter, the move (unit box) below which a refit counts as not moved: :data:`TOLERANCE` of its
    Jacobian SE (at most a quarter of the box: a parameter the data do not pin down), at least :data:`FLOOR`."""
    se = np.sqrt(np.clip(np.diag(unit_covariance(optimum.jac)), 0.0, np.inf))
    return np.maximum(TOLERANCE * np.minimum(se, 0.25), FLOOR)


class _Search:
    """Where to evaluate the learner covariance next (unit box), from the moves of the refits so far.

    Each free parameter steps by a fraction of its refit's move (``e + alpha * (T(e) - e)``, per parameter): the
    whole move at first (the plain re-evaluation at the refit's estimate), halved each time the parameter's move
    reverses the previous one (the fixed point lies between the last two evaluation points) and grown by half
    again, up to the whole move, when it does not (a sign-based step adaptation, as Riedmiller & Braun's Rprop).
    In a 2-cycle ``T(a) = b``, ``T(b) = a`` the third evaluation is the midpoint ``(a + b) / 2``; where ``T``
    falls steeply (slope below -1, where plain re-evaluation diverges or cycles) the steps shrink until it
    contracts, and a parameter whose moves keep their sign keeps its whole step.
    """

    def __init__(self, point):
        self.point = point
        self.step = np.ones_like(point)
        self.last = None

    def update(self, move, tolerance):
        if self.last is not None:
            reversed_ = move * self.last < 0.0
            self.step = np.where(reversed_, self.step / 2.0, np.minimum(1.0, 1.5 * self.step))
        self.last = move
        self.point = np.clip(self.point + self.step * move, 0.0, 1.0)


def weighting_label(problem, learner_at) -> str:
    """``FitResult.weighting``: how the values were weighted."""
    if learner_at is not None:
        return ("joint covariance (statistics + the model's learner covariance)" if problem.covariance is not None
                else "standard errors, sandwich intervals with the joint covariance (statistics + the model's "
                     "learner covariance)")
    if problem.covariance is not None:
        # a model's shrunk working weights (Model.covariance_shrinkage) keep the unshrunk one for the sandwich
        return ("joint covariance (bootstrap replicates)" if problem.sandwich_covariance is None else
                "joint covariance with shrunk correlations, sandwich intervals (bootstrap replicates)")
    return ("standard errors" if problem.sandwich_covariance is None else
            "standard errors, sandwich intervals with the joint covariance (bootstrap replicates)")
