"""generalization_error does not depend on how the target is coded, and reads 1 where nothing is carried;
heldout_behavior refuses a held-out marking that varies within a stimulus, as generalization_error does."""

import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.generalization import generalization_summary, readout_generalization_error

CODINGS = {"0/1": (1.0, 0.0), "1/2": (1.0, 1.0), "-1/+1": (2.0, -1.0)}  # a * class + b, class in {0, 1}


def _poisson_session(gain, *, n_conditions=40, n_held=20, n_trials=5, n_neurons=100, rng=0):
    """Poisson counts around a common rate of 5 (``gain=0``: every condition the same, nothing carried), or
    tuned to the class by ``gain``; classes alternate, the last ``n_held`` conditions held out."""
    rng = np.random.default_rng(rng)
    classes = np.arange(n_conditions) % 2
    tuning = rng.standard_normal(n_neurons)
    rates = 5.0 + gain * np.outer(classes - 0.5, tuning)
    stimulus = np.repeat(np.arange(n_conditions), n_trials)
    counts = rng.poisson(np.clip(rates, 0.1, None)[stimulus]).astype(float)
    return xr.DataArray(counts, dims=("trial", "neuron"),
                        coords={"stimulus": ("trial", stimulus), "cls": ("trial", classes[stimulus]),
                                "heldout": ("trial", stimulus >= n_conditions - n_held)})


def _coded(recs, a, b):
    return {k: r.assign_coords(y=("trial", a * r.cls.values + b)) for k, r in recs.items()}


