"""The integrator reduction: closed-form outlier dynamics, and agreement with the trained RNN."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares, minimize_scalar

import neurolearn as nl
from neurolearn.errors import FitError
from neurolearn.simulate.rnn import simulate_integrator_sessions
from neurolearn.theory.integrator import MODEL, integrator_loss, integrator_statistics, outlier_trajectory


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.95])
def test_outlier_trajectory_solves_its_ode(rho):
    t = np.linspace(0.0, 3.0, 31)
    sol = solve_ivp(lambda _, y: (rho - y) / (1 - y * rho) ** 3, (0, 3), [0.0], t_eval=t,
                    rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(outlier_trajectory(t, rho), sol.y[0], atol=2e-4)


def test_ode_is_gradient_flow_on_the_envelope_of_the_loss():
    # d lambda/d tau must equal -d/d lambda min_a L(a, lambda), computed here by numeric minimisation
    rho = 0.9

    def envelope(lam):
        return minimize_scalar(lambda a: integrator_loss(a, lam, rho), bounds=(-5, 5), method="bounded").fun

    for lam in (0.1, 0.5, 0.8):
        h = 1e-4
        slope = -(envelope(lam + h) - envelope(lam - h)) / (2 * h)
        assert slope == pytest.approx((rho - lam) / (1 - lam * rho) ** 3, rel=1e-3)


def test_statistics_limits():
    rho = 0.9
    out = integrator_statistics(np.array([0.0, 1e4]), rho_star=rho, readout_rate=1e6, bulk=0.2, dt=0.05)
    # start: nothing learned, eigenvalue at the bulk; end: the target filter itself, lambda = rho*
    assert out["behavior"][0] == pytest.approx(0.0, abs=1e-9)
    assert out["outlier_eigenvalue"][0] == pytest.approx(0.2)
    assert out["behavior"][1] == pytest.approx(1.0, abs=1e-6)
    assert out["timescale"][1] == pytest.approx(-0.05 / np.log(rho), rel=1e-6)


def test_model_is_registered_and_predicts_named_statistics():
    model = nl.theory.get_model("integrator")
    assert model is MODEL
    ds = model.predict(np.linspace(0, 5, 11), rho_star=0.95)
    assert set(ds.data_vars) == {"behavior", "outlier_eigenvalue", "timescale"}
    assert set(ds.data_vars) <= set(nl.data.STATISTIC_NAMES)
    assert np.all(np.diff(ds["outlier_eigenvalue"].values) >= 0)
    with pytest.raises(FitError, match="unknown parameters"):
        model.predict([0.0], rate=1.0)


def _r2(observed, predicted):
    return 1.0 - np.sum((observed - predicted) ** 2) / np.sum((observed - observed.mean()) ** 2)


def test_reduced_model_tracks_the_trained_network():
    # sessions -> behaviour (1 - normalised loss) and the slow eigenvalue and timescale measured from the
    # recorded activity by stats.dynamics (linear dynamics with the recorded input as a regressor);
    # the reduced model fitted as neurolearn.fit would: time scale, onset and all model parameters (rho* is
    # effective: the network's slow mode creeps toward the target's 0.9 more slowly than one mode would)
    tree, truth = simulate_integrator_sessions(16, n_neurons=40, n_steps=150, n_trials=40, n_time=40, rng=5)
    sessions = np.arange(truth.sizes["session"], dtype=float)
    behavior = truth["behavior"].values
    from neurolearn.stats.dynamics import population_timescale

    measured = [population_timescale(c.dataset["responses"], n_components=5, input="input", n_boot=0)
                for c in tree.children.values()]
    eigen = np.array([float(m["outlier_eigenvalue"]) for m in measured])
    timescale = np.array([float(m["timescale"]) for m in measured])

    def predict(p):
        scale, onset, rho, readout_rate, bulk = p
        return integrator_statistics(scale * (sessions - onset), rho_star=rho, readout_rate=readout_rate,
                                     bulk=bulk)

    def residuals(p):
        out = predict(p)
        return np.concatenate([out["behavior"] - behavior, out["outlier_eigenvalue"] - eigen])

    fit = least_squares(
        residuals, [0.1, 0.0, 0.9, 20.0, 0.2], bounds=([1e-3, -3, 0.3, 0.5, 0], [10, 3, 0.995, 500, 0.9])
    )
    out = predict(fit.x)
    assert _r2(behavior, out["behavior"]) >= 0.9
    assert _r2(eigen, out["outlier_eigenvalue"]) >= 0.9
    assert _r2(timescale, out["timescale"]) >= 0.9
    # and the extractor reads the network's true slow eigenvalue
    np.testing.assert_allclose(eigen[4:], truth["outlier_eigenvalue"].values[4:], atol=0.02)
