"""``read_sessions``: several NWB sessions -> one :class:`xarray.DataTree` in session-start order.

Besides the options of :func:`~neurolearn.io.read_nwb`, it selects subjects (``subject=``), declares cell
identity for the whole batch (``tracked=``), can read each file in a child process with a time limit
(``timeout=``), and prints a line per file on stderr (``progress=``; a plain printer, no dependency).
"""

from __future__ import annotations

import glob
import inspect
import os
import re
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from neurolearn.errors import NeurolearnError, NWBError
from neurolearn.io.identity import CellColumn, check_tracked, file_subject_id
from neurolearn.io.isolate import call_with_timeout
from neurolearn.io.nwbfile import open_nwb, parse_start_time, session_metadata
from neurolearn.io.params import check_path, check_timeout
from neurolearn.io.read import read_nwb
from neurolearn.io.remote import file_stem, is_url, url_name

__all__ = ["read_sessions"]

_READ_NWB_OPTIONS = frozenset(inspect.signature(read_nwb).parameters) - {"path", "tracked"}


def read_sessions(
    paths_or_glob,
    *,
    subject=None,
    tracked=None,
    timeout=None,
    progress: bool = False,
    on_error: str = "raise",
    order: str = "start_time",
    allow_same_identifier: bool = False,
    **options,
) -> xr.DataTree:
    """Read every session with :func:`read_nwb` (same ``options``) into a DataTree, one child per session.

    Parameters
    ----------
    paths_or_glob : str, path-like or sequence of them
        A glob pattern (``"data/day*.nwb"``), one path, or a list of paths. Paths may be ``http(s)://`` or
        ``dandi://`` URLs (see :func:`read_nwb`): a URL is never globbed (``?`` and ``*`` are URL
        characters), and a list of URLs is fetched in its order.
    subject : str or sequence of str, optional
        Keep only sessions of these subjects (the ``subject_id`` attr: ``/general/subject/subject_id``, else
        the ``sub-<label>`` of a DANDI/BIDS file name). Other files are opened only to read their subject.
        :class:`NWBError` listing the subjects found when none matches.
    tracked : None, bool, dict, str, path-like or pandas.DataFrame
        Cell identity across sessions, as in :func:`read_nwb`: ``None`` (each file's declaration, else not
        tracked), ``True`` (equal unit/ROI ids are the same cells), ``False`` (never the same cells),
        ``{"column": name}`` (a Units/ROI column names each unit's cell) or a
        table (CSV path or DataFrame with columns ``session``, ``unit`` or ``roi``, ``cell``). When ids
        repeat across files that declare nothing, one warning says how to declare them. When a table names
        no session of some files read (a row's session must be a file's session id, file name or stem), one
        warning names those files and the table's sessions that match no file (``'ses_8'`` for
        ``ses-8.nwb``); their units are cells of their own session only.
    timeout : float, optional
        Seconds allowed per file. When given, each file is read in a child process that is stopped after
        that long (:class:`NWBError` naming the file), so a damaged file cannot stall the batch. With
        ``chunks=`` only the planning is protected: blocks are read later, in this process.
    progress : bool
        Print one line per file on stderr (``[2/10] day01.nwb: 120 trials x 50 neurons (0.3 s)``).
    on_error : {"raise", "skip"}
        What a file that cannot be read does: stop the batch (default), or be left out with a warning that
        gives the reason (at least one file must be read).
    order : {"start_time", "given"}
        The sessions' training order, which every fit's time axis follows: by ``session_start_time``
        (default; files whose start times tie or are missing follow in natural file-name order, ``day2``
        before ``day10``, with one warning naming them), or ``"given"``: the order of the listed paths,
        declared by the caller.
    allow_same_identifier : bool
        Two files with one NWB ``identifier`` (unique to a file by the NWB schema: a byte copy, a re-download
        ``ses-0 (1).nwb``) are one recording, and as two sessions they would be two sets of different cells
        recorded twice (pseudo-replication); they are refused with an :class:`NWBError` naming both files.
        ``True`` declares them different recordings whose writer reused the identifier. The same path (or
        one file under two paths: a link) twice is always refused.
    **options
        Passed unchanged to :func:`read_nwb` (``source``, ``trials``, ``align``, ``window``, ``bin_size``,
        ``chunks``, ``inputs``, ``where``, ...).

    Returns
    -------
    xarray.DataTree
        Children named by session id (``"-2"``, ``"-3"`` appended to repeats; ``/`` replaced), each holding a
        Dataset with ``responses``, ordered by ``session_start_time`` (then file name). Sessions may differ in
        trials and neurons; a ``neuron`` value that repeats across sessions is the same cell (only where
        tracking was declared: untracked neurons are ``"<session>/<unit id>"``). With ``on_error="skip"``, the
        tree's ``left_out`` attr lists each file left out as ``"<path>: <reason>"``.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.simulate.nwb import write_sessions_nwb
    >>> folder = tempfile.mkdtemp()
    >>> recs = [xr.DataArray(np.ones((2, 1), int), dims=("trial", "neuron"), attrs={
    ...     "session_id": name, "session_start_time": start, "window": (0.0, 1.0)})
    ...     for name, start in [("late", "2026-01-03T09:00:00"), ("early", "2026-01-01T09:00:00")]]
    >>> _ = write_sessions_nwb(recs, folder, rng=0)
    >>> tree = read_sessions(os.path.join(folder, "*.nwb"))
    >>> list(tree.children), bool(tree["early"].responses.attrs["tracked"])
    (['early', 'late'], True)
    """
    unknown = sorted(set(options) - _READ_NWB_OPTIONS)
    if unknown:
        raise NWBError(f"read_sessions got unknown option(s) {unknown}; it takes subject, tracked, timeout, "
                       f"progress, on_error and the options of read_nwb: {sorted(_READ_NWB_OPTIONS)}")
    paths = _expand(paths_or_glob)
    _refuse_repeated_paths(paths)
    if not isinstance(allow_same_identifier, (bool, np.bool_)):
        raise NWBError(f"expected allow_same_identifier= True or False, found {allow_same_identifier!r}")
    subjects = _check_subject(subject)
    tracked = check_tracked(tracked)
    timeout = check_timeout(timeout)
    if on_error not in ("raise", "skip"):
        raise NWBError(f"expected on_error 'raise' or 'skip', found {on_error!r}")
    if order not in ("start_time", "given"):
        raise NWBError(f"expected order 'start_time' or 'given', found {order!r}")
    if order == "given" and (isinstance(paths_or_glob, (str, os.PathLike)) and glob.has_magic(str(paths_or_glob))):
        raise NWBError(f"order='given' needs the files listed in training order; a glob ({paths_or_glob!r}) "
                       "gives none (its matches are sorted by name)")
    if not isinstance(progress, (bool, np.bool_)):
        raise NWBError(f"expected progress= True or False, found {progress!r}")
    read, found_subjects, not_read, left_out = [], set(), [], []
    for number, path in enumerate(paths, start=1):
        began = time.perf_counter()
        args = (str(path), subjects, tracked, options)
        try:
            recording, seen, session = (call_with_timeout(_read_one, args, timeout, str(path)) if timeout
                                        else _read_one(*args))
        except NeurolearnError as error:
            if on_error == "raise":
                raise
            warnings.warn(f"left out {path}: {error}", UserWarning, stacklevel=2)
            left_out.append(str(error) if str(error).startswith(str(path)) else f"{path}: {error}")
            recording, seen, session = None, None, ""
        if seen is not None:
            found_subjects.add(seen)
        if recording is None:
            not_read.append(_file_names(path, session))
        if progress:
            _report(number, len(paths), path, recording, time.perf_counter() - began, subjects)
        if recording is not None:
            read.append((path, recording))
    if not read:
        if subjects is not None:
            raise NWBError(
                f"expected sessions of subject {sorted(subjects)}, found none among {len(paths)} files; "
                f"their subjects: {sorted(found_subjects)}"
            )
        raise NWBError(f"could not read any of the {len(paths)} files (on_error='skip' left them all out)")
    if not allow_same_identifier:
        _refuse_one_identifier_twice(read)
    _refuse_ambiguous_table_keys(tracked, read)
    _refuse_a_table_that_matches_nothing(tracked, read)
    _warn_unnamed_files(tracked, read, not_read)
    if order == "start_time":
        read.sort(key=lambda item: (_start_key(item[1]), _natural_key(str(item[0]))))
        _warn_undecided_order(read)
    children: dict[str, xr.Dataset] = {}
    for path, recording in read:
        name = _unique(_child_name(recording.attrs["session_id"], path), children)
        children[name] = xr.Dataset({"responses": _rename_session(recording, name)})
    _warn_undeclared_repeats(children)
    if subjects is None:
        _warn_several_subjects(children)
    tree = xr.DataTree.from_dict(children)
    if left_out:  # on_error='skip': which files are missing and why travels with the sessions (adversary F20)
        tree.attrs["left_out"] = left_out
    return tree


