"""The source-kind registry (neurolearn.io.kinds): order, lookups, and a new kind added in one small class."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pandas as pd
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import describe_file, format_description, read_nwb
from neurolearn.io.kinds import (
    SOURCE_KINDS,
    SourceKind,
    find_sources,
    register_source_kind,
    source_kind,
    unregister_source_kind,
)
from neurolearn.io.windows import count_in_bins

from .conftest import add_trials, new_nwbfile, save


# --- a toy kind: one class of ~20 lines is all a new source needs ---------------------------------------

class ClickKind(SourceKind):
    """Groups typed 'Clicks' holding ``click_times`` (N,) and ``channel`` (N,): counts per channel."""

    name, neurodata_types = "clicks", ("Clicks",)
    what, structure = ("a Clicks group", "Clicks groups"), "a Clicks group"

    def plan(self, handle, group, plan):
        plan.neuron_ids = np.unique(group["channel"][()])
        plan.units = "count"

    def read_block(self, handle, plan, trials, neurons):
        group = handle[plan.object_path]
        times, channel = group["click_times"][()], group["channel"][()]
        edges = plan.edges[trials]
        counts = np.stack([count_in_bins(np.sort(times[channel == c]), edges)
                           for c in plan.neuron_ids[neurons]], axis=1)
        return counts if plan.binned else counts[:, :, 0]

    def dtype(self, plan):
        return np.dtype(np.int64)


@pytest.fixture
def clicks():
    kind = register_source_kind(ClickKind())
    yield kind
    unregister_source_kind(kind.name)


@pytest.fixture
def click_file(tmp_path, rng):
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[1.0, 3.0, 5.0], stops=[2.0, 4.0, 6.0])
    path = save(nwbfile, tmp_path / "clicks.nwb")
    times = np.sort(rng.uniform(0.0, 7.0, size=300))
    channel = rng.choice([4, 7], size=times.size)
    with h5py.File(path, "r+") as handle:
        group = handle["acquisition"].create_group("clicks")
        group.attrs["neurodata_type"] = "Clicks"
        group["click_times"], group["channel"] = times, channel
    return path, times, channel


def test_a_registered_toy_kind_is_found_planned_and_read_eagerly_and_lazily(clicks, click_file):
    path, times, channel = click_file
    assert [k.name for k in SOURCE_KINDS] == ["units", "roi", "electrical", "clicks", "timeseries"]
    rec = read_nwb(path, window=(0.0, 0.5))  # source="auto" finds it: no other neural data in the file
    assert rec.attrs["source_object"] == "/acquisition/clicks" and rec.attrs["units"] == "count"
    assert rec.unit_id.values.tolist() == [4, 7]
    by_hand = [[int(np.sum((times >= s) & (times < s + 0.5) & (channel == c))) for c in (4, 7)]
               for s in (1.0, 3.0, 5.0)]
    assert rec.values.tolist() == by_hand
    lazy = read_nwb(path, window=(0.0, 0.5), bin_size=0.25, chunks={"trial": 2, "neuron": 1})
    assert lazy.dtype == np.int64 and lazy.chunks[:2] == ((2, 1), (1, 1))
    assert lazy.sum("time").values.tolist() == by_hand
    info = describe_file(path)
    assert info["clicks"] == [{"path": "acquisition/clicks", "type": "Clicks", "shape": []}]
    assert info["default_source"] == "acquisition/clicks"
    assert "clicks sources:" in format_description(info)


def test_without_the_kind_the_same_file_has_no_neural_data(click_file):
    with pytest.raises(NWBError, match="expected neural data .*found none"):
        read_nwb(click_file[0])


def test_registry_lookups_and_refusals(clicks):
    assert source_kind("electrical").neurodata_types == ("ElectricalSeries",)
    with pytest.raises(NWBError, match=r"expected a registered source kind, found 'lfp'; registered: \['u"):
        source_kind("lfp")
    with pytest.raises(NWBError, match="'clicks' already registered"):
        register_source_kind(ClickKind())
    with pytest.raises(NWBError, match="expected a SourceKind instance"):
        register_source_kind("clicks")
    with pytest.raises(NWBError, match="expected before= one of the registered kinds"):
        register_source_kind(type("Other", (ClickKind,), {"name": "other"})(), before="nope")


def test_builtin_kinds_implement_the_protocol_with_distinct_names():
    names = [k.name for k in SOURCE_KINDS]
    assert names == ["units", "roi", "electrical", "timeseries"]
    assert len({k.describe_key for k in SOURCE_KINDS}) == len(SOURCE_KINDS)
    for kind in SOURCE_KINDS:
        assert type(kind).plan is not SourceKind.plan and type(kind).read_block is not SourceKind.read_block
    assert [k.name for k in SOURCE_KINDS if not k.auto] == ["timeseries"]  # explicit paths only


def test_the_plan_stores_the_kind_by_name_and_pickles(units_file):
    from neurolearn.io.nwbfile import open_nwb
    from neurolearn.io.plan import make_plan

    with open_nwb(units_file) as handle:
        plan = make_plan(handle, str(units_file), "auto", "trials", "start_time", (0.0, 1.0), None, False,
                         "raise")
        again = pickle.loads(pickle.dumps(plan))
        assert again.kind == "units" and again.read(handle).tolist() == plan.read(handle).tolist()


def test_walk_gives_each_group_to_the_first_kind_that_claims_it(tmp_path, rng):
    from pynwb import TimeSeries
    from pynwb.ecephys import ElectricalSeries

    nwbfile = new_nwbfile()
    device = nwbfile.create_device(name="probe")
    shank = nwbfile.create_electrode_group(name="shank", description="s", location="CA1", device=device)
    nwbfile.add_electrode(group=shank, location="CA1")
    region = nwbfile.create_electrode_table_region([0], "one")
    nwbfile.add_acquisition(ElectricalSeries(name="es", data=np.zeros(20), electrodes=region, rate=10.0))
    nwbfile.add_acquisition(TimeSeries(name="speed", data=np.zeros(20), unit="m/s", rate=10.0))
    path = save(nwbfile, tmp_path / "walk.nwb")
    with h5py.File(path, "r") as handle:
        found = find_sources(handle)
    assert found.paths("electrical") == ["acquisition/es"]
    assert found.paths("timeseries") == ["acquisition/speed"]
    with pytest.raises(NWBError, match=r"expected 'general' to be a Units table or a TimeSeries, found a"):
        read_nwb(path, source="general", trials=pd.DataFrame({"start_time": [0.0]}))
