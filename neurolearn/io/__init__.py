"""NWB -> xarray, read-only: :func:`read_nwb` (one session), :func:`read_sessions` (a DataTree of sessions),
:func:`describe_file` (what a file holds, for ``neurolearn info``)."""

from neurolearn.io.describe import describe_file, format_description
from neurolearn.io.read import read_nwb
from neurolearn.io.sessions import read_sessions

__all__ = ["read_nwb", "read_sessions", "describe_file", "format_description"]
