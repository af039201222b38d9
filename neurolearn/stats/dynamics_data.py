"""Validation of the dynamics statistics' input (the time-resolved values, the bin width and the inputs) and
of what a fit identifies (its first stage's strength, its over-identifying restrictions)."""

from __future__ import annotations

import numpy as np

from neurolearn.data import NEURON, TIME, TRIAL, validate_recording
from neurolearn.errors import DataError, InsufficientDataError

__all__ = ["time_resolved", "source_values", "input_array", "first_stage_strength", "overidentification_test",
           "weak_first_stage_reason", "explosive_reason", "WEAK_FIRST_STAGE", "OVERIDENTIFICATION_ALPHA",
           "is_calcium", "indicator_note", "CALCIUM_UNITS"]

#: ``units`` attrs of recordings that are fluorescence, not activity
CALCIUM_UNITS = ("df/f", "dff", "dfoverf", "fluorescence", "f/f0", "a.u.fluorescence")

#: the first-stage strength (Cragg-Donald minimum-eigenvalue F of the kept directions' own-lag instruments)
#: below which the fit drops its least predictable direction (Staiger & Stock 1997: F < 10 is weak)
WEAK_FIRST_STAGE = 10.0
#: the level of the over-identification test an explosive estimate (|lambda| >= 1) must pass to be reported
OVERIDENTIFICATION_ALPHA = 0.01


def _name(recording):
    return str(getattr(recording, "attrs", {}).get("session_id", "recording"))


def time_resolved(recording, dt, name=None):
    """(trial, neuron, time) values and the bin width, after validation."""
    name = name or _name(recording)
    validate_recording(recording, name=name)
    if recording.dims != (TRIAL, NEURON, TIME):
        raise InsufficientDataError(
            f"not time-resolved: {name}: dynamics statistics expect dims ('trial', 'neuron', 'time'), found "
            f"{recording.dims}; read the recording with a bin_size to get time bins"
        )
    n_bins = recording.sizes[TIME]
    if n_bins < 3:
        raise InsufficientDataError(f"too few time bins: {name}: expected at least 3 time bins, found {n_bins}")
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


def input_array(recording, input):
    """The input as an array (trial, time) or (trial, time, channel)."""
    import xarray as xr

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


def overidentification_test(fit, moments=None):
    """Sargan's test of the fit's overidentifying restrictions: (J, degrees of freedom, p-value).

    J = n tr[(EᵀP_Ψ E)(EᵀE)⁻¹] with E the residuals of every equation (at the fit's coefficients) and P_Ψ the
    projection on the instruments; χ² with k (L − K) degrees of freedom under a correctly specified model
    (L instruments, K regressors per equation). It rejects where the instruments are correlated with the
    error, e.g. dynamics the kept directions do not close over.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.dynamics_fit import DynamicsFit
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((60, 30))
    >>> for k in range(1, 30):
    ...     x[:, k] = 0.9 * x[:, k - 1] + rng.standard_normal(60)
    >>> noisy = np.stack([x, -x], 1) + rng.standard_normal((60, 2, 30))
    >>> rec = xr.DataArray(noisy, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> fit = DynamicsFit(rec, n_components=1)
    >>> statistic, dof, p_value = overidentification_test(fit)
    >>> dof, bool(p_value > 0.01)
    (1, True)
    """
    from scipy.stats import chi2

    m = fit.moments if moments is None else moments
    instruments, features, outputs = fit._blocks
    coef = fit.coefficients(m)
    zz, zx, zy = m[instruments, instruments], m[instruments, features], m[instruments, outputs]
    xx, xy, yy = m[features, features], m[features, outputs], m[outputs, outputs]
    ee = yy - xy.T @ coef - coef.T @ xy + coef.T @ xx @ coef
    ze = zy - zx @ coef
    n = float(xx[-1, -1])
    statistic = float(n * np.trace(np.linalg.lstsq(ee, ze.T @ np.linalg.pinv(zz) @ ze, rcond=None)[0]))
    dof = int(fit.k * ((instruments.stop - instruments.start) - (features.stop - features.start)))
    return statistic, dof, float(chi2.sf(statistic, dof)) if dof > 0 else np.nan


def explosive_reason(modulus, statistic, dof, p_value):
    """The reason an explosive estimate from a model the data reject is not reported.

    Examples
    --------
    >>> explosive_reason(1.8, 40.0, 2, 1e-9).startswith("explosive estimate the data do not support")
    True
    """
    return (f"explosive estimate the data do not support: |lambda| {modulus:.3g} from dynamics that are "
            f"not closed in the kept directions (Sargan J {statistic:.1f} on {dof} df, p {p_value:.2g} < "
            f"{OVERIDENTIFICATION_ALPHA:g}: slow activity outside them leaves the instruments correlated "
            f"with the error): the slowest eigenvalue is not identified from these data")


