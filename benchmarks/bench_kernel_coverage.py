"""Coverage and range of the kernel statistics on data with known population truth (issue 8).

Two families of simulations, every replicate with new neurons and new trials:

* ``gauss``: neurons r_i = F g_i / sqrt(D), g_i ~ N(0, I_D), Gaussian trial noise; population kernel F Fᵀ / D
  (as benchmarks/bench_stats_bias.py);
* ``spiking``: :func:`neurolearn.simulate.spiking.spiking_sessions` (log-normal rates across neurons, Poisson
  counts, different neurons each session unless ``tracked``) with its closed-form population truth.

Statistics go through the numpy core that :func:`neurolearn.summarize` calls (``condition_statistics``, one
draw of shared Poisson neuron weights, ``alignment_with_replicates``, ``pairwise_kernel_terms``,
``similarity_from_terms``, ``change_from_terms``, ``overlap_from_statistics``) and the intervals are the ones
summarize forms (``bootstrap_interval`` of the replicates). Reported per shape and statistic: how many values
were reported and refused (InsufficientDataError / NaN), coverage of the 95 % interval over the reported
values, the fraction of intervals containing their estimate, values outside the estimand's range (at all,
and by more than 2 SE), and bias. The script uses only functions whose call signature did not change, so it
also runs on the code before the fix (``PYTHONPATH=<old checkout>``) for the before/after table.

Kernel-similarity intervals of sessions sharing no neuron id (``--grid``, 2026-12-07, code overlap and the
tracked kernel change of the double-centred kernels / condition-centred codes; 250 replicates per shape, 200
bootstraps, binomial SE 1.0-1.5 %, spiking defaults): the robust normal scores (IQR/1.349) of the default cover
0.949-0.976 with SE/SD 1.00-1.45 at (P, T, N) = (4,4,600), (4,10,300), (8,2,100), (8,4,100), (8,4,600),
(12,2,600), (12,4,200), (16,4,100), (16,10,300); (8,10,30) 0.973 of 186 reported (SE/SD 1.33), (16,2,30) 0.918
of 85 reported; (4,2,30) reports 7 of 250. Tracked pairs (the percentile interval; the code overlap's deviations
scaled by t_0.975(n_eff - 1)/z_0.975): kernel similarity 0.910-0.974 (SE/SD 1.06-2.09) at the shapes reporting
at least 150 values, code overlap 0.924-0.984 (SE/SD 1.75-4.91; lowest (8,4,600) 0.924), pooled 0.959 over
2 851 values. ``benchmarks/bench_coverage.py --tracked`` (400 datasets) reads the tracked code overlap 0.963 and
the tracked kernel change 0.969.

Run:  .venv/bin/python benchmarks/bench_kernel_coverage.py [--reps 200] [--boot 200] [--quick]
      [--realistic] [--grid [--percentile]] [--before] [--out PATH]
Writes benchmarks/results/kernel_coverage.csv. ``--realistic`` scores only the pairwise statistics at the
issue's shape (10 conditions x 30 trials x 3000 log-normal-rate neurons, fresh and tracked); ``--before``
runs the estimators as they were before the tracked-cell fix (kernel similarity jackknife-corrected, the
jackknifes treating the same cells in two sessions as independent samples), for the before/after table.
``--grid`` scores only kernel similarity and code overlap on SHAPES_GRID, fresh and tracked (the table above);
``--percentile`` gives every pair the plain percentile interval of the ratio replicates, as before the robust
normal scores of disjoint pairs.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from neurolearn.errors import DataError
from neurolearn.simulate.spiking import population_kernel, spiking_sessions
from neurolearn.stats.alignment import (
    alignment_with_replicates,
    difficulty_with_replicates,
    kernel_alignment,
    kernel_task_difficulty,
)
from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.kernels import ConditionStatistics, condition_statistics, session_bootstrap_weights
from neurolearn.stats.similarity import (
    change_from_terms,
    overlap_from_statistics,
    pairwise_kernel_terms,
    similarity_from_terms,
)

RESULTS = Path(__file__).resolve().parent / "results"
RIDGE = 0.1
RANGES = {"task_alignment": (-1.0, 1.0), "kernel_similarity": (-1.0, 1.0), "code_overlap": (-1.0, 1.0),
          "kernel_change": (0.0, np.inf), "task_difficulty": (0.0, 1.0 / RIDGE)}


def centred_alignment(K, L):
    """CKA of two kernel matrices (double centring)."""
    H = np.eye(K.shape[0]) - 1.0 / K.shape[0]
    A, B = H @ K @ H, H @ L @ H
    return float(np.sum(A * B) / np.sqrt(np.sum(A * A) * np.sum(B * B)))


def _stats_from_trials(trials, target, session_id, ids):
    """ConditionStatistics of a (P, T, N) array of trials (what condition_statistics computes)."""
    n_cond, n_trials, _ = trials.shape
    return ConditionStatistics(trials.mean(1), trials.var(1, ddof=1) / n_trials, np.full(n_cond, n_trials),
                               np.arange(n_cond), np.asarray(ids), np.asarray(target), session_id)


def gauss_replicates(n_conditions, n_trials, n_neurons, noise, reps, seed=0):
    """Yield (stats of two sessions, truth dict) for the Gaussian known-kernel population."""
    rng = np.random.default_rng(seed)
    dims = 6
    y = np.repeat([1.0, -1.0], n_conditions // 2)
    F0 = rng.standard_normal((n_conditions, dims))
    F0[:, 0] += 1.2 * y
    F = [F0, F0 + rng.standard_normal(F0.shape)]
    K = [f @ f.T / dims for f in F]
    truth = {"task_alignment": [kernel_alignment(k, y) for k in K],
             "task_difficulty": [kernel_task_difficulty(k, y, ridge=RIDGE) for k in K],
             "kernel_similarity": centred_alignment(*K),
             "kernel_change": [0.0, float(np.linalg.norm(K[1] - K[0]) / np.linalg.norm(K[0]))]}
    for _ in range(reps):
        stats = []
        for day in range(2):
            means = F[day] @ rng.standard_normal((dims, n_neurons)) / np.sqrt(dims)
            trials = means[:, None, :] + noise * rng.standard_normal((n_conditions, n_trials, n_neurons))
            stats.append(_stats_from_trials(trials, y, f"day{day}", np.arange(n_neurons) + 10**6 * day))
        yield stats, truth


def spiking_replicates(n_conditions, n_trials, n_neurons, reps, seed=0, tracked=False, gain=0.5, **options):
    """Yield (stats of two sessions, truth dict) from spiking_sessions (its own closed-form truth).

    ``gain=0``: neurons that ignore the stimulus (no condition structure; the ratios' truth is 0/0).
    ``options`` (jitter, separation) go to spiking_sessions."""
    for rep in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 truth of the no-structure sessions
            tree, truth = spiking_sessions(n_sessions=2, n_conditions=n_conditions, n_trials=n_trials,
                                           n_neurons=n_neurons, tracked=tracked, gain=gain,
                                           random_state=10_000 * seed + rep, **options)
        stats = [condition_statistics(tree[key]["responses"], "stimulus", target="target")
                 for key in tree.children]
        stats = [type(s)(**{**s.__dict__, "session_id": key}) for s, key in zip(stats, tree.children)]
        t = truth.statistics
        difficulty = ([kernel_task_difficulty(population_kernel(z), truth.target, ridge=RIDGE)
                       for z in truth.latents.values] if gain else [np.nan, np.nan])
        yield stats, {"task_alignment": t["task_alignment"].values.tolist(), "task_difficulty": difficulty,
                      "kernel_similarity": float(t["kernel_similarity"].values[0, 1]),
                      "kernel_change": t["kernel_change"].values.tolist(),
                      "code_overlap": float(t["code_overlap"].values[0, 1]) if tracked else None}


def evaluate(replicates, n_boot, level=0.95, before=False, kernel_only=False):
    """Per statistic: list of (estimate, se, lower, upper, truth) with NaN estimate where refused.

    ``before=True`` reproduces the estimators before the tracked-cell fix: kernel similarity
    jackknife-corrected, and both jackknifes treating the two sessions' neurons as independent samples even
    where they are the same cells. ``kernel_only`` skips the single-session statistics."""
    rows = {name: [] for name in RANGES}
    for rep, (stats, truth) in enumerate(replicates):
        weights = session_bootstrap_weights([s.neurons for s in stats], n_boot, rep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, s in enumerate([] if kernel_only else stats):
                try:
                    value, reps = alignment_with_replicates(s, weights=weights[k])
                except DataError:
                    value, reps = np.nan, np.empty(0)
                rows["task_alignment"].append(_row(value, reps, truth["task_alignment"][k], level))
                try:
                    value, reps = difficulty_with_replicates(s, ridge=RIDGE, weights=weights[k])
                except DataError:
                    value, reps = np.nan, np.empty(0)
                rows["task_difficulty"].append(_row(value, reps, truth["task_difficulty"][k], level))
            terms = pairwise_kernel_terms(stats, centred=(True, False), unbiased=True, weights=weights)
            if before:
                for part in terms.values():
                    part.pop("neurons", None)  # without ids the jackknife is the two-sample one
            value, reps = similarity_from_terms(terms[True], **({"jackknife": True} if before else {}))
            rows["kernel_similarity"].append(_row(value[0, 1], reps[:, 0, 1], truth["kernel_similarity"], level))
            value, reps = change_from_terms(terms[False], 0)
            rows["kernel_change"].append(_row(value[1], reps[:, 1], truth["kernel_change"][1], level))
            if truth.get("code_overlap") is not None:
                value, reps, _ = overlap_from_statistics(stats, weights=weights, strict=False)
                rows["code_overlap"].append(_row(value[0, 1], reps[:, 0, 1], truth["code_overlap"], level))
    return {name: np.array(r, dtype=float).reshape(-1, 5) for name, r in rows.items() if r}


def _row(value, reps, truth, level):
    if not np.isfinite(value):
        return (np.nan, np.nan, np.nan, np.nan, truth)
    se, (lower, upper) = bootstrap_interval(value, reps, level)
    return (value, se, lower, upper, truth)


def summarise(name, rows):
    """Counts and rates of one statistic over replicates."""
    low, high = RANGES[name]
    ok = np.isfinite(rows[:, 0]) & np.isfinite(rows[:, 2])
    value, se, lower, upper, truth = rows[ok].T
    outside = (value < low) | (value > high)
    far = (value < low - 2 * se) | (value > high + 2 * se)
    known = ok.any() and np.all(np.isfinite(truth))
    return dict(n=int(rows.shape[0]), refused=int((~ok).sum()),
                coverage=float(np.mean((lower <= truth) & (truth <= upper))) if known else np.nan,
                contains=float(np.mean((lower <= value) & (value <= upper))) if ok.any() else np.nan,
                outside=int(outside.sum()), outside_2se=int(far.sum()),
                bias=float(np.mean(value - truth)) if known else np.nan,
                se_over_sd=float(np.mean(se) / np.std(value - truth)) if known and ok.sum() > 2 else np.nan,
                error_sd=float(np.std(value - truth)) if known and ok.sum() > 2 else np.nan)


SHAPES_GRID = [(4, 2, 30), (4, 4, 600), (4, 10, 300), (8, 2, 100), (8, 4, 100), (8, 4, 600), (8, 10, 30),
               (12, 2, 600), (12, 4, 200), (16, 2, 30), (16, 4, 100), (16, 10, 300)]
SHAPES_GAUSS = [(12, 3, 150, 1.5), (16, 2, 300, 3.0), (8, 2, 40, 3.0), (16, 5, 100, 2.0)]
SHAPES_SPIKING = [(4, 2, 30), (4, 10, 300), (8, 2, 100), (8, 4, 100), (8, 4, 600), (16, 2, 30), (16, 10, 300),
                  (12, 4, 200)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="three shapes only")
    parser.add_argument("--realistic", action="store_true",
                        help="only the issue's realistic shape (10 conditions x 30 trials x 3000 neurons, gain 0.6, "
                             "jitter 0.8, separation 0 -> 2.5), fresh and tracked, pairwise statistics only")
    parser.add_argument("--grid", action="store_true",
                        help="kernel similarity and code overlap on SHAPES_GRID, fresh and tracked")
    parser.add_argument("--percentile", action="store_true",
                        help="plain percentile intervals for every pair (before the robust scores of disjoint pairs)")
    parser.add_argument("--before", action="store_true", help="the estimators before the tracked-cell fix")
    parser.add_argument("--out", default=str(RESULTS / "kernel_coverage.csv"))
    args = parser.parse_args(argv)
    if args.percentile:
        import neurolearn.stats.similarity_ratios as ratios

        ratios._disjoint_pairs = lambda neurons, n: np.zeros((n, n), dtype=bool)
    if args.grid:
        jobs = [(f"grid-{kind}", shape, spiking_replicates(*shape, args.reps, seed=200 + k + 50 * (kind == "tracked"),
                                                          tracked=kind == "tracked"))
                for kind in ("fresh", "tracked") for k, shape in enumerate(SHAPES_GRID)]
        return _run(jobs, args, kernel_only=True, skip_change=True)
    if args.realistic:
        realistic = dict(gain=0.6, jitter=0.8, separation=(0.0, 2.5))
        jobs = [(f"realistic-{kind}", (10, 30, 3000),
                 spiking_replicates(10, 30, 3000, args.reps, seed=70 + k, tracked=kind == "tracked", **realistic))
                for k, kind in enumerate(("fresh", "tracked"))]
        return _run(jobs, args)
    jobs = [("gauss", shape, gauss_replicates(*shape[:3], shape[3], args.reps, seed=k))
            for k, shape in enumerate(SHAPES_GAUSS[:1] if args.quick else SHAPES_GAUSS)]
    spiking = SHAPES_SPIKING[:2] if args.quick else SHAPES_SPIKING
    jobs += [("spiking", shape, spiking_replicates(*shape, args.reps, seed=k)) for k, shape in enumerate(spiking)]
    jobs += [("spiking-tracked", shape, spiking_replicates(*shape, args.reps, seed=k + 50, tracked=True))
             for k, shape in enumerate(spiking[:1] if args.quick else spiking[2:5])]
    # no stimulus structure (gain 0): nothing to cover; counts what is reported and whether it is possible
    jobs += [("spiking-null", shape, spiking_replicates(*shape, args.reps, seed=k + 90, tracked=True, gain=0.0))
             for k, shape in enumerate([(8, 4, 100), (16, 2, 300)])]
    return _run(jobs, args)


def _run(jobs, args, kernel_only=None, skip_change=False):
    lines = ["family,conditions,trials,neurons,statistic,n,refused,coverage,coverage_se,contains,outside,outside_2se,bias,"
             "se_over_sd,error_sd"]
    totals = {}
    for family, shape, replicates in jobs:
        start = time.time()
        results = evaluate(replicates, args.boot, before=args.before,
                           kernel_only=args.realistic if kernel_only is None else kernel_only)
        for name, rows in results.items():
            if skip_change and name == "kernel_change":
                continue
            row = summarise(name, rows)
            total = totals.setdefault(name, [0, 0, 0, 0])
            reported = row["n"] - row["refused"]
            total[0] += 0 if np.isnan(row["coverage"]) else reported
            total[1] += 0 if np.isnan(row["coverage"]) else row["coverage"] * reported
            total[2] += row["outside_2se"]
            total[3] += row["refused"]
            lines.append(f"{family},{shape[0]},{shape[1]},{shape[2]},{name},{row['n']},{row['refused']},"
                         f"{row['coverage']:.3f},{_binomial_se(row['coverage'], reported):.3f},{row['contains']:.3f},{row['outside']},{row['outside_2se']},"
                         f"{row['bias']:.4f},{row['se_over_sd']:.2f},{row['error_sd']:.4f}")
            print(lines[-1], flush=True)
        print(f"  ({family} {shape}: {time.time() - start:.0f} s)", flush=True)
    for name, (n, covered, far, refused) in totals.items():
        print(f"TOTAL {name}: reported with known truth {n}, refused {refused}, pooled coverage "
              f"{covered / max(n, 1):.3f}, outside range by > 2 SE (all families): {far}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def _binomial_se(coverage, n):
    """Binomial SE of a coverage rate over n reported values (NaN without any)."""
    return float(np.sqrt(coverage * (1.0 - coverage) / n)) if n and np.isfinite(coverage) else float("nan")


if __name__ == "__main__":
    main()
