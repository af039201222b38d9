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
