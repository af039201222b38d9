"""Examples that flip from wrong to right between sessions."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.estimate import agresti_coull_se, bootstrap_interval, estimate_dataset
from neurolearn.stats.readout.intervals import _cv_interval
from neurolearn.stats.readout.trials import add_replicates

__all__ = ["flip_fraction"]


def flip_fraction(
    distances_before: xr.DataArray,
    distances_after: xr.DataArray,
    *,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
) -> xr.Dataset:
    """Fraction of examples that flip from wrong (distance ≤ 0) to right (> 0) between two sessions.

    Examples are matched by the ``condition`` coord (inner join). Also reported: ``flip_fraction_reverse``,
    the fraction that flip from right to wrong, and ``n_examples``.

    Notes
    -----
    Bias handling: none. The SE resamples examples (conditions) with replacement, treating them as a sample
    of stimuli (at least the Agresti-Coull binomial SE, so that it is not 0 when nothing flips); the interval
    is normal, clipped to [0, 1]. The trial noise in each distance is not propagated.

    Examples
    --------
    >>> import xarray as xr
    >>> before = xr.DataArray([-1.0, -0.5, 0.3, 0.2], dims="condition", coords={"condition": [0, 1, 2, 3]})
    >>> after = xr.DataArray([0.5, -0.1, 0.4, -0.2], dims="condition", coords={"condition": [0, 1, 2, 3]})
    >>> ds = flip_fraction(before, after, n_boot=0)
    >>> float(ds["flip_fraction"]), float(ds["flip_fraction_reverse"])
    (0.25, 0.25)
    """
    for name, d in (("distances_before", distances_before), ("distances_after", distances_after)):
        if not isinstance(d, xr.DataArray) or d.dims != ("condition",):
            found = d.dims if isinstance(d, xr.DataArray) else type(d).__name__
            raise DataError(f"{name}: expected a DataArray with dim ('condition',), found {found}")
    before, after = xr.align(distances_before, distances_after, join="inner")
    if before.size == 0:
        raise DataError("flip_fraction: expected shared condition values between the sessions, found none")
    b, a = np.asarray(before.values, float), np.asarray(after.values, float)
    if not (np.isfinite(b).all() and np.isfinite(a).all()):
        raise DataError("flip_fraction: expected finite distances, found NaN/inf")
    to_right = (b <= 0) & (a > 0)
    to_wrong = (b > 0) & (a <= 0)
    value = to_right.mean()
    se, ci, replicates = np.nan, (np.nan, np.nan), None
    if n_boot > 0:
        rng = np.random.default_rng(random_state)
        draws = rng.integers(0, b.size, size=(n_boot, b.size))
        replicates = to_right[draws].mean(axis=1)
        boot_se, _ = bootstrap_interval(value, replicates, level)
        se, ci = _cv_interval(value, max(boot_se, agresti_coull_se(to_right.sum(), b.size)), np.array([]),
                              level, bounds=(0.0, 1.0))
    ds = estimate_dataset(
        "flip_fraction", value, se, ci, level=level, estimator="sign change of signed distances, wrong->right",
        bias_correction="none; SE from resampling examples", n_boot=n_boot,
    )
    ds["flip_fraction_reverse"] = ((), float(to_wrong.mean()))
    ds["n_examples"] = ((), int(b.size))
    if replicates is not None:
        add_replicates(ds, "flip_fraction", value, replicates, se)
    return ds
