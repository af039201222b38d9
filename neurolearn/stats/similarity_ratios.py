"""Ratios of pairwise kernel terms: kernel similarity (CKA) and relative kernel change, both jackknife-corrected
over neuron ids (code overlap is :mod:`neurolearn.stats.overlap_ratios`), gated by :mod:`neurolearn.stats.kernel_guards` (NaN with the reason where the data
cannot support it), with replicates re-centred on the estimate. The numpy core that
:func:`neurolearn.stats.similarity.kernel_similarity` and :func:`neurolearn.summarize` call.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.stats import norm
from scipy.stats import t as student

from neurolearn.stats.kernel_halvings import halved_change_products
from neurolearn.stats.kernel_pairs import id_halvings, same_ids
from neurolearn.stats.kernel_guards import MIN_NEURONS, range_reason, self_term_reasons
from neurolearn.stats.neuron_resampling import (
    few_cell_widening,
    normal_score_replicates,
    recentre_replicates,
)
from neurolearn.stats.statistics_table import below_range_reasons
from neurolearn.stats.similarity_jackknife import (
    change_effective_cells,
    change_ratio_bias,
    cka_effective_cells,
    cka_se,
    fresh_change_effective_cells,
    pair_jackknife,
    same_cells_jackknife,
    tracked_effective_cells,
)

__all__ = ["similarity_from_terms", "change_from_terms"]


def similarity_from_terms(pairs: dict, *, with_reasons: bool = False, jackknife: bool = True):
    """CKA matrix (and replicates) from :func:`pairwise_kernel_terms` output (centred terms).

    With unbiased terms, each pair's ratio ⟨HΦ_aH, HΦ_bH⟩ / (‖HΦ_aH‖‖HΦ_bH‖) of the three U-statistics is
    jackknife-corrected over neuron *ids* (exact leave-one-out values from the influences; ``jackknife=False``
    gives the uncorrected ratio): sessions with disjoint ids are two independent samples, one jackknife term
    each, while a cell tracked in both sessions is one draw, deleted from the cross term and both norms at
    once. The old two-sample jackknife of tracked cells dropped the covariance of the three terms and read
    0.15 low at 100 log-normal-rate cells (0.04 at 3000); the uncorrected ratio reads up to 0.25 high with
    100 fresh neurons (benchmarks/bench_kernel_coverage.py). The bootstrap replicates are the ratio of the
    linearised term replicates, re-centred on the estimate (median), so their percentile interval
    contains it. For a pair of sessions sharing no neuron id the replicates are then mapped to normal scores
    with the robust scale IQR/1.349 of those ratios (``normal_score_replicates(..., scale="iqr")`` of
    :mod:`neurolearn.stats.neuron_resampling`): the linearised self term is first order, 2ε in a dominant cell's relative weight ε, where the cross term is ε, so the
    replicate ratio carries (1 + ε)/√(1 + 2ε) - 1 ≈ ε²/2 > 0 and a pole at ε = -1/2 that the estimate does
    not have (for the same cells in both sessions the ε of the three terms cancel exactly). Those tails made
    the replicate SD 1.2-3.2 error SDs and the percentile interval cover 0.98-1.0 with fresh log-normal
    spiking neurons; the IQR scale of the same replicates covers 0.92-0.96 (benchmarks/bench_kernel_coverage.py).
    Their deviations above the estimate are then scaled by t_{0.975}(n_eff - 1)/z_{0.975}, n_eff >= 3 the
    effective cell count of the CKA's influences (:func:`upper_few_cell_widening`; issue 8, A13): on an
    independent simulator (8 conditions x 100 fresh log-normal-rate cells, truth 0.39) the normal scores
    alone covered 0.87-0.88, every miss an interval below the truth, the estimate low with a short spread
    where the session lacked the dominant cells; now 0.92-0.93 (0.89 -> 0.95 at 6 conditions).

    A session whose ‖HΦH‖² estimate is not above 1 influence SE (no condition structure resolved from trial
    noise), or that has fewer than 3 neurons (unbiased), gives NaN in its row and column; a pair whose estimate lies
    outside [-1, 1] by more than 3 SE is NaN too. The estimand is at most 1 (Cauchy–Schwarz), but an
    estimate of a population CKA near 1 exceeds 1 by its sampling noise about half the time: such values
    are kept (they are not impossible, only noisy) and their interval says how noisy.

    Returns
    -------
    value : ndarray (S, S)
    replicates : ndarray (B, S, S) or None
    reasons : ndarray of str (S, S), only with ``with_reasons=True``
        ``""`` where the value is supported, otherwise why it is NaN. Nothing is warned here: the caller
        (:func:`kernel_similarity`, :func:`neurolearn.summarize`) warns once per session and statistic.
    """
    def cka_of(cross, self_a, self_b):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((self_a > 0) & (self_b > 0), cross / np.sqrt(np.abs(self_a * self_b)), np.nan)

    n = len(pairs["self"])
    session_reasons = self_term_reasons(pairs, "squared centred kernel norm ||HKH||^2")
    reasons = np.full((n, n), "", dtype=object)
    value = np.full((n, n), np.nan)
    bias = np.zeros((n, n))
    vectorised = pairs.get("unbiased") and pairs.get("cross_influence") is not None
    loo_cache = {}
    for a in range(n):
        reasons[a, a] = session_reasons[a]
        value[a, a] = np.nan if session_reasons[a] else 1.0
        same = {}
        if vectorised and not session_reasons[a]:  # partners recording the same cells: all at once
            partners = [b for b in range(a + 1, n) if not session_reasons[b] and same_ids(pairs, a, b)
                        and pairs["neurons"][a].size]
            if partners:
                biases, ses = same_cells_jackknife(cka_of, pairs, a, partners, loo_cache, jackknife)
                same = {b: (biases[j], ses[j]) for j, b in enumerate(partners)}
        for b in range(a + 1, n):
            if session_reasons[a] or session_reasons[b]:
                reasons[a, b] = reasons[b, a] = session_reasons[a] or session_reasons[b]
                continue
            args = (pairs["cross"][a, b], pairs["self"][a], pairs["self"][b])
            if b in same:
                bias[a, b] = bias[b, a] = same[b][0]
                se = same[b][1]
            else:
                if jackknife:
                    bias[a, b] = bias[b, a] = pair_jackknife(cka_of, args, pairs, a, b, self_index=(1, 2),
                                                            same=same_ids(pairs, a, b))
                se = cka_se(pairs, a, b)
            estimate = float(cka_of(*args)) - bias[a, b]
            reason = range_reason(estimate, se, "kernel similarity", pairs, a, b)
            reasons[a, b] = reasons[b, a] = reason
            if not reason:
                value[a, b] = value[b, a] = estimate
    replicates = None
    if pairs["self_boot"] is not None:
        self_boot = pairs["self_boot"]
        replicates = cka_of(pairs["cross_boot"], self_boot[:, :, None], self_boot[:, None, :]) - bias
        replicates = np.where(np.isfinite(value)[None], recentre_replicates(value, replicates), np.nan)
        fresh = _disjoint_pairs(pairs.get("neurons"), n) & np.isfinite(value)
        if fresh.any():
            replicates[:, fresh] = upper_few_cell_widening(
                value[fresh], normal_score_replicates(value[fresh], replicates[:, fresh], scale="iqr"),
                np.array([cka_effective_cells(pairs, a, b) for a, b in zip(*np.nonzero(fresh))]))
        tracked = _same_id_pairs(pairs, n) & np.isfinite(value)
        if tracked.any():
            cells = np.array([(tracked_effective_cells(pairs, a, b), pairs["neurons"][a].size)
                              for a, b in zip(*np.nonzero(tracked))])
            replicates[:, tracked] = lower_few_cell_widening(value[tracked], replicates[:, tracked], *cells.T)
        diagonal = np.arange(n)
        replicates[:, diagonal, diagonal] = value[diagonal, diagonal]
    return (value, replicates, reasons) if with_reasons else (value, replicates)


def upper_few_cell_widening(estimate, replicates, n_effective):
    """Replicates above the estimate spread by t_{0.975}(n_eff - 1)/z_{0.975}; those below it kept.

    The kernel similarity of two sessions sharing no cell: its delta-method influences concentrate on 2-4
    cells (median (Σu²)²/Σu⁴ 2.2-3.4 at 40-300 log-normal-rate cells), so the bootstrap spread is a few-cell
    estimate, and it errs on one side. A session lacking the population's dominant cells (their kernel is
    the largest part of the population kernel) reads low *and* with a short spread, so intervals miss below
    the truth (upper end too low: 2-12 % of pairs) and practically never above it (0-0.9 %, seven designs).
    Only the upper deviations get the Student factor of
    :func:`~neurolearn.stats.neuron_resampling.few_cell_widening`, with at least 2 degrees of freedom
    (n_eff >= 3: at 1 the factor 6.5 gave mean SEs of 2-3 error SDs on benchmarks/bench_kernel_coverage.py's
    spiking sessions, for the same coverage). Order and NaN are kept, and as many replicates lie on either
    side of the estimate as before, so every percentile interval contains it. ``replicates`` is (B, k),
    ``n_effective`` (k,); NaN n_eff leaves its replicates unchanged.

    Examples
    --------
    >>> upper_few_cell_widening(np.array([1.0]), np.array([[0.0], [1.0], [2.0]]), np.array([3.0])).round(3).ravel().tolist()
    [0.0, 1.0, 3.195]
    """
    widened = few_cell_widening(estimate, replicates, np.maximum(n_effective, 3.0))  # NaN stays NaN
    return np.where(replicates > np.asarray(estimate, dtype=float)[None], widened, replicates)


def lower_few_cell_widening(estimate, replicates, n_effective, n_cells):
    """Replicates below the estimate spread by t_{0.975}(df)/z_{0.975}, df = 2 n n_eff/(n - n_eff); those above
    kept.

    The kernel similarity of two sessions recording the same cells: where a few high-rate cells carry a
    heavy-tailed population's kernel, the same few cells carry both sessions' kernels, so the recorded cells'
    CKA reads above the population's, and the spread of a bootstrap over those cells is a few-cell estimate.
    The intervals missed above the truth (the truth below the lower end) and rarely below it: 14 / 0, 15 / 1,
    12 / 2 and 4 / 0 of 86-128 pairs on an independent exp-linear Poisson simulator (log-rate SD 1, 120
    tracked cells, 8 conditions x 4 trials, geometry drifting along the task axis; 9 / 0, 6 / 2 and 5 / 1 on
    the project's spiking simulator). ``df`` is the Satterthwaite degrees of freedom of a variance whose terms
    have effective count n_eff (as :func:`~neurolearn.stats.neuron_resampling.jackknife_spread`, about
    2 n_eff when a few cells dominate, n for equal influences), n_eff = (Σu²)²/Σu⁴ of the CKA's per-id
    influences (:func:`tracked_effective_cells`), n the cells. Coverage of the population truth on that
    simulator 0.837 / 0.941 / 0.875 / 0.886 -> 0.895 / 0.953 / 0.914 / 0.935 (benchmarks/
    bench_heavy_tail_coverage.py), on the spiking simulator's tracked sessions 0.94-0.98 -> 0.96-0.99 (widths
    +5-9 %). Order and NaN are kept and as many replicates lie on either side of the estimate as before, so
    every percentile interval contains it. ``replicates`` is (B, k), ``n_effective`` and ``n_cells`` (k,);
    NaN n_eff leaves its replicates unchanged.

    Examples
    --------
    >>> lower_few_cell_widening(np.array([1.0]), np.array([[0.0], [1.0], [2.0]]), np.array([3.0]),
    ...                         np.array([100.0])).round(3).ravel().tolist()  # df 6.19: t 2.43 / 1.96
    [-0.239, 1.0, 2.0]
    """
    n_effective, n_cells = np.asarray(n_effective, dtype=float), np.asarray(n_cells, dtype=float)
    known = np.isfinite(n_effective) & (n_effective < n_cells)  # equal influences (n_eff = n): df inf, factor 1
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(known, 2.0 * n_cells * n_effective / (n_cells - n_effective), 2.0)
    factor = np.where(known, student.ppf(0.975, np.maximum(df, 1.0)) / norm.ppf(0.975), 1.0)
    estimate = np.asarray(estimate, dtype=float)[None]
    widened = estimate + factor[None] * (replicates - estimate)
    return np.where(replicates < estimate, widened, replicates)


def _same_id_pairs(pairs, n_sessions) -> np.ndarray:
    """(S, S) bool: sessions a != b recording the same ids in the same order, so that their per-neuron
    influences align by position (all False without ids or influences; compared here, not through the cached
    same-id matrix, so the general bookkeeping path widens the same pairs)."""
    out = np.zeros((n_sessions, n_sessions), dtype=bool)
    if pairs.get("neurons") is None or pairs.get("cross_influence") is None:
        return out
    for a in range(n_sessions):
        for b in range(a + 1, n_sessions):
            ids_a, ids_b = np.asarray(pairs["neurons"][a]), np.asarray(pairs["neurons"][b])
            out[a, b] = out[b, a] = bool(ids_a.size) and np.array_equal(ids_a, ids_b)
    return out


def _disjoint_pairs(neurons, n_sessions) -> np.ndarray:
    """(S, S) bool: sessions a != b that share no neuron id (all False without ids: nothing is known).

    Counts shared ids of all pairs at once from the sparse session x id incidence matrix (no pairwise set
    operations)."""
    if neurons is None:
        return np.zeros((n_sessions, n_sessions), dtype=bool)
    sizes = [np.asarray(ids).size for ids in neurons]
    if not sum(sizes):
        return np.zeros((n_sessions, n_sessions), dtype=bool)
    _, columns = np.unique(np.concatenate([np.asarray(ids).ravel() for ids in neurons]), return_inverse=True)
    rows = np.repeat(np.arange(n_sessions), sizes)
    incidence = sparse.csr_matrix((np.ones(rows.size), (rows, columns.ravel())),
                                  shape=(n_sessions, int(columns.max()) + 1))
    shared = (incidence @ incidence.T).toarray()
    disjoint = shared == 0
    np.fill_diagonal(disjoint, False)
    return disjoint


def change_from_terms(pairs: dict, reference: int, *, with_reasons: bool = False, resolution: float | None = None):
    """Relative kernel change from a reference session (and replicates) from uncentred terms.

    The squared relative change (‖Φ_t‖² + ‖Φ_0‖² - 2⟨Φ_t, Φ_0⟩)/‖Φ_0‖² is jackknife-corrected (unbiased terms)
    before the square root. The root is signed, sign(s)·√|s|: an unchanged population gives an estimate of
    the squared change that falls below zero about half the time, and clipping those to 0 would read a
    positive change (about one SE) where there is none — exactly the lazy-learning null a fit must see.
    With the sessions' statistics in ``pairs`` (as :func:`pairwise_kernel_terms` returns them) the value is
    the mean over halvings of the ids of the halves' cross-fitted signed roots (:func:`_halved_roots`): the
    U-statistic's squared change is skewed under no change and its signed root read low (reviewer F11:
    -0.0965 ± 0.023 over 341 unchanged pairs of fresh log-normal-rate spiking sessions, 8-16 conditions,
    3-10 trials, 50-300 neurons; now -0.035 ± 0.018, SD 0.425 -> 0.332; the same cells: -0.003 ± 0.002
    before). On changed kernels (truth 0.31 on average) it reads as the U-statistic's root did (error
    -0.138 vs -0.140, SD 0.259 vs 0.290): the root of a barely resolved change is low by Jensen's
    -Var(s)/(8 s^{3/2}) either way. The replicates are the U-statistic's, re-centred on the value.
    Replicates are re-centred on the estimate (median). Where the session shares cells with the reference,
    their deviations are then scaled by t_{0.975}(n_eff - 1)/z_{0.975}, n_eff = (Σu²)²/Σu⁴ the effective
    number of ids of the squared change's influences u (:func:`~neurolearn.stats.neuron_resampling.few_cell_widening`):
    for the same cells in both sessions the cell-to-cell spread of the change is all the interval has, and
    with log-normal rates it is carried by 2-15 cells (median 6) whose bootstrap spread is itself a few-cell
    estimate. Coverage on benchmarks/bench_coverage.py's grid with the same cells every session (400
    datasets, double-centred kernels): 0.969 +- 0.008 (479 values); on the uncentred change it moved 0.888 ->
    0.943 with the scaling and stayed 0.90 at 4-7 conditions and at 300-600 cells, where the change is carried
    by strongly tuned cells the sample rarely holds (the estimate low and the SE short together, which no
    resampling of the recorded cells sees).

    Where the session shares no cell with the reference (fresh neurons), the deviations *above* the estimate
    are scaled by the same factor, with n_eff >= 3 of the influences over both sessions' cells
    (:func:`~neurolearn.stats.similarity_jackknife.fresh_change_effective_cells`,
    :func:`upper_few_cell_widening`, as the kernel similarity of such sessions): the kernels of heavy-tailed
    populations are carried by a few high-rate cells, a sample lacking them reads low with a short spread,
    and every miss lay below the truth. The estimate and the lower side are unchanged. On an exp-linear
    Poisson population with log-rate SD 1 and large changes (truth 0.5-5; benchmarks/bench_kernel_change_fresh.py,
    6 conditions x 150 cells x 2-4 trials / 4 x 80 x 2-4 / 6 x 150 x 6-10, 300 datasets each) the intervals
    covered 0.863 / 0.899 / 0.857 of the values before and 0.941 / 0.943 / 0.935 after (574-590 values,
    SE 0.010; misses below the truth 81 / 56 / 84 -> 35 / 31 / 38).

    ``resolution`` (summarize passes the registry's, 1): an estimate below 0 whose interval's upper half-width
    *before* that upper-side scaling exceeds it is NaN as not resolved
    (:func:`~neurolearn.stats.statistics_table.below_range_reasons`); the registry's rule judges the rest on
    the lower half-width (``resolution_side``, :func:`~neurolearn.stats.statistics_table.enforce_ranges`). Both
    judge the side toward no change, so a reading below 0 and its mirror image above 0 are judged alike: the
    replicates of a signed root stretch toward 0, and judged on its lower side, away from 0, a reading below
    0 passed where its mirror image failed (judged after the scaling, it would fail where its mirror image
    passes). Under no change with fresh neurons the values summarize reports average -0.011 +- 0.017 (467 of
    786; -0.169 +- 0.018 over 628 judged on the lower side alone, +0.066 +- 0.018 over 391 judged on the SE,
    -0.028 +- 0.024 over all). The large fresh changes above: 0.883 / 0.882 / 0.869 +- 0.022 of the reported
    values (230 / 169 / 229 of ~580) against 0.922 / 0.930 / 0.908 (348 / 313 / 357) on the lower side alone
    and 0.756 / 0.743 / 0.730 (123 / 109 / 111) on the SE. The readings below 0 NaN-ed now had intervals
    reaching ~7 and covered 0.99; the readings above 0 cover 0.880 under either rule.

    If the reference's ‖Φ_0‖² is not above 1 influence SE (or it has fewer than 3 neurons, unbiased), every
    session is NaN; a session with too few neurons is NaN itself. ``with_reasons=True`` returns ``(value,
    replicates, reasons)`` with the reason strings (``""`` where supported); nothing is warned here.
    """
    def squared_change(cross, self_t, self_ref):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self_ref > 0, (self_t + self_ref - 2.0 * cross) / np.abs(self_ref), np.nan)

    n = len(pairs["self"])
    reference = reference % n
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(n)]
    session_reasons = self_term_reasons(pairs, "squared kernel norm ||K||^2")
    reasons = np.full(n, "", dtype=object)
    squared = np.zeros(n)
    bias = np.zeros(n)
    n_effective = np.full(n, np.nan)  # of the squared change's id influences, for sessions sharing cells
    for t in range(n):
        if session_reasons[reference]:
            reasons[t] = f"reference {session_reasons[reference]}"
            continue
        if t == reference:
            continue
        if pairs.get("unbiased") and pairs["self_influence"][t].size < MIN_NEURONS:
            reasons[t] = (f"session {ids[t]!r}: too few neurons for an unbiased ratio (found "
                          f"{pairs['self_influence'][t].size}, need {MIN_NEURONS})")
            continue
        args = (pairs["cross"][t, reference], pairs["self"][t], pairs["self"][reference])
        squared[t] = squared_change(*args)
        same = same_ids(pairs, t, reference)
        bias[t] = pair_jackknife(squared_change, args, pairs, t, reference, self_index=(1, 2), same=same)
        n_effective[t] = change_effective_cells(pairs, t, reference, squared[t], same)
    supported = np.array([not r for r in reasons])
    value = np.where(supported, _signed_root(squared - bias), np.nan)
    if pairs.get("unbiased") and pairs.get("statistics") is not None:
        halved_bias = np.array([change_ratio_bias(pairs, t, reference, squared[t], same_ids(pairs, t, reference))
                                if supported[t] and t != reference else 0.0 for t in range(n)])
        value = _halved_roots(pairs, reference, halved_bias, value)
    replicates = None
    if pairs["self_boot"] is not None:
        self_boot = pairs["self_boot"]
        replicates = squared_change(pairs["cross_boot"][:, :, reference], self_boot,
                                    self_boot[:, [reference]]) - bias
        replicates = few_cell_widening(value, recentre_replicates(value, _signed_root(replicates)), n_effective)
        if resolution is not None:  # judged before the upper-side scaling of fresh sessions (see the docstring)
            below = below_range_reasons(np.where(supported, value, np.nan), replicates, resolution)
            below[reference] = ""
            unresolved = below != ""
            reasons[unresolved] = [f"{r} (the interval before the upper-side scaling of fresh sessions; {resolution:g} "
                                   "is the reference kernel's norm)" for r in below[unresolved]]
            value[unresolved], replicates[:, unresolved] = np.nan, np.nan
        fresh = np.flatnonzero(_disjoint_pairs(pairs.get("neurons"), n)[:, reference] & supported & np.isfinite(value))
        if fresh.size:  # sessions sharing no cell with the reference: their upper deviations (see the docstring)
            n_fresh = np.array([fresh_change_effective_cells(pairs, t, reference, squared[t]) for t in fresh])
            replicates[:, fresh] = upper_few_cell_widening(value[fresh], replicates[:, fresh], n_fresh)
        replicates[:, reference] = np.where(supported[reference], 0.0, np.nan)
        replicates[:, ~supported] = np.nan
    return (value, replicates, reasons) if with_reasons else (value, replicates)


def _halved_roots(pairs, reference, bias, value):
    """Each supported session's change as the mean, over random halvings of the neuron ids, of the signed root
    of the cross-fitted squared change ⟨D_A, D_B⟩ / ‖Φ_0‖² - bias (D = K̂_t - K̂_0 over one half's neurons,
    K̂ the trial-noise-corrected kernel; ``bias`` the delta method's ratio bias,
    :func:`~neurolearn.stats.similarity_jackknife.change_ratio_bias`).

    Under no change D_B is a difference of two equally distributed kernels, so ⟨D_A, D_B⟩ is symmetric about
    0 and so is its signed root: the mean is 0 (up to the ratio's correlation with ‖Φ_0‖²). The U-statistic's
    squared change is also unbiased there, but it is ‖D‖² minus its noise, a centred sum of a few χ² terms
    (few: log-normal rates put the kernel's sampling noise on a few cells), skewed right, and its signed root
    averaged -0.0965 ± 0.023 on unchanged sessions of fresh neurons (SD 0.43; -0.003 ± 0.002 for the same
    cells, whose noise is only the trials'). A well-resolved change reads as before to first order (the
    halves' first-order terms sum to the U-statistic's). The halves are a hash of each id
    (:func:`~neurolearn.stats.kernel_pairs.id_halvings`): a tracked cell is in the same half on both days, so
    no product pairs a cell with itself. Sessions without a halving whose four halves all hold neurons keep
    the U-statistic's value. The products ⟨D_A, D_B⟩ of all halvings come from one pass
    (:func:`~neurolearn.stats.kernel_halvings.halved_change_products`: the halves' kernels one halving at a
    time, or, for sessions recording the reference's cells, the N x N Gram matrices of the changes)."""
    stats = pairs["statistics"]
    out = value.copy()
    targets = [t for t in np.flatnonzero(np.isfinite(value)) if t != reference]
    if not targets:
        return out
    halvings = {k: id_halvings(stats[k].neurons) for k in [reference] + targets}
    # ⟨D_A, D_B⟩ of every halving from one pass (kernel_halvings: no stored (32, 2, P, P) half kernels)
    products = halved_change_products(stats, reference, targets, halvings, centred=bool(pairs.get("centred")))
    norm = np.abs(pairs["self"][reference])
    for t in targets:
        crossed = products[t] / norm - bias[t]
        crossed = crossed[np.isfinite(crossed)]
        if crossed.size:
            out[t] = float(np.mean(_signed_root(crossed)))
    return out


def _signed_root(squared):
    return np.sign(squared) * np.sqrt(np.abs(squared))
