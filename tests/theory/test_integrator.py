"""The integrator reduction: the 2-unit RNN's closed-form loss and gradient, its exactness for a network
trained from W = 0, the memoised grid, and agreement with the trained N-unit RNN (true eigenvalue, loss)."""

import warnings

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.errors import FitError
from neurolearn.simulate.rnn import impulse_response, train_integrator
from neurolearn.theory import integrator
from neurolearn.theory.integrator import (
    MODEL,
    integrator_statistics,
    learning_trajectory,
    rnn_loss_and_gradient,
    two_unit_flow,
)
from tests._helpers import r_squared


def _random_state(rng, scale=0.3):
    return scale * rng.standard_normal((2, 2)), rng.standard_normal(2), rng.standard_normal(2)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_closed_form_loss_is_the_impulse_response_loss(rho):
    # independent: the truncated sum over the filter computed by the simulator
    W, u, v = _random_state(np.random.default_rng(0))
    kernel = impulse_response(W, u, v, 400)
    direct = 0.5 * np.sum((kernel - rho ** np.arange(400)) ** 2)
    assert rnn_loss_and_gradient(W, u, v, rho)[0] == pytest.approx(direct, rel=1e-10)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    W, u, v = _random_state(rng)
    rho, h = 0.9, 1e-6
    _, gW, gu, gv = rnn_loss_and_gradient(W, u, v, rho)
    flat = np.concatenate([W.ravel(), u, v])
    analytic = np.concatenate([gW.ravel(), gu, gv])

    def loss(x):
        return rnn_loss_and_gradient(x[:4].reshape(2, 2), x[4:6], x[6:], rho)[0]

    numeric = np.array([(loss(flat + h * e) - loss(flat - h * e)) / (2 * h) for e in np.eye(8)])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("rho, lr, n_steps", [(0.9, 0.002, 500), (0.8, 0.003, 300)])
def test_two_unit_flow_is_the_network_trained_from_zero_recurrence(rho, lr, n_steps):
    # with W = 0 at the start every gradient stays in span(u0, v0): the N-unit network is the 2-unit one
    # (differences: the network's finite learning rate and finite loss horizon, ~3e-3 here)
    run = train_integrator(20, rho, n_steps=n_steps, learning_rate=lr, init_scale=0.0, rng=1)
    basis, _ = np.linalg.qr(np.stack([run.u[0], run.v[0]], axis=1))
    lam, loss = two_unit_flow(run.steps * lr, rho, basis.T @ run.u[0], basis.T @ run.v[0])
    np.testing.assert_allclose(lam, run.outlier_eigenvalue, atol=0.01)
    np.testing.assert_allclose(loss / run.initial_loss, run.normalized_loss, atol=0.01)


def test_memoised_grid_interpolates_the_flow():
    # off-grid parameters against the flow integrated directly at those parameters
    rho, gain = 0.8937, 3.31
    t = np.linspace(0.0, 2.0, 41)
    lam, loss = learning_trajectory(t, rho, gain)
    root = np.sqrt(gain)
    exact_lam, exact_loss = two_unit_flow(t, rho, [root, 0.0], [0.0, root])
    np.testing.assert_allclose(lam, exact_lam, atol=2e-3)
    np.testing.assert_allclose(loss * 2 * (1 - rho**2), exact_loss * 2 * (1 - rho**2), atol=2e-3)


def test_statistics_limits():
    rho = 0.9
    out = integrator_statistics(np.array([-1.0, 0.0, 24.0]), rho_star=rho, readout_gain=4.0, bulk=0.2,
                                dt=0.05)
    # start: nothing learned (u.v = 0, W = 0), eigenvalue at the bulk; late: the target filter, lambda -> rho*
    assert out["behavior"][0] == pytest.approx(0.0, abs=1e-12)
    assert out["outlier_eigenvalue"][1] == pytest.approx(0.2)
    assert out["behavior"][2] == pytest.approx(1.0, abs=1e-4)
    assert out["outlier_eigenvalue"][2] == pytest.approx(rho, abs=2e-3)
    assert out["timescale"][2] == pytest.approx(-0.05 / np.log(out["outlier_eigenvalue"][2]), rel=1e-12)


def test_model_is_registered_predicts_named_statistics_fast():
    model = nl.theory.get_model("integrator")
    assert model is MODEL
    ds = model.predict(np.linspace(0, 2, 30), rho_star=0.95)
    assert set(ds.data_vars) == {"behavior", "outlier_eigenvalue", "timescale"}
    assert set(ds.data_vars) <= set(nl.data.STATISTIC_NAMES)
    assert np.all(np.isfinite(ds["outlier_eigenvalue"].values))
    with pytest.raises(FitError, match="unknown parameters"):
        model.predict([0.0], rate=1.0)
    assert len(integrator._CACHE) > 0  # the trajectories are memoised


