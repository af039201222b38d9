"""Numpy core of the kernel statistics: the unbiased kernel of a session, centring, and per-neuron linear
and quadratic terms (with their per-neuron influences) shared by alignment, similarity, spectral and
dimensionality. The estimators are described in :mod:`neurolearn.stats.kernels`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.kernel_guards import MIN_NEURONS

if TYPE_CHECKING:
    from neurolearn.stats.kernels import ConditionStatistics

__all__ = ["unbiased_kernel_matrix", "centre_rows", "centre_kernel", "per_neuron_linear", "per_neuron_pair_trace",
           "linear_estimate", "factored_linear_estimate", "self_inner_estimate", "common_conditions",
           "shared_products", "with_shared_products", "export_shared", "seed_shared", "self_inner_key", "gram", "gram_product",
           "kernel_eigh", "contrast_basis", "centred_statistics", "centred_means", "own_pair_trace", "lookup_shared", "PAIR_ROWS", "weighted_noise", "sharing",
           "weighted_outer_sums"]

_SHARED = contextvars.ContextVar("neurolearn_kernel_products", default=None)


@contextmanager
def shared_products():
    """Within this block the products of a session's means (M Mᵀ, M Mᵀ M, the kernel's eigen-decomposition)
    are computed once per :class:`ConditionStatistics` and reused by every kernel statistic.

    Outside it every call computes its own (the arrays of a statistics object could change between calls).
    The store is per thread (a context variable), so sessions computed in parallel do not share it; nested
    blocks use the outermost one's store.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> rng = np.random.default_rng(0)
    >>> s = ConditionStatistics(rng.standard_normal((5, 40)), np.full((5, 40), 0.1), np.full(5, 4), np.arange(5),
    ...                         np.arange(40), None, "d0")
    >>> with shared_products():
    ...     gram(s) is gram(s)  # computed once inside the block
    True
    >>> gram(s) is gram(s)  # outside: every call computes its own
    False
    """
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def with_shared_products(function):
    """Decorator: run ``function`` inside :func:`shared_products` (one store for all its kernel products)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with shared_products():
            return function(*args, **kwargs)
    return wrapper


def _shared(stats, name, compute):
    store = _SHARED.get()
    if store is None:
        return compute()
    key = (id(stats.means), id(stats.sem2), name)
    if key not in store:  # the arrays are kept with the value, so their ids cannot be reused meanwhile
        store[key] = (stats.means, stats.sem2, compute())
    return store[key][2]


def export_shared(stats: "ConditionStatistics", names) -> dict:
    """The entries ``names`` already computed for ``stats`` in the current :func:`shared_products` block."""
    store = _SHARED.get() or {}
    out = {}
    for name in names:
        entry = store.get((id(stats.means), id(stats.sem2), name))
        if entry is not None:
            out[name] = entry[2]
    return out


def lookup_shared(stats: "ConditionStatistics", name):
    """The entry ``name`` computed (or seeded) for ``stats`` in the current :func:`shared_products` block, or
    None (always None outside a block)."""
    entry = (_SHARED.get() or {}).get((id(stats.means), id(stats.sem2), name))
    return None if entry is None else entry[2]


def sharing() -> bool:
    """True inside a :func:`shared_products` block."""
    return _SHARED.get() is not None


def seed_shared(stats: "ConditionStatistics", entries) -> None:
    """Put entries computed elsewhere for the same statistics (same arrays, e.g. by a worker) into the
    current :func:`shared_products` block (no-op outside one)."""
    store = _SHARED.get()
    if store is None or not entries:
        return
    for name, value in entries.items():
        store[(id(stats.means), id(stats.sem2), name)] = (stats.means, stats.sem2, value)


def gram(stats: "ConditionStatistics") -> np.ndarray:
    """G = M Mᵀ (P x P), the one P²N product behind every kernel of the session (shared, see above)."""
    return _shared(stats, "gram", lambda: stats.means @ stats.means.T)


