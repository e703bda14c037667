"""How the engine's kernels are compiled: Numba, ahead of the first call, cached on disk.

Every kernel is a plain loop over typed NumPy arrays, compiled once per machine (``cache=True``
keeps the machine code beside the module, so later processes only load it) and run without the
GIL (``nogil=True``), so Polars can read the next columns while a kernel runs. Kernels with a
``prange`` loop (``parallel=True``) spread units over the cores. A kernel's pure-Python twin is its
``py_func``: the tests run both on the same small inputs.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(function: F) -> F:
    """A compiled, cached kernel that releases the GIL."""
    return numba.njit(cache=True, nogil=True)(function)  # type: ignore[return-value]


def parallel_kernel(function: F) -> F:
    """Like ``kernel``, with its ``prange`` loops spread over the cores."""
    return numba.njit(cache=True, nogil=True, parallel=True)(function)  # type: ignore[return-value]


def inline(function: F) -> F:
    """A helper compiled into the kernels that call it."""
    return numba.njit(cache=True, nogil=True, inline="always")(function)  # type: ignore[return-value]


def threads() -> int:
    """How many threads ``prange`` loops use (Numba's setting: the cores, or NUMBA_NUM_THREADS)."""
    return int(numba.get_num_threads())
