"""summarize(): the statistics Dataset form, agreement with the single-statistic functions, dask paths."""

from __future__ import annotations


import dask.array as da
import numpy as np
import pytest
import xarray as xr

from neurolearn.data import ci_name, se_name
from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.alignment import task_alignment
from neurolearn.stats.dimensionality import participation_ratio
from neurolearn.stats.similarity import code_overlap, kernel_change, kernel_similarity
from neurolearn.stats.summary import behavior_estimate, summarize

SESSION_STATS = ("behavior", "task_alignment", "task_difficulty", "participation_ratio", "spectral_power",
                 "powerlaw_exponent", "kernel_change")


def _sessions(rng, n_sessions=3, n_neurons=60, tracked=True):
    y = np.repeat([1.0, -1.0], 6)
    base = rng.standard_normal((12, n_neurons))
    coding = rng.standard_normal(n_neurons)
    recs = []
    for d in range(n_sessions):
        means = base + 0.8 * d * np.outer(y, coding)  # the label becomes more readable every day
        ids = np.arange(n_neurons) if tracked else np.arange(n_neurons) + 1000 * d
        recs.append(make_recording(means, n_trials=3, noise_sd=0.5, target=y, behavior=0.5 + 0.2 * d,
                                   neuron_ids=ids, session_id=f"day{d}",
                                   session_start_time=f"2026-01-0{d + 1}T09:00:00", rng=d))
    return recs


def test_dataset_form_and_agreement_with_single_statistics(rng):
    recs = _sessions(rng)
    tree = make_session_tree(recs)
    ds = summarize(tree, n_boot=100, random_state=0, readout=False, dynamics=False)
    for name in SESSION_STATS:
        assert ds[name].dims == ("session",)
        assert ds[se_name(name)].dims == ("session",)
        assert ds[ci_name(name)].dims == ("session", "ci_bound")
    for name in ("kernel_similarity", "code_overlap"):
        assert ds[name].dims == ("session", "session_other")
    assert ds["session"].values.tolist() == ["day0", "day1", "day2"]
    assert ds["session_index"].values.tolist() == [0, 1, 2]
    assert ds["session_start_time"].values.tolist()[1] == "2026-01-02T09:00:00"
    assert ds.attrs["kernel_estimator"] == "unbiased" and ds.attrs["task_alignment_variant"] == "double"
    for k, rec in enumerate(recs):
        assert float(ds["task_alignment"][k]) == pytest.approx(float(task_alignment(rec)["task_alignment"]))
        assert float(ds["participation_ratio"][k]) == pytest.approx(
            float(participation_ratio(rec)["participation_ratio"]))
        assert float(ds["behavior"][k]) == pytest.approx(float(np.mean(rec.correct.values)))
    np.testing.assert_allclose(ds["kernel_similarity"].values, kernel_similarity(recs)["kernel_similarity"].values)
    np.testing.assert_allclose(ds["kernel_change"].values, kernel_change(recs)["kernel_change"].values)
    np.testing.assert_allclose(ds["code_overlap"].values, code_overlap(recs)["code_overlap"].values)
    assert ds["task_alignment"].values[2] > ds["task_alignment"].values[0]
    finite_se = [name for name in SESSION_STATS if name != "kernel_change"]
    assert all(np.all(ds[se_name(name)].values > 0) for name in finite_se)
    ci = ds[ci_name("task_alignment")].values
    assert np.all((ci[:, 0] <= ds["task_alignment"].values) & (ds["task_alignment"].values <= ci[:, 1]))


def test_one_session_bootstrap_equals_the_single_statistic_bootstrap(rng):
    rec = _sessions(rng, n_sessions=1)[0]
    ds = summarize(rec, n_boot=200, random_state=3, readout=False, dynamics=False)
    alone = task_alignment(rec, n_boot=200, random_state=3)
    assert float(ds["task_alignment_se"][0]) == pytest.approx(float(alone["task_alignment_se"]))
    np.testing.assert_allclose(ds["task_alignment_ci"].values[0], alone["task_alignment_ci"].values)


