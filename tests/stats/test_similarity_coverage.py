"""Coverage of the kernel similarity's 95 % interval between sessions of different cells, on a simulator
independent of neurolearn.simulate (issue 8, finding A13)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.stats.similarity import kernel_similarity

WINDOW = 0.5  # s


def _rates(rng, n_neurons, latents, gain):
    """Rates (conditions x neurons) of the same log-normal-baseline cells for each latent (conditions x 3),
    tuned as exp(gain * z @ u), 10 % silent."""
    baseline = rng.normal(np.log(5.0), 1.0, n_neurons)
    tuning = rng.normal(0.0, 1.0, (n_neurons, 3)) / np.sqrt(3.0)
    silent = rng.random(n_neurons) < 0.1
    out = []
    for z in latents:
        rates = np.exp(baseline[None] + gain * z @ tuning.T)
        rates[:, silent] = 0.0
        out.append(rates)
    return out


def _centred_cka(K, L):
    H = np.eye(len(K)) - 1.0 / len(K)
    A, B = H @ K @ H, H @ L @ H
    return float(np.sum(A * B) / np.sqrt(np.sum(A * A) * np.sum(B * B)))


def _recording(rng, rates, n_trials, session_id):
    stimulus = np.repeat(np.arange(rates.shape[0]), n_trials)
    counts = rng.poisson(rates[stimulus] * WINDOW) / WINDOW
    return xr.DataArray(counts, dims=("trial", "neuron"), name="responses", attrs={"session_id": session_id},
                        coords={"stimulus": ("trial", stimulus), "trial": np.arange(stimulus.size),
                                "neuron": [f"{session_id}/{i}" for i in range(rates.shape[1])]})


@functools.lru_cache(maxsize=1)
def _fresh_cell_coverage():
    """(coverage, reported pairs, fraction of intervals below the truth) over 250 independent session pairs:
    8 conditions x 6 trials x 100 different cells per session, two tunings A and B = A + 0.6 noise; truth the
    CKA of the population kernels (400k cells), 0.39."""
    rng = np.random.default_rng(7001)
    n_conditions = 8
    classes = np.arange(n_conditions) % 2
    z_a = np.zeros((n_conditions, 3))
    z_a[:, 0] = classes - 0.5
    z_a += rng.normal(0.0, 0.5, z_a.shape)
    z_b = z_a + 0.6 * rng.normal(0.0, 1.0, z_a.shape)
    K_a = K_b = 0.0
    for _ in range(20):
        r_a, r_b = _rates(rng, 20000, [z_a, z_b], 0.8)
        K_a, K_b = K_a + r_a @ r_a.T, K_b + r_b @ r_b.T
    truth = _centred_cka(K_a, K_b)
    assert 0.3 < truth < 0.5
    hits = n = below = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(250):
            recordings = [_recording(rng, _rates(rng, 100, [z_a, z_b], 0.8)[day], 6, f"day{day}")
                          for day in range(2)]
            ds = kernel_similarity(recordings, n_boot=200, random_state=seed)
            value = float(ds["kernel_similarity"].values[0, 1])
            if not np.isfinite(value):
                continue
            lower, upper = ds["kernel_similarity_ci"].values[0, 1]
            assert lower <= value <= upper
            n += 1
            hits += lower <= truth <= upper
            below += upper < truth
    return hits / n, n, below / n


def test_kernel_similarity_covers_between_fresh_cell_sessions_at_eight_conditions():
    """The CKA's delta-method influences concentrate on 2-4 cells, and a session lacking the dominant cells
    reads low with a short spread: the robust normal scores alone covered 0.867 of these 210 pairs (12.9 %
    of the intervals below the truth); with the upper deviations scaled by t_0.975(n_eff - 1)/z_0.975 they
    cover 0.910."""
    coverage, n, below = _fresh_cell_coverage()
    assert n >= 180, n
    assert 0.905 <= coverage <= 0.99, (coverage, below)


@pytest.mark.xfail(strict=True, reason="known gap (issue 8, A13): 0.910 measured, the intervals still miss "
                                       "below the truth (8.6 % of pairs); not a selection by the NaN rules: "
                                       "with the denominator and range guards off all 250 pairs cover 0.896 "
                                       "+- 0.019, the 40 they NaN 0.825")
def test_kernel_similarity_fresh_cell_coverage_within_binomial_noise_of_nominal():
    """0.95 within 2 binomial SEs (1.5 % at 210 pairs)."""
    coverage, n, below = _fresh_cell_coverage()
    assert coverage >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / n), (coverage, below)
