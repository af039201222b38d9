"""Kernel similarity of the same cells recorded twice from a heavy-tailed population (issue 8): coverage of
the population truth, known in closed form, by the intervals summarize forms (lower_few_cell_widening)."""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.kernel_pairs import pairwise_kernel_terms
from neurolearn.stats.kernels import condition_statistics, session_bootstrap_weights
from neurolearn.stats.similarity_ratios import similarity_from_terms

N_CONDITIONS, N_LATENT = 8, 3
LABELS = np.where(np.arange(N_CONDITIONS) % 2 == 0, -1.0, 1.0)
CENTRE = np.eye(N_CONDITIONS) - 1.0 / N_CONDITIONS


def _cka(first, second):
    first, second = CENTRE @ first @ CENTRE, CENTRE @ second @ CENTRE
    return float(np.sum(first * second) / np.sqrt(np.sum(first * first) * np.sum(second * second)))


def _population_kernel(latent, gain):
    """E over cells of r_i(c) r_i(c') for rates exp(log-rate_i + gain w_i.x_c / sqrt(D)), w_i ~ N(0, I),
    log-rates independent of w: exp(gain² |x_c + x_c'|² / (2 D)) up to a constant factor, which CKA ignores."""
    total = latent[:, None, :] + latent[None, :, :]
    return np.exp(gain**2 * np.sum(total * total, axis=-1) / (2 * N_LATENT))


def _tracked_pair(seed, n_cells=120, n_trials=4, gain=0.6, drift=0.8, log_rate_sd=1.0):
    """Two sessions of the same cells (log-normal rates, exp-linear tuning, Poisson counts over 0.5 s), the
    conditions' latent geometry moved along the task axis between them; returns the condition statistics and
    the population CKA."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N_CONDITIONS, N_LATENT))
    axis = np.zeros(N_LATENT)
    axis[0] = 1.0
    latents = [latent, latent + drift * LABELS[:, None] * axis[None]]
    log_rate = np.log(5.0) + log_rate_sd * rng.standard_normal(n_cells) - log_rate_sd**2 / 2
    weights = rng.standard_normal((n_cells, N_LATENT))
    stats = []
    for day, x in enumerate(latents):
        means = np.exp(log_rate[None] + gain * (x @ weights.T) / np.sqrt(N_LATENT)) * 0.5
        rec = make_recording(means, n_trials=n_trials, target=LABELS, neuron_ids=np.arange(n_cells),
                             session_id=f"d{day}", units="count", rng=rng)
        rec = rec.copy(data=rng.poisson(rec.values).astype(float))
        stats.append(condition_statistics(rec, "stimulus", target="target"))
    truth = _cka(_population_kernel(latents[0], gain), _population_kernel(latents[1], gain))
    return stats, truth


def _coverage(n_sets=300, n_boot=200):
    hits, below, above = 0, 0, 0
    for seed in range(n_sets):
        stats, truth = _tracked_pair(seed)
        weights = session_bootstrap_weights([s.neurons for s in stats], n_boot, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            terms = pairwise_kernel_terms(stats, centred=True, unbiased=True, weights=weights)
            value, replicates, reasons = similarity_from_terms(terms, with_reasons=True)
        if reasons[0, 1]:
            continue
        se, (lower, upper) = bootstrap_interval(value[0, 1], replicates[:, 0, 1])
        assert lower <= value[0, 1] <= upper
        hits += lower <= truth <= upper
        below += upper < truth
        above += lower > truth
    return hits / (hits + below + above), hits + below + above, below, above


def test_tracked_heavy_tailed_similarity_covers_the_population_truth():
    """273 of 300 pairs reported (log-rate SD 1, 120 cells, 8 conditions x 4 trials, truth ~0.85): the
    re-centred percentile interval alone covered 0.868 here (33 misses above the truth, 3 below: the same few
    high-rate cells carry both kernels); with its lower deviations scaled by the Satterthwaite Student factor
    0.901 (24 above). Known gap, stated in the registry: still short of 0.95 (binomial SE 0.018)."""
    coverage, n, below, above = _coverage()
    assert n >= 250, n
    assert coverage >= 0.885, (coverage, n, below, above)
    assert above <= 28, (coverage, n, below, above)  # the side the widening acts on
