"""The FAMILIES table of summarize: every statistic in exactly one family, picklable per-session stages, the
same result on every scheduler, and degrade-don't-abort family by family."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn.data import flag_name
from neurolearn.errors import DataError
from neurolearn.statistic_registry import STATISTICS
from neurolearn.stats.families import FAMILIES, family_of
from neurolearn.stats.flags import StatisticWarning
from neurolearn.stats.summary import summarize
from tests.stats.test_distributed import _timed_sessions, assert_same

FAST = dict(n_boot=6, random_state=0, n_permutations=0, generalization_target="target")


def _caught(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = summarize(*args, **kwargs)
    return out, [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]


@pytest.fixture(scope="module")
def sessions():
    return _timed_sessions(n_sessions=3, n_conditions=12, n_neurons=16, n_bins=8)


@pytest.fixture(scope="module")
def summary(sessions):
    return summarize(sessions, **FAST)


def test_every_statistic_summarize_computes_is_in_exactly_one_family(summary):
    names = [f.name for f in FAMILIES]
    assert names == ["behavior", "kernel", "readout", "generalization", "dynamics", "capacity"]
    members = [name for family in FAMILIES for name in family.statistics]
    assert len(members) == len(set(members))  # no statistic in two families
    computed = [name for name in STATISTICS if name in summary]
    on_request = {name for family in FAMILIES if family.on_request for name in family.statistics}
    assert on_request == {"manifold_capacity", "manifold_radius", "manifold_dimension"}
    # the table is what summarize computes, all of it on these data (the capacity family only when named)
    assert set(computed) == set(members) - on_request
    assert set(STATISTICS) == set(members)
    assert family_of("spectral_power").name == "kernel"
    assert family_of("heldout_behavior").name == "generalization"
    assert family_of("manifold_capacity").name == "capacity"
    with pytest.raises(DataError, match="no family"):
        family_of("behaviour")


def test_every_family_is_registered_the_same_way_and_its_session_stage_pickles(sessions):
    """prepare -> context (picklable), session(key, recording, context) -> part (a module-level function, the
    part picklable), and the part computed from unpickled pieces equals the one computed here."""
    from neurolearn.stats.families import SummaryParams

    recordings = {rec.attrs["session_id"]: rec for rec in sessions}
    params = SummaryParams(label="target", by="stimulus", behavior="correct", n_boot=4, random_state=0,
                           level=0.95,
                           unbiased=True, left=True, right=True, ridge=0.1, n_modes=5, spectral_max_boot=50,
                           tracked=True, readout=True, n_permutations=0, heldout="heldout",
                           heldout_column="heldout", generalization="readout", generalization_target="target",
                           dynamics=True, input=None,
                           indicator_tau=0.0, statistics=tuple(STATISTICS), capacity_max_boot=1)
    serial = lambda function, items: [function(item) for item in items]  # noqa: E731
    for family in FAMILIES:
        context = family.prepare(recordings, params, serial)
        assert tuple(context.keys) == tuple(recordings), family.name
        stage, context_copy = pickle.loads(pickle.dumps((family.session, context)))
        assert stage is family.session  # pickled by reference: a worker imports it
        key = context.keys[1]
        part = family.session(key, recordings[key], context)
        shipped = pickle.loads(pickle.dumps(recordings[key]))
        again = pickle.loads(pickle.dumps(stage(key, shipped, context_copy)))
        assert _plain(again) == _plain(part), family.name
        assert isinstance(family.combine([family.session(k, recordings[k], context) for k in context.keys],
                                         context, serial), xr.Dataset)


def _plain(part):
    """A part as comparable text (Datasets, arrays and dataclasses alike)."""
    return repr(pickle.loads(pickle.dumps(part)))


def test_the_synchronous_scheduler_gives_the_threads_result(sessions, summary):
    # (a process pool costs ~30 s of imports on a loaded 2-core machine: the worker processes of
    # test_distributed.py cover computing in other processes)
    assert_same(summary, summarize(sessions, **FAST, scheduler="synchronous"))


def test_scheduler_names_are_checked(sessions):
    with pytest.raises(DataError, match="scheduler: expected"):
        summarize(sessions, **FAST, scheduler="gpu")
    distributed = pytest.importorskip("distributed")
    try:
        distributed.get_client()
    except ValueError:
        with pytest.raises(DataError, match="scheduler='distributed': expected an active dask.distributed"):
            summarize(sessions, **FAST, scheduler="distributed")


def _defect(sessions, k, family):
    """Session k made unsupportable for one family only."""
    recs = list(sessions)
    rec = recs[k]
    if family == "behavior":
        rec = rec.assign_coords(correct=("trial", np.full(rec.sizes["trial"], np.nan)))
    elif family == "kernel":  # one trial per condition: no trial-noise correction
        first = np.unique(rec.stimulus.values, return_index=True)[1]
        rec = rec.isel(trial=np.sort(first))
    elif family == "readout":  # one class
        rec = rec.isel(trial=np.flatnonzero(rec.target.values > 0))
    elif family == "generalization":
        rec = rec.drop_vars("heldout")
    elif family == "dynamics":  # too few time bins for the lagged instruments
        rec = rec.isel(time=slice(0, 3))
    recs[k] = rec
    return recs


REASON_OF = {"behavior": "behavior", "kernel": "participation_ratio", "readout": "margin",
             "generalization": "generalization_error", "dynamics": "timescale"}


@pytest.mark.parametrize("family", list(REASON_OF))
def test_one_session_a_family_cannot_support_degrades_only_there(sessions, family):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats, messages = _caught(_defect(sessions, 1, family), **FAST)
    name = REASON_OF[family]
    assert np.isnan(stats[name].values[1]) and stats[flag_name(name)].values[1] != ""
    assert np.isfinite(stats[name].values[[0, 2]]).all(), stats[flag_name(name)].values
    assert any(m.startswith(f"{name} is NaN for session 'day1'") for m in messages), messages
    others = {"behavior", "task_alignment", "margin", "generalization_error", "timescale"} - {name}
    for other in others - ({"task_alignment"} if family == "kernel" else set()):
        assert np.isfinite(stats[other].values[0]), other  # the other families are untouched


def test_a_family_that_fails_as_a_whole_is_nan_with_its_reason_and_the_rest_goes_on(sessions):
    recs = list(sessions)
    values = recs[2].values.copy()
    values[0, 0, :] = np.nan  # the readout refuses NaN responses; the kernel statistics omit them
    recs[2] = recs[2].copy(data=values)
    stats, messages = _caught(recs, **FAST)
    assert np.isnan(stats["margin"].values).all()
    assert "expected finite responses" in stats.attrs["readout"]
    assert set(stats[flag_name("margin")].values.tolist()) == {stats.attrs["readout"].split(": ", 1)[1]}
    assert np.isfinite(stats["task_alignment"].values[:2]).all()
    assert np.isfinite(stats["behavior"].values).all()
    assert np.isfinite(stats["generalization_error"].values[:2]).all()


def test_the_family_modules_do_not_shadow_the_public_functions():
    # importing a submodule sets it as an attribute of its package: a module named like a function re-exported
    # from neurolearn.stats would replace that function there
    import neurolearn as nl

    for name in ("summarize", "dynamics_summary", "readout_summary"):
        assert callable(getattr(nl.stats, name)), name


def test_lazy_sessions_degrade_and_fail_like_the_in_memory_ones(sessions):
    # a NaN: the readout and dynamics families fail as a whole, the kernel statistics of that session are NaN
    import re

    recs = list(sessions)
    values = recs[2].values.copy()
    values[0, 0, :] = np.nan
    recs[2] = recs[2].copy(data=values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager, eager_messages = _caught(recs, **FAST)
        lazy, lazy_messages = _caught([rec.chunk({"trial": 10, "neuron": 7}) for rec in recs], **FAST)

    def counted(text):
        # the same reasons; a lazy session's kernel statistics count the NaN of the time average they are
        # computed from (1 of 48 x 16), the in-memory ones those of the whole block (8 of 48 x 16 x 8)
        return re.sub(r"found \d+ NaN/inf values of \d+", "found n NaN/inf values", str(text))

    assert [counted(m) for m in lazy_messages] == [counted(m) for m in eager_messages]
    assert {k: counted(v) for k, v in lazy.attrs.items()} == {k: counted(v) for k, v in eager.attrs.items()}
    assert "expected finite responses" in lazy.attrs["readout"] and "expected finite" in lazy.attrs["dynamics"]
    for name in eager.data_vars:
        if eager[name].dtype.kind in "fc":
            np.testing.assert_allclose(lazy[name].values, eager[name].values, rtol=1e-10, atol=0, err_msg=name)
        else:
            assert [counted(v) for v in lazy[name].values.ravel()] == [counted(v) for v in eager[name].values.ravel()]
    assert [f.name for f in FAMILIES if f.reads_time] == ["dynamics"]  # the others get the time average


def test_progress_draws_dask_bar_only_on_a_terminal(capsys):
    # a log file or pipe (pytest's captured stderr is neither a terminal) gets the family line, not the bar's
    # carriage-return redraws; a stream that says it is a terminal gets the bar
    import io
    import sys

    from neurolearn.simulate.spiking import spiking_sessions
    from neurolearn.stats.summary import summarize

    tree, _ = spiking_sessions(n_sessions=2, n_conditions=6, n_trials=4, n_neurons=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summarize(tree, n_boot=5, random_state=0, readout=False, progress=True)
    err = capsys.readouterr().err
    assert "summarize: " in err and "Completed" not in err

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    stderr, sys.stderr = sys.stderr, terminal
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summarize(tree, n_boot=5, random_state=0, readout=False, progress=True)
    finally:
        sys.stderr = stderr
    assert "Completed" in terminal.getvalue()


def test_a_session_whose_outcomes_the_mapping_never_codes_is_nan_with_its_reason_not_the_run_aborted():
    # a day where every trial is "no response" beside days of hits and misses: that day's behaviour is NaN and
    # says why; a mapping no session's outcomes hold is still a typo, refused
    from neurolearn.errors import DataError
    from neurolearn.simulate.spiking import spiking_sessions
    from neurolearn.stats.summary import summarize

    tree, _ = spiking_sessions(n_sessions=3, n_conditions=6, n_trials=4, n_neurons=40, random_state=2)
    sessions = {}
    for k, (key, node) in enumerate(tree.children.items()):
        rec = node["responses"]
        correct = np.asarray(rec.coords["correct"].values).astype(bool)
        outcome = np.where(correct, "Hit", "Miss") if k != 1 else np.full(correct.size, "no response")
        sessions[key] = rec.assign_coords(outcome=("trial", outcome))
    coding = {"outcome": {"Hit": 1, "Miss": 0}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = summarize(sessions, behavior=coding, n_boot=5, random_state=0, readout=False)
    values = stats["behavior"].values
    assert np.isfinite(values[[0, 2]]).all() and np.isnan(values[1])
    assert "no trial with an outcome the mapping codes" in str(stats["behavior_flag"].values[1])
    with pytest.raises(DataError, match="mapping's keys among the values"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summarize(sessions, behavior={"outcome": {"hit": 1, "miss": 0}}, n_boot=5, random_state=0,
                      readout=False)
