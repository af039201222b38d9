"""Readout statistics: what a linear readout of the population can do, session by session.

During overtraining behaviour saturates while the representation keeps improving ("hidden progress"). These
statistics see that progress: cross-validated decoding accuracy on single trials and on held-out stimuli, the
max-margin (linear SVM) margin of the condition means at a common neuron count and in common units, per-example
signed distances and the fraction of examples that flip from wrong to right, and a cross-validated Fisher
discriminant d'. :func:`readout_summary` gathers them over sessions in the statistics Dataset form of
:mod:`neurolearn.data`.

Cost model (why the uncertainty is computed the way it is): refitting a classifier per bootstrap resample would
make ``n_boot=1000`` a thousand times dearer than the point estimate. Accuracies and d' are therefore
bootstrapped over their *held-out predictions* (the classifiers stay fixed, resampling is a few vector sums),
and the margin, whose estimator is a fit, is refitted at most ``n_refits`` times whatever ``n_boot`` is.
Each docstring says what its interval does and does not include.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy.stats import norm

from neurolearn.data import NEURON, SESSION, TRIAL, validate_recording
from neurolearn.errors import DataError
from neurolearn.stats.estimate import agresti_coull_se, bootstrap_interval, estimate_dataset

__all__ = [
    "decoder_accuracy",
    "heldout_accuracy",
    "margin",
    "signed_distances",
    "flip_fraction",
    "fisher_discriminant",
    "response_scale",
    "readout_summary",
]

#: Soft-margin penalty on the kernel normalised to unit mean squared norm; see :func:`margin`.
DEFAULT_SVM_C = 100.0


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
        Trial coord of conditions. Only used for the uncertainty: conditions are resampled as clusters,
        because trials of one stimulus share its idiosyncrasies. ``None`` resamples trials.
    n_splits : int
        Number of folds; every class needs at least ``n_splits`` trials.
    random_state : int or numpy.random.Generator, optional
    n_boot : int
        Bootstrap resamples of the held-out predictions (0 skips the SE and interval).
    level : float
        Coverage of the percentile interval.
    classifier : {"logistic", "svm"}
        L2-regularised logistic regression or a linear SVM (both with penalty ``C``).
    C : float
        Inverse regularisation strength.

    Returns
    -------
    xarray.Dataset
        ``decoder_accuracy``, ``decoder_accuracy_se``, ``decoder_accuracy_ci``, ``decoder_accuracy_chance``.

    Notes
    -----
    Bias handling: cross-validation removes the optimistic bias of training accuracy. Each fold trains on
    ``(n_splits - 1)/n_splits`` of the trials, so the estimate is slightly pessimistic for a decoder trained
    on all trials. Uncertainty without refitting: the bootstrap of the fixed held-out predictions (by
    condition when ``by`` is given, within each class) captures test-sample noise but not the training noise
    of the classifiers, for which no unbiased estimator exists (Bengio & Grandvalet 2004); the spread of the
    per-fold accuracies does reflect it, through Nadeau & Bengio's corrected variance
    (1/K + 1/(K−1))·var(fold accuracies). The SE is the larger of the two (and at least the Agresti-Coull
    binomial SE, so that it is not 0 at 100% correct) and the interval is normal, clipped to [0, 1]. In simulation (10 neurons, 120 trials, 150 replicates) the percentile bootstrap alone
    covered the expected accuracy 91% of the time. Chance is the majority-class rate, the accuracy of the best
    label-blind guess at this class balance.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> means = np.array([[2.0, 0.0], [-2.0, 0.0]])
    >>> rec = make_recording(means, n_trials=20, noise_sd=1.0, target=[1, -1], rng=0)
    >>> ds = decoder_accuracy(rec, random_state=0, n_boot=0)
    >>> bool(ds["decoder_accuracy"] > 0.9), float(ds["decoder_accuracy_chance"])
    (True, 0.5)
    """
    from sklearn.model_selection import StratifiedKFold

    trials = _TrialTable(recording, target, by, need_by=False)
    trials.require_classes(at_least=2)
    trials.require_trials_per_class(n_splits, "stratified folds")
    rng = np.random.default_rng(random_state)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=_seed(rng))
    predicted, fold_of = _cross_validated_predictions(
        trials.X, trials.labels, folds.split(trials.X, trials.labels), classifier, C
    )
    correct = predicted == trials.labels
    clusters = trials.groups if by is not None else np.arange(trials.labels.size)
    return _accuracy_estimate(
        "decoder_accuracy", correct, fold_of, clusters, trials, n_boot, rng, level,
        estimator=f"{n_splits}-fold stratified cross-validated {classifier} (C={C}) on z-scored single trials",
        bias_correction="cross-validation (held-out trials); SE max(bootstrap of held-out predictions, "
        "Nadeau-Bengio corrected fold variance)"
        + (f" ({by!r} clusters)" if by is not None else ""),
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
) -> xr.Dataset:
    """Decoding accuracy on held-out *stimuli*: train on some conditions, test on conditions never seen.

    Folds are leave-conditions-out (:class:`sklearn.model_selection.StratifiedGroupKFold` with the ``by``
    values as groups), so all trials of a test condition are absent from training. This measures how the
    readout generalises to new stimuli rather than to new trials of known ones.

    Parameters
    ----------
    recording, target, n_splits, random_state, n_boot, level, classifier, C
        As in :func:`decoder_accuracy`.
    by : str
        Trial coord of conditions (stimuli). At least ``n_splits`` conditions are needed.

    Returns
    -------
    xarray.Dataset
        ``heldout_accuracy`` with ``_se``, ``_ci`` and ``_chance`` (majority-class rate).

    Notes
    -----
    Bias handling and SE as in :func:`decoder_accuracy`; the bootstrap resamples conditions (within classes
    when the label is constant within a condition), the natural unit of generalisation.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat([1, -1], 10)
    >>> means = np.c_[1.5 * y, rng.standard_normal((20, 3))]
    >>> rec = make_recording(means, n_trials=4, noise_sd=0.5, target=y, rng=2)
    >>> ds = heldout_accuracy(rec, random_state=0, n_boot=0)
    >>> bool(ds["heldout_accuracy"] > 0.8)
    True
    """
    from sklearn.model_selection import StratifiedGroupKFold

    trials = _TrialTable(recording, target, by, need_by=True)
    trials.require_classes(at_least=2)
    n_groups = np.unique(trials.groups).size
    if n_groups < n_splits:
        raise DataError(
            f"{trials.name}: held-out accuracy needs at least n_splits={n_splits} conditions of {by!r}, "
            f"found {n_groups}"
        )
    rng = np.random.default_rng(random_state)
    folds = list(
        StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=_seed(rng)).split(
            trials.X, trials.labels, trials.groups
        )
    )
    for k, (train, _) in enumerate(folds):
        if np.unique(trials.labels[train]).size < 2:
            raise DataError(
                f"{trials.name}: leave-conditions-out fold {k} trains on one class only; expected every class "
                f"of {target!r} in at least two conditions of {by!r} (use fewer n_splits, found {n_splits})"
            )
    predicted, fold_of = _cross_validated_predictions(trials.X, trials.labels, folds, classifier, C)
    correct = predicted == trials.labels
    return _accuracy_estimate(
        "heldout_accuracy", correct, fold_of, trials.groups, trials, n_boot, rng, level,
        estimator=f"{n_splits}-fold leave-{by}-out cross-validated {classifier} (C={C}) on z-scored trials",
        bias_correction=f"held-out conditions; SE max(bootstrap of held-out predictions by {by!r}, "
        "Nadeau-Bengio corrected fold variance)",
    )


