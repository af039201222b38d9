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


@pytest.fixture(scope="module")
def sparse_tree():
    # 4 conditions x 2 trials x 30 Poisson cells, fresh each day: the kernel statistics of some sessions are
    # NaN (denominators not resolved from noise), behaviour is fine
    from neurolearn.simulate.spiking import spiking_sessions

    tree, _ = spiking_sessions(n_sessions=3, n_conditions=4, n_trials=2, n_neurons=30, separation=(1.5, 1.5),
                               tracked=False, gain=0.5, random_state=1)
    return tree


def _statistic_warnings(tree, statistics):
    import warnings

    from neurolearn.stats.flags import StatisticWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(tree, statistics=statistics, n_boot=20, random_state=0)
    return stats, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


def test_statistics_named_warn_for_themselves_only(sparse_tree):
    # the kernel family runs whatever statistics= names (it sets the sessions' table); its NaN values keep their
    # reason in the flag, but a user who asked for behaviour alone was warned about eleven kernel NaNs
    stats, caught = _statistic_warnings(sparse_tree, ["behavior"])
    unresolved = [name for name in ("task_alignment", "participation_ratio", "kernel_scale")
                  if np.isnan(stats[name].values).any()]
    assert unresolved, "the design no longer leaves a kernel statistic NaN: the test shows nothing"
    assert all(stats[f"{name}_flag"].values[np.isnan(stats[name].values)].all() for name in unresolved)
    assert caught == []
    _, caught = _statistic_warnings(sparse_tree, ["task_alignment"])
    assert caught and all(message.startswith("task_alignment ") for message in caught)
    _, caught = _statistic_warnings(sparse_tree, None)  # everything computed: everything warns
    assert {message.split(" ", 1)[0] for message in caught} >= {"task_alignment", "participation_ratio"}
