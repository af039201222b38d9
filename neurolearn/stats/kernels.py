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

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError
from neurolearn.stats.condition_labels import first_of_each_condition
# re-exported: the numpy core, the honesty gates and the resampling helpers used to live here
from neurolearn.stats.kernel_guards import (  # noqa: F401
    DENOMINATOR_Z,
    MIN_NEURONS,
    RANGE_Z,
    influence_se,
    require_neurons,
    require_resolved,
)
from neurolearn.stats.kernel_terms import (  # noqa: F401
    centre_kernel,
    centre_rows,
    common_conditions,
    linear_estimate,
    per_neuron_linear,
    per_neuron_pair_trace,
    self_inner_estimate,
    unbiased_kernel_matrix,
)
from neurolearn.stats.neuron_resampling import (  # noqa: F401
    jackknife_bias,
    leave_one_out,
    neuron_bootstrap_weights,
    normal_score_replicates,
    recentre_replicates,
    replicate,
    session_bootstrap_weights,
)

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
    #: variance of the population-summed trial residual over the sum of the neurons' residual variances:
    #: 1 + (N - 1) x the mean noise correlation; about 1 when trial noise is independent across neurons, which
    #: the neuron bootstrap assumes (NaN where not measured)
    shared_noise_ratio: float = float("nan")

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
        if rows.size == self.n_conditions and np.array_equal(rows, np.arange(rows.size)):
            return self  # the same conditions in the same order (frozen: nothing to copy)
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
    data = recording.transpose(TRIAL, NEURON).data
    sums, sums_sq, n_bad, population = _indicator_sums(codes, conditions.size, data)
    if n_bad:
        raise DataError(
            f"session {session_id!r}: expected finite responses, found {n_bad} NaN/inf values; "
            "drop or impute them before computing statistics"
        )
    counts = n_trials[:, None].astype(float)
    means = sums / counts
    # in place on one P x N array: Σ(x - x̄)² = Σx² - n x̄², clipped, / (n - 1), / n (the same operations
    # as the expression, without its five P x N temporaries)
    within = means * means
    within *= counts
    np.subtract(sums_sq, within, out=within)
    del sums, sums_sq
    noise_ratio = _shared_noise_ratio(population, codes, n_trials, within)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem2 = np.clip(within, 0.0, None, out=within)
        sem2 /= counts - 1.0
        sem2 /= counts
        sem2[n_trials <= 1] = np.nan
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
        shared_noise_ratio=noise_ratio,
    )


def _shared_noise_ratio(population, codes, n_trials, within) -> float:
    """Σ_c Σ_t (y_t - ȳ_c)² / Σ_c Σ_i SS_ic: the within-condition variance of the trials' population sums
    y_t = Σ_i x_ti over the summed within-condition variances of the neurons (both on Σ_c (n_c - 1) degrees
    of freedom), i.e. 1 + (N - 1) ρ̄ with ρ̄ the variance-weighted mean noise correlation."""
    if population is None or not np.any(n_trials > 1):
        return float("nan")
    y_means = np.bincount(codes, weights=population, minlength=n_trials.size) / np.maximum(n_trials, 1)
    shared = float(np.sum((population - y_means[codes]) ** 2))
    independent = float(np.clip(within, 0.0, None).sum())
    return shared / independent if independent > 0 else float("nan")


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


def _kernel_array(kernel: np.ndarray, stats: ConditionStatistics, estimator: str) -> xr.DataArray:
    return xr.DataArray(
        kernel,
        dims=(CONDITION, CONDITION_OTHER),
        coords={CONDITION: stats.conditions, CONDITION_OTHER: stats.conditions.copy()},
        name="kernel",
        attrs={"estimator": estimator, "session_id": stats.session_id, "n_neurons": stats.n_neurons},
    )


def _indicator_sums(codes: np.ndarray, n_conditions: int, data):
    """Σ_trials and Σ_trials² per condition, the count of non-finite values and each trial's sum over neurons,
    in one pass."""
    if getattr(data, "__dask_graph__", None) is not None:
        import dask
        import dask.array as da

        indicator = np.zeros((n_conditions, codes.size))
        indicator[codes, np.arange(codes.size)] = 1.0
        data = data.astype(float)
        sums, sums_sq, n_bad, population = dask.compute(
            da.dot(indicator, data), da.dot(indicator, data * data), (~da.isfinite(data)).sum(), data.sum(axis=1)
        )
        return np.asarray(sums), np.asarray(sums_sq), int(n_bad), np.asarray(population, dtype=float)
    # in memory: trials sorted by condition and summed in runs, O(trials x neurons), not x conditions, a block
    # of conditions at a time (each block's trials gathered, converted to float and squared in cache: no
    # whole-session float64 copy, sorted copy or squared temporary)
    data = np.asarray(data)
    n_trials, n_neurons = data.shape
    counts = np.bincount(codes, minlength=n_conditions)
    grouped = bool(np.all(codes[1:] >= codes[:-1]))
    order = None if grouped else np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    equal = bool(counts.size) and bool(np.all(counts == counts[0]))
    sums = np.empty((n_conditions, n_neurons))
    sums_sq = np.empty((n_conditions, n_neurons))
    population = np.empty(n_trials)
    per_trial = max(1, 8 * n_neurons)
    first = 0
    while first < n_conditions:
        last = first + 1  # at least one condition; more while the block stays within _SUM_BYTES
        while last < n_conditions and (bounds[last + 1] - bounds[first]) * per_trial <= _SUM_BYTES:
            last += 1
        rows = slice(int(bounds[first]), int(bounds[last]))
        index = rows if grouped else order[rows]
        block = np.asarray(data[index], dtype=float)
        population[index] = block.sum(axis=1)
        if equal:  # equal runs: a reshape, no segment bookkeeping
            runs = block.reshape(last - first, int(counts[0]), -1)
            sums[first:last], sums_sq[first:last] = runs.sum(axis=1), np.einsum("ptn,ptn->pn", runs, runs)
        else:
            starts = bounds[first:last] - bounds[first]
            sums[first:last] = np.add.reduceat(block, starts, axis=0)
            square = block * block if np.may_share_memory(block, data) else np.square(block, out=block)
            sums_sq[first:last] = np.add.reduceat(square, starts, axis=0)
        first = last
    # a NaN or inf response makes its sum of squares non-finite: only then count them (one pass fewer)
    if not np.all(np.isfinite(sums_sq)):
        n_bad = int(data.size - np.isfinite(data).sum())
        if n_bad:
            return None, None, n_bad, None
    return sums, sums_sq, 0, population


#: bytes of one block of trials summed at a time by :func:`_indicator_sums`
_SUM_BYTES = 16 * 2**20


def _per_condition(values, codes, conditions, session_id, target):
    values = np.asarray(values)
    first, same = first_of_each_condition(values, codes, conditions.size)
    if np.all(same):  # one value per condition (the common case): no loop over conditions
        return np.asarray(list(values[first]))
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
