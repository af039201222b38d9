"""Two-layer linear networks: docs/theory.md's numbers by simulation; reduced models vs simulated recordings."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.data import session_recordings
from neurolearn.errors import DataError
from neurolearn.simulate.two_layer import (
    simulate_lazy_rich_sessions,
    simulate_readout_learning_sessions,
    simulate_silent_alignment_sessions,
    train_two_layer_linear,
    whitened_probe_set,
)
from neurolearn.theory import MODELS
from neurolearn.theory.lazy_rich import hidden_kernel_eigenvalue, ntk_eigenvalues, task_residual
from neurolearn.theory.silent_alignment import mode_strength

N_HIDDEN = 4000
# Finite-N spread of the initial tangent-kernel eigenvalue H_y(0) = (1/N) sum_i (w_i1^2 + a_i^2) with N/2
# independent antisymmetric pairs: SD = sqrt(8/N) (0.045 at N = 4000). Tolerances are 3 such SDs, carried
# through the first-order sensitivity of each quantity (dDelta/dH = -t Delta for the residual).
KERNEL_SD = np.sqrt(8.0 / N_HIDDEN)


def test_probe_set_is_whitened_centred_and_labelled():
    inputs, labels = whitened_probe_set(24, 10, rng=1)
    np.testing.assert_allclose(inputs.T @ inputs, 24 * np.eye(10), atol=1e-10)
    np.testing.assert_allclose(inputs.sum(axis=0), 0.0, atol=1e-10)
    np.testing.assert_array_equal(inputs[:, 0], labels)
    assert labels.sum() == 0


@pytest.mark.parametrize("n_conditions, input_dim, message",
                         [(9, 4, "even number"), (6, 8, "input_dim \\+ 1"), (8, 1, "input_dim >= 2")])
def test_probe_set_refuses_impossible_shapes(n_conditions, input_dim, message):
    with pytest.raises(DataError, match=message):
        whitened_probe_set(n_conditions, input_dim)


def test_reproduces_theory_reference_numbers_gamma0_1():
    # docs/theory.md: gamma0 = 1 gives Delta(0.5) = 0.338 and H_y(inf) = 2.83
    run = train_two_layer_linear([0.5, 6.0], richness=1.0, n_hidden=N_HIDDEN, rng=11)
    assert run.residual[0] == pytest.approx(task_residual(0.5, 1.0), abs=3 * 0.5 * 0.338 * KERNEL_SD)
    assert task_residual(0.5, 1.0) == pytest.approx(0.338, abs=5e-4)
    assert run.task_eigenvalue[1] == pytest.approx(2.83, abs=3 * KERNEL_SD)


def test_reproduces_theory_reference_numbers_gamma0_4():
    # docs/theory.md: gamma0 = 4 gives H_y(inf) = 8.25, H_perp(inf) = 5.12
    run = train_two_layer_linear([3.0], richness=4.0, n_hidden=N_HIDDEN, rng=12)
    assert run.residual[0] < 1e-6
    assert run.task_eigenvalue[0] == pytest.approx(8.25, abs=3 * KERNEL_SD)
    assert run.orthogonal_eigenvalue[0] == pytest.approx(5.12, abs=3 * KERNEL_SD)
    # the recorded (hidden) layer's kernel carries half of H_y along the task and 1 orthogonal to it
    expected = hidden_kernel_eigenvalue(0.0, 4.0)
    assert run.hidden_task_eigenvalue[0] == pytest.approx(expected, abs=3 * KERNEL_SD)
    assert run.hidden_orthogonal_eigenvalue[0] == pytest.approx(1.0, abs=3 * KERNEL_SD)


def test_reproduces_theory_reference_numbers_gamma0_01():
    # docs/theory.md: gamma0 = 0.1 stays at H_y ~ 2.01 with Delta(1) = 0.134 (theory: 0.1348)
    run = train_two_layer_linear([1.0, 6.0], richness=0.1, n_hidden=N_HIDDEN, rng=13)
    assert run.residual[0] == pytest.approx(0.134, abs=3 * 1.0 * 0.134 * KERNEL_SD)
    assert run.task_eigenvalue[1] == pytest.approx(ntk_eigenvalues(0.0, 0.1)[0], abs=3 * KERNEL_SD)


def test_small_initialisation_follows_the_mode_strength():
    variance = 1e-3
    times = np.array([1.0, 2.0, 3.0, 3.5, 4.0, 6.0])
    run = train_two_layer_linear(times, richness=1.0, init_scale=np.sqrt(variance), n_hidden=N_HIDDEN, rng=14)
    learned = 1.0 - run.residual
    # the delay log(1/sigma^2)/2 shifts by half the relative spread of the initial mode strength
    # P(0) = (|a|^2 + |v|^2)/(4N), SD sqrt(2/N) relative: |du| <= 3 * 0.5 * sqrt(2/N) * du/dt
    theory = mode_strength(times, variance)
    slope = 2 * (1 - theory) * np.sqrt(theory**2 + variance**2)
    assert np.all(np.abs(learned - theory) <= 3 * 0.5 * np.sqrt(2.0 / N_HIDDEN) * slope + 1e-4)


@pytest.mark.parametrize("hidden_share", [0.3, 1.8])
def test_unbalanced_small_initialisation_kernel_follows_the_derivation(hidden_share):
    # u depends on rho = (sigma_a^2 + sigma_w^2)/2 only; the hidden kernel's task eigenvalue is
    # sqrt(u^2 + rho^2) - (1 - q) rho and its orthogonal eigenvalue stays q rho (silent_alignment docstring)
    rho, times = 1e-2, np.array([1.0, 2.5, 4.0])
    run = train_two_layer_linear(times, richness=1.0, init_scale=np.sqrt(hidden_share * rho),
                                 readout_scale=np.sqrt((2 - hidden_share) * rho), n_hidden=N_HIDDEN, rng=16)
    u = mode_strength(times, rho)
    slope = 2 * (1 - u) * np.sqrt(u**2 + rho**2)
    spread = 3 * 0.5 * np.sqrt(2.0 / N_HIDDEN) * slope + 3 * rho * np.sqrt(2.0 / N_HIDDEN)
    assert np.all(np.abs((1 - run.residual) - u) <= spread)
    expected = np.sqrt(u**2 + rho**2) - (1 - hidden_share) * rho
    assert np.all(np.abs(run.hidden_task_eigenvalue - expected) <= spread + 1e-3)
    np.testing.assert_allclose(run.hidden_orthogonal_eigenvalue, hidden_share * rho, rtol=3 * KERNEL_SD)


def test_training_refuses_bad_arguments():
    with pytest.raises(DataError, match="non-decreasing times"):
        train_two_layer_linear([1.0, 0.5])
    with pytest.raises(DataError, match="even n_hidden"):
        train_two_layer_linear([1.0], n_hidden=7)
    with pytest.raises(DataError, match="richness, init_scale and readout_scale > 0"):
        train_two_layer_linear([1.0], richness=0.0)


def test_session_tree_has_the_recording_schema_and_truth():
    tree, truth = simulate_lazy_rich_sessions(2.0, n_sessions=4, n_conditions=24, n_neurons=30, n_trials=3,
                                              n_hidden=200, rng=5)
    recordings = session_recordings(tree)
    assert list(recordings) == ["session-00", "session-01", "session-02", "session-03"]
    first = recordings["session-00"]
    assert first.sizes == {"trial": 72, "neuron": 30}
    assert {"stimulus", "target", "correct", "start_time", "stop_time"} <= set(first.coords)
    assert set(np.unique(first["target"].values)) == {-1, 1}
    np.testing.assert_allclose(truth.training_time, [0.0, 0.2, 0.4, 0.6])
    assert truth.condition_kernels.shape == (4, 24, 24)
    assert truth.parameters == {"gamma0": 2.0, "d_eff": 20.0, "chance": 0.5, "ceiling": 1.0}
    # neuron ids are the same tracked units every session
    np.testing.assert_array_equal(recordings["session-03"]["neuron"].values, first["neuron"].values)
    # same seed, same data
    again, _ = simulate_lazy_rich_sessions(2.0, n_sessions=4, n_conditions=24, n_neurons=30, n_trials=3,
                                           n_hidden=200, rng=5)
    np.testing.assert_array_equal(session_recordings(again)["session-02"].values,
                                  recordings["session-02"].values)


def test_simulation_refuses_more_recorded_neurons_than_hidden_units():
    with pytest.raises(DataError, match="n_neurons <= n_hidden"):
        simulate_lazy_rich_sessions(1.0, n_neurons=300, n_hidden=200)


def measure_statistics(tree):
    """Per-session statistics measured by the package's extractors, as a user would (no bootstrap)."""
    from threadpoolctl import threadpool_limits

    from neurolearn import summarize

    with threadpool_limits(1):  # small kernels: BLAS threads only add contention on a shared machine
        statistics = summarize(tree, target="target", by="stimulus", behavior="correct", n_boot=0,
                               readout=False, dynamics=False, scheduler="synchronous")
    return {name: statistics[name].values for name in ("task_alignment", "kernel_change", "behavior")}


