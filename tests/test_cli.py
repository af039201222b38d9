"""The command line: subcommands, files it writes, one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from neurolearn.cli import main, read_fits, read_statistics, write_fits, write_statistics

COMMANDS = ["info", "summarize", "fit", "report", "demo"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments, status=2):
    # progress lines may come first (stderr is for people); the error is one line, the last, no traceback
    assert code == status
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("neurolearn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], f"expected one error line, last, found {lines}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def make_stats(n=5):
    sessions = [f"day{i}" for i in range(n)]
    values = np.linspace(0.5, 0.9, n)
    return xr.Dataset(
        {
            "behavior": ("session", values),
            "behavior_se": ("session", np.full(n, 0.02)),
            "behavior_ci": (("session", "ci_bound"), np.stack([values - 0.04, values + 0.04], 1),
                            {"level": 0.95}),
            "kernel_similarity": (("session", "session_other"), np.eye(n)),
        },
        coords={"session": sessions, "session_other": sessions, "ci_bound": ["lower", "upper"],
                "session_index": ("session", np.arange(n))},
        attrs={"n_boot": 200, "target": "target", "window": (0.0, 1.0), "corrected": True,
               "options": {"a": 1}},
    )


def test_help_lists_every_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: neurolearn {command}")


@pytest.mark.parametrize(
    "argv, fragment",
    [
        ([], "expected a command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["fit", "stats.nc"], "required: -m/--model, -o/--out"),
        (["summarize", "a.nwb", "-o", "s.nc", "--n-boot", "-1"], "expected an integer >= 0, found -1"),
        (["summarize", "a.nwb", "-o", "s.nc", "--window", "0"], "--window: expected 2 arguments"),
        (["fit", "s.nc", "-m", "lazy-rich", "-o", "f.json", "--fix", "chance"],
         "expected NAME=NUMBER, found 'chance'"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, fragment)


def test_missing_statistics_file(capsys, tmp_path):
    code, _, err = run(capsys, "fit", str(tmp_path / "none.nc"), "-m", "lazy-rich", "-o",
                       str(tmp_path / "f.json"))
    assert_one_line_error(code, err, "none.nc", "no such file")


def test_statistics_file_that_is_not_netcdf(capsys, tmp_path):
    bogus = tmp_path / "stats.nc"
    bogus.write_text("not a netcdf file")
    code, _, err = run(capsys, "report", str(bogus), "-o", str(tmp_path / "r.html"))
    assert_one_line_error(code, err, "stats.nc", "expected a NetCDF statistics file")


def test_fits_file_that_is_not_json(capsys, tmp_path):
    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    bogus = tmp_path / "fits.json"
    bogus.write_text("{not json")
    code, _, err = run(capsys, "report", str(stats), str(bogus), "-o", str(tmp_path / "r.html"))
    assert_one_line_error(code, err, "fits.json", "invalid JSON")


def test_output_that_is_a_directory(capsys, tmp_path):
    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    code, _, err = run(capsys, "report", str(stats), "-o", str(tmp_path))
    assert_one_line_error(code, err, "found a directory")


def test_missing_glob_match(capsys, tmp_path):
    code, _, err = run(capsys, "summarize", str(tmp_path / "day*.nwb"), "-o", str(tmp_path / "s.nc"))
    assert_one_line_error(code, err, "day*.nwb", "found none")


def test_info_on_a_file_that_is_not_nwb(capsys, tmp_path):
    text = tmp_path / "notes.nwb"
    text.write_text("hello")
    code, _, err = run(capsys, "info", str(text))
    assert_one_line_error(code, err, "notes.nwb")


def test_statistics_round_trip_through_netcdf(tmp_path):
    stats = make_stats()
    back = read_statistics(write_statistics(stats, tmp_path / "sub" / "stats.nc"))
    for name in stats.data_vars:
        np.testing.assert_array_equal(back[name].transpose(*stats[name].dims).values, stats[name].values)
    assert list(back.session.values) == list(stats.session.values)
    assert list(back.ci_bound.values) == ["lower", "upper"]
    np.testing.assert_array_equal(back.session_index.values, np.arange(5))
    assert back.attrs["n_boot"] == 200 and back.attrs["target"] == "target"
    assert json.loads(back.attrs["corrected"]) is True and json.loads(back.attrs["options"]) == {"a": 1}
    assert back.behavior_ci.attrs["level"] == 0.95


def test_fits_round_trip_through_json(tmp_path):
    fits = [{"model": "lazy-rich", "params": {"gamma0": np.float64(2.0)}, "aic": np.float64(3.5)}]
    path = write_fits(fits, tmp_path / "fits.json")
    assert json.loads(path.read_text()) == {"model": "lazy-rich", "params": {"gamma0": 2.0}, "aic": 3.5}
    assert read_fits(path) == [{"model": "lazy-rich", "params": {"gamma0": 2.0}, "aic": 3.5}]
    write_fits(fits * 2, path)
    assert len(read_fits(path)) == 2


def test_the_console_script_is_installed_and_runs():
    # `pip install -e .` puts the `neurolearn` entry point beside the interpreter
    script = __import__("pathlib").Path(sys.executable).parent / "neurolearn"
    if not script.exists():
        pytest.skip(f"console script not installed at {script}")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("neurolearn ")


def test_the_installed_command_prints_no_traceback(tmp_path):
    # the console script runs main() and exits with its status; run it the way a user would
    result = subprocess.run(
        [sys.executable, "-m", "neurolearn.cli", "fit", str(tmp_path / "missing.nc"), "-m", "lazy-rich",
         "-o", "x.json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("neurolearn: error: ") and "Traceback" not in result.stderr


def test_report_from_statistics_and_fit_files(capsys, tmp_path):
    from neurolearn.report import embedded_images

    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    fits = {"model": "lazy-rich", "params": {"gamma0": 1.0}, "ci": {"gamma0": [0.5, 1.5]}, "aic": 2.0,
            "session": [f"day{i}" for i in range(5)], "predicted": {"behavior": [0.5, 0.6, 0.7, 0.8, 0.9]}}
    fit_file = write_fits([fits], tmp_path / "fits.json")
    out = tmp_path / "report.html"
    code, stdout, err = run(capsys, "report", str(stats), str(fit_file), "-o", str(out))
    assert code == 0, err
    assert str(out) in stdout
    page = out.read_text()
    assert sorted(embedded_images(page)) == ["stats_fit_lazy-rich.png", "stats_kernel_similarity.png",
                                             "stats_statistics.png"]
    assert "gamma0" in page


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_info_describes_the_real_recording(capsys):
    code, out, err = run(capsys, "info", str(ROOT / "data" / "real" / "sub-4_ses-4_ecephys+image.nwb"))
    assert code == 0, err
    assert "35 units" in out and "encoding_table: 90 rows" in out and "recognition_table: 180 rows" in out


def test_summarize_then_fit_then_report_on_nwb_sessions(capsys, tmp_path):
    stats_path, fits_path, report = tmp_path / "lazy.nc", tmp_path / "lazy.json", tmp_path / "lazy.html"
    code, out, err = run(capsys, "summarize", str(ROOT / "data" / "lazy" / "day0*.nwb"),
                         "--window", "0", "0.5", "--n-boot", "20", "-o", str(stats_path))
    assert code == 0, err
    stats = read_statistics(stats_path)
    assert stats.sizes["session"] == 10 and stats.attrs["n_boot"] == 20
    assert "task_alignment_ci" in stats and "behavior" in stats
    code, out, err = run(capsys, "fit", str(stats_path), "-m", "lazy-rich", "--fix", "chance=0.5",
                         "--fix", "onset=0", "--observables", "task_alignment,behavior", "-o", str(fits_path))
    assert code == 0, err
    (fit,) = read_fits(fits_path)
    assert fit["model"] == "lazy-rich" and fit["observables"] == ["task_alignment", "behavior"]
    assert fit["fixed"]["chance"] == 0.5 and fit["params"]["chance"] == 0.5
    assert fit["session"] == list(stats.session.values) and len(fit["predicted"]["behavior"]) == 10
    assert "lazy-rich" in out  # the comparison table is printed
    code, out, err = run(capsys, "report", str(stats_path), str(fits_path), "-o", str(report))
    assert code == 0, err


def test_fit_with_an_unknown_model_is_a_one_line_error(capsys, tmp_path):
    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    code, _, err = run(capsys, "fit", str(stats), "-m", "no-such-model", "-o", str(tmp_path / "f.json"))
    assert_one_line_error(code, err, "no-such-model")
