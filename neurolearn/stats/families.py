"""The statistics families of :func:`neurolearn.summarize`, registered the same way in one table.

A family yields the registry's statistics of its kind (:data:`neurolearn.statistic_registry.STATISTICS`,
``entry.family``) in three stages:

``prepare(recordings, params, map_sessions) -> context``
    In the caller: what sessions share, from coords and shapes (the kernel family's bootstrap weights, the
    readout's common neuron count, folds and seed, the generalisation's held-out masks and random stream).
    ``None`` skips the family (switched off, or its column absent); :class:`Skip` skips it with a note. A
    cross-session piece that needs the responses (the readout's response scale) maps a cheap reduction through
    ``map_sessions`` like any other stage.
``session(key, recording, context) -> part``
    One session, pure and picklable: what :func:`neurolearn.summarize` runs on its dask scheduler (threads,
    processes or the workers of a ``dask.distributed`` cluster), for every family in one graph. Reasons a
    statistic is NaN are returned, never warned, so they reach the caller from any process.
``combine(parts, context, map_sessions) -> xarray.Dataset``
    In the caller, over ``session``: cross-session statistics (the kernel family's pairwise terms, the
    readout's ``flip_fraction``, whose per-session work goes through ``map_sessions`` again) and one warning
    per (statistic, session) left NaN.

The stages run on one dask scheduler through :class:`neurolearn.stats.runner.Runner` (out of core: a lazy
session reaches every family but dynamics as its in-memory time average, see that module).

``on_failure`` says what a :class:`~neurolearn.errors.DataError` of the family means: ``"raise"`` (behaviour,
kernel: the user's to fix) or ``"nan"`` (the others: the family is NaN for every session with the reason,
the summary goes on).

Which families run (:meth:`Family.wanted`): behaviour and kernel always (they set the sessions' table); the
others by default, or where ``summarize(statistics=...)`` names one of their statistics; the capacity family
(:mod:`neurolearn.stats.capacity_family`, ``on_request``: a linear program per dichotomy, seconds per session)
only where it is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from neurolearn.data import TIME, TRIAL, flag_name
from neurolearn.errors import DataError, shown
from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.behavior import behavior_estimate, coding_column, outcome_values
from neurolearn.stats.capacity_family import capacity_session, combine_capacity, prepare_capacity
from neurolearn.stats.dynamics_family import combine_dynamics, dynamics_session, prepare_dynamics
from neurolearn.stats.generalization import (
    combine_generalization,
    generalization_session,
    heldout_mask,
    prepare_generalization,
)
from neurolearn.stats.kernel_summary import (
    NONE_SHARED,
    NOT_TRACKED,
    PAIRWISE,
    SINGLE,
    KernelOptions,
    bootstrap_weights,
    CONDITIONS,
    pairwise_part,
    session_part,
)
from neurolearn.stats.readout.summary import combine_readout, prepare_readout, readout_session
from neurolearn.stats.runner import Runner, first_failure_raised, resolve_scheduler, time_average
from neurolearn.stats.shared_noise import flag_shared_trial_noise
from neurolearn.stats.statistics_table import StatisticsTable, session_start_times, warn_reasons

__all__ = ["Family", "FAMILIES", "ALWAYS", "SummaryParams", "Skip", "family_of", "Runner", "resolve_scheduler",
           "first_failure_raised", "time_average"]

#: code_overlap's reasons that mean it does not exist for these sessions (omitted, not NaN)
OMITTED = (NOT_TRACKED, NONE_SHARED)


@dataclass(frozen=True)
class SummaryParams:
    """Every option of one :func:`neurolearn.summarize` call, checked and resolved (``label``: the coord of
    the task label after a declared coding; ``input``: the dynamics input coord or None)."""

    label: str | None
    by: str
    behavior: object
    n_boot: int
    random_state: object
    level: float
    unbiased: bool
    left: bool
    right: bool
    ridge: float
    n_modes: int
    spectral_max_boot: int
    tracked: bool
    readout: bool
    n_permutations: int
    heldout: object
    heldout_column: str | None
    generalization: str
    generalization_target: str | None
    dynamics: bool
    input: str | None
    indicator_tau: float | None
    #: session id -> why its task label cannot be used (no label column that day, or a label that is not one
    #: value per condition): its label coord is not in its recording, and every statistic that needs the label
    #: is NaN there with this reason (:mod:`neurolearn.stats.summary_sessions`)
    label_problems: Mapping = field(default_factory=dict)
    #: the statistics ``summarize(statistics=...)`` names (registry names), or None: the default families
    statistics: tuple | None = None
    #: at most this many bootstrap replicates of manifold_capacity (the capacity family)
    capacity_max_boot: int = 16


@dataclass(frozen=True)
class Skip:
    """``prepare``'s answer for a family that does not apply, with the note for the summary's attrs."""

    note: str


@dataclass(frozen=True)
class Family:
    """One family of statistics: its registry families and its three stages (see the module docstring)."""

    name: str
    registry_families: tuple
    prepare: Callable
    session: Callable
    combine: Callable
    on_failure: str = "nan"
    #: attrs prefixed ``<name>_`` and the bootstrap dim renamed ``bootstrap_<name>`` when merged
    #: (replicates not shared with the kernel family's neuron weights)
    prefixed: bool = True
    #: the session stage needs the time bins: a lazy session reaches it lazy (it reduces it chunk-wise itself),
    #: not as its in-memory time average
    reads_time: bool = False
    #: computed only where ``summarize(statistics=...)`` names one of its statistics (too costly by default)
    on_request: bool = False

    @property
    def statistics(self) -> tuple:
        """The registry's statistics this family yields."""
        return tuple(name for name, entry in STATISTICS.items() if entry.family in self.registry_families)

    def wanted(self, statistics) -> bool:
        """Whether summarize runs this family for ``statistics`` (its ``statistics=``: names, or None).

        Examples
        --------
        >>> family_of("manifold_radius").wanted(None), family_of("manifold_radius").wanted(["manifold_radius"])
        (False, True)
        >>> family_of("margin").wanted(["manifold_radius"]), family_of("task_alignment").wanted(["margin"])
        (False, True)
        """
        if self.name in ALWAYS:
            return True
        if statistics is None:
            return not self.on_request
        return bool(set(statistics) & set(self.statistics))


