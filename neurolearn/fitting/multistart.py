"""Bounded multi-start least squares in the unit box of a :class:`~neurolearn.fitting.problem.FitProblem`.

Learning curves make multi-modal fits (a slow time scale trades against a late onset; a saturating curve is
fitted equally badly by any very fast rate). A cheap global look comes first: the chi-square is evaluated at a
scrambled Sobol sequence over the unit box (uniform on the log scale for ``log_scale`` parameters) plus the
model's defaults (lazily for costly models: a point whose earliest sessions already bound its chi-square above
the chosen starts is not predicted further; the starts are exactly those of a full evaluation of what the screen
reads: the model, or its cheaper surrogate ``function.screen`` where it supplies one). Only the best
few, mutually distinct points are refined with
:func:`scipy.optimize.least_squares` (trust-region reflective, box constraints; the model's own Jacobian where it
supplies one, else finite differences), and the lowest minimum wins.

Once a minimum is known, a later start is not refined where no run from it could matter: a start on a
*saturated face*, where every session maps past the model's ``function.saturation_time`` so that its
predictions are flat in time whatever the other parameters, is skipped when even the best flat prediction is
far above the best minimum (:func:`_saturated_bound`, :data:`_FAR_ABOVE`): its run could not leave the face
(the time parameters' Jacobian columns are zero there), so it could neither beat the best nor come within any
profile cut of it.

Where the best minimum is itself *flat in time* (its ``time_scale`` and ``onset`` Jacobian columns vanish:
every session past the model's transition; :func:`flat_in_time`) or improbable under the SEs
(``_POOR_PVALUE``), the starts are no evidence: they agree because none can move. Each observable is then
fitted alone from the same screen and a full run starts from there (:func:`_observable_starts`); the lower
minimum wins, and a best point still flat in time says so in its history (:data:`FLAT_IN_TIME_NOTE`). On the
silent-alignment simulator's own data (init_variance 1e-3 and 1e-2, 8 sessions, 8 designs each) the point
fit had stopped on such a face in 15 of 16 designs, chi2 299-1056 on 23 values; from the observables' own fits
it reaches chi2 3.3-15.7 in all 16.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import qmc

__all__ = ["Optimum", "multistart", "local_fit", "unit_covariance", "FLAT_IN_TIME_NOTE", "flat_in_time"]

# Relative finite-difference step in the unit box: large enough that models integrated by an ODE solver
# (tolerance ~1e-8) give clean derivatives, small enough not to bias them (parameter changes of ~1e-5 of the box).
DIFF_STEP = 1e-5
# A later start on a saturated face is skipped only when no point of the face comes within best + _FAR_ABOVE x
# max(1, best / dof), 9x the profile's widest cut (chi2_1 quantile 10.8 at level 0.999, times the misfit scale
# max(1, chi2 / dof)) at any interval inflation below 9: neither the minimum nor the profile's alternative
# basins can change
_FAR_ABOVE = 100.0
# status of such a skipped start (its chi2 is the face's lower bound; least_squares' statuses are -2 to 4)
_SKIPPED = -10
# What the fit's message says of a best point flat in time (Optimum.flat_in_time)
FLAT_IN_TIME_NOTE = ("the best point is flat in time (the predictions do not change with time_scale "
                     "or onset: every session maps past the model's transition), so starts that stop there "
                     "agree because none can move, which is no evidence of a minimum; a basin where the "
                     "transition falls on the sessions may exist (a profile fit, interval='profile', searches"
                     " across basins)")
# Evaluations per free parameter of the short run that fits one observable alone (_observable_starts)
_STAGED_EVALUATIONS = 20
# ... from this many of that observable's best screened points
_STAGED_STARTS = 1
# The restart also runs on a chi-square this improbable under the fit's SEs (a wider search's trigger too)
_POOR_PVALUE = 1e-3
# Two starts closer than this (unit-box distance) would refine to the same minimum; keep only one.
MIN_START_DISTANCE = 0.05
# A screen whose model evaluates faster than this (s, mean) evaluates every candidate instead of bounding them
_LAZY_SCREEN_SECONDS = 1e-3
# ... timed on this many candidates (evaluated in full either way)
_TIMED_CANDIDATES = 8


@dataclass
class Optimum:
    """The best point found: unit-box parameters, chi-square, Jacobian, solver status and message."""

    u: np.ndarray
    chi2: float
    jac: np.ndarray
    status: int
    message: str
    n_evaluations: int
    chi2_of_starts: tuple = ()
    #: other local minima (unit box, chi2) the starts reached; profiles restart from them to cross basins
    alternatives: tuple = ()
    #: how this point was reached beyond the plain multi-start (a wider search, a longer run), for the message
    history: tuple = ()
    #: the predictions do not change with the time mapping here (``time_scale`` and ``onset`` Jacobian columns
    #: zero: every session past the model's transition), so runs that stop here agree because none can move
    flat_in_time: bool = False

    @property
    def success(self) -> bool:
        return self.status > 0 and np.isfinite(self.chi2)

    @property
    def solver_message(self) -> str:
        """The solver's message as a clause: first letter lower case, no final full stop."""
        text = str(self.message).strip().rstrip(".")
        return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def multistart(problem, n_starts: int = 4, rng=None, n_screen: int | None = None) -> Optimum:
    """Screen a Sobol design, refine the best ``n_starts`` distinct points, return the lowest minimum.

    Parameters
    ----------
    problem : FitProblem
    n_starts : int
        Local least-squares runs.
    rng : numpy.random.Generator
        Scrambles the Sobol design.
    n_screen : int, optional
        Points screened (a power of two; default 16 per free parameter, at least 32).
    """
    rng = np.random.default_rng(rng)
    p = problem.n_free
    if p == 0:
        r = problem.residuals(np.empty(0))
        return Optimum(np.empty(0), float(r @ r), np.empty((r.size, 0)), 1, "no free parameters", 1)
    n_screen = n_screen or max(32, 16 * p)
    n_screen = 1 << int(np.ceil(np.log2(n_screen)))
    design = qmc.Sobol(d=p, scramble=True, seed=rng).random(n_screen)
    candidates = np.vstack([problem.unit_default(), design])
    starts = _screen_starts(_screen_problem(problem), candidates, n_starts)
    best = None
    found = []
    n_eval = n_screen + 1
    dof = max(problem.n_obs - problem.n_free, 1)
    for u0 in starts:
        far = None if best is None or not np.isfinite(best.chi2) else _far_above(best.chi2, dof)
        flat = None if far is None else _saturated_bound(problem, u0)
        if flat is not None and flat > far:
            # every point this run could reach has flat predictions, none of which comes near the best
            found.append(Optimum(np.clip(np.asarray(u0, dtype=float), 0.0, 1.0), flat, np.empty((0, 0)), _SKIPPED,
                                 "not refined: start on a saturated face far above the best minimum", 0))
            continue
        opt = local_fit(problem, u0)
        n_eval += opt.n_evaluations
        found.append(opt)
        if best is None or _better(opt, best):
            best = opt
    flat = flat_in_time(problem, best.jac)
    if flat or _improbable(best.chi2, dof):
        # starts that all stop on a face flat in time, or far above what the SEs allow: start again from each
        # observable's own fit
        staged, n_staged = _observable_starts(problem, candidates)
        n_eval += n_staged
        found.extend(staged)
        lower = min(staged, key=lambda o: o.chi2, default=None)
        if lower is not None and lower.success and lower.chi2 < best.chi2 - 1e-6 * max(1.0, best.chi2):
            where = "stopped on a face flat in time" if flat else "reached no lower minimum"
            lower.history = (*best.history, f"found from a start fitted to {lower.history[0]} alone, after "
                             f"the {len(starts)} screened starts {where} (chi2 {best.chi2:.7g})")
            best = lower
    best.n_evaluations = n_eval
    best.chi2_of_starts = tuple(sorted(o.chi2 for o in found))
    best.flat_in_time = flat_in_time(problem, best.jac)
    if best.flat_in_time:
        best.history = (*best.history, FLAT_IN_TIME_NOTE)
    # (a start skipped far above the best reached no minimum, and none within any profile cut)
    best.alternatives = tuple((o.u, o.chi2) for o in found
                              if o is not best and np.linalg.norm(o.u - best.u) > MIN_START_DISTANCE
                              and np.isfinite(o.chi2) and o.status != _SKIPPED)
    return best


