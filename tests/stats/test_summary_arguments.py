"""summarize refuses arguments it cannot use, naming what it expected (adversary F18)."""

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.summary import summarize


@pytest.fixture(scope="module")
def tree():
    y = np.repeat([1.0, -1.0], 3)
    recs = [make_recording(np.outer(y, np.linspace(-1, 1, 20)) + 0.1 * d, n_trials=3, noise_sd=0.5, target=y,
                           session_id=f"day{d}", rng=d) for d in range(2)]
    return make_session_tree(recs)


@pytest.mark.parametrize("argument, value, expected", [
    ("ridge", 0, r"ridge: expected a positive number, found 0"),  # was a ZeroDivisionError in task_difficulty
    ("ridge", -0.1, r"ridge: expected a positive number"),
    ("random_state", "abc", r"random_state: expected None, a non-negative integer.*found 'abc'"),  # numpy TypeError
    ("random_state", -1, r"random_state: expected"),
    ("n_modes", 0, r"n_modes: expected at least 1 kernel mode"),  # spectral_power read 0 [0, 0]
    ("generalization", "both", r"generalization: expected 'readout' or 'behavior', found 'both'"),  # accepted
])
def test_unusable_arguments_are_refused_up_front(tree, argument, value, expected):
    with pytest.raises(DataError, match=expected):
        summarize(tree, **{argument: value})


@pytest.mark.parametrize("random_state", [None, 0, np.int64(3), np.random.default_rng(1), np.random.SeedSequence(2)])
def test_every_documented_random_state_is_accepted(tree, random_state):
    stats = summarize(tree, n_boot=5, random_state=random_state, readout=False, dynamics=False)
    assert "task_alignment" in stats
