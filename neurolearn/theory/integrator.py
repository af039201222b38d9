"""Learning to integrate in a linear RNN: one outlier eigenvalue rises out of the bulk while the loss falls.

Reduced model of :mod:`neurolearn.simulate.rnn` (Bordelon, Cotler, Pehlevan & Zavatone-Veth 2025). The network
``h_{k+1} = W h_k + u x_k``, ``y_k = v . h_{k+1}`` is trained by gradient descent on the white-noise
(impulse-response) loss

    L(W, u, v) = 1/2 sum_n (v W^n u - rho*^n)^2
               = 1/2 v' X v - v' (I - rho* W)^-1 u + 1/(2 (1 - rho*^2)),   X = W X W' + u u'

(``X`` the controllability Gramian, a discrete Lyapunov equation). Its gradients are ``dL/dv = X v - P u``,
``dL/du = Y u - P' v`` and ``dL/dW = Y W X - rho* (P' v)(P u)'`` with ``P = (I - rho* W)^-1`` and ``Y = W' Y W
+ v v'``. Started from ``W = 0`` every gradient lies in the span of the initial ``u`` and ``v``, so the N-unit
network trained from a vanishing ``W`` *is* a 2-unit network: the reduction is exact in that limit, and this
model integrates the gradient flow of that 2-unit RNN (8 numbers) from

    W = 0,  |u| = |v| = sqrt(readout_gain),  u . v = 0

in model time ``tau = learning rate x gradient steps``. Observables: ``behavior = 1 - L / L0`` with ``L0 =
1/(2(1 - rho*^2))`` the loss of the zero network (clipped to [0, 1] like a proportion correct);
``outlier_eigenvalue = max(|eig W|, bulk)``, the largest eigenvalue modulus a linear-dynamics fit sees, with
``bulk`` the radius of the untrained eigenvalues of the N-unit network; ``timescale = -dt /
log(outlier_eigenvalue)``.

Assumptions: (i) gradient flow -- the network's learning rate is below the stability limit of gradient descent
(``lr x`` the largest Hessian eigenvalue ``< 2``; that eigenvalue grows like ``1/(1 - rho*^2)^3`` near the
end, so e.g. rho* = 0.95 at lr 0.0026 breaks it late in training, where the simulated loss jumps up); (ii)
``u`` and ``v`` start orthogonal and of equal norm (for random weights ``u.v ~ |u||v|/sqrt(N)``); (iii) the
bulk only floors the observed eigenvalue. That is an approximation: a bulk of radius ``g`` changes the
learning course at every width (at the bundled example's settings the eigenvalue at step 86 is 0.817 in the
large-N limit with the bulk, 0.72 without; :mod:`neurolearn.theory.integrator_bulk` is that exact limit, a
finite surrogate network trained at the network's learning rate, too slow to fit with). Fits absorb the bulk
in ``readout_gain`` and ``time_scale`` without biasing rho*: fitted to the large-N limit at those settings
this model reads rho* = 0.9001 [0.894, 0.905] (chi2 4.9 on 12 dof at SEs 0.01 / 0.02), and still 0.9001 at SEs
ten times smaller, where its shape misfits (chi2 491 on 12 dof). What a fit to one network of 30 units cannot
follow is that network's own course: the outlier eigenvalue of 30-unit networks differs from seed to seed by
SD 0.028 at step 86 and 0.002 to 0.007 late in training (their realised bulk ``W0``, and ``u.v ~ |u||v|/sqrt
N``), correlated across sessions, while the dynamics statistics' SEs are ~2e-4 late. The model declares that
scatter as its learner covariance (:mod:`neurolearn.theory.integrator_learner`: simulated networks of
``integrator_learner.WIDTH`` units at the fitted parameters, read where their course is at the model's), which
:func:`neurolearn.fit` adds to the statistics' covariance. The bundled example (``data/integration``, the
demo's fit) then reads rho* 0.8998 [0.8965, 0.9033], chi2 24.6 on 12 dof (statistics alone: 0.9013 [0.9008,
0.9018], chi2 90.4); over 40 new networks recorded and summarised like it, rho* = 0.9 is covered by 0.85 +-
0.06 of the intervals (statistics alone 0.23 +- 0.07), chi2 median 9.1 on 12 dof, by 0.75 +- 0.07 over
another 40 and 0.69 +- 0.08 over another 36: 0.77 over 116 (``benchmarks/bench_integrator_fidelity.py --recovery
40``; ``--attribution`` for the effects one by one). Known gaps: the misses gather where the fit lands at a low
effective gain (which follows the network's initial overlap cos(u, v), not the bulk's speed-up) or in a second
minimum near gain 14, whose simulated scatter is too small; and the fit's weighting (the learner covariance
evaluated at a pilot fit, then at the refit) does not settle: on the bundled example 1, 2, 3 and 4 evaluations
give chi2 7.9, 24.6, 5.8 and 28.4, and the fit's message and a FitWarning say so.

Numerics: Heun steps of 0.004 in model time (split where the flow is stiffer), pure floats (against the
Richardson limit of the 2-unit gradient-descent map at the bundled settings: within 1e-4 but for 6e-4 where
the step is halved; the network's finite learning rate moves the eigenvalue by 0.004 mid-rise); trajectories
are memoised on a grid in ``log(1 - rho*)`` and ``log(readout_gain)`` and interpolated bilinearly (error
~1e-3), so a ``predict`` for 30 sessions takes ~0.2 ms once its grid cell is computed (a new cell: tens of ms,
up to ~1 s for rho* >= 0.95). ``MODEL.function.screen`` is a cheaper surrogate for a fit's multistart
screen, which only chooses where the model's own least-squares runs start: the same flow on a grid 4x coarser
each way, in steps 4x longer split at most 4x (frozen where the flow is stiffer; within ~4e-3 of the model
where it is not, ~1e-2 at the bundled example's fit), ~10x cheaper on a screen of the fit's Sobol design.
The model's start lies on an invariant plane of the flow (``W = [[a, b], [c, a]]``, ``v = S u``), where the
Heun steps are taken as 5 numbers instead of 8 (:mod:`neurolearn.theory.integrator_symmetric`: the same steps
to rounding, 2.2x faster); ``MODEL.jacobian`` is the interpolation's own derivative, from the same four
trajectories as the values (:mod:`neurolearn.theory.integrator_jacobian`).

Why not the one-mode caricature this model replaces (``k_n = a lambda^n`` with ``a`` adiabatically fast, so
``d lambda/d tau = (rho* - lambda)/(1 - lambda rho*)^3``): the learned filter is not one mode. Early the
network learns a non-normal feed-forward path (``v' W u`` large while ``W``'s eigenvalues stay in the bulk),
then the outlier emerges; near ``rho*`` the second eigenvalue of the learned 2x2 block and the readout
amplitude trade off along a shallow valley, so the outlier creeps toward ``rho*`` (0.868 -> 0.888 over steps
114 -> 200 of the bundled example, crossing 0.9 only after ~350 steps) instead of converging at the envelope's
rate ``1/(1 - rho*^2)^3``. Fitted to that creep, the caricature read rho* = 0.861 [0.845, 0.877] (chi2/dof
6.6) for a true 0.9; this model reads 0.893 [0.887, 0.899] (chi2/dof 0.9), and 0.900 for the same network
trained without a bulk. Finite learning rate is not the cause at those settings (halving it twice changes the
trajectory by < 0.003 at equal ``lr x steps``), nor is a finite readout rate alone (a coupled (a, lambda) flow
still reads 0.85-0.87).

Checked against :func:`neurolearn.simulate.rnn.train_integrator`
(``benchmarks/bench_integrator_fidelity.py``): the bundled example's settings and rho* in {0.8, 0.9, 0.95},
several learning rates, sizes and initial scales, through the true outlier eigenvalue and normalised loss at 8
sessions with known SEs.
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.integrator_gradient import _loss_gradient, _loss_gradient_flat, _spectral_radius
from neurolearn.theory.integrator_gradient import rnn_loss_and_gradient
from neurolearn.theory.integrator_jacobian import statistics_jacobian
from neurolearn.theory.integrator_learner import integrator_covariance
from neurolearn.theory.integrator_symmetric import advance as _plane_advance
from neurolearn.theory.integrator_symmetric import loss_gradient as _plane_loss_gradient

__all__ = ["MODEL", "rnn_loss_and_gradient", "two_unit_flow", "learning_trajectory", "integrator_statistics",
           "model_loss", "learner_covariance"]

# Model time between stored points of a trajectory (= one Heun step unless the flow is too stiff for it, then
# it is split into substeps), and the model time after which the last state stands for all later times.
_STEP = 0.004
_TAU_CAP = 8.0
# the flow has stopped when no state number moves faster than this per unit of model time
_STATIONARY = 1e-9
# trajectories are memoised on a grid in log(1 - rho*) and log(readout_gain) and interpolated bilinearly in
# between (error < 1e-4 in eigenvalue and normalised loss at these spacings; tests/theory/test_integrator.py)
_RHO_GRID = 0.04
_GAIN_GRID = 0.08
_CACHE: dict = {}
_CACHE_LIMIT = 4000
# The fit's Sobol screen only chooses where the model's own fits start: it reads a cheaper surrogate
# (:func:`_screen_predict`), the same flow on a grid 4x coarser each way, in Heun steps 4x longer that are
# split at most 4x (down to the model's own step; a flow stiffer than that is frozen where it gets there)
_SCREEN_GRID = 4
_SCREEN_STEP = 4 * _STEP
_SCREEN_SUBSTEPS = 4
_SCREEN_CACHE: dict = {}


class _Trajectory:
    """The 2-unit flow at one (rho*, gain), stored every ``_STEP`` of model time and extended on demand."""

    # model time between stored points, and the most substeps a stored step is split into before the flow
    # is frozen (the screen's surrogate trajectories take longer steps and fewer substeps)
    step = _STEP
    max_substeps = 64

    def __init__(self, rho: float, gain: float, start=None):
        self.rho = rho
        # the model's start, W = 0 and u, v of equal norm and orthogonal (u.v ~ 1/sqrt(N) for random weights
        # in N units), is on the flow's invariant plane: stepped there as 5 numbers (integrator_symmetric)
        self.plane = start is None
        if self.plane:
            root = math.sqrt(gain)
            self.state = (0.0, 0.0, 0.0, root, 0.0)
            self.loss, *grad = _plane_loss_gradient(*self.state, rho, 0.5 / (1.0 - rho * rho))
            self.grad = tuple(grad)
        else:
            self.state = tuple(start)
            self.loss, self.grad = _loss_gradient(self.state, rho)
        self.substeps = 1
        self.stationary = False
        self.outlier = [0.0]
        self.losses = [self.loss]
        self.arrays = None

    def extend(self, n_points: int) -> tuple[np.ndarray, np.ndarray]:
        """Store at least ``n_points`` points (times ``0, _STEP, ...``); the stored (outlier, loss) arrays."""
        if len(self.outlier) < n_points:
            while len(self.outlier) < n_points:
                if self.stationary:
                    self.outlier.extend([self.outlier[-1]] * (n_points - len(self.outlier)))
                    self.losses.extend([self.losses[-1]] * (n_points - len(self.losses)))
                    break
                self._advance()
            self.arrays = None
        if self.arrays is None:
            # converting the lists once per extension, not per call, keeps a warm predict fast
            self.arrays = (np.array(self.outlier), np.array(self.losses))
        return self.arrays

    def _advance(self) -> None:
        if self.plane:
            self.state, self.loss, self.grad, self.substeps, radius = _plane_advance(
                self.state, self.loss, self.grad, self.substeps, self.step, self.max_substeps, self.rho)
            if radius is None:
                self.stationary = True
                return
            self.outlier.append(radius)
            self.losses.append(self.loss)
            # (the full state's gradient repeats dL/da and dL/du: the same largest entry)
            if max(map(abs, self.grad)) < _STATIONARY:
                self.stationary = True
            return
        # Heun steps on unpacked floats (the arithmetic of _heun, inlined: this loop is the model's cost)
        rho, offset = self.rho, 0.5 / (1.0 - self.rho * self.rho)
        while True:
            h = self.step / self.substeps
            hh = 0.5 * h
            a, b, c, d, u1, u2, v1, v2 = self.state
            loss = self.loss
            ga, gb, gc, gd, gu1, gu2, gv1, gv2 = self.grad
            failed = False
            for _ in range(self.substeps):
                _, qa, qb, qc, qd, qu1, qu2, qv1, qv2 = _loss_gradient_flat(
                    a - h * ga, b - h * gb, c - h * gc, d - h * gd, u1 - h * gu1, u2 - h * gu2, v1 - h * gv1,
                    v2 - h * gv2, rho, offset)
                ta, tb, tc, td = a - hh * (ga + qa), b - hh * (gb + qb), c - hh * (gc + qc), d - hh * (gd + qd)
                tu1, tu2 = u1 - hh * (gu1 + qu1), u2 - hh * (gu2 + qu2)
                tv1, tv2 = v1 - hh * (gv1 + qv1), v2 - hh * (gv2 + qv2)
                radius = _spectral_radius(ta, tb, tc, td)
                if radius >= 0.9999:
                    failed = True
                    break
                new = _loss_gradient_flat(ta, tb, tc, td, tu1, tu2, tv1, tv2, rho, offset)
                if new[0] > loss + 1e-12:
                    failed = True
                    break
                a, b, c, d, u1, u2, v1, v2 = ta, tb, tc, td, tu1, tu2, tv1, tv2
                loss, ga, gb, gc, gd, gu1, gu2, gv1, gv2 = new
            if not failed:
                break
            # past the stability limit of the stiff direction near rho* (the loss would rise): halve the step
            # for the rest of this trajectory
            self.substeps *= 2
            if self.substeps > self.max_substeps:
                self.stationary = True
                return
        self.state, self.loss = (a, b, c, d, u1, u2, v1, v2), loss
        self.grad = (ga, gb, gc, gd, gu1, gu2, gv1, gv2)
        self.outlier.append(radius)
        self.losses.append(loss)
        if max(abs(ga), abs(gb), abs(gc), abs(gd), abs(gu1), abs(gu2), abs(gv1), abs(gv2)) < _STATIONARY:
            self.stationary = True


class _ScreenTrajectory(_Trajectory):
    """The screen's surrogate: steps of ``_SCREEN_STEP``, split at most ``_SCREEN_SUBSTEPS`` times."""

    step = _SCREEN_STEP
    max_substeps = _SCREEN_SUBSTEPS


