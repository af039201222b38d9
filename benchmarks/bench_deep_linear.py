"""deep-linear: recovery coverage of the joint two-area fit over simulated replicates, and its timings.

Each replicate simulates a two-hidden-layer network (gamma0 = 1.5, 1000 units a layer, 300 recorded per area,
8 sessions 0.15 apart, d_eff = 4), summarises both areas (summarize_areas, 100 bootstrap replicates), fits
them jointly (nl.fit with areas V1 -> 1, LM -> 2; d_eff, onset, time_scale fixed by the design) and counts
whether the 95% profile intervals of gamma0 and decision_noise hold the truth.

Run from the project root: ``python benchmarks/bench_deep_linear.py [n_replicates [n_hidden]]``.
"""

from __future__ import annotations

import sys
import time
import warnings

import neurolearn as nl
from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
from neurolearn.stats.areas import summarize_areas
from neurolearn.theory.deep_linear import DEEP_LINEAR

FIXED = {"onset": 0.0, "time_scale": 0.15, "d_eff": 4.0}
AREAS = {"V1": 1, "LM": 2}


def replicate(seed, n_hidden=1000):
    tree, truth = simulate_deep_linear_sessions(1.5, n_sessions=8, session_interval=0.15, n_neurons=300,
                                                n_hidden=n_hidden, n_conditions=8, input_dim=4, rng=1000 + seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize_areas(tree, n_boot=100, random_state=seed, readout=False, dynamics=False)
        start = time.perf_counter()
        result = nl.fit(stats, DEEP_LINEAR, areas=AREAS, fixed=FIXED, n_starts=2, random_state=seed)
    elapsed = time.perf_counter() - start
    hits = {name: bool(result.ci[name][0] <= truth.parameters[name] <= result.ci[name][1])
            for name in ("gamma0", "decision_noise")}
    return result, hits, elapsed


def main(n_replicates=12, n_hidden=1000):
    total, covered, times = 0, 0, []
    for seed in range(n_replicates):
        result, hits, elapsed = replicate(seed, n_hidden)
        total += len(hits)
        covered += sum(hits.values())
        times.append(elapsed)
        print(f"replicate {seed}: success {result.success}, gamma0 {result.params['gamma0']:.3f} {result.ci['gamma0']}, "
              f"decision_noise {result.params['decision_noise']:.3f}, chi2 {result.chi2:.1f}/{result.n_obs - result.n_params} "
              f"dof, fit {elapsed:.1f} s, {hits}", flush=True)
    print(f"{n_hidden} units a layer: coverage {covered}/{total} = {covered / total:.3f}; median fit time {sorted(times)[len(times) // 2]:.1f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
