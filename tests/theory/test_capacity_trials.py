"""The `capacity` model's manifold_capacity is the full manifolds' capacity: it matches the simulation capacity
of sampled trials where they fill the manifolds (the statistic's flag empty) and not where they do not."""

import numpy as np
import pytest

from neurolearn.simulate.manifolds import manifold_recording
from neurolearn.stats.capacity import FILL_RATIO, manifold_capacity
from neurolearn.theory.capacity import capacity_statistics


def _simulated(radius, dimension, n_trials, seed):
    rec = manifold_recording(radius, dimension, n_conditions=16, n_neurons=160, n_trials=n_trials, rng=seed)
    return manifold_capacity(rec, n_dichotomies=48, n_boot=0, random_state=seed)


def test_the_prediction_is_the_simulation_capacity_of_filled_manifolds_only():
    # uniform circles of radius 0.7 (the theory's balls): the model at R = 0.7, D = 2 against random
    # dichotomies of the sampled trials. At T = 20 D the sample's capacity is within ~1% of the ball formula
    # (measured 1.008); at T = 2 D it is 17% above (0.934 vs 0.797) and the statistic says so
    predicted = float(capacity_statistics([50.0], radius_initial=0.7, radius_final=0.7, dimension_initial=2.0,
                                          dimension_final=2.0)["manifold_capacity"][0])
    filled = _simulated(0.7, 2.0, int(2 * FILL_RATIO * 2), seed=1)
    assert float(filled["manifold_capacity"]) == pytest.approx(predicted, rel=0.06)
    assert str(filled["manifold_capacity_flag"].values) == ""
    sparse = _simulated(0.7, 2.0, 4, seed=1)
    assert float(sparse["manifold_capacity"]) > 1.08 * predicted
    assert "fewer than 10x the clouds' dimension" in str(sparse["manifold_capacity_flag"].values)
    assert sparse.attrs["trials_per_condition"] == 4 and np.isfinite(float(sparse["manifold_capacity"]))
