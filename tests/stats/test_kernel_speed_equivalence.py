"""The matrix-product paths of the kernel statistics (issue 11 item 1) equal straightforward reference
implementations (the loops they replaced, kept here verbatim in spirit): exact sums to <= 1e-10 relative,
bootstrap replicates equal at a fixed seed."""

import numpy as np
import pytest

from neurolearn.stats import dimensionality
from neurolearn.stats.dimensionality import _shown_condition_pieces, _weighted_pieces

RTOL = 1e-10


def _reference_weighted_pieces(per_neuron, V, weights):
    """One weighted double-centred kernel Σ_i w_i H K_i H per replicate, and its squared norm."""
    t, own, c = per_neuron
    n_cond = c.shape[0]
    square = (weights @ t) ** 2 - (weights * weights) @ (t * t)
    norm = np.empty(weights.shape[0])
    H = np.eye(n_cond) - 1.0 / n_cond
    for b, w in enumerate(weights):
        S = (c * w) @ c.T - H @ np.diag(V @ w) @ H
        norm[b] = np.sum(S * S) - (w * w) @ own
    return square, norm


def _session(rng, n_cond, n_neurons, signal=1.0):
    means = signal * rng.standard_normal((n_cond, 3)) @ rng.standard_normal((3, n_neurons))
    means += rng.standard_normal((n_cond, n_neurons))
    return means, 0.25 * rng.random((n_cond, n_neurons))


