"""The large-N surrogate of the integrating RNN with its bulk: closed-form loss, the free-probability model of
the bulk, the exact 2-unit limit, and agreement with trained networks that the 2-unit reduction misses."""

import numpy as np
import pytest

from neurolearn.simulate.rnn import impulse_response, train_integrator
from neurolearn.theory.integrator import rnn_loss_and_gradient
from neurolearn.theory.integrator_bulk import (
    circular_fock_operator,
    large_n_network,
    loss_and_gradient,
    train_large_n,
)


def test_loss_is_the_impulse_response_loss_and_gradient_the_two_unit_one():
    rng = np.random.default_rng(0)
    W, u, v = 0.3 * rng.standard_normal((6, 6)), rng.standard_normal(6), rng.standard_normal(6)
    kernel = impulse_response(W, u, v, 600)
    loss, gW, gu, gv = loss_and_gradient(W, u, v, 0.8)
    assert loss == pytest.approx(0.5 * np.sum((kernel - 0.8 ** np.arange(600)) ** 2), rel=1e-10)
    # central differences of the loss
    h, flat = 1e-6, np.concatenate([W.ravel(), u, v])

    def f(x):
        return loss_and_gradient(x[:36].reshape(6, 6), x[36:42], x[42:], 0.8)[0]

    numeric = np.array([(f(flat + h * e) - f(flat - h * e)) / (2 * h) for e in np.eye(48)])
    np.testing.assert_allclose(np.concatenate([gW.ravel(), gu, gv]), numeric, rtol=1e-6, atol=1e-8)
    # 2 units: the pure-float implementation of the 2-unit model
    W2, u2, v2 = W[:2, :2], u[:2], v[:2]
    reference = rnn_loss_and_gradient(W2, u2, v2, 0.8)
    for ours, theirs in zip(loss_and_gradient(W2, u2, v2, 0.8), reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_fock_surrogate_has_the_inner_products_of_a_large_random_bulk():
    # words in W0, W0' applied to orthonormal u, v: Gram matrix of a 3000-unit Gaussian bulk (fluctuations
    # ~1/sqrt(N) = 0.02) against the surrogate's, which is exact to the depth it keeps (here 3 >= word length)
    g, n = 0.7, 3000
    rng = np.random.default_rng(1)
    W0 = g * rng.standard_normal((n, n)) / np.sqrt(n)
    basis, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    S, su, sv = large_n_network(g, [1.0, 0.0], [0.0, 1.0], depth=3)

    def words(A, x):
        At = A.T
        return [x, A @ x, At @ x, A @ (A @ x), At @ (A @ x), A @ (At @ x), At @ (At @ x)]

    big = np.stack(words(W0, basis[:, 0]) + words(W0, basis[:, 1]))
    small = np.stack(words(S, su) + words(S, sv))
    np.testing.assert_allclose(big @ big.T, small @ small.T, atol=0.06)
    assert np.abs(small @ small.T - np.eye(14) * 0).max() > 0.4  # not trivially zero


def test_fock_operator_is_a_circular_element():
    # *-moments of a circular element: phi(c^k) = 0, phi((c c*)^k) = Catalan(k) (exact while 2k <= depth)
    c = circular_fock_operator(6)
    assert np.linalg.matrix_power(c, 3)[0, 0] == 0.0
    cc = c @ c.T
    assert [np.linalg.matrix_power(cc, k)[0, 0] for k in (1, 2, 3)] == [1.0, 2.0, 5.0]


def test_without_bulk_the_surrogate_is_the_network_trained_from_zero_recurrence():
    # depth 0 = the 2-unit network; gradient descent at the simulator's learning rate is its exact discrete
    # map (the simulator's loss horizon, rho*^n < 1e-4, is the only difference)
    run = train_integrator(20, 0.9, n_steps=150, learning_rate=0.004, init_scale=0.0, rng=3)
    basis, _ = np.linalg.qr(np.stack([run.u[0], run.v[0]], axis=1))
    lam, loss = train_large_n(150, 0.9, bulk=0.0, learning_rate=0.004, u0=basis.T @ run.u[0],
                              v0=basis.T @ run.v[0])
    np.testing.assert_allclose(lam, run.outlier_eigenvalue, atol=1e-4)
    np.testing.assert_allclose(loss, run.normalized_loss, atol=1e-4)


def test_truncation_converges_in_depth():
    # compared where observable: eigenvalues inside the bulk (radius 0.1) are floored by it
    lams = [np.maximum(train_large_n(120, 0.9, 4.0, bulk=0.1, learning_rate=0.006, depth=d)[0], 0.1)
            for d in (1, 2, 3)]
    assert np.abs(lams[1] - lams[0]).max() > 1e-3  # depth matters ...
    assert np.abs(lams[2] - lams[1]).max() < 5e-4  # ... and converges like bulk^(depth + 1)


def test_bulk_changes_the_learning_course_as_trained_networks_show():
    # 4 networks of 150 units (bulk radius 0.1, the bundled learning rate): their mean outlier eigenvalue at
    # step 86 (mid-rise) against the surrogate with the bulk and without it (2-unit reduction, same steps).
    # Seed-to-seed SD at 150 units ~0.015 (0.028 at 30 units), so the mean of 4 is within ~0.01 of the limit.
    step = 86
    lams = [train_integrator(150, 0.9, n_steps=step, learning_rate=0.006, init_scale=0.1, readout_scale=2.0,
                             checkpoints=[step], rng=seed).outlier_eigenvalue[0] for seed in range(4)]
    with_bulk = train_large_n(step, 0.9, 4.0, bulk=0.1, learning_rate=0.006)[0][-1]
    without = train_large_n(step, 0.9, 4.0, bulk=0.0, learning_rate=0.006)[0][-1]
    assert abs(np.mean(lams) - with_bulk) < 0.025
    assert abs(np.mean(lams) - without) > 0.06
