"""The manifold simulator: the declared radius and dimension are the clouds' exact second moments."""

import numpy as np
import pytest

from neurolearn.data import session_recordings, validate_recording
from neurolearn.errors import DataError
from neurolearn.simulate.manifolds import condition_dimensions, manifold_recording, manifold_sessions
from neurolearn.theory.capacity import ball_capacity


@pytest.mark.parametrize("dimension,n", [(1.0, 5), (1.7, 10), (3.0, 4), (4.25, 8)])
def test_condition_dimensions_have_the_nearest_mean(dimension, n):
    dims = condition_dimensions(dimension, n)
    assert dims.size == n and set(dims) <= {int(np.floor(dimension)), int(np.ceil(dimension))}
    assert abs(dims.mean() - dimension) <= 0.5 / n + 1e-12


def test_dimension_below_one_refused():
    with pytest.raises(DataError):
        condition_dimensions(0.5, 4)


def test_recording_geometry_is_the_declared_one():
    radius, dimension, p, m = 0.8, 2.5, 6, 4000  # three circles and three 3-spheres
    rec = manifold_recording(radius, dimension, n_conditions=p, n_neurons=60, n_trials=m, rng=3)
    validate_recording(rec)
    x = rec.values
    labels = rec.stimulus.values
    means = np.array([x[labels == c].mean(0) for c in range(p)])
    assert np.allclose(means.mean(0), 0.0, atol=0.05)
    for c in range(p):
        cov = np.cov(x[labels == c].T)
        # sampling error of the moments with m = 4000 trials: a few per cent
        assert np.trace(cov) == pytest.approx(radius ** 2, rel=0.05)
        assert np.trace(cov) ** 2 / np.trace(cov @ cov) == pytest.approx(rec.attrs["condition_dimensions"][c],
                                                                         rel=0.05)
        assert np.linalg.norm(means[c]) == pytest.approx(1.0, abs=0.05)
        # every trial lies on the sphere: its distance to the centroid is the radius
        assert np.allclose(np.linalg.norm(x[labels == c] - means[c], axis=1), radius, atol=0.05)
    assert np.mean(rec.attrs["condition_dimensions"]) == pytest.approx(dimension)


def test_sessions_shrink_with_truth():
    tree, truth = manifold_sessions(4, radius_initial=1.0, radius_final=0.2, dimension_initial=4.0,
                                    dimension_final=2.0, rate=1.0, n_conditions=5, n_neurons=40, n_trials=3, rng=0)
    assert list(session_recordings(tree)) == ["day0", "day1", "day2", "day3"]
    r = truth.manifold_radius.values
    assert r[0] == pytest.approx(1.0) and np.all(np.diff(r) < 0)
    assert np.allclose(truth.mean_field_capacity, ball_capacity(r, truth.manifold_dimension.values))
    assert truth.session_index.values.tolist() == [0, 1, 2, 3]


def test_too_few_neurons_refused():
    with pytest.raises(DataError, match="neurons"):
        manifold_recording(1.0, 4.0, n_conditions=10, n_neurons=30, n_trials=2, rng=0)
