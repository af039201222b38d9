"""Who was recorded: a session's subject, and whether its neurons are the same cells as in other sessions.

Cell identity is *declared*, never guessed. pynwb numbers units 0..N-1 in every file, so equal unit ids in
two files say nothing about the cells; reading them as the same cells invents drift statistics
(``code_overlap``) between unrelated neurons. Hence:

* ``tracked=False`` (and undeclared files): the ``neuron`` coord becomes ``"<session>/<id>"``, unique to the
  session, and the file's own id is kept in the coord ``unit_id``;
* ``tracked=True``: the ids in the files name the same cells in every session (``neuron`` = the id);
* ``tracked=<table>``: a CSV path or :class:`pandas.DataFrame` with columns ``session``, ``unit`` (or ``roi``)
  and ``cell``, as exported from CellReg / suite2p / ROICaT matching; ``neuron`` = the cell id (a str), and
  units missing from the table get a session-unique id with a warning;
* ``tracked={"column": name}``: a column of the Units table (or of the ROI table) names each unit's cell, as
  written by tools that match units across days inside the files (UnitMatch, a lab's ``global_id``);
  ``neuron`` = that column's value (a str). A unit whose value is blank or NaN gets a session-unique id with a
  warning; one value on two units of a session is refused (one cell cannot be two units);
* ``tracked=None`` (default): what the file declares, else untracked.

**How a file declares tracking.** A line ``neurolearn.tracked_cells: true`` (or ``false``) in the NWB file's
``/general/notes``, which :func:`neurolearn.simulate.nwb.write_recording_nwb` writes. Files written by that
writer before it wrote the line (their ``session_description`` ends with ``(neurolearn.simulate.nwb)``; the
bundled ``data/*/day*.nwb``) are read as tracked, because the writer has always kept neuron ids across a
simulated learner's sessions.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.nwbfile import decode

__all__ = [
    "TRACKED_MARKER",
    "CellColumn",
    "file_subject_id",
    "file_identifier",
    "declared_tracking",
    "check_tracked",
    "neuron_identity",
]

#: The line (followed by ``true`` or ``false``) that declares cell tracking in ``/general/notes``.
TRACKED_MARKER = "neurolearn.tracked_cells:"
# the marker starts a line of /general/notes and its value is the whole word ("NOT neurolearn.tracked_cells:
# true-ish" declares nothing)
_MARKER = re.compile(r"^\s*neurolearn\.tracked_cells\s*:\s*(true|false)(?![\w-])", re.IGNORECASE | re.MULTILINE)
_LEGACY_WRITER = "(neurolearn.simulate.nwb)"
# DANDI / BIDS file names: sub-<label>_ses-<label>...; the label is letters, digits and '-' (no '_')
_SUBJECT_IN_NAME = re.compile(r"(?:^|[_/\\])sub-([A-Za-z0-9-]+)")


def file_subject_id(handle: h5py.File, path) -> str:
    """``/general/subject/subject_id``, else the ``sub-<label>`` part of the file name or of its folder's
    name (DANDI/BIDS), else ''.

    Examples
    --------
    >>> file_subject_id({}, "sub-anm369963/sub-anm369963_ses-20170228.nwb")
    'anm369963'
    """
    stored = ""
    try:
        obj = handle.get("general/subject/subject_id")
        if isinstance(obj, h5py.Dataset):
            value = decode(obj[()])
            if isinstance(value, list):
                value = value[0] if value else ""
            stored = str(value).strip() if value is not None else ""
    except (OSError, KeyError, TypeError, ValueError, RuntimeError):
        stored = ""  # a damaged subject group loses only the label; the name may still say it
    if stored:
        return stored
    where = Path(os.fspath(path))
    for name in (where.name, where.parent.name):  # DANDI: sub-X/sub-X_ses-Y.nwb; BIDS folders: sub-X/...
        match = _SUBJECT_IN_NAME.search(name)
        if match:
            return match.group(1)
    return ""


def file_identifier(handle: h5py.File) -> str:
    """The NWB file's ``/identifier`` ('' if absent or unreadable): unique to a file by the NWB schema, so
    two paths holding one identifier are one recording (a copy, a re-download) unless a writer reused it."""
    return _string(handle, "identifier")


def declared_tracking(handle: h5py.File) -> bool | None:
    """What the file says about cell identity: True/False from the ``/general/notes`` marker, True for files
    of neurolearn's writer that predate the marker, None when the file does not say."""
    notes = _string(handle, "general/notes")
    found = _MARKER.search(notes)
    if found:
        return found.group(1).lower() == "true"
    if _string(handle, "session_description").endswith(_LEGACY_WRITER):
        return True
    return None


@dataclass(frozen=True)
class CellColumn:
    """``tracked={"column": name}``: the Units (or ROI) table column ``name`` says which cell each unit is."""

    name: str


