"""compare() and cross_validate(): information criteria and held-out-session prediction."""

import numpy as np
import pandas as pd
import pytest

from neurolearn.errors import FitError
from neurolearn.fit import compare, cross_validate, fit, simulate_statistics
from tests.fitting.conftest import CLOCK, statistics


@pytest.fixture
def line_stats():
    rng = np.random.default_rng(21)
    t = np.arange(14.0)
    se = rng.uniform(0.03, 0.06, 14)
    return statistics({"behavior": 0.2 + 0.03 * t + se * rng.standard_normal(14)}, {"behavior": se})


def test_compare_table_follows_the_information_criteria(line, line_stats):
    free = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    flat = fit(line_stats, line, fixed={**CLOCK, "slope": 0.0}, interval=None, random_state=0)
    table = compare([flat, free])
    assert isinstance(table, pd.DataFrame)
    assert table["label"].tolist() == ["line", "line (slope=0)"]  # sorted by AIC, the rising line first
    expected_delta = (flat.chi2 + 2 * 1) - (free.chi2 + 2 * 2)
    assert table["delta_aic"].tolist() == pytest.approx([0.0, expected_delta])
    weights = np.exp(-0.5 * np.array([0.0, expected_delta]))
    assert table["akaike_weight"].tolist() == pytest.approx((weights / weights.sum()).tolist())
    assert table["delta_bic"].iloc[1] == pytest.approx(flat.bic - free.bic)
    assert table["n_params"].tolist() == [2, 1]
    assert table["success"].all()


def test_failed_fits_sort_last_with_no_weight(line, line_stats):
    free = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    failed = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    failed.success, failed.aic, failed.bic, failed.chi2 = False, np.nan, np.nan, np.nan
    table = compare([failed, free])
    assert table["success"].tolist() == [True, False]
    assert table["akaike_weight"].iloc[0] == 1.0 and np.isnan(table["akaike_weight"].iloc[1])


def test_compare_refuses_fits_to_different_statistics(line, approach, line_stats):
    a = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    other = line_stats.copy()
    other["behavior"] = other["behavior"] + 0.01
    b = fit(other, line, fixed=CLOCK, interval=None, random_state=0)
    with pytest.raises(FitError, match="were made to different statistics"):
        compare([a, b])
    with pytest.raises(FitError, match="expected a list of FitResult objects, found FitResult"):
        compare(a)
    with pytest.raises(FitError, match="found dict"):
        compare([a, {"aic": 1.0}])
    with pytest.raises(FitError, match="at least one"):
        compare([])
    with pytest.raises(FitError, match="sort_by"):
        compare([a], sort_by="cv_chi2")


def test_leave_one_session_out_matches_the_closed_form_for_a_line(line, line_stats):
    # for weighted linear regression the held-out residual is r_i / (1 - h_ii), h the weighted hat matrix
    t = line_stats["session_index"].values.astype(float)
    y, se = line_stats["behavior"].values, line_stats["behavior_se"].values
    x = np.column_stack([np.ones_like(t), t]) / se[:, None]
    hat = x @ np.linalg.solve(x.T @ x, x.T)
    beta = np.linalg.lstsq(x, y / se, rcond=None)[0]
    standardised = y / se - x @ beta
    expected = standardised / (1 - np.diag(hat))
    cv = cross_validate(line_stats, line, fixed=CLOCK, random_state=0)
    np.testing.assert_allclose(cv["behavior_error"].values, expected, rtol=1e-5)
    np.testing.assert_allclose(cv["cv_chi2"].values, expected**2, rtol=1e-5)
    assert cv.attrs["cv_chi2"] == pytest.approx(np.sum(expected**2), rel=1e-5)
    assert cv.attrs["n_held_out"] == 14
    assert list(cv["session"].values) == list(line_stats["session"].values)


def test_compare_with_cross_validation_prefers_the_generating_model(approach):
    stats = simulate_statistics(approach, {"gain": 0.3, "alignment_gain": 0.4}, n_sessions=14, se=0.02,
                                time_scale=0.4, onset=0.0, random_state=9)
    right = fit(stats, approach, fixed={"onset": 0.0}, interval=None, random_state=0)
    wrong = fit(stats, approach, fixed={"onset": 0.0, "alignment_gain": 0.1}, interval=None, random_state=0)
    table = compare([wrong, right], cv=True)
    assert table["label"].iloc[0] == "approach"
    assert {"cv_chi2", "delta_cv"} <= set(table.columns)
    assert table["delta_cv"].iloc[1] > 10