@pytest.mark.parametrize("n_cond, n_neurons", [(6, 40), (30, 25), (12, 700)])
@pytest.mark.parametrize("method", [None, "kernel", "pairs"])
def test_weighted_pieces_equal_the_per_replicate_kernels(n_cond, n_neurons, method, monkeypatch):
    rng = np.random.default_rng(n_cond * 1000 + n_neurons)
    M, V = _session(rng, n_cond, n_neurons)
    monkeypatch.setattr(dimensionality, "_BLOCK_BYTES", 8 * 4 * max(n_cond * (n_cond + 1) // 2, n_neurons))
    per_neuron = _shown_condition_pieces(M, V)[2]
    weights = rng.poisson(1.0, size=(17, n_neurons)).astype(float)
    square, norm = _weighted_pieces(per_neuron, V, weights, method=method)
    ref_square, ref_norm = _reference_weighted_pieces(per_neuron, V, weights)
    np.testing.assert_allclose(square, ref_square, rtol=RTOL)
    np.testing.assert_allclose(norm, ref_norm, rtol=RTOL, atol=RTOL * np.abs(ref_norm).max())


def _reference_spectral(stats, weights, n_modes=10, estimator="unbiased"):
    """Per-replicate Rayleigh-Ritz loop (the implementation before the batched product)."""
    from neurolearn.stats.kernels import recentre_replicates, target_matrix
    from neurolearn.stats.spectral import _eigh_desc, _kernel, n_trustworthy_modes

    n_cond = stats.n_conditions
    H = np.eye(n_cond) - np.ones((n_cond, n_cond)) / n_cond
    labels = H @ target_matrix(stats.target)  # the centred target and kernel (S3-10)
    k_power = int(min(n_modes, n_cond - 1))
    n_trust = n_trustworthy_modes(stats)
    eigenvalues, vectors = _eigh_desc(H @ _kernel(stats, estimator) @ H / n_cond)
    # H K H has the all-ones direction as a null mode: keep the P - 1 modes orthogonal to it
    contrast = np.abs(vectors.T @ np.ones(n_cond)) < 1e-8 * np.sqrt(n_cond)
    eigenvalues, vectors = eigenvalues[contrast], vectors[:, contrast]
    label_norm = float(np.sum(labels * labels))
    power = np.sum((vectors.T @ labels) ** 2, axis=1)
    # the exponent is the participation-matched one (adversary S6-2): the participation ratio's own estimate and
    # replicates through exponent_from_participation, not a fit of these eigenvalues
    from dataclasses import replace

    from neurolearn.stats.dimensionality import participation_with_replicates
    from neurolearn.stats.spectral import exponent_from_participation

    pr, pr_replicates = participation_with_replicates(stats, unbiased=estimator == "unbiased", weights=weights)
    values = np.array([power[:k_power].sum() / label_norm, exponent_from_participation(pr, n_cond - 1)])
    n_ritz = int(min(n_cond - 1, max(k_power, n_trust) + 10))
    basis = vectors[:, :n_ritz]
    projected = basis.T @ stats.means
    noise = stats.sem2 if estimator == "unbiased" else np.zeros_like(stats.sem2)
    label_proj = basis.T @ labels
    replicates = np.empty((weights.shape[0], 2))
    noise_weighted = weights @ noise.T
    for b, w in enumerate(weights):
        small = (projected * w) @ projected.T
        if estimator == "unbiased":
            small -= basis.T @ (basis * noise_weighted[b][:, None])
        eta, u = _eigh_desc(small / (stats.n_neurons * n_cond))
        rep_power = np.sum((u.T @ label_proj) ** 2, axis=1)
        replicates[b, 0] = rep_power[:k_power].sum() / label_norm
    replicates[:, 1] = exponent_from_participation(pr_replicates, n_cond - 1)
    replicates = np.where(np.isfinite(values)[None], recentre_replicates(values, replicates, axis=0), np.nan)
    # spectral_power's spread raised to its leave-one-neuron-out jackknife SE: each neuron dropped, the kernel
    # rebuilt and re-diagonalised densely
    loo = np.empty(stats.n_neurons)
    for i in range(stats.n_neurons):
        keep = np.arange(stats.n_neurons) != i
        rest = replace(stats, means=stats.means[:, keep], sem2=stats.sem2[:, keep], neurons=stats.neurons[keep])
        eta_i, vec_i = _eigh_desc(H @ _kernel(rest, estimator) @ H)
        vec_i = vec_i[:, np.abs(vec_i.T @ np.ones(n_cond)) < 1e-8 * np.sqrt(n_cond)]
        loo[i] = np.sum((vec_i.T @ labels)[:k_power] ** 2) / label_norm
    jackknife_se = np.sqrt((stats.n_neurons - 1) / stats.n_neurons * np.sum((loo - loo.mean()) ** 2))
    spread = np.std(replicates[:, 0], ddof=1)
    if jackknife_se > spread > 0:
        replicates[:, 0] = np.clip(values[0] + jackknife_se / spread * (replicates[:, 0] - values[0]), 0.0, 1.0)
    return values, replicates


def _statistics(rng, n_cond, n_neurons, neurons=None, session_id="s"):
    from neurolearn.stats.kernels import ConditionStatistics

    means, sem2 = _session(rng, n_cond, n_neurons)
    target = np.tile([1.0, -1.0], n_cond // 2 + 1)[:n_cond]
    means[:, : n_neurons // 2] += np.outer(target, rng.standard_normal(n_neurons // 2))
    neurons = np.arange(n_neurons) if neurons is None else np.asarray(neurons)
    return ConditionStatistics(means, sem2, np.full(n_cond, 4), np.arange(n_cond), neurons, target, session_id)


@pytest.mark.parametrize("n_cond, n_neurons", [(8, 60), (40, 900)])
@pytest.mark.parametrize("estimator", ["unbiased", "plugin"])
def test_spectral_replicates_equal_the_per_replicate_loop(n_cond, n_neurons, estimator, monkeypatch):
    from neurolearn.stats import spectral

    rng = np.random.default_rng(n_cond + n_neurons)
    stats = _statistics(rng, n_cond, n_neurons)
    monkeypatch.setattr(spectral, "_BLOCK_BYTES", 8 * 100 * n_cond * (n_cond + 1) // 2)  # several blocks
    weights = rng.poisson(1.0, size=(31, n_neurons)).astype(np.uint8)
    values, replicates, _ = spectral.spectral_with_replicates(stats, estimator=estimator, weights=weights)
    ref_values, ref_replicates = _reference_spectral(stats, weights.astype(float), estimator=estimator)
    np.testing.assert_allclose(values, ref_values, rtol=RTOL)
    np.testing.assert_allclose(replicates, ref_replicates, rtol=RTOL, atol=1e-12)


# ------------------------------------------------------------------ single-session statistics: the dense forms


def _reference_self_inner(stats, left, right, unbiased=True):
    """‖LΦR‖² U-statistic with the dense per-neuron product (L Φ R)ᵀ M (P² N work)."""
    from neurolearn.stats.kernel_terms import centre_kernel, per_neuron_linear, per_neuron_pair_trace

    n = stats.n_neurons
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    kernel = stats.means @ stats.means.T
    kernel[np.diag_indices_from(kernel)] -= sem2.sum(axis=1)
    kernel /= n
    centred = centre_kernel(kernel, left, right)
    total = float(np.sum(centred * centred))
    row = per_neuron_linear(stats.means, sem2, centred.T)
    if not unbiased:
        return total, 2.0 * (row - total) / n
    own = per_neuron_pair_trace(stats.means, sem2, stats.means, sem2, left, right)
    value = (n * n * total - own.sum()) / (n * (n - 1))
    return float(value), 2.0 * (n * row - own - (n - 1) * value) / (n * (n - 1))


def _reference_alignment(stats, left, right, unbiased, weights):
    from neurolearn.stats import alignment as al
    from neurolearn.stats.kernels import (centre_kernel, jackknife_bias, leave_one_out, linear_estimate,
                                          normal_score_replicates, replicate, target_matrix)
    from neurolearn.stats.neuron_resampling import jackknife_spread, t_spread

    labels = target_matrix(stats.target)
    task = centre_kernel(labels @ labels.T, left, right)
    task_norm = np.linalg.norm(task)
    numerator, numerator_influence = linear_estimate(stats, task, unbiased=unbiased)
    squared_norm, norm_influence = _reference_self_inner(stats, left, right, unbiased)

    def ratio(num, squared):
        return al._ratio(num, squared, task_norm)

    bias, spread = 0.0, None
    if unbiased:
        loo = {0: leave_one_out(numerator, numerator_influence, 1),
               1: leave_one_out(squared_norm, norm_influence, 2)}
        bias = jackknife_bias(ratio, (numerator, squared_norm), [loo])
        # the replicates' SD: the jackknife SE of the ratio with its Student factor (neuron_resampling)
        spread = t_spread(*jackknife_spread(ratio(loo[0], loo[1])))
    estimate = ratio(numerator, squared_norm) - bias
    replicates = ratio(replicate(numerator, weights, numerator_influence),
                       replicate(squared_norm, weights, norm_influence))
    expected_task = labels @ labels.T
    p = expected_task.shape[0]
    d = np.trace(expected_task) / p
    c = (expected_task.sum() - np.trace(expected_task)) / (p * (p - 1))
    expected = (d - c) * np.eye(p) + c * np.ones((p, p))
    chance_num, _ = linear_estimate(stats, centre_kernel(expected, left, right), unbiased=unbiased)
    chance = al._ratio(chance_num, squared_norm, task_norm)
    return estimate, normal_score_replicates(estimate, replicates, spread=spread), chance


def _reference_difficulty(stats, ridge, unbiased, weights):
    from neurolearn.stats.kernels import linear_estimate, recentre_replicates, replicate, target_matrix

    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    kernel = kernel / stats.n_neurons
    p = kernel.shape[0]
    H = np.eye(p) - np.ones((p, p)) / p
    labels = H @ target_matrix(stats.target)  # the centred target and kernel (S3-10)
    kernel = H @ kernel @ H
    scale = np.trace(kernel) / (p - 1)
    _, scale_influence = linear_estimate(stats, H / (p - 1), unbiased=unbiased)
    if unbiased:
        eigenvalues, vectors = np.linalg.eigh((kernel + kernel.T) / 2.0)
        # the PSD projection over the contrasts; the all-ones null mode stays 0 and y has no part along it
        kernel = (vectors * np.clip(eigenvalues, 0.0, None)) @ vectors.T
    label_norm = float(np.sum(labels * labels))
    solved = np.linalg.solve(kernel / scale + ridge * np.eye(p), labels)
    value = float(np.sum(labels * solved) / label_norm)
    quad, quad_influence = linear_estimate(stats, solved @ solved.T, unbiased=unbiased)
    influence = (-quad_influence / scale + quad * scale_influence / scale**2) / label_norm
    return value, recentre_replicates(value, replicate(value, weights, influence))


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("variant", [(True, True), (False, False), (False, True)])
def test_alignment_difficulty_and_participation_equal_their_dense_forms(shared, unbiased, variant):
    from contextlib import nullcontext

    from neurolearn.stats.alignment import alignment_chance, alignment_with_replicates, difficulty_with_replicates
    from neurolearn.stats.dimensionality import participation_with_replicates
    from neurolearn.stats.kernel_terms import self_inner_estimate, shared_products

    rng = np.random.default_rng(7)
    stats = _statistics(rng, 24, 300)
    stats = type(stats)(stats.means + 3.0, *[getattr(stats, f) for f in ("sem2", "n_trials", "conditions",
                                                                        "neurons", "target", "session_id")])
    weights = rng.poisson(1.0, size=(25, 300)).astype(np.uint8)
    left, right = variant
    with shared_products() if shared else nullcontext():
        value, replicates = alignment_with_replicates(stats, left=left, right=right, unbiased=unbiased,
                                                      weights=weights)
        chance = alignment_chance(stats, left=left, right=right, unbiased=unbiased)
        difficulty, difficulty_reps = difficulty_with_replicates(stats, ridge=0.1, unbiased=unbiased,
                                                                 weights=weights)
        pr, pr_reps = participation_with_replicates(stats, unbiased=True, weights=weights)
        inner = self_inner_estimate(stats, left, right, unbiased=unbiased)
    ref_inner = _reference_self_inner(stats, left, right, unbiased)
    np.testing.assert_allclose(inner[0], ref_inner[0], rtol=RTOL)
    np.testing.assert_allclose(inner[1], ref_inner[1], rtol=RTOL, atol=RTOL * np.abs(ref_inner[1]).max())
    ref_value, ref_replicates, ref_chance = _reference_alignment(stats, left, right, unbiased,
                                                                 weights.astype(float))
    np.testing.assert_allclose([value, chance], [ref_value, ref_chance], rtol=RTOL)
    np.testing.assert_allclose(replicates, ref_replicates, rtol=RTOL)
    ref_difficulty, ref_difficulty_reps = _reference_difficulty(stats, 0.1, unbiased, weights.astype(float))
    np.testing.assert_allclose(difficulty, ref_difficulty, rtol=RTOL)
    np.testing.assert_allclose(difficulty_reps, ref_difficulty_reps, rtol=RTOL)
    # participation ratio: the dense Σ_i H K_i H path (no shared products) is the reference
    pieces = dimensionality._shown_condition_pieces(stats.means, stats.sem2)
    fast = dimensionality._shown_condition_pieces(stats.means, stats.sem2, gram=stats.means @ stats.means.T,
                                                  product=stats.means @ stats.means.T @ stats.means)
    for (v_ref, i_ref), (v, i) in zip(pieces[:2], fast[:2]):
        np.testing.assert_allclose(v, v_ref, rtol=RTOL)
        np.testing.assert_allclose(i, i_ref, rtol=RTOL, atol=RTOL * np.abs(i_ref).max())
    assert np.isfinite(pr) and pr_reps.shape == (25,)


def test_batched_powerlaw_exponents_equal_the_polyfit_per_row():
    from neurolearn.stats.spectral import _powerlaw_rows, powerlaw_exponent

    rng = np.random.default_rng(3)
    rows = np.sort(np.arange(1, 31) ** -1.3 * np.exp(0.2 * rng.standard_normal((50, 30))) - 0.01, axis=1)[:, ::-1]
    rows[0, 2:] = -1.0  # fewer than 3 positive eigenvalues: NaN
    for n_modes in (5, 12, 30):
        expected = [powerlaw_exponent(row, n_modes) for row in rows]
        np.testing.assert_allclose(_powerlaw_rows(rows, n_modes), expected, rtol=RTOL)


# ------------------------------------------------------------------ pairwise terms: the per-pair loops


def _reference_shared_corrections(stats, centrings, unbiased):
    from neurolearn.errors import DataError
    from neurolearn.stats.kernel_terms import per_neuron_pair_trace

    out = {}
    for centred in centrings:
        out[centred] = {}
        for a in range(len(stats)):
            for b in range(a + 1, len(stats)):
                sa, sb = stats[a], stats[b]
                if not unbiased:
                    out[centred][(a, b)] = (0.0, 0, None, None, None)
                    continue
                ids, ia, ib = np.intersect1d(sa.neurons, sb.neurons, return_indices=True)
                if ids.size == sa.n_neurons * sb.n_neurons:
                    raise DataError("need at least 2 neurons")
                own = per_neuron_pair_trace(sa.means[:, ia], sa.sem2[:, ia], sb.means[:, ib], sb.sem2[:, ib],
                                            centred, centred) if ids.size else np.empty(0)
                out[centred][(a, b)] = (float(own.sum()), int(ids.size), own, ia, ib)
    return out


def _reference_cross_influences(job):
    from neurolearn.stats.kernel_terms import centre_kernel

    a, sa, weights, kernels, pairs_row, unbiased, per_centring = job
    n_sessions, n_cond, _ = kernels.shape
    noise = sa.sem2 if unbiased else np.zeros_like(sa.sem2)
    out = {}
    for centring, (cross_row, shared) in per_centring.items():
        linear = np.empty((n_sessions, sa.n_neurons))
        for b in range(n_sessions):
            kernel = centre_kernel(kernels[b], centring, centring)
            linear[b] = np.einsum("pn,pn->n", kernel @ sa.means, sa.means) - np.diag(kernel) @ noise
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


def _pairwise_sessions(rng, n_cond=10):
    """Five sessions: three with the same ids, one sharing half of them, one with none of them."""
    ids = [np.arange(40)] * 3 + [np.arange(20, 60), np.arange(100, 130)]
    return [_statistics(rng, n_cond, ids_k.size, neurons=ids_k, session_id=f"d{k}") for k, ids_k in enumerate(ids)]


@pytest.mark.parametrize("outer", [False, True])
@pytest.mark.parametrize("unbiased", [True, False])
def test_pairwise_terms_equal_the_per_pair_loops(unbiased, outer, monkeypatch):
    from neurolearn.stats import kernel_pairs
    from neurolearn.stats.neuron_resampling import session_bootstrap_weights

    if outer:  # the per-neuron outer-product path, in several blocks of neurons
        monkeypatch.setattr(kernel_pairs, "_OUTER_MIN_SESSIONS", 2)
        monkeypatch.setattr(kernel_pairs, "_OUTER_BYTES", 8 * 55 * 7)
    rng = np.random.default_rng(11)
    stats = _pairwise_sessions(rng)
    weights = session_bootstrap_weights([s.neurons for s in stats], 23, random_state=5)
    fast = kernel_pairs.pairwise_kernel_terms(stats, centred=(True, False), unbiased=unbiased, weights=weights)
    monkeypatch.setattr(kernel_pairs, "_shared_corrections", _reference_shared_corrections)
    monkeypatch.setattr(kernel_pairs, "_cross_influences", _reference_cross_influences)
    reference = kernel_pairs.pairwise_kernel_terms(stats, centred=(True, False), unbiased=unbiased,
                                                   weights=weights)
    for centring in (True, False):
        got, want = fast[centring], reference[centring]
        for key in ("self", "cross", "self_boot", "cross_boot"):
            np.testing.assert_allclose(got[key], want[key], rtol=RTOL, err_msg=key)
        for key in ("self_influence", "cross_influence"):
            for g, w in zip(got[key], want[key]):
                np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * np.abs(w).max(), err_msg=key)


def test_same_id_matrix_groups_equal_sorted_id_arrays():
    from neurolearn.stats.kernel_pairs import same_id_matrix

    same = same_id_matrix([np.arange(4), np.arange(4), np.arange(1, 5), np.array([1, 0, 2, 3]), np.array([1, 0, 2, 3])])
    assert same.tolist() == [[True, True, False, False, False], [True, True, False, False, False],
                             [False, False, True, False, False], [False, False, False, True, False],
                             [False, False, False, False, True]]


def test_similarity_change_and_overlap_equal_the_set_bookkeeping_path(monkeypatch):
    """Sessions with the same ids skip union/intersection/positions; the general path gives the same."""
    from neurolearn.stats import kernel_pairs, overlap_ratios, similarity_ratios
    from neurolearn.stats.neuron_resampling import session_bootstrap_weights

    rng = np.random.default_rng(12)
    stats = _pairwise_sessions(rng)
    weights = session_bootstrap_weights([s.neurons for s in stats], 19, random_state=2)

    def run():
        terms = kernel_pairs.pairwise_kernel_terms(stats, centred=(True, False), unbiased=True, weights=weights)
        return (similarity_ratios.similarity_from_terms(terms[True], with_reasons=True)[:2]
                + similarity_ratios.change_from_terms(terms[False], 0, with_reasons=True)[:2]
                + overlap_ratios.overlap_from_statistics(stats, weights=weights, strict=False)[:2])

    fast = run()
    never = lambda neuron_lists: np.zeros((len(neuron_lists),) * 2, dtype=bool)  # noqa: E731
    monkeypatch.setattr(overlap_ratios, "same_id_matrix", never)
    monkeypatch.setattr(kernel_pairs, "same_id_matrix", never)
    reference = run()
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-14)
    assert np.isfinite(fast[0][0, 1]) and np.isfinite(fast[4][0, 1])  # the tracked pairs are supported


def test_agreement_matrix_equals_entry_by_entry_calls():
    from dataclasses import replace

    from neurolearn.stats.target_agreement import agreement_matrix, agreement_with_replicates

    rng = np.random.default_rng(4)
    base = _statistics(rng, 8, 60)
    targets = [base.target, base.target, -base.target, np.array([1.0, 1.0, -1.0, -1.0] * 2), base.target]
    stats = [replace(_statistics(rng, 8, 60, session_id=f"s{k}"), target=y) for k, y in enumerate(targets)]
    weights = [rng.poisson(1.0, size=(13, 60)).astype(np.uint8) for _ in stats]
    values, replicates, reasons = agreement_matrix(stats, weights=weights)
    for s, own in enumerate(stats):
        for t, other in enumerate(stats):
            value, reps = agreement_with_replicates(own, other.target, weights=weights[s])
            assert reasons[s, t] == ""
            np.testing.assert_allclose(values[s, t], value, rtol=RTOL)
            np.testing.assert_allclose(replicates[:, s, t], reps, rtol=RTOL)


def test_same_neuron_corrections_in_partner_chunks_equal_one_pass(monkeypatch):
    from neurolearn.stats import kernel_pairs

    rng = np.random.default_rng(9)
    stats = [_statistics(rng, 6, 30, session_id=f"d{k}") for k in range(5)]
    whole = kernel_pairs._shared_corrections(stats, (True, False), True)
    monkeypatch.setattr(kernel_pairs, "_STACK_BYTES", 8 * 6 * 30 * 2)  # two partners per pass
    chunked = kernel_pairs._shared_corrections(stats, (True, False), True)
    for centring in (True, False):
        for key, entry in whole[centring].items():
            np.testing.assert_allclose(chunked[centring][key][2], entry[2], rtol=RTOL)


def test_condition_statistics_of_grouped_and_shuffled_trials_agree():
    import xarray as xr

    from neurolearn.stats.kernels import condition_statistics

    rng = np.random.default_rng(1)
    values = rng.poisson(3.0, size=(24, 7)).astype(float)
    labels = np.repeat(np.arange(6), 4)
    grouped = xr.DataArray(values, dims=("trial", "neuron"), coords={"stimulus": ("trial", labels)})
    order = rng.permutation(24)
    shuffled = grouped.isel(trial=order)
    a, b = condition_statistics(grouped), condition_statistics(shuffled)
    np.testing.assert_allclose(a.means, b.means, rtol=1e-12)
    np.testing.assert_allclose(a.sem2, b.sem2, rtol=1e-12)
    np.testing.assert_allclose(a.means, values.reshape(6, 4, 7).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(a.sem2, values.reshape(6, 4, 7).var(axis=1, ddof=1) / 4, rtol=1e-10)


def test_condition_statistics_still_refuses_non_finite_responses_and_mixed_targets():
    import xarray as xr

    from neurolearn.errors import DataError
    from neurolearn.stats.kernels import condition_statistics

    values = np.arange(24.0).reshape(8, 3)
    coords = {"stimulus": ("trial", np.repeat(np.arange(4), 2)), "target": ("trial", np.repeat([1, 1, -1, -1], 2))}
    rec = xr.DataArray(values, dims=("trial", "neuron"), coords=coords)
    assert condition_statistics(rec, target="target").target.tolist() == [1, 1, -1, -1]
    for bad in (np.nan, np.inf):
        broken = rec.copy(data=values.copy())
        broken.values[3, 1] = bad
        with pytest.raises(DataError, match="found 1 NaN/inf values"):
            condition_statistics(broken)
    mixed = rec.assign_coords(target=("trial", [1, -1, 1, 1, -1, -1, -1, -1]))
    with pytest.raises(DataError, match=r"expected a single 'target' value per condition, found \[-1, 1\] in condition 0"):
        condition_statistics(mixed, target="target")


@pytest.mark.parametrize("chunk", [False, True])
def test_code_overlap_over_same_cells_equals_the_pair_loop(chunk, monkeypatch):
    from dataclasses import replace

    from neurolearn.stats import overlap_ratios
    from neurolearn.stats.neuron_resampling import session_bootstrap_weights

    rng = np.random.default_rng(21)
    stats = [_statistics(rng, 8, 50, session_id=f"d{k}") for k in range(5)]
    noise_only = rng.standard_normal((8, 50)) * 0.05  # no structure: its trace is not resolved
    stats[2] = replace(stats[2], means=noise_only, sem2=np.full((8, 50), 0.01))
    weights = session_bootstrap_weights([s.neurons for s in stats], 17, random_state=3)
    if chunk:
        monkeypatch.setattr(overlap_ratios, "_STACK_BYTES", 8 * 8 * 50 * 2)
    fast = overlap_ratios.overlap_from_statistics(stats, weights=weights, strict=False, with_reasons=True)
    monkeypatch.setattr(overlap_ratios, "same_id_matrix",
                        lambda lists: np.zeros((len(lists),) * 2, dtype=bool))
    loop = overlap_ratios.overlap_from_statistics(stats, weights=weights, strict=False, with_reasons=True)
    np.testing.assert_allclose(fast[0], loop[0], rtol=RTOL)
    np.testing.assert_allclose(fast[1], loop[1], rtol=RTOL, atol=1e-14)
    assert fast[3].tolist() == loop[3].tolist()
    assert "not resolved" in fast[3][0, 2] and np.isfinite(fast[0][0, 1]) and np.isfinite(fast[1][:, 0, 1]).all()


def test_same_neuron_corrections_of_a_session_group_equal_the_partner_passes(monkeypatch):
    from neurolearn.stats import kernel_pairs

    rng = np.random.default_rng(13)
    stats = [_statistics(rng, 6, 30, session_id=f"d{k}") for k in range(4)]
    stats += [_statistics(rng, 6, 20, neurons=np.arange(10, 30), session_id="other")]
    partner = kernel_pairs._shared_corrections(stats, (True, False), True)
    monkeypatch.setattr(kernel_pairs, "_GROUP_MIN_SESSIONS", 3)
    monkeypatch.setattr(kernel_pairs, "_GROUP_BYTES", 8 * 4 * 6 * 7)  # several blocks of neurons
    grouped = kernel_pairs._shared_corrections(stats, (True, False), True)
    for centring in (True, False):
        assert set(grouped[centring]) == set(partner[centring])
        for key, entry in partner[centring].items():
            got = grouped[centring][key]
            np.testing.assert_allclose(got[2], entry[2], rtol=RTOL, atol=RTOL * np.abs(entry[2]).max())
            np.testing.assert_allclose(got[0], entry[0], rtol=RTOL)
            assert got[1] == entry[1]


def test_pairwise_terms_of_a_single_session():
    from neurolearn.stats.kernel_pairs import pairwise_kernel_terms
    from neurolearn.stats.kernel_terms import self_inner_estimate

    stats = [_statistics(np.random.default_rng(2), 8, 40)]
    terms = pairwise_kernel_terms(stats, centred=True, unbiased=True, n_boot=5, random_state=0)
    assert terms["cross_boot"].shape == (5, 1, 1) and np.isnan(terms["cross"][0, 0])
    np.testing.assert_allclose(terms["self"][0], self_inner_estimate(stats[0], True, True)[0], rtol=RTOL)
