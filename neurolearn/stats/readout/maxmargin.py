"""The max-margin geometry of condition means: hull distances, soft-margin SVMs and their resampling."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import nnls
from scipy.stats import t as student_t
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from neurolearn.data import NEURON
from neurolearn.errors import DataError, InsufficientDataError, shown
from neurolearn.stats.estimate import estimate_dataset
from neurolearn.stats.readout.scale import response_scale
from neurolearn.stats.readout.trials import _seed, _TrialTable

#: Soft-margin penalty on the kernel normalised to unit mean squared norm; see :func:`margin`.
DEFAULT_SVM_C = 100.0


#: Random half-trial splits behind the extrapolation to noiseless means (averaged: one split is noisy).
_N_HALVES = 4

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
                    f"{labels.tolist()} in condition {shown(conditions[c])}"
                )
            label_of[c] = np.searchsorted(trials.classes, labels[0])
        self.y = np.where(label_of == 1, 1.0, -1.0)
        self.labels = trials.classes[label_of]
        self.conditions, self.target, self.by = conditions, target, by
        # Trials sorted by condition, so that a condition's trials are one contiguous block.
        order = np.argsort(cond_index, kind="stable")
        self.counts = np.bincount(cond_index, minlength=conditions.size)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        if self.counts.min() < 2:
            raise InsufficientDataError(
                f"{self.name}: the margin removes the trial noise of the condition means, which needs at least "
                f"2 trials per condition of {by!r}; found {int(self.counts.min())} in "
                f"{shown(conditions[np.argmin(self.counts)])} (summarize(min_trials=2), or a where= leaving out "
                f"held-out probes, leaves such conditions out)")
        n_total = trials.X.shape[1]
        self.scale_used = self._scale_vector(recording, trials, scale)
        self.X = trials.X[order] / self.scale_used
        self.means = np.add.reduceat(self.X, self.starts, axis=0) / self.counts[:, None]
        n = n_total if n_neurons is None else int(n_neurons)
        if not 1 <= n <= n_total:
            raise DataError(f"{self.name}: expected 1 <= n_neurons <= {n_total} recorded neurons, found {n_neurons}")
        t = int(self.counts.min()) if n_trials is None else int(n_trials)
        if not 2 <= t <= self.counts.min():
            raise DataError(
                f"{self.name}: expected 2 <= n_trials <= {int(self.counts.min())} (the fewest trials of a "
                f"condition of {by!r}), found {n_trials}"
            )
        self.n_neurons = n
        # All trials when n_trials is None, even if conditions have unequal counts.
        self.n_trials = None if n_trials is None else t
        seed = random_state if not isinstance(random_state, np.random.Generator) else _seed(random_state)
        seeds = np.random.SeedSequence(seed).spawn(4)
        draw_rng = np.random.default_rng(seeds[0])
        self.refit_rng = np.random.default_rng(seeds[1])
        self.perm_rng = np.random.default_rng(seeds[2])
        self.half_seed = seeds[3]
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

    # -- the noiseless geometry of one draw
    def draw_means(self, cols, rows):
        """Coordinates of the condition means of one draw with their trial noise removed.

        The Gram matrix of noisy means exceeds the noiseless one by the noise variance of each mean on its
        diagonal, Σ_j s²_μj/n_μ (s² the across-trial variance of neuron j in condition μ): in N neurons that
        is N times the per-neuron noise, and it is what made the margin of noisy means grow or shrink with the
        trial count. Subtracting the unbiased estimate, centring, and clipping negative eigenvalues gives a
        Gram matrix whose square-root coordinates (P x rank) have the noiseless means' geometry; the margin
        is a function of that geometry only (translation and rotation invariant).
        """
        if rows is None:
            block = self.X[:, cols]
            starts, counts = self.starts, self.counts
        else:
            block = self.X[np.ix_(rows, cols)]
            counts = np.full(self.y.size, self.n_trials)
            starts = np.arange(self.y.size) * self.n_trials
        means, noise = _block_moments(block, starts, counts)
        return _noiseless_coordinates(means, noise)

    def draw_geometries(self, X, cols, rows, rng):
        """Noise-removed coordinates of one draw at its trial count and at half of it (several halves).

        The half-trial geometries feed the extrapolation in 1/n_trials of :meth:`combined_margin`; their
        noise correction uses the variance of all the draw's trials (a better estimate than the half's own).
        """
        if rows is None:
            block, starts, counts = X[:, cols], self.starts, self.counts
        else:
            counts = np.full(self.y.size, self.n_trials)
            block, starts = X[np.ix_(rows, cols)], np.arange(self.y.size) * self.n_trials
        means, noise = _block_moments(block, starts, counts)
        halves = counts // 2
        full = _noiseless_coordinates(means, noise)
        half = []
        for _ in range(_N_HALVES):
            pick = np.concatenate([st + rng.choice(c, h, replace=False) for st, c, h in zip(starts, counts, halves)])
            half_means = np.add.reduceat(block[pick], np.r_[0, np.cumsum(halves)[:-1]], axis=0) / halves[:, None]
            half.append(_noiseless_coordinates(half_means, noise * counts / halves))
        return full, half, float(np.mean(1.0 / counts)), float(np.mean(1.0 / halves))

    def combined_margin(self, geometry, y=None):
        """Margin extrapolated to noiseless means: Richardson in x = mean 1/n over the full and half counts.

        With the Gram matrix's noise removed, what remains of the trial-count dependence is the bias of a
        maximum/minimum over noisy support conditions; in many neurons it is linear in 1/n (measured in
        simulation), so γ0 = γ(x1) − x1 (γ(x2) − γ(x1))/(x2 − x1) removes it there and removes about 40% of
        a 1/sqrt(n) term (the few-neuron, high-noise regime).
        """
        full, half, x1, x2 = geometry
        g1 = self._margin_of(full, y)
        g2 = float(np.mean([self._margin_of(h, y) for h in half]))
        return g1 - x1 * (g2 - g1) / (x2 - x1)

    def bootstrap_block(self):
        """Trials resampled with replacement within each condition, deviations inflated by sqrt(T/(T−1)).

        Resampled means scatter about the observed ones with variance s²(T−1)/(T n) and resampled variances
        average s²(T−1)/T; inflating each resampled trial's deviation from its observed condition mean by
        sqrt(T/(T−1)) restores σ²/n and σ², so the replicate's noise correction matches its noise as the
        estimate's does.
        """
        rng = self.refit_rng
        rows = np.repeat(self.starts, self.counts) + np.floor(
            rng.random(self.counts.sum()) * np.repeat(self.counts, self.counts)).astype(int)
        centre = np.repeat(self.means, self.counts, axis=0)
        inflate = np.repeat(np.sqrt(self.counts / (self.counts - 1.0)), self.counts)[:, None]
        return centre + inflate * (self.X[rows] - centre)

    def fresh_draw(self, rng):
        """Neuron and trial subsets for one draw of a bootstrap replicate (fresh, so the SE includes them)."""
        n_total = self.X.shape[1]
        cols = (np.arange(n_total) if self.n_neurons == n_total
                else np.sort(rng.choice(n_total, self.n_neurons, replace=False)))
        rows = None
        if self.draws[0][1] is not None:
            rows = np.concatenate([s + rng.choice(c, self.n_trials, replace=False)
                                   for s, c in zip(self.starts, self.counts)])
        return cols, rows

    # -- fitting
    def _fit(self, means, train=None, y=None):
        """Max-margin direction (as dual coefficients on the training rows) for the rows ``train``."""
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
            # No direction at all: the noise-removed means coincide (every eigenvalue of their Gram matrix
            # was noise), so the hulls touch and the margin is 0 -- not -inf, which made the Richardson
            # extrapolation and every SE it entered NaN (a third of the sessions at 4 conditions x 2 trials).
            return 0.0
        gap = projection[y > 0].min() - projection[y < 0].max()
        return gap / (2 * w_norm)

    def margin_estimate(self, n_boot, level, n_refits, n_permutations=5):
        half_rng = np.random.default_rng(self.half_seed)
        geometries = [self.draw_geometries(self.X, cols, rows, half_rng) for cols, rows in self.draws]
        per_draw = np.array([self.combined_margin(g) for g in geometries])
        value = float(np.mean(per_draw))
        chance = None
        if n_permutations > 0:
            # Margin with the labels shuffled across conditions (class sizes kept): what this many
            # conditions and neurons give with no label structure. With fewer conditions than neurons even
            # random labels are separable, so chance is positive there.
            chance = float(np.mean([
                np.mean([self.combined_margin(g, y) for g in geometries])
                for y in (self.perm_rng.permutation(self.y) for _ in range(int(n_permutations)))
            ]))
        refits = min(int(n_boot), int(n_refits))
        se, ci, boot = np.nan, (np.nan, np.nan), None
        if refits > 0:
            boot = np.array([self._replicate() for _ in range(refits)])
            finite = boot[np.isfinite(boot)]
            se = float(finite.std(ddof=1)) if finite.size >= 2 else np.nan
            # the SE is estimated from `refits` refits, so the interval uses Student's t with refits - 1 degrees
            # of freedom (2.02 at 40 refits, not 1.96): at 4 conditions x 4 trials x 30 neurons coverage
            # 0.905 -> 0.915 (benchmarks/bench_readout_coverage.py)
            z = student_t.ppf(0.5 + level / 2.0, max(finite.size - 1, 1))
            ci = (value - z * se, value + z * se)
        n_trials = "all" if self.n_trials is None else int(self.n_trials)
        ds = estimate_dataset(
            "margin", value, se, ci, chance=chance, level=level,
            chance_level=f"mean margin over {n_permutations} label permutations across conditions",
            estimator="max-margin (hull distance, else soft-margin SVM) of the condition means' noise-removed "
                      "Gram matrix (signed geometric margin, best bias)",
            estimand=f"max-margin of the noiseless condition means at {self.n_neurons} neurons (averaged over "
                     "neuron subsets), in units of scale; does not depend on the trial count",
            bias_correction="trial noise of the means removed from their Gram matrix (unbiased diagonal "
                            "correction); residual bias from the minimum over noisy support conditions",
            n_neurons=int(self.n_neurons), n_trials=n_trials, n_draws=len(self.draws), n_refits=refits,
            separable_fraction=float(np.mean(per_draw > 0)),
            scale=float(self.scale_used) if self.scale_used.ndim == 0 else "per-neuron",
        )
        if boot is not None:
            ds["margin_boot"] = (("bootstrap",), boot, {"resampling": "independent"})
        return ds

    def _replicate(self):
        block = self.bootstrap_block()
        return float(np.mean([self.combined_margin(self.draw_geometries(block, *self.fresh_draw(self.refit_rng),
                                                                        self.refit_rng))
                              for _ in self.draws]))

    def cv_distances(self, n_splits):
        n_min = int(min((self.y > 0).sum(), (self.y < 0).sum()))
        if n_min < n_splits:
            raise InsufficientDataError(
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
                    # no direction (the noise-removed means coincide): every test condition sits on the
                    # boundary, distance 0, i.e. not right; as in combined_margin, not -inf, which made the
                    # flip fraction of this session and the next NaN and, raised, the whole readout family
                    continue
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


def _block_moments(block, starts, counts):
    """Condition means of contiguous trial blocks and the summed noise variance of each mean, Σ_j s²_j/n."""
    means = np.add.reduceat(block, starts, axis=0) / counts[:, None]
    deviations = block - np.repeat(means, counts, axis=0)
    variance = np.add.reduceat(deviations**2, starts, axis=0) / (counts - 1.0)[:, None]
    return means, variance.sum(axis=1) / counts


def _noiseless_coordinates(means, noise):
    """Square-root coordinates of the centred Gram matrix of ``means`` with the noise ``diag(noise)`` removed."""
    n = means.shape[0]
    centring = np.eye(n) - 1.0 / n
    gram = centring @ (means @ means.T - np.diag(noise)) @ centring
    eigval, eigvec = np.linalg.eigh((gram + gram.T) / 2)
    keep = eigval > 1e-12 * max(eigval.max(), 0.0) if eigval.max() > 0 else np.zeros(n, bool)
    if not keep.any():
        return np.zeros((n, 1))
    return eigvec[:, keep] * np.sqrt(eigval[keep])
