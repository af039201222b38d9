"""Cross products of the halves' kernel changes behind kernel_change's halved roots, computed without storing
every halving's half kernels.

For each halving m of the neuron ids (:func:`~neurolearn.stats.kernel_pairs.id_halvings`), with halves A and
B, session t and the reference 0, the quantity is ⟨D_A, D_B⟩, D_X = K̂_t^X - K̂_0^X, where

    K̂^X = (M_X M_Xᵀ - diag σ_X) / n_X,   σ_X = Σ_{i∈X} s_i  (s_i the squared standard errors),

is the trial-noise-corrected uncentred kernel of the n_X neurons of half X (the definition of
:func:`~neurolearn.stats.kernel_pairs.half_kernels`). Two exact routes:

* ``"halves"``: each halving's half kernels, one P x P x n product of the smaller half per session (the
  larger half is the whole's kernel minus it), one halving at a time for all sessions: memory a few P x P
  kernels per session instead of the (32, 2, P, P) array of every halving. About 8 P² N per session.
* ``"grams"``, for a session recording the reference's cells (same ids in the same order, so the same
  halves): the per-cell changes d_i of the unbiased kernel summed over pairs of halves,
  n_A n_B ⟨D_A, D_B⟩ = Σ_{i∈A, j∈B} ⟨d_i, d_j⟩, from blocks of rows of the N x N Gram matrices of
  u = m - m' and v = m + m' (:func:`_by_differences`): 2 P N² per session, cheaper where N < ~4-8 P (the
  reference's halves are then not needed at all). Sessions with other cells take the halves.

By default (``route=None``) the cheaper of the two by multiply-adds (:func:`halving_route_costs`). Both are
the halves' sums in another order: they agree to float round-off (tested against the stored half kernels);
an expansion into ⟨K_t, K_t⟩ + ⟨K_0, K_0⟩ - 2⟨K_t, K_0⟩ over the halves, cheaper still, was not used: with
baseline rates its four terms are ~1e4 times the change and it lost 8 digits. A tracked cell lies in the
same half in both sessions, so no product pairs a cell with itself on either route.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurolearn.errors import DataError
from neurolearn.stats.kernels import ConditionStatistics

__all__ = ["halved_change_products", "halving_route_costs", "ROUTES"]

#: the two exact routes of :func:`halved_change_products`
ROUTES = ("halves", "grams")

#: bytes of one block of Gram rows (working memory of the "grams" route)
_BLOCK_BYTES = 64 * 2**20


def _same_cells(stats, reference, t):
    return bool(np.array_equal(np.asarray(stats[t].neurons), np.asarray(stats[reference].neurons)))


def halving_route_costs(stats: Sequence[ConditionStatistics], reference: int, targets, halvings) -> dict:
    """Multiply-adds of :func:`halved_change_products` with ``route="halves"`` and ``route="grams"``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> def session(n_cond, n):
    ...     return ConditionStatistics(np.zeros((n_cond, n)), np.zeros((n_cond, n)), np.full(n_cond, 4),
    ...                                np.arange(n_cond), np.arange(n), None, "s")
    >>> halves = {k: np.stack([np.arange(8) % 2 == 0] * 32) for k in (0, 1)}
    >>> costs = halving_route_costs([session(100, 8), session(100, 8)], 0, [1], halves)
    >>> costs["grams"] < costs["halves"]  # 8 cells, 100 conditions: the 8 x 8 Grams
    True
    """
    targets = [t for t in targets if t != reference]
    n_cond = stats[reference].n_conditions

    def halves_cost(k):
        first = np.asarray(halvings[k])
        counts = first.sum(axis=1)
        smaller = np.minimum(counts, stats[k].n_neurons - counts)
        products = n_cond**2 * (float(smaller.sum()) + stats[k].n_neurons) / 2.0
        return products + 8.0 * first.shape[0] * n_cond**2  # and the P x P differences

    def grams_cost(t):
        n, n_halvings = stats[t].n_neurons, np.asarray(halvings[t]).shape[0]
        return 2.0 * n_cond * n * n + n_halvings * n * n / 2.0 + 4.0 * n_halvings * n * n_cond

    halves = halves_cost(reference) + sum(halves_cost(t) for t in targets)
    other = [t for t in targets if not _same_cells(stats, reference, t)]
    grams = (sum(grams_cost(t) for t in targets if t not in other)
             + (halves_cost(reference) + sum(halves_cost(t) for t in other) if other else 0.0))
    return {"halves": halves, "grams": grams}


def halved_change_products(stats: Sequence[ConditionStatistics], reference: int, targets, halvings,
                           route: str | None = None, *, centred: bool = False) -> dict:
    """{t: (M,) array of ⟨D_A, D_B⟩ per halving} for every session t in ``targets`` against ``reference``;
    with ``centred``, of the double-centred changes ⟨H D_A H, H D_B H⟩ (H = I - 11ᵀ/P).

    Parameters
    ----------
    stats : sequence of ConditionStatistics
        The sessions, sharing their conditions (same order).
    reference : int
        Index of the reference session (session 0 of the change).
    targets : iterable of int
        Sessions whose change is wanted (the reference itself is skipped).
    halvings : mapping or sequence
        ``halvings[k]``: the (M, N_k) bool first halves of session k (:func:`~neurolearn.stats.kernel_pairs.
        id_halvings` of its ids), for the reference and every target.
    route : {"halves", "grams"} or None
        ``"grams"``: the Gram route for the sessions recording the reference's cells, the halves for the
        others; None: whichever needs fewer multiply-adds (:func:`halving_route_costs`).
    centred : bool
        Double-centre the changes (kernel_change's estimand): the halves route centres each P x P change,
        the Gram route each cell's mean-differences over conditions (see :func:`_by_differences`).

    Returns
    -------
    dict
        ``{t: products}``, ``products[m]`` NaN where one of the four halves (A or B of t or of the reference)
        holds no neuron, as in :func:`~neurolearn.stats.kernel_pairs.half_kernels`.

    Raises
    ------
    DataError
        ``route`` not one of :data:`ROUTES` or None, or halvings whose shape does not match a session's
        neurons.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import ConditionStatistics
    >>> from neurolearn.stats.kernel_pairs import id_halvings
    >>> def session(seed):
    ...     r = np.random.default_rng(seed)
    ...     return ConditionStatistics(r.standard_normal((6, 30)), np.full((6, 30), 0.01), np.full(6, 4),
    ...                                np.arange(6), np.arange(30), None, str(seed))
    >>> sessions = [session(0), session(1)]
    >>> halves = [id_halvings(s.neurons) for s in sessions]
    >>> a = halved_change_products(sessions, 0, [1], halves, route="halves")[1]
    >>> b = halved_change_products(sessions, 0, [1], halves, route="grams")[1]
    >>> a.shape, bool(np.allclose(a, b, rtol=1e-10, atol=0))
    ((32,), True)
    >>> c = halved_change_products(sessions, 0, [1], halves, route="halves", centred=True)[1]
    >>> d = halved_change_products(sessions, 0, [1], halves, route="grams", centred=True)[1]
    >>> bool(np.allclose(c, d, rtol=1e-10, atol=0)), bool(np.allclose(a, c))
    (True, False)
    """
    if route not in ROUTES + (None,):
        raise DataError(f"route: expected one of {list(ROUTES)} or None, found {route!r}")
    targets = [int(t) for t in targets if int(t) != reference]
    for k in [reference] + targets:
        first = np.asarray(halvings[k])
        if first.ndim != 2 or first.shape[1] != stats[k].n_neurons:
            raise DataError(f"halvings of session {stats[k].session_id!r}: expected shape (M, "
                            f"{stats[k].n_neurons}), found {first.shape}")
    if not targets:
        return {}
    if route is None:
        costs = halving_route_costs(stats, reference, targets, halvings)
        route = "grams" if costs["grams"] < costs["halves"] else "halves"
    same = [t for t in targets if _same_cells(stats, reference, t)] if route == "grams" else []
    out = _by_differences(stats, reference, same, halvings, centred) if same else {}
    other = [t for t in targets if t not in out]
    if other:
        out.update(_by_halves(stats, reference, other, halvings, centred))
    return {t: out[t] for t in targets}


def _double_centre(matrix):
    out = matrix - matrix.mean(axis=0, keepdims=True)
    return out - out.mean(axis=1, keepdims=True)


def _by_halves(stats, reference, targets, halvings, centred=False):
    """One halving at a time: the reference's half kernels once, then every target's, and their product
    (⟨H D_A H, H D_B H⟩ with ``centred``: H is idempotent, so centring one of the two is enough)."""
    n_halvings = np.asarray(halvings[reference]).shape[0]
    involved = [reference] + targets
    diagonal = np.diag_indices(stats[reference].n_conditions)
    wholes = {}
    for k in involved:
        whole = stats[k].means @ stats[k].means.T
        whole[diagonal] -= stats[k].sem2.sum(axis=1)
        wholes[k] = whole
    out = {t: np.full(n_halvings, np.nan) for t in targets}
    for m in range(n_halvings):
        ref = _halves(stats[reference], halvings[reference][m], wholes[reference], diagonal)
        if ref is None:
            continue
        for t in targets:
            own = _halves(stats[t], halvings[t][m], wholes[t], diagonal)
            if own is not None:
                first = own[0] - ref[0]
                second = own[1] - ref[1]
                if centred:
                    first = _double_centre(first)
                out[t][m] = float(np.vdot(first, second))
    return out


def _halves(stats, first, whole, diagonal):
    """(K̂^A, K̂^B) of one halving (the smaller half by a product, the other by difference), or None if a half
    holds no neuron."""
    first = np.asarray(first, dtype=bool)
    counts = (int(first.sum()), int(first.size - first.sum()))
    if not counts[0] or not counts[1]:
        return None
    small = 0 if counts[0] <= counts[1] else 1
    part = first if small == 0 else ~first
    means = stats.means[:, part]
    kernel = means @ means.T
    kernel[diagonal] -= stats.sem2[:, part].sum(axis=1)
    out = [None, None]
    out[small] = kernel / counts[small]
    out[1 - small] = (whole - kernel) / counts[1 - small]
    return out


def _by_differences(stats, reference, targets, halvings, centred=False):
    """Targets recording the reference's cells (same ids, same order, so the same halves): with d_i the
    change of cell i's unbiased kernel, u_i = m_i - m'_i, v_i = m_i + m'_i and δ_i = s_i - s'_i (the change
    of its sem²),

        ⟨d_i, d_j⟩ = ½ [(u_i·u_j)(v_i·v_j) + (u_i·v_j)(u_j·v_i)] - (u_i∘v_i)·δ_j - (u_j∘v_j)·δ_i + δ_i·δ_j,

    and n_A n_B ⟨D_A, D_B⟩ = Σ_{i∈A, j∈B} ⟨d_i, d_j⟩: the first term from blocks of the Gram matrices of U
    and V, the others from per-halving P-vectors. Every term is of the size of the change itself (no
    difference of two kernels' norms), so the round-off is the halves' own.

    ``centred``: ⟨H d_i H, H d_j H⟩ is the same expansion with u and v centred over conditions (H m m'ᵀ H =
    (Hm)(Hm')ᵀ, and ⟨(Hu)(Hv)ᵀ, H diag(δ) H⟩ = (Hu∘Hv)·δ), except the last term: tr(H diag(δ_i) H diag(δ_j))
    = (1 - 2/P) δ_i·δ_j + (Σδ_i)(Σδ_j)/P², from H∘H = (1 - 2/P) I + 11ᵀ/P²."""
    ref = stats[reference]
    first = np.asarray(halvings[reference], dtype=float)
    second = 1.0 - first
    counts = first.sum(axis=1), second.sum(axis=1)
    out = {}
    n_cond = ref.n_conditions
    for t in targets:
        u = stats[t].means - ref.means
        v = stats[t].means + ref.means
        if centred:
            u -= u.mean(axis=0, keepdims=True)
            v -= v.mean(axis=0, keepdims=True)
        scratch = u * v
        w = first @ scratch.T, second @ scratch.T  # (M, P): Σ_{i∈X} u_i∘v_i
        np.subtract(stats[t].sem2, ref.sem2, out=scratch)
        delta = first @ scratch.T, second @ scratch.T  # Σ_{i∈X} δ_i
        del scratch  # (P x N arrays: u and v only while the Gram blocks run)
        pairs = _symmetric_pair_sums(u, v, first, second)
        noise = np.einsum("mp,mp->m", delta[0], delta[1])
        if centred:
            noise = (1.0 - 2.0 / n_cond) * noise + delta[0].sum(axis=1) * delta[1].sum(axis=1) / n_cond**2
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (pairs - np.einsum("mp,mp->m", w[0], delta[1]) - np.einsum("mp,mp->m", w[1], delta[0])
                     + noise) / (counts[0] * counts[1])
        out[t] = np.where((counts[0] == 0) | (counts[1] == 0), np.nan, value)
    return out


#: fewest rows of a Gram block (smaller blocks lose the BLAS products' speed)
_MIN_ROWS = 256


def _rows_per_block(n_columns):
    return max(1, int(_BLOCK_BYTES // (8 * max(n_columns, 1))))


def _symmetric_pair_sums(u, v, first, second):
    """Σ_{i∈A_m, j∈B_m} T_ij for every halving m, T_ij = ½ [(u_i·u_j)(v_i·v_j) + (u_i·v_j)(u_j·v_i)]
    (symmetric), from the upper blocks of rows of the N x N matrix: aᵀ T b with b = 1 - a (``first``,
    ``second`` the (M, N) float indicators)."""
    n = u.shape[1]
    out = np.zeros(first.shape[0])
    # blocks of at most ~N/8 rows: the products then cover the upper triangle (N²/2 + N²/16 entries)
    step = min(_rows_per_block(2 * n), max(_MIN_ROWS, -(-n // 8)))
    for start in range(0, n, step):
        stop = min(n, start + step)
        rows = slice(start, stop)
        block = u[:, rows].T @ u[:, start:]
        block *= v[:, rows].T @ v[:, start:]
        mixed = u[:, rows].T @ v[:, start:]
        mixed *= v[:, rows].T @ u[:, start:]
        block += mixed
        block *= 0.5
        weighted = first[:, rows] @ block  # (M, n - start): Σ_{i∈A in these rows} T_ij
        width = stop - start
        out += np.einsum("mj,mj->m", weighted[:, :width], second[:, rows])  # the diagonal block: a_Iᵀ T b_I
        if stop < n:  # the block right of it and, by symmetry, the one below: a_Iᵀ T b_J + b_Iᵀ T a_J
            columns = block[:, width:].sum(axis=0)  # 1_Iᵀ T, so b_Iᵀ T = 1_Iᵀ T - a_Iᵀ T
            out += np.einsum("mj,mj->m", weighted[:, width:], second[:, stop:])
            out += np.einsum("mj,mj->m", columns[None, :] - weighted[:, width:], first[:, stop:])
    return out
