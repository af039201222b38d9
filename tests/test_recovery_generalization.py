"""grokking and kernel-learning-curve fitted from recordings: simulate the network, measure through the
package's extractors (summarize + generalization_summary, merged on ``session``), fit, recover the parameters.

* kernel-learning-curve: the readout of a fixed representation learns from the first ``n_train`` probe
  stimuli (``trained_probes=True``; those trials are marked ``heldout=False``), so the recording's readout
  error on the held-out stimuli measures the model's ``generalization_error`` (target variance not predicted);
  the design knows the training amount per session (``training_time`` = examples; time scale and onset fixed,
  as in tests/test_recovery.py). The truth is the simulator's parameters. Its behaviour is ``heldout_behavior``,
  the held-out trials' fraction correct (generalization_summary's, or summarize's alone with the held-out column).
* grokking: held-out trials are answered with the network's test performance (``heldout_behavior="test"``),
  so ``1 -`` held-out fraction correct measures ``L_test / L0``; behaviour and alignment come from the
  training-stimulus trials (``where="heldout == False"``). The network has no closed-form parameters, so the
  reference is the model fitted to the network's exact behaviour and test loss, weighted by the measured SEs.
  summarize alone gives the same split where the trials table has its held-out column: ``behavior`` counts the
  trials it does not mark.

kernel-learning-curve is fitted with the model's learner covariance (:mod:`neurolearn.fitting.learner`): one
network's curve scatters about the theory's mean by an amount correlated across its nested training sets, which
the fit adds at a pilot fit's parameters and refits with, so the generalisation statistic's own intervals leave
the training set out (``training_set="fixed"``). Measured 2026-12-06 (benchmarks/bench_klc_recovery.py, seeds
0-19): 95% intervals held the true eigen_decay and target_decay in 38/40 = 0.950 (before: 13/20 over seeds 0-9
with the jackknife SEs and no learner covariance); the misses are target_decay lower bounds 2.002-2.045 against
2.0. Neither is bounded from above by one learner's curve: eigen_decay's intervals reach the upper search bound
4.0 in 19 of 20 networks (with target_decay = 2 the learning curves of eigen_decay 1.5 and 2.5 differ by < 7 %
at 5-100 examples), target_decay's reach 6.0 in 14 of 20. grokking's intervals held the reference rich_rate and
plateau in 6/6 each (seeds 0-5).

Until summarize computes ``generalization_error`` itself, the statistics are ``xr.merge`` of both outputs (the
generalisation replicates on their own bootstrap dim, as summarize keeps each family's draw apart).
"""

import warnings

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.simulate.grokking import simulate_grokking_sessions
from neurolearn.simulate.two_layer import simulate_readout_learning_sessions
from neurolearn.stats.generalization import generalization_summary
from neurolearn.stats.summary import summarize
from tests._helpers import r_squared

KNOWN_IN_DESIGN = {"time_scale": 1.0, "onset": 0.0, "ridge": 0.0}


