"""Cost of bootstrapping in ``summarize``: n_boot=1000 vs n_boot=0 on 20 sessions x 200 conditions x 5 trials
x 2,000 neurons (tracked across sessions), measured in the same run.

Target (issue 3): the n_boot=1000 call costs <= 10x the n_boot=0 call. Bootstraps reuse per-neuron influence
terms (one product of a (B, N) weight matrix with (N, k) influences per statistic) and re-diagonalise only
small Rayleigh-Ritz matrices for the spectral statistics, so the ratio should be far below 10.

Two measurements: the kernel statistics of neurolearn.stats (readout=False, dynamics=False) and, when
neurolearn.stats.readout is importable, the full call including the readout statistics.

Issue 11 item 1 (cost that follows the work), kernel statistics only, n_boot=200:

* ``--growth``: growth exponents (log-log slope of the wall time) in sessions, neurons and conditions;
  ``--full`` uses the issue's sizes: sessions 10, 30, 100, 300 at 50 conditions x 4 trials x 1,000 neurons;
  neurons 100, 1,000, 10,000 at 10 sessions x 50 conditions; conditions 50, 500, 2,000 at 10 sessions x
  1,000 neurons (``--quick``: a few minutes' worth of smaller sizes).
* ``--gemm``: summarize's kernel statistics / the GEMM bound (``M M^T`` of every session's condition means, the
  kernels alone, timed in the same run) at 2,000 conditions x 4 trials x 10,000 neurons (``--gemm-sessions``,
  default 2: each session is 640 MB of trials), and ``task_alignment`` / ``kernel_similarity`` (2 sessions) vs
  the same bound at 500 conditions x 2,000 neurons.

Measured 2026-12-02 (2 shared cores, load 12-17: CPU seconds, single-threaded BLAS; before = 7f8bdde):

| measure | before | after |
| --- | ---: | ---: |
| kernel statistics / GEMM, 2 x 500 x 4 x 2,000 | 162.6 | 68.6 |
| kernel statistics / GEMM, 2 x 2,000 x 4 x 10,000 | not run (PR replicates alone B P^2 N = 8e12) | 32.4 |
| task_alignment / GEMM, 500 x 2,000 | 25.1 | 8.2-9.0 |
| kernel_similarity / GEMM, 500 x 2,000 (2 sessions) | 24.9 | 11.9-12.2 |
| sessions 10, 30, 100, 300 (50 x 1,000) | 1.77, 6.60, 39.1 s, - (exp. 1.35) | 0.90, 3.13, 12.3, 52.8 s (exp. 1.19) |
| neurons 100, 1,000, 10,000 (10 x 50) | 0.45, 1.78, 42.4 s (exp. 0.99) | 0.26, 0.95, 6.37 s (exp. 0.69) |
| conditions 50, 500, 2,000 (10 x 1,000) | 1.75, 8.13 s, - | 0.85, 3.61, 44.7 s (exp. 1.03) |

Kernel statistics vs the bound, measured again 2026-12-02 (load 7-11, CPU seconds; before = 1f1b9ec, after =
2eacff4; 500 x 2,000: three runs each, alternating; 2,000 x 10,000: one run each): 500 x 2,000 / GEMM
55.8-63.8 before, 45.1-49.6 after (/ GEMM + one eigh per session 12.2-18.6, 13.5-13.7); 2,000 x 10,000
36.4 s -> 30.2 s: / GEMM 19.6 -> 16.5, / GEMM + one eigh 7.1 -> 5.9. The products the statistics need
are ~11-12 GEMMs per session at 2,000 x 10,000 before the eigh (in GEMM units P²N/2: M Mᵀ 1; the
participation ratio's exact weighted replicates, the N x N Gram matrix of the centred means,
(N/P)(1 + B/P) = 5.5; Φ_b M_a for every partner session's influences 2; Rayleigh-Ritz replicates
B r²/P² = 0.6; reading the trials ~1), so a factor 3 of the bare GEMM is not reachable with these estimators.

2026-12-06 (benchmarks/README.md has the table): kernel_change's 32 halvings from one pass
(neurolearn.stats.kernel_halvings) took 500 x 2,000 from 116-123 to 73-81 x GEMM (alternating runs, CPU,
single-threaded BLAS) and 2,000 x 10,000 from 63.6-64.9 to 43.3-45.2; ``--halvings`` times the halvings
alone per route.

2026-12-07 (benchmarks/README.md has the table): the trial-noise gate reads the trials in 32 MB blocks, each
condition's n trials as n - 1 orthonormal contrasts ((T - P) P N instead of T P N + P² N, no copy of the
session): 500 x 2,000 from 77-80 to 66-69 x GEMM (2 sessions, alternating runs, median of 3) and 2,000 x
10,000 from 45.4 to 34.7 (one run each).

* ``--halvings``: kernel_change's 32 halvings alone (:mod:`neurolearn.stats.kernel_halvings`, each route, and
  the stored half kernels of before) / the same GEMM bound, at ``--conditions`` x ``--neurons``.

Run:  .venv/bin/python benchmarks/bench_summarize.py [--sessions 20 --conditions 200 --trials 5 --neurons 2000]
      .venv/bin/python benchmarks/bench_summarize.py --growth --gemm [--full]
      .venv/bin/python benchmarks/bench_summarize.py --halvings --conditions 500 --neurons 2000
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
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
    return timed_both(tree, n_boot, **options)[0]


def timed_both(tree, n_boot, **options):
    """(wall seconds, CPU seconds of this process) of one summarize call. On a shared machine CPU time is
    the work done (BLAS single-threaded: OMP_NUM_THREADS=1), wall time also the neighbours' load."""
    start, cpu = time.perf_counter(), time.process_time()
    summarize(tree, n_boot=n_boot, random_state=0, **options)
    return time.perf_counter() - start, time.process_time() - cpu


