"""``read_nwb(inputs=...)``: a stimulus/input TimeSeries read over the same trial windows and bins as the
neural data, checked against window means computed by hand on files built with pynwb directly."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb, read_sessions

from .conftest import add_trials, add_units, new_nwbfile, save

RATE = 10.0  # Hz; sample i of every series sits at i / RATE s
STARTS = [1.0, 3.0, 5.0]


def _file(tmp_path, name="s1", start="2026-02-01T10:00:00", drive=None, extra=()):
    """Units plus a 1-D stimulus series ``drive`` (default: sample i has value i**1.5) and ``extra`` series."""
    from pynwb import TimeSeries

    nwbfile = new_nwbfile(name, start)
    add_trials(nwbfile, starts=STARTS, stops=[s + 1.0 for s in STARTS], stimulus=["a", "b", "a"])
    add_units(nwbfile, [[1.1, 3.2, 5.3], [1.6, 5.9]])
    drive = np.arange(80, dtype=float) ** 1.5 if drive is None else drive
    nwbfile.add_stimulus(TimeSeries(name="drive", data=drive, unit="V", rate=RATE, starting_time=0.0))
    for series_name, data in extra:
        nwbfile.add_acquisition(TimeSeries(name=series_name, data=data, unit="a.u.", rate=RATE,
                                           starting_time=0.0))
    return save(nwbfile, tmp_path / f"{name}.nwb"), drive


def _hand_means(drive, window, bin_size):
    """Mean of the samples at times t with start <= t < stop, one plain loop per trial and bin."""
    times = np.arange(drive.size) / RATE
    n_bins = round((window[1] - window[0]) / bin_size)
    out = np.empty((len(STARTS), n_bins))
    for trial, start in enumerate(STARTS):
        for k in range(n_bins):
            lo = start + window[0] + k * bin_size
            inside = (times >= lo - 1e-9) & (times < lo + bin_size - 1e-9)
            out[trial, k] = drive[inside].mean()
    return out


def test_binned_inputs_are_bin_means_on_trial_and_time(tmp_path):
    path, drive = _file(tmp_path)
    rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.25, inputs="stimulus/presentation/drive")
    assert rec.drive.dims == ("trial", "time")
    np.testing.assert_allclose(rec.drive.values, _hand_means(drive, (0.0, 1.0), 0.25), rtol=1e-12)
    assert rec.drive.attrs["source_object"] == "/stimulus/presentation/drive"
    assert rec.drive.attrs["units"] == "V"
    assert rec.dims == ("trial", "neuron", "time")  # the neural data are unchanged by the option
    np.testing.assert_array_equal(rec.values, read_nwb(path, window=(0.0, 1.0), bin_size=0.25).values)


def test_unbinned_inputs_are_window_means_on_trial(tmp_path):
    path, drive = _file(tmp_path)
    rec = read_nwb(path, window=(0.0, 0.5), inputs=["/stimulus/presentation/drive"])
    assert rec.drive.dims == ("trial",)
    np.testing.assert_allclose(rec.drive.values, _hand_means(drive, (0.0, 0.5), 0.5)[:, 0], rtol=1e-12)


def test_several_inputs_and_a_one_column_2d_series(tmp_path):
    column = np.linspace(-1.0, 1.0, 80).reshape(-1, 1)
    path, drive = _file(tmp_path, extra=[("speed", column)])
    rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.5,
                   inputs=("stimulus/presentation/drive", "acquisition/speed"))
    np.testing.assert_allclose(rec.drive.values, _hand_means(drive, (0.0, 1.0), 0.5), rtol=1e-12)
    np.testing.assert_allclose(rec.speed.values, _hand_means(column[:, 0], (0.0, 1.0), 0.5), rtol=1e-12)


def test_chunked_reads_carry_the_same_inputs(tmp_path):
    path, drive = _file(tmp_path)
    rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.25, chunks=2, inputs="stimulus/presentation/drive")
    np.testing.assert_allclose(rec.drive.values, _hand_means(drive, (0.0, 1.0), 0.25), rtol=1e-12)


def test_read_sessions_passes_inputs_to_every_session(tmp_path):
    first, drive = _file(tmp_path, "s1", "2026-02-01T10:00:00")
    second, other = _file(tmp_path, "s2", "2026-02-02T10:00:00", drive=-np.arange(80, dtype=float))
    tree = read_sessions([second, first], window=(0.0, 1.0), bin_size=0.5, inputs="stimulus/presentation/drive")
    np.testing.assert_allclose(tree["s1"].dataset.responses.drive.values, _hand_means(drive, (0, 1), 0.5))
    np.testing.assert_allclose(tree["s2"].dataset.responses.drive.values, _hand_means(other, (0, 1), 0.5))


def test_missing_input_path_names_the_file_the_path_and_the_series_there_are(tmp_path):
    path, _ = _file(tmp_path)
    with pytest.raises(NWBError) as error:
        read_nwb(path, window=(0.0, 1.0), bin_size=0.5, inputs="stimulus/presentation/input")
    message = str(error.value)
    assert str(path) in message and "'stimulus/presentation/input'" in message
    assert "stimulus/presentation/drive" in message  # what could have been meant
    with pytest.raises(NWBError, match="found a .*without data"):
        read_nwb(path, inputs="stimulus")  # a group that is no TimeSeries


def test_multichannel_input_and_clashing_names_are_refused(tmp_path):
    path, _ = _file(tmp_path, extra=[("wide", np.zeros((80, 3))), ("stimulus", np.zeros(80))])
    with pytest.raises(NWBError, match=r"'acquisition/wide' to have one channel, found 3"):
        read_nwb(path, inputs="acquisition/wide")
    with pytest.raises(NWBError, match="'stimulus'.*clashing"):
        read_nwb(path, inputs="acquisition/stimulus")  # the trials table already has a column 'stimulus'
    with pytest.raises(NWBError, match="'drive' twice"):
        read_nwb(path, inputs=["stimulus/presentation/drive", "stimulus/presentation/drive"])
    with pytest.raises(NWBError, match="expected inputs= a TimeSeries path"):
        read_nwb(path, inputs=3)


def test_input_that_does_not_cover_a_window_is_refused(tmp_path):
    path, _ = _file(tmp_path, extra=[("short", np.zeros(30))])  # ends at 3 s, the second trial starts there
    with pytest.raises(NWBError, match="short.*inside the recording"):
        read_nwb(path, window=(0.0, 1.0), inputs="acquisition/short")


def test_an_electrical_series_input_is_scaled_by_its_channel_conversion(tmp_path):
    # a one-channel ElectricalSeries (e.g. a stimulation monitor) read as an input: its values are
    # data * conversion * channel_conversion[0], as read_nwb gives them for source= (NWB 2.1+)
    from pynwb.ecephys import ElectricalSeries

    nwbfile = new_nwbfile("s1", "2026-02-01T10:00:00")
    add_trials(nwbfile, starts=STARTS, stops=[s + 1.0 for s in STARTS], stimulus=["a", "b", "a"])
    add_units(nwbfile, [[1.1, 3.2, 5.3], [1.6, 5.9]])
    group = nwbfile.create_electrode_group(name="shank0", description="shank", location="CA1",
                                           device=nwbfile.create_device(name="probe"))
    nwbfile.add_electrode(group=group, location="CA1")
    region = nwbfile.create_electrode_table_region([0], "monitor electrode")
    drive = np.arange(80, dtype=float) ** 1.5
    nwbfile.add_acquisition(ElectricalSeries(name="monitor", data=drive.reshape(-1, 1), electrodes=region,
                                             rate=RATE, starting_time=0.0, conversion=1e-3,
                                             channel_conversion=[2.5]))
    path = save(nwbfile, tmp_path / "s1.nwb")
    rec = read_nwb(path, window=(0.0, 1.0), bin_size=0.5, inputs="acquisition/monitor")
    np.testing.assert_allclose(rec.monitor.values, _hand_means(drive, (0.0, 1.0), 0.5) * 1e-3 * 2.5, rtol=1e-12)
