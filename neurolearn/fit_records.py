"""A fit as the report, the CLI and the figures read it: :class:`FitRecord`, from memory or from JSON alike.

:meth:`neurolearn.fitting.FitResult.to_dict` is the one writer of a fit's plain form (what ``neurolearn fit``
stores as JSON); :class:`FitRecord` is the one reader. A record of a :class:`~neurolearn.fitting.FitResult`
and a record of its JSON read back (:func:`neurolearn.files.read_fits` returns records) give the same
attributes, with the same names as the FitResult's, so nothing downstream cares where a fit came from.

Examples
--------
>>> record = fit_record({"model": "lazy-rich", "params": {"gamma0": 2.0}, "ci": {"gamma0": [1.5, 2.5]},
...                      "aic": 3.5, "session": ["d0", "d1"], "predicted": {"behavior": [0.5, 0.75]}})
>>> record.label, record.model_name, record.ci["gamma0"], record.aic
('lazy-rich', 'lazy-rich', (1.5, 2.5), 3.5)
>>> record.predicted["behavior"].values.tolist(), record["params"]
([0.5, 0.75], {'gamma0': 2.0})
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import xarray as xr

from neurolearn.errors import DataError

__all__ = ["FitRecord", "fit_record", "comparable_groups"]


def fit_record(fit) -> "FitRecord":
    """The :class:`FitRecord` of ``fit``: a FitResult, its ``to_dict()`` form, or already a record."""
    return fit if isinstance(fit, FitRecord) else FitRecord(fit)


def comparable_groups(fits) -> tuple[list, list]:
    """Fits grouped by the statistics they were fitted to (observables and number of values), for model
    comparison: the groups of two or more fits (each a list of the given objects, in order), and the fits
    comparable with no other. Information criteria compare only fits to the same values.

    Examples
    --------
    >>> a = {"model": "a", "observables": ["behavior"], "n_obs": 6}
    >>> b = {"model": "b", "observables": ["behavior"], "n_obs": 6}
    >>> c = {"model": "c", "observables": ["margin"], "n_obs": 6}
    >>> groups, alone = comparable_groups([a, b, c])
    >>> [[f["model"] for f in g] for g in groups], [f["model"] for f in alone]
    ([['a', 'b']], ['c'])
    """
    groups: dict = {}
    for f in fits:
        record = fit_record(f)
        groups.setdefault((tuple(record.observables), int(record.n_obs)), []).append(f)
    return [g for g in groups.values() if len(g) > 1], [g[0] for g in groups.values() if len(g) == 1]


class FitRecord(Mapping):
    """Read-only record of a fit, whether a :class:`~neurolearn.fitting.FitResult` or its ``to_dict()`` form.

    As a mapping it is the stored JSON form (``record["params"]``, ``dict(record)``; non-finite numbers are
    None there). As an object it gives the attributes a :class:`~neurolearn.fitting.FitResult` has, under the
    same names: ``label``, ``model_name``, ``params``, ``ci`` (name -> (lower, upper)), ``se``,
    ``identifiable``, ``fixed``, ``aic``, ``bic``, ``chi2``, ``chi2_pvalue``, ``log_likelihood``,
    ``n_obs``, ``n_params``, ``dispersion``, ``success``, ``message``, ``observables``,
    ``missing_observables``, ``interval``, ``level``, ``weighting``, ``best_point`` and ``predicted`` (a Dataset over
    ``session``, rebuilt from the stored ``session`` and ``predicted`` lists when read back from JSON; None
    when the fit stored no prediction). Numbers are floats (NaN where the JSON has None).

    ``model`` is the model's name (a JSON file cannot hold the model itself; a FitResult's ``model`` is the
    :class:`~neurolearn.theory.Model`, whose name both give as ``model_name``). ``result`` is the FitResult
    the record was made from, or None for a fit read from a file.

    Parameters
    ----------
    fit : FitResult or dict
        A fit, or its ``to_dict()`` form (a dictionary with at least a ``"model"`` key).

    Raises
    ------
    DataError
        ``fit`` is neither.
    """

    __slots__ = ("_source", "result", "model", "model_name", "label", "params", "ci", "se", "identifiable",
                 "fixed", "aic", "bic", "chi2", "chi2_pvalue", "log_likelihood", "n_obs", "n_params",
                 "dispersion", "success", "message", "observables", "missing_observables", "interval",
                 "level", "weighting", "predicted", "best_point")

    def __init__(self, fit):
        result = fit if hasattr(fit, "to_dict") and not isinstance(fit, Mapping) else None
        source = fit.to_dict() if result is not None else fit
        if not isinstance(source, Mapping) or "model" not in source:
            raise DataError(f"fit: expected a FitResult or its to_dict() form, found {type(fit).__name__}")
        source = copy.deepcopy(dict(source))
        predicted = getattr(result, "predicted", None)
        if predicted is None and source.get("predicted"):
            predicted = _predicted_dataset(source)
        name = str(source["model"])
        fields = {
            "_source": source,
            "result": result,
            "model": name,
            "model_name": name,
            "label": str(source.get("label") or name),
            "params": dict(source.get("params") or {}),
            "ci": {k: tuple(v) for k, v in (source.get("ci") or {}).items()},
            "se": {k: _float(v) for k, v in (source.get("se") or {}).items()},
            "identifiable": dict(source.get("identifiable") or {}),
            "fixed": dict(source.get("fixed") or {}),
            "aic": _float(source.get("aic")),
            "bic": _float(source.get("bic")),
            "chi2": _float(source.get("chi2")),
            "chi2_pvalue": _float(source.get("chi2_pvalue")),
            "log_likelihood": _float(source.get("log_likelihood")),
            "n_obs": int(source.get("n_obs") or 0),
            "n_params": int(source.get("n_params") or len(source.get("ci") or {})),
            "dispersion": _float(source.get("dispersion", 1.0)),
            "success": bool(source.get("success", True)),
            "message": str(source.get("message") or ""),
            "observables": tuple(source.get("observables") or ()),
            "missing_observables": tuple(source.get("missing_observables") or ()),
            "interval": source.get("interval"),
            "level": _float(source.get("level")),
            "weighting": str(source.get("weighting") or "standard errors"),
            "predicted": predicted,
            "best_point": (None if source.get("best_point") is None else
                           {k: _float(v) for k, v in source["best_point"].items()}),
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"FitRecord is read-only: cannot set {name!r}")

    def __getitem__(self, key):
        return self._source[key]

    def __iter__(self):
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def to_dict(self) -> dict:
        """The stored form, as :meth:`~neurolearn.fitting.FitResult.to_dict` wrote it (a copy)."""
        return copy.deepcopy(self._source)

    def __repr__(self) -> str:
        state = "converged" if self.success else "FAILED"
        return f"FitRecord({self.label!r}: {state}, aic={self.aic:.4g}, params={self.params})"


def _predicted_dataset(source: dict) -> xr.Dataset:
    sessions = source.get("session") or list(range(len(next(iter(source["predicted"].values())))))
    data = {name: ("session", np.array([_float(v) for v in values], dtype=float))
            for name, values in source["predicted"].items()}
    coords = {"session": [str(s) for s in sessions]}
    if source.get("training_time"):
        times = np.array([_float(v) for v in source["training_time"]], dtype=float)
        coords["training_time"] = ("session", times)
    return xr.Dataset(data, coords=coords)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
