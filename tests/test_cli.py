"""The command line: subcommands, files it writes, one-line errors with exit status 2."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.cli import main, read_fits, read_statistics, write_fits, write_statistics
from neurolearn.errors import NeurolearnError

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
    # six of the ten sessions and no decoding statistics keep this end-to-end run short
    code, out, err = run(capsys, "summarize", str(ROOT / "data" / "lazy" / "day0[0-5].nwb"), "--no-readout",
                         "--window", "0", "0.5", "--n-boot", "20", "-o", str(stats_path))
    assert code == 0, err
    stats = read_statistics(stats_path)
    assert stats.sizes["session"] == 6 and stats.attrs["n_boot"] == 20
    assert "task_alignment_ci" in stats and "behavior" in stats
    code, out, err = run(capsys, "fit", str(stats_path), "-m", "lazy-rich", "--fix", "chance=0.5",
                         "--fix", "onset=0", "--observables", "task_alignment,behavior", "-o", str(fits_path))
    assert code == 0, err
    (fit,) = read_fits(fits_path)
    assert fit["model"] == "lazy-rich" and fit["observables"] == ["task_alignment", "behavior"]
    assert fit["fixed"]["chance"] == 0.5 and fit["params"]["chance"] == 0.5
    assert fit["session"] == list(stats.session.values) and len(fit["predicted"]["behavior"]) == 6
    assert "lazy-rich" in out  # the comparison table is printed
    code, out, err = run(capsys, "report", str(stats_path), str(fits_path), "-o", str(report))
    assert code == 0, err


def test_fit_with_an_unknown_model_is_a_one_line_error(capsys, tmp_path):
    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    code, _, err = run(capsys, "fit", str(stats), "-m", "no-such-model", "-o", str(tmp_path / "f.json"))
    assert_one_line_error(code, err, "no-such-model")


# --- issue 9: options checked early and mapped onto the API ---------------------------------------------


def takes(function, *names):
    """Whether ``function`` (the API being built alongside the CLI) takes every keyword in ``names``."""
    return set(names) <= set(inspect.signature(function).parameters)


needs_reader = pytest.mark.skipif(
    not takes(nl.read_sessions, "subject", "tracked", "timeout", "progress")
    or not takes(nl.read_nwb, "where", "tracked"),
    reason="read_sessions/read_nwb lack subject/tracked/where/timeout/progress")
needs_summarize = pytest.mark.skipif(
    not takes(nl.summarize, "where", "min_trials", "nan_policy", "progress"),
    reason="summarize lacks where/min_trials/nan_policy/progress")

SUMMARIZE = ["summarize", "a.nwb", "-o", "s.nc"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--behavior", "outcome:correct=1,incorrect=2"], "expected codes 1 (correct) or 0 (incorrect), found 2"),
        (["--behavior", "outcome:correct=1"], "at least one value coded 1 and one coded 0"),
        (["--behavior", "outcome:correct"], "expected VALUE=CODE items"),
        (["--behavior", "outcome:hit=1,hit=0"], "value 'hit' is coded twice"),
        (["--behavior", ":a=1,b=0"], "expected COLUMN or COLUMN:VALUE=CODE"),
        (["--target", "side:left"], "--target: expected VALUE=CODE items"),
        (["--where", "contrast >"], "--where: expected a pandas query expression"),
        (["--window", "1", "0"], "--window: expected START < STOP, found 1 0"),
        (["--window", "0", "nan"], "expected a finite number, found 'nan'"),
        (["--window", "0", "x"], "expected a number, found 'x'"),
        (["--n-boot", "1.5"], "expected an integer >= 0, found '1.5'"),
        (["--min-trials", "0"], "--min-trials: expected a positive integer, found 0"),
        (["--nan-policy", "maybe"], "invalid choice: 'maybe'"),
        (["--timeout", "-1"], "--timeout: expected a number of seconds >= 0"),
        (["--bin-size", "0"], "expected a positive number, found '0'"),
        (["--tracked", "--tracked-table", "cells.csv"], "not allowed with argument"),
        (["--tracked", "--untracked"], "not allowed with argument"),
        (["--tracked-table", "no-such-cells.csv"], "--tracked-table: expected a CSV file"),
        (["--training-time", "no-such-times.csv"], "--training-time no-such-times.csv: expected a CSV or JSON"),
        (["--on-error", "ignore"], "invalid choice: 'ignore'"),
        (["--indicator-tau", "-0.5"], "--indicator-tau: expected a number >= 0, found '-0.5'"),
        (["--by-area", "b.nwb"], "--by-area: took 'b.nwb' as the Units column naming areas; give the files first"),
    ],
)
def test_summarize_options_are_checked_before_reading_anything(capsys, monkeypatch, extra, fragment):
    # the reader must not run: a typo costs nothing, not minutes of reading files
    monkeypatch.setattr(nl.io, "read_sessions", lambda *a, **k: pytest.fail("read before checking options"))
    code, out, err = run(capsys, *SUMMARIZE, *extra)
    assert_one_line_error(code, err, fragment)
    assert len(err.strip().splitlines()) == 1 and out == ""


def test_fix_must_be_a_finite_number(capsys):
    code, _, err = run(capsys, "fit", "s.nc", "-m", "lazy-rich", "-o", "f.json", "--fix", "gamma0=inf")
    assert_one_line_error(code, err, "expected NAME=NUMBER, found 'gamma0=inf'")


def capture(monkeypatch, module, name):
    calls = []

    def fake(*args, **kwargs):
        calls.append(kwargs)
        raise NeurolearnError("captured")  # a NeurolearnError: the command ends with one error line

    monkeypatch.setattr(module, name, fake)
    return calls


def test_reading_options_reach_read_sessions(capsys, monkeypatch, tmp_path):
    cells = tmp_path / "cells.csv"
    cells.write_text("session,unit,cell\nday0,1,7\n")
    calls = capture(monkeypatch, nl.io, "read_sessions")
    run(capsys, *SUMMARIZE, "--subject", "m1", "--tracked-table", str(cells), "--where", "contrast > 0.1",
        "--on-error", "skip", "--window", "-0.5", "1.5", "--bin-size", "0.25", "--align", "go_cue")
    (kwargs,) = calls
    assert kwargs["subject"] == "m1" and kwargs["tracked"] == str(cells) and kwargs["where"] == "contrast > 0.1"
    assert kwargs["on_error"] == "skip" and kwargs["window"] == (-0.5, 1.5) and kwargs["bin_size"] == 0.25
    assert kwargs["align"] == "go_cue"
    # each file is opened in a child process with a time limit by default, with progress on stderr
    assert kwargs["timeout"] == 300.0 and kwargs["progress"] is True


def test_tracked_flag_timeout_and_no_progress(capsys, monkeypatch):
    calls = capture(monkeypatch, nl.io, "read_sessions")
    run(capsys, *SUMMARIZE, "--tracked", "--timeout", "12.5", "--no-progress")
    run(capsys, *SUMMARIZE, "--timeout", "0")
    run(capsys, *SUMMARIZE, "--untracked")  # the warning's "tracked=False" had no command-line form (F20)
    (first, second, third) = calls
    assert first["tracked"] is True and first["timeout"] == 12.5 and "progress" not in first
    assert "timeout" not in second and "tracked" not in second and "subject" not in second
    assert third["tracked"] is False


def test_summary_options_reach_summarize(capsys, monkeypatch):
    monkeypatch.setattr(nl.io, "read_sessions", lambda *a, **k: xr.DataTree())
    calls = capture(monkeypatch, nl.stats, "summarize")
    run(capsys, *SUMMARIZE, "--behavior", "outcome:correct=1,incorrect=0", "--target", "side:left=-1,right=1",
        "--by", "odour", "--min-trials", "3", "--nan-policy", "raise", "--n-boot", "0", "--no-readout",
        "--no-dynamics", "--indicator-tau", "0.4")
    (kwargs,) = calls
    assert kwargs["dynamics"] is False and kwargs["indicator_tau"] == 0.4
    assert kwargs["behavior"] == {"outcome": {"correct": 1, "incorrect": 0}}
    assert kwargs["target"] == {"side": {"left": -1, "right": 1}} and kwargs["by"] == "odour"
    assert kwargs["min_trials"] == 3 and kwargs["nan_policy"] == "raise" and kwargs["n_boot"] == 0
    assert kwargs["readout"] is False and kwargs["progress"] is True
    run(capsys, *SUMMARIZE, "--behavior", "none", "--target", "none")
    assert calls[1]["behavior"] is None and calls[1]["target"] is None
    assert "min_trials" not in calls[1] and "nan_policy" not in calls[1]  # the API's defaults apply
    assert "indicator_tau" not in calls[1] and "dynamics" not in calls[1]


def test_report_shows_progress(capsys, tmp_path):
    stats = write_statistics(make_stats(), tmp_path / "stats.nc")
    code, out, err = run(capsys, "report", str(stats), "-o", str(tmp_path / "r.html"))
    assert code == 0, err
    assert "drawing the report's figures" in err and "done in" in err
    code, out, err = run(capsys, "report", str(stats), "-o", str(tmp_path / "r.html"), "--no-progress")
    assert code == 0 and err == ""


def test_a_bug_is_one_line_that_says_so_and_debug_shows_the_traceback(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(nl.io, "read_sessions", broken)
    code, _, err = run(capsys, *SUMMARIZE, "--no-progress")
    assert_one_line_error(code, err, "unexpected ZeroDivisionError: division by zero (a bug in neurolearn",
                          "NEUROLEARN_DEBUG=1")
    monkeypatch.setenv("NEUROLEARN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main([*SUMMARIZE, "--no-progress"])


def test_a_closed_pipe_is_not_an_error():
    # `neurolearn info FILE | head -1`: the reader closes the pipe; that is not bad input (it said
    # "neurolearn: error: [Errno 32] Broken pipe" and exited 2). The read end is closed here before the child
    # has imported anything, so its first write meets the closed pipe.
    from tests.conftest import PROJECT_ROOT

    path = PROJECT_ROOT / "data" / "lazy" / "day00.nwb"  # opened read-only
    script = "import sys; from neurolearn.cli import main; sys.exit(main(['info', sys.argv[1]]))"
    child = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdout.close()
    _, err = child.communicate(timeout=120)
    assert "Broken pipe" not in err and "error" not in err, err
    assert child.returncode == 0


def test_an_output_naming_an_existing_file_of_another_kind_is_refused_and_left_as_it_was(capsys, tmp_path):
    # `summarize -o <an input .nwb>` replaced the raw recording (reviewer F9)
    recording = tmp_path / "day1.nwb"
    recording.write_bytes(b"not to be touched")
    code, out, err = run(capsys, "summarize", str(recording), "-o", str(recording))
    assert code != 0 and "is not overwritten" in err
    assert recording.read_bytes() == b"not to be touched"


def test_files_sharing_one_nwb_identifier_are_refused_unless_allowed(capsys, tmp_path):
    # a byte copy of a file (a re-download) is the same recording: read as two sessions it was pseudo-replication
    # (ee89ed4); a lab that typed one identifier into every file opts in
    import shutil

    for name in ("day00.nwb", "day00 (1).nwb"):
        shutil.copy(ROOT / "data" / "rich" / "day00.nwb", tmp_path / name)
    pattern = str(tmp_path / "*.nwb")
    code, out, err = run(capsys, "summarize", pattern, "-o", str(tmp_path / "s.nc"), "--n-boot", "0",
                         "--no-readout", "--no-progress")
    assert code == 2 and "identifier" in err and not (tmp_path / "s.nc").exists()
    code, out, err = run(capsys, "summarize", pattern, "-o", str(tmp_path / "s.nc"), "--n-boot", "0",
                         "--no-readout", "--no-progress", "--allow-same-identifier")
    assert code == 0, err
    assert xr.open_dataset(tmp_path / "s.nc").sizes["session"] == 2


def test_summarize_without_window_reads_the_default_and_says_where_it_reaches_past_trials(capsys, tmp_path):
    # --window used to default to (0, 1) passed explicitly, so the loader's warning for a default window longer
    # than the trials (adversary F21) never reached the command line; the bundled files have 0.5 s trials
    files = [str(ROOT / "data" / "rich" / f"day0{i}.nwb") for i in range(2)]
    common = ("--n-boot", "0", "--no-readout", "--no-progress")
    code, _, err = run(capsys, "summarize", *files, "-o", str(tmp_path / "default.nc"), *common)
    assert code == 0, err
    assert "the default window (0.0, 1.0) s" in err and "window=(0, 0.5)" in err
    code, _, err = run(capsys, "summarize", *files, "-o", str(tmp_path / "given.nc"), *common, "--window", "0", "0.5")
    assert code == 0, err
    assert "default window" not in err
    default, given = (xr.open_dataset(tmp_path / name) for name in ("default.nc", "given.nc"))
    assert not np.allclose(default["participation_ratio"].values, given["participation_ratio"].values)


def test_a_file_left_out_by_on_error_skip_is_named_in_the_written_statistics(capsys, tmp_path):
    # adversary F20: only stderr knew a session was missing; the NetCDF read later looked complete
    import shutil

    for name in ("day00.nwb", "day01.nwb", "day02.nwb"):
        shutil.copy(ROOT / "data" / "rich" / name, tmp_path / name)
    (tmp_path / "day03.nwb").write_bytes(b"not an HDF5 file")
    out = tmp_path / "s.nc"
    code, _, err = run(capsys, "summarize", str(tmp_path / "*.nwb"), "-o", str(out), "--n-boot", "0",
                       "--no-readout", "--no-dynamics", "--no-progress", "--on-error", "skip",
                       "--window", "0", "0.5")
    assert code == 0, err
    with xr.open_dataset(out) as stats:
        left_out = stats.attrs["left_out"].splitlines()  # one file a line
        assert stats.sizes["session"] == 3
    assert len(left_out) == 1 and left_out[0].startswith(str(tmp_path / "day03.nwb") + ": ")
    assert "HDF5" in left_out[0] and left_out[0].count(str(tmp_path / "day03.nwb")) == 1


def test_errors_name_command_line_options_not_python_keywords(capsys, corpus_dir, tmp_path):
    # a library error says "pass source=<path>"; on the command line that is --source (adversary F29 / S5)
    path = corpus_dir / "NeurodataWithoutBorders__matnwb" / "test_output.nwb"
    if not path.is_file():
        pytest.skip(f"{path.name} not in the corpus")
    code, _, err = run(capsys, "summarize", str(path), "-o", str(tmp_path / "s.nc"), "--n-boot", "0")
    assert_one_line_error(code, err, "pass --source <path>")
    assert "source=" not in err


def test_only_keywords_the_command_line_takes_a_value_for_are_renamed():
    from neurolearn.cli import build_parser, in_option_words

    parser = build_parser()
    assert in_option_words("pass subject=<id>; (heldout=)", parser) == "pass --subject <id>; (--heldout)"
    # no command-line option (se_floor), a flag that takes no value (--tracked), another name's tail: unchanged
    for text in ("pass se_floor=<number>", "tracked=<table>", "pass out.source=<path>"):
        assert in_option_words(text, parser) == text
