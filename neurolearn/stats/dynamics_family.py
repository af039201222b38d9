"""The dynamics family of :func:`neurolearn.summarize`: ``timescale``, ``outlier_eigenvalue`` and
``n_outlier_eigenvalues`` of every time-resolved session, gathered over dim ``session``.

Three stages, so the per-session fits can run anywhere (see :mod:`neurolearn.stats.families`):
:func:`prepare_dynamics` (the seed every session shares, in the caller), :func:`dynamics_session` (one
session's fit and bootstrap: pure, picklable, run on a dask worker in :func:`neurolearn.summarize`) and
:func:`combine_dynamics` (the Dataset; the reasons and the calcium note become warnings here, in session
order, so they reach the caller whichever process fitted the session). :func:`dynamics_summary` runs the three
in this process.

Out of core: a dask-backed session is never computed whole. The fit only ever sees activity through its
``min(neurons, n_components)`` leading principal components (its instruments, regressors and per-trial moments
are all in that subspace), so :func:`leading_components` reduces the lazy recording to them in two passes over
its blocks (the neuron covariance, then the projection, one block in memory at a time) and the fit runs on the
``(trial, component, time)`` result: the same subspace, so the same eigenvalues up to rounding (the fit is
invariant to the basis within it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, SESSION, TIME, TRIAL, flag_name
from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.dynamics_bootstrap import BIAS_NOTE, bootstrap_estimates
from neurolearn.stats.dynamics_fit import (
    DynamicsFit,
    indicator_note,
    is_calcium,
    split_outliers,
)
from neurolearn.stats.dynamics_select import fit_dynamics
from neurolearn.stats.flags import StatisticWarning, warn_unsupported

__all__ = ["dynamics_summary", "prepare_dynamics", "dynamics_session", "combine_dynamics", "DynamicsContext",
           "leading_components", "SUMMARY_STATISTICS", "CALCIUM_FLAG", "WEAK_FLAG"]

#: the statistics :func:`dynamics_summary` returns per session
SUMMARY_STATISTICS = ("timescale", "outlier_eigenvalue", "n_outlier_eigenvalues")
#: flag of a value kept although no direction of activity is predictable from its past beyond chance
WEAK_FLAG = ("no direction of activity predictable from its past beyond chance (weak instruments): the eigenvalue "
             "leans toward 0 and its interval is too short; read it as no slow dynamics resolved, not as a short "
             "timescale (value kept)")
CALCIUM_FLAG = ("calcium recording (ROI trace or fluorescence units): the timescale includes the indicator's "
                "decay; pass indicator_tau= (s) to deconvolve it, or indicator_tau=0 to state that there is none")


@dataclass(frozen=True)
class DynamicsContext:
    """What every session's fit shares: the sessions (in order), the one seed and the estimator options."""

    keys: tuple
    seed: int
    n_boot: int
    level: float
    n_components: int
    ridge: float
    input: str | None
    indicator_tau: float | None
    method: str
    conditions: str | None = "auto"
    condition_means: str = "auto"


def prepare_dynamics(recordings, *, n_boot=200, random_state=None, level=0.95, n_components=10, ridge=1e-6,
                     input=None, indicator_tau=None, method="iv", conditions="auto",
                     condition_means="auto") -> DynamicsContext:
    """The shared part of the dynamics statistics (cheap: no data is read). See :func:`dynamics_summary`.

    Examples
    --------
    >>> prepare_dynamics({"a": None, "b": None}, random_state=0).keys
    ('a', 'b')
    """
    if not isinstance(recordings, dict) or not recordings:
        raise DataError("dynamics_summary: expected a non-empty dict of session recordings, found "
                        f"{recordings!r:.80}")
    seed = int(np.random.default_rng(random_state).integers(2**31))
    return DynamicsContext(keys=tuple(str(k) for k in recordings), seed=seed, n_boot=int(n_boot), level=level,
                           n_components=n_components, ridge=ridge, input=input, indicator_tau=indicator_tau,
                           method=method, conditions=conditions, condition_means=condition_means)


