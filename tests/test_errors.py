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
