"""kernel_scale: the relative size of the double-centred kernel, against closed forms and known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.simulate.recording import make_recording
from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.similarity import kernel_scale


def _gain_sessions(gains, *, n_neurons=300, n_conditions=8, n_trials=4, noise_sd=0.5, seed=0, fresh=False):
    rng = np.random.default_rng(seed)
    tuning = rng.normal(size=(n_conditions, 4 * n_neurons if fresh else n_neurons)) + 3.0  # baselines of 3
    recordings = []
    for k, g in enumerate(gains):
        columns = slice(k * n_neurons, (k + 1) * n_neurons) if fresh else slice(None)
        ids = np.arange(tuning.shape[1])[columns]
        recordings.append(make_recording(g * tuning[:, columns], n_trials=n_trials, noise_sd=noise_sd,
                                         neuron_ids=ids, session_id=f"d{k}", rng=seed + 17 * k))
    return recordings


def test_a_uniform_gain_reads_its_square_and_the_similarity_stays_one():
    gains = (1.0, 1.3, 0.8)
    ds = kernel_scale(_gain_sessions(gains), n_boot=200, random_state=0)
    value, ci = ds["kernel_scale"].values, ds["kernel_scale_ci"].values
    np.testing.assert_allclose(value, np.square(gains), rtol=0.03)
    assert np.all((ci[:, 0] <= value) & (value <= ci[:, 1]))
    assert np.all((ci[1:, 0] <= np.square(gains)[1:]) & (np.square(gains)[1:] <= ci[1:, 1]))
    similarity = nl.stats.kernel_similarity(_gain_sessions(gains))["kernel_similarity"].values
    np.testing.assert_allclose(similarity, 1.0, atol=0.02)


def test_the_jackknife_removes_the_ratio_bias_of_few_fresh_neurons():
    # 20 fresh neurons per session from one population (its kernel the same both days, truth 1): the ratio of two
    # independent U-statistics is biased up by about Var(S_0)/S_0^2. Over 300 draws the corrected squared scale
    # averages 1 within its Monte Carlo error; the uncorrected ratio does not
    corrected, plain = [], []
    for seed in range(300):
        recs = _gain_sessions((1.0, 1.0), n_neurons=20, n_trials=3, noise_sd=0.5, seed=seed, fresh=True)
        stats = [nl.stats.condition_statistics(r) for r in recs]
        pairs = nl.stats.kernel_pairs.pairwise_kernel_terms(stats, centred=True, unbiased=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticWarning)
            value, _ = nl.stats.kernel_scale.scale_from_terms(pairs)
        if np.isfinite(value[1]):
            corrected.append(value[1] ** 2)
            plain.append(pairs["self"][1] / pairs["self"][0])
    corrected, plain = np.asarray(corrected), np.asarray(plain)
    assert corrected.size >= 295
    assert abs(np.mean(corrected) - 1.0) < 3 * np.std(corrected) / np.sqrt(corrected.size)
    assert np.mean(plain) - 1.0 > 3 * np.std(plain) / np.sqrt(plain.size)


def test_summarize_reports_it_with_intervals_that_cover_the_spiking_truth():
    hits = total = 0
    for seed in range(12):
        tree, truth = spiking_sessions(n_sessions=3, n_conditions=10, n_trials=5, n_neurons=200, tracked=seed % 2 == 0,
                                       gain=0.8, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = nl.summarize(tree, n_boot=200, random_state=seed, dynamics=False, statistics=["kernel_scale"])
        value, ci = ds["kernel_scale"].values, ds["kernel_scale_ci"].values
        assert value[0] == pytest.approx(1.0)
        finite = np.isfinite(value[1:])
        lower, upper, true = ci[1:, 0][finite], ci[1:, 1][finite], truth.statistics["kernel_scale"].values[1:][finite]
        hits += int(np.sum((lower <= true) & (true <= upper)))
        total += int(finite.sum())
    assert total >= 18
    assert hits / total >= 0.85  # 95 % intervals; binomial SE ~0.04 at 24 values


def test_a_session_without_condition_structure_is_nan_with_the_reason_and_one_warning():
    rng = np.random.default_rng(3)
    recs = _gain_sessions((1.0, 1.0))
    recs[1] = make_recording(np.zeros((8, 300)) + 3.0, n_trials=4, noise_sd=0.5, neuron_ids=np.arange(300),
                             session_id="d1", rng=rng)
    with pytest.warns(StatisticWarning, match=r"kernel_scale is NaN for session 'd1'") as record:
        ds = kernel_scale(recs)
    assert sum("kernel_scale" in str(w.message) for w in record) == 1
    assert np.isnan(ds["kernel_scale"].values[1]) and "not resolved" in ds["kernel_scale_flag"].values[1]
    assert ds["kernel_scale"].values[0] == pytest.approx(1.0)
