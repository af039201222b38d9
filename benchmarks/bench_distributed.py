"""Wall time of ``summarize`` in-process (dask threads) vs on a 2-worker ``dask.distributed`` LocalCluster
(2 worker processes x 1 thread on 127.0.0.1), on the same data, with the results checked equal (1e-12).

Data: 8 time-resolved sessions x 16 conditions x 6 trials x 300 neurons x 10 time bins, a held-out column
(3 stimuli), n_boot=100: every family runs (behaviour, kernel, readout, generalisation, dynamics). The
cluster's start-up (spawning workers, their imports) is timed separately and not counted; a first, untimed
call on the cluster warms the workers' imports. Each call is repeated ``--repeats`` times; the best is
reported.

Worker settings: dask.distributed's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (return freed
memory to the OS early) and a 10 ms statistical profiler. Both cost CPU on the readout's many small
allocations and deep sklearn stacks: measured on one readout session (300 neurons, n_boot=100, 20
permutations), 2.6 s CPU on a default worker vs 1.2-1.5 s in the client; 1.5 s with both off. By default
the cluster here runs with both off (``--dask-defaults`` keeps distributed's settings).

Measured (2026-12-02, 2 cores shared with four other jobs, load average 4-6; default shape, --repeats 1):

    load   synchronous   threads   2-worker cluster          cluster / threads
    3.9    16.6 s        16.3 s    16.9 s (tuned workers)    1.04
    5.1      -           21.5 s    26.4 s (tuned workers)    1.23
    6.4      -           15.7 s    22.5 s (dask defaults)    1.44
    5.4      -           47.6 s    92.1 s (dask defaults)    1.94  (before sessions were scattered once)

On this machine the cores are already saturated: threads gain nothing over one thread, and two worker
processes cannot either; the cluster's cost is its serialisation and, with distributed's default worker
settings, the malloc trimming. The point of the cluster is more cores than one machine's; the results are
the same to 1e-12 either way. (The pre-pipeline summarize on the same data, same moment: threads 17.2 s,
synchronous 15.2 s; the pipeline: 18.0 s and 15.9 s.)

Run:  .venv/bin/python benchmarks/bench_distributed.py [--sessions 8 --conditions 16 --trials 6 --neurons 300
      --bins 10 --boot 100 --permutations 20 --repeats 2]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import xarray as xr

from neurolearn.simulate.recording import make_recording
from neurolearn.stats.summary import summarize


def make_sessions(n_sessions, n_conditions, n_trials, n_neurons, n_bins, seed=0):
    rng = np.random.default_rng(seed)
    y = np.tile([1.0, -1.0], n_conditions // 2)
    base, coding = rng.standard_normal((n_conditions, n_neurons)), rng.standard_normal(n_neurons)
    recs = []
    for day in range(n_sessions):
        rec = make_recording(base + 0.15 * day * np.outer(y, coding), n_trials=n_trials, noise_sd=1.0,
                             target=y, behavior=0.55 + 0.04 * day, session_id=f"day{day:02d}", rng=day)
        activity = np.empty(rec.shape + (n_bins,))
        activity[..., 0] = rec.values
        for t in range(1, n_bins):
            activity[..., t] = 0.8 * activity[..., t - 1] + 0.4 * rng.standard_normal(rec.shape)
        recs.append(xr.DataArray(activity, dims=("trial", "neuron", "time"),
                                 coords={**rec.coords, "time": np.arange(n_bins) * 0.05,
                                         "heldout": ("trial", rec.stimulus.values >= n_conditions - 3)},
                                 attrs={**rec.attrs, "bin_size": 0.05}, name="responses"))
    return recs


def best_of(repeats, function):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("sessions", 8), ("conditions", 16), ("trials", 6), ("neurons", 300), ("bins", 10),
                          ("boot", 100), ("permutations", 20), ("repeats", 2)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--dask-defaults", action="store_true",
                        help="keep distributed's worker settings (malloc trimming, profiler)")
    args = parser.parse_args()
    import dask
    import distributed

    if not args.dask_defaults:
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ,
                         "distributed.worker.profile.enabled": False})

    recs = make_sessions(args.sessions, args.conditions, args.trials, args.neurons, args.bins)
    options = dict(n_boot=args.boot, random_state=0, n_permutations=args.permutations,
                   generalization_target="target")
    warnings.simplefilter("ignore")
    print(f"{args.sessions} sessions x {args.conditions} conditions x {args.trials} trials x {args.neurons} "
          f"neurons x {args.bins} bins, n_boot={args.boot}, n_permutations={args.permutations}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    serial_time, _ = best_of(args.repeats, lambda: summarize(recs, **options, scheduler="synchronous"))
    print(f"in-process (synchronous):      {serial_time:7.2f} s  (one thread: the scale of the work)")
    local_time, local = best_of(args.repeats, lambda: summarize(recs, **options))
    print(f"in-process (threads):          {local_time:7.2f} s")
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        print(f"cluster start-up (not counted): {time.perf_counter() - start:7.2f} s")
        summarize(recs[:2], **dict(options, n_boot=3, n_permutations=1), scheduler=client)  # warm the imports
        remote_time, remote = best_of(args.repeats, lambda: summarize(recs, **options, scheduler=client))
    settings = "distributed's defaults" if args.dask_defaults else "no malloc trimming, no profiler"
    print(f"2-worker LocalCluster:         {remote_time:7.2f} s  ({settings})")
    for name in local.data_vars:
        if local[name].dtype.kind in "fc":
            np.testing.assert_allclose(remote[name].values, local[name].values, rtol=1e-12, atol=0,
                                       err_msg=name)
        else:
            np.testing.assert_array_equal(remote[name].values, local[name].values, err_msg=name)
    print(f"results equal (every variable, rtol 1e-12); cluster / in-process (threads) = "
          f"{remote_time / local_time:.2f}, cluster / synchronous = {remote_time / serial_time:.2f}")


if __name__ == "__main__":
    main()
