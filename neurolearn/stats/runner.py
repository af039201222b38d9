"""Running the per-session stages of :func:`neurolearn.summarize` on one dask scheduler.

:class:`Runner` runs ``map_sessions`` and the per-session stage of every family
(:mod:`neurolearn.stats.families`) in one graph, on the scheduler :func:`resolve_scheduler` names: threads,
processes or the workers of a ``dask.distributed`` cluster. A :class:`~neurolearn.errors.DataError` of a task
is returned, not raised, and :func:`first_failure_raised` raises the first in session order.

Out of core: a lazy (dask-backed) session is never computed whole. :meth:`Runner.place` reduces it once, chunk
by chunk where the tasks run, to its ``(trial, neuron)`` time average (in memory: the time-resolved block is
``time`` times larger), and every family but dynamics (``Family.reads_time``) gets that average: the kernel
family's condition means, the readout's decoders and scale, the generalisation readout and behaviour all
average over ``time`` first, so their numbers are those of the whole recording. Dynamics gets the lazy
recording itself and reduces it chunk-wise to its leading principal components
(:func:`neurolearn.stats.dynamics_family.dynamics_session`).

"""

from __future__ import annotations

import sys
import uuid
import warnings
from dataclasses import dataclass

from neurolearn.data import TIME
from neurolearn.errors import DataError, shown

__all__ = ["Runner", "resolve_scheduler", "first_failure_raised", "time_average"]


#: dask's local schedulers by name (the first three are the documented ones)
_LOCAL_SCHEDULERS = ("threads", "synchronous", "processes", "threading", "sync", "single-threaded",
                     "multiprocessing")
_IN_PROCESS = ("threads", "threading", "synchronous", "sync", "single-threaded")


def resolve_scheduler(scheduler):
    """A local scheduler's name, a distributed client (``"distributed"``: the active one), or a ``get``."""
    if isinstance(scheduler, str):
        if scheduler == "distributed":
            try:
                from distributed import get_client

                return get_client()
            except (ImportError, ValueError) as error:
                raise DataError("scheduler='distributed': expected an active dask.distributed client "
                                "(create one with distributed.Client(...), or pass the client itself as "
                                f"scheduler=), found none ({error})") from None
        if scheduler not in _LOCAL_SCHEDULERS:
            raise DataError(f"scheduler: expected one of {list(_LOCAL_SCHEDULERS[:3])}, 'distributed', a "
                            f"dask.distributed Client or a scheduler's get, found {shown(scheduler)}")
        return scheduler
    if callable(scheduler) or callable(getattr(scheduler, "get", None)):
        return scheduler
    raise DataError(f"scheduler: expected 'threads', 'synchronous', 'processes', 'distributed', a "
                    f"dask.distributed Client or a scheduler's get, found {shown(scheduler)}")


