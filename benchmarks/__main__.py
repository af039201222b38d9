"""One benchmark command: ``python -m benchmarks [--quick | --full | --smoke] [--only SECTION ...]``.

Every number is a ratio of two things measured in the same run (this machine is shared: absolute seconds mean
little, ratios measured side by side do). Sections, each isolated (one that fails prints its error and the
table goes on; a peer that is not installed prints "not installed"):

io           ``read_nwb`` counts vs raw h5py, pynwb and pynapple (functions of ``bench_io.py``)
kernels      the condition kernel vs numpy, vs the GEMM bound (one bare matmul), vs rsatoolbox ``calc_rdm``
bootstrap    ``summarize(n_boot=B)`` vs ``n_boot=0`` (``bench_summarize.py``)
growth       summarize's time growth exponent in sessions, neurons and conditions (log-log slope, 3 sizes)
memory       out-of-core peak RSS of ``read_sessions(chunks=) + summarize`` in a child process (``bench_memory.py``)
distributed  a 2-worker LocalCluster vs in-process (``bench_distributed.py`` when present)
remote       ``http://`` vs local ``read_nwb`` (``bench_remote.py``)
fit          point fit and profile-interval CPU seconds per registered model vs the 1 s / 10 s targets
             (``bench_fit.py``; single-threaded, so CPU seconds are an idle machine's wall clock)

``--quick`` (default) sizes the whole table to a few minutes, ``--full`` uses the issues' sizes, ``--smoke``
is the tiny version the test suite runs (tests/test_benchmarks.py).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the bench_*.py scripts are also run directly, so they import as top-level modules
    sys.path.insert(0, str(HERE))

SIZES = {
    "smoke": {
        "io": dict(units=20, trials=100, spikes=20_000, repeats=1),
        "kernels": dict(conditions=20, trials=3, neurons=100, repeats=1),
        "bootstrap": dict(sessions=3, conditions=10, trials=3, neurons=40, n_boot=20),
        "growth": dict(sessions=3, conditions=10, trials=3, neurons=40, factors=(1, 2, 4), n_boot=0),
        "memory": dict(size="smoke"),
        "remote": dict(units=20, trials=100, repeats=1),
        "fit": dict(models=("grokking",), n_sets=1, profile=False),
    },
    "quick": {
        "io": dict(units=100, trials=1000, spikes=1_000_000, repeats=3),
        "kernels": dict(conditions=200, trials=5, neurons=2000, repeats=3),
        "bootstrap": dict(sessions=10, conditions=100, trials=5, neurons=500, n_boot=200),
        "growth": dict(sessions=4, conditions=40, trials=4, neurons=200, factors=(1, 2, 4), n_boot=50),
        "memory": dict(size="quick"),
        "remote": dict(units=100, trials=1000, repeats=2),
        "fit": dict(models=None, n_sets=1, profile=True),
    },
    "full": {
        "io": dict(units=300, trials=2000, spikes=10_000_000, repeats=5),
        "kernels": dict(conditions=1000, trials=5, neurons=5000, repeats=3),
        "bootstrap": dict(sessions=20, conditions=200, trials=5, neurons=2000, n_boot=1000),
        "growth": dict(sessions=5, conditions=50, trials=5, neurons=500, factors=(1, 2, 4), n_boot=200),
        "memory": dict(size="full"),
        "remote": dict(units=300, trials=2000, repeats=3),
        "fit": dict(models=None, n_sets=5, profile=True),
    },
}


class NotInstalled(Exception):
    """A peer package the comparison needs is not installed."""


def _require(module: str):
    if importlib.util.find_spec(module) is None:
        raise NotInstalled(module)
    return importlib.import_module(module)


def _best(function, repeats):
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def _pair(ours, baseline, repeats):
    """Best times of two functions run alternately (both see the same load)."""
    t_ours, t_base = [], []
    for _ in range(max(1, repeats)):
        for times, function in ((t_ours, ours), (t_base, baseline)):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    return min(t_ours), min(t_base)


def _row(measure, ours, baseline, ratio, note=""):
    return {"measure": measure, "ours": ours, "baseline": baseline, "ratio": ratio, "note": note}


def _peer(rows, label, function):
    """Append the row ``function()`` returns, or a "not installed" row."""
    try:
        rows.append(function())
    except NotInstalled as missing:
        rows.append(_row(label, None, None, None, f"{missing} not installed"))


# --------------------------------------------------------------------------------------------------- sections


def section_io(size):
    import bench_io
    from neurolearn.io import read_nwb

    bench_io.N_UNITS, bench_io.N_TRIALS, bench_io.N_SPIKES = size["units"], size["trials"], size["spikes"]
    rows = []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = bench_io.make_units_file(Path(folder), np.random.default_rng(0))
        window = bench_io.WINDOW
        ours = lambda: read_nwb(path, window=window)  # noqa: E731
        ours()
        assert np.array_equal(ours().values, bench_io.raw_counts(path))
        t_ours, t_raw = _pair(ours, lambda: bench_io.raw_counts(path), size["repeats"])
        rows.append(_row("read_nwb counts / raw h5py", t_ours, t_raw, t_ours / t_raw, "target <= 1.5"))

        def pynwb_row():
            _require("pynwb")
            t_ours, t_peer = _pair(ours, lambda: bench_io.pynwb_counts(path), size["repeats"])
            return _row("pynwb counts / read_nwb (x faster)", t_ours, t_peer, t_peer / t_ours)

        def pynapple_row():
            _require("pynapple")
            t_ours, t_peer = _pair(ours, lambda: bench_io.pynapple_counts(path), size["repeats"])
            return _row("pynapple counts / read_nwb (x faster)", t_ours, t_peer, t_peer / t_ours, "target >= 10")

        _peer(rows, "pynwb counts / read_nwb (x faster)", pynwb_row)
        _peer(rows, "pynapple counts / read_nwb (x faster)", pynapple_row)
    return rows


def section_kernels(size):
    from neurolearn.simulate.recording import make_recording
    from neurolearn.stats.kernels import plugin_kernel, unbiased_kernel

    rng = np.random.default_rng(0)
    p, n = size["conditions"], size["neurons"]
    recording = make_recording(rng.standard_normal((p, n)), n_trials=size["trials"], noise_sd=1.0,
                               target=np.repeat([1.0, -1.0], p // 2), rng=rng)
    values = np.asarray(recording.values, dtype=float)
    codes = np.unique(recording["stimulus"].values, return_inverse=True)[1]

    indicator = np.zeros((p, codes.size))
    indicator[codes, np.arange(codes.size)] = 1.0
    indicator /= indicator.sum(axis=1, keepdims=True)

    def numpy_kernel():
        means = indicator @ values  # condition means as one GEMM with the averaging matrix
        return means @ means.T / n

    reference = numpy_kernel()
    assert np.allclose(plugin_kernel(recording).values, reference, atol=1e-8 * np.abs(reference).max())
    condition_means = np.random.default_rng(1).standard_normal((p, n))
    rows = []
    t_ours, t_numpy = _pair(lambda: plugin_kernel(recording), numpy_kernel, size["repeats"])
    rows.append(_row("plug-in kernel / numpy (2 GEMMs)", t_ours, t_numpy, t_ours / t_numpy))
    t_unbiased, t_gemm = _pair(lambda: unbiased_kernel(recording), lambda: condition_means @ condition_means.T,
                               size["repeats"])
    rows.append(_row("unbiased kernel / GEMM bound (M M^T alone)", t_unbiased, t_gemm, t_unbiased / t_gemm,
                     f"{p}x{n} condition means"))

    def rsa_row():
        rsatoolbox = _require("rsatoolbox")
        data = rsatoolbox.data.Dataset(values, obs_descriptors={"conds": codes})
        t_ours, t_peer = _pair(lambda: plugin_kernel(recording),
                               lambda: rsatoolbox.rdm.calc_rdm(data, method="euclidean", descriptor="conds"),
                               size["repeats"])
        return _row("rsatoolbox calc_rdm / plug-in kernel (x faster)", t_ours, t_peer, t_peer / t_ours)

    _peer(rows, "rsatoolbox calc_rdm / plug-in kernel (x faster)", rsa_row)
    from bench_summarize import ratio_to_gemm

    n_boot = 20 if p <= 20 else 200
    (_, cpu), (_, gemm_cpu) = ratio_to_gemm(2, p, size["trials"], n, n_boot=n_boot)
    rows.append(_row("summarize kernel statistics / GEMM bound (CPU s)", cpu, gemm_cpu, cpu / gemm_cpu,
                     f"2 sessions x {p} cond x {n} neurons, n_boot={n_boot}; bound: M M^T per session "
                     "(issue 11 target ~3 at 2000 x 10000)"))
    return rows


def _summarize_seconds(tree, n_boot):
    """CPU seconds of summarize's kernel statistics (the work; wall time on a shared machine is the load)."""
    from bench_summarize import timed_both

    return timed_both(tree, n_boot, readout=False, dynamics=False)[1]


