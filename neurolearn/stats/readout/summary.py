"""Readout statistics of every session gathered over dim ``session``."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, SESSION, validate_recording
from neurolearn.errors import DataError
from neurolearn.stats.estimate import estimate_dataset
from neurolearn.stats.readout.decoding import decoder_accuracy, heldout_accuracy
from neurolearn.stats.readout.fisher import fisher_discriminant
from neurolearn.stats.readout.flips import flip_fraction
from neurolearn.stats.readout.maxmargin import DEFAULT_SVM_C, _MarginProblem
from neurolearn.stats.readout.scale import response_scale
from neurolearn.stats.readout.trials import _fewest_conditions_per_class, _fewest_trials, _trial_coord

__all__ = ["readout_summary"]


def readout_summary(
    recordings: dict[str, xr.DataArray],
    *,
    target: str = "target",
    by: str = "stimulus",
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    n_splits: int = 5,
    n_draws: int = 10,
    n_refits: int = 40,
) -> xr.Dataset:
    """Readout statistics of every session, over dim ``session`` (in the order of ``recordings``).

    Variables: ``decoder_accuracy``, ``heldout_accuracy``, ``margin``, ``flip_fraction``,
    ``fisher_discriminant``, each with ``_se`` and ``_ci`` (dim ``ci_bound``, attr ``level``), plus
    ``decoder_accuracy_chance``, ``heldout_accuracy_chance``, ``margin_chance`` and
    ``fisher_discriminant_chance``.

    Common ground across sessions: one ``scale`` (:func:`response_scale` of all sessions), one neuron count
    (the smallest session's) and one trial count per condition (the smallest over sessions and conditions)
    for the margin and the signed distances, and the same ``random_state`` seed in every session, so
    identical sessions give identical values. ``flip_fraction`` of session k is
    relative to session k−1 over the conditions both share (NaN for the first session). Folds over
    conditions (held-out accuracy, signed distances) number at most the conditions of the scarcest class
    (attr ``condition_splits``); with fewer than 2 those statistics are NaN, with a warning. ``margin``,
    ``flip_fraction`` and ``fisher_discriminant`` need a binary ``target``; with more classes they are NaN
    and the Dataset attrs say so. Each variable's attrs give its estimator and bias handling; note that the
    margin estimates the margin of ``n_trials``-trial means (attr ``n_trials``), not of noiseless means
    (see :func:`margin`).

    Parameters
    ----------
    recordings : dict of str to xarray.DataArray
        One ``(trial, neuron)`` recording per session, in training order (time-resolved recordings should be
        averaged over ``time`` first, as :func:`neurolearn.summarize` does).
    target, by : str
        Trial coords of the label and of the conditions (stimuli).
    n_boot : int
        Bootstrap resamples for SEs and intervals (0 skips them). Cost grows little with it: accuracies and d'
        resample held-out predictions, the margin refits at most ``n_refits`` times.
    random_state : int or numpy.random.Generator, optional
        One seed, used identically in every session.
    level : float
        Interval coverage.
    n_splits : int
        Folds of the cross-validated statistics.
    n_draws, n_refits : int
        Subset draws and refit cap of :func:`margin`.

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (coords ``session`` = the dict keys, ``session_index``) and ``ci_bound``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([1, -1], 10)
    >>> recs = {f"day{d}": make_recording(np.c_[d * y, rng.standard_normal((20, 5))], n_trials=3,
    ...                                   target=y, noise_sd=0.5, rng=d) for d in range(3)}
    >>> ds = readout_summary(recs, n_boot=20, random_state=0)
    >>> ds["session"].values.tolist(), bool(ds["margin"][2] > ds["margin"][0])
    (['day0', 'day1', 'day2'], True)
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
    trials_common = min(_fewest_trials(rec, by, f"session {n!r}") for n, rec in zip(names, recs))
    binary = all(np.unique(np.asarray(_trial_coord(rec, target, f"session {n!r}"))).size == 2
                 for n, rec in zip(names, recs))
    # Folds over conditions (held-out accuracy, signed distances) need every class in every training fold:
    # use at most as many folds as the scarcest class has conditions, the same number in every session.
    condition_splits = min([n_splits] + [_fewest_conditions_per_class(rec, target, by, f"session {n!r}")
                                         for n, rec in zip(names, recs)])
    notes = []
    if condition_splits < 2:
        notes.append(f"a class of {target!r} has fewer than 2 conditions of {by!r} in some session: "
                     "heldout_accuracy and flip_fraction are NaN")
    per_stat: dict[str, list[xr.Dataset]] = {s: [] for s in
                                             ("decoder_accuracy", "heldout_accuracy", "margin",
                                              "flip_fraction", "fisher_discriminant")}
    previous = None
    for name, rec in zip(names, recs):
        common = dict(target=target, random_state=seed, n_boot=n_boot, level=level)
        per_stat["decoder_accuracy"].append(decoder_accuracy(rec, by=by, n_splits=n_splits, **common))
        per_stat["heldout_accuracy"].append(
            heldout_accuracy(rec, by=by, n_splits=condition_splits, **common) if condition_splits >= 2
            else _nan_estimate("heldout_accuracy", level, True))
        if binary:
            problem = _MarginProblem(rec, target, by, n_common, scale, seed, n_draws, DEFAULT_SVM_C,
                                     trials_common)
            per_stat["margin"].append(problem.margin_estimate(n_boot, level, n_refits))
            distances = problem.cv_distances(condition_splits) if condition_splits >= 2 else None
            if previous is None or distances is None:
                per_stat["flip_fraction"].append(_nan_estimate("flip_fraction", level))
            else:
                per_stat["flip_fraction"].append(
                    flip_fraction(previous, distances, n_boot=n_boot, random_state=seed, level=level)[
                        ["flip_fraction", "flip_fraction_ci", "flip_fraction_se"]]
                )
            previous = distances
            per_stat["fisher_discriminant"].append(
                fisher_discriminant(rec, by=None, n_splits=n_splits, **common)
            )
        else:
            for stat in ("margin", "flip_fraction", "fisher_discriminant"):
                per_stat[stat].append(_nan_estimate(stat, level, stat != "flip_fraction"))
    parts = []
    for stat, datasets in per_stat.items():
        attrs = next((d.attrs for d in datasets if d.attrs), {})
        combined = xr.concat(datasets, dim=SESSION, data_vars="all", coords="minimal", compat="override",
                             combine_attrs="drop")
        for var in combined.data_vars:
            # Only descriptions: numeric attrs of the first session (shrinkage, fold values) are not everyone's.
            combined[var].attrs.update({k: v for k, v in attrs.items() if isinstance(v, str)})
        combined[f"{stat}_ci"].attrs["level"] = level
        parts.append(combined)
    out = xr.merge(parts, compat="override", combine_attrs="drop")
    for part in parts:  # merge drops variable attrs; carry each statistic's description over
        for var in part.data_vars:
            out[var].attrs = dict(part[var].attrs)
    out = out.assign_coords({SESSION: names, "session_index": (SESSION, np.arange(len(names)))})
    out.attrs.update(
        {
            "scale": scale,
            "n_neurons": int(n_common),
            "n_trials": int(trials_common),
            "target": target,
            "by": by,
            "n_boot": int(n_boot),
            "flip_fraction": "relative to the previous session; NaN for the first session",
        }
    )
    out.attrs["condition_splits"] = int(condition_splits)
    if not binary:
        notes.append(f"target {target!r} is not binary in every session: margin, flip_fraction and "
                     "fisher_discriminant are NaN")
    if notes:
        out.attrs["note"] = "; ".join(notes)
        for message in notes:
            warnings.warn(message, stacklevel=2)
    return out


def _nan_estimate(name, level, with_chance=False):
    return estimate_dataset(name, np.nan, np.nan, (np.nan, np.nan), level=level,
                            chance=np.nan if with_chance else None)
