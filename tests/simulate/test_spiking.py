"""Spiking sessions: Poisson counts around log-normal rates, and population truth that is right.

The closed forms are checked against Monte-Carlo over many neurons (and stimuli), with tolerances set from
the Monte-Carlo standard errors.
"""

import numpy as np
import pytest

from neurolearn.data import REQUIRED_ATTRS, validate_recording
from neurolearn.errors import DataError
from neurolearn.simulate.spiking import (
    distribution_participation_ratio,
    kernel_change_truth,
    kernel_similarity_truth,
    participation_ratio_truth,
    population_kernel,
    spiking_sessions,
    task_alignment_truth,
)

MEAN, SD, GAIN = 1.0, 1.0, 0.5


def _neurons(rng, n, d):
    return MEAN + SD * rng.standard_normal(n), rng.standard_normal((n, d)) / np.sqrt(d)


def test_closed_form_kernel_matches_monte_carlo_over_a_million_neurons(rng):
    d = 4
    z = 0.6 * rng.standard_normal((6, d))
    log_base, tuning = _neurons(rng, 1_000_000, d)
    rates = np.exp(log_base[None, :] + GAIN * z @ tuning.T)  # (6, 10^6)
    mc, se = np.empty((6, 6)), np.empty((6, 6))
    for a in range(6):  # one pair at a time: the full (6, 6, 10^6) product array would take 300 MB
        for b in range(a, 6):
            product = rates[a] * rates[b]
            mc[a, b] = mc[b, a] = product.mean()
            se[a, b] = se[b, a] = product.std() / np.sqrt(product.size)
    closed = population_kernel(z, mean_log_rate=MEAN, sd_log_rate=SD, gain=GAIN)
    # log-normal products are heavy-tailed: 6 SE keeps a false alarm over 21 entries far below 1e-6
    assert np.all(np.abs(mc - closed) < 6 * se), (mc - closed) / se
    # and the statistics built on it agree with the Monte-Carlo kernel to its precision (~0.3% per entry)
    y = np.array([1, -1, 1, -1, 1, -1])
    assert task_alignment_truth(mc, y) == pytest.approx(task_alignment_truth(closed, y), abs=0.03)
    assert participation_ratio_truth(mc) == pytest.approx(participation_ratio_truth(closed), rel=0.05)


def test_closed_form_kernel_can_fail_on_a_wrong_gain(rng):
    z = 0.6 * rng.standard_normal((3, 4))
    log_base, tuning = _neurons(rng, 200_000, 4)
    rates = np.exp(log_base[None, :] + GAIN * z @ tuning.T)
    mc = (rates[:, None, :] * rates[None, :, :]).mean(-1)
    wrong = population_kernel(z, mean_log_rate=MEAN, sd_log_rate=SD, gain=2 * GAIN)
    assert not np.allclose(mc, wrong, rtol=0.05)


def test_distribution_participation_ratio_matches_monte_carlo_over_stimuli(rng):
    # the kernel itself is checked against neurons above; here the Gaussian integrals over the stimulus
    # distribution: independent stimuli z1..z4 from the mixture, unbiased single-sample estimates of
    # tr C = E[k11 - k12] and tr C^2 = E[k12^2 - 2 k12 k13 + k12 k34], each with its Monte-Carlo SE
    d, jitter, gain = 3, 0.6, 0.6
    means = np.zeros((2, d))
    means[:, 0] = [-0.8, 0.8]
    n = 1_000_000
    z1, z2, z3, z4 = (means[rng.integers(0, 2, n)] + jitter * rng.standard_normal((n, d)) for _ in range(4))

    def k(x, w):
        return np.exp(gain**2 * np.sum((x + w) ** 2, axis=1) / (2 * d))  # A = 1 cancels in the ratio

    k12 = k(z1, z2)
    trace_terms = k(z1, z1) - k12
    square_terms = k12**2 - 2 * k12 * k(z1, z3) + k12 * k(z3, z4)
    trace, square = trace_terms.mean(), square_terms.mean()
    trace_se, square_se = trace_terms.std() / np.sqrt(n), square_terms.std() / np.sqrt(n)
    closed = distribution_participation_ratio(means, jitter, gain=gain)
    # delta method: SE of the MC ratio from the two SEs (covariance ignored: conservative by at most 2x)
    mc = trace**2 / square
    mc_se = mc * np.hypot(2 * trace_se / trace, square_se / square)
    assert abs(closed - mc) < 5 * mc_se, (closed, mc, mc_se)
    assert mc_se < 0.05 * mc  # the check has power: a 10% error in the closed form would be caught
    # a wrong class geometry is caught
    assert abs(distribution_participation_ratio(2 * means, jitter, gain=gain) - mc) > 5 * mc_se


