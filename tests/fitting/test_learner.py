"""The model's learner covariance (fitting.learner): a model declaring one is fitted pilot -> covariance added
-> refit until self-consistent, against closed-form GLS, a brute-force fixed point and simulations with a known
truth."""

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import chi2 as chi2_distribution

from neurolearn.errors import FitError, FitWarning
from neurolearn.fitting import fit, learner
from neurolearn.fitting.learner import learner_block, with_learner_covariance
from neurolearn.fitting.problem import build_problem
from neurolearn.theory import Model, Parameter
from tests.fitting.conftest import CLOCK, line_model, statistics

TIMES = np.arange(12.0)


def _ar1(t, sd, rho):
    """Covariance of an AR(1)-like smooth deviation: ``sd_i sd_j rho^|t_i - t_j|``."""
    return np.outer(sd, sd) * rho ** np.abs(np.subtract.outer(t, t))


def _line_with_learner(sd=0.2, rho=0.9):
    """The straight line with a parameter-free learner covariance, so GLS with it is closed form."""
    return replace(line_model(), learner_covariance=lambda t, intercept, slope: _ar1(t, np.full(t.size, sd), rho))


def test_line_matches_closed_form_gls_with_the_learner_covariance():
    model = _line_with_learner()
    rng = np.random.default_rng(3)
    se = rng.uniform(0.02, 0.06, TIMES.size)
    total = np.diag(se**2) + _ar1(TIMES, np.full(TIMES.size, 0.2), 0.9)
    y = 0.3 + 0.05 * TIMES + np.linalg.cholesky(total) @ rng.standard_normal(TIMES.size)
    x = np.column_stack([np.ones_like(TIMES), TIMES])
    precision = np.linalg.inv(total)
    cov = np.linalg.inv(x.T @ precision @ x)
    beta = cov @ x.T @ precision @ y
    chi2 = float((y - x @ beta) @ precision @ (y - x @ beta))

    result = fit(statistics({"behavior": y}, {"behavior": se}), model, fixed=CLOCK, random_state=0)
    assert result.success, result.message
    assert result.params["intercept"] == pytest.approx(beta[0], abs=1e-5)
    assert result.params["slope"] == pytest.approx(beta[1], abs=1e-6)
    assert result.se["slope"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-3)
    assert result.chi2 == pytest.approx(chi2, rel=1e-4)
    # linear model: the profile interval is estimate +- 1.96 SE
    half = chi2_distribution.ppf(0.95, 1) ** 0.5 * np.sqrt(cov[1, 1])
    assert result.ci["slope"] == pytest.approx((beta[1] - half, beta[1] + half), rel=1e-3)
    assert set(result.learner_covariance) == {"intercept", "slope"}
    assert "learner covariance" in result.message and "learner covariance" in result.weighting
    # the reported standardised residuals use sqrt(se^2 + learner variance)
    scale = np.sqrt(se**2 + 0.2**2)
    assert np.allclose(result.residuals["behavior"].values, (y - x @ beta) / scale, atol=1e-6)
    # what the statistics alone weighted, kept for comparisons between fits to the same statistics
    assert np.allclose(result._statistics_problem.se, se) and result._statistics_problem.covariance is None
    # opting out: weighted least squares by the SEs alone, as a model without the hook
    plain = fit(statistics({"behavior": y}, {"behavior": se}), model, fixed=CLOCK, random_state=0,
                learner_covariance=False)
    w = 1.0 / se**2
    beta_wls = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (w * y))
    assert plain.learner_covariance is None and plain.weighting == "standard errors"
    assert plain.params["slope"] == pytest.approx(beta_wls[1], abs=1e-6)
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["learner_covariance"]["slope"] == \
        pytest.approx(result.learner_covariance["slope"])


