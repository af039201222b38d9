"""simulate_statistics(): the data-generating process fit() assumes."""

import numpy as np
import pytest

from neurolearn.errors import FitError
from neurolearn.fitting import simulate_statistics


def test_noise_free_statistics_are_the_prediction_on_the_mapped_clock(approach):
    stats = simulate_statistics(approach, {"gain": 0.25}, n_sessions=8, se=0.0, time_scale=0.5, onset=2.0)
    tau = 0.5 * np.maximum(np.arange(8) - 2.0, 0.0)
    np.testing.assert_allclose(stats["behavior"], 0.5 + 0.25 * (1 - np.exp(-tau)))
    assert stats.attrs["true_gain"] == 0.25 and stats.attrs["true_onset"] == 2.0
    assert stats["session_index"].values.tolist() == list(range(8))
    assert stats["behavior_ci"].dims == ("session", "ci_bound")


def test_noise_has_the_stated_standard_error(approach):
    stats = simulate_statistics(approach, {}, n_sessions=4000, se={"behavior": 0.03, "task_alignment": 0.1},
                                random_state=0)
    truth = simulate_statistics(approach, {}, n_sessions=4000, se=0.0)
    assert np.std(stats["behavior"] - truth["behavior"]) == pytest.approx(0.03, rel=0.05)
    assert np.std(stats["task_alignment"] - truth["task_alignment"]) == pytest.approx(0.1, rel=0.05)
    assert (stats["task_alignment_se"] == 0.1).all()


def test_refuses_bad_requests(approach):
    with pytest.raises(FitError, match="does not predict 'margin'"):
        simulate_statistics(approach, observables=["margin"])
    with pytest.raises(FitError, match="n_sessions a positive integer"):
        simulate_statistics(approach, n_sessions=0)
    with pytest.raises(FitError, match="time_scale > 0"):
        simulate_statistics(approach, time_scale=-1.0)


def test_learner_scatter_is_drawn_from_the_models_learner_covariance():
    # kernel-learning-curve declares one learner's scatter about its mean curve; fit weights by it, so a
    # recovery study's statistics must hold it to be the process fit assumes
    from neurolearn.theory import MODELS

    model = MODELS["kernel-learning-curve"]
    tau = 10.0 * np.arange(6.0)
    params = {"eigen_decay": 1.5, "target_decay": 2.0}
    covariance = model.learner_covariance(tau, **(model.defaults() | params))
    error_sd = np.sqrt(np.diag(covariance)[: tau.size])
    shifts = []
    for seed in range(30):
        kwargs = dict(n_sessions=6, se=0.01, time_scale=10.0, random_state=seed)
        plain = simulate_statistics(model, params, **kwargs)
        drawn = simulate_statistics(model, params, learner_scatter=True, **kwargs)
        shift = drawn["generalization_error"].values - plain["generalization_error"].values
        # behaviour moves with the error through its link, -(ceiling - chance) per unit error; SEs are the
        # measurement's alone
        link = -(model.defaults()["ceiling"] - model.defaults()["chance"])
        np.testing.assert_allclose(drawn["heldout_behavior"].values - plain["heldout_behavior"].values, link * shift,
                                   atol=1e-8)
        assert (drawn["generalization_error_se"] == plain["generalization_error_se"]).all()
        shifts.append(shift)
    shifts = np.array(shifts)
    assert np.all(np.abs(shifts[:, 0]) < 1e-9)  # no training yet: every learner's error is the target's variance
    ratio = shifts[:, 1:].std(axis=0) / error_sd[1:]
    assert np.all((ratio > 0.55) & (ratio < 1.5)), ratio  # an SD of 30 draws: 95% within 0.75-1.25 of it
    # a model without a learner covariance is unchanged
    assert simulate_statistics("lazy-rich", {}, random_state=0, learner_scatter=True).equals(
        simulate_statistics("lazy-rich", {}, random_state=0))
