"""ElectricalSeries as a first-class source: electrode ids and columns, conversions, auto choice, lazy reads.

Files are written with pynwb (not neurolearn's writer); expected values are window means computed by hand
with numpy from the sample times, which are exact binary fractions here (rate 128 Hz, trial starts in 1/8 s),
so the half-open windows are unambiguous for both the reader and the check.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import describe_file, format_description, read_nwb

from .conftest import add_trials, add_units, file_hash, new_nwbfile, save

RATE = 128.0
STARTS = np.array([0.5, 1.25, 2.0, 3.375])
N_SAMPLES = 640  # 5 s


def _electrodes(nwbfile):
    """Four electrodes (ids 10..13) on two shanks, with coordinates."""
    device = nwbfile.create_device(name="probe")
    shanks = [nwbfile.create_electrode_group(name=f"shank{k}", description="shank", location="CA1",
                                             device=device) for k in range(2)]
    for row, (location, shank) in enumerate([("CA1", 0), ("CA3", 0), ("DG", 1), ("CA1", 1)]):
        nwbfile.add_electrode(group=shanks[shank], location=location, x=float(row), y=2.0 * row, z=-1.0,
                              id=10 + row)


def _series(nwbfile, name, data, rows, *, conversion=1.0, offset=0.0, channel_conversion=None):
    from pynwb.ecephys import ElectricalSeries

    region = nwbfile.create_electrode_table_region(list(rows), f"{name} electrodes")
    return ElectricalSeries(name=name, data=data, electrodes=region, rate=RATE, starting_time=0.0,
                            conversion=conversion, offset=offset, channel_conversion=channel_conversion)


def _file(tmp_path, name="e.nwb", *, raw=None, lfp=(), units=False, lfp_container="LFP", rows=(3, 1, 0),
          **scaling):
    """A session with trials at STARTS and ElectricalSeries: ``raw`` in acquisition (data array or None) and
    each of ``lfp`` (name, data) in processing/ecephys/<lfp_container>."""
    from pynwb.ecephys import LFP, FilteredEphys

    nwbfile = new_nwbfile()
    _electrodes(nwbfile)
    add_trials(nwbfile, starts=STARTS, stops=STARTS + 0.5, stimulus=["a", "b", "a", "b"])
    if raw is not None:
        nwbfile.add_acquisition(_series(nwbfile, "raw", raw, rows, **scaling))
    if lfp:
        container = (LFP if lfp_container == "LFP" else FilteredEphys)(name=lfp_container)
        nwbfile.create_processing_module(name="ecephys", description="ecephys").add(container)
        for series_name, data in lfp:
            container.add_electrical_series(_series(nwbfile, series_name, data, rows, **scaling))
    if units:
        add_units(nwbfile, [np.linspace(0.1, 4.9, 50)])
    return save(nwbfile, tmp_path / name)


def _by_hand(data, window, bin_size=None, *, conversion=1.0, offset=0.0, channel_conversion=None):
    """Window (bin) means of every channel from the sample times, with NWB's scaling."""
    times = np.arange(data.shape[0]) / RATE
    edges = np.arange(window[0], window[1] + 1e-12, bin_size) if bin_size else np.array(window)
    factors = np.ones(data.shape[1]) if channel_conversion is None else np.asarray(channel_conversion)
    scale = conversion * factors
    out = np.empty((STARTS.size, data.shape[1], edges.size - 1))
    for trial, start in enumerate(STARTS):
        for k in range(edges.size - 1):
            inside = (times >= start + edges[k]) & (times < start + edges[k + 1])
            out[trial, :, k] = data[inside].mean(axis=0) * scale + offset
    return out if bin_size else out[..., 0]


@pytest.fixture
def voltages(rng):
    return rng.normal(0.0, 1.0, size=(N_SAMPLES, 3)).astype(np.float32)


