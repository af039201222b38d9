"""The learning-rule model's reduced flow solved exactly: closed form in learned time, one quadrature for the clock.

Every rate of the five-moment reduction (:mod:`neurolearn.theory.learning_rule`) is the residual ``r = 1 - u``
times a linear form of the state ``y = (u, m, A, C, v)``: ``dy/dt = r (K y + b)``. In *learned time*
``S = int_0^t r dt`` the flow is therefore linear with constant coefficients and is solved in closed form. With
``nu = gamma0 sqrt(p feedback)`` (and ``p = 1 - hebbian``, ``s = sqrt(1 - feedback^2)``) the feedback pair obeys
``C'' = nu^2 C + gamma0^2 p s G`` and the learned amplitude ``u'' = (2 nu)^2 u + 3 gamma0 p s v``, so every
moment is a combination of ``cosh``/``sinh`` at rates ``nu`` and ``2 nu`` (polynomials in ``S`` when ``nu = 0``:
feedback alignment and the Hebbian rule). The functions used, entire in ``nu^2 S^2``, are evaluated by their
Taylor series where ``nu S <= 1`` (all terms positive: no cancellation) and in closed form beyond.

The clock is ``t(S) = int_0^S dS' / phi(S')`` with ``phi = 1 - u(S)``, which diverges at the first root ``S*``
of ``phi`` (the task learned, ``t -> infinity``). With ``kappa = u'(S*)`` and ``xi = -log(1 - S/S*)``,
``t = xi / kappa + H(S)`` where ``H(S) = int_0^S (1/phi - 1/(kappa (S* - S'))) dS'`` is smooth on ``[0, S*]``;
``H`` and ``g = phi / (S* - S)`` are Chebyshev interpolants on ``[0, S*]`` (20 nodes; 12 already reach the
3e-9 error of a DOP853 reference at tolerance 1e-12 over the parameter box, tests), and each requested time is found by Newton's method in ``xi`` (``dt/dxi = 1/g``,
nearly linear), all times at once. The state at the found ``S`` is then the closed form again.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["moments_in_learned_time", "solve_flow"]

# Taylor coefficients in z = nu^2 S^2 (k = 0 .. _TERMS - 1), exact to double precision for z <= 1. Columns:
# sinh(a x)/(a nu) = S sum (a^2 z)^k / (2k+1)!, (cosh(a x) - 1)/(a nu)^2 = S^2 sum (a^2 z)^k / (2k+2)! for a = 1, 2,
# and the divided differences between the rates 2 nu and nu, J = (s1(2nu) - s1(nu)) / (3 nu^2) = S^3 sum z^k a_k,
# I = (c2(2nu) - c2(nu)) / (3 nu^2) = S^4 sum z^k b_k and K = (cosh 2x - cosh x) / (3 nu^2) = S^2 sum z^k c_k
_TERMS = 14
_K = np.arange(_TERMS, dtype=float)
_FACT = np.array([math.factorial(j) for j in range(2 * _TERMS + 3)], dtype=float)
_EVEN = np.arange(_TERMS) * 2
_QUAD = (4.0 ** (_K + 1) - 1.0) / 3.0
_SERIES = np.column_stack([1.0 / _FACT[_EVEN + 1], 1.0 / _FACT[_EVEN + 2], 4.0 ** _K / _FACT[_EVEN + 1],
                           4.0 ** _K / _FACT[_EVEN + 2], _QUAD / _FACT[_EVEN + 3], _QUAD / _FACT[_EVEN + 4],
                           _QUAD / _FACT[_EVEN + 2]])

# Chebyshev interpolation of the clock on [0, S*]: nodes of the first kind, values -> coefficients, and the
# antiderivative (vanishing at S = 0) as one matrix
_NODES = 20
_THETA = np.pi * (np.arange(_NODES) + 0.5) / _NODES
_X = np.cos(_THETA)
_TO_COEF = (2.0 / _NODES) * np.cos(np.outer(np.arange(_NODES), _THETA))
_TO_COEF[0] *= 0.5


def _antiderivative_matrix(n):
    """Matrix taking Chebyshev coefficients (n) to those of the antiderivative (n + 1) vanishing at x = -1."""
    from numpy.polynomial import chebyshev

    return np.column_stack([chebyshev.chebint(np.eye(n)[j], lbnd=-1.0) for j in range(n)])


_INTEGRATE = _antiderivative_matrix(_NODES) @ _TO_COEF  # (n + 1, n): values of the integrand -> coefficients
_DEGREES = np.arange(_NODES + 1)
#: powers of S multiplying the series columns of :func:`_basis`
_POWERS = np.array([1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 2.0])
#: the nodes in increasing S: xi = -log(1 - S/S*) and the Chebyshev polynomials there (degrees 0 .. n)
_ORDER = np.argsort(_X)
_XI_NODES = -np.log(0.5 * (1.0 - _X[_ORDER]))
_T_NODES = np.cos(np.outer(_THETA[_ORDER], _DEGREES))


def _basis(nu: float, s):
    """The functions of learned time ``s`` (array) at rates ``nu`` and ``2 nu``, as columns ``(len(s), 8)``.

    Columns ``1, s1n, c2n, s1w, c2w, J, I, K``: ``sinh(nu s)/nu``, ``(cosh(nu s) - 1)/nu^2``, the same at
    ``2 nu``, and the divided differences ``J, I, K`` of the module docstring (their ``nu -> 0`` limits where
    ``nu = 0``); ``cosh(nu s) = 1 + nu^2 c2n`` and ``cosh(2 nu s) = 1 + 4 nu^2 c2w``.
    """
    s = np.asarray(s, dtype=float)
    z = (nu * s) ** 2
    small = z <= 1.0
    every = bool(small.all())
    out = np.empty((s.size, 8))
    out[:, 0] = 1.0
    out[:, 1:] = (np.power.outer(z if every else np.where(small, z, 0.0), _K) @ _SERIES) * np.power.outer(s, _POWERS)
    if not every:
        big = ~small
        x = nu * s[big]
        sh1, co1, sh2, co2 = np.sinh(x), np.cosh(x), np.sinh(2.0 * x), np.cosh(2.0 * x)
        nu2 = nu * nu
        s1n, c2n, s1w, c2w = sh1 / nu, (co1 - 1.0) / nu2, sh2 / (2.0 * nu), (co2 - 1.0) / (4.0 * nu2)
        out[big, 1:] = np.column_stack([s1n, c2n, s1w, c2w, (s1w - s1n) / (3.0 * nu2), (c2w - c2n) / (3.0 * nu2),
                                        (co2 - co1) / (3.0 * nu2)])
    return out


class _Flow:
    """The closed-form solution in learned time for one set of parameters and initial moments."""

    def __init__(self, gamma0, feedback, hebbian, start):
        gamma0, rho = float(gamma0), float(feedback)
        p = 1.0 - float(hebbian)
        s = math.sqrt(max(1.0 - rho * rho, 0.0))
        u0, m0, a0, c0, v0, g = (float(start[key]) for key in ("u", "m", "A", "C", "v", "G"))
        self.nu = nu = gamma0 * math.sqrt(p * rho)
        self.start = (u0, m0, a0, c0, v0)
        nu2 = nu * nu
        # C = c0 cosh(nu S) + gamma0 v0 s1n + gamma0^2 p s g c2n and v = C'/gamma0 = e s1n + v0 cosh(nu S) with
        # e = gamma0 p (rho c0 + s g); u = u0 cosh(2 nu S) + w0 s1w + alpha J + beta K (u'' is forced by
        # 3 gamma0 p s v); m and A follow from int u = u0 s1w + w0 c2w + alpha I + beta J and int v
        e = gamma0 * p * (rho * c0 + s * g)
        w0 = self.w0 = m0 + p * (rho * a0 + s * c0)
        alpha, beta = 3.0 * gamma0 * p * s * e, 3.0 * gamma0 * p * s * v0
        self.alpha, self.beta = alpha, beta
        # coefficients of the basis columns 1, s1n, c2n, s1w, c2w, J, I, K
        u = [u0, 0.0, 0.0, w0, 4.0 * nu2 * u0, alpha, 0.0, beta]
        rate = [w0, -beta / 3.0, 0.0, 4.0 * nu2 * u0 + 4.0 * beta / 3.0, 4.0 * nu2 * w0, 0.0, 0.0,
                alpha]
        int_u = [0.0, 0.0, 0.0, u0, w0, beta, alpha, 0.0]
        c = [c0, gamma0 * v0, nu2 * c0 + gamma0 * gamma0 * p * s * g, 0.0, 0.0, 0.0, 0.0, 0.0]
        v = [v0, e, nu2 * v0, 0.0, 0.0, 0.0, 0.0, 0.0]
        int_v = [0.0, v0, e, 0.0, 0.0, 0.0, 0.0, 0.0]
        b1, b2 = 2.0 * gamma0 * gamma0 * p * rho, 2.0 * gamma0 * p * s
        m = [b1 * x + b2 * y for x, y in zip(int_u, int_v)]
        m[0] = m0
        a = [2.0 * gamma0 * gamma0 * x for x in int_u]
        a[0] = a0
        self.coefficients = np.array([u, m, a, c, v]).T  # (8, 5): basis columns -> state
        self.u_rate = np.array([u, rate]).T

    def u_and_rate(self, sigma):
        """``u`` and ``du/dS`` at learned times ``sigma`` (array)."""
        out = _basis(self.nu, sigma) @ self.u_rate
        return out[:, 0], out[:, 1]

    def u_and_rate_scalar(self, sigma: float) -> tuple[float, float]:
        """:meth:`u_and_rate` at one learned time, in scalar arithmetic (the root search's many small calls)."""
        nu, x = self.nu, self.nu * sigma
        if x < 0.1:  # Taylor series in z = x^2, five terms: exact to double precision for z < 0.01
            z = x * x
            s1n = sigma * (1 + z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z / 362880))))
            s1w = sigma * (1 + z * (4 / 6 + z * (16 / 120 + z * (64 / 5040 + z * 256 / 362880))))
            ch2 = 1 + 4 * z * (1 / 2 + z * (4 / 24 + z * (16 / 720 + z * (64 / 40320 + z * 256 / 3628800))))
            jj = sigma ** 3 * (1 / 6 + z * (5 / 120 + z * (21 / 5040 + z * (85 / 362880 + z * 341 / 39916800))))
            kk = sigma ** 2 * (1 / 2 + z * (5 / 24 + z * (21 / 720 + z * (85 / 40320 + z * 341 / 3628800))))
        else:
            nu2 = nu * nu
            sh1, co1, sh2, ch2 = math.sinh(x), math.cosh(x), math.sinh(2 * x), math.cosh(2 * x)
            s1n, s1w = sh1 / nu, sh2 / (2 * nu)
            jj, kk = (s1w - s1n) / (3 * nu2), (ch2 - co1) / (3 * nu2)
        u0 = self.start[0]
        u = u0 * ch2 + self.w0 * s1w + self.alpha * jj + self.beta * kk
        rate = 4 * nu * nu * u0 * s1w + self.w0 * ch2 + self.alpha * kk + self.beta * (4 * s1w - s1n) / 3
        return u, rate

    def state(self, sigma):
        """``(u, m, A, C, v)`` at learned times ``sigma`` (array), shape ``(5, len(sigma))``."""
        return (_basis(self.nu, sigma) @ self.coefficients).T

    def learned_at_completion(self) -> tuple[float, float]:
        """``S*`` (first root of ``1 - u``) and ``kappa = u'(S*)``."""
        u0 = self.start[0]
        if not u0 < 1.0:
            raise ValueError(f"learning-rule flow: expected an initial u < 1, found {u0!r}")
        # u is convex for the mean-field start (u'' >= 0), so the root lies below the lazy estimate
        # (1 - u0) / u'(0), and Newton from there descends to it monotonically; a bisection guard covers other
        # initial states
        low, high = 0.0, math.inf
        sigma = (1.0 - u0) / max(self.w0, 1e-12)
        for _ in range(200):
            u, rate = self.u_and_rate_scalar(sigma)
            if u < 1.0:
                low = max(low, sigma)
            else:
                high = min(high, sigma)
            step = (1.0 - u) / rate if rate > 0 else math.inf
            sigma += step
            if not low < sigma < high:
                sigma = 0.5 * (low + high) if math.isfinite(high) else 2.0 * max(low, 1e-12)
            elif abs(step) <= 1e-7 * sigma:  # converging quadratically: this step left an error ~ 1e-14
                break
        u, kappa = self.u_and_rate_scalar(sigma)
        if not (kappa > 0 and abs(u - 1.0) < 1e-9):
            raise ValueError("learning-rule flow: the residual does not reach 0 at a simple root")
        return sigma, kappa


