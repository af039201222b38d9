"""summarize computes the capacity family on request: the per-session functions' numbers, joined over session."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.data import session_recordings
from neurolearn.errors import DataError
from neurolearn.simulate.manifolds import manifold_recording, manifold_sessions
from neurolearn.simulate.recording import make_session_tree
from neurolearn.stats.capacity import manifold_capacity, mean_field_capacity
from neurolearn.stats.capacity_family import CAPACITY_STATISTICS, N_DICHOTOMIES, capacity_seeds
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.summary import summarize

FAST = dict(target=None, behavior=None, readout=False, dynamics=False)


def _summarize(tree, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(tree, **FAST, **kwargs)
    return stats, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


@pytest.fixture(scope="module")
def sessions():
    tree, _ = manifold_sessions(3, radius_initial=1.2, radius_final=0.5, dimension_initial=3.0, dimension_final=2.0,
                                n_conditions=6, n_neurons=40, n_trials=10, rng=3)
    return tree


def test_summarize_gives_the_per_session_functions_numbers(sessions):
    stats, _ = _summarize(sessions, n_boot=6, capacity_max_boot=2, random_state=11, statistics=list(CAPACITY_STATISTICS))
    seeds = capacity_seeds(11, 3)
    for k, (key, rec) in enumerate(session_recordings(sessions).items()):
        sim = manifold_capacity(rec, n_dichotomies=N_DICHOTOMIES, n_boot=2, random_state=int(seeds[k, 0]))
        mf = mean_field_capacity(rec, n_boot=6, random_state=int(seeds[k, 1]))
        for name, ds in (("manifold_capacity", sim), ("manifold_radius", mf), ("manifold_dimension", mf)):
            got = stats.sel(session=key)
            for suffix in ("", "_se"):
                np.testing.assert_allclose(float(got[name + suffix]), float(ds[name + suffix]), rtol=0, atol=1e-10,
                                           err_msg=f"{key} {name}{suffix}")
            np.testing.assert_allclose(got[name + "_ci"].values, ds[name + "_ci"].values.clip(0.0, 2.0)
                                       if name == "manifold_capacity" else ds[name + "_ci"].values, atol=1e-10)
            assert str(got[name + "_flag"].values) == str(ds[name + "_flag"].values), (key, name)
        assert float(stats.sel(session=key)["manifold_capacity_chance"]) == pytest.approx(
            float(sim["manifold_capacity_chance"]), abs=1e-12)
    # joined with the other families' statistics on the same sessions
    assert "participation_ratio" in stats and stats["manifold_capacity"].dims == ("session",)


def test_capacity_is_computed_only_when_named(sessions):
    default, _ = _summarize(sessions, n_boot=4, random_state=0)
    assert not any(name in default for name in CAPACITY_STATISTICS)
    geometry, _ = _summarize(sessions, n_boot=4, random_state=0, statistics="manifold_radius")
    assert "manifold_radius" in geometry and "manifold_dimension" in geometry  # computed together, cheaply
    assert "manifold_capacity" not in geometry  # the linear programs are not run
    assert np.isfinite(geometry["manifold_radius"]).all()
    with pytest.raises(DataError, match="statistics: expected names of registered statistics.*manifold_capacty"):
        summarize(sessions, **FAST, statistics=["manifold_capacty"])


def test_sessions_the_data_cannot_support_are_nan_with_a_reason_not_an_abort():
    good = manifold_recording(1.0, 2.0, n_conditions=6, n_neurons=40, n_trials=10, session_id="good", rng=0)
    few_trials = manifold_recording(1.0, 2.0, n_conditions=6, n_neurons=40, n_trials=3, session_id="few", rng=1)
    three = manifold_recording(1.0, 2.0, n_conditions=6, n_neurons=40, n_trials=10, session_id="three", rng=2)
    three = three.isel(trial=np.isin(three.stimulus.values, [0, 1, 2]))  # 3 conditions
    silent = manifold_recording(1.0, 2.0, n_conditions=6, n_neurons=40, n_trials=10, session_id="silent", rng=3)
    silent = silent.copy(data=np.zeros(silent.shape))  # every neuron silent
    tree = make_session_tree([good, few_trials, three, silent])
    stats, messages = _summarize(tree, n_boot=4, capacity_max_boot=1, random_state=0,
                                 statistics=list(CAPACITY_STATISTICS))
    for name in CAPACITY_STATISTICS:
        assert np.isfinite(stats[name].sel(session="good")), name
        assert np.isnan(stats[name].sel(session="three")), name
        assert "fewer than 4 conditions" in str(stats[f"{name}_flag"].sel(session="three").values)
        assert np.isnan(stats[name].sel(session="silent")), name
        assert str(stats[f"{name}_flag"].sel(session="silent").values), name
    for name in ("manifold_radius", "manifold_dimension"):
        assert np.isnan(stats[name].sel(session="few")) and "fewer than 4 trials" in str(
            stats[f"{name}_flag"].sel(session="few").values)
    # 3 points per condition: a capacity, kept, flagged as that of 3 points rather than of the manifolds
    assert np.isfinite(stats["manifold_capacity"].sel(session="few"))
    assert "capacity of that many points" in str(stats["manifold_capacity_flag"].sel(session="few").values)
    for name in CAPACITY_STATISTICS:
        for session in ("three", "silent"):
            alike = [m for m in messages if m.startswith(f"{name} is NaN for session {session!r}")]
            assert len(alike) == 1, (name, session, messages)
    kept = [m for m in messages if m.startswith("manifold_capacity of sessions")]
    assert len(kept) == 1 and "'few'" in kept[0]
