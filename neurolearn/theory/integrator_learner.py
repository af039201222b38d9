"""The integrator model's learner covariance: one finite-width network's scatter about the reduced course.

:mod:`neurolearn.theory.integrator` is the course of an integrating RNN in the limit of many units. One
recorded network has ``N`` units, and its course differs from seed to seed (its realised bulk ``W0 = g G /
sqrt(N)``, the overlap ``u.v ~ |u||v| / sqrt(N)``, the unequal norms of ``u`` and ``v``): at the bundled
example's settings (30 units) the outlier eigenvalue's SD over seeds is 0.05 mid-rise and 0.003-0.005 late,
correlated across sessions (0.87-0.97 between the last four), ten times the SE of a recording's dynamics fit
(2e-4 to 4e-4 late). That scatter is what :mod:`neurolearn.fitting.learner` adds to the statistics'
covariance (the model's :attr:`~neurolearn.theory.Model.learner_covariance`).

It is estimated by direct simulation: :data:`LEARNERS` networks of :data:`WIDTH` units at the model's
parameters (``readout_scale = sqrt(readout_gain)``, ``init_scale = bulk``), each trained by full gradient
descent on the impulse-response loss as :func:`neurolearn.simulate.rnn.train_integrator` trains one (the same
draws, the same gradient: learner ``i`` *is* ``train_integrator(..., rng=learner_rng(i))`` to rounding), all
at once as one batch. The learners' draws are fixed, so the covariance is a deterministic function of the
parameters; it is memoised on rounded parameters and times (~1.3 s a call at 60 learners; a fit makes two:
the bundled example's fit takes 7.2 s instead of 3.9).

The fitted parameters are effective -- the model absorbs the bulk's speed-up of learning in ``readout_gain``
and the time scale (the bundled example fits gain 2.3-2.8 for a network of 4) -- so learners trained at them
run ahead of the model (0.015 in the eigenvalue mid-rise at the bundled fit, 0.003 late), and read at the
model's times their scatter is that of another stage of learning. :func:`aligned_learners` reads them instead
where their mean ``log`` normalised loss equals the model's, a quantity that falls over the whole course
(also while the eigenvalue is in the bulk). Measured on the bundled example (``data/integration``, the demo's
fit; 100 learners): learner covariance read at the model's times, rho* 0.9038 [0.9011, 0.9062], chi2 27.1 on
12 dof; aligned, 0.9007 [0.8975, 0.9040], chi2 23.3 (60 learners: 0.8998 [0.8965, 0.9033], chi2 24.6); the
same network's settings simulated directly (gain 4, bulk 0.1, its own steps; not available to a fit), 0.9009
[0.8981, 0.9047], chi2 9.5. The remaining gap is the effective gain's: at equal stage of learning the late SD
at gain 2.8 is ~0.75 of that at 4 (``benchmarks/bench_integrator_fidelity.py --recovery``: coverage of rho*
over new networks 0.83-0.85, the networks' own covariance 0.89).

The learners are trained at :func:`learning_rate`, half the bundled example's 0.006: at 0.006 a quarter of
30-unit networks at its settings leave the gradient flow late (the loss jumps up), which the model does not
describe, and their jumps would dominate the late scatter (SD 0.016 against 0.003); at 0.003 none of 100 does
(at 0.004, 3). ``behavior`` is ``1 - loss / L0`` (``L0`` the zero network's loss over the simulator's horizon;
clipped to [0, 1] as the model's), ``outlier_eigenvalue`` the largest ``|eig W|`` (the bulk floors it by
itself), ``timescale = -dt / log`` of it.

The width is not a model parameter (the observables do not depend on it and a fit could not pin it): it is
:data:`WIDTH`, read at each call; set it before fitting networks of another width.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from neurolearn.errors import FitError

__all__ = ["LEARNERS", "WIDTH", "learner_rng", "learning_rate", "simulate_learners", "aligned_learners",
           "integrator_covariance"]

#: Units of the recorded network (the bundled example's 30); read at each call.
WIDTH = 30
#: Simulated networks per covariance (relative error of a variance ~ sqrt(2 / LEARNERS)); read at each call.
#: The cost is linear in it. Measured over 40 new networks at the bundled example's settings: coverage of rho*
#: 0.85 +- 0.06 at 60, 0.80 +- 0.06 at 100 (the same networks); 400 narrow the intervals, not widen them.
LEARNERS = 60
#: The learners' learning rate where gradient descent follows the flow (module docstring)
_LEARNING_RATE = 0.003
# lr x the loss Hessian's largest eigenvalue grows like gain (1 - rho*^2)^-3 late in training: the learning
# rate is capped at _STABILITY (1 - rho*^2)^3 / gain (rho* 0.95 at gain 4 breaks at lr 0.0026, works at
# 0.0013; the cap there is 0.00056, half the 2-unit network's limit, as at 0.9)
_STABILITY = 2.4
# the learners are trained for at most _REACH x the latest time asked for to reach the model's course
_REACH = 1.5
# a batch whose loss turns non-finite or exceeds _DIVERGED x the zero network's has left gradient descent's
# stable range (a fit's search can ask for gains far above the cap's calibration, e.g. rho* 0.83 at gain 26:
# lr 0.0026 overflows); aligned_learners then retrains at half the rate, at most _RETRIES times
_DIVERGED = 1e6
_RETRIES = 6
_CACHE: dict = {}
_CACHE_LIMIT = 64


def learner_rng(i: int, entropy: int = 0) -> np.random.Generator:
    """Simulated learner ``i``'s generator: ``train_integrator(..., rng=learner_rng(i))`` is that learner."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(int(i),)))


