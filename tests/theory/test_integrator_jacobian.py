"""The integrator model's own Jacobian (that of its interpolated trajectories) against finite differences."""

import numpy as np
import pytest

from neurolearn.theory import integrator
from neurolearn.theory.integrator import MODEL

# times between stored points (multiples of the 0.004 step are kinks), one before training starts
TIMES = np.array([-0.1, 0.0011, 0.0531, 0.4317, 1.2345, 2.5019, 9.1])
POINTS = [dict(rho_star=0.9013, readout_gain=2.79, bulk=0.1, dt=0.25),
          dict(rho_star=0.7, readout_gain=11.0, bulk=0.3, dt=1.0),
          dict(rho_star=0.95, readout_gain=1.3, bulk=0.05, dt=2.0),
          dict(rho_star=0.45, readout_gain=0.5, bulk=0.2, dt=0.01)]


@pytest.mark.parametrize("values", POINTS)
def test_model_jacobian_matches_central_differences(values):
    # away from kinks (stored points, grid lines) the interpolation is smooth: central differences of the
    # prediction itself, every observable, in time and every parameter
    jac = MODEL.jacobian(TIMES, **values)
    for key in ("time", *values):
        h = 1e-7 * max(abs(values.get(key, 1.0)), 1.0)
        if key == "time":
            up, down = MODEL.function(TIMES + h, **values), MODEL.function(TIMES - h, **values)
        else:
            up = MODEL.function(TIMES, **(values | {key: values[key] + h}))
            down = MODEL.function(TIMES, **(values | {key: values[key] - h}))
        for name in MODEL.observables:
            fd = (up[name] - down[name]) / (2 * h)
            scale = np.abs(fd).max() + 1.0
            np.testing.assert_allclose(jac[name][key], fd, rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"{name} / {key}")
    # and something moves: the eigenvalue rises in time and with rho* once above the bulk
    assert np.any(jac["outlier_eigenvalue"]["time"] > 0)
    assert np.any(jac["outlier_eigenvalue"]["rho_star"] > 0)


def test_model_jacobian_on_a_grid_line_is_one_sided():
    # gain 1 lies on a grid line (log 1 = 0): the derivative is the upper cell's, a forward difference
    values = dict(rho_star=0.95, readout_gain=1.0, bulk=0.05, dt=2.0)
    jac = MODEL.jacobian(TIMES, **values)
    h = 1e-8
    up = MODEL.function(TIMES, **(values | {"readout_gain": 1.0 + h}))
    base = MODEL.function(TIMES, **values)
    for name in MODEL.observables:
        fd = (up[name] - base[name]) / h
        np.testing.assert_allclose(jac[name]["readout_gain"], fd, rtol=1e-4,
                                   atol=1e-5 * (np.abs(fd).max() + 1))


def test_fit_problem_jacobian_from_the_model_matches_its_differences():
    # FitProblem chains the model's derivatives through the time mapping, unit box and whitening
    from neurolearn.fitting import simulate_statistics
    from neurolearn.fitting.problem import build_problem

    truth = dict(rho_star=0.9, readout_gain=4.0, bulk=0.1, dt=1.0)
    stats = simulate_statistics(MODEL, truth, n_sessions=30, se={o: 0.02 for o in MODEL.observables},
                                time_scale=0.0776, onset=-0.5, random_state=0)
    problem = build_problem(stats, MODEL)
    assert problem.has_jacobian
    u = np.array([0.8583, 0.5617, 0.1313, 0.4871, 0.5117, 0.6543])
    analytic = problem.jacobian(u)
    # central differences with a step small enough (1e-8 of the box) that no session's model time crosses a
    # stored point (the fitter's 1e-5 forward steps straddle some: slopes of two segments, averaged)
    h = 1e-8
    numeric = np.column_stack([(problem.residuals(u + h * e) - problem.residuals(u - h * e)) / (2 * h)
                               for e in np.eye(u.size)])
    scale = np.abs(numeric).max(axis=0)
    assert np.all(scale > 0)
    assert np.all(np.abs(analytic - numeric).max(axis=0) <= 1e-5 * scale)


def test_screen_reads_no_jacobian_and_values_are_unchanged():
    # the Jacobian reads the model's trajectories without altering them: predictions before and after agree
    t = np.linspace(0.0, 3.0, 31)
    before = integrator.integrator_statistics(t, 0.88, 3.3, bulk=0.1)
    MODEL.jacobian(t, rho_star=0.88, readout_gain=3.3, bulk=0.1, dt=1.0)
    after = integrator.integrator_statistics(t, 0.88, 3.3, bulk=0.1)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
