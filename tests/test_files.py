"""Statistics (NetCDF) and fits (JSON) files: round trips that keep values, coords and attributes."""

from __future__ import annotations

import json

import numpy as np

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
