"""The protocol every NWB source kind follows: :class:`SourceKind`.

A *source* is the object of a file that :func:`~neurolearn.io.read_nwb` reads as ``(trial, neuron[, time])``:
a Units table, a RoiResponseSeries, an ElectricalSeries, any TimeSeries. Each kind is one small subclass of
:class:`SourceKind`, registered in :mod:`neurolearn.io.kinds`; the readers never switch on what a source is,
they ask its kind. A kind answers five questions:

1. **Is this group mine?** :meth:`SourceKind.claims` (for ``source=<path>`` and for the walk through the
   file: the first registered kind that claims a group gets it).
2. **Which of mine would ``source="auto"`` read?** :meth:`SourceKind.auto_candidates` over the walk's
   findings (and optionally :meth:`SourceKind.quick_auto`, a path found without walking the file).
3. **What is there to read?** :meth:`SourceKind.plan` fills the :class:`~neurolearn.io.plan.Plan`: neuron
   ids and coords, units, and whatever the kind needs to read a block later (sample positions, spike rows),
   all small picklable values, because dask tasks carry the plan to other processes.
4. **Read a block.** :meth:`SourceKind.read_block` -> ``(trials, neurons[, bins])`` from an open handle;
   :meth:`SourceKind.read_eager` and :meth:`SourceKind.check_lazy` are the whole-array read and the check
   made before a lazy one (defaults: one block; nothing); :meth:`SourceKind.dtype` the lazy array's dtype.
5. **Say what it is.** :meth:`SourceKind.describe` / :meth:`SourceKind.format_entry` for ``neurolearn info``.

A plan stores only the kind's :attr:`SourceKind.name` (``Plan.kind``), so plans stay picklable; tasks look the
kind up by name in the registry of the process they run in.
"""

from __future__ import annotations

import numpy as np

from neurolearn.io.nwbfile import Candidate, Inventory, neurodata_type

__all__ = ["SourceKind", "Candidate", "Inventory", "distinct_paths"]


class SourceKind:
    """Base class of the source kinds; subclass it and register an instance (:mod:`neurolearn.io.kinds`).

    Attributes
    ----------
    name : str
        Unique registry key, stored in ``Plan.kind``.
    neurodata_types : tuple of str
        The NWB types this kind reads (documentation, and what the default :meth:`claims` accepts).
    what : str
        The kind's objects in a message, singular and plural: ``("an ElectricalSeries", "ElectricalSeries")``.
    structure : str
        What a ``source=`` path must be for this kind to read it, in a refusal ("a Units table",
        "a TimeSeries").
    auto : bool
        Whether ``source="auto"`` considers this kind (False: explicit ``source=<path>`` only).
    describe_key, describe_heading : str
        Key of this kind's list in :func:`~neurolearn.io.describe_file` and its heading in ``neurolearn
        info`` (defaults: the name, and "<name> sources").

    Examples
    --------
    >>> from neurolearn.io.kinds import source_kind
    >>> kind = source_kind("electrical")
    >>> kind.neurodata_types, kind.auto
    (('ElectricalSeries',), True)
    """

    name: str = ""
    neurodata_types: tuple[str, ...] = ()
    what: tuple[str, str] = ("a source", "sources")
    structure: str = "a TimeSeries"
    auto: bool = True
    describe_key: str = ""
    describe_heading: str = ""

    # --- finding ------------------------------------------------------------------------------------------

    def claims(self, group) -> bool:
        """Whether this kind reads ``group`` (an :class:`h5py.Group`, or None). Default: its neurodata_type
        is one of :attr:`neurodata_types`."""
        return group is not None and neurodata_type(group) in self.neurodata_types

    def quick_auto(self, handle) -> str:
        """A path ``source="auto"`` reads without walking the file ('' if none; the default)."""
        return ""

    def auto_candidates(self, found: Inventory) -> tuple[list[str], str]:
        """``(paths, what)``: the paths of this kind ``source="auto"`` would read, from the walk's findings.

        No path: the next kind is asked. One: it is read. Several: ``source="auto"`` is ambiguous and refused
        with ``"found several <what>: <paths>; pass source=<one of them>"``. Default: every distinct object
        this kind claimed. A kind with preferences returns its best tier only (DfOverF before Fluorescence).
        """
        return distinct_paths(found.candidates(self.name)), self.what[1]

    # --- planning and reading ---------------------------------------------------------------------------

    def plan(self, handle, group, plan) -> None:
        """Fill ``plan`` (neuron_ids, neuron_coords, units and what reading needs) for source ``group``;
        refuse with :class:`~neurolearn.errors.NWBError` what cannot be read."""
        raise NotImplementedError(f"source kind {self.name!r} does not implement plan()")

    def read_block(self, handle, plan, trials: slice, neurons: slice) -> np.ndarray:
        """Values of a block of trials x neurons: ``(trial, neuron)``, or ``(trial, neuron, bin)`` when
        ``plan.binned``."""
        raise NotImplementedError(f"source kind {self.name!r} does not implement read_block()")

    def read_eager(self, handle, plan) -> np.ndarray:
        """The whole array, read now (``chunks=None``), with any extent check. Default: one block."""
        return self.read_block(handle, plan, slice(None), slice(None))

    def check_lazy(self, handle, plan) -> None:
        """Checks made before a lazy (``chunks=``) array is returned, reading as little as possible.
        Default: none (the plan's own checks suffice)."""

    def dtype(self, plan) -> np.dtype:
        """dtype of the values :meth:`read_block` returns. Default: float64."""
        return np.dtype(float)

    # --- describing ---------------------------------------------------------------------------------------

    def describe(self, handle, candidate: Candidate) -> dict:
        """One entry of ``describe_file()[describe_key]``. Default: path, type and data shape."""
        return {"path": candidate.path, "type": candidate.neurodata_type or "TimeSeries",
                "shape": list(candidate.shape)}

    def format_entry(self, entry: dict) -> str:
        """One line of ``neurolearn info`` for a :meth:`describe` entry."""
        return f"/{entry['path']}: {entry.get('type', '')} {' x '.join(map(str, entry.get('shape', [])))}"


def distinct_paths(candidates) -> list[str]:
    """Paths of distinct objects: of two paths to one HDF5 object (a link), the direct one is kept.

    Examples
    --------
    >>> distinct_paths([Candidate("a/link", identity=1, linked=True), Candidate("b/x", identity=1),
    ...                 Candidate("c/y", identity=2)])
    ['b/x', 'c/y']
    """
    chosen: dict[int, Candidate] = {}
    for candidate in candidates:
        held = chosen.get(candidate.identity)
        if held is None or (held.linked and not candidate.linked):
            chosen[candidate.identity] = candidate
    kept = {id(c) for c in chosen.values()}
    return [c.path for c in candidates if id(c) in kept]
