"""Wrong argument types and values are NWBErrors naming the parameter, before any file is opened."""

from __future__ import annotations

import pytest

from neurolearn.errors import NWBError
from neurolearn.io import describe_file, read_nwb, read_sessions


@pytest.mark.parametrize("path, message", [
    (123, r"expected path= a str or os.PathLike naming an NWB file, found int 123"),
    (b"units.nwb", r"found bytes b'units.nwb'; decode it first"),
    (None, "found NoneType"),
    ("", "found an empty string"),
])
def test_paths_that_are_not_text_paths_are_refused(path, message):
    with pytest.raises(NWBError, match=message):
        read_nwb(path)
    with pytest.raises(NWBError, match=message):
        describe_file(path)


def test_an_open_file_object_is_refused_saying_to_pass_its_path(units_file):
    with open(units_file, "rb") as handle:
        with pytest.raises(NWBError, match=r"found an open file object \(BufferedReader\); pass its path"):
            read_nwb(handle)
        with pytest.raises(NWBError, match="open file object"):
            read_sessions(handle)


@pytest.mark.parametrize("paths", [123, ["a.nwb", 5], [b"a.nwb"]])
def test_read_sessions_refuses_paths_of_the_wrong_type(paths):
    with pytest.raises(NWBError, match="paths_or_glob"):
        read_sessions(paths)


@pytest.mark.parametrize("option, value, message", [
    ("window", 5, r"expected window=\(start, stop\) in seconds relative to align, found int 5"),
    ("rates", "yes", "expected rates= True or False"),
    ("nan_policy", "drop", "expected nan_policy"),
    ("chunks", True, "expected chunks="),
    ("source", 3, "expected source="),
    ("trials", 3, "expected trials="),
    ("tracked", 2.5, "expected tracked="),
])
def test_read_nwb_option_errors_name_the_option(units_file, option, value, message):
    with pytest.raises(NWBError, match=message):
        read_nwb(units_file, **{option: value})


@pytest.mark.parametrize("option, value, message", [
    ("timeout", 0, "expected timeout="),
    ("timeout", "5", "expected timeout="),
    ("progress", "yes", "expected progress="),
    ("on_error", "ignore", "expected on_error"),
])
def test_read_sessions_option_errors_name_the_option(units_file, option, value, message):
    with pytest.raises(NWBError, match=message):
        read_sessions([units_file], **{option: value})


def test_read_sessions_names_an_unknown_option(units_file):
    with pytest.raises(NWBError, match=r"unknown option\(s\) \['windwo'\]"):
        read_sessions([units_file], windwo=(0, 1))
