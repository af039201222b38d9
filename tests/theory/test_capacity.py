"""The `capacity` model: the ball formula against quadrature and its known limits, the relaxation, the declaration."""

import numpy as np
import pytest
from scipy import integrate, stats

from neurolearn.theory import MODELS
from neurolearn.theory.capacity import MODEL, ball_capacity, capacity_statistics


def _quad_ball_capacity(radius, dimension):
    """Independent implementation: the double integral of Chung, Lee & Sompolinsky (2016) by adaptive quadrature."""
    def inner(t):
        touching = integrate.quad(lambda t0: stats.norm.pdf(t0) * (radius * t - t0) ** 2 / (1 + radius ** 2),
                                  -t / radius, radius * t)[0]
        embedded = integrate.quad(lambda t0: stats.norm.pdf(t0) * (t0 ** 2 + t ** 2), -np.inf, -t / radius)[0]
        return stats.chi.pdf(t, dimension) * (touching + embedded)

    return 1.0 / integrate.quad(inner, 0, np.inf, limit=200)[0]


@pytest.mark.parametrize("radius,dimension", [(0.5, 3.0), (1.0, 1.0), (2.0, 10.5), (0.3, 100.0), (5.0, 2.0)])
def test_ball_capacity_matches_quadrature(radius, dimension):
    assert ball_capacity(radius, dimension) == pytest.approx(_quad_ball_capacity(radius, dimension), rel=1e-5)


def test_known_limits():
    # points: Cover's P/N = 2 whatever D; an affine D-subspace per manifold: 1/(D + 1/2)
    assert np.allclose(ball_capacity(0.0, [1.0, 5.0, 50.0]), 2.0, atol=1e-9)
    for d in (1.0, 3.0, 10.0):
        assert ball_capacity(1e6, d) == pytest.approx(1.0 / (d + 0.5), rel=1e-3)
    # large D: (1 + R^-2) / D, with the O(D^-1/2) correction shrinking
    gaps = [abs(ball_capacity(1.0, d) * d / 2.0 - 1.0) for d in (50.0, 400.0)]
    assert gaps[1] < gaps[0] < 0.1


def test_capacity_falls_with_radius_and_dimension():
    radii = np.linspace(0.0, 3.0, 13)
    assert np.all(np.diff(ball_capacity(radii, 4.0)) < 0)
    assert np.all(np.diff(ball_capacity(1.0, np.arange(1.0, 20.0))) < 0)


def test_relaxation_and_prediction():
    out = capacity_statistics(np.array([0.0, 1.0, 1e3]), radius_initial=2.0, radius_final=0.5,
                              dimension_initial=6.0, dimension_final=2.0, rate=0.7)
    assert out["manifold_radius"][1] == pytest.approx(0.5 + 1.5 * np.exp(-0.7))
    assert out["manifold_dimension"][2] == pytest.approx(2.0)
    assert out["manifold_capacity"][2] == pytest.approx(float(ball_capacity(0.5, 2.0)))
    ds = MODEL.predict(np.arange(5.0))
    assert set(ds.data_vars) == set(MODEL.observables) and ds.sizes["time"] == 5


def test_registered():
    assert MODELS["capacity"] is MODEL
    assert "manifold_capacity" in MODEL.observables
