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

The second part (:func:`shared_bias`) is the shared noise's shift of the statistics' squared norms: a
gain inflates ‖HΦH‖²_u (the U-statistic over neurons removes only each neuron's own noise), so the
participation ratio and the similarity read low, by 1-1.5 of their SEs at 600 neurons x 3 trials x 8
conditions, every miss on one side; the first-order term widens the interval about the biased estimate.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import chi2

from neurolearn.data import SESSION, flag_name
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.trial_noise import CORRECTED, coefficient_scale

__all__ = ["SHARED_NOISE_FLAG", "MATERIAL_RATIO", "UNCORRECTED", "shared_noise_threshold",
           "flag_shared_trial_noise", "kernel_draws", "participation_statistic", "alignment_statistic",
           "similarity_statistic", "change_statistic", "shared_bias", "shared_shift", "shift_term",
           "SECOND_ORDER_MAX"]

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


# ------------------------------------------------------------------------------------------ the second-order term

#: conditions above which the shared term stays first order (its draws cost B P³ for ‖Δ_μ‖²)
SECOND_ORDER_MAX = 128


def kernel_draws(noise, draws, scale: float = 1.0, conditions=None):
    """(linear, quadratic), each (B, P', P'): the session's kernel under draw s z_b of its shared trial noise is
    Φ̂ + linear_b + quadratic_b (``draws`` (B, P, P + 3), the session's
    :func:`~neurolearn.stats.trial_noise.shared_draws`; ``scale`` s; P' the ``conditions``, default the session's).

    The shared noise of condition μ's mean, Δ_μ, is taken in the span of the condition means (a gain scales
    them; the first-order term sees only its projections q_μ = M Δ_μ = L_μ z_μ anyway): N δΦ_μν = q_μν + q_νμ
    (linear) and, on the diagonal, ‖Δ_μ‖² = q_μᵀ (M Mᵀ)⁻¹ q_μ less its expectation, which the noise correction
    of Φ̂ removes in the data (quadratic). A gain of CV 0.3 over 3 trials moves each condition's mean by 17 %
    along the neurons' baseline rates, whose norm is many times the tuning's: that inflates every squared norm
    of the kernel by as much as the tuning's own (participation_ratio read 0.68 low at 600 neurons x 3 trials x
    8 conditions). The off-diagonal Δ_μ·Δ_ν = q_μᵀ (M Mᵀ)⁻¹ q_ν is left out: (M Mᵀ)⁻¹ amplifies the estimation
    noise of E_μ where the means' Gram is small, and with it the shift of ‖HΦH‖² read 298 where the gain's was
    217 (diagonal only 263, linear only 230; 20 sessions of one population).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.kernels import condition_statistics
    >>> from neurolearn.stats.trial_noise import shared_trial_noise, shared_draws
    >>> rng = np.random.default_rng(0)
    >>> gain = 1.0 + 0.5 * rng.standard_normal((40, 1))
    >>> rec = xr.DataArray(gain * rng.lognormal(1.0, 0.5, (1, 200)) + rng.standard_normal((40, 200)),
    ...                    dims=("trial", "neuron"), coords={"stimulus": ("trial", np.arange(40) % 4)})
    >>> noise = shared_trial_noise(rec, condition_statistics(rec, "stimulus"), "stimulus")
    >>> linear, quadratic = kernel_draws(noise, shared_draws(noise, 10))
    >>> linear.shape, bool(np.allclose(linear, np.swapaxes(linear, 1, 2)))
    ((10, 4, 4), True)
    """
    n_cond = noise.n_conditions
    factors = noise.factors[:, :n_cond, :]  # the mean coordinates of L_μ: q_μ = L_μ z_μ
    q = float(scale) * np.einsum("mpq,bmq->bmp", factors, draws.reshape(draws.shape[0], n_cond, -1))
    inverse = np.linalg.pinv(noise.gram, hermitian=True)
    linear = (q + np.swapaxes(q, 1, 2)) / noise.n_neurons
    own = np.einsum("bmp,pq,bmq->bm", q, inverse, q)  # ‖Δ_μ‖² in the span of the means
    own -= float(scale) ** 2 * np.einsum("mpq,pr,mrq->m", factors, inverse, factors)  # less its expectation
    quadratic = np.zeros_like(linear)
    quadratic[:, np.arange(n_cond), np.arange(n_cond)] = own / noise.n_neurons
    if conditions is not None and not np.array_equal(np.asarray(conditions), noise.conditions):
        index = np.searchsorted(noise.conditions, np.asarray(conditions))
        linear, quadratic = linear[:, index][:, :, index], quadratic[:, index][:, :, index]
    return linear, quadratic


def _centred(kernel):
    return kernel - kernel.mean(axis=-2, keepdims=True) - kernel.mean(axis=-1, keepdims=True) \
        + kernel.mean(axis=(-2, -1), keepdims=True)


def _side(kernel, left, right):
    if left:
        kernel = kernel - kernel.mean(axis=-2, keepdims=True)
    if right:
        kernel = kernel - kernel.mean(axis=-1, keepdims=True)
    return kernel


def _corrected_kernel(stats, unbiased):
    kernel = stats.means @ stats.means.T
    if unbiased:
        kernel[np.diag_indices_from(kernel)] -= stats.sem2.sum(axis=1)
    return kernel / stats.n_neurons


def _fraction(stats, unbiased):
    return stats.n_neurons / (stats.n_neurons - 1.0) if unbiased else 1.0


def participation_statistic(stats, squared_norm: float, *, unbiased: bool = True):
    """PR's (pieces, combine): pieces(δΦ) the U-statistics (‖HΦH‖²_u, (tr HΦH)²_u) of the session's kernel
    perturbed by δΦ (B, P, P; None: unperturbed), each moving by N/(N - 1) times its plug-in part's change (the
    own terms over single neurons kept); combine(pieces) = 1 / clip(‖·‖²_u / (tr)²_u, 1/(P - 1), 1)."""
    n, n_cond = stats.n_neurons, stats.n_conditions
    centred = _centred(_corrected_kernel(stats, unbiased))
    means = stats.means - stats.means.mean(axis=0, keepdims=True)
    t = np.einsum("pn,pn->n", means, means) - ((1.0 - 1.0 / n_cond) * stats.sem2.sum(axis=0) if unbiased else 0.0)
    trace = float(t.mean())
    square = (n * n * trace**2 - float(t @ t)) / (n * (n - 1.0)) if unbiased else trace**2
    f = _fraction(stats, unbiased)

    def pieces(delta):
        if delta is None:
            return np.array([squared_norm, square])
        d = _centred(delta)
        moved = trace + np.trace(d, axis1=1, axis2=2)
        return np.stack([squared_norm + f * _moved(centred, d), square + f * (moved**2 - trace**2)], axis=-1)

    def combine(p, clip=True):
        norm, sq = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            inverse = np.where(sq > 0, norm / sq, 1.0)
            return 1.0 / np.clip(inverse, 1.0 / (n_cond - 1.0), 1.0) if clip else 1.0 / inverse
    return pieces, combine, (1.0, n_cond - 1.0)


def alignment_statistic(stats, task: np.ndarray, squared_norm: float, *, left=True, right=True,
                        unbiased: bool = True):
    """The alignment's (pieces, combine): (⟨Φ, T⟩, ‖LΦR‖²_u) of the perturbed kernel, ⟨Φ, T⟩ / (‖LΦR‖_u ‖T‖)."""
    kernel = _corrected_kernel(stats, unbiased)
    sided = _side(kernel, left, right)
    task_norm = float(np.linalg.norm(task))
    inner = float(np.sum(kernel * task))
    f = _fraction(stats, unbiased)

    def pieces(delta):
        if delta is None:
            return np.array([inner, squared_norm])
        d = _side(delta, left, right)
        return np.stack([inner + np.einsum("bpq,pq->b", delta, task), squared_norm + f * _moved(sided, d)], axis=-1)

    def combine(p, clip=True):
        numerator, norm = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, numerator / (np.sqrt(np.abs(norm)) * task_norm), np.nan)
    return pieces, combine, (-1.0, 1.0)


