"""One shared check over every registered statistic, as scikit-learn's check_estimator runs over estimators:
the declaration is complete, summarize reports the statistic in its declared range (up to 3 SE, the guard summarize applies) and inside its
own interval on realistic spiking data it was not designed for, every NaN carries a reason, the invariances
it declares hold, and degenerate sessions give NaN with reasons, never an exception or an impossible number.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
import pytest

import neurolearn as nl
from neurolearn.data import ci_name, flag_name, se_name
from neurolearn.simulate.recording import make_recording
from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.statistic_registry import STATISTICS, Requirements
from neurolearn.stats.summary import summarize

FAMILIES = {"behavior", "kernel", "spectral", "readout", "dynamics", "generalization", "capacity"}
#: registered names summarize computes on (trial, neuron) sessions (the dynamics family needs time bins, the
#: generalization family held-out trials)
STATIC = [name for name, entry in STATISTICS.items() if entry.family not in ("dynamics",)
          and entry.family not in ("generalization", "capacity") and name not in ("code_overlap", "flip_fraction")]
#: realistic shapes: (conditions, trials per condition, neurons per session); different neurons each session
SHAPES = [(4, 2, 30), (8, 3, 120), (16, 5, 300)]


def _summarize(tree, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return summarize(tree, n_boot=60, random_state=0, dynamics=False, **kwargs)


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: "P{}xT{}xN{}".format(*s))
def realistic(request):
    n_conditions, n_trials, n_neurons = request.param
    tree, _ = spiking_sessions(n_sessions=3, n_conditions=n_conditions, n_trials=n_trials, n_neurons=n_neurons,
                               random_state=sum(request.param))
    return tree, _summarize(tree)


@pytest.mark.parametrize("name", list(STATISTICS))
def test_declaration_is_complete(name):
    entry = STATISTICS[name]
    assert entry.name == name and entry.family in FAMILIES
    for text in (entry.label, entry.meaning, entry.estimand, entry.estimator):
        assert isinstance(text, str) and text.strip(), name
    low, high = entry.range
    assert low < high
    assert isinstance(entry.needs, Requirements)
    assert set(entry.invariant_to) <= {"neuron order", "response scale", "condition labels", "baseline rates"}
    # enforce_ranges reads "lower" and takes anything else for "both": a misspelt side would pass silently
    assert entry.resolution_side in ("both", "lower"), f"{name}: resolution_side {entry.resolution_side!r}"
    for model in entry.predicted_by:
        assert model in nl.theory.MODELS, f"{name}: predicted_by names unknown model {model!r}"
        assert name in nl.theory.MODELS[model].observables, f"{name}: {model} does not predict it"


def test_every_model_observable_is_registered():
    for model in nl.theory.MODELS.values():
        for observable in model.observables:
            assert observable in STATISTICS, f"{model.name} predicts unregistered {observable!r}"
            assert model.name in STATISTICS[observable].predicted_by, (observable, model.name)


def test_the_names_everywhere_come_from_the_registry():
    assert nl.data.STATISTIC_NAMES == tuple(STATISTICS)
    assert nl.stats.STATISTICS is STATISTICS
    assert nl.plot.LABELS == {name: entry.label for name, entry in STATISTICS.items()}


@pytest.mark.parametrize("name", STATIC)
def test_in_range_inside_its_interval_and_nan_only_with_a_reason(realistic, name):
    _, stats = realistic
    assert name in stats, f"summarize did not report {name}"
    entry = STATISTICS[name]
    value, se = stats[name].values.astype(float), stats[se_name(name)].values.astype(float)
    finite = np.isfinite(value)
    slack = 3 * np.where(np.isfinite(se), se, 0.0)
    low, high = entry.range
    assert np.all(value[finite] >= low - slack[finite] - 1e-9), (name, value)
    assert np.all(value[finite] <= high + slack[finite] + 1e-9), (name, value)
    ci = stats[ci_name(name)].values
    has_ci = finite & np.isfinite(ci[..., 0])
    assert np.all(ci[..., 0][has_ci] <= value[has_ci] + 1e-12) and np.all(value[has_ci] <= ci[..., 1][has_ci] + 1e-12)
    assert flag_name(name) in stats, f"{name} has no flag variable"
    flags = stats[flag_name(name)].values
    assert np.all(flags[~finite] != ""), f"{name}: NaN without a reason"


def _transformed(tree, how, rng):
    out = {}
    for key, child in tree.children.items():
        rec = child.dataset["responses"]
        if how == "neuron order":
            rec = rec.isel(neuron=rng.permutation(rec.sizes["neuron"]))
        elif how == "response scale":
            rec = rec * 3.7
        elif how == "condition labels":
            rec = rec.assign_coords(stimulus=("trial", 100 - 2 * np.asarray(rec.stimulus.values)))
        elif how == "baseline rates":  # each neuron its own constant, different in each session
            rec = rec + xr.DataArray(rng.uniform(1.0, 20.0, rec.sizes["neuron"]), dims="neuron")
        out[key] = rec.assign_attrs(tree[key]["responses"].attrs)
    return out


@pytest.mark.parametrize("how", ["neuron order", "response scale", "condition labels", "baseline rates"])
def test_declared_invariances_hold(how):
    tree, _ = spiking_sessions(n_sessions=2, n_conditions=8, n_trials=4, n_neurons=80, random_state=5)
    base = _summarize(tree, readout=False)
    moved = _summarize(_transformed(tree, how, np.random.default_rng(1)), readout=False)
    checked = 0
    for name, entry in STATISTICS.items():
        if how not in entry.invariant_to or name not in base:
            continue
        np.testing.assert_allclose(moved[name].values, base[name].values, rtol=1e-8, atol=1e-10, err_msg=name)
        np.testing.assert_allclose(moved[se_name(name)].values, base[se_name(name)].values, rtol=1e-6, atol=1e-10,
                                   err_msg=name)
        checked += 1
    assert checked >= 5


def _degenerate_sessions(kind, rng):
    y = np.tile([1.0, -1.0], 4)
    if kind == "one class":
        y = np.ones(8)
    n_neurons = {"one neuron": 1, "two neurons": 2}.get(kind, 40)
    means = rng.gamma(2.0, 2.0, size=(8, n_neurons))
    if kind == "silent neurons":
        means[:, :30] = 0.0
    n_trials = 1 if kind == "one trial" else 3
    n_conditions = 2 if kind == "two conditions" else 8
    return [make_recording(means[:n_conditions], n_trials=n_trials, noise_sd=0.5, target=y[:n_conditions],
                           behavior=0.7, session_id=f"d{d}", rng=d) for d in range(2)]


@pytest.mark.parametrize("kind", ["one class", "one neuron", "two neurons", "silent neurons", "one trial",
                                  "two conditions"])
def test_degenerate_sessions_give_reasons_not_exceptions(kind):
    recs = _degenerate_sessions(kind, np.random.default_rng(0))
    stats = _summarize(recs)
    assert np.isfinite(stats["behavior"]).all()
    for name in STATIC:
        if name not in stats:
            continue
        value = stats[name].values.astype(float)
        assert np.all(stats[flag_name(name)].values[~np.isfinite(value)] != ""), (kind, name)
        entry = STATISTICS[name]
        se = stats[se_name(name)].values.astype(float)
        finite = np.isfinite(value)
        slack = 3 * np.where(np.isfinite(se), se, 0.0)
        assert np.all((value[finite] >= entry.range[0] - slack[finite] - 1e-9)
                      & (value[finite] <= entry.range[1] + slack[finite] + 1e-9)), (kind, name, value)


def test_the_statistics_page_is_generated_from_the_registry():
    from pathlib import Path

    from neurolearn.statistic_registry import registry_markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "statistics.md"
    assert page.read_text(encoding="utf-8") == registry_markdown(), "run python docs/make_statistics.py"


def test_the_registry_says_which_intervals_carry_shared_trial_noise_as_the_estimators_do():
    # the statistics whose replicates gain the shared term (neurolearn.stats.trial_noise) state it and are never
    # flagged for it; the other neuron-resampled kernel statistics state the assumption and list the flag
    from neurolearn.stats.shared_noise import UNCORRECTED
    from neurolearn.stats.trial_noise import CORRECTED

    resampled = {name for name, entry in STATISTICS.items()
                 if entry.family in ("kernel", "spectral") and entry.interval}
    assert set(CORRECTED) | set(UNCORRECTED) == resampled and not set(CORRECTED) & set(UNCORRECTED)
    for name in CORRECTED:
        assert "is added where a session's trials show it" in STATISTICS[name].interval
        assert not any("trial noise shared" in reason for reason in STATISTICS[name].reasons)
    for name in UNCORRECTED:
        assert "assumes trial noise independent across neurons" in STATISTICS[name].interval
        assert any("trial noise shared" in reason for reason in STATISTICS[name].reasons)