def r_squared(measured, predicted):
    measured, predicted = np.concatenate(measured), np.concatenate(predicted)
    return 1.0 - np.sum((measured - predicted) ** 2) / np.sum((measured - measured.mean()) ** 2)


def _theory_vs_simulation(simulate, settings):
    measured, predicted = {}, {}
    for index, setting in enumerate(settings):
        tree, truth = simulate(**setting, n_neurons=200, n_hidden=2000, rng=100 + index)
        model = MODELS[truth.model]
        prediction = model.predict(truth.training_time, **truth.parameters)
        for name, values in measure_statistics(tree).items():
            measured.setdefault(name, []).append(values)
            predicted.setdefault(name, []).append(prediction[name].values)
    return {name: r_squared(measured[name], predicted[name]) for name in measured}


def test_lazy_rich_model_predicts_simulated_recordings():
    # lazy, intermediate and rich networks pooled (a lazy network alone has flat alignment: no variance)
    scores = _theory_vs_simulation(simulate_lazy_rich_sessions, [{"gamma0": g} for g in (0.1, 1.0, 4.0)])
    assert all(score >= 0.9 for score in scores.values()), scores


def test_silent_alignment_model_predicts_simulated_recordings():
    settings = [{"init_variance": 1e-3}, {"init_variance": 1e-2},
                {"init_variance": 1e-2, "hidden_share": 0.4}, {"init_variance": 0.1, "hidden_share": 1.6}]
    scores = _theory_vs_simulation(simulate_silent_alignment_sessions, settings)
    assert all(score >= 0.9 for score in scores.values()), scores