def _statistics(tree, *, target, method, where=None, training_set="jackknife"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sessions without training stimuli are NaN with their reason
        # behaviour may come from the trained stimuli only (where=); the generalisation from all trials
        stats = summarize(tree, where=where, n_boot=20, random_state=0, readout=False, dynamics=False,
                          heldout=None, scheduler="synchronous")
        recordings = {key: child.dataset["responses"] for key, child in tree.children.items()}
        generalization = generalization_summary(recordings, target=target, by="stimulus", method=method,
                                                n_boot=100, random_state=0, training_set=training_set)
    generalization = generalization.rename(bootstrap="bootstrap_generalization")
    return xr.merge([stats, generalization], join="left", combine_attrs="override")


def _kernel_curve_fit(seed, n_neurons=400):
    tree, truth = simulate_readout_learning_sessions(n_sessions=11, examples_per_session=10, n_conditions=140,
                                                     n_neurons=n_neurons, trained_probes=True, rng=seed)
    # the training set's variability is the model's learner covariance, which the fit adds itself
    stats = _statistics(tree, target="target_value", method="readout", training_set="fixed")
    stats = stats.assign_coords(training_time=("session", truth.extra["n_train"]))
    return truth, stats, nl.fit(stats, "kernel-learning-curve", fixed=KNOWN_IN_DESIGN, random_state=0)


def test_kernel_learning_curve_recovered_from_recordings():
    truth, stats, result = _kernel_curve_fit(seed=0)
    assert result.success, result.message
    for name in ("eigen_decay", "target_decay", "chance"):
        lo, hi = result.ci[name]
        assert lo <= truth.parameters[name] <= hi, (name, result.params[name], (lo, hi))
    # fitted with the model's learner covariance (one learner's nested training set), evaluated near the estimate
    assert result.learner_covariance is not None and "learner covariance" in result.message
    assert abs(result.learner_covariance["target_decay"] - result.params["target_decay"]) < 0.5
    # the extractor follows the simulated learner's exact error (seeds 0-2: R^2 0.975, 0.991, 0.971) ...
    measured = stats["generalization_error"].values
    finite = np.isfinite(measured)
    assert r_squared(measured[finite], np.asarray(truth.generalization_error)[finite]) >= 0.95
    # ... and the fitted mean curve is consistent with it under the recording's and the learner's covariance (one
    # learner's curve is not the theory's mean: R^2 of the exact error against the theory at the truth is 0.94,
    # 0.88, 0.77 in seeds 0-2, so the fit no longer follows the measured curve to R^2 0.95: 0.93 here)
    assert result.chi2_pvalue > 0.01, (result.chi2, result.n_obs - result.n_params)
    # target_decay is bounded from below once generalization_error is measured (the lower search bound is 0.5);
    # one learner's curve does not bound it from above (the interval reaches 6.0 in 14 of 20 networks)
    assert result.ci["target_decay"][0] > 1.5


def test_kernel_learning_curve_fitted_from_summarize_alone_with_a_held_out_column():
    # the model's behaviour (linked to E_g) is performance on new stimuli: summarize's heldout_behavior where the
    # trials table marks the held-out stimuli, joined on name; behavior (the training stimuli's there) is not
    # fitted. Before the model's observable was renamed heldout_behavior this summary was refused
    # (behavior_trials said training stimuli)
    tree, truth = simulate_readout_learning_sessions(n_sessions=11, examples_per_session=10, n_conditions=140,
                                                     n_neurons=400, trained_probes=True, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the session without training stimuli is NaN with its reason
        stats = summarize(tree, target="target_value", n_boot=20, random_state=0, readout=False, dynamics=False,
                          scheduler="synchronous")
    assert "training-stimulus trials only" in stats.attrs["behavior_trials"]
    stats = stats.assign_coords(training_time=("session", truth.extra["n_train"]))
    result = nl.fit(stats, "kernel-learning-curve", fixed=KNOWN_IN_DESIGN, random_state=0)
    assert result.success, result.message
    assert set(result.observables) == {"generalization_error", "heldout_behavior"}
    for name in ("eigen_decay", "target_decay", "chance"):
        lo, hi = result.ci[name]
        assert lo <= truth.parameters[name] <= hi, (name, result.params[name], (lo, hi))
    assert result.ci["target_decay"][0] > 1.5
    # the held-out trials' fraction correct follows the simulated learner's new-stimulus performance
    measured = stats["heldout_behavior"].values
    assert r_squared(measured, truth.behavior) >= 0.9
    assert result.chi2_pvalue > 0.01, (result.chi2, result.n_obs - result.n_params)


def _grokking(seed, alpha=1.0, n_steps=600, summarize_alone=False):
    tree, truth = simulate_grokking_sessions(13, alpha=alpha, n_train=150, n_steps=n_steps, n_trials=20,
                                             heldout_behavior="test", rng=seed)
    if summarize_alone:
        # summarize's own path: behavior from the trials its held-out column does not mark, the generalisation
        # error from the held-out ones
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = summarize(tree, n_boot=20, random_state=0, readout=False, dynamics=False,
                              generalization="behavior", scheduler="synchronous")
    else:
        stats = _statistics(tree, target="target", method="behavior", where="heldout == False")
    observables = ["behavior", "generalization_error", "task_alignment"]
    result = nl.fit(stats, "grokking", observables=observables, random_state=0)
    # reference: the network's exact behaviour and test loss in place of the measured values, same weights
    exact = stats[["behavior", "behavior_se", "generalization_error", "generalization_error_se"]].copy()
    exact["behavior"] = ("session", truth["behavior"].values)
    exact["generalization_error"] = ("session", truth["generalization_error"].values)
    reference = nl.fit(exact, "grokking", observables=["behavior", "generalization_error"], n_starts=8,
                       random_state=0)
    return truth, stats, result, reference


def test_grokking_rich_rate_recovered_from_recordings():
    truth, stats, result, reference = _grokking(seed=1)
    assert result.success and reference.success
    for name in ("rich_rate", "plateau"):
        lo, hi = result.ci[name]
        assert lo <= reference.params[name] <= hi, (name, result.params[name], (lo, hi),
                                                     reference.params[name])
        assert result.identifiable[name], result.message
    # the measured generalisation error follows the network's test loss
    measured = stats["generalization_error"].values
    assert r_squared(measured, truth["generalization_error"].values) >= 0.95
    assert r_squared(measured, result.predicted["generalization_error"].values) >= 0.9
    # without it the rich rate is not identified (the "0.32 [0.0, 1.0]")
    before = nl.fit(stats, "grokking", observables=["behavior", "task_alignment"], random_state=0)
    lo, hi = result.ci["rich_rate"]
    before_lo, before_hi = before.ci["rich_rate"]
    assert np.log(hi / lo) < 0.5 * np.log(before_hi / max(before_lo, 1e-4))


def test_grokking_fitted_from_summarize_alone_reads_behaviour_on_the_trained_stimuli():
    # summarize's behavior pooled the held-out trials (adversary S6-7): over seeds 0-5 its interval covered the
    # network's training performance in 0-8 % of sessions and the fit's plateau interval missed the reference in
    # 6 of 6 (seed 1: 0.146 [0.074, 0.353] against 0.559); now behaviour covers it in 92-100 %, plateau and
    # rich_rate in 6 of 6
    truth, stats, result, reference = _grokking(seed=1, summarize_alone=True)
    assert result.success and reference.success
    lo, hi = stats["behavior_ci"].values.T
    assert np.mean((lo <= truth["behavior"].values) & (truth["behavior"].values <= hi)) >= 0.8
    for name in ("rich_rate", "plateau"):
        lo, hi = result.ci[name]
        assert lo <= reference.params[name] <= hi, (name, result.params[name], (lo, hi), reference.params[name])
    assert "training-stimulus trials only" in stats.attrs["behavior_trials"]


@pytest.mark.slow
@pytest.mark.parametrize(("model", "n_seeds", "required"), [
    # 10-15 s CPU a seed; seeds 0-19 in benchmarks/bench_klc_recovery.py (38/40 = 0.950)
    ("kernel-learning-curve", 5, 0.9),
    # 30-90 s a replicate on a shared machine
    ("grokking", 10, 0.8)])
def test_recovery_coverage_over_replicates(model, n_seeds, required):
    covered = []
    for seed in range(n_seeds):
        if model == "kernel-learning-curve":
            truth, _, result = _kernel_curve_fit(seed)
            reference = {name: truth.parameters[name] for name in ("eigen_decay", "target_decay")}
        else:
            _, _, result, fitted = _grokking(seed)
            reference = {name: fitted.params[name] for name in ("rich_rate", "plateau")}
        covered += [result.ci[name][0] <= value <= result.ci[name][1] for name, value in reference.items()]
    assert np.mean(covered) >= required, covered
