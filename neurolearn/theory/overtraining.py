"""Hidden progress during overtraining: behaviour saturates while margins keep growing ~log t.

Reduced model of :mod:`neurolearn.simulate.logistic` ("Do mice grok?", Kumar et al. 2025). Under the logistic
loss on separable data, gradient descent drives the predictor's scale along the max-margin direction to
infinity (Soudry et al. 2018): once the training set is separated, only the support vectors contribute, with
gradient weight ``sigmoid(-z)``, so the margin-scale ``z`` (the logit of the support vectors) obeys

    dz/dtau = 1 / (1 + exp(z)),   z(0) = 0,

(tau in units of ``1/(learning rate * max-margin^2)``; the fitter's session-to-time map sets it). The solution
is closed-form, ``z + exp(z) = tau + 1``, i.e. ``z = C - omega(C)`` with ``C = tau + 1`` and ``omega`` the
Wright omega function: linear growth at first, then ``z ~ log tau`` forever. With the squared error the same
mode obeys ``dz/dtau = 1 - z`` and stops at the target (``z = 1 - exp(-tau)``): no hidden progress
(:func:`margin_scale` with ``loss="mse"``).

Observables (links from ``z`` to what the extractors measure; gains and starting levels are parameters):

* ``behavior`` (accuracy on trained stimuli) ``= lapse/2 + (1 - lapse) Phi(z / behavior_width)``: saturates
  once the training set is separated (``behavior_width`` is the spread of per-stimulus logits in units of z);
* ``margin`` ``= margin_initial + margin_gain z``: the max-margin of the *noiseless* condition means in common
  response units (the estimand of :func:`neurolearn.stats.readout.margin`, which does not depend on the trial
  count). The representation stretches along the readout direction as the weights grow. Under gradient flow
  of ``f = a . W x / sqrt(N D)``, ``a a^T - W W^T`` is conserved (plain GD at learning rate 0.5: drift
  7e-4 of ``|W W^T|`` over 1800 steps); once the gradient lies along the max-margin input direction ``v``,
  ``(a, w = W v)`` obey ``d(a, w)/ds = (w, a)``, so ``|a|^2 - |w|^2`` and ``a ^ w`` are conserved and
  ``|w|^4 ~ K + p^2`` (``p = a . w``, the predictor's scale along ``v``). The hidden means' margin grows like
  ``|w|``: ``margin^4 = A + B |W^T a|^2`` on the network's exact margin (R2 0.993-0.9999, seeds 3-5, 16
  sessions). In the model's ``z`` (which starts at 0 while the support vectors' logit starts negative)
  the two-parameter forms of that law, ``(m0^4 + g^2 z^2)^(1/4)`` and ``sqrt(m0^2 + g z)``, fit the exact
  margin worse than the linear link does (fitted jointly with the other observables over 12 networks at 16
  and 32 trials: median R2 0.961 and 0.948 against 0.981, range 0.94-0.998), so the link is linear;
* ``decoder_accuracy`` and ``heldout_accuracy`` ``= Phi(Phi^-1(initial) + gain z)``: Gaussian class-separation
  read-out whose separation grows with the stretch;
* ``flip_fraction`` (examples whose cross-validated signed distance turns from wrong to right since the
  previous session, as :func:`neurolearn.stats.readout.flip_fraction` reports it for consecutive sessions)
  ``= flip_noise + heldout_accuracy(tau_k) - heldout_accuracy(tau_{k-1})`` between consecutive entries of
  ``time`` (``flip_noise`` at the first): under a rank-preserving shift of the per-example distances exactly
  the examples crossing zero flip, all from wrong to right, on top of the back-and-forth flips measurement
  noise alone causes (``flip_noise``). Call ``predict`` at the session times for this observable.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri, wrightomega

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter

__all__ = ["MODEL", "margin_scale", "overtraining_statistics"]


def margin_scale(time, loss: str = "logistic"):
    """Scale ``z(tau)`` of the predictor along the max-margin direction, ``z(0) = 0``.

    ``"logistic"``: ``z + exp(z) = tau + 1`` (grows ~log tau without bound); ``"mse"``: ``z = 1 - exp(-tau)``
    (saturates). Negative times give 0.

    Examples
    --------
    >>> tau = np.array([0.0, 1e3, 1e6])
    >>> z = margin_scale(tau)
    >>> np.allclose(z + np.exp(z), tau + 1.0), [round(float(v), 1) for v in z]  # ~ log(tau) at large tau
    (True, [0.0, 6.9, 13.8])
    >>> round(float(margin_scale(1e6, loss="mse")), 3)
    1.0
    """
    t = np.clip(np.asarray(time, dtype=float), 0.0, None)
    if loss == "logistic":
        C = t + 1.0
        return np.real(C - wrightomega(C))
    if loss == "mse":
        return 1.0 - np.exp(-t)
    raise FitError(f"margin_scale: expected loss 'logistic' or 'mse', found {loss!r}")


def overtraining_statistics(
    time,
    behavior_width=0.3,
    lapse=0.0,
    margin_initial=0.5,
    margin_gain=0.1,
    decoder_initial=0.7,
    decoder_gain=0.3,
    heldout_initial=0.6,
    heldout_gain=0.1,
    flip_noise=0.02,
    loss: str = "logistic",
) -> dict:
    """Predicted statistics at training times ``time`` (see the module docstring for the links).

    Examples
    --------
    >>> out = overtraining_statistics([0.0, 10.0, 1000.0])
    >>> [round(float(v), 2) for v in out["behavior"]]  # saturated early
    [0.5, 1.0, 1.0]
    >>> [round(float(v), 2) for v in out["margin"]]  # keeps growing ~log t
    [0.5, 0.72, 1.19]
    """
    z = np.atleast_1d(margin_scale(time, loss))
    decoder = ndtr(ndtri(decoder_initial) + decoder_gain * z)
    heldout = ndtr(ndtri(heldout_initial) + heldout_gain * z)
    return {
        "behavior": 0.5 * lapse + (1.0 - lapse) * ndtr(z / behavior_width),
        "margin": margin_initial + margin_gain * z,
        "decoder_accuracy": decoder,
        "heldout_accuracy": heldout,
        "flip_fraction": flip_noise + np.diff(heldout, prepend=heldout[:1]),
    }


MODEL = Model(
    name="overtraining",
    description=(
        "Hidden progress during overtraining: a two-layer network trained with the logistic loss on a "
        "separable task separates the training set early (behaviour saturates), but its weights keep "
        "growing and rotating toward the max-margin solution, so the representation's margin, decoding "
        "accuracy and held-out accuracy keep rising ~log t, and wrongly decoded examples flip to correct."
    ),
    formula=(
        "z + exp(z) = tau + 1 (logistic mode dynamics dz/dtau = sigmoid(-z)); "
        "behavior = lapse/2 + (1-lapse) Phi(z/behavior_width); margin = margin_initial + margin_gain z; "
        "decoder_accuracy = Phi(Phi^-1(decoder_initial) + decoder_gain z); "
        "heldout_accuracy = Phi(Phi^-1(heldout_initial) + heldout_gain z); "
        "flip_fraction[k] = flip_noise + heldout_accuracy[k] - heldout_accuracy[k-1] "
        "(consecutive sessions)"
    ),
    reference=(
        "Kumar et al. (2025), Do mice grok? Glimpses of hidden progress during overtraining in sensory "
        "cortex; Soudry et al. (2018), The implicit bias of gradient descent on separable data."
    ),
    parameters=(
        Parameter(
            "behavior_width", 0.3, (0.01, 10.0),
            "spread of per-stimulus logits in units of the margin scale z: how early behaviour saturates",
            log_scale=True,
        ),
        Parameter("lapse", 0.0, (0.0, 0.5), "lapse rate: behaviour saturates at 1 - lapse/2",
                  natural=(True, False)),
        Parameter("margin_initial", 0.5, (0.0, 10.0), "representation margin before training (link)"),
        Parameter("margin_gain", 0.1, (0.0, 10.0), "margin gained per unit of z (link)"),
        Parameter(
            "decoder_initial", 0.7, (0.5, 0.999), "cross-validated decoding accuracy before training"
        ),
        Parameter("decoder_gain", 0.3, (0.0, 10.0), "decoder d' gained per unit of z (link)"),
        Parameter("heldout_initial", 0.6, (0.5, 0.999), "held-out stimulus accuracy before training"),
        Parameter("heldout_gain", 0.1, (0.0, 10.0), "held-out d' gained per unit of z (link)"),
        Parameter(
            "flip_noise", 0.02, (0.0, 0.5),
            "fraction of examples flipping wrong -> right between sessions from measurement noise alone",
            natural=(True, False),
        ),
    ),
    observables=("behavior", "margin", "decoder_accuracy", "heldout_accuracy", "flip_fraction"),
    function=overtraining_statistics,
    simulator="neurolearn.simulate.logistic.simulate_overtraining_sessions",
)
