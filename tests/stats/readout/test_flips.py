"""Flip fraction on constructed signed distances."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.readout import flip_fraction


def test_flip_fraction_on_constructed_distances_aligns_by_condition():
    before = xr.DataArray([-1.0, -0.5, 0.3, 0.2, -0.2], dims="condition", coords={"condition": list("abcde")})
    # Same examples, different order, plus one that exists only after.
    after = xr.DataArray([0.4, -0.2, 0.5, -0.1, 0.1, 9.0], dims="condition", coords={"condition": list("cdaebz")})
    ds = flip_fraction(before, after, n_boot=500, random_state=0)
    # a: -1 -> 0.5 (wrong->right), b: -0.5 -> 0.1 (wrong->right), c: 0.3 -> 0.4, d: 0.2 -> -0.2 (right->wrong),
    # e: -0.2 -> -0.1 (stays wrong)
    assert float(ds["flip_fraction"]) == pytest.approx(2 / 5)
    assert float(ds["flip_fraction_reverse"]) == pytest.approx(1 / 5)
    assert int(ds["n_examples"]) == 5
    assert float(ds["flip_fraction_se"]) == pytest.approx(np.sqrt(0.4 * 0.6 / 5), rel=0.15)
    assert float(ds["flip_fraction_boot"].std(ddof=1)) == pytest.approx(float(ds["flip_fraction_se"]), rel=1e-9)


def test_flip_fraction_refusals():
    with pytest.raises(DataError, match="shared condition values"):
        flip_fraction(xr.DataArray([1.0], dims="condition", coords={"condition": [0]}),
                      xr.DataArray([1.0], dims="condition", coords={"condition": [1]}))
    with pytest.raises(DataError, match="finite distances"):
        flip_fraction(xr.DataArray([np.nan], dims="condition", coords={"condition": [0]}),
                      xr.DataArray([1.0], dims="condition", coords={"condition": [0]}))
