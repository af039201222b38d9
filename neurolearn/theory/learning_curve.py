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

from neurolearn.errors import DataError, FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.kernel_regression import N_MODES, power_law_error_derivatives, power_law_generalization_error
from neurolearn.theory.learning_curve_solvers import _learner_errors

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

    Notes
    -----
    A fit evaluates the same covariances again (its profile intervals refit from the same pilot and stages), so
    the last :data:`_COVARIANCE_CACHE` results are kept by all of their inputs (the whole training amounts, the
    four parameters, ``n_learners``, ``n_modes`` and the seed's entropy) and returned as copies; and the learners'
    draws, which depend on none of the parameters, are kept between calls while they take at most
    ``_DRAW_CACHE_BYTES`` (:func:`_learner_streams`). Both give the values computed afresh, exactly.

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
    entropy = _entropy(rng)
    key = (n_train.tobytes(), float(eigen_decay), float(target_decay), float(noise), float(ridge), int(n_learners),
           int(n_modes), entropy)
    if key not in _COVARIANCES:
        _COVARIANCES[key] = _simulated_covariance(n_train, eigen_decay, target_decay, noise, ridge, int(n_learners),
                                                  int(n_modes), entropy)
        while len(_COVARIANCES) > _COVARIANCE_CACHE:
            _COVARIANCES.pop(next(iter(_COVARIANCES)))
    return _COVARIANCES[key].copy()


#: The last few covariances of :func:`learning_curve_covariance`, by all of its inputs (a fit evaluates the same
#: ones again: its profile intervals refit from the same pilot); the number kept
_COVARIANCES: dict = {}
_COVARIANCE_CACHE = 8


def _simulated_covariance(n_train, eigen_decay, target_decay, noise, ridge, n_learners, n_modes, entropy):
    """:func:`learning_curve_covariance` at whole training amounts ``n_train``, computed (not from its cache)."""
    k = np.arange(1, int(n_modes) + 1, dtype=float)
    eta = k**-float(eigen_decay)
    eta /= eta.sum()
    weights = k ** (-0.5 * float(target_decay))
    weights /= np.linalg.norm(weights)
    largest = int(n_train.max(initial=0))
    # each distinct training amount is solved once (repeated ones have the same error)
    counts, inverse = np.unique(n_train, return_inverse=True)
    errors = np.zeros((int(n_learners), counts.size))
    root = np.sqrt(eta)
    for learner, (stream, label_noise) in enumerate(_learner_streams(entropy, n_learners, largest, eta.size)):
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


#: Learners' draws kept between calls of :func:`learning_curve_covariance` (they depend on neither the parameters
#: nor the design, only on the seed, the modes and the largest training amount, and drawing them is a sixth of a
#: call's time): ``key`` is ``(entropy, n_modes)``, ``draws`` each learner's at the largest size drawn so far, kept
#: while all learners' bytes stay under ``_DRAW_CACHE_BYTES`` (larger draws are made at each call, not kept)
_DRAWS: dict = {"key": None, "draws": {}}
_DRAW_CACHE_BYTES = 512 * 2**20


def _learner_streams(entropy, n_learners, size, n_modes):
    """Every learner's :func:`learner_draws` ``(entropy, learner, size, n_modes)``, from the kept draws if any.

    The streams are example-major, so the first ``size`` rows of a larger draw are the same numbers.
    """
    if n_learners * size * (n_modes + 1) * 8 > _DRAW_CACHE_BYTES:
        return [learner_draws(entropy, learner, size, n_modes) for learner in range(n_learners)]
    if _DRAWS["key"] != (entropy, n_modes):
        _DRAWS["key"], _DRAWS["draws"] = (entropy, n_modes), {}
    kept = _DRAWS["draws"]
    streams = []
    for learner in range(n_learners):
        if learner not in kept or kept[learner][0].shape[0] < size:
            kept[learner] = learner_draws(entropy, learner, size, n_modes)
        features, label_noise = kept[learner]
        streams.append((features[:size], label_noise[:size]))
    if len(kept) * max(f.shape[0] for f, _ in kept.values()) * (n_modes + 1) * 8 > _DRAW_CACHE_BYTES:
        _DRAWS["key"], _DRAWS["draws"] = None, {}  # more learners than fit: keep none
    return streams


def _clear_caches():
    """Forget the kept covariances and draws (tests that patch the solvers call it)."""
    _COVARIANCES.clear()
    _DRAWS["key"], _DRAWS["draws"] = None, {}


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
