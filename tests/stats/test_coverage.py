"""Coverage: 95% neuron-bootstrap intervals contain the known population value in 90-99% of replicates.

Ground truth as in benchmarks/bench_stats_bias.py: neurons r_i = F g_i / sqrt(D) with g_i ~ N(0, I_D) on fixed
conditions, so the population kernel is F Fᵀ / D; every replicate draws new neurons and new noisy trials.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.alignment import kernel_alignment, task_alignment
from neurolearn.stats.similarity import kernel_similarity

N_REPLICATES, N_BOOT = 200, 200
N_CONDITIONS, N_FEATURES, N_NEURONS, N_TRIALS, NOISE_SD = 12, 6, 150, 3, 1.5


def _centred_alignment(K, L):
    H = np.eye(K.shape[0]) - 1.0 / K.shape[0]
    A, B = H @ K @ H, H @ L @ H
    return float(np.sum(A * B) / np.sqrt(np.sum(A * A) * np.sum(B * B)))


def _population(seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([1.0, -1.0], N_CONDITIONS // 2)
    F0 = rng.standard_normal((N_CONDITIONS, N_FEATURES))
    F0[:, 0] += 1.2 * y
    F1 = F0 + rng.standard_normal(F0.shape)
    return y, F0, F1


def _session(F, y, rng, day):
    means = F @ rng.standard_normal((N_FEATURES, N_NEURONS)) / np.sqrt(N_FEATURES)
    return make_recording(means, n_trials=N_TRIALS, noise_sd=NOISE_SD, target=y, session_id=f"day{day}",
                          neuron_ids=np.arange(N_NEURONS) + 10_000 * day, rng=rng)


@pytest.mark.slow
def test_task_alignment_interval_coverage():
    y, F0, _ = _population(0)
    truth = kernel_alignment(F0 @ F0.T, y)
    rng = np.random.default_rng(1)
    covered = []
    for rep in range(N_REPLICATES):
        ds = task_alignment(_session(F0, y, rng, 0), n_boot=N_BOOT, random_state=rep)
        lower, upper = ds["task_alignment_ci"].values
        covered.append(lower <= truth <= upper)
    assert 0.90 <= np.mean(covered) <= 0.99, f"coverage {np.mean(covered):.3f}"


@pytest.mark.slow
def test_kernel_similarity_interval_coverage():
    y, F0, F1 = _population(2)
    truth = _centred_alignment(F0 @ F0.T, F1 @ F1.T)
    rng = np.random.default_rng(3)
    covered = []
    for rep in range(N_REPLICATES):
        ds = kernel_similarity([_session(F0, y, rng, 0), _session(F1, y, rng, 1)], n_boot=N_BOOT, random_state=rep)
        lower, upper = ds["kernel_similarity_ci"].values[0, 1]
        covered.append(lower <= truth <= upper)
    assert 0.90 <= np.mean(covered) <= 0.99, f"coverage {np.mean(covered):.3f}"


@pytest.mark.slow
def test_task_alignment_coverage_on_realistic_spiking_sessions():
    """Log-normal rates, Poisson counts, fresh neurons each session (neurolearn.simulate.spiking) against its
    closed-form population truth. 150 sessions: binomial SE of a 95 % coverage is 1.8 %; allow 3 SE."""
    from neurolearn.errors import InsufficientDataError
    from neurolearn.simulate.spiking import spiking_sessions
    from neurolearn.stats.alignment import alignment_with_replicates
    from neurolearn.stats.estimate import bootstrap_interval
    from neurolearn.stats.kernels import condition_statistics, neuron_bootstrap_weights

    covered, refused = [], 0
    for rep in range(75):
        tree, truth = spiking_sessions(n_sessions=2, n_conditions=8, n_trials=4, n_neurons=150, random_state=rep)
        for k, key in enumerate(tree.children):
            stats = condition_statistics(tree[key]["responses"], "stimulus", target="target")
            try:
                value, replicates = alignment_with_replicates(
                    stats, weights=neuron_bootstrap_weights(stats.neurons, N_BOOT, rep))
            except InsufficientDataError:
                refused += 1
                continue
            _, (lower, upper) = bootstrap_interval(value, replicates)
            assert lower <= value <= upper
            covered.append(lower <= truth.statistics["task_alignment"].values[k] <= upper)
    assert refused <= 15 and 0.895 <= np.mean(covered) <= 1.0, (refused, np.mean(covered))
