"""Readout capacity over learning: stimulus manifolds that shrink become separable by fewer neurons.

Mean-field manifold capacity (Chung, Lee & Sompolinsky 2016, 2018). P manifolds (the trial clouds of P
stimuli) in N neurons, each a centroid ``x0`` plus a cloud of radius ``R`` (relative to ``|x0|``) spread over
``D`` dimensions, are linearly separable in random dichotomies (a hyperplane through the origin, zero margin)
up to ``P / N = alpha``. For D-dimensional L2 balls (:func:`ball_capacity`)

    1 / alpha_B(R, D) = E_{t ~ chi_D} [ int_{-t/R}^{R t} Dt0 (R t - t0)^2 / (1 + R^2)
                                        + int_{-inf}^{-t/R} Dt0 (t0^2 + t^2) ]

(``Dt0`` the standard normal measure; the first term is the "touching" regime, the second the "embedded" one,
where the whole ball lies on the margin plane). Its limits: ``alpha_B = 2`` for points (``R = 0``, Cover's
theorem), ``alpha_B -> 1 / (D + 1/2)`` for ``R -> inf`` (an affine D-dimensional subspace per manifold) and
``alpha_B ~ (1 + R^-2) / D`` for ``R sqrt(D) >> 1``. Chung et al. (2018) show that general manifolds behave as
balls of an effective radius ``R_M`` and dimension ``D_M``; this model uses the elliptical (second-moment)
version: ``R_M^2 = tr(C) / |x0|^2`` and ``D_M = tr(C)^2 / tr(C^2)`` with ``C`` a cloud's covariance, which are
exact for uniform spheres and what :func:`neurolearn.stats.capacity.mean_field_capacity` measures.

The reduced model of learning: the representation compresses each stimulus's trial cloud, so radius and
dimension relax exponentially at one rate from initial to final values,

    R_M(t) = R_f + (R_i - R_f) exp(-rate t),   D_M(t) = D_f + (D_i - D_f) exp(-rate t),

and ``manifold_capacity(t) = alpha_B(R_M(t), D_M(t))``. Observables: ``manifold_capacity`` (the simulation
capacity by random dichotomies), ``manifold_radius`` and ``manifold_dimension`` (the clouds' R_M and the
pooled D_M = mean tr(C)^2 / mean tr(C^2)). The radius and dimension observables are what separate the radius
from the dimension: the capacity alone pins only a combination.

The prediction is the capacity of the **full** manifolds; it has no trial count. The simulation capacity of
T sampled trials per condition is above it and falls toward it as T grows (uniform spheres of R 0.3-1.5,
D 1-3: +8-47% at T = 2 D, within 3.5% at T >= 10 D, benchmarks/bench_capacity.py part t; Gaussian clouds
of D = 60: 0.85 / 0.69 / 0.50 at T = 6 / 12 / 40 for a full capacity of 0.07), so the model describes ``manifold_capacity`` only where its flag is empty (the fewest
trials per condition at least 10 D_M: :data:`neurolearn.stats.capacity.FILL_RATIO`). Fit it to flagged
sessions only through ``manifold_radius`` and ``manifold_dimension``, which do not depend on the trial
count; a flagged ``manifold_capacity`` measures the trial count as much as the clouds.

The dimensions are searched on a log scale: a participation ratio spans decades, and a linear search of
[1, 200] puts nine tenths of its starts above 20. The radii stay linear (their natural lower bound is 0). A
series with no change in radius or dimension has no rate, time scale or onset: fit such sessions with the time
mapping held fixed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, xlogy

from neurolearn.theory.base import Model, Parameter

__all__ = ["MODEL", "ball_capacity", "ball_capacity_derivatives", "capacity_statistics", "capacity_jacobian"]

# Quadrature of the chi_D average: a fixed grid in u = t / sqrt(D) is accurate to ~1e-5 for D in [1, 500]
# (checked against scipy.integrate.quad in the tests) and keeps the model fast enough for multi-start fits.
_N_GRID = 1201
# ball (radius, dimension) -> alpha_B of the balls integrated most recently (cleared when it reaches the size)
_CACHE: dict = {}
_CACHE_SIZE = 100_000
# ... and (radius, dimension) -> (alpha_B, d/dR, d/dD) for the fitter's Jacobians (a refit revisits them)
_DERIVATIVE_CACHE: dict = {}
_SQRT_2PI = np.sqrt(2.0 * np.pi)
# the derivatives' grid in units of its span, and the trapezoid rule's weights on it (in units of the spacing)
_GRID = np.linspace(0.0, 1.0, _N_GRID)
_TRAPEZOID = np.ones(_N_GRID)
_TRAPEZOID[[0, -1]] = 0.5


def _lower_limit(R, t):
    """The quadrature's lower limit a = -t/R (-inf where R = 0: a touching/embedded boundary), phi(a) and
    a phi(a) (0 where a is infinite); the np.where guards only act on points R = 0, skipped when there are none
    (same values)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        points = not (R > 0).all()
        if points:
            a = np.where(R > 0, -t / np.where(R > 0, R, 1.0), -np.inf)
        else:
            a = np.divide(t, R)
            np.negative(a, out=a)  # a = -t / R
        phi_a = _phi(a)
        x_phi_a = np.where(np.isfinite(a), a * phi_a, 0.0) if points else a * phi_a
    return a, phi_a, x_phi_a


