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
    against the exact D = tr(C)^2 / tr(C^2), with the fraction of sessions left NaN (unresolved tr(C^2));
(k) coverage of manifold_capacity's interval against an independent truth: log-normal-rate Poisson populations
    (40 cells, 8 conditions x 6 trials, 0.5 s), the truth the simulation capacity of 6-trial clouds of those
    cells by a plain exact LP over 25 fresh trial draws x 32 dichotomies (half-separable count interpolated as
    the statistic does); 6 sessions per population, ``--replicates`` populations (about 2 min each; ``--seed``), the
    interval (value +- 1.96 SD of 16 replicates) and the replicates' re-centred percentiles beside it.

(p) coverage of the radius's interval (stratified delete-one-trial jackknife, on log R) and the dimension's on
    Poisson clouds of log-normal-rate cells against their exact estimands for the recorded cells, beside the
    trial bootstrap's re-centred percentile interval the radius had before.

Usage: ``python benchmarks/bench_capacity.py [--replicates 20] [--part a|b|c|g|k|t|r|p|abcgtr]``.
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


def _poisson_rates(rng, n_conditions=8, n_neurons=40, k=4, gain=1.2):
    """Firing rates (conditions x cells): exp(m_i + gain z_c . u_i), m ~ N(log 5, 1), u ~ N(0, I/k), z_c ~ N(0,
    0.25 I) with the first axis shifted by +-1/2 by an alternating label."""
    labels = np.where(np.arange(n_conditions) % 2, 1.0, -1.0)
    z = rng.normal(0.0, 0.5, (n_conditions, k))
    z[:, 0] += labels / 2.0
    m = rng.normal(np.log(5.0), 1.0, n_neurons)
    u = rng.normal(0.0, 1.0, (n_neurons, k)) / np.sqrt(k)
    return np.exp(m[None, :] + gain * z @ u.T)


def _poisson_trials(rng, rates, n_trials, duration=0.5):
    return rng.poisson(np.repeat(rates, n_trials, axis=0) * duration) / duration


def _lp_separable(points, signs):
    from scipy.optimize import linprog

    result = linprog(np.zeros(points.shape[1]), A_ub=-(signs[:, None] * points), b_ub=-np.ones(len(signs)),
                     bounds=(None, None), method="highs")
    return result.status == 0


def _exact_capacity(rng, rates, n_trials, n_draws=25, n_dichotomies=32):
    """Simulation capacity of ``n_trials``-trial clouds of these cells: over fresh trial draws and dichotomies,
    the smallest separating count of a random nested neuron order by plain bisection, N_c where half separate."""
    n_conditions, n_neurons = rates.shape
    condition = np.repeat(np.arange(n_conditions), n_trials)
    counts = []
    for _ in range(n_draws):
        x = _poisson_trials(rng, rates, n_trials)
        x = x - np.array([x[condition == c].mean(axis=0) for c in range(n_conditions)]).mean(axis=0)
        for _ in range(n_dichotomies):
            signs = rng.choice([-1.0, 1.0], n_conditions)[condition]
            order = rng.permutation(n_neurons)
            if not _lp_separable(x[:, order], signs):
                counts.append(np.inf)
                continue
            lo, hi = 0, n_neurons
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if _lp_separable(x[:, order[:mid]], signs) else (mid, hi)
            counts.append(hi)
    counts = np.array(counts)
    fraction = (counts[None, :] <= np.arange(n_neurons + 1)[:, None]).mean(axis=1)
    n1 = int(np.nonzero(fraction >= 0.5)[0][0])
    return n_conditions / (n1 - 1 + (0.5 - fraction[n1 - 1]) / (fraction[n1] - fraction[n1 - 1]))


def part_k(n_populations, n_sessions=6, n_trials=6, seed=800):
    print(f"(k) manifold_capacity interval vs an exact-LP truth: {n_populations} log-normal Poisson populations x "
          f"{n_sessions} sessions, 8 conditions x {n_trials} trials, 40 cells, 16 replicates")
    rows = []
    for p in range(n_populations):
        rng = np.random.default_rng(seed + p)
        rates = _poisson_rates(rng)
        truth = _exact_capacity(rng, rates, n_trials)
        for d in range(n_sessions):
            x = _poisson_trials(rng, rates, n_trials)
            rec = xr.DataArray(x, dims=("trial", "neuron"), name="responses",
                               coords={"stimulus": ("trial", np.repeat(np.arange(rates.shape[0]), n_trials))})
            ds = manifold_capacity(rec, n_boot=16, random_state=seed * 100 + 10 * p + d)
            value, boot = float(ds["manifold_capacity"]), ds["manifold_capacity_boot"].values
            lo, hi = ds["manifold_capacity_ci"].values
            q_lo, q_mid, q_hi = np.quantile(boot, [0.025, 0.5, 0.975])
            rows.append((truth, value, lo, hi, value + q_lo - q_mid, value + q_hi - q_mid))
            print(f"  population {p} session {d}: truth {truth:.3f} estimate {value:.3f} [{lo:.3f}, {hi:.3f}] "
                  f"(re-centred percentile [{rows[-1][4]:.3f}, {rows[-1][5]:.3f}])", flush=True)
    r = np.array(rows)
    for name, (i, j) in (("value +- 1.96 SD", (2, 3)), ("re-centred percentile", (4, 5))):
        covered = (r[:, i] <= r[:, 0]) & (r[:, 0] <= r[:, j])
        c = covered.mean()
        print(f"  {name}: coverage {covered.sum()}/{len(r)} = {c:.3f} +- {np.sqrt(c * (1 - c) / len(r)):.3f}, "
              f"misses above the truth {int((r[:, i] > r[:, 0]).sum())}, below {int((r[:, j] < r[:, 0]).sum())}")
    print(f"  estimate - truth {np.mean(r[:, 1] - r[:, 0]):+.4f}")