def _truth_statistics(run, behavior, n_steps):
    sessions = np.unique(np.linspace(0, n_steps, 8).round().astype(int))
    stats = xr.Dataset(
        {"behavior": ("session", behavior[sessions]), "behavior_se": ("session", np.full(8, 0.02)),
         "outlier_eigenvalue": ("session", run.outlier_eigenvalue[sessions]),
         "outlier_eigenvalue_se": ("session", np.full(8, 0.01))},
        coords={"session": [f"day{i}" for i in range(8)], "session_index": ("session", np.arange(8.0))},
    )
    return stats, sessions


def _fit(stats, interval):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nl.fit(stats, "integrator", observables=["behavior", "outlier_eigenvalue"],
                      fixed={"dt": 1.0, "onset": 0.0}, interval=interval, random_state=0)


def test_fit_to_a_network_trained_from_zero_recurrence_recovers_rho_star():
    # the bundled example's network (30 units, rho* = 0.9, its seed) without the bulk (init_scale = 0): the
    # reduction is exact, so its true trajectory at 8 sessions with SE 0.01 (eigenvalue) and 0.02 (behaviour)
    # fits with chi2/dof ~ 1 and rho* = 0.9 inside the 95% interval (the envelope caricature read 0.86)
    run = train_integrator(30, 0.9, n_steps=400, learning_rate=0.003, init_scale=0.0, readout_scale=2.0,
                           rng=np.random.default_rng(20261128 + 2))
    stats, _ = _truth_statistics(run, np.clip(1.0 - run.normalized_loss, 0.0, 1.0), 400)
    res = _fit(stats, "profile")
    assert res.success
    assert res.chi2 / (res.n_obs - res.n_params) < 2.0
    lo, hi = res.ci["rho_star"]
    assert lo <= 0.9 <= hi and hi - lo < 0.05


def test_reduced_model_follows_the_bundled_network_with_its_bulk():
    # the bundled example's network itself (init_scale 0.1: a bulk of radius ~0.1): the model follows the
    # dense true trajectory (R^2 >= 0.95 on eigenvalue and behaviour, chi2/dof ~ 1 at these SEs); the bulk
    # steepens the rise, which leaves rho* read 0.893 (the envelope read 0.861)
    run = train_integrator(30, 0.9, n_steps=200, learning_rate=0.006, init_scale=0.1, readout_scale=2.0,
                           rng=np.random.default_rng(20261128 + 2))
    behavior = np.clip(1.0 - run.normalized_loss, 0.0, 1.0)
    stats, sessions = _truth_statistics(run, behavior, 200)
    res = _fit(stats, None)
    assert res.success
    assert res.chi2 / (res.n_obs - res.n_params) < 2.0
    assert res.params["rho_star"] == pytest.approx(0.9, abs=0.012)
    s = np.interp(run.steps, sessions, np.arange(8))
    out = MODEL.predict(res.params["time_scale"] * s, rho_star=res.params["rho_star"],
                        readout_gain=res.params["readout_gain"], bulk=res.params["bulk"])
    assert r_squared(run.outlier_eigenvalue, out["outlier_eigenvalue"].values) >= 0.95
    assert r_squared(behavior, out["behavior"].values) >= 0.95


