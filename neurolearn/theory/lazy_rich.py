"""The "lazy-rich" model: a two-layer linear network learning one task direction, from lazy to rich.

The network (mean-field / muP parameterisation with richness ``gamma0``, simulated in
:mod:`neurolearn.simulate.two_layer`) is ``f(x) = (1/(gamma0 N)) sum_i a_i (w_i . x)`` with whitened inputs,
target ``y beta_hat . x``, centred initialisation (``f_0 = 0``), ``a_i, w_i ~ N(0, 1)`` and learning rate
``gamma0^2 N``. In the limit ``N -> infinity`` the residual along the task, ``Delta = y - beta . beta_hat``,
obeys::

    dDelta/dt = -H_y Delta,   H_y = 2 sqrt(1 + gamma0^2 (y - Delta)^2),   Delta(0) = y,

where ``H = (1/N) sum_i (w_i w_i^T + a_i^2 I)`` is the network's (neural tangent) kernel in input space: its
eigenvalue along the task is ``H_y`` and orthogonal to it ``H_perp = 1 + sqrt(1 + gamma0^2 (y - Delta)^2)``.
Both follow from the per-neuron conservation law ``a_i^2 - |w_i|^2 = const`` of gradient flow.

What a recording sees is the *hidden layer*: responses ``h_i(x) = w_i . x``, whose condition kernel is
``Phi = X M X^T`` with ``M = (1/N) sum_i w_i w_i^T``. ``M`` is the part of ``H`` carried by the first-layer
weights: eigenvalue ``K = H_y / 2 = sqrt(1 + gamma0^2 (y - Delta)^2)`` along the task and
``H_perp - H_y / 2 = 1`` orthogonal to it (the readout term ``mean a_i^2 = H_y / 2`` is isotropic). With a
probe set that spans ``D_eff`` whitened, centred input dimensions and labels along the task direction, the
double-centred kernel-task alignment and the relative kernel change of the hidden layer are therefore::

    task_alignment = K / sqrt(K^2 + D_eff - 1)
    kernel_change  = (K - 1) / sqrt(D_eff)            (= ||Phi_t - Phi_0||_F / ||Phi_0||_F)

A recording measures the change from its first (reference) session, not from the start of training: with the
reference at model time ``t_r``, ``kernel_change = |K - K_r| / sqrt(K_r^2 + D_eff - 1)``
(``= ||Phi_t - Phi_r||_F / ||Phi_r||_F``, the kernels differing only along the task), which the fitter asks
for through ``reference_time`` (:attr:`neurolearn.theory.Model.referenced`).

(docs/theory.md's input-space alignment ``H_y / sqrt(H_y^2 + (D_eff - 1) H_perp^2)`` is the same construction
applied to ``H``; it is returned by :func:`ntk_alignment` but is not what a hidden-layer recording measures.)

Behaviour is linked to the residual by the fraction of task variance explained::

    behavior = chance + (ceiling - chance) (1 - Delta^2 / y^2),

i.e. the probability of a correct choice rises linearly with the explained variance of the network output;
:func:`neurolearn.simulate.two_layer.simulate_lazy_rich_sessions` draws ``correct`` trials with exactly this
probability, computed from the simulated network's own probe-set error.

The ODE has a closed form. With ``u = y - Delta = sinh(theta) / gamma0``, ``b = gamma0 y``,
``c = sqrt(1 + b^2)`` and ``z = e^theta``, the flow is ``dz / dt = -(z - z_+)(z - z_-)`` with roots
``z_+- = b +- c``, so ``z - 1 = (z_+ - 1)(1 - e^{-2ct}) / (1 + A e^{-2ct})`` with
``A = (z_+ - 1)/(1 - z_-)``. It is evaluated in forms free of cancellation (``log1p``, ``expm1``), so one call
costs microseconds.

Only ``gamma0 y`` is identifiable: ``y = 1``. Time is the network's training time in units where the lazy
kernel eigenvalue is 2 (``Delta = e^{-2t}`` when lazy); the fitter's session-to-time scale supplies the rest,
so the model has no time-scale parameter of its own. Times before 0 return the initial state.

Examples
--------
>>> import numpy as np
>>> from neurolearn.theory import MODELS
>>> model = MODELS["lazy-rich"]
>>> round(float(task_residual(0.5, 1.0)), 3)
0.338
>>> float(np.round(model.predict([0.0, 5.0], gamma0=4.0, d_eff=20.0)["task_alignment"][-1], 3))
0.687
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter

__all__ = [
    "LAZY_RICH",
    "task_residual",
    "learned_amplitude",
    "ntk_eigenvalues",
    "hidden_kernel_eigenvalue",
    "ntk_alignment",
    "lazy_rich_statistics",
    "relative_kernel_change",
]


def task_residual(time, richness):
    """Residual ``Delta(t)`` along the task of the mean-field two-layer linear network (``y = 1``).

    Parameters
    ----------
    time : float or array_like
        Training time ``t`` (values below 0 are treated as 0, the start of training).
    richness : float
        ``gamma0 >= 0`` (``gamma0 y`` when the target amplitude ``y`` is not 1). 0 is the lazy limit,
        ``Delta = exp(-2 t)``.

    Returns
    -------
    numpy.ndarray
        ``Delta(t)``, shaped like ``time``, decreasing from 1 to 0, with full relative precision even where
        it is tiny.

    Examples
    --------
    >>> bool(np.isclose(task_residual(1.0, 0.0), np.exp(-2.0)))
    True
    """
    return _closed_form(time, richness)[1]


def learned_amplitude(time, richness):
    """``1 - Delta(t)``, the network's output along the task, with full relative precision where it is tiny.

    Examples
    --------
    >>> float(learned_amplitude(0.0, 1.0)), bool(np.isclose(learned_amplitude(1e-9, 0.0), 2e-9, rtol=1e-6))
    (0.0, True)
    """
    return _closed_form(time, richness)[0]


def _closed_form(time, richness):
    """(1 - Delta, Delta) from the closed form, each evaluated without cancellation."""
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    b = float(richness)
    if not np.isfinite(b) or b < 0:
        raise FitError(f"lazy-rich model: expected richness gamma0 >= 0, found {richness!r}")
    if b == 0.0:
        return -np.expm1(-2.0 * t), np.exp(-2.0 * t)
    c = np.sqrt(1.0 + b * b)
    z_plus_minus_1 = b + b * b / (c + 1.0)  # z_+ - 1 = b + c - 1 without cancellation
    one_minus_z_minus = 1.0 + 1.0 / (b + c)  # 1 - z_- = 1 - b + c
    a = z_plus_minus_1 / one_minus_z_minus
    decay = np.exp(-2.0 * c * t)
    z_minus_1 = z_plus_minus_1 * (-np.expm1(-2.0 * c * t)) / (1.0 + a * decay)
    learned = np.sinh(np.log1p(z_minus_1)) / b
    # Delta = (sinh(theta_+) - sinh(theta)) / b as a product, so it keeps full relative precision as
    # Delta -> 0: theta_+ - theta = log(z_+ / z) with z_+ - z = (z_+ - 1) e^{-2ct} (1 + A) / (1 + A e^{-2ct})
    gap = np.log1p(z_plus_minus_1 * decay * (1.0 + a) / ((1.0 + a * decay) * (1.0 + z_minus_1)))
    theta_plus = np.arcsinh(b)
    residual = 2.0 * np.cosh(theta_plus - 0.5 * gap) * np.sinh(0.5 * gap) / b
    return learned, residual


def ntk_eigenvalues(residual, richness):
    """Eigenvalues ``(H_y, H_perp)`` of the network's input-space kernel along and orthogonal to the task.

    Examples
    --------
    >>> h_task, h_perp = ntk_eigenvalues(0.0, 4.0)
    >>> round(float(h_task), 2), round(float(h_perp), 2)
    (8.25, 5.12)
    """
    k = hidden_kernel_eigenvalue(residual, richness)
    return 2.0 * k, 1.0 + k


def hidden_kernel_eigenvalue(residual, richness):
    """Eigenvalue ``sqrt(1 + gamma0^2 (1 - Delta)^2)`` of the hidden layer's kernel ``M`` along the task.

    Orthogonal to the task that kernel keeps its initial eigenvalue 1.

    Examples
    --------
    >>> round(float(hidden_kernel_eigenvalue(0.0, 1.0)), 4)
    1.4142
    """
    learned = 1.0 - np.asarray(residual, dtype=float)
    return np.sqrt(1.0 + (float(richness) * learned) ** 2)


def ntk_alignment(residual, richness, d_eff):
    """docs/theory.md's input-space alignment ``H_y / sqrt(H_y^2 + (D_eff - 1) H_perp^2)`` of the tangent kernel.

    Examples
    --------
    >>> bool(np.isclose(ntk_alignment(1.0, 1.0, 20.0), 1 / np.sqrt(20.0)))
    True
    """
    h_task, h_perp = ntk_eigenvalues(residual, richness)
    return h_task / np.sqrt(h_task**2 + (d_eff - 1.0) * h_perp**2)


def relative_kernel_change(k, k_reference, d_eff):
    """``||Phi - Phi_r||_F / ||Phi_r||_F`` of kernels that differ only along the task.

    ``Phi`` has eigenvalue ``k`` along the task and 1 on the other ``d_eff - 1`` whitened dimensions, ``Phi_r``
    the same with ``k_reference``: the change is ``|k - k_reference| / sqrt(k_reference^2 + d_eff - 1)``, which
    is ``|k - 1| / sqrt(d_eff)`` from the initial kernel (``k_reference = 1``).

    Examples
    --------
    >>> phi, phi_r = np.diag([3.0, 1.0, 1.0, 1.0]), np.diag([2.0, 1.0, 1.0, 1.0])
    >>> direct = np.linalg.norm(phi - phi_r) / np.linalg.norm(phi_r)
    >>> bool(np.isclose(relative_kernel_change(3.0, 2.0, 4.0), direct))
    True
    """
    k_reference = np.asarray(k_reference, dtype=float)
    return np.abs(np.asarray(k, dtype=float) - k_reference) / np.sqrt(k_reference * k_reference + d_eff - 1.0)


def lazy_rich_statistics(time, gamma0, d_eff, chance, ceiling, reference_time=0.0) -> dict:
    """The model's observables at training times ``time`` (the registered model's ``function``).

    ``kernel_change`` is from the kernel at ``reference_time`` (the first recorded session's model time; 0,
    the start of training, by default).

    Examples
    --------
    At ``t = 0`` the closed form gives ``Delta = 1`` to within a few ulp (the last bit depends on the CPU's
    ``log1p``/``cosh``), so the initial behaviour is ``chance`` to about 1e-15:

    >>> out = lazy_rich_statistics(np.array([0.0]), 1.0, 20.0, 0.5, 1.0)
    >>> [round(float(out[name][0]), 4) for name in ("task_alignment", "behavior", "kernel_change")]
    [0.2236, 0.5, 0.0]
    """
    if not d_eff >= 1.0:
        raise FitError(f"lazy-rich model: expected d_eff >= 1, found {d_eff!r}")
    residual = task_residual(time, gamma0)
    task_eigenvalue = hidden_kernel_eigenvalue(residual, gamma0)
    reference = 1.0
    if reference_time > 0.0:
        reference = float(hidden_kernel_eigenvalue(task_residual(float(reference_time), gamma0), gamma0))
    return _hidden_layer_observables(task_eigenvalue, residual, d_eff, chance, ceiling, reference)


def _hidden_layer_observables(task_eigenvalue, residual, d_eff, chance, ceiling, reference_eigenvalue=1.0) -> dict:
    """What a recording of the hidden layer measures, given its kernel and the network's task residual.

    ``task_eigenvalue`` is the hidden kernel's eigenvalue along the task relative to its isotropic part
    (``K`` in the module docstring), on a probe set spanning ``d_eff`` whitened, centred input dimensions with
    labels along the task; ``residual`` is ``Delta / y``; ``reference_eigenvalue`` is ``K`` in the session
    ``kernel_change`` is measured from. The "silent-alignment" model shares these links.
    """
    k = task_eigenvalue
    return {
        "task_alignment": k / np.sqrt(k * k + (d_eff - 1.0)),
        "kernel_change": relative_kernel_change(k, reference_eigenvalue, d_eff),
        "behavior": chance + (ceiling - chance) * (1.0 - residual * residual),
    }


# Parameters of the probe set and of the behaviour link, shared with the "silent-alignment" model
_LINK_PARAMETERS = (
    Parameter("d_eff", 20.0, (1.0, 1000.0),
              "effective number of whitened input dimensions spanned by the probe conditions",
              log_scale=True, natural=(True, False)),
    Parameter("chance", 0.5, (0.0, 1.0), "behaviour before learning (fraction correct at chance)",
              natural=(True, True)),
    Parameter("ceiling", 1.0, (0.0, 1.0), "behaviour once the task is learned (fraction correct)",
              natural=(True, True)),
)


LAZY_RICH = Model(
    name="lazy-rich",
    description=(
        "Two-layer linear network in the mean-field parameterisation learning one task direction. "
        "Lazy (gamma0 -> 0): the hidden kernel stays frozen, behaviour rises as 1 - exp(-4t) with flat "
        "task alignment and no kernel change. Rich (large gamma0): the hidden kernel grows along the "
        "task while behaviour improves, so alignment and kernel change rise together with learning."
    ),
    formula=(
        "dDelta/dt = -2 sqrt(1 + gamma0^2 (1 - Delta)^2) Delta, Delta(0) = 1; "
        "K = sqrt(1 + gamma0^2 (1 - Delta)^2); task_alignment = K / sqrt(K^2 + d_eff - 1); "
        "kernel_change = (K - 1) / sqrt(d_eff); behavior = chance + (ceiling - chance)(1 - Delta^2)"
    ),
    reference=(
        "Saxe, McClelland & Ganguli 2014 (linear network dynamics); Bordelon & Pehlevan 2022 "
        "(self-consistent dynamical field theory of kernel evolution, mean-field richness gamma0)"
    ),
    parameters=(
        Parameter("gamma0", 1.0, (1e-3, 100.0),
                  "richness gamma0 y of feature learning (y = 1), dimensionless", log_scale=True),
        *_LINK_PARAMETERS,
    ),
    observables=("task_alignment", "kernel_change", "behavior"),
    function=lazy_rich_statistics,
    referenced=("kernel_change",),
    time_unit="training time with lazy kernel eigenvalue 2 (Delta = exp(-2t) when lazy)",
    time_span=2.5,  # model time a learning experiment typically spans (lazy residual exp(-2t) reaches 1 %)
    simulator="neurolearn.simulate.two_layer.simulate_lazy_rich_sessions",
)
