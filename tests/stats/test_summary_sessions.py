"""summarize over sessions of unequal quality: one that cannot be used is left out, not the run (adversary F8, F9)."""

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.summary import summarize


def _recordings(trials=(6, 3, 6)):
    rng = np.random.default_rng(2)
    y = np.repeat([1.0, -1.0], 3)
    tuning = rng.standard_normal((6, 40))
    return [make_recording(tuning + 0.2 * d * np.outer(y, rng.standard_normal(40)), n_trials=n, noise_sd=0.5,
                           target=y, behavior=0.7, session_id=f"day{d}", rng=d) for d, n in enumerate(trials)]


def _summary(recs, **kwargs):
    return summarize(make_session_tree(recs), n_boot=10, random_state=0, readout=False, dynamics=False, **kwargs)


def test_a_session_that_cannot_meet_min_trials_is_left_out_and_keeps_the_training_order():
    # min_trials=5 with 3 trials per condition on day1 aborted the whole summarize
    with pytest.warns(UserWarning, match=r"session 'day1' left out, it cannot be summarised: .*no condition of "
                                         r"'stimulus' has 5 trials"):
        stats = _summary(_recordings(), min_trials=5)
    assert list(stats["session"].values) == ["day0", "day2"]
    assert list(stats["session_index"].values) == [0, 2]  # day2 is still the third session of training
    assert "day1: " in stats.attrs["sessions_left_out"]
    alone = _summary([r for r in _recordings() if r.attrs["session_id"] != "day1"], min_trials=5)
    np.testing.assert_allclose(stats["task_alignment"].values, alone["task_alignment"].values, rtol=1e-10)
    # when no session can be used, nothing can be computed: the run stops with the reason
    with pytest.raises(DataError, match="no condition of 'stimulus' has 9 trials"):
        _summary(_recordings(), min_trials=9)


def test_condition_ids_of_different_kinds_across_sessions_are_refused_naming_them():
    # ints in two sessions and strings in one (a MATLAB file beside a Python one) matched no condition and
    # aborted in the pairwise stage naming a session that was fine
    recs = _recordings((4, 4, 4))
    recs[1] = recs[1].assign_coords(stimulus=recs[1]["stimulus"].astype(str))
    with pytest.raises(DataError, match=r"expected the condition column 'stimulus' to hold one kind of value in "
                                        r"every session, found numbers in \['day0', 'day2'\] and text in \['day1'\]"):
        _summary(recs)


def test_a_session_without_the_label_column_is_kept_and_without_the_where_column_left_out_not_the_run():
    # adversary F22: a passive day without 'target', or an older rig without 'is_good', stopped every session;
    # the passive day is summarised without its label (tests/stats/test_summary_labels.py), the other left out
    recs = _recordings((4, 4, 4))
    recs[1] = recs[1].drop_vars("target")
    with pytest.warns(UserWarning, match=r"session 'day1' is summarised without its task label, no task label "
                                         r"\(no trial coord 'target' in this session"):
        stats = _summary(recs)
    assert list(stats["session"].values) == ["day0", "day1", "day2"]
    assert np.isnan(stats["task_alignment"].values[1]) and np.isfinite(stats["participation_ratio"].values[1])
    recs = _recordings((4, 4, 4))
    for rec in (recs[0], recs[2]):
        rec.coords["is_good"] = ("trial", np.ones(rec.sizes["trial"], dtype=int))
    with pytest.warns(UserWarning, match=r"session 'day1' left out.*could not be evaluated"):
        stats = _summary(recs, where="is_good == 1")
    assert list(stats["session"].values) == ["day0", "day2"]
    # the same mistake in every session is the arguments': refused
    with pytest.raises(DataError, match="expected a trial coord 'side'"):
        _summary(_recordings((4, 4, 4)), target="side")
