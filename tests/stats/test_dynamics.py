"""Dynamics statistics on simulated linear dynamical systems with known eigenvalues."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.dynamics import (
    autocorrelation_timescale,
    dynamics_summary,
    input_encoding,
    outlier_eigenvalues,
    population_timescale,
)

DT = 0.01


def _simulate(latent_matrix, rng, n_trials=600, n_bins=60, n_neurons=30, obs_sd=0.5, input_gain=None,
              inputs=None):
    """x_{k+1} = M x_k (+ g u_k) + ξ_k, observed as C x + noise in n_neurons; stationary start via burn-in."""
    m = np.asarray(latent_matrix, float)
    d = m.shape[0]
    burn = 100
    x = np.zeros((n_trials, d))
    states = np.zeros((n_trials, n_bins, d))
    for k in range(burn + n_bins):
        drive = 0.0
        if inputs is not None and k > burn:  # bin t is driven by the input of bin t - 1, as B u_k models
            drive = inputs[:, k - burn - 1, None] * input_gain
        x = x @ m.T + rng.standard_normal((n_trials, d)) + drive
        if k >= burn:
            states[:, k - burn] = x
    loading = rng.standard_normal((n_neurons, d))
    observed = states @ loading.T + obs_sd * rng.standard_normal((n_trials, n_bins, n_neurons))
    return xr.DataArray(observed.transpose(0, 2, 1), dims=("trial", "neuron", "time"),
                        coords={"time": DT * np.arange(n_bins)}, name="responses",
                        attrs={"session_id": "simulated"})


def _rotation(radius, angle):
    c, s = np.cos(angle), np.sin(angle)
    return radius * np.array([[c, -s], [s, c]])


def test_timescale_of_integrator_like_mode_is_recovered(rng):
    rec = _simulate(np.diag([0.95, 0.3, 0.1, -0.2]), rng)
    ds = population_timescale(rec, n_components=8, n_boot=200, random_state=0)
    truth = -DT / np.log(0.95)  # 0.195 s
    assert float(ds["timescale"]) == pytest.approx(truth, rel=0.10)
    assert float(ds["outlier_eigenvalue"]) == pytest.approx(0.95, abs=0.01)
    lo, hi = ds["timescale_ci"].values
    assert lo < truth < hi
    assert ds["timescale_ci"].attrs["level"] == 0.95
    out = outlier_eigenvalues(rec, n_components=8)
    assert out.attrs["count"] == 1 and out.attrs["n_real"] == 1
    assert abs(complex(out[0]) - 0.95) < 0.02


def test_slow_rotation_gives_a_complex_outlier_pair(rng):
    latent = np.zeros((4, 4))
    latent[:2, :2] = _rotation(0.95, 0.25)
    latent[2:, 2:] = np.diag([0.2, -0.1])
    rec = _simulate(latent, rng)
    out = outlier_eigenvalues(rec, n_components=8)
    assert out.attrs["count"] == 2 and out.attrs["n_complex"] == 2
    values = out.values
    assert values[0] == pytest.approx(np.conj(values[1]))
    assert abs(values[0]) == pytest.approx(0.95, abs=0.02)
    assert abs(np.angle(values[0])) == pytest.approx(0.25, abs=0.03)
    ds = population_timescale(rec, n_components=8, n_boot=0)
    assert float(ds["timescale"]) == pytest.approx(-DT / np.log(0.95), rel=0.10)


def test_transitions_never_cross_trial_boundaries(rng):
    # Each trial holds a constant pattern; consecutive trials are unrelated. Within trials A = 1 exactly,
    # across a boundary the best A would be ~0.
    constant = rng.standard_normal((200, 5, 1)) * np.ones((1, 1, 10))
    rec = xr.DataArray(constant, dims=("trial", "neuron", "time"), coords={"time": DT * np.arange(10)})
    ds = population_timescale(rec, n_components=5, ridge=1e-9, n_boot=0)
    assert float(ds["outlier_eigenvalue"]) == pytest.approx(1.0, abs=1e-6)


def test_input_is_not_mistaken_for_slow_dynamics(rng):
    # A fast mode (λ = 0.3) driven by a slowly varying input looks slow unless B u is fitted.
    n_trials, n_bins = 200, 60
    slow_input = np.cumsum(rng.standard_normal((n_trials, n_bins)), axis=1) * 0.5
    rec = _simulate(np.diag([0.3]), rng, n_trials=n_trials, n_bins=n_bins, n_neurons=10, obs_sd=0.2,
                    input_gain=np.array([3.0]), inputs=slow_input)
    rec = rec.assign_coords(u=(("trial", "time"), slow_input))
    without = float(population_timescale(rec, n_components=1, n_boot=0)["outlier_eigenvalue"])
    with_input = float(population_timescale(rec, n_components=1, input="u", n_boot=0)["outlier_eigenvalue"])
    assert without > 0.8
    assert with_input == pytest.approx(0.3, abs=0.05)


def test_autocorrelation_timescale_of_ar1_neurons(rng):
    lam, n_trials, n_bins = 0.9, 200, 80
    x = np.zeros((n_trials, 6, n_bins))
    x[..., 0] = rng.standard_normal((n_trials, 6)) / np.sqrt(1 - lam**2)
    for k in range(1, n_bins):
        x[..., k] = lam * x[..., k - 1] + rng.standard_normal((n_trials, 6))
    # A stimulus-locked mean time course that must not count as memory.
    x += 5 * np.sin(np.linspace(0, 3, n_bins))
    rec = xr.DataArray(x, dims=("trial", "neuron", "time"), coords={"time": DT * np.arange(n_bins)})
    ds = autocorrelation_timescale(rec, n_boot=100, random_state=0)
    truth = -DT / np.log(lam)
    assert float(ds["autocorrelation_timescale"]) == pytest.approx(truth, rel=0.10)
    lo, hi = ds["autocorrelation_timescale_ci"].values
    assert lo < float(ds["autocorrelation_timescale"]) < hi
    assert float(ds["autocorrelation"][1]) == pytest.approx(lam, abs=0.02)


def test_input_encoding_separates_integrator_from_leaky_code(rng):
    n_trials, n_bins = 120, 40
    u = rng.standard_normal((n_trials, n_bins))
    loading = rng.standard_normal(20)

    def population(leak):
        state = np.zeros((n_trials, n_bins))
        for k in range(n_bins):
            state[:, k] = (leak * state[:, k - 1] if k else 0.0) + u[:, k]
        x = state[:, None, :] * loading[None, :, None] + 0.3 * rng.standard_normal((n_trials, 20, n_bins))
        return xr.DataArray(x, dims=("trial", "neuron", "time"),
                            coords={"time": DT * np.arange(n_bins), "u": (("trial", "time"), u)})

    integrator = input_encoding(population(1.0), "u", n_boot=200, random_state=0)
    leaky = float(input_encoding(population(0.3), "u", n_boot=0, random_state=0)["input_encoding"])
    assert float(integrator["input_encoding"]) > 0.95
    assert leaky < 0.5
    assert float(integrator["input_encoding_chance"]) == 0.0
    lo, hi = integrator["input_encoding_ci"].values
    assert lo <= float(integrator["input_encoding"]) <= hi


def test_dynamics_summary_over_sessions(rng):
    recs = {f"day{d}": _simulate(np.diag([lam, 0.1]), rng, n_trials=80, n_bins=40, n_neurons=10)
            for d, lam in enumerate([0.6, 0.8, 0.95])}
    ds = dynamics_summary(recs, n_boot=100, random_state=0, n_components=4)
    assert ds["session"].values.tolist() == ["day0", "day1", "day2"]
    assert ds["session_index"].values.tolist() == [0, 1, 2]
    for stat in ("timescale", "outlier_eigenvalue"):
        assert ds[stat].dims == ("session",)
        assert ds[f"{stat}_ci"].dims == ("session", "ci_bound")
        assert ds[f"{stat}_ci"].attrs["level"] == 0.95
        assert np.all(ds[f"{stat}_se"] > 0)
    assert np.all(np.diff(ds["timescale"].values) > 0)
    truths = -DT / np.log(np.array([0.6, 0.8, 0.95]))
    inside = (ds["timescale_ci"].sel(ci_bound="lower") < truths) & (truths < ds["timescale_ci"].sel(ci_bound="upper"))
    assert int(inside.sum()) >= 2
    # Identical sessions give identical values.
    twin = dynamics_summary({"a": recs["day1"], "b": recs["day1"]}, n_boot=20, random_state=3, n_components=4)
    assert float(twin["timescale_se"][0]) == float(twin["timescale_se"][1])


def test_bad_input_is_refused(rng):
    rec = _simulate(np.diag([0.5]), rng, n_trials=10, n_bins=8, n_neurons=3)
    with pytest.raises(DataError, match="expect dims \\('trial', 'neuron', 'time'\\), found \\('trial', 'neuron'\\)"):
        population_timescale(rec.mean("time"))
    with pytest.raises(DataError, match="expect dims"):
        dynamics_summary({"s": rec.isel(time=0, drop=True)})
    with pytest.raises(DataError, match="uniformly spaced time bins"):
        population_timescale(rec.assign_coords(time=np.r_[0, 0.01, 0.05, np.arange(3, 8) * 0.1]))
    with pytest.raises(DataError, match="at least 3 time bins"):
        autocorrelation_timescale(rec.isel(time=slice(0, 2)))
    bad = rec.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="expected finite responses"):
        population_timescale(bad)
    with pytest.raises(DataError, match="expected finite responses"):
        population_timescale(bad.chunk({"trial": 5}))  # dask-backed: checked once values are computed
    with pytest.raises(DataError, match=r"expected an input coord 'stimulus_drive'.*found \(trial, time\) coords \[\]"):
        input_encoding(rec, "stimulus_drive")
    with pytest.raises(DataError, match="expected input of shape"):
        population_timescale(rec, input=xr.DataArray(np.zeros((10, 3)), dims=("trial", "time")))
    with pytest.raises(DataError, match="non-empty dict"):
        dynamics_summary([rec])
