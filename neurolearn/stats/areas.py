"""Statistics per recorded area: :func:`summarize` run on each area's neurons, gathered along dim ``area``.

A session recorded from several areas (the NWB Units ``location`` column, which :func:`neurolearn.read_nwb`
puts on the ``neuron`` dim as a coord, or any other neuron coord such as an electrode group) holds several
populations: a deep network's layers, a pathway's stages. Their kernels are separate objects, so every
statistic is computed per area: the session's neurons are split by the coord, :func:`summarize` runs on each
area's sessions with the same options, and the results are concatenated along a new dim ``area``. Each area
gets its own child seed of ``random_state`` (:func:`area_random_states`): the areas' neurons are different
samples, so their resampling weights are drawn independently (one seed for all would give the k-th neuron of
every area the same Poisson weight).
Pairwise statistics (``session`` x ``session_other``) and bootstrap replicates (``name_boot``) keep their dims,
so a fit can weight each area's values by their joint covariance. A session without neurons of an area has
NaN for that area's statistics, with the reason in ``name_flag``. ``session_index`` stays the session's
position in the whole tree (training time), whatever areas it recorded.

Examples
--------
>>> import warnings
>>> from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
>>> tree, _ = simulate_deep_linear_sessions(1.0, n_sessions=3, n_neurons=40, n_hidden=200, rng=0)
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     stats = summarize_areas(tree, layers={"V1": 1, "LM": 2}, n_boot=20, random_state=0, readout=False,
...                             dynamics=False)
>>> stats["task_alignment"].dims, stats.area.values.tolist(), stats.layer.values.tolist()
(('area', 'session'), ['V1', 'LM'], [1, 2])
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from neurolearn.data import SESSION, SESSION_OTHER
from neurolearn.errors import DataError
from neurolearn.stats.behavior import is_missing_value
from neurolearn.stats.flags import StatisticWarning, warnings_about
from neurolearn.stats.kernel_summary import FIRST_REFERENCED
from neurolearn.stats.similarity import as_recording_dict
from neurolearn.stats.statistics_table import session_start_times
from neurolearn.stats.summary import summarize
from neurolearn.stats.summary_sessions import untracked_sessions

__all__ = ["AREA", "LAYER", "summarize_areas", "area_names", "area_random_states"]

#: the dim of per-area statistics, and the coord on it naming the model layer each area is
AREA, LAYER = "area", "layer"


def summarize_areas(tree, area: str = "location", layers=None, areas=None, **summarize_kwargs) -> xr.Dataset:
    """:func:`summarize` per area -> Dataset with every statistic over ``area`` (+ its usual dims).

    Parameters
    ----------
    tree : xarray.DataTree, mapping/sequence of DataArray
        Sessions, as for :func:`summarize`; each with a neuron coord ``area``.
    area : str
        The neuron coord telling areas apart (default ``"location"``, the NWB Units column).
    layers : mapping, optional
        Area name -> layer depth of a per-layer model (e.g. ``{"V1": 1, "LM": 2}``), stored as coord
        ``layer`` on ``area`` for :func:`neurolearn.fit`. Its keys are the default ``areas``.
    areas : sequence of str, optional
        Which areas, in this order (default: ``layers``' keys, else every value of the coord in order of first
        appearance).
    **summarize_kwargs
        Passed to :func:`summarize` for every area (``n_boot``, ``random_state``, ...).

    Returns
    -------
    xarray.Dataset
        :func:`summarize`'s variables with a leading dim ``area`` (coord ``area``; ``layer`` if given).

    Raises
    ------
    DataError
        A session without the coord ``area``, an area no session recorded, or layers that are not positive
        integers.
    """
    recordings = as_recording_dict(tree)
    names = area_names(recordings, area)
    _warn_unstated(recordings, area)
    _warn_cells_changing_area(recordings, area)
    if layers is not None:
        layers = dict(layers)
        bad = {k: v for k, v in layers.items() if not (isinstance(v, (int, np.integer)) and v >= 1)}
        if bad:
            raise DataError(f"summarize_areas: expected layers as positive integers, found {bad}")
    chosen = list(areas if areas is not None else (layers if layers is not None else names))
    absent = [a for a in chosen if a not in names]
    if absent:
        raise DataError(f"summarize_areas: expected areas recorded in some session, found none of {absent} in "
                        f"neuron coord {area!r} (recorded: {names})")
    if layers is not None and set(chosen) - set(layers):
        raise DataError(f"summarize_areas: expected a layer for every area, missing {sorted(set(chosen) - set(layers))}")
    sessions = list(recordings)
    parts = []
    seeds = area_random_states(summarize_kwargs.pop("random_state", None), len(chosen))
    for name, seed in zip(chosen, seeds):
        subset = {key: rec.isel(neuron=np.flatnonzero(area_labels(rec, area) == name))
                  for key, rec in recordings.items()}
        subset = {key: rec for key, rec in subset.items() if rec.sizes["neuron"] > 0}
        with warnings_about(f"{area} {name!r}"):  # the same session's warnings, told apart by area
            stats = summarize(subset, random_state=seed, **summarize_kwargs)
        missing = [key for key in sessions if key not in subset]
        if missing:
            first = (f"; its kernel_change has no reference (the first session, {sessions[0]})"
                     if missing[0] == sessions[0] else "")
            warnings.warn(StatisticWarning(
                f"summarize_areas: area {name!r} not recorded in session{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(str, missing))} (no neuron with {area}={name!r}): its statistics there, and "
                f"its pairwise statistics with them, are NaN with that reason in <name>_flag{first}"),
                stacklevel=2)
        parts.append(_on_all_sessions(stats, sessions, set(missing), name))
    out = xr.concat(parts, dim=AREA, data_vars="all", coords="minimal", compat="override", join="outer")
    out = out.assign_coords({AREA: chosen, SESSION: sessions, "session_index": (SESSION, np.arange(len(sessions)))})
    # the start times, as summarize keeps them: a fit warns where the session order it stands in for training
    # time spaces the sessions unevenly (days 0, 1, 7, 8 were fitted as 0..3 without a word; adversary S5-4)
    out = out.assign_coords(session_start_time=(SESSION, session_start_times(recordings)))
    if layers is not None:
        out = out.assign_coords({LAYER: (AREA, [int(layers[a]) for a in chosen])})
    out.attrs["area_coord"] = area
    return out


def area_names(recordings, area: str = "location") -> list:
    """The values of neuron coord ``area`` over sessions, in order of first appearance.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((2, 3)), dims=("trial", "neuron"),
    ...                    coords={"location": ("neuron", ["LM", "V1", "LM"])})
    >>> area_names({"s0": rec})
    ['LM', 'V1']
    """
    names = []
    for key, rec in recordings.items():
        if area not in rec.coords or rec[area].dims != ("neuron",):
            renamed = f"unit_{area}"
            hint = (f"; a trials column took the name {area!r}, and the units' one is the coord {renamed!r}: pass "
                    f"area={renamed!r}" if renamed in rec.coords and rec[renamed].dims == ("neuron",) else "")
            raise DataError(f"summarize_areas: expected neuron coord {area!r} in session {key!r} (the Units "
                            f"location column or an electrode group), found neuron coords "
                            f"{sorted(str(n) for n, c in rec.coords.items() if c.dims == ('neuron',))}"
                            f"{hint}")
        for value in area_labels(rec, area):
            if value and value not in names:  # "" is no area: a unit whose location is not stated
                names.append(str(value))
    _warn_names_differing_in_case(names, area)
    return names


def _warn_names_differing_in_case(names, area) -> None:
    """One warning where area names differ only in case ('V1' and 'v1'): each is its own area (a spelling the
    user decides on, as padding is not), NaN in the sessions that spell it the other way."""
    spellings: dict = {}
    for name in names:
        spellings.setdefault(name.casefold(), []).append(name)
    alike = [group for group in spellings.values() if len(group) > 1]
    if alike:
        warnings.warn(f"summarize_areas: areas {'; '.join(' and '.join(map(repr, g)) for g in alike)} in neuron "
                      f"coord {area!r} differ only in case and are counted as different areas (each NaN in the "
                      "sessions that spell it otherwise); give them one spelling if they are one area",
                      UserWarning, stacklevel=3)


def area_labels(recording, area: str = "location") -> np.ndarray:
    """Each neuron's area as text, ``""`` where none is stated: an empty string, or a missing value (None,
    NaN, pandas' NA: an empty cell of a Units column read by h5py or pandas is a float NaN, not an area
    called 'nan').

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rec = xr.DataArray(np.zeros((1, 4)), dims=("trial", "neuron"),
    ...                    coords={"location": ("neuron", np.array(["V1", "", float("nan"), None], dtype=object))})
    >>> area_labels(rec).tolist()
    ['V1', '', '', '']
    """
    values = np.asarray(recording[area].values)
    if values.dtype.kind in "fO":
        return np.array(["" if is_missing_value(v) else str(v) for v in values.tolist()], dtype=object)
    return values.astype(str).astype(object)


def _warn_cells_changing_area(recordings, area) -> None:
    """One warning naming tracked cells (one neuron id in sessions declared tracked) whose area differs between
    sessions (adversary A11): a curation error, or a drift the user decides on; each session's statistics put
    the cell in the area that session states."""
    seen: dict = {}
    untracked = untracked_sessions(recordings)
    for key, rec in recordings.items():
        if key in untracked:
            continue
        for cell, label in zip(np.asarray(rec["neuron"].values).tolist(), area_labels(rec, area).tolist()):
            if label:
                seen.setdefault(cell, {}).setdefault(label, []).append(str(key))
    changed = {cell: labels for cell, labels in seen.items() if len(labels) > 1}
    if changed:
        shown_cells = "; ".join(f"{cell!r}: " + ", ".join(f"{label} in {keys[:3]}" for label, keys in labels.items())
                                for cell, labels in list(changed.items())[:3])
        warnings.warn(f"summarize_areas: {len(changed)} tracked cell(s) state different areas in different sessions "
                      f"({shown_cells}{'; ...' if len(changed) > 3 else ''}): each session counts such a cell in "
                      "the area it states there; correct the curation, or leave those cells out, if they are one "
                      "cell in one area", UserWarning, stacklevel=3)


def _warn_unstated(recordings, area) -> None:
    """One warning naming the sessions whose units state no area ("" in coord ``area``): they belong to no
    area's statistics (an area named "" would be a guess, and no --areas could name it)."""
    unstated = {key: int(np.sum(area_labels(rec, area) == "")) for key, rec in recordings.items()}
    unstated = {key: count for key, count in unstated.items() if count}
    if unstated:
        warnings.warn(f"summarize_areas: {sum(unstated.values())} unit(s) state no area in neuron coord {area!r} "
                      f"(sessions {dict(list(unstated.items())[:5])}): they are left out of every area's statistics",
                      UserWarning, stacklevel=3)


