"""The statistics table's vectorised bootstrap intervals against the one-entry definition they replace."""

import numpy as np
import pytest

from neurolearn.stats.estimate import bootstrap_interval
from neurolearn.stats.statistics_table import StatisticsTable, bootstrap_intervals


def _replicates(rng, shape, n_boot=60):
    reps = rng.normal(0.3, 0.1, (n_boot,) + shape)
    reps[: n_boot - 1, 0, 1] = np.nan  # one finite replicate: NaN
    reps[::3, 1, 0] = np.nan  # some dropped
    reps[1, 1, 2] = np.inf  # an infinite one, dropped as well
    return reps


@pytest.mark.parametrize("level", [0.95, 0.68])
def test_every_entry_equals_the_one_entry_definition(level):
    rng = np.random.default_rng(3)
    points = rng.normal(0.3, 0.1, (3, 4))
    points[2, 3] = np.nan
    reps = _replicates(rng, points.shape)
    se, ci = bootstrap_intervals(points, reps, level)
    for index in np.ndindex(points.shape):
        want_se, want_ci = bootstrap_interval(points[index], reps[(slice(None),) + index], level)
        np.testing.assert_allclose(se[index], want_se, rtol=1e-12, atol=0, equal_nan=True)
        np.testing.assert_allclose(ci[index], want_ci, rtol=1e-12, atol=0, equal_nan=True)
    assert np.isnan(se[0, 1]) and np.isnan(se[2, 3]) and np.isfinite(se[1, 2])


def test_a_pairwise_statistic_is_exact_on_the_diagonal_and_bootstrapped_off_it():
    rng = np.random.default_rng(4)
    values = rng.uniform(0.2, 0.9, (3, 3))
    values[1, 1] = np.nan
    reps = rng.normal(0.5, 0.1, (50, 3, 3))
    table = StatisticsTable(["a", "b", "c"], 0.95)
    table.array("kernel_similarity", values, reps, np.full((3, 3), "", dtype=object))
    column = table.columns["kernel_similarity"]
    assert column["se"][0, 0] == 0.0 and tuple(column["ci"][2, 2]) == (values[2, 2], values[2, 2])
    assert np.isnan(column["se"][1, 1])
    want_se, want_ci = bootstrap_interval(values[0, 2], reps[:, 0, 2], 0.95)
    np.testing.assert_allclose(column["se"][0, 2], want_se, rtol=1e-12)
    np.testing.assert_allclose(column["ci"][0, 2], want_ci, rtol=1e-12)