def _warn_several_subjects(children: dict) -> None:
    """One warning when the files read are of several subjects: each is its own learning trajectory."""
    counts: dict = {}
    unknown = []
    for name, dataset in children.items():
        subject = str(dataset["responses"].attrs.get("subject_id", "") or "")
        if subject:
            counts[subject] = counts.get(subject, 0) + 1
        else:
            unknown.append(name)
    if counts and unknown:
        warnings.warn(
            f"sessions {unknown[:3]} name no subject, the others {sorted(counts)}: whose learning trajectory they "
            "belong to is not guessed (summarize refuses the mix); declare the subject in the file or the "
            "recording's attrs['subject_id'], or pass subject=<id> here to keep only that subject's files",
            UserWarning,
            stacklevel=3,
        )
    if len(counts) > 1:
        warnings.warn(
            f"read sessions of {len(counts)} subjects ({dict(sorted(counts.items()))}); each subject is its own "
            "learning trajectory, and summarize takes one at a time: pass subject=<id> here, or split the tree "
            "with neurolearn.data.split_subjects",
            UserWarning,
            stacklevel=3,
        )


def _read_one(path: str, subjects, tracked, options):
    """``(recording or None, subject id, session id)``: None when the file's subject is not among
    ``subjects`` (its session id is still read: a tracked= table naming it names a file, not a typo)."""
    if subjects is not None:
        with open_nwb(path) as handle:
            seen = file_subject_id(handle, path)
            session = session_metadata(handle, path)["session_id"] if seen not in subjects else ""
        if seen not in subjects:
            return None, seen, session
    recording = read_nwb(path, tracked=tracked, **options)
    return recording, recording.attrs["subject_id"], str(recording.attrs["session_id"])


