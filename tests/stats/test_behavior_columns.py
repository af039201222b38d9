"""target= and behavior= naming one trial column is refused with that reason (adversary S8-6)."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.behavior import refuse_shared_column
from neurolearn.stats.summary import summarize


@pytest.mark.parametrize("target, behavior", [
    ("accuracy", {"accuracy": {1: 1, 2: 0}}),  # the adversary's call on the recognition table
    ("accuracy", "accuracy"),
    ("correct", "correct"),
])
def test_the_same_column_as_label_and_outcome_is_refused_with_that_reason(target, behavior):
    with pytest.raises(DataError, match="target= and behavior= name the same column 'accuracy'|"
                                        "target= and behavior= name the same column 'correct'") as error:
        refuse_shared_column(target, behavior)
    assert "behavior=None" in str(error.value)


@pytest.mark.parametrize("target, behavior", [
    ("side", {"accuracy": {1: 1, 2: 0}}), ({"side": {"L": -1, "R": 1}}, "correct"), (None, "correct"),
    ("accuracy", None),
])
def test_different_columns_or_one_absent_pass(target, behavior):
    assert refuse_shared_column(target, behavior) is None


def test_summarize_names_the_shared_column_not_a_missing_one():
    # was: "expected a trial coord 'accuracy' (behavior=), available trial coords: [...]" without 'accuracy'
    rng = np.random.default_rng(0)
    recs = []
    for k in range(2):
        rec = make_recording(rng.standard_normal((6, 10)), n_trials=4, noise_sd=1.0, target=np.arange(6) % 2,
                             session_id=f"d{k}", rng=rng, session_start_time=f"2026-01-0{k + 1}T09:00:00")
        recs.append(rec.assign_coords(accuracy=("trial", rng.choice([1, 2], size=rec.sizes["trial"]))))
    with pytest.raises(DataError, match="target= and behavior= name the same column 'accuracy'"):
        summarize(make_session_tree(recs), target="accuracy", behavior={"accuracy": {1: 1, 2: 0}}, n_boot=0)


def test_a_declared_coding_of_the_behaviour_column_is_not_refused():
    # tests/stats/test_selection.py: a coding reads the column per condition and behavior= reads it as recorded
    assert refuse_shared_column({"accuracy": {1: "hit", 2: "miss"}}, "accuracy") is None
