"""The pairwise kernel terms' matrix-product paths (issue 11 item 1) equal the per-pair loops they replaced:
exact sums to <= 1e-10 relative (split from test_kernel_speed_equivalence.py, which covers the single-session
statistics)."""

import numpy as np
import pytest

from tests.stats.test_kernel_speed_equivalence import RTOL, _statistics

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
