"""Sessions of stimulus manifolds with known radius and dimension that shrink over learning.

Each condition's trials are points drawn uniformly on an ellipsoid surface around its centroid: centroids are
orthonormal directions of a random basis of the neurons, centred over conditions and scaled to unit norm;
each manifold spans its own ``K = ceil(D)`` further random orthonormal directions with semi-axes chosen so
that its covariance ``C`` has ``tr(C) = R^2`` and participation ratio ``tr(C)^2 / tr(C^2) = D`` exactly
(``K - 1`` equal axes and one shorter one for a non-integer ``D``). So ``R`` and ``D`` are exactly the
radius and dimension :func:`neurolearn.stats.capacity.mean_field_capacity` estimates, and its ball-formula
capacity is the truth of the reduced model :mod:`neurolearn.theory.capacity`. Over sessions ``R`` and ``D``
relax exponentially (``R_k = R_f + (R_i - R_f) exp(-rate k)``, the same for ``D``), as that model assumes.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import brentq

from neurolearn.errors import DataError
from neurolearn.simulate.recording import _session_start, _session_truth, make_recording, make_session_tree
from neurolearn.theory.capacity import ball_capacity

__all__ = ["manifold_recording", "manifold_sessions", "axis_variances"]


def axis_variances(dimension: float) -> np.ndarray:
    """Relative variances of ``ceil(D)`` axes whose participation ratio is ``D`` (summing to 1).

    Examples
    --------
    >>> v = axis_variances(2.5)
    >>> len(v), round(float(v.sum() ** 2 / (v ** 2).sum()), 6)
    (3, 2.5)
    """
    if not dimension >= 1.0:
        raise DataError(f"expected a manifold dimension >= 1, found {dimension}")
    k = int(np.ceil(dimension - 1e-12))
    a = k - 1.0
    if k == 1 or np.isclose(dimension, k):
        variances = np.ones(k)
    else:
        # (a + f)^2 / (a + f^2) rises from a to a + 1 on f in [0, 1]
        f = brentq(lambda f: (a + f) ** 2 / (a + f * f) - dimension, 0.0, 1.0)
        variances = np.r_[np.ones(k - 1), f]
    return variances / variances.sum()


def _basis(n_neurons, n_columns, rng):
    if n_columns > n_neurons:
        raise DataError(f"expected at least {n_columns} neurons for orthogonal centroids and manifold axes, "
                        f"found {n_neurons}")
    q, _ = np.linalg.qr(rng.standard_normal((n_neurons, n_columns)))
    return q


def _condition_points(radius, dimension, n_conditions, n_neurons, n_trials, rng):
    """(centroids (P, N), trial points (P, m, N)) with the module's geometry."""
    variances = axis_variances(dimension)
    k = variances.size
    q = _basis(n_neurons, n_conditions * (1 + k), rng)
    centroids = q[:, :n_conditions].T
    centroids = (centroids - centroids.mean(axis=0)) / np.sqrt(1.0 - 1.0 / n_conditions)  # mean 0, norm 1
    axes = q[:, n_conditions:].T.reshape(n_conditions, k, n_neurons)
    semi_axes = radius * np.sqrt(k * variances)  # uniform on the unit sphere: E[u_i^2] = 1/k
    u = rng.standard_normal((n_conditions, n_trials, k))
    u /= np.linalg.norm(u, axis=2, keepdims=True)
    points = centroids[:, None, :] + np.einsum("pmk,k,pkn->pmn", u, semi_axes, axes)
    return centroids, points


def manifold_recording(radius=1.0, dimension=4.0, *, n_conditions=12, n_neurons=120, n_trials=20, noise_sd=0.0,
                       session_id="session-0", session_start_time="2026-01-01T09:00:00", rng=None) -> xr.DataArray:
    """One session: ``n_trials`` points on each of ``n_conditions`` ellipsoids of radius R and dimension D.

    ``noise_sd`` adds isotropic Gaussian noise to every response (off the manifolds; 0 keeps R and D exact).
    Needs ``n_neurons >= n_conditions * (1 + ceil(D))``.

    Examples
    --------
    >>> rec = manifold_recording(radius=0.5, dimension=3.0, n_conditions=6, n_neurons=40, n_trials=5, rng=0)
    >>> rec.sizes["trial"], rec.sizes["neuron"], len(set(rec.stimulus.values.tolist()))
    (30, 40, 6)
    """
    rng = np.random.default_rng(rng)
    _, points = _condition_points(radius, dimension, n_conditions, n_neurons, n_trials, rng)
    rec = make_recording(np.zeros((n_conditions, n_neurons)), n_trials=n_trials, noise_sd=noise_sd,
                         session_id=session_id, session_start_time=session_start_time, rng=rng)
    # make_recording gives the trial coords and noise around 0; put each trial on its condition's manifold
    condition = rec.stimulus.values
    order = np.argsort(np.argsort(condition, kind="stable"), kind="stable") % n_trials
    return rec.copy(data=rec.values + points[condition, order])


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
        ``mean_field_capacity`` (the ball formula at them, the reduced model's ``manifold_capacity``).

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
    recordings = [
        manifold_recording(radius[i], dimension[i], n_conditions=n_conditions, n_neurons=n_neurons,
                           n_trials=n_trials, noise_sd=noise_sd, session_id=ids[i],
                           session_start_time=_session_start(i), rng=rng)
        for i in k
    ]
    truth = _session_truth(ids, {"manifold_radius": radius, "manifold_dimension": dimension,
                                 "mean_field_capacity": ball_capacity(radius, dimension)},
                           {"source": "neurolearn.simulate.manifolds.manifold_sessions", "rate": rate,
                            "radius_initial": radius_initial, "radius_final": radius_final,
                            "dimension_initial": dimension_initial, "dimension_final": dimension_final})
    return make_session_tree(recordings), truth
