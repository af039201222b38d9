"""The statistics Dataset of :func:`neurolearn.summarize`: values collected per statistic and session with
their SE, interval, reason and replicates, and the registry's promises enforced on the result.

The promises (:mod:`neurolearn.statistic_registry`): a value never lies outside its estimand's range by more
than ``RANGE_SLACK_SE`` standard errors (without an SE, ``n_boot=0``, one outside it is flagged as not judged); a bounded statistic whose SE exceeds
half its range is not resolved; an interval contains its estimate and is clipped to the range; a NaN carries
its reason in ``<name>_flag`` and one :class:`~neurolearn.stats.flags.StatisticWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy.stats import norm

from neurolearn.data import CI_BOUND, SESSION, SESSION_OTHER, ci_name, flag_name, se_name
from neurolearn.errors import DataError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.flags import StatisticWarning, warn_unsupported, warn_unsupported_pairs, warn_unsupported_sessions

__all__ = ["StatisticsTable", "bootstrap_intervals", "session_start_times", "enforce_ranges", "refuse_if_empty", "warn_reasons",
           "below_range_reasons", "BOOTSTRAP", "RANGE_SLACK_SE"]

BOOTSTRAP = "bootstrap"
#: a reported value lies inside its estimand's range up to this many standard errors (3, not 2: where the truth
#: sits on the boundary, e.g. an unchanged code's overlap of 1, 2.3 % of honest estimates lie beyond 2 SE)
RANGE_SLACK_SE = 3.0


class StatisticsTable:
    """Collects value, SE, interval, reason and replicates per statistic, then builds the Dataset."""

    def __init__(self, ids, level):
        self.ids, self.level, self.n = ids, level, len(ids)
        self.columns: dict[str, dict] = {}
        self.extra: dict = {}

    def _column(self, name):
        if name not in self.columns:
            n = self.n
            self.columns[name] = dict(value=np.full(n, np.nan), se=np.full(n, np.nan), ci=np.full((n, 2), np.nan),
                                      reason=np.full(n, "", dtype=object), boot={})
        return self.columns[name]

    def value(self, name, k, value, se, ci):
        column = self._column(name)
        column["value"][k], column["se"][k], column["ci"][k] = value, se, ci

    def value_from_replicates(self, name, k, value, replicates):
        column = self._column(name)
        column["value"][k] = value
        if replicates is not None and len(replicates):
            column["se"][k], column["ci"][k] = bootstrap_interval(value, replicates, self.level)
            column["boot"][k] = np.asarray(replicates, dtype=float)

    def reason(self, name, k, reason):
        self._column(name)["reason"][k] = reason

    def array(self, name, values, replicates, reasons):
        pairwise = values.ndim == 2
        se = np.full(values.shape, np.nan)
        ci = np.full(values.shape + (2,), np.nan)
        if replicates is not None:
            se, ci = bootstrap_intervals(values, replicates, self.level)
            if pairwise:  # a session against itself: exactly its value, no spread
                own = np.arange(values.shape[0])
                finite = np.isfinite(values[own, own])
                se[own[finite], own[finite]] = 0.0
                ci[own[finite], own[finite]] = values[own[finite], own[finite], None]
        self.columns[name] = dict(value=values, se=se, ci=ci, reason=reasons, replicates=replicates)

    def dataset(self, recordings=None, *, start_times=None) -> xr.Dataset:
        """The Dataset; coord ``session_start_time`` from ``start_times`` or the recordings' attrs."""
        data_vars = dict(self.extra)
        for name, column in self.columns.items():
            dims = (SESSION, SESSION_OTHER) if column["value"].ndim == 2 else (SESSION,)
            data_vars[name] = (dims, column["value"])
            data_vars[se_name(name)] = (dims, column["se"])
            data_vars[ci_name(name)] = (dims + (CI_BOUND,), column["ci"], {"level": self.level})
            data_vars[flag_name(name)] = (dims, column["reason"].astype(str))
            boot = column.get("replicates")
            if boot is None and column.get("boot"):
                n_boot = max(len(b) for b in column["boot"].values())
                boot = np.full((n_boot, self.n), np.nan)
                for k, reps in column["boot"].items():
                    boot[: len(reps), k] = reps
            if boot is not None:
                data_vars[f"{name}_boot"] = (dims + (BOOTSTRAP,), np.moveaxis(boot, 0, -1),
                                             {"resampling": "neurons-shared" if name != "behavior" else "independent"})
        if start_times is None:
            start_times = session_start_times(recordings)
        return xr.Dataset(data_vars, coords={
            SESSION: self.ids,
            "session_index": (SESSION, np.arange(self.n)),
            "session_start_time": (SESSION, start_times),
            SESSION_OTHER: self.ids,
            CI_BOUND: ["lower", "upper"],
        })


