"""Every statistic neurolearn computes, declared once: the table behind :data:`neurolearn.stats.STATISTICS`.

Grouped by family in the order ``docs/statistics.md`` lists them: behaviour, kernel and spectral here, then
readout, dynamics, generalisation and capacity from :mod:`~neurolearn.statistic_registry.entries_readout`.
Shared wording (the neuron bootstrap and the assumption its intervals rest on) is written once at the top, and
applied below to every kernel-family entry. After an edit, regenerate the page with
``python docs/make_statistics.py`` (a test checks it is current).
"""

from __future__ import annotations

import math
from dataclasses import replace

from neurolearn.statistic_registry.entries_readout import LABEL_REASONS, NEEDS_SESSION_LABEL, READOUT_ENTRIES
from neurolearn.statistic_registry.types import Requirements, Statistic

__all__ = ["ENTRIES"]

_INF = math.inf
# Resampling neurons carries each neuron's own trial noise, not noise every neuron shares on a trial
_SHARED_TRIAL_NOISE = ("; assumes trial noise independent across neurons: trial-to-trial fluctuations shared by "
                       "the population (a common gain, arousal) move every neuron's condition mean together, a "
                       "variance resampling neurons does not see, so these intervals are too narrow there and more "
                       "so with more neurons (measured with a shared gain of CV 0.3 at 600 neurons x 3 trials x 8 "
                       "conditions: coverage participation_ratio 0.60, kernel_similarity 0.55, task_alignment "
                       "0.80; 0.95, 0.99, 0.92 without it); a session whose trials' population sums vary more "
                       "than 6x the neurons' summed variances (its shared_noise_ratio) is flagged, value kept")
# ... except the statistics whose replicates carry it (neurolearn.stats.trial_noise.CORRECTED)
_CARRIES_SHARED_NOISE = ("task_alignment", "participation_ratio", "kernel_similarity", "kernel_change")
_SHARED_TRIAL_NOISE_CARRIED = (
    "; trial noise shared across neurons (a common gain, arousal), which resampling neurons does not see, is "
    "added where a session's trials show it (a 99.9 % test on the cross-neuron part of the trial residuals): "
    "each trial's residual projected on the condition means, its cross-neuron part times the statistic's "
    "first-order gradient, a Gaussian term shared by the session's statistics, its deviations scaled by "
    "t_0.975(nu)/z_0.975 with nu the Satterthwaite degrees of freedom of the variance (n - 1 per condition: 2 at 3 "
    "trials). For participation_ratio and kernel_similarity the shared noise also inflates the squared norms of "
    "their denominators (the U-statistic over neurons removes only each neuron's own noise), so they read low: "
    "there the norms' shift under the same draws (with each condition's second-order ||Delta||^2) is estimated "
    "and its first-order effect subtracted from the estimate (with n_boot > 0, which the draws need), the "
    "interval widened by the shift's own error (relative variance 2/nu); for participation_ratio also by the "
    "shift's own scatter about its mean (a session's realized gain: relative SD about sqrt(2/(P - 1)), 0.53 at "
    "8 conditions), with a normal interval in place of the t scaling. Log-normal-rate Poisson sessions with a "
    "shared gain of CV 0.3 (benchmarks/bench_kernel_change_null.py --shared, 0.5 s windows, 200 datasets, "
    "binomial SE 0.012-0.02): participation_ratio 0.82 -> 0.91-0.92 with the shift alone -> 0.957-0.965 with "
    "its scatter at 600 neurons x 3 trials x 8 conditions (three batches of about 400, width 1.07-1.09x; mean "
    "error -0.68 -> -0.03) and 0.88 -> 0.94 at 150 x 5 x 16; where the gain dominates the tuning (an "
    "independent gamma-gain population, tuning 0.2) 0.90 -> 0.97 at 600 x 3 x 8 and 0.925 at 150 x 5 x 8, the "
    "estimate there still low by about 0.47 (benchmarks/bench_participation_ratio.py --shared); "
    "kernel_similarity 0.92 -> 0.95-0.975 and 0.90 -> 0.96; task_alignment 0.87-0.91 and 0.92, kernel_change "
    "0.83-0.86 and 0.90 (no shift applied); without a shared gain the same as before (0.92, 0.94, 0.96, 0.95 at "
    "600 x 3 x 8); where the test finds none the interval is the neuron bootstrap's alone")
_SHARED_NOISE_REASON = "trial noise shared across neurons: the neuron-bootstrap interval is too narrow (value kept)"
_SUBSAMPLED = "too few neurons for an unbiased ratio"
_LEFT_OUT = ("the session shows too few of the conditions the other sessions share: left out of the shared "
             "condition set")
_DENOMINATOR = "denominator not resolved from noise (its estimate is not above zero by more than its SE)"