def margin(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    n_neurons: int | None = None,
    scale=None,
    random_state=None,
    n_boot: int = 200,
    level: float = 0.95,
    *,
    n_trials: int | None = None,
    n_draws: int = 10,
    n_refits: int = 40,
    n_permutations: int = 5,
    C: float = DEFAULT_SVM_C,
) -> xr.Dataset:
    """Max-margin (linear SVM) margin of the condition means, in common units at a common neuron count.

    γ = max over (w, b) of min_μ y_μ (w·r_μ + b)/‖w‖, over the P condition means r_μ of a binary ``target``.

    Standardisation: every response is divided by ``scale``; the condition means are centred (the margin
    with a bias term does not depend on the centre, this only conditions the fit). Pass the *same* ``scale``
    for every session (e.g. :func:`response_scale` of all sessions, as :func:`readout_summary` does) so that
    margins are in the same units; per-session z-scoring would hide growth of the signal.

    Common shape: margins grow with the number of neurons and depend on how many trials each mean averages,
    so sessions are compared at ``n_neurons`` neurons and ``n_trials`` trials per condition. Below the
    recorded counts, ``n_draws`` random (neuron subset, trial subset) pairs are drawn and their margins
    averaged; neuron subsets are drawn in sorted-neuron-id order, so the result does not depend on the order
    of neurons in the array.

    Non-separable configurations: the soft-margin SVM (penalty ``C`` on the kernel normalised to unit mean
    squared norm) gives the direction w, and the reported value is its signed geometric margin with the best
    bias, (min_{y=+1} w·r − max_{y=−1} w·r)/(2‖w‖): negative, minus half the overlap along w. For separable
    configurations whose support-vector weights stay below ``C`` this is exactly the hard margin.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron")``.
    target : str
        Trial coord with a binary label, constant within each condition.
    by : str
        Trial coord defining conditions.
    n_neurons : int, optional
        Common neuron count (default: all recorded neurons).
    scale : float or array_like or xarray.DataArray, optional
        Divisor of responses: a scalar, one value per neuron (array in the recording's neuron order, or a
        DataArray on ``neuron`` matched by id). Default: :func:`response_scale` of this recording.
    random_state : int or numpy.random.Generator, optional
        Seeds the draws and the trial resamples (the same seed gives the same draws in every session).
    n_boot : int
        0 skips SE and interval; any positive value reports them from ``min(n_boot, n_refits)`` refits.
    level : float
    n_trials : int, optional
        Trials averaged into every condition mean (default: all trials of each condition).
    n_draws : int
        Subsets averaged when ``n_neurons`` or ``n_trials`` is below the recorded count.
    n_refits : int
        Cap on the trial-resampled SVM refits behind the SE, so that the cost does not grow with ``n_boot``.
    n_permutations : int
        Label permutations across conditions behind ``margin_chance`` (0 omits it).
    C : float

    Returns
    -------
    xarray.Dataset
        ``margin``, ``margin_se``, ``margin_ci``, ``margin_chance`` (the margin with condition labels
        permuted, at this shape); attrs ``estimand``, ``n_neurons``, ``n_trials``, ``scale``,
        ``separable_fraction``.

    Notes
    -----
    Estimand and bias: what is estimated without bias is the expected margin of condition means of
    ``n_trials`` trials at ``n_neurons`` neurons (averaging over subsets is a U-statistic, unbiased for that
    expectation). It is *not* the margin of the noiseless means: trial noise lowers the minimum over support
    conditions (a drop growing like the noise SD of a mean, σ/sqrt(n_trials)) and, in high dimension, adds
    directions that widen the margin (growing like σ²/n_trials); the net bias can have either sign and
    vanishes as ``n_trials`` grows (checked in the tests). We tried to remove it with the bootstrap (one
    noise level) and with simulation-extrapolation to zero noise; the first corrected in the wrong direction
    in some configurations and the second multiplied the SE by 3 to 5, so neither is applied. Compare
    sessions at a common ``n_trials`` (:func:`readout_summary` does) and read differences of margins as
    differences at that trial count.

    Uncertainty: each refit repeats the whole estimator on trials resampled within each condition, with
    fresh neuron and trial subsets (so the SE includes the subset draws); deviations of resampled means are
    inflated by sqrt(T/(T−1)) so that they carry the trial-noise variance σ²/n_trials of fresh means. SE =
    SD of the refits; the interval is normal, margin ± z·SE, because a percentile interval would inherit the
    noise-dependence described above. Coverage is checked in the tests, with and without subsets. At least
    two trials per condition are needed for the SE.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> means = np.array([[0.0, 1.0], [2.0, 1.5], [0.0, -1.0], [2.0, -1.5]])
    >>> rec = make_recording(means, n_trials=2, target=[1, 1, -1, -1], rng=0)
    >>> round(float(margin(rec, scale=1.0, n_boot=0)["margin"]), 3)
    1.0
    """
    problem = _MarginProblem(recording, target, by, n_neurons, scale, random_state, n_draws, C, n_trials)
    return problem.margin_estimate(n_boot, level, n_refits, n_permutations)


