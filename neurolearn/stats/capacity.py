"""Readout capacity of one session's stimulus manifolds: how many trial clouds a linear readout separates.

Each condition's trials form a cloud (a sampled manifold) around its centroid; centroids are taken relative to
their mean over conditions (the readout's origin), so only the differences between stimuli count. Two
statistics (Chung, Lee & Sompolinsky 2018; Cohen, Chung, Lee & Sompolinsky 2020):

* :func:`manifold_capacity` -- the **simulation capacity** ``alpha_sim = P / N_c`` of the P observed clouds:
  ``N_c`` is the neuron count at which half of the random dichotomies of the clouds (each condition labelled
  +-1 at random, all its trials with it) are linearly separable by a hyperplane through the origin with zero
  margin, checked exactly (a linear-programming feasibility problem ``y_i w.x_i >= 1`` on every trial).
  Neurons are subsampled in a random nested order per dichotomy, so each dichotomy's smallest separating
  neuron count is found by bisection and ``N_c`` is their median (linearly interpolated between integers).
  For points in general position (radius 0) ``alpha_sim = 2`` (Cover's theorem); with no stimulus structure
  at all (every trial an independent point) ``alpha = 2 P / n_trials``, the ``chance`` reported.
* :func:`mean_field_capacity` -- the **mean-field prediction from the clouds' geometry**, the elliptical
  (second-moment) approximation: each cloud is replaced by an L2 ball of radius
  ``R_mu^2 = tr(C_mu) / |c_mu|^2`` (``C_mu`` its covariance, ``c_mu`` its centred centroid) and the clouds'
  pooled dimension ``D = mean_mu tr(C_mu)^2 / mean_mu tr(C_mu^2)`` (a ratio of means over conditions, not a
  mean of per-condition ratios: with few trials a condition's ``tr(C_mu^2)`` is estimated near or below 0 and
  its ratio explodes; the two agree where the conditions share their dimension), whose capacity
  :func:`neurolearn.theory.capacity.ball_capacity` gives in closed form, and heterogeneous radii combine as
  ``1/alpha = mean_mu 1/alpha_B(R_mu, D)``. ``tr(C)``, ``tr(C)^2``, ``tr(C^2)`` and ``|c|^2`` are unbiased
  U-statistics (over distinct trials); the pooled ratio keeps a small ratio bias (+2% at 8 conditions x 6
  trials of isotropic 60-dimensional clouds, +13% for anisotropic ones of D = 13 there, under 1% at 20
  trials). Its interval is a stratified delete-one-trial jackknife on log D (coverage 0.97-1.00 of the
  truth over 100 replicates at 6-20 trials: conservative, the jackknife SE is up to ~1.8x the sampling SD at
  6 trials; benchmarks/bench_capacity.py part g); it is NaN with the reason in ``manifold_dimension_flag``
  where a condition has fewer than 5 trials or the pooled ``tr(C^2)`` is within 2 jackknife SEs of 0. Exact
  for uniform spheres (the theory's balls); anisotropic clouds separate worse than balls of the same
  participation ratio (ellipsoids with D ~ 1.5-2.5: simulation capacity 10-15% below), so it is an
  upper-side approximation there. It predicts the capacity of the full manifolds, which the simulation
  capacity of a finite sample of trials approaches from above as trials fill each manifold (spheres with
  D = 2-3: +6-17% at 10 trials, within 1% at 40; Gaussian clouds of D = 60: 0.85 / 0.69 / 0.50 at 6 / 12 / 40
  trials for a full capacity of 0.07): ``manifold_capacity_flag`` says so where the fewest trials in a
  condition are below 10 D.

Both give bootstrap replicates (trials resampled within conditions): ``manifold_capacity``'s interval is the
estimate +- z times their SD (symmetric: a resample's repeated trials skew its capacity upward), the mean-field
capacity's their percentiles re-centred on the estimate. The radius's and the dimension's are stratified
delete-one-trial jackknives, on log R and log D: a resample's repeated trials make its trace and centroid terms
vary less than fresh trials', and the bootstrap percentiles of the radius covered 0.83-0.91 on Poisson clouds
(the jackknife 0.92-0.99; benchmarks/bench_capacity.py part p). Both
raise :class:`~neurolearn.errors.InsufficientDataError` with the reason where the data cannot support them.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import linprog
from scipy.stats import norm

from neurolearn.data import NEURON, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError, InsufficientDataError, session_label
from neurolearn.stats.capacity_moments import (dimension_jackknife, pooled_dimension, pooled_moments,
                                               cloud_radius2, radius_jackknife)
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset
from neurolearn.theory.capacity import ball_capacity

__all__ = ["manifold_capacity", "mean_field_capacity", "MIN_CONDITIONS"]

#: Fewest conditions either statistic accepts: with 2 or 3 clouds every dichotomy is nearly always separable
#: and the half-separable neuron count is 1 or 2, a capacity with no resolution.
MIN_CONDITIONS = 4
_BOOTSTRAP = "bootstrap"


def _clouds(recording, by, *, min_trials, name):
    """Centred trial clouds ``[array (m_mu, N)]`` of the conditions of ``recording`` grouped by ``by``."""
    if not isinstance(recording, xr.DataArray):
        raise DataError(f"expected a recording as an xarray.DataArray, found {type(recording).__name__}")
    session = session_label(recording.attrs["session_id"]) if "session_id" in recording.attrs else "recording"
    validate_recording(recording, name=session)
    if TIME in recording.dims:
        recording = recording.mean(TIME)  # the trial's response is its mean over the window
    if recording.dims != (TRIAL, NEURON):
        raise DataError(f"{session}: {name} expects dims ('trial', 'neuron'), found {recording.dims}")
    if by not in recording.coords or recording.coords[by].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"{session}: expected a trial coord {by!r} to group conditions by; available: {available}")
    labels = np.asarray(recording[by].values)
    values = np.asarray(recording.values, dtype=float)
    conditions = np.unique(labels)
    if conditions.size < MIN_CONDITIONS:
        raise InsufficientDataError(f"fewer than {MIN_CONDITIONS} conditions (found {conditions.size})")
    clouds = [values[labels == c] for c in conditions]
    fewest = min(len(c) for c in clouds)
    if fewest < min_trials:
        raise InsufficientDataError(f"fewer than {min_trials} trials in a condition (found {fewest})")
    return clouds, session


def _centre(clouds):
    origin = np.mean([c.mean(axis=0) for c in clouds], axis=0)
    return [c - origin for c in clouds]


def _separable(z):
    """Whether some ``w`` has ``z_i . w > 0`` for every row (found as ``z_i . w >= 1``, exact LP)."""
    n_points, n_dims = z.shape
    result = linprog(np.zeros(n_dims), A_ub=-z, b_ub=-np.ones(n_points), bounds=(None, None), method="highs")
    return result.status == 0


def _guess(previous, n_neurons):
    """Where to start the search: the median of the counts found so far (most dichotomies fall near it)."""
    finite = previous[np.isfinite(previous)]
    return int(np.clip(np.median(finite), 1, n_neurons)) if finite.size else n_neurons


def _smallest_separating(z, guess):
    """Smallest ``n`` such that the first ``n`` columns of ``z`` separate; inf if all of them do not.

    Separability is monotone in nested neuron sets, so a bracket around ``guess`` and bisection find it
    exactly, with about ``2 + log2(bracket)`` linear programs.
    """
    n_neurons = z.shape[1]
    step = max(2, guess // 4)
    if _separable(z[:, :guess]):
        hi, lo = guess, max(guess - step, 0)
        while lo > 0 and _separable(z[:, :lo]):
            hi, lo = lo, max(lo - step, 0)
    else:
        lo, hi = guess, min(guess + step, n_neurons)
        while not _separable(z[:, :hi]):
            if hi == n_neurons:
                return np.inf
            lo, hi = hi, min(hi + step, n_neurons)
    while hi - lo > 1:  # not separable with lo neurons (0: no readout), separable with hi
        mid = (lo + hi) // 2
        if _separable(z[:, :mid]):
            hi = mid
        else:
            lo = mid
    return float(hi)


def _half_separable_count(points, condition, n_conditions, n_dichotomies, rng):
    """Neuron count at which half the random dichotomies are separable (interpolated); inf if above N."""
    n_neurons = points.shape[1]
    smallest = np.empty(n_dichotomies)
    for d in range(n_dichotomies):
        signs = rng.choice([-1.0, 1.0], size=n_conditions)
        z = (signs[condition][:, None] * points)[:, rng.permutation(n_neurons)]
        smallest[d] = _smallest_separating(z, _guess(smallest[:d], n_neurons))
    grid = np.arange(0, n_neurons + 1)
    fraction = (smallest[None, :] <= grid[:, None]).mean(axis=1)
    above = np.nonzero(fraction >= 0.5)[0]
    if above.size == 0:
        return np.inf
    n1 = above[0]
    f0, f1 = fraction[n1 - 1], fraction[n1]
    return float(n1 - 1 + (0.5 - f0) / (f1 - f0))


def _simulation_capacity(clouds, n_dichotomies, rng):
    centred = _centre(clouds)
    points = np.concatenate(centred)
    points = points / (points.std() or 1.0)  # scale-free problem; keeps the LP well conditioned
    condition = np.repeat(np.arange(len(clouds)), [len(c) for c in clouds])
    n_c = _half_separable_count(points, condition, len(clouds), n_dichotomies, rng)
    return len(clouds) / n_c


def _resample(clouds, rng):
    return [c[rng.integers(0, len(c), size=len(c))] for c in clouds]


def _normal_interval(value, replicates, level):
    """``value +- z SE`` (lower end at least 0), ``SE`` the replicates' SD: NaN with fewer than 2 replicates.

    Not the replicates' percentiles: a resample repeats trials, and separability depends only on which points
    are present, so a replicate is the capacity of about 0.63 T distinct trials per condition, easier to
    separate and skewed upward. Re-centred on the estimate, the percentile interval's lower arm was shorter than
    its upper one (0.083 against 0.102) and its misses lay mostly above the truth. On log-normal Poisson
    sessions (40 cells, 8 conditions x 6 trials, 72 sessions of 12 populations; truth an independent exact-LP
    count over 25 trial draws x 32 dichotomies; benchmarks/bench_capacity.py part k, seeds 800 and 900) the two
    intervals from the same 16 replicates cover 68/72 = 0.944 +- 0.027 (3 of the 4 misses above the truth)
    and 71/72 = 0.986 +- 0.014 (this one). It is conservative: the replicates' SD is 1.55 times the
    estimate's RMS error (0.059 against 0.038; their fewer distinct trials vary more), and the SE inherits that.
    """
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size < 2:
        return float("nan"), (float("nan"), float("nan"))
    se = float(replicates.std(ddof=1))
    half = float(norm.ppf(0.5 + level / 2.0)) * se
    return se, (max(value - half, 0.0), value + half)


def _boot_variable(name, replicates):
    return xr.DataArray(np.asarray(replicates, dtype=float), dims=(_BOOTSTRAP,), name=f"{name}_boot",
                        attrs={"resampling": "independent"})


def manifold_capacity(recording, by="stimulus", *, n_dichotomies=32, n_boot=16, level=0.95,
                      random_state=None) -> xr.Dataset:
    """Simulation capacity ``P / N_c`` of the stimulus trial clouds of one session (module docstring).

    Parameters
    ----------
    recording : xarray.DataArray
        One session, dims ``("trial", "neuron")`` (a ``time`` dim is averaged).
    by : str
        Trial coord whose values are the conditions (the manifolds).
    n_dichotomies : int
        Random dichotomies per estimate (each with its own random neuron order).
    n_boot : int
        Bootstrap replicates (trials resampled within conditions, new dichotomies each); each costs as much as
        the estimate (a few hundred small linear programs).
    level : float
        Coverage of the interval.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    xarray.Dataset
        ``manifold_capacity``, ``_se`` (the replicates' SD), ``_ci`` (``value +- z SE``, lower end at least
        0; NaN with fewer than 2 replicates), ``_chance`` (``2 P / n_trials``: trials with no cloud
        structure), ``manifold_capacity_boot`` (dim ``bootstrap``, attr ``resampling="independent"``) and
        ``manifold_capacity_flag``: non-empty (value kept) where the fewest trials in a condition are fewer
        than ``FILL_RATIO`` (10) times the clouds' pooled dimension, so the value is the capacity of that many
        sampled points and depends on the trial count (attr ``trials_per_condition``).

    Raises
    ------
    InsufficientDataError
        Fewer than 4 conditions, a condition with fewer than 2 trials, or too few neurons (fewer than half the
        dichotomies separable with all of them: the capacity is below ``P / N``).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> rec = make_recording(rng.standard_normal((40, 60)), n_trials=2, noise_sd=1e-6, rng=1)  # ~points
    >>> ds = manifold_capacity(rec, n_dichotomies=64, n_boot=0, random_state=0)
    >>> abs(float(ds["manifold_capacity"]) - 2.0) < 0.25  # Cover: P / N = 2 for points
    True
    """
    rng = np.random.default_rng(random_state)
    clouds, session = _clouds(recording, by, min_trials=2, name="manifold_capacity")
    n_neurons = clouds[0].shape[1]
    value = _simulation_capacity(clouds, n_dichotomies, rng)
    if not np.isfinite(value) or value <= 0:
        raise InsufficientDataError(
            f"too few neurons: fewer than half the dichotomies of {len(clouds)} conditions are separable with "
            f"all {n_neurons} neurons (capacity below {len(clouds) / n_neurons:.3g})"
        )
    replicates = [_simulation_capacity(_resample(clouds, rng), n_dichotomies, rng) for _ in range(n_boot)]
    # a replicate whose clouds need more than N neurons has capacity below P/N: record it at that bound
    replicates = np.asarray(replicates, dtype=float)
    replicates[~np.isfinite(replicates)] = len(clouds) / n_neurons
    se, ci = _normal_interval(value, replicates, level)
    n_trials = sum(len(c) for c in clouds)
    ds = estimate_dataset("manifold_capacity", value, se, ci, chance=2.0 * len(clouds) / n_trials, level=level,
                          estimator="simulation capacity P/N_c: median over random dichotomies of the smallest "
                          "separating neuron count (nested random neuron order, exact LP separability)",
                          n_dichotomies=n_dichotomies, n_boot=n_boot, resampling="trials within conditions")
    ds["manifold_capacity_boot"] = _boot_variable("manifold_capacity", replicates)
    fewest = min(len(c) for c in clouds)
    ds["manifold_capacity_flag"] = ((), _filling_reason(clouds))
    ds.attrs["trials_per_condition"] = fewest
    return ds


#: Trials per condition, in units of the clouds' dimension, below which ``manifold_capacity`` is flagged: a
#: sample of T points separates more easily than its full manifold (spheres of D = 2-3: +6-17% at T = 10,
#: within 1% at T = 40, benchmarks/bench_capacity.py; Gaussian clouds of D = 60: 0.85 / 0.69 / 0.50 at
#: T = 6 / 12 / 40 where the full manifolds' capacity is 0.07)
FILL_RATIO = 10.0


def _filling_reason(clouds):
    """Why the trials do not fill their manifolds (``manifold_capacity_flag``; value kept), or ``""``."""
    fewest = min(len(c) for c in clouds)
    advice = ("the value is the capacity of that many points per condition, above the full manifolds' capacity "
              "and falling as trials are added: compare it only between sessions with the same trials per "
              "condition (value kept)")
    if fewest < 4:
        return f"{fewest} trials in a condition, too few to measure whether they fill the manifolds: {advice}"
    if all(np.all(c == c[0]) for c in clouds):
        return ""
    numerator, denominator = pooled_moments(clouds).mean(axis=0)
    if not denominator > 0:
        return f"the clouds' dimension is not resolved at {fewest} trials per condition: {advice}"
    dimension = numerator / denominator
    if fewest < FILL_RATIO * dimension:
        return (f"{fewest} trials in a condition, fewer than {FILL_RATIO:g}x the clouds' dimension "
                f"({dimension:.3g}): {advice}")
    return ""


def _mean_field(clouds, dimension=None):
    """(capacity, radius, dimension); ``dimension`` given (the estimate's) or pooled from ``clouds``."""
    radius2, traces = cloud_radius2(clouds)
    if dimension is None:
        dimension = pooled_dimension(clouds, traces)
    radius = float(np.sqrt(np.mean(radius2))) if np.all(np.isfinite(radius2)) else np.nan
    if not (np.isfinite(radius) and np.isfinite(dimension)):
        return np.nan, radius, float(dimension)
    inverse = np.mean(1.0 / ball_capacity(np.sqrt(np.clip(radius2, 0.0, None)), max(dimension, 1.0)))
    return 1.0 / inverse, radius, float(dimension)


#: A pooled tr(C^2) within this many of its jackknife SEs of 0 leaves the dimension unresolved (NaN with the
#: reason): the ratio's bias grows as (SE/denominator)^2, about 25% at 2 SEs
RESOLVED_SE = 2.0


def _dimension(clouds, level):
    """(value, se, ci, flag) of the pooled manifold dimension."""
    fewest = min(len(c) for c in clouds)
    if fewest < 5:
        return np.nan, np.nan, (np.nan, np.nan), (
            f"fewer than 5 trials in a condition (found {fewest}): the dimension's jackknife deletes one of the 4 "
            "trials tr(C^2) needs")
    if all(np.all(c == c[0]) for c in clouds):
        return 1.0, 0.0, (1.0, 1.0), ""
    value, se, resolved = dimension_jackknife(clouds)
    if not (np.isfinite(value) and resolved > RESOLVED_SE):
        return np.nan, np.nan, (np.nan, np.nan), (
            f"the clouds' tr(C^2) is not resolved from trial sampling noise ({resolved:.2g} jackknife SEs above 0, "
            f"below {RESOLVED_SE:g}): too few trials for the dimension")
    z = float(norm.ppf(0.5 + level / 2.0))
    factor = np.exp(z * se / value)  # an interval on log D: a ratio, positive, right-skewed
    return value, se, (max(value / factor, 1.0), value * factor), ""


#: manifold_radius_flag (value kept) where the jackknife is undefined and the interval is the trial bootstrap's
RADIUS_BOOTSTRAP_FLAG = ("a condition's centroid is not resolved from its trial noise without one of its trials: the "
                         "interval is the trial bootstrap's re-centred percentiles, which can be short (value kept)")


def _radius_interval(clouds, radius, level):
    """(se, ci, flag) of the radius: the jackknife SE, an interval on log R; the flag where it is undefined."""
    se = radius_jackknife(clouds)
    if not np.isfinite(se):
        return np.nan, (np.nan, np.nan), RADIUS_BOOTSTRAP_FLAG
    if se == 0.0 or radius == 0.0:
        return se, (radius, radius), ""
    factor = np.exp(float(norm.ppf(0.5 + level / 2.0)) * se / radius)  # a ratio: positive, right-skewed
    return se, (radius / factor, radius * factor), ""


def mean_field_capacity(recording, by="stimulus", *, n_boot=200, level=0.95, random_state=None) -> xr.Dataset:
    """Mean-field capacity of the stimulus clouds from their radius and dimension (elliptical approximation).

    ``alpha_MF = 1 / mean_mu [1 / alpha_B(R_mu, D)]`` with ``R_mu^2 = tr(C_mu)/|c_mu|^2`` and the pooled
    dimension ``D = mean_mu tr(C_mu)^2 / mean_mu tr(C_mu^2)`` (module docstring); ``alpha_B`` is the
    closed-form capacity of D-dimensional balls (:func:`neurolearn.theory.capacity.ball_capacity`),
    ``-> (1 + R^-2)/D`` at large D and 2 at R = 0.

    Parameters
    ----------
    recording : xarray.DataArray
        One session, dims ``("trial", "neuron")`` (a ``time`` dim is averaged).
    by : str
        Trial coord whose values are the conditions.
    n_boot : int
        Bootstrap replicates (trials resampled within conditions) of the capacity and the radius.
    level : float
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    xarray.Dataset
        ``mean_field_capacity`` (interval within ``[0, 2]``), ``manifold_radius`` (``sqrt(mean_mu R_mu^2)``)
        and ``manifold_dimension`` (the pooled ratio ``D``), each with ``_se``, ``_ci`` and ``_flag`` (``""``,
        or why it is NaN); the capacity and the radius with ``_boot`` (trial bootstrap replicates). The radius's
        and the dimension's SE are stratified delete-one-trial jackknives, their intervals on log R and log D;
        where deleting a trial leaves a centroid unresolved, the radius's SE and interval are the bootstrap's
        (SD, re-centred percentiles) and ``manifold_radius_flag`` says so (value kept). The dimension, and with it the
        capacity, is NaN with the reason where a condition has fewer than 5 trials or the pooled ``tr(C^2)``
        is within 2 jackknife SEs of 0.

    Raises
    ------
    InsufficientDataError
        Fewer than 4 conditions, fewer than 4 trials in a condition (``tr(C^2)`` needs two disjoint trial
        pairs), or a centroid not resolved from its trial noise (its bias-corrected norm is not positive).

    Examples
    --------
    >>> from neurolearn.simulate.manifolds import manifold_recording
    >>> rec = manifold_recording(radius=1.0, dimension=4.0, n_conditions=8, n_neurons=100, n_trials=40, rng=0)
    >>> ds = mean_field_capacity(rec, n_boot=50, random_state=0)
    >>> round(float(ds["manifold_radius"]), 1), round(float(ds["manifold_dimension"])), str(ds["manifold_dimension_flag"].values)
    (1.0, 4, '')
    """
    rng = np.random.default_rng(random_state)
    clouds, session = _clouds(recording, by, min_trials=4, name="mean_field_capacity")
    radius2, _ = cloud_radius2(clouds)
    if not np.all(np.isfinite(radius2)):
        raise InsufficientDataError("a condition's centroid is not resolved from its trial noise "
                                    "(bias-corrected centroid norm <= 0)")
    dimension, dimension_se, dimension_ci, dimension_flag = _dimension(clouds, level)
    value, radius, _ = _mean_field(clouds, dimension)
    replicates = np.array([_mean_field(_resample(clouds, rng)) for _ in range(n_boot)]).reshape(-1, 3)
    parts = []
    bounds = {"mean_field_capacity": (0.0, 2.0), "manifold_radius": (0.0, np.inf)}
    radius_se, radius_ci, radius_flag = _radius_interval(clouds, radius, level)
    for k, (name, point) in enumerate((("mean_field_capacity", value), ("manifold_radius", radius))):
        se, ci = bootstrap_interval(point, replicates[:, k], level)
        if name == "manifold_radius" and not radius_flag:
            se, ci = radius_se, radius_ci
        ci = tuple(np.clip(ci, *bounds[name]))  # the statistic's range (a ratio's replicates can leave it)
        ds = estimate_dataset(name, point, se, ci, level=level)
        ds[f"{name}_boot"] = _boot_variable(name, replicates[:, k])
        ds[f"{name}_flag"] = ((), dimension_flag if name == "mean_field_capacity" else radius_flag)
        parts.append(ds)
    ds = estimate_dataset("manifold_dimension", dimension, dimension_se, dimension_ci, level=level)
    ds["manifold_dimension_flag"] = ((), dimension_flag)
    parts.append(ds)
    out = xr.merge(parts)
    out.attrs.update(estimator="elliptical mean-field: balls of radius tr(C_mu)/|c_mu|^2 and the pooled dimension "
                     "mean (tr C_mu)^2 / mean tr(C_mu^2) (U-statistics), 1/alpha = mean 1/alpha_B", n_boot=n_boot,
                     resampling="trials within conditions (capacity); delete-one-trial jackknife within "
                     "conditions (radius, dimension)")
    return out
