"""The grokking reduction: two-timescale limits, and agreement with the simulated network's recordings."""

import numpy as np
import pytest
from scipy.optimize import least_squares

import neurolearn as nl
from neurolearn.simulate.grokking import simulate_grokking_sessions
from neurolearn.theory.grokking import MODEL, grokking_statistics
from tests._helpers import r_squared


def test_two_timescales():
    t = np.array([0.0, 1.0, 10.0, 1e4])
    out = grokking_statistics(t, rich_rate=0.01, plateau=0.6, alignment_initial=0.1, alignment_final=0.5)
    np.testing.assert_allclose(out["behavior"], 1 - np.exp(-t))
    # after the lazy phase (tau = 10) the test loss sits near the plateau although behaviour has saturated
    assert out["behavior"][2] > 0.9999
    assert out["generalization_error"][2] == pytest.approx(0.6 * np.exp(-0.1), rel=1e-3)
    assert out["generalization_error"][0] == 1.0 and out["generalization_error"][-1] < 1e-6
    assert out["task_alignment"][0] == pytest.approx(0.1) and out["task_alignment"][-1] == pytest.approx(0.5)


def test_delay_grows_as_the_rich_rate_falls():
    t = np.linspace(0, 200, 2001)

    def time_to_generalise(rate):
        return t[np.argmax(grokking_statistics(t, rich_rate=rate, plateau=0.5)["generalization_error"] < 0.1)]

    assert time_to_generalise(0.3) < time_to_generalise(0.1) < time_to_generalise(0.03)
    # closed form: 0.5 exp(-r tau) = 0.1 once the lazy part is gone -> tau = log(5)/r
    assert time_to_generalise(0.03) == pytest.approx(np.log(5) / 0.03, abs=0.2)


def test_model_is_registered_with_statistic_names():
    model = nl.theory.get_model("grokking")
    assert model is MODEL
    ds = model.predict(np.arange(5.0))
    assert set(ds.data_vars) == {"behavior", "generalization_error", "task_alignment"}
    assert set(ds.data_vars) <= set(nl.data.STATISTIC_NAMES)


def _measure(tree):
    # behaviour = fraction of correct trials; alignment through the package's extractor (unbiased CKA)
    from neurolearn.stats.alignment import task_alignment

    behavior, alignment = [], []
    for child in tree.children.values():
        rec = child.dataset["responses"]
        alignment.append(float(task_alignment(rec, "target", "stimulus")["task_alignment"]))
        behavior.append(rec["correct"].values.mean())
    return np.array(behavior), np.array(alignment)


def _fit(sessions, behavior, error, alignment):
    def predict(p):
        scale, onset, *params = p
        return grokking_statistics(scale * (sessions - onset), *params)

    def residuals(p):
        out = predict(p)
        return np.concatenate([out["behavior"] - behavior, out["generalization_error"] - error,
                               out["task_alignment"] - alignment])

    fit = least_squares(residuals, [1.0, 0.0, 0.1, 0.5, alignment[0], alignment[-1]],
                        bounds=([1e-3, -2, 1e-4, 0, -1, -1], [100, 2, 1, 1, 1, 1]))
    return fit.x, predict(fit.x)


def test_reduced_model_tracks_the_simulated_network():
    # 13 sessions (every 50 / 100 steps): behaviour from the recorded 'correct' trials, alignment from the
    # recorded hidden layer, generalisation error from the network's exact test loss
    fitted_rates = []
    for alpha, n_steps in ((1.0, 600), (4.0, 1200)):
        tree, truth = simulate_grokking_sessions(13, alpha=alpha, n_train=150, n_steps=n_steps, rng=2)
        behavior, alignment = _measure(tree)
        error = truth["generalization_error"].values
        params, out = _fit(np.arange(13.0), behavior, error, alignment)
        assert r_squared(behavior, out["behavior"]) >= 0.9
        assert r_squared(error, out["generalization_error"]) >= 0.9
        assert r_squared(alignment, out["task_alignment"]) >= 0.9
        fitted_rates.append(params[0] * params[2] / (n_steps / 12))  # rich rate per training step
    assert fitted_rates[1] < 0.5 * fitted_rates[0]  # the lazier network aligns its features more slowly