def _observable_starts(problem, candidates):
    """Full local runs from the best points of each observable fitted alone: (optima, evaluations).

    Where every start stops on a face flat in time, what pulls them there is usually one observable whose
    misfit in amplitude is cheapest to remove by flattening every prediction (a kernel change measured from a
    reference session that is moved past the transition). Each observable alone has no such pull: its own
    screen (the same candidates) and one short run (at most ``_STAGED_EVALUATIONS`` per parameter) place the
    transition where that observable has it, and a full run from there reaches the basin the data hold
    (the silent-alignment model on its simulator's data, tests/fitting/test_saturated_starts.py). Each
    optimum's history names its observable. Nothing for a problem with one observable.
    """
    rows = np.nonzero(problem.mask.any(axis=1))[0]
    if rows.size < 2:
        return [], 0
    out, n_eval = [], 0
    for k in rows:
        mask = np.zeros_like(problem.mask)
        mask[k] = problem.mask[k]
        single = replace(problem, mask=mask)
        for u0 in _screen_starts(_screen_problem(single), candidates, _STAGED_STARTS):
            if not np.isfinite(single.chi2(u0)):
                continue
            short = local_fit(single, u0, max_nfev=_STAGED_EVALUATIONS * (problem.n_free + 1), tol=1e-6)
            opt = local_fit(problem, short.u)
            n_eval += short.n_evaluations + opt.n_evaluations
            opt.history = (str(problem.observables[k]),)
            out.append(opt)
    return out, n_eval


