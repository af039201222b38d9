"""Honesty gates of the kernel statistics: when a ratio's denominator is resolved from noise, when a value
lies impossibly far outside its range, and how many neurons an unbiased ratio needs.

Ratios (alignment, CKA, kernel change, code overlap) divide by unbiased estimates of squared norms that can
be 0 up to noise, or negative, when a recording has no condition structure beyond trial noise.
:func:`require_resolved` refuses them (InsufficientDataError, the reason in the message) unless the
denominator exceeds :data:`DENOMINATOR_Z` influence SEs (:func:`influence_se`), and :data:`RANGE_Z` bounds how
far outside its range a ratio may be reported (:func:`range_reason`). :func:`self_term_reasons` applies the
denominator gate to every session of a set of pairwise terms and returns reasons instead of raising.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import InsufficientDataError

__all__ = ["RANGE_Z", "DENOMINATOR_Z", "MIN_NEURONS", "influence_se", "require_resolved", "require_neurons",
           "self_term_reasons", "range_reason"]

#: a ratio's range check: an estimate outside its estimand's range by more than this many SEs is refused.
#: 3, not 2: where the truth sits on the boundary (an unchanged code has overlap 1) 2.3 % of honest
#: estimates lie more than 2 SE beyond it, 0.13 % more than 3 SE.
RANGE_Z = 3.0
#: a denominator is "resolved from noise" when its estimate exceeds this many influence SEs (influence_se).
#: For a U-statistic the influence SE overstates the SE under "no structure" by about √2, so 1 influence SE
#: is about 1.4 null SEs: 92-95 % of pure-noise sessions are refused (measured, Gaussian and Poisson), and
#: the range check catches the rest. 2 influence SEs would also refuse most realistic spiking sessions,
#: whose kernel norm is carried by a few high-rate neurons (its SE is then of the order of the value
#: itself) although their alignment is estimated with correct coverage.
DENOMINATOR_Z = 1.0
#: minimum neurons of the unbiased ratios: a U-statistic over pairs needs 2, its leave-one-out jackknife 3
MIN_NEURONS = 3


def influence_se(influence) -> float:
    """Standard error sqrt(Σ_i influence_i²) of a statistic from its per-neuron influence terms.

    This is the SD of the linearised Poisson-weight bootstrap (and, up to n/(n - order), of the jackknife).
    For a U-statistic over neuron pairs the row sums behind each influence carry the pair noise too, so it
    includes the second-order (degenerate) variance term: under "no structure" (population value 0) it
    overstates the SE by about √2, which makes :func:`require_resolved` conservative exactly there.

    Examples
    --------
    >>> round(influence_se([0.3, -0.4]), 6)
    0.5
    """
    influence = np.asarray(influence, dtype=float)
    return float(np.sqrt(np.sum(influence * influence)))


def require_resolved(value: float, se: float, what: str, session_id, *, z: float = DENOMINATOR_Z) -> None:
    """Raise :class:`InsufficientDataError` unless ``value > z * se`` (a denominator resolved from noise).

    Ratios such as alignment or CKA divide by an unbiased estimate of a squared norm. When the population
    has no condition structure beyond trial noise (or too few neurons resolve it) that estimate is 0 up to
    noise, can be negative, and the ratio of two noise terms reads anything (22.4 for an alignment bounded
    by 1). Requiring the denominator to exceed ``z`` of its (influence) standard errors refuses those cases;
    see :data:`DENOMINATOR_Z` for the choice of ``z``.

    Examples
    --------
    >>> require_resolved(3.0, 1.0, "squared kernel norm", "day0")
    >>> require_resolved(0.5, 1.0, "norm", "day0")
    Traceback (most recent call last):
    ...
    neurolearn.errors.InsufficientDataError: session 'day0': denominator not resolved from noise: norm 0.5 is not above 1 SE (SE 1)
    """
    if not (np.isfinite(value) and np.isfinite(se) and value > z * se):
        raise InsufficientDataError(
            f"session {str(session_id)!r}: denominator not resolved from noise: {what} {value:.3g} is not "
            f"above {z:g} SE (SE {se:.3g})"
        )


def require_neurons(stats: "ConditionStatistics", minimum: int = MIN_NEURONS) -> None:
    """Raise :class:`InsufficientDataError` if the session has fewer than ``minimum`` neurons.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> s = ConditionStatistics(np.ones((3, 2)), np.zeros((3, 2)), np.full(3, 2), np.arange(3), np.arange(2),
    ...                         None, "d")
    >>> require_neurons(s)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.InsufficientDataError: session 'd': too few neurons for an unbiased ratio (found 2, ...
    """
    if stats.n_neurons < minimum:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: too few neurons for an unbiased ratio (found {stats.n_neurons}, "
            f"need {minimum})"
        )


def self_term_reasons(pairs, what):
    """Per session: "" if its self term is resolved from noise (> 1 influence SE) and it has enough
    neurons, else the reason."""
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(len(pairs["self"]))]
    reasons = []
    for k, value in enumerate(pairs["self"]):
        influence = pairs["self_influence"][k]
        try:
            if pairs.get("unbiased") and influence.size < MIN_NEURONS:
                raise InsufficientDataError(f"session {ids[k]!r}: too few neurons for an unbiased ratio "
                                            f"(found {influence.size}, need {MIN_NEURONS})")
            if pairs.get("unbiased"):
                require_resolved(value, influence_se(influence), what, ids[k])
            elif not value > 0:
                raise InsufficientDataError(f"session {ids[k]!r}: the kernel is zero ({what} = {value:.3g})")
        except InsufficientDataError as error:
            reasons.append(str(error))
        else:
            reasons.append("")
    return reasons


def range_reason(estimate, se, what, pairs, a, b, low=-1.0, high=1.0):
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(len(pairs["self"]))]
    if np.isfinite(estimate) and not (estimate < low - RANGE_Z * se or estimate > high + RANGE_Z * se):
        return ""
    return (f"sessions {ids[a]!r}, {ids[b]!r}: denominator not resolved from noise: {what} estimate "
            f"{estimate:.3g} lies outside [{low:g}, {high:g}] by more than {RANGE_Z:g} SE (SE {se:.3g})")