def _grid_trajectory(i: int, j: int) -> _Trajectory:
    key = (i, j)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = _Trajectory(1.0 - math.exp(i * _RHO_GRID), math.exp(j * _GAIN_GRID))
    return _CACHE[key]


def _screen_trajectory(i: int, j: int) -> _Trajectory:
    key = (i, j)
    if key not in _SCREEN_CACHE:
        if len(_SCREEN_CACHE) >= _CACHE_LIMIT:
            _SCREEN_CACHE.clear()
        _SCREEN_CACHE[key] = _ScreenTrajectory(1.0 - math.exp(i * _SCREEN_GRID * _RHO_GRID),
                                               math.exp(j * _SCREEN_GRID * _GAIN_GRID))
    return _SCREEN_CACHE[key]


def two_unit_flow(time, rho_star: float, u0, v0, W0=None):
    """The 2-unit RNN's gradient flow from any start (no grid): spectral radius of ``W`` and loss at ``time``.

    ``u0`` and ``v0`` are 2-vectors (e.g. the N-unit network's initial input and readout weights written in an
    orthonormal basis of their span), ``W0`` a 2x2 start (default 0). This is the exact reduction of
    :func:`neurolearn.simulate.rnn.train_integrator` with ``init_scale=0``, in model time ``learning rate x
    steps``.

    Examples
    --------
    >>> lam, loss = two_unit_flow([0.0, 2.0], 0.9, [2.0, 0.0], [0.0, 2.0])
    >>> round(float(lam[1]), 2), bool(loss[1] < 1e-3 * loss[0])  # the outlier creeps toward rho* = 0.9
    (0.89, True)
    """
    W0 = np.zeros((2, 2)) if W0 is None else np.asarray(W0, dtype=float)
    start = (*W0.ravel().tolist(), *np.asarray(u0, dtype=float).tolist(),
             *np.asarray(v0, dtype=float).tolist())
    run = _Trajectory(float(rho_star), 1.0, start)
    position = np.clip(np.asarray(time, dtype=float), 0.0, _TAU_CAP) / _STEP
    n_points = int(math.ceil(float(np.max(position, initial=0.0)))) + 2
    outlier, loss = run.extend(n_points)
    grid = np.arange(n_points)
    return np.interp(position, grid, outlier[:n_points]), np.interp(position, grid, loss[:n_points])