# ------------------------------------------------------------------------------------------------ behaviour

@dataclass(frozen=True)
class BehaviorContext:
    keys: tuple
    behavior: object
    level: float
    by: str
    start_times: tuple
    #: a declared mapping whose keys some session's outcomes hold: a session holding none of them (every trial
    #: "no response") is a day without coded outcomes, NaN with its reason, not a typo in the declaration
    coded_elsewhere: bool = False
    #: summarize's ``heldout=`` where some session has the column: behaviour is then the training stimuli's
    #: (trials the column does not mark); held-out trials go to heldout_behavior / generalization_error only
    heldout: object = None


#: summarize's default outcome column: where no session has it, behaviour is NaN with its reason
DEFAULT_BEHAVIOR = "correct"


def _prepare_behavior(recordings, params, map_sessions):
    if params.behavior is None:
        return None
    column = coding_column(params.behavior)
    if params.behavior != DEFAULT_BEHAVIOR and not any(_has_trial_coord(rec, column) for rec in recordings.values()):
        # a column the user named that no session has is a mistake (a typo), not a day without behaviour
        key, rec = next(iter(recordings.items()))
        outcome_values(rec, params.behavior, session_id=str(key))
    declared = params.heldout_column is not None and any(_has_trial_coord(rec, params.heldout_column)
                                                          for rec in recordings.values())
    return BehaviorContext(tuple(recordings), params.behavior, params.level, params.by,
                           tuple(session_start_times(recordings)),
                           coded_elsewhere=_coded_somewhere(recordings, params.behavior, column),
                           heldout=params.heldout if declared else None)


