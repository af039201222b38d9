"""Similarity of representations across sessions: CKA, kernel similarity, kernel change, code overlap.

Two questions, two estimands:

* :func:`cka` on plain arrays treats rows as *samples* from a distribution (the usual representational
  similarity setting). ``unbiased=True`` is the HSIC U-statistic of Song et al. (2012) on zero-diagonal
  linear kernels, which removes the upward bias of CKA at few samples (independent data reads ~0, where the
  biased CKA reads ~0.76 with 100 features and 32 samples).
* The session functions (:func:`kernel_similarity`, :func:`kernel_change`, :func:`code_overlap`) compare
  *population* kernels (infinite neurons, noiseless condition means) on the recorded conditions. Their
  default ``estimator="unbiased"`` uses trial-noise-corrected per-neuron kernels and U-statistics over
  distinct neurons for every quadratic term (see :mod:`neurolearn.stats.kernels`): self terms ‖HΦ_tH‖² exclude
  each neuron's product with itself, and cross terms ⟨HΦ_tH, HΦ_sH⟩ exclude products of a tracked neuron with
  itself on another day. The remaining O(1/N) bias of ratios is removed by an exact leave-one-neuron-out
  jackknife over each session's neurons. ``estimator="plugin"`` is the naive statistic of the condition means.

Sessions are compared on the conditions they all share. Bootstraps resample neuron ids (shared across
sessions for tracked cells) with linearised replicates, re-centred (median) on each estimate so that every
percentile interval contains it.

Honest values (issue 8): a session whose unbiased ‖HΦH‖² (‖Φ‖² for the change, the self traces for the
overlap) is not above one influence SE has no condition structure resolved from trial noise; every ratio
that divides by it is NaN, with the reason (``with_reasons=True`` in the numpy core, ``<name>_flag`` in the
Dataset functions, one :class:`~neurolearn.stats.flags.StatisticWarning` per NaN pair). Before, such sessions
gave kernel similarities of 75 and task alignments of 56. A ratio outside [-1, 1] by more than 3 SE is NaN
too; values slightly above 1 remain where the truth is at 1 (an unchanged code), within their noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from neurolearn.data import CI_BOUND, SESSION, SESSION_OTHER, ci_name, flag_name, se_name, session_recordings
from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.kernels import (
    DENOMINATOR_Z,
    MIN_NEURONS,
    RANGE_Z,
    ConditionStatistics,
    centre_kernel,
    common_conditions,
    condition_statistics,
    influence_se,
    per_neuron_pair_trace,
    recentre_replicates,
    require_resolved,
    self_inner_estimate,
    jackknife_bias,
    leave_one_out,
    replicate,
    session_bootstrap_weights,
)

__all__ = ["cka", "hsic", "kernel_similarity", "kernel_change", "code_overlap"]

ESTIMATORS = ("unbiased", "plugin")


def cka(X, Y, *, unbiased: bool = True) -> float:
    """Linear centred kernel alignment of two representations of the same samples (rows).

    Parameters
    ----------
    X, Y : array_like, shapes (P, N1) and (P, N2)
        Rows are samples (conditions), columns features (neurons).
    unbiased : bool
        ``True``: HSIC U-statistic of Song et al. (2012) (zero-diagonal kernels), unbiased for the population
        HSIC at any number of samples P >= 4; the ratio is then close to unbiased. ``False``: the biased
        CKA ⟨HKH, HLH⟩/(‖HKH‖‖HLH‖), which reads high on independent data at small P.

    Invariances: orthogonal transforms and isotropic scaling of the columns of X or Y (exactly, both estimators).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 5))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
    >>> round(cka(X, 3 * X @ Q), 10), round(cka(X, X @ Q, unbiased=False), 10)
    (1.0, 1.0)
    """
    X, Y = _two_arrays(X, Y)
    K, L = X @ X.T, Y @ Y.T
    denominator = np.sqrt(hsic(K, K, unbiased=unbiased) * hsic(L, L, unbiased=unbiased))
    if not denominator > 0:
        raise DataError("cka: a representation has no (estimated) variance across samples; CKA undefined")
    return float(hsic(K, L, unbiased=unbiased) / denominator)


def hsic(K, L, *, unbiased: bool = True) -> float:
    """HSIC of two kernel matrices over the same n samples.

    ``unbiased=True``: Song et al. (2012) U-statistic
    [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n-1)(n-2)) - 2/(n-2)·1ᵀK̃L̃1] / (n(n-3)), K̃, L̃ with zeroed diagonals (needs n >= 4).
    ``unbiased=False``: tr(KHLH)/(n-1)².

    Examples
    --------
    >>> import numpy as np
    >>> K = np.outer([1.0, -1.0, 1.0, -1.0], [1.0, -1.0, 1.0, -1.0])
    >>> round(hsic(K, K, unbiased=False), 4)  # ‖HKH‖² / 9 with HKH = K
    1.7778
    """
    K, L = np.asarray(K, dtype=float), np.asarray(L, dtype=float)
    n = K.shape[0]
    if not unbiased:
        return float(np.sum(centre_kernel(K, True, True) * centre_kernel(L, True, True)) / (n - 1) ** 2)
    if n < 4:
        raise DataError(f"hsic: the unbiased estimator needs at least 4 samples, found {n}")
    K = K - np.diag(np.diag(K))
    L = L - np.diag(np.diag(L))
    k1, l1 = K.sum(axis=1), L.sum(axis=1)
    value = np.sum(K * L) + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (k1 @ l1)
    return float(value / (n * (n - 3)))


def kernel_similarity(recordings, by: str = "stimulus", *, estimator: str = "unbiased", n_boot: int = 0,
                      random_state=None, level: float = 0.95) -> xr.Dataset:
    """CKA between the condition kernels of every pair of sessions -> dims ``(session, session_other)``.

    Needs no neuron matching. Estimand: ⟨HΦ_tH, HΦ_sH⟩/(‖HΦ_tH‖‖HΦ_sH‖) of the population kernels on the
    conditions shared by all sessions. Bias handling (``"unbiased"``): trial-noise-corrected per-neuron
    kernels and U-statistics over distinct neurons for numerator and both norms (tracked neurons' products
    with themselves excluded). The diagonal is 1 by definition.

    Parameters
    ----------
    recordings : xarray.DataTree, sequence or mapping of DataArray
    by : str
        Trial coord defining conditions.
    estimator : {"unbiased", "plugin"}
    n_boot, random_state, level
        Neuron bootstrap (linearised replicates, weights shared by tracked neuron ids).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((8, 3))
    >>> recs = [make_recording(latent @ rng.standard_normal((3, 300)), n_trials=3, noise_sd=0.5,
    ...                        session_id=f"day{d}", neuron_ids=np.arange(300) + 1000 * d, rng=d) for d in range(2)]
    >>> ds = kernel_similarity(recs)
    >>> ds["kernel_similarity"].dims, bool(ds["kernel_similarity"].sel(session="day0", session_other="day1") > 0.8)
    (('session', 'session_other'), True)
    """
    _check_estimator(estimator)
    stats = _session_statistics(recordings, by, estimator)
    pairs = pairwise_kernel_terms(stats, centred=True, unbiased=estimator == "unbiased", n_boot=n_boot,
                                  random_state=random_state)
    value, replicates, reasons = similarity_from_terms(pairs, with_reasons=True)
    _warn_pairs("kernel_similarity", reasons, pairs)
    return _pairwise_dataset("kernel_similarity", value, replicates, stats, level, n_boot, reasons,
                             estimator=estimator, centring="double")


def kernel_change(recordings, by: str = "stimulus", *, reference: int = 0, estimator: str = "unbiased",
                  n_boot: int = 0, random_state=None, level: float = 0.95) -> xr.Dataset:
    """Relative kernel change ‖Φ_t - Φ_ref‖_F / ‖Φ_ref‖_F of every session from a reference session.

    Uncentred kernels (THEORY.md). Bias handling (``"unbiased"``): ‖Φ_t - Φ_ref‖² is expanded into
    ‖Φ_t‖² + ‖Φ_ref‖² - 2⟨Φ_t, Φ_ref⟩, each estimated without bias (U-statistics over distinct neurons of
    trial-noise-corrected per-neuron kernels, i.e. the split-kernel correction), and the root is signed
    (sign(s)·√|s|), so an unchanged population reads 0 on average and may read slightly negative. The
    plug-in reads > 0 between two recordings of an unchanged population.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((6, 400))
    >>> recs = [make_recording(base * (1 + d), n_trials=4, noise_sd=0.3, session_id=f"d{d}", rng=d)
    ...         for d in range(2)]  # same neurons, responses doubled on day 1: ‖4Φ - Φ‖/‖Φ‖ = 3
    >>> round(float(kernel_change(recs)["kernel_change"].sel(session="d1")), 1)
    3.0
    """
    _check_estimator(estimator)
    stats = _session_statistics(recordings, by, estimator)
    if not -len(stats) <= reference < len(stats):
        raise DataError(f"reference: expected a session index in [0, {len(stats)}), found {reference}")
    pairs = pairwise_kernel_terms(stats, centred=False, unbiased=estimator == "unbiased", n_boot=n_boot,
                                  random_state=random_state)
    value, replicates, reasons = change_from_terms(pairs, reference, with_reasons=True)
    for session, reason in zip(pairs["session_ids"], reasons):
        if reason:
            warn_unsupported("kernel_change", session, reason)
    ds = _session_dataset("kernel_change", value, replicates, stats, level, n_boot, reasons)
    ds.attrs.update(estimator=estimator, reference=stats[reference].session_id, centring="none",
                    bootstrap="neurons (Poisson weights by id, linearised)")
    return ds


def code_overlap(recordings, by: str = "stimulus", *, n_boot: int = 0, random_state=None,
                 level: float = 0.95) -> xr.Dataset:
    """Code overlap q(t, s) = tr Φ(t,s) / sqrt(tr Φ(t,t) tr Φ(s,s)) on the neurons tracked in both sessions.

    Φ(t, s) = R_t R_sᵀ/N over shared neuron ids. Bias handling: the cross trace multiplies means of
    different sessions (independent trials); the self traces subtract each neuron's squared standard errors
    (trial-noise-corrected diagonal). All three traces are sums over neurons, so the bootstrap is exact.

    Raises
    ------
    DataError
        If some pair of sessions shares no neuron ids (the message names them).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((6, 200))
    >>> recs = [make_recording(base, n_trials=3, noise_sd=0.3, session_id="a", rng=1),
    ...         make_recording(-base, n_trials=3, noise_sd=0.3, session_id="b", rng=2)]
    >>> round(float(code_overlap(recs)["code_overlap"].sel(session="a", session_other="b")), 1)
    -1.0
    """
    stats = _session_statistics(recordings, by, "unbiased")
    value, replicates, _, reasons = overlap_from_statistics(stats, n_boot=n_boot, random_state=random_state,
                                                            strict=True, with_reasons=True)
    _warn_pairs("code_overlap", reasons, {"session_ids": [s.session_id for s in stats], "self": stats})
    return _pairwise_dataset("code_overlap", value, replicates, stats, level, n_boot, reasons,
                             estimator="unbiased", neurons="shared ids of each pair")


# ----------------------------------------------------------------------------------------------------------
# numpy core (used by summarize as well)
# ----------------------------------------------------------------------------------------------------------


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
                             "shared": shared, "session_ids": [st.session_id for st in stats]}
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


def similarity_from_terms(pairs: dict, *, with_reasons: bool = False):
    """CKA matrix (and replicates) from :func:`pairwise_kernel_terms` output (centred terms).

    With unbiased terms, each pair's ratio is jackknife-corrected over the neurons of both sessions (exact
    leave-one-out values from the influences); the bootstrap replicates are re-centred on the estimate
    (median), so their percentile interval contains it.

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
    session_reasons = _self_reasons(pairs, "squared centred kernel norm ||HKH||^2")
    reasons = np.full((n, n), "", dtype=object)
    value = np.full((n, n), np.nan)
    bias = np.zeros((n, n))
    for a in range(n):
        reasons[a, a] = session_reasons[a]
        value[a, a] = np.nan if session_reasons[a] else 1.0
        for b in range(a + 1, n):
            if session_reasons[a] or session_reasons[b]:
                reasons[a, b] = reasons[b, a] = session_reasons[a] or session_reasons[b]
                continue
            args = (pairs["cross"][a, b], pairs["self"][a], pairs["self"][b])
            bias[a, b] = bias[b, a] = _pair_jackknife(cka_of, args, pairs, a, b, self_index=(1, 2))
            estimate = float(cka_of(*args)) - bias[a, b]
            reason = _range_reason(estimate, _cka_se(pairs, a, b), "kernel similarity", pairs, a, b)
            reasons[a, b] = reasons[b, a] = reason
            if not reason:
                value[a, b] = value[b, a] = estimate
    replicates = None
    if pairs["self_boot"] is not None:
        self_boot = pairs["self_boot"]
        replicates = cka_of(pairs["cross_boot"], self_boot[:, :, None], self_boot[:, None, :]) - bias
        replicates = np.where(np.isfinite(value)[None], recentre_replicates(value, replicates), np.nan)
        diagonal = np.arange(n)
        replicates[:, diagonal, diagonal] = value[diagonal, diagonal]
    return (value, replicates, reasons) if with_reasons else (value, replicates)