def learning_trajectory(time, rho_star: float = 0.9, readout_gain: float = 4.0):
    """Spectral radius of ``W`` and loss of the 2-unit RNN's gradient flow at model times ``time``.

    Interpolated bilinearly between memoised trajectories on a grid in ``log(1 - rho*)`` and
    ``log(readout_gain)``, each integrated by Heun steps of 0.004 in model time (split where the flow is
    stiffer than that; at the bundled example's settings the network's own learning rate is 0.006); times
    past 8 take the state at 8 (fits of
    the simulated courses span tau < ~3; by 8 the outlier is within ~0.01 of rho*).

    Returns
    -------
    outlier, loss : ndarray
        Shaped like ``time``; negative times give the initial network.

    Examples
    --------
    >>> lam, loss = learning_trajectory([0.0, 8.0], rho_star=0.8)
    >>> round(float(lam[1]), 2), bool(loss[1] < 1e-3 * loss[0])  # the outlier creeps toward rho* = 0.8
    (0.79, True)
    """
    return _interpolated(time, rho_star, readout_gain, _grid_trajectory, _RHO_GRID, _GAIN_GRID, _STEP)


def _interpolated(time, rho_star, readout_gain, trajectory, rho_grid, gain_grid, step):
    """:func:`learning_trajectory` from the memoised trajectories ``trajectory(i, j)`` on a grid of spacings
    ``rho_grid`` in ``log(1 - rho*)`` and ``gain_grid`` in ``log(readout_gain)``, stored every ``step``."""
    t = np.clip(np.asarray(time, dtype=float), 0.0, _TAU_CAP)
    x = math.log(1.0 - float(rho_star)) / rho_grid
    y = math.log(float(readout_gain)) / gain_grid
    i, j = math.floor(x), math.floor(y)
    fx, fy = x - i, y - j
    position = t / step
    n_points = int(math.ceil(float(np.max(position, initial=0.0)))) + 2
    outlier = np.zeros(t.shape)
    loss = np.zeros(t.shape)
    grid = np.arange(n_points)
    for di, dj, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy),
                           (1, 1, fx * fy)):
        if weight == 0.0:
            continue
        corner = trajectory(i + di, j + dj)
        corner_outlier, corner_loss = corner.extend(n_points)
        outlier += weight * np.interp(position, grid, corner_outlier[:n_points])
        # the loss relative to the zero network's, so that corners with different rho* are comparable
        loss += weight * np.interp(position, grid, corner_loss[:n_points]) * 2.0 * (1.0 - corner.rho**2)
    return outlier, loss / (2.0 * (1.0 - float(rho_star) ** 2))