def _improbable(chi2, dof) -> bool:
    """A chi-square the fit's SEs make improbable (p < ``_POOR_PVALUE``): a wrong model or a local minimum."""
    from scipy.stats import chi2 as chi2_distribution

    return bool(np.isfinite(chi2) and chi2_distribution.sf(chi2, dof) < _POOR_PVALUE)


def flat_in_time(problem, jac) -> bool:
    """Whether the fit's time mapping has no effect at a point: its Jacobian columns in ``time_scale`` and
    ``onset`` (those free) vanish, below 1e-9 of the Jacobian's norm (the rounding of a flat prediction).

    A least-squares run cannot leave such a face along the time mapping, so the starts that reach it agree
    whatever the data hold where the model's transition falls on the sessions.
    """
    from neurolearn.fitting.validation import ONSET, TIME_SCALE

    columns = [j for j, name in enumerate(problem.free_names) if name in (TIME_SCALE, ONSET)]
    jac = np.asarray(jac, dtype=float)
    if not columns or jac.ndim != 2 or jac.shape[1] != problem.n_free or jac.shape[0] == 0:
        return False
    if not np.isfinite(jac[:, columns]).all():
        return False
    scale = max(float(np.linalg.norm(jac[np.isfinite(jac).all(axis=1)])), 1.0)
    return bool(np.linalg.norm(jac[:, columns]) <= 1e-9 * scale)


def _far_above(best_chi2, dof) -> float:
    """The chi-square above which a run cannot matter to the fit (see ``_FAR_ABOVE``)."""
    return best_chi2 + _FAR_ABOVE * max(1.0, best_chi2 / dof)


def _saturated_bound(problem, u):
    """The lowest chi-square of any flat prediction, if ``u`` is on its model's saturated face; else None.

    A model whose ``function.saturation_time`` is ``T`` predicts at every model time past ``T`` what it predicts
    at ``T`` (the integrator's trajectories stop at tau = 8). Where every fitted session maps past it (with a
    margin of 0.1%), the predictions are flat in time for every value of the model's parameters and their
    derivatives in ``time_scale`` and ``onset`` are zero, so a least-squares run from ``u`` stays on that face:
    its chi-square is at least that of the best constant per observable (weighted least squares, under the
    fit's covariance where it has one).
    """
    cap = getattr(problem.model.function, "saturation_time", None)
    if cap is None or not problem.has_jacobian:
        return None
    tau = problem.training_time(problem.values(u))
    fitted = problem.mask.any(axis=0)
    if not fitted.any() or not np.all(tau[fitted] > float(cap) * 1.001):
        return None
    data = problem._fitted[0]
    rows = np.nonzero(problem.mask)[0]
    design = np.zeros((data.size, problem.mask.shape[0]))
    design[np.arange(data.size), rows] = 1.0
    design = design[:, design.any(axis=0)]
    whitened = np.column_stack([problem.whiten(column) for column in design.T])
    target = problem.whiten(data)
    coef = np.linalg.lstsq(whitened, target, rcond=None)[0]
    r = target - whitened @ coef
    bound = float(r @ r)
    # (rounding: the least-squares residual is accurate to ~1e-12 of the data's norm)
    return bound - 1e-9 * float(target @ target) if np.isfinite(bound) else None


