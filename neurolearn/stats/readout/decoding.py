"""Cross-validated linear decoding accuracy: on new trials of known conditions and on held-out conditions.

Cost model: accuracies are bootstrapped over their *held-out predictions* (the classifiers stay fixed, so a
resample is a few vector sums), which keeps ``n_boot=1000`` cheap; the permutation null refits the
classifiers ``n_permutations`` times whatever ``n_boot`` is. Each docstring says what the interval includes.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import norm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import (
    agresti_coull_se,
    bootstrap_interval,
    estimate_dataset,
    wilson_interval,
)
from neurolearn.stats.readout.intervals import (
    _cluster_bootstrap_means,
    _cv_accuracy_variance,
    _cv_interval,
    _stratified_bootstrap_means,
)
from neurolearn.stats.readout.trials import (
    _seed,
    _TrialTable,
    add_null,
    NullLabellings,
    add_replicates,
    stratified_folds,
)

__all__ = ["decoder_accuracy", "heldout_accuracy"]

#: Label permutations behind ``_chance`` and ``_pvalue`` (the smallest p-value is 1/(1 + this)).
DEFAULT_PERMUTATIONS = 20
#: Fold partitions behind decoder_accuracy's variance (the estimate is the first one's): the fold-spread
#: term has K - 1 degrees of freedom per partition.
_VARIANCE_PARTITIONS = 5


def decoder_accuracy(
    recording: xr.DataArray,
    target: str = "target",
    by: str | None = None,
    n_splits: int = 5,
    random_state=None,
    n_boot: int = 200,
    level: float = 0.95,
    *,
    classifier: str = "logistic",
    C: float = 1.0,
    n_permutations: int = DEFAULT_PERMUTATIONS,
) -> xr.Dataset:
    """Cross-validated linear decoding accuracy of ``target`` from single trials.

    Trials are split into ``n_splits`` stratified folds (shuffled with ``random_state``). In each fold a
    standardiser (z-score per neuron) and a linear classifier are fitted on the training trials only, so
    nothing about the test trials leaks into the fit; every trial is predicted exactly once.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron")``.
    target : str
        Trial coord holding the class label (two or more classes).
    by : str, optional
        Trial coord of conditions, for the uncertainty (conditions are resampled as clusters, because trials
        of one stimulus share its idiosyncrasies) and the null (labels are permuted across conditions when
        the label is constant within each). ``None``: trials are resampled and permuted.
    n_splits : int
        Number of folds; every class needs at least ``n_splits`` trials.
    random_state : int or numpy.random.Generator, optional
    n_boot : int
        Bootstrap resamples of the held-out predictions (0 skips the SE and interval).
    level : float
        Coverage of the interval.
    classifier : {"logistic", "svm"}
        L2-regularised logistic regression or a linear SVM (both with penalty ``C``).
    C : float
        Inverse regularisation strength.
    n_permutations : int
        Label permutations of the null (each draws its folds as the observation's, stratified on the
        permuted labels, and refits the ``n_splits`` classifiers); 0 omits the null, and ``_chance`` is then
        the majority-class rate.

    Returns
    -------
    xarray.Dataset
        ``decoder_accuracy``, ``_se``, ``_ci``, ``_chance`` (mean accuracy of the permutation null),
        ``_pvalue`` (one-sided permutation p-value), ``_flag`` (``"at or below chance: carries no
        information"`` when the accuracy does not exceed chance, else ``""``) and ``_boot`` (the bootstrap
        replicates, dim ``bootstrap``, when ``n_boot > 0``). Raises
        :class:`~neurolearn.errors.InsufficientDataError` with one class or too few trials per class.

    Notes
    -----
    Estimand: the expected accuracy, on new trials of the *shown* conditions, of this pipeline trained on
    ``(n_splits - 1)/n_splits`` of the trials of these neurons -- averaged over the training sets such a
    session could have given. Conditions and neurons are the recorded ones (new stimuli are
    :func:`heldout_accuracy`'s estimand), so the interval does not include condition or neuron sampling.

    Bias handling: cross-validation removes the optimistic bias of training accuracy. Each fold trains on
    ``(n_splits - 1)/n_splits`` of the trials, so the estimate is slightly pessimistic for a decoder trained
    on all trials (that is why the estimand names the training size).

    Interval: no unbiased estimator of a cross-validated accuracy's variance exists (Bengio & Grandvalet
    2004); the variance used is the larger of two estimates. Test noise: trials of one condition are
    exchangeable, so held-out correctness varies about each condition's own rate, Σ_c n_c s²_c/n² (with
    ``by=None`` the classes are the strata). Training noise as well: Nadeau & Bengio's corrected variance
    (1/K + 1/(K−1))·var(fold accuracies), of fold accuracies adjusted for conditions (each trial's
    correctness minus its condition's rate, so folds differing only in which conditions they hold do not
    count), averaged over 5 fold partitions of the same trials (the estimate is the first partition's).
    The interval is normal, ``value ± z·SE`` clipped to [0, 1] (SE the square root of that variance, at
    least the Agresti-Coull binomial SE); at 0 or 100% correct, where it would collapse onto that floor
    (most held-out trials right by luck), it is the hull with the Wilson score interval of the n trials. A
    Wilson interval at the effective sample size p(1−p)/variance (Korn & Graubard 1998) was tried and
    dropped: its pull towards 0.5 moved the interval below the truth near the ceiling (coverage 0.895 at
    16 conditions x 4 trials x 300 neurons). It always contains the estimate. The ``_boot`` replicates
    resample trials within conditions, rescaled to the SE. Coverage of the simulated truth on Poisson
    sessions with log-normal rates (``benchmarks/bench_readout_coverage.py``, 200 sessions per shape, 4-16
    conditions x 2-10 trials x 30-600 neurons): 0.92-0.985, in the benchmark's docstring. (Before: a
    condition-cluster bootstrap, the Nadeau-Bengio fold spread and a hull with the binomial Wilson interval,
    which over-covered at 16 conditions, 0.98-1.00: the spread of the conditions' rates is not sampling
    noise for the shown conditions.)

    Chance: cross-validated accuracy without information is *not* the majority-class rate: held-out folds
    are anti-correlated with their training folds, so it reads below it (the well-known negative bias of
    cross-validation under the null), and with few conditions a decoder that only tells conditions apart
    reads above 0.5. ``_chance`` is therefore the mean accuracy with the labels permuted across conditions,
    at the same shape, each permutation's folds drawn as the observation's: stratified on the permuted
    labels, since scoring them on folds stratified on the real ones leaves the permuted classes unbalanced
    in training, and a decoder that predicts its training majority (the test folds' minority) read chance
    0.35 where a session without information reads 0.50 (4 conditions x 2 trials x 300 neurons). An
    accuracy at or below it keeps its number and interval, but the flag says it carries no information:
    its interval is then not an effect (not "below chance").

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> means = np.array([[2.0, 0.0], [-2.0, 0.0]])
    >>> rec = make_recording(means, n_trials=20, noise_sd=1.0, target=[1, -1], rng=0)
    >>> ds = decoder_accuracy(rec, random_state=0, n_boot=0, n_permutations=10)
    >>> bool(ds["decoder_accuracy"] > 0.9), bool(ds["decoder_accuracy_chance"] < 0.7), str(ds["decoder_accuracy_flag"].values)
    (True, True, '')
    """
    trials = _TrialTable(recording, target, by, need_by=False)
    trials.require_classes(at_least=2)
    trials.require_trials_per_class(n_splits, "stratified folds")
    rng = np.random.default_rng(random_state)
    draw_folds = stratified_folds(n_splits, trials.X)
    folds = draw_folds(trials.labels, _seed(rng))
    strata = trials.groups if by is not None else trials.labels
    return _accuracy_estimate(
        "decoder_accuracy", trials, folds, draw_folds, None, trials.condition_of_trials(by), classifier, C,
        n_boot, n_permutations, rng, level, strata=strata,
        estimator=f"{n_splits}-fold stratified cross-validated {classifier} (C={C}) on z-scored single trials",
        estimand="expected accuracy on new trials of the shown conditions of this classifier trained on "
        f"(n_splits-1)/n_splits of the trials of these neurons (n_splits={n_splits})",
        bias_correction="cross-validation (held-out trials); variance max(within-"
        + (f"{by!r}" if by is not None else "class") + " test noise, Nadeau-Bengio spread of condition-"
        f"adjusted fold accuracies over {_VARIANCE_PARTITIONS} partitions); normal interval, hull with the "
        "Wilson interval of n trials at 0 or 100% correct",
    )


def heldout_accuracy(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    n_splits: int = 5,
    random_state=None,
    n_boot: int = 200,
    level: float = 0.95,
    *,
    classifier: str = "logistic",
    C: float = 1.0,
    n_permutations: int = DEFAULT_PERMUTATIONS,
) -> xr.Dataset:
    """Decoding accuracy on held-out *stimuli*: train on some conditions, test on conditions never seen.

    Folds are leave-conditions-out (:class:`sklearn.model_selection.StratifiedGroupKFold` with the ``by``
    values as groups), so all trials of a test condition are absent from training. This measures how the
    readout generalises to new stimuli rather than to new trials of known ones.

    Parameters
    ----------
    recording, target, n_splits, random_state, n_boot, level, classifier, C, n_permutations
        As in :func:`decoder_accuracy`.
    by : str
        Trial coord of conditions (stimuli). At least ``n_splits`` conditions are needed.

    Returns
    -------
    xarray.Dataset
        ``heldout_accuracy`` with ``_se``, ``_ci``, ``_chance``, ``_pvalue``, ``_flag`` and ``_boot`` as in
        :func:`decoder_accuracy`. Raises :class:`~neurolearn.errors.InsufficientDataError` when there are
        fewer conditions than folds or a training fold holds one class only.

    Notes
    -----
    Estimand: the expected accuracy on new conditions from the same stimulus distribution (conditions are
    samples). Chance as in :func:`decoder_accuracy`. Uncertainty: the bootstrap resamples conditions (within
    classes when the label is constant within a condition), the natural unit of generalisation, over the
    fixed held-out predictions; the SE is the larger of its SD and Nadeau & Bengio's corrected variance
    (1/K + 1/(K−1))·var(fold accuracies), which also sees the classifiers' training noise, and at least the
    Agresti-Coull binomial SE; the interval is the hull of the normal interval (clipped to [0, 1]) and the
    Wilson score interval of the k correct of n held-out trials, so it contains the estimate and does not
    collapse at 100% correct. The null permutes the labels across conditions, each permutation's
    leave-conditions-out folds drawn as the observation's, stratified on the permuted labels.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat([1, -1], 10)
    >>> means = np.c_[1.5 * y, rng.standard_normal((20, 3))]
    >>> rec = make_recording(means, n_trials=4, noise_sd=0.5, target=y, rng=2)
    >>> ds = heldout_accuracy(rec, random_state=0, n_boot=0, n_permutations=5)
    >>> bool(ds["heldout_accuracy"] > 0.8)
    True
    """
    trials = _TrialTable(recording, target, by, need_by=True)
    trials.require_classes(at_least=2)
    n_groups = np.unique(trials.groups).size
    if n_groups < n_splits:
        raise InsufficientDataError(
            f"{trials.name}: held-out accuracy needs at least n_splits={n_splits} conditions of {by!r}, "
            f"found {n_groups}"
        )
    rng = np.random.default_rng(random_state)
    draw_folds = stratified_folds(n_splits, trials.X, trials.groups)
    folds = draw_folds(trials.labels, _seed(rng))
    for k, (train, _) in enumerate(folds):
        if np.unique(trials.labels[train]).size < 2:
            raise InsufficientDataError(
                f"{trials.name}: leave-conditions-out fold {k} trains on one class only; expected every class "
                f"of {target!r} in at least two conditions of {by!r} (use fewer n_splits, found {n_splits})"
            )
    return _accuracy_estimate(
        "heldout_accuracy", trials, folds, draw_folds, trials.groups, trials.condition_of_trials(by),
        classifier, C, n_boot, n_permutations, rng, level,
        estimator=f"{n_splits}-fold leave-{by}-out cross-validated {classifier} (C={C}) on z-scored trials",
        bias_correction=f"held-out conditions; SE max(bootstrap of held-out predictions by {by!r}, "
        "Nadeau-Bengio corrected fold variance)",
    )


def _cross_validated_predictions(X, labels, folds, classifier, C):
    if classifier == "logistic":
        def make():
            return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    elif classifier == "svm":
        def make():
            return make_pipeline(StandardScaler(), LinearSVC(C=C, max_iter=20000))
    else:
        raise DataError(f"expected classifier 'logistic' or 'svm', found {classifier!r}")
    predicted = np.empty_like(labels)
    fold_of = np.full(labels.size, -1)
    for k, (train, test) in enumerate(folds):
        present = np.unique(labels[train])
        if present.size < 2:
            # Only under the null of leave-conditions-out folds, whose stratification is not exact: a
            # decoder that saw one class can only answer it.
            predicted[test] = present[0]
        else:
            # The scaler is part of the pipeline, so its means and SDs come from the training trials only.
            predicted[test] = make().fit(X[train], labels[train]).predict(X[test])
        fold_of[test] = k
    return predicted, fold_of


def _accuracy_estimate(name, trials, folds, draw_folds, clusters, condition_of_trial, classifier, C, n_boot,
                       n_permutations, rng, level, strata=None, **attrs):
    """The estimate on ``folds`` (= ``draw_folds(trials.labels, seed)``), its interval and the permutation
    null, whose every permutation draws its own folds with ``draw_folds`` on the permuted labels."""
    predicted, fold_of = _cross_validated_predictions(trials.X, trials.labels, folds, classifier, C)
    correct = predicted == trials.labels
    value = float(correct.mean())
    se, ci, replicates = np.nan, (np.nan, np.nan), None
    if n_boot > 0 and strata is not None:
        # The shown conditions are the estimand's: test noise within conditions plus the folds' training
        # noise, and a Wilson interval at the effective sample size (see decoder_accuracy's Notes).
        # Repeated partitions of the same trials: the fold term has K - 1 degrees of freedom per partition.
        corrects, fold_ofs = [correct], [fold_of]
        for _ in range(_VARIANCE_PARTITIONS - 1):
            again = draw_folds(trials.labels, _seed(rng))
            predicted_again, fold_again = _cross_validated_predictions(trials.X, trials.labels, again, classifier, C)
            corrects.append(predicted_again == trials.labels)
            fold_ofs.append(fold_again)
        variance = max(_cv_accuracy_variance(corrects, strata, fold_ofs))
        se = max(float(np.sqrt(variance)), agresti_coull_se(correct.sum(), correct.size))
        z = float(norm.ppf(0.5 + level / 2.0))
        ci = (max(value - z * se, 0.0), min(value + z * se, 1.0))
        if correct.all() or not correct.any():
            # At 0 or 100% correct (luck, with few held-out trials) the normal interval collapses onto the
            # floor: the hull with the Wilson interval of the n trials keeps it open towards the truth.
            lower, upper = wilson_interval(correct.sum(), correct.size, level)
            ci = (min(ci[0], lower), max(ci[1], upper))
        replicates = _stratified_bootstrap_means(correct, strata, n_boot, rng)
    elif n_boot > 0:
        replicates = _cluster_bootstrap_means(correct, clusters, trials.labels, n_boot, rng)
        boot_se, _ = bootstrap_interval(value, replicates, level)
        fold_values = np.array([correct[fold_of == k].mean() for k in np.unique(fold_of)])
        # At 0 or 100% correct every resample agrees and the SE would read 0; the Agresti-Coull binomial SE,
        # (k+2)/(n+4) in place of k/n, keeps a floor there (n trials, as if independent).
        floor = agresti_coull_se(correct.sum(), correct.size)
        se, ci = _cv_interval(value, max(boot_se, floor), fold_values, level, bounds=(0.0, 1.0))
        # With few held-out trials a decoder can be 100% correct by luck, and a normal interval about 1.0
        # collapses onto its floor SE: most misses of the truth were there (4 conditions x 4 trials: 11 of
        # 18). The interval is the hull with the Wilson score interval of k correct of n, which does not
        # collapse at the boundary (benchmarks/bench_readout_coverage.py).
        lower, upper = wilson_interval(correct.sum(), correct.size, level)
        ci = (min(ci[0], lower), max(ci[1], upper))
    majority = float(trials.class_counts.max() / trials.class_counts.sum())
    ds = estimate_dataset(name, value, se, ci, level=level, n_boot=n_boot, majority_rate=majority, **attrs)
    null_rng = np.random.default_rng(_seed(rng))
    labellings = NullLabellings(trials.labels, condition_of_trial, null_rng, draw_folds.n_splits)
    null = []
    for _ in range(int(n_permutations)):
        permuted = labellings.draw()
        if permuted is None:
            continue
        null_folds = draw_folds(permuted, _seed(null_rng))
        null.append(float(np.mean(_cross_validated_predictions(trials.X, permuted, null_folds, classifier, C)[0]
                                  == permuted)))
    labellings.warn(name, trials.name, int(n_permutations))
    if null:
        add_null(ds, name, value, null, chance_level=(
            f"mean accuracy over {len(null)} label permutations across "
            + ("conditions" if condition_of_trial is not None else "trials")
            + ", folds drawn as the observation's, on the permuted labels" + labellings.described()))
    else:
        add_null(ds, name, value, [majority], chance_level="majority-class rate (" + (
            f"all {labellings.left_out} permutations left out: none filled the folds" if labellings.left_out
            else "no permutations") + ")")
        ds[f"{name}_pvalue"] = ((), np.nan)
    if replicates is not None:
        add_replicates(ds, name, value, replicates, se)
    return ds
