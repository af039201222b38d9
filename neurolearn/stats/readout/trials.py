"""Single-trial responses with their labels and conditions, validated once for every readout statistic.

Also the pieces every cross-validated readout shares: the permutation null at the actual shape (labels
permuted across conditions, each permutation's folds drawn as the observation's on the permuted labels),
the flag of a value at or below chance, and bootstrap replicates in the statistics Dataset form
(``name_boot`` over dim ``bootstrap``).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from neurolearn.data import NEURON, TRIAL, flag_name, validate_recording
from neurolearn.errors import DataError, InsufficientDataError, session_label

#: The flag of a value that does not exceed its permutation null's mean (the contract's wording).
AT_CHANCE = "at or below chance: carries no information"
#: Dim of bootstrap replicates in statistics Datasets.
BOOTSTRAP = "bootstrap"


class _TrialTable:
    """Single-trial responses with their labels and conditions, validated once."""

    def __init__(self, recording, target, by, need_by):
        session = getattr(recording, "attrs", {}).get("session_id") if isinstance(recording, xr.DataArray) else None
        self.name = "recording" if session is None else session_label(session)  # messages: "session 'day1': ..."
        validate_recording(recording, name=self.name)
        if recording.dims != (TRIAL, NEURON):
            raise DataError(
                f"{self.name}: readout statistics expect dims ('trial', 'neuron'), found {recording.dims}; "
                "average or select time bins first (e.g. recording.mean('time'))"
            )
        if target is None:
            raise InsufficientDataError(f"{self.name}: no task label (target=None)")
        self.labels = np.asarray(_trial_coord(recording, target, self.name))
        self.groups = np.asarray(_trial_coord(recording, by, self.name)) if (by is not None) else None
        if by is None and need_by:
            raise DataError(f"{self.name}: expected a condition coord `by`, found None")
        order = np.argsort(np.asarray(recording[NEURON].values), kind="stable") if NEURON in recording.coords \
            else np.arange(recording.sizes[NEURON])
        self.neuron_ids = (np.asarray(recording[NEURON].values)[order] if NEURON in recording.coords else order)
        self.X = np.asarray(recording.values, dtype=float)[:, order]
        if not np.isfinite(self.X).all():  # validate_recording skips this check for dask-backed data
            bad = int((~np.isfinite(self.X)).sum())
            raise DataError(f"{self.name}: expected finite responses, found {bad} NaN/inf values of {self.X.size}")
        self.classes, counts = np.unique(self.labels, return_counts=True)
        self.class_counts = counts
        self.target = target
        self.recording = recording

    def require_classes(self, at_least=None, exactly=None):
        n = self.classes.size
        if (exactly is not None and n != exactly) or (at_least is not None and n < at_least):
            wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
            raise InsufficientDataError(
                f"{self.name}: expected {wanted} classes in trial coord {self.target!r}, found {n} "
                f"({self.classes.tolist()[:10]})"
            )

    def condition_of_trials(self, by):
        """Condition index of each trial for the permutation null, or ``None`` to permute single trials.

        Labels are permuted across conditions (each condition keeps one label, class sizes in conditions are
        kept) when ``by`` is given and the label is constant within every condition: the null then keeps the
        condition structure, so a code that only tells conditions apart reads at chance, not above it.

        With one condition per class, every condition-level permutation only renames the classes, which a
        decoder scores alike, so that null equals the observation and can never reject; single trials are
        permuted instead (the class is then confounded with stimulus identity, which no null can separate).
        """
        if by is None:
            return None
        groups = np.asarray(_trial_coord(self.recording, by, self.name))
        _, index = np.unique(groups, return_inverse=True)
        n_conditions = index.max() + 1
        pure = all(np.unique(self.labels[index == c]).size == 1 for c in range(n_conditions))
        if not pure:
            return None
        per_class = np.unique(self.labels[np.unique(index, return_index=True)[1]], return_counts=True)[1]
        return None if np.all(per_class == 1) else index

    def require_trials_per_class(self, n_splits, what):
        if self.class_counts.min() < n_splits:
            raise InsufficientDataError(
                f"{self.name}: {what} need at least n_splits={n_splits} trials of every class of "
                f"{self.target!r}, found {dict(zip(self.classes.tolist(), self.class_counts.tolist()))}"
            )


def _trial_coord(recording, coord, name):
    if coord not in recording.coords or recording.coords[coord].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"{name}: expected a trial coord {coord!r}, found trial coords {available}")
    return recording.coords[coord].values


def _fewest_conditions_per_class(recording, target, by, name):
    labels = np.asarray(_trial_coord(recording, target, name))
    groups = np.asarray(_trial_coord(recording, by, name))
    return int(min(np.unique(groups[labels == label]).size for label in np.unique(labels)))


def _fewest_trials(recording, by, name):
    return int(np.unique(np.asarray(_trial_coord(recording, by, name)), return_counts=True)[1].min())


def _seed(rng):
    return int(rng.integers(2**31))


def permuted_labels(labels, condition_of_trial, rng):
    """One draw of the permutation null: labels permuted across conditions (or across trials if ``None``)."""
    if condition_of_trial is None:
        return rng.permutation(labels)
    n_conditions = condition_of_trial.max() + 1
    first = np.zeros(n_conditions, dtype=int)
    first[condition_of_trial[::-1]] = np.arange(condition_of_trial.size)[::-1]
    return rng.permutation(labels[first])[condition_of_trial]


def stratified_folds(n_splits, X, groups=None):
    """The fold draw of a cross-validated readout, as a function of the labels it is stratified on.

    Returns ``draw(labels, seed) -> list of (train, test)``: shuffled stratified K-fold (``groups=None``) or
    stratified leave-groups-out folds. The observation's folds are ``draw(real labels, seed)`` and each
    permutation of the null draws its own ``draw(permuted labels, seed)``, so the null repeats the whole
    procedure on a labelling exchangeable with the real one. Scoring permuted labels on folds stratified on
    the *real* labels leaves the permuted classes unbalanced in training: a decoder then predicts its
    training majority, the test folds' minority, and reads below chance (0.35 where a session without
    information reads 0.50 at 4 conditions x 2 trials; 0.39 for held-out conditions).

    Examples
    --------
    >>> import numpy as np
    >>> draw = stratified_folds(2, np.zeros((8, 1)))
    >>> labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    >>> [np.bincount(labels[train]).tolist() for train, _ in draw(labels, seed=0)]
    [[2, 2], [2, 2]]
    """
    def draw(labels, seed):
        with warnings.catch_warnings():
            # a class with fewer trials than folds (sklearn's UserWarning) is the caller's to judge: the
            # observation requires n_splits trials per class (or says why not), the null is conditioned on
            # it (:class:`NullLabellings`)
            warnings.filterwarnings("ignore", message="The least populated class in y", category=UserWarning)
            if groups is None:
                return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(X, labels))
            return list(StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(
                X, labels, groups))
    draw.n_splits = n_splits
    return draw


class NullLabellings:
    """The labellings of a permutation null, each conditioned, as the observation is, on its classes filling
    the folds: a permutation that leaves a class with fewer than ``min(n_splits, the observation's fewest)``
    trials is drawn again (up to :data:`NULL_DRAWS` times, then left out: ``None``).

    With unequal trials per condition, permuting labels across conditions moves trials between classes
    (6 conditions with 1, 2, 10, 3, 1, 7 trials: 2 of the 20 splits give a class 4 trials for 5 folds), and
    sklearn then warned on every such draw and made folds without that class (adversary S8-5). The observation
    is computed only where every class fills the folds, so under exchangeability it is a uniform draw among
    the labellings that do: the null restricted to them is the observation's own (a restricted permutation
    test).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat([0, 0, 0, 1, 1, 1], [1, 2, 10, 3, 1, 7])
    >>> conditions = np.repeat(np.arange(6), [1, 2, 10, 3, 1, 7])
    >>> null = NullLabellings(labels, conditions, np.random.default_rng(0), n_splits=5)
    >>> drawn = [null.draw() for _ in range(40)]
    >>> bool(min(np.bincount(d).min() for d in drawn) >= 5), null.redrawn > 0, null.left_out
    (True, True, 0)
    """

    def __init__(self, labels, condition_of_trial, rng, n_splits):
        self.labels, self.condition_of_trial, self.rng = labels, condition_of_trial, rng
        self.floor = min(int(n_splits), _fewest(labels))
        self.n_splits, self.redrawn, self.left_out = int(n_splits), 0, 0

    def draw(self):
        """One labelling whose classes fill the folds, or None (counted in ``left_out``)."""
        for _ in range(NULL_DRAWS):
            permuted = permuted_labels(self.labels, self.condition_of_trial, self.rng)
            if _fewest(permuted) >= self.floor:
                return permuted
            self.redrawn += 1
        self.left_out += 1
        return None

    def described(self) -> str:
        """The conditioning in words, for the null's ``chance_level`` attr (empty where no draw was redrawn)."""
        if not self.redrawn:
            return ""
        text = (f"; labellings leaving a class fewer than {self.floor} trials (the folds' need) drawn again "
                f"({self.redrawn} times)")
        return text + (f", {self.left_out} permutations left out" if self.left_out else "")

    def warn(self, name, session, n_permutations):
        """One :class:`~neurolearn.stats.flags.StatisticWarning` where permutations were left out."""
        if self.left_out:
            from neurolearn.stats.flags import StatisticWarning

            warnings.warn(StatisticWarning(
                f"{name} null for {session}: {self.left_out} of {n_permutations} label permutations left a class "
                f"with fewer than {self.floor} trials (n_splits={self.n_splits}) in {NULL_DRAWS} draws each; "
                "their folds could not be stratified and they are left out of the null"), stacklevel=3)


