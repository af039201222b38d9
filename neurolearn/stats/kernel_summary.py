"""The kernel family of :func:`neurolearn.summarize`: per-session kernel statistics and the pairwise ones,
each value with its bootstrap replicates or the reason the data cannot support it.

Work is split in three dask stages so the same call runs on the local threaded scheduler or a
``dask.distributed`` cluster:

1. per session (parallel): sufficient statistics (condition means and squared standard errors, reduced
   chunk-wise from dask-backed recordings) and the single-session statistics with their bootstrap replicates;
2. driver: conditions shared by all sessions, point values of the pairwise statistics (cheap: P x P kernels);
3. per session (parallel, only with ``n_boot``): that session's neurons' bootstrap contributions to every
   pairwise statistic.

Bootstrap: one draw of Poisson(1) weights per neuron id for all sessions (tracked neurons share weights), and
linearised replicates (see :mod:`neurolearn.stats.kernels`), so ``n_boot`` adds a matrix product over neurons
per statistic rather than recomputing kernels. Replicate ``b`` uses the same neuron weights in every session
and statistic, which is what lets a fit build the joint covariance of the statistics across sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, TRIAL
from neurolearn.errors import DataError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.alignment import alignment_chance, alignment_with_replicates, difficulty_with_replicates
from neurolearn.stats.dimensionality import participation_with_replicates, share_pair_products
from neurolearn.stats.condition_sets import PAIRWISE_CONDITIONS, sharing_sessions, shared_conditions, warn_narrowed_conditions
from neurolearn.stats.kernel_scale import scale_from_terms
from neurolearn.stats.kernel_terms import (
    centre_kernel,
    export_shared,
    self_inner_estimate,
    self_inner_key,
    shared_products,
)
from neurolearn.stats.kernels import condition_statistics, session_bootstrap_weights, target_matrix
from neurolearn.stats.similarity import (
    change_from_terms,
    overlap_from_statistics,
    pairwise_kernel_terms,
    similarity_from_terms,
)
from neurolearn.stats.spectral import spectral_with_replicates
from neurolearn.stats.shared_noise import (SECOND_ORDER_MAX, participation_statistic, shared_bias, shared_shift,
                                           shift_term, similarity_statistic)
from neurolearn.stats.target_agreement import agreement_matrix
from neurolearn.stats.trial_noise import (
    add_shared_term,
    alignment_gradient,
    change_gradients,
    combined_df,
    participation_gradient,
    shared_draws,
    shared_term,
    shared_trial_noise,
    similarity_gradients,
)

__all__ = ["KernelOptions", "SessionPart", "session_part", "pairwise_part", "SINGLE", "PAIRWISE", "CONDITIONS"]

#: per-session kernel-family statistics, in the order summarize reports them
SINGLE = ("task_alignment", "task_difficulty", "participation_ratio", "spectral_power", "powerlaw_exponent")
#: pairwise (or first-session-referenced) kernel-family statistics
#: code_overlap's reasons for every pair when it cannot exist at all: the summary omits it then (its attrs say
#: why); a NaN for any other reason (too few cells, trial noise) is kept with its flag
NOT_TRACKED = "cells not declared tracked across sessions"
NONE_SHARED = "no tracked cell recorded in two sessions"
PAIRWISE = ("kernel_similarity", "kernel_change", "kernel_scale", "code_overlap", "target_agreement",
            "reference_agreement")
#: the pairwise-family statistics with one value per session, referenced to the first session
FIRST_REFERENCED = ("kernel_change", "kernel_scale", "reference_agreement")
#: key of pairwise_part's output (and summarize's attr) holding the conditions the pairwise statistics are over
CONDITIONS = PAIRWISE_CONDITIONS


@dataclass(frozen=True)
class KernelOptions:
    """The estimator choices every kernel statistic of one summary shares."""

    by: str
    target: str | None
    unbiased: bool
    left: bool
    right: bool
    ridge: float
    n_modes: int
    spectral_max_boot: int
    tracked: bool


@dataclass
class SessionPart:
    """Stage-1 result of one session: its sufficient statistics and, per statistic, (value, replicates) or
    the reason it is NaN."""

    session_id: str
    stats: object = None
    values: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    chance: float = float("nan")
    #: products stage 3 reuses when the shared conditions are this session's (M Mᵀ, the self terms)
    shared: dict = field(default_factory=dict)
    #: the session's trial noise shared across neurons (:mod:`neurolearn.stats.trial_noise`), None without
    #: a bootstrap
    noise: object = None


def session_part(key: str, recording: xr.DataArray, weights, options: KernelOptions) -> SessionPart:
    """Stage 1 for one session: sufficient statistics and single-session statistics with replicates.

    Conditions with a single trial cannot give the trial-noise correction; they are left out of this
    session's kernels (the readout statistics still use them) instead of refusing the session.
    """
    part = SessionPart(session_id=str(key))
    min_trials = 2 if options.unbiased else 1
    labels = np.asarray(recording.coords[options.by].values)
    conditions, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    usable = counts >= min_trials
    if not usable.all() and usable.any():
        recording = recording.isel({TRIAL: np.flatnonzero(usable[codes])})
    try:
        if not usable.any():
            raise DataError(f"no condition has {min_trials} trials (needed for the trial-noise correction)")
        stats = condition_statistics(recording, options.by, target=options.target, min_trials=min_trials)
    except DataError as error:
        for name in SINGLE:
            part.reasons[name] = str(error)
        return part
    part.stats = replace(stats, session_id=str(key))
    n_classes = None if stats.target is None else int(np.unique(stats.target).size)
    shape = dict(n_conditions=stats.n_conditions, min_trials=int(stats.n_trials.min()),
                 n_neurons=stats.n_neurons, n_classes=n_classes)
    computations = {
        "task_alignment": lambda: alignment_with_replicates(stats, left=options.left, right=options.right,
                                                            unbiased=options.unbiased, weights=weights),
        "task_difficulty": lambda: difficulty_with_replicates(stats, ridge=options.ridge, unbiased=options.unbiased,
                                                              weights=weights),
        "participation_ratio": lambda: participation_with_replicates(stats, unbiased=options.unbiased,
                                                                     weights=weights),
    }
    with shared_products():  # M Mᵀ, M Mᵀ M and the kernel's eigen-decomposition once for all statistics
        if options.unbiased and weights is not None:
            # the PR replicates' N x N pass first: its row sums replace M Mᵀ M for every statistic (if it runs)
            share_pair_products(stats, weights)
        _single_session_statistics(part, stats, shape, computations, weights, options)
        part.shared = _pairwise_self_terms(stats, options.unbiased)
        if weights is not None:
            part.noise = shared_trial_noise(recording, stats, options.by, seed_key=str(key))
            _add_shared_noise(part, stats, weights, options)
    for name, (value, _) in list(part.values.items()):
        if not np.isfinite(value):  # an estimator that returned NaN without saying why
            del part.values[name]
            part.reasons[name] = _undefined(name)
    if weights is None:
        part.values = {name: (value, None) for name, (value, _) in part.values.items()}
    return part


def _single_session_statistics(part, stats, shape, computations, weights, options):
    for name, compute in computations.items():
        _guarded(part, name, shape, compute)
    if "task_alignment" in part.values:
        part.chance = float(alignment_chance(stats, left=options.left, right=options.right,
                                             unbiased=options.unbiased))
    # one eigen-decomposition for both; each statistic is gated on its own requirements (the power-law
    # exponent needs no target: a session without a task label still gives it)
    names = ("spectral_power", "powerlaw_exponent")
    unmet = {name: STATISTICS[name].needs.unmet(**shape) for name in names}
    for name in names:
        if unmet[name]:
            part.reasons[name] = unmet[name]
    wanted = [k for k, name in enumerate(names) if not unmet[name]]
    if not wanted:
        return
    try:
        values, replicates, info = spectral_with_replicates(
            stats, n_modes=options.n_modes, estimator="unbiased" if options.unbiased else "plugin",
            weights=weights, max_boot=options.spectral_max_boot, target_required=bool(unmet["powerlaw_exponent"]))
    except DataError as error:
        for k in wanted:
            part.reasons[names[k]] = str(error)
        return
    for k in wanted:
        if k == 0 and "spectral_power_reason" in info:
            part.reasons[names[k]] = info["spectral_power_reason"]
            continue
        if k == 1 and "powerlaw_exponent_reason" in info:
            part.reasons[names[k]] = info["powerlaw_exponent_reason"]
            continue
        part.values[names[k]] = (float(values[k]), None if weights is None else _padded(replicates[:, k], weights))


def _add_shared_noise(part, stats, weights, options):
    """The shared trial noise's term added to the alignment's and the participation ratio's replicates of a
    session where it is detected (:mod:`neurolearn.stats.trial_noise`)."""
    noise = part.noise
    if noise is None or not noise.detected:
        return
    draws = shared_draws(noise, len(weights)).reshape(len(weights), -1)
    if "task_alignment" in part.values:
        labels = target_matrix(stats.target)
        task = centre_kernel(labels @ labels.T, options.left, options.right)
        squared, _ = self_inner_estimate(stats, options.left, options.right, unbiased=options.unbiased)
        rows = alignment_gradient(stats, task, squared, left=options.left, right=options.right,
                                  unbiased=options.unbiased)
        value, replicates = part.values["task_alignment"]
        term, variance, df = shared_term(noise, rows, draws)
        part.values["task_alignment"] = (value, add_shared_term(value, replicates, term, variance, df))
    if "participation_ratio" in part.values:
        squared, _ = self_inner_estimate(stats, True, True, unbiased=options.unbiased)
        rows = participation_gradient(stats, squared, unbiased=options.unbiased)
        value, replicates = part.values["participation_ratio"]
        top = stats.n_conditions - 1.0 if options.unbiased else min(stats.n_conditions - 1.0, stats.n_neurons)
        term, variance, df = shared_term(noise, rows, draws)
        bias = 0.0
        if noise.n_conditions <= SECOND_ORDER_MAX:  # the shared noise's shift of the squared norms
            bias, spread = shared_shift(participation_statistic(stats, squared, unbiased=options.unbiased),
                                        [(noise, rows, draws, None)], len(weights))
            value = float(np.clip(value - bias, 1.0, top))
            # the shift's error and its own scatter in place of the t scaling (shared_noise.shift_term)
            term, variance = shift_term(term, variance, df, bias, spread)
            df, bias = np.inf, 0.0
        part.values["participation_ratio"] = (value, add_shared_term(value, replicates, term, variance, df,
                                                                     low=1.0, high=top, bias=bias))


def _pairwise_self_terms(stats, unbiased):
    """M Mᵀ and the self terms ‖HΦH‖², ‖Φ‖² of the pairwise statistics, computed here from the shared
    products (O(PN) more) so the driver does not redo the session's P²N products."""
    keys = ["gram"]
    for centring in (True, False):
        try:
            self_inner_estimate(stats, centring, centring, unbiased=unbiased)
        except DataError:  # too few neurons: the pairwise terms give their own NaN and reason
            continue
        keys.append(self_inner_key(centring, centring, unbiased))
    return export_shared(stats, keys)


