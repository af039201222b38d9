"""Coverage of summarize's 95% intervals against the population truth on realistic spiking simulations.

Issue 8 asks that, on realistic data (log-normal rates across neurons, Poisson counts, 2-10 trials per
condition, 4-16 conditions, 30-600 neurons, different neurons each session), the 95% intervals of
task_alignment, kernel_similarity, participation_ratio, decoder_accuracy and margin cover the population
truth in 95 +- 3% of replicates, and that no reported value is impossible. This script draws many datasets
from :func:`neurolearn.simulate.spiking.spiking_sessions` over that grid (shape and model parameters drawn
at random per dataset), runs ``summarize`` on each and prints

(a) coverage of the intervals against the truth, with its binomial SE, overall and per shape bucket (trials,
    conditions, neurons, and tuning = gain x last separation; each factor marginally);
(b) the number of impossible values: a value outside the registry range by more than 3 SE (2-3 SE counted
    apart: sampling noise where the truth is on the edge), a point estimate
    outside its own interval, and a NaN value without a reason in ``<name>_flag`` (unexplained NaN);
(c) the fraction of NaN values and their reasons (``<name>_flag``).

Truths. Kernel statistics: the closed-form population truth of the simulator (infinitely many neurons of the
same distribution, noiseless condition means, the shown conditions). ``participation_ratio`` is scored
against two estimands: the shown conditions (``participation_ratio``) and the stimulus distribution the
conditions are drawn from (``participation_ratio_distribution``); the registry must say which one the
interval is for. Kernel statistics are also scored against the same statistic of the recorded neurons' true
rates (``<name>_recorded``, finite population, noiseless): a diagnostic that separates trial-noise handling
from neuron sampling. Readout statistics (``--readout-replicates``; their truth needs simulation with
``truth.draw``, fresh trials of the same neurons): ``decoder_accuracy`` against the accuracy on fresh trials
of the decoder (same pipeline) trained on all of the session's trials (``decoder_accuracy``) and against the
expected accuracy of a decoder trained on a fresh training set of the cross-validation training size
(``decoder_accuracy_expected``); ``margin`` against the margin of the true condition
means at the common scale summarize used (the estimand its attrs state: the max-margin of the noiseless
condition means, not depending on the trial count; computed here with an independent hard-margin SVM on
the true rates, all neurons, since every session of a dataset has the same neuron count).

Run:  .venv/bin/python benchmarks/bench_coverage.py [--replicates 600] [--readout-replicates 30] [--quick]
      [--tracked] [--seed 0] [--out records.csv] [--report records.csv]
The full default run takes ~10-15 minutes on one core; --quick ~1-2 minutes.
"""

from __future__ import annotations

import argparse
import re
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import neurolearn as nl
from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.statistic_registry import STATISTICS

# "<name>_recorded": the statistic of the recorded neurons' true rates (finite population, noiseless), a
# diagnostic: the registry's estimand is the population one
KERNEL_TRUTHS = {
    "task_alignment": ("task_alignment", "task_alignment_recorded"),
    "kernel_similarity": ("kernel_similarity", "kernel_similarity_recorded"),
    "participation_ratio": ("participation_ratio", "participation_ratio_distribution",
                            "participation_ratio_recorded"),
    "kernel_change": ("kernel_change", "kernel_change_recorded"),
    "code_overlap": ("code_overlap", "code_overlap_recorded"),  # only with --tracked (the same cells every session)
    "behavior": ("behavior",),  # Wilson interval of the fraction correct vs the session's p_correct
}
READOUT_TRUTHS = {"decoder_accuracy": ("decoder_accuracy", "decoder_accuracy_expected"), "margin": ("margin",)}
N_SESSIONS = 3
N_BOOT = 200
LEVEL = 0.95
TRUTH_TRIALS = 50  # fresh trials per condition behind a decoder's accuracy truth
TRUTH_DRAWS = 8  # fresh datasets averaged into the expected-accuracy and margin truths
NO_FLAG = "<no flag variable>"  # how --out writes a statistic without a <name>_flag variable
N_SPLITS = 5  # readout_summary's folds (the decoder truth trains on the same fraction of trials)


