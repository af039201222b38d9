"""TimeSeries sources (RoiResponseSeries, ElectricalSeries, any series): sample positions and window means.

Optical traces are read as the contiguous block of rows that covers the trials and averaged with one sparse
product per block (:func:`~neurolearn.io.windows.segment_sums_streamed`).
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np

from neurolearn.errors import NWBError, shown
from neurolearn.io.nwbfile import decode, neurodata_type
from neurolearn.io.tables import scalar_columns
from neurolearn.io.units import stated_locations
from neurolearn.io.units import refuse_duplicate_ids
from neurolearn.io.windows import _NaNFound, sample_positions, segment_means, segment_sums_streamed

__all__ = ["plan_series", "read_series_block"]


def plan_series(handle, group, plan) -> None:
    """Fill ``plan`` with every window's sample positions, the channel (ROI) ids, scaling and units."""
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
    empty = np.any(np.diff(positions, axis=1) <= 0, axis=1)
    if empty.any():
        raise NWBError(f"{label}: expected at least one sample in every window/bin, found empty ones "
                       + _why_empty(plan, empty, timestamps if "timestamps" in group else None))
    if "timestamps" in group and n_samples > 1:
        _warn_sparse_windows(plan, positions, step, label)
    plan.positions = _leave_out_unsampled(handle, data, plan, positions, label)
    plan.conversion = float(decode(data.attrs.get("conversion")) or 1.0)
    plan.offset = float(decode(data.attrs.get("offset")) or 0.0)
    plan.neuron_ids, plan.neuron_coords = _roi_labels(handle, group, n_channels)
    refuse_duplicate_ids(plan.neuron_ids, label, "ROI")
    parent = neurodata_type(group.parent)
    unit = decode(data.attrs.get("unit"))
    plan.units = "dF/F" if parent == "DfOverF" else str(unit or "a.u.")


#: windows (or bins) holding fewer samples than this fraction of what their duration holds at the median
#: sampling interval lie mostly in a gap of the timestamps: their mean is of a few samples at the gap's edge
SPARSE_WINDOW_FRACTION = 0.5


def _warn_sparse_windows(plan, positions: np.ndarray, step: float, label: str) -> None:
    """One warning naming the trials whose windows lie mostly in a gap of the timestamps (acquisition paused,
    dropped frames): their mean is computed from the few samples there are, which the reader should know."""
    if not step > 0:
        return
    # whole windows, not bins: jittered frames put one sample in some bins that two fit, which is no gap
    expected = (plan.edges[:, -1] - plan.edges[:, 0]) / step
    found = positions[:, -1] - positions[:, 0]
    sparse = (expected >= 2) & (found < SPARSE_WINDOW_FRACTION * expected)
    if not sparse.any():
        return
    trial_ids = np.arange(sparse.size) if plan.trial_ids is None else np.asarray(plan.trial_ids)
    ids = trial_ids[sparse]
    worst = int(np.argmin(np.where(expected >= 2, found / np.maximum(expected, 1e-300), np.inf)))
    warnings.warn(
        f"{label}: {int(sparse.sum())} of {sparse.size} trial windows lie mostly in a gap of the timestamps "
        f"(fewer than {SPARSE_WINDOW_FRACTION:.0%} of the samples their duration holds at the sampling interval "
        f"{step:.3g} s; ids {ids[:8].tolist()}{', ...' if ids.size > 8 else ''}; e.g. trial "
        f"{trial_ids[worst].item()!r}: {int(found[worst])} samples where "
        f"{float(expected[worst]):.3g} fit): their means come from the few samples there are; leave them "
        "out with where= if the gap is a pause in acquisition",
        UserWarning,
        stacklevel=4,
    )