def integrator_statistics(time, rho_star=0.9, readout_gain=4.0, bulk=0.1, dt=1.0, _screen=False) -> dict:
    """Predicted ``behavior``, ``outlier_eigenvalue``, ``timescale`` (and ``normalized_loss``) at ``time``.

    ``time`` is model time ``tau`` (learning rate x gradient steps); negative times are the initial network.

    Examples
    --------
    >>> out = integrator_statistics([0.0, 0.1, 20.0], rho_star=0.9, bulk=0.1)
    >>> [round(float(x), 2) for x in out["outlier_eigenvalue"]], round(float(out["behavior"][-1]), 3)
    ([0.1, 0.1, 0.9], 1.0)
    """
    if _screen:
        outlier, loss = _interpolated(time, rho_star, readout_gain, _screen_trajectory,
                                      _SCREEN_GRID * _RHO_GRID, _SCREEN_GRID * _GAIN_GRID, _SCREEN_STEP)
    else:
        outlier, loss = learning_trajectory(time, rho_star, readout_gain)
    normalized = loss * 2.0 * (1.0 - rho_star**2)
    outlier = np.maximum(outlier, bulk)
    return {
        "behavior": np.clip(1.0 - normalized, 0.0, 1.0),
        "normalized_loss": normalized,
        "outlier_eigenvalue": outlier,
        "timescale": -dt / np.log(np.clip(outlier, 1e-12, 1 - 1e-12)),
    }


