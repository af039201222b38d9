"""Read NWB tables (TimeIntervals, Units, PlaneSegmentation) column by column with h5py.

A trials table becomes the coords on the ``trial`` dim: every scalar column (numbers, bools, strings) is kept;
ragged (``*_index``), reference and multi-dimensional columns have no single value per trial and are skipped
with one warning that names them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import h5py
import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.nwbfile import decode, find_intervals, neurodata_type

__all__ = ["TrialTable", "read_trial_table", "scalar_columns", "table_ids"]


@dataclass
class TrialTable:
    """The rows of a trials/intervals table: ``ids`` and one array per scalar column (file order)."""

    name: str
    ids: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def read_trial_table(handle: h5py.File, path, trials) -> TrialTable:
    """The trials table named ``trials`` (``"trials"``, ``"recognition"`` -> ``intervals/recognition_table``,
    or a path inside the file), or a user-given :class:`pandas.DataFrame` of trials.

    Raises :class:`NWBError` naming the available interval tables when the table is absent.
    """
    if _is_dataframe(trials):
        return _warn_repeated_rows(_table_from_dataframe(trials, path), path)
    if not isinstance(trials, str) or not trials:
        raise NWBError(
            f"{os.fspath(path)}: expected trials= the name of an interval table (e.g. 'trials') or a "
            f"pandas DataFrame with a start_time column, found {type(trials).__name__} {trials!r}"
        )
    group, name = _find_table(handle, path, trials)
    ids = table_ids(group)
    columns, skipped = scalar_columns(group, len(ids))
    if skipped:
        warnings.warn(
            f"{os.fspath(path)}: table {name!r}: skipped columns without one scalar value per row "
            f"(ragged, reference or multi-dimensional): {skipped}",
            UserWarning,
            stacklevel=4,
        )
    return _warn_repeated_rows(TrialTable(name=name, ids=ids, columns=columns, skipped=skipped), path)


def _warn_repeated_rows(table: TrialTable, path) -> TrialTable:
    """One warning where rows repeat another row in every column (a table concatenated twice, a merge gone
    wrong): each copy would be read as a trial of its own, a pseudo-replicate in every statistic."""
    if not table.columns:
        return table
    names = sorted(table.columns)
    rows = list(zip(*(np.asarray(table.columns[n]).tolist() for n in names)))
    first: dict = {}
    repeats = []
    for position, row in enumerate(rows):
        key = tuple("nan" if isinstance(v, float) and v != v else v for v in row)
        if key in first:
            repeats.append((position, first[key]))
        else:
            first[key] = position
    if repeats:
        shown = ", ".join(f"row {row} = row {original}" for row, original in repeats[:3])
        warnings.warn(
            f"{os.fspath(path)}: table {table.name!r}: {len(repeats)} of {len(rows)} rows repeat another row in "
            f"every column ({shown}{', ...' if len(repeats) > 3 else ''}): each copy is read as a trial of its "
            "own (pseudo-replication); drop the duplicates if they are one trial",
            UserWarning,
            stacklevel=4,
        )
    return table


def table_ids(group: h5py.Group) -> np.ndarray:
    """Row ids of a DynamicTable (its ``id`` dataset), or ``0..n-1`` if it has none."""
    ids = group.get("id")
    if isinstance(ids, h5py.Dataset) and ids.ndim == 1:
        return np.asarray(ids[()])
    for name in group:
        obj = group.get(name)
        if isinstance(obj, h5py.Dataset) and obj.ndim >= 1 and not name.endswith("_index"):
            return np.arange(obj.shape[0])
    return np.arange(0)


def scalar_columns(
    group: h5py.Group, n_rows: int, exclude: tuple[str, ...] = ()
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Columns of a DynamicTable with exactly one scalar (number, bool, string) per row, and the names of
    those that are not (ragged, references, compound or multi-dimensional)."""
    listed = decode(group.attrs.get("colnames"))
    if isinstance(listed, str):
        listed = [listed]
    names = [str(n) for n in (listed or [])]
    # columns present but missing from colnames (e.g. response_time in some DANDI files) are still columns
    for key in group:
        if key in names or key == "id" or key.endswith("_index") or key in exclude:
            continue
        obj = group.get(key)
        if isinstance(obj, h5py.Dataset) and neurodata_type(obj) == "VectorData":
            names.append(key)
    columns: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for name in names:
        if name in exclude or name in columns:
            continue
        obj = group.get(name)
        if not isinstance(obj, h5py.Dataset):
            continue
        if (
            f"{name}_index" in group
            or obj.ndim != 1
            or obj.shape[0] != n_rows
            or neurodata_type(obj) == "DynamicTableRegion"  # row references into another table
        ):
            skipped.append(name)
            continue
        values = _read_scalar_column(obj)
        if values is None:
            skipped.append(name)
        else:
            columns[name] = values
    return columns, skipped