def _coded_somewhere(recordings, behavior, column) -> bool:
    if not isinstance(behavior, Mapping):
        return False
    for key, rec in recordings.items():
        if not _has_trial_coord(rec, column):
            continue
        try:
            outcome_values(rec, behavior, session_id=str(key))
        except DataError:
            continue
        return True
    return False


def _has_trial_coord(recording, column) -> bool:
    return column in recording.coords and recording.coords[column].dims == (TRIAL,)


def _behavior_session(key, recording, context):
    column = coding_column(context.behavior)
    if not _has_trial_coord(recording, column):
        # a session without the outcome column (a passive day, a task without feedback) has no behaviour;
        # the other statistics need none, so this one is NaN with its reason rather than the run aborted
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        return None, (f"no trial coord {column!r} (behavior={shown(context.behavior)}; pass behavior= naming the "
                      f"outcome column, or None); trial coords: {available}")
    if context.heldout is not None and _has_trial_coord(recording, _heldout_column(context.heldout)):
        # the trained stimuli's performance (what the grokking model's behaviour is); a held-out column that is
        # miscoded is the user's to fix, as the generalisation family says
        trained = ~heldout_mask(recording, context.heldout)
        if not trained.any():
            return None, (f"every trial is held out (heldout={shown(context.heldout)}): behavior is the training "
                          "stimuli's fraction correct; the held-out trials' is heldout_behavior")
        recording = recording.isel({TRIAL: np.nonzero(trained)[0]})
    try:
        return behavior_estimate(recording, context.behavior, context.level, by=context.by), ""
    except DataError as error:
        if context.coded_elsewhere and "expected the behavior mapping's keys among the values" in str(error):
            return None, (f"no trial with an outcome the mapping codes ({str(error).split('found ', 1)[-1]}); "
                          "other sessions hold them")
        if "expected" in str(error):  # an undeclared coding is the user's to declare, never guessed
            raise
        return None, str(error)


def _combine_behavior(parts, context, map_sessions):
    table = StatisticsTable(list(context.keys), context.level)
    for k, (estimate, reason) in enumerate(parts):
        if reason:
            table.reason("behavior", k, reason)
        else:
            table.value("behavior", k, *estimate)
    ds = table.dataset(start_times=list(context.start_times))
    if context.heldout is not None:
        ds.attrs[BEHAVIOR_TRIALS] = (f"training-stimulus trials only (not marked by heldout={shown(context.heldout)});"
                                     " the held-out trials are in heldout_behavior")
    warn_reasons(ds, ("behavior",))
    return ds


#: attr of the summary where a held-out column is declared: which trials ``behavior`` counts
BEHAVIOR_TRIALS = "behavior_trials"


def _heldout_column(heldout) -> str:
    return next(iter(heldout)) if isinstance(heldout, Mapping) else heldout


# ------------------------------------------------------------------------------------------------ kernel

@dataclass(frozen=True)
class KernelContext:
    keys: tuple
    options: KernelOptions
    weights: dict
    level: float
    start_times: tuple
    label_problems: Mapping = field(default_factory=dict)


#: the reason the kernel statistics give without a label (target=None)
_NO_LABEL = "no task label (target=None)"


def _needs_label(name) -> bool:
    """The registry declares that ``name`` needs a task label (``needs.min_classes``)."""
    return STATISTICS[name].needs.min_classes > 0


def _prepare_kernel(recordings, params, map_sessions):
    options = KernelOptions(by=params.by, target=params.label, unbiased=params.unbiased, left=params.left,
                            right=params.right, ridge=params.ridge, n_modes=params.n_modes,
                            spectral_max_boot=params.spectral_max_boot, tracked=params.tracked)
    weights = bootstrap_weights(recordings, params.n_boot, params.random_state)
    return KernelContext(tuple(recordings), options, dict(zip(recordings, weights)), params.level,
                         tuple(session_start_times(recordings)), dict(params.label_problems))


