"""Joint fits over recorded areas: statistics with an ``area`` dim matched to a model's per-layer observables.

:func:`neurolearn.stats.areas.summarize_areas` gives every statistic a dim ``area`` (coord ``layer``: the model
layer each area is). A model that declares ``per_layer`` observables (``Model.per_layer``, e.g.
``"deep-linear"``) predicts them once per layer; the fit is then one problem over all areas, sharing every
parameter and the session-to-time mapping. :func:`flatten_areas` turns the pair into the one-population form
the fitter already handles: statistic ``task_alignment`` of area ``V1`` becomes ``task_alignment[V1]`` (with
its ``_se``, ``_boot`` and ``_flag``), the model's prediction of that layer the same name. Statistics the model
predicts once (``behavior``, the animal's) are taken once, from the first area that has them. Bootstrap
replicates keep their dims and ``resampling`` attr, so the joint covariance across areas and sessions is
estimated from them as for one area. :func:`neurolearn.fitting.problem.build_problem` calls it for statistics
with an ``area`` dim; fits of statistics without one are unchanged.

Examples
--------
>>> import numpy as np, xarray as xr
>>> from neurolearn.theory.deep_linear import DEEP_LINEAR
>>> stats = xr.Dataset({"task_alignment": (("area", "session"), np.full((2, 3), 0.4)),
...                     "task_alignment_se": (("area", "session"), np.full((2, 3), 0.01))},
...                    coords={"area": ["V1", "LM"], "layer": ("area", [1, 2]), "session": ["a", "b", "c"]})
>>> flat, model = flatten_areas(stats, DEEP_LINEAR)
>>> sorted(flat.data_vars), model.observables
(['task_alignment[LM]', 'task_alignment[LM]_se', 'task_alignment[V1]', 'task_alignment[V1]_se'], ('behavior', 'task_alignment[V1]', 'task_alignment[LM]', 'kernel_change[V1]', 'kernel_change[LM]'))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from neurolearn.errors import FitError

__all__ = ["AREA", "LAYER", "flatten_areas", "flat_statistics", "same_in_every_area", "area_observable", "with_layers",
           "deeper_model_hint"]

AREA, LAYER = "area", "layer"
_COMPANIONS = ("", "_se", "_boot", "_flag", "_ci", "_chance")


def area_observable(name: str, area: str) -> str:
    """The flattened name of statistic ``name`` of area ``area``.

    Examples
    --------
    >>> area_observable("task_alignment", "V1")
    'task_alignment[V1]'
    """
    return f"{name}[{area}]"


def same_in_every_area(values) -> bool:
    """Whether a statistic over ``area`` has the same value in every area that has one, and at least one session
    where two areas do: the animal's behaviour, computed from the same trials whichever area's neurons were read.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> same = xr.DataArray([[0.5, 0.9], [np.nan, 0.9]], dims=("area", "session"))
    >>> same_in_every_area(same), same_in_every_area(same * [[1.0], [2.0]])
    (True, False)
    """
    if AREA not in values.dims or values.sizes[AREA] < 2 or values.dtype.kind not in "fiu":
        return False
    data = np.moveaxis(np.asarray(values.values, dtype=float), values.dims.index(AREA), 0)
    finite = np.isfinite(data)
    if not (finite.sum(axis=0) >= 2).any():
        return False
    reference = np.nanmax(np.where(finite, data, -np.inf), axis=0)
    return bool(np.all(~finite | (data == reference)))  # bit-equal: the same computation on the same trials


def flat_statistics(stats, shared=None) -> xr.Dataset:
    """Statistics over ``area`` -> statistics over ``session`` alone, named as a joint fit names them, without
    a model: statistic ``x`` of area ``V1`` becomes ``x[V1]`` (with its ``_se``, ``_ci``, ``_flag`` ...), a
    statistic in ``shared`` stays ``x``, taken per session from the first area that has a value.

    Parameters
    ----------
    stats : xarray.Dataset
        With a dim ``area`` (:func:`neurolearn.stats.areas.summarize_areas`).
    shared : sequence of str, optional
        Statistics taken once (default: those :func:`same_in_every_area`).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> stats = xr.Dataset({"behavior": (("area", "session"), [[0.6, 0.8], [0.6, 0.8]]),
    ...                     "task_alignment": (("area", "session"), [[0.1, 0.2], [0.3, 0.4]])},
    ...                    coords={"area": ["V1", "LM"], "session": ["a", "b"]})
    >>> sorted(flat_statistics(stats).data_vars)
    ['behavior', 'task_alignment[LM]', 'task_alignment[V1]']
    """
    names = [str(a) for a in stats[AREA].values]
    stems = [str(v) for v in stats.data_vars if not any(str(v) == f"{o}{s}" for o in map(str, stats.data_vars)
                                                          for s in _COMPANIONS if s)]
    if shared is None:
        shared = [stem for stem in stems if same_in_every_area(stats[stem])]
    variables = {}
    for stem in stems:
        for suffix in _COMPANIONS:
            var = stem + suffix
            if var not in stats.data_vars:
                continue
            if AREA not in stats[var].dims:
                variables[var] = stats[var]
            elif stem in shared:
                variables[var] = _first_available(stats, stem, suffix, names)
            else:
                for area in names:
                    variables[area_observable(stem, area) + suffix] = _pick(stats[var], area)
    flat = xr.Dataset(variables, attrs=dict(stats.attrs))
    keep = {k: v for k, v in stats.coords.items() if AREA not in v.dims and k not in flat.coords}
    return flat.assign_coords(keep).drop_vars([AREA, LAYER], errors="ignore")


def with_layers(stats, areas) -> xr.Dataset:
    """``stats`` restricted to the areas of ``areas`` (name -> layer), in that order, with coord ``layer``.

    Examples
    --------
    >>> stats = xr.Dataset({"x": (("area",), [1.0, 2.0])}, coords={"area": ["V1", "LM"]})
    >>> with_layers(stats, {"LM": 2}).layer.values.tolist()
    [2]
    """
    if AREA not in stats.dims:
        raise FitError(f"fit with areas={dict(areas)}: expected statistics with dim {AREA!r} "
                       "(neurolearn.stats.areas.summarize_areas), found dims " + str(tuple(stats.dims)))
    known = [str(a) for a in stats[AREA].values]
    absent = [a for a in areas if a not in known]
    if absent:
        raise FitError(f"fit with areas={dict(areas)}: expected areas among {known}, found {absent} absent")
    bad = {k: v for k, v in areas.items() if not (isinstance(v, (int, np.integer)) and v >= 1)}
    if bad:
        raise FitError(f"fit with areas: expected layers as positive integers, found {bad}")
    out = stats.sel({AREA: list(areas)})
    return out.assign_coords({LAYER: (AREA, [int(areas[a]) for a in areas])})


def flatten_areas(stats, model) -> tuple[xr.Dataset, object]:
    """Statistics over ``area`` and a per-layer model -> statistics over ``session`` alone and the model
    predicting their flattened names.

    Raises
    ------
    FitError
        The model predicts nothing per layer, the statistics lack the coord ``layer`` on ``area``, or a
        layer outside ``1 .. model.n_layers``.
    """
    if not model.per_layer:
        raise FitError(f"fit of model {model.name!r}: statistics have dim {AREA!r} but the model predicts one "
                       f"population; select one area (stats.sel(area=...)) or fit a per-layer model")
    names = [str(a) for a in stats[AREA].values]
    if LAYER not in stats.coords or stats[LAYER].dims != (AREA,):
        example = {a: i + 1 for i, a in enumerate(names)}
        raise FitError(f"fit of model {model.name!r}: expected coord {LAYER!r} on dim {AREA!r} mapping each area to "
                       f"a model layer (summarize_areas(..., layers=...) or fit(..., areas={example}) with each "
                       f"area's own layer), found coords {sorted(map(str, stats.coords))}"
                       f"{deeper_model_hint(model, len(names))}")
    layers = [int(v) for v in stats[LAYER].values]
    if any(not 1 <= layer <= model.n_layers for layer in layers):
        raise FitError(f"fit of model {model.name!r}: expected layers in 1..{model.n_layers}, found "
                       f"{dict(zip(names, layers))}{deeper_model_hint(model, max(layers))}")
    variables = {}
    shared = [o for o in model.observables if o not in model.per_layer]
    for observable in model.observables:
        if observable not in stats.data_vars:
            continue
        if observable in model.per_layer:
            for area in names:
                for suffix in _COMPANIONS:
                    if observable + suffix in stats.data_vars:
                        variables[area_observable(observable, area) + suffix] = _pick(stats[observable + suffix], area)
        else:
            for suffix in _COMPANIONS:
                if observable + suffix in stats.data_vars:
                    variables[observable + suffix] = _first_available(stats, observable, suffix, names)
    flat = xr.Dataset(variables, attrs=dict(stats.attrs))
    flat = flat.assign_coords({k: v for k, v in stats.coords.items() if AREA not in v.dims and k not in flat.coords})
    observables = tuple(shared) + tuple(area_observable(o, a) for o in model.per_layer for a in names)
    function = _layer_function(model, shared, list(zip(names, layers)))
    referenced = tuple(o for o in model.referenced if o in shared) + tuple(
        area_observable(o, a) for o in model.per_layer if o in model.referenced for a in names)
    return flat, replace(model, observables=observables, function=function, per_layer=(), n_layers=0,
                         referenced=referenced)


def deeper_model_hint(model, depth: int) -> str:
    """How to get a per-layer ``model`` with ``depth`` layers, if it has fewer ("" otherwise).

    Examples
    --------
    >>> from neurolearn.theory.deep_linear import DEEP_LINEAR
    >>> deeper_model_hint(DEEP_LINEAR, 3)
    "; model 'deep-linear' has 2 layers: for 3, fit neurolearn.theory.deep_linear.deep_linear_model(3)"
    """
    if depth <= model.n_layers:
        return ""
    factory = (f"neurolearn.theory.deep_linear.deep_linear_model({depth})" if model.name == "deep-linear"
               else f"a {depth}-layer version of it")
    return f"; model {model.name!r} has {model.n_layers} layers: for {depth}, fit {factory}"


def _pick(da, area):
    out = da.sel({AREA: area}, drop=True).drop_vars([LAYER], errors="ignore")
    out.attrs = dict(da.attrs)
    return out


def _first_available(stats, observable, suffix, names):
    """The area-independent statistic from the first area where its value is finite (per session)."""
    values = stats[observable]
    if AREA not in values.dims:  # already one value per session
        return stats[observable + suffix]
    chosen = np.argmax(np.isfinite(values.values), axis=values.dims.index(AREA))
    pick = xr.DataArray(chosen, dims=[d for d in values.dims if d != AREA])
    da = stats[observable + suffix]
    out = da.isel({AREA: pick}, drop=True) if all(d in da.dims for d in pick.dims) else da.isel({AREA: 0}, drop=True)
    out = out.drop_vars([AREA, LAYER], errors="ignore")  # which area a value came from varies by session
    out.attrs = dict(da.attrs)
    return out


def _layer_function(model, shared, areas):
    def function(time, **params):
        out = model.function(time, **params)
        flat = {name: out[name] for name in shared}
        for name in model.per_layer:
            values = np.asarray(out[name])
            for area, layer in areas:
                flat[area_observable(name, area)] = values[layer - 1]
        return flat

    return function
