"""Cell identity is declared, never guessed; every session knows its subject."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb, read_sessions
from neurolearn.simulate.nwb import write_recording_nwb

from ..conftest import PROJECT_ROOT
from .conftest import add_trials, add_units, file_hash, new_nwbfile, save


def _pynwb_session(tmp_path, name, start, n_units=3, subject=None, description="test"):
    """A file as labs write them with pynwb: default unit ids 0..N-1, optional Subject, and an identifier of
    its own (NeuroConv and pynwb examples write a UUID), so two files with one session_id are two recordings."""
    from datetime import datetime, timezone

    from pynwb import NWBFile
    from pynwb.file import Subject

    nwbfile = NWBFile(session_description=description, identifier=f"{name}@{start}", session_id=name,
                      session_start_time=datetime.fromisoformat(start).replace(tzinfo=timezone.utc))
    if subject:
        nwbfile.subject = Subject(subject_id=subject, species="Mus musculus")
    add_trials(nwbfile, starts=[1.0, 3.0], stops=[2.0, 4.0])
    add_units(nwbfile, [[1.5, 3.5 + 0.1 * u] for u in range(n_units)])
    return save(nwbfile, tmp_path / f"{name}.nwb")


def _two_days(tmp_path):
    return [_pynwb_session(tmp_path, "d1", "2026-02-01T10:00:00"),
            _pynwb_session(tmp_path, "d2", "2026-02-02T10:00:00")]


def test_undeclared_repeated_ids_are_different_cells_with_one_warning_saying_how_to_declare(tmp_path):
    paths = _two_days(tmp_path)
    expected = r"ids \[0, 1, 2\] repeat across 2 sessions.*pass tracked=True"
    with pytest.warns(UserWarning, match=expected) as caught:
        tree = read_sessions(paths)
    assert sum("repeat across" in str(w.message) for w in caught) == 1
    d1, d2 = (tree[name].responses for name in ("d1", "d2"))
    assert d1.neuron.values.tolist() == ["d1/0", "d1/1", "d1/2"] and d1.unit_id.values.tolist() == [0, 1, 2]
    assert not set(d1.neuron.values) & set(d2.neuron.values)
    assert d1.attrs["tracked"] is False and d1.attrs["tracking"] == "undeclared"


def test_tracked_true_and_false_are_honoured_without_a_warning(tmp_path):
    paths = _two_days(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = read_sessions(paths, tracked=True)
        apart = read_sessions(paths, tracked=False)
    first, second = same["d1"].responses, same["d2"].responses
    assert first.neuron.values.tolist() == second.neuron.values.tolist() == [0, 1, 2]
    assert first.attrs["tracked"] is True and first.attrs["tracking"] == "argument"
    assert apart["d2"].responses.neuron.values.tolist() == ["d2/0", "d2/1", "d2/2"]


def test_a_matching_table_maps_session_and_unit_to_cells_from_a_frame_or_a_csv(tmp_path):
    paths = _two_days(tmp_path)
    # CellReg-style: unit 0 of d1 is unit 2 of d2; d1's unit 1 is not matched on d2
    table = pd.DataFrame({"session": ["d1", "d1", "d1", "d2", "d2", "d2"], "unit": [0, 1, 2, 0, 1, 2],
                          "cell": [10, 11, 12, 13, 14, 10]})
    csv = tmp_path / "cells.csv"
    table.rename(columns={"unit": "roi"}).to_csv(csv, index=False)
    for given in (table, csv, str(csv)):
        tree = read_sessions(paths, tracked=given)
        d1, d2 = tree["d1"].responses, tree["d2"].responses
        assert d1.neuron.values.tolist() == ["10", "11", "12"]
        assert d2.neuron.values.tolist() == ["13", "14", "10"]
        assert d1.attrs["tracking"] == "table" and d1.attrs["tracked"] is True
        assert (set(d1.neuron.values) & set(d2.neuron.values)) == {"10"}
    # the file name works as the session key too; a unit the table leaves out is this session's own
    partial = pd.DataFrame({"session": ["d1.nwb"], "unit": [0], "cell": ["a"]})
    with pytest.warns(UserWarning, match=r"names no cell for 2 of 3 units/ROIs of session 'd1'"):
        rec = read_nwb(paths[0], tracked=partial)
    assert rec.neuron.values.tolist() == ["a", "d1/1", "d1/2"]


def test_a_csv_with_a_blank_unit_still_matches_and_a_table_matching_nothing_is_refused(tmp_path):
    paths = _two_days(tmp_path)
    # a matching tool's export: cell 12 not found on d2 leaves its unit blank, so pandas reads units as floats
    csv = tmp_path / "cellreg.csv"
    csv.write_text("session,unit,cell\nd1,0,10\nd1,1,11\nd1,2,12\nd2,0,13\nd2,1,14\nd2,2,10\nd2,,12\n")
    tree = read_sessions(paths, tracked=csv)
    assert tree["d1"].responses.neuron.values.tolist() == ["10", "11", "12"]
    assert tree["d2"].responses.neuron.values.tolist() == ["13", "14", "10"]
    # a unit the matching left without a cell names none: its own session's, never a shared cell "nan"
    csv.write_text("session,unit,cell\nd1,0,10\nd1,1,11\nd1,2,\nd2,0,13\nd2,1,14\nd2,2,\n")
    with pytest.warns(UserWarning, match="names no cell for 1 of 3"):
        tree = read_sessions(paths, tracked=csv)
    assert tree["d1"].responses.neuron.values.tolist()[2] == "d1/2"
    assert tree["d2"].responses.neuron.values.tolist()[2] == "d2/2"
    wrong = pd.DataFrame({"session": ["day1", "day2"], "unit": [0, 0], "cell": ["a", "b"]})
    with pytest.raises(NWBError, match=r"found none matched: its sessions \['day1', 'day2'\].*session ids \['d1', 'd2'\]"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_sessions(paths, tracked=wrong)


def test_units_a_table_leaves_out_stay_apart_in_two_files_with_one_session_id(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _pynwb_session(tmp_path / "a", "rec", "2026-02-01T10:00:00").rename(tmp_path / "a" / "day1.nwb")
    second = _pynwb_session(tmp_path / "b", "rec", "2026-02-02T10:00:00").rename(tmp_path / "b" / "day2.nwb")
    table = pd.DataFrame({"session": ["day1", "day2"], "unit": [0, 0], "cell": ["x", "x"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # units 1, 2 named by no row: said per session
        tree = read_sessions([first, second], tracked=table)
    one, two = (tree[name].responses.neuron.values.tolist() for name in tree.children)
    assert set(one) & set(two) == {"x"}, (one, two)


@pytest.mark.parametrize("table, message", [
    (pd.DataFrame({"session": ["d1"], "cell": [1]}), r"missing \['unit'\]"),
    (pd.DataFrame({"session": ["d1", "d1"], "unit": [0, 0], "cell": [1, 2]}), "one cell per"),
    (pd.DataFrame({"session": ["d1", "d1"], "unit": [0, 1], "cell": [1, 1]}), "at most once per session"),
    ("no/such/cells.csv", "found no file"),
    (3, "found int"),
])
def test_malformed_tracking_tables_are_refused(tmp_path, table, message):
    with pytest.raises(NWBError, match=message):
        read_sessions(_two_days(tmp_path), tracked=table)


def test_the_writer_declares_tracking_in_the_file_and_the_reader_honours_it(tmp_path, rng):
    counts = xr.DataArray(rng.poisson(2.0, (3, 2)), dims=("trial", "neuron"), coords={"neuron": [4, 5]},
                          attrs={"window": (0.0, 1.0), "session_id": "w"})
    tracked = write_recording_nwb(counts, tmp_path / "tracked.nwb", rng=0)
    apart = write_recording_nwb(counts, tmp_path / "apart.nwb", rng=0, tracked=False)
    rec = read_nwb(tracked)
    assert rec.neuron.values.tolist() == [4, 5] and rec.attrs["tracking"] == "file"
    assert read_nwb(apart).neuron.values.tolist() == ["w/4", "w/5"]
    assert read_nwb(apart, tracked=True).neuron.values.tolist() == [4, 5]  # the argument wins
    # an untracked read written back keeps the file's ids and says it is untracked
    again = write_recording_nwb(read_nwb(apart), tmp_path / "again.nwb", rng=0)
    back = read_nwb(again)
    assert back.unit_id.values.tolist() == [4, 5] and back.attrs["tracked"] is False


def test_files_of_the_writer_before_it_declared_tracking_and_the_bundled_examples_are_tracked(tmp_path):
    legacy = _pynwb_session(tmp_path, "old", "2026-02-01T10:00:00",
                            description="simulated recording old (neurolearn.simulate.nwb)")
    rec = read_nwb(legacy)
    assert rec.attrs["tracked"] is True and rec.neuron.values.tolist() == [0, 1, 2]
    bundled = PROJECT_ROOT / "data" / "lazy" / "day00.nwb"
    before = file_hash(bundled)
    example = read_nwb(bundled, window=(0.0, 0.5))
    assert example.attrs["tracked"] is True and example.neuron.dtype.kind in "iu"
    assert file_hash(bundled) == before


def test_subject_from_the_nwb_subject_else_the_dandi_file_name_else_empty(tmp_path):
    stored = _pynwb_session(tmp_path, "s", "2026-02-01T10:00:00", subject="mouse7")
    named = _pynwb_session(tmp_path, "sub-M12_ses-3", "2026-02-01T10:00:00")
    plain = _pynwb_session(tmp_path, "plain", "2026-02-01T10:00:00")
    folder = tmp_path / "sub-R3"
    folder.mkdir()
    in_folder = _pynwb_session(folder, "session1", "2026-02-01T10:00:00")
    found = [read_nwb(p).attrs["subject_id"] for p in (stored, named, plain, in_folder)]
    assert found == ["mouse7", "M12", "", "R3"]


def test_read_sessions_selects_subjects_and_names_those_found_when_none_match(tmp_path):
    paths = [_pynwb_session(tmp_path, f"d{i}", f"2026-02-0{i}T10:00:00", subject=subject)
             for i, subject in enumerate(["m1", "m2", "m1"], start=1)]
    one = read_sessions(paths, subject="m1", tracked=True)
    assert list(one.children) == ["d1", "d3"]
    both = read_sessions(paths, subject=["m1", "m2"], tracked=True)
    assert [both[n].responses.attrs["subject_id"] for n in both.children] == ["m1", "m2", "m1"]
    expected = r"subject \['m9'\], found none among 3 files; their subjects: \['m1', 'm2'\]"
    with pytest.raises(NWBError, match=expected):
        read_sessions(paths, subject="m9")
    with pytest.raises(NWBError, match="subject="):
        read_sessions(paths, subject=5)


def test_reading_files_of_several_subjects_without_choosing_warns_once(tmp_path):
    import warnings

    paths = [_pynwb_session(tmp_path, f"d{i}", f"2026-02-0{i}T10:00:00", subject=subject)
             for i, subject in enumerate(["m1", "m2", "m1"], start=1)]
    with pytest.warns(UserWarning, match=r"2 subjects \(\{'m1': 2, 'm2': 1\}\).*split_subjects") as caught:
        read_sessions(paths, tracked=True)
    assert sum("subjects" in str(w.message) for w in caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_sessions(paths[::2], tracked=True)  # one subject: nothing to say
        read_sessions(paths, subject=["m1", "m2"], tracked=True)  # chosen


def test_a_file_without_a_subject_beside_named_ones_is_warned_and_summarize_refuses_the_mix(tmp_path):
    from neurolearn.errors import DataError
    from neurolearn.stats.summary import summarize

    paths = [_pynwb_session(tmp_path, f"d{i}", f"2026-02-0{i}T10:00:00", subject=subject)
             for i, subject in enumerate(["m1", "m1", None], start=1)]
    with pytest.warns(UserWarning, match=r"sessions \['d3'\] name no subject, the others \['m1'\]"):
        tree = read_sessions(paths, tracked=True)
    with pytest.raises(DataError, match=r"found sessions \['d3'\] without a subject_id beside subject\(s\) \['m1'\]"):
        summarize(tree, n_boot=0, readout=False, dynamics=False, behavior=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = read_sessions(paths, subject="m1", tracked=True)  # declared: the unknown one left out
    assert list(kept.children) == ["d1", "d2"]


def test_a_table_key_naming_two_files_is_refused_and_file_names_resolve_it(tmp_path):
    # two days written with one session_id (a converter's default): the key would give both files its cells
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _pynwb_session(tmp_path / "a", "rec", "2026-02-01T10:00:00")
    second = _pynwb_session(tmp_path / "b", "rec", "2026-02-02T10:00:00")
    first, second = first.rename(tmp_path / "a" / "day1.nwb"), second.rename(tmp_path / "b" / "day2.nwb")
    by_id = pd.DataFrame({"session": ["rec"] * 3, "unit": [0, 1, 2], "cell": ["x", "y", "z"]})
    with pytest.raises(NWBError, match=r"found 'rec' naming 2 files .*by file name or stem"):
        read_sessions([first, second], tracked=by_id)
    by_file = pd.DataFrame({"session": ["day1"] * 3 + ["day2"] * 3, "unit": [0, 1, 2] * 2,
                            "cell": ["x", "y", "z", "y", "z", "w"]})
    tree = read_sessions([first, second], tracked=by_file)
    assert [tree[name].responses.neuron.values.tolist() for name in tree.children] == [["x", "y", "z"], ["y", "z", "w"]]


@pytest.mark.parametrize("notes, declared", [
    ("neurolearn.tracked_cells: true (same cells every session)", True),
    ("recorded by X\n  neurolearn.tracked_cells: FALSE", False),
    ("cells were NOT neurolearn.tracked_cells: true", None),  # not at the start of a line: no declaration
    ("neurolearn.tracked_cells: true-ish", None),
])
def test_the_tracking_marker_declares_only_at_the_start_of_a_line_with_a_whole_value(tmp_path, notes, declared):
    import h5py

    from neurolearn.io.identity import declared_tracking

    path = _pynwb_session(tmp_path, "d1", "2026-02-01T10:00:00")
    with h5py.File(path, "r+") as handle:
        if "general/notes" in handle:
            del handle["general/notes"]
        handle["general/notes"] = notes
    with h5py.File(path, "r") as handle:
        assert declared_tracking(handle) is declared


def test_two_files_with_one_session_id_keep_their_untracked_cells_apart(tmp_path):
    first = _pynwb_session(tmp_path / ".", "same", "2026-02-01T10:00:00")
    other = tmp_path / "b"
    other.mkdir()
    second = _pynwb_session(other, "same", "2026-02-02T10:00:00")
    with pytest.warns(UserWarning, match="repeat across"):
        tree = read_sessions([first, second])
    assert list(tree.children) == ["same", "same-2"]
    assert tree["same-2"].responses.neuron.values.tolist() == ["same-2/0", "same-2/1", "same-2/2"]
    assert np.array_equal(tree["same"].responses.unit_id.values, tree["same-2"].responses.unit_id.values)


def _session_with_cell_column(tmp_path, name, start, cells):
    """A file whose Units table carries in-file matching: a column naming each unit's cell across days."""
    nwbfile = new_nwbfile(session_id=name, start=start)
    add_trials(nwbfile, starts=[1.0, 3.0], stops=[2.0, 4.0])
    nwbfile.add_unit_column(name="global_id", description="cell matched across days")
    for number, cell in enumerate(cells):
        nwbfile.add_unit(spike_times=np.asarray([1.5, 3.5 + 0.1 * number]), global_id=cell)
    return save(nwbfile, tmp_path / f"{name}.nwb")


