"""fit(): estimates, intervals, criteria and flags against closed forms; refusals and failures."""

import json
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_distribution

import neurolearn as nl
from neurolearn.errors import FitError
from neurolearn.fitting import FitResult, FitWarning, fit, simulate_statistics
from neurolearn.theory import Model, Parameter
from tests.fitting.conftest import CLOCK, statistics


def _weighted_least_squares(t, y, se):
    """Closed-form WLS of a straight line: estimates and covariance (XᵀWX)⁻¹."""
    x = np.column_stack([np.ones_like(t), t])
    w = 1.0 / se**2
    info = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(info)
    beta = cov @ x.T @ (w * y)
    return beta, cov


@pytest.fixture
def line_data():
    rng = np.random.default_rng(11)
    t = np.arange(12.0)
    se = rng.uniform(0.02, 0.06, 12)
    y = 0.3 + 0.05 * t + se * rng.standard_normal(12)
    return t, y, se


def test_line_matches_closed_form_weighted_least_squares(line, line_data):
    t, y, se = line_data
    beta, cov = _weighted_least_squares(t, y, se)
    res = fit(statistics({"behavior": y}, {"behavior": se}), line, fixed=CLOCK, random_state=0)
    assert res.success
    np.testing.assert_allclose([res.params["intercept"], res.params["slope"]], beta, rtol=1e-6)
    np.testing.assert_allclose([res.se["intercept"], res.se["slope"]], np.sqrt(np.diag(cov)), rtol=1e-4)
    chi2 = np.sum(((y - beta[0] - beta[1] * t) / se) ** 2)
    assert res.chi2 == pytest.approx(chi2, rel=1e-8)
    # a model linear in its parameters has profile intervals equal to estimate +- sqrt(q) SE exactly
    half = np.sqrt(chi2_distribution.ppf(0.95, 1)) * np.sqrt(np.diag(cov))
    np.testing.assert_allclose(res.ci["intercept"], (beta[0] - half[0], beta[0] + half[0]), rtol=1e-3)
    np.testing.assert_allclose(res.ci["slope"], (beta[1] - half[1], beta[1] + half[1]), rtol=1e-3)
    assert res.identifiable == {"intercept": True, "slope": True}
    # information criteria from the Gaussian likelihood with known SE
    minus_two_log_l = chi2 + np.sum(np.log(2 * np.pi * se**2))
    assert res.log_likelihood == pytest.approx(-0.5 * minus_two_log_l)
    assert res.aic == pytest.approx(minus_two_log_l + 2 * 2)
    assert res.bic == pytest.approx(minus_two_log_l + 2 * np.log(12))
    assert (res.n_obs, res.n_params) == (12, 2)
    assert res.chi2_pvalue == pytest.approx(chi2_distribution.sf(chi2, 10))


def test_bootstrap_interval_of_a_line_matches_the_closed_form(line, line_data):
    t, y, se = line_data
    beta, cov = _weighted_least_squares(t, y, se)
    res = fit(statistics({"behavior": y}, {"behavior": se}), line, fixed=CLOCK, interval="bootstrap", n_boot=400,
              random_state=1)
    half = 1.96 * np.sqrt(np.diag(cov))
    for j, name in enumerate(["intercept", "slope"]):
        lo, hi = res.ci[name]
        # percentile interval of 400 Gaussian replicates: ends within ~15% of the half-width
        assert lo == pytest.approx(beta[j] - half[j], abs=0.15 * half[j])
        assert hi == pytest.approx(beta[j] + half[j], abs=0.15 * half[j])


def test_noise_free_data_give_back_the_parameters_and_time_mapping(approach):
    truth = {"gain": 0.35, "alignment_gain": 0.3}
    stats = simulate_statistics(approach, truth, n_sessions=15, se=0.02, time_scale=0.4, onset=1.5)
    exact = approach.predict(0.4 * np.maximum(np.arange(15) - 1.5, 0.0), **truth)
    for name in approach.observables:
        stats[name] = ("session", exact[name].values)
    res = fit(stats, approach, random_state=0)
    assert res.success and res.chi2 < 1e-8
    for name, value in {**truth, "time_scale": 0.4, "onset": 1.5}.items():
        assert res.params[name] == pytest.approx(value, rel=1e-4)
        assert res.identifiable[name]
    # the prediction is the model at the fitted parameters, on the statistics' sessions
    assert list(res.predicted["session"].values) == list(stats["session"].values)
    np.testing.assert_allclose(res.predicted["training_time"], 0.4 * np.maximum(np.arange(15) - 1.5, 0.0), atol=1e-4)
    np.testing.assert_allclose(res.predicted["behavior"], exact["behavior"], atol=1e-6)
    np.testing.assert_allclose(res.residuals["task_alignment"], 0.0, atol=1e-5)


