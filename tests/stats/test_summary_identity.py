"""summarize: cell identity across sessions is declared, never guessed from positions (adversary F10)."""

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.recording import make_recording, make_session_tree
from neurolearn.stats.summary import summarize


def _recordings(tracked=None, coord=True):
    rng = np.random.default_rng(0)
    y = np.repeat([1.0, -1.0], 4)
    recs = []
    for d in range(3):
        rec = make_recording(np.outer(y, rng.standard_normal(40)) * (1 + d) + rng.standard_normal((8, 40)),
                             n_trials=3, noise_sd=0.5, target=y, behavior=0.6, session_id=f"day{d}", rng=d)
        if not coord:
            rec = rec.drop_vars("neuron")
        if tracked is not None:
            rec.attrs["tracked"] = tracked
        else:
            rec.attrs.pop("tracked", None)
        recs.append(rec)
    return make_session_tree(recs)


def _summary(tree):
    return summarize(tree, n_boot=20, random_state=0, readout=False, dynamics=False)


def test_sessions_without_neuron_ids_are_not_taken_as_the_same_cells():
    # a DataArray with no neuron coord was read as tracked: code_overlap 0.26-0.29 between unrelated cells
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the statistics' own NaN warnings, whichever they are
        stats = _summary(_recordings(coord=False))
    assert not _has_overlap(stats)
    assert _has_overlap(_summary(_recordings()))  # in memory, ids that repeat are the same cells


def _has_overlap(stats):
    return "code_overlap" in stats and bool(np.isfinite(stats["code_overlap"].values).any())


@pytest.mark.parametrize("flag, tracked", [("False", False), ("false", False), (0, False), ("True", True),
                                           (np.bool_(True), True), (True, True)])
def test_a_tracked_flag_stored_as_text_or_a_number_is_read_as_declared(flag, tracked):
    # NetCDF and zarr cannot hold bools: attrs come back as 'False', which bool() read as tracked
    assert _has_overlap(_summary(_recordings(tracked=flag))) is tracked


def test_an_unreadable_tracked_flag_is_refused():
    with pytest.raises(DataError, match=r"session 'day0': expected attrs\['tracked'\] True or False.*'maybe'"):
        _summary(_recordings(tracked="maybe"))


def test_cells_declared_untracked_are_different_cells_even_where_ids_repeat():
    # ids 0..N-1 in every session, tracked=False: the kernels' same-cell terms and the bootstrap's shared weights
    # must not pair cells that merely share an id, so the result equals that of ids unique per session
    repeated = _summary(_recordings(tracked=False))
    tree = _recordings(tracked=False)
    unique = {}
    for key in tree.children:
        rec = tree[key].dataset["responses"]
        unique[key] = rec.assign_coords(neuron=[f"{key}-{v}" for v in rec["neuron"].values])
    relabelled = _summary(make_session_tree([unique[k] for k in tree.children]))
    # (kernel_change is left out: its halvings hash the ids, so any relabelling moves it by its own noise)
    for name in ("kernel_similarity", "task_alignment", "participation_ratio"):
        np.testing.assert_allclose(repeated[name].values, relabelled[name].values, rtol=1e-10, equal_nan=True)
    # declared tracked, the same ids are the same cells: the estimate differs (same-cell products left out)
    tracked = _summary(_recordings(tracked=True))
    assert not np.allclose(tracked["kernel_similarity"].values, repeated["kernel_similarity"].values,
                           equal_nan=True)


def test_sessions_out_of_start_time_order_are_warned_about_once():
    tree = _recordings(tracked=True)
    recs = [tree[k].dataset["responses"] for k in tree.children]
    for rec, day in zip(recs, ["2026-01-01", "2026-01-08", "2026-01-02"]):
        rec.attrs["session_start_time"] = f"{day}T09:00:00+00:00"
    with pytest.warns(UserWarning, match=r"sessions are in the order \['day0', 'day1', 'day2'\], which their "
                                         r"session_start_time puts as \['day0', 'day2', 'day1'\]"):
        _summary(make_session_tree(recs))
    for rec, day in zip(recs, ["2026-01-01", "2026-01-02", "2026-01-08"]):
        rec.attrs["session_start_time"] = f"{day}T09:00:00+00:00"
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _summary(make_session_tree(recs))
    assert not any("session_start_time puts" in str(w.message) for w in caught)


def test_a_session_declared_untracked_beside_tracked_ones_keeps_the_others_identity():
    tracked = _summary(_recordings(tracked=True))
    tree = _recordings(tracked=True)
    recs = [tree[k].dataset["responses"] for k in tree.children]
    recs[2].attrs["tracked"] = False
    mixed = _summary(make_session_tree(recs))
    # day0 and day1 are still the same cells: their pair is as in the all-tracked run
    np.testing.assert_allclose(mixed["kernel_similarity"].values[0, 1], tracked["kernel_similarity"].values[0, 1],
                               rtol=1e-10)
    untracked = _summary(_recordings(tracked=False))
    np.testing.assert_allclose(mixed["kernel_similarity"].values[0, 2], untracked["kernel_similarity"].values[0, 2],
                               rtol=1e-10)


def test_code_overlap_is_kept_for_the_tracked_sessions_beside_an_untracked_one():
    # adversary F12: one session not declared tracked omitted code_overlap for every session
    tree = _recordings(tracked=True)
    recs = [tree[k].dataset["responses"] for k in tree.children]
    recs[2].attrs["tracked"] = False
    stats = _summary(make_session_tree(recs))
    overlap = stats["code_overlap"].values
    assert np.isfinite(overlap[0, 1]) and np.isnan(overlap[0, 2]) and np.isnan(overlap[1, 2])
    assert "no tracked cell" in str(stats["code_overlap_flag"].values[0, 2])


def test_tracked_cells_the_data_cannot_resolve_give_nan_with_reasons_not_a_missing_statistic():
    # bench_coverage --tracked, 4 conditions x 3 trials: every pair's code_overlap NaN for trial noise, and the
    # summary dropped the statistic, its attrs saying "no neuron ids shared between sessions"
    rng = np.random.default_rng(1)
    recs = [make_recording(0.05 * rng.standard_normal((4, 30)), n_trials=3, noise_sd=1.0, target=[1.0, -1, 1, -1],
                           session_id=f"day{d}", rng=d) for d in range(3)]
    for rec in recs:
        rec.attrs["tracked"] = True
    with pytest.warns(Warning, match="code_overlap"):
        stats = _summary(make_session_tree(recs))
    assert "code_overlap" in stats
    off = ~np.eye(3, dtype=bool)
    assert np.isnan(stats["code_overlap"].values[off]).all()
    flags = stats["code_overlap_flag"].values[off]
    assert all(flag and "no tracked cell" not in flag for flag in flags), flags
    assert "omitted" not in stats.attrs["code_overlap"]


def test_undeclared_arrays_sharing_ids_are_read_as_the_same_cells_with_a_warning():
    # adversary S6-6: a per-day unit index (0..N-1 every day) in arrays built in memory was paired as tracked
    # cells without a word; the simulators declare it (attrs['tracked'] True), a user's arrays are told
    tree = _recordings()  # attrs['tracked'] removed: undeclared
    with pytest.warns(UserWarning, match=r"declare no cell identity .* share neuron ids: read as the same cells"):
        stats = _summary(tree)
    assert _has_overlap(stats)
    declared = _recordings(tracked=True)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _summary(declared)
    assert not [w for w in caught if "declare no cell identity" in str(w.message)]
    # a simulated recording declares its ids
    assert make_recording(np.eye(2), n_trials=2, rng=0).attrs["tracked"] is True
