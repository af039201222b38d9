"""What 'neurolearn fit' prints and its exit status: parameters, intervals, every flag, failures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import neurolearn as nl
import neurolearn.fitting as fit_module
from neurolearn.fitting import simulate_statistics
from neurolearn.files import read_fits, write_statistics
from tests.test_cli import assert_one_line_error, run


@pytest.fixture(scope="module")
def lazy_stats(tmp_path_factory):
    """Statistics of the lazy-rich model (gamma0 = 4) with known SEs, as 'neurolearn summarize' writes them."""
    stats = simulate_statistics("lazy-rich", {"gamma0": 4.0, "d_eff": 20.0, "chance": 0.5},
                                       n_sessions=12, se=0.02, time_scale=0.25, random_state=3)
    return write_statistics(stats, tmp_path_factory.mktemp("fit") / "lazy.nc")


def test_fit_prints_parameters_with_intervals_and_flags(capsys, lazy_stats, tmp_path):
    code, out, err = run(capsys, "fit", str(lazy_stats), "-m", "lazy-rich", "-m", "silent-alignment",
                         "--fix", "chance=0.5", "-o", str(tmp_path / "f.json"))
    assert code == 0, err
    fits = read_fits(tmp_path / "f.json")
    for fit in fits:
        assert f"{fit['label']}: converged" in out
        block = out.split(f"{fit['label']}: converged")[1].split("flags:")[0]
        for name, value in fit["params"].items():
            row = next(line for line in block.splitlines() if line.startswith(name + " "))
            assert f"{value:.4g}" in row
            if name in fit["ci"]:
                lo, hi = fit["ci"][name]
                assert f"[{lo:.4g}, {hi:.4g}]" in row
                assert ("not identifiable" in row) == (not fit["identifiable"][name])
            else:
                assert row.rstrip().endswith("fixed")
    assert "fitting lazy-rich (1 of 2) ..." in err and "fitting silent-alignment (2 of 2) ..." in err
    # the comparison prints whole: every column, no '...' elision
    header = next(line for line in out.splitlines() if "akaike_weight" in line)
    for column in ("label", "n_params", "chi2", "aic", "delta_aic", "bic", "success"):
        assert column in header
    assert "..." not in out.split(header)[1]


def test_fit_flags_missing_statistics_bounds_and_misfit(capsys, tmp_path):
    # gamma0 at its lazy floor (1e-3): the estimate sits on the search bound and is not identifiable
    lazy = simulate_statistics("lazy-rich", {"gamma0": 1e-3, "d_eff": 20.0, "chance": 0.5}, n_sessions=12,
                                      se=0.02, time_scale=0.25, random_state=1, observables=["task_alignment",
                                                                                            "behavior"])
    path = write_statistics(lazy, tmp_path / "lazy.nc")
    code, out, err = run(capsys, "fit", str(path), "-m", "lazy-rich", "--fix", "chance=0.5", "--no-progress",
                         "-o", str(tmp_path / "f.json"))
    assert code == 0, err
    (fit,) = read_fits(tmp_path / "f.json")
    flags = next(line for line in out.splitlines() if line.startswith("flags:"))
    assert "statistics missing, not fitted: kernel_change" in flags
    if not fit["identifiable"]["gamma0"]:
        assert "not identifiable: " in flags and "gamma0" in flags.split("not identifiable: ")[1]
    if fit["params"]["gamma0"] <= 1e-3 * (1 + 1e-4):
        assert "at a bound: gamma0" in flags and "at its lower bound 0.001" in out
    # the same statistics scattered 10x beyond their SEs: the model misfits and the intervals are widened
    noisy = lazy.copy()
    rng = np.random.default_rng(0)
    for name in ("task_alignment", "behavior"):
        noisy[name] = noisy[name] + 0.2 * rng.standard_normal(noisy.sizes["session"])
    path = write_statistics(noisy, tmp_path / "noisy.nc")
    code, out, err = run(capsys, "fit", str(path), "-m", "lazy-rich", "--fix", "chance=0.5", "--no-progress",
                         "-o", str(tmp_path / "g.json"))
    assert code == 0, err
    flags = next(line for line in out.splitlines() if line.startswith("flags:"))
    assert "model misfit (p = " in flags and "intervals widened" in flags


def test_a_fixed_value_outside_its_bounds_is_bad_input_and_exits_2(capsys, lazy_stats, tmp_path):
    fits = tmp_path / "f.json"
    code, out, err = run(capsys, "fit", str(lazy_stats), "-m", "lazy-rich", "--fix", "gamma0=-5", "-o", str(fits))
    assert code == 2 and out == "" and not fits.exists()
    assert err.strip() == ("neurolearn: error: --fix gamma0=-5 lies outside its bounds [0.001, 100] in model "
                           f"'lazy-rich' ({nl.theory.MODELS['lazy-rich'].parameters[0].meaning})")


def test_a_failed_fit_exits_1_and_says_why(capsys, monkeypatch, lazy_stats, tmp_path):
    real = fit_module.fit

    def failing(*args, **kwargs):  # what fit returns when the optimiser gives up
        result = real(*args, **kwargs)
        return dataclasses.replace(result, success=False, message="did not converge (maximum evaluations)",
                                   params={k: float("nan") for k in result.params})

    monkeypatch.setattr(fit_module, "fit", failing)
    code, out, err = run(capsys, "fit", str(lazy_stats), "-m", "lazy-rich", "--fix", "chance=0.5",
                         "--no-progress", "-o", str(tmp_path / "f.json"))
    assert code == 1
    assert "lazy-rich (chance=0.5): FAILED" in out and "flags: fit failed: did not converge (maximum evaluations)" in out
    assert err.strip().splitlines()[-1] == ("neurolearn: error: fit of model 'lazy-rich (chance=0.5)' failed: did "
                                            "not converge (maximum evaluations)")
    assert read_fits(tmp_path / "f.json")[0]["success"] is False  # the failure is recorded too


def test_fitting_a_model_to_the_wrong_kind_of_data_fails_clearly(capsys, lazy_stats, tmp_path):
    # lazy-rich statistics hold no eigenvalue or timescale: the integrator would rest on behaviour alone
    code, out, err = run(capsys, "fit", str(lazy_stats), "-m", "integrator", "--no-progress", "-o",
                         str(tmp_path / "f.json"))
    assert code != 0, out
    line = err.strip().splitlines()[-1]
    assert line.startswith("neurolearn: error: ") and "Traceback" not in err
    assert "outlier_eigenvalue" in line or "timescale" in line


def test_a_fixed_name_one_model_lacks_fails_before_any_fitting(capsys, lazy_stats, tmp_path):
    code, _, err = run(capsys, "fit", str(lazy_stats), "-m", "lazy-rich", "-m", "grokking", "--fix", "chance=0.5",
                       "-o", str(tmp_path / "f.json"))
    assert_one_line_error(code, err, "--fix chance: not a parameter of model 'grokking'")
    assert "fitting" not in err


def test_fits_to_different_statistics_are_written_and_exit_0_without_a_ranking(capsys, tmp_path):
    # two models with their own default observables: nothing failed, nothing is comparable by AIC
    lazy = simulate_statistics("lazy-rich", {"gamma0": 4.0, "d_eff": 20.0, "chance": 0.5}, n_sessions=12,
                               se=0.02, time_scale=0.25, random_state=3)
    overtraining = simulate_statistics("overtraining", {}, n_sessions=12, se=0.02, time_scale=0.25, random_state=4)
    both = overtraining.merge(lazy[[n for n in lazy.data_vars if n not in overtraining]], compat="override")
    path = write_statistics(both, tmp_path / "both.nc")
    code, out, err = run(capsys, "fit", str(path), "-m", "lazy-rich", "-m", "overtraining", "--no-progress",
                         "-o", str(tmp_path / "f.json"))
    assert code == 0, err
    assert len(read_fits(tmp_path / "f.json")) == 2
    assert "akaike_weight" not in out and "not compared (fitted to statistics no other fit used): lazy-rich (" in out


def test_an_interval_one_sided_at_a_natural_bound_is_a_note_not_a_flag():
    # lazy-rich learned to perfection (ceiling = 1): ceiling's interval ends at 1, which no fraction correct can
    # pass; the table says so but neither calls it unidentified nor flags its estimate as stuck on the box
    from neurolearn.cli_output import format_fit

    # (the first session is the start of training, onset 0: kernel_change is measured from it, so with onset
    # free only behaviour at session 0 would date the start, trading with chance; test_least_squares alike)
    stats = simulate_statistics("lazy-rich", {"ceiling": 1.0, "gamma0": 1.0}, n_sessions=20, se=0.02,
                                random_state=0)
    result = fit_module.fit(stats, "lazy-rich", random_state=0, fixed={"onset": 0.0})
    assert result.identifiable["ceiling"] and not result.identifiable["time_scale"]
    out = format_fit(result)
    row = next(line for line in out.splitlines() if line.startswith("ceiling "))
    assert "one-sided interval (natural upper bound 1)" in row and "not identifiable" not in row
    flags = next(line for line in out.splitlines() if line.startswith("flags:"))
    assert "ceiling" not in flags
    assert result.params["ceiling"] == pytest.approx(1.0, abs=1e-6) and "at its natural upper bound 1" in row
    # time_scale's open end is an arbitrary search bound: flagged, with its whole reason, nested parentheses too
    row = next(line for line in out.splitlines() if line.startswith("time_scale "))
    assert "time_scale" in flags.split("not identifiable: ")[1]
    assert "not identifiable (interval reaches the upper search bound; " in row
    reason = "interval reaches the upper search bound; not constrained by the data (singular Jacobian)"
    assert f"time_scale: not identifiable ({reason})" in result.message  # the reason, past its first ')'
    assert f"not identifiable ({reason})" in row  # whole, nested parentheses too
