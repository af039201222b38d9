"""Write recordings in the data model to valid NWB 2.x files whose read-back is known exactly.

A ``(trial, neuron[, time])`` recording becomes a file such that :func:`neurolearn.read_nwb` with the same
window (and bin size) returns the same values:

* ``kind="units"``: the values are spike counts; each count's spikes are placed uniformly at random inside
  its trial window (or bin), and a few extra spikes are placed in the gaps between trials, where no window
  may count them.
* ``kind="ophys"``: a DfOverF ``RoiResponseSeries`` sampled at ``frame_rate`` (or with jittered
  ``timestamps``) whose frames in each window (or bin) vary around the value with zero mean, so the
  window mean equals the value; frames between trials are noise. A time-resolved recording's ``(trial,
  time)`` coord ``input`` (what drove each bin, see :mod:`neurolearn.simulate.rnn`) is also written, as the
  TimeSeries ``/stimulus/presentation/input`` sampled at the trace's frames and held constant over each bin
  (0 between trials), so ``read_nwb(..., inputs="stimulus/presentation/input")`` returns it per bin.

Trials are laid end to end with gaps, aligned on ``start_time``; every other trial coord becomes a trials
column, neuron ids become unit / ROI ids (a recording read back untracked, whose ``neuron`` values are
``"<session>/<id>"``, writes its ``unit_id`` coord), ``session_id`` / ``session_start_time`` /
``subject_id`` come from the attrs.

Cell identity is declared in every file: ``/general/notes`` holds the line ``neurolearn.tracked_cells: true``
(the neuron ids name the same cells in every session written so; the default, since simulated learners keep
their neurons) or ``... false`` (``tracked=False``, or a recording whose ``tracked`` attr is False).
:func:`neurolearn.read_nwb` honours it when its own ``tracked=`` is not given.
Which frames fall in which window is decided by :func:`neurolearn.io.windows.sample_positions`, the same
function the reader uses, so round trips hold by construction.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from neurolearn.errors import DataError

__all__ = ["write_recording_nwb", "write_sessions_nwb", "rates_to_counts"]

_DEFAULT_START = "2026-01-01T09:00:00+00:00"


def write_recording_nwb(
    recording: xr.DataArray,
    path,
    *,
    kind: str = "units",
    rng=None,
    frame_rate: float = 30.0,
    window=None,
    gap: float = 0.5,
    timestamps: bool = False,
    gap_spikes: bool = True,
    tracked=None,
) -> Path:
    """Write ``recording`` to ``path`` as an NWB file that :func:`neurolearn.read_nwb` reads back exactly.

    Parameters
    ----------
    recording : xarray.DataArray
        Dims ``("trial", "neuron")`` or ``("trial", "neuron", "time")``. For ``kind="units"`` the values are
        non-negative integer spike counts (floats within 1e-9 of an integer are rounded).
    path : str or path-like
        File to create (overwritten if it exists).
    kind : {"units", "ophys"}
        Spike times in a Units table, or a DfOverF RoiResponseSeries. For ``"ophys"``, a ``(trial, time)``
        coord ``input`` of a time-resolved recording is written as the TimeSeries
        ``/stimulus/presentation/input`` on the trace's frames, each bin's frames holding that bin's value
        (read it back with ``read_nwb(..., inputs="stimulus/presentation/input")``). Other 2-D coords are
        not written.
    rng : numpy.random.Generator or int, optional
        Seeds spike placement and frame noise.
    frame_rate : float
        Sampling rate (Hz) of the ophys trace; each window/bin must hold at least one frame.
    window : (float, float), optional
        Trial window relative to ``start_time``; default ``recording.attrs["window"]``, else ``(0, 1)``.
    gap : float
        Seconds between the end of one trial window and the start of the next.
    timestamps : bool
        For ophys, store jittered per-frame ``timestamps`` instead of ``rate`` + ``starting_time``.
    gap_spikes : bool
        For units, add spikes between trial windows (they must never be counted).
    tracked : bool, optional
        Declare in the file that its neuron ids name the same cells in every session written with
        ``tracked=True`` (``/general/notes``: ``neurolearn.tracked_cells: true``). Default: the recording's
        ``tracked`` attr, else True.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile, os
    >>> from neurolearn.io import read_nwb
    >>> rec = xr.DataArray(np.array([[0.5, -0.2], [1.0, 0.3]]), dims=("trial", "neuron"),
    ...                    coords={"neuron": [11, 12]}, attrs={"window": (0.0, 0.5)})
    >>> path = write_recording_nwb(rec, os.path.join(tempfile.mkdtemp(), "o.nwb"), kind="ophys", rng=1)
    >>> back = read_nwb(path, window=(0.0, 0.5))
    >>> np.allclose(back.values, rec.values), back.neuron.values.tolist(), back.attrs["units"]
    (True, [11, 12], 'dF/F')

    A time-resolved recording keeps the input each bin received:

    >>> timed = xr.DataArray(np.zeros((2, 1, 2)), dims=("trial", "neuron", "time"), attrs={"window": (0, 1)},
    ...                      coords={"input": (("trial", "time"), [[0.5, -1.0], [2.0, 0.25]])})
    >>> path = write_recording_nwb(timed, os.path.join(tempfile.mkdtemp(), "t.nwb"), kind="ophys", rng=1)
    >>> back = read_nwb(path, window=(0, 1), bin_size=0.5, inputs="stimulus/presentation/input")
    >>> back.input.dims, back.input.values.tolist()
    (('trial', 'time'), [[0.5, -1.0], [2.0, 0.25]])
    """
    from neurolearn.io.windows import window_edges

    rng = np.random.default_rng(rng)
    values, bin_size, window = _check_recording(recording, kind, window)
    n_trials = values.shape[0]
    if kind == "ophys":
        gap = max(float(gap), 2.0 / float(frame_rate))
    spacing = (window[1] - window[0]) + float(gap)
    align = max(0.0, -window[0]) + float(gap) + spacing * np.arange(n_trials)
    if kind == "ophys":
        # put trial starts half-way between frames, so no window edge sits on a frame time
        align = (np.floor(align * frame_rate) + 0.5) / frame_rate
    edges, _ = window_edges(align, window, bin_size)
    if tracked is None:
        tracked = bool(recording.attrs.get("tracked", True))
    nwbfile = _new_file(recording, path, bool(tracked), values)
    _add_trials(nwbfile, recording, align, window)
    if kind == "units":
        _add_units(nwbfile, recording, values, edges, rng, gap_spikes)
    else:
        _add_ophys(nwbfile, recording, values, edges, rng, float(frame_rate), timestamps)
    from pynwb import NWBHDF5IO

    path = Path(path)
    if path.exists():
        path.unlink()
    with NWBHDF5IO(os.fspath(path), "w") as io:
        io.write(nwbfile)
    return path


def write_sessions_nwb(recordings, folder, *, kind: str = "units", rng=None, **options) -> list[Path]:
    """Write each session of a DataTree (or a list of recordings) to ``folder/<session_id>.nwb``.

    Examples
    --------
    >>> import numpy as np, xarray as xr, tempfile
    >>> recs = [xr.DataArray(np.ones((2, 1), int), dims=("trial", "neuron"),
    ...                      attrs={"session_id": f"day{d}", "window": (0.0, 1.0)}) for d in (1, 2)]
    >>> [p.name for p in write_sessions_nwb(recs, tempfile.mkdtemp(), rng=0)]
    ['day1.nwb', 'day2.nwb']
    """
    if isinstance(recordings, xr.DataTree):
        recordings = [child.dataset["responses"] for child in recordings.children.values()]
    if isinstance(recordings, xr.DataArray) or not isinstance(recordings, Sequence):
        raise DataError(
            f"expected a DataTree of sessions or a list of recordings, found {type(recordings).__name__}"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rng)
    paths = []
    for number, recording in enumerate(recordings):
        session_id = str(recording.attrs.get("session_id", f"session-{number}"))
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", session_id) or f"session-{number}"
        paths.append(write_recording_nwb(recording, folder / f"{name}.nwb", kind=kind, rng=rng, **options))
    return paths


def rates_to_counts(recording: xr.DataArray, *, rng=None, duration=None) -> xr.DataArray:
    """Poisson spike counts with mean ``rate * duration`` from a recording of firing rates (spikes/s).

    ``duration`` defaults to the bin size (binned recordings) or the window length. The result has
    ``units="count"``, ready for :func:`write_recording_nwb`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rates = xr.DataArray(np.full((2000, 1), 20.0), dims=("trial", "neuron"), attrs={"window": (0, 0.5)})
    >>> counts = rates_to_counts(rates, rng=0)
    >>> bool(abs(float(counts.mean()) - 10.0) < 0.3), counts.attrs["units"]
    (True, 'count')
    """
    rates = np.asarray(recording.values, dtype=float)
    if not np.isfinite(rates).all() or (rates < 0).any():
        raise DataError("expected finite, non-negative firing rates, found negative or NaN values")
    if duration is None:
        window = recording.attrs.get("window", (0.0, 1.0))
        bin_size = recording.attrs.get("bin_size", "none")
        duration = float(bin_size) if "time" in recording.dims and bin_size != "none" else (
            float(window[1]) - float(window[0])
        )
        if "time" in recording.dims and bin_size == "none":
            duration /= recording.sizes["time"]
    counts = np.random.default_rng(rng).poisson(rates * float(duration))
    return recording.copy(data=counts).assign_attrs(units="count")


# --- helpers ------------------------------------------------------------------------------------------------


def _check_recording(recording, kind, window):
    if not isinstance(recording, xr.DataArray) or recording.dims not in (
        ("trial", "neuron"),
        ("trial", "neuron", "time"),
    ):
        found = getattr(recording, "dims", type(recording).__name__)
        raise DataError(f"expected a DataArray with dims (trial, neuron[, time]), found {found}")
    if kind not in ("units", "ophys"):
        raise DataError(f"expected kind 'units' or 'ophys', found {kind!r}")
    window = window if window is not None else recording.attrs.get("window", (0.0, 1.0))
    window = (float(window[0]), float(window[1]))
    if not window[1] > window[0]:
        raise DataError(f"expected window (start, stop) with start < stop, found {window}")
    values = np.asarray(recording.values, dtype=float)
    if not np.isfinite(values).all():
        raise DataError(f"expected finite values to write, found {int((~np.isfinite(values)).sum())} NaN/inf")
    if values.ndim == 2:
        values = values[:, :, None]
        bin_size = None
    else:
        bin_size = (window[1] - window[0]) / values.shape[2]
    if kind == "units":
        rounded = np.round(values)
        if np.any(np.abs(values - rounded) > 1e-9) or (rounded < 0).any():
            raise DataError(
                "expected non-negative integer spike counts for kind='units', found non-integer or negative "
                "values; use rates_to_counts() for firing rates"
            )
        values = rounded.astype(np.int64)
    return values, bin_size, window


def _identifier(session_id: str, subject_id: str, start: datetime, values: np.ndarray) -> str:
    """The file's NWB identifier: the session id plus a digest of subject, start time and values, so two
    animals' 'day00' (or two simulations of one day) are different recordings to the loader's duplicate check,
    and writing one recording twice gives one identifier (it is one recording)."""
    digest = hashlib.sha256()
    digest.update(f"{subject_id}\0{session_id}\0{start.isoformat()}\0{values.dtype.str}\0{values.shape}\0".encode())
    digest.update(np.ascontiguousarray(values).tobytes())
    return f"{session_id}-{digest.hexdigest()[:16]}"


def _new_file(recording, path, tracked: bool, values: np.ndarray):
    from pynwb import NWBFile
    from pynwb.file import Subject

    from neurolearn.io.identity import TRACKED_MARKER

    session_id = str(recording.attrs.get("session_id") or Path(path).stem)
    start = _parse_time(str(recording.attrs.get("session_start_time") or _DEFAULT_START))
    subject_id = str(recording.attrs.get("subject_id") or "")
    meaning = ("neuron ids name the same cells in every session declared tracked" if tracked
               else "neuron ids are not the same cells as in other sessions")
    return NWBFile(
        session_description=f"simulated recording {session_id} (neurolearn.simulate.nwb)",
        identifier=_identifier(session_id, subject_id, start, values),
        session_start_time=start,
        session_id=session_id,
        notes=f"{TRACKED_MARKER} {'true' if tracked else 'false'} ({meaning})",
        subject=Subject(subject_id=subject_id) if subject_id else None,
    )


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise DataError(f"expected an ISO 8601 session_start_time, found {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _column_data(values: np.ndarray):
    if values.dtype.kind in "US" or values.dtype.kind == "O":
        return np.asarray([str(v) for v in values], dtype=object)
    return values


def _add_trials(nwbfile, recording, align, window):
    from hdmf.common import VectorData
    from pynwb.epoch import TimeIntervals

    stop = align + max(window[1], 0.0)
    columns = [
        VectorData(name="start_time", description="trial start (s); windows are relative to it", data=align),
        VectorData(name="stop_time", description="trial stop (s)", data=stop),
    ]
    for name, coord in recording.coords.items():
        if name in ("trial", "start_time", "stop_time") or coord.dims != ("trial",):
            continue
        data = np.asarray(coord.values)
        if data.dtype.kind not in "biufUSO":
            continue
        columns.append(VectorData(name=str(name), description=f"trial coord {name}", data=_column_data(data)))
    ids = recording.coords["trial"].values if "trial" in recording.coords else np.arange(len(align))
    if np.asarray(ids).dtype.kind not in "iu":
        ids = np.arange(len(align))
    nwbfile.trials = TimeIntervals(
        name="trials", description="simulated trials", columns=columns, id=list(ids)
    )


def _neuron_ids(recording) -> list[int]:
    if "unit_id" in recording.coords and recording.coords["unit_id"].dims == ("neuron",):
        ids = recording.coords["unit_id"].values  # the file's own ids of a recording read back untracked
    elif "neuron" in recording.coords:
        ids = recording.coords["neuron"].values
    else:
        ids = np.arange(recording.sizes["neuron"])
    if np.asarray(ids).dtype.kind not in "iu":
        raise DataError(f"expected integer neuron ids (NWB table ids), found {np.asarray(ids).dtype}")
    return [int(i) for i in ids]


def _add_units(nwbfile, recording, counts, edges, rng, gap_spikes):
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    n_trials, n_neurons, n_bins = counts.shape
    low = edges[:, :-1]
    high = edges[:, 1:]
    per_neuron = []
    for neuron in range(n_neurons):
        c = counts[:, neuron, :].ravel()
        lo = np.repeat(low.ravel(), c)
        width = np.repeat((high - low).ravel(), c)
        times = lo + rng.random(lo.size) * width
        # a draw that rounds up onto the upper edge would belong to the next bin: keep it inside
        top = np.repeat(high.ravel(), c)
        times = np.where(times >= top, np.nextafter(top, -np.inf), times)
        if gap_spikes and n_trials > 1:
            gap_lo, gap_hi = edges[:-1, -1], edges[1:, 0]
            inside = gap_hi > gap_lo
            n_extra = rng.poisson(1.0, size=int(inside.sum()))
            g_lo = np.repeat(gap_lo[inside], n_extra)
            g_hi = np.repeat(gap_hi[inside], n_extra)
            extra = g_lo + (0.1 + 0.8 * rng.random(g_lo.size)) * (g_hi - g_lo)
            times = np.concatenate([times, extra])
        per_neuron.append(np.sort(times))
    ends = np.cumsum([t.size for t in per_neuron])
    spike_times = VectorData(
        name="spike_times",
        description="spike times (s), placed uniformly inside each trial window/bin",
        data=np.concatenate(per_neuron) if per_neuron else np.empty(0),
    )
    index = VectorIndex(name="spike_times_index", data=ends, target=spike_times)
    columns = [spike_times, index]
    for name, coord in recording.coords.items():
        scalar = np.asarray(coord.values).dtype.kind in "biufUSO"
        if name not in ("neuron", "unit_id") and coord.dims == ("neuron",) and scalar:
            columns.append(VectorData(name=str(name), description=f"neuron coord {name}",
                                      data=_column_data(np.asarray(coord.values))))
    nwbfile.units = Units(
        name="units", id=_neuron_ids(recording), columns=columns, description="simulated units"
    )


def _add_ophys(nwbfile, recording, values, edges, rng, frame_rate, use_timestamps):
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel, RoiResponseSeries

    from neurolearn.io.windows import sample_positions

    n_trials, n_neurons, n_bins = values.shape
    n_frames = int(np.ceil((edges[-1, -1] + 1.0) * frame_rate)) + 1
    if use_timestamps:
        jitter = rng.uniform(-0.2, 0.2, n_frames) / frame_rate
        times = (np.arange(n_frames) + 0.5 + jitter) / frame_rate
        positions = sample_positions(edges, timestamps=times)
    else:
        times = None
        positions = sample_positions(edges, rate=frame_rate, starting_time=0.0)
    if np.any(np.diff(positions, axis=1) <= 0):
        raise DataError(
            f"expected at least one frame per window/bin at frame_rate={frame_rate} Hz, found bins shorter "
            f"than a frame ({(edges[0, 1] - edges[0, 0]):.4g} s); raise frame_rate"
        )
    data = 0.1 * rng.standard_normal((n_frames, n_neurons))
    for trial in range(n_trials):
        for k in range(n_bins):
            lo, hi = positions[trial, k], positions[trial, k + 1]
            noise = 0.2 * rng.standard_normal((hi - lo, n_neurons))
            data[lo:hi] = values[trial, :, k] + (noise - noise.mean(axis=0))
    device = nwbfile.create_device(name="microscope", description="simulated two-photon microscope")
    channel = OpticalChannel(name="green", description="GCaMP", emission_lambda=520.0)
    plane = nwbfile.create_imaging_plane(
        name="plane", optical_channel=channel, description="simulated plane", device=device,
        excitation_lambda=920.0, indicator="GCaMP6f", location="simulated", imaging_rate=frame_rate,
    )
    segmentation = ImageSegmentation()
    ophys = nwbfile.create_processing_module(name="ophys", description="simulated optical physiology")
    ophys.add(segmentation)
    planes = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", description="one pixel per simulated ROI", imaging_plane=plane
    )
    for number, roi_id in enumerate(_neuron_ids(recording)):
        planes.add_roi(pixel_mask=[(number, 0, 1.0)], id=roi_id)
    region = planes.create_roi_table_region(region=list(range(n_neurons)), description="all ROIs")
    timing = {"timestamps": times} if use_timestamps else {"rate": frame_rate, "starting_time": 0.0}
    dff = DfOverF()
    ophys.add(dff)  # parent first, so the ROI region and its table share an ancestor
    dff.add_roi_response_series(
        RoiResponseSeries(name="RoiResponseSeries", data=data, rois=region, unit="n.a.", **timing)
    )
    _add_input(nwbfile, recording, positions, n_frames, timing)


def _add_input(nwbfile, recording, positions, n_frames, timing):
    """The ``(trial, time)`` coord ``input`` as a TimeSeries on the trace's frames: each bin's frames hold its
    value, so the reader's bin mean is that value (exactly, with one frame per bin)."""
    coord = recording.coords.get("input")
    if coord is None or "time" not in recording.dims or set(coord.dims) != {"trial", "time"}:
        return
    from pynwb import TimeSeries

    drive = np.asarray(coord.transpose("trial", "time").values, dtype=float)
    if not np.isfinite(drive).all():
        raise DataError(f"expected a finite (trial, time) coord 'input', found {int((~np.isfinite(drive)).sum())} "
                        "NaN/inf")
    data = np.zeros(n_frames)  # no input between trials
    for trial in range(drive.shape[0]):
        for k in range(drive.shape[1]):
            data[positions[trial, k] : positions[trial, k + 1]] = drive[trial, k]
    nwbfile.add_stimulus(TimeSeries(
        name="input", data=data, unit=str(coord.attrs.get("units", "a.u.")),
        description="input each trial received, held over each time bin (entry k drives the transition from "
                    "bin k to bin k+1: x_{k+1} = A x_k + B u_k); 0 between trials",
        **timing,
    ))
