"""Dynamics statistics of time-resolved recordings: how slowly population activity evolves and what it keeps.

A recording with dims ``("trial", "neuron", "time")`` is projected on its leading principal components and a
linear dynamical model x_{k+1} ≈ A x_k + B u_k + c is fitted by ridge regression to the transitions within
trials (never across a trial boundary). The slowest mode gives the population timescale τ = −Δt/log|λ_max|;
eigenvalues of A standing out of the bulk count the slow "memory" modes (one real for an integrator, a complex
pair for an oscillator). Also here: single-neuron autocorrelation timescales and how well activity encodes
the cumulative input (the quantity an integrator stores).

Uncertainty: the regression's sufficient statistics (ΦᵀΦ and ΦᵀY) are sums over trials, so a bootstrap over
trials re-weights per-trial sums instead of refitting from the data; ``n_boot=1000`` costs little more than
the point estimate.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, SESSION, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError
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
    ridge: float = 1e-4,
    dt: float | None = None,
    *,
    input=None,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Slowest timescale of population activity from a linear dynamical model fitted in PCA space.

    Activity is centred per neuron (over trials and time), projected on its ``n_components`` leading
    principal components (pooled over trials and time bins), and x_{k+1} = A x_k + B u_k + c is fitted by
    ridge regression over all transitions k → k+1 inside trials. τ = −Δt/log|λ_max| with λ_max the
    eigenvalue of A of largest modulus.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron", "time")`` and at least 3 time bins.
    n_components : int
        PCA dimensions kept (capped at the number of neurons).
    ridge : float
        Ridge penalty relative to each regressor's own sum of squares (ridge on standardised regressors,
        scale-free), not applied to the intercept c.
    dt : float, optional
        Bin width in seconds. Default: the spacing of the ``time`` coord (which must be uniform).
    input : str or xarray.DataArray, optional
        Input u: a coord with dims ``("trial", "time")`` or a DataArray with those dims (optionally a third
        dim of input channels). When given, B is fitted jointly, so input-driven change is not read as slow
        intrinsic dynamics.
    n_boot : int
        Bootstrap resamples of trials (0 skips SE and interval).
    random_state : int or numpy.random.Generator, optional
    level : float

    Returns
    -------
    xarray.Dataset
        ``timescale`` (s) with ``_se`` and ``_ci``; ``outlier_eigenvalue`` (|λ_max|) with ``_se``/``_ci``;
        ``eigenvalue`` (complex, dim ``mode``, by decreasing modulus).

    Notes
    -----
    Bias handling: observation noise inside the kept components attenuates A towards zero
    (errors-in-variables), shortening τ by about the noise share of the slow mode's variance; discarding
    components beyond ``n_components`` removes most isotropic noise, and the ridge penalty (relative 1e-4)
    shrinks only slightly. |λ_max| ≥ 1 (no decay) gives τ = inf. The bootstrap resamples trials and keeps
    the PCA basis fixed (the basis is a nuisance parameter; its variability is ignored). Checked in the tests
    on a simulated linear dynamical system with known eigenvalues.

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
    >>> bool(abs(float(ds["timescale"]) / (-0.01 / np.log(0.9)) - 1) < 0.1)
    True
    """
    fit = _DynamicsFit(recording, n_components, ridge, dt, input)
    return fit.estimate(n_boot, random_state, level)


def outlier_eigenvalues(
    recording: xr.DataArray,
    n_components: int = 10,
    ridge: float = 1e-4,
    dt: float | None = None,
    *,
    input=None,
    threshold: float = 0.5,
) -> xr.DataArray:
    """Eigenvalues of the fitted dynamics matrix A that stand out of the bulk.

    Criterion: sort the moduli |λ_1| ≥ |λ_2| ≥ ... and find the widest gap |λ_j| − |λ_{j+1}|. The top j
    eigenvalues are outliers if they stand clearly above the bulk edge, |λ_j| > (1 + ``threshold``)·|λ_{j+1}|;
    otherwise there are none (a bulk spread evenly in modulus, as for a random connectivity matrix, has no
    wide relative gap). Complex-conjugate pairs share their modulus, so they enter or leave together: an
    integrator-like slow mode gives one real outlier, a slow rotation a complex pair.

    Parameters
    ----------
    recording, n_components, ridge, dt, input
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
    Bias handling: as in :func:`population_timescale` (attenuation shrinks all eigenvalues slightly). Keep
    ``n_components`` above the expected number of outliers so that a bulk exists; with one component there
    is no bulk and no outlier is reported.

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
    fit = _DynamicsFit(recording, n_components, ridge, dt, input)
    eig = _sorted_eigenvalues(fit.solve(fit.gram, fit.cross))
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
) -> xr.Dataset:
    """Timescale of the population-averaged autocorrelation of single-neuron activity within trials.

    Each neuron's activity is centred (its across-trial mean time course is subtracted when
    ``subtract_mean``, so stimulus-locked structure does not count as memory), and the autocorrelation
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
    Bias handling: subtracting the across-trial mean removes 1/n_trials of each trial's own fluctuation
    (negligible for many trials); the pooled estimator is dominated by high-variance neurons; mixtures of
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
        values = values - values.mean(axis=0, keepdims=True)
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
        bias_correction="lag 0 excluded; across-trial mean subtracted" if subtract_mean else "lag 0 excluded",
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


