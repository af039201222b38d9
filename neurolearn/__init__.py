"""neurolearn: link learning theory to neural recordings.

NWB recordings across learning -> labelled xarray -> summary statistics of learning (with uncertainty) ->
reduced theory models fitted to them -> figures and a report.

The public API is re-exported here lazily (nothing heavy is imported until it is used)::

    import neurolearn as nl
    rec = nl.read_nwb(path)              # one session -> xarray.DataArray
    tree = nl.read_sessions("day*.nwb")  # several sessions -> xarray.DataTree
    stats = nl.summarize(tree, target="target", by="stimulus", behavior="correct")
    res = nl.fit(stats, "lazy-rich")
    table = nl.compare([res, nl.fit(stats, "silent-alignment")])
"""

from __future__ import annotations

import importlib

from neurolearn import errors
from neurolearn.errors import DataError, FitError, InsufficientDataError, NeurolearnError, NWBError

__version__ = "0.1.0"

# public name -> module that defines it; resolved on first access (PEP 562) so `import neurolearn` stays cheap
_LAZY = {
    "read_nwb": "neurolearn.io",
    "read_sessions": "neurolearn.io",
    "summarize": "neurolearn.stats",
    "summarize_areas": "neurolearn.stats",
    "fit": "neurolearn.fitting",
    "compare": "neurolearn.fitting",
    "FitResult": "neurolearn.fitting",
    "cross_validate": "neurolearn.fitting",
    "simulate_statistics": "neurolearn.fitting",
    "recovery_study": "neurolearn.fitting",
    "recovery_summary": "neurolearn.fitting",
    "FitWarning": "neurolearn.fitting",
}
_SUBMODULES = {"io", "stats", "theory", "simulate", "fitting", "fit_records", "plot", "data", "cli", "report",
               "files", "regimes", "statistic_registry"}

__all__ = [
    "errors",
    "NeurolearnError",
    "NWBError",
    "DataError",
    "InsufficientDataError",
    "FitError",
    *sorted(_LAZY),
    *sorted(_SUBMODULES),
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"neurolearn.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'neurolearn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
