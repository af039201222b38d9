"""Grokking as the lazy-to-rich transition: training performance first, generalisation and alignment later.

Reduced model of :mod:`neurolearn.simulate.grokking` (Kumar, Bordelon, Gershman & Pehlevan 2024). There the
test loss is an exact function of the summary statistics ``dw`` and ``dM = M - M(0)``
(:func:`neurolearn.simulate.grokking.summary_test_loss`):

    L = 1/4 (|beta|^2/D - (alpha eps/D) tr dM)^2 + ||alpha eps dM - beta beta^T||_F^2/(2 D^2)
        + (alpha^2/D)|dw|^2.

Its dynamics separate into two timescales:

* **lazy** (kernel) phase: in function space every step moves the predictor by O(eta0) for any ``alpha``, so
  the training set is fitted at the rate of the initial kernel, ``L_train = L0 exp(-tau)`` (tau measured in
  units of this kernel time, which is what the fitter's session-to-time map sets). The kernel solution
  explains only a fraction ``1 - plateau`` of the test target (with ``P << D^2`` samples it cannot represent
  ``beta beta^T``), so the test loss falls to a plateau ``plateau * L0``.
* **rich** phase: the remaining test loss is the misaligned part ``||alpha eps dM - beta beta^T||``. It is
  removed only as ``M`` rotates onto ``beta beta^T``; the per-neuron weight change needed scales as
  ``1/alpha`` while the lazy residual that drives it has already been fitted away, so this happens at a
  slower rate ``rich_rate`` (``<< 1``, smaller the lazier the network). To first order the misaligned part
  decays exponentially, ``L_test = L0 [(1 - plateau) exp(-tau) + plateau exp(-rich_rate tau)]``.

Observables: ``behavior = 1 - L_train/L0`` (performance on trained stimuli: :func:`neurolearn.summarize`'s
``behavior``, which counts only the trials its held-out column does not mark, attr ``behavior_trials``; a
behaviour pooled over held-out trials reads a network that fails to generalise at 0.67 where this is 1), and
``generalization_error = L_test/L0`` (``1 - heldout_behavior``, ``generalization="behavior"``); the hidden representation's kernel-task alignment rises with the part of the target the network
has learned, ``task_alignment = alignment_initial + (alignment_final - alignment_initial) (1 - L_test/L0)``
(the two alignment levels are link parameters: what a centred kernel alignment of the recorded hidden layer
reads before learning and once the target is learned). In the simulated network most of this rise happens in
the lazy phase and the rest, slowly, with the rich phase. Signature: behaviour saturates first; alignment and
held-out performance rise later, with a delay ``~ 1/rich_rate`` that grows with laziness.
"""

from __future__ import annotations

import numpy as np

from neurolearn.theory.base import Model, Parameter

__all__ = ["MODEL", "grokking_statistics"]


def grokking_statistics(
    time, rich_rate=0.1, plateau=0.5, alignment_initial=0.2, alignment_final=0.6
) -> dict:
    """Predicted ``behavior``, ``generalization_error`` and ``task_alignment`` at training times ``time``.

    Times before 0 are treated as 0 (nothing learned yet).

    Examples
    --------
    >>> out = grokking_statistics([0.0, 5.0, 100.0], rich_rate=0.05, plateau=0.4)
    >>> [round(float(v), 3) for v in out["behavior"]]  # saturates on the lazy timescale
    [0.0, 0.993, 1.0]
    >>> [round(float(v), 3) for v in out["generalization_error"]]  # falls to the plateau, then slowly below
    [1.0, 0.316, 0.003]
    """
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    lazy = np.exp(-t)
    rich = np.exp(-rich_rate * t)
    generalization = (1.0 - plateau) * lazy + plateau * rich
    return {
        "behavior": 1.0 - lazy,
        "generalization_error": generalization,
        "task_alignment": alignment_initial + (alignment_final - alignment_initial) * (1.0 - generalization),
    }


MODEL = Model(
    name="grokking",
    description=(
        "Grokking as a lazy-to-rich transition (quadratic network on a quadratic target): performance on "
        "trained stimuli saturates on the fast kernel timescale while generalisation and the alignment "
        "of the representation with the task improve only later, as features rotate onto the task; the "
        "delay "
        "grows with laziness."
    ),
    formula=(
        "behavior = 1 - exp(-tau); "
        "generalization_error = (1-plateau) exp(-tau) + plateau exp(-rich_rate tau); "
        "task_alignment = alignment_initial "
        "+ (alignment_final - alignment_initial)(1 - generalization_error)"
    ),
    reference="Kumar, Bordelon, Gershman & Pehlevan (2024), Grokking as the transition from lazy to rich "
    "training dynamics.",
    parameters=(
        Parameter(
            "rich_rate", 0.1, (1e-4, 1.0),
            "rate of feature alignment relative to the lazy (kernel) fit of the training set; "
            "smaller = lazier network, longer delay",
            log_scale=True,
        ),
        Parameter(
            "plateau", 0.5, (0.0, 1.0),
            "test loss (fraction of the initial) left after the lazy phase: the part of the target the "
            "initial kernel cannot represent",
            natural=(True, True),
        ),
        Parameter(
            "alignment_initial", 0.2, (-1.0, 1.0),
            "kernel-task alignment the recorded representation reads before feature learning (link)",
            natural=(True, True),
        ),
        Parameter(
            "alignment_final", 0.6, (-1.0, 1.0),
            "kernel-task alignment it reads once features have aligned with the task (link)",
            natural=(True, True),
        ),
    ),
    observables=("behavior", "generalization_error", "task_alignment"),
    function=grokking_statistics,
    simulator="neurolearn.simulate.grokking.simulate_grokking_sessions",
    # 1 - fraction correct on held-out trials (L_test / L0); a readout of the recorded representation trained on
    # the recorded training stimuli measures something else (docs/theory.md §2.3)
    measured_as=(("generalization_error", "generalization_method", "behavior",
                  "summarize(..., generalization='behavior'), on the command line --generalization behavior"),),
)