def _phi(x):
    """Standard normal density, ``exp(-x^2 / 2) / sqrt(2 pi)`` (in place on one temporary)."""
    out = np.multiply(x, -0.5)
    out *= x
    np.exp(out, out=out)
    out /= _SQRT_2PI
    return out


def _trapezoid_sum(values):
    """Trapezoid rule along axis 1 in units of the grid spacing."""
    return values.sum(axis=1) - 0.5 * (values[:, 0] + values[:, -1])


def ball_capacity(radius, dimension):
    """Mean-field capacity ``alpha_B(R, D)`` of D-dimensional L2 balls of radius R (zero margin).

    Parameters
    ----------
    radius : array_like
        Ball radius relative to the centroid norm (>= 0).
    dimension : array_like
        Ball dimension (>= 1; need not be an integer: the chi_D average is defined for real D).

    Returns
    -------
    numpy.ndarray
        Capacity ``P / N`` at the separability transition, broadcast over the inputs; in ``(0, 2]``.

    Examples
    --------
    >>> [round(float(a), 3) for a in ball_capacity([0.0, 1e-6, 1e6], [5.0, 5.0, 5.0])]  # points; subspaces 1/(D+1/2)
    [2.0, 2.0, 0.182]
    >>> r, d = 2.0, 200.0  # large-D limit (1 + R^-2) / D
    >>> round(float(ball_capacity(r, d) * d / (1 + r ** -2)), 2)
    1.0
    """
    radius, dimension = np.broadcast_arrays(np.asarray(radius, dtype=float), np.asarray(dimension, dtype=float))
    shape = radius.shape
    r, d = np.clip(radius.ravel(), 0.0, None), np.clip(dimension.ravel(), 1.0, None)
    # sessions before the onset (or after saturation) share (R, D): integrate each distinct ball once (rows are
    # independent, so their order does not matter; a lexicographic sort is faster than np.unique(axis=0))
    order = np.lexsort((d, r))
    r_sorted, d_sorted = r[order], d[order]
    new_row = np.ones(r.size, dtype=bool)
    new_row[1:] = (r_sorted[1:] != r_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])
    index = np.empty(r.size, dtype=np.intp)
    index[order] = np.cumsum(new_row) - 1
    alpha = _cached_capacity(r_sorted[new_row], d_sorted[new_row])
    return alpha[index.ravel()].reshape(shape)


