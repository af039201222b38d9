"""Realistic spiking sessions with known *population* truth: log-normal rates, Poisson counts.

The model (one latent stimulus space, a population of cells drawn from one distribution):

* neuron i: log-baseline m_i ~ N(mean_log_rate, sd_log_rate²) and tuning u_i ~ N(0, I/d), d = ``latent_dim``;
* condition μ (a stimulus) of class k(μ) = μ mod C: latent z_μ = c_k(s) + ε_μ, with class means
  c_k(s) = separation_s · (k − (C − 1)/2) · e_1 along the first latent axis (adjacent classes ``separation_s``
  apart; ``separation_s`` grows linearly across sessions) and condition jitter ε_μ ~ N(0, jitter² I), drawn
  once and shared by all sessions (the same stimuli are shown every session);
* rate r_i(μ) = exp(m_i + gain · u_i·z_μ) spikes/s; a trial's count ~ Poisson(r_i(μ) · duration); the recorded
  response is count / duration (spikes/s);
* behaviour: each trial is correct with probability p_s = 1/C + (1 − 1/C)(2Φ(separation_s / (2 jitter)) − 1),
  the accuracy of an ideal observer of z along e_1 (Φ the normal cdf; for two classes p_s = Φ(sep/(2 jitter))).

Its population truth (infinitely many neurons from the same distribution, noiseless condition means) has a
closed form, computed in :mod:`neurolearn.simulate.spiking_truth` and re-exported here
(:func:`population_kernel` and the ``*_truth`` functions, importable for tests elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import erf, sqrt

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, RESPONSES, SESSION, TRIAL
from neurolearn.errors import DataError
from neurolearn.simulate.recording import _recording_attrs, _session_start, make_session_tree
from neurolearn.simulate.spiking_truth import (
    _kernel_statistics,
    distribution_participation_ratio,
    kernel_change_truth,
    kernel_similarity_truth,
    participation_ratio_truth,
    population_kernel,
    population_statistics,
    task_alignment_truth,
    task_labels,
)

__all__ = [
    "spiking_sessions",
    "SpikingTruth",
    "population_kernel",
    "task_alignment_truth",
    "kernel_similarity_truth",
    "kernel_change_truth",
    "participation_ratio_truth",
    "distribution_participation_ratio",
    "task_labels",
]

SUBJECT_ID = "sim-spiking"


@dataclass(frozen=True, eq=False)
class SpikingTruth:
    """Ground truth of :func:`spiking_sessions`.

    Attributes
    ----------
    rates : dict of str -> xarray.DataArray
        Session id -> true rates (spikes/s) of the recorded neurons, dims ``(condition, neuron)`` (the
        finite-population truth: what infinitely many trials of these neurons would average to).
    statistics : xarray.Dataset
        Population truth over ``session`` (and ``session_other``): ``task_alignment``, ``kernel_similarity``,
        ``kernel_change``, ``kernel_scale``, ``participation_ratio`` (shown conditions),
        ``participation_ratio_distribution`` (stimulus distribution), ``behavior``, ``separation`` and, when tracked,
        ``code_overlap``.
    latents : xarray.DataArray
        z of every condition, dims ``(session, condition, latent)``.
    target : numpy.ndarray
        The ``target`` label of each condition.
    p_correct : dict of str -> float
        Session id -> probability of a correct trial.
    duration : float
        Counting window (s); responses are counts / duration.
    """

    rates: dict
    statistics: xr.Dataset
    latents: xr.DataArray
    target: np.ndarray
    p_correct: dict
    duration: float
    tracked: bool = False
    session_starts: dict = field(default_factory=dict)

    def recorded_statistics(self) -> xr.Dataset:
        """The same statistics for the *recorded* neurons (their true rates, noiseless): the finite-population
        truth. It differs from :attr:`statistics` by neuron sampling, which log-normal rates make large (a few
        high-rate cells carry most of every kernel); an estimator that removes trial noise converges to this as
        trials grow, and to :attr:`statistics` only as neurons grow too.

        Examples
        --------
        >>> tree, truth = spiking_sessions(n_sessions=2, n_neurons=20000, random_state=0)
        >>> pop, rec = truth.statistics["task_alignment"], truth.recorded_statistics()["task_alignment"]
        >>> bool(abs(pop - rec).max() < 0.1)
        True
        """
        rates = [self.rates[key].values for key in self.rates]
        kernels = [r @ r.T / r.shape[1] for r in rates]
        cross = None
        if self.tracked:  # code overlap over the cells every session recorded (the first n of the pool)
            n = min(r.shape[1] for r in rates)
            # of the condition-centred rates, as code_overlap's estimand (each cell's mean over conditions out)
            centred = [r[:, :n] - r[:, :n].mean(axis=0, keepdims=True) for r in rates]
            cross = np.array([[np.sum(a * b) / n for b in centred] for a in centred])
        return _kernel_statistics(kernels, self.target, list(self.rates), cross)

    def draw(self, session_id: str, n_trials=4, rng=None) -> xr.DataArray:
        """Fresh trials of the same neurons in session ``session_id`` (Poisson counts around the true rates).

        Use it for the truth of trial-level statistics by simulation (e.g. a decoder's accuracy on new trials).

        Parameters
        ----------
        session_id : str
        n_trials : int or array_like of int, shape (conditions,)
            Trials per condition.
        rng : numpy.random.Generator or int, optional

        Returns
        -------
        xarray.DataArray
            A recording in the data model, like the session's own.

        Examples
        --------
        >>> tree, truth = spiking_sessions(n_sessions=2, n_conditions=4, n_neurons=20, random_state=0)
        >>> fresh = truth.draw("day01", n_trials=10, rng=1)
        >>> fresh.sizes["trial"], fresh.sizes["neuron"]
        (40, 20)
        """
        if session_id not in self.rates:
            raise DataError(f"session_id: expected one of {sorted(self.rates)}, found {session_id!r}")
        rates = self.rates[session_id]
        counts = _trial_counts(n_trials, rates.sizes["condition"], name="n_trials")
        return _record(rates, counts, target=self.target, p_correct=self.p_correct[session_id],
                       duration=self.duration, session_id=session_id,
                       start=self.session_starts.get(session_id, _session_start(0)),
                       rng=np.random.default_rng(rng), tracked=self.tracked)


def spiking_sessions(
    n_sessions: int = 3,
    n_conditions: int = 8,
    n_trials=4,
    n_neurons=100,
    *,
    n_classes: int = 2,
    latent_dim: int = 4,
    separation=(0.0, 1.5),
    jitter: float = 0.5,
    tracked: bool = False,
    duration: float = 0.5,
    mean_log_rate: float = 1.0,
    sd_log_rate: float = 1.0,
    gain: float = 0.5,
    random_state=None,
) -> tuple[xr.DataTree, SpikingTruth]:
    """Poisson spiking sessions of log-normal-rate neurons whose population statistics are known exactly.

    Parameters
    ----------
    n_sessions, n_conditions : int
        Sessions (one child of the tree each, ids ``day00``, ``day01``, ...) and conditions (stimuli).
    n_trials : int or array_like of int
        Trials per condition: an int, one per condition (shape ``(n_conditions,)``: unequal trials) or one per
        session and condition (shape ``(n_sessions, n_conditions)``).
    n_neurons : int or sequence of int
        Recorded neurons, the same in every session or one count per session.
    n_classes : int
        Classes of the task label (``target``: ±1 for two classes, 0..C-1 otherwise); condition μ has class
        μ mod C.
    latent_dim : int
        Dimension d of the latent stimulus space.
    separation : (float, float)
        Distance between adjacent class means along the first latent axis in the first and last session
        (linear in between).
    jitter : float
        SD of the condition-specific latent jitter (per latent dimension).
    tracked : bool
        The same neurons (parameters and ids) every session (with per-session counts, session s records the
        first ``n_neurons[s]`` cells of one pool); otherwise fresh neurons with new ids in every session.
    duration : float
        Counting window (s).
    mean_log_rate, sd_log_rate : float
        Log-normal distribution of baseline rates across neurons (natural log of spikes/s).
    gain : float
        Tuning strength: rate = exp(m + gain u·z).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    tree : xarray.DataTree
        One child per session, in session order, each with a ``responses`` DataArray (spikes/s, dims
        ``(trial, neuron)``, trial coords ``stimulus``, ``target``, ``correct``, ``start_time``, ``stop_time``;
        attrs of the data model plus ``subject_id`` and ``tracked``, the declared cell identity).
    truth : SpikingTruth

    Examples
    --------
    >>> tree, truth = spiking_sessions(n_sessions=3, n_conditions=8, n_neurons=50, random_state=0)
    >>> list(tree.children), tree["day00"]["responses"].dims
    (['day00', 'day01', 'day02'], ('trial', 'neuron'))
    >>> ta = truth.statistics["task_alignment"].values
    >>> bool(ta[2] > ta[0]), truth.statistics["kernel_similarity"].dims
    (True, ('session', 'session_other'))
    """
    rng = np.random.default_rng(random_state)
    if n_sessions < 1:
        raise DataError(f"n_sessions: expected >= 1, found {n_sessions}")
    if n_classes < 2 or n_conditions < n_classes:
        raise DataError(f"n_classes: expected 2 <= n_classes <= n_conditions ({n_conditions}), found {n_classes}")
    if latent_dim < 1 or duration <= 0 or jitter < 0:
        raise DataError(f"expected latent_dim >= 1, duration > 0 and jitter >= 0, found {latent_dim}, {duration}, "
                        f"{jitter}")
    sizes = np.broadcast_to(np.asarray(n_neurons, dtype=int), (n_sessions,))
    if np.any(sizes < 1):
        raise DataError(f"n_neurons: expected >= 1 per session, found {sizes.tolist()}")
    trials = np.asarray(n_trials, dtype=int)
    trials = trials[None] if trials.ndim <= 1 else trials
    if trials.shape[0] not in (1, n_sessions):
        raise DataError(f"n_trials: expected an int, shape ({n_conditions},) or ({n_sessions}, {n_conditions}), "
                        f"found shape {np.shape(n_trials)}")
    trials = [_trial_counts(trials[min(s, trials.shape[0] - 1)], n_conditions, name="n_trials")
              for s in range(n_sessions)]

    session_ids = [f"day{s:02d}" for s in range(n_sessions)]
    seps = np.linspace(separation[0], separation[1], n_sessions) if n_sessions > 1 else np.array([separation[0]])
    classes = np.arange(n_conditions) % n_classes
    target = task_labels(classes, n_classes)
    offsets = np.zeros((n_conditions, latent_dim))
    offsets[:, 0] = classes - (n_classes - 1) / 2.0
    noise = jitter * rng.standard_normal((n_conditions, latent_dim))
    latents = seps[:, None, None] * offsets[None] + noise[None]  # (session, condition, latent)

    def neurons(n):
        return (mean_log_rate + sd_log_rate * rng.standard_normal(n),
                rng.standard_normal((n, latent_dim)) / np.sqrt(latent_dim))

    shared = neurons(int(sizes.max())) if tracked else None
    recordings, rates, p_correct, starts = [], {}, {}, {}
    first_id = 0
    for s, session_id in enumerate(session_ids):
        n = int(sizes[s])
        if tracked:
            log_base, tuning = shared[0][:n], shared[1][:n]
            ids = np.arange(n)
        else:
            log_base, tuning = neurons(n)
            ids = first_id + np.arange(n)
            first_id += n
        rate = np.exp(log_base[None, :] + gain * latents[s] @ tuning.T)
        rates[session_id] = xr.DataArray(
            rate, dims=("condition", NEURON), coords={"condition": np.arange(n_conditions), NEURON: ids},
            name="rate", attrs={"units": "spikes/s", "session_id": session_id})
        p_correct[session_id] = _ideal_accuracy(seps[s], jitter, n_classes)
        starts[session_id] = _session_start(s)
        recordings.append(_record(rates[session_id], trials[s], target=target, p_correct=p_correct[session_id],
                                  duration=duration, session_id=session_id, start=starts[session_id], rng=rng,
                                  tracked=tracked))
    tree = make_session_tree(recordings)

    statistics = population_statistics(latents, target, session_ids, mean_log_rate=mean_log_rate,
                                       sd_log_rate=sd_log_rate, gain=gain, tracked=tracked)
    class_means = [seps[s] * np.unique(offsets, axis=0) for s in range(n_sessions)]
    statistics["participation_ratio_distribution"] = (SESSION, np.array([
        distribution_participation_ratio(class_means[s], jitter, gain=gain) for s in range(n_sessions)]))
    statistics["behavior"] = (SESSION, np.array([p_correct[k] for k in session_ids]))
    statistics["separation"] = (SESSION, seps)
    statistics.attrs.update(
        participation_ratio="(tr HKH)^2 / ||HKH||_F^2 of the population kernel K over the shown conditions",
        participation_ratio_distribution=(
            "(tr C)^2 / tr C^2 of the population covariance C over the stimulus distribution (class uniform, "
            "z = class mean + N(0, jitter^2 I)); the shown conditions are a class-stratified sample of it"),
        behavior="probability of a correct trial (ideal observer of the class axis)",
        jitter=float(jitter), gain=float(gain), latent_dim=int(latent_dim), tracked=int(tracked),
        n_classes=int(n_classes), duration=float(duration),
    )
    latent_array = xr.DataArray(latents, dims=(SESSION, "condition", "latent"),
                                coords={SESSION: session_ids, "condition": np.arange(n_conditions)})
    truth = SpikingTruth(rates=rates, statistics=statistics, latents=latent_array, target=target,
                         p_correct=p_correct, duration=float(duration), tracked=bool(tracked), session_starts=starts)
    return tree, truth


def _ideal_accuracy(separation, jitter, n_classes):
    half = separation / (2 * jitter) if jitter > 0 else (np.inf if separation > 0 else 0.0)
    phi = 0.5 * (1 + erf(half / sqrt(2)))  # erf(inf) = 1
    return float(1 / n_classes + (1 - 1 / n_classes) * (2 * phi - 1))


def _trial_counts(n_trials, n_conditions, *, name):
    counts = np.asarray(n_trials, dtype=int)
    counts = np.full(n_conditions, int(counts)) if counts.ndim == 0 else counts
    if counts.shape != (n_conditions,):
        raise DataError(f"{name}: expected an int or one count per condition ({n_conditions}), found shape "
                        f"{counts.shape}")
    if np.any(counts < 1):
        raise DataError(f"{name}: expected >= 1 trial per condition, found {counts.tolist()}")
    return counts


def _record(rates, trials, *, target, p_correct, duration, session_id, start, rng, tracked):
    """Poisson trials (shuffled condition order) around ``rates`` (condition, neuron) -> a recording."""
    condition = rng.permutation(np.repeat(np.arange(rates.sizes["condition"]), trials))
    counts = rng.poisson(rates.values[condition] * duration)
    correct = (rng.random(condition.size) < p_correct).astype(int)
    begin = np.arange(condition.size) * 2.0 * duration  # counting window, then an inter-trial interval as long
    attrs = _recording_attrs(session_id, start, units="spikes/s", window=(0.0, float(duration)), bin_size="none")
    attrs["subject_id"] = SUBJECT_ID
    attrs["tracked"] = bool(tracked)  # declared cell identity across sessions, as the NWB readers set it
    return xr.DataArray(
        counts / duration,
        dims=(TRIAL, NEURON),
        coords={"stimulus": (TRIAL, condition), "target": (TRIAL, np.asarray(target)[condition]),
                "correct": (TRIAL, correct), "start_time": (TRIAL, begin), "stop_time": (TRIAL, begin + duration),
                NEURON: rates.coords[NEURON].values},
        name=RESPONSES,
        attrs=attrs,
    )