def test_fixed_parameters_are_held_and_labelled(approach):
    stats = simulate_statistics(approach, {"gain": 0.3}, n_sessions=15, se=0.02, time_scale=0.5, random_state=2)
    res = fit(stats, approach, fixed={"alignment_gain": 0.4, "onset": 0.0}, interval=None, random_state=0,
              observables=["behavior"])
    assert res.params["alignment_gain"] == 0.4 and res.params["onset"] == 0.0
    assert res.n_params == 2 and set(res.ci) == {"gain", "time_scale"}
    assert res.label == "approach (alignment_gain=0.4)"
    assert res.fixed == {"alignment_gain": 0.4, "onset": 0.0}
    assert np.isnan(res.ci["gain"]).all()  # interval=None asks for no intervals
    assert res.observables == ("behavior",) and res.missing_observables == ()
    partial = fit(stats.drop_vars(["behavior", "behavior_se"]), approach, interval=None, random_state=0)
    assert partial.missing_observables == ("behavior",)
    assert "absent from the data, not fitted: ['behavior']" in partial.message


def test_confounded_parameters_are_flagged_not_reported_as_precise(product):
    t = np.arange(10.0)
    stats = statistics({"behavior": 0.5 * t + 0.01 * np.random.default_rng(0).standard_normal(10)}, {"behavior": 0.01})
    res = fit(stats, product, fixed=CLOCK, random_state=0)
    assert res.success
    assert res.params["a"] * res.params["b"] == pytest.approx(0.5, rel=0.01)
    assert res.identifiable == {"a": False, "b": False}
    assert "not identifiable" in res.message and "not identifiable" in repr(res)


def test_declared_non_identifiable_parameter_is_flagged(line, line_data):
    t, y, se = line_data
    declared = Model("line2", "", "", "", (line.parameters[0], Parameter("slope", 0.0, (-10, 10), "", identifiable=False)),
                     line.observables, line.function)
    res = fit(statistics({"behavior": y}, {"behavior": se}), declared, fixed=CLOCK, random_state=0)
    assert res.identifiable == {"intercept": True, "slope": False}
    assert "declared non-identifiable" in res.message


def _ceiling_and_level(ceiling_natural=(True, True)):
    """Two constant fractions: ``ceiling`` (its bounds declared natural) and ``level`` (bounds arbitrary)."""
    return Model("plateaus", "", "b = ceiling; A = level", "",
                 (Parameter("ceiling", 0.9, (0.0, 1.0), "fraction correct", natural=ceiling_natural),
                  Parameter("level", 0.5, (0.0, 1.0), "a level searched in [0, 1]")),
                 ("behavior", "task_alignment"),
                 lambda t, ceiling, level: {"behavior": np.full_like(t, ceiling), "task_alignment": np.full_like(t, level)})


def test_an_interval_open_at_a_natural_bound_is_one_sided_not_unidentified():
    # both statistics average 0.99 over 12 sessions at SE 0.02: each profile interval is the closed form
    # 0.99 -+ sqrt(chi2_95) 0.02 / sqrt(12) = [0.9787, 1.0013], cut at 1. That end is ceiling's natural limit (a
    # fraction correct cannot pass 1), so ceiling is identified with a one-sided interval; for level, whose
    # bound 1 is only the edge of the search, the same open end still flags it
    z = np.random.default_rng(5).standard_normal(12)
    y = 0.99 + 0.005 * (z - z.mean())  # chi2/dof < 1: no misfit widening
    stats = statistics({"behavior": y, "task_alignment": y}, {"behavior": 0.02, "task_alignment": 0.02})
    res = fit(stats, _ceiling_and_level(), fixed=CLOCK, random_state=0)
    assert res.success
    lower = 0.99 - np.sqrt(chi2_distribution.ppf(0.95, 1)) * 0.02 / np.sqrt(12)
    for name in ("ceiling", "level"):
        assert res.params[name] == pytest.approx(0.99, rel=1e-6)
        assert res.ci[name][0] == pytest.approx(lower, rel=1e-4)
        assert res.ci[name][1] == pytest.approx(1.0, abs=1e-6)
    assert res.identifiable == {"ceiling": True, "level": False}
    assert "ceiling: interval one-sided at its natural upper bound 1" in res.message
    assert "ceiling: not identifiable" not in res.message
    assert "level: not identifiable (interval reaches the upper search bound)" in res.message
    # undeclared, the same ceiling is flagged as before
    plain = fit(stats, _ceiling_and_level((False, False)), fixed=CLOCK, random_state=0)
    assert plain.identifiable == {"ceiling": False, "level": False}
    assert "ceiling: not identifiable (interval reaches the upper search bound)" in plain.message
    # an interval reaching only the other, non-natural end is still flagged
    lower_only = fit(stats, _ceiling_and_level((True, False)), fixed=CLOCK, random_state=0)
    assert lower_only.identifiable["ceiling"] is False