def _decay_model(relative_sd=0.1, rho=0.85):
    """``generalization_error = exp(-t / k)``; one learner's curve deviates from it by a smooth relative error
    of SD ``relative_sd`` (a covariance that depends on ``k``, so the pilot's estimate matters)."""

    def function(t, k):
        return {"generalization_error": np.exp(-t / k)}

    def learner(t, k):
        return _ar1(t, relative_sd * np.exp(-t / k), rho)

    return Model("decay", "exponential decay of the error", "E = exp(-t / k)", "",
                 (Parameter("k", 2.0, (0.3, 30.0), "decay time (sessions)", log_scale=True),),
                 ("generalization_error",), function, learner_covariance=learner)


def _replicates(model, n, k=3.0, se=0.005, seed=0):
    """``n`` learners' measured curves: the mean, the learner's deviation drawn from the model's covariance at the
    truth, and measurement noise of SD ``se``."""
    rng = np.random.default_rng(seed)
    mean = np.exp(-TIMES / k)
    factor = np.linalg.cholesky(model.learner_covariance(TIMES, k) + 1e-14 * np.eye(TIMES.size))
    for _ in range(n):
        y = mean + factor @ rng.standard_normal(TIMES.size) + se * rng.standard_normal(TIMES.size)
        yield statistics({"generalization_error": y}, {"generalization_error": np.full(TIMES.size, se)})


def test_learner_covariance_calibrates_chi2_and_covers_where_the_ses_alone_do_not():
    # 60 simulated learners whose curves carry the model's learner covariance (a 10 % relative error correlated
    # across sessions) on top of SEs of 0.005: GLS with the model's covariance at the pilot and the refit gives
    # chi2 / dof ~ 1 and 95 % intervals that cover (measured 1.02, 59/60); the SEs alone give chi2 / dof ~ 46 and
    # intervals that miss though widened by sqrt(chi2 / dof) (0.57)
    model = _decay_model()
    with_cov, without = [], []
    for stats in _replicates(model, 60):
        for out, use in ((with_cov, True), (without, False)):
            result = fit(stats, model, fixed=CLOCK, random_state=0, learner_covariance=use, n_starts=2)
            assert result.success, result.message
            lo, hi = result.ci["k"]
            out.append((result.chi2 / (result.n_obs - result.n_params), lo <= 3.0 <= hi))
    with_cov, without = np.array(with_cov), np.array(without)
    # mean of 60 chi2_11 / 11: SD 0.055, so 0.8-1.2 is > 3 SD either way
    assert 0.8 < with_cov[:, 0].mean() < 1.2
    assert with_cov[:, 1].mean() >= 0.88
    assert without[:, 0].mean() > 5.0
    assert without[:, 1].mean() < 0.8


def test_learner_block_picks_the_fitted_observables_out_of_the_models_matrix():
    def function(t, a):
        return {"behavior": a * t, "task_alignment": a + 0 * t}

    def learner(t, a):  # entry (i, j) = 100 i + j: which block went where is readable
        n = 2 * t.size
        return np.add.outer(100.0 * np.arange(n), np.arange(n)) + np.add.outer(np.arange(n), 100.0 * np.arange(n))

    model = Model("two", "", "", "", (Parameter("a", 1.0, (0.1, 10.0), ""),), ("behavior", "task_alignment"),
                  function, learner_covariance=learner)
    stats = statistics({"task_alignment": [1.0, 1.1, 0.9, 1.0], "behavior": [0.0, 1.0, 2.0, 3.0]},
                       {"task_alignment": 0.1, "behavior": 0.1})
    problem = build_problem(stats, model, observables=["task_alignment"], fixed=CLOCK)
    block = learner_block(problem, problem.values(problem.unit_default()))
    full = learner(TIMES[:4], 1.0)
    assert np.array_equal(block, full[4:, 4:])  # task_alignment is the model's second observable
    both = build_problem(stats, model, observables=["task_alignment", "behavior"], fixed=CLOCK)
    block = learner_block(both, both.values(both.unit_default()))
    order = np.r_[4:8, 0:4]
    assert np.array_equal(block, full[np.ix_(order, order)])


