"""Participation ratio of the population's responses to the shown conditions, naive and bias-corrected.

Estimand (``estimator="unbiased"``): the participation ratio of the *population kernel over the shown
conditions*,

    PR = (tr HΦH)² / ‖HΦH‖²_F = (Σ_k λ_k)² / Σ_k λ_k²,   Φ = E_i[r_i r_iᵀ],

with r_i the noiseless condition means of a neuron drawn from the recorded population (infinitely many
neurons, infinitely many trials) and λ_k the eigenvalues of the double-centred kernel HΦH, which has rank
<= P - 1: the estimand lies in [1, P - 1]. It is the same kernel every other kernel statistic estimates
(alignment, CKA, spectrum), so the dimensionality refers to the same conditions.

Why not the stimulus distribution (conditions as draws from it, the estimand of an earlier version)? Its
unbiased estimate needs U-statistics over four distinct conditions in the numerator and the denominator;
with the 4-16 conditions of a recording both are dominated by condition sampling, the denominator's
estimate is often near or below zero, and its ratio read 45003.6, -247.4 or 53 for a 12-dimensional
network shown 16 conditions (issue 8). Those data do not determine a distribution's dimensionality;
they do determine the dimensionality of the shown set.

Estimator: both quantities are U-statistics over pairs of *distinct* neurons of trial-noise-corrected
per-neuron kernels K_i = m_i m_iᵀ - diag(sem2_i) (:mod:`neurolearn.stats.kernels`), so neither a neuron's
own tuning nor its own trial noise enters a product with itself:

* (tr HΦH)²: Σ_{i≠j} t_i t_j / N(N-1), t_i = tr(H K_i H) = ‖H m_i‖² - (1 - 1/P) Σ_μ sem2_μi;
* ‖HΦH‖²: Σ_{i≠j} ⟨H K_i H, H K_j H⟩ / N(N-1).

Per-condition squared standard errors remove Poisson (heteroscedastic) noise exactly as well as Gaussian
noise: each entry is corrected by its own variance. Both pieces are unbiased; their ratio is clipped to the
estimand's range [1, P - 1] (a ratio of two noisy estimates can leave it). No jackknife of the ratio: with
log-normal rates a few neurons carry most of both sums and leave-one-out ratios swing with them (on
8-condition spiking sessions the earlier estimator's jackknife bias exceeded the ratio itself in 46 of 300
sessions); for the estimator here it removed the small positive bias (+0.04 to +0.07 at 600 neurons) but
its own noise, which the bootstrap replicates do not carry, lowered the 95% coverage from 0.87-0.93 to
0.81-0.87 on the same sessions.

Refusals (:class:`~neurolearn.errors.InsufficientDataError`, the message is the reason): fewer than 4
conditions, fewer than 2 trials in some condition, fewer than 3 neurons, and a denominator ‖HΦH‖² not
resolved from noise (its estimate is not above one leave-one-neuron-out jackknife standard error: silent
or untuned neurons, or too few neurons for the trial noise and the spread of rates across neurons).

Interval: the estimand conditions on the shown conditions, so the bootstrap resamples only neurons (Poisson
weights by id, shared across sessions); every neuron carries its own trial noise, so this propagates trial
noise too. Replicates are exact weighted U-statistics (not linearised: a few high-rate neurons make the
first-order expansion poor). They are re-centred so that their median is the estimate on the inverse scale
‖HΦH‖² / (tr HΦH)², which is linear in the denominator (a replicate whose denominator reaches zero lands at
the top of the range instead of at infinity), and clipped to [1, P - 1]: their percentile interval lies in
the range and contains the estimate. Their spread is raised to the leave-one-neuron-out jackknife SE where
that is larger (the Poisson bootstrap under-estimated the spread at many neurons). Measured 95% coverage of the population truth on realistic spiking
sessions: ``benchmarks/bench_participation_ratio.py``.

Limit (a kernel carried by rare neurons): Φ weighs each neuron by its squared tuning, so with log-normal
rates and multiplicative tuning the population's low-dimensional structure can sit in its top 1% of
neurons. A session of N neurons that recorded none of them estimates the PR of the rest, with an interval
around that: no estimator or resampling of the recorded neurons sees the unrecorded tail. Measured
(``bench_participation_ratio.py --tail``, 4 conditions, 2-6 trials, 40 neurons): on a tuning whose top 1%
carry 70% of tr HΦH (PR 1.24, 1.59 without them) the estimate reads 1.74 (median) and the 95% interval
covers 0.76 ± 0.04; on the other tuning of the same design (57%; PR 1.18, 1.23 without them) 0.98 ± 0.01.
A jackknife of the ratio (inverse-scale bias -0.124 vs -0.132 uncorrected), BCa, and normal intervals on
log(PR - 1) or on the logit of (PR - 1)/(P - 2) did not repair it (coverage 0.68-0.82 where the current
interval covers 0.77). The same at 8 conditions x 100 neurons, less: 0.865 ± 0.029 on the tuning whose top
1% carry 56% (PR 1.73, 1.97 without them), 0.993 on the other; pooled over both tunings 0.936-0.959 at
8-16 conditions x 100-300 neurons.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset
from neurolearn.stats.kernel_terms import (
    PAIR_ROWS,
    centre_kernel,
    centred_means,
    gram,
    gram_product,
    lookup_shared,
    seed_shared,
    sharing,
    weighted_noise,
    weighted_outer_sums,
    with_shared_products,
)
from neurolearn.stats.kernels import (
    ConditionStatistics,
    condition_statistics,
    leave_one_out,
    neuron_bootstrap_weights,
    replicate,
)

__all__ = ["participation_ratio", "naive_participation_ratio", "share_pair_products"]

ESTIMATORS = ("unbiased", "naive")
MIN_CONDITIONS = 4
MIN_NEURONS = 3
# measured on realistic spiking sessions (benchmarks/bench_participation_ratio.py): sessions whose ‖HΦH‖²
# estimate lies 1-2 jackknife SEs above zero still give 95% intervals that cover (the ratio's numerator and
# denominator share their neuron-sampling noise), while below 1 SE the raw ratio leaves [1, P - 1] in a
# quarter or more of sessions; 2 SEs refused 40-100% of sessions with up to 300 log-normal-rate neurons.
RESOLUTION_Z = 1.0


def participation_ratio(
    recording: xr.DataArray,
    by: str = "stimulus",
    *,
    estimator: str = "unbiased",
    n_boot: int = 0,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Participation ratio of the population kernel over the shown conditions, for one session.

    Parameters
    ----------
    recording : xarray.DataArray
    by : str
        Trial coord defining conditions (>= 4 conditions; >= 2 trials each for ``"unbiased"``).
    estimator : {"unbiased", "naive"}
        ``"unbiased"``: ratio of U-statistics over distinct neurons of trial-noise-corrected kernels, an
        estimate of the population PR over the shown conditions, in [1, P - 1] (module docstring).
        ``"naive"``: PR of the sample covariance of the recorded condition means (trial noise adds an
        isotropic floor that raises it, subsampled neurons lower it).
    n_boot, random_state, level
        Neuron bootstrap (Poisson weights); the interval is the re-centred percentile interval.

    Returns
    -------
    xarray.Dataset
        ``participation_ratio``, ``participation_ratio_se``, ``participation_ratio_ci``.

    Raises
    ------
    InsufficientDataError
        Fewer than 4 conditions, 2 trials per condition or 3 neurons; or a kernel norm not resolved from
        trial noise (the message says which).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((16, 12))  # 16 conditions of a 12-dimensional latent
    >>> means = latent @ rng.standard_normal((12, 400))  # 400 neurons, random read-outs
    >>> truth = naive_participation_ratio(latent)  # population PR over the shown conditions
    >>> rec = make_recording(means, n_trials=4, noise_sd=4.0, rng=1)
    >>> pr = participation_ratio(rec)["participation_ratio"].item()
    >>> naive = participation_ratio(rec, estimator="naive")["participation_ratio"].item()
    >>> abs(pr - truth) < 0.05 * truth, naive > 1.2 * truth  # trial noise adds an isotropic floor to naive
    (True, True)
    """
    if estimator not in ESTIMATORS:
        raise DataError(f"estimator: expected one of {list(ESTIMATORS)}, found {estimator!r}")
    stats = condition_statistics(recording, by, min_trials=1)
    value, replicates = participation_with_replicates(
        stats, unbiased=estimator == "unbiased", n_boot=n_boot, random_state=random_state
    )
    se, ci = bootstrap_interval(value, replicates, level) if n_boot else (np.nan, (np.nan, np.nan))
    return estimate_dataset(
        "participation_ratio", value, se, ci, level=level, session_id=stats.session_id, estimator=estimator,
        estimand="population kernel over the shown conditions" if estimator == "unbiased"
        else "sample covariance of the recorded condition means",
        bootstrap="neurons (Poisson weights), exact weighted replicates, re-centred percentile interval",
        n_boot=int(n_boot),
    )


