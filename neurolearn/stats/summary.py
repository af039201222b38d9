"""``summarize``: every summary statistic of learning for every session, with uncertainty, in one Dataset.

Work is split in three dask stages so the same call runs on the local threaded scheduler or a
``dask.distributed`` cluster (pass ``scheduler=client.get`` or run inside ``with client:``):

1. per session (parallel): sufficient statistics (condition means and squared standard errors, reduced
   chunk-wise from dask-backed recordings) and the single-session statistics with their bootstrap replicates;
2. driver: conditions shared by all sessions, point values of the pairwise statistics (cheap: P x P kernels);
3. per session (parallel, only with ``n_boot``): that session's neurons' bootstrap contributions to every
   pairwise statistic.

Bootstrap: one draw of Poisson(1) weights per neuron id for all sessions (tracked neurons share weights), and
linearised replicates (see :mod:`neurolearn.stats.kernels`), so ``n_boot`` adds a matrix product over neurons
per statistic rather than recomputing kernels. Readout and dynamics statistics come from
:mod:`neurolearn.stats.readout` and :mod:`neurolearn.stats.dynamics` and are merged on ``session``.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from neurolearn.data import CI_BOUND, NEURON, SESSION, SESSION_OTHER, TIME, TRIAL, ci_name, se_name
from neurolearn.errors import DataError
from neurolearn.stats.alignment import (
    VARIANTS,
    alignment_chance,
    alignment_with_replicates,
    difficulty_with_replicates,
)
from neurolearn.stats.dimensionality import participation_with_replicates
from neurolearn.stats.estimate import agresti_coull_se, bootstrap_interval
from neurolearn.stats.kernels import common_conditions, condition_statistics, session_bootstrap_weights
from neurolearn.stats.similarity import (
    as_recording_dict,
    change_from_terms,
    overlap_from_statistics,
    pairwise_kernel_terms,
    similarity_from_terms,
)
from neurolearn.stats.spectral import N_MODES, spectral_with_replicates

__all__ = ["summarize", "behavior_estimate"]


def summarize(
    tree,
    target: str = "target",
    by: str = "stimulus",
    behavior: str | None = "correct",
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
    dynamics: bool = True,
    input: str | None = "auto",
    scheduler="threads",
) -> xr.Dataset:
    """Summary statistics of learning for every session -> Dataset over ``session`` (+ ``session_other``).

    Parameters
    ----------
    tree : xarray.DataTree, mapping/sequence of DataArray, or one DataArray
        Sessions in training order (as :func:`neurolearn.read_sessions` returns).
    target : str
        Trial coord with the task label (constant within a condition).
    by : str
        Trial coord defining conditions (stimuli); kernels are condition x condition.
    behavior : str or None
        Trial coord with 0/1 (or bool) correctness; ``behavior`` = fraction correct, binomial SE, Wilson
        interval. None skips it.
    n_boot : int
        Bootstrap replicates (neurons resampled by id, linearised; spectral statistics use at most
        ``spectral_max_boot`` replicates). 0 -> NaN standard errors and intervals.
    random_state : int or numpy.random.Generator, optional
    level : float
        Interval coverage.
    variant, estimator : str
        Task-alignment centring (``"double"``, ``"uncentred"``, ``"column"``) and bias handling
        (``"unbiased"`` or ``"plugin"``) used for every kernel statistic.
    ridge : float
        λ of ``task_difficulty``.
    n_modes : int
        k of ``spectral_power`` = C(k).
    readout, dynamics : bool
        Merge :func:`neurolearn.stats.readout.readout_summary` (on time-averaged responses, like the kernel
        statistics) / :func:`neurolearn.stats.dynamics.dynamics_summary` (only recordings with a ``time``
        dim). Skipped with a warning if unavailable; their attrs are kept with a ``readout_``/``dynamics_``
        prefix.
    input : str or None
        A ``(trial, time)`` coord holding the input each trial received, regressed out when fitting the
        linear dynamical model of the ``dynamics`` statistics (``x_{k+1} = A x_k + B u_k``); without it an
        input-driven direction masquerades as a slow mode. ``"auto"`` uses a coord called ``input`` where
        every time-resolved session has one; None never uses one.
    scheduler : str or callable
        dask scheduler for the per-session stages (``"threads"``, ``"synchronous"``, ``"processes"`` or a
        distributed client's ``get``).

    Returns
    -------
    xarray.Dataset
        For every statistic ``name``: ``name``, ``name_se``, ``name_ci`` (dim ``ci_bound``). Coords
        ``session`` (ids), ``session_index``, ``session_start_time``, ``session_other`` (pairwise statistics).
        Attrs record every estimator choice.

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
    import dask

    if variant not in VARIANTS:
        raise DataError(f"variant: expected one of {sorted(VARIANTS)}, found {variant!r}")
    if estimator not in ("unbiased", "plugin"):
        raise DataError(f"estimator: expected 'unbiased' or 'plugin', found {estimator!r}")
    recordings = as_recording_dict(tree)
    ids = list(recordings)
    unbiased = estimator == "unbiased"
    left, right = VARIANTS[variant]
    neuron_ids = [np.asarray(rec.coords[NEURON].values) if NEURON in rec.coords else np.arange(rec.sizes[NEURON])
                  for rec in recordings.values()]
    weights = session_bootstrap_weights(neuron_ids, n_boot, random_state)

    # stage 1: per-session sufficient statistics and single-session statistics
    options = dict(target=target, by=by, behavior=behavior, unbiased=unbiased, left=left, right=right, ridge=ridge,
                   n_modes=n_modes, spectral_max_boot=spectral_max_boot)
    # dask threads run sessions side by side: BLAS threads inside each task would only oversubscribe the cores
    blas_threads = 1 if scheduler in ("threads", "threading") else None
    tasks = [dask.delayed(_with_blas_threads)(_session_part, blas_threads, key, rec, w, options)
             for (key, rec), w in zip(recordings.items(), weights)]
    parts = list(dask.compute(*tasks, scheduler=scheduler))

    # stage 2 and 3: pairwise statistics on the conditions every session shares
    stats = [part["stats"] for part in parts]
    common = common_conditions(stats)
    shared_stats = [s.select_conditions(common) for s in stats]

    def map_sessions(function, items):
        tasks = [dask.delayed(_with_blas_threads)(function, blas_threads, item) for item in items]
        return list(dask.compute(*tasks, scheduler=scheduler))

    terms = pairwise_kernel_terms(shared_stats, centred=(True, False), unbiased=unbiased, weights=weights,
                                  map_sessions=map_sessions)
    centred_terms, raw_terms = terms[True], terms[False]
    similarity, similarity_boot = similarity_from_terms(centred_terms)
    change, change_boot = change_from_terms(raw_terms, 0)
    overlap, overlap_boot, any_tracked = overlap_from_statistics(shared_stats, weights=weights, strict=False)

    data_vars = {}
    for name in ("behavior", "task_alignment", "task_difficulty", "participation_ratio", "spectral_power",
                 "powerlaw_exponent"):
        if name == "behavior" and behavior is None:
            continue
        values = np.array([part[name][0] for part in parts])
        if name == "behavior":
            se = np.array([part[name][1] for part in parts])
            ci = np.array([part[name][2] for part in parts])
        else:
            se, ci = _intervals(values, [part[name][1] for part in parts], level)
        _put(data_vars, name, values, se, ci, level, (SESSION,))
    data_vars["task_alignment_chance"] = (SESSION, np.array([part["task_alignment_chance"] for part in parts]))
    se, ci = _intervals(change, None if change_boot is None else list(change_boot.T), level)
    _put(data_vars, "kernel_change", change, se, ci, level, (SESSION,))
    _put_pairwise(data_vars, "kernel_similarity", similarity, similarity_boot, level)
    if any_tracked:
        _put_pairwise(data_vars, "code_overlap", overlap, overlap_boot, level)

    start_times = [str(rec.attrs.get("session_start_time", "")) for rec in recordings.values()]
    ds = xr.Dataset(
        data_vars,
        coords={
            SESSION: ids,
            "session_index": (SESSION, np.arange(len(ids))),
            "session_start_time": (SESSION, start_times),
            SESSION_OTHER: ids,
            CI_BOUND: ["lower", "upper"],
        },
    )
    ds.attrs.update(
        target=target, by=by, behavior=str(behavior), n_boot=int(n_boot), level=level,
        random_state=str(random_state),
        kernel_estimator=estimator,
        kernel_bias_correction=(
            "trial noise: per-neuron squared standard errors removed from the kernel diagonal (all-pairs "
            "cross-validated kernel); neuron sampling: U-statistics over distinct neurons for squared norms and "
            "cross terms; exact leave-one-neuron-out jackknife of ratios (alignment, CKA, kernel change, PR)"
            if unbiased else "none (plug-in condition-mean kernels)"),
        task_alignment_variant=variant,
        task_alignment_chance="expected alignment under random permutation of labels across conditions (exact)",
        task_difficulty=f"tr(Y'(K/s + {ridge} I)^-1 Y)/tr(Y'Y), s = tr(K)/P",
        participation_ratio_estimator="U-statistics over neurons and conditions" if unbiased else "naive",
        spectral_power=f"C(k) at k = min({n_modes}, P - 1): fraction of target power in the top kernel modes",
        powerlaw_exponent="log-log least squares over the top floor(sqrt(N)) eigenvalues of the kernel / P",
        kernel_change="||K_t - K_0||_F / ||K_0||_F, uncentred, reference = first session",
        kernel_similarity="CKA of centred kernels (population estimand)",
        code_overlap="tr K(t,s)/sqrt(tr K(t,t) tr K(s,s)) over shared neuron ids" if any_tracked
        else "omitted: no neuron ids shared between sessions",
        behavior_estimator="fraction correct; binomial SE; Wilson interval",
        bootstrap="neurons resampled by id (Poisson(1) weights shared across sessions), linearised replicates; "
                  f"spectral statistics re-diagonalised (Rayleigh-Ritz) on at most {spectral_max_boot} replicates",
        conditions_compared=int(common.size),
    )
    ds = _merge_other_helpers(ds, recordings, target=target, by=by, n_boot=n_boot, random_state=random_state,
                              input=input,
                              level=level, readout=readout, dynamics=dynamics)
    return ds


def behavior_estimate(recording: xr.DataArray, behavior: str = "correct", level: float = 0.95):
    """Fraction correct, binomial standard error and Wilson score interval from a 0/1 trial coord.

    The SE is the binomial √(p(1-p)/n) with the Agresti-Coull SE as a floor, so a session at 100% correct
    (common once behaviour saturates) keeps a positive SE instead of an infinite fitting weight.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
    ...                    coords={"correct": ("trial", [True, True, True, False])})
    >>> value, se, (lo, hi) = behavior_estimate(rec)
    >>> value, round(se, 4), round(lo, 3), round(hi, 3)
    (0.75, 0.2165, 0.301, 0.954)
    """
    from scipy.stats import norm

    session_id = str(recording.attrs.get("session_id", recording.name))
    if behavior not in recording.coords or recording.coords[behavior].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"session {session_id!r}: expected a trial coord {behavior!r} (behavior=), "
                        f"available trial coords: {available}")
    values = np.asarray(recording.coords[behavior].values)
    try:
        values = values.astype(float)
    except (TypeError, ValueError) as error:
        raise DataError(f"session {session_id!r}: expected 0/1 values in {behavior!r}, found {values[:5]}") from error
    values = values[np.isfinite(values)]
    if values.size == 0 or not np.all((values == 0) | (values == 1)):
        raise DataError(f"session {session_id!r}: expected 0/1 values in {behavior!r}, found {np.unique(values)[:5]}")
    n, p = values.size, float(values.mean())
    z = norm.ppf(0.5 + level / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    se = max(float(np.sqrt(p * (1 - p) / n)), agresti_coull_se(values.sum(), n))
    return p, se, (float(centre - half), float(centre + half))


def _with_blas_threads(function, limit, *args):
    if limit is None:
        return function(*args)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limit):
        return function(*args)


