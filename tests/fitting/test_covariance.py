"""fit() with bootstrap replicates: generalised least squares against closed forms and known correlated noise.

The statistics here are a straight line plus Gaussian errors of a *known* covariance (equicorrelated: every
session shares one error, as a kernel statistic does when the same neurons are recorded every session; AR(1):
neighbouring sessions share more). Replicates ``behavior_boot`` are draws from that covariance, as summarize's
shared-neuron bootstrap gives. GLS has a closed form for a line, ``(X' C^-1 X)^-1``, and intervals that use
it must cover the truth at their level; weighting by the SEs alone must not (checked, so the test can fail).
"""

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_distribution

from neurolearn.errors import FitError
from neurolearn.fitting import compare, fit
from neurolearn.fitting.covariance import (hartlap_factor, interval_inflation, matched_draws, nested_hartlap_factor,
                                           observation_covariance, percival_m1, sandwich_ratios, shrunk_correlation)
from neurolearn.fitting.problem import build_problem
from tests.fitting.conftest import CLOCK, statistics

T = np.arange(12.0)
TRUTH = (0.3, 0.05)
SD = 0.05


def equicorrelated(n, rho, sd=SD):
    return sd**2 * ((1 - rho) * np.eye(n) + rho * np.ones((n, n)))


def ar1(n, phi, sd=SD):
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return sd**2 * phi**lag


def line_with_replicates(cov, rng, n_boot=200, resampling="neurons-shared"):
    """Values with errors of covariance ``cov``, their SEs, and ``n_boot`` replicates drawn from ``cov``."""
    chol = np.linalg.cholesky(cov)
    y = TRUTH[0] + TRUTH[1] * T + chol @ rng.standard_normal(T.size)
    stats = statistics({"behavior": y}, {"behavior": np.sqrt(np.diag(cov))})
    boot = y[:, None] + chol @ rng.standard_normal((T.size, n_boot))
    stats["behavior_boot"] = (("session", "bootstrap"), boot, {"resampling": resampling})
    return stats


def gls(t, y, cov):
    x = np.column_stack([np.ones_like(t), t])
    inverse = np.linalg.inv(cov)
    covariance = np.linalg.inv(x.T @ inverse @ x)
    return covariance @ x.T @ inverse @ y, covariance


def test_shrinkage_recovers_a_strong_correlation_and_removes_a_spurious_one():
    rng = np.random.default_rng(0)
    correlated = rng.standard_normal((300, 1)) + rng.standard_normal((300, 20))  # rho = 0.5
    r, lam = shrunk_correlation(correlated)
    off = ~np.eye(20, dtype=bool)
    assert np.mean(r[off]) == pytest.approx(0.5, abs=0.05) and lam < 0.05
    r, lam = shrunk_correlation(rng.standard_normal((200, 40)))  # no correlation: sample r_ij ~ +-0.07 noise
    assert lam > 0.7 and np.max(np.abs(r[~np.eye(40, dtype=bool)])) < 0.1


def test_line_with_replicates_is_generalised_least_squares_with_the_replicates_covariance(line):
    rng = np.random.default_rng(3)
    stats = line_with_replicates(equicorrelated(12, 0.6), rng)
    problem = build_problem(stats, line, fixed=CLOCK)
    cov = problem.covariance
    y = stats["behavior"].values
    beta, beta_cov = gls(T, y, cov)
    res = fit(stats, line, fixed=CLOCK, random_state=0)
    assert res.success and res.weighting == "joint covariance (bootstrap replicates)"
    np.testing.assert_allclose([res.params["intercept"], res.params["slope"]], beta, rtol=1e-6)
    np.testing.assert_allclose([res.se["intercept"], res.se["slope"]], np.sqrt(np.diag(beta_cov)), rtol=1e-4)
    r = y - beta[0] - beta[1] * T
    chi2 = r @ np.linalg.solve(cov, r)
    assert res.chi2 == pytest.approx(chi2, rel=1e-7)
    _, logdet = np.linalg.slogdet(2 * np.pi * cov)
    assert res.aic == pytest.approx(chi2 + logdet + 4, rel=1e-8)
    # the variances are the statistics' own SEs (times the factor that unbiases the inverse of a covariance
    # estimated from 200 draws); replicates give correlations
    np.testing.assert_allclose(np.diag(cov), stats["behavior_se"].values ** 2 * 199 / 186)  # Hartlap (n=200, p=12)
    # and the estimated correlation is the true one, up to 200-replicate noise
    assert np.mean(cov[~np.eye(12, dtype=bool)]) / SD**2 * 186 / 199 == pytest.approx(0.6, abs=0.1)
    assert "sample correlation, Hartlap factor 1.070" in res.message
    # the residuals shown are still (value - prediction) / se; chi2 is the whitened one
    np.testing.assert_allclose(res.residuals["behavior"].values, r / stats["behavior_se"].values, rtol=1e-5)
    assert "joint covariance across sessions" in res.message


