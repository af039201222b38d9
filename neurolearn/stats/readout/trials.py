"""Single-trial responses with their labels and conditions, validated once for every readout statistic."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, TRIAL, validate_recording
from neurolearn.errors import DataError


class _TrialTable:
    """Single-trial responses with their labels and conditions, validated once."""

    def __init__(self, recording, target, by, need_by):
        self.name = str(getattr(recording, "attrs", {}).get("session_id", "recording")) if isinstance(
            recording, xr.DataArray) else "recording"
        validate_recording(recording, name=self.name)
        if recording.dims != (TRIAL, NEURON):
            raise DataError(
                f"{self.name}: readout statistics expect dims ('trial', 'neuron'), found {recording.dims}; "
                "average or select time bins first (e.g. recording.mean('time'))"
            )
        self.labels = np.asarray(_trial_coord(recording, target, self.name))
        self.groups = np.asarray(_trial_coord(recording, by, self.name)) if (by is not None) else None
        if by is None and need_by:
            raise DataError(f"{self.name}: expected a condition coord `by`, found None")
        order = np.argsort(np.asarray(recording[NEURON].values), kind="stable") if NEURON in recording.coords \
            else np.arange(recording.sizes[NEURON])
        self.neuron_ids = (np.asarray(recording[NEURON].values)[order] if NEURON in recording.coords else order)
        self.X = np.asarray(recording.values, dtype=float)[:, order]
        if not np.isfinite(self.X).all():  # validate_recording skips this check for dask-backed data
            bad = int((~np.isfinite(self.X)).sum())
            raise DataError(f"{self.name}: expected finite responses, found {bad} NaN/inf values of {self.X.size}")
        self.classes, counts = np.unique(self.labels, return_counts=True)
        self.class_counts = counts
        self.target = target

    def require_classes(self, at_least=None, exactly=None):
        n = self.classes.size
        if (exactly is not None and n != exactly) or (at_least is not None and n < at_least):
            wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
            raise DataError(
                f"{self.name}: expected {wanted} classes in trial coord {self.target!r}, found {n} "
                f"({self.classes.tolist()[:10]})"
            )

    def require_trials_per_class(self, n_splits, what):
        if self.class_counts.min() < n_splits:
            raise DataError(
                f"{self.name}: {what} need at least n_splits={n_splits} trials of every class of "
                f"{self.target!r}, found {dict(zip(self.classes.tolist(), self.class_counts.tolist()))}"
            )


def _trial_coord(recording, coord, name):
    if coord not in recording.coords or recording.coords[coord].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"{name}: expected a trial coord {coord!r}, found trial coords {available}")
    return recording.coords[coord].values


def _fewest_conditions_per_class(recording, target, by, name):
    labels = np.asarray(_trial_coord(recording, target, name))
    groups = np.asarray(_trial_coord(recording, by, name))
    return int(min(np.unique(groups[labels == label]).size for label in np.unique(labels)))


def _fewest_trials(recording, by, name):
    return int(np.unique(np.asarray(_trial_coord(recording, by, name)), return_counts=True)[1].min())


def _seed(rng):
    return int(rng.integers(2**31))
