"""Summary statistics of learning, extracted from recordings (xarray in, xarray out).

Kernel statistics (docs/theory.md §1) and their bias handling:

* :mod:`~neurolearn.stats.kernels` — condition means, plug-in / trial-unbiased / split kernels, sufficient
  statistics and bootstrap weights;
* :mod:`~neurolearn.stats.alignment` — ``task_alignment``, ``task_difficulty``;
* :mod:`~neurolearn.stats.similarity` — ``cka``, ``kernel_similarity``, ``kernel_change``, ``kernel_scale``,
  ``code_overlap``;
* :mod:`~neurolearn.stats.spectral` — eigenspectrum, cumulative target power, power law, predicted learning curve;
* :mod:`~neurolearn.stats.dimensionality` — ``participation_ratio`` (naive and bias-corrected);
* :data:`STATISTICS` — every statistic declared (estimand range, bias handling, chance, requirements, the
  reasons a value can be NaN), from :mod:`neurolearn.statistic_registry`;
* :mod:`~neurolearn.stats.summary` — ``summarize``: all of them (and readout/dynamics) per session. (The
  module is not called ``summarize``: importing a submodule sets it as a package attribute, which would
  shadow the function ``neurolearn.stats.summarize``.) ``summarize_areas``: the same per area of a session
  (a dim ``area``, from a neuron coord such as the NWB Units ``location``), from :mod:`~neurolearn.stats.areas`.

Readout and dynamics statistics live in :mod:`~neurolearn.stats.readout` and :mod:`~neurolearn.stats.dynamics`;
their public functions are re-exported here. Names resolve lazily so
``import neurolearn.stats`` stays cheap.
"""

from __future__ import annotations

import importlib

from neurolearn.statistic_registry import STATISTIC_NAMES, STATISTICS

_LAZY = {
    # kernels
    "ConditionStatistics": "kernels",
    "condition_statistics": "kernels",
    "plugin_kernel": "kernels",
    "unbiased_kernel": "kernels",
    "split_kernel": "kernels",
    "condition_kernel": "kernels",
    "neuron_bootstrap_weights": "kernels",
    "target_matrix": "kernels",
    # alignment
    "task_alignment": "alignment",
    "task_difficulty": "alignment",
    "kernel_alignment": "alignment",
    "kernel_task_difficulty": "alignment",
    # similarity
    "cka": "similarity",
    "hsic": "similarity",
    "kernel_similarity": "similarity",
    "kernel_change": "similarity",
    "kernel_scale": "similarity",
    "code_overlap": "similarity",
    # spectral
    "eigenspectrum": "spectral",
    "spectral_summary": "spectral",
    "powerlaw_exponent": "spectral",
    "predicted_learning_curve": "spectral",
    # dimensionality
    "participation_ratio": "dimensionality",
    "naive_participation_ratio": "dimensionality",
    # readout capacity (summarize computes it where statistics= names one of them)
    "manifold_capacity": "capacity",
    "mean_field_capacity": "capacity",
    # one statistic in the Dataset form
    "estimate_dataset": "estimate",
    "bootstrap_interval": "estimate",
    # everything
    "summarize": "summary",
    "summarize_areas": "areas",
    "behavior_estimate": "behavior",
}

#: families whose public names (their ``__all__``) are re-exported here, resolved on first use
_FAMILY_MODULES = ("readout", "dynamics")

__all__ = sorted([*_LAZY, "STATISTICS", "STATISTIC_NAMES"])


def _family_names() -> dict[str, str]:
    names = {}
    for module in _FAMILY_MODULES:
        loaded = importlib.import_module(f"neurolearn.stats.{module}")
        names.update({name: module for name in loaded.__all__})
    return names


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None and not name.startswith("_"):
        module = _family_names().get(name)
    if module is None:
        raise AttributeError(f"module 'neurolearn.stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neurolearn.stats.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_family_names()))
