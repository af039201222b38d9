"""Units tables: planning (ragged index, ids, unit columns, electrode locations) and counting spikes.

Spike times and their index are read in bulk and counted with one ``searchsorted`` of all window edges per
unit. The ragged index ``spike_times_index`` is required: without it the table cannot say which spikes belong
to which unit, and reading it as one unit holding every spike would be silently wrong data.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.extent import leave_out_unrecorded, merge_touching
from neurolearn.io.nwbfile import neurodata_type
from neurolearn.io.tables import scalar_columns, table_ids
from neurolearn.io.windows import count_in_bins

__all__ = ["plan_units", "read_units_block", "count_units"]


def plan_units(group, plan) -> None:
    """Fill ``plan`` with the unit ids, each unit's rows in ``spike_times`` and the scalar unit columns."""
    label = f"{plan.label}: units table {plan.object_path!r}"
    spike_times = group["spike_times"]
    if spike_times.ndim != 1 or spike_times.dtype.kind not in "iuf":
        raise NWBError(
            f"{label}: expected 1-D numeric spike_times, found {spike_times.dtype} {spike_times.shape}"
        )
    if spike_times.dtype.kind in "iu":
        # NWB stores spike times in seconds as floats; integers are almost always sample indices, which read
        # as seconds would put every spike hours late and every count wrong
        raise NWBError(
            f"{label}: expected spike_times in seconds (floating point, as NWB stores them), found integers "
            f"({spike_times.dtype}), likely sample indices: divide them by the sampling rate when converting"
        )
    n_spikes = spike_times.shape[0]
    ids = table_ids(group)
    if "spike_times_index" not in group:
        raise NWBError(
            f"{label}: expected a spike_times_index (the ragged index saying which of the {n_spikes} spikes "
            f"belong to which of the {ids.shape[0]} units), found none; the table is incomplete and is not "
            "read as one unit holding every spike"
        )
    ends = _index_ends(group, "spike_times", n_spikes, label)
    if ends.size == 0:
        raise NWBError(f"{label}: expected at least one unit, found none")
    if ids.shape[0] != ends.shape[0]:
        raise NWBError(
            f"{label}: expected one id per unit, found {ids.shape[0]} ids and {ends.shape[0]} entries in "
            "spike_times_index"
        )
    refuse_duplicate_ids(ids, label, "unit")
    starts = np.concatenate([[0], ends[:-1]])
    if np.any(ends < starts) or ends[-1] > n_spikes:
        raise NWBError(f"{label}: spike_times_index is not a valid ragged index for {n_spikes} spikes")
    plan.unit_bounds = np.stack([starts, ends], axis=1)
    plan.neuron_ids = ids
    columns, _ = scalar_columns(group, ids.shape[0], exclude=("spike_times",))
    # the Units location column, else each unit's (first) electrode's, else its electrode group's; a location
    # left blank or "unknown" (NeuroConv's default) says nothing and falls through to the next, unit by unit
    location = stated_locations(columns.get("location"),
                                (lambda: _unit_locations(group, ids.shape[0], label),
                                 lambda: group_locations(group, ids.shape[0], "electrode_group")))
    if location is not None:
        columns["location"] = location
    else:
        columns.pop("location", None)
    plan.neuron_coords = columns
    if n_spikes == 0:
        raise NWBError(f"{label}: expected spike times, found an empty spike_times dataset")
    # which trials and units were recorded (obs_intervals, else the spikes' span): :mod:`neurolearn.io.extent`
    leave_out_unrecorded(spike_times, _observation_intervals(group, ids.shape[0], label), plan, label)
    plan.units = "spikes/s" if plan.rates else "count"


def _observation_intervals(group, n_units, label):
    """Each unit's ``obs_intervals`` (the NWB column saying when a unit was observed: a probe that drifted,
    a sorter that lost it), merged where they touch, as a ``(k, 2)`` array (``k = 0``: the unit lists none, or
    only NaN rows, which is not stated); None if the table has no such column."""
    if "obs_intervals" not in group:
        return None
    intervals = np.asarray(group["obs_intervals"][()], dtype=float)
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise NWBError(f"{label}: expected obs_intervals of shape (n, 2), found {intervals.shape}")
    ends = _index_ends(group, "obs_intervals", intervals.shape[0], label)
    if ends.shape[0] != n_units or np.any(np.diff(np.concatenate([[0], ends])) < 0) or ends[-1] > len(intervals):
        raise NWBError(f"{label}: expected obs_intervals_index with one entry per unit ({n_units}), found "
                       f"{ends.shape[0]}")
    starts = np.concatenate([[0], ends[:-1]])
    stated = np.isfinite(intervals).all(axis=1)  # a NaN row states no interval
    return [merge_touching(intervals[begin:end][stated[begin:end]]) for begin, end in zip(starts, ends)]


