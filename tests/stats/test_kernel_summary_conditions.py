"""Pairwise kernel statistics over the conditions the sessions share (adversary F3).

A session that showed one stimulus (a calibration day) made the set every session shows one condition, and
kernel_similarity, kernel_change and the agreements NaN for every session. Such a session is left out of the
shared set, NaN on its own with the reason, and the others are as if it had not been recorded.
"""

import warnings

import numpy as np

from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.summary import summarize


def _sessions(with_calibration_day):
    rng = np.random.default_rng(5)
    y = np.repeat([1.0, -1.0], 4)
    tuning = rng.standard_normal((8, 50))
    recs = []
    for d in range(4):
        means = tuning + 0.3 * d * np.outer(y, rng.standard_normal(50))
        recs.append(make_recording(means, n_trials=4, noise_sd=0.5, target=y, behavior=0.7, session_id=f"day{d}",
                                   rng=d))
    if with_calibration_day:
        recs.insert(2, make_recording(tuning[:1], n_trials=6, noise_sd=0.5, target=[1.0], behavior=0.7,
                                      session_id="calibration", rng=9))
    return make_session_tree(recs)


def _summary(tree):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(tree, n_boot=20, random_state=0, readout=False, dynamics=False)
    return stats, [str(w.message) for w in caught]


def test_a_session_sharing_too_few_conditions_is_left_out_of_the_shared_set_alone():
    alone, _ = _summary(_sessions(False))
    stats, messages = _summary(_sessions(True))
    days = [s for s in stats["session"].values if s != "calibration"]
    kept = stats.sel(session=days, session_other=days) if "session_other" in stats.dims else stats.sel(session=days)
    np.testing.assert_allclose(kept["kernel_similarity"].values, alone["kernel_similarity"].values, rtol=1e-9)
    assert np.isfinite(kept["kernel_change"].values[1:]).all()
    calibration = stats.sel(session="calibration")
    assert np.isnan(calibration["kernel_change"]) and np.isnan(calibration["kernel_similarity"]).all()
    flag = str(calibration["kernel_change_flag"].values)
    assert "shows 1 conditions, 1 of them shared" in flag and "left out of the condition set" in flag
    assert any("calibration" in m and "left out of the condition set" in m for m in messages)
    # left out, it does not narrow the others' set: no warning that every pair lost conditions
    assert not any("of every pair of sessions are over" in m for m in messages)
    assert stats.attrs["pairwise_conditions"] == ", ".join(str(c) for c in range(8))


def test_a_day_lacking_one_condition_narrows_every_pair_and_says_so_once():
    # adversary S7-1: one day missing one of 8 conditions moved every pair's kernel_similarity (the estimand's
    # condition set is the trajectory's) without a warning, a flag or an attr
    tree = _sessions(False)
    recordings = {key: tree[key].dataset["responses"] for key in tree.children}
    last = recordings["day3"]
    condition = last.coords["stimulus"].values
    recordings["day3"] = last.isel(trial=np.flatnonzero(condition != condition.max()))
    stats, messages = _summary(recordings)
    narrowed = [m for m in messages if "of every pair of sessions are over" in m]
    assert len(narrowed) == 1, narrowed
    assert f"condition [{condition.max()}] not shown in session ['day3']" in narrowed[0]
    assert "over the 7 conditions" in narrowed[0] and "kernel_similarity" in narrowed[0]
    shown = sorted(set(condition.tolist()) - {condition.max()})
    assert stats.attrs["pairwise_conditions"] == ", ".join(str(c) for c in shown)
    # the values are those of the sessions restricted to the 7 conditions: what the warning says they are over
    restricted = {key: rec.isel(trial=np.flatnonzero(np.isin(rec.coords["stimulus"].values, shown)))
                  for key, rec in recordings.items()}
    same, messages = _summary(restricted)
    assert not any("of every pair of sessions are over" in m for m in messages)
    np.testing.assert_allclose(stats["kernel_similarity"].values, same["kernel_similarity"].values, rtol=1e-9)
