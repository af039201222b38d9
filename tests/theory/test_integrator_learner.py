"""The integrator model's learner covariance: simulated finite-width learners are the simulator's networks,
their spread is that of independently trained networks, they are read where their course is at the model's,
and the bundled example fits with it."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.simulate.rnn import train_integrator
from neurolearn.theory import integrator_learner
from neurolearn.theory.integrator import MODEL, integrator_statistics, learner_covariance, model_loss
from neurolearn.theory.integrator_learner import aligned_learners, learner_rng, simulate_learners

DATA = Path(__file__).resolve().parents[2] / "data"


def test_each_learner_is_the_simulators_network():
    # independent implementation: train_integrator's loop-by-loop BPTT, one network at a time
    steps = np.array([0, 7, 30, 61])
    beh, lam = simulate_learners(steps * 0.004, 0.85, 3.0, 0.15, width=12, n_learners=3, rate=0.004)
    for i in range(3):
        run = train_integrator(12, 0.85, n_steps=61, learning_rate=0.004, init_scale=0.15,
                               readout_scale=np.sqrt(3.0), checkpoints=steps, rng=learner_rng(i))
        np.testing.assert_allclose(lam[i], run.outlier_eigenvalue, rtol=0, atol=1e-10)
        np.testing.assert_allclose(beh[i], np.clip(1.0 - run.normalized_loss, 0.0, 1.0), rtol=0, atol=1e-10)


@pytest.mark.slow
def test_learner_spread_is_the_spread_of_independently_trained_networks():
    # the bundled example's network (30 units, rho* 0.9, readout scale 2, bulk 0.1) at half its learning rate,
    # over 40 networks of other seeds trained by the simulator: the SD of the outlier eigenvalue and behaviour
    # at each of 5 sessions agrees with the simulated learners' within 3 Monte-Carlo SEs of the difference
    # (relative SE of an SD from n draws ~ sqrt(1 / (2 (n - 1))), here 100 learners and 40 networks: 0.13)
    steps = np.array([60, 120, 170, 230, 400])
    beh, lam = simulate_learners(steps * 0.003, 0.9, 4.0, 0.1, n_learners=100, rate=0.003)
    runs = [train_integrator(30, 0.9, n_steps=400, learning_rate=0.003, init_scale=0.1, readout_scale=2.0,
                             checkpoints=steps, rng=7000 + k) for k in range(40)]
    other_lam = np.array([r.outlier_eigenvalue for r in runs])
    other_beh = np.array([np.clip(1.0 - r.normalized_loss, 0.0, 1.0) for r in runs])
    relative_se = np.sqrt(1 / (2 * 99) + 1 / (2 * 39))
    for mine, theirs in ((lam, other_lam), (beh, other_beh)):
        ratio = mine.std(axis=0, ddof=1) / theirs.std(axis=0, ddof=1)
        assert np.all(np.abs(np.log(ratio)) < 3 * relative_se), ratio
    # and the covariance's diagonal is that spread: at times where the learners' course is the model's
    cov = learner_covariance(steps * 0.003, 0.9, 4.0, 0.1, 1.0)
    assert cov.shape == (15, 15)
    np.testing.assert_allclose(cov, cov.T)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-12)


def test_learners_are_read_where_their_course_is_the_models():
    # the learners' mean log normalised loss at the read points is the model's at those times (to the
    # interpolation between two gradient steps); read at the model's times instead, they are elsewhere
    t = 0.17 * np.arange(1, 8)
    rho, gain, bulk = 0.9, 2.8, 0.07
    beh, _ = aligned_learners(t, rho, gain, bulk, model_loss=model_loss, n_learners=40)
    model = integrator_statistics(t, rho_star=rho, readout_gain=gain, bulk=bulk)["normalized_loss"]
    np.testing.assert_allclose(np.mean(np.log(1.0 - beh), axis=0), np.log(model), atol=0.02)
    unaligned, _ = simulate_learners(t, rho, gain, bulk, n_learners=40)
    assert np.max(np.abs(np.mean(np.log(1.0 - unaligned), axis=0) - np.log(model))) > 0.2


def test_covariance_is_deterministic_memoised_and_declared():
    assert MODEL.learner_covariance is learner_covariance
    t = np.array([0.0, 0.4, 0.9])
    first = learner_covariance(t, 0.9, 3.0, 0.1, 0.25)
    integrator_learner._CACHE.clear()
    again = learner_covariance(t, 0.9, 3.0, 0.1, 0.25)
    np.testing.assert_array_equal(first, again)
    # timescale = -dt / log(eigenvalue): its block is the eigenvalue's through that map, linear in dt
    np.testing.assert_allclose(learner_covariance(t, 0.9, 3.0, 0.1, 0.5)[6:, 6:], 4 * first[6:, 6:])
    with pytest.raises(nl.errors.FitError, match="rho_star"):
        learner_covariance(t, 1.2, 3.0, 0.1, 0.25)


def _bundled_statistics():
    manifest = json.loads((DATA / "examples.json").read_text(encoding="utf-8"))
    spec = manifest["datasets"]["integration"]
    read = {k: tuple(v) if isinstance(v, list) else v for k, v in spec["read"].items()}
    tree = nl.io.read_sessions([str(p) for p in sorted((DATA / "integration").glob("*.nwb"))], **read)
    return nl.summarize(tree, n_boot=200, random_state=0, **spec["summarize"]), spec


@pytest.mark.slow
def test_bundled_example_fits_within_chi_square_and_covers_rho_star():
    # the demo's fit of data/integration: weighted by the statistics alone it read rho* 0.9013 [0.9008,
    # 0.9018] with chi2 90.4 on 12 dof; with the learners' scatter (0.8998 [0.8965, 0.9033], chi2 24.6) the
    # chi2 lies inside the central 99% of chi2_12 ([3.07, 28.3]) and the interval covers the true 0.9
    from scipy.stats import chi2

    stats, spec = _bundled_statistics()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nl.fit(stats, "integrator", observables=["behavior", "outlier_eigenvalue"],
                     fixed={**spec["fixed"], "onset": 0.0}, n_starts=4, random_state=0)
    dof = res.n_obs - res.n_params
    assert res.learner_covariance is not None
    assert chi2.ppf(0.005, dof) <= res.chi2 <= chi2.ppf(0.995, dof)
    lo, hi = res.ci["rho_star"]
    assert lo <= spec["truth"]["rho_star"] <= hi


def test_learners_whose_gradient_descent_diverges_are_retrained_at_a_lower_rate():
    # a fit's search (seed 4029 of the recovery study's pipeline, its pilot) asked for rho* 0.8325 at gain
    # 26.2, where the capped rate 0.0026 overflows within a few hundred steps (the fit crashed with a
    # LinAlgError); retrained at half the rate the learners converge: their outlier eigenvalue ends within
    # 0.01 of rho* (the 2-unit flow's creep, as at the bundled settings)
    t = 1.2855 * np.arange(8)
    beh, lam = aligned_learners(t, 0.8325, 26.22, 0.06439, model_loss=model_loss, n_learners=3)
    assert np.all(np.isfinite(lam)) and np.all(np.isfinite(beh))
    assert np.all(np.abs(lam[:, -1] - 0.8325) < 0.01), lam[:, -1]
    # at a given rate (simulate_learners), divergence is the model's error, not numpy's
    with pytest.raises(nl.errors.FitError, match="diverges"):
        simulate_learners([0.0, 3.0], 0.8325, 26.22, 0.06439, width=30, n_learners=3, rate=0.0026)