def signed_distances(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    n_neurons: int | None = None,
    scale=None,
    random_state=None,
    *,
    n_trials: int | None = None,
    n_splits: int = 5,
    n_draws: int = 10,
    C: float = DEFAULT_SVM_C,
) -> xr.DataArray:
    """Cross-validated signed distance y_μ(w·r_μ + b)/‖w‖ of each condition mean from a max-margin readout.

    Conditions are split into ``n_splits`` folds stratified by label; the readout (as in :func:`margin`, same
    standardisation, neuron and trial counts) is fitted to the other folds' condition means, and each held-out
    condition's signed distance from it is recorded. Positive = on the correct side. Cross-validation matters:
    in-sample distances of a separable set are all ≥ γ > 0, so nothing could ever be "wrong". With
    subsets, distances are averaged over the ``n_draws`` draws.

    Returns
    -------
    xarray.DataArray
        Dims ``("condition",)`` with the condition values as coord and the ``target`` label as a coord.

    Notes
    -----
    Bias handling: none beyond cross-validation; distances carry the trial noise of the means. Compare
    sessions with the same ``scale``, ``n_neurons``, ``n_trials`` and ``random_state``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.repeat([1, -1], 6)
    >>> rec = make_recording(np.c_[y, 0.1 * np.arange(12)], n_trials=2, target=y, rng=0)
    >>> d = signed_distances(rec, scale=1.0, n_splits=3, random_state=0)
    >>> d.sizes["condition"], bool((d > 0).all())
    (12, True)
    """
    problem = _MarginProblem(recording, target, by, n_neurons, scale, random_state, n_draws, C, n_trials)
    return problem.cv_distances(n_splits)