def naive_participation_ratio(responses) -> float:
    """PR of the sample covariance of a (samples x features) array: tr(HXXᵀH)² / ‖HXXᵀH‖².

    Examples
    --------
    >>> import numpy as np
    >>> round(naive_participation_ratio(np.eye(5)), 6)  # 5 samples span 4 equal centred dimensions
    4.0
    """
    x = np.asarray(responses, dtype=float)
    x = x - x.mean(axis=0)
    gram = x @ x.T
    return float(np.trace(gram) ** 2 / np.sum(gram * gram))


@with_shared_products
def participation_with_replicates(stats: ConditionStatistics, *, unbiased=True, n_boot=0, random_state=None,
                                  weights=None):
    """PR point estimate and neuron-bootstrap replicates (numpy core used by :func:`neurolearn.summarize`).

    Parameters
    ----------
    stats : ConditionStatistics
    unbiased : bool
        The U-statistic estimator (True) or the naive one.
    n_boot, random_state
        Draw ``n_boot`` Poisson(1) neuron weights when ``weights`` is None.
    weights : ndarray, shape (B, N), optional
        Neuron resampling weights (shared across sessions by :func:`neurolearn.summarize`).

    Returns
    -------
    value : float
    replicates : ndarray, shape (B,)
        Empty without weights. For ``unbiased``: in [1, P - 1] and re-centred so that their median is
        ``value``; for the naive estimator: linearised, in [1, min(P - 1, N)].

    Raises
    ------
    InsufficientDataError
        See :func:`participation_ratio`.
    """
    n_cond, n_neurons = stats.means.shape
    if n_cond < MIN_CONDITIONS:
        raise InsufficientDataError(f"fewer than {MIN_CONDITIONS} conditions (found {n_cond})")
    if weights is None and n_boot:
        weights = neuron_bootstrap_weights(stats.neurons, n_boot, random_state)
    if not unbiased:
        return _naive_with_replicates(stats.means, weights)
    if n_neurons < MIN_NEURONS:
        raise InsufficientDataError(f"fewer than {MIN_NEURONS} neurons (found {n_neurons})")
    fewest = int(np.min(stats.n_trials))
    if fewest < 2 or not np.all(np.isfinite(stats.sem2)):
        raise InsufficientDataError(f"fewer than 2 trials in some condition (found {fewest}): the trial-noise "
                                    "correction needs a noise variance per condition")
    pair_norms = None
    if weights is not None:
        share_pair_products(stats, weights)  # no-op outside a shared_products block or on the kernel route
        pair_norms = lookup_shared(stats, _pair_norms_key(weights))
    rows = lookup_shared(stats, PAIR_ROWS)
    centred = centred_means(stats, True)
    squares = centred * centred
    pieces = _shown_condition_pieces(stats.means, stats.sem2, gram=gram(stats),
                                     product=None if rows is not None else gram_product(stats), pair_rows=rows,
                                     centred=centred, squares=squares)
    (square, square_influence), (norm, norm_influence) = pieces[:2]
    _require_resolved(norm, norm_influence)
    if not square > 0:
        raise InsufficientDataError(f"the squared trace of the centred kernel is not above zero ({square:.3g}): "
                                    "no condition structure resolved from trial noise")
    inverse = norm / square
    value = float(_pr_from_inverse(inverse, n_cond))
    if weights is None:
        return value, np.empty(0)
    square_b, norm_b = _weighted_pieces(pieces[2], stats.sem2, np.asarray(weights, dtype=float),
                                        pair_norms=None if pair_norms is None else pair_norms[1],
                                        noise=weighted_noise(stats, weights), squares=squares)
    spread = _jackknife_se_of_inverse(square, square_influence, norm, norm_influence)
    return value, _replicates(inverse, square_b, norm_b, n_cond, jackknife_se=spread)