def _padded(replicates, weights):
    """Spectral replicates (the first ``spectral_max_boot`` of the shared neuron weights) padded with NaN to
    the other kernel statistics' ``n_boot``: replicate b is the same resample in every statistic, so the fit's
    joint covariance pairs them by index and uses the complete ones."""
    n_boot = len(weights)
    out = np.full(n_boot, np.nan)
    out[: min(n_boot, len(replicates))] = np.asarray(replicates, dtype=float)[:n_boot]
    return out


def _undefined(name):
    reasons = STATISTICS[name].reasons
    return "estimator undefined for these data" + (f" (possible reasons: {'; '.join(reasons)})" if reasons else "")


def pairwise_part(parts: list[SessionPart], weights: list, options: KernelOptions, map_sessions):
    """Stages 2-3: kernel similarity, kernel change and scale (from the first session), code overlap, target agreement
    and the agreement with the first session's target.

    Returns ``{name: (values, replicates or None, reasons)}`` with ``values`` (S, S) for the pairwise
    statistics and (S,) for those in :data:`FIRST_REFERENCED`; ``reasons`` an array of the same shape ("" where
    supported).
    Sessions without sufficient statistics, and pairs the data cannot support, are NaN with their reason.
    """
    n = len(parts)
    out = {name: _empty_pairwise(name, n, weights) for name in PAIRWISE}
    present = [k for k, part in enumerate(parts) if part.stats is not None]
    for k, part in enumerate(parts):
        if part.stats is None:
            reason = (f"session {str(part.session_id)!r} has no kernel "
                      f"({next(iter(part.reasons.values()), 'no sufficient statistics')})")
            for name in PAIRWISE:
                _set_reason(out[name], name, k, reason, n)
    if not options.tracked:
        out["code_overlap"][2][...] = NOT_TRACKED
    present, left_out = sharing_sessions([part.stats for part in parts], present)
    for k, reason in left_out:
        for name in PAIRWISE:
            _set_reason(out[name], name, k, reason, n)
    if len(present) < 1:
        return out
    stats = [parts[k].stats for k in present]
    common = shared_conditions(stats)
    out[CONDITIONS] = warn_narrowed_conditions(common, stats, [str(parts[k].session_id) for k in present],
                                               tuple(name for name in PAIRWISE if name != "target_agreement"))
    needs = STATISTICS["kernel_similarity"].needs
    if common.size < needs.min_conditions:
        reason = f"fewer than {needs.min_conditions} conditions shared by the sessions (found {common.size})"
        out["kernel_similarity"][2][...] = reason
        if common.size < 2:
            for name in ("kernel_change", "kernel_scale", "code_overlap", "target_agreement", "reference_agreement"):
                out[name][2][...] = f"fewer than 2 conditions shared by the sessions (found {common.size})"
            return out
    shared = [s.select_conditions(common) for s in stats]
    sub_weights = [weights[k] for k in present]
    _target_agreement(out, shared, sub_weights, present, options)
    seeds = [parts[k].shared if s is parts[k].stats else None for s, k in zip(shared, present)]
    try:
        # one centring for every pairwise statistic: the change too is of the double-centred kernels (a neuron's
        # baseline rate took ||K_0|| and read a learned change of 0.45-0.56 as 0.04-0.18; adversary S3-7)
        terms = {True: pairwise_kernel_terms(shared, centred=True, unbiased=options.unbiased,
                                             weights=sub_weights, map_sessions=map_sessions, seeds=seeds)}
    except DataError as error:  # e.g. every session has a single neuron: no pairwise statistic at all
        for name in PAIRWISE:
            if name not in ("target_agreement", "reference_agreement"):  # computed above, per session
                out[name][2][out[name][2] == ""] = str(error)
        return out
    index = np.ix_(present, present)
    if common.size >= needs.min_conditions:
        value, replicates, reasons = similarity_from_terms(terms[True], with_reasons=True)
        if replicates is not None:
            replicates = _similarity_shared_noise(value, replicates, terms[True], shared,
                                                  [parts[k].noise for k in present], options)
        _embed(out["kernel_similarity"], value, replicates, index, reasons)
    if present[0] == 0:
        # a reading below 0 the data do not resolve is NaN with its reason here, judged before the upper-side
        # scaling of fresh sessions (change_from_terms); enforce_ranges judges the rest on the lower side
        value, replicates, reasons = change_from_terms(terms[True], 0, with_reasons=True,
                                                       resolution=STATISTICS["kernel_change"].unresolved_above())
        if replicates is not None:
            replicates = _change_shared_noise(value, replicates, terms[True], shared,
                                              [parts[k].noise for k in present], options)
        _first_referenced(out["kernel_change"], present, value, replicates, reasons)
        _first_referenced(out["kernel_scale"], present, *scale_from_terms(terms[True], 0, with_reasons=True))
    else:
        for name in ("kernel_change", "kernel_scale"):
            out[name][2][...] = "the first (reference) session has no kernel"
    if options.tracked:
        value, replicates, any_tracked, reasons = overlap_from_statistics(shared, weights=sub_weights, strict=False,
                                                                          with_reasons=True)
        _embed(out["code_overlap"], value, replicates, index, reasons)
        if not any_tracked:
            out["code_overlap"][2][...] = NONE_SHARED
    for name in PAIRWISE:
        values, _, reasons = out[name]
        if name in ("target_agreement", "reference_agreement"):
            continue  # every NaN of these already carries its reason
        unexplained = ~np.isfinite(values) & (reasons == "")
        reasons[unexplained] = ("no tracked cell in both sessions" if name == "code_overlap"
                                else "denominator not resolved from noise (no condition structure beyond trial "
                                     "noise at this number of neurons)")
    return out