def _check_subject(subject):
    if subject is None:
        return None
    if isinstance(subject, str):
        return {subject}
    try:
        subjects = {str(s) for s in subject}
    except TypeError:
        raise NWBError(f"expected subject= a subject id or a list of them, found {subject!r}") from None
    if not subjects:
        raise NWBError("expected subject= at least one subject id, found an empty list")
    return subjects


def _rename_session(recording: xr.DataArray, name: str) -> xr.DataArray:
    """Untracked neurons carry the child's (unique) name, so two files with one session id stay apart."""
    session = str(recording.attrs["session_id"])
    units = recording.coords["unit_id"].values.tolist()
    if recording.attrs.get("tracking") in ("table", "column") and name != session:
        # the units the table names no cell for are this session's own ('<session id>/<unit>'): under the
        # unique child name, or two files with one session id would share them as if tracked
        own = [f"{session}/{u}" for u in units]
        neurons = [f"{name}/{u}" if str(n) == o else str(n)
                   for n, u, o in zip(recording.coords["neuron"].values.tolist(), units, own)]
        return recording.assign_coords(neuron=np.asarray(neurons, dtype=str))
    if recording.attrs.get("tracked") or name == session or recording.attrs.get("tracking") in ("table", "column"):
        return recording
    return recording.assign_coords(neuron=np.asarray([f"{name}/{u}" for u in units], dtype=str))


def _warn_undeclared_repeats(children: dict) -> None:
    """One warning when files that declare nothing about tracking share unit ids (pynwb numbers 0..N-1)."""
    owners: dict = {}
    for name, dataset in children.items():
        recording = dataset["responses"]
        if recording.attrs.get("tracking") != "undeclared":
            continue
        for unit in set(recording.coords["unit_id"].values.tolist()):
            owners.setdefault(unit, []).append(name)
    shared = sorted((u for u, names in owners.items() if len(names) > 1), key=str)
    if shared:
        sessions = sorted({n for u in shared for n in owners[u]})
        warnings.warn(
            f"unit/ROI ids {shared[:6]}{' ...' if len(shared) > 6 else ''} repeat across {len(sessions)} "
            f"sessions ({sessions[:4]}{' ...' if len(sessions) > 4 else ''}) whose files do not say whether "
            "they are the same cells; they are read as different cells (neuron = '<session>/<id>'), so no "
            "statistic compares cells across sessions. If they are the same tracked cells, pass "
            "tracked=True; if a matching (CellReg, suite2p, ROICaT) says which units are which cell, pass "
            "tracked=<CSV path or DataFrame with columns session, unit, cell>; tracked=False silences this "
            "warning (on the command line: --tracked, --tracked-table CELLS.csv, --untracked)",
            UserWarning,
            stacklevel=3,
        )