def test_lazy_rich_with_a_ceiling_of_one_identifies_it_and_flags_time_scale():
    # simulated truth ceiling = 1 (perfect performance once learned): its interval [~0.996, 1] is one-sided at
    # the natural limit; time_scale's reaches its arbitrary upper search bound and is still flagged. The first
    # session is the start of training (onset 0): kernel_change is measured from that session, so with onset
    # free nothing but behaviour at session 0 tells when training began, and that trades with chance
    stats = simulate_statistics("lazy-rich", {"ceiling": 1.0, "gamma0": 1.0}, n_sessions=20, se=0.02,
                                random_state=0)
    res = fit(stats, "lazy-rich", random_state=0, fixed={"onset": 0.0})
    assert res.success
    assert 0.99 < res.ci["ceiling"][0] < 1.0 and res.ci["ceiling"][1] == pytest.approx(1.0, abs=1e-9)
    assert res.identifiable["ceiling"] and res.identifiable["gamma0"]
    assert "ceiling: interval one-sided at its natural upper bound 1" in res.message
    assert not res.identifiable["time_scale"]
    assert "time_scale: not identifiable (interval reaches the upper search bound" in res.message


def test_time_scale_confounded_with_a_model_rate_is_flagged():
    # behaviour depends on time_scale / rate only: neither is identifiable, the gain is
    model = Model("rate", "", "", "", (Parameter("gain", 0.3, (0.0, 0.5), ""),
                                       Parameter("rate", 1.0, (0.1, 10.0), "", log_scale=True)),
                  ("behavior",), lambda t, gain, rate: {"behavior": 0.5 + gain * -np.expm1(-t / rate)})
    stats = simulate_statistics(model, {"gain": 0.4, "rate": 1.0}, n_sessions=20, se=0.02, time_scale=0.3,
                                random_state=4)
    res = fit(stats, model, fixed={"onset": 0.0}, random_state=0)
    assert res.identifiable == {"gain": True, "rate": False, "time_scale": False}


def test_multistart_finds_the_global_minimum_of_a_multimodal_fit():
    # the chi-square of a frequency has many local minima; the default start (omega = 1) sits in a wrong one
    model = Model("wave", "", "", "", (Parameter("omega", 1.0, (0.2, 3.0), "angular frequency"),),
                  ("behavior",), lambda t, omega: {"behavior": np.sin(omega * t)})
    t = np.arange(30.0)
    stats = statistics({"behavior": np.sin(2.3 * t)}, {"behavior": 0.05})
    res = fit(stats, model, fixed=CLOCK, n_starts=4, random_state=0)
    assert res.params["omega"] == pytest.approx(2.3, rel=1e-6)


def test_same_seed_same_fit(approach):
    stats = simulate_statistics(approach, {}, n_sessions=12, se=0.03, time_scale=0.4, random_state=5)
    a = fit(stats, approach, interval=None, random_state=7)
    b = fit(stats, approach, interval=None, random_state=7)
    assert a.params == b.params


def test_a_model_without_finite_predictions_is_reported_as_failed_never_as_numbers(line_data):
    t, y, se = line_data
    broken = Model("broken", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),), ("behavior",),
                   lambda t, k: {"behavior": np.full_like(t, np.nan)})
    with pytest.warns(FitWarning, match="non-finite predictions"):
        res = fit(statistics({"behavior": y}, {"behavior": se}), broken, fixed=CLOCK, random_state=0)
    assert not res.success
    assert np.isnan(res.params["k"]) and np.isnan(res.chi2) and np.isnan(res.aic)
    assert np.isnan(res.ci["k"]).all() and res.identifiable == {"k": False}
    # the cause is the model's predictions, not the optimiser's convergence (adversary F24)
    assert res.message.startswith("no usable minimum: the model returns non-finite predictions")
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["params"]["k"] is None


