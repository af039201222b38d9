"""Learning to integrate in a linear RNN: one outlier eigenvalue rises out of the bulk while the loss falls.

Reduced model of :mod:`neurolearn.simulate.rnn` (Bordelon, Cotler, Pehlevan & Zavatone-Veth 2025). The RNN's
impulse response is caricatured by one learned mode, ``k_n = a lambda^n``, whose white-noise loss is

    L(a, lambda) = a^2 / (2 (1 - lambda^2)) - a / (1 - lambda rho*) + 1 / (2 (1 - rho*^2)).

The readout amplitude ``a`` learns much faster than the recurrent eigenvalue ``lambda`` (it is a linear
regression at fixed ``lambda``), so ``lambda`` follows gradient flow on the envelope
``L*(lambda) = min_a L = L0 - (1 - lambda^2) / (2 (1 - lambda rho*)^2)`` (envelope theorem), which
simplifies to

    d lambda / d tau = (rho* - lambda) / (1 - lambda rho*)^3.

This ODE is separable with the closed-form inverse (``c = 1 - rho*^2``, ``w = rho* - lambda``)

    tau(lambda) = c^3 log(w0 / w) + 3 c^2 rho* (w0 - w) + 3/2 c rho*^2 (w0^2 - w^2) + rho*^3 (w0^3 - w^3) / 3,

so ``predict`` inverts a tabulated ``tau(lambda)`` by interpolation (tens of microseconds). ``a`` relaxes
toward its optimum ``a*(lambda) = (1 - lambda^2)/(1 - lambda rho*)`` on the faster timescale
``1/readout_rate``: ``a(tau) = a*(lambda(tau)) (1 - exp(-readout_rate tau))`` (the two-timescale
approximation; exact in the limit ``readout_rate -> inf``). The recorded network also has a bulk of untrained
eigenvalues of radius ``bulk``, so the largest eigenvalue modulus a dynamics fit sees is ``max(lambda,
bulk)``.
"""

from __future__ import annotations

import numpy as np

from neurolearn.theory import _register
from neurolearn.theory.base import Model, Parameter

__all__ = ["MODEL", "outlier_trajectory", "integrator_loss", "integrator_statistics"]

# grid of w = rho* - lambda as a fraction of its start: fine near the start and geometric-like near w -> 0,
# where lambda approaches rho* exponentially slowly in tau
_W_FRACTION = (1.0 - np.linspace(0.0, 1.0, 2049)[:-1]) ** 4


def integrator_loss(a, lam, rho_star: float):
    """White-noise loss of the filter ``a lambda^n`` against ``rho_star^n`` (closed form).

    Examples
    --------
    >>> round(float(integrator_loss(0.0, 0.0, 0.95)), 4)  # the zero filter: 1 / (2 (1 - rho*^2))
    5.1282
    >>> float(integrator_loss(1.0, 0.95, 0.95))  # the target itself
    0.0
    """
    a = np.asarray(a, dtype=float)
    lam = np.asarray(lam, dtype=float)
    return a**2 / (2 * (1 - lam**2)) - a / (1 - lam * rho_star) + 1 / (2 * (1 - rho_star**2))


def outlier_trajectory(time, rho_star: float = 0.95, lambda0: float = 0.0):
    """``lambda(tau)`` under adiabatic gradient flow ``d lambda/d tau = (rho* - lambda)/(1 - lambda rho*)^3``.

    Exact inversion of the closed-form ``tau(lambda)`` (see module docstring) on a 2048-point grid;
    negative times return ``lambda0``.

    Examples
    --------
    >>> lam = outlier_trajectory([0.0, 1e-3, 100.0], rho_star=0.9)
    >>> round(float(lam[0]), 6), round(float(lam[1] / 1e-3), 2), round(float(lam[2]), 4)  # slope rho* at 0
    (0.0, 0.9, 0.9)
    """
    t = np.asarray(time, dtype=float)
    rho = float(rho_star)
    c = 1.0 - rho**2
    w0 = rho - lambda0
    w = w0 * _W_FRACTION
    lam_grid = rho - w
    tau = (
        c**3 * np.log(w0 / w)
        + 3 * c**2 * rho * (w0 - w)
        + 1.5 * c * rho**2 * (w0**2 - w**2)
        + rho**3 * (w0**3 - w**3) / 3.0
    )
    lam = np.interp(t, tau, lam_grid)
    # beyond the table lambda is within 1e-13 of rho* (np.interp holds the last value)
    return np.where(t <= 0, lambda0, lam)


