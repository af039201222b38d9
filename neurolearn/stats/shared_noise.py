"""Trial noise shared across neurons: the one assumption of the kernel statistics' intervals a session can test.

The kernel statistics' intervals resample neurons, which carries each neuron's own trial noise but not noise
that every neuron shares on a trial (a common gain, arousal, a motion artefact): such noise moves all condition
means together and does not average out over neurons. Each session's
:attr:`~neurolearn.stats.kernels.ConditionStatistics.shared_noise_ratio`, R = Var(Σ_i e_ti) / Σ_i Var(e_ti) of
the within-condition residuals e (1 + (N - 1) ρ̄, ρ̄ the mean noise correlation), is about 1 when the noise is
independent. The variance it adds to a kernel statistic is a fraction of R - 1 that depends on the statistic
and the shape: with a shared gain of CV 0.3 (R 50-105 at 600 neurons x 3 trials x 8 conditions) the
neuron-bootstrap intervals of participation_ratio, kernel_similarity and task_alignment covered 0.60, 0.55 and 0.80.

Those three statistics' intervals, and kernel_change's, now carry the shared trial noise (:mod:`neurolearn.stats.trial_noise`: the
cross-neuron part of the trials' first-order influences, added to the replicates of every session where it is
detected), so they are not flagged. The other kernel statistics (:data:`UNCORRECTED`) keep the neuron-bootstrap
interval: where R exceeds both 6 (by the measure above a 95 % interval covering about 0.92 or less) and the
99.9 % point of its null χ²_df / df, they keep their value and interval and are flagged, with one warning per
session naming them; below, a shared component may still narrow their intervals a little, unflagged. The ratio
is stored as the per-session variable ``shared_noise_ratio``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import chi2

from neurolearn.data import SESSION, flag_name
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.trial_noise import CORRECTED

__all__ = ["SHARED_NOISE_FLAG", "MATERIAL_RATIO", "UNCORRECTED", "shared_noise_threshold",
           "flag_shared_trial_noise"]

#: R above which the shared noise's missed variance is material (see the module docstring)
MATERIAL_RATIO = 6.0

SHARED_NOISE_FLAG = ("trial noise shared across neurons (population-sum residual variance {ratio:.3g} x the "
                     "neurons' summed variances; 1 if independent): the neuron-bootstrap interval misses that "
                     "variance and is too narrow (value kept)")


#: the kernel statistics whose intervals do not carry the shared trial noise (flagged where it is material)
UNCORRECTED = ("task_difficulty", "spectral_power", "powerlaw_exponent", "code_overlap", "target_agreement",
               "reference_agreement", "kernel_scale")


def shared_noise_threshold(df: int) -> float:
    """The ratio above which a session is flagged: max(6, χ²_df(0.999) / df).

    Examples
    --------
    >>> shared_noise_threshold(24), round(shared_noise_threshold(2), 2)
    (6.0, 6.91)
    """
    return float(max(MATERIAL_RATIO, chi2.ppf(0.999, max(int(df), 1)) / max(int(df), 1)))


def flag_shared_trial_noise(ds, stats, names):
    """Add ``shared_noise_ratio`` to the kernel family's Dataset and flag the statistics of ``names`` whose
    intervals do not carry shared trial noise (not in :data:`~neurolearn.stats.trial_noise.CORRECTED`) in
    sessions above :func:`shared_noise_threshold` (a pairwise entry when either session is), values kept."""
    ratios = np.array([np.nan if s is None else float(getattr(s, "shared_noise_ratio", np.nan)) for s in stats])
    ds["shared_noise_ratio"] = (SESSION, ratios, {
        "meaning": "within-condition variance of the trials' population sums over the neurons' summed "
                   "within-condition variances: 1 + (N - 1) x mean noise correlation; about 1 when trial noise "
                   "is independent across neurons, as the kernel statistics' neuron-bootstrap intervals assume"})
    flagged = np.zeros(ratios.size, bool)
    for k, s in enumerate(stats):
        if s is not None and np.isfinite(ratios[k]):
            df = int(np.sum(np.asarray(s.n_trials) - 1))
            flagged[k] = ratios[k] > shared_noise_threshold(df)
    names = [name for name in names if name not in CORRECTED]
    if not flagged.any():
        return ds
    reported = []
    for name in names:
        if name not in ds or flag_name(name) not in ds:
            continue
        values, flags = ds[name].values, ds[flag_name(name)].values.astype(object)
        # a pairwise entry when either session is flagged (a session against itself is exactly 1: not judged)
        rows = flagged if values.ndim == 1 else (flagged[:, None] | flagged[None, :]) & ~np.eye(flagged.size, dtype=bool)
        ratio = ratios if values.ndim == 1 else np.fmax(ratios[:, None], ratios[None, :])
        if (rows & np.isfinite(values)).any():
            reported.append(name)
        for index in zip(*np.nonzero(rows & np.isfinite(values))):
            note = SHARED_NOISE_FLAG.format(ratio=ratio[index])
            flags[index] = note if not flags[index] else f"{flags[index]}; {note}"
        ds[flag_name(name)] = (ds[flag_name(name)].dims, flags.astype(str))
    if not reported:
        return ds
    for k in np.flatnonzero(flagged):
        session = str(ds[SESSION].values[k])
        corrected = ", ".join(c for c in CORRECTED if c in ds)
        warnings.warn(StatisticWarning(f"kernel statistics {', '.join(reported)} of session {session!r}: "
                                       + SHARED_NOISE_FLAG.format(ratio=ratios[k])
                                       + f" ({corrected}: interval includes it)"), stacklevel=3)
    return ds