def _kernel_session(key, recording, context):
    problem = context.label_problems.get(key)
    if problem is None:
        return session_part(key, recording, context.weights[key], context.options)
    # a session whose label cannot be used: its kernel without one (what needs none is as with target=None)
    part = session_part(key, recording, context.weights[key], replace(context.options, target=None))
    for name in SINGLE:
        # (powerlaw_exponent shares spectral_power's gate, which asks for a label)
        if name not in part.values and (_needs_label(name) or part.reasons.get(name) == _NO_LABEL):
            part.reasons[name] = problem
    return part


def _combine_kernel(parts, context, map_sessions):
    weights = [context.weights[key] for key in context.keys]
    pairwise = pairwise_part(parts, weights, context.options, map_sessions)
    conditions = pairwise.pop(CONDITIONS, None)
    ids = list(context.keys)
    _label_problems_of_pairs(pairwise, ids, context.label_problems)
    table = StatisticsTable(ids, context.level)
    for name in SINGLE:
        for k, part in enumerate(parts):
            if name in part.values:
                table.value_from_replicates(name, k, *part.values[name])
            else:
                table.reason(name, k, part.reasons.get(name, "not computed"))
    table.extra["task_alignment_chance"] = (("session",), np.array([part.chance for part in parts]))
    for name in PAIRWISE:
        values, replicates, reasons = pairwise[name]
        if name == "code_overlap" and np.isin(reasons[~np.eye(len(ids), dtype=bool)], OMITTED).all():
            # no tracking declared or no cell recorded twice: omitted, the attrs say why; NaN for too few cells
            # or trial noise is a value the data cannot support, kept with its flag (it was dropped, and the
            # attrs said no ids were shared)
            continue
        table.array(name, values, replicates, reasons)
    ds = table.dataset(start_times=list(context.start_times))
    if conditions is not None:
        ds.attrs[CONDITIONS] = ", ".join(str(c) for c in conditions)
    warn_reasons(ds, SINGLE + PAIRWISE)
    return flag_shared_trial_noise(ds, [part.stats for part in parts], SINGLE + PAIRWISE)


def _label_problems_of_pairs(pairwise, ids, problems):
    """target_agreement and reference_agreement NaN with the reason wherever a session whose label cannot be
    used takes part (its own row and column; every session's agreement with a reference without one)."""
    for key, problem in problems.items():
        if key not in ids:
            continue
        k = ids.index(key)
        for name in ("target_agreement", "reference_agreement"):
            values, replicates, reasons = pairwise[name]
            if name == "reference_agreement":
                rows = slice(None) if k == 0 else k
                reasons[rows] = problem if k != 0 else f"the first (reference) session's label: {problem}"
                values[rows] = np.nan
                if replicates is not None:
                    replicates[:, rows] = np.nan
                continue
            other = f"session {key!r}: {problem}"
            reasons[k, :], reasons[:, k], reasons[k, k] = problem, other, problem
            values[k, :] = values[:, k] = np.nan
            if replicates is not None:
                replicates[:, k, :] = replicates[:, :, k] = np.nan


# ------------------------------------------------------------------------------------------------ readout

@dataclass(frozen=True)
class ReadoutLabels:
    """The readout's context and the sessions whose label cannot be used (their readout NaN with the reason:
    every readout statistic needs the label, see :func:`_readout_session`)."""

    inner: object
    label_problems: Mapping

    @property
    def keys(self) -> tuple:
        return self.inner.keys


def _prepare_readout(recordings, params, map_sessions):
    if not params.readout:
        return None
    # a session whose label cannot be used reaches the readout without its label coord (prepare_sessions)
    context = prepare_readout(recordings, target=params.label, by=params.by, n_boot=params.n_boot,
                              random_state=params.random_state, level=params.level,
                              n_permutations=params.n_permutations, average_time=True, map_sessions=map_sessions)
    return ReadoutLabels(context, dict(params.label_problems))


