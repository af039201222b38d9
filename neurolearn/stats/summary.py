"""``summarize``: every summary statistic of learning for every session, with uncertainty, in one Dataset.

The statistics come from the registry (:data:`neurolearn.statistic_registry.STATISTICS`), computed by the
families of :data:`neurolearn.stats.families.FAMILIES` (behaviour, kernel, readout, generalisation, dynamics;
capacity when ``statistics=`` names one of its statistics),
each registered the same way: a cheap ``prepare`` here, a pure per-session stage, and a ``combine`` here.
summarize validates the options, prepares the sessions, runs every family's per-session stage on one dask
scheduler (threads, processes, or the workers of a ``dask.distributed`` cluster), combines and merges the
families and applies the registry's range guard. Lazy (dask-backed) sessions travel to the workers as graphs:
their responses are computed where the per-session tasks run, once per session for all families.

Degrade, don't abort: a statistic the data cannot support for one session (too few conditions, trials or
neurons; one class; no task label; a denominator not resolved from noise) is NaN there, with the reason in
``<name>_flag`` and one :class:`~neurolearn.stats.flags.StatisticWarning`; everything else proceeds. A value
outside its estimand's range by more than three standard errors is treated the same way (3, not 2: where the
truth sits on the boundary, e.g. an unchanged code's overlap of 1, 2.3 % of honest estimates lie beyond 2 SE),
and one outside it where there is no standard error to judge it by (``n_boot=0``) keeps its number with that
said in its flag and one warning. The run stops only
when nothing at all can be computed. Which sessions are used, and a session summarised without its task label
(none recorded that day, or one that is not one value per condition), is :mod:`neurolearn.stats.summary_sessions`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import numpy as np
import xarray as xr

from neurolearn.data import (
    CI_BOUND,
    SESSION,
    TIME,
    TRIAL,
    ci_name,
    flag_name,
    in_canonical_order,
    se_name,
)
from neurolearn.errors import DataError, shown
from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.alignment import VARIANTS
from neurolearn.stats.behavior import behavior_estimate, refuse_shared_column
from neurolearn.stats.families import (
    FAMILIES,
    Runner,
    Skip,
    SummaryParams,
    first_failure_raised,
    resolve_scheduler,
)
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.readout.decoding import DEFAULT_PERMUTATIONS
from neurolearn.stats.response_scale import flag_other_scales
from neurolearn.stats.selection import NAN_POLICIES
from neurolearn.stats.similarity import as_recording_dict
from neurolearn.stats.summary_sessions import prepare_sessions
from neurolearn.stats.flags import only_requested_warnings
from neurolearn.stats.statistics_table import BOOTSTRAP, enforce_ranges, refuse_if_empty
from neurolearn.stats.spectral import N_MODES

__all__ = ["summarize", "behavior_estimate"]



def summarize(
    tree,
    target="target",
    by: str = "stimulus",
    behavior="correct",
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    *,
    variant: str = "double",
    estimator: str = "unbiased",
    ridge: float = 0.1,
    n_modes: int = N_MODES,
    spectral_max_boot: int = 200,
    readout: bool = True,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    dynamics: bool = True,
    input: str | None = "auto",
    indicator_tau: float | None = None,
    heldout="heldout",
    generalization: str = "readout",
    generalization_target: str | None = None,
    where: str | None = None,
    min_trials: int | None = None,
    nan_policy: str = "omit",
    progress: bool = False,
    scheduler="threads",
    statistics=None,
    capacity_max_boot: int = 16,
) -> xr.Dataset:
    """Summary statistics of learning for every session -> Dataset over ``session`` (+ ``session_other``).

    Parameters
    ----------
    tree : xarray.DataTree, mapping/sequence of DataArray, or one DataArray
        Sessions of one subject in training order (as :func:`neurolearn.read_sessions` returns). Sessions of
        several subjects are refused (split them with :func:`neurolearn.data.split_subjects`).
    target : str, mapping or None
        Trial coord with the task label (constant within a condition), or ``{column: {value: label}}``
        declaring a coding (trials with values outside it are excluded, counted). None: no task label; every
        statistic that needs none is still computed (an integration task).
    by : str
        Trial coord defining conditions (stimuli); kernels are condition x condition.
    behavior : str, mapping or None
        A 0/1 (or bool) trial coord, or ``{column: {value: 1 or 0}}`` declaring the outcome coding (values
        outside it, e.g. "no response", are excluded from behaviour and counted). None skips behaviour. A
        session without the column has NaN behaviour with its reason (a passive day); a column named here that
        no session has is refused (the default ``"correct"`` missing everywhere is NaN, as with None).
    n_boot : int
        Bootstrap replicates (neurons resampled by id, linearised; spectral statistics use at most
        ``spectral_max_boot`` replicates). 0 -> NaN standard errors and intervals (a value outside its
        estimand's range is then flagged as not judged); 1 and 2 are refused.
    random_state : int or numpy.random.Generator, optional
    level : float
        Interval coverage, in (0, 1).
    variant, estimator : str
        Task-alignment centring (``"double"``, ``"uncentred"``, ``"column"``) and bias handling
        (``"unbiased"`` or ``"plugin"``) used for every kernel statistic.
    ridge : float
        λ of ``task_difficulty``.
    n_modes : int
        k of ``spectral_power`` = C(k).
    readout, dynamics : bool
        Include the readout statistics (on time-averaged responses, like the kernel statistics) / the
        dynamics statistics (only sessions with a ``time`` dim).
    n_permutations : int
        Label permutations of the readout statistics' null at the actual shape (their ``_chance``,
        ``_pvalue`` and "at or below chance" flag). Each one refits every cross-validated decoder, so it
        dominates the readout cost; 0 skips the null (chance is then the majority-class rate, no flag).
    input : str or None
        A ``(trial, time)`` coord holding the input each trial received, regressed out of the dynamics fit;
        ``"auto"`` uses a coord called ``input`` where every time-resolved session has one.
    indicator_tau : float, optional
        Decay time (s) of a calcium indicator, deconvolved (AR(1)) before the dynamics fit; 0 states that the
        activity has no indicator. Without it, the timescale of a dF/F or fluorescence session is flagged as
        including the indicator's decay.
    heldout : str, mapping or None
        The trial column marking trials of stimuli never used in training (bool, True = held out; or
        ``{column: held-out value}``, e.g. ``{"is_train": False}``). Where present, ``generalization_error`` and
        ``heldout_behavior`` are computed (:func:`neurolearn.stats.generalization.generalization_summary`).
    generalization : {"readout", "behavior"}
        Which generalisation error: of a linear readout of the representation trained on the training
        stimuli (what ``kernel-learning-curve`` predicts), or 1 - fraction correct on held-out trials (what
        ``grokking`` predicts).
    generalization_target : str, optional
        The continuous quantity the readout regresses (default: the task label).
    where : str, optional
        pandas-query expression on trial coords selecting the trials to use (e.g. ``"contrast > 0"``).
    min_trials : int, optional
        Drop, per session, conditions with fewer trials (named in a warning). Without it, conditions with one
        trial are still left out of the kernel statistics, which need two for the noise correction.
    nan_policy : {"omit", "raise"}
        Trials whose label or condition is missing: excluded with a count, or refused.
    progress : bool
        Report progress on stderr: a line naming the statistics' families, and dask's progress bar of the
        per-session stages on local schedulers where stderr is a terminal (in a log or a pipe its redraws
        would be hundreds of lines).
    scheduler : str, distributed.Client or callable
        Where every family's per-session stage runs: ``"threads"``, ``"synchronous"``, ``"processes"``, a
        ``dask.distributed`` Client (its workers), ``"distributed"`` (the active client) or a scheduler's
        ``get``. The result does not depend on it (replicates are seeded per family, not per worker).
    statistics : str or sequence of str, optional
        The statistics to compute, by registry name (:data:`neurolearn.statistic_registry.STATISTICS`).
        Default: every family's but capacity's. Given: behaviour and the kernel statistics (always: they set
        the sessions' table; those not named keep their values and ``<name>_flag`` but do not warn) and the
        families of the named statistics, so the readout, generalisation and dynamics run only where one of
        theirs is named (and their own switches allow). The capacity family
        (``manifold_capacity``, ``manifold_radius``, ``manifold_dimension``) runs only when named: its
        simulation capacity solves a linear program per random dichotomy and neuron count (seconds per
        session, with at most 16 bootstrap replicates); the radius and dimension are cheap and computed
        together (:mod:`neurolearn.stats.capacity_family`). Its values are the per-session functions'
        (:func:`neurolearn.stats.manifold_capacity`, :func:`neurolearn.stats.mean_field_capacity`), fittable by
        ``neurolearn.fit(stats, model="capacity")``.
    capacity_max_boot : int
        At most this many bootstrap replicates of ``manifold_capacity`` (each costs as much as the estimate;
        the radius takes ``n_boot``).

    Returns
    -------
    xarray.Dataset
        For every statistic ``name``: ``name``, ``name_se``, ``name_ci`` (dim ``ci_bound``), ``name_flag``
        (why a value is NaN, ``""`` where supported) and, with ``n_boot``, ``name_boot`` (dim ``bootstrap``,
        attr ``resampling``: ``"neurons-shared"`` when replicate b re-weights the same neurons in every
        session and statistic). Coords ``session`` (ids), ``session_index``, ``session_start_time``,
        ``session_other`` (pairwise statistics). Attrs record every estimator choice.

    Raises
    ------
    DataError
        Bad options, missing coords, sessions of several subjects, ``scheduler="distributed"`` without an
        active client, or no statistic computable at all.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording, make_session_tree
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([1.0, -1.0], 6)
    >>> recs = [make_recording(np.outer(y, rng.standard_normal(60)) * d + rng.standard_normal((12, 60)),
    ...                        n_trials=3, noise_sd=0.5, target=y, behavior=0.5 + 0.2 * d,
    ...                        session_id=f"day{d}", rng=d) for d in range(3)]
    >>> stats = summarize(make_session_tree(recs), n_boot=50, random_state=0, readout=False, dynamics=False)
    >>> stats["task_alignment"].dims, stats["kernel_similarity"].dims
    (('session',), ('session', 'session_other'))
    >>> bool(stats["task_alignment"][2] > stats["task_alignment"][0])
    True
    """
    _check_options(variant=variant, estimator=estimator, n_boot=n_boot, level=level, nan_policy=nan_policy,
                   ridge=ridge, n_modes=n_modes, spectral_max_boot=spectral_max_boot, n_permutations=n_permutations,
                   random_state=random_state, generalization=generalization, capacity_max_boot=capacity_max_boot)
    statistics = _statistics_option(statistics)
    refuse_shared_column(target, behavior)  # before the label's checks take the column (adversary S8-6)
    # behaviour and the kernel family run whatever statistics= names: theirs warn only where named
    with only_requested_warnings(statistics):
        runner = Runner(resolve_scheduler(scheduler), progress)
        sessions = prepare_sessions({key: in_canonical_order(rec) for key, rec in as_recording_dict(tree).items()},
                                    target=target, by=by, where=where, min_trials=min_trials, nan_policy=nan_policy)
        recordings, label, left_out, tracked = sessions.recordings, sessions.label, sessions.left_out, sessions.tracked
        runner.place(recordings)
        ids = list(recordings)
        left, right = VARIANTS[variant]
        timed = {key: rec for key, rec in recordings.items() if TIME in rec.dims}
        params = SummaryParams(
            label=label, by=by, behavior=behavior, n_boot=n_boot, random_state=random_state, level=level,
            unbiased=estimator == "unbiased", left=left, right=right, ridge=ridge, n_modes=n_modes,
            spectral_max_boot=spectral_max_boot, tracked=tracked, readout=readout, n_permutations=n_permutations,
            heldout=heldout, heldout_column=_heldout_column(heldout, recordings),
            generalization=generalization, generalization_target=generalization_target, dynamics=dynamics,
            # a wrong input= is the user's to fix: raised, not flagged
            input=_input_coord(input, timed) if dynamics and timed else None, indicator_tau=indicator_tau,
            label_problems=dict(sessions.label_problems), statistics=statistics, capacity_max_boot=capacity_max_boot)

        contexts = {}
        for family in FAMILIES:  # in table order: the order the families draw from random_state
            if not family.wanted(statistics):
                contexts[family.name] = None
                continue
            try:
                contexts[family.name] = family.prepare(recordings, params, runner.map_sessions)
            except DataError as error:
                if family.on_failure == "raise":
                    raise
                contexts[family.name] = error
        active = [(family, context) for family, context in ((f, contexts[f.name]) for f in FAMILIES)
                  if context is not None and not isinstance(context, (Skip, DataError))]
        _say(progress, f"summarize: {', '.join(f.name for f, _ in active)} statistics of {len(ids)} sessions")
        parts = runner.sessions(active, recordings)

        ds = None  # the first family's Dataset (behaviour or kernel, which always run) sets the coords
        for family in FAMILIES:
            context = contexts[family.name]
            if context is None:
                continue
            if isinstance(context, Skip):
                ds.attrs[family.name] = context.note
                continue
            try:
                if isinstance(context, DataError):
                    raise context
                part = family.combine(first_failure_raised(parts[family.name]), context, runner.map_sessions)
            except DataError as error:
                if family.on_failure == "raise":
                    raise
                ds = _nan_family(ds, family, error, ids, level)
                continue
            ds = _merge_family(ds, family, part)
            if family.name == "kernel":
                ds.attrs.update(_attrs(context.options, variant=variant, estimator=estimator, behavior=behavior,
                                       target=target, n_boot=n_boot, level=level, random_state=random_state,
                                       ridge=ridge, n_modes=n_modes, spectral_max_boot=spectral_max_boot,
                                       has_overlap="code_overlap" in ds, tracked=tracked, where=where,
                                       min_trials=min_trials))
        ds = enforce_ranges(ds)
        ds = flag_other_scales(ds, recordings)
        refuse_if_empty(ds)
        # what the sessions recorded (their attrs["units"]): a fit reads it (kernel_change of counts or rates)
        ds.attrs["response_units"] = sessions.response_units
        if sessions.label_problems:
            ds.attrs["sessions_without_label"] = "; ".join(f"{k}: {reason}" for k, reason in
                                                           sessions.label_problems.items())
        if left_out:
            # training order is the order given: a session left out keeps the others' places
            ds = ds.assign_coords(session_index=(SESSION, [sessions.positions[str(k)] for k in ds[SESSION].values]))
            ds.attrs["sessions_left_out"] = "; ".join(f"{k}: {reason}" for k, reason in left_out.items())
        # kernel_change (and reference_agreement) are measured from the first session: a fit places it in model time
        ds.attrs["reference_session"] = str(ds["session"].values[0])
        return ds


def _check_options(*, variant, estimator, n_boot, level, nan_policy, ridge, n_modes, spectral_max_boot,
                   n_permutations, random_state=None, generalization="readout", capacity_max_boot=16):
    if variant not in VARIANTS:
        raise DataError(f"variant: expected one of {sorted(VARIANTS)}, found {shown(variant)}")
    if estimator not in ("unbiased", "plugin"):
        raise DataError(f"estimator: expected 'unbiased' or 'plugin', found {shown(estimator)}")
    for name, value in (("n_boot", n_boot), ("n_modes", n_modes), ("spectral_max_boot", spectral_max_boot),
                        ("n_permutations", n_permutations), ("capacity_max_boot", capacity_max_boot)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise DataError(f"{name}: expected a non-negative integer, found {shown(value)}")
    if n_boot in (1, 2):
        # one or two replicates give no standard error of their own (the few-cell corrections need 3): some
        # values came back with an SE and their neighbours without (adversary S8-3)
        raise DataError(f"n_boot: expected 0 (no intervals) or at least 3 bootstrap replicates, found {n_boot}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise DataError(f"level: expected a coverage in (0, 1), found {shown(level)}")
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)) or not ridge > 0:
        # task_difficulty is Y'(K/s + ridge I)^-1 Y / |Y|^2, bounded by 1/ridge: without a ridge it is unbounded
        raise DataError(f"ridge: expected a positive number, found {shown(ridge)}")
    if n_modes < 1:
        raise DataError(f"n_modes: expected at least 1 kernel mode for spectral_power, found {shown(n_modes)}")
    if not (random_state is None or isinstance(random_state, (np.random.Generator, np.random.SeedSequence))
            or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
                and random_state >= 0)):
        raise DataError(f"random_state: expected None, a non-negative integer, a numpy Generator or SeedSequence, "
                        f"found {shown(random_state)}")
    if generalization not in ("readout", "behavior"):
        raise DataError(f"generalization: expected 'readout' or 'behavior', found {shown(generalization)}")
    if nan_policy not in NAN_POLICIES:
        raise DataError(f"nan_policy: expected one of {NAN_POLICIES}, found {shown(nan_policy)}")


def _statistics_option(statistics):
    """``statistics=`` as a tuple of registry names (None stays None); unknown names refused."""
    if statistics is None:
        return None
    names = (statistics,) if isinstance(statistics, str) else statistics
    try:
        names = tuple(names)
    except TypeError:
        raise DataError(f"statistics: expected a statistic name or a sequence of them, found {shown(statistics)}") \
            from None
    unknown = [name for name in names if not isinstance(name, str) or name not in STATISTICS]
    if unknown or not names:
        raise DataError(f"statistics: expected names of registered statistics ({sorted(STATISTICS)}), found "
                        f"{unknown if unknown else 'none'}")
    return names


def _nan_family(ds, family, error, ids, level):
    """A family that fails as a whole is NaN for every session with its reason (not a refusal)."""
    ds.attrs[family.name] = f"NaN for every session: {error}"
    for name in family.statistics:
        if name not in ds:
            dims = (SESSION,)
            ds[name] = (dims, np.full(len(ids), np.nan))
            ds[se_name(name)] = (dims, np.full(len(ids), np.nan))
            ds[ci_name(name)] = (dims + (CI_BOUND,), np.full((len(ids), 2), np.nan), {"level": level})
            ds[flag_name(name)] = (dims, np.full(len(ids), str(error), dtype=object).astype(str))
            for key in ids:
                warn_unsupported(name, key, str(error), stacklevel=4)
    return ds


def _merge_family(ds, family, part):
    """Merge a family's Dataset on ``session`` (sessions it does not cover are NaN)."""
    if ds is None:
        return part
    if not family.prefixed:
        # the same sessions and coords by construction (behaviour and kernel share the session table)
        return xr.merge([ds, part], join="left", compat="override", combine_attrs="drop_conflicts")
    part = part.drop_vars([c for c in ("session_index", "session_start_time") if c in part.coords])
    if BOOTSTRAP in part.dims:
        part = part.rename({BOOTSTRAP: f"{BOOTSTRAP}_{family.name}"})
    # each attr named for its family once (generalization's own 'generalization_method' is not doubled)
    attrs = {key if key.startswith(f"{family.name}_") else f"{family.name}_{key}": value
             for key, value in part.attrs.items()}
    ds = xr.merge([ds, part], join="left", combine_attrs="override")
    ds.attrs.update(attrs)
    return ds


def _attrs(options, *, variant, estimator, behavior, target, n_boot, level, random_state, ridge, n_modes,
           spectral_max_boot, has_overlap, tracked, where, min_trials):
    unbiased = options.unbiased
    return dict(
        target=str(target), by=options.by, behavior=str(behavior), n_boot=int(n_boot), level=level,
        random_state=str(random_state), where=str(where), min_trials=str(min_trials),
        statistics="declared in neurolearn.statistic_registry.STATISTICS (estimand, range, bias handling, "
                   "reasons a value is NaN); <name>_flag says why a value is NaN",
        kernel_estimator=estimator,
        kernel_bias_correction=(
            "trial noise: per-neuron squared standard errors removed from the kernel diagonal (all-pairs "
            "cross-validated kernel); neuron sampling: U-statistics over distinct neurons for squared norms and "
            "cross terms; exact leave-one-neuron-out jackknife of ratios (alignment, CKA, kernel change, PR)"
            if unbiased else "none (plug-in condition-mean kernels)"),
        task_alignment_variant=variant,
        task_alignment_chance=STATISTICS["task_alignment"].chance,
        task_difficulty=f"tr(Y'(K/s + {ridge} I)^-1 Y)/tr(Y'Y), s = tr(K)/P",
        participation_ratio_estimator=STATISTICS["participation_ratio"].estimator if unbiased else "naive",
        spectral_power=f"C(k) at k = min({n_modes}, P - 1): fraction of target power in the top kernel modes",
        powerlaw_exponent="participation-matched power law over the P - 1 contrast modes (inverse of PR(alpha) at "
                          "participation_ratio's U-statistic estimate)",
        kernel_change="||H(K_t - K_0)H||_F / ||H K_0 H||_F, double-centred, reference = first session",
        kernel_scale="||H K_t H||_F / ||H K_0 H||_F, double-centred, reference = first session",
        kernel_similarity="CKA of centred kernels (population estimand)",
        code_overlap="tr K(t,s)/sqrt(tr K(t,t) tr K(s,s)) over tracked cells" if has_overlap
        else ("omitted: cells not declared tracked across sessions" if not tracked
              else "omitted: no neuron ids shared between sessions"),
        tracked=str(tracked),
        behavior_estimator=STATISTICS["behavior"].estimator + "; " + STATISTICS["behavior"].interval,
        bootstrap="neurons resampled by id (Poisson(1) weights shared across sessions): linearised replicates "
                  "(exact weighted replicates for participation_ratio); "
                  f"spectral statistics re-diagonalised (Rayleigh-Ritz) on at most {spectral_max_boot} replicates; "
                  "intervals are percentile intervals re-centred on the estimate",
    )


def _say(progress, message):
    if progress:
        print(message, file=sys.stderr, flush=True)


def _heldout_column(heldout, recordings=None):
    """The trial column ``heldout=`` names: itself, or the one key of ``{column: held-out value}``.

    A declared held-out value that no session's column holds is a slip (``"Novel"`` for ``"novel"``, ``"0"`` for
    0), refused with the values found, not read as "no held-out trials" in every session (adversary S5-6)."""
    if heldout is None or isinstance(heldout, str):
        return heldout
    if not (isinstance(heldout, Mapping) and len(heldout) == 1 and isinstance(next(iter(heldout)), str)):
        raise DataError(f"heldout: expected a trial column name or {{column: held-out value}}, found "
                        f"{shown(heldout)}")
    column, value = next(iter(heldout.items()))
    columns = [np.asarray(rec.coords[column].values) for rec in (recordings or {}).values()
               if column in rec.coords and rec.coords[column].dims == (TRIAL,)]
    if columns and not any(np.any(values == value) for values in columns):
        found = np.unique(np.concatenate([values.astype(str) for values in columns]))
        kinds = sorted({values.dtype.kind for values in columns})
        raise DataError(f"heldout: found no trial with {column!r} == {value!r} ({type(value).__name__}) in any "
                        f"session; its values ({', '.join(_KIND_NAMES.get(k, k) for k in kinds)}): "
                        f"{found[:8].tolist()}")
    return column


_KIND_NAMES = {"U": "strings", "O": "objects", "S": "bytes", "b": "booleans", "i": "integers", "u": "integers",
               "f": "floats"}


def _input_coord(input, recordings):
    """Resolve ``summarize(input=...)``: an explicit name must exist in every time-resolved session."""
    def has(rec, name):
        return name in rec.coords and rec.coords[name].dims == (TRIAL, TIME)

    if input == "auto":
        return "input" if all(has(rec, "input") for rec in recordings.values()) else None
    if input is not None:
        missing = [key for key, rec in recordings.items() if not has(rec, input)]
        if missing:
            raise DataError(f"expected a (trial, time) coord {input!r} (input=) in every time-resolved session; "
                            f"sessions without it: {missing}")
    return input
