"""read_nwb: exact values on files with known content, the data model, and errors that name the file."""

from __future__ import annotations


import h5py
import numpy as np
import pytest
import xarray as xr

from neurolearn.data import REQUIRED_ATTRS, validate_recording
from neurolearn.errors import NWBError
from neurolearn.io import read_nwb
from neurolearn.simulate.nwb import write_recording_nwb

from .conftest import add_trials, add_units, file_hash, new_nwbfile, save
from .test_read_ophys import _dff_recording


def plain_counts(trains, starts, stops):
    """Spike counts by a plain loop over every spike (independent of the searchsorted implementation)."""
    out = np.zeros((len(starts), len(trains)), dtype=int)
    for unit, train in enumerate(trains):
        for trial, (a, b) in enumerate(zip(starts, stops)):
            out[trial, unit] = sum(1 for t in train if a <= t < b)
    return out


# --- units --------------------------------------------------------------------------------------------------


def test_unit_counts_match_hand_counts_and_follow_the_data_model(units_file):
    rec = read_nwb(units_file)
    # window [start, start+1): unit 7 -> 1.0,1.2,1.99 | 3.5 | 5.25,5.5,5.75
    #                          unit 9 -> 1.5 | 3.1,3.2,3.3,3.999 | none
    assert rec.values.tolist() == [[3, 1], [1, 4], [3, 0]]
    assert rec.dims == ("trial", "neuron")
    assert rec.name == "responses"
    assert rec.unit_id.values.tolist() == [7, 9]
    # a file that does not declare tracking: ids unique to the session, never mistaken for other days' cells
    assert rec.neuron.values.tolist() == ["s1/7", "s1/9"] and rec.attrs["tracked"] is False
    assert set(REQUIRED_ATTRS) <= set(rec.attrs)
    assert rec.attrs["units"] == "count" and rec.attrs["source_object"] == "/units"
    assert rec.attrs["session_id"] == "s1"
    assert rec.attrs["session_start_time"].startswith("2026-02-01T10:00:00")
    validate_recording(rec)


def test_string_bool_and_int_columns_become_trial_coords(units_file):
    rec = read_nwb(units_file)
    assert rec.stimulus.values.tolist() == ["A", "B", "A"]
    assert rec.correct.dtype == bool and rec.correct.values.tolist() == [True, False, True]
    assert rec.target.values.tolist() == [1, -1, 1]
    assert rec.start_time.values.tolist() == [1.0, 3.0, 5.0]


def test_binned_counts_have_time_as_bin_centres_relative_to_align(units_file):
    rec = read_nwb(units_file, window=(-0.5, 1.0), bin_size=0.5)
    assert rec.dims == ("trial", "neuron", "time")
    np.testing.assert_allclose(rec.time.values, [-0.25, 0.25, 0.75])
    trains = [[0.5, 1.0, 1.2, 1.99, 2.0, 3.5, 5.25, 5.5, 5.75, 7.0], [1.5, 3.1, 3.2, 3.3, 3.999, 4.0, 6.5]]
    for k, offset in enumerate([-0.5, 0.0, 0.5]):
        starts = np.array([1.0, 3.0, 5.0]) + offset
        np.testing.assert_array_equal(rec.values[:, :, k], plain_counts(trains, starts, starts + 0.5))


def test_rates_divide_counts_by_the_window(units_file):
    rec = read_nwb(units_file, window=(0.0, 0.5), rates=True)
    assert rec.attrs["units"] == "spikes/s"
    counts = read_nwb(units_file, window=(0.0, 0.5))
    np.testing.assert_allclose(rec.values, counts.values / 0.5)


