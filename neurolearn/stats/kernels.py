"""Representation kernels of one session and the per-neuron sufficient statistics behind them.

Every kernel statistic in :mod:`neurolearn.stats` is built from two ``(condition, neuron)`` matrices computed
once per session (chunk-wise, so dask-backed recordings stream):

* ``means`` M: the trial average of each neuron in each condition;
* ``sem2`` V: the squared standard error of each of those means, ``s^2 / n`` (within-condition variance over
  the number of trials).

Writing neuron i's column as m_i and its noise term as D_i = diag(v_i), the **per-neuron unbiased kernel**
K_i = m_i m_iᵀ - D_i has expectation r_i r_iᵀ (r_i the noiseless condition means) under independent trial noise:
off-diagonal entries multiply means of different, independent trials, and the diagonal subtracts the noise
variance of a squared mean. This is the average of the cross-validated split kernels R_A R_Bᵀ over all pairs of
distinct trials, so it is the split estimator with the smallest variance. The kernel of the population is
Φ = E_i[r_i r_iᵀ]; its estimate is Φ̂ = mean_i K_i (unbiased entry-wise for trial noise *and* neuron sampling).

Quadratic functionals of Φ (‖HΦH‖², ⟨Φ_t, Φ_s⟩) are estimated by U-statistics over *distinct* neurons,
Σ_{i≠j} ⟨K_i, K_j⟩ / N(N-1), which are unbiased for the population (infinite-neuron) value; the plug-in
‖R Rᵀ/N‖² is not (it adds each neuron's own trial noise and its own squared tuning).

Ratios of these unbiased pieces (alignment, CKA, participation ratio) keep an O(1/N) bias, which
:func:`jackknife_bias` removes exactly: a neuron's leave-one-out value of a mean or U-statistic follows from its
influence term in O(1), so the whole jackknife costs O(N).

Bootstraps resample neurons. Each replicate of a linear or U-statistic quantity is computed from its
per-neuron influence (first-order expansion in the resampling weights), so a replicate costs one dot product
over neurons instead of a new kernel; ratios and square roots are then applied exactly to the replicated
numerators and denominators. Because every neuron carries its own trial noise, resampling neurons propagates
both neuron-sampling and trial-noise variability (assuming trial noise independent across neurons).
Resampling weights are Poisson(1) per neuron *id*, so tracked neurons share their weight across sessions.
Ratios divide by unbiased estimates that can be 0 up to noise, or negative, when a recording has no
condition structure beyond trial noise: :func:`require_resolved` refuses them (InsufficientDataError, the
reason in the message) unless the denominator exceeds :data:`DENOMINATOR_Z` influence SEs
(:func:`influence_se`), and :data:`RANGE_Z` bounds how far outside its range a ratio may be reported.
:func:`recentre_replicates` and :func:`normal_score_replicates` make every interval contain its estimate.
Trials are not resampled separately. That would answer a different question (the kernel of exactly the
recorded neurons, no population to generalise to), whose unbiased ‖Φ‖² keeps the i = j neuron terms and needs
a per-neuron fourth-moment noise correction. A cheap design for it, not implemented: first-order trial
influences u_k = Σ_i [∂θ/∂M_{μ(k)i} (r_ki - m_μi)/n_μ + ∂θ/∂V_{μ(k)i} (r_ki - m_μi)²/(n_μ(n_μ-1))] from one pass
over the trials, and replicates θ + (c - 1)·u with multinomial counts c within each condition (O(B x trials)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr
from scipy.stats import norm

from neurolearn.data import NEURON, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError, InsufficientDataError

__all__ = [
    "ConditionStatistics",
    "condition_statistics",
    "plugin_kernel",
    "unbiased_kernel",
    "split_kernel",
    "condition_kernel",
    "neuron_bootstrap_weights",
    "target_matrix",
    "influence_se",
    "require_resolved",
    "require_neurons",
    "recentre_replicates",
    "normal_score_replicates",
    "RANGE_Z",
    "DENOMINATOR_Z",
]

#: a ratio's range check: an estimate outside its estimand's range by more than this many SEs is refused.
#: 3, not 2: where the truth sits on the boundary (an unchanged code has overlap 1) 2.3 % of honest
#: estimates lie more than 2 SE beyond it, 0.13 % more than 3 SE.
RANGE_Z = 3.0
#: a denominator is "resolved from noise" when its estimate exceeds this many influence SEs (influence_se).
#: For a U-statistic the influence SE overstates the SE under "no structure" by about √2, so 1 influence SE
#: is about 1.4 null SEs: 92-95 % of pure-noise sessions are refused (measured, Gaussian and Poisson), and
#: the range check catches the rest. 2 influence SEs would also refuse most realistic spiking sessions,
#: whose kernel norm is carried by a few high-rate neurons (its SE is then of the order of the value
#: itself) although their alignment is estimated with correct coverage.
DENOMINATOR_Z = 1.0
#: minimum neurons of the unbiased ratios: a U-statistic over pairs needs 2, its leave-one-out jackknife 3
MIN_NEURONS = 3

CONDITION, CONDITION_OTHER = "condition", "condition_other"


@dataclass(frozen=True)
class ConditionStatistics:
    """Sufficient statistics of one session for every kernel statistic.

    Attributes
    ----------
    means : ndarray, shape (P, N)
        Trial-averaged response of each neuron in each condition.
    sem2 : ndarray, shape (P, N)
        Squared standard error of each mean (within-condition variance / trials); NaN with one trial.
    n_trials : ndarray of int, shape (P,)
    conditions : ndarray, shape (P,)
        Sorted values of the ``by`` coord.
    neurons : ndarray, shape (N,)
        Neuron ids (equal ids across sessions = tracked cells).
    target : ndarray or None, shape (P,)
        The per-condition value of the ``target`` coord (constant within a condition).
    session_id : str
    """

    means: np.ndarray
    sem2: np.ndarray
    n_trials: np.ndarray
    conditions: np.ndarray
    neurons: np.ndarray
    target: np.ndarray | None
    session_id: str

    @property
    def n_conditions(self) -> int:
        return self.means.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.means.shape[1]

    def select_conditions(self, conditions) -> "ConditionStatistics":
        """Restrict to the given condition values (in that order)."""
        index = {value: k for k, value in enumerate(self.conditions.tolist())}
        missing = [c for c in np.asarray(conditions).tolist() if c not in index]
        if missing:
            raise DataError(f"session {self.session_id!r}: conditions {missing} not recorded")
        rows = np.array([index[c] for c in np.asarray(conditions).tolist()], dtype=int)
        return replace(
            self,
            means=self.means[rows],
            sem2=self.sem2[rows],
            n_trials=self.n_trials[rows],
            conditions=self.conditions[rows],
            target=None if self.target is None else self.target[rows],
        )

    def select_neurons(self, neuron_ids) -> "ConditionStatistics":
        """Restrict to the given neuron ids (in that order)."""
        index = {value: k for k, value in enumerate(self.neurons.tolist())}
        cols = np.array([index[i] for i in np.asarray(neuron_ids).tolist()], dtype=int)
        return replace(self, means=self.means[:, cols], sem2=self.sem2[:, cols], neurons=self.neurons[cols])


def condition_statistics(
    recording: xr.DataArray,
    by: str = "stimulus",
    *,
    target: str | None = None,
    min_trials: int = 2,
) -> ConditionStatistics:
    """Condition means and their squared standard errors, computed once per session.

    Sums over trials are written as a product with a (condition x trial) indicator matrix, so a dask-backed
    recording is reduced chunk by chunk (a trial dim split over chunks gives the exact answer) and only the
    small ``(P, N)`` results are brought into memory. Time-resolved recordings are averaged over ``time``.

    Parameters
    ----------
    recording : xarray.DataArray
        One session, dims ``("trial", "neuron"[, "time"])``.
    by : str
        Trial coord defining conditions.
    target : str, optional
        Trial coord holding the task label; must be constant within each condition.
    min_trials : int
        Minimum trials per condition. The unbiased estimators need 2 (a noise variance per condition).

    Returns
    -------
    ConditionStatistics

    Raises
    ------
    DataError
        Missing ``by``/``target`` coord (the message lists the available trial coords), NaN/inf responses,
        conditions with fewer than ``min_trials`` trials, a target that varies within a condition.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[1.0, 2.0], [3.0, 2.0], [5.0, 0.0], [7.0, 0.0]], dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1])})
    >>> stats = condition_statistics(rec, "stimulus")
    >>> stats.means.tolist(), stats.sem2.tolist()
    ([[2.0, 2.0], [6.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    """
    session_id = str(recording.attrs.get("session_id", recording.name or "recording"))
    validate_recording(recording, name=f"session {session_id!r}")
    trial_coords = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
    for role, coord in (("by", by), ("target", target)):
        if coord is not None and coord not in trial_coords:
            raise DataError(
                f"session {session_id!r}: expected a trial coord {coord!r} ({role}=), "
                f"available trial coords: {trial_coords}"
            )
    if TIME in recording.dims:
        recording = recording.mean(TIME)
    labels = np.asarray(recording.coords[by].values)
    conditions, codes = np.unique(labels, return_inverse=True)
    n_trials = np.bincount(codes, minlength=conditions.size)
    too_few = conditions[n_trials < min_trials]
    if too_few.size:
        raise DataError(
            f"session {session_id!r}: expected at least {min_trials} trials in every {by!r} condition "
            f"(needed for trial-split noise correction), found fewer in conditions {too_few.tolist()[:10]} "
            f"(counts {n_trials[n_trials < min_trials].tolist()[:10]})"
        )
    indicator = np.zeros((conditions.size, codes.size))
    indicator[codes, np.arange(codes.size)] = 1.0
    data = recording.transpose(TRIAL, NEURON).data
    sums, sums_sq, n_bad = _indicator_sums(indicator, data)
    if n_bad:
        raise DataError(
            f"session {session_id!r}: expected finite responses, found {n_bad} NaN/inf values; "
            "drop or impute them before computing statistics"
        )
    counts = n_trials[:, None].astype(float)
    means = sums / counts
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.clip(sums_sq - counts * means**2, 0.0, None) / (counts - 1.0)
        sem2 = np.where(counts > 1, variance / counts, np.nan)
    target_values = None
    if target is not None:
        target_values = _per_condition(np.asarray(recording.coords[target].values), codes, conditions, session_id, target)
    return ConditionStatistics(
        means=means,
        sem2=sem2,
        n_trials=n_trials,
        conditions=conditions,
        neurons=np.asarray(recording.coords[NEURON].values) if NEURON in recording.coords else np.arange(means.shape[1]),
        target=target_values,
        session_id=session_id,
    )


def plugin_kernel(recording: xr.DataArray, by: str = "stimulus") -> xr.DataArray:
    """Plug-in kernel Φ = R Rᵀ / N of the condition means.

    Bias: trial noise inflates the diagonal by the mean squared standard error of the condition means and
    ‖Φ‖ with it; use :func:`unbiased_kernel` or :func:`split_kernel` for an entry-wise unbiased kernel.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 2.0]], dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1])})
    >>> plugin_kernel(rec).values.tolist()
    [[0.5, 0.0], [0.0, 2.0]]
    """
    stats = condition_statistics(recording, by, min_trials=1)
    return _kernel_array(stats.means @ stats.means.T / stats.n_neurons, stats, "plugin")


def unbiased_kernel(recording: xr.DataArray, by: str = "stimulus") -> xr.DataArray:
    """Trial-noise-unbiased kernel: mean over neurons of m_i m_iᵀ - diag(sem2_i).

    Equals the average of the cross-validated kernels R_A R_Bᵀ/N over all pairs of distinct trials, so it is
    unbiased entry-wise under trial noise independent across trials (diagonal included) and has lower variance
    than a single split. It can have small negative eigenvalues. Needs >= 2 trials per condition.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[1.0], [3.0], [0.0], [0.0]], dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1])})
    >>> unbiased_kernel(rec).values.tolist()  # 2*2 - 1/2 * (2/2): the pair of trials gives 1*3
    [[3.0, 0.0], [0.0, 0.0]]
    """
    stats = condition_statistics(recording, by)
    return _kernel_array(unbiased_kernel_matrix(stats), stats, "unbiased")


def split_kernel(recording: xr.DataArray, by: str = "stimulus", *, random_state=None) -> xr.DataArray:
    """Cross-validated kernel from one random split of each condition's trials into halves A and B.

    Φ^{AB} = (R_A R_Bᵀ + R_B R_Aᵀ) / 2N: each entry multiplies means of disjoint trials, so it is unbiased
    entry-wise under trial noise; symmetrised. Needs >= 2 trials per condition. Uses
    :func:`neurolearn.data.trial_splits`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[1.0], [3.0], [0.0], [0.0]], dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1])})
    >>> split_kernel(rec, random_state=0).values.tolist()
    [[3.0, 0.0], [0.0, 0.0]]
    """
    from neurolearn.data import trial_splits

    full = condition_statistics(recording, by)  # validates coords and trial counts
    split = trial_splits(recording, by, n_splits=2, random_state=random_state)
    half_a = condition_statistics(recording.isel({TRIAL: split == 0}), by, min_trials=1).select_conditions(full.conditions)
    half_b = condition_statistics(recording.isel({TRIAL: split == 1}), by, min_trials=1).select_conditions(full.conditions)
    cross = half_a.means @ half_b.means.T / full.n_neurons
    return _kernel_array((cross + cross.T) / 2.0, full, "split")


def condition_kernel(recording: xr.DataArray, by: str = "stimulus", *, estimator: str = "unbiased",
                     random_state=None) -> xr.DataArray:
    """The kernel of a session with the chosen ``estimator``: ``"unbiased"``, ``"split"`` or ``"plugin"``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray([[1.0], [3.0], [0.0], [0.0]], dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1])})
    >>> condition_kernel(rec, estimator="plugin").values.tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    if estimator == "unbiased":
        return unbiased_kernel(recording, by)
    if estimator == "split":
        return split_kernel(recording, by, random_state=random_state)
    if estimator == "plugin":
        return plugin_kernel(recording, by)
    raise DataError(f"estimator: expected 'unbiased', 'split' or 'plugin', found {estimator!r}")