def learning_rate(rho_star: float, readout_gain: float) -> float:
    """The learners' learning rate: 0.003, or lower where gradient descent would leave the flow late.

    Examples
    --------
    >>> learning_rate(0.9, 4.0), round(learning_rate(0.95, 4.0), 5)
    (0.003, 0.00056)
    """
    return min(_LEARNING_RATE, _STABILITY * (1.0 - rho_star**2) ** 3 / max(readout_gain, 1e-12))


def simulate_learners(tau, rho_star, readout_gain, bulk, *, width=None, n_learners=None, rate=None,
                      entropy: int = 0):
    """Behaviour (``1 - loss / L0``) and outlier eigenvalue of ``n_learners`` networks at model times ``tau``.

    Parameters
    ----------
    tau : array_like
        Model times (learning rate x steps); negative times are the initial networks.
    rho_star, readout_gain, bulk : float
        The model's parameters (``readout_scale = sqrt(readout_gain)``, ``init_scale = bulk``).
    width, n_learners : int, optional
        Units per network and networks (default :data:`WIDTH`, :data:`LEARNERS`).
    rate : float, optional
        Learning rate (default :func:`learning_rate`).
    entropy : int
        Seed of the learners' draws (:func:`learner_rng`).

    Returns
    -------
    behavior, outlier : ndarray, shape (n_learners, len(tau))

    Examples
    --------
    >>> beh, lam = simulate_learners([0.0, 1.2], 0.9, 4.0, 0.1, width=10, n_learners=3)
    >>> beh.shape, bool(np.all(lam[:, 1] > 0.7))
    ((3, 2), True)
    """
    lr = learning_rate(float(rho_star), float(readout_gain)) if rate is None else float(rate)
    tau = np.asarray(tau, dtype=float)
    position = np.clip(tau, 0.0, None).ravel() / lr
    below = np.floor(position).astype(int)
    try:
        steps, loss, outlier, initial = _train(rho_star, readout_gain, bulk, width, n_learners, lr, entropy,
                                               np.union1d(below, below + 1))
    except _Diverged as error:
        raise FitError(f"integrator learners: gradient descent diverges ({error})") from None
    column = {s: k for k, s in enumerate(steps.tolist())}
    lo, hi = [column[s] for s in below], [column[s] for s in below + 1]
    fraction = position - below
    loss = (1.0 - fraction) * loss[:, lo] + fraction * loss[:, hi]
    outlier = (1.0 - fraction) * outlier[:, lo] + fraction * outlier[:, hi]
    shape = (loss.shape[0], *tau.shape)
    return np.clip(1.0 - loss / initial, 0.0, 1.0).reshape(shape), outlier.reshape(shape)


class _Diverged(ArithmeticError):
    """The learners' gradient descent left its stable range (loss non-finite or > _DIVERGED x L0)."""


def _checked(rho_star, readout_gain, bulk, width, n_learners):
    width = WIDTH if width is None else int(width)
    n_learners = LEARNERS if n_learners is None else int(n_learners)
    rho, gain, g = float(rho_star), float(readout_gain), float(bulk)
    if not (0.0 < rho < 1.0 and gain > 0.0 and g >= 0.0 and width >= 1 and n_learners >= 1):
        raise FitError(f"integrator learner covariance: expected 0 < rho_star < 1, readout_gain > 0, "
                       f"bulk >= 0, width and learners >= 1, found {rho}, {gain}, {g}, {width}, {n_learners}")
    return width, n_learners, rho, gain, g