class Runner:
    """Every per-session stage through one dask scheduler.

    In-process schedulers warn as usual; elsewhere (processes, a cluster's workers) each task records its
    warnings and they are re-emitted here, in session order. Sessions run side by side, so BLAS threads
    inside a task are limited to one (except on the synchronous scheduler). A DataError of one task is
    returned, not raised, and the first in session order is raised here: the same error whichever worker
    finished first.
    """

    def __init__(self, scheduler, progress):
        self.scheduler, self.progress = scheduler, progress
        in_process = isinstance(scheduler, str) and scheduler in _IN_PROCESS
        self.capture = not in_process
        self.blas_threads = None if scheduler in ("synchronous", "sync", "single-threaded") else 1
        self.placed = {}
        self.averaged = {}  # id of a lazy recording -> (it, its in-memory time average)

    def place(self, recordings):
        """Each lazy recording reduced once to its in-memory time average (chunk-wise, on the scheduler: a
        cluster's workers read the file); on a distributed client, the in-memory recordings and averages
        scattered once (each worker then fetches the ones its tasks need) instead of embedded in every graph."""
        import dask
        from dask import is_dask_collection

        lazy = [rec for rec in recordings.values() if is_dask_collection(rec)]
        if lazy:
            tag = uuid.uuid4().hex
            tasks = [dask.delayed(_run_task, pure=False)(time_average, (_Opaque(rec),), self.blas_threads,
                                                         self.capture, dask_key_name=f"time-average-{k}-{tag}")
                     for k, rec in enumerate(lazy)]
            averages = first_failure_raised(self._compute(tasks))
            self.averaged = {id(rec): (rec, average) for rec, average in zip(lazy, averages)}
        client = _client_of(self.scheduler)
        eager = [rec for rec in recordings.values() if not is_dask_collection(rec)]
        eager += [average for _, average in self.averaged.values()]
        if client is None or not eager:
            return
        futures = client.scatter(eager, hash=False)
        self.placed = {id(rec): (rec, future) for rec, future in zip(eager, futures)}

    def _argument(self, value):
        """What a task gets for ``value``: a lazy recording's time average (see the module docstring), an
        in-memory one's scattered future on a cluster, else ``value``."""
        averaged = self.averaged.get(id(value))
        if averaged is not None and averaged[0] is value:
            value = averaged[1]
        placed = self.placed.get(id(value))
        return placed[1] if placed is not None and placed[0] is value else value

    def map_sessions(self, function, items):
        import dask

        tag = uuid.uuid4().hex
        items = [tuple(self._argument(v) for v in item) if isinstance(item, tuple) else self._argument(item)
                 for item in items]
        name = getattr(function, "__name__", "function")
        tasks = [dask.delayed(_run_task, pure=False)(function, (item,), self.blas_threads, self.capture,
                                                     dask_key_name=f"map-{name}-{k}-{tag}")
                 for k, item in enumerate(items)]
        return first_failure_raised(self._compute(tasks))

    def sessions(self, active, recordings):
        """Every active family's ``session(key, recording, context)``: {family name: parts in key order}."""
        import dask

        tag = uuid.uuid4().hex
        order = {key: k for k, key in enumerate(recordings)}
        data, tasks, owners = {}, [], []
        for family, context in active:
            shared = dask.delayed(context, traverse=False, name=f"{family.name}-context-{tag}")
            for k, key in enumerate(context.keys):
                # one node per session (and per form: a lazy one's time average, or the lazy recording itself
                # for a family that reads time), shared by every family that reads it
                lazy = family.reads_time and id(recordings[key]) in self.averaged
                if (key, lazy) not in data:
                    value = _Opaque(recordings[key]) if lazy else self._argument(recordings[key])
                    data[key, lazy] = dask.delayed(_identity, pure=False)(
                        value, dask_key_name=f"session-{'lazy' if lazy else 'data'}-{order[key]}-{tag}")
                tasks.append(dask.delayed(_run_task, pure=False)(
                    family.session, (key, data[key, lazy], shared), self.blas_threads, self.capture,
                    dask_key_name=f"{family.name}-session-{k}-{tag}"))
                owners.append(family.name)
        parts = {family.name: [] for family, _ in active}
        for owner, result in zip(owners, self._compute(tasks)):
            parts[owner].append(result)
        return parts

    def _compute(self, tasks):
        """Results in task order, each a value or a :class:`_Failure`; warnings re-emitted in that order."""
        import dask

        # dask's bar redraws with carriage returns every 0.1 s: on a terminal a bar, in a log file or a pipe
        # hundreds of lines of it (a 30 s run wrote 300), so only where stderr is a terminal
        if self.progress and isinstance(self.scheduler, str) and _is_terminal(sys.stderr):
            from dask.diagnostics import ProgressBar

            with ProgressBar(out=sys.stderr):
                results = dask.compute(*tasks, scheduler=self.scheduler)
        else:
            results = dask.compute(*tasks, scheduler=self.scheduler)
        out = []
        for value, caught in results:
            for category, message in caught:
                warnings.warn(message, category, stacklevel=3)
            out.append(value)
        return out


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _client_of(scheduler):
    """The dask.distributed Client behind ``scheduler`` (the client, or its ``get``), else None."""
    owner = getattr(scheduler, "__self__", scheduler)
    return owner if type(owner).__name__ == "Client" and hasattr(owner, "scatter") else None


@dataclass(frozen=True)
class _Failure:
    error: DataError


def first_failure_raised(results):
    for result in results:
        if isinstance(result, _Failure):
            raise result.error
    return list(results)


def _identity(value):
    """The value itself; an :class:`_Opaque`'s content (a lazy recording handed to a task as it is)."""
    return value.value if isinstance(value, _Opaque) else value


class _Opaque:
    """A lazy recording a task receives uncomputed: dask computes the collections among a task's arguments
    (in lists, dicts and dataclasses too) before it runs, but not those inside an arbitrary object (it pickles
    with its graph, which reopens the file by path)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def time_average(recording):
    """A recording's ``(trial, neuron)`` time average in memory (itself, computed, without a ``time`` dim),
    reduced block by block on the synchronous scheduler: one block in memory at a time, in this task.

    Examples
    --------
    >>> import dask.array as da, xarray as xr
    >>> rec = xr.DataArray(da.ones((4, 3, 5), chunks=(2, 3, 5)), dims=("trial", "neuron", "time"))
    >>> average = time_average(rec)
    >>> average.dims, type(average.data).__name__, float(average.sum())
    (('trial', 'neuron'), 'ndarray', 12.0)
    """
    recording = recording.value if isinstance(recording, _Opaque) else recording
    average = recording.mean(TIME, keep_attrs=True) if TIME in recording.dims else recording
    return average.compute(scheduler="synchronous")


def _run_task(function, args, blas_threads, capture):
    """``function(*args)`` -> (result or _Failure, [(warning category, message)])."""
    if not (capture and _one_task_at_a_time()):
        return _limited(function, args, blas_threads), []
    with warnings.catch_warnings(record=True) as caught:
        result = _limited(function, args, blas_threads)
    return result, [(w.category, str(w.message)) for w in caught]


def _one_task_at_a_time() -> bool:
    """Whether this process runs one task at a time: recording warnings swaps process-wide state, which
    tasks running side by side in threads would tangle (a worker with several threads keeps its warnings in
    its own log; the reasons a statistic is NaN are returned with the parts, never warned there)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return True  # a process-pool worker (one task at a time), or no worker at all
    state = getattr(worker, "state", worker)
    return getattr(state, "nthreads", 1) == 1


def _limited(function, args, blas_threads):
    try:
        if blas_threads is None:
            return function(*args)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(blas_threads):
            return function(*args)
    except DataError as error:
        return _Failure(error)
