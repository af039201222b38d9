"""Every statistic neurolearn computes, declared once: the table behind :data:`neurolearn.stats.STATISTICS`.

Grouped by family in the order ``docs/statistics.md`` lists them. Shared wording (the neuron bootstrap, the
dynamics estimator and its reasons) is written once at the top. After an edit, regenerate the page with
``python docs/make_statistics.py`` (a test checks it is current).
"""

from __future__ import annotations

import math
from dataclasses import replace

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
    "trials). Shared gain of CV 0.3 at 600 neurons x 3 trials x 8 conditions, 200 datasets each: coverage "
    "participation_ratio 0.66 -> 0.905, task_alignment 0.81 -> 0.935, kernel_similarity 0.855 -> 0.97, "
    "kernel_change 0.79 -> 0.93 on Gaussian-noise sessions before the t scaling; on log-normal-rate Poisson "
    "sessions (benchmarks/bench_kernel_change_null.py --shared, 0.5 s windows) 0.821, 0.910, 0.899, 0.995 with "
    "it (0.761, 0.887, 0.864, 0.995 without): participation_ratio and kernel_similarity still under-cover "
    "there; where the test finds none the interval is the neuron bootstrap's alone")
_SHARED_NOISE_REASON = "trial noise shared across neurons: the neuron-bootstrap interval is too narrow (value kept)"
_SUBSAMPLED = "too few neurons for an unbiased ratio"
_DENOMINATOR = "denominator not resolved from noise (its estimate is not above zero by more than its SE)"

_IV_DYNAMICS = ("instrumental variables (Fuller-modified LIML): activity lagged 1 and 2 bins (2 and 3 after "
                "deconvolution) and the inputs as instruments, in the leading principal components' directions that "
                "the past predicts beyond chance (canonical correlations above the Wachter null edge); consistent "
                "under observation noise independent across bins, which attenuates least squares")
_DYNAMICS_REASONS = ("not time-resolved", "too few time bins", "fewer than 2 trials", "fewer than 2 neurons",
                     "no variance: activity is constant", "too few transitions",
                     "calcium (dF/F) recording: the timescale includes the indicator's decay (value kept)",
                     "no direction of activity predictable from its past beyond chance (weak instruments: the "
                     "eigenvalue leans toward 0; value kept)")

