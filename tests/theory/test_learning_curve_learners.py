"""The kernel-learning-curve model's learner-to-learner covariance: primal fits in the features, least squares,
the solvers' agreement, and the simulated networks' spread (split from test_learning_curve.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.errors import DataError


@pytest.fixture(autouse=True)
def _no_kept_covariances():
    # learning_curve_covariance keeps its last covariances and draws: each test computes its own (the tests that
    # patch a solver must see it used)
    import neurolearn.theory.learning_curve as lc

    lc._clear_caches()
    yield
    lc._clear_caches()


def _feature_space_errors(n_train, eigen_decay, target_decay, noise, ridge, n_learners, n_modes, seed):
    """Independent implementation: the fit in the scaled feature space ``x = sqrt(eta) z`` in the primal form
    (pseudo-inverse ridgeless, ``(X^T X + lambda I)^-1 X^T y`` with ``lambda = ridge tr(X X^T) / P``;
    learning_curve_covariance solves the dual), the same random draws."""
    k = np.arange(1, n_modes + 1, dtype=float)
    eta = k**-eigen_decay / np.sum(k**-eigen_decay)
    w = k ** (-0.5 * target_decay)
    w /= np.linalg.norm(w)
    errors = np.zeros((n_learners, len(n_train)))
    for learner in range(n_learners):  # each learner's own two streams (features, label noise)
        z = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(learner, 0))).standard_normal(
            (max(n_train), n_modes))
        noise_draws = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(learner, 1))).standard_normal(
            max(n_train))
        y = z @ w + np.sqrt(noise) * noise_draws
        for column, p in enumerate(n_train):
            if p:
                x = z[:p] * np.sqrt(eta)
                if ridge:
                    lam = ridge * np.trace(x @ x.T) / p
                    beta = np.linalg.solve(x.T @ x + lam * np.eye(n_modes), x.T @ y[:p])
                else:
                    beta = np.linalg.pinv(x) @ y[:p]  # minimum-norm readout weight on sqrt(eta) z
                errors[learner, column] = np.sum((w - np.sqrt(eta) * beta) ** 2)
    return errors


@pytest.mark.parametrize("noise, ridge", [(0.0, 0.0), (0.2, 0.0), (0.1, 0.05)])
def test_learner_covariance_matches_primal_fit(noise, ridge):
    from neurolearn.theory.learning_curve import learning_curve_covariance

    n_train = [0, 5, 12, 30]
    cov = learning_curve_covariance(n_train, 1.2, 2.5, noise=noise, ridge=ridge, n_learners=60, n_modes=50, rng=3)
    errors = _feature_space_errors(n_train, 1.2, 2.5, noise, ridge, 60, 50, 3)
    expected = np.cov(errors, rowvar=False)
    np.testing.assert_allclose(cov, expected, rtol=1e-7, atol=1e-12 * np.abs(expected).max())
    assert np.all(cov[0] == 0) and np.all(cov[:, 0] == 0)  # no data: the error is exactly 1 for every learner


@pytest.mark.parametrize("noise, ridge", [(0.1, 0.0), (0.1, 0.02), (0.0, 1e-4)])
def test_learner_covariance_matches_primal_fit_past_the_modes_with_repeated_unsorted_times(noise, ridge):
    # more examples than modes (a singular ridgeless kernel: the minimum-norm interpolant; with a ridge the
    # block conjugate gradients past the interpolation threshold), repeated and unsorted training amounts
    from neurolearn.theory.learning_curve import learning_curve_covariance

    n_train = [30, 0, 5, 70, 12, 30, 49, 51]
    cov = learning_curve_covariance(n_train, 1.2, 2.5, noise=noise, ridge=ridge, n_learners=40, n_modes=50, rng=4)
    errors = _feature_space_errors(n_train, 1.2, 2.5, noise, ridge, 40, 50, 4)
    expected = np.cov(errors, rowvar=False)
    np.testing.assert_allclose(cov, expected, rtol=1e-7, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_array_equal(cov[0], cov[5])  # the same training amount: the same errors


@pytest.mark.parametrize("ridge", [0.0, 0.01])
def test_learner_covariance_uses_the_same_learners_whatever_the_design(ridge):
    # common random numbers: a learner's draws do not depend on the largest training amount, so the
    # covariance on a subset of the amounts is the block of the covariance on all of them (same learners)
    from neurolearn.theory.learning_curve import learning_curve_covariance

    kwargs = dict(noise=0.1, ridge=ridge, n_learners=25, n_modes=40, rng=6)
    full = learning_curve_covariance([4.0, 9.0, 15.0, 33.0, 60.0], 1.3, 2.0, **kwargs)
    part = learning_curve_covariance([4.0, 9.0, 15.0], 1.3, 2.0, **kwargs)
    np.testing.assert_allclose(part, full[:3, :3], rtol=1e-9, atol=1e-14 * np.abs(full).max())


def test_learner_covariance_ridgeless_solves_by_factorisations_even_past_the_modes(monkeypatch):
    # the solver is chosen per session: sessions of at most n_modes examples (a positive definite kernel) by
    # the kernel's Cholesky factor, those past the modes (a singular kernel) by least squares in the features
    # through their Gram matrix; no session falls back to lstsq (before, every session did once the largest
    # kernel was singular)
    import neurolearn.theory.learning_curve as lc

    calls = []
    lstsq = np.linalg.lstsq

    def counting(a, b, rcond=None):
        calls.append(a.shape[0])
        return lstsq(a, b, rcond=rcond)

    monkeypatch.setattr(lc.np.linalg, "lstsq", counting)
    lc.learning_curve_covariance([4.0, 9.0, 15.0, 33.0, 40.0, 60.0, 75.0], 1.3, 2.0, noise=0.1, n_learners=6,
                                 n_modes=40, rng=1)
    assert calls == []


def _all_least_squares_covariance(n_train, eigen_decay, target_decay, noise, n_learners, n_modes, seed):
    """The ridgeless path before the per-session choice: every session by least squares on its kernel block."""
    from neurolearn.theory.learning_curve import learner_draws

    k = np.arange(1, n_modes + 1, dtype=float)
    eta = k**-eigen_decay / np.sum(k**-eigen_decay)
    w = k ** (-0.5 * target_decay)
    w /= np.linalg.norm(w)
    errors = np.zeros((n_learners, len(n_train)))
    for learner in range(n_learners):
        z, e = learner_draws(seed, learner, max(n_train), n_modes)
        y = z @ w + np.sqrt(noise) * e
        kernel = (z * eta) @ z.T
        for column, p in enumerate(n_train):
            dual = np.linalg.lstsq(kernel[:p, :p], y[:p], rcond=None)[0]
            errors[learner, column] = np.sum((w - eta * (z[:p].T @ dual)) ** 2)
    return np.cov(errors, rowvar=False)


@pytest.mark.parametrize("eigen_decay", [1.3, 2.2])
def test_learner_covariance_ridgeless_per_session_solver_agrees_with_least_squares_everywhere(eigen_decay):
    # past the interpolation threshold (the model's 400 modes, sessions up to 430 examples) the Cholesky
    # sessions agree with the least-squares solves every session had before, to the solves' round-off (the
    # blocks just below the threshold are ill-conditioned for the steeper spectrum: 3e-6 relative measured)
    from neurolearn.theory.learning_curve import learning_curve_covariance

    n_train = [14, 60, 150, 260, 350, 405, 430]
    cov = learning_curve_covariance(n_train, eigen_decay, 2.2, noise=0.05, n_learners=8, rng=2)
    expected = _all_least_squares_covariance(n_train, eigen_decay, 2.2, 0.05, 8, 400, 2)
    np.testing.assert_allclose(cov, expected, rtol=1e-5, atol=1e-10 * np.abs(expected).max())


def test_learner_errors_just_past_the_modes_match_least_squares_in_the_features():
    # one example past the modes (401 examples, 400 modes: the interpolation peak, error ~7000 for this learner)
    # the minimum-norm interpolant's error matches lstsq on the features X (the well-conditioned reference);
    # lstsq on the singular kernel block X X^T, the solve before, was 7e-4 off here
    import neurolearn.theory.learning_curve as lc

    k = np.arange(1, 401, dtype=float)
    eta = k**-1.3 / np.sum(k**-1.3)
    w = k**-1.1 / np.linalg.norm(k**-1.1)
    z, e = lc.learner_draws(0, 367, 401, 400)
    y = z @ w + np.sqrt(0.05) * e
    error = lc._learner_errors(z, y, eta, np.sqrt(eta), w, np.array([401]), 0.0)[0]
    beta = np.linalg.lstsq(z * np.sqrt(eta), y, rcond=None)[0]
    np.testing.assert_allclose(error, np.sum((w - np.sqrt(eta) * beta) ** 2), rtol=1e-6)


def test_learner_count_is_the_module_parameter_read_at_each_call(monkeypatch):
    # LEARNERS sets the model's learner covariance and learning_curve_covariance's default, at call time
    import neurolearn.theory.learning_curve as lc

    time = np.array([6.0, 15.0, 30.0])
    monkeypatch.setattr(lc, "LEARNERS", 12)
    expected = lc.learning_curve_covariance(time, 1.5, 2.0, noise=0.1, ridge=0.01, n_learners=12)
    np.testing.assert_allclose(lc.learning_curve_covariance(time, 1.5, 2.0, noise=0.1, ridge=0.01), expected,
                               rtol=1e-12)
    model = lc.kernel_learning_curve_covariance(time, 1.5, 2.0, 0.1, 0.01, 0.5, 1.0)
    np.testing.assert_allclose(model[:3, :3], expected, rtol=1e-12)


def test_learner_covariance_is_smooth_in_the_parameters():
    # the same learners at every parameter value: a small step in eigen_decay moves the covariance by a small
    # amount (independent draws would move it by its ~1/sqrt(n_learners) Monte Carlo noise)
    from neurolearn.theory.learning_curve import learning_curve_covariance

    kwargs = dict(noise=0.05, n_learners=40, n_modes=60, rng=2)
    time = [5.0, 12.0, 25.0]
    a = learning_curve_covariance(time, 1.5, 2.0, **kwargs)
    b = learning_curve_covariance(time, 1.5 + 1e-6, 2.0, **kwargs)
    np.testing.assert_allclose(b, a, rtol=1e-4)


def test_learner_covariance_ridge_solves_agree_with_direct_factorisations(monkeypatch):
    # a conjugate-gradient column that does not converge is solved directly: forcing every column there must
    # give the same covariance (to the solves' round-off)
    import neurolearn.theory.learning_curve as lc
    import neurolearn.theory.learning_curve_solvers as solvers

    args = ([0.0, 8.0, 20.0, 45.0, 90.0, 150.0], 1.4, 1.6)
    kwargs = dict(noise=0.05, ridge=0.003, n_learners=30, n_modes=120, rng=5)
    iterative = lc.learning_curve_covariance(*args, **kwargs)
    monkeypatch.setattr(solvers, "_CG_ITERATIONS", 0)
    lc._clear_caches()
    direct = lc.learning_curve_covariance(*args, **kwargs)
    np.testing.assert_allclose(iterative, direct, rtol=1e-9, atol=1e-13 * np.abs(direct).max())


@pytest.mark.parametrize("columns", [1, 3, 40])
def test_learner_covariance_ridge_solves_do_not_depend_on_the_block_of_sessions(monkeypatch, columns):
    # the conjugate-gradient columns are independent: solving the sessions one at a time, in blocks of 3 or all in
    # one block gives the default blocks' covariance to the solves' round-off
    import neurolearn.theory.learning_curve as lc
    import neurolearn.theory.learning_curve_solvers as solvers

    args = (np.arange(1.0, 80.0, 4.0), 1.4, 1.6)
    kwargs = dict(noise=0.05, ridge=0.003, n_learners=20, n_modes=60, rng=7)
    default = lc.learning_curve_covariance(*args, **kwargs)
    monkeypatch.setattr(solvers, "_BLOCK_COLUMNS", columns)
    lc._clear_caches()
    np.testing.assert_allclose(lc.learning_curve_covariance(*args, **kwargs), default, rtol=1e-10,
                               atol=1e-14 * np.abs(default).max())


def test_learner_covariance_is_the_simulated_networks_spread():
    # the network of the kernel-learning-curve model (simulate_readout_learning_sessions, its own code and
    # draws): the variance of its readout's exact error over networks at 10 and 20 examples, and the
    # correlation of the two points of one nested learning curve
    from neurolearn.simulate.two_layer import simulate_readout_learning_sessions
    from neurolearn.theory.learning_curve import learning_curve_covariance

    n_networks = 80
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # task_alignment of 8 probes whose labels all agree
        errors = np.array([simulate_readout_learning_sessions(
            1.5, 2.0, n_sessions=3, examples_per_session=10, n_modes=100, n_conditions=8, n_neurons=4, n_trials=2,
            rng=seed)[1].generalization_error[1:] for seed in range(n_networks)])
    cov = learning_curve_covariance([10, 20], 1.5, 2.0, n_learners=3000, n_modes=100, rng=1)
    centred = errors - errors.mean(axis=0)
    for i in range(2):
        # the sample variance's own SE from the fourth moment (the errors are skewed), 3000 learners' ~2.6 %
        se = np.sqrt(np.var(centred[:, i] ** 2) / n_networks + (0.026 * cov[i, i]) ** 2)
        assert abs(np.var(errors[:, i], ddof=1) - cov[i, i]) < 3.5 * se, (i, np.var(errors[:, i]), cov[i, i], se)
    assert 0.15 < cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) < 0.8  # nested sets: positively correlated


@pytest.mark.parametrize("kwargs, message", [
    ({"eigen_decay": 0.0}, "eigen_decay > 0"),
    ({"noise": -0.1}, "noise >= 0"),
    ({"n_learners": 1}, "n_learners >= 2"),
    ({"time": [[10.0]]}, "1-D array"),
])
def test_learner_covariance_bad_input_raises_data_error(kwargs, message):
    from neurolearn.theory.learning_curve import learning_curve_covariance

    args = {"time": [10.0], "eigen_decay": 1.5, "target_decay": 2.0} | kwargs
    with pytest.raises(DataError, match=message):
        learning_curve_covariance(**args)


def test_model_declares_the_learner_covariance_of_both_observables_through_the_behaviour_link():
    # one learner's behaviour is chance + (ceiling - chance)(1 - E_g) of its own error: the model's declared
    # covariance is learning_curve_covariance's, times -(ceiling - chance) for behaviour (squared on its block)
    from neurolearn.theory import get_model
    from neurolearn.theory.learning_curve import LEARNERS, kernel_learning_curve_covariance, learning_curve_covariance

    model = get_model("kernel-learning-curve")
    assert model.learner_covariance is kernel_learning_curve_covariance
    time = np.array([0.0, 10.0, 25.0, 60.0])
    cov = model.learner_covariance(time, 1.3, 2.2, 0.05, 0.0, 0.3, 0.9)
    error = learning_curve_covariance(time, 1.3, 2.2, noise=0.05, n_learners=LEARNERS, rng=0)
    assert cov.shape == (8, 8) and model.observables == ("generalization_error", "heldout_behavior")
    np.testing.assert_allclose(cov[:4, :4], error, rtol=1e-12)
    np.testing.assert_allclose(cov[:4, 4:], -0.6 * error, rtol=1e-12)
    np.testing.assert_allclose(cov[4:, 4:], 0.36 * error, rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-12 * np.abs(cov).max())  # a covariance: positive semi-definite
    # deterministic given the parameters (the fit's weights must not change from call to call), kept or not
    import neurolearn.theory.learning_curve as lc

    lc._clear_caches()
    np.testing.assert_array_equal(cov, model.learner_covariance(time, 1.3, 2.2, 0.05, 0.0, 0.3, 0.9))


def test_model_learner_covariance_bad_parameters_raise_fit_error():
    from neurolearn.errors import FitError
    from neurolearn.theory.learning_curve import kernel_learning_curve_covariance

    with pytest.raises(FitError, match="learner covariance: .*expected eigen_decay > 0"):
        kernel_learning_curve_covariance(np.array([10.0]), -1.0, 2.0, 0.0, 0.0, 0.5, 1.0)