def section_bootstrap(size):
    from bench_summarize import make_tree

    tree = make_tree(size["sessions"], size["conditions"], size["trials"], size["neurons"])
    _summarize_seconds(tree, 0)  # warm-up: imports, BLAS
    point = min(_summarize_seconds(tree, 0) for _ in range(2))
    boot = _summarize_seconds(tree, size["n_boot"])
    shape = f"{size['sessions']} sessions x {size['conditions']} cond x {size['neurons']} neurons"
    return [_row(f"summarize n_boot={size['n_boot']} / n_boot=0", boot, point, boot / point,
                 f"target <= 10; {shape}")]


def section_growth(size):
    from bench_summarize import make_tree

    rows = []
    base = {"sessions": size["sessions"], "conditions": size["conditions"], "neurons": size["neurons"]}
    _summarize_seconds(make_tree(2, 10, size["trials"], 20), 0)  # warm-up
    for axis in ("sessions", "neurons", "conditions"):
        sizes, seconds = [], []
        for factor in size["factors"]:
            shape = dict(base, **{axis: base[axis] * factor})
            tree = make_tree(shape["sessions"], shape["conditions"], size["trials"], shape["neurons"])
            sizes.append(shape[axis])
            seconds.append(min(_summarize_seconds(tree, size["n_boot"]) for _ in range(2)))
        slope = float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])
        rows.append(_row(f"summarize growth exponent in {axis}", seconds[-1], seconds[0], slope,
                         f"log-log slope of CPU time over {axis} = {sizes} (ours/baseline: largest/smallest CPU s)"))
    return rows


