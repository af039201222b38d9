"""Parameter intervals: profile likelihood (default) and parametric bootstrap.

Profile likelihood
------------------
For parameter j the profile ``chi2_p(theta_j)`` is the chi-square minimised over all other free parameters with
theta_j held fixed. The interval at level ``L`` is ``{theta_j : chi2_p(theta_j) - chi2_min <= q}``, ``q`` the
``L`` quantile of chi-square with 1 degree of freedom (3.84 for 95%) -- Wilks' theorem, exact for a model linear
in its parameters, and far better than ``estimate +- 1.96 SE`` for the curved, bounded parameters of learning
curves (it is invariant to reparameterisation, e.g. log scale).

Each end is found by root-finding on the signed root deviance ``sqrt(chi2_p - chi2_min)``, which is close to
linear in the parameter, so a secant started at the Wald guess ``estimate + sqrt(q) * SE`` lands in a few
re-optimisations, each warm-started from the neighbouring profile point. If the bound of the search box is
reached before the deviance reaches ``q`` the interval is open on that side: the data do not pin the parameter
down, and the parameter is flagged non-identifiable (its interval runs to the bound; it is never reported as
precise).

Parametric bootstrap
--------------------
Statistics are resimulated as prediction + Gaussian noise with each value's SE (or the statistics' joint
covariance), the model is refitted from the
estimate, and the percentile interval of the refitted values is reported. An interval that reaches within 0.1%
of the box edge is flagged like an open profile.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import chi2 as chi2_distribution

from neurolearn.fitting.multistart import DIFF_STEP, local_fit
from neurolearn.fitting.reasons import natural_bounds
from neurolearn.fitting.search_box import reopened
from neurolearn.fitting.validation import ONSET

__all__ = ["profile_intervals", "bootstrap_intervals", "BetterMinimum"]

# Accept an interval end once the root deviance is within this of sqrt(q) (Delta chi2 within ~0.08 at 95%).
_ROOT_TOLERANCE = 0.02
_MAX_STEPS = 14
# Iterations of one profile re-optimisation (warm-started next to its optimum; more rarely changes chi2 by 0.01).
_PROFILE_NFEV = 12
# ... and of a second, longer one for a point that looks outside the interval.
_PROFILE_NFEV_OUTSIDE = 60
# ... or once the bracket around the end is narrower than this fraction of its distance from the estimate.
_BRACKET_WIDTH = 0.02
# Wald SE (unit box) above which the data leave a parameter unconstrained within its search box.
_UNCONSTRAINED_SE = 0.5
# Unit-box distance from an edge that counts as reaching it.
_EDGE = 1e-3
# Shift of an interval end, as a fraction of its distance from the estimate, beyond which a nuisance's search
# bound (reopened past it) is taken to have cut that end short; the profile finds ends to ~1-2% of it.
_END_SHIFT = 0.05


class BetterMinimum(Exception):
    """A profile found a lower chi-square than the reported optimum: the optimum must be moved there.

    ``u``: the profile point (unit box); ``parameter``: the index of the free parameter whose profile found it;
    ``chi2``: its chi-square (None where not known).
    """

    def __init__(self, u, parameter=None, chi2=None):
        super().__init__("profile found a lower minimum")
        self.u = u
        self.parameter = parameter
        self.chi2 = chi2


def profile_intervals(problem, u_hat, chi2_hat, unit_se, level=0.95, jac=None, alternatives=(), scale=1.0):
    """Profile-likelihood interval of every free parameter.

    Parameters
    ----------
    problem : FitProblem
    u_hat : ndarray
        Optimum in the unit box.
    chi2_hat : float
        Chi-square at the optimum.
    unit_se : ndarray
        Wald standard errors in the unit box (inf/NaN where unknown), only used to place the first step.
    level : float
    scale : float or ndarray, shape (n_free,)
        Multiplies the chi-square threshold ``q`` (``chi2/dof`` of a fit whose scatter exceeds its SEs, so that
        the interval is that of SEs inflated by ``sqrt(chi2/dof)``; 1 otherwise); per parameter for the
        sandwich variance ratios of a working-independence fit (``weights="independent"``).
    jac : ndarray, optional
        Jacobian of the residuals at the optimum. Moving parameter j by ``d`` moves the other parameters'
        optimum by about ``-d H_oo^-1 H_oj`` (``H = J^T J``); starting each profile point there saves most of
        its iterations.
    alternatives : sequence of (ndarray, float)
        Other local minima of the fit and their chi-square. A profile point that looks outside the interval is
        re-optimised from each of them too, since a warm start only follows the profile within one basin of the
        chi-square; and, where the onset is free, from its warm start with the onset mirrored across the first
        session (an onset just past it holds that session at model time 0, where its prediction does not move
        with the onset, so a warm start cannot cross to the other side).

    Returns
    -------
    intervals : ndarray, shape (n_free, 2)
        Unit-box interval ends.
    open_ends : ndarray of bool, shape (n_free, 2)
        Whether each end stopped at the box edge (profile flatter than ``q`` up to the bound).
    limited_by : list of set of int
        For each parameter, the other parameters that sit at a box edge at one of its interval ends but not at
        the optimum, hold the chi-square up there, and are either unconstrained by the data (Wald SE over half
        their box) or, at an end the profile closed, at a search bound rather than a natural limit of the model
        (:attr:`neurolearn.theory.Parameter.natural`) that cuts the end short (reopened past that bound, the
        profile is still inside the cut 5% of the end's distance from the estimate further out, or the nuisance
        runs on to the reopened edge): the interval there is set by *their* search box, not by the data (a
        confounded pair).
    n_evaluations : int
        Profile re-optimisations run.

    Raises
    ------
    BetterMinimum
        If a profile point has a chi-square clearly below ``chi2_hat``.
    """
    p = problem.n_free
    # one threshold per parameter: a working-independence fit's sandwich raises each by its own variance ratio
    q = float(chi2_distribution.ppf(level, 1)) * np.broadcast_to(np.asarray(scale, dtype=float), (p,))
    targets = np.sqrt(q)
    intervals = np.empty((p, 2))
    open_ends = np.zeros((p, 2), dtype=bool)
    limited_by = [set() for _ in range(p)]
    at_edge_hat = _at_edge(u_hat)
    n_eval = 0
    slopes = _nuisance_slopes(jac, p)
    # a basin whose minimum is already above the cut cannot hold a point of the interval
    alternatives = [u for u, chi2 in alternatives if chi2 - chi2_hat <= (q.max() if p else 0.0)]
    for j in range(p):
        for k, side in enumerate((-1.0, 1.0)):
            end, is_open, n, u_end = _profile_end(problem, j, side, u_hat, chi2_hat, unit_se[j], targets[j],
                                                  slopes[j], alternatives)
            intervals[j, k] = end
            open_ends[j, k] = is_open
            n_eval += n
            # a nuisance that reaches its box edge at the end (not at the optimum) makes the end an artefact of
            # the box if the data leave it unconstrained (Wald SE over half its box, or infinite) or, at an end
            # the profile closed before j's own bound, the edge is a search bound and reopening it moves the end
            # (the profile goes on past it); a well-constrained one at a natural limit (accuracy at chance) does not
            moved_off = _at_edge(u_end) & ~at_edge_hat
            moved_off[j] = False
            unconstrained = moved_off & ~(np.asarray(unit_se) <= _UNCONSTRAINED_SE)
            searched = moved_off & ~unconstrained & _at_search_bound(problem, u_end) & (not is_open)
            for i in np.flatnonzero(unconstrained | searched):
                if not _bound_is_active(problem, u_end, i):
                    continue
                if searched[i]:
                    # a search bound limits the end only if reopening it moves the end (or the nuisance runs on)
                    cuts, n = _search_bound_cuts(problem, j, side, i, u_hat, chi2_hat, end, u_end, targets[j])
                    n_eval += n
                    if not cuts:
                        continue
                limited_by[j].add(int(i))
    return intervals, open_ends, limited_by, n_eval


def bootstrap_intervals(problem, u_hat, prediction, level=0.95, n_boot=200, rng=None):
    """Parametric-bootstrap percentile interval of every free parameter.

    Returns
    -------
    intervals : ndarray, shape (n_free, 2)
        Unit-box percentile interval ends.
    open_ends : ndarray of bool, shape (n_free, 2)
        Whether each end lies within 0.1% of the box edge.
    samples : ndarray, shape (n_converged, n_free)
        Unit-box estimates of the replicates that converged.
    n_failed : int
        Replicates whose refit did not converge (excluded).
    """
    rng = np.random.default_rng(rng)
    samples = []
    n_failed = 0
    for _ in range(n_boot):
        noise = problem.noise(rng)  # from the joint covariance when the statistics have one
        replicate = problem.with_data(np.where(problem.mask, prediction + noise, np.nan))
        # a replicate's estimate only feeds a percentile, so it needs less precision than the main fit
        opt = local_fit(replicate, u_hat, tol=1e-6)
        if opt.success:
            samples.append(opt.u)
        else:
            n_failed += 1
    samples = np.array(samples).reshape(-1, problem.n_free)
    alpha = (1.0 - level) / 2.0
    if len(samples) < 2:
        intervals = np.full((problem.n_free, 2), np.nan)
    else:
        intervals = np.quantile(samples, [alpha, 1.0 - alpha], axis=0).T
    open_ends = np.column_stack([intervals[:, 0] <= _EDGE, intervals[:, 1] >= 1.0 - _EDGE])
    return intervals, open_ends, samples, n_failed


def _nuisance_slopes(jac, p):
    """Row j: how the other parameters' optimum moves per unit move of parameter j (0 for j itself)."""
    slopes = np.zeros((p, p))
    if jac is None or p < 2:
        return slopes
    h = np.asarray(jac).T @ np.asarray(jac)
    if not np.isfinite(h).all():
        return slopes
    for j in range(p):
        others = np.delete(np.arange(p), j)
        slopes[j, others] = -np.linalg.lstsq(h[np.ix_(others, others)], h[others, j], rcond=1e-10)[0]
    return slopes


