"""Manifold capacity from trial clouds: Cover's limit, unstructured chance, the ball formula, reasons, intervals."""

import itertools

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import InsufficientDataError
from neurolearn.simulate.manifolds import manifold_recording
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.capacity import _fourth_moments, manifold_capacity, mean_field_capacity
from neurolearn.theory.capacity import ball_capacity


def _points(n_conditions, n_neurons, seed):
    """Conditions that are points in general position (two identical-but-for-1e-9 trials each)."""
    rng = np.random.default_rng(seed)
    return make_recording(rng.standard_normal((n_conditions, n_neurons)), n_trials=2, noise_sd=1e-9, rng=seed)


def test_points_have_cover_capacity_two():
    # Cover: the smallest separating neuron count of a random dichotomy of P points is 1 + Binomial(P-1, 1/2),
    # whose median (interpolated) is P/2: alpha = 2. With 48 dichotomies its SE is ~0.07.
    ds = manifold_capacity(_points(24, 40, 0), n_dichotomies=48, n_boot=0, random_state=0)
    assert float(ds["manifold_capacity"]) == pytest.approx(2.0, abs=0.3)


def test_unstructured_trials_sit_at_chance():
    # i.i.d. Gaussian trials: every labelling is separable with the same probability (sign symmetry), so the
    # half-separable count is Cover's for all M trials: alpha = P / (M/2) = the reported chance
    rng = np.random.default_rng(1)
    rec = make_recording(np.zeros((6, 50)), n_trials=6, noise_sd=1.0, rng=rng)
    ds = manifold_capacity(rec, n_dichotomies=40, n_boot=0, random_state=1)
    assert float(ds["manifold_capacity_chance"]) == pytest.approx(2 * 6 / 36)
    assert float(ds["manifold_capacity"]) == pytest.approx(float(ds["manifold_capacity_chance"]), abs=0.08)


def test_mean_field_recovers_sphere_geometry_and_ball_capacity():
    radius, dimension = 1.0, 3.0
    rec = manifold_recording(radius, dimension, n_conditions=8, n_neurons=60, n_trials=30, rng=2)
    ds = mean_field_capacity(rec, n_boot=60, random_state=0)
    for name, truth in (("manifold_radius", radius), ("manifold_dimension", dimension),
                        ("mean_field_capacity", float(ball_capacity(radius, dimension)))):
        value, se = float(ds[name]), float(ds[f"{name}_se"])
        assert 0 < se < 0.2 * truth
        assert abs(value - truth) < 4 * se, name
        lo, hi = ds[f"{name}_ci"].values
        assert lo <= value <= hi
        assert ds[f"{name}_boot"].attrs["resampling"] == "independent"


def test_simulation_capacity_approaches_the_ball_formula_with_enough_trials():
    # 30 trials on 2-dimensional ellipses (ball capacity 0.95): the sample's capacity is at most a few per cent
    # above the full manifold's (measured 1.03 at 20 trials; benchmarks/bench_capacity.py)
    rec = manifold_recording(0.5, 2.0, n_conditions=8, n_neurons=40, n_trials=30, rng=3)
    ds = manifold_capacity(rec, n_dichotomies=32, n_boot=4, random_state=0)
    value = float(ds["manifold_capacity"])
    assert value == pytest.approx(float(ball_capacity(0.5, 2.0)), rel=0.2)
    lo, hi = ds["manifold_capacity_ci"].values
    assert lo <= value <= hi and ds["manifold_capacity_boot"].sizes["bootstrap"] == 4


def test_larger_clouds_have_lower_capacity():
    values = [float(manifold_capacity(manifold_recording(r, 2.0, n_conditions=8, n_neurons=40, n_trials=12, rng=4),
                                      n_dichotomies=24, n_boot=0, random_state=0)["manifold_capacity"])
              for r in (0.2, 2.0)]
    assert values[0] > values[1] + 0.3


def test_reasons():
    rec = manifold_recording(1.0, 2.0, n_conditions=3, n_neurons=20, n_trials=5, rng=0)
    with pytest.raises(InsufficientDataError, match=r"fewer than 4 conditions \(found 3\)"):
        manifold_capacity(rec)
    with pytest.raises(InsufficientDataError, match=r"fewer than 4 conditions \(found 3\)"):
        mean_field_capacity(rec)
    one_trial = make_recording(np.eye(5), n_trials=1, rng=0)
    with pytest.raises(InsufficientDataError, match=r"fewer than 2 trials in a condition \(found 1\)"):
        manifold_capacity(one_trial)
    three = manifold_recording(1.0, 2.0, n_conditions=5, n_neurons=20, n_trials=3, rng=0)
    with pytest.raises(InsufficientDataError, match=r"fewer than 4 trials in a condition \(found 3\)"):
        mean_field_capacity(three)
    # 12 large clouds seen by 3 neurons: fewer than half the dichotomies are separable with all of them
    crowded = manifold_recording(3.0, 3.0, n_conditions=12, n_neurons=48, n_trials=10, rng=0).isel(neuron=slice(0, 3))
    with pytest.raises(InsufficientDataError, match="too few neurons"):
        manifold_capacity(crowded, n_dichotomies=8, n_boot=0, random_state=0)
    # centroids buried in noise: the bias-corrected centroid norm is not positive
    noise = make_recording(np.zeros((5, 30)), n_trials=4, noise_sd=1.0, rng=5)
    with pytest.raises(InsufficientDataError, match="centroid"):
        mean_field_capacity(noise, n_boot=0)


def test_time_dim_is_averaged_and_scale_does_not_matter():
    rec = manifold_recording(0.7, 2.0, n_conditions=6, n_neurons=30, n_trials=8, rng=6)
    binned = xr.concat([rec, rec], dim="time").transpose("trial", "neuron", "time")
    a = mean_field_capacity(rec, n_boot=0, random_state=0)
    b = mean_field_capacity(binned * 7.0, n_boot=0, random_state=0)
    assert float(a["mean_field_capacity"]) == pytest.approx(float(b["mean_field_capacity"]), rel=1e-9)
    s1 = manifold_capacity(rec, n_dichotomies=16, n_boot=0, random_state=0)
    s2 = manifold_capacity(rec * 7.0, n_dichotomies=16, n_boot=0, random_state=0)
    assert float(s1["manifold_capacity"]) == pytest.approx(float(s2["manifold_capacity"]), rel=1e-6)


def test_fourth_moments_equal_the_brute_force_u_statistics():
    x = np.random.default_rng(7).standard_normal((7, 3)) * [1.0, 2.0, 0.5] + 1.0
    squared = of_square = 0.0
    tuples = list(itertools.permutations(range(7), 4))
    for i, j, k, l in tuples:
        y, z = x[i] - x[j], x[k] - x[l]
        of_square += (y @ z) ** 2 / 4
        squared += (y @ y) * (z @ z) / 4
    got = _fourth_moments(x - x.mean(0))
    assert got == pytest.approx((squared / len(tuples), of_square / len(tuples)), rel=1e-10)
