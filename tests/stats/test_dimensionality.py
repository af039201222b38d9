"""Participation ratio: THEORY.md's 50-dimension example, and the U-statistics against brute-force sums."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.dimensionality import (
    _covariance_square_u,
    _variance_product_u,
    naive_participation_ratio,
    participation_ratio,
)


def test_naive_pr_equals_eigenvalue_formula(rng):
    X = rng.standard_normal((12, 7))
    eigenvalues = np.linalg.eigvalsh(np.cov(X, rowvar=False))
    assert naive_participation_ratio(X) == pytest.approx(eigenvalues.sum() ** 2 / np.sum(eigenvalues**2))


def test_fifty_true_dimensions_at_fifty_conditions_and_neurons(rng):
    """THEORY.md: naive PR of 50 true dimensions reads ~16 at P = Q = 50; the corrected one reads ~50."""
    naive, corrected = [], []
    for rep in range(12):
        latent = rng.standard_normal((50, 50))  # 50 conditions drawn from an isotropic 50-d distribution
        means = latent @ rng.standard_normal((50, 50))  # 50 neurons, random read-outs of the latent
        rec = make_recording(means, n_trials=2, noise_sd=1.0, rng=rep)
        naive.append(float(participation_ratio(rec, estimator="naive")["participation_ratio"]))
        corrected.append(float(participation_ratio(rec)["participation_ratio"]))
    assert np.mean(naive) == pytest.approx(16, abs=2.5)
    assert np.mean(corrected) == pytest.approx(50, rel=0.1)


def test_u_statistics_match_brute_force_sums(rng):
    n_cond, n_neurons = 6, 4
    M, V = rng.standard_normal((n_cond, n_neurons)), 0.1 * rng.random((n_cond, n_neurons))

    def half_sq_diff(i):  # trial-corrected variance estimate of neuron i from each ordered condition pair
        return {(a, b): ((M[a, i] - M[b, i]) ** 2 - V[a, i] - V[b, i]) / 2 for a in range(n_cond)
                for b in range(n_cond) if a != b}

    def song(i, j):  # HSIC U-statistic (4 distinct samples) of neurons i and j's linear kernels
        total = [M[a, i] * M[b, i] * (M[a, j] * M[b, j] + M[c, j] * M[d, j] - 2 * M[a, j] * M[c, j])
                 for a, b, c, d in permutations(range(n_cond), 4)]
        return np.mean(total)

    quads = list(permutations(range(n_cond), 4))
    numerator, denominator = [], []
    for i in range(n_neurons):
        for j in range(n_neurons):
            if i != j:
                di, dj = half_sq_diff(i), half_sq_diff(j)
                numerator.append(np.mean([di[(a, b)] * dj[(c, d)] for a, b, c, d in quads]))
                denominator.append(song(i, j))
    assert _variance_product_u(M, V)[0] == pytest.approx(np.mean(numerator))
    assert _covariance_square_u(M)[0] == pytest.approx(np.mean(denominator))


def test_bootstrap_and_errors(rng):
    means = rng.standard_normal((20, 5)) @ rng.standard_normal((5, 200))
    rec = make_recording(means, n_trials=2, noise_sd=0.5, rng=0)
    ds = participation_ratio(rec, n_boot=200, random_state=0)
    lower, upper = ds["participation_ratio_ci"].values
    assert lower < float(ds["participation_ratio"]) < upper
    assert ds.attrs["estimator"] == "unbiased"
    with pytest.raises(DataError, match="at least 4 conditions"):
        participation_ratio(make_recording(rng.standard_normal((3, 5)), n_trials=2, rng=0))
    with pytest.raises(DataError, match="estimator"):
        participation_ratio(rec, estimator="bias-free")
