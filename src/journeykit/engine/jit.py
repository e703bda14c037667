"""How the engine's kernels are compiled: Numba, ahead of the first call, cached on disk.

Every kernel is a plain loop over typed NumPy arrays, compiled once per machine (``cache=True``
keeps the machine code beside the module, so later processes only load it) and run without the
GIL (``nogil=True``), so Polars can read the next columns while a kernel runs, and the engine
runs one kernel per core on separate blocks of units. A kernel's pure-Python twin is its
``py_func``: the tests run both on the same small inputs.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(function: F) -> F:
    """A compiled, cached kernel that releases the GIL."""
    return numba.njit(cache=True, nogil=True)(function)  # type: ignore[return-value]


def inline(function: F) -> F:
    """A helper compiled into the kernels that call it."""
    return numba.njit(cache=True, nogil=True, inline="always")(function)  # type: ignore[return-value]


def threads() -> int:
    """How many kernels the engine runs at once (the cores, or NUMBA_NUM_THREADS)."""
    return int(numba.get_num_threads())


@numba.njit(cache=True)
def _ready(value: int) -> int:
    return value + 1


def start() -> None:
    """Make Numba ready to load kernels (its first kernel costs about 0.2 s more than the next)."""
    _ready(0)
