"""The "deep-linear" model: a deep linear network learning one task direction, kernels layer by layer.

The network (simulated by :mod:`neurolearn.simulate.deep_linear`) has ``L`` hidden layers of width ``N`` in
the mean-field / muP parameterisation with richness ``gamma0``::

    h_1 = W_1 x,   h_l = W_l h_{l-1} / sqrt(N)  (l = 2 .. L),   f = a . h_L / (gamma0 N)

with whitened inputs ``x`` (D dims), every weight ``~ N(0, 1)`` at the start, the centred output
``f - f_0`` trained by gradient flow on the squared error to the target ``y = e_1 . x``, learning rate
``gamma0^2 N``. ``L = 1`` is the ``"lazy-rich"`` network.

Exact reduction (N -> infinity): dynamical mean-field theory (Bordelon & Pehlevan 2022, self-consistent DMFT
of kernel evolution, its deep linear case). Every weight update is rank one (``dW_1 = gamma0 c g_1 e_1^T``,
``dW_l / sqrt(N) = (gamma0 / N) c g_l h_{l-1}^T``, ``da = gamma0 c h_L`` with ``c(t) = 1 - beta(t)`` the
residual along the task), so inputs orthogonal to ``e_1`` keep their initial kernel 1 in every layer, and the
task direction's forward fields ``h_l(t)`` and backward fields ``g_l(t)`` obey, per unit::

    h_l = u_l + [R^h_{l-1} + gamma0 (H_{l-1} . c)] g_l,    g_l = r_l + [R^g_{l+1} + gamma0 (G_{l+1} . c)] h_l

with ``(K . c) g (t) = int_0^t K(t, s) c(s) g(s) ds``, Gaussian sources ``u_l ~ GP(0, H_{l-1})`` and
``r_l ~ GP(0, G_{l+1})`` (``H_0 = G_{L+1} = 1``), the two-time kernels ``H_l(t, s) = h_l(t) . h_l(s) / N``,
``G_l(t, s) = g_l(t) . g_l(s) / N``, and the responses ``R^h_l = dh_l / dr_l``, ``R^g_l = dg_l / du_l`` (the
Gaussian-integration-by-parts terms of the random matrices ``W_l(0)``, which map the few relevant vectors to
new, asymptotically orthogonal ones: the reason the exact state is two-time kernels and not a finite set of
overlaps once ``L >= 2``). Being linear, each layer is solved as one linear system on a time grid, and the
learned amplitude is ``beta(t) = <h_1(t) g_1(t)> / gamma0``. The equations are solved on a uniform grid
(trapezoid rule, error O(dt^2)) by Picard iteration marching over time windows. Checks: with ``L = 1`` the
solution is the ``"lazy-rich"`` closed form (``beta`` to 4e-5 at 100 steps); in the lazy limit the residual
decays as ``exp(-(L + 1) t)`` (the NTK eigenvalue along the task is ``sum_l H_{l-1} G_{l+1} = L + 1``).

Observables, per layer ``l`` (``K_l(t) = H_l(t, t)``, the layer kernel's eigenvalue along the task; 1 on the
other ``d_eff - 1`` whitened probe dimensions), on a centred whitened probe set labelled by ``sign(x_1)``::

    task_alignment_l = K_l / sqrt(K_l^2 + d_eff - 1)
    kernel_change_l  = |K_l - 1| / sqrt(d_eff)
    behavior         = Phi(beta / decision_noise)          (one value: the network's output)

Deeper layers change more (``K_l`` grows with ``l``: ``G`` is the mirror image of ``H``, ``G_l = H_{L+1-l}``).
Time is the network's training time (the lazy residual is ``exp(-(L + 1) t)``).

Examples
--------
>>> import numpy as np
>>> from neurolearn.theory.deep_linear import DEEP_LINEAR  # MODELS["deep-linear"] once registered
>>> out = DEEP_LINEAR.predict([0.0, 1.5], gamma0=1.0, d_eff=8.0)
>>> out["task_alignment"].dims, np.round(out["task_alignment"].values[:, -1], 3).tolist()
(('layer', 'time'), [0.426, 0.564])
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import ndtr

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter

__all__ = ["DEEP_LINEAR", "deep_linear_model", "deep_linear_dmft", "deep_linear_trajectory", "deep_linear_statistics"]

# grid of the DMFT solve: at least _MIN_STEPS steps, _MAX_STEP / (depth + 1) model time apart (the lazy rate is
# depth + 1), at most _MAX_STEPS
_MIN_STEPS, _MAX_STEPS, _MAX_STEP = 16, 64, 0.2
# Beyond _SATURATION / (depth + 1) model time the residual is below exp(-_SATURATION) (its rate is at least the
# lazy depth + 1) and the kernels have stopped (they move at rate gamma0^2 times the residual): the solution is
# held there. Horizons are rounded up to eighths of it, so a fit varying only the time scale reuses solutions.
_SATURATION, _HORIZON_STEPS = 9.0, 8
# Picard iteration: time windows marched in order, tolerance on kernels and residual
_WINDOW_STEPS, _TOL, _STALL, _MAX_ITER = 6, 1e-9, 1e-7, 3000


def deep_linear_dmft(t_max: float, gamma0: float, depth: int, n_steps: int = 32) -> dict:
    """Solve the DMFT of the deep linear network on ``n_steps`` uniform steps of ``[0, t_max]``.

    Returns ``{"time": (T,), "learned": (T,) beta(t), "kernel": (depth, T) K_l(t), "gradient": (depth, T)
    G_l(t, t), "iterations": int}``.

    Examples
    --------
    One hidden layer is the lazy-rich network: ``K = sqrt(1 + gamma0^2 beta^2)``.

    >>> out = deep_linear_dmft(1.0, 2.0, 1, 40)
    >>> b, k = out["learned"][-1], out["kernel"][0, -1]
    >>> bool(abs(k - np.sqrt(1 + 4 * b * b)) < 1e-3)
    True
    """
    if not (gamma0 > 0 and t_max > 0 and int(depth) >= 1 and int(n_steps) >= 2):
        raise FitError(f"deep-linear DMFT: expected gamma0 > 0, t_max > 0, depth >= 1, n_steps >= 2, found "
                       f"{gamma0!r}, {t_max!r}, {depth!r}, {n_steps!r}")
    depth, n_steps = int(depth), int(n_steps)
    dt = t_max / n_steps
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
            new = _sweep(state, gamma0, depth, weights)
            iterations += 1
            change = max(float(np.max(np.abs(new[4] - state[4]))),
                         max(float(np.max(np.abs(a - b))) for a, b in zip(new[0][1:], state[0][1:])))
            state = new
            if not np.isfinite(change):
                raise FitError(f"deep-linear DMFT: the iteration diverged at gamma0 = {gamma0:g}, depth {depth}")
            # converged, or stalled at the round-off floor of the linear solves (a cycle of ~1e-9)
            if change < _TOL or (change < _STALL and change >= 0.9 * previous):
                break
            previous = change
        else:
            raise FitError(f"deep-linear DMFT: no convergence in {_MAX_ITER} iterations at gamma0 = {gamma0:g}, "
                           f"depth {depth}, t_max = {t_max:g}")
    kernels, grads, _, _, c = state
    return {"time": np.linspace(0.0, t_max, n_steps + 1), "learned": 1.0 - c,
            "kernel": np.array([np.diag(k) for k in kernels[1:]]),
            "gradient": np.array([np.diag(g) for g in grads[1:depth + 1]]), "iterations": iterations}


def deep_linear_trajectory(time, gamma0: float, depth: int) -> dict:
    """``{"learned": (T,), "kernel": (depth, T)}`` at model times ``time`` (times <= 0: the initial state).

    The DMFT is solved on a grid over ``[0, max(time)]`` (the horizon rounded up to an eighth of
    ``9 / (depth + 1)``, beyond which learning has saturated and the state is held; cached per
    ``(gamma0, depth, horizon)``) and interpolated by a cubic spline.

    Examples
    --------
    >>> out = deep_linear_trajectory(np.array([0.0, 0.5, 2.0]), 1e-3, 2)  # lazy: exp(-3 t), kernels frozen
    >>> np.round(1 - out["learned"], 4).tolist(), np.round(out["kernel"][:, -1], 4).tolist()
    ([1.0, 0.2231, 0.0025], [1.0, 1.0])
    """
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    t_max = float(t.max()) if t.size else 0.0
    if t_max <= 0:
        return {"learned": np.zeros(t.shape), "kernel": np.ones((int(depth), *t.shape))}
    saturation = _SATURATION / (int(depth) + 1)
    unit = saturation / _HORIZON_STEPS
    horizon = min(saturation, unit * math.ceil(t_max / unit - 1e-9))
    grid, learned, kernel = _solved(float(gamma0), int(depth), float(horizon))
    t = np.minimum(t, horizon)
    return {"learned": CubicSpline(grid, learned)(t), "kernel": CubicSpline(grid, kernel, axis=1)(t)}


def deep_linear_statistics(time, gamma0, d_eff, decision_noise, *, depth: int) -> dict:
    """The model's observables at model times ``time``: ``behavior`` (T,), per-layer ``(depth, T)`` the rest.

    Examples
    --------
    >>> out = deep_linear_statistics(np.array([0.0]), 1.0, 8.0, 0.5, depth=2)
    >>> round(float(out["task_alignment"][0, 0]), 4), float(out["behavior"][0])  # 1/sqrt(8), chance
    (0.3536, 0.5)
    """
    if not (gamma0 > 0 and d_eff >= 2 and decision_noise > 0):
        raise FitError(f"deep-linear model: expected gamma0 > 0, d_eff >= 2 and decision_noise > 0, found "
                       f"{gamma0!r}, {d_eff!r}, {decision_noise!r}")
    state = deep_linear_trajectory(time, gamma0, depth)
    k = state["kernel"]
    return {"behavior": ndtr(state["learned"] / decision_noise),
            "task_alignment": k / np.sqrt(k * k + d_eff - 1.0),
            "kernel_change": np.abs(k - 1.0) / math.sqrt(d_eff)}


def deep_linear_model(depth: int = 2) -> Model:
    """The ``"deep-linear"`` model with ``depth`` hidden layers (the registry holds ``depth = 2``).

    Examples
    --------
    >>> deep_linear_model(3).n_layers, deep_linear_model(3).per_layer
    (3, ('task_alignment', 'kernel_change'))
    """
    depth = int(depth)
    if depth < 1:
        raise FitError(f"deep-linear model: expected depth >= 1, found {depth}")

    def function(time, gamma0, d_eff, decision_noise):
        return deep_linear_statistics(time, gamma0, d_eff, decision_noise, depth=depth)

    return Model(
        name="deep-linear",
        description=(
            f"A deep linear network ({depth} hidden layers, mean-field/muP, richness gamma0) learning one task "
            "direction from random initialisation. Every layer's kernel grows along the task, the deeper ones "
            "more and later in relative terms; recordings from several areas of one animal (areas = layers) are "
            "fitted jointly, sharing gamma0 and the time mapping. Lazy (gamma0 -> 0): kernels frozen."
        ),
        formula=(
            "DMFT: h_l = u_l + [R^h_{l-1} + gamma0 H_{l-1}.c] g_l, g_l = r_l + [R^g_{l+1} + gamma0 G_{l+1}.c] h_l, "
            "beta = <h_1 g_1>/gamma0, c = 1 - beta; K_l = H_l(t,t); task_alignment_l = K_l/sqrt(K_l^2 + d_eff - 1), "
            "kernel_change_l = |K_l - 1|/sqrt(d_eff), behavior = Phi(beta/decision_noise)"
        ),
        reference=(
            "Bordelon & Pehlevan 2022 (self-consistent dynamical field theory of kernel evolution in wide neural "
            "networks; deep linear networks); Saxe, McClelland & Ganguli 2014 (exact deep linear dynamics)"
        ),
        parameters=(
            # the Picard iteration of the DMFT converges over this box (measured to saturation; at depth 3 it
            # stalls beyond gamma0 = 1.5)
            Parameter("gamma0", 0.5, (0.05, 2.0 if depth <= 2 else 1.5), "richness gamma0 of feature learning",
                      log_scale=True),
            Parameter("d_eff", 8.0, (2.0, 1000.0), "whitened input dimensions the probe conditions span",
                      log_scale=True),
            Parameter("decision_noise", 0.5, (0.01, 10.0),
                      "sd of the noise on the output before the sign decision (behaviour link)", log_scale=True),
        ),
        observables=("behavior", "task_alignment", "kernel_change"),
        function=function,
        time_unit=f"training time, lazy residual exp(-{depth + 1} t)",
        time_span=1.5,
        simulator="neurolearn.simulate.deep_linear.simulate_deep_linear_sessions",
        per_layer=("task_alignment", "kernel_change"),
        n_layers=depth,
    )


@lru_cache(maxsize=256)
def _solved(gamma0: float, depth: int, t_max: float):
    """The DMFT on an even number of steps and on half as many, Richardson-extrapolated on the coarse grid
    (the trapezoid rule's error is O(dt^2) in even powers: the combination is O(dt^4))."""
    n_steps = 2 * int(min(_MAX_STEPS, max(_MIN_STEPS, math.ceil(t_max * (depth + 1) / _MAX_STEP))) // 2)
    fine = deep_linear_dmft(t_max, gamma0, depth, n_steps)
    coarse = deep_linear_dmft(t_max, gamma0, depth, n_steps // 2)
    learned = (4.0 * fine["learned"][::2] - coarse["learned"]) / 3.0
    kernel = (4.0 * fine["kernel"][:, ::2] - coarse["kernel"]) / 3.0
    return coarse["time"], learned, kernel


def _initial_state(m, depth):
    """Kernels, gradient kernels, responses and residual before any iteration: the lazy state."""
    ones, zeros = np.ones((m, m)), np.zeros((m, m))
    return [ones] * (depth + 1), [ones] * (depth + 2), [zeros] * (depth + 1), [zeros] * (depth + 2), np.ones(m)


def _extend(state, m):
    """A solution on a shorter grid, held constant onto ``m`` points (the next window's first guess)."""
    def hold(a):
        index = np.minimum(np.arange(m), a.shape[0] - 1)
        return a[np.ix_(index, index)]

    def pad(a):
        out = np.zeros((m, m))
        out[:a.shape[0], :a.shape[0]] = a
        return out

    kernels, grads, resp_h, resp_g, c = state
    return ([hold(a) for a in kernels], [hold(a) for a in grads], [pad(a) for a in resp_h], [pad(a) for a in resp_g],
            c[np.minimum(np.arange(m), c.size - 1)])


def _sweep(state, gamma0, depth, weights):
    """One Picard sweep up the layers: each layer's linear system solved with the current kernels."""
    kernels, grads, resp_h, resp_g, c = state
    kernels, new_grads, resp_h, new_resp_g = list(kernels), list(grads), list(resp_h), list(resp_g)
    eye = np.eye(c.size)
    learned = None
    for layer in range(1, depth + 1):
        # forward and backward memory operators: response of the layer below/above plus the rank-one updates
        forward = resp_h[layer - 1] + gamma0 * (kernels[layer - 1] * weights) * c[None, :]
        backward = resp_g[layer + 1] + gamma0 * (grads[layer + 1] * weights) * c[None, :]
        inv_h = np.linalg.inv(eye - forward @ backward)
        inv_g = np.linalg.inv(eye - backward @ forward)
        source_h, source_g = kernels[layer - 1], grads[layer + 1]
        kernels[layer] = inv_h @ (source_h + forward @ source_g @ forward.T) @ inv_h.T
        new_grads[layer] = inv_g @ (source_g + backward @ source_h @ backward.T) @ inv_g.T
        resp_h[layer] = inv_h @ forward
        new_resp_g[layer] = inv_g @ backward
        if layer == 1:
            cross = inv_h @ (source_h @ backward.T + forward @ source_g) @ inv_g.T
            learned = np.diag(cross) / gamma0
    return kernels, new_grads, resp_h, new_resp_g, 1.0 - learned


DEEP_LINEAR = deep_linear_model(2)