def test_few_replicates_are_shrunk_toward_the_diagonal(line):
    # 20 replicates for 12 values: a sample covariance would be nearly singular; shrinkage keeps it usable
    stats = line_with_replicates(equicorrelated(12, 0.6), np.random.default_rng(12), n_boot=20)
    problem = build_problem(stats, line, fixed=CLOCK)
    np.testing.assert_allclose(np.diag(problem.covariance), stats["behavior_se"].values ** 2)
    assert np.all(np.linalg.eigvalsh(problem.covariance) > 0)
    res = fit(stats, line, fixed=CLOCK, random_state=0)
    assert res.success and "correlations shrunk by lambda = " in res.message


def test_interval_width_matches_the_true_covariance(line):
    # equicorrelated errors: the intercept's GLS SE is sqrt of (X' C^-1 X)^-1 with the true C
    cov = equicorrelated(12, 0.6)
    res = fit(line_with_replicates(cov, np.random.default_rng(4), n_boot=2000), line, fixed=CLOCK, random_state=0)
    _, true_cov = gls(T, np.zeros(12), cov)
    q = np.sqrt(chi2_distribution.ppf(0.95, 1))
    for j, name in enumerate(["intercept", "slope"]):
        lo, hi = res.ci[name]
        # 2000 replicates estimate correlations to ~0.02, so the width to a few per cent
        assert (hi - lo) / 2 == pytest.approx(q * np.sqrt(true_cov[j, j]), rel=0.08)


@pytest.mark.parametrize(("cov", "name"), [(equicorrelated(12, 0.6), "intercept"), (ar1(12, 0.8), "slope")])
def test_gls_intervals_cover_the_truth_and_diagonal_weighting_does_not(line, cov, name):
    # 300 simulated data sets: with the joint covariance 95% intervals cover 95 +- 3.8% (3 binomial SDs);
    # the SEs alone ignore the shared error and under-cover (equicorrelated rho = 0.6: true SE of the
    # intercept ~2x the diagonal one)
    rng = np.random.default_rng(7)
    j = ["intercept", "slope"].index(name)
    covered_gls, covered_diagonal = [], []
    for _ in range(300):
        stats = line_with_replicates(cov, rng)
        # a line has one minimum: one local start suffices
        a = fit(stats, line, fixed=CLOCK, interval=None, n_starts=1, random_state=0)
        b = fit(stats.drop_vars("behavior_boot"), line, fixed=CLOCK, interval=None, n_starts=1, random_state=0)
        for res, out in ((a, covered_gls), (b, covered_diagonal)):
            out.append(abs(res.params[name] - TRUTH[j]) <= 1.96 * res.se[name])
    print(name, np.mean(covered_gls), np.mean(covered_diagonal))
    assert 0.912 <= np.mean(covered_gls) <= 0.988, np.mean(covered_gls)
    assert np.mean(covered_diagonal) < 0.85, np.mean(covered_diagonal)