def test_random_spikes_match_a_plain_loop(tmp_path, rng):
    trains = [np.sort(rng.uniform(0, 30, size=n)) for n in rng.integers(0, 200, size=6)]
    starts = np.sort(rng.uniform(0, 28, size=15))
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts, starts + 0.7)
    add_units(nwbfile, trains)
    path = save(nwbfile, tmp_path / "random.nwb")
    rec = read_nwb(path, window=(-0.2, 0.9), bin_size=0.1)
    for k in range(rec.sizes["time"]):
        lo = starts - 0.2 + 0.1 * k
        expected = plain_counts(trains, lo, lo + 0.1)
        # a spike within rounding of a bin edge may fall on either side; demand exactness elsewhere
        assert np.abs(rec.values[:, :, k] - expected).sum() <= 1
    whole = read_nwb(path, window=(-0.2, 0.9))
    np.testing.assert_array_equal(whole.values, plain_counts(trains, starts - 0.2, starts + 0.9))
    np.testing.assert_array_equal(rec.sum("time").values, whole.values)


def test_overlapping_trials_stay_separate(tmp_path):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 0.5, 0.5], stops=[1.0, 1.5, 1.5])  # the last two are the same interval
    add_units(nwbfile, [[0.25, 0.75, 1.25]])
    path = save(nwbfile, tmp_path / "overlap.nwb")
    with pytest.warns(UserWarning, match=r"1 of 3 rows repeat another row in every column \(row 2 = row 1\).*"
                                         r"pseudo-replication"):
        rec = read_nwb(path)  # kept (a user may mean two trials), but named: adversary F23
    assert rec.sizes["trial"] == 3
    assert rec.values[:, 0].tolist() == [2, 2, 2]


def test_a_trials_dataframe_with_repeated_rows_is_named_once(tmp_path):
    import warnings

    import pandas as pd

    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 2.0], stops=[1.0, 3.0])
    add_units(nwbfile, [[0.25, 2.5]])
    path = save(nwbfile, tmp_path / "frame.nwb")
    frame = pd.DataFrame({"start_time": [0.0, 2.0, 4.0, 0.0, 2.0], "stop_time": [1.0, 3.0, 5.0, 1.0, 3.0],
                          "stimulus": ["a", "b", "a", "a", "b"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_nwb(path, trials=frame, window=(0.0, 0.5))
    repeated = [str(w.message) for w in caught if "repeat another row" in str(w.message)]
    assert len(repeated) == 1 and "2 of 5 rows" in repeated[0] and "row 3 = row 0, row 4 = row 1" in repeated[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_nwb(path, trials=frame.drop_duplicates(), window=(0.0, 0.5))
    assert not [w for w in caught if "repeat another row" in str(w.message)]


def test_align_on_any_numeric_column(tmp_path):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 10.0], stops=[5.0, 15.0], cue_time=[2.0, 13.0])
    add_units(nwbfile, [[1.0, 2.1, 2.2, 11.0, 13.5]])
    path = save(nwbfile, tmp_path / "cue.nwb")
    rec = read_nwb(path, align="cue_time", window=(0.0, 1.0))
    assert rec.values[:, 0].tolist() == [2, 1]
    assert rec.attrs["align"] == "cue_time"
    expected = r"align='nope'.*numeric columns \['start_time', 'stop_time', 'cue_time'\]"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, align="nope")


def test_nan_align_values_drop_trials_with_a_warning(tmp_path):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 10.0, 20.0], stops=[5.0, 15.0, 25.0], cue_time=[1.0, np.nan, 21.0])
    add_units(nwbfile, [[1.5, 21.5, 21.6]])
    path = save(nwbfile, tmp_path / "nan_cue.nwb")
    with pytest.warns(UserWarning, match="dropped 1 of 3 trials"):
        rec = read_nwb(path, align="cue_time")
    assert rec.values[:, 0].tolist() == [1, 2]


def test_unsorted_spike_times_are_sorted_with_a_warning(tmp_path):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 2.0], stops=[1.0, 3.0])
    trains = [[2.5, 0.5, 0.1, 2.2], [0.3, 2.9]]
    add_units(nwbfile, trains, ids=[4, 5])
    path = save(nwbfile, tmp_path / "unsorted.nwb")
    with pytest.warns(UserWarning, match=r"1 unit\(s\) were not sorted .*units \[4\]"):
        rec = read_nwb(path)
    np.testing.assert_array_equal(rec.values, plain_counts(trains, [0.0, 2.0], [1.0, 3.0]))