def draw_design(rng):
    """A dataset's shape and model parameters, drawn over the issue's grid."""
    trials = int(rng.integers(2, 11))
    conditions = int(rng.integers(4, 17))
    neurons = int(round(np.exp(rng.uniform(np.log(30), np.log(600)))))
    if rng.random() < 0.5:  # unequal trials: per-condition counts between 2 and `trials`
        per_condition = rng.integers(2, trials + 1, size=conditions)
        per_condition[rng.integers(conditions)] = trials
    else:
        per_condition = np.full(conditions, trials)
    return dict(
        n_trials=per_condition, n_conditions=conditions, n_neurons=neurons,
        # tuning from weak to strong: log-rate modulation across conditions of SD ~0.15 to ~0.8
        separation=(0.0, float(rng.uniform(0.5, 3.0))), gain=float(rng.uniform(0.3, 0.8)),
        jitter=float(rng.uniform(0.5, 1.0)),
        mean_log_rate=float(rng.uniform(0.0, 2.0)), sd_log_rate=float(rng.uniform(0.5, 1.2)),
    )


def buckets(design):
    """Shape buckets of a dataset (each factor marginally)."""
    trials = float(np.mean(design["n_trials"]))
    return {
        "trials": "2-3" if trials < 3.5 else "4-6" if trials < 6.5 else "7-10",
        "conditions": "4-7" if design["n_conditions"] < 8 else "8-11" if design["n_conditions"] < 12 else "12-16",
        "neurons": "30-99" if design["n_neurons"] < 100 else "100-299" if design["n_neurons"] < 300 else "300-600",
        # gain x last separation: how strongly tuned cells carry the late sessions' kernels (log-rate spread
        # gain·|z| grows with the separation), the factor the tracked kernel change's and the code overlap's
        # remaining under-coverage follows
        "tuning": _tuning_bucket(design["gain"] * design["separation"][1]),
    }


def _tuning_bucket(strength):
    return "<0.6" if strength < 0.6 else "0.6-1.2" if strength < 1.2 else ">=1.2"


def replicate(seed, with_readout, tracked=False):
    """One dataset: summarize it and return one record per reported value (with its truths)."""
    rng = np.random.default_rng(seed)
    design = draw_design(rng)
    tree, truth = spiking_sessions(N_SESSIONS, random_state=rng, tracked=tracked, **design)
    shape = buckets(design)
    recorded = truth.recorded_statistics()
    population = truth.statistics.assign({f"{name}_recorded": recorded[name] for name in recorded.data_vars})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stats = nl.summarize(tree, target="target", by="stimulus", behavior="correct", n_boot=N_BOOT,
                                 random_state=seed, readout=with_readout, dynamics=False)
        except Exception as error:  # an abort is itself a finding: count it, keep going
            return [dict(statistic="<summarize>", truth_name="", error=f"{type(error).__name__}: {error}",
                         **shape)]
        records = []
        for name, truth_names in KERNEL_TRUTHS.items():
            if not all(t in population for t in truth_names):
                continue
            pairwise = STATISTICS[name].pairwise
            # kernel_change of the reference (first) session is 0 by definition: not an estimate
            first = 1 if name == "kernel_change" else 0
            cells = ([(a, b) for a in range(N_SESSIONS) for b in range(a + 1, N_SESSIONS)] if pairwise
                     else [(a,) for a in range(first, N_SESSIONS)])
            for cell in cells:
                truths = {t: float(population[t].values[cell]) for t in truth_names}
                records.append(_record(stats, name, cell, truths, shape, design))
        if with_readout:
            readout_truths = _readout_truths(tree, truth, stats, seed)
            for name, per_session in readout_truths.items():
                for a, truths in enumerate(per_session):
                    records.append(_record(stats, name, (a,), truths, shape, design))
    return records


def _record(stats, name, cell, truths, shape, design):
    value = float(stats[name].values[cell]) if name in stats else np.nan
    se = float(stats[f"{name}_se"].values[cell]) if f"{name}_se" in stats else np.nan
    ci = stats[f"{name}_ci"].values[cell] if f"{name}_ci" in stats else (np.nan, np.nan)
    flag_var = f"{name}_flag"
    flag = str(stats[flag_var].values[cell]) if flag_var in stats else None
    return dict(statistic=name, cell=cell, value=value, se=se, lower=float(ci[0]), upper=float(ci[1]),
                flag=flag, truths=truths, n_neurons=design["n_neurons"], n_conditions=design["n_conditions"],
                mean_trials=float(np.mean(design["n_trials"])), error="", **shape)