def _leave_out_unsampled(handle, data, plan, positions: np.ndarray, label: str) -> np.ndarray:
    """``nan_policy="omit"``: leave out the trials a window (or bin) of which holds no finite sample in any
    channel/ROI (frames dropped and written as NaN), with one warning naming them; such a window has no mean
    to give. Returns the positions of the trials kept; the plan's trials and ``where`` follow.

    Done while planning, so eager and lazy (``chunks=``) reads keep the same trials. The trace's first
    channel is counted over every window (a window empty in every channel is empty in it), then all channels
    over that channel's empty windows only. A sub-plan without trial ids (an ``inputs=`` series read over the
    source's trials) has no trials of its own to leave out."""
    if plan.nan_policy != "omit" or plan.trial_ids is None or data.dtype.kind != "f":
        return positions
    n_trials, n_bins = positions.shape[0], positions.shape[1] - 1
    first = segment_sums_streamed(data, positions, slice(0, 1), finite=True).reshape(n_trials, n_bins)
    blank = (first == 0).any(axis=1)
    if blank.any() and data.ndim == 2 and data.shape[1] > 1:
        candidates = np.flatnonzero(blank)
        counts = segment_sums_streamed(data, positions[candidates], finite=True)
        blank[candidates] = (counts.sum(axis=1) == 0).reshape(candidates.size, n_bins).any(axis=1)
    if not blank.any():
        return positions
    ids = np.asarray(plan.trial_ids)
    where = f"{label}{_session_of(handle)}"
    if blank.all():
        raise NWBError(
            f"{where}: expected some trial window with a finite sample, found none in any channel/ROI in all "
            f"{n_trials} trials (first window {plan.edges[0, 0]:.6g}-{plan.edges[0, -1]:.6g} s; "
            "nan_policy='omit' leaves out the trials with no finite sample, which leaves nothing); check "
            "window= and align=, and whether the trace holds any finite sample"
        )
    record = _excluding(plan, ids[blank])
    starts = plan.edges[blank, 0]
    warnings.warn(
        f"{where}: left out {int(blank.sum())} of {n_trials} trials whose "
        f"window{'s' if n_bins == 1 else ' bins'} hold no finite sample in any channel/ROI (NaN/inf "
        "throughout: dropped frames?), which no mean can be taken of (nan_policy='omit'): trials "
        f"{shown(ids[blank][:8].tolist())}"
        f"{' ...' if blank.sum() > 8 else ''}, windows from {shown(np.round(starts[:8], 6).tolist())} s; "
        + (f"attrs['where'] records it as {record!r}" if record else
           "the trial ids do not name one trial each, so attrs['where'] cannot record it"),
        UserWarning,
        stacklevel=6,
    )
    keep = ~blank
    plan.edges = plan.edges[keep]
    plan.trial_ids = ids[keep]
    plan.trial_coords = {name: np.asarray(values)[keep] for name, values in plan.trial_coords.items()}
    if record:
        plan.where = record
    return positions[keep]


def _excluding(plan, left_out: np.ndarray) -> str:
    """The ``where=`` expression that selects the plan's trials without ``left_out`` (trial ids): re-reading
    with it reads the same trials. '' when the ids cannot say it (repeated, or an ``id`` column hides
    them)."""
    ids = np.asarray(plan.trial_ids)
    if "id" in plan.trial_coords or np.unique(ids).size < ids.size or ids.dtype.kind not in "iu":
        return ""
    excluded = f"id not in {[int(i) for i in left_out.tolist()]}"
    return f"({plan.where}) and {excluded}" if plan.where else excluded


def _session_of(handle) -> str:
    """`` (session '<id>')`` from ``/general/session_id``, '' when the file states none."""
    try:
        value = decode(handle["general/session_id"][()]) if "general/session_id" in handle else ""
    except (KeyError, TypeError, ValueError, OSError):
        return ""
    text = str(value[0] if isinstance(value, list) and value else value or "").strip()
    return f" (session {text!r})" if text else ""


