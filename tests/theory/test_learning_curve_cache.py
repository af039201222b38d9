"""learning_curve_covariance's kept covariances and draws: a kept value is the value computed afresh, and any
change of an input computes anew (the kernel-learning-curve fit evaluates the same covariances again)."""

from __future__ import annotations

import numpy as np
import pytest

import neurolearn.theory.learning_curve as lc

BASE = dict(time=[0.0, 6.0, 15.0, 33.0], eigen_decay=1.4, target_decay=2.2, noise=0.1, ridge=0.01, n_learners=12,
            n_modes=40, rng=3)


@pytest.fixture(autouse=True)
def _fresh_caches():
    lc._clear_caches()
    yield
    lc._clear_caches()


def _fresh(**kwargs):
    """The covariance computed with nothing kept (the caches emptied before and after)."""
    lc._clear_caches()
    out = lc.learning_curve_covariance(**kwargs)
    lc._clear_caches()
    return out


@pytest.mark.parametrize("change", [
    {"time": [0.0, 6.0, 15.0, 34.0]}, {"eigen_decay": 1.4 + 1e-9}, {"target_decay": 2.3}, {"noise": 0.2},
    {"ridge": 0.0}, {"n_learners": 13}, {"n_modes": 41}, {"rng": 4},
])
def test_a_changed_input_is_computed_anew(change):
    # each input is part of the key: after the base call is kept, the changed call must equal its own fresh value
    # (a key without that input would return the base's covariance)
    changed = BASE | change
    expected = _fresh(**changed)
    base = lc.learning_curve_covariance(**BASE)
    got = lc.learning_curve_covariance(**changed)
    assert not np.allclose(got, base, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15 * np.abs(expected).max())


def test_kept_covariance_equals_a_fresh_one_and_is_a_copy():
    expected = _fresh(**BASE)
    first = lc.learning_curve_covariance(**BASE)
    first[:] = np.nan  # the caller's array: the kept one is not changed
    again = lc.learning_curve_covariance(**BASE)
    np.testing.assert_allclose(again, expected, rtol=1e-12, atol=1e-15 * np.abs(expected).max())
    assert len(lc._COVARIANCES) == 1


def test_learners_count_read_at_each_call_is_in_the_key(monkeypatch):
    # the model's covariance reads LEARNERS at call time: a changed count after a kept call is computed anew
    time = np.array([6.0, 15.0, 30.0])
    monkeypatch.setattr(lc, "LEARNERS", 10)
    at_10 = lc.kernel_learning_curve_covariance(time, 1.5, 2.0, 0.1, 0.01, 0.5, 1.0)
    monkeypatch.setattr(lc, "LEARNERS", 14)
    at_14 = lc.kernel_learning_curve_covariance(time, 1.5, 2.0, 0.1, 0.01, 0.5, 1.0)
    expected = _fresh(time=time, eigen_decay=1.5, target_decay=2.0, noise=0.1, ridge=0.01, n_learners=14, rng=0)
    np.testing.assert_allclose(at_14[:3, :3], expected, rtol=1e-12)
    assert not np.allclose(at_14, at_10, rtol=1e-6)


@pytest.mark.parametrize("ridge", [0.0, 0.02])
def test_kept_draws_give_the_covariance_of_fresh_draws_whatever_the_order_of_designs(ridge):
    # the kept draws are each learner's at the largest size drawn so far: a smaller design after a larger one
    # reads their leading rows, a larger one after a smaller draws anew; both equal the fresh computation
    small = BASE | {"time": [3.0, 9.0, 20.0], "ridge": ridge}
    large = BASE | {"time": [3.0, 9.0, 20.0, 45.0, 70.0], "ridge": ridge, "eigen_decay": 1.6}
    expected_small, expected_large = _fresh(**small), _fresh(**large)
    for first, second, expected in ((small, large, expected_large), (large, small, expected_small)):
        lc._clear_caches()
        lc.learning_curve_covariance(**first)
        assert lc._DRAWS["key"] == (3, 40) and len(lc._DRAWS["draws"]) == 12
        got = lc.learning_curve_covariance(**second)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15 * np.abs(expected).max())
    assert lc._DRAWS["draws"][0][0].shape == (70, 40)


def test_draws_over_the_byte_cap_are_not_kept(monkeypatch):
    monkeypatch.setattr(lc, "_DRAW_CACHE_BYTES", 12 * 33 * 41 * 8 - 1)  # one byte short of BASE's draws
    expected = _fresh(**BASE | {"eigen_decay": 1.5})
    lc.learning_curve_covariance(**BASE)
    assert lc._DRAWS["draws"] == {}
    np.testing.assert_allclose(lc.learning_curve_covariance(**BASE | {"eigen_decay": 1.5}), expected, rtol=1e-12)


def test_cache_keeps_only_the_last_few_covariances():
    for step in range(lc._COVARIANCE_CACHE + 3):
        lc.learning_curve_covariance(**BASE | {"eigen_decay": 1.0 + 0.1 * step})
    assert len(lc._COVARIANCES) == lc._COVARIANCE_CACHE
