"""The basis the linear-dynamics fit works in: leading principal components, then the directions the past predicts.

Within the leading principal components of a session's activity, only the directions its past predicts beyond
chance (canonical correlations of the present with the instruments above their null edge) are kept: in the
others an instrument is weak and the instrumental-variable estimate of :mod:`neurolearn.stats.dynamics_fit`
would be noise posing as a large eigenvalue. Everything here reads the summed second moments, so a bootstrap
resample re-estimates the basis from its re-weighted sums.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pca_basis", "predictable_directions", "chance_edge", "CHANCE_MARGIN"]

#: how far (in units of n^(-2/3), the Tracy-Widom scale of the largest canonical correlation) a kept
#: direction's squared canonical correlation must stand above the null edge
CHANCE_MARGIN = 3.0


def pca_basis(states, k):
    """The k leading principal axes of centred (trial, time, neuron) states, from the neuron covariance."""
    flat = states.reshape(-1, states.shape[-1])
    _, vectors = np.linalg.eigh(flat.T @ flat)
    return vectors[:, ::-1][:, :k]


def predictable_directions(moments, columns, k, n):
    """Up to k directions of activity predictable from its past, and their squared canonical correlations.

    Activity enters as its leading m principal components z (``columns`` says where z_t, its lags and the
    inputs sit in the summed second ``moments``, which hold a column of ones for the means), and canonical
    correlation analysis between the present z_t and the instruments (z_{t-l} for the lags, the inputs)
    ranks directions by how well the past predicts them. With ``n`` (the number of transitions) a direction
    is kept if its squared canonical correlation exceeds the upper edge that m directions and p unrelated
    instruments reach by chance in n samples (Wachter 1980; Johnstone 2008: (sqrt(c1 (1 - c2)) +
    sqrt(c2 (1 - c1)))^2 with c1 = m/n, c2 = p/n) by ``CHANCE_MARGIN`` n^(-2/3); at least one is kept (the
    fit then says it is not resolved: ``neurolearn.stats.dynamics_fit.DynamicsFit.resolved``). With
    ``n=None`` (a bootstrap resample, whose duplicated trials would pass the edge more often) the k most
    predictable are kept: the resample re-estimates the directions, not their number. Dropping the
    unpredictable directions is what makes the instrumental-variable fit well conditioned: in them an
    instrument is weak, the estimate is noise, and their activity is what the kept directions' instruments
    do not see (so leaving it out does not bias the fit). Returns the orthonormal basis (m × kept) of the
    directions' span, in component coordinates.
    """
    one, m = columns["one"], columns["m"]
    past, present = columns["inputs"].stop, columns["present"]  # the instruments are columns 0..past-1
    sums = moments[: present.stop, one]
    scatter = moments[: present.stop, : present.stop] - np.outer(sums, sums) / moments[one, one]  # centred
    p = past
    s_zz = scatter[present, present]
    s_zp = scatter[present, :past]
    s_pp = scatter[:past, :past]
    ridge = 1e-10 * np.trace(s_pp) / p * np.eye(p)
    s_pred = s_zp @ np.linalg.solve(s_pp + ridge, s_zp.T)
    # generalised eigenproblem s_pred v = rho^2 s_zz v, through the whitening of s_zz
    evals, evecs = np.linalg.eigh(s_zz)
    good = evals > 1e-12 * evals.max()
    whiten = evecs[:, good] / np.sqrt(evals[good])
    rho2, v = np.linalg.eigh(whiten.T @ s_pred @ whiten)
    order = np.argsort(-rho2)
    rho2, directions = rho2[order], (whiten @ v)[:, order]
    if n is None:
        keep = min(k, rho2.size)
    else:
        keep = max(1, min(k, int(np.sum(rho2 > chance_edge(m, p, n)))))
    return np.linalg.qr(directions[:, :keep])[0], rho2[:keep]


def chance_edge(m, p, n):
    """The squared canonical correlation m directions and p unrelated instruments reach by chance in n
    samples (the Wachter edge plus ``CHANCE_MARGIN`` n^(-2/3), see :func:`predictable_directions`)."""
    c1, c2 = m / n, p / n
    return float((np.sqrt(c1 * (1 - c2)) + np.sqrt(c2 * (1 - c1))) ** 2 + CHANCE_MARGIN * n ** (-2 / 3))