def integrator_statistics(time, rho_star=0.95, readout_rate=20.0, bulk=0.1, dt=1.0, lambda0=0.0) -> dict:
    """Predicted ``behavior``, ``outlier_eigenvalue``, ``timescale`` (and ``normalized_loss``) at ``time``.

    ``behavior = 1 - L/L0`` with ``L0 = 1/(2(1 - rho*^2))`` the loss of the zero network;
    ``outlier_eigenvalue = max(lambda, bulk)``; ``timescale = -dt / log(outlier_eigenvalue)`` in the units of
    ``dt`` (seconds per RNN step), as a linear-dynamics fit to binned activity reports it.

    Examples
    --------
    >>> out = integrator_statistics([0.0, 50.0], rho_star=0.9, bulk=0.1)
    >>> round(float(out["outlier_eigenvalue"][1]), 3), round(float(out["behavior"][1]), 3)
    (0.9, 1.0)
    """
    t = np.asarray(time, dtype=float)
    lam = outlier_trajectory(t, rho_star, lambda0)
    a_opt = (1 - lam**2) / (1 - lam * rho_star)
    a = a_opt * (1.0 - np.exp(-readout_rate * np.clip(t, 0.0, None)))
    loss0 = 1.0 / (2.0 * (1.0 - rho_star**2))
    normalized = integrator_loss(a, lam, rho_star) / loss0
    outlier = np.maximum(lam, bulk)
    return {
        "behavior": 1.0 - normalized,
        "normalized_loss": normalized,
        "outlier_eigenvalue": outlier,
        "timescale": -dt / np.log(np.clip(outlier, 1e-12, 1 - 1e-12)),
    }


def _predict(t, rho_star, readout_rate, bulk, dt):
    return integrator_statistics(t, rho_star=rho_star, readout_rate=readout_rate, bulk=bulk, dt=dt)


MODEL = _register(
    Model(
        name="integrator",
        description=(
            "A linear RNN learning to integrate (reproduce the filter rho*^n) from small initial weights: "
            "the readout is learned first (behaviour rises a little), then one outlier eigenvalue of the "
            "recurrent weights rises sigmoidally out of the bulk toward rho* and the loss falls with it. "
            "Signature in data: the slowest timescale of population dynamics grows as the task is learned."
        ),
        formula=(
            "L(a,lam) = a^2/(2(1-lam^2)) - a/(1-lam rho*) + 1/(2(1-rho*^2)); "
            "dlam/dtau = (rho*-lam)/(1-lam rho*)^3 (gradient flow on min_a L); "
            "a = a*(lam)(1-exp(-readout_rate tau)), a*(lam) = (1-lam^2)/(1-lam rho*); "
            "behavior = 1 - L/L(0,0); outlier_eigenvalue = max(lam, bulk); "
            "timescale = -dt/log(outlier_eigenvalue)"
        ),
        reference=(
            "Bordelon, Cotler, Pehlevan & Zavatone-Veth (2025), learning dynamics of linear RNNs trained to "
            "integrate."
        ),
        parameters=(
            Parameter(
                "rho_star", 0.9, (0.3, 0.995), "decay per step of the target filter (1 = perfect integrator)"
            ),
            Parameter(
                "readout_rate", 20.0, (0.5, 500.0),
                "learning rate of the readout amplitude relative to the recurrent eigenvalue (dimensionless)",
                log_scale=True,
            ),
            Parameter(
                "bulk", 0.1, (0.0, 0.9),
                "radius of the untrained bulk of recurrent eigenvalues (~ initial weight scale)",
            ),
            Parameter(
                "dt", 1.0, (0.001, 10.0),
                "seconds per RNN step = the recording's bin size; links timescale (s) to the eigenvalue",
                identifiable=False, log_scale=True,
            ),
        ),
        observables=("behavior", "outlier_eigenvalue", "timescale"),
        function=_predict,
    )
)