def refuse_duplicate_ids(ids: np.ndarray, label: str, what: str) -> None:
    """Two units (ROIs) with one id cannot both be that neuron; refuse instead of picking one."""
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        repeated = values[counts > 1]
        raise NWBError(
            f"{label}: expected distinct {what} ids, found {repeated.size} repeated "
            f"(e.g. {repeated[:5].tolist()}, {int(counts.max())} times)"
        )


_UNSTATED = {"", "unknown", "none", "n/a", "na", "nan", "null", "undefined"}


def _unstated(locations) -> np.ndarray:
    """Where a location string states no area (blank, "unknown", "N/A", ...).

    Examples
    --------
    >>> _unstated(np.array(["CA1", "unknown", "", "N/A"], dtype=object)).tolist()
    [False, True, True, True]
    """
    return np.array([str(value).strip().lower() in _UNSTATED for value in np.asarray(locations).tolist()], bool)


def stated_locations(location, fallbacks):
    """Each row's brain area: ``location`` (a column, or None), where it states nothing ("", "unknown", ...)
    the first of ``fallbacks`` (callables returning a column or None) that does, row by row; then tidied by
    :func:`_tidy_locations` (None when no row states an area)."""
    for fallback in fallbacks:
        if location is not None and not _unstated(location).any():
            break
        found = fallback()
        if found is None:
            continue
        location = found if location is None else np.where(_unstated(location) & ~_unstated(found), found,
                                                               location)
    return _tidy_locations(location)


def _tidy_locations(locations):
    """Locations with surrounding blanks removed and every unstated one ("", " ", "unknown", ...) as
    ``""``, or None when none states an area (as for ROIs): padding ("V1 ", MATLAB's fixed-length strings)
    is not another area, and the spellings of "not filled in" are one.

    Examples
    --------
    >>> _tidy_locations(np.array(["V1 ", " ", "Unknown", "LM"], dtype=object)).tolist()
    ['V1', '', '', 'LM']
    >>> _tidy_locations(np.array(["unknown", ""], dtype=object)) is None
    True
    """
    if locations is None:
        return None
    unstated = _unstated(locations)
    if unstated.all():
        return None
    return np.array(["" if empty else str(value).strip()
                     for value, empty in zip(np.asarray(locations).tolist(), unstated)], dtype=object)


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


def group_locations(group, n_units, name="electrode_group"):
    """Brain location of each row's ElectrodeGroup (column ``name`` of object references to
    ElectrodeGroups, whose ``location`` attribute names the area: a Units table's ``electrode_group``, for
    files that link units to groups but not to electrodes, or the electrodes table's ``group``); None if the
    file does not say for every row."""
    column = group.get(name)
    if not isinstance(column, h5py.Dataset) or column.shape != (n_units,) or h5py.check_ref_dtype(
            column.dtype) is not h5py.Reference:
        return None
    try:
        found = {}
        locations = []
        for reference in column[()]:
            if not reference:
                return None
            name = group.file[reference].name
            if name not in found:
                value = group.file[name].attrs.get("location")
                found[name] = value.decode() if isinstance(value, bytes) else value
            if not isinstance(found[name], str) or not found[name]:
                return None
            locations.append(found[name])
        return np.asarray(locations, dtype=str)
    except (KeyError, OSError, TypeError, ValueError):
        return None  # a broken group reference leaves the spike counts readable; only the label is lost


def _refuse_non_finite(plan, times, bounds, ids):
    """Refuse a block of spike times holding NaN or infinite values, naming the units that hold them."""
    bad = ~np.isfinite(times)
    owners = [ids[member].item() for member, (lo, hi) in enumerate(bounds) if bad[lo:hi].any()]
    found = (("NaN", np.isnan(times).sum()), ("inf", np.isposinf(times).sum()), ("-inf", np.isneginf(times).sum()))
    counts = [f"{int(n)} {kind}" for kind, n in found if n]
    raise NWBError(
        f"{plan.label}: units table {plan.object_path!r}: expected finite spike times, found "
        f"{', '.join(counts)} in units {owners[:10]}"
        + (f" and {len(owners) - 10} more" if len(owners) > 10 else "")
    )


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


