"""kernel_change's halvings from one pass (neurolearn.stats.kernel_halvings) against the stored half kernels
of every halving (kernel_pairs.half_kernels, the definition), on both routes."""

import tracemalloc

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats import similarity_ratios
from neurolearn.stats.kernel_halvings import ROUTES, halved_change_products, halving_route_costs
from neurolearn.stats.kernel_pairs import half_kernels, id_halvings
from neurolearn.stats.kernels import ConditionStatistics
from neurolearn.stats.similarity import kernel_change
from neurolearn.stats.summary import summarize


def _session(means, ids, rng, noise=0.05, name="s"):
    return ConditionStatistics(means, noise * rng.random(means.shape), np.full(means.shape[0], 4),
                               np.arange(means.shape[0]), np.asarray(ids), None, name)


def _stored_products(stats, reference, targets, centred=False):
    """The definition: ⟨K̂_t^A - K̂_0^A, K̂_t^B - K̂_0^B⟩ from every halving's stored half kernels (each
    difference double-centred by an explicit H with ``centred``)."""
    halves = {k: half_kernels(stats[k], id_halvings(stats[k].neurons)) for k in [reference] + list(targets)}
    n_cond = stats[reference].n_conditions
    H = np.eye(n_cond) - np.ones((n_cond, n_cond)) / n_cond if centred else np.eye(n_cond)
    out = {}
    for t in targets:
        difference = H @ (halves[t] - halves[reference]) @ H
        out[t] = np.einsum("mpq,mpq->m", difference[:, 0], difference[:, 1])
    return out