ENTRIES = (
    Statistic(
        name="behavior", label="behaviour (fraction correct)", family="behavior", units="", range=(0.0, 1.0),
        meaning="Fraction of trials answered correctly: what learning is for.",
        estimand="probability of a correct trial on the task's stimuli in this session (the shown stimuli a "
                 "sample of them)",
        estimator="fraction correct over trials with a correct/incorrect outcome",
        interval="the larger of the binomial and the cluster-robust (CR1, over stimuli) SE, the Agresti-Coull SE "
                 "as a floor; Wilson interval, widened to p +- z SE where the cluster SE is larger (covers 0.94 "
                 "with 12 stimuli of varied difficulty x 10 trials, where the binomial interval covers 0.70)",
        needs=Requirements(behavior=True),
        reasons=("no behaviour column", "no trial with a correct/incorrect outcome"),
        predicted_by=("lazy-rich", "silent-alignment", "grokking", "overtraining", "integrator",
                      "kernel-learning-curve", "transfer", "learning-rule", "deep-linear"),
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
                  "SD had SE/SD 0.94-1.92 there; benchmarks/bench_alignment_se.py)"),
        chance="expected alignment under random permutation of labels across conditions (exact)",
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2,
                           conditions_note="the centred alignment of 2 conditions is +-1 by construction"),
        reasons=("no task label", "one class of the target",
                 "fewer than 3 conditions (with 2 the double-centred alignment is +-1 by construction)",
                 "too few neurons for an unbiased ratio (need 3)", "denominator not resolved from noise (squared kernel norm not above 1 influence SE)", "estimate outside [-1, 1] by more than 3 SE"),
        predicted_by=("lazy-rich", "silent-alignment", "grokking", "transfer", "learning-rule",
                      "deep-linear"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="task_difficulty", label="task difficulty", family="kernel", units="", range=(0.0, _INF),
        meaning="Norm of the target in the ridge-regularised inverse kernel: large means the representation "
                "must change more to learn the task.",
        estimand="tr(Y'(K/s + lambda I)^-1 Y)/tr(Y'Y) of the population kernel over the shown conditions",
        estimator=("trial-noise-corrected kernel projected onto the PSD cone (negative eigenvalues, from noise only, set "
                   "to 0); s = tr(K)/P before the projection; bounded by 1/ridge; finite-neuron bias of the inverse not "
                   "removed: biased up by 0.6-1.0 SE with 30-300 log-normal-rate neurons (the inverse is convex in "
                   "the kernel), so 95% intervals cover only 0.65-0.90 on realistic spiking sessions (4-16 "
                   "conditions, 2-10 trials, 80 per shape). Measured and not adopted: refitting every bootstrap "
                   "replicate exactly (0.72-0.84), a 20-group jackknife bias correction (bias 0.0-0.5 SE, but "
                   "coverage 0.69-0.84: its spread grows as much), bootstrap-t (0.64-0.89)"),
        interval="first-order neuron-bootstrap replicates re-centred (median) on the estimate",
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=3, min_classes=2),
        reasons=("no task label", "one class of the target", "too few neurons for an unbiased ratio (need 3)",
                 "denominator not resolved from noise (tr K / P not above 1 SE)"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="kernel_similarity", label="kernel similarity (CKA)", family="kernel", units="", range=(-1.0, 1.0),
        pairwise=True,
        meaning="Similarity of two sessions' condition kernels (CKA); needs no neuron matching.",
        estimand="CKA of the two sessions' population kernels over the conditions both show",
        estimator=("unbiased HSIC U-statistics over conditions and distinct neurons; jackknife of the ratio over neuron "
                   "ids (a cell tracked in both sessions is deleted from both at once; disjoint sessions are two "
                   "independent samples); a session whose squared centred kernel norm is not above 1 influence SE gives "
                   "NaN pairs; a pair outside [-1, 1] by more than 3 SE is NaN; estimates just above 1 where the truth is "
                   "near 1 are sampling noise and kept"),
        interval=("neurons resampled by id (Poisson(1) weights shared across sessions), ratio of the linearised term "
                  "replicates; percentile interval re-centred on the estimate for sessions sharing cells, normal scores "
                  "with the robust scale IQR/1.349 for sessions sharing no neuron id (their linearised norms move twice "
                  "a dominant cell's weight change where the cross term moves once, giving the replicate ratio tails "
                  "and a pole the estimate does not have). Coverage on log-normal spiking sessions (4-16 conditions, "
                  "2-10 trials, 30-600 cells, 250 replicates per shape): fresh neurons 0.92-0.96 (was 0.98-1.0, SE/SD "
                  "1.2-3.7; now 0.5-1.3), except 0.90 at 30 cells x 10 trials; the same cells every session 0.91-0.96"),
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=3),
        reasons=("fewer than 4 shared conditions", "too few neurons for an unbiased ratio (need 3)",
                 "denominator not resolved from noise (a session's squared centred kernel norm not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="kernel_change", label="relative kernel change", family="kernel", units="", range=(0.0, _INF),
        meaning="||K_t - K_0||_F / ||K_0||_F: how far the kernel moved from the first session's.",
        estimand="relative Frobenius change of the population kernel over the shared conditions",
        estimator=("mean over 32 halvings of the neuron ids (a hash of each id: a tracked cell stays in its half) of "
                   "the signed root of the halves' cross-fitted squared change <D_A, D_B>/||K_0||^2, ratio bias by the "
                   "delta method; symmetric about 0 for an unchanged kernel (the U-statistic's signed root read "
                   "-0.10 +- 0.02 there with fresh log-normal-rate neurons, now -0.035 +- 0.018; "
                   "benchmarks/bench_kernel_change_null.py). A barely resolved change reads low (the root's "
                   "curvature: -0.14 at truth 0.30, SD 0.26)"),
        interval=("neurons resampled by id (Poisson(1) weights shared across sessions), linearised replicates re-centred "
                  "on the estimate; for a session sharing cells with the reference, deviations scaled by "
                  "t_0.975(n_eff - 1)/z_0.975 with n_eff = (sum u^2)^2/sum u^4 of the squared change's per-cell "
                  "influences (2-20, median 6). Coverage on log-normal spiking sessions (benchmarks/bench_coverage.py, "
                  "4-16 conditions, 2-10 trials, 30-600 cells, 400 datasets): 0.964 with fresh neurons each session "
                  "(667 values); 0.943 with the same cells every session (748 values; was 0.886 on the same values, "
                  "z SD 1.19 -> 0.90, z mean -0.62 -> -0.41), but 0.90 where the tuning is strong (gain x separation "
                  ">= 1.2), at 4-7 conditions and at 300-600 cells: the population kernel is then carried by strongly "
                  "tuned cells a sample rarely holds, so the estimate reads low and its SE short together; 0.74 "
                  "tracked / 0.83 fresh with 3000 heavy-tailed cells (measured before the scaling)"),
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=3),
        reasons=("too few neurons for an unbiased ratio (need 3)",
                 "reference session's squared kernel norm not resolved from noise (not above 1 influence SE)",
                 "standard error above both 1 (the reference kernel's norm) and half the estimate: the change is "
                 "not resolved"),
        predicted_by=("lazy-rich", "silent-alignment", "transfer", "learning-rule", "deep-linear"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
        # its unit is the reference kernel's norm: with an SE above 1 the data cannot tell an unchanged kernel
        # from one that moved by more than its own size (-41 +- 48 on a 24-trial session of heavy-tailed cells)
        resolution_se=1.0,
    ),
    Statistic(
        name="code_overlap", label="code overlap", family="kernel", units="", range=(-1.0, 1.0), pairwise=True,
        meaning="tr K(t,s)/sqrt(tr K(t,t) tr K(s,s)) over tracked cells: decays under representational drift "
                "even when kernels do not.",
        estimand="overlap of the tracked cells' population codes over the shared conditions",
        estimator=("trial-noise-corrected traces over the cells tracked in both sessions; NaN when a self trace over the "
                   "shared cells is not above 1 SE or the estimate lies outside [-1, 1] by more than 3 SE; values just "
                   "above 1 for an unchanged code are noise"),
        interval=("neurons resampled by id (exact weighted ratio of sums), percentile re-centred on the estimate with "
                  "deviations scaled by t_0.975(n_eff - 1)/z_0.975, n_eff the influences' effective number of cells "
                  "(2-20, median 6). Coverage on log-normal spiking sessions (bench_coverage --tracked, 400 datasets, "
                  "1199 values): 0.927 (was 0.849; z SD 1.45 -> 1.03), 0.96 / 0.94 / 0.885 for gain x separation "
                  "< 0.6 / 0.6-1.2 / >= 1.2 (was 0.92 / 0.87 / 0.77): still biased high (z mean +0.42) where strongly "
                  "tuned cells, the ones that drift most, are missing from the sample; where n_eff is 2-3 the scaled "
                  "interval is wide (SE about 2 error SDs)"),
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=2, tracked=True),
        reasons=("cells not declared tracked", "no tracked cell in both sessions",
                 "too few tracked cells in both sessions (need 3)",
                 "denominator not resolved from noise (a self trace over the shared cells not above 1 SE)", "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
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
                   "zero SE (a fact of the labels, whatever the kernel); the plug-in keeps the trial noise, which "
                   "pulls the agreement toward 0"),
        interval=("session s's neurons resampled by id (Poisson(1) weights shared across sessions), linearised "
                  "replicates of the three means, ratio applied exactly, mapped to normal scores (order kept) whose "
                  "SD is the jackknife SE times its Student factor; coverage 0.943-0.950 on the transfer network "
                  "(1500 redraws), 0.85-0.94 on log-normal-rate Poisson sessions (the first-order replicates' SE was "
                  "0.62-0.76 of the spread there: 0.845-0.893; benchmarks/bench_alignment_se.py)"),
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=3, min_classes=2,
                           conditions_note="with 2 conditions any two centred targets are collinear (+-1)"),
        reasons=("no task label", "one class of a session's target on the shared conditions",
                 "fewer than 3 shared conditions", "too few neurons for an unbiased ratio (need 3)",
                 "denominator not resolved from noise (a target's kernel quadratic form not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
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
                 "fewer than 3 shared conditions", "too few neurons for an unbiased ratio (need 3)",
                 "the first (reference) session has no kernel",
                 "denominator not resolved from noise (a target's kernel quadratic form not above 1 influence SE)",
                 "estimate outside [-1, 1] by more than 3 SE"),
        predicted_by=("transfer",),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
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
                  "[1, P - 1]; no jackknife (it lowered coverage); small upward bias at few neurons",
        interval="neurons resampled by id with Poisson(1) weights shared across sessions (conditions fixed: the "
                 "estimand is the shown set); exact weighted replicates re-centred on the estimate, spread floored "
                 "at the leave-one-neuron-out jackknife SE, clipped to [1, P - 1]; percentile interval, always "
                 "contains the estimate",
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=3),
        reasons=("fewer than 4 conditions", "fewer than 2 trials in some condition", "fewer than 3 neurons",
                 "denominator not resolved from noise (the centred kernel's squared norm is not above one "
                 "jackknife SE)", "no condition structure resolved (squared trace not above zero)"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="spectral_power", label="target power in top kernel modes", family="spectral", units="",
        range=(0.0, 1.0),
        meaning="C(k): fraction of the target's power in the kernel's top k eigenmodes; faster rise means "
                "better generalisation from few examples.",
        estimand="C(k) of the population kernel over the shown conditions",
        estimator="trial-noise-corrected kernel; k limited to the modes a subsampled population resolves",
        interval="neuron bootstrap, kernel re-diagonalised (Rayleigh-Ritz) on at most spectral_max_boot "
                 "replicates; re-centred percentile interval",
        needs=Requirements(min_conditions=3, min_trials=2, min_neurons=2, min_classes=2),
        reasons=("no task label", "one class of the target", "fewer than 3 conditions"),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="powerlaw_exponent", label="spectral power-law exponent", family="spectral", units="",
        range=(-_INF, _INF),
        meaning="Decay exponent of the kernel's eigenvalues over the resolved modes.",
        estimand="log-log slope of the population kernel's top eigenvalues",
        estimator="least squares over the top floor(sqrt(N)) eigenvalues",
        interval="as spectral_power",
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=4),
        reasons=("fewer than 3 resolved modes",),
        invariant_to=('neuron order', 'response scale', 'condition labels'),
    ),
    Statistic(
        name="decoder_accuracy", label="decoder accuracy", family="readout", units="", range=(0.0, 1.0),
        meaning="Cross-validated accuracy of a linear decoder of the task label from single trials.",
        estimand="expected accuracy on new trials of the shown conditions of a linear decoder trained on "
                 "(K-1)/K of this session's trials of these neurons (conditions and neurons are the recorded "
                 "ones; new stimuli are heldout_accuracy's estimand)",
        estimator="stratified K-fold cross-validation, z-scored responses, L2 logistic regression (C = 1) on "
                  "single trials; K reduced to the trials of the scarcest class",
        interval="variance the larger of the within-condition test noise (sum_c n_c s_c^2 / n^2) and the "
                 "Nadeau-Bengio corrected spread of condition-adjusted fold accuracies, averaged over 5 fold "
                 "partitions (also sees training noise); SE at least Agresti-Coull; normal interval clipped to "
                 "[0, 1], the hull with the Wilson interval of n trials at 0 or 100% correct, so it contains the "
                 "estimate and does not collapse (coverage 0.92-0.985 on spiking sessions, 200 per shape: "
                 "benchmarks/bench_readout_coverage.py)",
        chance="mean accuracy over 20 label permutations on the same folds: across conditions when the label is "
               "constant within each and some class has several conditions, else across trials; "
               "decoder_accuracy_pvalue",
        needs=Requirements(min_conditions=1, min_trials=1, min_neurons=1, min_classes=2),
        reasons=("continuous task label (regression target): the decoders need classes", "no task label (target=None)", "no task label (no trial coord 'target')", "one class of 'target'",
                 "fewer than 2 trials of a class of 'target'", "at or below chance: carries no information"),
        predicted_by=("overtraining",),
    ),
    Statistic(
        name="heldout_accuracy", label="held-out accuracy", family="readout", units="", range=(0.0, 1.0),
        meaning="Accuracy on conditions (stimuli) never used to train the decoder: generalisation.",
        estimand="expected accuracy on unseen conditions of a decoder trained on the others",
        estimator="leave-conditions-out cross-validation (folds over conditions within class)",
        interval="conditions resampled within class over the held-out predictions; SE the larger of that and "
                 "the Nadeau-Bengio corrected fold variance (Agresti-Coull floor); the hull of the normal "
                 "interval (clipped to [0, 1]) and the Wilson interval of k correct of n",
        chance="as decoder_accuracy, each permutation's leave-conditions-out folds drawn as the observation's, "
               "stratified on the permuted labels (folds stratified on the real ones leave permuted classes "
               "unbalanced in training and read chance 0.39 where it is 0.5)",
        needs=Requirements(min_conditions=4, min_trials=1, min_neurons=1, min_classes=2),
        reasons=("continuous task label (regression target): the decoders need classes", "no task label (target=None)", "one class of 'target'", "no condition coord",
                 "fewer than 2 conditions per class of 'target'", "leave-conditions-out fold trains on one class only",
                 "at or below chance: carries no information"),
        predicted_by=("overtraining",),
    ),
    Statistic(
        name="margin", label="max-margin", family="readout", units="standardised response",
        range=(-_INF, _INF),
        meaning="Margin of the max-margin linear separator of the condition means: keeps growing during "
                "hidden progress after behaviour saturates.",
        estimand="max-margin of the noiseless condition means at the common neuron count (averaged over neuron "
                 "subsets), in units of the common response scale; independent of the trial count",
        estimator="hull distance (else soft-margin SVM) of the Gram matrix with the unbiased trial-noise variance "
                  "removed from its diagonal, extrapolated to 1/n_trials -> 0 (Richardson from n and n/2 trials); "
                  "residual bias about 0 with many neurons, about -1 SD with ~10 neurons at high noise",
        interval="trials resampled within conditions (deviations x sqrt(T/(T-1))), the whole estimator refitted "
                 "<= 40 times with fresh neuron subsets; Student-t interval (finite refits - 1 df), contains the "
                 "estimate; a refit whose noise-removed means coincide reads 0 (it read -inf: NaN SE in a third "
                 "of 4-condition x 2-trial sessions) (coverage on spiking sessions 0.94-0.975; 0.915 at 4 "
                 "conditions x 4 trials; 0.995, conservative, at 2 trials x 600 neurons; 0.70-0.78 at 10 "
                 "neurons; benchmarks/bench_readout_coverage.py, 200 per shape)",
        chance="margin with condition labels permuted",
        needs=Requirements(min_conditions=2, min_trials=2, min_neurons=1, min_classes=2),
        reasons=("continuous task label (regression target): the decoders need classes", "no task label", "one class of 'target'", "more than two classes", "no condition coord",
                 "fewer than 2 trials per condition (the noise of the means)"),
        predicted_by=("overtraining",),
    ),
    Statistic(
        name="flip_fraction", label="flip fraction", family="readout", units="", range=(0.0, 1.0),
        meaning="Fraction of examples misclassified in the previous session that are now correct.",
        estimand="probability that a wrong example flips to right between consecutive sessions",
        estimator="cross-validated signed distances over shared conditions",
        interval="conditions resampled; Agresti-Coull SE floor, normal interval clipped to [0, 1]",
        needs=Requirements(min_conditions=4, min_trials=1, min_neurons=1, min_classes=2),
        reasons=("continuous task label (regression target): the decoders need classes", "first session", "no task label", "more than two classes",
                 "no cross-validated signed distances (fewer than 2 conditions per class, or no margin)",
                 "no signed distances in the previous session"),
        predicted_by=("overtraining",),
    ),
    Statistic(
        name="fisher_discriminant", label="Fisher discriminant", family="readout", units="d'",
        range=(-_INF, _INF),
        meaning="Cross-validated d' of a shrinkage Fisher discriminant between the two classes.",
        estimand="d' of the discriminant trained on this session's trials, on new trials",
        estimator="Ledoit-Wolf shrinkage within-class covariance, cross-validated",
        interval="the larger of the held-out projections' test noise (the exact noncentral-t variance of d' per fold at "
                 "Hedges' bias-corrected g; SE/spread 0.99-1.03 with 3-10 held-out trials per class) and the "
                 "Nadeau-Bengio fold variance; normal; replicates are normal draws with that SE",
        chance="mean held-out d' over 20 label permutations on the same folds (across conditions where some "
               "class has several, else across trials): near or below 0",
        needs=Requirements(min_conditions=1, min_trials=2, min_neurons=1, min_classes=2),
        reasons=("continuous task label (regression target): the decoders need classes", "no task label", "one class of 'target'", "more than two classes",
                 "fewer than 4 trials of a class (2 per test and training fold)", "a test fold has 1 trial of a class",
                 "at or below chance: carries no information"),
    ),
    Statistic(
        name="timescale", label="slowest timescale", family="dynamics", units="s", range=(0.0, _INF),
        meaning="-dt/log|lambda_max| of a linear dynamical model fitted to the population activity.",
        estimand="slowest timescale -dt/log|lambda_max| of the population's linear dynamics x(k+1) = A x(k) + "
                 "B u(k) + c in the recorded activity; calcium (dF/F, fluorescence) data include the indicator's "
                 "decay unless an AR(1) indicator is deconvolved with indicator_tau; does not depend on the "
                 "observation noise or the trial count",
        estimator=_IV_DYNAMICS,
        interval="trials resampled per session, each resample re-estimating the basis (the same number of "
                 "most predictable directions within the leading components); basic (reflected) bootstrap "
                 "interval [2 lam - q_hi, 2 lam - q_lo] of |lambda| widened to contain the estimate; the "
                 "timescale's interval is its image (upper end inf when |lambda| >= 1); coverage as for "
                 "outlier_eigenvalue",
        needs=Requirements(min_trials=1, min_neurons=2, time_resolved=True),
        reasons=_DYNAMICS_REASONS,
        predicted_by=("integrator",),
        follows="outlier_eigenvalue",
    ),
    Statistic(
        name="outlier_eigenvalue", label="outlier eigenvalue", family="dynamics", units="", range=(0.0, _INF),
        meaning="Largest |lambda| of the fitted dynamics: rises out of the bulk toward 1 as a circuit learns "
                "to integrate.",
        estimand="largest eigenvalue modulus of the population's linear dynamics x(k+1) = A x(k) + B u(k) + c "
                 "in the recorded activity (calcium data: includes the indicator unless deconvolved); does not "
                 "depend on the observation noise or the trial count",
        estimator=_IV_DYNAMICS,
        interval="trials resampled per session, each resample re-estimating the basis (the same number of "
                 "most predictable directions within the leading components); basic (reflected) bootstrap "
                 "interval [2 lam - q_hi, 2 lam - q_lo] widened to contain the estimate; measured coverage "
                 "0.88-0.94 on linear systems with random loadings (20-100 neurons, 200 each), 0.91 on trained "
                 "RNNs at 16 trials (benchmarks/bench_dynamics.py, 100 each); known gaps: with one direction "
                 "kept, input-driven fast activity attenuates |lambda| (RNN, 16 trials: -0.023 with one kept, "
                 "-0.006 with two), which resampling does not reproduce; the reflection over-corrects where the "
                 "estimate is unbiased",
        needs=Requirements(min_trials=1, min_neurons=2, time_resolved=True),
        reasons=_DYNAMICS_REASONS,
        predicted_by=("integrator",),
        # the modulus of a stable system's eigenvalue lies in [0, 1]: an SE above 0.5 makes a 95 % interval
        # wider than that whole range (a near-singular instrument, e.g. noiseless nonlinear rates: 8.3 [0, 15.7])
        resolution_se=0.5,
    ),
    Statistic(
        name="n_outlier_eigenvalues", label="outlier eigenvalues", family="dynamics", units="count",
        range=(0.0, _INF),
        meaning="How many eigenvalues of the fitted dynamics stand out of the bulk: 1 real for an integrator, a "
                "complex pair for an oscillator.",
        estimand="number of outliers of the fitted dynamics' spectrum",
        estimator="count above the widest gap in |lambda| where |lambda_j| > 1.5 |lambda_(j+1)|, in the IV fit's "
                  "predictable directions; 0 when only one direction is kept",
        interval="none (a count)",
        needs=Requirements(min_trials=1, min_neurons=2, time_resolved=True),
        reasons=_DYNAMICS_REASONS,
        follows="outlier_eigenvalue",
    ),
    Statistic(
        name="generalization_error", label="generalisation error", family="generalization", units="",
        range=(0.0, _INF),
        meaning="Error on held-out (novel) stimuli relative to predicting nothing (1 = no generalisation).",
        estimand="readout: E[(y_hat - y)^2] / E[y^2] on stimuli not used in training, y_hat the kernel ridge readout "
                 "of the recorded population trained on the training-stimulus conditions (the kernel-learning-"
                 "curve model's E_g when those conditions are the examples learned from and the target is the "
                 "regressed quantity); behavior: 1 - P(correct) on held-out trials (the grokking model's "
                 "L_test/L0 under its link behavior = 1 - L/L0)",
        estimator="trials marked by the trial column `heldout` (bool, True = stimulus never used in training; or "
                  "{column: held-out value}); readout: minimum-norm kernel (ridge) regression of the target on "
                  "condition means, K = RR'/n, ridge relative to the mean diagonal, held-out MSE over the target's "
                  "mean square, held-out trial noise subtracted (unbiased; may dip below 0 by its noise); behavior: "
                  "1 - held-out fraction correct",
        interval="readout: trials resampled within conditions and held-out conditions resampled, plus the "
                 "leave-one-training-condition-out jackknife variance (conservative); percentile interval "
                 "re-centred on the estimate (covered the simulator's exact error in 80/80 sessions); behavior: "
                 "binomial SE with Agresti-Coull floor, Wilson interval (0.90 coverage on 52 simulated sessions)",
        needs=Requirements(min_conditions=2),
        reasons=("no held-out trials (heldout marks none)", "no training-stimulus trials (every trial held out)",
                 "the held-out column varies within a condition", "no held-out column in this session",
                 "no target column (target=None)", "target is not numeric (the readout regresses it)",
                 "the target is zero on every condition", "the training-stimulus responses are all zero",
                 "no behaviour column", "no trial with a correct/incorrect outcome"),
        predicted_by=("grokking", "kernel-learning-curve"),
    ),
    Statistic(
        name="heldout_behavior", label="behaviour on held-out stimuli", family="generalization", units="",
        range=(0.0, 1.0),
        meaning="Fraction correct on trials of stimuli never used in training: behavioural generalisation.",
        estimand="probability of a correct trial on held-out stimuli in this session",
        estimator="fraction correct over held-out trials with a correct/incorrect outcome",
        interval="Wilson score interval; SE the binomial SE with the Agresti-Coull SE as a floor",
        needs=Requirements(behavior=True),
        reasons=("no held-out trials (heldout marks none)", "no held-out column in this session",
                 "no behaviour column", "no trial with a correct/incorrect outcome"),
    ),
    Statistic(
        name="manifold_capacity", label="manifold capacity", family="capacity", units="conditions per neuron",
        range=(0.0, 2.0),
        meaning="How many stimulus manifolds (trial clouds) a linear readout separates per neuron: P/N_c at the "
                "neuron count where half the random dichotomies of the conditions are separable; rises as "
                "learning compresses each stimulus's cloud.",
        estimand="simulation capacity of the observed trial clouds, centred on the mean centroid: P/N_c, N_c the "
                 "neuron count at which half of all dichotomies are separable by a hyperplane through the origin "
                 "at zero margin; falls toward the full manifolds' capacity as trials per condition grow",
        estimator="exact LP separability on every trial for 32 random dichotomies, each with a random nested "
                  "neuron order; smallest separating count by bracketed bisection; N_c = median, interpolated",
        interval="trials resampled within conditions with new dichotomies per replicate (16); percentile "
                 "interval re-centred on the estimate (coverage not yet measured)",
        chance="2P/n_trials: trials with no cloud structure",
        needs=Requirements(min_conditions=4, min_trials=2, min_neurons=2,
                           conditions_note="needs more than P/2 neurons, more for larger clouds"),
        reasons=("fewer than 4 conditions", "fewer than 2 trials in a condition",
                 "too few neurons: fewer than half the dichotomies are separable with all N neurons"),
        predicted_by=("capacity",),
        invariant_to=("response scale", "neuron order"),
    ),
    Statistic(
        name="manifold_radius", label="manifold radius", family="capacity", units="centroid norms",
        range=(0.0, _INF),
        meaning="Size of each stimulus's trial cloud relative to its centroid's distance from the others.",
        estimand="sqrt(mean_mu tr(C_mu)/|c_mu|^2), C_mu the trial covariance and c_mu the centred centroid of "
                 "condition mu",
        estimator="unbiased trace over distinct trials; centroid norm minus its noise part",
        interval="trials resampled within conditions, 200 replicates, re-centred percentile (coverage 0.95-1.00)",
        needs=Requirements(min_conditions=4, min_trials=4),
        reasons=("fewer than 4 conditions", "fewer than 4 trials in a condition",
                 "a condition's centroid is not resolved from its trial noise"),
        predicted_by=("capacity",),
    ),
    Statistic(
        name="manifold_dimension", label="manifold dimension", family="capacity", units="dimensions",
        range=(1.0, _INF),
        meaning="Effective dimension (participation ratio) of each stimulus's trial cloud.",
        estimand="mean_mu tr(C_mu)^2/tr(C_mu^2)",
        estimator="unbiased statistics over distinct trials",
        interval="trials resampled within conditions, 200 replicates, re-centred percentile (coverage 0.95-1.00)",
        needs=Requirements(min_conditions=4, min_trials=4),
        reasons=("fewer than 4 conditions", "fewer than 4 trials in a condition",
                 "a condition's centroid is not resolved from its trial noise"),
        predicted_by=("capacity",),
    ),
)

# the kernel statistics' intervals all resample neurons: each states the assumption it rests on
ENTRIES = tuple(replace(entry, interval=entry.interval + _SHARED_TRIAL_NOISE_CARRIED)
                if entry.name in _CARRIES_SHARED_NOISE
                else replace(entry, interval=entry.interval + _SHARED_TRIAL_NOISE,
                             reasons=entry.reasons + (_SHARED_NOISE_REASON,))
                if entry.family in ("kernel", "spectral") and entry.interval else entry for entry in ENTRIES)

#: name -> :class:`Statistic`, in the order summaries and docs list them
