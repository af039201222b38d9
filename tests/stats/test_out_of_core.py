"""Out of core: summarize on dask-backed sessions never holds a whole session, reads each block a bounded
number of times, and gives the in-memory result (every family: behaviour, kernel, readout, generalisation,
dynamics). The peak-RSS run over files four times the memory allowed is benchmarks/bench_memory.py."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.dynamics_family import dynamics_session, leading_components, prepare_dynamics
from neurolearn.stats.dynamics_fit import DynamicsFit
from neurolearn.stats.families import FAMILIES, time_average
from neurolearn.stats.summary import summarize
from tests.stats.test_distributed import _timed_sessions

FAST = dict(n_boot=6, random_state=0, n_permutations=2, generalization_target="target", indicator_tau=0)
CHUNKS = (12, 20)  # trials x neurons per block: a block is 1/12 of a session below
#: every array behind a lazy test recording, by name: blocks are cut from it inside the task, so no graph
#: holds a whole session (``.chunk()`` would embed the array in one task)
_SOURCES: dict = {}
READS: Counter = Counter()


def _read_block(name, trials, neurons):
    READS[name, trials.start, neurons.start] += 1
    return _SOURCES[name][trials, neurons].copy()


def _lazy(recording, name):
    """``recording`` as a dask-backed DataArray whose block tasks read from ``_SOURCES`` (like
    :func:`neurolearn.io.lazy.lazy_array`, which reopens a file)."""
    import dask.array as da

    _SOURCES[name] = recording.values
    n_trials, n_neurons, n_bins = recording.shape
    starts = [range(0, n_trials, CHUNKS[0]), range(0, n_neurons, CHUNKS[1])]
    graph = {(name, i, j, 0): (_read_block, name, slice(t, t + CHUNKS[0]), slice(n, n + CHUNKS[1]))
             for (i, t), (j, n) in itertools.product(*(enumerate(s) for s in starts))}
    chunks = tuple(tuple(min(step, size - start) for start in range(0, size, step))
                   for size, step in zip((n_trials, n_neurons), CHUNKS)) + ((n_bins,),)
    return recording.copy(data=da.Array(graph, name, chunks, dtype=float))


class LargestResult:
    """A dask callback that keeps the largest result (bytes) any task of any local compute returned."""

    def __init__(self):
        from dask.callbacks import Callback

        self.largest = 0
        self.callback = Callback(posttask=self._posttask)

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, _nbytes(result))

    def __enter__(self):
        self.callback.__enter__()
        return self

    def __exit__(self, *exc):
        self.callback.__exit__(*exc)


def _nbytes(value):
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, xr.DataArray):
        return 0 if value.chunks is not None else value.nbytes
    return int(getattr(value, "nbytes", 0) or 0)


@pytest.fixture(scope="module")
def sessions():
    return _timed_sessions(n_sessions=3, n_conditions=12, n_neurons=40, n_bins=12)


@pytest.fixture(scope="module")
def in_memory(sessions):
    return summarize(sessions, **FAST)


def test_no_task_holds_a_whole_session_and_each_block_is_read_five_times(sessions, in_memory):
    READS.clear()
    lazy = [_lazy(rec, f"session-{k}") for k, rec in enumerate(sessions)]
    session_bytes = sessions[0].nbytes
    with LargestResult() as watch:
        summarize(lazy, **FAST, scheduler="synchronous")
    reads = dict(READS)
    # the largest thing any task returned is a (trial, component, time) projection (10 of 40 neurons) or a
    # (trial, neuron) time average: a quarter of a session, never the session
    assert 0 < watch.largest <= session_bytes / 4 + 1024
    # the detector sees a whole session where one is computed
    with LargestResult() as control:
        lazy[0].compute(scheduler="synchronous")
    assert control.largest >= session_bytes
    # each block: the time average, then dynamics' covariance and projection (first-trial blocks once more,
    # for the covariance's reference), and the degenerate reading's pooled moments of the neurons themselves
    # (the condition means, then the trials block by block: without them the lazy timescale differed from the
    # in-memory one, 0.157 for 0.139); no family reads the session again
    counts = Counter()
    for (name, trial, neuron), n in reads.items():
        counts[n - (trial == 0)] += 1
    assert set(counts) == {5}, counts


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_every_family_on_lazy_sessions_equals_the_in_memory_path(sessions, in_memory, scheduler):
    lazy = [_lazy(rec, f"equal-{scheduler}-{k}") for k, rec in enumerate(sessions)]
    out = summarize(lazy, **FAST, scheduler=scheduler)
    assert set(out.data_vars) == set(in_memory.data_vars)
    families = {name: f.name for f in FAMILIES for name in f.statistics}
    # every family summarize runs by default (capacity runs only where statistics= names it)
    assert {families[name] for name in families if name in in_memory} == {f.name for f in FAMILIES if not f.on_request}
    # sums over the same trials in the same order: kernel, readout, generalisation and behaviour are equal to
    # the bit; dynamics' fit in the leading components to rounding (measured 4e-14)
    _assert_same_statistics(out, in_memory)
    for name in ("task_alignment", "margin", "generalization_error", "timescale", "behavior"):
        assert np.isfinite(out[name].values).all(), name  # the comparison is not between NaNs


@pytest.mark.parametrize("indicator_tau, input", [(None, None), (0.2, None), (None, "input")])
def test_the_leading_components_give_the_fit_of_the_whole_recording(indicator_tau, input):
    rng = np.random.default_rng(1)
    n_trials, n_neurons, n_bins = 40, 30, 30
    latent = np.zeros((n_trials, 3, n_bins))
    for k in range(1, n_bins):
        latent[..., k] = np.array([0.9, 0.6, 0.2]) * latent[..., k - 1] + rng.standard_normal((n_trials, 3))
    values = 50.0 + np.einsum("nk,tkb->tnb", rng.standard_normal((n_neurons, 3)), latent)
    values += rng.standard_normal(values.shape)  # a large mean: the covariance must not lose its digits to it
    rec = xr.DataArray(values, dims=("trial", "neuron", "time"),
                       coords={"time": 0.05 * np.arange(n_bins), "stimulus": ("trial", np.arange(n_trials) % 4),
                               "input": (("trial", "time"), rng.standard_normal((n_trials, n_bins)))},
                       attrs={"session_id": "s", "units": "spikes/s"})
    lazy = _lazy(rec, f"components-{indicator_tau}-{input}")
    reduced = leading_components(lazy, n_components=5, indicator_tau=indicator_tau)
    assert reduced.shape == (n_trials, 5, n_bins) and isinstance(reduced.data, np.ndarray)
    assert reduced.attrs == rec.attrs and "input" in reduced.coords and "stimulus" in reduced.coords
    options = dict(n_components=5, input=input, indicator_tau=indicator_tau)
    whole, fitted = (DynamicsFit(r, **options).eigenvalues() for r in (rec, reduced))
    np.testing.assert_allclose(np.abs(fitted), np.abs(whole), rtol=1e-10)
    context = prepare_dynamics({"s": rec}, n_boot=20, random_state=0, n_components=5, input=input,
                               indicator_tau=indicator_tau)
    a, b = dynamics_session("s", rec, context), dynamics_session("s", lazy, context)
    np.testing.assert_allclose(b["timescale"][3], a["timescale"][3], rtol=1e-10)  # every bootstrap replicate


def test_non_finite_values_and_degenerate_sessions_get_the_fit_s_own_answer():
    values = np.random.default_rng(2).standard_normal((6, 4, 8))
    values[3, 1, 2] = np.nan
    rec = xr.DataArray(values, dims=("trial", "neuron", "time"), coords={"time": 0.1 * np.arange(8)})
    with pytest.raises(DataError, match="session .x.: expected finite responses, found 1 NaN/inf values of 192; drop"):
        leading_components(_lazy(rec, "nan"), name="session 'x'")
    one_neuron = rec.isel(neuron=[0])
    lazy = _lazy(one_neuron, "one")
    assert leading_components(lazy, 5) is lazy  # left to the fit, which refuses it before reading
    context = prepare_dynamics({"s": one_neuron}, n_boot=0)
    assert dynamics_session("s", _lazy(one_neuron, "one-b"), context)["reason"] == "fewer than 2 neurons (found 1)"


def test_the_time_average_is_computed_block_by_block():
    rec = _timed_sessions(n_sessions=1, n_neurons=40, n_bins=5)[0]
    READS.clear()
    average = time_average(_lazy(rec, "average"))
    assert isinstance(average.data, np.ndarray) and average.dims == ("trial", "neuron")
    np.testing.assert_array_equal(average.values, rec.mean("time").values)
    assert set(READS.values()) == {1}


def test_the_capacity_family_on_lazy_sessions_equals_the_in_memory_path(sessions):
    # capacity runs only where statistics= names it, so the test above does not reach it (issue 11 item 2)
    names = [name for f in FAMILIES if f.name == "capacity" for name in f.statistics]
    options = dict(FAST, statistics=names, capacity_max_boot=4)
    expected = summarize(sessions, **options)
    lazy = [_lazy(rec, f"capacity-{k}") for k, rec in enumerate(sessions)]
    with LargestResult() as watch:
        out = summarize(lazy, **options, scheduler="synchronous")
    assert 0 < watch.largest < sessions[0].nbytes  # no task computed a whole session
    assert set(names) <= set(out.data_vars) and set(out.data_vars) == set(expected.data_vars)
    assert any(np.isfinite(out[name].values).any() for name in names)  # the comparison is not between NaNs
    _assert_same_statistics(out, expected)


def _assert_same_statistics(out, expected):
    for name in expected.data_vars:
        a, b = expected[name].values, out[name].values
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)