def flip_fraction(
    distances_before: xr.DataArray,
    distances_after: xr.DataArray,
    *,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Fraction of examples that flip from wrong (distance ≤ 0) to right (> 0) between two sessions.

    Examples are matched by the ``condition`` coord (inner join). Also reported: ``flip_fraction_reverse``,
    the fraction that flip from right to wrong, and ``n_examples``.

    Notes
    -----
    Bias handling: none. The SE resamples examples (conditions) with replacement, treating them as a sample
    of stimuli (at least the Agresti-Coull binomial SE, so that it is not 0 when nothing flips); the interval
    is normal, clipped to [0, 1]. The trial noise in each distance is not propagated.

    Examples
    --------
    >>> import xarray as xr
    >>> before = xr.DataArray([-1.0, -0.5, 0.3, 0.2], dims="condition", coords={"condition": [0, 1, 2, 3]})
    >>> after = xr.DataArray([0.5, -0.1, 0.4, -0.2], dims="condition", coords={"condition": [0, 1, 2, 3]})
    >>> ds = flip_fraction(before, after, n_boot=0)
    >>> float(ds["flip_fraction"]), float(ds["flip_fraction_reverse"])
    (0.25, 0.25)
    """
    for name, d in (("distances_before", distances_before), ("distances_after", distances_after)):
        if not isinstance(d, xr.DataArray) or d.dims != ("condition",):
            found = d.dims if isinstance(d, xr.DataArray) else type(d).__name__
            raise DataError(f"{name}: expected a DataArray with dim ('condition',), found {found}")
    before, after = xr.align(distances_before, distances_after, join="inner")
    if before.size == 0:
        raise DataError("flip_fraction: expected shared condition values between the sessions, found none")
    b, a = np.asarray(before.values, float), np.asarray(after.values, float)
    if not (np.isfinite(b).all() and np.isfinite(a).all()):
        raise DataError("flip_fraction: expected finite distances, found NaN/inf")
    to_right = (b <= 0) & (a > 0)
    to_wrong = (b > 0) & (a <= 0)
    value = to_right.mean()
    se, ci = np.nan, (np.nan, np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(random_state)
        draws = rng.integers(0, b.size, size=(n_boot, b.size))
        boot_se, _ = bootstrap_interval(value, to_right[draws].mean(axis=1), level)
        se, ci = _cv_interval(value, max(boot_se, agresti_coull_se(to_right.sum(), b.size)), np.array([]),
                              level, bounds=(0.0, 1.0))
    ds = estimate_dataset(
        "flip_fraction", value, se, ci, level=level, estimator="sign change of signed distances, wrong->right",
        bias_correction="none; SE from resampling examples", n_boot=n_boot,
    )
    ds["flip_fraction_reverse"] = ((), float(to_wrong.mean()))
    ds["n_examples"] = ((), int(b.size))
    return ds


def fisher_discriminant(
    recording: xr.DataArray,
    target: str = "target",
    by: str | None = None,
    shrinkage="auto",
    n_splits: int = 5,
    random_state=None,
    n_boot: int = 200,
    level: float = 0.95,
) -> xr.Dataset:
    """Cross-validated Fisher discriminant d' between the two classes of ``target``.

    In each fold, the class means and the pooled within-class covariance are estimated on the training
    trials, the covariance is shrunk towards a multiple of the identity (Ledoit-Wolf when ``shrinkage="auto"``,
    or a fixed weight in [0, 1]), and w = Σ⁻¹(μ₁ − μ₀). The held-out trials are projected on w and
    d' = (mean₁ − mean₀)/pooled SD of the projections. The fold values are averaged, weighted by test size.
    For Gaussian classes the optimum is d' = sqrt(Δμᵀ Σ⁻¹ Δμ) and the Bayes accuracy Φ(d'/2).

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron")``.
    target : str
        Trial coord with a binary label.
    by : str, optional
        Conditions: when given, folds leave whole conditions out (d' for new stimuli); ``None``: stratified
        trial folds. The bootstrap always resamples held-out trials within fold and class.
    shrinkage : "auto" or float
    n_splits, random_state, n_boot, level
        As in :func:`decoder_accuracy`.

    Returns
    -------
    xarray.Dataset
        ``fisher_discriminant`` with ``_se``, ``_ci`` and ``_chance`` (0: no mean difference); attrs
        ``shrinkage`` (mean over folds) and ``fold_values``.

    Notes
    -----
    Bias handling: in-sample d' is optimistic (w is fitted to the noise of the same trials); evaluating on
    held-out trials removes that. What remains is a pessimistic bias, because an estimated w is worse than
    the optimal one: even with the covariance known, the held-out d' of w = Σ⁻¹Δμ̂ averages about
    d²/sqrt(d² + p(1/n₀ + 1/n₁)) for p neurons and n₀, n₁ training trials. So read it as the discriminability
    a readout learned from this many trials achieves; it approaches the population d' as trials grow (checked
    in the tests at p = 20, 1600 training trials), and shrinkage keeps the loss small when neurons are
    comparable to trials (also checked, against the unshrunk estimator). SE: the larger of
    the bootstrap of held-out projections with w fixed (test noise only) and Nadeau & Bengio's corrected
    variance of the fold values (which carries the noise of w), with a normal interval; in simulation the
    first alone covered 89-94%, the maximum 95-96% (see ``_cv_interval``). The covariance never has to
    be formed: Ledoit-Wolf weights and Σ⁻¹Δμ are computed from the trials' Gram matrix (Woodbury identity),
    which keeps thousands of neurons cheap.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rec = make_recording(np.array([[1.0, 0.0], [-1.0, 0.0]]), n_trials=200, noise_sd=1.0,
    ...                      target=[1, 0], rng=0)
    >>> d = float(fisher_discriminant(rec, random_state=0, n_boot=0)["fisher_discriminant"])
    >>> abs(d - 2.0) < 0.3
    True
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    trials = _TrialTable(recording, target, by, need_by=by is not None)
    trials.require_classes(exactly=2)
    if not (shrinkage == "auto" or (np.isscalar(shrinkage) and 0.0 <= float(shrinkage) <= 1.0)):
        raise DataError(f"fisher_discriminant: expected shrinkage 'auto' or a number in [0, 1], found {shrinkage!r}")
    rng = np.random.default_rng(random_state)
    if by is None:
        trials.require_trials_per_class(n_splits, "stratified folds")
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=_seed(rng)).split(trials.X, trials.labels)
    else:
        folds = StratifiedGroupKFold(n_splits, shuffle=True, random_state=_seed(rng)).split(
            trials.X, trials.labels, trials.groups
        )
    positive = trials.labels == trials.classes[1]
    fold_scores, weights = [], []
    for train, test in folds:
        for idx, what in ((train, "training"), (test, "test")):
            counts = np.bincount(positive[idx].astype(int), minlength=2)
            if counts.min() < 2:
                raise DataError(
                    f"{trials.name}: a {what} fold has {counts.min()} trial(s) of one class of {target!r}; "
                    f"expected at least 2 (use fewer n_splits, found {n_splits})"
                )
        w, s = _shrunk_discriminant(trials.X[train], positive[train], shrinkage)
        scores = trials.X[test] @ w
        fold_scores.append((scores[~positive[test]], scores[positive[test]]))
        weights.append((test.size, s))
    sizes = np.array([n for n, _ in weights], float)
    fold_values = np.array([_dprime(s0, s1) for s0, s1 in fold_scores])
    value = float(np.dot(sizes, fold_values) / sizes.sum())
    se, ci = np.nan, (np.nan, np.nan)
    if n_boot > 0:
        boot = np.zeros(n_boot)
        for (s0, s1), n in zip(fold_scores, sizes):
            r0 = s0[rng.integers(0, s0.size, (n_boot, s0.size))]
            r1 = s1[rng.integers(0, s1.size, (n_boot, s1.size))]
            boot += n * _dprime(r0, r1, axis=1)
        boot_se, _ = bootstrap_interval(value, boot / sizes.sum(), level)
        se, ci = _cv_interval(value, boot_se, fold_values, level)
    return estimate_dataset(
        "fisher_discriminant", value, se, ci, chance=0.0, level=level,
        estimator=f"{n_splits}-fold cross-validated Fisher discriminant d' (shrinkage={shrinkage!r})",
        bias_correction="held-out trials (no optimistic bias); SE max(bootstrap of held-out projections, "
        "Nadeau-Bengio corrected fold variance)",
        shrinkage=float(np.mean([s for _, s in weights])), n_boot=n_boot, fold_values=fold_values.tolist(),
    )


