"""The integrator model's 2-unit gradient flow on its invariant plane: 5 numbers instead of 8, same steps.

The flow of :mod:`neurolearn.theory.integrator` starts from ``W = 0``, ``u = (r, 0)``, ``v = (0, r)``. The
loss ``1/2 sum_n (v' W^n u - rho*^n)^2`` is unchanged by the involution ``(W, u, v) -> (S W' S, S v, S u)``,
``S = [[0, 1], [1, 0]]`` (``(S u)' (S W' S)^n (S v) = u' W'^n v``), and the start is a fixed point of it,
so the whole gradient flow stays on the plane of fixed points

    W = [[a, b], [c, a]],   u = (u1, u2),   v = (u2, u1),

where the two Gramians are mirror images (``Y = S X S``), ``P' v = S P u``, and the gradient has
``dL/dd = dL/da`` and ``dL/dv = S dL/du``. The Heun steps of the 8-number state therefore *are* Heun steps of
these 5 numbers (the same predictor, corrector, halving of the step and freezing; the same step sizes),
computed with about half the arithmetic. In floating point the two differ by rounding only: the 8-number
state leaves the plane by ~1e-14 (``a - d``) through its own rounding, and the stored eigenvalue and
normalised loss differ by < 1e-11 where the flow is mild, by up to 3e-10 where the step is split 64 times and
3e-8 where a flow at rho* ~ 0.99 freezes (258 random grid cells to tau = 8, measured) -- as much as the
8-number flow itself moves when its start moves by one unit in the last place or its basis is relabelled
(``u = (0, r)``, ``v = (r, 0)``: the same network; 1.5e-10 and 4e-7 at those two cells), so the trajectory is
not defined more finely than that by its own arithmetic; the halvings and freezing happen at the same steps
(tests/theory/test_integrator_symmetric.py).

The mirror Gramian is solved by elimination instead of Cramer's rule: with ``m = 1 - a^2``,

    X12 = ((m - bc) u1 u2 + a (c u1^2 + b u2^2)) / ((m - bc)^2 - 4 a^2 bc),

whose denominator is ``(1 - lambda_1^2)(1 - lambda_2^2)`` (positive while ``W`` is stable), then ``X11`` and
``X22`` from the 2x2 system ``m X11 - b^2 X22 = u1^2 + 2ab X12``, ``-c^2 X11 + m X22 = u2^2 + 2ac X12`` of
determinant ``(m - bc)(m + bc)``, also positive for a stable ``W`` (``a^2 + bc < 1`` and ``det W < 1``).
Together: one stored step costs ~0.45 of the 8-number one (CPython floats).
"""

from __future__ import annotations

import math

__all__ = ["loss_gradient", "spectral_radius", "advance"]


def loss_gradient(a, b, c, u1, u2, rho, offset):
    """Loss and gradient ``(loss, dL/da, dL/db, dL/dc, dL/du1, dL/du2)`` on the plane (pure floats),
    ``offset = 0.5 / (1 - rho^2)``; ``dL/dd = dL/da`` and ``dL/dv = (dL/du2, dL/du1)`` are the full state's
    other entries.

    (The reference form of the arithmetic :func:`advance` inlines.)
    """
    bc, ab, ac = b * c, a * b, a * c
    m = 1.0 - a * a
    mb, mp = m - bc, m + bc
    r1, r2, r3 = u1 * u1, u1 * u2, u2 * u2
    x2 = (mb * r2 + a * (c * r1 + b * r3)) / (mb * mb - 4.0 * a * ac * b)
    t1, t3 = r1 + 2.0 * ab * x2, r3 + 2.0 * ac * x2
    det = mb * mp
    x1, x3 = (m * t1 + b * b * t3) / det, (c * c * t1 + m * t3) / det
    q = 1.0 - rho * a
    inv = 1.0 / (q * q - rho * rho * bc)
    p11, p12, p21 = q * inv, rho * b * inv, rho * c * inv
    pu1, pu2 = p11 * u1 + p12 * u2, p21 * u1 + p11 * u2
    loss = 0.5 * (u2 * (x1 * u2 + x2 * u1) + u1 * (x2 * u2 + x3 * u1)) - (u2 * pu1 + u1 * pu2) + offset
    wx11, wx12, wx21, wx22 = a * x1 + b * x2, a * x2 + b * x3, c * x1 + a * x2, c * x2 + a * x3
    return (loss, x3 * wx11 + x2 * wx21 - rho * pu2 * pu1, x3 * wx12 + x2 * wx22 - rho * pu2 * pu2,
            x2 * wx11 + x1 * wx21 - rho * pu1 * pu1, x3 * u1 + x2 * u2 - pu2, x2 * u1 + x1 * u2 - pu1)


def spectral_radius(a, b, c):
    """Largest eigenvalue modulus of ``[[a, b], [c, a]]`` (eigenvalues ``a +- sqrt(bc)``)."""
    bc = b * c
    if bc >= 0.0:
        return abs(a) + math.sqrt(bc)
    return math.sqrt(a * a - bc)


