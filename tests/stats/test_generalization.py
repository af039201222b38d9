"""generalization_summary: the held-out column, the readout's held-out error, held-out behaviour, reasons."""

import warnings

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.simulate.two_layer import simulate_readout_learning_sessions
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.generalization import generalization_summary, readout_generalization_error


def _session(means, targets, heldout, *, n_trials=4, noise_sd=0.0, p_correct=None, rng=0, session_id="s0"):
    rec = make_recording(means, n_trials=n_trials, noise_sd=noise_sd, target=targets, behavior=p_correct,
                         session_id=session_id, rng=rng)
    return rec.assign_coords(heldout=("trial", np.asarray(heldout)[rec.stimulus.values]))


def test_a_target_the_representation_carries_linearly_is_predicted_exactly():
    # noiseless responses in 200 dims, target linear in them, 30 training conditions: the minimum-norm readout
    # recovers the projection of the target weights onto the training span; with a 5-dim signal it is exact
    rng = np.random.default_rng(1)
    latent = rng.standard_normal((60, 5))
    means = latent @ rng.standard_normal((5, 200))
    y = latent @ rng.standard_normal(5)
    trials = np.repeat(np.arange(60), 2)
    error = readout_generalization_error(means[trials], y[trials], trials, trials >= 30)
    assert abs(error) < 1e-8


def test_a_target_unrelated_to_the_representation_reads_one():
    # independent random responses in 2000 dims: held-out predictions ~ 0, so the error is the held-out mean
    # square over the overall mean square (~1, within its sampling spread over 40 held-out conditions)
    rng = np.random.default_rng(2)
    means = rng.standard_normal((80, 2000))
    y = rng.standard_normal(80)
    trials = np.repeat(np.arange(80), 2)
    errors = [readout_generalization_error(means[trials], y[trials], trials, trials % 2 == 0)]
    rng = np.random.default_rng(3)
    for _ in range(20):
        y = rng.standard_normal(80)
        errors.append(readout_generalization_error(means[trials], y[trials], trials, trials % 2 == 0))
    assert np.mean(errors) == pytest.approx(1.0, abs=0.1)


def test_held_out_trial_noise_is_removed_without_bias():
    # the training trials are fixed; only the held-out trials' noise is redrawn. The noise-corrected estimate
    # averages to the error of the same readout on the noiseless held-out means (independent implementation)
    rng = np.random.default_rng(4)
    n_cond, n_neurons, n_trials, sd = 40, 30, 5, 0.8
    latent = rng.standard_normal((n_cond, 3))
    means = latent @ rng.standard_normal((3, n_neurons))
    y = latent @ rng.standard_normal(3) + 0.3 * rng.standard_normal(n_cond)
    held = np.arange(n_cond) >= 20
    cond = np.repeat(np.arange(n_cond), n_trials)
    train_trials = means[cond] + sd * rng.standard_normal((cond.size, n_neurons))
    train_means = np.array([train_trials[cond == c].mean(0) for c in range(20)])
    offset, y_mean = train_means.mean(0), y[:20].mean()  # the readout centres both by the training means
    centred = train_means - offset
    kernel = centred @ centred.T / n_neurons
    w = centred.T @ np.linalg.lstsq(kernel, y[:20] - y_mean, rcond=None)[0] / n_neurons
    baseline = np.mean((y[held] - y_mean) ** 2)  # the error of predicting the training mean
    expected = np.mean((y_mean + (means[held] - offset) @ w - y[held]) ** 2) / baseline
    naive, corrected = [], []
    for _ in range(300):
        trials = train_trials.copy()
        rows = held[cond]
        trials[rows] = means[cond[rows]] + sd * rng.standard_normal((rows.sum(), n_neurons))
        corrected.append(readout_generalization_error(trials, y[cond], cond, held[cond]))
        test_means = np.array([trials[cond == c].mean(0) for c in np.nonzero(held)[0]])
        naive.append(np.mean((y_mean + (test_means - offset) @ w - y[held]) ** 2) / baseline)
    spread = np.std(corrected) / np.sqrt(len(corrected))
    assert np.mean(corrected) == pytest.approx(expected, abs=4 * spread)
    assert np.mean(naive) - expected > 10 * spread  # the correction matters here