def _train(rho_star, readout_gain, bulk, width, n_learners, lr, entropy, targets, last=None):
    """Train the learners by full gradient descent and read them at ``targets``.

    ``targets`` is either an int array of steps (``last`` None: returns ``(steps, loss, outlier,
    initial_loss)`` at those steps, arrays ``(n_learners, len(steps))``), or an array of targets of the
    learners' mean ``log`` normalised loss (``inf``: the initial networks), read where the mean first reaches
    each, interpolated between the two steps around it, training at most ``last`` steps (returns
    ``(behavior, outlier)``, arrays ``(n_learners, len(targets))``).
    """
    width, n_learners, rho, gain, g = _checked(rho_star, readout_gain, bulk, width, n_learners)
    horizon = int(np.ceil(np.log(1e-4) / np.log(rho)))
    target = rho ** np.arange(horizon)
    initial_loss = 0.5 * float(target @ target)
    scale = math.sqrt(gain)
    W = np.empty((n_learners, width, width))
    u = np.empty((n_learners, width, 1))
    v = np.empty((n_learners, width, 1))
    for i in range(n_learners):
        # train_integrator's draws, in its order
        rng = learner_rng(i, entropy)
        W[i] = g * rng.standard_normal((width, width)) / math.sqrt(width)
        u[i, :, 0] = scale * rng.standard_normal(width) / math.sqrt(width)
        v[i, :, 0] = scale * rng.standard_normal(width) / math.sqrt(width)
    aligned = last is not None
    if aligned:
        goals = np.asarray(targets, dtype=float)
        behavior = np.empty((n_learners, goals.size))
        outlier = np.empty((n_learners, goals.size))
        open_ = np.ones(goals.size, dtype=bool)
        previous = None
    else:
        wanted = set(np.asarray(targets, dtype=int).tolist())
        last = max(wanted)
        steps, losses, outliers = [], [], []
    # e_{n+k} (0 past the horizon) as a (horizon, horizon) Hankel view: delta_n = sum_k e_{n+k} W'^k v
    padded = np.zeros((n_learners, 2 * horizon - 1))
    hankel = sliding_window_view(padded, horizon, axis=1)
    for step in range(last + 1):
        # h_n = W^n u, y_n = v.h_n, e_n = y_n - rho^n; delta_n = dL/dh_n = e_n v + W' delta_{n+1}
        h, q = _krylov(W, u, v, horizon)
        error = (np.swapaxes(v, 1, 2) @ h)[:, 0, :] - target
        loss = 0.5 * np.sum(error**2, axis=1)
        if not np.all(loss <= _DIVERGED * initial_loss):  # also catches NaN
            raise _Diverged(f"learning rate {lr:g}, step {step}")
        if aligned:
            course = float(np.mean(np.log(np.maximum(loss, 1e-300) / initial_loss)))
            reached = open_ & ((goals >= course) | (step == last))
            if reached.any():
                radius = np.abs(np.linalg.eigvals(W)).max(axis=1)
                if previous is None:
                    fraction = np.ones(goals.size)
                else:
                    old_course, old_loss, old_W = previous
                    fraction = np.clip((old_course - goals) / max(old_course - course, 1e-300), 0.0, 1.0)
                    old_radius = np.abs(np.linalg.eigvals(old_W)).max(axis=1)
                for j in np.flatnonzero(reached):
                    mix = loss if previous is None else (1 - fraction[j]) * old_loss + fraction[j] * loss
                    lam = (radius if previous is None
                           else (1 - fraction[j]) * old_radius + fraction[j] * radius)
                    behavior[:, j] = np.clip(1.0 - mix / initial_loss, 0.0, 1.0)
                    outlier[:, j] = lam
                open_ &= ~reached
                if not open_.any():
                    return behavior, outlier
            previous = (course, loss, W.copy())
        elif step in wanted:
            steps.append(step)
            losses.append(loss)
            outliers.append(np.abs(np.linalg.eigvals(W)).max(axis=1))
        if step == last:
            break
        padded[:, :horizon] = error
        delta = q @ hankel
        W -= lr * (delta[:, :, 1:] @ np.swapaxes(h[:, :, :-1], 1, 2))
        u -= lr * delta[:, :, :1]
        v -= lr * (h @ error[:, :, None])
    if aligned:
        return behavior, outlier
    return np.array(steps), np.stack(losses, axis=1), np.stack(outliers, axis=1), initial_loss


