"""Units tables: structural inconsistencies are refused, never guessed; lazy reads equal eager reads."""

from __future__ import annotations

import os
import shutil

import h5py
import numpy as np
import pytest

from neurolearn.errors import NWBError
from neurolearn.io import read_nwb

from .conftest import add_trials, add_units, new_nwbfile, save


def _edited_copy(source, target, edit):
    shutil.copy(source, target)
    with h5py.File(target, "a") as handle:
        edit(handle)
    return target


def test_a_units_table_without_its_ragged_index_is_refused_not_read_as_one_unit(units_file, tmp_path):
    def drop_index(handle):
        del handle["units/spike_times_index"]

    path = _edited_copy(units_file, tmp_path / "no_index.nwb", drop_index)
    with pytest.raises(NWBError, match=r"no_index\.nwb.*expected a spike_times_index .*17 spikes.*2 units"):
        read_nwb(path)


def test_repeated_unit_ids_and_ids_that_do_not_match_the_index_are_refused(units_file, tmp_path):
    def same_ids(handle):
        handle["units/id"][...] = [7, 7]

    def extra_id(handle):
        del handle["units/id"]
        handle["units"].create_dataset("id", data=[1, 2, 3])

    expected = r"expected distinct unit ids, found 1 repeated \(e.g. \[7\], 2 times\)"
    with pytest.raises(NWBError, match=expected):
        read_nwb(_edited_copy(units_file, tmp_path / "same.nwb", same_ids))
    with pytest.raises(NWBError, match="found 3 ids and 2 entries in spike_times_index"):
        read_nwb(_edited_copy(units_file, tmp_path / "extra.nwb", extra_id))


def test_unsorted_spike_times_give_the_same_counts_lazily_as_eagerly(tmp_path, rng):
    nwbfile = new_nwbfile()
    starts = np.arange(20) * 2.0 + 1.0
    add_trials(nwbfile, starts=starts, stops=starts + 1.0)
    # out of order as in the real ALM files: each unit's first and last *stored* spikes come after every
    # trial, so they do not bound the recording (the old lazy check then put every window outside it)
    trains = [np.concatenate([[45.0 + u], np.sort(rng.uniform(0.5, 42.0, size=80)), [46.0 + u]])
              for u in range(3)]
    add_units(nwbfile, trains)
    path = save(nwbfile, tmp_path / "unsorted.nwb")
    with pytest.warns(UserWarning, match="were not sorted"):
        eager = read_nwb(path)
    lazy = read_nwb(path, chunks={"trial": 7, "neuron": 2})
    with pytest.warns(UserWarning, match="were not sorted") as caught:
        values = lazy.values
    np.testing.assert_array_equal(values, eager.values)
    # 3 x 2 blocks, each holding unsorted units: one warning for the file, not one per block
    assert sum("were not sorted" in str(w.message) for w in caught) == 1
    assert "in the first block read" in str(caught[0].message)
    expected = [[int(np.sum((t >= s) & (t < s + 1.0))) for t in trains] for s in starts]
    assert eager.values.tolist() == expected


def test_a_lazy_array_refuses_to_read_a_file_changed_since_it_was_opened(units_file, tmp_path):
    path = tmp_path / "changing.nwb"
    shutil.copy(units_file, path)
    lazy = read_nwb(path, chunks=1)
    expected = read_nwb(path).values
    np.testing.assert_array_equal(lazy.values, expected)  # unchanged: reads fine
    with h5py.File(path, "a") as handle:  # rewritten in place: same layout, other spike times
        handle["units/spike_times"][...] = handle["units/spike_times"][()] + 0.5
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock would hide it
    with pytest.raises(NWBError, match=r"changing\.nwb: the file changed since it was opened"):
        lazy.compute()


def test_units_linked_only_to_electrode_groups_get_the_groups_locations(tmp_path):
    # pynwb's add_unit(electrode_group=...) without electrodes: the area is the group's location attribute
    # (as in many converted Neuropixels files, one group per probe or shank)
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[1.0, 3.0], stops=[2.0, 4.0])
    device = nwbfile.create_device("probe")
    groups = [nwbfile.create_electrode_group(name, "shank", location=area, device=device)
              for name, area in (("shank0", "V1"), ("shank1", "LM"))]
    for number, group in enumerate([groups[1], groups[0], groups[1]]):
        nwbfile.add_unit(spike_times=np.array([1.5 + number * 0.1, 3.5]), electrode_group=group)
    recording = read_nwb(save(nwbfile, tmp_path / "groups.nwb"))
    assert recording.coords["location"].values.tolist() == ["LM", "V1", "LM"]