def _first_referenced(entry, present, value, replicates, reasons):
    """Place one first-referenced statistic's values over the sessions with a kernel (``present``)."""
    values, reps, all_reasons = entry
    values[present] = value
    all_reasons[present] = np.where(all_reasons[present] == "", reasons, all_reasons[present])
    if reps is not None and replicates is not None:
        reps[:, present] = replicates


def _similarity_shared_noise(value, replicates, pairs, shared, noises, options):
    """Each kernel-similarity pair's replicates plus the shared trial noise of either session where it is
    detected, from the same draws as that session's own statistics (:mod:`neurolearn.stats.trial_noise`)."""
    detected = [noise is not None and noise.detected for noise in noises]
    if not any(detected):
        return replicates
    n_boot, n = replicates.shape[0], len(shared)
    draws = {a: shared_draws(noises[a], n_boot).reshape(n_boot, -1) for a in range(n) if detected[a]}
    replicates = replicates.copy()
    for a in range(n):
        for b in range(a + 1, n):
            if not np.isfinite(value[a, b]) or not (detected[a] or detected[b]):
                continue
            rows_a, rows_b = similarity_gradients(shared[a], shared[b], pairs["self"][a], pairs["self"][b],
                                                  unbiased=options.unbiased)
            term, parts = _session_terms(((a, rows_a), (b, rows_b)), detected, draws, noises, shared, n_boot)
            bias = 0.0
            if all(noises[k].n_conditions <= SECOND_ORDER_MAX for k in (a, b) if detected[k]):
                # the shared noise's shift of the squared norms, removed from the estimate (embedded in place)
                sessions = [(noises[k], rows, draws[k], shared[k].conditions) if detected[k] else None
                            for k, rows in ((a, rows_a), (b, rows_b))]
                bias = shared_bias(similarity_statistic(shared[a], shared[b], pairs["self"][a], pairs["self"][b],
                                                        unbiased=options.unbiased), sessions, n_boot)
                value[a, b] = value[b, a] = float(np.clip(value[a, b] - bias, -1.0, 1.0))
            replicates[:, a, b] = replicates[:, b, a] = add_shared_term(
                value[a, b], replicates[:, a, b], term, sum(v for v, _ in parts), combined_df(parts), bias=bias)
    return replicates


