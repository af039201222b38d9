"""Coverage of decoder_accuracy and margin 95% intervals on realistic spiking sessions, truth by simulation.

Sessions come from :func:`neurolearn.simulate.spiking.spiking_sessions` (log-normal rates across neurons,
Poisson counts, fresh neurons per session). For each replicate (a new population, new stimuli, new trials):

* margin truth: the max-margin of the session's *noiseless* condition means, ``truth.rates`` (the margin's
  estimand, in the same units: ``scale=1``, all recorded neurons), computed with sklearn's hard-margin SVC;
* decoder truth: the expected accuracy on new trials of the same pipeline (z-score + logistic, C=1) trained on
  (K-1)/K of a session's trials, as cross-validation estimates it: averaged over ``--truth-draws`` fresh
  training sessions drawn with ``truth.draw`` and tested on ``truth.draw`` trials never seen.

It prints, per shape (conditions x trials x neurons), the coverage of the 95% intervals (with its binomial
SE), the mean bias in units of the estimates' SD, and how many intervals missed their own estimate.
For the numbers before the honest-readout changes, run it with ``PYTHONPATH`` at a checkout of the old
package (``git archive 747a9a1 neurolearn | tar -x -C /tmp/old``; there is no permutation null to skip).

Run:  .venv/bin/python benchmarks/bench_readout_coverage.py [--replicates 60] [--shapes 8x2x30,8x4x100,...]
      [--save DIR]  (per-replicate rows value, lower, upper, truth, se, n_trials as DIR/<statistic>_<shape>.npy)

Measured 2026-12-02, ``--replicates 200`` (seeds 0-199, the same sessions before and after; binomial SE of a
95% coverage over 200: 0.015), coverage of the 95% intervals (width in SDs of the error; 3.92 is calibrated):

    shape (c x t x n)   decoder_accuracy before -> after     margin before -> after
    4 x 2 x 30          0.985 (3.89) -> 0.980 (3.59)         0.766 (NaN SE in 1/3) -> 0.955 (4.90)
    4 x 4 x 30          0.970 (3.99) -> 0.945 (3.54)         0.910 -> 0.915 (3.47)
    4 x 10 x 100        0.980 (4.22) -> 0.985 (3.75)         0.940 (3.88) -> 0.940 (3.88)
    8 x 2 x 30          0.950 (4.25) -> 0.920 (3.45)         0.955 (3.80) -> 0.955 (3.80)
    8 x 4 x 100         0.990 (4.57) -> 0.975 (3.72)         0.950 (4.22) -> 0.950 (4.22)
    16 x 10 x 100       0.980 (5.39) -> 0.955 (3.84)         0.950 (4.02) -> 0.950 (4.02)
    16 x 4 x 300        1.000 (5.63) -> 0.970 (4.09)         0.975 (5.21) -> 0.975 (5.21)
    16 x 2 x 600        0.995 (5.37) -> 0.975 (4.15)         0.995 (7.62) -> 0.995 (7.62)

Before: decoder = hull of a normal interval (SE max of a condition-cluster bootstrap, the Nadeau-Bengio fold
variance and an Agresti-Coull floor) with the binomial Wilson interval; margin = refits' SD, t(39), with
refits reading -inf where noise removal left no geometry. After: decoder = normal interval with variance
max(within-condition test noise, Nadeau-Bengio spread of condition-adjusted fold accuracies over 5
partitions), Wilson hull at 0/100% correct only; margin = the same, a geometry-less refit reads 0.
Left: the margin under-covers at 4 conditions x 4 trials (refits' SD 11% below the error's; a t quantile
with sum(T_c - 1) df would give 0.940 there but 0.995 at 4 x 2 x 30) and over-covers with 2 trials per
condition at 600 neurons (refits' SD twice the error's: resampling 2 trials duplicates one, and the
Richardson step from 1-trial halves amplifies it; subtracting the original noise estimate in the refits, or
Gaussian-multiplier (wild) resampling, did not help, measured on 80 sessions);
the decoder's fold term over-reads where test noise dominates (4 x 10 x 100) and under-reads at 2 trials
per condition (the condition adjustment removes most of a fold's signal there).
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats.readout import decoder_accuracy, margin

#: Coverage does not need the permutation null; skip it where the function has one (the old one has not).
NO_NULL = {"n_permutations": 0} if "n_permutations" in inspect.signature(decoder_accuracy).parameters else {}
SESSION = "day01"  # the second of two sessions: class separation 1.5 (the first, 0.5, is near chance)


def hard_margin(points, labels):
    """1/|w| of a hard-margin linear SVM of the noiseless means (independent of the package's solver)."""
    centred = points - points.mean(0)
    svc = SVC(kernel="linear", C=1e6, tol=1e-8).fit(centred, labels)
    decision = centred @ svc.coef_[0] + svc.intercept_[0]
    if not np.all(labels * decision > 0):
        return np.nan  # not separable: the truth is a negative soft margin, not computed here
    return 1.0 / np.linalg.norm(svc.coef_[0])


def decoder_truth(truth, n_trials, n_splits, draws, rng):
    accuracies = []
    test = truth.draw(SESSION, n_trials=50, rng=rng)
    for _ in range(draws):
        train = truth.draw(SESSION, n_trials=n_trials, rng=rng)
        labels = train["target"].values
        fold_train, _ = next(StratifiedKFold(n_splits, shuffle=True, random_state=int(rng.integers(2**31)))
                             .split(train.values, labels))
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        model.fit(train.values[fold_train], labels[fold_train])
        accuracies.append(np.mean(model.predict(test.values) == test["target"].values))
    return float(np.mean(accuracies))


def run_shape(n_conditions, n_trials, n_neurons, replicates, truth_draws, n_boot):
    rows = {"decoder": [], "margin": []}
    for r in range(replicates):
        rng = np.random.default_rng(10_000 + r)
        tree, truth = spiking_sessions(n_sessions=2, n_conditions=n_conditions, n_trials=n_trials,
                                       n_neurons=n_neurons, separation=(0.5, 1.5), random_state=r)
        rec = tree[SESSION]["responses"]
        n_splits = min(5, n_conditions // 2 * n_trials)
        ds = decoder_accuracy(rec, by="stimulus", n_splits=n_splits, random_state=r, n_boot=n_boot, **NO_NULL)
        true_acc = decoder_truth(truth, n_trials, n_splits, truth_draws, rng)
        rows["decoder"].append((float(ds["decoder_accuracy"]), *ds["decoder_accuracy_ci"].values, true_acc,
                                float(ds["decoder_accuracy_se"]), rec.sizes["trial"]))
        labels = np.asarray(truth.target)
        true_margin = hard_margin(truth.rates[SESSION].values, labels)
        dm = margin(rec, scale=1.0, random_state=r, n_boot=n_boot, n_permutations=0)
        rows["margin"].append((float(dm["margin"]), *dm["margin_ci"].values, true_margin, float(dm["margin_se"]),
                               rec.sizes["trial"]))
    return {k: np.array(v, float) for k, v in rows.items()}


def describe(name, table):
    value, lower, upper, truth = table.T[:4]
    refused = int(np.sum(np.isfinite(truth) & ~np.isfinite(value)))  # NaN with a reason: not an interval
    ok = np.isfinite(truth) & np.isfinite(value)
    covered = (lower[ok] <= truth[ok]) & (truth[ok] <= upper[ok])
    cov = covered.mean()
    se = np.sqrt(cov * (1 - cov) / ok.sum())
    bias = np.mean(value[ok] - truth[ok]) / np.std(value[ok])
    outside = int(np.sum((value < lower) | (value > upper)))
    # interval width in SDs of the error (2 x 1.96 for a calibrated normal interval): > 3.92 is conservative
    width = np.mean(upper[ok] - lower[ok]) / np.std(value[ok] - truth[ok])
    return (f"{name:9s} coverage {cov:.3f} +- {se:.3f} (n={ok.sum()}, refused {refused}), bias {bias:+.2f} SD, "
            f"width {width:.2f} error SDs, mean truth {np.mean(truth[ok]):.3f}, "
            f"estimates outside own interval: {outside}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=60)
    parser.add_argument("--shapes", default="8x2x30,8x4x100,16x4x300,16x10x100")
    parser.add_argument("--truth-draws", type=int, default=20)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--save", default=None, help="directory for per-replicate rows (value, lower, upper, "
                        "truth, se, n_trials) as <statistic>_<shape>.npy")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for shape in args.shapes.split(","):
        c, t, n = (int(x) for x in shape.split("x"))
        start = time.perf_counter()
        tables = run_shape(c, t, n, args.replicates, args.truth_draws, args.n_boot)
        print(f"{c} conditions x {t} trials x {n} neurons ({time.perf_counter() - start:.0f} s)", flush=True)
        for name, table in tables.items():
            print("  " + describe(name, table), flush=True)
            if args.save:
                np.save(f"{args.save}/{name}_{shape}.npy", table)


if __name__ == "__main__":
    main()
