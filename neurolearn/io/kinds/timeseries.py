"""Any other TimeSeries, read by path only (``source="acquisition/speed"``).

The catch-all kind: it claims every group with data and a time base, so it is registered last.
"""

from __future__ import annotations

import numpy as np

from neurolearn.io.kinds.base import SourceKind
from neurolearn.io.nwbfile import is_timeseries
from neurolearn.io.series import plan_series, read_series_block

__all__ = ["TimeSeriesKind"]


class TimeSeriesKind(SourceKind):
    """A group with a ``data`` dataset and a time base: window/bin means; a 1-D series is one neuron, a 2-D
    one time x channels (channel numbers as ids). Never chosen by ``source="auto"``: which of a file's
    series is neural data is the user's to say. Also the kind ``inputs=`` series are read with."""

    name = "timeseries"
    neurodata_types = ("TimeSeries",)
    what = ("a TimeSeries", "TimeSeries")
    structure = "a TimeSeries"
    auto = False
    describe_key = "timeseries"
    describe_heading = "other time series"

    def claims(self, group) -> bool:
        return is_timeseries(group)

    def plan(self, handle, group, plan) -> None:
        plan_series(handle, group, plan)

    def read_block(self, handle, plan, trials, neurons) -> np.ndarray:
        return read_series_block(handle, plan, trials, neurons)
