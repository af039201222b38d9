"""Turn condition responses with known ground truth into recordings that follow the data model.

Networks in :mod:`neurolearn.simulate` produce noiseless responses to a probe set (conditions x neurons) at
checkpoints. These helpers add trial-to-trial noise and the trial coords a real recording has (``stimulus``,
``target``, ``correct``, ``start_time``, ``stop_time``), and gather sessions into a DataTree like
:func:`neurolearn.read_sessions` returns.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

import numpy as np
import xarray as xr

from neurolearn.data import NEURON, RESPONSES, TRIAL
from neurolearn.errors import DataError

__all__ = ["make_recording", "make_session_tree"]


def make_recording(
    condition_responses,
    *,
    n_trials: int,
    noise_sd: float = 0.0,
    target=None,
    behavior=None,
    neuron_ids=None,
    session_id: str = "session-0",
    session_start_time: str = "2026-01-01T09:00:00",
    units: str = "a.u.",
    trial_duration: float = 1.0,
    shuffle: bool = True,
    rng=None,
) -> xr.DataArray:
    """Noisy single-trial responses around known condition means -> a ``(trial, neuron)`` recording.

    Parameters
    ----------
    condition_responses : array_like, shape (P, N)
        Noiseless mean response of each of N neurons to each of P conditions (the ground truth).
    n_trials : int
        Trials per condition.
    noise_sd : float
        Standard deviation of independent Gaussian trial noise added to every response.
    target : array_like, shape (P,), optional
        Task label or value of each condition; becomes the ``target`` trial coord.
    behavior : float or array_like of shape (P,), optional
        Probability that the animal answers correctly (per condition); ``correct`` trial coord is drawn
        as Bernoulli(behavior). Omitted if None.
    neuron_ids : array_like of int, optional
        Ids on the ``neuron`` dim (default ``0..N-1``); equal ids across sessions mean tracked cells, which
        the recording declares (``attrs["tracked"]`` True; set it False for different cells).
    session_id, session_start_time, units : str
        Attrs of the recording.
    trial_duration : float
        Seconds between trial starts (``start_time``/``stop_time`` coords).
    shuffle : bool
        Present conditions in random order (as in an experiment) rather than blocked.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    xarray.DataArray
        Named ``responses`` with dims ``("trial", "neuron")`` and the attrs of the data model.

    Examples
    --------
    >>> import numpy as np
    >>> means = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> rec = make_recording(means, n_trials=3, target=[1, -1], rng=0)
    >>> rec.sizes["trial"], rec.sizes["neuron"], sorted(set(rec.target.values.tolist()))
    (6, 2, [-1, 1])
    """
    rng = np.random.default_rng(rng)
    means = np.asarray(condition_responses, dtype=float)
    if means.ndim != 2:
        raise DataError(
            f"expected condition_responses of shape (conditions, neurons), found shape {means.shape}"
        )
    if n_trials < 1:
        raise DataError(f"expected n_trials >= 1, found {n_trials}")
    n_conditions, n_neurons = means.shape
    condition = np.repeat(np.arange(n_conditions), n_trials)
    if shuffle:
        condition = rng.permutation(condition)
    values = means[condition] + noise_sd * rng.standard_normal((condition.size, n_neurons))
    start = np.arange(condition.size) * trial_duration
    coords = {
        "stimulus": (TRIAL, condition),
        "start_time": (TRIAL, start),
        "stop_time": (TRIAL, start + 0.8 * trial_duration),
        NEURON: np.arange(n_neurons) if neuron_ids is None else np.asarray(neuron_ids),
    }
    if target is not None:
        target = np.asarray(target)
        if target.shape[0] != n_conditions:
            raise DataError(f"expected one target per condition ({n_conditions}), found {target.shape[0]}")
        coords["target"] = (TRIAL, target[condition])
    if behavior is not None:
        p_correct = np.broadcast_to(np.asarray(behavior, dtype=float), (n_conditions,))
        coords["correct"] = (TRIAL, rng.random(condition.size) < p_correct[condition])
    return xr.DataArray(
        values,
        dims=(TRIAL, NEURON),
        coords=coords,
        name=RESPONSES,
        attrs={**_recording_attrs(session_id, session_start_time, units=units,
                                  window=(0.0, float(trial_duration)), bin_size="none"), "tracked": True},
    )


def make_session_tree(recordings: Sequence[xr.DataArray]) -> xr.DataTree:
    """Gather one-session recordings into a DataTree (one child per session, in the given order).

    Examples
    --------
    >>> import numpy as np
    >>> recs = [make_recording(np.eye(2), n_trials=2, session_id=f"day{d}", rng=d) for d in range(3)]
    >>> list(make_session_tree(recs).children)
    ['day0', 'day1', 'day2']
    """
    children = {}
    for recording in recordings:
        session_id = str(recording.attrs.get("session_id", f"session-{len(children)}"))
        if session_id in children:
            raise DataError(f"expected unique session ids, found {session_id!r} twice")
        children[session_id] = xr.Dataset({RESPONSES: recording.rename(RESPONSES)})
    return xr.DataTree.from_dict(children)


# Helpers the simulators share: one session per training checkpoint, recorded and labelled the same way.


def _record_checkpoints(
    condition_responses, *, session_ids, n_trials, noise_sd, target, behavior, rng, is_train=None
) -> xr.DataTree:
    """One :func:`make_recording` per checkpoint (a session a day from 1 January 2026), as a session tree.

    ``condition_responses[s]`` (conditions x neurons) and ``behavior[s]`` (scalar or per condition) belong to
    session ``s``; the sessions draw from ``rng`` in order. ``is_train`` (one bool per condition), if given,
    becomes a trial coord.
    """
    recordings = []
    for index, session_id in enumerate(session_ids):
        recording = make_recording(
            condition_responses[index],
            n_trials=n_trials,
            noise_sd=noise_sd,
            target=target,
            behavior=behavior[index],
            session_id=session_id,
            session_start_time=_session_start(index),
            rng=rng,
        )
        if is_train is not None:
            recording = recording.assign_coords(is_train=(TRIAL, is_train[recording.stimulus.values]))
        recordings.append(recording)
    return make_session_tree(recordings)


def _session_truth(session_ids, variables: dict, attrs: dict) -> xr.Dataset:
    """Ground truth over dim ``session`` (one value per session of each variable), beside the recordings."""
    return xr.Dataset(
        {name: ("session", values) for name, values in variables.items()},
        coords={"session": list(session_ids), "session_index": ("session", np.arange(len(session_ids)))},
        attrs=attrs,
    )


def _session_start(session: int) -> str:
    """One session a day from 1 January 2026, 09:00 (ISO 8601)."""
    return (datetime(2026, 1, 1, 9) + timedelta(days=int(session))).isoformat()


def _recording_attrs(session_id, session_start_time, *, units, window, bin_size) -> dict:
    """The data model's attrs of a simulated recording (no source file, no NWB version)."""
    return {
        "session_id": session_id,
        "session_start_time": session_start_time,
        "source_file": "",
        "source_object": "simulated",
        "units": units,
        "window": window,
        "bin_size": bin_size,
        "nwb_version": "",
    }