def test_untracked_sessions_omit_code_overlap_and_say_so(rng):
    ds = summarize(_sessions(rng, tracked=False), n_boot=0, readout=False, dynamics=False)
    assert "code_overlap" not in ds
    assert ds.attrs["code_overlap"].startswith("omitted")
    assert np.all(np.isnan(ds["task_alignment_se"].values))


def test_dask_backed_sessions_and_schedulers_give_the_same_answer(rng):
    recs = _sessions(rng)
    lazy = [rec.copy(data=da.from_array(rec.values, chunks=(10, 25))) for rec in recs]
    eager = summarize(recs, n_boot=50, random_state=1, readout=False, dynamics=False)
    streamed = summarize(make_session_tree(lazy), n_boot=50, random_state=1, readout=False, dynamics=False,
                         scheduler="synchronous")
    xr.testing.assert_allclose(eager, streamed)


def test_runs_on_a_distributed_client(rng):
    distributed = pytest.importorskip("distributed")
    recs = _sessions(rng, n_sessions=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        remote = summarize(recs, n_boot=20, random_state=0, readout=False, dynamics=False, scheduler=client.get)
    local = summarize(recs, n_boot=20, random_state=0, readout=False, dynamics=False)
    xr.testing.assert_allclose(remote, local)


def test_other_helpers_statistics_are_merged(rng, monkeypatch):
    """A family's statistics arrive as a Dataset over ``session`` and are merged by session id."""
    import dataclasses

    from neurolearn.stats import families

    def combine(parts, context, map_sessions):
        ids = list(context)
        return xr.Dataset({"margin": ("session", np.asarray(parts, dtype=float)),
                           "margin_se": ("session", np.ones(len(ids)))}, coords={"session": ids})

    fake = dataclasses.replace(families.FAMILIES[2],
                               prepare=lambda recordings, params, map_sessions: _Keys(recordings),
                               session=lambda key, recording, context: float(key[-1]), combine=combine)
    assert families.FAMILIES[2].name == "readout"
    table = families.FAMILIES[:2] + (fake,) + families.FAMILIES[3:]
    monkeypatch.setattr("neurolearn.stats.summary.FAMILIES", table)
    ds = summarize(_sessions(rng, n_sessions=2), n_boot=0, readout=True, dynamics=False)
    assert ds["margin"].values.tolist() == [0.0, 1.0]
    assert "task_alignment" in ds


class _Keys(list):
    @property
    def keys(self):
        return tuple(self)


def test_behavior_estimate_wilson_interval():
    rec = xr.DataArray(np.zeros((10, 1)), dims=("trial", "neuron"),
                       coords={"correct": ("trial", [1] * 8 + [0] * 2)})
    value, se, (lower, upper) = behavior_estimate(rec)
    # Wilson score interval for 8/10 at 95%: (0.4902, 0.9433)
    assert (value, round(se, 4), round(lower, 4), round(upper, 4)) == (0.8, 0.1265, 0.4902, 0.9433)


def test_errors_name_the_missing_coords(rng):
    recs = _sessions(rng, n_sessions=2)
    with pytest.raises(DataError, match=r"trial coord 'odour'.*available trial coords: \[.*'stimulus'"):
        summarize(recs, by="odour", n_boot=0, readout=False, dynamics=False)
    with pytest.raises(DataError, match=r"'licked'.*available trial coords"):
        summarize(recs, behavior="licked", n_boot=0, readout=False, dynamics=False)
    with pytest.raises(DataError, match="variant"):
        summarize(recs, variant="triple", readout=False, dynamics=False)
    with pytest.raises(DataError, match="expected a DataTree, mapping or sequence"):
        summarize(42)


def test_time_resolved_sessions_use_the_time_averaged_responses(rng):
    recs = _sessions(rng, n_sessions=2)
    timed = [xr.concat([rec, rec], dim="time").transpose("trial", "neuron", "time").assign_attrs(rec.attrs)
             for rec in recs]
    flat = summarize(recs, n_boot=0, readout=False, dynamics=False)
    resolved = summarize(timed, n_boot=0, readout=False, dynamics=False)
    np.testing.assert_allclose(resolved["task_alignment"].values, flat["task_alignment"].values)
    np.testing.assert_allclose(resolved["kernel_similarity"].values, flat["kernel_similarity"].values)


def test_statistics_are_reachable_from_the_package_namespace():
    import neurolearn as nl

    for name in ("summarize", "task_alignment", "task_difficulty", "cka", "kernel_similarity", "kernel_change",
                 "code_overlap", "participation_ratio", "eigenspectrum", "predicted_learning_curve"):
        assert callable(getattr(nl.stats, name)), name
    assert nl.summarize is nl.stats.summarize
    with pytest.raises(AttributeError):
        nl.stats.no_such_statistic


def test_readout_and_dynamics_statistics_are_included(rng):
    pytest.importorskip("neurolearn.stats.readout")
    pytest.importorskip("neurolearn.stats.dynamics")
    recs = []
    for rec in _sessions(rng, n_sessions=2, n_neurons=20):
        activity = np.zeros(rec.shape + (8,))
        activity[..., 0] = rec.values
        for t in range(1, 8):  # slowly decaying activity, so a timescale exists
            activity[..., t] = 0.8 * activity[..., t - 1] + 0.2 * rng.standard_normal(rec.shape)
        recs.append(xr.DataArray(activity, dims=("trial", "neuron", "time"),
                                 coords={**rec.coords, "time": np.arange(8) * 0.05},
                                 attrs={**rec.attrs, "bin_size": 0.05}, name="responses"))
    ds = summarize(recs, n_boot=0)
    for name in ("decoder_accuracy", "margin", "timescale", "task_alignment", "kernel_similarity"):
        assert name in ds and se_name(name) in ds, name
    assert ds["timescale"].dims == ("session",)


def test_two_stimulus_sessions_get_nan_dimensionality_with_a_warning_not_a_refusal():
    # a two-alternative task has two conditions: the centred alignment of two conditions is +-1 by
    # construction and participation ratio and the spectrum need >= 4 conditions; the summary says so for
    # those statistics only, and behaviour and the kernel change are still reported
    import warnings


    rng = np.random.default_rng(3)
    recs = [make_recording(rng.standard_normal((2, 40)), n_trials=10, noise_sd=0.5, target=[1, -1],
                           behavior=0.8, session_id=f"d{d}", rng=d) for d in range(3)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize(make_session_tree(recs), n_boot=20, random_state=0)
    assert np.isnan(stats["participation_ratio"]).all()
    assert np.isnan(stats["task_alignment"]).all()
    assert np.isfinite(stats["behavior"]).all()
    assert np.isfinite(stats["kernel_change"][1:]).all()
    assert stats["task_alignment_flag"].values.tolist() == [
        "fewer than 3 conditions (found 2): the centred alignment of 2 conditions is +-1 by construction"] * 3
    messages = [str(w.message) for w in caught]
    # one reason shared by every session: one warning naming them all
    assert "participation_ratio is NaN for sessions ['d0', 'd1', 'd2']: fewer than 4 conditions (found 2)" in messages
    assert sum(m.startswith("participation_ratio is NaN") for m in messages) == 1


def test_input_coord_is_regressed_out_of_the_dynamics_statistics():
    # the RNN recordings carry the input each trial received; using it recovers the true outlier eigenvalue
    # of W early in training, ignoring it lets the input-driven direction pose as a slow mode
    from neurolearn.simulate.rnn import simulate_integrator_sessions

    tree, truth = simulate_integrator_sessions(3, n_neurons=30, n_steps=120, n_trials=12, rng=1)
    kwargs = dict(behavior=None, n_boot=0, readout=False, random_state=0)
    with_input = summarize(tree, **kwargs)
    without = summarize(tree, input=None, **kwargs)
    error_with = np.abs(with_input["outlier_eigenvalue"].values - truth["outlier_eigenvalue"].values)
    error_without = np.abs(without["outlier_eigenvalue"].values - truth["outlier_eigenvalue"].values)
    # seeds 1-3 read errors of 0.01-0.06 with the input and 0.12-0.28 without (true eigenvalue ~0.1, where
    # 30 neurons x 12 trials put the noise floor of the fitted A)
    assert error_with[0] < 0.1
    assert error_without[0] > 2 * error_with[0]
    np.testing.assert_allclose(with_input["outlier_eigenvalue"].values[1:], truth["outlier_eigenvalue"].values[1:],
                               atol=0.03)
    with pytest.raises(DataError, match="coord 'velocity'"):
        summarize(tree, input="velocity", **kwargs)


def test_behaviour_at_ceiling_keeps_a_positive_standard_error():
    # 20 of 20 correct: the binomial SE reads 0; the Agresti-Coull floor sqrt(p(1-p)/(n+4)) with
    # p = 22/24 keeps the session's fitting weight finite
    rec = xr.DataArray(np.zeros((20, 1)), dims=("trial", "neuron"), coords={"correct": ("trial", [True] * 20)})
    value, se, (lo, hi) = behavior_estimate(rec)
    assert value == 1.0
    assert se == pytest.approx(np.sqrt((22 / 24) * (2 / 24) / 24))
    assert lo < 1.0 and hi == pytest.approx(1.0)


def test_more_bootstrap_replicates_than_the_spectral_cap_keep_one_bootstrap_dim():
    """n_boot above spectral_max_boot: spectral replicates are the first spectral_max_boot resamples, NaN after
    (was: "conflicting sizes for dimension 'bootstrap'"); their SE comes from the finite ones."""
    import warnings

    from neurolearn.simulate.recording import make_recording, make_session_tree
    from neurolearn.stats.estimate import bootstrap_interval

    rng = np.random.default_rng(0)
    y = np.repeat([1.0, -1.0], 6)
    recs = [make_recording(np.outer(y, rng.standard_normal(60)) * d + rng.standard_normal((12, 60)), n_trials=3,
                           noise_sd=0.5, target=y, session_id=f"day{d}", rng=d) for d in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize(make_session_tree(recs), n_boot=30, spectral_max_boot=10, random_state=0, readout=False,
                          dynamics=False, behavior=None)
    boot = stats["spectral_power_boot"].values
    assert boot.shape == (3, 30) and stats["task_alignment_boot"].shape == (3, 30)
    assert np.isfinite(boot[:, :10]).all() and np.isnan(boot[:, 10:]).all()
    se, _ = bootstrap_interval(float(stats["spectral_power"][1]), boot[1, :10], 0.95)
    assert np.isclose(float(stats["spectral_power_se"][1]), se, rtol=1e-12)


def test_a_session_without_a_kernel_gives_one_pairwise_warning_naming_it():
    # adversary F19: one session without a kernel gave one warning per other session ("kernel_similarity is NaN
    # for session 'd0': session has no kernel"), naming the row's session, which had a kernel
    import warnings

    rng = np.random.default_rng(4)
    means = rng.standard_normal((6, 40))
    target = np.array([1, -1, 1, -1, 1, -1])
    for broken, cause in ((lambda r: r.isel(neuron=slice(0, 2)), "too few neurons"),
                          (lambda r: r.isel(trial=np.unique(r.stimulus.values, return_index=True)[1]), "")):
        recordings = [make_recording(means, n_trials=4, noise_sd=0.5, target=target, session_id=f"d{d}", rng=d,
                                     session_start_time=f"2026-01-0{d + 1}T09:00:00") for d in range(4)]
        recordings[2] = broken(recordings[2])  # too few neurons, or one trial per condition
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stats = summarize(make_session_tree(recordings), n_boot=0, readout=False, dynamics=False,
                              random_state=0)
        similarity = [str(w.message) for w in caught if str(w.message).startswith("kernel_similarity is NaN")]
        assert len(similarity) == 1, similarity
        assert "session 'd2'" in similarity[0] and cause in similarity[0]
        assert "'d0', 'd1'" in similarity[0]
        assert np.isnan(stats["kernel_similarity"].sel(session="d0", session_other="d2"))
        assert np.isfinite(stats["kernel_similarity"].sel(session="d0", session_other="d1"))
