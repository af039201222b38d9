"""read_sessions: a DataTree in session-start order, tracked neuron ids, unique child names, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.data import session_recordings
from neurolearn.errors import NWBError
from neurolearn.io import read_nwb, read_sessions
from neurolearn.simulate.nwb import write_recording_nwb


def _session(rng, session_id, start, neurons, n_trials):
    counts = rng.poisson(4.0, size=(n_trials, len(neurons)))
    return xr.DataArray(
        counts,
        dims=("trial", "neuron"),
        coords={"neuron": neurons},
        attrs={"session_id": session_id, "session_start_time": start, "window": (0.0, 0.5)},
    )


def test_sessions_are_ordered_by_start_time_not_file_name(tmp_path, rng):
    truths = {
        "a_file": _session(rng, "day3", "2026-03-03T09:00:00", [1, 2, 3], 5),
        "b_file": _session(rng, "day1", "2026-03-01T09:00:00", [1, 2], 4),
        "c_file": _session(rng, "day2", "2026-03-02T09:00:00+00:00", [2, 3, 4, 5], 6),
    }
    for name, truth in truths.items():
        write_recording_nwb(truth, tmp_path / f"{name}.nwb", rng=rng)
    tree = read_sessions(str(tmp_path / "*.nwb"), window=(0.0, 0.5))
    assert list(tree.children) == ["day1", "day2", "day3"]
    recordings = session_recordings(tree)
    by_id = {truth.attrs["session_id"]: truth for truth in truths.values()}
    for session_id, rec in recordings.items():
        np.testing.assert_array_equal(rec.values, by_id[session_id].values)
    # sessions differ in trials and neurons; neuron 2 is the same tracked cell on every day
    assert [r.sizes["trial"] for r in recordings.values()] == [4, 6, 5]
    tracked = set.intersection(*(set(r.neuron.values.tolist()) for r in recordings.values()))
    assert tracked == {2}


def test_start_times_that_do_not_decide_the_order_are_warned_and_a_given_order_is_kept(tmp_path, rng):
    # date-only conversions write one start time for every day: the order is then the file names', in
    # natural order (day2 before day10), said once; a caller who knows the order lists it with order="given"
    for name in ("day10", "day2", "day1"):
        write_recording_nwb(_session(rng, name, "2026-03-01T00:00:00", [1, 2], 4), tmp_path / f"{name}.nwb", rng=rng)
    with pytest.warns(UserWarning, match=r"does not decide the order of \['day1', 'day2', 'day10'\]") as caught:
        tree = read_sessions(str(tmp_path / "*.nwb"))
    assert list(tree.children) == ["day1", "day2", "day10"]
    assert sum("does not decide" in str(w.message) for w in caught) == 1
    given = [tmp_path / f"{name}.nwb" for name in ("day2", "day10", "day1")]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tree = read_sessions(given, order="given", window=(0.0, 0.5))  # the files' own trial window
    assert list(tree.children) == ["day2", "day10", "day1"]
    with pytest.raises(NWBError, match="expected order 'start_time' or 'given', found 'name'"):
        read_sessions(given, order="name")
    with pytest.raises(NWBError, match="order='given' needs the files listed in training order; a glob"):
        read_sessions(str(tmp_path / "*.nwb"), order="given")


def test_a_list_of_paths_and_repeated_session_ids_get_unique_names(tmp_path, rng):
    paths = [
        write_recording_nwb(
            _session(rng, "mouse1/day1", f"2026-03-0{d}T09:00:00", [0], 2), tmp_path / f"{d}.nwb"
        )
        for d in (1, 2)
    ]
    # two recordings written under one session id are two recordings (their NWB identifiers differ), named apart
    tree = read_sessions(paths, window=(0.0, 0.5))
    assert list(tree.children) == ["mouse1_day1", "mouse1_day1-2"]


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("read_sessions(chunks=...) computed something")


def test_lazy_sessions_stay_lazy_until_computed(tmp_path, rng):
    import dask
    import dask.array as da

    truths = [_session(rng, f"d{d}", f"2026-03-0{d}T09:00:00", [0, 1, 2], 5) for d in (1, 2)]
    for truth in truths:
        write_recording_nwb(truth, tmp_path / f"{truth.attrs['session_id']}.nwb", rng=rng)
    with dask.config.set(scheduler=_refuse_to_compute):
        tree = read_sessions(str(tmp_path / "*.nwb"), window=(0.0, 0.5), chunks=2)
        responses = [tree[name].dataset["responses"] for name in ("d1", "d2")]
        assert all(isinstance(r.data, da.Array) for r in responses)
        means = [r.mean("trial") for r in responses]
    with dask.config.set(scheduler="sync"):
        for truth, rec, mean in zip(truths, responses, means):
            np.testing.assert_array_equal(rec.values, truth.values)
            np.testing.assert_allclose(mean.values, truth.values.mean(axis=0))


def test_empty_glob_and_empty_list_are_refused(tmp_path):
    with pytest.raises(NWBError, match=r"expected NWB files matching .*nothing\*\.nwb', found none"):
        read_sessions(str(tmp_path / "nothing*.nwb"))
    with pytest.raises(NWBError, match="found an empty list"):
        read_sessions([])


def test_one_recording_listed_twice_is_refused_not_read_as_two_sessions(tmp_path, rng):
    import os
    import shutil

    path = write_recording_nwb(_session(rng, "day1", "2026-03-01T09:00:00", [0, 1], 3), tmp_path / "day1.nwb")
    other = write_recording_nwb(_session(rng, "day2", "2026-03-02T09:00:00", [0, 1], 3), tmp_path / "day2.nwb")
    with pytest.raises(NWBError, match=r"expected each file once, found the same path at positions 0 and 2 .*"
                                       r"pseudo-replication"):
        read_sessions([path, other, path])
    (tmp_path / "sub").mkdir()
    spelled = tmp_path / "sub" / ".." / "day1.nwb"  # one file under another spelling, and under a link
    os.symlink(path, tmp_path / "link.nwb")
    for alias in (spelled, tmp_path / "link.nwb"):
        with pytest.raises(NWBError, match=r"found the same file at positions 0 and 1"):
            read_sessions([path, alias])
    # a byte copy (a re-download, 'day1 (1).nwb') holds the same NWB identifier: refused naming both files
    copy = tmp_path / "day1 (1).nwb"
    shutil.copy(path, copy)
    identifier = read_nwb(path).attrs["nwb_identifier"]
    assert identifier.startswith("day1-")
    expected = (r"found '.*day1\.nwb' and '.*day1 \(1\)\.nwb' with the same NWB identifier "
                rf"'{identifier}' and the same "
                r"session_start_time: most likely one recording copied.*allow_same_identifier=True")
    with pytest.raises(NWBError, match=expected):
        read_sessions([path, copy, other])
    with pytest.raises(NWBError, match=expected):
        read_sessions([path, copy], timeout=60)  # read in child processes: the identifier comes back too
    tree = read_sessions([path, copy], allow_same_identifier=True)  # declared two recordings
    assert list(tree.children) == ["day1", "day1-2"]
    assert [tree[n].responses.attrs["nwb_identifier"] for n in tree.children] == [identifier, identifier]
    with pytest.raises(NWBError, match="expected allow_same_identifier= True or False, found 'yes'"):
        read_sessions([path], allow_same_identifier="yes")


def test_nan_policy_omit_reads_a_batch_whose_session_dropped_frames(tmp_path):
    # adversary S8-2: the one session with trials of dropped frames (all NaN) aborted the whole batch
    from .test_series import _frames, dropped_frames_file

    clean = _frames()
    dropped = _frames()
    dropped[60:100] = np.nan  # no finite frame in trials 3 and 4
    dropped_frames_file(tmp_path, clean, name="day0.nwb", session_id="day0")
    dropped_frames_file(tmp_path, dropped, name="day1.nwb", session_id="day1")
    with pytest.warns(UserWarning, match=r"day1\.nwb.*\(session 'day1'\): left out 2 of 10 trials.*\[3, 4\]"):
        tree = read_sessions(str(tmp_path / "day*.nwb"), window=(0.0, 1.0), nan_policy="omit", tracked=False)
    recordings = session_recordings(tree)
    assert {s: r.sizes["trial"] for s, r in recordings.items()} == {"day0": 10, "day1": 8}
    assert [r.attrs["where"] for r in recordings.values()] == ["", "id not in [3, 4]"]
    with pytest.raises(NWBError, match=r"day1\.nwb.*ids \[3, 4\].*nan_policy='omit'"):
        read_sessions(str(tmp_path / "day*.nwb"), window=(0.0, 1.0))
