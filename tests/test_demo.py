"""`neurolearn demo`: finds the data, recovers each dataset's known regime, reports every figure it made."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from neurolearn.cli import main, read_fits, read_statistics
from neurolearn.demo import EXAMPLES, find_data_dir, run_demo
from neurolearn.errors import DataError
from neurolearn.report import embedded_images

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo run once (quick settings) through the command line, as a user runs it."""
    out = tmp_path_factory.mktemp("demo") / "neurolearn-demo"
    stdout = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(stdout):
        code = main(["demo", "--quick", "--out", str(out)])
    assert code == 0, stdout.getvalue()
    return out, stdout.getvalue()


def regimes(out):
    import pandas as pd

    return pd.read_csv(out / "regimes.csv").set_index("dataset")


def test_data_folder_is_found_beside_the_package():
    assert find_data_dir() == ROOT / "data"


def test_missing_data_gives_a_clear_message(tmp_path, capsys):
    with pytest.raises(DataError, match="example data not found in .*pip install -e"):
        find_data_dir(tmp_path)
    assert main(["demo", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("neurolearn: error: example data not found")


def test_demo_recovers_the_regime_each_dataset_was_simulated_in(demo):
    out, _ = demo
    table = regimes(out)
    assert table.loc["Rich learner", "regime"] == "rich"  # simulated with gamma0 = 4
    assert table.loc["Lazy learner", "regime"] == "lazy"  # simulated with gamma0 = 0.1
    assert table.loc["Overtraining (hidden progress)", "regime"] == "hidden progress"  # logistic loss
    assert table.loc["Learning to integrate", "regime"] == "integrator learned"  # outlier eigenvalue 0.89


def test_a_squared_loss_network_keeps_less_of_its_margin_growth(demo):
    import numpy as np
    import scipy.stats

    import neurolearn as nl
    from neurolearn.stats.trend import post_saturation_trend
    from neurolearn.simulate.logistic import simulate_overtraining_sessions

    # docs/theory.md: with squared error learning stops once the residual is zero; the logistic loss keeps growing
    # the margin ~log t. Same network and settings as the bundled dataset, only the loss differs.
    out, _ = demo
    manifest = json.loads((ROOT / "data" / "examples.json").read_text())
    settings = manifest["datasets"]["overtraining"]["simulation"]
    tree, _ = simulate_overtraining_sessions(rng=1, **(settings | {"loss": "mse"}))
    slopes = []
    control = nl.summarize(tree, n_boot=100, random_state=0)
    for stats in (read_statistics(out / "overtraining_stats.nc"), control):
        start, slope, (low, high) = post_saturation_trend(stats, "margin")
        quantile = scipy.stats.t.ppf(0.975, stats.sizes["session"] - start - 2)  # the interval's t on n - 2 dof
        slopes.append((slope, (high - low) / (2 * quantile)))
    (logistic, se1), (squared, se2) = slopes
    assert (logistic - squared) / np.hypot(se1, se2) > 2


def test_printed_numbers_are_the_fitted_ones(demo):
    out, stdout = demo
    fits = read_fits(out / "rich_fits.json")
    first = fits[0]
    low, high = first["ci"]["gamma0"]
    expected = f"gamma0 = {first['params']['gamma0']:.3g} [{low:.3g}, {high:.3g}]"
    assert expected in regimes(out).loc["Rich learner", "evidence"]
    assert expected in stdout
    # the true value is inside the printed interval
    truth = json.loads((ROOT / "data" / "examples.json").read_text())["datasets"]["rich"]["truth"]["gamma0"]
    assert low <= truth <= high


def test_progress_is_shown_for_every_long_step(demo):
    _, stdout = demo
    for example in EXAMPLES:
        title = re.escape(example.title)
        assert re.search(rf"{title}: statistics with 40 bootstrap resamples \.\.\. [0-9.]+ s", stdout)
        assert re.search(rf"{re.escape(example.title)}: reading \d+ NWB sessions \.\.\. [0-9.]+ s", stdout)
    assert "figures and report ..." in stdout


def test_report_embeds_exactly_the_figures_written(demo):
    out, _ = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    written = {path.name: path.read_bytes() for path in (out / "figures").glob("*.png")}
    assert len(written) >= 4 * 3  # statistics, similarity and at least one fit per dataset
    assert embedded_images(page) == written
    for example in EXAMPLES:
        assert example.title in page
    assert "real_kernel.png" in written  # the real recording is loaded and shown


def test_outputs_are_reusable_by_the_cli(demo, tmp_path, capsys):
    out, _ = demo
    stats = read_statistics(out / "lazy_stats.nc")
    assert stats.sizes["session"] == 10 and "task_alignment_ci" in stats
    report = tmp_path / "lazy.html"
    assert main(["report", str(out / "lazy_stats.nc"), str(out / "lazy_fits.json"), "-o", str(report)]) == 0
    assert len(embedded_images(report.read_text())) >= 3


def test_a_broken_dataset_is_reported_not_invented(tmp_path):
    # a copy of the data with the integration sessions replaced by a damaged file and the others left out
    data = tmp_path / "data"
    data.mkdir()
    manifest = json.loads((ROOT / "data" / "examples.json").read_text())
    manifest["datasets"] = {k: manifest["datasets"][k] for k in ("integration",)}
    manifest.pop("real")
    (data / "examples.json").write_text(json.dumps(manifest))
    (data / "integration").mkdir()
    source = ROOT / "data" / "integration" / "day00.nwb"
    (data / "integration" / "day00.nwb").write_bytes(source.read_bytes()[:5000])  # truncated
    shutil.copy(source.with_name("day01.nwb"), data / "integration" / "day01.nwb")
    stream = io.StringIO()
    result = run_demo(tmp_path / "out", data_dir=data, quick=True, stream=stream)
    row = result.table.set_index("dataset").loc["Learning to integrate"]
    assert row["regime"] == "not determined" and row["evidence"].startswith("failed:")
    assert "day00.nwb" in row["evidence"]
    others = result.table.set_index("dataset").drop("Learning to integrate")
    assert (others["regime"] == "not determined").all()  # their folders are absent: nothing was made up
    assert "!! Learning to integrate" in stream.getvalue()
    assert (tmp_path / "out" / "report.html").is_file()


def test_the_reproduce_commands_in_the_report_run(tmp_path, monkeypatch):
    import shlex

    from neurolearn.demo import reproduce_commands

    manifest = json.loads((ROOT / "data" / "examples.json").read_text())
    manifest["datasets"] = {"integration": manifest["datasets"]["integration"]}
    script = reproduce_commands(ROOT / "data", manifest, n_boot=20).replace("\\\n", " ")
    monkeypatch.chdir(tmp_path)
    for line in filter(None, script.splitlines()):
        argv = shlex.split(line)
        assert argv[0] == "neurolearn"
        assert main(argv[1:]) == 0, line
    assert (tmp_path / "integration.html").is_file()
    # the command line reads the recorded input too, so its dynamics statistics match the simulated truth
    assert "--inputs stimulus/presentation/input" in script
    import numpy as np
    import xarray as xr

    true = manifest["datasets"]["integration"]["true_statistics"]["outlier_eigenvalue"]
    with xr.open_dataset(tmp_path / "integration_stats.nc") as stats:
        np.testing.assert_allclose(stats["outlier_eigenvalue"].values, true, atol=0.05)
