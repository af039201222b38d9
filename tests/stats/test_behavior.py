"""Behaviour's outcome coding is declared, never guessed: what a declaration that names nothing does, and what
the refusal of an undeclared coding suggests."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.behavior import outcome_values


def _session(column, values):
    return xr.DataArray(np.zeros((len(values), 1)), dims=("trial", "neuron"),
                        coords={column: ("trial", values)}, attrs={"session_id": "day1"})


def test_a_mapping_that_names_none_of_the_values_is_refused_showing_both():
    rec = _session("outcome", ["Hit", "Miss", "CR", "FA"] * 3)
    with pytest.raises(DataError, match=r"keys \['hit', 'miss'\] and values \['CR', 'FA', 'Hit', 'Miss'\]"):
        outcome_values(rec, {"outcome": {"hit": 1, "miss": 0}}, session_id="day1")
    ints = _session("correct", [0, 1, 1, 0])
    with pytest.raises(DataError, match=r"keys \['1', '0'\] and values \[0, 1\]"):
        outcome_values(ints, {"correct": {"1": 1, "0": 0}})
    # a mapping naming some values keeps them and excludes the rest (counted by behavior_estimate)
    coded = outcome_values(rec, {"outcome": {"Hit": 1, "Miss": 0}})
    assert np.isnan(coded).sum() == 6 and np.nansum(coded) == 3


def test_the_suggested_coding_reads_every_go_nogo_outcome_and_names_the_rest():
    rec = _session("outcome", ["Hit", "Miss", "CR", "FA", "no response"])
    with pytest.raises(DataError) as caught:
        outcome_values(rec, "outcome")
    message = str(caught.value)
    assert "behavior={'outcome': {'CR': 1, 'FA': 0, 'Hit': 1, 'Miss': 0}}" in message
    assert "['no response'] read as neither here" in message
    # values that read as nothing known: the first two are suggested and the others named
    odd = _session("result", ["A", "B", "C"])
    with pytest.raises(DataError, match=r"behavior=\{'result': \{'A': 1, 'B': 0\}\} \(check it; \['C'\] read as"):
        outcome_values(odd, "result")


def test_a_column_mixing_kinds_is_refused_with_a_coding_to_declare():
    """np.unique cannot sort 1 and 'x': the refusal itself raised TypeError."""
    rec = _session("mx", np.array([1, "x", 1, "x"], dtype=object))
    with pytest.raises(DataError, match=r"expected 0/1 \(or boolean\) values in 'mx', found \[1, 'x'\]; declare the "
                                        r"coding, e.g. behavior=\{'mx': \{1: 1, 'x': 0\}\}"):
        outcome_values(rec, "mx")
    np.testing.assert_array_equal(outcome_values(rec, {"mx": {1: 1, "x": 0}}), [1.0, 0.0, 1.0, 0.0])


def test_go_nogo_outcomes_with_spaces_and_no_response_are_scored_as_declared():
    rec = _session("outcome", ["Hit ", "Miss", "CR ", "FA", "no response", "Hit"])
    coded = outcome_values(rec, {"outcome": {"Hit": 1, "Miss": 0, "CR": 1, "FA": 0}})
    np.testing.assert_array_equal(coded, [1.0, 0.0, 1.0, 0.0, np.nan, 1.0])
    floats = _session("resp", [1.0, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(outcome_values(floats, "resp"), [1.0, np.nan, 0.0, 1.0])


@pytest.mark.parametrize("values, suggested", [
    ([1, -1, 1, -1], "{'feedback': {-1: 0, 1: 1}}"),  # ±1 feedback: -1 is the error (was suggested as correct)
    (["yes", "no", "yes"], "{'feedback': {'no': 0, 'yes': 1}}"),  # was {'no': 1, 'yes': 0}
    (["True", "False"], "{'feedback': {'False': 0, 'True': 1}}"),
])
def test_the_suggested_coding_reads_signs_and_yes_no_the_right_way_round(values, suggested):
    with pytest.raises(DataError, match=r"declare the coding, e.g. behavior=" + re.escape(suggested)):
        outcome_values(_session("feedback", values), "feedback")


def test_a_nullable_boolean_outcome_reads_its_na_as_no_outcome():
    import pandas as pd

    outcome = pd.array([True, False, None, True], dtype="boolean")
    rec = _session("correct", outcome)
    np.testing.assert_array_equal(outcome_values(rec, "correct"), [1.0, 0.0, np.nan, 1.0])
    np.testing.assert_array_equal(outcome_values(rec, {"correct": {True: 1, False: 0}}), [1.0, 0.0, np.nan, 1.0])
