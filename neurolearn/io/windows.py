"""Trial windows and bins -> spike counts and sample means (the numpy core of the readers).

Every window or bin is half-open, ``[start, stop)``: a spike (or sample) exactly on an edge belongs to the bin
that starts there. Windows are independent, so overlapping trials are counted separately, never merged.
The NWB writer in :mod:`neurolearn.simulate.nwb` uses these same functions to decide which samples fall in
which window, so round trips are exact by construction.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import NWBError, shown

__all__ = ["DEFAULT_WINDOW", "window_edges", "window_overreach", "count_in_bins", "sample_positions",
           "segment_means", "segment_sums_streamed"]

#: the window read when ``window=`` is not given: the first second after the alignment event
DEFAULT_WINDOW = (0.0, 1.0)


def window_edges(align_times, window, bin_size=None) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``(trial, n_bins + 1)`` of every trial's window (``align + window``) and the bin centres
    relative to the alignment event.

    Without ``bin_size`` there is one bin per trial (the whole window).

    Examples
    --------
    >>> edges, centres = window_edges([10.0, 20.0], (0.0, 1.0), bin_size=0.5)
    >>> edges.tolist(), centres.tolist()
    ([[10.0, 10.5, 11.0], [20.0, 20.5, 21.0]], [0.25, 0.75])
    """
    start, stop = (float(w) for w in window)
    if not np.isfinite([start, stop]).all() or stop <= start:
        raise NWBError(f"expected window=(start, stop) with start < stop (seconds), found {shown(tuple(window))}")
    if bin_size is None:
        offsets = np.array([start, stop])
    else:
        bin_size = float(bin_size)
        n_bins = (stop - start) / bin_size if bin_size > 0 else np.nan
        if not np.isfinite(n_bins) or n_bins < 0.5 or abs(n_bins - round(n_bins)) > 1e-6 * max(1.0, n_bins):
            raise NWBError(
                f"expected bin_size > 0 dividing the window {tuple(window)} into whole bins, found "
                f"bin_size={bin_size!r}"
            )
        offsets = start + np.arange(int(round(n_bins)) + 1) * bin_size
        offsets[-1] = stop
    align = np.asarray(align_times, dtype=float).reshape(-1, 1)
    centres = (offsets[:-1] + offsets[1:]) / 2
    return align + offsets[None, :], centres


def window_overreach(edges, align, starts, stops, table_starts):
    """How far trial windows reach beyond their own trial: ``(past_stop, into_next, room)``.

    ``past_stop[t]``: window ``t`` ends after its trial's ``stops[t]``. ``into_next[t]``: it also ends after
    the next trial starts (the first of ``table_starts``, every row of the trials table, later than
    ``starts[t]``), so that trial's spikes or samples are read into this one; a trial whose own extent
    already holds the next start (trials declared overlapping) is not counted while its window ends by its
    stop, and without a stop time the next start alone decides. ``room``: the longest window ``(0, room)``
    after ``align`` that ends by every trial's stop (the next trial's start where the stop is not known);
    NaN if none can be said.

    Examples
    --------
    >>> starts = np.array([1.0, 1.4, 1.8])                  # 0.4 s trials back to back, a 1 s window
    >>> edges, _ = window_edges(starts, (0.0, 1.0))
    >>> past, into, room = window_overreach(edges, starts, starts, starts + 0.4, starts)
    >>> past.tolist(), into.tolist(), round(room, 6)
    ([True, True, True], [True, True, False], 0.4)
    """
    edges = np.asarray(edges, dtype=float)
    align, starts, stops = (np.asarray(a, dtype=float).reshape(-1) for a in (align, starts, stops))
    ends = edges[:, -1]
    slack = _TIME_TOLERANCE * np.maximum(1.0, np.abs(ends))
    table_starts = np.asarray(table_starts, dtype=float).reshape(-1)
    ordered = np.append(np.sort(table_starts[np.isfinite(table_starts)]), np.inf)
    next_start = ordered[np.searchsorted(ordered[:-1], starts, side="right")]
    next_start[~np.isfinite(starts)] = np.inf
    known = np.isfinite(stops)
    with np.errstate(invalid="ignore"):
        past_stop = known & (ends > stops + slack)
        into_next = (past_stop | ~known) & (ends > next_start + slack)
    limit = np.where(known, stops, next_start) - align
    limit = limit[np.isfinite(limit)]
    room = float(limit.min()) if limit.size else float("nan")
    return past_stop, into_next, room


#: seconds of rounding allowed when a window's end meets a trial's stop or the next trial's start
_TIME_TOLERANCE = 1e-9