def advance(state, loss, grad, substeps, step, max_substeps, rho):
    """One stored step of model time ``step`` from ``state = (a, b, c, u1, u2)`` with ``loss`` and ``grad``.

    ``substeps`` Heun steps of ``step / substeps``; where one would leave the stable region (spectral radius
    >= 0.9999) or raise the loss by more than 1e-12, the stored step is redone with twice as many substeps
    (kept for the rest of the trajectory), and past ``max_substeps`` the flow is frozen. Returns ``(state,
    loss, grad, substeps, radius)``, with ``radius`` None when frozen (``substeps`` then above the limit).
    """
    offset = 0.5 / (1.0 - rho * rho)
    rr = rho * rho
    while True:
        h = step / substeps
        hh = 0.5 * h
        a, b, c, u1, u2 = state
        ga, gb, gc, gu1, gu2 = grad
        now = loss
        failed = False
        for _ in range(substeps):
            # predictor's gradient (loss_gradient inlined, without the loss)
            pa, pb, pc, pu, pv = a - h * ga, b - h * gb, c - h * gc, u1 - h * gu1, u2 - h * gu2
            bc, ab, ac = pb * pc, pa * pb, pa * pc
            m = 1.0 - pa * pa
            mb = m - bc
            r1, r2, r3 = pu * pu, pu * pv, pv * pv
            x2 = (mb * r2 + pa * (pc * r1 + pb * r3)) / (mb * mb - 4.0 * pa * ac * pb)
            t1, t3 = r1 + 2.0 * ab * x2, r3 + 2.0 * ac * x2
            det = mb * (m + bc)
            x1, x3 = (m * t1 + pb * pb * t3) / det, (pc * pc * t1 + m * t3) / det
            q = 1.0 - rho * pa
            inv = 1.0 / (q * q - rr * bc)
            p11, p12, p21 = q * inv, rho * pb * inv, rho * pc * inv
            w1, w2 = p11 * pu + p12 * pv, p21 * pu + p11 * pv
            wx11, wx12 = pa * x1 + pb * x2, pa * x2 + pb * x3
            wx21, wx22 = pc * x1 + pa * x2, pc * x2 + pa * x3
            # corrector
            ta = a - hh * (ga + x3 * wx11 + x2 * wx21 - rho * w2 * w1)
            tb = b - hh * (gb + x3 * wx12 + x2 * wx22 - rho * w2 * w2)
            tc = c - hh * (gc + x2 * wx11 + x1 * wx21 - rho * w1 * w1)
            tu = u1 - hh * (gu1 + x3 * pu + x2 * pv - w2)
            tv = u2 - hh * (gu2 + x2 * pu + x1 * pv - w1)
            bc = tb * tc
            radius = abs(ta) + math.sqrt(bc) if bc >= 0.0 else math.sqrt(ta * ta - bc)
            if radius >= 0.9999:
                failed = True
                break
            # loss and gradient at the corrected state (loss_gradient inlined)
            ab, ac = ta * tb, ta * tc
            m = 1.0 - ta * ta
            mb = m - bc
            r1, r2, r3 = tu * tu, tu * tv, tv * tv
            x2 = (mb * r2 + ta * (tc * r1 + tb * r3)) / (mb * mb - 4.0 * ta * ac * tb)
            t1, t3 = r1 + 2.0 * ab * x2, r3 + 2.0 * ac * x2
            det = mb * (m + bc)
            x1, x3 = (m * t1 + tb * tb * t3) / det, (tc * tc * t1 + m * t3) / det
            q = 1.0 - rho * ta
            inv = 1.0 / (q * q - rr * bc)
            p11, p12, p21 = q * inv, rho * tb * inv, rho * tc * inv
            w1, w2 = p11 * tu + p12 * tv, p21 * tu + p11 * tv
            new = 0.5 * (tv * (x1 * tv + x2 * tu) + tu * (x2 * tv + x3 * tu)) - (tv * w1 + tu * w2) + offset
            if new > now + 1e-12:
                failed = True
                break
            wx11, wx12 = ta * x1 + tb * x2, ta * x2 + tb * x3
            wx21, wx22 = tc * x1 + ta * x2, tc * x2 + ta * x3
            ga, gb = x3 * wx11 + x2 * wx21 - rho * w2 * w1, x3 * wx12 + x2 * wx22 - rho * w2 * w2
            gc = x2 * wx11 + x1 * wx21 - rho * w1 * w1
            gu1, gu2 = x3 * tu + x2 * tv - w2, x2 * tu + x1 * tv - w1
            a, b, c, u1, u2, now = ta, tb, tc, tu, tv, new
        if not failed:
            return (a, b, c, u1, u2), now, (ga, gb, gc, gu1, gu2), substeps, radius
        # past the stability limit of the stiff direction near rho* (the loss would rise): halve the step for
        # the rest of this trajectory
        substeps *= 2
        if substeps > max_substeps:
            return state, loss, grad, substeps, None