def _cached_capacity(r, d):
    """``alpha_B`` of distinct balls ``(r[i], d[i])``, integrating only those not in the cache.

    Fits evaluate the same balls again and again (a least-squares run restarts where it stopped, profiles
    revisit their optimum, sessions before the onset share their ball across parameter perturbations): about a
    quarter of the balls a ``capacity`` profile fit asks for (benchmarks/bench_fit.py design, seed 0). Each row's quadrature depends on that row only, so a
    cached value is the one recomputing it would give, to the bit.
    """
    keys = list(zip(r.tolist(), d.tolist()))
    found = [_CACHE.get(key) for key in keys]
    missing = [i for i, value in enumerate(found) if value is None]
    if not missing:
        return np.array(found, dtype=float)
    alpha = np.array([np.nan if value is None else value for value in found], dtype=float)
    if len(missing) == len(keys):
        alpha = _quadrature(r[:, None], d[:, None])
    else:
        alpha[missing] = _quadrature(r[missing][:, None], d[missing][:, None])
    if len(_CACHE) + len(missing) > _CACHE_SIZE:
        _CACHE.clear()
    _CACHE.update((keys[i], float(alpha[i])) for i in missing)
    return alpha


def _quadrature(R, D):
    """``alpha_B`` of the balls in column vectors ``R``, ``D`` (clipped to R >= 0, D >= 1), one row each."""
    # t = |T| ~ chi_D, concentrated at sqrt(D) with sd ~ 0.7: a grid covering sqrt(D) +- 12 sd (and 0).
    # (in-place arithmetic below: each value is computed by the same operations, in the same order, as the
    # plain expressions in the comments, so the results are identical to the bit; it saves the temporaries)
    half = 12.0
    lo = np.clip(np.sqrt(D) - half, 0.0, None)
    hi = np.sqrt(D) + half
    grid = np.linspace(0.0, 1.0, _N_GRID)
    t = (hi - lo) * grid
    t += lo  # t = lo + (hi - lo) * grid
    t2 = t * t
    # the chi_D density up to its constant factor, which cancels in the normalised average below
    log_weight = xlogy(D - 1.0, t)
    log_weight -= 0.5 * t2  # log_weight = xlogy(D - 1, t) - t^2 / 2
    log_weight -= log_weight.max(axis=1, keepdims=True)
    weight = np.exp(log_weight, out=log_weight)
    # (the np.where guard on b only acts on infinite b; skipped when there is none, same values)
    a, phi_a, x_phi_a = _lower_limit(R, t)
    b = R * t
    phi_b = _phi(b)
    with np.errstate(invalid="ignore"):
        x_phi_b = b * phi_b if np.isfinite(b).all() else np.where(np.isfinite(b), b * phi_b, 0.0)
    ndtr_a = ndtr(a)
    # int_a^b phi(x) (b - x)^2 dx = b^2 [Phi] - 2b [phi(a) - phi(b)] + [Phi] + a phi(a) - b phi(b)
    mass = ndtr(b)
    mass -= ndtr_a  # mass = ndtr(b) - ndtr(a)
    # touching = (b * b * mass - 2 b (phi_a - phi_b) + mass + x_phi_a - x_phi_b) / (1 + R^2)
    touching = b * b
    touching *= mass
    np.subtract(phi_a, phi_b, out=phi_a)
    np.multiply(b, 2.0, out=phi_b)
    phi_b *= phi_a
    touching -= phi_b
    touching += mass
    touching += x_phi_a
    touching -= x_phi_b
    touching /= 1.0 + R * R
    # int_-inf^a phi(x) (x^2 + t^2) dx = Phi(a) - a phi(a) + t^2 Phi(a)
    embedded = np.subtract(ndtr_a, x_phi_a, out=x_phi_a)
    t2 *= ndtr_a
    embedded += t2  # embedded = ndtr_a - x_phi_a + t2 * ndtr_a
    touching += embedded
    touching *= weight  # weight * (touching + embedded)
    # trapezoid rule on each row's uniform grid; its spacing cancels in the ratio
    inverse = _trapezoid_sum(touching) / _trapezoid_sum(weight)
    return 1.0 / inverse


