"""The "learning-rule" model: which rule shaped the representation, gradient descent, feedback alignment or Hebbian.

The network is the two-layer linear network of the ``"lazy-rich"`` model (:mod:`neurolearn.theory.lazy_rich`,
simulated under each rule by :mod:`neurolearn.simulate.learning_rule`): ``f(x) = (1/(gamma0 N)) sum_i a_i
(w_i . x)``, whitened inputs with vanishing third moments, target ``y = e_1 . x``, centred initialisation
``a_i, w_ij ~ N(0, 1)`` and learning rate ``gamma0^2 N`` (Bordelon & Pehlevan 2023, *The influence of learning
rule on representation dynamics in wide neural networks*). Write ``r = e_1 - beta`` for the residual and
``beta = mean_i a_i w_i / gamma0`` for the network's function. Every rule trains the readout by its error,
``da_i/dt = gamma0 w_i . r``; the rules differ in how the hidden layer learns:

* **gradient descent (GD)**: ``dw_i/dt = gamma0 a_i r``, the error fed back through the current readout;
* **feedback alignment (FA)**: ``dw_i/dt = gamma0 xi_i r`` with a fixed random feedback weight ``xi_i ~ N(0, 1)``
  independent of the network (Lillicrap et al. 2016; with one hidden layer, direct feedback alignment is the
  same rule);
* **error-modulated Hebbian (Hebb)**: ``dw_i/dt = gamma0 E_x[Delta(x) h_i(x) x]``, post-synaptic activity
  ``h_i = w_i . x`` times pre-synaptic input times the global error ``Delta(x) = r . x`` (the paper's Hebb rule).
  For inputs whose third moments vanish (a Gaussian, or any training set closed under ``x -> -x``) this
  expectation is exactly zero: the hidden layer does not move and only the readout learns. It is the linear,
  exact form of the paper's finding that Hebb rules "perform most task relevant learning in the last layer".

The rule parameters interpolate: the hidden update is ``dw_i/dt = gamma0 (1 - hebbian) c_i r`` (+ the Hebbian
part, which contributes nothing) with feedback signal ``c_i = feedback a_i(t) + sqrt(1 - feedback^2) xi_i``.
``(feedback, hebbian) = (1, 0)`` is GD, ``(0, 0)`` is FA, ``hebbian = 1`` is Hebb (``feedback`` then has no
effect); at initialisation ``feedback`` is the correlation of the feedback with the readout weights, the
paper's "rho-aligned" feedback (there ``c_i = rho a_i(0) + sqrt(1 - rho^2) xi_i`` is frozen; here it follows the
readout so that ``feedback = 1`` is GD throughout; both give the paper's lazy kernel ``1 + rho``).

Exact reduction. With ``p = 1 - hebbian``, ``s = sqrt(1 - feedback^2)``, the population enters only through
``beta``, ``M = mean w_i w_i^T``, ``A = mean a_i^2``, ``C = mean a_i xi_i``, ``v = mean xi_i w_i`` and
``G = mean xi_i^2`` (constant)::

    dbeta/dt = (M + q I) r,             q = p (feedback A + s C)
    dM/dt    = gamma0 (r k^T + k r^T),  k = mean c_i w_i = p (feedback gamma0 beta + s v)
    dA/dt    = 2 gamma0^2 beta . r,     dC/dt = gamma0 v . r,     dv/dt = gamma0 p (feedback C + s G) r

(exact at any width given the initial moments). From the mean-field initialisation (``beta = v = 0``,
``M = I``, ``A = G = 1``, ``C = 0`` as ``N -> infinity``) every motion is along ``e_1``, so the state is five
numbers ``(u, m, A, C, v)`` with ``u = beta_1``, ``m = M_11``, ``r = 1 - u``. GD keeps ``A = m`` (the
conservation of ``a_i^2 - |w_i|^2``) and gives the lazy-rich closed form ``m = sqrt(1 + gamma0^2 u^2)``. In the
lazy limit (``gamma0 -> 0``) the kernel is frozen and ``r = exp(-(1 + p feedback) t)``: rate 2 for GD, 1 for FA
and Hebb. Rich FA grows the kernel as ``m = 1 + gamma0^2 S^2`` (``S = int r dt``), more than GD at moderate
richness (final ``m = 2.39`` against ``sqrt(5) = 2.24`` at ``gamma0 = 2``, the paper's "more feature learning
with smaller feedback correlation"), less at large richness (4.41 against 5.10 at ``gamma0 = 5``), and it
grows it later, once the feedback has aligned the weights; Hebb never changes it. The flow is solved exactly
(:mod:`neurolearn.theory.learning_rule_flow`): every rate is ``r`` times a linear form of the state, so in learned
time ``S = int r dt`` it is linear with constant coefficients and has a closed form (``cosh``/``sinh`` at rates
``gamma0 sqrt(p feedback)`` and twice that); the clock ``t(S)`` is one Chebyshev quadrature with its logarithmic
end subtracted, inverted by Newton's method. Error below 1e-8 against a DOP853 solution at tolerance 1e-12
(the tests), about 0.2-0.4 ms a call (the RK4 integration it replaces took 1-2.5 ms).

Observables, on a whitened, centred probe set whose first input coordinate is a balanced binary label (as
:func:`neurolearn.simulate.transfer.transfer_probe_set`; ``d_eff`` input dimensions, the hidden kernel
``Phi = X M X^T``; session 0 at model time 0 the reference)::

    task_alignment = m / sqrt(m^2 + d_eff - 1)
    kernel_change  = |m - 1| / sqrt(d_eff)
    behavior       = Phi(u / decision_noise)

the probability that a noisy sign readout of the output ``f = u l_1`` is correct. What tells the rules apart:
the speed of learning at the start (lazy rate ``1 + p feedback``) and how much the kernel grows per unit
learned (none for Hebb, ``sqrt(1 + gamma0^2 u^2) - 1`` for GD, more for FA).

Checked against :func:`neurolearn.simulate.learning_rule.simulate_learning_rule_sessions` (the network trained
under each rule on a training set closed under ``x -> -x``): the noiseless population statistics approach the
model as the width grows, and through :func:`neurolearn.summarize` R^2 >= 0.95 on every observable for GD, FA
and Hebb (tests/theory/test_learning_rule.py; docs/theory.md).

Examples
--------
>>> import numpy as np
>>> from neurolearn.theory.learning_rule import LEARNING_RULE, RULES
>>> gd = LEARNING_RULE.predict([0.0, 20.0], gamma0=2.0, d_eff=8.0, **RULES["gd"])
>>> round(float(gd["kernel_change"][-1]), 3)  # (sqrt(5) - 1) / sqrt(8)
0.437
>>> hebb = LEARNING_RULE.predict([0.0, 20.0], gamma0=2.0, d_eff=8.0, **RULES["hebbian"])
>>> float(hebb["kernel_change"][-1]), round(float(hebb["behavior"][-1]), 3)  # Phi(1 / 0.5)
(0.0, 0.977)
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.lazy_rich import relative_kernel_change
from neurolearn.theory.learning_rule_flow import solve_flow

__all__ = ["LEARNING_RULE", "RULES", "rule_trajectory", "learning_rule_statistics", "learning_rule_jacobian"]

#: the three named rules as values of the model's rule parameters (Hebb: ``feedback`` has no effect, held at 0)
RULES: dict[str, dict[str, float]] = {
    "gd": {"feedback": 1.0, "hebbian": 0.0},
    "fa": {"feedback": 0.0, "hebbian": 0.0},
    "hebbian": {"feedback": 0.0, "hebbian": 1.0},
}

def rule_trajectory(time, gamma0: float, feedback: float, hebbian: float, initial=None) -> dict:
    """The reduced state at model times ``time`` (times <= 0: the initial state).

    Parameters
    ----------
    time : array_like
    gamma0, feedback, hebbian : float
        Richness and the rule (see the module docstring).
    initial : dict, optional
        Initial moments ``u, m, A, C, v, G`` along the task (default the mean-field values 0, 1, 1, 0, 0, 1):
        the reduction is exact at any width given a finite network's own initial moments.

    Returns
    -------
    dict
        ``u`` (learned amplitude ``beta_1``), ``m`` (``M_11``), ``A``, ``C``, ``v``, each shaped like ``time``.

    Examples
    --------
    Gradient descent keeps ``A = m`` and follows the lazy-rich closed form ``m = sqrt(1 + gamma0^2 u^2)``:

    >>> out = rule_trajectory(np.array([0.0, 0.3, 5.0]), 2.0, 1.0, 0.0)
    >>> bool(np.allclose(out["m"], np.sqrt(1 + 4 * out["u"] ** 2), atol=1e-6)), round(float(out["u"][-1]), 6)
    (True, 1.0)
    """
    t = np.asarray(time, dtype=float)
    start = {"u": 0.0, "m": 1.0, "A": 1.0, "C": 0.0, "v": 0.0, "G": 1.0} | dict(initial or {})
    flat = solve_flow(t.ravel(), gamma0, feedback, hebbian, start)
    return dict(zip(("u", "m", "A", "C", "v"), flat.reshape((5,) + t.shape)))


def learning_rule_statistics(time, gamma0, feedback, hebbian, d_eff, decision_noise, reference_time=0.0) -> dict:
    """The model's observables at model times ``time`` (the registered model's ``function``).

    ``kernel_change`` is from the kernel at ``reference_time`` (the first recorded session's model time; 0,
    the start of training, by default).

    Examples
    --------
    In the lazy limit the kernel is frozen and the rule sets only the speed, ``exp(-(1 + p feedback) t)``:

    >>> gd = learning_rule_statistics(np.array([0.0, 0.5]), 1e-4, 1.0, 0.0, 8.0, 0.5)
    >>> fa = learning_rule_statistics(np.array([0.0, 0.5]), 1e-4, 0.0, 0.0, 8.0, 0.5)
    >>> round(float(gd["kernel_change"][1]), 6), round(float(gd["task_alignment"][1]), 4)
    (0.0, 0.3536)
    >>> from scipy.stats import norm
    >>> bool(np.isclose(fa["behavior"][1], norm.cdf((1 - np.exp(-0.5)) / 0.5), atol=1e-6))
    True
    """
    if not (0.0 <= feedback <= 1.0 and 0.0 <= hebbian <= 1.0):
        raise FitError(f"learning-rule model: expected 0 <= feedback <= 1 and 0 <= hebbian <= 1, found "
                       f"{feedback!r}, {hebbian!r}")
    if not (gamma0 >= 0 and d_eff >= 1 and decision_noise > 0):
        raise FitError(f"learning-rule model: expected gamma0 >= 0, d_eff >= 1 and decision_noise > 0, found "
                       f"{gamma0!r}, {d_eff!r}, {decision_noise!r}")
    t = np.asarray(time, dtype=float)
    reference = 1.0
    if reference_time > 0.0:
        reference = float(_trajectory(np.array([float(reference_time)]), gamma0, feedback, hebbian)["m"][0])
    return _observables(_trajectory(t, gamma0, feedback, hebbian), d_eff, decision_noise, reference)


def _observables(state, d_eff, decision_noise, reference=1.0):
    m = state["m"]
    return {"behavior": _phi(state["u"] / decision_noise),
            "task_alignment": m / np.sqrt(m * m + d_eff - 1.0),
            "kernel_change": relative_kernel_change(m, reference, d_eff)}


# the last few trajectories: a least-squares step evaluates the residuals, then the Jacobian, at one point
_RECENT: dict = {}
_RECENT_SIZE = 4


def _trajectory(t, gamma0, feedback, hebbian):
    """:func:`rule_trajectory` at ``max(t, 0)``, remembered for the last few calls (read-only arrays)."""
    key = (t.tobytes(), t.shape, float(gamma0), float(feedback), float(hebbian))
    state = _RECENT.get(key)
    if state is None:
        state = rule_trajectory(np.clip(t, 0.0, None), gamma0, feedback, hebbian)
        for value in state.values():
            value.setflags(write=False)
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = state
    return state


# Finite-difference step of the flow's three parameters in the model's jacobian (relative for gamma0); the flow is
# exact to ~1e-14 for a given parameter set, so a forward difference is accurate to ~1e-6 relative
_FLOW_STEP = 1e-6


def learning_rule_jacobian(time, gamma0, feedback, hebbian, d_eff, decision_noise) -> dict:
    """Derivatives of :func:`learning_rule_statistics` with respect to ``"time"`` and each parameter (the
    registered model's ``jacobian``).

    In time from the flow itself (``du/dt = (m + q) r``, ``dm/dt = 2 gamma0 p (feedback gamma0 u + s v) r``), in
    ``d_eff`` and ``decision_noise`` in closed form; in ``gamma0``, ``feedback`` and ``hebbian`` by forward
    differences of the exact flow (step ``1e-6``, relative for ``gamma0``, backward within a step of the upper
    bound 1): three flow solutions besides the base one, where differencing every parameter and the time
    mapping would take seven.

    Examples
    --------
    Lazy feedback alignment learns as ``1 - exp(-t)``, so ``du/dt = exp(-t)``:

    >>> out = learning_rule_jacobian(np.array([0.0, 1.0]), 1e-4, 0.0, 0.0, 8.0, 0.5)
    >>> from scipy.stats import norm
    >>> u = 1 - np.exp(-1.0)
    >>> bool(np.isclose(out["behavior"]["time"][1], norm.pdf(u / 0.5) / 0.5 * np.exp(-1.0)))
    True
    """
    t = np.asarray(time, dtype=float)
    base_values = {"gamma0": gamma0, "feedback": feedback, "hebbian": hebbian, "d_eff": d_eff,
                   "decision_noise": decision_noise}
    learning_rule_statistics(t, **base_values)  # the parameter checks
    state = _trajectory(t, gamma0, feedback, hebbian)
    base = _observables(state, d_eff, decision_noise)
    u, m, a, c, v = (state[k] for k in ("u", "m", "A", "C", "v"))
    p, s = 1.0 - hebbian, math.sqrt(max(1.0 - feedback * feedback, 0.0))
    r = np.where(t >= 0.0, 1.0 - u, 0.0)  # a time before 0 is clipped to it: no derivative there
    du = (m + p * (feedback * a + s * c)) * r
    dm = 2.0 * gamma0 * p * (feedback * gamma0 * u + s * v) * r
    z = u / decision_noise
    density = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    norm = m * m + d_eff - 1.0
    root_d = math.sqrt(d_eff)
    zero = np.zeros(t.shape)
    out = {
        "behavior": {"time": density / decision_noise * du, "d_eff": zero,
                     "decision_noise": -density * z / decision_noise},
        "task_alignment": {"time": (d_eff - 1.0) / norm**1.5 * dm, "d_eff": -0.5 * m / norm**1.5,
                           "decision_noise": zero},
        "kernel_change": {"time": np.sign(m - 1.0) / root_d * dm, "d_eff": -0.5 * np.abs(m - 1.0) / d_eff**1.5,
                          "decision_noise": zero},
    }
    for name, value in (("gamma0", gamma0), ("feedback", feedback), ("hebbian", hebbian)):
        step = _FLOW_STEP * value if name == "gamma0" else (_FLOW_STEP if value + _FLOW_STEP <= 1.0 else -_FLOW_STEP)
        if name == "gamma0" and step == 0.0:
            step = _FLOW_STEP
        moved = value + step
        shifted = learning_rule_statistics(t, **(base_values | {name: moved}))
        for observable in out:
            out[observable][name] = (shifted[observable] - base[observable]) / (moved - value)
    return out


def _phi(z):
    """Standard normal CDF."""
    from scipy.special import ndtr

    return ndtr(z)


LEARNING_RULE = Model(
    name="learning-rule",
    description=(
        "A two-layer linear network whose readout learns by its error and whose hidden layer learns by "
        "gradient descent (feedback = 1, hebbian = 0), feedback alignment with fixed random feedback "
        "(feedback = 0, hebbian = 0), an error-modulated Hebbian rule (hebbian = 1: the hidden layer does not "
        "move, only the readout learns) or a mixture. GD learns fastest at first and grows the kernel along "
        "the task; FA starts at half the speed and grows the kernel more per unit learned; Hebb learns at half "
        "the speed with a frozen kernel (no kernel change, flat alignment)."
    ),
    formula=(
        "du/dt = (m + q) r, q = p (feedback A + s C); dm/dt = 2 gamma0 p (feedback gamma0 u + s v) r; "
        "dA/dt = 2 gamma0^2 u r; dC/dt = gamma0 v r; dv/dt = gamma0 p (feedback C + s) r; r = 1 - u, "
        "p = 1 - hebbian, s = sqrt(1 - feedback^2), u = m - 1 = A - 1 = C = v = 0 at t = 0; task_alignment = "
        "m / sqrt(m^2 + d_eff - 1); kernel_change = |m - 1| / sqrt(d_eff); behavior = Phi(u / decision_noise)"
    ),
    reference=(
        "Bordelon & Pehlevan 2023 (the influence of learning rule on representation dynamics in wide neural "
        "networks, ICLR); Lillicrap et al. 2016 (feedback alignment); Bordelon & Pehlevan 2022 (richness gamma0)"
    ),
    parameters=(
        Parameter("gamma0", 2.0, (1e-3, 30.0), "richness gamma0 of feature learning", log_scale=True),
        Parameter("feedback", 0.5, (0.0, 1.0),
                  "correlation of the hidden layer's error feedback with the readout (1 GD, 0 random FA)",
                  natural=(False, True)),
        Parameter("hebbian", 0.3, (0.0, 1.0),
                  "fraction of hidden-layer plasticity that is error-modulated Hebbian (1: only the readout learns)",
                  natural=(True, True)),
        Parameter("d_eff", 8.0, (1.0, 1000.0), "whitened input dimensions the probe conditions span",
                  log_scale=True, natural=(True, False)),
        Parameter("decision_noise", 0.5, (0.01, 10.0),
                  "sd of the noise on the output before the sign decision (behaviour link)", log_scale=True),
    ),
    observables=("behavior", "task_alignment", "kernel_change"),
    function=learning_rule_statistics,
    referenced=("kernel_change",),
    jacobian=learning_rule_jacobian,
    time_unit="training time, lazy gradient-descent kernel eigenvalue 2 (residual exp(-2t) when lazy)",
    time_span=2.0,
    simulator="neurolearn.simulate.learning_rule.simulate_learning_rule_sessions",
)
