"""fit(summary, model='capacity') straight from summarize, leaving out the capacities of finite point clouds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.fitting.fittable import not_predicted
from neurolearn.fitting.problem import build_problem
from neurolearn.fitting.validation import FitWarning
from neurolearn.simulate.manifolds import manifold_recording, manifold_sessions
from neurolearn.stats.capacity import manifold_capacity
from neurolearn.stats.capacity_family import CAPACITY_STATISTICS
from neurolearn.theory.capacity import MODEL

TRUTH = {"radius_initial": 1.2, "radius_final": 0.4, "dimension_initial": 3.0, "dimension_final": 1.5, "rate": 0.5}
FIXED = {"time_scale": 1.0, "onset": 0.0}


def _model_statistics(flagged):
    """The model's own curve with SEs like the extractors', manifold_capacity flagged (and read 0.4 too high,
    as a sample of few points per condition reads) in the sessions ``flagged``."""
    sessions = np.arange(8.0)
    curve = MODEL.predict(sessions, **TRUTH)
    rng = np.random.default_rng(0)
    data = {}
    for name, se in {"manifold_capacity": 0.03, "manifold_radius": 0.02, "manifold_dimension": 0.06}.items():
        data[name] = ("session", curve[name].values + se * rng.standard_normal(sessions.size))
        data[f"{name}_se"] = ("session", np.full(sessions.size, se))
        data[f"{name}_flag"] = ("session", np.full(sessions.size, ""))
    flag = np.full(sessions.size, "", dtype=object)
    flag[flagged] = ("12 trials in a condition, fewer than 10x the clouds' dimension (2.9): the value is the capacity "
                     "of that many points per condition, above the full manifolds' capacity (value kept)")
    data["manifold_capacity_flag"] = ("session", flag.astype(str))
    data["manifold_capacity"][1][flagged] += 0.4
    return xr.Dataset(data, coords={"session": [f"day{i}" for i in range(8)], "session_index": ("session", sessions)})


def test_the_capacity_flag_carries_the_text_fit_reads():
    rec = manifold_recording(0.7, 3.0, n_conditions=6, n_neurons=40, n_trials=6, rng=0)
    flag = str(manifold_capacity(rec, n_dichotomies=8, n_boot=0, random_state=0)["manifold_capacity_flag"].values)
    assert not_predicted("manifold_capacity") and any(text in flag for text in not_predicted("manifold_capacity"))


def test_fit_leaves_out_capacities_flagged_as_a_finite_point_cloud():
    stats = _model_statistics(flagged=[0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problem = build_problem(stats, MODEL, fixed=FIXED)
    messages = [str(w.message) for w in caught if issubclass(w.category, FitWarning)]
    about = [m for m in messages if "another quantity than the model predicts" in m]
    assert len(about) == 1, messages
    assert "manifold_capacity" in about[0] and "['day0', 'day1']" in about[0] and "that many points" in about[0]
    row = problem.observables.index("manifold_capacity")
    assert problem.mask[row].tolist() == [False, False] + [True] * 6
    assert problem.mask[problem.observables.index("manifold_radius")].all()  # the geometry is fitted there
    assert any("not the model's estimand" in note for note in problem.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nl.fit(stats, MODEL, fixed=FIXED, level=0.99, random_state=0)
    for name, value in TRUTH.items():  # the two inflated capacities do not pull the fit
        lo, hi = result.ci[name]
        assert lo <= value <= hi, (name, result.ci[name])


def test_unflagged_capacities_are_all_fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        problem = build_problem(_model_statistics(flagged=[]), MODEL, fixed=FIXED)
    assert problem.mask.all()


@pytest.mark.slow
def test_capacity_model_recovered_from_simulated_sessions_through_summarize():
    # 8 sessions of uniform spheres that shrink (R 1.2 -> 0.4, D 3 -> 1.5), 8 conditions x 30 trials: the early
    # sessions (D > 3 = 30 trials / 10) carry the finite-sample flag and their capacity is left out
    tree, truth = manifold_sessions(8, **TRUTH, n_conditions=8, n_neurons=60, n_trials=30, rng=102)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = nl.summarize(tree, target=None, behavior=None, n_boot=100, capacity_max_boot=3, random_state=0,
                             statistics=list(CAPACITY_STATISTICS))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = nl.fit(stats, model="capacity", fixed=FIXED, level=0.99, random_state=0)
    assert result.success and set(result.observables) == set(CAPACITY_STATISTICS)
    for name, value in TRUTH.items():
        lo, hi = result.ci[name]
        assert lo <= value <= hi, (name, result.ci[name], result.params[name])
    # day0 (D 3.1 measured) has fewer than 10 D trials: its capacity is that of 30 points, left out with a warning
    assert "capacity of that many points" in str(stats["manifold_capacity_flag"].sel(session="day0").values)
    left_out = [str(w.message) for w in caught if "another quantity than the model predicts" in str(w.message)]
    assert len(left_out) == 1 and "'day0'" in left_out[0]
