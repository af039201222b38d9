"""The joint covariance of the fitted statistics across sessions, from their bootstrap replicates.

:func:`neurolearn.summarize` resamples each neuron *once for all sessions* (Poisson weights by neuron id), so
with the same neurons recorded every session the neuron-sampling errors of a kernel statistic are shared by
every session: a curve whose every point sits one SE too high is far likelier than independent errors
allow. Weighting by the SEs alone then makes intervals too narrow (and chi-square too small). A statistic
``name`` that comes with replicates ``name_boot`` (dims ``(session, "bootstrap")``, attr ``resampling``) lets
the fit use the covariance of the whole observation vector instead (generalised least squares):

* ``resampling="neurons-shared"``: replicate ``b`` uses the same neuron weights in every session and every
  statistic with this attr, so all such values are one correlated block (across sessions and statistics);
* ``resampling="independent"``: resampled per session (e.g. trials): correlated across statistics within a
  session only (one block per session), independent across sessions;
* no ``name_boot``: independent of everything, variance ``name_se**2``.

Replicates along different bootstrap dims (e.g. ``bootstrap`` from summarize's kernel statistics and
``bootstrap_readout`` from the readout statistics) come from different draws and are not correlated with each
other.

Regularisation
--------------
A chi-square needs the *inverse* covariance, and with the same neurons every session the replicates'
correlations across sessions reach 0.99+ (smallest eigenvalues of the correlation ~1e-3): the session-to-
session differences are far more precise than the marginal SEs. How the matrix is regularised therefore
matters most in exactly those directions.

* Enough replicates (``n >= 2 p + 2`` complete replicates for ``p`` correlated values, e.g. 200 replicates
  for up to 99 values): the sample correlation is used as it is, and the whole block is scaled by
  ``(n - 1) / (n - p - 2)``, the Hartlap et al. (2007, *A&A* 464:399) factor that makes the inverse of a
  covariance estimated from ``n`` Gaussian draws unbiased (without it chi-square is ``n / (n - p - 2)`` too
  large on average). Shrinking toward the diagonal here would add its intensity to those ~1e-3 eigenvalues
  and deflate chi-square (measured: 5x at lambda = 0.01 on chronic-recording replicates of task_alignment).
* Fewer: correlations are shrunk toward zero (a diagonal target keeping each variance) with the
  Ledoit-Wolf-type intensity of Schafer & Strimmer (2005, *Stat. Appl. Genet. Mol. Biol.* 4:32, target
  "D"), ``lambda = sum_{i != j} Var(r_ij) / sum_{i != j} r_ij**2`` clipped to [0, 1], estimated from the
  replicates; ``(1 - lambda) R + lambda I`` is positive definite for lambda > 0. This errs toward weights
  closer to the SEs alone (conservative in the precise directions).

Variances are the statistics' own ``name_se**2`` (times the Hartlap factor where it applies), so SE floors
and summarize's SEs are kept; replicates supply correlations.
"""

from __future__ import annotations

import numpy as np

from neurolearn.data import SESSION
from neurolearn.errors import FitError

__all__ = ["BOOTSTRAP", "RESAMPLING", "boot_name", "observation_covariance", "shrunk_correlation"]

BOOTSTRAP = "bootstrap"
RESAMPLING = ("neurons-shared", "independent")
# A correlated block needs this many complete replicates; fewer and its values are treated as independent.
_MIN_REPLICATES = 10


def boot_name(name: str) -> str:
    """Name of the bootstrap-replicate variable of statistic ``name``.

    Examples
    --------
    >>> boot_name("task_alignment")
    'task_alignment_boot'
    """
    return f"{name}_boot"


def shrunk_correlation(replicates) -> tuple[np.ndarray, float]:
    """Correlation of the columns of ``replicates`` (n_replicates, p), shrunk toward the identity.

    Returns the shrunk correlation matrix and the intensity ``lambda`` (Schafer & Strimmer 2005).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> common = rng.standard_normal((400, 1))
    >>> x = common + rng.standard_normal((400, 3))  # equicorrelated, rho = 0.5
    >>> r, lam = shrunk_correlation(x)
    >>> bool(abs(r[0, 1] - 0.5) < 0.1), 0.0 <= lam < 0.1
    (True, True)
    """
    x = np.asarray(replicates, dtype=float)
    n, p = x.shape
    sd = x.std(axis=0, ddof=1)
    z = (x - x.mean(axis=0)) / sd
    w_mean = z.T @ z / n
    r = w_mean * n / (n - 1)
    np.fill_diagonal(r, 1.0)
    if p < 2:
        return r, 0.0
    # Var(r_ij) = n / (n-1)^3 sum_k (w_kij - wbar_ij)^2, with w_kij = z_ki z_kj; sums of squares by products
    z2 = z**2
    var_r = n / (n - 1) ** 3 * (z2.T @ z2 - n * w_mean**2)
    off = ~np.eye(p, dtype=bool)
    denominator = float(np.sum(r[off] ** 2))
    lam = 1.0 if denominator <= 0 else float(np.clip(np.sum(var_r[off]) / denominator, 0.0, 1.0))
    shrunk = (1.0 - lam) * r
    np.fill_diagonal(shrunk, 1.0)
    return shrunk, lam


