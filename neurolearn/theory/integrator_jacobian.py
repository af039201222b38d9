"""Derivatives of the integrator model's statistics, from the same memoised trajectories as its values.

:func:`neurolearn.theory.integrator.integrator_statistics` interpolates stored trajectories: linearly in model
time between points ``step`` apart, and bilinearly between the grid's corners in ``x = log(1 - rho*) / dx``
and ``y = log(readout_gain) / dy``. Its derivatives are those of that interpolation, exactly: in time the
slope of the stored segment, in ``rho*`` and ``readout_gain`` the corners' differences times ``dx/drho* =
-1 / ((1 - rho*) dx)`` and ``dy/dgain = 1 / (gain dy)`` -- no trajectory beyond the four corners a value
needs (forward differences need the same corners, so the fit's Jacobian costs one prediction instead of
seven). Where the interpolation has a kink (a stored point, a grid line, the ``bulk`` floor, the clipped
behaviour) the derivative is one of its one-sided ones.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["statistics_jacobian"]


def _corner(values, position, n_points, step):
    """Interpolated value and time slope of one stored series at ``position`` (in stored steps)."""
    grid = np.arange(n_points)
    series = values[:n_points]
    value = np.interp(position, grid, series)
    index = np.clip(np.floor(position).astype(int), 0, n_points - 2)
    slope = (series[index + 1] - series[index]) / step
    return value, slope


def statistics_jacobian(time, rho_star, readout_gain, bulk, dt, trajectory, rho_grid, gain_grid, step,
                        tau_cap):
    """For each observable, its derivative in ``"time"`` and every parameter (arrays shaped like ``time``).

    ``trajectory(i, j)`` is the memoised trajectory at grid corner ``(i, j)`` (``extend``, ``rho``), as in
    :func:`neurolearn.theory.integrator._interpolated`.
    """
    raw = np.asarray(time, dtype=float)
    t = np.clip(raw, 0.0, tau_cap)
    inside = (raw > 0.0) & (raw < tau_cap)  # clipped times do not move the prediction
    rho_star, readout_gain = float(rho_star), float(readout_gain)
    x = math.log(1.0 - rho_star) / rho_grid
    y = math.log(readout_gain) / gain_grid
    i, j = math.floor(x), math.floor(y)
    fx, fy = x - i, y - j
    position = t / step
    n_points = int(math.ceil(float(np.max(position, initial=0.0)))) + 2
    corners = {}
    for di in (0, 1):
        for dj in (0, 1):
            run = trajectory(i + di, j + dj)
            outlier, loss = run.extend(n_points)
            relative = 2.0 * (1.0 - run.rho**2)  # the loss over the zero network's, comparable across corners
            o, o_t = _corner(outlier, position, n_points, step)
            ell, ell_t = _corner(loss, position, n_points, step)
            corners[di, dj] = (o, o_t, ell * relative, ell_t * relative)
    weights = {(0, 0): (1 - fx) * (1 - fy), (1, 0): fx * (1 - fy), (0, 1): (1 - fx) * fy, (1, 1): fx * fy}
    d_fx = {(0, 0): -(1 - fy), (1, 0): 1 - fy, (0, 1): -fy, (1, 1): fy}
    d_fy = {(0, 0): -(1 - fx), (1, 0): -fx, (0, 1): 1 - fx, (1, 1): fx}
    dx_drho = -1.0 / ((1.0 - rho_star) * rho_grid)
    dy_dgain = 1.0 / (readout_gain * gain_grid)
    # the raw eigenvalue O and the normalised loss N (= the corners' relative losses, interpolated)
    O = sum(weights[k] * corners[k][0] for k in corners)
    N = sum(weights[k] * corners[k][2] for k in corners)
    dO = {"time": np.where(inside, sum(weights[k] * corners[k][1] for k in corners), 0.0),
          "rho_star": dx_drho * sum(d_fx[k] * corners[k][0] for k in corners),
          "readout_gain": dy_dgain * sum(d_fy[k] * corners[k][0] for k in corners)}
    dN = {"time": np.where(inside, sum(weights[k] * corners[k][3] for k in corners), 0.0),
          "rho_star": dx_drho * sum(d_fx[k] * corners[k][2] for k in corners),
          "readout_gain": dy_dgain * sum(d_fy[k] * corners[k][2] for k in corners)}
    zero = np.zeros(t.shape)
    # behavior = clip(1 - N, 0, 1)
    free = (1.0 - N > 0.0) & (1.0 - N < 1.0)
    behavior = {key: np.where(free, -value, 0.0) for key, value in dN.items()}
    behavior.update(bulk=zero, dt=zero)
    # outlier_eigenvalue = max(O, bulk)
    floored = O < bulk
    eigenvalue = {key: np.where(floored, 0.0, value) for key, value in dO.items()}
    eigenvalue.update(bulk=floored.astype(float), dt=zero)
    # timescale = -dt / log(clip(eigenvalue, 1e-12, 1 - 1e-12))
    lam = np.maximum(O, bulk)
    clipped = (lam < 1e-12) | (lam > 1.0 - 1e-12)
    lam = np.clip(lam, 1e-12, 1.0 - 1e-12)
    log = np.log(lam)
    through = np.where(clipped, 0.0, dt / (lam * log * log))
    timescale = {key: through * value for key, value in eigenvalue.items() if key != "dt"}
    timescale["dt"] = -1.0 / log
    return {"behavior": behavior, "outlier_eigenvalue": eigenvalue, "timescale": timescale}