def _change_shared_noise(value, replicates, pairs, shared, noises, options):
    """Each session's kernel-change replicates plus the shared trial noise of it and of the reference (the
    first session) where detected, added on the squared scale s = sign(c) c² the change's first-order
    expansion lives on (its root is singular at no change), then re-centred on the estimate."""
    detected = [noise is not None and noise.detected for noise in noises]
    if not any(detected):
        return replicates
    n_boot = replicates.shape[0]
    draws = {a: shared_draws(noises[a], n_boot).reshape(n_boot, -1) for a in range(len(shared)) if detected[a]}
    replicates = replicates.copy()
    for t in range(1, len(shared)):
        if not np.isfinite(value[t]) or not (detected[t] or detected[0]):
            continue
        squared_change = np.sign(value[t]) * value[t] ** 2
        rows_t, rows_0 = change_gradients(shared[t], shared[0], pairs["self"][0], squared_change,
                                          unbiased=options.unbiased)
        term, parts = _session_terms(((t, rows_t), (0, rows_0)), detected, draws, noises, shared, n_boot)
        original = np.sign(replicates[:, t]) * replicates[:, t] ** 2
        squared = original + term
        finite = np.isfinite(original)
        boot = float(np.var(original[finite], ddof=1)) if finite.sum() >= 2 else 0.0
        replicates[:, t] = add_shared_term(value[t], np.sign(squared) * np.sqrt(np.abs(squared)), 0.0,
                                           sum(v for v, _ in parts), combined_df(parts), boot=boot)
    return replicates