def section_memory(size):
    import bench_memory

    out = bench_memory.measure(size["size"])
    shape = out["shape"]
    note = (f"child peak RSS (VmHWM), every family; {shape['sessions']} sessions x {shape['trials']} trials x "
            f"{shape['neurons']} neurons x {shape['bins']} bins: {out['nwb_mb']:.0f} MB of NWB, "
            f"{out['in_memory_mb']:.0f} MB in memory; chunks of {out['chunks']['trial']} trials")
    worst = out["max_relative_difference"]
    exact = max(worst.get(f, (0.0, ""))[0] for f in bench_memory.EXACT_FAMILIES)
    fitted = max(worst.values())
    return [
        _row("peak RSS MB: chunks= / the 1.5 GB allowed", out["peak_rss_mb"], out["limit_mb"],
             out["peak_rss_mb"] / out["limit_mb"], note),
        _row("peak RSS MB: chunks= / the data in memory", out["peak_rss_mb"], out["in_memory_mb"],
             out["peak_rss_mb"] / out["in_memory_mb"], f"imports alone: {out['import_rss_mb']:.0f} MB"),
        _row("max rel. difference chunks= / in memory: exact sums", exact, None, None,
             f"kernel and behaviour, on the {out['compared_on']} dataset (eager peak {out['eager_peak_rss_mb']:.0f} MB)"),
        _row("max rel. difference chunks= / in memory: all families", fitted[0], None, None,
             f"largest in {fitted[1]}"),
        _row("time: chunks= / in memory", out["compare_seconds"], out["eager_seconds"],
             out["compare_seconds"] / out["eager_seconds"],
             f"on the {out['compared_on']} dataset; the chunked run above took {out['seconds']:.0f} s"),
    ]