def _readout_session(key, recording, context):
    """The readout of one session; one whose label cannot be used has every readout statistic NaN with that
    reason. Every one of them needs a label per condition: the margin, the held-out accuracy and the flips read
    each condition's class; the decoders' null permutes labels across conditions only where the label is one
    per condition (else across trials: another null, and above it would not mean what it means in the other
    sessions), and a decoder scored on a label two of a condition's trials contradict is scored on a guess."""
    part = readout_session(key, recording, context.inner)
    problem = context.label_problems.get(key)
    if problem is None:
        return part
    for name, ds in part["statistics"].items():
        ds[flag_name(name)] = ((), problem)
    part["reasons"] = [(name, problem) for name in part["statistics"]]
    part["flip_problem"] = problem
    return part


def _combine_readout(parts, context, map_sessions):
    return combine_readout(parts, context.inner, map_sessions)


# ---------------------------------------------------------------------------------------------- generalisation

def _prepare_generalization(recordings, params, map_sessions):
    column = params.heldout_column
    if column is None or not any(column in rec.coords for rec in recordings.values()):
        return None
    context = prepare_generalization(recordings, target=params.generalization_target or params.label,
                                     by=params.by, heldout=params.heldout, method=params.generalization,
                                     behavior=params.behavior, n_boot=params.n_boot,
                                     random_state=params.random_state, level=params.level)
    if params.generalization == "readout" and params.generalization_target is None and params.label_problems:
        # the readout regresses the task label's per-condition value: NaN where the label cannot be used
        problems = {key: problem for key, problem in params.label_problems.items() if key in context.keys}
        context = replace(context, reasons={**context.reasons, **problems})
    return context


# ------------------------------------------------------------------------------------------------ dynamics

def _prepare_dynamics(recordings, params, map_sessions):
    if not params.dynamics:
        return None
    timed = {key: rec for key, rec in recordings.items() if TIME in rec.dims}
    if not timed:
        return Skip("skipped: no recording has a time dim")
    # the conditions whose mean time courses are taken out of the fit are summarize's by= conditions (the
    # dynamics' own default, a 'stimulus' coord, would read a by='image' session's image drive as recurrence)
    return prepare_dynamics(timed, n_boot=params.n_boot, random_state=params.random_state, level=params.level,
                            input=params.input, indicator_tau=params.indicator_tau, conditions=params.by)


#: The families in the order summarize runs them (which is also the order they draw from ``random_state``).
FAMILIES = (
    Family("behavior", ("behavior",), _prepare_behavior, _behavior_session, _combine_behavior,
           on_failure="raise", prefixed=False),
    Family("kernel", ("kernel", "spectral"), _prepare_kernel, _kernel_session, _combine_kernel,
           on_failure="raise", prefixed=False),
    Family("readout", ("readout",), _prepare_readout, _readout_session, _combine_readout),
    Family("generalization", ("generalization",), _prepare_generalization, generalization_session,
           combine_generalization),
    Family("dynamics", ("dynamics",), _prepare_dynamics, dynamics_session, combine_dynamics, reads_time=True),
    Family("capacity", ("capacity",), prepare_capacity, capacity_session, combine_capacity, on_request=True),
)
#: the families that always run: the first sets the summary's coords (sessions, start times)
ALWAYS = ("behavior", "kernel")


def family_of(statistic: str) -> Family:
    """The family that computes ``statistic``.

    Examples
    --------
    >>> family_of("margin").name, family_of("spectral_power").name
    ('readout', 'kernel')
    """
    for family in FAMILIES:
        if statistic in family.statistics:
            return family
    raise DataError(f"no family of summarize computes {statistic!r} (families: {[f.name for f in FAMILIES]})")
