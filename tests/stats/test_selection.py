"""Which trials a summary uses and which coord holds the task label, through the public ``summarize``: a coding
of the condition column itself, ``target`` naming the condition column, codings that name no value, spaces and
NaN in lab tables."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.summary import summarize

LETTERS = np.array(list("ABCDEFGH"))
LABELS = dict(zip(LETTERS.tolist(), [1, -1] * 4))  # A: 1, B: -1, C: 1, ...
NAMES = ("task_alignment", "participation_ratio", "task_difficulty")


def _sessions(rng, n_sessions=2, n_trials=4, n_neurons=40):
    """Sessions whose conditions are the letters A-H and whose task label (``target``) is +1 for A, C, E, G."""
    y = np.array([LABELS[c] for c in LETTERS], dtype=float)
    recs = []
    for d in range(n_sessions):
        means = rng.standard_normal((8, n_neurons)) + np.outer(y, rng.standard_normal(n_neurons))
        rec = make_recording(means, n_trials=n_trials, noise_sd=0.5, target=y, behavior=0.8, session_id=f"day{d}",
                             session_start_time=f"2026-01-0{d + 1}T09:00:00", rng=d)
        recs.append(rec.assign_coords(stimulus=("trial", LETTERS[rec.stimulus.values])))
    return recs


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def test_a_coding_of_the_condition_column_gives_each_condition_its_label(rng):
    """Reviewer F1: the mapped labels replaced the condition column, the 8 conditions collapsed into the 2
    labels and every kernel statistic came back NaN ("fewer than 3 conditions (found 2)"). Each condition must
    carry its label: the same numbers as the recorded label column, which holds the same labels."""
    recs = _sessions(rng)
    options = dict(by="stimulus", n_boot=10, random_state=0, dynamics=False)
    recorded = _quiet(summarize, recs, target="target", **options)
    coded = _quiet(summarize, recs, target={"stimulus": LABELS}, **options)
    for name in NAMES + ("decoder_accuracy",):
        assert np.isfinite(coded[name].values).all(), name
        np.testing.assert_allclose(coded[name].values, recorded[name].values, rtol=1e-10, err_msg=name)
    np.testing.assert_allclose(coded["kernel_similarity"].values, recorded["kernel_similarity"].values, rtol=1e-10)


def test_a_coding_leaves_the_coded_column_as_recorded_for_the_other_options(rng):
    """The column a target coding reads may also be the behaviour column: behaviour reads it as recorded."""
    recs = _sessions(rng, n_sessions=1)
    options = dict(n_boot=0, random_state=0, readout=False, dynamics=False)
    plain = _quiet(summarize, recs, **options)
    coded = _quiet(summarize, recs, target={"correct": {True: 1, False: -1}}, behavior="correct", **options)
    assert float(coded["behavior"][0]) == pytest.approx(float(recs[0].correct.values.mean()))
    assert float(coded["behavior"][0]) == pytest.approx(float(plain["behavior"][0]))


def test_target_naming_the_condition_column_is_refused_saying_what_to_pass(rng):
    """target=by with 8 classes made every condition its own class: task_alignment read 0.99, which is
    sqrt(PR / (P - 1)) by construction, not a task. Refused up front with what to pass instead."""
    recs = _sessions(rng)
    with pytest.raises(DataError, match=r"session 'day0': target='stimulus' is the condition column "
                                        r"\(by='stimulus'\): its 8 values") as caught:
        summarize(recs, target="stimulus", by="stimulus", n_boot=0, dynamics=False)
    message = str(caught.value)
    assert "target={'stimulus': {'A': 1, 'B': -1, ...}}" in message and "target=None" in message


def test_target_naming_the_condition_column_works_where_it_is_a_task(rng):
    """Two conditions (the label is which of the two) and a continuous stimulus (a regression target) are tasks."""
    recs = _sessions(rng, n_sessions=1)
    two = recs[0].isel(trial=np.flatnonzero(np.isin(recs[0].stimulus.values, ["A", "B"])))
    stats = _quiet(summarize, two, target="stimulus", by="stimulus", n_boot=0, dynamics=False)
    assert np.isfinite(float(stats["decoder_accuracy"][0]))
    contrast = recs[0].assign_coords(contrast=("trial", np.linspace(0.05, 0.95, 8)[np.searchsorted(
        LETTERS, recs[0].stimulus.values)]))
    stats = _quiet(summarize, contrast, target="contrast", by="contrast", n_boot=0, readout=False, dynamics=False)
    assert np.isfinite(float(stats["task_alignment"][0]))


def test_a_target_coding_that_names_no_value_shows_keys_and_values_as_typed(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    rec = rec.assign_coords(go=("trial", rec.target.values > 0))
    with pytest.raises(DataError, match=r"session 'day0': expected the target mapping's keys among the values of "
                                        r"'go', found keys \['True', 'False'\] and values \[False, True\]"):
        summarize(rec, target={"go": {"True": 1, "False": -1}}, n_boot=0, dynamics=False)
    coded = _quiet(summarize, rec, target={"go": {True: 1, False: -1}}, n_boot=0, dynamics=False)
    assert np.isfinite(float(coded["task_alignment"][0]))


def test_lab_strings_with_trailing_spaces_match_their_coding(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    side = np.where(rec.target.values > 0, "left ", "right")
    reference = _quiet(summarize, rec, n_boot=0, readout=False, dynamics=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coded = summarize(rec.assign_coords(side=("trial", side)), target={"side": {"left": 1, "right": -1}},
                          n_boot=0, readout=False, dynamics=False)
    assert not [w for w in caught if "outside the declared mapping" in str(w.message)]
    assert float(coded["task_alignment"][0]) == pytest.approx(float(reference["task_alignment"][0]))


def test_nan_targets_are_excluded_and_counted(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    target = rec.target.values.copy()
    target[:3] = np.nan
    with pytest.warns(UserWarning, match=r"session 'day0': excluded 3 trials with a missing 'target'"):
        stats = summarize(rec.assign_coords(target=("trial", target)), n_boot=0, readout=False, dynamics=False)
    assert np.isfinite(float(stats["task_alignment"][0]))
    with pytest.raises(DataError, match=r"session 'day0': 3 trials have a missing 'target'"):
        summarize(rec.assign_coords(target=("trial", target)), n_boot=0, nan_policy="raise", dynamics=False)


def test_an_object_target_with_none_reads_like_the_float_column_with_nan(rng):
    """pandas leaves a column that held None as objects: after the None trials were excluded the labels stayed
    objects and scikit-learn's folds stopped summarize with "Supported target types are: ('binary',
    'multiclass'). Got 'unknown'" (a ValueError, not a NeurolearnError)."""
    rec = _sessions(rng, n_sessions=1)[0]
    with_nan, with_none = rec.target.values.copy(), rec.target.values.astype(object)
    with_nan[:2], with_none[:2] = np.nan, None
    options = dict(n_boot=5, random_state=0, dynamics=False)
    reference = _quiet(summarize, rec.assign_coords(target=("trial", with_nan)), **options)
    with pytest.warns(UserWarning, match=r"session 'day0': excluded 2 trials with a missing 'target'"):
        objects = summarize(rec.assign_coords(target=("trial", with_none)), **options)
    for name in NAMES + ("decoder_accuracy", "margin"):
        np.testing.assert_allclose(objects[name].values, reference[name].values, rtol=1e-10, err_msg=name)


