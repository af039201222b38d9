"""Two-time DMFT of the deep linear network in its learning clock (any depth; no richness parameter).

Every weight update of the network of :mod:`neurolearn.theory.deep_linear` is rank one and proportional to
``gamma0 c(t) dt`` (``c = 1 - beta`` the residual along the task), so in the learning clock ``tau`` with
``d tau = gamma0 c dt`` the fields no longer depend on ``gamma0`` or ``c``. Along the task the forward fields
``h_l`` and backward fields ``g_l`` of a unit obey (Bordelon & Pehlevan 2022, the deep linear case of the
self-consistent DMFT)::

    h_l = u_l + [R^h_{l-1} + H_{l-1} .] g_l,    g_l = r_l + [R^g_{l+1} + G_{l+1} .] h_l

with ``(K . g)(tau) = int_0^tau K(tau, s) g(s) ds``, Gaussian sources ``u_l ~ GP(0, H_{l-1})``, ``r_l ~ GP(0,
G_{l+1})`` (``H_0 = G_{L+1} = 1``), two-time kernels ``H_l(t, s) = h_l(t) . h_l(s) / N``, ``G_l`` likewise,
and the responses ``R^h_l = dh_l / dr_l``, ``R^g_l = dg_l / du_l`` (the Gaussian-integration-by-parts terms
of the initial random matrices). Each layer is linear: on a time grid ``h = (I - A B)^-1 (u + A r)``, so
``H_l``, ``G_l``, ``R^h_l``, ``R^g_l`` are matrix products. The network's output along the task is ``Phi =
gamma0 beta = <h_1 g_1>`` and ``dPhi / dtau = sum_{l=0}^{L} H_l G_{l+1}`` (equal-time values: the NTK along
the task, ``L + 1`` at the start). Solved by Picard sweeps up the layers, marching over windows of
``_WINDOW_STEPS`` steps (the equations are causal), trapezoid rule (error O(dtau^2)).

Examples
--------
One hidden layer: ``Phi = sinh(2 tau)``, ``K = cosh(2 tau)``.

>>> out = deep_linear_dmft(0.5, 1, 64)
>>> bool(abs(out["phi"][-1] - np.sinh(1.0)) < 1e-3), bool(abs(out["kernel"][0, -1] - np.cosh(1.0)) < 1e-3)
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn.errors import FitError

__all__ = ["deep_linear_dmft"]

# Picard iteration: time windows marched in order, tolerance on the kernels
_WINDOW_STEPS, _TOL, _STALL, _MAX_ITER = 6, 1e-10, 1e-8, 2000


def deep_linear_dmft(tau_max: float, depth: int, n_steps: int = 32) -> dict:
    """Solve the DMFT on ``n_steps`` uniform steps of the learning clock ``[0, tau_max]``.

    Returns ``{"tau": (T,), "phi": (T,) gamma0 beta, "ntk": (T,) dPhi/dtau, "kernel": (depth, T) K_l =
    H_l(tau, tau), "gradient": (depth, T) G_l(tau, tau), "iterations": int}``.

    Raises
    ------
    FitError
        ``tau_max <= 0``, ``depth < 1``, ``n_steps < 2``, or the iteration diverged or did not converge.
    """
    if not (tau_max > 0 and int(depth) >= 1 and int(n_steps) >= 2):
        raise FitError(f"deep-linear DMFT: expected tau_max > 0, depth >= 1, n_steps >= 2, found {tau_max!r}, "
                       f"{depth!r}, {n_steps!r}")
    depth, n_steps = int(depth), int(n_steps)
    dt = tau_max / n_steps
    state = None
    iterations = 0
    n_windows = max(1, math.ceil(n_steps / _WINDOW_STEPS))
    for window in range(1, n_windows + 1):
        m = round(n_steps * window / n_windows) + 1
        weights = np.tril(np.full((m, m), dt))
        weights[:, 0] = dt / 2.0
        np.fill_diagonal(weights, dt / 2.0)
        weights[0, 0] = 0.0
        state = _initial_state(m, depth) if state is None else _extend(state, m)
        previous = np.inf
        for _ in range(_MAX_ITER):
            new, phi = _sweep(state, depth, weights)
            iterations += 1
            change = max(float(np.max(np.abs(a - b))) for a, b in zip(new[0][1:] + new[1][1:-1],
                                                                       state[0][1:] + state[1][1:-1]))
            state = new
            if not np.isfinite(change):
                raise FitError(f"deep-linear DMFT: the iteration diverged at depth {depth}, tau = {tau_max:g}")
            # converged, or stalled at the round-off floor of the linear solves
            if change < _TOL or (change < _STALL and change >= 0.9 * previous):
                break
            previous = change
        else:
            raise FitError(f"deep-linear DMFT: no convergence in {_MAX_ITER} iterations at depth {depth}, "
                           f"tau = {tau_max:g}")
    kernels, grads, _, _ = state
    h = np.array([np.diag(k) for k in kernels])  # (depth + 1, T), H_0 = 1
    g = np.array([np.diag(k) for k in grads[1:]])  # (depth + 1, T): G_1 .. G_{L+1} = 1
    return {"tau": np.linspace(0.0, tau_max, n_steps + 1), "phi": phi, "ntk": np.sum(h * g, axis=0),
            "kernel": h[1:], "gradient": g[:-1], "iterations": iterations}


def _initial_state(m, depth):
    """Kernels, gradient kernels and responses before any iteration: the lazy state."""
    ones, zeros = np.ones((m, m)), np.zeros((m, m))
    return [ones] * (depth + 1), [ones] * (depth + 2), [zeros] * (depth + 1), [zeros] * (depth + 2)


def _extend(state, m):
    """A solution on a shorter grid, held constant onto ``m`` points (the next window's first guess)."""
    def hold(a):
        index = np.minimum(np.arange(m), a.shape[0] - 1)
        return a[np.ix_(index, index)]

    def pad(a):
        out = np.zeros((m, m))
        out[:a.shape[0], :a.shape[0]] = a
        return out

    kernels, grads, resp_h, resp_g = state
    return [hold(a) for a in kernels], [hold(a) for a in grads], [pad(a) for a in resp_h], [pad(a) for a in resp_g]


def _sweep(state, depth, weights):
    """One Picard sweep up the layers: each layer's linear system solved with the current kernels; and Phi."""
    kernels, grads, resp_h, resp_g = state
    kernels, new_grads, resp_h, new_resp_g = list(kernels), list(grads), list(resp_h), list(resp_g)
    eye = np.eye(weights.shape[0])
    phi = None
    for layer in range(1, depth + 1):
        # forward and backward memory operators: response of the layer below/above plus the rank-one updates
        forward = resp_h[layer - 1] + kernels[layer - 1] * weights
        backward = resp_g[layer + 1] + grads[layer + 1] * weights
        inv_h = np.linalg.inv(eye - forward @ backward)
        inv_g = np.linalg.inv(eye - backward @ forward)
        source_h, source_g = kernels[layer - 1], grads[layer + 1]
        kernels[layer] = inv_h @ (source_h + forward @ source_g @ forward.T) @ inv_h.T
        new_grads[layer] = inv_g @ (source_g + backward @ source_h @ backward.T) @ inv_g.T
        resp_h[layer] = inv_h @ forward
        new_resp_g[layer] = inv_g @ backward
        if layer == 1:
            phi = np.einsum("ij,ij->i", inv_h @ (source_h @ backward.T + forward @ source_g), inv_g)
    return (kernels, new_grads, resp_h, new_resp_g), phi
