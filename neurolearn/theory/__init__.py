"""Reduced theory models of learning, declared as data and collected in the registry :data:`MODELS`.

Each model maps training time and parameters to the statistics that :func:`neurolearn.summarize` computes
from recordings (same names), so :func:`~neurolearn.fitting.fit` can match them.

Examples
--------
>>> import neurolearn as nl
>>> sorted(nl.theory.MODELS)
['capacity', 'deep-linear', 'grokking', 'integrator', 'kernel-learning-curve', 'lazy-rich', 'learning-rule', 'overtraining', 'silent-alignment', 'transfer']
"""

from __future__ import annotations

from neurolearn.errors import FitError
from neurolearn.theory.base import Model, Parameter
from neurolearn.theory.capacity import MODEL as CAPACITY
from neurolearn.theory.deep_linear import DEEP_LINEAR
from neurolearn.theory.grokking import MODEL as GROKKING
from neurolearn.theory.integrator import MODEL as INTEGRATOR
from neurolearn.theory.lazy_rich import LAZY_RICH
from neurolearn.theory.learning_rule import LEARNING_RULE
from neurolearn.theory.learning_curve import KERNEL_LEARNING_CURVE
from neurolearn.theory.overtraining import MODEL as OVERTRAINING
from neurolearn.theory.silent_alignment import SILENT_ALIGNMENT
from neurolearn.theory.transfer import TRANSFER

__all__ = ["MODELS", "Model", "Parameter", "get_model"]

#: name -> :class:`Model`: every registered reduced model, written out (a new model is one line here)
MODELS: dict[str, Model] = {model.name: model for model in (
    LAZY_RICH,
    SILENT_ALIGNMENT,
    GROKKING,
    OVERTRAINING,
    INTEGRATOR,
    KERNEL_LEARNING_CURVE,
    CAPACITY,
    TRANSFER,
    LEARNING_RULE,
    DEEP_LINEAR,
)}


def get_model(name_or_model) -> Model:
    """The registered model called ``name_or_model`` (or the model itself); :class:`FitError` if unknown."""
    if isinstance(name_or_model, Model):
        return name_or_model
    if name_or_model not in MODELS:
        raise FitError(f"unknown model {name_or_model!r}; available models: {sorted(MODELS)}")
    return MODELS[name_or_model]
