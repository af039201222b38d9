"""Target agreement when the sessions code the classes differently: refused with one reason (any number of
classes, strings or numbers), computed where one session's classes are a subset of the other's, and never a
coding-made value with a zero-width interval (adversary S8-1)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.errors import InsufficientDataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.kernels import ConditionStatistics
from neurolearn.stats.summary import summarize
from neurolearn.stats.target_agreement import (
    agreement_matrix,
    agreement_with_replicates,
    coding_conflict,
    kernel_target_agreement,
)

P, N = 12, 120

CODINGS = {  # the same task on every day, its classes written one way on days 0-1 and another on days 2-3
    "strings, 3 classes": (["left", "right", "nogo"], ["Left", "Right", "Nogo"]),
    "numbers, 3 classes": ([0, 1, 2], [1, 2, 3]),
    "strings, 4 classes": (["a", "b", "c", "d"], ["a", "b", "c", "D"]),
    "numbers, 4 classes": ([0, 1, 2, 3], [1, 2, 3, 4]),
}


def _sessions(first, second, rng=0, keep=None):
    """Four sessions of one population and one task (condition k in class k mod C), the class values
    ``first`` on days 0-1 and ``second`` on days 2-3; ``keep`` (conditions) drops the others' trials on day 3."""
    rng = np.random.default_rng(rng)
    classes = np.arange(P) % len(first)
    means = rng.standard_normal((len(first), N))[classes] * 1.5 + 0.5 * rng.standard_normal((P, N))
    recs = []
    for k in range(4):
        values = np.asarray(first if k < 2 else second)
        rec = make_recording(means, n_trials=4, noise_sd=1.0, target=values[classes], session_id=f"d{k}", rng=rng,
                             session_start_time=f"2026-01-0{k + 1}T09:00:00")
        if keep is not None and k == 3:
            rec = rec.isel(trial=np.flatnonzero(np.isin(rec.coords["stimulus"].values, keep)))
        recs.append(rec)
    return make_session_tree(recs)


def _summary(tree, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(tree, readout=False, dynamics=False, behavior=None, n_boot=20, random_state=0, **kwargs)
    return stats, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


@pytest.mark.parametrize("coding", list(CODINGS))
def test_classes_coded_with_different_values_are_nan_with_one_reason_and_one_warning(coding):
    # before: strings read 0.0 with the interval [0, 0] (one-hot columns that do not overlap), 0/1/2 against
    # 1/2/3 a confident partial reversal (-0.35 [-0.63, -0.06]); no flag, no warning
    stats, messages = _summary(_sessions(*CODINGS[coding]))
    agreement, flags = stats["target_agreement"].values, stats["target_agreement_flag"].values
    for s, t in ((0, 1), (1, 0), (2, 3), (3, 2)):  # the same coding: the same task, exactly +1
        assert agreement[s, t] == pytest.approx(1.0, abs=1e-12) and flags[s, t] == ""
    for s in (0, 1):
        for t in (2, 3):
            for a, b in ((s, t), (t, s)):
                assert np.isnan(agreement[a, b])
                assert np.isnan(stats["target_agreement_ci"].values[a, b]).all()
                assert "code the classes with different values" in flags[a, b]
                assert "declare a mapping" in flags[a, b]
    assert np.isfinite(stats["reference_agreement"].values[:2]).all()
    assert np.isnan(stats["reference_agreement"].values[2:]).all()
    assert all("code the classes with different values" in f for f in stats["reference_agreement_flag"].values[2:])
    about_pairs = [m for m in messages if m.startswith("target_agreement") and "different values" in m]
    assert len(about_pairs) == 1  # one warning, naming every session in a conflict
    assert all(f"'d{k}'" in about_pairs[0] for k in range(4))


def test_a_declared_mapping_lifts_the_refusal():
    first, second = CODINGS["strings, 3 classes"]
    mapping = {value: k for k, value in enumerate(first)} | {value: k for k, value in enumerate(second)}
    stats, messages = _summary(_sessions(first, second), target={"target": mapping})
    np.testing.assert_allclose(stats["target_agreement"].values, 1.0, atol=1e-12)
    assert not any("different values" in m for m in messages)


def test_a_day_without_one_class_is_computed():
    # day 3 shows no 'nogo' condition: the shared conditions are those of left and right, on every day coded
    # alike, and every entry is computed (the same task: exactly +1)
    classes = np.arange(P) % 3
    stats, messages = _summary(_sessions(["left", "right", "nogo"], ["left", "right", "nogo"],
                                         keep=np.flatnonzero(classes < 2)))
    np.testing.assert_allclose(stats["target_agreement"].values, 1.0, atol=1e-12)
    assert not any("different values" in m for m in messages)


def _condition_statistics(target, session_id, rng, n_neurons=200):
    means = rng.standard_normal((P, n_neurons))
    return ConditionStatistics(means, np.full((P, n_neurons), 0.01), np.full(P, 4), np.arange(P),
                               np.arange(n_neurons), np.asarray(target), session_id)


def test_a_session_whose_classes_are_a_subset_is_measured_not_refused():
    # a new task on the same conditions that drops one class (the 'nogo' conditions become 'left'): each value
    # of the second session names a class of the first, so the agreement is a measurement, here against the
    # closed form on the session's own (known, noise-free up to sem 0.01) kernel
    rng = np.random.default_rng(3)
    old = np.array(["left", "right", "nogo"])[np.arange(P) % 3]
    new = np.where(old == "nogo", "left", old)
    assert coding_conflict(old, new) is None and coding_conflict(new, old) is None
    stats = [_condition_statistics(old, "d0", rng), _condition_statistics(new, "d1", rng)]
    values, _, reasons = agreement_matrix(stats)
    assert (reasons == "").all()
    for s in (0, 1):
        kernel = stats[s].means @ stats[s].means.T / stats[s].n_neurons
        assert values[s, 1 - s] == pytest.approx(kernel_target_agreement(kernel, old, new), abs=0.01)
    assert 0.2 < values[0, 1] < 0.9


@pytest.mark.parametrize("pair, expected", [
    ((["x", "y", "z"], ["X", "Y", "Z"]), (["x", "y", "z"], ["X", "Y", "Z"])),
    (([0, 1, 2], [1, 2, 3]), ([0, 1, 2], [1, 2, 3])),
    (([-1, 1], [1, 2]), ([-1, 1], [1, 2])),
    (([0, 1, 2], [0, 1, 1]), None),  # a subset
    (([0, 1], [0.0, 1.0]), None),  # one value, typed int and float
    (([0.1, 0.7, 1.3], [0.2, 0.5, 0.9]), None),  # regression targets
])
def test_coding_conflict(pair, expected):
    assert coding_conflict(*pair) == expected


def test_a_value_set_by_the_coding_is_never_given_a_zero_width_interval():
    # encoded targets whose classes do not overlap (columns 0-2 against 3-5): the numerator is exactly 0 on every
    # neuron and every replicate, whatever the kernel; it was returned as 0.0 with replicates all 0
    rng = np.random.default_rng(5)
    classes = np.arange(P) % 3
    first, second = np.zeros((P, 6)), np.zeros((P, 6))
    first[np.arange(P), classes] = 1.0
    second[np.arange(P), 3 + (classes + 1) % 3] = 1.0
    stats = _condition_statistics(first, "d0", rng)
    weights = rng.poisson(1.0, size=(40, stats.n_neurons)).astype(np.uint8)
    with pytest.raises(InsufficientDataError, match="does not vary over resampled neurons"):
        agreement_with_replicates(stats, second, weights=weights)
