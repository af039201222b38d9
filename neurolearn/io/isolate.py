"""Run one file's read in a child process with a time limit, so a damaged file cannot stall a batch.

A corrupt HDF5 file can make libhdf5 loop forever inside a single C call (seen on a real file, inside the
``nwb_version`` read), which no Python-level timeout can interrupt in the same process. The child is forked
(cheap: the parent has already imported everything), sends back the result, the warnings it raised and any
exception through a pipe, and is terminated when the limit passes.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import warnings

from neurolearn.errors import NWBError

__all__ = ["call_with_timeout"]


def call_with_timeout(function, args: tuple, timeout: float, label: str):
    """``function(*args)`` in a child process; its warnings are re-issued here and its exception re-raised.

    Raises :class:`NWBError` naming ``label`` when the child takes longer than ``timeout`` seconds or dies
    without an answer (a crash inside libhdf5).

    Examples
    --------
    >>> call_with_timeout(divmod, (7, 2), 10.0, "example")
    (3, 1)
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, function, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise NWBError(
                f"{label}: reading did not finish within timeout={timeout:g} s (a damaged file can make "
                "libhdf5 loop forever); the reader process was stopped"
            )
        try:
            status, payload, caught = receive.recv()
        except (EOFError, OSError):
            child.join(5)
            raise NWBError(
                f"{label}: the reader process died without an answer (exit code {child.exitcode}); the file "
                "is probably damaged"
            ) from None
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
            child.join(2)
            if child.is_alive():
                child.kill()
                child.join(2)
    for category, message in caught:
        warnings.warn(message, category, stacklevel=3)
    if status == "error":
        raise payload
    return payload


def _child(send, function, args) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", function(*args))
        except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
            result = ("error", _picklable(error))
    seen = [(w.category, str(w.message)) for w in caught]
    try:
        send.send(result + (seen,))
    except Exception as error:  # noqa: BLE001 - an unpicklable result must not leave the parent waiting
        failure = NWBError(f"could not send the result back: {type(error).__name__}: {error}")
        send.send(("error", failure, seen))
    finally:
        send.close()
        sys.stdout.flush()


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - fall back to the text of an exception that cannot cross processes
        return RuntimeError(f"{type(error).__name__}: {error}")
