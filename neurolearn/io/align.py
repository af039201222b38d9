"""Aligned to what: ``align=`` event times, absolute or relative (``where=`` is in :mod:`neurolearn.data`).

``align`` names a numeric trials column. NWB stores event times in seconds on the session clock, but some
real files (the Svoboda-lab ALM sessions on DANDI) store them relative to each trial's ``start_time``. So
``align`` may be

* ``"go_cue_time"``: the column's times, absolute — unless they cannot be absolute: when more than half of
  them lie before their own trial's start, they are read as relative to ``start_time`` with a warning;
* ``("go_cue_time", "relative")``: stated relative to ``start_time`` (no warning);
* ``("go_cue_time", "absolute")``: stated absolute (no detection).

The strings ``"go_cue_time:relative"`` and ``"go_cue_time:absolute"`` mean the same as the tuples (for the
command line).
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.errors import NWBError

__all__ = ["parse_align", "align_times"]

_MODES = ("auto", "absolute", "relative")


def parse_align(align) -> tuple[str, str]:
    """``(column, mode)`` from ``align``: a column name, or ``(column, "relative" | "absolute")``.

    Examples
    --------
    >>> parse_align("cue_start_time"), parse_align(("cue_start_time", "relative"))
    (('cue_start_time', 'auto'), ('cue_start_time', 'relative'))
    >>> parse_align("cue_start_time:relative")
    ('cue_start_time', 'relative')
    """
    if isinstance(align, str) and align:
        column, _, mode = align.rpartition(":")
        if column and mode in _MODES[1:]:
            return column, mode
        return align, "auto"
    if isinstance(align, (tuple, list)) and len(align) == 2 and all(isinstance(a, str) for a in align):
        column, mode = align
        if column and mode in _MODES[1:]:
            return column, mode
    raise NWBError(
        "expected align= a numeric trials column name, or (column, 'relative') / 'column:relative' for times "
        f"relative to each trial's start_time, or (column, 'absolute'); found {align!r}"
    )


def align_times(values: np.ndarray, starts: np.ndarray, column: str, mode: str, label: str):
    """Absolute alignment times and how they were read (``"absolute"`` or ``"relative to start_time"``)."""
    values = np.asarray(values, dtype=float)
    if column == "start_time" or mode == "absolute":
        return values, "absolute"
    starts = np.asarray(starts, dtype=float)
    if mode == "relative":
        return starts + values, "relative to start_time"
    both = np.isfinite(values) & np.isfinite(starts)
    # an absolute event time of a trial cannot precede the trial's own start; relative times (a few seconds)
    # precede it in every trial but the first ones of a session that starts near 0
    # "before" beyond the stored precision: event times written as float32 (MATLAB/h5py writers) round a few
    # microseconds either side of a float64 start (6e-8 relative); 5e-7 |t| is 4 float32 ulps
    tolerance = 1e-6 + 5e-7 * np.abs(np.where(both, starts, 0.0))
    before = both & (values < starts - tolerance)
    if both.any() and before.sum() * 2 > both.sum():
        warnings.warn(
            f"{label}: align column {column!r} holds times before their own trial's start_time in "
            f"{int(before.sum())} of {int(both.sum())} trials (e.g. {values[before][0]:.4g} s vs start "
            f"{starts[before][0]:.4g} s), so they cannot be absolute; read them as relative to start_time. "
            f"Pass align=({column!r}, 'relative') to say so, or ({column!r}, 'absolute') to keep them "
            "absolute",
            UserWarning,
            stacklevel=4,
        )
        return starts + values, "relative to start_time"
    if before.any():
        # a minority before their start: relative times in a short session (few trials, starting near 0), or
        # absolute times of events that precede their trials; either reading is a guess
        raise NWBError(
            f"{label}: align column {column!r} holds times before their own trial's start_time in "
            f"{int(before.sum())} of {int(both.sum())} trials (e.g. {values[before][0]:.4g} s vs start "
            f"{starts[before][0]:.4g} s) and after it in the others, so whether they are absolute or relative "
            f"to start_time cannot be told: pass align=({column!r}, 'relative') or ({column!r}, 'absolute') "
            f"(on the command line '{column}:relative' or '{column}:absolute')"
        )
    return values, "absolute"
