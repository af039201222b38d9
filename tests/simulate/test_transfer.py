"""The task-switching network: before the switch it is two_layer's network (same seed, same trajectory), the
probe set has the declared structure, the recordings carry the coords summarize needs, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.transfer import new_target, simulate_transfer_sessions, train_transfer, transfer_probe_set
from neurolearn.simulate.two_layer import train_two_layer_linear


def test_before_the_switch_it_is_the_two_layer_network():
    times = [0.0, 0.3, 0.6, 1.2]
    reference = train_two_layer_linear(times, richness=2.0, input_dim=6, n_hidden=600, n_recorded=40, rng=7)
    run = train_transfer(times, switch_time=5.0, rho=-1.0, richness=2.0, input_dim=6, n_hidden=600,
                         n_recorded=40, rng=7)
    np.testing.assert_array_equal(run.recorded_units, reference.recorded_units)
    np.testing.assert_allclose(run.recorded_weights, reference.recorded_weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(1.0 - run.readout_direction[:, 0], reference.residual, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.hidden_kernel[:, 0, 0], reference.hidden_task_eigenvalue, rtol=1e-9)


def test_after_the_switch_it_learns_the_new_direction():
    for rho in (-1.0, 0.0, 0.6):
        run = train_transfer([1.0, 6.0], switch_time=1.0, rho=rho, richness=1.0, input_dim=5, n_hidden=2000, rng=0)
        np.testing.assert_allclose(run.readout_direction[-1], new_target(rho, 5), atol=1e-4)
        np.testing.assert_allclose(run.target_direction()[0], new_target(1.0, 5))


def test_probe_set_is_whitened_centred_with_two_orthogonal_balanced_labels():
    x = transfer_probe_set(16, 7, rng=3)
    np.testing.assert_allclose(x.T @ x, 16 * np.eye(7), atol=1e-10)
    np.testing.assert_allclose(x.sum(axis=0), 0.0, atol=1e-10)
    pairs = {tuple(row) for row in x[:, :2].tolist()}
    assert pairs == {(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)}


def test_recordings_carry_targets_labels_and_behaviour_of_the_network():
    tree, truth = simulate_transfer_sessions(0.6, n_pre=2, n_post=3, n_neurons=30, n_hidden=400, rng=1)
    assert len(tree.children) == 5
    first, last = tree["session-00"]["responses"], tree["session-04"]["responses"]
    np.testing.assert_array_equal(np.sign(first.target.values), first.label.values)
    assert set(np.unique(first.target.values)) == {-1.0, 1.0}
    assert sorted(np.round(np.unique(np.abs(last.target.values)), 6)) == [0.2, 1.4]  # |0.6 +- 0.8|
    np.testing.assert_array_equal(first.neuron.values, last.neuron.values)  # tracked cells
    np.testing.assert_allclose(truth.training_time, [0.0, 0.0, 0.15, 0.3, 0.45])
    assert truth.extra["reference_agreement"][0] == pytest.approx(1.0)
    assert truth.parameters["learned"] == pytest.approx(truth.extra["run"].readout_direction[0, 0])


@pytest.mark.parametrize("kwargs, message", [
    ({"rho": 1.5}, "rho"), ({"rho": np.sqrt(0.5)}, "decision boundary"), ({"rho": 0.0, "n_conditions": 10},
                                                                            "multiple of 4"),
    ({"rho": 0.0, "n_neurons": 500, "n_hidden": 100}, "n_neurons"), ({"rho": 0.0, "decision_noise": 0.0}, "decision"),
])
def test_bad_input_is_refused(kwargs, message):
    rho = kwargs.pop("rho")
    with pytest.raises(DataError, match=message):
        simulate_transfer_sessions(rho, n_post=1, **kwargs)


def test_fresh_neurons_each_session_are_units_of_the_same_layer():
    tree, _ = simulate_transfer_sessions(0.0, n_pre=1, n_post=2, n_neurons=40, n_hidden=400, tracked=False, rng=4)
    ids = [tree[key]["responses"].neuron.values for key in tree.children]
    assert not np.array_equal(ids[0], ids[1]) and all(len(set(i)) == 40 and i.max() < 400 for i in ids)
    # the same seed's tracked recording draws no extra random numbers: its first session is unchanged
    tracked, _ = simulate_transfer_sessions(0.0, n_pre=1, n_post=2, n_neurons=40, n_hidden=400, rng=4)
    np.testing.assert_array_equal(tracked["session-00"]["responses"].neuron.values, np.arange(40))


def test_training_is_the_exact_population_flow_from_its_own_initial_state():
    # the simulator integrates gradient flow (RK4 at the two_layer step rule), not finite learning-rate steps:
    # its population (beta, M, A) must follow the closed D-dimensional flow of the exact reduction,
    # dbeta = (M + A) r, dM = gamma0^2 (beta r' + r beta'), dA = 2 gamma0^2 beta.r, started from the network's
    # own finite-width initial state and integrated independently (DOP853); measured worst gap 3.4e-6 at
    # 4 000 and 32 000 units (so the model's finite-width gap is the initial state's, not the integration's)
    from scipy.integrate import solve_ivp

    d, gamma0, switch = 5, 2.0, 0.5
    times = np.array([0.0, switch, switch + 0.3, switch + 0.9])
    run = train_transfer(times, switch_time=switch, rho=0.6, richness=gamma0, input_dim=d, n_hidden=400, rng=2)

    def rate(_, y, target):
        beta, m, power = y[:d], y[d:d + d * d].reshape(d, d), y[-1]
        r = target - beta
        kernel_rate = gamma0**2 * (np.outer(beta, r) + np.outer(r, beta))
        return np.concatenate([(m + power * np.eye(d)) @ r, kernel_rate.ravel(), [2 * gamma0**2 * beta @ r]])

    start = np.concatenate([run.readout_direction[0], run.hidden_kernel[0].ravel(), [run.readout_power[0]]])
    options = dict(rtol=1e-11, atol=1e-12, method="DOP853")
    first = solve_ivp(rate, (0.0, switch), start, args=(new_target(1.0, d),), **options).y[:, -1]
    after = solve_ivp(rate, (0.0, times[-1] - switch), first, args=(new_target(0.6, d),), t_eval=times[2:] - switch,
                      **options).y.T
    exact = np.vstack([first, after])
    np.testing.assert_allclose(run.readout_direction[1:], exact[:, :d], atol=1e-5)
    np.testing.assert_allclose(run.hidden_kernel[1:].reshape(3, -1), exact[:, d:d + d * d], atol=1e-5)
    np.testing.assert_allclose(run.readout_power[1:], exact[:, -1], atol=1e-5)
