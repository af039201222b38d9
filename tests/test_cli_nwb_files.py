"""The command line on NWB files written as labs write them: string outcomes, mixed subjects, areas, codings
given on the command line, a held-out column (split from tests/test_cli.py, which tests the commands' errors
and options)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.cli import read_fits, read_statistics, write_statistics
from tests.test_cli import assert_one_line_error, make_stats, needs_reader, needs_summarize, run

# small recordings written as NWB, with string outcomes, a float contrast and two subjects ------------------

N_CONDITIONS, N_TRIALS, N_NEURONS = 8, 4, 20


@pytest.fixture(scope="module")
def lab_files(tmp_path_factory):
    """Three sessions of mouse m1 and one of m2, coded as a lab writes them: outcome strings with some
    'no response' trials, a float contrast per trial, a per-session training day as a constant column."""
    from neurolearn.simulate.nwb import write_recording_nwb
    from neurolearn.simulate.recording import make_recording

    folder = tmp_path_factory.mktemp("lab")
    rng = np.random.default_rng(9)
    means = rng.standard_normal((N_CONDITIONS, N_NEURONS))
    target = np.tile([1, -1], N_CONDITIONS // 2)
    written = {}
    for number, subject in enumerate(["m1", "m1", "m1", "m2"]):
        session = f"{subject}-day{number}"
        rec = make_recording(means * (1 + number), n_trials=N_TRIALS, noise_sd=0.5, target=target,
                             behavior=0.6 + 0.1 * number, session_id=session,
                             session_start_time=f"2026-01-0{number + 1}T09:00:00", rng=rng)
        n = rec.sizes["trial"]
        outcome = np.where(rec.correct.values, "correct", "incorrect").astype(object)
        outcome[rng.random(n) < 0.2] = "no response"
        rec = rec.assign_coords(outcome=("trial", outcome), contrast=("trial", rng.choice([0.1, 0.5, 1.0], n)),
                                training_day=("trial", np.full(n, 3.0 * number)))
        rec = rec.drop_vars("correct").assign_attrs(subject_id=subject, window=(0.0, 1.0))
        write_recording_nwb(rec, folder / f"sub-{subject}_ses-{number}.nwb", kind="ophys", rng=number,
                            frame_rate=10.0)
        written[session] = rec
    return folder, written


def expected_behavior(rec, where=lambda rec: np.ones(rec.sizes["trial"], bool)):
    """Fraction correct among the trials coded correct/incorrect ('no response' left out)."""
    keep = where(rec) & (rec.outcome.values != "no response")
    return float(np.mean(rec.outcome.values[keep] == "correct"))


@needs_reader
@needs_summarize
def test_the_your_own_data_path_without_python(capsys, lab_files, tmp_path):
    folder, written = lab_files
    times = tmp_path / "times.json"
    times.write_text(json.dumps({f"m1-day{i}": 10.0 * i for i in range(3)}))
    out = tmp_path / "m1.nc"
    code, stdout, err = run(
        capsys, "summarize", str(folder / "*.nwb"), "-o", str(out), "--subject", "m1", "--tracked",
        "--behavior", "outcome:correct=1,incorrect=0", "--where", "contrast > 0.2", "--training-time",
        str(times), "--n-boot", "0", "--no-readout", "--nan-policy", "omit")
    assert code == 0, err
    assert "Traceback" not in err and "reading 4 file(s)" in err  # m2's file is opened for its subject only
    assert "summarizing 3 session(s)" in err and "done in" in err  # progress on stderr
    stats = read_statistics(out)
    assert list(stats.session.values) == ["m1-day0", "m1-day1", "m1-day2"]
    np.testing.assert_array_equal(stats.training_time.values, [0.0, 10.0, 20.0])  # exactly as given
    for session in stats.session.values:
        # a fraction of whole trials: the value is k/n, exact up to one rounding
        assert float(stats.behavior.sel(session=session)) == pytest.approx(
            expected_behavior(written[session], lambda rec: rec.contrast.values > 0.2), abs=1e-12)


@needs_reader
@needs_summarize
def test_training_time_from_a_trial_column_and_mixed_subjects_refused(capsys, lab_files, tmp_path):
    folder, written = lab_files
    out = tmp_path / "m1.nc"
    code, _, err = run(capsys, "summarize", str(folder / "*m1*.nwb"), "-o", str(out), "--training-time",
                       "training_day", "--behavior", "outcome:correct=1,incorrect=0", "--n-boot", "0",
                       "--no-readout", "--no-progress")
    assert code == 0, err
    assert "summarizing" not in err  # --no-progress
    np.testing.assert_array_equal(read_statistics(out).training_time.values, [0.0, 3.0, 6.0])
    code, _, err = run(capsys, "summarize", str(folder / "*m1*.nwb"), "-o", str(out), "--training-time",
                       "contrast", "--no-progress")
    assert_one_line_error(code, err, "--training-time contrast: expected one value per session")
    code, _, err = run(capsys, "summarize", str(folder / "*.nwb"), "-o", str(out), "--no-progress",
                       "--behavior", "outcome:correct=1,incorrect=0", "--n-boot", "0")
    assert_one_line_error(code, err, "m1", "m2")  # one trajectory per animal: the subjects are named


@needs_reader
def test_plain_behavior_column_of_strings_is_refused_with_the_way_out(capsys, lab_files, tmp_path):
    folder, _ = lab_files
    code, _, err = run(capsys, "summarize", str(folder / "*m1*.nwb"), "-o", str(tmp_path / "s.nc"),
                       "--behavior", "outcome", "--n-boot", "0", "--no-readout", "--no-progress")
    assert code == 2 and "Traceback" not in err and "outcome" in err.strip().splitlines()[-1]


@needs_reader
def test_a_named_column_no_session_has_fails_before_summarizing(capsys, monkeypatch, lab_files, tmp_path):
    folder, _ = lab_files
    monkeypatch.setattr(nl.stats, "summarize", lambda *a, **k: pytest.fail("summarized with a typo'd column"))
    for option, value in (("--behavior", "outcom:correct=1,incorrect=0"), ("--by", "stimulis"),
                          ("--target", "sid:left=1,right=-1")):
        code, _, err = run(capsys, "summarize", str(folder / "*m1*.nwb"), "-o", str(tmp_path / "s.nc"), option,
                           value, "--no-progress")
        column = value.split(":")[0]
        assert_one_line_error(code, err, f"{option} {column}: expected a trial column of that name, found none",
                              "'outcome'")


@pytest.fixture(scope="module")
def area_files(tmp_path_factory):
    """Four sessions of a two-layer deep linear network, its layers recorded as areas V1 and LM (Units
    column 'location'), as spike counts."""
    from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
    from neurolearn.simulate.nwb import rates_to_counts, write_recording_nwb

    folder = tmp_path_factory.mktemp("areas")
    tree, _ = simulate_deep_linear_sessions(1.0, n_sessions=4, n_neurons=30, n_hidden=200, n_conditions=8,
                                            input_dim=4, n_trials=6, rng=0)
    for number, (key, node) in enumerate(tree.children.items()):
        counts = rates_to_counts(10.0 * np.clip(node["responses"] + 3.0, 0, None), rng=number)
        write_recording_nwb(counts.assign_attrs(session_id=key), folder / f"{key}.nwb", kind="units", rng=number)
    return folder


def test_summarize_by_area_then_fit_areas_then_report(capsys, area_files, tmp_path):
    # reviewer F13: the command line had no way to statistics per area, nor to fit or report them
    stats_path, fits_path, report = tmp_path / "areas.nc", tmp_path / "areas.json", tmp_path / "areas.html"
    code, out, err = run(capsys, "summarize", str(area_files / "*.nwb"), "--by-area", "--no-readout", "--no-dynamics",
                         "--n-boot", "20", "--timeout", "0", "--no-progress", "-o", str(stats_path))
    assert code == 0, err
    stats = read_statistics(stats_path)
    assert stats["task_alignment"].dims == ("area", "session") and stats.area.values.tolist() == ["V1", "LM"]
    assert "2 areas (V1, LM)" in out
    from neurolearn.stats.areas import summarize_areas
    with pytest.warns(UserWarning, match="does not decide the order"):  # one start time: file-name order, as the CLI
        tree = nl.read_sessions(sorted(str(p) for p in area_files.glob("*.nwb")))
    expected = summarize_areas(tree, n_boot=20, random_state=0, readout=False, dynamics=False)
    np.testing.assert_allclose(stats["task_alignment"].values, expected["task_alignment"].values, rtol=1e-12)
    # a per-layer model needs each area's layer, and says how to give it
    code, _, err = run(capsys, "fit", str(stats_path), "-m", "deep-linear", "-o", str(fits_path))
    assert_one_line_error(code, err, "--areas", "V1", "LM")
    code, _, err = run(capsys, "fit", str(stats_path), "-m", "lazy-rich", "-o", str(fits_path))
    assert_one_line_error(code, err, "predicts one population", "--areas NAME")
    code, _, err = run(capsys, "fit", str(stats_path), "-m", "deep-linear", "--areas", "V1=1,AM=2",
                       "-o", str(fits_path))
    assert_one_line_error(code, err, "AM", "['V1', 'LM']")
    assert not fits_path.exists()
    code, out, err = run(capsys, "fit", str(stats_path), "-m", "deep-linear", "--areas", "V1=1,LM=2",
                         "--fix", "onset=0", "--fix", "d_eff=4", "--fix", "time_scale=0.15", "--no-progress",
                         "-o", str(fits_path))
    assert code in (0, 1), err
    (fit,) = read_fits(fits_path)
    assert fit["model"] == "deep-linear"
    assert {"task_alignment[V1]", "task_alignment[LM]", "behavior"} <= set(fit["observables"])
    code, _, err = run(capsys, "report", str(stats_path), str(fits_path), "-o", str(report), "--no-progress")
    assert code == 0, err
    page = report.read_text()
    from neurolearn.report import embedded_images
    figures = set(embedded_images(page))
    assert {"areas_statistics.png", "areas_kernel_similarity_v1.png", "areas_kernel_similarity_lm.png"} <= figures
    assert any(name.startswith("areas_fit_deep-linear") for name in figures), figures
    assert "Statistics per session in area LM" in page


def test_fit_areas_deeper_than_the_registered_model_fits_a_deeper_one(capsys, tmp_path):
    # three areas as layers 1-3: the registered deep-linear has two, the command fits deep_linear_model(3)
    n = 8
    values = np.linspace(0.4, 0.6, n)
    stats = xr.Dataset(
        {"task_alignment": (("area", "session"), np.stack([values, values * 1.1, values * 1.2])),
         "task_alignment_se": (("area", "session"), np.full((3, n), 0.02))},
        coords={"area": ["V1", "LM", "AL"], "session": [f"day{i}" for i in range(n)],
                "session_index": ("session", np.arange(n))})
    write_statistics(stats, tmp_path / "s.nc")
    code, out, err = run(capsys, "fit", str(tmp_path / "s.nc"), "-m", "deep-linear", "--areas", "V1,LM,AL",
                         "--observables", "task_alignment", "--fix", "onset=0", "--fix", "d_eff=4",
                         "--fix", "time_scale=0.15", "--no-progress", "-o", str(tmp_path / "f.json"))
    assert code in (0, 1), err
    assert "3 layers" in out
    (fit,) = read_fits(tmp_path / "f.json")  # --observables task_alignment: the statistic of every area fitted
    assert fit["observables"] == ["task_alignment[V1]", "task_alignment[LM]", "task_alignment[AL]"]
    code, _, err = run(capsys, "fit", str(tmp_path / "s.nc"), "-m", "deep-linear", "--areas", "V1=1,LM=2",
                       "--fix", "onset=0", "--fix", "d_eff=4", "--fix", "time_scale=0.15", "--no-progress",
                       "-o", str(tmp_path / "g.json"))
    assert code in (0, 1), err  # a subset of the areas is fitted as asked
    code, _, err = run(capsys, "fit", str(tmp_path / "s.nc"), "-m", "lazy-rich", "--areas", "V1=1,LM=2",
                       "-o", str(tmp_path / "h.json"))
    assert_one_line_error(code, err, "one population", "one area")
    # one area for a one-population model: its statistics alone
    code, _, err = run(capsys, "fit", str(tmp_path / "s.nc"), "-m", "lazy-rich", "--areas", "LM",
                       "--observables", "task_alignment", "--fix", "chance=0.5", "--fix", "onset=0",
                       "--no-progress", "-o", str(tmp_path / "h.json"))
    assert code in (0, 1), err
    (fit,) = read_fits(tmp_path / "h.json")
    assert fit["observables"] == ["task_alignment"] and fit["n_obs"] == n
    write_statistics(make_stats(), tmp_path / "plain.nc")
    code, _, err = run(capsys, "fit", str(tmp_path / "plain.nc"), "-m", "lazy-rich", "--areas", "V1",
                       "-o", str(tmp_path / "i.json"))
    assert_one_line_error(code, err, "--areas: expected statistics per area", "found dims")


@pytest.fixture(scope="module")
def coded_files(tmp_path_factory):
    """Two sessions whose trial table codes the task as a lab may: a boolean 'go' (True where target is +1),
    a 0/1 float 'resp' with NaN for no response (equal to 'correct' elsewhere)."""
    from neurolearn.simulate.nwb import write_recording_nwb
    from neurolearn.simulate.recording import make_recording

    folder = tmp_path_factory.mktemp("coded")
    rng = np.random.default_rng(4)
    target = np.tile([1.0, -1.0], N_CONDITIONS // 2)
    for day in range(2):
        means = rng.standard_normal((N_CONDITIONS, 2 * N_NEURONS)) + np.outer(target, rng.standard_normal(2 * N_NEURONS))
        rec = make_recording(means, n_trials=N_TRIALS, noise_sd=0.5, target=target, behavior=0.7,
                             session_id=f"day{day}", session_start_time=f"2026-01-0{day + 1}T09:00:00", rng=day)
        resp = rec.correct.values.astype(float)
        resp[:3] = np.nan
        rec = rec.assign_coords(go=("trial", rec.target.values > 0), resp=("trial", resp))
        write_recording_nwb(rec.assign_attrs(window=(0.0, 1.0)), folder / f"day{day}.nwb", kind="ophys", rng=day,
                            frame_rate=10.0)
    return folder


@needs_reader
@needs_summarize
def test_command_line_codings_are_read_against_the_column_values(capsys, coded_files, tmp_path):
    """Reviewer F2: --target go:True=1,False=-1 on a boolean column kept the keys as the strings 'True' and
    'False', which code nothing. The keys are read as the column's booleans: the statistics equal those of
    the recorded target column, and --behavior resp:1=1,0=0 on 0/1 floats those of 'correct' less the NaN."""
    files = [str(coded_files / "day0.nwb"), str(coded_files / "day1.nwb")]
    common = ["--n-boot", "0", "--no-progress", "--no-dynamics", "--no-readout"]
    outs = {}
    for name, extra in (("recorded", []), ("coded", ["--target", "go:True=1,False=-1", "--behavior",
                                                     "resp:1=1,0=0"])):
        outs[name] = tmp_path / f"{name}.nc"
        code, _, err = run(capsys, "summarize", *files, "-o", str(outs[name]), *common, *extra)
        assert code == 0, err
    recorded, coded = read_statistics(outs["recorded"]), read_statistics(outs["coded"])
    np.testing.assert_allclose(coded.task_alignment.values, recorded.task_alignment.values, rtol=1e-10)
    assert np.isfinite(coded.task_alignment.values).all()
    for session in ("day0", "day1"):
        rec = nl.read_nwb(str(coded_files / f"{session}.nwb"))
        expected = float(np.mean(rec.correct.values[3:]))
        assert float(coded.behavior.sel(session=session)) == pytest.approx(expected, abs=1e-12)
    code, _, err = run(capsys, "summarize", *files, "-o", str(tmp_path / "x.nc"), *common,
                       "--target", "go:yes=1,no=-1")
    assert_one_line_error(code, err, "--target go:yes=1,no=-1: expected values of trial column 'go', found no "
                                     "trial with 'yes', 'no'", "its values (boolean): [False, True]")


@needs_reader
@needs_summarize
def test_a_command_line_coding_of_the_condition_column_keeps_the_conditions(capsys, coded_files, tmp_path):
    """--target stimulus:0=1,1=-1,... --by stimulus (reviewer F1 from the shell): each condition keeps its label."""
    files = [str(coded_files / "day0.nwb"), str(coded_files / "day1.nwb")]
    common = ["--n-boot", "0", "--no-progress", "--no-dynamics", "--no-readout"]
    coding = "stimulus:" + ",".join(f"{c}={1 if c % 2 == 0 else -1}" for c in range(N_CONDITIONS))
    outs = [tmp_path / "recorded.nc", tmp_path / "coded.nc"]
    for out, extra in zip(outs, ([], ["--target", coding, "--by", "stimulus"])):
        code, _, err = run(capsys, "summarize", *files, "-o", str(out), *common, *extra)
        assert code == 0, err
    recorded, coded = (read_statistics(out) for out in outs)
    for name in ("task_alignment", "participation_ratio"):
        assert np.isfinite(coded[name].values).all(), name
        np.testing.assert_allclose(coded[name].values, recorded[name].values, rtol=1e-10, err_msg=name)
    code, _, err = run(capsys, "summarize", *files, "-o", str(tmp_path / "x.nc"), *common, "--target", "stimulus")
    assert_one_line_error(code, err, "target='stimulus' is the condition column (by='stimulus')")


@pytest.fixture(scope="module")
def grokking_files(tmp_path_factory):
    from neurolearn.simulate.grokking import simulate_grokking_sessions
    from neurolearn.simulate.nwb import write_sessions_nwb

    tree, _ = simulate_grokking_sessions(3, n_steps=200, n_trials=2, rng=0)
    folder = tmp_path_factory.mktemp("grokking")
    return [str(p) for p in write_sessions_nwb(tree, folder, kind="ophys", rng=0)]


def test_summarize_chooses_the_heldout_column_and_the_generalization_error(capsys, tmp_path, grokking_files):
    # adversary A12: the command line had no --heldout and no --generalization, so every statistics file it wrote
    # held the readout's generalization_error of a column named 'heldout', whatever a model needed (grokking
    # predicts 1 - fraction correct on held-out trials)
    common = ("--n-boot", "20", "--no-readout", "--no-dynamics", "--no-progress", "--window", "0", "0.5")
    out = {}
    for name, extra in (("default", ()), ("behavior", ("--generalization", "behavior")),
                        ("is_train", ("--heldout", "is_train:False")), ("none", ("--heldout", "none"))):
        code, _, err = run(capsys, "summarize", *grokking_files, "-o", str(tmp_path / f"{name}.nc"), *common, *extra)
        assert code == 0, err
        out[name] = xr.open_dataset(tmp_path / f"{name}.nc")
    assert out["default"].attrs["generalization_method"] == "readout"
    assert out["behavior"].attrs["generalization_method"] == "behavior"
    # 'is_train' False is the 'heldout' column's complement in these files: the same statistic
    np.testing.assert_allclose(out["is_train"]["generalization_error"].values,
                               out["default"]["generalization_error"].values, rtol=1e-10)
    assert not np.allclose(out["behavior"]["generalization_error"].values, out["default"]["generalization_error"].values)
    assert "generalization_error" not in out["none"]
    code, _, err = run(capsys, "summarize", *grokking_files, "-o", str(tmp_path / "x.nc"), *common,
                       "--heldout", "is_train:maybe")
    assert_one_line_error(code, err, "--heldout is_train:maybe", "its values: [False, True]")
    code, _, err = run(capsys, "summarize", *grokking_files, "-o", str(tmp_path / "x.nc"), *common,
                       "--heldout", "novel")
    assert_one_line_error(code, err, "--heldout novel: expected a trial column of that name")
