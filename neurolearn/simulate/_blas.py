"""Run the simulators' training loops with BLAS limited to one thread.

Training a small network is thousands of small matrix products; BLAS threads only add contention there (20x
slower on a busy machine), so every simulator runs its loop under :func:`single_threaded_blas`.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread inside the block (or the decorated function), where threadpoolctl exists.

    threadpoolctl ships with scikit-learn; without it the block runs unchanged. Usable as ``with
    single_threaded_blas():`` or as a decorator ``@single_threaded_blas()`` (a fresh limit on every call).

    Examples
    --------
    >>> import numpy as np
    >>> with single_threaded_blas():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    from threadpoolctl import threadpool_limits  # a declared dependency

    with threadpool_limits(1):
        yield