def _readout_truths(tree, truth, stats, seed):
    """Simulated truths of decoder_accuracy and margin for every session (fresh trials of the same neurons)."""
    rng = np.random.default_rng(seed + 10**6)
    scale = stats.attrs.get("readout_scale")
    n_neurons = stats.attrs.get("readout_n_neurons")
    decoder, margin = [], []
    for key in tree.children:
        rec = tree[key]["responses"]
        counts = np.bincount(rec.stimulus.values, minlength=rec.stimulus.values.max() + 1)
        fresh = truth.draw(key, TRUTH_TRIALS, rng)
        fitted = _decoder().fit(rec.values, rec.target.values)
        conditional = float(np.mean(fitted.predict(fresh.values) == fresh.target.values))
        train_counts = np.maximum(1, np.round(counts * (N_SPLITS - 1) / N_SPLITS).astype(int))
        expected = []
        for _ in range(TRUTH_DRAWS):
            train = truth.draw(key, train_counts, rng)
            model = _decoder().fit(train.values, train.target.values)
            expected.append(np.mean(model.predict(fresh.values) == fresh.target.values))
        decoder.append({"decoder_accuracy": conditional, "decoder_accuracy_expected": float(np.mean(expected))})
        margin.append({"margin": _noiseless_margin(truth.rates[key], truth.target, scale)
                       if scale is not None and n_neurons == rec.sizes["neuron"] else np.nan})
    return {"decoder_accuracy": decoder, "margin": margin}


def _noiseless_margin(rates, target, scale):
    """Hard margin of the true condition means (rates / scale), all neurons: an independent linear SVM."""
    from sklearn.svm import SVC

    X = rates.values / scale
    X = X - X.mean(axis=0)
    svm = SVC(kernel="linear", C=1e8, tol=1e-8).fit(X, target)
    w = svm.coef_.ravel()
    if not np.linalg.norm(w) > 1e-12:  # degenerate (not separable along any direction the SVM finds)
        return float("nan")
    distances = target * (X @ w + svm.intercept_[0]) / np.linalg.norm(w)
    if distances.min() <= 0:  # not separable: signed geometric margin with the best bias, as documented
        along = X @ w / np.linalg.norm(w)
        return float((along[target > 0].min() - along[target < 0].max()) / 2)
    return float(1.0 / np.linalg.norm(w))


def _decoder():
    # the pipeline of neurolearn.stats.readout.decoding (classifier="logistic", C=1)
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


# ----------------------------------------------------------------------------------------------------------
# scoring
# ----------------------------------------------------------------------------------------------------------


def beyond_range(record, n_se):
    """Whether a finite value lies outside its estimand's range by more than ``n_se`` of its SEs."""
    value, se = record["value"], record["se"]
    low, high = STATISTICS[record["statistic"]].range
    slack = n_se * se if np.isfinite(se) else 0.0
    return bool(np.isfinite(value) and (value < low - slack or value > high + slack))


def impossible(record):
    """The reasons a reported value is impossible (empty if none).

    Outside the range by more than 3 SE is impossible (summarize's guard refuses those values: a value there
    is a bug). Between 2 and 3 SE is not: an unbiased estimate of a truth that sits on the range's edge (no
    kernel change, identical kernels) falls below -2 SE in 2.3 % of sessions; the report counts those apart
    (:func:`near_edge`)."""
    value, lower, upper = record["value"], record["lower"], record["upper"]
    reasons = []
    if np.isfinite(value):
        if beyond_range(record, 3.0):
            reasons.append("outside the estimand's range by > 3 SE")
        tol = 1e-9 * max(1.0, abs(value))
        if np.isfinite(lower) and np.isfinite(upper) and not lower - tol <= value <= upper + tol:
            reasons.append("point estimate outside its own interval")
    elif record["flag"] is None:
        reasons.append("NaN with no flag variable")
    elif not record["flag"]:
        reasons.append("NaN with an empty flag")
    return reasons


