"""The matrix-product paths of the kernel statistics (issue 11 item 1) equal straightforward reference
implementations (the loops they replaced, kept here verbatim in spirit): exact sums to <= 1e-10 relative,
bootstrap replicates equal at a fixed seed."""

import numpy as np
import pytest

from neurolearn.stats import dimensionality
from neurolearn.stats.dimensionality import _shown_condition_pieces, _weighted_pieces

RTOL = 1e-10


def _reference_weighted_pieces(per_neuron, V, weights):
    """One weighted double-centred kernel Σ_i w_i H K_i H per replicate, and its squared norm."""
    t, own, c = per_neuron
    n_cond = c.shape[0]
    square = (weights @ t) ** 2 - (weights * weights) @ (t * t)
    norm = np.empty(weights.shape[0])
    H = np.eye(n_cond) - 1.0 / n_cond
    for b, w in enumerate(weights):
        S = (c * w) @ c.T - H @ np.diag(V @ w) @ H
        norm[b] = np.sum(S * S) - (w * w) @ own
    return square, norm


def _session(rng, n_cond, n_neurons, signal=1.0):
    means = signal * rng.standard_normal((n_cond, 3)) @ rng.standard_normal((3, n_neurons))
    means += rng.standard_normal((n_cond, n_neurons))
    return means, 0.25 * rng.random((n_cond, n_neurons))


