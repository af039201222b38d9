"""The training set counted once: a fit that adds the model's learner covariance weights a statistic by its SE
with the training stimuli held fixed.

``generalization_error`` (``method="readout"``, :mod:`neurolearn.stats.generalization`) treats which stimuli
were trained on as a sample by default: its replicates carry a leave-one-training-condition-out jackknife
term, and its ``_se`` with them. A model's learner covariance (:mod:`neurolearn.fitting.learner`, e.g.
``kernel-learning-curve``'s one learner's scatter over nested training sets) is the same source of
variability. Adding it to the jackknife SE counts it twice and makes the parameters' intervals conservative.
The summary therefore also stores, per session, the SE of the same replicates without the jackknife term (the
coord :data:`FIXED_TRAINING_SET_SE`, which a fit carries into its problem's ``session_coords``), and
:func:`fixed_training_set` puts it in place of the statistic's SE before the learner covariance is added:

* the SE of each fitted value becomes the stored fixed-training-set SE (where it is finite and positive);
* the statistics' covariance ``D R D`` (``D`` the SEs, ``R`` the replicates' correlation, as
  :func:`neurolearn.fitting.covariance.observation_covariance` builds it) becomes ``D' R D'`` with ``D'`` the
  new SEs: its rows and columns are rescaled by ``se_fixed / se``, so it stays positive definite and its
  correlations are kept (exact for ``generalization_error``, whose own bootstrap dim correlates nothing);
* a note says so, naming the sessions.

A fit without the learner covariance (``fit(..., learner_covariance=False)``, or a model declaring none) keeps
the statistic's own SE, which is its honest uncertainty as an estimate of the population's error.

A model with a learner covariance is a learning curve in the training set's size (``kernel-learning-curve``:
its time is the number of training examples, ``time_scale`` examples per session). Where every fitted session
holds the same number of training conditions (the summary's coord :data:`TRAINING_CONDITIONS`) and neither
``time=`` nor a coord ``training_time`` gives each session's examples, the sessions do not sample such a curve:
the fit still runs (examples may be trials, which the conditions do not count), but
:func:`training_set_unchanged` warns and the message says so.
"""

from __future__ import annotations

from dataclasses import replace

import warnings

import numpy as np

from neurolearn.fitting.problem import FitWarning
from neurolearn.fitting.validation import TRAINING_TIME

__all__ = ["FIXED_TRAINING_SET_SE", "TRAINING_CONDITIONS", "TRAINING_SET_STATISTICS", "fixed_training_set",
           "training_set_unchanged"]

#: The session coord holding ``generalization_error``'s SE with the training stimuli held fixed (the name
#: :data:`neurolearn.stats.generalization.FIXED_SE` writes).
FIXED_TRAINING_SET_SE = "generalization_error_fixed_se"
#: The session coord counting each session's training conditions (the name
#: :data:`neurolearn.stats.generalization.TRAINING_CONDITIONS` writes).
TRAINING_CONDITIONS = "generalization_training_conditions"
#: Statistic -> the session coord with its fixed-training-set SE.
TRAINING_SET_STATISTICS = {"generalization_error": FIXED_TRAINING_SET_SE}


