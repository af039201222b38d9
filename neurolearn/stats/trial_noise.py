"""Trial noise shared across neurons, put into the kernel statistics' intervals (issue 8).

The neuron bootstrap (:mod:`neurolearn.stats.neuron_resampling`) carries each neuron's own trial noise, not
the part every neuron shares on a trial (a common gain, arousal). To first order a kernel statistic θ moves
with the condition means M as δθ = Σ_μi G_μi δM_μi, and for every statistic that is a smooth function f(Φ̂)
of the session's kernel Φ̂ = (M Mᵀ - diag Σ_i sem2_i) / N the gradient lies in the span of the condition
means: G_μ = b_μᵀ M with b = (2/N) sym(∂f/∂Φ) (P x P). A trial k of condition μ then enters only through
the P projections q_k = M e_k of its residual e_k = x_k - m_μ, so the variance a joint (all neurons together)
resampling of the trials gives θ, minus the part of independent per-neuron resampling the neuron bootstrap
already carries, is

    Σ_μ b_μᵀ E_μ b_μ,   E_μ = (Σ_{k∈μ} q_k q_kᵀ - Σ_i SS_μi m_i m_iᵀ) / (n_μ (n_μ - 1))

(SS_μi = Σ_k e_ki², so the second sum is the i = j part of the first): an unbiased estimate of
(1/n_μ) Σ_{i≠j} G_μi G_μj Cov(e_i, e_j), zero in expectation when trial noise is independent across neurons.
The P x P matrices E_μ come from one extra pass over the trials, a block at a time (eager or dask; in
memory each condition's n_μ trials enter as their n_μ - 1 orthonormal contrasts, which give the same
Σ_k e_k e_kᵀ: (T - P)·P·N work), and a P³N product for the i = j part; every statistic then costs O(P²)
(:func:`gradient terms <participation_gradient>`). The sem2 term of Φ̂ (a fluctuation of the noise variance
itself, second order in the noise) is left out.

Each E_μ is projected onto the positive semi-definite cone and factored E_μ⁺ = L_μ L_μᵀ, and each replicate b
gets one standard-normal draw z_bμ per session and condition shared by every statistic of that session, so
replicate b of θ gains s_θ Σ_μ b_μ · L_μ z_bμ: the shared noise moves the alignment, the participation ratio
and every similarity entry of a session together, as the trials would. The scale s_θ makes each statistic's
added variance the unbiased Σ_μ b_μᵀ E_μ b_μ (clipped at 0) instead of the projection's, which keeps the
positive part of the noise in E_μ (:func:`coefficients`).

Applied only where the shared noise is detected: either the residuals' joint projections on the condition
means over their per-neuron part, Σ_μ tr(Σ_k q_k q_kᵀ) / Σ_μ tr(Σ_i SS_μi m_i m_iᵀ) (about 1 when the noise
is independent), or the session's population-sum ratio
:attr:`~neurolearn.stats.kernels.ConditionStatistics.shared_noise_ratio` exceeds χ²_df(0.999) / df,
df = Σ_μ (n_μ - 1) (:func:`detection_threshold`). The first sees shared noise in any direction the kernel
statistics depend on, but weights neurons by ‖m_i‖², so with log-normal rates a few neurons carry it and it
missed 1 of 20 sessions with a shared gain of CV 0.3 (600 neurons x 3 trials x 8 conditions: 2.26 against the
threshold 2.45, while the population sum read 54.6); the second weights neurons equally and sees a gain at
once. Below both, the estimate of the shared variance is noise about 0 and its positive part would widen
intervals for nothing: those sessions keep the neuron-bootstrap replicates exactly (0 of 800 sessions
without shared noise passed the gate in the coverage runs).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, norm
from scipy.stats import t as student

from neurolearn.data import NEURON, TIME, TRIAL
# re-exported: the gradients used to live here
from neurolearn.stats.trial_noise_gradients import (  # noqa: F401
    OWN_FIELDS,
    alignment_gradient,
    change_gradients,
    participation_gradient,
    similarity_gradients,
)

__all__ = ["SharedTrialNoise", "shared_trial_noise", "participation_gradient", "alignment_gradient",
           "similarity_gradients", "change_gradients", "coefficients", "shared_variance", "shared_draws",
           "add_shared_term", "shared_term", "combined_df", "coefficient_scale", "own_fields", "detection_threshold", "CORRECTED"]

#: statistics whose replicates carry the shared trial noise (the others keep the shared_noise flag)
CORRECTED = ("task_alignment", "participation_ratio", "kernel_similarity", "kernel_change")

#: the gate's null quantile (a session below it keeps the neuron-bootstrap interval)
DETECTION_LEVEL = 0.999


@dataclass(frozen=True)
class SharedTrialNoise:
    """Per session: the condition values, the shared-noise matrices E_μ (P, P, P) in the coordinates q = M e
    (unbiased, indefinite up to noise), their PSD factors L_μ (E_μ⁺ = L_μ L_μᵀ), whether the shared noise was
    detected, the detection ratio and the draw seed. ``matrices`` and ``factors`` are None where the shared
    noise is not detected (nothing reads them there)."""

    conditions: np.ndarray
    matrices: np.ndarray
    factors: np.ndarray
    detected: bool
    ratio: float
    seed: int
    #: trials per condition (the degrees of freedom n_μ - 1 of each E_μ)
    n_trials: np.ndarray = None
    #: M Mᵀ (P, P) of the condition means and N, for the second-order term (:mod:`neurolearn.stats.shared_noise`)
    gram: np.ndarray = None
    n_neurons: int = 0

    @property
    def n_conditions(self) -> int:
        return self.conditions.size


#: the per-neuron fields of the U-statistics' own (i = j) terms, rows of the extended basis after the P means


def own_fields(stats) -> np.ndarray:
    """(3, P, N): per neuron i, (H K_i H) m_i, t_i H m_i and K_i m_i (K_i = m_i m_iᵀ - diag v_i, t_i = tr H K_i H):
    the derivatives of the own terms ‖HK_iH‖², t_i², ‖K_i‖² a U-statistic over distinct neurons leaves out."""
    means, sem2 = stats.means, stats.sem2
    n_cond = means.shape[0]
    centred = means - means.mean(axis=0, keepdims=True)
    norm2 = np.einsum("pn,pn->n", centred, centred)
    noisy = sem2 * centred
    hkh = centred * norm2 - (noisy - noisy.mean(axis=0, keepdims=True))
    trace = norm2 - (1.0 - 1.0 / n_cond) * sem2.sum(axis=0)
    uncentred = means * np.einsum("pn,pn->n", means, means) - sem2 * means
    return np.stack([hkh, trace * centred, uncentred])


def shared_trial_noise(recording, stats, by: str, *, seed_key: str = "", always: bool = False,
                       block_bytes: int | None = None) -> SharedTrialNoise | None:
    """One pass over ``recording``'s trials (the session ``stats`` was computed from) for the detection gate,
    and where it detects shared noise a second for the matrices E_μ in the extended basis (the P condition
    means and the 3 :func:`own_fields` of condition μ).

    Returns None when a condition has fewer than 2 trials in ``stats``' conditions. ``always``: the matrices
    also where the gate detects nothing (their estimator is unbiased whatever the gate says), from the same
    single pass. ``block_bytes``: the float64 trials held at a time (default :data:`BLOCK_BYTES`; the session
    is read block by block, never copied whole, time-resolved sessions averaged over ``time`` block by block).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.kernels import condition_statistics
    >>> rng = np.random.default_rng(0)
    >>> gain = 1.0 + 0.5 * rng.standard_normal((40, 1))  # one gain per trial, shared by every neuron
    >>> rec = xr.DataArray(gain * rng.lognormal(1.0, 0.5, (1, 200)) + rng.standard_normal((40, 200)),
    ...                    dims=("trial", "neuron"), coords={"stimulus": ("trial", np.arange(40) % 4)})
    >>> noise = shared_trial_noise(rec, condition_statistics(rec, "stimulus"), "stimulus")
    >>> noise.detected, noise.matrices.shape
    (True, (4, 7, 7))
    """
    labels = np.asarray(recording.coords[by].values)
    conditions = np.asarray(stats.conditions)
    codes = np.searchsorted(conditions, labels)
    codes = np.clip(codes, 0, conditions.size - 1)
    keep = conditions[codes] == labels
    codes = np.where(keep, codes, -1)  # a trial of a condition ``stats`` left out: not read
    n_trials = np.bincount(codes[keep], minlength=conditions.size)
    if np.any(n_trials < 2):
        return None
    means = stats.means
    # the gate first, from the P mean directions alone ((T - P) P N work): the matrices below cost P (P + 3)^2 N
    # and P (P + 3)^2 memory (74 s and 1 GB at 500 conditions x 2000 neurons, where summarize took 1.6 s
    # before them) and are needed only where the shared noise is detected; one pass for both where they are
    # needed anyway (``always``, or the population-sum ratio has detected it already)
    threshold = detection_threshold(int(np.sum(n_trials - 1)))
    population = float(getattr(stats, "shared_noise_ratio", np.nan))
    fields = own_fields(stats) if (always or population > threshold) else None
    squares, shared_trace, joint = _trial_pass(recording, codes, means, fields, block_bytes=block_bytes)
    independent_trace = float(np.sum(squares @ np.einsum("pn,pn->n", means, means)))
    ratio = shared_trace / independent_trace if independent_trace > 0 else float("nan")
    detected = bool(ratio > threshold or population > threshold)
    seed = zlib.crc32(str(seed_key).encode())
    if not (detected or always):
        return SharedTrialNoise(conditions=conditions, matrices=None, factors=None, detected=False,
                                ratio=float(ratio), seed=seed, n_trials=n_trials)
    if joint is None:
        fields = own_fields(stats)
        squares, _, joint = _trial_pass(recording, codes, means, fields, block_bytes=block_bytes)
    shared, factors = _shared_matrices(stats, fields, squares, joint, n_trials)
    return SharedTrialNoise(conditions=conditions, matrices=shared, factors=factors, detected=detected,
                            ratio=float(ratio), seed=seed, n_trials=n_trials, gram=means @ means.T,
                            n_neurons=int(means.shape[1]))


def _shared_matrices(stats, fields, squares, joint, n_trials):
    """E_μ in the extended basis (the P condition means and the 3 own fields of condition μ) and their PSD
    factors: the trials' residual projections' cross-neuron part, (joint - own) / (n_μ (n_μ - 1))."""
    means = stats.means
    n_cond = means.shape[0]
    size = n_cond + len(OWN_FIELDS)
    shared = np.empty((n_cond, size, size))
    for mu in range(n_cond):
        vectors = np.concatenate([means, fields[:, mu]])  # (P + 3, N)
        own = (vectors * squares[mu]) @ vectors.T  # Σ_i SS_μi w_i w_iᵀ
        shared[mu] = (joint[mu] - own) / (n_trials[mu] * (n_trials[mu] - 1.0))
    factors = np.empty_like(shared)
    for mu in range(n_cond):
        values, vectors = np.linalg.eigh((shared[mu] + shared[mu].T) / 2.0)
        factors[mu] = vectors * np.sqrt(np.clip(values, 0.0, None))
    return shared, factors


def detection_threshold(df: int) -> float:
    """χ²_df(0.999) / df: the ratio of the residuals' joint to independent projections on the condition means
    above which shared noise is detected (the ratio is about χ²_df / df when noise is independent)."""
    df = max(int(df), 1)
    return float(chi2.ppf(DETECTION_LEVEL, df) / df)


#: bytes of float64 trials one block of :func:`_trial_pass` holds (its contrasts take as much again)
BLOCK_BYTES = 32 * 2**20


def _trial_pass(recording, codes, means, fields=None, *, block_bytes=None):
    """One pass over the kept trials of ``recording`` (dims trial, neuron[, time]; ``codes`` each trial's
    condition, -1 for a trial left out), block by block: (SS, trace, joint).

    SS (P, N) are the per-(condition, neuron) sums of squared residuals e_k = x_k - m_μ, trace = Σ_k ‖M e_k‖²
    (the gate's joint projections on the condition means) and, with ``fields`` (the :func:`own_fields`,
    (3, P, N)), joint (P, P + 3, P + 3) = Σ_{k∈μ} q_k q_kᵀ, q_k = [M e_k | O_μ e_k] (else None).

    Only one block of trials is held as float64 at a time (about ``block_bytes``, default
    :data:`BLOCK_BYTES`), never a copy of the session. Every sum is over Σ_{k∈μ} e_k e_kᵀ, so in memory each
    condition's n_μ trials enter as their n_μ - 1 orthonormal contrasts (:func:`_contrast_matrix`; the
    residuals of a condition sum to 0, m_μ being their mean): the products cost (T - P) P N, not T P N, and
    no residual is formed. A dask-backed recording is read once, chunk by chunk in trial order, and its
    residuals enter as they are (a condition's trials may lie in several chunks).
    """
    n_cond, n_neurons = means.shape
    squares = np.zeros((n_cond, n_neurons))
    trace = 0.0
    size = n_cond + len(OWN_FIELDS)
    joint = None if fields is None else np.zeros((n_cond, size, size))
    for rows, conds in _trial_blocks(recording, codes, means, block_bytes or BLOCK_BYTES):
        # rows (k, c, N): Σ_j rows[j, c] rows[j, c]ᵀ is condition conds[c]'s part of Σ_k e_k e_kᵀ
        squares[conds] += np.einsum("kcn,kcn->cn", rows, rows)
        k, c = rows.shape[:2]
        projections = rows.reshape(k * c, n_neurons) @ means.T
        trace += float(np.einsum("rp,rp->", projections, projections))
        if joint is None:
            continue
        extended = np.empty((k, c, size))
        extended[:, :, :n_cond] = projections.reshape(k, c, n_cond)
        del projections
        for f in range(len(OWN_FIELDS)):
            extended[:, :, n_cond + f] = np.einsum("kcn,cn->kc", rows, fields[f][conds])
        joint[conds] += np.einsum("kcp,kcq->cpq", extended, extended)
    return squares, trace, joint


def _trial_blocks(recording, codes, means, block_bytes):
    """Blocks (rows (k, c, N) float64, the c conditions) of the kept trials (``codes`` >= 0): in memory, the
    n_μ - 1 contrasts of up to ``block_bytes`` of whole conditions with the same trial count (k = n_μ - 1);
    dask-backed, the residuals of each trial chunk (chunks merged up to ``block_bytes``), in groups of the
    conditions with the same count k in it."""
    n_neurons = means.shape[1]
    # a time-resolved block is read and then averaged (xarray's mean holds a temporary as large): twice its size
    per_trial = 8 * n_neurons * (2 * recording.sizes[TIME] if TIME in recording.dims else 1)
    limit = max(1, int(block_bytes // max(per_trial, 1)))
    if getattr(recording.data, "__dask_graph__", None) is not None:
        yield from _lazy_blocks(recording, codes, means, limit)
        return
    data = None if TIME in recording.dims else recording.transpose(TRIAL, NEURON).data
    for n, members in _by_count(codes):  # members (c, n): each condition's trials
        contrast = _contrast_matrix(n)
        step = max(1, limit // n)
        for first in range(0, members.shape[0], step):
            index = members[first:first + step]
            trials = _read(recording, data, index.T.ravel())  # (n c, N), trial-major: rows j c + i
            rows = contrast @ trials.reshape(n, -1)
            del trials
            yield rows.reshape(n - 1, index.shape[0], n_neurons), codes[index[:, 0]]


def _lazy_blocks(recording, codes, means, limit):
    bounds = np.cumsum((0,) + tuple(recording.chunks[recording.dims.index(TRIAL)]))
    edges = [0]  # the trial chunks merged up to ``limit`` trials (a chunk is never split)
    for k in range(1, bounds.size):
        if bounds[k] - edges[-1] > limit and bounds[k - 1] > edges[-1]:
            edges.append(int(bounds[k - 1]))
    edges.append(int(bounds[-1]))
    for start, stop in zip(edges[:-1], edges[1:]):
        index = start + np.flatnonzero(codes[start:stop] >= 0)
        if not index.size:
            continue
        block = recording.isel({TRIAL: slice(start, stop)})
        if TIME in block.dims:
            block = block.mean(TIME)
        block = np.asarray(block.transpose(TRIAL, NEURON).data.compute(), dtype=float)[index - start]
        block -= means[codes[index]]
        for k, members in _by_count(codes[index]):
            yield block[members.T], codes[index[members[:, 0]]]


def _by_count(codes):
    """[(n, (c, n) positions of each condition's trials in ``codes``)] for every trial count n of the
    conditions (codes >= 0), conditions in increasing code."""
    kept = np.flatnonzero(codes >= 0)
    order = kept[np.argsort(codes[kept], kind="stable")]
    counts = np.bincount(codes[kept])
    present = np.flatnonzero(counts)
    offsets = np.r_[0, np.cumsum(counts[present])]
    out = []
    for n in np.unique(counts[present]):
        which = np.flatnonzero(counts[present] == n)
        out.append((int(n), order[offsets[which][:, None] + np.arange(n)]))
    return out


def _read(recording, data, index):
    """The trials ``index`` as a fresh float64 (len(index), N) array (time-resolved: averaged over time)."""
    if data is not None:
        return np.asarray(np.take(data, index, axis=0), dtype=float)
    block = recording.isel({TRIAL: index}).mean(TIME)
    return np.asarray(block.transpose(TRIAL, NEURON).data, dtype=float)


@functools.lru_cache(maxsize=64)
def _contrast_matrix(n: int) -> np.ndarray:
    """(n - 1, n) orthonormal rows orthogonal to 1 (Helmert-like): Q = (I - a 11ᵀ) [I | -1] with
    a = (1 - 1/√n) / (n - 1), so Qᵀ Q = I - 11ᵀ/n and Σ_j (Q X)_j (Q X)_jᵀ = Σ_k (x_k - x̄)(x_k - x̄)ᵀ."""
    a = (1.0 - 1.0 / np.sqrt(n)) / (n - 1.0)
    shrink = np.eye(n - 1) - a
    contrast = shrink @ np.hstack([np.eye(n - 1), -np.ones((n - 1, 1))])
    contrast.setflags(write=False)
    return contrast


# ------------------------------------------------------------------------------------------------ draws

def shared_draws(noise: SharedTrialNoise, n_boot: int) -> np.ndarray:
    """The (B, P, P + 3) standard-normal draws z_bμ of a session (the same for every statistic of it)."""
    rng = np.random.default_rng([noise.seed, 0x5EED])
    return rng.standard_normal((int(n_boot),) + noise.factors.shape[:2])


def _embedded(noise, rows, conditions):
    if conditions is None or np.array_equal(np.asarray(conditions), noise.conditions):
        return rows
    n_cond = noise.n_conditions
    index = np.searchsorted(noise.conditions, np.asarray(conditions))
    full = np.zeros((n_cond, n_cond + len(OWN_FIELDS)))
    full[np.ix_(index, index)] = rows[:, :index.size]
    return full


def coefficients(noise: SharedTrialNoise, rows: np.ndarray, conditions=None) -> np.ndarray:
    """c with c · z_b the shared term of replicate b: c_μ = L_μᵀ β_μ (β_μ row μ of ``rows``, (P, P + 3)),
    scaled so that its variance c·c is the unbiased Σ_μ β_μᵀ E_μ β_μ (0 where that is negative) rather than
    the PSD projection's, whose positive part of the noise in E_μ adds variance for nothing. ``rows`` are
    given on ``conditions`` (default: the session's own) and embedded in the session's; on a subset of them
    the own-term fields (computed on all the session's conditions) are left out, a first-order approximation
    whose error is the own terms' share."""
    full = _embedded(noise, rows, conditions)
    c = np.einsum("mpq,mp->mq", noise.factors, full).ravel()
    return c * coefficient_scale(noise, rows, conditions)


def coefficient_scale(noise: SharedTrialNoise, rows: np.ndarray, conditions=None) -> float:
    """s_θ = √(max(Σ_μ β_μᵀ E_μ β_μ, 0) / Σ_μ β_μᵀ E_μ⁺ β_μ) (1 where the projection's is 0)."""
    full = _embedded(noise, rows, conditions)
    projected = float(np.einsum("mp,mpq,mq->", full, noise.factors @ np.swapaxes(noise.factors, 1, 2), full))
    unbiased = float(np.einsum("mp,mpq,mq->", full, noise.matrices, full))
    return float(np.sqrt(max(unbiased, 0.0) / projected)) if projected > 0 else 1.0


def shared_term(noise: SharedTrialNoise, rows: np.ndarray, draws: np.ndarray, conditions=None):
    """(term (B,), variance, degrees of freedom) of one session's shared noise in a statistic: ``draws`` the
    session's :func:`shared_draws` flattened to (B, P·(P + 3)); the degrees of freedom of the variance estimate
    by Satterthwaite over the conditions, (Σ_μ v_μ)² / Σ_μ v_μ² / (n_μ - 1) with v_μ = max(β_μᵀ E_μ β_μ, 0)."""
    c = coefficients(noise, rows, conditions)
    full = _embedded(noise, rows, conditions)
    per_condition = np.clip(np.einsum("mp,mpq,mq->m", full, noise.matrices, full), 0.0, None)
    variance = float(c @ c)
    spread = float(np.sum(per_condition**2 / (np.asarray(noise.n_trials, dtype=float) - 1.0)))
    df = float(np.sum(per_condition) ** 2 / spread) if spread > 0 else np.inf
    return draws @ c, variance, df


def combined_df(parts) -> float:
    """Satterthwaite degrees of freedom of a sum of independent variance estimates ``parts`` [(variance, df)]."""
    total = sum(v for v, _ in parts)
    spread = sum(v * v / df for v, df in parts if v > 0 and np.isfinite(df))
    return float(total * total / spread) if spread > 0 else np.inf


def shared_variance(noise: SharedTrialNoise, rows: np.ndarray, conditions=None) -> float:
    """The variance the shared term adds to the statistic: max(0, Σ_μ b_μᵀ E_μ b_μ)."""
    c = coefficients(noise, rows, conditions)
    return float(c @ c)


def add_shared_term(estimate, replicates, term, variance=0.0, df=np.inf, *, low=-np.inf, high=np.inf,
                    boot=None, bias=0.0):
    """Replicates plus the shared term, re-centred (median) on the estimate, their deviations scaled by
    t_0.975(ν) / z_0.975 and clipped to [low, high] (give a range only where the estimate always lies in it).

    ν is the Satterthwaite degrees of freedom of the interval's variance, the replicates' (taken as known)
    plus the shared ``variance`` estimated on ``df``: (V_boot + V_shared)² / (V_shared² / df). The shared
    variance of a session with 3 trials per condition rests on 2 degrees of freedom per condition, and where
    it dominates, a normal interval from it covers as a z interval of a t statistic does (0.91-0.93 at
    600 neurons x 3 trials x 8 conditions, gain CV 0.3); the scaling gives the t interval at the 95 % level.
    Measured (benchmarks/bench_kernel_change_null.py --shared, spiking sessions of log-normal rates, 200
    datasets, gain CV 0.3, 600 x 3 x 8; without -> with the scaling): participation_ratio 0.76 -> 0.82,
    task_alignment 0.89 -> 0.91, kernel_similarity 0.86 -> 0.90 (0.5 s windows); 0.77 -> 0.85, 0.90 -> 0.93,
    0.86 -> 0.92 (1 s, log-rate SD 0.7); kernel_change 0.95-0.995 either way; 100 x 5 x 12 within 0.005. The
    plug-in ν is 4-5 where the true one (from the expected v_μ) is 2-10.
    The percentile interval contains the estimate. ``boot`` overrides the replicates' variance (for a shared
    term added on another scale, with ``variance`` on that scale). ``bias``: the shift taken out of
    ``estimate`` (:func:`neurolearn.stats.shared_noise.shared_bias`), quadratic in the noise like the variance,
    so of relative variance 2 / df: the term is scaled to variance + 2 bias² / df."""
    if bias and variance > 0 and np.isfinite(df):
        extra = 2.0 * float(bias) ** 2 / df
        term = np.asarray(term, dtype=float) * np.sqrt((variance + extra) / variance)
        variance = variance + extra
    replicates = np.asarray(replicates, dtype=float)
    finite = np.isfinite(replicates)
    if boot is None:
        boot = float(np.var(replicates[finite], ddof=1)) if finite.sum() >= 2 else 0.0
    replicates = replicates + term
    finite = np.isfinite(replicates)
    if finite.sum() >= 2:
        replicates = replicates + (float(estimate) - np.median(replicates[finite]))
    if variance > 0 and np.isfinite(df):
        nu = (boot + variance) ** 2 / (variance**2 / df)
        factor = student.ppf(0.975, max(nu, 1.0)) / norm.ppf(0.975)
        replicates = float(estimate) + factor * (replicates - float(estimate))
    return np.clip(replicates, low, high)
