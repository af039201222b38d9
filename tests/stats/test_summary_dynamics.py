"""summarize's dynamics statistics take their conditions from summarize's by=, as every other family does."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import neurolearn as nl

DATA = Path(__file__).resolve().parents[2] / "data"
DYNAMICS = ("outlier_eigenvalue", "timescale")


@pytest.fixture(scope="module")
def integration():
    read = json.loads((DATA / "examples.json").read_text())["datasets"]["integration"]["read"]
    tree = nl.read_sessions(str(DATA / "integration" / "day0[0-2].nwb"), **read)
    return {key: node["responses"] for key, node in tree.children.items()}


def _dynamics(recordings, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nl.summarize(recordings, target="target", behavior="correct", readout=False, n_boot=20,
                            random_state=0, input="input", indicator_tau=0.0, **kwargs)


def test_the_conditions_of_the_dynamics_are_summarize_by(integration):
    # the dynamics took their conditions from a 'stimulus' coord whatever by= said: a session whose conditions are
    # named 'image' had no condition means removed, and its stimulus drive entered the fit as recurrence
    renamed = {key: rec.rename(stimulus="image") for key, rec in integration.items()}
    expected = _dynamics(integration, by="stimulus")
    got = _dynamics(renamed, by="image")
    for name in DYNAMICS:
        assert np.isfinite(expected[name].values).any(), name
        np.testing.assert_allclose(got[name].values, expected[name].values, rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(got[f"{name}_ci"].values, expected[f"{name}_ci"].values, rtol=1e-10, err_msg=name)
