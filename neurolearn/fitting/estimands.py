"""Statistics measured the way a model predicts them: an observable measured in more than one way (held-out
generalisation error by a readout of the representation, or by behaviour) is fitted only as the model declares
(:attr:`neurolearn.theory.Model.measured_as`)."""

from __future__ import annotations

from neurolearn.errors import FitError

__all__ = ["check_measured_as"]


def check_measured_as(stats, model, chosen) -> None:
    """Refuse statistics that measure a fitted observable otherwise than ``model`` predicts it.

    Each ``(observable, attr, value, how)`` of ``model.measured_as`` whose observable is among ``chosen`` is
    checked against ``stats.attrs[attr]``; statistics without that attr (built by hand) are taken as declared.

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
