"""The learner covariance's solves: one simulated learner's exact test errors at nested training amounts.

:func:`neurolearn.theory.learning_curve.learning_curve_covariance` simulates learners of the
``"kernel-learning-curve"`` model (Gaussian features of a power-law spectrum, one nested stream of examples each)
and fits each by kernel (ridge) regression at every session's number of examples; these are those fits.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas, lapack, solve_triangular


def _learner_errors(stream, labels, eta, root, weights, counts, ridge):
    """One learner's exact test errors at the sorted distinct training amounts ``counts`` (nested sets).

    Every session's kernel is a leading block of the largest one's, ``K = Z D Z^T`` (only its lower triangle
    is formed). With a ridge, see :func:`_ridge_duals`; ridgeless, see :func:`_ridgeless_duals`. The fitted
    weights of all sessions come from one product with the stream.
    """
    largest = stream.shape[0]
    duals = np.zeros((largest, counts.size))
    if largest:
        scaled = stream * root
        lower = blas.dsyrk(1.0, scaled, lower=1)  # lower triangle of the kernel Z D Z^T (Fortran order)
        if ridge > 0:
            duals = _ridge_duals(lower, labels, counts, ridge)
        else:
            duals = _ridgeless_duals(lower, scaled, labels, counts)
    fitted = eta[:, None] * (stream.T @ duals)
    return np.sum((weights[:, None] - fitted) ** 2, axis=0)


def _ridgeless_duals(lower, scaled, labels, counts):
    """Dual coefficients of the minimum-norm interpolant ``K_n^+ y_n`` of every session (columns).

    ``scaled`` is the stream in the scaled features ``X = Z D^(1/2)`` (``K = X X^T``). The solver is chosen per
    session. A kernel of ``n <= n_modes`` examples is positive definite (almost surely), and the leading blocks
    of a Cholesky factor are the factors of the leading blocks: one factorisation of the block of
    ``m = min(largest, n_modes)`` examples, then two triangular solves per session of at most ``m`` examples.
    Past the modes ``K_n`` is singular (rank ``n_modes``) and ``X_n`` has full column rank, so the interpolant's
    weights are least squares in the features, ``X_n^+ y_n = G_n^-1 X_n^T y_n`` with ``G_n = X_n^T X_n``
    (its nonzero spectrum is ``K_n``'s: the same conditioning), and its duals ``X_n G_n^-2 X_n^T y_n``
    (``X_n^T`` of them is that solution). ``G_n`` grows by the new examples' products from one session to the
    next. Should a block not factorise numerically, the session is solved by ``lstsq`` on its kernel block.
    """
    largest, n_modes = lower.shape[0], scaled.shape[1]
    duals = np.zeros((largest, counts.size))
    size = min(largest, n_modes)
    factor = None
    while size > 0:
        factor, info = lapack.dpotrf(lower[:size, :size], lower=1, clean=1)
        if info == 0:
            break
        size, factor = int(info) - 1, None
    full, gram, done = None, np.zeros((n_modes, n_modes), order="F"), 0
    for column, count in enumerate(counts):
        if count == 0:
            continue
        y = labels[:count]
        if factor is not None and count <= size:
            block = factor[:count, :count]
            duals[:count, column] = solve_triangular(block, solve_triangular(block, y, lower=True,
                                                                             check_finite=False),
                                                     lower=True, trans="T", check_finite=False)
            continue
        own = None
        if count > n_modes:
            gram = blas.dsyrk(1.0, scaled[done:count], trans=1, beta=1.0, c=gram, lower=1, overwrite_c=1)
            done = count
            own, info = lapack.dpotrf(gram, lower=1, clean=1)
            own = own if info == 0 else None
        if own is not None:
            x = scaled[:count]
            twice = lapack.dpotrs(own, lapack.dpotrs(own, x.T @ y, lower=1)[0], lower=1)[0]
            duals[:count, column] = x @ twice
        else:  # not numerically of full rank: the minimum-norm interpolant by least squares
            if full is None:
                full = np.tril(lower) + np.tril(lower, -1).T
            duals[:count, column] = np.linalg.lstsq(full[:count, :count], y, rcond=None)[0]
    return duals


# The ridge's block solves: sessions per block of conjugate-gradient columns, the accepted size of a column's
# preconditioned residual (its remaining error) relative to its solution, and the iterations before a column is
# solved directly instead
_BLOCK_COLUMNS = 16
_CG_TOLERANCE = 1e-13
_CG_ITERATIONS = 30


def _ridge_duals(lower, labels, counts, ridge):
    """Dual coefficients ``(K_n + lambda_n I)^-1 y_n`` of every session (columns; zero rows past ``n``).

    The ridge is relative to each block's mean diagonal, ``lambda_n = ridge tr(K_n) / n`` (~ sum eta = 1, as the
    readout estimator's and the model's), so the shifted blocks are not nested and each would need its own
    factorisation. Instead the largest block shifted by the largest session's ``lambda`` is factorised once;
    its leading blocks are the Cholesky factors of ``K_n + lambda_N I``, which differ from the sessions' systems
    by ``(lambda_n - lambda_N) I`` only (a few per cent: a mean over ``n`` examples), so preconditioned conjugate
    gradients, run on blocks of sessions at once, reach a remaining error of ``_CG_TOLERANCE`` of the solution
    in a few (3-12) iterations. A column that does not converge is solved by its own Cholesky factorisation.
    """
    largest = lower.shape[0]
    duals = np.zeros((largest, counts.size))
    positive = np.flatnonzero(counts > 0)
    if positive.size == 0:
        return duals
    trace = np.cumsum(np.diagonal(lower))
    shifts = ridge * trace[counts[positive] - 1] / counts[positive]
    reference = np.array(lower, order="F")
    reference.reshape(-1, order="F")[::largest + 1] += shifts[-1]
    factor, info = lapack.dpotrf(reference, lower=1, clean=0, overwrite_a=1)
    unsolved = positive if info != 0 else []
    if info == 0:
        unsolved = []
        for start in range(0, positive.size, _BLOCK_COLUMNS):
            columns = positive[start:start + _BLOCK_COLUMNS]
            size = int(counts[columns].max())
            block, converged = _block_cg(lower[:size, :size], factor[:size, :size], labels[:size],
                                         counts[columns], shifts[start:start + _BLOCK_COLUMNS])
            duals[:size, columns] = block
            unsolved.extend(columns[~converged])
    for column in unsolved:
        count = int(counts[column])
        shifted = np.array(lower[:count, :count], order="F")
        shifted.reshape(-1, order="F")[::count + 1] += ridge * trace[count - 1] / count
        own, info = lapack.dpotrf(shifted, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            duals[:count, column] = lapack.dpotrs(own, labels[:count], lower=1)[0]
        else:  # not numerically positive definite (round-off of a tiny ridge)
            kernel = np.tril(lower[:count, :count]) + np.tril(lower[:count, :count], -1).T
            duals[:count, column] = np.linalg.solve(kernel + ridge * trace[count - 1] / count * np.eye(count),
                                                    labels[:count])
    return duals


def _block_cg(kernel, factor, labels, counts, shifts):
    """Preconditioned conjugate gradients for ``(K_n + shift_n I) x_n = y_n``, one column per session.

    ``kernel`` (lower triangle) and ``factor`` are leading blocks; column ``s`` lives on the first ``counts[s]``
    rows (zero below), where the factor's leading block is the preconditioner's Cholesky factor (a forward solve
    restricted to those rows, then a backward one from them, which leaves the rows below at zero).
    """
    kernel, factor = np.asfortranarray(kernel), np.asfortranarray(factor)
    mask = (np.arange(kernel.shape[0])[:, None] < counts[None, :]).astype(float)

    def precondition(r):
        z = blas.dtrsm(1.0, factor, r, lower=1) * mask
        return blas.dtrsm(1.0, factor, z, lower=1, trans_a=1) * mask

    def apply(v):
        return blas.dsymm(1.0, kernel, v, lower=1) * mask + v * shifts

    y = np.asfortranarray(labels[:, None] * mask)
    x = precondition(y)
    r = y - apply(x)
    z = precondition(r)
    direction = z.copy()
    rz = np.sum(r * z, axis=0)
    active = np.ones(counts.size, dtype=bool)
    converged = np.zeros(counts.size, dtype=bool)
    for _ in range(_CG_ITERATIONS):
        q = apply(direction)
        curvature = np.sum(direction * q, axis=0)
        active &= curvature > 0
        step = np.where(active, rz / np.where(active, curvature, 1.0), 0.0)
        x += step * direction
        r -= step * q
        z = precondition(r)
        done = np.sqrt(np.sum(z * z, axis=0)) <= _CG_TOLERANCE * np.sqrt(np.sum(x * x, axis=0))
        converged |= active & done
        active &= ~done
        if not active.any():
            break
        rz_new = np.sum(r * z, axis=0)
        direction = z + np.where(active, rz_new / np.where(active, rz, 1.0), 0.0) * direction
        rz = rz_new
    return x, converged & np.isfinite(x).all(axis=0)
