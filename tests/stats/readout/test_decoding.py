"""Decoding accuracies against closed forms, their permutation null, and the refusals they raise."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from neurolearn.errors import InsufficientDataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.readout import decoder_accuracy, heldout_accuracy
from tests.stats.readout._helpers import binary_recording, gaussian_classes


@pytest.mark.parametrize("dprime", [1.0, 2.0])
def test_decoder_accuracy_matches_bayes_accuracy_of_gaussian_classes(rng, dprime):
    rec = gaussian_classes(dprime, n_neurons=4, n_trials=800, rng=rng)
    ds = decoder_accuracy(rec, random_state=0, n_boot=200, n_permutations=2)
    bayes = norm.cdf(dprime / 2)  # closed form for equal-covariance Gaussians with a linear readout
    assert abs(float(ds["decoder_accuracy"]) - bayes) < 0.03
    assert 0.005 < float(ds["decoder_accuracy_se"]) < 0.02  # binomial SE sqrt(p(1-p)/1600) ~ 0.009
    lo, hi = ds["decoder_accuracy_ci"].values
    assert lo < float(ds["decoder_accuracy"]) < hi
    # Null of trial labels (no `by`): balanced classes without information read 0.5 (binomial SE of a mean
    # of 2 nulls over 1600 trials ~ 0.01); both nulls lie below the observed accuracy: p = 1/(1 + 2).
    assert float(ds["decoder_accuracy_chance"]) == pytest.approx(0.5, abs=0.04)
    assert float(ds["decoder_accuracy_pvalue"]) == pytest.approx(1 / 3)
    assert str(ds["decoder_accuracy_flag"].values) == ""


def test_permutation_null_of_trial_labels_is_near_half_and_flags_no_signal(rng):
    labels = np.r_[np.ones(45, int), np.zeros(15, int)]
    rec = xr.DataArray(rng.standard_normal((60, 200)), dims=("trial", "neuron"),
                       coords={"target": ("trial", labels)})
    ds = decoder_accuracy(rec, random_state=1, n_boot=50, n_permutations=15)
    value, chance = float(ds["decoder_accuracy"]), float(ds["decoder_accuracy_chance"])
    assert ds.attrs["majority_rate"] == 0.75
    # No information: the accuracy is within the null's spread of its mean, whatever the majority rate says.
    assert abs(value - chance) < 0.15
    assert chance < 0.75 + 0.02  # a cross-validated decoder of noise does not beat the majority guess
    assert float(ds["decoder_accuracy_pvalue"]) > 0.05
    if value <= chance:
        assert str(ds["decoder_accuracy_flag"].values) == "at or below chance: carries no information"
    assert ds["decoder_accuracy_boot"].dims == ("bootstrap",)
    assert ds["decoder_accuracy_boot"].attrs["resampling"] == "independent"
    # The replicates carry the reported SE (rescaled to it), centred on the estimate.
    assert float(ds["decoder_accuracy_boot"].std(ddof=1)) == pytest.approx(float(ds["decoder_accuracy_se"]),
                                                                          rel=1e-9)


def test_permutation_null_respects_condition_structure(rng):
    # 4 conditions (2 per class), each its own random pattern far above the trial noise: 4 points in 30
    # dimensions are linearly separable under *any* labelling, so trial folds decode every labelling of the
    # conditions perfectly. With labels permuted across conditions the null is therefore 1.0: a perfect
    # accuracy here says the conditions differ, not that the label is carried, and the flag says so.
    labels = np.repeat([1, -1], 2)
    rec = make_recording(5 * rng.standard_normal((4, 30)), n_trials=10, noise_sd=0.5, target=labels, rng=1)
    ds = decoder_accuracy(rec, by="stimulus", random_state=0, n_boot=0, n_permutations=4)
    assert float(ds["decoder_accuracy"]) == 1.0
    assert float(ds["decoder_accuracy_chance"]) == 1.0
    assert float(ds["decoder_accuracy_pvalue"]) == 1.0
    assert str(ds["decoder_accuracy_flag"].values) == "at or below chance: carries no information"
    # Permuting single trials instead (no `by`) would call it highly significant: the structure matters.
    trials_null = decoder_accuracy(rec, random_state=0, n_boot=0, n_permutations=4)
    assert float(trials_null["decoder_accuracy_chance"]) < 0.75


def test_decoder_below_chance_is_flagged_not_reported_as_an_effect():
    # Anti-learning: with one trial type per fold balance, leave-out folds on noise read below the majority
    # rate; such a value keeps its number but its flag says it carries no information.
    rng = np.random.default_rng(3)
    labels = np.repeat([1, 0], 20)
    rec = xr.DataArray(rng.standard_normal((40, 3)), dims=("trial", "neuron"), coords={"target": ("trial", labels)})
    ds = decoder_accuracy(rec, random_state=0, n_boot=50, n_permutations=10)
    value, chance = float(ds["decoder_accuracy"]), float(ds["decoder_accuracy_chance"])
    flag = str(ds["decoder_accuracy_flag"].values)
    assert (flag == "at or below chance: carries no information") == (value <= chance)
    lo, hi = ds["decoder_accuracy_ci"].values
    assert lo <= value <= hi


def test_accuracy_at_ceiling_keeps_a_binomial_standard_error():
    labels = np.repeat([1, -1], 20)
    rec = make_recording(np.c_[10.0 * labels, np.zeros(40)], n_trials=2, noise_sd=0.1, target=labels, rng=0)
    ds = decoder_accuracy(rec, random_state=0, n_boot=100, n_permutations=0)
    assert float(ds["decoder_accuracy"]) == 1.0
    # Agresti-Coull: p~ = 82/84 at 80 of 80 correct
    assert float(ds["decoder_accuracy_se"]) == pytest.approx(np.sqrt(82 / 84 * 2 / 84 / 84), rel=1e-9)
    lo, hi = ds["decoder_accuracy_ci"].values
    assert lo < 1.0 and hi == 1.0
    assert float(ds["decoder_accuracy_chance"]) == 0.5  # no permutations: the majority-class rate


def test_heldout_accuracy_separates_memorised_from_generalising_codes(rng):
    n_cond, n_trials = 40, 6
    labels = np.repeat([1, -1], n_cond // 2)
    # Memorised: each condition has its own random pattern, unrelated to the label.
    memorised = make_recording(3 * rng.standard_normal((n_cond, 80)), n_trials=n_trials, noise_sd=0.5,
                               target=labels, rng=1)
    # Generalising: the label is carried along one shared axis.
    shared = np.c_[2 * labels, rng.standard_normal((n_cond, 29))]
    generalising = make_recording(shared, n_trials=n_trials, noise_sd=0.5, target=labels, rng=2)
    memo_trial = float(decoder_accuracy(memorised, random_state=0, n_boot=0, n_permutations=0)["decoder_accuracy"])
    memo_held = heldout_accuracy(memorised, random_state=0, n_boot=200, n_permutations=5)
    gen_held = heldout_accuracy(generalising, random_state=0, n_boot=0, n_permutations=5)
    assert memo_trial > 0.9  # new trials of known stimuli are easy
    lo, hi = memo_held["heldout_accuracy_ci"].values
    assert lo < 0.5 < hi and float(memo_held["heldout_accuracy"]) < 0.7  # new stimuli are at chance
    assert float(gen_held["heldout_accuracy"]) > 0.9
    assert float(gen_held["heldout_accuracy_chance"]) < 0.7 and str(gen_held["heldout_accuracy_flag"].values) == ""


def test_heldout_chance_is_one_half_without_label_signal_and_rarely_rejects():
    # conditions differ (random means) but the label carries nothing: a null that reused the folds stratified
    # on the real labels left permuted classes unbalanced in training and read chance 0.39 (p < 0.05 in 7.5 %
    # of 40 sessions, values of 0.51 reported above chance); folds drawn on the permuted labels read 0.50
    chances, values, rejected = [], [], 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        y = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
        rec = make_recording(rng.standard_normal((8, 20)), n_trials=4, noise_sd=1.0, target=y, rng=seed)
        ds = heldout_accuracy(rec, random_state=seed, n_boot=0, n_permutations=30, n_splits=2)
        chances.append(float(ds["heldout_accuracy_chance"]))
        values.append(float(ds["heldout_accuracy"]))
        rejected += float(ds["heldout_accuracy_pvalue"]) < 0.05
    # the truth is 1/2; 30 sessions x 30 permutations: SE of the mean chance ~0.01
    assert abs(np.mean(chances) - 0.5) < 0.04, np.mean(chances)
    assert abs(np.mean(chances) - np.mean(values)) < 0.06
    assert rejected <= 4  # binomial(30, 0.05): P(> 4) = 0.06


def test_too_few_trials_or_conditions_raise_insufficient_data():
    rec = binary_recording(n_trials=1)  # 5 trials per class
    with pytest.raises(InsufficientDataError, match="n_splits=6 trials of every class"):
        decoder_accuracy(rec, n_splits=6)
    with pytest.raises(InsufficientDataError, match="at least n_splits=11 conditions"):
        heldout_accuracy(rec, n_splits=11)
    with pytest.raises(InsufficientDataError, match="no task label"):
        decoder_accuracy(rec, target=None)
    with pytest.raises(InsufficientDataError, match="classes in trial coord 'target', found 1"):
        decoder_accuracy(rec.assign_coords(target=("trial", np.ones(10, int))))


def test_dask_backed_recordings_give_the_same_values():
    rec = binary_recording()
    eager = decoder_accuracy(rec, random_state=0, n_boot=20, n_permutations=2)
    lazy = decoder_accuracy(rec.chunk({"trial": 10}), random_state=0, n_boot=20, n_permutations=2)
    assert float(lazy["decoder_accuracy"]) == float(eager["decoder_accuracy"])
    assert float(lazy["decoder_accuracy_se"]) == float(eager["decoder_accuracy_se"])
    assert float(lazy["decoder_accuracy_chance"]) == float(eager["decoder_accuracy_chance"])


def test_decoder_chance_is_the_no_information_accuracy_at_four_conditions_of_two_trials():
    # No stimulus information (every trial drawn alike), 4 conditions (2 per class) x 2 trials: the
    # registry's chance is the value expected without signal at this shape, i.e. the mean accuracy of
    # such sessions (0.5 by symmetry). Scoring the permuted labels on the observation's folds, stratified
    # on the real labels, left the permuted classes 3:1 in training folds, and a decoder predicting its
    # training majority (the test fold's minority) read chance 0.39 +- 0.03 here while the accuracy read
    # 0.52 +- 0.04; drawn on the permuted labels, as the observation's were on the real ones, 0.50 +- 0.02.
    stimulus = np.repeat(np.arange(4), 2)
    values, chances = [], []
    for seed in range(24):
        rng = np.random.default_rng(seed)
        rec = xr.DataArray(rng.standard_normal((8, 60)), dims=("trial", "neuron"), coords={
            "stimulus": ("trial", stimulus), "target": ("trial", np.where(stimulus % 2, 1, -1))})
        ds = decoder_accuracy(rec, by="stimulus", n_splits=4, random_state=seed, n_boot=0, n_permutations=10)
        values.append(float(ds["decoder_accuracy"]))
        chances.append(float(ds["decoder_accuracy_chance"]))
    values, chances = np.array(values), np.array(chances)
    se = np.hypot(values.std(ddof=1), chances.std(ddof=1)) / np.sqrt(values.size)
    assert abs(chances.mean() - 0.5) < 0.05
    assert abs(chances.mean() - values.mean()) < 3 * se
