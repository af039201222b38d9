"""kernel_change needs one response scale across sessions (adversary F6)."""

import warnings

import numpy as np
import pytest

from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.response_scale import response_scale
from neurolearn.stats.summary import summarize


def _sessions(units, windows):
    rng = np.random.default_rng(3)
    y = np.repeat([1.0, -1.0], 4)
    tuning = rng.standard_normal(60)
    recs = []
    for d, (unit, window) in enumerate(zip(units, windows)):
        rates = np.exp(0.5 * np.outer(y, tuning) + rng.standard_normal((8, 60)) * 0.3)
        rec = make_recording(rates, n_trials=4, noise_sd=0.2, target=y, behavior=0.7, session_id=f"day{d}", rng=d)
        rec.attrs.update(units=unit, window=window, tracked=True)
        recs.append(rec)
    return make_session_tree(recs)


def _summary(tree):
    return summarize(tree, n_boot=20, random_state=0, readout=False, dynamics=False)


def test_counts_over_windows_of_another_length_are_another_scale():
    assert response_scale(make_recording(np.eye(2), n_trials=2)) == "a.u."  # make_recording says arbitrary units
    a, b = (make_recording(np.eye(2), n_trials=2) for _ in range(2))
    a.attrs.update(units="count", window=(0.0, 0.5))
    b.attrs.update(units="count", window=(0.1, 1.1))
    assert response_scale(a) != response_scale(b)


def test_a_session_in_other_units_than_the_reference_has_no_kernel_change():
    same = _summary(_sessions(["spikes/s"] * 3, [(0.0, 0.5)] * 3))
    assert np.isfinite(same["kernel_change"].values[1:]).any()
    with pytest.warns(StatisticWarning, match=r"kernel_change is NaN for session 'day1': recorded in other units "
                                              r"than the reference session 'day0' \(spikes/s\).*count per 0.5 s"):
        mixed = _summary(_sessions(["spikes/s", "count", "spikes/s"], [(0.0, 0.5)] * 3))
    assert np.isnan(mixed["kernel_change"].values[1]) and np.isnan(mixed["kernel_change_ci"].values[1]).all()
    assert "other units" in str(mixed["kernel_change_flag"].values[1])
    # the other sessions and the scale-free statistics are as before
    np.testing.assert_allclose(mixed["kernel_change"].values[[0, 2]], same["kernel_change"].values[[0, 2]],
                               rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(mixed["kernel_similarity"].values, same["kernel_similarity"].values, rtol=1e-10,
                               equal_nan=True)


def test_counts_over_other_windows_are_flagged_too():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = _summary(_sessions(["count"] * 3, [(0.0, 0.5), (0.0, 0.5), (0.0, 1.0)]))
    assert np.isnan(stats["kernel_change"].values[2])
    assert "count per 1 s window" in str(stats["kernel_change_flag"].values[2])


@pytest.mark.parametrize("spelling", ["Hz", "hz", "1/s", "spikes/sec", "spikes per second"])
def test_one_rate_spelled_another_way_is_the_same_scale(spelling):
    # adversary S6-4: "Hz" beside "spikes/s" left kernel_change and kernel_scale NaN as "other units"
    same = _summary(_sessions(["spikes/s"] * 3, [(0.0, 0.5)] * 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spelled = _summary(_sessions(["spikes/s", spelling, "spikes/s"], [(0.0, 0.5)] * 3))
    assert not [w for w in caught if "other units" in str(w.message) or "different quantities" in str(w.message)]
    for name in ("kernel_change", "kernel_scale"):
        np.testing.assert_allclose(spelled[name].values, same[name].values, rtol=1e-10, equal_nan=True)
