"""Cost of uncertainty in readout_summary: n_boot=1000 against n_boot=0, measured in the same run.

The issue asks that summarize with n_boot=1000 cost at most 10x the n_boot=0 call at 200 conditions x 5 trials
x 2,000 neurons per session. Readout statistics keep that ratio small by resampling held-out predictions
(accuracies, Fisher d') and capping the margin's SVM refits (n_refits), so the bootstrap does not refit a
classifier per resample. The permutation null (``n_permutations`` refits of the decoders and d' on the same
folds) is paid once whatever ``n_boot`` is, so it is in both calls; ``--permutations`` sets it.

Run:  .venv/bin/python benchmarks/bench_readout.py [--sessions 3] [--conditions 200] [--trials 5] [--neurons 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.readout import readout_summary


def make_sessions(n_sessions, n_conditions, n_trials, n_neurons, seed=0):
    """Sessions whose label signal grows, with fixed random tuning to the conditions."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([1, -1], n_conditions // 2)
    tuning = rng.standard_normal((n_conditions, n_neurons))
    axis = rng.standard_normal(n_neurons) / np.sqrt(n_neurons)
    sessions = {}
    for day in range(n_sessions):
        means = tuning + (0.5 + day) * np.outer(labels, axis) * 3
        sessions[f"day{day}"] = make_recording(means, n_trials=n_trials, noise_sd=2.0, target=labels,
                                               session_id=f"day{day}", rng=day)
    return sessions


def timed(fn, repeats=1):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--conditions", type=int, default=200)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=2000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=20)
    args = parser.parse_args()
    sessions = make_sessions(args.sessions, args.conditions, args.trials, args.neurons)
    print(f"{args.sessions} sessions x {args.conditions} conditions x {args.trials} trials x {args.neurons} neurons")
    common = dict(random_state=0, n_permutations=args.permutations)
    base, _ = timed(lambda: readout_summary(sessions, n_boot=0, **common))
    boot, ds = timed(lambda: readout_summary(sessions, n_boot=args.n_boot, **common))
    print(f"readout_summary n_boot=0:    {base:8.2f} s")
    print(f"readout_summary n_boot={args.n_boot}: {boot:8.2f} s")
    print(f"ratio: {boot / base:.2f} (requirement: <= 10)")
    for stat in ("decoder_accuracy", "heldout_accuracy", "margin", "flip_fraction", "fisher_discriminant"):
        values = ", ".join(f"{v:.3f}+-{s:.3f}" for v, s in zip(ds[stat].values, ds[f"{stat}_se"].values))
        print(f"  {stat:20s} {values}")
        if f"{stat}_chance" in ds:
            print(f"  {'':20s} chance {', '.join(f'{c:.3f}' for c in ds[f'{stat}_chance'].values)}; flags "
                  f"{ds[f'{stat}_flag'].values.tolist()}")


if __name__ == "__main__":
    main()