def similarity_statistic(stats_a, stats_b, squared_a: float, squared_b: float, *, unbiased: bool = True):
    """CKA's (pieces, combine): (⟨HΦ_aH, HΦ_bH⟩, ‖HΦ_aH‖²_u, ‖HΦ_bH‖²_u) with either session's kernel perturbed
    (pieces(δΦ_a, δΦ_b), None: unperturbed), their inner product over √ of the norms' product."""
    ca, cb = (_centred(_corrected_kernel(s, unbiased)) for s in (stats_a, stats_b))
    fa, fb = _fraction(stats_a, unbiased), _fraction(stats_b, unbiased)

    def pieces(delta_a, delta_b):
        return _pair_pieces(ca, cb, squared_a, squared_b, fa, fb, delta_a, delta_b)

    def combine(p, clip=True):
        inner, na, nb = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((na > 0) & (nb > 0), inner / np.sqrt(np.abs(na * nb)), np.nan)
    return pieces, combine, (-1.0, 1.0)


def change_statistic(stats_t, stats_0, squared_0: float, squared_change: float, *, unbiased: bool = True):
    """The squared relative change's (pieces, combine): (⟨HΦ_tH, HΦ_0H⟩, ‖HΦ_tH‖²_u, ‖HΦ_0H‖²_u) with either
    kernel perturbed, s = (‖HΦ_tH‖²_u + ‖HΦ_0H‖²_u - 2⟨HΦ_tH, HΦ_0H⟩) / ‖HΦ_0H‖²_u (``squared_change`` the
    estimate of s)."""
    ct, c0 = (_centred(_corrected_kernel(s, unbiased)) for s in (stats_t, stats_0))
    ft, f0 = _fraction(stats_t, unbiased), _fraction(stats_0, unbiased)
    squared_t = squared_change * squared_0 - squared_0 + 2.0 * float(np.sum(ct * c0))

    def pieces(delta_t, delta_0):
        return _pair_pieces(ct, c0, squared_t, squared_0, ft, f0, delta_t, delta_0)

    def combine(p, clip=True):
        inner, nt, n0 = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n0 > 0, (nt + n0 - 2.0 * inner) / n0, np.nan)
    return pieces, combine, (-np.inf, np.inf)


