"""Dynamics statistics of time-resolved recordings: how slowly population activity evolves and what it keeps.

A recording with dims ``("trial", "neuron", "time")`` is reduced to its leading predictable directions and a
linear dynamical model x_{k+1} ≈ A x_k + B u_k + c is fitted to the transitions within trials (never across
a trial boundary) by instrumental variables, so that observation noise does not attenuate A (see
:mod:`neurolearn.stats.dynamics_fit`). The slowest mode gives the population timescale τ = −Δt/log|λ_max|;
eigenvalues of A standing out of the bulk count the slow "memory" modes (one real for an integrator, a complex
pair for an oscillator). Also here: single-neuron autocorrelation timescales and how well activity encodes
the cumulative input (the quantity an integrator stores).

Calcium imaging: a fluorescence (dF/F) trace is the activity convolved with the indicator's decay, so its
slowest mode is at least as slow as the indicator (an AR(1) indicator is itself a mode of the observed
dynamics). Pass ``indicator_tau`` to deconvolve an AR(1) indicator of known decay before the fit; otherwise
the timescale of a dF/F recording is flagged. The indicator alone (a memoryless circuit) makes every ROI the
same AR(1), a degenerate spectrum, read as its common decay (:mod:`neurolearn.stats.dynamics_degenerate`).

The per-session gathering (``dynamics_summary``, the dynamics family of :func:`neurolearn.summarize`) lives in
:mod:`neurolearn.stats.dynamics_family` and is re-exported here. (The module is not called
``dynamics_summary``: importing a submodule sets it as a package attribute, which would shadow the function
``neurolearn.stats.dynamics_summary``.)

Condition-locked drive: what a condition's trials share (a held stimulus, its mean time course) is an input,
not recurrence, and is taken out of the fit by default (:mod:`neurolearn.stats.dynamics_conditions`,
:mod:`neurolearn.stats.dynamics_select`): memoryless cells with sustained tuning read as a perfect integrator
otherwise.

Uncertainty: the regression's sufficient statistics are sums over trials, so a bootstrap over trials
re-weights per-trial sums (and re-estimates the basis from them) instead of refitting from the data: a
replicate costs about a quarter of a point estimate (``benchmarks/bench_dynamics.py``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.dynamics_conditions import condition_codes
from neurolearn.stats.dynamics_bootstrap import BIAS_NOTE
from neurolearn.stats.dynamics_bootstrap import bootstrap_estimates as _bootstrap
from neurolearn.stats.dynamics_bootstrap import bootstrap_weights as _bootstrap_weights
from neurolearn.stats.dynamics_fit import (
    _name,
    indicator_note as _indicator_note,
    input_array as _input_array,
    split_outliers as _split_outliers,
    time_resolved as _time_resolved,
)
# re-exported: the per-session gathering moved to its own module
from neurolearn.stats.dynamics_family import CALCIUM_FLAG, SUMMARY_STATISTICS, dynamics_summary
from neurolearn.stats.dynamics_select import fit_dynamics
from neurolearn.stats.estimate import bootstrap_interval, estimate_dataset

__all__ = [
    "population_timescale",
    "outlier_eigenvalues",
    "autocorrelation_timescale",
    "input_encoding",
    "dynamics_summary",
]



def population_timescale(
    recording: xr.DataArray,
    n_components: int = 10,
    ridge: float = 1e-6,
    dt: float | None = None,
    *,
    input=None,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    indicator_tau: float | None = None,
    method: str = "iv",
    conditions: str | None = "auto",
    condition_means: str = "auto",
) -> xr.Dataset:
    """Slowest timescale of population activity from a linear dynamical model fitted by instrumental variables.

    Activity is centred per neuron (over trials and time), reduced to its ``n_components`` leading principal
    components, and of these only the directions its own past (and the inputs) predict beyond chance are kept
    (canonical correlations above their null edge; the ``n_components`` attr says how many).
    x_{k+1} = A x_k + B u_k + c is fitted by
    two-stage least squares over all transitions k → k+1 inside trials, with x_{k-1}, x_{k-2} (and the
    inputs) as instruments for x_k. τ = −Δt/log|λ_max| with λ_max the eigenvalue of A of largest modulus.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron", "time")``: at least 2 trials, 2 neurons and 5 time bins.
    n_components : int
        Dimensions kept (capped at the number of neurons).
    ridge : float
        Ridge penalty relative to each regressor's own (projected) sum of squares, not applied to the
        intercept c. Any shrinkage attenuates slow modes; the default is for numerical safety only.
    dt : float, optional
        Bin width in seconds. Default: the spacing of the ``time`` coord (which must be uniform).
    input : str or xarray.DataArray, optional
        Input u: a coord with dims ``("trial", "time")`` or a DataArray with those dims (optionally a third
        dim of input channels); entry k drives the transition k → k+1. When given, B is fitted jointly (so
        input-driven change is not read as slow intrinsic dynamics) and the inputs serve as instruments.
    n_boot : int
        Bootstrap resamples of trials (0 skips SE and interval).
    random_state : int or numpy.random.Generator, optional
    level : float
    indicator_tau : float, optional
        Decay time constant (s) of an AR(1) calcium indicator to deconvolve before the fit (``None`` or 0:
        none). Calcium timescales without it include the indicator's kernel.
    method : {"iv", "ols"}
        ``"ols"`` is the attenuated least-squares fit in PCA space (for comparison only).
    conditions : str or None
        Trial coord naming each trial's condition; ``"auto"``: ``stimulus`` where present, else all trials
        are one condition.
    condition_means : {"auto", "time", "held", "none"}
        What of the condition-locked activity is an input (:mod:`neurolearn.stats.dynamics_conditions`):
        ``"time"`` removes each condition's mean time course (PSTH) from every variable, ``"held"`` adds
        condition indicators to the exogenous inputs (a constant drive per condition), ``"none"`` neither
        (activity centred per neuron only, the fit before 2026-12-06). ``"auto"``: time, unless a declared
        ``input`` is the same in every trial of a condition (a frozen sequence per condition); then held or
        none, whichever the data support (:mod:`neurolearn.stats.dynamics_select`). The ``condition_means``
        attr says which was used.

    Returns
    -------
    xarray.Dataset
        ``timescale`` (s) with ``_se`` and ``_ci``; ``outlier_eigenvalue`` (|λ_max|) with ``_se``/``_ci``;
        ``eigenvalue`` (complex, dim ``mode``, by decreasing modulus); ``timescale_boot`` and
        ``outlier_eigenvalue_boot`` (dim ``bootstrap``, attr ``resampling="independent"``) when ``n_boot``.

    Notes
    -----
    Estimand: the largest eigenvalue modulus of the population's linear (recurrent) dynamics (restricted to
    the ``n_components`` predictable directions), in the activity itself -- for calcium data, in the
    fluorescence unless ``indicator_tau`` is given. What a condition's trials share is its input, not
    recurrence: a held stimulus gives an offset constant within the trial that, left in, reads as A ≈ I
    (memoryless Poisson cells with sustained tuning: |λ| 1.00-1.01 [0.97, 1.03], τ = inf, before
    2026-12-06). By default the fit sees the fluctuations about each condition's mean time course (for
    linear dynamics the same A: the condition mean obeys the same recursion), or, with a declared input,
    activity with each condition's constant drive absorbed where it is there. Fluctuations that the dynamics do not carry
    forward (memoryless cells) leave no direction predictable from its past: the fit is then not resolved
    (attr ``resolved`` 0, flagged in :func:`dynamics_summary`) and reports least squares in the same basis,
    the bins' own autocorrelation (memoryless Poisson cells: 0.04-0.07 ± 0.04; ``benchmarks/bench_dynamics.py
    --null``). With the condition means removed, A is identified by trial-to-trial variability the dynamics
    carry forward; a response identical in every trial of a condition, without a declared input, is refused
    ("no activity within conditions").

    Degenerate spectrum: where every neuron decays at one rate (A = λI, e.g. a calcium indicator's decay
    alone), every eigenvalue is λ and the estimand is that common modulus; the fit's k eigenvalues are k noisy
    estimates of it, and their largest modulus is biased upward by about the radius of their disc (40 ROIs
    sharing λ 0.867 per 0.1 s bin, 8 conditions x 8 trials: 0.92 [0.91, 0.94], τ 1.2 s for 0.7 s, before
    2026-12-07). Where A ∝ I in the kept directions is not rejected and no kept eigenvalue is resolved from
    the top (at least 3 kept, :mod:`neurolearn.stats.dynamics_degenerate`; the ``estimator`` attr says so), the
    reported |λ_max| is the pooled instrumental-variable decay of every neuron's own activity (no direction
    selected): 0.867 there. Its interval spans the largest eigenvalue's too, since a slow mode inside the
    noise disc of such a bulk has the same eigenvalue statistics (a latent 0.95 over those neurons reads 0.876,
    the interval reaching 0.95 in 26 of 30). Bin-averaging an AR(1) (0.1 s bins of 30 Hz frames) does not bias the lagged
    instruments (its autocovariances at lags ≥ 1 are λ^ℓ times one constant).

    Bias handling: observation noise independent across bins (spike-count or shot noise) does not bias the
    instrumental-variable estimate, unlike least squares, which attenuates A towards zero. Noise correlated
    over time (an indicator's decay, slow drifts) is part of the observed dynamics. A kept direction whose
    own past predicts it weakly makes its eigenvalue a ratio with a near-zero denominator, heavy-tailed
    enough to become |λ_max| (a stable network, outlier 0.87 above a random bulk of radius 0.8, 31 trials x
    11 bins: 1.81 [1.76, 3.26], τ [inf, inf], before 2026-12-07): the least predictable directions are
    dropped until the first stage is strong (Cragg-Donald F ≥ 10), and a single direction with a weak first
    stage is refused ("weak first stage"). An explosive estimate (|λ_max| ≥ 1) is refused where Sargan's
    test rejects the model in the kept directions at 1 % ("explosive estimate the data do not support":
    slow activity outside them correlates with the instruments). |λ_max| ≥ 1 (no decay) gives τ = inf.

    Interval: its estimand is |λ_max| of the population's dynamics as above. Trials are resampled, and each
    resample re-estimates the basis from its own trials (the same number of most predictable directions,
    within the leading components of all trials) before fitting A in it, so the interval sees the basis's
    sampling error: with few noisy trials it is a large part of the estimate's (a trained RNN at 16 trials:
    the replicates' SD 0.014 with the basis fixed, 0.018 re-estimated, against 0.017 across recordings).
    The number of directions and the components stay fixed: duplicated trials pass the predictability edge
    more often, and the components' span moves little when ``n_components`` exceeds the slow modes. The
    interval is the hull of the basic (reflected) bootstrap interval ``[2λ̂ − q_hi, 2λ̂ − q_lo]`` (q the
    replicates' quantiles), the percentile interval ``[q_lo, q_hi]`` and λ̂. The basic interval corrects the
    part of the small-sample bias near a slow mode that resampling reproduces, and mirrors the replicates'
    skew (right within the kept directions: linear systems and trained RNNs near a unit root). The
    percentile interval keeps the replicates' tails where they are, which is right where the error is which
    directions are kept: with a dense slow bulk under the outlier, the outlier's direction is often not the
    most predictable, the estimate misses it and reads low, and resamples that find it read higher (30 units,
    bulk 0.8, outlier 0.87, 31 trials x 11 bins: mean 0.65; the basic interval covered 0.80, the hull 0.97,
    with a median width of 1.3 there: such data do not locate the outlier). The SE is (q_hi − q_lo)/(2z).
    τ's interval is the image of |λ|'s (τ is monotone in |λ|), so resamples with |λ| ≥ 1 stay in it. Known
    gaps: when a single direction is kept (weak second mode, few noisy trials), the input-driven fast
    activity it picks up attenuates |λ| (a trained RNN at 16 trials, Poisson counts of mean ~1: −0.023 with
    one direction kept, −0.006 with two), a bias resampling does not reproduce; the point estimate under a
    dense slow bulk stays low (above); and the hull is 10-20 % wider than the basic interval where the
    replicates are skewed, over-covering where the estimate is unbiased
    (``benchmarks/bench_dynamics.py`` measures the coverage).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((100, 40))
    >>> for k in range(1, 40):
    ...     x[:, k] = 0.9 * x[:, k - 1] + rng.standard_normal(100)
    >>> rec = xr.DataArray(np.stack([x, -x], axis=1), dims=("trial", "neuron", "time"),
    ...                    coords={"time": 0.01 * np.arange(40)})
    >>> ds = population_timescale(rec, n_components=1, n_boot=0)
    >>> bool(abs(float(ds["timescale"]) / (-0.01 / np.log(0.9)) - 1) < 0.15)
    True
    """
    fit = fit_dynamics(recording, n_components, ridge, dt, input, method=method, indicator_tau=indicator_tau,
                       conditions=conditions, condition_means=condition_means)
    return _estimate(fit, n_boot, random_state, level)


def outlier_eigenvalues(
    recording: xr.DataArray,
    n_components: int = 10,
    ridge: float = 1e-6,
    dt: float | None = None,
    *,
    input=None,
    threshold: float = 0.5,
    indicator_tau: float | None = None,
    method: str = "iv",
    conditions: str | None = "auto",
    condition_means: str = "auto",
) -> xr.DataArray:
    """Eigenvalues of the fitted dynamics matrix A that stand out of the bulk.

    Criterion: sort the moduli |λ_1| ≥ |λ_2| ≥ ... and find the widest gap |λ_j| − |λ_{j+1}|. The top j
    eigenvalues are outliers if they stand clearly above the bulk edge, |λ_j| > (1 + ``threshold``)·|λ_{j+1}|;
    otherwise there are none (a bulk spread evenly in modulus, as for a random connectivity matrix, has no
    wide relative gap). Complex-conjugate pairs share their modulus, so they enter or leave together: an
    integrator-like slow mode gives one real outlier, a slow rotation a complex pair.

    Parameters
    ----------
    recording, n_components, ridge, dt, input, indicator_tau, method, conditions, condition_means
        As in :func:`population_timescale`.
    threshold : float
        How far (relative) the last outlier must stand above the bulk edge.

    Returns
    -------
    xarray.DataArray
        Complex outlier eigenvalues, dim ``outlier`` (decreasing modulus); attrs ``count``, ``n_real``,
        ``n_complex``, ``bulk_edge``, ``criterion``.

    Notes
    -----
    Bias handling: as in :func:`population_timescale` (the instrumental-variable fit does not attenuate the
    outliers; the bulk of weakly driven modes is noisy). Keep ``n_components`` above the expected number of
    outliers so that a bulk exists; with one component there is no bulk and no outlier is reported.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(1)
    >>> x = np.zeros((200, 3, 30))
    >>> for k in range(1, 30):
    ...     x[:, :, k] = np.array([0.95, 0.2, -0.1]) * x[:, :, k - 1] + rng.standard_normal((200, 3))
    >>> rec = xr.DataArray(x, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> out = outlier_eigenvalues(rec, n_components=3)
    >>> out.attrs["count"], out.attrs["n_real"]
    (1, 1)
    """
    fit = fit_dynamics(recording, n_components, ridge, dt, input, method=method, indicator_tau=indicator_tau,
                       conditions=conditions, condition_means=condition_means)
    eig = fit.eigenvalues()
    outlier, edge = _split_outliers(eig, threshold)
    values = eig[outlier]
    n_real = int(np.sum(np.abs(values.imag) <= 1e-9 * np.maximum(np.abs(values), 1e-300)))
    return xr.DataArray(
        values, dims=("outlier",), name="outlier_eigenvalue",
        attrs={"count": int(values.size), "n_real": n_real, "n_complex": int(values.size - n_real),
               "bulk_edge": float(edge), "threshold": float(threshold),
               "criterion": "above the widest gap in |λ| if |λ_j| > (1 + threshold) |λ_(j+1)|"},
    )


def autocorrelation_timescale(
    recording: xr.DataArray,
    dt: float | None = None,
    *,
    max_lag: int | None = None,
    subtract_mean: bool = True,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    conditions: str | None = "auto",
) -> xr.Dataset:
    """Timescale of the population-averaged autocorrelation of single-neuron activity within trials.

    Each neuron's activity is centred (with ``subtract_mean``, each condition's mean time course over its
    trials is subtracted, so stimulus-locked structure, a held stimulus's offset included, does not count as
    memory; ``conditions`` names the trial coord of the conditions, ``"auto"``: ``stimulus`` where present,
    else all trials are one condition), and the autocorrelation
    ρ(ℓ) = Σ x_t x_{t+ℓ}/Σ x_t² is pooled over trials, neurons and time pairs within trials. τ is fitted as
    ρ(ℓ) = a · exp(−ℓΔt/τ) on lags 1..``max_lag`` (default: a quarter of the bins) by least squares on
    log ρ weighted by ρ² (over lags where ρ > 0); lag 0 is excluded because independent noise inflates it.

    Returns
    -------
    xarray.Dataset
        ``autocorrelation_timescale`` (s) with ``_se``/``_ci`` (bootstrap over trials), and
        ``autocorrelation`` over dim ``lag``.

    Notes
    -----
    Bias handling: subtracting a condition's mean removes 1/n of each of its n trials' own fluctuation, on
    every lag alike (so ρ is unbiased by it); a single-trial condition carries nothing; the pooled estimator is dominated by high-variance neurons; mixtures of
    modes give an effective timescale between them. Checked on AR(1) activity with known τ.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(2)
    >>> x = np.zeros((200, 5, 60))
    >>> x[..., 0] = rng.standard_normal((200, 5)) / np.sqrt(1 - 0.8**2)
    >>> for k in range(1, 60):
    ...     x[..., k] = 0.8 * x[..., k - 1] + rng.standard_normal((200, 5))
    >>> rec = xr.DataArray(x, dims=("trial", "neuron", "time"), coords={"time": 0.01 * np.arange(60)})
    >>> ds = autocorrelation_timescale(rec, n_boot=0)
    >>> bool(abs(float(ds["autocorrelation_timescale"]) / (-0.01 / np.log(0.8)) - 1) < 0.1)
    True
    """
    values, dt = _time_resolved(recording, dt)  # (trial, neuron, time)
    n_trials, _, n_bins = values.shape
    if subtract_mean:
        if n_trials < 2:
            raise DataError(f"{_name(recording)}: subtract_mean needs at least 2 trials, found {n_trials}")
        codes = condition_codes(recording, conditions, _name(recording))[0]
        if np.bincount(codes).max() < 2:
            raise InsufficientDataError("no condition has 2 or more trials: subtract_mean removes each "
                                        "condition's mean time course, and a single trial has no fluctuation")
        values = values.copy()
        for c in np.unique(codes):
            values[codes == c] -= values[codes == c].mean(axis=0, keepdims=True)
    else:
        values = values - values.mean(axis=(0, 2), keepdims=True)
    max_lag = max(2, n_bins // 4) if max_lag is None else int(max_lag)
    if not 1 <= max_lag < n_bins:
        raise DataError(f"{_name(recording)}: expected 1 <= max_lag < {n_bins} time bins, found {max_lag}")
    lags = np.arange(max_lag + 1)
    # Per-trial lagged products (summed over neurons and time): the bootstrap re-weights these.
    products = np.stack([np.einsum("ijk,ijk->i", values[:, :, : n_bins - lag], values[:, :, lag:])
                         / (n_bins - lag) for lag in lags], axis=1)  # (trial, lag)

    def timescale(prod):
        rho = prod[1:] / prod[0]
        ok = rho > 0
        if ok.sum() < 1:
            return np.nan
        # log ρ(ℓ) = log a − ℓ Δt/τ, weighted by ρ² so that the fit matches least squares on ρ itself and
        # the noisy small correlations at long lags do not dominate.
        weight = rho[ok]
        design = np.c_[np.ones(ok.sum()), lags[1:][ok] * dt] * weight[:, None]
        slope = np.linalg.lstsq(design, np.log(rho[ok]) * weight, rcond=None)[0][1]
        return -1.0 / slope if slope < 0 else np.inf

    total = products.sum(axis=0)
    value = timescale(total)
    se, ci = np.nan, (np.nan, np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(random_state)
        weights = _bootstrap_weights(rng, n_trials, n_boot)
        se, ci = bootstrap_interval(value, [timescale(w @ products) for w in weights], level)
    ds = estimate_dataset(
        "autocorrelation_timescale", value, se, ci, level=level, n_boot=n_boot,
        estimator="exponential fit to the pooled within-trial autocorrelation, lags 1..max_lag",
        bias_correction=("lag 0 excluded; each condition's mean time course subtracted" if subtract_mean
                         else "lag 0 excluded"),
        units="s",
    )
    ds["autocorrelation"] = (("lag",), total / total[0])
    return ds.assign_coords(lag=lags * dt)


def input_encoding(
    recording: xr.DataArray,
    input,
    *,
    n_splits: int = 5,
    ridge: float = 1e-2,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """How well activity encodes the cumulative input: cross-validated R² of a linear readout of Σ_{s≤t} u_s.

    The target at bin t of a trial is the running sum of the input u over that trial's bins up to t. A ridge
    regression from the population vector at t (neurons z-scored on the training trials) is fitted on the
    training trials of each of ``n_splits`` folds over *trials* and evaluated on the held-out trials.

    Parameters
    ----------
    recording : xarray.DataArray
        Dims ``("trial", "neuron", "time")``.
    input : str or xarray.DataArray
        A coord with dims ``("trial", "time")`` or a DataArray with those dims (one input channel).
    n_splits : int
        Folds over trials.
    ridge : float
        Penalty relative to the mean variance of the standardised features.

    Returns
    -------
    xarray.Dataset
        ``input_encoding`` (R² on held-out trials, 1 − SS_res/SS_tot with SS_tot about the training mean)
        with ``_se``, ``_ci`` (bootstrap over held-out trials, readouts fixed) and ``_chance`` (0).

    Notes
    -----
    Bias handling: held-out trials remove the optimistic bias of in-sample R²; the bootstrap resamples
    held-out trials with the fitted readouts fixed, so it omits the readouts' own variability.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(3)
    >>> u = rng.standard_normal((60, 20))
    >>> stored = np.cumsum(u, axis=1)
    >>> x = np.stack([stored, -stored, rng.standard_normal((60, 20))], axis=1)
    >>> rec = xr.DataArray(x + 0.1 * rng.standard_normal(x.shape), dims=("trial", "neuron", "time"),
    ...                    coords={"time": np.arange(20.0), "u": (("trial", "time"), u)})
    >>> bool(input_encoding(rec, "u", n_boot=0)["input_encoding"] > 0.95)
    True
    """
    values, _ = _time_resolved(recording, dt=1.0)
    n_trials, n_neurons, n_bins = values.shape
    u = _input_array(recording, input)
    if u.ndim != 2:
        raise DataError(f"{_name(recording)}: input_encoding expects one input channel (trial, time), found "
                        f"shape {u.shape}")
    if n_trials < n_splits or n_splits < 2:
        raise DataError(f"{_name(recording)}: expected at least n_splits={n_splits} >= 2 trials, found {n_trials}")
    cumulative = np.cumsum(u, axis=1)  # (trial, time)
    features = values.transpose(0, 2, 1)  # (trial, time, neuron)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n_trials)
    folds = np.array_split(order, n_splits)
    ss_res, ss_tot = np.zeros(n_trials), np.zeros(n_trials)
    for test in folds:
        train = np.setdiff1d(order, test)
        x_train = features[train].reshape(-1, n_neurons)
        y_train = cumulative[train].ravel()
        mean, sd = x_train.mean(0), x_train.std(0)
        sd[sd == 0] = 1.0
        z = (x_train - mean) / sd
        y_mean = y_train.mean()
        penalty = ridge * len(y_train)
        coef = np.linalg.solve(z.T @ z + penalty * np.eye(n_neurons), z.T @ (y_train - y_mean))
        predicted = ((features[test] - mean) / sd) @ coef + y_mean  # (test trial, time)
        ss_res[test] = ((cumulative[test] - predicted) ** 2).sum(axis=1)
        ss_tot[test] = ((cumulative[test] - y_mean) ** 2).sum(axis=1)
    value = 1.0 - ss_res.sum() / ss_tot.sum()
    se, ci = np.nan, (np.nan, np.nan)
    if n_boot > 0:
        weights = _bootstrap_weights(rng, n_trials, n_boot)
        se, ci = bootstrap_interval(value, 1.0 - (weights @ ss_res) / (weights @ ss_tot), level)
    return estimate_dataset(
        "input_encoding", value, se, ci, chance=0.0, level=level, n_boot=n_boot,
        estimator=f"{n_splits}-fold (over trials) cross-validated ridge readout of cumulative input, R²",
        bias_correction="held-out trials; SE from resampling held-out trials with readouts fixed",
    )


# --------------------------------------------------------------------------------------------------- helpers

def _estimate(fit, n_boot, random_state, level):
    result = _bootstrap(fit, n_boot, random_state, level)
    attrs = dict(estimator=fit.description(), bias_correction=BIAS_NOTE[fit.method], dt=fit.dt,
                 n_components=int(fit.k), n_boot=int(n_boot), indicator=_indicator_note(fit.indicator_tau),
                 condition_means=fit.condition_mode, resolved=int(getattr(fit, "resolved", True)))
    ds = estimate_dataset("timescale", result["tau"], result["se_tau"], result["ci_tau"], level=level,
                          units="s", **attrs)
    ds = ds.merge(estimate_dataset("outlier_eigenvalue", result["lam"], result["se_lam"], result["ci_lam"],
                                   level=level))
    ds["eigenvalue"] = (("mode",), result["eig"])
    if n_boot > 0:
        for stat, key in (("timescale", "taus"), ("outlier_eigenvalue", "lams")):
            ds[f"{stat}_boot"] = (("bootstrap",), result[key], {"resampling": "independent"})
    return ds
