"""Which kernel_change values summarize reports: the resolution is judged on the interval's side toward no
change, for a reading below 0 as for one above it, so that the rule does not select the low readings of no
change (issue 8: with fresh neurons the lower-side rule alone reported a mean of -0.17 under no change)."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm

from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats import similarity_ratios
from neurolearn.stats.kernel_pairs import pairwise_kernel_terms
from neurolearn.stats.similarity_ratios import change_from_terms
from neurolearn.stats.statistics_table import below_range_reasons
from neurolearn.stats.summary import summarize

from tests.stats.test_kernel_change_coverage import _dataset

Z = norm.ppf(0.975)


def _upper_half_width(replicates):
    replicates = replicates[np.isfinite(replicates)]
    return (np.quantile(replicates, 0.975) - np.median(replicates)) / Z


def test_a_reading_below_the_range_is_judged_on_its_upper_side():
    rng = np.random.default_rng(0)
    narrow = rng.normal(0.0, 0.3, 400)
    wide_up = np.where(narrow > 0, 8.0 * narrow, narrow)  # the side toward the range is long
    wide_down = np.where(narrow < 0, 8.0 * narrow, narrow)  # the side away from it is long
    reps = np.stack([narrow - 0.4, wide_up - 0.4, wide_down - 0.4], axis=1)
    reasons = below_range_reasons(np.full(3, -0.4), reps, 1.0)
    assert [bool(r) for r in reasons] == [False, True, False]
    assert "upper half-width" in reasons[1] and f"{_upper_half_width(reps[:, 1]):.3g}" in reasons[1]
    # at or above the range's low end nothing is judged here (enforce_ranges judges the lower side)
    assert not any(below_range_reasons(np.full(3, 0.4), reps + 0.8, 1.0))
    # the mirror image of a reading above 0 whose lower half-width exceeds 1 fails; of one within 1, passes
    mirrored = -(reps + 0.8)
    assert [bool(r) for r in below_range_reasons(np.full(3, -0.4), mirrored, 1.0)] == [False, False, True]


def test_fresh_readings_below_zero_are_judged_before_the_upper_side_scaling(monkeypatch):
    """The upper-side few-cell scaling of fresh sessions is for the high-rate cells a sample lacks; judged after
    it, a reading below 0 would fail where its mirror image above 0 passes."""
    cleared = kept = 0
    for k in range(24):
        _, stats = _dataset(k)
        pairs = pairwise_kernel_terms(stats, centred=True, unbiased=True, n_boot=200, random_state=k)
        value, widened, _ = change_from_terms(pairs, 0, with_reasons=True)
        judged, judged_reps, reasons = change_from_terms(pairs, 0, with_reasons=True, resolution=1.0)
        with monkeypatch.context() as patch:
            patch.setattr(similarity_ratios, "upper_few_cell_widening", lambda estimate, replicates, n: replicates)
            _, plain = change_from_terms(pairs, 0)
        assert np.isfinite(value[1])
        if value[1] >= 0:  # nothing judged here
            assert judged[1] == value[1] and not reasons[1]
            np.testing.assert_array_equal(judged_reps[:, 1], widened[:, 1])
            continue
        half = _upper_half_width(plain[:, 1])
        assert half < _upper_half_width(widened[:, 1])
        if half > 1.0:
            cleared += 1
            assert np.isnan(judged[1]) and np.isnan(judged_reps[:, 1]).all()
            assert reasons[1].startswith(f"estimate {value[1]:.3g} below 0 with the upper half-width")
        else:
            kept += 1
            assert judged[1] == value[1] and not reasons[1]
    assert cleared >= 3 and kept + cleared < 24, (cleared, kept)  # 6 of the 24 read below 0, each NaN here


def _null_reported(n_datasets, tracked=False):
    """The values summarize reports for two unchanged sessions against the first (truth 0), with their
    flags: the project's spiking sessions, 8-16 conditions x 3-10 trials x 50-300 neurons, gain 0.5."""
    values, flags = [], []
    for rep in range(n_datasets):
        rng = np.random.default_rng(rep)
        n_cond, n_trials, n_neurons = int(rng.choice([8, 12, 16])), int(rng.integers(3, 11)), int(rng.integers(50, 301))
        tree, _ = spiking_sessions(n_sessions=3, n_conditions=n_cond, n_trials=n_trials, n_neurons=n_neurons,
                                   separation=(1.5, 1.5), tracked=tracked, gain=0.5, random_state=rep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = summarize(tree, n_boot=200, random_state=rep, readout=False, dynamics=False)
        values.extend(ds["kernel_change"].values[1:].tolist())
        flags.extend(ds["kernel_change_flag"].values[1:].tolist())
    return np.array(values), flags


@pytest.mark.slow
def test_unchanged_fresh_sessions_report_values_centred_on_zero():
    # 150 datasets (300 values). Judged on the lower side alone, the reported readings of no change averaged
    # -0.17 +- 0.02 over 400 datasets (the positive readings have the longer lower side, the negative ones are
    # judged on the short side away from 0); judged on the side toward 0, -0.01 +- 0.02 (all values -0.03)
    values, flags = _null_reported(150)
    reported = values[np.isfinite(values)]
    mean, se = reported.mean(), reported.std(ddof=1) / np.sqrt(reported.size)
    assert reported.size >= 150, reported.size
    assert abs(mean) <= 2.5 * se, (mean, se, reported.size)
    assert any(flag.startswith("estimate") and "below 0 with the upper half-width" in flag for flag in flags)