def _screen_problem(problem):
    """The problem the screen reads: the model's surrogate ``function.screen`` where the model supplies one.

    The screen only chooses where the local runs start; they, and everything after them, use the model's own
    function (the integrator's surrogate is its flow on a coarser grid).
    """
    screen = getattr(problem.model.function, "screen", None)
    if screen is None:
        return problem

    def surrogate(time, **params):
        return screen(time, **params)

    surrogate.screen = screen  # idempotent: the surrogate's problem screens with the same surrogate
    return replace(problem, model=replace(problem.model, function=surrogate, jacobian=None))


def _screen_starts(problem, candidates, n_starts):
    """The best ``n_starts`` mutually distinct candidates by chi-square, lowest first.

    Exactly the choice of sorting every candidate's chi-square (stable, so ties go to the earlier candidate)
    and keeping each that is more than ``MIN_START_DISTANCE`` from those kept, but most candidates are never
    evaluated in full: each enters a heap with a lower bound on its chi-square from its earliest sessions only
    (an eighth, a quarter, half of them), and only a candidate on top of the heap is evaluated further. A
    candidate whose early sessions already misfit worse than the starts chosen is left there: for models whose
    cost grows with the training time predicted (ODE trajectories) that saves a quarter (integrator) to two
    thirds (transfer, capacity) of the screen (benchmarks/bench_fit.py designs). Models cheaper than
    ``_LAZY_SCREEN_SECONDS`` a candidate (timed on the first ``_TIMED_CANDIDATES``) are evaluated everywhere.
    """
    import heapq
    import time

    clock = time.perf_counter()
    first = [problem.chi2(u) for u in candidates[:_TIMED_CANDIDATES]]
    starts: list[np.ndarray] = []
    if time.perf_counter() - clock < _LAZY_SCREEN_SECONDS * len(first):
        # a model this cheap is faster to evaluate everywhere than to bound (the same starts either way)
        costs = np.array([*first, *(problem.chi2(u) for u in candidates[len(first):])])
        for i in np.argsort(np.where(np.isfinite(costs), costs, np.inf), kind="stable"):
            if all(np.linalg.norm(candidates[i] - s) > MIN_START_DISTANCE for s in starts):
                starts.append(candidates[i])
            if len(starts) >= n_starts:
                break
        return starts
    bounds = _PartialChi2(problem)
    heap = [(c if np.isfinite(c) else np.inf, i, bounds.n_levels) for i, c in enumerate(first)]
    heap += [(bounds(0, u), i, 0) for i, u in enumerate(candidates[len(first):], start=len(first))]
    heapq.heapify(heap)
    while heap and len(starts) < n_starts:
        value, i, level = heapq.heappop(heap)
        if level < bounds.n_levels:
            heapq.heappush(heap, (bounds(level + 1, candidates[i]), i, level + 1))
            continue
        if all(np.linalg.norm(candidates[i] - s) > MIN_START_DISTANCE for s in starts):
            starts.append(candidates[i])
    return starts