def test_simulated_alignment_rises_before_behaviour_at_small_initialisation():
    tree, truth = simulate_silent_alignment_sessions(1e-4, n_neurons=200, n_hidden=1000, rng=3)
    statistics = measure_statistics(tree)
    alignment, behavior = statistics["task_alignment"], truth.behavior
    first_aligned = np.argmax(alignment > 0.5 * (alignment[0] + alignment[-1]))
    first_behaving = np.argmax(behavior > 0.5 * (behavior[0] + behavior[-1]))
    assert first_behaving - first_aligned >= 3, (alignment.round(2), behavior.round(2))


def test_kernel_learning_curve_model_predicts_simulated_readout_learning():
    # the theory is of the error averaged over training sets: average independent learners ("animals")
    errors, behavior = [], []
    for seed in range(12):
        tree, truth = simulate_readout_learning_sessions(1.5, 2.0, examples_per_session=4, n_neurons=20,
                                                         n_trials=10, rng=seed)
        errors.append(truth.generalization_error)
        recordings = session_recordings(tree).values()
        # every probe is novel by default (heldout all True): every trial's fraction correct is the held-out one
        assert all(recording["heldout"].values.all() for recording in recordings)
        behavior.append([recording["correct"].values.mean() for recording in recordings])
    prediction = MODELS["kernel-learning-curve"].predict(truth.training_time, **truth.parameters)
    assert r_squared([np.mean(errors, axis=0)], [prediction["generalization_error"].values]) >= 0.9
    assert r_squared([np.mean(behavior, axis=0)], [prediction["heldout_behavior"].values]) >= 0.9
    # and beyond the first session, where the curve is shaped by the spectrum rather than by the drop from 1
    assert r_squared([np.mean(errors, axis=0)[1:]], [prediction["generalization_error"].values[1:]]) >= 0.8


