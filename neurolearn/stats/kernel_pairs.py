"""Pairwise kernel terms of a set of sessions: unbiased self terms ‖cΦ_tc‖², cross terms ⟨cΦ_tc, cΦ_sc⟩,
their per-neuron influences and linearised bootstrap replicates (the numpy core of the similarity statistics,
used by :mod:`neurolearn.stats.similarity` and :mod:`neurolearn.stats.kernel_summary`).

Cross terms are U-statistics over pairs of distinct neurons: a tracked neuron's product with itself on
another day is excluded (its trial noise is independent across days, but its tuning is not).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurolearn.errors import DataError
from neurolearn.stats.kernel_terms import centre_kernel, per_neuron_pair_trace, self_inner_estimate
from neurolearn.stats.kernels import ConditionStatistics
from neurolearn.stats.neuron_resampling import replicate, session_bootstrap_weights

__all__ = ["pairwise_kernel_terms"]


def pairwise_kernel_terms(stats: Sequence[ConditionStatistics], *, centred, unbiased: bool, n_boot: int = 0,
                          random_state=None, weights=None, map_sessions=None) -> dict:
    """Self terms ‖cΦ_tc‖², cross terms ⟨cΦ_tc, cΦ_sc⟩ and their bootstrap replicates for all sessions.

    ``stats`` must share their conditions (same order). ``centred`` is a bool, or a tuple of bools to get
    several centrings for the price of one (the expensive per-neuron products are shared); the result is
    then a dict keyed by centring. ``weights`` (one uint8 ``(B, N_s)`` array per session, see
    :func:`~neurolearn.stats.kernels.session_bootstrap_weights`) override ``n_boot``.
    ``map_sessions(function, items)`` may run the per-session work in parallel (default: a loop).
    Returns a dict with ``self`` (S,), ``cross`` (S, S), per-neuron influences (for the jackknife) and, with
    bootstraps, ``self_boot`` (B, S) and ``cross_boot`` (B, S, S).
    """
    centrings = tuple(centred) if isinstance(centred, (tuple, list)) else (bool(centred),)
    n_sessions = len(stats)
    if weights is None:
        weights = session_bootstrap_weights([s.neurons for s in stats], n_boot, random_state)
    kernels = np.stack([_kernel(s, unbiased) for s in stats])
    n_pairs = np.array([[sa.n_neurons * sb.n_neurons for sb in stats] for sa in stats], dtype=float)
    bootstrapping = weights[0] is not None
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
        shared = _shared_corrections(stats, centring, unbiased)
        totals = np.einsum("apq,bpq->ab", centred_kernels, centred_kernels)
        cross = np.full((n_sessions, n_sessions), np.nan)
        for (a, b), (own_sum, n_shared, *_rest) in shared.items():
            cross[a, b] = cross[b, a] = (n_pairs[a, b] * totals[a, b] - own_sum) / (n_pairs[a, b] - n_shared)
        results[centring] = {"self": self_values, "cross": cross, "self_boot": None, "cross_boot": None,
                             "self_influence": self_influence, "cross_influence": None, "unbiased": unbiased,
                             "shared": shared, "session_ids": [st.session_id for st in stats],
                             "neurons": [np.asarray(st.neurons) for st in stats]}
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


def _shared_corrections(stats, centred, unbiased):
    """For every pair a < b: Σ of same-neuron products of tracked neurons, their count, and per-neuron terms."""
    out = {}
    for a in range(len(stats)):
        for b in range(a + 1, len(stats)):
            sa, sb = stats[a], stats[b]
            if not unbiased:
                out[(a, b)] = (0.0, 0, None, None, None)
                continue
            ids, ia, ib = np.intersect1d(sa.neurons, sb.neurons, return_indices=True)
            if ids.size == sa.n_neurons * sb.n_neurons:
                raise DataError(f"sessions {sa.session_id!r}, {sb.session_id!r}: need at least 2 neurons for a U-statistic")
            own = per_neuron_pair_trace(sa.means[:, ia], sa.sem2[:, ia], sb.means[:, ib], sb.sem2[:, ib],
                                        centred, centred) if ids.size else np.empty(0)
            out[(a, b)] = (float(own.sum()), int(ids.size), own, ia, ib)
    return out


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
    # Φ_b M_a for all b in one product (S·P, P) @ (P, N); centring only needs cheap corrections:
    # (Hm)ᵀ Φ (Hm) = mᵀΦm - 2 m̄ 1ᵀΦm + m̄² 1ᵀΦ1
    product = (kernels.reshape(n_sessions * n_cond, n_cond) @ means).reshape(n_sessions, n_cond, -1)
    quadratic = np.einsum("spn,pn->sn", product, means)
    out = {}
    for centring, (cross_row, shared) in per_centring.items():
        if centring:
            mean = means.mean(axis=0)
            column = product.sum(axis=1)  # 1ᵀ Φ_b m_i
            total = kernels.sum(axis=(1, 2))[:, None]  # 1ᵀ Φ_b 1
            centred_quadratic = quadratic - 2.0 * mean * column + mean**2 * total
            diagonal = np.einsum("spp->sp", np.stack([centre_kernel(k, True, True) for k in kernels]))
            linear = centred_quadratic - diagonal @ noise
        else:
            linear = quadratic - np.einsum("spp->sp", kernels) @ noise
        influence = np.zeros((n_sessions, sa.n_neurons))
        for b in range(n_sessions):
            if b == a:
                continue
            n_b = pairs_row[b] / sa.n_neurons
            rows = n_b * linear[b]
            partners = np.full(sa.n_neurons, n_b)
            n_shared = 0
            if b in shared:
                own, index = shared[b]
                rows[index] -= own
                partners[index] -= 1
                n_shared = own.size
            influence[b] = (rows - cross_row[b] * partners) / (pairs_row[b] - n_shared)
        contribution = None if weights is None else weights @ influence.T - influence.sum(axis=1)
        out[centring] = (influence, contribution)
    return out


def _kernel(stats, unbiased):
    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons
