"""Generalisation error of kernel (ridge) regression from the kernel's spectrum: the solver.

Kernel (ridge) regression with a kernel of eigenvalues ``eta_k`` and a target whose power in eigenmode ``k``
is ``v_k^2`` has, for ``P'`` training examples, ridge ``lambda`` and label-noise variance ``sigma^2``, the
generalisation error (Bordelon, Canatar & Pehlevan 2020; Canatar, Bordelon & Pehlevan 2021)::

    kappa = lambda + kappa * sum_k eta_k / (P' eta_k + kappa)
    gamma = sum_k P' eta_k^2 / (P' eta_k + kappa)^2
    E_g   = [sum_k v_k^2 kappa^2 / (P' eta_k + kappa)^2 + sigma^2 gamma] / (1 - gamma)

Used by the ``"kernel-learning-curve"`` model (:mod:`neurolearn.theory.learning_curve`) and by
:func:`neurolearn.stats.spectral.predicted_learning_curve` (the curve a recorded kernel predicts).
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError

__all__ = ["N_MODES", "kernel_generalization_error", "power_law_generalization_error",
           "power_law_error_derivatives"]

#: Number of eigenmodes of the power-law spectra the model uses (as in docs/theory.md's reference table).
N_MODES = 400


def kernel_generalization_error(eigenvalues, target_power, n_train, ridge=0.0, noise=0.0) -> np.ndarray:
    """Predicted generalisation error of kernel regression trained on ``n_train`` examples.

    Parameters
    ----------
    eigenvalues : array_like, shape (M,)
        Kernel eigenvalues ``eta_k >= 0`` (any order; only their ratios matter when ``ridge`` is 0). For a
        recorded kernel use the eigenvalues of ``Phi / P``.
    target_power : array_like, shape (M,)
        Target power ``v_k^2 >= 0`` in each eigenmode (``(u_k . y)^2 / P`` for a recorded kernel). The error
        is in the same units: with ``sum(target_power) = 1`` it is the fraction of target variance not
        predicted.
    n_train : float or array_like
        Number of training examples ``P' >= 0`` (need not be an integer: the theory is continuous in it).
    ridge : float
        Ridge ``lambda >= 0``, in the units of ``eigenvalues``. ``0`` is ridgeless (minimum-norm
        interpolation).
    noise : float
        Variance ``sigma^2 >= 0`` of label noise on the training examples.

    Returns
    -------
    numpy.ndarray
        ``E_g`` shaped like ``n_train``. Ridgeless with ``P' >= M`` nonzero modes: ``kappa = 0`` and
        ``gamma = M / P'``, so the error is infinite at ``P' = M`` when there is noise (the interpolation
        peak) and at least one mode has zero eigenvalue but target power.

    Notes
    -----
    This is the asymptotic (large ``P'``, many modes) theory of the *average* error, not a finite-sample
    estimator, so it has no sampling bias of its own to correct; its own approximation error is a
    finite-``P'`` excess: direct simulation of the reference case reads ~7 % higher at ``P' = 5``, ~3 % at
    20 and agrees within about 1 % (2 standard errors) from ``P' = 40`` on. ``kappa`` is found by
    vectorised Newton iterations that cannot overshoot (on a convex form with a ridge, a concave one
    ridgeless; see ``_solve_kappa``). ``1 - gamma`` is evaluated as the positive sum
    ``lambda/kappa + sum_k eta_k kappa/(P' eta_k + kappa)^2`` so it keeps full precision near the
    interpolation threshold.

    Examples
    --------
    The reference learning curve of docs/theory.md (``eta_k ~ k^-1.5``, ``v_k^2 ~ k^-2`` normalised to unit
    total power, 400 modes, ridgeless):

    >>> import numpy as np
    >>> k = np.arange(1, 401)
    >>> power = k**-2.0 / np.sum(k**-2.0)
    >>> np.round(kernel_generalization_error(k**-1.5, power, [5, 10, 20, 40]), 4)
    array([0.2791, 0.1517, 0.0772, 0.0373])
    """
    eta = _as_spectrum(eigenvalues, "eigenvalues")
    power = _as_spectrum(target_power, "target_power")
    if power.shape != eta.shape:
        raise DataError(
            f"kernel_generalization_error: expected target_power with one value per eigenvalue "
            f"({eta.size}), found {power.size}"
        )
    return _generalization_error(eta, power, n_train, ridge, noise)


def _generalization_error(eta, power, n_train, ridge, noise):
    """:func:`kernel_generalization_error` for checked spectra (finite, >= 0, one power per eigenvalue)."""
    ridge = _nonnegative_scalar(ridge, "ridge")
    noise = _nonnegative_scalar(noise, "noise")
    n_train_array = np.asarray(n_train, dtype=float)
    if not np.all(np.isfinite(n_train_array)) or np.any(n_train_array < 0):
        raise DataError(f"kernel_generalization_error: expected finite n_train >= 0, found {n_train!r}")
    if eta.sum() == 0 and ridge == 0:
        raise DataError(
            "kernel_generalization_error: expected at least one positive eigenvalue, found all zero"
        )

    p = n_train_array.ravel()
    error = np.empty_like(p)
    no_data = p == 0
    # without data the predictor is zero: the error is the whole target power
    error[no_data] = power.sum()
    rest = ~no_data
    if np.any(rest):
        error[rest] = _error_given_data(eta, power, p[rest], ridge, noise)
    return error.reshape(n_train_array.shape)


def power_law_generalization_error(n_train, eigen_decay, target_decay, noise=0.0, ridge=0.0, n_modes=N_MODES):
    """Generalisation error for power-law spectra ``eta_k ~ k^-eigen_decay``, ``v_k^2 ~ k^-target_decay``.

    The target power is normalised to ``sum v_k^2 = 1`` and the eigenvalues to ``sum eta_k = 1``, so the
    error is the fraction of target variance not predicted and ``ridge`` is relative to the kernel's trace.

    Examples
    --------
    >>> float(np.round(power_law_generalization_error(80, 1.5, 2.0), 4))
    0.0168
    """
    k = np.arange(1, int(n_modes) + 1, dtype=float)
    eta = k**-float(eigen_decay)
    power = k**-float(target_decay)
    eta, power = eta / eta.sum(), power / power.sum()
    if np.isfinite(eta).all() and np.isfinite(power).all():
        # powers of 1..n_modes are >= 0 and the normalised ones finite: the spectrum checks cannot fail
        return _generalization_error(eta, power, n_train, ridge, noise)
    return kernel_generalization_error(eta, power, n_train, ridge=ridge, noise=noise)


def power_law_error_derivatives(n_train, eigen_decay, target_decay, noise=0.0, ridge=0.0, n_modes=N_MODES):
    """:func:`power_law_generalization_error` and its derivatives in its arguments, in closed form.

    With ``d_k = P' eta_k + kappa`` and the self-consistent ``kappa`` differentiated implicitly
    (``f = kappa - ridge - kappa sum eta/d = 0``, ``df/dkappa = 1 - gamma``)::

        dkappa/dP' = -kappa sum eta^2/d^2 / (1 - gamma),  dkappa/dridge = 1 / (1 - gamma),
        dkappa/deta_k = kappa^2/d_k^2 / (1 - gamma),
        dE/dx = [dB/dx + (noise + E_g) dgamma/dx] / (1 - gamma),  B = sum v^2 kappa^2/d^2,

    the spectra's exponents entering through the normalised ``eta_k ~ k^-a`` (``d log eta_k / da = sum_j eta_j
    log j - log k``) and ``v_k^2 ~ k^-r``. Ridgeless past the interpolation threshold (``kappa = 0``) the same
    formulas hold (``gamma = M / P'``; the ridge's is the one-sided derivative at 0). At ``P' = 0`` (no data:
    ``E_g = 1`` whatever the parameters) every derivative is 0.

    Returns
    -------
    error : numpy.ndarray
        The values :func:`power_law_generalization_error` returns (shaped like ``n_train``).
    derivatives : dict
        ``"n_train"``, ``"eigen_decay"``, ``"target_decay"``, ``"noise"``, ``"ridge"`` -> arrays like ``error``
        (non-finite where the error is, e.g. at the ridgeless interpolation peak with noise).

    Examples
    --------
    >>> error, d = power_law_error_derivatives(np.array([0.0, 80.0]), 1.5, 2.0, noise=0.1, ridge=1e-3)
    >>> step = 1e-6
    >>> shifted = power_law_generalization_error(80.0, 1.5, 2.0 + step, noise=0.1, ridge=1e-3)
    >>> bool(np.isclose(d["target_decay"][1], (shifted - error[1]) / step, rtol=1e-4)), float(d["noise"][0])
    (True, 0.0)
    """
    error = power_law_generalization_error(n_train, eigen_decay, target_decay, noise=noise, ridge=ridge,
                                           n_modes=n_modes)
    names = ("n_train", "eigen_decay", "target_decay", "noise", "ridge")
    shape = np.shape(error)
    p = np.asarray(n_train, dtype=float).ravel()
    flat = np.asarray(error, dtype=float).ravel()
    derivatives = {name: np.zeros(p.shape) for name in names}
    rest = p > 0
    if rest.any():
        k = np.arange(1, int(n_modes) + 1, dtype=float)
        log_k = np.log(k)
        eta = k**-float(eigen_decay)
        power = k**-float(target_decay)
        eta, power = eta / eta.sum(), power / power.sum()
        ridge, noise = float(ridge), float(noise)
        # the solve the error came from (cached: the same arrays, so the same key)
        _, kappa, pos, gamma, one_minus_gamma, _ = _kappa_terms(eta, p[rest], ridge)
        pr, e = p[rest], flat[rest]
        omg = np.empty(pr.shape)
        omg[pos] = one_minus_gamma
        omg[~pos] = 1.0 - np.count_nonzero(eta) / pr[~pos]  # kappa = 0: gamma = M / P'
        g = np.empty(pr.shape)
        g[pos] = gamma
        g[~pos] = 1.0 - omg[~pos]
        kap = kappa[:, None]
        pe = pr[:, None] * eta[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_d2 = 1.0 / (pe + kap) ** 2
            inv_d3 = inv_d2 / (pe + kap)
            weight = (noise + e)[:, None]
            # E's partial derivatives at fixed kappa, and kappa's through the self-consistent equation
            e_kappa = (2.0 * kappa * np.sum(power * pe * inv_d3, axis=1)
                       - 2.0 * (noise + e) * np.sum(pe * eta * inv_d3, axis=1)) / omg
            e_p = (-2.0 * kappa**2 * np.sum(power * eta * inv_d3, axis=1)
                   + (noise + e) * np.sum(eta**2 * (kap - pe) * inv_d3, axis=1)) / omg
            kappa_p = -kappa * np.sum(eta**2 * inv_d2, axis=1) / omg
            # dE/deta_k (at fixed kappa, then through kappa), times deta_k/da = eta_k (sum eta log k - log k)
            e_eta = ((-2.0 * power * kap**2 + 2.0 * weight * eta * kap) * pr[:, None] * inv_d3
                     + e_kappa[:, None] * kap**2 * inv_d2) / omg[:, None]
            eta_a = eta * (np.sum(eta * log_k) - log_k)
            power_r = power * (np.sum(power * log_k) - log_k)
            values = {
                "n_train": e_p + e_kappa * kappa_p,
                "eigen_decay": e_eta @ eta_a,
                "target_decay": (kap**2 * inv_d2) @ power_r / omg,
                "noise": g / omg,
                "ridge": e_kappa / omg,
            }
        for name in names:
            derivatives[name][rest] = values[name]
    return error, {name: value.reshape(shape) for name, value in derivatives.items()}


def _error_given_data(eta, power, p, ridge, noise):
    """E_g for positive ``p`` (1-D array)."""
    n_modes, kappa, pos, gamma, one_minus_gamma, shrink = _kappa_terms(eta, p, ridge)
    error = np.empty_like(p)
    # kappa > 0: the general formula, with 1 - gamma written as a sum of positive terms
    if pos.any():
        bias = np.sum(power[None, :] * shrink, axis=1)
        error[pos] = (bias + noise * gamma) / one_minus_gamma
    # ridgeless beyond the interpolation threshold: kappa = 0, gamma = M / P'
    zero = ~pos
    if zero.any():
        gamma = n_modes / p[zero]
        numerator = power[eta == 0].sum() + noise * gamma
        with np.errstate(divide="ignore", invalid="ignore"):
            value = numerator / (1.0 - gamma)
        error[zero] = np.where(gamma < 1.0, value, np.where(numerator > 0, np.inf, 0.0))
    return error


# The terms of E_g that depend on the spectrum, P' and the ridge but not on the target power or the noise, for the
# last few (eigenvalues, P', ridge): a fit's finite-difference Jacobian moves the target's decay, the noise and
# the behaviour link at unchanged kappa, so those columns reuse the solve (keys are exact: results are identical).
_TERMS_CACHE: dict = {}
_TERMS_CACHE_SIZE = 8
_TERMS_CACHE_MAX_VALUES = 1 << 16


def _kappa_terms(eta, p, ridge):
    """``(n_modes, kappa, pos, gamma, 1 - gamma, (kappa / (P' eta + kappa))^2)`` over the rows with kappa > 0."""
    cacheable = p.size * eta.size <= _TERMS_CACHE_MAX_VALUES
    if cacheable:
        key = (eta.tobytes(), p.tobytes(), float(ridge))
        hit = _TERMS_CACHE.get(key)
        if hit is not None:
            return hit
    n_modes = int(np.count_nonzero(eta))
    kappa = np.zeros_like(p)
    solve = np.ones(p.shape, dtype=bool) if ridge > 0 else p < n_modes
    if solve.any():
        kappa[solve] = _solve_kappa(eta, p[solve], ridge)
    pos = kappa > 0
    gamma = one_minus_gamma = shrink = None
    if pos.any():
        pe = p[pos, None] * eta[None, :]
        k = kappa[pos, None]
        denominator = pe + k
        squared = denominator**2
        gamma = np.sum(pe * eta[None, :] / squared, axis=1)
        one_minus_gamma = ridge / kappa[pos] + np.sum(eta[None, :] * k / squared, axis=1)
        shrink = (k / denominator) ** 2
    terms = (n_modes, kappa, pos, gamma, one_minus_gamma, shrink)
    if cacheable:
        if len(_TERMS_CACHE) >= _TERMS_CACHE_SIZE:
            _TERMS_CACHE.pop(next(iter(_TERMS_CACHE)))
        _TERMS_CACHE[key] = terms
    return terms


def _solve_kappa(eta, p, ridge, max_iter=200, rtol=1e-14):
    """Root kappa of the self-consistent equation, vectorised over ``p``.

    With a ridge, f(kappa) = kappa - ridge - kappa sum eta/(p eta + kappa) is increasing and convex
    (f' = 1 - gamma(kappa), f'' > 0) with f >= 0 at the upper bound ridge + sum eta, so Newton's method
    started there decreases monotonically onto the root (4-20 steps). Ridgeless, f has a second root at 0, so
    instead g(kappa) = 1 - sum eta/(p eta + kappa), increasing and concave, is solved by Newton steps from a
    lower bound where g < 0, which increase monotonically onto the root (3-20 steps).
    """
    scaled = p[:, None] * eta[None, :]  # p eta, fixed through the iterations
    # work arrays reused by every iteration (the same operations as fresh arrays, without the allocations)
    terms = np.empty_like(scaled)
    work = np.empty_like(scaled)
    if ridge > 0:
        kappa = np.full(p.shape, ridge + eta.sum())
        column = p[:, None]
        for _ in range(max_iter):
            np.divide(eta, np.add(scaled, kappa[:, None], out=work), out=terms)
            value = kappa - ridge - kappa * terms.sum(axis=1)
            np.multiply(column, terms, out=work)
            work *= terms
            slope = 1.0 - work.sum(axis=1)
            new = np.maximum(kappa - value / slope, ridge)
            converged = (np.abs(new - kappa) <= rtol * kappa).all()
            kappa = new
            if converged:
                break
        return kappa
    # each term eta/(p eta + kappa) >= 1/(p (1 + d)) while kappa <= d p eta_min, so g < 0 there if
    # 1 + d < M / p; d is half the way to that limit
    positive = eta[eta > 0]
    d = 0.5 * (positive.size / p - 1.0)
    kappa = d * p * positive.min()
    for _ in range(max_iter):
        denominator = np.add(scaled, kappa[:, None], out=work)
        np.divide(eta, denominator, out=terms)
        g = 1.0 - terms.sum(axis=1)
        slope = np.divide(terms, denominator, out=work).sum(axis=1)
        # g is increasing and concave in kappa: Newton steps from the left never pass the root
        new = np.maximum(kappa - g / slope, kappa)
        converged = (new - kappa <= rtol * new).all()
        kappa = new
        if converged:
            break
    return kappa


def _as_spectrum(values, name):
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise DataError(
            f"kernel_generalization_error: expected {name} as a non-empty 1-D array, "
            f"found shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        n_bad = int((~np.isfinite(array)).sum())
        raise DataError(f"kernel_generalization_error: expected finite {name}, found {n_bad} NaN/inf")
    # tiny negative eigenvalues are round-off of a positive semi-definite kernel; larger ones are an error
    scale = np.abs(array).max()
    if np.any(array < -1e-10 * scale):
        raise DataError(
            f"kernel_generalization_error: expected {name} >= 0, found minimum {array.min():.3g} "
            f"(clip estimated negative eigenvalues before calling)"
        )
    return array.clip(min=0.0)


def _nonnegative_scalar(value, name):
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise DataError(f"kernel_generalization_error: expected finite {name} >= 0, found {value!r}")
    return value
