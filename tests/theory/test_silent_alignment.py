"""The silent-alignment model: exact ODE, its small-initialisation sigmoid limit, the delay, the signature."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurolearn.errors import FitError
from neurolearn.theory import MODELS
from neurolearn.theory.silent_alignment import logistic_mode_strength, loss_delay, mode_strength

MODEL = MODELS["silent-alignment"]


@pytest.mark.parametrize("init_variance", [1e-6, 1e-3, 0.1, 1.0, 5.0])
def test_mode_strength_matches_high_accuracy_ode(init_variance):
    times = np.linspace(0.0, 12.0, 49)

    def rate(_, u):
        return [2.0 * (1.0 - u[0]) * np.sqrt(u[0] ** 2 + init_variance**2)]

    sol = solve_ivp(rate, (0.0, times[-1]), [0.0], t_eval=times, rtol=1e-10, atol=1e-20, method="DOP853")
    np.testing.assert_allclose(mode_strength(times, init_variance)[1:], sol.y[0][1:], rtol=1e-7)


@pytest.mark.parametrize("init_variance", [1e-8, 1e-5, 1e-3])
def test_small_initialisation_limit_is_the_saxe_sigmoid(init_variance):
    # u = P - Q with P the sigmoid from u0 = sigma^2/2 and Q <= sigma^2/2: they differ by at most ~sigma^2
    times = np.linspace(0.0, 15.0, 301)
    difference = mode_strength(times, init_variance) - logistic_mode_strength(times, init_variance / 2.0)
    assert np.max(np.abs(difference)) <= init_variance


@pytest.mark.parametrize("init_variance", [1e-6, 1e-4, 1e-2])
def test_loss_drops_after_the_logarithmic_delay(init_variance):
    times = np.linspace(0.0, 12.0, 24001)
    behavior = MODEL.predict(times, init_variance=init_variance, chance=0.0, ceiling=1.0)["behavior"].values
    half_time = times[np.argmax(behavior >= 0.5)]
    # sigmoid: u = 1 - 1/sqrt(2) at t = delay + log(2 (1 - 1/sqrt 2) / (1/sqrt 2)) / 2 = delay - 0.094
    assert half_time == pytest.approx(loss_delay(init_variance) - 0.094, abs=0.01)


@pytest.mark.parametrize("init_variance", [1e-6, 1e-4])
def test_alignment_rises_before_behaviour(init_variance):
    times = np.linspace(0.0, 12.0, 12001)
    out = MODEL.predict(times, init_variance=init_variance, d_eff=20.0, chance=0.0, ceiling=1.0)
    alignment, behavior = out["task_alignment"].values, out["behavior"].values
    midpoint = 0.5 * (alignment[0] + alignment[-1])
    align_time = times[np.argmax(alignment >= midpoint)]
    behave_time = times[np.argmax(behavior >= 0.5)]
    # alignment's midpoint needs K/sigma^2 = sqrt(1 + (u/sigma^2)^2) ~ 3.4, i.e. u ~ 3.2 sigma^2:
    # t ~ log(6.4)/2
    assert align_time == pytest.approx(0.5 * np.log(6.4), abs=0.1)
    assert behave_time - align_time > 0.5 * np.log(1.0 / init_variance) - 1.2
    assert behavior[times == align_time][0] < 0.01  # behaviour still flat while the kernel aligns


def test_large_initialisation_is_lazy():
    out = MODEL.predict([0.0, 50.0], init_variance=5.0, d_eff=20.0)
    assert float(out["task_alignment"][1] - out["task_alignment"][0]) < 0.01
    assert float(out["kernel_change"][1]) < 0.01


def test_same_family_as_lazy_rich_with_rescaled_time():
    times = np.linspace(0.0, 8.0, 17)
    for variance in (1e-3, 0.3):
        silent = MODEL.predict(times, init_variance=variance, d_eff=12.0, chance=0.4, ceiling=0.9)
        lazy_rich = MODELS["lazy-rich"].predict(variance * times, gamma0=1.0 / variance, d_eff=12.0,
                                                chance=0.4, ceiling=0.9)
        for name in MODEL.observables:
            np.testing.assert_allclose(silent[name].values, lazy_rich[name].values, rtol=1e-9, atol=1e-12)


def test_hidden_share_changes_only_the_kernel_and_a_small_hidden_layer_aligns_more():
    times = np.linspace(0.0, 40.0, 81)
    balanced = MODEL.predict(times, init_variance=1e-2, hidden_share=1.0)
    small_hidden = MODEL.predict(times, init_variance=1e-2, hidden_share=0.2)
    np.testing.assert_array_equal(small_hidden["behavior"].values, balanced["behavior"].values)
    assert np.all(small_hidden["task_alignment"].values[1:] > balanced["task_alignment"].values[1:])
    # closed form of the end point: K = [sqrt(1 + rho^2) - (1 - q) rho] / (q rho)
    rho, q = 1e-2, 0.2
    end = (np.sqrt(1 + rho**2) - (1 - q) * rho) / (q * rho)
    assert float(small_hidden["kernel_change"][-1]) == pytest.approx((end - 1) / np.sqrt(20.0), rel=1e-6)


def test_predict_function_is_fast():
    function, times = MODEL.function, np.arange(12) * 0.5
    start = time.perf_counter()
    for _ in range(200):
        function(times, init_variance=1e-3, hidden_share=0.5, d_eff=20.0, chance=0.5, ceiling=1.0)
    assert (time.perf_counter() - start) / 200 < 1e-3


@pytest.mark.parametrize("params, message", [({"init_variance": 0.0}, "init_variance > 0"),
                                             ({"d_eff": 0.0}, "d_eff >= 1"),
                                             ({"hidden_share": 2.0}, "0 < hidden_share < 2")])
def test_bad_parameters_raise_fit_error(params, message):
    values = MODEL.defaults() | params
    with pytest.raises(FitError, match=message):
        MODEL.function(np.array([0.0, 1.0]), **values)
