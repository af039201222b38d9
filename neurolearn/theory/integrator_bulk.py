"""The integrating RNN with its random bulk, in the limit of many units: an exact finite surrogate network.

:mod:`neurolearn.theory.integrator` reduces :func:`neurolearn.simulate.rnn.train_integrator` to the 2-unit
network spanned by the initial input and readout weights ``u``, ``v``. That is exact when training starts from
``W = 0``; the simulator starts from ``W0 = g G / sqrt(N)`` (Gaussian ``G``, a bulk of eigenvalues in the disk
of radius ``g = init_scale``), and the bulk is not only a floor under the observed eigenvalue: it changes the
learning dynamics at every width (measured, ``benchmarks/bench_integrator_fidelity.py``: at the bundled
example's settings the outlier eigenvalue at step 86 is 0.80 with the bulk and 0.72 without, at 30, 100 and
300 units alike).

Large-N limit. ``W0`` is asymptotically a *circular* element free from ``u`` and ``v``: for any words
``w1, w2`` in ``W0`` and ``W0'`` and ``x, y`` in ``span(u, v)``, ``(w1 x)' (w2 y) -> (x'y) phi(w1* w2)`` with
``phi`` the normalised trace (fluctuations ``O(1/sqrt N)``). Every vector gradient descent ever forms is such
a word applied to ``u`` or ``v`` (the gradients are sums of outer products of ``W^a u`` and ``W'^b v``), so
the whole training run has the same inner products -- hence the same impulse response, loss and outlier
eigenvalue -- as the run of a network on ``C^2 (x) F``, ``F`` the full Fock space over ``C^2`` with vacuum
``Omega``, started from

    W0 = g (1 (x) c),   c = l_1 + l_2*,   u = (|u|, 0) (x) Omega,   v = (0, |v|) (x) Omega

(``l_i`` the creation operators: ``c`` is the standard Fock-space model of a circular element, ``phi(c c*) =
1``). A vector ``D`` letters deep carries a factor ``g^D``, so truncating ``F`` at depth ``D`` errs by
``O(g^(D+1))``: at ``g = 0.1`` the eigenvalue moves by 5e-3 from depth 1 to 2 and by 2e-4 from 2 to 3. The
surrogate has ``M = 2 (2^(D+1) - 1)`` units (14 at depth 2, 30 at depth 3) and is trained like the simulator,
by gradient descent at a finite learning rate (the exact discrete map; the flow is its ``learning_rate -> 0``
limit), on the infinite-horizon impulse-response loss in closed form (Lyapunov Gramians, as in
:func:`neurolearn.theory.integrator.rnn_loss_and_gradient`).

What it does not contain: finite-width fluctuations (``u.v ~ |u||v|/sqrt N``, ``|u| != |v|``, the realised
``W0``), which at 30 units move the late outlier eigenvalue by 2e-3 to 7e-3 from network to network (SD over
seeds); and the bulk's own eigenvalues, which the models floor the outlier with.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["circular_fock_operator", "large_n_network", "loss_and_gradient", "train_large_n"]


def circular_fock_operator(depth: int) -> np.ndarray:
    """``c = l_1 + l_2*`` on the full Fock space over ``C^2`` truncated at ``depth`` letters.

    Basis: the vacuum, then words over {1, 2} by length; ``l_1`` prepends letter 1 (dropped past ``depth``),
    ``l_2*`` removes a leading letter 2 (and kills any other word).

    Examples
    --------
    >>> c = circular_fock_operator(2)
    >>> c.shape, float((c @ c.T)[0, 0])  # phi(c c*) = |c* Omega|^2 = 1
    ((7, 7), 1.0)
    """
    if depth < 0:
        raise ValueError(f"circular_fock_operator: expected depth >= 0, found {depth}")
    words = [()]
    for length in range(1, depth + 1):
        words += list(itertools.product((1, 2), repeat=length))
    index = {w: i for i, w in enumerate(words)}
    c = np.zeros((len(words), len(words)))
    for word, i in index.items():
        if len(word) < depth:
            c[index[(1, *word)], i] += 1.0
        if word and word[0] == 2:
            c[index[word[1:]], i] += 1.0
    return c


def large_n_network(bulk: float, u0, v0, depth: int):
    """The surrogate's start ``(W0, u, v)`` on ``C^2 (x) F_depth`` for a bulk of radius ``bulk``.

    ``u0`` and ``v0`` are 2-vectors: the initial input and readout weights in an orthonormal basis of their
    span (orthogonal and of equal norm in the large-N limit; other values describe a given finite network's
    start, without its bulk fluctuations).
    """
    c = circular_fock_operator(depth)
    vacuum = np.zeros(c.shape[0])
    vacuum[0] = 1.0
    W0 = float(bulk) * np.kron(np.eye(2), c)
    return W0, np.kron(np.asarray(u0, dtype=float), vacuum), np.kron(np.asarray(v0, dtype=float), vacuum)


def _gramian(W, U):
    """``sum_k W^k U W'^k`` by doubling (``W`` of spectral radius < 1), to double precision."""
    X, A = U, W
    for _ in range(64):
        step = A @ X @ A.T
        X = X + step
        if np.max(np.abs(step)) <= 1e-16 * np.max(np.abs(X)):
            return X
        A = A @ A
    raise FloatingPointError("_gramian: no convergence (spectral radius of W >= 1?)")


