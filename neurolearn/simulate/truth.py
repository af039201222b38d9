"""The ground truth a session simulator returns beside its recordings, and what the simulators share.

:class:`SimulatedLearning` holds the true parameters of the reduced model a simulated network reduces to, and
the noiseless quantities the statistics estimate. The helpers below (the models' behaviour link, session ids,
the noiseless kernel-label alignment) are shared by the simulators of :mod:`neurolearn.simulate.two_layer`
and :mod:`neurolearn.simulate.readout_learning`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotation only
    from neurolearn.simulate.two_layer import LinearNetworkRun

__all__ = ["SimulatedLearning"]


@dataclass
class SimulatedLearning:
    """Ground truth of simulated sessions, alongside the recordings made from them.

    Attributes
    ----------
    model : str
        Name of the reduced model this network reduces to (``"lazy-rich"``, ``"silent-alignment"``).
    parameters : dict
        True values of that model's parameters (``model.predict(training_time, **parameters)`` is the theory).
    training_time : ndarray (S,)
        Training time at each session.
    behavior : ndarray (S,)
        Probability of a correct trial in each session (the behaviour link applied to the network's error).
    task_alignment, kernel_change : ndarray (S,)
        Double-centred kernel-label alignment and relative kernel change of the *noiseless* condition
        kernel of the recorded units.
    condition_kernels : ndarray (S, P, P)
        Noiseless condition kernels ``R R^T / n`` of the recorded units.
    probe_inputs : ndarray (P, D)
    labels : ndarray (P,)
    run : LinearNetworkRun or None
        The network's trajectory (residual, kernel eigenvalues, recorded weights), for trained first layers.
    generalization_error : ndarray (S,) or None
        Exact test error of the readout relative to the target power, where the model predicts it.
    extra : dict
        Anything else a simulator records (e.g. ``n_train`` per session).
    """

    model: str
    parameters: dict
    training_time: np.ndarray
    behavior: np.ndarray
    task_alignment: np.ndarray
    kernel_change: np.ndarray
    condition_kernels: np.ndarray
    probe_inputs: np.ndarray
    labels: np.ndarray
    run: LinearNetworkRun | None = None
    generalization_error: np.ndarray | None = None
    extra: dict = field(default_factory=dict)



def _behavior(error, chance, ceiling):
    """Probability correct, ``chance + (ceiling - chance)(1 - min(error, 1))``: the models' behaviour link."""
    return chance + (ceiling - chance) * (1.0 - np.clip(error, 0.0, 1.0))


def _session_ids(n_sessions: int) -> list[str]:
    return [f"session-{s:02d}" for s in range(n_sessions)]


def _centred_alignment(kernel, labels):
    """Double-centred alignment <H K H, H y y^T H> / (|H K H| |H y y^T H|) (ground truth, noiseless)."""
    centred = kernel - kernel.mean(0) - kernel.mean(1)[:, None] + kernel.mean()
    y = labels - labels.mean()
    return float(y @ centred @ y / (np.linalg.norm(centred) * (y @ y)))
