"""simulate_statistics(): the data-generating process fit() assumes."""

import numpy as np
import pytest

from neurolearn.errors import FitError
from neurolearn.fitting import simulate_statistics


def test_noise_free_statistics_are_the_prediction_on_the_mapped_clock(approach):
    stats = simulate_statistics(approach, {"gain": 0.25}, n_sessions=8, se=0.0, time_scale=0.5, onset=2.0)
    tau = 0.5 * np.maximum(np.arange(8) - 2.0, 0.0)
    np.testing.assert_allclose(stats["behavior"], 0.5 + 0.25 * (1 - np.exp(-tau)))
    assert stats.attrs["true_gain"] == 0.25 and stats.attrs["true_onset"] == 2.0
    assert stats["session_index"].values.tolist() == list(range(8))
    assert stats["behavior_ci"].dims == ("session", "ci_bound")


def test_noise_has_the_stated_standard_error(approach):
    stats = simulate_statistics(approach, {}, n_sessions=4000, se={"behavior": 0.03, "task_alignment": 0.1},
                                random_state=0)
    truth = simulate_statistics(approach, {}, n_sessions=4000, se=0.0)
    assert np.std(stats["behavior"] - truth["behavior"]) == pytest.approx(0.03, rel=0.05)
    assert np.std(stats["task_alignment"] - truth["task_alignment"]) == pytest.approx(0.1, rel=0.05)
    assert (stats["task_alignment_se"] == 0.1).all()


def test_refuses_bad_requests(approach):
    with pytest.raises(FitError, match="does not predict 'margin'"):
        simulate_statistics(approach, observables=["margin"])
    with pytest.raises(FitError, match="n_sessions a positive integer"):
        simulate_statistics(approach, n_sessions=0)
    with pytest.raises(FitError, match="time_scale > 0"):
        simulate_statistics(approach, time_scale=-1.0)