def weak_first_stage_reason(strength):
    """The reason a fit whose single most predictable direction has a weak first stage is not reported.

    Examples
    --------
    >>> weak_first_stage_reason(3.2).startswith("weak first stage")
    True
    """
    return (f"weak first stage: the most predictable direction's own past predicts it too weakly "
            f"(Cragg-Donald F {strength:.1f} < {WEAK_FIRST_STAGE:g}) for its eigenvalue to be estimated (a "
            f"ratio with a near-zero denominator, heavy-tailed: stable dynamics can read as explosive); more "
            f"trials or time bins needed")


def first_stage_strength(fit, moments=None):
    """Cragg-Donald minimum-eigenvalue F of a fit's first stage (the endogenous present directions on the
    excluded instruments, the exogenous inputs and intercept partialled out), per excluded instrument.

    The smallest eigenvalue of Σ_VV^(-1/2) XᵀP_Z X Σ_VV^(-1/2) / L (Cragg & Donald 1993; Stock & Yogo 2005):
    how well the weakest combination of the kept directions is predicted by its instruments. Below about 10
    the k-class estimate's distribution is far from normal (Staiger & Stock 1997).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from neurolearn.stats.dynamics_fit import DynamicsFit
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((60, 30))
    >>> for k in range(1, 30):
    ...     x[:, k] = 0.9 * x[:, k - 1] + rng.standard_normal(60)
    >>> noisy = np.stack([x, -x], 1) + rng.standard_normal((60, 2, 30))
    >>> rec = xr.DataArray(noisy, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(30)})
    >>> fit = DynamicsFit(rec, n_components=1)
    >>> bool(first_stage_strength(fit) > WEAK_FIRST_STAGE)
    True
    """
    m = fit.moments if moments is None else moments
    instruments, features, _ = fit._blocks
    k = fit.k
    columns = np.arange(features.start, features.stop)
    endogenous, exogenous = columns[:k], columns[k:]
    rows = np.arange(instruments.start, instruments.stop)
    solve_exog = np.linalg.pinv(m[np.ix_(exogenous, exogenous)])

    def partial(a, b):
        return m[np.ix_(a, b)] - m[np.ix_(a, exogenous)] @ solve_exog @ m[np.ix_(exogenous, b)]

    zz, zx, xx = partial(rows, rows), partial(rows, endogenous), partial(endogenous, endogenous)
    scale = max(float(np.trace(zz)), 1e-300)
    values, vectors = np.linalg.eigh(zz)
    good = values > 1e-10 * scale  # the exogenous columns among the instruments are partialled to zero
    n_excluded = int(good.sum())
    if n_excluded == 0:
        return 0.0
    projected = zx.T @ (vectors[:, good] / values[good]) @ (vectors[:, good].T @ zx)  # XᵀP_Z X
    n = float(m[features, features][-1, -1])
    residual = (xx - projected) / max(n - instruments.stop, 1.0)
    r_values, r_vectors = np.linalg.eigh(residual)
    if not np.all(r_values > 0):
        return np.inf  # an exact first stage
    whiten = r_vectors / np.sqrt(r_values)
    return float(np.min(np.linalg.eigvalsh(whiten.T @ projected @ whiten)) / n_excluded)


def is_calcium(recording):
    """Whether a recording's trace passed through a calcium indicator: read from ROIs (the reader's
    ``source_kind`` attr "roi", whatever unit string the file gives, e.g. lumens, n.a., %; adversary S5-1), or in
    fluorescence units (dF/F, F/F0, ...).

    Examples
    --------
    >>> import xarray as xr
    >>> is_calcium(xr.DataArray([0.0], attrs={"units": "lumens", "source_kind": "roi"}))
    True
    >>> is_calcium(xr.DataArray([0.0], attrs={"units": "spikes/s", "source_kind": "units"}))
    False
    """
    attrs = getattr(recording, "attrs", {})
    if str(attrs.get("source_kind", "")) == "roi":
        return True
    units = str(attrs.get("units", "")).strip().lower().replace(" ", "")
    return units in CALCIUM_UNITS or "fluoresc" in units


def indicator_note(indicator_tau):
    if indicator_tau:
        return f"AR(1) calcium indicator with decay {float(indicator_tau):g} s deconvolved before the fit"
    if indicator_tau is None:
        return ("no indicator handling asked for: a calcium (dF/F or fluorescence) timescale includes the "
                "indicator's kernel")
    return "no indicator (indicator_tau=0 stated)"


def source_values(source, dt, indicator_tau=None):
    """The lazy ``(trial, neuron, time)`` values of ``source``, deconvolved by an AR(1) indicator of decay time
    ``indicator_tau`` as the dynamics fit deconvolves its own (bin ``j`` of the result is bin ``j + 1``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.ones((1, 1, 3)), dims=("trial", "neuron", "time"))
    >>> np.round(source_values(rec, 0.1, 0.1), 3).tolist()
    [[[0.632, 0.632]]]
    """
    values = source.transpose(TRIAL, NEURON, TIME).data
    if indicator_tau is not None:
        values = values[..., 1:] - np.exp(-dt / indicator_tau) * values[..., :-1]
    return values