def coverage_table(records, statistic, truth_name, by=None):
    """{bucket: (covered, n)} over records with a finite interval and a finite truth."""
    table = defaultdict(lambda: [0, 0])
    for r in records:
        if r["statistic"] != statistic:
            continue
        t = r["truths"].get(truth_name, np.nan)
        if not (np.isfinite(r["lower"]) and np.isfinite(r["upper"]) and np.isfinite(t)):
            continue
        key = "all" if by is None else r.get(by)  # records written before a factor existed: no bucket
        table[key][0] += int(r["lower"] <= t <= r["upper"])
        table[key][1] += 1
    return dict(table)


def _format_coverage(covered, n):
    if n == 0:
        return "      -      "
    p = covered / n
    return f"{p:6.3f}±{np.sqrt(max(p * (1 - p), 1e-12) / n):.3f} ({n})"


def _reason_key(flag):
    # group reasons that differ only in their numbers
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", flag)[:110]


def report(records, elapsed, n_datasets):
    ok = [r for r in records if r["statistic"] != "<summarize>"]
    aborted = [r for r in records if r["statistic"] == "<summarize>"]
    print(f"\n{n_datasets} datasets x {N_SESSIONS} sessions, n_boot={N_BOOT}, {elapsed:.0f} s "
          f"({elapsed / max(n_datasets, 1):.2f} s per dataset); summarize aborted on {len(aborted)}")
    for message, count in Counter(r["error"][:160] for r in aborted).most_common(5):
        print(f"    {count:4d} x {message}")

    print(f"\n(a) coverage of the {LEVEL:.0%} intervals (fraction ± binomial SE (n)); target 0.95 ± 0.03")
    factors = {"trials": ("2-3", "4-6", "7-10"), "conditions": ("4-7", "8-11", "12-16"),
               "neurons": ("30-99", "100-299", "300-600"), "tuning": ("<0.6", "0.6-1.2", ">=1.2")}
    header = f"{'statistic vs truth':44s} {'overall':>19s}"
    for factor, levels in factors.items():
        header += "".join(f" {factor[:5] + ' ' + lv:>19s}" for lv in levels)
    print(header)
    truths = dict(KERNEL_TRUTHS, **READOUT_TRUTHS)
    for statistic, truth_names in truths.items():
        for truth_name in truth_names:
            overall = coverage_table(ok, statistic, truth_name).get("all", (0, 0))
            if overall[1] == 0:
                continue
            row = f"{statistic + ' vs ' + truth_name:44s} {_format_coverage(*overall):>19s}"
            for factor, levels in factors.items():
                table = coverage_table(ok, statistic, truth_name, by=factor)
                row += "".join(f" {_format_coverage(*table.get(lv, (0, 0))):>19s}" for lv in levels)
            print(row)

    print("\n    calibration: z = (value - truth)/SE over finite values with SE > 0 (mean ~0: unbiased; "
          "SD ~1: SEs right), median |value - truth|, zero-width intervals")
    for statistic, truth_names in truths.items():
        for truth_name in truth_names:
            rows = [r for r in ok if r["statistic"] == statistic and np.isfinite(r["value"])
                    and np.isfinite(r["truths"].get(truth_name, np.nan))]
            if not rows:
                continue
            z = np.array([(r["value"] - r["truths"][truth_name]) / r["se"] for r in rows
                          if np.isfinite(r["se"]) and r["se"] > 0])
            error = np.median([abs(r["value"] - r["truths"][truth_name]) for r in rows])
            zero = sum(1 for r in rows if np.isfinite(r["lower"]) and r["upper"] - r["lower"] <= 0)
            print(f"    {statistic + ' vs ' + truth_name:56s} z mean {np.mean(z):6.2f}  z SD {np.std(z):5.2f}  "
                  f"median |error| {error:8.3g}  zero-width {zero}")

    print("\n(b) impossible values")
    total = Counter()
    for r in ok:
        for reason in impossible(r):
            total[(r["statistic"], reason)] += 1
    if not total:
        print("    none")
    for (statistic, reason), count in sorted(total.items()):
        n = sum(1 for r in ok if r["statistic"] == statistic)
        print(f"    {statistic:22s} {reason:42s} {count:5d} of {n}")
    print(f"    total: {sum(total.values())}")
    print("    not impossible, counted apart: outside the range by 2-3 SE (sampling noise of an unbiased estimate "
          "whose truth is on the edge; 2.3 % of such values fall there)")
    for statistic in sorted({r["statistic"] for r in ok}):
        rows = [r for r in ok if r["statistic"] == statistic]
        near = sum(beyond_range(r, 2.0) and not beyond_range(r, 3.0) for r in rows)
        if near:
            print(f"    {statistic:22s} {'outside the range by 2-3 SE':42s} {near:5d} of {len(rows)}")

    print("\n(c) NaN values and their reasons (flags)")
    for statistic in truths:
        values = [r for r in ok if r["statistic"] == statistic]
        if not values:
            continue
        nan = [r for r in values if not np.isfinite(r["value"])]
        no_ci = [r for r in values if np.isfinite(r["value"]) and not np.isfinite(r["lower"])]
        print(f"    {statistic:22s} NaN {len(nan) / len(values):6.1%} of {len(values)}; "
              f"finite value without an interval: {len(no_ci)}")
        by_shape = []
        for factor, levels in (("trials", ("2-3", "4-6", "7-10")), ("neurons", ("30-99", "100-299", "300-600"))):
            for level in levels:
                cell = [r for r in values if r[factor] == level]
                if cell:
                    share = sum(not np.isfinite(r["value"]) for r in cell) / len(cell)
                    by_shape.append(f"{factor} {level}: {share:.0%}")
        print(f"        NaN by shape: {', '.join(by_shape)}")
        for reason, count in Counter(_reason_key(r["flag"] or "<no flag>") for r in nan).most_common(6):
            print(f"        {count:5d} x {reason}")
        flagged = Counter(_reason_key(r["flag"]) for r in values if np.isfinite(r["value"]) and r["flag"])
        for reason, count in flagged.most_common(3):
            print(f"        {count:5d} x (finite, flagged) {reason}")


