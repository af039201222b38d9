"""The 2-unit linear RNN's white-noise loss and its gradient in closed form, and the reference Heun step.

The loss ``L = 1/2 sum_n (v W^n u - rho*^n)^2 = 1/2 v' X v - v' (I - rho* W)^-1 u + 1/(2 (1 - rho*^2))``
with ``X = W X W' + u u'`` (the controllability Gramian, a discrete Lyapunov equation) and its gradients, on
unpacked floats (the inner loop of :mod:`neurolearn.theory.integrator`'s trajectories) and on arrays
(:func:`rnn_loss_and_gradient`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["rnn_loss_and_gradient"]


def _loss_gradient_flat(a, b, c, d, u1, u2, v1, v2, rho, offset):
    """:func:`_loss_gradient` on unpacked floats, ``offset = 0.5 / (1 - rho^2)``: the same operations in the
    same order (so bit for bit the same numbers), with the two Gramians inlined and their shared cofactors
    computed once; returns ``(loss, ga, gb, gc, gd, gu1, gu2, gv1, gv2)``."""
    # the matrix of X - W X W' = u u' (see _gramian); that of Y - W' Y W = v v' has the same diagonal
    m11, m22, m33 = 1.0 - a * a, 1.0 - a * d - b * c, 1.0 - d * d
    bb, cc = -b * b, -c * c
    # X: (a, b, c, d, u1, u2)
    m12, m21, m23, m32 = -2.0 * a * b, -a * c, -b * d, -2.0 * c * d
    r1, r2, r3 = u1 * u1, u1 * u2, u2 * u2
    k1, k2, k3 = m22 * m33 - m23 * m32, m21 * m33 - m23 * cc, m21 * m32 - m22 * cc
    e1, e2 = r2 * m33 - m23 * r3, m22 * r3 - r2 * m32
    f1 = m21 * r3 - r2 * cc
    det = m11 * k1 - m12 * k2 + bb * k3
    x1 = (r1 * k1 - m12 * e1 + bb * (r2 * m32 - m22 * r3)) / det
    x2 = (m11 * e1 - r1 * k2 + bb * f1) / det
    x3 = (m11 * e2 - m12 * f1 + r1 * k3) / det
    # Y: (a, c, b, d, v1, v2)
    m12, m21, m23, m32 = -2.0 * a * c, -a * b, -c * d, -2.0 * b * d
    r1, r2, r3 = v1 * v1, v1 * v2, v2 * v2
    k1, k2, k3 = m22 * m33 - m23 * m32, m21 * m33 - m23 * bb, m21 * m32 - m22 * bb
    e1, e2 = r2 * m33 - m23 * r3, m22 * r3 - r2 * m32
    f1 = m21 * r3 - r2 * bb
    det = m11 * k1 - m12 * k2 + cc * k3
    y1 = (r1 * k1 - m12 * e1 + cc * (r2 * m32 - m22 * r3)) / det
    y2 = (m11 * e1 - r1 * k2 + cc * f1) / det
    y3 = (m11 * e2 - m12 * f1 + r1 * k3) / det
    det = (1.0 - rho * a) * (1.0 - rho * d) - rho * rho * b * c
    p11, p12, p21, p22 = (1.0 - rho * d) / det, rho * b / det, rho * c / det, (1.0 - rho * a) / det
    pu1, pu2 = p11 * u1 + p12 * u2, p21 * u1 + p22 * u2
    pv1, pv2 = p11 * v1 + p21 * v2, p12 * v1 + p22 * v2
    xv1, xv2 = x1 * v1 + x2 * v2, x2 * v1 + x3 * v2
    loss = 0.5 * (v1 * xv1 + v2 * xv2) - (v1 * pu1 + v2 * pu2) + offset
    wx11, wx12, wx21, wx22 = a * x1 + b * x2, a * x2 + b * x3, c * x1 + d * x2, c * x2 + d * x3
    return (loss,
            y1 * wx11 + y2 * wx21 - rho * pv1 * pu1, y1 * wx12 + y2 * wx22 - rho * pv1 * pu2,
            y2 * wx11 + y3 * wx21 - rho * pv2 * pu1, y2 * wx12 + y3 * wx22 - rho * pv2 * pu2,
            y1 * u1 + y2 * u2 - pv1, y2 * u1 + y3 * u2 - pv2, xv1 - pu1, xv2 - pu2)


def _spectral_radius(a, b, c, d):
    half = 0.5 * (a + d)
    disc = half * half - (a * d - b * c)
    if disc >= 0.0:
        root = math.sqrt(disc)
        return max(abs(half + root), abs(half - root))
    return math.sqrt(a * d - b * c)


def _loss_gradient(s, rho):
    """Loss and gradient of the 2-unit RNN at state ``s = (a, b, c, d, u1, u2, v1, v2)`` (pure floats)."""
    loss, *gradient = _loss_gradient_flat(*s, rho, 0.5 / (1.0 - rho * rho))
    return loss, tuple(gradient)


def rnn_loss_and_gradient(W, u, v, rho_star: float):
    """White-noise loss of a 2-unit linear RNN and its gradient, in closed form (Lyapunov Gramians).

    Parameters
    ----------
    W : array_like, shape (2, 2)
        Recurrent weights, spectral radius < 1.
    u, v : array_like, shape (2,)
        Input and readout weights.
    rho_star : float

    Returns
    -------
    loss : float
        ``1/2 sum_n (v W^n u - rho_star^n)^2`` (infinite horizon).
    grad_W, grad_u, grad_v : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> loss, gW, gu, gv = rnn_loss_and_gradient(0.9 * np.eye(2), [1.0, 0.0], [1.0, 0.0], 0.9)
    >>> round(loss, 12), float(np.abs(gW).max()) < 1e-9  # the target filter itself: a minimum
    (0.0, True)
    """
    W = np.asarray(W, dtype=float)
    state = (*W.ravel().tolist(), *np.asarray(u, dtype=float).tolist(), *np.asarray(v, dtype=float).tolist())
    loss, g = _loss_gradient(state, float(rho_star))
    return loss, np.array(g[:4]).reshape(2, 2), np.array(g[4:6]), np.array(g[6:])


def _heun(s, loss, g, h, rho):
    """One Heun step of the gradient flow; ``None`` if it leaves the stable region or raises the loss.

    (The reference form of the step ``_Trajectory._advance`` takes, inlined there.)
    """
    trial = tuple(x - h * y for x, y in zip(s, g))
    _, g2 = _loss_gradient(trial, rho)
    trial = tuple(x - 0.5 * h * (y + z) for x, y, z in zip(s, g, g2))
    if _spectral_radius(*trial[:4]) >= 0.9999:
        return None, loss, g
    new_loss, new_g = _loss_gradient(trial, rho)
    if new_loss > loss + 1e-12:
        return None, loss, g
    return trial, new_loss, new_g
