"""The NWB writer: valid files (pynwb reads and validates them) whose read-back equals what was written."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.io import read_nwb, read_sessions
from neurolearn.simulate.nwb import rates_to_counts, write_recording_nwb, write_sessions_nwb
from neurolearn.simulate.recording import make_recording, make_session_tree


def _counts(rng, shape, window=(0.0, 1.0)):
    dims = ("trial", "neuron", "time")[: len(shape)]
    return xr.DataArray(
        rng.poisson(3.0, size=shape),
        dims=dims,
        coords={"neuron": np.arange(shape[1]) + 100, "stimulus": ("trial", np.arange(shape[0]) % 3),
                "depth": ("neuron", np.linspace(0.0, 1.0, shape[1]))},
        attrs={"window": window, "session_id": "sim", "session_start_time": "2026-05-01T08:30:00"},
    )


def test_unit_counts_round_trip_exactly_and_gap_spikes_are_not_counted(tmp_path, rng):
    truth = _counts(rng, (12, 5), window=(-0.25, 0.5))
    path = write_recording_nwb(truth, tmp_path / "units.nwb", rng=rng)
    rec = read_nwb(path, window=(-0.25, 0.5))
    np.testing.assert_array_equal(rec.values, truth.values)
    assert rec.neuron.values.tolist() == truth.neuron.values.tolist()
    np.testing.assert_allclose(rec.depth.values, truth.depth.values)
    assert rec.stimulus.values.tolist() == truth.stimulus.values.tolist()
    assert rec.attrs["session_id"] == "sim" and rec.attrs["session_start_time"] == "2026-05-01T08:30:00+00:00"
    with h5py.File(path, "r") as handle:
        n_spikes = handle["units/spike_times"].shape[0]
    assert n_spikes > truth.values.sum()  # extra spikes sit between trials, outside every window


def test_binned_counts_round_trip_exactly(tmp_path, rng):
    truth = _counts(rng, (6, 4, 5))
    path = write_recording_nwb(truth, tmp_path / "binned.nwb", rng=rng)
    rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.2)
    np.testing.assert_array_equal(rec.values, truth.values)


def test_simulated_recording_round_trips_through_ophys_with_its_trial_coords(tmp_path):
    truth = make_recording(np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]]), n_trials=4, noise_sd=0.3,
                           target=[1, -1], behavior=0.8, neuron_ids=[5, 6, 7], rng=3)
    path = write_recording_nwb(truth, tmp_path / "sim.nwb", kind="ophys", rng=0)
    rec = read_nwb(path, window=truth.attrs["window"])
    np.testing.assert_allclose(rec.values, truth.values, rtol=0, atol=1e-12)
    for coord in ("stimulus", "target", "correct"):
        assert rec[coord].values.tolist() == truth[coord].values.tolist()
    assert rec.correct.dtype == bool


def test_written_files_are_valid_nwb(tmp_path, rng):
    from pynwb import NWBHDF5IO, validate

    units = write_recording_nwb(_counts(rng, (3, 2)), tmp_path / "u.nwb", rng=rng)
    ophys = write_recording_nwb(_counts(rng, (3, 2)).astype(float), tmp_path / "o.nwb", kind="ophys", rng=rng)
    for path in (units, ophys):
        with NWBHDF5IO(str(path), "r") as io:
            nwbfile = io.read()
            assert len(nwbfile.trials) == 3
        assert list(validate(path=str(path))) == []


def test_sessions_from_a_tree_round_trip_in_start_order(tmp_path):
    recordings = [
        make_recording(np.eye(2), n_trials=2, session_id=f"day{d}",
                       session_start_time=f"2026-01-0{d}T09:00:00", neuron_ids=[1, 2], rng=d)
        for d in (3, 1, 2)
    ]
    paths = write_sessions_nwb(make_session_tree(recordings), tmp_path, kind="ophys", rng=0)
    assert sorted(p.name for p in paths) == ["day1.nwb", "day2.nwb", "day3.nwb"]
    tree = read_sessions(paths, window=(0.0, 1.0))
    assert list(tree.children) == ["day1", "day2", "day3"]
    np.testing.assert_allclose(tree["day1"].dataset["responses"].values, recordings[1].values, atol=1e-12)


def test_invalid_recordings_are_refused(tmp_path, rng):
    counts = _counts(rng, (2, 2))
    with pytest.raises(DataError, match="non-negative integer spike counts"):
        write_recording_nwb(counts + 0.5, tmp_path / "x.nwb")
    with pytest.raises(DataError, match="non-negative integer spike counts"):
        write_recording_nwb(-counts - 1, tmp_path / "x.nwb")
    with pytest.raises(DataError, match=r"dims \(trial, neuron\[, time\]\)"):
        write_recording_nwb(counts.rename(neuron="cell"), tmp_path / "x.nwb")
    with pytest.raises(DataError, match="kind 'units' or 'ophys'"):
        write_recording_nwb(counts, tmp_path / "x.nwb", kind="lfp")
    binned = _counts(rng, (2, 2, 50)).astype(float)
    with pytest.raises(DataError, match="at least one frame per window/bin"):
        write_recording_nwb(binned, tmp_path / "x.nwb", kind="ophys", frame_rate=30.0)


def test_rates_to_counts_has_poisson_mean_and_variance(rng):
    rates = xr.DataArray(np.full((4000, 2), 8.0), dims=("trial", "neuron"), attrs={"window": (0.0, 0.5)})
    counts = rates_to_counts(rates, rng=rng)
    # Poisson(4): mean 4, variance 4; standard error of the mean over 8000 draws is sqrt(4 / 8000) ~ 0.022
    assert abs(float(counts.mean()) - 4.0) < 0.1
    assert abs(float(counts.var()) - 4.0) < 0.3
    assert counts.attrs["units"] == "count"


def _integrator_tree():
    from neurolearn.simulate.rnn import simulate_integrator_sessions

    tree, _ = simulate_integrator_sessions(3, n_neurons=12, n_steps=60, n_trials=8, n_time=16, dt=0.25, rng=3)
    return tree


@pytest.mark.parametrize("frame_rate, timestamps", [(4.0, False), (8.0, True), (12.0, False)])
def test_input_coord_round_trips_per_trial_and_time_bin(tmp_path, frame_rate, timestamps):
    truth = _integrator_tree()["day01"].dataset.responses
    assert truth.input.dims == ("trial", "time")
    path = write_recording_nwb(truth, tmp_path / "rnn.nwb", kind="ophys", rng=0, frame_rate=frame_rate,
                               timestamps=timestamps)
    rec = read_nwb(path, window=truth.attrs["window"], bin_size=0.25, inputs="stimulus/presentation/input")
    if frame_rate == 4.0:  # one frame per bin: the value itself
        np.testing.assert_array_equal(rec.input.values, truth.input.values)
    else:  # the mean of a few equal frames: the value up to rounding
        np.testing.assert_allclose(rec.input.values, truth.input.values, rtol=1e-14, atol=0)
    np.testing.assert_allclose(rec.values, truth.values, rtol=0, atol=1e-12)
    if timestamps:
        return  # jittered frames weight the two halves of a coarser bin unequally
    # a coarser read averages the held values: bins of 0.5 s are means of two consecutive inputs
    coarse = read_nwb(path, window=truth.attrs["window"], bin_size=0.5, inputs="stimulus/presentation/input")
    pairs = truth.input.values.reshape(truth.sizes["trial"], -1, 2).mean(axis=2)
    np.testing.assert_allclose(coarse.input.values, pairs, rtol=1e-12)


def test_file_with_input_is_valid_nwb_and_units_or_untimed_recordings_write_none(tmp_path, rng):
    from pynwb import validate

    truth = _integrator_tree()["day00"].dataset.responses
    path = write_recording_nwb(truth, tmp_path / "rnn.nwb", kind="ophys", rng=0, frame_rate=4.0)
    assert list(validate(path=str(path))) == []
    untimed = write_recording_nwb(_counts(rng, (3, 2)).astype(float), tmp_path / "o.nwb", kind="ophys", rng=rng)
    with h5py.File(path, "r") as with_input, h5py.File(untimed, "r") as without:
        assert "stimulus/presentation/input" in with_input
        assert "stimulus/presentation/input" not in without


def test_summarize_on_the_round_tripped_tree_matches_the_in_memory_tree(tmp_path):
    from neurolearn.stats import summarize

    tree = _integrator_tree()
    paths = write_sessions_nwb(tree, tmp_path, kind="ophys", rng=0, frame_rate=4.0)
    window = tree["day00"].dataset.responses.attrs["window"]
    back = read_sessions(paths, window=window, bin_size=0.25, inputs="stimulus/presentation/input")
    options = {"readout": False, "n_boot": 20, "random_state": 0}
    expected = summarize(tree, **options)
    found = summarize(back, **options)
    np.testing.assert_allclose(found.outlier_eigenvalue.values, expected.outlier_eigenvalue.values,
                               rtol=0, atol=1e-8)
    # without the input the early outlier is a different number: the input is what the fit needs
    blind = summarize(read_sessions(paths, window=window, bin_size=0.25), **options)
    assert np.max(np.abs(blind.outlier_eigenvalue.values - expected.outlier_eigenvalue.values)) > 1e-3


def test_the_file_declares_cell_tracking_and_the_subject_where_pynwb_sees_them(tmp_path, rng):
    from pynwb import NWBHDF5IO, validate

    recording = _counts(rng, (3, 2)).assign_attrs(subject_id="mouse1")
    tracked = write_recording_nwb(recording, tmp_path / "t.nwb", rng=rng)
    untracked = write_recording_nwb(recording.assign_attrs(tracked=False), tmp_path / "u.nwb", rng=rng)
    for path, declared in ((tracked, "true"), (untracked, "false")):
        assert list(validate(path=str(path))) == []
        with NWBHDF5IO(str(path), "r") as io:
            nwbfile = io.read()
            assert nwbfile.notes.startswith(f"neurolearn.tracked_cells: {declared}")
            assert nwbfile.subject.subject_id == "mouse1"
    assert read_nwb(tracked).neuron.values.tolist() == [100, 101]
    back = read_nwb(untracked)
    assert back.neuron.values.tolist() == ["sim/100", "sim/101"] and back.attrs["subject_id"] == "mouse1"


def test_two_animals_same_day_name_are_two_recordings_and_a_rewrite_is_one(tmp_path, rng):
    """The NWB identifier names a recording: two animals' 'day00' differ (before, both files held the
    identifier 'day00' and read_sessions refused them as one recording copied); one recording written twice
    keeps one identifier, so the loader's copy check still sees it."""
    counts = rng.poisson(3.0, size=(4, 3))
    paths = []
    for subject in ("m1", "m2"):
        recording = xr.DataArray(counts, dims=("trial", "neuron"), coords={"neuron": [1, 2, 3]},
                                 attrs={"session_id": "day00", "subject_id": subject, "window": (0.0, 0.5)})
        paths.append(write_recording_nwb(recording, tmp_path / f"{subject}_day00.nwb", rng=0))
    again = write_recording_nwb(read_nwb(paths[0], window=(0.0, 0.5)).assign_attrs(subject_id="m1"),
                                tmp_path / "copy.nwb", rng=0)
    identifiers = [read_nwb(p, window=(0.0, 0.5)).attrs["nwb_identifier"] for p in (*paths, again)]
    assert identifiers[0] != identifiers[1]
    assert identifiers[0] == identifiers[2]
    tree = read_sessions(paths, window=(0.0, 0.5))
    assert len(tree.children) == 2
