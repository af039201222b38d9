"""The max-margin readout: hand-computed margins, its noiseless estimand at 2, 4 and 10 trials, invariances."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.svm import SVC

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.readout import margin, readout_summary, response_scale, signed_distances
from tests.stats.readout._helpers import binary_recording, points


def _hard_margin(means, labels):
    """1/‖w‖ of a hard-margin linear SVM, written plainly (independent of the package's hull solver)."""
    svc = SVC(kernel="linear", C=1e4, tol=1e-7).fit(means, labels)
    assert np.all(labels * (means @ svc.coef_[0] + svc.intercept_[0]) > 0)
    return 1.0 / np.linalg.norm(svc.coef_[0])


def test_margin_of_points_with_hand_computed_max_margin():
    # +1 at (0, 1), (2, 1.5); -1 at (0, -1), (2, -1.5): the separator is y = 0 and the margin is 1.
    rec = points([[0, 1], [2, 1.5], [0, -1], [2, -1.5]], [1, 1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(1.0, abs=1e-4)
    # +1 at the origin, -1 at (2, 0) and (0, 2): half the distance from the origin to x + y = 2 is sqrt(2)/2.
    rec = points([[0, 0], [2, 0], [0, 2]], [1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(np.sqrt(2) / 2, abs=1e-4)


def test_margin_of_symmetric_clusters_and_of_overlapping_points():
    # Clusters at ±(3, 0) with spread ±1 along the other axis: margin 3 whatever the spread.
    pts = [[3, -1], [3, 0], [3, 1], [-3, -1], [-3, 0], [-3, 1]]
    assert float(margin(points(pts, [1, 1, 1, -1, -1, -1]), scale=1.0, n_boot=0)["margin"]) == pytest.approx(
        3.0, abs=1e-4)
    # One neuron, +1 at {2, -1}, -1 at {-2, 0.5}: overlap of 1.5 along w = +1, signed margin -0.75.
    rec = points([[2.0], [-1.0], [-2.0], [0.5]], [1, 1, -1, -1])
    assert float(margin(rec, scale=1.0, n_boot=0)["margin"]) == pytest.approx(-0.75, abs=1e-3)


@pytest.mark.parametrize("n_trials", [2, 4, 10])
def test_margin_estimates_the_noiseless_margin_at_every_trial_count(n_trials):
    # 20 conditions in 100 neurons, noise SD 1 per neuron and trial: the margin of n-trial means would be
    # 2.34, 2.10, 1.97 at 2, 4, 10 trials (measured before the noise correction) against a noiseless 1.89.
    rng = np.random.default_rng(11)
    labels = np.repeat([1, -1], 10)
    means = np.c_[1.2 * labels, 0.7 * rng.standard_normal((20, 99))]
    truth = _hard_margin(means, labels)
    estimates = [float(margin(make_recording(means, n_trials=n_trials, noise_sd=1.0, target=labels, rng=r),
                              scale=1.0, random_state=r, n_boot=0, n_permutations=0)["margin"])
                 for r in range(12)]
    sd = np.std(estimates, ddof=1)
    # Within the spread of one estimate (documented residual: -0.6 SD at 2 trials, ~0 at 4 and 10), and far
    # from where the uncorrected estimand sits at 2 trials (+3 SD).
    assert abs(np.mean(estimates) - truth) < max(0.75 * sd, 3 * sd / np.sqrt(12))
    # Does not drift with the trial count: the same truth at every count.
    assert abs(np.mean(estimates) - truth) < 0.25


def test_margin_interval_covers_the_noiseless_margin():
    rng = np.random.default_rng(5)
    labels = np.repeat([1, -1], 10)
    means = np.c_[1.2 * labels, 0.7 * rng.standard_normal((20, 59))]
    truth = _hard_margin(means, labels)
    covered = []
    for r in range(40):
        ds = margin(make_recording(means, n_trials=4, noise_sd=1.0, target=labels, rng=300 + r), scale=1.0,
                    random_state=r, n_boot=20, n_permutations=0)
        lower, upper = ds["margin_ci"].values
        assert lower <= float(ds["margin"]) <= upper
        covered.append(lower <= truth <= upper)
        assert ds["margin_boot"].sizes["bootstrap"] == 20 and ds["margin_boot"].attrs["resampling"] == "independent"
    # 40 replicates: a 95% interval covers 34-40 times with probability ~0.99 (binomial).
    assert np.mean(covered) >= 0.85, np.mean(covered)


def test_margin_chance_is_the_margin_with_permuted_labels(rng):
    # Two conditions: permuting labels can only swap them, so chance equals the margin (half the distance).
    rec = points([[0.0, 0.0], [3.0, 4.0]], [1, -1])
    ds = margin(rec, scale=1.0, n_boot=0)
    assert float(ds["margin"]) == pytest.approx(2.5, abs=1e-6)
    assert float(ds["margin_chance"]) == pytest.approx(2.5, abs=1e-6)
    labels = np.repeat([1, -1], 15)
    signal = make_recording(np.c_[2 * labels, rng.standard_normal((30, 59))], n_trials=2, target=labels, rng=1)
    ds = margin(signal, scale=1.0, n_boot=0, random_state=0)
    assert float(ds["margin"]) > 1.5 * float(ds["margin_chance"])


def test_margin_is_in_units_of_scale_and_default_scale_is_response_sd():
    rec = points([[0, 1], [2, 1.5], [0, -1], [2, -1.5]], [1, 1, -1, -1])
    at_one = float(margin(rec, scale=1.0, n_boot=0)["margin"])
    assert float(margin(rec, scale=2.0, n_boot=0)["margin"]) == pytest.approx(at_one / 2, rel=1e-6)
    sd = np.sqrt(np.mean(rec.var("trial").values))
    assert float(margin(rec, n_boot=0)["margin"]) == pytest.approx(at_one / sd, rel=1e-6)
    assert response_scale(rec) == pytest.approx(sd)
    # Per-neuron scale: dividing neuron 1 by 2 halves the y-gap, so the margin halves (separator y = 0).
    per_neuron = xr.DataArray([1.0, 2.0], dims="neuron", coords={"neuron": [0, 1]})
    assert float(margin(rec, scale=per_neuron, n_boot=0)["margin"]) == pytest.approx(at_one / 2, rel=1e-6)
    flipped = rec.isel(neuron=[1, 0])  # an array scale follows the recording's neuron order
    assert float(margin(flipped, scale=np.array([2.0, 1.0]), n_boot=0)["margin"]) == pytest.approx(
        at_one / 2, rel=1e-6)
    with pytest.raises(DataError, match="one per neuron \\(2\\), found 3"):
        margin(rec, scale=np.ones(3), n_boot=0)


def test_margin_invariant_to_neuron_permutation_and_identical_across_identical_sessions(rng):
    labels = np.repeat([1, -1], 10)
    rec = make_recording(np.c_[labels, rng.standard_normal((20, 29))], n_trials=3, noise_sd=0.3, target=labels,
                         rng=3)
    perm = rng.permutation(rec.sizes["neuron"])
    kwargs = dict(n_neurons=12, scale=1.0, random_state=7, n_boot=5, n_refits=3)
    original = margin(rec, **kwargs)
    assert float(margin(rec.isel(neuron=perm), **kwargs)["margin"]) == pytest.approx(float(original["margin"]),
                                                                                     rel=1e-9)
    twin = rec.copy()
    twin.attrs["session_id"] = "twin"
    ds = readout_summary({"a": rec, "b": twin}, n_boot=5, random_state=0, n_refits=3, n_permutations=2)
    assert float(ds["margin"][0]) == float(ds["margin"][1])
    assert float(ds["fisher_discriminant"][0]) == float(ds["fisher_discriminant"][1])


def test_signed_distances_mark_the_mislabelled_condition():
    labels = np.repeat([1, -1], 8)
    pts = np.c_[2.0 * labels, np.linspace(-1, 1, 16)]
    pts[0, 0] = -2.5  # a +1 condition placed inside the -1 cluster
    d = signed_distances(points(pts, labels), scale=1.0, n_splits=4, random_state=0)
    assert d.dims == ("condition",) and d.sizes["condition"] == 16
    assert float(d.sel(condition=0)) < 0
    assert (d.drop_sel(condition=0) > 0).all()
    assert "target" in d.coords


def test_margin_refusals():
    rec = binary_recording()
    with pytest.raises(InsufficientDataError, match="at least 2 trials per condition"):
        margin(binary_recording(n_trials=1))  # the noise of the means needs two trials
    with pytest.raises(DataError, match="one 'target' label per condition"):
        margin(rec.assign_coords(target=("trial", np.arange(40) % 2)))
    with pytest.raises(DataError, match="n_neurons <= 2"):
        margin(rec, n_neurons=5)
    with pytest.raises(DataError, match="trial coord 'odour'"):
        margin(rec, by="odour")
    bad = rec.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="expected finite responses"):
        margin(bad.chunk({"trial": 10}))