def _session_terms(sessions, detected, draws, noises, shared, n_boot):
    """The summed shared terms of the detected sessions among ``sessions`` [(index, rows)] and their
    [(variance, degrees of freedom)]."""
    term, parts = np.zeros(n_boot), []
    for k, rows in sessions:
        if detected[k]:
            one, variance, df = shared_term(noises[k], rows, draws[k], shared[k].conditions)
            term += one
            parts.append((variance, df))
    return term, parts


def _target_agreement(out, shared, weights, present, options):
    """``target_agreement`` over the sessions with a kernel, and its first column as ``reference_agreement``
    (computed on the driver: each entry needs only one session's neurons, P x N work)."""
    if options.target is None:
        for name in ("target_agreement", "reference_agreement"):
            out[name][2][out[name][2] == ""] = "no task label (target=None)"
        return
    values, replicates, reasons = agreement_matrix(shared, unbiased=options.unbiased, weights=weights)
    _embed(out["target_agreement"], values, replicates, np.ix_(present, present), reasons)
    entry = out["reference_agreement"]
    if present[0] != 0:
        entry[2][entry[2] == ""] = "the first (reference) session has no kernel"
        return
    entry[0][present] = values[:, 0]
    entry[2][present] = np.where(entry[2][present] == "", reasons[:, 0], entry[2][present])
    if entry[1] is not None and replicates is not None:
        entry[1][:, present] = replicates[:, :, 0]


