"""generalization_error's chance level (permutation of the target across the training conditions) and the flag of
an interval that resolves neither generalisation nor its absence (few held-out conditions)."""

import itertools
import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.generalization import UNRESOLVED, generalization_summary
from neurolearn.stats.heldout_readout import readout_generalization_error, readout_null


def _poisson_session(rng, *, n_conditions, n_trials, n_heldout, gain=0.0, n_neurons=40):
    """Poisson counts of log-normal rates; ``gain=0``: untuned (every condition the same rates)."""
    base = np.exp(rng.normal(np.log(5.0), 0.8, n_neurons))
    preference = rng.standard_normal(n_neurons)
    y = rng.uniform(-3**0.5, 3**0.5, n_conditions)
    rates = 0.5 * base * np.exp(gain * 0.5 * np.outer(y, preference))
    trials = np.repeat(np.arange(n_conditions), n_trials)
    held = np.zeros(n_conditions, bool)
    held[rng.choice(n_conditions, n_heldout, replace=False)] = True
    counts = rng.poisson(rates[trials]).astype(float)
    return xr.DataArray(counts, dims=("trial", "neuron"), coords={
        "stimulus": ("trial", trials), "target": ("trial", y[trials]), "heldout": ("trial", held[trials])})


def _summary(rec, n_boot=0, random_state=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        return generalization_summary({"s": rec}, target="target", by="stimulus", n_boot=n_boot,
                                      random_state=random_state, behavior=None)


def test_an_untuned_population_reads_its_chance_level_on_average_and_its_pvalue_is_valid():
    # the null the chance level claims: no stimulus information (exchangeable condition responses), Poisson
    # counts of log-normal rates, 2-10 trials, 4-16 conditions, 2-4 held out (2 training at least)
    rng = np.random.default_rng(11)
    values, chances, pvalues = [], [], []
    for _ in range(150):
        n_conditions = int(rng.integers(4, 17))
        rec = _poisson_session(rng, n_conditions=n_conditions, n_trials=int(rng.integers(2, 11)),
                               n_heldout=min(int(rng.integers(2, 5)), n_conditions - 2))
        ds = _summary(rec)
        values.append(float(ds["generalization_error"][0]))
        chances.append(float(ds["generalization_error_chance"][0]))
        pvalues.append(float(ds["generalization_error_pvalue"][0]))
    values, chances, pvalues = map(np.asarray, (values, chances, pvalues))
    assert np.isfinite(values).all() and np.isfinite(chances).all()
    difference = values - chances
    assert abs(difference.mean()) < 3 * difference.std(ddof=1) / np.sqrt(difference.size)
    # and not by being 1: the chance level moves with the held-out targets, and the value follows it
    assert np.corrcoef(values, chances)[0, 1] > 0.5
    below = np.mean(pvalues <= 0.05)
    assert below <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / pvalues.size)


def test_a_tuned_population_reads_below_its_chance_level():
    rng = np.random.default_rng(12)
    rows = []
    for _ in range(30):
        ds = _summary(_poisson_session(rng, n_conditions=12, n_trials=5, n_heldout=3, gain=1.0))
        rows.append((float(ds["generalization_error"][0]), float(ds["generalization_error_chance"][0]),
                     float(ds["generalization_error_pvalue"][0])))
    values, chances, pvalues = np.asarray(rows).T
    assert np.mean(values < chances) >= 0.9
    assert np.median(values) < 0.25 * np.median(chances)
    # the p-value has less power than the value's distance from chance suggests: a permuted readout interpolates
    # its labels with large weights, whose held-out trial-noise correction makes the null errors spread (and dip
    # below 0): median p 0.10 here, where an untuned population's is about 0.5
    assert np.median(pvalues) <= 0.2