def test_independent_replicates_correlate_statistics_within_a_session_only():
    rng = np.random.default_rng(5)
    n, n_boot = 6, 400
    common = rng.standard_normal((n, n_boot))  # each session's own shared error, rho = 0.5 between statistics
    a = common + rng.standard_normal((n, n_boot))
    b = common + rng.standard_normal((n, n_boot))
    stats = statistics({"behavior": np.zeros(n), "task_alignment": np.zeros(n)},
                       {"behavior": np.sqrt(2.0), "task_alignment": np.sqrt(2.0)})
    for name, reps in (("behavior", a), ("task_alignment", b)):
        stats[f"{name}_boot"] = (("session", "bootstrap"), reps, {"resampling": "independent"})
    data = np.zeros((2, n))
    cov, notes = observation_covariance(stats, ["behavior", "task_alignment"], data, np.full((2, n), np.sqrt(2.0)),
                                        np.ones((2, n), bool), "m")
    within = np.array([cov[s, n + s] for s in range(n)]) / 2.0
    assert within == pytest.approx(np.full(n, 0.5), abs=0.12)
    across = cov[:n, :n][~np.eye(n, dtype=bool)]
    np.testing.assert_array_equal(across, 0.0)
    assert cov[0, n + 1] == 0.0
    assert any("within each session only" in note for note in notes)


def test_statistics_without_replicates_stay_uncorrelated_and_without_any_nothing_changes(approach):
    rng = np.random.default_rng(6)
    n = 10
    stats = statistics({"behavior": 0.5 + 0.01 * rng.standard_normal(n), "task_alignment": np.linspace(0.2, 0.5, n)},
                       {"behavior": 0.02, "task_alignment": 0.03})
    plain = build_problem(stats, approach)
    assert plain.covariance is None and plain.whitener is None
    stats["task_alignment_boot"] = (("session", "bootstrap"), rng.standard_normal((n, 100)) + rng.standard_normal(100),
                                    {"resampling": "neurons-shared"})
    problem = build_problem(stats, approach)
    cov = problem.covariance
    np.testing.assert_array_equal(cov[:n, n:], 0.0)  # behaviour (row 0) x alignment (row 1)
    np.testing.assert_array_equal(cov[:n, :n], np.diag(np.full(n, 0.02**2)))
    assert np.all(cov[n:, n:][~np.eye(n, dtype=bool)] > 0)
    res = fit(stats.drop_vars("task_alignment_boot"), approach, interval=None, random_state=0)
    assert res.weighting == "standard errors" and res.dispersion == 1.0


def test_nan_values_drop_out_of_the_covariance(line):
    stats = line_with_replicates(equicorrelated(12, 0.5), np.random.default_rng(8))
    stats["behavior"][3] = np.nan
    problem = build_problem(stats, line, fixed=CLOCK)
    assert problem.n_obs == 11 and problem.whitener.shape == (11, 11)
    res = fit(stats, line, fixed=CLOCK, interval=None, random_state=0)
    assert res.success and "1 NaN statistic value(s) left out" in res.message


def test_parametric_bootstrap_draws_correlated_noise(line):
    cov = equicorrelated(12, 0.6)
    stats = line_with_replicates(cov, np.random.default_rng(9), n_boot=2000)
    res = fit(stats, line, fixed=CLOCK, interval="bootstrap", n_boot=300, random_state=1)
    _, true_cov = gls(T, np.zeros(12), cov)
    lo, hi = res.ci["intercept"]
    # percentile interval of 300 replicates: half-width within ~15% of 1.96 x the GLS SE
    assert (hi - lo) / 2 == pytest.approx(1.96 * np.sqrt(true_cov[0, 0]), rel=0.15)