def ball_capacity_derivatives(radius, dimension):
    """``alpha_B`` and its derivatives ``d alpha_B / dR`` and ``d alpha_B / dD`` (arrays like the inputs).

    The derivatives are those of the quadrature :func:`ball_capacity` evaluates (its grid moves with ``D``), so
    they agree with its finite differences to their truncation error; 0 where an input is clipped (R < 0,
    D < 1). The envelope identity makes them simple: the touching and embedded integrands meet smoothly at
    ``t0 = -t / R`` (their derivatives in that boundary cancel), so with ``b = R t``, ``M = Phi(b) - Phi(-t/R)``
    and ``I = int_{-t/R}^{b} Dt0 (b - t0)^2``,

        d/dR [touching + embedded] = t dI/db / (1 + R^2) - 2 R I / (1 + R^2)^2,
        d/dt [touching + embedded] = R dI/db / (1 + R^2) + 2 t Phi(-t/R),   dI/db = 2 (b M - phi(-t/R) + phi(b)),

    and ``D`` enters through the chi_D weight ``t^(D-1) exp(-t^2/2)`` and the grid ``t(D)``.

    Examples
    --------
    >>> alpha, d_r, d_d = ball_capacity_derivatives(1.0, 5.0)
    >>> h = 1e-6
    >>> bool(abs(d_r - (ball_capacity(1.0 + h, 5.0) - ball_capacity(1.0 - h, 5.0)) / (2 * h)) < 1e-6)
    True
    >>> bool(d_r < 0 and d_d < 0)  # larger and higher-dimensional balls are harder to separate
    True
    """
    radius, dimension = np.broadcast_arrays(np.asarray(radius, dtype=float), np.asarray(dimension, dtype=float))
    shape = radius.shape
    r, d = radius.ravel(), dimension.ravel()
    rc, dc = np.clip(r, 0.0, None), np.clip(d, 1.0, None)
    # one quadrature per distinct ball (sessions before the onset share theirs) not integrated recently
    balls, index = np.unique(np.column_stack([rc, dc]), axis=0, return_inverse=True)
    keys = list(map(tuple, balls.tolist()))
    found = [_DERIVATIVE_CACHE.get(key) for key in keys]
    missing = [i for i, value in enumerate(found) if value is None]
    if missing:
        computed = np.column_stack(_quadrature_derivatives(balls[missing, :1], balls[missing, 1:]))
        if len(_DERIVATIVE_CACHE) + len(missing) > _CACHE_SIZE:
            _DERIVATIVE_CACHE.clear()
        for i, row in zip(missing, computed):
            found[i] = tuple(row.tolist())
            _DERIVATIVE_CACHE[keys[i]] = found[i]
    alpha, d_r, d_d = np.array(found, dtype=float).reshape(-1, 3).T
    index = index.ravel()
    d_r = np.where(r < 0.0, 0.0, d_r[index])
    d_d = np.where(d < 1.0, 0.0, d_d[index])
    return alpha[index].reshape(shape), d_r.reshape(shape), d_d.reshape(shape)


