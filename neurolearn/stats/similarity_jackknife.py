"""Leave-one-neuron-id-out jackknife biases and delta-method SEs of the similarity ratios (kernel similarity,
relative kernel change), exact from the per-neuron influences of the pairwise kernel terms; used by
:mod:`neurolearn.stats.similarity_ratios`. ``same`` says that the two sessions record the same sorted ids (the
usual tracked recording), where no set bookkeeping is needed.
"""

from __future__ import annotations

import numpy as np

from neurolearn.stats.kernel_guards import influence_se
from neurolearn.stats.neuron_resampling import effective_cells, jackknife_bias, leave_one_out

__all__ = ["same_cells_jackknife", "cka_se", "pair_jackknife", "tracked_jackknife", "id_positions",
           "tracked_effective_cells", "change_effective_cells", "fresh_change_effective_cells",
           "cka_effective_cells"]


def same_cells_jackknife(cka_of, pairs, a, partners, loo_cache, jackknife):
    """Jackknife biases and delta-method SEs of the CKA of session a with partners recording the same cells,
    vectorised over partners: :func:`tracked_jackknife` and :func:`cka_se` with a trivial id universe."""
    def self_loo(k):
        if k not in loo_cache:
            loo_cache[k] = leave_one_out(pairs["self"][k], pairs["self_influence"][k], 2)
        return loo_cache[k]

    partners = np.asarray(partners)
    n_cells = pairs["neurons"][a].size
    cross = pairs["cross"][a, partners]
    self_a, self_b = pairs["self"][a], pairs["self"][partners]
    influence_a = pairs["cross_influence"][a][partners]  # (k, N): a's cells on each cross term
    influence_b = np.stack([pairs["cross_influence"][b][a] for b in partners])
    bias = np.zeros(partners.size)
    if jackknife:
        pairs_total = float(n_cells * n_cells - n_cells)
        remaining = pairs_total - 2.0 * (n_cells - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cross_loo = cross[:, None] - pairs_total * (influence_a + influence_b) / remaining
            thetas = np.asarray(cka_of(cross_loo, self_loo(a)[None, :],
                                       np.stack([self_loo(b) for b in partners])), dtype=float)
            theta = np.asarray(cka_of(cross, self_a, self_b), dtype=float)
            finite = np.isfinite(thetas)
            count = finite.sum(axis=1)
            mean = np.where(finite, thetas, 0.0).sum(axis=1) / count
            bias = (n_cells - 1) * (mean - theta)
        bias = np.where((count >= 2) & np.isfinite(bias), bias, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(self_a * self_b)[:, None]
        u_a = (influence_a - cross[:, None] * pairs["self_influence"][a][None, :] / (2.0 * self_a)) / root
        u_b = (influence_b - cross[:, None] * np.stack([pairs["self_influence"][b] for b in partners])
               / (2.0 * self_b[:, None])) / root
    se = np.sqrt(np.sum(u_a * u_a, axis=1) + np.sum(u_b * u_b, axis=1))
    return bias, se


def cka_se(pairs, a, b):
    """Delta-method SE of the CKA of pair (a, b) from the per-neuron influences of its three terms."""
    if pairs.get("cross_influence") is None:
        return float("nan")
    u_a, u_b = _cka_influences(pairs, a, b)
    return float(np.sqrt(influence_se(u_a) ** 2 + influence_se(u_b) ** 2))


def _cka_influences(pairs, a, b):
    """The per-neuron delta-method influences (u_a, u_b) of the CKA of pair (a, b), one per session."""
    cross, self_a, self_b = pairs["cross"][a, b], pairs["self"][a], pairs["self"][b]
    root = np.sqrt(self_a * self_b)
    u_a = (pairs["cross_influence"][a][b] - cross * pairs["self_influence"][a] / (2.0 * self_a)) / root
    u_b = (pairs["cross_influence"][b][a] - cross * pairs["self_influence"][b] / (2.0 * self_b)) / root
    return u_a, u_b


def cka_effective_cells(pairs, a, b) -> float:
    """Effective number of ids (Σu²)²/Σu⁴ of the delta-method influences of the CKA of pair (a, b), both
    sessions' cells together (NaN without influences).

    Examples
    --------
    >>> import numpy as np
    >>> pairs = {"cross": np.array([[0.0, 1.0], [1.0, 0.0]]), "self": np.array([1.0, 1.0]),
    ...          "cross_influence": [[None, np.ones(4)], [np.ones(4), None]], "self_influence": [np.zeros(4)] * 2}
    >>> cka_effective_cells(pairs, 0, 1)  # 8 equal influences
    8.0
    """
    if pairs.get("cross_influence") is None:
        return float("nan")
    u_a, u_b = _cka_influences(pairs, a, b)
    return effective_cells(np.concatenate([np.ravel(u_a), np.ravel(u_b)]))


def tracked_effective_cells(pairs, a, b) -> float:
    """Effective number of ids (Σu²)²/Σu⁴ of the CKA's per-id influences u = u_a + u_b of sessions a and b
    recording the same ids in the same order (a cell's influence on both sessions' terms is one draw; NaN
    without influences).

    Examples
    --------
    >>> import numpy as np
    >>> pairs = {"cross": np.array([[0.0, 1.0], [1.0, 0.0]]), "self": np.array([1.0, 1.0]),
    ...          "cross_influence": [[None, np.ones(4)], [np.ones(4), None]],
    ...          "self_influence": [np.zeros(4)] * 2}
    >>> tracked_effective_cells(pairs, 0, 1)  # 4 cells, equal influences
    4.0
    """
    if pairs.get("cross_influence") is None:
        return float("nan")
    u_a, u_b = _cka_influences(pairs, a, b)
    return effective_cells(np.ravel(u_a) + np.ravel(u_b))


def pair_jackknife(function, args, pairs, a, b, *, self_index, same):
    """Jackknife bias of function(cross_ab, self_a, self_b) over the neurons of sessions a and b.

    The sampling unit is the neuron *id*. Sessions with disjoint ids are two independent samples (one
    jackknife term per session). A tracked neuron is one draw that enters both sessions, so deleting it
    removes it from the cross term and from both self terms at once (:func:`tracked_jackknife`); treating
    the sessions as independent would drop the covariance of the three terms, which for the same cells is
    of the order of their variances and cancels most of the ratio's O(1/N) bias (the two-sample correction
    then subtracted a bias that was not there: CKA 0.15 low with 100 tracked log-normal-rate cells).
    """
    if not pairs.get("unbiased") or pairs.get("cross_influence") is None:
        return 0.0
    cross_a = pairs["cross_influence"][a][b]
    cross_b = pairs["cross_influence"][b][a]
    neurons = pairs.get("neurons")
    if neurons is not None and (same and neurons[a].size or np.intersect1d(neurons[a], neurons[b]).size):
        bias = tracked_jackknife(function, args, pairs, a, b, self_index, same)
        return bias if np.isfinite(bias) else 0.0
    samples = [
        {0: leave_one_out(args[0], cross_a, 1), self_index[0]: leave_one_out(args[1], pairs["self_influence"][a], 2)},
        {0: leave_one_out(args[0], cross_b, 1), self_index[1]: leave_one_out(args[2], pairs["self_influence"][b], 2)},
    ]
    bias = jackknife_bias(function, args, samples)
    return bias if np.isfinite(bias) else 0.0


def tracked_jackknife(function, args, pairs, a, b, self_index, same):
    """Leave-one-id-out jackknife bias (n_ids - 1)(mean_u θ_(u) - θ) over the union of both sessions' ids.

    Exact leave-one-out values from the influences: the cross term is a U-statistic over the D = N_a N_b - S
    pairs of distinct ids (S shared), so deleting id u (its row if in a, its column if in b) gives
    C_(u) = C - D (u_a + u_b) / D_u with D_u the remaining pair count; a self term changes only if u is in
    that session (order-2 leave-one-out).
    """
    ids_a, ids_b = pairs["neurons"][a], pairs["neurons"][b]
    if same:  # the same cells in both sessions: no set bookkeeping
        universe = ids_a
        in_a = in_b = np.ones(ids_a.size, dtype=bool)
        index_a = index_b = np.arange(ids_a.size)
    else:
        universe = np.union1d(ids_a, ids_b)
        in_a, in_b = np.isin(universe, ids_a), np.isin(universe, ids_b)
        index_a = id_positions(ids_a, universe[in_a])
        index_b = id_positions(ids_b, universe[in_b])
    n_a, n_b, n_shared = ids_a.size, ids_b.size, int(np.sum(in_a & in_b))
    pairs_total = float(n_a * n_b - n_shared)
    influence = np.zeros(universe.size)
    influence[in_a] += pairs["cross_influence"][a][b][index_a]
    influence[in_b] += pairs["cross_influence"][b][a][index_b]
    remaining = pairs_total - in_a * (n_b - in_b) - in_b * (n_a - in_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = args[0] - pairs_total * influence / remaining
    self_a = np.full(universe.size, float(args[1]))
    self_b = np.full(universe.size, float(args[2]))
    self_a[in_a] = leave_one_out(args[1], pairs["self_influence"][a], 2)[index_a]
    self_b[in_b] = leave_one_out(args[2], pairs["self_influence"][b], 2)[index_b]
    loo = {0: cross, self_index[0]: self_a, self_index[1]: self_b}
    return jackknife_bias(function, args, [loo])


def id_positions(ids, values):
    """Index in ``ids`` of each of ``values`` (all present)."""
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids[order], values)]


def change_effective_cells(pairs, t, reference, squared, same) -> float:
    """Effective number of ids (Σu²)²/Σu⁴ of the squared relative change's influences, NaN for sessions sharing
    no id (two independent samples: no two-sided few-cell widening; their upper side uses
    :func:`fresh_change_effective_cells`).

    With S_t, S_0 the self terms and C the cross term, d[(S_t + S_0 - 2C)/S_0] = [dS_t + (1 - s) dS_0 - 2 dC]/S_0
    (s the squared change); an id's influence adds its parts in every term it enters (the cross term's from
    both sessions' sides).
    """
    if not pairs.get("unbiased") or pairs.get("cross_influence") is None or pairs.get("neurons") is None:
        return float("nan")
    ids_t, ids_0 = pairs["neurons"][t], pairs["neurons"][reference]
    part_t = pairs["self_influence"][t] - 2.0 * pairs["cross_influence"][t][reference]
    part_0 = (1.0 - squared) * pairs["self_influence"][reference] - 2.0 * pairs["cross_influence"][reference][t]
    return paired_effective_cells(ids_t, ids_0, part_t, part_0, same)


def fresh_change_effective_cells(pairs, t, reference, squared) -> float:
    """Effective number of cells (Σu²)²/Σu⁴ of the squared relative change's influences over both sessions'
    cells taken as distinct (sessions sharing no id: each cell enters one session's terms only), NaN without
    influences.

    The influences are those of :func:`change_effective_cells`; it is NaN for such sessions (no two-sided
    few-cell widening), this count serves the upper-side one of
    :func:`~neurolearn.stats.similarity_ratios.change_from_terms`.

    Examples
    --------
    >>> pairs = {"unbiased": True, "self": np.array([1.0, 1.0]), "neurons": [np.arange(3), np.arange(3, 6)],
    ...          "self_influence": [np.array([1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])],
    ...          "cross_influence": [[None, np.zeros(3)], [np.zeros(3), None]]}
    >>> fresh_change_effective_cells(pairs, 1, 0, 0.0)  # one cell in each session carries the change
    2.0
    """
    if not pairs.get("unbiased") or pairs.get("cross_influence") is None:
        return float("nan")
    part_t = pairs["self_influence"][t] - 2.0 * pairs["cross_influence"][t][reference]
    part_0 = (1.0 - squared) * pairs["self_influence"][reference] - 2.0 * pairs["cross_influence"][reference][t]
    return effective_cells(np.concatenate([np.ravel(part_t), np.ravel(part_0)]))


def paired_effective_cells(ids_t, ids_0, part_t, part_0, same: bool = False) -> float:
    """(Σu²)²/Σu⁴ of per-id influences u summed over two sessions' parts (an id in both adds both), NaN when
    the sessions share no id (two independent samples: no few-cell widening).

    Examples
    --------
    >>> paired_effective_cells(np.array([0, 1]), np.array([1, 2]), np.ones(2), np.ones(2))  # u = 1, 2, 1
    2.0
    """
    if same:
        return effective_cells(part_t + part_0)
    universe = np.union1d(ids_t, ids_0)
    in_t, in_0 = np.isin(universe, ids_t), np.isin(universe, ids_0)
    if not np.any(in_t & in_0):
        return float("nan")
    influence = np.zeros(universe.size)
    influence[in_t] += part_t[id_positions(ids_t, universe[in_t])]
    influence[in_0] += part_0[id_positions(ids_0, universe[in_0])]
    return effective_cells(influence)


def change_ratio_bias(pairs, t, reference, squared, same) -> float:
    """First-order bias of a squared relative change N/S_0 whose numerator has the U-statistic's first-order
    terms: -Σ_u a_u b_u / S_0², over ids u, a_u the influence of N - s S_0 and b_u that of S_0 (their
    covariance, -Cov(S_0, N - s S_0)/S_0² the delta method's ratio bias).

    The jackknife of the U-statistic's ratio also removes the covariance of S_0 with the numerator's
    second-order (degenerate) part, a third moment of the neurons' kernels that the halves' cross products
    of :func:`~neurolearn.stats.similarity_ratios.change_from_terms` do not have (their second-order part is
    a product of two independent halves); this bias leaves it out. 0 without influences.
    """
    if not pairs.get("unbiased") or pairs.get("cross_influence") is None:
        return 0.0
    self_0 = float(pairs["self"][reference])
    part_t = pairs["self_influence"][t] - 2.0 * pairs["cross_influence"][t][reference]
    part_0 = (1.0 - squared) * pairs["self_influence"][reference] - 2.0 * pairs["cross_influence"][reference][t]
    norm_0 = pairs["self_influence"][reference]
    neurons = pairs.get("neurons")
    if same:
        return -float((part_t + part_0) @ norm_0) / self_0**2
    if neurons is None or not np.intersect1d(neurons[t], neurons[reference]).size:
        return -float(part_0 @ norm_0) / self_0**2  # two independent samples: only S_0's own neurons
    ids_t, ids_0 = neurons[t], neurons[reference]
    in_t = np.isin(ids_0, ids_t)
    shared = np.zeros(ids_0.size)
    shared[in_t] = part_t[id_positions(ids_t, ids_0[in_t])]
    return -float((part_0 + shared) @ norm_0) / self_0**2