def _centred_readout_error(probe, n_train, eigen_decay=1.5, target_decay=2.0):
    """Exact test error (over inputs, target variance 1) of the readout the estimator fits: the training mean
    plus min-norm kernel regression of the centred target on the centred features of the first n_train
    probes (the simulator's own readout knows the target's mean, 0, and does not centre)."""
    modes = np.arange(1, probe.shape[1] + 1.0)
    eta = modes**-eigen_decay / np.sum(modes**-eigen_decay)
    weights = modes ** (-0.5 * target_decay) / np.linalg.norm(modes ** (-0.5 * target_decay))
    features = probe[:n_train] * np.sqrt(eta)  # phi(x); the target is phi . (weights / sqrt(eta))
    offset, y = features.mean(0), probe[:n_train] @ weights
    centred = features - offset
    w_hat = centred.T @ np.linalg.lstsq(centred @ centred.T, y - y.mean(), rcond=None)[0]
    # E_x (ybar - offset . w_hat + phi(x) . (w_hat - w))^2 with phi(x) ~ N(0, diag(eta))
    return (y.mean() - offset @ w_hat) ** 2 + np.sum(eta * (w_hat - weights / np.sqrt(eta)) ** 2)


def test_summary_follows_the_kernel_learning_curve_of_the_simulated_readout():
    # readout trained on the first n_train probes; the recording's readout on the same training stimuli, which
    # centres target and responses by the training conditions' means (its exact error computed here)
    tree, truth = simulate_readout_learning_sessions(n_sessions=6, examples_per_session=8, n_conditions=80,
                                                     n_neurons=1000, trained_probes=True, rng=5)
    recs = {key: child.dataset["responses"] for key, child in tree.children.items()}
    with pytest.warns(StatisticWarning, match="no training-stimulus trials"):
        ds = generalization_summary(recs, target="target_value", by="stimulus", n_boot=100, random_state=0)
    value = ds["generalization_error"].values[1:]
    truth_error = np.array([_centred_readout_error(truth.probe_inputs, int(n))
                            for n in truth.extra["n_train"][1:]])
    # the centred readout reads the simulator's (uncentred) readout within the noise from 16 examples on
    np.testing.assert_allclose(truth_error[1:], truth.generalization_error[2:], rtol=0.25)
    r2 = 1 - np.sum((value - truth_error) ** 2) / np.sum((truth_error - truth_error.mean()) ** 2)
    assert r2 >= 0.95
    lo, hi = ds["generalization_error_ci"].values[1:].T
    assert np.all((lo <= value) & (value <= hi))
    assert np.mean((lo <= truth_error) & (truth_error <= hi)) >= 0.8
    assert ds["generalization_error_boot"].dims == ("session", "bootstrap")
    assert ds["generalization_error_boot"].attrs["resampling"] == "independent"
    assert str(ds["generalization_error_flag"].values[0]).startswith("no training-stimulus trials")
    assert np.isnan(ds["generalization_error"].values[0])
    assert np.isnan(ds["generalization_error_ci"].values[0]).all()


def test_behaviour_method_is_one_minus_held_out_fraction_correct():
    rng = np.random.default_rng(6)
    means = rng.standard_normal((10, 5))
    held = np.arange(10) >= 6
    p = np.where(held, 0.6, 0.95)
    recs = {f"s{k}": _session(means, np.arange(10.0), held, n_trials=30, p_correct=p, rng=k,
                              session_id=f"s{k}") for k in range(3)}
    ds = generalization_summary(recs, target="target", by="stimulus", method="behavior", n_boot=50,
                                random_state=0)
    for k, rec in enumerate(recs.values()):
        correct = rec.correct.values[rec.heldout.values]
        assert ds["generalization_error"].values[k] == pytest.approx(1 - correct.mean(), abs=1e-12)
        assert ds["heldout_behavior"].values[k] == pytest.approx(correct.mean(), abs=1e-12)
        se = np.sqrt(correct.mean() * (1 - correct.mean()) / correct.size)
        assert ds["generalization_error_se"].values[k] == pytest.approx(se, rel=1e-6)
        lo, hi = ds["generalization_error_ci"].values[k]
        assert lo <= ds["generalization_error"].values[k] <= hi
    assert ds["generalization_error_boot"].sizes["bootstrap"] == 50
    assert "generalization_error_fixed_se" not in ds.coords  # no training set the SE could hold fixed