def response_scale(recordings) -> float:
    """One common unit for responses: the root mean over neurons of the across-trial variance.

    Pooled over all given recordings (each neuron of each session counts once), so passing every session
    yields one number that standardises them all the same way. Across-trial variance includes stimulus
    signal and trial noise.

    Parameters
    ----------
    recordings : xarray.DataArray or dict or sequence of them

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.array([[0.0, 0.0], [2.0, 4.0]]), dims=("trial", "neuron"))
    >>> response_scale(rec)  # variances 1 and 4 -> sqrt(2.5)
    1.5811388300841898
    """
    if isinstance(recordings, xr.DataArray):
        recordings = [recordings]
    elif isinstance(recordings, dict):
        recordings = list(recordings.values())
    variances = []
    for k, rec in enumerate(recordings):
        validate_recording(rec, name=str(rec.attrs.get("session_id", f"recording {k}")))
        variances.append(np.asarray(rec.var(TRIAL).values, float).ravel())
    value = float(np.sqrt(np.mean(np.concatenate(variances))))
    if not value > 0:
        raise DataError("response_scale: expected responses that vary across trials, found zero variance")
    return value


def readout_summary(
    recordings: dict[str, xr.DataArray],
    *,
    target: str = "target",
    by: str = "stimulus",
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    n_splits: int = 5,
    n_draws: int = 10,
    n_refits: int = 40,
) -> xr.Dataset:
    """Readout statistics of every session, over dim ``session`` (in the order of ``recordings``).

    Variables: ``decoder_accuracy``, ``heldout_accuracy``, ``margin``, ``flip_fraction``,
    ``fisher_discriminant``, each with ``_se`` and ``_ci`` (dim ``ci_bound``, attr ``level``), plus
    ``decoder_accuracy_chance``, ``heldout_accuracy_chance``, ``margin_chance`` and
    ``fisher_discriminant_chance``.

    Common ground across sessions: one ``scale`` (:func:`response_scale` of all sessions), one neuron count
    (the smallest session's) and one trial count per condition (the smallest over sessions and conditions)
    for the margin and the signed distances, and the same ``random_state`` seed in every session, so
    identical sessions give identical values. ``flip_fraction`` of session k is
    relative to session k−1 over the conditions both share (NaN for the first session). Folds over
    conditions (held-out accuracy, signed distances) number at most the conditions of the scarcest class
    (attr ``condition_splits``); with fewer than 2 those statistics are NaN, with a warning. ``margin``,
    ``flip_fraction`` and ``fisher_discriminant`` need a binary ``target``; with more classes they are NaN
    and the Dataset attrs say so. Each variable's attrs give its estimator and bias handling; note that the
    margin estimates the margin of ``n_trials``-trial means (attr ``n_trials``), not of noiseless means
    (see :func:`margin`).

    Parameters
    ----------
    recordings : dict of str to xarray.DataArray
        One ``(trial, neuron)`` recording per session, in training order (time-resolved recordings should be
        averaged over ``time`` first, as :func:`neurolearn.summarize` does).
    target, by : str
        Trial coords of the label and of the conditions (stimuli).
    n_boot : int
        Bootstrap resamples for SEs and intervals (0 skips them). Cost grows little with it: accuracies and d'
        resample held-out predictions, the margin refits at most ``n_refits`` times.
    random_state : int or numpy.random.Generator, optional
        One seed, used identically in every session.
    level : float
        Interval coverage.
    n_splits : int
        Folds of the cross-validated statistics.
    n_draws, n_refits : int
        Subset draws and refit cap of :func:`margin`.

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (coords ``session`` = the dict keys, ``session_index``) and ``ci_bound``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([1, -1], 10)
    >>> recs = {f"day{d}": make_recording(np.c_[d * y, rng.standard_normal((20, 5))], n_trials=3,
    ...                                   target=y, noise_sd=0.5, rng=d) for d in range(3)}
    >>> ds = readout_summary(recs, n_boot=20, random_state=0)
    >>> ds["session"].values.tolist(), bool(ds["margin"][2] > ds["margin"][0])
    (['day0', 'day1', 'day2'], True)
    """
    if not isinstance(recordings, dict) or not recordings:
        raise DataError(f"readout_summary: expected a non-empty dict of session recordings, found {recordings!r:.80}")
    names = [str(k) for k in recordings]
    recs = list(recordings.values())
    for name, rec in zip(names, recs):
        validate_recording(rec, name=f"session {name!r}")
    seed = int(np.random.default_rng(random_state).integers(2**31))
    scale = response_scale(recs)
    n_common = min(rec.sizes[NEURON] for rec in recs)
    trials_common = min(_fewest_trials(rec, by, f"session {n!r}") for n, rec in zip(names, recs))
    binary = all(np.unique(np.asarray(_trial_coord(rec, target, f"session {n!r}"))).size == 2
                 for n, rec in zip(names, recs))
    # Folds over conditions (held-out accuracy, signed distances) need every class in every training fold:
    # use at most as many folds as the scarcest class has conditions, the same number in every session.
    condition_splits = min([n_splits] + [_fewest_conditions_per_class(rec, target, by, f"session {n!r}")
                                         for n, rec in zip(names, recs)])
    notes = []
    if condition_splits < 2:
        notes.append(f"a class of {target!r} has fewer than 2 conditions of {by!r} in some session: "
                     "heldout_accuracy and flip_fraction are NaN")
    per_stat: dict[str, list[xr.Dataset]] = {s: [] for s in
                                             ("decoder_accuracy", "heldout_accuracy", "margin",
                                              "flip_fraction", "fisher_discriminant")}
    previous = None
    for name, rec in zip(names, recs):
        common = dict(target=target, random_state=seed, n_boot=n_boot, level=level)
        per_stat["decoder_accuracy"].append(decoder_accuracy(rec, by=by, n_splits=n_splits, **common))
        per_stat["heldout_accuracy"].append(
            heldout_accuracy(rec, by=by, n_splits=condition_splits, **common) if condition_splits >= 2
            else _nan_estimate("heldout_accuracy", level, True))
        if binary:
            problem = _MarginProblem(rec, target, by, n_common, scale, seed, n_draws, DEFAULT_SVM_C,
                                     trials_common)
            per_stat["margin"].append(problem.margin_estimate(n_boot, level, n_refits))
            distances = problem.cv_distances(condition_splits) if condition_splits >= 2 else None
            if previous is None or distances is None:
                per_stat["flip_fraction"].append(_nan_estimate("flip_fraction", level))
            else:
                per_stat["flip_fraction"].append(
                    flip_fraction(previous, distances, n_boot=n_boot, random_state=seed, level=level)[
                        ["flip_fraction", "flip_fraction_ci", "flip_fraction_se"]]
                )
            previous = distances
            per_stat["fisher_discriminant"].append(
                fisher_discriminant(rec, by=None, n_splits=n_splits, **common)
            )
        else:
            for stat in ("margin", "flip_fraction", "fisher_discriminant"):
                per_stat[stat].append(_nan_estimate(stat, level, stat != "flip_fraction"))
    parts = []
    for stat, datasets in per_stat.items():
        attrs = next((d.attrs for d in datasets if d.attrs), {})
        combined = xr.concat(datasets, dim=SESSION, data_vars="all", coords="minimal", compat="override",
                             combine_attrs="drop")
        for var in combined.data_vars:
            # Only descriptions: numeric attrs of the first session (shrinkage, fold values) are not everyone's.
            combined[var].attrs.update({k: v for k, v in attrs.items() if isinstance(v, str)})
        combined[f"{stat}_ci"].attrs["level"] = level
        parts.append(combined)
    out = xr.merge(parts, compat="override", combine_attrs="drop")
    for part in parts:  # merge drops variable attrs; carry each statistic's description over
        for var in part.data_vars:
            out[var].attrs = dict(part[var].attrs)
    out = out.assign_coords({SESSION: names, "session_index": (SESSION, np.arange(len(names)))})
    out.attrs.update(
        {
            "scale": scale,
            "n_neurons": int(n_common),
            "n_trials": int(trials_common),
            "target": target,
            "by": by,
            "n_boot": int(n_boot),
            "flip_fraction": "relative to the previous session; NaN for the first session",
        }
    )
    out.attrs["condition_splits"] = int(condition_splits)
    if not binary:
        notes.append(f"target {target!r} is not binary in every session: margin, flip_fraction and "
                     "fisher_discriminant are NaN")
    if notes:
        out.attrs["note"] = "; ".join(notes)
        for message in notes:
            warnings.warn(message, stacklevel=2)
    return out