def test_independent_weights_keep_the_learner_covariance_out_of_the_weights():
    model = _line_with_learner()
    y = 0.3 + 0.05 * TIMES
    stats = statistics({"behavior": y}, {"behavior": 0.04})
    problem = build_problem(stats, model, fixed=CLOCK, weights="independent")
    values = problem.values(problem.unit_default())
    joint = with_learner_covariance(problem, values, weights="joint")
    independent = with_learner_covariance(problem, values, weights="independent")
    expected = np.diag(np.full(TIMES.size, 0.04**2)) + _ar1(TIMES, np.full(TIMES.size, 0.2), 0.9)
    assert independent.covariance is None and np.allclose(independent.sandwich_covariance, expected)
    assert np.allclose(joint.covariance, expected) and joint.sandwich_covariance is None
    assert np.allclose(independent.se, np.sqrt(0.04**2 + 0.2**2))
    assert problem.covariance is None and np.allclose(problem.se, 0.04)  # the input problem is unchanged


def test_a_learner_covariance_of_the_wrong_shape_or_a_bad_option_is_refused():
    bad = replace(line_model(), learner_covariance=lambda t, intercept, slope: np.eye(t.size + 1))
    stats = statistics({"behavior": 0.3 + 0.05 * TIMES}, {"behavior": 0.04})
    with pytest.raises(FitError, match=r"expected its learner covariance shaped \(12, 12\).*found \(13, 13\)"):
        fit(stats, bad, fixed=CLOCK, random_state=0)
    asymmetric = replace(line_model(), learner_covariance=lambda t, intercept, slope: np.triu(np.ones((t.size,) * 2)))
    with pytest.raises(FitError, match="finite and symmetric.*asymmetric"):
        fit(stats, asymmetric, fixed=CLOCK, random_state=0)
    with pytest.raises(FitError, match="expected learner_covariance True or False, found 'yes'"):
        fit(stats, _line_with_learner(), fixed=CLOCK, learner_covariance="yes")
    # a model without the hook is fitted as before, whatever the option
    assert fit(stats, line_model(), fixed=CLOCK, random_state=0).learner_covariance is None


# A constant ``a`` fitted to 7 sessions at 1 and 5 at 0 whose learner variance grows with ``a`` on the first 7 and
# shrinks on the last 5: weights evaluated at a high ``a`` pull the estimate low and vice versa. The map from the
# evaluation point to the refit, T(a) = sum w_i(a) y_i / sum w_i(a) with w_i = 1 / (se^2 + v_i(a)), is closed
# form; its slope at the fixed point is about -3, so plain re-evaluation 2-cycles between ~0 and ~1.
FLIP_Y = np.r_[np.ones(7), np.zeros(5)]
FLIP_SE, FLIP_SD, FLIP_KAPPA = 0.02, 0.1, 6.0


def _flip_variance(a):
    return FLIP_SD**2 * np.exp(np.where(FLIP_Y > 0.5, 1.0, -1.0) * FLIP_KAPPA * (a - 0.5))


def _flip_model():
    return Model("flip", "a constant", "b = a", "", (Parameter("a", 0.5, (-0.5, 1.5), "level"),), ("behavior",),
                 lambda t, a: {"behavior": a + 0.0 * t},
                 learner_covariance=lambda t, a: np.diag(_flip_variance(a)))


def _flip_refit(a):
    """The weighted mean with the learner variance at ``a``: the fit's refit, by hand."""
    w = 1.0 / (FLIP_SE**2 + _flip_variance(a))
    return float(w @ FLIP_Y / w.sum())


