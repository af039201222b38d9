"""The training set counted once (fitting.training_set): a fit that adds the model's learner covariance weights
``generalization_error`` by its SE with the training stimuli held fixed, not by its default SE, whose
training-set jackknife is the variability the learner covariance adds; a fit without it keeps the default SE."""

import warnings
from dataclasses import replace

import numpy as np
import xarray as xr

from neurolearn.fitting import fit
from neurolearn.fitting.learner import learner_block, with_learner_covariance
from neurolearn.fitting.problem import build_problem
from neurolearn.fitting.training_set import (FIXED_TRAINING_SET_SE, TRAINING_CONDITIONS, fixed_training_set,
                                            training_set_unchanged)
from neurolearn.theory import Model, Parameter
from tests.fitting.conftest import CLOCK

TIMES = np.arange(10.0)
FIXED_NOTE = "held fixed"


def _decay(sd=0.01, rho=0.8):
    """``generalization_error = exp(-t / k)`` with a learner covariance of SD ``sd * exp(-t / k)``."""
    def learner(t, k):
        scale = sd * np.exp(-t / k)
        return np.outer(scale, scale) * rho ** np.abs(np.subtract.outer(t, t))

    return Model("decay", "exponential decay of the error", "E = exp(-t / k)", "",
                 (Parameter("k", 2.0, (0.3, 30.0), "decay time (sessions)", log_scale=True),),
                 ("generalization_error",), lambda t, k: {"generalization_error": np.exp(-t / k)},
                 learner_covariance=learner)


def _statistics(fixed_se=True, boot=False, seed=0):
    """Errors of a decay at k = 3 with a jackknife-inflated SE (2-3x the fixed one) and, optionally, the
    stored fixed-training-set SE (NaN at one session) and replicates."""
    rng = np.random.default_rng(seed)
    fixed = 0.004 + 0.01 * np.exp(-TIMES / 3.0)
    se = fixed * rng.uniform(2.0, 3.0, TIMES.size)
    y = np.exp(-TIMES / 3.0) + fixed * rng.standard_normal(TIMES.size)
    data_vars = {"generalization_error": ("session", y), "generalization_error_se": ("session", se)}
    if boot:
        draws = y[:, None] + se[:, None] * rng.standard_normal((TIMES.size, 300))
        data_vars["generalization_error_boot"] = (("session", "bootstrap"), draws,
                                                  {"resampling": "independent"})
    coords = {"session": [f"day{i}" for i in range(TIMES.size)], "session_index": ("session", TIMES)}
    stored = fixed.copy()
    stored[4] = np.nan  # a session without one keeps its SE
    if fixed_se:
        coords[FIXED_TRAINING_SET_SE] = ("session", stored)
    return xr.Dataset(data_vars, coords=coords), se, stored


def _values(problem, at):
    return {**at, **CLOCK}


def test_the_learner_stage_weights_by_the_fixed_training_set_se_plus_the_learner_variance():
    stats, se, stored = _statistics()
    problem = build_problem(stats, _decay(), fixed=CLOCK)
    values = problem.values(problem.unit_default())
    stage = with_learner_covariance(problem, values)
    block = np.diag(learner_block(problem, values))
    expected = np.where(np.isfinite(stored), stored, se) ** 2 + block
    np.testing.assert_allclose(stage.se[0] ** 2, expected, rtol=1e-10, atol=0)
    np.testing.assert_allclose(np.diag(stage.covariance), expected, rtol=1e-10, atol=0)
    assert any(FIXED_NOTE in note and FIXED_TRAINING_SET_SE in note and "9 sessions" in note
               for note in stage.notes)
    np.testing.assert_array_equal(problem.se[0], se)  # the statistics-only problem is not changed
    # no stored fixed SE (statistics from elsewhere): the statistic's SE, as before
    bare = build_problem(_statistics(fixed_se=False)[0], _decay(), fixed=CLOCK)
    plain = with_learner_covariance(bare, values)
    np.testing.assert_allclose(plain.se[0] ** 2, se**2 + block, rtol=1e-10, atol=0)
    assert not any(FIXED_NOTE in note for note in plain.notes)
    # a stored SE equal to the statistic's (training_set="fixed"): the very same problem
    same = build_problem(stats.assign_coords({FIXED_TRAINING_SET_SE: ("session", se)}), _decay(), fixed=CLOCK)
    assert fixed_training_set(same) is same