def test_nan_spike_times_are_refused(tmp_path):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    add_units(nwbfile, [[0.1, np.nan, 0.5]])
    path = save(nwbfile, tmp_path / "nan_spikes.nwb")
    with pytest.raises(NWBError, match=r"nan_spikes\.nwb.*expected finite spike times, found 1 NaN"):
        read_nwb(path)


def test_integer_spike_times_sample_indices_are_refused(tmp_path):
    import h5py

    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    add_units(nwbfile, [[0.1, 0.5]])
    path = save(nwbfile, tmp_path / "samples.nwb")
    with h5py.File(path, "r+") as handle:  # an h5py converter writing samples at 30 kHz
        del handle["units/spike_times"]
        handle["units/spike_times"] = np.array([3000, 15000], dtype=np.int64)
    with pytest.raises(NWBError, match=r"samples\.nwb.*expected spike_times in seconds .*found integers \(int64\)"):
        read_nwb(path)


def test_repeated_trial_ids_are_read_as_rows_with_a_warning(tmp_path):
    import h5py

    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[0.0, 2.0, 4.0], stops=[1.0, 3.0, 5.0])
    add_units(nwbfile, [[0.5, 2.5, 4.5]])
    path = save(nwbfile, tmp_path / "ids.nwb")
    with h5py.File(path, "r+") as handle:  # a writer that left every trial id 0
        handle["intervals/trials/id"][:] = 0
    with pytest.warns(UserWarning, match=r"ids repeat \(1 distinct for 3 trials\)"):
        rec = read_nwb(path)
    assert rec.values.tolist() == [[1], [1], [1]]


def test_window_outside_the_recording_is_refused(units_file):
    expected = r"units\.nwb.*expected trial windows inside the recording.*found 3 of 3 windows wholly before the first spike or after the last"
    with pytest.raises(NWBError, match=expected):
        read_nwb(units_file, window=(100.0, 101.0))
    # the CLI's --window 0 1e6: every window starts inside but nearly all of its time is unrecorded
    with pytest.raises(NWBError, match=r"found 100% of all window time outside both the spikes. and the trials. span"):
        read_nwb(units_file, window=(0.0, 1e6))
    # a window of one trial beyond every spike (7.0 s) holds no observation: that trial is left out, with a
    # warning naming it; the others are counted by hand (half-open windows [3.1, 3.5) and [5.1, 5.5))
    with pytest.warns(UserWarning, match=r"left out 1 of 3 trials whose windows lie outside the span of recorded "
                                         r"spikes \(0\.5-7 s, over all 2 units; 1 after the last\).*\(trials \[2\]\)"):
        rec = read_nwb(units_file, window=(2.1, 2.5))
    assert rec.trial.values.tolist() == [0, 1] and rec.stimulus.values.tolist() == ["A", "B"]
    assert rec.values.tolist() == [[0, 3], [1, 0]]


def test_bad_window_and_bin_size_are_refused(units_file):
    with pytest.raises(NWBError, match="start < stop"):
        read_nwb(units_file, window=(1.0, 0.0))
    for bad in (5, "0 1", (0.0,), (0.0, "1"), (0.0, float("nan")), [[0, 1]], False):
        with pytest.raises(NWBError, match=r"expected window=\(start, stop\)"):
            read_nwb(units_file, window=bad)
    # None is the default window, (0, 1) s (with a warning where it reaches past a trial: test_windows.py)
    default = read_nwb(units_file, window=None)
    assert default.attrs["window"] == (0.0, 1.0)
    np.testing.assert_array_equal(default.values, read_nwb(units_file, window=(0.0, 1.0)).values)
    for bad in (0, -0.1, "0.1", True):
        with pytest.raises(NWBError, match="expected bin_size="):
            read_nwb(units_file, bin_size=bad)
    with pytest.raises(NWBError, match="dividing the window"):
        read_nwb(units_file, window=(0.0, 1.0), bin_size=0.3)