def count_in_bins(sorted_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of ``sorted_times`` in each ``[edges[t, k], edges[t, k+1])`` -> int64 ``(trial, n_bins)``.

    Windows may overlap or come in any order. Whole windows are counted with one :func:`numpy.searchsorted`
    of their edges. Binned windows are counted per spike instead (cheaper than searching every bin edge):
    each spike inside a window gets its bin from arithmetic, which is then checked against the actual edges
    and moved by one bin where rounding put it on the wrong side, so the result is exactly that of comparing
    with the edges.

    Examples
    --------
    >>> count_in_bins(np.array([0.1, 0.5, 0.5, 0.9, 1.2]), np.array([[0.0, 0.5, 1.0], [0.5, 1.0, 1.5]]))
    array([[1, 3],
           [3, 1]])
    """
    n_trials, n_edges = edges.shape
    n_bins = n_edges - 1
    if n_bins == 1 or sorted_times.size == 0:
        positions = np.searchsorted(sorted_times, edges.ravel(), side="left").reshape(edges.shape)
        return np.diff(positions, axis=1)
    first = np.searchsorted(sorted_times, edges[:, 0], side="left")
    last = np.searchsorted(sorted_times, edges[:, -1], side="left")
    lengths = last - first
    total = int(lengths.sum())
    if total == 0:
        return np.zeros((n_trials, n_bins), dtype=np.int64)
    trial = np.repeat(np.arange(n_trials), lengths)
    # index of every in-window spike: the ranges [first, last) laid end to end
    index = np.arange(total) + np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
    times = sorted_times[index]
    width = (edges[:, -1] - edges[:, 0]) / n_bins
    which = np.floor((times - edges[trial, 0]) / width[trial]).astype(np.int64)
    np.clip(which, 0, n_bins - 1, out=which)
    which -= times < edges[trial, which]
    np.clip(which, 0, n_bins - 1, out=which)
    which += times >= edges[trial, which + 1]
    np.clip(which, 0, n_bins - 1, out=which)
    flat = trial * n_bins + which
    if not (np.all(times >= edges.ravel()[trial * n_edges + which]) and np.all(
        times < edges.ravel()[trial * n_edges + which + 1]
    )):
        # irregular bins (never produced by window_edges): fall back to searching every edge
        positions = np.searchsorted(sorted_times, edges.ravel(), side="left").reshape(edges.shape)
        return np.diff(positions, axis=1)
    return np.bincount(flat, minlength=n_trials * n_bins).reshape(n_trials, n_bins)


def segment_sums_streamed(dataset, positions: np.ndarray, columns=slice(None), block_bytes: int = 8 << 20, *,
                          finite: bool = False):
    """Sums of the rows of an h5py ``dataset`` over each segment ``[positions[t, k], positions[t, k+1])``
    -> float64 ``(trial * n_bins, channel)``, reading the covered rows block by block.

    The rows are read into one reused buffer of about ``block_bytes`` and summed while in cache with a sparse
    indicator matrix, so the whole span never sits in memory at once. Segments may overlap; blocks no segment
    touches are not read. ``finite=True``: count each segment's finite samples instead of summing them.
    """
    seg_lo = positions[:, :-1].ravel()
    seg_hi = positions[:, 1:].ravel()
    lo, hi = int(seg_lo.min()), int(seg_hi.max())
    one_dimensional = dataset.ndim == 1
    n_channels = 1 if one_dimensional else len(range(*columns.indices(dataset.shape[1])))
    rows_per_block = max(1, block_bytes // (8 * max(n_channels, 1)))
    buffer_shape = (rows_per_block,) if one_dimensional else (rows_per_block, n_channels)
    buffer = np.empty(buffer_shape, dtype=dataset.dtype)
    order = np.argsort(seg_lo, kind="stable")
    sorted_lo, sorted_hi = seg_lo[order], seg_hi[order]
    reach = np.maximum.accumulate(sorted_hi)  # segments before k0 end before the block starts
    out = np.zeros((seg_lo.size, n_channels))
    for start in range(lo, hi, rows_per_block):
        stop = min(hi, start + rows_per_block)
        k0 = int(np.searchsorted(reach, start, side="right"))
        k1 = int(np.searchsorted(sorted_lo, stop, side="left"))
        if k1 <= k0:
            continue
        rows = buffer[: stop - start]
        source = np.s_[start:stop] if one_dimensional else np.s_[start:stop, columns]
        dataset.read_direct(rows, source, np.s_[0 : stop - start])
        a = np.clip(sorted_lo[k0:k1], start, stop) - start
        b = np.clip(sorted_hi[k0:k1], start, stop) - start
        lengths = np.maximum(b - a, 0)
        pointers = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.arange(pointers[-1]) + np.repeat(a - pointers[:-1], lengths)
        weights = _csr((np.ones(indices.size), indices, pointers), shape=(k1 - k0, stop - start))
        values = np.isfinite(rows).astype(float) if finite else rows
        out[order[k0:k1]] += weights @ (values.reshape(-1, 1) if one_dimensional else values)
    return out


def _csr(*args, **kwargs):
    from scipy.sparse import csr_matrix

    return csr_matrix(*args, **kwargs)


#: how close (in sampling intervals) a sample before an edge may be and still count as at it: rounding only
SAMPLE_TOLERANCE = 1e-6


def sample_positions(edges: np.ndarray, *, rate=None, starting_time=0.0, timestamps=None) -> np.ndarray:
    """Index of the first sample at or after each edge, for a regularly sampled series (``rate``,
    ``starting_time``) or one with explicit ``timestamps``; not clipped to the series length.

    A sample within ``SAMPLE_TOLERANCE`` sampling intervals before an edge counts as at the edge: edges
    computed as ``start + k * bin_size`` land a rounding error either side of the sample times they are meant
    to hit, and with ``bin_size`` equal to the sampling interval (binning at the frame rate) a strict rule
    left some bins empty and others with two samples.

    Examples
    --------
    >>> sample_positions(np.array([[0.0, 0.5]]), rate=10.0).tolist()
    [[0, 5]]
    >>> edges = 1.0 + np.arange(31) / 15.0                  # 15 Hz frames binned at the frame rate
    >>> np.diff(sample_positions(edges[None], rate=15.0)).tolist() == [[1] * 30]
    True
    """
    if timestamps is not None:
        timestamps = np.asarray(timestamps, dtype=float)
        step = float(np.median(np.diff(timestamps))) if timestamps.size > 1 else 0.0
        return np.searchsorted(timestamps, edges - SAMPLE_TOLERANCE * step, side="left").astype(np.int64)
    return np.ceil((edges - float(starting_time)) * float(rate) - SAMPLE_TOLERANCE).astype(np.int64)


def segment_means(data: np.ndarray, positions: np.ndarray, *, omit_nan: bool = False):
    """Mean of ``data`` rows over each segment ``[positions[t, k], positions[t, k+1])`` -> float64
    ``(trial, n_bins, channel)``, plus the number of NaN samples that were left out.

    ``positions`` index rows of ``data`` and every segment must be non-empty. NaN/inf samples inside a
    segment raise (``omit_nan=False``) or are left out of its mean; the second return value counts them.
    When the segments come in time order one :func:`numpy.add.reduceat` sums them all in a single pass;
    otherwise (overlapping windows) each trial is summed on its own.

    Examples
    --------
    >>> data = np.arange(6.0).reshape(6, 1)
    >>> means, n_nan = segment_means(data, np.array([[0, 2, 4], [1, 3, 5]]))
    >>> means[..., 0].tolist(), n_nan
    ([[0.5, 2.5], [1.5, 3.5]], 0)
    """
    counts = np.diff(positions, axis=1)[..., None]
    sums = _segment_sums(data, positions)
    if data.dtype.kind != "f" or np.isfinite(sums).all():
        # NaN/inf anywhere inside a window shows up in its sum, so clean data costs no extra pass
        return sums / counts, 0
    bad = ~np.isfinite(data)
    bad_counts = _segment_sums(bad.view(np.int8) if bad.dtype == bool else bad, positions)
    n_bad = int(bad_counts.sum())
    n_channels = int((bad_counts.sum(axis=(0, 1)) > 0).sum())
    kept = counts - bad_counts
    empty = kept == 0  # (trial, bin, channel): a window/bin of a channel with no finite sample at all
    found = dict(trials=np.flatnonzero(bad_counts.sum(axis=(1, 2)) > 0),
                 empty_trials=np.flatnonzero(empty.any(axis=(1, 2))),
                 empty_channels=np.flatnonzero(empty.any(axis=(0, 1))))
    if not omit_nan:
        raise _NaNFound(n_bad, n_channels, all_nan=bool(empty.any()), **found)
    sums = _segment_sums(np.where(bad, 0.0, data), positions)
    if empty.any():
        raise _NaNFound(n_bad, n_channels, all_nan=True, **found)
    return sums / kept, n_bad


class _NaNFound(Exception):
    """Raised inside :func:`segment_means`; the reader turns it into an NWBError naming the file.

    ``trials`` are the rows of ``positions`` with a NaN/inf sample inside a window, ``empty_trials`` those
    where some window/bin of some channel holds no finite sample, ``empty_channels`` those channels."""

    def __init__(self, n_samples: int, n_channels: int, all_nan: bool = False, trials=(), empty_trials=(),
                 empty_channels=()):
        super().__init__(n_samples, n_channels)
        self.n_samples, self.n_channels, self.all_nan = n_samples, n_channels, all_nan
        self.trials, self.empty_trials, self.empty_channels = (
            np.asarray(a, dtype=np.int64) for a in (trials, empty_trials, empty_channels))


def _segment_sums(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    n_trials, n_edges = positions.shape
    flat = positions.ravel()
    accumulate = np.int64 if data.dtype.kind in "biu" else np.float64
    if flat.size and np.all(flat[1:] >= flat[:-1]):
        # the gap between consecutive trials is just one more (unused) segment of the same reduceat
        indices = flat if flat[-1] < data.shape[0] else flat[:-1]
        sums = np.add.reduceat(data, indices, axis=0, dtype=accumulate)
        if sums.shape[0] < flat.size:
            sums = np.concatenate([sums, np.zeros((1,) + sums.shape[1:], dtype=sums.dtype)])
        return sums.reshape((n_trials, n_edges) + data.shape[1:])[:, :-1]
    out = np.empty((n_trials, n_edges - 1) + data.shape[1:], dtype=accumulate)
    for trial in range(n_trials):
        cumulative = np.add.reduceat(data[positions[trial, 0] : positions[trial, -1]],
                                     positions[trial, :-1] - positions[trial, 0], axis=0, dtype=accumulate)
        out[trial] = cumulative
    return out
