"""Population truth of :func:`neurolearn.simulate.spiking.spiking_sessions`: closed forms, no estimator code.

Population truth (infinitely many neurons from the same distribution, noiseless condition means). The
population kernel has a closed form: with m and u independent,

    Φ(μ, ν) = E_i[r_i(μ) r_i(ν)] = E[e^{2m}] · E[e^{gain u·(z_μ + z_ν)}]
            = exp(2 mean_log_rate + 2 sd_log_rate²) · exp(gain² |z_μ + z_ν|² / (2d)),

because u·x ~ N(0, |x|²/d) and E[e^X] = e^{σ²/2} for X ~ N(0, σ²). Every kernel statistic's truth follows
from it (:func:`population_kernel` and the functions after it, importable for tests elsewhere).
``participation_ratio_distribution`` treats conditions as draws from the stimulus distribution (class
uniform over the C classes, z = c_k + N(0, jitter² I)); its closed form is a Gaussian integral of
exponentials of quadratic forms (:func:`distribution_participation_ratio`). The shown conditions are a
class-stratified sample of that distribution.

No estimator code is used, so tests can compare the estimators against these.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import SESSION, SESSION_OTHER

__all__ = [
    "population_kernel",
    "task_alignment_truth",
    "kernel_similarity_truth",
    "kernel_change_truth",
    "kernel_scale_truth",
    "participation_ratio_truth",
    "distribution_participation_ratio",
    "population_statistics",
    "task_labels",
]


def population_kernel(latents, latents_other=None, *, mean_log_rate: float = 1.0, sd_log_rate: float = 1.0,
                      gain: float = 0.5) -> np.ndarray:
    """E_i[r_i(z) r_i(z')] over the neuron distribution: exp(2 mean + 2 sd²) · exp(gain² |z + z'|² / (2d)).

    Parameters
    ----------
    latents : array_like, shape (P, d)
    latents_other : array_like, shape (Q, d), optional
        Second set of latents (default ``latents``): the two-time kernel of the same neurons.

    Returns
    -------
    numpy.ndarray, shape (P, Q)

    Examples
    --------
    >>> round(float(population_kernel(np.zeros((1, 4)), mean_log_rate=0.0, sd_log_rate=0.0)[0, 0]), 6)
    1.0
    """
    z = np.atleast_2d(np.asarray(latents, dtype=float))
    w = z if latents_other is None else np.atleast_2d(np.asarray(latents_other, dtype=float))
    total = z[:, None, :] + w[None, :, :]
    d = z.shape[1]
    return np.exp(2 * mean_log_rate + 2 * sd_log_rate**2 + gain**2 * np.sum(total * total, axis=-1) / (2 * d))


def task_labels(classes, n_classes: int) -> np.ndarray:
    """The ``target`` values of class indices: ±1 for two classes (class 1 -> +1), the index otherwise."""
    classes = np.asarray(classes, dtype=int)
    return np.where(classes == 1, 1, -1) if n_classes == 2 else classes


def task_alignment_truth(kernel, target) -> float:
    """Double-centred alignment ⟨HΦH, HYYᵀH⟩ / (‖HΦH‖ ‖HYYᵀH‖), Y = ±1 (two classes) or one-hot.

    Examples
    --------
    >>> y = np.array([1.0, -1.0, 1.0, -1.0])
    >>> round(task_alignment_truth(np.outer(y, y) + 3.0, y), 12)
    1.0
    """
    values = np.asarray(target)
    classes = np.unique(values)
    labels = (values[:, None] == classes[None, :]).astype(float)
    task = _centre(labels @ labels.T)
    centred = _centre(np.asarray(kernel, dtype=float))
    return float(np.sum(centred * task) / (np.linalg.norm(centred) * np.linalg.norm(task)))


def kernel_similarity_truth(kernel, kernel_other) -> float:
    """CKA of two kernels over the same conditions, double-centred: ⟨HKH, HLH⟩ / (‖HKH‖ ‖HLH‖).

    Examples
    --------
    >>> k = np.diag([1.0, 2.0, 3.0, 4.0])
    >>> round(kernel_similarity_truth(k, 5 * k + 2.0), 12)
    1.0
    """
    a, b = _centre(np.asarray(kernel, dtype=float)), _centre(np.asarray(kernel_other, dtype=float))
    return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def kernel_change_truth(kernel, reference) -> float:
    """Relative change of double-centred kernels ‖H(K − K_ref)H‖_F / ‖HK_refH‖_F (the estimand of
    ``kernel_change``: a baseline rate, constant over conditions, is no part of it).

    Examples
    --------
    >>> round(kernel_change_truth(4 * np.eye(3), np.eye(3)), 12)
    3.0
    >>> round(kernel_change_truth(np.eye(3) + 9.0, np.eye(3)), 12)  # a constant added: no change
    0.0
    """
    kernel, reference = np.asarray(kernel, dtype=float), np.asarray(reference, dtype=float)
    return float(np.linalg.norm(_centre(kernel - reference)) / np.linalg.norm(_centre(reference)))


def kernel_scale_truth(kernel, reference) -> float:
    """Relative size of double-centred kernels ‖HKH‖_F / ‖HK_refH‖_F (the estimand of ``kernel_scale``).

    Examples
    --------
    >>> round(kernel_scale_truth(4 * np.eye(3) + 2.0, np.eye(3)), 12)  # a gain of 2 on the rates, baseline added
    4.0
    """
    kernel, reference = np.asarray(kernel, dtype=float), np.asarray(reference, dtype=float)
    return float(np.linalg.norm(_centre(kernel)) / np.linalg.norm(_centre(reference)))


def participation_ratio_truth(kernel) -> float:
    """PR of the shown conditions: (tr HKH)² / ‖HKH‖_F², the eigenvalues of the double-centred kernel.

    Examples
    --------
    >>> round(participation_ratio_truth(np.eye(5)), 12)  # 5 conditions span 4 equal centred dimensions
    4.0
    """
    centred = _centre(np.asarray(kernel, dtype=float))
    return float(np.trace(centred) ** 2 / np.sum(centred * centred))


def distribution_participation_ratio(class_means, jitter: float, *, gain: float = 0.5) -> float:
    """PR of the population covariance over the stimulus distribution: (tr C)² / tr C².

    The stimulus distribution is the equal mixture over classes k of z ~ N(c_k, jitter² I_d). With the
    population kernel k(z, z') = A exp(a|z + z'|²), a = gain²/(2d) (A cancels in the ratio),

    * tr C = E k(z, z) − E k(z, z'),
    * tr C² = E k̃(z, z')² = E k(z, z')² − 2 E_z[(E_{z'} k(z, z'))²] + (E k(z, z'))²  (k̃ centred under the
      distribution; z, z', z'' independent),

    and every expectation is a Gaussian integral E exp(xᵀQx) = det(I − 2σ²Q)^{-1/2} exp(mᵀ(I − 2σ²Q)^{-1}Q m)
    over (z, z', z'') per latent dimension (they factorise across dimensions), summed over class triples.
    NaN where an integral diverges (the kernel's tail is too heavy for the jitter: 8 a jitter² >= 1, i.e.
    4 gain² jitter² >= d).

    Parameters
    ----------
    class_means : array_like, shape (C, d)
    jitter : float

    Examples
    --------
    >>> means = np.zeros((2, 4))  # no class structure: z ~ N(0, 0.25 I) in 4 dimensions
    >>> round(distribution_participation_ratio(means, 0.5, gain=0.02), 2)  # weak gain: linear kernel, PR = d
    4.0
    >>> round(distribution_participation_ratio(means, 0.5, gain=1.0), 2)  # the exp adds nonlinear dimensions
    6.06
    """
    means = np.atleast_2d(np.asarray(class_means, dtype=float))
    n_classes, d = means.shape
    a = gain**2 / (2 * d)
    var = float(jitter) ** 2
    quad = {
        "diag": 4 * a * np.ones((1, 1)),  # |2z|²
        "pair": a * np.ones((2, 2)),  # |z + z'|²
        "pair2": 2 * a * np.ones((2, 2)),  # 2|z + z'|²
        "triple": a * np.array([[2.0, 1, 1], [1, 1, 0], [1, 0, 1]]),  # |z + z'|² + |z + z''|²
    }
    k = range(n_classes)
    terms = {
        "diag": np.mean([_gaussian_exp_quadratic(means[[i]], var, quad["diag"]) for i in k]),
        "pair": np.mean([_gaussian_exp_quadratic(means[[i, j]], var, quad["pair"]) for i in k for j in k]),
        "pair2": np.mean([_gaussian_exp_quadratic(means[[i, j]], var, quad["pair2"]) for i in k for j in k]),
        "triple": np.mean([_gaussian_exp_quadratic(means[[i, j, l]], var, quad["triple"])
                           for i in k for j in k for l in k]),
    }
    if not all(np.isfinite(value) for value in terms.values()):
        return float("nan")
    trace = terms["diag"] - terms["pair"]
    square = terms["pair2"] - 2 * terms["triple"] + terms["pair"] ** 2
    if not square > 0:
        return float("nan")
    return float(trace**2 / square)


def population_statistics(latents, target, session_ids, *, mean_log_rate=1.0, sd_log_rate=1.0, gain=0.5,
                          tracked=False) -> xr.Dataset:
    """Population truth of the kernel statistics over the shown conditions, from latents (session, P, d).

    ``kernel_change`` is relative to the first session; ``code_overlap`` (tracked only) is
    tr HΦ(t, s) / √(tr HΦ(t, t) tr HΦ(s, s)) of the two-time population kernel of the same cells (each cell's
    mean over conditions removed, as the estimator does).
    """
    latents = np.asarray(latents, dtype=float)
    options = dict(mean_log_rate=mean_log_rate, sd_log_rate=sd_log_rate, gain=gain)
    kernels = [population_kernel(z, **options) for z in latents]
    cross = None
    if tracked:
        cross = np.array([[np.trace(_centre(population_kernel(a, b, **options))) for b in latents]
                          for a in latents])
    return _kernel_statistics(kernels, target, session_ids, cross)


def _kernel_statistics(kernels, target, session_ids, cross=None) -> xr.Dataset:
    """Kernel statistics of given per-session kernels; ``cross[a, b]`` = tr of the two-time kernel (tracked)."""
    n = len(kernels)
    variables = {
        "task_alignment": (SESSION, np.array([task_alignment_truth(k, target) for k in kernels])),
        "kernel_change": (SESSION, np.array([kernel_change_truth(k, kernels[0]) for k in kernels])),
        "kernel_scale": (SESSION, np.array([kernel_scale_truth(k, kernels[0]) for k in kernels])),
        "participation_ratio": (SESSION, np.array([participation_ratio_truth(k) for k in kernels])),
        "kernel_similarity": ((SESSION, SESSION_OTHER), np.array(
            [[kernel_similarity_truth(kernels[a], kernels[b]) for b in range(n)] for a in range(n)])),
    }
    if cross is not None:
        diagonal = np.diag(cross)
        variables["code_overlap"] = ((SESSION, SESSION_OTHER), cross / np.sqrt(np.outer(diagonal, diagonal)))
    return xr.Dataset(
        variables,
        coords={SESSION: list(session_ids), "session_index": (SESSION, np.arange(n)),
                SESSION_OTHER: list(session_ids)},
        attrs={"estimand": "population truth: infinitely many neurons from the same distribution, noiseless "
                           "condition means, over the shown conditions",
               "kernel": "Phi(mu, nu) = exp(2 mean_log_rate + 2 sd_log_rate^2 + gain^2 |z_mu + z_nu|^2 / (2 d))",
               "kernel_change": "relative to the first session, double-centred kernels",
               "kernel_similarity": "CKA of double-centred population kernels"},
    )


def _centre(kernel):
    return kernel - kernel.mean(axis=0, keepdims=True) - kernel.mean(axis=1, keepdims=True) + kernel.mean()


def _gaussian_exp_quadratic(mean_rows, var, quad):
    """E exp(Σ_dims x_dᵀ Q x_d) for independent x_d ~ N(m_d, var I) (m_d = column d of ``mean_rows``)."""
    n = quad.shape[0]
    system = np.eye(n) - 2 * var * quad
    if np.any(np.linalg.eigvalsh(system) <= 0):
        return np.inf
    solve = np.linalg.solve(system, quad)
    log_det = np.linalg.slogdet(system)[1]
    m = np.asarray(mean_rows, dtype=float)  # (n, d)
    exponent = np.einsum("nd,nk,kd->", m, solve, m)
    return float(np.exp(exponent - 0.5 * m.shape[1] * log_det))
