"""summarize on a dask.distributed cluster: every family's per-session stage runs on the workers (two worker
processes on 127.0.0.1) and the result equals the in-process one, variable by variable."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.simulate.recording import make_recording

distributed = pytest.importorskip("distributed")

FAMILY_STAGES = ("behavior", "kernel", "readout", "generalization", "dynamics")
KWARGS = dict(n_boot=10, random_state=0, n_permutations=2, generalization_target="target")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield client


def _timed_sessions(n_sessions=3, n_conditions=12, n_neurons=16, n_bins=8, seed=0):
    """Time-resolved sessions whose label grows more readable, slowly decaying activity, and 3 held-out
    stimuli: every family of summarize has something to compute."""
    rng = np.random.default_rng(seed)
    y = np.tile([1.0, -1.0], n_conditions // 2)
    base, coding = rng.standard_normal((n_conditions, n_neurons)), rng.standard_normal(n_neurons)
    recs = []
    for d in range(n_sessions):
        rec = make_recording(base + (0.5 + 0.6 * d) * np.outer(y, coding), n_trials=4, noise_sd=0.5, target=y,
                             behavior=0.6 + 0.1 * d, session_id=f"day{d}", rng=d)
        activity = np.zeros(rec.shape + (n_bins,))
        activity[..., 0] = rec.values
        for t in range(1, n_bins):
            activity[..., t] = 0.7 * activity[..., t - 1] + 0.3 * rng.standard_normal(rec.shape)
        recs.append(xr.DataArray(activity, dims=("trial", "neuron", "time"),
                                 coords={**rec.coords, "time": np.arange(n_bins) * 0.05,
                                         "heldout": ("trial", rec.stimulus.values >= n_conditions - 3)},
                                 attrs={**rec.attrs, "bin_size": 0.05}, name="responses"))
    return recs


def assert_same(local, remote):
    """Every variable: floats equal to 1e-12 (relative), everything else exactly; the same attrs."""
    assert set(local.data_vars) == set(remote.data_vars)
    for name in local.data_vars:
        a, b = local[name], remote[name]
        assert a.dims == b.dims and a.attrs == b.attrs, name
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(b.values, a.values, rtol=1e-12, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(b.values, a.values, err_msg=name)
    assert local.attrs == remote.attrs
    xr.testing.assert_equal(local.coords.to_dataset(), remote.coords.to_dataset())


def _refuse_in_client(monkeypatch):
    """The functions at the heart of every family's session stage raise if called in this process: the
    workers are other processes (spawned, with their own imports), so a result proves they ran there."""
    def refuse(*args, **kwargs):
        raise AssertionError("a session stage was computed in the client")

    for target in ("neurolearn.stats.families.session_part", "neurolearn.stats.families.behavior_estimate",
                   "neurolearn.stats.readout.summary.decoder_accuracy",
                   "neurolearn.stats.readout.summary.flip_fraction",
                   "neurolearn.stats.generalization.readout_session",
                   "neurolearn.stats.dynamics_family.DynamicsFit"):
        monkeypatch.setattr(target, refuse)


def test_every_family_runs_on_the_workers_and_gives_the_in_process_result(client, monkeypatch):
    from neurolearn.stats.summary import summarize

    recs = _timed_sessions()
    local = summarize(recs, **KWARGS)
    for name in ("task_alignment", "kernel_similarity", "margin", "flip_fraction", "generalization_error",
                 "timescale", "behavior"):
        assert np.isfinite(local[name].values).any(), name  # the comparison below is not between NaNs
    _refuse_in_client(monkeypatch)
    with distributed.get_task_stream(client) as stream:
        remote = summarize(recs, **KWARGS, scheduler=client)
    assert_same(local, remote)
    workers = {task["worker"] for task in stream.data}
    assert len(workers) == 2 and workers <= set(client.scheduler_info()["workers"])
    keys = [str(task["key"]) for task in stream.data]
    stages = {key.split("-session-")[0] for key in keys if "-session-" in key}
    assert set(FAMILY_STAGES) <= stages
    # and the per-session work of the cross-session statistics (kernel pairs, response scale, flips)
    mapped = {str(task["key"]).split("-")[1] for task in stream.data if str(task["key"]).startswith("map-")}
    assert {"_cross_influences", "_session_variances", "_flip_part"} <= mapped


def test_the_active_client_is_used_by_name(client):
    from neurolearn.stats.summary import summarize

    recs = _timed_sessions(n_sessions=2, n_bins=6)
    kwargs = dict(KWARGS, readout=False)
    with distributed.get_task_stream(client) as stream:
        remote = summarize(recs, **kwargs, scheduler="distributed")
    assert any("-session-" in str(task["key"]) for task in stream.data)
    assert_same(summarize(recs, **kwargs, scheduler="synchronous"), remote)


def test_lazy_sessions_reach_the_workers_as_graphs(client, tmp_path):
    import dask

    from neurolearn.io.sessions import read_sessions
    from neurolearn.simulate.nwb import write_sessions_nwb
    from neurolearn.simulate.spiking import spiking_sessions
    from neurolearn.stats.summary import summarize

    tree, _ = spiking_sessions(n_sessions=2, n_conditions=6, n_trials=4, n_neurons=20, random_state=0)
    write_sessions_nwb(tree, tmp_path, rng=0)
    lazy = read_sessions(str(tmp_path / "*.nwb"), bin_size=0.05, chunks={"trial": 8, "neuron": 10})
    assert all(isinstance(child.dataset["responses"].data, dask.array.Array)
               for child in lazy.children.values())
    kwargs = dict(n_boot=10, random_state=0, n_permutations=2)
    local = summarize(lazy, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("the client computed a lazy session")

    with dask.config.set(scheduler=refuse):  # anything the client computes itself goes through this
        remote = summarize(lazy, **kwargs, scheduler=client)
    assert_same(local, remote)
    assert np.isfinite(remote["timescale"].values).all() and np.isfinite(remote["margin"].values).all()