def _named_trials(plan, trials, rows: np.ndarray, prefix: str = "in ") -> str:
    """``in K of N trials (ids [...]; first window a-b s)`` for block-relative ``rows`` of the trials read."""
    edges = plan.edges[trials]
    ids = (np.arange(plan.edges.shape[0]) if plan.trial_ids is None else np.asarray(plan.trial_ids))[trials]
    if not rows.size:
        return ""
    return (f"{prefix}{rows.size} of {edges.shape[0]} trials (ids {shown(ids[rows][:8].tolist())}"
            f"{' ...' if rows.size > 8 else ''}; first window {edges[rows[0], 0]:.6g}-"
            f"{edges[rows[0], -1]:.6g} s)")


def _why_empty(plan, empty: np.ndarray, timestamps) -> str:
    """Name the trials whose windows hold no sample, and say whether a gap in the timestamps or a bin shorter
    than the sampling interval is why."""
    ids = np.asarray(plan.trial_ids)[empty]
    where = (f"in {int(empty.sum())} of {empty.size} trials (ids {ids[:8].tolist()}"
             f"{', ...' if ids.size > 8 else ''}; first window {plan.edges[empty][0, 0]:.6g}-"
             f"{plan.edges[empty][0, -1]:.6g} s)")
    if timestamps is not None and timestamps.size > 1:
        steps = np.diff(timestamps)
        step = float(np.median(steps))
        widest = int(np.argmax(steps))
        bin_width = float(np.min(np.diff(plan.edges, axis=1)))
        if steps[widest] > max(10 * step, bin_width):
            return (f"{where}: the timestamps have a gap of {steps[widest]:.6g} s (from "
                    f"{timestamps[widest]:.6g} to {timestamps[widest + 1]:.6g} s, sampling interval "
                    f"{step:.3g} s) "
                    "with no samples; leave these trials out (where=) or choose windows that avoid the gap")
    return f"{where}; bin_size (or the window) is shorter than the sampling interval"


def _roi_labels(handle, group, n_channels) -> tuple[np.ndarray, dict]:
    """The ROIs' ids (from the ``rois`` region into the ROI table) and per-ROI coords: the table's scalar
    columns (suite2p/CaImAn classifier outputs such as ``iscell`` or ``accepted``, a lab's ``global_id``), and
    ``location`` from the table's imaging plane where the table has no location column (the brain area of
    that plane, which the statistics' ``area`` dim reads)."""
    rois = group.get("rois")
    if rois is None:
        return np.arange(n_channels), {}  # no ROI table at all: a plain multichannel series, named by channel
    try:
        if isinstance(rois, h5py.Dataset) and rois.shape == (n_channels,):
            rows = np.asarray(rois[()], dtype=np.int64)
            table = handle[rois.attrs["table"]]
            ids = np.asarray(table["id"][()])
            if rows.size and rows.min() >= 0 and rows.max() < ids.shape[0]:
                return ids[rows], _roi_columns(table, ids.shape[0], rows)
    except (KeyError, TypeError, ValueError, OSError):
        pass
    # a broken ROI reference still leaves the trace readable; channel numbers name the ROIs, said once, since
    # with tracked=True those numbers would become the cells' identity across sessions
    warnings.warn(f"{group.name}: its 'rois' reference to the ROI table cannot be resolved (expected {n_channels} "
                  "rows of a table with ids); the ROIs are named by channel number 0..N-1, which are not the file's "
                  "ROI ids: do not declare them tracked by id", UserWarning, stacklevel=4)
    return np.arange(n_channels), {}


def _roi_columns(table, n_rows: int, rows: np.ndarray) -> dict:
    try:
        columns, _ = scalar_columns(table, n_rows, exclude=("image_mask", "pixel_mask", "voxel_mask"))
    except (KeyError, TypeError, ValueError, OSError):
        columns = {}  # the per-ROI labels are extras: a damaged column loses them, not the trace
    coords = {name: np.asarray(values)[rows] for name, values in columns.items()}
    # a ROI's own location, where blank or "unknown", falls through to its imaging plane's; padding stripped
    plane = _plane_location(table)
    location = stated_locations(coords.pop("location", None),
                                (lambda: np.full(rows.shape[0], plane, dtype=object) if plane else None,))
    if location is not None:
        coords["location"] = location
    return coords


