"""NWB -> xarray, read-only.

* :func:`read_nwb` — one session -> the ``responses`` DataArray of :mod:`neurolearn.data`;
* :func:`read_sessions` — several sessions -> a DataTree in session-start order;
* :func:`describe_file` / :func:`format_description` — what a file holds (``neurolearn info FILE``).

Decisions worth knowing (the reasons are in the modules):

* Spikes are returned as **counts** per trial window or bin (``units="count"``), which round-trip exactly;
  ``rates=True`` divides by the window/bin duration (``"spikes/s"``). Traces are window/bin **means**.
* Windows and bins are half-open, ``[start, stop)``, relative to the ``align`` column; each trial has its own
  window, so overlapping trials stay separate trials.
* Files are read with h5py, never through pynwb's object model: it is faster, and old files that pynwb will
  not build (NWB 2.0b, MatNWB output) still load. NWB 1.x files are refused with a message saying so.
* Spike times out of order within a unit (seen in real DANDI sessions) are sorted in memory with a warning;
  NaN spike times are refused. NaN samples inside a trace window are refused unless ``nan_policy="omit"``,
  which averages the rest and warns with the number left out.
* ``chunks=`` returns dask arrays whose tasks reopen the file by path; nothing is read until computed.

Modules: :mod:`~neurolearn.io.nwbfile` (opening, versions, inventory), :mod:`~neurolearn.io.tables`
(trials/units columns), :mod:`~neurolearn.io.windows` (the numpy core: counts and means per window),
:mod:`~neurolearn.io.read`, :mod:`~neurolearn.io.sessions`, :mod:`~neurolearn.io.describe`.
"""

from neurolearn.io.describe import describe_file, format_description
from neurolearn.io.read import read_nwb
from neurolearn.io.sessions import read_sessions

__all__ = ["read_nwb", "read_sessions", "describe_file", "format_description"]
