"""readout_summary: the Dataset form, and degrading per session instead of aborting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.readout import readout_summary

STATS = ("decoder_accuracy", "heldout_accuracy", "margin", "flip_fraction", "fisher_discriminant")
FAST = dict(n_boot=10, random_state=1, n_refits=3, n_permutations=2)


def _sessions(rng, n_sessions=3, n_trials=3, n_conditions=20, n_neurons=8):
    labels = np.repeat([1, -1], n_conditions // 2)
    base = rng.standard_normal((n_conditions, n_neurons))
    return {f"day{d}": make_recording(np.c_[(0.5 + d) * labels, base], n_trials=n_trials, noise_sd=0.5,
                                      target=labels, rng=d, session_id=f"day{d}") for d in range(n_sessions)}


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


def test_readout_summary_form(rng):
    ds, messages = _caught(lambda: readout_summary(_sessions(rng), **FAST))
    assert ds["session"].values.tolist() == ["day0", "day1", "day2"]
    assert ds["session_index"].values.tolist() == [0, 1, 2]
    for stat in STATS:
        assert ds[stat].dims == ("session",) and ds[f"{stat}_se"].dims == ("session",)
        assert ds[f"{stat}_ci"].dims == ("session", "ci_bound") and ds[f"{stat}_ci"].attrs["level"] == 0.95
        assert ds[f"{stat}_flag"].dims == ("session",)
        assert ds[f"{stat}_boot"].dims == ("session", "bootstrap")
        assert ds[f"{stat}_boot"].attrs["resampling"] == "independent"
        ok = np.isfinite(ds[stat].values)
        lower, upper = ds[f"{stat}_ci"].values[ok].T
        assert np.all((lower <= ds[stat].values[ok]) & (ds[stat].values[ok] <= upper))  # contains its estimate
    for stat in ("decoder_accuracy", "heldout_accuracy", "fisher_discriminant"):
        assert ds[f"{stat}_pvalue"].dims == ("session",) and ds[f"{stat}_chance"].dims == ("session",)
    assert ds["flip_fraction_flag"].values.tolist()[0] == "first session" and not messages  # not a warning
    assert np.isnan(float(ds["flip_fraction"][0])) and np.isfinite(ds["flip_fraction"][1:]).all()
    assert ds.attrs["n_neurons"] == 9
    assert np.all(ds["margin"] > ds["margin_chance"]) and ds["margin"][2] > ds["margin"][0]
    # The margin fills its n_refits replicates, NaN after them.
    assert np.isfinite(ds["margin_boot"].values[:, :3]).all() and np.isnan(ds["margin_boot"].values[:, 3:]).all()


def test_four_conditions_of_four_trials_degrade_instead_of_aborting(rng):
    # The issue's shape: 4 conditions x 4 trials gave "a test fold has 1 trial(s) of one class" for d' and
    # aborted every statistic. Now the folds shrink where the estimand allows it and the rest is computed.
    labels = np.array([1, 1, -1, -1])
    recs = {d: make_recording(np.c_[2 * labels, rng.standard_normal((4, 5))], n_trials=4, noise_sd=0.5,
                              target=labels, rng=i, session_id=d) for i, d in enumerate(("a", "b"))}
    ds, messages = _caught(lambda: readout_summary(recs, **FAST))
    for stat in ("decoder_accuracy", "heldout_accuracy", "margin", "fisher_discriminant"):
        assert np.isfinite(ds[stat]).all(), (stat, ds[f"{stat}_flag"].values)
    assert ds.attrs["condition_splits"] == 2
    assert not [m for m in messages if "fisher" in m]


def test_no_label_constant_label_and_multiclass_are_flagged_per_session(rng):
    recs = _sessions(rng, n_sessions=3)
    recs["day1"] = recs["day1"].assign_coords(target=("trial", np.ones(recs["day1"].sizes["trial"], int)))
    labels3 = np.arange(recs["day2"].sizes["trial"]) % 3
    recs["day2"] = recs["day2"].assign_coords(target=("trial", labels3))
    ds, messages = _caught(lambda: readout_summary(recs, **FAST))
    assert np.isfinite(ds["decoder_accuracy"].sel(session="day0"))
    assert "one class of 'target'" in str(ds["margin_flag"].sel(session="day1").values)
    assert np.isnan(ds["decoder_accuracy"].sel(session="day1"))
    assert "more than two classes" in str(ds["fisher_discriminant_flag"].sel(session="day2").values)
    assert np.isfinite(ds["decoder_accuracy"].sel(session="day2"))  # multi-class decoding still works
    # One warning per (session, statistic) that is NaN, naming both.
    assert sum("for session 'day1'" in m for m in messages) == 5
    assert any(m.startswith("margin is NaN for session 'day2'") for m in messages)
    none, messages = _caught(lambda: readout_summary(_sessions(rng, n_sessions=2), target=None, **FAST))
    for stat in STATS:
        assert np.isnan(none[stat]).all()
    assert set(none["margin_flag"].values.tolist()) == {"no task label (target=None)"}
    assert none.attrs["target"] == "none" and len(messages) == 10  # 5 statistics x 2 sessions


def test_one_to_three_neurons_still_decode(rng):
    labels = np.repeat([1, -1], 6)
    for n in (1, 2, 3):
        recs = {d: make_recording(np.c_[2 * labels, rng.standard_normal((12, n - 1))], n_trials=4, noise_sd=0.5,
                                  target=labels, rng=i) for i, d in enumerate(("a", "b"))}
        ds, _ = _caught(lambda: readout_summary(recs, **FAST))
        assert np.all(ds["decoder_accuracy"] > 0.8), n
        assert np.isfinite(ds["margin"]).all() and np.isfinite(ds["fisher_discriminant"]).all()


def test_one_stimulus_per_class_flags_what_needs_conditions(rng):
    single = {d: make_recording(np.array([[2.0, 0.0], [-2.0, 0.0]]), n_trials=10, noise_sd=0.5, target=[1, -1],
                                rng=i) for i, d in enumerate(("a", "b"))}
    ds, messages = _caught(lambda: readout_summary(single, **FAST))
    assert np.isnan(ds["heldout_accuracy"]).all() and np.isnan(ds["flip_fraction"]).all()
    assert set(ds["heldout_accuracy_flag"].values.tolist()) == {"fewer than 2 conditions per class of 'target'"}
    assert np.isfinite(ds["margin"]).all() and np.isfinite(ds["decoder_accuracy"]).all()
    # One condition per class: a condition-level null would only rename the classes (equal to the data by
    # construction), so single trials are permuted; the clearly separated means then decode above chance
    assert set(ds["decoder_accuracy_flag"].values.tolist()) == {""}
    assert (ds["decoder_accuracy"] > ds["decoder_accuracy_chance"] + 0.3).all()


def test_readout_summary_refuses_what_is_not_a_set_of_sessions(rng):
    with pytest.raises(DataError, match="expected a non-empty dict"):
        readout_summary([next(iter(_sessions(rng).values()))])


def test_a_readout_without_a_direction_in_one_fold_leaves_the_other_statistics_computed():
    # pure noise, 4 conditions x 2 trials x 6 neurons: in some cross-validation fold of this seed (15 of 0-29)
    # the noise-removed condition means coincide and the SVM has no direction; its test conditions sat at
    # distance -inf, which flip_fraction refused with a DataError that blanked every readout statistic of
    # every session. They are on the boundary (distance 0) instead, and the run keeps its numbers.
    from neurolearn.stats.summary import summarize

    recs = [make_recording(np.zeros((4, 6)), n_trials=2, noise_sd=1.0, target=[1.0, -1.0, 1.0, -1.0],
                           session_id=f"d{d}", rng=150 + d) for d in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize(recs, n_boot=0, dynamics=False, behavior=None, random_state=0)
    assert np.isfinite(stats["decoder_accuracy"].values).all()
    assert np.isfinite(stats["flip_fraction"].values[1])
    assert not any("finite distances" in str(flag) for flag in stats["flip_fraction_flag"].values)


def test_a_continuous_target_leaves_the_readouts_nan_with_a_reason_and_two_float_values_are_two_classes():
    # a regression target (10 non-integral values) raised sklearn's untyped "continuous" ValueError out of
    # summarize; the kernel statistics take it as one column and are computed
    from neurolearn.stats.summary import summarize

    rng = np.random.default_rng(3)
    means = rng.standard_normal((10, 30))
    values = 0.37 * np.arange(10)
    rec = make_recording(means + np.outer(values, rng.standard_normal(30)), n_trials=4, noise_sd=0.5,
                         target=values, session_id="day1", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize(rec, n_boot=0, dynamics=False, behavior=None, random_state=0)
    assert np.isfinite(stats["task_alignment"].values).all()
    for name in ("decoder_accuracy", "heldout_accuracy", "margin", "fisher_discriminant"):
        assert np.isnan(stats[name].values).all(), name
        assert "continuous task label" in str(stats[f"{name}_flag"].values[0]), name
    # two float values: two classes, decoded as 0/1
    two = make_recording(means + np.outer(np.arange(10) % 2, 2 * rng.standard_normal(30)), n_trials=4,
                         noise_sd=0.5, target=np.where(np.arange(10) % 2, 0.7, 0.2), session_id="day1", rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize(two, n_boot=0, dynamics=False, behavior=None, random_state=0)
    assert float(stats["decoder_accuracy"].values[0]) > 0.8 and np.isfinite(stats["margin"].values[0])
