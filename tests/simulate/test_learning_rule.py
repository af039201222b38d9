"""The network trained under each learning rule: gradient descent is two_layer's network (same seed, same
trajectory); the population moments follow the reduction exactly at finite width; the Hebbian term cancels on
the symmetric training set (the hidden layer stays put, the readout learns through the fixed kernel); every
rule learns the task; the recordings carry the coords summarize needs; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from neurolearn.errors import DataError
from neurolearn.simulate.learning_rule import rule_values, simulate_learning_rule_sessions, train_with_rule
from neurolearn.simulate.transfer import transfer_probe_set
from neurolearn.simulate.two_layer import train_two_layer_linear


def test_gradient_descent_is_the_two_layer_network():
    times = [0.0, 0.3, 0.6, 1.2]
    inputs = transfer_probe_set(16, 6, rng=0)
    reference = train_two_layer_linear(times, richness=2.0, input_dim=6, n_hidden=600, n_recorded=40, rng=7)
    run = train_with_rule(times, "gd", inputs=inputs, richness=2.0, n_hidden=600, n_recorded=40, rng=7)
    np.testing.assert_array_equal(run.recorded_units, reference.recorded_units)
    np.testing.assert_allclose(run.recorded_weights, reference.recorded_weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(1.0 - run.readout_direction[:, 0], reference.residual, rtol=1e-9, atol=1e-12)


def _moment_ode(run, times, gamma0, feedback, hebbian):
    """The reduction in full (D-dimensional beta, v; D x D M) from the network's own initial moments."""
    d = run.readout_direction.shape[1]
    p, s, g = 1.0 - hebbian, np.sqrt(1.0 - feedback**2), run.moments["G"]
    target = np.eye(d)[0]

    def rate(_, y):
        beta, m, a, c, v = y[:d], y[d:d + d * d].reshape(d, d), y[-d - 2], y[-d - 1], y[-d:]
        r = target - beta
        k = p * (feedback * gamma0 * beta + s * v)
        dm = gamma0 * (np.outer(r, k) + np.outer(k, r))
        return np.concatenate([(m + p * (feedback * a + s * c) * np.eye(d)) @ r, dm.ravel(),
                               [2 * gamma0**2 * beta @ r, gamma0 * v @ r], gamma0 * p * (feedback * c + s * g) * r])

    start = np.concatenate([run.readout_direction[0], run.hidden_kernel[0].ravel(),
                            [run.moments["A"][0], run.moments["C"][0]], run.moments["v"][0]])
    sol = solve_ivp(rate, (0.0, times[-1]), start, t_eval=times, rtol=1e-10, atol=1e-12, method="DOP853")
    return sol.y[:d].T, sol.y[d:d + d * d].T.reshape(-1, d, d), sol.y[-d - 2], sol.y[-d - 1], sol.y[-d:].T


@pytest.mark.parametrize("rule", ["gd", "fa", (0.6, 0.4)])
def test_population_moments_follow_the_reduction_exactly_at_finite_width(rule):
    # 300 units: far from the wide limit, yet the moments obey the closed system (the derivation, checked)
    times = np.array([0.0, 0.4, 1.0, 2.0])
    feedback, hebbian = rule_values(rule)
    run = train_with_rule(times, rule, inputs=transfer_probe_set(12, 5, rng=1), richness=2.0, n_hidden=300, rng=3)
    beta, kernel, power, overlap, aligned = _moment_ode(run, times, 2.0, feedback, hebbian)
    # to the network's own RK4 error (about 1e-6 at its step of 0.046), against values of order 1
    np.testing.assert_allclose(run.readout_direction, beta, atol=1e-5)
    np.testing.assert_allclose(run.hidden_kernel, kernel, atol=1e-5)
    np.testing.assert_allclose(run.moments["A"], power, atol=1e-5)
    np.testing.assert_allclose(run.moments["C"], overlap, atol=1e-5)
    np.testing.assert_allclose(run.moments["v"], aligned, atol=1e-5)


def test_hebbian_term_cancels_on_the_symmetric_training_set():
    times = np.array([0.0, 0.5, 1.5])
    run = train_with_rule(times, "hebbian", inputs=transfer_probe_set(12, 5, rng=2), richness=3.0, n_hidden=200,
                          rng=4)
    weights = run.recorded_weights
    np.testing.assert_allclose(weights, np.broadcast_to(weights[0], weights.shape), atol=1e-12)  # it stays put
    # the readout learns through the fixed finite-width kernel: beta(t) = (I - exp(-M t)) e_1
    m = run.hidden_kernel[0]
    expected = np.array([(np.eye(5) - expm(-m * t))[:, 0] for t in times])
    np.testing.assert_allclose(run.readout_direction, expected, atol=1e-7)


@pytest.mark.parametrize("rule", ["gd", "fa", "hebbian"])
def test_every_rule_learns_the_task(rule):
    run = train_with_rule([0.0, 8.0], rule, inputs=transfer_probe_set(12, 5, rng=0), richness=1.0, n_hidden=1000,
                          rng=0)
    np.testing.assert_allclose(run.readout_direction[-1], np.eye(5)[0], atol=1e-3)


def test_recordings_carry_targets_and_behaviour_of_the_network():
    tree, truth = simulate_learning_rule_sessions("fa", n_sessions=4, n_neurons=30, n_hidden=400, rng=1)
    assert list(tree.children) == ["session-00", "session-01", "session-02", "session-03"]
    first, last = tree["session-00"]["responses"], tree["session-03"]["responses"]
    assert set(np.unique(first.target.values)) == {-1.0, 1.0}
    np.testing.assert_array_equal(first.neuron.values, last.neuron.values)  # tracked cells
    np.testing.assert_allclose(truth.training_time, [0.0, 0.2, 0.4, 0.6])
    assert truth.behavior[0] == pytest.approx(0.5) and truth.behavior[-1] > 0.75
    assert truth.parameters == {"gamma0": 2.0, "feedback": 0.0, "hebbian": 0.0, "d_eff": 8.0, "decision_noise": 0.4}


def test_fresh_neurons_each_session_are_units_of_the_same_layer():
    tree, _ = simulate_learning_rule_sessions("gd", n_sessions=3, n_neurons=40, n_hidden=400, tracked=False, rng=4)
    ids = [tree[key]["responses"].neuron.values for key in tree.children]
    assert not np.array_equal(ids[0], ids[1]) and all(len(set(i)) == 40 and i.max() < 400 for i in ids)


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "sgd"}, "expected one of"), ({"rule": (1.5, 0.0)}, "feedback"), ({"rule": "gd", "n_conditions": 10},
                                                                              "multiple of 4"),
    ({"rule": "gd", "n_neurons": 500, "n_hidden": 100}, "n_neurons"), ({"rule": "gd", "decision_noise": 0.0},
                                                                       "decision"),
    ({"rule": "gd", "n_sessions": 1}, "n_sessions"),
])
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(DataError, match=message):
        simulate_learning_rule_sessions(**kwargs)