def _pair_pieces(ca, cb, squared_a, squared_b, fa, fb, delta_a, delta_b):
    if delta_a is None and delta_b is None:
        return np.array([float(np.sum(ca * cb)), squared_a, squared_b])
    n_boot = (delta_a if delta_a is not None else delta_b).shape[0]
    da = 0.0 if delta_a is None else _centred(delta_a)
    db = 0.0 if delta_b is None else _centred(delta_b)
    na = np.full(n_boot, squared_a) + (0.0 if delta_a is None else fa * _moved(ca, da))
    nb = np.full(n_boot, squared_b) + (0.0 if delta_b is None else fb * _moved(cb, db))
    inner = np.broadcast_to(np.sum((ca + da) * (cb + db), axis=(-2, -1)), (n_boot,))
    return np.stack([inner, na, nb], axis=-1)


def _moved(centred, d):
    """‖C + D‖² - ‖C‖² for a batch D (B, P, P)."""
    return 2.0 * np.einsum("pq,bpq->b", centred, d) + np.einsum("bpq,bpq->b", d, d)


def shared_bias(statistic, sessions, n_boot: int) -> float:
    """The shift of a kernel statistic by the shared trial noise (to subtract from the estimate).

    ``statistic`` the (pieces, combine, range) of one of the ``*_statistic`` functions above (one perturbation
    argument per session); ``sessions`` one entry per argument, None where the shared noise is not detected,
    else (noise, rows, draws, conditions): the session's
    :class:`~neurolearn.stats.trial_noise.SharedTrialNoise`, the statistic's first-order rows on ``conditions``
    (None: the session's) and its :func:`~neurolearn.stats.trial_noise.shared_draws` (flattened or not).

    The pieces (squared norms, inner products) are quadratic in the kernel, so the shared noise shifts them
    additively, by β = E p(Φ̂ + δΦ) - p(Φ̂): estimated over the draws s_θ z_b and their antithetic -s_θ z_b
    (:func:`kernel_draws`; s_θ the first-order term's
    :func:`~neurolearn.stats.trial_noise.coefficient_scale`, which takes the PSD projection's excess out along
    the statistic's gradient). The bias is the first-order effect of β on the statistic at the estimate, before
    its range clip. Measured at 600 neurons x 3 trials x 8 conditions, gain CV 0.3 (200 datasets of
    log-normal-rate Poisson sessions), participation_ratio's mean error -0.68 -> -0.03 (kernel_similarity's
    -0.18 -> +0.08); the alternatives overshot: the statistic re-formed from the corrected pieces p - β
    (‖HΦH‖²_u - β can come near 0) +0.75, β without s_θ +0.63, β unbiased in E_μ (E_μ⁺'s shift less E_μ⁻'s)
    +0.30, each with a wider error SD. The shift's own error goes into the interval
    (:func:`~neurolearn.stats.trial_noise.add_shared_term` ``bias``).

    Examples
    --------
    A session where no shared noise was detected (None) is not touched; :func:`shared_shift`'s example shows a
    gain reading the participation ratio low (a negative bias, to subtract):

    >>> import numpy as np
    >>> one_piece = (lambda *perturbations: np.array([2.0]), lambda pieces, clip=True: pieces[..., 0], (0, np.inf))
    >>> shared_bias(one_piece, [None], 10)
    0.0
    """
    return shared_shift(statistic, sessions, n_boot)[0]