def test_a_column_mixing_kinds_of_value_is_refused_naming_both(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    mixed = rec.target.values.astype(object)
    mixed[0] = "go"
    with pytest.raises(DataError, match=r"session 'day0': expected one kind of value in trial column 'target' "
                                        r"\(target=\), found numbers \(e\.g\. -?1\.0\), strings \(e\.g\. 'go'\); "
                                        r"declare its coding"):
        summarize(rec.assign_coords(target=("trial", mixed)), n_boot=0, dynamics=False)
    # declared, the coding reads the numbers and leaves the odd trial out, counted
    with pytest.warns(UserWarning, match="excluded 1 trials with a target value outside the declared mapping"):
        summarize(rec.assign_coords(target=("trial", mixed)), target={"target": {1.0: 1, -1.0: -1}}, n_boot=0,
                  readout=False, dynamics=False)
    stimulus = rec.stimulus.values.astype(object)
    stimulus[:2] = 99, "x"
    with pytest.raises(DataError, match=r"trial column 'stimulus' \(by=\), found numbers \(e\.g\. 99\), "
                                        r"strings \(e\.g\. 'x'\)"):
        summarize(rec.assign_coords(stimulus=("trial", stimulus)), n_boot=0, dynamics=False)


def test_condition_labels_differing_only_in_spaces_are_one_condition_with_a_warning(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    spaced = rec.stimulus.values.astype(object)
    spaced[:3] = [value + " " for value in spaced[:3]]
    reference = _quiet(summarize, rec, n_boot=0, readout=False, dynamics=False)
    with pytest.warns(UserWarning, match=r"session 'day0': values of 'stimulus' that differ only in surrounding "
                                         r"spaces are read as one"):
        stats = summarize(rec.assign_coords(stimulus=("trial", spaced)), n_boot=0, readout=False, dynamics=False)
    for name in NAMES:
        assert float(stats[name][0]) == pytest.approx(float(reference[name][0]), rel=1e-10), name


def test_categorical_columns_read_as_their_values(rng):
    import pandas as pd

    rec = _sessions(rng, n_sessions=1)[0]
    side = np.where(rec.target.values > 0, "go", "nogo")
    options = dict(n_boot=0, readout=False, dynamics=False)
    plain = _quiet(summarize, rec.assign_coords(side=("trial", side)), target="side", **options)
    categorical = _quiet(summarize, rec.assign_coords(side=("trial", pd.Categorical(side)),
                                                      stimulus=("trial", pd.Categorical(rec.stimulus.values))),
                         target="side", **options)
    for name in NAMES:
        assert float(categorical[name][0]) == pytest.approx(float(plain[name][0]), rel=1e-10), name


def test_labels_written_as_blank_or_nan_text_are_missing_and_counted(rng):
    """A table that wrote a missing label as text ('' or pandas' 'nan') made it a third class ('more than two
    classes', every decoder NaN) or an extra condition; it is missing, as pandas reads it, and counted."""
    rec = _sessions(rng, n_sessions=1)[0]
    side = np.where(rec.target.values > 0, "L", "R").astype(object)
    side[:2], side[2] = "", "nan"
    rec = rec.assign_coords(side=("trial", side))
    options = dict(n_boot=5, random_state=0, dynamics=False)
    reference = _quiet(summarize, rec.isel(trial=slice(3, None)), target="side", **options)
    with pytest.warns(UserWarning, match=r"session 'day0': excluded 3 trials with a missing 'side' \(written "
                                         r"\['', 'nan'\]\)"):
        stats = summarize(rec, target="side", **options)
    for name in NAMES + ("decoder_accuracy",):
        assert np.isfinite(float(stats[name][0])), name
        assert float(stats[name][0]) == pytest.approx(float(reference[name][0]), rel=1e-10), name


@pytest.mark.parametrize("dtype", ["Int64", "string", "category"])
def test_pandas_nullable_labels_are_missing_where_they_hold_na(rng, dtype):
    """pandas' nullable columns hold pd.NA: a 'string' target was refused as mixing strings with 'other', and
    a coded Int64 one counted its NA as values outside the mapping."""
    import pandas as pd

    rec = _sessions(rng, n_sessions=1)[0]
    values = np.where(rec.target.values > 0, 1, -1) if dtype == "Int64" else np.where(rec.target.values > 0, "L", "R")
    labels = pd.array(values, dtype=dtype) if dtype != "category" else pd.Categorical(values)
    labels[:2] = pd.NA if dtype != "category" else np.nan
    plain = rec.isel(trial=slice(2, None)).assign_coords(side=("trial", values[2:]))
    options = dict(n_boot=0, readout=False, dynamics=False)
    reference = _quiet(summarize, plain, target="side", **options)
    with pytest.warns(UserWarning, match=r"session 'day0': excluded 2 trials with a missing 'side'"):
        stats = summarize(rec.assign_coords(side=("trial", labels)), target="side", **options)
    coding = {1: "a", -1: "b"} if dtype == "Int64" else {"L": "a", "R": "b"}
    with pytest.warns(UserWarning, match=r"session 'day0': excluded 2 trials with a missing 'side'$"):
        coded = summarize(rec.assign_coords(side=("trial", labels)), target={"side": coding}, **options)
    for name in NAMES:
        assert float(stats[name][0]) == pytest.approx(float(reference[name][0]), rel=1e-10), name
        assert float(coded[name][0]) == pytest.approx(float(reference[name][0]), rel=1e-10), name