def _naive_with_replicates(M, weights):
    """Plug-in PR and its linearised replicates (trace linear in the weights, ‖·‖² first order)."""
    centred = M - M.mean(axis=0)
    gram = centred @ centred.T
    trace, frob = np.trace(gram), np.sum(gram * gram)
    if not frob > 0:
        raise InsufficientDataError("no variance across conditions (every neuron's condition means are equal)")
    value = float(trace**2 / frob)
    if weights is None:
        return value, np.empty(0)
    t = np.sum(centred * centred, axis=0)
    row = np.einsum("pn,pn->n", gram @ centred, centred)
    trace_b = replicate(trace, weights, t)
    frob_b = replicate(frob, weights, 2.0 * row)
    top = min(M.shape[0] - 1.0, float(M.shape[1]))  # rank of the centred sample kernel
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = np.where(frob_b > 0, trace_b**2 / frob_b, top)
    return value, np.clip(replicates, 1.0, top)


def _shown_condition_pieces(M, V, gram=None, product=None, pair_rows=None, centred=None, squares=None):
    """U-statistics (over distinct neurons) of (tr HΦH)² and ‖HΦH‖², with per-neuron influences.

    ``gram`` = M Mᵀ and either ``product`` = M Mᵀ M or ``pair_rows`` r_i = Σ_j (c_i·c_j)² (= c_iᵀ G c_i, from
    :func:`share_pair_products`) replace the products of the centred means. Returns ``((square, influence),
    (norm, influence), per_neuron)`` where ``per_neuron`` holds the terms the weighted replicates need: t_i,
    ⟨HK_iH, HK_iH⟩ and the centred means. ``centred`` (H M) and ``squares`` (its elementwise square), if
    given, save recomputing them.
    """
    n_cond, n = M.shape
    c = M - M.mean(axis=0) if centred is None else centred
    squares = c * c if squares is None else squares
    noise = V.sum(axis=0)
    t = squares.sum(axis=0) - (1.0 - 1.0 / n_cond) * noise  # tr(H K_i H)
    total_t = t.sum()
    square = _u_over_neurons(total_t**2, t * t, t * total_t, n)
    if gram is None:
        S = _centred_kernel_sum(c, V)  # Σ_i H K_i H
        cross = np.einsum("pn,pn->n", S @ c, c) - V.T @ np.diag(S)  # ⟨H K_i H, S⟩ (S is already centred)
    else:
        # from the shared M Mᵀ and M Mᵀ M: S = H G H - H D H, and c_iᵀ S c_i = (Hm_i)ᵀ G (Hm_i) - Σ_μ d_μ c_μi²
        d = V.sum(axis=1)
        S = centre_kernel(gram, True, True) - np.diag(d) + (d[:, None] + d[None, :]) / n_cond - d.sum() / n_cond**2
        if pair_rows is None:
            centred_product = product - gram.sum(axis=1)[:, None] * M.mean(axis=0)[None, :]  # G H m_i
            pair_rows = np.einsum("pn,pn->n", c, centred_product)
        cross = pair_rows - d @ squares - V.T @ np.diag(S)
    own = _own_inner(c, V, squares)
    norm = _u_over_neurons(np.sum(S * S), own, cross, n)
    return square, norm, (t, own, c)


