"""Condition-locked drive in the dynamics fit: what each condition's trials share is an input, not recurrence.

A held stimulus makes activity differ between conditions by an offset that is constant within a trial. To
x_{k+1} = A x_k + B u_k + c that offset looks like persistence: the lagged instruments carry the condition's
mean too, so the fit reads A ≈ I along the tuning directions (memoryless Poisson cells with sustained tuning
read |λ| ≈ 1.0 [0.97, 1.03], τ = inf). The dynamics are therefore fitted to activity *within* conditions, in
one of two ways (``condition_means``):

``"time"`` (the default, unless a declared input is the same in every trial of a condition)
    Each condition's mean time course (its PSTH, the condition × time means over its trials) is removed from
    every variable. For linear dynamics this leaves A exactly: the condition mean follows
    x̄_{k+1} = A x̄_k + B ū_k + c_c, so the deviation δx = x − x̄ obeys δx_{k+1} = A δx_k + B δu_k + δw_k. The
    means are over trials at the same bin, so (unlike demeaning over time) the deviations' innovations stay
    uncorrelated with their lags: no finite-trial (Nickell) bias, only a factor (n_c − 1)/n_c on every
    moment of a condition of n_c trials, which cancels in A. A single-trial condition carries nothing. What
    identifies A is trial-to-trial variability that the dynamics carry forward (noisy evidence, intrinsic
    noise); a response that is the same in every trial of a condition is an input of unknown time course,
    from which no recurrence can be told apart.

``"held"`` (with a declared input frozen per condition, where the data show a held drive:
:mod:`neurolearn.stats.dynamics_select`)
    Each condition's constant (a held, undeclared part of its drive) is absorbed by condition indicators
    among the exogenous inputs and instruments (Frisch-Waugh: the condition means over its trials and bins
    are removed). The declared input explains the time course, so a network driven by a frozen input
    sequence per condition (trials differing only by observation noise) keeps its slow mode, though less
    precisely: the indicators take the level of each condition's trajectory, which is what tells a leak
    from a perfect integrator. Intrinsic noise then gives a dynamic-panel bias of order
    (1 + λ)/(n_c · bins); an undeclared time-varying drive (an onset transient) is read as dynamics.

``"none"``: the pre-2026-12-06 fit (activity centred per neuron only). Conditions come from a trial coord
(``conditions``, default ``"stimulus"`` where present; without one all trials are one condition, so the mean
time course common to all trials is the input).

Everything is applied to the fit's summed second moments (per-trial moments, and per-trial column sums at
each transition for ``"time"``), re-weighted in each bootstrap resample, so the condition means are
re-estimated from the resampled trials as the point estimate estimates them from all.
"""

from __future__ import annotations

import numpy as np

from neurolearn.data import TRIAL
from neurolearn.errors import DataError, InsufficientDataError

__all__ = ["CONDITION_MEANS", "condition_codes", "resolve_mode", "demean_input", "ConditionPartial",
           "describe", "single_trial_reason"]

#: how condition-locked activity is taken out of the dynamics fit
CONDITION_MEANS = ("auto", "time", "held", "none")
#: the trial coord that names the conditions when ``conditions="auto"``
DEFAULT_CONDITIONS = "stimulus"


def resolve_mode(condition_means, has_input, name):
    """``"time"``, ``"held"`` or ``"none"`` from the ``condition_means`` option (``"auto"``: held with a
    declared input, time without).

    Examples
    --------
    >>> resolve_mode("auto", False, "s"), resolve_mode("auto", True, "s")
    ('time', 'held')
    """
    if condition_means not in CONDITION_MEANS:
        raise DataError(f"{name}: expected condition_means in {CONDITION_MEANS}, found {condition_means!r}")
    if condition_means == "auto":
        return "held" if has_input else "time"
    return condition_means


def condition_codes(recording, conditions, name):
    """Integer condition of every trial (0..C-1) and the coord's name (``None``: all trials one condition).

    ``conditions="auto"`` takes the ``stimulus`` trial coord where there is one. A NaN (missing) condition
    is a condition of its own trial.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> rec = xr.DataArray(np.zeros((3, 2, 4)), dims=("trial", "neuron", "time"),
    ...                    coords={"stimulus": ("trial", ["a", "b", "a"])})
    >>> codes, coord = condition_codes(rec, "auto", "s")
    >>> codes.tolist(), coord
    ([0, 1, 0], 'stimulus')
    """
    n_trials = recording.sizes[TRIAL]
    coord = conditions
    if conditions == "auto":
        present = DEFAULT_CONDITIONS in recording.coords and recording.coords[DEFAULT_CONDITIONS].dims == (TRIAL,)
        coord = DEFAULT_CONDITIONS if present else None
    if coord is None:
        return np.zeros(n_trials, dtype=int), None
    if not isinstance(coord, str) or coord not in recording.coords or recording.coords[coord].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"{name}: expected conditions as a trial coord name, found {conditions!r} (trial "
                        f"coords {available})")
    import pandas as pd

    codes, _ = pd.factorize(np.asarray(recording.coords[coord].values), use_na_sentinel=True)
    missing = codes < 0
    codes = codes.astype(int)
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes, str(coord)


