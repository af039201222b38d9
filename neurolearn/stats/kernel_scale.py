"""Relative kernel scale ``kernel_scale`` = ‖HK_tH‖_F / ‖HK_0H‖_F: how much the condition-driven part of the
population kernel grew or shrank from the first session, whatever its shape.

``kernel_change`` reads any change of the double-centred kernel, including one of its overall size: a uniform
gain g on every rate reads g² - 1 there with the representation's geometry unchanged (adversary S3-2: a gain
of 1.3 over days read as a change of 0.69). ``kernel_similarity`` (CKA) is blind to size and reads the shape
alone. ``kernel_scale`` is the missing third number: a gain g reads g² here and 1 in kernel_similarity, while
a reorganised representation moves kernel_similarity whatever its scale does.

The estimate is the square root of the ratio of the sessions' unbiased squared centred norms (U-statistics
over distinct neurons, the same terms :func:`~neurolearn.stats.similarity_ratios.similarity_from_terms` divides
by), its O(1/N) ratio bias removed by the exact leave-one-id-out jackknife before the root
(:func:`~neurolearn.stats.similarity_jackknife.pair_jackknife`: a cell tracked in both sessions is one draw).
"""

from __future__ import annotations

import numpy as np

from neurolearn.stats.kernel_guards import self_term_reasons
from neurolearn.stats.kernel_pairs import same_ids
from neurolearn.stats.neuron_resampling import few_cell_widening, recentre_replicates
from neurolearn.stats.similarity_jackknife import pair_jackknife, paired_effective_cells

__all__ = ["scale_from_terms"]


def scale_from_terms(pairs: dict, reference: int = 0, *, with_reasons: bool = False):
    """Relative kernel scale of every session from the reference (and replicates) from centred pairwise terms.

    Parameters
    ----------
    pairs : dict
        :func:`~neurolearn.stats.kernel_pairs.pairwise_kernel_terms` output (``centred=True``): ``self`` the
        (S,) squared centred norms ‖HΦH‖², their per-neuron ``self_influence`` and bootstrap ``self_boot``.
    reference : int
        Position of the reference session (the first by default).
    with_reasons : bool
        Also return the reasons (``""`` where supported).

    Returns
    -------
    value : ndarray (S,)
        sqrt(‖HΦ_tH‖² / ‖HΦ_0H‖² - jackknife bias); 1 at the reference.
    replicates : ndarray (B, S) or None
        The ratio of the linearised self-term replicates, rooted and re-centred on the value (median), so the
        percentile interval contains it; for a session sharing cells with the reference the deviations are
        scaled by t_0.975(n_eff - 1)/z_0.975 (n_eff the effective cell count of the log ratio's influences:
        tracked cells of heavy-tailed rates covered 0.899 without it, 0.964 with it).
    reasons : ndarray of str (S,), only with ``with_reasons=True``
        Why a value is NaN: a self term not resolved from noise (not above 1 influence SE), too few neurons,
        or a bias-corrected ratio that is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.stats.kernels import condition_statistics
    >>> from neurolearn.stats.kernel_pairs import pairwise_kernel_terms
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> tuning = rng.normal(size=(8, 400))
    >>> stats = [condition_statistics(make_recording(g * tuning, n_trials=4, noise_sd=0.3, rng=s))
    ...          for s, g in enumerate((1.0, 1.3))]
    >>> value, _ = scale_from_terms(pairwise_kernel_terms(stats, centred=True, unbiased=True))
    >>> [round(float(v), 1) for v in value]  # a gain of 1.3 on every rate: 1.3 ** 2
    [1.0, 1.7]
    """
    def ratio(cross, self_t, self_ref):  # the cross term does not enter (pair_jackknife's signature)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self_ref > 0, self_t / np.abs(self_ref), np.nan)

    n = len(pairs["self"])
    reference = reference % n
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(n)]
    session_reasons = self_term_reasons(pairs, "squared centred kernel norm ||HKH||^2")
    reasons = np.full(n, "", dtype=object)
    value = np.full(n, np.nan)
    bias = np.zeros(n)
    n_effective = np.full(n, np.nan)
    for t in range(n):
        if session_reasons[reference]:
            reasons[t] = f"reference {session_reasons[reference]}"
        elif t == reference:
            value[t] = 1.0
        elif session_reasons[t]:
            reasons[t] = session_reasons[t]
        else:
            args = (pairs["cross"][t, reference], pairs["self"][t], pairs["self"][reference])
            same = same_ids(pairs, t, reference)
            bias[t] = pair_jackknife(ratio, args, pairs, t, reference, self_index=(1, 2), same=same)
            corrected = float(ratio(*args)) - bias[t]
            if corrected > 0:
                value[t] = np.sqrt(corrected)
                n_effective[t] = _log_ratio_effective_cells(pairs, t, reference, same)
            else:
                reasons[t] = (f"session {ids[t]!r}: the bias-corrected ratio of squared centred kernel norms is "
                              f"not positive ({corrected:.3g}): the scale is not resolved")
    replicates = None
    if pairs.get("self_boot") is not None:
        self_boot = pairs["self_boot"]
        raw = ratio(None, self_boot, self_boot[:, [reference]]) - bias
        with np.errstate(invalid="ignore"):
            rooted = np.where(raw > 0, np.sqrt(np.abs(raw)), 0.0)
        replicates = few_cell_widening(value, recentre_replicates(value, rooted), n_effective)
        replicates = np.where(np.isfinite(value)[None], np.maximum(replicates, 0.0), np.nan)
        replicates[:, reference] = np.where(np.isfinite(value[reference]), 1.0, np.nan)
    return (value, replicates, reasons) if with_reasons else (value, replicates)


def _log_ratio_effective_cells(pairs, t, reference, same) -> float:
    """(Σu²)²/Σu⁴ of the log ratio's per-id influences u = u_t/S_t - u_0/S_0 for a session sharing cells with
    the reference; NaN for two independent samples."""
    neurons = pairs.get("neurons")
    if neurons is None or not pairs.get("unbiased"):
        return float("nan")
    return paired_effective_cells(np.asarray(neurons[t]), np.asarray(neurons[reference]),
                                  pairs["self_influence"][t] / float(pairs["self"][t]),
                                  -pairs["self_influence"][reference] / float(pairs["self"][reference]), same)
