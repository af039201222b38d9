"""Out of core: peak memory of ``read_sessions(chunks=) + summarize`` (every family) on time-resolved NWB files
larger than the memory allowed, and its results against the in-memory path.

Sessions are simulated as ``(trial, neuron, time)`` dF/F recordings (condition means that become more readable
session by session, a 3-dimensional latent AR(1) with known |lambda| = 0.9, independent noise; 3 held-out stimuli,
behaviour) and written one at a time as NWB files with :func:`neurolearn.simulate.nwb.write_recording_nwb`
(a RoiResponseSeries at one frame per bin, so the file holds about what the read-back holds). The pipeline runs
in a fresh child process, whose peak RSS (VmHWM: the child's own high-water mark) is the number checked
against ``--limit-mb`` (1.5 GB by default); the same files read eagerly (``chunks=None``) give the in-memory
result for the comparison, where the dataset fits (``--compare`` sizes it otherwise: the ``--full`` run compares
on the ``quick`` dataset).

Sizes: ``smoke`` (seconds), ``quick`` (~1 minute), ``full`` (9 sessions x 4,500 trials x 500 neurons x 40
bins: 6.8 GB of NWB, 6.5 GB (6,180 MiB) as float64 in memory: more than four times the 1.5 GB allowed).

Run:  .venv/bin/python benchmarks/bench_memory.py --full          (writes under /tmp, deletes after)
      .venv/bin/python benchmarks/bench_memory.py --quick --folder /tmp/oocq --keep
It prints one JSON line and exits non-zero if the peak exceeds the limit or a result differs by more than
the tolerance (``EXACT_RTOL`` = 1e-10 relative for the exact sums, ``FIT_RTOL`` = 1e-8 for everything).

Measured 2026-12-02 (``--full``, 2 cores shared with five other jobs, load average 13-19): 6,493 MiB of NWB,
6,180 MiB in memory; peak RSS 1,245 MiB (imports 175 MiB) in 1,248 s with chunks of 100 trials. Against the
in-memory path on the ``quick`` dataset: behaviour, kernel, readout and generalisation identical (relative
difference 0), dynamics 4.6e-11 (``timescale_ci``); 23.0 s chunked vs 18.4 s in memory (eager peak 487 MiB).
Most of the peak above the ~500 MiB base is the readout's Fisher d' on 4,500-trial sessions (two n x n trial
Gram matrices per fold, two sessions at a time), not the recordings.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

#: dataset and summarize sizes; ``bins`` time bins of ``BIN`` s per trial
SIZES = {
    "smoke": dict(sessions=2, neurons=24, trials=120, bins=10, chunks=30, n_boot=10, n_permutations=2,
                  compare=None),
    "quick": dict(sessions=4, neurons=150, trials=800, bins=40, chunks=100, n_boot=20, n_permutations=5,
                  compare=None),
    "full": dict(sessions=9, neurons=500, trials=4500, bins=40, chunks=100, n_boot=20, n_permutations=5,
                 compare="quick"),
}
BIN = 0.05  # s; frame rate 1 / BIN, one frame per bin
N_STIMULI, N_HELDOUT, LATENT_LAMBDA = 20, 3, 0.9
#: relative tolerance of the comparison: exact sums (kernel family, behaviour) and everything else (decoders,
#: fits: equal up to the rounding of a different summation order)
EXACT_RTOL, FIT_RTOL = 1e-10, 1e-8
EXACT_FAMILIES = ("behavior", "kernel")


def write_timed_sessions(folder, n_sessions, n_neurons, n_trials, n_bins, seed=0) -> list[Path]:
    """``n_sessions`` time-resolved ophys NWB files (one at a time: the writer holds one session)."""
    import numpy as np
    import xarray as xr

    from neurolearn.simulate.nwb import write_recording_nwb

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stimulus = np.arange(n_trials) % N_STIMULI
    target = np.where(stimulus % 2 == 0, 1.0, -1.0)
    base = rng.standard_normal((N_STIMULI, n_neurons))
    coding = rng.standard_normal(n_neurons)
    loading = rng.standard_normal((n_neurons, 3)) / np.sqrt(3.0)
    paths = []
    for day in range(n_sessions):
        means = base[stimulus] + (0.3 + 0.3 * day) * np.outer(target, coding)  # (trial, neuron)
        values = np.empty((n_trials, n_neurons, n_bins))
        latent = rng.standard_normal((n_trials, 3))
        for k in range(n_bins):  # bin by bin: the (trial, neuron, time) block is the only big array
            if k:
                latent = LATENT_LAMBDA * latent + np.sqrt(1 - LATENT_LAMBDA**2) * rng.standard_normal((n_trials, 3))
            values[..., k] = means + latent @ loading.T + 0.5 * rng.standard_normal((n_trials, n_neurons))
        recording = xr.DataArray(
            values, dims=("trial", "neuron", "time"),
            coords={"stimulus": ("trial", stimulus), "target": ("trial", target),
                    "heldout": ("trial", stimulus >= N_STIMULI - N_HELDOUT),
                    "correct": ("trial", rng.random(n_trials) < 0.55 + 0.05 * day),
                    "neuron": np.arange(n_neurons), "time": BIN * (np.arange(n_bins) + 0.5)},
            attrs={"window": (0.0, n_bins * BIN), "bin_size": BIN, "session_id": f"day{day:02d}",
                   "session_start_time": f"2026-01-{day + 1:02d}T09:00:00+00:00", "subject_id": "m1"})
        paths.append(write_recording_nwb(recording, folder / f"day{day:02d}.nwb", kind="ophys", rng=rng,
                                         frame_rate=1.0 / BIN, gap=2 * BIN))
        del values, recording
    return paths


def run_pipeline(pattern, n_bins, chunks, n_boot, n_permutations, save=None):
    """What the child process measures: peak RSS (MB), the peak after the imports, and the seconds taken;
    the summary pickled to ``save``."""
    from neurolearn.io import read_sessions
    from neurolearn.stats.summary import summarize

    imported = _peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"chunks": {"trial": chunks}} if chunks else {}
        tree = read_sessions(pattern, window=(0.0, n_bins * BIN), bin_size=BIN, **options)
        ds = summarize(tree, n_boot=n_boot, n_permutations=n_permutations, random_state=0, indicator_tau=0,
                       generalization_target="target")
    seconds = time.perf_counter() - start
    if save:
        with open(save, "wb") as handle:
            pickle.dump(ds, handle)
    return _peak_mb(), imported, seconds


def kernel_pipeline(sessions, conditions, trials, neurons, n_boot=200):
    """What the ``--kernel`` child measures: one in-memory tree (``benchmarks.bench_summarize.make_tree``) and
    summarize's kernel statistics on it: (peak RSS during summarize, RSS before it, the tree's MB, seconds).
    The peak is reset after the tree is built (``/proc/self/clear_refs``), so it is summarize's own high-water
    mark over the data it was given (the trial-noise pass held two float64 copies of each session before
    1ae29be)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's benchmarks and package
    from benchmarks.bench_summarize import make_tree
    from neurolearn.stats.summary import summarize

    tree = make_tree(sessions, conditions, trials, neurons)
    data_mb = sessions * conditions * trials * neurons * 8 / 2**20
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    before = _status_mb("VmRSS:")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summarize(tree, n_boot=n_boot, random_state=0, readout=False, dynamics=False)
    return _peak_mb(), before, data_mb, time.perf_counter() - start


