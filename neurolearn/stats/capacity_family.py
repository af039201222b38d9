"""The capacity family of :func:`neurolearn.summarize`: the manifold statistics of every session, on request.

``manifold_capacity`` (:func:`neurolearn.stats.capacity.manifold_capacity`, a linear program per random
dichotomy and neuron count: seconds per session) and ``manifold_radius`` / ``manifold_dimension``
(:func:`neurolearn.stats.capacity.mean_field_capacity`, cheap) are computed only where
``summarize(statistics=...)`` names them: the simulation capacity where ``manifold_capacity`` is named, the
mean-field geometry where the radius or the dimension is. Each session gets exactly what the per-session
functions give with the random state :func:`capacity_seeds` assigns it: the same values, standard errors,
intervals and flags, on dim ``session`` beside the other families' statistics.

A session the data cannot support (fewer than 4 conditions, too few trials in a condition, centroids not
resolved from their trial noise, too few or silent neurons) is NaN there with the reason in ``<name>_flag``
and one :class:`~neurolearn.stats.flags.StatisticWarning`; the others proceed. A ``manifold_capacity`` whose
trials do not fill their manifolds (fewer than ``FILL_RATIO`` x the clouds' dimension per condition) keeps its
value with the reason in its flag, in one warning naming the sessions: it is the capacity of that many
points, not of the full manifolds the ``capacity`` model predicts, and :func:`neurolearn.fit` leaves it out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from neurolearn.errors import InsufficientDataError
from neurolearn.stats.capacity import FILL_RATIO, manifold_capacity, mean_field_capacity
from neurolearn.stats.flags import StatisticWarning, warn_unsupported
from neurolearn.stats.statistics_table import StatisticsTable, session_start_times

__all__ = ["CAPACITY_STATISTICS", "N_DICHOTOMIES", "MAX_CAPACITY_BOOT", "CapacityContext", "capacity_seeds",
           "prepare_capacity", "capacity_session", "combine_capacity"]

#: the registry's capacity statistics (family ``"capacity"``): the simulation one, then the mean-field ones
CAPACITY_STATISTICS = ("manifold_capacity", "manifold_radius", "manifold_dimension")
_SIMULATION = ("manifold_capacity",)
_MEAN_FIELD = ("manifold_radius", "manifold_dimension")
#: random dichotomies per estimate of ``manifold_capacity`` (the per-session function's default)
N_DICHOTOMIES = 32
#: summarize's default ``capacity_max_boot``: at most this many bootstrap replicates of ``manifold_capacity``
#: (each costs as much as the estimate; the per-session function's default); the mean-field statistics take
#: summarize's ``n_boot``
MAX_CAPACITY_BOOT = 16


@dataclass(frozen=True)
class CapacityContext:
    """What the sessions share: which parts to compute, the options and each session's random seeds."""

    keys: tuple
    by: str
    simulation: bool
    mean_field: bool
    n_boot: int
    level: float
    #: bootstrap replicates of manifold_capacity: min(n_boot, capacity_max_boot)
    simulation_boot: int
    #: session id -> (seed of manifold_capacity, seed of mean_field_capacity)
    seeds: dict
    start_times: tuple

    @property
    def names(self) -> tuple:
        """The statistics computed, in registry order."""
        return (_SIMULATION if self.simulation else ()) + (_MEAN_FIELD if self.mean_field else ())


def capacity_seeds(random_state, n_sessions: int) -> np.ndarray:
    """Seeds of the capacity family, ``(n_sessions, 2)``: session ``k``'s ``manifold_capacity`` gets
    ``random_state=seeds[k, 0]``, its ``mean_field_capacity`` ``seeds[k, 1]`` (drawn from ``random_state``,
    as summarize's other families draw theirs, after them).

    Examples
    --------
    >>> capacity_seeds(0, 3).shape, bool((capacity_seeds(0, 3) == capacity_seeds(0, 3)).all())
    ((3, 2), True)
    """
    return np.random.default_rng(random_state).integers(2**63 - 1, size=(n_sessions, 2))


