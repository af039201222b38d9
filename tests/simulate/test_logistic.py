"""The overtrained two-layer network: hidden progress under the logistic loss, none under squared error."""

import numpy as np
import pytest
from sklearn.svm import SVC

from neurolearn.data import validate_recording
from neurolearn.errors import DataError
from neurolearn.simulate.logistic import simulate_overtraining_sessions, train_two_layer


def _hard_margin(responses, labels):
    # max-margin of noiseless condition means in the hidden layer's own units (stand-in for stats.margin)
    svm = SVC(kernel="linear", C=1e8).fit(responses, labels)
    w = svm.coef_[0]
    return float(np.min(labels * (responses @ w + svm.intercept_[0])) / np.linalg.norm(w))


@pytest.fixture(scope="module")
def runs():
    steps = [0, 100, 300, 1000, 3000, 10000]
    return {loss: train_two_layer(loss=loss, checkpoints=steps, rng=0) for loss in ("logistic", "mse")}


def test_training_accuracy_saturates_for_both_losses(runs):
    for run in runs.values():
        assert run.train_accuracy[0] < 0.7
        assert np.all(run.train_accuracy[-2:] == 1.0)


def test_logistic_weights_grow_like_log_t_mse_weights_stop(runs):
    logistic, mse = runs["logistic"].weight_norm, runs["mse"].weight_norm
    # implicit bias: ||w|| ~ log t, so each decade of steps adds about the same amount (from 10^3 on)
    late = np.diff(logistic[3:]) / np.diff(np.log(runs["logistic"].steps[3:]))
    assert np.all(late > 1.0) and late.max() / late.min() < 1.6
    assert mse[-1] - mse[-2] < 0.1 * (logistic[-1] - logistic[-2])


def test_margin_keeps_growing_only_for_logistic(runs):
    margins = {}
    for loss, run in runs.items():
        train = run.is_train
        margins[loss] = np.array([_hard_margin(h[train], run.target[train]) for h in run.hidden])
    # after the training set is separated (step >= 1000), the hidden-layer margin keeps rising with the
    # logistic loss and is flat (within 5%) with squared error
    assert margins["logistic"][-1] > 1.2 * margins["logistic"][3] > margins["logistic"][2]
    assert abs(margins["mse"][-1] - margins["mse"][3]) < 0.05 * margins["mse"][3]
    # the end-to-end predictor's normalised margin rises toward the max-margin value
    assert np.all(np.diff(runs["logistic"].network_margin[2:]) > 0)


def test_gradient_descent_matches_a_plain_implementation():
    # one step against an independent loop over samples
    run0 = train_two_layer(dim=3, width=4, n_train=6, n_heldout=0, separation=2.0, checkpoints=[0], rng=7)
    run1 = train_two_layer(dim=3, width=4, n_train=6, n_heldout=0, separation=2.0, checkpoints=[1], rng=7,
                           learning_rate=0.1)
    rng = np.random.default_rng(7)
    direction = rng.standard_normal(3)
    direction /= np.linalg.norm(direction)
    y = np.where(np.arange(6) % 2 == 0, 1.0, -1.0)
    X = rng.standard_normal((6, 3)) + y[:, None] * direction
    W, a = rng.standard_normal((4, 3)), rng.standard_normal(4)
    np.testing.assert_allclose(run0.hidden[0], X @ W.T / np.sqrt(3))
    grad_W, grad_a = np.zeros_like(W), np.zeros_like(a)
    for x, label in zip(X, y):
        h = W @ x / np.sqrt(3)
        f = a @ h / 2.0
        weight = -label / (1.0 + np.exp(label * f)) / 6  # d/df of mean log(1 + exp(-y f))
        grad_a += weight * h / 2.0
        grad_W += weight * np.outer(a, x) / (2.0 * np.sqrt(3))
    W1, a1 = W - 0.1 * grad_W, a - 0.1 * grad_a
    np.testing.assert_allclose(run1.hidden[0], X @ W1.T / np.sqrt(3), rtol=1e-10)
    np.testing.assert_allclose(run1.output[0], X @ W1.T @ a1 / np.sqrt(3) / 2.0, rtol=1e-10)


def test_sessions_follow_the_data_model():
    tree, truth = simulate_overtraining_sessions(5, n_trials=3, lapse=0.0, rng=1)
    assert list(tree.children) == [f"day{i:02d}" for i in range(5)]
    rec = tree["day04"].dataset["responses"]
    validate_recording(rec)
    assert {"stimulus", "target", "correct", "is_train"} <= set(rec.coords)
    assert rec.sizes["trial"] == 60 * 3
    # behaviour is the training accuracy: correct trials on trained stimuli match the network
    trained = rec["is_train"].values
    assert rec["correct"].values[trained].mean() == pytest.approx(float(truth["train_accuracy"][-1]))
    assert float(truth["behavior"][-1]) == float(truth["train_accuracy"][-1])
    assert truth["step"].values.tolist() == [0, 120, 240, 360, 480]


def test_lapses_make_behaviour_saturate_below_one():
    tree, truth = simulate_overtraining_sessions(3, n_trials=40, lapse=0.1, steps_per_session=300, rng=2)
    assert float(truth["train_accuracy"][-1]) == 1.0 and float(truth["behavior"][-1]) == pytest.approx(0.95)
    correct = tree["day02"].dataset["responses"]["correct"].values
    assert abs(correct.mean() - 0.95) < 3 * np.sqrt(0.95 * 0.05 / correct.size)


def test_bad_arguments_raise_data_errors():
    with pytest.raises(DataError, match="lapse in \\[0, 1\\]"):
        simulate_overtraining_sessions(2, lapse=1.5)
    with pytest.raises(DataError, match="loss 'logistic' or 'mse'"):
        train_two_layer(loss="hinge")
    with pytest.raises(DataError, match="non-negative checkpoint"):
        train_two_layer(checkpoints=[-1])
    with pytest.raises(DataError, match="n_sessions >= 1"):
        simulate_overtraining_sessions(0)