def _krylov(W, u, v, length):
    """``[u, W u, ..., W^(length-1) u]`` and ``[v, W' v, ...]`` for a batch, each ``(batch, N, length)``, by
    doubling (``W'``'s powers are ``W``'s transposed)."""
    forward = np.empty((*u.shape[:2], length))
    backward = np.empty((*v.shape[:2], length))
    forward[:, :, :1] = u
    backward[:, :, :1] = v
    filled, power = 1, W
    while filled < length:
        more = min(filled, length - filled)
        forward[:, :, filled:filled + more] = power @ forward[:, :, :more]
        backward[:, :, filled:filled + more] = np.swapaxes(power, 1, 2) @ backward[:, :, :more]
        filled += more
        if filled < length:
            power = power @ power
    return forward, backward


def aligned_learners(time, rho_star, readout_gain, bulk, *, model_loss, width=None, n_learners=None,
                     entropy: int = 0):
    """The learners at the points of their course where the model is at ``time``: behaviour and outlier.

    ``model_loss(time, rho_star, readout_gain, bulk)`` is the reduced model's normalised loss at ``time``
    (:mod:`neurolearn.theory.integrator` passes its own; taken as an argument so that this module does not
    import the model it serves).

    The learners are trained at the model's parameters, but those are effective (a fit absorbs the bulk's
    speed-up of learning in ``readout_gain`` and the time scale), so the network at them runs ahead of the
    model (at the bundled example's fit by ~0.015 in the eigenvalue mid-rise, 0.003 late). Each time is
    therefore read where the learners' mean ``log`` normalised loss equals the model's (a quantity that falls
    monotonically over the whole course, also while the eigenvalue is still in the bulk), interpolated between
    the two gradient steps around it; a time the learners do not reach within :data:`_REACH` times the latest
    time asked for is read at the last step. Learners whose gradient descent diverges (a fit's search can ask
    for gains far above where :func:`learning_rate`'s cap was measured) are retrained at half the rate.

    Returns
    -------
    behavior, outlier : ndarray, shape (n_learners, len(time))
    """
    t = np.asarray(time, dtype=float).ravel()
    _, _, rho, gain, _ = _checked(rho_star, readout_gain, bulk, width, n_learners)
    predicted = np.asarray(model_loss(t, rho, gain, float(bulk)), dtype=float)
    target = np.where(t <= 0.0, np.inf, np.log(np.clip(predicted, 1e-12, None)))
    lr = learning_rate(rho, gain)
    for _ in range(_RETRIES + 1):
        last = int(math.ceil(_REACH * max(float(t.max(initial=0.0)), 0.01) / lr))
        try:
            return _train(rho, gain, bulk, width, n_learners, lr, entropy, target, last)
        except _Diverged as error:
            failure, lr = error, 0.5 * lr
    raise FitError(f"integrator learner covariance: the learners' gradient descent diverges at rho_star "
                   f"{rho}, readout_gain {gain}, bulk {bulk} down to {failure}")


def integrator_covariance(time, rho_star, readout_gain, bulk, dt, *, model_loss) -> np.ndarray:
    """The integrator model's learner covariance (its :attr:`~neurolearn.theory.Model.learner_covariance`,
    there with ``model_loss`` its own normalised loss: :func:`aligned_learners`).

    The sample covariance over :data:`LEARNERS` simulated networks of :data:`WIDTH` units of their
    ``behavior``, ``outlier_eigenvalue`` and ``timescale`` where their course is at the model's at ``time``
    (:func:`aligned_learners`); memoised on the parameters and times rounded to 4 significant digits.

    Returns
    -------
    numpy.ndarray, shape (3 n, 3 n)
        Observable-major over ``("behavior", "outlier_eigenvalue", "timescale")``, ``n = len(time)``.

    Examples
    --------
    >>> from neurolearn.theory.integrator import model_loss
    >>> cov = integrator_covariance(np.array([0.0, 1.2]), 0.9, 4.0, 0.1, 1.0, model_loss=model_loss)
    >>> cov.shape, bool(0.0 < np.sqrt(cov[3, 3]) < 0.02)  # the late outlier eigenvalue: SD ~ 0.003
    ((6, 6), True)
    """
    t = np.asarray(time, dtype=float).ravel()
    key = (WIDTH, LEARNERS, *(float(f"{x:.4g}") for x in (rho_star, readout_gain, bulk)),
           tuple(float(f"{x:.4g}") for x in t), model_loss)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = aligned_learners(np.array(key[-2]), *key[2:5], model_loss=model_loss)
    behavior, outlier = _CACHE[key]
    if behavior.shape[0] < 2:
        raise FitError(f"integrator learner covariance: expected >= 2 learners, found {behavior.shape[0]}")
    timescale = -float(dt) / np.log(np.clip(outlier, 1e-12, 1.0 - 1e-12))
    draws = np.concatenate([behavior, outlier, timescale], axis=1)
    return np.cov(draws, rowvar=False).reshape(3 * t.size, 3 * t.size)
