"""What a fit says when it fails or cannot pin a parameter down: one cause, true of the result it comes with.

Each case provokes a fit the statistics cannot support (a profile that finds a lower minimum its refit cannot
reach, an optimum that keeps moving, predictions that are not finite, an optimiser that never meets its
tolerances, constant statistics, a parameter the predictions ignore, bootstrap refits that all fail) and reads
every message the result and its warnings carry.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import neurolearn.fitting.finish as finish
from neurolearn.errors import FitError
from neurolearn.fitting import fit
from neurolearn.fitting.intervals import BetterMinimum
from neurolearn.fitting.multistart import Optimum
from neurolearn.fitting.problem import FitWarning
from neurolearn.theory import Model, Parameter

from .conftest import CLOCK, statistics

# words of a fit that worked, which a failed fit's message must not carry
SUCCESS_WORDS = ("converged (", "termination condition is satisfied", "moved there", "starts reached")


def _fit(stats, model, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(stats, model, random_state=0, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, FitWarning)]


def _assert_failed_coherently(result, warned):
    assert not result.success
    free = [name for name in result.params if name in result.ci]
    assert all(np.isnan(result.params[name]) for name in free)
    for word in SUCCESS_WORDS:
        assert word not in result.message, (word, result.message)
    # the warning says what the message opens with, once
    heads = [w for w in warned if "fit of model" in w and result.message.split("; ")[0] in w]
    assert len(heads) == 1, warned
    # a failed fit judges no parameter: the repr gives no identifiability reason for any of them
    assert "not identifiable" not in repr(result)
    assert "FAILED: " in repr(result)


def _line_data():
    t = np.arange(10.0)
    return statistics({"behavior": 0.2 + 0.05 * t}, {"behavior": 0.02})


def _line():
    return Model("line", "", "", "", (Parameter("intercept", 0.0, (-10.0, 10.0), ""),
                                     Parameter("slope", 0.0, (-10.0, 10.0), "")),
                 ("behavior",), lambda t, intercept, slope: {"behavior": intercept + slope * t})


def test_a_profile_move_whose_refit_cannot_converge_fails_with_that_one_cause(monkeypatch):
    # adversary F24: the optimum converged, a profile found a lower chi-square, the refit from there stopped at
    # its evaluation limit; the message said "the optimum was moved there" and then reported every value NaN
    real_profile, real_local = finish.profile_intervals, finish.local_fit
    state = {"moved": False}

    def profile(problem, u_hat, chi2_hat, *args, **kwargs):
        if not state["moved"]:
            state["moved"] = True
            lower = np.array(u_hat) + 0.01
            raise BetterMinimum(lower, parameter=1, chi2=chi2_hat - 1.0)
        return real_profile(problem, u_hat, chi2_hat, *args, **kwargs)

    def local(problem, u0, *args, **kwargs):
        out = real_local(problem, u0, *args, **kwargs)
        if state["moved"]:  # every refit after the move stops at its evaluation limit
            return Optimum(out.u, out.chi2 - 0.5, out.jac, 0, "The maximum number of function evaluations is "
                           "exceeded.", 300)
        return out

    monkeypatch.setattr(finish, "profile_intervals", profile)
    monkeypatch.setattr(finish, "local_fit", local)
    result, warned = _fit(_line_data(), _line(), fixed=CLOCK)
    _assert_failed_coherently(result, warned)
    head = result.message.split("; ")[0]
    assert head.startswith("did not converge")
    # what was expected (a minimum), what was found (the profile's lower chi-square, the refit stopped short)
    assert "profile of slope" in head and "lower chi-square" in head
    assert "maximum number of function evaluations" in head


def test_an_optimum_that_keeps_moving_fails_without_the_solvers_convergence_words(monkeypatch):
    def profile(problem, u_hat, chi2_hat, *args, **kwargs):
        raise BetterMinimum(np.clip(np.array(u_hat) + 0.01, 0.0, 1.0), parameter=0, chi2=chi2_hat - 1.0)

    monkeypatch.setattr(finish, "profile_intervals", profile)
    result, warned = _fit(_line_data(), _line(), fixed=CLOCK)
    _assert_failed_coherently(result, warned)
    head = result.message.split("; ")[0]
    assert "kept moving" in head and "profile of intercept" in head
    assert "did not converge (" not in result.message


def test_non_finite_predictions_are_the_cause_named_not_convergence_nor_a_penalty_chi2():
    broken = Model("broken", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),), ("behavior",),
                   lambda t, k: {"behavior": np.full_like(t, np.nan)})
    result, warned = _fit(_line_data(), broken, fixed=CLOCK)
    _assert_failed_coherently(result, warned)
    head = result.message.split("; ")[0]
    assert "non-finite predictions" in head and "10 of 10 fitted values" in head
    assert "did not converge" not in head
    # the chi-square of the optimiser's stand-in for a non-finite prediction is not a chi-square of the model
    assert "1e+13" not in result.message and "chi2" not in head


def test_predictions_that_jitter_keep_the_optimum_moving_and_the_fit_says_that_alone():
    # predictions that change from call to call: every profile finds a "lower" chi-square somewhere; before,
    # the message read "did not converge (`xtol` termination condition is satisfied.)"
    jitter = np.random.default_rng(0)
    noisy = Model("noisy", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""), Parameter("m", 1.0, (0.1, 10.0), "")),
                  ("behavior",), lambda t, k, m: {"behavior": 0.05 * k * t + m * 0.01 + jitter.normal(0, 1e-3, t.shape)})
    result, warned = _fit(_line_data(), noisy, fixed=CLOCK, n_starts=1)
    _assert_failed_coherently(result, warned)
    head = result.message.split("; ")[0]
    assert head.startswith("no stable minimum: the optimum kept moving") and "profile of " in head
    assert "did not converge" not in result.message


def test_an_optimiser_that_never_meets_its_tolerances_says_so_with_the_longer_run(monkeypatch):
    real_local = finish.local_fit

    def stops_short(problem, u0, *args, **kwargs):
        out = real_local(problem, u0, *args, **{**kwargs, "max_nfev": 1})
        return Optimum(out.u, out.chi2, out.jac, 0, "The maximum number of function evaluations is exceeded.", 1)

    monkeypatch.setattr(finish, "local_fit", stops_short)
    import neurolearn.fitting.multistart as multistart

    monkeypatch.setattr(multistart, "local_fit", stops_short)
    result, warned = _fit(_line_data(), _line(), fixed=CLOCK)
    _assert_failed_coherently(result, warned)
    head = result.message.split("; ")[0]
    assert head.startswith("did not converge (the maximum number of function evaluations is exceeded)")
    assert re.search(r"best chi2 reached [0-9.e+]+", result.message)
    assert "longer run" in result.message
    # the point the message speaks of is held, apart from the (NaN) estimates: the free parameters at the
    # chi-square reached, which the model's prediction there reproduces
    point = result.best_point
    assert set(point) == {"intercept", "slope"} and all(np.isfinite(v) for v in point.values())
    reached = float(re.search(r"best chi2 reached ([0-9.e+]+)", result.message).group(1))
    t = np.arange(10.0)
    chi2 = float(np.sum(((0.2 + 0.05 * t - (point["intercept"] + point["slope"] * t)) / 0.02) ** 2))
    assert chi2 == pytest.approx(reached, rel=1e-3)
    assert "best point reached (not an estimate): intercept=" in repr(result)
    from neurolearn.fit_records import fit_record
    record = fit_record(result.to_dict())
    assert record.best_point == pytest.approx(point)


def test_a_parameter_the_predictions_ignore_is_flagged_with_reasons_true_of_its_interval():
    dead = Model("dead", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""), Parameter("m", 1.0, (0.1, 10.0), "")),
                 ("behavior",), lambda t, k, m: {"behavior": 0.05 * k * t + 0.2})
    result, warned = _fit(_line_data(), dead, fixed=CLOCK)
    assert result.success and result.identifiable == {"k": True, "m": False}
    assert result.ci["m"] == pytest.approx((0.1, 10.0))
    # both ends: "bounds", one parameter's reason whole in the repr
    assert "m: not identifiable (interval reaches the lower and upper search bounds; " in result.message
    assert "interval reaches the lower and upper search bounds; not constrained by the data (singular Jacobian)" \
        in repr(result)
    # its ends are the box's, not the estimand's: censored, and shown as such
    assert result.open_ends == {"k": (False, False), "m": (True, True)}
    assert "m = 1  [open at 0.1, open at 10]" in repr(result)
    assert result.to_dict()["open_ends"] == {"k": [False, False], "m": [True, True]}


def test_a_confounded_pair_names_the_other_parameter_in_the_singular_and_the_repr_keeps_the_whole_reason():
    product = Model("product", "", "", "", (Parameter("a", 1.0, (0.1, 10.0), "", log_scale=True),
                                           Parameter("b", 1.0, (0.1, 10.0), "", log_scale=True)),
                    ("behavior",), lambda t, a, b: {"behavior": a * b * t})
    t = np.arange(10.0)
    stats = statistics({"behavior": 0.1 * t + 0.01 * np.random.default_rng(0).standard_normal(10)},
                       {"behavior": 0.02})
    result, _ = _fit(stats, product, fixed=CLOCK)
    assert result.success and result.identifiable == {"a": False, "b": False}
    assert "interval ends where b reaches its search bound (confounded)" in result.message
    reason = re.search(r"a: not identifiable \(((?:[^()]|\([^()]*\))*)\)(?=; |$)", result.message).group(1)
    assert f"[not identifiable: {reason}]" in repr(result)  # past the nested "(confounded)"


def test_an_interval_across_both_natural_bounds_is_the_whole_range_not_one_sided():
    # a fraction the statistics say nothing about: open at 0 and at 1, both natural limits -- not a one-sided
    # interval (it has no side), but a parameter the data leave free
    model = Model("free-fraction", "", "", "", (Parameter("k", 1.0, (0.1, 10.0), ""),
                                                Parameter("p", 0.5, (0.0, 1.0), "", natural=(True, True))),
                  ("behavior",), lambda t, k, p: {"behavior": 0.05 * k * t + 0.2 + 0.0 * p})
    result, _ = _fit(_line_data(), model, fixed=CLOCK)
    assert result.success and not result.identifiable["p"]
    assert "p: interval one-sided" not in result.message
    # ends at natural limits are the estimand's own: not censored
    assert result.open_ends["p"] == (False, False)
    assert "p: not identifiable (interval spans its whole range [0, 1] (both natural bounds)" in result.message


def test_bootstrap_refits_that_all_fail_leave_no_interval_and_say_so(monkeypatch):
    import neurolearn.fitting.intervals as intervals

    real_local = intervals.local_fit

    def failing(problem, u0, *args, **kwargs):
        out = real_local(problem, u0, *args, **kwargs)
        return Optimum(out.u, out.chi2, out.jac, 0, "The maximum number of function evaluations is exceeded.", 1)

    monkeypatch.setattr(intervals, "local_fit", failing)
    result, _ = _fit(_line_data(), _line(), fixed=CLOCK, interval="bootstrap", n_boot=10)
    assert result.success
    assert all(np.isnan(result.ci[name]).all() for name in ("intercept", "slope"))
    # an interval that could not be computed does not vouch for the parameter
    assert result.identifiable == {"intercept": False, "slope": False}
    assert "10 of 10 bootstrap refits did not converge (excluded)" in result.message
    assert "intercept: not identifiable (no interval: fewer than 2 of 10 bootstrap refits converged)" in result.message


@pytest.mark.parametrize("case, stats, fixed, found", [
    ("NaN-only statistics", statistics({"behavior": np.full(10, np.nan)}, {"behavior": 0.02}), CLOCK,
     "finite in 0 of 10 sessions"),
    ("a fixed value outside its bounds", statistics({"behavior": np.arange(10.0)}, {"behavior": 0.02}),
     {"slope": 20.0, **CLOCK}, "expected fixed 'slope' within its bounds [-10, 10], found 20"),
    ("too few sessions", statistics({"behavior": [0.5, 0.6]}, {"behavior": 0.02}), {},
     "expected more fitted values than free parameters, found 2 values"),
])
def test_statistics_no_fit_can_use_are_refused_naming_expected_and_found(case, stats, fixed, found):
    with pytest.raises(FitError) as caught:
        fit(stats, _line(), fixed=fixed, random_state=0)
    assert found in str(caught.value) and "expected" in str(caught.value)


def test_constant_statistics_converge_and_flag_only_what_their_intervals_show():
    # an approach model fitted to flat statistics: the gains are pinned (saturated from the first session), the
    # time mapping is not; every reason given must be true of the interval reported beside it
    from .conftest import approach_model

    stats = statistics({"behavior": np.full(10, 0.6), "task_alignment": np.full(10, 0.3)},
                       {"behavior": 0.02, "task_alignment": 0.02})
    result, _ = _fit(stats, approach_model())
    assert result.success
    problem = result._problem
    for p in problem.free:
        lo, hi = result.ci[p.name]
        reasons = re.search(rf"{p.name}: not identifiable \(((?:[^()]|\([^()]*\))*)\)(?=; |$)", result.message)
        text = reasons.group(1) if reasons else ""
        reached = re.search(r"interval reaches the (lower|upper|lower and upper) search bounds?\b", text)
        sides = reached.group(1).split(" and ") if reached else []
        for side, end, bound in (("lower", lo, p.lower), ("upper", hi, p.upper)):
            assert (side in sides) == bool(np.isclose(end, bound, rtol=1e-6)), (p.name, side, end, bound, text)
        assert " reach their search bounds" not in text or ", " in text.split("ends where ")[1].split(" reach")[0]


def test_a_converged_fit_holds_its_estimates_not_a_best_point():
    result, _ = _fit(_line_data(), _line(), fixed=CLOCK)
    assert result.success and result.best_point is None
    assert result.to_dict()["best_point"] is None