def _condition_means(tree):
    from neurolearn.data import session_recordings

    return [np.ascontiguousarray(rec.groupby("stimulus").mean("trial").transpose("stimulus", "neuron").values)
            for rec in session_recordings(tree).values()]


def gemm_seconds(tree, repeats=3, clock=time.perf_counter, eigh=False):
    """Best time of ``M M^T`` for every session's (conditions x neurons) condition means: the GEMM bound;
    with ``eigh`` the bound plus one eigen-decomposition (values and vectors) of every session's P x P kernel,
    which the spectral statistics and the task difficulty need (and summarize computes once per session)."""
    means = _condition_means(tree)
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for m in means:
            gram = m @ m.T
            if eigh:
                np.linalg.eigh(gram / m.shape[1])
        best = min(best, clock() - start)
    return best


GROWTH = {
    "full": {"sessions": ((10, 30, 100, 300), dict(conditions=50, neurons=1000)),
             "neurons": ((100, 1000, 10000), dict(sessions=10, conditions=50)),
             "conditions": ((50, 500, 2000), dict(sessions=10, neurons=1000))},
    "quick": {"sessions": ((10, 30, 100), dict(conditions=50, neurons=200)),
              "neurons": ((100, 1000, 4000), dict(sessions=10, conditions=50)),
              "conditions": ((50, 200, 800), dict(sessions=10, neurons=500))},
}


def growth(mode="quick", n_boot=200, trials=4, axes=("sessions", "neurons", "conditions"), stream=None):
    """{axis: (sizes, wall seconds, slope of wall, CPU seconds, slope of CPU)}: summarize's kernel statistics
    over one axis (one call per size; the slopes are log-log least squares)."""
    out = {}
    timed(make_tree(2, 10, trials, 20), 0, readout=False, dynamics=False)  # warm-up: imports, BLAS
    for axis in axes:
        sizes, base = GROWTH[mode][axis]
        wall, cpu = [], []
        for value in sizes:
            shape = dict(base, **{axis: value})
            tree = make_tree(shape["sessions"], shape["conditions"], trials, shape["neurons"])
            seconds = timed_both(tree, n_boot, readout=False, dynamics=False)
            wall.append(seconds[0])
            cpu.append(seconds[1])
            del tree
            if stream:
                print(f"  {axis}={value}: wall {wall[-1]:.2f} s, CPU {cpu[-1]:.2f} s", file=stream, flush=True)
        slopes = [float(np.polyfit(np.log(sizes), np.log(t), 1)[0]) for t in (wall, cpu)]
        out[axis] = (sizes, wall, slopes[0], cpu, slopes[1])
    return out


def ratio_to_gemm(sessions=2, conditions=2000, trials=4, neurons=10000, n_boot=200, with_eigh=False):
    """((wall, CPU) seconds of summarize's kernel statistics, (wall, CPU) seconds of the GEMM bound), one tree,
    measured in the same run; with ``with_eigh`` also the CPU seconds of GEMM + one eigh per session."""
    tree = make_tree(sessions, conditions, trials, neurons)
    clocks = (time.perf_counter, time.process_time)
    gemm = [gemm_seconds(tree, clock=clock) for clock in clocks]
    ours = timed_both(tree, n_boot, readout=False, dynamics=False)
    gemm = [min(g, gemm_seconds(tree, clock=clock)) for g, clock in zip(gemm, clocks)]
    if not with_eigh:
        return ours, tuple(gemm)
    return ours, tuple(gemm), gemm_seconds(tree, repeats=2, clock=time.process_time, eigh=True)


