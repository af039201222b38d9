"""A model is fitted only to the generalisation error it predicts (adversary A12: grokking fitted the readout's
error, the kernel-learning-curve model's estimand, without a word: rich_rate 0.551 'success' on one series, 0.0
'success' on the other, from the same recordings)."""

from __future__ import annotations

import warnings

import numpy as np

import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.errors import FitError
from neurolearn.simulate.grokking import simulate_grokking_sessions


@pytest.fixture(scope="module")
def grokking_tree():
    return simulate_grokking_sessions(6, n_steps=600, n_trials=2, heldout_behavior="test", rng=0)[0]


def _summary(tree, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nl.summarize(tree, n_boot=20, random_state=0, readout=False, dynamics=False, generalization=method)


def test_grokking_refuses_the_readout_generalization_error_and_says_how_to_measure_its_own(grokking_tree):
    readout = _summary(grokking_tree, "readout")
    assert readout.attrs["generalization_method"] == "readout"
    with pytest.raises(FitError, match=r"expected generalization_error measured as generalization_method='behavior'"
                                       r".*found statistics with generalization_method='readout'.*"
                                       r"generalization='behavior'"):
        nl.fit(readout, "grokking", random_state=0)
    # the model's other observables alone are fitted as before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = nl.fit(readout, "grokking", observables=["behavior", "task_alignment"], random_state=0)
    assert alone.observables == ("behavior", "task_alignment")


def test_each_model_fits_the_generalization_error_it_predicts(grokking_tree):
    behavior = _summary(grokking_tree, "behavior")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nl.fit(behavior, "grokking", random_state=0)
    assert "generalization_error" in result.observables
    with pytest.raises(FitError, match=r"kernel-learning-curve.*generalization_method='readout'.*found .*'behavior'"):
        nl.fit(behavior, "kernel-learning-curve", random_state=0)


# --- kernel-learning-curve's behaviour is performance on new stimuli: heldout_behavior, joined on name ---------

KNOWN = {"time_scale": 1.0, "onset": 0.0, "ridge": 0.0}  # training_time: examples


@pytest.fixture(scope="module")
def novel_summaries():
    """The simulator's default design (every probe novel, its ``heldout`` column all True) summarised with that
    column declared (summarize's default) and with ``heldout=None``."""
    from neurolearn.simulate.two_layer import simulate_readout_learning_sessions

    tree, truth = simulate_readout_learning_sessions(n_sessions=8, n_neurons=20, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # every trial held out: behavior and generalization_error NaN, said why
        declared, undeclared = (nl.summarize(tree, n_boot=10, random_state=0, readout=False, dynamics=False,
                                             heldout=heldout, scheduler="synchronous")
                                for heldout in ("heldout", None))
    time = ("session", truth.extra["n_train"])
    return declared.assign_coords(training_time=time), undeclared.assign_coords(training_time=time), truth


def test_kernel_learning_curve_fits_heldout_behavior_where_every_trial_is_of_a_new_stimulus(novel_summaries):
    # before, this summary was refused: its behavior (NaN, every trial held out) carried attr behavior_trials
    declared, undeclared, truth = novel_summaries
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = nl.fit(declared, "kernel-learning-curve", fixed=KNOWN, random_state=0)
    assert result.success and result.observables == ("heldout_behavior",)
    lo, hi = result.ci["chance"]
    assert lo <= truth.parameters["chance"] <= hi
    assert not [w for w in caught if "heldout=" in str(w.message) or "training conditions" in str(w.message)]
    # the declared column counts the same trials heldout=None pools here: the same numbers, declared
    np.testing.assert_allclose(declared["heldout_behavior"], undeclared["behavior"], rtol=1e-12)
    np.testing.assert_allclose(declared["heldout_behavior_se"], undeclared["behavior_se"], rtol=1e-12)


def test_a_summary_that_declares_no_held_out_stimuli_is_refused_naming_heldout_behavior(novel_summaries):
    # heldout=None says nothing of which stimuli were trained on: its behavior is not read as heldout_behavior
    # (before: 'only behavior matches ... pass observables=[behavior]', a fit of it as the new stimuli's)
    from neurolearn.fitting.estimands import stand_in_hint
    from neurolearn.theory import get_model

    _, undeclared, _ = novel_summaries
    with pytest.raises(FitError, match=r"expected some of \['generalization_error', 'heldout_behavior'\]"
                                       r"(.|\n)*summarize with heldout="):
        nl.fit(undeclared, "kernel-learning-curve", fixed=KNOWN, random_state=0)
    with pytest.raises(FitError, match="does not predict \\['behavior'\\]"):
        nl.fit(undeclared, "kernel-learning-curve", observables=["behavior"], fixed=KNOWN, random_state=0)
    # what to do instead: the trial column marking new-stimulus trials (all True where every stimulus is new)
    hint = stand_in_hint(undeclared.data_vars, get_model("kernel-learning-curve"))
    assert "predicts heldout_behavior, not behavior" in hint and "summarize with heldout=" in hint
    assert "True on every trial where every stimulus is new" in hint
    assert stand_in_hint(undeclared.data_vars, get_model("grokking")) == ""  # grokking predicts behavior


def test_behavior_beside_a_generalization_error_is_left_out_and_the_warning_says_how_to_measure_it():
    # statistics with behavior but no heldout_behavior (hand-built, or heldout=None merged with a readout error):
    # before, kernel-learning-curve fitted that behavior as performance on new stimuli without a word
    from neurolearn.fitting import FitWarning

    t = np.arange(6.0)
    error = np.exp(-t / 2.0)
    stats = xr.Dataset({"generalization_error": ("session", error),
                        "generalization_error_se": ("session", np.full(6, 0.02)),
                        "behavior": ("session", 0.5 + 0.5 * (1 - error)), "behavior_se": ("session", np.full(6, 0.02))},
                       coords={"session": [f"d{i}" for i in range(6)], "training_time": ("session", 10.0 * t)})
    with pytest.warns(FitWarning, match=r"fitted \['generalization_error'\] only; the model predicts "
                                        r"heldout_behavior, not behavior.*summarize with heldout="):
        result = nl.fit(stats, "kernel-learning-curve", fixed=KNOWN | {"chance": 0.5, "ceiling": 1.0},
                        interval=None, random_state=0)
    assert result.observables == ("generalization_error",)
    # named heldout_behavior, the same values are fitted, without the warning
    renamed = stats.rename(behavior="heldout_behavior", behavior_se="heldout_behavior_se")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        result = nl.fit(renamed, "kernel-learning-curve", fixed=KNOWN | {"chance": 0.5, "ceiling": 1.0},
                        interval=None, learner_covariance=False, random_state=0)
    assert result.observables == ("generalization_error", "heldout_behavior")