def test_the_chance_level_is_the_mean_error_over_every_permutation_of_the_training_targets():
    # at most N_PERMUTATIONS labellings: all of them, so chance is the exact conditional expectation
    rng = np.random.default_rng(3)
    rec = _poisson_session(rng, n_conditions=7, n_trials=3, n_heldout=2, gain=0.5)
    responses, conditions = rec.values, rec.stimulus.values
    held = rec.heldout.values
    y = rec.target.values
    training = np.unique(conditions[~held])
    errors = []
    for order in itertools.permutations(training):
        relabel = dict(zip(training, order))
        y_perm = np.array([y[conditions == relabel.get(c, c)][0] for c in conditions])
        errors.append(readout_generalization_error(responses, y_perm, conditions, held))
    errors = np.asarray(errors)
    observed = readout_generalization_error(responses, y, conditions, held)
    chance, pvalue, n = readout_null(rec, held, "target", "stimulus", 0.0, rng)
    assert n == len(errors) == 120
    assert chance == pytest.approx(errors.mean(), rel=1e-9)
    assert pvalue == pytest.approx(np.mean(errors <= observed + 1e-12), rel=1e-12)
    ds = _summary(rec)
    assert float(ds["generalization_error_chance"][0]) == pytest.approx(errors.mean(), rel=1e-9)


def test_the_null_leaves_every_bootstrap_draw_as_it_was():
    # the permutations draw from a jump of the session's stream, so the replicates of this session and of the
    # next ones are those of the readout bootstrap alone
    from neurolearn.stats.heldout_readout import readout_session

    rng = np.random.default_rng(4)
    recs = {f"s{k}": _poisson_session(rng, n_conditions=12, n_trials=4, n_heldout=3, gain=0.5) for k in range(2)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        ds = generalization_summary(recs, target="target", by="stimulus", n_boot=30, random_state=5, behavior=None)
    stream = np.random.default_rng(5)
    for k, rec in enumerate(recs.values()):
        mask = rec.heldout.values
        _, _, _, replicates, _ = readout_session(rec, mask, "target", "stimulus", 0.0, 30, stream, 0.95)
        np.testing.assert_array_equal(ds["generalization_error_boot"].values[k], replicates)


def test_two_held_out_conditions_of_an_untuned_population_are_flagged_unresolved_and_kept():
    rng = np.random.default_rng(6)
    flagged = []
    for r in range(20):
        rec = _poisson_session(rng, n_conditions=8, n_trials=5, n_heldout=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = generalization_summary({"s": rec}, target="target", by="stimulus", n_boot=100, random_state=r,
                                        behavior=None)
        assert not [w for w in caught if issubclass(w.category, StatisticWarning)]  # a value kept: not NaN
        assert np.isfinite(ds["generalization_error"][0])
        flag = str(ds["generalization_error_flag"].values[0])
        if flag:
            assert flag == UNRESOLVED
            low, high = ds["generalization_error_ci"].values[0]
            assert low <= 0 and high >= float(ds["generalization_error_chance"][0])
        flagged.append(bool(flag))
    assert np.mean(flagged) >= 0.6
    # many held-out conditions of a tuned population: resolved, not flagged
    for r in range(5):
        ds = _summary(_poisson_session(rng, n_conditions=16, n_trials=5, n_heldout=8, gain=1.0), n_boot=100,
                      random_state=r)
        assert str(ds["generalization_error_flag"].values[0]) == ""


def test_a_session_left_nan_has_no_chance_level_and_the_behaviour_method_none():
    rng = np.random.default_rng(7)
    rec = _poisson_session(rng, n_conditions=6, n_trials=3, n_heldout=2, gain=1.0)
    none = rec.assign_coords(heldout=("trial", np.zeros(rec.sizes["trial"], bool)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticWarning)
        ds = generalization_summary({"ok": rec, "none": none}, target="target", by="stimulus", n_boot=20,
                                    random_state=0, behavior=None)
    assert ds["generalization_error_chance"].dims == ("session",)
    assert np.isfinite(ds["generalization_error_chance"].sel(session="ok"))
    assert np.isnan(ds["generalization_error_chance"].sel(session="none"))
    assert np.isnan(ds["generalization_error_pvalue"].sel(session="none"))
    scored = rec.assign_coords(correct=("trial", rng.random(rec.sizes["trial"]) < 0.7))
    behaviour = generalization_summary({"ok": scored}, target="target", by="stimulus", method="behavior",
                                       n_boot=20, random_state=0)
    assert "generalization_error_chance" not in behaviour
