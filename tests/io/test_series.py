"""Trace sources: windows without samples name their trials and say whether a gap in the timestamps is why."""

from __future__ import annotations

import re

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


# --- windows with no finite sample (dropped frames written as NaN) ------------------------------------------

#: 10 Hz frames; trial k's window (0, 1) s after 0.5 + 2k s holds frames 5 + 20k .. 14 + 20k
RATE, N_TRIALS = 10.0, 10


def _frames(n_channels: int = 3) -> np.ndarray:
    """Frame i of channel c reads i + 100 c: every window mean is known."""
    return np.arange(20 * N_TRIALS + 10, dtype=float)[:, None] + 100.0 * np.arange(n_channels)[None, :]


def _window_means(data: np.ndarray, trials) -> np.ndarray:
    """(trial, channel) means of the finite frames of each trial's window, frame by frame (no reader code)."""
    out = []
    for k in trials:
        rows = data[5 + 20 * k: 15 + 20 * k]
        out.append([np.mean(column[np.isfinite(column)]) for column in rows.T])
    return np.array(out)


def dropped_frames_file(tmp_path, data, name="dropped.nwb", session_id="s1"):
    """A DfOverF RoiResponseSeries of ``data`` (frames x ROIs) at 10 Hz and ten trials 2 s apart."""
    from pynwb.ophys import DfOverF
    from pynwb.testing.mock.ophys import mock_PlaneSegmentation, mock_RoiResponseSeries

    nwbfile = new_nwbfile(session_id)
    module = nwbfile.create_processing_module(name="ophys", description="ophys")
    planes = mock_PlaneSegmentation(nwbfile=nwbfile, n_rois=data.shape[1])
    region = planes.create_roi_table_region(region=list(range(data.shape[1])), description="rois")
    dff = DfOverF(name="DfOverF")
    module.add(dff)
    dff.add_roi_response_series(mock_RoiResponseSeries(name="dff", data=data, rois=region, rate=RATE,
                                                       starting_time=0.0))
    starts = 0.5 + 2.0 * np.arange(N_TRIALS)
    add_trials(nwbfile, starts=starts, stops=starts + 1.0)
    return save(nwbfile, tmp_path / name)


def _dropped_block():
    data = _frames()
    data[60:100] = np.nan  # frames dropped for 4 s: trials 3 and 4 have no finite sample in any ROI
    data[126, 1] = np.nan  # one NaN inside trial 6's window: its mean is of the other 9 frames
    return data


@pytest.mark.parametrize("chunks", [None, {"trial": 3}])
def test_omit_leaves_out_trials_whose_windows_hold_no_finite_sample(tmp_path, chunks):
    # the adversary's S8-2: omit refused such a session, advising the nan_policy='omit' it was given
    import warnings

    data = _dropped_block()
    path = dropped_frames_file(tmp_path, data)
    expected = (r"dropped\.nwb: TimeSeries 'processing/ophys/DfOverF/dff' \(session 's1'\): left out 2 of 10 "
                r"trials whose windows hold no finite sample in any channel/ROI .*trials \[3, 4\], windows from "
                r"\[6\.5, 8\.5\] s; attrs\['where'\] records it as 'id not in \[3, 4\]'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = read_nwb(path, window=(0.0, 1.0), nan_policy="omit", chunks=chunks)
        values = np.asarray(rec.values)  # a lazy array is read here
    messages = [str(w.message) for w in caught]
    assert sum("left out" in m for m in messages) == 1, messages
    assert re.search(expected, next(m for m in messages if "left out" in m))
    kept = [0, 1, 2, 5, 6, 7, 8, 9]
    assert rec.trial.values.tolist() == kept and rec.start_time.values.tolist() == [0.5 + 2 * k for k in kept]
    np.testing.assert_allclose(values, _window_means(data, kept), rtol=1e-12)
    assert rec.attrs["where"] == "id not in [3, 4]"
    # the record reads the same trials again, with nothing left to leave out
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        same = read_nwb(path, window=(0.0, 1.0), nan_policy="omit", where=rec.attrs["where"])
    assert not any("left out" in str(w.message) for w in again)
    np.testing.assert_allclose(same.values, values, rtol=1e-12)


def test_the_left_out_trials_join_a_where_given(tmp_path):
    path = dropped_frames_file(tmp_path, _dropped_block())
    with pytest.warns(UserWarning, match=r"left out 2 of 9 trials"):
        rec = read_nwb(path, window=(0.0, 1.0), nan_policy="omit", where="start_time > 1")
    assert rec.trial.values.tolist() == [1, 2, 5, 6, 7, 8, 9]
    assert rec.attrs["where"] == "(start_time > 1) and id not in [3, 4]"


def test_raise_names_the_trials_and_both_ways_out(tmp_path):
    path = dropped_frames_file(tmp_path, _dropped_block())
    expected = (r"found NaN/inf samples inside trial windows \(61 NaN/inf samples in 3 channels/ROIs\) in 3 of "
                r"10 trials \(ids \[3, 4, 6\]; first window 6\.5-7\.5 s\), with no finite sample at all in some "
                r"channel/ROI in 2 of 10 trials \(ids \[3, 4\]; .*pass nan_policy='omit'.*or leave these trials "
                r"out with where=")
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, window=(0.0, 1.0))


@pytest.mark.parametrize("chunks", [None, 4])
def test_omit_with_no_finite_sample_in_any_trial_is_refused(tmp_path, chunks):
    data = _frames()
    data[:] = np.nan
    path = dropped_frames_file(tmp_path, data)
    with pytest.raises(NWBError, match=r"dropped\.nwb.*found none in any channel/ROI in all 10 trials"):
        read_nwb(path, window=(0.0, 1.0), nan_policy="omit", chunks=chunks)


def test_one_roi_without_finite_samples_is_refused_naming_it_and_the_trial(tmp_path):
    # the other ROIs have frames there: the trial is not empty, and that ROI has no mean to give
    data = _frames()
    data[85:95, 2] = np.nan
    path = dropped_frames_file(tmp_path, data)
    with pytest.raises(NWBError) as caught:
        read_nwb(path, window=(0.0, 1.0), nan_policy="omit")
    message = str(caught.value)
    assert re.search(r"some channels/ROIs have only NaN/inf samples while others have finite ones \(10 NaN/inf "
                     r"samples in 1 channels/ROIs\) in 1 of 10 trials \(ids \[4\]; .*channels/ROIs \[2\].*where=",
                     message), message
    assert "pass nan_policy='omit'" not in message


def test_a_bin_without_finite_samples_leaves_its_trial_out(tmp_path):
    data = _frames()
    data[85:90] = np.nan  # trial 4's first 0.5 s bin
    path = dropped_frames_file(tmp_path, data)
    with pytest.warns(UserWarning, match=r"left out 1 of 10 trials whose window bins hold no finite sample"):
        rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.5, nan_policy="omit")
    assert rec.trial.values.tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    second = [data[10 + 20 * k: 15 + 20 * k].mean(axis=0) for k in rec.trial.values]  # frames of bin 1
    np.testing.assert_allclose(rec.values[:, :, 1], np.array(second), rtol=1e-12)


def test_spike_counts_do_not_depend_on_nan_policy(units_file):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        omitted = read_nwb(units_file, window=(0.0, 1.0), nan_policy="omit")
    assert omitted.values.tolist() == read_nwb(units_file, window=(0.0, 1.0)).values.tolist()
    assert omitted.attrs["where"] == ""
