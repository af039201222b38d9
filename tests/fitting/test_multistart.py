"""multistart: a start on a model's saturated face is skipped only where no run from it could matter.

The bound is checked against its closed form (weighted means per observable), the face's invariance under
least squares against a full run from it, and the skip against multistart without it on the integrator data
that motivated it (benchmarks/bench_fit.py's seed 0, whose fourth start maps every session past tau = 8).
"""

import numpy as np
import pytest

import neurolearn.fitting.multistart as multistart_module
from neurolearn.fitting.multistart import _saturated_bound, local_fit, multistart
from neurolearn.fitting.problem import build_problem
from neurolearn.theory import Model, Parameter
from tests.fitting.conftest import statistics

CAP = 2.0


def _ramp_model(saturates=True) -> Model:
    """Behaviour and alignment that rise until model time CAP and stay there (like the integrator past tau = 8)."""

    def function(t, gain, level):
        progress = np.clip(np.asarray(t, dtype=float), 0.0, CAP) / CAP
        return {"behavior": 0.5 + gain * progress, "task_alignment": level * progress**2}

    def jacobian(t, gain, level):
        t = np.asarray(t, dtype=float)
        progress = np.clip(t, 0.0, CAP) / CAP
        inside = (t > 0.0) & (t < CAP)
        return {"behavior": {"time": np.where(inside, gain / CAP, 0.0), "gain": progress},
                "task_alignment": {"time": np.where(inside, 2.0 * level * progress / CAP, 0.0),
                                   "level": progress**2}}

    if saturates:
        function.saturation_time = CAP
    return Model("ramp", "rise to a plateau at CAP", "b = 0.5 + gain min(t, CAP)/CAP", "",
                 (Parameter("gain", 0.3, (0.0, 0.5), "behaviour gained"),
                  Parameter("level", 0.4, (0.01, 0.8), "alignment gained", log_scale=True)),
                 ("behavior", "task_alignment"), function, jacobian=jacobian, time_span=CAP)


def _ramp_problem(saturates=True):
    rng = np.random.default_rng(3)
    t = np.arange(12.0)
    truth = _ramp_model().function(0.25 * t, 0.3, 0.4)
    se = {"behavior": rng.uniform(0.01, 0.03, 12), "task_alignment": rng.uniform(0.02, 0.05, 12)}
    values = {k: truth[k] + se[k] * rng.standard_normal(12) for k in truth}
    return build_problem(statistics(values, se), _ramp_model(saturates)), values, se


def _saturated_point(problem):
    u = np.full(problem.n_free, 0.5)
    names = problem.free_names
    u[names.index("time_scale")], u[names.index("onset")] = 1.0, 0.0
    assert problem.training_time(problem.values(u)).min() > 1.001 * CAP  # the premise: every session past CAP
    return u


def test_bound_is_the_best_flat_fit_in_closed_form():
    problem, values, se = _ramp_problem()
    u = _saturated_point(problem)
    expected = 0.0
    for name in ("behavior", "task_alignment"):
        w = 1.0 / se[name] ** 2
        mean = np.sum(w * values[name]) / np.sum(w)
        expected += np.sum(w * (values[name] - mean) ** 2)
    assert _saturated_bound(problem, u) == pytest.approx(expected, rel=1e-7)
    # and it is a bound: the model's own chi-square on the face is above it
    assert problem.chi2(u) >= _saturated_bound(problem, u)


def test_no_bound_off_the_face_or_without_a_saturation_time():
    problem, _, _ = _ramp_problem()
    u = _saturated_point(problem)
    early = u.copy()
    early[problem.free_names.index("time_scale")] = 0.0
    assert problem.training_time(problem.values(early)).min() < CAP
    assert _saturated_bound(problem, early) is None
    plain, _, _ = _ramp_problem(saturates=False)
    assert _saturated_bound(plain, u) is None


def test_a_run_from_the_face_stays_on_it_above_the_bound():
    problem, _, _ = _ramp_problem()
    u = _saturated_point(problem)
    # inside the box, not at its edges (least squares starts strictly inside: an edge moves by 1e-10)
    u[problem.free_names.index("time_scale")], u[problem.free_names.index("onset")] = 0.97, 0.05
    assert problem.training_time(problem.values(u)).min() > 1.001 * CAP
    opt = local_fit(problem, u)
    for name in ("time_scale", "onset"):
        j = problem.free_names.index(name)
        assert opt.u[j] == pytest.approx(u[j], abs=1e-12)
    assert opt.chi2 >= _saturated_bound(problem, u)
    # while a run from off the face finds the rise, far below the plateau's bound
    assert local_fit(problem, np.full(problem.n_free, 0.5)).chi2 < 0.1 * _saturated_bound(problem, u)


@pytest.mark.slow
def test_integrator_fit_unchanged_by_the_skip(monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_fit import design

    from neurolearn.fitting import simulate_statistics
    from neurolearn.theory import MODELS

    model = MODELS["integrator"]
    truth, time_scale, onset, se = design(model)
    stats = simulate_statistics(model, truth, n_sessions=30, se=se, time_scale=time_scale, onset=onset,
                                random_state=0)
    problem = build_problem(stats, model)
    skipped = []
    bound = multistart_module._saturated_bound

    def recording(problem, u):
        value = bound(problem, u)
        if value is not None:
            skipped.append(value)
        return value

    monkeypatch.setattr(multistart_module, "_saturated_bound", recording)
    with_skip = multistart(problem, rng=np.random.default_rng(0))
    assert skipped and min(skipped) > 10 * with_skip.chi2  # the case it is for: a start was skipped
    monkeypatch.setattr(multistart_module, "_saturated_bound", lambda problem, u: None)
    without = multistart(problem, rng=np.random.default_rng(0))
    # bit for bit the same optimum (the skipped start's run ended on the face, above the bound)
    assert with_skip.chi2 == without.chi2 and np.array_equal(with_skip.u, without.u)
    assert np.array_equal(with_skip.jac, without.jac)
    assert len(with_skip.chi2_of_starts) == len(without.chi2_of_starts) == 4
    # the alternatives a profile could restart from (within its widest cut, far below _far_above) are the same;
    # only the plateau's end is gone
    far = multistart_module._far_above(without.chi2, problem.n_obs - problem.n_free)
    near = [chi2 for _, chi2 in without.alternatives if chi2 <= far]
    assert [chi2 for _, chi2 in with_skip.alternatives] == near
    assert all(chi2 > far for _, chi2 in without.alternatives if chi2 not in near)
    face = [c for c in without.chi2_of_starts if c > 10 * without.chi2]
    assert face and all(c >= min(skipped) for c in face)