def bootstrap_weights(recordings: dict, n_boot: int, random_state):
    """One Poisson(1) weight draw per neuron id shared by all sessions (see the module docstring)."""
    neuron_ids = [np.asarray(rec.coords[NEURON].values) if NEURON in rec.coords else np.arange(rec.sizes[NEURON])
                  for rec in recordings.values()]
    return session_bootstrap_weights(neuron_ids, n_boot, random_state)


def _guarded(part, name, shape, compute):
    reason = STATISTICS[name].needs.unmet(**shape)
    if reason:
        part.reasons[name] = reason
        return
    try:
        value, replicates = compute()
    except DataError as error:  # InsufficientDataError and any refusal specific to this statistic
        part.reasons[name] = str(error)
        return
    part.values[name] = (float(value), replicates)


def _empty_pairwise(name, n, weights):
    n_boot = 0 if weights[0] is None else weights[0].shape[0]
    shape = (n,) if name in FIRST_REFERENCED else (n, n)
    replicates = np.full((n_boot,) + shape, np.nan) if n_boot else None
    return np.full(shape, np.nan), replicates, np.full(shape, "", dtype=object)


def _set_reason(entry, name, k, reason, n):
    reasons = entry[2]
    if name in FIRST_REFERENCED:
        reasons[k] = reason
    else:
        reasons[k, :] = reason
        reasons[:, k] = reason


def _embed(entry, value, replicates, index, reasons):
    values, reps, all_reasons = entry
    values[index] = value
    sub = all_reasons[index]
    all_reasons[index] = np.where(sub == "", np.asarray(reasons, dtype=object), sub)
    if reps is not None and replicates is not None:
        reps[(slice(None),) + index] = replicates
