"""A point fit whose starts all stop on a face flat in time says so instead of offering their agreement as evidence.

Data: the project's silent-alignment simulator at init_variance 1e-3 (8 sessions, 16 conditions, 60 recorded of
400 hidden units), the design on which the point fit's starts all reach a face where every session maps past the
loss drop (chi2 ~450 on 23 values, every parameter unconstrained) and "4 of 4 starts reached the best minimum"
was the only word on it. Flatness is checked here independently of the fitter's flag: the predictions do not
move when time_scale and onset are perturbed.
"""

import warnings

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.fitting.multistart import FLAT_IN_TIME_NOTE, _flat_in_time, local_fit
from neurolearn.simulate.two_layer import simulate_silent_alignment_sessions


def _statistics(init_variance, seed):
    tree, truth = simulate_silent_alignment_sessions(init_variance, n_sessions=8, n_conditions=16, n_neurons=60,
                                                     n_trials=4, n_hidden=400, input_dim=6, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nl.summarize(tree, n_boot=100, random_state=seed, dynamics=False, readout=False), truth


def _moves_in_time(result) -> float:
    """Largest change of any prediction (in SEs) when time_scale is scaled by 0.9 and onset moved by 0.3 sessions."""
    problem = result._problem
    values = problem.values(result._unit)
    base = problem.predict_array(values)
    shifted = dict(values, time_scale=0.9 * values["time_scale"], onset=values["onset"] + 0.3)
    return float(np.nanmax(np.abs(problem.predict_array(shifted) - base)[problem.mask] / problem.se[problem.mask]))


@pytest.fixture(scope="module")
def stuck():
    statistics, _ = _statistics(1e-3, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nl.fit(statistics, "silent-alignment", interval=None, random_state=0)


def test_a_point_fit_flat_in_time_says_its_starts_agreement_is_no_evidence(stuck):
    # the premise: this design's point fit stops on the face, far above the data's basin, and is flat in time
    assert stuck.success and stuck.chi2 > 100.0
    assert _moves_in_time(stuck) < 1e-6
    assert FLAT_IN_TIME_NOTE in stuck.message


def test_the_flag_reads_the_time_columns_of_the_jacobian(stuck):
    problem = stuck._problem
    assert _flat_in_time(problem, local_fit(problem, stuck._unit).jac)
    # the data's basin (a local run from the simulator's truth) is not flat in time, and is not flagged
    _, truth = _statistics(1e-3, 200)
    values = dict(truth.parameters, time_scale=float(truth.training_time[1] - truth.training_time[0]), onset=0.0)
    u = np.array([p.to_unit(values[p.name]) for p in problem.free])
    basin = local_fit(problem, u)
    assert basin.chi2 < 0.1 * stuck.chi2
    assert not _flat_in_time(problem, basin.jac)


def test_a_fit_in_its_basin_carries_no_flat_note():
    statistics, _ = _statistics(1e-1, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nl.fit(statistics, "silent-alignment", interval=None, random_state=0)
    assert result.success and result.chi2 < 3.0 * (result.n_obs - result.n_params)
    assert _moves_in_time(result) > 1.0
    assert FLAT_IN_TIME_NOTE not in result.message
