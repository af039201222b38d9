"""condition_statistics' in-memory sums a block of conditions at a time (neurolearn.stats.kernels
_indicator_sums) against per-condition numpy sums, for shuffled, grouped, unequal and non-float trials."""

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats import kernels
from neurolearn.stats.kernels import condition_statistics


@pytest.mark.parametrize("block_bytes", [1, 4096, 16 * 2**20])
@pytest.mark.parametrize("case", range(12))
def test_block_sums_equal_per_condition_sums(monkeypatch, block_bytes, case):
    monkeypatch.setattr(kernels, "_SUM_BYTES", block_bytes)
    rng = np.random.default_rng(case)
    n_cond, n = int(rng.integers(1, 20)), int(rng.integers(1, 40))
    counts = rng.integers(2, 6, n_cond) if case % 2 else np.full(n_cond, int(rng.integers(2, 5)))
    codes = np.repeat(np.arange(n_cond), counts)
    if case % 3:
        codes = rng.permutation(codes)
    dtype = (np.float64, np.float32, np.int64)[case % 3]
    data = (5 * rng.standard_normal((codes.size, n))).astype(dtype)
    if case % 4 == 0:
        data = np.asfortranarray(data)
    original = data.copy()
    rec = xr.DataArray(data, dims=("trial", "neuron"), coords={"stimulus": ("trial", codes)})
    stats = condition_statistics(rec, "stimulus")
    values = data.astype(float)
    for k in range(n_cond):
        trials = values[codes == k]
        np.testing.assert_allclose(stats.means[k], trials.mean(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(stats.sem2[k], trials.var(axis=0, ddof=1) / trials.shape[0], rtol=1e-9,
                                   atol=1e-12)
    np.testing.assert_array_equal(data, original)  # the recording is not squared in place
    # the population sums behind shared_noise_ratio: each trial's sum over neurons
    sums, _, _, population = kernels._indicator_sums(codes, n_cond, data)
    np.testing.assert_allclose(population, values.sum(axis=1), rtol=1e-12, atol=1e-12)


def test_non_finite_responses_are_counted(monkeypatch):
    monkeypatch.setattr(kernels, "_SUM_BYTES", 64)
    data = np.ones((6, 3))
    data[4, 1] = np.nan
    data[1, 2] = np.inf
    rec = xr.DataArray(data, dims=("trial", "neuron"), coords={"stimulus": ("trial", [0, 1, 2, 0, 1, 2])})
    with pytest.raises(DataError, match="found 2 NaN/inf values"):
        condition_statistics(rec, "stimulus")