def _profile_end(problem, j, side, u_hat, chi2_hat, se_j, target, slope=None, alternatives=()):
    """Walk from the optimum along parameter ``j`` in direction ``side`` to where the root deviance hits target."""
    edge = 0.0 if side < 0 else 1.0
    d_max = abs(edge - u_hat[j])
    if d_max < 1e-9:
        return edge, True, 0, u_hat
    step = target * se_j if np.isfinite(se_j) and se_j > 1e-6 else 0.1
    d = min(step, d_max)
    inside = (0.0, 0.0)  # (distance, root deviance) known below target; the optimum itself
    outside = None  # first known above target
    warm = {0.0: u_hat}
    n_eval = 0
    same_side = 0  # consecutive steps that moved the same bracket end (regula falsi stalling)
    last_side = None
    for _ in range(_MAX_STEPS):
        nearest = min(warm, key=lambda x: abs(x - d))
        starts = [warm[nearest]]
        if slope is not None:
            # the linear prediction of the nuisance optimum can overshoot badly where the chi-square is strongly
            # curved: start from whichever is better at the new value, keep the other for a point that looks outside
            predicted = np.clip(warm[nearest] + side * (d - nearest) * slope, 0.0, 1.0)
            starts = sorted([warm[nearest], predicted], key=lambda w: _chi2_at(problem, j, u_hat[j] + side * d, w))
        u_point, chi2_point, finished = _profile_point(problem, j, u_hat[j] + side * d, starts[0])
        n_eval += 1
        if chi2_point - chi2_hat > target**2:
            # looks outside: make sure it is not just an unfinished re-optimisation or the wrong basin
            if not finished:
                u_more, chi2_more, _ = _profile_point(problem, j, u_hat[j] + side * d, u_point,
                                                      max_nfev=_PROFILE_NFEV_OUTSIDE)
                n_eval += 1
                if chi2_more < chi2_point:
                    u_point, chi2_point = u_more, chi2_more
            for other in [*starts[1:], *_onset_mirrored(problem, j, starts[0]), *alternatives]:
                u_other, chi2_other, _ = _profile_point(problem, j, u_hat[j] + side * d, other)
                n_eval += 1
                if chi2_other < chi2_point:
                    u_point, chi2_point = u_other, chi2_other
        delta = chi2_point - chi2_hat
        if delta < -1e-3 * max(1.0, chi2_hat):
            raise BetterMinimum(u_point, parameter=j, chi2=chi2_point)
        warm[d] = u_point
        r = np.sqrt(max(delta, 0.0))
        if abs(r - target) < _ROOT_TOLERANCE:
            return u_hat[j] + side * d, False, n_eval, u_point
        moved = "inside" if r < target else "outside"
        same_side = same_side + 1 if moved == last_side else 0
        last_side = moved
        if r < target:
            inside = (d, r)
            if d >= d_max - 1e-12:
                return edge, True, n_eval, u_point
        else:
            outside = (d, r)
        if outside is not None and outside[0] - inside[0] <= _BRACKET_WIDTH * outside[0] + 1e-4:
            # bracket narrow enough (a profile with optimiser noise need not meet the root tolerance)
            d_in, r_in = inside
            d_out, r_out = outside
            return u_hat[j] + side * (d_in + (target - r_in) * (d_out - d_in) / (r_out - r_in)), False, n_eval, u_point
        d = _next_distance(inside, outside, target, d_max, bisect=same_side >= 1)
    # out of steps: report the outer bracket (conservative) or the edge
    if outside is None:
        return edge, True, n_eval, warm[inside[0]]
    return u_hat[j] + side * outside[0], False, n_eval, warm[outside[0]]