def _plane_location(table) -> str:
    """The ``location`` of the imaging plane a PlaneSegmentation links to ('' when absent or unstated)."""
    try:
        plane = table.get("imaging_plane")
        if not isinstance(plane, h5py.Group):
            return ""
        value = decode(plane["location"][()]) if "location" in plane else ""
    except (KeyError, TypeError, ValueError, OSError):
        return ""
    text = str(value[0] if isinstance(value, list) and value else value or "").strip()
    return "" if text.lower() in ("", "unknown", "none", "n/a", "nan") else text



def read_series_block(handle, plan, trials, neurons) -> np.ndarray:
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
            raise NWBError(_nan_message(plan, trials, neurons, positions, found)) from None
    if n_nan:
        warnings.warn(
            f"{plan.label}: TimeSeries {plan.object_path!r}: left {n_nan} NaN/inf samples out of the window "
            "means (nan_policy='omit')",
            UserWarning,
            stacklevel=4,
        )
    scale = plan.conversion
    if plan.channel_conversion is not None:  # ElectricalSeries: a factor per channel (NWB 2.1+)
        scale = plan.conversion * np.asarray(plan.channel_conversion)[columns]
    if np.any(scale != 1.0) or plan.offset != 0.0:
        means = means * scale + plan.offset
    means = np.moveaxis(means, 2, 1)  # (trial, channel, bin)
    return means if plan.binned else means[:, :, 0]


def _nan_message(plan, trials, neurons, positions, found) -> str:
    """What a NaN/inf sample inside a window is refused with: how many, in which trials, and the way out."""
    # a lazy block holds some trials only: the count is of those (adversary F27)
    some = (f"at least {found.n_samples} NaN/inf samples in {found.n_channels} channels/ROIs, counted in "
            f"the {positions.shape[0]} of {plan.positions.shape[0]} trials read so far"
            if positions.shape[0] < plan.positions.shape[0] else
            f"{found.n_samples} NaN/inf samples in {found.n_channels} channels/ROIs")
    head = f"{plan.label}: TimeSeries {plan.object_path!r}: expected finite samples, found"
    if plan.nan_policy == "omit":
        # the trials without a finite sample in any channel were left out while planning: these windows have
        # finite samples in some channels/ROIs and none in others
        named = np.asarray(plan.neuron_ids)[neurons][found.empty_channels][:8].tolist()
        if plan.trial_ids is None:  # an inputs= series: the trials are the source's, not its own to leave out
            return (f"{head} windows with only NaN/inf samples in this series read over the source's trials "
                    f"({some}) {_named_trials(plan, trials, found.empty_trials)} (ids: positions among the "
                    "trials read); leave those trials out with where=")
        return (f"{head} windows where some channels/ROIs have only NaN/inf samples while others have finite "
                f"ones ({some}) {_named_trials(plan, trials, found.empty_trials)}, channels/ROIs "
                f"{shown(named)}{' ...' if found.empty_channels.size > 8 else ''}: nan_policy='omit' leaves "
                "out a trial only when no channel/ROI has a finite sample in its window, and these channels "
                "have no mean there; leave those trials out with where=")
    parts = (f"{head} NaN/inf samples inside trial windows ({some}) "
             + _named_trials(plan, trials, found.trials))
    if found.all_nan and np.array_equal(found.empty_trials, found.trials):
        parts += ", each with no finite sample at all in some channel/ROI"
    elif found.all_nan:
        parts += (", with no finite sample at all in some channel/ROI in "
                  + _named_trials(plan, trials, found.empty_trials, prefix=""))
    return (parts + "; pass nan_policy='omit' to average the remaining samples (leaving out the trials with "
            "no finite sample in any channel/ROI), or leave these trials out with where=")