def demean_input(u, codes, mode):
    """The declared input with each condition's means removed (per bin for ``"time"``, over the trial's bins
    too for ``"held"``), and which channels keep variance (a channel that is a function of the condition,
    such as a held side, is absorbed by the condition means and dropped).

    Examples
    --------
    >>> import numpy as np
    >>> u = np.stack([np.repeat([[1.0], [-1.0]], 4, 1), np.arange(8.0).reshape(2, 4)], axis=2)
    >>> demean_input(u, np.array([0, 1]), "held")[1].tolist()
    [False, True]
    """
    out = np.array(u, dtype=float)
    for c in np.unique(codes):
        rows = codes == c
        axis = (0,) if mode == "time" else (0, 1)
        out[rows] -= out[rows].mean(axis=axis, keepdims=True)
    raw = np.var(u, axis=(0, 1))
    keep = np.var(out, axis=(0, 1)) > 1e-10 * np.maximum(raw, 1e-300)
    return out, keep


class ConditionPartial:
    """The fit's summed moments with the condition means partialled out, for any trial weights.

    Parameters
    ----------
    codes : ndarray of int
        Condition of every trial.
    mode : {"time", "held"}
    trial_moments : ndarray
        ``(trial, column, column)`` per-trial second moments of the fit's columns (the last one all ones).
    columns : ndarray
        ``(trial, transition, column)`` the columns themselves (needed for ``"time"`` only).
    """

    def __init__(self, codes, mode, trial_moments, columns, coord=None):
        self.mode = mode
        self.onehot = (codes[:, None] == np.unique(codes)[None, :]).astype(float)  # (trial, condition)
        self.trial_moments = trial_moments
        self.n_steps = columns.shape[1]
        self.flat = columns.reshape(columns.shape[0], -1) if mode == "time" else None
        self.n_columns = columns.shape[2]
        counts = self.onehot.sum(0)
        # the observations the partialled moments rest on: one mean per condition (and bin) is spent
        spent = np.sum(counts > 0) * (self.n_steps if mode == "time" else 1)
        self.n_effective = int(columns.shape[0] * self.n_steps - spent)
        if self.n_effective < 1:
            raise InsufficientDataError(single_trial_reason(coord))

    def moments(self, weights=None):
        """Σ_i w_i M_i minus the condition means' part; the ones column orthogonal to all, of mass n_eff."""
        w = np.ones(self.trial_moments.shape[0]) if weights is None else np.asarray(weights, float)
        total = np.einsum("t,tpq->pq", w, self.trial_moments)
        weighted = self.onehot * w[:, None]  # (trial, condition)
        mass = weighted.sum(0)
        ok = mass > 0
        if self.mode == "time":
            sums = (weighted[:, ok].T @ self.flat).reshape(int(ok.sum()), self.n_steps, self.n_columns)
            correction = np.einsum("csp,csq->pq", sums, sums / mass[ok, None, None])
        else:
            sums = weighted[:, ok].T @ self.trial_moments[:, -1, :]  # (condition, column): sums over bins
            correction = (sums / (mass[ok, None] * self.n_steps)).T @ sums
        out = total - correction
        out[-1, :] = 0.0
        out[:, -1] = 0.0
        # the intercept: orthogonal to every partialled column; its mass is the observations left, which is
        # what Fuller's degrees of freedom need (scaled to the resample's weight)
        out[-1, -1] = self.n_effective * w.sum() / w.size
        return out


def single_trial_reason(coord):
    """Why the fit within conditions is impossible when every condition has one trial, and what to do.

    Examples
    --------
    >>> single_trial_reason("stimulus").startswith("no condition has 2 or more trials")
    True
    """
    where = f"the trial coord {coord!r}" if coord else "the conditions"
    return (f"no condition has 2 or more trials ({where}: every condition shown once): the dynamics are "
            "fitted to each condition's fluctuations about its mean time course, which one trial does not "
            "show apart from the condition's own drive; the data need repeated conditions (2 or more trials "
            f"of some value of {where}, e.g. a coarser grouping of the trials assigned as that coord)")


def describe(mode, coord):
    """The condition handling in words (for the ``estimator`` attr and ``condition_means`` attrs)."""
    where = f"condition = {coord!r}" if coord else "all trials one condition"
    if mode == "time":
        return f"each condition's mean time course (PSTH) removed ({where})"
    if mode == "held":
        return f"condition indicators among the exogenous inputs ({where})"
    return "no condition means removed"