def test_distribution_participation_ratio_limits():
    # gain -> 0: the kernel is linear in z, C = jitter^2 I + between-class term -> PR of that covariance
    means = np.zeros((2, 4))
    means[:, 0] = [-1.0, 1.0]
    pr = distribution_participation_ratio(means, 0.5, gain=0.02)  # small, yet no cancellation
    eig = np.array([0.25 + 1.0, 0.25, 0.25, 0.25])  # per-dimension variance of z (mixture of +-1 on axis 1)
    assert pr == pytest.approx(eig.sum() ** 2 / np.sum(eig**2), rel=1e-3)
    # a kernel tail too heavy for the jitter: the integral diverges and the estimand is undefined (NaN)
    assert np.isnan(distribution_participation_ratio(means, 3.0, gain=3.0))


def test_truth_functions_on_known_kernels():
    y = np.array([1, 1, -1, -1])
    task = np.outer(y, y).astype(float)
    assert task_alignment_truth(task + 2.0, y) == pytest.approx(1.0, abs=1e-12)
    assert kernel_similarity_truth(np.eye(4), np.eye(4) * 3) == pytest.approx(1.0, abs=1e-12)
    assert kernel_change_truth(2 * np.eye(3), np.eye(3)) == pytest.approx(1.0, abs=1e-12)
    assert participation_ratio_truth(task) == pytest.approx(1.0, abs=1e-12)  # one centred dimension


def test_counts_are_poisson_around_the_true_rates():
    tree, truth = spiking_sessions(n_sessions=1, n_conditions=4, n_neurons=30, random_state=3)
    fresh = truth.draw("day00", n_trials=400, rng=4)
    counts = fresh.values * truth.duration
    assert np.allclose(counts, np.round(counts))
    expected = truth.rates["day00"].values * truth.duration  # (condition, neuron)
    stim = fresh.stimulus.values
    mean = np.stack([counts[stim == c].mean(0) for c in range(4)])
    var = np.stack([counts[stim == c].var(0, ddof=1) for c in range(4)])
    z = (mean - expected) / np.sqrt(expected / 400)
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and 0.7 < z.var() < 1.3  # 120 standard normal scores
    keep = expected > 1.0  # Fano factor 1; the SE of a variance of 400 Poisson counts is ~ sqrt(2/400)
    fano = var[keep] / expected[keep]
    assert abs(fano.mean() - 1.0) < 5 * np.sqrt(2 / 400) / np.sqrt(keep.sum()) + 0.02


