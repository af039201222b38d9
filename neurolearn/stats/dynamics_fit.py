"""The linear-dynamics fit behind the dynamics statistics: a consistent (instrumental-variable) estimate of A.

Model: latent activity x_{k+1} = A x_k + B u_k + c + w_k, observed with noise e_k that is independent across
time bins (spike-count noise given the rate, shot noise of imaging). Ordinary least squares of y_{k+1} on
y_k = x_k + e_k is biased towards zero by the noise in the regressor (errors-in-variables attenuation): a
mode with signal variance s² and noise variance σ² reads λ·s²/(s² + σ²), so exactly the slow modes the fit
exists to find read too fast. Lagged observations y_{k-1}, y_{k-2} (and the known inputs u) are correlated
with x_k but not with e_k, e_{k+1} or w_k, so two-stage least squares with them as instruments is
consistent (the Yule-Walker / IV estimator of an AR process observed in white noise; e.g. Söderström &
Stoica 1983, *Instrumental Variable Methods for System Identification*). Overidentification (two lags for
one regressor) keeps the estimator's moments finite where an instrument is weak (fast bulk modes).

The basis (:mod:`neurolearn.stats.dynamics_basis`): within the leading principal components, only the directions the past predicts beyond chance
(canonical correlations of the present with the instruments above their null edge) are kept. In the
others an instrument is weak and the IV estimate is noise that would pose as a large eigenvalue. Passing the
chance edge against the past of all leading components is not enough: the fit's instruments are each kept
direction's own lags, and where they predict some combination of the kept directions weakly (the
Cragg-Donald minimum-eigenvalue F of the first stage below ``WEAK_FIRST_STAGE``) the least predictable
direction is dropped; one direction with a weak first stage is refused. An explosive estimate must also
pass Sargan's over-identification test (``OVERIDENTIFICATION_ALPHA``).

Everything the fit needs are per-trial sums: the second moments of the leading components' present, past,
future and the inputs, from which both the basis (its canonical correlations) and the fit in it (ΨᵀΨ, ΨᵀΦ,
ΨᵀY) follow linearly. A bootstrap over trials re-weights them, re-estimating the basis in every resample
(:mod:`neurolearn.stats.dynamics_bootstrap`: the replicates, the SE and the interval).
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError, InsufficientDataError
from neurolearn.stats.dynamics_bootstrap import (  # noqa: F401  (re-exported)
    BIAS_NOTE,
    bootstrap_estimates,
    bootstrap_weights,
    timescale_of,
    top_modulus,
)
from neurolearn.stats.dynamics_data import _name, input_array, source_values, time_resolved  # noqa: F401
from neurolearn.stats.dynamics_data import CALCIUM_UNITS, indicator_note, is_calcium  # noqa: F401  (re-exported)
from neurolearn.stats.dynamics_degenerate import (PooledNeurons, is_degenerate, isotropy_test, pooled_decay,
                                                   serial_inflation)
from neurolearn.stats.dynamics_data import (  # noqa: F401  (re-exported)
    OVERIDENTIFICATION_ALPHA,
    WEAK_FIRST_STAGE,
    explosive_reason,
    first_stage_strength,
    overidentification_test,
    weak_first_stage_reason,
)
from neurolearn.stats.dynamics_conditions import ConditionPartial, condition_codes, demean_input, resolve_mode
from neurolearn.stats.dynamics_conditions import describe as describe_conditions
from neurolearn.stats.dynamics_basis import chance_edge, pca_basis, predictable_directions

__all__ = ["DynamicsFit", "bootstrap_estimates", "time_resolved", "input_array", "bootstrap_weights",
           "sorted_eigenvalues", "split_outliers", "first_stage_strength", "WEAK_FIRST_STAGE",
           "weak_first_stage_reason", "overidentification_test", "OVERIDENTIFICATION_ALPHA", "timescale_of",
           "is_calcium", "indicator_note", "BIAS_NOTE", "CALCIUM_UNITS", "top_modulus"]

METHODS = ("iv", "ols")


class DynamicsFit:
    """Per-trial sufficient statistics of x_{k+1} = A x_k + B u_k + c in a reduced basis.

    Parameters
    ----------
    recording : xarray.DataArray
        ``(trial, neuron, time)`` responses.
    n_components, ridge, dt, input
        As in :func:`neurolearn.stats.dynamics.population_timescale`.
    method : {"iv", "ols"}
        ``"iv"``: two-stage least squares with instruments lagged by ``lag`` and ``lag + 1`` bins
        (consistent under observation noise independent across bins). ``"ols"``: plain least squares
        (attenuated by observation noise; kept for comparison).
    indicator_tau : float, optional
        Decay time (s) of an AR(1) calcium indicator, f_k = γ f_{k-1} + s_k with γ = exp(−dt/τ): activity is
        deconvolved to s_k = f_k − γ f_{k-1} before the fit. The deconvolved noise is correlated over one
        bin, so the instruments are then lagged by 2 and 3 bins. ``None`` or 0: no deconvolution.
    conditions : str or None
        Trial coord naming each trial's condition (``"auto"``: ``stimulus`` where present; ``None`` or no
        such coord: all trials one condition).
    condition_means : {"auto", "time", "held", "none"}
        How condition-locked activity is taken out (:mod:`neurolearn.stats.dynamics_conditions`): ``"time"``
        removes each condition's mean time course, ``"held"`` its constant (condition indicators as inputs),
        ``"none"`` neither; ``"auto"``: held with a declared input, time without (the statistics choose
        through :func:`neurolearn.stats.dynamics_select.fit_dynamics`, which refines this).
    name : str, optional
        Who the error messages name.
    pooled_source : xarray.DataArray, optional
        The dask-backed ``(trial, neuron, time)`` session a lazy ``recording`` of leading components was reduced
        from (:func:`neurolearn.stats.dynamics_family.leading_components`): the degenerate reading's pooled
        moments are those of its neurons, summed block by block, so lazy and in-memory sessions agree.
    """

    def __init__(self, recording, n_components=10, ridge=1e-6, dt=None, input=None, *, method="iv",
                 indicator_tau=None, conditions="auto", condition_means="auto", name=None, pooled_source=None):
        self.name = name or _name(recording)
        if method not in METHODS:
            raise DataError(f"{self.name}: expected method in {METHODS}, found {method!r}")
        if not 1 <= int(n_components):
            raise DataError(f"{self.name}: expected n_components >= 1, found {n_components}")
        if not ridge >= 0:
            raise DataError(f"{self.name}: expected ridge >= 0, found {ridge}")
        values, self.dt = time_resolved(recording, dt, self.name)
        u = None if input is None else input_array(recording, input)
        if u is not None and u.ndim == 2:
            u = u[..., None]
        self.indicator_tau = float(indicator_tau) if indicator_tau else None
        if self.indicator_tau is not None:
            if not self.indicator_tau > 0:
                raise DataError(f"{self.name}: expected indicator_tau > 0, found {indicator_tau}")
            gamma = np.exp(-self.dt / self.indicator_tau)
            values = values[..., 1:] - gamma * values[..., :-1]  # bin j of s is bin j + 1 of f
            u = None if u is None else u[:, 1:]
        n_trials, n_neurons, n_bins = values.shape
        self.condition_mode = resolve_mode(condition_means, u is not None, self.name)
        codes, self.condition_coord = condition_codes(recording, conditions, self.name)
        self.dropped_inputs = 0
        if u is not None and self.condition_mode != "none":
            # a channel that is a function of the condition (a held side) is what the condition means absorb
            keep = demean_input(u, codes, self.condition_mode)[1]
            self.dropped_inputs = int((~keep).sum())
            u = u[..., keep] if keep.any() else None
        self.method = method
        self.lag = 2 if self.indicator_tau is not None else 1
        lags = (self.lag, self.lag + 1) if method == "iv" else ()
        first = max(lags, default=0)  # first transition whose instruments exist
        if n_trials < 2:
            raise InsufficientDataError(f"fewer than 2 trials (found {n_trials})")
        if n_neurons < 2:
            raise InsufficientDataError(f"fewer than 2 neurons (found {n_neurons})")
        if n_bins - 1 - first < 2:
            raise InsufficientDataError(
                f"too few time bins: the {method.upper()} dynamics fit needs at least {first + 3} bins per trial"
                f"{' after deconvolution' if self.indicator_tau else ''} (found {n_bins})")
        k = min(int(n_components), n_neurons)
        centred = values - values.mean(axis=(0, 2), keepdims=True)
        states = centred.transpose(0, 2, 1)  # (trial, time, neuron)
        if not np.any(states):
            raise InsufficientDataError("no variance: activity is constant")
        steps = np.arange(first, n_bins - 1)  # transitions t -> t + 1
        # Everything below sees activity through its m leading principal components only: the per-trial
        # moments of the columns [z_{t-l} (each lag), inputs, z_t, z_{t+1}, 1] in these coordinates are what
        # both the basis (canonical correlations of z_t with its past) and the fit in it are made of.
        m = min(n_neurons, k)
        self.components = pca_basis(states, m)  # (neuron, m)
        z = states @ self.components
        # the inputs are exogenous: their own instruments, and their past predicts x_t
        inputs = [] if u is None else [u[:, steps]] + [u[:, steps - lag] for lag in range(1, first + 1)]
        ones = np.ones((n_trials, steps.size, 1))
        columns = np.concatenate([z[:, steps - lag] for lag in lags] + inputs
                                 + [z[:, steps], z[:, steps + 1], ones], axis=2)
        q = sum(part.shape[2] for part in inputs)
        c = 0 if u is None else u.shape[2]
        self._columns = dict(lags=[slice(j * m, (j + 1) * m) for j in range(len(lags))],
                             inputs=slice(len(lags) * m, len(lags) * m + q), n_input=c,
                             present=slice(len(lags) * m + q, (len(lags) + 1) * m + q),
                             following=slice((len(lags) + 1) * m + q, (len(lags) + 2) * m + q),
                             one=columns.shape[2] - 1, m=m)
        # Per-trial second moments: sums over one trial's transitions only, never across a trial boundary,
        # so that a bootstrap over trials re-weights them (the basis included).
        self.trial_moments = np.einsum("tip,tiq->tpq", columns, columns)
        self.n_transitions = n_trials * steps.size
        self.partial = (None if self.condition_mode == "none"
                        else ConditionPartial(codes, self.condition_mode, self.trial_moments, columns,
                                              self.condition_coord))
        summed = self.summed()
        if self.partial is not None:
            self.n_transitions = self.partial.n_effective
            present = self._columns["present"]
            if not np.trace(summed[present, present]) > 1e-12 * np.trace(self.trial_moments.sum(0)[present, present]):
                raise InsufficientDataError(
                    "no activity within conditions: every trial of a condition is the same, so its time course "
                    "is an input of unknown shape (declare the drive as a (trial, time) input coord, "
                    "input= of summarize or of the dynamics statistics; dynamics_summary("
                    "condition_means='none') reads it as recurrence)")
        if method == "iv":
            self.canonical = predictable_directions(summed, self._columns, k, self.n_transitions)[1]
            k = self.canonical.size
            #: whether the most predictable direction stands above chance; if not the instruments are weak and
            #: the IV estimate leans toward least squares (attenuated toward 0)
            self.chance_edge = chance_edge(self._columns["m"], self._columns["inputs"].stop, self.n_transitions)
            self.resolved = bool(float(self.canonical[0]) > self.chance_edge)
        else:
            self.canonical = None
            self.resolved = True
        self.n_trials, self._n_lags, self._q, self._c = n_trials, len(lags), q, c
        self.ridge = float(ridge)
        self.first_stage = np.nan
        self._use(k, summed)
        if method == "iv" and self.resolved:
            # The k-class estimate inverts the instruments' cross-moment with the regressors; where it is
            # near-singular in some kept direction (weak own-lag instruments there), that direction's
            # eigenvalue is a ratio with a near-zero denominator, heavy-tailed enough to become |lambda_max|
            # (a random bulk at 0.8 below an outlier of 0.87, 31 trials x 11 bins: 1.81 [1.76, 3.26]). The
            # least predictable directions are dropped until the fit's first stage is strong.
            self.first_stage = first_stage_strength(self)
            while self.k > 1 and self.first_stage < WEAK_FIRST_STAGE:
                self._use(self.k - 1, summed)
                self.first_stage = first_stage_strength(self)
            self.canonical = self.canonical[: self.k]
            if self.first_stage < WEAK_FIRST_STAGE:
                raise InsufficientDataError(weak_first_stage_reason(self.first_stage))
        self.overidentification = (np.nan, 0, np.nan)
        # Every neuron's own lagged moments, pooled: the estimate where the spectrum is degenerate (A = λI, e.g.
        # a calcium indicator's decay alone), whose largest eigenvalue modulus is the edge of a disc of noisy
        # estimates of one value (:mod:`neurolearn.stats.dynamics_degenerate`). Not with declared inputs.
        # (``pooled_source``: the dask-backed session a lazy ``recording`` of leading components was reduced
        # from, whose neurons' own moments are summed block by block)
        self.pooled = (PooledNeurons(values if pooled_source is None else source_values(pooled_source, self.dt, self.indicator_tau),
                                     codes, self.condition_mode, lags, steps)
                       if method == "iv" and self.resolved and u is None and self.condition_mode != "held"
                       else None)
        #: the errors' serial correlation's inflation of the fit's variance (the degenerate criteria's noise scale)
        self.inflation = 1.0 if self.pooled is None else serial_inflation(self.pooled)
        self.degenerate = self.pooled is not None and is_degenerate(self, self.moments)

    def reported_modulus(self, weights=None):
        """|λ_max| as the statistics report it: the largest eigenvalue modulus of A, or, where the spectrum is
        degenerate (every kept eigenvalue one value, :mod:`neurolearn.stats.dynamics_degenerate`), the pooled
        decay of the neurons' own activity. With trial ``weights`` (a resample) the estimate is re-estimated
        from the resampled trials (the basis too), the choice kept: re-testing it in every resample widened
        the interval 15-20 fold (replicates of a non-isotropic Â reject isotropy and read the disc's edge)
        for a coverage of 0.93 against 0.90 with it fixed (30 recordings each, 40 neurons sharing one AR(1)).

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> rng = np.random.default_rng(0)
        >>> x = np.zeros((64, 20, 30))
        >>> for k in range(1, 30):
        ...     x[..., k] = 0.8 * x[..., k - 1] + rng.standard_normal((64, 20))
        >>> fit = DynamicsFit(xr.DataArray(x, dims=("trial", "neuron", "time"),
        ...                                coords={"time": 0.1 * np.arange(30)}), 5)
        >>> fit.degenerate, bool(abs(fit.reported_modulus() - 0.8) < 0.01)
        (True, True)
        """
        if self.degenerate:
            return pooled_decay(self.pooled.moments(weights), self.pooled.n_lags)
        return float(np.abs(self.eigenvalues(weights)[0]))

    def check_explosive(self):
        """Refuse (InsufficientDataError) an explosive estimate from a model the data reject.

        An explosive estimate (|λ_max| ≥ 1: activity growing in every trial) is an extraordinary claim: it
        is kept only if the dynamics in the kept directions are closed, i.e. the overidentifying instruments
        (the second lag) are uncorrelated with the residuals too (Sargan's test at
        ``OVERIDENTIFICATION_ALPHA``). A dense bulk of slow modes outside them leaves the instruments
        correlated with the error (30 neurons, bulk 0.8 under an outlier of 0.87, 120 trials x 30 bins:
        2.61 [1.56, 4.37], Sargan p 1e-21); so does a held drive left in (``condition_means="none"``, which
        :func:`~neurolearn.stats.dynamics_select.fit_dynamics` therefore does not check). Trained RNNs at
        |λ| 1.00-1.01 (16 trials): 19 of 60 estimates at or above 1, none rejected.
        """
        if self.method != "iv" or not self.resolved:
            return
        modulus = float(np.abs(self.eigenvalues()[0]))
        if modulus >= 1.0:
            self.overidentification = overidentification_test(self)
            if self.overidentification[2] < OVERIDENTIFICATION_ALPHA:
                raise InsufficientDataError(explosive_reason(modulus, *self.overidentification))

    def _use(self, k, summed):
        """Fit in the ``k`` most predictable directions: the blocks, the basis and the moments in it."""
        lags, q, c = self._n_lags, self._q, self._c
        n_instruments = (lags * k + q + 1) if self.method == "iv" else k + c + 1
        if self.n_transitions <= n_instruments + 1:
            raise InsufficientDataError(f"too few transitions for {n_instruments} regressors (found "
                                        f"{self.n_transitions}; fewer components or more trials/bins needed)")
        self.k, self.n_features = k, k + c + 1
        p, f = n_instruments, self.n_features
        self._blocks = (slice(0, p), slice(p, p + f), slice(p + f, p + f + k))  # Ψ, Φ, Y
        self.directions = self._basis(summed)  # (m, k), orthonormal
        self.basis = self.components @ self.directions  # (neuron, k)
        transform = self._transform(self.directions)
        self.moments = transform.T @ summed @ transform

    def solve(self, moments):
        """A (k×k) from summed second moments: Fuller's modified LIML (OLS when Ψ = Φ)."""
        return self.coefficients(moments)[: self.k].T

    def coefficients(self, moments):
        """Every equation's coefficients (features × k: Aᵀ's rows, then B's and c's) from summed moments."""
        P, F, Y = self._blocks
        zz, zx, zy = moments[P, P], moments[P, F], moments[P, Y]
        xx, xy, yy = moments[F, F], moments[F, Y], moments[Y, Y]
        k = self.k
        # A tiny jitter keeps ΨᵀΨ invertible when a component is (numerically) absent; it does not bias.
        jitter = 1e-12 * np.trace(zz) / zz.shape[0] * np.eye(zz.shape[0])
        projected = np.linalg.solve(zz + jitter, np.concatenate([zx, zy], axis=1))
        xpx = zx.T @ projected[:, : zx.shape[1]]  # Φᵀ P_Ψ Φ
        xpy = zx.T @ projected[:, zx.shape[1]:]  # Φᵀ P_Ψ Y
        ypy = zy.T @ projected[:, zx.shape[1]:]
        if self.method == "ols" or not self.resolved:
            # no direction predictable beyond chance: the instruments are weak, and a k-class estimate with
            # κ ≈ 1 is noise with heavy tails (memoryless Poisson cells with sustained tuning, conditions
            # removed: Fuller |λ| 0.47 ± 0.31, 8 % above 0.9; 2SLS 0.50 ± 0.53). Least squares (κ = 0) in the
            # same basis reads the bins' own autocorrelation, attenuated toward 0 (those cells: 0.05 ± 0.04),
            # which is what the weak-instrument flag tells the reader to expect.
            kappas = np.zeros(k)
        else:
            kappas = self._fuller_kappas(moments, xx, xy, yy, xpx, xpy, ypy)
        coef = np.empty((xx.shape[0], k))
        for j in range(k):
            # k-class estimator: κ = 0 is OLS, κ = 1 two-stage least squares, κ_LIML - 1/(n - L) Fuller's
            # modification of LIML, nearly median-unbiased under weak instruments where 2SLS is biased
            # towards OLS (Fuller 1977; Stock, Wright & Yogo 2002)
            gram = xx - kappas[j] * (xx - xpx)
            cross = xy[:, j] - kappas[j] * (xy[:, j] - xpy[:, j])
            # Each coefficient is shrunk relative to its own feature's scale (ridge on standardised features),
            # the intercept not at all; the default (1e-6) is for numerical safety only, since any shrinkage
            # attenuates the slow modes this fit exists to find.
            penalty = self.ridge * np.abs(np.diag(gram)).copy()
            penalty[-1] = 0.0
            coef[:, j] = np.linalg.lstsq(gram + np.diag(penalty), cross, rcond=None)[0]
        return coef

    def _fuller_kappas(self, moments, xx, xy, yy, xpx, xpy, ypy):
        """Fuller's κ (a = 1) of each output's equation, from the LIML eigenproblem."""
        k = self.k
        n = moments[self._blocks[1], self._blocks[1]][-1, -1]  # the intercept's sum of squares: transitions
        n_instruments = self._blocks[0].stop
        exog = slice(k, xx.shape[0])  # inputs and intercept: their own instruments
        xx_ex = xx[exog, exog]
        kappas = np.empty(k)
        for j in range(k):
            # W = [y_j, endogenous regressors]; κ_LIML = smallest root of |WᵀM_X W - κ WᵀM_Ψ W| = 0
            ww = _bordered(yy[j, j], xy[:k, j], xx[:k, :k])
            wpw = _bordered(ypy[j, j], xpy[:k, j], xpx[:k, :k])
            xw = np.concatenate([xy[exog, j:j + 1], xx[exog, :k]], axis=1)
            wmx = ww - xw.T @ np.linalg.solve(xx_ex, xw)
            try:
                kappa = float(np.min(np.real(np.linalg.eigvals(np.linalg.solve(ww - wpw, wmx)))))
            except np.linalg.LinAlgError:  # an exact fit (WᵀM_Ψ W singular): every k-class estimate agrees
                kappa = 1.0
            kappas[j] = max(0.0, kappa - 1.0 / max(n - n_instruments, 1.0)) if np.isfinite(kappa) else 1.0
        return kappas

    def eigenvalues(self, weights=None):
        """Eigenvalues of A by decreasing modulus; with trial ``weights`` (a bootstrap resample).

        A resample re-estimates the basis from its own trials (the ``k`` most predictable directions within
        the leading components, ``k`` as in the fit), then fits A in it: the interval sees the basis's
        sampling error, not only the fit's.
        """
        if weights is None:
            return sorted_eigenvalues(self.solve(self.moments))
        summed = self.summed(weights)
        transform = self._transform(self._basis(summed))
        return sorted_eigenvalues(self.solve(transform.T @ summed @ transform))

    def summed(self, weights=None):
        """The columns' second moments summed over trials (with ``weights``), the condition means removed."""
        if self.partial is not None:
            return self.partial.moments(weights)
        if weights is None:
            return self.trial_moments.sum(0)
        return np.einsum("t,tpq->pq", weights, self.trial_moments)

    def _basis(self, moments):
        """The fit's directions (m × k, orthonormal, in component coordinates) from summed moments."""
        if self.method == "ols":
            return np.eye(self._columns["m"])[:, : self.k]
        basis = predictable_directions(moments, self._columns, self.k, None)[0]
        if basis.shape[1] < self.k:  # a resample that lost a direction entirely
            raise np.linalg.LinAlgError("a predictable direction is missing")
        return basis

    def _transform(self, directions):
        """The linear map from the moment columns to [Ψ, Φ, Y] in the basis ``directions`` (m × k)."""
        cols, c = self._columns, self._columns["n_input"]
        out = np.zeros((self.trial_moments.shape[1], self._blocks[2].stop))
        position = 0

        def put(rows, block):
            nonlocal position
            out[rows, position:position + block.shape[1]] = block
            position += block.shape[1]

        inputs = np.arange(cols["inputs"].start, cols["inputs"].stop)
        if self.method == "iv":
            for rows in cols["lags"]:
                put(rows, directions)
            put(inputs, np.eye(inputs.size))
            put([cols["one"]], np.ones((1, 1)))
        for _ in range(1 if self.method == "iv" else 2):  # Φ (and Ψ = Φ for least squares)
            put(cols["present"], directions)
            put(inputs[:c], np.eye(c))
            put([cols["one"]], np.ones((1, 1)))
        put(cols["following"], directions)
        return out

    def description(self):
        """The estimator in words (for the ``estimator`` attr)."""
        how = (f"2SLS, instruments lagged {self.lag} and {self.lag + 1} bins (+ inputs)" if self.method == "iv"
               else "ordinary least squares")
        if self.method == "iv" and not self.resolved:
            how = "least squares (no direction predictable beyond chance: weak instruments)"
        basis = (f"the {self.k} directions (of the leading PCs) predictable from the past beyond chance"
                 + (f", own-lag first stage F {self.first_stage:.1f} >= {WEAK_FIRST_STAGE:g}"
                    if self.resolved else "")
                 if self.method == "iv" else f"{self.k} PCA dims")
        degenerate = ""
        if getattr(self, "degenerate", False):
            p = isotropy_test(self, self.moments)[2]
            degenerate = (f"; degenerate spectrum (A proportional to I in the kept directions not rejected, p "
                          f"{p:.2g}, and no eigenvalue resolved from the top): |lambda_max| is the common decay, "
                          "read as the pooled IV decay of every neuron's own activity")
        return (f"linear dynamics x(k+1) = A x(k) + B u(k) + c by {how}, in {basis}, "
                f"{describe_conditions(self.condition_mode, self.condition_coord)}"
                + (f" ({self.selection})" if getattr(self, "selection", "") else "")
                + "; tau = -dt/log|lambda_max|" + degenerate)


# --------------------------------------------------------------------------------------------------- helpers

def _bordered(corner, edge, inner):
    """[[corner, edgeᵀ], [edge, inner]] (np.block's result, without its checks: this runs per resample)."""
    out = np.empty((edge.size + 1, edge.size + 1))
    out[0, 0], out[0, 1:], out[1:, 0], out[1:, 1:] = corner, edge, edge, inner
    return out


def sorted_eigenvalues(matrix):
    eig = np.linalg.eigvals(matrix)
    return eig[np.argsort(-np.abs(eig), kind="stable")]


def split_outliers(eig, threshold):
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

