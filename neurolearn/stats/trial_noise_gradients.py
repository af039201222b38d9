"""First-order rows of the kernel statistics in the condition means, for the shared trial noise of
:mod:`neurolearn.stats.trial_noise`.

A kernel statistic θ = f(Φ̂), Φ̂ = (M Mᵀ - diag Σ_i sem2_i) / N, moves with neuron i's condition means as
∂θ/∂m_i = Σ_ν b_μν m_νi plus its U-statistic's own terms; each function here returns the (P, P + 3) rows
[b | α] of one statistic: b the P x P span coefficients, α the weights of the 3 :data:`OWN_FIELDS`
(the per-neuron own terms the U-statistics over distinct neurons leave out).
"""

from __future__ import annotations

import numpy as np

from neurolearn.stats.kernel_terms import centre_kernel

__all__ = ["OWN_FIELDS", "participation_gradient", "alignment_gradient", "similarity_gradients",
           "change_gradients"]

#: per-neuron own terms a statistic's U-statistic leaves out (:func:`neurolearn.stats.trial_noise.own_fields`)
OWN_FIELDS = ("centred", "trace", "uncentred")


def _kernel(stats, unbiased: bool):
    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons


def _extended(span, alphas):
    """(P, P + 3) rows [b_μ | α]: G_μi = Σ_ν b_μν M_νi + Σ_f α_f O_f,μi (O the :func:`neurolearn.stats.trial_noise.own_fields`)."""
    n_cond = span.shape[0]
    out = np.zeros((n_cond, n_cond + len(OWN_FIELDS)))
    out[:, :n_cond] = (span + span.T) / 2.0
    out[:, n_cond:] = alphas
    return out


def _factor(stats, unbiased):
    """(N / (N - 1), 4 / (N (N - 1))) for a U-statistic over distinct neurons; (1, 0) for the plug-in."""
    n = stats.n_neurons
    return (n / (n - 1.0), 4.0 / (n * (n - 1.0))) if unbiased else (1.0, 0.0)


def participation_gradient(stats, squared_norm: float, *, unbiased: bool = True) -> np.ndarray:
    """Rows of PR = (tr HΦH)²_u / ‖HΦH‖²_u (``squared_norm`` the estimate of ‖HΦH‖²), both U-statistics:
    ∂(tr HΦH)²_u/∂m_i = f (4T/N) H m_i - c t_i H m_i, ∂‖HΦH‖²_u/∂m_i = f (4/N) HΦ̂H m_i - c (HK_iH) m_i
    with f = N/(N-1), c = 4/(N(N-1))."""
    n, n_cond = stats.n_neurons, stats.n_conditions
    centred = centre_kernel(_kernel(stats, unbiased), True, True)
    means = stats.means - stats.means.mean(axis=0, keepdims=True)
    t = np.einsum("pn,pn->n", means, means) - ((1.0 - 1.0 / n_cond) * stats.sem2.sum(axis=0) if unbiased else 0.0)
    trace = float(t.mean())
    square = (n * n * trace**2 - float(t @ t)) / (n * (n - 1.0)) if unbiased else trace**2
    ratio = square / squared_norm
    f, c = _factor(stats, unbiased)
    h = np.eye(n_cond) - 1.0 / n_cond
    span = f * (4.0 * trace / n * h - ratio * 4.0 / n * centred) / squared_norm
    return _extended(span, [ratio * c / squared_norm, -c / squared_norm, 0.0])


def alignment_gradient(stats, task: np.ndarray, squared_norm: float, *, left=True, right=True,
                       unbiased: bool = True) -> np.ndarray:
    """Rows of ⟨Φ, T⟩ / (‖LΦR‖_u ‖T‖), T = L YYᵀ R the centred task kernel (``squared_norm`` the
    U-statistic ‖LΦR‖²_u; its own term enters with double centring, the default, and is left out otherwise)."""
    n = stats.n_neurons
    kernel = _kernel(stats, unbiased)
    task_norm = float(np.linalg.norm(task))
    root = np.sqrt(squared_norm)
    value = float(np.sum(kernel * task)) / (root * task_norm)
    f, c = _factor(stats, unbiased)
    span = (2.0 / n * task / (root * task_norm)
            - value / (2.0 * squared_norm) * f * 4.0 / n * centre_kernel(kernel, left, right))
    own = value / (2.0 * squared_norm) * c if (left and right) else 0.0
    return _extended(span, [own, 0.0, 0.0])


def similarity_gradients(stats_a, stats_b, squared_a: float, squared_b: float, *, unbiased: bool = True):
    """Rows (session a, session b) of CKA = ⟨HΦ_aH, HΦ_bH⟩ / √(‖HΦ_aH‖²_u ‖HΦ_bH‖²_u) on the same
    conditions (sessions of different neurons: the cross term has no own term)."""
    ca = centre_kernel(_kernel(stats_a, unbiased), True, True)
    cb = centre_kernel(_kernel(stats_b, unbiased), True, True)
    root = np.sqrt(squared_a * squared_b)
    value = float(np.sum(ca * cb)) / root
    out = []
    for stats, mine, other, squared in ((stats_a, ca, cb, squared_a), (stats_b, cb, ca, squared_b)):
        n = stats.n_neurons
        f, c = _factor(stats, unbiased)
        span = 2.0 / n * other / root - value / (2.0 * squared) * f * 4.0 / n * mine
        out.append(_extended(span, [value / (2.0 * squared) * c, 0.0, 0.0]))
    return tuple(out)


def change_gradients(stats_t, stats_0, squared_0: float, squared_change: float, *, unbiased: bool = True):
    """Rows (session t, reference) of the squared relative change s = (‖HΦ_tH‖²_u + ‖HΦ_0H‖²_u -
    2⟨HΦ_tH, HΦ_0H⟩) / ‖HΦ_0H‖²_u (``squared_0`` the estimate of ‖HΦ_0H‖², ``squared_change`` of s)."""
    # the double-centred kernels, as the change itself (kernel_change is of H Φ H)
    kernel_t = centre_kernel(_kernel(stats_t, unbiased), True, True)
    kernel_0 = centre_kernel(_kernel(stats_0, unbiased), True, True)
    n_t, n_0 = stats_t.n_neurons, stats_0.n_neurons
    f_t, c_t = _factor(stats_t, unbiased)
    f_0, c_0 = _factor(stats_0, unbiased)
    keep = 1.0 - squared_change
    # the own terms ‖HK_iH‖² the U-statistics leave out: the "centred" own field
    rows_t = _extended((f_t * 4.0 / n_t * kernel_t - 4.0 / n_t * kernel_0) / squared_0,
                       [-c_t / squared_0, 0.0, 0.0])
    rows_0 = _extended((keep * f_0 * 4.0 / n_0 * kernel_0 - 4.0 / n_0 * kernel_t) / squared_0,
                       [-keep * c_0 / squared_0, 0.0, 0.0])
    return rows_t, rows_0
