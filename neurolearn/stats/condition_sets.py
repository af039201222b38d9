"""The conditions the pairwise kernel statistics are over: one set for the whole trajectory.

kernel_similarity, kernel_change, kernel_scale, code_overlap and the agreements compare sessions over the
conditions every session of the summary shows, so every pair and every session's change from the reference is
over the same conditions (their registry estimands say so). Two things follow, both said out loud here: a
session showing so few of the others' conditions that the shared set would fall below kernel_similarity's
minimum is left out of it (:func:`sharing_sessions`), and a session lacking a condition the others show narrows
every pair's set, which :func:`warn_narrowed_conditions` warns about once, naming the conditions and sessions
(a day missing one of 8 conditions moved every pair's kernel_similarity, 0.57 -> 0.92 with its truth 0.55 ->
0.82, without a word: adversary S7-1).
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.flags import StatisticWarning

__all__ = ["PAIRWISE_CONDITIONS", "shared_conditions", "sharing_sessions", "warn_narrowed_conditions"]

#: summarize's attr holding the conditions the pairwise statistics are over
PAIRWISE_CONDITIONS = "pairwise_conditions"


def shared_conditions(stats) -> np.ndarray:
    """The condition values every one of ``stats`` (sessions' sufficient statistics) shows, sorted.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> shared_conditions([S(conditions=np.array([0, 1, 2])), S(conditions=np.array([1, 2, 3]))]).tolist()
    [1, 2]
    """
    common = stats[0].conditions
    for s in stats[1:]:
        common = np.intersect1d(common, s.conditions)
    return np.asarray(common)


def sharing_sessions(stats, present):
    """The sessions (indices into ``stats``, from ``present``) whose shared conditions the pairwise statistics
    are over, and ``[(index, reason)]`` for those left out.

    All of them, unless a few show so few of the others' conditions that the set every session shows falls below
    kernel_similarity's minimum (a calibration day with one stimulus made every pair NaN): those are left out one
    at a time, the one whose removal enlarges the shared set most first, each NaN in every pairwise statistic
    with the reason.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> days = [S(conditions=np.arange(8)), S(conditions=np.arange(8)), S(conditions=np.array([0]))]
    >>> kept, left_out = sharing_sessions(days, [0, 1, 2])
    >>> kept, left_out[0][0]
    ([0, 1], 2)
    """
    need = STATISTICS["kernel_similarity"].needs.min_conditions
    kept, left_out = list(present), []
    while len(kept) > 2:
        size = shared_conditions([stats[k] for k in kept]).size
        if size >= need:
            break
        without = [(shared_conditions([stats[j] for j in kept if j != k]).size, -stats[k].conditions.size, k)
                   for k in kept]
        best, _, k = max(without)
        if best <= size:
            break
        kept.remove(k)
        left_out.append((k, f"shows {stats[k].conditions.size} conditions, {size} of them shared with the other "
                            f"sessions ({need} needed): left out of the condition set the sessions share, which is "
                            f"{best} conditions without it"))
    return kept, left_out


def warn_narrowed_conditions(common, stats, session_ids, names) -> list:
    """``common`` as a list; one :class:`~neurolearn.stats.flags.StatisticWarning` about the statistics
    ``names`` where some of the sessions (``stats``, ``session_ids``) lack a condition the others show.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> days = [S(conditions=np.arange(3)), S(conditions=np.arange(2))]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_narrowed_conditions(shared_conditions(days), days, ["d0", "d1"], ("kernel_similarity",))
    [0, 1]
    >>> str(caught[0].message)[:96]
    'kernel_similarity of every pair of sessions are over the 2 conditions every session shows: condi'
    """
    shown = {}
    for s, session in zip(stats, session_ids):
        for condition in np.asarray(s.conditions).tolist():
            shown.setdefault(condition, []).append(str(session))
    common_list = np.asarray(common).tolist()
    dropped = [c for c in shown if c not in set(common_list)]
    if dropped and common_list:
        ids = [str(s) for s in session_ids]
        lacking = sorted({s for c in dropped for s in ids if s not in shown[c]}, key=ids.index)
        listed = sorted(dropped, key=str)
        plural = len(listed) > 1
        warnings.warn(StatisticWarning(
            f"{', '.join(names)} of every pair of sessions are over the {len(common_list)} conditions every "
            f"session shows: condition{'s' if plural else ''} {listed[:8]}{' ...' if len(listed) > 8 else ''} "
            f"not shown in session{'s' if len(lacking) > 1 else ''} {lacking[:8]} {'are' if plural else 'is'} "
            f"left out of all of them (attr {PAIRWISE_CONDITIONS}; summarize without those sessions to keep "
            "them)", statistics=tuple(names)), stacklevel=6)
    return common_list
