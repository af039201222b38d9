"""Statistics measured the way a model predicts them: an observable measured in more than one way (held-out
generalisation error by a readout of the representation, or by behaviour) is fitted only as the model declares
(:attr:`neurolearn.theory.Model.measured_as`), and a statistic is joined to a model's observable by name alone.

Behaviour is two statistics: ``behavior`` (summarize's fraction correct on the trials its held-out column does not
mark, or with ``heldout=None`` on every trial, with nothing said of which stimuli were trained on) and
``heldout_behavior`` (on the trials that column marks: stimuli never trained on). A model that predicts
performance on new stimuli (``kernel-learning-curve``) predicts ``heldout_behavior``; statistics holding only
``behavior`` are not read as it, whatever their trials were, because nothing in them declares that every trial
was of a new stimulus. :func:`stand_in_hint` says how to measure it instead."""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn.errors import FitError, FitWarning

__all__ = ["check_measured_as", "stand_in_hint", "STAND_INS"]

#: A model observable -> the statistic that sits near it in a summary but is another quantity, and how to measure
#: the observable. Joined by name only: the neighbour is never fitted in its place.
STAND_INS = {
    "heldout_behavior": (
        "behavior",
        "summarize's behavior is the training stimuli's where a held-out column is declared, and with "
        "heldout=None every trial's with nothing said of which stimuli were new; summarize with heldout= naming "
        "the trial column that marks trials of stimuli not trained on (True on every trial where every stimulus is "
        "new, as the simulator's 'heldout' by default), whose heldout_behavior the model predicts"),
}


def stand_in_hint(names, model) -> str:
    """``"; <how to measure it>"`` for each observable of ``model`` that ``names`` lack while holding its neighbour.

    Parameters
    ----------
    names : iterable of str
        The statistics' per-session variable names.
    model : neurolearn.theory.Model

    Returns
    -------
    str
        ``""`` where no :data:`STAND_INS` observable of the model is missing beside its neighbour; else the hint,
        to append to a refusal or warning.

    Examples
    --------
    >>> from neurolearn.theory import get_model
    >>> stand_in_hint(["behavior", "task_alignment"], get_model("kernel-learning-curve"))[:78]
    '; the model predicts heldout_behavior, not behavior (which it does not fit): s'
    >>> stand_in_hint(["behavior", "heldout_behavior"], get_model("kernel-learning-curve"))
    ''
    >>> stand_in_hint(["behavior"], get_model("lazy-rich"))
    ''
    """
    names = {str(n) for n in names}
    hints = [f"; the model predicts {observable}, not {neighbour} (which it does not fit): {how}"
             for observable, (neighbour, how) in STAND_INS.items()
             if observable in model.observables and observable not in names and neighbour in names
             and neighbour not in model.observables]
    return "".join(hints)


def check_measured_as(stats, model, chosen) -> None:
    """Refuse statistics that measure a fitted observable otherwise than ``model`` predicts it.

    Each ``(observable, attr, value, how)`` of ``model.measured_as`` whose observable is among ``chosen`` is
    checked against ``stats.attrs[attr]``; statistics without that attr (built by hand) are taken as declared.
    Where the statistics hold a :data:`STAND_INS` neighbour (with a finite value) of an observable of the model
    that they lack, the fit goes on without it and a :class:`~neurolearn.fitting.problem.FitWarning` says how to
    measure the observable (:func:`stand_in_hint`).

    Raises
    ------
    FitError
        ``stats.attrs[attr]`` names another way of measuring the observable; the message says which the model
        predicts and ``how`` to measure it.

    Examples
    --------
    >>> import xarray as xr
    >>> from neurolearn.theory import get_model
    >>> stats = xr.Dataset(attrs={"generalization_method": "readout"})
    >>> check_measured_as(stats, get_model("kernel-learning-curve"), ["generalization_error"])
    >>> try:
    ...     check_measured_as(stats, get_model("grokking"), ["generalization_error", "behavior"])
    ... except FitError as error:
    ...     print(str(error)[:99])
    fit of model 'grokking': expected generalization_error measured as generalization_method='behavior'
    """
    for observable, attr, value, how in getattr(model, "measured_as", ()):
        if observable not in chosen or attr not in stats.attrs:
            continue
        found = str(stats.attrs[attr])
        if found != value:
            raise FitError(
                f"fit of model {model.name!r}: expected {observable} measured as {attr}={value!r} (what the model "
                f"predicts), found statistics with {attr}={found!r}, another quantity; summarize with {how}, or fit "
                f"without it (observables= the others)")
    present = [str(name) for name, da in stats.data_vars.items()
               if np.issubdtype(da.dtype, np.number) and np.isfinite(np.asarray(da.values, dtype=float)).any()]
    hint = stand_in_hint(present + [str(name) for name in stats.data_vars if str(name) in chosen], model)
    if hint:
        warnings.warn(f"fit of model {model.name!r}: fitted {list(chosen)} only{hint}", FitWarning, stacklevel=4)