def _self_reasons(pairs, what):
    """Per session: "" if its self term is resolved from noise (> 1 influence SE) and it has enough
    neurons, else the reason."""
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(len(pairs["self"]))]
    reasons = []
    for k, value in enumerate(pairs["self"]):
        influence = pairs["self_influence"][k]
        try:
            if pairs.get("unbiased") and influence.size < MIN_NEURONS:
                raise InsufficientDataError(f"session {ids[k]!r}: too few neurons for an unbiased ratio "
                                            f"(found {influence.size}, need {MIN_NEURONS})")
            if pairs.get("unbiased"):
                require_resolved(value, influence_se(influence), what, ids[k])
            elif not value > 0:
                raise InsufficientDataError(f"session {ids[k]!r}: the kernel is zero ({what} = {value:.3g})")
        except InsufficientDataError as error:
            reasons.append(str(error))
        else:
            reasons.append("")
    return reasons


def _cka_se(pairs, a, b):
    """Delta-method SE of the CKA of pair (a, b) from the per-neuron influences of its three terms."""
    if pairs.get("cross_influence") is None:
        return float("nan")
    cross, self_a, self_b = pairs["cross"][a, b], pairs["self"][a], pairs["self"][b]
    root = np.sqrt(self_a * self_b)
    u_a = (pairs["cross_influence"][a][b] - cross * pairs["self_influence"][a] / (2.0 * self_a)) / root
    u_b = (pairs["cross_influence"][b][a] - cross * pairs["self_influence"][b] / (2.0 * self_b)) / root
    return float(np.sqrt(influence_se(u_a) ** 2 + influence_se(u_b) ** 2))


