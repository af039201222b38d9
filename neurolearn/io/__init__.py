"""NWB -> xarray, read-only.

* :func:`read_nwb` — one session -> the ``responses`` DataArray of :mod:`neurolearn.data`;
* :func:`read_sessions` — several sessions -> a DataTree in session-start order;
* :func:`describe_file` / :func:`format_description` — what a file holds (``neurolearn info FILE``).

Decisions worth knowing (the reasons are in the modules):

* Spikes are returned as **counts** per trial window or bin (``units="count"``), which round-trip exactly;
  ``rates=True`` divides by the window/bin duration (``"spikes/s"``). Traces (ROI fluorescence, LFP and
  other ElectricalSeries, any TimeSeries) are window/bin **means**.
* What a file's neural data is comes from a registry of source kinds (:mod:`~neurolearn.io.kinds`: Units
  tables, RoiResponseSeries, ElectricalSeries, any TimeSeries by path), whose order is ``source="auto"``'s
  priority; a new kind is one module and its test.
* Windows and bins are half-open, ``[start, stop)``, relative to the ``align`` column; each trial has its own
  window, so overlapping trials stay separate trials. The default window is ``(0, 1)`` s for every file; where
  it reaches past a trial's stop or into the next trial (trials shorter than 1 s) one warning says how many
  and which ``window=`` fits.
* Trials nobody recorded are left out with a warning, not read as silence (:mod:`~neurolearn.io.extent`):
  a Units table's ``obs_intervals`` say when it was recorded (a trial inside some unit's intervals stays, even
  if silent; a unit not observed in every trial kept is left out), else the span of its spikes does.
* Files are read with h5py, never through pynwb's object model: it is faster, and old files that pynwb will
  not build (NWB 2.0b, MatNWB output) still load. NWB 1.x files are refused with a message saying so.
* Spike times out of order within a unit (seen in real DANDI sessions) are sorted in memory with a warning;
  NaN spike times are refused. NaN samples inside a trace window are refused unless ``nan_policy="omit"``,
  which averages the rest and warns with the number left out; a trial with no finite sample in its window
  (dropped frames) is then left out, named in one warning and recorded in ``attrs["where"]``.
* ``chunks=`` returns dask arrays whose tasks reopen the file by path; nothing is read until computed, and a
  block refuses to read a file whose modification time or size changed since it was opened.
* Cell identity is declared, never guessed (:mod:`~neurolearn.io.identity`): ``tracked=`` or the file's
  ``neurolearn.tracked_cells:`` note; otherwise ``neuron`` is ``"<session>/<unit id>"`` and ``unit_id`` keeps
  the file's id. Every recording carries ``subject_id``, ``tracked`` and ``tracking``.
* ``where=`` selects trials with a pandas expression; ``align=(column, "relative")`` reads event times
  relative to trial start (also detected, with a warning, where they cannot be absolute).
* Structural inconsistencies are refused, never guessed: a Units table without ``spike_times_index``,
  repeated unit/ROI ids, ids that do not match the index.
* ``read_sessions(timeout=)`` reads each file in a child process, so a file that hangs or crashes libhdf5
  cannot stall a batch.

Modules: :mod:`~neurolearn.io.nwbfile` (opening, versions, the walk through a file),
:mod:`~neurolearn.io.tables` (trials/units columns), :mod:`~neurolearn.io.windows` (the numpy core: counts and
means per window), :mod:`~neurolearn.io.params` (argument checks), :mod:`~neurolearn.io.kinds` (the source
kinds and their registry), :mod:`~neurolearn.io.plan`, :mod:`~neurolearn.io.sources`,
:mod:`~neurolearn.io.align` (``align``), :mod:`~neurolearn.io.units`, :mod:`~neurolearn.io.extent`,
:mod:`~neurolearn.io.series`,
:mod:`~neurolearn.io.inputs`, :mod:`~neurolearn.io.lazy`, :mod:`~neurolearn.io.identity`,
:mod:`~neurolearn.io.isolate`, :mod:`~neurolearn.io.read`, :mod:`~neurolearn.io.sessions`,
:mod:`~neurolearn.io.describe`.
"""

from neurolearn.io.describe import describe_file, format_description
from neurolearn.io.read import read_nwb
from neurolearn.io.sessions import read_sessions

__all__ = ["read_nwb", "read_sessions", "describe_file", "format_description"]