def loss_and_gradient(W, u, v, rho_star: float):
    """Infinite-horizon white-noise loss ``1/2 sum_n (v W^n u - rho*^n)^2`` and its gradient, any size.

    The closed form of :func:`neurolearn.theory.integrator.rnn_loss_and_gradient` for ``N`` units:
    ``L = 1/2 v'Xv - v'Pu + 1/(2(1 - rho*^2))``, ``dL/dW = Y W X - rho* (P'v)(Pu)'``, ``dL/du = Y u - P'v``,
    ``dL/dv = X v - P u`` with ``X = W X W' + u u'``, ``Y = W' Y W + v v'``, ``P = (I - rho* W)^-1``.

    Examples
    --------
    >>> import numpy as np
    >>> loss, gW, gu, gv = loss_and_gradient(0.5 * np.eye(3), np.ones(3) / 3, np.ones(3), 0.5)
    >>> round(loss, 12), float(np.abs(gW).max()) < 1e-12  # the target filter 0.5^n itself
    (0.0, True)
    """
    W = np.asarray(W, dtype=float)
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    X = _gramian(W, np.outer(u, u))
    Y = _gramian(W.T, np.outer(v, v))
    P = np.linalg.inv(np.eye(W.shape[0]) - rho_star * W)
    Pu, Ptv, Xv = P @ u, P.T @ v, X @ v
    loss = 0.5 * v @ Xv - v @ Pu + 0.5 / (1.0 - rho_star**2)
    return float(loss), Y @ W @ X - rho_star * np.outer(Ptv, Pu), Y @ u - Ptv, Xv - Pu


def train_large_n(n_steps: int, rho_star: float = 0.9, readout_gain: float = 4.0, bulk: float = 0.1,
                  learning_rate: float = 0.006, depth: int | None = None, u0=None, v0=None):
    """Gradient descent on the large-N surrogate: outlier eigenvalue and normalised loss at every step.

    Parameters
    ----------
    n_steps : int
        Gradient steps (model time ``learning_rate x steps``).
    rho_star : float
        Target filter decay.
    readout_gain : float
        ``|u||v|`` at the start (``readout_scale^2`` of the simulator); ``u`` and ``v`` start orthogonal with
        equal norms unless ``u0``, ``v0`` (2-vectors) are given.
    bulk : float
        Radius ``g`` of the initial bulk (the simulator's ``init_scale``).
    learning_rate : float
        Step size; the surrogate takes the simulator's discrete steps.
    depth : int, optional
        Fock-space truncation (default: the smallest with ``bulk^(depth+1) <= 1e-4``, at most 4; 0 for no
        bulk, which is the 2-unit network).

    Returns
    -------
    outlier, normalized_loss : ndarray, shape (n_steps + 1,)
        Largest eigenvalue modulus of the surrogate's ``W`` (the bulk's own eigenvalues are not in it; floor
        it with ``bulk`` to compare with a finite network) and loss over the zero network's.

    Examples
    --------
    >>> lam, loss = train_large_n(150, 0.9, 4.0, bulk=0.1, learning_rate=0.006, depth=2)
    >>> round(float(lam[-1]), 2), bool(loss[-1] < 0.05)
    (0.88, True)
    """
    if depth is None:
        depth = 0 if bulk == 0 else min(4, max(1, math.ceil(math.log(1e-4) / math.log(bulk)) - 1))
    root = math.sqrt(readout_gain)
    u0 = (root, 0.0) if u0 is None else u0
    v0 = (0.0, root) if v0 is None else v0
    W, u, v = large_n_network(bulk, u0, v0, depth)
    zero_loss = 0.5 / (1.0 - rho_star**2)
    weights, losses = np.empty((n_steps + 1, *W.shape)), np.empty(n_steps + 1)
    for step in range(n_steps + 1):
        loss, gW, gu, gv = loss_and_gradient(W, u, v, rho_star)
        weights[step], losses[step] = W, loss / zero_loss
        W, u, v = W - learning_rate * gW, u - learning_rate * gu, v - learning_rate * gv
    outlier = np.max(np.abs(np.linalg.eigvals(weights)), axis=1)
    return outlier, losses
