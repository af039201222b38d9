"""read_nwb of optical physiology and any TimeSeries: window and bin means round-trip, ROI references, the
imaging plane's area, source choice and NaN frames (split from test_read.py)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb
from neurolearn.simulate.nwb import write_recording_nwb

from .conftest import add_trials, new_nwbfile, save

# --- optical physiology and any TimeSeries ------------------------------------------------------------------


def _dff_recording(rng, n_trials=6, n_neurons=4, n_bins=None):
    shape = (n_trials, n_neurons) + ((n_bins,) if n_bins else ())
    dims = ("trial", "neuron") + (("time",) if n_bins else ())
    return xr.DataArray(
        rng.normal(size=shape),
        dims=dims,
        coords={"neuron": [3, 8, 21, 40][:n_neurons], "stimulus": ("trial", np.arange(n_trials) % 2)},
        attrs={"window": (-0.5, 1.0), "session_id": "imaging"},
    )


@pytest.mark.parametrize("timestamps", [False, True])
def test_ophys_window_means_round_trip(tmp_path, rng, timestamps):
    truth = _dff_recording(rng)
    path = write_recording_nwb(truth, tmp_path / "dff.nwb", kind="ophys", rng=rng, timestamps=timestamps)
    rec = read_nwb(path, window=(-0.5, 1.0))
    np.testing.assert_allclose(rec.values, truth.values, rtol=0, atol=1e-12)
    assert rec.neuron.values.tolist() == [3, 8, 21, 40]  # ROI ids from the PlaneSegmentation
    assert rec.attrs["units"] == "dF/F"
    assert rec.attrs["source_object"] == "/processing/ophys/DfOverF/RoiResponseSeries"
    assert rec.stimulus.values.tolist() == truth.stimulus.values.tolist()


def test_a_broken_roi_reference_names_rois_by_channel_with_a_warning(tmp_path, rng):
    # some h5py/MATLAB writers leave the 'rois' region without its 'table' attribute: the trace still reads,
    # but the file's ROI ids (3, 8, 21, 40) are unknown and channel numbers stand in, which must be said
    import h5py

    path = write_recording_nwb(_dff_recording(rng), tmp_path / "dff.nwb", kind="ophys", rng=rng)
    with h5py.File(path, "r+") as handle:
        del handle["processing/ophys/DfOverF/RoiResponseSeries/rois"].attrs["table"]
    with pytest.warns(UserWarning, match="'rois' reference to the ROI table cannot be resolved"):
        rec = read_nwb(path, window=(-0.5, 1.0))
    assert rec.neuron.values.tolist() == [0, 1, 2, 3]


def _suite2p_like_file(tmp_path, location="VISp", with_location_column=False):
    """A two-photon file as suite2p/NeuroConv write it: 3 ROIs with an ``iscell`` classifier column, an
    imaging plane naming the area, and dF/F of only ROIs 2 and 0 (the region picks table rows out of order)."""
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel, RoiResponseSeries

    nwbfile = new_nwbfile()
    device = nwbfile.create_device(name="scope")
    plane = nwbfile.create_imaging_plane(
        name="plane0", optical_channel=OpticalChannel(name="green", description="GCaMP", emission_lambda=510.0),
        description="layer 2/3", device=device, excitation_lambda=920.0, imaging_rate=10.0,
        indicator="GCaMP6s", location=location)
    ophys = nwbfile.create_processing_module(name="ophys", description="optical physiology")
    images = ImageSegmentation(name="ImageSegmentation")
    ophys.add(images)
    segmentation = images.create_plane_segmentation(name="PlaneSegmentation", description="suite2p",
                                                    imaging_plane=plane)
    segmentation.add_column(name="iscell", description="classifier says cell")
    if with_location_column:
        segmentation.add_column(name="location", description="area of each ROI")
    for number in range(3):
        extra = {"location": ["ALM", "M1", "ALM"][number]} if with_location_column else {}
        segmentation.add_roi(image_mask=np.ones((4, 4)) * (number + 1), iscell=bool(number != 1), id=10 + number,
                             **extra)
    region = segmentation.create_roi_table_region(region=[2, 0], description="two ROIs")
    data = np.arange(60, dtype=float).reshape(30, 2)
    ophys.add(DfOverF(roi_response_series=[RoiResponseSeries(name="RoiResponseSeries", data=data, rois=region,
                                                             unit="n.a.", rate=10.0, starting_time=0.0)]))
    add_trials(nwbfile, starts=[0.0, 1.0], stops=[1.0, 2.0])
    return save(nwbfile, tmp_path / "suite2p.nwb")


def test_roi_table_columns_and_the_imaging_plane_area_become_neuron_coords(tmp_path):
    rec = read_nwb(_suite2p_like_file(tmp_path))
    assert rec.unit_id.values.tolist() == [12, 10]  # the region's rows 2 and 0, by the table's ids
    assert rec.attrs["source_kind"] == "roi"  # the dynamics statistics name the indicator from it
    assert rec.iscell.values.tolist() == [True, True] and rec.location.values.tolist() == ["VISp", "VISp"]
    # a location column of the table is more specific than the plane's and wins, ROI by ROI
    own = read_nwb(_suite2p_like_file(tmp_path, with_location_column=True))
    assert own.location.values.tolist() == ["ALM", "ALM"]
    # NeuroConv's placeholder area says nothing
    unknown = read_nwb(_suite2p_like_file(tmp_path, location="unknown"))
    assert "location" not in unknown.coords


def test_ophys_bin_means_round_trip(tmp_path, rng):
    truth = _dff_recording(rng, n_bins=3)
    path = write_recording_nwb(truth, tmp_path / "dff_bins.nwb", kind="ophys", rng=rng, frame_rate=20.0)
    rec = read_nwb(path, window=(-0.5, 1.0), bin_size=0.5)
    np.testing.assert_allclose(rec.values, truth.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rec.time.values, [-0.25, 0.25, 0.75])


def _series_file(tmp_path, data, *, rate=10.0, name="lfp", with_trials=True):
    from pynwb import TimeSeries

    nwbfile = new_nwbfile()
    nwbfile.add_acquisition(TimeSeries(name=name, data=data, unit="V", rate=rate, starting_time=0.0))
    if with_trials:
        add_trials(nwbfile, starts=[0.0, 1.0], stops=[0.5, 1.5])
    return save(nwbfile, tmp_path / f"{name}.nwb")


def test_any_timeseries_by_path_one_and_two_dimensional(tmp_path):
    samples = np.arange(40, dtype=float)  # value = sample index; sample i at i / 10 s
    path = _series_file(tmp_path, samples)
    rec = read_nwb(path, source="acquisition/lfp", window=(0.0, 0.5))
    # trial 0 averages samples 0..4, trial 1 samples 10..14
    assert rec.values.tolist() == [[2.0], [12.0]] and rec.attrs["units"] == "V"
    two = _series_file(tmp_path, np.stack([samples, -samples], axis=1), name="ecog")
    rec2 = read_nwb(two, source="/acquisition/ecog", window=(0.0, 0.5))
    assert rec2.values.tolist() == [[2.0, -2.0], [12.0, -12.0]] and rec2.unit_id.values.tolist() == [0, 1]


def test_auto_source_without_neural_data_lists_what_was_found(tmp_path):
    path = _series_file(tmp_path, np.zeros(40))
    expected = r"lfp\.nwb: expected neural data .*found none; other TimeSeries: \['acquisition/lfp \[40\]'\]"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path)
    expected = r"expected 'acquisition/none' to be a Units table or a TimeSeries, found nothing"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, source="acquisition/none")


def test_dfoverf_is_preferred_to_fluorescence_and_two_candidates_are_refused(tmp_path):
    from pynwb.testing.mock.ophys import mock_PlaneSegmentation, mock_RoiResponseSeries

    from pynwb.ophys import DfOverF, Fluorescence

    def build(with_dff: bool, second_flu: bool):
        nwbfile = new_nwbfile()
        module = nwbfile.create_processing_module(name="ophys", description="ophys")
        planes = mock_PlaneSegmentation(nwbfile=nwbfile, n_rois=2)
        region = planes.create_roi_table_region(region=[0, 1], description="rois")
        flu = Fluorescence(name="Fluorescence")
        module.add(flu)
        flu.add_roi_response_series(mock_RoiResponseSeries(
            name="raw", data=np.ones((50, 2)), rois=region, rate=10.0))
        if second_flu:
            flu.add_roi_response_series(mock_RoiResponseSeries(
                name="neuropil", data=np.ones((50, 2)), rois=region, rate=10.0))
        if with_dff:
            dff = DfOverF(name="DfOverF")
            module.add(dff)
            dff.add_roi_response_series(mock_RoiResponseSeries(
                name="dff", data=np.full((50, 2), 2.0), rois=region, rate=10.0))
        add_trials(nwbfile, starts=[0.5, 2.0], stops=[1.0, 2.5])
        return nwbfile

    both = save(build(True, False), tmp_path / "both.nwb")
    assert read_nwb(both).attrs["source_object"] == "/processing/ophys/DfOverF/dff"
    flu_only = save(build(False, False), tmp_path / "flu.nwb")
    assert read_nwb(flu_only).attrs["source_object"] == "/processing/ophys/Fluorescence/raw"
    two = save(build(False, True), tmp_path / "two.nwb")
    expected = r"two\.nwb: found several RoiResponseSeries under Fluorescence.*neuropil"
    with pytest.raises(NWBError, match=expected):
        read_nwb(two)


def test_nan_in_fluorescence_is_refused_or_omitted_with_a_count(tmp_path):
    data = np.arange(40, dtype=float)
    data[2] = np.nan  # inside trial 0's window (samples 0..4)
    data[30] = np.nan  # outside every window: harmless
    path = _series_file(tmp_path, data)
    expected = r"lfp\.nwb.*found NaN/inf samples inside trial windows \(1 NaN/inf samples in 1"
    with pytest.raises(NWBError, match=expected):
        read_nwb(path, source="acquisition/lfp", window=(0.0, 0.5))
    with pytest.warns(UserWarning, match="left 1 NaN/inf samples out"):
        rec = read_nwb(path, source="acquisition/lfp", window=(0.0, 0.5), nan_policy="omit")
    assert rec.values.tolist() == [[(0 + 1 + 3 + 4) / 4], [12.0]]


def test_series_window_outside_recording_and_too_short_bins_are_refused(tmp_path):
    path = _series_file(tmp_path, np.zeros(40))
    with pytest.raises(NWBError, match=r"expected trial windows inside the recording \(0 s to 4 s\)"):
        read_nwb(path, source="acquisition/lfp", window=(0.0, 5.0))
    with pytest.raises(NWBError, match="shorter than the sampling interval"):
        read_nwb(path, source="acquisition/lfp", window=(0.0, 0.5), bin_size=0.05)
