"""Every file of the real-world NWB corpus loads into the data model or is refused with a clear NWBError.

The corpus (93 files from pynwb's back-compat fixtures, MatNWB, NWB 1.x, DANDI and pynapple; see its README)
lives beside the project at ``../shared/nwb-corpus``; these tests skip where it is absent. For each file:

* ``describe_file`` and ``read_nwb`` (default options) either succeed or raise :class:`NWBError` naming the
  file; nothing else (no AttributeError/TypeError/KeyError from h5py, hdmf or pynwb) escapes;
* every neural source the file holds is also read explicitly, with a one-sample window at its start;
* the file is byte-identical afterwards.
"""

from __future__ import annotations

import json
import re
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest

from neurolearn.data import REQUIRED_ATTRS, validate_recording
from neurolearn.errors import NWBError
from neurolearn.io import describe_file, read_nwb
from neurolearn.io.kinds import SOURCE_KINDS

from ..conftest import CORPUS
from .conftest import file_hash

pytestmark = pytest.mark.corpus


def _manifest() -> list[dict]:
    path = CORPUS / "MANIFEST.json"
    if not path.is_file():
        return [{"file": "<corpus absent>"}]
    return json.loads(path.read_text())


MANIFEST = _manifest()
# what a refusal may say; each names something missing or unsupported
REASONS = {
    "nwb1": "NWB 1.x file",
    "no neural data": "expected neural data",
    "several candidates": "pass source=<one of them>",
    "no trials table": "expected an interval table",
    "not NWB": "expected an NWB",
    "window outside recording": "expected trial windows inside the recording",
    "unsupported data shape": "expected numeric data of shape",
    "empty data": "expected samples, found an empty",
    "empty bins": "expected at least one sample in every window",
    "no spikes": "expected spike times",
    "unsorted timestamps": "expected sorted, finite timestamps",
    "other": "",
}


def _reason(message: str) -> str:
    for reason, phrase in REASONS.items():
        if phrase and phrase in message:
            return reason
    return "other"


def _check_loaded(rec, path):
    validate_recording(rec, name=str(path))
    assert set(REQUIRED_ATTRS) <= set(rec.attrs)
    assert rec.attrs["source_file"] == str(path.resolve())


def _first_sample_window(path, source):
    """A one-row trials frame and a window covering the first sample(s) of ``source``."""
    with h5py.File(path, "r") as handle:
        group = handle[source]
        if "spike_times" in group:
            times = group["spike_times"][()]
            first = float(np.nanmin(times)) if times.size else 0.0
            return pd.DataFrame({"start_time": [first]}), (0.0, 1.0)
        if "timestamps" in group:
            stamps = group["timestamps"][()]
            if stamps.size == 0:
                return pd.DataFrame({"start_time": [0.0]}), (0.0, 1.0)
            step = float(stamps[1] - stamps[0]) if stamps.size > 1 and stamps[1] > stamps[0] else 1.0
            return pd.DataFrame({"start_time": [float(stamps[0])]}), (0.0, step)
        rate = float(np.asarray(group["starting_time"].attrs.get("rate", 1.0)).reshape(-1)[0])
        return pd.DataFrame({"start_time": [float(group["starting_time"][()])]}), (0.0, 1.0 / rate)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"].rsplit("/", 1)[-1] for e in MANIFEST])
def test_corpus_file_loads_or_is_refused_clearly(corpus_dir, entry):
    path = corpus_dir / entry["file"]
    before = file_hash(path)
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            info = describe_file(path)
        except NWBError as error:
            assert str(path) in str(error)
            info = None
        try:
            rec = read_nwb(path)
            _check_loaded(rec, path)
            outcomes.append("loaded")
        except NWBError as error:
            assert str(path) in str(error), str(error)
            outcomes.append(_reason(str(error)))
        sources = [] if info is None or not info["supported"] else [
            entry["path"] for kind in SOURCE_KINDS for entry in info[kind.describe_key]
        ]
        for source in sources:
            trials, window = _first_sample_window(path, source)
            try:
                _check_loaded(read_nwb(path, source=source, trials=trials, window=window), path)
            except NWBError as error:
                assert str(path) in str(error) and source in str(error), str(error)
                assert _reason(str(error)) != "other", str(error)
    assert file_hash(path) == before, f"{path} changed by reading it"
    version = str(entry.get("nwb_version", ""))
    if re.match(r"^(NWB-)?1\.", version):
        assert outcomes == ["nwb1"] and info["supported"] is False
    if "units" in entry and info is not None:
        assert [u["n_units"] for u in info["units"]] == [entry["units"]]
        assert [u["n_spikes"] for u in info["units"]] == [entry["spikes"]]
    assert outcomes[0] != "other"