def _predict(t, rho_star, readout_gain, bulk, dt):
    return integrator_statistics(t, rho_star=rho_star, readout_gain=readout_gain, bulk=bulk, dt=dt)


def _screen_predict(t, rho_star, readout_gain, bulk, dt):
    """The fit screen's surrogate of :func:`_predict` (see ``_SCREEN_GRID``): it only chooses starts."""
    return integrator_statistics(t, rho_star=rho_star, readout_gain=readout_gain, bulk=bulk, dt=dt,
                                 _screen=True)


_predict.screen = _screen_predict
# past tau = _TAU_CAP every prediction is the state at _TAU_CAP (flat in time, zero time derivative): a fit's
# multistart need not refine a start whose sessions all map there when no flat prediction comes near its best
# (neurolearn.fitting.multistart._saturated_bound)
_predict.saturation_time = _TAU_CAP


def _jacobian(t, rho_star, readout_gain, bulk, dt):
    """Derivatives of :func:`_predict` in time and every parameter: those of its interpolation, from the same
    four memoised trajectories (:mod:`neurolearn.theory.integrator_jacobian`)."""
    return statistics_jacobian(t, rho_star, readout_gain, bulk, dt, _grid_trajectory, _RHO_GRID, _GAIN_GRID,
                               _STEP, _TAU_CAP)


