"""The linear RNN trained to integrate: exact gradients, the reference learning curve, recordings."""

import numpy as np
import pytest

from neurolearn.data import validate_recording
from neurolearn.errors import DataError
from neurolearn.simulate.rnn import (
    _bptt_gradient,
    impulse_response,
    integrator_loss,
    record_rnn_activity,
    simulate_integrator_sessions,
    train_integrator,
)


def _loss(W, u, v, rho, horizon):
    # independent implementation: unroll the recursion with an impulse and sum squared errors
    h, total = np.zeros(len(u)), 0.0
    for n in range(horizon):
        h = W @ h + (u if n == 0 else 0.0)
        total += 0.5 * (v @ h - rho**n) ** 2
    return total


def test_bptt_gradient_matches_finite_differences(rng):
    N, T, rho = 5, 25, 0.8
    W = 0.4 * rng.standard_normal((N, N)) / np.sqrt(N)
    u, v = rng.standard_normal(N), rng.standard_normal(N)
    x = np.zeros((1, T))
    x[0, 0] = 1.0
    gW, gu, gv = _bptt_gradient(W, u, v, x, (rho ** np.arange(T))[None], first_scored=0)
    eps = 1e-6
    for i, j in [(0, 1), (3, 2), (4, 4)]:
        E = np.zeros_like(W)
        E[i, j] = eps
        numeric = (_loss(W + E, u, v, rho, T) - _loss(W - E, u, v, rho, T)) / (2 * eps)
        assert gW[i, j] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    e = np.eye(N)[2] * eps
    numeric_u = (_loss(W, u + e, v, rho, T) - _loss(W, u - e, v, rho, T)) / (2 * eps)
    numeric_v = (_loss(W, u, v + e, rho, T) - _loss(W, u, v - e, rho, T)) / (2 * eps)
    assert gu[2] == pytest.approx(numeric_u, rel=1e-5)
    assert gv[2] == pytest.approx(numeric_v, rel=1e-5)


def test_white_noise_gradient_averages_to_the_impulse_gradient(rng):
    # BPTT on white noise is an unbiased estimate of the expected-loss (impulse) gradient
    N, rho, horizon = 4, 0.6, 30
    W = 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)
    u, v = rng.standard_normal(N), rng.standard_normal(N)
    impulse = np.zeros((1, horizon))
    impulse[0, 0] = 1.0
    target = rho ** np.arange(horizon)
    g_exact = _bptt_gradient(W, u, v, impulse, target[None], first_scored=0)[2]
    x = rng.standard_normal((4000, 2 * horizon))
    y_star = np.stack([np.convolve(row, target)[: 2 * horizon] for row in x])
    g_noise = _bptt_gradient(W, u, v, x, y_star, first_scored=horizon)[2] / horizon
    np.testing.assert_allclose(g_noise, g_exact, atol=0.1 * np.abs(g_exact).max())


def test_impulse_loss_equals_the_closed_form_of_a_single_mode():
    # k_n = a lambda^n: L = a^2/(2(1-l^2)) - a/(1-l rho) + 1/(2(1-rho^2)) (THEORY.md section 2)
    a, lam, rho = 0.7, 0.6, 0.9
    kernel = impulse_response(np.array([[lam]]), np.array([1.0]), np.array([a]), 600)
    closed = a**2 / (2 * (1 - lam**2)) - a / (1 - lam * rho) + 1 / (2 * (1 - rho**2))
    assert integrator_loss(kernel, rho) == pytest.approx(closed, rel=1e-10)


def test_reference_learning_curve_outlier_rises_while_loss_falls():
    # THEORY.md: N = 100, rho* = 0.95, small init -> lambda ~ 0.10/0.50/0.93 at steps 50/100/150 with loss
    # 89%/71%/4% of initial. Our plain-GD run (lr 0.0026, |u|,|v| ~ 2) gives ~0.18/0.46/0.93 and 75/62/5%.
    run = train_integrator(100, 0.95, n_steps=150, checkpoints=[0, 50, 100, 150], rng=1)
    lam = run.outlier_eigenvalue
    ratio = run.loss / run.loss[0]
    assert lam[1] < 0.3 and 0.3 < lam[2] < 0.7 and 0.85 < lam[3] < 0.96
    assert 0.6 < ratio[1] < 0.95 and 0.45 < ratio[2] < 0.8 and ratio[3] < 0.1
    # the initial bulk sits at the init scale (0.1): the outlier has not left it by step 0
    assert lam[0] == pytest.approx(0.1, abs=0.03)


def _fitted_top_eigenvalue(recording, n_components=5):
    """Plain least-squares linear dynamics in the top principal components (stand-in for stats.dynamics)."""
    states = recording.transpose("trial", "time", "neuron").values
    flat = states.reshape(-1, states.shape[-1])
    _, _, vt = np.linalg.svd(flat - flat.mean(0), full_matrices=False)
    z = states @ vt[:n_components].T
    past, future = z[:, :-1].reshape(-1, n_components), z[:, 1:].reshape(-1, n_components)
    A = np.linalg.lstsq(past, future, rcond=None)[0].T
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def test_recordings_reveal_the_learned_outlier():
    W = np.diag([0.9, 0.2, 0.1, 0.0])
    rec = record_rnn_activity(W, np.ones(4), n_trials=60, n_time=80, noise_sd=0.01, rng=0)
    validate_recording(rec)
    assert rec.dims == ("trial", "neuron", "time") and rec.attrs["bin_size"] == 1.0
    assert rec["input"].dims == ("trial", "time")
    assert _fitted_top_eigenvalue(rec, n_components=4) == pytest.approx(0.9, abs=0.02)


def test_simulated_sessions_carry_ground_truth():
    tree, truth = simulate_integrator_sessions(4, n_neurons=30, n_steps=120, n_trials=20, rng=2)
    assert list(tree.children) == ["day00", "day01", "day02", "day03"]
    for child in tree.children.values():
        validate_recording(child.dataset["responses"])
    assert truth["outlier_eigenvalue"].values[-1] > truth["outlier_eigenvalue"].values[0] + 0.3
    np.testing.assert_allclose(truth["timescale"], -1.0 / np.log(truth["outlier_eigenvalue"]))
    from neurolearn.stats.dynamics import population_timescale

    last = tree["day03"].dataset["responses"]
    measured = population_timescale(last, n_components=5, input="input", n_boot=0)
    true_outlier = truth["outlier_eigenvalue"].values[-1]
    assert float(measured["outlier_eigenvalue"]) == pytest.approx(true_outlier, abs=0.02)
    assert float(measured["timescale"]) == pytest.approx(truth["timescale"].values[-1], rel=0.1)


def test_bad_arguments_raise_data_errors():
    with pytest.raises(DataError, match="rho_star in \\(0, 1\\)"):
        train_integrator(5, 1.2)
    with pytest.raises(DataError, match="input 'impulse' or 'noise'"):
        train_integrator(5, 0.5, input="sine")
    with pytest.raises(DataError, match="W of shape \\(N, N\\)"):
        record_rnn_activity(np.ones((3, 2)), np.ones(3))


def test_repeated_stimuli_share_their_input_sequence():
    rec = record_rnn_activity(0.5 * np.eye(3), np.ones(3), n_trials=6, n_time=10, repeats=3, rng=0)
    assert rec["stimulus"].values.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(rec.values[0], rec.values[2])  # no measurement noise: identical trials
    assert not np.allclose(rec.values[0], rec.values[3])
    with pytest.raises(DataError, match="repeats >= 1"):
        record_rnn_activity(np.eye(2), np.ones(2), repeats=0)
