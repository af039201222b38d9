"""Peak memory of an out-of-core summary: ``read_sessions(chunks=)`` + ``summarize(readout=False, dynamics=False)``.

Run in a fresh child process (so that its peak RSS, VmHWM, is this pipeline's and nothing else's), on NWB
files written beforehand, it prints one JSON line: ``{"peak_rss_mb": ..., "seconds": ..., "chunks": ...}``.
:func:`peak_rss` starts that child; ``python -m benchmarks`` compares it with the same pipeline read eagerly
(``chunks=None``) and with the size of the files.

Run:  .venv/bin/python benchmarks/bench_memory.py --write FOLDER --sessions 6 --units 200 --trials 1000
      .venv/bin/python benchmarks/bench_memory.py --read "FOLDER/*.nwb" --chunks 50
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path


def write_sessions(folder, n_sessions, n_units, n_trials, seed=0) -> list[Path]:
    """``n_sessions`` spiking NWB files of ``n_units`` tracked units and ``n_trials`` trials (learning signal)."""
    import numpy as np
    import xarray as xr

    from neurolearn.simulate.nwb import write_recording_nwb

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_stimuli = 20
    stimulus = np.arange(n_trials) % n_stimuli
    target = np.where(stimulus < n_stimuli // 2, 1.0, -1.0)
    coding = rng.standard_normal(n_units)
    base = rng.gamma(4.0, 0.5, size=(n_stimuli, n_units))
    paths = []
    for day in range(n_sessions):
        rate = np.clip(base[stimulus] + 0.2 * day * np.outer(target, coding), 0.05, None)
        counts = rng.poisson(rate)
        recording = xr.DataArray(
            counts, dims=("trial", "neuron"),
            coords={"stimulus": ("trial", stimulus), "target": ("trial", target),
                    "correct": ("trial", rng.random(n_trials) < 0.5 + 0.05 * day),
                    "neuron": np.arange(n_units)},
            attrs={"window": (0.0, 1.0), "session_id": f"day{day:02d}"})
        paths.append(write_recording_nwb(recording, folder / f"day{day:02d}.nwb", rng=rng, gap=0.5))
    return paths


def run_pipeline(pattern, chunks, n_boot=50):
    """What the child process measures: its peak RSS (MB, :func:`_peak_mb`), the peak after the imports, and
    the seconds taken."""
    from neurolearn.io import read_sessions
    from neurolearn.stats.summary import summarize

    imported = _peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"chunks": {"trial": -1, "neuron": chunks}} if chunks else {}
        tree = read_sessions(pattern, window=(0.0, 1.0), **options)
        summarize(tree, readout=False, dynamics=False, n_boot=n_boot, random_state=0)
    seconds = time.perf_counter() - start
    return _peak_mb(), imported, seconds


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


def peak_rss(pattern, chunks, n_boot=50, timeout=600) -> dict:
    """Run :func:`run_pipeline` in a child process; its JSON answer (peak_rss_mb, import_rss_mb, seconds, chunks)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--read", str(pattern), "--n-boot", str(n_boot)]
    if chunks:
        command += ["--chunks", str(chunks)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", help="folder to write sessions into")
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--read", help="glob of the sessions to read and summarise (in this process)")
    parser.add_argument("--chunks", type=int, default=0, help="neurons per block (0: eager read)")
    parser.add_argument("--n-boot", type=int, default=50)
    args = parser.parse_args(argv)
    if args.write:
        paths = write_sessions(args.write, args.sessions, args.units, args.trials)
        print(f"wrote {len(paths)} sessions to {args.write}")
    if args.read:
        rss, imported, seconds = run_pipeline(args.read, args.chunks or None, args.n_boot)
        print(json.dumps({"peak_rss_mb": rss, "import_rss_mb": imported, "seconds": seconds, "chunks": args.chunks}))


if __name__ == "__main__":
    main()
