"""Eigenspectrum, cumulative target power, power law, and the learning curve predicted from a kernel."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.spectral import (
    eigenspectrum,
    powerlaw_exponent,
    predicted_learning_curve,
    spectral_summary,
)


def _kernel_with_spectrum(rng, eigenvalues, target_power):
    """A P x P kernel whose Φ/P has the given eigenvalues, and a target with the given v_k² = (u_k·y)²/P."""
    n = eigenvalues.size
    basis, _ = np.linalg.qr(rng.standard_normal((n, n)))
    kernel = basis @ np.diag(n * eigenvalues) @ basis.T
    return kernel, basis @ np.sqrt(target_power * n)


def test_learning_curve_matches_theory_reference_table(rng):
    """docs/theory.md: η_k ∝ k^-1.5, v_k² ∝ k^-2, 400 modes, ridgeless."""
    k = np.arange(1, 401)
    with threadpool_limits(1):  # 400 x 400 LAPACK calls: threads only contend on the shared CI machine
        kernel, y = _kernel_with_spectrum(rng, k**-1.5, k**-2.0)
        curve = predicted_learning_curve(kernel, y, n_train=[5, 10, 20, 40, 80, 160, 320])
    reference = [0.279, 0.152, 0.0772, 0.0373, 0.0168, 0.00647, 0.00115]
    np.testing.assert_allclose(curve.values, reference, rtol=0.01)
    assert curve.dims == ("n_train",) and curve.name == "generalization_error"


def test_learning_curve_from_a_recording_uses_its_kernel(rng):
    y = np.repeat([1.0, -1.0], 5)
    rec = make_recording(np.outer(y, rng.standard_normal(100)) + 0.3 * rng.standard_normal((10, 100)),
                         n_trials=3, noise_sd=0.2, target=y, rng=1)
    curve = predicted_learning_curve(rec, "target", n_train=[2, 8], ridge=1e-3)
    from neurolearn.stats.kernels import unbiased_kernel

    expected = predicted_learning_curve(unbiased_kernel(rec).values, y, n_train=[2, 8], ridge=1e-3)
    np.testing.assert_allclose(curve.values, expected.values)
    assert curve.values[1] < curve.values[0]


def test_eigenspectrum_projections_and_cumulative_power(rng):
    # a kernel over 5 conditions whose centred part has the given spectrum on the 4 contrasts, plus a
    # condition-independent component (baseline rates) the centred spectrum must not see
    eigenvalues = np.array([0.5, 0.3, 0.15, 0.05])
    n_cond = 5
    H = np.eye(n_cond) - np.ones((n_cond, n_cond)) / n_cond
    contrasts = np.linalg.svd(H)[0][:, :4]  # orthonormal, orthogonal to 1, independent of the code's basis
    rotation, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    vectors = contrasts @ rotation
    responses = vectors @ np.diag(np.sqrt(n_cond * eigenvalues)) @ np.linalg.qr(rng.standard_normal((4, 4)))[0]
    baseline = np.outer(np.ones(n_cond), rng.uniform(2.0, 9.0, 4))
    n_neurons = 4
    labels = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    rec = make_recording((responses + baseline) * np.sqrt(n_neurons), n_trials=2, target=labels, rng=0)
    spec = eigenspectrum(rec)
    np.testing.assert_allclose(spec["eigenvalue"].values, eigenvalues, atol=1e-9)
    expected_power = (vectors.T @ (H @ labels)) ** 2 / n_cond
    np.testing.assert_allclose(spec["target_power"].values, expected_power, atol=1e-9)
    np.testing.assert_allclose(spec["cumulative_power"].values, np.cumsum(expected_power) / expected_power.sum())
    assert spec.attrs["n_trustworthy"] == 2  # floor(sqrt(4 neurons))
    assert spec["trustworthy"].values.tolist() == [True, True, False, False]


def test_powerlaw_exponent_exact_and_recovered_from_data(rng):
    assert powerlaw_exponent(np.arange(1, 50) ** -1.7) == pytest.approx(1.7)
    assert np.isnan(powerlaw_exponent([1.0, 0.5]))
    n_cond = 40
    basis, _ = np.linalg.qr(rng.standard_normal((n_cond, n_cond)))
    k = np.arange(1, n_cond + 1)
    means = basis @ np.diag(k**-0.75) @ rng.standard_normal((n_cond, 3000))  # η_k ∝ k^-1.5
    y = np.sign(basis[:, 0])
    ds = spectral_summary(make_recording(means, n_trials=2, noise_sd=0.5, target=y, rng=1), n_boot=100, random_state=0)
    assert float(ds["powerlaw_exponent"]) == pytest.approx(1.5, abs=0.15)
    lower, upper = ds["powerlaw_exponent_ci"].values
    assert lower < float(ds["powerlaw_exponent"]) < upper
    assert ds.attrs["n_trustworthy"] == 39 and ds.attrs["spectral_power_k"] == 10  # P - 1 contrast modes
    # y = sign of the top eigenvector: most target power is in the top modes
    assert float(ds["spectral_power"]) > 0.5


def test_errors(rng):
    with pytest.raises(DataError, match="kernel: expected shape"):
        predicted_learning_curve(np.eye(3), [1, -1])
    rec = make_recording(rng.standard_normal((4, 5)), n_trials=2, target=[1, -1, 1, -1], rng=0)
    with pytest.raises(DataError, match="estimator"):
        eigenspectrum(rec, estimator="split-half")


def test_spectral_values_in_range_and_intervals_contain_estimates():
    """Spiking sessions (log-normal rates, Poisson counts) including ones without stimulus structure:
    C(k) is a fraction of the target's power, so always in [0, 1]; every interval contains its estimate."""
    from neurolearn.simulate.spiking import spiking_sessions

    for seed in range(12):
        tree, _ = spiking_sessions(n_sessions=2, n_conditions=8, n_trials=2, n_neurons=30,
                                   gain=0.5 * (seed % 2), random_state=seed)
        for key in tree.children:
            ds = spectral_summary(tree[key]["responses"], n_modes=3, n_boot=60, random_state=seed)
            for name in ("spectral_power", "powerlaw_exponent"):
                value = float(ds[name])
                if np.isnan(value):
                    continue
                lower, upper = ds[f"{name}_ci"].values
                assert lower <= value <= upper, (seed, key, name)
            assert 0.0 <= float(ds["spectral_power"]) <= 1.0


