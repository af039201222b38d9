"""Coverage of behaviour's 95% interval (``behavior_estimate(by="stimulus")``) with few, varied stimuli.

The estimand (statistic registry, ``behavior``): the probability of a correct trial on the task's stimuli,
the shown stimuli a sample of them. Each replicate draws C stimuli with per-stimulus accuracies from the task's
distribution (heterogeneous: Beta; homogeneous: all equal), then T trials per stimulus as Bernoulli draws; the
truth is the distribution's mean. It prints, per accuracy distribution and C x T, the coverage of the
interval of the current estimator and of the one it replaced (``--old``: the larger of the binomial and CR1
SEs, z quantile, Wilson widened to p +- z SE), with the mean width. Binomial SE of a 95% coverage over 400
replicates: 0.011. A ``unbalanced`` row draws 1-2T trials per stimulus.

Run:  .venv/bin/python benchmarks/bench_behavior_coverage.py [--replicates 400] [--seed 0] [--heldout]

``--heldout``: ``heldout_behavior`` (and ``generalization_error``, ``method="behavior"``, which is 1 - it) from
:func:`neurolearn.stats.generalization.generalization_summary`: 8 training stimuli and H = 1, 2, 4, 8 held-out
ones, per-stimulus accuracy Beta(1.5, 0.5) or Beta(3.5, 1.5), 2, 5, 10 or 2-10 (drawn per stimulus) trials each;
the truth is the distribution's mean (the expected fraction correct on held-out stimuli of that kind). Measured
2026-12-07, ``--replicates 200`` (binomial SE 0.015 at 0.95), coverage clustered by held-out stimulus (the
per-trial binomial Wilson interval it replaced):

    held-out stimuli   Beta(1.5, 0.5), 0.75                Beta(3.5, 1.5), 0.70
    H = 1              NaN with its reason (0.825-0.88)    NaN with its reason (0.70-0.93)
    H = 2              0.86-1.00, width 0.75-0.81 (0.62-0.94)   0.92-0.99, width 0.83-0.86 (0.835-0.875)
    H = 4              0.950-0.990 (0.705-0.945)           0.960-0.995 (0.785-0.94)
    H = 8              0.935-0.965 (0.675-0.94)            0.965-0.985 (0.79-0.925)

(the binomial interval fell as trials grew: 0.925-0.945 at T = 2, 0.675-0.81 at T = 10). The low H = 2 cell is 10
trials of two stimuli piled against 100 %.

Measured 2026-12-07, ``--replicates 400`` (the same draws for both estimators), coverage new (old):

    accuracy across stimuli   C=4: T=2     T=5          T=10         C=8: T=5     C=16: T=5    C=16: T=10
    Beta(1.5, 0.5), 0.75      0.985 (0.980) 0.940 (0.863) 0.938 (0.805) 0.953 (0.875) 0.953 (0.917) 0.955 (0.915)
    Beta(3.5, 1.5), 0.70      0.993 (0.973) 0.988 (0.945) 0.963 (0.890) 0.968 (0.927) 0.945 (0.932) 0.938 (0.910)
    Beta(2.7, 0.3), 0.90      0.988 (0.990) 0.998 (0.990) 0.830 (0.830) 0.927 (0.935) 0.915 (0.922) 0.925 (0.902)
    equal, 0.75               0.993 (0.993) 0.985 (0.950) 0.990 (0.973) 0.988 (0.985) 0.970 (0.965) 0.965 (0.960)
    equal, 0.90               0.980 (0.983) 0.980 (0.960) 0.970 (0.968) 0.970 (0.973) 0.980 (0.983) 0.978 (0.975)

(the other cells print with it). Left: stimuli drawn from a distribution piled against 100% (Beta(2.7, 0.3))
with 4 of them: every draw of 4 often sits near 1 and no interval from the data covers the mean 0.90 then.
With equal accuracy the interval is 1.45-1.58x the binomial Wilson width at C=4 (t(3)/z = 1.62), 1.2x at C=8,
1.1x at C=16.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurolearn.stats.behavior import behavior_estimate  # noqa: E402
from neurolearn.stats.generalization import generalization_summary  # noqa: E402

#: name -> (draw of C per-stimulus accuracies, truth)
DISTRIBUTIONS = {
    "Beta(1.5, 0.5), mean 0.75": (lambda rng, c: rng.beta(1.5, 0.5, c), 0.75),
    "Beta(3.5, 1.5), mean 0.70": (lambda rng, c: rng.beta(3.5, 1.5, c), 0.70),
    "Beta(2.7, 0.3), mean 0.90": (lambda rng, c: rng.beta(2.7, 0.3, c), 0.90),
    "equal, 0.75": (lambda rng, c: np.full(c, 0.75), 0.75),
    "equal, 0.90": (lambda rng, c: np.full(c, 0.90), 0.90),
}


def old_interval(correct, stimulus, level=0.95):
    """The interval before the small-C correction: max(binomial, CR1) SE, z quantile, Wilson widened."""
    n, p = correct.size, float(correct.mean())
    z = norm.ppf(0.5 + level / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    _, cluster = np.unique(stimulus, return_inverse=True)
    c = cluster.max() + 1
    sums = np.bincount(cluster, weights=correct - p, minlength=c)
    clustered = np.sqrt(c / (c - 1) * np.sum(sums**2)) / n
    binomial = np.sqrt(p * (1 - p) / n)
    lower, upper = centre - half, centre + half
    if clustered > binomial:
        lower, upper = min(lower, max(p - z * clustered, 0.0)), max(upper, min(p + z * clustered, 1.0))
    return lower, upper


def session(rng, accuracy, n_trials):
    stimulus = np.repeat(np.arange(accuracy.size), n_trials)
    correct = rng.random(stimulus.size) < accuracy[stimulus]
    return xr.DataArray(np.zeros((stimulus.size, 1)), dims=("trial", "neuron"),
                        coords={"correct": ("trial", correct), "stimulus": ("trial", stimulus)})


def coverage(draw, truth, n_stimuli, n_trials, replicates, seed, unbalanced=False):
    rng = np.random.default_rng(seed)
    hits, widths = np.zeros(2), np.zeros(2)
    for _ in range(replicates):
        counts = rng.integers(1, 2 * n_trials + 1, n_stimuli) if unbalanced else n_trials
        rec = session(rng, draw(rng, n_stimuli), counts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, new = behavior_estimate(rec, by="stimulus")
        old = old_interval(rec.correct.values.astype(float), rec.stimulus.values)
        for k, (lower, upper) in enumerate((new, old)):
            hits[k] += lower <= truth <= upper
            widths[k] += upper - lower
    return hits / replicates, widths / replicates


def heldout_session(rng, accuracy, n_trials, n_training):
    """One session: ``n_training`` training stimuli then the held-out ones, ``n_trials`` trials each (an int,
    or per-stimulus counts), column ``heldout`` True on the held-out stimuli's trials."""
    stimulus = np.repeat(np.arange(accuracy.size), n_trials)
    correct = rng.random(stimulus.size) < accuracy[stimulus]
    return xr.DataArray(np.zeros((stimulus.size, 1)), dims=("trial", "neuron"),
                        coords={"correct": ("trial", correct), "stimulus": ("trial", stimulus),
                                "heldout": ("trial", stimulus >= n_training)})


