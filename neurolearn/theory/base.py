"""A reduced theory model declared as data: name, parameters (bounds, meaning), observables, ``predict``.

Every model in :data:`neurolearn.theory.MODELS` is a :class:`Model`. ``predict(time, **params)`` maps training
time (array) to an :class:`xarray.Dataset` over dim ``time`` whose variables carry the *same names* as the
statistics :func:`neurolearn.summarize` computes (see :data:`neurolearn.data.STATISTIC_NAMES`), so that fitting
is a join on names. Parameters the data cannot pin down are declared ``identifiable=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import xarray as xr

from neurolearn.errors import FitError

__all__ = ["Parameter", "Model"]


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    name : str
        Keyword accepted by the model's ``predict``.
    default : float
        A typical value, used as a starting point by fits.
    bounds : tuple of float
        Inclusive (lower, upper) range a fit searches.
    meaning : str
        One line saying what the parameter is, with units.
    identifiable : bool
        False where the observables cannot pin it down (fits flag it instead of reporting a precise value).
    log_scale : bool
        Whether a fit should search it on a log scale (positive parameters spanning decades).
    natural : tuple of bool
        Whether the (lower, upper) bound is a natural limit of the quantity, one no value beyond has meaning
        (a fraction correct at 1, a variance or radius at 0, a correlation at -1 and 1), rather than an
        arbitrary edge of the search. A profile interval open at a natural bound is one-sided, not a sign the
        parameter is unidentified; fits note it instead of flagging it.

    Examples
    --------
    >>> Parameter("ceiling", 1.0, (0.0, 1.0), "fraction correct", natural=(True, True)).natural
    (True, True)
    >>> Parameter("gamma0", 1.0, (1e-3, 100.0), "richness", log_scale=True).natural
    (False, False)
    >>> Parameter("p", 0.5, (0.0, 1.0), "", natural=(True,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.FitError: parameter p: natural must be two bools (lower, upper), found (True,)
    """

    name: str
    default: float
    bounds: tuple[float, float]
    meaning: str
    identifiable: bool = True
    log_scale: bool = False
    natural: tuple[bool, bool] = (False, False)

    def __post_init__(self):
        lo, hi = self.bounds
        if not (lo <= self.default <= hi):
            raise ValueError(f"parameter {self.name}: default {self.default} outside bounds {self.bounds}")
        if self.log_scale and lo <= 0:
            raise ValueError(f"parameter {self.name}: log_scale needs positive bounds, got {self.bounds}")
        natural = self.natural
        if not (isinstance(natural, tuple) and len(natural) == 2
                and all(isinstance(n, (bool, np.bool_)) for n in natural)):
            raise FitError(f"parameter {self.name}: natural must be two bools (lower, upper), found {natural!r}")
        object.__setattr__(self, "natural", (bool(natural[0]), bool(natural[1])))