def test_sessions_follow_the_schema_and_ids_are_fresh_unless_tracked():
    tree, truth = spiking_sessions(n_sessions=3, n_conditions=6, n_trials=3, n_neurons=[20, 30, 25],
                                   random_state=0)
    assert list(tree.children) == ["day00", "day01", "day02"]
    ids = []
    for key, child in tree.children.items():
        rec = child.dataset["responses"]
        validate_recording(rec, name=key)
        assert rec.dims == ("trial", "neuron") and rec.sizes["trial"] == 18
        assert set(REQUIRED_ATTRS) <= set(rec.attrs) and rec.attrs["subject_id"] and rec.attrs["units"] == "spikes/s"
        assert set(np.unique(rec.target.values)) == {-1, 1} and set(np.unique(rec.correct.values)) <= {0, 1}
        np.testing.assert_array_equal(rec.neuron.values, truth.rates[key].neuron.values)
        ids.append(set(rec.neuron.values.tolist()))
    assert [len(i) for i in ids] == [20, 30, 25] and not (ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2])

    tracked, ttruth = spiking_sessions(n_sessions=2, n_neurons=15, tracked=True, random_state=0)
    a, b = (tracked[k]["responses"] for k in ("day00", "day01"))
    np.testing.assert_array_equal(a.neuron.values, b.neuron.values)
    assert a.attrs["tracked"] is True and tree["day00"]["responses"].attrs["tracked"] is False
    # same cells: baseline rates (at the same latent jitter) are strongly correlated across sessions
    ra, rb = (np.log(ttruth.rates[k].values).mean(0) for k in ("day00", "day01"))
    assert np.corrcoef(ra, rb)[0, 1] > 0.9
    assert "code_overlap" in ttruth.statistics and "code_overlap" not in truth.statistics


def test_multi_class_labels_and_truth_shapes():
    tree, truth = spiking_sessions(n_sessions=4, n_conditions=9, n_classes=3, random_state=1)
    rec = tree["day00"]["responses"]
    assert sorted(np.unique(rec.target.values).tolist()) == [0, 1, 2]
    stats = truth.statistics
    assert stats["kernel_similarity"].dims == ("session", "session_other")
    np.testing.assert_allclose(np.diag(stats["kernel_similarity"].values), 1.0)
    np.testing.assert_allclose(stats["kernel_similarity"].values, stats["kernel_similarity"].values.T)
    assert stats["kernel_change"].values[0] == 0.0
    assert np.all((stats["task_alignment"] >= -1) & (stats["task_alignment"] <= 1))
    assert np.all(stats["participation_ratio"] >= 1) and np.all(np.isfinite(stats["participation_ratio_distribution"]))
    # separation grows linearly and the ideal observer gets better with it
    np.testing.assert_allclose(stats["separation"].values, np.linspace(0, 1.5, 4))
    assert np.all(np.diff(stats["behavior"].values) > 0) and stats["behavior"].values[0] == pytest.approx(1 / 3)


def test_unequal_trials_per_condition_and_session():
    per_condition = [2, 3, 4, 5]
    tree, _ = spiking_sessions(n_sessions=2, n_conditions=4, n_trials=per_condition, random_state=0)
    counts = np.bincount(tree["day01"]["responses"].stimulus.values)
    assert counts.tolist() == per_condition
    grid = [[2, 2, 2, 2], [5, 4, 3, 2]]
    tree, _ = spiking_sessions(n_sessions=2, n_conditions=4, n_trials=grid, random_state=0)
    assert np.bincount(tree["day01"]["responses"].stimulus.values).tolist() == [5, 4, 3, 2]
    with pytest.raises(DataError, match="one count per condition"):
        spiking_sessions(n_conditions=4, n_trials=[2, 3])
    with pytest.raises(DataError, match=">= 1 trial per condition"):
        spiking_sessions(n_conditions=2, n_trials=[0, 3])


def test_a_seed_reproduces_the_sessions_bit_for_bit():
    # bit-exactness is the property: the same seed must give the same draws on the same machine
    tree_a, truth_a = spiking_sessions(random_state=7)
    tree_b, truth_b = spiking_sessions(random_state=7)
    for key in tree_a.children:
        np.testing.assert_array_equal(tree_a[key]["responses"].values, tree_b[key]["responses"].values)
    tree_c, _ = spiking_sessions(random_state=8)
    assert not np.array_equal(tree_a["day00"]["responses"].values, tree_c["day00"]["responses"].values)
    np.testing.assert_array_equal(truth_a.statistics["task_alignment"].values,
                                  truth_b.statistics["task_alignment"].values)


