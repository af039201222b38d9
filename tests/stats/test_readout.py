"""Readout statistics against closed forms, invariances they claim, and the errors they raise."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.readout import (
    decoder_accuracy,
    fisher_discriminant,
    flip_fraction,
    heldout_accuracy,
    margin,
    readout_summary,
    response_scale,
    signed_distances,
)


def _gaussian_classes(dprime, n_neurons, n_trials, rng, covariance=None):
    """Two Gaussian classes whose optimal discriminability is exactly ``dprime``."""
    if covariance is None:
        covariance = np.eye(n_neurons)
    direction = rng.standard_normal(n_neurons)
    # Scale the mean difference so that sqrt(Δμᵀ Σ⁻¹ Δμ) = dprime.
    direction *= dprime / np.sqrt(direction @ np.linalg.solve(covariance, direction))
    chol = np.linalg.cholesky(covariance)
    labels = np.repeat([1, 0], n_trials)
    values = (rng.standard_normal((2 * n_trials, n_neurons)) @ chol.T) + np.where(labels[:, None] == 1,
                                                                                  direction / 2, -direction / 2)
    return xr.DataArray(values, dims=("trial", "neuron"),
                        coords={"target": ("trial", labels), "stimulus": ("trial", labels)})


def _points(points, labels, n_trials=2):
    """A noiseless recording whose condition means are exactly ``points``."""
    return make_recording(np.asarray(points, float), n_trials=n_trials, target=labels, rng=0)


# ------------------------------------------------------------------------------------------ decoding accuracy


@pytest.mark.parametrize("dprime", [1.0, 2.0])
def test_decoder_accuracy_matches_bayes_accuracy_of_gaussian_classes(rng, dprime):
    rec = _gaussian_classes(dprime, n_neurons=4, n_trials=800, rng=rng)
    ds = decoder_accuracy(rec, random_state=0, n_boot=200)
    bayes = norm.cdf(dprime / 2)  # closed form for equal-covariance Gaussians with a linear readout
    assert abs(float(ds["decoder_accuracy"]) - bayes) < 0.03
    assert 0.005 < float(ds["decoder_accuracy_se"]) < 0.02  # binomial SE sqrt(p(1-p)/1600) ~ 0.009
    lo, hi = ds["decoder_accuracy_ci"].values
    assert lo < float(ds["decoder_accuracy"]) < hi
    assert float(ds["decoder_accuracy_chance"]) == 0.5


def test_decoder_accuracy_chance_is_majority_rate_and_no_signal_reads_chance(rng):
    labels = np.r_[np.ones(45, int), np.zeros(15, int)]
    rec = xr.DataArray(rng.standard_normal((60, 200)), dims=("trial", "neuron"),
                       coords={"target": ("trial", labels)})
    ds = decoder_accuracy(rec, random_state=1, n_boot=0)
    assert float(ds["decoder_accuracy_chance"]) == 0.75
    # 200 noise neurons, 48 training trials: a leaky pipeline would read far above chance.
    assert float(ds["decoder_accuracy"]) < 0.75 + 0.15


def test_accuracy_at_ceiling_keeps_a_binomial_standard_error():
    labels = np.repeat([1, -1], 20)
    rec = make_recording(np.c_[10.0 * labels, np.zeros(40)], n_trials=2, noise_sd=0.1, target=labels, rng=0)
    ds = decoder_accuracy(rec, random_state=0, n_boot=100)
    assert float(ds["decoder_accuracy"]) == 1.0
    # Agresti-Coull: p~ = 82/84 at 80 of 80 correct
    assert float(ds["decoder_accuracy_se"]) == pytest.approx(np.sqrt(82 / 84 * 2 / 84 / 84), rel=1e-9)
    lo, hi = ds["decoder_accuracy_ci"].values
    assert lo < 1.0 and hi == 1.0


def test_heldout_accuracy_separates_memorised_from_generalising_codes(rng):
    n_cond, n_trials = 40, 6
    labels = np.repeat([1, -1], n_cond // 2)
    # Memorised: each condition has its own random pattern, unrelated to the label.
    memorised = make_recording(3 * rng.standard_normal((n_cond, 80)), n_trials=n_trials, noise_sd=0.5,
                               target=labels, rng=1)
    # Generalising: the label is carried along one shared axis.
    shared = np.c_[2 * labels, rng.standard_normal((n_cond, 29))]
    generalising = make_recording(shared, n_trials=n_trials, noise_sd=0.5, target=labels, rng=2)
    memo_trial = float(decoder_accuracy(memorised, random_state=0, n_boot=0)["decoder_accuracy"])
    memo_held = heldout_accuracy(memorised, random_state=0, n_boot=200)
    gen_held = float(heldout_accuracy(generalising, random_state=0, n_boot=0)["heldout_accuracy"])
    assert memo_trial > 0.9  # new trials of known stimuli are easy
    lo, hi = memo_held["heldout_accuracy_ci"].values
    assert lo < 0.5 < hi and float(memo_held["heldout_accuracy"]) < 0.7  # new stimuli are at chance
    assert gen_held > 0.9


# --------------------------------------------------------------------------------------------------- margin


def test_margin_of_points_with_hand_computed_max_margin():
    # +1 at (0, 1), (2, 1.5); -1 at (0, -1), (2, -1.5): the separator is y = 0 and the margin is 1.
    rec = _points([[0, 1], [2, 1.5], [0, -1], [2, -1.5]], [1, 1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(1.0, abs=1e-4)
    # +1 at the origin, -1 at (2, 0) and (0, 2): half the distance from the origin to x + y = 2 is sqrt(2)/2.
    rec = _points([[0, 0], [2, 0], [0, 2]], [1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(
        np.sqrt(2) / 2, abs=1e-4)


def test_margin_of_symmetric_clusters_and_of_overlapping_points():
    # Clusters at ±(3, 0) with spread ±1 along the other axis: margin 3 whatever the spread.
    pts = [[3, -1], [3, 0], [3, 1], [-3, -1], [-3, 0], [-3, 1]]
    rec = _points(pts, [1, 1, 1, -1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(3.0, abs=1e-4)
    # One neuron, +1 at {2, -1}, -1 at {-2, 0.5}: overlap of 1.5 along w = +1, signed margin -0.75.
    rec = _points([[2.0], [-1.0], [-2.0], [0.5]], [1, 1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(-0.75, abs=1e-3)


def test_margin_chance_is_the_margin_with_permuted_labels(rng):
    # Two conditions: permuting labels can only swap them, so chance equals the margin (half the distance).
    rec = _points([[0.0, 0.0], [3.0, 4.0]], [1, -1])
    ds = margin(rec, scale=1.0, n_boot=0)
    assert float(ds["margin"]) == pytest.approx(2.5, abs=1e-6)
    assert float(ds["margin_chance"]) == pytest.approx(2.5, abs=1e-6)
    # Labels unrelated to 30 random conditions in 60 dims: separable anyway, margin at chance level.
    labels = np.repeat([1, -1], 15)
    noise = make_recording(rng.standard_normal((30, 60)), n_trials=2, target=labels, rng=1)
    ds = margin(noise, scale=1.0, n_boot=0, random_state=0, n_permutations=20)
    assert float(ds["margin_chance"]) > 0
    assert float(ds["margin"]) == pytest.approx(float(ds["margin_chance"]), rel=0.25)
    signal = make_recording(np.c_[2 * labels, rng.standard_normal((30, 59))], n_trials=2, target=labels, rng=1)
    ds = margin(signal, scale=1.0, n_boot=0, random_state=0)
    assert float(ds["margin"]) > 1.5 * float(ds["margin_chance"])


def test_margin_is_in_units_of_scale_and_default_scale_is_response_sd():
    rec = _points([[0, 1], [2, 1.5], [0, -1], [2, -1.5]], [1, 1, -1, -1])
    at_one = float(margin(rec, scale=1.0, n_boot=0)["margin"])
    at_two = float(margin(rec, scale=2.0, n_boot=0)["margin"])
    assert at_two == pytest.approx(at_one / 2, rel=1e-6)
    sd = np.sqrt(np.mean(rec.var("trial").values))
    default = float(margin(rec, n_boot=0)["margin"])
    assert default == pytest.approx(at_one / sd, rel=1e-6)
    assert response_scale(rec) == pytest.approx(sd)
    # Per-neuron scale: dividing neuron 1 by 2 halves the y-gap, so the margin halves (separator y = 0).
    per_neuron = xr.DataArray([1.0, 2.0], dims="neuron", coords={"neuron": [0, 1]})
    assert float(margin(rec, scale=per_neuron, n_boot=0)["margin"]) == pytest.approx(at_one / 2, rel=1e-6)
    flipped = rec.isel(neuron=[1, 0])  # an array scale follows the recording's neuron order
    assert float(margin(flipped, scale=np.array([2.0, 1.0]), n_boot=0)["margin"]) == pytest.approx(at_one / 2,
                                                                                               rel=1e-6)
    with pytest.raises(DataError, match="one per neuron \\(2\\), found 3"):
        margin(rec, scale=np.ones(3), n_boot=0)


def test_margin_invariant_to_neuron_permutation_and_identical_across_identical_sessions(rng):
    labels = np.repeat([1, -1], 10)
    means = np.c_[labels, rng.standard_normal((20, 29))]
    rec = make_recording(means, n_trials=3, noise_sd=0.3, target=labels, rng=3)
    perm = rng.permutation(rec.sizes["neuron"])
    kwargs = dict(n_neurons=12, scale=1.0, random_state=7, n_boot=10, n_refits=5)
    original = margin(rec, **kwargs)
    permuted = margin(rec.isel(neuron=perm), **kwargs)
    assert float(permuted["margin"]) == pytest.approx(float(original["margin"]), rel=1e-9)
    twin = rec.copy()
    twin.attrs["session_id"] = "twin"
    ds = readout_summary({"a": rec, "b": twin}, n_boot=5, random_state=0, n_refits=4)
    assert float(ds["margin"][0]) == float(ds["margin"][1])
    assert float(ds["fisher_discriminant"][0]) == float(ds["fisher_discriminant"][1])


# ------------------------------------------------------------------------------- signed distances and flips


def test_signed_distances_mark_the_mislabelled_condition():
    labels = np.repeat([1, -1], 8)
    points = np.c_[2.0 * labels, np.linspace(-1, 1, 16)]
    points[0, 0] = -2.5  # a +1 condition placed inside the -1 cluster
    d = signed_distances(_points(points, labels), scale=1.0, n_splits=4, random_state=0)
    assert d.dims == ("condition",) and d.sizes["condition"] == 16
    assert float(d.sel(condition=0)) < 0
    assert (d.drop_sel(condition=0) > 0).all()
    assert "target" in d.coords


def test_flip_fraction_on_constructed_distances_aligns_by_condition():
    before = xr.DataArray([-1.0, -0.5, 0.3, 0.2, -0.2], dims="condition", coords={"condition": list("abcde")})
    # Same examples, different order, plus one that exists only after.
    after = xr.DataArray([0.4, -0.2, 0.5, -0.1, 0.1, 9.0], dims="condition",
                         coords={"condition": list("cdaebz")})
    ds = flip_fraction(before, after, n_boot=500, random_state=0)
    # a: -1 -> 0.5 (wrong->right), b: -0.5 -> 0.1 (wrong->right), c: 0.3 -> 0.4, d: 0.2 -> -0.2 (right->wrong),
    # e: -0.2 -> -0.1 (stays wrong)
    assert float(ds["flip_fraction"]) == pytest.approx(2 / 5)
    assert float(ds["flip_fraction_reverse"]) == pytest.approx(1 / 5)
    assert int(ds["n_examples"]) == 5
    assert float(ds["flip_fraction_se"]) == pytest.approx(np.sqrt(0.4 * 0.6 / 5), rel=0.15)


# ------------------------------------------------------------------------------------------------- Fisher d'


def test_fisher_discriminant_recovers_known_dprime(rng):
    n = 20
    a = rng.standard_normal((n, n))
    covariance = a @ a.T / n + 0.5 * np.eye(n)  # correlated noise
    rec = _gaussian_classes(2.0, n_neurons=n, n_trials=1000, rng=rng, covariance=covariance)
    ds = fisher_discriminant(rec, random_state=0, n_boot=200)
    value = float(ds["fisher_discriminant"])
    assert value == pytest.approx(2.0, abs=0.1)
    assert 0.0 <= ds.attrs["shrinkage"] < 1.0
    lo, hi = ds["fisher_discriminant_ci"].values
    assert lo < 2.0 < hi


def _expected_heldout_dprime(dprime, n_neurons, n_train_per_class):
    """Held-out d' of w = Σ⁻¹(estimated Δμ) with Σ *known*: d²/sqrt(d² + p(1/n0 + 1/n1)).

    In whitened coordinates the estimated mean difference is Δ + ε with ε ~ N(0, (2/n) I), so the
    discriminant's population d' is (d² + Δ·ε)/|Δ + ε|, whose numerator averages d² and whose squared
    denominator averages d² + 2p/n. No estimator of w can do better on average; the shrinkage estimator
    also has to estimate Σ.
    """
    return dprime**2 / np.sqrt(dprime**2 + n_neurons * 2.0 / n_train_per_class)


def test_fisher_shrinkage_helps_when_neurons_are_comparable_to_trials():
    n, n_trials = 60, 60  # 60 neurons, 96 training trials per fold
    shrunk, plain = [], []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((n, n))
        rec = _gaussian_classes(2.0, n_neurons=n, n_trials=n_trials, rng=rng,
                                covariance=a @ a.T / n + 0.5 * np.eye(n))
        shrunk.append(float(fisher_discriminant(rec, random_state=0, n_boot=0)["fisher_discriminant"]))
        plain.append(float(fisher_discriminant(rec, random_state=0, n_boot=0, shrinkage=0.0)["fisher_discriminant"]))
    limit = _expected_heldout_dprime(2.0, n, 0.8 * n_trials)  # 1.57
    assert np.mean(shrunk) > np.mean(plain) + 0.1
    assert 0.6 * limit < np.mean(shrunk) < limit + 0.1


def test_fisher_ledoit_wolf_matches_sklearn(rng):
    from sklearn.covariance import LedoitWolf

    from neurolearn.stats.readout import _shrunk_discriminant

    x = rng.standard_normal((50, 80))
    positive = np.arange(50) < 20
    w, s = _shrunk_discriminant(x, positive, "auto")
    centred = x - np.where(positive[:, None], x[positive].mean(0), x[~positive].mean(0))
    lw = LedoitWolf(assume_centered=True).fit(centred)
    assert s == pytest.approx(lw.shrinkage_, rel=1e-9)
    np.testing.assert_allclose(w, np.linalg.solve(lw.covariance_, x[positive].mean(0) - x[~positive].mean(0)),
                               rtol=1e-7)


# ---------------------------------------------------------------------------------------------------- summary


def test_readout_summary_form(rng):
    labels = np.repeat([1, -1], 10)
    base = rng.standard_normal((20, 8))
    recs = {f"day{d}": make_recording(np.c_[(0.5 + d) * labels, base], n_trials=3, noise_sd=0.5,
                                      target=labels, rng=d, session_id=f"day{d}") for d in range(3)}
    ds = readout_summary(recs, n_boot=20, random_state=1, n_refits=5)
    assert ds["session"].values.tolist() == ["day0", "day1", "day2"]
    assert ds["session_index"].values.tolist() == [0, 1, 2]
    for stat in ("decoder_accuracy", "heldout_accuracy", "margin", "flip_fraction", "fisher_discriminant"):
        assert ds[stat].dims == ("session",)
        assert ds[f"{stat}_se"].dims == ("session",)
        assert ds[f"{stat}_ci"].dims == ("session", "ci_bound")
        assert ds[f"{stat}_ci"].attrs["level"] == 0.95
    assert ds["ci_bound"].values.tolist() == ["lower", "upper"]
    assert np.isnan(float(ds["flip_fraction"][0])) and np.isfinite(ds["flip_fraction"][1:]).all()
    assert "previous session" in ds.attrs["flip_fraction"]
    assert ds["decoder_accuracy_chance"].values.tolist() == [0.5, 0.5, 0.5]
    assert ds.attrs["n_neurons"] == 9
    assert np.all(ds["margin"] > ds["margin_chance"])
    assert ds["margin"][2] > ds["margin"][0]


def test_readout_summary_multiclass_decodes_but_leaves_binary_statistics_nan(rng):
    labels = np.repeat([0, 1, 2], 6)
    rec = make_recording(np.c_[np.eye(3)[labels] * 3, rng.standard_normal((18, 4))], n_trials=3,
                         noise_sd=0.5, target=labels, rng=0)
    with pytest.warns(UserWarning, match="not binary"):
        ds = readout_summary({"s": rec}, n_boot=0, random_state=0, n_splits=3)
    assert float(ds["decoder_accuracy"][0]) > 0.8
    assert np.isnan(float(ds["margin"][0])) and "not binary" in ds.attrs["note"]


def test_readout_summary_adapts_condition_folds_to_few_stimuli(rng):
    labels = np.array([1, 1, 1, -1, -1, -1])  # three stimuli per class: at most 3 folds over conditions
    recs = {d: make_recording(np.c_[2 * labels, rng.standard_normal((6, 3))], n_trials=6, noise_sd=0.5,
                              target=labels, rng=i) for i, d in enumerate(("a", "b"))}
    ds = readout_summary(recs, n_boot=10, random_state=0, n_refits=3)
    assert ds.attrs["condition_splits"] == 3
    assert np.isfinite(ds["heldout_accuracy"]).all() and np.isfinite(ds["flip_fraction"][1])
    # One stimulus per class: nothing to generalise from, said in a warning and the attrs, not a crash.
    single = {d: make_recording(np.array([[2.0, 0.0], [-2.0, 0.0]]), n_trials=10, noise_sd=0.5, target=[1, -1],
                                rng=i) for i, d in enumerate(("a", "b"))}
    with pytest.warns(UserWarning, match="fewer than 2 conditions"):
        ds = readout_summary(single, n_boot=10, random_state=0, n_refits=3)
    assert np.isnan(ds["heldout_accuracy"]).all() and np.isnan(ds["flip_fraction"]).all()
    assert np.isfinite(ds["margin"]).all() and "heldout_accuracy and flip_fraction are NaN" in ds.attrs["note"]


# ----------------------------------------------------------------------------------------------- bad input


def _binary_recording(n_trials=4):
    labels = np.repeat([1, -1], 5)
    return make_recording(np.c_[labels, np.arange(10.0)], n_trials=n_trials, noise_sd=0.1, target=labels, rng=0)


def test_one_class_target_is_refused():
    rec = _binary_recording().assign_coords(target=("trial", np.ones(40, int)))
    for fn in (decoder_accuracy, margin, fisher_discriminant):
        with pytest.raises(DataError, match="classes in trial coord 'target', found 1"):
            fn(rec)


def test_too_few_trials_for_the_folds_is_refused():
    rec = _binary_recording(n_trials=1)  # 5 trials per class
    with pytest.raises(DataError, match="n_splits=6 trials of every class"):
        decoder_accuracy(rec, n_splits=6)
    with pytest.raises(DataError, match="at least n_splits=11 conditions"):
        heldout_accuracy(rec, n_splits=11)
    with pytest.raises(DataError, match="at least 2 trials per condition"):
        margin(rec)  # bias-correction refits resample trials


def test_nan_responses_are_refused():
    rec = _binary_recording()
    rec[3, 1] = np.nan
    for fn in (decoder_accuracy, heldout_accuracy, margin, fisher_discriminant):
        with pytest.raises(DataError, match="expected finite responses, found 1 NaN"):
            fn(rec)


def test_missing_coords_are_refused_with_the_available_ones():
    rec = _binary_recording()
    with pytest.raises(DataError, match=r"expected a trial coord 'label'.*'start_time', 'stimulus'"):
        decoder_accuracy(rec, target="label")
    with pytest.raises(DataError, match=r"expected a trial coord 'odour'.*'target'"):
        heldout_accuracy(rec, by="odour")
    with pytest.raises(DataError, match="trial coord 'odour'"):
        margin(rec, by="odour")


def test_other_bad_input_is_refused():
    rec = _binary_recording()
    with pytest.raises(DataError, match="expect dims \\('trial', 'neuron'\\), found"):
        decoder_accuracy(rec.expand_dims(time=[0.0, 0.1], axis=-1))
    mixed = rec.assign_coords(target=("trial", np.arange(40) % 2))  # label varies within a stimulus
    with pytest.raises(DataError, match="one 'target' label per condition"):
        margin(mixed)
    with pytest.raises(DataError, match="n_neurons <= 2"):
        margin(rec, n_neurons=5)
    with pytest.raises(DataError, match="exactly 2 classes"):
        fisher_discriminant(rec.assign_coords(target=("trial", np.arange(40) % 3)))
    with pytest.raises(DataError, match="shared condition values"):
        flip_fraction(xr.DataArray([1.0], dims="condition", coords={"condition": [0]}),
                      xr.DataArray([1.0], dims="condition", coords={"condition": [1]}))
    with pytest.raises(DataError, match="expected a non-empty dict"):
        readout_summary([rec])


def test_dask_backed_recordings_give_the_same_values_and_nan_is_still_refused():
    rec = _binary_recording()
    eager = decoder_accuracy(rec, random_state=0, n_boot=20)
    lazy = decoder_accuracy(rec.chunk({"trial": 10}), random_state=0, n_boot=20)
    assert float(lazy["decoder_accuracy"]) == float(eager["decoder_accuracy"])
    assert float(lazy["decoder_accuracy_se"]) == float(eager["decoder_accuracy_se"])
    bad = rec.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="expected finite responses"):
        margin(bad.chunk({"trial": 10}))
