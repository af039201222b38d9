"""The Wilson interval of stats.estimate at and near the boundary."""

from __future__ import annotations

import pytest

from neurolearn.stats.estimate import wilson_interval


@pytest.mark.parametrize("k, n", [(16, 16), (0, 16), (80, 80), (1, 7), (999, 1000)])
def test_wilson_interval_contains_the_proportion_and_closes_exactly_at_the_boundary(k, n):
    lower, upper = wilson_interval(k, n)
    assert 0.0 <= lower <= k / n <= upper <= 1.0
    if k == n:
        assert upper == 1.0  # exactly: centre + half is 1 in exact arithmetic, an ulp short in floating point
    if k == 0:
        assert lower == 0.0


def test_wilson_interval_matches_its_closed_form():
    # 12 of 16, z = 1.959964: centre (p + z^2/2n)/(1 + z^2/n), half z sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n)
    z, n, p = 1.959963984540054, 16, 0.75
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    assert wilson_interval(12, 16) == pytest.approx((centre - half, centre + half), rel=1e-12)