def dynamics_summary(
    recordings: dict[str, xr.DataArray],
    *,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    n_components: int = 10,
    ridge: float = 1e-4,
    input=None,
) -> xr.Dataset:
    """Dynamics statistics of every session, over dim ``session`` (in the order of ``recordings``).

    Variables: ``timescale`` (s) and ``outlier_eigenvalue`` (the largest |λ| of the fitted A), each with
    ``_se`` and ``_ci`` from a bootstrap over trials (see :func:`population_timescale`), and
    ``n_outlier_eigenvalues`` (:func:`outlier_eigenvalues`, no interval). Every session uses the same
    ``n_components`` and ``ridge``.

    Parameters
    ----------
    recordings : dict of str to xarray.DataArray
        One ``(trial, neuron, time)`` recording per session, in training order.
    n_boot : int
        Bootstrap resamples of trials (0 skips SEs and intervals); cheap, since they re-weight per-trial
        sufficient statistics.
    random_state : int or numpy.random.Generator, optional
        One seed, used identically in every session.
    level : float
        Interval coverage.
    n_components, ridge, input
        As in :func:`population_timescale` (``input`` as a coord name present in every session).

    Returns
    -------
    xarray.Dataset
        Over dim ``session`` (coords ``session`` = the dict keys, ``session_index``) and ``ci_bound``.

    Notes
    -----
    Bias handling: as in :func:`population_timescale`; the same estimator in every session, so the
    attenuation bias is similar across sessions of similar noise.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(4)
    >>> def session(lam):
    ...     x = np.zeros((50, 2, 30))
    ...     for k in range(1, 30):
    ...         x[..., k] = lam * x[..., k - 1] + rng.standard_normal((50, 2))
    ...     return xr.DataArray(x, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> ds = dynamics_summary({"early": session(0.5), "late": session(0.9)}, n_boot=50, random_state=0,
    ...                       n_components=2)
    >>> ds["session"].values.tolist(), bool(ds["timescale"][1] > ds["timescale"][0])
    (['early', 'late'], True)
    """
    if not isinstance(recordings, dict) or not recordings:
        raise DataError(f"dynamics_summary: expected a non-empty dict of session recordings, found {recordings!r:.80}")
    names = [str(k) for k in recordings]
    seed = int(np.random.default_rng(random_state).integers(2**31))
    parts = []
    for name, rec in recordings.items():
        fit = _DynamicsFit(rec, n_components, ridge, None, input, name=f"session {name!r}")
        ds = fit.estimate(n_boot, seed, level).drop_vars("eigenvalue").drop_dims("mode", errors="ignore")
        eig = _sorted_eigenvalues(fit.solve(fit.gram, fit.cross))
        ds["n_outlier_eigenvalues"] = ((), int(_split_outliers(eig, 0.5)[0].sum()))
        parts.append(ds)
    out = xr.concat(parts, dim=SESSION, data_vars="all", coords="minimal", compat="override",
                    combine_attrs="drop_conflicts")
    for stat in ("timescale", "outlier_eigenvalue"):
        out[f"{stat}_ci"].attrs["level"] = level
    out["timescale"].attrs["units"] = "s"
    out["n_outlier_eigenvalues"].attrs["criterion"] = "see neurolearn.stats.dynamics.outlier_eigenvalues"
    return out.assign_coords({SESSION: names, "session_index": (SESSION, np.arange(len(names)))})


# --------------------------------------------------------------------------------------------------- helpers


