"""A two-layer linear network that learns one task, then a new, reversed or unchanged one: transfer learning
recorded across sessions, with known ground truth.

The network and its training are those of :mod:`neurolearn.simulate.two_layer` (the network of the
``"lazy-rich"`` model): ``f(x) = (1/(gamma0 N)) sum_i a_i (w_i . x)``, whitened inputs, centred
antisymmetric initialisation ``a_i, w_ij ~ N(0, 1)``, gradient flow of both layers on the squared error at
learning rate ``gamma0^2 N`` (classical Runge-Kutta, the same step rule). Here the target changes once: for
training time ``pretraining`` the network learns task 1, ``y1(x) = e_1 . x``; then it learns task 2,
``y2(x) = beta2 . x`` with ``beta2 = rho e_1 + sqrt(1 - rho^2) e_2``: ``rho = 1`` the same task, ``-1`` its
reversal, ``0`` a new task orthogonal to the first.

The probe set (:func:`transfer_probe_set`) is whitened and centred with its first two input coordinates two
orthogonal balanced binary labels ``l1, l2`` (four condition types in equal numbers), so a condition's
task-1 target is ``l1`` and its task-2 target is ``rho l1 + sqrt(1 - rho^2) l2``. A recording is the hidden
layer ``h_i(x) = w_i . x`` of a fixed random subset of units (the same cells every session), with Gaussian
trial noise. Trial coords: ``target`` the session's regression target on the condition (task 1 before the
switch, task 2 after), ``label`` its sign, ``stimulus`` the condition, ``correct`` drawn with probability
``Phi(label f(x) / decision_noise)`` from the network's own output ``f`` (a noisy sign readout: the
``"transfer"`` model's behaviour link).

Examples
--------
>>> tree, truth = simulate_transfer_sessions(-1.0, n_pre=1, n_post=2, n_neurons=20, n_hidden=400, rng=0)
>>> list(tree.children), truth.parameters["rho"]
(['session-00', 'session-01', 'session-02'], -1.0)
>>> bool(truth.behavior[0] > 0.9), truth.extra["reference_agreement"].tolist()
(True, [1.0, -1.0, -1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.simulate.two_layer import SimulatedLearning

__all__ = ["transfer_probe_set", "TransferRun", "train_transfer", "simulate_transfer_sessions", "new_target"]


def new_target(rho: float, input_dim: int) -> np.ndarray:
    """Task-2 direction ``beta2 = rho e_1 + sqrt(1 - rho^2) e_2`` in input space.

    Examples
    --------
    >>> new_target(-1.0, 3).tolist(), new_target(0.0, 3).tolist()
    ([-1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    """
    if not -1.0 <= rho <= 1.0:
        raise DataError(f"transfer: expected -1 <= rho <= 1, found {rho!r}")
    beta = np.zeros(int(input_dim))
    beta[0], beta[1] = rho, np.sqrt(max(1.0 - rho * rho, 0.0))
    return beta


def transfer_probe_set(n_conditions: int, input_dim: int, rng=None) -> np.ndarray:
    """Probe inputs ``X`` (P x D), ``X^T X = P I``, ``1^T X = 0``, columns 0 and 1 orthogonal binary labels.

    ``P`` must be a multiple of 4 (the four combinations of the two labels in equal numbers) and at least
    ``input_dim + 1``; the other columns are random directions orthogonal to the constant and the labels.

    Examples
    --------
    >>> x = transfer_probe_set(8, 3, rng=0)
    >>> bool(np.allclose(x.T @ x, 8 * np.eye(3))), x[:4, :2].tolist()
    (True, [[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    """
    if input_dim < 2:
        raise DataError(f"transfer_probe_set: expected input_dim >= 2, found {input_dim}")
    if n_conditions % 4 or n_conditions < input_dim + 1:
        raise DataError(f"transfer_probe_set: expected a multiple of 4 conditions >= input_dim + 1 = "
                        f"{input_dim + 1}, found {n_conditions}")
    rng = np.random.default_rng(rng)
    index = np.arange(n_conditions)
    first = np.where(index % 2 == 0, 1.0, -1.0)
    second = np.where(index % 4 < 2, 1.0, -1.0)
    fixed = np.column_stack([np.ones(n_conditions), first, second]) / np.sqrt(n_conditions)
    columns = [first, second]
    if input_dim > 2:
        other = rng.standard_normal((n_conditions, input_dim - 2))
        other -= fixed @ (fixed.T @ other)
        columns.append(np.sqrt(n_conditions) * np.linalg.qr(other)[0])
    return np.column_stack(columns)


@dataclass
class TransferRun:
    """The network at the checkpoints of a task switch.

    Attributes
    ----------
    times : ndarray (T,)
        Training times (the switch at ``switch_time``).
    switch_time : float
    rho : float
    readout_direction : ndarray (T, D)
        ``beta = W^T a / (gamma0 N)``: the network's linear function of the input.
    hidden_kernel : ndarray (T, D, D)
        ``M = (1/N) sum_i w_i w_i^T`` of all hidden units.
    readout_power : ndarray (T,)
        ``A = (1/N) sum_i a_i^2``.
    recorded_weights : ndarray (T, n_recorded, D)
    recorded_units : ndarray (n_recorded,)
    richness : float
    """

    times: np.ndarray
    switch_time: float
    rho: float
    readout_direction: np.ndarray
    hidden_kernel: np.ndarray
    readout_power: np.ndarray
    recorded_weights: np.ndarray
    recorded_units: np.ndarray
    richness: float

    def target_direction(self) -> np.ndarray:
        """The task being trained at each checkpoint (task 1 up to the switch, task 2 after), (T, D)."""
        d = self.readout_direction.shape[1]
        old, new = new_target(1.0, d), new_target(self.rho, d)
        return np.where((self.times > self.switch_time)[:, None], new, old)


def train_transfer(times, *, switch_time: float, rho: float, richness: float = 1.0, input_dim: int = 8,
                   n_hidden: int = 4000, n_recorded: int | None = None, rng=None) -> TransferRun:
    """Train on task 1 until ``switch_time``, then on task 2 (direction :func:`new_target`), by gradient flow.

    The initialisation draws the random numbers in the order of
    :func:`neurolearn.simulate.two_layer.train_two_layer_linear`, and the integration uses its step rule, so
    before the switch the run is that function's network (same seed, same trajectory).

    Examples
    --------
    >>> run = train_transfer([0.0, 2.0, 3.0], switch_time=2.0, rho=-1.0, richness=1.0, n_hidden=2000, rng=0)
    >>> [round(float(b), 1) for b in run.readout_direction[1:, 0]]  # task 1 learned, then reversed
    [1.0, -0.8]
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or times[0] < 0:
        raise DataError(f"train_transfer: expected non-decreasing times >= 0, found {times!r}")
    if not richness > 0:
        raise DataError(f"train_transfer: expected richness > 0, found {richness!r}")
    if n_hidden < 2 or n_hidden % 2:
        raise DataError(f"train_transfer: expected an even n_hidden >= 2, found {n_hidden}")
    new = new_target(rho, input_dim)
    rng = np.random.default_rng(rng)
    half = n_hidden // 2
    a_half = rng.standard_normal(half)
    w_half = rng.standard_normal((half, input_dim))
    state = np.column_stack([np.concatenate([a_half, -a_half]), np.concatenate([w_half, w_half])])
    n_recorded = n_hidden if n_recorded is None else int(n_recorded)
    if not 1 <= n_recorded <= n_hidden:
        raise DataError(f"train_transfer: expected 1 <= n_recorded <= n_hidden={n_hidden}, found {n_recorded}")
    recorded = np.sort(rng.choice(n_hidden, size=n_recorded, replace=False))
    gamma0, scale = float(richness), 1.0 / (float(richness) * n_hidden)
    old = new_target(1.0, input_dim)
    # the step rule of two_layer.train_two_layer_linear (target power 1, unit initial variances)
    max_step = 0.25 / (2.0 * np.sqrt(1.0 + gamma0**2) + 1.0)

    def flow(current, target):
        a, w = current[:, 0], current[:, 1:]
        residual = target - scale * (a @ w)
        out = np.empty_like(current)
        out[:, 0] = w @ (gamma0 * residual)
        np.multiply(a[:, None], gamma0 * residual[None, :], out=out[:, 1:])
        return out

    n_times = times.size
    beta = np.empty((n_times, input_dim))
    kernel = np.empty((n_times, input_dim, input_dim))
    power = np.empty(n_times)
    weights = np.empty((n_times, n_recorded, input_dim))
    now = 0.0
    with single_threaded_blas():
        for index, checkpoint in enumerate(times):
            # integrate to the switch with task 1, then on with task 2 (a checkpoint at the switch sees task 1)
            for stop, target in ((min(checkpoint, switch_time), old), (checkpoint, new)):
                if stop > now:
                    _rk4(flow, state, now, stop, max_step, target)
                    now = stop
            a, w = state[:, 0], state[:, 1:]
            beta[index] = scale * (a @ w)
            kernel[index] = w.T @ w / n_hidden
            power[index] = a @ a / n_hidden
            weights[index] = w[recorded]
    return TransferRun(times=times, switch_time=float(switch_time), rho=float(rho), readout_direction=beta,
                       hidden_kernel=kernel, readout_power=power, recorded_weights=weights, recorded_units=recorded,
                       richness=gamma0)


def simulate_transfer_sessions(
    rho: float,
    *,
    richness: float = 2.0,
    pretraining: float = 1.5,
    n_pre: int = 2,
    n_post: int = 10,
    session_interval: float = 0.15,
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
    """Recordings of the hidden layer before and after a switch of task.

    ``n_pre`` sessions are recorded at the switch (training time ``pretraining`` on task 1: the same network,
    fresh trials), then ``n_post`` sessions at ``session_interval``, ``2 session_interval``, ... of training on
    task 2. In the ``"transfer"`` model's time (the switch at 0) sessions ``s`` sit at
    ``session_interval * max(s - (n_pre - 1), 0)``: ``fit(..., fixed={"onset": n_pre - 1})``.

    Parameters
    ----------
    rho : float
        Relation of task 2 to task 1 (``1`` same, ``-1`` reversal, ``0`` new; ``+-1/sqrt(2)`` is refused: it
        puts conditions on the decision boundary).
    richness : float
        ``gamma0`` of both phases.
    pretraining : float
        Training time on task 1 before the switch.
    n_conditions, n_neurons, n_trials, noise_sd, input_dim, n_hidden
        Sizes of the experiment and the network (``n_conditions`` a multiple of 4, ``>= input_dim + 1``).
    decision_noise : float
        ``sigma`` of the behaviour link ``P(correct) = Phi(label f / sigma)``.
    tracked : bool
        Record the same ``n_neurons`` units every session (default), or a fresh random subset each session
        (neuron ids are unit indices, so a unit drawn twice is the same cell).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    tree : xarray.DataTree
        One child per session (``session-00``, ...), ``responses`` (trial, neuron), trial coords ``target``,
        ``label``, ``stimulus``, ``correct``.
    truth : SimulatedLearning
        ``parameters``: the true ``"transfer"`` parameters (``learned`` the task-1 amplitude the network had
        at the switch, ``d_eff = input_dim``); ``training_time`` the model time of each session;
        ``behavior``, ``task_alignment``, ``kernel_change`` and ``extra["reference_agreement"]`` the exact
        values of the noiseless network (population of all hidden units); ``run`` the :class:`TransferRun`.
    """
    if n_neurons > n_hidden:
        raise DataError(f"transfer simulation: expected n_neurons <= n_hidden={n_hidden}, found {n_neurons}")
    if n_pre < 1 or n_post < 1:
        raise DataError(f"transfer simulation: expected n_pre >= 1 and n_post >= 1, found {n_pre}, {n_post}")
    if abs(abs(rho) - np.sqrt(0.5)) < 1e-9:
        raise DataError("transfer simulation: rho = +-1/sqrt(2) puts conditions on the decision boundary")
    if not decision_noise > 0:
        raise DataError(f"transfer simulation: expected decision_noise > 0, found {decision_noise!r}")
    rng = np.random.default_rng(rng)
    inputs = transfer_probe_set(n_conditions, input_dim, rng)
    model_time = session_interval * np.concatenate([np.zeros(n_pre), np.arange(1, n_post + 1)])
    run = train_transfer(pretraining + model_time, switch_time=pretraining, rho=rho, richness=richness,
                         input_dim=input_dim, n_hidden=n_hidden, n_recorded=n_neurons if tracked else n_hidden,
                         rng=rng)
    units = np.broadcast_to(run.recorded_units, (model_time.size, run.recorded_units.size))
    if not tracked:  # a fresh subset of the layer each session (the tracked path draws nothing more)
        units = np.array([np.sort(rng.choice(n_hidden, size=n_neurons, replace=False)) for _ in model_time])
    targets = inputs @ run.target_direction().T  # (P, S): each session's regression target per condition
    outputs = inputs @ run.readout_direction.T
    labels = np.sign(targets)
    p_correct = norm.cdf(labels * outputs / decision_noise)  # (P, S)
    recorded = run.recorded_weights if tracked else np.stack([w[u] for w, u in zip(run.recorded_weights, units)])
    responses = np.einsum("pd,snd->spn", inputs, recorded)
    recordings = []
    for s in range(model_time.size):
        recording = make_recording(responses[s], n_trials=n_trials, noise_sd=noise_sd, target=targets[:, s],
                                   behavior=p_correct[:, s], neuron_ids=None if tracked else units[s],
                                   session_id=f"session-{s:02d}", session_start_time=f"2026-01-{s + 1:02d}T09:00:00",
                                   rng=rng)
        recordings.append(recording.assign_coords(label=("trial", labels[recording.stimulus.values, s])))
    tree = make_session_tree(recordings)
    population = run.hidden_kernel
    kernels = np.einsum("pd,sde,qe->spq", inputs, population, inputs)
    directions = run.target_direction()
    truth = SimulatedLearning(
        model="transfer",
        parameters={"rho": float(rho), "gamma0": float(richness), "learned": float(run.readout_direction[0, 0]),
                    "d_eff": float(input_dim), "decision_noise": float(decision_noise)},
        training_time=model_time,
        behavior=p_correct.mean(axis=0),
        task_alignment=np.array([_alignment(m, b) for m, b in zip(population, directions)]),
        kernel_change=np.linalg.norm(population - population[0], axis=(1, 2)) / np.linalg.norm(population[0]),
        condition_kernels=kernels,
        probe_inputs=inputs,
        labels=labels[:, -1],
        extra={"run": run, "targets": targets.T, "reference_agreement": np.array(
            [_agreement(m, b, directions[0]) for m, b in zip(population, directions)])},
    )
    return tree, truth


def _rk4(flow, state, start, stop, max_step, target):
    """Classical RK4 from ``start`` to ``stop`` in equal steps of at most ``max_step`` (in place)."""
    n_steps = int(np.ceil((stop - start) / max_step))
    dt = (stop - start) / n_steps
    for _ in range(n_steps):
        k1 = flow(state, target)
        k2 = flow(state + (0.5 * dt) * k1, target)
        k3 = flow(state + (0.5 * dt) * k2, target)
        k4 = flow(state + dt * k3, target)
        k1 += k4
        k2 += k3
        k1 += 2.0 * k2
        state += (dt / 6.0) * k1


def _alignment(hidden_kernel, direction):
    """Double-centred kernel-target alignment of ``X M X^T`` with ``X beta`` on a whitened, centred probe set:
    ``beta^T M beta / (|M|_F |beta|^2)``."""
    return float(direction @ hidden_kernel @ direction / (np.linalg.norm(hidden_kernel) * (direction @ direction)))


def _agreement(hidden_kernel, direction, reference):
    """Target agreement of ``X beta`` with ``X beta_ref`` in ``X M X^T`` (whitened, centred probe set)."""
    return float(direction @ hidden_kernel @ reference / np.sqrt(
        (direction @ hidden_kernel @ direction) * (reference @ hidden_kernel @ reference)))