def _session_part(key, recording, weights, options):
    """Stage 1 for one session: sufficient statistics and single-session statistics with replicates."""
    from dataclasses import replace

    stats = condition_statistics(recording, options["by"], target=options["target"],
                                 min_trials=2 if options["unbiased"] else 1)
    stats = replace(stats, session_id=str(key))
    unbiased = options["unbiased"]
    out = {"stats": stats}
    if options["behavior"] is not None:
        out["behavior"] = behavior_estimate(recording, options["behavior"])
    out["task_alignment"] = alignment_with_replicates(stats, left=options["left"], right=options["right"],
                                                      unbiased=unbiased, weights=weights)
    out["task_alignment_chance"] = alignment_chance(stats, left=options["left"], right=options["right"],
                                                    unbiased=unbiased)
    out["task_difficulty"] = difficulty_with_replicates(stats, ridge=options["ridge"], unbiased=unbiased,
                                                        weights=weights)
    out["participation_ratio"] = _optional_statistic(
        "participation_ratio", stats.session_id, participation_with_replicates, stats, unbiased=unbiased,
        weights=weights)
    values, replicates = _optional_statistic(
        "spectral_power and powerlaw_exponent", stats.session_id, _spectral_pair, stats,
        n_modes=options["n_modes"], estimator="unbiased" if unbiased else "plugin", weights=weights,
        max_boot=options["spectral_max_boot"])
    if not np.ndim(values):  # skipped: both spectral statistics NaN, no replicates
        values, replicates = (np.nan, np.nan), np.full((1, 2), np.nan)
    out["spectral_power"] = (values[0], replicates[:, 0] if weights is not None else None)
    out["powerlaw_exponent"] = (values[1], replicates[:, 1] if weights is not None else None)
    for name in ("task_alignment", "task_difficulty", "participation_ratio"):
        if weights is None:
            out[name] = (out[name][0], None)
    return out