# --------------------------------------------------------------------------------------------------- helpers


class _TrialTable:
    """Single-trial responses with their labels and conditions, validated once."""

    def __init__(self, recording, target, by, need_by):
        self.name = str(getattr(recording, "attrs", {}).get("session_id", "recording")) if isinstance(
            recording, xr.DataArray) else "recording"
        validate_recording(recording, name=self.name)
        if recording.dims != (TRIAL, NEURON):
            raise DataError(
                f"{self.name}: readout statistics expect dims ('trial', 'neuron'), found {recording.dims}; "
                "average or select time bins first (e.g. recording.mean('time'))"
            )
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

    def require_classes(self, at_least=None, exactly=None):
        n = self.classes.size
        if (exactly is not None and n != exactly) or (at_least is not None and n < at_least):
            wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
            raise DataError(
                f"{self.name}: expected {wanted} classes in trial coord {self.target!r}, found {n} "
                f"({self.classes.tolist()[:10]})"
            )

    def require_trials_per_class(self, n_splits, what):
        if self.class_counts.min() < n_splits:
            raise DataError(
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


def _cross_validated_predictions(X, labels, folds, classifier, C):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

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
        # The scaler is part of the pipeline, so its means and SDs come from the training trials only.
        predicted[test] = make().fit(X[train], labels[train]).predict(X[test])
        fold_of[test] = k
    return predicted, fold_of


def _accuracy_estimate(name, correct, fold_of, clusters, trials, n_boot, rng, level, **attrs):
    value = float(correct.mean())
    chance = float(trials.class_counts.max() / trials.class_counts.sum())
    se, ci = np.nan, (np.nan, np.nan)
    if n_boot > 0:
        boot_se, _ = bootstrap_interval(
            value, _cluster_bootstrap_means(correct, clusters, trials.labels, n_boot, rng), level)
        folds = np.unique(fold_of)
        fold_values = np.array([correct[fold_of == k].mean() for k in folds])
        # At 0 or 100% correct every resample agrees and the SE would read 0; the Agresti-Coull binomial SE,
        # (k+2)/(n+4) in place of k/n, keeps a floor there (n trials, as if independent).
        floor = agresti_coull_se(correct.sum(), correct.size)
        se, ci = _cv_interval(value, max(boot_se, floor), fold_values, level, bounds=(0.0, 1.0))
    return estimate_dataset(name, value, se, ci, chance=chance, level=level, n_boot=n_boot,
                            chance_level="majority-class rate", **attrs)


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


def _shrunk_discriminant(X, positive, shrinkage):
    """w = Σ⁻¹Δμ with Σ the (Ledoit-Wolf) shrunk pooled within-class covariance, via the trials' Gram matrix."""
    mu1, mu0 = X[positive].mean(0), X[~positive].mean(0)
    centred = X - np.where(positive[:, None], mu1, mu0)
    n, p = centred.shape
    gram = centred @ centred.T
    trace = np.trace(gram) / n  # tr S
    mu = trace / p
    frob2 = np.sum(gram**2) / n**2  # ‖S‖_F²
    if shrinkage == "auto":
        # Ledoit & Wolf (2004): delta = ‖S − μI‖²/p, beta = (Σ_k‖x_k‖⁴/n − ‖S‖²)/(n p); weight = min(beta, delta)/delta
        delta = (frob2 - 2 * mu * trace + mu**2 * p) / p
        beta = (np.sum(np.diag(gram) ** 2) / n - frob2) / (n * p)
        s = 1.0 if delta <= 0 else min(beta, delta) / delta
    else:
        s = float(shrinkage)
    diff = mu1 - mu0
    c = s * mu
    if c <= 1e-12 * max(mu, 1e-300):
        # No shrinkage: solve with the (pseudo-)inverse of the sample covariance.
        return np.linalg.lstsq(centred.T @ centred / n, diff, rcond=None)[0], s
    # Woodbury: (cI + a XᵀX)⁻¹ d = (d − Xᵀ(I/a + XXᵀ/c... written with a = (1−s)/n:
    # (cI + a XᵀX)⁻¹ = (1/c)[I − Xᵀ (c/a I + XXᵀ)⁻¹ X]
    a = (1.0 - s) / n
    if a <= 0:
        return diff / c, s
    inner = np.linalg.solve(gram + (c / a) * np.eye(n), centred @ diff)
    return (diff - centred.T @ inner) / c, s


def _dprime(s0, s1, axis=None):
    m0, m1 = s0.mean(axis=axis), s1.mean(axis=axis)
    n0, n1 = s0.shape[-1], s1.shape[-1]
    v0, v1 = s0.var(axis=axis, ddof=1), s1.var(axis=axis, ddof=1)
    pooled = ((n0 - 1) * v0 + (n1 - 1) * v1) / (n0 + n1 - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (m1 - m0) / np.sqrt(pooled)


def _nan_estimate(name, level, with_chance=False):
    return estimate_dataset(name, np.nan, np.nan, (np.nan, np.nan), level=level,
                            chance=np.nan if with_chance else None)


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
