"""Trial noise shared across neurons: the ratio's null and its response to a shared gain, the flag, and the
one-pass (in-memory, dask) computation agreeing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.kernels import condition_statistics
from neurolearn.stats.shared_noise import SHARED_NOISE_FLAG, shared_noise_threshold
from neurolearn.stats.summary import summarize
from neurolearn.stats.trial_noise import CORRECTED


def _session(rng, gain_cv, *, n_conditions=8, n_trials=3, n_neurons=300, name="d0"):
    rates = rng.lognormal(1.0, 0.7, (n_conditions, n_neurons))
    gain = np.clip(1.0 + gain_cv * rng.standard_normal(n_conditions * n_trials), 0.0, None)
    counts = rng.poisson(gain[:, None] * np.repeat(rates, n_trials, axis=0)).astype(float)
    labels = np.repeat(np.arange(n_conditions), n_trials)
    return xr.DataArray(counts, dims=("trial", "neuron"),
                        coords={"stimulus": ("trial", labels), "target": ("trial", labels % 2 * 2.0 - 1.0),
                                "neuron": [f"{name}/{i}" for i in range(n_neurons)]},
                        attrs={"session_id": name})


def test_the_ratio_is_one_for_independent_poisson_noise_and_grows_with_a_shared_gain(rng):
    # the closed form: Var(sum_i e_i) / sum_i Var(e_i) = 1 + (N - 1) rho; a shared gain g with CV c on Poisson
    # counts gives Var(sum) ~ c^2 (sum r)^2 + sum r, far above sum Var = sum r + c^2 sum r^2
    null = [condition_statistics(_session(np.random.default_rng(s), 0.0), "stimulus").shared_noise_ratio
            for s in range(40)]
    # chi2_df / df with df = 8 x 2 = 16: mean 1, SD 0.35
    assert np.mean(null) == pytest.approx(1.0, abs=0.12) and np.std(null) < 0.5
    assert max(null) < shared_noise_threshold(16)
    shared = condition_statistics(_session(rng, 0.3), "stimulus").shared_noise_ratio
    assert shared > 20


def test_dask_backed_sessions_give_the_same_ratio(rng):
    rec = _session(rng, 0.1)
    eager = condition_statistics(rec, "stimulus").shared_noise_ratio
    lazy = condition_statistics(rec.chunk({"trial": 5}), "stimulus").shared_noise_ratio
    assert lazy == pytest.approx(eager, rel=1e-10)


def test_a_shared_gain_flags_the_uncorrected_kernel_statistics_once_per_session_and_keeps_their_values(rng):
    recs = [_session(rng, 0.3, name="d0"), _session(rng, 0.0, name="d1")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(recs, n_boot=20, random_state=0, readout=False, dynamics=False, behavior=None)
    messages = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]
    flagged = [m for m in messages if "of session 'd0': trial noise shared" in m]
    assert len(flagged) == 1 and flagged[0].startswith("kernel statistics task_difficulty")
    assert not any("session 'd1': trial noise shared" in m for m in messages)
    ratio = stats["shared_noise_ratio"].values
    assert ratio[0] > shared_noise_threshold(16) > ratio[1]
    flags = stats["task_difficulty_flag"].values
    assert flags[0].startswith(SHARED_NOISE_FLAG.split("{")[0]) and flags[1] == ""
    assert np.isfinite(stats["task_difficulty"].values).all()  # value kept
    pair = stats["target_agreement_flag"].values
    assert "trial noise shared" in pair[0, 1] and "trial noise shared" in pair[1, 0] and pair[1, 1] == ""
    # the statistics whose intervals carry the shared noise (neurolearn.stats.trial_noise) are not flagged
    for name in CORRECTED:
        assert not any("trial noise shared" in f for f in np.ravel(stats[f"{name}_flag"].values))
