"""The shared trial noise's shift of the kernel statistics' squared norms (the second-order term of
:mod:`neurolearn.stats.shared_noise`): a shared gain inflates ‖HΦH‖²_u, so participation_ratio and
kernel_similarity read low, and the shift estimated from a session's own trials takes most of it back."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.stats.dimensionality import participation_with_replicates
from neurolearn.stats.kernel_terms import self_inner_estimate
from neurolearn.stats.kernels import condition_statistics
from neurolearn.stats.shared_noise import kernel_draws, participation_statistic, shared_bias, similarity_statistic
from neurolearn.stats.trial_noise import (add_shared_term, participation_gradient, shared_draws, shared_term,
                                          shared_trial_noise, similarity_gradients)

N_CONDITIONS, N_TRIALS, N_NEURONS = 8, 3, 400


def _rates(seed=0):
    """Log-normal baselines times a modest tuning: the baseline's norm far above the tuning's, as in cortex."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(1.5, 1.0, N_NEURONS)
    tuning = np.exp(0.5 * rng.standard_normal((N_CONDITIONS, 3)) @ rng.standard_normal((3, N_NEURONS)) / np.sqrt(3))
    return base * tuning


def _session(rates, rng, gain_cv):
    gain = np.clip(1.0 + gain_cv * rng.standard_normal(N_CONDITIONS * N_TRIALS), 0.0, None)
    counts = rng.poisson(0.5 * gain[:, None] * np.repeat(rates, N_TRIALS, axis=0)) / 0.5
    labels = np.repeat(np.arange(N_CONDITIONS), N_TRIALS)
    return xr.DataArray(counts, dims=("trial", "neuron"), coords={"stimulus": ("trial", labels)})


def _participation(rec, n_boot=200):
    stats = condition_statistics(rec, "stimulus")
    value, _ = participation_with_replicates(stats)
    noise = shared_trial_noise(rec, stats, "stimulus", always=True)
    squared, _ = self_inner_estimate(stats, True, True)
    rows = participation_gradient(stats, squared)
    draws = shared_draws(noise, n_boot)
    bias = shared_bias(participation_statistic(stats, squared), [(noise, rows, draws, None)], n_boot)
    _, variance, _ = shared_term(noise, rows, draws.reshape(n_boot, -1))
    return value, bias, variance, noise, stats


def test_the_shift_takes_back_most_of_the_participation_ratios_bias_under_a_shared_gain():
    rates = _rates()
    rng = np.random.default_rng(1)
    clean = np.mean([_participation(_session(rates, rng, 0.0))[0] for _ in range(20)])
    runs = np.array([_participation(_session(rates, rng, 0.3))[:2] for _ in range(20)])
    raw, corrected = runs[:, 0].mean(), (runs[:, 0] - runs[:, 1]).mean()
    # the gain reads the participation ratio well low of the same neurons' value without it
    assert raw < clean - 0.25
    # the estimated bias is never positive, negative in most sessions (0 where the unbiased shared variance
    # along the gradient is not above 0, as for the first-order term), and takes back at least half of it
    assert np.all(runs[:, 1] <= 0) and np.mean(runs[:, 1] < 0) >= 0.7
    assert abs(corrected - clean) < 0.5 * abs(raw - clean)


def test_without_shared_noise_the_shift_is_nothing():
    rng = np.random.default_rng(2)
    value, bias, variance, noise, _ = _participation(_session(_rates(), rng, 0.0))
    assert not noise.detected
    # the matrices' estimate is noise about 0: the shift and the spread it gives are small beside the value's
    assert abs(bias) < 0.05 * value and np.sqrt(variance) < 0.1 * value


def test_the_draws_are_symmetric_and_their_quadratic_part_has_mean_zero():
    rng = np.random.default_rng(3)
    rec = _session(_rates(), rng, 0.3)
    stats = condition_statistics(rec, "stimulus")
    noise = shared_trial_noise(rec, stats, "stimulus")
    linear, quadratic = kernel_draws(noise, shared_draws(noise, 4000))
    assert np.allclose(linear, np.swapaxes(linear, 1, 2))
    assert np.count_nonzero(quadratic - np.einsum("bpp->bp", quadratic)[:, :, None] * np.eye(N_CONDITIONS)) == 0
    # ‖Δ_μ‖² less its expectation: its mean over the draws is 0 within Monte Carlo error
    diagonal = np.einsum("bpp->bp", quadratic)
    assert np.all(np.abs(diagonal.mean(axis=0)) < 4 * diagonal.std(axis=0) / np.sqrt(diagonal.shape[0]))
    # a subset of conditions selects the rows and columns
    sub, _ = kernel_draws(noise, shared_draws(noise, 5), conditions=noise.conditions[[1, 4, 6]])
    full, _ = kernel_draws(noise, shared_draws(noise, 5))
    assert np.allclose(sub, full[:, [1, 4, 6]][:, :, [1, 4, 6]])


