"""Sessions of stimulus manifolds with known radius and dimension that shrink over learning.

Each condition's trials are points drawn uniformly on a sphere of radius ``R`` around its centroid: centroids
are orthonormal directions of a random basis of the neurons, centred over conditions and scaled to unit norm;
each sphere spans its own ``d_mu`` further random orthonormal directions, so its covariance ``C`` has
``tr(C) = R^2`` and participation ratio ``tr(C)^2 / tr(C^2) = d_mu`` exactly. A non-integer mean dimension
``D`` is a mixture: ``round((D - floor D) P)`` conditions have ``ceil D`` dimensions, the others ``floor D``
(the realised mean is within ``1/(2P)`` of ``D``). The truth reported is the estimand of
``manifold_dimension``, the pooled ratio ``mean_mu tr(C_mu)^2 / mean_mu tr(C_mu^2)``: with ``tr(C_mu) = R^2``
on every condition it is the harmonic mean ``P / sum_mu 1/d_mu`` (:func:`pooled_dimension`), equal to ``D`` for
an integer ``D`` and at most ``1/(4 floor D)`` below the arithmetic mean otherwise. The mean-field capacity of the
mixture, ``1 / mean_mu 1/alpha_B(R, d_mu)``, is within 0.5% of the ball formula at the mean dimension
``alpha_B(R, D)`` (the reduced model :mod:`neurolearn.theory.capacity`); uniform spheres are exactly the
balls of the theory, where anisotropic ellipsoids of the same participation ratio are not (their simulation
capacity is 10-15% below the ball formula at ``D`` ~ 1.5-2.5; ``benchmarks/bench_capacity.py``). Over sessions ``R`` and ``D``
relax exponentially (``R_k = R_f + (R_i - R_f) exp(-rate k)``, the same for ``D``), as that model assumes.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.simulate.recording import _session_start, _session_truth, make_recording, make_session_tree
from neurolearn.theory.capacity import ball_capacity

__all__ = ["manifold_recording", "manifold_sessions", "condition_dimensions", "pooled_dimension"]


def condition_dimensions(dimension: float, n_conditions: int) -> np.ndarray:
    """Integer sphere dimension of each condition: ``floor D`` or ``ceil D``, with mean nearest ``D``.

    Examples
    --------
    >>> condition_dimensions(2.25, 8).tolist()
    [2, 2, 2, 2, 2, 2, 3, 3]
    """
    if not dimension >= 1.0:
        raise DataError(f"expected a manifold dimension >= 1, found {dimension}")
    low = int(np.floor(dimension))
    n_high = int(round((dimension - low) * n_conditions))
    return np.r_[np.full(n_conditions - n_high, low), np.full(n_high, low + 1)].astype(int)


def pooled_dimension(dimension: float, n_conditions: int) -> float:
    """The pooled dimension ``mean tr(C)^2 / mean tr(C^2)`` of :func:`condition_dimensions`'s spheres.

    Every sphere has ``tr(C) = R^2`` and ``tr(C^2) = R^4 / d_mu``, so it is ``P / sum_mu 1/d_mu``.

    Examples
    --------
    >>> pooled_dimension(3.0, 8), round(pooled_dimension(2.25, 8), 4)  # 8 / (6/2 + 2/3)
    (3.0, 2.1818)
    """
    dims = condition_dimensions(dimension, n_conditions)
    return float(n_conditions / np.sum(1.0 / dims))


def _pooled_mixture(dimension, n_conditions):
    """The mean dimension whose :func:`condition_dimensions` mixture has the pooled dimension nearest ``dimension``
    (the pooled dimension of a floor/ceil mixture is its harmonic mean, below its arithmetic mean)."""
    low = int(np.floor(dimension))
    candidates = low + np.arange(n_conditions + 1) / n_conditions
    pooled = np.array([pooled_dimension(c, n_conditions) for c in candidates])
    return float(candidates[np.argmin(np.abs(pooled - dimension))])


def _basis(n_neurons, n_columns, rng):
    if n_columns > n_neurons:
        raise DataError(f"expected at least {n_columns} neurons for orthogonal centroids and manifold axes, "
                        f"found {n_neurons}")
    q, _ = np.linalg.qr(rng.standard_normal((n_neurons, n_columns)))
    return q


def _condition_points(radius, dimension, n_conditions, n_neurons, n_trials, rng):
    """(per-condition dimensions (P,), trial points (P, m, N)) with the module's geometry."""
    dims = condition_dimensions(dimension, n_conditions)
    q = _basis(n_neurons, n_conditions + int(dims.sum()), rng)
    centroids = q[:, :n_conditions].T
    centroids = (centroids - centroids.mean(axis=0)) / np.sqrt(1.0 - 1.0 / n_conditions)  # mean 0, norm 1
    points = np.empty((n_conditions, n_trials, n_neurons))
    start = n_conditions
    for mu, d in enumerate(dims):
        u = rng.standard_normal((n_trials, d))
        u /= np.linalg.norm(u, axis=1, keepdims=True)  # uniform on the unit sphere: E[u_i^2] = 1/d
        points[mu] = centroids[mu] + radius * u @ q[:, start:start + d].T
        start += d
    return dims, points


