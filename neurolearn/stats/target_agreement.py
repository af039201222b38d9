"""Target agreement: how the task of one session relates to the task of another, seen through a kernel.

The sign-invariant kernel statistics (task alignment, task difficulty, spectral power) depend on the target
only through ``y yᵀ``, so they cannot tell a reversed task (``y2 = -y1``) from the original one. The target
agreement keeps the sign. For session ``s`` (kernel ``Φ_s``) and session ``t`` (target ``y_t``), over the
conditions both show, with centred targets ``c = H y`` (columns ``C`` for one-hot targets)::

    target_agreement[s, t] = tr(C_sᵀ Φ_s C_t) / sqrt(tr(C_sᵀ Φ_s C_s) tr(C_tᵀ Φ_s C_t))

the cosine of the two targets in the metric of session ``s``'s kernel (in [-1, 1] for a positive
semi-definite kernel, by Cauchy-Schwarz): +1 for the same task, -1 for a reversal, and for a new task it is
how much of the new target lives in the kernel directions the old target uses. It is what the readout's
learning speed on the new task depends on at the switch: gradient flow of a readout from ``f0 = y_s`` toward
``y_t`` on the kernel ``Φ`` starts with ``-dL/dt ∝ (y_t - y_s)ᵀ Φ (y_t - y_s) = q_t - 2 A sqrt(q_s q_t) + q_s``
(``q = cᵀ Φ c``), so a reversal (``A = -1``) has the largest initial error *and* the largest initial speed
(docs/theory.md §1, §2.8).

Targets of the two sessions are encoded together (:func:`~neurolearn.stats.kernels.target_matrix` on the
union of their values), so the same label value means the same class in both; a numeric target with more
than two non-integer values is used as it is (a regression target). Two class targets in which each session
holds a value the other lacks (-1/+1 in one session and 1/2 in another; 'left/right/nogo' and
'Left/Right/Nogo'; 0/1/2 and 1/2/3) give NaN with the reason: which class is which is not declared, and
encoded together their one-hot columns would not overlap, an agreement of 0 (or a partial reversal) made by
the coding, whatever the kernel (adversary S5-7, S8-1). A session whose classes are a subset of the other's
(a day without one class on the shared conditions) is computed: every value it holds names a class of the
other session.

Estimation (docs/theory.md §1.1): the numerator and both quadratic forms are linear in the kernel, so each
is a mean over neurons of trial-noise-corrected per-neuron terms ``(c·m_i)(c'·m_i) - Σ_μ c_μ c'_μ v_iμ``
(``v`` the squared standard error of the condition mean), unbiased for the population kernel, and the
estimate is their ratio. Its O(1/N) bias is not removed: numerator and denominator move together (a cosine),
so the bias is small (0.03-0.09 of the SD over redraws of the transfer network and of log-normal-rate
Poisson sessions), while the leave-one-neuron-out jackknife correction raised the spread by 20-37 % on the
spiking sessions (mean squared error x 1.4-1.9, benchmarks/bench_alignment_se.py). The plug-in
(``unbiased=False``) keeps the trial noise, which inflates both quadratic forms and pulls the agreement toward
0 (toward the noise's own agreement, ``Σ_μ c_μ c'_μ σ_μ² / ...``). Two targets equal or opposite (up to a
positive scale) on the shared conditions agree by ±1 whatever the kernel: that value is exact, with zero
standard error. Only session ``s``'s neurons enter ``[s, t]``, so the replicates re-weight that session's
neurons; they are mapped to normal scores (order kept) with the SD of the leave-one-neuron-out jackknife times
the Student factor of its degrees of freedom
(:func:`~neurolearn.stats.neuron_resampling.jackknife_spread`).

Examples
--------
>>> import numpy as np
>>> y1, y2 = np.array([1.0, 1.0, -1.0, -1.0]), np.array([1.0, -1.0, 1.0, -1.0])
>>> kernel = np.eye(4) + 3.0 * np.outer(y1, y1) / 4  # task 1 learned: its direction enlarged
>>> float(kernel_target_agreement(kernel, y1, -y1)), float(kernel_target_agreement(kernel, y1, y2))
(-1.0, 0.0)
>>> round(float(kernel_target_agreement(kernel, y1, 0.6 * y1 + 0.8 * y2)), 3)  # 0.6 * 2 / sqrt(0.36 * 4 + 0.64)
0.832
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.kernel_guards import RANGE_Z, influence_se, require_neurons, require_resolved
from neurolearn.stats.kernels import ConditionStatistics, target_matrix
from neurolearn.stats.neuron_resampling import (
    jackknife_spread,
    leave_one_out,
    normal_score_replicates,
    recentre_replicates,
    replicate,
    t_spread,
)

__all__ = ["kernel_target_agreement", "paired_targets", "coding_conflict", "agreement_with_replicates",
           "agreement_matrix", "CodingConflict"]


class CodingConflict(InsufficientDataError):
    """Two sessions code the classes of the target with different values (each holds one the other lacks)."""


def kernel_target_agreement(kernel, target, other_target) -> float:
    """The agreement of two targets in a known kernel (the estimand, computed plainly).

    Parameters
    ----------
    kernel : array_like, shape (P, P)
        Condition kernel.
    target, other_target : array_like, shape (P,) or (P, C)
        The two targets, encoded together (:func:`paired_targets`) when they are labels.

    Examples
    --------
    >>> import numpy as np
    >>> kernel = np.diag([4.0, 1.0, 1.0, 1.0])
    >>> round(float(kernel_target_agreement(kernel, [1, 1, -1, -1], [1, 1, -1, -1])), 12)
    1.0
    """
    kernel = np.asarray(kernel, dtype=float)
    first, second = paired_targets(target, other_target)
    first, second = _centre(first), _centre(second)
    numerator = np.sum(first * (kernel @ second))
    return float(numerator / np.sqrt(np.sum(first * (kernel @ first)) * np.sum(second * (kernel @ second))))


def paired_targets(target, other_target) -> tuple[np.ndarray, np.ndarray]:
    """Both targets encoded on the union of their values: ±1 for two classes, one-hot columns for more, the
    values themselves for a numeric regression target.

    Examples
    --------
    >>> a, b = paired_targets(["x", "y", "x"], ["y", "x", "x"])
    >>> a.ravel().tolist(), b.ravel().tolist()
    ([1.0, -1.0, 1.0], [-1.0, 1.0, 1.0])
    """
    first, second = np.asarray(target), np.asarray(other_target)
    if first.ndim == 2 or second.ndim == 2:
        return first.astype(float), second.astype(float)
    conflict = coding_conflict(first, second)
    if conflict is not None:
        raise CodingConflict(conflict_reason(conflict))
    encoded = target_matrix(np.concatenate([first, second]), name="target")
    return encoded[: first.size], encoded[first.size:]


def coding_conflict(target, other_target):
    """The class values of each target where each holds a value the other lacks (None where one's values are
    all among the other's, or for a regression target or an encoded matrix).

    Values are compared as :func:`paired_targets` encodes them (on the union of both: 1 and 1.0 are one
    value, 'left' and 'Left' two). Two sessions with the same classes, or one without some of the other's
    classes (a day missing a condition type), code them alike; where each has a value the other lacks (a
    recoding: 'Left' for 'left', 1/2/3 for 0/1/2, or a renamed class), the one-hot columns of those values
    are disjoint and the agreement would be set by the coding, not the kernel. For two classes each this is
    the check that any difference in the two pairs of values is refused.

    Examples
    --------
    >>> coding_conflict(["left", "right", "nogo"], ["Left", "Right", "Nogo"])
    (['left', 'nogo', 'right'], ['Left', 'Nogo', 'Right'])
    >>> coding_conflict([0, 1, 2, 0], [1, 2, 3, 1])
    ([0, 1, 2], [1, 2, 3])
    >>> coding_conflict([0, 1, 2], [0, 1, 1]) is None, coding_conflict([0, 1], [0.0, 1.0]) is None
    (True, True)
    """
    first, second = np.asarray(target), np.asarray(other_target)
    if first.ndim != 1 or second.ndim != 1 or _regression(first) or _regression(second):
        return None
    joint = np.concatenate([first, second])
    try:
        classes, codes = np.unique(joint, return_inverse=True)
    except TypeError:  # an object column mixing types: compared as text
        classes, codes = np.unique(joint.astype(str), return_inverse=True)
    codes = codes.ravel()
    own, other = set(codes[: first.size].tolist()), set(codes[first.size:].tolist())
    if own <= other or other <= own:
        return None
    values = classes.tolist()
    return [values[k] for k in sorted(own)], [values[k] for k in sorted(other)]


def conflict_reason(conflict, sessions=None) -> str:
    """The reason a coding conflict gives: both value sets (or each session's, ``sessions`` names them) and
    what to do.

    Examples
    --------
    >>> conflict_reason((["L", "R"], ["left", "right"]))[:75]
    "the sessions code the classes with different values (['L', 'R'] and ['left'"
    """
    if sessions is None:
        shown_values, which = f"{list(conflict[0])!r} and {list(conflict[1])!r}", "each holds a value the other"
    else:
        shown_values = "; ".join(f"{name!r}: {list(values)!r}" for name, values in zip(sessions, conflict))
        which = "each of these holds a value another"
    return (f"the sessions code the classes with different values ({shown_values}): {which} lacks, and the "
            "same value must name the same class in every session (encoded together their "
            "classes would not overlap: an agreement set by the coding, not the kernel); recode the target to one "
            "coding or declare a mapping (target={column: {value: class}})")


def _regression(values):
    """Whether :func:`~neurolearn.stats.kernels.target_matrix` reads ``values`` as a regression target."""
    return (np.issubdtype(values.dtype, np.floating) and np.unique(values).size > 2
            and not np.allclose(values, np.round(values)))


def agreement_with_replicates(stats: ConditionStatistics, other_target, *, unbiased: bool = True, weights=None):
    """Agreement of ``stats.target`` with ``other_target`` in ``stats``'s kernel, and its replicates.

    Parameters
    ----------
    stats : ConditionStatistics
        The session whose kernel is used (and whose target is the first one).
    other_target : array_like, shape (P,)
        The other session's target on the same conditions (same order).
    unbiased : bool
        Trial-noise-corrected per-neuron terms (else the plug-in ratio, with the trial noise).
    weights : ndarray (B, N), optional
        Poisson neuron weights of ``stats``'s neurons.

    Returns
    -------
    value : float
    replicates : ndarray (B,)
        Linearised neuron-bootstrap replicates mapped to normal scores about the estimate with SD the
        jackknife SE times t_0.975(df)/z_0.975 (re-centred on it, their own spread, where fewer than 3
        leave-one-out values are finite); empty without weights; all equal to the value where the agreement
        is ±1 by construction. Over 600 redraws of one population in each of six log-normal-rate Poisson
        designs their SD had been 0.62-0.76 of the estimates' spread (coverage 0.845-0.89) and is now
        1.20-1.46 (the Student factor of 5-8 degrees of freedom: the jackknife SE's RMS alone is 1.00-1.13;
        coverage 0.85-0.94); over 1500 redraws of the transfer network 1.00 before and 1.05 after (coverage
        0.93-0.94 -> 0.943-0.950).

    Raises
    ------
    CodingConflict
        The two targets code the classes with different values (:func:`coding_conflict`).
    InsufficientDataError
        No target, one class or a constant other target, fewer than 3 conditions or neurons, a quadratic
        form not resolved from noise (not above 1 influence SE), an estimate outside [-1, 1] by more than 3 SE,
        replicates that do not move for an estimate that is not exact by construction.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([1.0, -1.0], 4)
    >>> means = np.outer(y, rng.standard_normal(50)) + 0.3 * rng.standard_normal((8, 50))
    >>> stats = ConditionStatistics(means, np.full((8, 50), 0.01), np.full(8, 4), np.arange(8), np.arange(50),
    ...                             y, "day0")
    >>> value, _ = agreement_with_replicates(stats, -y)
    >>> float(value)
    -1.0
    """
    if stats.target is None:
        raise InsufficientDataError(f"session {stats.session_id!r}: no task label (target agreement needs a "
                                    "target in both sessions)")
    if stats.n_conditions < 3:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: fewer than 3 shared conditions (found {stats.n_conditions}); with 2 "
            "any two centred targets are collinear and the agreement is +-1 by construction")
    try:
        first, second = paired_targets(stats.target, other_target)
    except CodingConflict as error:
        raise CodingConflict(f"session {stats.session_id!r}: {error}") from None
    except DataError as error:  # one class over both sessions, non-finite values
        raise InsufficientDataError(f"session {stats.session_id!r}: one class of the targets on the shared "
                                    f"conditions ({error})") from None
    first, second = _centre(first), _centre(second)
    for what, encoded in (("this session's", first), ("the other session's", second)):
        if not np.any(np.abs(encoded) > 1e-12 * max(1.0, float(np.max(np.abs(encoded))))):
            raise InsufficientDataError(f"session {stats.session_id!r}: {what} target is constant on the shared "
                                        "conditions (one class)")
    exact = _same_up_to_sign(first, second)
    n_boot = 0 if weights is None else weights.shape[0]
    if exact is not None:
        return float(exact), np.full(n_boot, float(exact))
    if unbiased:
        require_neurons(stats)
    terms = [_per_neuron(stats, a, b, unbiased) for a, b in ((first, second), (first, first), (second, second))]
    values = [float(t.mean()) for t in terms]
    influences = [(t - v) / stats.n_neurons for t, v in zip(terms, values)]
    for name, k in (("this session's target", 1), ("the other session's target", 2)):
        if unbiased:
            require_resolved(values[k], influence_se(influences[k]),
                             f"kernel quadratic form of {name} c'Kc", stats.session_id)
        elif not values[k] > 0:
            raise InsufficientDataError(f"session {stats.session_id!r}: the kernel does not represent {name}")
    estimate = _ratio(*values)
    # first-order (delta-method) influence of the ratio: its SE for the range check
    ratio_influence = (influences[0] / np.sqrt(values[1] * values[2])
                       - 0.5 * estimate * (influences[1] / values[1] + influences[2] / values[2]))
    se = influence_se(ratio_influence)
    if not np.isfinite(estimate) or abs(estimate) > 1.0 + RANGE_Z * se:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: denominator not resolved from noise: target agreement estimate "
            f"{estimate:.3g} lies outside [-1, 1] by more than {RANGE_Z:g} SE (SE {se:.3g})")
    if weights is None:
        return float(estimate), np.empty(0)
    replicates = _ratio(*(replicate(v, weights, i) for v, i in zip(values, influences)))
    # the spread: the jackknife SE of the ratio from its exact leave-one-neuron-out values (every term a
    # mean), with the Student factor of its own degrees of freedom (:func:`jackknife_spread`)
    loo = [leave_one_out(values[k], influences[k], 1) for k in range(3)]
    spread = t_spread(*jackknife_spread(_ratio(*loo)))
    if not np.isfinite(spread):
        replicates = recentre_replicates(estimate, replicates)
    else:
        replicates = normal_score_replicates(estimate, replicates, spread=spread)
    _require_spread(stats, estimate, replicates)
    return float(estimate), replicates


def agreement_matrix(stats: list[ConditionStatistics], *, unbiased: bool = True, weights=None):
    """``target_agreement[s, t]`` for every pair of sessions sharing their conditions (same order).

    Returns ``(values (S, S), replicates (B, S, S) or None, reasons (S, S) of str)``; row ``s`` uses session
    ``s``'s kernel and neurons. ``weights``: one ``(B, N_s)`` array (or None) per session.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y = np.tile([1.0, -1.0], 4)
    >>> make = lambda target, sid: ConditionStatistics(np.outer(y, rng.standard_normal(40)) + rng.standard_normal(
    ...     (8, 40)), np.full((8, 40), 0.01), np.full(8, 4), np.arange(8), np.arange(40), target, sid)
    >>> values, _, reasons = agreement_matrix([make(y, "a"), make(-y, "b")])
    >>> values.tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    n = len(stats)
    weights = [None] * n if weights is None else list(weights)
    n_boot = 0 if weights[0] is None else weights[0].shape[0]
    values = np.full((n, n), np.nan)
    replicates = np.full((n_boot, n, n), np.nan) if n_boot else None
    reasons = np.full((n, n), "", dtype=object)
    conflicts = _session_conflicts(stats)
    for s, own in enumerate(stats):
        seen = {}  # other targets equal to one already done in this row give the same entry (same inputs)
        for t, other in enumerate(stats):
            if (s, t) in conflicts:
                reasons[s, t] = conflicts[(s, t)]
                continue
            try:
                if other.target is None:
                    raise InsufficientDataError(f"session {other.session_id!r}: no task label (target agreement "
                                                "needs a target in both sessions)")
                key = _target_key(other.target)
                if key not in seen:
                    try:
                        seen[key] = agreement_with_replicates(own, other.target, unbiased=unbiased,
                                                              weights=weights[s])
                    except InsufficientDataError as error:
                        seen[key] = error
                if isinstance(seen[key], InsufficientDataError):
                    raise seen[key]
                value, reps = seen[key]
            except InsufficientDataError as error:
                reasons[s, t] = str(error)
                continue
            values[s, t] = value
            if replicates is not None:
                replicates[:, s, t] = reps
    return values, replicates, reasons


def _require_spread(stats, estimate, replicates):
    """Refuse an estimate that is not exact by construction (the ±1 of equal or opposite targets returns
    before) but whose replicates do not move: a zero-width interval there would state a value set by the
    targets' coding (disjoint one-hot columns give 0 whatever the neurons) as known exactly (adversary S8-1)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size >= 2 and np.ptp(finite) <= 1e-12 * max(1.0, abs(estimate)):
        raise InsufficientDataError(
            f"session {stats.session_id!r}: the agreement {estimate:.3g} does not vary over resampled neurons "
            "though the targets are neither equal nor opposite: a value fixed by how the targets are coded "
            "(classes that do not overlap), not measured; recode the target to one coding")


def _session_conflicts(stats):
    """``{(s, t): reason}`` for the pairs of sessions whose targets code the classes with different values;
    one reason for them all, naming every session in a conflict and its values, so that the refusal is said
    once (one warning) rather than once per pair."""
    pairs = {}
    for s, own in enumerate(stats):
        for t in range(s + 1, len(stats)):
            other = stats[t]
            if own.target is not None and other.target is not None:
                conflict = coding_conflict(own.target, other.target)
                if conflict is not None:
                    pairs[(s, t)] = pairs[(t, s)] = conflict
    if not pairs:
        return {}
    involved = sorted({k for pair in pairs for k in pair})
    values = []
    for k in involved:
        s, t = next(pair for pair in pairs if pair[0] == k)
        values.append(pairs[(s, t)][0] if s < t else pairs[(t, s)][1])
    reason = conflict_reason(values, sessions=[stats[k].session_id for k in involved])
    return {pair: reason for pair in pairs}


def _target_key(target):
    """A hashable key equal for equal target arrays (values, dtype and shape)."""
    target = np.asarray(target)
    if target.dtype.kind in "biuf":
        return target.dtype.str, target.shape, target.tobytes()
    return "values", target.shape, tuple(target.ravel().tolist())


def _centre(encoded):
    encoded = np.asarray(encoded, dtype=float)
    encoded = encoded[:, None] if encoded.ndim == 1 else encoded
    return encoded - encoded.mean(axis=0, keepdims=True)


def _same_up_to_sign(first, second):
    """+1 or -1 if the centred targets are equal or opposite up to a positive scale, else None."""
    scale_first, scale_second = np.linalg.norm(first), np.linalg.norm(second)
    a, b = first / scale_first, second / scale_second
    tolerance = 1e-9
    if np.max(np.abs(a - b)) < tolerance:
        return 1.0
    if np.max(np.abs(a + b)) < tolerance:
        return -1.0
    return None


def _per_neuron(stats, a, b, unbiased):
    """tr(Aᵀ K_i B) = Σ_columns (a·m_i)(b·m_i) - Σ_μ (Σ_col a_μ b_μ) v_iμ for every neuron i."""
    projected_a = a.T @ stats.means  # (C, N)
    projected_b = b.T @ stats.means
    terms = np.sum(projected_a * projected_b, axis=0)
    if unbiased:
        terms = terms - np.sum(a * b, axis=1) @ stats.sem2
    return terms


def _ratio(numerator, first, second):
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where((first > 0) & (second > 0), numerator / np.sqrt(np.abs(first * second)), np.nan)
    return float(out) if out.ndim == 0 else out
