"""Typed errors: every refusal of bad input is a :class:`NeurolearnError`.

Messages name the object (file, table, statistic, model), what was expected and what was found, so that a
user can fix the input without reading a traceback from h5py, hdmf or pynwb internals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["NeurolearnError", "NWBError", "DataError", "FitError", "FitWarning", "InsufficientDataError", "shown",
           "plain", "session_label", "session_reason"]


class NeurolearnError(ValueError):
    """Base class of every error neurolearn raises on purpose.

    Subclassing :class:`ValueError` keeps ``except ValueError`` working for callers who do not know us.

    Examples
    --------
    >>> from neurolearn.errors import NWBError, NeurolearnError
    >>> issubclass(NWBError, NeurolearnError)
    True
    """


class NWBError(NeurolearnError):
    """A file is not readable as NWB, or lacks what was asked for (source, table, window)."""


class DataError(NeurolearnError):
    """A recording or statistics object does not satisfy the data model (dims, coords, values)."""


class FitError(NeurolearnError):
    """A theory model cannot be fitted to the given statistics (missing observables, bad options)."""


class FitWarning(UserWarning):
    """Something about a fit the user should know (an SE floor applied, a fit that did not converge)."""


class InsufficientDataError(DataError):
    """The data are valid but cannot support one statistic (too few conditions, trials or neurons, one
    class, no task label, a denominator not resolved from noise).

    Raised by single statistics; :func:`neurolearn.summarize` catches it per session and statistic, reports
    NaN with the message as the reason in the statistic's ``<name>_flag`` variable, and carries on.

    Examples
    --------
    >>> from neurolearn.errors import DataError, InsufficientDataError
    >>> issubclass(InsufficientDataError, DataError)
    True
    """


def plain(value):
    """``value`` with numpy scalars and arrays turned into the Python values they hold, through containers.

    Examples
    --------
    >>> plain({np.str_("go"): [np.int64(9), np.float64(0.5)], "ok": np.array([True, False])})
    {'go': [9, 0.5], 'ok': [True, False]}
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value) if type(value) in (list, tuple) else value
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=lambda item: (type(item).__name__, str(item)))
    return value


def shown(value) -> str:
    """How a message shows a value: the repr of the Python value, ``9`` and ``'x'`` for numpy's ``np.int64(9)``
    and ``np.str_('x')`` (numpy 2's reprs), element-wise in lists, tuples, sets and dicts.

    Examples
    --------
    >>> shown(np.int64(9)), shown(np.str_("x")), shown([np.float64(0.5), np.bool_(True)])
    ('9', "'x'", '[0.5, True]')
    """
    return repr(plain(value))


def session_label(session) -> str:
    """How a message names a session: ``session '4'``, whatever type the id has (str, numpy str, int).

    Examples
    --------
    >>> session_label(4), session_label(np.str_("day1"))
    ("session '4'", "session 'day1'")
    """
    return f"session {str(plain(session))!r}"


def session_reason(session, reason: str) -> str:
    """``session '4': <reason>``, without the reason's own opening naming the same session again (``4: ...``
    or ``session '4': ...``, as a statistic raised it on its own).

    Examples
    --------
    >>> session_reason("4", "4: a test fold has 1 trial(s) of one class")
    "session '4': a test fold has 1 trial(s) of one class"
    >>> session_reason(4, "session '4': too few neurons"), session_reason("d1", "session 'd0': reference")
    ("session '4': too few neurons", "session 'd1': session 'd0': reference")
    """
    label, name = session_label(session), str(plain(session))
    text = str(reason)
    for opening in (f"{label}: ", f"{name}: "):
        if text.startswith(opening):
            text = text[len(opening):]
            break
    return f"{label}: {text}"