def test_bad_replicates_are_refused(line):
    stats = line_with_replicates(equicorrelated(12, 0.5), np.random.default_rng(10))
    wrong = stats.assign(behavior_boot=stats["behavior_boot"].assign_attrs(resampling="trials"))
    with pytest.raises(FitError, match=r"resampling of 'behavior_boot' one of \['neurons-shared', 'independent'\], "
                                       r"found 'trials'"):
        fit(wrong, line, fixed=CLOCK)
    renamed = stats.assign(behavior_boot=stats["behavior_boot"].rename(bootstrap="replicate"))
    with pytest.raises(FitError, match=r"expected 'behavior_boot' with dims \('session', 'bootstrap'\)"):
        fit(renamed, line, fixed=CLOCK)
    # another bootstrap dim (a separate draw, as the readout statistics have) is accepted
    other = stats.assign(behavior_boot=stats["behavior_boot"].rename(bootstrap="bootstrap_readout"))
    assert "along 'bootstrap_readout'" in fit(other, line, fixed=CLOCK, interval=None).message


def test_compare_refuses_fits_weighted_differently(line):
    stats = line_with_replicates(equicorrelated(12, 0.5), np.random.default_rng(11))
    a = fit(stats, line, fixed=CLOCK, interval=None, random_state=0)
    b = fit(stats.drop_vars("behavior_boot"), line, fixed=CLOCK, interval=None, random_state=0)
    with pytest.raises(FitError, match="different statistics"):
        compare([a, b])


# --- covariances estimated from few neurons: nested Hartlap factor and Percival's m1 -----------------------------

def bootstrap_covariance(rng, n_units, n_boot, p):
    """Data and replicate covariance of a statistic that is the mean of ``n_units`` Gaussian neuron influences
    (unit covariance): the ideal bootstrap covariance is their sample covariance, and ``n_boot`` Gaussian draws
    around it stand in for the replicates (per neuron scale)."""
    influences = rng.standard_normal((n_units, p))
    ideal = np.linalg.cholesky(np.cov(influences, rowvar=False))
    replicates = rng.standard_normal((n_boot, p)) @ ideal.T
    return influences.mean(axis=0) * np.sqrt(n_units), np.cov(replicates, rowvar=False)


def test_nested_hartlap_factor_is_the_mean_inverse_of_a_bootstrap_covariance():
    # E[S^-1] = factor * C^-1 with C = I: the mean of the inverse's diagonal over 3000 simulated recordings
    rng = np.random.default_rng(20)
    p, n_units, n_boot = 10, 40, 40
    mean_inverse = np.mean([np.trace(np.linalg.inv(bootstrap_covariance(rng, n_units, n_boot, p)[1])) / p
                            for _ in range(3000)])
    assert mean_inverse == pytest.approx(nested_hartlap_factor(n_boot, n_units, p), rel=0.03)  # 1.94
    assert mean_inverse > 1.3 * hartlap_factor(n_boot, p)  # the replicates' factor alone (1.39) is not enough
    # the draws a nested covariance is worth: the single sample covariance with the same factor (fewer than either)
    worth = matched_draws(nested_hartlap_factor(n_boot, n_units, p), p)
    assert hartlap_factor(worth, p) == pytest.approx(nested_hartlap_factor(n_boot, n_units, p), rel=1e-12)
    assert p + 2 < worth < min(n_boot, n_units)


def test_nested_factor_and_m1_make_gls_intervals_cover_with_a_covariance_estimated_from_the_same_neurons():
    # GLS of 4 parameters on 21 values whose covariance is estimated from the 100 neurons that gave the data,
    # by 100 replicates (the transfer design): the 95% threshold times nested factor x m1 covers 0.95;
    # the replicates' Hartlap factor alone does not (0.87 expected)
    rng = np.random.default_rng(21)
    p, k, n_units, n_boot = 21, 4, 100, 100
    x = rng.standard_normal((p, k))
    z2 = []
    for _ in range(2500):
        y, s = bootstrap_covariance(rng, n_units, n_boot, p)
        precision = np.linalg.inv(s)
        inverse = np.linalg.inv(x.T @ precision @ x)
        z2.append((inverse @ x.T @ precision @ y) ** 2 / np.diag(inverse))  # truth 0; raw precision
    z2 = np.ravel(z2)
    q = chi2_distribution.ppf(0.95, 1)
    factor = nested_hartlap_factor(n_boot, n_units, p)
    corrected = np.mean(z2 <= q * factor * interval_inflation([(matched_draws(factor, p), p)], k))
    replicates_only = np.mean(z2 <= q * hartlap_factor(n_boot, p))
    # 10 000 correlated indicators: binomial SD ~0.003 (x ~1.5 for the correlation between parameters)
    assert corrected == pytest.approx(0.95, abs=0.015), corrected
    assert replicates_only < 0.9, replicates_only