def gram_product(stats: "ConditionStatistics") -> np.ndarray:
    """G M (P x N): every per-neuron quadratic form m_iᵀ L Φ R m_i follows from it in O(PN)."""
    return _shared(stats, "gram_product", lambda: gram(stats) @ stats.means)


def weighted_noise(stats: "ConditionStatistics", weights) -> np.ndarray:
    """(B, P) Σ_i w_bi sem2_i for every row of the (B, N) neuron weights (a B·P·N product, shared by the
    participation ratio's and the spectral statistics' replicates within a block)."""
    def compute():  # the weights are kept with the value, so their id (in the key) cannot be reused meanwhile
        return weights, np.asarray(weights, dtype=float) @ stats.sem2.T
    return _shared(stats, ("weighted_noise", id(weights)), compute)[1]


def weighted_outer_sums(columns: np.ndarray, weights: np.ndarray, block_bytes: int) -> np.ndarray:
    """Upper triangles (row-major, the order of ``np.triu_indices``) of Σ_i w_bi x_i x_iᵀ for every row w_b of
    the (B, N) ``weights``, x_i the columns of ``columns`` (r, N): the (B, N) weights times the per-neuron
    outer products, built in blocks of neurons (``block_bytes`` of products each) by contiguous row slices.

    Examples
    --------
    >>> import numpy as np
    >>> x, w = np.arange(6.0).reshape(2, 3), np.array([[1.0, 0.0, 2.0]])  # columns (0, 3), (1, 4), (2, 5)
    >>> weighted_outer_sums(x, w, 2**20).tolist()  # 1·(0, 3)(0, 3)ᵀ + 2·(2, 5)(2, 5)ᵀ, entries 00, 01, 11
    [[8.0, 20.0, 59.0]]
    """
    n_rows, n = columns.shape
    n_upper = n_rows * (n_rows + 1) // 2
    step = max(1, int(block_bytes // (8 * n_upper)))
    out = np.zeros((weights.shape[0], n_upper))
    buffer = np.empty((n_upper, min(step, n)))
    for start in range(0, n, step):
        block = columns[:, start:start + step]
        products = buffer[:, :block.shape[1]]
        row = 0
        for p in range(n_rows):  # rows (p, p), (p, p + 1), ... of the upper triangle
            np.multiply(block[p:], block[p], out=products[row:row + n_rows - p])
            row += n_rows - p
        out += weights[:, start:start + step] @ products.T
    return out


def centred_means(stats: "ConditionStatistics", centred: bool) -> np.ndarray:
    """H M (or M): the session's means centred over conditions (shared)."""
    if not centred:
        return stats.means
    return _shared(stats, "centred_means", lambda: centre_rows(stats.means, True))


def own_pair_trace(stats: "ConditionStatistics", sem2, left: bool, right: bool) -> np.ndarray:
    """tr(K_i L K_i R) per neuron: :func:`per_neuron_pair_trace` of a session with itself, from the shared
    centred means (two of its four products are equal)."""
    n_cond = stats.n_conditions
    l, r = centred_means(stats, left), centred_means(stats, right)
    ll = np.einsum("pn,pn->n", l, l)
    value = ll * (ll if left == right else np.einsum("pn,pn->n", r, r))
    value -= 2.0 * np.einsum("pn,pn,pn->n", l, r if left != right else l, sem2)
    if left and right:
        value += (1 - 2 / n_cond) * np.einsum("pn,pn->n", sem2, sem2) + sem2.sum(0) ** 2 / n_cond**2
    elif left or right:
        value += (1 - 1 / n_cond) * np.einsum("pn,pn->n", sem2, sem2)
    else:
        value += np.einsum("pn,pn->n", sem2, sem2)
    return value


def kernel_eigh(stats: "ConditionStatistics", unbiased: bool = True, centred: bool = False):
    """Eigenvalues (ascending) and eigenvectors of the symmetrised unbiased (or plug-in) kernel (shared).

    ``centred``: of the double-centred kernel H Φ H restricted to the conditions' contrasts (the P - 1
    directions orthogonal to the all-ones vector, :func:`contrast_basis`): P - 1 eigenpairs, every eigenvector
    orthogonal to 1. The mean response over conditions (a neuron's baseline rate) is then not a mode of the
    spectrum, and the trial-noise correction stays unbiased (Qᵀ H diag(σ) H Q = Qᵀ diag(σ) Q).
    """
    def compute():
        kernel = unbiased_kernel_matrix(stats) if unbiased else gram(stats) / stats.n_neurons
        kernel = (kernel + kernel.T) / 2.0
        if not centred:
            return np.linalg.eigh(kernel)
        basis = contrast_basis(kernel.shape[0])
        eigenvalues, vectors = np.linalg.eigh(basis.T @ kernel @ basis)
        return eigenvalues, basis @ vectors
    return _shared(stats, ("eigh", bool(unbiased), bool(centred)), compute)


def centred_statistics(stats: "ConditionStatistics") -> "ConditionStatistics":
    """The statistics of the condition-centred responses: each neuron's means minus their mean over conditions,
    squared SEs times (1 - 1/P), so that Σ_p (m_p² - sem2_p) per neuron is the unbiased m̂ᵀHm̂ - (1 - 1/P) Σ_p
    sem2_p (E m̂ᵀHm̂ = mᵀHm + tr(H diag sem2)) and Σ_p m_p m'_p of two sessions is m̂ᵀHm̂'. A neuron's baseline
    rate, the same in every condition, is then no part of the traces of code_overlap.

    Examples
    --------
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> s = ConditionStatistics(np.array([[5.0], [7.0]]), np.array([[0.5], [0.5]]), np.array([4, 4]),
    ...                         np.arange(2), np.arange(1), None, "d0")
    >>> c = centred_statistics(s)
    >>> c.means.ravel().tolist(), c.sem2.ravel().tolist()
    ([-1.0, 1.0], [0.25, 0.25])
    """
    n_cond = stats.n_conditions
    return dataclasses.replace(stats, means=stats.means - stats.means.mean(axis=0, keepdims=True),
                   sem2=stats.sem2 * (1.0 - 1.0 / n_cond))


def contrast_basis(n_conditions: int) -> np.ndarray:
    """(P, P - 1) orthonormal basis of the contrasts (vectors summing to 0): the Helmert columns
    (1, ..., 1, -k, 0, ...) / sqrt(k (k + 1)), k = 1..P-1.

    Examples
    --------
    >>> q = contrast_basis(4)
    >>> bool(np.allclose(q.T @ q, np.eye(3))), bool(np.allclose(q.sum(axis=0), 0.0))
    (True, True)
    """
    basis = np.zeros((n_conditions, max(n_conditions - 1, 0)))
    for k in range(1, n_conditions):
        basis[:k, k - 1] = 1.0
        basis[k, k - 1] = -float(k)
        basis[:, k - 1] /= np.sqrt(k * (k + 1.0))
    return basis


def unbiased_kernel_matrix(stats: "ConditionStatistics") -> np.ndarray:
    """Φ̂ = (M Mᵀ - diag(Σ_i sem2_i)) / N as a plain array."""
    kernel = gram(stats).copy()
    kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons


def centre_rows(matrix: np.ndarray, centred: bool) -> np.ndarray:
    """H M (subtract the mean over conditions) if ``centred``, else M."""
    return matrix - matrix.mean(axis=0, keepdims=True) if centred else matrix


def centre_kernel(kernel: np.ndarray, left: bool, right: bool) -> np.ndarray:
    """L Φ R with L, R either the centring matrix H or the identity."""
    out = kernel
    if left:
        out = out - out.mean(axis=0, keepdims=True)
    if right:
        out = out - out.mean(axis=1, keepdims=True)
    return out


def per_neuron_linear(means: np.ndarray, sem2: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """⟨K_i, T⟩ = m_iᵀ T m_i - Σ_μ T_μμ sem2_μi for every neuron i (vector of length N)."""
    return np.einsum("pn,pn->n", matrix @ means, means) - np.diag(matrix) @ sem2


def per_neuron_pair_trace(m1, v1, m2, v2, left: bool, right: bool) -> np.ndarray:
    """tr(K1_i L K2_i R) for paired columns i of two sets of per-neuron kernels K = m mᵀ - diag(v)."""
    n_cond = m1.shape[0]
    l1, l2 = centre_rows(m1, left), centre_rows(m2, left)
    r1, r2 = centre_rows(m1, right), centre_rows(m2, right)
    value = np.einsum("pn,pn->n", l1, l2) * np.einsum("pn,pn->n", r1, r2)
    value -= np.einsum("pn,pn,pn->n", l1, r1, v2)
    value -= np.einsum("pn,pn,pn->n", r2, l2, v1)
    # vᵀ (L∘R) v with H∘H = (1 - 2/P) I + 11ᵀ/P² and H∘I = (1 - 1/P) I
    if left and right:
        value += (1 - 2 / n_cond) * np.einsum("pn,pn->n", v1, v2) + v1.sum(0) * v2.sum(0) / n_cond**2
    elif left or right:
        value += (1 - 1 / n_cond) * np.einsum("pn,pn->n", v1, v2)
    else:
        value += np.einsum("pn,pn->n", v1, v2)
    return value


def linear_estimate(stats: "ConditionStatistics", matrix: np.ndarray, *, unbiased: bool = True):
    """Estimate ⟨Φ, T⟩ and its per-neuron influence (replicate = value + δw · influence)."""
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    terms = per_neuron_linear(stats.means, sem2, matrix)
    value = float(terms.mean())
    return value, (terms - value) / stats.n_neurons


def factored_linear_estimate(stats: "ConditionStatistics", left_factor, right_factor, identity: float = 0.0, *,
                             unbiased: bool = True):
    """:func:`linear_estimate` for T = identity·I + A Bᵀ (A, B of shape (P, C)) without forming T: C·P·N work
    instead of the P²·N of a dense T.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> rng = np.random.default_rng(1)
    >>> s = ConditionStatistics(rng.standard_normal((6, 30)), np.full((6, 30), 0.2), np.full(6, 3), np.arange(6),
    ...                         np.arange(30), None, "d0")
    >>> a, b = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    >>> dense, _ = linear_estimate(s, 0.5 * np.eye(6) + a @ b.T)
    >>> factored, _ = factored_linear_estimate(s, a, b, 0.5)
    >>> bool(np.isclose(dense, factored, rtol=1e-12))
    True
    """
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    means = stats.means
    left_factor = np.asarray(left_factor, dtype=float).reshape(means.shape[0], -1)
    right_factor = np.asarray(right_factor, dtype=float).reshape(means.shape[0], -1)
    terms = np.einsum("cn,cn->n", left_factor.T @ means, right_factor.T @ means)
    if identity:
        terms += identity * np.einsum("pn,pn->n", means, means)
    terms -= (identity + np.einsum("pc,pc->p", left_factor, right_factor)) @ sem2
    value = float(terms.mean())
    return value, (terms - value) / stats.n_neurons


#: :func:`shared_products` name of r_i = Σ_j (c_i·c_j)² (c the centred means), seeded by the participation
#: ratio's pass over the N x N Gram matrix of the centred means when its bootstrap takes that route
PAIR_ROWS = "centred_pair_rows"


def centred_quadratic_rows(stats: "ConditionStatistics", noise_total, left: bool, right: bool) -> np.ndarray:
    """(R m_i)ᵀ (G - diag(noise_total)) (L m_i) for every neuron i, from the shared G M in O(PN), or without
    G M (a P²N product) from the row sums r_i = Σ_j (c_i·c_j)² when they are shared (:data:`PAIR_ROWS`).

    With m_i = c_i + m̄_i 1 and Σ_μ c_μj = 0: c_i·m_j = c_i·c_j and m_i·m_j = c_i·c_j + P m̄_i m̄_j, so
    (Hm_i)ᵀ G (Hm_i) = r_i, (Hm_i)ᵀ G m_i = r_i + P m̄_i c_i·(C m̄) and m_iᵀ G m_i = r_i + 2 P m̄_i c_i·(C m̄)
    + P² m̄_i² ‖m̄‖².
    """
    a, b = centred_means(stats, left), centred_means(stats, right)
    noise = np.einsum("pn,pn,p->n", a, b, noise_total)
    rows = lookup_shared(stats, PAIR_ROWS)
    if rows is not None:
        if left and right:
            return rows - noise
        n_cond = stats.n_conditions
        mean = stats.means.mean(axis=0)
        c = centred_means(stats, True)
        projected = (c @ mean) @ c  # c_i·(C m̄)
        times = 1.0 if left or right else 2.0
        out = rows + times * n_cond * mean * projected
        if not (left or right):
            out += n_cond**2 * mean**2 * float(mean @ mean)
        return out - noise
    means = stats.means
    product = gram_product(stats)
    if left:  # G (H m) = G m - m̄ G 1
        product = product - gram(stats).sum(axis=1)[:, None] * means.mean(axis=0)[None, :]
    return np.einsum("pn,pn->n", b, product) - noise


@with_shared_products
def self_inner_estimate(stats: "ConditionStatistics", left: bool, right: bool, *, unbiased: bool = True):
    """Estimate ‖LΦR‖²_F and its per-neuron influence (see :func:`_self_inner_estimate`; shared within a
    :func:`shared_products` block)."""
    value, influence = _shared(stats, self_inner_key(left, right, unbiased),
                               lambda: _self_inner_estimate(stats, left, right, unbiased=unbiased))
    return value, influence.copy()


def self_inner_key(left, right, unbiased):
    """The :func:`shared_products` name of a self term."""
    return ("self_inner", bool(left), bool(right), bool(unbiased))


def _self_inner_estimate(stats: "ConditionStatistics", left: bool, right: bool, *, unbiased: bool = True):
    """Estimate ‖LΦR‖²_F and its per-neuron influence.

    ``unbiased=True``: U-statistic over distinct neurons with trial-noise-corrected per-neuron kernels,
    unbiased for the population (infinite-neuron, noiseless) value. ``unbiased=False``: plug-in ‖L R Rᵀ R/N‖².
    """
    n = stats.n_neurons
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    noise_total = sem2.sum(axis=1)
    kernel = gram(stats).copy()
    kernel[np.diag_indices_from(kernel)] -= noise_total
    kernel /= n
    centred = centre_kernel(kernel, left, right)
    total = float(np.sum(centred * centred))  # ‖mean_i L K_i R‖²
    # ⟨L K_i R, L Φ̂ R⟩ = tr(K_i L Φ̂ R) = m_iᵀ R Φ̂ L m_i - Σ_μ (LΦ̂R)_μμ sem2_μi, from the shared G M
    row = centred_quadratic_rows(stats, noise_total, left, right) / n - np.diag(centred) @ sem2
    if not unbiased:
        return total, 2.0 * (row - total) / n
    if n < 2:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: too few neurons for an unbiased ratio (found {n}, "
            f"need {MIN_NEURONS})")
    own = own_pair_trace(stats, sem2, left, right)
    value = (n * n * total - own.sum()) / (n * (n - 1))
    pair_sums = n * row - own  # Σ_{j≠i} tr(K_i L K_j R)
    return float(value), 2.0 * (pair_sums - (n - 1) * value) / (n * (n - 1))


def common_conditions(stats_list) -> np.ndarray:
    """Condition values recorded in every session (sorted); DataError naming sessions if fewer than 2."""
    common = stats_list[0].conditions
    for stats in stats_list[1:]:
        common = np.intersect1d(common, stats.conditions)
    if common.size < 2:
        raise DataError(
            "expected at least 2 conditions shared by all sessions "
            f"{[s.session_id for s in stats_list][:10]}, found {common.tolist()}"
        )
    return common
