"""``inputs=`` of :func:`~neurolearn.io.read_nwb`: what each trial received, read like a trace source."""

from __future__ import annotations

import os

import numpy as np

from neurolearn.errors import NWBError
from neurolearn.io.kinds import find_sources, source_kind
from neurolearn.io.kinds.electrical import channel_conversion
from neurolearn.io.nwbfile import is_timeseries, neurodata_type
from neurolearn.io.plan import Plan

__all__ = ["read_inputs"]


def read_inputs(handle, plan, inputs) -> dict:
    """``inputs=`` of :func:`read_nwb`: each TimeSeries read over ``plan``'s windows/bins with the trace code.

    Returns ``{name: (values (trial[, bin]), attrs)}``.
    """
    if inputs is None:
        return {}
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else inputs
    try:
        paths = [os.fspath(p) for p in paths]
    except TypeError:
        raise NWBError(
            f"{plan.label}: expected inputs= a TimeSeries path or a list of them, found {inputs!r}"
        ) from None
    found = {}
    for path in paths:
        key = path.strip("/")
        obj = handle.get(key) if key else None
        if not is_timeseries(obj):
            series = [p for p in find_sources(handle).paths() if is_timeseries(handle.get(p))]
            what = "nothing" if obj is None else f"a {neurodata_type(obj) or type(obj).__name__} without data"
            raise NWBError(
                f"{plan.label}: expected inputs= path {path!r} to be a TimeSeries, found {what}; "
                f"TimeSeries in the file: {series or 'none'}"
            )
        name = key.rsplit("/", 1)[-1]
        if name in found:
            raise NWBError(
                f"{plan.label}: expected inputs= series with distinct last path components, found {name!r} twice"
            )
        kind = source_kind("timeseries")  # an input is a trace of one channel, whatever its neurodata type
        sub = Plan(kind=kind.name, object_path=key, label=plan.label, edges=plan.edges, centres=plan.centres,
                    binned=plan.binned, neuron_ids=np.arange(0), nan_policy=plan.nan_policy, align=plan.align,
                    bin_duration=plan.bin_duration)
        kind.plan(handle, obj, sub)
        # an ElectricalSeries (NWB 2.1+) scales each channel by its own factor as well: read as a plain
        # TimeSeries it would come back in the wrong units
        sub.channel_conversion = channel_conversion(obj, sub.neuron_ids.shape[0],
                                                    f"{plan.label}: inputs= {path!r}")
        if sub.neuron_ids.shape[0] != 1:
            raise NWBError(
                f"{plan.label}: expected inputs= series {path!r} to have one channel, found "
                f"{sub.neuron_ids.shape[0]} (data shape {obj['data'].shape}); read it with source= instead"
            )
        values = sub.read(handle)[:, 0]  # (trial[, bin]) of the one channel
        found[name] = (values, {"source_object": "/" + key, "units": sub.units})
    return found


