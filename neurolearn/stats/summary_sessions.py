"""The sessions :func:`neurolearn.summarize` summarises: which are used and which trials, whose cells are the
same, and what each session's task label allows.

:func:`prepare_sessions` checks the sessions as a trajectory (one subject; one kind of condition value; their
order against their start times; the quantities they record), prepares each one's trials
(:func:`neurolearn.stats.selection.prepare_session`) and resolves cell identity (declared tracking; ids of
untracked sessions made unable to match). A session whose data cannot be summarised (no usable trial, a
``where=`` column it lacks) is left out, the others kept in their training places. A session whose task label
cannot be used is summarised without it: no label column where other sessions have one (a passive-viewing
day), or a label that is not one value per condition (a mistyped trial: which value is right is declared, not
guessed). Its label-free statistics (participation ratio, kernel similarity and change, code overlap, dynamics,
behaviour) are computed as usual; the statistics that need the label are NaN with the reason
(:attr:`Sessions.label_problems`, read by the families).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from neurolearn.data import TRIAL, validate_recording
from neurolearn.errors import DataError, shown
from neurolearn.stats.behavior import coding_column
from neurolearn.stats.condition_labels import describe_label_conflicts, label_conflicts
from neurolearn.stats.response_scale import unit_name
from neurolearn.stats.selection import prepare_session

__all__ = ["Sessions", "prepare_sessions", "untracked_sessions"]


@dataclass(frozen=True)
class Sessions:
    """The prepared sessions of one summary.

    Attributes
    ----------
    recordings : dict
        Session id -> its prepared recording (trials selected, label coded, neuron ids resolved), in training
        order; the sessions left out are not in it.
    label : str or None
        The trial coord holding the task label (after a declared coding); None without one.
    left_out : dict
        Session id -> the DataError that left it out.
    positions : dict
        Session id -> its place in the order given (training order), left-out sessions included.
    label_problems : dict
        Session id -> why its task label cannot be used (its label coord is not in its recording).
    tracked : bool
        Cells declared the same across at least two sessions.
    response_units : str
        The sessions' ``attrs["units"]``, joined.
    """

    recordings: dict
    label: str | None
    left_out: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    label_problems: dict = field(default_factory=dict)
    tracked: bool = False
    response_units: str = ""


def prepare_sessions(recordings: dict, *, target, by: str, where=None, min_trials=None,
                     nan_policy: str = "omit") -> Sessions:
    """The sessions of ``recordings`` (id -> DataArray, in training order) a summary uses, prepared.

    Parameters
    ----------
    recordings : dict
        Session id -> recording, dims in canonical order.
    target, by, where, min_trials, nan_policy
        As :func:`neurolearn.summarize`.

    Returns
    -------
    Sessions

    Raises
    ------
    DataError
        Sessions of several subjects, condition values of different kinds across sessions, a refusal that is
        the arguments' (every session refused the same way, or one not about the session's data).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.repeat([1.0, -1.0], 2)
    >>> recs = {f"day{d}": make_recording(np.outer(y, np.ones(5)), n_trials=2, target=y, session_id=f"day{d}",
    ...                                   rng=d) for d in range(2)}
    >>> recs["day1"] = recs["day1"].drop_vars("target")  # a passive day
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     sessions = prepare_sessions(recs, target="target", by="stimulus")
    >>> list(sessions.recordings), sessions.label, list(sessions.label_problems)
    (['day0', 'day1'], 'target', ['day1'])
    """
    _refuse_mixed_subjects(recordings)
    _warn_mixed_quantities(recordings)
    _warn_unordered(recordings)
    units = ", ".join(sorted({str(rec.attrs.get("units", "") or "") for rec in recordings.values()} - {""}))
    column = None if target is None else coding_column(target)
    labelled = {key: column is not None and _has_trial_coord(rec, column) for key, rec in recordings.items()}
    prepared, label, left_out, problems = {}, None, {}, {}
    for key, rec in recordings.items():
        # the schema first (dims, sizes): values are checked where they are reduced, chunk by chunk
        validate_recording(rec, name=f"session {key!r}", allow_nan=True)
        # no label column here, beside sessions that have one: a passive day, summarised without the label
        # (the same column missing everywhere is the arguments' mistake, refused below)
        unlabelled = column is not None and not labelled[key] and any(labelled.values())
        options = dict(by=by, where=where, min_trials=min_trials, nan_policy=nan_policy)
        try:
            prepared[key], name = prepare_session(rec, key, target=None if unlabelled else target, **options)
        except DataError as error:
            if not any(text in str(error) for text in _SESSION_UNUSABLE):
                raise
            unlabelled = _missing_everywhere(rec, key, target, options, error)
            if unlabelled is None:
                left_out[key] = error  # this session cannot be summarised: the others still are
                continue
            prepared[key], problems[key] = unlabelled
            continue
        if unlabelled:
            available = sorted(str(c) for c, v in rec.coords.items() if v.dims == (TRIAL,))
            problems[key] = f"no task label (no trial coord {column!r} in this session; trial coords: {available})"
            continue
        label = name if name is not None else label
        conflicts = {} if name is None else label_conflicts(prepared[key], by, name)
        if conflicts:
            problems[key] = (f"the task label {name!r} is not one value per condition of {by!r}: "
                             f"{describe_label_conflicts(conflicts)} (labels are declared, not guessed: fix the "
                             "label column, or leave those trials out with where=)")
            prepared[key] = prepared[key].drop_vars(name)  # summarised as without a label
    if not prepared:  # the same refusal from every session is the arguments' mistake, or nothing is left
        raise next(iter(left_out.values()))
    for key, error in left_out.items():
        warnings.warn(f"summarize: session {key!r} left out, it cannot be summarised: {error}", UserWarning,
                      stacklevel=3)
    for key, problem in problems.items():
        warnings.warn(f"summarize: session {key!r} is summarised without its task label, {problem}: the "
                      "statistics that need the label are NaN there, the others are computed", UserWarning,
                      stacklevel=3)
    _refuse_mixed_condition_kinds(prepared, by)
    untracked = untracked_sessions(prepared)
    # code_overlap needs cells shared by two sessions: among the sessions not declared untracked (one session
    # declared untracked beside tracked ones NaNs only its own pairs, "no tracked cell in both sessions")
    tracked = len(prepared) - len(untracked) >= 2 and _declared_tracking(
        {k: rec for k, rec in prepared.items() if k not in untracked})
    return Sessions(recordings=_distinct_cells(prepared, untracked), label=label, left_out=left_out,
                    positions={key: position for position, key in enumerate(recordings)},
                    label_problems=problems, tracked=tracked, response_units=units)


def _missing_everywhere(rec, key, target, options, error):
    """``(the session prepared without its label, the reason)`` when every trial's label is missing (a passive
    day written with an empty label column) and the trials are otherwise usable; else None."""
    if target is None or options["nan_policy"] != "omit" or "no trial left after excluding" not in str(error):
        return None
    try:
        recording, _ = prepare_session(rec, key, target=None, **options)
    except DataError:
        return None
    return recording, f"no task label (every trial's {coding_column(target)!r} is missing in this session)"


def _has_trial_coord(recording, column) -> bool:
    return column in recording.coords and recording.coords[column].dims == (TRIAL,)


def _warn_mixed_quantities(recordings):
    """One warning when sessions record different quantities (spike counts beside dF/F, counts beside rates):
    their kernels are then compared across sessions as if they were one kind of recording."""
    kinds: dict = {}
    for key, rec in recordings.items():
        units = unit_name(rec.attrs.get("units", ""))
        if units:
            kinds.setdefault(units, []).append(str(key))
    if len(kinds) > 1:
        warnings.warn(f"sessions record different quantities ({ {u: ids[:3] for u, ids in sorted(kinds.items())} }): "
                      "their statistics are compared across sessions as one trajectory; summarise each kind apart "
                      "unless they are meant to be compared", UserWarning, stacklevel=4)


#: prepare_session's refusals of one session's data (no usable trial; a session without the condition column;
#: an older rig's table without a where= column; a where= that selects none of that day's trials): such a
#: session is left out; the same refusal from every session is the arguments' and stops the run (a session
#: without the label column, or with every label missing, beside labelled ones is summarised without it)
_SESSION_UNUSABLE = ("no trial left after excluding", ": no condition of ", ": expected a trial coord ",
                     " selected none of the ", " could not be evaluated on ")


def _refuse_mixed_condition_kinds(recordings, by):
    """Conditions are matched across sessions by their ``by`` value: numbers in some sessions and text in
    others (a MATLAB-written file beside a Python one) would match nothing (adversary F9)."""
    kinds: dict = {}
    for key, rec in recordings.items():
        if by in rec.coords:
            values = rec.coords[by].values
            text = values.dtype.kind in "US" or (values.dtype.kind == "O" and any(isinstance(v, str) for v in values))
            kinds.setdefault("text" if text else "numbers", []).append(str(key))
    if len(kinds) > 1:
        raise DataError(f"expected the condition column {by!r} to hold one kind of value in every session, found "
                        + " and ".join(f"{kind} in {ids[:4]}" for kind, ids in sorted(kinds.items()))
                        + f"; convert one, e.g. rec.assign_coords({by}=rec[{by!r}].astype(str))")


def _warn_unordered(recordings):
    """One warning when the sessions' order (training order: session_index, what a fit reads) contradicts
    their ``session_start_time`` attrs (adversary F13: days 0, 7, 1 in that order were fitted as 0, 1, 2)."""
    import pandas as pd

    keys = list(recordings)
    texts = [str(recordings[k].attrs.get("session_start_time", "") or "") for k in keys]
    if len(keys) < 2 or not all(texts):
        return
    try:
        times = pd.to_datetime(texts, utc=True, format="mixed")
    except (TypeError, ValueError):
        return
    order = np.argsort(np.asarray(times), kind="stable")
    if np.array_equal(order, np.arange(len(keys))):
        return
    warnings.warn(f"sessions are in the order {keys[:6]}{' ...' if len(keys) > 6 else ''}, which their "
                  f"session_start_time puts as {[keys[i] for i in order[:6]]}{' ...' if len(keys) > 6 else ''}: "
                  "session_index (the training order a fit reads) follows the given order; pass the sessions in "
                  "training order (read_sessions sorts by start time), or give fit(..., time=) explicitly",
                  UserWarning, stacklevel=4)


def _refuse_mixed_subjects(recordings):
    subjects = {str(rec.attrs.get("subject_id", "") or "") for rec in recordings.values()}
    unknown = [key for key, rec in recordings.items() if not str(rec.attrs.get("subject_id", "") or "")]
    subjects.discard("")
    if subjects and unknown:
        # a session that names no subject beside sessions that do: whose trajectory it is would be a guess
        raise DataError(f"expected every session's subject declared when some are, found sessions {unknown[:3]} "
                        f"without a subject_id beside subject(s) {sorted(subjects)}: declare it (the recording's "
                        "attrs['subject_id'], or the file's /general/subject), or leave those sessions out "
                        "(read_sessions(..., subject=...) keeps only the named subject's files)")
    if len(subjects) > 1:
        by_subject = {s: [k for k, rec in recordings.items() if str(rec.attrs.get("subject_id", "")) == s]
                      for s in sorted(subjects)}
        raise DataError(f"expected the sessions of one subject (one learning trajectory), found subjects "
                        f"{sorted(subjects)} ({ {s: ids[:3] for s, ids in by_subject.items()} }); select one with "
                        "read_sessions(..., subject=...) or split with neurolearn.data.split_subjects(tree)")


def _declared_tracking(recordings) -> bool:
    """Cells are the same across sessions only where declared: the ``tracked`` attr the readers (and the
    project's simulators) set. Arrays built in memory without that attr declare identity by their ``neuron``
    coord (ids that repeat are the same cells), with one warning where ids do repeat: a per-day unit index
    (0..N-1 every day, what a pivot on a unit column gives) would pair unrelated cells (adversary S6-6). An
    array with no ``neuron`` coord declares none (positions are not identities)."""
    flags = [_tracked_flag(key, rec.attrs.get("tracked")) for key, rec in recordings.items()]
    if not all("neuron" in rec.coords for rec in recordings.values()):
        return False
    if all(flag is None for flag in flags):
        _warn_undeclared_repeats(recordings)
        return True
    return all(flag for flag in flags if flag is not None)


def _warn_undeclared_repeats(recordings) -> None:
    ids = [{str(v) for v in rec["neuron"].values} for rec in recordings.values()]
    shared = [key for k, key in enumerate(recordings) if ids[k] & set().union(*(ids[:k] + ids[k + 1:]))]
    if len(shared) >= 2:
        warnings.warn(f"summarize: sessions {shared[:4]}{' ...' if len(shared) > 4 else ''} declare no cell "
                      f"identity (attrs['tracked']) and share neuron ids: read as the same cells (an array's neuron "
                      "coord names its cells); set attrs['tracked'] = False where the ids are per-session unit "
                      "numbers (different cells), True to declare them the same cells", UserWarning, stacklevel=4)


def _tracked_flag(key, flag):
    """``attrs['tracked']`` as True, False or None (undeclared); 'True'/'False' as NetCDF and zarr store bools."""
    if flag is None or isinstance(flag, (bool, np.bool_)):
        return None if flag is None else bool(flag)
    if isinstance(flag, (int, np.integer)) and int(flag) in (0, 1):
        return bool(flag)
    if isinstance(flag, str) and flag.strip().lower() in ("true", "false"):
        return flag.strip().lower() == "true"
    raise DataError(f"session {key!r}: expected attrs['tracked'] True or False (or 'True'/'False'), found "
                    f"{shown(flag)}")


def untracked_sessions(recordings) -> set:
    """Sessions whose neuron ids do not name cells shared with other sessions: declared untracked, or every
    session undeclared and some without a ``neuron`` coord."""
    flags = {key: _tracked_flag(key, rec.attrs.get("tracked")) for key, rec in recordings.items()}
    if all(flag is None for flag in flags.values()):
        return set() if all("neuron" in rec.coords for rec in recordings.values()) else set(recordings)
    return {key for key, flag in flags.items() if flag is False}


def _distinct_cells(recordings, untracked) -> dict:
    """``recordings`` with the ``untracked`` sessions' neuron ids made unable to match another session's: an id
    that repeats in a session whose cells are not declared tracked names another cell, and the kernels'
    same-cell terms and the bootstrap's shared weights must not pair them (a declared-untracked run read as
    the tracked one). Sessions declared tracked keep their ids."""
    if not untracked:
        return recordings
    ids = {key: {str(v) for v in rec["neuron"].values} for key, rec in recordings.items()}
    out = dict(recordings)
    for key in untracked:
        others = set().union(*(ids[k] for k in recordings if k != key)) if len(recordings) > 1 else set()
        if ids[key] & others:
            out[key] = recordings[key].assign_coords(neuron=[f"{key}/{v}" for v in recordings[key]["neuron"].values])
    return out


