"""Model comparison: information criteria over fits to the same statistics, and held-out-session prediction.

AIC and BIC come from the Gaussian likelihood with the statistics' SEs (or joint covariance) as known
(``-2 log L = chi2 + const``); they are comparable only between fits to the *same* values, so :func:`compare`
refuses fits made to different statistics. Akaike weights ``exp(-dQAIC/2) / sum`` read as the relative
support of each model within the set compared.

Quasi-AIC under misfit
----------------------
When a model misfits (chi-square improbable under the statistics' own uncertainty, p < 1e-3) its profile
intervals are widened by the Birge ratio ``sqrt(c)``, ``c = chi2/dof`` (:attr:`FitResult.dispersion`): the
statistics scatter ``c`` times more than their SEs say. AIC differences computed with the unwidened SEs are
then ``c`` times too large, and would favour the more complex model with a confidence the intervals deny.
:func:`compare` therefore ranks by quasi-AIC (Lebreton et al. 1992; Burnham & Anderson 2002, sec. 6.2),

    QAIC = chi2 / c + 2 k  (+ the likelihood constant shared by all fits, so that QAIC = AIC when c = 1),

with one ``c`` for every fit, by default that of the most complex model (most free parameters; the one
whose misfit is least due to a missing mechanism), as Burnham & Anderson recommend; ``dispersion="each"``
uses each fit's own ``c`` instead, a float a given one, None plain AIC. The table says which (columns
``criterion`` and ``dispersion``, and ``attrs["criterion"]``).

Cross-validation leaves one session out at a time, refits on the rest (starting from the full-data optimum,
which one session moves little), and scores the held-out session by its standardised prediction error
``sum_k ((value_k - prediction_k) / se_k)^2`` over the statistics fitted (marginal SEs, also when the fit
used a joint covariance). The sum over sessions, ``cv_chi2``, penalises over-fitting without a parameter
count; a model that wins on AIC but loses on ``cv_chi2`` is fitting noise. :func:`compare` sums it over the
sessions every model could predict; a model none of whose folds could be scored (too few values left to
refit, or no refit converged) gets NaN, a warning, and is never ranked ahead of one that was scored.
"""

from __future__ import annotations

from typing import Sequence

import warnings
from numbers import Real

import numpy as np
import pandas as pd
import xarray as xr

from neurolearn.errors import FitError
from neurolearn.fitting.multistart import local_fit, multistart
from neurolearn.fitting.problem import FitWarning
from neurolearn.fitting.result import FitResult

__all__ = ["compare", "cross_validate", "DISPERSION"]

_SORT_KEYS = ("qaic", "aic", "bic", "cv_chi2")
#: how compare() chooses the quasi-AIC dispersion factor (or a float >= 1, or None for plain AIC)
DISPERSION = ("most-complex", "each")


