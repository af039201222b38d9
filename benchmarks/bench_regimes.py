"""How often :func:`neurolearn.classify_regime` calls simulated lazy networks rich, and rich ones lazy.

Every network goes through the public path: :func:`neurolearn.simulate.two_layer.simulate_lazy_rich_sessions`
(a two-layer linear network trained from a mean-field initialisation, the hidden layer recorded; lazy
``gamma0 = 0.1``, rich ``gamma0 = 2``, 10 sessions, session 0 before training) -> recorded with realistic noise
-> :func:`neurolearn.summarize` -> the README / tutorial 02 pair of fits (``"lazy-rich"`` with ``chance = 0.5,
onset = 0`` fixed, and the frozen kernel ``gamma0 = 0.01``) -> :func:`neurolearn.regimes.classify_regime`.

The recording of each network is drawn from its seed: 50-200 neurons, 3-5 trials of 16 conditions, the same
neurons every session (tracked ids) or fresh ones (disjoint hidden units with new ids), and either Gaussian
trial noise (SD 1, hidden responses SD ~3.5) or Poisson spike counts of a rate affine in the hidden response
(2 spikes/s at its lowest, 1 spike/s per unit, 0.5 s windows, as ``data/make_examples.py``).

Two observable sets: ``--observables readme`` (task_alignment, behavior: the README's recipe) and ``all``
(the model's default, adding kernel_change).

Reported per regime: the share called rich, lazy and undetermined, with binomial SEs sqrt(p(1-p)/n).

Measured 2026-12-03 (seeds 0-99 and 1000-1049, 150 networks per regime; 73 Gaussian / 77 spiking each):

* ``readme``: lazy -> rich 0/150 (95% upper bound 3/150 = 0.02), lazy 145/150 = 0.967 +- 0.015, undetermined
  5/150 = 0.033 +- 0.015; rich -> lazy 0/150, rich 138/150 = 0.920 +- 0.022, undetermined 12/150 = 0.080 +-
  0.022. The highest lower end of gamma0's interval on a lazy network: 0.74 (the rule needs > 1).
* ``all``: lazy -> rich 0/150, lazy 148/150, undetermined 2/150 (highest lower end 0.27); rich: rich 70/150 =
  0.467 +- 0.041, lazy 18/150 = 0.120 +- 0.027, undetermined 62/150. Gaussian recordings: 70/73 rich, 0 lazy;
  spiking recordings: 0/77 rich, 18/77 = 0.23 lazy. On spike counts kernel_change reads ~0 (rich seed 9:
  estimates -0.035..0.03, SE 0.016-0.035, against 0.26 for the zero-mean hidden units the model describes;
  tutorial 02's reading: the uncentred kernel's norm is dominated by the neurons' baseline rates), so fitting
  it pulls gamma0 to the lazy end. The free fit's chi-square p on those networks is 0.001 (seed 9) and
  0.002-0.07 (the 6 of seeds 1000-1049), so no misfit guard in the rule separates them from lazy ones. Leave
  kernel_change out of the fit on spike counts, as the README and tutorial 02 do. (Measured before kernel_change
  was double-centred, 2026-12-07: the baselines no longer enter it; on one such trained network's spike counts it
  reads 0.558 for a true 0.558, was 0.041, and a gamma0 = 2 network's lazy-rich interval covered 4/6 with it, was
  0/12. The ``all`` rates above are not re-measured; the classify_regime rule also changed that day: rich needs
  the kernel statistics alone to reject the frozen kernel, lazy needs gamma0's interval below 1.)

Re-measured 2026-12-07 after the centring and both rule changes (rich also needs task_alignment by itself to
reject the frozen kernel: a uniform rate gain moved kernel_change alone), seeds 0-59, 60 networks per regime
(``--n 60 --jobs 2``, 58 s):

* ``readme``: lazy -> rich 0/60, lazy 39/60 = 0.650 +- 0.062, undetermined 21/60; rich -> lazy 0/60, rich
  54/60 = 0.900 +- 0.039, undetermined 6/60. (Lazy calls fell from 0.967: an interval of gamma0 reaching
  above 1 is no longer called lazy.)
* ``all``: lazy -> rich 0/60, lazy 48/60 = 0.800 +- 0.052, undetermined 12/60; rich -> lazy 0/60, rich
  53/60 = 0.883 +- 0.041 (was 0.467 with the uncentred kernel_change), undetermined 7/60.

A 95% rule calls lazy data rich well under 5% here: the reviewer's 5/60 is not reproduced with the current
kernel_change (halved cross-fitted root) and jackknife-scaled task_alignment SEs. 2-6 s per network on
a loaded two-core machine (--jobs 2: 150 + 150 networks in 13 min).

Run:  .venv/bin/python benchmarks/bench_regimes.py [--n 40] [--observables readme all] [--jobs 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

N_SESSIONS = 10
SESSION_INTERVAL = 0.1
N_CONDITIONS = 16
INPUT_DIM = 12
REGIMES = {"lazy": 0.1, "rich": 2.0}
OBSERVABLES = {"readme": ["task_alignment", "behavior"],
               "all": ["task_alignment", "kernel_change", "behavior"]}


def recording_design(seed: int) -> dict:
    """The recording drawn for network ``seed``: neurons, trials, tracked or fresh, Gaussian or spiking."""
    rng = np.random.default_rng([seed, 7])
    return {"n_neurons": int(rng.integers(50, 201)), "n_trials": int(rng.integers(3, 6)),
            "tracked": bool(rng.integers(2)), "spiking": bool(rng.integers(2))}


def simulate(gamma0: float, seed: int, design: dict):
    """A session tree of one network recorded as ``design`` says, and the truth."""
    import xarray as xr

    from neurolearn.simulate.nwb import rates_to_counts
    from neurolearn.simulate.recording import make_session_tree
    from neurolearn.simulate.two_layer import simulate_lazy_rich_sessions

    n = design["n_neurons"]
    pool = n if design["tracked"] else n * N_SESSIONS
    n_hidden = max(1000, 2 * ((pool + 1) // 2))
    rng = np.random.default_rng(seed)
    tree, truth = simulate_lazy_rich_sessions(
        gamma0, n_sessions=N_SESSIONS, session_interval=SESSION_INTERVAL, n_conditions=N_CONDITIONS,
        n_neurons=pool, n_trials=design["n_trials"], noise_sd=0.0 if design["spiking"] else 1.0,
        input_dim=INPUT_DIM, n_hidden=n_hidden, rng=rng)
    recordings = [child.dataset["responses"] for child in tree.children.values()]
    if design["spiking"]:
        lowest = np.min([r.values.min(axis=0) for r in recordings], axis=0)
        recordings = [rates_to_counts((2.0 + (r - lowest)).assign_attrs(r.attrs | {"window": (0.0, 0.5)}), rng=rng)
                      for r in recordings]
    if not design["tracked"]:  # session s records the hidden units s*n .. (s+1)*n - 1 of the pool, new ids
        recordings = [r.isel(neuron=slice(s * n, (s + 1) * n)).assign_coords(neuron=np.arange(s * n, (s + 1) * n))
                      for s, r in enumerate(recordings)]
    recordings = [xr.DataArray(r).assign_attrs(r.attrs | {"tracked": design["tracked"]}) for r in recordings]
    return make_session_tree(recordings), truth


def classify_network(args) -> dict:
    """Simulate, summarise, fit the free and frozen-kernel models for each observable set, classify."""
    regime, seed, observable_sets, n_boot = args
    import neurolearn as nl
    from neurolearn.regimes import classify_regime

    design = recording_design(seed)
    tree, _ = simulate(REGIMES[regime], seed, design)
    start = time.perf_counter()
    stats = nl.summarize(tree, target="target", by="stimulus", behavior="correct", n_boot=n_boot,
                         random_state=seed, readout=False, dynamics=False, n_permutations=0)
    row = dict(regime=regime, seed=seed, **design)
    fixed = {"chance": 0.5, "onset": 0.0}
    for name in observable_sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            free = nl.fit(stats, "lazy-rich", observables=OBSERVABLES[name], fixed=fixed, random_state=0)
            frozen = nl.fit(stats, "lazy-rich", observables=OBSERVABLES[name], fixed=fixed | {"gamma0": 0.01},
                            label="frozen kernel", random_state=0)
        verdict = classify_regime([free, frozen], stats)
        lower, upper = free.ci.get("gamma0", (np.nan, np.nan))
        row |= {f"{name}_call": verdict["regime"], f"{name}_gamma0": float(free.params["gamma0"]),
                f"{name}_lower": float(lower), f"{name}_upper": float(upper),
                f"{name}_misfit": "model misfit" in free.message,
                f"{name}_dAIC": frozen.aic - free.aic, f"{name}_p": float(free.chi2_pvalue),
                f"{name}_frozen_p": float(frozen.chi2_pvalue), f"{name}_evidence": verdict["evidence"]}
    row["seconds"] = time.perf_counter() - start
    return row


def rates(table, name: str) -> str:
    """Share called rich / lazy / undetermined per regime, with binomial SEs."""
    lines = []
    for regime, group in table.groupby("regime"):
        calls = group[f"{name}_call"]
        n = len(calls)
        parts = []
        for call in ("rich", "lazy", "undetermined"):
            p = float((calls == call).mean())
            parts.append(f"{call} {int((calls == call).sum())}/{n} = {p:.3f} +- {np.sqrt(p * (1 - p) / n):.3f}")
        lines.append(f"  {regime} (gamma0 = {REGIMES[regime]:g}): " + ", ".join(parts))
    return "\n".join(lines)


def main(argv=None):
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="networks per regime")
    parser.add_argument("--observables", nargs="*", default=["readme", "all"], choices=sorted(OBSERVABLES))
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--csv", help="write the per-network table here")
    args = parser.parse_args(argv)
    tasks = [(regime, args.seed + i, args.observables, args.boot) for regime in REGIMES for i in range(args.n)]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(classify_network, tasks))
    else:
        rows = [classify_network(task) for task in tasks]
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(f"{len(table)} networks, {time.perf_counter() - start:.0f} s")
    for name in args.observables:
        print(f"observables {name} ({', '.join(OBSERVABLES[name])}):")
        print(rates(table, name))
        wrong = table[(table.regime == "lazy") & (table[f"{name}_call"] == "rich")]
        for _, r in wrong.iterrows():
            print(f"    lazy called rich: seed {r.seed} N={r.n_neurons} trials={r.n_trials} tracked={r.tracked} "
                  f"spiking={r.spiking}: {r[f'{name}_evidence']}")
    return table


if __name__ == "__main__":
    main()
