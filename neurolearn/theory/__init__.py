"""Reduced theory models of learning, declared as data and collected in the registry :data:`MODELS`.

Each model maps training time and parameters to the statistics that :func:`neurolearn.summarize` computes
from recordings (same names), so :func:`neurolearn.fit` can match them.

Examples
--------
>>> import neurolearn as nl
>>> sorted(nl.theory.MODELS)  # doctest: +SKIP
['grokking', 'integrator', 'kernel-learning-curve', 'lazy-rich', 'overtraining', 'silent-alignment']
"""

from __future__ import annotations

from neurolearn.theory.base import Model, Parameter

__all__ = ["MODELS", "Model", "Parameter", "get_model"]

#: name -> :class:`Model`. Each model module registers itself below.
MODELS: dict[str, Model] = {}


def _register(model: Model) -> Model:
    MODELS[model.name] = model
    return model


def get_model(name_or_model) -> Model:
    """The registered model called ``name_or_model`` (or the model itself); :class:`FitError` if unknown."""
    from neurolearn.errors import FitError

    if isinstance(name_or_model, Model):
        return name_or_model
    if name_or_model not in MODELS:
        raise FitError(f"unknown model {name_or_model!r}; available models: {sorted(MODELS)}")
    return MODELS[name_or_model]


# Model modules (one per model) register themselves on import.
from neurolearn.theory import grokking  # noqa: E402,F401
from neurolearn.theory import integrator  # noqa: E402,F401
from neurolearn.theory import lazy_rich  # noqa: E402,F401
from neurolearn.theory import learning_curve  # noqa: E402,F401
from neurolearn.theory import overtraining  # noqa: E402,F401
from neurolearn.theory import silent_alignment  # noqa: E402,F401
