"""``describe_file``: what an NWB file holds that :func:`neurolearn.read_nwb` can read.

Used by ``neurolearn info FILE``.
"""

from __future__ import annotations

from neurolearn.errors import NWBError
from neurolearn.io.identity import declared_tracking, file_subject_id
from neurolearn.io.kinds import SOURCE_KINDS, find_sources
from neurolearn.io.lazy import LOW_LEVEL_ERRORS
from neurolearn.io.nwbfile import decode, nwb_version, open_nwb, session_metadata
from neurolearn.io.params import check_path
from neurolearn.io.remote import open_hdf5
from neurolearn.io.sources import resolve_source

__all__ = ["describe_file", "format_description"]


def describe_file(path) -> dict:
    """Inventory of an NWB file: version, session, neural sources and interval tables.

    Reads only metadata and dataset shapes (plus the spike count per Units table); the file is opened
    read-only. NWB 1.x files are described as unsupported (``supported=False`` and a ``problem``) rather than
    refused, so ``neurolearn info`` can say what they are; missing, non-HDF5 and damaged files raise
    :class:`NWBError`.

    Returns
    -------
    dict
        ``file``, ``nwb_version``, ``supported``, ``problem``, ``session_id``, ``session_start_time``,
        ``subject_id`` (``""`` if unknown), ``tracked_cells`` (what the file declares about cell identity
        across sessions: True, False or None),
        one list per source kind (:mod:`neurolearn.io.kinds`, under its ``describe_key``): ``units``
        (``{"path", "n_units", "n_spikes"}``), ``roi_response_series`` (``{"path", "shape", "parent"}``),
        ``electrical_series`` (``{"path", "shape", "parent"}``), ``timeseries`` (``{"path", "type",
        "shape"}``); ``intervals`` (``{"path", "rows", "columns"}``) and ``default_source`` (what
        ``source="auto"`` would read, or None).

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.simulate.nwb import write_recording_nwb
    >>> counts = xr.DataArray(np.array([[1, 2]]), dims=("trial", "neuron"), attrs={"session_id": "d1"})
    >>> info = describe_file(write_recording_nwb(counts, os.path.join(tempfile.mkdtemp(), "d1.nwb"), rng=0))
    >>> info["session_id"], info["units"][0]["n_units"], info["intervals"][0]["rows"]
    ('d1', 2, 1)
    """
    label = check_path(path)
    try:
        with open_nwb(label) as handle:
            try:
                return _describe(handle, label)
            except NWBError:
                raise
            except LOW_LEVEL_ERRORS as error:
                raise NWBError(f"{label}: could not be described: {type(error).__name__}: {error}") from error
    except NWBError as error:
        if "NWB 1.x" not in str(error):
            raise
        try:
            with open_hdf5(label) as handle:
                version = nwb_version(handle)
        except LOW_LEVEL_ERRORS:
            version = ""
        return {
            "file": label,
            "nwb_version": version,
            "supported": False,
            "problem": str(error),
            "session_id": "",
            "session_start_time": "",
            "subject_id": "",
            "tracked_cells": None,
            **{_key(kind): [] for kind in SOURCE_KINDS},
            "intervals": [],
            "default_source": None,
        }


def _describe(handle, label) -> dict:
    meta = session_metadata(handle, label)
    found = find_sources(handle)
    sources = {_key(kind): [kind.describe(handle, candidate) for candidate in found.candidates(kind.name)]
               for kind in SOURCE_KINDS}
    intervals = []
    for path in found.intervals:
        group = handle[path]
        columns = decode(group.attrs.get("colnames"))
        columns = [columns] if isinstance(columns, str) else [str(c) for c in (columns or [])]
        intervals.append({"path": path, "rows": int(group["start_time"].shape[0]), "columns": columns})
    try:
        default = resolve_source(handle, label, "auto", found)[0]
    except NWBError:
        default = None  # no neural data, or several candidates: `info` lists them, read_nwb says which
    return {
        "file": label,
        "nwb_version": meta["nwb_version"],
        "supported": True,
        "problem": "",
        "session_id": meta["session_id"],
        "session_start_time": meta["session_start_time"],
        "subject_id": file_subject_id(handle, label),
        "tracked_cells": declared_tracking(handle),
        **sources,
        "intervals": intervals,
        "default_source": default,
    }


def _key(kind) -> str:
    return kind.describe_key or kind.name


def format_description(description: dict) -> str:
    """Human-readable text of a :func:`describe_file` result.

    Examples
    --------
    >>> print(format_description({"file": "a.nwb", "nwb_version": "2.7.0", "supported": True, "problem": "",
    ...     "session_id": "s", "session_start_time": "2026-01-01T09:00:00+00:00",
    ...     "units": [{"path": "units", "n_units": 3, "n_spikes": 120}], "roi_response_series": [],
    ...     "timeseries": [], "intervals": [{"path": "intervals/trials", "rows": 10,
    ...     "columns": ["start_time", "stop_time"]}], "default_source": "units"}))
    a.nwb  (NWB 2.7.0)
      session: s, started 2026-01-01T09:00:00+00:00
      units:
        /units: 3 units, 120 spikes
      interval tables:
        /intervals/trials: 10 rows; columns start_time, stop_time
      default source: /units
    """
    if not isinstance(description, dict) or "file" not in description:
        raise NWBError(
            f"expected description= the dict describe_file returns, found {type(description).__name__}"
        )
    lines = [f"{description['file']}  (NWB {description.get('nwb_version') or 'version unknown'})"]
    if not description.get("supported", True):
        lines.append(f"  not supported: {description.get('problem', '')}")
        return "\n".join(lines)
    started = description["session_start_time"] or "?"
    lines.append(f"  session: {description['session_id']}, started {started}")
    if "subject_id" in description or "tracked_cells" in description:
        declared = {True: "declared tracked across sessions", False: "declared not tracked",
                    None: "not declared (read as different cells; pass tracked= to declare)"}
        lines.append(f"  subject: {description.get('subject_id') or 'unknown'}; cell identity: "
                     f"{declared[description.get('tracked_cells')]}")
    for kind in SOURCE_KINDS:
        entries = description.get(_key(kind)) or []
        if entries:
            lines.append(f"  {kind.describe_heading or kind.name + ' sources'}:")
            lines += [f"    {kind.format_entry(entry)}" for entry in entries]
    if description["intervals"]:
        lines.append("  interval tables:")
        lines += [
            f"    /{i['path']}: {i['rows']} rows; columns {', '.join(i['columns'])}"
            for i in description["intervals"]
        ]
    else:
        lines.append("  interval tables: none")
    default = description.get("default_source")
    lines.append(
        f"  default source: /{default}" if default else "  default source: none (pass source=<path>)"
    )
    return "\n".join(lines)
