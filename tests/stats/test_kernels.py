"""Kernels and sufficient statistics: checked against plain loops over trials, neurons and trial pairs."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.kernels import (
    ConditionStatistics,
    condition_kernel,
    condition_statistics,
    influence_se,
    neuron_bootstrap_weights,
    normal_score_replicates,
    per_neuron_pair_trace,
    plugin_kernel,
    recentre_replicates,
    replicate,
    require_neurons,
    require_resolved,
    self_inner_estimate,
    session_bootstrap_weights,
    split_kernel,
    target_matrix,
    unbiased_kernel,
)


def _recording(rng, n_cond=4, n_neurons=5, n_trials=3, noise=1.0):
    means = rng.standard_normal((n_cond, n_neurons))
    return make_recording(means, n_trials=n_trials, noise_sd=noise, target=np.arange(n_cond) % 2, rng=rng)


def test_condition_statistics_match_loops(rng):
    rec = _recording(rng, n_trials=4)
    stats = condition_statistics(rec, "stimulus", target="target")
    values, labels = rec.values, rec.stimulus.values
    for p, condition in enumerate(stats.conditions):
        trials = values[labels == condition]
        np.testing.assert_allclose(stats.means[p], trials.mean(axis=0))
        np.testing.assert_allclose(stats.sem2[p], trials.var(axis=0, ddof=1) / len(trials))
        assert stats.target[p] == condition % 2
    assert stats.n_trials.tolist() == [4, 4, 4, 4]


def test_unbiased_kernel_is_average_over_distinct_trial_pairs(rng):
    rec = _recording(rng, n_cond=3, n_neurons=4, n_trials=3)
    values, labels = rec.values, rec.stimulus.values
    n_neurons = values.shape[1]
    expected = np.zeros((3, 3))
    for p in range(3):
        for q in range(3):
            a, b = values[labels == p], values[labels == q]
            products = [a[k] @ b[l] for k in range(len(a)) for l in range(len(b)) if p != q or k != l]
            expected[p, q] = np.mean(products) / n_neurons
    np.testing.assert_allclose(unbiased_kernel(rec).values, expected, atol=1e-12)


def test_plugin_and_split_kernels_against_plain_formulas(rng):
    rec = _recording(rng, n_trials=4)
    stats = condition_statistics(rec, "stimulus")
    np.testing.assert_allclose(plugin_kernel(rec).values, stats.means @ stats.means.T / 5)
    from neurolearn.data import trial_splits

    split = trial_splits(rec, "stimulus", random_state=3)
    labels, values = rec.stimulus.values, rec.values
    half_a = np.stack([values[(labels == p) & (split == 0)].mean(0) for p in range(4)])
    half_b = np.stack([values[(labels == p) & (split == 1)].mean(0) for p in range(4)])
    cross = half_a @ half_b.T / 5
    np.testing.assert_allclose(split_kernel(rec, random_state=3).values, (cross + cross.T) / 2)
    assert condition_kernel(rec, estimator="split", random_state=3).attrs["estimator"] == "split"


def test_unbiased_and_split_kernels_remove_trial_noise_on_average(rng):
    means = rng.standard_normal((4, 50))
    truth = means @ means.T / 50
    plug, unb, spl = [], [], []
    for rep in range(200):
        rec = make_recording(means, n_trials=2, noise_sd=1.0, rng=rep)
        plug.append(plugin_kernel(rec).values)
        unb.append(unbiased_kernel(rec).values)
        spl.append(split_kernel(rec, random_state=rep).values)
    # the plug-in diagonal is inflated by sd²/n_trials = 0.5; the corrected kernels are not
    assert np.mean(np.diag(np.mean(plug, 0) - truth)) == pytest.approx(0.5, abs=0.03)
    np.testing.assert_allclose(np.mean(unb, 0), truth, atol=0.03)
    np.testing.assert_allclose(np.mean(spl, 0), truth, atol=0.04)


def test_dask_backed_recording_gives_the_same_statistics(rng):
    rec = _recording(rng, n_cond=5, n_neurons=7, n_trials=4)
    lazy = rec.copy(data=da.from_array(rec.values, chunks=(3, 4)))  # trial dim split across chunks
    eager_stats = condition_statistics(rec, "stimulus")
    lazy_stats = condition_statistics(lazy, "stimulus")
    np.testing.assert_allclose(lazy_stats.means, eager_stats.means)
    np.testing.assert_allclose(lazy_stats.sem2, eager_stats.sem2)


def test_time_resolved_recordings_are_averaged_over_time(rng):
    rec = _recording(rng)
    timed = xr.concat([rec, rec + 2.0], dim="time").transpose("trial", "neuron", "time")
    stats = condition_statistics(timed, "stimulus")
    np.testing.assert_allclose(stats.means, condition_statistics(rec, "stimulus").means + 1.0)


def test_per_neuron_terms_match_explicit_kernels(rng):
    n_cond, n_neurons = 5, 4
    M, V = rng.standard_normal((n_cond, n_neurons)), rng.random((n_cond, n_neurons))
    M2, V2 = rng.standard_normal((n_cond, n_neurons)), rng.random((n_cond, n_neurons))
    H = np.eye(n_cond) - 1.0 / n_cond
    stats = ConditionStatistics(M, V, np.full(n_cond, 3), np.arange(n_cond), np.arange(n_neurons), None, "s")
    K = [np.outer(M[:, i], M[:, i]) - np.diag(V[:, i]) for i in range(n_neurons)]
    K2 = [np.outer(M2[:, i], M2[:, i]) - np.diag(V2[:, i]) for i in range(n_neurons)]
    for left, right in ((True, True), (False, False), (False, True)):
        L = H if left else np.eye(n_cond)
        R = H if right else np.eye(n_cond)
        traces = per_neuron_pair_trace(M, V, M2, V2, left, right)
        np.testing.assert_allclose(traces, [np.trace(K[i] @ L @ K2[i] @ R) for i in range(n_neurons)])
        u_stat = np.mean([np.sum((L @ K[i] @ R) * (L @ K[j] @ R))
                          for i in range(n_neurons) for j in range(n_neurons) if i != j])
        value, influence = self_inner_estimate(stats, left, right)
        assert value == pytest.approx(u_stat)
        # influence = derivative of the weighted U-statistic in each neuron's weight
        def weighted(w):
            num = sum(w[i] * w[j] * np.sum((L @ K[i] @ R) * (L @ K[j] @ R))
                      for i in range(n_neurons) for j in range(n_neurons) if i != j)
            return num / sum(w[i] * w[j] for i in range(n_neurons) for j in range(n_neurons) if i != j)
        eps = 1e-6
        for i in range(n_neurons):
            w = np.ones(n_neurons)
            w[i] += eps
            assert influence[i] == pytest.approx((weighted(w) - weighted(np.ones(n_neurons))) / eps, rel=1e-4)


def test_bootstrap_weights_are_shared_by_neuron_id():
    first, second = session_bootstrap_weights([[1, 2, 3], [3, 4]], 50, random_state=0)
    np.testing.assert_array_equal(first[:, 2], second[:, 0])
    alone = neuron_bootstrap_weights([1, 2, 3, 4], 50, random_state=0)
    np.testing.assert_array_equal(alone[:, :3], first)
    assert replicate(2.0, np.ones((3, 2), dtype=np.uint8), np.array([1.0, 5.0])).tolist() == [2.0, 2.0, 2.0]


def test_target_matrix_encodings():
    assert target_matrix([3, 5, 3]).ravel().tolist() == [1.0, -1.0, 1.0]
    assert target_matrix(["a", "b", "c", "a"]).shape == (4, 3)
    np.testing.assert_allclose(target_matrix([0.5, 1.5, 2.25]).ravel(), [0.5, 1.5, 2.25])
    with pytest.raises(DataError, match="at least two distinct values"):
        target_matrix([1, 1, 1])


def test_errors_name_the_problem(rng):
    rec = _recording(rng)
    with pytest.raises(DataError, match=r"'condition'.*available trial coords: \[.*'stimulus'"):
        condition_statistics(rec, "condition")
    with pytest.raises(DataError, match="target"):
        condition_statistics(rec, "stimulus", target="label")
    bad = rec.copy(data=rec.values.copy())
    bad.values[0, 0] = np.nan
    with pytest.raises(DataError, match="1 NaN/inf"):
        condition_statistics(bad, "stimulus")
    lazy_bad = bad.copy(data=da.from_array(bad.values, chunks=(2, 2)))
    with pytest.raises(DataError, match="NaN/inf"):
        condition_statistics(lazy_bad, "stimulus")
    one_trial = make_recording(rng.standard_normal((3, 4)), n_trials=1, rng=0)
    with pytest.raises(DataError, match="at least 2 trials"):
        condition_statistics(one_trial, "stimulus")
    mixed = rec.assign_coords(target=("trial", np.arange(rec.sizes["trial"])))
    with pytest.raises(DataError, match="single 'target' value per condition"):
        condition_statistics(mixed, "stimulus", target="target")
    with pytest.raises(DataError, match="estimator"):
        condition_kernel(rec, estimator="fancy")


def _noise_only_statistics(rng, n_cond=8, n_trials=3, n_neurons=60):
    """Sufficient statistics of a session without any condition structure (pure Gaussian trial noise)."""
    trials = rng.standard_normal((n_cond, n_trials, n_neurons))
    return ConditionStatistics(trials.mean(1), trials.var(1, ddof=1) / n_trials, np.full(n_cond, n_trials),
                               np.arange(n_cond), np.arange(n_neurons), np.arange(n_cond) % 2, "null")


def test_influence_se_is_the_sd_of_linearised_poisson_replicates(rng):
    """Var of Σ (w_i - 1) u_i over Poisson(1) weights is Σ u_i² exactly; check against 40 000 draws."""
    influence = rng.standard_normal(30)
    weights = rng.poisson(1.0, size=(40_000, 30))
    replicates = replicate(0.0, weights, influence)
    # the SD of 40 000 draws has relative SE ~ 1/sqrt(2 * 40 000) = 0.35 %; allow ~5 of them
    assert np.std(replicates) == pytest.approx(influence_se(influence), rel=0.02)


def test_influence_se_overstates_the_null_se_of_the_squared_norm_by_sqrt2():
    """Under no structure ‖HΦH‖² is a degenerate U-statistic: Var = 2ζ₂/(N(N-1)), while the influence terms
    (row sums of pair terms) give 4ζ₂/(N(N-1)). The gate DENOMINATOR_Z relies on this ratio (√2)."""
    rng = np.random.default_rng(7)
    values, ses = [], []
    for _ in range(400):
        value, influence = self_inner_estimate(_noise_only_statistics(rng), True, True)
        values.append(value)
        ses.append(influence_se(influence))
    ratio = np.mean(ses) / np.std(values)
    # SD from 400 draws: relative SE ~ 3.5 %; the ratio's finite-N corrections are O(1/N) = 2 %
    assert ratio == pytest.approx(np.sqrt(2.0), rel=0.12)
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(400)  # unbiased for the population value 0


def test_require_resolved_and_require_neurons():
    require_resolved(2.0, 1.0, "norm", "d0")
    for value, se in ((0.9, 1.0), (-1.0, 1.0), (np.nan, 1.0), (1.0, np.nan)):
        with pytest.raises(InsufficientDataError, match="'d0': denominator not resolved from noise: norm"):
            require_resolved(value, se, "norm", "d0")
    with pytest.raises(InsufficientDataError, match="above 2 SE"):
        require_resolved(1.5, 1.0, "norm", "d0", z=2.0)
    few = ConditionStatistics(np.ones((3, 2)), np.zeros((3, 2)), np.full(3, 2), np.arange(3), np.arange(2), None,
                              "d")
    with pytest.raises(InsufficientDataError, match="too few neurons .*found 2, need 3"):
        require_neurons(few)
    with pytest.raises(InsufficientDataError, match="too few neurons"):
        self_inner_estimate(few.select_neurons([0]), True, True)


def test_recentred_replicates_have_the_estimate_as_median(rng):
    replicates = rng.lognormal(size=(501, 3, 2))  # skewed, as ratio replicates are
    estimate = np.array([[0.1, 5.0], [2.0, -1.0], [0.0, 3.0]])
    shifted = recentre_replicates(estimate, replicates)
    assert np.allclose(np.median(shifted, axis=0), estimate, atol=1e-12)
    assert np.allclose(np.diff(shifted, axis=0), np.diff(replicates, axis=0))  # a pure shift
    lower, upper = np.quantile(shifted, [0.025, 0.975], axis=0)
    assert np.all((lower <= estimate) & (estimate <= upper))
    with_nan = recentre_replicates(1.0, np.array([np.nan, 0.0, 2.0, 4.0]))
    assert np.isnan(with_nan[0]) and np.nanmedian(with_nan) == pytest.approx(1.0)


def test_normal_score_replicates_give_the_normal_interval_and_keep_the_order(rng):
    replicates = rng.lognormal(sigma=0.8, size=4001)  # skewed
    replicates[::97] = np.nan
    out = normal_score_replicates(2.0, replicates)
    finite = np.isfinite(replicates)
    assert np.array_equal(np.isfinite(out), finite)
    assert np.array_equal(np.argsort(out[finite]), np.argsort(replicates[finite]))  # ranks kept
    sd = np.std(replicates[finite], ddof=1)
    assert np.std(out[finite], ddof=1) == pytest.approx(sd, rel=1e-12)
    lower, upper = np.quantile(out[finite], [0.025, 0.975])
    # quantiles of 3960 normal scores: within ~0.02 SD of ±1.96 SD (order-statistic spacing)
    assert lower == pytest.approx(2.0 - 1.96 * sd, abs=0.03 * sd)
    assert upper == pytest.approx(2.0 + 1.96 * sd, abs=0.03 * sd)
