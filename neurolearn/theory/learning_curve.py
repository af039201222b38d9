"""The "kernel-learning-curve" model: kernel regression's generalisation error over training.

:func:`neurolearn.theory.kernel_regression.kernel_generalization_error` solves the self-consistent equations
for the error of kernel regression from the kernel's spectrum; the registered model ``"kernel-learning-curve"`` turns it
into a learning curve over training for power-law spectra: training time is the number of training examples
``P' = max(tau, 0)`` (so the fitter's session-to-time scale is "examples per session"), the error is the
fraction of target variance not predicted (``sum v_k^2 = 1``: the units of
:func:`neurolearn.stats.spectral.predicted_learning_curve`), and behaviour is linked to it by the explained
variance, ``behavior = chance + (ceiling - chance)(1 - min(E_g, 1))`` -- the same link as the ``"lazy-rich"``
model, and the probability with which
:func:`neurolearn.simulate.two_layer.simulate_readout_learning_sessions` draws correct trials. The model's
spectra have 400 modes (as docs/theory.md's reference table): ridgeless with label noise, the error diverges at
``P' = 400`` (the interpolation peak of a 400-mode kernel); use ``ridge > 0`` beyond that.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError, FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.kernel_regression import N_MODES, power_law_generalization_error

__all__ = ["kernel_learning_curve_statistics", "KERNEL_LEARNING_CURVE"]

def kernel_learning_curve_statistics(time, eigen_decay, target_decay, noise, ridge, chance, ceiling) -> dict:
    """Observables of the ``"kernel-learning-curve"`` model at training amounts ``time`` (its ``function``).

    Examples
    --------
    >>> out = kernel_learning_curve_statistics(np.array([0.0, 80.0]), 1.5, 2.0, 0.0, 0.0, 0.5, 1.0)
    >>> np.round(out["generalization_error"], 4).tolist(), np.round(out["behavior"], 4).tolist()
    ([1.0, 0.0168], [0.5, 0.9916])
    """
    for name, value in (("eigen_decay", eigen_decay), ("target_decay", target_decay)):
        if not (np.isfinite(value) and value > 0):
            raise FitError(f"kernel-learning-curve model: expected {name} > 0, found {value!r}")
    n_train = np.clip(np.asarray(time, dtype=float), 0.0, None)
    try:
        error = power_law_generalization_error(n_train, eigen_decay, target_decay, noise=noise, ridge=ridge)
    except DataError as exc:
        raise FitError(f"kernel-learning-curve model: {exc}") from None
    explained = 1.0 - np.clip(error, 0.0, 1.0)
    return {"generalization_error": error, "behavior": chance + (ceiling - chance) * explained}


KERNEL_LEARNING_CURVE = Model(
    name="kernel-learning-curve",
    description=(
        "A fixed representation read out by kernel (ridge) regression from a growing number of training "
        "examples. The spectrum's decay (eigen_decay) and how fast the target's power falls across its "
        "eigenmodes (target_decay) set how quickly generalisation error falls with training; behaviour "
        "follows the explained target variance. Signature in data: behaviour improves while the "
        "representation (kernel) stays fixed."
    ),
    formula=(
        "P' = max(tau, 0) training examples; eta_k ~ k^-eigen_decay, v_k^2 ~ k^-target_decay "
        "(k = 1..400, sum eta = sum v^2 = 1); kappa = ridge + kappa sum eta/(P' eta + kappa); "
        "gamma = sum P' eta^2/(P' eta + kappa)^2; "
        "generalization_error = [sum v^2 kappa^2/(P' eta + kappa)^2 + noise gamma]/(1 - gamma); "
        "behavior = chance + (ceiling - chance)(1 - min(generalization_error, 1))"
    ),
    reference=(
        "Bordelon, Canatar & Pehlevan 2020 (spectrum dependent learning curves in kernel regression); "
        "Canatar, Bordelon & Pehlevan 2021 (spectral bias and task-model alignment)"
    ),
    parameters=(
        Parameter("eigen_decay", 1.5, (0.5, 4.0),
                  "power-law exponent of the kernel eigenvalues eta_k ~ k^-a"),
        Parameter("target_decay", 2.0, (0.5, 6.0),
                  "power-law exponent of the target power across eigenmodes v_k^2 ~ k^-r"),
        Parameter("noise", 0.0, (0.0, 1.0), "label-noise variance, as a fraction of the target variance"),
        Parameter("ridge", 0.0, (0.0, 0.1), "ridge of the readout, relative to the kernel's trace",
                  identifiable=False),
        Parameter("chance", 0.5, (0.0, 1.0), "behaviour before learning (fraction correct at chance)"),
        Parameter("ceiling", 1.0, (0.0, 1.0),
                  "behaviour with zero generalisation error (fraction correct)"),
    ),
    observables=("generalization_error", "behavior"),
    function=kernel_learning_curve_statistics,
    time_unit=f"training examples P' (the fitter's time_scale is examples per session); {N_MODES} modes",
    time_span=100.0,
    simulator="neurolearn.simulate.two_layer.simulate_readout_learning_sessions",
)
