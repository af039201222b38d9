"""Kernel–task alignment and task difficulty of one session (docs/theory.md §1).

A(Φ, y) = ⟨LΦR, L yyᵀ R⟩_F / (‖LΦR‖_F ‖L yyᵀ R‖_F) with L = R = H (double centring, the default),
L = R = I (uncentred, yᵀΦy / (‖Φ‖_F ‖y‖²)) or L = I, R = H (column centring: the kernel's columns and the
task's columns are centred, rows are not). For C > 2 classes yyᵀ is replaced by the one-hot YYᵀ.

The target of estimation is the alignment of the *population* kernel (infinite neurons, noiseless condition
means) on the recorded conditions. The default ``estimator="unbiased"`` takes an unbiased estimate of the
numerator (mean over neurons of trial-noise-corrected per-neuron kernels, linear in Φ) and of the squared
denominator (U-statistic over distinct neurons), so neither trial noise nor neuron subsampling biases them;
the O(1/N) bias of their ratio is removed by an exact leave-one-neuron-out jackknife (the leave-one-out values
follow from the per-neuron influence terms in O(N)). ``estimator="plugin"`` uses R Rᵀ/N and is biased towards
zero by trial noise and few neurons.

Honest values (issue 8): the unbiased ‖LΦR‖² is 0 up to noise, or negative, when the recording has no
condition structure beyond trial noise; the ratio then reads anything (22.4 for a statistic bounded by 1).
Such sessions raise :class:`~neurolearn.errors.InsufficientDataError` (denominator not above one influence SE,
:func:`~neurolearn.stats.kernels.require_resolved`), as do 2 conditions under double centring (±1 by
construction) and estimates outside [-1, 1] by more than 3 SE. Alignment replicates are mapped to normal
scores around the estimate (normal interval) with the spread of the leave-one-neuron-out jackknife times the
Student factor of that SE's degrees of freedom (:func:`~neurolearn.stats.neuron_resampling.jackknife_spread`);
difficulty replicates are re-centred on it (median).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset
from neurolearn.stats.kernels import (
    RANGE_Z,
    ConditionStatistics,
    centre_kernel,
    centre_rows,
    condition_statistics,
    jackknife_bias,
    leave_one_out,
    influence_se,
    neuron_bootstrap_weights,
    normal_score_replicates,
    recentre_replicates,
    replicate,
    require_neurons,
    require_resolved,
    self_inner_estimate,
    target_matrix,
)
from neurolearn.stats.kernel_terms import contrast_basis, factored_linear_estimate, kernel_eigh, with_shared_products
from neurolearn.stats.neuron_resampling import jackknife_spread, t_spread

__all__ = [
    "task_alignment",
    "alignment_chance",
    "task_difficulty",
    "kernel_alignment",
    "kernel_task_difficulty",
    "VARIANTS",
]

#: variant -> (centre rows, centre columns)
VARIANTS = {"double": (True, True), "uncentred": (False, False), "column": (False, True)}
ESTIMATORS = ("unbiased", "plugin")


@with_shared_products
def task_alignment(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    *,
    variant: str = "double",
    estimator: str = "unbiased",
    n_boot: int = 0,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Centred kernel alignment between a session's condition kernel and the task kernel.

    Parameters
    ----------
    recording : xarray.DataArray
        One session (dims ``trial, neuron[, time]``) with trial coords ``by`` and ``target``.
    target : str
        Trial coord of the label (two classes -> ±1; more -> one-hot; numeric non-integer -> regression).
    by : str
        Trial coord defining conditions.
    variant : {"double", "uncentred", "column"}
        Centring of kernel and task kernel (see module docstring).
    estimator : {"unbiased", "plugin"}
        Bias handling: ``"unbiased"`` corrects trial noise (per-neuron noise variance removed from the
        diagonal; needs >= 2 trials per condition) and neuron subsampling (U-statistic over distinct neurons
        for ‖Φ‖², then a neuron jackknife of the ratio). ``"plugin"`` is the naive R Rᵀ/N alignment.
    n_boot : int
        Neuron-bootstrap replicates for ``task_alignment_se`` and ``_ci`` (0 -> NaN). Replicates are
        linearised (see :mod:`neurolearn.stats.kernels`), so they cost O(N) each.
    random_state : int or numpy.random.Generator, optional
    level : float
        Coverage of the percentile interval.

    Returns
    -------
    xarray.Dataset
        ``task_alignment``, ``task_alignment_se``, ``task_alignment_ci`` and ``task_alignment_chance`` (the
        expected alignment under random permutation of the labels across conditions, exact) with the
        estimator choices in attrs. The interval is the normal interval (estimate ± z SD of the bootstrap
        replicates) around the jackknife-corrected estimate, so it contains the estimate.

    Raises
    ------
    InsufficientDataError
        With the reason: no label or one class; 2 conditions with ``variant="double"`` (the centred
        alignment is ±1 by construction); fewer than 3 neurons; ‖LΦR‖² not resolved from trial noise (a
        recording without condition structure); an estimate outside [-1, 1] by more than 3 SE.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.array([1.0, 1.0, -1.0, -1.0])
    >>> rng = np.random.default_rng(0)
    >>> means = np.outer(y, rng.standard_normal(500))  # every neuron codes the label
    >>> rec = make_recording(means, n_trials=4, noise_sd=0.5, target=y, rng=1)
    >>> round(float(task_alignment(rec)["task_alignment"]), 2)
    1.0
    """
    left, right = _variant(variant)
    _estimator(estimator)
    stats = condition_statistics(recording, by, target=target, min_trials=2 if estimator == "unbiased" else 1)
    value, replicates = alignment_with_replicates(
        stats, left=left, right=right, unbiased=estimator == "unbiased", n_boot=n_boot, random_state=random_state
    )
    se, ci = bootstrap_interval(value, replicates, level) if n_boot else (np.nan, (np.nan, np.nan))
    chance = alignment_chance(stats, left=left, right=right, unbiased=estimator == "unbiased")
    return estimate_dataset(
        "task_alignment", value, se, ci, chance=chance, level=level, session_id=stats.session_id,
        chance_level="mean over random permutations of the labels across conditions (closed form)",
        estimator=estimator, variant=variant, bootstrap="neurons (Poisson weights, linearised)",
        n_boot=int(n_boot), n_conditions=stats.n_conditions, n_neurons=stats.n_neurons,
    )


