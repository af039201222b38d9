"""When a Units table was recorded: which trial windows hold observations, and of which units.

Zero counts in a window where nothing was recorded would read as silence, so planning a units read decides,
before anything is counted, which trials and which units to keep (:func:`leave_out_unrecorded`):

* **With obs_intervals** (the NWB column saying when each unit was observed), they define the recording.
  A trial is recorded when at least one unit's intervals contain its whole window (the union over units),
  and kept even if no unit spiked in it: a declared observation interval is recorded data, silent or not.
  Then each unit is kept only if its own intervals contain every kept window: a unit not observed during a
  trial has no count there, and reading 0 would be silence it never showed. The trial test is the union,
  not every unit, because one lost unit would otherwise cost every trial after it; what is missing for one
  unit leaves out the unit, what is missing for every unit leaves out the trial.
* **Without them** (or for units that list none), the recording is taken as the span from the first to the
  last spike of any unit (:func:`recorded_span`): a window entirely outside it observed no unit.
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.errors import NWBError, shown

__all__ = ["leave_out_unrecorded", "merge_touching", "recorded_span", "units_span"]

#: seconds of rounding allowed when a window's edge meets an observation interval's
_TOLERANCE = 1e-9

#: warnings.warn stacklevel reaching the caller of read_nwb from the functions below (via plan_units,
#: UnitsKind.plan, make_plan and read_nwb)
_STACK = 7


def merge_touching(intervals: np.ndarray) -> np.ndarray:
    """Observation intervals that touch or overlap (one per recording segment) as one observed period.

    Examples
    --------
    >>> merge_touching(np.array([[45.0, 100.0], [0.0, 45.0], [120.0, 130.0]])).tolist()
    [[0.0, 100.0], [120.0, 130.0]]
    """
    if intervals.shape[0] < 2:
        return intervals
    ordered = intervals[np.argsort(intervals[:, 0], kind="stable")]
    merged = [ordered[0].copy()]
    for start, stop in ordered[1:]:
        if start <= merged[-1][1] + _TOLERANCE:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append(np.array([start, stop]))
    return np.array(merged)


def _contained(observed: list, edges: np.ndarray) -> np.ndarray:
    """``(unit, trial)``: whether one of the unit's (merged) intervals contains the whole window; True for a
    unit that lists none (not stated)."""
    first, last = edges[:, 0], edges[:, -1]
    inside = np.ones((len(observed), edges.shape[0]), dtype=bool)
    for unit, own in enumerate(observed):
        if own.shape[0]:
            within = (own[:, :1] <= first[None, :] + _TOLERANCE) & (last[None, :] <= own[:, 1:] + _TOLERANCE)
            inside[unit] = within.any(axis=0)
    return inside


def leave_out_unrecorded(spike_times, observed, plan, label) -> None:
    """Leave out the trials no unit was recorded in, then the units not observed in every trial left.

    ``observed`` is each unit's merged obs_intervals (``(k, 2)``, ``k = 0`` where a unit lists none), or
    None when the table has no such column. Windows outside the recording in every trial (or, judged by the
    spikes, with most of their time outside it) are a wrong ``window=``/``align=`` and are refused. Each
    leaving-out is one warning naming how many, and which, were left out.

    Examples
    --------
    Two units observed 0-10 s that spiked only between 3 and 5 s: the silent trials at 1 s and 7 s are
    recorded data and stay in (without obs_intervals the spikes alone would leave them out).

    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(edges=np.array([[1.0, 2.0], [3.0, 4.0], [7.0, 8.0]]), trial_ids=np.arange(3),
    ...                        trial_coords={}, unit_bounds=np.array([[0, 2], [2, 3]]), neuron_ids=np.arange(2),
    ...                        neuron_coords={})
    >>> spikes, observed = np.array([3.2, 3.9, 4.5]), [np.array([[0.0, 10.0]])] * 2
    >>> leave_out_unrecorded(spikes, observed, plan, "demo.nwb")
    >>> plan.trial_ids.tolist(), plan.neuron_ids.tolist()
    ([0, 1, 2], [0, 1])
    """
    declared = np.array([own.shape[0] > 0 for own in observed], dtype=bool) if observed is not None else None
    if declared is None or not declared.any():
        _leave_out_outside_spikes(spike_times, plan, label)
        return
    inside = _contained(observed, plan.edges)
    recorded = inside[declared].any(axis=0)
    intervals = np.concatenate([own for own in observed if own.shape[0]])
    lo, hi = float(intervals[:, 0].min()), float(intervals[:, 1].max())
    n_declared = int(declared.sum())
    undeclared = ""
    if not declared.all():
        # units that list no interval: their spikes say when they were recorded, as without obs_intervals
        first, last = recorded_span(spike_times, plan, plan.unit_bounds[~declared])
        if first <= last:
            recorded |= (plan.edges[:, -1] > first) & (plan.edges[:, 0] <= last)
            undeclared = (f"; for the {int((~declared).sum())} that declare none, the span of their spikes, "
                          f"{first:.6g}-{last:.6g} s")
    if not recorded.any():
        raise NWBError(
            f"{label}: expected trial windows inside the units' obs_intervals (observation intervals from "
            f"{lo:.6g} s to {hi:.6g} s over the {n_declared} units that declare them{undeclared}), found "
            f"none of {recorded.size} windows inside any unit's (first window {plan.edges[0, 0]:.6g}-"
            f"{plan.edges[0, -1]:.6g} s); check window= and align="
        )
    if not recorded.all():
        ids = np.asarray(plan.trial_ids)[~recorded]
        warnings.warn(
            f"{label}: left out {ids.size} of {recorded.size} trials whose windows lie outside every unit's "
            f"obs_intervals (the declared observation intervals, {lo:.6g}-{hi:.6g} s over {n_declared} "
            f"unit{'s' if n_declared != 1 else ''}{undeclared}): no unit was observed there, so their counts "
            f"would read as silence (trials {shown(ids[:8].tolist())}{' ...' if ids.size > 8 else ''}); "
            "select trials with where= to leave them out yourself",
            UserWarning,
            stacklevel=_STACK - 1,  # warned here, one call nearer the user than the helpers
        )
        _keep_trials(plan, recorded)
        inside = inside[:, recorded]
    kept = inside.all(axis=1)
    if not kept.all():
        _leave_out_unobserved(plan, kept, label)


def _keep_trials(plan, keep) -> None:
    plan.edges = plan.edges[keep]
    plan.trial_ids = np.asarray(plan.trial_ids)[keep]
    plan.trial_coords = {name: values[keep] for name, values in plan.trial_coords.items()}


def _leave_out_unobserved(plan, observed, label):
    """Drop the units not observed in every trial window: their counts there would read as silence."""
    dropped = plan.neuron_ids[~observed]
    if not observed.any():
        raise NWBError(f"{label}: expected units observed (obs_intervals) in every trial window, found none "
                       f"of {observed.size}; select the trials of one observation epoch with where=")
    warnings.warn(
        f"{label}: left out {dropped.size} of {observed.size} units whose obs_intervals do not contain every "
        f"trial window (ids {dropped[:8].tolist()}{' ...' if dropped.size > 8 else ''}): counts outside a "
        "unit's observation intervals would read as silence; select trials with where= to keep them",
        UserWarning,
        stacklevel=_STACK,
    )
    plan.unit_bounds = plan.unit_bounds[observed]
    plan.neuron_ids = plan.neuron_ids[observed]
    plan.neuron_coords = {name: values[observed] for name, values in plan.neuron_coords.items()}


def recorded_span(spike_times, plan, bounds=None, block_values: int = 1 << 20) -> tuple[float, float]:
    """First and last spike time over the units whose rows are ``bounds`` (default: all units of the plan),
    reading as little as the answer allows.

    The first and last stored spike of each unit bound the recording when spikes are sorted, which is the
    norm, and they never overstate it (out-of-order spikes can only lie outside them); only when those cheap
    bounds put some window outside the recording are all spike times scanned (real DANDI files hold unsorted
    units), so a refusal or a dropped trial never rests on the cheap bounds.
    """
    bounds = plan.unit_bounds if bounds is None else bounds
    bounds = bounds[bounds[:, 1] > bounds[:, 0]]
    if bounds.size == 0:
        return (np.inf, -np.inf)
    both = spike_times[np.unique(np.concatenate([bounds[:, 0], bounds[:, 1] - 1]))]  # one read of 2 per unit
    if np.isfinite(both).any():
        cheap = (float(np.nanmin(both)), float(np.nanmax(both)))
        outside, unrecorded, _ = _extent(cheap, plan)
        if not outside.any() and unrecorded <= 0.5:
            return cheap
    return units_span(spike_times, bounds, block_values)


def units_span(spike_times, bounds, block_values: int = 1 << 20) -> tuple[float, float]:
    """First and last spike time of the units whose ``[first, end)`` rows are ``bounds``, looking at every
    spike (in blocks), since real files hold units whose spikes are out of order.

    Examples
    --------
    >>> units_span(np.array([3.0, 1.0, 2.0, 9.0]), np.array([[0, 3]]))
    (1.0, 3.0)
    """
    lo, hi = int(bounds[:, 0].min()), int(bounds[:, 1].max())
    first, last = np.inf, -np.inf
    for start in range(lo, hi, block_values):
        block = spike_times[start : min(hi, start + block_values)]
        if block.size and np.isfinite(block).any():
            first, last = min(first, float(np.nanmin(block))), max(last, float(np.nanmax(block)))
    return first, last


def _extent(span, plan):
    """Windows entirely outside the spikes' span, the fraction of all window time outside the recording
    (spikes and trial start/stop times), and that recording's (lo, hi)."""
    first, last = span
    lo, hi = first, last
    for name in ("start_time", "stop_time"):
        values = np.asarray(plan.trial_coords.get(name, np.empty(0)), dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    outside = (plan.edges[:, -1] <= first) | (plan.edges[:, 0] > last)
    durations = plan.edges[:, -1] - plan.edges[:, 0]
    inside = np.clip(np.minimum(plan.edges[:, -1], hi) - np.maximum(plan.edges[:, 0], lo), 0, None)
    unrecorded = 1.0 - float(inside.sum()) / float(durations.sum())
    return outside, unrecorded, (lo, hi)


def _warn_other_time_unit(span, plan, label) -> None:
    """One warning where the spikes run on 100x or more past the trials, both in span and in end time: spike
    times in ms against trials in s read as near-total silence (adversary S3-6: 26 trials kept, a stray spike
    or two in them), which no window check sees."""
    first, last = span
    start, stop = float(plan.edges[:, 0].min()), float(plan.edges[:, -1].max())
    if last - first > 100.0 * max(stop - start, 1e-9) and last > 100.0 * max(abs(stop), 1.0):
        warnings.warn(
            f"{label}: the spikes span {first:.6g}-{last:.6g} s, {(last - first) / max(stop - start, 1e-9):.0f}x "
            f"the trial windows' {start:.6g}-{stop:.6g} s: are spike_times and the trial times in the same units "
            "(seconds)? Spike times in ms would read as near silence in every trial",
            UserWarning,
            stacklevel=_STACK,
        )


def _leave_out_outside_spikes(spike_times, plan, label) -> None:
    """Without obs_intervals: refuse windows outside the recording; leave out the trials whose windows lie
    outside its spikes.

    The recorded span is that of the whole table: from the first to the last spike of any unit. A window
    entirely before the first or after the last (the sorter stopped, the probe was lost, the units were
    isolated late in the session) holds no observation of any unit, and its zero counts would read as
    silence: an untuned population recorded only in a block design's first half then "encodes" the block.
    One unit falling silent early is not the end of the recording (a cell that stops firing, or drifts away
    without obs_intervals, is not told from a silent cell by its spikes alone), so no trial is left out for
    it. Windows outside the recording in every trial, or with most of their time outside it (the spikes and
    the trials' start/stop times; ``window=(0, 1e6)``), are refused.
    """
    span = recorded_span(spike_times, plan)
    first, last = span
    if not first <= last:
        return
    outside, unrecorded, (lo, hi) = _extent(span, plan)
    _warn_other_time_unit(span, plan, label)
    if outside.all() or unrecorded > 0.5:
        raise NWBError(
            f"{label}: expected trial windows inside the recording (spikes from {first:.6g} s to "
            f"{last:.6g} s, trials from {lo:.6g} s to {hi:.6g} s), found "
            + (f"{int(outside.sum())} of {outside.size} windows wholly before the first spike or after the last"
               if outside.all() else
               f"{unrecorded:.0%} of all window time outside both the spikes' and the trials' span")
            + f" (first window {plan.edges[0, 0]:.6g}-{plan.edges[0, -1]:.6g} s); check window= and align="
              " (times in ms rather than s?)"
        )
    if not outside.any():
        # windows that only reach past the last spike are kept: a units file does not say when the recording
        # stopped, and a window running on after the last trial's stop time is common
        return
    ids = np.asarray(plan.trial_ids)[outside]
    before, after = int((plan.edges[outside, -1] <= first).sum()), int((plan.edges[outside, 0] > last).sum())
    where = " and ".join(part for part in (f"{before} before the first spike" if before else "",
                                           f"{after} after the last" if after else "") if part)
    warnings.warn(
        f"{label}: left out {ids.size} of {outside.size} trials whose windows lie outside the span of "
        f"recorded spikes ({first:.6g}-{last:.6g} s, over all {plan.unit_bounds.shape[0]} units; {where}): "
        f"no unit was recorded there, so their counts would read as silence (trials {shown(ids[:8].tolist())}"
        f"{' ...' if ids.size > 8 else ''}); the table declares no obs_intervals, so the spikes are all that "
        "says when it was recorded; select trials with where= to leave them out yourself",
        UserWarning,
        stacklevel=_STACK,
    )
    _keep_trials(plan, ~outside)
