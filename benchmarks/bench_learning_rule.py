"""End-to-end recovery of the learning rule: networks trained under a known rule -> summarize -> fit.

For each rule and seed one network is trained and recorded
(:func:`neurolearn.simulate.learning_rule.simulate_learning_rule_sessions`: richness 2, 10 sessions 0.2 training
time apart, 16 conditions, 20 trials, 100 tracked units of a 4 000-unit layer, decision noise 0.4), reduced by
:func:`neurolearn.summarize` (``n_boot=100``, kernel and behaviour families) and fitted with the
``"learning-rule"`` model, the design known (``d_eff = 8``, ``onset = 0``, ``time_scale = 0.2``):

* ``free``: gamma0, feedback, hebbian and decision_noise free, 95% profile intervals: coverage of each true
  parameter (pooled and per parameter, with the binomial SE) and the median interval width;
* ``compare``: the rule held at GD, FA and Hebb in turn (gamma0 and decision_noise free), ranked by
  :func:`neurolearn.compare`: how often the true rule ranks first and how often the runner-up is more than 10
  quasi-AIC behind.

For Hebbian networks the free fit's gamma0 and feedback have no effect on the prediction (the hidden layer does
not move), so only hebbian and decision_noise are scored, and a lazy FA fit predicts the same statistics (the
comparison reports whether Hebb is within 2 of the best and GD more than 10 behind instead).

Run: ``.venv/bin/python benchmarks/bench_learning_rule.py [--seeds 30] [--rules gd fa mixed hebbian]
[--n-hidden 4000]``; one line per replicate as it finishes, the table at the end.

Measured: see the table at the end of this docstring (filled in from a run).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import neurolearn as nl
from neurolearn.simulate.learning_rule import simulate_learning_rule_sessions
from neurolearn.theory.learning_rule import LEARNING_RULE, RULES

FIXED = {"d_eff": 8.0, "onset": 0.0, "time_scale": 0.2}
FREE = ("gamma0", "feedback", "hebbian", "decision_noise")
TRUE_RULES = {"gd": "gd", "fa": "fa", "mixed": (0.5, 0.3), "hebbian": "hebbian"}


def replicate(rule: str, seed: int, n_hidden: int) -> tuple[list, dict]:
    """One network under ``rule``: the free fit's rows (one per scored parameter) and the comparison."""
    tree, truth = simulate_learning_rule_sessions(TRUE_RULES[rule], n_hidden=n_hidden, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = nl.summarize(tree, readout=False, dynamics=False, n_boot=100, random_state=seed)
        free = nl.fit(stats, LEARNING_RULE, fixed=FIXED, random_state=seed)
        fits = [nl.fit(stats, LEARNING_RULE, fixed=FIXED | RULES[name], interval=None, label=name,
                       random_state=seed) for name in RULES]
    scored = ("hebbian", "decision_noise") if rule == "hebbian" else FREE
    rows = []
    for name in scored:
        low, high = free.ci[name]
        value = truth.parameters[name]
        rows.append({"rule": rule, "seed": seed, "parameter": name, "truth": value, "estimate": free.params[name],
                     "lower": low, "upper": high, "covered": bool(low <= value <= high), "width": high - low,
                     "success": bool(free.success)})
    table = nl.compare(fits).set_index("label")
    order = table.sort_values("delta_qaic").index.tolist()
    if rule in ("gd", "fa"):
        outcome = {"first": order[0] == rule, "decisive": order[0] == rule and table["delta_qaic"].iloc[1] > 10}
    elif rule == "hebbian":
        outcome = {"first": table.loc["hebbian", "delta_qaic"] < 2.0,
                   "decisive": table.loc["hebbian", "delta_qaic"] < 2.0 and table.loc["gd", "delta_qaic"] > 10.0}
    else:
        outcome = {"first": np.nan, "decisive": np.nan}
    return rows, {"rule": rule, "seed": seed, "best": order[0], **outcome}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rules", nargs="+", default=["gd", "fa", "mixed", "hebbian"], choices=list(TRUE_RULES))
    parser.add_argument("--n-hidden", type=int, default=4000)
    args = parser.parse_args(argv)
    rows, comparisons = [], []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for rule in args.rules:
            start = time.perf_counter()
            new, outcome = replicate(rule, seed, args.n_hidden)
            rows += new
            comparisons.append(outcome)
            hits = sum(r["covered"] for r in new)
            print(f"{rule:8s} seed {seed:3d}: {hits}/{len(new)} covered, best {outcome['best']:8s} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    table, choice = pd.DataFrame(rows), pd.DataFrame(comparisons)
    print("\ncoverage of the 95% profile intervals (free fit)")
    for rule, group in table.groupby("rule", sort=False):
        n = group["seed"].nunique()
        pooled = group["covered"].mean()
        per = group.groupby("parameter", sort=False)["covered"].mean().round(3).to_dict()
        width = group.groupby("parameter", sort=False)["width"].median().round(3).to_dict()
        print(f"  {rule:8s} n={n:3d} pooled {pooled:.3f} (SE {np.sqrt(pooled * (1 - pooled) / len(group)):.3f}) "
              f"per parameter {per} median width {width} converged {group['success'].mean():.2f}")
    print("\nmodel comparison (rule held at GD / FA / Hebb)")
    for rule, group in choice.groupby("rule", sort=False):
        if rule == "mixed":
            print(f"  {rule:8s} best: {group['best'].value_counts().to_dict()}")
        else:
            print(f"  {rule:8s} true rule first {group['first'].mean():.3f}, decisively {group['decisive'].mean():.3f} "
                  f"(n={len(group)})")


if __name__ == "__main__":
    main()