def test_a_units_column_declares_the_cells_and_pynwb_default_ids_are_not_taken_for_them(tmp_path):
    # pynwb numbers both days' units 0, 1, 2; the column says unit 0 of day 2 is cell "c", unit 2 is "a"
    first = _session_with_cell_column(tmp_path, "d1", "2026-02-01T10:00:00", ["a", "b", "c"])
    second = _session_with_cell_column(tmp_path, "d2", "2026-02-02T10:00:00", ["c", "b", "a"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tree = read_sessions([first, second], tracked={"column": "global_id"})
    d1, d2 = tree["d1"].responses, tree["d2"].responses
    assert d1.neuron.values.tolist() == ["a", "b", "c"] and d2.neuron.values.tolist() == ["c", "b", "a"]
    assert d2.unit_id.values.tolist() == [0, 1, 2]  # the file's own ids stay readable
    assert d1.attrs["tracked"] is True and d1.attrs["tracking"] == "column"
    # the same cell's responses line up by cell, not by unit id: cell "a" is unit 0 on day 1, unit 2 on day 2
    assert d1.sel(neuron="a").unit_id.item() == 0 and d2.sel(neuron="a").unit_id.item() == 2


def test_a_cell_column_with_blanks_repeats_or_no_such_column_is_warned_or_refused(tmp_path):
    blank = _session_with_cell_column(tmp_path, "d1", "2026-02-01T10:00:00", ["a", "", "c"])
    with pytest.warns(UserWarning, match=r"column 'global_id' names no cell for 1 of 3 units"):
        rec = read_nwb(blank, tracked={"column": "global_id"})
    assert rec.neuron.values.tolist() == ["a", "d1/1", "c"]
    twice = _session_with_cell_column(tmp_path, "d2", "2026-02-02T10:00:00", ["a", "a", "c"])
    with pytest.raises(NWBError, match=r"at most once.*'a' on 2 units"):
        read_nwb(twice, tracked={"column": "global_id"})
    # a sentinel for "no match" (adversary S5-5): the error says how to mark such units
    sentinel = _session_with_cell_column(tmp_path, "d3", "2026-02-03T10:00:00", ["a", "-1", "-1"])
    with pytest.raises(NWBError, match=r"'-1' on 2 units; if a value marks units the matching left without a "
                                       r"cell \(e.g. -1\), write them as blank or NaN"):
        read_nwb(sentinel, tracked={"column": "global_id"})
    with pytest.raises(NWBError, match=r"expected a per-unit column 'cell' .*found the columns \[.*'global_id'"):
        read_nwb(blank, tracked={"column": "cell"})
    for wrong in ({"col": "global_id"}, {"column": ""}, {"column": 3}):
        with pytest.raises(NWBError, match=r"expected tracked=\{'column'"):
            read_nwb(blank, tracked=wrong)


def test_a_table_session_matching_no_file_is_warned_once_with_the_file_it_leaves_untracked(tmp_path):
    paths = [_pynwb_session(tmp_path, f"d{k}", f"2026-02-0{k}T10:00:00") for k in (1, 2, 3)]
    table = pd.DataFrame({"session": ["d1"] * 3 + ["d2"] * 3 + ["d_3"] * 3, "unit": [0, 1, 2] * 3,
                          "cell": ["x", "y", "z"] * 3})
    expected = (r"tracked= table sessions matching no file: \['d_3'\]; files the table does not name: "
                r"d3\.nwb \(session id 'd3'\)\..*session id, file name or stem")
    with pytest.warns(UserWarning, match=expected) as caught:
        tree = read_sessions(paths, tracked=table)
    assert sum("matching no file" in str(w.message) for w in caught) == 1
    assert [bool(tree[n].responses.attrs["tracked"]) for n in tree.children] == [True, True, False]
    assert tree["d3"].responses.neuron.values.tolist() == ["d3/0", "d3/1", "d3/2"]
    # a table naming more sessions than are read leaves no file untracked: nothing to warn about
    whole = table.assign(session=table["session"].replace("d_3", "d3"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_sessions(paths[:2], tracked=whole)


def test_table_sessions_of_files_left_out_by_subject_are_not_reported_as_matching_no_file(tmp_path):
    paths = [_pynwb_session(tmp_path, name, f"2026-02-0{k}T10:00:00", subject=subject)
             for k, (name, subject) in enumerate([("d1", "mA"), ("d2", "mA"), ("d3", "mB")], start=1)]
    table = pd.DataFrame({"session": ["d1", "d_2", "d3"], "unit": [0, 0, 0], "cell": ["x", "x", "x"]})
    with pytest.warns(UserWarning, match=r"sessions matching no file: \['d_2'\]; files the table does not name: "
                                         r"d2\.nwb") as caught:
        read_sessions(paths, tracked=table, subject="mA")
    assert sum("matching no file" in str(w.message) for w in caught) == 1


def test_a_table_naming_units_the_file_lacks_says_so_once_per_session(tmp_path):
    # adversary S8-4: a table made for another sorting (d2's ids shifted by one: 1..3 where the file has 0..2)
    # mapped d2's units to the wrong cells, and its row for unit 3, which d2 lacks, was dropped without a word
    paths = _two_days(tmp_path)
    shifted = pd.DataFrame({"session": ["d1"] * 3 + ["d2"] * 3, "unit": [0, 1, 2, 1, 2, 3],
                            "cell": ["a", "b", "c", "a", "b", "c"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tree = read_sessions(paths, tracked=shifted)
    absent = [str(w.message) for w in caught if "that the file does not have" in str(w.message)]
    assert len(absent) == 1, [str(w.message) for w in caught]
    assert re.search(r"d2\.nwb: the tracked= table names units \[3\] of session 'd2' that the file does not have "
                     r"\(1 of its 3 rows for this session\): a table for another sorting\?.*no cell for the "
                     r"file's units \[0\]", absent[0]), absent[0]
    assert tree["d2"].responses.neuron.values.tolist() == ["d2/0", "a", "b"]  # read as the table says
    # one extra row, the rest matching: said the same way, without the hint about numbering
    extra = pd.concat([shifted.iloc[:3], pd.DataFrame({"session": ["d1"], "unit": [99], "cell": ["z"]})])
    with pytest.warns(UserWarning, match=r"names units \[99\] of session 'd1' that the file does not have \(1 of "
                                         r"its 4 rows for this session\): a table for another sorting\? Its other "
                                         r"rows may then map units to the wrong cells$"):
        read_nwb(paths[0], tracked=extra)
    # a session whose rows name none of its units is refused, whatever other sessions match
    none = pd.concat([shifted.iloc[:3], pd.DataFrame({"session": ["d2"] * 2, "unit": [7, 8], "cell": ["a", "b"]})])
    with pytest.raises(NWBError, match=r"d2\.nwb: expected the tracked= table's units of session 'd2' to be "
                                       r"units/ROIs of the file, found none of its 2 \(\[7, 8\]\) among the file's "
                                       r"ids \[0, 1, 2\]"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_sessions(paths, tracked=none)
