"""Which trials a summary uses: a query on trial columns, a declared target coding, NaN labels, sparse
conditions. Each exclusion is counted in one warning per session; nothing is dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import xarray as xr

from neurolearn.data import TRIAL, where_mask
from neurolearn.errors import DataError, session_label, shown
from neurolearn.stats.behavior import _key, coding_column, is_missing_value

__all__ = ["select_trials", "prepare_session", "NAN_POLICIES"]

NAN_POLICIES = ("omit", "raise")


def select_trials(recording: xr.DataArray, where: str | None, *, session_id: str = "session") -> xr.DataArray:
    """Trials for which the pandas-query expression ``where`` on the trial coords is true.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
    ...                    coords={"contrast": ("trial", [0.0, 0.25, 0.5, 1.0])})
    >>> select_trials(rec, "contrast > 0.3").sizes["trial"]
    2
    """
    if where is None:
        return recording
    columns = {str(name): np.asarray(coord.values) for name, coord in recording.coords.items()
               if coord.dims == (TRIAL,)}
    keep = where_mask(columns, where, context=session_label(session_id), table="the trial coords")
    return recording.isel({TRIAL: np.flatnonzero(keep)})


def prepare_session(recording: xr.DataArray, session_id: str, *, target, by: str, where=None, min_trials=None,
                    nan_policy: str = "omit") -> tuple[xr.DataArray, str | None]:
    """The trials a summary of one session uses, and the name of the coord holding its task label.

    Applies ``where``; codes a declared target ``{column: {value: label}}`` into a new trial coord
    ``"<column> (coded)"`` (unmapped values are excluded, counted) and leaves ``column`` as recorded, so a
    coding of the condition column itself (``by``) gives each condition its label instead of merging the
    conditions that share one; excludes trials whose label or condition is missing -- NaN, None, pandas' NA,
    or a text a table writes for it (:data:`MISSING_TEXT`: ``''``, ``'nan'``, ...) -- (``nan_policy="omit"``,
    counted) or refuses them (``"raise"``); reads a label or condition column as one kind of value (an object
    column of strings as strings, surrounding spaces dropped); drops conditions with fewer than ``min_trials``
    trials (named in a warning).

    Raises
    ------
    DataError
        A missing column; a coding whose keys name none of the column's values (keys and values shown as
        typed: ``'1'`` is not ``1``); ``target`` naming the condition column ``by`` itself with more
        than two classes, where every condition would be its own class and the task kernel the identity (the
        message says what to pass instead); a column mixing kinds of value (``1`` and ``'x'``); missing values
        under ``nan_policy="raise"``; no trial left.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((5, 1)), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1, 2]),
    ...                            "side": ("trial", ["L", "L", "R", "R", "?"])})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out, name = prepare_session(rec, "day1", target={"side": {"L": -1, "R": 1}}, by="stimulus")
    >>> name, out.coords[name].values.tolist(), out.coords["side"].values.tolist()
    ('side (coded)', [-1, -1, 1, 1], ['L', 'L', 'R', 'R'])
    """
    if nan_policy not in NAN_POLICIES:
        raise DataError(f"nan_policy: expected one of {NAN_POLICIES}, found {shown(nan_policy)}")
    session = session_label(session_id)
    recording = select_trials(recording, where, session_id=session_id)
    target_name = None if target is None else coding_column(target)
    for role, column in (("by", by), ("target", target_name)):
        if column is not None and (column not in recording.coords or recording.coords[column].dims != (TRIAL,)):
            available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
            raise DataError(f"{session}: expected a trial coord {column!r} ({role}=), "
                            f"available trial coords: {available}")
    excluded = {}
    if isinstance(target, Mapping):
        recording, target_name, counts = _coded_target(recording, target, target_name, session)
        excluded.update(counts)
    for column in dict.fromkeys(c for c in (by, target_name) if c is not None):
        missing = _missing(np.asarray(recording.coords[column].values))
        if missing.any():
            if nan_policy == "raise":
                raise DataError(f"{session}: {int(missing.sum())} trials have a missing {column!r} "
                                "(nan_policy='raise'); pass nan_policy='omit' to exclude them")
            written = sorted({str(v).strip() for v in np.asarray(recording.coords[column].values)[missing].tolist()
                              if _missing_text(v)})
            excluded[f"a missing {column!r}" + (f" (written {shown(written)})" if written else "")] = int(missing.sum())
            recording = recording.isel({TRIAL: np.flatnonzero(~missing)})
        recording = _tidy(recording, column, "by" if column == by else "target", session)
    if target_name is not None and target_name == by and not isinstance(target, Mapping):
        _refuse_conditions_as_classes(recording, by, session)
    counted = {reason: n for reason, n in excluded.items() if n}
    if counted:
        warnings.warn(f"{session}: excluded " + "; ".join(
            f"{n} trials with {reason}" for reason, n in counted.items()), stacklevel=3)
    if recording.sizes[TRIAL] == 0:
        raise DataError(f"{session}: no trial left after excluding " + "; ".join(
            f"{n} trials with {reason}" for reason, n in counted.items()))
    if min_trials is not None:
        if isinstance(min_trials, bool) or not isinstance(min_trials, (int, np.integer)) or min_trials < 1:
            raise DataError(f"min_trials: expected a positive integer, found {shown(min_trials)}")
        labels = np.asarray(recording.coords[by].values)
        conditions, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        sparse = conditions[counts < min_trials]
        if sparse.size:
            warnings.warn(f"{session}: dropped {sparse.size} conditions of {by!r} with fewer than "
                          f"{min_trials} trials: {shown(sparse.tolist()[:10])}", stacklevel=3)
            recording = recording.isel({TRIAL: np.flatnonzero(counts[codes] >= min_trials)})
            if recording.sizes[TRIAL] == 0:
                raise DataError(f"{session}: no condition of {by!r} has {min_trials} trials")
    return recording, target_name


#: the exclusion reason of trials whose target value the declared coding does not name
OUTSIDE = "a target value outside the declared mapping"


def _coded_target(recording, target, column, session):
    """``(recording with the coded label in a new coord and the uncoded trials left out, its name, how many
    were left out and why)``; the column itself is kept as recorded (it may be ``by``, the held-out or
    behaviour column)."""
    mapping = {_key(key): label for key, label in target[column].items()}
    raw = np.asarray(recording.coords[column].values).tolist()
    mapped = [mapping.get(_key(value), None) for value in raw]
    keep = np.array([value is not None for value in mapped], dtype=bool)
    if raw and not keep.any():
        found = sorted({_key(value) for value in raw if not _is_missing(value)}, key=str)
        raise DataError(f"{session}: expected the target mapping's keys among the values of {column!r}, found "
                        f"keys {shown(list(target[column])[:8])} and values {shown(found[:8])} (compared as "
                        "typed: '1' is not 1; surrounding spaces ignored)")
    name = f"{column} (coded)"
    while name in recording.coords:
        name += "'"
    labels = np.array([value for value in mapped if value is not None])
    recording = recording.isel({TRIAL: np.flatnonzero(keep)})
    missing = np.array([_is_missing(value) or _missing_text(value) for value in raw], dtype=bool)
    counts = {OUTSIDE: int((~keep & ~missing).sum()), f"a missing {column!r}": int((~keep & missing).sum())}
    return recording.assign_coords({name: (TRIAL, labels)}), name, counts


def _refuse_conditions_as_classes(recording, by, session):
    """``target`` naming the condition column: fine for two conditions (the label is which of the two) and
    for a continuous value (a regression target); with more classes every condition is its own, the task
    kernel is the identity and task_alignment sqrt(PR / (P - 1)) by construction, a task nobody declared."""
    values = np.asarray(recording.coords[by].values)
    values = values[~_missing(values)]
    classes = np.unique(values)
    continuous = values.dtype.kind == "f" and not np.allclose(classes, np.round(classes))
    if classes.size <= 2 or continuous:
        return
    raise DataError(
        f"{session}: target={by!r} is the condition column (by={by!r}): its {classes.size} values as classes "
        f"make every condition its own class (found {shown(classes.tolist()[:8])}), so the task kernel is the "
        "identity and task_alignment a function of participation_ratio alone; expected a task label: pass the "
        f"trial column holding it (target=COLUMN), a coding of the conditions (target={{{by!r}: "
        f"{{{shown(classes[0])}: 1, {shown(classes[1])}: -1, ...}}}}), or target=None for the statistics that "
        "need no label")


def _tidy(recording, column, role, session):
    """``column`` with one dtype for one kind of value: an object column of strings (or of numbers, or of
    booleans), as pandas leaves a column that held None, becomes a str (number, bool) column; strings lose
    surrounding spaces ('Hit ' as a lab's table wrote it is 'Hit', warned where that merges two values). A
    column mixing kinds (1 and 'x') is refused: no condition or label can be read from it."""
    recorded = values = np.asarray(recording.coords[column].values)
    if values.dtype.kind == "O" and values.size:
        items = values.tolist()
        kinds = sorted({_value_kind(value) for value in items})
        if kinds == ["other"]:
            return recording  # labels of their own kind (tuples, dates): read as they are
        if len(kinds) > 1:
            examples = {kind: next(v for v in items if _value_kind(v) == kind) for kind in kinds}
            raise DataError(f"{session}: expected one kind of value in trial column {column!r} ({role}=), found "
                            + ", ".join(f"{kind} (e.g. {shown(v)})" for kind, v in examples.items())
                            + ("; declare its coding, target={" + repr(column) + ": {value: label, ...}}, or fix "
                               "the column" if role == "target" else "; fix the column (one kind per condition "
                               "label) or leave out the odd trials with where="))
        values = (np.array([v.decode() if isinstance(v, bytes) else str(v) for v in items]) if kinds == ["strings"]
                  else np.array(items))
    if values.dtype.kind == "U":
        stripped = np.char.strip(values)
        merged = np.unique(stripped).size < np.unique(values).size
        if merged:
            warnings.warn(f"{session}: values of {column!r} that differ only in surrounding spaces are read as one "
                          f"({shown(sorted(set(values.tolist()) - set(stripped.tolist()))[:6])})", stacklevel=4)
        values = stripped
    if values.dtype == recorded.dtype and np.array_equal(values, recorded):
        return recording
    return recording.assign_coords({column: (TRIAL, values)})


def _value_kind(value) -> str:
    if isinstance(value, (str, np.str_, bytes)):
        return "strings"
    if isinstance(value, (bool, np.bool_)):
        return "booleans"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "numbers"
    return "other"


def _is_missing(value) -> bool:
    return is_missing_value(value)


#: how a table writes a missing label as text (pandas' own NaN, None, blanks): missing, as pandas reads them
MISSING_TEXT = ("", "nan", "NaN", "None", "<NA>", "N/A", "n/a")


def _missing(values: np.ndarray) -> np.ndarray:
    """Which values are missing: NaN, None, and the texts of :data:`MISSING_TEXT`."""
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind in "OUS":
        return np.array([_is_missing(value) or _missing_text(value) for value in values.tolist()], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def _missing_text(value) -> bool:
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return isinstance(value, str) and value.strip() in MISSING_TEXT