def test_sessions_the_data_cannot_support_are_nan_with_reasons_not_errors():
    rng = np.random.default_rng(7)
    means = rng.standard_normal((6, 8))
    recs = {
        "none": _session(means, np.arange(6.0), np.zeros(6, bool), session_id="none"),
        "all": _session(means, np.arange(6.0), np.ones(6, bool), session_id="all"),
        "ok": _session(means, np.arange(6.0), np.arange(6) >= 3, session_id="ok"),
    }
    mixed = recs["ok"].copy()
    recs["mixed"] = mixed.assign_coords(heldout=("trial", np.arange(mixed.sizes["trial"]) % 2 == 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = generalization_summary(recs, target="target", by="stimulus", n_boot=10, random_state=0)
    flags = dict(zip(ds.session.values, ds["generalization_error_flag"].values))
    assert flags["none"] == "no held-out trials (heldout marks none)"
    assert flags["all"].startswith("no training-stimulus trials")
    assert flags["mixed"] == "the held-out column varies within a condition"
    assert flags["ok"] == "" and np.isfinite(ds["generalization_error"].sel(session="ok"))
    assert np.isnan(ds["generalization_error"].sel(session=["none", "all", "mixed"])).all()
    messages = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]
    assert sum("generalization_error is NaN for session" in m for m in messages) == 3
    assert "heldout_behavior" not in ds  # no behaviour column in these sessions


def test_bad_options_and_missing_columns_raise():
    rec = _session(np.eye(4), np.arange(4.0), np.arange(4) >= 2)
    with pytest.raises(DataError, match="method"):
        generalization_summary({"s": rec}, target="target", by="stimulus", method="decoder")
    with pytest.raises(DataError, match="marking held-out trials"):
        generalization_summary({"s": rec}, target="target", by="stimulus", heldout="novel")
    with pytest.raises(DataError, match="needs a behaviour column"):
        generalization_summary({"s": rec}, target="target", by="stimulus", method="behavior", behavior=None)
    ds = generalization_summary({"s": rec}, target="target", by="stimulus", n_boot=0)
    assert "generalization_error_boot" not in ds and np.isnan(ds["generalization_error_se"]).all()
    # a session without the column, beside sessions with it, is that session's problem: NaN with the reason
    with pytest.warns(StatisticWarning, match="no held-out column 'heldout' in this session"):
        ds = generalization_summary({"s": rec, "t": rec.drop_vars("heldout")}, target="target", by="stimulus",
                                    n_boot=0)
    value = ds["generalization_error"].values
    assert np.isfinite(value[0]) and np.isnan(value[1])


def test_fixed_training_set_drops_exactly_the_training_jackknife_spread():
    # the same draws either way: the default replicates are the fixed ones plus the leave-one-training-
    # condition-out jackknife SD times normal draws, that SD recomputed here from the public estimator
    tree, _ = simulate_readout_learning_sessions(n_sessions=3, examples_per_session=8, n_conditions=40,
                                                 n_neurons=200, trained_probes=True, rng=1)
    recs = {key: child.dataset["responses"] for key, child in tree.children.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)  # session 0 has no training stimuli
        default = generalization_summary(recs, target="target_value", by="stimulus", n_boot=400, random_state=2)
        fixed = generalization_summary(recs, target="target_value", by="stimulus", n_boot=400, random_state=2,
                                       training_set="fixed")
    np.testing.assert_array_equal(default["generalization_error"].values, fixed["generalization_error"].values)
    assert fixed.attrs["generalization_training_set"] == "fixed"
    for index in (1, 2):
        rec = recs[f"session-{index:02d}"]
        y, cond, held = rec.target_value.values, rec.stimulus.values, rec.heldout.values
        values = np.array([readout_generalization_error(rec.values[cond != c], y[cond != c], cond[cond != c],
                                                        held[cond != c]) for c in np.unique(cond[~held])])
        spread = np.sqrt((values.size - 1) / values.size * np.sum((values - values.mean()) ** 2))
        diff = default["generalization_error_boot"].values[index] - fixed["generalization_error_boot"].values[index]
        assert np.std(diff) == pytest.approx(spread, rel=0.15)  # 400 normal draws: 3.5 % SD
        assert fixed["generalization_error_se"].values[index] < default["generalization_error_se"].values[index]
    with pytest.raises(DataError, match="training_set: expected one of"):
        generalization_summary(recs, target="target_value", by="stimulus", training_set="none")


def test_every_summary_keeps_the_fixed_training_set_se_beside_its_own(tmp_path):
    # the SE a fit adding the model's learner covariance weights by (fitting.training_set): the same replicates
    # without the training-set jackknife, so bit-equal to the SE of training_set="fixed" (the same draws); the
    # statistic's own SE and interval stay the default's (its replicates' SE, the jackknife included)
    from neurolearn.files import read_statistics, write_statistics
    from neurolearn.fitting.training_set import FIXED_TRAINING_SET_SE
    from neurolearn.stats.estimate import bootstrap_interval
    from neurolearn.stats.generalization import FIXED_SE

    assert FIXED_SE == FIXED_TRAINING_SET_SE  # the name the summary writes is the name the fit reads
    tree, _ = simulate_readout_learning_sessions(n_sessions=3, examples_per_session=8, n_conditions=40,
                                                 n_neurons=200, trained_probes=True, rng=1)
    recs = {key: child.dataset["responses"] for key, child in tree.children.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)  # session 0 has no training stimuli
        default = generalization_summary(recs, target="target_value", by="stimulus", n_boot=200,
                                         random_state=3)
        fixed = generalization_summary(recs, target="target_value", by="stimulus", n_boot=200, random_state=3,
                                       training_set="fixed")
    assert FIXED_SE in default.coords and FIXED_SE not in default.data_vars
    assert default[FIXED_SE].dims == ("session",)
    np.testing.assert_array_equal(default[FIXED_SE].values, fixed["generalization_error_se"].values)
    np.testing.assert_array_equal(fixed[FIXED_SE].values, fixed["generalization_error_se"].values)
    assert np.isnan(default[FIXED_SE].values[0])  # the session left NaN
    for index in (1, 2):
        value = default["generalization_error"].values[index]
        se, interval = bootstrap_interval(value, default["generalization_error_boot"].values[index], 0.95)
        assert default["generalization_error_se"].values[index] == pytest.approx(se, rel=1e-12)
        assert default["generalization_error_ci"].values[index] == pytest.approx(interval, rel=1e-12)
        assert default[FIXED_SE].values[index] < 0.8 * default["generalization_error_se"].values[index]
    # written and read back (NetCDF): still a coord on session, the same values
    back = read_statistics(write_statistics(default, tmp_path / "stats.nc"))
    assert FIXED_SE in back.coords and back[FIXED_SE].dims == ("session",)
    np.testing.assert_allclose(back[FIXED_SE].values, default[FIXED_SE].values, rtol=1e-15)
    # no replicates, or the behaviour method: no fixed-training-set SE to store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        unbootstrapped = generalization_summary(recs, target="target_value", by="stimulus", n_boot=0)
    assert FIXED_SE not in unbootstrapped.coords


def test_each_session_counts_its_training_conditions_under_the_name_the_fit_reads():
    # adversary S5-10: a fit of a learning curve in the training set's size must be able to see that the set
    # never grew (fitting.training_set.training_set_unchanged)
    from neurolearn.fitting.training_set import TRAINING_CONDITIONS as READ
    from neurolearn.stats.generalization import TRAINING_CONDITIONS

    assert TRAINING_CONDITIONS == READ
    means = np.random.default_rng(0).standard_normal((8, 30))
    targets = np.where(np.arange(8) % 2, 1.0, -1.0)
    recs = {f"s{k}": _session(means, targets, np.arange(8) >= 8 - held, rng=k, session_id=f"s{k}")
            for k, held in enumerate((2, 3, 4))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        ds = generalization_summary(recs, target="target", by="stimulus", n_boot=0)
    assert ds[TRAINING_CONDITIONS].dims == ("session",)
    np.testing.assert_array_equal(ds[TRAINING_CONDITIONS].values, [6.0, 5.0, 4.0])
