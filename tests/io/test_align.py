"""``where=`` selects trials; ``align`` reads event times absolute, stated relative, or detected relative."""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb, read_sessions
from neurolearn.io.align import align_times

from .conftest import add_trials, add_units, new_nwbfile, save


@pytest.fixture
def cue_file(tmp_path):
    """Trials 10 s apart from t=100 s; ``cue`` relative to trial start (ALM style), ``cue_abs`` absolute."""
    nwbfile = new_nwbfile()
    starts = 100.0 + 10.0 * np.arange(4)
    cue = np.array([2.0, 3.0, 2.5, 4.0])
    add_trials(nwbfile, starts=starts, stops=starts + 8.0, cue=cue, cue_abs=starts + cue,
               outcome=["correct", "incorrect", "no response", "correct"], contrast=[0.1, 0.5, 0.5, 1.0])
    # one spike 0.25 s after each cue, two 0.25 s after each trial start
    spikes = np.sort(np.concatenate([starts + cue + 0.25, starts + 0.25, starts + 0.3]))
    add_units(nwbfile, [spikes])
    return save(nwbfile, tmp_path / "cue.nwb")


def test_where_keeps_the_trials_the_expression_selects(cue_file):
    rec = read_nwb(cue_file, where="outcome != 'no response' and contrast >= 0.5")
    assert rec.trial.values.tolist() == [1, 3]
    assert rec.attrs["where"] == "outcome != 'no response' and contrast >= 0.5"
    assert read_nwb(cue_file, where="`contrast` == 0.5").sizes["trial"] == 2
    assert read_nwb(cue_file, where="id >= 2").trial.values.tolist() == [2, 3]  # the table's row ids
    tree = read_sessions([cue_file], where="outcome == 'correct'", tracked=False)
    assert tree["s1"].responses.outcome.values.tolist() == ["correct", "correct"]


@pytest.mark.parametrize("where, message", [
    ("outcom == 'correct'",
     r"where=\"outcom == 'correct'\" could not be evaluated.*columns are \['id', 'start_time'"),
    ("contrast >", "could not be evaluated"),
    ("contrast * 2", "to give True/False per trial"),
    ("contrast > 5", "selected none of the 4 trials"),
    ("", "expected where= a pandas query string"),
    (3, "expected where= a pandas query string"),
])
def test_bad_where_is_refused_naming_the_expression_and_the_columns(cue_file, where, message):
    with pytest.raises(NWBError, match=message):
        read_nwb(cue_file, where=where)


def test_relative_event_times_stated_detected_or_absolute_give_the_same_windows(cue_file):
    window = (0.0, 0.5)
    absolute = read_nwb(cue_file, align="cue_abs", window=window)
    assert absolute.values[:, 0].tolist() == [1, 1, 1, 1] and absolute.attrs["align_times"] == "absolute"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stated = read_nwb(cue_file, align=("cue", "relative"), window=window)
    np.testing.assert_array_equal(stated.values, absolute.values)
    as_text = read_nwb(cue_file, align="cue:relative", window=window)
    np.testing.assert_array_equal(as_text.values, absolute.values)
    assert stated.attrs["align"] == "cue" and stated.attrs["align_times"] == "relative to start_time"
    with pytest.warns(UserWarning, match=r"'cue' holds times before their own trial's start_time in 4 of 4 "
                                         r"trials.*align=\('cue', 'relative'\)"):
        detected = read_nwb(cue_file, align="cue", window=window)
    np.testing.assert_array_equal(detected.values, absolute.values)
    # stated absolute: the cue times are taken as they are, and lie before every spike
    with pytest.raises(NWBError, match="expected trial windows inside the recording"):
        read_nwb(cue_file, align=("cue", "absolute"), window=window)


@pytest.mark.parametrize("align", [("cue", "sideways"), ("cue",), 5, ("cue", "relative", "x")])
def test_bad_align_is_refused(cue_file, align):
    with pytest.raises(NWBError, match="expected align="):
        read_nwb(cue_file, align=align)


def test_detection_leaves_times_that_can_be_absolute_alone():
    starts = np.array([0.0, 10.0, 20.0])
    # relative values at a session starting near 0 are consistent with absolute ones in the first trial only
    times, how = align_times(np.array([2.0, 12.0, 23.0]), starts, "cue", "auto", "f")
    assert how == "absolute" and times.tolist() == [2.0, 12.0, 23.0]


def test_absolute_times_stored_as_float32_are_not_read_as_before_their_start():
    # MATLAB/h5py writers store event times as float32: at ~500 s they round up to 30 us either side of the
    # float64 start, which is not "before" it (read as relative, every window would move to twice its start)
    starts = 100.3 + 20.0 * np.arange(30)
    stored = starts.astype(np.float32).astype(float)
    assert (stored < starts).sum() > 15  # most round down
    times, how = align_times(stored, starts, "cue", "auto", "f")
    assert how == "absolute" and np.allclose(times, starts, atol=1e-4)


def test_times_before_their_start_in_a_minority_of_trials_are_not_guessed_either_way():
    # a short session: five trials from 0.2 s, a cue 4 s after each start; read as absolute, every window
    # would sit at the same instant 4 s; two cues precede their trial's start, three do not
    starts = np.array([0.2, 1.7, 3.2, 4.7, 6.2])
    with pytest.raises(NWBError, match=r"in 2 of 5 trials .*cannot be told: pass align=\('cue', 'relative'\)"):
        align_times(np.full(5, 4.0), starts, "cue", "auto", "f")
    times, how = align_times(np.full(5, 4.0), starts, "cue", "relative", "f")
    assert how == "relative to start_time" and times.tolist() == pytest.approx((starts + 4.0).tolist())


@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore:.*not sorted", "ignore:.*outside the span")
def test_alm_cue_times_are_relative_to_trial_start(corpus_dir):
    folder = corpus_dir / "dandi__dandi-cli/dandi/tests/data/dandifiles"
    path = folder / "sub-anm369963/sub-anm369963_ses-20170228.nwb"
    with pytest.warns(UserWarning, match="cannot be absolute"):
        rec = read_nwb(path, align="cue_start_time", window=(0.0, 1.0), where="response != 'early lick'")
    assert set(rec.response.values) == {"correct", "incorrect", "no response"}
    with h5py.File(path, "r") as handle:
        spikes = np.sort(handle["units/spike_times"][()])
        starts = handle["intervals/trials/start_time"][()]
        cues = handle["intervals/trials/cue_start_time"][()]
        response = handle["intervals/trials/response"].asstr()[()]
    onsets = (starts + cues)[response != "early lick"]
    # windows wholly before the unit's first or after its last spike are left out (not recorded)
    onsets = onsets[(onsets + 1.0 > spikes[0]) & (onsets <= spikes[-1])]
    expected = [int(np.sum((spikes >= t) & (spikes < t + 1.0))) for t in onsets]
    assert rec.values[:, 0].tolist() == expected and sum(expected) > 0
