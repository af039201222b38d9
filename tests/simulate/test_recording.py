"""Simulated recordings follow the data model and carry their ground truth exactly."""

import numpy as np
import pytest

from neurolearn.data import condition_means, validate_recording
from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree


def test_noiseless_recording_has_the_given_condition_means(rng):
    means = rng.standard_normal((5, 7))
    rec = make_recording(means, n_trials=3, target=[1, -1, 1, -1, 1], behavior=1.0, rng=0)
    validate_recording(rec)
    np.testing.assert_allclose(condition_means(rec, "stimulus").values, means)
    assert rec.sizes["trial"] == 15 and bool(rec.correct.all())
    assert (rec.target.values == np.array([1, -1, 1, -1, 1])[rec.stimulus.values]).all()


def test_trial_noise_has_the_requested_standard_deviation():
    rec = make_recording(np.zeros((4, 50)), n_trials=200, noise_sd=0.7, rng=1)
    assert rec.values.std() == pytest.approx(0.7, rel=0.02)  # 40 000 draws: relative SE ~0.35%


def test_bad_settings_are_refused():
    with pytest.raises(DataError, match=r"shape \(conditions, neurons\), found shape \(3,\)"):
        make_recording(np.zeros(3), n_trials=2)
    with pytest.raises(DataError, match="n_trials >= 1, found 0"):
        make_recording(np.zeros((2, 2)), n_trials=0)
    with pytest.raises(DataError, match=r"one target per condition \(2\), found 3"):
        make_recording(np.zeros((2, 2)), n_trials=1, target=[1, -1, 1])


def test_session_tree_keeps_order_and_refuses_repeated_ids():
    recs = [make_recording(np.eye(3), n_trials=2, session_id=f"day{d}", rng=d) for d in (2, 0, 1)]
    assert list(make_session_tree(recs).children) == ["day2", "day0", "day1"]
    with pytest.raises(DataError, match="unique session ids, found 'day2' twice"):
        make_session_tree(recs + recs[:1])
