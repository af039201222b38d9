"""Shared trial noise in the kernel statistics' intervals (neurolearn.stats.trial_noise): the shared-noise
matrices against a loop over trials and neurons and against a known noise covariance, the gradients against
finite differences, the gate, the variance the replicates gain, eager = dask, and the flags."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm
from scipy.stats import t as student

import neurolearn.stats.kernel_summary as kernel_summary
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.kernels import condition_statistics
from neurolearn.stats.summary import summarize
from neurolearn.stats.dimensionality import participation_with_replicates
from neurolearn.stats.kernel_terms import centre_rows, factored_linear_estimate, self_inner_estimate
from neurolearn.stats.trial_noise import (
    alignment_gradient,
    change_gradients,
    combined_df,
    own_fields,
    participation_gradient,
    shared_term,
    shared_trial_noise,
    similarity_gradients,
)


def _session(rng, gain_cv, *, n_conditions=8, n_trials=3, n_neurons=300, name="d0", rates=None):
    rates = rng.lognormal(1.0, 0.7, (n_conditions, n_neurons)) if rates is None else rates
    gain = np.clip(1.0 + gain_cv * rng.standard_normal(n_conditions * n_trials), 0.0, None)
    counts = rng.poisson(gain[:, None] * np.repeat(rates, n_trials, axis=0)).astype(float)
    labels = np.repeat(np.arange(n_conditions), n_trials)
    return xr.DataArray(counts, dims=("trial", "neuron"),
                        coords={"stimulus": ("trial", labels), "target": ("trial", labels % 2 * 2.0 - 1.0),
                                "neuron": [f"{name}/{i}" for i in range(n_neurons)]},
                        attrs={"session_id": name})


def _structured_rates(rng, n_conditions, n_neurons):
    z = rng.standard_normal((n_conditions, 3)) * 0.6
    z[:, 0] += 0.5 * (np.arange(n_conditions) % 2 * 2.0 - 1.0)
    u = 0.5 * rng.standard_normal((n_neurons, 3))
    return np.exp(0.8 + 0.7 * rng.standard_normal(n_neurons)[None, :] + z @ u.T)


def test_the_shared_matrices_equal_a_loop_over_trials_and_neurons(rng):
    rec = _session(rng, 0.3, n_conditions=5, n_trials=4, n_neurons=30)
    stats = condition_statistics(rec, "stimulus")
    noise = shared_trial_noise(rec, stats, "stimulus", always=True)
    x, labels = rec.values, rec.coords["stimulus"].values
    b = rng.standard_normal((5, 8))  # per condition: 5 mean coordinates and the 3 own-term fields
    fields = own_fields(stats)
    for mu in range(5):
        g = b[mu, :5] @ stats.means + b[mu, 5:] @ fields[:, mu]  # the statistic's gradient on condition mu
        e = x[labels == mu] - stats.means[mu]
        n = e.shape[0]
        joint = sum(sum(g[i] * e[k, i] for i in range(30)) ** 2 for k in range(n))
        own = sum(g[i] ** 2 * e[k, i] ** 2 for i in range(30) for k in range(n))
        assert b[mu] @ noise.matrices[mu] @ b[mu] == pytest.approx((joint - own) / (n * (n - 1)), rel=1e-9)
        # the factors are the PSD part of each matrix
        values = np.linalg.eigvalsh(noise.matrices[mu])
        psd = noise.factors[mu] @ noise.factors[mu].T
        assert np.trace(psd) == pytest.approx(np.clip(values, 0, None).sum(), rel=1e-9)


def test_the_shared_variance_is_unbiased_for_a_known_noise_covariance():
    # Gaussian trial noise with covariance s^2 a a^T + diag(d): the shared variance of the linear functional
    # G . e-bar is (1/n) G^T (s^2 a a^T) G per condition (the i != j part; the diagonal s^2 a_i^2 stays in it)
    rng = np.random.default_rng(5)
    n_cond, n_trials, n_neurons = 4, 3, 40
    rates = rng.uniform(2, 6, (n_cond, n_neurons))
    a = rng.uniform(0.5, 1.5, n_neurons)
    s, d = 0.7, rng.uniform(0.5, 2.0, n_neurons)
    b = rng.standard_normal((n_cond, n_cond + 3))
    estimates, truths = [], []
    for _ in range(600):
        shared = s * rng.standard_normal((n_cond * n_trials, 1)) * a
        own = rng.standard_normal((n_cond * n_trials, n_neurons)) * np.sqrt(d)
        labels = np.repeat(np.arange(n_cond), n_trials)
        rec = xr.DataArray(rates[labels] + shared + own, dims=("trial", "neuron"),
                           coords={"stimulus": ("trial", labels)})
        stats = condition_statistics(rec, "stimulus")
        noise = shared_trial_noise(rec, stats, "stimulus", always=True)
        g = b[:, :n_cond] @ stats.means + np.einsum("mf,fmn->mn", b[:, n_cond:], own_fields(stats))
        off_diagonal = s**2 * (np.outer(a, a) - np.diag(a * a))
        truths.append(np.einsum("mi,ij,mj->", g, off_diagonal, g) / n_trials)
        estimates.append(np.einsum("mp,mpq,mq->", b, noise.matrices, b))
    estimates = np.array(estimates)
    se = estimates.std(ddof=1) / np.sqrt(estimates.size)
    assert abs(estimates.mean() - np.mean(truths)) < 3.5 * se
    assert se < 0.1 * np.mean(truths)  # the test can tell a 10 % error


def _kernel_of(means, sem2):
    kernel = means @ means.T - np.diag(sem2.sum(axis=1))
    return kernel / means.shape[1]


def _numerical_gradient(function, stats, step=1e-6):
    """d function(stats) / d means by central differences, the package's estimator run on perturbed means."""
    out = np.zeros_like(stats.means)
    for index in np.ndindex(stats.means.shape):
        up, down = stats.means.copy(), stats.means.copy()
        up[index] += step
        down[index] -= step
        out[index] = (function(replace(stats, means=up)) - function(replace(stats, means=down))) / (2 * step)
    return out


