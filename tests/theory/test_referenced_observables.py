"""Observables measured from a reference session (Model.referenced, ``reference_time``).

A recording's kernel_change is the change from its first session's kernel. Each model that predicts it must
give that estimand for a reference at any model time; the expected values here are built from the kernels
themselves (the task eigenvalue read back from the model's own ``task_alignment``, or the transfer model's
2 x 2 kernel), as explicit matrices, not from the kernel_change code path.
"""

import numpy as np
import pytest

from neurolearn.errors import FitError
from neurolearn.theory import MODELS
from neurolearn.theory.transfer import transfer_trajectory

TIMES = np.array([0.3, 0.6, 1.0, 2.0, 4.0])
REFERENCE = 0.3
# models whose hidden kernel is K along the task and 1 on the other d_eff - 1 whitened dimensions
ONE_DIRECTION = {
    "lazy-rich": {"gamma0": 4.0, "d_eff": 12.0},
    "silent-alignment": {"init_variance": 0.05, "d_eff": 12.0},
    "learning-rule": {"gamma0": 3.0, "feedback": 0.5, "hebbian": 0.2, "d_eff": 12.0},
    "deep-linear": {"gamma0": 1.5, "d_eff": 12.0},
}


def _kernel(k, d_eff):
    return np.diag([k] + [1.0] * (int(d_eff) - 1))


def _eigenvalue_from_alignment(alignment, d_eff):
    """K from task_alignment = K / sqrt(K^2 + d_eff - 1)."""
    return alignment * np.sqrt(d_eff - 1.0) / np.sqrt(1.0 - alignment**2)


def test_every_model_predicting_kernel_change_declares_it_referenced():
    # transfer's reference is the switch by construction: its session 0 is the pre-switch state (model time <= 0),
    # so its fitted reference is that state whatever the onset; it computes a later reference on request only
    for model in MODELS.values():
        if "kernel_change" in model.observables and model.name != "transfer":
            assert "kernel_change" in model.referenced, model.name
    assert not MODELS["transfer"].referenced


@pytest.mark.parametrize("name", sorted(ONE_DIRECTION))
def test_kernel_change_from_a_later_reference_is_the_frobenius_change_of_the_kernels(name):
    model, params = MODELS[name], ONE_DIRECTION[name]
    d_eff = params["d_eff"]
    out = model.predict(TIMES, reference_time=REFERENCE, **params)
    at_reference = model.predict([REFERENCE], **params)
    alignment = np.atleast_2d(out["task_alignment"].values)  # (layers, time)
    reference_alignment = np.atleast_2d(at_reference["task_alignment"].values)[:, 0]
    change = np.atleast_2d(out["kernel_change"].values)
    for layer in range(alignment.shape[0]):
        k_r = _eigenvalue_from_alignment(reference_alignment[layer], d_eff)
        phi_r = _kernel(k_r, d_eff)
        for j, a in enumerate(alignment[layer]):
            phi = _kernel(_eigenvalue_from_alignment(a, d_eff), d_eff)
            direct = np.linalg.norm(phi - phi_r) / np.linalg.norm(phi_r)
            np.testing.assert_allclose(change[layer, j], direct, rtol=1e-7, atol=1e-9)
    assert np.all(np.abs(change[:, 0]) < 1e-9)  # the reference itself has not changed from itself
    # the change keeps growing after the reference, but by less than the change from the start of training
    from_start = np.atleast_2d(model.predict(TIMES, **params)["kernel_change"].values)
    assert np.all(change[:, 1:] < from_start[:, 1:])


@pytest.mark.parametrize("name", sorted(ONE_DIRECTION) + ["transfer"])
def test_reference_at_the_start_of_training_is_the_default(name):
    model = MODELS[name]
    default = model.predict(TIMES, **ONE_DIRECTION.get(name, {}))
    at_zero = (model.predict(TIMES, reference_time=0.0, **ONE_DIRECTION.get(name, {})) if model.referenced else
               model.function(TIMES, reference_time=0.0, **(model.defaults() | ONE_DIRECTION.get(name, {}))))
    for observable in model.observables:
        np.testing.assert_allclose(np.asarray(at_zero[observable]), default[observable].values, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rho", [-1.0, 0.0, 0.6])
def test_transfer_from_a_post_switch_reference(rho):
    params = {"rho": rho, "gamma0": 2.0, "learned": 0.9, "d_eff": 6.0, "decision_noise": 0.5}
    out = MODELS["transfer"].function(TIMES, reference_time=REFERENCE, **params)
    state = transfer_trajectory(np.append(TIMES, REFERENCE), rho, params["gamma0"], params["learned"])

    def embedded(m11, m12, m22):
        m = np.eye(int(params["d_eff"]))
        m[:2, :2] = [[m11, m12], [m12, m22]]
        return m

    kernels = [embedded(*row) for row in state["kernel"]]
    reference = kernels[-1]
    target = np.zeros(int(params["d_eff"]))
    target[:2] = rho, np.sqrt(1.0 - rho * rho)  # after the switch both sessions are trained on task 2
    for j, m in enumerate(kernels[:-1]):
        np.testing.assert_allclose(np.asarray(out["kernel_change"])[j],
                                   np.linalg.norm(m - reference) / np.linalg.norm(reference), rtol=1e-9, atol=1e-12)
        # the reference's target is the current one: agreement 1 by construction
        np.testing.assert_allclose(np.asarray(out["reference_agreement"])[j], 1.0, rtol=1e-12)
        np.testing.assert_allclose(target @ m @ target / np.linalg.norm(m), np.asarray(out["task_alignment"])[j],
                                   rtol=1e-9)


def test_a_model_without_referenced_observables_refuses_a_reference_time():
    with pytest.raises(FitError, match="expected no reference_time"):
        MODELS["integrator"].predict(TIMES, reference_time=0.5)
