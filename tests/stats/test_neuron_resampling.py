"""normal_score_replicates: one helper for the SD scale (task alignment) and the robust IQR/1.349 scale
(kernel similarity of sessions sharing no neuron id)."""

import numpy as np
import pytest
from scipy.stats import norm, rankdata

from neurolearn.stats.neuron_resampling import normal_score_replicates


def test_robust_scale_of_each_column_is_its_iqr_and_ignores_a_tail():
    rng = np.random.default_rng(3)
    replicates = rng.standard_normal((2001, 3)) * np.array([1.0, 2.0, 0.5])
    replicates[:20, 1] = 1e6 * (1.0 + np.arange(20))  # a ratio's pole: moves the SD, not the IQR
    replicates[::50, 2] = np.nan
    estimates = np.array([0.1, -0.2, 0.3])
    out = normal_score_replicates(estimates, replicates, scale="iqr")
    iqr_unit = norm.ppf(0.75) - norm.ppf(0.25)
    for k in range(3):
        finite = np.isfinite(replicates[:, k])
        assert np.array_equal(np.isfinite(out[:, k]), finite)
        assert np.array_equal(rankdata(out[finite, k]), rankdata(replicates[finite, k]))
        q1, q3 = np.quantile(replicates[finite, k], [0.25, 0.75])
        assert np.std(out[finite, k], ddof=1) == pytest.approx((q3 - q1) / iqr_unit, rel=1e-12)
        assert np.median(out[finite, k]) == pytest.approx(estimates[k], abs=1e-12)
    # the robust spread of the Gaussian columns is their SD (1.0, and 0.5 with NaNs) to sampling error
    assert np.std(out[:, 0], ddof=1) == pytest.approx(1.0, abs=0.06)
    assert np.nanstd(out[:, 2], ddof=1) == pytest.approx(0.5, abs=0.03)
    assert np.std(out[:, 1], ddof=1) == pytest.approx(2.0, abs=0.12)  # the SD scale would read ~1e6


def test_a_column_of_a_matrix_equals_the_vector_call_and_short_columns_are_nan():
    rng = np.random.default_rng(4)
    replicates = rng.lognormal(size=(301, 2))
    replicates[::7, 0] = np.nan
    replicates[1:, 1] = np.nan  # one finite replicate: no spread
    for scale in ("sd", "iqr"):
        matrix = normal_score_replicates(np.array([2.0, 3.0]), replicates, scale=scale)
        vector = normal_score_replicates(2.0, replicates[:, 0], scale=scale)
        np.testing.assert_allclose(matrix[:, 0], vector, rtol=1e-13, atol=1e-12, equal_nan=True)
        assert np.isnan(matrix[:, 1]).all()
        assert np.isnan(normal_score_replicates(3.0, replicates[:, 1], scale=scale)).all()
    with pytest.raises(ValueError, match="scale"):
        normal_score_replicates(0.0, replicates[:, 0], scale="mad")


def test_effective_cells_counts_equal_and_dominant_influences():
    from neurolearn.stats.neuron_resampling import effective_cells

    assert effective_cells(np.full(7, -0.3)) == pytest.approx(7.0)
    assert effective_cells(np.r_[5.0, np.zeros(50)]) == pytest.approx(1.0)
    # two cells carrying all the weight equally, 98 negligible ones: about 2
    assert effective_cells(np.r_[1.0, -1.0, np.full(98, 1e-4)]) == pytest.approx(2.0, rel=1e-3)
    assert np.isnan(effective_cells(np.zeros(4)))


def test_few_cell_widening_is_the_student_factor_about_the_estimate():
    from scipy.stats import t as student

    from neurolearn.stats.neuron_resampling import few_cell_widening

    rng = np.random.default_rng(5)
    replicates = rng.standard_normal((400, 3)) + np.array([1.0, 2.0, 3.0])
    replicates[7, 1] = np.nan
    estimates = np.median(replicates, axis=0)
    estimates[1] = np.nanmedian(replicates[:, 1])
    n_eff = np.array([4.0, 1.2, np.nan])  # 3 df, clipped at 1 df, no widening
    out = few_cell_widening(estimates, replicates, n_eff)
    factors = [student.ppf(0.975, 3) / norm.ppf(0.975), student.ppf(0.975, 1) / norm.ppf(0.975), 1.0]
    for k, factor in enumerate(factors):
        np.testing.assert_allclose(out[:, k] - estimates[k], factor * (replicates[:, k] - estimates[k]),
                                   rtol=1e-12, atol=1e-12)
        assert np.nanmedian(out[:, k]) == pytest.approx(estimates[k], abs=1e-12)
    assert np.isnan(out[7, 1]) and np.array_equal(out[:, 2], replicates[:, 2])
    # the 95 % percentile interval of widened normal replicates is about the t interval
    wide = few_cell_widening(0.0, rng.standard_normal(200_000), 6.0)
    assert np.quantile(wide, 0.975) == pytest.approx(student.ppf(0.975, 5), rel=0.02)


def test_jackknife_spread_of_a_mean_is_its_standard_error_and_df_follow_the_kurtosis():
    from scipy.stats import t as student

    from neurolearn.stats.neuron_resampling import jackknife_spread, t_spread

    rng = np.random.default_rng(5)
    x = rng.standard_normal(400)
    n = x.size
    se, df = jackknife_spread((x.sum() - x) / (n - 1))  # leave-one-out means
    assert se == pytest.approx(x.std(ddof=1) / np.sqrt(n), rel=1e-10)  # the jackknife identity for a mean
    assert 0.8 * n < df < 1.2 * n  # Gaussian terms: Var(s²)/s⁴ = 2/n, so df = n
    # one cell in a thousand carries the statistic: df = 2 n n_eff / (n - n_eff) -> 2 (n_eff -> 1)
    heavy = np.r_[np.zeros(999), 1.0]
    assert jackknife_spread(heavy)[1] == pytest.approx(2.0, abs=0.01)  # 2.006: n_eff 1.002
    # chi-square(1) terms (kurtosis 15): Var(s²)/s⁴ = 14/n, df = n/7
    chi = rng.standard_normal(20000) ** 2
    assert jackknife_spread(chi)[1] == pytest.approx(20000 / 7, rel=0.15)
    assert np.isnan(jackknife_spread([1.0, np.nan, 2.0])[0])  # fewer than 3 finite values
    assert t_spread(2.0, 7.0) == pytest.approx(2.0 * student.ppf(0.975, 7) / norm.ppf(0.975), rel=1e-12)
    assert t_spread(2.0, np.inf) == 2.0 and t_spread(2.0, np.nan) == 2.0


def test_a_given_spread_sets_the_sd_and_keeps_the_order():
    rng = np.random.default_rng(6)
    replicates = rng.standard_cauchy(501)  # a ratio's tails: the replicates give only their order
    replicates[7] = np.nan
    out = normal_score_replicates(0.3, replicates, spread=0.05)
    finite = np.isfinite(replicates)
    assert np.array_equal(np.isfinite(out), finite)
    assert np.array_equal(rankdata(out[finite]), rankdata(replicates[finite]))
    assert np.std(out[finite], ddof=1) == pytest.approx(0.05, rel=1e-12)
    assert np.median(out[finite]) == pytest.approx(0.3, abs=1e-12)
    columns = normal_score_replicates(np.array([0.0, 1.0]), rng.standard_normal((200, 2)),
                                      spread=np.array([1.0, 3.0]))
    assert np.std(columns, axis=0, ddof=1) == pytest.approx([1.0, 3.0], rel=1e-12)
