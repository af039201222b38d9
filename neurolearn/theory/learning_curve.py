"""The "kernel-learning-curve" model: kernel regression's generalisation error over training.

:func:`neurolearn.theory.kernel_regression.kernel_generalization_error` solves the self-consistent equations
for the error of kernel regression from the kernel's spectrum; the registered model ``"kernel-learning-curve"`` turns it
into a learning curve over training for power-law spectra: training time is the number of training examples
``P' = max(tau, 0)`` (so the fitter's session-to-time scale is "examples per session"), the error is the
fraction of target variance not predicted (``sum v_k^2 = 1``: the units of
:func:`neurolearn.stats.spectral.predicted_learning_curve`), and behaviour is linked to it by the explained
variance, ``heldout_behavior = chance + (ceiling - chance)(1 - min(E_g, 1))`` -- the link of the ``"lazy-rich"``
model's behaviour, and the probability with which
:func:`neurolearn.simulate.two_layer.simulate_readout_learning_sessions` draws correct trials.

That behaviour is performance on stimuli the learner was *not* trained on (``E_g`` is the error on new
stimuli), so the observable is ``heldout_behavior``: :func:`neurolearn.summarize`'s fraction correct on the
trials its held-out column marks (``heldout=``, the documented trial column ``heldout`` by default), which a fit
joins on name. ``summarize``'s ``behavior`` is the training stimuli's there (attr ``behavior_trials``; what
``grokking``'s behaviour is) and is not fitted by this model. Where every trial is of a new stimulus (the
simulator's default, every probe novel, its ``heldout`` column all True) the default summary's
``heldout_behavior`` counts every trial and ``behavior`` is NaN ("every trial is held out"). A summary made with
``heldout=None`` declares nothing about which stimuli were trained on, so its ``behavior`` (every trial, trained
or not) is never read as ``heldout_behavior``, even where the trials were all new: the fit names
``heldout_behavior`` and how to measure it instead (:func:`neurolearn.fitting.estimands.stand_in_hint`). Mark
the new-stimulus trials (a trial column, True on every trial where all are new) and summarize with it, which
gives the same fraction correct and interval, declared. The model's spectra have 400 modes (as docs/theory.md's
reference table): ridgeless with label noise, the error diverges at ``P' = 400`` (the interpolation peak of a
400-mode kernel); use ``ridge > 0`` beyond that.

The theory is the error averaged over training sets, and one learner has one (nested) training set, so its
curve scatters about the theory's by an amount correlated across sessions that no recording's bootstrap
sees: the model declares that covariance (:attr:`neurolearn.theory.Model.learner_covariance`,
:func:`kernel_learning_curve_covariance`), which :func:`neurolearn.fit` adds to the statistics' covariance at
a pilot fit and refits with (:mod:`neurolearn.fitting.learner`).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas, lapack, solve_triangular

from neurolearn.errors import DataError, FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.kernel_regression import N_MODES, power_law_error_derivatives, power_law_generalization_error

__all__ = ["kernel_learning_curve_statistics", "kernel_learning_curve_jacobian", "learning_curve_covariance",
           "kernel_learning_curve_covariance", "learner_draws", "KERNEL_LEARNING_CURVE", "LEARNERS",
           "HELDOUT_BEHAVIOR"]

#: Learners simulated for the model's declared covariance (:func:`kernel_learning_curve_covariance`, read at each
#: call, so it may be set before a fit; the default of :func:`learning_curve_covariance`). Its cost is linear in
#: the count. Measured (benchmarks/bench_klc_recovery.py's design, 10-100 examples, against 3200 learners, 8
#: replicates): the learner variances' relative error is 0.24 / 0.15 / 0.10 RMS at 100 / 200 / 400 learners
#: (the errors are skewed: more than ``sqrt(2 / n)``), but the learner SD is 0.3-0.55 of the recording's SE, so
#: the total SD ``sqrt(se^2 + C_ii)`` the fit weights by is off by 2.2 % / 1.3 % / 0.9 % RMS (11 % / 5.6 % / 3.3 %
#: at worst); interval coverage of eigen_decay and target_decay over seeds 0-23 is 46/48 at each count. 200 keeps
#: the weights within a few per cent at half the cost of 400.
LEARNERS = 200

#: The observable linked to ``E_g``: performance on new stimuli (the registry's ``heldout_behavior``)
HELDOUT_BEHAVIOR = "heldout_behavior"


def kernel_learning_curve_statistics(time, eigen_decay, target_decay, noise, ridge, chance, ceiling) -> dict:
    """Observables of the ``"kernel-learning-curve"`` model at training amounts ``time`` (its ``function``).

    Examples
    --------
    >>> out = kernel_learning_curve_statistics(np.array([0.0, 80.0]), 1.5, 2.0, 0.0, 0.0, 0.5, 1.0)
    >>> np.round(out["generalization_error"], 4).tolist(), np.round(out["heldout_behavior"], 4).tolist()
    ([1.0, 0.0168], [0.5, 0.9916])
    """
    for name, value in (("eigen_decay", eigen_decay), ("target_decay", target_decay)):
        if not (np.isfinite(value) and value > 0):
            raise FitError(f"kernel-learning-curve model: expected {name} > 0, found {value!r}")
    n_train = np.clip(np.asarray(time, dtype=float), 0.0, None)
    try:
        error = power_law_generalization_error(n_train, eigen_decay, target_decay, noise=noise, ridge=ridge)
    except DataError as exc:
        raise FitError(f"kernel-learning-curve model: {exc}") from None
    explained = 1.0 - np.clip(error, 0.0, 1.0)
    return {"generalization_error": error, HELDOUT_BEHAVIOR: chance + (ceiling - chance) * explained}


def kernel_learning_curve_jacobian(time, eigen_decay, target_decay, noise, ridge, chance, ceiling) -> dict:
    """Derivatives of :func:`kernel_learning_curve_statistics` in ``time`` and every parameter (its ``jacobian``).

    The error's in closed form (:func:`neurolearn.theory.kernel_regression.power_law_error_derivatives`);
    ``P' = max(tau, 0)`` has slope 1 for ``tau > 0`` and 0 before; ``heldout_behavior``'s follow through the
    link, 0 where it is clipped (``E_g`` outside (0, 1)), with ``d/dchance = min(max(E_g, 0), 1)`` and
    ``d/dceiling`` one minus that.

    Examples
    --------
    >>> d = kernel_learning_curve_jacobian(np.array([0.0, 80.0]), 1.5, 2.0, 0.0, 0.0, 0.5, 1.0)
    >>> float(d["generalization_error"]["time"][0]), bool(d["heldout_behavior"]["time"][1] > 0)
    (0.0, True)
    """
    for name, value in (("eigen_decay", eigen_decay), ("target_decay", target_decay)):
        if not (np.isfinite(value) and value > 0):
            raise FitError(f"kernel-learning-curve model: expected {name} > 0, found {value!r}")
    tau = np.asarray(time, dtype=float)
    try:
        error, d = power_law_error_derivatives(np.clip(tau, 0.0, None), eigen_decay, target_decay, noise=noise,
                                               ridge=ridge)
    except DataError as exc:
        raise FitError(f"kernel-learning-curve model: {exc}") from None
    d["time"] = np.where(tau > 0, d.pop("n_train"), 0.0)
    inside = (error > 0.0) & (error < 1.0)
    link = np.where(inside, -(float(ceiling) - float(chance)), 0.0)
    explained = 1.0 - np.clip(error, 0.0, 1.0)
    zero = np.zeros(tau.shape)
    return {
        "generalization_error": {**d, "chance": zero, "ceiling": zero},
        HELDOUT_BEHAVIOR: {**{name: link * value for name, value in d.items()}, "chance": 1.0 - explained,
                           "ceiling": explained},
    }


def learning_curve_covariance(time, eigen_decay, target_decay, noise=0.0, ridge=0.0, *, n_learners=None,
                              n_modes=N_MODES, rng=0) -> np.ndarray:
    """Covariance over learners of one learner's generalisation errors at training amounts ``time``.

    The theory (:func:`kernel_learning_curve_statistics`) is the error *averaged over training sets*; one
    learner (an animal, or the readout fitted to a recording) has one training set, and where its sessions
    are points of one learning curve the sets are nested: the first ``P'`` examples of one stream. Its errors
    then scatter about the theory's mean by an amount correlated across sessions, which no measurement of
    that learner can resample (it is the learner's, not the recording's). This is that covariance, by direct
    simulation of the network the model reduces: Gaussian features ``z ~ N(0, I)`` of the model's power-law
    spectrum, ``n_learners`` independent streams, kernel (ridge) regression on the first ``round(P')``
    examples of each (label noise of variance ``noise``), the exact test error ``sum_k (w_k - w_hat_k)^2``.
    Behaviour, linked linearly to the error, has this covariance times ``(ceiling - chance)^2`` (the link's
    clip at 1 aside), and its covariance with the error is ``-(ceiling - chance)`` times it.

    Parameters
    ----------
    time : array_like, shape (n,)
        Training amounts ``P'`` (examples; rounded to whole examples, negative ones count as 0).
    eigen_decay, target_decay, noise, ridge : float
        The model's parameters of those names (``ridge`` relative to the training kernel's mean diagonal, as
        the model's and the readout estimator's).
    n_learners : int, optional
        Simulated learners (>= 2); :data:`LEARNERS` by default.
    n_modes : int
        Modes of the power-law spectra (the model's 400 by default).
    rng : int or numpy.random.Generator
        Seed of the simulation (the result is deterministic given an int). Learner ``i``'s draws are
        :func:`learner_draws` ``(rng, i, ...)``: the same learners at every parameter value and design (a
        covariance on a subset of the training amounts is the corresponding block of the full one).

    Returns
    -------
    numpy.ndarray, shape (len(time), len(time))
        Zero rows and columns where ``P' < 1`` (no data: the error is exactly 1). Estimated from
        ``n_learners`` draws: its relative error is about ``sqrt(2 / n_learners)``.

    Examples
    --------
    >>> cov = learning_curve_covariance([0.0, 40.0, 60.0], 1.5, 2.0, n_learners=200)
    >>> sd = np.sqrt(np.diag(cov)); bool(sd[0] == 0 and sd[1] > sd[2] > 0)
    True
    >>> bool(0.3 < cov[1, 2] / (sd[1] * sd[2]) < 1.0)  # nested training sets: positively correlated
    True
    """
    time = np.asarray(time, dtype=float)
    if time.ndim != 1 or not np.all(np.isfinite(time)):
        raise DataError(f"learning_curve_covariance: expected a 1-D array of finite training amounts, found {time!r}")
    values = {"eigen_decay": eigen_decay, "target_decay": target_decay}
    if not all(np.isfinite(v) and v > 0 for v in values.values()):
        raise DataError(f"learning_curve_covariance: expected eigen_decay > 0 and target_decay > 0, found {values}")
    if not (np.isfinite(noise) and noise >= 0 and np.isfinite(ridge) and ridge >= 0):
        raise DataError(f"learning_curve_covariance: expected noise >= 0 and ridge >= 0, found {noise!r}, {ridge!r}")
    n_learners = LEARNERS if n_learners is None else n_learners
    if int(n_learners) < 2 or int(n_modes) < 1:
        raise DataError(f"learning_curve_covariance: expected n_learners >= 2 and n_modes >= 1, found "
                        f"{n_learners!r}, {n_modes!r}")
    n_train = np.rint(np.clip(time, 0.0, None)).astype(int)
    k = np.arange(1, int(n_modes) + 1, dtype=float)
    eta = k**-float(eigen_decay)
    eta /= eta.sum()
    weights = k ** (-0.5 * float(target_decay))
    weights /= np.linalg.norm(weights)
    entropy = _entropy(rng)
    largest = int(n_train.max(initial=0))
    # each distinct training amount is solved once (repeated ones have the same error)
    counts, inverse = np.unique(n_train, return_inverse=True)
    errors = np.zeros((int(n_learners), counts.size))
    root = np.sqrt(eta)
    for learner in range(int(n_learners)):
        stream, label_noise = learner_draws(entropy, learner, largest, eta.size)
        labels = stream @ weights + np.sqrt(noise) * label_noise
        errors[learner] = _learner_errors(stream, labels, eta, root, weights, counts, ridge)
    covariance = np.cov(errors[:, inverse.ravel()], rowvar=False).reshape(n_train.size, n_train.size)
    covariance[n_train == 0, :] = 0.0
    covariance[:, n_train == 0] = 0.0
    return covariance


def _entropy(rng) -> int:
    """The seed's entropy: an int as given, or one drawn from a :class:`numpy.random.Generator`."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and int(rng) >= 0:
        return int(rng)
    raise DataError(f"learning_curve_covariance: expected rng a non-negative int or a numpy Generator, found {rng!r}")


def learner_draws(entropy, learner, size, n_modes):
    """Simulated learner ``learner``'s first ``size`` examples: features ``(size, n_modes)`` and label noise.

    Every learner has two fixed streams of its own, ``SeedSequence(entropy, spawn_key=(learner, 0))`` for the
    features (example-major, so the first ``n`` examples are the same whatever ``size >= n`` is asked for) and
    ``spawn_key=(learner, 1)`` for the label noise. The draws therefore depend neither on the parameters nor on
    the largest training amount: covariances evaluated at different parameters or designs use the same learners
    (common random numbers), which makes the covariance a smooth function of the parameters.

    Examples
    --------
    >>> z, e = learner_draws(0, 3, 5, 4)
    >>> z2, e2 = learner_draws(0, 3, 9, 4)
    >>> bool(np.array_equal(z, z2[:5]) and np.array_equal(e, e2[:5]))
    True
    """
    features = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(int(learner), 0)))
    label = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(int(learner), 1)))
    return features.standard_normal((int(size), int(n_modes))), label.standard_normal(int(size))