def compare(fits: Sequence[FitResult], cv: bool = False, sort_by: str | None = None,
            dispersion="most-complex") -> pd.DataFrame:
    """Table of fits to the same statistics, best first.

    Parameters
    ----------
    fits : sequence of FitResult
        Fits of competing models (or of one model under different ``fixed`` hypotheses) to the same statistics.
    cv : bool
        Also leave each session out in turn and score its prediction (columns ``cv_chi2``, ``delta_cv``);
        costs one refit per session and fit.
    sort_by : {"qaic", "aic", "bic", "cv_chi2"}, optional
        Ranking column; default ``"cv_chi2"`` when ``cv`` else ``"qaic"`` (equal to AIC when no model misfits).
        Failed fits, and fits without a score in the ranking column, go last.
    dispersion : {"most-complex", "each"}, float or None
        The quasi-AIC factor ``c``: that of the successful fit with the most free parameters (default), each
        fit's own, a given value >= 1, or None (``c = 1``: plain AIC). See the module docstring.

    Returns
    -------
    pandas.DataFrame
        One row per fit: ``label``, ``model``, ``n_params``, ``n_obs``, ``chi2``, ``dispersion`` (c used),
        ``qaic``, ``delta_qaic``, ``akaike_weight`` (from QAIC), ``aic``, ``delta_aic``, ``bic``,
        ``delta_bic``, ``criterion`` (``"AIC"`` or ``"QAIC (c = ... from ...)"``), ``success``; with ``cv``
        also ``cv_chi2``, ``delta_cv``, ``n_held_out`` (sessions scored). ``attrs["criterion"]`` repeats how
        models were ranked.

    Raises
    ------
    FitError
        Fewer than one fit, something that is not a FitResult, fits made to different statistics, or a bad
        ``sort_by`` / ``dispersion``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.fitting import fit
    >>> from neurolearn.theory import Model, Parameter
    >>> rise = Model("rise", "", "b = a (1 - exp(-t/k))", "",
    ...              (Parameter("a", 1.0, (0.1, 2.0), "asymptote"), Parameter("k", 2.0, (0.1, 20.0), "time constant")),
    ...              ("behavior",), lambda t, a, k: {"behavior": a * (1.0 - np.exp(-t / k))})
    >>> s = np.arange(15.0)
    >>> y = 0.8 * (1 - np.exp(-s / 3.0)) + 0.02 * np.random.default_rng(1).standard_normal(15)
    >>> stats = xr.Dataset({"behavior": ("session", y), "behavior_se": ("session", np.full(15, 0.02))},
    ...                    coords={"session_index": ("session", s)})
    >>> clock = {"time_scale": 1.0, "onset": 0.0}
    >>> free = fit(stats, rise, fixed=clock, interval=None, random_state=0)
    >>> perfect = fit(stats, rise, fixed=clock | {"a": 1.0}, interval=None, random_state=0)
    >>> table = compare([free, perfect])
    >>> table["label"].tolist()
    ['rise', 'rise (a=1)']
    >>> bool(table["akaike_weight"].iloc[0] > 0.99)
    True
    """
    if isinstance(fits, FitResult) or not isinstance(fits, Sequence):
        raise FitError(f"compare: expected a list of FitResult objects, found {type(fits).__name__}")
    fits = list(fits)
    if not fits:
        raise FitError("compare: expected at least one FitResult, found none")
    for f in fits:
        if not isinstance(f, FitResult):
            raise FitError(f"compare: expected FitResult objects (from neurolearn.fitting.fit), "
                           f"found {type(f).__name__}")
    _check_same_statistics(fits)
    sort_by = sort_by or ("cv_chi2" if cv else "qaic")
    if sort_by not in _SORT_KEYS or (sort_by == "cv_chi2" and not cv):
        raise FitError(f"compare: expected sort_by one of {list(_SORT_KEYS[:3]) + (['cv_chi2'] if cv else [])}, "
                       f"found {sort_by!r}")
    factors, criterion = _dispersions(fits, dispersion)
    rows = []
    for f, c in zip(fits, factors):
        constant = f.aic - f.chi2 - 2 * f.n_params  # -2 log L - chi2, shared by fits to the same values
        row = {"label": f.label, "model": f.model.name, "n_params": f.n_params, "n_obs": f.n_obs, "chi2": f.chi2,
               "dispersion": c, "qaic": f.chi2 / c + 2 * f.n_params + constant, "aic": f.aic, "bic": f.bic,
               "success": f.success}
        rows.append(row)
    table = pd.DataFrame(rows)
    if cv:
        scores, held = _cv_scores(fits)
        table["cv_chi2"], table["n_held_out"] = scores, held
    ok = table["success"].to_numpy(bool)
    pairs = (("qaic", "delta_qaic"), ("aic", "delta_aic"), ("bic", "delta_bic"))
    for key, delta in pairs + ((("cv_chi2", "delta_cv"),) if cv else ()):
        best = table.loc[ok, key].min() if ok.any() else np.nan
        table[delta] = np.where(ok, table[key] - best, np.nan)
    weights = np.where(ok, np.exp(-0.5 * table["delta_qaic"].fillna(np.inf)), 0.0)
    table["akaike_weight"] = np.where(ok, weights / weights.sum(), np.nan) if ok.any() else np.nan
    table["criterion"] = criterion
    columns = ["label", "model", "n_params", "n_obs", "chi2", "dispersion", "qaic", "delta_qaic", "akaike_weight",
               "aic", "delta_aic", "bic", "delta_bic", "criterion", "success"]
    columns += ["cv_chi2", "delta_cv", "n_held_out"] if cv else []
    table = table[columns]
    key = table[sort_by].to_numpy(float)
    order = np.lexsort((np.where(np.isfinite(key), key, np.inf), ~np.isfinite(key), ~ok))
    table = table.iloc[order].reset_index(drop=True)
    table.attrs["criterion"] = criterion
    return table