def _flip_fixed_point():
    """The self-consistent ``a``: T(a) = a, bracketed by a scan of the box and refined by Brent's method."""
    grid = np.linspace(-0.5, 1.5, 2001)
    residual = np.array([_flip_refit(a) - a for a in grid])
    (crossings,) = np.nonzero(np.diff(np.sign(residual)) != 0)
    assert crossings.size == 1  # T(a) - a falls monotonically: one fixed point
    i = crossings[0]
    return brentq(lambda a: _flip_refit(a) - a, grid[i], grid[i + 1], xtol=1e-12)


def test_staged_fit_settles_at_the_self_consistent_point_where_plain_reevaluation_two_cycles(monkeypatch):
    monkeypatch.setattr(learner, "MAX_EVALUATIONS", 6)  # the damped steps act from the third evaluation on
    star = _flip_fixed_point()
    slope = (_flip_refit(star + 1e-6) - _flip_refit(star - 1e-6)) / 2e-6
    assert slope < -2.0  # the design: plain re-evaluation is unstable here
    a, plain = 7.0 / 12.0, []  # the pilot, equal SEs: the plain mean
    for _ in range(12):
        a = _flip_refit(a)
        plain.append(a)
    assert min(plain[-2:]) < 0.05 and max(plain[-2:]) > 0.95  # a 2-cycle between ~0 and ~1

    stats = statistics({"behavior": FLIP_Y}, {"behavior": np.full(12, FLIP_SE)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)  # settling raises no warning
        result = fit(stats, _flip_model(), fixed=CLOCK, random_state=0, interval=None)
    assert result.success, result.message
    se = result.se["a"]
    assert 0.01 < se < 0.1
    # the estimate is the fixed point to within the tolerance (0.25 SE), the covariance was evaluated within
    # 0.25 SE of it, and it is the weighted mean with the covariance where the fit says it evaluated it
    assert abs(result.params["a"] - star) <= learner.TOLERANCE * se
    assert abs(result.learner_covariance["a"] - result.params["a"]) <= learner.TOLERANCE * se
    assert result.params["a"] == pytest.approx(_flip_refit(result.learner_covariance["a"]), abs=1e-6)
    assert "weights are self-consistent" in result.message and "did not settle" not in result.message


def test_staged_fit_that_does_not_settle_says_so_and_reports_its_last_stage():
    # the default two evaluations (the pilot's 0.583 -> 0.34, then 0.34 -> 0.90) do not settle: the second is
    # reported, as the fit before the settling check did, with a note and a warning saying how far each moved
    assert learner.MAX_EVALUATIONS == 2
    stats = statistics({"behavior": FLIP_Y}, {"behavior": np.full(12, FLIP_SE)})
    with pytest.warns(FitWarning, match="did not settle in 2 evaluations"):
        result = fit(stats, _flip_model(), fixed=CLOCK, random_state=0, interval=None)
    assert "did not settle" in result.message and "reported the last evaluation" in result.message
    first = _flip_refit(7.0 / 12.0)
    assert result.learner_covariance["a"] == pytest.approx(first, abs=1e-6)
    assert result.params["a"] == pytest.approx(_flip_refit(first), abs=1e-6)


def test_a_parameter_free_learner_covariance_settles_at_its_second_evaluation():
    # C does not depend on the parameters: the second refit is the first's, so two evaluations (the GLS answer)
    trace = []
    model = _line_with_learner()
    stats = statistics({"behavior": 0.3 + 0.05 * TIMES + 0.2 * np.sin(TIMES / 2)}, {"behavior": 0.01})
    problem = build_problem(stats, model, fixed=CLOCK)
    from neurolearn.fitting.multistart import local_fit

    pilot = local_fit(problem, problem.unit_default())
    learner.learner_fit(problem, pilot, lambda stage, u0: local_fit(stage, u0), trace=trace)
    assert len(trace) == 2 and trace[0]["gap"] > 1.0 and trace[1]["gap"] <= 1.0
    assert trace[1]["estimate"]["slope"] == pytest.approx(trace[0]["estimate"]["slope"], abs=1e-8)
