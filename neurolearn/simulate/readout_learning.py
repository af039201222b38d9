"""A network whose first layer is fixed (lazy) while its readout learns from examples: kernel regression.

The recordings of :func:`simulate_readout_learning_sessions` are the ground truth of the
``"kernel-learning-curve"`` model (:mod:`neurolearn.theory.learning_curve`); the readout's test error is
computed exactly in feature space.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import DataError
from neurolearn.simulate._blas import single_threaded_blas
from neurolearn.simulate.truth import SimulatedLearning, _behavior, _centred_alignment, _session_ids

__all__ = ["simulate_readout_learning_sessions"]


def simulate_readout_learning_sessions(
    eigen_decay: float = 1.5,
    target_decay: float = 2.0,
    n_sessions: int = 12,
    *,
    examples_per_session: float = 10.0,
    n_modes: int = 400,
    n_conditions: int = 32,
    n_neurons: int = 100,
    n_trials: int = 10,
    noise_sd: float = 0.1,
    chance: float = 0.5,
    ceiling: float = 1.0,
    trained_probes: bool = False,
    rng=None,
):
    """Recordings of a network whose first layer is fixed (lazy) while its readout learns from examples.

    The hidden layer represents an input through ``n_modes`` Gaussian features ``z_k(x) ~ N(0, 1)`` scaled by
    ``sqrt(eta_k)`` with ``eta_k ~ k^-eigen_decay`` (``sum eta = 1``), mixed into ``n_neurons`` recorded units
    by a fixed random matrix. With ``n_neurons >= n_modes`` the mixing is a random rotation (scaled), so the
    recorded condition kernel ``R R^T / n_neurons`` *is* the network's kernel ``sum_k eta_k z_k(x) z_k(x')``
    and a readout of the (noiseless) recording is the network's readout; with fewer neurons it is Gaussian and
    the recorded kernel only estimates it, with a spectrum of its own (``sqrt(eta) W sqrt(eta)``, ``W`` a
    Wishart matrix): a Gaussian mixing of 400 modes into 400 neurons made the recording's readout err
    1.04-1.63 times the model's curve at 20-100 examples (12 seeds), the rotation 0.98-1.06. The target is ``sum_k w_k z_k(x)`` with ``w_k^2 ~ k^-target_decay`` (``sum w^2 = 1``).
    Before session ``s`` the readout has been fitted (ridgeless kernel regression: the minimum-norm
    interpolant) to the first ``n_train = s * examples_per_session`` examples of one stream of training
    examples, as an animal accumulates experience; its test error is computed exactly in feature space,
    ``sum_k (w_k - w_hat_k)^2``. ``correct`` is drawn with probability
    ``chance + (ceiling - chance)(1 - min(error, 1))`` on every probe, trained or not: the
    ``"kernel-learning-curve"`` link of its ``heldout_behavior`` (performance on new stimuli), which
    :func:`neurolearn.summarize` measures on the trials ``heldout`` marks (by default every trial). Trial
    coord ``target`` is the sign of the target on each probe condition, ``target_value`` the target itself
    (the regressed quantity, zero mean and unit variance over inputs), and ``heldout`` (the documented
    held-out column of :mod:`neurolearn.stats.generalization`) is True on trials of conditions the readout
    was not trained on.

    By default the training examples are a stream separate from the probe set, so every probe condition is
    novel (``heldout`` all True). With ``trained_probes=True`` the stream *is* the probe set, as when an
    animal is recorded on the stimuli it has learned so far and on new ones: the readout of session ``s`` is
    fitted to the first ``n_train`` probe conditions, which are marked ``heldout=False`` in that session
    (``n_conditions`` must exceed the last ``n_train``), so a readout of the recording trained on them and
    tested on the rest measures the model's ``generalization_error``. The random numbers drawn are the same
    either way.

    Returns
    -------
    tree : xarray.DataTree
    truth : SimulatedLearning
        ``truth.parameters`` are the true ``"kernel-learning-curve"`` parameters (training time = examples);
        ``truth.generalization_error`` the readout's exact test error per session.

    Examples
    --------
    >>> tree, truth = simulate_readout_learning_sessions(n_sessions=3, n_neurons=20, rng=0)
    >>> truth.extra["n_train"].tolist(), float(truth.generalization_error[0])
    ([0.0, 10.0, 20.0], 1.0)
    >>> tree, truth = simulate_readout_learning_sessions(n_sessions=3, n_conditions=40, trained_probes=True,
    ...                                                  rng=0)
    >>> rec = tree["session-02"].dataset["responses"]
    >>> int((~rec.heldout.values).sum()) == 20 * 10, int(rec.stimulus.values[~rec.heldout.values].max())
    (True, 19)
    """
    from neurolearn.simulate.recording import _record_checkpoints

    if not (eigen_decay > 0 and target_decay > 0):
        raise DataError(
            f"simulate_readout_learning_sessions: expected eigen_decay > 0 and target_decay > 0, "
            f"found {eigen_decay!r}, {target_decay!r}"
        )
    rng = np.random.default_rng(rng)
    modes = np.arange(1, int(n_modes) + 1, dtype=float)
    eta = modes**-float(eigen_decay)
    eta /= eta.sum()
    weights = modes ** (-0.5 * float(target_decay))
    weights /= np.linalg.norm(weights)
    n_train = examples_per_session * np.arange(n_sessions, dtype=float)
    if trained_probes and not n_conditions > n_train[-1]:
        raise DataError(
            f"simulate_readout_learning_sessions: trained_probes needs n_conditions > the last n_train "
            f"({n_train[-1]:g}) so that some probes stay held out, found {n_conditions}"
        )
    stream = rng.standard_normal((int(np.ceil(n_train[-1])), modes.size))
    # drawn here, before the readouts are fitted, in both designs, so the random numbers are the same
    probe = rng.standard_normal((n_conditions, modes.size))
    examples = probe if trained_probes else stream

    errors = np.ones(n_sessions)
    with single_threaded_blas():
        for session, count in enumerate(n_train.astype(int)):
            if count == 0:
                continue
            features = examples[:count]
            kernel = (features * eta) @ features.T
            # minimum-norm interpolant; lstsq handles a numerically singular kernel gracefully
            dual = np.linalg.lstsq(kernel, features @ weights, rcond=None)[0]
            fitted = eta * (features.T @ dual)
            errors[session] = np.sum((weights - fitted) ** 2)

    labels = np.where(probe @ weights >= 0, 1, -1)
    mixing = rng.standard_normal((modes.size, n_neurons))
    if n_neurons >= modes.size:
        # orthogonalised (same draws): mixing mixing^T = n_neurons I, so the recorded kernel R R^T / n_neurons is
        # the network's kernel sum_k eta_k z_k z_k' exactly and a readout of the recording is the network's
        left, _, right = np.linalg.svd(mixing, full_matrices=False)
        mixing = np.sqrt(n_neurons) * (left @ right)
    responses = (probe * np.sqrt(eta)) @ mixing  # condition kernel R R^T / n ~ sum_k eta_k z_k z_k'
    kernel = responses @ responses.T / n_neurons
    behavior = _behavior(errors, chance, ceiling)
    tree = _record_checkpoints(
        np.broadcast_to(responses, (n_sessions, *responses.shape)), session_ids=_session_ids(n_sessions),
        n_trials=n_trials, noise_sd=noise_sd, target=labels, behavior=behavior, rng=rng,
    )
    trained = np.zeros((n_sessions, n_conditions), dtype=bool)
    if trained_probes:
        for session, count in enumerate(n_train.astype(int)):
            trained[session, :count] = True
    tree = _with_trial_columns(tree, {"target_value": np.broadcast_to(probe @ weights, trained.shape),
                                      "heldout": ~trained})
    truth = SimulatedLearning(
        model="kernel-learning-curve",
        parameters={"eigen_decay": float(eigen_decay), "target_decay": float(target_decay), "noise": 0.0,
                    "ridge": 0.0, "chance": chance, "ceiling": ceiling},
        training_time=n_train,
        behavior=behavior,
        task_alignment=np.full(n_sessions, _centred_alignment(kernel, labels)),
        kernel_change=np.zeros(n_sessions),
        condition_kernels=np.broadcast_to(kernel, (n_sessions, *kernel.shape)),
        probe_inputs=probe,
        labels=labels,
        generalization_error=errors,
        extra={"n_train": n_train},
    )
    return tree, truth


def _with_trial_columns(tree, columns):
    """The tree with per-condition trial columns added: ``columns[name][s, c]`` for session ``s``, condition
    ``c`` (the ``stimulus`` coord); nothing else changes."""
    from neurolearn.simulate.recording import make_session_tree

    recordings = []
    for index, child in enumerate(tree.children.values()):
        recording = child.dataset["responses"]
        stimulus = recording.stimulus.values
        recordings.append(recording.assign_coords(
            {name: ("trial", np.asarray(values)[index][stimulus]) for name, values in columns.items()}))
    return make_session_tree(recordings)
