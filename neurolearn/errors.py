"""Typed errors: every refusal of bad input is a :class:`NeurolearnError`.

Messages name the object (file, table, statistic, model), what was expected and what was found, so that a
user can fix the input without reading a traceback from h5py, hdmf or pynwb internals.
"""

from __future__ import annotations

__all__ = ["NeurolearnError", "NWBError", "DataError", "FitError", "InsufficientDataError"]


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
