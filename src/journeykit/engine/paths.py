"""Paths (SPEC §14): from each unit's anchor event, the events that follow it or lead to it.

A unit's events are in (time, row) order; ``name`` holds each event's name code. A path row is
the anchor's name, then the names at distance 1, 2, … ``depth`` from it (outward: later events
for ``after``, earlier ones for ``before``), then ``END`` (or ``START``) when the unit has fewer,
then ``NONE``. With ``collapse``, a run of consecutive events with one name is one event.
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

END, START, NONE = -1, -2, -3
"""Path cells that are no event: ``(end)``, ``(start)``, and nothing (beyond them)."""


@kernel
def first_anchors(
    starts: NDArray[np.int64], name: NDArray[np.unsignedinteger], member: NDArray[np.uint8]
) -> NDArray[np.int64]:
    """Each unit's first event whose name code ``x`` has ``member[x]`` (its position; -1 for a
    unit without one): the anchor of ``--after``/``--before`` (SPEC §14)."""
    anchors = np.full(starts.shape[0] - 1, -1, np.int64)
    for u in range(starts.shape[0] - 1):
        for p in range(starts[u], starts[u + 1]):
            if member[name[p]]:
                anchors[u] = p
                break
    return anchors


@inline
def _run_edge(name: NDArray[np.unsignedinteger], p: int, lo: int, hi: int, step: int) -> int:
    """The last position of ``p``'s run of one name walking by ``step`` (±1) within
    ``[lo, hi)``."""
    while lo <= p + step < hi and name[p + step] == name[p]:
        p += step
    return p


@kernel
def walk_paths(
    starts: NDArray[np.int64],
    name: NDArray[np.unsignedinteger],
    anchors: NDArray[np.int64],
    depth: int,
    collapse: bool,
    forward: bool,
) -> NDArray[np.int32]:
    """One path row per unit with an anchor (``anchors[u] >= 0``), in unit order: ``depth + 1``
    cells, the anchor's name first (see the module docstring; SPEC §14).

    With ``collapse`` the anchor's whole run is the anchor (``--dropped-at`` may choose an event
    inside a run), and each later (earlier) run counts once, by its name.
    """
    step = 1 if forward else -1
    edge = END if forward else START
    rows = np.full((int((anchors >= 0).sum()), depth + 1), NONE, np.int32)
    row = 0
    for u in range(anchors.shape[0]):
        p = anchors[u]
        if p < 0:
            continue
        lo, hi = starts[u], starts[u + 1]
        rows[row, 0] = name[p]
        if collapse:
            p = _run_edge(name, p, lo, hi, step)
        for d in range(1, depth + 1):
            p += step
            if not lo <= p < hi:
                rows[row, d] = edge
                break
            rows[row, d] = name[p]
            if collapse:
                p = _run_edge(name, p, lo, hi, step)
        row += 1
    return rows