def _optional_statistic(name, session_id, function, *args, **kwargs):
    """A statistic whose shape requirement a session may not meet (e.g. participation ratio needs >= 4
    conditions; a two-stimulus task has 2). Such a session gets NaN for this statistic and a warning that
    names it, instead of refusing the whole summary; other statistics are unaffected."""
    try:
        return function(*args, **kwargs)
    except DataError as error:
        warnings.warn(f"{name} left NaN for session {session_id!r}: {error}", stacklevel=3)
        return np.nan, None


def _spectral_pair(stats, **kwargs):
    values, replicates, _ = spectral_with_replicates(stats, **kwargs)
    return values, replicates


def _intervals(values, replicates, level):
    se = np.full(len(values), np.nan)
    ci = np.full((len(values), 2), np.nan)
    if replicates is None:
        return se, ci
    for k, (value, reps) in enumerate(zip(values, replicates)):
        if reps is not None and len(reps):
            se[k], ci[k] = bootstrap_interval(value, reps, level)
    return se, ci


def _put(data_vars, name, values, se, ci, level, dims):
    data_vars[name] = (dims, np.asarray(values, dtype=float))
    data_vars[se_name(name)] = (dims, np.asarray(se, dtype=float))
    data_vars[ci_name(name)] = (dims + (CI_BOUND,), np.asarray(ci, dtype=float), {"level": level})


