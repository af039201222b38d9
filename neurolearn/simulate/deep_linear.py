"""A deep linear network learning one task, its hidden layers recorded as areas across sessions, with known
ground truth: the network the ``"deep-linear"`` model reduces.

The network (mean-field / muP parameterisation, richness ``gamma0``) is ``h_1 = W_1 x``,
``h_l = W_l h_{l-1} / sqrt(N)`` for ``l = 2 .. depth``, ``f = a . h_depth / (gamma0 N)``, weights
``~ N(0, 1)`` (``W_1``'s columns then orthonormalised to norm ``sqrt(N)``, and the readout projected
orthogonal to the last layer's initial input maps so that the initial output ``f_0`` is exactly 0: both their
wide limits), whitened inputs. The output is trained by gradient flow on the squared
error to ``y = e_1 . x`` (population loss: with whitened inputs it is ``|beta* - beta|^2 / 2`` for the
network's linear map ``beta``) at learning rate ``gamma0^2 N``, integrated by classical RK4: ``dW_1 =
gamma0 g_1 r^T``, ``dW_l = (gamma0 / sqrt(N)) g_l (P_{l-1} r)^T``, ``da = gamma0 P_depth r`` with ``r`` the
residual, ``P_l`` the map from the input to layer ``l`` and ``g_l`` the backward vector of layer ``l``.

Each session records ``n_neurons`` fixed units of every hidden layer, each layer an area (neuron coord
``location``, e.g. ``"V1"`` for layer 1), on the probe set of :func:`neurolearn.simulate.transfer.
transfer_probe_set` (whitened, centred, its first coordinate the balanced binary label), with Gaussian trial
noise. Trial coords ``target`` (the label), ``stimulus``, ``correct`` drawn with probability
``Phi(label f(x) / decision_noise)``.

Examples
--------
>>> tree, truth = simulate_deep_linear_sessions(1.0, n_sessions=3, n_neurons=10, n_hidden=200, rng=0)
>>> list(tree.children), sorted(set(tree["session-00"]["responses"].location.values.tolist()))
(['session-00', 'session-01', 'session-02'], ['LM', 'V1'])
>>> truth.extra["task_alignment"].shape  # (layer, session)
(2, 3)
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

__all__ = ["DeepLinearRun", "train_deep_linear", "simulate_deep_linear_sessions", "DEFAULT_AREAS"]

#: area names of layers 1, 2, 3, ... (a visual pathway)
DEFAULT_AREAS = ("V1", "LM", "AL", "PM", "AM")


@dataclass
class DeepLinearRun:
    """The network at its checkpoints.

    Attributes
    ----------
    times : ndarray (T,)
    learned : ndarray (T,)
        ``beta . e_1`` of the centred output (the learned amplitude).
    input_maps : ndarray (T, depth, N, D)
        ``P_l``: layer ``l``'s response to each input direction (``h_l(x) = P_l x``), all units.
    richness : float
    initial_output : ndarray (D,)
        ``f_0`` along each input direction before training (0 up to round-off: the readout starts orthogonal to
        the last layer's input maps).
    """

    times: np.ndarray
    learned: np.ndarray
    input_maps: np.ndarray
    richness: float
    initial_output: np.ndarray | None = None

    def layer_kernels(self) -> np.ndarray:
        """``M_l = P_l^T P_l / N`` (T, depth, D, D): each layer's kernel in input space."""
        n = self.input_maps.shape[2]
        return np.einsum("tlnd,tlne->tlde", self.input_maps, self.input_maps) / n


def train_deep_linear(times, *, richness: float = 1.0, depth: int = 2, input_dim: int = 8, n_hidden: int = 1000,
                      max_step: float = 0.05, rng=None) -> DeepLinearRun:
    """Gradient flow of the centred deep linear network on ``y = e_1 . x`` to each checkpoint in ``times``.

    Examples
    --------
    >>> run = train_deep_linear([0.0, 3.0], richness=1.0, depth=2, n_hidden=400, rng=0)
    >>> round(float(run.learned[-1]), 2)
    1.0
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or times[0] < 0:
        raise DataError(f"train_deep_linear: expected non-decreasing times >= 0, found {times!r}")
    if not richness > 0 or int(depth) < 1 or int(n_hidden) < 2 or int(input_dim) < 1:
        raise DataError(f"train_deep_linear: expected richness > 0, depth >= 1, n_hidden >= 2, input_dim >= 1, "
                        f"found {richness!r}, {depth!r}, {n_hidden!r}, {input_dim!r}")
    depth, n, d, gamma0 = int(depth), int(n_hidden), int(input_dim), float(richness)
    rng = np.random.default_rng(rng)
    # W_1: Gaussian columns orthonormalised to norm sqrt(N) (their N -> infinity limit), so the first layer's
    # initial kernel is exactly the identity; the hidden matrices stay Gaussian (their spectrum enters the DMFT)
    first = np.linalg.qr(rng.standard_normal((n, d)))[0] * np.sqrt(n) if d <= n else rng.standard_normal((n, d))
    weights = [first] + [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(depth - 1)]

    def maps(weights):
        out = [weights[0]]
        for w in weights[1:]:
            out.append(w @ out[-1])
        return out

    readout = rng.standard_normal(n)
    # zero initial output (its wide limit): the readout orthogonal to the last layer's initial input maps. Centring
    # the loss alone (training f - f_0) leaves f_0 in the hidden dynamics (|a|^2/N and |W_1 e_1|^2/N grow at rate
    # 2 gamma0 c a.h_L/N, which includes a_0.h_L(0)/N ~ 1/sqrt(N)): a collective shift of every layer's kernel
    # growth that no recorded unit carries (at N = 1000 it explained 72% of the network-to-network spread of the
    # gamma0 best fitting the population's kernels)
    last = maps(weights)[-1]
    basis = np.linalg.qr(last)[0] if d < n else np.zeros((n, 0))
    readout = readout - basis @ (basis.T @ readout)
    target = np.zeros(d)
    target[0] = 1.0

    def beta(weights, readout):
        return maps(weights)[-1].T @ readout / (gamma0 * n)

    initial = beta(weights, readout)

    def flow(weights, readout):
        forward = maps(weights)
        backward = [readout]
        for w in weights[:0:-1]:
            backward.insert(0, w.T @ backward[0])
        residual = target - (forward[-1].T @ readout / (gamma0 * n) - initial)
        hidden = [p @ residual for p in forward]
        # the scaled matrices W_l / sqrt(N) move by (gamma0 / N) g_l (P_{l-1} r)^T
        d_weights = [gamma0 * np.outer(backward[0], residual)]
        d_weights += [(gamma0 / n) * np.outer(backward[l], hidden[l - 1]) for l in range(1, depth)]
        return d_weights, gamma0 * hidden[-1]

    learned = np.empty(times.size)
    input_maps = np.empty((times.size, depth, n, d))
    now = 0.0
    with single_threaded_blas():
        for index, stop in enumerate(times):
            n_steps = int(np.ceil((stop - now) / max_step)) if stop > now else 0
            for _ in range(n_steps):
                h = (stop - now) / n_steps
                k1 = flow(weights, readout)
                k2 = flow(_step(weights, k1[0], 0.5 * h), readout + 0.5 * h * k1[1])
                k3 = flow(_step(weights, k2[0], 0.5 * h), readout + 0.5 * h * k2[1])
                k4 = flow(_step(weights, k3[0], h), readout + h * k3[1])
                for layer, w in enumerate(weights):
                    w += (h / 6.0) * (k1[0][layer] + 2.0 * k2[0][layer] + 2.0 * k3[0][layer] + k4[0][layer])
                readout = readout + (h / 6.0) * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1])
            now = max(now, stop)
            learned[index] = (beta(weights, readout) - initial)[0]
            input_maps[index] = np.stack(maps(weights))
    return DeepLinearRun(times=times, learned=learned, input_maps=input_maps, richness=gamma0, initial_output=initial)


def simulate_deep_linear_sessions(
    richness: float = 1.0,
    *,
    depth: int = 2,
    areas=None,
    n_sessions: int = 10,
    session_interval: float = 0.12,
    n_conditions: int = 16,
    n_neurons: int = 100,
    n_trials: int = 20,
    noise_sd: float = 1.0,
    input_dim: int = 8,
    n_hidden: int = 1000,
    decision_noise: float = 0.4,
    rng=None,
):
    """Recordings of every hidden layer (one area each) at ``n_sessions`` training checkpoints.

    Session ``s`` is recorded at training time ``s * session_interval`` (``fit(..., fixed={"onset": 0.0,
    "time_scale": session_interval})``).

    Parameters
    ----------
    richness : float
        ``gamma0``.
    depth : int
        Hidden layers (areas).
    areas : sequence of str, optional
        Area name of each layer (default :data:`DEFAULT_AREAS`).
    n_conditions, n_neurons, n_trials, noise_sd, input_dim, n_hidden
        Sizes (``n_neurons`` recorded units per layer, the same units every session; ``n_conditions`` a multiple
        of 4, ``>= input_dim + 1``).
    decision_noise : float
        ``sigma`` of the behaviour link ``P(correct) = Phi(label f / sigma)``.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    tree : xarray.DataTree
        One child per session, ``responses`` (trial, neuron) with neuron coord ``location`` (the area); neuron
        ids unique across areas.
    truth : SimulatedLearning
        ``parameters`` the true ``"deep-linear"`` parameters (``d_eff = input_dim``); ``training_time``;
        ``behavior``; ``extra``: ``task_alignment`` and ``kernel_change`` per (layer, session) of the noiseless
        population (all units), ``areas`` (name -> layer), ``run``.
    """
    areas = tuple(DEFAULT_AREAS[:int(depth)] if areas is None else areas)
    if len(areas) != int(depth) or len(set(areas)) != len(areas):
        raise DataError(f"deep linear simulation: expected {depth} distinct area names, found {areas!r}")
    if not 1 <= n_neurons <= n_hidden:
        raise DataError(f"deep linear simulation: expected 1 <= n_neurons <= n_hidden={n_hidden}, found {n_neurons}")
    if n_sessions < 2 or not decision_noise > 0:
        raise DataError(f"deep linear simulation: expected n_sessions >= 2 and decision_noise > 0, found "
                        f"{n_sessions}, {decision_noise!r}")
    rng = np.random.default_rng(rng)
    inputs = transfer_probe_set(n_conditions, input_dim, rng)
    model_time = session_interval * np.arange(n_sessions)
    run = train_deep_linear(model_time, richness=richness, depth=depth, input_dim=input_dim, n_hidden=n_hidden,
                            rng=rng)
    units = np.sort(rng.choice(n_hidden, size=n_neurons, replace=False))
    labels = inputs[:, 0]
    # the output on a condition is learned * label (plus O(1/sqrt N) off the task): label f = learned
    p_correct = np.broadcast_to(norm.cdf(run.learned / decision_noise), (labels.size, n_sessions))  # (P, S)
    ids = np.concatenate([layer * n_hidden + units for layer in range(depth)])
    location = np.repeat(np.array(areas), n_neurons)
    recordings = []
    for s in range(n_sessions):
        responses = np.concatenate([inputs @ run.input_maps[s, layer][units].T for layer in range(depth)], axis=1)
        recording = make_recording(responses, n_trials=n_trials, noise_sd=noise_sd, target=labels,
                                   behavior=p_correct[:, s], neuron_ids=ids, session_id=f"session-{s:02d}",
                                   session_start_time=f"2026-01-{s + 1:02d}T09:00:00", rng=rng)
        recordings.append(recording.assign_coords(location=("neuron", location)))
    tree = make_session_tree(recordings)
    kernels = run.layer_kernels()  # (S, depth, D, D)
    alignment = np.array([[_alignment(kernels[s, layer]) for s in range(n_sessions)] for layer in range(depth)])
    change = np.array([[np.linalg.norm(kernels[s, layer] - kernels[0, layer]) / np.linalg.norm(kernels[0, layer])
                        for s in range(n_sessions)] for layer in range(depth)])
    truth = SimulatedLearning(
        model="deep-linear",
        parameters={"gamma0": float(richness), "d_eff": float(input_dim), "decision_noise": float(decision_noise)},
        training_time=model_time,
        behavior=p_correct.mean(axis=0),
        task_alignment=alignment[0],
        kernel_change=change[0],
        condition_kernels=np.einsum("pd,sde,qe->spq", inputs, kernels[:, 0], inputs),
        probe_inputs=inputs,
        labels=labels,
        extra={"task_alignment": alignment, "kernel_change": change, "areas": {a: i + 1 for i, a in enumerate(areas)},
               "run": run},
    )
    return tree, truth


def _step(weights, rates, h):
    return [w + h * r for w, r in zip(weights, rates)]


def _alignment(kernel):
    """Double-centred alignment of ``X M X^T`` with the label ``X e_1`` (whitened, centred probe set)."""
    return float(kernel[0, 0] / np.linalg.norm(kernel))