def check_tracked(tracked):
    """``tracked`` as None, a bool, a :class:`CellColumn`, or a DataFrame with columns ``session``, ``unit``
    and ``cell`` (a CSV path is read with pandas; a ``roi`` column is accepted for ``unit``).

    Examples
    --------
    >>> check_tracked({"column": "global_id"})
    CellColumn(name='global_id')
    """
    if tracked is None or isinstance(tracked, (bool, np.bool_)):
        return None if tracked is None else bool(tracked)
    if isinstance(tracked, CellColumn):
        return tracked
    if isinstance(tracked, dict):
        name = tracked.get("column")
        if set(tracked) != {"column"} or not isinstance(name, str) or not name.strip():
            raise NWBError(f"expected tracked={{'column': <name of the Units/ROI column naming each unit's "
                           f"cell>}}, found {tracked!r}")
        return CellColumn(name.strip())
    import pandas as pd

    if isinstance(tracked, (str, os.PathLike)):
        source = os.fspath(tracked)
        if not os.path.isfile(source):
            raise NWBError(f"expected tracked= True, False or a CSV file of (session, unit, cell), found no "
                           f"file {source!r}")
        try:
            tracked = pd.read_csv(source)
        except (OSError, ValueError, pd.errors.ParserError) as error:
            raise NWBError(f"tracked={source!r}: could not read it as CSV ({error})") from error
    if not isinstance(tracked, pd.DataFrame):
        raise NWBError(
            "expected tracked= True, False, {'column': <Units column>}, a CSV path or a pandas DataFrame with "
            f"columns session, unit (or roi), cell; found {type(tracked).__name__}"
        )
    frame = tracked.rename(columns={"roi": "unit"}) if "unit" not in tracked.columns else tracked
    missing = [c for c in ("session", "unit", "cell") if c not in frame.columns]
    if missing:
        raise NWBError(
            f"expected the tracked= table to have columns session, unit (or roi) and cell, found "
            f"{list(map(str, tracked.columns))} (missing {missing})"
        )
    frame = frame[["session", "unit", "cell"]]
    # a cell a matching tool did not find on some day leaves that row's unit blank: no unit to name
    frame = frame[frame["unit"].notna() & (frame["unit"].astype(str).str.strip() != "")]
    # nor does a unit the matching left without a cell name one: "nan" would be one cell of every session
    frame = frame[frame["cell"].notna() & (frame["cell"].astype(str).str.strip() != "")]
    # with a blank in it pandas reads the unit column as floats: 1001.0 is unit 1001
    frame = frame.assign(unit=[_unit_text(u) for u in frame["unit"].tolist()]).astype(str)
    repeated = frame.duplicated(["session", "unit"], keep=False)
    if repeated.any():
        rows = frame[repeated].head(4).to_dict("records")
        raise NWBError(f"expected one cell per (session, unit) in the tracked= table, found repeats: {rows}")
    twice = frame.duplicated(["session", "cell"], keep=False)
    if twice.any():
        rows = frame[twice].head(4).to_dict("records")
        raise NWBError(
            "expected each cell at most once per session in the tracked= table (one cell cannot be two "
            f"units of one session), found {rows}"
        )
    return frame


def neuron_identity(ids: np.ndarray, tracked, declared, session: str, names, label: str, columns=None):
    """``(neuron coord values, tracked flag, how it was decided)`` for a session's unit/ROI ``ids``.

    ``names`` are the strings a tracking table's ``session`` column may use for this session (session id,
    file name, file stem); ``declared`` is :func:`declared_tracking` of the file; ``columns`` are the
    per-unit columns read from the file (for :class:`CellColumn`).
    """
    ids = np.asarray(ids)
    if isinstance(tracked, CellColumn):
        return _from_column(ids, tracked.name, columns or {}, session, label) + ("column",)
    if tracked is None:
        tracked, how = (bool(declared), "file") if declared is not None else (False, "undeclared")
    elif isinstance(tracked, bool):
        how = "argument"
    else:
        return _from_table(ids, tracked, session, names, label) + ("table",)
    if tracked:
        return ids, True, how
    return _session_unique(ids, session), False, how


def _unit_text(unit) -> str:
    """A table's unit id as the files' ids print: integral floats (1001.0, from a column with blanks) as ints.

    Examples
    --------
    >>> [_unit_text(u) for u in (1001.0, 7, "12", "roi-3", 2.5)]
    ['1001', '7', '12', 'roi-3', '2.5']
    """
    if isinstance(unit, (float, np.floating)) and np.isfinite(unit) and float(unit).is_integer():
        return str(int(unit))
    text = str(unit).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and "." in text else text