def _sessions(kind, n_cond, n, rng):
    base = rng.standard_normal((n_cond, n))
    offset = 3.0 if kind == "baseline rates" else 0.0  # uncentred kernels dominated by the rates
    ids = {"same cells": np.arange(n), "baseline rates": np.arange(n), "fresh cells": np.arange(n, 2 * n),
           "some shared": np.arange(n // 2, n // 2 + n)}[kind]
    first = _session(base + offset + 0.3 * rng.standard_normal(base.shape), np.arange(n), rng, name="d0")
    later = [_session(base + offset + change * rng.standard_normal(base.shape), ids, rng, name=f"d{k}")
             for k, change in enumerate((0.3, 0.0, 1.0), start=1)]
    return [first] + later


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("route", ROUTES + (None,))
@pytest.mark.parametrize("kind, n_cond, n", [("same cells", 6, 40), ("same cells", 50, 120),
                                             ("baseline rates", 40, 400), ("fresh cells", 20, 300),
                                             ("some shared", 30, 90), ("same cells", 8, 5), ("same cells", 3, 30)])
def test_one_pass_agrees_with_the_stored_half_kernels(route, kind, n_cond, n, centred):
    rng = np.random.default_rng(n_cond * 1000 + n)
    stats = _sessions(kind, n_cond, n, rng)
    expected = _stored_products(stats, 0, [1, 2, 3], centred)
    found = halved_change_products(stats, 0, [1, 2, 3], [id_halvings(s.neurons) for s in stats], route=route,
                                   centred=centred)
    assert sorted(found) == [1, 2, 3]
    for t in (1, 2, 3):
        assert found[t].shape == (32,)
        np.testing.assert_array_equal(np.isnan(found[t]), np.isnan(expected[t]))
        finite = np.isfinite(expected[t])
        assert finite.any()
        np.testing.assert_allclose(found[t][finite], expected[t][finite], rtol=1e-10, atol=0)
    if n == 5:  # 5 cells: some halving leaves a half empty, NaN there as in the stored kernels
        assert np.isnan(expected[1]).any()


def test_kernel_change_and_summarize_equal_the_stored_half_kernels(monkeypatch):
    """The whole statistic (values and intervals; kernel_change and summarize) against the old computation
    from every halving's stored half kernels."""
    rng = np.random.default_rng(7)
    base = rng.standard_normal((60, 120)) + 2.0  # 60 conditions x 120 cells: the Gram route for d1-d3
    labels = np.repeat([1.0, -1.0], 30)
    recs = [make_recording(base + 0.4 * k * rng.standard_normal(base.shape), n_trials=4, noise_sd=1.0,
                           target=labels, session_id=f"d{k}", rng=rng) for k in range(4)]
    recs.append(make_recording(base[:, :100] + rng.standard_normal((60, 100)), n_trials=4, noise_sd=1.0,
                               target=labels, neuron_ids=np.arange(500, 600), session_id="fresh", rng=rng))
    stats = [_session(base, np.arange(120), rng), _session(base, np.arange(120), rng)]
    costs = halving_route_costs(stats, 0, [1], [id_halvings(s.neurons) for s in stats])
    assert costs["grams"] < costs["halves"]
    names = ["kernel_change", "kernel_change_se", "kernel_change_ci"]

    def both():
        summary = summarize(recs, behavior=None, n_boot=50, random_state=3, readout=False,
                            dynamics=False)
        return kernel_change(recs, n_boot=50, random_state=3)[names], summary[names]

    new = both()
    def stored(stats, reference, targets, halvings, centred=False):
        assert centred  # kernel_change is of the double-centred kernels (S3-7)
        return _stored_products(stats, reference, targets, centred)

    monkeypatch.setattr(similarity_ratios, "halved_change_products", stored)
    old = both()
    assert np.isfinite(new[0]["kernel_change"].values).all()  # the fresh session too (halves route)
    assert np.isfinite(new[1]["kernel_change"].values[:4]).all()
    for found, expected in zip(new, old):
        for name in names:
            np.testing.assert_allclose(found[name].values, expected[name].values, rtol=1e-10, atol=1e-14)


def test_routes_by_cost_and_memory():
    rng = np.random.default_rng(0)
    many_conditions = _sessions("same cells", 300, 600, rng)
    few_conditions = _sessions("same cells", 10, 2000, rng)
    halves = {k: [id_halvings(s.neurons) for s in stats] for k, stats in
              (("many", many_conditions), ("few", few_conditions))}
    costs = halving_route_costs(many_conditions, 0, [1, 2, 3], halves["many"])
    assert costs["grams"] < costs["halves"]  # N = 2P: the N x N Grams (2 P N² against 8 P² N)
    costs = halving_route_costs(few_conditions, 0, [1, 2, 3], halves["few"])
    assert costs["halves"] < costs["grams"]  # N = 200 P: the half kernels
    fresh = _sessions("fresh cells", 300, 600, rng)
    costs = halving_route_costs(fresh, 0, [1, 2, 3], [id_halvings(s.neurons) for s in fresh])
    assert costs["grams"] == costs["halves"]  # no session records the reference's cells: halves either way
    # stored half kernels of one session: 32 x 2 x 300 x 300 doubles = 46 MB; one pass holds a few kernels
    for route in ROUTES:
        tracemalloc.start()
        halved_change_products(many_conditions, 0, [1, 2, 3], halves["many"], route=route)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20 * 2**20, (route, peak)


def test_bad_route_and_halvings_are_refused():
    rng = np.random.default_rng(1)
    stats = _sessions("same cells", 5, 20, rng)
    halves = [id_halvings(s.neurons) for s in stats]
    with pytest.raises(DataError, match="route: expected one of"):
        halved_change_products(stats, 0, [1], halves, route="fast")
    with pytest.raises(DataError, match=r"expected shape \(M, 20\), found \(32, 19\)"):
        halved_change_products(stats, 0, [1], [halves[0], halves[1][:, 1:]])
    assert halved_change_products(stats, 0, [0], halves) == {}


@pytest.mark.parametrize("route", ROUTES)
def test_centred_products_do_not_see_baseline_rates(route):
    # adversary S3-7: each neuron's own constant, different on each day, moved the uncentred products (and the
    # kernel change built on them); the centred ones are unchanged
    rng = np.random.default_rng(9)
    stats = _sessions("same cells", 12, 80, rng)
    halvings = [id_halvings(s.neurons) for s in stats]
    shifted = [ConditionStatistics(s.means + rng.uniform(2.0, 30.0, s.n_neurons), s.sem2, s.n_trials, s.conditions,
                                   s.neurons, s.target, s.session_id) for s in stats]
    for centred, moves in ((True, False), (False, True)):
        base = halved_change_products(stats, 0, [1, 2, 3], halvings, route=route, centred=centred)
        moved = halved_change_products(shifted, 0, [1, 2, 3], halvings, route=route, centred=centred)
        same = all(np.allclose(moved[t], base[t], rtol=1e-9, atol=1e-9 * np.abs(base[t]).max()) for t in base)
        assert same != moves, (centred, route)
