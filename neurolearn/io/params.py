"""Checks of the readers' arguments, before any file is opened.

Each check raises :class:`~neurolearn.errors.NWBError` naming the parameter, what it accepts and what it was
given, so a wrong type never surfaces as a raw ``TypeError`` from ``os.fspath``, ``float`` or h5py.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from neurolearn.errors import NWBError, shown

__all__ = ["check_path", "check_window", "check_bin_size", "check_timeout"]


def check_path(path, name: str = "path") -> str:
    """``path`` as a ``str``: a ``str`` or :class:`os.PathLike` naming a file; anything else is refused.

    Bytes paths are refused rather than decoded, because the file-system encoding that would decode them is
    a guess; ``os.fsdecode(path)`` makes the choice explicit.

    Examples
    --------
    >>> check_path(123)
    Traceback (most recent call last):
    ...
    neurolearn.errors.NWBError: expected path= a str or os.PathLike naming an NWB file, found int 123
    """
    if isinstance(path, (bytes, bytearray)):
        raise NWBError(
            f"expected {name}= a str or os.PathLike naming an NWB file, found bytes {bytes(path)[:60]!r}; "
            "decode it first (os.fsdecode(path))"
        )
    if hasattr(path, "read") and not isinstance(path, (str, os.PathLike)):
        raise NWBError(
            f"expected {name}= a str or os.PathLike naming an NWB file, found an open file object "
            f"({type(path).__name__}); pass its path (e.g. handle.name) instead, the reader opens files "
            "itself"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise NWBError(
            f"expected {name}= a str or os.PathLike naming an NWB file, found {type(path).__name__} {path!r}"
        )
    text = os.fspath(path)
    if isinstance(text, bytes):
        raise NWBError(f"expected {name}= a path that is text, found a PathLike giving bytes {text[:60]!r}")
    if not text:
        raise NWBError(f"expected {name}= a file path, found an empty string")
    return text


def check_window(window, name: str = "window") -> tuple[float, float]:
    """``window`` as ``(start, stop)`` floats with ``start < stop``; refuses scalars, strings and NaN.

    Examples
    --------
    >>> check_window((0, 0.5))
    (0.0, 0.5)
    >>> check_window(5)
    Traceback (most recent call last):
    ...
    neurolearn.errors.NWBError: expected window=(start, stop) in seconds relative to align, found int 5
    """
    if isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or np.ndim(window) != 1:
        raise NWBError(
            f"expected {name}=(start, stop) in seconds relative to align, found {type(window).__name__} "
            f"{shown(window)}"
        )
    if len(window) != 2:
        raise NWBError(f"expected {name}=(start, stop): two numbers, found {len(window)}: {shown(tuple(window))}")
    values = []
    for value in window:
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
            raise NWBError(f"expected {name}=(start, stop) of numbers, found {shown(tuple(window))}")
        values.append(float(value))
    start, stop = values
    if not (np.isfinite(start) and np.isfinite(stop)) or stop <= start:
        raise NWBError(
            f"expected {name}=(start, stop) with finite start < stop (seconds), found {shown(tuple(window))}"
        )
    return start, stop


def check_bin_size(bin_size, name: str = "bin_size"):
    """``None`` or a positive finite float (whether it divides the window is checked with the window)."""
    if bin_size is None:
        return None
    if isinstance(bin_size, bool) or not isinstance(bin_size, (numbers.Real, np.number)):
        raise NWBError(
            f"expected {name}= None or a positive number of seconds, found {type(bin_size).__name__} "
            f"{shown(bin_size)}"
        )
    value = float(bin_size)
    if not np.isfinite(value) or value <= 0:
        raise NWBError(f"expected {name}= a positive number of seconds, found {shown(bin_size)}")
    return value


def check_timeout(timeout, name: str = "timeout"):
    """``None`` or a positive number of seconds."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (numbers.Real, np.number)) or not timeout > 0:
        raise NWBError(f"expected {name}= None or a positive number of seconds, found {shown(timeout)}")
    return float(timeout)
