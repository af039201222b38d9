"""Units tables (spike times): the kind wrapping :mod:`neurolearn.io.units`."""

from __future__ import annotations

import h5py
import numpy as np

from neurolearn.io.kinds.base import SourceKind
from neurolearn.io.nwbfile import is_units_table
from neurolearn.io.units import plan_units, read_units_block

__all__ = ["UnitsKind"]


class UnitsKind(SourceKind):
    """Any group holding ``spike_times`` (a Units table, whatever its neurodata_type spelling): spike counts
    per window or bin (``rates=True``: per second). ``source="auto"``: ``/units``, else the single Units
    table of the file. Which trials and units were recorded is decided at planning
    (:mod:`neurolearn.io.extent`), so eager and lazy reads need no check of their own."""

    name = "units"
    neurodata_types = ("Units",)
    what = ("a Units table", "Units tables")
    structure = "a Units table"
    describe_key = "units"
    describe_heading = "units"

    def claims(self, group) -> bool:
        return is_units_table(group)

    def quick_auto(self, handle) -> str:
        return "units" if is_units_table(handle.get("units")) else ""  # the common case needs no walk

    def plan(self, handle, group, plan) -> None:
        plan_units(group, plan)

    def read_block(self, handle, plan, trials, neurons) -> np.ndarray:
        return read_units_block(handle, plan, trials, neurons)

    def dtype(self, plan) -> np.dtype:
        return np.dtype(float) if plan.rates else np.dtype(np.int64)

    def describe(self, handle, candidate) -> dict:
        group = handle[candidate.path]
        index = group.get("spike_times_index")
        n_spikes = int(group["spike_times"].shape[0])
        n_units = int(index.shape[0]) if isinstance(index, h5py.Dataset) else (1 if n_spikes else 0)
        return {"path": candidate.path, "n_units": n_units, "n_spikes": n_spikes}

    def format_entry(self, entry: dict) -> str:
        return f"/{entry['path']}: {entry['n_units']} units, {entry['n_spikes']} spikes"