def _dispersions(fits, dispersion):
    """The quasi-AIC factor c of every fit and a sentence saying how it was chosen."""
    ok = [f for f in fits if f.success and np.isfinite(f.dispersion)]
    if dispersion is None:
        return [1.0] * len(fits), "AIC"
    if isinstance(dispersion, Real) and not isinstance(dispersion, bool):
        if not (np.isfinite(dispersion) and dispersion >= 1.0):
            raise FitError(f"compare: expected dispersion a number >= 1, found {dispersion!r}")
        c = float(dispersion)
        return [c] * len(fits), "AIC" if c == 1.0 else f"QAIC (c = {c:.3g}, given)"
    if dispersion == "each":
        factors = [float(f.dispersion) if f.success and np.isfinite(f.dispersion) else 1.0 for f in fits]
        if all(c == 1.0 for c in factors):
            return factors, "AIC"
        return factors, "QAIC (each model's own c = chi2/dof where it misfits)"
    if dispersion != "most-complex":
        raise FitError(f"compare: expected dispersion one of {list(DISPERSION)}, a number >= 1 or None, found "
                       f"{dispersion!r}")
    if not ok:
        return [1.0] * len(fits), "AIC"
    reference = min(ok, key=lambda f: (-f.n_params, f.chi2))
    c = float(reference.dispersion)
    if c == 1.0:
        return [1.0] * len(fits), "AIC"
    return [c] * len(fits), f"QAIC (c = chi2/dof = {c:.3g} from {reference.label!r}, the most complex model)"


def _cv_scores(fits):
    """cv_chi2 of every fit summed over the sessions all scorable fits predicted, and how many those are."""
    per_session = []
    for f in fits:
        per_session.append(_cross_validate_fit(f).data_vars["cv_chi2"].values if f.success else None)
    scored = [np.isfinite(p) for p in per_session if p is not None and np.isfinite(p).any()]
    common = np.logical_and.reduce(scored) if scored else None
    scores, held = [], []
    for f, p in zip(fits, per_session):
        if p is None:
            scores.append(np.nan)
            held.append(0)
            continue
        if not np.isfinite(p).any():
            warnings.warn(f"compare: no leave-one-session-out fold of {f.label!r} could be scored (too few values "
                          "left to refit, or no refit converged); its cv_chi2 is NaN and it is not ranked",
                          FitWarning, stacklevel=3)
            scores.append(np.nan)
            held.append(0)
            continue
        if common is not None and np.isfinite(p).sum() > common.sum():
            warnings.warn(f"compare: cv_chi2 of {f.label!r} summed over the {int(common.sum())} sessions every "
                          f"model could predict (it scored {int(np.isfinite(p).sum())})", FitWarning, stacklevel=3)
        scores.append(float(np.sum(p[common])) if common is not None and common.any() else np.nan)
        held.append(int(common.sum()) if common is not None else 0)
    return scores, held


def cross_validate(stats, model, observables=None, fixed=None, time=None, n_starts: int = 4, se_floor="auto",
                   random_state=None) -> xr.Dataset:
    """Leave-one-session-out prediction error of a model on statistics.

    Parameters
    ----------
    stats, model, observables, fixed, time, n_starts, se_floor, random_state
        As for :func:`~neurolearn.fitting.fit` (which runs once on all sessions to find the starting point).

    Returns
    -------
    xarray.Dataset
        Over dim ``session``: for each statistic fitted, the held-out prediction ``name`` and standardised
        error ``name_error`` = (value - prediction) / se; ``cv_chi2`` per session (sum of squared errors).
        Attrs: ``cv_chi2`` (sum over sessions), ``model``, ``label``, ``n_held_out``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.theory import Model, Parameter
    >>> rise = Model("rise", "", "b = 1 - exp(-t/k)", "", (Parameter("k", 2.0, (0.1, 20.0), "time constant"),),
    ...              ("behavior",), lambda t, k: {"behavior": 1.0 - np.exp(-t / k)})
    >>> s = np.arange(10.0)
    >>> stats = xr.Dataset({"behavior": ("session", 1 - np.exp(-s / 3.0)), "behavior_se": ("session", np.full(10, 0.05))},
    ...                    coords={"session_index": ("session", s)})
    >>> cv = cross_validate(stats, rise, fixed={"time_scale": 1.0, "onset": 0.0}, random_state=0)
    >>> bool(cv.attrs["cv_chi2"] < 1e-6), int(cv.attrs["n_held_out"])
    (True, 10)
    """
    from neurolearn.fitting.least_squares import fit

    full = fit(stats, model, observables=observables, fixed=fixed, time=time, n_starts=n_starts, interval=None,
               se_floor=se_floor, random_state=random_state)
    if not full.success:
        raise FitError(f"cross_validate of model {full.model.name!r}: the fit to all sessions did not converge "
                       f"({full.message})")
    return _cross_validate_fit(full, random_state)


