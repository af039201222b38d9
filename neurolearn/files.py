"""The plain files neurolearn writes: statistics as NetCDF (``.nc``), fits as JSON.

Statistics are the xarray Dataset :func:`neurolearn.summarize` returns; fits are
:meth:`neurolearn.fitting.FitResult.to_dict` dictionaries, read back as
:class:`~neurolearn.fit_records.FitRecord`. The ``neurolearn`` command and the demo read and
write them through these functions, so a file written by one is read by the other. A file that is missing or
not what it should be raises :class:`~neurolearn.errors.DataError` naming it.

Examples
--------
>>> import tempfile, numpy as np, xarray as xr
>>> stats = xr.Dataset({"behavior": ("session", np.array([0.5, 0.75]))}, coords={"session": ["d0", "d1"]},
...                    attrs={"corrected": True})
>>> folder = tempfile.mkdtemp()
>>> back = read_statistics(write_statistics(stats, folder + "/stats.nc"))
>>> back.behavior.values.tolist(), back.attrs["corrected"]
([0.5, 0.75], 'true')
>>> (fit,) = read_fits(write_fits([{"model": "lazy-rich", "aic": 1.5}], folder + "/fits.json"))
>>> fit.model_name, fit.aic, dict(fit)
('lazy-rich', 1.5, {'model': 'lazy-rich', 'aic': 1.5})
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.fit_records import FitRecord

__all__ = ["write_statistics", "read_statistics", "write_fits", "read_fits"]


def write_statistics(stats, path) -> Path:
    """Write a statistics Dataset to NetCDF (``.nc``) and return the path.

    NetCDF attributes hold only strings and numbers, so other attribute values (dicts, tuples, booleans,
    None) are stored as JSON text; the values of the statistics are untouched. Uses xarray's scipy backend
    (NetCDF 3), which needs no extra library. Parent folders are created; a directory at ``path`` is refused
    (never replaced) and a path that cannot be written is reported, both as :class:`DataError` naming it.
    """
    if not isinstance(stats, xr.Dataset):
        raise DataError(f"statistics: expected an xarray.Dataset, found {type(stats).__name__}")
    clean = stats.copy()
    clean.attrs = _netcdf_attrs(stats.attrs)
    for name in list(clean.variables):
        clean[name].attrs = _netcdf_attrs(stats[name].attrs)
        clean[name].encoding = {}
    path = _writable(path, "statistics (.nc)")
    try:
        clean.to_netcdf(path, engine="scipy")
    except OSError as error:
        raise DataError(f"{path}: cannot write statistics ({one_line(error)})") from error
    return path


def read_statistics(path) -> xr.Dataset:
    """Read a statistics file written by :func:`write_statistics` (:class:`DataError` naming it if not)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected a statistics file (.nc), found no such file")
    try:
        return xr.load_dataset(path, engine="scipy")
    except (ValueError, TypeError, OSError) as error:
        raise DataError(
            f"{path}: expected a NetCDF statistics file written by 'neurolearn summarize', found an "
            f"unreadable file ({one_line(error)})"
        ) from error


def write_fits(results, path) -> Path:
    """Write fits as JSON: one ``FitResult.to_dict()`` object, or a list of them for several fits.

    ``results`` is a sequence of :class:`~neurolearn.fitting.FitResult`, records or their dictionaries.
    Parent folders are created; anything else in ``results``, a directory at ``path`` (never replaced) or a
    path that cannot be written raises :class:`DataError` naming it.
    """
    try:
        dicts = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in results]
    except (TypeError, ValueError):
        dicts = None
    if dicts is None or not all(isinstance(d, dict) for d in dicts):
        raise DataError(f"fits: expected FitResults or their to_dict() dictionaries, found {results!r:.80}")
    payload = dicts[0] if len(dicts) == 1 else dicts
    text = json.dumps(payload, indent=2, default=_json_default, allow_nan=True)
    path = _writable(path, "fits (.json)")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DataError(f"{path}: cannot write fits ({one_line(error)})") from error
    return path


def read_fits(path) -> list[FitRecord]:
    """The fits in a JSON file written by :func:`write_fits`, as :class:`~neurolearn.fit_records.FitRecord`.

    Always a list. Each record is the stored dictionary (``fit["params"]``) and has the attributes of a
    :class:`~neurolearn.fitting.FitResult` (``fit.params``, ``fit.predicted`` ...).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected a fits file (.json), found no such file")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: expected JSON written by 'neurolearn fit', found invalid JSON ({error})"
        ) from error
    fits = payload if isinstance(payload, list) else [payload]
    for fit in fits:
        if not isinstance(fit, dict) or "model" not in fit:
            raise DataError(
                f"{path}: expected FitResult dictionaries with a 'model' key, found {type(fit).__name__}"
            )
    return [FitRecord(fit) for fit in fits]


def one_line(error: BaseException) -> str:
    """An exception as one line of text (an OSError as ``file: reason``)."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split()) or type(error).__name__


def _writable(path, what: str) -> Path:
    """``path`` with its parent folders created, refusing a directory (never replaced) with :class:`DataError`."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: expected a path to write {what} to, found a directory (it is not replaced)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{path}: cannot write {what.split(' (')[0]} ({one_line(error)})") from error
    return path


def _netcdf_attrs(attrs: dict) -> dict:
    clean = {}
    for key, value in attrs.items():
        if isinstance(value, bool) or value is None:
            clean[key] = json.dumps(value)
        elif isinstance(value, (str, int, float)):
            clean[key] = value
        else:
            try:
                array = np.asarray(value)
                if array.dtype.kind in "iuf" and array.ndim <= 1:
                    clean[key] = array
                    continue
            except (ValueError, TypeError):
                pass
            clean[key] = json.dumps(value, default=_json_default)
    return clean


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
