"""Similarity of representations across sessions: CKA, kernel similarity, kernel change and scale, code overlap.

Two questions, two estimands:

* :func:`cka` on plain arrays treats rows as *samples* from a distribution (the usual representational
  similarity setting). ``unbiased=True`` is the HSIC U-statistic of Song et al. (2012) on zero-diagonal
  linear kernels, which removes the upward bias of CKA at few samples (independent data reads ~0, where the
  biased CKA reads ~0.76 with 100 features and 32 samples).
* The session functions (:func:`kernel_similarity`, :func:`kernel_change`, :func:`kernel_scale`,
  :func:`code_overlap`) compare
  *population* kernels (infinite neurons, noiseless condition means) on the recorded conditions. Their
  default ``estimator="unbiased"`` uses trial-noise-corrected per-neuron kernels and U-statistics over
  distinct neurons for every quadratic term (see :mod:`neurolearn.stats.kernels`): self terms ‖HΦ_tH‖² exclude
  each neuron's product with itself, and cross terms ⟨HΦ_tH, HΦ_sH⟩ exclude products of a tracked neuron with
  itself on another day. The remaining O(1/N) bias of the ratios (the CKA, the squared kernel change) is removed
  by an exact leave-one-out jackknife over neuron *ids*: a tracked cell is deleted from both sessions at once
  (the kernel change averages signed roots over halvings of the ids, with the delta method's ratio bias).
  ``estimator="plugin"`` is the naive statistic of the condition means.

Sessions are compared on the conditions they all share. Bootstraps resample neuron ids (shared across
sessions for tracked cells) with linearised replicates, re-centred (median) on each estimate so that every
percentile interval contains it. Kernel similarities of sessions sharing no neuron id use normal scores with
the robust scale IQR/1.349 of those replicates, whose ratio tails are an artefact of linearising the norms
(:func:`~neurolearn.stats.similarity_ratios.similarity_from_terms`).

Honest values (issue 8): a session whose unbiased ‖HΦH‖² (‖Φ‖² for the change, the self traces for the
overlap) is not above one influence SE has no condition structure resolved from trial noise; every ratio
that divides by it is NaN, with the reason (``with_reasons=True`` in the numpy core, ``<name>_flag`` in the
Dataset functions, one :class:`~neurolearn.stats.flags.StatisticWarning` per NaN pair). Before, such sessions
gave kernel similarities of 75 and task alignments of 56. A ratio outside [-1, 1] by more than 3 SE is NaN
too; values slightly above 1 remain where the truth is at 1 (an unchanged code), within their noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import xarray as xr

from neurolearn.data import CI_BOUND, SESSION, SESSION_OTHER, ci_name, flag_name, se_name, session_recordings
from neurolearn.errors import DataError
from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.kernel_pairs import pairwise_kernel_terms
from neurolearn.stats.kernel_scale import scale_from_terms
from neurolearn.stats.kernel_terms import centre_kernel, common_conditions
from neurolearn.stats.kernels import ConditionStatistics, condition_statistics
# re-exported: the ratio core used to live here (kernel_summary imports it from this module)
from neurolearn.stats.overlap_ratios import overlap_from_statistics  # noqa: F401
from neurolearn.stats.similarity_ratios import change_from_terms, similarity_from_terms  # noqa: F401

__all__ = ["cka", "hsic", "kernel_similarity", "kernel_change", "kernel_scale", "code_overlap"]

ESTIMATORS = ("unbiased", "plugin")


def cka(X, Y, *, unbiased: bool = True) -> float:
    """Linear centred kernel alignment of two representations of the same samples (rows).

    Parameters
    ----------
    X, Y : array_like, shapes (P, N1) and (P, N2)
        Rows are samples (conditions), columns features (neurons).
    unbiased : bool
        ``True``: HSIC U-statistic of Song et al. (2012) (zero-diagonal kernels), unbiased for the population
        HSIC at any number of samples P >= 4; the ratio is then close to unbiased. ``False``: the biased
        CKA ⟨HKH, HLH⟩/(‖HKH‖‖HLH‖), which reads high on independent data at small P.

    Invariances: orthogonal transforms and isotropic scaling of the columns of X or Y (exactly, both estimators).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 5))
    >>> Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
    >>> round(cka(X, 3 * X @ Q), 10), round(cka(X, X @ Q, unbiased=False), 10)
    (1.0, 1.0)
    """
    X, Y = _two_arrays(X, Y)
    K, L = X @ X.T, Y @ Y.T
    denominator = np.sqrt(hsic(K, K, unbiased=unbiased) * hsic(L, L, unbiased=unbiased))
    if not denominator > 0:
        raise DataError("cka: a representation has no (estimated) variance across samples; CKA undefined")
    return float(hsic(K, L, unbiased=unbiased) / denominator)


def hsic(K, L, *, unbiased: bool = True) -> float:
    """HSIC of two kernel matrices over the same n samples.

    ``unbiased=True``: Song et al. (2012) U-statistic
    [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n-1)(n-2)) - 2/(n-2)·1ᵀK̃L̃1] / (n(n-3)), K̃, L̃ with zeroed diagonals (needs n >= 4).
    ``unbiased=False``: tr(KHLH)/(n-1)².

    Examples
    --------
    >>> import numpy as np
    >>> K = np.outer([1.0, -1.0, 1.0, -1.0], [1.0, -1.0, 1.0, -1.0])
    >>> round(hsic(K, K, unbiased=False), 4)  # ‖HKH‖² / 9 with HKH = K
    1.7778
    """
    K, L = np.asarray(K, dtype=float), np.asarray(L, dtype=float)
    n = K.shape[0]
    if not unbiased:
        return float(np.sum(centre_kernel(K, True, True) * centre_kernel(L, True, True)) / (n - 1) ** 2)
    if n < 4:
        raise DataError(f"hsic: the unbiased estimator needs at least 4 samples, found {n}")
    K = K - np.diag(np.diag(K))
    L = L - np.diag(np.diag(L))
    k1, l1 = K.sum(axis=1), L.sum(axis=1)
    value = np.sum(K * L) + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (k1 @ l1)
    return float(value / (n * (n - 3)))


def kernel_similarity(recordings, by: str = "stimulus", *, estimator: str = "unbiased", n_boot: int = 0,
                      random_state=None, level: float = 0.95) -> xr.Dataset:
    """CKA between the condition kernels of every pair of sessions -> dims ``(session, session_other)``.

    Needs no neuron matching. Estimand: ⟨HΦ_tH, HΦ_sH⟩/(‖HΦ_tH‖‖HΦ_sH‖) of the population kernels on the
    conditions shared by all sessions. Bias handling (``"unbiased"``): trial-noise-corrected per-neuron
    kernels and U-statistics over distinct neurons for numerator and both norms (tracked neurons' products
    with themselves excluded); the ratio is jackknife-corrected over neuron ids (see
    :func:`~neurolearn.stats.similarity_ratios.similarity_from_terms`). The diagonal is 1 by definition.

    Parameters
    ----------
    recordings : xarray.DataTree, sequence or mapping of DataArray
    by : str
        Trial coord defining conditions.
    estimator : {"unbiased", "plugin"}
    n_boot, random_state, level
        Neuron bootstrap (linearised replicates, weights shared by tracked neuron ids).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((8, 3))
    >>> recs = [make_recording(latent @ rng.standard_normal((3, 300)), n_trials=3, noise_sd=0.5,
    ...                        session_id=f"day{d}", neuron_ids=np.arange(300) + 1000 * d, rng=d) for d in range(2)]
    >>> ds = kernel_similarity(recs)
    >>> ds["kernel_similarity"].dims, bool(ds["kernel_similarity"].sel(session="day0", session_other="day1") > 0.8)
    (('session', 'session_other'), True)
    """
    _check_estimator(estimator)
    stats = _session_statistics(recordings, by, estimator)
    pairs = pairwise_kernel_terms(stats, centred=True, unbiased=estimator == "unbiased", n_boot=n_boot,
                                  random_state=random_state)
    value, replicates, reasons = similarity_from_terms(pairs, with_reasons=True)
    _warn_pairs("kernel_similarity", reasons, pairs)
    return _pairwise_dataset("kernel_similarity", value, replicates, stats, level, n_boot, reasons,
                             estimator=estimator, centring="double")


def kernel_change(recordings, by: str = "stimulus", *, reference: int = 0, estimator: str = "unbiased",
                  n_boot: int = 0, random_state=None, level: float = 0.95) -> xr.Dataset:
    """Relative kernel change ‖HΦ_tH - HΦ_refH‖_F / ‖HΦ_refH‖_F of every session from a reference session.

    Double-centred kernels (H = I - 11ᵀ/P), as task_alignment and kernel_similarity: a neuron's baseline
    rate (constant over conditions) is no part of them, so it neither enters the change nor inflates the
    reference's norm (uncentred, baselines of ~20 spikes/s read a learned change of 0.45-0.56 as 0.04;
    adversary S3-7). Bias handling (``"unbiased"``): the squared change is expanded into
    ‖HΦ_tH‖² + ‖HΦ_refH‖² - 2⟨HΦ_tH, HΦ_refH⟩, each estimated without bias (U-statistics over distinct neurons of
    trial-noise-corrected per-neuron kernels, i.e. the split-kernel correction); the root is signed
    (sign(s)·√|s|), so an unchanged population may read negative. That squared change, though unbiased, is
    skewed under no change (a centred χ² of a few terms), and its signed root averaged -0.10 ± 0.02 over
    unchanged log-normal-rate spiking sessions of fresh neurons; the value is therefore the mean over 32
    halvings of the neuron ids of the signed root of the halves' cross-fitted squared change, symmetric about
    0 there (-0.035 ± 0.018, SD 0.43 -> 0.33; benchmarks/bench_kernel_change_null.py;
    :func:`~neurolearn.stats.similarity_ratios.change_from_terms`). The plug-in reads > 0 between two
    recordings of an unchanged population.

    Interval (``n_boot``): neurons resampled by id; for a session sharing cells with the reference the
    deviations are scaled by the few-cell Student factor, for one sharing none (fresh neurons) only those
    above the estimate: with heavy-tailed rates a large change is carried by a few high-rate cells, and a
    sample lacking them reads low with a short spread (coverage 0.86-0.90 -> 0.935-0.943 on
    benchmarks/bench_kernel_change_fresh.py's exp-linear populations, every miss below the truth).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((6, 400))
    >>> recs = [make_recording(base * (1 + d), n_trials=4, noise_sd=0.3, session_id=f"d{d}", rng=d)
    ...         for d in range(2)]  # same neurons, responses doubled on day 1: ‖4Φ - Φ‖/‖Φ‖ = 3
    >>> round(float(kernel_change(recs)["kernel_change"].sel(session="d1")), 1)
    3.0
    """
    _check_estimator(estimator)
    return _first_referenced("kernel_change", change_from_terms, recordings, by, estimator, reference, n_boot,
                             random_state, level)


def kernel_scale(recordings, by: str = "stimulus", *, reference: int = 0, n_boot: int = 0, random_state=None,
                 level: float = 0.95) -> xr.Dataset:
    """Relative kernel scale ‖HΦ_tH‖_F / ‖HΦ_refH‖_F of every session from a reference session.

    The size of the condition-driven part of the kernel, whatever its shape: a gain g on every rate reads g²
    here (and g² - 1 in :func:`kernel_change`, 1 in :func:`kernel_similarity`), so the three together tell a
    change of gain from a change of representation. Bias handling: the squared norms are U-statistics over
    distinct neurons of trial-noise-corrected kernels; their ratio's O(1/N) bias is removed by the exact
    leave-one-id-out jackknife before the root
    (:func:`~neurolearn.stats.kernel_scale.scale_from_terms`).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((6, 400))
    >>> recs = [make_recording(base * (1 + d), n_trials=4, noise_sd=0.3, session_id=f"d{d}", rng=d)
    ...         for d in range(2)]  # responses doubled on day 1: the centred kernel's norm x 4
    >>> round(float(kernel_scale(recs)["kernel_scale"].sel(session="d1")), 1)
    4.0
    """
    return _first_referenced("kernel_scale", scale_from_terms, recordings, by, "unbiased", reference, n_boot,
                             random_state, level)


def code_overlap(recordings, by: str = "stimulus", *, n_boot: int = 0, random_state=None,
                 level: float = 0.95) -> xr.Dataset:
    """Code overlap q(t, s) = tr Φ(t,s) / sqrt(tr Φ(t,t) tr Φ(s,s)) on the neurons tracked in both sessions.

    Φ(t, s) = R_t R_sᵀ/N over shared neuron ids. Bias handling: the cross trace multiplies means of
    different sessions (independent trials); the self traces subtract each neuron's squared standard errors
    (trial-noise-corrected diagonal). All three traces are sums over neurons, so the bootstrap is exact.

    Raises
    ------
    DataError
        If some pair of sessions shares no neuron ids (the message names them).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((6, 200))
    >>> recs = [make_recording(base, n_trials=3, noise_sd=0.3, session_id="a", rng=1),
    ...         make_recording(-base, n_trials=3, noise_sd=0.3, session_id="b", rng=2)]
    >>> round(float(code_overlap(recs)["code_overlap"].sel(session="a", session_other="b")), 1)
    -1.0
    """
    stats = _session_statistics(recordings, by, "unbiased")
    value, replicates, _, reasons = overlap_from_statistics(stats, n_boot=n_boot, random_state=random_state,
                                                            strict=True, with_reasons=True)
    _warn_pairs("code_overlap", reasons, {"session_ids": [s.session_id for s in stats], "self": stats})
    return _pairwise_dataset("code_overlap", value, replicates, stats, level, n_boot, reasons,
                             estimator="unbiased", neurons="shared ids of each pair")


def _first_referenced(name, from_terms, recordings, by, estimator, reference, n_boot, random_state, level):
    """A statistic of every session against a reference session, from the sessions' centred pairwise terms."""
    stats = _session_statistics(recordings, by, estimator)
    if not -len(stats) <= reference < len(stats):
        raise DataError(f"reference: expected a session index in [0, {len(stats)}), found {reference}")
    pairs = pairwise_kernel_terms(stats, centred=True, unbiased=estimator == "unbiased", n_boot=n_boot,
                                  random_state=random_state)
    value, replicates, reasons = from_terms(pairs, reference, with_reasons=True)
    for session, reason in zip(pairs["session_ids"], reasons):
        if reason:
            warn_unsupported(name, session, reason)
    ds = _session_dataset(name, value, replicates, stats, level, n_boot, reasons)
    ds.attrs.update(estimator=estimator, reference=stats[reference].session_id, centring="double",
                    bootstrap="neurons (Poisson weights by id, linearised)")
    return ds


def _warn_pairs(statistic, reasons, pairs):
    """One StatisticWarning per session pair (a <= b) whose value is NaN, naming both and the reason."""
    ids = pairs.get("session_ids") or [f"position {k}" for k in range(reasons.shape[0])]
    for a in range(reasons.shape[0]):
        for b in range(a, reasons.shape[1]):
            if reasons[a, b]:
                session = ids[a] if a == b else f"{ids[a]} / {ids[b]}"
                warn_unsupported(statistic, session, reasons[a, b], stacklevel=4)


def _session_statistics(recordings, by, estimator) -> list[ConditionStatistics]:
    items = as_recording_dict(recordings)
    stats = [condition_statistics(rec, by, min_trials=2 if estimator == "unbiased" else 1) for rec in items.values()]
    stats = [_with_id(s, key) for s, key in zip(stats, items)]
    common = common_conditions(stats)
    return [s.select_conditions(common) for s in stats]


def _with_id(stats, key):
    return replace(stats, session_id=str(key))


def as_recording_dict(recordings) -> dict[str, xr.DataArray]:
    """Sessions keyed by id from a DataTree, a mapping, a sequence of DataArrays or one DataArray."""
    if isinstance(recordings, xr.DataTree):
        return session_recordings(recordings)
    if isinstance(recordings, xr.DataArray):
        return {str(recordings.attrs.get("session_id", "session-0")): recordings}
    if isinstance(recordings, Mapping):
        return {str(k): v for k, v in recordings.items()}
    if isinstance(recordings, Sequence) and not isinstance(recordings, str):
        out = {}
        for k, rec in enumerate(recordings):
            key = str(getattr(rec, "attrs", {}).get("session_id", f"session-{k}"))
            if key in out:
                key = f"{key}-{k}"
            out[key] = rec
        if not out:
            raise DataError("expected at least one recording, found an empty sequence")
        return out
    raise DataError(f"expected a DataTree, mapping or sequence of recordings, found {type(recordings).__name__}")


def _pairwise_dataset(name, value, replicates, stats, level, n_boot, reasons, **attrs):
    ids = [s.session_id for s in stats]
    se = np.full_like(value, np.nan)
    ci = np.full(value.shape + (2,), np.nan)
    if replicates is not None:
        for a in range(len(ids)):
            for b in range(len(ids)):
                if a == b and np.isfinite(value[a, b]):  # 1 by definition
                    se[a, b], ci[a, b] = 0.0, (value[a, b], value[a, b])
                elif np.isfinite(value[a, b]):
                    se[a, b], ci[a, b] = bootstrap_interval(value[a, b], replicates[:, a, b], level)
    dims = (SESSION, SESSION_OTHER)
    ds = xr.Dataset(
        {
            name: (dims, value),
            se_name(name): (dims, se),
            ci_name(name): (dims + (CI_BOUND,), ci, {"level": level}),
            flag_name(name): (dims, np.asarray(reasons, dtype=str)),
        },
        coords={SESSION: ids, SESSION_OTHER: ids, CI_BOUND: ["lower", "upper"]},
    )
    ds.attrs.update(n_boot=int(n_boot), bootstrap="neurons (Poisson weights by id, linearised)", **attrs)
    return ds


def _session_dataset(name, value, replicates, stats, level, n_boot, reasons):
    ids = [s.session_id for s in stats]
    se = np.full(len(ids), np.nan)
    ci = np.full((len(ids), 2), np.nan)
    if replicates is not None:
        for a in range(len(ids)):
            if np.isfinite(value[a]):
                se[a], ci[a] = bootstrap_interval(value[a], replicates[:, a], level)
    return xr.Dataset(
        {name: (SESSION, value), se_name(name): (SESSION, se),
         ci_name(name): ((SESSION, CI_BOUND), ci, {"level": level}),
         flag_name(name): (SESSION, np.asarray(reasons, dtype=str))},
        coords={SESSION: ids, CI_BOUND: ["lower", "upper"]},
        attrs={"n_boot": int(n_boot)},
    )


def _two_arrays(X, Y):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise DataError(f"cka: expected two 2-d arrays with the same number of rows (samples), found {X.shape}, {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError("cka: expected finite values, found NaN/inf")
    return X, Y


def _check_estimator(estimator):
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: expected one of {list(ESTIMATORS)}, found {estimator!r}")
