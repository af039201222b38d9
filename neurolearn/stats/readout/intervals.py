"""Standard errors and intervals of cross-validated statistics without refitting the classifiers."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def _cv_interval(value, boot_se, fold_values, level, bounds=(-np.inf, np.inf)):
    """SE and normal interval of a cross-validated statistic.

    The bootstrap of fixed held-out predictions sees test-sample noise only; the spread of the fold values
    also reflects the classifiers' training noise, and Nadeau & Bengio's (2003) corrected resampled variance
    (1/K + n_test/n_train)·var(folds) = (1/K + 1/(K−1))·var(folds) allows for folds sharing training trials.
    The larger of the two SEs is used (in the tests' simulations each alone under-covered, by up to 6
    points, and their maximum covered at 95-96%).
    """
    se = float(boot_se)
    if fold_values.size >= 2 and np.all(np.isfinite(fold_values)):
        k = fold_values.size
        se = max(se, float(np.sqrt((1.0 / k + 1.0 / (k - 1)) * fold_values.var(ddof=1))))
    z = norm.ppf(0.5 + level / 2.0)
    return se, (max(value - z * se, bounds[0]), min(value + z * se, bounds[1]))


def _cluster_bootstrap_means(values, clusters, labels, n_boot, rng):
    """Means of ``values`` over clusters resampled with replacement (within label strata when clusters are pure)."""
    uniq, inverse = np.unique(clusters, return_inverse=True)
    sums = np.bincount(inverse, weights=values.astype(float), minlength=uniq.size)
    counts = np.bincount(inverse, minlength=uniq.size).astype(float)
    first = np.zeros(uniq.size, dtype=int)
    first[inverse[::-1]] = np.arange(inverse.size)[::-1]
    cluster_label = labels[first]
    pure = all(np.unique(labels[inverse == c]).size == 1 for c in range(uniq.size)) if uniq.size < labels.size \
        else True
    strata = [np.flatnonzero(cluster_label == lab) for lab in np.unique(cluster_label)] if pure \
        else [np.arange(uniq.size)]
    total_sum, total_n = np.zeros(n_boot), np.zeros(n_boot)
    for members in strata:
        draws = members[rng.integers(0, members.size, (n_boot, members.size))]
        total_sum += sums[draws].sum(axis=1)
        total_n += counts[draws].sum(axis=1)
    return total_sum / total_n


def _cv_accuracy_variance(correct, strata, fold_of):
    """Variance of a cross-validated accuracy for the shown conditions: ``(v_test, v_folds)``.

    ``correct`` (bool per trial) and ``fold_of`` (test fold of each trial), each one array or a list of them
    (repeated partitions of the same trials, whose estimates are averaged), ``strata`` (condition of each
    trial). The interval uses the larger of the two.

    * ``v_test``, test noise: trials of a condition are exchangeable, so held-out correctness varies about
      each condition's own rate; Σ_c n_c s²_c / n², s²_c the unbiased within-condition variance of
      correctness (a condition with one trial takes the pooled within-condition variance). It is the
      variance of a bootstrap of trials *within* conditions; resampling whole conditions instead adds the
      spread of the conditions' rates, which is not sampling noise for the shown conditions (it made the
      interval 1.4-1.8 times too wide at 16 conditions).
    * ``v_folds``, which also sees the classifiers' training noise: Nadeau & Bengio's (2003) corrected
      variance (1/K + 1/(K−1))·var_k(a_k) of the fold accuracies a_k *adjusted for conditions* (each trial's
      correctness minus its condition's rate), so folds that differ only in which conditions they hold do
      not count (unadjusted, that composition made it conservative by 1.2-1.7 in SE at 16 conditions).
      K folds give it K − 1 degrees of freedom per partition, hence the repeated partitions.

    (A moment estimator of the fold effects' variance from a two-way condition + fold decomposition was
    tried and dropped: with K − 1 degrees of freedom its noise is about ten times the test variance, so its
    positive part doubled the SE of a 1600-trial decoder whose SE is binomial.)
    """
    if not isinstance(correct, (list, tuple)):
        correct, fold_of = [correct], [fold_of]
    parts = np.array([_variance_parts(c, strata, f) for c, f in zip(correct, fold_of)])
    v_test, v_folds = parts.mean(axis=0)
    return float(v_test), float(v_folds)


def _variance_parts(correct, strata, fold_of):
    """(v_test, v_folds) of one partition (see :func:`_cv_accuracy_variance`)."""
    y = np.asarray(correct, float)
    n = y.size
    _, cond = np.unique(strata, return_inverse=True)
    folds, fold = np.unique(fold_of, return_inverse=True)
    n_cond, k = cond.max() + 1, folds.size
    counts = np.bincount(cond, minlength=n_cond).astype(float)
    means = np.bincount(cond, weights=y, minlength=n_cond) / counts
    residual = y - means[cond]
    ss_within = np.bincount(cond, weights=residual**2, minlength=n_cond)
    df_within = counts - 1.0
    pooled = ss_within.sum() / df_within.sum() if df_within.sum() > 0 else 0.0
    s2 = np.where(df_within > 0, ss_within / np.maximum(df_within, 1.0), pooled)
    v_test = float(np.sum(counts * s2) / n**2)
    if k < 2:
        return v_test, 0.0
    adjusted = np.bincount(fold, weights=residual, minlength=k) / np.bincount(fold, minlength=k)
    return v_test, float((1.0 / k + 1.0 / (k - 1)) * adjusted.var(ddof=1))


def _stratified_bootstrap_means(values, strata, n_boot, rng):
    """Means of ``values`` with trials resampled with replacement within each stratum (condition)."""
    values = np.asarray(values, float)
    total = np.zeros(n_boot)
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        total += values[members[rng.integers(0, members.size, (n_boot, members.size))]].sum(axis=1)
    return total / values.size
