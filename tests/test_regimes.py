"""classify_regime: its stated rules, checked on fits of statistics whose regime is known by construction."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

import neurolearn as nl
from neurolearn.regimes import classify_regime


def _statistics(alignment, behavior, se_alignment=0.08, se_behavior=0.03) -> xr.Dataset:
    n = len(alignment)
    return xr.Dataset(
        {"task_alignment": ("session", np.asarray(alignment, float)),
         "task_alignment_se": ("session", np.full(n, se_alignment)),
         "behavior": ("session", np.asarray(behavior, float)),
         "behavior_se": ("session", np.full(n, se_behavior))},
        coords={"session": [f"day{i}" for i in range(n)], "session_index": ("session", np.arange(n))},
    )


def _free_and_frozen(stats):
    options = dict(observables=["task_alignment", "behavior"], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = nl.fit(stats, "lazy-rich", fixed={"chance": 0.5, "onset": 0.0}, **options)
        frozen = nl.fit(stats, "lazy-rich", fixed={"chance": 0.5, "onset": 0.0, "gamma0": 0.01},
                        label="frozen kernel", **options)
    return free, frozen


BEHAVIOUR = [0.52, 0.62, 0.74, 0.84, 0.9, 0.93]


def test_an_alignment_that_falls_is_not_called_lazy_because_a_frozen_kernel_misfits_as_badly():
    # the representation moves *away* from the task (0.99 -> 0.14, SE 0.08): no lazy-rich curve can fall, the
    # free fit misfits, and a flat frozen kernel "explaining it as well" is no evidence of a lazy network
    stats = _statistics([0.99, 0.92, 0.66, 0.5, 0.35, 0.14], BEHAVIOUR)
    free, frozen = _free_and_frozen(stats)
    assert "model misfit" in free.message
    verdict = classify_regime([free, frozen], stats)
    assert verdict["regime"] == "undetermined"
    assert "model misfits (chi2 = " in verdict["evidence"] and "no lazy-rich curve" in verdict["evidence"]


def test_a_flat_alignment_within_its_noise_is_still_lazy():
    rng = np.random.default_rng(0)
    stats = _statistics(0.6 + 0.08 * rng.standard_normal(6), BEHAVIOUR)
    free, frozen = _free_and_frozen(stats)
    assert "model misfit" not in free.message
    assert classify_regime([free, frozen], stats)["regime"] == "lazy"