def test_units_without_any_location_get_no_location_coord(units_file):
    assert "location" not in read_nwb(units_file).coords


def test_units_not_observed_in_every_trial_window_are_left_out_not_read_as_silent(tmp_path):
    # obs_intervals: unit 1 was lost after 4.5 s (a drifting probe); its zero counts in the last trial would
    # read as silence. It is left out with a warning; selecting the trials it was observed in keeps it.
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[1.0, 3.0, 5.0], stops=[2.0, 4.0, 6.0])
    for unit, observed in enumerate([[[0.0, 10.0]], [[0.0, 4.5]], [[0.0, 2.5], [2.9, 7.0]]]):
        # unit 10 fires at 9.5 s too: the recording runs past the last trial, so no trial is outside it
        late = [9.5] if unit == 0 else []
        nwbfile.add_unit(spike_times=np.array([1.5, 3.5] + late) + 0.1 * unit, obs_intervals=observed, id=10 + unit)
    path = save(nwbfile, tmp_path / "observed.nwb")
    with pytest.warns(UserWarning, match=r"left out 1 of 3 units whose obs_intervals.*\(ids \[11\]\)"):
        rec = read_nwb(path)
    assert rec.unit_id.values.tolist() == [10, 12]
    kept = read_nwb(path, where="start_time < 4")
    assert kept.unit_id.values.tolist() == [10, 11, 12]
    assert kept.values.tolist() == [[1, 1, 1], [1, 1, 1]]
    lazy = read_nwb(path, where="start_time < 4", chunks={"trial": 1})
    np.testing.assert_array_equal(lazy.values, kept.values)
    # the window [5, 11) ends after every unit's obs_intervals: no unit was observed in it (F31: a trial is
    # recorded where some unit's declared intervals contain it)
    refusal = (r"observed\.nwb: units table 'units': expected trial windows inside the units' obs_intervals "
               r"\(observation intervals from 0 s to 10 s over the 3 units that declare them\), found none "
               r"of 1 windows inside any unit's \(first window 5-11 s\); check window= and align=")
    with pytest.raises(NWBError, match=refusal):
        read_nwb(path, where="start_time > 4", window=(0.0, 6.0))


def test_obs_intervals_written_one_per_recording_segment_are_one_observed_period(tmp_path):
    # [[0, 3.5], [3.5, 10]] (two segments that abut) contains the window [3, 4): the unit is kept
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[1.0, 3.0], stops=[2.0, 4.0])
    for unit, observed in enumerate([[[0.0, 10.0]], [[3.5, 10.0], [0.0, 3.5]]]):
        nwbfile.add_unit(spike_times=np.array([1.5, 3.6]), obs_intervals=observed, id=unit)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_nwb(save(nwbfile, tmp_path / "segments.nwb"))
    assert rec.unit_id.values.tolist() == [0, 1] and rec.values.tolist() == [[1, 1], [1, 1]]


