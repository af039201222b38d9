"""Every registered theory model's fit recovers known parameters from statistics simulated by that model.

Parametrised over :data:`neurolearn.theory.MODELS`, so a model is covered as soon as it registers. Design
(:func:`neurolearn.fitting.recovery_study`): 20 sessions covering 1.5 characteristic time spans of the model,
truth at the model's defaults moved 10% inside the search box, each statistic's SE 5% of its range over the
sessions, Gaussian noise of that SE; the fit is the default one (time scale and onset fitted, profile
intervals).

What must hold (docs/theory.md §3, "every model's fit must recover known parameters"):

* every fit converges;
* the 95% intervals contain the truth: pooled over a model's parameters in >= 90% of (replicate, parameter)
  pairs, and for each parameter in >= 80% of replicates (with 16 replicates and true coverage 95%, a single
  parameter falls below 80% with probability < 1%);
* a parameter the model declares non-identifiable is flagged in every replicate, and one the design cannot
  constrain at all (infinite Cramer-Rao SE) in >= 90% of them;
* a parameter the design pins down to <= 10% (Cramer-Rao relative SE at the truth, computed without fitting)
  is recovered with median relative error <= 10%;
* the fit is efficient: median relative error <= 1.5 x the Cramer-Rao relative SE (an unbiased efficient
  estimator has median |error| = 0.67 SE) wherever that SE is <= 50% (beyond, the quadratic approximation fails).
  Parameters with larger design SE are weakly identified by this design; only honest intervals are asked of them.

The heavier version (100 replicates, 30 sessions) is ``benchmarks/bench_fit.py --recovery``.
"""

import numpy as np
import pytest

import neurolearn.theory
from neurolearn.fitting import recovery_study, recovery_summary

MODEL_NAMES = sorted(neurolearn.theory.MODELS)
REPLICATES = 16
# Design knowledge a study of this model would have. The kernel learning curve's time is the number of training
# examples, which an experiment knows per session; with time scale and onset free as well, a 20-session curve
# cannot separate the spectrum's decay from the time scale (Cramer-Rao relative SEs of 1.4-7.6, see
# benchmarks/bench_fit.py --recovery). Its ridge is declared non-identifiable, i.e. meant to be fixed.
# The deep linear model's time mapping and probe dimensions are the design's too (an experiment knows when it
# recorded and what it showed); with them free as well a replicate costs 58 s of DMFT solves instead of 18 s.
# The studies simulate the mean learner (no learner scatter), so the integrator is fitted with the statistics'
# weights alone: its learner covariance simulates 60 networks per evaluation (36 s a replicate) and is tested
# against simulated networks in tests/theory/test_integrator_learner.py
MEAN_CURVE_WEIGHTS = ("integrator",)
KNOWN_IN_DESIGN = {"kernel-learning-curve": ("time_scale", "onset", "ridge"),
                   "deep-linear": ("time_scale", "onset", "d_eff")}


@pytest.fixture(scope="module", params=MODEL_NAMES)
def study(request):
    name = request.param
    table = recovery_study(name, n_sessions=20, relative_se=0.05, n_replicates=REPLICATES,
                           fixed=KNOWN_IN_DESIGN.get(name, ()), n_starts=2, random_state=1000,
                           learner_covariance=name not in MEAN_CURVE_WEIGHTS)
    return name, table, recovery_summary(table)


def test_every_replicate_converges(study):
    name, table, summary = study
    failed = sorted(set(table.loc[~table["success"], "replicate"]))
    assert not failed, f"{name}: fits failed in replicates {failed}"


def test_intervals_contain_the_truth(study):
    name, table, summary = study
    pooled = table["covered"].mean()
    assert pooled >= 0.90, f"{name}: pooled coverage {pooled:.2f}\n{summary}"
    low = summary.index[summary["coverage"] < 0.8].tolist()
    assert not low, f"{name}: coverage below 0.80 for {low}\n{summary}"


def test_non_identifiable_parameters_are_flagged(study):
    name, table, summary = study
    declared = table[~table["declared_identifiable"]]
    assert not declared["identifiable"].any(), f"{name}: reported as identifiable: {set(declared.parameter)}"
    unconstrained = summary[~np.isfinite(summary["design_relative_se"])]
    assert (unconstrained["fraction_identifiable"] <= 0.1).all(), f"{name}: unconstrained but not flagged\n{summary}"


