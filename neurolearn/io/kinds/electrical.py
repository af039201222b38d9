"""ElectricalSeries (raw voltage, LFP, filtered ephys): channels labelled by the electrodes table.

An ElectricalSeries is read like any trace (window/bin means with :mod:`neurolearn.io.series`, one streamed
sparse product per block of rows), and its channels are named by what the file says about them:

* ``unit_id``: the electrode table's ``id`` of the row each channel references through the series'
  ``electrodes`` region; when that reference is broken (no table, rows out of range, a count that does not
  match the channels) the channels keep their numbers ``0..n-1``, with a warning;
* neuron coords: every scalar column of the electrode table for those rows (``location``, ``group_name``,
  ``x``/``y``/``z``, ``imp``, ``filtering``... where present); ``group_name`` is decoded from the ``group``
  references when the table has no such column;
* values in the data's ``unit`` (``"volts"`` when unstated): ``data * conversion * channel_conversion[c] +
  offset``, with ``channel_conversion`` the optional per-channel factor of NWB 2.1+.

``source="auto"`` (after Units tables and RoiResponseSeries) reads the single ElectricalSeries inside an
``LFP`` or ``FilteredEphys`` container, else the single ElectricalSeries of the file; of two linked paths to
one series the direct one counts. Several candidates are refused, naming them.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.kinds.base import SourceKind, distinct_paths
from neurolearn.io.nwbfile import decode, is_timeseries, neurodata_type
from neurolearn.io.series import plan_series, read_series_block
from neurolearn.io.tables import scalar_columns, table_ids
from neurolearn.io.units import group_locations, refuse_duplicate_ids, stated_locations

__all__ = ["ElectricalKind", "channel_conversion", "electrode_labels"]

#: processing containers whose ElectricalSeries ``source="auto"`` prefers (a file's LFP over its raw data)
PREFERRED_PARENTS = ("LFP", "FilteredEphys")


class ElectricalKind(SourceKind):
    """ElectricalSeries: window/bin means per channel, channel ids and coords from the electrodes table.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from datetime import datetime, timezone
    >>> from pynwb import NWBFile, NWBHDF5IO
    >>> from pynwb.ecephys import LFP, ElectricalSeries
    >>> from neurolearn.io import read_nwb
    >>> nwb = NWBFile("demo", "lfp-demo", datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> shank = nwb.create_electrode_group("shank0", "one shank", "CA1", nwb.create_device("probe"))
    >>> for number in range(2):
    ...     nwb.add_electrode(group=shank, location="CA1", id=20 + number)
    >>> lfp = LFP(name="LFP")
    >>> _ = nwb.create_processing_module("ecephys", "LFP").add(lfp)
    >>> data = np.stack([np.arange(40.0), np.ones(40)], axis=1)  # 10 Hz: sample i at i / 10 s
    >>> _ = lfp.add_electrical_series(ElectricalSeries(name="lfp", data=data, rate=10.0, conversion=1e-3,
    ...     electrodes=nwb.create_electrode_table_region([0, 1], "both")))
    >>> nwb.add_trial(start_time=0.0, stop_time=1.0); nwb.add_trial(start_time=2.0, stop_time=3.0)
    >>> path = os.path.join(tempfile.mkdtemp(), "lfp.nwb")
    >>> with NWBHDF5IO(path, "w") as io:
    ...     io.write(nwb)
    >>> rec = read_nwb(path, window=(0.0, 0.5))  # source="auto": the one series in the LFP container
    >>> rec.attrs["source_object"], rec.attrs["units"], rec.unit_id.values.tolist()
    ('/processing/ecephys/LFP/lfp', 'volts', [20, 21])
    >>> np.round(rec.values * 1e3, 6).tolist(), rec.group_name.values.tolist()  # samples 0-4 and 20-24
    ([[2.0, 1.0], [22.0, 1.0]], ['shank0', 'shank0'])
    """

    name = "electrical"
    neurodata_types = ("ElectricalSeries",)
    what = ("an ElectricalSeries", "ElectricalSeries")
    structure = "a TimeSeries"
    describe_key = "electrical_series"
    describe_heading = "electrical series"

    def claims(self, group) -> bool:
        return is_timeseries(group) and neurodata_type(group) == "ElectricalSeries"

    def auto_candidates(self, found) -> tuple[list[str], str]:
        candidates = found.candidates(self.name)
        inside = [c for c in candidates if c.parent_type in PREFERRED_PARENTS]
        if inside:
            return distinct_paths(inside), "ElectricalSeries in LFP/FilteredEphys containers"
        return distinct_paths(candidates), "ElectricalSeries"

    def plan(self, handle, group, plan) -> None:
        plan_series(handle, group, plan)  # windows -> sample positions, conversion, offset, extent checks
        label = f"{plan.label}: ElectricalSeries {plan.object_path!r}"
        n_channels = plan.neuron_ids.shape[0]
        plan.neuron_ids, plan.neuron_coords = electrode_labels(group, n_channels, label)
        refuse_duplicate_ids(plan.neuron_ids, label, "electrode")
        plan.channel_conversion = channel_conversion(group, n_channels, label)
        plan.units = str(decode(group["data"].attrs.get("unit")) or "volts")

    def read_block(self, handle, plan, trials, neurons) -> np.ndarray:
        return read_series_block(handle, plan, trials, neurons)

    def describe(self, handle, candidate) -> dict:
        return {"path": candidate.path, "shape": list(candidate.shape), "parent": candidate.parent_type}

    def format_entry(self, entry: dict) -> str:
        shape = " x ".join(map(str, entry["shape"]))
        return f"/{entry['path']}: {shape} (in {entry['parent'] or 'no container'})"


def electrode_labels(group: h5py.Group, n_channels: int, label: str) -> tuple[np.ndarray, dict]:
    """``(ids, coords)`` of an ElectricalSeries' channels from its ``electrodes`` region: the electrode
    table's ids and scalar columns at the referenced rows; channel numbers and no coords, with a warning,
    when the reference is broken."""
    try:
        region = group.get("electrodes")
        if not isinstance(region, h5py.Dataset):
            raise KeyError("the series has no 'electrodes' region")
        rows = np.asarray(region[()], dtype=np.int64).reshape(-1)
        table = group.file[region.attrs["table"]]
        ids = table_ids(table)
        problem = ""
        if rows.shape[0] != n_channels:
            problem = f"it names {rows.shape[0]} electrodes for {n_channels} channels"
        elif rows.size and (rows.min() < 0 or rows.max() >= ids.shape[0]):
            problem = f"its rows {rows.min()}..{rows.max()} are not all in a table of {ids.shape[0]} rows"
    except KeyError as error:
        problem = str(error).strip("'\"")
    except (OSError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        problem = f"it cannot be resolved ({type(error).__name__}: {error})"
    if problem:
        warnings.warn(
            f"{label}: the electrodes reference is broken ({problem}); the channels are named by their "
            f"numbers 0..{n_channels - 1} and carry no electrode columns",
            UserWarning,
            stacklevel=5,
        )
        return np.arange(n_channels), {}
    columns, _ = scalar_columns(table, ids.shape[0])
    # an electrode's location left blank or "unknown" (NeuroConv's default) falls through to its group's
    location = stated_locations(columns.pop("location", None),
                                (lambda: group_locations(table, ids.shape[0], "group"),))
    if location is not None:
        columns["location"] = location
    if "group_name" not in columns:
        names = _group_names(table, ids.shape[0])
        if names is not None:
            columns["group_name"] = names
    return ids[rows], {name: values[rows] for name, values in columns.items()}


def _group_names(table: h5py.Group, n_rows: int):
    """The ElectrodeGroup name of each electrode from the table's ``group`` object references (None if the
    table has none or they do not resolve)."""
    column = table.get("group")
    if not isinstance(column, h5py.Dataset) or column.shape != (n_rows,):
        return None
    if h5py.check_ref_dtype(column.dtype) is not h5py.Reference:
        return None
    try:
        return np.array([table.file[ref].name.rsplit("/", 1)[-1] for ref in column[()]], dtype=str)
    except (KeyError, OSError, TypeError, ValueError, RuntimeError):
        return None


def channel_conversion(group: h5py.Group, n_channels: int, label: str):
    """The per-channel factor (``channel_conversion``), None when absent; refused when it does not have one
    finite value per channel."""
    dataset = group.get("channel_conversion")
    if dataset is None:
        return None
    values = np.asarray(dataset[()], dtype=float).reshape(-1) if isinstance(dataset, h5py.Dataset) else None
    if values is None or values.shape != (n_channels,) or not np.isfinite(values).all():
        found = "not a dataset"
        if values is not None:
            found = f"{values.shape[0]} values ({int(np.sum(~np.isfinite(values)))} not finite)"
        raise NWBError(f"{label}: expected channel_conversion with one finite factor per channel "
                       f"({n_channels}), found {found}")
    return values