#: part p's designs: (conditions, cells, fewest trials, most trials, log-rate SD, gain)
POISSON_DESIGNS = ((8, 40, 6, 6, 1.0, 0.8), (8, 100, 10, 10, 1.0, 0.8), (16, 100, 6, 10, 1.0, 0.5),
                   (8, 60, 5, 6, 1.0, 0.8), (8, 40, 4, 4, 0.5, 0.8))


def _coverage(hits):
    hits = np.asarray(hits, dtype=bool)
    c = hits.mean()
    return f"{hits.sum()}/{hits.size} = {c:.3f} +- {np.sqrt(c * (1 - c) / hits.size):.3f}"


def part_p(replicates=100, n_boot=200, seed=11, duration=0.5, k=4):
    """Radius and dimension coverage on Poisson clouds of log-normal-rate cells against their exact estimands.

    For the recorded cells ``C_mu = diag(r(mu)/duration)`` exactly (counts over ``duration`` read as rates), so
    ``tr C_mu = sum_i r_i(mu)/duration``, ``tr C_mu^2 = sum_i r_i(mu)^2/duration^2`` and ``c_mu`` is the rate
    vector minus its unweighted mean over conditions. A new population per session. The radius's interval
    before (the trial bootstrap's re-centred percentiles, recomputed from ``manifold_radius_boot``) and now.
    """
    from neurolearn.stats.estimate import bootstrap_interval

    print(f"(p) radius / dimension coverage (95%) on Poisson clouds of log-normal-rate cells, {replicates} sessions "
          f"per design, {n_boot} bootstrap replicates")
    rng = np.random.default_rng(seed)
    for n_conditions, n_neurons, t_min, t_max, sd, gain in POISSON_DESIGNS:
        before, after, z_before, z_after, dim_hits, dim_nan, errors, flagged = [], [], [], [], [], 0, [], 0
        for rep in range(replicates):
            m = rng.normal(np.log(5.0), sd, n_neurons)
            u = rng.normal(0.0, 1.0, (n_neurons, k)) / np.sqrt(k)
            rates = np.exp(m[None] + gain * rng.normal(0.0, 1.0, (n_conditions, k)) @ u.T)
            traces = rates.sum(1) / duration
            radius = np.sqrt(np.mean(traces / np.sum((rates - rates.mean(0)) ** 2, 1)))
            dimension = np.mean(traces ** 2) / np.mean(np.sum(rates ** 2, 1) / duration ** 2)
            stimulus = np.repeat(np.arange(n_conditions), rng.integers(t_min, t_max + 1, n_conditions))
            x = rng.poisson(rates[stimulus] * duration) / duration
            rec = xr.DataArray(x, dims=("trial", "neuron"), coords={"stimulus": ("trial", stimulus)})
            try:
                ds = mean_field_capacity(rec, n_boot=n_boot, random_state=rep)
            except nl.errors.InsufficientDataError:
                continue
            value = float(ds["manifold_radius"])
            old_se, old_ci = bootstrap_interval(value, ds["manifold_radius_boot"].values)
            lo, hi = ds["manifold_radius_ci"].values
            before.append(old_ci[0] <= radius <= old_ci[1])
            after.append(lo <= radius <= hi)
            z_before.append((value - radius) / old_se)
            z_after.append((value - radius) / float(ds["manifold_radius_se"]))
            errors.append(value / radius - 1)
            flagged += bool(str(ds["manifold_radius_flag"].values))
            d_lo, d_hi = ds["manifold_dimension_ci"].values
            if np.isfinite(float(ds["manifold_dimension"])):
                dim_hits.append(d_lo <= dimension <= d_hi)
            else:
                dim_nan += 1
        print(f"  {n_conditions} x {n_neurons} x {t_min}-{t_max} trials (log-rate SD {sd}, gain {gain}): radius "
              f"rel. error {np.mean(errors):+.3f}; bootstrap percentile {_coverage(before)} (z SD "
              f"{np.std(z_before):.2f}) -> jackknife {_coverage(after)} (z SD {np.std(z_after):.2f}; bootstrap "
              f"fallback {flagged}); dimension "
              + (f"{_coverage(dim_hits)}" if dim_hits else "-") + f", NaN {dim_nan}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--part", default="ab")
    parser.add_argument("--seed", type=int, default=800, help="first population's seed (part k)")
    parser.add_argument("--p-seed", type=int, default=11, help="part p's seed")
    args = parser.parse_args()
    if "a" in args.part:
        part_a()
    if "c" in args.part:
        part_c()
    if "t" in args.part:
        part_t()
    if "g" in args.part:
        part_g(max(args.replicates, 100))
    if "k" in args.part:
        part_k(args.replicates, seed=args.seed)
    if "r" in args.part:
        part_r()
    if "p" in args.part:
        part_p(max(args.replicates, 100), seed=args.p_seed)
    if "b" in args.part:
        part_b(args.replicates)
