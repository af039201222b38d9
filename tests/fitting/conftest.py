"""Small theory models with closed-form truth, and statistics built from them, for the fitting tests.

These stand in for registered models so each fitting step can be checked against an answer known
independently: a straight line (weighted least squares has a closed form), a saturating approach whose time
mapping is identifiable, and a product ``a * b`` that only pins down ``a b``.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurolearn.theory import Model, Parameter


def line_model() -> Model:
    """``behavior = intercept + slope * t``: linear in its parameters, so WLS and its intervals are closed form."""
    return Model(
        "line", "straight line", "b = intercept + slope t", "",
        (Parameter("intercept", 0.0, (-10.0, 10.0), "value at t = 0"),
         Parameter("slope", 0.0, (-10.0, 10.0), "change per unit time")),
        ("behavior",),
        lambda t, intercept, slope: {"behavior": intercept + slope * t},
    )


def approach_model() -> Model:
    """Behaviour and alignment approach their asymptotes on a fixed clock, so time_scale and onset are identifiable."""

    def function(t, gain, alignment_gain):
        progress = -np.expm1(-t)
        return {"behavior": 0.5 + gain * progress, "task_alignment": 0.2 + alignment_gain * progress**2}

    return Model(
        "approach", "saturating approach on a fixed clock", "b = 0.5 + gain (1 - e^-t); A = 0.2 + g_A (1 - e^-t)^2", "",
        (Parameter("gain", 0.3, (0.0, 0.5), "behaviour gained by learning"),
         Parameter("alignment_gain", 0.4, (0.01, 0.8), "alignment gained by learning", log_scale=True)),
        ("behavior", "task_alignment"),
        function,
        time_span=4.0,
    )


def product_model() -> Model:
    """``behavior = a * b * t``: only the product is identifiable."""
    return Model(
        "product", "confounded pair", "b = a b t", "",
        (Parameter("a", 1.0, (0.1, 10.0), "first factor", log_scale=True),
         Parameter("b", 1.0, (0.1, 10.0), "second factor", log_scale=True)),
        ("behavior",),
        lambda t, a, b: {"behavior": a * b * t},
    )


def statistics(values: dict, se: dict, session_index=None) -> xr.Dataset:
    """A statistics Dataset (``name``, ``name_se``) over sessions from plain arrays."""
    n = len(next(iter(values.values())))
    index = np.arange(n) if session_index is None else np.asarray(session_index)
    data_vars = {}
    for name, v in values.items():
        data_vars[name] = ("session", np.asarray(v, dtype=float))
        data_vars[f"{name}_se"] = ("session", np.broadcast_to(np.asarray(se[name], dtype=float), (n,)).copy())
    coords = {"session": [f"day{i}" for i in range(n)], "session_index": ("session", index)}
    return xr.Dataset(data_vars, coords=coords)


CLOCK = {"time_scale": 1.0, "onset": 0.0}


@pytest.fixture
def line():
    return line_model()


@pytest.fixture
def approach():
    return approach_model()


@pytest.fixture
def product():
    return product_model()
