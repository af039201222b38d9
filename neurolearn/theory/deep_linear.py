"""The "deep-linear" model: a deep linear network learning one task direction, kernels layer by layer.

The network (simulated by :mod:`neurolearn.simulate.deep_linear`) has ``L`` hidden layers of width ``N`` in
the mean-field / muP parameterisation with richness ``gamma0``::

    h_1 = W_1 x,   h_l = W_l h_{l-1} / sqrt(N)  (l = 2 .. L),   f = a . h_L / (gamma0 N)

with whitened inputs ``x`` (D dims), every weight ``~ N(0, 1)`` at the start and the initial output ``f_0 = 0``
(its wide limit), trained by gradient flow on the squared error to the target ``y = e_1 . x``, learning rate
``gamma0^2 N``. ``L = 1`` is the ``"lazy-rich"`` network. (A finite network's random ``f_0 ~ 1 / (gamma0
sqrt(N))`` is not removed by centring the loss: the kernels grow at ``2 a . h_L / N``, initial output
included -- :mod:`neurolearn.simulate.deep_linear` therefore starts at ``f_0 = 0``.)

Exact reduction (N -> infinity). Every weight update is rank one and proportional to ``gamma0 c(t) dt``
(``c = 1 - beta`` the residual along the task): in the learning clock ``tau`` (``d tau = gamma0 c dt``) the
network's state along the task is one universal, ``gamma0``-free solution: its output ``Phi(tau) = gamma0
beta``, the NTK along the task ``F = dPhi / dtau`` and the layer kernels ``K_l(tau)`` (inputs orthogonal to
``e_1`` keep kernel 1 in every layer). ``L = 1``: ``Phi = sinh(2 tau)``, ``K = cosh(2 tau)``. ``L = 2``: an
exact ODE closure over the spectrum of the hidden matrix (:mod:`neurolearn.theory.deep_linear_spectral`).
Any ``L``: the two-time DMFT of Bordelon & Pehlevan 2022 (:mod:`neurolearn.theory.deep_linear_dmft`; it and
the closure agree at ``L = 2``). ``gamma0`` sets only the clock: ``d tau / dt = gamma0 c = gamma0 - Phi(tau)``,
so ``tau`` rises to ``Phi^-1(gamma0)`` and, with ``l = -log c``, ``dt / dl = 1 / F(tau)`` -- a quadrature on a
grid in ``l`` per evaluation, the universal solution tabulated once per depth. Checks: with ``L = 1`` the
``"lazy-rich"`` closed form; in the lazy limit the residual decays as ``exp(-(L + 1) t)``.

Observables, per layer ``l`` (``K_l(t)``, the layer kernel's eigenvalue along the task; 1 on the other
``d_eff - 1`` whitened probe dimensions), on a centred whitened probe set labelled by ``sign(x_1)``::

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
from neurolearn.theory.deep_linear_dmft import deep_linear_dmft
from neurolearn.theory.deep_linear_spectral import spectral_solution
from neurolearn.theory.lazy_rich import relative_kernel_change

__all__ = ["DEEP_LINEAR", "deep_linear_model", "deep_linear_dmft", "deep_linear_trajectory", "deep_linear_statistics",
           "universal_solution"]

# the universal solution is tabulated to Phi = gamma0 of the box's top (or the next power of 2 above a larger
# gamma0), on _TABLE_POINTS clock values (closure, L <= 2) or the DMFT's _DMFT_STEPS steps (L >= 3,
# Richardson-combined with half as many: O(dtau^4))
_PHI_CAP, _TABLE_POINTS, _DMFT_STEPS = 2.0, 401, 64
# clock of one gamma0: _CLOCK_POINTS values of l = -log(c) up to _L_MAX (c = e^-30: learning is over and the
# state is held, the residual decaying at the final NTK)
_CLOCK_POINTS, _L_MAX = 513, 30.0


def universal_solution(depth: int, phi_max: float = _PHI_CAP) -> dict:
    """The ``gamma0``-free state of the depth-``depth`` network against the learning clock, to ``Phi >= phi_max``.

    Returns ``{"tau": (n,), "phi": (n,), "ntk": (n,), "kernel": (depth, n)}`` (cached per depth and cap, the
    cap rounded up to a power of two times 2).

    Examples
    --------
    >>> out = universal_solution(1)
    >>> tau = out["tau"]
    >>> bool(np.allclose(out["phi"], np.sinh(2 * tau))), bool(np.allclose(out["kernel"][0], np.cosh(2 * tau)))
    (True, True)
    """
    depth = int(depth)
    if depth < 1:
        raise FitError(f"deep-linear model: expected depth >= 1, found {depth}")
    cap = _PHI_CAP * 2.0 ** max(0, math.ceil(math.log2(max(float(phi_max), _PHI_CAP) / _PHI_CAP) - 1e-12))
    return _universal(depth, cap)


@lru_cache(maxsize=16)
def _universal(depth: int, cap: float) -> dict:
    # Phi >= (depth + 1) tau (the NTK only grows), so tau = cap / (depth + 1) reaches Phi = cap
    tau_top = cap / (depth + 1)
    if depth == 1:
        tau = np.linspace(0.0, tau_top, _TABLE_POINTS)
        out = {"tau": tau, "phi": np.sinh(2.0 * tau), "ntk": 2.0 * np.cosh(2.0 * tau),
               "kernel": np.cosh(2.0 * tau)[None, :]}
    elif depth == 2:
        out = spectral_solution(np.linspace(0.0, tau_top, _TABLE_POINTS))
    else:
        fine = deep_linear_dmft(tau_top, depth, _DMFT_STEPS)
        coarse = deep_linear_dmft(tau_top, depth, _DMFT_STEPS // 2)
        out = {"tau": coarse["tau"]}
        for key in ("phi", "ntk", "kernel"):
            out[key] = (4.0 * fine[key][..., ::2] - coarse[key]) / 3.0
    keep = int(np.searchsorted(out["phi"], cap)) + 2  # the table up to just past Phi = cap
    table = {key: np.asarray(value)[..., :keep] for key, value in out.items() if key in ("tau", "phi", "ntk", "kernel")}
    table["splines"] = (CubicSpline(table["phi"], table["tau"]), CubicSpline(table["tau"], table["ntk"]),
                        CubicSpline(table["tau"], table["kernel"], axis=1))
    return table


def deep_linear_trajectory(time, gamma0: float, depth: int) -> dict:
    """``{"learned": (T,), "kernel": (depth, T), "tau": (T,)}`` at model times ``time`` (times <= 0: the start).

    The clock ``tau(t)`` of ``gamma0`` (``dtau/dt = gamma0 - Phi(tau)``) on the universal solution
    (:func:`universal_solution`): with ``l = -log(1 - beta)``, ``beta = Phi(tau) / gamma0``, ``t(l) =
    int_0^l dl' / F(tau(l'))`` on a uniform grid in ``l`` (trapezoid rule with its end correction, O(dl^4);
    cached per ``gamma0``), inverted at ``time`` by cubic Hermite interpolation (``dl/dt = F``). Beyond ``l =
    30`` the state is held and the residual decays at the final NTK.

    Examples
    --------
    >>> out = deep_linear_trajectory(np.array([0.0, 0.5, 2.0]), 1e-3, 2)  # lazy: exp(-3 t), kernels frozen
    >>> np.round(1 - out["learned"], 4).tolist(), np.round(out["kernel"][:, -1], 4).tolist()
    ([1.0, 0.2231, 0.0025], [1.0, 1.0])
    """
    if not gamma0 > 0:
        raise FitError(f"deep-linear model: expected gamma0 > 0, found {gamma0!r}")
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    t_grid, l_grid, ntk, tau_of_phi, kernel_of_tau = _clock(float(gamma0), int(depth))
    inside = np.minimum(t, t_grid[-1])
    i = np.clip(np.searchsorted(t_grid, inside, side="right") - 1, 0, t_grid.size - 2)
    h = t_grid[i + 1] - t_grid[i]
    x = (inside - t_grid[i]) / h
    # cubic Hermite on (t, l) with slopes dl/dt = F
    ell = ((1 + 2 * x) * (1 - x) ** 2 * l_grid[i] + x * x * (3 - 2 * x) * l_grid[i + 1]
           + h * (x * (1 - x) ** 2 * ntk[i] - x * x * (1 - x) * ntk[i + 1]))
    ell = np.where(t > t_grid[-1], l_grid[-1] + ntk[-1] * (t - t_grid[-1]), ell)
    tau = np.where(t > 0, tau_of_phi(gamma0 * -np.expm1(-ell)), 0.0)
    kernel = np.where(t > 0, kernel_of_tau(tau), 1.0)
    return {"learned": np.where(t > 0, -np.expm1(-ell), 0.0), "kernel": kernel, "tau": tau}


@lru_cache(maxsize=64)
def _clock(gamma0: float, depth: int):
    """``t`` on the grid of ``l = -log(c)`` for ``gamma0``, the NTK there, and the universal splines."""
    table = universal_solution(depth, gamma0)
    tau_of_phi, ntk_of_tau, kernel_of_tau = table["splines"]
    l_grid = np.linspace(0.0, _L_MAX, _CLOCK_POINTS)
    c = np.exp(-l_grid)
    tau = tau_of_phi(gamma0 * (1.0 - c))
    ntk = ntk_of_tau(tau)
    # f = dt/dl = 1/F, df/dl = -F'(tau) / F^2 * dtau/dl with dtau/dl = gamma0 c / F
    f = 1.0 / ntk
    df = -ntk_of_tau(tau, 1) * f * f * gamma0 * c * f
    h = l_grid[1] - l_grid[0]
    steps = 0.5 * h * (f[1:] + f[:-1]) + h * h / 12.0 * (df[:-1] - df[1:])
    return np.concatenate([[0.0], np.cumsum(steps)]), l_grid, ntk, tau_of_phi, kernel_of_tau


def deep_linear_statistics(time, gamma0, d_eff, decision_noise, *, depth: int, reference_time=0.0) -> dict:
    """The model's observables at model times ``time``: ``behavior`` (T,), per-layer ``(depth, T)`` the rest.

    ``kernel_change`` is from each layer's kernel at ``reference_time`` (the first recorded session's model
    time; 0, the start of training, by default).

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
    reference = np.ones((k.shape[0], 1))
    if reference_time > 0.0:
        reference = deep_linear_trajectory(np.array([float(reference_time)]), gamma0, depth)["kernel"]
    return {"behavior": ndtr(state["learned"] / decision_noise),
            "task_alignment": k / np.sqrt(k * k + d_eff - 1.0),
            "kernel_change": relative_kernel_change(k, reference, d_eff)}


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

    def function(time, gamma0, d_eff, decision_noise, reference_time=0.0):
        return deep_linear_statistics(time, gamma0, d_eff, decision_noise, depth=depth, reference_time=reference_time)

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
        referenced=("kernel_change",),
    )


DEEP_LINEAR = deep_linear_model(2)
