"""Files written the way labs write them (pynwb, then h5py for layouts pynwb does not produce): blank and
padded areas, placeholder electrode locations, blank-padded string codings, boolean columns, gapped ids."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb
from neurolearn.stats.areas import area_names

from .conftest import add_trials, file_hash, new_nwbfile, save


def _located_units(tmp_path, locations, name="located.nwb", **file_kw):
    nwbfile = new_nwbfile(**file_kw)
    nwbfile.add_unit_column(name="location", description="brain area")
    for unit, stated in enumerate(locations):
        nwbfile.add_unit(spike_times=[0.5 + 0.01 * unit], location=stated)
    add_trials(nwbfile, starts=[0.0], stops=[1.0])
    return save(nwbfile, tmp_path / name)


def test_blank_and_whitespace_locations_are_unstated_and_padding_is_not_a_new_area(tmp_path):
    # a lab's sheet: "V1", "V1 " (trailing blank), " " and "" (not filled in), "Unknown"
    path = _located_units(tmp_path, ["V1", "V1 ", " ", "", "Unknown", " LM"])
    rec = read_nwb(path)
    assert rec.location.values.tolist() == ["V1", "V1", "", "", "", "LM"]
    # unstated ("") is no area: summarize_areas leaves those units out with a warning (tests/stats/test_areas.py)
    assert area_names({"s": rec}) == ["V1", "LM"]


def test_fixed_length_padded_location_bytes_name_the_same_area(tmp_path):
    path = _located_units(tmp_path, ["V1", "V1", "LM", "LM"])
    with h5py.File(path, "r+") as handle:  # MATLAB-style fixed-length, blank-padded strings
        column = handle["units/location"]
        attrs = dict(column.attrs)
        del handle["units/location"]
        padded = np.array([b"V1  ", b"V1", b"LM ", b"LM"], "S4")
        column = handle["units"].create_dataset("location", data=padded)
        column.attrs.update(attrs)
    assert read_nwb(path).location.values.tolist() == ["V1", "V1", "LM", "LM"]


def test_locations_that_state_nothing_anywhere_give_no_location_coord(tmp_path):
    # as for ROIs whose plane says "unknown": no area is known, so summarize_areas refuses rather than
    # summarising an area called "unknown"
    path = _located_units(tmp_path, ["unknown", "", " ", "N/A"])
    assert "location" not in read_nwb(path).coords


def _outcome_file(tmp_path, outcomes):
    nwbfile = new_nwbfile()
    nwbfile.add_unit(spike_times=[0.5, 2.5, 4.5])
    add_trials(nwbfile, starts=[0.0, 2.0, 4.0], stops=[1.0, 3.0, 5.0], outcome=list(outcomes),
               go=[True, False, True], stim_id=[3, 7, 12])
    return save(nwbfile, tmp_path / "outcomes.nwb")


def test_space_padded_fixed_length_trial_strings_are_the_codes_without_padding(tmp_path):
    # a MATLAB char matrix written as fixed-length strings pads every code with blanks to the longest one;
    # behavior={"outcome": {"Hit": 1, "Miss": 0}} must find "Hit", not "Hit        "
    path = _outcome_file(tmp_path, ["Hit", "Miss", "no response"])
    with h5py.File(path, "r+") as handle:
        table = handle["intervals/trials"]
        attrs = dict(table["outcome"].attrs)
        del table["outcome"]
        padded = np.array([b"Hit        ", b"Miss       ", b"no response"], dtype="S11")
        table.create_dataset("outcome", data=padded).attrs.update(attrs)
    before = file_hash(path)
    rec = read_nwb(path)
    assert rec.outcome.values.tolist() == ["Hit", "Miss", "no response"]
    assert file_hash(path) == before


def test_string_codings_booleans_and_gapped_integer_ids_keep_their_values_and_types(tmp_path):
    rec = read_nwb(_outcome_file(tmp_path, ["Hit", "FA", "no response"]))
    assert rec.outcome.values.tolist() == ["Hit", "FA", "no response"]
    assert rec.go.dtype == bool and rec.go.values.tolist() == [True, False, True]
    assert rec.stim_id.dtype.kind == "i" and rec.stim_id.values.tolist() == [3, 7, 12]


def _lfp_file(tmp_path, electrode_locations, group_areas):
    from pynwb.ecephys import LFP, ElectricalSeries

    nwbfile = new_nwbfile()
    device = nwbfile.create_device("probe")
    groups = [nwbfile.create_electrode_group(f"shank{n}", "shank", area, device) for n, area in
              enumerate(group_areas)]
    for channel, stated in enumerate(electrode_locations):
        nwbfile.add_electrode(group=groups[channel * len(groups) // len(electrode_locations)], location="x")
    lfp = LFP(name="LFP")
    nwbfile.create_processing_module("ecephys", "LFP").add(lfp)
    n = len(electrode_locations)
    lfp.add_electrical_series(ElectricalSeries(
        name="lfp", data=np.ones((40, n)), rate=10.0,
        electrodes=nwbfile.create_electrode_table_region(list(range(n)), "all")))
    add_trials(nwbfile, starts=[0.0, 2.0], stops=[1.0, 3.0])
    path = save(nwbfile, tmp_path / "lfp.nwb")
    with h5py.File(path, "r+") as handle:  # pynwb refuses a blank location; a lab's own writer does not
        handle["general/extracellular_ephys/electrodes/location"][...] = electrode_locations
    return path


def test_electrode_channels_with_placeholder_locations_take_their_groups_area(tmp_path):
    # NeuroConv writes "unknown" per electrode when only the probe's groups know the area; a hand-filled
    # sheet leaves blanks and pads; the LFP's location coord is what summarize_areas splits by
    path = _lfp_file(tmp_path, ["unknown", "unknown", " CA1 ", ""], ["VISp", "CA1"])
    rec = read_nwb(path, window=(0.0, 0.5))
    assert rec.location.values.tolist() == ["VISp", "VISp", "CA1", "CA1"]


def test_electrode_channels_whose_location_is_stated_nowhere_have_no_location_coord(tmp_path):
    path = _lfp_file(tmp_path, ["unknown", ""], [""])
    assert "location" not in read_nwb(path, window=(0.0, 0.5)).coords


def test_roi_location_column_left_blank_falls_through_to_the_imaging_planes_area(tmp_path):
    from .test_read_ophys import _suite2p_like_file

    path = _suite2p_like_file(tmp_path, location="VISp", with_location_column=True)  # ROIs 10-12: ALM, M1, ALM
    with h5py.File(path, "r+") as handle:  # the sheet's per-ROI area filled in for ROI 10 only
        table = handle["processing/ophys/ImageSegmentation/PlaneSegmentation"]
        table["location"][...] = ["ALM ", "", "unknown"]
    rec = read_nwb(path)  # the series holds ROIs 12 and 10
    assert rec.unit_id.values.tolist() == [12, 10]
    assert rec.location.values.tolist() == ["VISp", "ALM"]


def _spiking_file(tmp_path, trains):
    nwbfile = new_nwbfile()
    for train in trains:
        nwbfile.add_unit(spike_times=np.asarray(train, dtype=float))
    add_trials(nwbfile, starts=[0.0, 2.0], stops=[1.0, 3.0])
    return save(nwbfile, tmp_path / "spikes.nwb")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_spike_time_is_refused_naming_only_the_units_that_hold_it(tmp_path, bad):
    # a sorter's export with a missing (NaN) or sentinel (inf) time in unit 3 of 5: the message must point
    # at unit 3, not at every unit read in the same block
    trains = [[0.5, 2.5]] * 3 + [[0.5, bad, 2.5]] + [[0.6]]
    path = _spiking_file(tmp_path, trains)
    with pytest.raises(NWBError, match=r"spikes\.nwb: units table 'units': expected finite spike times, "
                                       r"found 1 (NaN|inf|-inf) in units \[3\]"):
        read_nwb(path)


def test_trials_dropped_for_an_infinite_start_say_so(tmp_path):
    nwbfile = new_nwbfile()
    nwbfile.add_unit(spike_times=[0.5, 2.5, 4.5])
    add_trials(nwbfile, starts=[0.0, 2.0, 4.0], stops=[1.0, 3.0, 5.0])
    path = save(nwbfile, tmp_path / "inf_start.nwb")
    with h5py.File(path, "r+") as handle:
        handle["intervals/trials/start_time"][1] = np.inf
    with pytest.warns(UserWarning, match=r"dropped 1 of 3 trials whose 'start_time' is not finite "
                                         r"\(0 NaN, 1 infinite\)"):
        rec = read_nwb(path)
    assert rec.trial.values.tolist() == [0, 2]