@with_shared_products
def task_difficulty(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    *,
    ridge: float = 0.1,
    estimator: str = "unbiased",
    n_boot: int = 0,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Task difficulty tr(Yᵀ(Φ/s + λI)⁻¹Y) / tr(YᵀY) of the centred kernel and target (large => more feature
    learning needed).

    Φ is the double-centred kernel H Φ H over the P - 1 contrasts of the conditions and Y the centred target
    (a condition-independent rate, such as a neuron's baseline, changes neither), s = tr(HΦH)/(P - 1) its mean
    eigenvalue: normalising by it makes the statistic independent of response units, and dividing by ‖Y‖²
    puts it on a scale from ~1/(η_max/s + λ) (target along the top mode) to 1/λ (target orthogonal to all
    responses). ``ridge`` is λ. Needs 3 conditions (with 2 it is 1/(1 + λ) by construction).

    Bias handling: ``"unbiased"`` uses the trial-noise-corrected kernel (trial noise otherwise acts as extra
    ridge and lowers the difficulty), projected onto the PSD cone (negative eigenvalues come only from noise
    and would make the ridge inverse indefinite); the inverse is nonlinear, so finite-neuron bias is not
    removed (it is small when N >> P). Bootstrap replicates are first-order in the neuron weights and
    re-centred on the estimate. Raises :class:`~neurolearn.errors.InsufficientDataError` when there is no
    label or one class, fewer than 3 neurons, or tr(K)/P is not resolved from noise.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.array([1.0, -1.0, 1.0, -1.0])
    >>> rec = make_recording(np.outer(y, np.ones(10)), n_trials=3, target=y, rng=0)  # noiseless, Φ = yyᵀ
    >>> round(float(task_difficulty(rec, ridge=0.1)["task_difficulty"]), 4)  # 1 / (4 / (4/3) + 0.1): s = 4/3
    0.3226
    """
    _estimator(estimator)
    stats = condition_statistics(recording, by, target=target, min_trials=2 if estimator == "unbiased" else 1)
    value, replicates = difficulty_with_replicates(
        stats, ridge=ridge, unbiased=estimator == "unbiased", n_boot=n_boot, random_state=random_state
    )
    se, ci = bootstrap_interval(value, replicates, level) if n_boot else (np.nan, (np.nan, np.nan))
    return estimate_dataset(
        "task_difficulty", value, se, ci, level=level, session_id=stats.session_id, estimator=estimator,
        ridge=float(ridge), normalisation="kernel / (tr K / P); divided by tr(Y'Y)", n_boot=int(n_boot),
    )


def kernel_alignment(kernel, target, *, variant: str = "double") -> float:
    """Alignment of a given kernel matrix with the task kernel of ``target`` (no bias correction).

    Parameters
    ----------
    kernel : array_like or xarray.DataArray, shape (P, P)
    target : array_like, shape (P,) or (P, C)
        Labels per condition (encoded by :func:`neurolearn.stats.kernels.target_matrix`).
    variant : {"double", "uncentred", "column"}

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, -1.0, 1.0, -1.0])
    >>> kernel_alignment(np.outer(y, y), y)
    1.0
    """
    left, right = _variant(variant)
    kernel = np.asarray(kernel, dtype=float)
    labels = target_matrix(np.asarray(target))
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] != labels.shape[0]:
        raise DataError(f"kernel: expected a square matrix matching {labels.shape[0]} targets, found {kernel.shape}")
    task = centre_kernel(labels @ labels.T, left, right)
    centred = centre_kernel(kernel, left, right)
    denominator = np.linalg.norm(centred) * np.linalg.norm(task)
    if denominator == 0:
        raise DataError("kernel: centred kernel or task kernel is zero; alignment undefined")
    return float(round(np.sum(centred * task) / denominator, 12))


def kernel_task_difficulty(kernel, target, *, ridge: float = 0.1) -> float:
    """tr(Y_cᵀ(K_c/s + λI)⁻¹Y_c)/tr(Y_cᵀY_c) for a given kernel matrix, of the centred kernel K_c = QᵀKQ and
    target Y_c = QᵀY over the P - 1 contrasts Q, s = tr(K_c)/(P - 1) (see :func:`task_difficulty`).

    Examples
    --------
    >>> import numpy as np
    >>> round(kernel_task_difficulty(np.eye(4), [1, -1, 1, -1], ridge=1.0), 3)  # 1/(1+1)
    0.5
    """
    kernel = np.asarray(kernel, dtype=float)
    basis = contrast_basis(kernel.shape[0])  # the centred kernel over the contrasts, as task_difficulty
    kernel = basis.T @ ((kernel + kernel.T) / 2.0) @ basis
    labels = basis.T @ target_matrix(np.asarray(target))
    scale = np.trace(kernel) / max(kernel.shape[0], 1)
    if not scale > 0:
        raise DataError(f"kernel: expected a positive centred trace, found {np.trace(kernel)}")
    solved = np.linalg.solve(kernel / scale + ridge * np.eye(kernel.shape[0]), labels)
    return float(np.sum(labels * solved) / np.sum(labels * labels))


# ----------------------------------------------------------------------------------------------------------
# numpy core (used by summarize as well)
# ----------------------------------------------------------------------------------------------------------


@with_shared_products
def alignment_with_replicates(stats: ConditionStatistics, *, left=True, right=True, unbiased=True, n_boot=0,
                              random_state=None, weights=None):
    """Point estimate and neuron-bootstrap replicates of the task alignment of ``stats``.

    Returns ``(value, replicates)``; replicates (``(B,)``, empty without weights) are linearised in the
    neuron weights and mapped to normal scores around ``value``
    (:func:`~neurolearn.stats.kernels.normal_score_replicates`), keeping their order (so their dependence
    across statistics and sessions through the shared neuron weights), with SD ``t_spread(jackknife SE,
    df)``: the leave-one-neuron-out jackknife SE of the ratio (exact leave-one-out values), times
    t_0.975(df)/z_0.975 for the SE's Satterthwaite degrees of freedom (about 30 with 100 Gaussian-like
    cells, 5-8 when a few log-normal-rate cells carry the kernel). The plug-in (``unbiased=False``) keeps the
    replicates' own SD. Over 600 redraws of one population in each of six log-normal-rate Poisson designs
    (benchmarks/bench_alignment_se.py) the replicates' SD had been 0.94-1.92 of the estimates' spread (RMS
    up to 2.8, from ratio tails where a replicate's ||HKH||² nears 0; coverage 0.91-1.00) and is now
    0.74-1.14 (coverage 0.93-0.975); over 1500 redraws of the transfer network (100 of 4000 units) 1.01-1.03
    before and 1.08-1.10 after (coverage 0.937-0.942 -> 0.951-0.955).

    Raises
    ------
    InsufficientDataError
        No target or one class; 2 conditions with double centring (the alignment is ±1 by construction);
        fewer than 3 neurons (unbiased); the estimate of ‖LΦR‖² not above 1 influence SE (≈ 1.4 SE under
        no structure, see :data:`~neurolearn.stats.kernels.DENOMINATOR_Z`) (no condition
        structure resolved from trial noise: the ratio would read anything, e.g. 22.4); an estimate outside
        [-1, 1] by more than 3 SE.
    """
    _check_supported(stats, left, right, unbiased, "task alignment")
    labels = target_matrix(stats.target, name=f"session {stats.session_id!r} target")
    task = centre_kernel(labels @ labels.T, left, right)
    task_norm = np.linalg.norm(task)
    # ⟨K_i, L YYᵀ R⟩ through the factors L Y and R Y (C·P·N work, not P²·N)
    numerator, numerator_influence = factored_linear_estimate(
        stats, centre_rows(labels, left), centre_rows(labels, right), unbiased=unbiased)
    squared_norm, norm_influence = self_inner_estimate(stats, left, right, unbiased=unbiased)
    _require_norm(squared_norm, norm_influence, unbiased, stats.session_id)

    def ratio(num, squared):
        return _ratio(num, squared, task_norm)

    value = ratio(numerator, squared_norm)
    # first-order influence of the ratio: its SE (delta method) for the range check
    ratio_influence = (numerator_influence - numerator * norm_influence / (2.0 * squared_norm)) / (
        np.sqrt(squared_norm) * task_norm)
    bias, spread = 0.0, None
    if unbiased:
        # the ratio of unbiased estimates keeps an O(1/N) bias: remove it with an exact neuron jackknife
        loo = {0: leave_one_out(numerator, numerator_influence, 1),
               1: leave_one_out(squared_norm, norm_influence, 2)}
        bias = jackknife_bias(ratio, (numerator, squared_norm), [loo])
        bias = bias if np.isfinite(bias) else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = t_spread(*jackknife_spread(ratio(loo[0], loo[1])))
    estimate = value - bias
    _require_in_range(estimate, influence_se(ratio_influence), "task alignment", stats.session_id)
    weights = _weights(stats, n_boot, random_state, weights)
    if weights is None:
        return estimate, np.empty(0)
    replicates = ratio(replicate(numerator, weights, numerator_influence),
                       replicate(squared_norm, weights, norm_influence))
    if spread is not None and not np.isfinite(spread):
        spread = None  # fewer than 3 finite leave-one-out values: the replicates' own SD
    return estimate, normal_score_replicates(estimate, replicates, spread=spread)


def _check_supported(stats, left, right, unbiased, what):
    """The refusals shared by the alignment statistics (InsufficientDataError with the reason)."""
    if stats.target is None:
        raise InsufficientDataError(f"session {stats.session_id!r}: no task label ({what} needs a target)")
    classes = np.unique(np.asarray(stats.target))
    if classes.size < 2:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: one class of the target ({classes.tolist()}); {what} needs two")
    if left and right and stats.n_conditions < 3:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: fewer than 3 conditions (found {stats.n_conditions}); with 2 the "
            "double-centred alignment is +-1 by construction")
    if unbiased:
        require_neurons(stats)


def _require_norm(squared_norm, influence, unbiased, session_id):
    """The unbiased ‖LΦR‖² must be resolved from noise (> 1 influence SE); the plug-in (a sum of squares,
    biased upwards) only needs to be positive, and its ratio is within [-1, 1] by Cauchy–Schwarz."""
    if unbiased:
        require_resolved(squared_norm, influence_se(influence), "squared kernel norm ||LKR||^2", session_id)
    elif not squared_norm > 0:
        raise InsufficientDataError(f"session {str(session_id)!r}: the kernel is zero after centring")


def _require_in_range(estimate, se, what, session_id, *, low=-1.0, high=1.0):
    """Refuse a ratio estimate outside its estimand's range by more than 3 SE (a denominator that passed
    :func:`require_resolved` only barely, or a heavy-tailed neuron that dominates both terms)."""
    if not np.isfinite(estimate) or estimate < low - RANGE_Z * se or estimate > high + RANGE_Z * se:
        raise InsufficientDataError(
            f"session {str(session_id)!r}: denominator not resolved from noise: {what} estimate "
            f"{estimate:.3g} "
            f"lies outside [{low:g}, {high:g}] by more than {RANGE_Z:g} SE (SE {se:.3g})")


@with_shared_products
def alignment_chance(stats: ConditionStatistics, *, left=True, right=True, unbiased=True) -> float:
    """Expected alignment when the labels are randomly permuted across conditions (exact, no sampling).

    For a uniformly random permutation, E[T] = (d - c) I + c 11ᵀ with d = tr(T)/P and
    c = (1ᵀT1 - tr T)/(P(P-1)); ‖LTR‖ and ‖LΦR‖ do not depend on the permutation, so the chance level is
    ⟨Φ, L E[T] R⟩ / (‖LΦR‖ ‖LTR‖), estimated with the same bias handling as the statistic.
    """
    labels = target_matrix(stats.target, name=f"session {stats.session_id!r} target")
    task = labels @ labels.T
    n_cond = task.shape[0]
    diagonal = np.trace(task) / n_cond
    off_diagonal = (task.sum() - np.trace(task)) / (n_cond * (n_cond - 1))
    # L E[T] R = a L R + c (L1)(1ᵀR), a = d - c, with H1 = 0 and LR = H unless neither side is centred
    a = diagonal - off_diagonal
    ones = np.ones((n_cond, 1))
    coefficient = -a / n_cond if (left or right) else off_diagonal
    numerator, _ = factored_linear_estimate(stats, ones, coefficient * ones, a, unbiased=unbiased)
    squared_norm, norm_influence = self_inner_estimate(stats, left, right, unbiased=unbiased)
    _require_norm(squared_norm, norm_influence, unbiased, stats.session_id)
    return _ratio(numerator, squared_norm, np.linalg.norm(centre_kernel(task, left, right)))


@with_shared_products
def difficulty_with_replicates(stats: ConditionStatistics, *, ridge=0.1, unbiased=True, n_boot=0,
                               random_state=None, weights=None):
    """Point estimate and first-order neuron-bootstrap replicates of :func:`task_difficulty`.

    Replicates are re-centred on the estimate (median). The estimand lies in (0, 1/ridge] (the population
    kernel is positive semi-definite). With ``unbiased`` the trial-noise-corrected kernel is projected onto
    the PSD cone (negative eigenvalues, which only noise produces, set to 0) before the ridge inverse, so
    the value is always in range; the projection biases the difficulty slightly low where the kernel has
    directions without signal (s is taken before the projection).

    Raises
    ------
    InsufficientDataError
        No target or one class; fewer than 3 neurons (unbiased); the kernel's mean eigenvalue s = tr(K)/P
        not above 1 SE; an estimate outside [0, 1/ridge] by more than 3 SE (cannot happen with the PSD
        projection; kept as a guard).
    """
    _check_supported(stats, False, False, unbiased, "task difficulty")
    n_cond = stats.n_conditions
    if n_cond < 3:
        raise InsufficientDataError(f"session {stats.session_id!r}: fewer than 3 conditions (found {n_cond}): the "
                                    "centred kernel has one mode and the difficulty is 1/(1 + ridge) by construction")
    # the centred kernel H K H over the P - 1 contrasts and the centred target: a condition-independent rate
    # (a neuron's baseline) is no mode of it, so it moves neither s nor the solve (adversary S3-10: the
    # uncentred difficulty doubled, 4.5 -> 9.3, as the baselines of one population rose from 60 to 240 Hz)
    labels = centre_rows(target_matrix(stats.target, name=f"session {stats.session_id!r} target"), True)
    eigenvalues, vectors = kernel_eigh(stats, unbiased, centred=True)  # shared with the spectral statistics
    scale = float(np.sum(eigenvalues)) / (n_cond - 1)  # tr(H K H) / (P - 1): the mean contrast eigenvalue
    ones = np.ones((n_cond, 1)) / np.sqrt(n_cond * (n_cond - 1.0))
    # <K, H> / (P - 1) = <K, I/(P - 1) - 11ᵀ/(P (P - 1))>
    _, scale_influence = factored_linear_estimate(stats, ones, -ones, 1.0 / (n_cond - 1), unbiased=unbiased)
    if unbiased:
        require_resolved(scale, influence_se(scale_influence), "mean kernel eigenvalue tr(HKH)/(P - 1)",
                         stats.session_id)
    elif not scale > 0:
        raise InsufficientDataError(f"session {stats.session_id!r}: the kernel has no variance (trace 0)")
    if unbiased:
        # the noise-corrected kernel has eigenvalues of either sign in directions without signal; below
        # -ridge they would make (K/s + ridge I) indefinite and the difficulty anything (negative, or far
        # above 1/ridge). The population kernel is PSD: project onto the PSD cone (as the learning curve does)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
    label_norm = float(np.sum(labels * labels))
    # (K/s + λI)⁻¹ Y in the kernel's eigenbasis (the same solve, without re-forming the projected kernel)
    solved = vectors @ ((vectors.T @ labels) / (eigenvalues / scale + ridge)[:, None])
    value = float(np.sum(labels * solved) / label_norm)
    # d f = -<dΦ, Z Zᵀ>/(s ‖Y‖²) + <Φ, Z Zᵀ> ds/(s² ‖Y‖²), ds = tr(dΦ)/P, Z = (Φ/s + λI)⁻¹ Y
    quad, quad_influence = factored_linear_estimate(stats, solved, solved, unbiased=unbiased)
    influence = (-quad_influence / scale + quad * scale_influence / scale**2) / label_norm
    _require_in_range(value, influence_se(influence), "task difficulty", stats.session_id, low=0.0,
                      high=1.0 / ridge)
    weights = _weights(stats, n_boot, random_state, weights)
    if weights is None:
        return value, np.empty(0)
    return value, recentre_replicates(value, replicate(value, weights, influence))


def _ratio(numerator, squared_norm, task_norm):
    squared_norm = np.asarray(squared_norm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(squared_norm > 0, numerator / (np.sqrt(np.abs(squared_norm)) * task_norm), np.nan)
    return float(out) if out.ndim == 0 else out


def _weights(stats, n_boot, random_state, weights):
    if weights is not None:
        return weights
    if not n_boot:
        return None
    return neuron_bootstrap_weights(stats.neurons, n_boot, random_state)


def _variant(variant):
    if variant not in VARIANTS:
        raise DataError(f"variant: expected one of {sorted(VARIANTS)}, found {variant!r}")
    return VARIANTS[variant]


def _estimator(estimator):
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: expected one of {list(ESTIMATORS)}, found {estimator!r}")