def test_an_interval_never_names_values_outside_the_range_beyond_its_estimate():
    # adversary F7: task_alignment 1.158 (above 1 by noise) printed [0.389, 1.927]; a negative kernel_change's
    # interval reached far below 0. Every bound is clipped to the range, and still holds its estimate
    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session",)
    ds = xr.Dataset({"task_alignment": (dims, [1.158, 0.5, -1.02]), "task_alignment_se": (dims, [0.42, 0.1, 0.05]),
                     "task_alignment_ci": (dims + ("ci_bound",), [[0.389, 1.927], [0.3, 0.7], [-1.12, -0.93]]),
                     "task_alignment_flag": (dims, ["", "", ""]),
                     "kernel_change": (dims, [-0.2, 0.3, 0.0]), "kernel_change_se": (dims, [0.25, 0.1, 0.0]),
                     "kernel_change_ci": (dims + ("ci_bound",), [[-0.6, 0.3], [0.1, 0.5], [0.0, 0.0]]),
                     "kernel_change_flag": (dims, ["", "", ""])},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    out = enforce_ranges(ds)
    np.testing.assert_allclose(out["task_alignment_ci"].values, [[0.389, 1.158], [0.3, 0.7], [-1.02, -0.93]])
    np.testing.assert_allclose(out["kernel_change_ci"].values, [[-0.2, 0.3], [0.1, 0.5], [0.0, 0.0]])
    values, ci = out["task_alignment"].values, out["task_alignment_ci"].values
    assert ((ci[:, 0] <= values) & (values <= ci[:, 1])).all()


def test_an_estimate_below_a_one_sided_range_is_not_resolved_by_its_own_size():
    # adversary A1: kernel_change -5.199 +- 2.51 (6 units) was reported with an empty flag: within 3 SE of the
    # range [0, inf), and its SE below half its |value|, so the further below 0 it read the more 'resolved' it
    # looked. Its magnitude inside the range is 0: not resolved. A large positive change stays measured.
    import warnings

    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session",)
    # the intervals +-1.96 SE (unclipped: enforce_ranges clips them after judging the lower side)
    ds = xr.Dataset({"kernel_change": (dims, [-5.199, 6.9, 0.4]), "kernel_change_se": (dims, [2.51, 1.4, 0.2]),
                     "kernel_change_ci": (dims + ("ci_bound",), [[-10.119, -0.279], [4.156, 9.644], [0.008, 0.792]]),
                     "kernel_change_flag": (dims, ["", "", ""])},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = enforce_ranges(ds)
    assert np.isnan(out["kernel_change"].values[0])
    assert "the data do not resolve it" in str(out["kernel_change_flag"].values[0])
    np.testing.assert_allclose(out["kernel_change"].values[1:], [6.9, 0.4])
    assert list(out["kernel_change_flag"].values[1:]) == ["", ""]
    assert sum("'a'" in str(w.message) for w in caught) == 1


def test_an_unresolved_pair_is_warned_once_naming_both_sessions():
    # adversary S3-9: the pair (day0, day2) was warned from both sides, each warning naming one session, so
    # three different pairs read as three warnings "for session 'day2'"
    import warnings

    import xarray as xr

    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session", "session_other")
    value = np.array([[1.0, 0.4, 0.3], [0.4, 1.0, 0.5], [0.3, 0.5, 1.0]])
    se = np.array([[0.0, 1.2, 0.1], [1.2, 0.0, 1.3], [0.1, 1.3, 0.0]])  # (a, b) and (b, c) unresolved
    ci = np.stack([value - 2 * se, value + 2 * se], axis=-1)
    ds = xr.Dataset({"kernel_similarity": (dims, value), "kernel_similarity_se": (dims, se),
                     "kernel_similarity_ci": (dims + ("ci_bound",), ci),
                     "kernel_similarity_flag": (dims, np.full((3, 3), "", dtype=object))},
                    coords={"session": ["a", "b", "c"], "session_other": ["a", "b", "c"],
                            "ci_bound": ["lower", "upper"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = enforce_ranges(ds)
    messages = sorted(str(w.message) for w in caught if "kernel_similarity is NaN" in str(w.message))
    assert len(messages) == 2, messages
    assert messages[0].startswith("kernel_similarity is NaN for sessions 'a' and 'b': standard error 1.2")
    assert messages[1].startswith("kernel_similarity is NaN for sessions 'b' and 'c': standard error 1.3")
    assert np.isnan(out["kernel_similarity"].values[[0, 1, 1, 2], [1, 0, 2, 1]]).all()
    assert np.isfinite(out["kernel_similarity"].values[0, 2])


def test_kernel_change_is_judged_resolved_on_its_interval_s_lower_side():
    # adversary S5-3: with fresh heavy-tailed cells a sample holding the few high-rate cells reads a large change
    # with a long upper side; the SE rule left it NaN and kept the low readings (reported values covered
    # 0.73-0.76, all values 0.94). Whether a change is told from none depends on the lower side alone.
    import warnings

    import xarray as xr

    from neurolearn.statistic_registry import STATISTICS
    from neurolearn.stats.statistics_table import enforce_ranges

    assert STATISTICS["kernel_change"].resolution_side == "lower"
    assert STATISTICS["task_alignment"].resolution_side == "both"
    u = STATISTICS["kernel_change"].unresolved_above()  # the declared unit; the cases are in multiples of it
    dims = ("session",)
    ds = xr.Dataset({"kernel_change": (dims, [3.0 * u, 0.3 * u, 2.0 * u]),
                     "kernel_change_se": (dims, [2.5 * u, 0.5 * u, 1.1 * u]),
                     "kernel_change_ci": (dims + ("ci_bound",), np.array([[2.0, 12.0], [-2.5, 0.8], [-0.2, 4.2]]) * u),
                     "kernel_change_flag": (dims, ["", "", ""])},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        out = enforce_ranges(ds)
    # a: SE 2.5 u above u and half of 3 u, but the lower side (3 - 2) u / 1.96 = 0.51 u resolves a change from none
    assert out["kernel_change"].values[0] == pytest.approx(3.0 * u) and out["kernel_change_flag"].values[0] == ""
    # b: lower half-width (0.3 + 2.5) u / 1.96 = 1.43 u above u and 0.15 u; c: 1.12 u above u and 1.0 u
    for k, width in ((1, 1.43), (2, 1.12)):
        assert np.isnan(out["kernel_change"].values[k])
        assert str(out["kernel_change_flag"].values[k]).startswith(f"lower half-width of the interval (estimate - "
                                                                    f"lower end) / z {width * u:.3g} exceeds both "
                                                                    f"{u:g}")


def test_without_a_standard_error_a_value_outside_the_range_is_flagged_as_not_judged():
    # adversary S8-3: at n_boot=0 kernel_similarity 1.299 and kernel_change -1.01 came back with empty flags
    # (the 3-SE rule had no SE to judge by). Without an SE noise cannot be told from impossibility, so such a
    # value keeps its number (an unchanged code's CKA reads just above 1) and its flag says it was not judged,
    # with one warning counting them; a value inside the range, or at its end up to rounding, is untouched
    import warnings

    import xarray as xr

    from neurolearn.stats.flags import StatisticWarning
    from neurolearn.stats.statistics_table import enforce_ranges

    dims = ("session",)
    nan2 = [[np.nan, np.nan]] * 3
    ds = xr.Dataset({"kernel_change": (dims, [-1.01, 0.4, 0.0]), "kernel_change_se": (dims, [np.nan] * 3),
                     "kernel_change_ci": (dims + ("ci_bound",), nan2), "kernel_change_flag": (dims, ["", "", ""]),
                     "task_alignment": (dims, [0.26, 1.0 + 1e-12, 1.04]), "task_alignment_se": (dims, [np.nan] * 3),
                     "task_alignment_ci": (dims + ("ci_bound",), nan2), "task_alignment_flag": (dims, ["", "", ""])},
                    coords={"session": ["a", "b", "c"], "ci_bound": ["lower", "upper"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = enforce_ranges(ds)
    np.testing.assert_allclose(out["kernel_change"].values, [-1.01, 0.4, 0.0])
    np.testing.assert_allclose(out["task_alignment"].values, [0.26, 1.0, 1.04], rtol=1e-9)
    change_flags, alignment_flags = out["kernel_change_flag"].values, out["task_alignment_flag"].values
    assert "not judged: no standard error" in change_flags[0] and list(change_flags[1:]) == ["", ""]
    assert "outside the estimand's range [-1, 1], not judged" in alignment_flags[2]
    assert list(alignment_flags[:2]) == ["", ""]
    counted = [w.message for w in caught if "no standard error" in str(w.message)]
    assert len(counted) == 1 and isinstance(counted[0], StatisticWarning)
    assert "kernel_change (1)" in str(counted[0]) and "task_alignment (1)" in str(counted[0])
    assert set(counted[0].named()) == {"kernel_change", "task_alignment"}


@pytest.mark.parametrize("n_boot", [1, 2])
def test_one_or_two_bootstrap_replicates_are_refused(n_boot):
    # adversary S8-3: at n_boot=2 one session's task_alignment had an SE and its neighbour's none
    from neurolearn.errors import DataError
    from neurolearn.simulate.recording import make_recording, make_session_tree
    from neurolearn.stats.summary import summarize

    rng = np.random.default_rng(0)
    recs = [make_recording(rng.standard_normal((4, 10)), n_trials=3, noise_sd=0.5, target=[-1, 1, -1, 1],
                           session_id=f"s{k}", rng=rng) for k in range(2)]
    with pytest.raises(DataError, match="at least 3 bootstrap replicates"):
        summarize(make_session_tree(recs), n_boot=n_boot)
