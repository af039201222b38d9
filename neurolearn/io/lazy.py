"""``chunks=``: dask arrays whose tasks reopen the file by path (h5py handles are never pickled).

Each task first checks that the file is the one that was planned: its modification time and size must equal
those seen when :func:`~neurolearn.io.read_nwb` opened it. A file rewritten in place since then would
otherwise give values that do not belong to the trials, ids and windows the array is labelled with.
"""

from __future__ import annotations

import os

import numpy as np

from neurolearn.errors import NeurolearnError, NWBError
from neurolearn.io.kinds import source_kind
from neurolearn.io.remote import is_url, open_hdf5, remote_stamp

__all__ = ["LOW_LEVEL_ERRORS", "parse_chunks", "lazy_array", "file_stamp"]

# h5py/hdmf/numpy failures that mean "this file is not what we expected"; turned into NWBError naming the file
LOW_LEVEL_ERRORS = (OSError, KeyError, TypeError, AttributeError, ValueError, RuntimeError, IndexError)


def file_stamp(path: str) -> tuple[int, int]:
    """``(st_mtime_ns, st_size)`` of ``path`` (a URL: ``(ETag or Last-Modified, size)``): what a lazy block
    compares before it reads."""
    if is_url(path):
        return remote_stamp(path)
    stat = os.stat(path)
    return int(stat.st_mtime_ns), int(stat.st_size)


def parse_chunks(chunks, shape) -> tuple[int, int]:
    """Block sizes (trials, neurons) from ``chunks=``: an int for both, or a dict with "trial"/"neuron"."""
    if isinstance(chunks, bool):
        raise NWBError(
            f"expected chunks= an int or a dict like {{'trial': 100, 'neuron': 50}}, found {chunks!r}"
        )
    if isinstance(chunks, int):
        chunks = {"trial": chunks, "neuron": chunks}
    if not isinstance(chunks, dict) or set(chunks) - {"trial", "neuron", "time"}:
        raise NWBError(
            f"expected chunks= an int or a dict with keys 'trial'/'neuron', found {chunks!r}"
        )
    sizes = []
    for dim, size in zip(("trial", "neuron"), shape):
        value = chunks.get(dim, -1)
        value = size if value in (-1, None) else value
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise NWBError(f"expected chunks[{dim!r}] a positive int or -1, found {value!r}")
        sizes.append(int(min(value, max(size, 1))))
    return tuple(sizes)


def lazy_array(plan, path: str, chunk_sizes):
    """A dask array of ``plan``'s shape, one task per block of trials x neurons."""
    import dask.array as da
    from dask.base import tokenize

    shape = plan.shape
    trial_chunks = _split(shape[0], chunk_sizes[0])
    neuron_chunks = _split(shape[1], chunk_sizes[1])
    token = tokenize(path, plan.file_stamp, plan.object_path, plan.edges, plan.rates, plan.nan_policy)
    name = "read_nwb-" + token
    graph = {}
    trial_start = 0
    for i, n_trials in enumerate(trial_chunks):
        neuron_start = 0
        for j, n_neurons in enumerate(neuron_chunks):
            key = (name, i, j) + ((0,) if plan.binned else ())
            trial_block = slice(trial_start, trial_start + n_trials)
            neuron_block = slice(neuron_start, neuron_start + n_neurons)
            graph[key] = (_read_block_from_path, path, plan, trial_block, neuron_block)
            neuron_start += n_neurons
        trial_start += n_trials
    chunks = (trial_chunks, neuron_chunks) + (((shape[2],),) if plan.binned else ())
    return da.Array(graph, name, chunks, dtype=source_kind(plan.kind).dtype(plan))


def _split(size: int, chunk: int) -> tuple[int, ...]:
    full, rest = divmod(size, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def _read_block_from_path(path: str, plan, trials: slice, neurons: slice) -> np.ndarray:
    # runs inside a dask task, possibly in another process: reopen by path, never share an h5py handle
    try:
        now = file_stamp(path)
    except OSError as error:
        raise NWBError(f"{path}: the file of this lazy array cannot be found any more ({error})") from error
    if plan.file_stamp and now != tuple(plan.file_stamp):
        raise NWBError(
            f"{path}: the file changed since it was opened (modified time or size differ: "
            f"{plan.file_stamp} then, {now} now); its lazy array would mix old labels with new values. "
            "Read it again"
        )
    try:
        with open_hdf5(path) as handle:  # a URL is probed and opened again: no handle crosses processes
            return plan.read(handle, trials, neurons)
    except NeurolearnError:
        raise
    except LOW_LEVEL_ERRORS as error:
        raise NWBError(
            f"{path}: could not read {plan.object_path!r}: {type(error).__name__}: {error}"
        ) from error