def _bound_is_active(problem, u, i, step=0.02, threshold=0.1):
    """Whether parameter ``i``, at a box edge in ``u``, holds the chi-square up (it would drop past the edge).

    A parameter that saturates at its edge (e.g. a readout rate so fast that faster changes nothing) leaves the
    chi-square flat there; one that trades off against the profiled parameter makes it rise when moved inward.
    """
    inward = np.array(u, dtype=float)
    inward[i] = inward[i] + step if inward[i] <= 0.5 else inward[i] - step
    return problem.chi2(inward) - problem.chi2(u) > threshold


def _onset_mirrored(problem, j, u):
    """``[u]`` with a free onset mirrored across the first session, or ``[]`` (onset fixed or profiled, or on it).

    With the onset past the first session that session sits at model time 0 and its prediction is flat in the
    onset; with it before, the session is at ``time_scale * (first - onset)``. A local re-optimisation started on
    one side of this kink does not cross it, and a profile warm-started on the wrong side closes too early.
    """
    names = [p.name for p in problem.free]
    if ONSET not in names or names.index(ONSET) == j:
        return []
    k = names.index(ONSET)
    p = problem.free[k]
    first = float(np.nanmin(problem.session_time))
    mirrored = np.array(u, dtype=float)
    mirrored[k] = np.clip(float(p.to_unit(2.0 * first - float(p.from_unit(u[k])))), 0.0, 1.0)
    return [mirrored] if abs(mirrored[k] - u[k]) > 1e-6 else []


