"""The outcome of :func:`~neurolearn.fitting.fit`: estimates, intervals, identifiability, fit quality."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

__all__ = ["FitResult"]


@dataclass
class FitResult:
    """A theory model fitted to statistics by weighted least squares.

    Figures of a fit are :func:`neurolearn.plot.plot_fit`. The report, the CLI and the figures read a fit
    (this object or its :meth:`to_dict` form read back from JSON) as a
    :class:`~neurolearn.fit_records.FitRecord`, which has these attributes under the same names.

    Attributes
    ----------
    model : neurolearn.theory.Model
    model_name : str
        ``model.name``.
    label : str
        Name in :func:`compare` tables (the model name, plus fixed model parameters).
    params : dict
        Estimate of every parameter (free and fixed, including ``time_scale`` and ``onset``). NaN for free
        parameters when the fit did not converge (``success`` False) -- never silent numbers.
    ci : dict
        name -> (lower, upper) interval at ``level`` for each free parameter (NaN if intervals were not asked
        for or the fit failed), always within the parameter's search box. An interval that reaches a bound of
        the search box means the data do not pin the parameter down on that side (``open_ends``).
    open_ends : dict
        name -> (lower, upper) bools for each free parameter: True where its interval stops at a search bound
        that is not a natural limit of the parameter (:attr:`neurolearn.theory.Parameter.natural`), i.e. is
        censored there. That end is the box's, not the estimand's: the profile is still below its cut at the
        bound, so the interval of the estimand runs past it (a one-sided statement, e.g. ``eigen_decay >= 1.2``;
        the parameter is then flagged not identifiable). An end at a natural limit (a ceiling of 1) is not
        censored. All False when the fit failed or gave no intervals.
    se : dict
        name -> asymptotic standard error from the Jacobian (inf where the data do not constrain it). An SE
        wider than the parameter's search range (of ``log`` of the parameter on a log-scale range) is kept as
        computed, and the parameter is flagged not identifiable with that reason in ``message`` (e.g.
        ``"ceiling: not identifiable (SE 9.4 exceeds its range [0, 1])"``): it is the curvature of a chi-square
        nearly flat across the range, not a measurement, and ``estimate +- SE`` lies mostly outside the range.
    identifiable : dict
        name -> bool for each free parameter: False if the model declares it non-identifiable, its interval
        reaches a search bound (flat profile), its SE is infinite or wider than its range. Do not report such a
        parameter as precise; ``message`` says why for each (``"<name>: not identifiable (<reasons>)"``).
    predicted : xarray.Dataset
        Prediction over dim ``session`` with the statistics' names and coords, plus coord ``training_time``.
    residuals : xarray.Dataset
        Standardised residuals ``(value - prediction) / se`` per statistic (NaN where a value was not fitted).
    chi2 : float
        Sum of squared standardised residuals (whitened by the joint covariance when ``weighting`` says so).
    log_likelihood : float
        Gaussian log-likelihood with the SEs as known standard deviations: ``-(chi2 + sum log(2 pi se^2)) / 2``
        (``-(chi2 + n log 2 pi + log det C) / 2`` with a joint covariance ``C``).
    aic, bic : float
        ``-2 log L + 2 k`` and ``-2 log L + k log n_obs`` (k free parameters).
    n_obs, n_params : int
        Values fitted and free parameters.
    chi2_pvalue : float
        Goodness of fit: P(chi-square with ``n_obs - n_params`` dof >= ``chi2``); small means the model (or the
        SEs) cannot account for the data.
    success : bool
    message : str
        What the optimiser and interval search reported (and any flags).
    observables, missing_observables : tuple of str
        Statistics fitted; statistics the model predicts that were absent.
    fixed : dict
    interval : str or None
        ``"profile"``, ``"bootstrap"`` or None.
    level : float
    dispersion : float
        ``c = chi2 / dof`` when the model misfits (chi-square p < 1e-3), else 1: the factor by which profile
        intervals' chi-square threshold was scaled, and the one :func:`compare`'s quasi-AIC divides by.
    weighting : str
        ``"standard errors"`` (diagonal) or ``"joint covariance (bootstrap replicates)"`` (generalised least
        squares; ``chi2`` is then the squared norm of the whitened residuals, while ``residuals`` stay
        ``(value - prediction) / se``); ``"... (statistics + the model's learner covariance)"`` when the model's
        learner covariance was added (``learner_covariance``); ``"joint covariance with shrunk correlations,
        sandwich intervals (bootstrap replicates)"`` for a model declaring
        :attr:`~neurolearn.theory.Model.covariance_shrinkage`, and ``"standard errors, sandwich intervals ..."``
        with ``weights="independent"``.
    learner_covariance : dict or None
        The model parameters at which the model's learner covariance
        (:attr:`neurolearn.theory.Model.learner_covariance`: one learner's scatter about the mean curve,
        correlated across sessions) was last evaluated and added to the statistics' covariance before the final
        fit (:mod:`neurolearn.fitting.learner`); None when it was not (the model declares none, the pilot fit
        failed, or ``fit(..., learner_covariance=False)``). ``residuals`` and ``chi2`` then include it.
    best_point : dict or None
        For a fit that did not converge (``success`` False): free parameter -> its value at the lowest
        chi-square the optimiser reached, which ``message`` reports. Not an estimate (no minimum was found, so
        it has no interval and is not in ``params``); a place to look from, e.g. with a longer search
        (``n_starts=``) or more parameters fixed. None for a converged fit, whose ``params`` hold its estimates.
    """

    model: object
    label: str
    params: dict
    ci: dict
    se: dict
    identifiable: dict
    predicted: xr.Dataset
    residuals: xr.Dataset
    chi2: float
    log_likelihood: float
    aic: float
    bic: float
    n_obs: int
    n_params: int
    chi2_pvalue: float
    success: bool
    message: str
    observables: tuple
    missing_observables: tuple
    fixed: dict
    interval: str | None
    level: float
    dispersion: float = 1.0
    weighting: str = "standard errors"
    learner_covariance: dict | None = None
    open_ends: dict = field(default_factory=dict)
    best_point: dict | None = None
    _problem: object = field(default=None, repr=False)
    # the problem from the statistics alone (``_problem`` before the model's learner covariance was added): what
    # two fits must share to be compared
    _statistics_problem: object = field(default=None, repr=False)
    _unit: np.ndarray = field(default=None, repr=False)
    _options: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        lines = [f"FitResult({self.label!r}: success={self.success}, chi2={self.chi2:.3g} on {self.n_obs} values, "
                 f"{self.n_params} free, AIC={self.aic:.4g})"]
        for name, value in self.params.items():
            if name in self.ci:
                lo, hi = self.ci[name]
                reason = _identifiability_reasons(self.message).get(name)
                # a failed fit judged no parameter: FAILED below says why nothing is reported
                flag = ("" if not self.success or self.identifiable.get(name, True) else
                        f"  [not identifiable: {reason}]" if reason else "  [not identifiable]")
                low_open, high_open = self.open_ends.get(name, (False, False))
                shown = f"[{'open at ' if low_open else ''}{lo:.4g}, {'open at ' if high_open else ''}{hi:.4g}]"
                lines.append(f"  {name} = {value:.4g}  {shown}{flag}")
            else:
                lines.append(f"  {name} = {value:.4g}  (fixed)")
        if not self.success:
            if self.best_point:
                shown = ", ".join(f"{k}={v:.4g}" for k, v in self.best_point.items())
                lines.append(f"  best point reached (not an estimate): {shown}")
            lines.append(f"  FAILED: {self.message}")
        return "\n".join(lines)

    @property
    def model_name(self) -> str:
        """The fitted model's name, as a :class:`~neurolearn.fit_records.FitRecord` gives it."""
        return str(getattr(self.model, "name", self.model))

    def to_dict(self) -> dict:
        """Everything but the data objects as plain JSON-serialisable types (non-finite numbers -> None).

        ``json.dumps(result.to_dict(), allow_nan=False)`` works (see :func:`~neurolearn.fitting.fit` for an
        example).
        """
        return {
            "model": self.model.name,
            "label": self.label,
            "success": bool(self.success),
            "message": self.message,
            "params": {k: _json_number(v) for k, v in self.params.items()},
            "ci": {k: [_json_number(lo), _json_number(hi)] for k, (lo, hi) in self.ci.items()},
            "open_ends": {k: [bool(lo), bool(hi)] for k, (lo, hi) in self.open_ends.items()},
            "se": {k: _json_number(v) for k, v in self.se.items()},
            "identifiable": {k: bool(v) for k, v in self.identifiable.items()},
            "fixed": {k: _json_number(v) for k, v in self.fixed.items()},
            "chi2": _json_number(self.chi2),
            "chi2_pvalue": _json_number(self.chi2_pvalue),
            "log_likelihood": _json_number(self.log_likelihood),
            "aic": _json_number(self.aic),
            "bic": _json_number(self.bic),
            "n_obs": int(self.n_obs),
            "n_params": int(self.n_params),
            "observables": list(self.observables),
            "missing_observables": list(self.missing_observables),
            "interval": self.interval,
            "level": float(self.level),
            "dispersion": _json_number(self.dispersion),
            "weighting": self.weighting,
            "learner_covariance": (None if self.learner_covariance is None else
                                   {k: _json_number(v) for k, v in self.learner_covariance.items()}),
            "best_point": (None if self.best_point is None else
                           {k: _json_number(v) for k, v in self.best_point.items()}),
            "session": [_json_scalar(s) for s in np.asarray(self.predicted["session"].values)],
            "training_time": [_json_number(t) for t in self.predicted["training_time"].values],
            "predicted": {name: [_json_number(v) for v in self.predicted[name].values] for name in self.observables},
        }


def _identifiability_reasons(message) -> dict:
    """name -> reason of each ``"<name>: not identifiable (<reason>)"`` note in a fit's message, whole where the
    reason holds parentheses of its own (``"(confounded)"``, ``"(singular Jacobian)"``)."""
    pattern = r"(\w+): not identifiable \(((?:[^()]|\([^()]*\))*)\)(?=; |$)"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, message or "")}


def _json_number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _json_scalar(value):
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        return _json_number(value)
    return value if isinstance(value, (int, str, bool)) or value is None else str(value)