def _cross_validate_fit(result: FitResult, random_state=None) -> xr.Dataset:
    problem = result._problem
    n_sessions = problem.data.shape[1]
    n_starts = result._options.get("n_starts", 4)
    rng = np.random.default_rng(random_state)
    predicted = np.full(problem.data.shape, np.nan)
    for i in range(n_sessions):
        if not problem.mask[:, i].any():
            continue
        keep = np.ones(n_sessions, dtype=bool)
        keep[i] = False
        train = problem.with_mask(np.broadcast_to(keep, problem.mask.shape))
        if train.n_obs <= train.n_free:
            continue
        opt = local_fit(train, result._unit)
        if not opt.success:
            opt = multistart(train, n_starts=n_starts, rng=rng)
        if not opt.success:
            continue
        predicted[:, i] = problem.predict_array(problem.values(opt.u))[:, i]
    error = np.where(problem.mask, (problem.data - predicted) / problem.se, np.nan)
    scored = problem.mask & np.isfinite(predicted)
    per_session = np.where(scored.any(axis=0), np.nansum(np.where(scored, error, 0.0) ** 2, axis=0), np.nan)
    from neurolearn.data import SESSION

    coords = {name: (SESSION, v) for name, v in problem.session_coords.items()}
    data_vars = {}
    for k, name in enumerate(problem.observables):
        data_vars[name] = (SESSION, predicted[k])
        data_vars[f"{name}_error"] = (SESSION, error[k])
    data_vars["cv_chi2"] = (SESSION, per_session)
    n_held = int(np.isfinite(per_session).sum())
    unscored = int((problem.mask.any(axis=0) & ~np.isfinite(per_session)).sum())
    attrs = {"model": result.model.name, "label": result.label, "cv_chi2": float(np.nansum(per_session)),
             "n_held_out": n_held, "n_not_scored": unscored}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _statistics_problem(result):
    """The problem built from the statistics alone: a fit that added its model's learner covariance weighted
    the same statistics by more than they carry (fitting.learner), which is not different statistics."""
    return getattr(result, "_statistics_problem", None) or result._problem


def _check_same_statistics(fits):
    first = _statistics_problem(fits[0])
    for f in fits[1:]:
        other = _statistics_problem(f)
        difference = _difference(first, other)
        if difference:
            raise FitError(f"compare: fits {fits[0].label!r} and {f.label!r} were made to different statistics "
                           f"({difference}); AIC/BIC compare only fits to the same values with the same weights")


def _sessions_shown(sessions) -> str:
    names = [str(s) for s in np.asarray(sessions).tolist()]
    return repr(names) if len(names) <= 4 else f"{names[:3]!r} ... ({len(names)})"


def _difference(first, other) -> str:
    """What differs between two fits' problems, and what to do about it ("" when nothing does)."""
    if list(first.observables) != list(other.observables):
        return (f"{list(first.observables)} vs {list(other.observables)}: pass the same observables= to every fit")
    if first.data.shape != other.data.shape or not np.array_equal(first.session, other.session):
        # adversary F20: two statistics files of one shape were told to pass the same observables=
        return (f"sessions {_sessions_shown(first.session)} vs {_sessions_shown(other.session)}: fit every model "
                "to one statistics file")
    if not np.array_equal(first.mask, other.mask):
        return f"{int(first.mask.sum())} vs {int(other.mask.sum())} values fitted: fit every model to one statistics file"
    if not (np.array_equal(first.data[first.mask], other.data[other.mask])
            and np.array_equal(first.se[first.mask], other.se[other.mask])):
        return "other values or standard errors (another statistics file, or another se_floor=)"
    if (first.covariance is None) != (other.covariance is None):
        # adversary A5: this was reported as 'pass the same observables=', which both fits already had
        return ("weighted differently: one by the values' joint covariance (weights='joint'), the other by "
                "1 / se**2 alone (weights='independent'), two chi-square scales: refit with one weights=")
    if first.covariance is not None and not np.array_equal(first.covariance, other.covariance):
        return "weighted by different covariances (another statistics file?): fit every model to one statistics file"
    return ""
