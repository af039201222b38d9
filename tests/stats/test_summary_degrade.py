"""summarize degrades instead of aborting: a statistic the data cannot support is NaN with its reason in
``<name>_flag`` and one warning; declared codings, trial selection, subjects; the registry's range promise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.data import flag_name
from neurolearn.errors import DataError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.summary import summarize

QUICK = dict(readout=False, dynamics=False)


def _session(rng, d, *, n_conditions=8, n_trials=4, n_neurons=40, signal=1.0, **kwargs):
    y = np.where(np.arange(n_conditions) % 2 == 0, 1.0, -1.0)
    means = rng.standard_normal((n_conditions, n_neurons)) + signal * np.outer(y, rng.standard_normal(n_neurons))
    return make_recording(means, n_trials=n_trials, noise_sd=0.5, target=y, behavior=0.8, session_id=f"day{d}",
                          session_start_time=f"2026-01-0{d + 1}T09:00:00", rng=d, **kwargs)


def _caught(function, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = function(*args, **kwargs)
    return out, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


def test_no_task_label_gives_every_statistic_that_needs_none(rng):
    recs = [_session(rng, d) for d in range(3)]
    stats, messages = _caught(summarize, recs, target=None, n_boot=20, random_state=0, **QUICK)
    for name in ("task_alignment", "task_difficulty", "spectral_power"):
        assert np.isnan(stats[name]).all()
        assert set(stats[flag_name(name)].values.tolist()) == {"no task label (target=None)"}
    for name in ("participation_ratio", "behavior"):
        assert np.isfinite(stats[name]).all() and set(stats[flag_name(name)].values.tolist()) == {""}
    # kernel similarity needs no label: computed (any NaN is the estimator's own, never "no task label")
    assert np.isfinite(np.diag(stats["kernel_similarity"].values)).all()
    assert "no task label" not in " ".join(stats["kernel_similarity_flag"].values.ravel().tolist())
    # one warning per (statistic, reason), naming the statistic, the sessions and the reason (not one per session)
    assert "task_alignment is NaN for sessions ['day0', 'day1', 'day2']: no task label (target=None)" in messages
    assert sum(m.startswith("task_alignment is NaN") for m in messages) == 1


def test_a_single_trial_condition_on_one_day_does_not_abort_the_run(rng):
    recs = [_session(rng, d) for d in range(3)]
    keep = np.ones(recs[1].sizes["trial"], dtype=bool)
    first = np.flatnonzero(recs[1].stimulus.values == 3)
    keep[first[1:]] = False  # condition 3 shown once on day 1
    recs[1] = recs[1].isel(trial=np.flatnonzero(keep))
    stats = summarize(recs, n_boot=0, **QUICK)
    assert np.isfinite(stats["task_alignment"]).all()
    # the pairwise statistics use the conditions every session's kernel has: 7 of 8
    assert np.isfinite(np.diag(stats["kernel_similarity"].values)).all()


def test_string_outcomes_are_read_through_a_declared_mapping(rng):
    rec = _session(rng, 0, n_trials=5)
    outcome = np.where(rec.correct.values, "correct", "incorrect").astype(object)
    outcome[:4] = "no response"
    rec = rec.assign_coords(outcome=("trial", outcome))
    with pytest.raises(DataError, match=r"declare the coding, e\.g\. behavior="):
        summarize(rec, behavior="outcome", n_boot=0, **QUICK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(rec, behavior={"outcome": {"correct": 1, "incorrect": 0}}, n_boot=0, **QUICK)
    truth = rec.correct.values[4:].mean()
    assert float(stats["behavior"][0]) == pytest.approx(truth)
    assert any("4 of 40 trials have no correct/incorrect outcome" in str(w.message) for w in caught)


def test_plus_minus_one_feedback_and_mapped_targets(rng):
    rec = _session(rng, 0)
    feedback = np.where(rec.correct.values, 1, -1)
    side = np.where(rec.target.values > 0, "left", "right")
    rec = rec.assign_coords(feedback=("trial", feedback), side=("trial", side))
    plain = summarize(rec, n_boot=0, **QUICK)
    mapped = summarize(rec, target={"side": {"left": 1, "right": -1}}, behavior={"feedback": {1: 1, -1: 0}},
                       n_boot=0, **QUICK)
    assert float(mapped["behavior"][0]) == pytest.approx(float(plain["behavior"][0]))
    assert float(mapped["task_alignment"][0]) == pytest.approx(float(plain["task_alignment"][0]))


def test_where_and_min_trials_select_trials(rng):
    rec = _session(rng, 0, n_conditions=8, n_trials=4)
    everything = summarize(rec, n_boot=0, **QUICK)
    half = summarize(rec, where="stimulus < 4", n_boot=0, **QUICK)
    assert everything.attrs["where"] == "None" and half.attrs["where"] == "stimulus < 4"
    assert float(half["participation_ratio"][0]) != pytest.approx(float(everything["participation_ratio"][0]))
    with pytest.raises(DataError, match="where='no_such_column > 1'"):
        summarize(rec, where="no_such_column > 1", n_boot=0, **QUICK)
    sparse = rec.isel(trial=np.flatnonzero(~((rec.stimulus.values == 2) & (np.arange(rec.sizes["trial"]) % 2 == 0))))
    with pytest.warns(UserWarning, match=r"dropped 1 conditions of 'stimulus' with fewer than 3 trials: \[2\]"):
        summarize(sparse, min_trials=3, n_boot=0, **QUICK)


def test_sessions_of_two_subjects_are_refused(rng):
    recs = [_session(rng, d) for d in range(2)]
    recs[0].attrs["subject_id"], recs[1].attrs["subject_id"] = "mouse-A", "mouse-B"
    with pytest.raises(DataError, match=r"subjects \['mouse-A', 'mouse-B'\].*split_subjects"):
        summarize(recs, n_boot=0, **QUICK)


@pytest.mark.parametrize("option, value", [("n_boot", -1), ("n_boot", 2.5), ("level", 1.5), ("nan_policy", "drop"),
                                           ("ridge", -1.0)])
def test_bad_options_name_the_parameter(rng, option, value):
    with pytest.raises(DataError, match=option):
        summarize(_session(rng, 0), **{option: value}, **QUICK)


def test_no_stimulus_structure_never_reports_an_impossible_alignment(rng):
    # pure noise: the kernel's structure is not resolved from trial noise, so ratios are unsupported; whatever
    # is reported lies inside the estimand's range up to 3 SE and inside its own interval
    recs = [make_recording(np.zeros((8, 30)), n_trials=3, noise_sd=1.0, target=np.tile([1.0, -1.0], 4),
                           behavior=0.5, session_id=f"d{d}", rng=d) for d in range(3)]
    stats, _ = _caught(summarize, recs, n_boot=100, random_state=0, **QUICK)
    for name in ("task_alignment", "kernel_similarity", "participation_ratio"):
        entry = STATISTICS[name]
        value = stats[name].values
        se = stats[f"{name}_se"].values
        finite = np.isfinite(value)
        assert np.all((value[finite] >= entry.range[0] - 3 * se[finite] - 1e-12)
                      & (value[finite] <= entry.range[1] + 3 * se[finite] + 1e-12)), name
        ci = stats[f"{name}_ci"].values
        assert np.all((ci[..., 0][finite] <= value[finite]) & (value[finite] <= ci[..., 1][finite])), name
        assert np.all(stats[flag_name(name)].values[~finite] != ""), f"{name}: a NaN without a reason"


def test_bootstrap_replicates_are_stored_for_fits(rng):
    # the same 40 cells with the same tuning every session (a chronic recording), new trial noise each day
    y = np.tile([1.0, -1.0], 4)
    means = rng.standard_normal((8, 40)) + np.outer(y, rng.standard_normal(40))
    recs = [make_recording(means, n_trials=4, noise_sd=0.5, target=y, behavior=0.8, session_id=f"day{d}", rng=d)
            for d in range(3)]
    stats = summarize(recs, n_boot=30, random_state=0, **QUICK)
    boot = stats["task_alignment_boot"]
    assert boot.dims == ("session", "bootstrap") and boot.sizes["bootstrap"] == 30
    assert boot.attrs["resampling"] == "neurons-shared"
    np.testing.assert_allclose(boot.std("bootstrap", ddof=1).values, stats["task_alignment_se"].values, rtol=1e-10)
    assert stats["kernel_similarity_boot"].dims == ("session", "session_other", "bootstrap")
    # the same neurons every session: replicate b re-weights the same cells, so sessions' errors correlate
    corr = np.corrcoef(boot.values)
    assert corr[0, 1] > 0.5 and corr[1, 2] > 0.5


def test_nothing_computable_is_refused_with_the_reasons(rng):
    rec = make_recording(rng.standard_normal((2, 1)), n_trials=1, target=[1.0, -1.0], session_id="tiny", rng=0)
    with pytest.raises(DataError, match="no statistic could be computed"):
        summarize(rec, behavior=None, n_boot=0, **QUICK)


def test_a_bounded_statistic_with_an_se_wider_than_its_range_is_not_reported():
    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    ds = xr.Dataset({"kernel_similarity": (("session", "session_other"), [[1.0, 2.26], [2.26, 1.0]]),
                     "kernel_similarity_se": (("session", "session_other"), [[0.0, 5.6], [5.6, 0.0]]),
                     "kernel_similarity_ci": (("session", "session_other", "ci_bound"),
                                              [[[1, 1], [-1, 2.26]], [[-1, 2.26], [1, 1]]]),
                     "kernel_similarity_flag": (("session", "session_other"), [["", ""], ["", ""]])},
                    coords={"session": ["a", "b"], "session_other": ["a", "b"], "ci_bound": ["lower", "upper"]})
    with pytest.warns(StatisticWarning, match="exceeds half the estimand's range"):
        out = enforce_ranges(ds)
    assert np.isnan(out["kernel_similarity"].values[0, 1]) and out["kernel_similarity"].values[0, 0] == 1.0
    assert "do not resolve it" in out["kernel_similarity_flag"].values[1, 0]


def test_an_unbounded_change_with_an_se_above_its_declared_resolution_is_not_reported_nor_its_companions():
    # kernel_change is in units of the reference kernel's norm; -4.0 +- 11 (a 24-trial session of heavy-tailed
    # cells) says nothing, though it is inside 3 SE of its range [0, inf). A value cleared this way takes its
    # replicates and chance level with it.
    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session",)
    # (a large change measured, 6.9 +- 1.4, is kept: resolved relative to its own size). Its resolution is judged
    # on the interval's lower side (the registry's resolution_side), so the intervals are the unclipped +-1.96 SE
    # ones enforce_ranges receives
    ds = xr.Dataset({"kernel_change": (dims, [6.9, -4.0, 0.3]), "kernel_change_se": (dims, [1.4, 11.0, 0.2]),
                     "kernel_change_ci": (dims + ("ci_bound",), [[4.156, 9.644], [-25.56, 17.56], [-0.092, 0.692]]),
                     "kernel_change_flag": (dims, ["", "", ""]),
                     "kernel_change_boot": (dims + ("bootstrap",), np.ones((3, 4))),
                     "task_alignment": (dims, [0.5, 0.6, 0.7]), "task_alignment_se": (dims, [0.1, 1.04, 0.1]),
                     "task_alignment_ci": (dims + ("ci_bound",), [[0.3, 0.7], [-1, 1], [0.5, 0.9]]),
                     "task_alignment_flag": (dims, ["", "", ""]),
                     "task_alignment_chance": (dims, [0.1, 2.87, 0.1]),
                     "task_alignment_boot": (dims + ("bootstrap",), np.ones((3, 4)))},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    unit = f"{STATISTICS['kernel_change'].unresolved_above():g}"
    with pytest.warns(StatisticWarning, match=f"exceeds both {unit} .the resolution its registry entry declares"):
        out = enforce_ranges(ds)
    assert np.isnan(out["kernel_change"].values[1]) and out["kernel_change"].values[[0, 2]].tolist() == [6.9, 0.3]
    assert np.isnan(out["kernel_change_boot"].values[1]).all() and (out["kernel_change_boot"].values[2] == 1).all()
    assert np.isnan(out["task_alignment"].values[1]) and np.isnan(out["task_alignment_chance"].values[1])
    assert out["task_alignment_chance"].values[[0, 2]].tolist() == [0.1, 0.1]


def test_an_unresolved_eigenvalue_takes_the_timescale_and_count_computed_from_it():
    # noiseless exp-link rates of a 2-D latent AR(1) make the instruments near-singular in some session: an
    # eigenvalue 8.3 +- 5.0 says nothing about a system whose eigenvalues lie in [0, 1]; the timescale
    # (inf here) and the outlier count are computed from it and go with it, with its reason
    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session",)
    ds = xr.Dataset({"outlier_eigenvalue": (dims, [8.3, 0.95, 1.4]), "outlier_eigenvalue_se": (dims, [5.0, 0.02, 0.6]),
                     "outlier_eigenvalue_ci": (dims + ("ci_bound",), [[0, 15.7], [0.91, 0.99], [0.2, 2.6]]),
                     "outlier_eigenvalue_flag": (dims, ["", "", ""]),
                     "timescale": (dims, [np.inf, 0.97, np.inf]), "timescale_se": (dims, [np.inf, 0.4, np.inf]),
                     "timescale_ci": (dims + ("ci_bound",), [[0, np.inf], [0.5, 5.0], [0.1, np.inf]]),
                     "timescale_flag": (dims, ["", "", ""]),
                     "n_outlier_eigenvalues": (dims, [1.0, 1.0, 1.0])},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    with pytest.warns(StatisticWarning, match="timescale is NaN for session 'a': computed from outlier_eigenvalue"):
        out = enforce_ranges(ds)
    # 1.4 +- 0.6 is resolved relative to its own size (SE below half the estimate); 8.3 +- 5.0 is not
    assert np.isnan(out["outlier_eigenvalue"].values[0]) and out["outlier_eigenvalue"].values[1:].tolist() == [0.95, 1.4]
    assert np.isnan(out["timescale"].values[0]) and out["timescale"].values[1:].tolist() == [0.97, np.inf]
    assert np.isnan(out["n_outlier_eigenvalues"].values[0]) and out["n_outlier_eigenvalues"].values[1] == 1
    reason = str(out["outlier_eigenvalue_flag"].values[0])
    assert "do not resolve it" in reason and str(out["timescale_flag"].values[0]).endswith(reason)
    assert str(out["n_outlier_eigenvalues_flag"].values[0]).endswith(reason)
    assert out["timescale_flag"].values[1:].tolist() == ["", ""]


def test_sessions_of_different_quantities_are_warned_about_once(rng):
    recs = [_session(rng, d) for d in range(3)]
    for rec, units in zip(recs, ["count", "count", "dF/F"]):
        rec.attrs["units"] = units
    with pytest.warns(UserWarning, match=r"sessions record different quantities .*'dF/F': \['day2'\]") as caught:
        summarize(recs, n_boot=0, **QUICK)
    assert sum("different quantities" in str(w.message) for w in caught) == 1


def test_a_session_without_the_outcome_column_has_no_behaviour_and_the_run_goes_on(rng):
    # a passive-viewing day among task days: behaviour is NaN there with the reason; an undeclared coding
    # (strings) still raises, see test_string_outcomes_are_read_through_a_declared_mapping
    recs = [_session(rng, d) for d in range(3)]
    recs[1] = recs[1].drop_vars("correct")
    stats, messages = _caught(summarize, recs, n_boot=0, **QUICK)
    assert np.isnan(stats["behavior"].values[1]) and np.isfinite(stats["behavior"].values[[0, 2]]).all()
    assert "no trial coord 'correct'" in str(stats[flag_name("behavior")].values[1])
    assert np.isfinite(stats["task_alignment"].values).all()
    assert sum(m.startswith("behavior is NaN for session 'day1'") for m in messages) == 1


def test_generalization_to_held_out_stimuli_is_measured_where_trials_are_marked(rng):
    recs = [_session(rng, d, n_conditions=12, n_trials=4, signal=2.0) for d in range(2)]
    marked = [rec.assign_coords(heldout=("trial", np.isin(rec.stimulus.values, [9, 10, 11]))) for rec in recs]
    stats = summarize(marked, n_boot=20, random_state=0, **QUICK)
    for name in ("generalization_error", "heldout_behavior"):
        assert stats[name].dims == ("session",) and np.isfinite(stats[name]).all(), name
        assert set(stats[flag_name(name)].values.tolist()) == {""}
    # a linearly decodable target generalises: well below the no-learning value of 1
    assert float(stats["generalization_error"].max()) < 0.8
    assert "generalization_error" not in summarize(recs, n_boot=0, **QUICK)


def test_a_recording_with_another_neuron_dim_name_is_refused_with_the_schema(rng):
    with pytest.raises(DataError, match=r"session 'day0': expected dims \('trial', 'neuron'\).*found \('trial', 'cell'\)"):
        summarize(_session(rng, 0).rename({"neuron": "cell"}), n_boot=0, **QUICK)


def test_behaviour_se_accounts_for_repeated_stimuli():
    # each session shows 12 stimuli drawn from the task, of very different difficulty, 10 times each: the
    # fraction correct varies across sessions by the stimuli drawn, not only by the trials' coin flips
    from neurolearn.stats.behavior import behavior_estimate

    rng = np.random.default_rng(0)
    truth, hits, hits_binomial = 0.7, 0, 0
    for _ in range(400):
        p_stimulus = rng.beta(1.4, 0.6, size=12)  # mean 0.7
        stimulus = np.repeat(np.arange(12), 10)
        correct = rng.random(120) < p_stimulus[stimulus]
        import xarray as xr
        rec = xr.DataArray(np.zeros((120, 1)), dims=("trial", "neuron"),
                           coords={"correct": ("trial", correct), "stimulus": ("trial", stimulus)})
        value, se, (lo, hi) = behavior_estimate(rec, by="stimulus")
        hits += lo <= truth <= hi
        _, _, (lo_b, hi_b) = behavior_estimate(rec)
        hits_binomial += lo_b <= truth <= hi_b
    assert hits / 400 >= 0.92  # cluster-robust: covers the task's fraction correct
    assert hits_binomial / 400 < 0.85  # trials alone: far too narrow


def test_held_out_trials_declared_by_value(rng):
    # heldout={column: value}: the documented form for a column such as is_train (was refused as a coding)
    recs = [_session(rng, d, n_conditions=12, n_trials=4, signal=2.0) for d in range(2)]
    marked = [rec.assign_coords(heldout=("trial", np.isin(rec.stimulus.values, [9, 10, 11]))) for rec in recs]
    by_value = [rec.assign_coords(is_train=("trial", ~rec.heldout.values)).drop_vars("heldout")
                for rec in marked]
    plain = summarize(marked, n_boot=10, random_state=0, **QUICK)
    declared = summarize(by_value, n_boot=10, random_state=0, heldout={"is_train": False}, **QUICK)
    np.testing.assert_allclose(declared["generalization_error"].values, plain["generalization_error"].values)
    assert np.isfinite(declared["generalization_error"].values).all()
    with pytest.raises(DataError, match="heldout: expected"):
        summarize(by_value, n_boot=0, heldout={"is_train": False, "other": 1}, **QUICK)


def test_labelled_dims_in_another_order_give_the_same_statistics(rng):
    # a lab's array built as (trial, time, neuron) is the same recording: labelled dims need no fixed order
    import xarray as xr

    n_trials, n_bins, n_neurons = 24, 12, 15
    stimulus = np.repeat(np.arange(4), n_trials // 4)
    latent = np.zeros((n_trials, n_bins))
    for t in range(1, n_bins):
        latent[:, t] = 0.8 * latent[:, t - 1] + (stimulus - 1.5) * (t < 3) + rng.normal(0, 0.3, n_trials)
    values = latent[:, :, None] * rng.normal(size=n_neurons) + rng.normal(0, 0.5, (n_trials, n_bins, n_neurons))
    rec = xr.DataArray(values, dims=("trial", "time", "neuron"),
                       coords={"stimulus": ("trial", stimulus), "target": ("trial", np.where(stimulus < 2, 1, -1)),
                               "time": 0.05 * np.arange(n_bins)},
                       attrs={"session_id": "s0"})
    kwargs = dict(n_boot=20, random_state=0, behavior=None, readout=False)
    other = summarize(rec, **kwargs)
    canonical = summarize(rec.transpose("trial", "neuron", "time"), **kwargs)
    for name in ("task_alignment", "outlier_eigenvalue", "timescale"):
        np.testing.assert_allclose(other[name].values, canonical[name].values, rtol=1e-12, err_msg=name)