def _report(number, total, path, recording, seconds, subjects) -> None:
    if recording is None:
        what = "skipped" if subjects is None else "skipped (other subject)"
    else:
        sizes = recording.sizes
        what = f"{sizes['trial']} trials x {sizes['neuron']} neurons"
    name = url_name(path) if is_url(path) else Path(path).name
    print(f"[{number}/{total}] {name}: {what} ({seconds:.1f} s)", file=sys.stderr, flush=True)


def _expand(paths_or_glob) -> list:
    """Local paths as :class:`Path`, URLs as ``str`` (a Path would fold ``https://`` into ``https:/``)."""
    if is_url(paths_or_glob):
        return [paths_or_glob]
    if isinstance(paths_or_glob, (str, os.PathLike)):
        text = os.fspath(paths_or_glob)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise NWBError(f"expected NWB files matching {text!r}, found none")
            return [Path(m) for m in matches]
        return [Path(check_path(text, "paths_or_glob"))]
    if isinstance(paths_or_glob, (bytes, bytearray)) or hasattr(paths_or_glob, "read"):
        check_path(paths_or_glob, "paths_or_glob")
    try:
        paths = [p if is_url(p) else Path(check_path(p, "paths_or_glob")) for p in paths_or_glob]
    except TypeError as error:
        raise NWBError(
            f"expected paths_or_glob= a glob pattern, a path or a list of paths, found "
            f"{type(paths_or_glob).__name__} {paths_or_glob!r}"
        ) from error
    if not paths:
        raise NWBError("expected at least one NWB file, found an empty list")
    return paths


def _same_file_key(path):
    """What makes two paths one file: the device and inode of a local file (a link or ``a/../a.nwb`` is the
    same file), the text of a URL."""
    if is_url(path):
        return ("url", str(path))
    try:
        stat = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(os.fspath(path)))
    return ("inode", stat.st_dev, stat.st_ino)


def _refuse_repeated_paths(paths) -> None:
    """The same file listed twice would be one recording read as two sessions (pseudo-replication)."""
    seen: dict = {}
    for position, path in enumerate(paths):
        key = _same_file_key(path)
        if key in seen:
            first, where = seen[key]
            same = "the same path" if str(first) == str(path) else "the same file"
            raise NWBError(
                f"expected each file once, found {same} at positions {where} and {position} ({str(first)!r} and "
                f"{str(path)!r}): one recording read twice would be two sessions of different cells "
                "(pseudo-replication); list it once"
            )
        seen[key] = (path, position)


def _refuse_one_identifier_twice(read) -> None:
    """Two files with one NWB identifier are one recording (a copy, a re-download) unless declared otherwise."""
    owners: dict = {}
    for path, recording in read:
        identifier = str(recording.attrs.get("nwb_identifier", "") or "")
        if identifier:
            owners.setdefault(identifier, []).append((path, recording))
    for identifier, files in owners.items():
        if len(files) < 2:
            continue
        (first, one), (second, other) = files[:2]
        same_start = one.attrs.get("session_start_time") == other.attrs.get("session_start_time")
        how = ("and the same session_start_time: most likely one recording copied" if same_start else
               "though their session_start_time differ (a writer that reused the identifier?)")
        more = f" and {len(files) - 2} more" if len(files) > 2 else ""
        raise NWBError(
            f"expected one file per recording, found {str(first)!r} and {str(second)!r}{more} with the same NWB "
            f"identifier {identifier!r} {how}; as two sessions one recording would count as two of different "
            "cells (pseudo-replication). Read one of them, or pass allow_same_identifier=True if they are "
            "different recordings"
        )


