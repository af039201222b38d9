"""Participation ratio: known truths, the U-statistics and replicates against brute-force sums, realistic
spiking sessions (range, interval, coverage) and refusals of data that cannot support it."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.simulate.recording import make_recording
from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats.dimensionality import (
    _replicates,
    _shown_condition_pieces,
    _weighted_pieces,
    naive_participation_ratio,
    participation_ratio,
    participation_with_replicates,
)
from neurolearn.stats.kernels import condition_statistics


def _pr(rec, **options):
    return float(participation_ratio(rec, **options)["participation_ratio"])


def test_naive_pr_equals_eigenvalue_formula(rng):
    X = rng.standard_normal((12, 7))
    eigenvalues = np.linalg.eigvalsh(np.cov(X, rowvar=False))
    assert naive_participation_ratio(X) == pytest.approx(eigenvalues.sum() ** 2 / np.sum(eigenvalues**2))


def test_twelve_dimensional_latent_shown_sixteen_conditions(rng):
    """Issue 8 read 53 here. With readouts g_i ~ N(0, I) the population kernel of means Z g_i is Z Zᵀ, so the
    truth is the PR of the 16 shown latents (about 6, not 12: 16 points of a 12-d isotropic cloud)."""
    latent = rng.standard_normal((16, 12))
    truth = naive_participation_ratio(latent)
    means = latent @ rng.standard_normal((12, 600))
    ds = participation_ratio(make_recording(means, n_trials=10, noise_sd=2.0, rng=1), n_boot=300, random_state=0)
    value, se = float(ds["participation_ratio"]), float(ds["participation_ratio_se"])
    lower, upper = ds["participation_ratio_ci"].values
    assert 1 <= value <= 15
    assert abs(value - truth) < 3 * se  # neuron sampling is the only error left
    assert lower <= truth <= upper


def test_fifty_true_dimensions_at_fifty_conditions_and_neurons(rng):
    """docs/theory.md: naive PR of 50 true dimensions reads ~16 at P = Q = 50 (trial noise and 50 neurons); the
    corrected one reads the population PR of the 50 shown conditions, PR(Z) (about 25)."""
    naive, corrected, truth = [], [], []
    for rep in range(12):
        latent = rng.standard_normal((50, 50))  # 50 conditions drawn from an isotropic 50-d distribution
        means = latent @ rng.standard_normal((50, 50))  # 50 neurons, random read-outs of the latent
        rec = make_recording(means, n_trials=2, noise_sd=1.0, rng=rep)
        naive.append(_pr(rec, estimator="naive"))
        corrected.append(_pr(rec))
        truth.append(naive_participation_ratio(latent))
    assert np.mean(naive) == pytest.approx(16, abs=2.5)
    # 12 sessions of 50 neurons: the mean error's SE is about 0.6 (the spread of corrected - truth / sqrt(12))
    errors = np.array(corrected) - np.array(truth)
    assert abs(errors.mean()) < 3 * errors.std(ddof=1) / np.sqrt(len(errors)) + 0.5
    assert np.all(np.array(corrected) <= 49)


def test_known_spectrum_without_noise_or_neuron_sampling_error(rng):
    """A population whose centred kernel has eigenvalues (4, 2, 1, 1): PR = 64/22, recovered within the U-statistic's
    neuron-sampling noise from 4000 neurons with nearly noiseless trials."""
    P = 6
    basis = np.linalg.qr(rng.standard_normal((P, P)) - 0)[0]
    centred = basis - basis.mean(axis=0)
    Q = np.linalg.qr(centred[:, :-1])[0][:, :4]  # 4 orthonormal directions orthogonal to the ones vector
    scores = Q * np.sqrt([4.0, 2.0, 1.0, 1.0])  # Φ = Σ_k λ_k q_k q_kᵀ for readouts g ~ N(0, I)
    means = scores @ rng.standard_normal((4, 4000))
    value = _pr(make_recording(means, n_trials=3, noise_sd=0.01, rng=2))
    assert value == pytest.approx(64 / 22, rel=0.05)


def test_u_statistics_and_weighted_replicates_match_brute_force_sums(rng):
    n_cond, n_neurons = 6, 5
    M, V = rng.standard_normal((n_cond, n_neurons)), 0.1 * rng.random((n_cond, n_neurons))
    H = np.eye(n_cond) - 1.0 / n_cond
    K = [H @ (np.outer(M[:, i], M[:, i]) - np.diag(V[:, i])) @ H for i in range(n_neurons)]
    pairs = [(i, j) for i in range(n_neurons) for j in range(n_neurons) if i != j]
    (square, _), (norm, _), per_neuron = _shown_condition_pieces(M, V)
    assert square == pytest.approx(np.mean([np.trace(K[i]) * np.trace(K[j]) for i, j in pairs]))
    assert norm == pytest.approx(np.mean([np.sum(K[i] * K[j]) for i, j in pairs]))
    weights = rng.poisson(1.0, size=(3, n_neurons)).astype(float)
    for method in ("kernel", "pairs"):
        square_b, norm_b = _weighted_pieces(per_neuron, V, weights, method=method)
        for w, s, f in zip(weights, square_b, norm_b):
            assert s == pytest.approx(sum(w[i] * w[j] * np.trace(K[i]) * np.trace(K[j]) for i, j in pairs))
            assert f == pytest.approx(sum(w[i] * w[j] * np.sum(K[i] * K[j]) for i, j in pairs))


def test_replicates_with_vanishing_denominators_reach_the_top_of_the_range_and_keep_the_estimate():
    # half the replicates' kernel norms are <= 0: they stand for "very high dimensional", not "missing"
    square = np.ones(101)
    norm = np.concatenate([np.linspace(0.2, 0.5, 51), -np.linspace(0.01, 0.2, 50)])
    reps = _replicates(0.3, square, norm, n_cond=8)
    lower, upper = np.quantile(reps, [0.025, 0.975])
    assert np.all((reps >= 1) & (reps <= 7))
    assert upper == pytest.approx(7.0)
    assert lower <= 1 / 0.3 <= upper
    assert np.median(reps) == pytest.approx(1 / 0.3)


def test_realistic_spiking_sessions_stay_in_range_and_intervals_contain_estimates():
    """Issue 8: 45003.6, -247.4, -0.63 and NaN without a reason on 8-condition spiking sessions."""
    refused, values = [], []
    for seed in range(40):
        n_trials, n_neurons = 2 + seed % 4, (30, 60, 150, 300)[seed % 4]
        tree, _ = spiking_sessions(n_sessions=1, n_conditions=8, n_trials=n_trials, n_neurons=n_neurons,
                                   latent_dim=(2, 4, 12)[seed % 3], random_state=seed)
        try:
            ds = participation_ratio(tree["day00"]["responses"], n_boot=100, random_state=seed)
        except InsufficientDataError as error:
            refused.append(str(error))
            continue
        value = float(ds["participation_ratio"])
        lower, upper = ds["participation_ratio_ci"].values
        values.append(value)
        assert 1.0 <= value <= 7.0
        assert lower <= value <= upper
        # the interval is re-centred on the estimate in floating point: in range up to rounding
        assert 1.0 - 1e-12 <= lower and upper <= 7.0 + 1e-12
    assert len(values) >= 20
    assert all("not resolved from noise" in reason for reason in refused)


def test_coverage_of_the_population_truth_on_spiking_sessions():
    """95% intervals cover the closed-form population PR (shown conditions): 100 sessions, so a true
    coverage of 0.95 gives >= 0.89 with probability > 0.99 (binomial)."""
    covered = []
    for seed in range(100):
        tree, truth = spiking_sessions(n_sessions=1, n_conditions=8, n_trials=5, n_neurons=300, latent_dim=4,
                                       separation=(1.0, 1.0), random_state=1000 + seed)
        target = float(truth.statistics["participation_ratio"][0])
        try:
            ds = participation_ratio(tree["day00"]["responses"], n_boot=200, random_state=seed)
        except InsufficientDataError:
            continue
        lower, upper = ds["participation_ratio_ci"].values
        covered.append(lower <= target <= upper)
    assert len(covered) >= 80
    assert np.mean(covered) >= 0.89


def test_summarize_core_returns_value_and_replicates_for_shared_weights(rng):
    means = rng.standard_normal((10, 4)) @ rng.standard_normal((4, 80))
    stats = condition_statistics(make_recording(means, n_trials=3, noise_sd=0.5, rng=0))
    weights = rng.poisson(1.0, size=(50, 80)).astype(np.uint8)
    value, replicates = participation_with_replicates(stats, unbiased=True, weights=weights)
    assert replicates.shape == (50,)
    assert np.all((replicates >= 1) & (replicates <= 9))
    assert np.median(replicates) == pytest.approx(value)
    assert participation_with_replicates(stats, unbiased=True)[1].size == 0
    naive, naive_replicates = participation_with_replicates(stats, unbiased=False, weights=weights)
    assert naive_replicates.shape == (50,) and 1 <= naive <= 9


def test_degenerate_sessions_are_refused_with_the_reason(rng):
    tuned = rng.standard_normal((8, 40))
    with pytest.raises(InsufficientDataError, match=r"fewer than 4 conditions \(found 3\)"):
        participation_ratio(make_recording(tuned[:3], n_trials=2, noise_sd=0.1, rng=0))
    with pytest.raises(InsufficientDataError, match=r"fewer than 3 neurons \(found 1\)"):
        participation_ratio(make_recording(tuned[:, :1], n_trials=2, noise_sd=0.1, rng=0))
    with pytest.raises(InsufficientDataError, match=r"fewer than 2 trials in some condition \(found 1\)"):
        participation_ratio(make_recording(tuned, n_trials=1, noise_sd=0.1, rng=0))
    silent = make_recording(np.zeros((8, 40)), n_trials=3, rng=0)
    with pytest.raises(InsufficientDataError, match="not resolved from noise"):
        participation_ratio(silent)
    with pytest.raises(InsufficientDataError, match="no variance across conditions"):
        participation_ratio(silent, estimator="naive")
    with pytest.raises(DataError, match="estimator"):
        participation_ratio(make_recording(tuned, n_trials=2, rng=0), estimator="bias-free")


def test_untuned_neurons_are_mostly_refused(rng):
    """Pure Poisson noise (no condition structure): the estimand is undefined, and the kernel norm's estimate
    is within one SE of zero in most sessions (it would be in about 84% if it were Gaussian around 0)."""
    refused = 0
    for seed in range(30):
        counts = rng.poisson(3.0, size=(8 * 4, 100)).astype(float)
        rec = make_recording(np.zeros((8, 100)), n_trials=4, rng=seed).copy(data=counts)
        try:
            participation_ratio(rec)
        except InsufficientDataError:
            refused += 1
    assert refused >= 20


def test_invariant_to_scale_neuron_order_and_per_neuron_offsets(rng):
    """The estimand depends on the centred kernel's spectrum shape only: a common scale, a permutation of the
    neurons and a constant added to each neuron (removed by centring over conditions) leave it unchanged."""
    means = rng.standard_normal((10, 5)) @ rng.standard_normal((5, 60))
    rec = make_recording(means, n_trials=3, noise_sd=0.5, rng=0)
    value = _pr(rec)
    order = rng.permutation(rec.sizes["neuron"])
    offsets = rng.standard_normal(rec.sizes["neuron"]) * 10
    assert _pr(rec * 1000.0) == pytest.approx(value, rel=1e-9)
    assert _pr(rec.isel(neuron=order)) == pytest.approx(value, rel=1e-9)
    assert _pr(rec + offsets) == pytest.approx(value, rel=1e-6)  # offsets 10x the signal: cancellation


def test_shared_pair_pass_gives_brute_force_rows_and_norms_and_leaves_every_statistic_unchanged(rng):
    """share_pair_products (the PR bootstrap's N x N pass, run first by summarize) seeds r_i = Σ_j (c_i·c_j)²
    and the replicates' Σ_ij w_i w_j (c_i·c_j)²; every per-neuron quadratic form then comes from r instead of
    M Mᵀ M. Checked against brute-force sums over neuron pairs and against the statistics computed without
    the pass (outside a shared block)."""
    from neurolearn.stats.alignment import alignment_with_replicates
    from neurolearn.stats.dimensionality import _pairs_route, share_pair_products
    from neurolearn.stats.kernel_terms import PAIR_ROWS, centred_quadratic_rows, lookup_shared, shared_products
    from neurolearn.stats.kernels import ConditionStatistics

    n_cond, n, n_boot = 20, 60, 30
    assert _pairs_route(n_cond, n, n_boot)  # the route under test
    means = rng.standard_normal((n_cond, n)) + rng.standard_normal(n)  # per-neuron offsets: m̄ matters
    sem2 = 0.2 * rng.random((n_cond, n))
    stats = ConditionStatistics(means, sem2, np.full(n_cond, 4), np.arange(n_cond), np.arange(n),
                                np.repeat([1.0, -1.0], n_cond // 2), "d0")
    weights = rng.poisson(1.0, size=(n_boot, n)).astype(np.uint8)
    c = means - means.mean(axis=0)
    pair_products = (c.T @ c) ** 2
    w = weights.astype(float)
    noise_total = sem2.sum(axis=1)
    H = np.eye(n_cond) - 1.0 / n_cond
    G = means @ means.T
    plain = {(left, right): centred_quadratic_rows(stats, noise_total, left, right)
             for left in (False, True) for right in (False, True)}
    pr_plain = participation_with_replicates(stats, weights=weights)
    alignment_plain = alignment_with_replicates(stats, weights=weights)
    with shared_products():
        share_pair_products(stats, weights)
        rows = lookup_shared(stats, PAIR_ROWS)
        np.testing.assert_allclose(rows, pair_products.sum(axis=1), rtol=1e-12)
        norms = lookup_shared(stats, ("pr_pair_norms", id(weights)))[1]
        np.testing.assert_allclose(norms, np.einsum("bi,ij,bj->b", w, pair_products, w), rtol=1e-12)
        for (left, right), expected in plain.items():
            L, R = (H if left else np.eye(n_cond)), (H if right else np.eye(n_cond))
            brute = np.array([(R @ means[:, i]) @ (G - np.diag(noise_total)) @ (L @ means[:, i]) for i in range(n)])
            shared = centred_quadratic_rows(stats, noise_total, left, right)
            np.testing.assert_allclose(shared, brute, rtol=1e-10)
            np.testing.assert_allclose(shared, expected, rtol=1e-10)
        pr_shared = participation_with_replicates(stats, weights=weights)
        alignment_shared = alignment_with_replicates(stats, weights=weights)
    for before, after in ((pr_plain, pr_shared), (alignment_plain, alignment_shared)):
        assert after[0] == pytest.approx(before[0], rel=1e-12)
        np.testing.assert_allclose(after[1], before[1], rtol=1e-10)


@pytest.mark.parametrize("n_neurons", [1, 3, 63, 64, 65, 130, 700])
def test_the_blocked_gram_pass_equals_the_full_pair_sums(n_neurons):
    # the replicates' Σ_ij w_i w_j (c_i·c_j)² and the row sums from row blocks (diagonal blocks as symmetric
    # products, the rest once and doubled) equal the sums over the full N x N Gram matrix, at every block split
    from neurolearn.stats.dimensionality import _weighted_pair_norms

    rng = np.random.default_rng(n_neurons)
    c = rng.standard_normal((6, n_neurons))
    weights = rng.poisson(1.0, (5, n_neurons)).astype(float)
    squared = (c.T @ c) ** 2
    total, rows = _weighted_pair_norms(c, weights, row_sums=True)
    np.testing.assert_allclose(total, np.einsum("bi,ij,bj->b", weights, squared, weights), rtol=1e-12)
    np.testing.assert_allclose(rows, squared.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(_weighted_pair_norms(c, weights), total, rtol=1e-12)
