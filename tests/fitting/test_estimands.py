"""A model is fitted only to the generalisation error it predicts (adversary A12: grokking fitted the readout's
error, the kernel-learning-curve model's estimand, without a word: rich_rate 0.551 'success' on one series, 0.0
'success' on the other, from the same recordings)."""

from __future__ import annotations

import warnings

import pytest

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