def test_the_similarity_bias_adds_up_over_the_two_sessions():
    rng = np.random.default_rng(4)
    recs = [_session(_rates(seed), rng, 0.3) for seed in (0, 1)]
    stats = [condition_statistics(r, "stimulus") for r in recs]
    noises = [shared_trial_noise(r, s, "stimulus") for r, s in zip(recs, stats)]
    squared = [self_inner_estimate(s, True, True)[0] for s in stats]
    rows = similarity_gradients(stats[0], stats[1], *squared)
    sessions = [(n, r, shared_draws(n, 200), None) for n, r in zip(noises, rows)]
    statistic = similarity_statistic(*stats, *squared)
    both = shared_bias(statistic, sessions, 200)
    first, second = shared_bias(statistic, [sessions[0], None], 200), shared_bias(statistic, [None, sessions[1]], 200)
    # each session's inflated self norm reads the similarity low; the shifts of independent sessions add
    assert first < 0 and second < 0
    assert both == pytest.approx(first + second, rel=1e-3)


def test_a_bias_taken_out_widens_the_shared_term_by_its_own_error():
    rng = np.random.default_rng(6)
    replicates, term = 2.0 + 0.1 * rng.standard_normal(400), 0.3 * rng.standard_normal(400)
    plain = add_shared_term(2.0, replicates, term, 0.09, 8.0)
    widened = add_shared_term(2.0, replicates, term, 0.09, 8.0, bias=-0.6)
    # the shared variance 0.09 + 2 x 0.36 / 8 = 0.18: the term's deviations scaled by sqrt(2), the t factor
    # on the Satterthwaite dof of the larger variance
    assert np.median(widened) == pytest.approx(2.0, abs=1e-9)
    ratio = np.std(widened - 2.0) / np.std(plain - 2.0)
    assert 1.3 < ratio < 1.6
    assert np.allclose(add_shared_term(2.0, replicates, term, 0.09, 8.0, bias=0.0), plain)


@pytest.mark.parametrize("n_boot", [1, 3])
def test_a_few_draws_still_give_finite_terms(n_boot):
    rng = np.random.default_rng(5)
    value, bias, variance, noise, stats = _participation(_session(_rates(), rng, 0.3), n_boot=n_boot)
    assert np.isfinite(bias) and np.isfinite(variance)


def test_summarize_takes_the_shift_out_of_participation_ratio_and_kernel_similarity():
    # the wiring through summarize (kernel_summary applies the shift where the session's trials show shared
    # noise): the same sessions read higher than with the shift switched off (that it takes back the gain's bias
    # over sessions is the first test's), and their intervals are at least as wide (the shift's error is added)
    import warnings

    import neurolearn.stats.kernel_summary as kernel_summary
    from neurolearn.stats.summary import summarize

    rates = _rates()
    rng = np.random.default_rng(4)
    tree = {f"day{d}": _session(rates, rng, 0.3).assign_coords(neuron=np.arange(N_NEURONS)).assign_attrs(tracked=True)
            for d in range(2)}

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return summarize(tree, target=None, n_boot=100, random_state=0, readout=False, dynamics=False)

    shifted = run()
    original = kernel_summary.shared_bias, kernel_summary.shared_shift
    try:
        kernel_summary.shared_bias = lambda *args, **kwargs: 0.0
        kernel_summary.shared_shift = lambda statistic, sessions, n_boot: (0.0, np.zeros(n_boot))
        unshifted = run()
    finally:
        kernel_summary.shared_bias, kernel_summary.shared_shift = original
    pr, pr0 = shifted["participation_ratio"].values, unshifted["participation_ratio"].values
    # (a session whose trials do not show the shared noise, or whose shift estimate is 0, is left as it was)
    assert np.all(pr >= pr0 - 1e-12) and np.any(pr > pr0 + 0.05)
    width = np.diff(shifted["participation_ratio_ci"].values, axis=-1)
    width0 = np.diff(unshifted["participation_ratio_ci"].values, axis=-1)
    assert np.all(width >= width0 * (1 - 1e-9))
    ks = float(shifted["kernel_similarity"].sel(session="day0", session_other="day1"))
    ks0 = float(unshifted["kernel_similarity"].sel(session="day0", session_other="day1"))
    assert ks != pytest.approx(ks0, abs=1e-6)  # the pair's estimate moved by its shift