def test_simulated_sessions_round_trip_through_nwb(tmp_path):
    from neurolearn import read_sessions
    from neurolearn.simulate.nwb import write_sessions_nwb

    tree, _ = simulate_lazy_rich_sessions(4.0, n_sessions=2, n_conditions=22, n_neurons=12, n_trials=2,
                                          n_hidden=100, rng=8)
    paths = write_sessions_nwb(tree, tmp_path, kind="ophys", rng=0)
    back = session_recordings(read_sessions([str(p) for p in paths]))
    for original, read in zip(session_recordings(tree).values(), back.values()):
        np.testing.assert_allclose(read.values, original.values, atol=1e-9)
        np.testing.assert_array_equal(read["target"].values, original["target"].values)
        np.testing.assert_array_equal(read["correct"].values, original["correct"].values)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: simulate_silent_alignment_sessions(0.0), "init_variance > 0"),
        (lambda: simulate_lazy_rich_sessions(1.0, chance=1.5, n_hidden=20, n_neurons=4),
         "chance and ceiling"),
        (lambda: simulate_readout_learning_sessions(eigen_decay=-1.0), "eigen_decay > 0"),
    ],
)
def test_simulators_refuse_bad_settings(call, message):
    with pytest.raises(DataError, match=message):
        call()


def test_many_sessions_get_valid_consecutive_dates():
    tree, _ = simulate_lazy_rich_sessions(1.0, n_sessions=70, session_interval=0.01, n_conditions=22,
                                          n_neurons=4, n_trials=1, n_hidden=20, rng=0)
    starts = [r.attrs["session_start_time"] for r in session_recordings(tree).values()]
    assert starts[0] == "2026-01-01T09:00:00" and starts[-1] == "2026-03-11T09:00:00"


def test_only_gamma0_times_target_amplitude_matters():
    # dDelta/dt = -2 sqrt(1 + gamma0^2 (y - Delta)^2) Delta: Delta/y depends on gamma0 y alone
    times = np.array([0.25, 0.5, 1.0])
    run = train_two_layer_linear(times, richness=1.0, target_scale=2.0, n_hidden=N_HIDDEN, rng=15)
    tolerance = 3 * times * task_residual(times, 2.0) * KERNEL_SD
    assert np.all(np.abs(run.residual / 2.0 - task_residual(times, 2.0)) <= tolerance)


def test_readout_learning_sessions_write_the_held_out_column_and_the_target_value():
    settings = dict(n_sessions=4, examples_per_session=10, n_conditions=40, n_neurons=30, rng=7)
    tree, truth = simulate_readout_learning_sessions(**settings)
    probed, probed_truth = simulate_readout_learning_sessions(trained_probes=True, **settings)
    modes = np.arange(1, 401, dtype=float)
    eta = modes**-1.5 / np.sum(modes**-1.5)
    weights = modes**-1.0 / np.linalg.norm(modes**-1.0)
    for index, key in enumerate(tree.children):
        rec, rec_probed = tree[key].dataset["responses"], probed[key].dataset["responses"]
        assert rec.heldout.values.all()  # by default the readout learns from a separate stream
        value = (truth.probe_inputs @ weights)[rec.stimulus.values]
        np.testing.assert_allclose(rec.target_value.values, value, rtol=1e-12)
        np.testing.assert_array_equal(np.sign(rec.target_value.values), rec.target.values)
        # the same random numbers either way; the first n_train probes are the trained ones
        np.testing.assert_array_equal(rec.values, rec_probed.values)
        count = 10 * index
        np.testing.assert_array_equal(rec_probed.heldout.values, rec_probed.stimulus.values >= count)
        if count:
            # independent min-norm interpolant in feature space on the trained probes
            z = probed_truth.probe_inputs[:count]
            fitted = eta * (z.T @ np.linalg.pinv((z * eta) @ z.T) @ (z @ weights))
            assert probed_truth.generalization_error[index] == pytest.approx(np.sum((weights - fitted) ** 2),
                                                                              rel=1e-6)
    with pytest.raises(DataError, match="trained_probes needs n_conditions"):
        simulate_readout_learning_sessions(n_sessions=5, n_conditions=40, trained_probes=True)
