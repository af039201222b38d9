"""The two-hidden-layer network's wide limit as an ODE over the spectrum of its hidden matrix (exact closure).

In the network of :mod:`neurolearn.theory.deep_linear` with ``L = 2`` (``X = W_2 / sqrt(N)``, task column
``v = W_1 e_1``, readout ``a``) every update is along the task, ``v' = gamma0 c X^T a``, ``a' = gamma0 c X v``,
``X' = (gamma0 / N) c a v^T``, and two quantities are conserved (the deep linear network's balancedness):
``N X^T X - v v^T`` and ``|a|^2 - |v|^2``. With ``q = X^T a`` (the backward field of layer 1) this closes on
the right space of the initial matrix ``X_0``::

    v' = gamma0 c q,    q' = gamma0 c [(|a|^2 + |v|^2) / N v + X_0^T X_0 v - (v_0 . v / N) v_0]

In the eigenbasis of ``X_0^T X_0`` (eigenvalue ``lambda = sigma^2``; ``sigma`` the quarter-circle law on
``[0, 2]`` as ``N -> infinity``) the initial ``v_0`` has iid standard-normal components ``xi`` and ``q_0 = X_0^T
a_0`` components ``sigma eta`` (``eta`` iid, independent of ``xi``), so each mode is ``v = x(sigma) xi + y(sigma)
eta``, ``q = z xi + w eta`` with, in the learning clock ``tau`` (``d tau = gamma0 c dt``)::

    x' = z,  z' = (2 V + sigma^2) x - s,  y' = w,  w' = (2 V + sigma^2) y,
    x(0) = 1, z(0) = 0, y(0) = 0, w(0) = sigma,
    V = E[x^2 + y^2],  s = E[x]   (expectations over the quarter-circle law)

The layer kernels along the task are ``K_1 = V``, ``K_2 = E[sigma^2 (x^2 + y^2)] + V^2 - s^2``, the backward
kernel of layer 1 ``G_1 = E[z^2 + w^2]`` (``= K_2``, the mirror symmetry), the network's output along the task
``Phi = gamma0 beta = a . X v / N`` with ``Phi' = F = K_2 + V^2 + G_1`` (the NTK along the task; 3 = L + 1 at
the start). Nothing here depends on ``gamma0``: it enters only the clock (:mod:`neurolearn.theory.deep_linear`).
The expectations are Gauss-Legendre sums in ``phi`` with ``sigma = 2 sin(phi)`` (the law's square-root edge
made smooth); 24 nodes agree with 48 to 1e-10 over the fitted range. This is an independent route to the
two-time DMFT's answer (:mod:`neurolearn.theory.deep_linear_dmft`; they agree to its O(dt^2) grid error).

Examples
--------
>>> out = spectral_solution(np.array([0.0, 0.3]))
>>> np.round(out["phi"], 4).tolist(), np.round(out["kernel"][:, 1], 4).tolist()
([0.0, 1.1493], [1.3056, 2.0193])
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from neurolearn.errors import FitError

__all__ = ["spectral_solution", "quarter_circle_nodes"]

_NODES, _RTOL, _ATOL = 24, 1e-11, 1e-13


def quarter_circle_nodes(n_nodes: int = _NODES):
    """Nodes ``sigma`` and weights of a Gauss-Legendre rule for the quarter-circle law ``sqrt(4 - s^2) / pi``.

    Examples
    --------
    >>> s, w = quarter_circle_nodes(8)
    >>> round(float(w.sum()), 6), round(float(w @ s**2), 6), round(float(w @ s**4), 6)  # 1, E l, E l^2 (to 1e-10)
    (1.0, 1.0, 2.0)
    """
    x, w = np.polynomial.legendre.leggauss(int(n_nodes))
    phi = (x + 1.0) * np.pi / 4.0
    return 2.0 * np.sin(phi), w * np.cos(phi) ** 2


def spectral_solution(tau, n_nodes: int = _NODES) -> dict:
    """The ``L = 2`` wide-limit state at learning-clock values ``tau`` (non-decreasing, >= 0).

    Returns ``{"tau": (T,), "phi": (T,) Phi = gamma0 beta, "ntk": (T,) F = dPhi/dtau, "kernel": (2, T) K_1,
    K_2, "gradient": (2, T) G_1, G_2}``.
    """
    tau = np.asarray(tau, dtype=float)
    if tau.ndim != 1 or tau.size == 0 or np.any(tau < 0) or np.any(np.diff(tau) < 0):
        raise FitError(f"deep-linear spectral closure: expected non-decreasing tau >= 0, found {tau!r}")
    sigma, weight = quarter_circle_nodes(n_nodes)
    lam = sigma * sigma
    q = sigma.size

    def moments(state):
        x, z, y, w = state[:q], state[q:2 * q], state[2 * q:3 * q], state[3 * q:4 * q]
        modes = lam if state.ndim == 1 else lam[:, None]
        v = weight @ (x * x + y * y)
        s = weight @ x
        k2 = weight @ (modes * (x * x + y * y)) + v * v - s * s
        g1 = weight @ (z * z + w * w)
        return v, s, k2, g1

    def rhs(_, state):
        x, z, y, w = state[:q], state[q:2 * q], state[2 * q:3 * q], state[3 * q:4 * q]
        v, s, k2, g1 = moments(state)
        return np.concatenate([z, (2.0 * v + lam) * x - s, w, (2.0 * v + lam) * y, [k2 + v * v + g1]])

    start = np.concatenate([np.ones(q), np.zeros(q), np.zeros(q), sigma, [0.0]])
    if tau[-1] > 0:
        sol = solve_ivp(rhs, (0.0, float(tau[-1])), start, method="DOP853", t_eval=tau, rtol=_RTOL, atol=_ATOL)
        if not sol.success:
            raise FitError(f"deep-linear spectral closure: the ODE failed to tau = {tau[-1]:g}: {sol.message}")
        states = sol.y
    else:
        states = np.repeat(start[:, None], tau.size, axis=1)
    v, s, k2, g1 = moments(states)
    return {"tau": tau, "phi": states[-1], "ntk": k2 + v * v + g1, "kernel": np.stack([v, k2]),
            "gradient": np.stack([g1, v])}
