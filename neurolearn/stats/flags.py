"""Statistics the data cannot support: NaN with a reason, one warning, and the run goes on.

A statistic that cannot be computed for one session (too few conditions, trials or neurons; one class; no
task label; a ratio whose denominator is not resolved from noise) raises
:class:`~neurolearn.errors.InsufficientDataError` where it is computed. :func:`neurolearn.summarize` catches it
for that session and statistic only, stores NaN in the value, its SE and interval, stores the reason in
``<name>_flag`` (see :func:`neurolearn.data.flag_name`) and warns once with :class:`StatisticWarning` naming the
session, the statistic and the reason.
"""

from __future__ import annotations

import warnings

from neurolearn.errors import session_reason

__all__ = ["StatisticWarning", "warn_unsupported", "warn_unsupported_pairs"]


class StatisticWarning(UserWarning):
    """A statistic was left NaN (or flagged as carrying no information) for one session, with the reason."""


def warn_unsupported(statistic: str, session, reason: str, *, stacklevel: int = 3) -> None:
    """Warn once that ``statistic`` is NaN for ``session`` because of ``reason``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unsupported("margin", "day1", "one class of 'target'")
    >>> str(caught[0].message)
    "margin is NaN for session 'day1': one class of 'target'"
    """
    warnings.warn(StatisticWarning(f"{statistic} is NaN for {session_reason(session, reason)}"),
                  stacklevel=stacklevel)


def warn_unsupported_pairs(statistic: str, sessions, reason: str, *, stacklevel: int = 3) -> None:
    """Warn once that the pairwise ``statistic`` is NaN in the rows of ``sessions`` because of ``reason`` (one
    cause, one warning: a session without a kernel makes a NaN in every other session's row).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unsupported_pairs("kernel_similarity", ["d0", "d1"], "session 'd2' has no kernel")
    >>> str(caught[0].message)
    "kernel_similarity is NaN in the pairs of sessions ['d0', 'd1']: session 'd2' has no kernel"
    """
    sessions = [str(s) for s in sessions]
    if len(sessions) == 1:
        warn_unsupported(statistic, sessions[0], reason, stacklevel=stacklevel + 1)
        return
    shown = repr(sessions) if len(sessions) <= 6 else f"{sessions[:5]!r} ... ({len(sessions)})"
    warnings.warn(StatisticWarning(f"{statistic} is NaN in the pairs of sessions {shown}: {reason}"),
                  stacklevel=stacklevel)