def bootstrap_intervals(points, replicates, level: float = 0.95):
    """:func:`~neurolearn.stats.estimate.bootstrap_interval` of every entry at once.

    ``points`` has any shape, ``replicates`` the same shape behind a leading replicate axis. The same
    definition entry by entry (non-finite replicates dropped, SE with ``ddof=1``, linear quantiles re-centred
    on the point, NaN with fewer than two finite replicates or a non-finite point), vectorised: a pairwise
    statistic over 300 sessions is 90,000 entries, which one call per entry took seconds to walk.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reps = rng.standard_normal((400, 2, 3)); reps[:399, 1, 2] = np.nan
    >>> se, ci = bootstrap_intervals(np.zeros((2, 3)), reps)
    >>> se.shape, ci.shape, bool(np.isnan(se[1, 2])), bool(np.isclose(se[0, 0], reps[:, 0, 0].std(ddof=1)))
    ((2, 3), (2, 3, 2), True, True)
    """
    points = np.asarray(points, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    se = np.full(points.shape, np.nan)
    ci = np.full(points.shape + (2,), np.nan)
    finite = np.isfinite(replicates)
    good = (finite.sum(axis=0) >= 2) & np.isfinite(points)
    if not good.any():
        return se, ci
    kept = replicates[:, good]
    alpha = (1.0 - level) / 2.0
    if finite[:, good].all():
        lo, median, hi = np.quantile(kept, [alpha, 0.5, 1.0 - alpha], axis=0)
        spread = kept.std(axis=0, ddof=1)
    else:
        kept = np.where(finite[:, good], kept, np.nan)  # an infinite replicate is dropped like a NaN one
        lo, median, hi = np.nanquantile(kept, [alpha, 0.5, 1.0 - alpha], axis=0)
        spread = np.nanstd(kept, axis=0, ddof=1)
    se[good] = spread
    ci[good, 0] = points[good] + (lo - median)
    ci[good, 1] = points[good] + (hi - median)
    return se, ci


def below_range_reasons(value, replicates, resolution, low=0.0, level=0.95):
    """Reasons for estimates below their range's low end that the data do not resolve, judged on the side
    toward the range: the upper half-width (upper end - estimate) / z of the replicates' interval (as
    :func:`~neurolearn.stats.estimate.bootstrap_interval` builds it) above ``resolution``.

    The companion of ``enforce_ranges``' rule judged on the lower half-width (registry ``resolution_side
    "lower"``) for an estimate at or above ``low``: both judge the side toward ``low``, so a reading below it and
    its mirror image above it are judged alike. Judged on the lower side, an estimate below ``low`` is judged on
    the side away from it, which is short where the replicates of a signed root stretch toward 0: kernel_change
    of fresh neurons under no change then reported the low readings and NaN-ed the high ones (mean -0.169 +-
    0.018 over 628 of 786 values, against -0.028 +- 0.024 over all; benchmarks/bench_kernel_change_fresh.py).
    ``replicates`` has a leading replicate axis over ``value``'s one axis; ``""`` where resolved or not judged
    (an estimate at or above ``low``, or fewer than two finite replicates).

    Examples
    --------
    >>> reps = np.array([[-0.9, 0.1], [-0.5, 0.2], [0.0, 0.3], [3.0, 0.4], [6.0, 0.5]])
    >>> [bool(r) for r in below_range_reasons(np.array([-0.5, -0.2]), reps, 1.0)]
    [True, False]
    """
    value = np.asarray(value, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    z = norm.ppf(0.5 + 0.5 * level)
    reasons = np.full(value.shape, "", dtype=object)
    for k in np.flatnonzero(np.isfinite(value) & (value < low)):
        reps = replicates[:, k][np.isfinite(replicates[:, k])]
        if reps.size < 2:
            continue
        half = float(np.quantile(reps, 0.5 + 0.5 * level) - np.median(reps)) / z
        if half > resolution:
            reasons[k] = (f"estimate {value[k]:.3g} below {low:g} with the upper half-width of its interval, "
                          f"(upper end - estimate) / z = {half:.3g}, above {resolution:g}: judged on the side "
                          f"toward {low:g}, as an estimate above it is on its lower side, the data do not resolve it")
    return reasons


def session_start_times(recordings) -> list[str]:
    """The ``session_start_time`` attr of every recording (``""`` where it has none), in order."""
    return [str(rec.attrs.get("session_start_time", "")) for rec in recordings.values()]


def enforce_ranges(ds):
    """The registry's promise: a value never lies outside its estimand's range by more than 3 SE. Such a value
    is NaN with its reason (a symptom of an estimator the data cannot support); intervals are clipped to the
    range but keep containing their estimate (a value outside the range by noise is then an end of its interval:
    the interval's part beyond it holds only values the estimand cannot take)."""
    updates = {}  # assigned at once: one merge instead of four per statistic
    not_judged = {}  # name -> count of values outside the range without an SE
    cleared_of = {}  # name -> (cleared mask, reasons): a statistic that follows another is cleared with it
    # a statistic computed from another's estimate is judged after it
    for name, entry in sorted(STATISTICS.items(), key=lambda item: bool(item[1].follows)):
        if name not in ds:
            continue
        if ci_name(name) not in ds:  # a count without an interval: only cleared with what it follows
            _clear_count_with_leader(ds, name, entry, cleared_of, updates)
            continue
        value = ds[name].values.astype(float)
        se = ds[se_name(name)].values.astype(float) if se_name(name) in ds else np.full(value.shape, np.nan)
        low, high = entry.range
        # without a standard error (n_boot=0, or replicates that gave none) noise cannot be told from
        # impossibility: a value outside the range keeps its number (an unchanged code's CKA reads 1.0003 by
        # noise, and NaN would lose it) but says so in its flag, and one warning counts them (adversary S8-3:
        # kernel_similarity 1.299 and kernel_change -1.01 came back unflagged at n_boot=0)
        judged = np.isfinite(value) & np.isfinite(se)
        slack = np.where(judged, RANGE_SLACK_SE * se, 0.0)
        outside = judged & ((value < low - slack) | (value > high + slack))
        tolerance = 1e-9 * np.maximum(1.0, np.abs(value))  # an exact end computed with rounding is inside
        with np.errstate(invalid="ignore"):
            unjudged = (np.isfinite(value) & ~np.isfinite(se)
                        & ((value < low - tolerance) | (value > high + tolerance)))
        # a bounded estimand whose SE exceeds half its range is not resolved at all: its 95% interval would
        # span more than the whole range (2.26 +- 5.6 for a CKA is noise, not a similarity above 1); an
        # unbounded one may declare its resolution in a natural unit (kernel_change: the kernel's own norm)
        # and is resolved where its SE is below that unit or below half its own magnitude (a change 2 SE
        # from none: 6.9 +- 1.4 is a large change measured, -41 +- 48 is noise). The magnitude is the estimate's
        # inside the range: one below a range's end by noise measured nothing there (a kernel_change of
        # -5.2 +- 2.5 is within 3 SE of 0, and is no change 2 SE from none; adversary A1)
        resolution = entry.unresolved_above()
        ci = ds[ci_name(name)].values.astype(float)
        # the spread judged: the SE, or the interval's lower half-width where the registry says the upper side
        # carries what a sample rarely holds (resolution_side "lower"; kernel_change with fresh neurons). The
        # side judged is the one toward the range's low end; kernel_change's readings below it are judged on
        # their upper side before they reach here (below_range_reasons, from change_from_terms)
        spread, spread_name = se, "standard error"
        if entry.resolution_side == "lower":
            z = norm.ppf(0.5 + 0.5 * float(ds[ci_name(name)].attrs.get("level", ds.attrs.get("level", 0.95))))
            with np.errstate(invalid="ignore"):
                spread = np.where(judged, (value - ci[..., 0]) / z, np.nan)
            spread_name = "lower half-width of the interval (estimate - lower end) / z"
        with np.errstate(invalid="ignore"):
            unresolved = judged & ~outside & (spread > resolution)
            if entry.resolution_se is not None:
                unresolved &= spread > 0.5 * np.abs(np.clip(value, low, high))
        what = (f"half the estimand's range [{low:g}, {high:g}]" if entry.resolution_se is None
                else f"both {resolution:g} (the resolution its registry entry declares) and half the estimate")
        flags = ds[flag_name(name)].values.astype(object) if flag_name(name) in ds else np.full(value.shape, "", object)
        def clear(mask, reason_at):
            """NaN where ``mask``, with the reason ``reason_at(index)`` in the flag and one warning each (one
            per pair of sessions for a pairwise statistic, naming both: adversary S3-9)."""
            warned = set()
            for index in zip(*np.nonzero(mask)):
                flags[index] = reason_at(index)
                sessions = tuple(str(ds[SESSION].values[k]) for k in index)
                if len(sessions) == 2:
                    pair = frozenset(sessions)
                    if pair in warned:
                        continue
                    warned.add(pair)
                    warnings.warn(StatisticWarning(f"{name} is NaN for sessions {sessions[0]!r} and "
                                                   f"{sessions[1]!r}: {flags[index]}"), stacklevel=5)
                else:
                    warn_unsupported(name, sessions[0], flags[index], stacklevel=5)
            value[mask], se[mask] = np.nan, np.nan
            ci[mask] = np.nan

        clear(outside, lambda index: f"estimate {value[index]:.4g} outside the estimand's range [{low:g}, "
                                     f"{high:g}] by more than {RANGE_SLACK_SE:g} SE: the data cannot support it")
        for index in zip(*np.nonzero(unjudged & (flags == ""))):
            flags[index] = (f"estimate {value[index]:.4g} outside the estimand's range [{low:g}, {high:g}], not "
                            f"judged: no standard error to tell sampling noise from an estimator the data cannot "
                            f"support (n_boot=0, or no usable replicates)")
        if unjudged.any():
            not_judged[name] = int(unjudged.sum())
        clear(unresolved, lambda index: f"{spread_name} {spread[index]:.3g} exceeds {what}: the data do not "
                                        "resolve it")
        cleared = outside | unresolved
        leader = cleared_of.get(entry.follows)
        if leader is not None and leader[0].shape == value.shape:
            followed = leader[0] & ~np.isnan(value) & ~cleared  # an infinite timescale too
            clear(followed, lambda index: f"computed from {entry.follows}, which is NaN here: {leader[1][index]}")
            cleared = cleared | followed
        cleared_of[name] = (cleared, flags)
        if cleared.any():
            # what describes a value left NaN goes with it: its chance level, p-value and replicates (a fit
            # reading the replicates of a value it cannot see would weight nothing by them)
            for companion, mask in ((f"{name}_chance", cleared), (f"{name}_pvalue", cleared),
                                    (f"{name}_boot", cleared[..., None])):
                if companion in ds and ds[companion].shape[:cleared.ndim] == cleared.shape:
                    data = np.where(mask, np.nan, ds[companion].values.astype(float))
                    updates[companion] = (ds[companion].dims, data, ds[companion].attrs)
        finite = np.isfinite(value)
        with np.errstate(invalid="ignore"):
            # every bound inside the range unless the estimate itself lies outside it (by at most 3 SE: noise),
            # then the interval reaches just the estimate: a bound beyond the estimate, outside the range, would
            # name values the estimand cannot take (task_alignment 1.16 printed [0.39, 1.93]: adversary F7).
            # A truth inside the range is covered exactly as before
            lower = np.where(finite, np.minimum(np.maximum(ci[..., 0], low), value), ci[..., 0])
            upper = np.where(finite, np.maximum(np.minimum(ci[..., 1], high), value), ci[..., 1])
        ci = np.stack([lower, upper], axis=-1)
        dims = ds[name].dims
        updates[name] = (dims, value, ds[name].attrs)
        if se_name(name) in ds:
            updates[se_name(name)] = (dims, se, ds[se_name(name)].attrs)
        updates[ci_name(name)] = (dims + (CI_BOUND,), ci, ds[ci_name(name)].attrs)
        updates[flag_name(name)] = (dims, flags.astype(str))
    if updates:
        ds.update(updates)
    if not_judged:
        counts = ", ".join(f"{name} ({count})" for name, count in not_judged.items())
        warnings.warn(StatisticWarning(f"values outside their estimand's range with no standard error to judge them "
                                       f"by (n_boot=0, or no usable replicates), kept and flagged: {counts}; rerun "
                                       f"with n_boot to tell sampling noise from an estimator the data cannot "
                                       f"support", statistics=tuple(not_judged)), stacklevel=4)
    return ds


def _clear_count_with_leader(ds, name, entry, cleared_of, updates):
    leader = cleared_of.get(entry.follows)
    value = ds[name].values.astype(float)
    if leader is None or leader[0].shape != value.shape:
        return
    followed = leader[0] & ~np.isnan(value)
    if not followed.any():
        return
    flags = ds[flag_name(name)].values.astype(object) if flag_name(name) in ds else np.full(value.shape, "", object)
    for index in zip(*np.nonzero(followed)):
        flags[index] = f"computed from {entry.follows}, which is NaN here: {leader[1][index]}"
        warn_unsupported(name, ds[SESSION].values[index[0]], flags[index], stacklevel=5)
    value[followed] = np.nan
    updates[name] = (ds[name].dims, value, ds[name].attrs)
    updates[flag_name(name)] = (ds[name].dims, flags.astype(str))


def refuse_if_empty(ds):
    names = [name for name in STATISTICS if name in ds]
    if names and not any(np.isfinite(ds[name].values.astype(float)).any() for name in names):
        reasons = {name: sorted(set(ds[flag_name(name)].values.ravel().tolist()) - {""})[:2]
                   for name in names if flag_name(name) in ds}
        raise DataError(f"no statistic could be computed for any session: {reasons}")


def warn_reasons(ds, names):
    """One warning per (statistic, reason) left NaN, naming the sessions that hold it (a reason that names its
    own session stays one warning per session); for a pairwise statistic one warning per reason, naming the
    sessions whose rows hold it (adversary F19: a session without a kernel gave one
    warning per other session, each naming that other session)."""
    for name in names:
        if flag_name(name) not in ds:
            continue
        flags = ds[flag_name(name)].values
        if flags.ndim < 2:
            sessions_of: dict = {}
            for session, reason in zip(ds[SESSION].values, flags.tolist()):
                if reason:
                    sessions_of.setdefault(reason, []).append(session)
            for reason, sessions in sessions_of.items():
                warn_unsupported_sessions(name, sessions, reason, stacklevel=5)
            continue
        rows_of: dict = {}
        for k, session in enumerate(ds[SESSION].values):
            for reason in dict.fromkeys(r for r in np.asarray(flags[k]).ravel().tolist() if r):
                rows_of.setdefault(reason, []).append(session)
        for reason, sessions in rows_of.items():
            warn_unsupported_pairs(name, sessions, reason, stacklevel=5)