def test_to_dict_is_json_and_carries_the_fit(approach):
    stats = simulate_statistics(approach, {}, n_sessions=12, se=0.03, time_scale=0.4, random_state=5)
    res = fit(stats, approach, random_state=0)
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["model"] == "approach" and out["success"] is True
    assert out["params"]["gain"] == pytest.approx(res.params["gain"])
    assert out["ci"]["gain"] == pytest.approx(list(res.ci["gain"]))
    assert out["session"] == list(stats["session"].values)
    assert out["predicted"]["behavior"] == pytest.approx(res.predicted["behavior"].values.tolist())
    assert out["observables"] == ["behavior", "task_alignment"]


def test_bad_options_are_refused(line, line_data):
    t, y, se = line_data
    stats = statistics({"behavior": y}, {"behavior": se})
    with pytest.raises(FitError, match=r"interval one of \['profile', 'bootstrap', None\], found 'wald'"):
        fit(stats, line, interval="wald")
    with pytest.raises(FitError, match="n_starts a positive integer, found 0"):
        fit(stats, line, n_starts=0)
    with pytest.raises(FitError, match=r"level a float in \(0, 1\), found 95"):
        fit(stats, line, level=95)
    with pytest.raises(FitError, match="n_boot an integer >= 2"):
        fit(stats, line, interval="bootstrap", n_boot=1)


