"""The registry of NWB source kinds: what :func:`~neurolearn.io.read_nwb` can read, and in which order.

:data:`SOURCE_KINDS` is ordered, and the order means two things:

* **claiming**: a group of the file belongs to the first kind whose :meth:`~SourceKind.claims` accepts it (so
  the catch-all ``timeseries`` comes last, after the TimeSeries subtypes it would otherwise swallow);
* **``source="auto"`` priority**: the first kind (with ``auto=True``) that has candidates decides: one
  candidate is read, several are refused with an error listing them.

Built in, in order: ``units`` (Units tables), ``roi`` (RoiResponseSeries: DfOverF before Fluorescence),
``electrical`` (ElectricalSeries: the one in an LFP/FilteredEphys container before any other) and
``timeseries`` (any other TimeSeries, ``source=<path>`` only).

Adding a kind is one module with a :class:`~neurolearn.io.kinds.base.SourceKind` subclass, registered where
that module is imported (``register_source_kind(MyKind())``), and its test; nothing else in ``io`` changes.
Dask tasks find the kind by name (``Plan.kind``) in the process they run in, so a kind used with
``chunks=`` and a multi-process scheduler must be registered when its module is imported.

Examples
--------
>>> from neurolearn.io.kinds import SOURCE_KINDS, source_kind
>>> [kind.name for kind in SOURCE_KINDS]
['units', 'roi', 'electrical', 'timeseries']
>>> source_kind("roi").what[1]
'RoiResponseSeries'
"""

from __future__ import annotations

from neurolearn.errors import NWBError
from neurolearn.io.kinds.base import Candidate, Inventory, SourceKind, distinct_paths
from neurolearn.io.kinds.electrical import ElectricalKind
from neurolearn.io.kinds.roi import RoiKind
from neurolearn.io.kinds.timeseries import TimeSeriesKind
from neurolearn.io.kinds.units import UnitsKind
from neurolearn.io.nwbfile import walk_file

__all__ = [
    "SOURCE_KINDS",
    "SourceKind",
    "Candidate",
    "Inventory",
    "register_source_kind",
    "unregister_source_kind",
    "source_kind",
    "claiming_kind",
    "find_sources",
    "distinct_paths",
]

#: The registered kinds, in claiming and ``source="auto"`` order.
SOURCE_KINDS: list[SourceKind] = [UnitsKind(), RoiKind(), ElectricalKind(), TimeSeriesKind()]


def register_source_kind(kind: SourceKind, *, before: str | None = "timeseries") -> SourceKind:
    """Add ``kind`` to the registry, just before the kind named ``before`` (default: before the catch-all
    ``timeseries``, so it can claim TimeSeries subtypes; ``None``: at the end). Returns ``kind``.

    Raises :class:`NWBError` when it is not a :class:`SourceKind` with a name, or the name is taken.
    """
    if not isinstance(kind, SourceKind) or not isinstance(kind.name, str) or not kind.name:
        raise NWBError(f"expected a SourceKind instance with a non-empty name, found {kind!r}")
    names = [k.name for k in SOURCE_KINDS]
    if kind.name in names:
        raise NWBError(f"expected a new source kind name, found {kind.name!r} already registered ({names})")
    if before is None:
        SOURCE_KINDS.append(kind)
    else:
        if before not in names:
            raise NWBError(f"expected before= one of the registered kinds {names}, found {before!r}")
        SOURCE_KINDS.insert(names.index(before), kind)
    return kind


def unregister_source_kind(name: str) -> SourceKind:
    """Remove the kind called ``name`` from the registry and return it (tests restore the registry so)."""
    kind = source_kind(name)
    SOURCE_KINDS.remove(kind)
    return kind


def source_kind(name: str) -> SourceKind:
    """The registered kind called ``name`` (``Plan.kind``); :class:`NWBError` naming the registered ones."""
    for kind in SOURCE_KINDS:
        if kind.name == name:
            return kind
    raise NWBError(
        f"expected a registered source kind, found {name!r}; registered: {[k.name for k in SOURCE_KINDS]} "
        "(a kind used by a dask task in another process must be registered when its module is imported)"
    )


def claiming_kind(group) -> SourceKind | None:
    """The first registered kind that claims ``group`` (None if none does)."""
    for kind in SOURCE_KINDS:
        if kind.claims(group):
            return kind
    return None


def find_sources(handle) -> Inventory:
    """Walk the file once and sort its groups into the candidates of each registered kind (by kind name, in
    registry order) and the interval tables.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os, h5py
    >>> from neurolearn.simulate.nwb import write_recording_nwb
    >>> counts = xr.DataArray(np.array([[1, 2]]), dims=("trial", "neuron"))
    >>> with h5py.File(write_recording_nwb(counts, os.path.join(tempfile.mkdtemp(), "f.nwb"), rng=0)) as f:
    ...     found = find_sources(f)
    >>> found.paths("units"), found.intervals
    (['units'], ['intervals/trials'])
    """
    def classify(group) -> str:
        kind = claiming_kind(group)
        return kind.name if kind is not None else ""

    found = walk_file(handle, classify)
    found.sources = {k.name: found.sources[k.name] for k in SOURCE_KINDS if k.name in found.sources}
    return found
