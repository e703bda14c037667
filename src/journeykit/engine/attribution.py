"""Touchpoint attribution (SPEC §15): each order's credit spread over the sessions of its path.

A user's sessions are in order of their first event ``s`` (then session key); an order placed at
``t`` is attributed over its *path*: the sessions with ``t − lookback ≤ s ≤ t``, plus the order's
own session (which may start earlier), in that order. Each model gives the path's sessions
weights that sum to 1; a session's weight goes to its touch value.
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

MODELS = ("first", "last", "last_non_direct", "linear", "position", "time_decay")
"""The models in the order of the output (the kernel's rows)."""


@inline
def _weights(
    path: NDArray[np.int64],
    m: int,
    s_time: NDArray[np.int64],
    t: int,
    direct: NDArray[np.uint8],
    s_touch: NDArray[np.int64],
    half_life: float,
    w: NDArray[np.float64],
) -> None:
    """``w[model, i]``: the weight of the path's i-th session under each model (SPEC §15)."""
    w[:, :m] = 0.0
    w[0, 0] = 1.0
    w[1, m - 1] = 1.0
    chosen = m - 1
    for i in range(m - 1, -1, -1):
        if not direct[s_touch[path[i]]]:
            chosen = i
            break
    w[2, chosen] = 1.0
    w[3, :m] = 1.0 / m
    if m <= 2:
        w[4, :m] = 1.0 / m
    else:
        w[4, 1 : m - 1] = 0.2 / (m - 2)
        w[4, 0] = w[4, m - 1] = 0.4
    total = 0.0
    for i in range(m):
        w[5, i] = 2.0 ** (-(t - s_time[path[i]]) / half_life)
        total += w[5, i]
    w[5, :m] /= total


@inline
def _path(
    lo: int,
    hi: int,
    own: int,
    s_time: NDArray[np.int64],
    t: int,
    lookback: int,
    path: NDArray[np.int64],
) -> int:
    """The order's path into ``path`` (positions of the sessions), its length returned."""
    a = lo + np.searchsorted(s_time[lo:hi], t - lookback, side="left")
    b = lo + np.searchsorted(s_time[lo:hi], t, side="right")
    m = 0
    if own < a:
        path[0] = own
        m = 1
    for j in range(a, b):
        path[m] = j
        m += 1
    return m


@kernel
def credits(
    starts: NDArray[np.int64],
    s_time: NDArray[np.int64],
    s_touch: NDArray[np.int64],
    o_user: NDArray[np.int64],
    o_session: NDArray[np.int64],
    o_time: NDArray[np.int64],
    o_value: NDArray[np.float64],
    lookback: int,
    half_life: float,
    direct: NDArray[np.uint8],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Per model and touch code: the credited conversions and revenue, and per touch code the
    orders whose path holds it (SPEC §15). User ``u``'s sessions are positions ``starts[u]`` to
    ``starts[u + 1]`` (``s_time``: first events, µs, in path order; ``s_touch``: touch codes);
    order ``o`` is user ``o_user[o]``'s, placed in its session at position ``o_session[o]`` at
    ``o_time[o]``, worth ``o_value[o]``. ``direct[c]``: whether touch code c is direct."""
    touches = direct.shape[0]
    conversions = np.zeros((len(MODELS), touches))
    revenue = np.zeros((len(MODELS), touches))
    touched = np.zeros(touches, np.int64)
    seen = np.full(touches, -1, np.int64)
    longest = 1
    for u in range(starts.shape[0] - 1):
        longest = max(longest, starts[u + 1] - starts[u])
    path = np.empty(longest, np.int64)
    w = np.empty((len(MODELS), longest))
    for o in range(o_user.shape[0]):
        u, t = o_user[o], o_time[o]
        m = _path(starts[u], starts[u + 1], o_session[o], s_time, t, lookback, path)
        _weights(path, m, s_time, t, direct, s_touch, half_life, w)
        for i in range(m):
            code = s_touch[path[i]]
            if seen[code] != o:
                seen[code] = o
                touched[code] += 1
            for model in range(len(MODELS)):
                conversions[model, code] += w[model, i]
                revenue[model, code] += w[model, i] * o_value[o]
    return conversions, revenue, touched
