"""``read_sessions``: several NWB sessions -> one :class:`xarray.DataTree` in session-start order."""

from __future__ import annotations

import glob
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import xarray as xr

from neurolearn.errors import NWBError
from neurolearn.io.nwbfile import parse_start_time
from neurolearn.io.read import read_nwb

__all__ = ["read_sessions"]


def read_sessions(paths_or_glob, **options) -> xr.DataTree:
    """Read every session with :func:`read_nwb` (same ``options``) into a DataTree, one child per session.

    Parameters
    ----------
    paths_or_glob : str, path-like or sequence of them
        A glob pattern (``"data/day*.nwb"``), one path, or a list of paths.
    **options
        Passed unchanged to :func:`read_nwb` (``source``, ``trials``, ``align``, ``window``, ``bin_size``,
        ``chunks``, ``inputs``, ...).

    Returns
    -------
    xarray.DataTree
        Children named by session id (``"-2"``, ``"-3"`` appended to repeats; ``/`` replaced), each holding a
        Dataset with ``responses``, ordered by ``session_start_time`` (then file name). Sessions may differ in
        trials and neurons; a neuron id that repeats across sessions is the same tracked cell.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.simulate.nwb import write_sessions_nwb
    >>> folder = tempfile.mkdtemp()
    >>> recs = [xr.DataArray(np.ones((2, 1), int), dims=("trial", "neuron"), attrs={
    ...     "session_id": name, "session_start_time": start, "window": (0.0, 1.0)})
    ...     for name, start in [("late", "2026-01-03T09:00:00"), ("early", "2026-01-01T09:00:00")]]
    >>> _ = write_sessions_nwb(recs, folder, rng=0)
    >>> list(read_sessions(os.path.join(folder, "*.nwb")).children)
    ['early', 'late']
    """
    paths = _expand(paths_or_glob)
    recordings = [read_nwb(path, **options) for path in paths]
    order = sorted(range(len(paths)), key=lambda i: (_start_key(recordings[i]), str(paths[i])))
    children: dict[str, xr.Dataset] = {}
    for i in order:
        recording = recordings[i]
        name = _unique(_child_name(recording.attrs["session_id"], paths[i]), children)
        children[name] = xr.Dataset({"responses": recording})
    return xr.DataTree.from_dict(children)


def _expand(paths_or_glob) -> list[Path]:
    if isinstance(paths_or_glob, (str, os.PathLike)):
        text = os.fspath(paths_or_glob)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise NWBError(f"expected NWB files matching {text!r}, found none")
            return [Path(m) for m in matches]
        return [Path(text)]
    try:
        paths = [Path(os.fspath(p)) for p in paths_or_glob]
    except TypeError as error:
        raise NWBError(
            f"expected a glob pattern, a path or a list of paths, found {type(paths_or_glob).__name__}"
        ) from error
    if not paths:
        raise NWBError("expected at least one NWB file, found an empty list")
    return paths


def _start_key(recording) -> datetime:
    moment = parse_start_time(recording.attrs.get("session_start_time", ""))
    return moment or datetime.max.replace(tzinfo=timezone.utc)


def _child_name(session_id: str, path: Path) -> str:
    name = re.sub(r"/+", "_", str(session_id)).strip() or path.stem
    return name


def _unique(name: str, taken) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"