def shared_shift(statistic, sessions, n_boot: int):
    """(bias, term): :func:`shared_bias` and the (B,) draws of the shift's own fluctuation about it.

    The shift of the pieces is a quadratic form in the shared noise: its mean β is the bias, but the session's
    realized shift scatters about β (a gain's realized Σ_μ (ḡ_μ - ḡ)² ‖baseline‖², about a χ² of P - 1 degrees
    of freedom times β / (P - 1): relative SD √(2 / (P - 1)), 0.53 at 8 conditions), and that scatter is what
    reads a session low, far more than the first-order term's (its baseline part is centred away). Replicate b's
    ``term`` is the first-order effect on the statistic, at the estimate, of draw b's even part
    (p(Φ̂ + δ_b) + p(Φ̂ - δ_b)) / 2 - p(Φ̂) less its mean β: uncorrelated with the first-order term (even
    against odd in z_b), it is added to it (:func:`~neurolearn.stats.trial_noise.add_shared_term`'s ``term``,
    its variance to ``variance``). The draws are those of the first-order term, so each session's replicate b
    moves with the same z_b. The misses it removes were the sessions whose realized gain was large: they read
    near PR = 1, where the first-order term is small, and the truth lay above the interval (at 600 neurons x 3
    trials x 8 conditions, gain CV 0.3, 30 of 32 misses had estimates below 1.4, 20 at 1). With
    :func:`shift_term` (measured there, the simulator's log-normal-rate Poisson sessions, three batches of about
    400): participation_ratio's coverage 0.914 / 0.927 / 0.945 -> 0.962 / 0.957 / 0.965, the misses above
    0.081 / 0.068 / 0.048 -> 0.035 / 0.030 / 0.025, the mean width 3.09 / 3.11 / 3.36 -> 3.34 / 3.39 / 3.58;
    at 150 x 5 x 16 0.939 / 0.937 -> 0.942 / 0.939 (through summarize, benchmarks/bench_kernel_change_null.py
    --shared: 0.914 -> 0.960 and, at 100 x 5 x 12, 0.907 -> 0.923). Sessions below the detection gate are not
    touched.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.kernels import condition_statistics
    >>> from neurolearn.stats.kernel_terms import self_inner_estimate
    >>> from neurolearn.stats.trial_noise import participation_gradient, shared_draws, shared_trial_noise
    >>> rng = np.random.default_rng(0)
    >>> rates = rng.lognormal(1.5, 1.0, 300) * np.exp(0.5 * rng.standard_normal((6, 300)))
    >>> gain = 1.0 + 0.3 * rng.standard_normal((18, 1))
    >>> rec = xr.DataArray(rng.poisson(gain * np.repeat(rates, 3, axis=0)).astype(float), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", np.repeat(np.arange(6), 3))})
    >>> stats = condition_statistics(rec, "stimulus")
    >>> noise = shared_trial_noise(rec, stats, "stimulus")
    >>> squared = self_inner_estimate(stats, True, True)[0]
    >>> rows = participation_gradient(stats, squared)
    >>> statistic = participation_statistic(stats, squared)
    >>> bias, term = shared_shift(statistic, [(noise, rows, shared_draws(noise, 200), None)], 200)
    >>> noise.detected, bias < 0  # the gain reads the participation ratio low: subtract the (negative) bias
    (True, True)
    >>> term.shape, abs(float(term.mean())) < 1e-9, bool(term.std() > 0)
    ((200,), True, True)
    """
    pieces, combine, (low, high) = statistic
    base = pieces(*([None] * len(sessions)))
    even = np.zeros((int(n_boot),) + base.shape)
    # one session at a time: independent sessions' shifts add (their cross term has mean 0 and only Monte Carlo
    # error, which a joint draw would add)
    for k, entry in enumerate(sessions):
        if entry is None:
            continue
        noise, rows, draws, conditions = entry
        scale = coefficient_scale(noise, rows, conditions)
        linear, quadratic = kernel_draws(noise, np.asarray(draws).reshape(int(n_boot), -1), scale, conditions)
        plus, minus = [None] * len(sessions), [None] * len(sessions)
        plus[k], minus[k] = linear + quadratic, quadratic - linear
        even += (pieces(*plus) + pieces(*minus)) / 2.0 - base
    shift = even.mean(axis=0)
    step = 1e-3
    slope = (combine(base + step * shift, clip=False) - combine(base - step * shift, clip=False)) / (2.0 * step)
    value = float(combine(base))
    bias = value - float(np.clip(float(combine(base, clip=False)) - float(slope), low, high))
    deviation = even - shift  # (B, pieces): each draw's realized shift about its mean
    term = (combine(base + step * deviation, clip=False)
            - combine(base - step * deviation, clip=False)) / (2.0 * step)
    term = np.where(np.isfinite(term), term, 0.0)
    return bias, term - float(np.mean(term))


