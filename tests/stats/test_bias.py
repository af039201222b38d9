"""Small version of benchmarks/bench_stats_bias.py: default vs plug-in estimators against known truth.

Population: neurons r_i = F g_i / sqrt(D), g_i ~ N(0, I_D), on fixed conditions; the infinite-neuron, noiseless
kernel is F Fᵀ / D. Where the plug-in's systematic error is >= 0.1, the default's must be <= 0.02.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.alignment import kernel_alignment, task_alignment
from neurolearn.stats.similarity import kernel_similarity

N_CONDITIONS, N_FEATURES, NOISE_SD, N_REPLICATES = 16, 8, 3.0, 60


def _centred_alignment(K, L):
    H = np.eye(K.shape[0]) - 1.0 / K.shape[0]
    A, B = H @ K @ H, H @ L @ H
    return float(np.sum(A * B) / np.sqrt(np.sum(A * A) * np.sum(B * B)))


@pytest.mark.parametrize("n_trials,n_neurons", [(2, 300), (2, 1000), (3, 100)])
def test_default_estimators_remove_the_plugin_bias(n_trials, n_neurons):
    rng = np.random.default_rng(n_trials)
    y = np.repeat([1.0, -1.0], N_CONDITIONS // 2)
    F0 = rng.standard_normal((N_CONDITIONS, N_FEATURES))
    F0[:, 0] += 1.5 * y
    F1 = F0 + 0.8 * rng.standard_normal(F0.shape)
    truth_alignment = kernel_alignment(F0 @ F0.T, y)
    truth_cka = _centred_alignment(F0 @ F0.T, F1 @ F1.T)
    errors = {key: [] for key in ("alignment", "alignment_plugin", "cka", "cka_plugin")}
    for _ in range(N_REPLICATES):
        recs = [
            make_recording(F @ rng.standard_normal((N_FEATURES, n_neurons)) / np.sqrt(N_FEATURES), n_trials=n_trials,
                           noise_sd=NOISE_SD, target=y, neuron_ids=np.arange(n_neurons) + 10**6 * day,
                           session_id=f"day{day}", rng=rng)
            for day, F in enumerate((F0, F1))
        ]
        errors["alignment"].append(float(task_alignment(recs[0])["task_alignment"]) - truth_alignment)
        errors["alignment_plugin"].append(
            float(task_alignment(recs[0], estimator="plugin")["task_alignment"]) - truth_alignment)
        errors["cka"].append(kernel_similarity(recs)["kernel_similarity"].values[0, 1] - truth_cka)
        errors["cka_plugin"].append(
            kernel_similarity(recs, estimator="plugin")["kernel_similarity"].values[0, 1] - truth_cka)
    bias = {key: float(np.mean(value)) for key, value in errors.items()}
    checked = [name for name in ("alignment", "cka") if abs(bias[f"{name}_plugin"]) >= 0.1]
    assert checked, f"shape chosen so that the plug-in is biased by >= 0.1: {bias}"
    for name in checked:
        assert abs(bias[name]) <= 0.02, (name, bias)