def observation_covariance(stats, names, data, se, mask, model_name) -> tuple[np.ndarray | None, list]:
    """Covariance of the flattened values ``data`` (n_names, n_sessions; row-major) from ``name_boot``.

    Parameters
    ----------
    stats : xarray.Dataset
    names : sequence of str
        Statistics fitted (rows of ``data``).
    data, se : ndarray, shape (n_names, n_sessions)
    mask : ndarray of bool
        Values that enter the fit (only these are correlated).
    model_name : str
        For messages.

    Returns
    -------
    covariance : ndarray, shape (n_names * n_sessions,) * 2, or None
        None when no fitted statistic has replicates (the fit then weights by ``1 / se**2`` as before).
        Entries of values outside ``mask`` are placeholders (variance 1, uncorrelated).
    notes : list of str
        How the covariance was built (for the fit's message).

    Raises
    ------
    FitError
        A ``name_boot`` with the wrong dims or an unknown ``resampling``.
    """
    k, s = data.shape
    replicates = {}
    for i, name in enumerate(names):
        key = boot_name(name)
        if key not in stats.data_vars:
            continue
        da = stats[key]
        others = [str(d) for d in da.dims if d != SESSION]
        if SESSION not in da.dims or len(others) != 1 or not others[0].startswith(BOOTSTRAP):
            raise FitError(f"fit of model {model_name!r}: expected {key!r} with dims ({SESSION!r}, {BOOTSTRAP!r}) "
                           f"(or another dim named '{BOOTSTRAP}...'), found {tuple(da.dims)}")
        dim = others[0]
        resampling = da.attrs.get("resampling")
        if resampling not in RESAMPLING:
            raise FitError(f"fit of model {model_name!r}: expected attr resampling of {key!r} one of "
                           f"{list(RESAMPLING)}, found {resampling!r}")
        try:
            values = np.asarray(da.transpose(SESSION, dim).values, dtype=float)
        except (TypeError, ValueError):
            raise FitError(f"fit of model {model_name!r}: expected numeric replicates in {key!r}, found dtype "
                           f"{da.dtype}") from None
        replicates[i] = ((resampling, dim), values)
    if not replicates:
        return None, []
    variance = np.where(mask & np.isfinite(se), se, 1.0).ravel() ** 2
    correlation = np.eye(k * s)
    notes = []
    # replicates along one bootstrap dim come from one resampling draw; different dims are independent draws
    for group in sorted({key for key, _ in replicates.values()}):
        kind, dim = group
        members = [i for i, (key, _) in replicates.items() if key == group]
        suffix = "" if dim == BOOTSTRAP else f" along {dim!r}"
        if kind == "neurons-shared":
            rows = [(i, j) for i in members for j in range(s) if mask[i, j]]
            note = _correlate(correlation, rows, replicates, s)
            notes.append(f"values of {[names[i] for i in members]} weighted by their joint covariance across "
                         f"sessions (neurons-shared bootstrap replicates{suffix}; {note})")
        elif len(members) > 1:
            for j in range(s):
                rows = [(i, j) for i in members if mask[i, j]]
                if len(rows) > 1:
                    _correlate(correlation, rows, replicates, s)
            notes.append(f"values of {[names[i] for i in members]} correlated within each session only "
                         f"(independent bootstrap replicates{suffix})")
    if any(i not in replicates for i in range(k)):
        notes.append(f"values of {[n for i, n in enumerate(names) if i not in replicates]} weighted by their SEs "
                     "alone (no bootstrap replicates)")
    sd = np.sqrt(variance)
    return correlation * np.outer(sd, sd), notes


def _correlate(correlation, rows, replicates, s) -> str:
    """Fill the shrunk correlation of the values ``rows`` ((name index, session) pairs) in place."""
    if len(rows) < 2:
        return "one value"
    lengths = {replicates[i][1].shape[1] for i, _ in rows}
    if len(lengths) > 1:
        raise FitError(f"fit: expected the same number of bootstrap replicates for statistics resampled together, "
                       f"found {sorted(lengths)}")
    x = np.stack([replicates[i][1][j] for i, j in rows], axis=1)  # (n_boot, n_rows)
    # rows with no usable spread (constant or mostly missing replicates) stay uncorrelated
    finite = np.isfinite(x)
    usable = (finite.mean(axis=0) >= 0.5)
    with np.errstate(invalid="ignore"):
        spread = np.array([np.nanstd(x[:, c]) if usable[c] else 0.0 for c in range(x.shape[1])])
    usable &= spread > 0
    complete = finite[:, usable].all(axis=1)
    if usable.sum() < 2 or complete.sum() < _MIN_REPLICATES:
        return f"too few complete replicates ({int(complete.sum())}): treated as independent"
    n, p = int(complete.sum()), int(usable.sum())
    x = x[np.ix_(complete, usable)]
    if n >= 2 * p + 2:
        factor = (n - 1) / (n - p - 2)
        r = np.corrcoef(x, rowvar=False) * factor
        how = f"sample correlation, Hartlap factor {factor:.3f}"
    else:
        r, lam = shrunk_correlation(x)
        how = f"correlations shrunk by lambda = {lam:.2f} (fewer than 2p + 2 = {2 * p + 2} replicates)"
    flat = np.array([i * s + j for i, j in rows])[usable]
    correlation[np.ix_(flat, flat)] = r
    left = int((~usable).sum())
    tail = f"; {left} value(s) without usable replicates left uncorrelated" if left else ""
    return f"{n} replicates for {p} values, {how}{tail}"
