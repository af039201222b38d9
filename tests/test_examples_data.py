"""The bundled example data: complete, small, loadable, as described, and regenerated deterministically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_script

import neurolearn as nl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MANIFEST = json.loads((DATA / "examples.json").read_text(encoding="utf-8"))
DATASETS = ["rich", "lazy", "overtraining", "integration"]


def read_options(name):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in MANIFEST["datasets"][name]["read"].items()}


def load_generator():
    return load_script(DATA / "make_examples.py")


# Regenerating on another CPU (or BLAS) changes the last bits of a simulation, never more than roundoff
# amplified by the training: perturbing the integrator's learning rate by 1e-13 (relative) moves its recorded
# states by 8e-14 of their scale (measured), and one ulp by 3e-15. A changed simulator (other draws, other
# defaults) moves them by the noise, >= 0.01 of their scale. A tolerance of 1e-9 of the scale sits between.
REGENERATION_RTOL = 1e-9


def assert_same_up_to_roundoff(fresh, bundled, what):
    fresh, bundled = np.asarray(fresh, dtype=float), np.asarray(bundled, dtype=float)
    scale = max(float(np.max(np.abs(bundled), initial=0.0)), 1.0)
    np.testing.assert_allclose(fresh, bundled, rtol=0, atol=REGENERATION_RTOL * scale, err_msg=what)


def test_every_file_is_listed_with_its_checksum_and_the_total_is_small():
    on_disk = sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*.nwb"))
    assert on_disk == sorted(MANIFEST["files"])
    for name, digest in MANIFEST["files"].items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total <= 20e6, f"data/ holds {total / 1e6:.1f} MB, budget 20 MB"
    assert sorted(MANIFEST["datasets"]) == sorted(DATASETS)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_reads_as_tracked_sessions_with_task_columns(name):
    tree = nl.read_sessions(str(DATA / name / "*.nwb"), **read_options(name))
    recordings = [child.dataset["responses"] for child in tree.children.values()]
    assert len(recordings) == len(MANIFEST["datasets"][name]["true_statistics"]["behavior"])
    assert list(tree.children) == sorted(tree.children)  # day00, day01, ... in session-start order
    for recording in recordings:
        for column in ("stimulus", "target", "correct"):
            assert column in recording.coords, (name, column)
        # the same neurons (tracked units / ROIs) are recorded in every session
        np.testing.assert_array_equal(recording.neuron.values, recordings[0].neuron.values)
    kind = MANIFEST["datasets"][name]["kind"]
    assert recordings[0].attrs["units"] == {"units": "count", "ophys": "dF/F"}[kind]
    assert ("time" in recordings[0].dims) == (name == "integration")


def test_overtraining_behaviour_in_the_files_is_the_networks_and_saturates_mid_way():
    truth = MANIFEST["datasets"]["overtraining"]["true_statistics"]
    tree = nl.read_sessions(str(DATA / "overtraining" / "*.nwb"), **read_options("overtraining"))
    trained = [c.dataset.responses.correct.where(c.dataset.responses.is_train, drop=True)
               for c in tree.children.values()]
    observed = np.array([float(c.mean()) for c in trained])
    n = np.array([c.size for c in trained])
    # `correct` is the network's answer with 5% lapses (random choices): binomial around the expected fraction
    expected = np.asarray(truth["behavior"])
    assert np.all(np.abs(observed - expected) <= 4 * np.sqrt(expected * (1 - expected) / n) + 1 / n)
    accuracy = np.asarray(truth["train_accuracy"])
    saturated = int(np.argmax(accuracy >= accuracy[-1] - 0.03))
    assert 2 <= saturated <= len(observed) // 2
    margin = np.asarray(truth["network_margin"])
    assert np.all(np.diff(margin[saturated:]) > 0)  # the hidden progress the dataset is meant to show


def test_integration_repeats_each_input_sequence_with_one_target():
    tree = nl.read_sessions(str(DATA / "integration" / "*.nwb"), **read_options("integration"))
    for child in tree.children.values():
        rec = child.dataset.responses
        np.testing.assert_array_equal(np.sign(rec.input_total.values), rec.target.values)
        for stimulus in np.unique(rec.stimulus.values):
            members = rec.stimulus.values == stimulus
            assert members.sum() >= 2  # repeats: the trial-split kernel estimators need two per condition
            assert len(set(rec.input_total.values[members].tolist())) == 1  # the same input sequence


def test_integration_files_carry_the_input_the_network_received():
    # the input the summary's dynamics fit regresses out: read back per (trial, time bin) exactly as simulated
    from neurolearn.simulate.rnn import simulate_integrator_sessions

    generator = load_generator()
    dt = MANIFEST["datasets"]["integration"]["fixed"]["dt"]
    simulated, _ = simulate_integrator_sessions(8, dt=dt, rng=np.random.default_rng(generator.SEED + 2),
                                                **generator.INTEGRATION)
    assert read_options("integration")["inputs"] == "stimulus/presentation/input"
    tree = nl.read_sessions(str(DATA / "integration" / "*.nwb"), **read_options("integration"))
    assert list(tree.children) == list(simulated.children)
    for key, child in tree.children.items():
        found, expected = child.dataset.responses.input, simulated[key].dataset.responses.input
        assert found.dims == ("trial", "time")
        # the file holds the simulated float64 samples and the reader averages one frame per bin, but a fresh
        # simulation on another CPU may differ in the last bits (libm in the normal sampler's tail)
        assert_same_up_to_roundoff(found.values, expected.values, f"{key} input")


@pytest.mark.parametrize("name", DATASETS)
def test_regenerating_a_dataset_gives_the_same_recordings(tmp_path, name):
    # the files are what data/make_examples.py makes with today's simulators (fails if a simulator changed)
    spec = load_generator().dataset_makers(tmp_path)[name]()
    # read options are configuration (windows are exact binary fractions), not results: compared exactly
    assert spec["read"] == MANIFEST["datasets"][name]["read"]
    truth = MANIFEST["datasets"][name]["true_statistics"]
    assert sorted(spec["true_statistics"]) == sorted(truth)
    for statistic, values in truth.items():
        # stored rounded to 5 decimals: roundoff can flip the last digit, so allow one unit of it
        np.testing.assert_allclose(spec["true_statistics"][statistic], values, rtol=0, atol=1.01e-5,
                                   err_msg=statistic)
    fresh = nl.read_sessions(str(tmp_path / name / "*.nwb"), **read_options(name))
    bundled = nl.read_sessions(str(DATA / name / "*.nwb"), **read_options(name))
    assert list(fresh.children) == list(bundled.children)
    for key in bundled.children:
        a, b = fresh[key].dataset.responses, bundled[key].dataset.responses
        assert a.shape == b.shape
        assert_same_up_to_roundoff(a.values, b.values, f"{name}/{key} responses")
        # a discrete outcome drawn as uniform < p: roundoff in p flips it with probability ~1e-15 per trial
        np.testing.assert_array_equal(a.correct.values, b.correct.values)


def test_real_recording_is_the_credited_pynapple_file(corpus_dir):
    real = MANIFEST["real"]
    bundled = DATA / real["file"]
    original = corpus_dir / "pynapple-org__pynapple" / "docs" / "examples" / "nwb-files" / bundled.name
    assert bundled.read_bytes() == original.read_bytes()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "pynapple" in readme and "Zheng" in readme and "000207" in readme


def test_real_recording_loads():
    real = MANIFEST["real"]
    rec = nl.read_nwb(DATA / real["file"], **{k: tuple(v) if isinstance(v, list) else v
                                             for k, v in real["read"].items()})
    assert rec.sizes == {"trial": 90, "neuron": 35}
    assert sorted(set(rec[real["by"]].values.tolist())) == [0, 1, 2]
