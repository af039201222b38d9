"""A two-layer linear network trained by gradient descent, feedback alignment or an error-modulated Hebbian rule:
learning under a known rule recorded across sessions, with known ground truth.

The network is that of :mod:`neurolearn.simulate.two_layer` (the ``"lazy-rich"`` network):
``f(x) = (1/(gamma0 N)) sum_i a_i (w_i . x)``, centred antisymmetric initialisation ``a_i, w_ij ~ N(0, 1)``,
learning rate ``gamma0^2 N``, classical Runge-Kutta with the same step rule. It is trained on a training set
closed under ``x -> -x``: the probe set ``X`` (:func:`neurolearn.simulate.transfer.transfer_probe_set`,
``X^T X = P I``) and its negation, target ``y = x_1`` (the balanced binary label in the first input
coordinate). Each rule is written per training example ``mu`` with error ``Delta_mu = y_mu - f(x_mu)`` and
hidden activity ``h_i(x) = w_i . x``::

    readout (every rule)   da_i/dt = gamma0 mean_mu Delta_mu h_i(x_mu)
    hidden layer           dw_i/dt = gamma0 (1 - hebbian) c_i mean_mu Delta_mu x_mu
                                     + gamma0 hebbian mean_mu Delta_mu h_i(x_mu) x_mu

with the feedback signal ``c_i = feedback a_i(t) + sqrt(1 - feedback^2) xi_i`` and a fixed random feedback
weight ``xi_i ~ N(0, 1)`` drawn independently of the network: ``feedback = 1, hebbian = 0`` is gradient
descent, ``feedback = 0, hebbian = 0`` feedback alignment, ``hebbian = 1`` the error-modulated Hebbian rule
(post-synaptic activity x pre-synaptic input x global error). The Hebbian term is computed from the training
set as written; on a training set closed under negation it cancels pair by pair, which is what makes the
``"learning-rule"`` model's reduction exact.

A recording is the hidden layer ``h_i(x) = w_i . x`` of a fixed random subset of units (the same cells every
session, or a fresh subset each session) on the probe set, with Gaussian trial noise. Trial coords:
``target`` the label ``x_1``, ``stimulus`` the condition, ``correct`` drawn with probability
``Phi(target f(x) / decision_noise)`` from the network's own output (the model's behaviour link).

Examples
--------
>>> tree, truth = simulate_learning_rule_sessions("hebbian", n_sessions=3, n_neurons=20, n_hidden=400, rng=0)
>>> list(tree.children), truth.parameters["hebbian"]
(['session-00', 'session-01', 'session-02'], 1.0)
>>> [round(float(c), 6) for c in truth.kernel_change]  # the Hebbian rule leaves the hidden layer as it was
[0.0, 0.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.simulate.transfer import transfer_probe_set
from neurolearn.simulate.truth import SimulatedLearning

__all__ = ["NAMED_RULES", "rule_values", "RuleRun", "train_with_rule", "simulate_learning_rule_sessions"]

#: the named rules as ``(feedback, hebbian)``
NAMED_RULES = {"gd": (1.0, 0.0), "fa": (0.0, 0.0), "hebbian": (0.0, 1.0)}


def rule_values(rule) -> tuple[float, float]:
    """``(feedback, hebbian)`` of a named rule (``"gd"``, ``"fa"``, ``"hebbian"``) or of a pair given as such.

    Examples
    --------
    >>> rule_values("fa"), rule_values((0.5, 0.2))
    ((0.0, 0.0), (0.5, 0.2))
    """
    if isinstance(rule, str):
        if rule not in NAMED_RULES:
            raise DataError(f"learning rule: expected one of {sorted(NAMED_RULES)} or (feedback, hebbian), "
                            f"found {rule!r}")
        return NAMED_RULES[rule]
    try:
        feedback, hebbian = (float(x) for x in rule)
    except (TypeError, ValueError):
        raise DataError(f"learning rule: expected a name or a pair (feedback, hebbian), found {rule!r}") from None
    if not (0.0 <= feedback <= 1.0 and 0.0 <= hebbian <= 1.0):
        raise DataError(f"learning rule: expected 0 <= feedback, hebbian <= 1, found {feedback!r}, {hebbian!r}")
    return feedback, hebbian


@dataclass
class RuleRun:
    """The network at its checkpoints.

    Attributes
    ----------
    times : ndarray (T,)
    feedback, hebbian, richness : float
    readout_direction : ndarray (T, D)
        ``beta = W^T a / (gamma0 N)``: the network's linear function of the input.
    hidden_kernel : ndarray (T, D, D)
        ``M = (1/N) sum_i w_i w_i^T`` of all hidden units.
    moments : dict of ndarray
        ``A = mean a_i^2`` (T,), ``C = mean a_i xi_i`` (T,), ``v = mean xi_i w_i`` (T, D) and the constant
        ``G = mean xi_i^2``: with ``beta`` and ``M`` the state of the model's reduction.
    recorded_weights : ndarray (T, n_recorded, D)
    recorded_units : ndarray (n_recorded,)
    """

    times: np.ndarray
    feedback: float
    hebbian: float
    richness: float
    readout_direction: np.ndarray
    hidden_kernel: np.ndarray
    moments: dict
    recorded_weights: np.ndarray
    recorded_units: np.ndarray


def train_with_rule(times, rule, *, inputs, richness: float = 2.0, n_hidden: int = 4000,
                    n_recorded: int | None = None, rng=None) -> RuleRun:
    """Train on ``inputs`` and their negation (target the first input coordinate) under ``rule``.

    Parameters
    ----------
    times : array_like
        Non-decreasing checkpoint times ``>= 0``.
    rule : str or (float, float)
        ``"gd"``, ``"fa"``, ``"hebbian"`` or ``(feedback, hebbian)``.
    inputs : ndarray (P, D)
        Whitened probe inputs (``X^T X = P I``).
    richness : float
        ``gamma0 > 0``.
    n_hidden : int
        Even ``N``.
    n_recorded : int, optional
        Units whose weights are kept (a random subset; default all).
    rng : numpy.random.Generator or int, optional

    Examples
    --------
    >>> x = transfer_probe_set(16, 4, rng=0)
    >>> run = train_with_rule([0.0, 6.0], "fa", inputs=x, richness=1.0, n_hidden=2000, rng=0)
    >>> round(float(run.readout_direction[-1, 0]), 3)
    1.0
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or times[0] < 0:
        raise DataError(f"train_with_rule: expected non-decreasing times >= 0, found {times!r}")
    if not richness > 0:
        raise DataError(f"train_with_rule: expected richness > 0, found {richness!r}")
    if n_hidden < 2 or n_hidden % 2:
        raise DataError(f"train_with_rule: expected an even n_hidden >= 2, found {n_hidden}")
    feedback, hebbian = rule_values(rule)
    inputs = np.asarray(inputs, dtype=float)
    n_conditions, input_dim = inputs.shape
    if not np.allclose(inputs.T @ inputs, n_conditions * np.eye(input_dim), atol=1e-8 * n_conditions):
        raise DataError("train_with_rule: expected whitened inputs (X^T X = P I)")
    rng = np.random.default_rng(rng)
    half = n_hidden // 2
    a_half = rng.standard_normal(half)
    w_half = rng.standard_normal((half, input_dim))
    a = np.concatenate([a_half, -a_half])
    w = np.concatenate([w_half, w_half])
    n_recorded = n_hidden if n_recorded is None else int(n_recorded)
    if not 1 <= n_recorded <= n_hidden:
        raise DataError(f"train_with_rule: expected 1 <= n_recorded <= n_hidden={n_hidden}, found {n_recorded}")
    recorded = np.sort(rng.choice(n_hidden, size=n_recorded, replace=False))
    xi = rng.standard_normal(n_hidden)  # the fixed random feedback, independent of the network
    train = np.concatenate([inputs, -inputs])  # closed under x -> -x
    target = train[:, 0]
    gamma0, scale = float(richness), 1.0 / (float(richness) * n_hidden)
    p, s = 1.0 - hebbian, np.sqrt(max(1.0 - feedback * feedback, 0.0))
    n_train = train.shape[0]
    state = np.column_stack([a, w])

    def flow(current):
        a, w = current[:, 0], current[:, 1:]
        hidden = train @ w.T  # (P_train, N)
        error = target - scale * (hidden @ a)
        out = np.empty_like(current)
        out[:, 0] = (gamma0 / n_train) * (hidden.T @ error)
        signal = feedback * a + s * xi
        out[:, 1:] = (gamma0 * p / n_train) * np.outer(signal, train.T @ error)
        if hebbian:
            out[:, 1:] += (gamma0 * hebbian / n_train) * ((hidden * error[:, None]).T @ train)
        return out

    max_step = 0.25 / (2.0 * np.sqrt(1.0 + gamma0**2) + 1.0)  # two_layer's step rule
    n_times = times.size
    beta = np.empty((n_times, input_dim))
    kernel = np.empty((n_times, input_dim, input_dim))
    moments = {"A": np.empty(n_times), "C": np.empty(n_times), "v": np.empty((n_times, input_dim)),
               "G": float(xi @ xi / n_hidden)}
    weights = np.empty((n_times, n_recorded, input_dim))
    now = 0.0
    with single_threaded_blas():
        for index, checkpoint in enumerate(times):
            if checkpoint > now:
                _rk4(flow, state, now, checkpoint, max_step)
                now = checkpoint
            a, w = state[:, 0], state[:, 1:]
            beta[index] = scale * (a @ w)
            kernel[index] = w.T @ w / n_hidden
            moments["A"][index] = a @ a / n_hidden
            moments["C"][index] = a @ xi / n_hidden
            moments["v"][index] = xi @ w / n_hidden
            weights[index] = w[recorded]
    return RuleRun(times=times, feedback=feedback, hebbian=hebbian, richness=gamma0, readout_direction=beta,
                   hidden_kernel=kernel, moments=moments, recorded_weights=weights, recorded_units=recorded)


