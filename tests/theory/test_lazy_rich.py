"""The lazy-rich model: closed form vs a high-accuracy ODE solution, docs/theory.md's reference numbers, limits."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurolearn.errors import FitError
from neurolearn.theory import MODELS
from neurolearn.theory.lazy_rich import (
    hidden_kernel_eigenvalue,
    learned_amplitude,
    ntk_alignment,
    ntk_eigenvalues,
    task_residual,
)


def _ode_residual(times, gamma0):
    """dDelta/dt = -2 sqrt(1 + gamma0^2 (1 - Delta)^2) Delta solved numerically (in log Delta, so tiny
    residuals keep their relative precision)."""

    def rate(_, log_residual):
        return [-2.0 * np.sqrt(1.0 + gamma0**2 * (1.0 - np.exp(log_residual[0])) ** 2)]

    sol = solve_ivp(rate, (0.0, times[-1]), [0.0], t_eval=times, rtol=1e-10, atol=1e-12, method="DOP853")
    return np.exp(sol.y[0])


@pytest.mark.parametrize("gamma0", [0.0, 1e-3, 0.1, 1.0, 4.0, 30.0, 100.0])
def test_closed_form_matches_high_accuracy_ode(gamma0):
    times = np.linspace(0.0, 3.0, 61)
    np.testing.assert_allclose(task_residual(times, gamma0), _ode_residual(times, gamma0), rtol=1e-8)


def test_reproduces_theory_reference_numbers():
    # docs/theory.md §2 (y = 1)
    assert task_residual(0.5, 1.0) == pytest.approx(0.338, abs=5e-4)
    h_task, h_perp = ntk_eigenvalues(task_residual(50.0, 1.0), 1.0)
    assert h_task == pytest.approx(2.83, abs=5e-3)
    h_task, h_perp = ntk_eigenvalues(task_residual(50.0, 4.0), 4.0)
    assert (h_task, h_perp) == (pytest.approx(8.25, abs=5e-3), pytest.approx(5.12, abs=5e-3))
    h_task, _ = ntk_eigenvalues(task_residual(50.0, 0.1), 0.1)
    assert h_task == pytest.approx(2.01, abs=5e-3)
    # docs/theory.md quotes 0.134; the theory gives 0.1348 (lazy limit exp(-2) = 0.1353)
    assert task_residual(1.0, 0.1) == pytest.approx(0.134, abs=1e-3)


def test_lazy_limit_is_exponential_with_frozen_kernel():
    times = np.linspace(0, 3, 7)
    np.testing.assert_allclose(task_residual(times, 1e-6), np.exp(-2 * times), rtol=1e-9)
    out = MODELS["lazy-rich"].predict(times, gamma0=1e-3, d_eff=20.0)
    np.testing.assert_allclose(out["task_alignment"], 1 / np.sqrt(20.0), atol=1e-6)
    np.testing.assert_allclose(out["kernel_change"], 0.0, atol=1e-6)


def test_rich_alignment_rises_with_learning_to_the_closed_form_end_point():
    gamma0, d_eff = 4.0, 20.0
    times = np.linspace(0, 3, 31)
    out = MODELS["lazy-rich"].predict(times, gamma0=gamma0, d_eff=d_eff, chance=0.5, ceiling=0.9)
    assert np.all(np.diff(out["task_alignment"]) >= 0) and np.all(np.diff(out["behavior"]) >= 0)
    end = np.sqrt(1 + gamma0**2)  # hidden-kernel eigenvalue along the task once Delta = 0
    assert float(out["task_alignment"][-1]) == pytest.approx(end / np.sqrt(end**2 + d_eff - 1), rel=1e-6)
    assert float(out["kernel_change"][-1]) == pytest.approx((end - 1) / np.sqrt(d_eff), rel=1e-6)
    # Delta(0) = 1 up to a few ulp (see test_negative_time_is_the_initial_state), so behaviour starts at
    # chance up to ~1e-15
    assert float(out["behavior"][0]) == pytest.approx(0.5, abs=1e-13)
    assert float(out["behavior"][-1]) == pytest.approx(0.9, abs=1e-6)


def test_predicted_statistics_equal_plain_measurements_of_the_kernel_they_describe():
    # the hidden-layer condition kernel X M X^T of a whitened, centred probe set whose first input coordinate
    # is the label, with M = diag(K, 1, ..., 1): measure its centred alignment and change plainly
    rng = np.random.default_rng(0)
    d, p, gamma0, t = 10, 24, 2.0, 0.4
    labels = np.tile([1.0, -1.0], p // 2)
    other = rng.standard_normal((p, d - 1))
    fixed = np.column_stack([np.ones(p), labels])
    other -= fixed @ np.linalg.lstsq(fixed, other, rcond=None)[0]
    x = np.column_stack([labels, np.sqrt(p) * np.linalg.qr(other)[0]])
    m0, m = np.eye(d), np.eye(d)
    m[0, 0] = hidden_kernel_eigenvalue(task_residual(t, gamma0), gamma0)
    kernel, kernel0 = x @ m @ x.T, x @ m0 @ x.T
    h = np.eye(p) - 1.0 / p
    centred, y = h @ kernel @ h, h @ labels
    alignment = y @ centred @ y / (np.linalg.norm(centred) * (y @ y))
    change = np.linalg.norm(kernel - kernel0) / np.linalg.norm(kernel0)
    out = MODELS["lazy-rich"].function(np.array([t]), gamma0=gamma0, d_eff=d, chance=0.5, ceiling=1.0)
    assert float(out["task_alignment"][0]) == pytest.approx(alignment, rel=1e-10)
    assert float(out["kernel_change"][0]) == pytest.approx(change, rel=1e-10)


def test_ntk_alignment_matches_theory_formula():
    h_task, h_perp = ntk_eigenvalues(0.2, 3.0)
    assert ntk_alignment(0.2, 3.0, 20.0) == pytest.approx(h_task / np.sqrt(h_task**2 + 19 * h_perp**2))


@pytest.mark.parametrize("gamma0", [0.0, 0.1, 2.0, 30.0, 100.0])
def test_negative_time_is_the_initial_state(gamma0):
    # Times below 0 are clipped to 0 before any arithmetic, so t = -1 and t = 0 run the same operations on
    # the same numbers: bit-exact equality is the property here (scalar calls, one code path each).
    assert float(task_residual(-1.0, gamma0)) == float(task_residual(0.0, gamma0))
    # Delta(0) = 1 holds up to rounding: the closed form is about a dozen well-conditioned operations
    # (log1p, arcsinh, cosh, sinh, divisions, all O(1) at t = 0), each within a few ulp on any libm, so
    # 64 ulp is a generous bound (this machine: 0-1 ulp), while a real error (no clipping, a wrong root)
    # is O(1).
    tolerance = 64 * np.finfo(float).eps
    np.testing.assert_allclose(task_residual([-1.0, 0.0], gamma0), [1.0, 1.0], rtol=tolerance)
    np.testing.assert_allclose(learned_amplitude([-1.0, 0.0], gamma0), [0.0, 0.0], atol=tolerance)


def test_predict_function_is_fast():
    # the fitter calls model.function thousands of times; it must stay well under a millisecond
    function, times = MODELS["lazy-rich"].function, np.arange(12) * 0.2
    start = time.perf_counter()
    for _ in range(200):
        function(times, gamma0=2.0, d_eff=20.0, chance=0.5, ceiling=1.0)
    assert (time.perf_counter() - start) / 200 < 1e-3


@pytest.mark.parametrize("params, message", [({"gamma0": -1.0}, "gamma0 >= 0"),
                                             ({"d_eff": 0.5}, "d_eff >= 1")])
def test_bad_parameters_raise_fit_error(params, message):
    values = {"gamma0": 1.0, "d_eff": 20.0, "chance": 0.5, "ceiling": 1.0} | params
    with pytest.raises(FitError, match=message):
        MODELS["lazy-rich"].function(np.array([0.0, 1.0]), **values)
