"""target= and behavior= naming one trial column is refused with that reason (adversary S8-6)."""

from __future__ import annotations

import pytest

from neurolearn.errors import DataError
from neurolearn.stats.behavior import refuse_shared_column


@pytest.mark.parametrize("target, behavior", [
    ("accuracy", {"accuracy": {1: 1, 2: 0}}),  # the adversary's call on the recognition table
    ({"accuracy": {1: "hit", 2: "miss"}}, "accuracy"),
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
