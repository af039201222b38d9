"""Pairwise kernel terms of a set of sessions: unbiased self terms ‖cΦ_tc‖², cross terms ⟨cΦ_tc, cΦ_sc⟩,
their per-neuron influences and linearised bootstrap replicates (the numpy core of the similarity statistics,
used by :mod:`neurolearn.stats.similarity` and :mod:`neurolearn.stats.kernel_summary`).

Cross terms are U-statistics over pairs of distinct neurons: a tracked neuron's product with itself on
another day is excluded (its trial noise is independent across days, but its tuning is not).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from neurolearn.errors import DataError
from neurolearn.stats.kernel_terms import (
    centre_kernel,
    centred_means,
    gram,
    seed_shared,
    self_inner_estimate,
    shared_products,
)
from neurolearn.stats.kernels import ConditionStatistics
from neurolearn.stats.neuron_resampling import replicate, session_bootstrap_weights

__all__ = ["pairwise_kernel_terms", "same_id_matrix", "id_halvings", "half_kernels", "N_HALVINGS"]

#: halvings of the neurons over which kernel_change averages its cross-fitted signed roots
N_HALVINGS = 32


def pairwise_kernel_terms(stats: Sequence[ConditionStatistics], *, centred, unbiased: bool, n_boot: int = 0,
                          random_state=None, weights=None, map_sessions=None, seeds=None) -> dict:
    """Self terms ‖cΦ_tc‖², cross terms ⟨cΦ_tc, cΦ_sc⟩ and their bootstrap replicates for all sessions.

    ``stats`` must share their conditions (same order). ``centred`` is a bool, or a tuple of bools to get
    several centrings for the price of one (the expensive per-neuron products are shared); the result is
    then a dict keyed by centring. ``weights`` (one uint8 ``(B, N_s)`` array per session, see
    :func:`~neurolearn.stats.kernels.session_bootstrap_weights`) override ``n_boot``.
    ``map_sessions(function, items)`` may run the per-session work in parallel (default: a loop).
    ``seeds``: per session, products already computed for exactly these statistics (``SessionPart.shared``
    of :mod:`neurolearn.stats.kernel_summary`: M Mᵀ and the self terms), or None.
    Returns a dict with ``self`` (S,), ``cross`` (S, S), per-neuron influences (for the jackknife) and, with
    bootstraps, ``self_boot`` (B, S) and ``cross_boot`` (B, S, S).
    """
    with shared_products():  # each session's M Mᵀ and M Mᵀ M serve both centrings' self terms
        for s, seed in zip(stats, seeds or []):
            seed_shared(s, seed)
        return _pairwise_kernel_terms(stats, centred, unbiased, n_boot, random_state, weights, map_sessions)


def _pairwise_kernel_terms(stats, centred, unbiased, n_boot, random_state, weights, map_sessions):
    centrings = tuple(centred) if isinstance(centred, (tuple, list)) else (bool(centred),)
    n_sessions = len(stats)
    if weights is None:
        weights = session_bootstrap_weights([s.neurons for s in stats], n_boot, random_state)
    kernels = np.stack([_kernel(s, unbiased) for s in stats])
    n_pairs = np.array([[sa.n_neurons * sb.n_neurons for sb in stats] for sa in stats], dtype=float)
    bootstrapping = weights[0] is not None
    all_shared = _shared_corrections(stats, centrings, unbiased)
    same_ids = same_id_matrix([s.neurons for s in stats])
    results = {}
    for centring in centrings:
        centred_kernels = np.stack([centre_kernel(k, centring, centring) for k in kernels])
        self_values = np.empty(n_sessions)
        self_influence = []
        for k, s in enumerate(stats):
            if unbiased and s.n_neurons < 2:  # no pair of distinct neurons: NaN, reason given by the ratios
                self_values[k], influence = np.nan, np.zeros(s.n_neurons)
            else:
                self_values[k], influence = self_inner_estimate(s, centring, centring, unbiased=unbiased)
            self_influence.append(influence)
        shared = all_shared[centring]
        totals = np.einsum("apq,bpq->ab", centred_kernels, centred_kernels)
        cross = np.full((n_sessions, n_sessions), np.nan)
        for (a, b), (own_sum, n_shared, *_rest) in shared.items():
            cross[a, b] = cross[b, a] = (n_pairs[a, b] * totals[a, b] - own_sum) / (n_pairs[a, b] - n_shared)
        results[centring] = {"self": self_values, "cross": cross, "self_boot": None, "cross_boot": None,
                             "self_influence": self_influence, "cross_influence": None, "unbiased": unbiased,
                             "shared": shared, "session_ids": [st.session_id for st in stats],
                             "neurons": [np.asarray(st.neurons) for st in stats], "same_ids": same_ids,
                             "statistics": list(stats), "centred": bool(centring)}
    if bootstrapping or unbiased:
        # per-neuron influences on every cross term: needed by the jackknife (unbiased) and the bootstrap
        jobs = [(a, stats[a], weights[a], kernels, n_pairs[a], unbiased,
                 {c: (results[c]["cross"][a], _shared_for(results[c]["shared"], a, stats)) for c in centrings})
                for a in range(n_sessions)]
        mapper = map_sessions or (lambda function, items: [function(item) for item in items])
        per_session = mapper(_cross_influences, jobs)  # each {centring: (influence (S, N_a), contribution)}
        for centring in centrings:
            out = results[centring]
            out["cross_influence"] = [job_result[centring][0] for job_result in per_session]
            if bootstrapping:
                out["self_boot"] = np.stack([replicate(out["self"][k], weights[k], out["self_influence"][k])
                                             for k in range(n_sessions)], axis=1)
                contributions = np.stack([job_result[centring][1] for job_result in per_session], axis=1)
                out["cross_boot"] = out["cross"][None] + contributions + np.transpose(contributions, (0, 2, 1))
    for out in results.values():
        del out["shared"]
    return results if isinstance(centred, (tuple, list)) else results[centrings[0]]


def _shared_corrections(stats, centrings, unbiased):
    """Per centring, for every pair a < b: Σ of same-neuron products of tracked neurons, their count, the
    per-neuron terms and their indices into both sessions.

    The per-neuron term tr(K_ai C K_bi C) of a tracked cell i (C = H or I) is, with c the (centred) means and
    v the squared standard errors, (c_a·c_b)² - Σ c_a² v_b - Σ c_b² v_a + (1 - 2/P) Σ v_a v_b + Σv_a Σv_b / P²
    (centred; Σ v_a v_b alone uncentred), as in :func:`per_neuron_pair_trace`. The session arrays are
    prepared once; sessions with the same neuron ids (the usual tracked recording) are done for all
    partners at once, without the index bookkeeping.
    """
    out = {centring: {} for centring in centrings}
    n_sessions = len(stats)
    if not unbiased:
        for centring in centrings:
            for a in range(n_sessions):
                for b in range(a + 1, n_sessions):
                    out[centring][(a, b)] = (0.0, 0, None, None, None)
        return out
    n_cond = stats[0].n_conditions
    same_ids = same_id_matrix([s.neurons for s in stats])
    prepared = {c: [_pair_trace_parts(s, c) for s in stats] for c in centrings}
    grouped = set()
    for a in range(n_sessions):  # large groups of sessions with the same cells: all their pairs per neuron block
        members = [a] + [b for b in range(a + 1, n_sessions) if same_ids[a, b]]
        if a not in grouped and len(members) >= _GROUP_MIN_SESSIONS and stats[a].n_neurons >= 2:
            grouped.update(members)
            for centring in centrings:
                out[centring].update(_group_pair_traces(members, [prepared[centring][k] for k in members],
                                                        n_cond, centring))
    for a in range(n_sessions):
        sa = stats[a]
        same = [b for b in range(a + 1, n_sessions) if same_ids[a, b]]
        if same and sa.n_neurons < 2:
            raise DataError(f"sessions {sa.session_id!r}, {stats[same[0]].session_id!r}: need at least 2 "
                            "neurons for a U-statistic")
        index = slice(None)  # every neuron of both sessions, in the same order
        for centring in centrings:
            if same and a not in grouped:  # (a group's pairs are done; sessions with its cells are all in it)
                own = _pair_traces(prepared[centring][a], [prepared[centring][b] for b in same], n_cond, centring)
                for b, row in zip(same, own):
                    out[centring][(a, b)] = (float(row.sum()), int(row.size), row, index, index)
        for b in range(a + 1, n_sessions):
            if b in same:
                continue
            sb = stats[b]
            ids, ia, ib = np.intersect1d(sa.neurons, sb.neurons, return_indices=True)
            if ids.size == sa.n_neurons * sb.n_neurons:
                raise DataError(f"sessions {sa.session_id!r}, {sb.session_id!r}: need at least 2 neurons for a U-statistic")
            for centring in centrings:
                if ids.size:
                    parts_a = [part[:, ia] for part in prepared[centring][a]]
                    parts_b = [[part[:, ib] for part in prepared[centring][b]]]
                    own = _pair_traces(parts_a, parts_b, n_cond, centring)[0]
                else:
                    own = np.empty(0)
                out[centring][(a, b)] = (float(own.sum()), int(ids.size), own, ia, ib)
    return out


#: from this many sessions with the same cells on, their same-neuron corrections go through per-neuron
#: (S x P) @ (P x S) products (BLAS) instead of one partner at a time
_GROUP_MIN_SESSIONS = 8
_GROUP_BYTES = 32 * 2**20


def _group_pair_traces(members, parts, n_cond, centred):
    """{(a, b): (Σ own, N, own, slice, slice)} for every pair a < b of ``members`` (sessions recording the same
    cells in the same order): tr(K_ai C K_bi C) for all pairs at once per block of neurons, from the products
    of the (S, P) matrices of c, c² and v of each neuron (the terms of :func:`_pair_traces`; c² per block)."""
    n_members = len(members)
    n_cells = parts[0][0].shape[1]
    upper = np.triu_indices(n_members, 1)
    own = np.empty((upper[0].size, n_cells))
    step = max(1, int(_GROUP_BYTES // (8 * max(n_members * max(n_members, n_cond), 1))))
    for start in range(0, n_cells, step):
        block = slice(start, start + step)
        c, v = (np.ascontiguousarray(np.stack([part[k][:, block] for part in parts]).transpose(2, 0, 1))
                for k in range(2))  # (n, S, P) each
        c2 = c * c
        inner = np.matmul(c, np.swapaxes(c, 1, 2))
        value = inner * inner
        noise = np.matmul(c2, np.swapaxes(v, 1, 2))  # [i, a, b] = Σ_p c_a² v_b
        value -= noise
        value -= np.swapaxes(noise, 1, 2)
        vv = np.matmul(v, np.swapaxes(v, 1, 2))
        if centred:
            totals = v.sum(axis=2)
            value += (1 - 2 / n_cond) * vv + totals[:, :, None] * totals[:, None, :] / n_cond**2
        else:
            value += vv
        own[:, block] = value[:, upper[0], upper[1]].T
    index = slice(None)
    return {(members[i], members[j]): (float(own[k].sum()), n_cells, own[k], index, index)
            for k, (i, j) in enumerate(zip(*upper))}


def same_id_matrix(neuron_lists) -> np.ndarray:
    """(S, S) bool: sessions a and b record the same neuron ids in the same sorted, unique order (then their
    intersection, union and positions are trivial).

    Examples
    --------
    >>> same_id_matrix([np.arange(3), np.arange(3), np.array([2, 1, 0])]).astype(int).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    """
    groups, labels = {}, []
    for ids in neuron_lists:
        ids = np.asarray(ids)
        ordered = ids.size < 2 or bool(np.all(ids[1:] > ids[:-1]))
        key = (ids.dtype.str, ids.shape, ids.tobytes()) if ordered else None
        labels.append(-1 - len(labels) if key is None else groups.setdefault(key, len(groups)))
    labels = np.asarray(labels)
    return labels[:, None] == labels[None, :]


def same_ids(pairs: dict, a: int, b: int) -> bool:
    """Sessions a and b of :func:`pairwise_kernel_terms` output record the same sorted, unique ids
    (:func:`same_id_matrix`, computed once and cached in ``pairs["same_ids"]``)."""
    same = pairs.get("same_ids")
    if same is None:
        same = pairs["same_ids"] = same_id_matrix(pairs["neurons"])
    return bool(same[a, b])


def id_halvings(ids, n_halvings: int = N_HALVINGS) -> np.ndarray:
    """(M, N) bool: the first half of each of ``n_halvings`` random halvings of the neurons ``ids``, a
    function of each id alone (a hash of ``str(id)`` and the halving's index): a cell falls in the same half
    in every session that records it, and neither neuron order nor the other neurons change its half.

    Examples
    --------
    >>> first = id_halvings(np.arange(6), 3)
    >>> first.shape, bool((id_halvings(np.arange(6)[::-1], 3)[:, ::-1] == first).all())
    ((3, 6), True)
    """
    keys = np.array([zlib.crc32(str(i).encode()) for i in np.asarray(ids).ravel()], dtype=np.uint64)
    salts = _mix(np.arange(1, n_halvings + 1, dtype=np.uint64))
    return (_mix(keys[None, :] ^ salts[:, None]) & np.uint64(1)).astype(bool)


def _mix(x):
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic): near-independent bits per input."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def half_kernels(stats: ConditionStatistics, halvings: np.ndarray) -> np.ndarray:
    """(M, 2, P, P) unbiased uncentred kernels (Σ_i m_i m_iᵀ - diag Σ_i sem²_i) / n of the two halves of
    each halving (``halvings`` from :func:`id_halvings`); NaN where a half holds no neuron.

    The definition kernel_change's halved roots use; they are computed without storing these arrays by
    :func:`neurolearn.stats.kernel_halvings.halved_change_products` (64 P² doubles per session: 2 GB at
    2,000 conditions), which is tested against this function."""
    n_cond = stats.n_conditions
    out = np.full((halvings.shape[0], 2, n_cond, n_cond), np.nan)
    diagonal = np.diag_indices(n_cond)
    # the second half's sum is the whole's minus the first's: one P x P x N/2 product per halving, not two
    # (32 halvings cost 32 GEMMs of M Mᵀ per session instead of 64)
    whole = stats.means @ stats.means.T
    whole[diagonal] -= stats.sem2.sum(axis=1)
    for m, first in enumerate(halvings):
        counts = (int(first.sum()), int(first.size - first.sum()))
        small = 0 if counts[0] <= counts[1] else 1  # the smaller half by a product, the other by difference
        part = first if small == 0 else ~first
        kernel = np.zeros_like(whole)
        if counts[small]:
            means = stats.means[:, part]
            kernel = means @ means.T
            kernel[diagonal] -= stats.sem2[:, part].sum(axis=1)
            out[m, small] = kernel / counts[small]
        if counts[1 - small]:
            out[m, 1 - small] = (whole - kernel) / counts[1 - small]
    return out


def _pair_trace_parts(stats, centred):
    """(c, v) of one session for the per-neuron pair traces (c the row-centred means if ``centred``; c² is
    not stored: the traces take it inside their products, without a P x N temporary per session)."""
    return centred_means(stats, centred), stats.sem2


#: bytes of the partner sessions' arrays stacked for one vectorised pass of same-neuron corrections
_STACK_BYTES = 32 * 2**20


def _pair_traces(parts_a, parts_b_list, n_cond, centred):
    """tr(K_ai C K_bi C) per neuron for session a against each partner b (same columns), one (n_b, N) array."""
    step = max(1, int(_STACK_BYTES // max(1, 8 * parts_a[0].size)))
    if len(parts_b_list) > step:
        return np.concatenate([_pair_traces(parts_a, parts_b_list[k:k + step], n_cond, centred)
                               for k in range(0, len(parts_b_list), step)])
    c_a, v_a = parts_a
    if len(parts_b_list) == 1:  # views, no copies
        c_b, v_b = (part[None] for part in parts_b_list[0])
    else:
        c_b, v_b = (np.stack([p[k] for p in parts_b_list]) for k in range(2))
    inner = np.einsum("pn,bpn->bn", c_a, c_b)
    value = inner * inner
    value -= np.einsum("pn,pn,bpn->bn", c_a, c_a, v_b)
    value -= np.einsum("bpn,bpn,pn->bn", c_b, c_b, v_a)
    if centred:
        value += (1 - 2 / n_cond) * np.einsum("pn,bpn->bn", v_a, v_b) + v_a.sum(0) * v_b.sum(1) / n_cond**2
    else:
        value += np.einsum("pn,bpn->bn", v_a, v_b)
    return value


def _shared_for(shared, a, stats):
    """Per partner b: (per-neuron own terms, indices into session a) of the neurons a shares with b."""
    out = {}
    for b in range(len(stats)):
        if b == a:
            continue
        key = (min(a, b), max(a, b))
        _, n_shared, own, ia, ib = shared[key]
        if n_shared:
            out[b] = (own, ia if a < b else ib)
    return out


def _cross_influences(job):
    """Influences (S, N_a) of session a's neurons on every cross term ⟨cΦ_a c, cΦ_b c⟩, and their bootstrap
    contributions (B, S) (None without weights), for each requested centring."""
    a, sa, weights, kernels, pairs_row, unbiased, per_centring = job
    n_sessions, n_cond, _ = kernels.shape
    noise = sa.sem2 if unbiased else np.zeros_like(sa.sem2)
    means = sa.means
    # m_iᵀ Φ_b m_i for all b; centring only needs cheap corrections: (Hm)ᵀ Φ (Hm) = mᵀΦm - 2 m̄ 1ᵀΦm + m̄² 1ᵀΦ1
    others = np.arange(n_sessions) != a  # the session's own row is not an influence on a cross term
    quadratic = np.zeros((n_sessions, means.shape[1]))
    quadratic[others] = _quadratic_forms(kernels[others], means)
    out = {}
    for centring, (cross_row, shared) in per_centring.items():
        if centring:
            mean = means.mean(axis=0)
            column = kernels.sum(axis=1) @ means  # 1ᵀ Φ_b m_i (Φ_b symmetric)
            total = kernels.sum(axis=(1, 2))[:, None]  # 1ᵀ Φ_b 1
            centred_quadratic = quadratic - 2.0 * mean * column + mean**2 * total
            # diag(H Φ_b H)_μ = Φ_μμ - 2 (Φ1)_μ / P + 1ᵀΦ1 / P² (Φ symmetric)
            diagonal = (np.einsum("spp->sp", kernels) - 2.0 * kernels.mean(axis=2)
                        + kernels.mean(axis=(1, 2))[:, None])
            linear = centred_quadratic - diagonal @ noise
        else:
            linear = quadratic - np.einsum("spp->sp", kernels) @ noise
        n_b = pairs_row / sa.n_neurons  # partner neuron counts
        rows = n_b[:, None] * linear
        partners = np.repeat(n_b[:, None], sa.n_neurons, axis=1)
        n_shared = np.zeros(n_sessions)
        for b, (own, index) in shared.items():  # index: a slice when b records the same neurons
            rows[b, index] -= own
            partners[b, index] -= 1
            n_shared[b] = own.size
        with np.errstate(invalid="ignore", divide="ignore"):
            influence = (rows - cross_row[:, None] * partners) / (pairs_row - n_shared)[:, None]
        influence[a] = 0.0
        contribution = None if weights is None else weights @ influence.T - influence.sum(axis=1)
        out[centring] = (influence, contribution)
    return out


#: from this many sessions on, the quadratic forms go through the per-neuron outer products (half the
#: multiply-adds of Φ_b M, plus forming P(P+1)/2 x N products once per session)
_OUTER_MIN_SESSIONS = 16
_OUTER_BYTES = 64 * 2**20


def _quadratic_forms(kernels, means):
    """m_iᵀ Φ_b m_i for every kernel b (S, P, P) and column i of ``means`` (P, N): (S, N).

    Few sessions: Φ_b M in one product (S·P, P) @ (P, N). Many: vec(Φ_b) over the upper triangle (off-diagonal
    entries doubled) times the neurons' outer products m_i m_iᵀ in blocks of neurons, S·P(P+1)/2·N work.
    """
    n_sessions, n_cond, _ = kernels.shape
    if n_sessions == 0:  # a single session: no partner
        return np.empty((0, means.shape[1]))
    if n_sessions < _OUTER_MIN_SESSIONS:
        product = (kernels.reshape(n_sessions * n_cond, n_cond) @ means).reshape(n_sessions, n_cond, -1)
        return np.einsum("spn,pn->sn", product, means)
    upper = np.triu_indices(n_cond)
    packed = kernels[:, upper[0], upper[1]] * np.where(upper[0] == upper[1], 1.0, 2.0)
    step = max(1, int(_OUTER_BYTES // (8 * upper[0].size)))
    out = np.empty((n_sessions, means.shape[1]))
    for start in range(0, means.shape[1], step):
        block = means[:, start:start + step]
        out[:, start:start + step] = packed @ (block[upper[0]] * block[upper[1]])
    return out


def _kernel(stats, unbiased):
    kernel = gram(stats).copy()
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons
