"""Statistics (NetCDF) and fits (JSON) files: round trips that keep values, coords and attributes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurolearn.fit_records import FitRecord, fit_record
from neurolearn.files import read_fits, read_statistics, write_fits, write_statistics
from tests.test_cli import make_stats


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


@pytest.fixture(scope="module")
def fit_result():
    from neurolearn.fitting import fit, simulate_statistics
    from tests.fitting.conftest import approach_model

    model = approach_model()
    stats = simulate_statistics(model, {}, n_sessions=10, se=0.03, time_scale=0.4, random_state=2)
    return fit(stats, model, interval="profile", random_state=0)


#: what the report, the CLI and the figures read of a fit, from memory or from a file alike
READ = ["label", "model_name", "params", "ci", "se", "identifiable", "fixed", "aic", "bic", "chi2", "chi2_pvalue",
        "log_likelihood", "n_obs", "n_params", "dispersion", "success", "message", "observables",
        "missing_observables", "interval", "level", "weighting"]


def test_a_fit_read_back_from_json_has_the_fit_results_attributes(fit_result, tmp_path):
    (back,) = read_fits(write_fits([fit_result], tmp_path / "fit.json"))
    assert isinstance(back, FitRecord) and back.result is None
    in_memory = fit_record(fit_result)
    assert in_memory.result is fit_result and fit_record(in_memory) is in_memory
    for name in READ:
        direct = getattr(fit_result, name)
        direct = tuple(direct) if isinstance(direct, (list, tuple)) else direct
        if name == "ci":
            direct = {k: tuple(v) for k, v in direct.items()}
        # JSON keeps every finite float exactly (shortest repr), so the attributes must be equal
        np.testing.assert_equal(getattr(back, name), direct, err_msg=name)
        np.testing.assert_equal(getattr(in_memory, name), direct, err_msg=name)
    assert back.model == in_memory.model == fit_result.model.name == "approach"
    for name in fit_result.observables:
        np.testing.assert_allclose(back.predicted[name].values, fit_result.predicted[name].values, rtol=1e-12)
    assert list(back.predicted.session.values) == [str(s) for s in fit_result.predicted.session.values]
    np.testing.assert_allclose(back.predicted.training_time.values, fit_result.predicted.training_time.values)


def test_a_fit_record_is_read_only_and_writes_back_what_it_read(fit_result, tmp_path):
    path = write_fits([fit_result, fit_result], tmp_path / "fits.json")
    records = read_fits(path)
    with pytest.raises(AttributeError, match="read-only"):
        records[0].aic = 0.0
    assert records[0]["params"] == records[0].params and dict(records[0]) == fit_result.to_dict()
    again = write_fits(records, tmp_path / "again.json")
    assert json.loads(again.read_text()) == json.loads(path.read_text())


def test_a_fit_record_of_something_else_is_refused():
    from neurolearn.errors import DataError

    with pytest.raises(DataError, match="expected a FitResult or its to_dict"):
        fit_record([1, 2])


def test_writing_onto_a_directory_is_refused_naming_the_path_and_the_directory_is_kept(tmp_path):
    # reviewer F1: write_fits(results, folder) raised IsADirectoryError from pathlib, untyped
    from neurolearn.errors import DataError

    folder = tmp_path / "fits.json"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    with pytest.raises(DataError, match=rf"{folder}: expected a path to write fits \(.json\) to, found a directory"):
        write_fits([{"model": "lazy-rich"}], folder)
    with pytest.raises(DataError, match=rf"{folder}: expected a path to write statistics \(.nc\) to, found a "
                                        "directory"):
        write_statistics(make_stats(), folder)
    assert folder.is_dir() and (folder / "inside.txt").read_text() == "kept"


def test_a_path_that_cannot_be_written_is_a_typed_error_naming_it(tmp_path):
    from neurolearn.errors import DataError

    (tmp_path / "plain").write_text("a file, not a folder")
    target = tmp_path / "plain" / "fits.json"
    with pytest.raises(DataError, match=rf"{target}: cannot write fits .*plain"):
        write_fits([{"model": "lazy-rich"}], target)
    with pytest.raises(DataError, match=rf"{tmp_path / 'plain' / 'stats.nc'}: cannot write statistics .*plain"):
        write_statistics(make_stats(), tmp_path / "plain" / "stats.nc")
    assert (tmp_path / "plain").read_text() == "a file, not a folder"


@pytest.mark.parametrize("results", [5, [5], ["lazy-rich"]])
def test_fits_that_are_not_fits_are_refused(tmp_path, results):
    from neurolearn.errors import DataError

    with pytest.raises(DataError, match=r"expected FitResults or their to_dict\(\) dictionaries"):
        write_fits(results, tmp_path / "fits.json")
    assert not (tmp_path / "fits.json").exists()