def test_human_mtl_session_loads_with_the_recognition_table(corpus_dir):
    path = corpus_dir / "pynapple-org__pynapple/docs/examples/nwb-files/sub-4_ses-4_ecephys+image.nwb"
    with pytest.raises(NWBError, match=r"expected an interval table 'trials'.*intervals/recognition_table"):
        read_nwb(path)
    rec = read_nwb(path, trials="recognition", window=(0.0, 1.0), bin_size=0.5)
    assert rec.sizes == {"trial": 180, "neuron": 35, "time": 2}
    assert set(np.unique(rec.old_new.values).tolist()) <= {0, 1, 2} and rec.frameName.dtype.kind == "U"
    # independent count: all spikes of unit 0 with h5py and a plain comparison
    with h5py.File(path, "r") as handle:
        end = int(handle["units/spike_times_index"][0])
        times = handle["units/spike_times"][:end]
        starts = handle["intervals/recognition_table/start_time"][()]
    expected = [int(np.sum((times >= s) & (times < s + 1.0))) for s in starts]
    assert rec.isel(neuron=0).sum("time").values.tolist() == expected


@pytest.mark.filterwarnings("ignore:.*outside the span of recorded spikes")
@pytest.mark.parametrize("session", ["sub-anm369963/sub-anm369963_ses-20170228.nwb",
                                     "sub-anm372793/sub-anm372793_ses-20170508.nwb"])
def test_alm_sessions_load_with_lick_direction_and_outcome(corpus_dir, session):
    path = corpus_dir / "dandi__dandi-cli/dandi/tests/data/dandifiles" / session
    with pytest.warns(UserWarning, match="were not sorted"):
        rec = read_nwb(path, window=(0.0, 2.0))
    assert set(rec.type.values) >= {"lick left", "lick right"}
    assert "correct" in set(rec.response.values)
    with h5py.File(path, "r") as handle:
        times = np.sort(handle["units/spike_times"][()])
        starts = handle["intervals/trials/start_time"][()]
    # trials whose window lies wholly before the unit's first or after its last spike are left out (not recorded)
    inside = (starts + 2.0 > times[0]) & (starts <= times[-1])
    expected = [int(np.sum((times >= s) & (times < s + 2.0))) for s in starts[inside]]
    assert rec.sizes["trial"] == int(inside.sum()) < starts.size
    assert rec.values[:, 0].tolist() == expected


@pytest.mark.filterwarnings("ignore:.*not sorted", "ignore:.*outside the span", "ignore:.*cannot be absolute")
def test_the_two_alm_mice_are_two_subjects_and_their_units_are_not_one_cell(corpus_dir):
    from neurolearn.data import split_subjects
    from neurolearn.io import read_sessions

    folder = corpus_dir / "dandi__dandi-cli/dandi/tests/data/dandifiles"
    paths = sorted(folder.glob("sub-*/*.nwb"))
    before = [file_hash(p) for p in paths]
    # both files call their one unit 1001: nothing declares it the same cell, so it is not, with one warning
    with pytest.warns(UserWarning, match=r"ids \[1001\] repeat across 2 sessions"):
        tree = read_sessions(paths, align="cue_start_time", window=(0.0, 1.0), timeout=60)
    recordings = [tree[name].responses for name in tree.children]
    assert [r.attrs["subject_id"] for r in recordings] == ["anm369963", "anm372793"]
    assert recordings[0].neuron.values.tolist() != recordings[1].neuron.values.tolist()
    assert [r.unit_id.values.tolist() for r in recordings] == [[1001], [1001]]
    assert sorted(split_subjects(tree)) == ["anm369963", "anm372793"]
    assert list(read_sessions(paths, subject="anm372793").children) == [list(tree.children)[1]]
    assert [file_hash(p) for p in paths] == before
