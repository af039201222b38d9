"""``read_nwb``: one NWB session -> the ``responses`` DataArray of :mod:`neurolearn.data`.

The hot path is h5py + numpy only (:mod:`~neurolearn.io.units`, :mod:`~neurolearn.io.series`, behind the
source kinds of :mod:`~neurolearn.io.kinds`); pynwb's object model is never built, which keeps reading fast
and lets old files (NWB 2.0b, MatNWB output) load that pynwb itself refuses. Planning (source, trials,
``where``, ``align``, windows) is in :mod:`~neurolearn.io.plan`; cell identity and subjects in
:mod:`~neurolearn.io.identity`; ``chunks=`` in :mod:`~neurolearn.io.lazy`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from neurolearn.errors import NeurolearnError, NWBError
from neurolearn.io.identity import (
    check_tracked,
    declared_tracking,
    file_identifier,
    file_subject_id,
    neuron_identity,
)
from neurolearn.io.inputs import read_inputs
from neurolearn.io.kinds import source_kind
from neurolearn.io.lazy import LOW_LEVEL_ERRORS, file_stamp, lazy_array, parse_chunks
from neurolearn.io.nwbfile import open_nwb, session_metadata
from neurolearn.io.params import check_bin_size, check_path, check_window
from neurolearn.io.plan import make_plan
from neurolearn.io.remote import source_name
from neurolearn.io.windows import DEFAULT_WINDOW

__all__ = ["read_nwb"]


def read_nwb(
    path,
    source="auto",
    trials="trials",
    align="start_time",
    window=None,
    bin_size=None,
    chunks=None,
    *,
    rates: bool = False,
    nan_policy: str = "raise",
    inputs=None,
    where=None,
    tracked=None,
) -> xr.DataArray:
    """Read one NWB session into a ``(trial, neuron)`` or ``(trial, neuron, time)`` DataArray.

    Parameters
    ----------
    path : str or path-like
        An NWB 2.x file. It is opened read-only and never modified. An ``http(s)://`` URL (a DANDI asset's
        ``.../assets/<id>/download/`` too: redirects are followed) or ``dandi://dandi/<dandiset>/<path>`` is
        read with HTTP range requests, fetching only what is read (:mod:`neurolearn.io.remote`; needs
        ``pip install 'neurolearn[remote]'``); ``source_file`` is then the URL.
    source : str
        ``"auto"``: the Units table if there is one, else the single RoiResponseSeries (one under DfOverF
        before one under Fluorescence), else the single ElectricalSeries (one inside an ``LFP`` or
        ``FilteredEphys`` container before one anywhere else, e.g. raw data in ``acquisition``); several
        candidates at the deciding step raise an :class:`NWBError` listing them ("pass source=<one of
        them>"). Or the path of any object inside the file: a Units table (``"units"``), a RoiResponseSeries
        (``"processing/ophys/DfOverF/RoiResponseSeries"``), an ElectricalSeries
        (``"processing/ecephys/LFP/ElectricalSeries"``) or any TimeSeries (``"acquisition/speed"``; a 1-D
        series is one neuron, a 2-D one is time x channels). An ElectricalSeries' channels are named by its
        ``electrodes`` region (the electrode table's ids, and its scalar columns ``location``,
        ``group_name``, ``x``/``y``/``z``... as coords; channel numbers, with a warning, if the reference is
        broken); its values are ``data * conversion * channel_conversion + offset`` in the data's ``unit``
        (``"volts"`` if unstated). What can be read is a registry of source kinds
        (:mod:`neurolearn.io.kinds`), in this priority order.
    trials : str or pandas.DataFrame
        Name of the interval table whose rows are the trials: ``"trials"``, any table in ``/intervals``
        (``"recognition"`` also finds ``recognition_table``) or a path inside the file. A DataFrame with a
        ``start_time`` column (one row per trial) may be given instead. Every scalar column becomes a coord on
        ``trial``; ragged, reference and multi-dimensional columns are skipped with a warning naming them.
    align : str or (str, str)
        Numeric trials column the window is relative to (``"start_time"``, ``"cue_start_time"``, ...). Its
        times are absolute (session clock) unless stated ``(column, "relative")`` (relative to each trial's
        ``start_time``), or detected: when more than half of them precede their own trial's start they cannot
        be absolute and are read as relative, with a warning; when some but fewer than half do, neither
        reading is safe and the read is refused until one is stated. ``(column, "absolute")`` turns the
        detection off. ``"column:relative"`` / ``"column:absolute"`` are the same as the tuples. Trials whose ``align``
        value is NaN are dropped with a warning.
    window : (float, float), optional
        Seconds relative to ``align``; the half-open interval ``[start, stop)`` of each trial. Windows are
        independent: overlapping trials stay separate trials. Default: ``(0, 1)``, the first second, kept the
        same for every file (so that sessions read alike stay comparable) rather than fitted to each file's
        trials; when that default reaches past a trial read (beyond its ``stop_time``, or into the next
        trial's start: trials shorter than 1 s), one warning counts those trials and names the ``window=``
        every trial fits, since such a window counts the next trial's spikes as this one's. A window that
        is passed is read as given, without that warning. Windows outside the recording in every trial,
        or with most of their time outside it (``(0, 1e6)``), are refused. Trials no unit was recorded in
        are left out with one warning counting them, since their zero counts would read as silence. Where
        the Units table declares ``obs_intervals`` they say when it was recorded: a trial is kept when some
        unit's intervals contain its window, even if no unit spiked in it. Without them the recording is the
        span from the first to the last spike of any unit (the sorter stopped, the probe was lost), and
        only windows entirely outside it are left out; one unit falling silent early leaves every trial in.
    bin_size : float, optional
        Split each window into bins of this many seconds -> dims ``(trial, neuron, time)`` with ``time`` the
        bin centres relative to ``align``. Must divide the window.
    chunks : int or dict, optional
        Return dask-backed data in blocks of this many trials/neurons (``{"trial": 200, "neuron": 50}``; an
        int applies to both). Nothing is read from the spike times or traces until ``.compute()``, except
        each unit's first and last stored spike (and, only when those put windows outside the recording, all
        spike times, since unsorted units are not bounded by them). Each block refuses to read a file whose
        modification time or size changed since this call.
    rates : bool
        For spikes: divide counts by the window (or bin) duration -> ``units="spikes/s"``. Default: counts,
        ``units="count"``, which round-trip exactly.
    nan_policy : {"raise", "omit"}
        NaN/inf samples of a trace inside a trial window: refuse (default; the error names the trials), or
        leave them out of the window mean with a warning that counts them. With ``"omit"`` a trial whose
        window (or one of its bins) has no finite sample in any channel/ROI (dropped frames) is left out, with
        one warning naming those trials, and ``attrs["where"]`` records the selection (``"id not in [3, 4]"``,
        joined to a given ``where=``). If no trial is left, or a channel/ROI has no finite sample in a window
        where others do, the read is refused.
    inputs : str or sequence of str, optional
        Paths of TimeSeries in the file that hold what each trial received (a stimulus, the input driving
        the network: ``"stimulus/presentation/input"``). Each is read over the same trial windows and bins as
        the neural data (window/bin means, like a trace source) and attached as a coord named after the
        series' last path component: ``(trial, time)`` when ``bin_size`` is given, else ``(trial,)``
        holding the window mean. :func:`neurolearn.summarize` regresses a ``(trial, time)`` coord called
        ``input`` out of its linear-dynamics fit. A series must have one channel (1-D, or 2-D with one
        column); the coord's attrs say which object it came from and its unit.
    where : str, optional
        Keep only the trials for which this pandas expression on the trials columns is true
        (``"response != 'early lick'"``, ```stim type` == 2 and correct``, ``"id >= 20"`` for the row ids);
        evaluated with :meth:`pandas.DataFrame.eval` before NaN ``align`` values are dropped. An expression
        that cannot be evaluated, gives no True/False per trial or selects nothing raises :class:`NWBError`
        naming it and the columns.
    tracked : None, bool, dict, str, path-like or pandas.DataFrame
        Whether the ``neuron`` ids name the same cells in other sessions (see :mod:`neurolearn.io.identity`).
        ``None`` (default): what the file declares (``neurolearn.tracked_cells: true`` in ``/general/notes``,
        or a file of neurolearn's own writer), else not tracked. Not tracked: ``neuron`` is
        ``"<session_id>/<id>"``. ``True``: ``neuron`` is the id. A table (CSV path or DataFrame with
        columns ``session``, ``unit`` or ``roi``, ``cell``): ``neuron`` is the cell id (str) of the row whose
        ``session`` is this file's session id, name or stem. ``{"column": "global_id"}``: the Units (or ROI)
        table's column ``global_id`` names each unit's cell (matching written into the files); ``neuron``
        is its value (str). The file's own id is always the coord ``unit_id``.

    Returns
    -------
    xarray.DataArray
        Named ``responses``; coords ``trial`` (table row ids) + one per trials column, ``neuron`` (cell
        identity, see ``tracked``), ``unit_id`` (unit ids / ROI ids / electrode ids / channel numbers of the
        file) + scalar unit (electrode) columns, and for units a ``location`` (the brain area, which
        :func:`neurolearn.stats.summarize_areas` splits by: the Units ``location`` column, else the location
        of each unit's first electrode, else of its ``electrode_group``; a value left blank or ``"unknown"``
        falls through to the next, unit by unit, padding is stripped, ``""`` where nothing states the area,
        and no ``location`` coord when no unit's area is stated). Units whose ``obs_intervals`` do not
        contain every trial window kept are left out with a warning (their counts there would read as
        silence; ``where=`` selects the trials of an observation epoch); attrs of
        :data:`neurolearn.data.REQUIRED_ATTRS` plus
        ``trials_table``, ``align``, ``align_times`` (``"absolute"`` or ``"relative to start_time"``),
        ``where`` (``""`` if none; after trials left out by ``nan_policy="omit"``, the ``where=`` expression
        that reads the same trials again), ``nwb_identifier`` (the file's NWB ``identifier``, ``""`` if it has none;
        :func:`~neurolearn.io.read_sessions` refuses two files with one), ``subject_id``
        (``/general/subject/subject_id``, else the ``sub-<label>`` of a DANDI/BIDS file name, else ``""``),
        ``tracked`` (bool) and ``tracking`` (how it was decided:
        ``"file"``, ``"argument"``, ``"table"`` or ``"undeclared"``).

    Raises
    ------
    NWBError
        A parameter has the wrong type or value (named in the message); the file is missing, not HDF5,
        truncated, locked by a writer, NWB 1.x, structurally inconsistent (a Units table without
        ``spike_times_index``, repeated unit/ROI ids, a ``channel_conversion`` without one factor per
        channel), has no neural data (or, for ``source="auto"``, several candidates at the deciding step) or
        no such trials table, the window lies outside the recording, spike times are NaN or infinite, or a
        trace has NaN inside a window (with ``nan_policy="raise"``), or an ``inputs`` path is not a
        TimeSeries of one channel, its samples do not cover every window/bin, or its name clashes with a
        coord. The message names the file. Spike times out of order within a unit (seen in real DANDI
        files) are sorted in memory with a warning, since a count does not depend on order.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.simulate.nwb import write_recording_nwb
    >>> counts = xr.DataArray(np.array([[0, 3], [2, 1]]), dims=("trial", "neuron"),
    ...                       coords={"stimulus": ("trial", ["a", "b"])}, attrs={"window": (0.0, 1.0)})
    >>> path = write_recording_nwb(counts, os.path.join(tempfile.mkdtemp(), "s.nwb"), rng=0)
    >>> rec = read_nwb(path)
    >>> rec.values.tolist(), rec.stimulus.values.tolist(), rec.attrs["units"]
    ([[0, 3], [2, 1]], ['a', 'b'], 'count')
    >>> read_nwb(path, tracked=False).neuron.values.tolist()  # ids unique to this session
    ['s/0', 's/1']
    """
    label = check_path(path)
    default_window = window is None
    window = check_window(DEFAULT_WINDOW if default_window else window)
    bin_size = check_bin_size(bin_size)
    if nan_policy not in ("raise", "omit"):
        raise NWBError(f"expected nan_policy 'raise' or 'omit', found {nan_policy!r}")
    if not isinstance(rates, (bool, np.bool_)):
        raise NWBError(f"expected rates= True or False, found {rates!r}")
    rates = bool(rates)
    tracked = check_tracked(tracked)
    with open_nwb(label) as handle:
        try:
            stamp = file_stamp(label)
            meta = session_metadata(handle, label)
            meta["subject_id"] = file_subject_id(handle, label)
            meta["nwb_identifier"] = file_identifier(handle)
            declared = declared_tracking(handle)
            plan = make_plan(handle, label, source, trials, align, window, bin_size, rates, nan_policy, where,
                             default_window=default_window)
            plan.file_stamp = stamp
            kind = source_kind(plan.kind)
            if chunks is not None:
                values = None
                kind.check_lazy(handle, plan)
            else:
                values = kind.read_eager(handle, plan)
            input_coords = read_inputs(handle, plan, inputs)
        except NeurolearnError:
            raise
        except LOW_LEVEL_ERRORS as error:
            what = trials if isinstance(trials, str) else type(trials).__name__
            raise NWBError(
                f"{label}: could not read source {source!r} with trials {what!r}: "
                f"{type(error).__name__}: {error}"
            ) from error
    if chunks is not None:
        values = lazy_array(plan, source_name(label), parse_chunks(chunks, plan.shape[:2]))
    names = (meta["session_id"], Path(label).name, Path(label).stem)
    neuron, is_tracked, how = neuron_identity(plan.neuron_ids, tracked, declared, meta["session_id"], names,
                                              label, plan.neuron_coords)
    identity = {"neuron": neuron, "tracked": is_tracked, "tracking": how}
    return _assemble(values, plan, meta, label, window, bin_size, input_coords, identity)


# --- labelling --------------------------------------------------------------------------------------------


def _assemble(values, plan, meta: dict, label: str, window, bin_size, input_coords, identity) -> xr.DataArray:
    dims = ("trial", "neuron") + (("time",) if plan.binned else ())
    coords = {"trial": plan.trial_ids, "neuron": identity["neuron"], "unit_id": ("neuron", plan.neuron_ids)}
    reserved = {"trial", "neuron", "time", "unit_id"}
    for name, column in plan.trial_coords.items():
        coords[name if name not in reserved else f"trials_{name}"] = ("trial", column)
    for name, column in plan.neuron_coords.items():
        key = name if name not in coords and name not in reserved else f"unit_{name}"
        coords[key] = ("neuron", column)
    if plan.binned:
        coords["time"] = plan.centres
    for name, (values_in, coord_attrs) in (input_coords or {}).items():
        if name in coords or name in reserved:
            raise NWBError(
                f"{label}: expected inputs= series whose names are not already coords, found {name!r} "
                f"(from {coord_attrs['source_object']!r}) clashing with an existing coord"
            )
        dims_in = ("trial", "time") if plan.binned else ("trial",)
        coords[name] = xr.Variable(dims_in, values_in, attrs=coord_attrs)
    attrs = {
        "session_id": meta["session_id"],
        "session_start_time": meta["session_start_time"],
        "source_file": source_name(label),
        "source_object": "/" + plan.object_path,
        # what kind of source it is ("units", "roi", ...): an ROI trace is seen through an indicator whatever
        # unit string the file gives it (lumens, n.a., %), which the dynamics statistics must know
        "source_kind": plan.kind,
        "units": plan.units,
        "window": tuple(float(w) for w in window),
        "bin_size": "none" if bin_size is None else float(bin_size),
        "nwb_version": meta["nwb_version"],
        "nwb_identifier": meta["nwb_identifier"],
        "trials_table": plan.trials_name,
        "align": plan.align,
        "align_times": plan.align_times,
        "where": plan.where,
        "subject_id": meta["subject_id"],
        "tracked": bool(identity["tracked"]),
        "tracking": identity["tracking"],
    }
    return xr.DataArray(values, dims=dims, coords=coords, name="responses", attrs=attrs)