def moments_in_learned_time(sigma, gamma0, feedback, hebbian, start) -> tuple:
    """The closed-form state ``(u, m, A, C, v)`` at learned times ``sigma = int r dt`` (arrays).

    Examples
    --------
    Gradient descent from the mean-field start: ``u = sinh(2 gamma0 S) / gamma0`` and ``m = A = cosh(2 gamma0 S)``:

    >>> start = {"u": 0.0, "m": 1.0, "A": 1.0, "C": 0.0, "v": 0.0, "G": 1.0}
    >>> u, m, a, c, v = moments_in_learned_time(np.array([0.1, 0.3]), 2.0, 1.0, 0.0, start)
    >>> bool(np.allclose(u, np.sinh(0.4 * np.array([1, 3])) / 2)), bool(np.allclose(m, np.cosh([0.4, 1.2])))
    (True, True)
    """
    return tuple(_Flow(gamma0, feedback, hebbian, start).state(np.atleast_1d(np.asarray(sigma, dtype=float))))


def solve_flow(t, gamma0, feedback, hebbian, start) -> np.ndarray:
    """The state ``(u, m, A, C, v)`` (shape ``(5, t.size)``) at model times ``t`` (1-d array, ``<= 0``: start).

    Parameters
    ----------
    t : ndarray
    gamma0, feedback, hebbian : float
    start : dict
        Initial ``u, m, A, C, v, G``.
    """
    flow = _Flow(gamma0, feedback, hebbian, start)
    t = np.asarray(t, dtype=float)
    out = np.empty((5, t.size))
    out[:, :] = np.asarray(flow.start)[:, None]
    later = t > 0
    if not later.any():
        return out
    s_star, kappa = flow.learned_at_completion()
    # the smooth parts of the clock on Chebyshev nodes of [0, S*]
    sigma = 0.5 * s_star * (1.0 + _X)
    u, _ = flow.u_and_rate(sigma)
    gap = s_star - sigma
    g = (1.0 - u) / gap
    h_coef = (0.5 * s_star) * (_INTEGRATE @ ((kappa - g) / (kappa * g * gap)))
    g_coef = _TO_COEF @ g
    # Newton in xi = -log(1 - S/S*): t = xi / kappa + H, dt/dxi = 1 / g, from the clock interpolated linearly
    # between the nodes (and its straight asymptote beyond the last): two or three steps to ~1e-14
    target = t[later]
    clock_nodes = _XI_NODES / kappa + _T_NODES @ h_coef
    xi = np.interp(target, clock_nodes, _XI_NODES)
    beyond = target > clock_nodes[-1]
    if beyond.any():
        xi[beyond] = kappa * (target[beyond] - h_coef.sum())
    for _ in range(50):
        eta = np.exp(-xi)
        # x = 2 S/S* - 1 = 1 - 2 eta; arccos(1 - 2 eta) = 2 arcsin(sqrt(eta)), accurate as eta -> 0
        basis = np.cos(np.multiply.outer(2.0 * np.arcsin(np.sqrt(eta)), _DEGREES))
        step = (xi / kappa + basis @ h_coef - target) * (basis[:, :_NODES] @ g_coef)
        xi = np.maximum(xi - step, 0.5 * xi)
        if float(np.abs(step).max()) <= 1e-7 * max(float(xi.max()), 1.0):  # quadratic: now within ~1e-14
            break
    out[:, later] = flow.state(s_star * -np.expm1(-xi))
    return out
