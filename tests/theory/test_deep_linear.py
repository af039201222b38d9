"""The deep-linear model: its DMFT against the lazy-rich closed form (one hidden layer) and the lazy limit,
convergence in the time step, the wide limit of the simulated network (gap shrinking with width), and R^2
through summarize_areas on every observable of every area (docs/theory.md, deep-linear section)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

from neurolearn.errors import FitError
from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
from neurolearn.stats.areas import summarize_areas
from neurolearn.theory.deep_linear import (
    DEEP_LINEAR,
    deep_linear_dmft,
    deep_linear_statistics,
    deep_linear_trajectory,
    universal_solution,
)
from neurolearn.theory.deep_linear_spectral import spectral_solution
from neurolearn.theory.lazy_rich import task_residual
from tests._helpers import r_squared

AREAS = {"V1": 1, "LM": 2}


@pytest.mark.parametrize("gamma0", [0.5, 2.0])
def test_one_hidden_layer_is_the_lazy_rich_closed_form(gamma0):
    t = np.linspace(0.0, 2.0, 21)
    out = deep_linear_trajectory(t, gamma0, 1)
    np.testing.assert_allclose(out["learned"], 1.0 - task_residual(t, gamma0), atol=1e-6)
    np.testing.assert_allclose(out["kernel"][0], np.sqrt(1.0 + gamma0**2 * out["learned"] ** 2), atol=1e-6)
    # and the DMFT, in the learning clock: Phi = sinh(2 tau), K = cosh(2 tau), to its O(dtau^2) grid error
    dmft = deep_linear_dmft(0.5, 1, 100)
    np.testing.assert_allclose(dmft["phi"], np.sinh(2.0 * dmft["tau"]), atol=1e-4)
    np.testing.assert_allclose(dmft["kernel"][0], np.cosh(2.0 * dmft["tau"]), atol=1e-4)


def test_lazy_limit_decays_as_exp_minus_depth_plus_one_with_frozen_kernels():
    t = np.linspace(0.0, 1.5, 7)
    for depth in (2, 3):
        out = deep_linear_trajectory(t, 1e-3, depth)
        np.testing.assert_allclose(1.0 - out["learned"], np.exp(-(depth + 1) * t), atol=2e-4)
        np.testing.assert_allclose(out["kernel"], 1.0, atol=1e-4)


def test_two_layer_dmft_is_the_spectral_closure_and_converges_in_the_step():
    # two independent reductions of the same network: the two-time DMFT and the ODE over W_2's spectrum
    errors = []
    for n_steps in (32, 64):
        dmft = deep_linear_dmft(0.4, 2, n_steps)
        closure = spectral_solution(dmft["tau"])
        errors.append(max(np.abs(dmft[k] - closure[k]).max() for k in ("phi", "ntk", "kernel", "gradient")))
    # trapezoid rule: O(dtau^2), measured 1.1e-3 / 2.8e-4 on Phi up to 1.6
    assert errors[1] < 1e-3 and 3.0 < errors[0] / errors[1] < 5.0, errors
    # the backward kernels mirror the forward ones, and the deeper layer's kernel grows more
    np.testing.assert_allclose(dmft["gradient"][::-1], dmft["kernel"], atol=1e-8)
    np.testing.assert_allclose(closure["gradient"][::-1], closure["kernel"], atol=1e-9)
    assert closure["kernel"][1, -1] > closure["kernel"][0, -1] > 1.0
    # dPhi/dtau is the NTK along the task
    np.testing.assert_allclose(np.gradient(closure["phi"], closure["tau"], edge_order=2), closure["ntk"], rtol=1e-3)


def test_the_clock_solves_dtau_dt_equal_gamma0_minus_phi():
    table = universal_solution(2)
    phi = CubicSpline(table["tau"], table["phi"])
    for gamma0 in (0.05, 1.0, 2.0):
        t = np.linspace(0.0, 3.0, 13)
        exact = solve_ivp(lambda _, y: [gamma0 - phi(y[0])], (0.0, 3.0), [0.0], t_eval=t, rtol=1e-12, atol=1e-15)
        out = deep_linear_trajectory(t, gamma0, 2)
        np.testing.assert_allclose(out["tau"], exact.y[0], atol=1e-5)
        np.testing.assert_allclose(out["learned"], phi(exact.y[0]) / gamma0, atol=2e-5)  # measured 8e-6 at 2.0


def test_deeper_networks_use_the_dmft_within_its_grid_error():
    out = deep_linear_trajectory(np.array([0.3, 1.0]), 1.0, 3)
    reference = deep_linear_dmft(out["tau"][-1], 3, 128)
    assert abs(out["kernel"][-1, -1] - reference["kernel"][-1, -1]) < 1e-3
    assert out["kernel"][2, -1] > out["kernel"][1, -1] > out["kernel"][0, -1] > 1.0


def test_model_is_the_wide_limit_of_the_network():
    rms = []
    for n_hidden in (200, 1000):
        gaps = []
        for seed in range(2):
            _, truth = simulate_deep_linear_sessions(1.0, n_sessions=5, session_interval=0.3, n_neurons=10,
                                                     n_hidden=n_hidden, rng=seed)
            predicted = DEEP_LINEAR.predict(truth.training_time, **truth.parameters)
            gaps += [predicted[name].values - truth.extra[name] for name in ("task_alignment", "kernel_change")]
            gaps.append(predicted["behavior"].values - truth.behavior)
        rms.append(float(np.sqrt(np.mean(np.concatenate([np.ravel(g) for g in gaps]) ** 2))))
    # measured 0.016 -> 0.0048 (the O(1/sqrt N) spread of the random hidden matrices; 0.029 -> 0.005 while the
    # simulated network started with a random output)
    assert rms[1] < 0.015 and rms[1] < rms[0] / 2, rms


def test_model_tracks_every_area_of_the_network_through_summarize():
    # the whole of both hidden layers recorded (1500 units each), R^2 measured: alignment 0.997 / 0.996 (V1 / LM),
    # kernel change 0.998 / 0.991, behaviour 0.990; at 2000 units (seeds 1, 2) alignment >= 0.998 / 0.995, kernel
    # change >= 0.998 / 0.997, behaviour 0.973 / 0.992
    tree, truth = simulate_deep_linear_sessions(1.5, n_sessions=10, n_neurons=1500, n_hidden=1500, n_conditions=8,
                                                input_dim=4, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize_areas(tree, layers=AREAS, n_boot=0, readout=False, dynamics=False)
    predicted = DEEP_LINEAR.predict(truth.training_time, **truth.parameters)
    for name in ("task_alignment", "kernel_change"):
        for area, layer in AREAS.items():
            r2 = r_squared(stats[name].sel(area=area).values, predicted[name].sel(layer=layer).values)
            assert r2 >= 0.95, (name, area, r2)
    assert r_squared(stats["behavior"].sel(area="V1").values, predicted["behavior"].values) >= 0.95


def test_bad_parameters_raise_fit_error():
    with pytest.raises(FitError, match="gamma0"):
        deep_linear_statistics(np.array([0.0, 1.0]), -1.0, 8.0, 0.4, depth=2)
    with pytest.raises(FitError, match="depth"):
        deep_linear_dmft(1.0, 0)