def _quadrature_derivatives(R, D):
    """:func:`_quadrature` of column vectors ``R``, ``D`` with its derivatives in ``R`` and ``D`` (1-d each).

    (In place on a few temporaries, as :func:`_quadrature`: as fast as the values alone.)
    """
    half = 12.0
    root = np.sqrt(D)
    lo = np.clip(root - half, 0.0, None)
    t = (root + half - lo) * _GRID
    t += lo
    # how the grid moves with D: d(sqrt D)/dD = 1 / (2 sqrt D), for its lower end only while it is not clipped at 0
    d_hi = 0.5 / root
    d_lo = np.where(root - half > 0.0, d_hi, 0.0)
    t_d = (d_hi - d_lo) * _GRID
    t_d += d_lo
    positive = t > 0.0
    every = bool(positive.all())
    safe_t = t if every else np.where(positive, t, 1.0)
    log_t = np.log(safe_t)
    t2 = t * t
    log_weight = xlogy(D - 1.0, t)
    log_weight -= 0.5 * t2
    log_weight -= log_weight.max(axis=1, keepdims=True)
    weight = np.exp(log_weight, out=log_weight)
    a, phi_a, x_phi_a = _lower_limit(R, t)
    b = R * t
    phi_b = _phi(b)
    ndtr_a = ndtr(a)
    mass = ndtr(b)
    mass -= ndtr_a
    d_integral = b * mass  # dI/db = 2 (b M - phi_a + phi_b)
    d_integral -= phi_a
    d_integral += phi_b
    d_integral *= 2.0
    integral = b * b  # I = b^2 M - 2 b (phi_a - phi_b) + M + a phi_a - b phi_b
    integral *= mass
    phi_a -= phi_b
    phi_a *= b
    phi_a *= 2.0
    integral -= phi_a
    integral += mass
    integral += x_phi_a
    phi_b *= b
    integral -= phi_b
    scale = 1.0 + R * R
    integral /= scale  # the touching term
    f = np.subtract(ndtr_a, x_phi_a, out=x_phi_a)  # + the embedded term: f = touching + embedded
    f += t2 * ndtr_a
    f += integral
    f_r = t * d_integral  # df/dR = t dI/db / (1 + R^2) - 2 R I / (1 + R^2)^2
    f_r -= (2.0 * R) * integral
    f_r /= scale
    f_t = d_integral  # df/dt = R dI/db / (1 + R^2) + 2 t Phi(a)
    f_t *= R / scale
    ndtr_a *= t
    ndtr_a *= 2.0
    f_t += ndtr_a
    # d log(weight) / dD = log t + ((D - 1) / t - t) dt/dD; the t = 0 node carries no weight for D > 1 (and is
    # given no derivative)
    dlogw = np.divide(D - 1.0, safe_t)
    dlogw -= t
    dlogw *= t_d
    dlogw += log_t
    if not every:
        dlogw[~positive] = 0.0
    weight *= _TRAPEZOID
    total = weight.sum(axis=1)
    inverse = np.einsum("ij,ij->i", weight, f) / total
    inverse_r = np.einsum("ij,ij->i", weight, f_r) / total
    f -= inverse[:, None]
    f *= dlogw
    f_t *= t_d
    f_t += f
    inverse_d = np.einsum("ij,ij->i", weight, f_t) / total
    alpha = 1.0 / inverse
    return alpha, -inverse_r * alpha**2, -inverse_d * alpha**2


def _relax(initial, final, rate, time):
    return final + (initial - final) * np.exp(-rate * np.clip(time, 0.0, None))


def capacity_statistics(time, radius_initial=1.5, radius_final=0.5, dimension_initial=8.0, dimension_final=3.0,
                        rate=0.5) -> dict:
    """Predicted capacity, radius and dimension at training times ``time`` (see the module docstring).

    Examples
    --------
    >>> out = capacity_statistics([0.0, 2.0, 50.0])
    >>> [round(float(v), 2) for v in out["manifold_radius"]], [round(float(v), 2) for v in out["manifold_dimension"]]
    ([1.5, 0.87, 0.5], [8.0, 4.84, 3.0])
    >>> bool(np.all(np.diff(out["manifold_capacity"]) > 0))  # shrinking clouds: capacity rises
    True
    """
    t = np.atleast_1d(np.asarray(time, dtype=float))
    radius = _relax(radius_initial, radius_final, rate, t)
    dimension = _relax(dimension_initial, dimension_final, rate, t)
    return {
        "manifold_capacity": ball_capacity(radius, dimension),
        "manifold_radius": radius,
        "manifold_dimension": dimension,
    }


