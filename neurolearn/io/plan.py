"""Planning a read: which object, which trials, which windows — everything but the bulk data.

A :class:`Plan` is small (ids, edges, row bounds) so that dask tasks can carry it to another process and
reopen the file by path; :meth:`Plan.read` reads one block of trials x neurons from an open handle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from neurolearn.data import where_mask
from neurolearn.errors import NWBError, shown
from neurolearn.io.align import align_times, parse_align
from neurolearn.io.kinds import source_kind
from neurolearn.io.sources import resolve_source
from neurolearn.io.tables import read_trial_table
from neurolearn.io.windows import window_edges, window_overreach

__all__ = ["Plan", "make_plan"]


@dataclass
class Plan:
    """What to read (object path, rows, columns) and how to label it; small enough to send to dask tasks."""

    kind: str  # name of a registered SourceKind (neurolearn.io.kinds): "units", "roi", "electrical", ...
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
    align_times: str = "absolute"
    where: str = ""
    bin_duration: float = 1.0
    # what the kind needs to read a block (filled by its plan()); small values only
    # units: (neuron, 2) [first, end) rows of each unit in spike_times
    unit_bounds: np.ndarray = None
    # series: sample positions (trial, n_bins + 1), value scaling
    positions: np.ndarray = None
    conversion: float = 1.0
    offset: float = 0.0
    channel_conversion: np.ndarray = None  # (channel,) factors of an ElectricalSeries, None if none
    # (mtime_ns, size) of the file when it was planned; lazy blocks refuse to read a changed file
    file_stamp: tuple = ()

    @property
    def shape(self):
        n_bins = self.edges.shape[1] - 1
        base = (self.edges.shape[0], self.neuron_ids.shape[0])
        return base + ((n_bins,) if self.binned else ())

    def read(self, handle, trials=slice(None), neurons=slice(None)):
        """One block of trials x neurons, read by the plan's source kind."""
        return source_kind(self.kind).read_block(handle, self, trials, neurons)


def make_plan(handle, label, source, trials, align, window, bin_size, rates, nan_policy, where=None, *,
              default_window: bool = False) -> Plan:
    """Resolve the source, read the trials table, select ``where`` trials and compute every window's edges.

    ``default_window``: ``window`` is the default, not the caller's choice; one warning then says how many
    windows reach past their trial (:func:`_warn_default_overreach`)."""
    column, mode = parse_align(align)
    object_path, kind = resolve_source(handle, label, source)
    table = read_trial_table(handle, label, trials)
    if len(table) == 0:
        raise NWBError(f"{label}: expected at least one trial in table {table.name!r}, found 0 rows")
    # the row ids are selectable too (``where="id >= 20"``) unless a column already has that name
    selectable = table.columns if "id" in table.columns else {"id": table.ids, **table.columns}
    chosen = where_mask(selectable, where, context=label, table=f"table {table.name!r}", error=NWBError)
    align_values = table.columns.get(column)
    if align_values is None or align_values.dtype.kind not in "iuf":
        numeric = [n for n, v in table.columns.items() if v.dtype.kind in "iuf"]
        raise NWBError(
            f"{label}: expected align={column!r} to be a numeric column of table {table.name!r}, found "
            f"numeric columns {numeric}"
        )
    starts = table.columns.get("start_time")
    if starts is None:
        if mode == "relative":
            raise NWBError(f"{label}: align=({column!r}, 'relative') needs a start_time column in "
                           f"{table.name!r}, found columns {list(table.columns)}")
        starts = np.full(len(table), np.nan)
    absolute, how = align_times(align_values[chosen], starts[chosen], column, mode, label)
    keep = np.isfinite(absolute)
    if not keep.all():
        warnings.warn(
            f"{label}: dropped {int((~keep).sum())} of {keep.size} trials whose {column!r} is "
            + ("NaN" if np.isnan(absolute[~keep]).all() else
               f"not finite ({int(np.isnan(absolute).sum())} NaN, {int(np.isinf(absolute).sum())} infinite)"),
            UserWarning,
            stacklevel=3,
        )
        if not keep.any():
            raise NWBError(f"{label}: expected finite {column!r} times, found only NaN in {table.name!r}")
    rows = np.flatnonzero(chosen)[keep]
    distinct = np.unique(table.ids[rows]).size
    if distinct < rows.size:
        # some writers leave every trial id 0: the trials are still read (one per row), but the trial coord
        # and where="id ..." then do not name one trial each
        warnings.warn(f"{label}: the {table.name!r} table's ids repeat ({distinct} distinct for {rows.size} trials): "
                      "each row is read as its own trial, but trial ids (the trial coord, where='id ...') do not "
                      "name one trial", UserWarning, stacklevel=3)
    edges, centres = window_edges(absolute[keep], window, bin_size)
    plan = Plan(
        kind=kind.name,
        object_path=object_path,
        label=label,
        edges=edges,
        centres=centres,
        binned=bin_size is not None,
        neuron_ids=np.arange(0),
        trial_ids=table.ids[rows],
        trial_coords={name: values[rows] for name, values in table.columns.items()},
        trials_name=table.name,
        rates=rates,
        nan_policy=nan_policy,
        align=column,
        align_times=how,
        where=where or "",
        bin_duration=float(bin_size) if bin_size is not None else float(window[1]) - float(window[0]),
    )
    kind.plan(handle, handle[object_path], plan)
    if default_window:
        _warn_default_overreach(plan, starts, window, bin_size)
    return plan


def _warn_default_overreach(plan, table_starts, window, bin_size=None) -> None:
    """One warning when the default window reaches past a trial read: beyond its ``stop_time`` or into the
    next trial of the table (trials shorter than the window, or starting within it), whose spikes or samples
    it would count as this trial's. It names how many do and the ``window=`` every trial fits."""
    unknown = np.full(plan.edges.shape[0], np.nan)
    numeric = []
    for name in ("start_time", "stop_time"):
        values = np.asarray(plan.trial_coords.get(name, unknown))
        numeric.append(values.astype(float) if values.dtype.kind in "iuf" else unknown)
    align = plan.edges[:, 0] - float(window[0])
    past_stop, into_next, room = window_overreach(plan.edges, align, *numeric, table_starts)
    reaching = past_stop | into_next
    if not reaching.any():
        return
    parts = [f"{int(into_next.sum())} run into the next trial (counting its spikes or samples as this one's)"
             if into_next.any() else "",
             f"{int(past_stop.sum())} end after their own stop_time" if past_stop.any() else ""]
    ids = np.asarray(plan.trial_ids)[reaching]
    fit = (f"e.g. window=(0, {room:.6g}), which ends by every trial's stop_time and the next trial's start"
           + (" (with a bin_size dividing it)" if bin_size is not None else "")) if room > 0 else (
           "a window that ends by each trial's stop_time")
    warnings.warn(
        f"{plan.label}: the default window {tuple(float(w) for w in window)} s after {plan.align!r} reaches "
        f"past {ids.size} of {reaching.size} trials: {' and '.join(p for p in parts if p)} (trials "
        f"{shown(ids[:8].tolist())}{' ...' if ids.size > 8 else ''}); pass window= to choose the response "
        f"window, {fit}",
        UserWarning,
        stacklevel=4,
    )
