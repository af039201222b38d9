"""grokking and kernel-learning-curve fitted from recordings: simulate the network, measure through the
package's extractors (summarize + generalization_summary, merged on ``session``), fit, recover the parameters.

* kernel-learning-curve: the readout of a fixed representation learns from the first ``n_train`` probe
  stimuli (``trained_probes=True``; those trials are marked ``heldout=False``), so the recording's readout
  error on the held-out stimuli measures the model's ``generalization_error`` (target variance not predicted);
  the design knows the training amount per session (``training_time`` = examples; time scale and onset fixed,
  as in tests/test_recovery.py). The truth is the simulator's parameters.
* grokking: held-out trials are answered with the network's test performance (``heldout_behavior="test"``),
  so ``1 -`` held-out fraction correct measures ``L_test / L0``; behaviour and alignment come from the
  training-stimulus trials (``where="heldout == False"``). The network has no closed-form parameters, so the
  reference is the model fitted to the network's exact behaviour and test loss, weighted by the measured SEs.

Measured (seeds 0-5, this design; re-measured 2026-12-03 after the simulator's rotation): kernel-learning-curve
95% intervals held the true eigen_decay in 5/6 and target_decay in 4/6 (seeds 0-9: 13/20, see the coverage
test's xfail); grokking's held the reference rich_rate and plateau in 6/6 each. eigen_decay stays
bounded only from below (intervals reach the upper search bound 4.0): with target_decay = 2 the learning
curves of eigen_decay 1.5 and 2.5 differ by < 7 % at 5-100 examples, so no learning curve pins it further.

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


def _statistics(tree, *, target, method, where=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sessions without training stimuli are NaN with their reason
        # behaviour may come from the trained stimuli only (where=); the generalisation from all trials
        stats = summarize(tree, where=where, n_boot=20, random_state=0, readout=False, dynamics=False,
                          heldout=None, scheduler="synchronous")
        recordings = {key: child.dataset["responses"] for key, child in tree.children.items()}
        generalization = generalization_summary(recordings, target=target, by="stimulus", method=method,
                                                n_boot=100, random_state=0)
    generalization = generalization.rename(bootstrap="bootstrap_generalization")
    return xr.merge([stats, generalization], join="left", combine_attrs="override")


def _kernel_curve_fit(seed, n_neurons=400):
    tree, truth = simulate_readout_learning_sessions(n_sessions=11, examples_per_session=10, n_conditions=140,
                                                     n_neurons=n_neurons, trained_probes=True, rng=seed)
    stats = _statistics(tree, target="target_value", method="readout")
    stats = stats.assign_coords(training_time=("session", truth.extra["n_train"]))
    return truth, stats, nl.fit(stats, "kernel-learning-curve", fixed=KNOWN_IN_DESIGN, random_state=0)


def test_kernel_learning_curve_recovered_from_recordings():
    truth, stats, result = _kernel_curve_fit(seed=0)
    assert result.success, result.message
    for name in ("eigen_decay", "target_decay", "chance"):
        lo, hi = result.ci[name]
        assert lo <= truth.parameters[name] <= hi, (name, result.params[name], (lo, hi))
    # the fitted model follows the simulation through the extractor
    predicted = result.predicted["generalization_error"].values
    assert r_squared(stats["generalization_error"].values, predicted) >= 0.95
    # target_decay is pinned down once generalization_error is measured
    lo, hi = result.ci["target_decay"]
    assert hi - lo < 0.5


def _grokking(seed, alpha=1.0, n_steps=600):
    tree, truth = simulate_grokking_sessions(13, alpha=alpha, n_train=150, n_steps=n_steps, n_trials=20,
                                             heldout_behavior="test", rng=seed)
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


@pytest.mark.slow
@pytest.mark.parametrize("model", [
    pytest.param("kernel-learning-curve", marks=pytest.mark.xfail(strict=False, reason=(
        "known gap: over seeds 0-9 the 95% intervals of eigen_decay and target_decay hold the truth in 13 of 20 "
        "(0.65 < 0.8; re-measured 2026-12-03 after the simulator's rotation fix ee49d18: misses seeds 2, 3, 5, 7, "
        "8, chi2 2.8-20 on 19 dof, so the misses fit well; benchmarks/bench_klc_recovery.py). The fit's covariance "
        "has the wrong shape: over 15 networks generalization_error's SEs are 1-2.5x the spread of measured - "
        "theory (their training-set jackknife is 2-3x the learner SD of learning_curve_covariance), yet those "
        "errors correlate 0.8-0.99 between neighbouring sessions (the one learner's nested training set, and "
        "shared held-out stimuli) where the replicates are independent, and behaviour carries half the same "
        "learner deviation (SD 0.035 at 10 examples) against binomial SEs of 0.013. A stimulus-shared bootstrap (held-out and "
        "jackknife weights shared across sessions) gave 14/20; replacing the jackknife (training_set='fixed') by the "
        "model's learner covariance, shared by generalization_error and behaviour: at the truth 16/20, at a "
        "pilot fit 33/40 over seeds 0-19 (bench_klc_recovery --learner-covariance; the misses are target_decay "
        "lower bounds 2.006-2.09, intervals reaching the bound 6.0 in most seeds), so not yet 0.9, and the "
        "fitter would have to add that model covariance itself. "
        "eigen_decay is barely identified by a learning curve (curves for 1.5 and 2.5 differ by 0.02 at 5 "
        "examples)"))),
    "grokking"])
def test_recovery_coverage_over_replicates(model):
    # 30-90 s a replicate on a shared machine (measured coverage in the module docstring)
    covered = []
    for seed in range(10):
        if model == "kernel-learning-curve":
            truth, _, result = _kernel_curve_fit(seed)
            reference = {name: truth.parameters[name] for name in ("eigen_decay", "target_decay")}
        else:
            _, _, result, fitted = _grokking(seed)
            reference = {name: fitted.params[name] for name in ("rich_rate", "plateau")}
        covered += [result.ci[name][0] <= value <= result.ci[name][1] for name, value in reference.items()]
    assert np.mean(covered) >= 0.8
