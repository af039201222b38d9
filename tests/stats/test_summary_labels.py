"""summarize with a session whose task label cannot be used: a trial whose label contradicts its condition's
(adversary F17), a passive day without the label column. The session's label-free statistics are computed as
usual; those that need the label are NaN there with the reason; nothing else changes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.data import flag_name
from neurolearn.statistic_registry import STATISTICS
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.summary import summarize

#: statistics that need no task label (the registry's needs.min_classes == 0), of the families run here
LABEL_FREE = ("behavior", "participation_ratio", "kernel_similarity", "kernel_change", "code_overlap")
#: the statistics that need a label per condition (needs.min_classes > 0)
NEED_LABEL = tuple(name for name, entry in STATISTICS.items()
                   if entry.needs.min_classes > 0 and entry.family in ("kernel", "spectral", "readout"))


def _sessions(n_sessions=3):
    rng = np.random.default_rng(7)
    y = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
    tuning = rng.standard_normal((8, 40))
    return [make_recording(tuning + (0.5 + 0.5 * d) * np.outer(y, rng.standard_normal(40)), n_trials=4,
                           noise_sd=0.5, target=y, behavior=0.8, session_id=f"day{d}", rng=d)
            for d in range(n_sessions)]


def _mislabelled(recs, session=1, condition=3):
    recs = list(recs)
    labels = recs[session]["target"].values.copy()
    trial = np.flatnonzero(recs[session]["stimulus"].values == condition)[0]
    labels[trial] = -labels[trial]
    recs[session] = recs[session].assign_coords(target=("trial", labels))
    return recs


def _summary(recs, **kwargs):
    kwargs = {"n_boot": 20, "random_state": 0, "dynamics": False, "n_permutations": 0, **kwargs}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(recs, **kwargs)
    return stats, caught


def _assert_label_free_equal(stats, reference, names=LABEL_FREE):
    for name in names:
        for suffix in ("", "_se"):
            np.testing.assert_allclose(stats[name + suffix].values, reference[name + suffix].values,
                                       rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=name + suffix)
        assert stats[flag_name(name)].values.tolist() == reference[flag_name(name)].values.tolist(), name


def test_one_mislabelled_trial_keeps_the_sessions_label_free_statistics():
    # F17: one trial of condition 3 on day1 labelled as the other class made the kernel of day1 refused
    # (every kernel statistic of day1 NaN, and every pair with it) and the readout NaN for every session
    recs = _sessions()
    stats, caught = _summary(_mislabelled(recs))
    fixed, _ = _summary(recs)
    unlabelled, _ = _summary(recs, target=None)
    _assert_label_free_equal(stats, fixed)
    _assert_label_free_equal(stats, unlabelled)
    assert np.isfinite(stats["participation_ratio"].values).all()
    assert np.isfinite(stats["kernel_change"].values[1])
    assert np.isfinite(stats["code_overlap"].values[1, [0, 2]]).all()
    # what needs the label is NaN on day1 with the reason naming the condition and the values
    reason = ("the task label 'target' is not one value per condition of 'stimulus': condition 3 has -1.0 on 3 "
              "trials, 1.0 on 1 trial")
    for name in NEED_LABEL:
        row = np.atleast_1d(stats[name].values[1])
        assert np.isnan(row).all(), name
        flags = np.atleast_1d(stats[flag_name(name)].values[1]).tolist()
        assert all(flag.startswith(reason) for flag in flags), (name, flags)
    # the other sessions keep theirs, equal to the fixed run's (the pairs with day1 are NaN, naming it)
    for name in ("task_alignment", "task_difficulty", "spectral_power", "margin", "heldout_accuracy"):
        np.testing.assert_allclose(stats[name].values[[0, 2]], fixed[name].values[[0, 2]], rtol=1e-10)
    assert stats["target_agreement_flag"].values[0, 1].startswith("session 'day1': " + reason)
    assert np.isfinite(stats["target_agreement"].values[0, 2])
    # one session-level warning, and one StatisticWarning per statistic left NaN (none twice)
    session_warnings = [str(w.message) for w in caught if "summarised without its task label" in str(w.message)]
    assert len(session_warnings) == 1 and reason in session_warnings[0]
    statistic_warnings = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]
    for name in NEED_LABEL:
        assert sum(m.startswith(f"{name} is NaN for session 'day1'") for m in statistic_warnings) == 1, name
    assert "day1: " + reason in stats.attrs["sessions_without_label"]


def test_a_passive_day_without_the_label_column_is_summarised_with_its_label_free_statistics():
    # F22 follow-up: a day without the 'target' column was left out of the summary, its kernel similarity to
    # the training days (what a passive-viewing day is recorded for) lost with it
    recs = _sessions()
    passive = list(recs)
    passive[1] = passive[1].drop_vars("target")
    stats, caught = _summary(passive)
    assert list(stats["session"].values) == ["day0", "day1", "day2"]
    assert list(stats["session_index"].values) == [0, 1, 2]
    fixed, _ = _summary(recs)
    _assert_label_free_equal(stats, fixed)
    reason = "no task label (no trial coord 'target' in this session"
    for name in NEED_LABEL:
        assert np.isnan(np.atleast_1d(stats[name].values[1])).all(), name
        assert all(flag.startswith(reason) for flag in np.atleast_1d(stats[flag_name(name)].values[1]).tolist())
    np.testing.assert_allclose(stats["task_alignment"].values[[0, 2]], fixed["task_alignment"].values[[0, 2]],
                               rtol=1e-10)
    # the warning is kept: one, naming the session
    messages = [str(w.message) for w in caught if "summarised without its task label" in str(w.message)]
    assert len(messages) == 1 and "session 'day1'" in messages[0] and reason in messages[0]


def test_a_label_column_missing_from_every_session_is_still_the_arguments_mistake():
    from neurolearn.errors import DataError

    with pytest.raises(DataError, match="expected a trial coord 'side'"):
        _summary(_sessions(), target="side", readout=False)


def test_a_day_whose_labels_are_all_missing_is_summarised_like_a_day_without_the_column():
    # a passive day written with an empty label column: every trial was excluded and the day left out
    recs = _sessions()
    empty = list(recs)
    empty[1] = empty[1].assign_coords(target=("trial", np.full(empty[1].sizes["trial"], np.nan)))
    stats, _ = _summary(empty, readout=False)
    fixed, _ = _summary(recs, readout=False)
    assert list(stats["session"].values) == ["day0", "day1", "day2"]
    _assert_label_free_equal(stats, fixed)
    assert stats["task_alignment_flag"].values[1] == "no task label (every trial's 'target' is missing in this session)"
