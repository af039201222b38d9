"""Fit reduced theory models to statistics of learning: :func:`fit`, :class:`FitResult`, :func:`compare`.

The implementation lives in :mod:`neurolearn.fitting` (one idea per module); this module is the public face
that ``neurolearn.fit`` / ``neurolearn.compare`` re-export.

Examples
--------
>>> import neurolearn as nl
>>> callable(nl.fit), callable(nl.compare)
(True, True)
"""

from __future__ import annotations

import sys
import types

from neurolearn.fitting import (
    FitResult,
    FitWarning,
    compare,
    cross_validate,
    fit,
    recovery_study,
    recovery_summary,
    simulate_statistics,
)

__all__ = ["fit", "compare", "cross_validate", "FitResult", "FitWarning", "simulate_statistics", "recovery_study",
           "recovery_summary"]


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`fit`.

    ``neurolearn.fit`` is both this submodule and the public function. Importing the submodule anywhere
    (``from neurolearn.fit import compare``) makes Python bind the *module* to ``neurolearn.fit``, which would
    break ``nl.fit(stats, model)`` depending on import order; calling the module calls the function instead.
    """

    def __call__(self, *args, **kwargs):
        return fit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
