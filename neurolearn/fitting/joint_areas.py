"""``fit_areas``: :func:`neurolearn.fit` of a per-layer model to statistics of several areas, given which
layer each area is (``areas={"V1": 1, "LM": 2}``).

Examples
--------
>>> import warnings
>>> from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions
>>> from neurolearn.stats.areas import summarize_areas
>>> from neurolearn.theory.deep_linear import DEEP_LINEAR
>>> tree, truth = simulate_deep_linear_sessions(1.5, n_sessions=6, n_neurons=300, n_hidden=300, rng=0)
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     stats = summarize_areas(tree, n_boot=30, random_state=0, readout=False, dynamics=False)
...     result = fit_areas(stats, DEEP_LINEAR, {"V1": 1, "LM": 2}, interval=None, n_starts=1,
...                        fixed={"onset": 0.0, "time_scale": 0.12, "d_eff": 8.0}, se_floor=0.01)
>>> result.success, result.observables[:2]
(True, ('behavior', 'task_alignment[V1]'))
"""

from __future__ import annotations

from neurolearn.fitting.areas import with_layers
from neurolearn.fitting.least_squares import fit

__all__ = ["fit_areas"]


def fit_areas(stats, model, areas, **fit_kwargs):
    """Fit ``model`` jointly to the areas ``areas`` (name -> layer) of ``stats`` (dim ``area``).

    The same as ``nl.fit(with_layers(stats, areas), model, **fit_kwargs)``: every parameter and the
    session-to-time mapping shared by the areas, each area's statistics matched to its layer.
    """
    return fit(with_layers(stats, dict(areas)), model, **fit_kwargs)