def _centred_kernel_sum(c, V):
    """Σ_i w_i H K_i H for unit weights: C Cᵀ - H diag(Σ_i v_i) H."""
    n_cond = c.shape[0]
    d = V.sum(axis=1)
    return c @ c.T - np.diag(d) + (d[:, None] + d[None, :]) / n_cond - d.sum() / n_cond**2


def _own_inner(c, V, squares=None):
    """‖H K_i H‖²_F per neuron, with H∘H = (1 - 2/P) I + 11ᵀ/P² (``squares``: c * c, if already computed)."""
    n_cond = c.shape[0]
    squares = c * c if squares is None else squares
    c2 = squares.sum(axis=0)
    return (c2**2 - 2.0 * np.einsum("pn,pn->n", V, squares) + (1 - 2.0 / n_cond) * np.einsum("pn,pn->n", V, V)
            + V.sum(axis=0) ** 2 / n_cond**2)


def _u_over_neurons(total_pair, own, cross_with_total, n):
    """U-statistic over distinct neurons of a bilinear form, and its first-order influence."""
    value = (total_pair - own.sum()) / (n * (n - 1))
    pair_sums = cross_with_total - own
    return value, 2.0 * (pair_sums - (n - 1) * value) / (n * (n - 1))


def _require_resolved(norm, influence):
    """Refuse a ratio whose denominator is not > RESOLUTION_Z jackknife standard errors above zero."""
    n = influence.size
    loo = leave_one_out(norm, influence, 2)
    se = float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))
    if not (np.isfinite(norm) and np.isfinite(se) and norm > RESOLUTION_Z * se):
        raise InsufficientDataError(
            f"denominator not resolved from noise: the squared norm of the centred kernel {norm:.3g} is not above "
            f"{RESOLUTION_Z:g} SE (SE {se:.3g}); the neurons' condition structure is not resolved from trial "
            "noise (too few neurons or trials, or untuned/silent neurons)"
        )