def test_percival_m1_limits():
    assert percival_m1(float("inf"), 21, 4) == 1.0
    assert percival_m1(1e6, 21, 4) == pytest.approx(1.0, abs=1e-4)
    assert percival_m1(25, 21, 4) == float("inf")  # n <= p + 4: no finite variance
    # more values per parameter, more noise from the estimated weights: m1 grows with p at fixed n
    assert percival_m1(60, 10, 4) < percival_m1(60, 20, 4) < percival_m1(60, 40, 4)


def with_units(stats, **attrs):
    return stats.assign(behavior_boot=stats["behavior_boot"].assign_attrs(**attrs))


@pytest.mark.parametrize(("shared", "p_units"), [(True, 12), (False, 1)])
def test_declared_neurons_scale_the_block_by_the_nested_factor(line, shared, p_units):
    # same neurons every session: all 12 values come from 60 neurons; fresh neurons: one value per session does
    stats = line_with_replicates(equicorrelated(12, 0.6), np.random.default_rng(22))
    data, se = stats["behavior"].values[None], stats["behavior_se"].values[None]
    mask = np.ones_like(data, dtype=bool)
    plain, _ = observation_covariance(stats, ["behavior"], data, se, mask, "line")
    draws = []
    declared, notes = observation_covariance(with_units(stats, n_units=60, units_shared=shared), ["behavior"], data,
                                             se, mask, "line", draws=draws)
    factor = hartlap_factor(200, 12) * hartlap_factor(60, p_units)
    np.testing.assert_allclose(declared, plain * factor / hartlap_factor(200, 12), rtol=1e-12)
    assert draws == [(pytest.approx(matched_draws(factor, 12)), 12)]
    assert f"replicates of 60 neurons ({p_units} values from the same neurons" in notes[0]
    # and the fit's intervals (a line: exact quadratic profile) widen by the square root of the ratio
    a = fit(stats, line, fixed=CLOCK, random_state=0)
    b = fit(with_units(stats, n_units=60, units_shared=shared), line, fixed=CLOCK, random_state=0)
    # (the nested factor on the covariance, and Percival's m1 for a covariance worth that many draws)
    ratio = np.sqrt(factor / hartlap_factor(200, 12) * percival_m1(matched_draws(factor, 12), 12, 2))
    assert "widened by sqrt(m1)" in b.message and "widened by sqrt(m1)" not in a.message
    for name in ("intercept", "slope"):
        assert np.diff(b.ci[name])[0] == pytest.approx(ratio * np.diff(a.ci[name])[0], rel=1e-4)
        assert b.params[name] == pytest.approx(a.params[name], rel=1e-6)  # a uniform scale: same estimate


def test_declared_neurons_are_checked(line):
    stats = line_with_replicates(equicorrelated(12, 0.6), np.random.default_rng(23))
    for bad in ("many", 1, float("nan")):
        with pytest.raises(FitError, match="expected attr 'n_units' of 'behavior_boot' a number of neurons >= 2"):
            fit(with_units(stats, n_units=bad), line, fixed=CLOCK)
    # too few neurons for the values they give: the sample covariance is not inverted, but shrunk
    res = fit(with_units(stats, n_units=15), line, fixed=CLOCK, interval=None, random_state=0)
    assert "correlations shrunk" in res.message and "only 15 neurons for 12 values" in res.message


# --- working independence with sandwich intervals (weights="independent") ----------------------------------------

