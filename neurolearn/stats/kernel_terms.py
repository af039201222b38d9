"""Numpy core of the kernel statistics: the unbiased kernel of a session, centring, and per-neuron linear
and quadratic terms (with their per-neuron influences) shared by alignment, similarity, spectral and
dimensionality. The estimators are described in :mod:`neurolearn.stats.kernels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.kernel_guards import MIN_NEURONS

if TYPE_CHECKING:
    from neurolearn.stats.kernels import ConditionStatistics

__all__ = ["unbiased_kernel_matrix", "centre_rows", "centre_kernel", "per_neuron_linear", "per_neuron_pair_trace",
           "linear_estimate", "self_inner_estimate", "common_conditions"]


def unbiased_kernel_matrix(stats: "ConditionStatistics") -> np.ndarray:
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


def linear_estimate(stats: "ConditionStatistics", matrix: np.ndarray, *, unbiased: bool = True):
    """Estimate ⟨Φ, T⟩ and its per-neuron influence (replicate = value + δw · influence)."""
    sem2 = stats.sem2 if unbiased else np.zeros_like(stats.sem2)
    terms = per_neuron_linear(stats.means, sem2, matrix)
    value = float(terms.mean())
    return value, (terms - value) / stats.n_neurons


def self_inner_estimate(stats: "ConditionStatistics", left: bool, right: bool, *, unbiased: bool = True):
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
