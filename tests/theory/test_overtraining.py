"""The overtraining reduction: closed-form margin growth, and agreement with the overtrained network."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares
from sklearn.svm import SVC

import neurolearn as nl
from neurolearn.data import condition_means, session_recordings
from neurolearn.errors import FitError
from neurolearn.simulate.logistic import simulate_overtraining_sessions
from neurolearn.theory.overtraining import MODEL, margin_scale, overtraining_statistics
from tests._helpers import r_squared


@pytest.mark.parametrize(
    "loss, rhs", [("logistic", lambda z: 1.0 / (1.0 + np.exp(z))), ("mse", lambda z: 1.0 - z)]
)
def test_margin_scale_solves_its_mode_ode(loss, rhs):
    t = np.linspace(0.0, 50.0, 26)
    sol = solve_ivp(lambda _, z: rhs(z), (0, 50), [0.0], t_eval=t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(margin_scale(t, loss), sol.y[0], atol=1e-6)


def test_logistic_margin_grows_like_log_t_and_mse_saturates():
    tau = np.exp(np.arange(5.0, 15.0))
    increments = np.diff(margin_scale(tau))
    # one unit of z per e-fold of training (z ~ log tau - log log tau)
    np.testing.assert_allclose(increments, 1.0, atol=0.02)
    assert margin_scale(1e6, "mse") == pytest.approx(1.0) and margin_scale(1e6) > 13
    with pytest.raises(FitError, match="loss 'logistic' or 'mse'"):
        margin_scale(1.0, "hinge")


def test_model_is_registered_and_flips_are_between_consecutive_times():
    model = nl.theory.get_model("overtraining")
    assert model is MODEL
    assert set(model.observables) <= set(nl.data.STATISTIC_NAMES)
    t = np.array([0.0, 10.0, 20.0, 40.0])
    ds = model.predict(t, flip_noise=0.0)
    held = ds["heldout_accuracy"].values
    np.testing.assert_allclose(ds["flip_fraction"].values[1:], np.diff(held))
    assert ds["behavior"].values[-1] > 0.999 and np.all(np.diff(ds["margin"].values) > 0)


def _measure(tree, rng):
    """Plain numpy/sklearn readouts of each session (stand-ins for neurolearn.stats.readout)."""
    out = {name: [] for name in ("behavior", "margin", "decoder_accuracy", "heldout_accuracy")}
    scale = None
    for child in tree.children.values():
        rec = child.dataset["responses"]
        trained = rec["is_train"].values
        out["behavior"].append(rec["correct"].values[trained].mean())
        means = condition_means(rec, "stimulus")
        labels = rec["target"].groupby(rec["stimulus"]).first().values
        scale = means.values.std() if scale is None else scale  # common units: first session's scale
        svm = SVC(kernel="linear", C=100.0).fit(means.values / scale, labels)
        w = svm.coef_[0]
        distances = labels * (means.values / scale @ w + svm.intercept_[0]) / np.linalg.norm(w)
        out["margin"].append(np.min(distances))
        X, y = rec.values, rec["target"].values.astype(float)
        stimulus = rec["stimulus"].values
        folds = rng.permutation(X.shape[0]) % 4
        out["decoder_accuracy"].append(
            np.mean([_ridge_accuracy(X, y, folds != k, folds == k) for k in range(4)])
        )
        stimulus_folds = rng.permutation(np.unique(stimulus)) % 4
        fold_of_trial = stimulus_folds[np.searchsorted(np.unique(stimulus), stimulus)]
        out["heldout_accuracy"].append(
            np.mean([_ridge_accuracy(X, y, fold_of_trial != k, fold_of_trial == k) for k in range(4)])
        )
    return {k: np.asarray(v) for k, v in out.items()}


def _ridge_accuracy(X, y, train, test, ridge=1.0):
    mean = X[train].mean(0)
    Xc = X[train] - mean
    gram = Xc.T @ Xc + ridge * train.sum() * np.eye(X.shape[1])
    w = np.linalg.solve(gram, Xc.T @ (y[train] - y[train].mean()))
    return np.mean(np.sign((X[test] - mean) @ w + y[train].mean()) == y[test])


def _fit(measured, names):
    sessions = np.arange(len(measured["behavior"]), dtype=float)
    param_names = [p.name for p in MODEL.parameters]

    def predict(p):
        return overtraining_statistics(p[0] * (sessions - p[1]), **dict(zip(param_names, p[2:])))

    def residuals(p):
        out = predict(p)
        return np.concatenate([np.nan_to_num((out[n] - measured[n]) / np.nanstd(measured[n])) for n in names])

    lower = [1e-3, -5] + [p.bounds[0] for p in MODEL.parameters]
    upper = [1e3, 5] + [p.bounds[1] for p in MODEL.parameters]
    fits = [least_squares(residuals, [c0, 0.0, *MODEL.defaults().values()], bounds=(lower, upper))
            for c0 in (0.3, 3.0, 30.0)]
    best = min(fits, key=lambda f: f.cost)
    return best.x, predict(best.x)


def test_reduced_model_tracks_the_overtrained_network():
    tree, _ = simulate_overtraining_sessions(16, n_trials=16, rng=4)
    names = ["behavior", "margin", "decoder_accuracy", "heldout_accuracy"]
    measured = _measure(tree, np.random.default_rng(0))
    _, predicted = _fit(measured, names)
    for name in names:
        assert r_squared(measured[name], predicted[name]) >= 0.9, name


def _noiseless_margin(means, labels):
    """Hard margin of the condition means (an independent SVM, not the extractor's hull/Richardson code)."""
    svm = SVC(kernel="linear", C=1e10, tol=1e-10).fit(means, labels)
    w = svm.coef_[0]
    assert np.min(labels * (means @ w + svm.intercept_[0])) > 0.999  # the hard margin, not a soft one
    return 1.0 / np.linalg.norm(w)


@pytest.mark.slow
def test_reduced_model_tracks_the_network_through_the_stats_readouts():
    # the same check with the package's extractors (readout_summary: CV logistic decoders, leave-stimulus-out
    # accuracy, the margin of the noise-removed condition means in common units, flips between consecutive
    # sessions). Trial noise 1.5 keeps the decoders off their ceiling. The margin estimates the noiseless
    # means' margin; its own trial scatter about that estimand (SD 0.05-0.10 common units at 16 trials,
    # 0.04-0.06 at 32, 0.02-0.03 at 128) caps the R2 that even the network's exact margin scores against the
    # measured one at 0.66-0.90 at 16 trials and 0.81-0.96 at 32 (12 seeds), so there no model could clear
    # 0.9; at 128 trials that ceiling is 0.96-0.985 and the fitted model reads 0.91-0.985 on the margin
    # (every observable >= 0.9 for all 12 seeds 0-11).
    from neurolearn.simulate.logistic import train_two_layer
    from neurolearn.stats.readout import readout_summary

    n_sessions, seed = 16, 3
    tree, truth = simulate_overtraining_sessions(n_sessions, n_trials=128, noise_sd=1.5, rng=seed)
    stats = readout_summary(session_recordings(tree), n_boot=0, random_state=0, n_permutations=0)  # no null needed
    names = ["behavior", "margin", "decoder_accuracy", "heldout_accuracy", "flip_fraction"]
    measured = {n: stats[n].values for n in names if n != "behavior"} | {"behavior": truth["behavior"].values}
    _, predicted = _fit(measured, names)
    for name in ("behavior", "margin", "decoder_accuracy", "heldout_accuracy"):
        assert r_squared(measured[name], predicted[name]) >= 0.9, name
    # The margin's estimand directly: the simulated network's noiseless condition means (its hidden layer on
    # the trained stimuli; simulate_overtraining_sessions trains the network first from its generator, so
    # the same seed rebuilds it -- checked bit for bit on its recorded margin) in the extractor's units.
    network = train_two_layer(dim=30, width=40, n_train=60, n_heldout=0, separation=3.0, learning_rate=0.5,
                              checkpoints=np.arange(n_sessions) * 120, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(network.network_margin, truth["network_margin"].values)  # same network
    exact = np.array([_noiseless_margin(h / stats.attrs["scale"], network.target) for h in network.hidden])
    assert r_squared(exact, predicted["margin"]) >= 0.9
    flips = measured["flip_fraction"][1:]
    assert np.mean(np.abs(predicted["flip_fraction"][1:] - flips)) < 0.03


@pytest.mark.xfail(strict=True, reason="the profile stays in the corner basin (onset at the first session, "
                                       "behavior_width at its bound) and closes short of the truth; fixed by "
                                       "starting outside-looking profile points with edge nuisances reset "
                                       "(proposed for fitting/intervals.py; benchmarks/bench_overtraining_coverage.py)")
def test_time_scale_profile_reaches_the_basin_off_the_first_session():
    # Replicate 0 of tests/test_recovery.py's design (random_state 1000). Its optimum sits in the corner basin
    # (onset ~ -0.02, behavior_width 0.01); the true time scale, in the other basin (onset ~ -0.75), is only
    # Delta chi2 0.4 above the minimum, so the 95% profile interval must hold it. Measured: [0.84, 2.07] without
    # the reset start, [0.84, 3.25] with it.
    from neurolearn.fitting import fit, recovery_study
    from neurolearn.fitting.synthetic import simulate_statistics

    table = recovery_study("overtraining", n_sessions=20, relative_se=0.05, n_replicates=1, n_starts=2,
                           random_state=1000).set_index("parameter")
    truth = table.attrs["truth"]
    # independent check of the expected answer: the chi-square with the time scale held at its truth (8 starts)
    stats = simulate_statistics(MODEL, {k: v for k, v in truth.items() if k not in ("time_scale", "onset")},
                                n_sessions=20, se=table.attrs["se"], time_scale=truth["time_scale"],
                                onset=truth["onset"], random_state=1000)
    best = fit(stats, MODEL, n_starts=8, interval=None, random_state=1).chi2
    held = fit(stats, MODEL, fixed={"time_scale": truth["time_scale"]}, n_starts=8, interval=None, random_state=1).chi2
    assert held - best < 3.84
    row = table.loc["time_scale"]
    assert row["lower"] <= truth["time_scale"] <= row["upper"], (row["lower"], row["upper"])
