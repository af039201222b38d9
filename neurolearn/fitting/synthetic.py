"""Statistics simulated from a theory model: prediction at known parameters plus Gaussian noise of known SE.

This is the data-generating process that :func:`~neurolearn.fitting.fit` assumes, which makes it the ground
truth for parameter-recovery checks, the resampling step of the parametric bootstrap, and a quick way to see
what a model predicts in the form :func:`neurolearn.summarize` returns.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import xarray as xr

from neurolearn.data import CI_BOUND, SESSION, ci_name, se_name
from neurolearn.errors import FitError
from neurolearn.fitting.areas import AREA, LAYER

__all__ = ["simulate_statistics"]


def simulate_statistics(model, params=None, n_sessions: int = 20, se=0.02, time_scale: float = 1.0,
                        onset: float = 0.0, observables=None, random_state=None,
                        learner_scatter: bool = False) -> xr.Dataset:
    """Noisy per-session statistics predicted by ``model`` at ``params``.

    Session ``s = 0 .. n_sessions-1`` sits at model time ``tau = time_scale * max(s - onset, 0)`` (the mapping
    :func:`~neurolearn.fitting.fit` inverts); each statistic is ``prediction + se * N(0, 1)``, independent
    across sessions and statistics, with ``name_se = se`` and a normal ``name_ci``.

    A model that declares a learner covariance (:attr:`neurolearn.theory.Model.learner_covariance`: one
    learner's curve scatters about the theory's mean, correlated across sessions) is fitted as if its data held
    that scatter too (:mod:`neurolearn.fitting.learner`). ``learner_scatter=True`` draws it: one Gaussian draw
    from the model's covariance at ``params`` is added to the predictions before the measurement noise (``name_se``
    stays the measurement's SE, as ``generalization_summary(training_set="fixed")`` reports it). Without it
    (default) the statistics are those of the theory's mean learner, less variable than a recording of one.

    Parameters
    ----------
    model : str or neurolearn.theory.Model
    params : dict, optional
        Model parameters (others at their defaults).
    n_sessions : int
    se : float or dict
        Standard error of every statistic, or statistic name -> SE (a scalar or one value per session).
    time_scale, onset : float
        The session -> model-time mapping.
    observables : sequence of str, optional
        Statistics to return (default every one the model predicts).
    random_state : int or numpy.random.Generator, optional
    learner_scatter : bool
        Add one learner's scatter about the mean from the model's learner covariance (models that declare one;
        no effect otherwise). Drawn after the measurement noise from the same generator.

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (ids ``"session-0"``, ...; coord ``session_index``), variables ``name``,
        ``name_se``, ``name_ci``; attrs hold the true parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.theory import Model, Parameter
    >>> rise = Model("rise", "", "1 - exp(-t/k)", "", (Parameter("k", 2.0, (0.1, 20.0), "time constant"),),
    ...              ("behavior",), lambda t, k: {"behavior": 1.0 - np.exp(-t / k)})
    >>> stats = simulate_statistics(rise, {"k": 3.0}, n_sessions=5, se=0.0)
    >>> np.round(stats["behavior"].values, 3).tolist()
    [0.0, 0.283, 0.487, 0.632, 0.736]
    """
    from neurolearn.theory import get_model

    model = get_model(model)
    if isinstance(n_sessions, bool) or not isinstance(n_sessions, (int, np.integer)) or n_sessions < 1:
        raise FitError(f"simulate_statistics: expected n_sessions a positive integer, found {n_sessions!r}")
    if not isinstance(time_scale, Real) or not time_scale > 0:
        raise FitError(f"simulate_statistics: expected time_scale > 0, found {time_scale!r}")
    rng = np.random.default_rng(random_state)
    session_index = np.arange(n_sessions, dtype=float)
    tau = time_scale * np.maximum(session_index - onset, 0.0)
    # referenced observables (kernel_change) are measured from the first session, as summarize measures them
    truth = model.predict(tau, reference_time=float(tau[0]) if model.referenced else None, **(params or {}))
    names = list(model.observables if observables is None else observables)
    data_vars = {}
    for name in names:
        if name not in truth:
            raise FitError(f"simulate_statistics: model {model.name!r} does not predict {name!r}; it predicts "
                           f"{list(model.observables)}")
        sd = se.get(name, 0.02) if isinstance(se, dict) else se
        # a per-layer observable is one statistic per area, area "layer-l" recorded from layer l (dims area, session)
        dims = (AREA, SESSION) if name in model.per_layer else (SESSION,)
        shape = truth[name].shape
        sd = np.broadcast_to(np.asarray(sd, dtype=float), shape)
        value = truth[name].values + sd * rng.standard_normal(shape)
        data_vars[name] = (dims, value)
        data_vars[se_name(name)] = (dims, sd.copy())
        data_vars[ci_name(name)] = ((*dims, CI_BOUND), np.stack([value - 1.96 * sd, value + 1.96 * sd], axis=-1),
                                    {"level": 0.95})
    if learner_scatter and getattr(model, "learner_covariance", None) is not None:
        _add_learner_scatter(model, params, tau, data_vars, names, rng)
    coords = {SESSION: [f"session-{i}" for i in range(n_sessions)], "session_index": (SESSION, np.arange(n_sessions)),
              CI_BOUND: ["lower", "upper"]}
    if any(name in model.per_layer for name in names):
        coords |= {AREA: [f"layer-{layer}" for layer in range(1, model.n_layers + 1)],
                   LAYER: (AREA, np.arange(1, model.n_layers + 1))}
    attrs = {"model": model.name, **{f"true_{k}": float(v) for k, v in (model.defaults() | (params or {})).items()},
             "true_time_scale": float(time_scale), "true_onset": float(onset)}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _add_learner_scatter(model, params, tau, data_vars, names, rng):
    """One draw from ``model``'s learner covariance at ``params`` (observable-major over ``model.observables``)
    added to the simulated values of ``names`` (and to their normal intervals)."""
    values = {k: v for k, v in (model.defaults() | dict(params or {})).items()}
    covariance = np.asarray(model.learner_covariance(tau, **values), dtype=float)
    w, v = np.linalg.eigh(0.5 * (covariance + covariance.T))
    draw = (v * np.sqrt(np.clip(w, 0.0, None))) @ rng.standard_normal(w.size)
    n = tau.size
    for name in names:
        if name not in model.observables or name in model.per_layer:
            continue
        i = list(model.observables).index(name)
        shift = draw[i * n:(i + 1) * n]
        dims, value = data_vars[name]
        data_vars[name] = (dims, value + shift)
        ci_dims, ci, ci_attrs = data_vars[ci_name(name)]
        data_vars[ci_name(name)] = (ci_dims, ci + shift[..., None], ci_attrs)