DISTRIBUTED_ARGS = {
    "quick": ["--sessions", "4", "--conditions", "16", "--trials", "6", "--neurons", "100", "--bins", "10",
              "--boot", "20", "--permutations", "5", "--repeats", "1"],
    "full": [],  # bench_distributed.py's own defaults
}


def section_distributed(size, mode):
    label = "2-worker LocalCluster / in-process"
    path = HERE / "bench_distributed.py"
    if not path.exists():
        return [_row(label, None, None, None, "not available (no bench_distributed.py)")]
    bench = importlib.import_module("bench_distributed")
    if callable(getattr(bench, "section", None)):  # rows of its own: [{"measure", "ours", "baseline", ...}]
        return [{**_row(label, None, None, None), **item} for item in bench.section(mode)]
    if mode == "smoke":
        return [_row(label, None, None, None, "available; not run in --smoke (starting a cluster takes ~10 s)")]
    import re
    import subprocess

    done = subprocess.run([sys.executable, str(path), *DISTRIBUTED_ARGS[mode]], capture_output=True, text=True,
                          timeout=1200, cwd=HERE.parent)
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])
    local = re.search(r"in-process \(threads\):\s+([0-9.]+) s", done.stdout)
    remote = re.search(r"2-worker LocalCluster:\s+([0-9.]+) s", done.stdout)
    if not (local and remote):
        return [_row(label, None, None, None, f"unrecognised output: {done.stdout.strip()[-200:]!r}")]
    t_local, t_remote = float(local.group(1)), float(remote.group(1))
    equal = "results equal" in done.stdout
    rows = [_row(label + " (threads)", t_remote, t_local, t_remote / t_local,
                 f"summarize, every family; {'results equal (rtol 1e-12)' if equal else 'results NOT checked'}; "
                 f"bench_distributed.py {' '.join(DISTRIBUTED_ARGS[mode])}")]
    serial = re.search(r"in-process \(synchronous\):\s+([0-9.]+) s", done.stdout)
    if serial:
        t_serial = float(serial.group(1))
        rows.append(_row("2-worker LocalCluster / in-process synchronous", t_remote, t_serial, t_remote / t_serial,
                         "one thread: the scale of the work"))
    return rows


def section_remote(size):
    import multiprocessing

    import xarray as xr

    import bench_remote
    from neurolearn.io import read_nwb
    from neurolearn.io import remote
    from neurolearn.simulate.nwb import write_recording_nwb

    rows = []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(folder)
        rng = np.random.default_rng(11)
        counts = rng.poisson(rng.gamma(4.0, 0.8, size=(1, size["units"])), size=(size["trials"], size["units"]))
        recording = xr.DataArray(counts, dims=("trial", "neuron"), attrs={"window": (0.0, 1.0), "session_id": "big"})
        path = write_recording_nwb(recording, folder / "big.nwb", rng=rng, gap=0.5)
        sent, port = multiprocessing.Value("q", 0), multiprocessing.Value("i", 0)
        child = multiprocessing.get_context("fork").Process(target=bench_remote.serve, args=(folder, 0.0, sent, port),
                                                            daemon=True)
        child.start()
        try:
            deadline = time.time() + 30
            while port.value == 0 and time.time() < deadline:
                time.sleep(0.01)
            url = f"http://127.0.0.1:{port.value}/big.nwb"
            t_local, local = bench_remote.best(lambda: read_nwb(path, window=(0.0, 1.0)), size["repeats"])
            remote.reset_bytes_fetched(url)
            t_remote, got = bench_remote.best(lambda: read_nwb(url, window=(0.0, 1.0)), size["repeats"])
            fetched = remote.bytes_fetched(url) / size["repeats"]
            np.testing.assert_array_equal(got.values, local.values)
        finally:
            child.terminate()
            child.join(timeout=5)
        file_size = path.stat().st_size
    rows.append(_row("remote (http, no latency) / local read_nwb", t_remote, t_local, t_remote / t_local,
                     f"{file_size / 1e6:.1f} MB file"))
    rows.append(_row("bytes fetched / file size", fetched, file_size, fetched / file_size))
    return rows


