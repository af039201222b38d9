"""fitting.validation: training times are numbers the user chose the unit of."""

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import FitError
from neurolearn.fitting.validation import training_times
from neurolearn.theory import MODELS


def _stats(n=4, **coords):
    return xr.Dataset({"behavior": ("session", np.linspace(0.5, 0.9, n))},
                      coords={"session": [f"d{i}" for i in range(n)], **coords})


@pytest.mark.parametrize("time", [
    np.array(["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-08"], dtype="datetime64[ns]"),
    np.array(["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-08"], dtype="datetime64[D]"),
    np.array([0, 1, 3, 7], dtype="timedelta64[D]").astype("timedelta64[ns]"),
])
def test_dates_and_durations_are_refused_with_how_to_convert(time):
    # cast to float they were nanoseconds (1.8e18 since 1970, 8.64e13 a day): the fit "succeeded" with
    # time_scale 0.0 [0.0, 0.0] (adversary F5)
    with pytest.raises(FitError, match=r"expected numeric training times in time, found (datetime|timedelta)64.*"
                                       r"np.timedelta64\(1, 'D'\)"):
        training_times(_stats(), time, MODELS["lazy-rich"])
    stats = _stats(start=("session", time))
    with pytest.raises(FitError, match=r"in coord 'start', found (datetime|timedelta)64"):
        training_times(stats, "start", MODELS["lazy-rich"])


def test_the_suggested_conversion_gives_days():
    time = np.array(["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-08"], dtype="datetime64[ns]")
    days = (time - time.min()) / np.timedelta64(1, "D")
    np.testing.assert_allclose(training_times(_stats(), days, MODELS["lazy-rich"]), [0.0, 1.0, 3.0, 7.0])


def test_uneven_days_behind_the_session_order_are_warned_about():
    # adversary F26: sessions on days 0, 1, 2, 10, 30 fitted as training times 0..4 without a word
    from neurolearn.fitting.validation import FitWarning

    starts = [f"2026-01-{d:02d}T09:00:00+00:00" for d in (1, 2, 3, 11, 31)]
    stats = _stats(5, session_index=("session", np.arange(5)), session_start_time=("session", starts))
    with pytest.warns(FitWarning, match=r"training time is the session order \(0..4\), while session_start_time "
                                        r"spaces the sessions over days \[0, 1, 2, 10, 30\]"):
        np.testing.assert_allclose(training_times(stats, None, MODELS["lazy-rich"]), np.arange(5))
    daily = [f"2026-01-{d:02d}T09:00:00+00:00" for d in (1, 2, 3, 4, 6)]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        training_times(_stats(5, session_index=("session", np.arange(5)), session_start_time=("session", daily)),
                       None, MODELS["lazy-rich"])


def test_statistics_without_bootstrap_say_how_to_get_standard_errors():
    # adversary A10: `neurolearn summarize --n-boot 0` succeeded and `neurolearn fit` on its output said only that
    # the standard errors were non-finite; it now says they were never made, and how to make them
    import xarray as xr

    from neurolearn.errors import FitError
    from neurolearn.fitting import fit
    from tests.fitting.conftest import CLOCK, line_model

    stats = xr.Dataset({"behavior": ("session", np.linspace(0.2, 0.8, 6)), "behavior_se": ("session", np.full(6, np.nan))},
                       coords={"session": [f"day{i}" for i in range(6)], "session_index": ("session", np.arange(6))},
                       attrs={"n_boot": 0})
    with pytest.raises(FitError, match=r"summarised with n_boot=0 .*summarise again with n_boot > 0 .*--n-boot"):
        fit(stats, line_model(), fixed=CLOCK)
    stats.attrs.pop("n_boot")  # statistics built by hand: the plain refusal
    with pytest.raises(FitError, match=r"expected a standard error for every value fitted$"):
        fit(stats, line_model(), fixed=CLOCK)


def test_a_model_of_statistics_summarize_does_not_compute_says_where_they_come_from():
    # adversary A9: `neurolearn fit -m capacity` on summarize's output listed what was missing, not where it comes from
    from neurolearn.errors import FitError
    from neurolearn.fitting import fit
    from tests.fitting.conftest import statistics

    stats = statistics({"task_alignment": np.linspace(0.2, 0.6, 5)}, {"task_alignment": 0.05})
    with pytest.raises(FitError, match=r"summarize computes the capacity statistics only on request: .*statistics=\['manifold_capacity'"):
        fit(stats, "capacity")
    with pytest.raises(FitError, match=r"lack every statistic the model predicts; expected some of \['behavior'"):
        fit(stats.rename(task_alignment="margin", task_alignment_se="margin_se"), "grokking")