def _pairs_route(n_cond, n, n_boot):
    """True when the N x N Gram route of :func:`_weighted_pieces` has fewer operations than the kernel one."""
    kernel_cost = n_boot * n_cond * (n_cond + 1) / 2 * n + n * n_cond * (n_cond + 1) / 2
    pairs_cost = n * (n + 1) / 2 * (n_cond + n_boot)
    return not kernel_cost <= pairs_cost


def _pair_norms_key(weights):
    return ("pr_pair_norms", id(weights))


def share_pair_products(stats: ConditionStatistics, weights) -> None:
    """Inside a :func:`~neurolearn.stats.kernel_terms.shared_products` block, run the participation ratio's
    pass over the N x N Gram matrix of the centred means now (when its bootstrap takes that route) and share
    its by-products: the replicates' Σ_ij w_i w_j (c_i·c_j)² and the row sums r_i = Σ_j (c_i·c_j)², from which
    every per-neuron quadratic form m_iᵀ L G R m_i of the session follows in O(PN)
    (:func:`~neurolearn.stats.kernel_terms.centred_quadratic_rows`): the P²N product M Mᵀ M is then not needed.

    Call it before the session's other kernel statistics (:func:`neurolearn.summarize` does); a no-op outside a
    block, without weights, on the kernel route, or where the unbiased PR refuses the session anyway.
    """
    n_cond, n = stats.means.shape
    if weights is None or not sharing() or lookup_shared(stats, _pair_norms_key(weights)) is not None:
        return
    if n_cond < MIN_CONDITIONS or n < MIN_NEURONS or int(np.min(stats.n_trials)) < 2:
        return
    if not _pairs_route(n_cond, n, np.shape(weights)[0]) or not np.all(np.isfinite(stats.sem2)):
        return
    norms, rows = _weighted_pair_norms(centred_means(stats, True), np.asarray(weights, dtype=float),
                                       row_sums=True)
    # the weights are kept with the entry, so their id (the key) cannot be reused meanwhile
    seed_shared(stats, {_pair_norms_key(weights): (weights, norms), PAIR_ROWS: rows})


