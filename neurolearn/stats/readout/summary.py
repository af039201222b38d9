"""Readout statistics of every session gathered over dim ``session``, degrading per session, never aborting.

The readout family of :func:`neurolearn.summarize`, in three stages so the per-session work can run anywhere
(see :mod:`neurolearn.stats.families`): :func:`prepare_readout` (what sessions share: one response scale,
the smallest neuron count, the condition folds, one seed), :func:`readout_session` (one session's decoders,
margin and cross-validated signed distances: pure, picklable) and :func:`combine_readout` (``flip_fraction``
of each session against the previous one's distances, the Dataset, and the warnings, in session order).
:func:`readout_summary` runs the three in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, SESSION, TIME, TRIAL, flag_name, validate_recording
from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import estimate_dataset
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.readout.decoding import DEFAULT_PERMUTATIONS, decoder_accuracy, heldout_accuracy
from neurolearn.stats.readout.fisher import fisher_discriminant
from neurolearn.stats.readout.flips import flip_fraction
from neurolearn.stats.readout.maxmargin import DEFAULT_SVM_C, _MarginProblem
from neurolearn.stats.readout.trials import BOOTSTRAP

__all__ = ["readout_summary", "prepare_readout", "readout_session", "combine_readout", "ReadoutContext"]

#: The statistics readout_summary returns, in order.
READOUT_STATISTICS = ("decoder_accuracy", "heldout_accuracy", "margin", "flip_fraction", "fisher_discriminant")
#: Statistics with a permutation null (``_chance``, ``_pvalue`` and the at-chance flag).
_WITH_NULL = ("decoder_accuracy", "heldout_accuracy", "fisher_discriminant")
_WITH_CHANCE = _WITH_NULL + ("margin",)
_FIRST_SESSION = "first session"


def readout_summary(
    recordings: dict[str, xr.DataArray],
    *,
    target: str | None = "target",
    by: str = "stimulus",
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    n_splits: int = 5,
    n_draws: int = 10,
    n_refits: int = 40,
    n_permutations: int = DEFAULT_PERMUTATIONS,
) -> xr.Dataset:
    """Readout statistics of every session, over dim ``session`` (in the order of ``recordings``).

    Variables: ``decoder_accuracy``, ``heldout_accuracy``, ``margin``, ``flip_fraction`` and
    ``fisher_discriminant``, each with ``_se``, ``_ci`` (dim ``ci_bound``, attr ``level``), ``_flag`` (why
    the value is NaN or carries no information; ``""`` where fine) and, when ``n_boot > 0``, ``_boot`` (the
    bootstrap replicates, dims ``(session, bootstrap)``, attr ``resampling="independent"``); the accuracies,
    d' and the margin have ``_chance``, and the accuracies and d' a permutation ``_pvalue``.

    Degrade, don't abort: a statistic a session cannot support (no task label, one class, more than two
    classes for the binary statistics, too few trials or conditions for the folds, one trial per condition
    for the margin) is NaN for that session with the reason in its ``_flag`` and one
    :class:`~neurolearn.stats.flags.StatisticWarning`; every other statistic and session is computed. Folds
    are reduced where that keeps the estimand (decoder: at most the trials of the scarcest class; d': at
    most half of them, so every test fold holds 2 trials of each class; conditions folds: at most the
    conditions of the scarcest class, the same number in every session, attr ``condition_splits``). An
    accuracy or d' at or below its permutation chance keeps its number and interval, and its flag says it
    carries no information (its interval is then not an effect).

    Common ground across sessions: one ``scale`` (:func:`response_scale` of all sessions), one neuron count
    (the smallest session's) for the margin and the signed distances, and the same ``random_state`` seed in
    every session, so identical sessions give identical values. The margin's estimand (the margin of the
    noiseless condition means) does not depend on the trial count, so every session uses all its trials.
    ``flip_fraction`` of session k is relative to session k−1 over the conditions both share (NaN with flag
    ``"first session"`` for the first, without a warning: it is the definition, not a problem of the data).
    The sessions are computed one after another here; :func:`neurolearn.summarize` runs the same
    :func:`readout_session` on its dask scheduler.

    Parameters
    ----------
    recordings : dict of str to xarray.DataArray
        One ``(trial, neuron)`` recording per session, in training order (time-resolved recordings should be
        averaged over ``time`` first, as :func:`neurolearn.summarize` does).
    target : str or None
        Trial coord of the label (``None``: no task label; every statistic is then NaN with that reason).
    by : str
        Trial coord of the conditions (stimuli).
    n_boot : int
        Bootstrap resamples for SEs and intervals (0 skips them). Cost grows little with it: accuracies and d'
        resample held-out predictions, the margin refits at most ``n_refits`` times (its ``_boot`` holds those
        refits and NaN after them).
    random_state : int or numpy.random.Generator, optional
        One seed, used identically in every session.
    level : float
        Interval coverage.
    n_splits : int
        Folds of the cross-validated statistics (reduced per session where needed, see above).
    n_draws, n_refits : int
        Subset draws and refit cap of :func:`~neurolearn.stats.readout.margin`.
    n_permutations : int
        Label permutations behind the chance levels and p-values of the accuracies and d'.

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (coords ``session`` = the dict keys, ``session_index``), ``ci_bound`` and
        ``bootstrap``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([1, -1], 10)
    >>> recs = {f"day{d}": make_recording(np.c_[d * y, rng.standard_normal((20, 5))], n_trials=3,
    ...                                   target=y, noise_sd=0.5, rng=d) for d in range(3)}
    >>> ds = readout_summary(recs, n_boot=20, random_state=0, n_permutations=5)
    >>> ds["session"].values.tolist(), bool(ds["margin"][2] > ds["margin"][0])
    (['day0', 'day1', 'day2'], True)
    >>> ds["flip_fraction_flag"].values.tolist()[0]
    'first session'
    """
    context = prepare_readout(recordings, target=target, by=by, n_boot=n_boot, random_state=random_state,
                              level=level, n_splits=n_splits, n_draws=n_draws, n_refits=n_refits,
                              n_permutations=n_permutations)
    parts = [readout_session(key, rec, context) for key, rec in zip(context.keys, recordings.values())]
    return combine_readout(parts, context)


@dataclass(frozen=True)
class ReadoutContext:
    """What the sessions' readout statistics share (see :func:`readout_summary`)."""

    keys: tuple
    target: str | None
    by: str
    n_boot: int
    level: float
    n_splits: int
    n_draws: int
    n_refits: int
    n_permutations: int
    seed: int
    scale: float
    n_common: int
    condition_splits: int
    average_time: bool = False


