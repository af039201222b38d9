"""Fisher d' against a known d', the held-out limit, sklearn's Ledoit-Wolf, and its permutation null."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import InsufficientDataError
from neurolearn.stats.readout import _shrunk_discriminant, fisher_discriminant
from tests.stats.readout._helpers import binary_recording, gaussian_classes


def test_fisher_discriminant_recovers_known_dprime(rng):
    n = 20
    a = rng.standard_normal((n, n))
    rec = gaussian_classes(2.0, n_neurons=n, n_trials=1000, rng=rng, covariance=a @ a.T / n + 0.5 * np.eye(n))
    ds = fisher_discriminant(rec, random_state=0, n_boot=200, n_permutations=3)
    value = float(ds["fisher_discriminant"])
    assert value == pytest.approx(2.0, abs=0.1)
    assert 0.0 <= ds.attrs["shrinkage"] < 1.0
    lo, hi = ds["fisher_discriminant_ci"].values
    assert lo < 2.0 < hi
    # Null of d' with 2000 trials: within a few binomial-like SEs of 0 (sqrt(4/2000) ~ 0.045), far below d'.
    assert abs(float(ds["fisher_discriminant_chance"])) < 0.15
    assert float(ds["fisher_discriminant_pvalue"]) == pytest.approx(1 / 4)
    assert ds["fisher_discriminant_boot"].sizes["bootstrap"] == 200


def _expected_heldout_dprime(dprime, n_neurons, n_train_per_class):
    """Held-out d' of w = Σ⁻¹(estimated Δμ) with Σ *known*: d²/sqrt(d² + p(1/n0 + 1/n1))."""
    return dprime**2 / np.sqrt(dprime**2 + n_neurons * 2.0 / n_train_per_class)


def test_fisher_shrinkage_helps_when_neurons_are_comparable_to_trials():
    n, n_trials = 60, 60  # 60 neurons, 96 training trials per fold
    shrunk, plain = [], []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((n, n))
        rec = gaussian_classes(2.0, n_neurons=n, n_trials=n_trials, rng=rng,
                               covariance=a @ a.T / n + 0.5 * np.eye(n))
        kw = dict(random_state=0, n_boot=0, n_permutations=0)
        shrunk.append(float(fisher_discriminant(rec, **kw)["fisher_discriminant"]))
        plain.append(float(fisher_discriminant(rec, shrinkage=0.0, **kw)["fisher_discriminant"]))
    limit = _expected_heldout_dprime(2.0, n, 0.8 * n_trials)  # 1.57
    assert np.mean(shrunk) > np.mean(plain) + 0.1
    assert 0.6 * limit < np.mean(shrunk) < limit + 0.1


def test_fisher_ledoit_wolf_matches_sklearn(rng):
    from sklearn.covariance import LedoitWolf

    x = rng.standard_normal((50, 80))
    positive = np.arange(50) < 20
    w, s = _shrunk_discriminant(x, positive, "auto")
    centred = x - np.where(positive[:, None], x[positive].mean(0), x[~positive].mean(0))
    lw = LedoitWolf(assume_centered=True).fit(centred)
    assert s == pytest.approx(lw.shrinkage_, rel=1e-9)
    np.testing.assert_allclose(w, np.linalg.solve(lw.covariance_, x[positive].mean(0) - x[~positive].mean(0)),
                               rtol=1e-7)


def test_negative_dprime_of_noise_is_flagged_as_no_information():
    # Noise only: held-out d' of a discriminant fitted to noise is negatively biased, so negative values
    # with intervals below 0 are common; the null has the same bias and the flag says "no information".
    flags = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        labels = np.repeat([1, 0], 20)
        rec = xr.DataArray(rng.standard_normal((40, 30)), dims=("trial", "neuron"),
                           coords={"target": ("trial", labels)})
        ds = fisher_discriminant(rec, random_state=seed, n_boot=0, n_permutations=40)
        value, chance = float(ds["fisher_discriminant"]), float(ds["fisher_discriminant_chance"])
        # the null of held-out d' sits near or below 0: -0.03 +- 0.02 over 30 such sessions, SD 0.08 with
        # 40 draws (with 8 draws the SD was 0.20, not the 0.08 this bound assumed)
        assert chance < 0.25
        flag = str(ds["fisher_discriminant_flag"].values)
        assert (flag == "at or below chance: carries no information") == (value <= chance)
        flags.append(value < 0 and flag != "")
    assert sum(flags) >= 1  # negative d' on noise happen and are flagged (each w.p. ~1/2)


