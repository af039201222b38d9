"""Opening files: every unreadable input is an NWBError that names the file and says what was found."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import describe_file, read_nwb
from neurolearn.io.kinds import find_sources
from neurolearn.io.nwbfile import decode, open_nwb

from .conftest import file_hash


def _truncated_copy(source, target):
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def _bad_inputs(tmp_path, units_file):
    text = tmp_path / "notes.nwb"
    text.write_text("not an HDF5 file\n" * 20)
    zero = tmp_path / "zero.nwb"
    zero.write_bytes(b"")
    empty = tmp_path / "empty.nwb"
    h5py.File(empty, "w").close()
    no_version = tmp_path / "no_version.nwb"
    with h5py.File(no_version, "w") as handle:
        handle.create_group("acquisition")
    nwb1 = tmp_path / "old.nwb"
    with h5py.File(nwb1, "w") as handle:
        handle["nwb_version"] = "NWB-1.0.6"
        handle.create_group("acquisition/timeseries")
        handle.create_group("epochs")
    return {
        "missing": (tmp_path / "nope.nwb", "found no such path"),
        "directory": (tmp_path, "found a directory"),
        "text": (text, "without an HDF5 signature"),
        "zero bytes": (zero, "empty file"),
        "empty hdf5": (empty, "HDF5 file with no groups and no nwb_version"),
        "truncated": (_truncated_copy(units_file, tmp_path / "truncated.nwb"), "damaged or truncated"),
        "no version": (no_version, r"expected an NWB 2.x file .*top-level entries: \['acquisition'\]"),
        "nwb 1.x": (nwb1, r"NWB 1.x file \(version NWB-1.0.6\) is not supported; expected NWB 2.x. Convert"),
    }


CASES = ["missing", "directory", "text", "zero bytes", "empty hdf5", "truncated", "no version", "nwb 1.x"]


@pytest.mark.parametrize("case", CASES)
def test_unreadable_files_raise_nwberror_naming_the_file(tmp_path, units_file, case):
    path, message = _bad_inputs(tmp_path, units_file)[case]
    with pytest.raises(NWBError, match=message) as error:
        read_nwb(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("case", CASES)
def test_describe_file_refuses_or_reports_unsupported(tmp_path, units_file, case):
    path, message = _bad_inputs(tmp_path, units_file)[case]
    if case == "nwb 1.x":
        before = file_hash(path)
        info = describe_file(path)
        assert info["supported"] is False and "NWB 1.x" in info["problem"]
        assert info["nwb_version"] == "NWB-1.0.6"
        assert file_hash(path) == before
    else:
        with pytest.raises(NWBError, match=message):
            describe_file(path)


def test_open_nwb_closes_the_file_even_when_reading_fails(units_file):
    with pytest.raises(RuntimeError):
        with open_nwb(units_file) as handle:
            kept = handle
            raise RuntimeError("reader failed")
    assert not kept.id.valid


def test_decode_handles_bytes_arrays_and_scalars():
    assert decode(np.array([b"2.0b"])) == "2.0b"
    assert decode(b"core") == "core"
    assert decode(np.float64(2.5)) == 2.5
    assert decode(np.array([b"a", b"b"])) == ["a", "b"]


def test_find_sources_sorts_units_series_and_tables(units_file):
    with h5py.File(units_file, "r") as handle:
        found = find_sources(handle)
    assert found.paths("units") == ["units"] and found.intervals == ["intervals/trials"]
    assert found.paths() == ["units"]  # no ROI, electrical or other series


def _damage(path, how):
    with h5py.File(path, "r+") as handle:
        if how == "float index":
            del handle["units/spike_times_index"]
            handle["units/spike_times_index"] = np.array([2.5, 17.0])
        elif how == "index past the end":
            del handle["units/spike_times_index"]
            handle["units/spike_times_index"] = np.array([3, 99])
        elif how == "string start times":
            del handle["intervals/trials/start_time"]
            handle["intervals/trials/start_time"] = np.array([b"a", b"b", b"c"])
        elif how == "2-D spike times":
            del handle["units/spike_times"]
            handle["units/spike_times"] = np.zeros((17, 2))
        elif how == "no trial rows":
            for name in ("start_time", "stop_time", "id", "stimulus", "correct", "target"):
                del handle[f"intervals/trials/{name}"]
            handle["intervals/trials/start_time"] = np.zeros(0)
            handle["intervals/trials/stop_time"] = np.zeros(0)


DAMAGE = {
    "float index": "expected an integer spike_times_index",
    "index past the end": "not a valid ragged index",
    "string start times": r"expected align='start_time' to be a numeric column",
    "2-D spike times": "expected 1-D numeric spike_times",
    "no trial rows": "expected at least one trial",
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_tables_raise_nwberror_not_low_level_errors(tmp_path, units_file, how):
    path = tmp_path / "damaged.nwb"
    path.write_bytes(units_file.read_bytes())
    _damage(path, how)
    with pytest.raises(NWBError, match=DAMAGE[how]) as error:
        read_nwb(path)
    assert str(path) in str(error.value)


def test_a_file_held_open_by_a_writer_is_called_locked_not_damaged(units_file, tmp_path):
    import shutil
    import subprocess
    import sys

    path = tmp_path / "being_written.nwb"
    shutil.copy(units_file, path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import h5py, time; f = h5py.File({str(path)!r}, 'a'); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        expected = r"being_written\.nwb: cannot be opened because another program holds it open for writing"
        with pytest.raises(NWBError, match=expected) as error:
            read_nwb(path)
        assert "damaged" not in str(error.value)
    finally:
        holder.kill()
        holder.wait()
