"""Readout capacity (issue 12 item 3): extractors on known geometry, the `capacity` model against its simulator.

Prints

(a) simulation capacity (random dichotomies, exact LP) and the elliptical mean-field estimate on clouds of
    known geometry against the closed forms: points (Cover, alpha = 2) and uniformly sampled spheres /
    ellipsoids (the ball formula alpha_B(R, D) of Chung, Lee & Sompolinsky), at several trial counts;
(b) the reduced model `capacity` fitted (neurolearn.fit, time_scale = 1, onset = 0 fixed) to statistics
    extracted from :func:`neurolearn.simulate.manifolds.manifold_sessions`: R^2 of the fitted prediction
    against the extracted values, per observable, and coverage of the 95% profile intervals of the five
    parameters over replicates.

(c) coverage of the mean-field intervals (radius, dimension, capacity) against the exact geometry;
(r) one larger run: the extracted statistics, the fitted and true model curves and R^2;
(t) the model's manifold_capacity (the full manifolds' alpha_B) against the simulation capacity of T sampled
    trials on uniform spheres, T = 2, 10, 20 x D: where the statistic's flag is empty and where it is not;
(g) coverage of the dimension's interval on Gaussian clouds (isotropic, or eigenvalues ~ 1/k) at few trials,
    against the exact D = tr(C)^2 / tr(C^2), with the fraction of sessions left NaN (unresolved tr(C^2)).

Usage: ``python benchmarks/bench_capacity.py [--replicates 20] [--part a|b|c|g|t|r|abcgtr]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import xarray as xr

import neurolearn as nl
from neurolearn.simulate.manifolds import manifold_recording, manifold_sessions, pooled_dimension
from neurolearn.stats.capacity import manifold_capacity, mean_field_capacity
from neurolearn.theory.capacity import MODEL, ball_capacity

TRUTH = {"radius_initial": 1.2, "radius_final": 0.4, "dimension_initial": 3.0, "dimension_final": 1.5, "rate": 0.5}
SHAPE = {"n_conditions": 8, "n_neurons": 60, "n_trials": 24}


def part_a():
    print("(a) capacity on known geometry: simulation (LP, 32 dichotomies) and mean-field vs closed form")
    print(f"{'R':>6} {'D':>5} {'P':>3} {'m':>3} {'closed':>7} {'sim':>13} {'mean-field':>13}")
    cases = [(1e-4, 3.0, 40, 4), (0.5, 2.0, 12, 10), (0.5, 2.0, 12, 40), (1.0, 3.0, 12, 10), (1.0, 3.0, 12, 40),
             (2.0, 2.0, 12, 40), (0.5, 5.0, 12, 40), (1.0, 2.5, 12, 40)]
    for radius, dimension, p, m in cases:
        n = max(120, p * (2 + int(np.ceil(dimension))))
        rec = manifold_recording(radius, dimension, n_conditions=p, n_neurons=n, n_trials=m, rng=1)
        sim = manifold_capacity(rec, n_boot=4, random_state=0)
        mf = mean_field_capacity(rec, n_boot=100, random_state=0)
        print(f"{radius:6.2g} {dimension:5.1f} {p:3d} {m:3d} {float(ball_capacity(radius, dimension)):7.3f} "
              f"{float(sim.manifold_capacity):6.3f}+-{float(sim.manifold_capacity_se):5.3f} "
              f"{float(mf.mean_field_capacity):6.3f}+-{float(mf.mean_field_capacity_se):5.3f}", flush=True)


def session_statistics(tree, *, n_boot_sim=6, n_dichotomies=24, random_state=0):
    """The Dataset neurolearn.fit takes: the three observables with SEs over `session`."""
    rng = np.random.default_rng(random_state)
    rows = {k: [] for k in ("manifold_capacity", "manifold_radius", "manifold_dimension")}
    ses = {k: [] for k in rows}
    for name, rec in nl.data.session_recordings(tree).items():
        sim = manifold_capacity(rec, n_dichotomies=n_dichotomies, n_boot=n_boot_sim, random_state=rng)
        mf = mean_field_capacity(rec, n_boot=100, random_state=rng)
        rows["manifold_capacity"].append(float(sim.manifold_capacity))
        ses["manifold_capacity"].append(float(sim.manifold_capacity_se))
        for k in ("manifold_radius", "manifold_dimension"):
            rows[k].append(float(mf[k]))
            ses[k].append(float(mf[f"{k}_se"]))
    ids = list(tree.children)
    data = {k: ("session", np.array(v)) for k, v in rows.items()}
    data |= {f"{k}_se": ("session", np.array(v)) for k, v in ses.items()}
    return xr.Dataset(data, coords={"session": ids, "session_index": ("session", np.arange(len(ids)))})


def r_squared(measured, predicted):
    measured, predicted = np.asarray(measured), np.asarray(predicted)
    return 1.0 - np.sum((measured - predicted) ** 2) / np.sum((measured - measured.mean()) ** 2)


def part_b(replicates, n_sessions=8):
    print(f"(b) model 'capacity' vs manifold_sessions ({n_sessions} sessions, {SHAPE}), truth {TRUTH}")
    covered = {k: [] for k in TRUTH}
    r2 = {k: [] for k in MODEL.observables}
    for rep in range(replicates):
        start = time.time()
        tree, truth = manifold_sessions(n_sessions, **TRUTH, **SHAPE, rng=100 + rep)
        stats = session_statistics(tree, random_state=rep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = nl.fit(stats, MODEL, fixed={"time_scale": 1.0, "onset": 0.0}, random_state=rep)
        predicted = MODEL.predict(stats.session_index.values, **{k: result.params[k] for k in TRUTH})
        for k in MODEL.observables:
            r2[k].append(r_squared(stats[k].values, predicted[k].values))
        for k, value in TRUTH.items():
            lo, hi = result.ci[k]
            covered[k].append(bool(lo <= value <= hi))
        print(f"  rep {rep}: chi2/dof {result.chi2 / max(stats.sizes['session'] * 3 - 5, 1):.2f} "
              + " ".join(f"{k}={result.params[k]:.3g}[{result.ci[k][0]:.3g},{result.ci[k][1]:.3g}]" for k in TRUTH)
              + " R2 " + " ".join(f"{r2[k][-1]:.3f}" for k in MODEL.observables)
              + f" ({time.time() - start:.0f}s)", flush=True)
    print("  coverage of 95% intervals: " + ", ".join(f"{k} {np.mean(v):.2f}" for k, v in covered.items())
          + f" (pooled {np.mean([c for v in covered.values() for c in v]):.3f} over {replicates} replicates)")
    print("  R^2 fitted vs extracted (median, min): " + ", ".join(
        f"{k} {np.median(v):.3f} {np.min(v):.3f}" for k, v in r2.items()))


def part_c(replicates=100):
    """Coverage of the mean-field statistics' 95% intervals against the simulator's exact R, D, alpha_B."""
    print(f"(c) mean-field interval coverage, {replicates} replicates per geometry, {SHAPE}")
    for radius, dimension in ((1.2, 3.0), (0.4, 1.5), (0.8, 2.2)):
        pooled = pooled_dimension(dimension, SHAPE["n_conditions"])  # the dimension's estimand
        truth = {"manifold_radius": radius, "manifold_dimension": pooled,
                 "mean_field_capacity": float(ball_capacity(radius, pooled))}
        hits = {k: [] for k in truth}
        for rep in range(replicates):
            rec = manifold_recording(radius, dimension, **SHAPE, rng=1000 + rep)
            ds = mean_field_capacity(rec, n_boot=200, random_state=rep)
            for k, v in truth.items():
                lo, hi = ds[f"{k}_ci"].values
                hits[k].append(bool(lo <= v <= hi))
        print(f"  R={radius} D={dimension}: " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in hits.items()),
              flush=True)


GAUSSIAN_DESIGNS = ((8, 6, 60, 0.5, False), (8, 6, 60, 0.5, True), (8, 20, 60, 0.5, False), (4, 5, 30, 0.3, False),
                    (16, 10, 100, 0.7, True), (4, 8, 30, 0.3, False))


def part_g(replicates=100):
    """Dimension (and radius) coverage on Gaussian clouds: conditions x trials x neurons, few trials."""
    print(f"(g) Gaussian clouds, {replicates} replicates per design: dimension and radius coverage (95%)")
    for n_conditions, n_trials, n_neurons, sd, anisotropic in GAUSSIAN_DESIGNS:
        rng = np.random.default_rng(0)
        means = rng.standard_normal((n_conditions, n_neurons))
        variances = 1.0 / np.arange(1, n_neurons + 1) if anisotropic else np.ones(n_neurons)
        variances = sd ** 2 * variances / variances.mean()
        centred = means - means.mean(0)
        radius = np.sqrt(np.mean(variances.sum() / np.sum(centred ** 2, 1)))
        dimension = variances.sum() ** 2 / np.sum(variances ** 2)
        values, hits_d, hits_r = [], [], []
        stimulus = np.repeat(np.arange(n_conditions), n_trials)
        for rep in range(replicates):
            x = means[stimulus] + rng.standard_normal((stimulus.size, n_neurons)) * np.sqrt(variances)
            rec = xr.DataArray(x, dims=("trial", "neuron"), coords={"stimulus": ("trial", stimulus)})
            ds = mean_field_capacity(rec, n_boot=100, random_state=rep)
            values.append(float(ds["manifold_dimension"]))
            lo, hi = ds["manifold_dimension_ci"].values
            hits_d.append(bool(lo <= dimension <= hi))
            lo, hi = ds["manifold_radius_ci"].values
            hits_r.append(bool(lo <= radius <= hi))
        values = np.array(values)
        finite = np.isfinite(values)
        covered = np.array(hits_d)[finite].mean() if finite.any() else np.nan
        print(f"  {n_conditions} x {n_trials} x {n_neurons} {'anisotropic' if anisotropic else 'isotropic'}: "
              f"D {dimension:.2f}, finite {finite.mean():.2f}, mean {np.nanmean(values) if finite.any() else np.nan:.2f} "
              f"(sd {np.nanstd(values) if finite.any() else np.nan:.2f}), coverage {covered:.3f} of finite; "
              f"R {radius:.3f} coverage {np.mean(hits_r):.3f}", flush=True)


def part_t(seeds=2):
    """Simulation capacity of T trials per sphere (16 conditions, 160 neurons, 48 dichotomies) vs alpha_B(R, D)."""
    print("(t) sampled trials vs the full manifolds' capacity alpha_B(R, D): uniform spheres, 16 conditions")
    filled_sim, filled_ball = [], []
    for radius in (0.3, 0.7, 1.5):
        for dimension in (1, 2, 3):
            for times in (2, 10, 20):
                n_trials = times * dimension
                values, flags = [], []
                for seed in range(seeds):
                    rec = manifold_recording(radius, float(dimension), n_conditions=16, n_neurons=160,
                                             n_trials=n_trials, rng=100 * seed + n_trials)
                    ds = manifold_capacity(rec, n_dichotomies=48, n_boot=0, random_state=seed)
                    values.append(float(ds["manifold_capacity"]))
                    flags.append(bool(str(ds["manifold_capacity_flag"].values)))
                ball = float(ball_capacity(radius, dimension))
                if times >= 10:
                    filled_sim.append(np.mean(values))
                    filled_ball.append(ball)
                print(f"  R {radius} D {dimension} T {n_trials}: simulated {np.mean(values):.3f}, alpha_B {ball:.3f}, "
                      f"ratio {np.mean(values) / ball:.3f}, flagged {np.mean(flags):.2f}", flush=True)
    sim, ball = np.array(filled_sim), np.array(filled_ball)
    print(f"  T >= 10 D: R^2 of alpha_B against the simulation {1 - np.sum((sim - ball) ** 2) / np.sum((sim - sim.mean()) ** 2):.3f}")


def part_r(n_sessions=8):
    """One larger, more precise run (16 conditions, 40 trials, 64 dichotomies): R^2 not limited by the SEs."""
    shape = {"n_conditions": 16, "n_neurons": 120, "n_trials": 40}
    print(f"(r) one precise run: {shape}, truth {TRUTH}")
    tree, truth = manifold_sessions(n_sessions, **TRUTH, **shape, rng=7)
    stats = session_statistics(tree, n_boot_sim=4, n_dichotomies=64, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nl.fit(stats, MODEL, fixed={"time_scale": 1.0, "onset": 0.0}, random_state=7)
    predicted = MODEL.predict(stats.session_index.values, **{k: result.params[k] for k in TRUTH})
    true_curve = MODEL.predict(stats.session_index.values, **TRUTH)
    for k in MODEL.observables:
        print(f"  {k}: extracted {np.round(stats[k].values, 3).tolist()} +- {np.round(stats[k + '_se'].values, 3).tolist()}")
        print(f"     fitted {np.round(predicted[k].values, 3).tolist()}; model at truth "
              f"{np.round(true_curve[k].values, 3).tolist()}; R^2 fitted {r_squared(stats[k], predicted[k]):.3f}, "
              f"at truth {r_squared(stats[k], true_curve[k]):.3f}")
    print("  fit: " + " ".join(f"{k}={result.params[k]:.3g}[{result.ci[k][0]:.3g},{result.ci[k][1]:.3g}]"
                               for k in TRUTH) + f" chi2 {result.chi2:.1f} on {stats.sizes['session'] * 3 - 5} dof")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--part", default="ab")
    args = parser.parse_args()
    if "a" in args.part:
        part_a()
    if "c" in args.part:
        part_c()
    if "t" in args.part:
        part_t()
    if "g" in args.part:
        part_g(max(args.replicates, 100))
    if "r" in args.part:
        part_r()
    if "b" in args.part:
        part_b(args.replicates)
