"""The "silent-alignment" model: a two-layer linear network from small initial weights.

The network (simulated in :mod:`neurolearn.simulate.two_layer` with ``gamma0 = 1``) is
``f(x) = (1/N) sum_i a_i (w_i . x)`` with initial readout weights ``a_i ~ N(0, sigma_a^2)`` and first-layer
weights ``w_ij ~ N(0, sigma_w^2)`` (centred: ``f_0 = 0``), learning rate ``N``, whitened inputs and one task
direction with singular value ``s``: target ``s beta_hat . x``. Recordings see the hidden layer
``h_i(x) = w_i . x``. Write ``rho = (sigma_a^2 + sigma_w^2) / 2`` (parameter ``init_variance``) and
``sigma_w^2 = q rho`` (parameter ``hidden_share``, 1 for a balanced initialisation).

Derivation. Only the task mode is driven. With ``v_i = w_i . beta_hat`` the mode strength is
``u = (1/N) sum_i a_i v_i`` (the network's output along the task) and gradient flow gives
``da_i/dt = v_i (s - u)``, ``dv_i/dt = a_i (s - u)``. The sums ``P = |a + v|^2 / (4N)`` and
``Q = |a - v|^2 / (4N)`` obey ``dP/dt = 2P (s - u)``, ``dQ/dt = -2Q (s - u)`` with ``u = P - Q``, so
``P Q`` is conserved, and so is ``(|a|^2 - |v|^2) / N = sigma_a^2 - sigma_w^2``. The centred initialisation
has ``a . v = 0``, hence ``P(0) = Q(0) = rho / 2`` and ``P Q = rho^2 / 4``. Therefore

    du/dt = 2 (s - u)(P + Q) = 2 (s - u) sqrt(u^2 + rho^2),    u(0) = 0,

which depends on the initial scale only through ``rho``. The hidden kernel ``M = (1/N) sum_i w_i w_i^T`` has
eigenvalue ``|v|^2 / N = P + Q - (sigma_a^2 - sigma_w^2) / 2 = sqrt(u^2 + rho^2) - (1 - q) rho`` along the
task (it grows with ``u``) while every orthogonal direction keeps its initial ``sigma_w^2 = q rho`` (the
isotropic part). For ``rho << s``, ``Q`` dies out, ``u ~ P`` and ``dP/dt = 2P (s - P)`` gives the classic
sigmoid (Saxe, McClelland & Ganguli 2014)::

    u(t) = s e^{2st} / (e^{2st} - 1 + s/u0),    u0 = rho / 2,

see :func:`logistic_mode_strength`. The loss ``(s - u)^2`` stays flat until ``u ~ s``, a delay of about
``log(s / rho) / (2s)``; the kernel's alignment, however, is set by ``u / sigma_w^2`` and rises once ``u``
exceeds a few ``rho``, some ``log(s / rho) / (2s)`` *earlier*: alignment rises before behaviour. With large
``rho`` the task eigenvalue barely moves relative to ``sigma_w^2`` (lazy).

Observables, in the units the statistics are measured (probe set spanning ``d_eff`` whitened, centred input
dimensions, labels along the task; ``K = [sqrt(u^2 + rho^2) - (1 - q) rho] / (q rho)`` the task eigenvalue
relative to the isotropic part)::

    task_alignment = K / sqrt(K^2 + d_eff - 1)
    kernel_change  = (K - 1) / sqrt(d_eff)
    behavior       = chance + (ceiling - chance)(1 - (s - u)^2 / s^2)

The exact ODE is the lazy-rich ODE in other units: ``u(t; rho) = 1 - Delta_lazy-rich(rho t; gamma0 = s/rho)``,
so it is solved by the same closed form (:func:`neurolearn.theory.lazy_rich.learned_amplitude`). For a
balanced initialisation (``hidden_share = 1``) the two models are one family: with the fitter's free
session-to-time scale, ``"silent-alignment"`` with ``init_variance = v`` predicts exactly what
``"lazy-rich"`` with ``gamma0 = 1/v`` does, and :func:`neurolearn.compare` cannot tell them apart. This model
adds the split of the initial scale between the layers, which the recorded kernel sees (a hidden layer
that starts small relative to the readout aligns more strongly for the same learning) and the mean-field
lazy-rich model fixes to 1; it is the parameterisation natural at small initialisation (time in units of
``1/s``, the loss-drop delay grows like ``log(1/rho)``).

``hidden_share`` is only weakly pinned by the data: it trades off against ``d_eff`` and ``init_variance``
(fits of simulated 12-session data with true 0.4 returned 0.2-0.6), but it makes an unbalanced network
clearly distinguishable from ``"lazy-rich"`` (AIC lower by > 60 on such data, equal within 2 when balanced).

Only ``rho / s`` is identifiable in time: ``s = 1`` and time is in units of ``1/s``. Times before 0 return the
initial state.

Examples
--------
>>> from neurolearn.theory import MODELS
>>> out = MODELS["silent-alignment"].predict([0.0, 2.0, 8.0], init_variance=1e-3)
>>> [round(float(v), 2) for v in out["task_alignment"]], [round(float(v), 2) for v in out["behavior"]]
([0.22, 0.99, 1.0], [0.5, 0.53, 1.0])
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.lazy_rich import _LINK_PARAMETERS, _hidden_layer_observables, learned_amplitude

__all__ = [
    "SILENT_ALIGNMENT",
    "mode_strength",
    "logistic_mode_strength",
    "loss_delay",
    "silent_alignment_statistics",
]


def mode_strength(time, init_variance):
    """Exact mode strength ``u(t)`` (task singular value ``s = 1``) from mean initial weight variance ``rho``.

    Solves ``du/dt = 2 (1 - u) sqrt(u^2 + rho^2)``, ``u(0) = 0``.

    Examples
    --------
    >>> round(float(mode_strength(50.0, 0.01)), 6)
    1.0
    """
    variance = float(init_variance)
    if not np.isfinite(variance) or variance <= 0:
        raise FitError(f"silent-alignment model: expected init_variance > 0, found {init_variance!r}")
    time = np.asarray(time, dtype=float)
    return learned_amplitude(variance * time, 1.0 / variance)


def logistic_mode_strength(time, initial_strength, singular_value=1.0):
    """Saxe et al.'s sigmoid ``u(t) = s e^{2st} / (e^{2st} - 1 + s/u0)``, the small-initialisation limit.

    Examples
    --------
    >>> float(logistic_mode_strength(0.0, 0.01)), float(np.round(logistic_mode_strength(30.0, 0.01), 6))
    (0.01, 1.0)
    """
    s, u0 = float(singular_value), float(initial_strength)
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    # divide through by e^{2st} so large times do not overflow
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t))


def loss_delay(init_variance, singular_value=1.0):
    """Approximate time at which the loss drops, ``log(s / rho) / (2s)``.

    Examples
    --------
    >>> round(loss_delay(1e-4), 3)
    4.605
    """
    s = float(singular_value)
    return float(np.log(s / float(init_variance)) / (2.0 * s))


def silent_alignment_statistics(time, init_variance, hidden_share, d_eff, chance, ceiling, reference_time=0.0) -> dict:
    """The model's observables at training times ``time`` (the registered model's ``function``).

    ``kernel_change`` is from the kernel at ``reference_time`` (the first recorded session's model time; 0,
    the start of training, by default).

    Examples
    --------
    >>> out = silent_alignment_statistics(np.array([0.0]), 0.01, 1.0, 20.0, 0.5, 1.0)
    >>> round(float(out["task_alignment"][0]), 4), float(out["kernel_change"][0]), float(out["behavior"][0])
    (0.2236, 0.0, 0.5)
    """
    if not d_eff >= 1.0:
        raise FitError(f"silent-alignment model: expected d_eff >= 1, found {d_eff!r}")
    if not 0.0 < hidden_share < 2.0:
        raise FitError(f"silent-alignment model: expected 0 < hidden_share < 2, found {hidden_share!r}")
    u = mode_strength(time, init_variance)
    reference = 1.0
    if reference_time > 0.0:
        reference = float(_relative_eigenvalue(mode_strength(float(reference_time), init_variance), init_variance,
                                               hidden_share))
    return _hidden_layer_observables(_relative_eigenvalue(u, init_variance, hidden_share), 1.0 - u, d_eff, chance,
                                     ceiling, reference)


def _relative_eigenvalue(u, init_variance, hidden_share):
    """The hidden kernel's task eigenvalue relative to its isotropic part ``sigma_w^2 = hidden_share * rho``:
    ``[sqrt(u^2 + rho^2) - (1 - q) rho] / (q rho) = [sqrt(1 + (u/rho)^2) - 1 + q] / q``."""
    return (np.sqrt(1.0 + (u / init_variance) ** 2) - 1.0 + hidden_share) / hidden_share


SILENT_ALIGNMENT = Model(
    name="silent-alignment",
    description=(
        "Two-layer linear network trained from small initial weights (mean variance rho of the two "
        "layers, relative to the task singular value). The hidden kernel aligns to the task while the "
        "loss is still flat; behaviour improves only after a delay ~ log(1/rho)/2. Signature in data: "
        "task alignment and kernel change rise sessions before behaviour. Large rho: lazy, almost no "
        "alignment change. With balanced layers (hidden_share = 1) the same family as 'lazy-rich' with "
        "gamma0 = 1/rho under a rescaling of time."
    ),
    formula=(
        "du/dt = 2 (1 - u) sqrt(u^2 + rho^2), u(0) = 0 (small rho: u = e^{2t}/(e^{2t} - 1 + 2/rho)); "
        "K = [sqrt(u^2 + rho^2) - (1 - q) rho] / (q rho) with q = hidden_share; "
        "task_alignment = K / sqrt(K^2 + d_eff - 1); kernel_change = (K - 1)/sqrt(d_eff); "
        "behavior = chance + (ceiling - chance)(1 - (1 - u)^2)"
    ),
    reference=(
        "Saxe, McClelland & Ganguli 2014 (exact solutions of deep linear network learning); Atanasov, "
        "Bordelon & Pehlevan 2022 (neural networks as kernel learners: the silent alignment effect)"
    ),
    parameters=(
        Parameter("init_variance", 1e-2, (1e-8, 10.0),
                  "mean initial weight variance rho of the two layers, relative to the task singular "
                  "value",
                  log_scale=True),
        Parameter("hidden_share", 1.0, (0.05, 1.95),
                  "first-layer share of the initial variance, sigma_w^2 / rho (1: balanced layers)"),
        *_LINK_PARAMETERS,
    ),
    observables=("task_alignment", "kernel_change", "behavior"),
    function=silent_alignment_statistics,
    referenced=("kernel_change",),
    time_unit="1/s (inverse task singular value)",
    time_span=5.0,  # model time a typical experiment spans: the delay at rho = 1e-2 plus the rise
    simulator="neurolearn.simulate.two_layer.simulate_silent_alignment_sessions",
)