def read_records(path):
    """Records written by ``--out`` (for re-reporting without re-running)."""
    import ast

    import pandas as pd

    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    records = []
    for row in table.to_dict("records"):
        truths = {k[len("truth_"):]: v for k, v in row.items() if k.startswith("truth_") and pd.notna(v)}
        record = {k: v for k, v in row.items() if not k.startswith("truth_")}
        record["truths"] = truths
        flag = row.get("flag")
        # an empty flag string reads back as NaN
        record["flag"] = None if flag == NO_FLAG else flag if isinstance(flag, str) else ""
        record["error"] = row.get("error") if isinstance(row.get("error"), str) else ""
        record["cell"] = ast.literal_eval(row["cell"]) if isinstance(row.get("cell"), str) else None
        records.append(record)
    n_datasets = int(table["dataset"].nunique()) if "dataset" in table else 0
    return records, n_datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=600, help="datasets for the kernel statistics")
    parser.add_argument("--readout-replicates", type=int, default=30,
                        help="datasets also run with readout=True (decoder_accuracy, margin); slow")
    parser.add_argument("--quick", action="store_true", help="60 + 6 datasets (about 1-2 minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracked", action="store_true",
                        help="the same cells every session (chronic recordings) instead of fresh neurons; "
                             "adds code_overlap")
    parser.add_argument("--out", help="write one row per value (CSV) to this path")
    parser.add_argument("--report", metavar="CSV", help="only print the report of records written by --out")
    args = parser.parse_args()
    if args.report:
        records, n_datasets = read_records(args.report)
        report(records, float("nan"), n_datasets)
        return
    n_kernel, n_readout = (60, 6) if args.quick else (args.replicates, args.readout_replicates)
    start = time.perf_counter()
    records = []
    for k in range(n_kernel + n_readout):
        with_readout = k >= n_kernel
        records.extend(dict(r, dataset=k) for r in replicate(args.seed * 100_000 + k, with_readout, args.tracked))
        if (k + 1) % 50 == 0:
            print(f"  {k + 1} datasets, {time.perf_counter() - start:.0f} s", flush=True)
    report(records, time.perf_counter() - start, n_kernel + n_readout)
    if args.out:
        import pandas as pd

        rows = [{**{k: v for k, v in r.items() if k != "truths"},
                 "flag": NO_FLAG if r.get("flag", "") is None else r.get("flag", ""),
                 **{f"truth_{k}": v for k, v in r.get("truths", {}).items()}}
                for r in records]
        pd.DataFrame(rows).to_csv(args.out, index=False)
        print(f"\nrecords written to {args.out}")


if __name__ == "__main__":
    main()