def _read_scalar_column(dataset: h5py.Dataset) -> np.ndarray | None:
    dtype = dataset.dtype
    if dtype.names is not None or h5py.check_ref_dtype(dtype) is not None:
        return None
    info = h5py.check_string_dtype(dtype)
    if info is not None:
        values = np.asarray(dataset.asstr()[()], dtype=str)
        # fixed-length strings (a MATLAB char matrix) are blank-padded to the longest: the padding is no part
        # of the code ("Hit        " is "Hit"); variable-length strings are kept as written
        return np.char.rstrip(values, " ") if info.length is not None else values
    if dtype.kind == "O":
        return None
    values = dataset[()]
    if dtype.kind == "S":
        return np.char.rstrip(np.char.decode(values, "utf-8", errors="replace"), " ")
    if dtype.kind in "biuf":
        return np.asarray(values)
    return None


def _find_table(handle: h5py.File, path, name: str) -> tuple[h5py.Group, str]:
    key = name.strip("/")
    candidates = [key] if "/" in key else [f"intervals/{key}", f"intervals/{key}_table", key]
    for candidate in candidates:
        obj = handle.get(candidate)
        if isinstance(obj, h5py.Group) and isinstance(obj.get("start_time"), h5py.Dataset):
            return obj, candidate
    available = find_intervals(handle)
    if "/" not in key:
        prefixed = [p for p in available if p.rsplit("/", 1)[-1].startswith(key)]
        if len(prefixed) == 1:
            return handle[prefixed[0]], prefixed[0]
    raise NWBError(
        f"{os.fspath(path)}: expected an interval table {name!r} (looked for {candidates}), found "
        + (f"only these interval tables: {available}" if available else "no interval tables at all")
        + "; pass trials=<one of them> or a DataFrame with a start_time column"
    )


def _is_dataframe(obj) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def _table_from_dataframe(frame, path) -> TrialTable:
    columns: dict[str, np.ndarray] = {}
    for name in frame.columns:
        values = np.asarray(frame[name].to_numpy())
        if values.dtype.kind == "O":
            missing = np.asarray(frame[name].isna().to_numpy(), bool)
            if missing.any():
                # pandas' missing strings stay missing (None, excluded and counted downstream), not "nan"
                values = np.array([None if gone else str(v) for v, gone in zip(values.tolist(), missing)],
                                  dtype=object)
                if values.ndim == 1:
                    columns[str(name)] = values
                continue
            values = values.astype(str)
        if values.ndim == 1 and values.dtype.kind in "biufU":
            columns[str(name)] = values
    if "start_time" not in columns:
        raise NWBError(
            f"{os.fspath(path)}: expected the trials DataFrame to have a numeric 'start_time' column, found "
            f"columns {list(map(str, frame.columns))}"
        )
    return TrialTable(name="<DataFrame>", ids=np.asarray(frame.index.to_numpy()), columns=columns)
