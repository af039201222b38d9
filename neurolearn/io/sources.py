"""Which object of a file holds the neural data: ``source="auto"`` or a path inside the file."""

from __future__ import annotations

import h5py

from neurolearn.errors import NWBError
from neurolearn.io.nwbfile import find_sources, is_timeseries, is_units_table, neurodata_type

__all__ = ["resolve_source"]


def resolve_source(handle, label, source) -> tuple[str, str]:
    """``(path inside the file, "units" | "series")`` of ``source``; :class:`NWBError` listing the readable
    sources when it is absent, ambiguous or not neural data."""
    if not isinstance(source, str) or not source:
        raise NWBError(
            f"{label}: expected source='auto' or the path of an object in the file, found {source!r}"
        )
    if source != "auto":
        key = source.strip("/")
        obj = handle.get(key)
        if is_units_table(obj):
            return key, "units"
        if is_timeseries(obj):
            return key, "series"
        found = find_sources(handle)
        what = "nothing"
        if obj is not None:
            what = f"a {neurodata_type(obj) or type(obj).__name__} without data/spike times"
        raise NWBError(
            f"{label}: expected {source!r} to be a Units table or a TimeSeries, found {what}; "
            f"readable sources: {_candidates(found)}"
        )
    if is_units_table(handle.get("units")):
        return "units", "units"  # the common case needs no walk through the file
    quick = _single_dff_series(handle)
    if quick:
        return quick, "series"
    found = find_sources(handle)
    if len(found.units) == 1:
        return found.units[0], "units"
    if len(found.units) > 1:
        raise NWBError(f"{label}: found several Units tables {found.units}; pass source=<one of them>")
    for parent in ("DfOverF", "Fluorescence", None):
        series = [p for p, t in found.roi_series if parent is None or t == parent]
        if len(series) == 1:
            return series[0], "series"
        if len(series) > 1:
            raise NWBError(
                f"{label}: found several RoiResponseSeries{'' if parent is None else ' under ' + parent}: "
                f"{series}; pass source=<one of them>"
            )
    raise NWBError(
        f"{label}: expected neural data (a Units table or a RoiResponseSeries), found none; "
        f"other TimeSeries: {[f'{p} {list(s)}' for p, _, s in found.timeseries] or 'none'}; "
        "pass source=<path> to read one of them"
    )


def _single_dff_series(handle) -> str:
    """The RoiResponseSeries of the one DfOverF container in a processing module, if that is unambiguous;
    '' otherwise (then the whole file is searched)."""
    processing = handle.get("processing")
    if not isinstance(processing, h5py.Group) or isinstance(handle.get("units"), h5py.Group):
        return ""
    hits = []
    for module in processing.values():
        if not isinstance(module, h5py.Group):
            continue
        for container in module.values():
            if isinstance(container, h5py.Group) and neurodata_type(container) == "DfOverF":
                hits += [
                    f"{container.name.lstrip('/')}/{name}"
                    for name, series in container.items()
                    if neurodata_type(series) == "RoiResponseSeries" and is_timeseries(series)
                ]
    return hits[0] if len(hits) == 1 else ""


def _candidates(found) -> list[str]:
    return found.units + [p for p, _ in found.roi_series] + [p for p, _, _ in found.timeseries]
