"""Whether a session's task label is one value per condition, and where it is not.

A task label is declared per condition (every trial of a stimulus has the same label). A condition whose trials
carry two values (one mistyped trial) has no declared label, and which value is right is not guessed:
:func:`neurolearn.summarize` summarises such a session without its label
(:mod:`neurolearn.stats.summary_sessions`), naming the conditions and values :func:`label_conflicts` finds.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.data import TRIAL
from neurolearn.errors import DataError

__all__ = ["label_conflicts", "describe_label_conflicts", "first_of_each_condition"]


def label_conflicts(recording: xr.DataArray, by: str, target: str) -> dict:
    """The conditions whose trials carry more than one value of the task label, and how many trials each.

    Parameters
    ----------
    recording : xarray.DataArray
        One session, with trial coords ``by`` and ``target`` (missing labels already excluded).
    by, target : str
        The condition coord and the task-label coord.

    Returns
    -------
    dict
        ``{condition: {label value: number of trials}}`` for every condition with two or more label values
        (empty when the label is one value per condition), conditions and values in sorted order.

    Raises
    ------
    DataError
        ``by`` or ``target`` is not a trial coord (the message lists the trial coords).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((5, 1)), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1, 1]), "target": ("trial", [1, 1, -1, 1, -1])})
    >>> label_conflicts(rec, "stimulus", "target")
    {1: {-1: 2, 1: 1}}
    >>> describe_label_conflicts(label_conflicts(rec, "stimulus", "target"))
    'condition 1 has -1 on 2 trials, 1 on 1 trial'
    """
    for coord in (by, target):
        if coord not in recording.coords or recording.coords[coord].dims != (TRIAL,):
            available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
            raise DataError(f"expected a trial coord {coord!r}, available trial coords: {available}")
    conditions, codes = np.unique(np.asarray(recording.coords[by].values), return_inverse=True)
    codes = codes.ravel()
    values = np.asarray(recording.coords[target].values)
    if codes.size == 0:
        return {}
    # each trial against its condition's first trial, in one pass; only the conditions that differ are looped
    _, same = first_of_each_condition(values, codes, conditions.size)
    out = {}
    for k in np.unique(codes[~np.asarray(same, dtype=bool)]).tolist():
        unique, counts = np.unique(values[codes == k], return_counts=True)
        out[conditions[k].item() if hasattr(conditions[k], "item") else conditions[k]] = {
            value: int(n) for value, n in zip(unique.tolist(), counts.tolist())}
    return out


def describe_label_conflicts(conflicts: dict, limit: int = 3) -> str:
    """:func:`label_conflicts`' answer in words: each condition with its label values and their trial counts
    (the first ``limit`` conditions, and how many more).

    Examples
    --------
    >>> describe_label_conflicts({3: {-1.0: 1, 1.0: 3}})
    'condition 3 has -1.0 on 1 trial, 1.0 on 3 trials'
    >>> describe_label_conflicts({0: {0: 1, 1: 2}, 1: {0: 2, 1: 1}}, limit=1)
    'condition 0 has 0 on 1 trial, 1 on 2 trials; and 1 more condition'
    """
    items = list(conflicts.items())
    text = "; ".join(
        f"condition {condition!r} has "
        + ", ".join(f"{value!r} on {n} trial{'' if n == 1 else 's'}" for value, n in counts.items())
        for condition, counts in items[:limit])
    more = len(items) - limit
    return text + (f"; and {more} more condition{'' if more == 1 else 's'}" if more > 0 else "")


def first_of_each_condition(values, codes, n_conditions):
    """Each condition's first trial (positions, in condition order) and, per trial, whether its value equals
    that trial's (NaN equal to NaN): one vectorised pass, the common case of a label declared per condition.

    Examples
    --------
    >>> import numpy as np
    >>> first, same = first_of_each_condition(np.array([1, 1, -1, 1]), np.array([0, 0, 1, 1]), 2)
    >>> first.tolist(), same.tolist()
    ([0, 2], [True, True, True, False])
    """
    values, codes = np.asarray(values), np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    first = order[np.searchsorted(codes[order], np.arange(n_conditions))]
    reference = values[first][codes]
    same = np.asarray(values == reference, dtype=bool)
    if values.dtype.kind == "f":
        same |= np.isnan(values) & np.isnan(reference)
    return first, same
