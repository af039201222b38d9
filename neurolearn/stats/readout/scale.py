"""One common unit for responses across sessions."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import TRIAL, validate_recording
from neurolearn.errors import DataError

__all__ = ["response_scale"]


def response_scale(recordings) -> float:
    """One common unit for responses: the root mean over neurons of the across-trial variance.

    Pooled over all given recordings (each neuron of each session counts once), so passing every session
    yields one number that standardises them all the same way. Across-trial variance includes stimulus
    signal and trial noise.

    Parameters
    ----------
    recordings : xarray.DataArray or dict or sequence of them

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.array([[0.0, 0.0], [2.0, 4.0]]), dims=("trial", "neuron"))
    >>> response_scale(rec)  # variances 1 and 4 -> sqrt(2.5)
    1.5811388300841898
    """
    if isinstance(recordings, xr.DataArray):
        recordings = [recordings]
    elif isinstance(recordings, dict):
        recordings = list(recordings.values())
    variances = []
    for k, rec in enumerate(recordings):
        validate_recording(rec, name=str(rec.attrs.get("session_id", f"recording {k}")))
        variances.append(np.asarray(rec.var(TRIAL).values, float).ravel())
    value = float(np.sqrt(np.mean(np.concatenate(variances))))
    if not value > 0:
        raise DataError("response_scale: expected responses that vary across trials, found zero variance")
    return value