def area_random_states(random_state, n_areas: int) -> list:
    """Independent child seeds of ``random_state`` (int, Generator or None), one per area.

    Examples
    --------
    >>> a, b = area_random_states(0, 2)
    >>> bool(a.random() != b.random()), area_random_states(None, 2)
    (True, [None, None])
    """
    if random_state is None:
        return [None] * n_areas
    if isinstance(random_state, np.random.Generator):
        return list(random_state.spawn(n_areas))
    return [np.random.default_rng(child) for child in np.random.SeedSequence(random_state).spawn(n_areas)]


def _on_all_sessions(stats, sessions, missing, name) -> xr.Dataset:
    """``stats`` reindexed onto every session: NaN where the area was not recorded, its flag saying so.

    A pairwise value (``session`` x ``session_other``) is missing when either session lacks the area; its flag
    names the session(s). A statistic referenced to the first session (``kernel_change``) of an area the first
    session lacks would be measured from another reference than every other area's: NaN, and its flag says so.
    """
    dims = [d for d in (SESSION, SESSION_OTHER) if d in stats.dims]
    ids = {SESSION: sessions, SESSION_OTHER: sessions}
    stats = stats.drop_vars([c for c in stats.coords if c not in stats.dims and SESSION in stats[c].dims
                             or c not in stats.dims and SESSION_OTHER in stats[c].dims])
    out = stats.reindex({d: ids[d] for d in dims})
    if not missing:
        return out
    gone = np.isin(np.asarray(sessions), list(missing))
    lost_reference = bool(gone[0])
    for var in [v for v in out.data_vars if str(v).endswith("_flag")]:
        flag = out[var]
        along = [d for d in (SESSION, SESSION_OTHER) if d in flag.dims]
        if not along or flag.dtype.kind not in "OUS":
            continue
        values = flag.values.astype(object)
        statistic = str(var)[: -len("_flag")]
        if lost_reference and statistic in FIRST_REFERENCED and flag.dims == (SESSION,):
            _clear(out, statistic)
            values[~gone] = (f"area {name!r} not recorded in the reference (first) session "
                             f"{sessions[0]}")
        cells = np.moveaxis(values, [flag.dims.index(d) for d in along], range(len(along)))
        for index in np.ndindex(*(len(sessions),) * len(along)):
            lacking = sorted({sessions[i] for i in index if gone[i]}, key=sessions.index)
            if lacking:
                cells[index] = (f"area {name!r} not recorded in session {lacking[0]}" if len(lacking) == 1 else
                                f"area {name!r} not recorded in sessions {', '.join(lacking)}")
        out[var] = (flag.dims, values)
    return out


def _clear(out, statistic) -> None:
    """NaN in the numeric variables of ``statistic`` (value, SE, interval, replicates)."""
    for var in [v for v in out.data_vars if v == statistic or str(v).startswith(statistic + "_")]:
        if str(var) != statistic + "_flag" and out[var].dtype.kind == "f":
            out[var] = out[var].copy(data=np.full(out[var].shape, np.nan))