def heldout_coverage(draw, truth, n_heldout, n_trials, replicates, seed, n_training=8):
    """Coverage of heldout_behavior's and generalization_error's (behaviour) intervals of the task's held-out
    accuracy (truth), NaN count, mean width; ``n_trials`` None draws 2-10 trials per stimulus."""
    rng = np.random.default_rng(seed)
    hits, nans, widths, finite = np.zeros(2), 0, 0.0, 0
    for _ in range(replicates):
        n_stimuli = n_training + n_heldout
        counts = rng.integers(2, 11, n_stimuli) if n_trials is None else n_trials
        rec = heldout_session(rng, draw(rng, n_stimuli), counts, n_training)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = generalization_summary({"s": rec}, target=None, by="stimulus", method="behavior", n_boot=0)
        value = float(ds["heldout_behavior"].values[0])
        if not np.isfinite(value):
            nans += 1
            continue
        finite += 1
        lower, upper = ds["heldout_behavior_ci"].values[0]
        hits[0] += lower <= truth <= upper
        widths += upper - lower
        lower, upper = ds["generalization_error_ci"].values[0]
        hits[1] += lower <= 1 - truth <= upper
    return hits / max(finite, 1), nans, widths / max(finite, 1), finite


def main_heldout(args):
    print(f"heldout_behavior / generalization_error (behaviour): 8 training stimuli + H held-out, "
          f"{args.replicates} replicates; coverage +- binomial SE (width), NaN sessions")
    for name, (draw, truth) in list(DISTRIBUTIONS.items())[:2]:
        for n_heldout in (1, 2, 4, 8):
            for n_trials in (2, 5, 10, None):
                seed = args.seed + 1000 * n_heldout + (n_trials or 0)
                hit, nans, width, finite = heldout_coverage(draw, truth, n_heldout, n_trials, args.replicates, seed)
                se = np.sqrt(hit[0] * (1 - hit[0]) / max(finite, 1))
                trials = "2-10" if n_trials is None else str(n_trials)
                print(f"{name:28s} H={n_heldout} x T={trials:4s}  heldout_behavior {hit[0]:.3f} +- {se:.3f} "
                      f"({width:.2f})  generalization_error {hit[1]:.3f}  NaN {nans}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", action="store_true",
                        help="heldout_behavior's interval (generalization_summary, method='behavior') instead")
    args = parser.parse_args(argv)
    if args.heldout:
        return main_heldout(args)
    print(f"{'accuracy across stimuli':28s} {'C x T':>8s}   coverage new (width)   old (width)")
    for name, (draw, truth) in DISTRIBUTIONS.items():
        for n_stimuli in (4, 8, 16):
            for n_trials in (2, 5, 10):
                seed = args.seed + 1000 * n_stimuli + n_trials
                hit, width = coverage(draw, truth, n_stimuli, n_trials, args.replicates, seed)
                print(f"{name:28s} {n_stimuli:>3d} x {n_trials:<3d}  {hit[0]:.3f} ({width[0]:.2f})"
                      f"          {hit[1]:.3f} ({width[1]:.2f})", flush=True)
        if name.startswith("Beta(1.5"):
            for n_stimuli in (4, 8, 16):
                hit, width = coverage(draw, truth, n_stimuli, 5, args.replicates, args.seed + n_stimuli, True)
                print(f"{name + ', unbalanced':28s} {n_stimuli:>3d} x 1-10  {hit[0]:.3f} ({width[0]:.2f})"
                      f"          {hit[1]:.3f} ({width[1]:.2f})", flush=True)


if __name__ == "__main__":
    main()