def _learner_errors(stream, labels, eta, root, weights, counts, ridge):
    """One learner's exact test errors at the sorted distinct training amounts ``counts`` (nested sets).

    Every session's kernel is a leading block of the largest one's, ``K = Z D Z^T`` (only its lower triangle
    is formed). With a ridge, see :func:`_ridge_duals`; ridgeless, see :func:`_ridgeless_duals`. The fitted
    weights of all sessions come from one product with the stream.
    """
    largest = stream.shape[0]
    duals = np.zeros((largest, counts.size))
    if largest:
        scaled = stream * root
        lower = blas.dsyrk(1.0, scaled, lower=1)  # lower triangle of the kernel Z D Z^T (Fortran order)
        if ridge > 0:
            duals = _ridge_duals(lower, labels, counts, ridge)
        else:
            duals = _ridgeless_duals(lower, scaled, labels, counts)
    fitted = eta[:, None] * (stream.T @ duals)
    return np.sum((weights[:, None] - fitted) ** 2, axis=0)


def _ridgeless_duals(lower, scaled, labels, counts):
    """Dual coefficients of the minimum-norm interpolant ``K_n^+ y_n`` of every session (columns).

    ``scaled`` is the stream in the scaled features ``X = Z D^(1/2)`` (``K = X X^T``). The solver is chosen per
    session. A kernel of ``n <= n_modes`` examples is positive definite (almost surely), and the leading blocks
    of a Cholesky factor are the factors of the leading blocks: one factorisation of the block of
    ``m = min(largest, n_modes)`` examples, then two triangular solves per session of at most ``m`` examples.
    Past the modes ``K_n`` is singular (rank ``n_modes``) and ``X_n`` has full column rank, so the interpolant's
    weights are least squares in the features, ``X_n^+ y_n = G_n^-1 X_n^T y_n`` with ``G_n = X_n^T X_n``
    (its nonzero spectrum is ``K_n``'s: the same conditioning), and its duals ``X_n G_n^-2 X_n^T y_n``
    (``X_n^T`` of them is that solution). ``G_n`` grows by the new examples' products from one session to the
    next. Should a block not factorise numerically, the session is solved by ``lstsq`` on its kernel block.
    """
    largest, n_modes = lower.shape[0], scaled.shape[1]
    duals = np.zeros((largest, counts.size))
    size = min(largest, n_modes)
    factor = None
    while size > 0:
        factor, info = lapack.dpotrf(lower[:size, :size], lower=1, clean=1)
        if info == 0:
            break
        size, factor = int(info) - 1, None
    full, gram, done = None, np.zeros((n_modes, n_modes), order="F"), 0
    for column, count in enumerate(counts):
        if count == 0:
            continue
        y = labels[:count]
        if factor is not None and count <= size:
            block = factor[:count, :count]
            duals[:count, column] = solve_triangular(block, solve_triangular(block, y, lower=True,
                                                                             check_finite=False),
                                                     lower=True, trans="T", check_finite=False)
            continue
        own = None
        if count > n_modes:
            gram = blas.dsyrk(1.0, scaled[done:count], trans=1, beta=1.0, c=gram, lower=1, overwrite_c=1)
            done = count
            own, info = lapack.dpotrf(gram, lower=1, clean=1)
            own = own if info == 0 else None
        if own is not None:
            x = scaled[:count]
            twice = lapack.dpotrs(own, lapack.dpotrs(own, x.T @ y, lower=1)[0], lower=1)[0]
            duals[:count, column] = x @ twice
        else:  # not numerically of full rank: the minimum-norm interpolant by least squares
            if full is None:
                full = np.tril(lower) + np.tril(lower, -1).T
            duals[:count, column] = np.linalg.lstsq(full[:count, :count], y, rcond=None)[0]
    return duals