ENTRIES = (
    Statistic(
        name="behavior", label="behaviour (fraction correct)", family="behavior", units="", range=(0.0, 1.0),
        meaning="Fraction of trials answered correctly: what learning is for.",
        estimand="probability of a correct trial on the task's stimuli in this session (the shown stimuli a "
                 "sample of them); where a held-out column is declared (summarize's heldout=, attr "
                 "behavior_trials), of its training stimuli: the trials the column does not mark (the held-out "
                 "trials are heldout_behavior's; pooled, a perfect learner that does not generalise read 0.667)",
        estimator="fraction correct over trials with a correct/incorrect outcome (unbiased for the shown stimuli's "
                  "trial-weighted accuracy, and for the task's when stimuli are drawn independently of their trial "
                  "counts; no correction)",
        interval="SE the larger of the binomial and the cluster-robust CR2 (Bell-McCaffrey, over stimuli) SE, the "
                 "Agresti-Coull SE as a floor; Wilson interval at the effective trial count p(1-p)/max(binomial "
                 "variance, (t/z)^2 CR2 variance), t on C_eff - 1 dof (C_eff = 1/sum w_c^2, the stimuli with equal "
                 "trials): the small-C correction (covers 0.94-0.99 with 4-16 stimuli of varied difficulty x 2-10 "
                 "trials, where CR1 on z covered 0.81-0.92; 0.95-0.99 with equally hard stimuli; 0.83-0.93 when "
                 "4-16 stimuli's accuracies pile against 100 %; benchmarks/bench_behavior_coverage.py, 400 per "
                 "cell); with 2 stimuli of different accuracy (go/no-go) t(1) makes it nearly [0, 1]",
        needs=Requirements(behavior=True),
        reasons=("no behaviour column", "no trial with a correct/incorrect outcome",
                 "every trial is held out (heldout=...): behavior is the training stimuli's fraction correct; the "
                 "held-out trials' is heldout_behavior"),
        predicted_by=("lazy-rich", "silent-alignment", "grokking", "overtraining", "integrator", "transfer",
                      "learning-rule", "deep-linear"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="task_alignment", label="kernel-task alignment", family="kernel", units="", range=(-1.0, 1.0),
        meaning="How much of the representation's similarity structure is the task's (centred kernel alignment "
                "of the condition kernel with the task kernel). Rises in rich learning, flat in lazy learning.",
        estimand="alignment of the population kernel (infinitely many neurons, noiseless condition means) over "
                 "the shown conditions",
        estimator=("trial noise removed from the kernel diagonal; U-statistics over distinct neurons for the squared norm; "
                   "leave-one-neuron-out jackknife of the ratio; refused when the squared norm is not above 1 influence SE "
                   "(about 1.4 SE under no structure) or the estimate lies outside [-1, 1] by more than 3 SE"),
        interval=("neurons resampled by id with Poisson(1) weights shared across sessions, linearised replicates mapped to "
                  "rank-preserving normal scores (order kept) whose SD is the leave-one-neuron-out jackknife SE times "
                  "t_0.975(df)/z_0.975, df the SE's Satterthwaite degrees of freedom (about 30 at 100 Gaussian-like "
                  "cells, 5-8 when a few log-normal-rate cells carry the kernel): estimate +- that SD x 1.96. Coverage "
                  "over redraws of one population 0.951-0.955 on the transfer network (1500 redraws; SE/SD 1.08-1.10), "
                  "0.93-0.975 on log-normal-rate Poisson sessions (600 redraws x 6 designs; the first-order bootstrap "
                  "SD had SE/SD 0.94-1.92 there; benchmarks/bench_alignment_se.py). Known gap: the interval "
                  "covers the recorded cells' kernel, and where a few high-rate, strongly tuned cells of a heavy "
                  "tail (log-rate SD 1) carry it, the recorded sample's alignment sits above the population's after "
                  "a drift along the task axis (120 tracked cells, 8 conditions x 4 trials: last session 0.85 +- "
                  "0.05 of the population truth, median 0.54 for a truth of 0.37, 1.00 of the recorded cells'; all "
                  "sessions 0.915 +- 0.018): biased toward rich where the representation moved; measured again on an "
                  "independent exp-linear Poisson simulator (gain 1, drift 1, 200 datasets, "
                  "benchmarks/bench_heavy_tail_coverage.py) the last session covers 0.736 +- 0.046 (0.77 +- 0.06 "
                  "with 480 cells), reading +0.24 above the truth (median; noiseless +0.16 / +0.13 / +0.09 / +0.06 "
                  "at 120 / 480 / 1920 / 7680 cells, about N^-0.3: a population kernel set by a tail the sample does "
                  "not hold, not an O(1/N) ratio bias, the jackknife removing 0.09 of the plug-in's +0.37); not "
                  "repaired by percentile (0.10), BCa (0.16), bootstrap bias-corrected (0.37), bootstrap-t "
                  "(0.47-0.58) or reflected (0.83 there, 0.67-0.89 elsewhere) intervals. Known gap, strong "
                  "per-neuron trial overdispersion (gamma trial gain of CV 1, 3 trials, 80 cells x 8 conditions, "
                  "an independent simulator): 79 % of sessions are NaN (denominator not resolved), and the 84 of "
                  "400 reported read low (mean 0.42 for 0.61) and cover 0.845 +- 0.039, every miss below (a "
                  "selection: the sessions whose kernel norm reads high pass); with CV 0.7 and 6 trials 0.955 +- "
                  "0.022 of 88 % reported"),
        chance="expected alignment under random permutation of labels across conditions (exact)",
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2,
                           conditions_note="the centred alignment of 2 conditions is +-1 by construction"),
        reasons=("no task label", "one class of the target",
                 "fewer than 3 conditions (with 2 the double-centred alignment is +-1 by construction)",
                 "too few neurons for an unbiased ratio (need 3)", "denominator not resolved from noise (squared kernel norm not above 1 influence SE)", "estimate outside [-1, 1] by more than 3 SE"),
        predicted_by=("lazy-rich", "silent-alignment", "grokking", "transfer", "learning-rule",
                      "deep-linear"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="task_difficulty", label="task difficulty", family="kernel", units="", range=(0.0, _INF),
        meaning="Norm of the target in the ridge-regularised inverse kernel: large means the representation "
                "must change more to learn the task.",
        estimand=("tr(Y'(K/s + lambda I)^-1 Y)/tr(Y'Y) of the double-centred population kernel K = H Phi H over the "
                  "P - 1 contrasts of the shown conditions and the centred target Y = H y, s = tr(H Phi H)/(P - 1) its "
                  "mean eigenvalue (a condition-independent rate, e.g. baselines, changes neither: the uncentred form "
                  "doubled, 4.5 -> 9.3, as one population's baselines rose from 60 to 240 spikes/s)"),
        estimator=("trial-noise-corrected kernel projected onto the PSD cone (negative eigenvalues, from noise only, set "
                   "to 0); s before the projection; bounded by 1/ridge; finite-neuron bias of the inverse not "
                   "removed: biased up by 0.6-1.0 SE with 30-300 log-normal-rate neurons (the inverse is convex in "
                   "the kernel; measured on the uncentred form), so 95% intervals cover only 0.65-0.90 on realistic spiking sessions (4-16 "
                   "conditions, 2-10 trials, 80 per shape). Measured and not adopted: refitting every bootstrap "
                   "replicate exactly (0.72-0.84), a 20-group jackknife bias correction (bias 0.0-0.5 SE, but "
                   "coverage 0.69-0.84: its spread grows as much), bootstrap-t (0.64-0.89)"),
        interval="first-order neuron-bootstrap replicates re-centred (median) on the estimate",
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2),
        reasons=("no task label", "one class of the target", "too few neurons for an unbiased ratio (need 3)",
                 "fewer than 3 conditions (with 2 the centred kernel has one mode: 1/(1 + ridge) by construction)",
                 "denominator not resolved from noise (tr(HKH) / (P - 1) not above 1 SE)"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="kernel_similarity", label="kernel similarity (CKA)", family="kernel", units="", range=(-1.0, 1.0),
        pairwise=True,
        meaning="Similarity of two sessions' condition kernels (CKA); needs no neuron matching.",
        estimand=("CKA of the two sessions' population kernels over the conditions every session of the summary "
                  "shows (one condition set for the whole trajectory, listed in summarize's attr pairwise_conditions, "
                  "with one warning naming the conditions and sessions where a session lacks one the others show; "
                  "a session showing too few of them is left out of it, NaN on its own)"),
        estimator=("unbiased HSIC U-statistics over conditions and distinct neurons; jackknife of the ratio over neuron "
                   "ids (a cell tracked in both sessions is deleted from both at once; disjoint sessions are two "
                   "independent samples); a session whose squared centred kernel norm is not above 1 influence SE gives "
                   "NaN pairs; a pair outside [-1, 1] by more than 3 SE is NaN; estimates just above 1 where the truth is "
                   "near 1 are sampling noise and kept"),
        interval=("neurons resampled by id (Poisson(1) weights shared across sessions), ratio of the linearised term "
                  "replicates; percentile interval re-centred on the estimate for sessions sharing cells, normal scores "
                  "with the robust scale IQR/1.349 for sessions sharing no neuron id (their linearised norms move twice "
                  "a dominant cell's weight change where the cross term moves once, giving the replicate ratio tails "
                  "and a pole the estimate does not have), their deviations above the estimate scaled by "
                  "t_0.975(n_eff - 1)/z_0.975, n_eff >= 3 the effective cell count (sum u^2)^2/sum u^4 of the CKA's "
                  "influences (median 2-4 with log-normal rates): a session lacking the population's dominant cells "
                  "reads low with a short spread, so intervals missed below the truth (2-12 %) and practically never "
                  "above it (0-0.9 %). Coverage, fresh neurons: independent simulator (two tunings A and A + 0.6 "
                  "noise, truth from 400k cells) 8 conditions x 100 cells 0.874 -> 0.932 (2-10 trials), 0.854 -> "
                  "0.920 (6 each); 6 conditions x 60 cells 0.895 -> 0.953; 4 conditions x 40 cells 0.961 -> 0.979; "
                  "neurolearn.simulate spiking sessions (8 x 3) 0.972 -> 0.977 (300 cells), 0.978 -> 0.993 (100 "
                  "cells), 0.930 -> 0.962 (60 cells); known gap: still 0.91-0.93 at 8 conditions x 100 fresh cells "
                  "(misses below the truth), over-covering at 100 cells on the project's simulator; the same cells "
                  "every session 0.91-0.96. For sessions recording the same ids, the deviations below the estimate "
                  "are scaled by t_0.975(df)/z_0.975, df = 2 n n_eff/(n - n_eff) the Satterthwaite degrees of "
                  "freedom of the CKA's per-cell influences: the same few high-rate cells carry both kernels, so the "
                  "sample's CKA reads above the population's and the misses were intervals above the truth; ordinary "
                  "tracked spiking sessions 0.940-0.983 -> 0.960-0.992 (8 shapes x 150, widths +3-9 %). Known gap, "
                  "the same cells every session on a heavy-tailed population (log-rate SD 1, 120 cells, 8 conditions "
                  "x 4 trials, geometry drifting along the task axis; an independent exp-linear Poisson simulator, "
                  "benchmarks/bench_heavy_tail_coverage.py, 150 datasets): the population's similarity covered "
                  "0.837-0.941 -> 0.895-0.953 (the recorded cells' 1.00), misses still above it; the neuron "
                  "bootstrap cannot see the population's cells the sample lacks (BCa and percentile intervals "
                  "over neurons 0.61-0.71 there). Sessions sharing cells not declared tracked (a sorter renumbering "
                  "them) read high: 1.2-1.7 for a truth of 1 with 50-100 % of 50 cells shared, 8 conditions x 6 "
                  "trials (6 datasets per row, adversary S9-2): declare tracked="),
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=3),
        reasons=("fewer than 4 shared conditions", _LEFT_OUT, "too few neurons for an unbiased ratio (need 3)",
                 "denominator not resolved from noise (a session's squared centred kernel norm not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="kernel_change", label="relative kernel change", family="kernel", units="", range=(0.0, _INF),
        meaning="||H(K_t - K_0)H||_F / ||H K_0 H||_F: how far the double-centred kernel moved from the first session's.",
        estimand=("relative Frobenius change of the double-centred population kernel (H K H, H = I - 11'/P) from the "
                  "first session's, over the conditions every session of the summary shows: a neuron's baseline rate "
                  "is no part of it (the uncentred change read 0.04 at ~20 spikes/s and 0.18 at ~5 for a learned "
                  "change of 0.45-0.56; adversary S3-7); a change of the overall gain still reads as change (a gain "
                  "of g reads g^2 - 1)"),
        estimator=("mean over 32 halvings of the neuron ids (a hash of each id: a tracked cell stays in its half) of "
                   "the signed root of the halves' cross-fitted squared change <H D_A H, H D_B H>/||H K_0 H||^2, ratio bias by the "
                   "delta method; symmetric about 0 for an unchanged kernel (the U-statistic's signed root read "
                   "-0.10 +- 0.02 there with fresh log-normal-rate neurons, now -0.037 +- 0.035 over all values; "
                   "benchmarks/bench_kernel_change_null.py; of the values summarize reports, 716 of 786 over 400 "
                   "datasets, the mean is -0.024 +- 0.018, SD 0.49, every interval holding 0: the resolution is "
                   "judged on the side toward 0, the replicates of a signed root stretching toward 0; judged on the "
                   "lower side alone the reported mean was -0.169 +- 0.018 over 628, that side being the long one "
                   "for readings above 0 and the short one for those below). A barely resolved change reads low (the root's "
                   "curvature: -0.14 at truth 0.30, SD 0.26; with 150 fresh log-normal-rate cells x 8 conditions x 5 trials a true "
                   "0.32 read -0.01 on average, SD 0.31, 12 of 40 NaN as not resolved: the root of a squared change "
                   "below its noise is near 0 whatever the truth, so a small change is not evidence of no change; "
                   "its interval covered 28 of 28)"),
        interval=("neurons resampled by id (Poisson(1) weights shared across sessions), linearised replicates re-centred "
                  "on the estimate; for a session sharing cells with the reference, deviations scaled by "
                  "t_0.975(n_eff - 1)/z_0.975 with n_eff = (sum u^2)^2/sum u^4 of the squared change's per-cell "
                  "influences (2-20, median 6); for a session sharing no cell with it (fresh neurons), only the "
                  "deviations above the estimate, with n_eff >= 3 over both sessions' cells (as kernel_similarity's "
                  "fresh pairs). A value is resolved where the interval's half-width on the side toward no change, "
                  "over z, is below 2 or half the estimate: the lower half-width (resolution_side 'lower'), and "
                  "for an estimate below 0 the upper half-width before the upper-side scaling of fresh sessions "
                  "(the SE rule kept the low readings of heavy-tailed samples; the lower side alone reported the "
                  "low readings of no change). The unit 2 (not 1) is a choice measured against both: at 1 the "
                  "large heavy-tailed fresh changes below covered 0.87-0.88 of 38-28 % reported, at 2 0.91 of "
                  "67 %, with the null's reported mean -0.011 and -0.024. Coverage on log-normal spiking sessions "
                  "(benchmarks/bench_coverage.py, 4-16 conditions, 2-10 trials, 30-600 cells): 0.967 +- 0.008 "
                  "with fresh neurons each session (479 of 570 values; 0.919 of 209 with the SE rule and no upper "
                  "scaling, 48 % NaN); 0.972 +- 0.008 with the same cells every session (462 of 570 values; 0.969 +- 0.008 of 479 over 400 datasets with the SE "
                  "rule; before the centring 0.943 over 748, but 0.90 where the tuning is strong (gain x separation "
                  ">= 1.2), at 4-7 conditions and at 300-600 cells: the population kernel is then carried by "
                  "strongly tuned cells a sample rarely holds, so the estimate reads low and its SE short together); "
                  "0.74 tracked / 0.83 fresh with 3000 heavy-tailed cells (measured before the scaling). Large "
                  "changes with fresh neurons, an independent exp-linear Poisson simulator (log-rate SD 1, drifting "
                  "geometry, true change 0.5-5; benchmarks/bench_kernel_change_fresh.py): 6 conditions x 150 cells "
                  "x 2-4 trials 0.913 +- 0.014 of the reported values (404 of 590, 33 % NaN; all values 0.941), "
                  "4 x 80 x 2-4 0.910 +- 0.015 and 6 x 150 x 6-10 0.914 +- 0.014 (600 values each); with the SE rule and no upper scaling 0.61-0.72, with 2/3 NaN. Every miss lies "
                  "below the truth, and the estimates read low (mean error about -1 at a mean truth ~1.4): the kernels "
                  "are carried by a few high-rate cells (each cell's kernel weighs its rate squared), and the "
                  "jackknife-corrected squared change of 150 fresh cells is unbiased in mean (3.76 for a true 3.37 "
                  "over 100 draws) but so skewed that its median is 0.17. With fresh neurons a large change reads "
                  "low; its interval reaches the truth through its upper side"),
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=3),
        reasons=("too few neurons for an unbiased ratio (need 3)", _LEFT_OUT,
                 "reference session's squared kernel norm not resolved from noise (not above 1 influence SE)",
                 "lower half-width of the interval, (estimate - lower end) / z, above both 2 (twice the reference "
                 "kernel's norm) and half the estimate: the change is not told from none",
                 "estimate below 0 with the upper half-width of its interval before the upper-side scaling of fresh "
                 "sessions, (upper end - estimate) / z, above 2 (twice the reference kernel's norm): judged on the "
                 "side toward no change, as an estimate above 0 is on its lower side",
                 "recorded in other units than the reference session (counts beside rates, or counts over another "
                 "window length): the change would read the change of scale"),
        predicted_by=("lazy-rich", "silent-alignment", "transfer", "learning-rule", "deep-linear"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
        # in units of the reference kernel's norm: with the side toward no change above 2 (that side of the 95 %
        # interval longer than ~4 norms) the data cannot tell an unchanged kernel from one that moved by several
        # times its own size (-41 +- 48 on a 24-trial session of heavy-tailed cells); 2, not 1, measured: at 1
        # the large heavy-tailed fresh changes reported covered 0.87-0.88, at 2 0.91, both unbiased under none
        resolution_se=2.0,
        resolution_side="lower",
    ),
    Statistic(
        name="kernel_scale", label="relative kernel scale", family="kernel", units="", range=(0.0, _INF),
        meaning=("||H K_t H||_F / ||H K_0 H||_F: how much the condition-driven part of the kernel grew or shrank from "
                 "the first session's, whatever its shape. A uniform firing-rate gain g reads g^2 here, g^2 - 1 in "
                 "kernel_change and 1 in kernel_similarity: the three together tell a change of gain from a change "
                 "of representation."),
        estimand=("ratio of the Frobenius norms of the double-centred population kernels (H K H, H = I - 11'/P) of a "
                  "session and the first session, over the conditions every session of the summary shows"),
        estimator=("square root of the ratio of the two sessions' unbiased squared centred norms (U-statistics over "
                   "distinct neurons of trial-noise-corrected kernels), the ratio's O(1/N) bias removed before the "
                   "root by the exact leave-one-id-out jackknife (a tracked cell deleted from both sessions at once)"),
        interval=("neurons resampled by id (Poisson(1) weights shared across sessions), the ratio of the linearised "
                  "self-term replicates rooted and re-centred on the estimate; for a session sharing cells with the "
                  "reference, deviations scaled by t_0.975(n_eff - 1)/z_0.975 (n_eff the effective cell count of the "
                  "log ratio's influences). Coverage of the population truth on log-normal-rate Poisson sessions "
                  "(3 sessions, 2-10 trials): neurolearn.simulate spiking sessions (4-16 conditions, 30-400 cells, "
                  "150 datasets each) 224/232 = 0.966 with fresh neurons (68 of 300 NaN, not resolved), 277/279 = "
                  "0.993 with the same cells (0.975 without the Student scaling); an independent exp-linear "
                  "simulator (6 conditions x 150 cells x 2-4 trials, drifting geometry) 184/196 = 0.939 fresh, "
                  "266/276 = 0.964 tracked (0.899 without the scaling); 4 conditions x 80 tracked cells 0.957. Mean "
                  "error -0.07 +- 0.03 tracked, +0.03 +- 0.08 fresh"),
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=3),
        reasons=("too few neurons for an unbiased ratio (need 3)", _LEFT_OUT,
                 "a session's (or the reference's) squared centred kernel norm not resolved from noise (not above 1 "
                 "influence SE)",
                 "bias-corrected ratio of squared norms not positive: the scale is not resolved",
                 "recorded in other units than the reference session (counts beside rates, or counts over another "
                 "window length): the ratio would read the change of units"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="code_overlap", label="code overlap", family="kernel", units="", range=(-1.0, 1.0), pairwise=True,
        meaning="tr K(t,s)/sqrt(tr K(t,t) tr K(s,s)) of the condition-centred responses over tracked cells: decays "
                "under representational drift even when kernels do not.",
        estimand=("overlap of the tracked cells' condition-centred population codes over the shared conditions (each "
                  "cell's mean over conditions removed: uncentred, the baselines held a full remap of every cell's "
                  "tuning at 0.86; adversary S3-8)"),
        estimator=("trial-noise-corrected traces over the cells tracked in both sessions; NaN when a self trace over the "
                   "shared cells is not above 1 SE or the estimate lies outside [-1, 1] by more than 3 SE; values just "
                   "above 1 for an unchanged code are noise"),
        interval=("neurons resampled by id (exact weighted ratio of sums), percentile re-centred on the estimate with "
                  "deviations scaled by t_0.975(n_eff - 1)/z_0.975, n_eff the influences' effective number of cells "
                  "(2-20, median 6). Coverage on log-normal spiking sessions (bench_coverage --tracked, 400 datasets, "
                  "1165 values, condition-centred codes): 0.963 +- 0.006; before the centring 0.927 over 1199, 0.96 / "
                  "0.94 / 0.885 for gain x separation < 0.6 / 0.6-1.2 / >= 1.2: biased high (z mean +0.42) where strongly "
                  "tuned cells, the ones that drift most, are missing from the sample; where n_eff is 2-3 the scaled "
                  "interval is wide (SE about 2 error SDs)"),
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=2, tracked=True),
        reasons=("cells not declared tracked", "no tracked cell in both sessions",
                 "too few tracked cells in both sessions (need 3)",
                 "denominator not resolved from noise (a self trace over the shared cells not above 1 SE)", "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="target_agreement", label="target agreement", family="kernel", units="", range=(-1.0, 1.0),
        pairwise=True,
        meaning="Signed cosine of two sessions' targets in the metric of the first one's condition kernel: +1 "
                "for the same task, -1 for a reversal, about 0 for a new task the kernel represents apart from "
                "the old one. The sign-invariant alignment and difficulty cannot tell a reversal from the "
                "original task; this can, and with the task alignments it sets how fast a readout carried over "
                "from one task learns the other.",
        estimand="tr(C_s' K_s C_t) / sqrt(tr(C_s' K_s C_s) tr(C_t' K_s C_t)) of the population kernel K_s of "
                 "session s (row) over the conditions every session shows, C = H Y the centred targets of "
                 "session s and session_other t encoded together (the same label value is the same class)",
        estimator=("numerator and both quadratic forms are means over neurons of trial-noise-corrected per-neuron "
                   "terms (unbiased for the population kernel); the ratio itself (its O(1/N) bias is 0.03-0.09 SD; "
                   "a jackknife correction added 20-37 % spread on spiking sessions); "
                   "refused when a quadratic form is not above 1 influence SE or the estimate lies outside [-1, 1] "
                   "by more than 3 SE; targets equal or opposite on the shared conditions give exactly +-1 with "
                   "zero SE (a fact of the labels, whatever the kernel), and no other value a zero-width interval; the plug-in keeps the trial noise, which "
                   "pulls the agreement toward 0"),
        interval=("session s's neurons resampled by id (Poisson(1) weights shared across sessions), linearised "
                  "replicates of the three means, ratio applied exactly, mapped to normal scores (order kept) whose "
                  "SD is the jackknife SE times its Student factor; coverage 0.943-0.950 on the transfer network "
                  "(1500 redraws), 0.85-0.94 on log-normal-rate Poisson sessions (the first-order replicates' SE was "
                  "0.62-0.76 of the spread there: 0.845-0.893; benchmarks/bench_alignment_se.py)"),
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2,
                           conditions_note="with 2 conditions any two centred targets are collinear (+-1)"),
        reasons=("no task label", "one class of a session's target on the shared conditions",
                 "the sessions code the classes with different values (each holds a value another lacks: -1/+1 and 1/2, "
                 "'left/right/nogo' and 'Left/Right/Nogo', 0/1/2 and 1/2/3): recode to one coding or declare a "
                 "mapping; a session whose classes are a subset of another's is computed",
                 "the value does not vary over resampled neurons though the targets are neither equal nor "
                 "opposite (fixed by the coding)",
                 "fewer than 3 shared conditions", "too few neurons for an unbiased ratio (need 3)",
                 "denominator not resolved from noise (a target's kernel quadratic form not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="reference_agreement", label="agreement with the first task", family="kernel", units="",
        range=(-1.0, 1.0),
        meaning="target_agreement of each session's target with the first session's, in that session's kernel: "
                "+1 while the original task is trained, -1 after a reversal, near 0 after a switch to a new task "
                "(the per-session form a model fits).",
        estimand="target_agreement[s, first session] of the population kernel of session s over the conditions "
                 "every session shows",
        estimator="as target_agreement (its first column)",
        interval="as target_agreement",
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2,
                           conditions_note="with 2 conditions any two centred targets are collinear (+-1)"),
        reasons=("no task label", "one class of a session's target on the shared conditions",
                 "the sessions code the classes with different values (each holds a value another lacks: -1/+1 and 1/2, "
                 "'left/right/nogo' and 'Left/Right/Nogo', 0/1/2 and 1/2/3): recode to one coding or declare a "
                 "mapping; a session whose classes are a subset of another's is computed",
                 "the value does not vary over resampled neurons though the targets are neither equal nor "
                 "opposite (fixed by the coding)",
                 "fewer than 3 shared conditions", "too few neurons for an unbiased ratio (need 3)",
                 "the first (reference) session has no kernel",
                 "denominator not resolved from noise (a target's kernel quadratic form not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        predicted_by=("transfer",),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="participation_ratio", label="participation ratio", family="kernel", units="dimensions",
        range=(1.0, _INF),
        meaning="(sum lambda)^2 / sum lambda^2 of the population kernel over the shown conditions: the effective "
                "dimensionality of the representation of those stimuli.",
        estimand="participation ratio (tr HPhiH)^2 / ||HPhiH||_F^2 of the population kernel Phi = E_i[r_i r_i'] over the "
                 "shown conditions (infinitely many neurons from the recorded population, noiseless condition "
                 "means); in [1, P - 1]. The conditions are fixed, not samples from a stimulus distribution",
        estimator="ratio of U-statistics over distinct neurons of trial-noise-corrected per-neuron kernels (per-"
                  "condition squared SEs remove Poisson noise) for (tr HPhiH)^2 and ||HPhiH||^2; clipped to "
                  "[1, P - 1]; no jackknife (it lowered coverage); biased upward where the population's kernel is "
                  "carried by neurons the session did not record (log-normal rates: a tuning whose top 1 % of "
                  "neurons carry 70 % of tr HPhiH read 1.74 for a truth of 1.24 at 40 neurons x 4 conditions)",
        interval="neurons resampled by id with Poisson(1) weights shared across sessions (conditions fixed: the "
                 "estimand is the shown set); exact weighted replicates re-centred on the estimate, spread floored "
                 "at the leave-one-neuron-out jackknife SE, clipped to [1, P - 1]; percentile interval, always "
                 "contains the estimate; it describes the recorded neurons: 95 % coverage 0.98 and 0.99 where they "
                 "represent the kernel, 0.76 (40 neurons x 4 conditions) and 0.87 (100 x 8) on tunings whose top "
                 "1 % of neurons carry 56-70 % of the kernel's trace (benchmarks/bench_participation_ratio.py "
                 "--tail); jackknife, BCa, log and logit intervals did not repair it",
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=3),
        reasons=("fewer than 4 conditions", "fewer than 2 trials in some condition", "fewer than 3 neurons",
                 "denominator not resolved from noise (the centred kernel's squared norm is not above one "
                 "jackknife SE)", "no condition structure resolved (squared trace not above zero)"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="spectral_power", label="target power in top kernel modes", family="spectral", units="",
        range=(0.0, 1.0),
        meaning="C(k): fraction of the target's power in the kernel's top k eigenmodes; faster rise means "
                "better generalisation from few examples.",
        estimand=("C(k) of the double-centred population kernel and centred target over the P - 1 contrasts of the "
                  "shown conditions (a baseline rate is no mode)"),
        estimator="trial-noise-corrected kernel; k limited to the P - 1 contrast modes a subsampled population resolves",
        interval=("neuron bootstrap, kernel re-diagonalised (Rayleigh-Ritz) on at most spectral_max_boot "
                  "replicates; re-centred percentile interval, its spread raised to the leave-one-neuron-out "
                  "jackknife SE where larger (never narrowed); covers the population C(k) 0.94-0.99 at 16 "
                  "conditions x 100-400 log-normal-gain cells (was 0.74-0.80) and 0.88 at 12 conditions where the "
                  "k-th and (k+1)-th population eigenvalues are close (was 0.62); 0.95-0.97 on exp-linear "
                  "log-normal-rate sessions (was 0.81-0.92); benchmarks/bench_spectral_coverage.py"),
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=2, min_classes=2),
        reasons=("no task label", "one class of the target", "fewer than 3 conditions"),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
    Statistic(
        name="powerlaw_exponent", label="spectral power-law exponent", family="spectral", units="",
        range=(0.0, 10.0),
        meaning=("Decay exponent of the population kernel's eigenvalues: the power law over the P - 1 condition "
                 "contrasts as concentrated as the spectrum."),
        estimand=("alpha of the power law eta_k = k^-alpha, k = 1..P - 1, whose participation ratio equals that of the "
                  "double-centred population kernel H Phi H over the P - 1 contrasts of the shown conditions (its "
                  "exponent when the population spectrum is a power law; the mean-rate mode is not among them); the "
                  "number of modes is fixed by the conditions, not by the cell count. A monotone re-expression of "
                  "participation_ratio: the two carry the same information"),
        estimator=("the inverse of PR(alpha) = (sum k^-alpha)^2 / sum k^-2alpha applied to participation_ratio's "
                   "estimate (U-statistics over distinct neurons of trial-noise-corrected kernels: no finite-neuron "
                   "eigenvalue spreading, no trial-noise floor); clipped to [0, 10]. Replaces a least-squares slope "
                   "of the sample eigenvalues over floor(sqrt N) modes, which read +0.3 to +0.8 too steep and "
                   "covered the population exponent 0.00-0.69 (adversary S6-2)"),
        interval=("participation_ratio's interval mapped through the same monotone inverse (neuron bootstrap, exact "
                  "weighted U-statistics, spread raised to the leave-one-neuron-out jackknife SE); covers the "
                  "population exponent 0.94-1.00 on Poisson sessions of log-normal-gain cells with an exact "
                  "power-law population spectrum (4-16 conditions, 60-400 cells, 2-10 trials, 100 sessions per "
                  "design; was 0.00-0.69, every miss above; benchmarks/bench_spectral_coverage.py) and 0.89-0.95 "
                  "on exp-linear log-normal-rate sessions (16 conditions, 100-400 cells; 0.89 is "
                  "participation_ratio's own coverage there); computed without a task label; does not carry the "
                  "shared-trial-noise term participation_ratio's interval gets"),
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=4),
        reasons=("participation ratio not resolved (fewer than 4 conditions, or its ||H Phi H||^2 not above one "
                 "jackknife SE: no condition structure resolved from trial noise)",),
        invariant_to=('neuron order', 'response scale', 'condition labels', 'baseline rates'),
    ),
)

ENTRIES = ENTRIES + READOUT_ENTRIES
ENTRIES = tuple(replace(entry, reasons=entry.reasons + LABEL_REASONS) if entry.name in NEEDS_SESSION_LABEL else entry
                for entry in ENTRIES)

# the kernel statistics' intervals all resample neurons: each states the assumption it rests on
ENTRIES = tuple(replace(entry, interval=entry.interval + _SHARED_TRIAL_NOISE_CARRIED)
                if entry.name in _CARRIES_SHARED_NOISE
                else replace(entry, interval=entry.interval + _SHARED_TRIAL_NOISE,
                             reasons=entry.reasons + (_SHARED_NOISE_REASON,))
                if entry.family in ("kernel", "spectral") and entry.interval else entry for entry in ENTRIES)

#: name -> :class:`Statistic`, in the order summaries and docs list them