def _search_bound_cuts(problem, j, side, i, u_hat, chi2_hat, end, u_end, target):
    """Whether nuisance ``i``'s search bound, met at the end ``end`` of ``j``'s profile, cut that end short.

    Nuisance ``i``'s box is reopened past that bound by one box width (:func:`~neurolearn.fitting.search_box.
    reopened`): the profile there can only be lower than in the search box, so the end moves out by more than
    :data:`_END_SHIFT` of its distance from the estimate exactly when the reopened profile is still inside the
    cut that much further out. One re-optimisation there, warm-started where the nuisance stopped, decides it;
    the bound also cuts the end if the nuisance runs on to the reopened edge there, or if the reopened box holds
    a lower chi-square than the optimum. A nuisance that merely touches its bound at an end the data set moves
    that end by about the profile's own precision (~1%; in silent-alignment recovery fits 0-1.5% where
    hidden_share touches its bound, 97-190% where d_eff's bound cuts the onset's end).

    Returns
    -------
    cuts : bool
    n_evaluations : int
    """
    p = problem.free[i]
    at_lower = bool(u_end[i] <= 0.5)
    wider = reopened(p, lower=at_lower, upper=not at_lower)
    wide = replace(problem, free=tuple(wider if k == i else q for k, q in enumerate(problem.free)))
    start = np.array(u_end, dtype=float)
    start[i] = float(wider.to_unit(p.from_unit(start[i])))
    d_old = abs(end - u_hat[j])
    beyond = float(np.clip(end + side * _END_SHIFT * d_old, 0.0, 1.0))
    u_point, chi2_point, _ = _profile_point(wide, j, beyond, start, max_nfev=_PROFILE_NFEV_OUTSIDE)
    if chi2_point - chi2_hat < -1e-3 * max(1.0, chi2_hat):
        return True, 1  # the reopened box holds a better fit than the search box's optimum
    runs_on = u_point[i] <= _EDGE if at_lower else u_point[i] >= 1.0 - _EDGE
    return bool(runs_on or chi2_point - chi2_hat < target**2), 1