def _put_pairwise(data_vars, name, values, replicates, level):
    n = values.shape[0]
    se = np.full((n, n), np.nan)
    ci = np.full((n, n, 2), np.nan)
    if replicates is not None:
        for a in range(n):
            for b in range(n):
                if a != b and np.isfinite(values[a, b]):
                    se[a, b], ci[a, b] = bootstrap_interval(values[a, b], replicates[:, a, b], level)
                elif a == b and np.isfinite(values[a, b]):
                    se[a, b], ci[a, b] = 0.0, (values[a, b], values[a, b])
    _put(data_vars, name, values, se, ci, level, (SESSION, SESSION_OTHER))


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


def _call_accepting(function, *args, **options):
    """Call ``function`` with the shared options it declares (the vocabulary is shared, the needs differ)."""
    import inspect

    accepted = inspect.signature(function).parameters
    return function(*args, **{key: value for key, value in options.items() if key in accepted})


def _merge_other_helpers(ds, recordings, *, target, by, n_boot, random_state, level, readout, dynamics, input):
    """Merge readout and dynamics statistics (other modules) on ``session``; warn if they are unavailable."""
    parts = []
    if readout:
        try:
            from neurolearn.stats.readout import readout_summary
        except ImportError as error:
            warnings.warn(f"summarize: readout statistics skipped ({error}); neurolearn.stats.readout not available",
                          stacklevel=3)
            ds.attrs["readout"] = "skipped: neurolearn.stats.readout not available"
        else:
            # readout statistics see the same time-averaged responses as the kernel statistics
            averaged = {key: rec.mean(TIME, keep_attrs=True) if TIME in rec.dims else rec
                        for key, rec in recordings.items()}
            parts.append(_call_accepting(readout_summary, averaged, target=target, by=by, n_boot=n_boot,
                                         random_state=random_state, level=level))
    if dynamics:
        timed = {key: rec for key, rec in recordings.items() if TIME in rec.dims}
        if timed:
            try:
                from neurolearn.stats.dynamics import dynamics_summary
            except ImportError as error:
                warnings.warn(f"summarize: dynamics statistics skipped ({error})", stacklevel=3)
                ds.attrs["dynamics"] = "skipped: neurolearn.stats.dynamics not available"
            else:
                parts.append(_call_accepting(dynamics_summary, timed, target=target, by=by, n_boot=n_boot,
                                             random_state=random_state, level=level,
                                             input=_input_coord(input, timed)))
        else:
            ds.attrs["dynamics"] = "skipped: no recording has a time dim"
    for part in parts:
        part = part.drop_vars([c for c in ("session_index", "session_start_time") if c in part.coords])
        source = "readout" if any(name in part for name in ("decoder_accuracy", "margin")) else "dynamics"
        attrs = {f"{source}_{key}": value for key, value in part.attrs.items()}
        ds = xr.merge([ds, part], join="left", combine_attrs="override")
        ds.attrs.update(attrs)
    return ds