def halving_ratios(conditions=500, trials=4, neurons=2000, sessions=2, stored=True):
    """{label: (CPU seconds, GEMM-bound CPU seconds)} of kernel_change's 32 halvings alone (their products
    ⟨D_A, D_B⟩ against the first session) on each route of :mod:`neurolearn.stats.kernel_halvings`, and
    (``stored``) from every halving's stored half kernels as before 541ff19."""
    from neurolearn.data import session_recordings
    from neurolearn.stats.kernel_halvings import ROUTES, halved_change_products
    from neurolearn.stats.kernel_pairs import half_kernels, id_halvings
    from neurolearn.stats.kernels import condition_statistics

    tree = make_tree(sessions, conditions, trials, neurons)
    stats = [condition_statistics(rec, "stimulus") for rec in session_recordings(tree).values()]
    halvings = [id_halvings(s.neurons) for s in stats]
    targets = list(range(1, sessions))
    bound = gemm_seconds(tree, clock=time.process_time)
    def on(route):
        return lambda: halved_change_products(stats, 0, targets, halvings, route=route)

    runs = {f"route {route}": on(route) for route in ROUTES}

    def from_stored():
        halves = [half_kernels(s, h) for s, h in zip(stats, halvings)]
        return [np.einsum("mpq,mpq->m", *np.moveaxis(halves[t] - halves[0], 1, 0)) for t in targets]

    if stored:
        runs["stored half kernels"] = from_stored
    out = {}
    for label, function in runs.items():
        start = time.process_time()
        function()
        out[label] = (time.process_time() - start, bound)
    return out


def statistic_ratios(conditions=500, trials=4, neurons=2000, repeats=3):
    """{name: (CPU seconds, GEMM-bound CPU seconds)} for ``task_alignment`` (one session) and
    ``kernel_similarity`` (two sessions), best of ``repeats``."""
    from neurolearn.data import session_recordings
    from neurolearn.stats.alignment import task_alignment
    from neurolearn.stats.similarity import kernel_similarity

    tree = make_tree(2, conditions, trials, neurons)
    recs = list(session_recordings(tree).values())
    first = make_tree(1, conditions, trials, neurons)
    cpu = time.process_time
    runs = {"task_alignment": (lambda: task_alignment(recs[0]), gemm_seconds(first, repeats, clock=cpu)),
            "kernel_similarity": (lambda: kernel_similarity(recs), gemm_seconds(tree, repeats, clock=cpu))}
    out = {}
    for name, (function, gemm) in runs.items():
        function()
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            function()
            best = min(best, time.process_time() - start)
        out[name] = (best, gemm)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--conditions", type=int, default=200)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=2000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--growth", action="store_true", help="growth exponents (issue 11 item 1)")
    parser.add_argument("--axes", nargs="+", default=["sessions", "neurons", "conditions"])
    parser.add_argument("--gemm", action="store_true", help="ratios to the GEMM bound (issue 11 item 1)")
    parser.add_argument("--gemm-sessions", type=int, default=2)
    parser.add_argument("--halvings", action="store_true",
                        help="kernel_change's halvings alone / the GEMM bound, per route "
                             "(--conditions, --neurons)")
    parser.add_argument("--full", action="store_true", help="the issue's sizes for --growth and --gemm")
    args = parser.parse_args()
    if args.halvings:
        ratios = halving_ratios(args.conditions, 4, args.neurons, args.gemm_sessions)
        for label, (seconds, bound) in ratios.items():
            print(f"kernel_change halvings, {label}, {args.gemm_sessions} sessions x {args.conditions} "
                  f"conditions x {args.neurons} neurons: CPU {seconds:.3f} s / GEMM {bound:.3f} s = "
                  f"{seconds / bound:.1f}", flush=True)
        return
    if args.growth or args.gemm:
        mode = "full" if args.full else "quick"
        if args.gemm:
            size = dict(conditions=2000, neurons=10000) if args.full else dict(conditions=500, neurons=2000)
            (wall, cpu), (gemm_wall, gemm_cpu), with_eigh = ratio_to_gemm(args.gemm_sessions, trials=4, n_boot=200,
                                                                         with_eigh=True, **size)
            print(f"summarize kernel statistics (n_boot=200) / GEMM bound, {args.gemm_sessions} sessions x "
                  f"{size['conditions']} conditions x 4 trials x {size['neurons']} neurons: CPU {cpu:.2f} s / "
                  f"{gemm_cpu:.3f} s = {cpu / gemm_cpu:.1f}; wall {wall:.2f} s / {gemm_wall:.3f} s = "
                  f"{wall / gemm_wall:.1f}; / (GEMM + one eigh per session, CPU {with_eigh:.3f} s) = "
                  f"{cpu / with_eigh:.1f}", flush=True)
            for name, (seconds, bound) in statistic_ratios().items():
                print(f"{name} / GEMM bound, 500 conditions x 4 trials x 2000 neurons: CPU {seconds:.3f} s / "
                      f"{bound:.3f} s = {seconds / bound:.1f}", flush=True)
        if args.growth:
            for axis, (sizes, wall, slope, cpu, cpu_slope) in growth(mode, axes=args.axes, stream=sys.stdout).items():
                print(f"growth exponent in {axis} {sizes}: CPU {cpu_slope:.2f} (s {[round(t, 2) for t in cpu]}), "
                      f"wall {slope:.2f} (s {[round(t, 2) for t in wall]})", flush=True)
        return
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