def model_loss(time, rho_star, readout_gain, bulk):
    """The reduced model's normalised loss at ``time`` (what the simulated learners are aligned on)."""
    return integrator_statistics(time, rho_star=rho_star, readout_gain=readout_gain, bulk=bulk)["normalized_loss"]


def learner_covariance(time, rho_star, readout_gain, bulk, dt):
    """The model's learner covariance: :func:`~neurolearn.theory.integrator_learner.integrator_covariance` of
    simulated 30-unit networks read where their course is this model's."""
    return integrator_covariance(time, rho_star, readout_gain, bulk, dt, model_loss=model_loss)


MODEL = Model(
    name="integrator",
    description=(
        "A linear RNN learning to integrate (reproduce the filter rho*^n) from small initial weights, "
        "reduced exactly to the 2-unit RNN spanned by its input and readout weights: a non-normal "
        "feed-forward path is learned first (behaviour rises while the eigenvalues stay in the bulk), "
        "then "
        "one outlier eigenvalue rises out of the bulk and creeps toward rho* while the loss falls. "
        "Signature in data: the slowest timescale of population dynamics grows as the task is learned."
    ),
    formula=(
        "gradient flow d(W,u,v)/dtau = -grad L of the 2-unit RNN from W = 0, "
        "|u| = |v| = sqrt(readout_gain), "
        "u.v = 0; L = 1/2 v'Xv - v'(I - rho* W)^-1 u + 1/(2(1-rho*^2)), X = WXW' + uu'; "
        "tau = learning rate x steps; behavior = 1 - L/L(W=0); "
        "outlier_eigenvalue = max(|eig W|, bulk); timescale = -dt/log(outlier_eigenvalue)"
    ),
    reference=(
        "Bordelon, Cotler, Pehlevan & Zavatone-Veth (2025), learning dynamics of linear RNNs trained to "
        "integrate."
    ),
    parameters=(
        Parameter(
            "rho_star", 0.9, (0.3, 0.995), "decay per step of the target filter (1 = perfect integrator)"
        ),
        Parameter(
            "readout_gain", 4.0, (0.3, 30.0),
            "|u||v| of the input and readout weights at the start (dimensionless; effective: the bulk's "
            "speed-up of the rise is absorbed here); sets how fast learning starts",
            log_scale=True,
        ),
        Parameter(
            "bulk", 0.1, (0.0, 0.9),
            "radius of the untrained bulk of recurrent eigenvalues (~ initial weight scale)",
            natural=(True, False),
        ),
        Parameter(
            "dt", 1.0, (0.001, 10.0),
            "seconds per RNN step = the recording's bin size; links timescale (s) to the eigenvalue",
            identifiable=False, log_scale=True,
        ),
    ),
    observables=("behavior", "outlier_eigenvalue", "timescale"),
    function=_predict,
    jacobian=_jacobian,
    # one 30-unit network's scatter about the reduced course (simulated learners; integrator_learner)
    learner_covariance=learner_covariance,
    # model time of a typical recorded course (learning rate x steps), for the fit's time-scale box
    time_unit="learning rate x training steps",
    time_span=1.5,
    simulator="neurolearn.simulate.rnn.train_integrator",
)
