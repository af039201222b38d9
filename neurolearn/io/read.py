"""``read_nwb``: one NWB session -> the ``responses`` DataArray of :mod:`neurolearn.data`.

The hot path is h5py + numpy only: spike times and their index are read in bulk and counted with one
``searchsorted`` of all window edges per unit; optical traces are read as the contiguous block of rows that
covers the trials and averaged with one ``reduceat``. pynwb's object model is never built, which keeps reading
fast and lets old files (NWB 2.0b, MatNWB output) load that pynwb itself refuses.

With ``chunks=`` the values become a dask array whose tasks reopen the file by path (h5py handles are never
pickled), so a recording streams block by block and nothing is read until ``.compute()``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from neurolearn.errors import NeurolearnError, NWBError
from neurolearn.io.nwbfile import (
    decode,
    find_sources,
    is_timeseries,
    is_units_table,
    neurodata_type,
    open_nwb,
    session_metadata,
)
from neurolearn.io.tables import read_trial_table, scalar_columns, table_ids
from neurolearn.io.windows import (
    _NaNFound,
    count_in_bins,
    sample_positions,
    segment_means,
    segment_sums_streamed,
    window_edges,
)

__all__ = ["read_nwb"]

# h5py/hdmf/numpy failures that mean "this file is not what we expected"; turned into NWBError naming the file
_LOW_LEVEL_ERRORS = (OSError, KeyError, TypeError, AttributeError, ValueError, RuntimeError, IndexError)


def read_nwb(
    path,
    source="auto",
    trials="trials",
    align="start_time",
    window=(0.0, 1.0),
    bin_size=None,
    chunks=None,
    *,
    rates: bool = False,
    nan_policy: str = "raise",
    inputs=None,
) -> xr.DataArray:
    """Read one NWB session into a ``(trial, neuron)`` or ``(trial, neuron, time)`` DataArray.

    Parameters
    ----------
    path : str or path-like
        An NWB 2.x file. It is opened read-only and never modified.
    source : str
        ``"auto"``: the Units table if there is one, else the single RoiResponseSeries (one under DfOverF
        before one under Fluorescence), else an :class:`NWBError` listing the candidates. Or the path of any
        object inside the file: a Units table (``"units"``), a RoiResponseSeries
        (``"processing/ophys/DfOverF/RoiResponseSeries"``) or any TimeSeries (``"acquisition/lfp"``; a 1-D
        series is one neuron, a 2-D one is time x channels).
    trials : str or pandas.DataFrame
        Name of the interval table whose rows are the trials: ``"trials"``, any table in ``/intervals``
        (``"recognition"`` also finds ``recognition_table``) or a path inside the file. A DataFrame with a
        ``start_time`` column (one row per trial) may be given instead. Every scalar column becomes a coord on
        ``trial``; ragged, reference and multi-dimensional columns are skipped with a warning naming them.
    align : str
        Numeric trials column the window is relative to (``"start_time"``, ``"cue_start_time"``, ...). Trials
        whose ``align`` value is NaN are dropped with a warning.
    window : (float, float)
        Seconds relative to ``align``; the half-open interval ``[start, stop)`` of each trial. Windows are
        independent: overlapping trials stay separate trials.
    bin_size : float, optional
        Split each window into bins of this many seconds -> dims ``(trial, neuron, time)`` with ``time`` the
        bin centres relative to ``align``. Must divide the window.
    chunks : int or dict, optional
        Return dask-backed data in blocks of this many trials/neurons (``{"trial": 200, "neuron": 50}``; an
        int applies to both). Nothing is read from the spike times or traces until ``.compute()``.
    rates : bool
        For spikes: divide counts by the window (or bin) duration -> ``units="spikes/s"``. Default: counts,
        ``units="count"``, which round-trip exactly.
    nan_policy : {"raise", "omit"}
        NaN samples of a trace inside a trial window: refuse (default) or leave them out of the window mean
        with a warning that says how many were left out.
    inputs : str or sequence of str, optional
        Paths of TimeSeries in the file that hold what each trial received (a stimulus, the input driving
        the network: ``"stimulus/presentation/input"``). Each is read over the same trial windows and bins as
        the neural data (window/bin means, like a trace source) and attached as a coord named after the
        series' last path component: ``(trial, time)`` when ``bin_size`` is given, else ``(trial,)``
        holding the window mean. :func:`neurolearn.summarize` regresses a ``(trial, time)`` coord called
        ``input`` out of its linear-dynamics fit. A series must have one channel (1-D, or 2-D with one
        column); the coord's attrs say which object it came from and its unit.

    Returns
    -------
    xarray.DataArray
        Named ``responses``; coords ``trial`` (table row ids) + one per trials column, ``neuron`` (unit ids /
        ROI ids / channel numbers) + scalar unit columns; attrs of :data:`neurolearn.data.REQUIRED_ATTRS`
        plus ``trials_table`` and ``align``.

    Raises
    ------
    NWBError
        The file is missing, not HDF5, truncated, NWB 1.x, has no neural data or no such trials table, the
        window lies outside the recording, spike times are NaN, or a trace has NaN inside a window (with
        ``nan_policy="raise"``), or an ``inputs`` path is not a TimeSeries of one channel, its samples do not
        cover every window/bin, or its name clashes with a coord. The message names the file. Spike times out of order within a unit (seen
        in real DANDI files) are sorted in memory with a warning, since a count does not depend on order.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.simulate.nwb import write_recording_nwb
    >>> counts = xr.DataArray(np.array([[0, 3], [2, 1]]), dims=("trial", "neuron"),
    ...                       coords={"stimulus": ("trial", ["a", "b"])}, attrs={"window": (0.0, 1.0)})
    >>> path = write_recording_nwb(counts, os.path.join(tempfile.mkdtemp(), "s.nwb"), rng=0)
    >>> rec = read_nwb(path)
    >>> rec.values.tolist(), rec.stimulus.values.tolist(), rec.attrs["units"]
    ([[0, 3], [2, 1]], ['a', 'b'], 'count')
    """
    if nan_policy not in ("raise", "omit"):
        raise NWBError(f"expected nan_policy 'raise' or 'omit', found {nan_policy!r}")
    label = os.fspath(path)
    with open_nwb(path) as handle:
        try:
            meta = session_metadata(handle, label)
            plan = _plan(handle, label, source, trials, align, window, bin_size, rates, nan_policy)
            if chunks is not None:
                values = None
                if plan.kind == "units":
                    _check_units_extent(_units_span_from_file(handle, plan), plan)
            elif plan.kind == "units":
                values, span = _count_units(handle, plan, slice(None), slice(None))
                _check_units_extent(span, plan)
            else:
                values = plan.read(handle)
            input_coords = _read_inputs(handle, plan, inputs)
        except NeurolearnError:
            raise
        except _LOW_LEVEL_ERRORS as error:
            what = trials if isinstance(trials, str) else type(trials).__name__
            raise NWBError(
                f"{label}: could not read source {source!r} with trials {what!r}: "
                f"{type(error).__name__}: {error}"
            ) from error
    if chunks is not None:
        values = plan.lazy(str(Path(label).resolve()), _parse_chunks(chunks, plan.shape[:2]))
    return _assemble(values, plan, meta, label, window, bin_size, input_coords)


# --- planning: everything but the bulk data ---------------------------------------------------------------


@dataclass
class _Plan:
    """What to read (object path, rows, columns) and how to label it; small enough to send to dask tasks."""

    kind: str  # "units" or "series"
    object_path: str
    label: str
    edges: np.ndarray  # (trial, n_bins + 1) seconds
    centres: np.ndarray
    binned: bool
    neuron_ids: np.ndarray
    neuron_coords: dict = field(default_factory=dict)
    trial_ids: np.ndarray = None
    trial_coords: dict = field(default_factory=dict)
    trials_name: str = ""
    units: str = ""
    rates: bool = False
    nan_policy: str = "raise"
    align: str = "start_time"
    bin_duration: float = 1.0
    # units: (neuron, 2) [first, end) rows of each unit in spike_times
    unit_bounds: np.ndarray = None
    # series: sample positions (trial, n_bins + 1), channel selection, value scaling
    positions: np.ndarray = None
    conversion: float = 1.0
    offset: float = 0.0

    @property
    def shape(self):
        n_bins = self.edges.shape[1] - 1
        base = (self.edges.shape[0], self.neuron_ids.shape[0])
        return base + ((n_bins,) if self.binned else ())

    def read(self, handle, trials=slice(None), neurons=slice(None)):
        if self.kind == "units":
            return _read_units_block(handle, self, trials, neurons)
        return _read_series_block(handle, self, trials, neurons)

    def lazy(self, path, chunks):
        return _lazy_array(self, path, chunks)


def _plan(handle, label, source, trials, align, window, bin_size, rates, nan_policy) -> _Plan:
    object_path, kind = _resolve_source(handle, label, source)
    table = read_trial_table(handle, label, trials)
    if len(table) == 0:
        raise NWBError(f"{label}: expected at least one trial in table {table.name!r}, found 0 rows")
    align_values = table.columns.get(align)
    if align_values is None or align_values.dtype.kind not in "iuf":
        numeric = [n for n, v in table.columns.items() if v.dtype.kind in "iuf"]
        raise NWBError(
            f"{label}: expected align={align!r} to be a numeric column of table {table.name!r}, found "
            f"numeric columns {numeric}"
        )
    align_values = align_values.astype(float)
    keep = np.isfinite(align_values)
    if not keep.all():
        warnings.warn(
            f"{label}: dropped {int((~keep).sum())} of {keep.size} trials whose {align!r} is NaN",
            UserWarning,
            stacklevel=3,
        )
        if not keep.any():
            raise NWBError(f"{label}: expected finite {align!r} times, found only NaN in {table.name!r}")
    edges, centres = window_edges(align_values[keep], window, bin_size)
    plan = _Plan(
        kind=kind,
        object_path=object_path,
        label=label,
        edges=edges,
        centres=centres,
        binned=bin_size is not None,
        neuron_ids=np.arange(0),
        trial_ids=table.ids[keep],
        trial_coords={name: values[keep] for name, values in table.columns.items()},
        trials_name=table.name,
        rates=rates,
        nan_policy=nan_policy,
        align=align,
        bin_duration=float(bin_size) if bin_size is not None else float(window[1]) - float(window[0]),
    )
    group = handle[object_path]
    if kind == "units":
        _plan_units(group, plan)
    else:
        _plan_series(handle, group, plan)
    return plan


def _resolve_source(handle, label, source) -> tuple[str, str]:
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


def _plan_units(group, plan: _Plan) -> None:
    label = f"{plan.label}: units table {plan.object_path!r}"
    spike_times = group["spike_times"]
    if spike_times.ndim != 1 or spike_times.dtype.kind not in "iuf":
        raise NWBError(
            f"{label}: expected 1-D numeric spike_times, found {spike_times.dtype} {spike_times.shape}"
        )
    n_spikes = spike_times.shape[0]
    ends = _index_ends(group, "spike_times", n_spikes, label)
    ids = table_ids(group)
    if ids.shape[0] != ends.shape[0]:
        ids = np.arange(ends.shape[0])
    if ends.size == 0:
        raise NWBError(f"{label}: expected at least one unit, found none")
    starts = np.concatenate([[0], ends[:-1]])
    if np.any(ends < starts) or ends[-1] > n_spikes:
        raise NWBError(f"{label}: spike_times_index is not a valid ragged index for {n_spikes} spikes")
    plan.unit_bounds = np.stack([starts, ends], axis=1)
    plan.neuron_ids = ids
    columns, _ = scalar_columns(group, ids.shape[0], exclude=("spike_times",))
    if "location" not in columns:
        location = _unit_locations(group, ids.shape[0], label)
        if location is not None:
            columns["location"] = location
    plan.neuron_coords = columns
    plan.units = "spikes/s" if plan.rates else "count"
    if n_spikes == 0:
        raise NWBError(f"{label}: expected spike times, found an empty spike_times dataset")


def _unit_locations(group, n_units, label):
    """Brain location of each unit's (first) electrode, through the units' ``electrodes`` region; None if the
    file does not say."""
    region = group.get("electrodes")
    if not isinstance(region, h5py.Dataset) or neurodata_type(region) != "DynamicTableRegion":
        return None
    try:
        table = group.file[region.attrs["table"]]
        rows = np.asarray(region[()], dtype=np.int64)
        if "electrodes_index" in group:
            ends = _index_ends(group, "electrodes", rows.shape[0], label)
            firsts = np.concatenate([[0], ends[:-1]])
            if ends.shape[0] != n_units or np.any(ends <= firsts):
                return None
            rows = rows[firsts]
        if rows.shape[0] != n_units:
            return None
        locations, _ = scalar_columns(table, table_ids(table).shape[0])
        location = locations.get("location")
        if location is None or rows.min() < 0 or rows.max() >= location.shape[0]:
            return None
        return location[rows]
    except (KeyError, OSError, TypeError, ValueError, IndexError, NWBError):
        return None  # a broken electrode reference leaves the spike counts readable; only the label is lost


def _index_ends(group, column, n_values, label) -> np.ndarray:
    index = group.get(f"{column}_index")
    if index is None:
        return np.array([n_values])
    if h5py.check_ref_dtype(index.dtype) is h5py.RegionReference:
        # MatNWB writes the ragged index as region references into the data; their upper bounds are the ends
        target = group[column]
        ends = []
        for ref in index[()]:
            region = h5py.h5r.get_region(ref, target.id)
            ends.append(region.get_select_bounds()[1][0] + 1)
        return np.asarray(ends, dtype=np.int64)
    values = np.asarray(index[()])
    if values.dtype.kind not in "iu":
        raise NWBError(f"{label}: expected an integer {column}_index, found dtype {values.dtype}")
    return values.astype(np.int64)


def _units_span_from_file(handle, plan: _Plan) -> tuple[float, float]:
    # first and last spike of each unit, read point-wise (used when the counting itself is deferred to dask)
    spike_times = handle[plan.object_path]["spike_times"]
    bounds = plan.unit_bounds[plan.unit_bounds[:, 1] > plan.unit_bounds[:, 0]]
    if bounds.size == 0:
        return (np.inf, -np.inf)
    firsts = spike_times[np.unique(bounds[:, 0])]
    lasts = spike_times[np.unique(bounds[:, 1] - 1)]
    both = np.concatenate([firsts, lasts])
    return float(np.nanmin(both)), float(np.nanmax(both))


def _check_units_extent(span, plan: _Plan) -> None:
    first, last = span
    if not first <= last:
        return
    label = f"{plan.label}: units table {plan.object_path!r}"
    outside = (plan.edges[:, -1] <= first) | (plan.edges[:, 0] > last)
    if outside.all():
        raise NWBError(
            f"{label}: expected trial windows inside the recording (spikes from {first:.6g} s to "
            f"{last:.6g} s), found all {outside.size} windows outside it "
            f"(first window {plan.edges[0, 0]:.6g}-"
            f"{plan.edges[0, -1]:.6g} s); check window= and align="
        )
    if outside.any():
        warnings.warn(
            f"{label}: {int(outside.sum())} of {outside.size} trial windows lie outside the span of recorded "
            f"spikes ({first:.6g}-{last:.6g} s); their counts are 0",
            UserWarning,
            stacklevel=3,
        )


def _plan_series(handle, group, plan: _Plan) -> None:
    label = f"{plan.label}: TimeSeries {plan.object_path!r}"
    data = group["data"]
    if data.ndim not in (1, 2) or data.dtype.kind not in "biuf":
        raise NWBError(
            f"{label}: expected numeric data of shape (time,) or (time, channels), found {data.dtype} "
            f"{data.shape}"
        )
    n_samples = data.shape[0]
    if n_samples == 0:
        raise NWBError(f"{label}: expected samples, found an empty data dataset")
    n_channels = 1 if data.ndim == 1 else data.shape[1]
    if "timestamps" in group:
        timestamps = np.asarray(group["timestamps"][()], dtype=float)
        if timestamps.shape[0] != n_samples:
            raise NWBError(f"{label}: expected {n_samples} timestamps, found {timestamps.shape[0]}")
        n_nan, n_back = int(np.isnan(timestamps).sum()), int(np.sum(np.diff(timestamps) < 0))
        if n_nan or n_back:
            raise NWBError(
                f"{label}: expected sorted, finite timestamps, found {n_nan} NaN and {n_back} steps backwards"
            )
        positions = sample_positions(plan.edges, timestamps=timestamps)
        step = float(np.median(np.diff(timestamps))) if n_samples > 1 else 0.0
        first, end = float(timestamps[0]), float(timestamps[-1]) + step
    else:
        starting = group["starting_time"]
        rate = decode(starting.attrs.get("rate"))
        if not isinstance(rate, (int, float)) or not rate > 0:
            raise NWBError(f"{label}: expected a positive starting_time 'rate' attribute, found {rate!r}")
        first = float(starting[()])
        positions = sample_positions(plan.edges, rate=float(rate), starting_time=first)
        end = first + n_samples / float(rate)
    outside = (plan.edges[:, 0] < first - 1e-9) | (plan.edges[:, -1] > end + 1e-9)
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise NWBError(
            f"{label}: expected trial windows inside the recording ({first:.6g} s to {end:.6g} s), found "
            f"{int(outside.sum())} of {outside.size} outside it (e.g. trial {bad}: {plan.edges[bad, 0]:.6g}-"
            f"{plan.edges[bad, -1]:.6g} s); check window= and align="
        )
    positions = np.clip(positions, 0, n_samples)
    if np.any(np.diff(positions, axis=1) <= 0):
        raise NWBError(
            f"{label}: expected at least one sample in every window/bin, found empty ones; bin_size (or the "
            f"window) is shorter than the sampling interval"
        )
    plan.positions = positions
    plan.conversion = float(decode(data.attrs.get("conversion")) or 1.0)
    plan.offset = float(decode(data.attrs.get("offset")) or 0.0)
    plan.neuron_ids = _roi_ids(handle, group, n_channels)
    parent = neurodata_type(group.parent)
    unit = decode(data.attrs.get("unit"))
    plan.units = "dF/F" if parent == "DfOverF" else str(unit or "a.u.")


def _roi_ids(handle, group, n_channels) -> np.ndarray:
    rois = group.get("rois")
    try:
        if isinstance(rois, h5py.Dataset) and rois.shape == (n_channels,):
            rows = np.asarray(rois[()], dtype=np.int64)
            table = handle[rois.attrs["table"]]
            ids = np.asarray(table["id"][()])
            if rows.size and rows.min() >= 0 and rows.max() < ids.shape[0]:
                return ids[rows]
    except (KeyError, TypeError, ValueError, OSError):
        pass  # a broken ROI reference still leaves the trace readable; channel numbers name the ROIs
    return np.arange(n_channels)


def _read_inputs(handle, plan: _Plan, inputs) -> dict:
    """``inputs=`` of :func:`read_nwb`: each TimeSeries read over ``plan``'s windows/bins with the trace code.

    Returns ``{name: (values (trial[, bin]), attrs)}``.
    """
    if inputs is None:
        return {}
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else inputs
    try:
        paths = [os.fspath(p) for p in paths]
    except TypeError:
        raise NWBError(
            f"{plan.label}: expected inputs= a TimeSeries path or a list of them, found {inputs!r}"
        ) from None
    found = {}
    for path in paths:
        key = path.strip("/")
        obj = handle.get(key) if key else None
        if not is_timeseries(obj):
            series = [p for p, _, _ in find_sources(handle).timeseries]
            series += [p for p, _ in find_sources(handle).roi_series]
            what = "nothing" if obj is None else f"a {neurodata_type(obj) or type(obj).__name__} without data"
            raise NWBError(
                f"{plan.label}: expected inputs= path {path!r} to be a TimeSeries, found {what}; "
                f"TimeSeries in the file: {series or 'none'}"
            )
        name = key.rsplit("/", 1)[-1]
        if name in found:
            raise NWBError(
                f"{plan.label}: expected inputs= series with distinct last path components, found {name!r} twice"
            )
        sub = _Plan(kind="series", object_path=key, label=plan.label, edges=plan.edges, centres=plan.centres,
                    binned=plan.binned, neuron_ids=np.arange(0), nan_policy=plan.nan_policy, align=plan.align,
                    bin_duration=plan.bin_duration)
        _plan_series(handle, obj, sub)
        if sub.neuron_ids.shape[0] != 1:
            raise NWBError(
                f"{plan.label}: expected inputs= series {path!r} to have one channel, found "
                f"{sub.neuron_ids.shape[0]} (data shape {obj['data'].shape}); read it with source= instead"
            )
        values = sub.read(handle)[:, 0]  # (trial[, bin]) of the one channel
        found[name] = (values, {"source_object": "/" + key, "units": sub.units})
    return found


# --- reading blocks ----------------------------------------------------------------------------------------


def _read_units_block(handle, plan: _Plan, trials, neurons) -> np.ndarray:
    counts, _ = _count_units(handle, plan, trials, neurons)
    return counts


def _count_units(handle, plan: _Plan, trials, neurons, block_values: int = 1 << 19):
    """Counts for a block of trials x units, and the (first, last) spike time seen.

    Units are read in groups of consecutive units (their spikes are contiguous in ``spike_times``) into one
    reused buffer of about ``block_values`` values, and counted while that buffer is in cache; the full
    spike_times array is never materialised.
    """
    bounds = plan.unit_bounds[neurons]
    ids = plan.neuron_ids[neurons]
    edges = plan.edges[trials]
    n_bins = edges.shape[1] - 1
    out = np.zeros((edges.shape[0], bounds.shape[0], n_bins), dtype=np.int64)
    span = [np.inf, -np.inf]
    if bounds.size:
        spike_times = handle[plan.object_path]["spike_times"]
        sizes = bounds[:, 1] - bounds[:, 0]
        buffer = np.empty(max(block_values, int(sizes.max(initial=0))), dtype=np.float64)
        unsorted: list = []
        n_steps = 0
        unit = 0
        while unit < bounds.shape[0]:
            group_end = unit + 1
            while group_end < bounds.shape[0] and bounds[group_end, 1] - bounds[unit, 0] <= buffer.size:
                group_end += 1
            lo, hi = int(bounds[unit, 0]), int(bounds[group_end - 1, 1])
            times = buffer[: hi - lo]
            if hi > lo:
                spike_times.read_direct(times, np.s_[lo:hi], np.s_[0 : hi - lo])
                if np.isnan(times.min()):
                    raise NWBError(
                        f"{plan.label}: units table {plan.object_path!r}: expected finite spike times, found "
                        f"{int(np.isnan(times).sum())} NaN among units {ids[unit:group_end].tolist()[:10]}"
                    )
            for member in range(unit, group_end):
                segment = times[bounds[member, 0] - lo : bounds[member, 1] - lo]
                if segment.size == 0:
                    continue
                steps = np.count_nonzero(segment[1:] < segment[:-1])
                if steps:
                    # real files (DANDI ALM sessions) hold units whose spikes are out of order; a count in a
                    # window does not depend on order, so sort this in-memory copy and say so
                    segment.sort()
                    unsorted.append(ids[member].item())
                    n_steps += steps
                span[0] = min(span[0], float(segment[0]))
                span[1] = max(span[1], float(segment[-1]))
                out[:, member, :] = count_in_bins(segment, edges)
            unit = group_end
        if unsorted:
            warnings.warn(
                f"{plan.label}: units table {plan.object_path!r}: spike times of {len(unsorted)} unit(s) "
                f"were not sorted ({n_steps} out-of-order steps, units {unsorted[:10]}); sorted them before "
                "counting",
                UserWarning,
                stacklevel=3,
            )
    if not plan.binned:
        out = out[:, :, 0]
    if plan.rates:
        out = out / plan.bin_duration
    return out, tuple(span)


def _read_series_block(handle, plan: _Plan, trials, neurons) -> np.ndarray:
    positions = plan.positions[trials]
    data = handle[plan.object_path]["data"]
    counts = np.diff(positions, axis=1).reshape(-1, 1)
    columns = neurons if data.ndim == 2 else slice(None)
    sums = segment_sums_streamed(data, positions, columns)
    n_nan = 0
    if np.isfinite(sums).all():
        means = (sums / counts).reshape(positions.shape[0], positions.shape[1] - 1, -1)
    else:
        # NaN/inf inside some window: redo those rows with the careful (whole-span) path that counts them
        lo, hi = int(positions.min()), int(positions.max())
        rows = data[lo:hi].reshape(-1, 1) if data.ndim == 1 else data[lo:hi, columns]
        try:
            means, n_nan = segment_means(rows, positions - lo, omit_nan=plan.nan_policy == "omit")
        except _NaNFound as found:
            if found.all_nan:
                what = "windows with only NaN/inf samples"
            else:
                what = "NaN/inf samples inside trial windows"
            raise NWBError(
                f"{plan.label}: TimeSeries {plan.object_path!r}: expected finite samples, found {what} "
                f"({found.n_samples} NaN/inf samples in {found.n_channels} channels/ROIs); pass "
                "nan_policy='omit' to average the remaining samples"
            ) from None
    if n_nan:
        warnings.warn(
            f"{plan.label}: TimeSeries {plan.object_path!r}: left {n_nan} NaN/inf samples out of the window "
            "means (nan_policy='omit')",
            UserWarning,
            stacklevel=4,
        )
    if plan.conversion != 1.0 or plan.offset != 0.0:
        means = means * plan.conversion + plan.offset
    means = np.moveaxis(means, 2, 1)  # (trial, channel, bin)
    return means if plan.binned else means[:, :, 0]


# --- laziness --------------------------------------------------------------------------------------------


def _parse_chunks(chunks, shape) -> tuple[int, int]:
    if isinstance(chunks, bool):
        raise NWBError(
            f"expected chunks= an int or a dict like {{'trial': 100, 'neuron': 50}}, found {chunks!r}"
        )
    if isinstance(chunks, int):
        chunks = {"trial": chunks, "neuron": chunks}
    if not isinstance(chunks, dict) or set(chunks) - {"trial", "neuron", "time"}:
        raise NWBError(
            f"expected chunks= an int or a dict with keys 'trial'/'neuron', found {chunks!r}"
        )
    sizes = []
    for dim, size in zip(("trial", "neuron"), shape):
        value = chunks.get(dim, -1)
        value = size if value in (-1, None) else value
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise NWBError(f"expected chunks[{dim!r}] a positive int or -1, found {value!r}")
        sizes.append(int(min(value, max(size, 1))))
    return tuple(sizes)


def _lazy_array(plan: _Plan, path: str, chunk_sizes):
    import dask.array as da
    from dask.base import tokenize

    shape = plan.shape
    trial_chunks = _split(shape[0], chunk_sizes[0])
    neuron_chunks = _split(shape[1], chunk_sizes[1])
    stat = os.stat(path)
    token = tokenize(path, stat.st_mtime_ns, plan.object_path, plan.edges, plan.rates, plan.nan_policy)
    name = "read_nwb-" + token
    graph = {}
    trial_start = 0
    for i, n_trials in enumerate(trial_chunks):
        neuron_start = 0
        for j, n_neurons in enumerate(neuron_chunks):
            key = (name, i, j) + ((0,) if plan.binned else ())
            trial_block = slice(trial_start, trial_start + n_trials)
            neuron_block = slice(neuron_start, neuron_start + n_neurons)
            graph[key] = (_read_block_from_path, path, plan, trial_block, neuron_block)
            neuron_start += n_neurons
        trial_start += n_trials
    chunks = (trial_chunks, neuron_chunks) + (((shape[2],),) if plan.binned else ())
    dtype = np.dtype(float) if (plan.kind == "series" or plan.rates) else np.dtype(np.int64)
    return da.Array(graph, name, chunks, dtype=dtype)


def _split(size: int, chunk: int) -> tuple[int, ...]:
    full, rest = divmod(size, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def _read_block_from_path(path: str, plan: _Plan, trials: slice, neurons: slice) -> np.ndarray:
    # runs inside a dask task, possibly in another process: reopen by path, never share an h5py handle
    with h5py.File(path, "r") as handle:
        try:
            return plan.read(handle, trials, neurons)
        except NeurolearnError:
            raise
        except _LOW_LEVEL_ERRORS as error:
            raise NWBError(
                f"{path}: could not read {plan.object_path!r}: {type(error).__name__}: {error}"
            ) from error


# --- labelling --------------------------------------------------------------------------------------------


def _assemble(values, plan: _Plan, meta: dict, label: str, window, bin_size, input_coords=None) -> xr.DataArray:
    dims = ("trial", "neuron") + (("time",) if plan.binned else ())
    coords = {"trial": plan.trial_ids, "neuron": plan.neuron_ids}
    reserved = {"trial", "neuron", "time"}
    for name, column in plan.trial_coords.items():
        coords[name if name not in reserved else f"trials_{name}"] = ("trial", column)
    for name, column in plan.neuron_coords.items():
        key = name if name not in coords and name not in reserved else f"unit_{name}"
        coords[key] = ("neuron", column)
    if plan.binned:
        coords["time"] = plan.centres
    for name, (values_in, coord_attrs) in (input_coords or {}).items():
        if name in coords or name in reserved:
            raise NWBError(
                f"{label}: expected inputs= series whose names are not already coords, found {name!r} "
                f"(from {coord_attrs['source_object']!r}) clashing with an existing coord"
            )
        dims_in = ("trial", "time") if plan.binned else ("trial",)
        coords[name] = xr.Variable(dims_in, values_in, attrs=coord_attrs)
    attrs = {
        "session_id": meta["session_id"],
        "session_start_time": meta["session_start_time"],
        "source_file": str(Path(label).resolve()),
        "source_object": "/" + plan.object_path,
        "units": plan.units,
        "window": tuple(float(w) for w in window),
        "bin_size": "none" if bin_size is None else float(bin_size),
        "nwb_version": meta["nwb_version"],
        "trials_table": plan.trials_name,
        "align": plan.align,
    }
    return xr.DataArray(values, dims=dims, coords=coords, name="responses", attrs=attrs)