def _name(recording):
    return str(getattr(recording, "attrs", {}).get("session_id", "recording"))


def _time_resolved(recording, dt, name=None):
    """(trial, neuron, time) values and the bin width, after validation."""
    name = name or _name(recording)
    validate_recording(recording, name=name)
    if recording.dims != (TRIAL, NEURON, TIME):
        raise DataError(
            f"{name}: dynamics statistics expect dims ('trial', 'neuron', 'time'), found {recording.dims}; "
            "read the recording with a bin_size to get time bins"
        )
    n_bins = recording.sizes[TIME]
    if n_bins < 3:
        raise DataError(f"{name}: expected at least 3 time bins, found {n_bins}")
    if dt is None:
        if TIME not in recording.coords:
            raise DataError(f"{name}: expected a 'time' coord (bin centres) or an explicit dt, found neither")
        steps = np.diff(np.asarray(recording[TIME].values, dtype=float))
        if not (np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-6)):
            raise DataError(f"{name}: expected uniformly spaced time bins, found steps from {steps.min()} to "
                            f"{steps.max()}; pass dt to override")
        dt = float(steps[0])
    elif not dt > 0:
        raise DataError(f"{name}: expected dt > 0, found {dt}")
    values = np.asarray(recording.values, dtype=float)
    if not np.isfinite(values).all():  # validate_recording skips this check for dask-backed data
        raise DataError(f"{name}: expected finite responses, found {int((~np.isfinite(values)).sum())} NaN/inf "
                        f"values of {values.size}")
    return values, float(dt)


def _input_array(recording, input):
    """The input as an array (trial, time) or (trial, time, channel)."""
    name = _name(recording)
    if isinstance(input, str):
        if input not in recording.coords:
            available = sorted(str(c) for c, v in recording.coords.items() if set(v.dims) == {TRIAL, TIME})
            raise DataError(f"{name}: expected an input coord {input!r} with dims ('trial', 'time'), found "
                            f"(trial, time) coords {available}")
        input = recording.coords[input]
    if not isinstance(input, xr.DataArray):
        raise DataError(f"{name}: expected the input as a coord name or a DataArray, found {type(input).__name__}")
    if input.dims[:2] != (TRIAL, TIME) or input.ndim > 3:
        input = input.transpose(TRIAL, TIME, ...) if {TRIAL, TIME} <= set(input.dims) else input
    if input.dims[:2] != (TRIAL, TIME) or input.ndim > 3:
        raise DataError(f"{name}: expected input dims ('trial', 'time'[, channel]), found {input.dims}")
    if input.shape[:2] != (recording.sizes[TRIAL], recording.sizes[TIME]):
        raise DataError(f"{name}: expected input of shape {(recording.sizes[TRIAL], recording.sizes[TIME])}, "
                        f"found {input.shape[:2]}")
    values = np.asarray(input.values, dtype=float)
    if not np.isfinite(values).all():
        raise DataError(f"{name}: expected a finite input, found NaN/inf")
    return values


def _bootstrap_weights(rng, n, n_boot):
    """Multiplicities of n items resampled with replacement, one row per resample."""
    draws = rng.integers(0, n, size=(n_boot, n))
    weights = np.zeros((n_boot, n))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n), draws.ravel()), 1.0)
    return weights


def _sorted_eigenvalues(matrix):
    eig = np.linalg.eigvals(matrix)
    return eig[np.argsort(-np.abs(eig), kind="stable")]


def _split_outliers(eig, threshold):
    """Boolean mask of the eigenvalues above the widest gap in modulus, if that gap is wide enough.

    Returns the mask and the bulk edge (the largest modulus below the gap).
    """
    modulus = np.round(np.abs(eig), 12)  # conjugate pairs share a modulus exactly
    order = np.argsort(-modulus, kind="stable")
    sorted_mod = modulus[order]
    outlier = np.zeros(eig.size, dtype=bool)
    if eig.size < 2:
        return outlier, float(sorted_mod[0]) if eig.size else 0.0
    gaps = sorted_mod[:-1] - sorted_mod[1:]
    j = int(np.argmax(gaps))  # outliers are sorted positions 0..j
    edge = float(sorted_mod[j + 1])
    if sorted_mod[j] > (1.0 + threshold) * edge:
        outlier[order[: j + 1]] = True
        return outlier, edge
    return outlier, float(sorted_mod[0])