def _reference_loss_gradient(s, rho):
    # the loss and gradient as first written, with a Gramian function (before the step was inlined)
    def gramian(a, b, c, d, p, q):
        m11, m12, m13 = 1.0 - a * a, -2.0 * a * b, -b * b
        m21, m22, m23 = -a * c, 1.0 - a * d - b * c, -b * d
        m31, m32, m33 = -c * c, -2.0 * c * d, 1.0 - d * d
        r1, r2, r3 = p * p, p * q, q * q
        det = m11 * (m22 * m33 - m23 * m32) - m12 * (m21 * m33 - m23 * m31) + m13 * (m21 * m32 - m22 * m31)
        x1 = (r1 * (m22 * m33 - m23 * m32) - m12 * (r2 * m33 - m23 * r3) + m13 * (r2 * m32 - m22 * r3)) / det
        x2 = (m11 * (r2 * m33 - m23 * r3) - r1 * (m21 * m33 - m23 * m31) + m13 * (m21 * r3 - r2 * m31)) / det
        x3 = (m11 * (m22 * r3 - r2 * m32) - m12 * (m21 * r3 - r2 * m31) + r1 * (m21 * m32 - m22 * m31)) / det
        return x1, x2, x3

    a, b, c, d, u1, u2, v1, v2 = s
    x1, x2, x3 = gramian(a, b, c, d, u1, u2)
    y1, y2, y3 = gramian(a, c, b, d, v1, v2)
    det = (1.0 - rho * a) * (1.0 - rho * d) - rho * rho * b * c
    p11, p12, p21, p22 = (1.0 - rho * d) / det, rho * b / det, rho * c / det, (1.0 - rho * a) / det
    pu1, pu2 = p11 * u1 + p12 * u2, p21 * u1 + p22 * u2
    pv1, pv2 = p11 * v1 + p21 * v2, p12 * v1 + p22 * v2
    xv1, xv2 = x1 * v1 + x2 * v2, x2 * v1 + x3 * v2
    loss = 0.5 * (v1 * xv1 + v2 * xv2) - (v1 * pu1 + v2 * pu2) + 0.5 / (1.0 - rho * rho)
    wx11, wx12, wx21, wx22 = a * x1 + b * x2, a * x2 + b * x3, c * x1 + d * x2, c * x2 + d * x3
    return loss, (y1 * wx11 + y2 * wx21 - rho * pv1 * pu1, y1 * wx12 + y2 * wx22 - rho * pv1 * pu2,
                  y2 * wx11 + y3 * wx21 - rho * pv2 * pu1, y2 * wx12 + y3 * wx22 - rho * pv2 * pu2,
                  y1 * u1 + y2 * u2 - pv1, y2 * u1 + y3 * u2 - pv2, xv1 - pu1, xv2 - pu2)


def _reference_trajectory(rho, gain, n_points, step=integrator._STEP, max_substeps=64, start=None):
    # Heun steps of _STEP, halved for the rest of the run whenever a step would raise the loss or leave the
    # stable region, frozen past 64 substeps or once the gradient vanishes: the stored (outlier, loss)
    import math

    def heun(s, loss, g, h):
        trial = tuple(x - h * y for x, y in zip(s, g))
        _, g2 = _reference_loss_gradient(trial, rho)
        trial = tuple(x - 0.5 * h * (y + z) for x, y, z in zip(s, g, g2))
        if integrator._spectral_radius(*trial[:4]) >= 0.9999:
            return None, loss, g
        new_loss, new_g = _reference_loss_gradient(trial, rho)
        return (None, loss, g) if new_loss > loss + 1e-12 else (trial, new_loss, new_g)

    root = math.sqrt(gain)
    state = (0.0, 0.0, 0.0, 0.0, root, 0.0, 0.0, root) if start is None else tuple(start)
    loss, grad = _reference_loss_gradient(state, rho)
    outlier, losses, substeps, frozen = [0.0], [loss], 1, False
    while len(outlier) < n_points and not frozen:
        while True:
            s, l, g = state, loss, grad
            for _ in range(substeps):
                s, l, g = heun(s, l, g, step / substeps)
                if s is None:
                    break
            if s is not None:
                break
            substeps *= 2
            if substeps > max_substeps:
                frozen = True
                break
        if frozen:
            break
        state, loss, grad = s, l, g
        outlier.append(integrator._spectral_radius(*state[:4]))
        losses.append(loss)
        frozen = max(abs(x) for x in grad) < integrator._STATIONARY
    pad = n_points - len(outlier)
    return np.array(outlier + [outlier[-1]] * pad), np.array(losses + [losses[-1]] * pad)


@pytest.mark.parametrize("rho, gain, start", [
    (0.9, 4.0, None), (0.97, 1.2, None), (0.6, 25.0, None), (0.96, 5.0, None),
    (0.9, 1.0, (0.1, -0.2, 0.05, 0.3, 1.2, 0.4, -0.3, 0.9))])
def test_inlined_steps_are_the_reference_heun_bit_for_bit(rho, gain, start):
    # the 8-number trajectory's Heun steps (two_unit_flow's, any start) are inlined for speed: the same
    # arithmetic, substep halving and freezing, so the same floats (by tau = 2.4 rho* = 0.9 has halved its
    # step twice, 0.97 five times, gain 25 once; (0.96, 5) freezes)
    n_points = 600
    root = np.sqrt(gain)
    start = (0.0, 0.0, 0.0, 0.0, root, 0.0, 0.0, root) if start is None else start
    run = integrator._Trajectory(rho, gain, start=start)
    outlier, loss = run.extend(n_points)
    expected_outlier, expected_loss = _reference_trajectory(rho, gain, n_points, start=start)
    np.testing.assert_array_equal(outlier[:n_points], expected_outlier)
    np.testing.assert_array_equal(loss[:n_points], expected_loss)


