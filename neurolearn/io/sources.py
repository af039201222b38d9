"""Which object of a file holds the neural data: ``source="auto"`` or a path inside the file.

Both answers come from the registry of source kinds (:mod:`neurolearn.io.kinds`): a path is read by the first
kind that claims it; ``"auto"`` asks the kinds in registry order for their candidates.
"""

from __future__ import annotations

from neurolearn.errors import NWBError
from neurolearn.io.kinds import SOURCE_KINDS, SourceKind, claiming_kind, find_sources
from neurolearn.io.nwbfile import neurodata_type

__all__ = ["resolve_source"]


def resolve_source(handle, label, source, found=None) -> tuple[str, SourceKind]:
    """``(path inside the file, its SourceKind)`` of ``source``; :class:`NWBError` listing the readable
    sources when it is absent, ambiguous or not neural data.

    ``found`` is the file's :func:`~neurolearn.io.kinds.find_sources` if the caller already walked it.
    """
    if not isinstance(source, str) or not source:
        raise NWBError(
            f"{label}: expected source='auto' or the path of an object in the file, found {source!r}"
        )
    if source != "auto":
        key = source.strip("/")
        obj = handle.get(key)
        kind = claiming_kind(obj)
        if kind is not None:
            return key, kind
        found = found or find_sources(handle)
        what = "nothing"
        if obj is not None:
            what = f"a {neurodata_type(obj) or type(obj).__name__} without data/spike times"
        structures = list(dict.fromkeys(k.structure for k in SOURCE_KINDS))
        raise NWBError(
            f"{label}: expected {source!r} to be {_either(structures)}, found {what}; "
            f"readable sources: {found.paths()}"
        )
    automatic = [kind for kind in SOURCE_KINDS if kind.auto]
    for kind in automatic:
        quick = kind.quick_auto(handle)  # the common cases (/units, one DfOverF series) need no walk
        if quick:
            return quick, kind
    found = found or find_sources(handle)
    for kind in automatic:
        paths, what = kind.auto_candidates(found)
        if len(paths) == 1:
            return paths[0], kind
        if len(paths) > 1:
            raise NWBError(f"{label}: found several {what}: {paths}; pass source=<one of them>")
    others = [f"{c.path} {list(c.shape)}" for kind in SOURCE_KINDS if not kind.auto
              for c in found.candidates(kind.name)]
    raise NWBError(
        f"{label}: expected neural data ({_either([k.what[0] for k in automatic])}), found none; "
        f"other TimeSeries: {others or 'none'}; pass source=<path> to read one of them"
    )


def _either(things: list[str]) -> str:
    """``"a, b or c"``."""
    return things[0] if len(things) == 1 else ", ".join(things[:-1]) + " or " + things[-1]
