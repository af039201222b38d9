"""A batch read cannot be stalled: ``timeout=`` reads each file in a child process; a byte-flipping fuzzer.

The fuzzer flips single bits around the root group's attributes (where ``nwb_version`` lives) and in the
middle of a small file. Some of these files make libhdf5 crash or misbehave inside one C call when opened in
this process; through ``read_sessions(..., timeout=)`` every one of them either loads or raises a
NeurolearnError, within the time limit.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pytest

from neurolearn.errors import NeurolearnError, NWBError
from neurolearn.io import read_nwb, read_sessions
from neurolearn.io.isolate import call_with_timeout

from .conftest import file_hash

TIMEOUT = 20.0  # generous: the machine is shared; a healthy read of these files takes well under a second


def _sleep_then(seconds):
    time.sleep(seconds)
    return seconds


def _warn_and_return(value):
    warnings.warn("from the child", UserWarning)
    return value


def _crash():
    os._exit(3)  # as a segfault inside libhdf5 would: no answer, no exception


def _raise():
    raise NWBError("child refused")


def test_a_call_that_does_not_finish_is_stopped_at_the_limit():
    began = time.perf_counter()
    with pytest.raises(NWBError, match=r"stuck: reading did not finish within timeout=0.5 s"):
        call_with_timeout(_sleep_then, (60,), 0.5, "stuck")
    assert time.perf_counter() - began < 10


def test_results_warnings_errors_and_crashes_come_back_from_the_child():
    with pytest.warns(UserWarning, match="from the child"):
        assert call_with_timeout(_warn_and_return, (41,), TIMEOUT, "x") == 41
    with pytest.raises(NWBError, match="child refused"):
        call_with_timeout(_raise, (), TIMEOUT, "x")
    expected = r"crashed.nwb: the reader process died without an answer \(exit code 3\)"
    with pytest.raises(NWBError, match=expected):
        call_with_timeout(_crash, (), TIMEOUT, "crashed.nwb")


def test_read_sessions_with_a_timeout_gives_what_it_gives_without(units_file):
    plain = read_sessions([units_file])
    isolated = read_sessions([units_file], timeout=TIMEOUT)
    np.testing.assert_array_equal(isolated["s1"].responses.values, plain["s1"].responses.values)
    assert isolated["s1"].responses.attrs == plain["s1"].responses.attrs


def test_progress_prints_a_line_per_file_and_skip_leaves_bad_files_out(units_file, tmp_path, capsys):
    bad = tmp_path / "bad.nwb"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    with pytest.warns(UserWarning, match=r"left out .*bad\.nwb: .*damaged or truncated"):
        tree = read_sessions([bad, units_file], progress=True, on_error="skip")
    assert list(tree.children) == ["s1"]
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("[1/2] bad.nwb: skipped")
    assert lines[1].startswith("[2/2] units.nwb: 3 trials x 2 neurons")
    with pytest.raises(NWBError, match="damaged or truncated"):
        read_sessions([bad, units_file])


def _mutants(source, folder, rng, n_random=5):
    data = source.read_bytes()
    root = data.find(b"nwb_version")
    offsets = list(range(root - 40, root + 60, 10)) + rng.integers(0, len(data), n_random).tolist()
    for number, offset in enumerate(offsets):
        mutant = bytearray(data)
        mutant[offset] ^= 1 << int(rng.integers(0, 8))
        path = folder / f"mutant{number:03d}.nwb"
        path.write_bytes(bytes(mutant))
        yield path


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_fuzzer_every_bit_flipped_file_loads_or_is_refused_within_the_timeout(units_file, tmp_path, rng):
    outcomes = {"loaded": 0, "refused": 0}
    slowest = 0.0
    for path in _mutants(units_file, tmp_path, rng):
        before = file_hash(path)
        began = time.perf_counter()
        try:
            read_sessions([path], timeout=TIMEOUT, tracked=False)
            outcomes["loaded"] += 1
        except NeurolearnError as error:
            assert str(path) in str(error)
            outcomes["refused"] += 1
        slowest = max(slowest, time.perf_counter() - began)
        assert file_hash(path) == before
    assert slowest < TIMEOUT + 5
    assert outcomes["loaded"] and outcomes["refused"], outcomes  # the flips did hit something


def test_a_damaged_root_attribute_is_an_nwberror_not_a_raw_oserror(units_file, tmp_path):
    # flipping bits of the root attribute messages: every result is a load or an NWBError (in a child, since
    # some flips crash libhdf5), and at least one flip damages the version attribute itself
    data = units_file.read_bytes()
    root = data.find(b"nwb_version")
    messages = []
    for offset in range(root, root + 64, 4):
        mutant = bytearray(data)
        mutant[offset] ^= 1
        path = tmp_path / f"flip{offset}.nwb"
        path.write_bytes(bytes(mutant))
        try:
            call_with_timeout(read_nwb, (str(path),), TIMEOUT, str(path))
        except NWBError as error:
            messages.append(str(error))
    # (the flips at 48-60 bytes past the name are the raw OSError of issue 9, now typed)
    assert any("expected a readable root attribute 'nwb_version', found a damaged one (OSError" in m
               for m in messages), messages