def test_unit_columns_and_electrode_locations_become_neuron_coords(tmp_path):
    nwbfile = new_nwbfile()
    device = nwbfile.create_device(name="probe")
    group = nwbfile.create_electrode_group(name="shank", description="shank", location="CA1", device=device)
    for location in ["CA1", "CA3"]:
        nwbfile.add_electrode(location=location, group=group)
    nwbfile.add_unit_column(name="quality", description="sorting quality")
    nwbfile.add_unit(spike_times=[0.5], electrodes=[1], quality="good")
    nwbfile.add_unit(spike_times=[0.6], electrodes=[0], quality="mua")
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    path = save(nwbfile, tmp_path / "located.nwb")
    rec = read_nwb(path)
    assert rec.location.values.tolist() == ["CA3", "CA1"]
    assert rec.quality.values.tolist() == ["good", "mua"]
    assert rec.location.dims == ("neuron",)


def test_an_electrode_location_that_states_nothing_falls_through_to_the_electrode_group(tmp_path):
    # NeuroConv writes "unknown" per electrode when only the probes' groups know the area
    nwbfile = new_nwbfile()
    device = nwbfile.create_device(name="Neuropixels")
    groups = [nwbfile.create_electrode_group(name=name, description="", location=area, device=device)
              for name, area in (("imec0", "CA1"), ("imec1", "VISp"))]
    for channel, stated in enumerate(["unknown", "unknown", "unknown", "LP"]):
        nwbfile.add_electrode(location=stated, group=groups[channel // 2])
    for unit in range(4):
        nwbfile.add_unit(spike_times=[0.5], electrodes=[unit], electrode_group=groups[unit // 2])
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    rec = read_nwb(save(nwbfile, tmp_path / "probes.nwb"))
    assert rec.location.values.tolist() == ["CA1", "CA1", "VISp", "LP"]  # a stated electrode location is kept


def test_a_units_location_that_states_nothing_falls_through_unit_by_unit(tmp_path):
    nwbfile = new_nwbfile()
    device = nwbfile.create_device(name="Neuropixels")
    group = nwbfile.create_electrode_group(name="imec0", description="", location="VISp", device=device)
    for stated in ("CA1", "CA3"):
        nwbfile.add_electrode(location=stated, group=group)
    nwbfile.add_unit_column(name="location", description="brain area")
    for unit, stated in enumerate(["LP", "", "unknown"]):
        nwbfile.add_unit(spike_times=[0.5], electrodes=[min(unit, 1)], electrode_group=group, location=stated)
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    rec = read_nwb(save(nwbfile, tmp_path / "located.nwb"))
    assert rec.location.values.tolist() == ["LP", "CA3", "CA3"]


# --- trials tables ------------------------------------------------------------------------------------------


def test_any_interval_table_by_name_and_missing_table_lists_the_available(tmp_path):
    from pynwb.epoch import TimeIntervals

    nwbfile = new_nwbfile()
    table = TimeIntervals(name="recognition_table", description="memory test")
    table.add_column(name="old_new", description="old or new")
    table.add_row(start_time=0.0, stop_time=1.0, old_new="old")
    table.add_row(start_time=2.0, stop_time=3.0, old_new="new")
    nwbfile.add_time_intervals(table)
    add_units(nwbfile, [[0.5, 2.5, 2.6]])
    path = save(nwbfile, tmp_path / "tables.nwb")
    rec = read_nwb(path, trials="recognition")
    assert rec.values[:, 0].tolist() == [1, 2] and rec.old_new.values.tolist() == ["old", "new"]
    assert rec.attrs["trials_table"] == "intervals/recognition_table"
    expected = r"tables\.nwb: expected an interval table 'trials'.*intervals/recognition_table"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path)


def test_ragged_and_reference_columns_are_skipped_with_a_warning_naming_them(tmp_path):
    nwbfile = new_nwbfile()
    nwbfile.add_trial_column(name="licks", description="lick times", index=True)
    nwbfile.add_trial_column(name="side", description="side")
    nwbfile.add_trial(start_time=0.0, stop_time=1.0, licks=[0.2, 0.3], side="left")
    nwbfile.add_trial(start_time=2.0, stop_time=3.0, licks=[2.5], side="right")
    add_units(nwbfile, [[0.5, 2.5]])
    path = save(nwbfile, tmp_path / "ragged.nwb")
    with pytest.warns(UserWarning, match=r"skipped columns .*\['licks'\]"):
        rec = read_nwb(path)
    assert "licks" not in rec.coords and rec.side.values.tolist() == ["left", "right"]


def test_trials_may_be_a_dataframe(units_file):
    import pandas as pd

    frame = pd.DataFrame({"start_time": [1.0, 5.0], "label": ["x", "y"]})
    rec = read_nwb(units_file, trials=frame)
    assert rec.values.tolist() == [[3, 1], [3, 0]] and rec.label.values.tolist() == ["x", "y"]
    # pandas' missing strings stay missing (summarize excludes and counts them), never the label "nan"
    gaps = pd.DataFrame({"start_time": [1.0, 5.0], "label": ["x", None]})
    labels = read_nwb(units_file, trials=gaps).label.values.tolist()
    assert labels[0] == "x" and pd.isna(labels[1])


# --- laziness -----------------------------------------------------------------------------------------------


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("a lazy read computed something")


@pytest.mark.parametrize("kind", ["units", "ophys"])
def test_chunks_give_lazy_dask_data_that_only_reads_on_compute(tmp_path, rng, kind):
    import dask
    import dask.array as da

    if kind == "units":
        counts = rng.poisson(3.0, size=(9, 5))
        truth = xr.DataArray(counts, dims=("trial", "neuron"), attrs={"window": (0.0, 1.0)})
    else:
        truth = _dff_recording(rng, n_trials=9)
    path = write_recording_nwb(truth, tmp_path / f"lazy_{kind}.nwb", kind=kind, rng=rng)
    window = truth.attrs["window"]
    with dask.config.set(scheduler=_refuse_to_compute):
        rec = read_nwb(path, window=window, chunks={"trial": 4, "neuron": 2})
        assert isinstance(rec.data, da.Array)
        assert rec.data.chunks == ((4, 4, 1), (2, 2, 1) if kind == "units" else (2, 2))
        summed = rec.sum("trial")  # still lazy: building the graph reads nothing
    with dask.config.set(scheduler="sync"):
        np.testing.assert_allclose(rec.values, truth.values, atol=1e-12)
        np.testing.assert_allclose(summed.values, truth.values.sum(axis=0), atol=1e-9)


def test_lazy_binned_counts_equal_eager(tmp_path, rng):
    import dask

    truth = xr.DataArray(rng.poisson(2.0, size=(7, 3, 4)), dims=("trial", "neuron", "time"),
                         attrs={"window": (0.0, 1.0)})
    path = write_recording_nwb(truth, tmp_path / "lazy_bins.nwb", rng=rng)
    with dask.config.set(scheduler="sync"):
        lazy = read_nwb(path, bin_size=0.25, chunks=3).compute()
    np.testing.assert_array_equal(lazy.values, truth.values)


# --- files are never changed --------------------------------------------------------------------------------


def test_reading_leaves_the_file_byte_identical(units_file, tmp_path, rng):
    before = file_hash(units_file)
    read_nwb(units_file)
    read_nwb(units_file, bin_size=0.5, chunks=1).compute()
    assert file_hash(units_file) == before
    with h5py.File(units_file, "r") as handle:
        assert handle.mode == "r"