def test_sandwich_ratio_is_the_variance_of_a_weighted_mean_under_correlated_errors():
    # closed form: n values of one mean, equicorrelated rho: Var(mean) = (1 + (n - 1) rho) / n, working 1 / n
    for n, rho in ((4, 0.5), (12, 0.9), (7, 0.0)):
        ratios, (expected, a, b) = sandwich_ratios(np.ones((n, 1)), (1 - rho) * np.eye(n) + rho * np.ones((n, n)),
                                                   residuals=np.zeros(n))
        assert ratios[0] == pytest.approx(1 + (n - 1) * rho, rel=1e-10)
        # residuals about the mean: equicorrelation only moves the mean, so sum r^2 ~ (1 - rho) chi2(n - 1)
        assert (expected, a, b) == pytest.approx(((1 - rho) * (n - 1), 1 - rho, n - 1), rel=1e-10)


def test_independent_weights_are_weighted_least_squares_with_sandwich_intervals(line):
    stats = line_with_replicates(equicorrelated(12, 0.6), np.random.default_rng(5))
    res = fit(stats, line, fixed=CLOCK, random_state=0, weights="independent")
    y, se = stats["behavior"].values, stats["behavior_se"].values
    x = np.column_stack([np.ones_like(T), T]) / se[:, None]
    working = np.linalg.inv(x.T @ x)
    beta = working @ x.T @ (y / se)
    # the sandwich with the replicates' sample covariance (no Hartlap factor: it enters linearly)
    boot = stats["behavior_boot"].values
    s = np.corrcoef(boot) * np.outer(se, se)
    sandwich = working @ x.T @ (s / np.outer(se, se)) @ x @ working
    assert res.success and res.weighting.startswith("standard errors, sandwich")
    np.testing.assert_allclose([res.params["intercept"], res.params["slope"]], beta, rtol=1e-6)
    np.testing.assert_allclose([res.se["intercept"], res.se["slope"]], np.sqrt(np.diag(sandwich)), rtol=1e-4)
    r = y / se - x @ beta
    assert res.chi2 == pytest.approx(r @ r, rel=1e-7)
    # a linear model: the profile interval is estimate +- sqrt(q) x the sandwich SE
    q = np.sqrt(chi2_distribution.ppf(0.95, 1))
    for j, name in enumerate(["intercept", "slope"]):
        lo, hi = res.ci[name]
        assert (hi - lo) / 2 == pytest.approx(q * np.sqrt(sandwich[j, j]), rel=0.02)
        assert (lo + hi) / 2 == pytest.approx(beta[j], abs=0.02 * (hi - lo))
    # the same values fitted jointly (GLS) are weighted otherwise: different chi2, same data
    assert fit(stats, line, fixed=CLOCK, random_state=0).chi2 != pytest.approx(res.chi2, rel=1e-3)
    with pytest.raises(FitError, match="weights"):
        fit(stats, line, fixed=CLOCK, weights="diagonal")
    # chi-squares under different weights do not compare
    with pytest.raises(FitError, match="different statistics"):
        compare([res, fit(stats, line, fixed=CLOCK, random_state=0, interval=None)])
    # the parametric bootstrap draws errors from the joint covariance, not from the SEs alone
    problem = build_problem(stats, line, fixed=CLOCK, weights="independent")
    rng = np.random.default_rng(6)
    draws = np.array([problem.noise(rng)[0] for _ in range(4000)])
    # sample correlation of 4000 draws: SD ~ (1 - 0.6^2) / sqrt(4000) = 0.01
    np.testing.assert_allclose(np.corrcoef(draws, rowvar=False), s / np.outer(se, se), atol=0.05)