def prepare_capacity(recordings, params, map_sessions=None):
    """The family's context, or None where no capacity statistic is named in ``params.statistics``."""
    named = set(getattr(params, "statistics", None) or ())
    simulation, mean_field = bool(named & set(_SIMULATION)), bool(named & set(_MEAN_FIELD))
    if not (simulation or mean_field):
        return None
    keys = tuple(recordings)
    seeds = capacity_seeds(params.random_state, len(keys))
    simulation_boot = min(int(params.n_boot), int(getattr(params, "capacity_max_boot", MAX_CAPACITY_BOOT)))
    return CapacityContext(keys, params.by, simulation, mean_field, int(params.n_boot), params.level, simulation_boot,
                           {key: (int(a), int(b)) for key, (a, b) in zip(keys, seeds)},
                           tuple(session_start_times(recordings)))


def capacity_session(key, recording, context):
    """One session: ``{"simulation": Dataset or None, "mean_field": Dataset or None, "reasons": {name: why}}``.

    A shape the data cannot support is a reason, never an exception (returned, not warned: it reaches the
    caller from any process).
    """
    simulation_seed, mean_field_seed = context.seeds[key]
    part = {"simulation": None, "mean_field": None, "reasons": {}}
    if context.simulation:
        try:
            part["simulation"] = manifold_capacity(
                recording, context.by, n_dichotomies=N_DICHOTOMIES, n_boot=context.simulation_boot,
                level=context.level, random_state=simulation_seed)
        except InsufficientDataError as error:
            part["reasons"].update(dict.fromkeys(_SIMULATION, str(error)))
    if context.mean_field:
        try:
            part["mean_field"] = mean_field_capacity(recording, context.by, n_boot=context.n_boot,
                                                     level=context.level, random_state=mean_field_seed)
        except InsufficientDataError as error:
            part["reasons"].update(dict.fromkeys(_MEAN_FIELD, str(error)))
    return part


def combine_capacity(parts, context, map_sessions=None):
    """The sessions' parts as one Dataset over ``session``: one warning per (statistic, session) left NaN, and
    one per statistic naming the sessions whose value is kept with a flag."""
    ids = list(context.keys)
    table = StatisticsTable(ids, context.level)
    chance = np.full(len(ids), np.nan)
    kept = {}  # statistic -> [(session, flag)] of values kept with a flag
    for k, part in enumerate(parts):
        for name in context.names:
            source = part["simulation"] if name in _SIMULATION else part["mean_field"]
            if source is None:
                reason = part["reasons"][name]
                table.reason(name, k, reason)
                warn_unsupported(name, ids[k], reason, stacklevel=3)
                continue
            value = float(source[name])
            table.value(name, k, value, float(source[f"{name}_se"]), np.asarray(source[f"{name}_ci"].values, float))
            flag = str(source[f"{name}_flag"].values)
            if flag:
                table.reason(name, k, flag)
                if np.isfinite(value):
                    kept.setdefault(name, []).append((ids[k], flag))
                else:
                    warn_unsupported(name, ids[k], flag, stacklevel=3)
        if part["simulation"] is not None:
            chance[k] = float(part["simulation"]["manifold_capacity_chance"])
    if context.simulation:
        table.extra["manifold_capacity_chance"] = (("session",), chance)
    for name, sessions in kept.items():
        warnings.warn(StatisticWarning(
            f"{name} of sessions {[s for s, _ in sessions]} is kept with a flag: {sessions[0][1]}"
            + (f" (and {len(sessions) - 1} more alike)" if len(sessions) > 1 else "")), stacklevel=3)
    ds = table.dataset(start_times=list(context.start_times))
    ds.attrs.update(
        statistics=", ".join(context.names), level=context.level,
        estimator=("manifold_capacity: simulation capacity P/N_c, exact LP separability of "
                   f"{N_DICHOTOMIES} random dichotomies (neurolearn.stats.capacity.manifold_capacity); "
                   if context.simulation else "")
        + ("manifold_radius, manifold_dimension: elliptical mean-field geometry of the trial clouds "
           "(neurolearn.stats.capacity.mean_field_capacity)" if context.mean_field else ""),
        interval=(f"manifold_capacity: value +- z SD of {context.simulation_boot} bootstrap replicates of trials "
                  "within conditions; " if context.simulation else "")
        + ("manifold_radius: stratified delete-one-trial jackknife within conditions, on log R (the re-centred "
           f"percentiles of {context.n_boot} trial bootstrap replicates, flagged, where deleting a trial leaves a "
           "centroid unresolved); manifold_dimension: stratified delete-one-trial jackknife within conditions, on log D"
           if context.mean_field else ""),
        fill_ratio=FILL_RATIO, seeds="neurolearn.stats.capacity_family.capacity_seeds(random_state, n_sessions)")
    return ds