def _gradient(rows, stats):
    p = stats.n_conditions
    return rows[:, :p] @ stats.means + np.einsum("mf,fmn->mn", rows[:, p:], own_fields(stats))


def test_the_gradients_are_the_derivatives_of_the_estimators(rng):
    # the estimators are ratios of U-statistics over distinct neurons: their gradients include the own terms
    # the U-statistics leave out (a gradient in the span of the means alone was off by up to 3x at 100 neurons)
    rec = _session(rng, 0.3, n_conditions=6, n_trials=3, n_neurons=40, rates=_structured_rates(rng, 6, 40))
    stats = condition_statistics(rec, "stimulus", target="target")
    other = condition_statistics(_session(rng, 0.0, n_conditions=6, n_neurons=40, name="d1",
                                          rates=_structured_rates(rng, 6, 40)), "stimulus")
    h = np.eye(6) - 1 / 6
    y = stats.target[:, None]
    task = h @ (y @ y.T) @ h
    norm = self_inner_estimate(stats, True, True)[0]

    def pr(s):
        return participation_with_replicates(s)[0]

    def alignment(s):  # the ratio the jackknife then corrects
        numerator = factored_linear_estimate(s, centre_rows(y, True), centre_rows(y, True))[0]
        return numerator / np.sqrt(self_inner_estimate(s, True, True)[0] * np.sum(task * task))

    c_other = h @ _kernel_of(other.means, other.sem2) @ h
    other_norm = self_inner_estimate(other, True, True)[0]

    def cka(s):
        c = h @ _kernel_of(s.means, s.sem2) @ h
        return np.sum(c * c_other) / np.sqrt(self_inner_estimate(s, True, True)[0] * other_norm)

    # the double-centred change (S3-7): s = (|HK_tH|^2_u + |HK_0H|^2_u - 2 <HK_tH, HK_0H>) / |HK_0H|^2_u
    def change_as_session(s):  # with `stats` as t
        cross = np.sum(h @ _kernel_of(s.means, s.sem2) @ h * c_other)
        return (self_inner_estimate(s, True, True)[0] + other_norm - 2 * cross) / other_norm

    def change_as_reference(s):
        own = self_inner_estimate(s, True, True)[0]
        return (other_norm + own - 2 * np.sum(h @ _kernel_of(s.means, s.sem2) @ h * c_other)) / own

    assert pr(stats) < 4  # away from the clip at P - 1
    cases = [
        (pr, participation_gradient(stats, norm)),
        (alignment, alignment_gradient(stats, task, norm)),
        (cka, similarity_gradients(stats, other, norm, other_norm)[0]),
        (change_as_session, change_gradients(stats, other, other_norm, change_as_session(stats))[0]),
        (change_as_reference, change_gradients(other, stats, self_inner_estimate(stats, True, True)[0],
                                               change_as_reference(stats))[1]),
    ]
    for function, rows in cases:
        numerical = _numerical_gradient(function, stats)
        assert np.allclose(_gradient(rows, stats), numerical, rtol=1e-5, atol=1e-7 * np.abs(numerical).max())