def _status_mb(field) -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def kernel_peak(sessions=1, conditions=1000, trials=4, neurons=5000, n_boot=200, timeout=3600) -> dict:
    """:func:`kernel_pipeline` in a child process: its JSON answer plus the peak above the RSS before
    summarize, in MB and as a multiple of the tree's size."""
    command = [sys.executable, str(Path(__file__).resolve()), "--kernel-child",
               f"{sessions},{conditions},{trials},{neurons},{n_boot}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"child failed: {lines[-1] if lines else done.returncode}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["above_mb"] = out["peak_rss_mb"] - out["rss_before_mb"]
    out["above_per_data"] = out["above_mb"] / out["data_mb"]
    return out


def _peak_mb() -> float:
    """This process's peak RSS in MB: VmHWM of /proc/self/status where there is one, else ru_maxrss.

    Linux carries ru_maxrss across exec (the forked copy of the parent counts), so a child started by a
    parent of 500 MB reports at least 500 MB there; VmHWM is the peak of the child's own address space.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_rss(pattern, n_bins, chunks, n_boot=20, n_permutations=5, save=None, timeout=7200) -> dict:
    """Run :func:`run_pipeline` in a child process; its JSON answer (peak_rss_mb, import_rss_mb, seconds)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(pattern), "--bins", str(n_bins),
               "--chunks", str(chunks or 0), "--n-boot", str(n_boot), "--n-permutations", str(n_permutations)]
    if save:
        command += ["--save", str(save)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"child failed: {lines[-1] if lines else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def differences(eager, lazy) -> dict:
    """Per family, the largest relative difference (|a - b| / max(|a|, 1e-12)) over its float variables and
    the variable where it is: ``{family: (difference, variable)}``; inf where NaNs, infs or a non-float
    variable differ."""
    import numpy as np

    from neurolearn.stats.families import FAMILIES

    family = {name: f.name for f in FAMILIES for name in f.statistics}
    worst = {}
    for name in eager.data_vars:
        a, b = eager[name].values, lazy[name].values
        stem = next((s for s in sorted(family, key=len, reverse=True) if name == s or name.startswith(s + "_")),
                    "other")
        owner = family.get(stem, "other")
        if a.dtype.kind not in "fc":
            difference = 0.0 if np.array_equal(a, b) else float("inf")
        elif not np.array_equal(np.isnan(a), np.isnan(b)) or not np.array_equal(np.isinf(a), np.isinf(b)):
            difference = float("inf")
        else:
            finite = np.isfinite(a)
            rel = np.abs(a[finite] - b[finite]) / np.maximum(np.abs(a[finite]), 1e-12) if finite.any() else [0.0]
            difference = float(np.max(rel))
        if owner not in worst or difference > worst[owner][0]:
            worst[owner] = (difference, name)
    return worst


def measure(size="quick", folder=None, limit_mb=1500.0, keep=False) -> dict:
    """Write the ``size`` dataset, run the chunked pipeline in a child (peak RSS), and compare with the
    in-memory path (on this dataset, or on ``SIZES[size]["compare"]``'s). Files are deleted unless ``keep``."""
    spec = SIZES[size]
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix=f"bench_memory_{size}_", dir="/tmp"))
    out = {"size": size, "limit_mb": limit_mb}
    try:
        start = time.perf_counter()
        paths = write_timed_sessions(root / size, spec["sessions"], spec["neurons"], spec["trials"], spec["bins"])
        out["write_seconds"] = time.perf_counter() - start
        out["nwb_mb"] = sum(p.stat().st_size for p in paths) / 2**20
        out["in_memory_mb"] = (spec["sessions"] * spec["trials"] * spec["neurons"] * spec["bins"] * 8) / 2**20
        out["shape"] = {k: spec[k] for k in ("sessions", "trials", "neurons", "bins")}
        out["chunks"] = {"trial": spec["chunks"]}
        options = dict(n_boot=spec["n_boot"], n_permutations=spec["n_permutations"])
        lazy_file = root / f"{size}-lazy.pkl"
        lazy = peak_rss(root / size / "*.nwb", spec["bins"], spec["chunks"], save=lazy_file, **options)
        out.update(peak_rss_mb=lazy["peak_rss_mb"], import_rss_mb=lazy["import_rss_mb"], seconds=lazy["seconds"])
        compare = spec["compare"] or size
        if compare != size:
            shutil.rmtree(root / size)
            small = SIZES[compare]
            write_timed_sessions(root / compare, small["sessions"], small["neurons"], small["trials"], small["bins"])
            options = dict(n_boot=small["n_boot"], n_permutations=small["n_permutations"])
            lazy_file = root / f"{compare}-lazy.pkl"
            lazy = peak_rss(root / compare / "*.nwb", small["bins"], small["chunks"], save=lazy_file, **options)
        out["compare_seconds"] = lazy["seconds"]
        chunks = SIZES[compare]["chunks"]
        eager_file = root / f"{compare}-eager.pkl"
        eager = peak_rss(root / compare / "*.nwb", SIZES[compare]["bins"], None, save=eager_file, **options)
        with open(eager_file, "rb") as a, open(lazy_file, "rb") as b:
            worst = differences(pickle.load(a), pickle.load(b))
        out["compared_on"] = compare
        out["compare_chunks"] = {"trial": chunks}
        out["eager_peak_rss_mb"], out["eager_seconds"] = eager["peak_rss_mb"], eager["seconds"]
        out["max_relative_difference"] = worst
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    found = out.get("max_relative_difference", {})
    exact = max([found[f][0] for f in EXACT_FAMILIES if f in found] + [0.0])
    fitted = max([value for value, _ in found.values()] + [0.0])
    out["ok"] = bool(out.get("peak_rss_mb", float("inf")) <= limit_mb and exact <= EXACT_RTOL and fitted <= FIT_RTOL)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    for name in SIZES:
        parser.add_argument(f"--{name}", dest="size", action="store_const", const=name,
                            help=f"--size {name}")
    parser.add_argument("--folder", help="where to write the files (default: a new folder under /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--limit-mb", type=float, default=1500.0)
    parser.add_argument("--kernel", nargs=4, type=int,
                        metavar=("SESSIONS", "CONDITIONS", "TRIALS", "NEURONS"),
                        help="peak RSS of summarize's kernel statistics (n_boot=200) on an in-memory tree of "
                             "this shape, above the RSS before the call")
    parser.add_argument("--kernel-child", help=argparse.SUPPRESS)
    # the child's own arguments
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bins", type=int, default=40, help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--n-boot", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--n-permutations", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.kernel_child:
        shape = [int(v) for v in args.kernel_child.split(",")]
        peak, before, data_mb, seconds = kernel_pipeline(*shape)
        import neurolearn

        print(json.dumps({"peak_rss_mb": peak, "rss_before_mb": before, "data_mb": data_mb,
                          "seconds": seconds, "package": str(Path(neurolearn.__file__).parent)}))
        return 0
    if args.kernel:
        print(json.dumps(dict(kernel_peak(*args.kernel), shape=args.kernel)))
        return 0
    if args.child:
        rss, imported, seconds = run_pipeline(args.child, args.bins, args.chunks or None, args.n_boot,
                                              args.n_permutations, args.save)
        print(json.dumps({"peak_rss_mb": rss, "import_rss_mb": imported, "seconds": seconds}))
        return 0
    out = measure(args.size, args.folder, args.limit_mb, args.keep)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