class _DynamicsFit:
    """Per-trial sufficient statistics of the ridge regression x_{k+1} = A x_k + B u_k + c in PCA space."""

    def __init__(self, recording, n_components, ridge, dt, input, name=None):
        self.name = name or _name(recording)
        values, self.dt = _time_resolved(recording, dt, self.name)
        n_trials, n_neurons, n_bins = values.shape
        if not 1 <= int(n_components):
            raise DataError(f"{self.name}: expected n_components >= 1, found {n_components}")
        if not ridge >= 0:
            raise DataError(f"{self.name}: expected ridge >= 0, found {ridge}")
        k = min(int(n_components), n_neurons)
        activity = values.transpose(0, 2, 1).reshape(-1, n_neurons)  # (trial·time, neuron)
        activity = activity - activity.mean(0)
        _, _, vt = np.linalg.svd(activity, full_matrices=False)
        latent = (activity @ vt[:k].T).reshape(n_trials, n_bins, k)
        parts = [latent[:, :-1]]
        if input is not None:
            u = _input_array(recording, input)
            parts.append((u[..., None] if u.ndim == 2 else u)[:, :-1])
        parts.append(np.ones((n_trials, n_bins - 1, 1)))  # intercept c
        design = np.concatenate(parts, axis=2)  # (trial, transition, features)
        following = latent[:, 1:]
        self.k = k
        self.n_trials = n_trials
        # Per-trial ΦᵀΦ and ΦᵀY: sums over this trial's transitions only, never across a trial boundary.
        self.trial_gram = np.einsum("tif,tig->tfg", design, design)
        self.trial_cross = np.einsum("tif,tig->tfg", design, following)
        self.gram, self.cross = self.trial_gram.sum(0), self.trial_cross.sum(0)
        # Each coefficient is shrunk relative to its own feature's sum of squares (ridge on standardised
        # features), so that inputs and components of different scale are penalised alike.
        penalty = ridge * np.diag(self.gram).copy()
        penalty[-1] = 0.0  # the intercept is not shrunk
        self.penalty = np.diag(penalty)

    def solve(self, gram, cross):
        """A (k×k) from summed sufficient statistics."""
        coef = np.linalg.solve(gram + self.penalty, cross)  # (features, k)
        return coef[: self.k].T

    def estimate(self, n_boot, random_state, level):
        eig = _sorted_eigenvalues(self.solve(self.gram, self.cross))
        lam = float(np.abs(eig[0]))
        value = _timescale(lam, self.dt)
        se_t, ci_t, se_l, ci_l = np.nan, (np.nan, np.nan), np.nan, (np.nan, np.nan)
        if n_boot > 0:
            rng = np.random.default_rng(random_state)
            weights = _bootstrap_weights(rng, self.n_trials, n_boot)
            grams = np.einsum("bt,tfg->bfg", weights, self.trial_gram)
            crosses = np.einsum("bt,tfg->bfg", weights, self.trial_cross)
            lams = np.array([np.abs(_sorted_eigenvalues(self.solve(g, c))[0]) for g, c in zip(grams, crosses)])
            se_l, ci_l = bootstrap_interval(lam, lams, level)
            # τ increases monotonically with |λ|, so its percentile interval is the image of |λ|'s, and
            # resamples with |λ| >= 1 (τ = inf) stay in it instead of being dropped.
            ci_t = (_timescale(ci_l[0], self.dt), _timescale(ci_l[1], self.dt))
            taus = np.array([_timescale(x, self.dt) for x in lams])
            se_t = float(taus.std(ddof=1)) if np.all(np.isfinite(taus)) else np.inf
        attrs = dict(
            estimator=f"ridge LDS x(k+1) = A x(k) + B u(k) + c in {self.k} PCA dims; tau = -dt/log|lambda_max|",
            bias_correction="none: observation noise attenuates A (tau shortened); bootstrap over trials, "
                            "PCA basis fixed",
            dt=self.dt, n_components=int(self.k), n_boot=int(n_boot),
        )
        ds = estimate_dataset("timescale", value, se_t, ci_t, level=level, units="s", **attrs)
        lam_ds = estimate_dataset("outlier_eigenvalue", lam, se_l, ci_l, level=level)
        ds = ds.merge(lam_ds)
        ds["eigenvalue"] = (("mode",), eig)
        return ds


def _timescale(modulus, dt):
    if modulus >= 1.0:
        return np.inf
    if modulus <= 0.0:
        return 0.0
    return -dt / np.log(modulus)