def _file_names(path, session_id="") -> set:
    """The strings a tracked= table's ``session`` may use for this file: session id, file name, stem."""
    return {n for n in (str(session_id or ""), Path(str(path)).name, file_stem(path)) if n}


def _warn_unnamed_files(tracked, read, not_read) -> None:
    """One warning when a tracked= table names no session of some files read, with the table's sessions that
    match no file (a typo, ``ses_8`` for ``ses-8``, leaves that file untracked). Table sessions matching a
    file that was not read (another subject, left out) are neither."""
    if tracked is None or isinstance(tracked, (bool, CellColumn)):
        return
    keys = {str(k) for k in tracked["session"]}
    unnamed = [(path, recording) for path, recording in read
               if not _file_names(path, recording.attrs.get("session_id")) & keys]
    if not unnamed:
        return
    named = set().union(*(_file_names(p, r.attrs.get("session_id")) for p, r in read), *not_read)
    unmatched = sorted(keys - named)
    files = ", ".join(f"{Path(str(p)).name} (session id {str(r.attrs.get('session_id'))!r})" for p, r in unnamed[:6])
    warnings.warn(
        f"tracked= table sessions matching no file: {unmatched[:6]}{' ...' if len(unmatched) > 6 else ''}; "
        f"files the table does not name: {files}{' ...' if len(unnamed) > 6 else ''}. A table row's session "
        "must be a file's session id, file name or stem; the units of those files are read as cells of their "
        "own session only (not tracked)",
        UserWarning,
        stacklevel=3,
    )


def _refuse_ambiguous_table_keys(tracked, read) -> None:
    """A tracked= table's session key must name one file: two files with one session id (or name) would get
    the same cells from one key, a guess about which file the table meant."""
    if tracked is None or isinstance(tracked, (bool, CellColumn)):
        return
    owners: dict = {}
    for path, recording in read:
        names = {str(recording.attrs.get("session_id", "")), Path(str(path)).name, file_stem(path)}
        for key in names & set(tracked["session"]):
            owners.setdefault(key, []).append(str(path))
    shared = {key: paths for key, paths in owners.items() if len(paths) > 1}
    if shared:
        key, paths = next(iter(sorted(shared.items())))
        raise NWBError(f"expected each session key of the tracked= table to name one file, found {key!r} naming "
                       f"{len(paths)} files ({paths[:3]}): key those rows by file name or stem instead")


def _refuse_a_table_that_matches_nothing(tracked, read) -> None:
    """A declared tracking table that names no unit of any file read is a mistake, not a declaration."""
    if tracked is None or isinstance(tracked, (bool, CellColumn)) or any(rec.attrs.get("tracked") for _, rec in read):
        return
    ids = read[0][1].coords["unit_id"].values[:5].tolist()
    raise NWBError(f"expected the tracked= table to name units of the files read, found none matched: its "
                   f"sessions {sorted(set(tracked['session']))[:4]} and units e.g. {tracked['unit'].head(3).tolist()}; "
                   f"the files' session ids {[str(rec.attrs.get('session_id')) for _, rec in read][:4]} "
                   f"(or file names/stems) and unit ids e.g. {ids}")


def _natural_key(text: str) -> list:
    """``day2`` before ``day10``: digit runs compared as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def _warn_undecided_order(read) -> None:
    """One warning when start times do not decide the training order of some files (equal or missing)."""
    groups: dict = {}
    for path, recording in read:
        groups.setdefault(_start_key(recording), []).append(file_stem(path))
    undecided = {key: names for key, names in groups.items() if len(names) > 1}
    if undecided:
        shown = "; ".join(f"{names} ({'no start time' if key.year == datetime.max.year else key.isoformat()})"
                          for key, names in list(undecided.items())[:3])
        warnings.warn(
            f"session_start_time does not decide the order of {shown}: ordered by file name as shown, and the "
            "fits' training time follows that order; if it is not theirs, list the files in training order "
            "with order='given'",
            UserWarning,
            stacklevel=3,
        )


def _start_key(recording) -> datetime:
    moment = parse_start_time(recording.attrs.get("session_start_time", ""))
    return moment or datetime.max.replace(tzinfo=timezone.utc)


def _child_name(session_id: str, path) -> str:
    name = re.sub(r"/+", "_", str(session_id)).strip() or file_stem(path)
    return name


def _unique(name: str, taken) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"