# The ridge's block solves: sessions per block of conjugate-gradient columns, the accepted size of a column's
# preconditioned residual (its remaining error) relative to its solution, and the iterations before a column is
# solved directly instead
_BLOCK_COLUMNS = 8
_CG_TOLERANCE = 1e-13
_CG_ITERATIONS = 30


def _ridge_duals(lower, labels, counts, ridge):
    """Dual coefficients ``(K_n + lambda_n I)^-1 y_n`` of every session (columns; zero rows past ``n``).

    The ridge is relative to each block's mean diagonal, ``lambda_n = ridge tr(K_n) / n`` (~ sum eta = 1, as the
    readout estimator's and the model's), so the shifted blocks are not nested and each would need its own
    factorisation. Instead the largest block shifted by the largest session's ``lambda`` is factorised once;
    its leading blocks are the Cholesky factors of ``K_n + lambda_N I``, which differ from the sessions' systems
    by ``(lambda_n - lambda_N) I`` only (a few per cent: a mean over ``n`` examples), so preconditioned conjugate
    gradients, run on blocks of sessions at once, reach a remaining error of ``_CG_TOLERANCE`` of the solution
    in a few (3-12) iterations. A column that does not converge is solved by its own Cholesky factorisation.
    """
    largest = lower.shape[0]
    duals = np.zeros((largest, counts.size))
    positive = np.flatnonzero(counts > 0)
    if positive.size == 0:
        return duals
    trace = np.cumsum(np.diagonal(lower))
    shifts = ridge * trace[counts[positive] - 1] / counts[positive]
    reference = np.array(lower, order="F")
    reference.reshape(-1, order="F")[::largest + 1] += shifts[-1]
    factor, info = lapack.dpotrf(reference, lower=1, clean=0, overwrite_a=1)
    unsolved = positive if info != 0 else []
    if info == 0:
        unsolved = []
        for start in range(0, positive.size, _BLOCK_COLUMNS):
            columns = positive[start:start + _BLOCK_COLUMNS]
            size = int(counts[columns].max())
            block, converged = _block_cg(lower[:size, :size], factor[:size, :size], labels[:size],
                                         counts[columns], shifts[start:start + _BLOCK_COLUMNS])
            duals[:size, columns] = block
            unsolved.extend(columns[~converged])
    for column in unsolved:
        count = int(counts[column])
        shifted = np.array(lower[:count, :count], order="F")
        shifted.reshape(-1, order="F")[::count + 1] += ridge * trace[count - 1] / count
        own, info = lapack.dpotrf(shifted, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            duals[:count, column] = lapack.dpotrs(own, labels[:count], lower=1)[0]
        else:  # not numerically positive definite (round-off of a tiny ridge)
            kernel = np.tril(lower[:count, :count]) + np.tril(lower[:count, :count], -1).T
            duals[:count, column] = np.linalg.solve(kernel + ridge * trace[count - 1] / count * np.eye(count),
                                                    labels[:count])
    return duals


def _block_cg(kernel, factor, labels, counts, shifts):
    """Preconditioned conjugate gradients for ``(K_n + shift_n I) x_n = y_n``, one column per session.

    ``kernel`` (lower triangle) and ``factor`` are leading blocks; column ``s`` lives on the first ``counts[s]``
    rows (zero below), where the factor's leading block is the preconditioner's Cholesky factor (a forward solve
    restricted to those rows, then a backward one from them, which leaves the rows below at zero).
    """
    kernel, factor = np.asfortranarray(kernel), np.asfortranarray(factor)
    mask = (np.arange(kernel.shape[0])[:, None] < counts[None, :]).astype(float)

    def precondition(r):
        z = blas.dtrsm(1.0, factor, r, lower=1) * mask
        return blas.dtrsm(1.0, factor, z, lower=1, trans_a=1) * mask

    def apply(v):
        return blas.dsymm(1.0, kernel, v, lower=1) * mask + v * shifts

    y = np.asfortranarray(labels[:, None] * mask)
    x = precondition(y)
    r = y - apply(x)
    z = precondition(r)
    direction = z.copy()
    rz = np.sum(r * z, axis=0)
    active = np.ones(counts.size, dtype=bool)
    converged = np.zeros(counts.size, dtype=bool)
    for _ in range(_CG_ITERATIONS):
        q = apply(direction)
        curvature = np.sum(direction * q, axis=0)
        active &= curvature > 0
        step = np.where(active, rz / np.where(active, curvature, 1.0), 0.0)
        x += step * direction
        r -= step * q
        z = precondition(r)
        done = np.sqrt(np.sum(z * z, axis=0)) <= _CG_TOLERANCE * np.sqrt(np.sum(x * x, axis=0))
        converged |= active & done
        active &= ~done
        if not active.any():
            break
        rz_new = np.sum(r * z, axis=0)
        direction = z + np.where(active, rz_new / np.where(active, rz, 1.0), 0.0) * direction
        rz = rz_new
    return x, converged & np.isfinite(x).all(axis=0)


def kernel_learning_curve_covariance(time, eigen_decay, target_decay, noise, ridge, chance, ceiling) -> np.ndarray:
    """The model's learner covariance (its :attr:`~neurolearn.theory.Model.learner_covariance`).

    One learner's ``generalization_error`` at training amounts ``time`` has the covariance ``C`` of
    :func:`learning_curve_covariance` (:data:`LEARNERS` simulated learners, seed 0, so deterministic given the
    parameters); ``heldout_behavior``, linked to it by ``chance + (ceiling - chance)(1 - min(E_g, 1))``, has
    ``d_i d_j C_ij`` and its covariance with the error is ``d_j C_ij``, ``d = -(ceiling - chance)`` where the
    mean error is below 1 and 0 where the link is clipped.

    Returns
    -------
    numpy.ndarray, shape (2 n, 2 n)
        Observable-major over ``("generalization_error", "heldout_behavior")``, ``n = len(time)``.

    Raises
    ------
    FitError
        Parameters the simulation cannot use (``eigen_decay`` or ``target_decay`` not > 0, negative noise).

    Examples
    --------
    >>> cov = kernel_learning_curve_covariance(np.array([20.0, 40.0]), 1.5, 2.0, 0.0, 0.0, 0.5, 1.0)
    >>> bool(np.allclose(cov[2:, 2:], 0.25 * cov[:2, :2]) and np.allclose(cov[:2, 2:], -0.5 * cov[:2, :2]))
    True
    """
    time = np.clip(np.asarray(time, dtype=float), 0.0, None)
    try:
        error = learning_curve_covariance(time, eigen_decay, target_decay, noise=noise, ridge=ridge,
                                          n_learners=LEARNERS, rng=0)
        mean = power_law_generalization_error(time, eigen_decay, target_decay, noise=noise, ridge=ridge)
    except DataError as exc:
        raise FitError(f"kernel-learning-curve model's learner covariance: {exc}") from None
    slope = np.where(mean < 1.0, -(float(ceiling) - float(chance)), 0.0)
    return np.block([[error, error * slope[None, :]],
                     [error * slope[:, None], error * np.outer(slope, slope)]])


KERNEL_LEARNING_CURVE = Model(
    name="kernel-learning-curve",
    description=(
        "A fixed representation read out by kernel (ridge) regression from a growing number of training "
        "examples. The spectrum's decay (eigen_decay) and how fast the target's power falls across its "
        "eigenmodes (target_decay) set how quickly generalisation error falls with training; behaviour on "
        "new stimuli follows the explained target variance. Signature in data: behaviour improves while the "
        "representation (kernel) stays fixed."
    ),
    formula=(
        "P' = max(tau, 0) training examples; eta_k ~ k^-eigen_decay, v_k^2 ~ k^-target_decay "
        "(k = 1..400, sum eta = sum v^2 = 1); kappa = ridge + kappa sum eta/(P' eta + kappa); "
        "gamma = sum P' eta^2/(P' eta + kappa)^2; "
        "generalization_error = [sum v^2 kappa^2/(P' eta + kappa)^2 + noise gamma]/(1 - gamma); "
        "heldout_behavior = chance + (ceiling - chance)(1 - min(generalization_error, 1)) (performance on new "
        "stimuli)"
    ),
    reference=(
        "Bordelon, Canatar & Pehlevan 2020 (spectrum dependent learning curves in kernel regression); "
        "Canatar, Bordelon & Pehlevan 2021 (spectral bias and task-model alignment)"
    ),
    parameters=(
        Parameter("eigen_decay", 1.5, (0.5, 4.0),
                  "power-law exponent of the kernel eigenvalues eta_k ~ k^-a"),
        Parameter("target_decay", 2.0, (0.5, 6.0),
                  "power-law exponent of the target power across eigenmodes v_k^2 ~ k^-r"),
        Parameter("noise", 0.0, (0.0, 1.0), "label-noise variance, as a fraction of the target variance",
                  natural=(True, False)),
        Parameter("ridge", 0.0, (0.0, 0.1), "ridge of the readout, relative to the kernel's trace",
                  identifiable=False, natural=(True, False)),
        Parameter("chance", 0.5, (0.0, 1.0), "behaviour before learning (fraction correct at chance)",
                  natural=(True, True)),
        Parameter("ceiling", 1.0, (0.0, 1.0),
                  "behaviour with zero generalisation error (fraction correct)", natural=(True, True)),
    ),
    observables=("generalization_error", HELDOUT_BEHAVIOR),
    function=kernel_learning_curve_statistics,
    time_unit=f"training examples P' (the fitter's time_scale is examples per session); {N_MODES} modes",
    time_span=100.0,
    simulator="neurolearn.simulate.two_layer.simulate_readout_learning_sessions",
    jacobian=kernel_learning_curve_jacobian,
    learner_covariance=kernel_learning_curve_covariance,
    # the error of kernel regression from the representation: a readout trained on the training stimuli
    measured_as=(("generalization_error", "generalization_method", "readout",
                  "summarize(..., generalization='readout'), the default"),),
)