def manifold_recording(radius=1.0, dimension=4.0, *, n_conditions=12, n_neurons=120, n_trials=20, noise_sd=0.0,
                       session_id="session-0", session_start_time="2026-01-01T09:00:00", rng=None) -> xr.DataArray:
    """One session: ``n_trials`` points on each of ``n_conditions`` spheres of radius R, mean dimension D.

    ``noise_sd`` adds isotropic Gaussian noise to every response (off the manifolds; 0 keeps R and D exact).
    Needs ``n_neurons >= n_conditions * (1 + ceil(D))``. The attr ``condition_dimensions`` lists each
    condition's sphere dimension.

    Examples
    --------
    >>> rec = manifold_recording(radius=0.5, dimension=3.0, n_conditions=6, n_neurons=40, n_trials=5, rng=0)
    >>> rec.sizes["trial"], rec.sizes["neuron"], len(set(rec.stimulus.values.tolist()))
    (30, 40, 6)
    """
    rng = np.random.default_rng(rng)
    dims, points = _condition_points(radius, dimension, n_conditions, n_neurons, n_trials, rng)
    rec = make_recording(np.zeros((n_conditions, n_neurons)), n_trials=n_trials, noise_sd=noise_sd,
                         session_id=session_id, session_start_time=session_start_time, rng=rng)
    # make_recording gives the trial coords and noise around 0; put each trial on its condition's manifold
    condition = rec.stimulus.values
    order = np.argsort(np.argsort(condition, kind="stable"), kind="stable") % n_trials
    rec = rec.copy(data=rec.values + points[condition, order])
    rec.attrs["condition_dimensions"] = dims.tolist()
    return rec


def manifold_sessions(n_sessions=8, *, radius_initial=1.5, radius_final=0.4, dimension_initial=6.0,
                      dimension_final=2.0, rate=0.5, n_conditions=12, n_neurons=120, n_trials=20, noise_sd=0.0,
                      rng=None):
    """Sessions whose manifolds shrink: ``R_k``, ``D_k`` relax exponentially over session index ``k``.

    Returns
    -------
    tree : xarray.DataTree
        One child per session (``day0``, ``day1``, ...), different random neurons' geometry each session.
    truth : xarray.Dataset
        Over ``session`` (coord ``session_index``): ``manifold_radius``, ``manifold_dimension`` and
        ``mean_field_capacity`` (the ball formula at them, the reduced model's ``manifold_capacity``); the
        dimension is the realised pooled dimension (:func:`pooled_dimension`; each session's floor/ceil
        mixture is chosen so that it is the nearest to the exponential law, within about ``1/P``; attr
        ``dimension_law`` holds the law's values).

    Examples
    --------
    >>> tree, truth = manifold_sessions(3, n_conditions=6, n_neurons=60, n_trials=5, rng=0)
    >>> list(tree.children), [round(float(r), 2) for r in truth.manifold_radius]
    (['day0', 'day1', 'day2'], [1.5, 1.07, 0.8])
    """
    rng = np.random.default_rng(rng)
    k = np.arange(n_sessions)
    radius = radius_final + (radius_initial - radius_final) * np.exp(-rate * k)
    dimension = dimension_final + (dimension_initial - dimension_final) * np.exp(-rate * k)
    ids = [f"day{i}" for i in k]
    mixtures = [_pooled_mixture(d, n_conditions) for d in dimension]  # pooled dimension nearest the law's
    recordings = [
        manifold_recording(radius[i], mixtures[i], n_conditions=n_conditions, n_neurons=n_neurons,
                           n_trials=n_trials, noise_sd=noise_sd, session_id=ids[i],
                           session_start_time=_session_start(i), rng=rng)
        for i in k
    ]
    realised = np.array([pooled_dimension(d, n_conditions) for d in mixtures])
    truth = _session_truth(ids, {"manifold_radius": radius, "manifold_dimension": realised,
                                 "mean_field_capacity": ball_capacity(radius, realised)},
                           {"source": "neurolearn.simulate.manifolds.manifold_sessions", "rate": rate,
                            "radius_initial": radius_initial, "radius_final": radius_final,
                            "dimension_initial": dimension_initial, "dimension_final": dimension_final,
                            "dimension_law": dimension.tolist()})
    return make_session_tree(recordings), truth
