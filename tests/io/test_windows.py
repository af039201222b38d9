"""The numeric core: counts and means per window/bin against plain loops, spikes on and next to edges."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurolearn.errors import NWBError
from neurolearn.io.windows import (
    count_in_bins,
    sample_positions,
    segment_means,
    segment_sums_streamed,
    window_edges,
)


def loop_counts(times, edges):
    out = np.zeros((edges.shape[0], edges.shape[1] - 1), dtype=int)
    for t in range(edges.shape[0]):
        for k in range(edges.shape[1] - 1):
            out[t, k] = sum(1 for x in times if edges[t, k] <= x < edges[t, k + 1])
    return out


def test_spikes_on_and_one_ulp_below_every_edge_land_in_the_right_bin():
    align = np.array([0.1, 3.7, 1234.567])  # a large offset makes rounding of (t - start) / width likely
    edges, _ = window_edges(align, (-0.3, 0.7), bin_size=0.1)
    on_edges = edges.ravel()
    below = np.nextafter(on_edges, -np.inf)
    above = np.nextafter(on_edges, np.inf)
    times = np.sort(np.concatenate([on_edges, below, above]))
    np.testing.assert_array_equal(count_in_bins(times, edges), loop_counts(times, edges))


@settings(max_examples=40, deadline=None)
@given(
    spikes=st.lists(st.floats(0, 20, allow_nan=False), max_size=60),
    starts=st.lists(st.floats(0, 18, allow_nan=False), min_size=1, max_size=6),
    n_bins=st.integers(1, 5),
)
def test_counts_equal_a_plain_loop_for_any_windows(spikes, starts, n_bins):
    times = np.sort(np.asarray(spikes, dtype=float))
    edges, _ = window_edges(np.asarray(starts), (-0.5, 1.5), bin_size=2.0 / n_bins)
    np.testing.assert_array_equal(count_in_bins(times, edges), loop_counts(times, edges))


def test_window_edges_and_centres():
    edges, centres = window_edges([2.0], (-1.0, 1.0), bin_size=0.5)
    np.testing.assert_allclose(edges, [[1.0, 1.5, 2.0, 2.5, 3.0]])
    np.testing.assert_allclose(centres, [-0.75, -0.25, 0.25, 0.75])
    with pytest.raises(NWBError, match="bin_size"):
        window_edges([0.0], (0.0, 1.0), bin_size=0.0)


def test_sample_positions_rate_and_timestamps_agree_on_a_regular_grid():
    edges = np.array([[0.05, 0.35], [0.71, 0.99]])
    grid = np.arange(100) / 10.0 + 0.0
    np.testing.assert_array_equal(
        sample_positions(edges, rate=10.0, starting_time=0.0), sample_positions(edges, timestamps=grid)
    )


def loop_means(data, positions):
    out = np.empty((positions.shape[0], positions.shape[1] - 1, data.shape[1]))
    for t in range(positions.shape[0]):
        for k in range(positions.shape[1] - 1):
            out[t, k] = data[positions[t, k] : positions[t, k + 1]].mean(axis=0)
    return out


@pytest.mark.parametrize("overlapping", [False, True])
def test_segment_means_equal_a_loop(rng, overlapping):
    data = rng.normal(size=(200, 3))
    if overlapping:
        positions = np.array([[50, 60, 70], [10, 20, 30], [55, 65, 75]])
    else:
        # adjacent windows, and one ending at the last row
        positions = np.array([[0, 5, 12], [12, 13, 20], [150, 170, 200]])
    means, n_nan = segment_means(data, positions)
    np.testing.assert_allclose(means, loop_means(data, positions), atol=1e-12)
    assert n_nan == 0


@pytest.mark.parametrize("one_dimensional", [False, True])
def test_streamed_sums_equal_a_loop_across_many_small_blocks(tmp_path, rng, one_dimensional):
    data = rng.normal(size=(500,) if one_dimensional else (500, 4))
    path = tmp_path / "trace.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = data
    positions = np.array([[3, 40, 90], [100, 101, 250], [80, 120, 160], [400, 450, 500]])  # one overlaps
    with h5py.File(path, "r") as handle:
        sums = segment_sums_streamed(handle["data"], positions, block_bytes=8 * 4 * 7)  # 7-row blocks
    as_2d = data.reshape(500, -1)
    counts = np.diff(positions, axis=1).reshape(-1, 1)
    expected = loop_means(as_2d, positions).reshape(-1, as_2d.shape[1])
    np.testing.assert_allclose(sums / counts, expected, atol=1e-12)


def test_streamed_finite_counts_equal_a_loop_and_read_only_the_columns_asked(tmp_path, rng):
    data = rng.normal(size=(500, 4))
    data[rng.random(data.shape) < 0.3] = np.nan
    data[200:260] = np.inf  # a block of non-finite frames in every channel
    path = tmp_path / "trace.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = data
    positions = np.array([[3, 40, 90], [100, 101, 250], [80, 120, 160], [210, 230, 250]])  # one overlaps
    with h5py.File(path, "r") as handle:
        every = segment_sums_streamed(handle["data"], positions, block_bytes=8 * 4 * 7, finite=True)
        first = segment_sums_streamed(handle["data"], positions, slice(0, 1), block_bytes=8 * 4 * 7, finite=True)
    expected = [[np.isfinite(data[lo:hi, c]).sum() for c in range(4)]
                for row in positions for lo, hi in zip(row[:-1], row[1:])]
    np.testing.assert_array_equal(every, np.array(expected, dtype=float))
    np.testing.assert_array_equal(first[:, 0], every[:, 0])
    assert every[-2:].sum() == 0  # both bins of the last window lie in the block


# --- the default window and trials shorter than it (adversary F21) ------------------------------------------


def _short_trials_file(tmp_path, name="short.nwb"):
    """0.4 s trials back to back from 1.0 s (the last followed by a 1 s gap) and one unit with hand-placed
    spikes: two inside each trial, one exactly on the next trial's start (half-open: the next trial's)."""
    from .conftest import add_trials, new_nwbfile, save

    nwbfile = new_nwbfile()
    starts = [1.0, 1.4, 1.8, 2.2]
    add_trials(nwbfile, starts=starts, stops=[s + 0.4 for s in starts])
    spikes = [1.05, 1.30, 1.40, 1.45, 1.70, 1.95, 2.10, 2.25, 2.35, 2.90, 3.10]
    nwbfile.add_unit(spike_times=np.array(spikes))
    return save(nwbfile, tmp_path / name), starts, spikes


def _by_hand(spikes, starts, width):
    return [sum(1 for t in spikes if start <= t < start + width) for start in starts]


def test_the_default_window_reaching_into_the_next_trial_is_warned_once_with_the_window_that_fits(tmp_path):
    # before: the default (0, 1) s read each 0.4 s trial with the next two trials' spikes, without a word
    import warnings

    from neurolearn.io import read_nwb, read_sessions

    path, starts, spikes = _short_trials_file(tmp_path)
    message = (r"short\.nwb: the default window \(0\.0, 1\.0\) s after 'start_time' reaches past 4 of 4 "
               r"trials: 3 run into the next trial .*and 4 end after their own stop_time \(trials \[0, 1, 2, "
               r"3\]\); pass window= .*e\.g\. window=\(0, 0\.4\), which ends by every trial's stop_time")
    with pytest.warns(UserWarning, match=message) as caught:
        rec = read_nwb(path)
    assert sum("default window" in str(w.message) for w in caught) == 1
    assert caught[0].filename == __file__  # points at the caller's line, not the loader's
    # the default is still (0, 1) s for every file (sessions stay comparable), and says so in its attrs
    assert rec.attrs["window"] == (0.0, 1.0)
    assert rec.values[:, 0].tolist() == _by_hand(spikes, starts, 1.0) == [6, 7, 4, 4]
    # the window it names reads each trial's own spikes only, without the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        own = read_nwb(path, window=(0.0, 0.4))
        chosen = read_nwb(path, window=(0.0, 1.0))  # a window passed is the caller's choice
    assert own.values[:, 0].tolist() == _by_hand(spikes, starts, 0.4) == [2, 3, 2, 2]
    np.testing.assert_array_equal(chosen.values, rec.values)
    with pytest.warns(UserWarning, match=r"window=\(0, 0\.4\).*\(with a bin_size dividing it\)"):
        binned = read_nwb(path, bin_size=0.5)
    np.testing.assert_array_equal(binned.sum("time").values, rec.values)
    with pytest.warns(UserWarning, match=r"reaches past 1 of 1 trials: 1 end after .*\(trials \[3\]\)"):
        read_nwb(path, where="start_time > 2")  # the last trial: past its stop, but no trial follows
    with pytest.warns(UserWarning, match="default window") as caught:
        read_sessions([path])
    assert sum("default window" in str(w.message) for w in caught) == 1


def test_the_default_window_inside_each_trial_is_not_warned(tmp_path):
    # 1 s trials back to back, and trials declared overlapping whose windows end by their own stop: the
    # default window reads only each trial's own extent
    import warnings

    from neurolearn.io import read_nwb

    from .conftest import add_trials, add_units, new_nwbfile, save

    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 1.0, 1.5], stops=[1.0, 2.5, 2.5])
    add_units(nwbfile, [[0.25, 0.75, 1.25, 1.75, 2.25]])
    path = save(nwbfile, tmp_path / "fits.nwb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_nwb(path)
    assert rec.values[:, 0].tolist() == [2, 2, 2]


def test_without_stop_times_the_next_trials_start_decides():
    from neurolearn.io.windows import window_overreach

    starts = np.array([0.0, 0.5, 3.0])
    edges, _ = window_edges(starts, (0.0, 1.0))
    past, into, room = window_overreach(edges, starts, starts, np.full(3, np.nan), starts)
    assert past.tolist() == [False, False, False] and into.tolist() == [True, False, False]
    assert room == pytest.approx(0.5)
    # a window that ends exactly at the next start (half-open) does not reach into it
    past, into, _ = window_overreach(edges, starts, starts, starts + 1.0, np.array([1.0, 0.0, 0.5, 3.0]))
    assert not past.any() and not into.any()
