"""describe_file / format_description: the inventory behind `neurolearn info FILE`."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import NWBError
from neurolearn.io import describe_file, format_description
from neurolearn.simulate.nwb import write_recording_nwb

from .conftest import file_hash


def test_units_file_inventory(units_file):
    before = file_hash(units_file)
    info = describe_file(units_file)
    assert file_hash(units_file) == before
    assert info["supported"] and info["session_id"] == "s1"
    assert info["units"] == [{"path": "units", "n_units": 2, "n_spikes": 17}]
    assert info["intervals"] == [
        {"path": "intervals/trials", "rows": 3,
         "columns": ["start_time", "stop_time", "stimulus", "correct", "target"]}
    ]
    assert info["default_source"] == "units"
    text = format_description(info)
    assert "/units: 2 units, 17 spikes" in text and "/intervals/trials: 3 rows" in text


def test_ophys_file_inventory(tmp_path, rng):
    rec = xr.DataArray(rng.normal(size=(3, 2)), dims=("trial", "neuron"), attrs={"window": (0.0, 1.0)})
    path = write_recording_nwb(rec, tmp_path / "o.nwb", kind="ophys", rng=rng, frame_rate=10.0)
    info = describe_file(path)
    (series,) = info["roi_response_series"]
    assert series["path"] == "processing/ophys/DfOverF/RoiResponseSeries" and series["parent"] == "DfOverF"
    assert series["shape"][1] == 2
    assert info["default_source"] == "processing/ophys/DfOverF/RoiResponseSeries"
    assert "ROI response series" in format_description(info)


def test_format_description_refuses_what_describe_file_did_not_return():
    with pytest.raises(NWBError, match="expected description= the dict describe_file returns, found str"):
        format_description("a.nwb")


def test_describe_file_says_subject_and_declared_cell_identity(tmp_path):
    counts = xr.DataArray(np.ones((2, 1), int), dims=("trial", "neuron"), attrs={"subject_id": "m4"})
    info = describe_file(write_recording_nwb(counts, tmp_path / "d.nwb", rng=0, tracked=False))
    assert info["subject_id"] == "m4" and info["tracked_cells"] is False
    assert "subject: m4; cell identity: declared not tracked" in format_description(info)
