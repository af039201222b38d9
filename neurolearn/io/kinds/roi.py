"""RoiResponseSeries (optical traces): the kind wrapping :mod:`neurolearn.io.series`."""

from __future__ import annotations

import h5py
import numpy as np

from neurolearn.io.kinds.base import SourceKind
from neurolearn.io.nwbfile import is_timeseries, neurodata_type
from neurolearn.io.series import plan_series, read_series_block

__all__ = ["RoiKind"]

#: ``source="auto"`` prefers the series of these containers, in this order, then any RoiResponseSeries
PREFERRED_PARENTS = ("DfOverF", "Fluorescence")


class RoiKind(SourceKind):
    """RoiResponseSeries: window/bin means of each ROI's trace; ids from the ``rois`` region (ROI table ids),
    ``units`` ``"dF/F"`` under DfOverF, else the data's ``unit``. ``source="auto"``: the single series under
    DfOverF, else under Fluorescence, else anywhere."""

    name = "roi"
    neurodata_types = ("RoiResponseSeries",)
    what = ("a RoiResponseSeries", "RoiResponseSeries")
    structure = "a TimeSeries"
    describe_key = "roi_response_series"
    describe_heading = "ROI response series"

    def claims(self, group) -> bool:
        return is_timeseries(group) and neurodata_type(group) == "RoiResponseSeries"

    def quick_auto(self, handle) -> str:
        """The RoiResponseSeries of the one DfOverF container in a processing module when the file has no
        ``/units`` group and that is unambiguous; '' otherwise (then the whole file is searched)."""
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

    def auto_candidates(self, found) -> tuple[list[str], str]:
        candidates = found.candidates(self.name)
        for parent in PREFERRED_PARENTS + (None,):
            paths = [c.path for c in candidates if parent is None or c.parent_type == parent]
            if paths:
                return paths, "RoiResponseSeries" + ("" if parent is None else f" under {parent}")
        return [], self.what[1]

    def plan(self, handle, group, plan) -> None:
        plan_series(handle, group, plan)

    def read_block(self, handle, plan, trials, neurons) -> np.ndarray:
        return read_series_block(handle, plan, trials, neurons)

    def describe(self, handle, candidate) -> dict:
        return {"path": candidate.path, "shape": list(handle[candidate.path]["data"].shape),
                "parent": candidate.parent_type}

    def format_entry(self, entry: dict) -> str:
        shape = " x ".join(map(str, entry["shape"]))
        return f"/{entry['path']}: {shape} (in {entry['parent'] or 'no container'})"

