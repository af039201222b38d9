"""Trial windows and bins -> spike counts and sample means (the numpy core of the readers).

Every window or bin is half-open, ``[start, stop)``: a spike (or sample) exactly on an edge belongs to the bin
that starts there. Windows are independent, so overlapping trials are counted separately, never merged.
The NWB writer in :mod:`neurolearn.simulate.nwb` uses these same functions to decide which samples fall in
which window, so round trips are exact by construction.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import NWBError

__all__ = ["window_edges", "count_in_bins", "sample_positions", "segment_means"]


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
        raise NWBError(f"expected window=(start, stop) with start < stop (seconds), found {tuple(window)}")
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


def count_in_bins(sorted_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of ``sorted_times`` in each ``[edges[t, k], edges[t, k+1])`` -> int64 ``(trial, n_bins)``.

    One :func:`numpy.searchsorted` of all edges; windows may overlap or come in any order.

    Examples
    --------
    >>> count_in_bins(np.array([0.1, 0.5, 0.5, 0.9, 1.2]), np.array([[0.0, 0.5, 1.0], [0.5, 1.0, 1.5]]))
    array([[1, 3],
           [3, 1]])
    """
    positions = np.searchsorted(sorted_times, edges.ravel(), side="left").reshape(edges.shape)
    return np.diff(positions, axis=1)


def sample_positions(edges: np.ndarray, *, rate=None, starting_time=0.0, timestamps=None) -> np.ndarray:
    """Index of the first sample at or after each edge, for a regularly sampled series (``rate``,
    ``starting_time``) or one with explicit ``timestamps``; not clipped to the series length.

    Examples
    --------
    >>> sample_positions(np.array([[0.0, 0.5]]), rate=10.0).tolist()
    [[0, 5]]
    """
    if timestamps is not None:
        return np.searchsorted(timestamps, edges, side="left").astype(np.int64)
    return np.ceil((edges - float(starting_time)) * float(rate)).astype(np.int64)


def segment_means(data: np.ndarray, positions: np.ndarray, *, omit_nan: bool = False):
    """Mean of ``data`` rows over each segment ``[positions[t, k], positions[t, k+1])`` -> float64
    ``(trial, n_bins, channel)``, plus the number of NaN samples that were left out.

    ``positions`` index rows of ``data`` and every segment must be non-empty. When the segments come in time
    order one :func:`numpy.add.reduceat` sums them all in a single pass; otherwise (overlapping windows) each
    trial is summed on its own.

    Examples
    --------
    >>> data = np.arange(6.0).reshape(6, 1)
    >>> means, n_nan = segment_means(data, np.array([[0, 2, 4], [1, 3, 5]]))
    >>> means[..., 0].tolist(), n_nan
    ([[0.5, 2.5], [1.5, 3.5]], 0)
    """
    n_trials, n_edges = positions.shape
    nan = np.isnan(data) if data.dtype.kind == "f" else None
    n_nan_total = 0
    if nan is not None and nan.any():
        if not omit_nan:
            sums_nan = _segment_sums(nan.astype(np.int64), positions)
            n_nan_total = int(sums_nan.sum())
            if n_nan_total:
                raise _NaNFound(n_nan_total, int((sums_nan.sum(axis=(0, 1)) > 0).sum()))
            counts = np.diff(positions, axis=1)[..., None].astype(float)
            return _segment_sums(np.where(nan, 0.0, data), positions) / counts, 0
        nan_counts = _segment_sums(nan.astype(np.int64), positions)
        sums = _segment_sums(np.where(nan, 0.0, data), positions)
        counts = np.diff(positions, axis=1)[..., None] - nan_counts
        n_nan_total = int(nan_counts.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        if (counts == 0).any():
            raise _NaNFound(n_nan_total, int((nan_counts.sum(axis=(0, 1)) > 0).sum()), all_nan=True)
        return means, n_nan_total
    counts = np.diff(positions, axis=1)[..., None].astype(float)
    return _segment_sums(data, positions) / counts, 0


class _NaNFound(Exception):
    """Raised inside :func:`segment_means`; the reader turns it into an NWBError naming the file."""

    def __init__(self, n_samples: int, n_channels: int, all_nan: bool = False):
        super().__init__(n_samples, n_channels)
        self.n_samples, self.n_channels, self.all_nan = n_samples, n_channels, all_nan


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