def _weighted_pieces(per_neuron, V, weights, method=None, pair_norms=None, noise=None, squares=None):
    """Exact weighted U-statistics: Σ_{i≠j} w_i w_j t_i t_j and Σ_{i≠j} w_i w_j ⟨HK_iH, HK_jH⟩ per weight row.

    Both lack the pair-count normalisation, which is the same for the two and cancels in their ratio.
    With S_w = Σ_i w_i H K_i H = C W Cᵀ - H diag(V w) H (C the centred means, whose columns sum to 0):

        ‖S_w‖² = ‖C W Cᵀ‖² - 2 Σ_μ (C W Cᵀ)_μμ (Vw)_μ + (1 - 2/P) ‖Vw‖² + (Σ_μ (Vw)_μ)² / P²,

    and only ‖C W Cᵀ‖² = Σ_ij w_i w_j (c_i·c_j)² needs more than matrix-vector work. ``method``:
    ``"kernel"`` gets it for all replicates from one product of the (B, N) weights with the (N, P(P+1)/2)
    per-neuron outer products (B P² N / 2), ``"pairs"`` from the N x N Gram matrix of the centred means in
    row blocks (P N² / 2 + B N² / 2, memory one block of rows); default: the one with fewer operations.
    ``pair_norms``: the ``"pairs"`` result already computed by :func:`share_pair_products`; ``noise``: the
    (B, P) weighted noise ``weights @ V.T``, ``squares`` the centred means squared, if already computed.
    """
    t, own, c = per_neuron
    n_cond, n = c.shape
    weights = np.asarray(weights, dtype=float)
    n_boot = weights.shape[0]
    if method is None:
        method = "pairs" if _pairs_route(n_cond, n, n_boot) else "kernel"
    square = (weights @ t) ** 2 - (weights * weights) @ (t * t)
    c2 = c * c if squares is None else squares
    d = weights @ V.T if noise is None else noise  # (B, P): Σ_i w_i v_i
    diagonal = weights @ c2.T  # (B, P): diag(C W Cᵀ)
    if method == "kernel":
        gram = _weighted_gram_norms(c, weights)
    else:
        gram = _weighted_pair_norms(c, weights) if pair_norms is None else pair_norms
    norm = (gram - 2.0 * np.einsum("bp,bp->b", diagonal, d) + (1 - 2.0 / n_cond) * np.einsum("bp,bp->b", d, d)
            + d.sum(axis=1) ** 2 / n_cond**2 - (weights * weights) @ own)
    return square, norm


#: bytes of one block of per-neuron products (the working memory of the bootstrap products)
_BLOCK_BYTES = 64 * 2**20
#: the N x N Gram pass of the replicates in at least this many row blocks (of at least _MIN_ROWS rows): the
#: weighted sums pay the blocks on the diagonal in full, (K + 1) / 2K of the N² pairs for K blocks
_MIN_BLOCKS = 8
_MIN_ROWS = 64


def _weighted_gram_norms(c, weights):
    """‖C diag(w_b) Cᵀ‖²_F for every row w_b of ``weights``: (B, N) @ (N, P(P+1)/2) outer products, by blocks."""
    upper = np.triu_indices(c.shape[0])
    factor = np.where(upper[0] == upper[1], 1.0, 2.0)  # off-diagonal entries appear twice in the norm
    kernels = weighted_outer_sums(c, weights, _BLOCK_BYTES)
    return (kernels * kernels) @ factor