def dynamics_session(key, recording: xr.DataArray, context: DynamicsContext) -> dict:
    """One session's fit: its estimates and replicates, or the reason the data cannot support them.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((1, 2, 3)), dims=("trial", "neuron", "time"),
    ...                    coords={"time": [0.0, 0.1, 0.2]})
    >>> dynamics_session("s", rec, prepare_dynamics({"s": rec}, n_boot=0))["reason"] != ""
    True
    """
    c = context
    try:
        factory = DynamicsFit
        if _is_lazy(recording):
            reduced = leading_components(recording, c.n_components, c.indicator_tau, name=f"session {str(key)!r}")
            if reduced is not recording:  # the neurons' own pooled moments from the session itself, blockwise
                factory = partial(DynamicsFit, pooled_source=recording)
            recording = reduced
        fit = fit_dynamics(recording, c.n_components, c.ridge, None, c.input, method=c.method,
                           indicator_tau=c.indicator_tau, conditions=c.conditions,
                           condition_means=c.condition_means, name=f"session {str(key)!r}",
                           factory=factory)
    except InsufficientDataError as error:
        return {"reason": str(error)}
    result = bootstrap_estimates(fit, c.n_boot, c.seed, c.level)
    part = {"reason": "", "description": fit.description(),
            "n_outlier_eigenvalues": int(split_outliers(result["eig"], 0.5)[0].sum()),
            "calcium": c.indicator_tau is None and is_calcium(recording),
            "weak": c.method == "iv" and not getattr(fit, "resolved", True)}
    for stat, name in (("timescale", "tau"), ("outlier_eigenvalue", "lam")):
        part[stat] = (result[name], result[f"se_{name}"], result[f"ci_{name}"], result[f"{name}s"])
    return part


def combine_dynamics(parts, context: DynamicsContext, map_sessions=None) -> xr.Dataset:
    """The sessions' parts (in ``context.keys`` order) as one Dataset over ``session``; warns per reason."""
    c = context
    names, n, n_boot = list(c.keys), len(c.keys), c.n_boot
    values = {stat: np.full(n, np.nan) for stat in SUMMARY_STATISTICS}
    se = {stat: np.full(n, np.nan) for stat in SUMMARY_STATISTICS[:2]}
    ci = {stat: np.full((n, 2), np.nan) for stat in SUMMARY_STATISTICS[:2]}
    boot = {stat: np.full((n, n_boot), np.nan) for stat in SUMMARY_STATISTICS[:2]}
    flags = {stat: np.full(n, "", dtype=object) for stat in SUMMARY_STATISTICS}
    described = None
    for i, (name, part) in enumerate(zip(names, parts)):
        if part["reason"]:
            for stat in SUMMARY_STATISTICS:
                flags[stat][i] = part["reason"]
                warn_unsupported(stat, name, part["reason"])
            continue
        described = described or part["description"]
        for stat in SUMMARY_STATISTICS[:2]:
            values[stat][i], se[stat][i], ci[stat][i], replicates = part[stat]
            if n_boot:
                boot[stat][i] = replicates
        values["n_outlier_eigenvalues"][i] = part["n_outlier_eigenvalues"]
        if part["calcium"]:
            for stat in SUMMARY_STATISTICS:
                flags[stat][i] = CALCIUM_FLAG
            warnings.warn(StatisticWarning(f"dynamics statistics of session {name!r}: {CALCIUM_FLAG}",
                                           statistics=SUMMARY_STATISTICS), stacklevel=2)
        if part.get("weak"):
            for stat in SUMMARY_STATISTICS:
                flags[stat][i] = WEAK_FLAG if not flags[stat][i] else f"{flags[stat][i]}; {WEAK_FLAG}"
            warnings.warn(StatisticWarning(f"dynamics statistics of session {name!r}: {WEAK_FLAG}",
                                           statistics=SUMMARY_STATISTICS), stacklevel=2)
    out = xr.Dataset(coords={SESSION: names, "session_index": (SESSION, np.arange(n)),
                             "ci_bound": ["lower", "upper"]})
    for stat in SUMMARY_STATISTICS[:2]:
        out[stat] = (SESSION, values[stat])
        out[f"{stat}_se"] = (SESSION, se[stat])
        out[f"{stat}_ci"] = ((SESSION, "ci_bound"), ci[stat], {"level": c.level})
        if n_boot:
            out[f"{stat}_boot"] = ((SESSION, "bootstrap"), boot[stat],
                                   {"resampling": "independent", "resampled": "trials, per session"})
    out["n_outlier_eigenvalues"] = (SESSION, values["n_outlier_eigenvalues"],
                                    {"criterion": "see neurolearn.stats.dynamics.outlier_eigenvalues"})
    for stat in SUMMARY_STATISTICS:
        out[flag_name(stat)] = (SESSION, flags[stat].astype(str))
    out["timescale"].attrs.update(units="s", indicator=indicator_note(c.indicator_tau))
    out.attrs.update(
        estimator=described or "none fitted",
        bias_correction=BIAS_NOTE[c.method], n_boot=n_boot, level=c.level,
        interval=("bootstrap over trials, the predictable directions re-estimated in each resample; hull of "
                  "the basic (reflected) and percentile intervals of |lambda| and the estimate, its image for "
                  "the timescale"),
    )
    return out


