"""Recovery-study helpers: design Cramer-Rao SEs, the default truth and time span, the tabulated study."""

import numpy as np
import pytest

from neurolearn.errors import FitError
from neurolearn.fitting.recovery import (
    characteristic_time,
    design_standard_errors,
    recovery_study,
    recovery_summary,
    recovery_truth,
)
from neurolearn.theory import Model, Parameter


def test_design_standard_errors_of_a_line_are_the_closed_form(line):
    se = np.linspace(0.02, 0.05, 10)
    out = design_standard_errors(line, {"intercept": 0.2, "slope": 0.1}, 10, {"behavior": se}, 1.0, 0.0,
                                 fixed={"time_scale": 1.0, "onset": 0.0})
    x = np.column_stack([np.ones(10), np.arange(10.0)]) / se[:, None]
    expected = np.sqrt(np.diag(np.linalg.inv(x.T @ x)))
    assert [out["intercept"], out["slope"]] == pytest.approx(expected, rel=1e-6)


def test_design_standard_errors_are_infinite_for_a_confounded_pair(product):
    out = design_standard_errors(product, {"a": 2.0, "b": 0.5}, 10, {"behavior": 0.01}, 1.0, 0.0,
                                 fixed={"time_scale": 1.0, "onset": 0.0})
    assert np.isinf(out["a"]) and np.isinf(out["b"])


def test_default_truth_is_moved_inside_the_box():
    model = Model("m", "", "", "", (Parameter("p", 0.0, (0.0, 1.0), ""), Parameter("q", 1e-3, (1e-3, 1e3), "",
                                                                                     log_scale=True)),
                  ("behavior",), lambda t, p, q: {"behavior": p + q + 0 * t})
    truth = recovery_truth(model)
    assert truth["p"] == pytest.approx(0.1)
    assert truth["q"] == pytest.approx(10 ** (-3 + 0.1 * 6))  # 10% of the box on the log scale


def test_characteristic_time_of_saturating_and_unbounded_curves():
    saturating = Model("s", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),), ("behavior",),
                       lambda t, k: {"behavior": 1.0 - np.exp(-t / k)})
    assert characteristic_time(saturating, {"k": 1.0}) == pytest.approx(np.log(20.0), rel=0.02)
    unbounded = Model("u", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),), ("behavior", "margin"),
                      lambda t, k: {"behavior": 1.0 - np.exp(-t / k), "margin": np.log1p(t)})
    # four times the saturating observable's span, so sessions also cover a long phase of log growth
    assert characteristic_time(unbounded, {"k": 1.0}) == pytest.approx(4 * np.log(20.0), rel=0.02)
    declared = Model("d", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),), ("behavior",),
                     lambda t, k: {"behavior": 0 * t}, time_span=7.0)
    assert characteristic_time(declared) == 7.0


def test_recovery_study_tabulates_fits_against_the_truth(approach):
    table = recovery_study(approach, n_sessions=12, n_replicates=3, random_state=0)
    assert set(table["parameter"]) == {"gain", "alignment_gain", "time_scale", "onset"}
    assert len(table) == 3 * 4
    covered = (table["lower"] <= table["truth"]) & (table["truth"] <= table["upper"])
    assert (covered == table["covered"]).all()
    gain = table[table["parameter"] == "gain"]
    assert np.allclose(gain["relative_error"], np.abs(gain["estimate"] - gain["truth"]) / gain["truth"])
    onset = table[table["parameter"] == "onset"]
    assert np.allclose(onset["relative_error"], np.abs(onset["estimate"] + 0.5) / 12)
    summary = recovery_summary(table)
    assert summary.loc["gain", "coverage"] == gain["covered"].mean()
    with pytest.raises(FitError, match="cannot fix unknown parameters"):
        recovery_study(approach, n_replicates=1, fixed=("gamma0",))


def test_an_interval_censored_at_a_search_bound_is_counted_apart():
    # a parameter the statistics ignore: every interval is the box, which "covers" any truth inside it by
    # construction; the summary says they are censored and has no two-sided coverage for it
    model = Model("dead", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""), Parameter("m", 1.0, (0.1, 10.0), "")),
                  ("behavior",), lambda t, k, m: {"behavior": 0.05 * k * t + 0.2}, time_span=10.0)
    table = recovery_study(model, n_replicates=3, fixed=("time_scale", "onset"))
    summary = recovery_summary(table)
    assert table.loc[table.parameter == "m", ["open_lower", "open_upper"]].all().all()
    assert not table.loc[table.parameter == "k", ["open_lower", "open_upper"]].any().any()
    assert summary.loc["m", "coverage"] == 1.0 and summary.loc["m", "fraction_open"] == 1.0
    assert np.isnan(summary.loc["m", "coverage_closed"])
    assert summary.loc["k", "fraction_open"] == 0.0
    assert summary.loc["k", "coverage_closed"] == summary.loc["k", "coverage"]


@pytest.mark.parametrize("weighted", [True, False])
def test_the_study_passes_the_learner_covariance_choice_to_every_fit(approach, monkeypatch, weighted):
    # a model's learner covariance can be left out of a study of mean curves (the integrator's costs 60
    # simulated networks per evaluation); the choice reaches each replicate's fit
    import neurolearn.fitting.least_squares as least_squares

    seen = []
    real_fit = least_squares.fit

    def spy(*args, **kwargs):
        seen.append(kwargs.get("learner_covariance"))
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(least_squares, "fit", spy)  # recovery_study imports it when it runs
    recovery_study(approach, n_sessions=12, n_replicates=2, random_state=0, learner_covariance=weighted)
    assert seen == [weighted, weighted]