def _from_table(ids, table, session, names, label):
    rows = table[table["session"].isin([str(n) for n in names])]
    lookup = dict(zip(rows["unit"], rows["cell"]))
    cells = np.array([lookup.get(str(i), "") for i in ids.tolist()], dtype=object)
    unmatched = cells == ""
    _check_table_units(rows["unit"].tolist(), ids, unmatched, session, label)
    if unmatched.any():
        warnings.warn(
            f"{label}: the tracked= table names no cell for {int(unmatched.sum())} of {ids.size} units/ROIs "
            f"of session {session!r} (looked for session {sorted(set(map(str, names)))}; e.g. ids "
            f"{ids[unmatched][:5].tolist()}); they are read as cells of this session only",
            UserWarning,
            stacklevel=4,
        )
        cells[unmatched] = _session_unique(ids[unmatched], session)
    return np.asarray(cells.astype(str)), bool((~unmatched).any())


def _check_table_units(table_units: list, ids: np.ndarray, unmatched: np.ndarray, session: str, label: str):
    """A tracked= table's rows for this session that name units the file does not have: one warning naming
    them (a table made for another sorting, whose other rows then map units to the wrong cells, shows itself
    so: ids shifted by one leave a row past the last unit); refused when none of its rows names a unit of the
    file. A few such rows are no error: curation after matching removes units (noise clusters) from a file."""
    present = {str(i) for i in ids.tolist()}
    absent = [unit for unit in table_units if unit not in present]
    if not absent:
        return
    # as the files' ids print: [10], not ['10']
    named = [int(u) if u.lstrip("-").isdigit() else u for u in _natural(absent)[:8]]
    shown_absent = f"{named}{' ...' if len(absent) > 8 else ''}"
    if len(absent) == len(table_units):
        raise NWBError(
            f"{label}: expected the tracked= table's units of session {session!r} to be units/ROIs of the "
            f"file, found none of its {len(absent)} ({shown_absent}) among the file's ids {ids[:8].tolist()}"
            f"{' ...' if ids.size > 8 else ''}: a table for another sorting, or ids written another way?"
        )
    offset = (f"; and it names no cell for the file's units {ids[unmatched][:8].tolist()}: ids numbered from "
              "another start?" if unmatched.any() else "")
    warnings.warn(
        f"{label}: the tracked= table names units {shown_absent} of session {session!r} that the file does "
        f"not have ({len(absent)} of its {len(table_units)} rows for this session): a table for another "
        f"sorting? Its other rows may then map units to the wrong cells{offset}",
        UserWarning,
        stacklevel=5,  # _from_table, neuron_identity, read_nwb: the caller of read_nwb
    )


def _natural(units: list) -> list:
    """Unit ids (str) in numeric order where they are numbers, else as text."""
    return sorted(units, key=lambda u: (0, float(u), u) if _is_number(u) else (1, 0.0, u))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_column(ids, name, columns, session, label):
    if name not in columns:
        raise NWBError(f"{label}: expected a per-unit column {name!r} naming each unit's cell "
                       f"(tracked={{'column': {name!r}}}), found the columns {sorted(map(str, columns))}")
    values = np.asarray(columns[name], dtype=object)
    if values.ndim != 1 or values.size != ids.size:
        raise NWBError(f"{label}: expected column {name!r} to hold one cell id per unit ({ids.size}), found "
                       f"shape {np.shape(values)}")
    cells = np.array(["" if _blank(v) else _unit_text(v) for v in values.tolist()], dtype=object)
    named = cells != ""
    seen, repeated = set(), []
    for cell in cells[named].tolist():
        if cell in seen:
            repeated.append(cell)
        seen.add(cell)
    if repeated:
        counts = {cell: int(np.sum(cells == cell)) for cell in sorted(set(repeated))[:4]}
        shown_counts = ", ".join(f"{cell!r} on {n} units" for cell, n in counts.items())
        raise NWBError(f"{label}: expected each cell of column {name!r} at most once in session {session!r} "
                       f"(one cell cannot be two units), found {shown_counts}; if a value marks units the "
                       "matching left without a cell (e.g. -1), write them as blank or NaN: those are read as "
                       "cells of this session only")
    if not named.all():
        warnings.warn(
            f"{label}: column {name!r} names no cell for {int((~named).sum())} of {ids.size} units of session "
            f"{session!r} (blank or NaN; e.g. ids {ids[~named][:5].tolist()}); they are read as cells of this "
            "session only",
            UserWarning,
            stacklevel=4,
        )
        cells[~named] = _session_unique(ids[~named], session)
    return np.asarray(cells.astype(str)), bool(named.any())


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return True
    return isinstance(value, (str, bytes)) and not str(value).strip()


def _session_unique(ids: np.ndarray, session: str) -> np.ndarray:
    return np.asarray([f"{session}/{i}" for i in ids.tolist()], dtype=str)


def _string(handle, name: str) -> str:
    try:
        obj = handle.get(name)
        if not isinstance(obj, h5py.Dataset):
            return ""
        value = decode(obj[()])
    except (OSError, KeyError, TypeError, ValueError, RuntimeError):
        return ""
    if isinstance(value, list):
        value = "\n".join(map(str, value))
    return str(value or "").strip()