@pytest.mark.parametrize("n_cond, n_neurons", [(6, 40), (30, 25), (12, 700)])
@pytest.mark.parametrize("method", [None, "kernel", "pairs"])
def test_weighted_pieces_equal_the_per_replicate_kernels(n_cond, n_neurons, method, monkeypatch):
    rng = np.random.default_rng(n_cond * 1000 + n_neurons)
    M, V = _session(rng, n_cond, n_neurons)
    monkeypatch.setattr(dimensionality, "_BLOCK_BYTES", 8 * 4 * max(n_cond * (n_cond + 1) // 2, n_neurons))
    per_neuron = _shown_condition_pieces(M, V)[2]
    weights = rng.poisson(1.0, size=(17, n_neurons)).astype(float)
    square, norm = _weighted_pieces(per_neuron, V, weights, method=method)
    ref_square, ref_norm = _reference_weighted_pieces(per_neuron, V, weights)
    np.testing.assert_allclose(square, ref_square, rtol=RTOL)
    np.testing.assert_allclose(norm, ref_norm, rtol=RTOL, atol=RTOL * np.abs(ref_norm).max())


def _reference_spectral(stats, weights, n_modes=10, estimator="unbiased"):
    """Per-replicate Rayleigh-Ritz loop (the implementation before the batched product)."""
    from neurolearn.stats.kernels import recentre_replicates, target_matrix
    from neurolearn.stats.spectral import _eigh_desc, _kernel, n_trustworthy_modes

    n_cond = stats.n_conditions
    H = np.eye(n_cond) - np.ones((n_cond, n_cond)) / n_cond
    labels = H @ target_matrix(stats.target)  # the centred target and kernel (S3-10)
    k_power = int(min(n_modes, n_cond - 1))
    n_trust = n_trustworthy_modes(stats)
    eigenvalues, vectors = _eigh_desc(H @ _kernel(stats, estimator) @ H / n_cond)
    # H K H has the all-ones direction as a null mode: keep the P - 1 modes orthogonal to it
    contrast = np.abs(vectors.T @ np.ones(n_cond)) < 1e-8 * np.sqrt(n_cond)
    eigenvalues, vectors = eigenvalues[contrast], vectors[:, contrast]
    label_norm = float(np.sum(labels * labels))
    power = np.sum((vectors.T @ labels) ** 2, axis=1)
    # the exponent is the participation-matched one (adversary S6-2): the participation ratio's own estimate and
    # replicates through exponent_from_participation, not a fit of these eigenvalues
    from dataclasses import replace

    from neurolearn.stats.dimensionality import participation_with_replicates
    from neurolearn.stats.spectral import exponent_from_participation

    pr, pr_replicates = participation_with_replicates(stats, unbiased=estimator == "unbiased", weights=weights)
    values = np.array([power[:k_power].sum() / label_norm, exponent_from_participation(pr, n_cond - 1)])
    n_ritz = int(min(n_cond - 1, max(k_power, n_trust) + 10))
    basis = vectors[:, :n_ritz]
    projected = basis.T @ stats.means
    noise = stats.sem2 if estimator == "unbiased" else np.zeros_like(stats.sem2)
    label_proj = basis.T @ labels
    replicates = np.empty((weights.shape[0], 2))
    noise_weighted = weights @ noise.T
    for b, w in enumerate(weights):
        small = (projected * w) @ projected.T
        if estimator == "unbiased":
            small -= basis.T @ (basis * noise_weighted[b][:, None])
        eta, u = _eigh_desc(small / (stats.n_neurons * n_cond))
        rep_power = np.sum((u.T @ label_proj) ** 2, axis=1)
        replicates[b, 0] = rep_power[:k_power].sum() / label_norm
    replicates[:, 1] = exponent_from_participation(pr_replicates, n_cond - 1)
    replicates = np.where(np.isfinite(values)[None], recentre_replicates(values, replicates, axis=0), np.nan)
    # spectral_power's spread raised to its leave-one-neuron-out jackknife SE: each neuron dropped, the kernel
    # rebuilt and re-diagonalised densely
    loo = np.empty(stats.n_neurons)
    for i in range(stats.n_neurons):
        keep = np.arange(stats.n_neurons) != i
        rest = replace(stats, means=stats.means[:, keep], sem2=stats.sem2[:, keep], neurons=stats.neurons[keep])
        eta_i, vec_i = _eigh_desc(H @ _kernel(rest, estimator) @ H)
        vec_i = vec_i[:, np.abs(vec_i.T @ np.ones(n_cond)) < 1e-8 * np.sqrt(n_cond)]
        loo[i] = np.sum((vec_i.T @ labels)[:k_power] ** 2) / label_norm
    jackknife_se = np.sqrt((stats.n_neurons - 1) / stats.n_neurons * np.sum((loo - loo.mean()) ** 2))
    spread = np.std(replicates[:, 0], ddof=1)
    if jackknife_se > spread > 0:
        replicates[:, 0] = np.clip(values[0] + jackknife_se / spread * (replicates[:, 0] - values[0]), 0.0, 1.0)
    return values, replicates


def _statistics(rng, n_cond, n_neurons, neurons=None, session_id="s"):
    from neurolearn.stats.kernels import ConditionStatistics

    means, sem2 = _session(rng, n_cond, n_neurons)
    target = np.tile([1.0, -1.0], n_cond // 2 + 1)[:n_cond]
    means[:, : n_neurons // 2] += np.outer(target, rng.standard_normal(n_neurons // 2))
    neurons = np.arange(n_neurons) if neurons is None else np.asarray(neurons)
    return ConditionStatistics(means, sem2, np.full(n_cond, 4), np.arange(n_cond), neurons, target, session_id)


@pytest.mark.parametrize("n_cond, n_neurons", [(8, 60), (40, 900)])
@pytest.mark.parametrize("estimator", ["unbiased", "plugin"])
def test_spectral_replicates_equal_the_per_replicate_loop(n_cond, n_neurons, estimator, monkeypatch):
    from neurolearn.stats import spectral

    rng = np.random.default_rng(n_cond + n_neurons)
    stats = _statistics(rng, n_cond, n_neurons)
    monkeypatch.setattr(spectral, "_BLOCK_BYTES", 8 * 100 * n_cond * (n_cond + 1) // 2)  # several blocks
    weights = rng.poisson(1.0, size=(31, n_neurons)).astype(np.uint8)
    values, replicates, _ = spectral.spectral_with_replicates(stats, estimator=estimator, weights=weights)
    ref_values, ref_replicates = _reference_spectral(stats, weights.astype(float), estimator=estimator)
    np.testing.assert_allclose(values, ref_values, rtol=RTOL)
    np.testing.assert_allclose(replicates, ref_replicates, rtol=RTOL, atol=1e-12)


# ------------------------------------------------------------------ single-session statistics: the dense forms


def _reference_self_inner(stats, left, right, unbiased=True):
    """‖LΦR‖² U-statistic with the dense per-neuron product (L Φ R)ᵀ M (P² N work)."""
    from neurolearn.stats.kernel_terms import centre_kernel, per_neuron_linear, per_neuron_pair_trace

    n = stats.n_neurons
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    kernel = stats.means @ stats.means.T
    kernel[np.diag_indices_from(kernel)] -= sem2.sum(axis=1)
    kernel /= n
    centred = centre_kernel(kernel, left, right)
    total = float(np.sum(centred * centred))
    row = per_neuron_linear(stats.means, sem2, centred.T)
    if not unbiased:
        return total, 2.0 * (row - total) / n
    own = per_neuron_pair_trace(stats.means, sem2, stats.means, sem2, left, right)
    value = (n * n * total - own.sum()) / (n * (n - 1))
    return float(value), 2.0 * (n * row - own - (n - 1) * value) / (n * (n - 1))


def _reference_alignment(stats, left, right, unbiased, weights):
    from neurolearn.stats import alignment as al
    from neurolearn.stats.kernels import (centre_kernel, jackknife_bias, leave_one_out, linear_estimate,
                                          normal_score_replicates, replicate, target_matrix)
    from neurolearn.stats.neuron_resampling import jackknife_spread, t_spread

    labels = target_matrix(stats.target)
    task = centre_kernel(labels @ labels.T, left, right)
    task_norm = np.linalg.norm(task)
    numerator, numerator_influence = linear_estimate(stats, task, unbiased=unbiased)
    squared_norm, norm_influence = _reference_self_inner(stats, left, right, unbiased)

    def ratio(num, squared):
        return al._ratio(num, squared, task_norm)

    bias, spread = 0.0, None
    if unbiased:
        loo = {0: leave_one_out(numerator, numerator_influence, 1),
               1: leave_one_out(squared_norm, norm_influence, 2)}
        bias = jackknife_bias(ratio, (numerator, squared_norm), [loo])
        # the replicates' SD: the jackknife SE of the ratio with its Student factor (neuron_resampling)
        spread = t_spread(*jackknife_spread(ratio(loo[0], loo[1])))
    estimate = ratio(numerator, squared_norm) - bias
    replicates = ratio(replicate(numerator, weights, numerator_influence),
                       replicate(squared_norm, weights, norm_influence))
    expected_task = labels @ labels.T
    p = expected_task.shape[0]
    d = np.trace(expected_task) / p
    c = (expected_task.sum() - np.trace(expected_task)) / (p * (p - 1))
    expected = (d - c) * np.eye(p) + c * np.ones((p, p))
    chance_num, _ = linear_estimate(stats, centre_kernel(expected, left, right), unbiased=unbiased)
    chance = al._ratio(chance_num, squared_norm, task_norm)
    return estimate, normal_score_replicates(estimate, replicates, spread=spread), chance


def _reference_difficulty(stats, ridge, unbiased, weights):
    from neurolearn.stats.kernels import linear_estimate, recentre_replicates, replicate, target_matrix

    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    kernel = kernel / stats.n_neurons
    p = kernel.shape[0]
    H = np.eye(p) - np.ones((p, p)) / p
    labels = H @ target_matrix(stats.target)  # the centred target and kernel (S3-10)
    kernel = H @ kernel @ H
    scale = np.trace(kernel) / (p - 1)
    _, scale_influence = linear_estimate(stats, H / (p - 1), unbiased=unbiased)
    if unbiased:
        eigenvalues, vectors = np.linalg.eigh((kernel + kernel.T) / 2.0)
        # the PSD projection over the contrasts; the all-ones null mode stays 0 and y has no part along it
        kernel = (vectors * np.clip(eigenvalues, 0.0, None)) @ vectors.T
    label_norm = float(np.sum(labels * labels))
    solved = np.linalg.solve(kernel / scale + ridge * np.eye(p), labels)
    value = float(np.sum(labels * solved) / label_norm)
    quad, quad_influence = linear_estimate(stats, solved @ solved.T, unbiased=unbiased)
    influence = (-quad_influence / scale + quad * scale_influence / scale**2) / label_norm
    return value, recentre_replicates(value, replicate(value, weights, influence))


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("variant", [(True, True), (False, False), (False, True)])
def test_alignment_difficulty_and_participation_equal_their_dense_forms(shared, unbiased, variant):
    from contextlib import nullcontext

    from neurolearn.stats.alignment import alignment_chance, alignment_with_replicates, difficulty_with_replicates
    from neurolearn.stats.dimensionality import participation_with_replicates
    from neurolearn.stats.kernel_terms import self_inner_estimate, shared_products

    rng = np.random.default_rng(7)
    stats = _statistics(rng, 24, 300)
    stats = type(stats)(stats.means + 3.0, *[getattr(stats, f) for f in ("sem2", "n_trials", "conditions",
                                                                        "neurons", "target", "session_id")])
    weights = rng.poisson(1.0, size=(25, 300)).astype(np.uint8)
    left, right = variant
    with shared_products() if shared else nullcontext():
        value, replicates = alignment_with_replicates(stats, left=left, right=right, unbiased=unbiased,
                                                      weights=weights)
        chance = alignment_chance(stats, left=left, right=right, unbiased=unbiased)
        difficulty, difficulty_reps = difficulty_with_replicates(stats, ridge=0.1, unbiased=unbiased,
                                                                 weights=weights)
        pr, pr_reps = participation_with_replicates(stats, unbiased=True, weights=weights)
        inner = self_inner_estimate(stats, left, right, unbiased=unbiased)
    ref_inner = _reference_self_inner(stats, left, right, unbiased)
    np.testing.assert_allclose(inner[0], ref_inner[0], rtol=RTOL)
    np.testing.assert_allclose(inner[1], ref_inner[1], rtol=RTOL, atol=RTOL * np.abs(ref_inner[1]).max())
    ref_value, ref_replicates, ref_chance = _reference_alignment(stats, left, right, unbiased,
                                                                 weights.astype(float))
    np.testing.assert_allclose([value, chance], [ref_value, ref_chance], rtol=RTOL)
    np.testing.assert_allclose(replicates, ref_replicates, rtol=RTOL)
    ref_difficulty, ref_difficulty_reps = _reference_difficulty(stats, 0.1, unbiased, weights.astype(float))
    np.testing.assert_allclose(difficulty, ref_difficulty, rtol=RTOL)
    np.testing.assert_allclose(difficulty_reps, ref_difficulty_reps, rtol=RTOL)
    # participation ratio: the dense Σ_i H K_i H path (no shared products) is the reference
    pieces = dimensionality._shown_condition_pieces(stats.means, stats.sem2)
    fast = dimensionality._shown_condition_pieces(stats.means, stats.sem2, gram=stats.means @ stats.means.T,
                                                  product=stats.means @ stats.means.T @ stats.means)
    for (v_ref, i_ref), (v, i) in zip(pieces[:2], fast[:2]):
        np.testing.assert_allclose(v, v_ref, rtol=RTOL)
        np.testing.assert_allclose(i, i_ref, rtol=RTOL, atol=RTOL * np.abs(i_ref).max())
    assert np.isfinite(pr) and pr_reps.shape == (25,)


def test_batched_powerlaw_exponents_equal_the_polyfit_per_row():
    from neurolearn.stats.spectral import _powerlaw_rows, powerlaw_exponent

    rng = np.random.default_rng(3)
    rows = np.sort(np.arange(1, 31) ** -1.3 * np.exp(0.2 * rng.standard_normal((50, 30))) - 0.01, axis=1)[:, ::-1]
    rows[0, 2:] = -1.0  # fewer than 3 positive eigenvalues: NaN
    for n_modes in (5, 12, 30):
        expected = [powerlaw_exponent(row, n_modes) for row in rows]
        np.testing.assert_allclose(_powerlaw_rows(rows, n_modes), expected, rtol=RTOL)