def test_window_means_apply_conversion_offset_and_channel_conversion(tmp_path, voltages):
    scaling = {"conversion": 0.5, "offset": 0.25, "channel_conversion": [1.0, 2.0, 4.0]}
    path = _file(tmp_path, raw=voltages, **scaling)
    before = file_hash(path)
    rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.attrs["source_object"] == "/acquisition/raw" and rec.attrs["units"] == "volts"
    np.testing.assert_allclose(rec.values, _by_hand(voltages.astype(float), (0.0, 0.25), **scaling),
                               rtol=1e-6, atol=1e-7)
    binned = read_nwb(path, window=(-0.25, 0.5), bin_size=0.125)
    assert binned.sizes == {"trial": 4, "neuron": 3, "time": 6}
    expected = _by_hand(voltages.astype(float), (-0.25, 0.5), 0.125, **scaling)
    np.testing.assert_allclose(binned.values, expected, rtol=1e-6, atol=1e-7)
    # the factors matter: without them the means differ (the check can fail)
    assert not np.allclose(rec.values, _by_hand(voltages.astype(float), (0.0, 0.25)), atol=1e-3)
    assert file_hash(path) == before


def test_channels_are_named_by_the_electrodes_table(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages, rows=(3, 1, 0))
    rec = read_nwb(path, window=(0.0, 0.25), tracked=True)
    assert rec.unit_id.values.tolist() == [13, 11, 10] and rec.neuron.values.tolist() == [13, 11, 10]
    assert rec.location.values.tolist() == ["CA1", "CA3", "CA1"]
    assert rec.group_name.values.tolist() == ["shank1", "shank0", "shank0"]
    np.testing.assert_allclose(rec.x.values, [3.0, 1.0, 0.0])
    np.testing.assert_allclose(rec.y.values, [6.0, 2.0, 0.0])
    assert rec.stimulus.values.tolist() == ["a", "b", "a", "b"]


def test_group_name_is_decoded_from_the_group_references_when_the_column_is_absent(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages)
    with h5py.File(path, "r+") as handle:
        table = handle["general/extracellular_ephys/electrodes"]
        del table["group_name"]
        table.attrs["colnames"] = [c for c in table.attrs["colnames"] if c != "group_name"]
    rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.group_name.values.tolist() == ["shank1", "shank0", "shank0"]


@pytest.mark.parametrize("damage", ["rows out of range", "no table reference", "no region"])
def test_a_broken_electrodes_reference_falls_back_to_channel_numbers(tmp_path, voltages, damage):
    path = _file(tmp_path, raw=voltages)
    with h5py.File(path, "r+") as handle:
        region = handle["acquisition/raw/electrodes"]
        if damage == "rows out of range":
            region[...] = np.array([0, 1, 9])
        elif damage == "no table reference":
            del region.attrs["table"]
        else:
            del handle["acquisition/raw/electrodes"]
    with pytest.warns(UserWarning, match="electrodes reference is broken.*named by their numbers 0..2"):
        rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.unit_id.values.tolist() == [0, 1, 2] and "location" not in rec.coords
    np.testing.assert_allclose(rec.values, _by_hand(voltages.astype(float), (0.0, 0.25)), rtol=1e-6,
                               atol=1e-7)


def test_units_attribute_is_the_unit_and_volts_when_unstated(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages)
    with h5py.File(path, "r+") as handle:
        handle["acquisition/raw/data"].attrs["unit"] = "microvolts"
    assert read_nwb(path, window=(0.0, 0.25)).attrs["units"] == "microvolts"
    with h5py.File(path, "r+") as handle:
        del handle["acquisition/raw/data"].attrs["unit"]
    assert read_nwb(path, window=(0.0, 0.25)).attrs["units"] == "volts"


def test_channel_conversion_of_the_wrong_length_is_refused(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages, channel_conversion=[1.0, 2.0, 4.0])
    with h5py.File(path, "r+") as handle:
        del handle["acquisition/raw/channel_conversion"]
        handle["acquisition/raw/channel_conversion"] = np.array([1.0, 2.0])
    with pytest.raises(NWBError, match=r"e\.nwb: ElectricalSeries 'acquisition/raw': expected "
                                       r"channel_conversion with one finite factor per channel \(3\)"):
        read_nwb(path, window=(0.0, 0.25))