class _PartialChi2:
    """Lower bounds on a problem's chi-square from the values of its earliest sessions.

    Level ``k < n_levels`` predicts only the sessions up to a training-time quantile and returns the part of
    chi-square those values carry (for correlated values, the quadratic form of their marginal covariance,
    which never exceeds the full one), shrunk by 1% and 1 so that a model whose prediction at a time depends
    slightly on the other times asked for (an ODE stepped to each of them) still gives a bound; level
    ``n_levels`` is the full chi-square (infinite if not finite).
    """

    _QUANTILES = (0.125, 0.25, 0.5)

    def __init__(self, problem):
        self.problem = problem
        time = problem.session_time
        fitted = problem.mask.any(axis=0)
        subsets = []
        for q in self._QUANTILES:
            keep = time <= np.quantile(time[fitted], q) if fitted.any() else np.zeros(time.shape, bool)
            keep &= fitted
            if keep.any() and not keep[fitted].all() and not any(np.array_equal(keep, s) for s in subsets):
                subsets.append(keep)
        self.subsets = [self._prepare(keep) for keep in subsets]
        self.n_levels = len(self.subsets)

    def _prepare(self, keep):
        problem = self.problem
        mask = problem.mask[:, keep]
        data, se = problem.data[:, keep][mask], problem.se[:, keep][mask]
        factor, usable = None, True
        if problem.covariance is not None:
            from scipy.linalg import cholesky

            flat = np.flatnonzero((problem.mask & keep[None, :]).ravel())
            try:
                factor = cholesky(problem.covariance[np.ix_(flat, flat)], lower=True)
            except np.linalg.LinAlgError:
                usable = False  # no bound from this subset (0)
        return keep, mask, data, se, factor, usable

    def __call__(self, level, u):
        problem = self.problem
        if level >= self.n_levels:
            chi2 = problem.chi2(u)
            return chi2 if np.isfinite(chi2) else np.inf
        keep, mask, data, se, factor, usable = self.subsets[level]
        if not usable:
            return 0.0
        try:
            with np.errstate(all="ignore"):
                prediction = problem.predict_array(problem.values(u), problem.session_time[keep])
                difference = data - prediction[mask]
                bad = ~np.isfinite(difference)
                difference[bad] = 1e6 * se[bad]
                if factor is None:
                    r = difference / se
                else:
                    from scipy.linalg import solve_triangular

                    r = solve_triangular(factor, difference, lower=True, check_finite=False)
                bound = float(r @ r)
        except (FloatingPointError, ValueError, ZeroDivisionError, OverflowError):
            return 0.0
        if not np.isfinite(bound):
            return 0.0
        # above 1e10 the full chi-square may be capped (non-finite residuals count 1e12 each): bound at 1e10
        return min(0.99 * bound - 1.0, 1e10)


def local_fit(problem, u0, max_nfev: int | None = None, tol: float = 1e-8) -> Optimum:
    """One bounded least-squares run from ``u0`` (unit box); ``tol`` is least_squares' ftol = xtol = gtol.

    The Jacobian is the model's own where it supplies one (:meth:`FitProblem.jacobian`), else forward
    differences with step ``DIFF_STEP``.
    """
    u0 = np.clip(np.asarray(u0, dtype=float), 0.0, 1.0)
    if u0.size == 0:
        r = problem.residuals(u0)
        return Optimum(u0, float(r @ r), np.empty((r.size, 0)), 1, "no free parameters", 1)
    res = least_squares(
        problem.residuals,
        u0,
        bounds=(0.0, 1.0),
        jac=problem.jacobian if problem.has_jacobian else "2-point",
        method="trf",
        x_scale=1.0,
        diff_step=DIFF_STEP,
        max_nfev=max_nfev or 100 * (u0.size + 1),
        ftol=tol,
        xtol=tol,
        gtol=tol,
    )
    return Optimum(np.asarray(res.x), float(2.0 * res.cost), np.asarray(res.jac), int(res.status), str(res.message),
                   int(res.nfev))


def unit_covariance(jac) -> np.ndarray:
    """Covariance of the unit-box parameters from the Jacobian of standardised residuals, ``(J^T J)^-1``.

    Directions the data do not constrain (singular values below 1e-7 of the largest) get infinite variance
    on every parameter they involve, instead of a pseudo-inverse that would report them as precise.
    """
    jac = np.asarray(jac, dtype=float)
    p = jac.shape[1]
    if p == 0:
        return np.empty((0, 0))
    _, s, vt = np.linalg.svd(jac, full_matrices=False)
    if s.size == 0 or not np.isfinite(s).all() or s[0] == 0:
        return np.full((p, p), np.inf)
    keep = s > 1e-7 * s[0]
    cov = (vt[keep].T / s[keep] ** 2) @ vt[keep]
    if not keep.all():
        involved = np.any(np.abs(vt[~keep]) > 1e-3, axis=0)
        cov[involved, :] = np.inf
        cov[:, involved] = np.inf
    return cov


def _better(a: Optimum, b: Optimum) -> bool:
    # a converged minimum beats a non-converged one of similar cost; otherwise lower chi-square wins
    if a.success != b.success and abs(a.chi2 - b.chi2) <= 1e-6 * max(1.0, b.chi2):
        return a.success
    return a.chi2 < b.chi2