def dynamics_summary(
    recordings: dict[str, xr.DataArray],
    *,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    n_components: int = 10,
    ridge: float = 1e-6,
    input=None,
    indicator_tau: float | None = None,
    method: str = "iv",
    conditions: str | None = "auto",
    condition_means: str = "auto",
) -> xr.Dataset:
    """Dynamics statistics of every session, over dim ``session`` (in the order of ``recordings``).

    Variables: ``timescale`` (s) and ``outlier_eigenvalue`` (the largest |λ| of the fitted A), each with
    ``_se``, ``_ci`` and ``_boot`` (the bootstrap replicates over trials, see
    :func:`~neurolearn.stats.dynamics.population_timescale`), ``n_outlier_eigenvalues``
    (:func:`~neurolearn.stats.dynamics.outlier_eigenvalues`, no interval), and ``<name>_flag`` for each:
    ``""`` where the value is supported, otherwise the reason. No task label is needed.

    Parameters
    ----------
    recordings : dict of str to xarray.DataArray
        One ``(trial, neuron, time)`` recording per session, in training order.
    n_boot : int
        Bootstrap resamples of trials (0 skips SEs, intervals and replicates); cheap, since they re-weight
        per-trial sufficient statistics.
    random_state : int or numpy.random.Generator, optional
        One seed, used identically in every session.
    level : float
        Interval coverage.
    n_components, ridge, input, indicator_tau, method, conditions, condition_means
        As in :func:`~neurolearn.stats.dynamics.population_timescale` (``input`` as a coord name present in
        every session), the same in every session.

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (coords ``session`` = the dict keys, ``session_index``), ``ci_bound`` and
        ``bootstrap``. The ``timescale`` attr ``indicator`` says how a calcium indicator was handled.

    Notes
    -----
    A session the data cannot support (not time-resolved, fewer than 2 trials or 2 neurons, too few time
    bins, constant activity) gets NaN with the reason in the flags and one
    :class:`~neurolearn.stats.flags.StatisticWarning` per statistic; the other sessions are unaffected. A
    calcium (dF/F) session fitted without ``indicator_tau`` keeps its numbers, flagged: its timescale
    includes the indicator's decay. Bias handling: as in
    :func:`~neurolearn.stats.dynamics.population_timescale`.
    The sessions are fitted one after another here; :func:`neurolearn.summarize` runs the same
    :func:`dynamics_session` on its dask scheduler.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(4)
    >>> def session(lam):
    ...     x = np.zeros((50, 2, 30))
    ...     for k in range(1, 30):
    ...         x[..., k] = lam * x[..., k - 1] + rng.standard_normal((50, 2))
    ...     return xr.DataArray(x, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> ds = dynamics_summary({"early": session(0.5), "late": session(0.9)}, n_boot=50, random_state=0,
    ...                       n_components=2)
    >>> ds["session"].values.tolist(), bool(ds["timescale"][1] > ds["timescale"][0])
    (['early', 'late'], True)
    >>> ds["timescale_boot"].dims, ds["timescale_flag"].values.tolist()
    (('session', 'bootstrap'), ['', ''])
    """
    context = prepare_dynamics(recordings, n_boot=n_boot, random_state=random_state, level=level,
                               n_components=n_components, ridge=ridge, input=input,
                               indicator_tau=indicator_tau, method=method, conditions=conditions,
                               condition_means=condition_means)
    parts = [dynamics_session(key, rec, context) for key, rec in zip(context.keys, recordings.values())]
    return combine_dynamics(parts, context)


