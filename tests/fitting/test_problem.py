"""Joining a model to statistics: which statistics are fitted, weights, time mapping, refusals."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurolearn.errors import FitError
from neurolearn.fitting.problem import FitWarning, FreeParameter, build_problem
from tests.fitting.conftest import CLOCK, statistics


def test_fits_the_intersection_of_predicted_and_present_statistics(approach):
    stats = statistics({"task_alignment": np.linspace(0.2, 0.5, 6), "margin": np.ones(6)},
                       {"task_alignment": 0.02, "margin": 0.1})
    problem = build_problem(stats, approach)
    assert problem.observables == ("task_alignment",)
    assert problem.missing_observables == ("behavior",)
    assert problem.free_names == ("gain", "alignment_gain", "time_scale", "onset")


def test_refuses_a_default_fit_to_behaviour_alone_when_the_model_predicts_more(approach):
    # every model predicts behaviour: matching only it cannot test this model (the integrator on lazy-rich data)
    stats = statistics({"behavior": np.linspace(0.5, 0.8, 6), "margin": np.ones(6)}, {"behavior": 0.02, "margin": 0.1})
    with pytest.raises(FitError, match=r"lack every statistic specific to the model; expected some of "
                                       r"\['task_alignment'\].*pass observables=\['behavior'\]"):
        build_problem(stats, approach)
    assert build_problem(stats, approach, observables=["behavior"]).observables == ("behavior",)


def test_refuses_statistics_without_any_predicted_statistic_and_lists_what_it_found(approach):
    stats = statistics({"margin": np.ones(6), "timescale": np.ones(6)}, {"margin": 0.1, "timescale": 0.1})
    with pytest.raises(FitError, match=r"lack every statistic.*'behavior', 'task_alignment'.*\['margin', 'timescale'\]"):
        build_problem(stats, approach)


def test_observables_restrict_and_are_checked(approach):
    stats = statistics({"behavior": np.ones(6), "task_alignment": np.ones(6)}, {"behavior": 0.1, "task_alignment": 0.1})
    assert build_problem(stats, approach, observables=["task_alignment"]).observables == ("task_alignment",)
    with pytest.raises(FitError, match=r"does not predict \['margin'\].*predicts \['behavior', 'task_alignment'\]"):
        build_problem(stats, approach, observables=["margin"])
    stats = stats.drop_vars(["task_alignment", "task_alignment_se"])
    with pytest.raises(FitError, match=r"statistics lack \['task_alignment'\]; found per-session statistics \['behavior'"):
        build_problem(stats, approach, observables=["behavior", "task_alignment"])


def test_refuses_a_statistic_without_standard_errors(line):
    stats = statistics({"behavior": np.arange(5.0)}, {"behavior": 0.1}).drop_vars("behavior_se")
    with pytest.raises(FitError, match=r"'behavior' has no standard error 'behavior_se'"):
        build_problem(stats, line)


def test_refuses_nan_standard_error_of_a_fitted_value(line):
    stats = statistics({"behavior": np.arange(5.0)}, {"behavior": [0.1, np.nan, 0.1, 0.1, 0.1]})
    with pytest.raises(FitError, match=r"non-finite 'behavior_se' at sessions \['day1'\]"):
        build_problem(stats, line)


def test_nonpositive_standard_errors_are_refused_or_floored_as_documented(line):
    stats = statistics({"behavior": np.arange(5.0)}, {"behavior": [0.1, 0.0, 0.2, -1.0, 0.3]})
    with pytest.raises(FitError, match=r"standard errors <= 0 at sessions \['day1', 'day3'\]"):
        build_problem(stats, line, se_floor=None)
    with pytest.warns(FitWarning, match="2 standard errors <= 0 raised to the smallest positive one"):
        problem = build_problem(stats, line)
    np.testing.assert_allclose(problem.se[0], [0.1, 0.1, 0.2, 0.1, 0.3])
    with pytest.warns(FitWarning, match="raised 3 standard errors below 0.15"):
        problem = build_problem(stats, line, se_floor=0.15)
    np.testing.assert_allclose(problem.se[0], [0.15, 0.15, 0.2, 0.15, 0.3])
    with pytest.raises(FitError, match="no positive standard error"):
        build_problem(statistics({"behavior": np.arange(5.0)}, {"behavior": 0.0}), line)
    with pytest.raises(FitError, match="se_floor"):
        build_problem(stats, line, se_floor="min")


def test_values_with_an_infinite_standard_error_are_left_out_with_a_warning(line):
    # an infinite SE is no information: the fit equals the fit with that value absent
    values = [0.0, 1.1, 2.0, 2.9, 4.2]
    stats = statistics({"behavior": values}, {"behavior": [0.1, np.inf, 0.1, 0.1, 0.1]})
    with pytest.warns(FitWarning, match=r"infinite standard error left out: \{'behavior': \['day1'\]\}"):
        problem = build_problem(stats, line, fixed=CLOCK)
    absent = build_problem(statistics({"behavior": [0.0, np.nan, 2.0, 2.9, 4.2]}, {"behavior": 0.1}), line,
                           fixed=CLOCK)
    assert problem.n_obs == absent.n_obs == 4
    np.testing.assert_allclose(problem.residuals(problem.unit_default()), absent.residuals(absent.unit_default()))


def test_nan_values_are_skipped_not_fitted(line):
    stats = statistics({"behavior": [0.0, np.nan, 2.0, 3.0, np.nan]}, {"behavior": 0.1})
    problem = build_problem(stats, line, fixed=CLOCK)
    assert problem.n_obs == 3
    assert problem.residuals(problem.unit_default()).shape == (3,)


def test_fixed_parameters_are_checked(line):
    stats = statistics({"behavior": np.arange(6.0)}, {"behavior": 0.1})
    with pytest.raises(FitError, match=r"unknown parameters \['gamma0'\]; parameters are \['intercept', 'slope', "
                                       r"'time_scale', 'onset'\]"):
        build_problem(stats, line, fixed={"gamma0": 0.1})
    with pytest.raises(FitError, match="expected a finite number for fixed 'slope', found 'steep'"):
        build_problem(stats, line, fixed={"slope": "steep"})
    with pytest.raises(FitError, match="expected fixed as a dict"):
        build_problem(stats, line, fixed=[("slope", 1.0)])
    with pytest.raises(FitError, match="time_scale > 0"):
        build_problem(stats, line, fixed={"time_scale": 0.0})
    problem = build_problem(stats, line, fixed={"slope": 2.0, **CLOCK})
    assert problem.free_names == ("intercept",)


def test_refuses_fewer_values_than_free_parameters(approach):
    stats = statistics({"task_alignment": [0.5, 0.6, 0.7]}, {"task_alignment": 0.02})
    with pytest.raises(FitError, match=r"found 3 values .* for 4 free parameters"):
        build_problem(stats, approach)


def test_refuses_objects_that_are_not_statistics(line):
    with pytest.raises(FitError, match="expected statistics as an xarray.Dataset.*found ndarray"):
        build_problem(np.ones(5), line)
    stats = statistics({"behavior": np.arange(5.0)}, {"behavior": 0.1}).rename({"session": "day"})
    with pytest.raises(FitError, match="expected statistics over dim 'session'"):
        build_problem(stats, line)
    with pytest.raises(FitError, match="unknown model 'no-such-model'"):
        build_problem(stats, "no-such-model")


def test_training_time_from_a_coord_or_array_replaces_the_session_index(line):
    stats = statistics({"behavior": np.arange(6.0)}, {"behavior": 0.1})
    stats = stats.assign_coords(trials=("session", [0.0, 100.0, 300.0, 600.0, 700.0, 900.0]))
    problem = build_problem(stats, line, time="trials", fixed={"time_scale": 0.01, "onset": 100.0})
    np.testing.assert_allclose(problem.training_time(problem.values(np.zeros(2))), [0.0, 0.0, 2.0, 5.0, 6.0, 8.0])
    problem = build_problem(stats, line, time=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(problem.session_time, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    with pytest.raises(FitError, match=r"time='days' is not a coord.*found coords \['session', 'session_index', 'trials'\]"):
        build_problem(stats, line, time="days")
    with pytest.raises(FitError, match=r"one training time per session \(6\).*found shape \(3,\)"):
        build_problem(stats, line, time=[1.0, 2.0, 3.0])
    with pytest.raises(FitError, match="differ across sessions"):
        build_problem(stats, line, time=np.ones(6))
    with pytest.raises(FitError, match="expected numeric training times"):
        build_problem(stats, line, time=["a", "b", "c", "d", "e", "f"])


def test_residuals_are_standardised_differences_computed_plainly(approach):
    rng = np.random.default_rng(3)
    b, a = rng.uniform(0.5, 1.0, 8), rng.uniform(0.2, 0.6, 8)
    se_b, se_a = rng.uniform(0.01, 0.05, 8), rng.uniform(0.01, 0.05, 8)
    stats = statistics({"behavior": b, "task_alignment": a}, {"behavior": se_b, "task_alignment": se_a})
    problem = build_problem(stats, approach)
    u = np.array([0.3, 0.6, 0.5, 0.4])
    v = problem.values(u)
    tau = v["time_scale"] * np.maximum(np.arange(8) - v["onset"], 0.0)
    pred_b = 0.5 + v["gain"] * (1 - np.exp(-tau))
    pred_a = 0.2 + v["alignment_gain"] * (1 - np.exp(-tau)) ** 2
    expected = np.concatenate([(b - pred_b) / se_b, (a - pred_a) / se_a])
    np.testing.assert_allclose(problem.residuals(u), expected, rtol=1e-12)
    assert problem.log_likelihood_constant() == pytest.approx(np.sum(np.log(2 * np.pi * np.r_[se_b, se_a] ** 2)))


@given(u=st.floats(0.0, 1.0), log_scale=st.booleans())
def test_unit_box_round_trip(u, log_scale):
    p = FreeParameter("x", 0.01, 100.0, 1.0, log_scale=log_scale)
    assert float(p.to_unit(p.from_unit(u))) == pytest.approx(u, abs=1e-12)
    # the derivative used to carry SEs out of the unit box matches a finite difference
    h = 1e-6
    lo, hi = max(u - h, 0.0), min(u + h, 1.0)
    numeric = (float(p.from_unit(hi)) - float(p.from_unit(lo))) / (hi - lo)
    assert float(p.unit_derivative(u)) == pytest.approx(numeric, rel=1e-5)


def test_pairwise_statistics_are_not_fitted_and_companions_are_not_statistics(approach):
    stats = statistics({"behavior": np.linspace(0.5, 0.8, 6)}, {"behavior": 0.02})
    stats["task_alignment"] = (("session", "session_other"), np.ones((6, 6)))  # pairwise: no per-session match
    stats["task_alignment_se"] = (("session", "session_other"), np.ones((6, 6)))
    problem = build_problem(stats, approach, observables=["behavior"])
    assert problem.observables == ("behavior",)
    with pytest.raises(FitError, match=r"statistics lack \['task_alignment'\]; found per-session statistics \['behavior'\]"):
        build_problem(stats, approach, observables=["task_alignment"])


def test_observables_must_be_names(approach):
    stats = statistics({"behavior": np.linspace(0.5, 0.8, 6)}, {"behavior": 0.02})
    with pytest.raises(FitError, match=r"expected observables as statistic names, found \[1\]"):
        build_problem(stats, approach, observables=[1])
    assert build_problem(stats, approach, observables="behavior").observables == ("behavior",)


def test_refusals_name_the_statistic_or_parameter_what_was_expected_and_found(line):
    t = np.arange(8.0)
    good = statistics({"behavior": 0.3 + 0.1 * t}, {"behavior": 0.1})
    with pytest.raises(FitError, match=r"'behavior' has standard errors too small.*smallest 1e-300.*expected "
                                       r"'behavior_se' >= 1e-10"):
        build_problem(statistics({"behavior": 0.3 + 0.1 * t}, {"behavior": 1e-300}), line, fixed=CLOCK)
    with pytest.raises(FitError, match="expected statistics of at least one session, found 0 sessions"):
        build_problem(good.isel(session=slice(0, 0)), line, fixed=CLOCK)
    text = good.assign(behavior=("session", np.array(["high"] * 8)))
    with pytest.raises(FitError, match=r"expected numeric values of statistic 'behavior', found dtype <U4 "
                                       r"\(e.g. \['high', 'high', 'high'\]\)"):
        build_problem(text, line, fixed=CLOCK)
    with pytest.raises(FitError, match=r"expected fixed 'slope' within its bounds \[-10, 10\], found -50"):
        build_problem(good, line, fixed={**CLOCK, "slope": -50.0})


def test_fixed_values_outside_a_registered_models_bounds_are_refused():
    stats = statistics({"behavior": np.linspace(0.5, 0.9, 8), "task_alignment": np.linspace(0.1, 0.4, 8)},
                       {"behavior": 0.02, "task_alignment": 0.02})
    with pytest.raises(FitError, match=r"expected fixed 'gamma0' within its bounds \[0.001, 100\], found -5"):
        build_problem(stats, "lazy-rich", fixed={"gamma0": -5})


def test_a_model_whose_own_statistics_are_absent_is_refused():
    # integrator on lazy-rich statistics: only behaviour matches
    stats = statistics({"behavior": np.linspace(0.5, 0.9, 8), "task_alignment": np.linspace(0.1, 0.4, 8)},
                       {"behavior": 0.02, "task_alignment": 0.02})
    with pytest.raises(FitError, match=r"model 'integrator'.*expected some of \['outlier_eigenvalue', 'timescale'\]"):
        build_problem(stats, "integrator")


def test_nan_values_are_left_out_and_counted_with_summarizes_reasons(approach):
    n = 8
    stats = statistics({"behavior": np.linspace(0.5, 0.8, n), "task_alignment": np.linspace(0.2, 0.5, n)},
                       {"behavior": 0.02, "task_alignment": 0.02})
    stats["task_alignment"][[2, 5]] = np.nan
    stats["task_alignment_se"][[2, 5]] = np.nan
    flags = np.array([""] * n, dtype=object)
    flags[[2, 5]] = "fewer than 4 conditions (found 3)"
    stats["task_alignment_flag"] = ("session", flags)
    problem = build_problem(stats, approach)
    assert problem.n_obs == 2 * n - 2
    assert problem.observables == ("behavior", "task_alignment")  # the flag is not a statistic
    assert any("2 NaN statistic value(s) left out" in note and "'day2', 'day5'" in note
               and "fewer than 4 conditions (found 3)" in note for note in problem.notes)


def test_a_declared_training_time_replaces_the_session_index(line):
    t = np.array([0.0, 1.0, 3.0, 7.0, 15.0, 31.0])
    stats = statistics({"behavior": 0.1 + 0.02 * t}, {"behavior": 0.01})
    stats = stats.assign_coords(training_time=("session", t))
    problem = build_problem(stats, line, fixed=CLOCK)
    np.testing.assert_array_equal(problem.session_time, t)
    # an explicit time= still wins
    np.testing.assert_array_equal(build_problem(stats, line, fixed=CLOCK, time="session_index").session_time,
                                  np.arange(6.0))


def _approach_with_jacobian(approach, wrong=False):
    """The approach model with its closed-form derivatives (``wrong``: the gain's derivative off by 1%)."""
    from dataclasses import replace

    def jacobian(t, gain, alignment_gain):
        progress, rate = -np.expm1(-t), np.exp(-t)
        return {"behavior": {"time": gain * rate, "gain": progress * (1.01 if wrong else 1.0),
                             "alignment_gain": np.zeros_like(t)},
                "task_alignment": {"time": 2 * alignment_gain * progress * rate, "gain": np.zeros_like(t),
                                   "alignment_gain": progress**2}}

    return replace(approach, jacobian=jacobian)


def _central_jacobian(problem, u, h=1e-6):
    return np.column_stack([(problem.residuals(u + h * e) - problem.residuals(u - h * e)) / (2 * h)
                            for e in np.eye(problem.n_free)])


@pytest.mark.parametrize("correlated", [False, True])
def test_model_jacobian_is_chained_through_the_time_mapping_unit_box_and_whitening(approach, correlated):
    # d residual / du from the model's derivatives against central differences of the residuals, every free
    # parameter (a log-scale one, time_scale and onset through tau = time_scale max(s - onset, 0)), with SEs or
    # with a joint covariance (whitened); a derivative 1% wrong must show
    rng = np.random.default_rng(4)
    n = 10
    stats = statistics({"behavior": rng.uniform(0.5, 0.8, n), "task_alignment": rng.uniform(0.2, 0.6, n)},
                       {"behavior": rng.uniform(0.01, 0.05, n), "task_alignment": rng.uniform(0.01, 0.05, n)})
    if correlated:
        shared = rng.standard_normal((1, 300))  # one error shared by every session and both statistics
        for name in ("behavior", "task_alignment"):
            se = stats[f"{name}_se"].values[:, None]
            boot = stats[name].values[:, None] + se * (0.6 * shared + 0.8 * rng.standard_normal((n, 300)))
            stats[f"{name}_boot"] = (("session", "bootstrap"), boot, {"resampling": "neurons-shared"})
    problem = build_problem(stats, _approach_with_jacobian(approach))
    assert problem.has_jacobian and (problem.whitener is not None) == correlated
    for u in (np.array([0.3, 0.6, 0.5, 0.45]), np.array([0.8, 0.2, 0.7, 0.6])):  # onset between sessions
        np.testing.assert_allclose(problem.jacobian(u), _central_jacobian(problem, u), rtol=1e-6, atol=1e-6)
    wrong = build_problem(stats, _approach_with_jacobian(approach, wrong=True))
    u = np.array([0.3, 0.6, 0.5, 0.45])
    assert not np.allclose(wrong.jacobian(u), _central_jacobian(wrong, u), rtol=1e-3, atol=1e-6)


def test_jacobian_falls_back_to_forward_differences_where_the_model_cannot_give_it(approach):
    # a jacobian without one of the fitted statistics (a model whose function was replaced, e.g. per area) or
    # with non-finite values is not used: the residuals' forward differences (least squares' own step) are
    from dataclasses import replace

    from neurolearn.fitting.multistart import DIFF_STEP

    stats = statistics({"behavior": np.linspace(0.5, 0.8, 8), "task_alignment": np.linspace(0.2, 0.6, 8)},
                       {"behavior": 0.02, "task_alignment": 0.03})
    u = np.array([0.3, 0.6, 0.5, 0.999999])  # onset next to its upper edge: a backward step there
    plain = build_problem(stats, approach)
    forward = np.empty((plain.n_obs, 4))
    for j in range(4):
        step = DIFF_STEP if u[j] + DIFF_STEP <= 1.0 else -DIFF_STEP
        moved = u.copy()
        moved[j] += step
        forward[:, j] = (plain.residuals(moved) - plain.residuals(u)) / step
    for jacobian in (lambda t, gain, alignment_gain: {"behavior": {}},
                     lambda t, gain, alignment_gain: {name: {k: np.full(t.shape, np.nan) for k in
                                                             ("time", "gain", "alignment_gain")}
                                                      for name in ("behavior", "task_alignment")}):
        problem = build_problem(stats, replace(approach, jacobian=jacobian))
        np.testing.assert_allclose(problem.jacobian(u), forward, rtol=1e-8, atol=1e-8)


def _only_the_reference_session(stats, name, value=0.0, se=0.0, reason="kernel statistic: fewer than 2 sessions"):
    """``name`` finite only in the first (reference) session, NaN with summarize's flag elsewhere."""
    n = stats.sizes["session"]
    values = np.full(n, np.nan)
    values[0] = value
    ses = np.full(n, np.nan)
    ses[0] = se
    flags = np.array([""] + [reason] * (n - 1), dtype=object)
    return stats.assign({name: ("session", values), f"{name}_se": ("session", ses), f"{name}_flag": ("session", flags)})


def test_a_statistic_finite_only_in_the_reference_session_is_dropped_with_one_warning():
    # reviewer F3: kernel_change is 0 with SE 0 by definition at the reference session, NaN after it; the default
    # fit raised "no positive standard error in any session ... pass se_floor"
    from neurolearn.fitting import simulate_statistics

    full = simulate_statistics("lazy-rich", {"gamma0": 0.5}, n_sessions=8, se=0.02, time_scale=2.0, random_state=4)
    stats = _only_the_reference_session(full, "kernel_change")
    with pytest.warns(FitWarning) as caught:
        problem = build_problem(stats, "lazy-rich")
    dropped = [str(w.message) for w in caught if "left out of the fit" in str(w.message)]
    assert len(dropped) == 1
    # the reference session's 0 is the definition, not a measurement (fitting.reference): no value is left
    assert ("'kernel_change' (finite in 0 of 8 sessions; NaN in ['session-0', 'session-1', 'session-2', 'session-3', "
            "'session-4', 'session-5', 'session-6', 'session-7']; flagged: ['kernel statistic: fewer than 2 sessions', "
            "'the reference session: its value is the definition (change from itself), not a measurement'])"
            ) in dropped[0]
    assert "fewer than 2 fittable values" in dropped[0]
    assert problem.observables == ("task_alignment", "behavior")
    assert problem.dropped_observables == ("kernel_change",)
    assert problem.n_obs == 16
    # the fit runs on what remains: the same problem as statistics without kernel_change
    absent = build_problem(full.drop_vars(["kernel_change", "kernel_change_se", "kernel_change_ci"]), "lazy-rich")
    np.testing.assert_array_equal(problem.data, absent.data)
    np.testing.assert_array_equal(problem.se, absent.se)
    assert any("not fitted, too few values: 'kernel_change'" in note for note in problem.notes)


def test_a_statistic_with_one_finite_value_and_a_positive_se_is_dropped_too(approach):
    # one value cannot show a change across sessions; the rule does not depend on whether its SE could weight it
    n = 8
    stats = statistics({"behavior": np.linspace(0.5, 0.8, n), "task_alignment": np.linspace(0.2, 0.5, n),
                        "margin": np.ones(n)}, {"behavior": 0.02, "task_alignment": 0.02, "margin": 0.1})
    stats = _only_the_reference_session(stats, "behavior", value=0.5, se=0.02, reason="")
    with pytest.warns(FitWarning, match=r"'behavior' \(finite in 1 of 8 sessions, \['day0'\], with standard error "
                                        r"0.02; NaN in \['day1'.*'day7'\]\)"):
        problem = build_problem(stats, approach)
    assert problem.observables == ("task_alignment",) and problem.n_obs == n


def test_when_nothing_fittable_remains_the_error_names_what_was_expected_and_found(approach):
    n = 8
    stats = statistics({"behavior": np.linspace(0.5, 0.8, n), "task_alignment": np.linspace(0.2, 0.5, n)},
                       {"behavior": 0.02, "task_alignment": 0.02})
    stats = _only_the_reference_session(_only_the_reference_session(stats, "task_alignment"), "behavior", 0.5, 0.02)
    with pytest.raises(FitError, match=r"model 'approach': expected at least 2 fittable values \(finite, with a "
                                       r"finite standard error\) of some statistic, found 'behavior' \(finite in 1 of "
                                       r"8 sessions.*'task_alignment' \(finite in 1 of 8 sessions"):
        build_problem(stats, approach)
    # a default fit left with behaviour alone is refused as any default fit to behaviour alone is
    stats = _only_the_reference_session(statistics({"behavior": np.linspace(0.5, 0.8, n),
                                                    "task_alignment": np.linspace(0.2, 0.5, n)},
                                                   {"behavior": 0.02, "task_alignment": 0.02}), "task_alignment")
    with pytest.raises(FitError, match=r"left only 'behavior', which every model predicts.*'task_alignment' \(finite "
                                       r"in 1 of 8 sessions.*pass observables=\['behavior'\]"):
        build_problem(stats, approach)
    with pytest.warns(FitWarning, match="left out of the fit"):
        assert build_problem(stats, approach, observables=["behavior", "task_alignment"]).observables == ("behavior",)


def test_a_default_fit_runs_when_a_kernel_statistic_is_finite_only_in_the_reference_session():
    from neurolearn import fit
    from neurolearn.fitting import simulate_statistics

    full = simulate_statistics("lazy-rich", {"gamma0": 0.5}, n_sessions=8, se=0.02, time_scale=2.0, random_state=4)
    with pytest.warns(FitWarning, match="'kernel_change' .*left out|left out.*'kernel_change'"):
        res = fit(_only_the_reference_session(full, "kernel_change"), "lazy-rich", interval=None, random_state=0)
    assert res.success and res.observables == ("task_alignment", "behavior") and res.n_obs == 16
    assert "not fitted, too few values: 'kernel_change'" in res.message


def test_a_default_fit_of_spiking_statistics_keeps_kernel_change_without_a_warning():
    # kernel_change is of the double-centred kernels: the baseline rates that took the uncentred change are no
    # part of it, so the warning that told users to leave it out was retired with the centring (adversary S5-9:
    # it still told them to drop the statistic that separates rich from lazy learning)
    import warnings

    import neurolearn as nl
    from neurolearn.simulate.spiking import spiking_sessions

    tree, _ = spiking_sessions(n_sessions=6, n_conditions=8, n_trials=5, n_neurons=150, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = nl.summarize(tree, n_boot=20, random_state=0, readout=False)
    assert stats.attrs["response_units"] == "spikes/s" and "double-centred" in stats.attrs["kernel_change"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = build_problem(stats, "lazy-rich")
    assert "kernel_change" in problem.observables
    assert not any("kernel_change" in str(w.message) and "leave it out" in str(w.message) for w in caught)


def test_a_reversal_s_exact_reference_agreement_says_to_state_rho_instead_of_inventing_an_se():
    # reference_agreement is exactly +1 before and -1 after a reversal (SE 0): a default transfer fit refused it
    # and told the user to invent an se_floor, whose size then set how hard rho was pinned (adversary S5-8)
    from neurolearn.fitting import simulate_statistics

    stats = simulate_statistics("transfer", {"rho": -1.0}, n_sessions=10, se=0.02, random_state=0)
    exact = np.where(np.arange(10) < 5, 1.0, -1.0)
    stats = stats.assign(reference_agreement=("session", exact),
                         reference_agreement_se=("session", np.zeros(10)))
    with pytest.raises(FitError, match=r"its values \[-1.0, 1.0\] are exact .*observables=\['behavior', "
                                       r"'task_alignment', 'kernel_change'\]\) and state what it says: "
                                       r"fixed=\{'rho': -1\}"):
        build_problem(stats, "transfer")
    problem = build_problem(stats, "transfer", observables=["behavior", "task_alignment", "kernel_change"],
                            fixed={"rho": -1.0})
    assert "reference_agreement" not in problem.observables