@pytest.mark.parametrize("rho, gain", [(0.9, 4.0), (0.97, 1.2), (0.6, 25.0), (0.96, 5.0)])
def test_model_trajectories_are_the_reference_heun_to_rounding(rho, gain):
    # the model's own trajectories step the same flow on its invariant plane (5 numbers,
    # neurolearn.theory.integrator_symmetric): the reference's 8-number Heun steps to rounding, with the same
    # halving and freezing (their decisions compared one by one in tests/theory/test_integrator_symmetric.py)
    n_points = 600
    run = integrator._Trajectory(rho, gain)
    outlier, loss = run.extend(n_points)
    expected_outlier, expected_loss = _reference_trajectory(rho, gain, n_points)
    np.testing.assert_allclose(outlier[:n_points], expected_outlier, rtol=0, atol=1e-11)
    np.testing.assert_allclose(loss[:n_points] / loss[0], expected_loss / loss[0], rtol=0, atol=1e-11)


@pytest.mark.parametrize("rho, gain", [(0.9, 4.0), (0.97, 1.2)])
def test_screen_surrogate_is_the_reference_heun_at_its_step(rho, gain):
    # the fit screen's surrogate: the same Heun steps (on the plane, so to rounding), 4x longer, split at most
    # 4x before freezing
    n_points = 150
    run = integrator._ScreenTrajectory(rho, gain)
    outlier, loss = run.extend(n_points)
    expected = _reference_trajectory(rho, gain, n_points, step=4 * integrator._STEP, max_substeps=4)
    np.testing.assert_allclose(outlier[:n_points], expected[0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(loss[:n_points] / loss[0], expected[1] / loss[0], rtol=0, atol=1e-11)


@pytest.mark.parametrize("rho, gain, tolerance", [(0.8, 1.0, 2e-3), (0.6, 2.0, 6e-3), (0.9013, 2.79, 0.02)])
def test_screen_surrogate_approximates_the_model_and_leaves_it_alone(rho, gain, tolerance):
    # where the flow is not stiff the surrogate is the model to its coarser grid and step (max |difference|
    # measured 1.1e-3 at (0.8, 1), 4.2e-3 at (0.6, 2)); at the bundled example's fit (0.901, 2.79) it freezes
    # the creep toward rho* early (1.0e-2 in the eigenvalue)
    t = np.linspace(0.0, 3.0, 61)
    model = integrator_statistics(t, rho, gain, bulk=0.1)
    keys = set(integrator._CACHE)
    screen = MODEL.function.screen(t, rho_star=rho, readout_gain=gain, bulk=0.1, dt=1.0)
    assert set(integrator._CACHE) == keys  # its trajectories are its own
    for name in ("behavior", "outlier_eigenvalue"):
        np.testing.assert_allclose(screen[name], model[name], atol=tolerance)
        assert np.abs(screen[name] - model[name]).max() > 0  # it is a different computation
    again = integrator_statistics(t, rho, gain, bulk=0.1)
    for name in model:
        np.testing.assert_array_equal(again[name], model[name])


def test_fit_with_the_screen_surrogate_is_the_fit_with_the_model(monkeypatch):
    # the screen only chooses starts: the fit whose screen reads the surrogate (what multistart does where a
    # model's function has a ``screen``) ends where a fit screening the model itself does
    import neurolearn.fitting.multistart as multistart

    run = train_integrator(30, 0.9, n_steps=200, learning_rate=0.006, init_scale=0.1, readout_scale=2.0,
                           rng=np.random.default_rng(20261128 + 2))
    stats, _ = _truth_statistics(run, np.clip(1.0 - run.normalized_loss, 0.0, 1.0), 200)
    screened = _fit(stats, None)
    used = []
    real_screen_problem = multistart._screen_problem
    monkeypatch.setattr(multistart, "_screen_problem", lambda problem: used.append(real_screen_problem(problem))
                        or problem)
    direct = _fit(stats, None)
    # the hook was reached, and for this model it does substitute the surrogate (which the direct fit skipped)
    assert used and used[0].model.function is not MODEL.function
    assert screened.chi2 == pytest.approx(direct.chi2, rel=1e-6)
    for name, value in direct.params.items():
        assert screened.params[name] == pytest.approx(value, rel=1e-4)