def test_sandwich_intervals_cover_with_a_covariance_estimated_from_the_same_neurons():
    # the transfer design of the GLS test above (4 parameters, 21 values, covariance from the 100 neurons that gave
    # the data and 100 replicates): GLS with the raw precision covers ~0.82; working independence with the sandwich
    # covers 0.95 +- 0.03 without any factor for the neurons (measured 0.936: the sandwich variance is itself worth
    # ~50 draws, so its z is t-like), and the Satterthwaite reference of chi2 gives uniform p-values
    rng = np.random.default_rng(22)
    p, k, n_units, n_boot = 21, 4, 100, 100
    x = rng.standard_normal((p, k))
    q = chi2_distribution.ppf(0.95, 1)
    covered, covered_gls, pvalues = [], [], []
    for _ in range(2000):
        y, s = bootstrap_covariance(rng, n_units, n_boot, p)
        se = np.sqrt(np.diag(s))
        j = x / se[:, None]
        working = np.linalg.inv(j.T @ j)
        estimate = working @ j.T @ (y / se)
        residuals = y / se - j @ estimate
        ratios, (_, a, b) = sandwich_ratios(j, s / np.outer(se, se), residuals=residuals)
        covered.append(estimate**2 / np.diag(working) <= q * ratios)
        precision = np.linalg.inv(s)
        inverse = np.linalg.inv(x.T @ precision @ x)
        covered_gls.append((inverse @ x.T @ precision @ y) ** 2 / np.diag(inverse) <= q)
        pvalues.append(chi2_distribution.sf(residuals @ residuals / a, b))
    assert 0.92 <= np.mean(covered) <= 0.98, np.mean(covered)
    assert np.mean(covered_gls) < 0.86, np.mean(covered_gls)
    # 2000 p-values: P(p < 0.05) within 0.05 +- 0.025 (5 binomial SDs; measured 0.041), mean 0.5 (measured 0.47, 4.7
    # SDs low: the reference's own S is estimated; the GLS chi2 with this S rejects 0.35 at p < 0.05, 0.15 with the
    # replicates' Hartlap factor)
    assert 0.025 <= np.mean(np.array(pvalues) < 0.05) <= 0.075
    assert 0.44 <= np.mean(pvalues) <= 0.53


# --- a model's shrunk working weights (Model.covariance_shrinkage) ------------------------------------------------

def test_shrunk_working_weights_are_gls_with_shrunk_correlations_and_sandwich_intervals(line):
    import dataclasses

    stats = line_with_replicates(ar1(12, 0.9), np.random.default_rng(31))
    lam = 0.3
    shrunk = dataclasses.replace(line, covariance_shrinkage=lam)
    res = fit(stats, shrunk, fixed=CLOCK, random_state=0)
    y, se = stats["behavior"].values, stats["behavior_se"].values
    r = np.corrcoef(stats["behavior_boot"].values)  # the replicates' sample correlation, not Hartlap-scaled
    s = r * np.outer(se, se)
    w = np.linalg.inv(((1 - lam) * r + lam * np.eye(12)) * np.outer(se, se))
    x = np.column_stack([np.ones_like(T), T])
    working = np.linalg.inv(x.T @ w @ x)
    beta = working @ x.T @ w @ y
    sandwich = working @ x.T @ w @ s @ w @ x @ working
    assert res.success
    np.testing.assert_allclose([res.params["intercept"], res.params["slope"]], beta, rtol=1e-6)
    np.testing.assert_allclose([res.se["intercept"], res.se["slope"]], np.sqrt(np.diag(sandwich)), rtol=1e-4)
    residual = y - x @ beta
    assert res.chi2 == pytest.approx(residual @ w @ residual, rel=1e-7)
    q = np.sqrt(chi2_distribution.ppf(0.95, 1))
    for j, name in enumerate(["intercept", "slope"]):  # a line: the profile interval is estimate +- q sandwich SE
        lo, hi = res.ci[name]
        assert (hi - lo) / 2 == pytest.approx(q * np.sqrt(sandwich[j, j]), rel=0.02)
    assert "correlations shrunk by lambda = 0.3" in res.message and "sandwich" in res.message
    # the working weights are not the estimated covariance: the sandwich says so (not GLS's own variance)
    assert not np.allclose(np.diag(sandwich), np.diag(working), rtol=0.01)
    # the problem keeps both: the working covariance weights, the unshrunk one is the sandwich's and the noise's
    problem = build_problem(stats, shrunk, fixed=CLOCK)
    np.testing.assert_allclose(problem.covariance, np.linalg.inv(w), rtol=1e-10)
    np.testing.assert_allclose(problem.sandwich_covariance, s, rtol=1e-10)
    draws = np.array([problem.noise(np.random.default_rng(7 + i))[0] for i in range(3000)])
    np.testing.assert_allclose(np.corrcoef(draws, rowvar=False), r, atol=0.06)  # SD of r over 3000 draws <~0.02
    # lambda = 1 is weights="independent"; lambda = 0 (every model's default) is GLS as before, no sandwich
    ones = fit(stats, dataclasses.replace(line, covariance_shrinkage=1.0), fixed=CLOCK, random_state=0)
    independent = fit(stats, line, fixed=CLOCK, random_state=0, weights="independent")
    assert ones.chi2 == pytest.approx(independent.chi2, rel=1e-10)
    assert ones.ci["slope"] == pytest.approx(independent.ci["slope"], rel=1e-6)
    assert build_problem(stats, line, fixed=CLOCK).sandwich_covariance is None