#: Draws of one permutation of the null before it is left out for want of trials to fill the folds.
NULL_DRAWS = 50


def _fewest(labels):
    return int(np.unique(labels, return_counts=True)[1].min())


def null_summary(value, null):
    """Chance (mean of the null), one-sided permutation p-value and the flag of a value at or below chance.

    The p-value counts the observed labelling as one of the permutations, (1 + #{null >= value})/(1 + n), so
    it is never 0 (Phipson & Smyth 2010). Null draws that could not be computed (NaN) are dropped.
    """
    null = np.asarray(null, float)
    null = null[np.isfinite(null)]
    if null.size == 0 or not np.isfinite(value):
        return np.nan, np.nan, ""
    chance = float(null.mean())
    pvalue = float((1 + np.sum(null >= value - 1e-12)) / (1 + null.size))
    return chance, pvalue, AT_CHANCE if value <= chance else ""


def add_null(ds, name, value, null, **attrs):
    """Store ``name_chance``, ``name_pvalue`` and ``name_flag`` from permutation null draws."""
    chance, pvalue, flag = null_summary(value, null)
    ds[f"{name}_chance"] = ((), chance)
    ds[f"{name}_pvalue"] = ((), pvalue)
    ds[flag_name(name)] = ((), flag)
    ds.attrs.update(n_permutations=int(len(null)), **attrs)
    return ds


def add_replicates(ds, name, value, replicates, se):
    """Store bootstrap replicates as ``name_boot`` (dim ``bootstrap``, attr ``resampling="independent"``).

    The replicates are rescaled about their mean so that their SD is the reported SE (which may be larger
    than the plain bootstrap SD: a floor or a cross-validation correction), then re-centred on the estimate,
    so a fit that reads their covariance weights the value as its SE says.
    """
    replicates = np.asarray(replicates, float)
    finite = np.isfinite(replicates)
    out = np.full(replicates.shape, np.nan)
    if finite.sum() >= 2 and np.isfinite(se):
        dev = replicates[finite] - replicates[finite].mean()
        sd = dev.std(ddof=1)
        out[finite] = value + (dev * (se / sd) if sd > 0 else dev)
    ds[f"{name}_boot"] = ((BOOTSTRAP,), out, {"resampling": "independent"})
    return ds