def test_an_untuned_population_reads_one_whatever_the_coding():
    # before the fix: 0/1 read ~0.5 and 1/2 ~0.1 with intervals excluding 1 (the mean square of an offset
    # target in the denominator, and the common rate a free intercept)
    recs = {f"s{k}": _poisson_session(0.0, rng=k) for k in range(6)}
    values = {}
    for name, (a, b) in CODINGS.items():
        ds = generalization_summary(_coded(recs, a, b), target="y", by="stimulus", n_boot=200,
                                    random_state=0)
        value, (lo, hi) = ds["generalization_error"].values, ds["generalization_error_ci"].values.T
        assert np.all((lo <= 1.0) & (1.0 <= hi)), name
        assert abs(np.mean(value) - 1.0) < 0.2, name  # 6 sessions x 20 held-out conditions
        values[name] = value
    np.testing.assert_allclose(values["1/2"], values["0/1"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(values["-1/+1"], values["0/1"], rtol=0, atol=1e-10)


def test_a_tuned_population_gives_the_same_error_under_any_affine_recoding():
    recs = {f"s{k}": _poisson_session(2.0, rng=10 + k) for k in range(3)}
    reference = generalization_summary(_coded(recs, 1.0, 0.0), target="y", by="stimulus", n_boot=50,
                                       random_state=1)
    assert np.all(reference["generalization_error"].values < 0.5)  # the class is carried: it generalises
    for a, b in ((1.0, 1.0), (-3.0, 7.0), (0.01, -250.0), (40.0, 1e3)):
        ds = generalization_summary(_coded(recs, a, b), target="y", by="stimulus", n_boot=50, random_state=1)
        for name in ("generalization_error", "generalization_error_ci", "generalization_error_se"):
            np.testing.assert_allclose(ds[name].values, reference[name].values, rtol=0, atol=1e-10)


def test_a_continuous_target_gives_the_same_error_under_an_affine_recoding():
    rng = np.random.default_rng(3)
    latent = rng.standard_normal((50, 4))
    means = 3.0 + latent @ rng.standard_normal((4, 80))  # a common rate on top
    y = latent @ rng.standard_normal(4) + 0.5 * rng.standard_normal(50)
    trials = np.repeat(np.arange(50), 3)
    responses = means[trials] + 0.3 * rng.standard_normal((trials.size, 80))
    held = trials >= 30
    errors = [readout_generalization_error(responses, a * y[trials] + b, trials, held, ridge=ridge)
              for a, b in ((1.0, 0.0), (-2.0, 5.0), (0.1, 100.0)) for ridge in (0.0, 0.1)]
    np.testing.assert_allclose(errors[2::2], errors[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(errors[3::2], errors[1], rtol=0, atol=1e-10)
    assert 0.0 < errors[0] < 0.8


def test_responses_equal_on_every_training_condition_read_exactly_one_without_trial_noise():
    # nothing to regress on: the readout predicts the training mean; over the conditions' variance that is
    # mean_h (y_h - ybar_t)^2 / var(y) (here the held-out classes balance: exactly 1 * var_h / var_all)
    trials = np.repeat(np.arange(8), 2)
    y = np.array([0.0, 1, 0, 1, 0, 1, 0, 1])
    error = readout_generalization_error(np.ones((16, 5)), 5 * y[trials] + 2, trials, trials >= 6)
    assert error == pytest.approx(0.25 / y.var(ddof=1), abs=1e-12)


def _behaviour_session(heldout_of_trial, session_id, rng):
    means = np.random.default_rng(rng).standard_normal((6, 8))
    rec = make_recording(means, n_trials=6, target=np.arange(6.0), behavior=0.8, session_id=session_id,
                         rng=rng)
    return rec.assign_coords(heldout=("trial", heldout_of_trial(rec.stimulus.values)))


def test_heldout_behavior_refuses_a_stimulus_partly_marked_held_out():
    # before the fix heldout_behavior reported a value with an empty flag here
    def partly(stimulus):
        mask = stimulus >= 4
        mask[np.nonzero(stimulus == 3)[0][:2]] = True  # two of stimulus 3's trials, the rest training
        return mask

    recs = {"partly": _behaviour_session(partly, "partly", 0),
            "clean": _behaviour_session(lambda s: s >= 4, "clean", 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = generalization_summary(recs, target="target", by="stimulus", n_boot=10, random_state=0)
    flags = dict(zip(ds.session.values, ds["heldout_behavior_flag"].values))
    assert flags["partly"] == "the held-out column varies within a condition"
    assert np.isnan(ds["heldout_behavior"].sel(session="partly"))
    assert np.isnan(ds["heldout_behavior_ci"].sel(session="partly")).all()
    assert dict(zip(ds.session.values, ds["generalization_error_flag"].values))["partly"] == flags["partly"]
    assert flags["clean"] == ""
    clean = recs["clean"]
    expected = clean.correct.values[clean.heldout.values].mean()
    assert ds["heldout_behavior"].sel(session="clean") == pytest.approx(expected, abs=1e-12)


def test_a_declared_heldout_value_no_session_holds_is_refused_with_the_values_found():
    # "Novel" for "novel", or "0" for an integer 0/1 column, read as "no held-out trials" in every session
    # before (adversary S5-6); the typo is now refused with what the column holds
    import neurolearn as nl
    from neurolearn.errors import DataError

    recs = {f"s{k}": _poisson_session(2.0, rng=k).assign_coords(y=lambda r: ("trial", r.cls.values))
            for k in range(2)}
    named = {k: r.assign_coords(kind=("trial", np.where(r.heldout.values, "novel", "familiar")),
                                is_train=("trial", (~r.heldout.values).astype(int)))
             for k, r in recs.items()}
    options = dict(target="y", n_boot=0, readout=False, dynamics=False)
    with pytest.raises(DataError, match=r"found no trial with 'kind' == 'Novel' \(str\) in any session; its "
                                        r"values \(strings\): \['familiar', 'novel'\]"):
        nl.summarize(named, heldout={"kind": "Novel"}, **options)
    with pytest.raises(DataError, match=r"'is_train' == '0' \(str\).*\(integers\): \['0', '1'\]"):
        nl.summarize(named, heldout={"is_train": "0"}, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = nl.summarize(named, heldout={"kind": "novel"}, **options)
    assert np.isfinite(ds["generalization_error"].values).all()
