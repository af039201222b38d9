"""neurolearn.data helpers added for real lab data: one tree per subject."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.data import split_subjects
from neurolearn.errors import DataError


def _session(subject, n_trials=3):
    attrs = {} if subject is None else {"subject_id": subject}
    return xr.Dataset({"responses": xr.DataArray(np.arange(n_trials * 2.0).reshape(n_trials, 2),
                                                 dims=("trial", "neuron"), attrs=attrs)})


def test_split_subjects_keeps_order_names_and_data_per_subject():
    tree = xr.DataTree.from_dict({"d1": _session("m1"), "d2": _session("m2", 4), "d3": _session("m1", 5),
                                  "d4": _session(None)})
    parts = split_subjects(tree)
    assert list(parts) == ["m1", "m2", ""]
    assert list(parts["m1"].children) == ["d1", "d3"]
    assert parts["m1"]["d3"].responses.sizes["trial"] == 5 and parts["m2"]["d2"].responses.sizes["trial"] == 4
    xr.testing.assert_identical(parts["m1"]["d1"].responses, tree["d1"].responses)


def test_split_subjects_refuses_what_is_not_a_tree_of_sessions():
    with pytest.raises(DataError, match="expected an xarray.DataTree"):
        split_subjects(_session("m1"))


def test_recordings_in_another_dim_order_are_put_in_order_and_others_named_how_to():
    import xarray as xr

    from neurolearn.data import in_canonical_order, validate_recording

    rec = xr.DataArray(np.arange(24.0).reshape(2, 3, 4), dims=("neuron", "time", "trial"))
    ordered = in_canonical_order(rec)
    assert ordered.dims == ("trial", "neuron", "time")
    assert ordered.values[3, 1, 2] == rec.values[1, 2, 3]
    with pytest.raises(DataError, match=r"another order: recording.transpose\('trial', 'neuron', 'time'\)"):
        validate_recording(rec)
    odd = rec.rename({"neuron": "cell"})
    assert in_canonical_order(odd) is odd


def test_repeated_neuron_ids_within_a_session_are_refused_naming_them():
    import dask.array as da

    from neurolearn.data import validate_recording

    values = np.arange(12.0).reshape(3, 4)
    rec = xr.DataArray(values, dims=("trial", "neuron"), coords={"neuron": ["a", "b", "a", "c"]})
    with pytest.raises(DataError, match=r"session 'd1': expected distinct neuron ids.*1 repeated \['a'\].*2 times"):
        validate_recording(rec, name="session 'd1'", allow_nan=True)
    # integer ids, several repeats, and a lazy recording: refused from the coord alone, nothing computed
    never = da.zeros((3, 4), chunks=1).map_blocks(_refuse_to_compute, dtype=float)
    lazy = xr.DataArray(never, dims=("trial", "neuron"), coords={"neuron": [7, 7, 3, 3]})
    with pytest.raises(DataError, match=r"2 repeated \[7, 3\]"):
        validate_recording(lazy)
    validate_recording(rec.assign_coords(neuron=["a", "b", "d", "c"]))
    validate_recording(xr.DataArray(values, dims=("trial", "neuron")))  # no coord: positions are distinct


def _refuse_to_compute(block):
    raise AssertionError("validate_recording computed a dask-backed recording")