def fixed_training_set(problem):
    """``problem`` with each fitted statistic's fixed-training-set SE in place of its SE, where stored.

    Parameters
    ----------
    problem : neurolearn.fitting.problem.FitProblem
        Built from the statistics alone.

    Returns
    -------
    neurolearn.fitting.problem.FitProblem
        ``problem`` itself where no fitted statistic has a stored fixed-training-set SE (or every stored one
        equals the SE already, as with ``training_set="fixed"``); else a new problem whose ``se``,
        ``covariance`` and ``sandwich_covariance`` use it, with a note naming the statistic and how many
        sessions changed. Values outside ``mask`` and sessions whose stored SE is NaN or <= 0 keep their SE.

    Examples
    --------
    >>> import xarray as xr
    >>> from neurolearn.fitting.problem import build_problem
    >>> from neurolearn.theory import Model, Parameter
    >>> line = Model("line", "a line", "g = a + b t", "", (Parameter("a", 0.5, (0.0, 1.0), "intercept"),
    ...              Parameter("b", 0.0, (-1.0, 1.0), "slope")), ("generalization_error",),
    ...              lambda t, a, b: {"generalization_error": a + b * t})
    >>> stats = xr.Dataset({"generalization_error": ("session", [0.9, 0.7, 0.5, 0.4]),
    ...                     "generalization_error_se": ("session", [0.05, 0.04, 0.04, 0.03])},
    ...                    coords={"session": ["d0", "d1", "d2", "d3"],
    ...                            "session_index": ("session", [0, 1, 2, 3]),
    ...                            FIXED_TRAINING_SET_SE: ("session", [0.03, 0.02, 0.02, 0.01])})
    >>> problem = build_problem(stats, line, fixed={"time_scale": 1.0, "onset": 0.0})
    >>> fixed_training_set(problem).se.round(3).tolist()
    [[0.03, 0.02, 0.02, 0.01]]
    """
    coords = problem.session_coords
    factor = np.ones_like(problem.se, dtype=float)
    changed = {}
    for i, name in enumerate(problem.observables):
        key = TRAINING_SET_STATISTICS.get(name)
        if key is None or key not in coords:
            continue
        stored = np.asarray(coords[key], dtype=float)
        if stored.shape != problem.se[i].shape:
            continue
        se = problem.se[i]
        use = problem.mask[i] & np.isfinite(stored) & (stored > 0) & np.isfinite(se) & (se > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            factor[i] = np.where(use, stored / se, 1.0)
        if np.any(factor[i] != 1.0):
            changed[name] = (int(np.count_nonzero(factor[i] != 1.0)), key)
    if not changed:
        return problem
    se = problem.se * factor
    scale = factor.ravel()
    covariance = None if problem.covariance is None else problem.covariance * np.outer(scale, scale)
    sandwich = (None if problem.sandwich_covariance is None
                else problem.sandwich_covariance * np.outer(scale, scale))
    notes = tuple(f"{name} weighted by its SE with the training stimuli held fixed ({key}, {count} sessions) "
                  f"in place of {name}_se, whose training-set jackknife the model's learner covariance replaces"
                  for name, (count, key) in changed.items())
    return replace(problem, se=se, covariance=covariance, sandwich_covariance=sandwich,
                   notes=(*problem.notes, *notes))


def training_set_unchanged(problem):
    """``problem`` with a note, and a :class:`~neurolearn.fitting.FitWarning`, where every fitted session holds
    the same number of training conditions: a model whose time is the training set's size then reads the session
    order (times ``time_scale``) as the examples, which the recordings do not show growing.

    Parameters
    ----------
    problem : neurolearn.fitting.problem.FitProblem
        Built with the session order as its time (no ``time=``).

    Returns
    -------
    neurolearn.fitting.problem.FitProblem
        ``problem`` itself unless at least two fitted sessions carry the coord :data:`TRAINING_CONDITIONS`
        and its finite values are all equal, and the statistics have no coord ``training_time`` (each session's
        examples, declared as ``time=`` declares them); else a new problem with the note.

    Examples
    --------
    >>> import warnings
    >>> import xarray as xr
    >>> from neurolearn.fitting.problem import build_problem
    >>> from neurolearn.theory import Model, Parameter
    >>> decay = Model("decay", "", "", "", (Parameter("k", 2.0, (0.3, 30.0), "decay time"),),
    ...               ("generalization_error",), lambda t, k: {"generalization_error": np.exp(-t / k)})
    >>> stats = xr.Dataset({"generalization_error": ("session", [0.9, 0.6, 0.4]),
    ...                     "generalization_error_se": ("session", [0.05, 0.04, 0.04])},
    ...                    coords={"session": ["d0", "d1", "d2"], "session_index": ("session", [0, 1, 2]),
    ...                            TRAINING_CONDITIONS: ("session", [6.0, 6.0, 6.0])})
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     noted = training_set_unchanged(build_problem(stats, decay, fixed={"time_scale": 1.0, "onset": 0.0}))
    >>> noted.notes[-1][:62]
    'every fitted session holds the same 6 training conditions: the'
    """
    counts = problem.session_coords.get(TRAINING_CONDITIONS)
    if counts is None or TRAINING_TIME in problem.session_coords:
        # a training_time coord gives each session's examples as time= does (e.g. a design whose training set is
        # a stream the recording never shows: 0 training conditions throughout, heldout_behavior fitted)
        return problem
    counts = np.asarray(counts, dtype=float)
    fitted = problem.mask.any(axis=0) if problem.mask.ndim == 2 else np.ones(counts.shape, dtype=bool)
    if counts.shape != fitted.shape:
        return problem
    shown = counts[fitted & np.isfinite(counts)]
    if shown.size < 2 or np.ptp(shown) > 0:
        return problem
    note = (f"every fitted session holds the same {shown[0]:.0f} training conditions: the model's time is the "
            f"training set's size, read here as the session order times time_scale, not a set the recordings show "
            f"growing; pass time= with each session's training examples if they grew (trials, say), or fit a "
            f"model of training time")
    warnings.warn(f"fit of model {problem.model.name!r}: {note}", FitWarning, stacklevel=3)
    return replace(problem, notes=(*problem.notes, note))
