"""Which trials of a session show held-out (novel) stimuli: the documented ``heldout`` trial column, or a column
and the value that means held out, read as declared and never guessed (:mod:`neurolearn.stats.generalization`
measures the error on them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from neurolearn.data import TRIAL
from neurolearn.errors import DataError, plain, shown
from neurolearn.stats.behavior import is_missing_value

__all__ = ["heldout_mask"]


def heldout_mask(recording: xr.DataArray, heldout="heldout") -> np.ndarray:
    """Per-trial True where the trial's stimulus is held out (never used in training).

    Parameters
    ----------
    recording : xarray.DataArray
        One session with a ``trial`` dim.
    heldout : str or mapping
        A boolean (or 0/1) trial column, True = held out; or ``{column: value}`` naming the value that means
        held out, e.g. ``{"is_train": False}``.

    Raises
    ------
    DataError
        The column is missing, or a plain column is not boolean/0-1 (declare the value with a mapping).

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((3, 1)), dims=("trial", "neuron"),
    ...                    coords={"is_train": ("trial", [True, False, True])})
    >>> heldout_mask(rec, {"is_train": False}).tolist()
    [False, True, False]
    """
    if isinstance(heldout, Mapping):
        if len(heldout) != 1:
            raise DataError(f"heldout: expected a column name or {{column: held-out value}}, "
                            f"found {shown(heldout)}")
        column, value = next(iter(heldout.items()))
    else:
        column, value = heldout, None
    if column not in recording.coords or recording.coords[column].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"expected a trial coord {column!r} marking held-out trials (heldout=), "
                        f"available trial coords: {available}")
    raw = np.asarray(recording.coords[column].values)
    if value is not None:
        return raw == value
    if raw.dtype == bool:
        return raw
    if raw.dtype.kind in "iuf" and np.isin(raw, (0, 1)).all():
        return raw.astype(bool)
    if raw.dtype.kind == "f" and np.isin(raw[np.isfinite(raw)], (0, 1)).all():
        # a missing mark is neither 'held out' nor 'trained on': which one is not guessed (adversary F20: the
        # message listed NaN once per missing trial)
        missing = int(np.sum(~np.isfinite(raw)))
        raise DataError(f"expected a 0/1 mark in every trial of the held-out column {column!r}, found {missing} "
                        f"of {raw.size} trials without one (NaN): mark them, or leave them out with where=")
    values = [plain(v) for v in raw.tolist()]
    found = [value for value in dict.fromkeys(values) if not is_missing_value(value)]
    missing = " and missing values" if any(is_missing_value(v) for v in values) else ""
    raise DataError(f"expected a boolean (or 0/1) held-out column {column!r}, found values "
                    f"{sorted(found, key=str)[:5]}{missing}; declare the held-out value, "
                    f"e.g. heldout={{{column!r}: ...}}")