def test_fisher_refusals():
    rec = binary_recording(n_trials=1)  # 5 trials per class
    with pytest.raises(InsufficientDataError, match="a test fold has 1 trial"):
        fisher_discriminant(rec, n_splits=5)
    with pytest.raises(InsufficientDataError, match="exactly 2 classes"):
        fisher_discriminant(binary_recording().assign_coords(target=("trial", np.arange(40) % 3)))


@pytest.mark.parametrize("n_trials, n_neurons", [(40, 12), (12, 40)])
@pytest.mark.parametrize("shrinkage", ["auto", 0.3])
def test_shrunk_discriminant_solves_the_shrunk_covariance_through_either_gram_matrix(n_trials, n_neurons, shrinkage):
    # more trials than neurons goes through XᵀX, fewer through XXᵀ (Woodbury): both must be Σ⁻¹Δμ with the
    # Ledoit-Wolf Σ = s·μ·I + (1 − s)·S written out densely here
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n_trials, n_neurons)) @ rng.standard_normal((n_neurons, n_neurons))
    positive = np.arange(n_trials) % 2 == 0
    X[positive] += 0.5
    w, s = _shrunk_discriminant(X, positive, shrinkage)
    mu1, mu0 = X[positive].mean(0), X[~positive].mean(0)
    centred = X - np.where(positive[:, None], mu1, mu0)
    sample = centred.T @ centred / n_trials
    mu = np.trace(sample) / n_neurons
    if shrinkage == "auto":
        delta = np.sum((sample - mu * np.eye(n_neurons)) ** 2) / n_neurons
        beta = (np.mean(np.sum(centred**2, axis=1) ** 2) - np.sum(sample**2)) / (n_trials * n_neurons)
        assert s == pytest.approx(min(1.0, min(beta, delta) / delta), rel=1e-9)
    sigma = s * mu * np.eye(n_neurons) + (1 - s) * sample
    np.testing.assert_allclose(w, np.linalg.solve(sigma, mu1 - mu0), rtol=1e-8, atol=1e-12)


def test_fisher_test_noise_se_matches_the_spread_over_new_test_sets(rng):
    # w fixed, d' of its held-out projections over many fresh test sets: the closed-form SE must match
    # their spread (an independent simulation), at the few test trials per class a session gives.
    from neurolearn.stats.readout.fisher import _dprime, _test_noise_se

    for d, n_test in ((1.5, 4), (3.0, 3), (0.5, 10)):
        values, ses = [], []
        for _ in range(3000):
            folds = [(rng.standard_normal(n_test), d + rng.standard_normal(n_test)) for _ in range(5)]
            fold_values = np.array([_dprime(s0, s1) for s0, s1 in folds])
            values.append(fold_values.mean())
            ses.append(_test_noise_se(folds, fold_values, np.full(5, 2.0 * n_test)))
        spread, typical = np.std(values), np.median(ses)
        # (the large-sample variance 1/n0 + 1/n1 + d^2/2nu alone reads 0.68-0.83 here)
        assert 0.9 < typical / spread < 1.12, (d, n_test, typical, spread)


def test_fisher_interval_is_finite_with_three_test_trials_per_class():
    # 30 trials, 15 per class, 5 folds: 3 held-out trials per class; resampling them used to put a pooled
    # SD of 0 into a few replicates and an interval of +-7e14 around d' = 6.
    rec = gaussian_classes(2.0, n_neurons=40, n_trials=15, rng=np.random.default_rng(3))
    ds = fisher_discriminant(rec, random_state=0, n_boot=200, n_permutations=3)
    value, se = float(ds["fisher_discriminant"]), float(ds["fisher_discriminant_se"])
    lo, hi = ds["fisher_discriminant_ci"].values
    assert np.isfinite(se) and se < 5.0 + abs(value)
    assert lo <= value <= hi
    assert np.isfinite(ds["fisher_discriminant_boot"].values).all()
