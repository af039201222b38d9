"""Task alignment and task difficulty: closed forms, a textbook implementation, known-truth simulations."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.alignment import kernel_alignment, kernel_task_difficulty, task_alignment, task_difficulty


def _textbook_alignment(kernel, labels, centre_rows, centre_cols):
    """⟨LKR, LTR⟩/(‖LKR‖‖LTR‖) with explicit centring matrices and loops over entries."""
    n = kernel.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    L = H if centre_rows else np.eye(n)
    R = H if centre_cols else np.eye(n)
    task = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            task[a, b] = sum(labels[a, c] * labels[b, c] for c in range(labels.shape[1]))
    A, B = L @ kernel @ R, L @ task @ R
    inner = sum(A[a, b] * B[a, b] for a in range(n) for b in range(n))
    return inner / np.sqrt(sum(A[a, b] ** 2 for a in range(n) for b in range(n))
                           * sum(B[a, b] ** 2 for a in range(n) for b in range(n)))


def test_kernel_equal_to_task_kernel_has_alignment_one():
    y = np.array([1.0, -1.0, -1.0, 1.0, 1.0])
    for variant in ("double", "uncentred", "column"):
        assert kernel_alignment(np.outer(y, y), y, variant=variant) == pytest.approx(1.0)
    labels = np.array([0, 1, 2, 0, 1, 2])
    one_hot = (labels[:, None] == np.arange(3)).astype(float)
    assert kernel_alignment(3.5 * one_hot @ one_hot.T, labels) == pytest.approx(1.0)


@pytest.mark.parametrize("variant,centring", [("double", (True, True)), ("uncentred", (False, False)),
                                              ("column", (False, True))])
def test_random_kernels_agree_with_textbook_formula(rng, variant, centring):
    for n_classes in (2, 3):
        X = rng.standard_normal((9, 4))
        labels = rng.permutation(np.arange(9) % n_classes)
        encoded = np.where(labels == 0, 1.0, -1.0)[:, None] if n_classes == 2 else \
            (labels[:, None] == np.arange(n_classes)).astype(float)
        kernel = X @ X.T
        assert kernel_alignment(kernel, labels, variant=variant) == pytest.approx(
            _textbook_alignment(kernel, encoded, *centring))


def test_plugin_estimator_is_the_alignment_of_condition_means(rng):
    y = np.repeat([1, -1], 3)
    rec = make_recording(rng.standard_normal((6, 8)), n_trials=2, noise_sd=0.3, target=y, rng=1)
    means = np.stack([rec.values[rec.stimulus.values == p].mean(0) for p in range(6)])
    ds = task_alignment(rec, estimator="plugin")
    assert float(ds["task_alignment"]) == pytest.approx(kernel_alignment(means @ means.T, y))
    assert ds.attrs["estimator"] == "plugin" and ds.attrs["variant"] == "double"


def test_unbiased_estimator_recovers_population_alignment(rng):
    """Population: neuron i = F g_i / sqrt(D), g_i ~ N(0, I) -> population kernel F Fᵀ / D (known truth)."""
    n_cond, dims = 12, 6
    y = np.repeat([1.0, -1.0], n_cond // 2)
    F = rng.standard_normal((n_cond, dims))
    F[:, 0] += 1.2 * y
    truth = kernel_alignment(F @ F.T, y)
    unbiased, plugin = [], []
    for rep in range(40):
        means = F @ rng.standard_normal((dims, 300)) / np.sqrt(dims)
        rec = make_recording(means, n_trials=2, noise_sd=3.0, target=y, rng=rep)
        unbiased.append(float(task_alignment(rec)["task_alignment"]))
        plugin.append(float(task_alignment(rec, estimator="plugin")["task_alignment"]))
    assert abs(np.mean(unbiased) - truth) < 0.02
    assert np.mean(plugin) < truth - 0.1  # trial noise pulls the naive alignment down


def test_bootstrap_interval_and_attrs(rng):
    y = np.repeat([1.0, -1.0], 4)
    rec = make_recording(np.outer(y, rng.standard_normal(200)) + rng.standard_normal((8, 200)), n_trials=3,
                         noise_sd=1.0, target=y, rng=2)
    ds = task_alignment(rec, n_boot=300, random_state=0)
    lower, upper = ds["task_alignment_ci"].values
    assert lower < float(ds["task_alignment"]) < upper
    assert 0 < float(ds["task_alignment_se"]) < 0.2
    assert ds.attrs["n_boot"] == 300 and ds["task_alignment_ci"].attrs["level"] == 0.95
    again = task_alignment(rec, n_boot=300, random_state=0)
    assert float(again["task_alignment_se"]) == float(ds["task_alignment_se"])


def test_task_difficulty_against_plain_solve(rng):
    y = np.array([1, -1, 1, -1, 1, -1])
    X = rng.standard_normal((6, 3))
    kernel = X @ X.T
    s = np.trace(kernel) / 6
    expected = y @ np.linalg.inv(kernel / s + 0.5 * np.eye(6)) @ y / (y @ y)
    assert kernel_task_difficulty(kernel, y, ridge=0.5) == pytest.approx(expected)
    rec = make_recording(rng.standard_normal((6, 40)), n_trials=3, noise_sd=0.5, target=y, rng=3)
    stats_kernel = np.stack([rec.values[rec.stimulus.values == p].mean(0) for p in range(6)])
    plug = task_difficulty(rec, estimator="plugin", ridge=0.5)
    assert float(plug["task_difficulty"]) == pytest.approx(
        kernel_task_difficulty(stats_kernel @ stats_kernel.T / 40, y, ridge=0.5))
    boot = task_difficulty(rec, ridge=0.5, n_boot=200, random_state=1)
    assert np.isfinite(float(boot["task_difficulty_se"]))


def test_errors(rng):
    rec = make_recording(rng.standard_normal((4, 5)), n_trials=2, target=[1, 1, 1, 1], rng=0)
    with pytest.raises(DataError, match="at least two distinct values"):
        task_alignment(rec)
    with pytest.raises(DataError, match="variant"):
        task_alignment(rec, variant="diagonal")
    with pytest.raises(DataError, match="estimator"):
        task_alignment(rec, estimator="magic")
    with pytest.raises(DataError, match=r"trial coord 'label'.*available trial coords"):
        task_alignment(rec, target="label")
    with pytest.raises(DataError, match="square matrix"):
        kernel_alignment(np.eye(3), [1, -1])


def test_chance_level_is_the_mean_over_label_permutations(rng):
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    rec = make_recording(rng.standard_normal((7, 12)) + 1.0, n_trials=2, noise_sd=0.3, target=labels, rng=5)
    means = np.stack([rec.values[rec.stimulus.values == p].mean(0) for p in range(7)])
    for variant in ("double", "uncentred", "column"):
        ds = task_alignment(rec, estimator="plugin", variant=variant)
        shuffled = [kernel_alignment(means @ means.T, rng.permutation(labels), variant=variant) for _ in range(4000)]
        assert float(ds["task_alignment_chance"]) == pytest.approx(np.mean(shuffled), abs=0.01)


def test_undefined_alignment_warns_instead_of_a_silent_nan(rng):
    y = np.repeat([1.0, -1.0], 4)
    rec = make_recording(0.01 * rng.standard_normal((8, 5)), n_trials=2, noise_sd=3.0, target=y, rng=0)
    with pytest.warns(UserWarning, match="squared kernel norm .* <= 0"):
        value = float(task_alignment(rec)["task_alignment"])
    assert np.isnan(value)