def leading_components(recording: xr.DataArray, n_components: int = 10, indicator_tau: float | None = None, *,
                       name: str | None = None):
    """A lazy ``(trial, neuron, time)`` recording reduced, block by block, to its ``min(neurons,
    n_components)`` leading principal components: an in-memory ``(trial, neuron, time)`` recording whose
    "neurons" are the components (ids 0..m-1), with the trial and time coords and the attrs.

    The components are those :class:`~neurolearn.stats.dynamics_fit.DynamicsFit` takes (of activity centred
    per neuron over trials and time, after deconvolution with ``indicator_tau``), so the fit on the result
    is the fit on the recording. Two passes on the synchronous scheduler (one block in memory at a time):
    the neuron sums and scatter about a reference (the first trial's mean, so the one-pass covariance does
    not lose digits to a large mean) and the finite count, then the projection of the raw activity centred
    by its mean (the fit deconvolves and centres it again: both are linear). A recording the fit refuses
    before reading values (wrong dims, fewer than 3 bins or 2 neurons/trials, uneven bins) is returned as it
    is, for the fit's own message. ``name``: who the error message names.

    Raises
    ------
    DataError
        NaN/inf responses (the fit's message).

    Examples
    --------
    >>> import numpy as np, dask.array as da, xarray as xr
    >>> x = np.random.default_rng(0).standard_normal((6, 4, 8))
    >>> rec = xr.DataArray(da.from_array(x, chunks=(2, 4, 8)), dims=("trial", "neuron", "time"),
    ...                    coords={"time": 0.1 * np.arange(8)})
    >>> reduced = leading_components(rec, n_components=2)
    >>> reduced.dims, reduced.shape, type(reduced.data).__name__
    (('trial', 'neuron', 'time'), (6, 2, 8), 'ndarray')
    """
    import dask
    import dask.array

    if (recording.dims != (TRIAL, NEURON, TIME) or recording.sizes[TRIAL] < 2 or recording.sizes[NEURON] < 2
            or recording.sizes[TIME] < 3 or not _uniform_time(recording)):
        return recording
    raw = recording.data.astype(float)
    activity = raw
    if indicator_tau:
        dt = float(np.diff(np.asarray(recording[TIME].values, dtype=float))[0])
        activity = raw[..., 1:] - np.exp(-dt / float(indicator_tau)) * raw[..., :-1]
    reference = np.asarray(activity[:1].mean(axis=(0, 2)).compute(scheduler="synchronous"))
    shifted = activity - reference[None, :, None]
    sums, scatter, raw_sums, n_bad = dask.compute(
        shifted.sum(axis=(0, 2)), dask.array.tensordot(shifted, shifted, axes=([0, 2], [0, 2])),  # BLAS per block
        raw.sum(axis=(0, 2)), (~dask.array.isfinite(raw)).sum(), scheduler="synchronous")
    if n_bad:
        # the message of the in-memory path's check (neurolearn.data.validate_recording)
        raise DataError(f"{name or _session_name(recording)}: expected finite responses, found {int(n_bad)} "
                        f"NaN/inf values of {raw.size}; drop or impute them before computing statistics")
    count = activity.shape[0] * activity.shape[2]
    offset = sums / count  # the mean minus the reference
    covariance = scatter - count * np.outer(offset, offset)
    m = min(recording.sizes[NEURON], int(n_components))
    _, vectors = np.linalg.eigh(covariance)
    components = vectors[:, ::-1][:, :m]
    centred = raw - (raw_sums / (raw.shape[0] * raw.shape[2]))[None, :, None]
    projected = dask.array.einsum("tib,ik->tkb", centred, components).compute(scheduler="synchronous")
    coords = {name: coord for name, coord in recording.coords.items()
              if set(coord.dims) <= {TRIAL, TIME}}
    return xr.DataArray(projected, dims=(TRIAL, NEURON, TIME), coords={**coords, NEURON: np.arange(m)},
                        name=recording.name, attrs=dict(recording.attrs))


def _is_lazy(recording):
    from dask import is_dask_collection

    return is_dask_collection(recording)


def _uniform_time(recording):
    if TIME not in recording.coords:
        return False
    steps = np.diff(np.asarray(recording[TIME].values, dtype=float))
    return bool(np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-6))


def _session_name(recording):
    return str(getattr(recording, "attrs", {}).get("session_id", "recording"))