@dataclass(frozen=True)
class Model:
    """A reduced theory model.

    Attributes
    ----------
    name : str
        Registry key (``"lazy-rich"``).
    description : str
        One paragraph: what the model reduces and its signature in data.
    formula : str
        The governing equations in plain text.
    reference : str
        The paper(s) to cite.
    parameters : tuple of Parameter
    observables : tuple of str
        Statistic names ``predict`` returns (a subset of :data:`neurolearn.data.STATISTIC_NAMES`).
    function : callable
        ``function(time: ndarray, **params) -> dict[str, ndarray]``, each array shaped like ``time``.
    time_unit : str
        What one unit of model time is (the fitter's ``time_scale`` maps sessions onto it).
    time_span : float, optional
        Model time a learning experiment typically spans; the fitter searches ``time_scale`` around it (100x
        either way) and recovery studies design sessions over it. None: inferred from the observables.
    simulator : str
        The network simulation the model reduces and is checked against (``neurolearn.simulate...``).
    per_layer : tuple of str
        Observables predicted once per layer (``function`` returns them shaped ``(n_layers, len(time))``;
        ``predict`` puts them on dims ``("layer", "time")``). Empty for a model of one population.
    n_layers : int
        How many layers ``per_layer`` observables have (0 without any); layer ``l`` is ``1 .. n_layers``.
    jacobian : callable, optional
        ``jacobian(time, **params) -> dict[str, dict[str, ndarray]]``: for each observable, its derivative with
        respect to ``"time"`` and to every parameter (by name), each array shaped like ``time``, at the values
        ``function`` returns (a derivative at a kink may be either one-sided one). When given, the fitter's least
        squares uses it instead of finite differences (:meth:`neurolearn.fitting.problem.FitProblem.jacobian`;
        checked against finite differences in the model's tests). A model whose ``function`` is replaced (e.g.
        by :func:`dataclasses.replace`) must replace or drop it too; the fitter falls back to finite differences
        where it lacks an observable or returns non-finite values.
    learner_covariance : callable, optional
        ``learner_covariance(time, **params) -> ndarray`` of shape ``(n * len(time), n * len(time))``, ``n =
        len(observables)``, rows observable-major in ``observables`` order (row ``i * len(time) + j`` is
        observable ``i`` at ``time[j]``): the covariance of *one learner's* observables about the model's mean
        curve across sessions, the variability of one network (one training stream, one set of stimuli) that the
        theory averages over and that no bootstrap of a recording resamples (e.g.
        :func:`neurolearn.theory.learning_curve.learning_curve_covariance`). When given, :func:`neurolearn.fit`
        fits once, adds this covariance at the fitted parameters to the statistics' covariance, and refits
        (:mod:`neurolearn.fitting.learner`; opt out with ``fit(..., learner_covariance=False)``). A statistic whose
        summary stored its SE with the training stimuli held fixed (``generalization_error``'s coord
        ``generalization_error_fixed_se``) is weighted by that SE there, so the training set is counted once.
    referenced : tuple of str
        Observables a recording measures from its first (reference) session rather than from the start of
        training (``kernel_change``: the change from the first session's kernel). ``function`` then takes a
        keyword ``reference_time`` (model time of that session, default 0) and returns them relative to the
        model's state there; the fitter passes the first session's model time and leaves the reference
        session's own value (0 by definition) out of the data (:mod:`neurolearn.fitting.reference`).
    measured_as : tuple of (str, str, str, str)
        ``(observable, attr, value, how)``: an observable the statistics can measure in more than one way, and
        the one this model predicts, read from the statistics' ``attrs[attr]`` (``("generalization_error",
        "generalization_method", "behavior", "summarize(generalization='behavior')")``). The fitter refuses
        statistics whose attr says another way, naming ``how`` to measure it (statistics without the attr, built
        by hand, are taken as declared by their maker).
    covariance_shrinkage : float
        How far the default fit (``fit(..., weights="joint")``) shrinks the correlations of the statistics' joint
        covariance toward 0 in its *weights*, ``lambda`` in [0, 1]: values are weighted by the inverse of ``(1 -
        lambda) R + lambda I`` scaled by the SEs, and when ``lambda > 0`` the intervals and chi-square's
        reference come from the sandwich with the unshrunk sample covariance
        (:mod:`neurolearn.fitting.covariance`, "Shrunk working weights"). 0 (default): generalised least squares
        with the estimated covariance as it is. A model whose statistics' covariance, estimated by each recording
        from its own units, is too noisy in its small eigen-directions for GLS to cover declares ``lambda > 0``
        (measured in docs/theory.md section 2.8).
    """

    name: str
    description: str
    formula: str
    reference: str
    parameters: tuple[Parameter, ...]
    observables: tuple[str, ...]
    function: Callable[..., dict]
    time_unit: str = ""
    time_span: float | None = None
    simulator: str = ""
    per_layer: tuple[str, ...] = ()
    n_layers: int = 0
    jacobian: Callable[..., dict] | None = None
    referenced: tuple[str, ...] = ()
    learner_covariance: Callable[..., np.ndarray] | None = None
    measured_as: tuple[tuple[str, str, str, str], ...] = ()
    covariance_shrinkage: float = 0.0

    def __post_init__(self):
        lam = self.covariance_shrinkage
        if not (isinstance(lam, (int, float, np.floating, np.integer)) and not isinstance(lam, bool)
                and 0.0 <= float(lam) <= 1.0):
            raise FitError(f"model {self.name!r}: expected covariance_shrinkage a number in [0, 1], found {lam!r}")
        object.__setattr__(self, "covariance_shrinkage", float(lam))

    @property
    def params(self) -> dict[str, Parameter]:
        """Parameters by name, in declaration order."""
        return {p.name: p for p in self.parameters}

    def defaults(self) -> dict[str, float]:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.parameters}

    def predict(self, time, reference_time=None, **params) -> xr.Dataset:
        """Predicted statistics at training times ``time`` -> Dataset over dim ``time``.

        Unnamed parameters take their defaults; unknown names raise :class:`FitError`. Observables in
        ``per_layer`` come on dims ``("layer", "time")`` with coord ``layer = 1 .. n_layers``. The
        :attr:`referenced` observables are measured from the model's state at ``reference_time`` (None: the start
        of training); a model without them refuses one.
        """
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise FitError(f"model {self.name!r}: unknown parameters {unknown}; expected some of {list(self.params)}")
        values = self.defaults() | {k: float(v) for k, v in params.items()}
        t = np.atleast_1d(np.asarray(time, dtype=float))
        if reference_time is not None:
            if not self.referenced:
                raise FitError(f"model {self.name!r}: expected no reference_time (no observable of it is measured "
                               f"from a reference session), found {reference_time!r}")
            out = self.function(t, reference_time=float(reference_time), **values)
        else:
            out = self.function(t, **values)
        missing = [o for o in self.observables if o not in out]
        if missing:
            raise RuntimeError(f"model {self.name!r} did not return declared observables {missing}")
        data_vars = {name: (("layer", "time") if name in self.per_layer else "time", np.asarray(out[name], dtype=float))
                     for name in self.observables}
        coords = {"time": t} | ({"layer": np.arange(1, self.n_layers + 1)} if self.per_layer else {})
        return xr.Dataset(data_vars, coords=coords, attrs={"model": self.name, **{k: v for k, v in values.items()}})