def test_the_replicates_correlations_are_kept_and_their_scale_is_the_fixed_se():
    stats, se, stored = _statistics(boot=True)
    problem = build_problem(stats, _decay(), fixed=CLOCK)
    assert problem.covariance is not None
    fixed = fixed_training_set(problem)
    ratio = np.where(np.isfinite(stored), stored / se, 1.0)
    np.testing.assert_allclose(fixed.covariance, problem.covariance * np.outer(ratio, ratio),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(fixed.se[0], np.where(np.isfinite(stored), stored, se), rtol=1e-12, atol=0)
    independent = build_problem(stats, _decay(), fixed=CLOCK, weights="independent")
    scaled = fixed_training_set(independent)
    np.testing.assert_allclose(scaled.sandwich_covariance,
                               independent.sandwich_covariance * np.outer(ratio, ratio), rtol=1e-12, atol=0)
    assert scaled.covariance is None


def test_the_default_fit_replaces_the_jackknife_and_an_opted_out_fit_keeps_it():
    stats, se, stored = _statistics()
    result = fit(stats, _decay(), fixed=CLOCK, random_state=0, n_starts=2)
    assert result.success, result.message
    at = _values(result._problem, result.learner_covariance)
    block = np.diag(learner_block(result._problem, at))
    expected = np.where(np.isfinite(stored), stored, se) ** 2 + block
    np.testing.assert_allclose(result._problem.se[0] ** 2, expected, rtol=1e-10, atol=0)
    assert FIXED_NOTE in result.message and FIXED_TRAINING_SET_SE in result.message
    np.testing.assert_array_equal(result._statistics_problem.se[0], se)
    # without the learner covariance the statistic's own SE (its honest uncertainty) weights the fit
    plain = fit(stats, _decay(), fixed=CLOCK, random_state=0, n_starts=2, learner_covariance=False)
    np.testing.assert_array_equal(plain._problem.se[0], se)
    assert FIXED_NOTE not in plain.message


def test_summarize_then_fit_counts_the_training_set_once():
    # the default path: summarize (training_set="jackknife") -> fit of kernel-learning-curve; its weights for
    # generalization_error are the fixed-training-set SE^2 plus the learner variance, while the statistic's SE
    # (the jackknife's) is what summarize reported
    from neurolearn.simulate.two_layer import simulate_readout_learning_sessions
    from neurolearn.stats.summary import summarize

    tree, truth = simulate_readout_learning_sessions(n_sessions=6, examples_per_session=10, n_conditions=80,
                                                     n_neurons=200, trained_probes=True, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # session 0 has no training stimuli
        stats = summarize(tree, n_boot=50, random_state=0, readout=False, dynamics=False,
                          generalization_target="target_value", scheduler="synchronous")
    stats = stats.assign_coords(training_time=("session", truth.extra["n_train"]))
    stored = stats[FIXED_TRAINING_SET_SE].values
    reported = stats["generalization_error_se"].values
    assert np.all(stored[1:] < reported[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        known = {**CLOCK, "ridge": 0.0, "chance": 0.5, "ceiling": 1.0}
        result = fit(stats, "kernel-learning-curve", fixed=known, random_state=0, n_starts=2,
                     observables=["generalization_error"])
    assert result.learner_covariance is not None, result.message
    problem = result._problem
    row = problem.observables.index("generalization_error")
    at = _values(problem, result.learner_covariance)
    diag = np.diag(learner_block(problem, at)).reshape(problem.se.shape)[row]
    used = problem.mask[row]
    np.testing.assert_allclose(problem.se[row][used] ** 2, stored[used] ** 2 + diag[used], rtol=1e-10, atol=0)
    assert FIXED_NOTE in result.message
    np.testing.assert_array_equal(stats["generalization_error_se"].values, reported)  # the statistic's own SE


def _with_training_conditions(stats, counts):
    return stats.assign_coords({TRAINING_CONDITIONS: ("session", np.asarray(counts, dtype=float))})


def _fit_warnings(stats, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(stats, _decay(), fixed=CLOCK, interval=None, random_state=0, **kwargs)
    return result, [str(w.message) for w in caught if "training conditions" in str(w.message)]


def test_a_training_set_that_never_grows_is_said_once_for_a_learning_curve_in_its_size():
    # adversary S5-10: six sessions with the same six training conditions read as a learning curve in examples
    result, warned = _fit_warnings(_with_training_conditions(_statistics()[0], np.full(TIMES.size, 6)))
    assert len(warned) == 1 and "the same 6 training conditions" in warned[0]
    assert "the same 6 training conditions" in result.message


def test_a_growing_training_set_or_declared_examples_fit_without_the_note():
    growing = _with_training_conditions(_statistics()[0], 4 + np.arange(TIMES.size))
    assert not _fit_warnings(growing)[1]
    # one session's count unknown (NaN) does not make the rest differ, nor hide equal ones
    constant = _with_training_conditions(_statistics()[0], [np.nan] + [6] * (TIMES.size - 1))
    assert len(_fit_warnings(constant)[1]) == 1
    # the user's own examples per session (time=) are a declaration: nothing to say
    assert not _fit_warnings(constant, time=TIMES * 10.0)[1]
    # and so is a coord training_time (the recovery designs' way; before, it was warned of as the session order)
    assert not _fit_warnings(constant.assign_coords(training_time=("session", TIMES * 10.0)))[1]
    # a model without a learner covariance is not a learning curve in the training set's size
    plain = build_problem(_with_training_conditions(_statistics()[0], np.full(TIMES.size, 6)),
                          replace(_decay(), learner_covariance=None), fixed=CLOCK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert training_set_unchanged(plain) is not plain  # the helper itself only reads the coord ...
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(_with_training_conditions(_statistics()[0], np.full(TIMES.size, 6)),
            replace(_decay(), learner_covariance=None), fixed=CLOCK, interval=None, random_state=0)
    assert not [w for w in caught if "training conditions" in str(w.message)]  # ... and fit asks it only of these
