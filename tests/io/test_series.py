"""Trace sources: windows without samples name their trials and say whether a gap in the timestamps is why."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb

from .conftest import add_trials, new_nwbfile, save


def _gappy_file(tmp_path):
    """A 10 Hz series with no samples from 20 s to 30 s (a recording paused), trials every 5 s."""
    from pynwb import TimeSeries

    times = np.concatenate([np.arange(0.0, 20.0, 0.1), np.arange(30.0, 50.0, 0.1)])
    nwbfile = new_nwbfile()
    nwbfile.add_acquisition(TimeSeries(name="lfp", data=np.sin(times), unit="V", timestamps=times))
    starts = np.arange(1.0, 46.0, 5.0)
    add_trials(nwbfile, starts=starts, stops=starts + 1.0)
    return save(nwbfile, tmp_path / "gap.nwb")


def test_a_gap_in_the_timestamps_names_the_empty_trials(tmp_path):
    path = _gappy_file(tmp_path)
    expected = (r"gap\.nwb.*in 2 of 9 trials \(ids \[4, 5\]; first window 21-22 s\): the timestamps have a "
                r"gap of "
                r"10.1 s \(from 19\.9 to 30 s, sampling interval 0.1 s\).*where=")
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, source="acquisition/lfp", window=(0.0, 1.0))
    # leaving those trials out reads the rest
    rec = read_nwb(path, source="acquisition/lfp", window=(0.0, 1.0),
                   where="start_time < 20 or start_time > 30")
    assert rec.trial.values.tolist() == [0, 1, 2, 3, 6, 7, 8]


def test_bins_shorter_than_the_sampling_interval_still_say_so(tmp_path):
    from pynwb import TimeSeries

    nwbfile = new_nwbfile()
    series = TimeSeries(name="lfp", data=np.arange(40.0), unit="V", rate=10.0, starting_time=0.0)
    nwbfile.add_acquisition(series)
    add_trials(nwbfile, starts=[0.0, 1.0], stops=[0.5, 1.5])
    path = save(nwbfile, tmp_path / "coarse.nwb")
    expected = r"in 2 of 2 trials \(ids \[0, 1\].*shorter than the sampling interval"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, source="acquisition/lfp", window=(0.0, 0.5), bin_size=0.05)


@pytest.mark.parametrize("timing", ["rate", "timestamps"])
def test_binning_at_the_frame_rate_puts_one_frame_in_every_bin(tmp_path, timing):
    # 15 Hz imaging binned at 1/15 s: edges start + k/15 land a rounding error either side of the frame
    # times; a strict "first sample at or after the edge" left bins empty (and refused the file) while the
    # bin before took two frames
    from pynwb import TimeSeries

    rate, n_frames = 15.0, 3000
    nwbfile = new_nwbfile()
    frames = np.arange(float(n_frames))
    timing_args = (dict(rate=rate, starting_time=0.0) if timing == "rate"
                   else dict(timestamps=frames / rate))
    nwbfile.add_acquisition(TimeSeries(name="dff", data=frames, unit="n.a.", **timing_args))
    starts = 1.0 + 2.2 * np.arange(80)
    add_trials(nwbfile, starts=starts, stops=starts + 1.0)
    rec = read_nwb(save(nwbfile, tmp_path / "frames.nwb"), source="acquisition/dff", window=(0.0, 1.0),
                   bin_size=1.0 / rate)
    values = rec.transpose("trial", "time", "neuron").values[..., 0]
    # each bin holds exactly the frame at its left edge: frame index = round(edge * rate)
    expected = np.round((starts[:, None] + np.arange(15) / rate) * rate)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-9)


def test_a_window_mostly_in_a_gap_is_read_from_its_few_samples_with_one_warning(tmp_path):
    # the window 19.8-20.8 s holds 2 samples (19.8, 19.9) where 10 fit at 10 Hz: its mean is of those two
    from pynwb import TimeSeries

    times = np.concatenate([np.arange(0.0, 20.0, 0.1), np.arange(30.0, 50.0, 0.1)])
    nwbfile = new_nwbfile()
    nwbfile.add_acquisition(TimeSeries(name="lfp", data=times.copy(), unit="V", timestamps=times))
    add_trials(nwbfile, starts=[1.0, 19.8, 35.0], stops=[2.0, 20.8, 36.0])
    path = save(nwbfile, tmp_path / "edge.nwb")
    expected = r"1 of 3 trial windows lie mostly in a gap.*ids \[1\].*2 samples where 10 fit.*where="
    with pytest.warns(UserWarning, match=expected) as caught:
        rec = read_nwb(path, source="acquisition/lfp", window=(0.0, 1.0))
    assert sum("mostly in a gap" in str(w.message) for w in caught) == 1
    np.testing.assert_allclose(rec.values[:, 0], [1.45, 19.85, 35.45], atol=1e-9)
    # a window at the sampling density, or one sample short of it at an edge, says nothing
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_nwb(path, source="acquisition/lfp", window=(0.0, 1.0), where="start_time != 19.8")


def test_jittered_frames_that_leave_some_bins_one_sample_short_are_no_gap(tmp_path):
    # 8 Hz frames jittered by up to 30% of a frame, read in 0.25 s bins: some bins hold 1 frame where 2 fit,
    # yet every window holds its frames; neither the series nor an input read over the same bins warns
    import warnings

    from pynwb import TimeSeries

    rng = np.random.default_rng(0)
    times = np.arange(0.0, 60.0, 0.125) + rng.uniform(-0.0375, 0.0375, 480)
    nwbfile = new_nwbfile()
    nwbfile.add_acquisition(TimeSeries(name="dff", data=times.copy(), unit="n.a.", timestamps=times))
    nwbfile.add_stimulus(TimeSeries(name="input", data=times.copy(), unit="n.a.", timestamps=times))
    starts = 2.0 + 5.0 * np.arange(10)
    add_trials(nwbfile, starts=starts, stops=starts + 4.0)
    path = save(nwbfile, tmp_path / "jitter.nwb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_nwb(path, source="acquisition/dff", window=(0.0, 4.0), bin_size=0.25,
                       inputs="stimulus/presentation/input")
    assert rec.sizes["time"] == 16 and rec.input.dims == ("trial", "time")


def test_nan_samples_found_by_a_lazy_block_are_counted_as_at_least(tmp_path):
    # read eagerly the count is every trial's; a lazy block sees its own trials only and said "40 samples" where
    # the file held 760 (adversary F27): it now says how many trials it counted in
    import re

    from pynwb import TimeSeries

    times = np.arange(0.0, 20.0, 0.1)
    data = np.ones((times.size, 2))
    data[::7, 0] = np.nan  # NaN samples spread over every trial
    nwbfile = new_nwbfile()
    nwbfile.add_acquisition(TimeSeries(name="trace", data=data, unit="V", timestamps=times))
    starts = np.arange(0.0, 19.0, 2.0)
    add_trials(nwbfile, starts=starts, stops=starts + 1.0)
    path = save(nwbfile, tmp_path / "nan.nwb")
    eager = r"found NaN/inf samples inside trial windows \((\d+) NaN/inf samples in 1 channels/ROIs\)"
    with pytest.raises(NWBError, match=eager) as caught:
        read_nwb(path, source="acquisition/trace", window=(0.0, 1.0))
    lazy = r"\(at least \d+ NaN/inf samples in 1 channels/ROIs, counted in the 2 of 10 trials read so far\)"
    with pytest.raises(NWBError, match=lazy):
        read_nwb(path, source="acquisition/trace", window=(0.0, 1.0), chunks={"trial": 2}).compute()
    assert int(re.search(eager, str(caught.value)).group(1)) > 10  # every trial's NaN samples, 3 in each