def capacity_jacobian(time, radius_initial=1.5, radius_final=0.5, dimension_initial=8.0, dimension_final=3.0,
                      rate=0.5) -> dict:
    """Derivatives of :func:`capacity_statistics` with respect to ``"time"`` and each parameter (the model's
    ``jacobian``): the relaxations in closed form, the capacity through :func:`ball_capacity_derivatives`.

    Examples
    --------
    >>> out = capacity_jacobian([0.0, 2.0])
    >>> [round(float(v), 4) for v in out["manifold_radius"]["radius_initial"]]  # exp(-rate t)
    [1.0, 0.3679]
    """
    t = np.clip(np.atleast_1d(np.asarray(time, dtype=float)), 0.0, None)
    decay = np.exp(-rate * t)
    radius = radius_final + (radius_initial - radius_final) * decay
    dimension = dimension_final + (dimension_initial - dimension_final) * decay
    # d/d(initial) = decay, d/d(final) = 1 - decay, d/d(rate) = -(initial - final) t decay, d/dt = -(...) rate decay
    grow = 1.0 - decay
    radius_d = {"radius_initial": decay, "radius_final": grow, "rate": -(radius_initial - radius_final) * t * decay,
                "time": -(radius_initial - radius_final) * rate * decay}
    dimension_d = {"dimension_initial": decay, "dimension_final": grow,
                   "rate": -(dimension_initial - dimension_final) * t * decay,
                   "time": -(dimension_initial - dimension_final) * rate * decay}
    _, alpha_r, alpha_d = ball_capacity_derivatives(radius, dimension)
    zero = np.zeros_like(t)
    names = ("time", "radius_initial", "radius_final", "dimension_initial", "dimension_final", "rate")
    return {
        "manifold_capacity": {k: alpha_r * radius_d.get(k, zero) + alpha_d * dimension_d.get(k, zero) for k in names},
        "manifold_radius": {k: radius_d.get(k, zero) for k in names},
        "manifold_dimension": {k: dimension_d.get(k, zero) for k in names},
    }


MODEL = (  # listed in neurolearn.theory.MODELS by neurolearn/theory/__init__.py
    Model(
        name="capacity",
        description=(
            "Readout capacity over learning: each stimulus's trial cloud is a manifold of radius R_M (relative "
            "to its centroid norm) and dimension D_M; learning compresses the clouds, so R_M and D_M relax "
            "exponentially and the number of stimulus manifolds a linear readout can separate per neuron "
            "(the mean-field capacity of balls of that radius and dimension) rises toward its final value."
        ),
        formula=(
            "R_M(t) = R_f + (R_i - R_f) exp(-rate t); D_M(t) = D_f + (D_i - D_f) exp(-rate t); "
            "manifold_capacity = alpha_B(R_M, D_M), 1/alpha_B = E_{t~chi_D}[int_{-t/R}^{Rt} Dt0 (Rt - t0)^2/(1+R^2)"
            " + int_{-inf}^{-t/R} Dt0 (t0^2 + t^2)]; manifold_radius = R_M; manifold_dimension = D_M"
        ),
        reference=(
            "Chung, Lee & Sompolinsky (2016), Linear readout of object manifolds, Phys. Rev. E 93, 060301; "
            "Chung, Lee & Sompolinsky (2018), Classification and geometry of general perceptual manifolds, "
            "Phys. Rev. X 8, 031003."
        ),
        parameters=(
            Parameter("radius_initial", 1.5, (0.0, 20.0), "manifold radius before learning (units of centroid norm)",
                      natural=(True, False)),
            Parameter("radius_final", 0.5, (0.0, 20.0), "manifold radius after learning (units of centroid norm)",
                      natural=(True, False)),
            Parameter("dimension_initial", 8.0, (1.0, 200.0), "manifold dimension before learning (participation "
                      "ratio of a cloud's covariance)", log_scale=True, natural=(True, False)),
            Parameter("dimension_final", 3.0, (1.0, 200.0), "manifold dimension after learning", log_scale=True,
                      natural=(True, False)),
            Parameter("rate", 0.5, (1e-3, 20.0), "relaxation rate of radius and dimension (per unit model time)",
                      log_scale=True),
        ),
        observables=("manifold_capacity", "manifold_radius", "manifold_dimension"),
        function=capacity_statistics,
        jacobian=capacity_jacobian,
        time_unit="session",
        time_span=8.0,
        simulator="neurolearn.simulate.manifolds.manifold_sessions",
    )
)
