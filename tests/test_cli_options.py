"""Parsing the command's options into what the Python API takes: codings, training times, API calls."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.cli_options import check_where, parse_coding, read_training_times, training_times_for
from neurolearn.errors import NeurolearnError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("correct", "correct"),
        ("none", None),
        ("outcome:correct=1,incorrect=0", {"outcome": {"correct": 1, "incorrect": 0}}),
        ("outcome:hit=1, no response=0", {"outcome": {"hit": 1, "no response": 0}}),  # spaces kept
        ("feedback:1=1,-1=0", {"feedback": {1: 1, -1: 0}}),  # numbers match numeric columns
        ("choice:1=1,2=0", {"choice": {1: 1, 2: 0}}),
        ("contrast:0.5=1,0.25=0", {"contrast": {0.5: 1, 0.25: 0}}),
    ],
)
def test_behavior_codings_parse_into_the_api_mapping(text, expected):
    assert parse_coding(text, binary=True) == expected


def test_target_codings_take_any_label():
    assert parse_coding("side:left=-1,right=1", binary=False) == {"side": {"left": -1, "right": 1}}
    assert parse_coding("odour:A=go,B=nogo", binary=False) == {"odour": {"A": "go", "B": "nogo"}}
    assert parse_coding("none", binary=False) is None




def test_training_time_tables(tmp_path):
    csv = tmp_path / "times.csv"
    csv.write_text("session,training_time\nday00,0\nday01,2.5\n")
    assert read_training_times(str(csv)) == {"day00": 0.0, "day01": 2.5}
    plain = tmp_path / "two.csv"
    plain.write_text("id,trials_so_far\nday00,100\nday01,350\n")
    assert read_training_times(str(plain)) == {"day00": 100.0, "day01": 350.0}
    js = tmp_path / "times.json"
    js.write_text('{"day00": 1, "day01": 4}')
    assert read_training_times(str(js)) == {"day00": 1.0, "day01": 4.0}
    assert read_training_times("cumulative_trials") == "cumulative_trials"  # a name, resolved after reading
    bad = tmp_path / "bad.csv"
    bad.write_text("session,training_time\nday00,soon\n")
    with pytest.raises(NeurolearnError, match="expected a finite number for session 'day00', found 'soon'"):
        read_training_times(str(bad))
    twice = tmp_path / "twice.csv"
    twice.write_text("session,training_time\nday00,1\nday00,2\n")
    with pytest.raises(NeurolearnError, match="expected one row per session, found repeated"):
        read_training_times(str(twice))


# small recordings written as NWB, with string outcomes, a float contrast and two subjects ------------------

N_CONDITIONS, N_TRIALS, N_NEURONS = 8, 4, 20


def test_where_accepts_pandas_queries_and_rejects_broken_ones():
    assert check_where("contrast > 0.1 and `block id` == 2") == "contrast > 0.1 and `block id` == 2"
    with pytest.raises(Exception, match="--where: expected a pandas query expression"):
        check_where("contrast >> and")


def test_training_time_file_errors(tmp_path):
    broken = tmp_path / "t.json"
    broken.write_text("{day00: 1")
    with pytest.raises(NeurolearnError, match="found invalid JSON"):
        read_training_times(str(broken))
    broken.write_text("[1, 2]")
    with pytest.raises(NeurolearnError, match="expected a JSON object"):
        read_training_times(str(broken))
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b,c\nday00,1,2\n")
    with pytest.raises(NeurolearnError, match="expected columns 'session' and 'training_time'"):
        read_training_times(str(wide))


def session_tree():
    def session(day, extra_attrs):
        rec = xr.DataArray(np.zeros((3, 2)), dims=("trial", "neuron"),
                           coords={"block": ("trial", [day, day, day]), "lap": ("trial", [1, 2, 3])},
                           attrs={"days_trained": 2.0 * day} | extra_attrs)
        return xr.Dataset({"responses": rec})

    return xr.DataTree.from_dict({"d0": session(0, {}), "d1": session(1, {"note": "x"})})


def test_training_times_from_tables_attributes_and_constant_columns():
    tree = session_tree()
    np.testing.assert_array_equal(training_times_for({"d0": 5.0, "d1": 7.5}, tree, ["d0", "d1"]), [5.0, 7.5])
    np.testing.assert_array_equal(training_times_for("days_trained", tree, ["d0", "d1"]), [0.0, 2.0])
    np.testing.assert_array_equal(training_times_for("block", tree, ["d0", "d1"]), [0.0, 1.0])
    with pytest.raises(NeurolearnError, match=r"found none for \['d1'\]"):
        training_times_for({"d0": 5.0}, tree, ["d0", "d1"])
    with pytest.raises(NeurolearnError, match="expected one value per session, found 3 different values"):
        training_times_for("lap", tree, ["d0", "d1"])
    with pytest.raises(NeurolearnError, match="expected a file, a session attribute or a trial column"):
        training_times_for("age", tree, ["d0", "d1"])
    with pytest.raises(NeurolearnError, match="expected a finite number in session 'd1', found 'x'"):
        training_times_for("note", xr.DataTree.from_dict({"d1": tree["d1"].dataset}), ["d1"])


@pytest.mark.parametrize("text, expected", [
    ("V1=1,LM=2", {"V1": 1, "LM": 2}),
    ("LM=2, V1=1", {"LM": 2, "V1": 1}),
    ("V1,LM,AL", {"V1": 1, "LM": 2, "AL": 3}),  # bare names: layers 1, 2, ... in the order given
    ("CA1", {"CA1": 1}),
])
def test_areas_parse_into_the_api_mapping(text, expected):
    from neurolearn.cli_options import parse_areas

    assert parse_areas(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("V1=1,LM", "every area with its layer or none"),
    ("V1=0", "positive integer layer"),
    ("V1=a", "positive integer layer"),
    ("V1=1,V1=2", "V1 named twice"),
    ("", "NAME=LAYER"),
    ("V1=1,,LM=2", "NAME=LAYER"),
])
def test_bad_areas_name_what_was_expected(text, fragment):
    import argparse

    from neurolearn.cli_options import parse_areas

    with pytest.raises(argparse.ArgumentTypeError, match=fragment):
        parse_areas(text)


# codings read against the column's values (reviewer F2: go:True=1 kept 'True' as a string and coded nothing) ---

def coded_tree(**columns):
    """One session per dict of trial columns: {"d0": {"go": [...]}, ...} as the reader's DataTree."""
    from neurolearn.data import RESPONSES

    sessions = {}
    for session, values in columns.items():
        n = len(next(iter(values.values())))
        rec = xr.DataArray(np.zeros((n, 1)), dims=("trial", "neuron"),
                           coords={name: ("trial", np.asarray(v)) for name, v in values.items()})
        sessions[session] = xr.Dataset({RESPONSES: rec})
    return xr.DataTree.from_dict(sessions)


