"""Small generators with known truth for the readout tests."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.simulate.recording import make_recording


def gaussian_classes(dprime, n_neurons, n_trials, rng, covariance=None):
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


def points(points, labels, n_trials=2):
    """A noiseless recording whose condition means are exactly ``points``."""
    return make_recording(np.asarray(points, float), n_trials=n_trials, target=labels, rng=0)


def binary_recording(n_trials=4):
    labels = np.repeat([1, -1], 5)
    return make_recording(np.c_[labels, np.arange(10.0)], n_trials=n_trials, noise_sd=0.1, target=labels, rng=0)
