"""The max-margin geometry of condition means: hull distances, soft-margin SVMs and their resampling."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import norm

from neurolearn.data import NEURON
from neurolearn.errors import DataError
from neurolearn.stats.estimate import estimate_dataset
from neurolearn.stats.readout.scale import response_scale
from neurolearn.stats.readout.trials import _seed, _TrialTable

#: Soft-margin penalty on the kernel normalised to unit mean squared norm; see :func:`margin`.
DEFAULT_SVM_C = 100.0


#: Up to this many conditions the hard margin is found as a hull distance with NNLS (faster than libsvm there).
_HULL_MAX_CONDITIONS = 64


def _hull_margin(means, y):
    """Half the distance between the convex hulls of the two classes: the hard margin when separable.

    The nearest points of the hulls, Σ a_i r_i (y=+1) and Σ b_j r_j (y=−1) with a, b on simplices, solve a
    non-negative least-squares problem once the simplex constraints are appended as heavily weighted rows;
    the weights of the kernel's square root keep its size P×P whatever the neuron count. The margin of the
    resulting direction w is then evaluated exactly (best bias), so residual constraint error can only lower
    it slightly. Returns 0 (or less) when the hulls touch, i.e. not separable.
    """
    from scipy.optimize import nnls

    centred = means - means.mean(0)
    sign = np.where(y > 0, 1.0, -1.0)
    kernel = centred @ centred.T
    eigval, eigvec = np.linalg.eigh(kernel * np.outer(sign, sign))
    eigval = np.clip(eigval, 0.0, None)
    if not eigval.max() > 0:
        return 0.0
    root = (eigvec * np.sqrt(eigval)).T
    weight = 1e3 * np.sqrt(eigval.max())
    system = np.vstack([root, weight * (y > 0)[None, :], weight * (y < 0)[None, :]])
    rhs = np.r_[np.zeros(root.shape[0]), weight, weight]
    try:
        c, _ = nnls(system, rhs, maxiter=50 * y.size)
    except RuntimeError:  # no convergence: let the SVM decide
        return 0.0
    coef = c * sign
    projection = kernel @ coef
    w_norm = np.sqrt(max(coef @ projection, 0.0))
    if not w_norm > 1e-12 * np.sqrt(eigval.max()):
        return 0.0
    return float((projection[y > 0].min() - projection[y < 0].max()) / (2 * w_norm))


class _MarginProblem:
    """Condition means of a binary target, standardised, at common neuron and trial counts, ready for SVMs."""

    def __init__(self, recording, target, by, n_neurons, scale, random_state, n_draws, C, n_trials=None):
        trials = _TrialTable(recording, target, by, need_by=True)
        trials.require_classes(exactly=2)
        self.name = trials.name
        conditions, cond_index = np.unique(trials.groups, return_inverse=True)
        label_of = np.zeros(conditions.size, dtype=int)
        for c in range(conditions.size):
            labels = np.unique(trials.labels[cond_index == c])
            if labels.size != 1:
                raise DataError(
                    f"{self.name}: expected one {target!r} label per condition of {by!r}, found "
                    f"{labels.tolist()} in condition {conditions[c]!r}"
                )
            label_of[c] = np.searchsorted(trials.classes, labels[0])
        self.y = np.where(label_of == 1, 1.0, -1.0)
        self.labels = trials.classes[label_of]
        self.conditions, self.target, self.by = conditions, target, by
        # Trials sorted by condition, so that a condition's trials are one contiguous block.
        order = np.argsort(cond_index, kind="stable")
        self.counts = np.bincount(cond_index, minlength=conditions.size)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        n_total = trials.X.shape[1]
        self.scale_used = self._scale_vector(recording, trials, scale)
        self.X = trials.X[order] / self.scale_used
        self.means = np.add.reduceat(self.X, self.starts, axis=0) / self.counts[:, None]
        n = n_total if n_neurons is None else int(n_neurons)
        if not 1 <= n <= n_total:
            raise DataError(f"{self.name}: expected 1 <= n_neurons <= {n_total} recorded neurons, found {n_neurons}")
        t = int(self.counts.min()) if n_trials is None else int(n_trials)
        if not 1 <= t <= self.counts.min():
            raise DataError(
                f"{self.name}: expected 1 <= n_trials <= {int(self.counts.min())} (the fewest trials of a "
                f"condition of {by!r}), found {n_trials}"
            )
        self.n_neurons = n
        # All trials when n_trials is None, even if conditions have unequal counts.
        self.n_trials = None if n_trials is None else t
        seed = random_state if not isinstance(random_state, np.random.Generator) else _seed(random_state)
        seeds = np.random.SeedSequence(seed).spawn(3)
        draw_rng = np.random.default_rng(seeds[0])
        self.refit_rng = np.random.default_rng(seeds[1])
        self.perm_rng = np.random.default_rng(seeds[2])
        self.fold_seed = int(draw_rng.integers(2**31))
        subsample_trials = self.n_trials is not None and np.any(self.counts > self.n_trials)
        n_sets = int(n_draws) if (n < n_total or subsample_trials) else 1
        self.draws = []
        for _ in range(n_sets):
            cols = np.arange(n_total) if n == n_total else np.sort(draw_rng.choice(n_total, n, replace=False))
            rows = None
            if subsample_trials:
                rows = np.concatenate([s + draw_rng.choice(c, self.n_trials, replace=False)
                                       for s, c in zip(self.starts, self.counts)])
            self.draws.append((cols, rows))
        self.C = float(C)

    def _scale_vector(self, recording, trials, scale):
        if scale is None:
            return np.array(response_scale(recording))
        if isinstance(scale, xr.DataArray) and scale.ndim == 1:
            try:
                values = np.asarray(scale.sel({NEURON: trials.neuron_ids}).values, float)
            except (KeyError, ValueError) as err:
                raise DataError(f"{self.name}: scale has no value for some neuron ids ({err})") from None
        else:
            values = np.asarray(scale, float)
            if values.ndim == 1:
                if values.size != trials.X.shape[1]:
                    raise DataError(
                        f"{self.name}: expected a scalar scale or one per neuron ({trials.X.shape[1]}), "
                        f"found {values.size}"
                    )
                order = np.argsort(np.asarray(recording[NEURON].values), kind="stable") \
                    if NEURON in recording.coords else np.arange(values.size)
                values = values[order]
            elif values.ndim != 0:
                raise DataError(f"{self.name}: expected a scalar or 1-D scale, found shape {values.shape}")
        if not (np.all(np.isfinite(values)) and np.all(values > 0)):
            raise DataError(f"{self.name}: expected a finite positive scale, found {values!r:.60}")
        return values

    # -- condition means of one draw
    def draw_means(self, cols, rows):
        if rows is None:
            return self.means[:, cols]
        return self.X[np.ix_(rows, cols)].reshape(self.y.size, self.n_trials, cols.size).mean(axis=1)

    def bootstrap_draw_means(self):
        """Condition means for one bootstrap replicate of the whole estimator, one array per draw.

        Trials are resampled with replacement within each condition once per replicate (shared by all draws,
        as the recorded trials are shared by the point estimate's draws); each draw then takes fresh neuron
        and trial subsets, so the SE includes the variability of the subset draws. Deviations of resampled
        means from the observed ones are inflated by sqrt(T/(T−1)): resampled means scatter with variance
        s²(T−1)/(T n), and the inflation restores σ²/n, the variance of a fresh n-trial mean.
        """
        rng = self.refit_rng
        position_condition = np.repeat(np.arange(self.counts.size), self.counts)
        rows = np.repeat(self.starts, self.counts) + np.floor(
            rng.random(self.counts.sum()) * np.repeat(self.counts, self.counts)).astype(int)
        inflate = np.sqrt(self.counts / (self.counts - 1.0))[:, None]
        n_total = self.X.shape[1]
        out = []
        for _ in range(len(self.draws)):
            cols = (np.arange(n_total) if self.n_neurons == n_total
                    else np.sort(rng.choice(n_total, self.n_neurons, replace=False)))
            if self.n_trials is None:
                boot = np.add.reduceat(self.X[np.ix_(rows, cols)], self.starts, axis=0) / self.counts[:, None]
            else:
                # A random n_trials of each condition's resampled trials: shuffle within condition blocks.
                shuffled = rows[np.lexsort((rng.random(rows.size), position_condition))]
                keep = (self.starts[:, None] + np.arange(self.n_trials)).ravel()
                boot = self.X[np.ix_(shuffled[keep], cols)].reshape(
                    self.counts.size, self.n_trials, cols.size).mean(axis=1)
            centre = self.means[:, cols]
            out.append(centre + inflate * (boot - centre))
        return out

    # -- fitting
    def _fit(self, means, train=None, y=None):
        """Max-margin direction (as dual coefficients on the training rows) for the rows ``train``."""
        from sklearn.svm import SVC

        y = self.y if y is None else y
        idx = np.arange(means.shape[0]) if train is None else train
        centred = means - means[idx].mean(0)
        kernel = centred @ centred[idx].T  # all rows against training rows
        k_train = kernel[idx]
        unit = np.mean(np.diag(k_train))
        if not unit > 0:
            return np.zeros(idx.size), idx, kernel
        # Normalising the kernel makes C mean the same at every scale and neuron count.
        svc = SVC(kernel="precomputed", C=self.C, tol=1e-6).fit(k_train / unit, y[idx])
        coef = np.zeros(idx.size)
        coef[svc.support_] = svc.dual_coef_[0]  # α_i y_i; decision > 0 means class +1 (classes_ = [-1, 1])
        return coef, idx, kernel

    def _margin_of(self, means, y=None):
        """Signed geometric margin (best bias) of the max-margin direction for all condition means."""
        y = self.y if y is None else y
        if means.shape[0] <= _HULL_MAX_CONDITIONS:
            value = _hull_margin(means, y)
            if value > 0:
                return value
        coef, idx, kernel = self._fit(means, y=y)
        projection = kernel @ coef  # w·r up to a constant, in the units of the standardised responses
        w_norm = np.sqrt(max(coef @ kernel[idx] @ coef, 0.0))
        if w_norm == 0:
            return -np.inf
        gap = projection[y > 0].min() - projection[y < 0].max()
        return gap / (2 * w_norm)

    def margin_estimate(self, n_boot, level, n_refits, n_permutations=5):
        draw_means = [self.draw_means(cols, rows) for cols, rows in self.draws]
        per_draw = np.array([self._margin_of(m) for m in draw_means])
        value = float(np.mean(per_draw))
        chance = None
        if n_permutations > 0:
            # Margin with the labels shuffled across conditions (class sizes kept): what this many
            # conditions, neurons and trials give with no label structure. With fewer conditions than
            # neurons even random labels are separable, so chance is positive there.
            chance = float(np.mean([
                np.mean([self._margin_of(m, y) for m in draw_means])
                for y in (self.perm_rng.permutation(self.y) for _ in range(int(n_permutations)))
            ]))
        refits = min(int(n_boot), int(n_refits))
        se, ci = np.nan, (np.nan, np.nan)
        if refits > 0:
            if self.counts.min() < 2:
                raise DataError(
                    f"{self.name}: the margin's SE resamples trials within conditions; expected at least 2 "
                    f"trials per condition of {self.by!r}, found {int(self.counts.min())} (pass n_boot=0)"
                )
            boot = np.array([np.mean([self._margin_of(m) for m in self.bootstrap_draw_means()])
                             for _ in range(refits)])
            se = float(boot.std(ddof=1))
            z = norm.ppf(0.5 + level / 2.0)
            ci = (value - z * se, value + z * se)
        n_trials = "all" if self.n_trials is None else int(self.n_trials)
        return estimate_dataset(
            "margin", value, se, ci, chance=chance, level=level,
            chance_level=f"mean margin over {n_permutations} label permutations across conditions",
            estimator="max-margin linear SVM on condition means (signed geometric margin, best bias)",
            estimand=f"expected margin of condition means of {n_trials} trials at {self.n_neurons} neurons",
            bias_correction="none: biased relative to noiseless means (see margin docstring); compare at "
                            "common n_trials",
            n_neurons=int(self.n_neurons), n_trials=n_trials, n_draws=len(self.draws), n_refits=refits,
            separable_fraction=float(np.mean(per_draw > 0)),
            scale=float(self.scale_used) if self.scale_used.ndim == 0 else "per-neuron",
        )

    def cv_distances(self, n_splits):
        from sklearn.model_selection import StratifiedKFold

        n_min = int(min((self.y > 0).sum(), (self.y < 0).sum()))
        if n_min < n_splits:
            raise DataError(
                f"{self.name}: cross-validated distances need at least n_splits={n_splits} conditions of each "
                f"class of {self.target!r}, found {n_min}"
            )
        folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=self.fold_seed).split(self.means, self.y))
        distances = np.zeros(self.y.size)
        for cols, rows in self.draws:
            means = self.draw_means(cols, rows)
            for train, test in folds:
                coef, idx, kernel = self._fit(means, train)
                projection = kernel @ coef
                w_norm = np.sqrt(max(coef @ kernel[idx] @ coef, 0.0))
                ytr = self.y[train]
                # Best bias for w on the training set: the midpoint of the gap between the classes.
                offset = (projection[train][ytr > 0].min() + projection[train][ytr < 0].max()) / 2
                if w_norm == 0:
                    distances[test] += -np.inf
                else:
                    distances[test] += self.y[test] * (projection[test] - offset) / w_norm
        distances /= len(self.draws)
        return xr.DataArray(
            distances, dims=("condition",),
            coords={"condition": self.conditions, self.target: ("condition", self.labels)},
            name="signed_distance",
            attrs={"n_neurons": int(self.n_neurons), "n_splits": int(n_splits),
                   "n_trials": "all" if self.n_trials is None else int(self.n_trials),
                   "definition": "cross-validated y(w.r+b)/|w| of condition means, standardised responses"},
        )
