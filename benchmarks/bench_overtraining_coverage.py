"""Why the overtraining model's time_scale and heldout_gain profile intervals under-cover in its recovery design.

Design: tests/test_recovery.py's (:func:`neurolearn.fitting.recovery_study`: 20 sessions, SE 5% of each
statistic's range, onset -0.5, ``n_starts=2``), replicate ``i`` simulated and fitted with seed ``i``. Per replicate
and parameter it reports whether the fit's 95% profile interval holds the truth, and the profile statistic at the
truth, ``Delta = min chi2 with the parameter held at its truth - min chi2`` (both minima over the fit's own optimum,
an 8-start fit and, for the held fit, a local run from the optimum). Wilks' theorem says ``Delta ~ chi2_1`` (mean
1, 95% quantile 3.84): where ``Delta <= 3.84`` disagrees with the interval the profile stopped short, where
``Delta``'s 95% quantile exceeds 3.84 the chi2_1 calibration fails. It also counts the fits in the "corner"
basin: the onset within 0.05 sessions of the first session, where that session sits at model time ~0, behaviour
there is fitted by a step (``behavior_width`` at its 0.01 bound) and the held-out and decoder starting levels
become the first session's values.

Measured (2026-12-08; binomial SEs):

* seeds 1000..1099: reported coverage time_scale 0.90 +- 0.03, heldout_gain 0.86 +- 0.035 (decoder_gain 0.93, the
  rest 0.92-1.00). With the exact ``Delta`` at the truth 0.92 +- 0.027 and 0.88 +- 0.032: 2/100 each are intervals
  closed short from the corner basin (onset -0.01..-0.03 in all four; the profile stays there while the truth's
  profile point lies in the other basin). ``Delta`` at the truth: time_scale mean 0.87, 95% quantile 4.15;
  heldout_gain mean 1.46, 95% quantile 5.43: chi2_1 under-calibrated on this block. No bias (median estimates
  2.03 / 1.003 against 2.18 / 1.0), chi2 at the optimum mean 87.4 on 89 dof (noise and weights agree), the
  multistart misses a lower minimum once in 100 (by 0.05). Neither the onset known (Delta means 1.46 / 1.56), nor
  the starting-level and behaviour_width bounds relaxed (21 seeds: 0.84 / 1.26), nor a parametric bootstrap of
  ``Delta`` at the estimate (24 per fit, 52 seeds: pooled mean 0.83 / 0.92; heldout_gain coverage 0.865 with its
  95% quantile as threshold) removes the excess.
* other blocks, reported / exact ``Delta <= 3.84``: 1100..1149 time_scale 0.86 / 0.96 (5 intervals closed short,
  all in the corner, whose coverage is 0.68), heldout_gain 0.94 / 0.94; 2000..2049 1.00 / 1.00 and 0.98 / 0.98
  (``Delta`` mean 0.51 / 0.75); 4000..4049 1.00 / 1.00 and 0.90 / 0.92. Pooled exact coverage over these 250
  replicates: time_scale 0.96 +- 0.012, heldout_gain 0.92 +- 0.017 (Wilks mildly anti-conservative for the gain,
  with a heavy, block-to-block variable tail).
* a profile start with the nuisances at a box edge reset to their defaults (proposed for
  neurolearn.fitting.intervals) closes the four short intervals: 1000..1099 time_scale 0.90 -> 0.92, heldout_gain
  0.86 -> 0.88, margin_gain 0.95 -> 0.98, decoder_gain 0.93 -> 0.94; 1100..1149 time_scale 0.86 -> 0.96, decoder_gain
  0.96 -> 0.98; 2000..2049 and 3000..3059 (fresh) no coverage change; no covered interval lost anywhere.

Run: ``python -m benchmarks.bench_overtraining_coverage [--first 1000] [--n 100] [--params time_scale,heldout_gain]``
(~5 s a replicate).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from neurolearn.fitting import fit
from neurolearn.fitting.multistart import local_fit
from neurolearn.fitting.problem import ONSET, TIME_SCALE, build_problem
from neurolearn.fitting.recovery import characteristic_time, recovery_truth
from neurolearn.fitting.synthetic import simulate_statistics
from neurolearn.theory import get_model

Q95 = 3.8415  # chi2_1 95% quantile


def design(n_sessions=20, relative_se=0.05, onset=-0.5):
    """The recovery design of tests/test_recovery.py: (model, truth, time_scale, onset, SEs)."""
    model = get_model("overtraining")
    truth = recovery_truth(model)
    time_scale = 1.5 * characteristic_time(model, truth) / (n_sessions - 1)
    tau = time_scale * np.maximum(np.arange(n_sessions) - onset, 0.0)
    noiseless = model.predict(tau, **truth)
    se = {name: max(relative_se * float(np.ptp(noiseless[name].values)),
                    1e-3 * max(float(np.abs(noiseless[name].values).mean()), 1.0)) for name in model.observables}
    return model, truth, time_scale, onset, se


def _unit(problem, values):
    return np.clip([float(p.to_unit(values[p.name])) for p in problem.free], 0.0, 1.0)


def replicate(seed, params, n_starts_check=8):
    """One replicate: coverage, estimate and Delta at the truth for each of ``params``; the onset estimate."""
    model, truth, time_scale, onset, se = design()
    full = {**truth, TIME_SCALE: time_scale, ONSET: onset}
    stats = simulate_statistics(model, truth, n_sessions=20, se=se, time_scale=time_scale, onset=onset,
                                random_state=seed)
    res = fit(stats, model, n_starts=2, random_state=seed)
    wide = fit(stats, model, n_starts=n_starts_check, interval=None, random_state=seed + 100_000)
    best = min(res.chi2, wide.chi2)
    out = {"seed": seed, "onset": res.params[ONSET], "missed_minimum": res.chi2 - wide.chi2}
    for name in params:
        held = fit(stats, model, fixed={name: full[name]}, n_starts=n_starts_check, interval=None,
                   random_state=seed).chi2
        problem = build_problem(stats, model, fixed={name: full[name]})
        held = min(held, local_fit(problem, _unit(problem, res.params)).chi2)
        lo, hi = res.ci[name]
        out[name] = {"covered": bool(lo <= full[name] <= hi), "delta": float(held - min(best, held)),
                     "estimate": float(res.params[name]), "truth": float(full[name])}
    return out


def _se(p, n):
    return float(np.sqrt(p * (1.0 - p) / n))


def summarise(rows, params):
    n = len(rows)
    corner = np.array([r["onset"] > -0.05 for r in rows])
    print(f"{n} replicates; corner basin (onset within 0.05 of the first session) {corner.mean():.2f}; "
          f"multistart missed a lower minimum by > 0.01 in {sum(r['missed_minimum'] > 0.01 for r in rows)}")
    for name in params:
        covered = np.array([r[name]["covered"] for r in rows])
        delta = np.array([r[name]["delta"] for r in rows])
        est = np.array([r[name]["estimate"] for r in rows])
        wilks = delta <= Q95
        print(f"{name}: reported {covered.mean():.3f} +- {_se(covered.mean(), n):.3f}; Delta(truth) <= 3.84 "
              f"{wilks.mean():.3f} +- {_se(wilks.mean(), n):.3f} (disagree in {int(np.sum(covered != wilks))}); "
              f"Delta mean {delta.mean():.2f}, 95% quantile {np.quantile(delta, 0.95):.2f}; median estimate "
              f"{np.median(est):.4g} (truth {rows[0][name]['truth']:.4g}); coverage in the corner "
              f"{covered[corner].mean() if corner.any() else float('nan'):.2f}, elsewhere "
              f"{covered[~corner].mean() if (~corner).any() else float('nan'):.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=1000)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--params", default="time_scale,heldout_gain")
    args = parser.parse_args(argv)
    params = args.params.split(",")
    warnings.simplefilter("ignore")
    rows = [replicate(seed, params) for seed in range(args.first, args.first + args.n)]
    summarise(rows, params)


if __name__ == "__main__":
    main()