def test_truth_statistics_are_the_population_kernel_statistics():
    tree, truth = spiking_sessions(n_sessions=3, n_conditions=6, random_state=2)
    z = truth.latents.values
    kernels = [population_kernel(zs) for zs in z]
    stats = truth.statistics
    assert stats["task_alignment"].values[1] == pytest.approx(task_alignment_truth(kernels[1], truth.target))
    assert stats["kernel_similarity"].values[0, 2] == pytest.approx(kernel_similarity_truth(kernels[0], kernels[2]))
    assert stats["kernel_change"].values[2] == pytest.approx(kernel_change_truth(kernels[2], kernels[0]))
    # the finite-population rates of many neurons approach the population kernel
    big, big_truth = spiking_sessions(n_sessions=1, n_conditions=6, n_neurons=200_000, n_trials=1, random_state=2)
    rates = big_truth.rates["day00"].values
    empirical = rates @ rates.T / rates.shape[1]
    closed = population_kernel(big_truth.latents.values[0])
    np.testing.assert_allclose(empirical, closed, rtol=0.05)  # 2e5 log-normal cells: ~1% per entry


def test_bad_settings_are_refused():
    with pytest.raises(DataError, match="n_classes"):
        spiking_sessions(n_conditions=3, n_classes=4)
    with pytest.raises(DataError, match="n_neurons"):
        spiking_sessions(n_neurons=[10, 0, 10])
    _, truth = spiking_sessions(n_sessions=1, random_state=0)
    with pytest.raises(DataError, match="session_id"):
        truth.draw("nope")


def test_code_overlap_truth_is_the_two_time_kernel_of_the_same_cells():
    _, truth = spiking_sessions(n_sessions=2, n_conditions=5, n_neurons=200_000, n_trials=1, tracked=True,
                                random_state=4)
    a, b = (truth.rates[k].values for k in ("day00", "day01"))
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)  # the condition-centred codes (S3-8)
    empirical = np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b))  # tr R_t R_s' / sqrt(...), 2e5 cells
    overlap = truth.statistics["code_overlap"].values
    np.testing.assert_allclose(np.diag(overlap), 1.0)
    assert overlap[0, 1] == pytest.approx(empirical, abs=0.01)  # traces of 2e5 log-normal cells: ~0.3%
    assert overlap[0, 1] < 1.0  # the code moved (separation grew) although the cells are the same


def test_recorded_statistics_are_those_of_the_recorded_rates_and_approach_the_population():
    _, truth = spiking_sessions(n_sessions=2, n_conditions=6, n_neurons=50, tracked=True, random_state=5)
    recorded = truth.recorded_statistics()
    rates = [truth.rates[k].values for k in ("day00", "day01")]
    kernels = [r @ r.T for r in rates]  # the 1/N cancels in every ratio
    assert recorded["task_alignment"].values[1] == pytest.approx(task_alignment_truth(kernels[1], truth.target))
    assert recorded["kernel_similarity"].values[0, 1] == pytest.approx(kernel_similarity_truth(*kernels))
    centred = [r - r.mean(axis=0) for r in rates]  # each cell's mean over conditions out (S3-8)
    assert recorded["code_overlap"].values[0, 1] == pytest.approx(
        np.sum(centred[0] * centred[1]) / np.sqrt(np.sum(centred[0] ** 2) * np.sum(centred[1] ** 2)))
    # 50 log-normal cells are far from the population; 2e5 are close (kernel entries within ~1%)
    _, big = spiking_sessions(n_sessions=2, n_conditions=6, n_neurons=200_000, n_trials=1, random_state=5)
    for name in ("task_alignment", "participation_ratio"):
        np.testing.assert_allclose(big.recorded_statistics()[name].values, big.statistics[name].values,
                                   rtol=0.05, atol=0.02)
