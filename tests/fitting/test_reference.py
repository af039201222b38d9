"""Referenced statistics in a fit: kernel_change is measured from the first session, not from training's start."""

import warnings

import numpy as np
import pytest
import xarray as xr

from neurolearn import fit
from neurolearn.fitting import simulate_statistics
from neurolearn.fitting.problem import build_problem
from neurolearn.fitting.reference import REFERENCE_ATTR
from neurolearn.fitting.validation import FitWarning
from neurolearn.theory import MODELS


def _recorded_from(first, n_sessions=10, gamma0=4.0, se=0.01, seed=0):
    """Model statistics of sessions first..first+n-1 (model time 0.3 per session), measured as summarize does:
    kernel_change from the first recorded session, 0 with SE 0 there."""
    time = 0.3 * np.arange(first, first + n_sessions)
    truth = MODELS["lazy-rich"].predict(time, reference_time=time[0], gamma0=gamma0, d_eff=20.0)
    rng = np.random.default_rng(seed)
    data = {}
    for name in ("task_alignment", "kernel_change", "behavior"):
        values = truth[name].values + se * rng.standard_normal(n_sessions)
        ses = np.full(n_sessions, se)
        if name == "kernel_change":
            values[0], ses[0] = 0.0, 0.0
        data[name] = ("session", values)
        data[f"{name}_se"] = ("session", ses)
    sessions = [f"day{d}" for d in range(first, first + n_sessions)]
    stats = xr.Dataset(data, coords={"session": sessions, "session_index": ("session", np.arange(n_sessions))},
                       attrs={REFERENCE_ATTR: sessions[0]})
    return stats, time


def test_the_reference_value_is_not_fitted_and_not_floored():
    stats, time = _recorded_from(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)  # no "standard errors <= 0 raised" for the definitional 0
        problem = build_problem(stats, "lazy-rich", time=time, fixed={"time_scale": 1.0, "onset": 0.0})
    assert problem.reference == 0
    row = problem.observables.index("kernel_change")
    assert not problem.mask[row, 0] and problem.mask[row, 1:].all()
    assert problem.n_obs == 3 * 10 - 1
    assert problem.reference_time(problem.values(np.full(problem.n_free, 0.5))) == pytest.approx(0.9)


def test_a_recording_that_starts_after_training_began_is_fitted_from_its_reference():
    # statistics of a rich network (gamma0 = 4) first recorded at model time 0.9, the time known: before the
    # reference was modelled the definitional 0 pinned the model's change from the start of training to 0 there,
    # and the fit read gamma0 = 0.2-0.3 with intervals excluding 4 (the same on summarize's statistics of the
    # simulated network, gamma0 0.31 / 0.28 / 0.32 over 3 seeds; benchmarks in the module docstring)
    stats, time = _recorded_from(3)
    res = fit(stats, "lazy-rich", time=time, fixed={"time_scale": 1.0, "onset": 0.0, "chance": 0.5,
                                                     "ceiling": 1.0}, random_state=0)
    assert res.success
    lo, hi = res.ci["gamma0"]
    assert lo < 4.0 < hi and lo > 2.0
    assert res.chi2 / (res.n_obs - 2) < 3.0  # gamma0 and d_eff free


def test_synthetic_statistics_of_a_late_start_are_measured_from_their_first_session():
    stats = simulate_statistics("lazy-rich", {"gamma0": 4.0}, n_sessions=8, se=0.0, time_scale=0.3, onset=-3.0)
    np.testing.assert_allclose(stats["kernel_change"].values[0], 0.0, atol=1e-12)
    from_start = MODELS["lazy-rich"].predict(0.3 * (np.arange(8) + 3.0), gamma0=4.0)["kernel_change"].values
    assert np.all(stats["kernel_change"].values[1:] < from_start[1:])


def test_statistics_without_their_reference_session_leave_the_referenced_statistic_out():
    stats, time = _recorded_from(0)
    subset = stats.isel(session=slice(2, None))
    with pytest.warns(FitWarning, match=r"'kernel_change' \(finite in 0 of 8 sessions.*its reference session 'day0'"):
        problem = build_problem(subset, "lazy-rich", time=time[2:], fixed={"time_scale": 1.0, "onset": 0.0})
    assert "kernel_change" not in problem.observables and problem.reference is None