def _at_search_bound(problem, u):
    """Per free parameter: whether ``u`` is at a box edge that is a search bound, not a natural limit."""
    out = np.zeros(problem.n_free, dtype=bool)
    for i, p in enumerate(problem.free):
        natural_lower, natural_upper = natural_bounds(problem, p)
        out[i] = (u[i] <= _EDGE and not natural_lower) or (u[i] >= 1.0 - _EDGE and not natural_upper)
    return out


def _at_edge(u):
    u = np.asarray(u)
    return (u <= _EDGE) | (u >= 1.0 - _EDGE)


def _next_distance(inside, outside, target, d_max, bisect=False):
    (d_in, r_in) = inside
    if outside is None:
        # extrapolate the (near-linear) root deviance through the last inside point, at most 4x further
        slope = r_in / d_in if d_in > 0 and r_in > 0 else 0.0
        d_new = d_in + (target - r_in) / slope if slope > 0 else 4.0 * d_in
        d_new = min(max(d_new, 1.5 * d_in), 4.0 * d_in)
        return min(d_new, d_max)
    d_out, r_out = outside
    # regula falsi between the brackets; bisection when it would barely move or keeps moving the same end
    # (a strongly curved profile makes plain regula falsi creep toward the root from one side)
    d_new = d_in + (target - r_in) * (d_out - d_in) / (r_out - r_in)
    width = d_out - d_in
    if bisect or not (d_in + 0.1 * width <= d_new <= d_out - 0.1 * width):
        d_new = 0.5 * (d_in + d_out)
    return d_new


def _chi2_at(problem, j, value, start):
    u = np.array(start, dtype=float)
    u[j] = np.clip(value, 0.0, 1.0)
    return problem.chi2(u)


def _profile_point(problem, j, value, start, max_nfev=None):
    """Minimise chi-square over all free parameters but ``j``, held at unit value ``value``."""
    value = float(np.clip(value, 0.0, 1.0))
    others = np.delete(np.arange(problem.n_free), j)
    u = np.array(start, dtype=float)
    u[j] = value
    if others.size == 0:
        r = problem.residuals(u)
        return u, float(r @ r), True

    def residuals(w):
        u[others] = w
        return problem.residuals(u)

    def jacobian(w):
        u[others] = w
        return problem.jacobian(u)[:, others]

    # Interval ends need Delta chi2 to ~0.01, so profile points stop earlier than the main fit (tol 1e-6, not 1e-8).
    res = least_squares(residuals, np.clip(u[others], 0.0, 1.0), bounds=(0.0, 1.0), method="trf",
                        jac=jacobian if problem.has_jacobian else "2-point", diff_step=DIFF_STEP, ftol=1e-6,
                        xtol=1e-6, gtol=1e-6, max_nfev=max_nfev or _PROFILE_NFEV)
    out = u.copy()
    out[others] = res.x
    return out, float(2.0 * res.cost), res.status > 0
