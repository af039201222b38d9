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
