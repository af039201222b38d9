"""The package's public surface: lazy re-exports and the error hierarchy."""

import subprocess
import sys

import pytest

import neurolearn as nl
from neurolearn.errors import DataError, FitError, NeurolearnError, NWBError


def test_errors_are_value_errors_and_share_a_base():
    for cls in (NWBError, DataError, FitError):
        assert issubclass(cls, NeurolearnError)
    assert issubclass(NeurolearnError, ValueError)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'load2'"):
        nl.load2


def test_import_is_cheap():
    # importing the package must not pull in the NWB stack or matplotlib (no import-time work)
    code = "import sys, neurolearn; print(any(m in sys.modules for m in ('pynwb', 'matplotlib', 'sklearn')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
