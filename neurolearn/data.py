"""The recording schema every layer relies on: dims, coords, attrs; validation; condition means.

One session is an :class:`xarray.DataArray` named ``responses`` with dims ``("trial", "neuron")`` or
``("trial", "neuron", "time")``:

* coords on ``trial``: every scalar column of the chosen trials/intervals table (``start_time``,
  ``stop_time``, ``stimulus``, ``correct``, ...);
* coords on ``neuron``: the unit/ROI id where cell identity across sessions is declared (``tracked=True``,
  a registration table's cell id, or the file's ``neurolearn.tracked_cells`` note), else
  ``"<session>/<id>"`` so that ids pynwb repeats in every file are never mistaken for the same cells;
  ``unit_id``: the file's own id (and location etc. where present);
* ``time``: bin centres (s) relative to the alignment event;
* attrs: ``session_id``, ``session_start_time`` (ISO 8601), ``source_file``, ``source_object``, ``units``,
  ``window``, ``bin_size``, ``nwb_version``; from the readers also ``subject_id``, ``tracked``, ``tracking``,
  ``align_times``, ``where`` and ``source_kind`` (``"units"``, ``"roi"``, ``"electrical"``, ...: an ROI trace
  is a calcium trace whatever its unit string).

Several sessions are an :class:`xarray.DataTree` with one child per session, each holding a Dataset with a
``responses`` variable, in session-start order.

Statistics are an :class:`xarray.Dataset` over dim ``session`` (plus ``session_other`` for pairwise
statistics). Every statistic ``name`` comes with

* ``name_se``: bootstrap standard error (same dims as ``name``);
* ``name_ci``: the interval, same dims plus a trailing dim ``ci_bound`` with coords ``["lower", "upper"]``;
  its attr ``level`` is the coverage (0.95 by default);
* optionally ``name_chance``: the value expected with no signal at the actual data shape;
* ``name_flag``: a string per value, ``""`` where the data support it, else the reason it is NaN (or why a
  value at chance carries no information).

The ``session`` coord holds session ids; coord ``session_index`` (0, 1, ...) on the same dim is the order used
as training time by :func:`~neurolearn.fitting.fit`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError, shown
from neurolearn.statistic_registry import STATISTIC_NAMES as _REGISTERED_NAMES

__all__ = [
    "RESPONSES",
    "TRIAL",
    "NEURON",
    "TIME",
    "SESSION",
    "SESSION_OTHER",
    "CI_BOUND",
    "REQUIRED_ATTRS",
    "STATISTIC_NAMES",
    "validate_recording",
    "in_canonical_order",
    "condition_means",
    "session_recordings",
    "trial_splits",
    "se_name",
    "ci_name",
    "flag_name",
    "split_subjects",
    "where_mask",
]

RESPONSES = "responses"
TRIAL, NEURON, TIME = "trial", "neuron", "time"
SESSION, SESSION_OTHER = "session", "session_other"
CI_BOUND = "ci_bound"
REQUIRED_ATTRS = (
    "session_id",
    "session_start_time",
    "source_file",
    "source_object",
    "units",
    "window",
    "bin_size",
    "nwb_version",
)

#: Stable statistic names shared by :func:`neurolearn.summarize` and every theory model's ``predict``: the keys
#: of the statistics registry (:data:`neurolearn.statistic_registry.STATISTICS`), which declares each one.
STATISTIC_NAMES = _REGISTERED_NAMES


def se_name(statistic: str) -> str:
    """Name of the standard-error variable of ``statistic`` (``"margin"`` -> ``"margin_se"``)."""
    return f"{statistic}_se"


def ci_name(statistic: str) -> str:
    """Name of the interval variable of ``statistic`` (``"margin"`` -> ``"margin_ci"``)."""
    return f"{statistic}_ci"


def flag_name(statistic: str) -> str:
    """Name of the per-session reason variable of ``statistic`` (``"margin"`` -> ``"margin_flag"``).

    A string per value: ``""`` when the value is supported by the data, otherwise why it is NaN (or, for a
    value at chance, why it carries no information). The reasons each statistic can give are documented in
    :data:`neurolearn.stats.STATISTICS`.
    """
    return f"{statistic}_flag"


def validate_recording(recording: xr.DataArray, *, name: str = "recording", allow_nan: bool = False) -> None:
    """Check that ``recording`` follows the one-session schema; raise :class:`DataError` if not.

    The schema: dims ``trial, neuron[, time]``, at least one trial and neuron, distinct ``neuron`` ids (two
    neurons with one id would be one cell to every resampling by id and to tracking across sessions; the
    message names the repeated ids) and, unless ``allow_nan``, finite values.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron")`` or ``("trial", "neuron", "time")``.
    name : str
        How to call the object in error messages (e.g. the session id).
    allow_nan : bool
        Whether NaN/inf values are acceptable. The default refuses them, because every statistic downstream
        would silently become NaN. The check computes a reduction, so it is skipped for dask-backed data
        (checked later, when values are computed).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.ones((4, 3)), dims=("trial", "neuron"), name="responses")
    >>> validate_recording(rec)
    >>> validate_recording(rec.rename({"neuron": "cell"}))
    Traceback (most recent call last):
    ...
    neurolearn.errors.DataError: recording: expected dims ('trial', 'neuron') or ('trial', 'neuron', 'time'), found ('trial', 'cell')
    """
    if not isinstance(recording, xr.DataArray):
        raise DataError(f"{name}: expected an xarray.DataArray of responses, found {type(recording).__name__}")
    dims = tuple(recording.dims)
    if dims not in ((TRIAL, NEURON), (TRIAL, NEURON, TIME)):
        hint = (f"; the same dims in another order: recording.transpose{_canonical(dims)}"
                if _canonical(dims) is not None else "")
        raise DataError(
            f"{name}: expected dims ('trial', 'neuron') or ('trial', 'neuron', 'time'), found {dims}{hint}"
        )
    if recording.sizes[TRIAL] == 0 or recording.sizes[NEURON] == 0:
        raise DataError(f"{name}: expected at least one trial and one neuron, found sizes {dict(recording.sizes)}")
    _refuse_repeated_neurons(recording, name)
    if not allow_nan and not _is_dask(recording):
        finite = np.isfinite(np.asarray(recording.values, dtype=float))
        if not finite.all():
            bad = int((~finite).sum())
            raise DataError(
                f"{name}: expected finite responses, found {bad} NaN/inf values of {finite.size}; "
                "drop or impute them before computing statistics"
            )


def _refuse_repeated_neurons(recording: xr.DataArray, name: str) -> None:
    """Two neurons of one session with one ``neuron`` id: the resampling "by id" (jackknife, bootstrap over
    cells) and tracking across sessions would read them as one cell. Only the coord is read (an index, in
    memory even for dask-backed data), so the check costs nothing for lazy recordings."""
    if NEURON not in recording.coords:
        return
    ids = recording.get_index(NEURON)
    if ids.is_unique:
        return
    repeated = ids[ids.duplicated(keep="first")].unique()
    counts = ids.value_counts(dropna=False)
    raise DataError(
        f"{name}: expected distinct neuron ids (one per cell), found {repeated.size} repeated "
        f"{shown(repeated[:8].tolist())}{' ...' if repeated.size > 8 else ''} (up to {int(counts.max())} times "
        f"among {ids.size} neurons): resampling and tracking by id would read them as one cell; give each "
        "neuron its own id"
    )


def condition_means(recording: xr.DataArray, by: str) -> xr.DataArray:
    """Average trials that share the value of the trial coord ``by`` -> dims ``("condition", "neuron", ...)``.

    The ``condition`` coord holds the sorted unique values of ``by``; coord ``n_trials`` the number of trials
    averaged into each condition.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.arange(8.0).reshape(4, 2), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", ["a", "b", "a", "b"])})
    >>> condition_means(rec, "stimulus").values.tolist()
    [[2.0, 3.0], [4.0, 5.0]]
    """
    if by not in recording.coords or recording.coords[by].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"expected a trial coord {by!r} to group conditions by; available trial coords: {available}")
    grouped = recording.groupby(by)
    means = grouped.mean(TRIAL)
    counts = grouped.count(TRIAL).isel({d: 0 for d in recording.dims if d != TRIAL})
    means = means.rename({by: "condition"})
    return means.assign_coords(n_trials=("condition", np.asarray(counts.values)))


def _canonical(dims):
    """The canonical order of ``dims`` if they are the recording dims in some order, else None."""
    for order in ((TRIAL, NEURON), (TRIAL, NEURON, TIME)):
        if sorted(dims) == sorted(order):
            return order
    return None


def in_canonical_order(recording):
    """``recording`` with its dims in the order the statistics read them (``trial, neuron[, time]``): labelled
    dims need no fixed order, so ``("trial", "time", "neuron")`` is transposed (lazily for dask-backed data);
    anything else is returned as it is, for :func:`validate_recording` to judge.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((4, 5, 3)), dims=("trial", "time", "neuron"))
    >>> in_canonical_order(rec).dims
    ('trial', 'neuron', 'time')
    """
    if not isinstance(recording, xr.DataArray):
        return recording
    order = _canonical(tuple(recording.dims))
    return recording if order is None or tuple(recording.dims) == order else recording.transpose(*order)


def session_recordings(tree: xr.DataTree) -> dict[str, xr.DataArray]:
    """The ``responses`` of each session of a DataTree, in tree order, keyed by session id.

    Raises :class:`DataError` if a child has no ``responses`` variable.
    """
    if not isinstance(tree, xr.DataTree):
        raise DataError(f"expected an xarray.DataTree of sessions, found {type(tree).__name__}")
    out: dict[str, xr.DataArray] = {}
    for key, child in tree.children.items():
        if RESPONSES not in child.dataset.data_vars:
            raise DataError(
                f"session {key!r}: expected a {RESPONSES!r} variable, found {sorted(child.dataset.data_vars)}"
            )
        out[str(key)] = child.dataset[RESPONSES]
    if not out:
        raise DataError("expected at least one session in the DataTree, found none")
    return out


def trial_splits(recording: xr.DataArray, by: str, *, n_splits: int = 2, random_state=None) -> np.ndarray:
    """Assign every trial to one of ``n_splits`` disjoint splits, balanced within each ``by`` condition.

    Within a condition, trials are shuffled and dealt round-robin, so split sizes differ by at most one and
    every split gets a trial from every condition that has at least ``n_splits`` trials.

    Raises :class:`DataError` if ``by`` is missing or a condition has fewer than ``n_splits`` trials.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((6, 1)), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 0, 1, 1, 1])})
    >>> split = trial_splits(rec, "stimulus", random_state=0)
    >>> np.bincount(split[:3]).tolist(), np.bincount(split[3:]).tolist()
    ([2, 1], [2, 1])
    """
    if by not in recording.coords or recording.coords[by].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"expected a trial coord {by!r} to split conditions by; available trial coords: {available}")
    rng = np.random.default_rng(random_state)
    labels = np.asarray(recording.coords[by].values)
    conditions, codes = np.unique(labels, return_inverse=True)
    split = np.empty(codes.size, dtype=int)
    for k, condition in enumerate(conditions.tolist()):
        trials = np.flatnonzero(codes == k)
        if trials.size < n_splits:
            raise DataError(
                f"condition {condition!r} of {by!r}: expected at least {n_splits} trials to split, found {trials.size}"
            )
        split[rng.permutation(trials)] = np.arange(trials.size) % n_splits
    return split


def _is_dask(array: xr.DataArray) -> bool:
    return getattr(array.data, "__dask_graph__", None) is not None


def split_subjects(tree: xr.DataTree) -> dict[str, xr.DataTree]:
    """One DataTree per subject, keyed by the sessions' ``subject_id`` attr (``""`` where unknown).

    Sessions keep their order and names; a learning trajectory is one animal's, so a tree that mixes
    subjects is split before it is summarised.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> def session(subject):
    ...     return xr.Dataset({"responses": xr.DataArray(np.zeros((2, 1)), dims=("trial", "neuron"),
    ...                                                  attrs={"subject_id": subject})})
    >>> tree = xr.DataTree.from_dict({"d1": session("m1"), "d2": session("m2"), "d3": session("m1")})
    >>> {subject: list(part.children) for subject, part in split_subjects(tree).items()}
    {'m1': ['d1', 'd3'], 'm2': ['d2']}
    """
    groups: dict[str, dict[str, xr.Dataset]] = {}
    for name, recording in session_recordings(tree).items():
        subject = str(recording.attrs.get("subject_id", "") or "")
        groups.setdefault(subject, {})[name] = tree[name].to_dataset()
    return {subject: xr.DataTree.from_dict(children) for subject, children in groups.items()}


def where_mask(columns, where, *, context: str, table: str = "the trial columns", error=DataError) -> np.ndarray:
    """Boolean mask of the rows for which the pandas expression ``where`` on ``columns`` is true.

    The one implementation of ``where=``: :func:`neurolearn.io.read_nwb` evaluates it on a file's trials table
    and :func:`neurolearn.summarize` on a recording's trial coords. ``where=None`` keeps every row. An
    expression that is not a non-empty string, cannot be evaluated (:meth:`pandas.DataFrame.eval`), gives no
    True/False per row or selects nothing raises ``error`` (:class:`DataError` unless the caller's layer has
    its own type) naming ``context``, the expression and the columns.

    Parameters
    ----------
    columns : mapping of str to 1-D array
        One array per column, all of one length (the rows).
    where : str or None
        The expression (```stim type` == 2 and correct``, ``"id >= 20"``).
    context : str
        What the rows belong to, prefixed to every message (a file, ``"session 'd1'"``).
    table : str
        How to call the columns' table in messages.
    error : type
        The :class:`~neurolearn.errors.NeurolearnError` subclass to raise.

    Examples
    --------
    >>> where_mask({"x": np.array([1, 2, 3])}, "x >= 2", context="f.nwb").tolist()
    [False, True, True]
    >>> where_mask({"x": np.array([1, 2, 3])}, "y > 1", context="f.nwb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.DataError: f.nwb: where='y > 1' could not be evaluated on the trial columns (...); ...['x']
    """
    n_rows = len(next(iter(columns.values()))) if columns else 0
    if where is None:
        return np.ones(n_rows, dtype=bool)
    names = list(columns)
    if not isinstance(where, str) or not where.strip():
        raise error(f"{context}: expected where= a pandas query string on trial columns (e.g. "
                    f"\"response != 'early lick'\"), found {where!r}; its columns are {names}")
    import pandas as pd

    try:
        result = pd.DataFrame(dict(columns)).eval(where)
    except Exception as failure:  # pandas raises NameError, SyntaxError, TypeError, KeyError...: one meaning
        raise error(f"{context}: where={where!r} could not be evaluated on {table} "
                    f"({type(failure).__name__}: {failure}); its columns are {names}") from None
    mask = np.asarray(result)
    if mask.shape != (n_rows,) or mask.dtype != bool:
        raise error(f"{context}: expected where={where!r} to give True/False per trial, found {mask.dtype} "
                    f"of shape {mask.shape}; its columns are {names}")
    if not mask.any():
        raise error(f"{context}: where={where!r} selected none of the {n_rows} trials of {table}; its "
                    f"columns are {names}")
    return mask
