"""compare() and cross_validate(): information criteria and held-out-session prediction."""

import numpy as np
import pandas as pd
import pytest

from neurolearn.errors import FitError
from neurolearn.fitting import FitWarning, compare, cross_validate, fit, simulate_statistics
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


def _misfitting_line_stats():
    # scatter 6x the stated SEs: chi2/dof ~ 36 for every model
    rng = np.random.default_rng(5)
    t = np.arange(15.0)
    return statistics({"behavior": 0.3 + 0.01 * t + 0.06 * rng.standard_normal(15)}, {"behavior": np.full(15, 0.01)})


def test_under_misfit_compare_ranks_by_quasi_aic_with_the_most_complex_models_dispersion(line):
    stats = _misfitting_line_stats()
    free = fit(stats, line, fixed=CLOCK, interval=None, random_state=0)
    flat = fit(stats, line, fixed={**CLOCK, "slope": 0.0}, interval=None, random_state=0)
    c = free.chi2 / (15 - 2)
    assert free.dispersion == pytest.approx(c) and "quasi-AIC" in free.message
    table = compare([free, flat]).set_index("label")
    np.testing.assert_allclose(table["dispersion"], c)
    delta = (flat.chi2 - free.chi2) / c + 2 * (1 - 2)
    assert table.loc["line (slope=0)", "qaic"] - table.loc["line", "qaic"] == pytest.approx(delta)
    assert table.loc["line", "qaic"] == pytest.approx(free.chi2 / c + 4 + free.aic - free.chi2 - 4)
    # dAIC would be c times larger: the comparison is as conservative as the widened intervals
    assert abs(table.loc["line (slope=0)", "delta_aic"]) > 10 * abs(delta)
    best = "line" if delta > 0 else "line (slope=0)"
    assert table["delta_qaic"].min() == 0 and table.loc[best, "delta_qaic"] == 0
    w = np.exp(-0.5 * np.abs(delta))
    assert table.loc[best, "akaike_weight"] == pytest.approx(1 / (1 + w))
    assert table["criterion"].iloc[0].startswith("QAIC (c = chi2/dof = ") and "'line', the most complex" in \
        table["criterion"].iloc[0]
    assert compare([free, flat]).attrs["criterion"] == table["criterion"].iloc[0]
    # the other choices, and plain AIC when asked
    np.testing.assert_allclose(np.sort(compare([free, flat], dispersion=None)["qaic"]), np.sort([free.aic, flat.aic]))
    each = compare([free, flat], dispersion="each").set_index("label")
    assert each.loc["line (slope=0)", "dispersion"] == pytest.approx(flat.chi2 / 14)
    assert (compare([free, flat], dispersion=4.0)["dispersion"] == 4.0).all()
    with pytest.raises(FitError, match="dispersion a number >= 1, found 0.5"):
        compare([free, flat], dispersion=0.5)
    with pytest.raises(FitError, match="dispersion one of"):
        compare([free, flat], dispersion="global")


def test_without_misfit_quasi_aic_is_aic(line, line_stats):
    free = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    flat = fit(line_stats, line, fixed={**CLOCK, "slope": 0.0}, interval=None, random_state=0)
    table = compare([free])
    assert table["dispersion"].iloc[0] == 1.0 and table["criterion"].iloc[0] == "AIC"
    assert table["qaic"].iloc[0] == pytest.approx(free.aic)
    # a simpler model that misfits does not deflate the comparison: c comes from the most complex one
    both = compare([flat, free])
    assert flat.dispersion > 1 and (both["dispersion"] == 1.0).all()


def test_cross_validation_never_ranks_a_model_without_scorable_folds(line):
    # three sessions: leaving one out leaves 2 values for the free line's 2 parameters -> no fold can be refitted
    stats = statistics({"behavior": [0.30, 0.36, 0.39]}, {"behavior": 0.02})
    free = fit(stats, line, fixed=CLOCK, interval=None, random_state=0)
    flat = fit(stats, line, fixed={**CLOCK, "slope": 0.03}, interval=None, random_state=0)
    with pytest.warns(FitWarning, match="no leave-one-session-out fold of 'line' could be scored"):
        table = compare([free, flat], cv=True)
    assert table["label"].tolist() == ["line (slope=0.03)", "line"]
    scored = table.set_index("label")
    assert np.isnan(scored.loc["line", "cv_chi2"]) and scored.loc["line", "n_held_out"] == 0
    assert np.isnan(scored.loc["line", "delta_cv"])
    assert scored.loc["line (slope=0.03)", "n_held_out"] == 3


def test_fits_that_added_a_learner_covariance_compare_with_others_of_the_same_statistics():
    # a model's learner covariance is added to the statistics' own (fitting.learner): two such fits of one
    # Dataset were refused as "made to different statistics" because each problem held its own addition
    from dataclasses import replace

    from neurolearn.fitting import compare, fit
    from tests.fitting.conftest import CLOCK, line_model, statistics

    times = np.arange(10.0)
    learner = replace(line_model(), learner_covariance=lambda t, intercept, slope: 0.01 * np.exp(
        -np.abs(np.subtract.outer(t, t))) * (1.0 + abs(slope)))
    rng = np.random.default_rng(0)
    stats = statistics({"behavior": 0.2 + 0.05 * times + 0.05 * rng.standard_normal(times.size)},
                       {"behavior": 0.05})
    free = fit(stats, learner, fixed=CLOCK, random_state=0)
    flat = fit(stats, learner, fixed={**CLOCK, "slope": 0.0}, random_state=0, label="flat")
    plain = fit(stats, line_model(), fixed=CLOCK, random_state=0, label="no learner covariance")
    table = compare([free, flat, plain])
    assert len(table) == 3


def test_compare_names_weights_as_what_differs_between_two_fits(line, line_stats):
    # adversary A5: a joint-weighted and an independent-weighted fit of the same statistics were refused as fitted
    # to 'different statistics', quoting two identical observable lists and advising the same observables=
    rng = np.random.default_rng(5)
    n = line_stats.sizes["session"]
    replicates = line_stats["behavior"].values[:, None] + line_stats["behavior_se"].values[:, None] * (
        rng.standard_normal((n, 200)) + 0.5 * rng.standard_normal((1, 200)))
    stats = line_stats.assign(behavior_boot=(("session", "bootstrap"), replicates, {"resampling": "neurons-shared"}))
    joint = fit(stats, line, fixed=CLOCK, interval=None, random_state=0)
    independent = fit(stats, line, fixed=CLOCK, interval=None, random_state=0, weights="independent")
    assert joint._problem.covariance is not None and independent._problem.covariance is None
    with pytest.raises(FitError, match=r"weighted differently: .*weights='joint'.*weights='independent'.*refit with "
                                       r"one weights="):
        compare([joint, independent])


def test_compare_names_the_sessions_when_two_fits_are_of_different_recordings(line, line_stats):
    # adversary F20: two statistics files of one shape quoted two identical observable lists and advised
    # 'pass the same observables='; what differs is the sessions
    a = fit(line_stats, line, fixed=CLOCK, interval=None, random_state=0)
    renamed = line_stats.assign_coords(session=[f"m2-{s}" for s in line_stats.session.values])
    b = fit(renamed, line, fixed=CLOCK, interval=None, random_state=0)
    with pytest.raises(FitError, match=r"sessions \[.*\] \.\.\. \(14\) vs \['m2-.*\] \.\.\. \(14\): fit every "
                                       r"model to one statistics file") as caught:
        compare([a, b])
    assert "observables=" not in str(caught.value)