def prepare_readout(recordings, *, target="target", by="stimulus", n_boot=200, random_state=None, level=0.95,
                    n_splits=5, n_draws=10, n_refits=40, n_permutations=DEFAULT_PERMUTATIONS,
                    average_time=False, map_sessions=None) -> ReadoutContext:
    """The cross-session pieces: the response scale (one cheap reduction per session, through
    ``map_sessions(function, items)`` if given), the common neuron count and condition folds (from coords)
    and the seed. ``average_time``: sessions' responses are averaged over ``time`` first (in each session's
    own task, as :func:`neurolearn.summarize` does).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[0.0, 0.0], [2.0, 4.0]], dims=("trial", "neuron"),
    ...                    coords={"target": ("trial", [1, -1])})
    >>> context = prepare_readout({"a": rec}, by="target", random_state=0)
    >>> context.scale, context.n_common  # sqrt of the mean of the variances 1 and 4
    (1.5811388300841898, 2)
    """
    if not isinstance(recordings, dict) or not recordings:
        raise DataError(f"readout_summary: expected a non-empty dict of session recordings, found {recordings!r:.80}")
    keys = tuple(str(k) for k in recordings)
    recs = list(recordings.values())
    mapper = map_sessions or (lambda function, items: [function(item) for item in items])
    # the pooled unit of response_scale: each neuron of each session counts once
    variances = mapper(_session_variances, [(key, rec, average_time) for key, rec in zip(keys, recs)])
    seed = int(np.random.default_rng(random_state).integers(2**31))
    scale = float(np.sqrt(np.mean(np.concatenate(variances))))
    if not scale > 0:
        raise DataError("response_scale: expected responses that vary across trials, found zero variance")
    shapes = [_Shape(_classes_as_codes(rec, target), target, by) for rec in recs]
    # Folds over conditions (held-out accuracy, signed distances) need every class in every training fold:
    # at most as many folds as the scarcest class has conditions, the same number in every session that has
    # at least 2 (a session with fewer is flagged, the others keep their common estimand).
    supported = [s.conditions_per_class for s in shapes if s.conditions_per_class >= 2]
    return ReadoutContext(keys=keys, target=target, by=by, n_boot=n_boot, level=level, n_splits=n_splits,
                          n_draws=n_draws, n_refits=n_refits, n_permutations=n_permutations, seed=seed,
                          scale=scale, n_common=min(rec.sizes[NEURON] for rec in recs),
                          condition_splits=min([n_splits] + supported) if supported else 0,
                          average_time=average_time)