def _weighted_pair_norms(c, weights, row_sums=False):
    """Σ_ij w_i w_j (c_i·c_j)² for every row w of ``weights``, from the Gram matrix in blocks of rows (upper
    triangle of blocks: each off-diagonal block counted twice); with ``row_sums`` also (…, r) with
    r_i = Σ_j (c_i·c_j)² (O(N²) more).

    A diagonal block is Cᵦᵀ Cᵦ, which numpy forms as a symmetric rank-k update (half the multiplications of
    a general product), the rest of its rows Cᵦᵀ C_later; the Gram pass is then P N²/2 whatever the block
    count. The weighted sums pay each diagonal block in full, (K + 1)/2K of the B N² for K blocks, so the
    rows are cut into at least :data:`_MIN_BLOCKS` blocks (one block of 64 MB held every N up to 8,000).
    """
    n = c.shape[1]
    step = max(1, min(int(_BLOCK_BYTES // (8 * max(n, 1))), max(_MIN_ROWS, -(-n // _MIN_BLOCKS))))
    total = np.zeros(weights.shape[0])
    rows = np.zeros(n) if row_sums else None
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = c[:, start:stop]
        own = block.T @ block  # symmetric: numpy's syrk
        own *= own
        later = block.T @ c[:, stop:]
        later *= later
        w = weights[:, start:stop]
        total += np.einsum("bn,bn->b", w @ own, w)
        if stop < n:
            total += 2.0 * np.einsum("bn,bn->b", w @ later, weights[:, stop:])
        if row_sums:  # this block's rows in full, and its off-diagonal part's share of the later rows
            rows[start:stop] += own.sum(axis=1) + later.sum(axis=1)
            rows[stop:] += later.sum(axis=0)
    return (total, rows) if row_sums else total


def _pr_from_inverse(inverse, n_cond):
    """PR = 1 / clip(‖HΦH‖² / (tr HΦH)², 1/(P - 1), 1): the range [1, P - 1] on the inverse scale."""
    return 1.0 / np.clip(inverse, 1.0 / (n_cond - 1.0), 1.0)


def _jackknife_se_of_inverse(square, square_influence, norm, norm_influence):
    """Leave-one-neuron-out jackknife SE of ‖HΦH‖² / (tr HΦH)² (exact leave-one-out U-statistics)."""
    n = square_influence.size
    loo_square = leave_one_out(square, square_influence, 2)
    loo_norm = leave_one_out(norm, norm_influence, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = np.where(loo_square > 0, loo_norm / loo_square, np.nan)
    loo = loo[np.isfinite(loo)]
    if loo.size < 2:
        return np.nan
    return float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


def _replicates(inverse, square_b, norm_b, n_cond, jackknife_se=np.nan):
    """Replicates of PR re-centred on the estimate, on the inverse scale ‖HΦH‖² / (tr HΦH)².

    The inverse is linear in the denominator, so a replicate whose ‖HΦH‖² estimate reaches zero or below
    (the ratio "at infinity") stays finite and ends at the top of the range instead of being dropped, which
    would narrow the interval exactly where the data say least; one whose (tr HΦH)² estimate is <= 0 is
    put at the bottom (PR 1). Shifting the inverse replicates so that their median is the estimate's, then
    clipping to the range, gives PR replicates whose median is the estimate (the clip and 1/x are
    monotone), so their percentile interval contains it even when the range clips half of them.

    Where the leave-one-neuron-out jackknife SE of the inverse exceeds the replicates' SD, the deviations are
    scaled up to it. The jackknife variance is conservative in
    expectation (Efron-Stein inequality); the Poisson bootstrap's spread was 10-15% below the sampling SD on
    spiking sessions with 300-600 log-normal-rate neurons, and the scaling brought coverage there from
    0.90 to 0.95 (benchmarks/bench_participation_ratio.py). The replicates are never narrowed.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(square_b > 0, norm_b / square_b, 1.0)
    centre = np.median(q)
    spread = np.std(q, ddof=1) if q.size > 1 else np.nan  # an outlying replicate only prevents widening
    scale = jackknife_se / spread if np.isfinite(jackknife_se) and np.isfinite(spread) and spread > 0 else 1.0
    estimate = _pr_from_inverse(inverse, n_cond)
    replicates = _pr_from_inverse(inverse + max(1.0, scale) * (q - centre), n_cond)
    # with an even count the median averages two middle replicates, which 1/x moves off the estimate by a
    # little (Jensen); shift that remainder out so an interval re-centred on the estimate stays in range
    return np.clip(replicates + (estimate - np.median(replicates)), 1.0, n_cond - 1.0)