def test_covariance_shrinkage_must_be_in_the_unit_interval(line):
    import dataclasses

    for bad in (-0.1, 1.5, float("nan"), "0.2", True):
        with pytest.raises(FitError, match=r"expected covariance_shrinkage a number in \[0, 1\]"):
            dataclasses.replace(line, covariance_shrinkage=bad)


def test_shrunk_weights_with_the_sandwich_cover_where_gls_with_a_covariance_from_the_same_neurons_does_not():
    # 3 statistics x 8 sessions whose errors correlate 0.6 across statistics and 0.98-0.86 across sessions
    # (smallest eigenvalues of the correlation 0.004, as a kernel statistic of the same neurons every session), the
    # covariance estimated from the 100 neurons that gave the data and 100 replicates: GLS with it covers 0.795 and
    # lambda = 0.2 with the sandwich 0.935 (these 600 recordings); over 1500, 0.79 and 0.924 with a spread 1.15x
    # that of GLS with the true covariance, and lambda = 1 (SE weights) 0.943 with 1.4-1.5x
    rng = np.random.default_rng(1)
    sessions, statistics_, k = 8, 3, 4
    lag = np.abs(np.subtract.outer(np.arange(sessions), np.arange(sessions)))
    true = np.kron(0.6 + 0.4 * np.eye(statistics_), 0.98 ** lag)
    chol, p = np.linalg.cholesky(true), sessions * statistics_
    t = np.linspace(0, 1, sessions)
    x = np.column_stack([np.concatenate([f(t + 0.3 * i) for i in range(statistics_)])
                         for f in (np.sin, np.cos, np.square, lambda u: np.exp(-u))])
    q = chi2_distribution.ppf(0.95, 1)
    covered = {0.0: [], 0.2: []}
    for _ in range(600):
        influences = rng.standard_normal((100, p)) @ chol.T
        ideal = np.linalg.cholesky(np.cov(influences, rowvar=False))
        y = influences.mean(axis=0) * 10.0
        s = np.cov(rng.standard_normal((100, p)) @ ideal.T, rowvar=False)
        sd = np.sqrt(np.diag(s))
        r = s / np.outer(sd, sd)
        for lam, out in covered.items():
            lw = np.linalg.cholesky(((1 - lam) * r + lam * np.eye(p)) * np.outer(sd, sd))
            j = np.linalg.solve(lw, x)
            working = np.linalg.inv(j.T @ j)
            estimate = working @ j.T @ np.linalg.solve(lw, y)
            ratios = sandwich_ratios(j, np.linalg.solve(lw, np.linalg.solve(lw, s).T))[0] if lam else np.ones(k)
            out.append(estimate**2 / np.diag(working) <= q * ratios)
    # 2400 correlated indicators each: binomial SD ~0.006 (x ~1.5 for the correlation between parameters)
    print({lam: float(np.mean(out)) for lam, out in covered.items()})
    assert np.mean(covered[0.0]) < 0.85, np.mean(covered[0.0])
    assert 0.90 <= np.mean(covered[0.2]) <= 0.96, np.mean(covered[0.2])