def test_public_name_fit_is_callable_whatever_was_imported_first():
    # nl.fit is the function of neurolearn.fitting (no submodule of that name can shadow it), whatever was
    # imported first
    code = (
        "import numpy as np, xarray as xr, neurolearn.fitting.least_squares, neurolearn as nl\n"
        "from neurolearn.theory import Model, Parameter\n"
        "m = Model('line', '', '', '', (Parameter('c', 0.0, (-1, 1), ''),), ('behavior',), "
        "lambda t, c: {'behavior': c + 0 * t})\n"
        "s = xr.Dataset({'behavior': ('session', [0.1, 0.2, 0.3]), 'behavior_se': ('session', [0.1] * 3)})\n"
        "print(round(nl.fit(s, m, fixed={'time_scale': 1.0, 'onset': 0.0}).params['c'], 3))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0.2"
    assert nl.FitResult is FitResult
    assert importlib.util.find_spec("neurolearn.fit") is None  # one fit layer: neurolearn.fitting


def test_misfit_widens_profile_intervals_by_the_birge_ratio(line):
    # scatter 6x larger than the stated SEs: chi2/dof ~ 36; for a model linear in its parameters the widened
    # profile interval is exactly estimate +- sqrt(q chi2/dof) SE
    rng = np.random.default_rng(5)
    t = np.arange(15.0)
    se = np.full(15, 0.01)
    y = 0.3 + 0.05 * t + 0.06 * rng.standard_normal(15)
    beta, cov = _weighted_least_squares(t, y, se)
    chi2 = np.sum(((y - beta[0] - beta[1] * t) / se) ** 2)
    assert chi2_distribution.sf(chi2, 13) < 1e-3
    res = fit(statistics({"behavior": y}, {"behavior": se}), line, fixed=CLOCK, random_state=0)
    half = np.sqrt(chi2_distribution.ppf(0.95, 1) * chi2 / 13) * np.sqrt(np.diag(cov))
    np.testing.assert_allclose(res.ci["slope"], (beta[1] - half[1], beta[1] + half[1]), rtol=1e-3)
    assert "model misfit" in res.message and "widened by sqrt(chi2/dof)" in res.message


@pytest.mark.parametrize("name", ["capacity", "learning-rule"])
def test_a_models_own_jacobian_gives_the_fit_finite_differences_give(name):
    # the registered models' jacobians only make least squares faster: the same chi-square, and parameters and
    # profile intervals within the optimiser's tolerance (benchmarks/bench_fit.py designs, several seeds:
    # perturbing the finite-difference step by 20% moves them as much), on 15 sessions of each model's curve
    import warnings
    from dataclasses import replace

    from neurolearn.fitting.recovery import characteristic_time
    from neurolearn.theory import MODELS

    model = MODELS[name]
    truth = model.defaults()  # inside the box, a learning curve (the recovery truth is flat for capacity)
    clock = {"time_scale": 1.5 * characteristic_time(model, truth) / 14, "onset": 0.0}
    curve = model.predict(clock["time_scale"] * np.arange(15.0), **truth)
    se = {o: max(0.05 * float(np.ptp(curve[o].values)), 1e-3) for o in model.observables}
    stats = simulate_statistics(model, truth, n_sessions=15, se=se, random_state=1, **clock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        own = fit(stats, model, fixed=clock, random_state=0)
        differenced = fit(stats, replace(model, jacobian=None), fixed=clock, random_state=0)
    assert own.success and differenced.success
    assert own.chi2 == pytest.approx(differenced.chi2, rel=1e-6)
    assert own.identifiable == differenced.identifiable
    for p in own.identifiable:
        if own.identifiable[p]:
            assert abs(own.params[p] - differenced.params[p]) <= 1e-2 * differenced.se[p], p
            width = differenced.ci[p][1] - differenced.ci[p][0]
            np.testing.assert_allclose(own.ci[p], differenced.ci[p], atol=0.02 * width, err_msg=p)


def test_the_screen_reads_a_models_surrogate_and_the_local_runs_the_model(approach, monkeypatch):
    # function.screen (a cheaper surrogate, e.g. the integrator's coarse grid) only chooses the starts: with a
    # surrogate equal to the model the fit is the same, the surrogate is what the screen evaluated, and the
    # model's own function is what the local runs and intervals evaluated
    from dataclasses import replace

    import neurolearn.fitting.multistart as multistart

    # the screen evaluates every candidate once, as it does for a model this cheap on an idle machine (under
    # load its timing can choose the bounded screen, which reads a candidate's early sessions first: 181 calls)
    monkeypatch.setattr(multistart, "_LAZY_SCREEN_SECONDS", float("inf"))

    truth = {"gain": 0.35, "alignment_gain": 0.3}
    stats = simulate_statistics(approach, truth, n_sessions=15, se=0.02, time_scale=0.4, onset=1.5, random_state=3)
    calls = {"screen": 0, "model": 0}

    def screen(t, **params):
        calls["screen"] += 1
        return approach.function(t, **params)

    def function(t, **params):
        calls["model"] += 1
        return approach.function(t, **params)

    function.screen = screen
    with_surrogate = fit(stats, replace(approach, function=function), random_state=0)
    plain = fit(stats, approach, random_state=0)
    assert calls["screen"] >= 64  # the Sobol screen (and nothing else: the count stays that of one screen)
    assert calls["screen"] <= 2 * 64 + 1
    assert calls["model"] > 0
    assert with_surrogate.chi2 == plain.chi2 and with_surrogate.params == plain.params
    assert with_surrogate.ci == plain.ci


@pytest.mark.parametrize("options, found", [
    ({"random_state": "x"}, r"random_state None, a non-negative integer or a numpy Generator, found 'x'"),
    ({"random_state": 1.5}, r"random_state None, a non-negative integer or a numpy Generator, found 1.5"),
    ({"random_state": -1}, r"random_state None, a non-negative integer or a numpy Generator, found -1"),
    ({"random_state": True}, r"random_state None, a non-negative integer or a numpy Generator, found True"),
    ({"se_floor": "x"}, r"se_floor 'auto', a positive number or None, found 'x'"),
    ({"se_floor": [1.0]}, r"se_floor 'auto', a positive number or None, found \[1.0\]"),
    ({"se_floor": -0.1}, r"se_floor 'auto', a positive number or None, found -0.1"),
    ({"label": 3}, r"label a string or None, found 3"),
    ({"areas": 5}, r"areas a mapping area name -> layer .*found int 5"),
    ({"observables": 5}, r"observables a statistic name or a sequence of them, found 5"),
    ({"weights": "bogus"}, r"weights one of \['joint', 'independent'\], found 'bogus'"),
    ({"n_starts": 2.0}, r"n_starts a positive integer, found 2.0"),
    ({"level": float("nan")}, r"level a float in \(0, 1\), found nan"),
    ({"level": 1.0}, r"level a float in \(0, 1\), found 1.0"),
])
def test_every_bad_argument_is_a_typed_error_naming_expected_and_found(line, line_data, options, found):
    # reviewer F1: random_state='x' raised numpy's TypeError from SeedSequence; se_floor='x' passed silently
    # whenever no SE needed flooring; observables=5 and areas=5 raised "'int' object is not iterable"
    t, y, se = line_data
    stats = statistics({"behavior": y}, {"behavior": se})
    with pytest.raises(FitError, match=found):
        fit(stats, line, fixed=CLOCK, interval=None, **options)


@pytest.mark.parametrize("random_state", [None, 0, np.int64(3), np.random.default_rng(1), np.random.SeedSequence(2)])
def test_seeds_numpy_accepts_are_accepted(line, line_data, random_state):
    t, y, se = line_data
    res = fit(statistics({"behavior": y}, {"behavior": se}), line, fixed=CLOCK, interval=None,
              random_state=random_state)
    assert res.success
