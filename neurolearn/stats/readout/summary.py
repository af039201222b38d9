"""Readout statistics of every session gathered over dim ``session``, degrading per session, never aborting."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, SESSION, flag_name, validate_recording
from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import estimate_dataset
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.readout.decoding import DEFAULT_PERMUTATIONS, decoder_accuracy, heldout_accuracy
from neurolearn.stats.readout.fisher import fisher_discriminant
from neurolearn.stats.readout.flips import flip_fraction
from neurolearn.stats.readout.maxmargin import DEFAULT_SVM_C, _MarginProblem
from neurolearn.stats.readout.scale import response_scale
from neurolearn.stats.readout.trials import BOOTSTRAP

__all__ = ["readout_summary"]

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
    if not isinstance(recordings, dict) or not recordings:
        raise DataError(f"readout_summary: expected a non-empty dict of session recordings, found {recordings!r:.80}")
    names = [str(k) for k in recordings]
    recs = list(recordings.values())
    for name, rec in zip(names, recs):
        validate_recording(rec, name=f"session {name!r}")
    seed = int(np.random.default_rng(random_state).integers(2**31))
    scale = response_scale(recs)
    n_common = min(rec.sizes[NEURON] for rec in recs)
    shapes = [_Shape(rec, target, by) for rec in recs]
    # Folds over conditions (held-out accuracy, signed distances) need every class in every training fold:
    # at most as many folds as the scarcest class has conditions, the same number in every session that has
    # at least 2 (a session with fewer is flagged, the others keep their common estimand).
    supported = [s.conditions_per_class for s in shapes if s.conditions_per_class >= 2]
    condition_splits = min([n_splits] + supported) if supported else 0
    common = dict(random_state=seed, n_boot=n_boot, level=level)
    per_stat: dict[str, list[xr.Dataset]] = {s: [] for s in READOUT_STATISTICS}
    previous = None
    for name, rec, shape in zip(names, recs, shapes):
        def attempt(stat, compute, _name=name, _shape=shape):
            try:
                problem = _shape.problem(stat)
                if problem:
                    raise InsufficientDataError(problem)
                ds = compute()
            except InsufficientDataError as error:
                reason = _reason(error, rec)
                warn_unsupported(stat, _name, reason)
                ds = _nan_estimate(stat, level, reason)
            per_stat[stat].append(_standard_form(stat, ds, n_boot))
            return ds

        attempt("decoder_accuracy", lambda: decoder_accuracy(
            rec, target=target, by=shape.by, n_splits=min(n_splits, max(shape.fewest_trials_per_class, 2)),
            n_permutations=n_permutations, **common))
        attempt("heldout_accuracy", lambda: heldout_accuracy(
            rec, target=target, by=by, n_splits=condition_splits,
            n_permutations=n_permutations, **common))
        geometry = {}

        def margin_part():
            geometry["problem"] = _MarginProblem(rec, target, by, n_common, scale, seed, n_draws, DEFAULT_SVM_C)
            return geometry["problem"].margin_estimate(n_boot, level, n_refits)

        attempt("margin", margin_part)
        distances = None
        if "problem" in geometry and shape.conditions_per_class >= 2:
            try:
                distances = geometry["problem"].cv_distances(condition_splits)
            except InsufficientDataError:
                distances = None

        def flip_part(_previous=previous, _distances=distances):
            if _previous is None:
                return _nan_estimate("flip_fraction", level, _FIRST_SESSION)
            if _distances is None:
                raise InsufficientDataError(f"fewer than 2 conditions of {by!r} per class of {target!r}, or no "
                                            "margin in this session: no cross-validated signed distances")
            if isinstance(_previous, str):
                raise InsufficientDataError(f"no signed distances in the previous session ({_previous})")
            return flip_fraction(_previous, _distances, n_boot=n_boot, random_state=seed, level=level)

        attempt("flip_fraction", flip_part)
        previous = distances if distances is not None else "its margin or folds were not supported"
        attempt("fisher_discriminant", lambda: fisher_discriminant(
            rec, target=target, by=None, n_splits=min(n_splits, max(shape.fewest_trials_per_class // 2, 2)),
            null_by=shape.by, n_permutations=n_permutations, **common))
    out = _combine(per_stat, level)
    out = out.assign_coords({SESSION: names, "session_index": (SESSION, np.arange(len(names)))})
    out.attrs.update(
        {
            "scale": scale,
            "n_neurons": int(n_common),
            "target": "none" if target is None else target,
            "by": by,
            "n_boot": int(n_boot),
            "n_permutations": int(n_permutations),
            "condition_splits": int(condition_splits),
            "flip_fraction": "relative to the previous session; NaN for the first session",
        }
    )
    return out


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
    message = str(error)
    for prefix in (str(rec.attrs.get("session_id", "")), "recording"):
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
