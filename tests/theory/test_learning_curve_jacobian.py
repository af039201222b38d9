"""The kernel-learning-curve model's closed-form derivatives against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.theory.learning_curve import kernel_learning_curve_jacobian, kernel_learning_curve_statistics

TIMES = np.array([0.0, 3.0, 20.0, 50.0, 150.0, 320.0, 420.0, 600.0])
CASES = [
    # the benchmark's recovery design (ridge > 0, noise), a steep ridgeless spectrum (past the interpolation
    # threshold kappa = 0 beyond 400 examples), a flat spectrum with a large ridge
    dict(eigen_decay=1.5, target_decay=2.0, noise=0.1, ridge=0.01, chance=0.5, ceiling=0.9),
    dict(eigen_decay=2.5, target_decay=4.0, noise=0.3, ridge=0.0, chance=0.3, ceiling=0.95),
    dict(eigen_decay=0.6, target_decay=0.7, noise=0.0, ridge=0.08, chance=0.5, ceiling=1.0),
]


def _numeric(params, name, times, step):
    """Central differences of both observables (forward at a parameter's bound 0: the error is linear in the
    noise, so exactly there)."""
    if name == "time":
        hi, lo, width = (kernel_learning_curve_statistics(times + step, **params),
                         kernel_learning_curve_statistics(times - step, **params), 2.0 * step)
    else:
        up, down = dict(params), dict(params)
        up[name] += step
        down[name] = max(down[name] - step, 0.0)
        hi, lo = kernel_learning_curve_statistics(times, **up), kernel_learning_curve_statistics(times, **down)
        width = up[name] - down[name]
    return {observable: (hi[observable] - lo[observable]) / width for observable in hi}


@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("name", ["time", "eigen_decay", "target_decay", "noise", "ridge", "chance", "ceiling"])
def test_derivatives_match_central_differences(params, name):
    if name == "ridge" and params["ridge"] == 0.0:
        pytest.skip("one-sided at the bound: test_ridge_derivative_at_zero_is_the_one_sided_limit")
    times = TIMES[TIMES > 1.0] if name == "time" else TIMES  # P' = max(tau, 0) has a kink at 0
    step = 1e-6 * max(1.0, abs(params.get(name, 100.0)))
    numeric = _numeric(params, name, times, step)
    analytic = kernel_learning_curve_jacobian(times, **params)
    for observable, numeric in numeric.items():
        np.testing.assert_allclose(analytic[observable][name], numeric, rtol=2e-5,
                                   atol=1e-7 * max(1.0, np.abs(numeric).max()), err_msg=f"{observable} / {name}")


def test_ridge_derivative_at_zero_is_the_one_sided_limit():
    params = CASES[1]
    times = np.array([3.0, 50.0, 150.0, 600.0])  # below the 400-mode threshold and past it (kappa = 0)
    analytic = kernel_learning_curve_jacobian(times, **params)["generalization_error"]["ridge"]
    forward = [(kernel_learning_curve_statistics(times, **dict(params, ridge=h))["generalization_error"]
                - kernel_learning_curve_statistics(times, **params)["generalization_error"]) / h for h in (1e-8, 1e-10)]
    # forward differences converge onto it (first-order error: 100x smaller step, ~100x closer where the
    # curvature dominates the rounding)
    gaps = [np.abs(f - analytic) / np.abs(analytic) for f in forward]
    assert np.all(gaps[1] < 2e-5) and gaps[1][-1] < 0.1 * gaps[0][-1], gaps


def test_no_data_and_the_clipped_link_have_zero_derivatives():
    params = dict(CASES[0], ceiling=0.9)
    d = kernel_learning_curve_jacobian(np.array([-5.0, 0.0]), **params)
    for observable in d:
        for name, value in d[observable].items():
            expected = {"chance": 1.0, "ceiling": 0.0}.get(name, 0.0) if observable == "heldout_behavior" else 0.0
            np.testing.assert_allclose(value, expected, atol=1e-12, err_msg=f"{observable} / {name}")


def test_fit_problem_jacobian_matches_its_finite_differences():
    # the derivatives chained through the time mapping and the unit box, as the fitter uses them
    from neurolearn.fitting import simulate_statistics
    from neurolearn.fitting.problem import build_problem
    from neurolearn.theory import MODELS

    model = MODELS["kernel-learning-curve"]
    truth = CASES[0]
    stats = simulate_statistics(model, truth, n_sessions=12, se={"generalization_error": 0.01,
                                                                "heldout_behavior": 0.01},
                                time_scale=20.0, onset=0.5, random_state=1)
    problem = build_problem(stats, model)
    assert problem.has_jacobian
    rng = np.random.default_rng(2)
    for u in rng.uniform(0.1, 0.9, size=(3, problem.n_free)):
        analytic = problem.jacobian(u)
        numeric = np.empty_like(analytic)
        for j in range(problem.n_free):
            step = np.zeros(problem.n_free)
            step[j] = 1e-6
            numeric[:, j] = (problem.residuals(u + step) - problem.residuals(u - step)) / 2e-6
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6 * np.abs(numeric).max())


def test_bad_parameters_raise_fit_error():
    from neurolearn.errors import FitError

    with pytest.raises(FitError, match="eigen_decay > 0"):
        kernel_learning_curve_jacobian(TIMES, **dict(CASES[0], eigen_decay=0.0))


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_with_the_derivatives_reaches_the_finite_difference_fits_minimum(seed):
    # the same statistics fitted with the model's derivatives and with them dropped (forward differences, as
    # before the model declared them): the same minimum, to the optimiser's tolerance
    import warnings
    from dataclasses import replace

    import neurolearn as nl
    from neurolearn.fitting import simulate_statistics
    from neurolearn.theory import MODELS

    model = MODELS["kernel-learning-curve"]
    truth = CASES[0]
    stats = simulate_statistics(model, truth, n_sessions=16, se={"generalization_error": 0.01,
                                                                "heldout_behavior": 0.02},
                                time_scale=15.0, onset=0.5, random_state=seed)
    fixed = {"ridge": truth["ridge"], "time_scale": 15.0, "onset": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analytic = nl.fit(stats, model, fixed=fixed, interval=None, learner_covariance=False, random_state=seed)
        numeric = nl.fit(stats, replace(model, jacobian=None), fixed=fixed, interval=None, learner_covariance=False,
                         random_state=seed)
    assert analytic.success and numeric.success
    assert analytic.chi2 <= numeric.chi2 * (1 + 1e-6) + 1e-9
    assert abs(analytic.chi2 - numeric.chi2) <= 1e-5 * numeric.chi2
    for name in ("eigen_decay", "target_decay", "chance", "ceiling"):
        assert analytic.params[name] == pytest.approx(numeric.params[name], rel=1e-3), name