def section_fit(size):
    import bench_fit
    import neurolearn.theory

    names = size["models"] or sorted(neurolearn.theory.MODELS)
    rows = []
    for entry in bench_fit.fit_times(names, size["n_sets"], profile=size["profile"]):
        rows.append(_row(f"fit {entry['model']}: point fit CPU s / 1 s", entry["fit_cpu_s"], 1.0,
                         entry["fit_cpu_s"], f"{entry['n_free']} free parameters, 30 sessions; wall "
                                             f"{entry['fit_s']:.3g} s"))
        if size["profile"]:
            rows.append(_row(f"fit {entry['model']}: profile CPU s / 10 s", entry["profile_cpu_s"], 10.0,
                             entry["profile_cpu_s"] / 10.0, f"wall {entry['profile_s']:.3g} s"))
    return rows


SECTIONS = {
    "io": section_io,
    "kernels": section_kernels,
    "bootstrap": section_bootstrap,
    "growth": section_growth,
    "memory": section_memory,
    "distributed": None,
    "remote": section_remote,
    "fit": section_fit,
}
SMOKE_SECTIONS = ("kernels", "fit", "distributed")


def run(mode="quick", only=None, stream=sys.stdout):
    """Run the sections (all, or ``only``), print each as it finishes and the whole table; return the rows."""
    names = list(only or (SMOKE_SECTIONS if mode == "smoke" else SECTIONS))
    table = []
    for name in names:
        if name not in SECTIONS:
            raise SystemExit(f"unknown section {name!r}; sections: {list(SECTIONS)}")
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the table, not the libraries' deprecation notices
                if name == "distributed":
                    rows = section_distributed(SIZES[mode].get("distributed", {}), mode)
                else:
                    rows = SECTIONS[name](SIZES[mode][name])
        except Exception as error:  # one failing section must not take the table down
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            rows = [_row("(section failed)", None, None, None, detail)]
        for row in rows:
            row["section"] = name
        table.extend(rows)
        print(f"[{name}: {time.perf_counter() - start:.1f} s]", file=stream, flush=True)
        for row in rows:
            print("  " + _format(row), file=stream, flush=True)
    print(f"\n== python -m benchmarks --{mode} ==", file=stream)
    print(f"{'section':<12}{'measure':<48}{'ours':>10}{'baseline':>10}{'ratio':>9}  note", file=stream)
    for row in table:
        print(f"{row['section']:<12}{_format(row)}", file=stream)
    return table


def _number(value):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.4g}"


def _format(row):
    return (f"{row['measure']:<48}{_number(row['ours']):>10}{_number(row['baseline']):>10}"
            f"{_number(row['ratio']):>9}  {row['note']}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="mode", action="store_const", const="quick", help="minutes (default)")
    group.add_argument("--full", dest="mode", action="store_const", const="full", help="the issues' sizes")
    group.add_argument("--smoke", dest="mode", action="store_const", const="smoke", help="seconds (the test)")
    parser.add_argument("--only", nargs="*", choices=list(SECTIONS), help="run only these sections")
    args = parser.parse_args(argv)
    run(args.mode or "quick", args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
