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
    from neurolearn.stats.spectral import _eigh_desc, _kernel, n_trustworthy_modes, powerlaw_exponent

    labels = target_matrix(stats.target)
    n_cond = stats.n_conditions
    k_power = int(min(n_modes, n_cond - 1))
    n_trust = n_trustworthy_modes(stats)
    eigenvalues, vectors = _eigh_desc(_kernel(stats, estimator) / n_cond)
    label_norm = float(np.sum(labels * labels))
    power = np.sum((vectors.T @ labels) ** 2, axis=1)
    values = np.array([power[:k_power].sum() / label_norm, powerlaw_exponent(eigenvalues, n_trust)])
    n_ritz = int(min(n_cond, max(k_power, n_trust) + 10))
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
        replicates[b] = (rep_power[:k_power].sum() / label_norm, powerlaw_exponent(eta, n_trust))
    replicates = np.where(np.isfinite(values)[None], recentre_replicates(values, replicates, axis=0), np.nan)
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
