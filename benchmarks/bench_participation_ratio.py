"""Participation ratio on realistic spiking sessions: refusals, impossible values, bias and 95% coverage.

Sessions from :func:`neurolearn.simulate.spiking.spiking_sessions` (log-normal baseline rates across neurons,
Poisson counts, fresh neurons each replicate) with the population truth over the shown conditions
(``truth.statistics["participation_ratio"]``, a closed form). Per shape (conditions P, trials T, neurons N)
it reports the fraction of sessions refused (InsufficientDataError), values outside [1, P - 1], intervals
missing their own estimate, the mean error of the estimate, and the coverage of the truth by the 95%
interval among the sessions not refused.

Run: ``python benchmarks/bench_participation_ratio.py [replicates] [n_boot]`` (defaults 200, 400;
about 30 minutes on a shared machine at the defaults).

``--tail [sessions] [design]``: a population whose kernel is carried by rare neurons (log-normal baselines,
sd 1, times exp(gain z_μ·u_i) with 3-d tuning u_i, 10% silent, Poisson counts in 0.5 s, unequal trials, a
different set of neurons every session), two tunings A and B of one design (``TAIL_DESIGNS``). Per tuning:
the truth (400k noiseless neurons), the truth without the top 1% of neurons by tr H K_i H, their share of
tr HΦH, the median estimate, 95% coverage and the sessions refused. Measured (n_boot 200): design 0 (4
conditions x 2-6 trials x 40 neurons, 400 sessions) A: truth 1.180 (1.231 without the top 1%, share 0.57),
median estimate 1.206, coverage 0.982 ± 0.010; B: truth 1.244 (1.586, share 0.70), median 1.744, coverage
0.759 ± 0.036. Design 1 (8 x 2-10 x 100, 300 sessions) A: truth 1.728 (1.974, 0.56), median 1.995,
coverage 0.865 ± 0.029; B: 2.309 (2.380, 0.66), median 2.495, coverage 0.993 ± 0.007. The interval is
the recorded neurons' (module docstring of neurolearn.stats.dimensionality, "Limit"). The truth of B
itself moves by 0.07 between draws of 400k neurons.

Measured (100 replicates per cell, n_boot 300, 72 cells, 6 minutes): 0 values outside [1, P - 1], 0 intervals
missing their estimate; 14.6% of sessions refused (48% at 30 neurons, 9% at 100, < 1% at 300 and 600); 95%
coverage pooled 0.964, per cell with >= 50 estimates median 0.969, range 0.916-1.000. By neurons (pooled,
cell range): 30: 0.978 (0.82-1.00; the low cells have few non-refused sessions), 100: 0.974 (0.94-1.00),
300: 0.955 (0.92-0.98), 600: 0.958 (0.92-1.00). Before the jackknife floor on the replicates' spread (200
replicates, n_boot 400) the 300-600-neuron cells covered 0.88-0.98 (pooled 0.933-0.938): at many neurons the
Poisson bootstrap's SD was 10-15% below the sampling SD (log-normal rates: a few neurons carry most of the
kernel). Few neurons over-cover: there the estimate's positive bias (up to +1.8 at 30 neurons, 16
conditions) is smaller than the interval.

``--shared [datasets] [gain CV] [tuning]``: participation_ratio through :func:`neurolearn.summarize` under a
per-trial gain shared by every neuron, an independent simulation (not the simulator's): rates b_i exp(a z_μ·u_i)
over log-normal baselines b_i (log-mean 1, log-SD 1), u_i ~ N(0, I/3), 8 fixed latent positions z_μ, Poisson
counts in 0.5 s times a gamma gain of mean 1 and the given CV (0: no gain), two sessions of fresh neurons per
dataset, both scored; the truth is the population value in closed form (E_i r_μi r_νi ∝ exp(a² ‖z_μ + z_ν‖² / 6)).
Per shape (600 x 3 x 8, 150 x 5 x 8): coverage +- binomial SE, misses above/below, mean width and error.
Measured 2026-12-07 (200 datasets, n_boot 100; before -> after summarize forms the interval with the shift's
scatter and error in place of the t scaling, neurolearn.stats.shared_noise.shift_term; coverage, width):
tuning a = 0.2 (the gain's baseline part dominates), gain CV 0.3: 600 x 3 x 8 0.901 +- 0.015 -> 0.973 +- 0.008
(2.96 -> 3.94; misses above 0.096 -> 0.027), 150 x 5 x 8 0.896 +- 0.016 -> 0.925 +- 0.013 (3.08 -> 3.40);
a = 0.5: 0.935 +- 0.012 -> 0.937 +- 0.012 (2.23 -> 2.17), 0.926 +- 0.013 -> 0.941 +- 0.012 (2.32 -> 2.35);
without a gain every number the same before and after (a = 0.2: 0.920 +- 0.014, width 1.65; 0.957 +- 0.010,
2.92).
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np

from neurolearn.errors import InsufficientDataError
from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats.dimensionality import participation_ratio

CONDITIONS = (4, 8, 16)
TRIALS = (2, 5, 10)
NEURONS = (30, 100, 300, 600)
LATENT_DIMS = (4, 12)


def one_shape(n_cond, n_trials, n_neurons, latent_dim, replicates, n_boot, seed):
    rows = []
    for rep in range(replicates):
        tree, truth = spiking_sessions(n_sessions=1, n_conditions=n_cond, n_trials=n_trials, n_neurons=n_neurons,
                                       latent_dim=latent_dim, separation=(1.0, 1.0), random_state=seed + rep)
        target = float(truth.statistics["participation_ratio"].values[0])
        rec = tree["day00"]["responses"]
        try:
            ds = participation_ratio(rec, n_boot=n_boot, random_state=rep)
        except InsufficientDataError:
            rows.append((np.nan, np.nan, np.nan, target))
            continue
        lo, hi = ds["participation_ratio_ci"].values
        rows.append((float(ds["participation_ratio"]), lo, hi, target))
    return np.array(rows)


def summarise(rows, n_cond):
    value, lo, hi, target = rows.T
    ok = np.isfinite(value)
    covered = (lo[ok] <= target[ok]) & (target[ok] <= hi[ok])
    return {
        "refused": 1 - ok.mean(),
        "outside": int(np.sum((value[ok] < 1) | (value[ok] > n_cond - 1))),
        "ci_misses_estimate": int(np.sum((value[ok] < lo[ok]) | (value[ok] > hi[ok]))),
        "truth": float(np.mean(target)),
        "error": float(np.mean(value[ok] - target[ok])) if ok.any() else np.nan,
        "coverage": float(covered.mean()) if ok.any() else np.nan,
        "n": int(ok.sum()),
    }


def main(replicates=200, n_boot=400):
    print(f"{'P':>3} {'T':>3} {'N':>4} {'d':>3} {'truth':>6} {'refused':>8} {'outside':>8} {'ci!est':>6} "
          f"{'error':>7} {'cover95':>8} {'n':>4}")
    start = time.time()
    cells = []
    for k, (n_cond, n_trials, n_neurons, d) in enumerate(itertools.product(CONDITIONS, TRIALS, NEURONS, LATENT_DIMS)):
        s = summarise(one_shape(n_cond, n_trials, n_neurons, d, replicates, n_boot, seed=10_000 * k), n_cond)
        cells.append(s)
        print(f"{n_cond:>3} {n_trials:>3} {n_neurons:>4} {d:>3} {s['truth']:6.2f} {s['refused']:8.2f} "
              f"{s['outside']:8d} {s['ci_misses_estimate']:6d} {s['error']:+7.2f} {s['coverage']:8.3f} {s['n']:4d}",
              flush=True)
    n = np.array([c["n"] for c in cells])
    coverage = np.array([c["coverage"] for c in cells])
    print(f"values outside [1, P - 1]: {sum(c['outside'] for c in cells)}; intervals missing their estimate: "
          f"{sum(c['ci_misses_estimate'] for c in cells)}; sessions refused: {1 - n.sum() / (replicates * len(cells)):.3f}")
    print(f"coverage pooled over all estimates: {np.nansum(coverage * n) / n.sum():.3f}; per cell with >= 50 "
          f"estimates: median {np.median(coverage[n >= 50]):.3f}, range {coverage[n >= 50].min():.3f}-"
          f"{coverage[n >= 50].max():.3f}, within 0.92-0.98: {np.mean(np.abs(coverage[n >= 50] - 0.95) <= 0.03):.2f}")
    print(f"({time.time() - start:.0f} s)")


#: (conditions, fewest trials, most trials, neurons, tuning gain, shift of tuning B from A)
TAIL_DESIGNS = ((4, 2, 6, 40, 0.8, 0.6), (8, 2, 10, 100, 0.8, 0.6), (16, 3, 10, 300, 0.6, 0.4))


def _tail_rates(rng, n, latents, gain):
    base = rng.normal(np.log(5.0), 1.0, n)
    tuning = rng.normal(0.0, 1.0, (n, 3)) / np.sqrt(3.0)
    silent = rng.random(n) < 0.1
    return [np.where(silent[None], 0.0, np.exp(base[None] + gain * z @ tuning.T)) for z in latents]


def _pr_of(kernel):
    centred = kernel - kernel.mean(axis=0) - kernel.mean(axis=1)[:, None] + kernel.mean()
    return float(np.trace(centred) ** 2 / np.sum(centred * centred))


def tail(sessions=400, design=0, n_boot=200):
    """Coverage on a population whose kernel is carried by rare neurons (module docstring, ``--tail``)."""
    import xarray as xr

    n_cond, fewest, most, n_neurons, gain, shift = TAIL_DESIGNS[design]
    rng = np.random.default_rng(7000 + design)
    classes = np.arange(n_cond) % 2
    z_a = np.zeros((n_cond, 3))
    z_a[:, 0] = classes - 0.5
    z_a += rng.normal(0.0, 0.5, z_a.shape)
    z_b = z_a + shift * rng.normal(0.0, 1.0, z_a.shape)
    population = _tail_rates(np.random.default_rng(5), 400_000, (z_a, z_b), gain)
    truth = []
    for label, rates in zip("AB", population):
        centred = rates - rates.mean(axis=0)
        order = np.argsort(np.sum(centred * centred, axis=0))
        body = order[: int(0.99 * order.size)]
        share = 1.0 - np.sum(centred[:, body] ** 2) / np.sum(centred**2)
        truth.append(_pr_of(rates @ rates.T))
        print(f"tuning {label}: truth {truth[-1]:.3f}, without the top 1% of neurons {_pr_of(rates[:, body] @ rates[:, body].T):.3f}"
              f" (their share of tr HΦH {share:.2f})", flush=True)
    del population
    rows = {0: [], 1: []}
    for s in range(sessions):
        kind = s % 2
        rates = _tail_rates(rng, n_neurons, (z_a, z_b), gain)[kind]
        stim = np.repeat(np.arange(n_cond), rng.integers(fewest, most + 1, n_cond))
        counts = rng.poisson(rates[stim] * 0.5) / 0.5
        rec = xr.DataArray(counts, dims=("trial", "neuron"), name="responses",
                           coords={"stimulus": ("trial", stim), "neuron": [f"s{s}/{i}" for i in range(n_neurons)]},
                           attrs={"session_id": f"s{s}"})
        try:
            ds = participation_ratio(rec, n_boot=n_boot, random_state=s)
        except InsufficientDataError:
            rows[kind].append((np.nan, np.nan, np.nan))
            continue
        rows[kind].append((float(ds["participation_ratio"]), *map(float, ds["participation_ratio_ci"].values)))
    for kind, label in enumerate("AB"):
        value, lo, hi = np.array(rows[kind]).T
        ok = np.isfinite(value)
        covered = np.mean((lo[ok] <= truth[kind]) & (truth[kind] <= hi[ok]))
        print(f"design {TAIL_DESIGNS[design]}, tuning {label}: median estimate {np.median(value[ok]):.3f}, "
              f"coverage {covered:.3f} +- {np.sqrt(covered * (1 - covered) / ok.sum()):.3f} ({ok.sum()} of "
              f"{ok.size} sessions not refused)", flush=True)


#: the --shared population: 8 latent positions (3 dimensions), fixed
SHARED_LATENTS = np.random.default_rng(123).normal(0.0, 1.0, (8, 3))


def _gain_population_pr(tuning):
    kernel = np.exp(tuning**2 * np.sum((SHARED_LATENTS[:, None] + SHARED_LATENTS[None]) ** 2, axis=-1) / 6.0)
    return _pr_of(kernel)


def _gain_session(rng, name, n_neurons, n_trials, gain_cv, tuning):
    import xarray as xr

    n_cond = SHARED_LATENTS.shape[0]
    directions = rng.standard_normal((n_neurons, 3)) / np.sqrt(3.0)
    rates = rng.lognormal(1.0, 1.0, n_neurons) * np.exp(tuning * SHARED_LATENTS @ directions.T)
    gain = rng.gamma(1.0 / gain_cv**2, gain_cv**2, (n_cond * n_trials, 1)) if gain_cv > 0 else 1.0
    counts = rng.poisson(gain * 0.5 * np.repeat(rates, n_trials, axis=0)) / 0.5
    labels = np.repeat(np.arange(n_cond), n_trials)
    return xr.DataArray(counts, dims=("trial", "neuron"), name="responses",
                        coords={"stimulus": ("trial", labels), "target": ("trial", labels % 2 * 2.0 - 1.0),
                                "neuron": [f"{name}/{i}" for i in range(n_neurons)]},
                        attrs={"session_id": name})


def shared(datasets=200, gain_cv=0.3, tuning=0.2, n_boot=100):
    """participation_ratio's coverage under a shared gamma gain (module docstring, ``--shared``)."""
    import warnings

    from neurolearn.stats.summary import summarize

    truth = _gain_population_pr(tuning)
    for n_neurons, n_trials in ((600, 3), (150, 5)):
        rows = []
        for rep in range(datasets):
            rng = np.random.default_rng([rep, n_neurons, n_trials])
            recs = [_gain_session(rng, f"d{rep}s{k}", n_neurons, n_trials, gain_cv, tuning) for k in range(2)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = summarize(recs, n_boot=n_boot, random_state=rep, readout=False, dynamics=False, behavior=None)
            for k in range(2):
                lo, hi = ds["participation_ratio_ci"].values[k]
                rows.append((float(ds["participation_ratio"].values[k]), lo, hi))
        value, lo, hi = np.array(rows, dtype=float).T
        ok = np.isfinite(value) & np.isfinite(lo)
        covered = float(np.mean((lo[ok] <= truth) & (truth <= hi[ok])))
        print(f"gain CV {gain_cv:g}, tuning {tuning:g}, {n_neurons} x {n_trials} x 8 (truth {truth:.3f}): coverage "
              f"{covered:.3f} +- {np.sqrt(covered * (1 - covered) / ok.sum()):.3f} ({ok.sum()} of {ok.size}), misses "
              f"above {np.mean(truth > hi[ok]):.3f} below {np.mean(truth < lo[ok]):.3f}, mean width "
              f"{np.mean(hi[ok] - lo[ok]):.3f}, mean error {np.mean(value[ok] - truth):+.3f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tail"]:
        tail(*(int(a) for a in sys.argv[2:4]))
    elif sys.argv[1:2] == ["--shared"]:
        shared(*(f(a) for f, a in zip((int, float, float, int), sys.argv[2:6])))
    else:
        main(*(int(a) for a in sys.argv[1:3]))