def _session_variances(item):
    key, rec, average_time = item
    rec = _responses(rec, average_time)
    validate_recording(rec, name=f"session {key!r}")
    return np.asarray(rec.var(TRIAL).values, float).ravel()


def _responses(rec, average_time):
    return rec.mean(TIME, keep_attrs=True) if average_time and TIME in rec.dims else rec


def readout_session(key, recording: xr.DataArray, context: ReadoutContext) -> dict:
    """One session's readout statistics except ``flip_fraction`` (pure: reasons are returned, not warned).

    Returns ``{"statistics": {name: Dataset}, "reasons": [(name, reason)], "distances": DataArray or None,
    "flip_problem": str, "session_id": str}``.
    """
    c = context
    rec = _responses(recording, c.average_time)
    validate_recording(rec, name=f"session {key!r}")
    rec = _classes_as_codes(rec, c.target)
    shape = _Shape(rec, c.target, c.by)
    common = dict(random_state=c.seed, n_boot=c.n_boot, level=c.level)
    statistics, reasons = {}, []

    def attempt(stat, compute):
        try:
            problem = shape.problem(stat)
            if problem:
                raise InsufficientDataError(problem)
            ds = compute()
        except InsufficientDataError as error:
            reason = _reason(error, rec)
            reasons.append((stat, reason))
            ds = _nan_estimate(stat, c.level, reason)
        statistics[stat] = _standard_form(stat, ds, c.n_boot)

    attempt("decoder_accuracy", lambda: decoder_accuracy(
        rec, target=c.target, by=shape.by, n_splits=min(c.n_splits, max(shape.fewest_trials_per_class, 2)),
        n_permutations=c.n_permutations, **common))
    attempt("heldout_accuracy", lambda: heldout_accuracy(
        rec, target=c.target, by=c.by, n_splits=c.condition_splits, n_permutations=c.n_permutations,
        **common))
    geometry = {}

    def margin_part():
        geometry["problem"] = _MarginProblem(rec, c.target, c.by, c.n_common, c.scale, c.seed, c.n_draws,
                                             DEFAULT_SVM_C)
        return geometry["problem"].margin_estimate(c.n_boot, c.level, c.n_refits)

    attempt("margin", margin_part)
    distances = None
    if "problem" in geometry and shape.conditions_per_class >= 2:
        try:
            distances = geometry["problem"].cv_distances(c.condition_splits)
        except InsufficientDataError:
            distances = None
    attempt("fisher_discriminant", lambda: fisher_discriminant(
        rec, target=c.target, by=None, n_splits=min(c.n_splits, max(shape.fewest_trials_per_class // 2, 2)),
        null_by=shape.by, n_permutations=c.n_permutations, **common))
    return {"statistics": statistics, "reasons": reasons, "distances": distances,
            "flip_problem": shape.problem("flip_fraction"),
            "session_id": str(rec.attrs.get("session_id", ""))}


def combine_readout(parts, context: ReadoutContext, map_sessions=None) -> xr.Dataset:
    """``flip_fraction`` of every session against the previous one (through ``map_sessions`` if given), the
    statistics over ``session`` and one warning per (statistic, session) the data cannot support."""
    mapper = map_sessions or (lambda function, items: [function(item) for item in items])
    items, previous = [], None
    for part in parts:
        items.append((part["flip_problem"], previous, part["distances"], part["session_id"], context))
        previous = (part["distances"] if part["distances"] is not None
                    else "its margin or folds were not supported")
    flips = mapper(_flip_part, items)
    per_stat: dict[str, list[xr.Dataset]] = {s: [] for s in READOUT_STATISTICS}
    for key, part, (flip, flip_reason) in zip(context.keys, parts, flips):
        reasons = dict(part["reasons"])
        if flip_reason:
            reasons["flip_fraction"] = flip_reason
        for stat in READOUT_STATISTICS:
            if stat in reasons:
                warn_unsupported(stat, key, reasons[stat])
            per_stat[stat].append(flip if stat == "flip_fraction" else part["statistics"][stat])
    out = _combine(per_stat, context.level)
    out = out.assign_coords({SESSION: list(context.keys), "session_index": (SESSION, np.arange(len(parts)))})
    out.attrs.update(
        {
            "scale": context.scale,
            "n_neurons": int(context.n_common),
            "target": "none" if context.target is None else context.target,
            "by": context.by,
            "n_boot": int(context.n_boot),
            "n_permutations": int(context.n_permutations),
            "condition_splits": int(context.condition_splits),
            "flip_fraction": "relative to the previous session; NaN for the first session",
        }
    )
    return out


def _flip_part(item):
    """flip_fraction of one session: (standard-form Dataset, reason or "")."""
    problem, previous, distances, session_id, c = item
    try:
        if problem:
            raise InsufficientDataError(problem)
        if previous is None:
            ds = _nan_estimate("flip_fraction", c.level, _FIRST_SESSION)
        elif distances is None:
            raise InsufficientDataError(f"fewer than 2 conditions of {c.by!r} per class of {c.target!r}, or "
                                        "no margin in this session: no cross-validated signed distances")
        elif isinstance(previous, str):
            raise InsufficientDataError(f"no signed distances in the previous session ({previous})")
        elif not (np.isfinite(previous.values).all() and np.isfinite(distances.values).all()):
            raise InsufficientDataError("non-finite cross-validated signed distances in this or the previous "
                                        "session")
        else:
            ds = flip_fraction(previous, distances, n_boot=c.n_boot, random_state=c.seed, level=c.level)
        reason = ""
    except InsufficientDataError as error:
        reason = _strip(str(error), session_id)
        ds = _nan_estimate("flip_fraction", c.level, reason)
    return _standard_form("flip_fraction", ds, c.n_boot), reason


def _classes_as_codes(rec, target):
    """Two float label values (0.2 / 0.7) are two classes: coded 0/1 for the classifiers, which read
    non-integral floats as a continuous target."""
    if target is None or target not in rec.coords or rec.coords[target].dims != ("trial",):
        return rec
    labels = np.asarray(rec.coords[target].values)
    if labels.dtype.kind != "f" or not np.isfinite(labels).all() or np.allclose(labels, np.round(labels)):
        return rec
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size != 2:
        return rec
    return rec.assign_coords({target: ("trial", codes.astype(int))})


class _Shape:
    """What one session offers the readout statistics: classes, trials per class, conditions per class."""

    def __init__(self, rec, target, by):
        self.by = by if by in rec.coords and rec.coords[by].dims == ("trial",) else None
        self.target = target
        self.no_label = None
        if target is None:
            self.no_label = "no task label (target=None)"
        elif target not in rec.coords or rec.coords[target].dims != ("trial",):
            self.no_label = f"no task label (no trial coord {target!r})"
        self.classes, self.fewest_trials_per_class, self.conditions_per_class = 0, 0, 0
        if self.no_label is None:
            labels = np.asarray(rec.coords[target].values)
            if labels.dtype.kind == "f" and np.isfinite(labels).all() and not np.allclose(labels, np.round(labels)):
                # more than two non-integral values: a regression target (the kernel statistics take it as
                # one column); a classifier has no classes to decode
                self.no_label = f"continuous task label {target!r} (regression target): the decoders need classes"
        if self.no_label is None:
            labels = np.asarray(rec.coords[target].values)
            classes, counts = np.unique(labels, return_counts=True)
            self.classes, self.fewest_trials_per_class = classes.size, int(counts.min())
            if self.by is not None:
                groups = np.asarray(rec.coords[by].values)
                self.conditions_per_class = int(min(np.unique(groups[labels == c]).size for c in classes))

    def problem(self, stat):
        """Why ``stat`` cannot be computed for this session before trying, or ``""``."""
        if self.no_label:
            return self.no_label
        if self.classes < 2:
            return f"one class of {self.target!r}"
        if stat in ("margin", "flip_fraction", "fisher_discriminant") and self.classes > 2:
            return f"more than two classes of {self.target!r} ({self.classes}; not binary)"
        if stat in ("heldout_accuracy", "margin", "flip_fraction") and self.by is None:
            return "no condition coord"
        if stat == "heldout_accuracy" and self.conditions_per_class < 2:
            return f"fewer than 2 conditions per class of {self.target!r}"
        if stat == "decoder_accuracy" and self.fewest_trials_per_class < 2:
            return f"fewer than 2 trials of a class of {self.target!r}"
        if stat == "fisher_discriminant" and self.fewest_trials_per_class < 4:
            return f"fewer than 4 trials of a class of {self.target!r} (2 per test and training fold)"
        return ""


def _reason(error, rec):
    """The error's reason without the recording's name (the warning and the flag's session say it)."""
    return _strip(str(error), str(rec.attrs.get("session_id", "")))


def _strip(message, session_id):
    for prefix in (session_id, "recording"):
        if prefix and message.startswith(prefix + ": "):
            return message[len(prefix) + 2:]
    return message


def _nan_estimate(name, level, reason):
    ds = estimate_dataset(name, np.nan, np.nan, (np.nan, np.nan), level=level)
    ds[flag_name(name)] = ((), reason)
    return ds


def _standard_form(stat, ds, n_boot):
    """The same variables for every session: value, _se, _ci, _flag, [_chance], [_pvalue], [_boot]."""
    keep = [stat, f"{stat}_se", f"{stat}_ci"]
    out = ds[keep].copy()
    out.attrs = dict(ds.attrs)
    flag = flag_name(stat)
    out[flag] = ((), str(ds[flag].values) if flag in ds else "")
    for extra in (("_chance",) if stat in _WITH_CHANCE else ()) + (("_pvalue",) if stat in _WITH_NULL else ()):
        out[stat + extra] = ((), float(ds[stat + extra]) if stat + extra in ds else np.nan)
    if n_boot > 0:
        # One bootstrap dim for every statistic: the margin's refits fill its first entries, NaN after them.
        boot = np.full(n_boot, np.nan)
        if f"{stat}_boot" in ds:
            values = np.asarray(ds[f"{stat}_boot"].values, float)[:n_boot]
            boot[:values.size] = values
        out[f"{stat}_boot"] = ((BOOTSTRAP,), boot, {"resampling": "independent"})
    return out


def _combine(per_stat, level):
    parts = []
    for stat, datasets in per_stat.items():
        attrs = next((d.attrs for d in datasets if d.attrs.get("estimator")), {})
        combined = xr.concat(datasets, dim=SESSION, data_vars="all", coords="minimal", compat="override",
                             combine_attrs="drop")
        for var in combined.data_vars:
            # Only descriptions: numeric attrs of the first session (shrinkage, fold values) are not everyone's.
            combined[var].attrs.update({k: v for k, v in attrs.items() if isinstance(v, str)})
        combined[f"{stat}_ci"].attrs["level"] = level
        if f"{stat}_boot" in combined:
            combined[f"{stat}_boot"].attrs["resampling"] = "independent"
        parts.append(combined)
    out = xr.merge(parts, compat="override", combine_attrs="drop")
    for part in parts:  # merge drops variable attrs; carry each statistic's description over
        for var in part.data_vars:
            out[var].attrs = dict(part[var].attrs)
    return out
