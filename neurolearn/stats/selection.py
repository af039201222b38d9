"""Which trials a summary uses: a query on trial columns, a declared target coding, NaN labels, sparse
conditions. Each exclusion is counted in one warning per session; nothing is dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import xarray as xr

from neurolearn.data import TRIAL, where_mask
from neurolearn.errors import DataError
from neurolearn.stats.behavior import _key, coding_column

__all__ = ["select_trials", "prepare_session", "NAN_POLICIES"]

NAN_POLICIES = ("omit", "raise")


def select_trials(recording: xr.DataArray, where: str | None, *, session_id: str = "session") -> xr.DataArray:
    """Trials for which the pandas-query expression ``where`` on the trial coords is true.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
    ...                    coords={"contrast": ("trial", [0.0, 0.25, 0.5, 1.0])})
    >>> select_trials(rec, "contrast > 0.3").sizes["trial"]
    2
    """
    if where is None:
        return recording
    columns = {str(name): np.asarray(coord.values) for name, coord in recording.coords.items()
               if coord.dims == (TRIAL,)}
    keep = where_mask(columns, where, context=f"session {session_id!r}", table="the trial coords")
    return recording.isel({TRIAL: np.flatnonzero(keep)})


def prepare_session(recording: xr.DataArray, session_id: str, *, target, by: str, where=None, min_trials=None,
                    nan_policy: str = "omit") -> tuple[xr.DataArray, str | None]:
    """The trials a summary of one session uses, and the name of the coord holding its task label.

    Applies ``where``; maps a declared target coding ``{column: {value: label}}`` (unmapped values are
    excluded); excludes trials whose label or condition is NaN (``nan_policy="omit"``, counted) or refuses
    them (``"raise"``); drops conditions with fewer than ``min_trials`` trials (named in a warning).

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((5, 1)), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1, 2]),
    ...                            "side": ("trial", ["L", "L", "R", "R", "?"])})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out, name = prepare_session(rec, "day1", target={"side": {"L": -1, "R": 1}}, by="stimulus")
    >>> name, out.coords["side"].values.tolist()
    ('side', [-1, -1, 1, 1])
    """
    if nan_policy not in NAN_POLICIES:
        raise DataError(f"nan_policy: expected one of {NAN_POLICIES}, found {nan_policy!r}")
    recording = select_trials(recording, where, session_id=session_id)
    target_name = None if target is None else coding_column(target)
    for role, column in (("by", by), ("target", target_name)):
        if column is not None and (column not in recording.coords or recording.coords[column].dims != (TRIAL,)):
            available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
            raise DataError(f"session {session_id!r}: expected a trial coord {column!r} ({role}=), "
                            f"available trial coords: {available}")
    excluded = {}
    if isinstance(target, Mapping):
        mapping = {_key(key): label for key, label in target[target_name].items()}
        raw = np.asarray(recording.coords[target_name].values).tolist()
        mapped = [mapping.get(_key(value), None) for value in raw]
        keep = np.array([value is not None for value in mapped])
        excluded["a target value outside the declared mapping"] = int((~keep).sum())
        recording = recording.assign_coords({target_name: (TRIAL, np.array(
            [value if value is not None else mapped[np.argmax(keep)] for value in mapped]))})
        recording = recording.isel({TRIAL: np.flatnonzero(keep)})
    for column in dict.fromkeys(c for c in (by, target_name) if c is not None):
        missing = _missing(np.asarray(recording.coords[column].values))
        if missing.any():
            if nan_policy == "raise":
                raise DataError(f"session {session_id!r}: {int(missing.sum())} trials have a missing {column!r} "
                                "(nan_policy='raise'); pass nan_policy='omit' to exclude them")
            excluded[f"a missing {column!r}"] = int(missing.sum())
            recording = recording.isel({TRIAL: np.flatnonzero(~missing)})
    counted = {reason: n for reason, n in excluded.items() if n}
    if counted:
        warnings.warn(f"session {session_id!r}: excluded " + "; ".join(
            f"{n} trials with {reason}" for reason, n in counted.items()), stacklevel=3)
    if recording.sizes[TRIAL] == 0:
        raise DataError(f"session {session_id!r}: no trial left after excluding {counted}")
    if min_trials is not None:
        if isinstance(min_trials, bool) or not isinstance(min_trials, (int, np.integer)) or min_trials < 1:
            raise DataError(f"min_trials: expected a positive integer, found {min_trials!r}")
        labels = np.asarray(recording.coords[by].values)
        conditions, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        sparse = conditions[counts < min_trials]
        if sparse.size:
            warnings.warn(f"session {session_id!r}: dropped {sparse.size} conditions of {by!r} with fewer than "
                          f"{min_trials} trials: {sparse.tolist()[:10]}", stacklevel=3)
            recording = recording.isel({TRIAL: np.flatnonzero(counts[codes] >= min_trials)})
            if recording.sizes[TRIAL] == 0:
                raise DataError(f"session {session_id!r}: no condition of {by!r} has {min_trials} trials")
    return recording, target_name


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([value is None or (isinstance(value, float) and np.isnan(value)) for value in values.tolist()],
                        dtype=bool)
    return np.zeros(values.shape, dtype=bool)