@pytest.mark.parametrize("text, values, expected", [
    ("go:True=1,False=-1", [True, False, True], {"go": {True: 1, False: -1}}),
    ("go:true=1,FALSE=-1", [True, False], {"go": {True: 1, False: -1}}),
    ("go:1=1,0=-1", [True, False], {"go": {True: 1, False: -1}}),
    ("go:1=1,0=-1", [1, 0], {"go": {1: 1, 0: -1}}),
    ("go:1.0=1,0=-1", [1.0, 0.0, np.nan], {"go": {1.0: 1, 0.0: -1}}),  # 0/1 floats, NaN for no response
    ("go:0.1=1,0.5=-1", np.array([0.1, 0.5], dtype=np.float32), None),
    ("go:Hit=go,Miss=nogo", ["Hit ", "Miss ", "Hit "], {"go": {"Hit ": "go", "Miss ": "nogo"}}),  # spaces
    ("go:1=1,2=-1", ["1", "2"], {"go": {"1": 1, "2": -1}}),  # a column of strings keeps string keys
])
def test_coding_keys_are_read_against_the_values_the_column_holds(text, values, expected):
    from neurolearn.cli_codings import resolve_coding

    resolved = resolve_coding(text, coded_tree(d0={"go": values}), binary=False, option="--target")
    if expected is None:  # float32: the keys are the column's own values
        expected = {"go": {float(np.float32(0.1)): 1, float(np.float32(0.5)): -1}}
    assert resolved == expected
    assert all(type(key) is type(want) for key, want in zip(resolved["go"], expected["go"]))


