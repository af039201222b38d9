"""The validated trial table, the permutation null's structure and the refusals shared by every readout."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.stats.readout import decoder_accuracy, fisher_discriminant, heldout_accuracy, margin
from neurolearn.stats.readout.trials import AT_CHANCE, null_summary, permuted_labels
from tests.stats.readout._helpers import binary_recording


def test_permuted_labels_keep_one_label_per_condition_and_the_class_sizes(rng):
    condition = np.repeat(np.arange(6), 4)
    labels = np.repeat([1, 1, 1, 0, 0, 0], 4)
    for _ in range(20):
        permuted = permuted_labels(labels, condition, rng)
        assert all(np.unique(permuted[condition == c]).size == 1 for c in range(6))
        assert permuted.sum() == labels.sum()
    free = permuted_labels(labels, None, rng)
    assert sorted(free) == sorted(labels)


def test_null_summary_p_value_counts_the_observation():
    # Phipson & Smyth: (1 + #{null >= value}) / (1 + n).
    assert null_summary(0.8, [0.5, 0.6, 0.9]) == (pytest.approx(2 / 3), pytest.approx(2 / 4), "")
    assert null_summary(0.5, [0.5, 0.6]) == (pytest.approx(0.55), pytest.approx(1.0), AT_CHANCE)


def test_nan_responses_are_refused():
    rec = binary_recording()
    rec[3, 1] = np.nan
    for fn in (decoder_accuracy, heldout_accuracy, margin, fisher_discriminant):
        with pytest.raises(DataError, match="expected finite responses, found 1 NaN"):
            fn(rec)


def test_missing_coords_and_wrong_dims_are_refused():
    rec = binary_recording()
    with pytest.raises(DataError, match=r"expected a trial coord 'label'.*'start_time', 'stimulus'"):
        decoder_accuracy(rec, target="label")
    with pytest.raises(DataError, match=r"expected a trial coord 'odour'.*'target'"):
        heldout_accuracy(rec, by="odour")
    with pytest.raises(DataError, match="expect dims \\('trial', 'neuron'\\), found"):
        decoder_accuracy(rec.expand_dims(time=[0.0, 0.1], axis=-1))


def test_one_condition_per_class_is_permuted_across_trials_not_conditions():
    # two conditions, one per class: a condition-level permutation only renames the classes, so that null
    # equals the observation and can never tell a decodable label from chance (ALM lick left/right read with by="type" did exactly
    # that: accuracy 0.63 "at chance" with chance 0.63); single trials are permuted instead
    import xarray as xr

    from neurolearn.stats.readout.trials import _TrialTable

    rng = np.random.default_rng(0)
    labels = np.repeat([1, -1], 20)
    rec = xr.DataArray(rng.standard_normal((40, 5)) + labels[:, None], dims=("trial", "neuron"),
                       coords={"target": ("trial", labels), "stimulus": ("trial", labels)})
    assert _TrialTable(rec, "target", "stimulus", True).condition_of_trials("stimulus") is None
    many = np.repeat(np.arange(8), 5)  # 8 conditions, 4 per class: 70 labellings
    rec8 = rec.assign_coords(stimulus=("trial", many), target=("trial", np.where(many % 2, 1, -1)))
    index = _TrialTable(rec8, "target", "stimulus", True).condition_of_trials("stimulus")
    assert index is not None and np.array_equal(index, many)
    accuracy = decoder_accuracy(rec, "target", by="stimulus", n_boot=0, random_state=0)
    assert float(accuracy["decoder_accuracy"]) > 0.9
    assert float(accuracy["decoder_accuracy_chance"]) < 0.7
    assert str(accuracy["decoder_accuracy_flag"].values) == ""