def neuron_bootstrap_weights(neuron_ids, n_boot: int, random_state=None, *, universe=None) -> np.ndarray:
    """Poisson(1) resampling weights per neuron id, shape ``(n_boot, len(neuron_ids))``.

    Weights are drawn for every id of ``universe`` (default: the ids themselves, sorted) and looked up, so
    sessions that share ids (tracked neurons) get the same weight for the same cell when given the same
    ``universe`` and ``random_state``.

    Examples
    --------
    >>> w = neuron_bootstrap_weights([3, 1, 2], 1000, random_state=0)
    >>> w.shape, round(float(w.mean()), 1)
    ((1000, 3), 1.0)
    """
    ids = np.asarray(neuron_ids)
    universe = np.unique(ids) if universe is None else np.asarray(universe)
    rng = np.random.default_rng(random_state)
    all_weights = rng.poisson(1.0, size=(int(n_boot), universe.size)).astype(np.uint8)
    position = np.searchsorted(universe, ids)
    if np.any(position >= universe.size) or np.any(universe[np.minimum(position, universe.size - 1)] != ids):
        raise DataError("neuron_bootstrap_weights: some neuron ids are not in the given universe")
    return all_weights[:, position]


def target_matrix(values, *, name: str = "target") -> np.ndarray:
    """Encode per-condition labels as a task matrix Y (P x C): ±1 column for two classes, one-hot for more.

    Numeric non-integer targets with more than two values are treated as a regression target (one column).

    Raises
    ------
    DataError
        If the target has a single value (no task kernel) or non-finite values.

    Examples
    --------
    >>> target_matrix(["a", "b", "a"]).ravel().tolist()
    [1.0, -1.0, 1.0]
    >>> target_matrix([0, 1, 2]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    values = np.asarray(values)
    if values.ndim == 2:
        return values.astype(float)
    classes = np.unique(values)
    if classes.size < 2:
        raise DataError(f"{name}: expected at least two distinct values across conditions, found {classes.tolist()}")
    if np.issubdtype(values.dtype, np.number) and not np.all(np.isfinite(values.astype(float))):
        raise DataError(f"{name}: expected finite values, found NaN/inf")
    if classes.size == 2:
        return np.where(values == classes[0], 1.0, -1.0)[:, None]
    if np.issubdtype(values.dtype, np.floating) and not np.allclose(values, np.round(values)):
        return values.astype(float)[:, None]
    return (values[:, None] == classes[None, :]).astype(float)


# ----------------------------------------------------------------------------------------------------------
# numpy core shared by alignment, similarity, spectral and dimensionality
# ----------------------------------------------------------------------------------------------------------


def unbiased_kernel_matrix(stats: ConditionStatistics) -> np.ndarray:
    """Φ̂ = (M Mᵀ - diag(Σ_i sem2_i)) / N as a plain array."""
    kernel = stats.means @ stats.means.T
    kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons


def centre_rows(matrix: np.ndarray, centred: bool) -> np.ndarray:
    """H M (subtract the mean over conditions) if ``centred``, else M."""
    return matrix - matrix.mean(axis=0, keepdims=True) if centred else matrix


def centre_kernel(kernel: np.ndarray, left: bool, right: bool) -> np.ndarray:
    """L Φ R with L, R either the centring matrix H or the identity."""
    out = kernel
    if left:
        out = out - out.mean(axis=0, keepdims=True)
    if right:
        out = out - out.mean(axis=1, keepdims=True)
    return out


def per_neuron_linear(means: np.ndarray, sem2: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """⟨K_i, T⟩ = m_iᵀ T m_i - Σ_μ T_μμ sem2_μi for every neuron i (vector of length N)."""
    return np.einsum("pn,pn->n", matrix @ means, means) - np.diag(matrix) @ sem2


def per_neuron_pair_trace(m1, v1, m2, v2, left: bool, right: bool) -> np.ndarray:
    """tr(K1_i L K2_i R) for paired columns i of two sets of per-neuron kernels K = m mᵀ - diag(v)."""
    n_cond = m1.shape[0]
    l1, l2 = centre_rows(m1, left), centre_rows(m2, left)
    r1, r2 = centre_rows(m1, right), centre_rows(m2, right)
    value = np.einsum("pn,pn->n", l1, l2) * np.einsum("pn,pn->n", r1, r2)
    value -= np.einsum("pn,pn,pn->n", l1, r1, v2)
    value -= np.einsum("pn,pn,pn->n", r2, l2, v1)
    # vᵀ (L∘R) v with H∘H = (1 - 2/P) I + 11ᵀ/P² and H∘I = (1 - 1/P) I
    if left and right:
        value += (1 - 2 / n_cond) * np.einsum("pn,pn->n", v1, v2) + v1.sum(0) * v2.sum(0) / n_cond**2
    elif left or right:
        value += (1 - 1 / n_cond) * np.einsum("pn,pn->n", v1, v2)
    else:
        value += np.einsum("pn,pn->n", v1, v2)
    return value


def linear_estimate(stats: ConditionStatistics, matrix: np.ndarray, *, unbiased: bool = True):
    """Estimate ⟨Φ, T⟩ and its per-neuron influence (replicate = value + δw · influence)."""
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    terms = per_neuron_linear(stats.means, sem2, matrix)
    value = float(terms.mean())
    return value, (terms - value) / stats.n_neurons


def self_inner_estimate(stats: ConditionStatistics, left: bool, right: bool, *, unbiased: bool = True):
    """Estimate ‖LΦR‖²_F and its per-neuron influence.

    ``unbiased=True``: U-statistic over distinct neurons with trial-noise-corrected per-neuron kernels,
    unbiased for the population (infinite-neuron, noiseless) value. ``unbiased=False``: plug-in ‖L R Rᵀ R/N‖².
    """
    n = stats.n_neurons
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    kernel = stats.means @ stats.means.T
    kernel[np.diag_indices_from(kernel)] -= sem2.sum(axis=1)
    kernel /= n
    centred = centre_kernel(kernel, left, right)
    total = float(np.sum(centred * centred))  # ‖mean_i L K_i R‖²
    row = per_neuron_linear(stats.means, sem2, centred.T)  # ⟨L K_i R, L Φ̂ R⟩ = tr(K_i L Φ̂ R)
    if not unbiased:
        return total, 2.0 * (row - total) / n
    if n < 2:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: too few neurons for an unbiased ratio (found {n}, "
            f"need {MIN_NEURONS})")
    own = per_neuron_pair_trace(stats.means, sem2, stats.means, sem2, left, right)
    value = (n * n * total - own.sum()) / (n * (n - 1))
    pair_sums = n * row - own  # Σ_{j≠i} tr(K_i L K_j R)
    return float(value), 2.0 * (pair_sums - (n - 1) * value) / (n * (n - 1))


def _kernel_array(kernel: np.ndarray, stats: ConditionStatistics, estimator: str) -> xr.DataArray:
    return xr.DataArray(
        kernel,
        dims=(CONDITION, CONDITION_OTHER),
        coords={CONDITION: stats.conditions, CONDITION_OTHER: stats.conditions.copy()},
        name="kernel",
        attrs={"estimator": estimator, "session_id": stats.session_id, "n_neurons": stats.n_neurons},
    )


def _indicator_sums(indicator: np.ndarray, data):
    """Σ_trials and Σ_trials² per condition (and the count of non-finite values) in one pass."""
    if getattr(data, "__dask_graph__", None) is not None:
        import dask
        import dask.array as da

        data = data.astype(float)
        sums, sums_sq, n_bad = dask.compute(
            da.dot(indicator, data), da.dot(indicator, data * data), (~da.isfinite(data)).sum()
        )
        return np.asarray(sums), np.asarray(sums_sq), int(n_bad)
    data = np.asarray(data, dtype=float)
    n_bad = int(data.size - np.isfinite(data).sum())
    if n_bad:
        return None, None, n_bad
    # in memory, sorting trials by condition and summing runs is O(trials x neurons), not x conditions
    codes = np.argmax(indicator, axis=0)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(indicator.shape[0]))
    ordered = data[order]
    return np.add.reduceat(ordered, starts, axis=0), np.add.reduceat(ordered * ordered, starts, axis=0), 0


def _per_condition(values, codes, conditions, session_id, target):
    out = []
    for k, condition in enumerate(conditions.tolist()):
        unique = np.unique(values[codes == k])
        if unique.size != 1:
            raise DataError(
                f"session {session_id!r}: expected a single {target!r} value per condition, "
                f"found {unique.tolist()[:5]} in condition {condition!r}"
            )
        out.append(unique[0])
    return np.asarray(out)


def session_bootstrap_weights(neuron_id_lists, n_boot: int, random_state=None) -> list[np.ndarray | None]:
    """Poisson(1) neuron weights for several sessions from one draw, shared by neuron id (tracked cells).

    Returns one ``(n_boot, N_s)`` uint8 array per session (``None`` each when ``n_boot`` is 0). Equivalent to
    :func:`neuron_bootstrap_weights` with the union of all ids as ``universe``, without redrawing per session.
    """
    if not n_boot:
        return [None] * len(neuron_id_lists)
    universe = np.unique(np.concatenate([np.asarray(ids) for ids in neuron_id_lists]))
    rng = np.random.default_rng(random_state)
    all_weights = rng.poisson(1.0, size=(int(n_boot), universe.size)).astype(np.uint8)
    return [all_weights[:, np.searchsorted(universe, np.asarray(ids))] for ids in neuron_id_lists]


def replicate(value, weights, influence):
    """Linearised bootstrap replicates value + Σ_i (w_i - 1) influence_i for every row of ``weights``."""
    influence = np.asarray(influence, dtype=float)
    return value + weights @ influence.T - influence.sum(axis=-1)


def common_conditions(stats_list) -> np.ndarray:
    """Condition values recorded in every session (sorted); DataError naming sessions if fewer than 2."""
    common = stats_list[0].conditions
    for stats in stats_list[1:]:
        common = np.intersect1d(common, stats.conditions)
    if common.size < 2:
        raise DataError(
            "expected at least 2 conditions shared by all sessions "
            f"{[s.session_id for s in stats_list][:10]}, found {common.tolist()}"
        )
    return common


def leave_one_out(value, influence, order: int):
    """Exact leave-one-neuron-out values of a mean (``order=1``) or a U-statistic over neuron pairs
    (``order=2``) from its per-neuron influence: value - n/(n - order) * influence_i."""
    influence = np.asarray(influence, dtype=float)
    n = influence.shape[-1]
    return value - n / (n - order) * influence


def jackknife_bias(function, values, leave_one_out_by_sample) -> float:
    """Jackknife estimate of the O(1/n) bias of ``function(*values)`` (one term per independent sample).

    ``leave_one_out_by_sample`` is a list with, per sample of neurons, a dict {argument index: vector of
    leave-one-out values of that argument}; the other arguments stay at their full-sample values. For a
    smooth function of means and U-statistics the corrected estimate ``function(*values) - bias`` is unbiased
    to O(1/n²).
    """
    theta = function(*values)
    bias = 0.0
    for loo in leave_one_out_by_sample:
        n = len(next(iter(loo.values())))
        args = [loo.get(k, values[k]) for k in range(len(values))]
        with np.errstate(invalid="ignore", divide="ignore"):
            thetas = np.asarray(function(*args), dtype=float)
        finite = np.isfinite(thetas)
        if finite.sum() < 2:
            return float("nan")
        bias += (n - 1) * (thetas[finite].mean() - theta)
    return float(bias)


def influence_se(influence) -> float:
    """Standard error sqrt(Σ_i influence_i²) of a statistic from its per-neuron influence terms.

    This is the SD of the linearised Poisson-weight bootstrap (and, up to n/(n - order), of the jackknife).
    For a U-statistic over neuron pairs the row sums behind each influence carry the pair noise too, so it
    includes the second-order (degenerate) variance term: under "no structure" (population value 0) it
    overstates the SE by about √2, which makes :func:`require_resolved` conservative exactly there.

    Examples
    --------
    >>> round(influence_se([0.3, -0.4]), 6)
    0.5
    """
    influence = np.asarray(influence, dtype=float)
    return float(np.sqrt(np.sum(influence * influence)))


def require_resolved(value: float, se: float, what: str, session_id, *, z: float = DENOMINATOR_Z) -> None:
    """Raise :class:`InsufficientDataError` unless ``value > z * se`` (a denominator resolved from noise).

    Ratios such as alignment or CKA divide by an unbiased estimate of a squared norm. When the population
    has no condition structure beyond trial noise (or too few neurons resolve it) that estimate is 0 up to
    noise, can be negative, and the ratio of two noise terms reads anything (22.4 for an alignment bounded
    by 1). Requiring the denominator to exceed ``z`` of its (influence) standard errors refuses those cases;
    see :data:`DENOMINATOR_Z` for the choice of ``z``.

    Examples
    --------
    >>> require_resolved(3.0, 1.0, "squared kernel norm", "day0")
    >>> require_resolved(0.5, 1.0, "norm", "day0")
    Traceback (most recent call last):
    ...
    neurolearn.errors.InsufficientDataError: session 'day0': denominator not resolved from noise: norm 0.5 is not above 1 SE (SE 1)
    """
    if not (np.isfinite(value) and np.isfinite(se) and value > z * se):
        raise InsufficientDataError(
            f"session {str(session_id)!r}: denominator not resolved from noise: {what} {value:.3g} is not "
            f"above {z:g} SE (SE {se:.3g})"
        )


def require_neurons(stats: "ConditionStatistics", minimum: int = MIN_NEURONS) -> None:
    """Raise :class:`InsufficientDataError` if the session has fewer than ``minimum`` neurons.

    Examples
    --------
    >>> import numpy as np
    >>> s = ConditionStatistics(np.ones((3, 2)), np.zeros((3, 2)), np.full(3, 2), np.arange(3), np.arange(2),
    ...                         None, "d")
    >>> require_neurons(s)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.InsufficientDataError: session 'd': too few neurons for an unbiased ratio (found 2, ...
    """
    if stats.n_neurons < minimum:
        raise InsufficientDataError(
            f"session {stats.session_id!r}: too few neurons for an unbiased ratio (found {stats.n_neurons}, "
            f"need {minimum})"
        )


def recentre_replicates(estimate, replicates, axis: int = 0):
    """Shift bootstrap replicates so that their median is the point estimate (NaN replicates kept).

    The point estimate is jackknife bias-corrected while the replicates of a ratio are skewed around the
    uncorrected value, so a plain percentile interval can miss its own estimate (3.67 [1.97, 3.92]). After
    the shift any central percentile interval contains the estimate; its width and shape are the
    bootstrap's.

    Examples
    --------
    >>> recentre_replicates(1.0, np.array([3.0, 4.0, 5.0])).tolist()
    [0.0, 1.0, 2.0]
    """
    replicates = np.asarray(replicates, dtype=float)
    if replicates.size == 0:
        return replicates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
        median = np.nanmedian(replicates, axis=axis, keepdims=True)
    return replicates + (np.asarray(estimate, dtype=float) - median)


def normal_score_replicates(estimate, replicates):
    """Replicates mapped to normal scores: estimate + SD(replicates) · z(rank), NaN replicates kept.

    The percentile interval of the result is the normal interval estimate ± z·SD of the bootstrap (it
    contains the estimate, symmetrically), the SD is the bootstrap's, and the order of the replicates is
    kept, so their dependence across statistics and sessions (the shared neuron weights) survives as a
    Gaussian copula of the ranks. Used for the task alignment, whose percentile intervals under-covered on
    realistic spiking sessions (down to 0.92) while the normal interval did not (0.94-0.97,
    benchmarks/bench_kernel_coverage.py).

    Examples
    --------
    >>> out = normal_score_replicates(0.5, np.array([0.0, 3.0, 1.0, np.nan]))
    >>> bool(np.isnan(out[3])), bool(out[0] < out[2] < out[1]), round(float(np.nanstd(out, ddof=1)), 6)
    (True, True, 1.527525)
    """
    replicates = np.asarray(replicates, dtype=float)
    out = np.full(replicates.shape, np.nan)
    finite = np.isfinite(replicates)
    n = int(finite.sum())
    if n < 2:
        return out
    values = replicates[finite]
    scores = norm.ppf((np.argsort(np.argsort(values, kind="stable")) + 0.5) / n)
    out[finite] = float(estimate) + values.std(ddof=1) * scores / scores.std(ddof=1)
    return out