def test_behavior_codings_are_resolved_and_still_scored_one_or_zero():
    from neurolearn.cli_codings import resolve_coding
    from neurolearn.stats.behavior import outcome_values

    tree = coded_tree(d0={"correct": [True, False, True]}, d1={"correct": [1.0, np.nan, 0.0]})
    coding = resolve_coding("correct:True=1,False=0", tree, binary=True, option="--behavior")
    assert coding == {"correct": {True: 1, False: 0}}
    for session, expected in (("d0", [1.0, 0.0, 1.0]), ("d1", [1.0, np.nan, 0.0])):
        np.testing.assert_array_equal(outcome_values(tree[session].dataset["responses"], coding), expected)


def test_a_coding_key_matching_no_value_is_refused_naming_the_values_found():
    from neurolearn.cli_codings import resolve_coding

    tree = coded_tree(d0={"go": [True, False]}, d1={"go": [True, True]})
    with pytest.raises(NeurolearnError, match=r"--target go:yes=1,False=-1: expected values of trial column "
                                              r"'go', found no trial with 'yes' in the 2 session\(s\) that have "
                                              r"it; its values \(boolean\): \[False, True\]"):
        resolve_coding("go:yes=1,False=-1", tree, binary=False, option="--target")
    tree = coded_tree(d0={"outcome": np.array(["Hit", "Miss", "CR"])})
    with pytest.raises(NeurolearnError, match=r"found no trial with 'FA'.*\['CR', 'Hit', 'Miss'\]"):
        resolve_coding("outcome:Hit=1,Miss=0,CR=1,FA=0", tree, binary=True, option="--behavior")
    # a plain column and 'none' need no values; a column no session has is check_named_columns' to name
    assert resolve_coding("go", tree, binary=False, option="--target") == "go"
    assert resolve_coding("none", tree, binary=False, option="--target") is None
    assert resolve_coding("side:L=1,R=-1", tree, binary=False, option="--target") == {"side": {"L": 1, "R": -1}}


def test_a_bare_behavior_column_of_words_is_refused_with_the_command_lines_coding():
    # the API's message suggested behavior={'outcome': {...}}, which a shell user cannot type (adversary F20)
    from neurolearn.cli_codings import resolve_coding

    tree = coded_tree(d0={"outcome": np.array(["Hit", "Miss", "CR", "FA", "no response"])})
    with pytest.raises(NeurolearnError, match=r"--behavior outcome: expected 0/1 .* declare the coding, e\.g\. "
                                              r"--behavior outcome:CR=1,FA=0,Hit=1,Miss=0 \(check it; \['no "
                                              r"response'\] would be read as neither"):
        resolve_coding("outcome", tree, binary=True, option="--behavior")
    tree = coded_tree(d0={"correct": [True, False]}, d1={"correct": [1.0, np.nan]})
    assert resolve_coding("correct", tree, binary=True, option="--behavior") == "correct"  # already 0/1


def test_a_training_time_attribute_that_is_no_number_is_shown_as_the_value_it_holds():
    tree = xr.DataTree.from_dict({"d1": xr.Dataset({"responses": xr.DataArray(
        np.zeros((2, 1)), dims=("trial", "neuron"), attrs={"note": np.str_("x")})})})
    with pytest.raises(NeurolearnError, match=r"expected a finite number in session 'd1', found 'x'$"):
        training_times_for("note", tree, ["d1"])


def test_coding_keys_skip_pandas_na_in_the_column():
    import pandas as pd

    from neurolearn.cli_codings import column_values, resolve_coding

    tree = coded_tree(d0={"go": pd.array([True, None, False], dtype="boolean")})
    assert column_values(tree, "go") == ([False, True], 1)
    assert resolve_coding("go:True=1,False=-1", tree, binary=False, option="--target") == {"go": {True: 1, False: -1}}