def read_units_block(handle, plan, trials, neurons) -> np.ndarray:
    """Counts (or rates) of a block of trials x units: :func:`count_units`. A block holding every trial and
    unit in which no window holds a spike is refused (see :func:`_refuse_all_silent`)."""
    values = count_units(handle, plan, trials, neurons)
    whole = (np.size(np.arange(plan.edges.shape[0])[trials]) == plan.edges.shape[0]
             and np.size(np.arange(plan.neuron_ids.shape[0])[neurons]) == plan.neuron_ids.shape[0])
    if whole and values.size and not np.any(values):
        _refuse_all_silent(handle, plan)
    return values


def _refuse_all_silent(handle, plan) -> None:
    """Every trial window of every unit empty: spike times on another clock or in other units than the trials
    (ms for s: 26 kept trials of 60 read as total silence, adversary S3-6), or a window outside the spikes."""
    spike_times = handle[plan.object_path]["spike_times"]
    bounds = plan.unit_bounds[plan.unit_bounds[:, 1] > plan.unit_bounds[:, 0]]
    ends = spike_times[np.unique(np.concatenate([bounds[:, 0], bounds[:, 1] - 1]))] if bounds.size else []
    spikes = (f"spikes from {np.nanmin(ends):.6g} s to {np.nanmax(ends):.6g} s" if np.size(ends)
              else "no spikes")
    raise NWBError(
        f"{plan.label}: expected spikes inside the trial windows, found none in any of the "
        f"{plan.edges.shape[0]} windows of any of the {plan.neuron_ids.shape[0]} units ({spikes}; windows "
        f"from {plan.edges[:, 0].min():.6g} s to {plan.edges[:, -1].max():.6g} s): are spike_times and the "
        "trial times in the same units (seconds)? Check window= and align= too"
    )


#: (file, units table, file stamp) whose unsorted spike times a lazy read has reported in this process
_REPORTED_UNSORTED: set = set()


def _warn_unsorted(plan, unsorted: list, n_steps: int, *, whole: bool) -> None:
    """One warning for units whose spike times are out of order; a lazy read's blocks say it once per file
    and table (each block reads its own units, and twenty blocks gave twenty warnings)."""
    if not whole:
        key = (str(plan.label), str(plan.object_path), tuple(plan.file_stamp))
        if key in _REPORTED_UNSORTED:
            return
        _REPORTED_UNSORTED.add(key)
    where = "" if whole else " in the first block read (other blocks are not reported again)"
    warnings.warn(
        f"{plan.label}: units table {plan.object_path!r}: spike times of {len(unsorted)} unit(s){where} "
        f"were not sorted ({n_steps} out-of-order steps, units {unsorted[:10]}); sorted them before counting",
        UserWarning,
        stacklevel=4,
    )


def count_units(handle, plan, trials, neurons, block_values: int = 1 << 19):
    """Counts for a block of trials x units: ``(trial, unit)``, or ``(trial, unit, bin)`` when binned.

    Units are read in groups of consecutive units (their spikes are contiguous in ``spike_times``) into one
    reused buffer of about ``block_values`` values, and counted while that buffer is in cache; the full
    spike_times array is never materialised.
    """
    bounds = plan.unit_bounds[neurons]
    ids = plan.neuron_ids[neurons]
    edges = plan.edges[trials]
    n_bins = edges.shape[1] - 1
    out = np.zeros((edges.shape[0], bounds.shape[0], n_bins), dtype=np.int64)
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
                if not (np.isfinite(times.min()) and np.isfinite(times.max())):  # NaN, or an inf sentinel
                    _refuse_non_finite(plan, times, bounds[unit:group_end] - lo, ids[unit:group_end])
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
                out[:, member, :] = count_in_bins(segment, edges)
            unit = group_end
        if unsorted:
            _warn_unsorted(plan, unsorted, n_steps, whole=(edges.shape[0] == plan.edges.shape[0]
                                                            and bounds.shape[0] == plan.unit_bounds.shape[0]))
    if not plan.binned:
        out = out[:, :, 0]
    if plan.rates:
        out = out / plan.bin_duration
    return out


