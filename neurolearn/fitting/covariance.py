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

Estimated covariance (``n_units``; an option)
---------------------------------------------
The replicates' covariance estimates the *ideal* bootstrap covariance, and that is itself the sample
covariance of the recorded neurons' influences: with ``N`` neurons it has at most ``N - 1`` degrees of
freedom, however many replicates are drawn (rank ``N - 1``: with fewer neurons than values it is singular).
The replicates' Hartlap factor above treats the ideal bootstrap covariance as the truth. A ``name_boot``
whose attrs declare ``n_units`` (and ``units_shared``, default True; :func:`declare_units`) is treated as
estimated twice over: for nested Wishart matrices the mean inverse is the product of the two Hartlap factors
(:func:`nested_hartlap_factor`), the neurons' factor taken over the values that come from one set of neurons
(all of them when the same cells are recorded every session; one session's values when each session records
fresh cells, whose ideal bootstrap covariance across sessions is exactly 0). Such a block is worth
:func:`matched_draws` Gaussian draws, and ``draws`` reports them so that the fit can widen its intervals by
Percival et al.'s (2014) ``m1`` (:func:`interval_inflation`): a GLS estimate weighted by a noisy precision
scatters more than its Fisher matrix says, beyond the Hartlap debiasing. For Gaussian influences the product
factor and ``m1`` cover 0.946-0.950 (100 neurons, 100-1000 replicates, 12-21 values, 2-4 parameters; the
replicates' factor alone 0.87-0.91), against the first-order ``n_eff = 1 / (1 / n_boot + 1 / N)``'s
0.950-0.961 (it overstates the factor when ``p / N`` is not small, and ignores that fresh cells per session
make the neurons' covariance block-diagonal). ``N`` assumes the neurons' influences are Gaussian; heavier
tails make the estimate worth fewer draws. Without ``n_units`` nothing changes.

Measured end to end (100 recorded units, paired on the same statistics): transfer 0.853 -> 0.938 over 80
networks, learning-rule GD's gamma0 0.80 -> 0.90 over 40, but lazy-rich with the same units every session,
calibrated without it (0.950, z SD 1.00 over 60), 0.983 (z SD 0.90): hence an option, not the default.
``fit`` applies ``m1`` to the profile threshold and the SEs when ``n_units`` is declared.

Working independence with sandwich intervals (``fit(..., weights="independent")``)
---------------------------------------------------------------------------------
GLS needs the *inverse* of the estimated covariance, and with ``p`` correlated values from ``N`` neurons its
smallest eigen-directions (session-to-session differences of statistics correlated 0.99 across sessions, and
of near-collinear statistics within a session) are where the estimate is noisiest: over 200 transfer networks
they carry 3.1, 2.3 and 1.7x the variance a recording's own covariance assigns them, so GLS intervals cover
0.85 although the mean of the per-recording covariances is conservative (0.985). Scalar corrections (Hartlap,
nested Hartlap, ``m1``) fix the average, not the per-recording error. ``weights="independent"`` instead weights
each value by ``1 / se**2`` (weights that do not depend on the estimated correlations) and uses the joint
covariance only linearly: each parameter's profile threshold is raised by its sandwich variance ratio
(:func:`sandwich_ratios`; the covariance here is the sample covariance itself, ``debias=False``, since it is
not inverted), and chi-square is referred to its Satterthwaite distribution under that covariance. The cost is
efficiency: the intervals are wider than GLS with a well-estimated covariance would give.

Shrunk working weights (a model's ``covariance_shrinkage``)
-----------------------------------------------------------
Between the two: a model may declare ``covariance_shrinkage = lambda`` in (0, 1)
(:attr:`neurolearn.theory.Model.covariance_shrinkage`), and its default fit then weights by the inverse of the
*working* covariance ``((1 - lambda) R + lambda I) * se se^T`` (``R`` the replicates' sample correlation,
``observation_covariance(..., shrinkage=lambda)``), which raises every eigenvalue of the correlation to at least
``lambda`` so that the weights no longer lean on its smallest, noisiest eigen-directions, while keeping most of
the large cross-session correlations that GLS gains from. The working weights are then not the values'
covariance, so intervals and chi-square's reference come from the sandwich with the unshrunk sample covariance
``R * se se^T``, as for working independence (:func:`sandwich_ratios` on the residuals as the working covariance
whitens them: ``L^-1 S L^-T``). ``lambda = 0`` is GLS, ``lambda = 1`` working independence. Declared units
(``n_units``) do not change such a fit: the sandwich, not a Hartlap factor, accounts for the estimated covariance.
Measured (transfer, lambda = 0.2 chosen on other networks, 100 tracked units): coverage 0.884 -> 0.938 over 80
networks and 0.880 -> 0.926 over 200, intervals 1.17-1.51x and the estimate's RMS error 1.0-1.3x GLS's (SE
weights: 1.35-2.13x), docs/theory.md section 2.8.
"""

from __future__ import annotations

import numpy as np

from neurolearn.data import SESSION
from neurolearn.errors import FitError

__all__ = ["BOOTSTRAP", "N_UNITS", "RESAMPLING", "UNITS_SHARED", "boot_name", "declare_units", "hartlap_factor",
           "interval_inflation", "matched_draws", "nested_hartlap_factor", "observation_covariance", "percival_m1",
           "sandwich_ratios", "shrunk_correlation"]

BOOTSTRAP = "bootstrap"
RESAMPLING = ("neurons-shared", "independent")
# attrs of neurons-shared replicates that declare how many neurons they resample (see "Estimated covariance")
N_UNITS = "n_units"
UNITS_SHARED = "units_shared"
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


def observation_covariance(stats, names, data, se, mask, model_name, draws=None,
                           debias=True, shrinkage=0.0) -> tuple[np.ndarray | None, list]:
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
    draws : list, optional
        If given, one ``(n_draws, p)`` pair is appended per correlated block whose replicates declare
        ``n_units`` and that used the sample correlation: the number of Gaussian draws its covariance is worth
        and its number of values (see :func:`interval_inflation`).
    debias : bool
        Scale each sample-correlation block by its Hartlap factor (default), which makes the *inverse* unbiased,
        as weights need. False returns the sample covariance itself (an unbiased estimate of the covariance),
        as a sandwich variance needs (:func:`sandwich_ratios`).
    shrinkage : float
        Intensity ``lambda`` in [0, 1]: every correlation is multiplied by ``1 - lambda`` (the correlation
        matrix becomes ``(1 - lambda) R + lambda I``), for *working* weights whose intervals come from the
        sandwich (see "Shrunk working weights"); 0 (default) leaves the correlations as estimated.

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
        A ``name_boot`` with the wrong dims, an unknown ``resampling`` or an ``n_units`` that is not a number
        of neurons >= 2.
    """
    k, s = data.shape
    replicates, units = {}, {}
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
        units[i] = _declared_units(da, key, model_name)
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
            note = _correlate(correlation, rows, replicates, s, units=units, draws=draws, debias=debias)
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
    if shrinkage:
        correlation = (1.0 - shrinkage) * correlation + shrinkage * np.eye(k * s)
    sd = np.sqrt(variance)
    return correlation * np.outer(sd, sd), notes


def _declared_units(da, key, model_name):
    """``(n_units, units_shared)`` from the attrs of replicates ``da``, or None where ``n_units`` is absent."""
    n_units = da.attrs.get(N_UNITS)
    if n_units is None:
        return None
    try:
        n_units = float(n_units)
    except (TypeError, ValueError):
        n_units = float("nan")
    if not (np.isfinite(n_units) and n_units >= 2):
        raise FitError(f"fit of model {model_name!r}: expected attr {N_UNITS!r} of {key!r} a number of neurons >= 2, "
                       f"found {da.attrs.get(N_UNITS)!r}")
    shared = da.attrs.get(UNITS_SHARED, True)
    if isinstance(shared, str):
        shared = shared.strip().lower() in ("true", "1", "yes")
    return n_units, bool(shared)


def _hartlap(n, p, kept, units):
    """Hartlap factor of a block of ``p`` values ``kept`` from ``n`` replicates, the draws it is worth, and how.

    Without a declared number of neurons, the replicates' own factor (draws None); with it, the nested factor
    of the replicates and of the neurons they resample (infinite, with the reason, when too few neurons).
    """
    declared = {units[i] for i, _ in kept if units and units.get(i) is not None}
    if not declared:
        factor = hartlap_factor(n, p)
        return factor, None, f"sample correlation, Hartlap factor {factor:.3f}"
    n_units = min(u for u, _ in declared)
    sessions = [j for _, j in kept]
    p_units = p if all(shared for _, shared in declared) else max(sessions.count(j) for j in set(sessions))
    if n_units <= p_units + 4:
        return float("inf"), float(n_units), (f"only {n_units:.0f} neurons for {p_units} values from the same neurons: "
                                              "their covariance cannot be inverted reliably")
    factor = nested_hartlap_factor(n, n_units, p, p_units)
    n_draws = matched_draws(factor, p)
    return factor, n_draws, (f"sample correlation, Hartlap factor {factor:.3f} for replicates of {n_units:.0f} "
                             f"neurons ({p_units} values from the same neurons; worth {n_draws:.0f} draws)")


def _correlate(correlation, rows, replicates, s, units=None, draws=None, debias=True) -> str:
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
    factor, n_draws, how = _hartlap(n, p, [row for row, use in zip(rows, usable) if use], units)
    if n >= 2 * p + 2 and np.isfinite(factor):
        if not debias:
            factor, how = 1.0, "sample correlation, not debiased (an estimate of the covariance itself)"
        r = np.corrcoef(x, rowvar=False) * factor
        if draws is not None and n_draws is not None:  # declared neurons only: else the fit is as it was
            draws.append((n_draws, p))
    else:
        r, lam = shrunk_correlation(x)
        why = f"fewer than 2p + 2 = {2 * p + 2} replicates" if n < 2 * p + 2 else how
        how = f"correlations shrunk by lambda = {lam:.2f} ({why})"
    flat = np.array([i * s + j for i, j in rows])[usable]
    correlation[np.ix_(flat, flat)] = r
    left = int((~usable).sum())
    tail = f"; {left} value(s) without usable replicates left uncorrelated" if left else ""
    return f"{n} replicates for {p} values, {how}{tail}"


def hartlap_factor(n, p) -> float:
    """``E[S^-1] = factor * C^-1`` for a sample covariance ``S`` of ``n`` Gaussian draws of ``p`` values.

    ``(n - 1) / (n - p - 2)`` (Hartlap et al. 2007); infinite when ``n <= p + 2`` (the inverse has no mean).

    Examples
    --------
    >>> round(hartlap_factor(100, 21), 3)
    1.286
    """
    n, p = float(n), float(p)
    return (n - 1.0) / (n - p - 2.0) if n > p + 2.0 else float("inf")


def nested_hartlap_factor(n_boot, n_units, p, p_units=None) -> float:
    """Hartlap factor of a bootstrap covariance over neurons: two nested sample covariances.

    The replicates' covariance is a sample covariance of ``n_boot`` draws around the *ideal* bootstrap
    covariance, which is itself the sample covariance of the ``n_units`` neurons' influences (``n_units - 1``
    degrees of freedom) around the population's. For nested Wisharts ``S = A^1/2 W A^1/2`` with ``W``
    independent of ``A``, ``E[S^-1] = E[A^-1/2 E[W^-1] A^-1/2]``, so the two factors multiply:
    ``hartlap(n_boot, p) * hartlap(n_units, p_units)``. ``p_units`` is the number of the ``p`` values computed
    from one set of neurons (all ``p`` when the same neurons are recorded every session; the values of one
    session when each session records fresh neurons, whose ideal-bootstrap cross-session covariance is exactly 0).

    Examples
    --------
    >>> round(nested_hartlap_factor(100, 100, 21), 3)  # 1.286 ** 2
    1.653
    """
    p_units = p if p_units is None else p_units
    return hartlap_factor(n_boot, p) * hartlap_factor(n_units, p_units)


def matched_draws(factor, p) -> float:
    """The number of Gaussian draws whose Hartlap factor for ``p`` values is ``factor`` (inverse of
    :func:`hartlap_factor` in ``n``).

    Examples
    --------
    >>> round(matched_draws(hartlap_factor(50, 21), 21), 6)
    50.0
    """
    if not factor > 1.0:
        return float("inf")
    return (factor * (p + 2.0) - 1.0) / (factor - 1.0)


def percival_m1(n, p, k) -> float:
    """Variance inflation of ``k`` parameters fitted to ``p`` values with a precision estimated from ``n`` draws.

    Percival et al. (2014, *MNRAS* 439:2531) eq. 18: with the Hartlap-debiased precision, the parameters'
    variance is ``m1`` times the one the (noisy) Fisher matrix reports, ``m1 = (1 + B (p - k)) / (1 + A + B (k +
    1))``, ``A = 2 / ((n - p - 1)(n - p - 4))``, ``B = (n - p - 2) / ((n - p - 1)(n - p - 4))``. Profile
    intervals cover their level when the chi-square threshold is multiplied by ``m1``. 1 for ``n`` infinite.

    Examples
    --------
    >>> round(percival_m1(50, 21, 4), 3)
    1.385
    >>> percival_m1(float("inf"), 21, 4)
    1.0
    """
    if not np.isfinite(n):
        return 1.0
    if n <= p + 4:
        return float("inf")
    a = 2.0 / ((n - p - 1.0) * (n - p - 4.0))
    b = (n - p - 2.0) / ((n - p - 1.0) * (n - p - 4.0))
    return (1.0 + b * (p - k)) / (1.0 + a + b * (k + 1.0))


def interval_inflation(draws, n_free) -> float:
    """Factor on the profile threshold (and on the parameters' variance) for covariances estimated from ``draws``.

    ``draws`` as :func:`observation_covariance` fills it; the largest :func:`percival_m1` over the blocks
    (1 without blocks).

    Examples
    --------
    >>> round(interval_inflation([(50.0, 21)], 4), 3)
    1.385
    >>> interval_inflation([], 4)
    1.0
    """
    return max([percival_m1(n, p, n_free) for n, p in draws], default=1.0)


def sandwich_ratios(jac, covariance, residuals=None):
    """Variance ratios of a fit weighted by SEs alone when the values' errors have the joint ``covariance``.

    ``jac`` is the Jacobian of the standardised residuals ``(value - prediction) / se`` (n_obs, k) and
    ``covariance`` the estimated joint covariance of the same standardised values (a correlation matrix when the
    SEs are right). The estimate's covariance is the sandwich ``A J^T S J A``, ``A = (J^T J)^-1`` (Liang & Zeger
    1986; Huber 1967); ``ratios`` is its diagonal over ``A``'s, the factor by which the profile threshold of each
    parameter must be raised (the signed root deviance of a working likelihood scatters with that variance;
    Chandler & Bate 2007). The weights do not depend on the estimated covariance, which enters only linearly, so
    its estimation noise averages over the values instead of concentrating in its smallest eigen-directions.

    With ``residuals`` also the goodness of fit: under the model, ``chi2 = r^T r = z^T M^T M z`` with
    ``M = I - J A J^T`` and ``z ~ N(0, S)``, a weighted sum of chi-squares, referred to ``a chi2_b`` (Satterthwaite
    1946) with ``a = tr(T^2) / tr(T)``, ``b = tr(T)^2 / tr(T^2)``, ``T = M S M^T``; ``expected`` = ``tr(T)``.

    Returns
    -------
    ratios : ndarray, shape (k,)
        1 where a parameter's variance is not finite.
    reference : tuple (expected, a, b) or None
        None without ``residuals``.

    Examples
    --------
    >>> j = np.ones((4, 1))
    >>> r, _ = sandwich_ratios(j, np.eye(4))   # independent errors: the working variance is right
    >>> float(np.round(r[0], 12))
    1.0
    >>> r, ref = sandwich_ratios(j, np.full((4, 4), 0.5) + 0.5 * np.eye(4), residuals=np.zeros(4))
    >>> float(np.round(r[0], 12))  # equicorrelated 0.5: the mean's variance is (1 + 3 * 0.5) / 4, not 1 / 4
    2.5
    """
    jac = np.asarray(jac, dtype=float)
    covariance = np.asarray(covariance, dtype=float)
    k = jac.shape[1]
    a = np.linalg.pinv(jac.T @ jac)
    sandwich = a @ jac.T @ covariance @ jac @ a
    naive, robust = np.diag(a), np.diag(sandwich)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(np.isfinite(robust) & (naive > 0), robust / naive, 1.0)
    ratios = np.where(np.isfinite(ratios) & (ratios > 0), ratios, 1.0)
    if residuals is None:
        return ratios, None
    m = np.eye(jac.shape[0]) - jac @ a @ jac.T
    t = m @ covariance @ m.T
    t1, t2 = float(np.trace(t)), float(np.sum(t * t))
    if not (t1 > 0 and t2 > 0):
        return ratios, (float(max(jac.shape[0] - k, 1)), 1.0, float(max(jac.shape[0] - k, 1)))
    return ratios, (t1, t2 / t1, t1 * t1 / t2)


def declare_units(stats, n_units, units_shared=True):
    """``stats`` with every neurons-shared ``name_boot`` declaring the neurons its replicates resample.

    The fit then treats the joint covariance as estimated twice over, from ``n_units`` neurons and from the
    replicates (:func:`nested_hartlap_factor`), instead of from the replicates alone.

    Parameters
    ----------
    stats : xarray.Dataset
        Statistics from :func:`neurolearn.summarize`.
    n_units : int
        Neurons recorded (the smallest session's number when they differ).
    units_shared : bool
        Whether the same neurons are recorded every session (tracked cells); False for a fresh set per session.

    Returns
    -------
    xarray.Dataset
        A shallow copy; the data are not changed.
    """
    out = stats.copy()
    for name in out.data_vars:
        da = out[name]
        if str(name).endswith("_boot") and da.attrs.get("resampling") == "neurons-shared":
            out[name] = da.assign_attrs({N_UNITS: int(n_units), UNITS_SHARED: bool(units_shared)})
    return out
