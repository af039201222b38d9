"""Statistics the data cannot support: NaN with a reason, one warning, and the run goes on.

A statistic that cannot be computed for one session (too few conditions, trials or neurons; one class; no
task label; a ratio whose denominator is not resolved from noise) raises
:class:`~neurolearn.errors.InsufficientDataError` where it is computed. :func:`neurolearn.summarize` catches it
for that session and statistic only, stores NaN in the value, its SE and interval, stores the reason in
``<name>_flag`` (see :func:`neurolearn.data.flag_name`) and warns with :class:`StatisticWarning` naming the
statistic, the reason and the session -- once per statistic and reason, naming every session it holds for.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

from neurolearn.errors import plain, session_label, session_reason

__all__ = ["StatisticWarning", "warn_unsupported", "warn_unsupported_pairs", "warn_unsupported_sessions",
           "only_requested_warnings", "warnings_about"]


class StatisticWarning(UserWarning):
    """A statistic was left NaN (or flagged as carrying no information) for one session, with the reason.

    ``statistics``: the registered statistics it concerns, where the message speaks of several (a family's);
    a message that starts with one statistic's name concerns that one.
    """

    def __init__(self, message, statistics=()):
        super().__init__(message)
        self.statistics = tuple(statistics)

    def named(self) -> tuple:
        """The registered statistics the warning concerns: ``statistics``, else the one its message starts with."""
        from neurolearn.statistic_registry import STATISTICS

        if self.statistics:
            return self.statistics
        first = str(self.args[0]).split(" ", 1)[0] if self.args else ""
        return (first,) if first in STATISTICS else ()

    def concerns(self, names) -> bool:
        """Whether the warning speaks of one of ``names`` (True where it names no registered statistic)."""
        named = self.named()
        return not named or bool(set(named) & set(names))


@contextmanager
def only_requested_warnings(statistics):
    """Within the block, hold back :class:`StatisticWarning` about statistics not in ``statistics`` (None:
    hold back nothing); every other warning passes as it would have.

    ``summarize(statistics=[...])`` computes behaviour and the kernel family whatever is named (they set the
    sessions' table), so their NaN values keep their reason in ``<name>_flag`` but warn only where named.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with only_requested_warnings(["behavior"]):
    ...         warn_unsupported("task_alignment", "day1", "too few conditions")
    ...         warn_unsupported("behavior", "day1", "no outcome column")
    >>> [str(w.message) for w in caught]
    ["behavior is NaN for session 'day1': no outcome column"]
    """
    if statistics is None:
        yield
        return
    with _passed_on(lambda message: message if message.concerns(statistics) else None):
        yield


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
    warnings.warn(StatisticWarning(f"{statistic} is NaN in the pairs of sessions {_listed(sessions)}: {reason}"),
                  stacklevel=stacklevel)


def warn_unsupported_sessions(statistic: str, sessions, reason: str, *, stacklevel: int = 3) -> None:
    """Warn once that the per-session ``statistic`` is NaN for every one of ``sessions`` because of ``reason``
    (one cause, one warning: ``target=None`` over a hundred sessions is one warning, not a hundred).

    A reason that names its session itself (``"4: ..."``, ``"session '4': ..."``) is specific to it and is
    warned per session, as :func:`warn_unsupported` does.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unsupported_sessions("task_alignment", ["d0", "d1"], "no task label (target=None)")
    >>> str(caught[0].message)
    "task_alignment is NaN for sessions ['d0', 'd1']: no task label (target=None)"
    """
    sessions = list(sessions)
    names_its_session = str(reason).startswith("session ") or any(
        session_reason(s, reason) != f"{session_label(s)}: {reason}" for s in sessions)
    if len(sessions) == 1 or names_its_session:
        for session in sessions:
            warn_unsupported(statistic, session, reason, stacklevel=stacklevel + 1)
        return
    warnings.warn(StatisticWarning(f"{statistic} is NaN for sessions {_listed(sessions)}: {reason}"),
                  stacklevel=stacklevel)


def _listed(sessions) -> str:
    """Sessions as a warning lists them: ``['d0', 'd1']``, the first five and the count past six."""
    names = [str(plain(s)) for s in sessions]
    return repr(names) if len(names) <= 6 else f"{names[:5]!r} ... ({len(names)})"


@contextmanager
def warnings_about(what: str):
    """Within the block, say ``what`` the :class:`StatisticWarning` raised there are about (an area of the
    sessions: ``"area 'V1'"``), ahead of their own message; every other warning passes as it would have.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with warnings_about("area 'V1'"):
    ...         warn_unsupported("task_alignment", "day1", "too few conditions")
    >>> str(caught[0].message)
    "area 'V1': task_alignment is NaN for session 'day1': too few conditions"
    """
    with _passed_on(lambda message: StatisticWarning(f"{what}: {message.args[0]}", statistics=message.named())):
        yield


@contextmanager
def _passed_on(change):
    """Hold the warnings raised in the block and raise them again after it, each :class:`StatisticWarning` as
    ``change(warning)`` returns it (None: held back), the others as they were."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticWarning)
        try:
            yield
        finally:
            held = list(caught)
    for w in held:
        message = change(w.message) if isinstance(w.message, StatisticWarning) else w.message
        if message is not None:
            warnings.warn_explicit(message, w.category, w.filename, w.lineno, source=w.source)
