"""The permutation null with unequal trials per condition: its labellings fill the folds as the observation's
do (uniformly among those that do), no third-party warning escapes, and permutations that cannot are left out
with one neurolearn warning (adversary S8-5)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.readout import decoder_accuracy
from neurolearn.stats.readout.trials import NULL_DRAWS, NullLabellings
from neurolearn.stats.summary import summarize

COUNTS = [1, 2, 10, 3, 1, 7]  # trials per condition; conditions 0-2 one class, 3-5 the other


def _unequal(session_id, rng, n_neurons=30):
    """A session of 6 conditions with COUNTS trials: 13 trials of class -1, 11 of class +1."""
    means = rng.standard_normal((6, n_neurons)) + np.where(np.arange(6) < 3, -0.5, 0.5)[:, None]
    rec = make_recording(means, n_trials=max(COUNTS), noise_sd=1.0, target=np.where(np.arange(6) < 3, -1, 1),
                         session_id=session_id, rng=rng, shuffle=False)
    stimulus = rec.coords["stimulus"].values
    keep = np.concatenate([np.flatnonzero(stimulus == k)[:n] for k, n in enumerate(COUNTS)])
    return rec.isel(trial=np.sort(keep))


def test_no_third_party_warning_escapes_summarize_with_unequal_trials():
    # sklearn's "The least populated class in y has only 4 members, which is less than n_splits=5" came ~15
    # times per session: permuting labels across conditions gives a class 1 + 2 + 1 = 4 trials in 2 of 20 splits
    rng = np.random.default_rng(0)
    tree = make_session_tree([_unequal(f"d{k}", rng) for k in range(2)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(tree, behavior=None, dynamics=False, n_boot=10, random_state=0)
    foreign = [f"{w.filename}: {w.message}" for w in caught
               if "least populated" in str(w.message) or "/sklearn/" in w.filename]
    assert not foreign, foreign[:2]
    assert np.isfinite(stats["decoder_accuracy_chance"].values).all()


def test_the_null_draws_uniformly_among_the_labellings_that_fill_the_folds():
    labels = np.repeat([0, 0, 0, 1, 1, 1], COUNTS)
    conditions = np.repeat(np.arange(6), COUNTS)
    null = NullLabellings(labels, conditions, np.random.default_rng(1), n_splits=5)
    # the 20 ways to give 3 of the 6 conditions class 0: 2 leave a class 4 trials ({0, 1, 4} either way)
    splits = {frozenset(c): 0 for c in itertools.combinations(range(6), 3)}
    fill = [s for s in splits if 5 <= sum(COUNTS[k] for k in s) <= sum(COUNTS) - 5]
    assert len(fill) == 18
    n = 3600
    for _ in range(n):
        drawn = null.draw()
        splits[frozenset(np.unique(conditions[drawn == 0]).tolist())] += 1
    assert all(splits[s] == 0 for s in splits if s not in fill)
    expected = n / len(fill)  # binomial SD sqrt(200 * 17/18) = 13.7
    assert max(abs(splits[s] - expected) for s in fill) < 4.5 * np.sqrt(expected * (1 - 1 / len(fill)))
    assert null.left_out == 0 and 0 < null.redrawn < 0.25 * n  # 1 in 10 redrawn: 360 expected


def test_permutations_that_cannot_fill_the_folds_are_left_out_with_one_warning(monkeypatch):
    # conditioned on more trials per class than any permutation gives: every one is left out, the null is
    # empty, and one StatisticWarning says so (not one sklearn warning per draw)
    rec = _unequal("d0", np.random.default_rng(2))
    monkeypatch.setattr(NullLabellings, "__init__", _impossible_floor(NullLabellings.__init__))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = decoder_accuracy(rec, by="stimulus", n_splits=5, n_boot=0, n_permutations=4, random_state=0)
    ours = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]
    assert len(ours) == 1 and "4 of 4 label permutations" in ours[0] and "left out of the null" in ours[0]
    assert not any("/sklearn/" in w.filename for w in caught)
    assert float(ds["decoder_accuracy_chance"]) == pytest.approx(13 / 24)  # the majority rate, said so
    assert "all 4 permutations left out" in ds.attrs["chance_level"]
    assert np.isnan(float(ds["decoder_accuracy_pvalue"]))
    assert np.isfinite(float(ds["decoder_accuracy"]))


def _impossible_floor(init):
    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.floor = 13  # 24 trials: no split gives both classes 13
    return patched


@pytest.mark.parametrize("n_permutations", [5])
def test_equal_trials_draw_the_same_null_as_before(n_permutations):
    # every labelling of equal conditions fills the folds: nothing is redrawn, the random stream is unchanged
    labels = np.repeat([0, 1, 0, 1], 4)
    conditions = np.repeat(np.arange(4), 4)
    null = NullLabellings(labels, conditions, np.random.default_rng(3), n_splits=4)
    from neurolearn.stats.readout.trials import permuted_labels
    reference = np.random.default_rng(3)
    for _ in range(n_permutations):
        np.testing.assert_array_equal(null.draw(), permuted_labels(labels, conditions, reference))
    assert null.redrawn == 0 and NULL_DRAWS >= 10