def shift_term(term, variance: float, df: float, bias: float, spread):
    """(term, variance) of a statistic's shared noise with its shift taken out: the first-order ``term`` (its
    ``variance`` estimated on ``df``) scaled to carry the shift's estimation error, variance + 2 bias² / df,
    plus the shift's own scatter ``spread`` (:func:`shared_shift`), for
    :func:`~neurolearn.stats.trial_noise.add_shared_term` with ``df`` = inf and no ``bias``.

    add_shared_term's t scaling (t_0.975(ν) / z_0.975, ν the Satterthwaite degrees of freedom of the shared
    variance) stood in for these two terms: with them the gain's realized effect on a session's participation
    ratio (the same neurons and trial noise with and without the gain, the simulator's sessions at 600 neurons
    x 3 trials x 8 conditions, CV 0.3, 298 sessions) less the bias lies beyond ±1.96 of the terms' SD in 0.059
    of the sessions (the first-order term alone 0.263, it and the bias's error 0.135, it and the scatter 0.100),
    so the normal interval is used; with the t scaling as well participation_ratio covered 0.977-0.982 (without it
    0.957-0.965, three batches of 400 sessions).

    Examples
    --------
    >>> import numpy as np
    >>> term, variance = shift_term(np.array([1.0, -1.0]), 1.0, 2.0, 1.0, np.array([0.5, -0.5]))
    >>> term.round(3).tolist(), variance
    ([1.914, -1.914], 2.25)
    """
    term = np.asarray(term, dtype=float)
    spread = np.asarray(spread, dtype=float)
    extra = 2.0 * float(bias) ** 2 / df if (bias and variance > 0 and np.isfinite(df) and df > 0) else 0.0
    if extra > 0:
        term = term * np.sqrt((variance + extra) / variance)
    return term + spread, float(variance + extra + np.var(spread))
