"""Which trials, aligned to what: ``where=`` selection and ``align=`` event times (absolute or relative).

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

__all__ = ["parse_align", "align_times", "select_where"]

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
    before = both & (values < starts - 1e-9)
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
    return values, "absolute"


def select_where(columns: dict, where, label: str, table_name: str) -> np.ndarray:
    """Boolean mask of the trials that satisfy the pandas-query expression ``where`` on the trial columns.

    Examples
    --------
    >>> select_where({"x": np.array([1, 2, 3])}, "x >= 2", "f.nwb", "trials").tolist()
    [False, True, True]
    """
    n_rows = len(next(iter(columns.values()))) if columns else 0
    if where is None:
        return np.ones(n_rows, dtype=bool)
    if not isinstance(where, str) or not where.strip():
        raise NWBError(f"{label}: expected where= a pandas query string on trial columns (e.g. "
                       f"\"response != 'early lick'\"), found {where!r}")
    import pandas as pd

    frame = pd.DataFrame(columns)
    try:
        result = frame.eval(where)
    except Exception as error:  # pandas raises NameError, SyntaxError, TypeError, ValueError, KeyError...
        raise NWBError(
            f"{label}: where={where!r} could not be evaluated on table {table_name!r} "
            f"({type(error).__name__}: {error}); its columns are {list(columns)}"
        ) from None
    mask = np.asarray(result)
    if mask.shape != (n_rows,) or mask.dtype != bool:
        raise NWBError(
            f"{label}: expected where={where!r} to give True/False per trial, found {mask.dtype} of shape "
            f"{mask.shape}; columns of {table_name!r}: {list(columns)}"
        )
    if not mask.any():
        raise NWBError(f"{label}: where={where!r} selected none of the {n_rows} trials of {table_name!r}")
    return mask