def _range_reason(estimate, se, what, pairs, a, b, low=-1.0, high=1.0):
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(len(pairs["self"]))]
    if np.isfinite(estimate) and not (estimate < low - RANGE_Z * se or estimate > high + RANGE_Z * se):
        return ""
    return (f"sessions {ids[a]!r}, {ids[b]!r}: denominator not resolved from noise: {what} estimate "
            f"{estimate:.3g} lies outside [{low:g}, {high:g}] by more than {RANGE_Z:g} SE (SE {se:.3g})")


def _warn_pairs(statistic, reasons, pairs):
    """One StatisticWarning per session pair (a <= b) whose value is NaN, naming both and the reason."""
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(reasons.shape[0])]
    for a in range(reasons.shape[0]):
        for b in range(a, reasons.shape[1]):
            if reasons[a, b]:
                session = ids[a] if a == b else f"{ids[a]} / {ids[b]}"
                warn_unsupported(statistic, session, reasons[a, b], stacklevel=4)


def change_from_terms(pairs: dict, reference: int, *, with_reasons: bool = False):
    """Relative kernel change from a reference session (and replicates) from uncentred terms.

    The squared relative change (‖Φ_t‖² + ‖Φ_0‖² - 2⟨Φ_t, Φ_0⟩)/‖Φ_0‖² is jackknife-corrected (unbiased terms)
    before the square root. The root is signed, sign(s)·√|s|: an unchanged population gives an estimate of
    the squared change that falls below zero about half the time, and clipping those to 0 would read a
    positive change (about one SE) where there is none — exactly the lazy-learning null a fit must see.
    Replicates are re-centred on the estimate (median).

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
    session_reasons = _self_reasons(pairs, "squared kernel norm ||K||^2")
    reasons = np.full(n, "", dtype=object)
    squared = np.zeros(n)
    bias = np.zeros(n)
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
        bias[t] = _pair_jackknife(squared_change, args, pairs, t, reference, self_index=(1, 2))
    supported = np.array([not r for r in reasons])
    value = np.where(supported, _signed_root(squared - bias), np.nan)
    replicates = None
    if pairs["self_boot"] is not None:
        self_boot = pairs["self_boot"]
        replicates = squared_change(pairs["cross_boot"][:, :, reference], self_boot,
                                    self_boot[:, [reference]]) - bias
        replicates = recentre_replicates(value, _signed_root(replicates))
        replicates[:, reference] = np.where(supported[reference], 0.0, np.nan)
        replicates[:, ~supported] = np.nan
    return (value, replicates, reasons) if with_reasons else (value, replicates)


def _signed_root(squared):
    return np.sign(squared) * np.sqrt(np.abs(squared))


def _pair_jackknife(function, args, pairs, a, b, *, self_index):
    """Jackknife bias of function(cross_ab, self_a, self_b) over the neurons of session a and of session b."""
    if not pairs.get("unbiased") or pairs.get("cross_influence") is None:
        return 0.0
    cross_a = pairs["cross_influence"][a][b]
    cross_b = pairs["cross_influence"][b][a]
    samples = [
        {0: leave_one_out(args[0], cross_a, 1), self_index[0]: leave_one_out(args[1], pairs["self_influence"][a], 2)},
        {0: leave_one_out(args[0], cross_b, 1), self_index[1]: leave_one_out(args[2], pairs["self_influence"][b], 2)},
    ]
    bias = jackknife_bias(function, args, samples)
    return bias if np.isfinite(bias) else 0.0


def overlap_from_statistics(stats: Sequence[ConditionStatistics], *, n_boot=0, random_state=None, weights=None,
                            strict=True, with_reasons: bool = False):
    """Code-overlap matrix, its replicates and whether any pair of distinct sessions shares neurons.

    A pair is NaN when it shares fewer than 3 neurons, when either trial-noise-corrected self trace over
    the shared neurons is not above 1 SE, or when the estimate lies outside [-1, 1] by more than 3 SE
    (delta-method SE over the shared neurons). Estimates of an overlap near 1 (an unchanged code) exceed 1
    by sampling noise about half the time; those are kept. Replicates are re-centred on the estimate.

    ``with_reasons=True`` appends an (S, S) array of reason strings (``""`` where supported; pairs sharing
    no neuron get "no tracked cell in both sessions") to the returned tuple; nothing is warned here.
    """
    n_sessions = len(stats)
    if weights is None:
        weights = session_bootstrap_weights([s.neurons for s in stats], n_boot, random_state)
    bootstrapping = weights[0] is not None
    value = np.full((n_sessions, n_sessions), np.nan)
    replicates = np.full((weights[0].shape[0], n_sessions, n_sessions), np.nan) if bootstrapping else None
    reasons = np.full((n_sessions, n_sessions), "", dtype=object)
    unshared = []
    for a in range(n_sessions):
        for b in range(a, n_sessions):
            names = f"sessions {stats[a].session_id!r}, {stats[b].session_id!r}"
            shared, ia, ib = np.intersect1d(stats[a].neurons, stats[b].neurons, return_indices=True)
            if shared.size == 0:
                if a != b:
                    unshared.append((stats[a].session_id, stats[b].session_id))
                reasons[a, b] = reasons[b, a] = f"{names}: no tracked cell in both sessions"
                continue
            if shared.size < MIN_NEURONS:
                reasons[a, b] = reasons[b, a] = (f"{names}: too few tracked cells in both sessions (found "
                                                 f"{shared.size}, need {MIN_NEURONS})")
                continue
            ma, va = stats[a].means[:, ia], stats[a].sem2[:, ia]
            mb, vb = stats[b].means[:, ib], stats[b].sem2[:, ib]
            self_a = np.sum(ma * ma - va, axis=0)
            self_b = np.sum(mb * mb - vb, axis=0)
            cross = self_a if a == b else np.sum(ma * mb, axis=0)
            reason = _overlap_reason(cross, self_a, self_b, names)
            reasons[a, b] = reasons[b, a] = reason
            if reason:
                continue
            value[a, b] = value[b, a] = _overlap(cross.sum(), self_a.sum(), self_b.sum())
            if bootstrapping:
                w = weights[a][:, ia].astype(float)  # same ids -> same weights in both sessions
                reps = recentre_replicates(value[a, b], _overlap(w @ cross, w @ self_a, w @ self_b))
                replicates[:, a, b] = replicates[:, b, a] = reps
    if unshared and strict:
        raise InsufficientDataError(
            f"code_overlap: expected tracked neurons (shared neuron ids) in every pair of sessions, "
            f"found none shared between {unshared[:5]}"
        )
    any_tracked = len(unshared) < n_sessions * (n_sessions - 1) // 2
    if with_reasons:
        return value, replicates, any_tracked, reasons
    return value, replicates, any_tracked


def _overlap_reason(cross, self_a, self_b, names):
    """"" if both self traces over the shared neurons are resolved from noise and the overlap is in range."""
    for trace in (self_a, self_b):
        total, n = trace.sum(), trace.size
        se = float(np.sqrt(n / (n - 1.0) * np.sum((trace - trace.mean()) ** 2)))
        if not total > DENOMINATOR_Z * se:
            return (f"{names}: denominator not resolved from noise: trial-noise-corrected trace {total:.3g} "
                    f"over the shared neurons is not above {DENOMINATOR_Z:g} SE (SE {se:.3g})")
    A, B, C = self_a.sum(), self_b.sum(), cross.sum()
    root = np.sqrt(A * B)
    q = C / root
    influence = cross / root - q * self_a / (2.0 * A) - q * self_b / (2.0 * B)
    se = influence_se(influence)
    if q > 1.0 + RANGE_Z * se or q < -1.0 - RANGE_Z * se:
        return (f"{names}: denominator not resolved from noise: code overlap estimate {q:.3g} lies outside "
                f"[-1, 1] by more than {RANGE_Z:g} SE (SE {se:.3g})")
    return ""


def _overlap(cross, self_a, self_b):
    self_a, self_b = np.asarray(self_a, float), np.asarray(self_b, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((self_a > 0) & (self_b > 0), cross / np.sqrt(np.abs(self_a * self_b)), np.nan)


def _kernel(stats, unbiased):
    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons


def _session_statistics(recordings, by, estimator) -> list[ConditionStatistics]:
    items = as_recording_dict(recordings)
    stats = [condition_statistics(rec, by, min_trials=2 if estimator == "unbiased" else 1) for rec in items.values()]
    stats = [_with_id(s, key) for s, key in zip(stats, items)]
    common = common_conditions(stats)
    return [s.select_conditions(common) for s in stats]


def _with_id(stats, key):
    from dataclasses import replace

    return replace(stats, session_id=str(key))


def as_recording_dict(recordings) -> dict[str, xr.DataArray]:
    """Sessions keyed by id from a DataTree, a mapping, a sequence of DataArrays or one DataArray."""
    if isinstance(recordings, xr.DataTree):
        return session_recordings(recordings)
    if isinstance(recordings, xr.DataArray):
        return {str(recordings.attrs.get("session_id", "session-0")): recordings}
    if isinstance(recordings, Mapping):
        return {str(k): v for k, v in recordings.items()}
    if isinstance(recordings, Sequence) and not isinstance(recordings, str):
        out = {}
        for k, rec in enumerate(recordings):
            key = str(getattr(rec, "attrs", {}).get("session_id", f"session-{k}"))
            if key in out:
                key = f"{key}-{k}"
            out[key] = rec
        if not out:
            raise DataError("expected at least one recording, found an empty sequence")
        return out
    raise DataError(f"expected a DataTree, mapping or sequence of recordings, found {type(recordings).__name__}")


def _pairwise_dataset(name, value, replicates, stats, level, n_boot, reasons, **attrs):
    ids = [s.session_id for s in stats]
    se = np.full_like(value, np.nan)
    ci = np.full(value.shape + (2,), np.nan)
    if replicates is not None:
        for a in range(len(ids)):
            for b in range(len(ids)):
                if a == b and np.isfinite(value[a, b]):  # 1 by definition
                    se[a, b], ci[a, b] = 0.0, (value[a, b], value[a, b])
                elif np.isfinite(value[a, b]):
                    se[a, b], ci[a, b] = bootstrap_interval(value[a, b], replicates[:, a, b], level)
    dims = (SESSION, SESSION_OTHER)
    ds = xr.Dataset(
        {
            name: (dims, value),
            se_name(name): (dims, se),
            ci_name(name): (dims + (CI_BOUND,), ci, {"level": level}),
            flag_name(name): (dims, np.asarray(reasons, dtype=str)),
        },
        coords={SESSION: ids, SESSION_OTHER: ids, CI_BOUND: ["lower", "upper"]},
    )
    ds.attrs.update(n_boot=int(n_boot), bootstrap="neurons (Poisson weights by id, linearised)", **attrs)
    return ds


def _session_dataset(name, value, replicates, stats, level, n_boot, reasons):
    ids = [s.session_id for s in stats]
    se = np.full(len(ids), np.nan)
    ci = np.full((len(ids), 2), np.nan)
    if replicates is not None:
        for a in range(len(ids)):
            if np.isfinite(value[a]):
                se[a], ci[a] = bootstrap_interval(value[a], replicates[:, a], level)
    return xr.Dataset(
        {name: (SESSION, value), se_name(name): (SESSION, se),
         ci_name(name): ((SESSION, CI_BOUND), ci, {"level": level}),
         flag_name(name): (SESSION, np.asarray(reasons, dtype=str))},
        coords={SESSION: ids, CI_BOUND: ["lower", "upper"]},
        attrs={"n_boot": int(n_boot)},
    )


def _two_arrays(X, Y):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise DataError(f"cka: expected two 2-d arrays with the same number of rows (samples), found {X.shape}, {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError("cka: expected finite values, found NaN/inf")
    return X, Y


def _check_estimator(estimator):
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: expected one of {list(ESTIMATORS)}, found {estimator!r}")