def simulate_learning_rule_sessions(
    rule="gd",
    *,
    richness: float = 2.0,
    n_sessions: int = 10,
    session_interval: float = 0.2,
    n_conditions: int = 16,
    n_neurons: int = 100,
    n_trials: int = 20,
    noise_sd: float = 1.0,
    input_dim: int = 8,
    n_hidden: int = 4000,
    decision_noise: float = 0.4,
    tracked: bool = True,
    rng=None,
):
    """Recordings of the hidden layer while the network learns under ``rule``.

    Session ``s`` is recorded at training time ``s * session_interval`` (session 0 before training): in the
    ``"learning-rule"`` model's time, ``fit(..., fixed={"onset": 0.0, "time_scale": session_interval})``.

    Parameters
    ----------
    rule : str or (float, float)
        ``"gd"``, ``"fa"``, ``"hebbian"`` or ``(feedback, hebbian)`` (see :func:`rule_values`).
    richness : float
        ``gamma0``.
    n_sessions, session_interval
        Number of sessions and training time between them.
    n_conditions, n_neurons, n_trials, noise_sd, input_dim, n_hidden
        Sizes of the experiment and the network (``n_conditions`` a multiple of 4, ``>= input_dim + 1``).
    decision_noise : float
        ``sigma`` of the behaviour link ``P(correct) = Phi(target f / sigma)``.
    tracked : bool
        Record the same ``n_neurons`` units every session (default), or a fresh random subset each session.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    tree : xarray.DataTree
        One child per session (``session-00``, ...), ``responses`` (trial, neuron), trial coords ``target``,
        ``stimulus``, ``correct``.
    truth : SimulatedLearning
        ``parameters``: the true ``"learning-rule"`` parameters (``d_eff = input_dim``); ``training_time``;
        ``behavior``, ``task_alignment``, ``kernel_change`` the exact values of the noiseless network (all its
        hidden units); ``extra["run"]`` the :class:`RuleRun`.
    """
    feedback, hebbian = rule_values(rule)
    if n_neurons > n_hidden:
        raise DataError(f"learning-rule simulation: expected n_neurons <= n_hidden={n_hidden}, found {n_neurons}")
    if n_sessions < 2:
        raise DataError(f"learning-rule simulation: expected n_sessions >= 2, found {n_sessions}")
    if not decision_noise > 0:
        raise DataError(f"learning-rule simulation: expected decision_noise > 0, found {decision_noise!r}")
    rng = np.random.default_rng(rng)
    inputs = transfer_probe_set(n_conditions, input_dim, rng)
    times = session_interval * np.arange(n_sessions)
    run = train_with_rule(times, (feedback, hebbian), inputs=inputs, richness=richness, n_hidden=n_hidden,
                          n_recorded=n_neurons if tracked else n_hidden, rng=rng)
    units = np.broadcast_to(run.recorded_units, (n_sessions, run.recorded_units.size))
    if not tracked:
        units = np.array([np.sort(rng.choice(n_hidden, size=n_neurons, replace=False)) for _ in times])
    labels = inputs[:, 0]
    outputs = inputs @ run.readout_direction.T  # (P, S)
    p_correct = norm.cdf(labels[:, None] * outputs / decision_noise)
    recorded = run.recorded_weights if tracked else np.stack([w[u] for w, u in zip(run.recorded_weights, units)])
    responses = np.einsum("pd,snd->spn", inputs, recorded)
    recordings = [
        make_recording(responses[s], n_trials=n_trials, noise_sd=noise_sd, target=labels, behavior=p_correct[:, s],
                       neuron_ids=None if tracked else units[s], session_id=f"session-{s:02d}",
                       session_start_time=f"2026-01-{s + 1:02d}T09:00:00", rng=rng)
        for s in range(n_sessions)
    ]
    population = run.hidden_kernel
    direction = np.zeros(input_dim)
    direction[0] = 1.0
    truth = SimulatedLearning(
        model="learning-rule",
        parameters={"gamma0": float(richness), "feedback": feedback, "hebbian": hebbian, "d_eff": float(input_dim),
                    "decision_noise": float(decision_noise)},
        training_time=times,
        behavior=p_correct.mean(axis=0),
        task_alignment=np.array([direction @ m @ direction / np.linalg.norm(m) for m in population]),
        kernel_change=np.linalg.norm(population - population[0], axis=(1, 2)) / np.linalg.norm(population[0]),
        condition_kernels=np.einsum("pd,sde,qe->spq", inputs, population, inputs),
        probe_inputs=inputs,
        labels=labels,
        extra={"run": run},
    )
    return make_session_tree(recordings), truth


def _rk4(flow, state, start, stop, max_step):
    """Classical RK4 from ``start`` to ``stop`` in equal steps of at most ``max_step`` (in place)."""
    n_steps = int(np.ceil((stop - start) / max_step))
    dt = (stop - start) / n_steps
    for _ in range(n_steps):
        k1 = flow(state)
        k2 = flow(state + (0.5 * dt) * k1)
        k3 = flow(state + (0.5 * dt) * k2)
        k4 = flow(state + dt * k3)
        k1 += k4
        k2 += k3
        k1 += 2.0 * k2
        state += (dt / 6.0) * k1