def test_the_gate_passes_independent_noise_and_catches_a_shared_gain():
    detected = []
    for seed in range(40):
        rec = _session(np.random.default_rng(seed), 0.0)
        detected.append(shared_trial_noise(rec, condition_statistics(rec, "stimulus"), "stimulus").detected)
    assert sum(detected) <= 1  # the gate's null level is 0.1 %
    for seed in range(10):
        rec = _session(np.random.default_rng(100 + seed), 0.3)
        assert shared_trial_noise(rec, condition_statistics(rec, "stimulus"), "stimulus").detected


def _boot(name, ds, k=0):
    values = ds[f"{name}_boot"].values  # (session[, session_other], bootstrap)
    return values[k] if values.ndim == 2 else values[0, 1]


def test_the_replicates_gain_the_estimated_shared_variance(rng, monkeypatch):
    rates = _structured_rates(rng, 8, 400)
    recs = [_session(rng, 0.3, n_neurons=400, name="d0", rates=rates),
            _session(rng, 0.3, n_neurons=400, name="d1", rates=rates)]
    for rec, name in zip(recs, ("d0", "d1")):
        rec.coords["neuron"] = [f"{name}/{i}" for i in range(400)]
    kwargs = dict(n_boot=3000, random_state=0, readout=False, dynamics=False, behavior=None)
    # the shared-noise gain is the property here: the few-cell widening of disjoint pairs' upper side (A13)
    # pushes these near-1 similarities' replicates into the clip at 1, which would hide part of the gain
    from neurolearn.stats import similarity_ratios

    monkeypatch.setattr(similarity_ratios, "upper_few_cell_widening", lambda estimate, replicates, n: replicates)
    # the first-order term alone: the squared norms' shift and its own error (participation_ratio's and
    # kernel_similarity's) are tests/stats/test_shared_noise_bias.py's
    monkeypatch.setattr(kernel_summary, "shared_bias", lambda *args, **kwargs: 0.0)
    monkeypatch.setattr(kernel_summary, "shared_shift", lambda statistic, sessions, n_boot: (0.0, np.zeros(n_boot)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = summarize(recs, **kwargs)
        monkeypatch.setattr(kernel_summary, "_add_shared_noise", lambda *args, **kw: None)
        for name in ("_similarity_shared_noise", "_change_shared_noise"):
            monkeypatch.setattr(kernel_summary, name, lambda value, replicates, *a, **kw: replicates)
        off = summarize(recs, **kwargs)
    stats = [condition_statistics(rec, "stimulus", target="target") for rec in recs]
    noises = [shared_trial_noise(rec, s, "stimulus", seed_key=name)
              for rec, s, name in zip(recs, stats, ("d0", "d1"))]
    assert all(noise.detected for noise in noises)
    h = np.eye(8) - 1 / 8
    norms = [self_inner_estimate(s, True, True)[0] for s in stats]
    y = stats[0].target[:, None]
    task = h @ (y @ y.T) @ h
    draws = np.zeros((1, 8 * 11))  # shared_term's variance and degrees of freedom do not depend on them
    expected = {
        "participation_ratio": [(noises[0], participation_gradient(stats[0], norms[0]))],
        "task_alignment": [(noises[0], alignment_gradient(stats[0], task, norms[0]))],
        "kernel_similarity": list(zip(noises, similarity_gradients(*stats, *norms))),
    }

    def t_factor(boot, parts):  # t_0.975(nu) / z_0.975, nu the Satterthwaite df of boot + the shared parts
        added = sum(v for v, _ in parts)
        nu = (boot + added) ** 2 / (added**2 / combined_df(parts))
        return added, student.ppf(0.975, nu) / norm.ppf(0.975)

    for name, sessions in expected.items():
        parts = [shared_term(noise, rows, draws)[1:] for noise, rows in sessions]
        boot = np.nanvar(_boot(name, off), ddof=1)
        added, factor = t_factor(boot, parts)
        # Satterthwaite over 8 conditions of 2 degrees of freedom each: at most 16 per session, at least 2
        assert 2.0 - 1e-9 <= combined_df(parts) <= 16.0 * len(parts) + 1e-9
        assert factor > 1.0
        gained = np.nanvar(_boot(name, on), ddof=1) / factor**2 - boot
        # the shared gain dominates these intervals (coverage 0.55-0.80 without it)
        assert added > boot
        if name != "participation_ratio":
            assert gained == pytest.approx(added, rel=0.15)
        else:  # PR's replicates are clipped to [1, P - 1] after the scaling: they gain at most the scaled sum
            widened = np.nanvar(_boot(name, on), ddof=1) - boot
            assert 0.5 * added < widened < 1.15 * (factor**2 * (boot + added) - boot)
        index = (0,) if name != "kernel_similarity" else (0, 1)
        lo, hi = on[f"{name}_ci"].values[index]
        assert lo <= on[name].values[index] <= hi
    # the kernel change gains it on the squared scale sign(c) c^2, from both sessions' trials; of a changed
    # population (the double-centred change of one population between two days is 0, NaN as not resolved)
    # (10 trials: with 3, the gain's condition-mean noise along the baselines leaves the centred change
    # unresolved, SE 3.9)
    recs = [_session(rng, 0.3, n_neurons=400, n_trials=10, name="d0", rates=rates),
            _session(rng, 0.3, n_neurons=400, n_trials=10, name="d1", rates=_structured_rates(rng, 8, 400))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = summarize(recs, **kwargs)
        off = summarize(recs, **kwargs)  # the shared noise is still patched out
        monkeypatch.undo()
        # the shared gain again, isolated from the upper few-cell widening of sessions sharing no cell
        monkeypatch.setattr(similarity_ratios, "upper_few_cell_widening", lambda estimate, replicates, n: replicates)
        on = summarize(recs, **kwargs)
    stats = [condition_statistics(rec, "stimulus", target="target") for rec in recs]
    noises = [shared_trial_noise(rec, s, "stimulus", seed_key=name)
              for rec, s, name in zip(recs, stats, ("d0", "d1"))]
    assert all(noise.detected for noise in noises)
    reference_norm = self_inner_estimate(stats[0], True, True)[0]
    change = float(on["kernel_change"].values[1])
    assert np.isfinite(change), str(on["kernel_change_flag"].values)
    rows_t, rows_0 = change_gradients(stats[1], stats[0], reference_norm, np.sign(change) * change**2)
    parts = [shared_term(noises[1], rows_t, draws)[1:], shared_term(noises[0], rows_0, draws)[1:]]
    before = np.sign(_boot("kernel_change", off, 1)) * _boot("kernel_change", off, 1) ** 2
    added, factor = t_factor(np.nanvar(before, ddof=1), parts)
    unscaled = change + (_boot("kernel_change", on, 1) - change) / factor
    after = np.sign(unscaled) * unscaled**2
    assert added > 0.1 * np.nanvar(before, ddof=1)  # a quarter of the neuron bootstrap's here (10 trials)
    assert np.nanvar(after, ddof=1) - np.nanvar(before, ddof=1) == pytest.approx(added, rel=0.15)


def test_independent_noise_leaves_the_intervals_as_they_were(rng, monkeypatch):
    recs = [_session(rng, 0.0, name="d0", rates=_structured_rates(rng, 8, 300)),
            _session(rng, 0.0, name="d1", rates=_structured_rates(rng, 8, 300))]
    kwargs = dict(n_boot=200, random_state=0, readout=False, dynamics=False, behavior=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = summarize(recs, **kwargs)
        monkeypatch.setattr(kernel_summary, "shared_trial_noise", lambda *args, **kw: None)
        off = summarize(recs, **kwargs)
    for name in ("participation_ratio", "task_alignment", "kernel_similarity"):
        # not detected: bit-identical, the same replicates (the property is that nothing was added)
        assert np.array_equal(on[f"{name}_ci"].values, off[f"{name}_ci"].values, equal_nan=True)


def test_the_matrices_are_built_only_where_the_gate_detects_shared_noise(rng):
    # P (P + 3)^2 N work and P (P + 3)^2 memory: 74 s and 1 GB at 500 conditions x 2000 neurons for sessions
    # that need none of it; the gate reads the P mean directions alone and decides as the full pass does
    independent = _session(rng, 0.0, n_conditions=6, n_trials=4, n_neurons=60)
    gained = _session(rng, 0.3, n_conditions=6, n_trials=4, n_neurons=60)
    for rec, expected in ((independent, False), (gained, True)):
        stats = condition_statistics(rec, "stimulus")
        gate = shared_trial_noise(rec, stats, "stimulus")
        full = shared_trial_noise(rec, stats, "stimulus", always=True)
        assert gate.detected is full.detected is expected
        assert gate.ratio == pytest.approx(full.ratio, rel=1e-12)
        assert (gate.matrices is None) is (not expected) and full.matrices is not None
        if expected:
            np.testing.assert_array_equal(gate.matrices, full.matrices)


def test_dask_backed_sessions_give_the_same_intervals(rng):
    recs = [_session(rng, 0.3, name="d0", rates=_structured_rates(rng, 8, 300)),
            _session(rng, 0.3, name="d1", rates=_structured_rates(rng, 8, 300))]
    stats = condition_statistics(recs[0], "stimulus")
    eager = shared_trial_noise(recs[0], stats, "stimulus")
    lazy = shared_trial_noise(recs[0].chunk({"trial": 5, "neuron": 128}), stats, "stimulus")
    assert np.allclose(lazy.matrices, eager.matrices, rtol=1e-9, atol=1e-9 * np.abs(eager.matrices).max())
    kwargs = dict(n_boot=100, random_state=3, readout=False, dynamics=False, behavior=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = summarize(recs, **kwargs)
        b = summarize([rec.chunk({"trial": 7}) for rec in recs], **kwargs)
    for name in ("participation_ratio", "task_alignment", "kernel_similarity"):
        assert np.allclose(a[f"{name}_ci"].values, b[f"{name}_ci"].values, rtol=1e-8, equal_nan=True)


def test_only_the_uncorrected_statistics_keep_the_shared_noise_flag(rng):
    recs = [_session(rng, 0.3, name="d0"), _session(rng, 0.0, name="d1")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(recs, n_boot=20, random_state=0, readout=False, dynamics=False, behavior=None)
    messages = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)
                and "trial noise shared" in str(w.message)]
    assert len(messages) == 1 and "'d0'" in messages[0]
    assert "task_alignment" not in messages[0].split(" of session")[0]
    assert "task_difficulty" in messages[0].split(" of session")[0]
    for name in ("task_alignment", "participation_ratio"):
        assert "trial noise shared" not in stats[f"{name}_flag"].values[0]
    assert "trial noise shared" not in stats["kernel_similarity_flag"].values[0, 1]
    assert "trial noise shared" in stats["task_difficulty_flag"].values[0]


# ------------------------------------------------------------------------------------------------ the pass

def _reference_noise(x, labels, stats):
    """The ratio and E_μ straight from the residuals e_k = x_k - m_μ of every trial (no blocks, no contrasts)."""
    means, fields = stats.means, own_fields(stats)
    codes = np.searchsorted(stats.conditions, labels)
    e = x - means[codes]
    squares = np.stack([(e[codes == mu] ** 2).sum(axis=0) for mu in range(means.shape[0])])
    ratio = np.sum((e @ means.T) ** 2) / np.sum(squares @ np.sum(means * means, axis=0))
    matrices = []
    for mu in range(means.shape[0]):
        basis = np.concatenate([means, fields[:, mu]])
        q = e[codes == mu] @ basis.T
        n = q.shape[0]
        matrices.append((q.T @ q - (basis * squares[mu]) @ basis.T) / (n * (n - 1.0)))
    return ratio, np.array(matrices)


def _uneven_session(rng, n_neurons=50):
    # interleaved trials, 2 to 5 per condition, integer counts with a shared gain
    labels = rng.permutation(np.repeat(np.arange(6), [2, 3, 5, 4, 2, 3]))
    gain = 1.0 + 0.3 * rng.standard_normal((labels.size, 1))
    rates = rng.lognormal(1.0, 0.7, (6, n_neurons))
    counts = rng.poisson(np.clip(gain, 0, None) * rates[labels])
    return xr.DataArray(counts, dims=("trial", "neuron"), coords={"stimulus": ("trial", labels)})


@pytest.mark.parametrize("block_bytes", [None, 1, 3000])
def test_the_blocked_pass_equals_the_residuals_of_every_trial(rng, block_bytes):
    # the pass holds one block of trials (whole conditions, as n - 1 contrasts each): the same sums as
    # projecting every trial's residual, to rounding, whatever the block size
    rec = _uneven_session(rng)
    stats = condition_statistics(rec, "stimulus")
    noise = shared_trial_noise(rec, stats, "stimulus", always=True, block_bytes=block_bytes)
    ratio, matrices = _reference_noise(rec.values.astype(float), rec.coords["stimulus"].values, stats)
    assert noise.ratio == pytest.approx(ratio, rel=1e-12)
    np.testing.assert_allclose(noise.matrices, matrices, rtol=0, atol=1e-12 * np.abs(matrices).max())


def test_the_pass_reads_only_the_conditions_of_the_statistics_and_averages_time_by_block(rng):
    rec = _uneven_session(rng)
    time = xr.concat([rec * 0.5, rec * 1.5], dim="time").transpose("trial", "neuron", "time")
    stats = condition_statistics(rec.isel(trial=np.flatnonzero(rec.coords["stimulus"].values != 2)), "stimulus")
    kept = rec.coords["stimulus"].values != 2
    ratio, matrices = _reference_noise(rec.values[kept].astype(float), rec.coords["stimulus"].values[kept], stats)
    for session in (rec, time, time.chunk({"trial": 4})):
        noise = shared_trial_noise(session, stats, "stimulus", always=True, block_bytes=2000)
        assert noise.ratio == pytest.approx(ratio, rel=1e-12)
        np.testing.assert_allclose(noise.matrices, matrices, rtol=0, atol=1e-12 * np.abs(matrices).max())


@pytest.mark.parametrize("gain_cv, n_trials", [(0.0, 10), (0.3, 24)])
def test_the_pass_never_copies_the_whole_session(rng, gain_cv, n_trials):
    # two float64 copies of the session before (1.3 GB at 2,000 conditions x 4 trials x 10,000 neurons): now
    # one block of trials, so the peak allocation stays far below the session's size, for the gate alone
    # and with the matrices (beside the P x N outputs: the squared residuals and the own fields, 3 P x N)
    import tracemalloc

    rec = _session(rng, gain_cv, n_conditions=10, n_trials=n_trials, n_neurons=2000)
    stats = condition_statistics(rec, "stimulus")
    session_bytes = rec.values.nbytes
    tracemalloc.start()
    try:
        noise = shared_trial_noise(rec, stats, "stimulus", block_bytes=session_bytes // 40)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert noise.detected is (gain_cv > 0)
    assert peak < 0.5 * session_bytes + 4 * stats.means.nbytes, (peak, session_bytes)


def test_a_session_the_population_ratio_flags_is_read_once(rng, monkeypatch):
    # the population-sum ratio decides before the pass: its sessions need the matrices, so the gate's own
    # pass would be a second read of every trial for nothing; the matrices and ratio are those of two passes
    import neurolearn.stats.trial_noise as trial_noise

    rec = _session(rng, 0.3, n_conditions=6, n_trials=4, n_neurons=60)
    stats = condition_statistics(rec, "stimulus")
    assert stats.shared_noise_ratio > trial_noise.detection_threshold(6 * 3)
    passes = []
    original = trial_noise._trial_pass
    def counted(*args, **kwargs):  # records whether each pass builds the matrices (fields given)
        passes.append(args[3] is not None)
        return original(*args, **kwargs)

    monkeypatch.setattr(trial_noise, "_trial_pass", counted)
    once = shared_trial_noise(rec, stats, "stimulus")
    assert passes == [True]
    twice = shared_trial_noise(rec, replace(stats, shared_noise_ratio=float("nan")), "stimulus")
    assert passes == [True, False, True] and twice.detected
    assert once.detected and once.ratio == pytest.approx(twice.ratio, rel=1e-12)
    np.testing.assert_array_equal(once.matrices, twice.matrices)
