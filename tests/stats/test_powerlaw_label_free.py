"""powerlaw_exponent needs no task label (registry: needs.min_classes == 0): it is computed, with its bootstrap
replicates, for a session summarised without a target, equal to the labelled run's; spectral_power alone is
NaN there with its reason."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.data import flag_name
from neurolearn.errors import InsufficientDataError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.simulate.recording import make_recording
from neurolearn.stats.kernels import condition_statistics
from neurolearn.stats.spectral import spectral_with_replicates
from neurolearn.stats.summary import summarize


def _sessions(n_sessions=3):
    rng = np.random.default_rng(11)
    y = np.where(np.arange(12) % 2 == 0, 1.0, -1.0)
    tuning = rng.standard_normal((12, 60)) * (np.arange(1, 13) ** -0.8)[:, None]
    return [make_recording(tuning + 0.4 * d * np.outer(y, rng.standard_normal(60)), n_trials=4, noise_sd=0.3,
                           target=y, behavior=0.8, session_id=f"day{d}", rng=d) for d in range(n_sessions)]


def _summary(recs, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return summarize(recs, n_boot=30, random_state=3, dynamics=False, readout=False, **kwargs)


def test_the_registry_declares_the_exponent_label_free():
    assert STATISTICS["powerlaw_exponent"].needs.min_classes == 0
    assert STATISTICS["spectral_power"].needs.min_classes > 0


def test_powerlaw_exponent_without_a_target_equals_the_labelled_runs():
    recs = _sessions()
    labelled, unlabelled = _summary(recs), _summary(recs, target=None)
    for suffix in ("", "_se", "_ci"):
        name = "powerlaw_exponent" + suffix
        assert np.isfinite(labelled[name].values).all(), name
        np.testing.assert_allclose(unlabelled[name].values, labelled[name].values, rtol=1e-10, atol=0, err_msg=name)
    assert set(unlabelled[flag_name("powerlaw_exponent")].values.tolist()) == {""}
    # spectral_power alone needs the label: NaN with the registry's reason
    assert np.isnan(unlabelled["spectral_power"].values).all()
    assert set(unlabelled[flag_name("spectral_power")].values.tolist()) == {"no task label (target=None)"}
    assert np.isfinite(labelled["spectral_power"].values).all()


def test_a_passive_day_without_the_label_column_keeps_its_exponent():
    recs = _sessions()
    passive = list(recs)
    passive[1] = passive[1].drop_vars("target")
    labelled, stats = _summary(recs), _summary(passive)
    np.testing.assert_allclose(stats["powerlaw_exponent"].values, labelled["powerlaw_exponent"].values, rtol=1e-10)
    np.testing.assert_allclose(stats["powerlaw_exponent_se"].values, labelled["powerlaw_exponent_se"].values,
                               rtol=1e-10)
    assert np.isnan(stats["spectral_power"].values[1]) and np.isfinite(stats["spectral_power"].values[[0, 2]]).all()
    assert stats[flag_name("spectral_power")].values[1].startswith("no task label")


def test_the_numpy_core_without_a_target_refuses_by_default_and_matches_when_asked():
    rec = _sessions(1)[0]
    stats = condition_statistics(rec, "stimulus", target="target", min_trials=2)
    bare = condition_statistics(rec, "stimulus", min_trials=2)
    with pytest.raises(InsufficientDataError, match="no task label"):
        spectral_with_replicates(bare)
    values, replicates, _ = spectral_with_replicates(stats, n_boot=40, random_state=2)
    free, free_replicates, info = spectral_with_replicates(bare, n_boot=40, random_state=2, target_required=False)
    assert np.isnan(free[0]) and np.isnan(free_replicates[:, 0]).all()
    assert "no task label" in info["spectral_power_reason"]
    np.testing.assert_allclose(free[1], values[1], rtol=1e-10)
    np.testing.assert_allclose(free_replicates[:, 1], replicates[:, 1], rtol=1e-10)
