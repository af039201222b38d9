"""Spectral task alignment of a session's kernel and the learning curve it predicts (docs/theory.md §1).

Eigen-decompose Φ/P = Σ_k η_k u_k u_kᵀ (η descending) and project the target: v_k² = ‖u_kᵀ Y‖² / P. The
summary statistics and :func:`eigenspectrum` use the double-centred kernel H Φ H and target H Y over the P - 1
contrasts of the conditions (a condition-independent rate, e.g. a neuron's baseline, is then no mode);
:func:`predicted_learning_curve` uses the kernel it is given (or the recording's uncentred one).
Cumulative power C(k) = Σ_{j≤k} v_j² / Σ_j v_j² rises faster when the target lies in the top modes, which
predicts better generalisation from few examples. :func:`predicted_learning_curve` feeds (η, v²) to the
Canatar–Bordelon–Pehlevan solver :func:`neurolearn.theory.kernel_regression.kernel_generalization_error`.

Trustworthiness: with N recorded neurons only about the top √N eigenvectors of a subsampled population are
reliable (the rest are dominated by sampling noise), so :func:`eigenspectrum` marks ``n_trustworthy =
min(P - 1, ⌊√N⌋)`` modes. The kernel is the trial-noise-corrected one by default (removing the noise floor
that flattens the spectrum); eigenvectors are not otherwise de-biased.

Summary numbers used by :func:`neurolearn.summarize`:

* ``spectral_power`` = C(k) at k = ``n_modes`` (default 10, capped at P - 1): the fraction of target power in
  the top 10 kernel modes (1 = all of it), clipped to [0, 1]. Its neuron-bootstrap spread is raised to the
  leave-one-neuron-out jackknife SE where that is larger (the Poisson bootstrap's fell short on log-normal-rate
  sessions: 95% intervals covered 0.62-0.80 of the population C(k), 0.88-0.99 with the floor,
  ``benchmarks/bench_spectral_coverage.py``). Where the k-th and (k+1)-th population eigenvalues are close the
  estimand itself is ill-conditioned (which modes count is not resolved): 0.88 at 12 conditions, k = 10 of 11.
* ``powerlaw_exponent`` = the participation-matched power-law exponent of the *population* kernel over the
  P - 1 contrast modes: the α in [0, ``ALPHA_MAX``] for which η_k = k^-α, k = 1..P - 1, has the participation
  ratio (Σ η)² / Σ η² of H Φ H (:func:`exponent_from_participation`). For a population spectrum that is a power
  law over its P - 1 modes it is that law's exponent; otherwise it is the exponent of the power law as
  concentrated as the spectrum. Its number of modes is fixed by the conditions, not by the cell count.

Why not a least-squares slope of the sample eigenvalues (the earlier estimator)? The eigenvalues of a kernel
estimated from N recorded neurons spread: the top ones are inflated and the lower ones deflated by the finite
neuron sample (more so with heavy-tailed, log-normal rates, where a few neurons carry most of the kernel), so
the sample spectrum decays faster than the population's. On Poisson populations of log-normal-rate cells with
an exact power-law population spectrum (``benchmarks/bench_spectral_coverage.py``) the slope read +0.5 to
+0.8 too steep at 60-400 cells and its interval covered the population exponent in 0-67% of sessions, every
miss above; fitting over ⌊√N⌋ modes also made the estimand depend on the cell count. The participation ratio's
moments are U-statistics over distinct neurons (:mod:`neurolearn.stats.dimensionality`): neither a neuron's own
tuning nor its own trial noise enters a product with itself, so they carry no spreading bias, and the
exponent is a monotone function of them. Its interval is the participation ratio's (neuron bootstrap, exact
weighted U-statistics, jackknife-floored spread) mapped through that function; it is NaN, with the
participation ratio's reason, where the ratio is not resolved from trial noise.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset
from neurolearn.stats.kernels import (
    ConditionStatistics,
    condition_statistics,
    neuron_bootstrap_weights,
    recentre_replicates,
    target_matrix,
    unbiased_kernel_matrix,
)
from neurolearn.stats.kernel_terms import (contrast_basis, gram, kernel_eigh, weighted_noise, weighted_outer_sums,
                                          with_shared_products)
from neurolearn.stats.dimensionality import participation_with_replicates

__all__ = [
    "eigenspectrum",
    "spectral_summary",
    "powerlaw_exponent",
    "exponent_from_participation",
    "powerlaw_participation",
    "predicted_learning_curve",
    "n_trustworthy_modes",
    "N_MODES",
    "ALPHA_MAX",
]

#: k at which ``spectral_power`` = C(k) is read
N_MODES = 10
MODE = "mode"
#: largest power-law exponent reported: a participation ratio at (or below) that of k^-ALPHA_MAX reads it
#: (over 15 modes PR(10) = 1.002, one mode in all but rounding)
ALPHA_MAX = 10.0


def eigenspectrum(recording: xr.DataArray, target: str = "target", by: str = "stimulus", *,
                  estimator: str = "unbiased") -> xr.Dataset:
    """Eigenvalues of Φ/P, target power per mode and cumulative power, over dim ``mode`` (1, 2, ...), of the
    centred kernel and target over the P - 1 contrasts of the conditions (as :func:`spectral_summary`).

    Returns a Dataset with ``eigenvalue`` (η_k), ``target_power`` (v_k²), ``cumulative_power`` (C(k)) and
    boolean ``trustworthy`` (k <= n_trustworthy); attrs ``n_trustworthy``, ``estimator``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.array([1.0, -1.0, 1.0, -1.0])
    >>> rec = make_recording(np.outer(y, np.ones(16)), n_trials=2, target=y, rng=0)  # Φ = yyᵀ
    >>> spec = eigenspectrum(rec)
    >>> spec["eigenvalue"].values[:2].round(6) + 0.0, spec["cumulative_power"].values[0].round(6)
    (array([1., 0.]), np.float64(1.0))
    """
    stats = condition_statistics(recording, by, target=target, min_trials=2 if estimator == "unbiased" else 1)
    eigenvalues, power = _spectrum(_kernel(stats, estimator), target_matrix(stats.target), centred=True)
    cumulative = np.cumsum(power) / power.sum()
    n_trust = n_trustworthy_modes(stats)
    modes = np.arange(1, eigenvalues.size + 1)
    return xr.Dataset(
        {
            "eigenvalue": (MODE, eigenvalues),
            "target_power": (MODE, power),
            "cumulative_power": (MODE, cumulative),
            "trustworthy": (MODE, modes <= n_trust),
        },
        coords={MODE: modes},
        attrs={"n_trustworthy": n_trust, "estimator": estimator, "session_id": stats.session_id,
               "note": "only the top ~sqrt(N) eigenvectors of a subsampled population are reliable"},
    )


def spectral_summary(recording: xr.DataArray, target: str = "target", by: str = "stimulus", *,
                     n_modes: int = N_MODES, estimator: str = "unbiased", n_boot: int = 0, random_state=None,
                     level: float = 0.95, max_boot: int = 200) -> xr.Dataset:
    """``spectral_power`` (C at ``n_modes``) and ``powerlaw_exponent`` with neuron-bootstrap intervals.

    Bootstrap replicates re-diagonalise the resampled kernel inside the span of the top
    ``max(n_modes, n_trustworthy) + 10`` eigenvectors (Rayleigh–Ritz), and at most ``max_boot`` of the
    ``n_boot`` replicates are used (eigen-decompositions are the one cost that does not linearise).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> k = np.arange(1, 41)
    >>> rng = np.random.default_rng(0)
    >>> basis, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    >>> means = basis @ np.diag(k ** -1.0) @ rng.standard_normal((40, 4000))  # η_k ∝ k^-2
    >>> y = np.sign(basis[:, 0] + 1e-9)
    >>> ds = spectral_summary(make_recording(means, n_trials=2, target=y, rng=1))
    >>> round(float(ds["powerlaw_exponent"]), 0)
    2.0
    """
    stats = condition_statistics(recording, by, target=target, min_trials=2 if estimator == "unbiased" else 1)
    values, replicates, info = spectral_with_replicates(stats, n_modes=n_modes, estimator=estimator,
                                                        n_boot=n_boot, random_state=random_state,
                                                        max_boot=max_boot)
    parts = []
    for k, name in enumerate(("spectral_power", "powerlaw_exponent")):
        se, ci = bootstrap_interval(values[k], replicates[:, k], level) if replicates.size else (np.nan, (np.nan, np.nan))
        parts.append(estimate_dataset(name, values[k], se, ci, level=level))
    out = xr.merge(parts)
    out.attrs.update(info, estimator=estimator, session_id=stats.session_id)
    return out


def powerlaw_exponent(eigenvalues, n_modes: int | None = None) -> float:
    """α of η_k ∝ k^-α: least squares of log η on log k over the first ``n_modes`` positive eigenvalues.

    Examples
    --------
    >>> import numpy as np
    >>> round(powerlaw_exponent(np.arange(1, 30) ** -1.5), 6)
    1.5
    """
    eigenvalues = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]
    if n_modes is not None:
        eigenvalues = eigenvalues[:n_modes]
    modes = np.arange(1, eigenvalues.size + 1)
    keep = eigenvalues > 0
    if keep.sum() < 3:
        return float("nan")
    slope = np.polyfit(np.log(modes[keep]), np.log(eigenvalues[keep]), 1)[0]
    return float(-slope)


def powerlaw_participation(alpha, n_modes: int):
    """Participation ratio (Σ_k k^-α)² / Σ_k k^-2α of the power law η_k = k^-α over modes 1..``n_modes``.

    Decreasing in α (a steeper law is more concentrated), from ``n_modes`` at α = 0 towards 1; vectorised in
    ``alpha``.

    Examples
    --------
    >>> float(powerlaw_participation(0.0, 15))
    15.0
    >>> round(float(powerlaw_participation(1.0, 15)), 3)  # (H_15)² / Σ k^-2
    6.967
    """
    alpha = np.asarray(alpha, dtype=float)
    logk = np.log(np.arange(1, int(n_modes) + 1, dtype=float))
    terms = np.exp(-alpha[..., None] * logk)
    return np.sum(terms, axis=-1) ** 2 / np.sum(terms * terms, axis=-1)


def exponent_from_participation(participation, n_modes: int):
    """α in [0, :data:`ALPHA_MAX`] with :func:`powerlaw_participation` (α, ``n_modes``) = ``participation``.

    The inverse of a decreasing function: a ratio at or above ``n_modes`` (a flat spectrum) reads 0, one at or
    below the ratio of k^-ALPHA_MAX (one mode) reads ``ALPHA_MAX``; NaN stays NaN. Bisection to 1e-10,
    vectorised.

    Raises
    ------
    DataError
        ``n_modes`` below 2 (a single mode has no decay).

    Examples
    --------
    >>> import numpy as np
    >>> pr = powerlaw_participation(np.array([0.5, 1.0, 2.0]), 15)
    >>> exponent_from_participation(pr, 15).round(8)
    array([0.5, 1. , 2. ])
    >>> float(exponent_from_participation(15.0, 15)), float(exponent_from_participation(1.0, 15))
    (0.0, 10.0)
    """
    if int(n_modes) < 2:
        raise DataError(f"n_modes: expected at least 2 modes for a decay exponent, found {n_modes}")
    target = np.asarray(participation, dtype=float)
    lo = np.zeros(target.shape)
    hi = np.full(target.shape, ALPHA_MAX)
    for _ in range(60):  # 10 / 2^60: below rounding
        mid = 0.5 * (lo + hi)
        steeper = powerlaw_participation(mid, n_modes) > target  # the law at mid is flatter than the data
        lo, hi = np.where(steeper, mid, lo), np.where(steeper, hi, mid)
    alpha = 0.5 * (lo + hi)
    alpha = np.where(target >= n_modes, 0.0, np.where(target <= powerlaw_participation(ALPHA_MAX, n_modes),
                                                      ALPHA_MAX, alpha))
    return np.where(np.isnan(target), np.nan, alpha)


def predicted_learning_curve(recording_or_kernel, target="target", *, by: str = "stimulus",
                             n_train=(5, 10, 20, 40, 80), ridge: float = 0.0, noise: float = 0.0,
                             estimator: str = "unbiased") -> xr.DataArray:
    """Generalisation error E_g(P′) predicted from a kernel by the Canatar–Bordelon–Pehlevan theory.

    Parameters
    ----------
    recording_or_kernel : xarray.DataArray
        A recording (``target`` and ``by`` are trial coords) or a (P, P) kernel (array or DataArray), in
        which case ``target`` is the per-condition label array.
    n_train : sequence of float
        Training-set sizes P′.
    ridge, noise : float
        Ridge λ (units of η, the eigenvalues of Φ/P) and label-noise variance σ².

    Returns
    -------
    xarray.DataArray
        ``generalization_error`` over dim ``n_train`` (fraction of target variance, since Σ v_k² is
        normalised to 1). Negative eigenvalues of the noise-corrected kernel are clipped to 0.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, -1.0] * 4)
    >>> curve = predicted_learning_curve(np.outer(y, y) + 0.1 * np.eye(8), y, n_train=[1, 4, 16], ridge=0.01)
    >>> bool(np.all(np.diff(curve.values) < 0))
    True
    """
    from neurolearn.theory.kernel_regression import kernel_generalization_error

    if isinstance(recording_or_kernel, xr.DataArray) and "trial" in recording_or_kernel.dims:
        stats = condition_statistics(recording_or_kernel, by, target=target,
                                     min_trials=2 if estimator == "unbiased" else 1)
        kernel, labels = _kernel(stats, estimator), target_matrix(stats.target)
    else:
        kernel = np.asarray(recording_or_kernel, dtype=float)
        labels = target_matrix(np.asarray(target))
        if kernel.ndim != 2 or kernel.shape != (labels.shape[0], labels.shape[0]):
            raise DataError(f"kernel: expected shape ({labels.shape[0]}, {labels.shape[0]}), found {kernel.shape}")
    eigenvalues, power = _spectrum(kernel, labels)
    n_train = np.atleast_1d(np.asarray(n_train, dtype=float))
    error = kernel_generalization_error(np.clip(eigenvalues, 0.0, None), power / power.sum(), n_train,
                                        ridge=ridge, noise=noise)
    return xr.DataArray(np.asarray(error, dtype=float), dims=("n_train",), coords={"n_train": n_train},
                        name="generalization_error",
                        attrs={"ridge": ridge, "noise": noise, "estimator": estimator,
                               "theory": "Canatar, Bordelon & Pehlevan 2021 (neurolearn.theory.kernel_regression)"})


def n_trustworthy_modes(stats: ConditionStatistics) -> int:
    """min(P - 1, ⌊√N⌋): how many top eigenvectors of a subsampled (centred) kernel to trust."""
    return int(max(1, min(stats.n_conditions - 1, np.floor(np.sqrt(stats.n_neurons)))))


@with_shared_products
def spectral_with_replicates(stats: ConditionStatistics, *, n_modes=N_MODES, estimator="unbiased", n_boot=0,
                             random_state=None, weights=None, max_boot=200, target_required=True):
    """(spectral_power, powerlaw_exponent), replicates (B, 2) and info attrs (numpy core).

    ``spectral_power`` is a fraction of the target's power, in [0, 1] by construction (orthonormal
    eigenvectors; clipped there against rounding). ``powerlaw_exponent`` is the participation-matched exponent
    over the P - 1 contrast modes (module docstring): :func:`exponent_from_participation` of
    :func:`~neurolearn.stats.dimensionality.participation_with_replicates` and of its replicates (the first
    ``max_boot``). Where the participation ratio refuses (fewer than 4 conditions, its norm not resolved from
    trial noise, ...) the exponent is NaN with all its replicates and the reason in
    ``info["powerlaw_exponent_reason"]``. Replicates of each statistic are re-centred (median) on its estimate,
    so percentile intervals contain the estimate; those of ``spectral_power`` are then spread to its
    leave-one-neuron-out jackknife SE where that is larger (``info["spectral_power_jackknife_se"]``).

    ``powerlaw_exponent`` needs no target: with ``target_required=False`` a session without a task label (or
    with one class of it) gives ``spectral_power`` NaN with all its replicates, the reason in
    ``info["spectral_power_reason"]``, and the same ``powerlaw_exponent`` and replicates as with a label (the
    participation ratio does not depend on the target).

    Raises
    ------
    InsufficientDataError
        Fewer than 3 conditions; with ``target_required`` also no task label or one class.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import condition_statistics
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> rec = make_recording(rng.standard_normal((12, 200)), n_trials=2, rng=1)  # no target coord
    >>> values, _, info = spectral_with_replicates(condition_statistics(rec, "stimulus"), target_required=False)
    >>> bool(np.isnan(values[0])), bool(np.isfinite(values[1])), "no task label" in info["spectral_power_reason"]
    (True, True, True)
    """
    reason = ""
    if stats.target is None:
        reason = f"session {stats.session_id!r}: no task label (spectral_power needs a target)"
    elif np.unique(np.asarray(stats.target)).size < 2:
        reason = f"session {stats.session_id!r}: one class of the target; spectral_power needs two"
    if reason and target_required:
        raise InsufficientDataError(reason)
    if stats.n_conditions < 3:
        raise InsufficientDataError(f"session {stats.session_id!r}: fewer than 3 conditions (found "
                                    f"{stats.n_conditions})")
    if reason:  # a label-free stand-in: spectral_power is NaN below, the eigen-decomposition is the same
        labels = np.zeros((stats.n_conditions, 1))
    else:
        labels = target_matrix(stats.target, name=f"session {stats.session_id!r} target")
    n_cond = stats.n_conditions
    k_power = int(min(n_modes, n_cond - 1))
    n_trust = n_trustworthy_modes(stats)
    if estimator not in ("unbiased", "plugin"):
        raise DataError(f"estimator: expected 'unbiased' or 'plugin', found {estimator!r}")
    # the centred kernel over the P - 1 contrasts (shared with the task difficulty): a neuron's baseline rate is
    # no mode of it (adversary S3-10: the uncentred exponent rose 2.9 -> 3.6 with the baselines of one population)
    eigenvalues, vectors = kernel_eigh(stats, estimator == "unbiased", centred=True)
    eigenvalues, vectors = eigenvalues[::-1] / n_cond, vectors[:, ::-1]
    labels = labels - labels.mean(axis=0, keepdims=True)
    label_norm = float(np.sum(labels * labels))
    projections = vectors.T @ labels
    power = np.sum(projections**2, axis=1)
    if weights is None and n_boot:
        weights = neuron_bootstrap_weights(stats.neurons, n_boot, random_state)
    exponent, exponent_replicates, exponent_reason = _participation_exponent(stats, estimator, weights)
    values = np.array([np.nan if reason else min(1.0, max(0.0, power[:k_power].sum() / label_norm)), exponent])
    info = {"spectral_power_k": k_power, "n_trustworthy": n_trust, "powerlaw_modes": n_cond - 1,
            "powerlaw_fit": (f"participation-matched power law over the {n_cond - 1} contrast modes "
                             "(U-statistic moments over distinct neurons)")}
    if reason:
        info["spectral_power_reason"] = reason
    if exponent_reason:
        info["powerlaw_exponent_reason"] = exponent_reason
    if weights is None:
        return values, np.empty((0, 2)), info
    given = weights
    weights = np.asarray(weights, dtype=float)[:max_boot]
    # Rayleigh–Ritz: resampled kernels restricted to the span of the leading eigenvectors
    n_ritz = int(min(n_cond - 1, max(k_power, n_trust) + 10))  # contrast modes only (orthogonal to 1)
    basis = vectors[:, :n_ritz]
    projected = basis.T @ stats.means  # (n_ritz, N)
    label_proj = basis.T @ labels
    scale = stats.n_neurons * n_cond
    # every replicate's Rayleigh-Ritz matrix Bᵀ(Σ_i w_i K_i)B at once: the (B, N) weights times the per-neuron
    # outer products of the projected means (upper triangle), minus the weighted noise term likewise
    upper = np.triu_indices(n_ritz)
    small = _weighted_outer(projected, weights, upper)
    if estimator == "unbiased":
        # Σ_i w_i sem2_i per condition (shared with the participation ratio's replicates)
        small -= _weighted_outer(basis.T, weighted_noise(stats, given)[:max_boot], upper)
    matrices = np.empty((weights.shape[0], n_ritz, n_ritz))
    matrices[:, upper[0], upper[1]] = small / scale
    matrices[:, upper[1], upper[0]] = small / scale
    eta, u = np.linalg.eigh(matrices)
    eta, u = eta[:, ::-1], u[:, :, ::-1]
    rep_power = np.sum(np.matmul(np.swapaxes(u, 1, 2), label_proj) ** 2, axis=2)
    replicates = np.empty((weights.shape[0], 2))
    replicates[:, 0] = np.nan if reason else np.clip(rep_power[:, :k_power].sum(axis=1) / label_norm, 0.0, 1.0)
    replicates[:, 1] = np.nan if exponent_replicates is None else exponent_replicates[:max_boot]
    info["spectral_bootstrap"] = (f"Rayleigh-Ritz in top {n_ritz} modes, {weights.shape[0]} replicates, "
                                  "re-centred on the estimate")
    # the eigen-decomposition is nonlinear: replicates are skewed around the estimate; shift their median
    # onto it so every percentile interval contains it (a NaN exponent keeps NaN replicates)
    replicates = np.where(np.isfinite(values)[None], recentre_replicates(values, replicates, axis=0), np.nan)
    if not reason:
        # the Poisson bootstrap's spread of C(k) fell short of its sampling SD on log-normal-rate sessions (z SD
        # 1.4 at 16 conditions x 100 cells): raise it to the leave-one-neuron-out jackknife SE where that is
        # larger (conservative in expectation, Efron-Stein), as the participation ratio does; never narrowed
        jackknife_se = _power_jackknife_se(stats, vectors, labels, label_norm, k_power, estimator == "unbiased")
        spread = np.std(replicates[:, 0], ddof=1) if replicates.shape[0] > 1 else np.nan
        if np.isfinite(jackknife_se) and np.isfinite(spread) and jackknife_se > spread > 0:
            replicates[:, 0] = np.clip(values[0] + jackknife_se / spread * (replicates[:, 0] - values[0]), 0.0, 1.0)
        info["spectral_power_jackknife_se"] = float(jackknife_se)
    return values, replicates, info


def _power_jackknife_se(stats, vectors, labels, label_norm, k_power, unbiased, block=256):
    """Leave-one-neuron-out jackknife SE of C(k): each neuron's (trial-noise-corrected) kernel removed from the
    total in the basis of the estimate's P - 1 contrast eigenvectors, every left-out kernel re-diagonalised
    exactly (batched over blocks of ``block`` neurons)."""
    n = stats.n_neurons
    if n < 3:
        return float("nan")
    projected = vectors.T @ stats.means  # (m, N)
    label_proj = vectors.T @ labels
    total = projected @ projected.T
    if unbiased:
        total = total - (vectors * stats.sem2.sum(axis=1)[:, None]).T @ vectors
    loo = np.empty(n)
    for start in range(0, n, block):
        x = projected[:, start:start + block]
        own = np.einsum("ab,cb->bac", x, x)
        if unbiased:
            own -= np.einsum("pa,pb,pc->bac", vectors, stats.sem2[:, start:start + block], vectors, optimize=True)
        _, u = np.linalg.eigh(total[None] - own)
        top = np.matmul(np.swapaxes(u[:, :, ::-1][:, :, :k_power], 1, 2), label_proj)
        loo[start:start + x.shape[1]] = np.sum(top**2, axis=(1, 2)) / label_norm
    return float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


def _participation_exponent(stats, estimator, weights):
    """(exponent, replicates or None, reason): :func:`exponent_from_participation` over the P - 1 contrast modes
    of the participation ratio's estimate and replicates; NaN with the ratio's refusal as the reason."""
    try:
        value, replicates = participation_with_replicates(stats, unbiased=estimator == "unbiased",
                                                          weights=weights)
    except InsufficientDataError as error:
        return np.nan, None, f"session {stats.session_id!r}: participation ratio not resolved ({error})"
    n_modes = stats.n_conditions - 1
    alpha = float(exponent_from_participation(value, n_modes))
    return alpha, None if weights is None else exponent_from_participation(replicates, n_modes), ""


def _powerlaw_rows(eigenvalues, n_modes):
    """:func:`powerlaw_exponent` of every row of descending eigenvalues at once (the same least squares,
    closed form: slope = Σ (x - x̄)(y - ȳ) / Σ (x - x̄)² over each row's positive eigenvalues)."""
    values = np.asarray(eigenvalues, dtype=float)[:, :n_modes]
    keep = values > 0
    count = keep.sum(axis=1)
    x = np.log(np.arange(1, values.shape[1] + 1, dtype=float))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log(np.where(keep, values, 1.0))
        x_mean = np.sum(keep * x, axis=1, keepdims=True) / count[:, None]
        y_mean = np.sum(keep * y, axis=1, keepdims=True) / count[:, None]
        dx = np.where(keep, x - x_mean, 0.0)
        slope = np.sum(dx * (y - y_mean), axis=1) / np.sum(dx * dx, axis=1)
    return np.where(count >= 3, -slope, np.nan)


#: bytes of one block of per-neuron outer products in the batched bootstrap product
_BLOCK_BYTES = 64 * 2**20


def _weighted_outer(columns, weights, upper):
    """Upper triangles of Σ_i w_bi x_i x_iᵀ for every row w_b of ``weights`` (x_i the columns of ``columns``;
    ``upper`` is ``np.triu_indices(len(columns))``, the order of the result)."""
    return weighted_outer_sums(columns, weights, _BLOCK_BYTES)


def _kernel(stats, estimator):
    if estimator == "unbiased":
        return unbiased_kernel_matrix(stats)
    if estimator == "plugin":
        return gram(stats) / stats.n_neurons
    raise DataError(f"estimator: expected 'unbiased' or 'plugin', found {estimator!r}")


def _eigh_desc(matrix):
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return eigenvalues[::-1], vectors[:, ::-1]


def _spectrum(kernel, labels, centred: bool = False):
    """(η, v²) of Φ/P; ``centred``: of the centred kernel and target over the P - 1 contrasts."""
    n_cond = kernel.shape[0]
    if centred:
        basis = contrast_basis(n_cond)
        kernel, labels = basis.T @ kernel @ basis, basis.T @ labels
    eigenvalues, vectors = _eigh_desc(kernel / n_cond)
    power = np.sum((vectors.T @ labels) ** 2, axis=1) / n_cond
    return eigenvalues, power