def _block_session(tmp_path, name, trains, n_trials=6, **units):
    """Trials [1 + 2k, 2 + 2k) s with a stimulus per trial, and one unit per spike train."""
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=[1.0 + 2 * k for k in range(n_trials)], stops=[2.0 + 2 * k for k in range(n_trials)],
               stimulus=[k // 3 for k in range(n_trials)])
    for train in trains:
        nwbfile.add_unit(spike_times=np.asarray(train, dtype=float), **units)
    return save(nwbfile, tmp_path / name)


def _hand_counts(trains, starts, width=1.0):
    return [[int(np.sum((np.asarray(t) >= s) & (np.asarray(t) < s + width))) for t in trains] for s in starts]


def test_trials_after_the_spikes_end_are_left_out_not_read_as_silent(tmp_path):
    # the sorter stopped at 6.5 s while the trials run to 12 s (no obs_intervals): the last three windows
    # hold no observation of any unit, and their zeros would make the second stimulus block look silent
    trains = [[0.5, 1.2, 1.7, 3.4, 5.1, 5.9], [1.5, 3.5, 3.6, 5.5, 6.5], [3.2]]
    path = _block_session(tmp_path, "stopped.nwb", trains)
    message = (r"stopped\.nwb.*left out 3 of 6 trials whose windows lie outside the span of recorded spikes "
               r"\(0\.5-6\.5 s, over all 3 units; 3 after the last\): no unit was recorded there"
               r".*\(trials \[3, 4, 5\]\)")
    with pytest.warns(UserWarning, match=message) as caught:
        rec = read_nwb(path)
    assert len([w for w in caught if "left out" in str(w.message)]) == 1
    assert rec.trial.values.tolist() == [0, 1, 2] and rec.stimulus.values.tolist() == [0, 0, 0]
    assert rec.values.tolist() == _hand_counts(trains, [1.0, 3.0, 5.0])
    with pytest.warns(UserWarning, match="left out 3 of 6 trials"):
        lazy = read_nwb(path, chunks={"trial": 2})
    assert lazy.trial.values.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(lazy.values, rec.values)
    with pytest.warns(UserWarning, match="left out 3 of 6 trials"):
        binned = read_nwb(path, bin_size=0.5)
    assert binned.sizes == {"trial": 3, "neuron": 3, "time": 2}
    np.testing.assert_array_equal(binned.sum("time").values, rec.values)


def test_trials_before_the_units_were_recorded_are_left_out(tmp_path):
    # units isolated late in the session (DANDI ALM files: the one unit's spikes start after trial 9)
    trains = [[5.2, 7.5, 9.1, 11.9], [6.0, 8.8, 10.2]]
    path = _block_session(tmp_path, "late.nwb", trains)
    with pytest.warns(UserWarning, match=r"left out 2 of 6 trials .*\(5\.2-11\.9 s, over all 2 units; 2 before the "
                                         r"first spike\).*\(trials \[0, 1\]\)"):
        rec = read_nwb(path)
    assert rec.trial.values.tolist() == [2, 3, 4, 5]
    assert rec.values.tolist() == _hand_counts(trains, [5.0, 7.0, 9.0, 11.0])


def test_units_that_stop_firing_early_leave_every_trial_in(tmp_path):
    # one unit falls silent after 2 s (a cell that stops firing, or drifts off without obs_intervals) while
    # the others fire to the end: the recording went on, so every trial is read and that unit's zeros kept
    import warnings

    trains = [[1.5, 3.5, 5.5, 7.5, 9.5, 11.5], [1.1, 4.2, 11.9], [1.3, 1.4]]
    path = _block_session(tmp_path, "quiet.nwb", trains)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_nwb(path)
        lazy = read_nwb(path, chunks={"trial": 4})
    assert rec.sizes["trial"] == 6
    assert rec.values.tolist() == _hand_counts(trains, [1.0 + 2 * k for k in range(6)])
    np.testing.assert_array_equal(lazy.values, rec.values)


def test_unsorted_spikes_do_not_make_trials_look_unrecorded(tmp_path):
    # the last stored spike of each unit (3.5 s) is not its latest (11.5 s): a trial is left out only on the
    # span of every spike, never on the stored first/last ones
    trains = [[1.5, 11.5, 3.5], [1.2, 9.4, 3.3]]
    path = _block_session(tmp_path, "unsorted.nwb", trains)
    with pytest.warns(UserWarning, match="not sorted") as caught:
        rec = read_nwb(path)
    assert not [w for w in caught if "left out" in str(w.message)]
    assert rec.sizes["trial"] == 6 and rec.values.tolist() == _hand_counts(trains, [1.0 + 2 * k for k in range(6)])
    lazy = read_nwb(path, chunks={"trial": 3})  # planning reads no spike but each unit's stored first and last
    assert lazy.sizes["trial"] == 6


def test_obs_intervals_that_end_with_the_recording_leave_out_trials_not_units(tmp_path):
    # every unit's obs_intervals end at 6.5 s, where the spikes do: the late trials are outside the recording
    # (left out), and then every unit was observed in every trial that is left, so none is left out
    trains = [[0.5, 1.2, 3.4, 5.1, 5.9], [1.5, 3.5, 5.5, 6.5]]
    path = _block_session(tmp_path, "ended.nwb", trains, obs_intervals=[[0.0, 6.5]])
    with pytest.warns(UserWarning, match="left out 3 of 6 trials") as caught:
        rec = read_nwb(path)
    assert not [w for w in caught if "units whose obs_intervals" in str(w.message)]
    assert rec.sizes == {"trial": 3, "neuron": 2}
    assert rec.values.tolist() == _hand_counts(trains, [1.0, 3.0, 5.0])


# --- obs_intervals define the recorded span where they are declared (adversary F31) ------------------------

_STARTS = [1.0 + 2 * k for k in range(9)]  # trials [1, 2), [3, 4), ..., [17, 18)


def _observed_session(tmp_path, name, units):
    """Trials ``_STARTS`` and one unit per ``(spike train, obs_intervals or None)``."""
    nwbfile = new_nwbfile()
    add_trials(nwbfile, starts=_STARTS, stops=[s + 1.0 for s in _STARTS])
    for train, observed in units:
        extra = {} if observed is None else {"obs_intervals": observed}
        nwbfile.add_unit(spike_times=np.asarray(train, dtype=float), **extra)
    return save(nwbfile, tmp_path / name)


def test_silent_trials_inside_declared_obs_intervals_are_kept_as_recorded(tmp_path):
    # both units observed 0-20 s, but they spiked only between 5.5 and 14.5 s: the first two and last two
    # trials are silent, recorded data. Before: left out as "outside the span of recorded spikes"
    import warnings

    trains = [[5.5, 7.5, 9.5, 11.5, 13.5], [6.5, 8.5, 14.5]]
    path = _observed_session(tmp_path, "silent.nwb", [(t, [[0.0, 20.0]]) for t in trains])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_nwb(path)
        lazy = read_nwb(path, chunks={"trial": 4})
    assert rec.trial.values.tolist() == list(range(9))
    assert rec.values.tolist() == _hand_counts(trains, _STARTS)
    assert rec.values[[0, 1, 7, 8]].sum() == 0
    np.testing.assert_array_equal(lazy.values, rec.values)


def test_trials_outside_declared_obs_intervals_are_left_out_and_without_them_the_spikes_decide(tmp_path):
    # observed 4-14 s, spiking 6.5-9.5 s: the obs_intervals keep the five trials inside them (two of them
    # silent) and leave out the four outside. The same spikes without obs_intervals: only the spikes say when
    # the table was recorded, and the trials wholly outside 6.5-9.5 s are left out
    trains = [[6.5, 7.2, 9.5], [7.7, 8.1]]
    path = _observed_session(tmp_path, "declared.nwb", [(t, [[4.0, 14.0]]) for t in trains])
    message = (r"declared\.nwb.*left out 4 of 9 trials whose windows lie outside every unit's obs_intervals "
               r"\(the declared observation intervals, 4-14 s over 2 units\).*\(trials \[0, 1, 7, 8\]\)")
    with pytest.warns(UserWarning, match=message) as caught:
        rec = read_nwb(path)
    assert sum("left out" in str(w.message) for w in caught) == 1
    assert rec.trial.values.tolist() == [2, 3, 4, 5, 6]
    assert rec.values.tolist() == _hand_counts(trains, _STARTS[2:7])
    bare = _observed_session(tmp_path, "bare.nwb", [(t, None) for t in trains])
    message = r"left out 7 of 9 trials whose windows lie outside the span of recorded spikes \(6\.5-9\.5 s"
    with pytest.warns(UserWarning, match=message + ".*declares no obs_intervals"):
        heuristic = read_nwb(bare)
    assert heuristic.trial.values.tolist() == [3, 4]
    assert heuristic.values.tolist() == _hand_counts(trains, _STARTS[3:5])


def test_a_unit_lost_midway_is_left_out_not_the_trials_it_missed(tmp_path):
    # the trials are recorded where any unit was observed (the union); a unit not observed in one of them is
    # left out rather than read as silent there, and one lost unit does not cost the trials after it
    trains = [[1.5, 5.5, 9.5, 13.5, 17.5], [1.2, 3.3, 5.1, 7.7]]
    path = _observed_session(tmp_path, "lost.nwb", [(trains[0], [[0.0, 20.0]]), (trains[1], [[0.0, 9.0]])])
    message = r"left out 1 of 2 units whose obs_intervals do not contain every trial window \(ids \[1\]\)"
    with pytest.warns(UserWarning, match=message) as caught:
        rec = read_nwb(path)
    assert not [w for w in caught if "trials whose windows" in str(w.message)]
    assert rec.sizes == {"trial": 9, "neuron": 1}
    assert rec.values.tolist() == _hand_counts(trains[:1], _STARTS)
    early = read_nwb(path, where="start_time < 8")
    assert early.unit_id.values.tolist() == [0, 1]
    assert early.values.tolist() == _hand_counts(trains, _STARTS[:4])
    # two units observed one after the other: every trial is recorded, but by no unit in all of them
    handover = _observed_session(tmp_path, "handover.nwb",
                                 [(trains[1], [[0.0, 9.0]]), (trains[0], [[9.0, 20.0]])])
    refusal = (r"expected units observed \(obs_intervals\) in every trial window, found none of 2; select "
               r"the trials of one observation epoch with where=")
    with pytest.raises(NWBError, match=refusal):
        read_nwb(handover)


def test_units_that_declare_no_obs_intervals_are_recorded_where_their_spikes_are(tmp_path):
    # unit 0 declares 4-10 s; unit 1 lists none, and its spikes (3.5-12.5 s) say when it was recorded: the
    # trials outside both are left out, then unit 0 (not observed in [3, 4) or [11, 12)) is
    trains = [[5.5, 7.5], [3.5, 6.5, 8.5, 12.5]]
    path = _observed_session(tmp_path, "mixed.nwb", [(trains[0], [[4.0, 10.0]]), (trains[1], np.empty((0, 2)))])
    message = (r"left out 4 of 9 trials whose windows lie outside every unit's obs_intervals \(the declared "
               r"observation intervals, 4-10 s over 1 unit; for the 1 that declare none, the span of their "
               r"spikes, 3\.5-12\.5 s\).*\(trials \[0, 6, 7, 8\]\)")
    with pytest.warns(UserWarning, match=message) as caught:
        rec = read_nwb(path)
    assert any("left out 1 of 2 units whose obs_intervals" in str(w.message) for w in caught)
    assert rec.trial.values.tolist() == [1, 2, 3, 4, 5] and rec.unit_id.values.tolist() == [1]
    assert rec.values.tolist() == _hand_counts(trains[1:], _STARTS[1:6])


def test_spike_times_in_ms_are_refused_not_read_as_silence(tmp_path):
    # adversary S3-6: spike times x1000 (ms) against trials in s read as 26 trials of total silence with only a
    # "trials left out" warning; a file whose every kept window is empty in every unit is refused
    import warnings

    starts = np.arange(2.0, 152.0, 2.5)
    rng = np.random.default_rng(0)
    spikes = [np.sort(rng.uniform(0.0, 153.0, 400)) for _ in range(5)]
    for scale, name in ((1.0, "s.nwb"), (1000.0, "ms.nwb")):
        nwbfile = new_nwbfile()
        add_trials(nwbfile, starts=starts, stops=starts + 1.0)
        add_units(nwbfile, [times * scale for times in spikes])
        path = save(nwbfile, tmp_path / name)
        if scale == 1.0:
            assert read_nwb(path, window=(0.0, 1.0)).values.sum() > 0
            continue
        with pytest.warns(UserWarning, match=r"ms\.nwb: units table 'units': the spikes span .* s, "
                                               r"\d+x the trial windows' .* same units"):
            # one stray spike in a kept window would pass the all-silent check: the spans say it first
            stray = new_nwbfile()
            add_trials(stray, starts=starts, stops=starts + 1.0)
            add_units(stray, [times * scale for times in spikes] + [np.array([starts[-1] + 0.5])])
            read_nwb(save(stray, tmp_path / "stray_ms.nwb"), window=(0.0, 1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the trials before the first (ms) spike are left out first
            with pytest.raises(NWBError, match=r"ms\.nwb.*expected spikes inside the trial windows, found none in "
                                               r"any of the \d+ windows of any of the 5 units \(spikes from .* s to "
                                               r"15\d{4} s; windows from .* same units \(seconds\)"):
                read_nwb(path, window=(0.0, 1.0))
