"""Weak identification of the dynamics fit (adversary F28) and designs with one trial per condition (F29).

F28: a stable network (outlier eigenvalue 0.87 above a random bulk of radius 0.8) recorded for 31 trials x 11
bins read an explosive |lambda| with an interval above 1 and a timescale interval [inf, inf], unflagged. The
eigenvalue of a kept direction whose own past predicts it weakly is a ratio with a near-zero denominator; the
fit now drops such directions (first-stage F below 10) and refuses a fit whose single direction is weak.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import InsufficientDataError
from neurolearn.stats.dynamics import dynamics_summary, population_timescale
from neurolearn.stats.dynamics_fit import WEAK_FIRST_STAGE, DynamicsFit, first_stage_strength
from neurolearn.stats.flags import StatisticWarning

TRUTH = 0.87
DT = 0.05


def _bulk_network(rng, n=30, lam=TRUTH, bulk=0.8):
    """A random network whose spectral radius is exactly ``lam``: one real outlier (eigenvector v) above a
    random bulk of radius ``bulk`` (the compression of a Gaussian matrix to the complement of v, rescaled)."""
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    project = np.eye(n) - np.outer(v, v)
    compressed = project @ rng.standard_normal((n, n)) @ project
    a = bulk / np.max(np.abs(np.linalg.eigvals(compressed))) * compressed + lam * np.outer(v, v)
    assert np.max(np.abs(np.linalg.eigvals(a))) == pytest.approx(lam, abs=1e-8)
    return a


def _record(rng, a, loading=None, n_trials=31, n_bins=11, n_conditions=4, drive=0.5, rate=2.0):
    """x_{k+1} = A x_k + (held drive of the trial's condition) + white noise, stationary start; Poisson counts
    of a linear rate (offset 3 SDs) of ``loading @ x`` (the latent itself without a loading)."""
    d = a.shape[0]
    condition = np.arange(n_trials) % n_conditions
    held = drive * rng.standard_normal((n_conditions, d))
    x = np.zeros((n_trials, d))
    states = np.empty((n_trials, n_bins, d))
    for k in range(60 + n_bins):  # 60 bins of burn-in
        if k >= 60:
            states[:, k - 60] = x
        x = x @ a.T + held[condition] + rng.standard_normal((n_trials, d))
    signal = states if loading is None else states @ loading.T
    counts = rng.poisson(np.clip(rate * (3.0 + signal / signal.std()), 0.0, None)).astype(float)
    return xr.DataArray(counts.transpose(0, 2, 1), dims=("trial", "neuron", "time"),
                        coords={"time": DT * np.arange(n_bins), "stimulus": ("trial", condition)},
                        attrs={"session_id": "sim"})


def _low_dimensional(rng, **design):
    """A 4-d latent diag(0.87, 0.5, 0.2, -0.1) read out by 40 Poisson neurons."""
    loading = rng.standard_normal((40, 4)) / 2.0
    return _record(rng, np.diag([TRUTH, 0.5, 0.2, -0.1]), loading, rate=1.0, drive=1.0, **design)


def _dense_summary(seed, **design):
    rng = np.random.default_rng(seed)
    rec = _record(rng, _bulk_network(rng), **design)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = dynamics_summary({"s": rec}, n_boot=100, random_state=seed)
    return ds, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


def test_a_stable_network_with_few_data_never_reads_as_significantly_explosive():
    # before, 31 trials x 11 bins: seed 25 read 1.806 [1.762, 3.260], timescale interval [inf, inf], no flag;
    # over 150 such recordings 12 estimates above 1 (max 1.81), one interval wholly above 1. After: 42 of 150
    # refused (weak first stage, or explosive from dynamics not closed in the kept directions), 1 above 1
    # (1.05 [0.35, 1.99]), none wholly above 1
    reported = refused = 0
    for seed in range(40):
        ds, messages = _dense_summary(seed)
        lam = float(ds["outlier_eigenvalue"][0])
        flag = str(ds["outlier_eigenvalue_flag"].values[0])
        if np.isnan(lam):  # refused: the reason is in the flag and in a warning
            assert flag.startswith(("weak first stage", "explosive estimate the data do not support")), flag
            assert np.isnan(float(ds["timescale"][0])) and str(ds["timescale_flag"].values[0]) == flag
            assert sum(flag in message for message in messages) == 3  # one per statistic
            refused += 1
            continue
        lo, hi = ds["outlier_eigenvalue_ci"].values[0]
        t_lo, t_hi = ds["timescale_ci"].values[0]
        tau = float(ds["timescale"][0])
        assert lo <= lam <= hi and t_lo <= tau <= t_hi
        if not flag:
            reported += 1
            # an interval wholly above 1 claims explosive dynamics in data from a stable network
            assert lo < 1.0, (seed, lam, lo, hi)
            assert np.isfinite(t_lo), (seed, t_lo, t_hi)
    assert refused <= 20 and reported >= 15  # measured: 15 refused, 22 reported, 3 flagged weak


def test_a_larger_design_of_the_same_network_reads_no_explosive_estimate():
    # before, 120 trials x 30 bins: 10 of 60 estimates above 1 (max 1.87; seed 17 2.61 [1.56, 4.37] in the
    # fit's 3 directions, Sargan p 1e-21), mean 0.956 sd 0.230; after: 2 of 60 refused, none above 1, mean
    # 0.852 sd 0.055 (truth 0.87)
    estimates = []
    for seed in range(10, 30):
        ds, _ = _dense_summary(seed, n_trials=120, n_bins=30)
        lam = float(ds["outlier_eigenvalue"][0])
        if np.isfinite(lam):
            estimates.append(lam)
    assert len(estimates) >= 16
    assert max(estimates) < 1.0
    assert np.median(estimates) == pytest.approx(TRUTH, abs=0.05)


@pytest.mark.parametrize("design, min_reported", [(dict(), 15), (dict(n_trials=120, n_bins=30), 30)])
def test_interval_covers_the_outlier_of_a_dense_network(design, min_reported):
    # The outlier's direction is the most predictable in 2 of 40 such networks (population canonical
    # correlations: it ranks 1st-6th), so with one or a few directions kept the estimate often misses it and
    # reads low (31 x 11: mean 0.65; the fit's own large-sample value in its kept directions 0.71, and 61 of 92
    # kept directions have |cos| < 0.5 with the outlier's), while resamples that find it read higher
    # (replicates +0.03 above the estimate). The bootstrap SE is not too small (0.28 against a spread of 0.18
    # about that large-sample value; fixed networks: SE 0.23-0.34, SD over recordings 0.12-0.27): the basic
    # interval reflected the replicates' upper tail into a lower one. Coverage before (basic interval) -> now
    # (hull of basic and percentile), seeds 0-149 at 31 x 11 and 0-59 at 120 x 30 (100 replicates): 0.804 ->
    # 0.967 over 92 reported, 0.828 -> 0.948 over 58; these seeds (0-39): 22 of 23 and 35 of 38. At 31 x 11 the
    # intervals are wide (median width 1.3): those data do not locate the outlier, and say so.
    covered = reported = 0
    for seed in range(40):
        ds, _ = _dense_summary(seed, **design)
        if not str(ds["outlier_eigenvalue_flag"].values[0]):
            lo, hi = ds["outlier_eigenvalue_ci"].values[0]
            reported += 1
            covered += lo <= TRUTH <= hi
    assert reported >= min_reported
    assert covered / reported >= 0.88  # binomial SE of 0.95 over 23-38: 0.035-0.045


@pytest.mark.parametrize("design, min_reported", [(dict(n_trials=31, n_bins=11), 12),
                                                  (dict(n_trials=120, n_bins=30), 36)])
def test_interval_covers_the_truth_of_a_low_dimensional_latent(design, min_reported):
    # measured (80 and 40 recordings): coverage 1.00 of 38 reported (42 flagged weak: no direction above
    # chance) and 0.975 of 40, median 0.873 and 0.855 (truth 0.87); the same before the fix
    covered, reported, estimates = 0, 0, []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        rec = _low_dimensional(rng, **design)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticWarning)
            ds = dynamics_summary({"s": rec}, n_boot=100, random_state=seed)
        if str(ds["outlier_eigenvalue_flag"].values[0]):
            continue
        lo, hi = ds["outlier_eigenvalue_ci"].values[0]
        reported += 1
        covered += lo <= TRUTH <= hi
        estimates.append(float(ds["outlier_eigenvalue"][0]))
    assert reported >= min_reported
    assert covered / reported >= 0.85  # binomial SE of 0.95 over 20-40: 0.03-0.05
    assert np.median(estimates) == pytest.approx(TRUTH, abs=0.05)


def test_first_stage_strength_of_one_direction_is_the_regression_F_of_its_own_two_lags():
    rng = np.random.default_rng(5)
    rec = _low_dimensional(rng, n_trials=40, n_bins=12).drop_vars("stimulus")  # one condition
    fit = DynamicsFit(rec, n_components=1)
    assert fit.k == 1
    z = np.einsum("tnb,n->tb", rec.values - rec.values.mean(axis=(0, 2), keepdims=True), fit.basis[:, 0])
    steps = np.arange(2, rec.sizes["time"] - 1)
    present, lag1, lag2 = z[:, steps], z[:, steps - 1], z[:, steps - 2]
    # condition_means="time" with one condition: every column's mean over trials at each transition removed
    centred = [c - c.mean(axis=0, keepdims=True) for c in (present, lag1, lag2)]
    y, instruments = centred[0].ravel(), np.column_stack([c.ravel() for c in centred[1:]])
    coef = np.linalg.lstsq(instruments, y, rcond=None)[0]
    explained = np.sum((instruments @ coef) ** 2)
    residual = np.sum((y - instruments @ coef) ** 2)
    n_effective = y.size - steps.size  # one mean per transition spent
    expected = (explained / 2) / (residual / (n_effective - 3))
    assert first_stage_strength(fit) == pytest.approx(expected, rel=1e-6)


def test_a_weak_single_direction_is_refused_with_its_reason():
    # the memoryless null's top direction can pass the chance edge by luck; its first stage is then weak
    rng = np.random.default_rng(1)
    for seed in range(200):
        rng = np.random.default_rng(seed)
        rec = _record(rng, _bulk_network(rng))
        try:
            fit = DynamicsFit(rec)
        except InsufficientDataError as error:
            assert str(error).startswith("weak first stage")
            break
        assert not fit.resolved or first_stage_strength(fit) >= WEAK_FIRST_STAGE
    else:
        pytest.fail("no weak fit among 200 recordings (measured: 8 of 150)")
    with pytest.raises(InsufficientDataError, match="weak first stage"):
        population_timescale(rec, n_boot=0)


def test_one_trial_per_condition_gives_a_reason_a_summarize_user_can_act_on():
    # before: "... (condition_means='time'), and a single trial has none", naming an option summarize lacks
    rng = np.random.default_rng(2)
    rec = _low_dimensional(rng)
    once = rec.assign_coords(stimulus=("trial", np.arange(rec.sizes["trial"])))  # 31 images, each shown once
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = dynamics_summary({"s": once}, n_boot=20, random_state=0)
    flag = str(ds["outlier_eigenvalue_flag"].values[0])
    assert np.isnan(float(ds["outlier_eigenvalue"][0])) and np.isnan(float(ds["timescale"][0]))
    assert flag.startswith("no condition has 2 or more trials")  # the registry's reason
    assert "condition_means" not in flag and "'stimulus'" in flag and "repeated conditions" in flag
    assert sum(flag in str(w.message) for w in caught) == 3  # one warning per statistic
    # the same trials grouped into 4 repeated conditions are fitted
    regrouped = once.assign_coords(stimulus=("trial", np.arange(rec.sizes["trial"]) % 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        assert np.isfinite(float(dynamics_summary({"s": regrouped}, n_boot=0)["outlier_eigenvalue"][0]))


def test_identical_trials_name_summarize_s_input_option():
    rng = np.random.default_rng(3)
    rec = _low_dimensional(rng, n_trials=12)
    frozen = rec.copy(data=np.repeat(rec.values[:4], 3, axis=0)).assign_coords(
        stimulus=("trial", np.repeat(np.arange(4), 3)))
    with pytest.raises(InsufficientDataError, match=r"no activity within conditions.*input= of summarize"):
        population_timescale(frozen, n_boot=0)