def test_spectral_refusals_name_the_reason(rng):
    from neurolearn.errors import InsufficientDataError
    from neurolearn.stats.kernels import ConditionStatistics
    from neurolearn.stats.spectral import spectral_with_replicates

    def stats(n_cond, target):
        return ConditionStatistics(rng.standard_normal((n_cond, 10)), np.full((n_cond, 10), 0.1),
                                   np.full(n_cond, 2), np.arange(n_cond), np.arange(10), target, "s")

    with pytest.raises(InsufficientDataError, match="no task label"):
        spectral_with_replicates(stats(4, None))
    with pytest.raises(InsufficientDataError, match="one class"):
        spectral_with_replicates(stats(4, np.ones(4)))
    with pytest.raises(InsufficientDataError, match="fewer than 3 conditions"):
        spectral_with_replicates(stats(2, np.array([1, -1])))


def test_spectral_statistics_do_not_move_with_baseline_rates():
    # adversary S3-10: the uncentred powerlaw_exponent of one population rose 2.9 -> 3.6 as its baselines rose
    # from 60 to 240 spikes/s (the mean-rate mode joined the spectrum); the centred spectrum does not see them
    n_cond = 16
    basis, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((n_cond, n_cond)))
    k = np.arange(1, n_cond + 1)
    means = basis @ np.diag(k**-0.75) @ np.random.default_rng(4).standard_normal((n_cond, 400))
    y = np.sign(basis[:, 0])
    rec = make_recording(means, n_trials=3, noise_sd=0.3, target=y, rng=1)
    base = spectral_summary(rec, n_boot=40, random_state=0)
    shifted = spectral_summary(rec + np.random.default_rng(5).uniform(10.0, 60.0, rec.sizes["neuron"]),
                               n_boot=40, random_state=0)
    for name in ("spectral_power", "powerlaw_exponent"):
        assert float(shifted[name]) == pytest.approx(float(base[name]), rel=1e-8), name
        assert float(shifted[f"{name}_se"]) == pytest.approx(float(base[f"{name}_se"]), rel=1e-6), name
