"""The integrator's flow on its invariant plane (W = [[a, b], [c, a]], v = S u): the 8-number flow's loss,
gradient and Heun steps, to rounding."""

import math

import numpy as np
import pytest

from neurolearn.theory import integrator
from neurolearn.theory.integrator_symmetric import advance, loss_gradient, spectral_radius


def _plane_states(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        a, b, c = 0.5 * rng.standard_normal(3)
        if np.max(np.abs(np.linalg.eigvals([[a, b], [c, a]]))) < 0.95:
            out.append((a, b, c, *rng.standard_normal(2)))
    return out


@pytest.mark.parametrize("rho", [0.3, 0.9, 0.99])
def test_plane_loss_and_gradient_are_the_full_ones(rho):
    # independent: the 8-number closed form (two Lyapunov Gramians by Cramer's rule) at the mirrored state,
    # whose gradient must itself be mirrored (dL/dd = dL/da, dL/dv = S dL/du)
    offset = 0.5 / (1.0 - rho * rho)
    for a, b, c, u1, u2 in _plane_states(50):
        full = integrator._loss_gradient_flat(a, b, c, a, u1, u2, u2, u1, rho, offset)
        plane = loss_gradient(a, b, c, u1, u2, rho, offset)
        scale = max(map(abs, full))
        expected = (full[0], full[1], full[2], full[3], full[5], full[6])
        np.testing.assert_allclose(plane, expected, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose([full[4], full[7], full[8]], [full[1], full[6], full[5]], rtol=0,
                                   atol=1e-12 * scale)
        assert spectral_radius(a, b, c) == pytest.approx(integrator._spectral_radius(a, b, c, a), rel=1e-12)


def test_inlined_plane_step_is_the_plane_heun_step():
    # advance() inlines loss_gradient: one stored step of it is two Heun half-steps written with the function
    rho, h = 0.9, 0.004
    offset = 0.5 / (1.0 - rho * rho)
    for state in _plane_states(20, seed=1):
        loss, *grad = loss_gradient(*state, rho, offset)
        new_state, new_loss, new_grad, substeps, radius = advance(state, loss, tuple(grad), 2, h, 64, rho)
        s, g = state, grad
        for _ in range(substeps):
            trial = [x - (h / substeps) * y for x, y in zip(s, g)]
            _, *g2 = loss_gradient(*trial, rho, offset)
            s = [x - 0.5 * (h / substeps) * (y + z) for x, y, z in zip(s, g, g2)]
            _, *g = loss_gradient(*s, rho, offset)
        if radius is None:
            continue  # frozen: nothing to compare
        np.testing.assert_allclose(new_state, s, rtol=0, atol=1e-15)
        np.testing.assert_allclose(new_grad, g, rtol=0, atol=1e-13 * max(1.0, max(map(abs, g))))
        assert radius == pytest.approx(spectral_radius(*s[:3]), rel=1e-15)


@pytest.mark.parametrize("rho, gain", [(0.9, 4.0), (0.97, 1.2), (0.6, 25.0), (0.96, 5.0), (0.8, 11.0),
                                       (0.3, 0.3), (0.995, 30.0), (0.9867, 1.6), (0.8998, 8.63)])
def test_plane_trajectory_is_the_8_number_trajectory_to_its_own_rounding(rho, gain):
    # the 8-number flow from the same start is the exact computation (two_unit_flow's); its trajectory is only
    # defined to rounding: moving its start by one unit in the last place moves it by ~1e-12 where the flow
    # is mild and by 1e-10 to 3e-7 where the step is split 64-128x (measured); the plane run must stay within
    # 10x that and 1e-11, and take the same discrete decisions (halvings, freezing)
    n_points = 2002
    root = math.sqrt(gain)
    start = (0.0, 0.0, 0.0, 0.0, root, 0.0, 0.0, root)
    full = integrator._Trajectory(rho, gain, start=start)
    nudged = integrator._Trajectory(rho, gain, start=(*start[:7], np.nextafter(root, 10.0)))
    plane = integrator._Trajectory(rho, gain)
    (o8, l8), (on, ln), (o5, l5) = full.extend(n_points), nudged.extend(n_points), plane.extend(n_points)
    own = max(np.abs(o8 - on).max(), np.abs(l8 - ln).max() / l8[0])
    difference = max(np.abs(o8 - o5).max(), np.abs(l8 - l5).max() / l8[0])
    assert difference <= max(1e-11, 10.0 * own)
    assert (plane.substeps, plane.stationary) == (full.substeps, full.stationary)
