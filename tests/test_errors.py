"""How messages show values and name sessions: the Python value a user typed, never numpy's repr."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import plain, session_label, shown


def test_numpy_scalars_are_shown_as_the_python_values_they_hold():
    assert shown(np.int64(9)) == "9"
    assert shown(np.float64(0.5)) == "0.5"
    assert shown(np.str_("x")) == "'x'"
    assert shown(np.bool_(True)) == "True"
    assert shown([np.int64(1), np.str_("a"), (np.float32(0.25),)]) == "[1, 'a', (0.25,)]"
    assert shown({np.str_("go"): np.int64(1)}) == "{'go': 1}"
    assert shown(np.array([1, 2])) == "[1, 2]"
    assert shown({np.int64(2), np.int64(1)}) == "[1, 2]"


def test_python_values_are_shown_unchanged():
    for value in (9, 0.5, "x", True, None, [1, "a"], {"a": 1}, (1,)):
        assert shown(value) == repr(value)
    assert plain(b"hit") == "hit"


def test_sessions_are_named_one_way_whatever_the_type_of_their_id():
    assert session_label(4) == session_label("4") == session_label(np.str_("4")) == "session '4'"
    assert session_label(np.int64(4)) == "session '4'"


# messages of the public API (reviewer F3, F4): numpy values shown as Python values, sessions named one way ---

def _recording(session_id="4", n_trials=4):
    from neurolearn.simulate.recording import make_recording

    rng = np.random.default_rng(3)
    y = np.tile([1.0, -1.0], 4)
    means = rng.standard_normal((8, 30)) + np.outer(y, rng.standard_normal(30))
    return make_recording(means, n_trials=n_trials, noise_sd=0.5, target=y, behavior=0.8, session_id=session_id,
                          rng=0)


def _messages(function, *args, **kwargs):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            function(*args, **kwargs)
            raised = []
        except Exception as error:  # noqa: BLE001 - the message is what is tested
            raised = [str(error)]
    return raised + [str(w.message) for w in caught]


def test_summarize_messages_show_python_values_and_name_the_session_once():
    import re

    from neurolearn.stats.summary import summarize

    rec = _recording()
    threes = np.flatnonzero(rec.stimulus.values == 3)
    one_trial = rec.isel(trial=np.setdiff1d(np.arange(rec.sizes["trial"]), threes[1:]))  # condition 3: one trial
    varying = rec.assign_coords(target=("trial", np.tile([1.0, -1.0], rec.sizes["trial"] // 2)))
    outcome = rec.assign_coords(outcome=("trial", np.where(rec.correct.values, "Hit", "Miss")))
    messages = (_messages(summarize, one_trial, n_boot=0, dynamics=False)
                + _messages(summarize, varying, n_boot=0, dynamics=False)
                + _messages(summarize, outcome, behavior={"outcome": {np.str_("hit"): 1, np.str_("miss"): 0}},
                            n_boot=0, dynamics=False)
                + _messages(summarize, rec, behavior={"correct": {True: np.int64(2), False: 0}}, dynamics=False)
                + _messages(summarize, rec, scheduler=np.int64(3), dynamics=False))
    assert messages
    numpy_reprs = [m for m in messages if re.search(r"np\.\w+\(", m)]
    assert not numpy_reprs, numpy_reprs
    named_twice = [m for m in messages if re.search(r"session '4': (4|session '4'): ", m)]
    assert not named_twice, named_twice
    assert any("margin is NaN for session '4': the margin removes the trial noise" in m and "found 1 in 3 (summarize(min_trials=2)" in m
               for m in messages)
    assert any("found keys ['hit', 'miss'] and values ['Hit', 'Miss']" in m for m in messages)
    assert any("expected codes 1 (correct) or 0 (incorrect), found {True: 2}" in m for m in messages)
    assert any(m.endswith("a scheduler's get, found 3") for m in messages)


def test_reading_options_show_python_values():
    from neurolearn.errors import NWBError
    from neurolearn.io.params import check_bin_size, check_window

    import pytest

    with pytest.raises(NWBError, match=r"found \(1\.0, 0\.0\)$"):
        check_window(np.array([1.0, 0.0]))
    with pytest.raises(NWBError, match=r"two numbers, found 3: \(0\.0, 0\.5, 1\.0\)$"):
        check_window(np.array([0.0, 0.5, 1.0]))
    with pytest.raises(NWBError, match=r"a positive number of seconds, found -1\.0$"):
        check_bin_size(np.float64(-1))
