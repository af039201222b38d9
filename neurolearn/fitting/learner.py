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
3. :data:`ITERATIONS` - 1 more re-evaluations of ``C_learner`` at the refit's parameters and refits (an
   iteratively reweighted fit: the final weights are the covariance at the reported estimate's neighbourhood,
   not at the pilot, whose estimate leans on the too-confident weights of step 1).

Intervals, chi-square and the log-likelihood are those of the final stage, with ``C_learner`` held fixed (a
quasi-likelihood: its dependence on the parameters is not profiled). ``FitResult.learner_covariance`` holds
the parameters it was evaluated at and the message says so. ``fit(..., learner_covariance=False)`` fits with
the statistics' covariance alone.

The statistics' part of ``C`` must leave the learner's variability out, or it is counted twice and the
intervals are conservative. ``generalization_error``'s default SE includes a jackknife over the training
stimuli, which is that variability; so where its summary stored the SE with the training stimuli held fixed
(the session coord ``generalization_error_fixed_se``, which :func:`neurolearn.summarize` and
:func:`~neurolearn.stats.generalization.generalization_summary` write), stage 2 starts from that SE in place
of ``generalization_error_se`` (:func:`neurolearn.fitting.training_set.fixed_training_set`) and the message
says so. Without the learner covariance the fit keeps the statistic's own SE.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurolearn.errors import FitError, NeurolearnError
from neurolearn.fitting.training_set import fixed_training_set
from neurolearn.fitting.validation import ONSET, TIME_SCALE

__all__ = ["ITERATIONS", "has_learner_covariance", "learner_block", "learner_fit", "weighting_label",
           "with_learner_covariance"]

#: Evaluations of the model's learner covariance (each followed by a refit): at the pilot, then at the refit.
ITERATIONS = 2


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


def learner_fit(problem, optimum, optimise, weights="joint", iterations=None):
    """Refit ``problem`` with the model's learner covariance, starting from its pilot ``optimum``.

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
    iterations : int, optional
        Evaluations of the learner covariance, each followed by a refit (default :data:`ITERATIONS`).

    Returns
    -------
    problem : FitProblem
        The last stage's (with the learner covariance), or ``problem`` itself if the pilot did not converge.
    optimum : Optimum
    at : dict or None
        The model parameters the learner covariance was last evaluated at (None: not added).
    """
    at = None
    base = problem
    for _ in range(ITERATIONS if iterations is None else int(iterations)):
        if not optimum.success:
            break
        values = problem.values(optimum.u)
        stage = with_learner_covariance(base, values, weights)
        refit = optimise(stage, optimum.u)
        problem, optimum = stage, refit
        at = {k: float(v) for k, v in values.items() if k in base.model.params}
    return problem, optimum, at


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