def test_auto_prefers_the_lfp_to_the_raw_series_and_reads_either_by_path(tmp_path, rng, voltages):
    lfp = rng.normal(size=(N_SAMPLES, 3))
    path = _file(tmp_path, raw=voltages, lfp=[("lfp", lfp)])
    rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.attrs["source_object"] == "/processing/ecephys/LFP/lfp"
    np.testing.assert_allclose(rec.values, _by_hand(lfp, (0.0, 0.25)), rtol=1e-12, atol=1e-12)
    raw = read_nwb(path, source="acquisition/raw", window=(0.0, 0.25))
    np.testing.assert_allclose(raw.values, _by_hand(voltages.astype(float), (0.0, 0.25)), rtol=1e-6,
                               atol=1e-7)
    info = describe_file(path)
    assert [e["path"] for e in info["electrical_series"]] == ["acquisition/raw", "processing/ecephys/LFP/lfp"]
    assert info["electrical_series"][1]["parent"] == "LFP" and info["timeseries"] == []
    assert info["default_source"] == "processing/ecephys/LFP/lfp"
    assert "electrical series:" in format_description(info)
    filtered = _file(tmp_path, "f.nwb", raw=voltages, lfp=[("theta", lfp)], lfp_container="FilteredEphys")
    chosen = read_nwb(filtered, window=(0.0, 0.25)).attrs["source_object"]
    assert chosen == "/processing/ecephys/FilteredEphys/theta"


def test_several_candidates_are_refused_naming_them(tmp_path, rng, voltages):
    two_lfp = _file(tmp_path, "two.nwb", raw=voltages, lfp=[("lfp1", voltages), ("lfp2", voltages)])
    expected = (r"two\.nwb: found several ElectricalSeries in LFP/FilteredEphys containers: "
                r"\['processing/ecephys/LFP/lfp1', 'processing/ecephys/LFP/lfp2'\]; "
                r"pass source=<one of them>")
    with pytest.raises(NWBError, match=expected):
        read_nwb(two_lfp)
    assert describe_file(two_lfp)["default_source"] is None
    nwbfile = new_nwbfile()
    _electrodes(nwbfile)
    add_trials(nwbfile, starts=STARTS, stops=STARTS + 0.5)
    for name in ("probe_a", "probe_b"):
        nwbfile.add_acquisition(_series(nwbfile, name, voltages, (0, 1, 2)))
    two_raw = save(nwbfile, tmp_path / "raw2.nwb")
    with pytest.raises(NWBError, match=r"found several ElectricalSeries: \['acquisition/probe_a', "
                                       r"'acquisition/probe_b'\]; pass source=<one of them>"):
        read_nwb(two_raw)


def test_a_units_table_comes_before_any_electrical_series(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages, lfp=[("lfp", voltages)], units=True)
    rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.attrs["source_object"] == "/units" and rec.attrs["units"] == "count"


def test_lazy_read_equals_the_eager_one(tmp_path, voltages):
    path = _file(tmp_path, raw=voltages, conversion=2.0, channel_conversion=[1.0, 0.5, 3.0])
    eager = read_nwb(path, window=(0.0, 0.5), bin_size=0.25)
    lazy = read_nwb(path, window=(0.0, 0.5), bin_size=0.25, chunks={"trial": 3, "neuron": 2})
    assert lazy.chunks == ((3, 1), (2, 1), (2,)) and lazy.dtype == np.float64
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-12, atol=1e-12)
    assert lazy.unit_id.values.tolist() == eager.unit_id.values.tolist()


def test_a_one_dimensional_series_is_one_channel(tmp_path, voltages):
    nwbfile = new_nwbfile()
    _electrodes(nwbfile)
    add_trials(nwbfile, starts=STARTS, stops=STARTS + 0.5)
    nwbfile.add_acquisition(_series(nwbfile, "single", voltages[:, 0], (2,), channel_conversion=[3.0]))
    path = save(nwbfile, tmp_path / "one.nwb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an intact reference: no fallback warning
        rec = read_nwb(path, window=(0.0, 0.25))
    assert rec.unit_id.values.tolist() == [12] and rec.location.values.tolist() == ["DG"]
    expected = _by_hand(voltages[:, :1].astype(float), (0.0, 0.25), channel_conversion=[3.0])
    np.testing.assert_allclose(rec.values, expected, rtol=1e-6, atol=1e-7)
