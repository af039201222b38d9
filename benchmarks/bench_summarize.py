"""Cost of bootstrapping in ``summarize``: n_boot=1000 vs n_boot=0 on 20 sessions x 200 conditions x 5 trials
x 2,000 neurons (tracked across sessions), measured in the same run.

Target (issue 3): the n_boot=1000 call costs <= 10x the n_boot=0 call. Bootstraps reuse per-neuron influence
terms (one product of a (B, N) weight matrix with (N, k) influences per statistic) and re-diagonalise only
small Rayleigh-Ritz matrices for the spectral statistics, so the ratio should be far below 10.

Two measurements: the kernel statistics of neurolearn.stats (readout=False, dynamics=False) and, when
neurolearn.stats.readout is importable, the full call including the readout statistics.

Run:  .venv/bin/python benchmarks/bench_summarize.py [--sessions 20 --conditions 200 --trials 5 --neurons 2000]
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.summary import summarize


def make_tree(n_sessions, n_conditions, n_trials, n_neurons, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([1.0, -1.0], n_conditions // 2)
    base = rng.standard_normal((n_conditions, n_neurons))
    coding = rng.standard_normal(n_neurons)
    recs = []
    for day in range(n_sessions):
        means = base + 0.1 * day * np.outer(y, coding) + 0.3 * rng.standard_normal((n_conditions, n_neurons))
        recs.append(make_recording(means, n_trials=n_trials, noise_sd=1.0, target=y, behavior=0.5 + 0.02 * day,
                                   session_id=f"day{day:02d}", rng=rng))
    return make_session_tree(recs)


def timed(tree, n_boot, **options):
    start = time.perf_counter()
    summarize(tree, n_boot=n_boot, random_state=0, **options)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--conditions", type=int, default=200)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=2000)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    tree = make_tree(args.sessions, args.conditions, args.trials, args.neurons)
    print(f"{args.sessions} sessions x {args.conditions} conditions x {args.trials} trials x {args.neurons} neurons")
    runs = [("kernel statistics (this module)", dict(readout=False, dynamics=False))]
    if importlib.util.find_spec("neurolearn.stats.readout") is not None:
        runs.append(("full summarize (with readout)", dict(readout=True, dynamics=True)))
    else:
        print("neurolearn.stats.readout not present: full call not measured")
    for label, options in runs:
        timed(tree, 0, **options)  # warm-up: imports, BLAS initialisation
        base = timed(tree, 0, **options)
        boot = timed(tree, args.n_boot, **options)
        print(f"{label}: n_boot=0 {base:.2f} s, n_boot={args.n_boot} {boot:.2f} s, ratio {boot / base:.2f} "
              f"(target <= 10)")


if __name__ == "__main__":
    main()
