"""Open an NWB file read-only and find what is in it, with h5py only.

Everything here works on the raw HDF5 layout rather than pynwb's object model, because that is both faster and
more forgiving: old files (NWB 2.0b, MatNWB output with array-valued attributes) that pynwb refuses to
build are still readable group by group. Every failure of h5py is turned into an
:class:`~neurolearn.errors.NWBError` that names the file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime

import h5py
import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.remote import file_stem, is_url, open_remote

__all__ = [
    "open_nwb",
    "nwb_version",
    "session_metadata",
    "decode",
    "neurodata_type",
    "Candidate",
    "Inventory",
    "walk_file",
    "find_intervals",
    "is_timeseries",
    "is_units_table",
]

# Containers that never hold the recording a user means by "neural data".
_SKIPPED_ROOTS = ("specifications", "general")


@contextlib.contextmanager
def open_nwb(path):
    """Open ``path`` read-only as an NWB 2.x file; yield the :class:`h5py.File` and always close it.

    ``path`` may be an ``http(s)://`` or ``dandi://`` URL, read with ranged requests
    (:mod:`neurolearn.io.remote`, optional extra ``neurolearn[remote]``).

    Raises :class:`NWBError` (naming the file or URL) when the path does not exist, is not HDF5, is empty or
    truncated, or is an NWB 1.x file; for a URL also when the host cannot be reached, the server answers an
    HTTP error or does not honour Range requests.

    Examples
    --------
    >>> from neurolearn.io.nwbfile import open_nwb
    >>> with open_nwb("no/such/file.nwb") as f:  # doctest: +ELLIPSIS
    ...     pass
    Traceback (most recent call last):
    ...
    neurolearn.errors.NWBError: no/such/file.nwb: expected an NWB file, found no such path
    """
    path = os.fspath(path)
    if not isinstance(path, str):
        raise NWBError(f"expected path= a str or os.PathLike naming an NWB file, found {type(path).__name__}")
    if is_url(path):
        with open_remote(path) as handle:
            _check_root(handle, path)
            yield handle
        return
    if not os.path.exists(path):
        raise NWBError(f"{path}: expected an NWB file, found no such path")
    if os.path.isdir(path):
        raise NWBError(f"{path}: expected an NWB file, found a directory")
    size = os.path.getsize(path)
    if size == 0:
        raise NWBError(f"{path}: expected an NWB (HDF5) file, found an empty file (0 bytes)")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except (OSError, RuntimeError, ValueError) as error:
        raise NWBError(f"{path}: cannot be read ({error})") from error
    if not is_hdf5:
        raise NWBError(f"{path}: expected an NWB file (HDF5), found a file without an HDF5 signature")
    try:
        handle = h5py.File(path, "r")
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise NWBError(f"{path}: {_open_failure(error)}") from error
    try:
        _check_root(handle, path)
        yield handle
    finally:
        handle.close()


def _check_root(handle: h5py.File, path: str) -> None:
    try:
        _check_version(handle, path)
    except NWBError:
        raise
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
        # a damaged root attribute (one flipped bit) fails inside libhdf5 here, before any table is read
        raise NWBError(
            f"{path}: expected a readable root attribute 'nwb_version', found a damaged one "
            f"({type(error).__name__}: {error})"
        ) from error


def _open_failure(error: Exception) -> str:
    """Why h5py could not open a file that has an HDF5 signature: locked, not permitted, or damaged."""
    text = str(error)
    lowered = text.lower()
    if isinstance(error, BlockingIOError) or "unable to lock file" in lowered:
        return (
            "cannot be opened because another program holds it open for writing (HDF5 file lock); wait for "
            "the writer to finish and close it, or set HDF5_USE_FILE_LOCKING=FALSE to read it while it is "
            f"being written, at your own risk ({text})"
        )
    if "permission denied" in lowered or getattr(error, "errno", None) == 13:
        return f"cannot be opened: permission denied ({text})"
    return f"expected a readable HDF5 file, found a damaged or truncated one ({text})"


def nwb_version(handle: h5py.File) -> str:
    """The NWB version stored in the file ('' if none): root attribute (2.x) or dataset (1.x)."""
    version = decode(handle.attrs.get("nwb_version"))
    stored = handle.get("nwb_version")
    if not version and isinstance(stored, h5py.Dataset):
        version = decode(stored[()])
    if isinstance(version, list):
        version = version[0] if version else ""
    return str(version or "")


def _check_version(handle: h5py.File, path: str) -> None:
    version = nwb_version(handle)
    if _is_nwb1(version):
        raise NWBError(
            f"{path}: NWB 1.x file (version {version}) is not supported; expected NWB 2.x. Convert it with "
            "NeuroConv or re-export it with pynwb from the original data, then read the NWB 2.x file"
        )
    if not version:
        found = sorted(handle.keys())
        if not found:
            raise NWBError(
                f"{path}: expected an NWB file, found an HDF5 file with no groups and no nwb_version"
            )
        raise NWBError(
            f"{path}: expected an NWB 2.x file (root attribute 'nwb_version'), found none; top-level "
            f"entries: {found}"
        )


def _is_nwb1(version: str) -> bool:
    text = version.upper().removeprefix("NWB-")
    return text.startswith("1.") or text == "1"


def decode(value):
    """A Python string/number from an HDF5 attribute or scalar: bytes decoded, 1-element arrays unwrapped."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.size == 1:
            value = value.reshape(-1)[0]
        else:
            return [decode(v) for v in value.tolist()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def neurodata_type(obj) -> str:
    """The ``neurodata_type`` attribute of an HDF5 object ('' if absent)."""
    try:
        value = decode(obj.attrs.get("neurodata_type"))
    except (OSError, KeyError, TypeError):
        return ""
    return str(value) if value else ""


def session_metadata(handle: h5py.File, path) -> dict:
    """``session_id`` (general/session_id, else identifier, else file stem), ISO ``session_start_time``,
    ``nwb_version``."""
    session_id = _scalar_string(handle, "general/session_id") or _scalar_string(handle, "identifier")
    if not session_id:
        session_id = file_stem(path)
    start = _scalar_string(handle, "session_start_time") or ""
    return {
        "session_id": session_id,
        "session_start_time": _iso(start),
        "nwb_version": nwb_version(handle),
    }


def _scalar_string(handle: h5py.File, name: str) -> str:
    obj = handle.get(name)
    if not isinstance(obj, h5py.Dataset):
        return ""
    try:
        value = decode(obj[()])
    except (OSError, TypeError, ValueError):
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip() if value is not None else ""


def _iso(text: str) -> str:
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return text


def parse_start_time(text: str) -> datetime | None:
    """``session_start_time`` as a timezone-aware datetime (naive ones read as UTC), or None if unparsable."""
    from datetime import timezone

    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_timeseries(obj) -> bool:
    """A group with a ``data`` dataset and a time base (``timestamps`` or ``starting_time``)."""
    if not isinstance(obj, h5py.Group):
        return False
    try:
        return (
            isinstance(obj.get("data"), h5py.Dataset)
            and ("timestamps" in obj or "starting_time" in obj)
        )
    except (OSError, KeyError, RuntimeError):
        return False


def is_units_table(obj) -> bool:
    """A group holding ``spike_times`` (a Units table, whatever its neurodata_type spelling)."""
    if not isinstance(obj, h5py.Group):
        return False
    try:
        return isinstance(obj.get("spike_times"), h5py.Dataset)
    except (OSError, KeyError, RuntimeError):
        return False


@dataclass(frozen=True)
class Candidate:
    """One object of a file that a source kind (:mod:`neurolearn.io.kinds`) claimed during the walk."""

    path: str  # inside the file, no leading "/"
    neurodata_type: str = ""
    parent_type: str = ""  # neurodata_type of the group holding it ("DfOverF", "LFP", ...)
    shape: tuple = ()  # of its ``data`` dataset, () if it has none
    identity: int = 0  # equal for two paths (links) to one HDF5 object
    linked: bool = False  # reached through a soft or external link


@dataclass
class Inventory:
    """What one walk through a file found: the candidates of each source kind (by kind name, in walk order)
    and the interval tables."""

    sources: dict[str, list[Candidate]] = field(default_factory=dict)
    intervals: list[str] = field(default_factory=list)

    def candidates(self, kind: str) -> list[Candidate]:
        return list(self.sources.get(kind, []))

    def paths(self, kind: str | None = None) -> list[str]:
        """Paths of one kind's candidates, or of every kind's (``kind=None``)."""
        kinds = list(self.sources) if kind is None else [kind]
        return [c.path for name in kinds for c in self.sources.get(name, [])]


def walk_file(handle: h5py.File, classify) -> Inventory:
    """Walk the file once: every group that ``classify(group)`` names a kind of (a non-empty string) is a
    :class:`Candidate` of that kind and is not entered; interval tables are collected; other groups are
    entered.

    ``/specifications`` (cached schema) and ``/general`` (metadata: devices, electrodes, subject) are not
    entered. Objects that cannot be opened (broken links, unknown filters) are skipped, so one damaged entry
    does not hide the rest of the file. The kind-aware walk is :func:`neurolearn.io.kinds.find_sources`.
    """
    found = Inventory()
    _walk(handle, "", found, classify, depth=0)
    return found


def find_intervals(handle: h5py.File) -> list[str]:
    """Paths of the interval tables (TimeIntervals, or any group with a ``start_time`` dataset) of a file."""
    return walk_file(handle, _holds_data).intervals


def _holds_data(group) -> str:
    return "data" if is_units_table(group) or is_timeseries(group) else ""


_MAX_DEPTH = 16  # a link cycle cannot make the walk run forever


def _walk(group: h5py.Group, prefix: str, found: Inventory, classify, depth: int) -> None:
    try:
        names = sorted(group.keys())
    except (OSError, KeyError, RuntimeError, ValueError):
        return
    for name in names:
        path = f"{prefix}{name}"
        if depth == 0 and name in _SKIPPED_ROOTS:
            continue
        try:
            obj = group.get(name)
        except (OSError, KeyError, RuntimeError, ValueError):
            continue
        if not isinstance(obj, h5py.Group):
            continue
        kind = classify(obj)
        if kind:
            found.sources.setdefault(kind, []).append(_candidate(group, name, path, obj))
        elif neurodata_type(obj) == "TimeIntervals" or isinstance(obj.get("start_time"), h5py.Dataset):
            found.intervals.append(path)
        elif depth < _MAX_DEPTH:
            _walk(obj, path + "/", found, classify, depth + 1)


def _candidate(parent: h5py.Group, name: str, path: str, obj: h5py.Group) -> Candidate:
    try:
        data = obj.get("data")
        shape = tuple(data.shape or ()) if isinstance(data, h5py.Dataset) else ()
    except (OSError, KeyError, RuntimeError, TypeError):
        shape = ()
    try:
        linked = isinstance(parent.get(name, getlink=True), (h5py.SoftLink, h5py.ExternalLink))
        identity = hash(obj.id)
    except (OSError, KeyError, RuntimeError, TypeError, ValueError):
        linked, identity = False, hash(path)
    return Candidate(path=path, neurodata_type=neurodata_type(obj), parent_type=neurodata_type(obj.parent),
                     shape=shape, identity=identity, linked=linked)
