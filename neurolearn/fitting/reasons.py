"""What a fit says about itself: why a parameter is not identifiable, and why a fit reports no estimates.

Each sentence must be true of the result it comes with: one cause, what was expected, what was found. A
parameter's reasons are read from its interval (which ends reach a search bound, and whether that bound is a
natural limit of the parameter), the other parameters at their bounds there, and its Wald SE; a failed fit's
cause is the first thing that stopped it (the optimiser's evaluation limit, an optimum that a profile kept
moving, predictions that are not finite). :func:`~neurolearn.fitting.finish.finish_fit` assembles them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["parameter_reasons", "natural_bounds", "wider_than_range", "not_converged", "refit_failed",
           "kept_moving", "non_finite"]


def natural_bounds(problem, p) -> tuple[bool, bool]:
    """Whether the free parameter ``p``'s (lower, upper) search bound is a natural limit the model declares
    (:attr:`neurolearn.theory.Parameter.natural`): only where the box edge is the declared bound itself."""
    declared = problem.model.params.get(p.name)
    if declared is None:  # time_scale, onset: their boxes are arbitrary
        return (False, False)
    return tuple(bool(n) and float(edge) == float(bound)
                 for n, edge, bound in zip(declared.natural, (p.lower, p.upper), declared.bounds))


def parameter_reasons(p, open_ends, natural, confounders=(), no_interval="", wald=""):
    """Why free parameter ``p`` is not identifiable, which natural bounds its interval is one-sided at, and
    which of its ends are censored at a search bound.

    Parameters
    ----------
    p : FreeParameter
    open_ends : (bool, bool)
        Whether the interval's (lower, upper) end stopped at the box edge (profile below its cut there).
    natural : (bool, bool)
        Whether those edges are natural limits (:func:`natural_bounds`).
    confounders : sequence of str
        Other parameters at a search bound at one of the interval's ends, holding the chi-square up there.
    no_interval : str
        Why no interval was computed ("" when one was, or none was asked for).
    wald : str
        What the Wald SE says ("" when it says nothing against the parameter; see :func:`wider_than_range`).

    Returns
    -------
    reasons : list of str
    one_sided : list of str
        ``"upper bound 1"`` for each end open at a natural limit, when the other end is closed.
    censored : (bool, bool)
        Ends open at a search bound that is not a natural limit: the box's end, not the estimand's.

    Examples
    --------
    >>> from neurolearn.fitting.search_box import FreeParameter
    >>> p = FreeParameter("p", 0.0, 1.0, 0.5)
    >>> parameter_reasons(p, (True, True), (True, True))[0]
    ['interval spans its whole range [0, 1] (both natural bounds)']
    >>> parameter_reasons(p, (False, True), (False, False), confounders=["k"])
    (['interval reaches the upper search bound', 'interval ends where k reaches its search bound (confounded)'], [], (False, True))
    """
    reasons, one_sided = [], []
    censored = tuple(bool(o and not n) for o, n in zip(open_ends, natural))
    if all(open_ends) and any(natural):
        # open at both ends, one of them a natural limit: the whole range, not a one-sided interval
        kinds = ("both natural bounds" if all(natural) else
                 " and ".join(f"{'natural' if n else 'search'} {side} bound" for side, n in zip(("lower", "upper"), natural)))
        reasons.append(f"interval spans its whole range [{p.lower:g}, {p.upper:g}] ({kinds})")
    elif any(open_ends):
        sides = [side for side, c in zip(("lower", "upper"), censored) if c]
        if sides:
            reasons.append(f"interval reaches the {' and '.join(sides)} search bound{'s' if len(sides) > 1 else ''}")
        one_sided = [f"{side} bound {bound:g}" for side, bound, o, n in
                     zip(("lower", "upper"), (p.lower, p.upper), open_ends, natural) if o and n]
    others = sorted(confounders)
    if len(others) == 1:
        reasons.append(f"interval ends where {others[0]} reaches its search bound (confounded)")
    elif others:
        reasons.append(f"interval ends where {', '.join(others)} reach their search bounds (confounded)")
    if no_interval:
        reasons.append(no_interval)
    if wald:
        reasons.append(wald)
    return reasons, one_sided, censored


def wider_than_range(p, se, unit_se) -> str:
    """Why an SE says nothing within ``p``'s search range ("" if it does not): the SE of ``p`` (of ``log p``
    for a log-scale parameter, whose box is searched in ``log``) exceeds the width of that range.

    Such an SE is the curvature of a chi-square that is nearly flat across the whole range; the interval, which
    is clipped to the range, is then the range itself, and ``estimate +- SE`` lies mostly outside it.
    """
    if not unit_se > 1.0:
        return ""
    if p.log_scale:
        return (f"SE of log({p.name}) {unit_se * np.log(p.upper / p.lower):.3g} exceeds its range "
                f"log({p.upper:.3g} / {p.lower:.3g}) = {np.log(p.upper / p.lower):.3g}")
    return f"SE {se:.3g} exceeds its range [{p.lower:.3g}, {p.upper:.3g}]"


def not_converged(optimum) -> str:
    """A run that stopped at its evaluation limit: the solver's words, the chi-square reached, how it got there."""
    text = f"did not converge ({optimum.solver_message}); best chi2 reached {optimum.chi2:.4g}"
    return text + (f" ({'; '.join(optimum.history)})" if optimum.history else "")


def refit_failed(name, found, before, moved) -> str:
    """A profile of ``name`` found chi-square ``found`` below the optimum's ``before``; the refit from there
    (``moved``, after a longer run too) did not converge."""
    return (f"did not converge: the profile of {name} found a lower chi-square ({found:.6g}) than the optimiser's "
            f"minimum ({before:.6g}), and the refit from there stopped short of a minimum ({moved.solver_message}, "
            f"also in a longer run; best chi2 reached {moved.chi2:.6g}); no minimum to report")


def kept_moving(moves) -> str:
    """Every allowed recentring found yet another lower chi-square: ``moves`` of (parameter, found, before)."""
    trail = ", ".join(f"profile of {name} {found:.6g} < {before:.6g}" for name, found, before in moves)
    return (f"no stable minimum: the optimum kept moving, a profile finding a lower chi-square than it {len(moves)} "
            f"times ({trail}); neither estimates nor intervals are reported")


def non_finite(problem, values, count) -> str:
    """The best point's predictions are not finite (``count`` of the fitted values): its chi-square is the
    optimiser's stand-in for them, not the model's."""
    shown = ", ".join(f"{p.name}={values[p.name]:.4g}" for p in problem.free)
    return (f"no usable minimum: the model returns non-finite predictions for {count} of {problem.n_obs} fitted "
            f"values at the best point found ({shown})")
