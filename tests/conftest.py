"""Shared, seeded fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT_ROOT.parent / "shared" / "nwb-corpus"


@pytest.fixture
def rng():
    """A fresh, seeded random generator for each test."""
    return np.random.default_rng(20261128)


@pytest.fixture(scope="session")
def corpus_dir():
    """The real-file NWB corpus beside the project, or skip where it is absent (a user's checkout)."""
    if not CORPUS.is_dir():
        pytest.skip(f"NWB corpus not found at {CORPUS}")
    return CORPUS


def load_script(path):
    """Import a script of the repository (data/make_examples.py, tutorials/make_notebooks.py) as a module."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