def test_precisely_identifiable_parameters_are_recovered_within_ten_percent(study):
    name, table, summary = study
    precise = summary[(summary["design_relative_se"] <= 0.10) & summary["declared_identifiable"]]
    bad = precise.index[precise["median_relative_error"] > 0.10].tolist()
    assert not bad, f"{name}: median relative error above 10% for {bad}\n{summary}"


# Measured known gap (not a passing condition): the capacity truth (dimensions searched on a log scale: D 8 -> 3,
# with no change of radius, R 2 -> 2) pins the initial radius only through the first sessions, and the onset is
# free to run back along the dimension's onset-amplitude trade-off. Fits whose onset runs below -5 (10 of 16 on
# random_state 4000) extrapolate the radius back to the onset, with wide intervals flagged not identifiable
# (radius_initial is covered in 64/64 fits over four blocks); the others have errors of a few 1e-4 relative
# against a Cramer-Rao SE of 8.5e-4. The median ratio of radius_initial is 0.99 on this block (random_state 1000)
# and 1.01 / 1.12 / 4.00 on 2000 / 3000 / 4000; pooled over those 64 replicates 1.12. Run, not skipped: an XPASS
# on one block is not the gap closed.
INEFFICIENT_IN_DESIGN = {"capacity": "median error / Cramer-Rao SE of radius_initial exceeds the 1.5 bar on some "
                                     "blocks, where the onset runs back along the dimension's onset-amplitude "
                                     "trade-off: 0.99 here, up to 4.00 on other seeds (see the comment above)"}


def test_fit_is_as_precise_as_the_design_allows(study, request):
    name, table, summary = study
    if name in INEFFICIENT_IN_DESIGN:
        request.node.add_marker(pytest.mark.xfail(reason=INEFFICIENT_IN_DESIGN[name], strict=False))
    local = summary[summary["design_relative_se"] <= 0.5]
    assert len(local) > 0, f"{name}: no parameter is even roughly identifiable under the default design\n{summary}"
    ratio = local["median_relative_error"] / local["design_relative_se"]
    bad = ratio.index[ratio > 1.5].tolist()
    assert not bad, f"{name}: errors exceed 1.5 x the Cramer-Rao SE for {bad}\n{summary}"


# A nuisance that only touches a search bound at an interval end the data set does not make the profiled parameter
# "not identifiable" (the bound is reopened and the end re-checked, neurolearn.fitting.intervals): measured on this
# block, silent-alignment's time_scale is reported identifiable in 13 of 16 fits and overtraining's onset in 8 of 16,
# as with no search-bound rule at all; 7 and 2 of 16 when every nuisance at a search bound at a closed end flagged
# the end. The bars sit between the two. (Silent-alignment's onset stays flagged in 12 of 16: there d_eff's bound
# does cut the onset's lower end, which moves by 97-190% of its distance from the estimate once d_eff may pass 1000.)
TOUCHED_NOT_CUT = {"silent-alignment": ("time_scale", 10 / 16), "overtraining": ("onset", 5 / 16)}

# Measured, not asserted: coverage is a property of the intervals over all fits, not of the fits flagged identifiable.
# Silent-alignment, this design, 400 replicates (random_state 1000..1399): onset covered in 383/400 (0.96 +- 0.01),
# but in 118/135 (0.87 +- 0.03) of the fits reporting it identifiable and 265/265 of the others (hidden_share 23/35 and
# 365/365). Every miss has the truth below a closed lower end with the onset estimated past the first session, and a
# many-start profile at the truth agrees with every interval (100 replicates), so the intervals are right: the flag
# selects on the sign of the error (the profile toward early onsets reaches d_eff's runaway within the cut only when
# the estimate is early). The first 48 replicates' 8/12 was partly chance: the blocks of 100 give 26/35, 34/36,
# 30/34 and 28/30.


def test_a_nuisance_touching_its_search_bound_does_not_flag_the_parameter(study):
    name, table, summary = study
    if name not in TOUCHED_NOT_CUT:
        pytest.skip(f"{name}: no measured case of a nuisance touching its search bound")
    parameter, bar = TOUCHED_NOT_CUT[name]
    fraction = summary.loc[parameter, "fraction_identifiable"]
    assert fraction >= bar, f"{name}: {parameter} reported identifiable in {fraction:.2f} of fits\n{summary}"
