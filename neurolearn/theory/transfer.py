"""The "transfer" model: learning a new, reversed or unchanged task from a network that learned a first one.

The network is the two-layer linear network of the ``"lazy-rich"`` model (:mod:`neurolearn.theory.lazy_rich`,
simulated by :mod:`neurolearn.simulate.transfer`): mean-field parameterisation with richness ``gamma0``,
whitened inputs, both layers trained by gradient flow at learning rate ``gamma0^2 N``. Task 1 is
``y1 = e_1 . x``; at the switch (model time 0) the network has learned the amplitude ``u0`` (``learned``) of
it, and training continues on task 2, ``y2 = beta2 . x`` with ``beta2 = rho e_1 + sqrt(1 - rho^2) e_2``
(Lauditi, Bordelon & Pehlevan's task-similarity parameterisation of transfer in feature-learning networks).

Exact reduction. Write each hidden unit as ``(a_i, w_i)``. Gradient flow moves every unit by the same linear
map, ``d/dt (a_i, w_i) = gamma0 (w_i . r, a_i r)`` with ``r = beta_target - beta`` the residual, so the
population enters only through ``A = mean a_i^2``, ``beta = mean a_i w_i / gamma0`` and
``M = mean w_i w_i^T``, which obey the closed system::

    dbeta/dt = (M + A I) r,   dM/dt = gamma0^2 (beta r^T + r beta^T),   dA/dt = 2 gamma0^2 beta . r

(exact at any width given the initial ``A, beta, M``). From the centred mean-field initialisation (``A = 1``,
``beta = 0``, ``M = I`` as ``N -> infinity``) every motion stays in ``span(e_1, e_2)``, where ``M`` is 2 x 2,
and the per-unit conservation ``a_i^2 - |w_i|^2`` gives ``A = tr M - 1``. Task 1 learned to ``u0`` (the
``"lazy-rich"`` closed form) leaves ``beta = u0 e_1``, ``M = diag(K1, 1)``, ``A = K1`` with
``K1 = sqrt(1 + gamma0^2 u0^2)``: the pre-switch kernel is enlarged along the old task. The post-switch
flow has no closed form for general ``rho`` (the residual turns); it is integrated with classical RK4 at a
step of 0.2 over the fastest rate (``lambda_max(M) + A`` plus the kernel's relative rate of change): absolute
error below 1e-4 on the state against a DOP853 solution at tolerance 1e-11 (4e-5 at ``gamma0 = 10``, 3e-6
for a new task at ``gamma0 = 2``), two orders below the statistics' noise, in about 2 ms a call; once a
full step leaves the state unchanged to the last bit (converged) later times take that state without stepping.
In the lazy limit (``gamma0 -> 0``) ``M = I`` and ``A = 1`` stay frozen and each residual mode decays as
``exp(-2t)`` from ``r(0) = beta2 - u0 e_1``.

Observables, on a whitened, centred probe set whose first two input coordinates are two orthogonal balanced
binary labels (condition kernel ``Phi = X M X^T``; ``d_eff`` input dimensions, the orthogonal ones keeping
``M = 1``; the target direction is ``e_1`` up to the switch and ``beta2`` after it, session 0 the
pre-switch reference)::

    task_alignment      = b^T M b / |M|_F,                |M|_F^2 = |M_2x2|_F^2 + d_eff - 2
    reference_agreement = b^T M e_1 / sqrt(b^T M b  M_11)
    kernel_change       = |M - M(0)|_F / |M(0)|_F
    behavior            = mean over the 4 condition types of Phi(sign(y) f / decision_noise)

with ``b`` the current target direction, ``f = beta . x`` the network's output and ``y`` the current target on
a condition type: the probability that a noisy sign readout of the output is correct. A reversal starts
below chance (the old readout answers the wrong way) with the old task's kernel, which is the fast one; a new
task starts at chance and needs the direction the kernel has not enlarged.

Time is the network's training time since the switch (the fitter's ``time_scale`` maps sessions onto it);
sessions at or before the switch (model time <= 0) are the pre-switch state, trained on task 1.

Examples
--------
>>> import numpy as np
>>> from neurolearn.theory import MODELS
>>> out = MODELS["transfer"].predict([0.0, 0.2, 3.0], rho=-1.0, gamma0=2.0, learned=1.0, d_eff=8.0)
>>> [round(float(v), 3) for v in out["reference_agreement"]]
[1.0, -1.0, -1.0]
>>> bool(out["behavior"][1] < 0.5 < out["behavior"][0]), round(float(out["behavior"][2]), 3)  # Phi(1 / 0.5)
(True, 0.977)
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter

__all__ = ["TRANSFER", "switch_state", "transfer_trajectory", "transfer_statistics"]

#: RK4 step as a fraction of the inverse fastest rate lambda_max(M) + A of the residual
_STEP = 0.2


def switch_state(gamma0: float, learned: float) -> tuple:
    """``(beta, M, A)`` in ``span(e_1, e_2)`` at the switch: task 1 learned to amplitude ``learned``.

    Examples
    --------
    >>> beta, m, a = switch_state(2.0, 1.0)
    >>> beta, m, round(a, 4)
    ((1.0, 0.0), (2.23606797749979, 0.0, 1.0), 2.2361)
    """
    k1 = math.sqrt(1.0 + (gamma0 * learned) ** 2)
    return (float(learned), 0.0), (k1, 0.0, 1.0), k1


def transfer_trajectory(time, rho: float, gamma0: float, learned: float) -> dict:
    """The reduced state at model times ``time`` since the switch (times <= 0: the pre-switch state).

    Returns ``{"beta": (T, 2), "kernel": (T, 3) as (M_11, M_12, M_22), "readout_power": (T,)}``.

    Examples
    --------
    >>> out = transfer_trajectory(np.array([0.0, 50.0]), 0.0, 1.0, 1.0)
    >>> np.round(out["beta"][-1], 6).tolist()
    [0.0, 1.0]
    """
    t = np.asarray(time, dtype=float)
    order = np.argsort(t, kind="stable")
    beta, kernel, power = switch_state(gamma0, learned)
    b1, b2 = beta
    m11, m12, m22 = kernel
    a = power
    c1, c2 = rho, math.sqrt(max(1.0 - rho * rho, 0.0))
    g2 = gamma0 * gamma0
    out_beta = np.empty((t.size, 2))
    out_kernel = np.empty((t.size, 3))
    out_power = np.empty(t.size)
    now = 0.0

    g22 = 2.0 * g2
    for index in order:
        stop = t[index]
        while stop > now:
            half_trace = 0.5 * (m11 + m22)
            # the residual's fastest rate, plus the kernel's own relative rate of change (large while a
            # reversal shrinks the old direction)
            r1, r2 = c1 - b1, c2 - b2
            fastest = (half_trace + math.sqrt((0.5 * (m11 - m22)) ** 2 + m12 * m12) + a
                       + g22 * math.sqrt((b1 * b1 + b2 * b2) * (r1 * r1 + r2 * r2)) / a)
            full = _STEP / fastest
            dt = min(stop - now, full)
            # classical RK4 on (b1, b2, m11, m12, m22, a), the rate written out at each stage:
            # d(b1, b2) = (M + A) r, d(m11, m12, m22) = g2 (2 b1 r1, b1 r2 + r1 b2, 2 b2 r2), dA = 2 g2 b.r
            h = 0.5 * dt
            k1 = ((m11 + a) * r1 + m12 * r2, m12 * r1 + (m22 + a) * r2, g22 * b1 * r1, g2 * (b1 * r2 + r1 * b2),
                  g22 * b2 * r2, g22 * (b1 * r1 + b2 * r2))
            x1, x2, x3, x4, x5, x6 = (b1 + h * k1[0], b2 + h * k1[1], m11 + h * k1[2], m12 + h * k1[3],
                                      m22 + h * k1[4], a + h * k1[5])
            r1, r2 = c1 - x1, c2 - x2
            k2 = ((x3 + x6) * r1 + x4 * r2, x4 * r1 + (x5 + x6) * r2, g22 * x1 * r1, g2 * (x1 * r2 + r1 * x2),
                  g22 * x2 * r2, g22 * (x1 * r1 + x2 * r2))
            x1, x2, x3, x4, x5, x6 = (b1 + h * k2[0], b2 + h * k2[1], m11 + h * k2[2], m12 + h * k2[3],
                                      m22 + h * k2[4], a + h * k2[5])
            r1, r2 = c1 - x1, c2 - x2
            k3 = ((x3 + x6) * r1 + x4 * r2, x4 * r1 + (x5 + x6) * r2, g22 * x1 * r1, g2 * (x1 * r2 + r1 * x2),
                  g22 * x2 * r2, g22 * (x1 * r1 + x2 * r2))
            x1, x2, x3, x4, x5, x6 = (b1 + dt * k3[0], b2 + dt * k3[1], m11 + dt * k3[2], m12 + dt * k3[3],
                                      m22 + dt * k3[4], a + dt * k3[5])
            r1, r2 = c1 - x1, c2 - x2
            k4 = ((x3 + x6) * r1 + x4 * r2, x4 * r1 + (x5 + x6) * r2, g22 * x1 * r1, g2 * (x1 * r2 + r1 * x2),
                  g22 * x2 * r2, g22 * (x1 * r1 + x2 * r2))
            w = dt / 6.0
            s = (b1, b2, m11, m12, m22, a)
            b1 = b1 + w * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0])
            b2 = b2 + w * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1])
            m11 = m11 + w * (k1[2] + 2.0 * k2[2] + 2.0 * k3[2] + k4[2])
            m12 = m12 + w * (k1[3] + 2.0 * k2[3] + 2.0 * k3[3] + k4[3])
            m22 = m22 + w * (k1[4] + 2.0 * k2[4] + 2.0 * k3[4] + k4[4])
            a = a + w * (k1[5] + 2.0 * k2[5] + 2.0 * k3[5] + k4[5])
            now += dt
            if dt == full and s == (b1, b2, m11, m12, m22, a):
                # converged to the last bit: a full step left the state as it was (the rates round away), so
                # every later step would too, and later times take this state without stepping through them
                now = math.inf
        out_beta[index] = b1, b2
        out_kernel[index] = m11, m12, m22
        out_power[index] = a
    return {"beta": out_beta, "kernel": out_kernel, "readout_power": out_power}


def transfer_statistics(time, rho, gamma0, learned, d_eff, decision_noise, reference_time=0.0) -> dict:
    """The model's observables at model times ``time`` (the registered model's ``function``).

    ``kernel_change`` and ``reference_agreement`` are measured from the first recorded session, at model time
    ``reference_time``: 0 (the default) is the switch, the pre-switch state; a later reference has its own
    kernel ``M_r`` and target direction ``b_r`` (``beta2``), so ``kernel_change = |M - M_r|_F / |M_r|_F`` and
    ``reference_agreement = b'M b_r / sqrt(b'Mb b_r'M b_r)``.

    Examples
    --------
    In the lazy limit the kernel is frozen: the alignment of a new orthogonal task is that of any direction.

    >>> out = transfer_statistics(np.array([0.0, 1.0]), 0.0, 1e-3, 1.0, 8.0, 0.4)
    >>> [round(float(v), 4) for v in out["task_alignment"]], round(float(out["reference_agreement"][1]), 4)
    ([0.3536, 0.3536], 0.0)
    """
    if not -1.0 <= rho <= 1.0:
        raise FitError(f"transfer model: expected -1 <= rho <= 1, found {rho!r}")
    if not (gamma0 >= 0 and 0 <= learned <= 1 and d_eff >= 2 and decision_noise > 0):
        raise FitError(f"transfer model: expected gamma0 >= 0, 0 <= learned <= 1, d_eff >= 2 and "
                       f"decision_noise > 0, found {gamma0!r}, {learned!r}, {d_eff!r}, {decision_noise!r}")
    t = np.asarray(time, dtype=float)
    state = transfer_trajectory(np.clip(t, 0.0, None), rho, gamma0, learned)
    m11, m12, m22 = state["kernel"].T
    after = t > 0
    # the target direction b: e_1 up to the switch, beta2 after it
    b1 = np.where(after, rho, 1.0)
    b2 = np.where(after, math.sqrt(max(1.0 - rho * rho, 0.0)), 0.0)
    quadratic = b1 * b1 * m11 + 2.0 * b1 * b2 * m12 + b2 * b2 * m22
    norm = np.sqrt(m11**2 + 2.0 * m12**2 + m22**2 + (d_eff - 2.0))
    k0 = math.sqrt(1.0 + (gamma0 * learned) ** 2)
    r11, r12, r22, c1, c2 = k0, 0.0, 1.0, 1.0, 0.0  # the reference kernel M_r and target direction b_r
    if reference_time > 0.0:
        r11, r12, r22 = transfer_trajectory(np.array([float(reference_time)]), rho, gamma0, learned)["kernel"][0]
        c1, c2 = rho, math.sqrt(max(1.0 - rho * rho, 0.0))
    reference_norm = math.sqrt(r11 * r11 + 2.0 * r12 * r12 + r22 * r22 + (d_eff - 2.0))
    change = np.sqrt((m11 - r11) ** 2 + 2.0 * (m12 - r12) ** 2 + (m22 - r22) ** 2) / reference_norm
    cross = b1 * (m11 * c1 + m12 * c2) + b2 * (m12 * c1 + m22 * c2)
    agreement = cross / np.sqrt(quadratic * (c1 * c1 * m11 + 2.0 * c1 * c2 * m12 + c2 * c2 * m22))
    behavior = np.zeros(t.size)
    for l1 in (1.0, -1.0):
        for l2 in (1.0, -1.0):
            output = state["beta"][:, 0] * l1 + state["beta"][:, 1] * l2
            behavior += 0.25 * _phi(np.sign(b1 * l1 + b2 * l2) * output / decision_noise)
    return {"behavior": behavior, "task_alignment": quadratic / norm, "reference_agreement": agreement,
            "kernel_change": change}


def _phi(z):
    """Standard normal CDF (erfc form: accurate in the lower tail)."""
    from scipy.special import ndtr

    return ndtr(z)


TRANSFER = Model(
    name="transfer",
    description=(
        "A two-layer linear network (the lazy-rich network) that learned task 1 learns task 2 = rho task 1 + "
        "sqrt(1 - rho^2) a new direction. Reversal (rho = -1): behaviour starts below chance (the old "
        "readout answers wrongly) and is relearned fast along the kernel the old task enlarged; the kernel "
        "shrinks along the task and regrows (transient kernel change, alignment dip). New task (rho = 0): "
        "behaviour starts at chance and the kernel must grow a new direction. The sign-aware "
        "reference_agreement (+1 same, -1 reversed, about 0 new) tells them apart where the alignment cannot."
    ),
    formula=(
        "dbeta/dt = (M + A I)(beta2 - beta), dM/dt = gamma0^2 (beta r' + r beta'), dA/dt = 2 gamma0^2 beta.r in "
        "span(e1, e2); at the switch beta = learned e1, M = diag(K1, 1), A = K1 = sqrt(1 + gamma0^2 learned^2); "
        "task_alignment = b'Mb/|M|_F; reference_agreement = b'Me1/sqrt(b'Mb M11); kernel_change = "
        "|M - M(0)|_F/|M(0)|_F; behavior = mean over condition types Phi(sign(y) f / decision_noise)"
    ),
    reference=(
        "Lauditi, Bordelon & Pehlevan 2025 (transfer learning in infinite-width feature-learning networks); "
        "Saxe, McClelland & Ganguli 2014 (exact linear-network dynamics); Bordelon & Pehlevan 2022 (richness "
        "gamma0)"
    ),
    parameters=(
        Parameter("rho", 0.0, (-1.0, 1.0), "overlap of the new task with the old (1 same, -1 reversal, 0 new)",
                  natural=(True, True)),
        Parameter("gamma0", 1.0, (1e-3, 30.0), "richness gamma0 of feature learning (both phases)",
                  log_scale=True),
        Parameter("learned", 0.95, (0.0, 1.0), "amplitude of task 1 the network had learned at the switch",
                  natural=(True, True)),
        Parameter("d_eff", 8.0, (2.0, 1000.0), "whitened input dimensions the probe conditions span",
                  log_scale=True),
        Parameter("decision_noise", 0.5, (0.01, 10.0),
                  "sd of the noise on the output before the sign decision (behaviour link)", log_scale=True),
    ),
    observables=("behavior", "task_alignment", "reference_agreement", "kernel_change"),
    function=transfer_statistics,
    time_unit="training time since the switch, lazy kernel eigenvalue 2 (residual exp(-2t) when lazy)",
    time_span=2.0,
    simulator="neurolearn.simulate.transfer.simulate_transfer_sessions",
    # task_alignment and reference_agreement come from one kernel and correlate 0.99 across sessions: the joint
    # covariance each recording estimates from its units is noisiest in their session-to-session differences,
    # where GLS leans hardest (coverage 0.88); shrunk working weights and sandwich intervals (docs/theory.md 2.8)
    covariance_shrinkage=0.2,
)
