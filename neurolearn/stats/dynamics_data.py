"""Validation of the dynamics statistics' input: the time-resolved values, the bin width and the inputs."""

from __future__ import annotations

import numpy as np

from neurolearn.data import NEURON, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError, InsufficientDataError

__all__ = ["time_resolved", "input_array"]


def _name(recording):
    return str(getattr(recording, "attrs", {}).get("session_id", "recording"))


def time_resolved(recording, dt, name=None):
    """(trial, neuron, time) values and the bin width, after validation."""
    name = name or _name(recording)
    validate_recording(recording, name=name)
    if recording.dims != (TRIAL, NEURON, TIME):
        raise InsufficientDataError(
            f"not time-resolved: {name}: dynamics statistics expect dims ('trial', 'neuron', 'time'), found "
            f"{recording.dims}; read the recording with a bin_size to get time bins"
        )
    n_bins = recording.sizes[TIME]
    if n_bins < 3:
        raise InsufficientDataError(f"too few time bins: {name}: expected at least 3 time bins, found {n_bins}")
    if dt is None:
        if TIME not in recording.coords:
            raise DataError(f"{name}: expected a 'time' coord (bin centres) or an explicit dt, found neither")
        steps = np.diff(np.asarray(recording[TIME].values, dtype=float))
        if not (np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-6)):
            raise DataError(f"{name}: expected uniformly spaced time bins, found steps from {steps.min()} to "
                            f"{steps.max()}; pass dt to override")
        dt = float(steps[0])
    elif not dt > 0:
        raise DataError(f"{name}: expected dt > 0, found {dt}")
    values = np.asarray(recording.values, dtype=float)
    if not np.isfinite(values).all():  # validate_recording skips this check for dask-backed data
        raise DataError(f"{name}: expected finite responses, found {int((~np.isfinite(values)).sum())} NaN/inf "
                        f"values of {values.size}")
    return values, float(dt)


def input_array(recording, input):
    """The input as an array (trial, time) or (trial, time, channel)."""
    import xarray as xr

    name = _name(recording)
    if isinstance(input, str):
        if input not in recording.coords:
            available = sorted(str(c) for c, v in recording.coords.items() if set(v.dims) == {TRIAL, TIME})
            raise DataError(f"{name}: expected an input coord {input!r} with dims ('trial', 'time'), found "
                            f"(trial, time) coords {available}")
        input = recording.coords[input]
    if not isinstance(input, xr.DataArray):
        raise DataError(f"{name}: expected the input as a coord name or a DataArray, found {type(input).__name__}")
    if input.dims[:2] != (TRIAL, TIME) or input.ndim > 3:
        input = input.transpose(TRIAL, TIME, ...) if {TRIAL, TIME} <= set(input.dims) else input
    if input.dims[:2] != (TRIAL, TIME) or input.ndim > 3:
        raise DataError(f"{name}: expected input dims ('trial', 'time'[, channel]), found {input.dims}")
    if input.shape[:2] != (recording.sizes[TRIAL], recording.sizes[TIME]):
        raise DataError(f"{name}: expected input of shape {(recording.sizes[TRIAL], recording.sizes[TIME])}, "
                        f"found {input.shape[:2]}")
    values = np.asarray(input.values, dtype=float)
    if not np.isfinite(values).all():
        raise DataError(f"{name}: expected a finite input, found NaN/inf")
    return values
