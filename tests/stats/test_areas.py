"""summarize_areas: per-area statistics equal summarize on each area's neurons alone, a session without an
area is NaN with its reason, session_index stays the session's position, replicates are kept, errors typed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
from neurolearn.stats.areas import area_random_states, summarize_areas
from neurolearn.stats.summary import summarize

OPTIONS = dict(n_boot=20, random_state=0, readout=False, dynamics=False)


@pytest.fixture(scope="module")
def tree():
    return simulate_deep_linear_sessions(1.0, n_sessions=4, n_neurons=60, n_hidden=200, rng=3)[0]


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def test_each_area_is_summarize_on_its_own_neurons(tree):
    stats = _quiet(summarize_areas, tree, layers={"V1": 1, "LM": 2}, **OPTIONS)
    assert stats["task_alignment"].dims == ("area", "session")
    assert stats["kernel_similarity"].dims == ("area", "session", "session_other")
    assert stats["task_alignment_boot"].dims[0] == "area" and stats["task_alignment_boot"].sizes["bootstrap"] == 20
    for area, seed in zip(("V1", "LM"), area_random_states(0, 2)):
        alone = {key: node["responses"].where(node["responses"].location == area, drop=True)
                 for key, node in tree.children.items()}
        expected = _quiet(summarize, alone, **(OPTIONS | {"random_state": seed}))
        np.testing.assert_allclose(stats["task_alignment"].sel(area=area).values, expected["task_alignment"].values)
        np.testing.assert_allclose(stats["kernel_change"].sel(area=area).values, expected["kernel_change"].values)
        np.testing.assert_allclose(stats["task_alignment_boot"].sel(area=area).values,
                                   expected["task_alignment_boot"].values)
    assert stats.layer.values.tolist() == [1, 2]


def test_a_session_without_an_area_is_nan_with_its_reason(tree):
    children = {key: node["responses"] for key, node in tree.children.items()}
    children["session-01"] = children["session-01"].where(children["session-01"].location == "V1", drop=True)
    stats = _quiet(summarize_areas, children, **OPTIONS)
    lm = stats.sel(area="LM")
    assert np.isnan(lm["task_alignment"].sel(session="session-01"))
    assert "not recorded" in str(lm["task_alignment_flag"].sel(session="session-01").values)
    assert np.isfinite(lm["task_alignment"].sel(session="session-02"))
    assert stats.session_index.values.tolist() == [0, 1, 2, 3]


def test_errors_name_what_was_expected(tree):
    with pytest.raises(DataError, match="neuron coord 'group'"):
        summarize_areas(tree, area="group", **OPTIONS)
    with pytest.raises(DataError, match="AM"):
        summarize_areas(tree, areas=["AM"], **OPTIONS)
    with pytest.raises(DataError, match="positive integers"):
        summarize_areas(tree, layers={"V1": 0, "LM": 1}, **OPTIONS)


def test_a_trials_location_column_does_not_pass_for_the_units_area(tree):
    # read_nwb keeps a trials column 'location' (where a stimulus was shown) under its name and the units'
    # area as 'unit_location': the area dim must not be read off the trials, and the error says which to pass
    children = {}
    for key, node in tree.children.items():
        rec = node["responses"].rename({"location": "unit_location"})
        children[key] = rec.assign_coords(location=("trial", np.resize(["left", "right"], rec.sizes["trial"])))
    with pytest.raises(DataError, match=r"pass area='unit_location'"):
        summarize_areas(children, **OPTIONS)
    stats = _quiet(summarize_areas, children, area="unit_location", **OPTIONS)
    assert stats.area.values.tolist() == ["V1", "LM"]


def _without_lm(tree, sessions):
    children = {key: node["responses"] for key, node in tree.children.items()}
    for key in sessions:
        children[key] = children[key].where(children[key].location == "V1", drop=True)
    return children


def test_pairwise_statistics_of_a_missing_area_say_which_session_lacks_it_and_warn_once(tree):
    # reviewer F12: kernel_similarity between a session with the area and one without was NaN with an empty flag,
    # and nothing was said
    children = _without_lm(tree, ["session-02"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize_areas(children, **OPTIONS)
    lm = stats.sel(area="LM")
    expected = "area 'LM' not recorded in session session-02"
    for name in ("kernel_similarity", "code_overlap", "target_agreement"):
        if f"{name}_flag" not in stats:
            continue
        flag = lm[f"{name}_flag"].transpose("session", "session_other").values
        values = lm[name].transpose("session", "session_other").values
        assert np.isnan(values[2]).all() and np.isnan(values[:, 2]).all()
        assert all(str(reason) == expected for reason in flag[2]), (name, flag[2])
        assert all(str(reason) == expected for reason in flag[:, 2]), (name, flag[:, 2])
        assert str(flag[1, 3]) != expected  # a pair of sessions that both recorded LM keeps its own flag
    assert str(lm["kernel_change_flag"].sel(session="session-02").values) == expected
    assert str(lm["task_alignment_flag"].sel(session="session-02").values) == expected
    assert np.isfinite(lm["kernel_similarity"].sel(session="session-01", session_other="session-03"))
    # V1 was recorded everywhere: no such reason
    assert not any("not recorded" in str(r) for r in stats["task_alignment_flag"].sel(area="V1").values)
    named = [str(w.message) for w in caught if "not recorded" in str(w.message)]
    assert len(named) == 1 and "'LM'" in named[0] and "session-02" in named[0], named


def test_an_area_missing_from_the_reference_session_has_no_kernel_change(tree):
    # kernel_change is referenced to the first session of the whole tree (as summarize's); an area not recorded
    # there would otherwise be measured from its own first session, silently another reference than its
    # neighbours'
    children = _without_lm(tree, ["session-00"])
    stats = _quiet(summarize_areas, children, **OPTIONS)
    lm, v1 = stats.sel(area="LM"), stats.sel(area="V1")
    assert np.isnan(lm["kernel_change"].values).all()
    for session in ("session-01", "session-03"):
        reason = str(lm["kernel_change_flag"].sel(session=session).values)
        assert reason == "area 'LM' not recorded in the reference (first) session session-00", reason
    assert np.isfinite(v1["kernel_change"].sel(session="session-02"))
    assert np.isfinite(lm["task_alignment"].sel(session="session-01"))


def test_a_requested_area_no_session_recorded_is_refused_naming_what_was_found(tree):
    # reviewer F5: names the area asked for and the areas found
    with pytest.raises(DataError, match=r"\['CA1'\].*recorded: \['V1', 'LM'\]"):
        summarize_areas(tree, areas=["V1", "CA1"], **OPTIONS)
    with pytest.raises(DataError, match=r"\['CA1'\].*recorded: \['V1', 'LM'\]"):
        summarize_areas(tree, layers={"V1": 1, "CA1": 2}, **OPTIONS)


def test_units_that_state_no_area_belong_to_none_and_are_named_once(tree):
    # a blank location (the loader maps "", "unknown", "N/A" to "") is no area: left out with one warning,
    # never an area called ""
    children = {key: node["responses"] for key, node in tree.children.items()}
    first = children["session-00"]
    location = first.location.values.astype(str).copy()
    location[:5] = ""
    children["session-00"] = first.assign_coords(location=("neuron", location))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize_areas(children, **OPTIONS)
    assert stats.area.values.tolist() == ["V1", "LM"]
    said = [str(w.message) for w in caught if "state no area" in str(w.message)]
    assert len(said) == 1 and "5 unit(s)" in said[0] and "session-00" in said[0]


def test_a_missing_location_is_no_area_whatever_its_spelling(tree):
    # adversary A6: '' was no area (left out with a warning) but a float NaN -- an empty object cell read by
    # h5py or pandas -- became an area called 'nan' with statistics of its own
    children = {key: node["responses"] for key, node in tree.children.items()}
    spelled = {}
    for key, rec in children.items():
        labels = np.asarray(rec.location.values).astype(object)
        labels[:5] = [float("nan"), None, "", float("nan"), None]
        spelled[key] = rec.assign_coords(location=("neuron", labels))
    with pytest.warns(UserWarning, match=r"20 unit\(s\) state no area"):
        stats = summarize_areas(spelled, n_boot=0, readout=False, dynamics=False, random_state=0)
    assert list(stats.area.values) == ["V1", "LM"] or list(stats.area.values) == ["LM", "V1"]
    assert "nan" not in [str(a) for a in stats.area.values]


def test_a_tracked_cell_stating_another_area_on_a_later_day_is_named(tree):
    # adversary A11: ten cells of V1 on days 0-1 labelled LM on day 2 joined LM's statistics and its code_overlap
    # pairs with days where they were V1, without a word
    children = {key: node["responses"] for key, node in tree.children.items()}
    keys = list(children)
    rec = children[keys[2]]
    labels = np.asarray(rec.location.values).astype(object)
    moved = np.flatnonzero(labels == "V1")[:10]
    labels[moved] = "LM"
    children[keys[2]] = rec.assign_coords(location=("neuron", labels))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summarize_areas(children, n_boot=0, readout=False, dynamics=False, random_state=0)
    named = [str(w.message) for w in caught if "state different areas" in str(w.message)]
    assert len(named) == 1 and "10 tracked cell(s)" in named[0] and keys[2] in named[0]
    with warnings.catch_warnings(record=True) as caught:  # the same cells in one area throughout: no warning
        warnings.simplefilter("always")
        summarize_areas({key: node["responses"] for key, node in tree.children.items()}, n_boot=0, readout=False,
                        dynamics=False, random_state=0)
    assert not [w for w in caught if "state different areas" in str(w.message)]


def test_a_missing_area_coord_lists_the_neuron_coords_a_user_can_name(tree):
    # the message listed every coord, trial columns included, where only neuron coords can tell areas apart
    children = {key: node["responses"].assign_coords(outcome=("trial", np.zeros(node["responses"].sizes["trial"])))
                for key, node in tree.children.items()}
    with pytest.raises(DataError) as caught:
        summarize_areas(children, area="group", **OPTIONS)
    listed = str(caught.value).split("found neuron coords")[1]
    assert "location" in listed and "neuron" in listed
    assert "outcome" not in listed and "stimulus" not in listed


def test_areas_differing_only_in_case_are_named_in_one_warning(tree):
    children = {key: node["responses"] for key, node in tree.children.items()}
    last = list(children)[-1]
    relabelled = np.where(children[last].location.values == "V1", "v1", children[last].location.values)
    children[last] = children[last].assign_coords(location=("neuron", relabelled))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = summarize_areas(children, **OPTIONS)
    case = [str(w.message) for w in caught if "differ only in case" in str(w.message)]
    assert len(case) == 1 and "'V1' and 'v1'" in case[0]
    assert set(stats.area.values.tolist()) == {"V1", "v1", "LM"}


def test_the_sessions_start_times_are_kept_so_a_fit_names_uneven_days(tree):
    # days 0, 1, 7, 8: the session order stands in for training time, which a fit must say (adversary S5-4)
    import neurolearn as nl
    from neurolearn.fitting.validation import FitWarning

    days = {key: f"2026-01-{1 + day:02d}T09:00:00" for key, day in zip(tree.children, (0, 1, 7, 8))}
    shifted = tree.copy()
    for key, start in days.items():
        shifted[key]["responses"].attrs["session_start_time"] = start
    stats = _quiet(summarize_areas, shifted, layers={"V1": 1, "LM": 2}, **OPTIONS)
    assert stats["session_start_time"].values.tolist() == list(days.values())
    with pytest.warns(FitWarning, match=r"session_start_time spaces the sessions over days \[0, 1, 7, 8\]"):
        nl.fit(stats, "deep-linear", interval=None)


def test_a_warning_from_one_areas_statistics_names_the_area():
    # adversary S7-2: per-session warnings named the session but not the area, so the two areas' read as one
    # warning given twice
    from neurolearn.simulate.spiking import spiking_sessions
    from neurolearn.stats.flags import StatisticWarning

    sparse, _ = spiking_sessions(n_sessions=3, n_conditions=4, n_trials=2, n_neurons=60, separation=(1.5, 1.5),
                                 tracked=False, gain=0.5, random_state=1)
    recordings = {}
    for key in sparse.children:
        rec = sparse[key].dataset["responses"]
        halves = np.where(np.arange(rec.sizes["neuron"]) % 2 == 0, "CA1", "DG")
        recordings[key] = rec.assign_coords(location=("neuron", halves))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summarize_areas(recordings, area="location", **OPTIONS)
    messages = [str(w.message) for w in caught if issubclass(w.category, StatisticWarning)]
    assert messages, "the design no longer leaves a statistic NaN: the test shows nothing"
    assert all(m.startswith(("location 'CA1': ", "location 'DG': ")) for m in messages), messages
    # the same statistic and session warned once per area, each saying which
    by_area = {area: {m.split(": ", 1)[1] for m in messages if m.startswith(f"location '{area}'")}
               for area in ("CA1", "DG")}
    assert by_area["CA1"] and by_area["DG"]
