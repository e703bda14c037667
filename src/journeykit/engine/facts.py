"""Sessions, orders and session facts (SPEC §3, §5, §6, §7b).

Each event carries a ``kind`` (``kind_code``): the event-defined stage it reaches, whether it is
an add-to-cart, a remove, a checkout or a purchase, and whether it is an advocacy event; and a
``value``: the cart line value of add-to-cart and remove rows, the order value of purchase rows
(0 without money).

A session's facts need only counts, extremes and sums of its events, which can be taken in any
order and merged. So with a session column each batch is first reduced to *partials*, one per
(user, session) it holds (``batch_partials``), and a chunk merges them; without one, sessions
come from the inactivity rule over each user's events in time order, and every event is a
partial of its own (``event_partials``). Orders need each purchase row: they come from the
purchase rows (a row with a null order id, or any row without an order column, belongs to the
order of its session). ``user_facts`` walks each user's partials, in order of their first event,
and purchase rows, in (time, row) order: one row of facts per session.

A partial's ``fields`` are the time and row of its first event and the time of its last
(``FIRST``, ``ROW``, ``LAST``), then the *moments* a computation asks for, among the times of its
first add-to-cart, first checkout, last purchase and last advocacy event (``MOMENTS``; ``NEVER``
when it has none). A ``layout`` says where each moment is (its column, or -1 when it is not
kept): the fewer moments, the smaller the partials.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.group import EMPTY, forget, key_hash, local_code, pair_hash, same_row
from journeykit.engine.jit import inline, kernel

NEVER = np.iinfo(np.int64).min
"""A time that does not exist (``first_cart`` of a session without add-to-cart, say)."""
CONSIDERATION, DECISION = 1, 2
CART, REMOVE, CHECKOUT, PURCHASE = 1, 2, 3, 4
ADVOCACY = 32
PURCHASE_STAGE, RETENTION_STAGE, ADVOCACY_STAGE = 3, 4, 5
"""Stage codes are indexes into ``journeykit.journey.spec.STAGES``; event-defined stages are
their rank (0 awareness, 1 consideration, 2 decision)."""
FIRST, ROW, LAST = 0, 1, 2
MOMENTS = ("first_cart", "first_checkout", "last_purchase", "last_advocacy")
FIRST_CART, FIRST_CHECKOUT, LAST_PURCHASE, LAST_ADVOCACY = range(4)


def layout_of(moments: tuple[str, ...]) -> NDArray[np.int64]:
    """The ``layout`` of fields that keep ``moments`` (in ``MOMENTS`` order), and so its width
    is ``3 + len(moments)``."""
    kept = [m for m in MOMENTS if m in moments]
    return np.array([3 + kept.index(m) if m in kept else -1 for m in MOMENTS], dtype=np.int64)


BATCH_TABLE = 1 << 14
"""Slots of the table that reduces a batch to partials (``batch_partials``)."""


def kind_code(rank: int, event: int, advocacy: bool) -> int:
    """An event's ``kind``: its event-defined stage ``rank`` (0, ``CONSIDERATION``,
    ``DECISION``), which cart event it is (0, ``CART``, ``REMOVE``, ``CHECKOUT``, ``PURCHASE``)
    and whether it is an advocacy event."""
    return rank | event << 2 | (ADVOCACY if advocacy else 0)


@inline
def _what(kind: int) -> int:
    return (kind >> 2) & 7


@inline
def _earliest(a: int, b: int) -> int:
    """The earlier of two times, ``NEVER`` meaning none."""
    if a == NEVER:
        return b
    if b == NEVER:
        return a
    return min(a, b)


Layout = tuple[int, int, int, int]


@inline
def _columns(layout: NDArray[np.int64]) -> Layout:
    """A layout as four numbers (kept in registers, unlike an array)."""
    return int(layout[0]), int(layout[1]), int(layout[2]), int(layout[3])


@inline
def moment(fields: NDArray[np.int64], at: int, layout: Layout, which: int) -> int:
    """Moment ``which`` (``FIRST_CART``, …) of partial ``at``; ``NEVER`` when not kept."""
    return NEVER if layout[which] < 0 else int(fields[at, layout[which]])


@inline
def _start(
    fields: NDArray[np.int64], at: int, time: int, row: int, kind: int, layout: Layout
) -> None:
    """Partial ``at`` as the one event (``time``, ``row``, ``kind``)."""
    fields[at, FIRST], fields[at, ROW], fields[at, LAST] = time, row, time
    what = _what(kind)
    _set(fields, at, layout[FIRST_CART], time if what == CART else NEVER)
    _set(fields, at, layout[FIRST_CHECKOUT], time if what == CHECKOUT else NEVER)
    _set(fields, at, layout[LAST_PURCHASE], time if what == PURCHASE else NEVER)
    _set(fields, at, layout[LAST_ADVOCACY], time if kind & ADVOCACY else NEVER)


@inline
def _set(fields: NDArray[np.int64], at: int, column: int, time: int) -> None:
    if column >= 0:
        fields[at, column] = time


@inline
def _add(
    fields: NDArray[np.int64], at: int, time: int, row: int, kind: int, layout: Layout
) -> bool:
    """One more event (``time``, ``row``, ``kind``) into partial ``at``; whether it is the
    partial's earliest event now (in (time, row) order)."""
    earlier = time < fields[at, FIRST] or (time == fields[at, FIRST] and row < fields[at, ROW])
    if earlier:
        fields[at, FIRST], fields[at, ROW] = time, row
    fields[at, LAST] = max(fields[at, LAST], time)
    what = _what(kind)
    if what == CART and layout[FIRST_CART] >= 0:
        fields[at, layout[FIRST_CART]] = _earliest(fields[at, layout[FIRST_CART]], time)
    elif what == CHECKOUT and layout[FIRST_CHECKOUT] >= 0:
        fields[at, layout[FIRST_CHECKOUT]] = _earliest(fields[at, layout[FIRST_CHECKOUT]], time)
    elif what == PURCHASE and layout[LAST_PURCHASE] >= 0:
        fields[at, layout[LAST_PURCHASE]] = max(fields[at, layout[LAST_PURCHASE]], time)
    if kind & ADVOCACY and layout[LAST_ADVOCACY] >= 0:
        fields[at, layout[LAST_ADVOCACY]] = max(fields[at, layout[LAST_ADVOCACY]], time)
    return bool(earlier)


@inline
def _merge(
    target: NDArray[np.int64],
    at: int,
    source: NDArray[np.int64],
    p: int,
    layout: Layout,
) -> bool:
    """Partial ``p`` of ``source`` into partial ``at`` of ``target`` (same layout); whether
    ``p`` holds the earlier first event (in (time, row) order)."""
    earlier = source[p, FIRST] < target[at, FIRST] or (
        source[p, FIRST] == target[at, FIRST] and source[p, ROW] < target[at, ROW]
    )
    if earlier:
        target[at, FIRST], target[at, ROW] = source[p, FIRST], source[p, ROW]
    target[at, LAST] = max(target[at, LAST], source[p, LAST])
    for c in (layout[FIRST_CART], layout[FIRST_CHECKOUT]):
        if c >= 0:
            target[at, c] = _earliest(target[at, c], source[p, c])
    for c in (layout[LAST_PURCHASE], layout[LAST_ADVOCACY]):
        if c >= 0:
            target[at, c] = max(target[at, c], source[p, c])
    return bool(earlier)


@inline
def _kept(layout: NDArray[np.int64]) -> int:
    kept = 0
    for which in range(layout.shape[0]):
        kept += layout[which] >= 0
    return kept


@inline
def _cart_value(kind: int, value: float) -> float:
    """What an event adds to its session's cart value (SPEC §6: + an add-to-cart line, − a
    removed one)."""
    what = _what(kind)
    return value if what == CART else -value if what == REMOVE else 0.0


Partials = tuple[
    NDArray[np.uint64],  # user keys
    NDArray[np.uint64],  # session keys
    NDArray[np.int64],  # fields
    NDArray[np.uint32],  # events
    NDArray[np.uint8],  # rank: the deepest event-defined stage
    NDArray[np.float64],  # cart value
    NDArray[np.uint32],  # value codes of the first event
]


@kernel
def batch_partials(
    users: NDArray[np.uint64],
    sessions: NDArray[np.uint64],
    time: NDArray[np.int64],
    kind: NDArray[np.uint8],
    line: NDArray[np.float64],
    codes: NDArray[np.uint32],
    first_row: int,
    layout: NDArray[np.int64],
    out: Partials,
) -> int:
    """A batch's partials, written to ``out`` (arrays with a row per row at least; fields of
    ``layout``); returns how many. Rows are numbered from ``first_row``; ``line`` is each row's
    cart line value (no values without money); each partial keeps its first event's value
    ``codes`` (one column per value column).

    A two-way table (two keys per bucket, small enough for the CPU cache) holds the partial of
    each (user, session) key while it is being seen; a key that takes the place of another (the
    older of its bucket) starts a partial, the other's stays as it is, and partials of one
    session are merged later.
    Events of a session are usually close in a log, so a batch leaves about one partial per
    session it holds, at a few nanoseconds per row.
    """
    out_users, out_sessions, fields, events, rank, cart, out_codes = out
    columns = _columns(layout)
    table_users = np.zeros((BATCH_TABLE, users.shape[1]), np.uint64)
    table_sessions = np.zeros((BATCH_TABLE, sessions.shape[1]), np.uint64)
    table = np.full(BATCH_TABLE, EMPTY, np.int64)
    mask = np.uint64(BATCH_TABLE - 1)
    money = line.shape[0] > 0
    total = 0
    for row in range(users.shape[0]):
        slot = int(np.int64(pair_hash(users, sessions, row) & mask))
        other = slot ^ 1  # the other slot of its bucket of two
        if not _holds(table, table_users, table_sessions, slot, users, sessions, row):
            slot, other = other, slot
        at = table[slot]
        if _holds(table, table_users, table_sessions, slot, users, sessions, row):
            if _add(fields, at, time[row], first_row + row, kind[row], columns):
                for j in range(codes.shape[1]):
                    out_codes[at, j] = codes[row, j]
        else:
            slot = other if table[other] < table[slot] else slot  # the older partial goes
            at = table[slot] = total
            _copy_row(users, row, table_users, slot, out_users, at)
            _copy_row(sessions, row, table_sessions, slot, out_sessions, at)
            for j in range(codes.shape[1]):
                out_codes[at, j] = codes[row, j]
            _start(fields, at, time[row], first_row + row, kind[row], columns)
            events[at], rank[at], cart[at] = 0, 0, 0.0
            total += 1
        events[at] += 1
        rank[at] = max(rank[at], kind[row] & 3)
        cart[at] += _cart_value(kind[row], line[row]) if money else 0.0
    return total


@inline
def _copy_row(
    source: NDArray[Any], row: int, a: NDArray[Any], i: int, b: NDArray[Any], j: int
) -> None:
    """Row ``row`` of ``source`` to row ``i`` of ``a`` and row ``j`` of ``b``."""
    for column in range(source.shape[1]):
        a[i, column] = b[j, column] = source[row, column]


@inline
def _holds(
    table: NDArray[np.int64],
    table_users: NDArray[np.uint64],
    table_sessions: NDArray[np.uint64],
    slot: int,
    users: NDArray[np.uint64],
    sessions: NDArray[np.uint64],
    row: int,
) -> bool:
    """Whether slot ``slot`` of the table holds the key of row ``row`` (without branches)."""
    holds = bool(table[slot] != EMPTY)
    holds &= same_row(table_users, slot, users, row)
    holds &= same_row(table_sessions, slot, sessions, row)
    return holds


@kernel
def purchase_rows(kind: NDArray[np.uint8], rows: NDArray[np.int64]) -> int:
    """The positions of the purchase rows, written to ``rows``; returns how many."""
    count = 0
    for row in range(kind.shape[0]):
        if _what(kind[row]) == PURCHASE:
            rows[count] = row
            count += 1
    return count


@kernel
def event_partials(
    time: NDArray[np.int64],
    rows: NDArray[np.int64],
    kind: NDArray[np.uint8],
    line: NDArray[np.float64],
    layout: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.uint32], NDArray[np.uint8], NDArray[np.float64]]:
    """Every event as a partial of its own: fields (of ``layout``), events (1), rank and cart
    value (``line``: each event's cart line value, none without money)."""
    n = time.shape[0]
    fields, cart = np.empty((n, 3 + _kept(layout)), np.int64), np.zeros(n)
    rank = np.empty(n, np.uint8)
    columns = _columns(layout)
    for p in range(n):
        _start(fields, p, time[p], rows[p], kind[p], columns)
        rank[p] = kind[p] & 3
        if line.shape[0] > 0:
            cart[p] = _cart_value(kind[p], line[p])
    return fields, np.ones(n, np.uint32), rank, cart


@inline
def local_find(
    probe: NDArray[np.uint64],
    i: int,
    keys: NDArray[np.uint64],
    table: NDArray[np.int64],
    codes: NDArray[np.int64],
    offset: int,
) -> int:
    """The code ``local_code`` gave the key ``probe[i]`` (a row of another matrix), -1 if it
    has not seen it."""
    mask = np.uint64(table.shape[0] - 1)
    slot = key_hash(probe, i) & mask
    while table[slot] != EMPTY:
        if same_row(keys, table[slot], probe, i):
            return int(codes[table[slot] - offset])
        slot = (slot + np.uint64(1)) & mask
    return -1


@inline
def _user_sessions(
    lo: int,
    hi: int,
    fields: NDArray[np.int64],
    sessions: NDArray[np.uint64],
    gap: int,
    table: NDArray[np.int64],
    touched: NDArray[np.int64],
    session_of: NDArray[np.int64],
) -> int:
    """SPEC §3 sessions of one user's partials (in order of their first event):
    ``session_of[p - lo]`` (0, 1, … in order of first event); returns how many. With session
    keys a session is a distinct key (the table keeps them, for ``local_find``, until
    ``forget``); without, each partial is one event and a new session starts at the first one
    and after every gap of at least ``gap``."""
    count = 0
    if sessions.shape[1] == 0:
        for p in range(lo, hi):
            if p == lo or fields[p, FIRST] - fields[p - 1, LAST] >= gap:
                count += 1
            session_of[p - lo] = count - 1
        return count
    for p in range(lo, hi):
        _, count = local_code(sessions, p, lo, table, touched, session_of, count)
    return count


@inline
def _purchase_sessions(
    lo: int,
    hi: int,
    fields: NDArray[np.int64],
    sessions: NDArray[np.uint64],
    session_of: NDArray[np.int64],
    table: NDArray[np.int64],
    blo: int,
    bhi: int,
    b_time: NDArray[np.int64],
    b_row: NDArray[np.int64],
    b_sessions: NDArray[np.uint64],
    purchase_session: NDArray[np.int64],
) -> None:
    """``purchase_session[b - blo]``: the session of each of one user's purchase rows, the one
    with its key, or (inactivity rule, partials of one event in (time, row) order) the session
    of the last event at or before it in (time, row) order."""
    for b in range(blo, bhi):
        if sessions.shape[1] > 0:
            found = local_find(b_sessions, b, sessions, table, session_of, lo)
        else:
            left, right = lo, hi
            while left < right:
                middle = (left + right) // 2
                first, row = fields[middle, FIRST], fields[middle, ROW]
                if first < b_time[b] or (first == b_time[b] and row <= b_row[b]):
                    left = middle + 1
                else:
                    right = middle
            found = session_of[left - 1 - lo] if left > lo else -1
        if found < 0:
            raise ValueError("a purchase row without its session")
        purchase_session[b - blo] = found


@inline
def _order_key(orders: NDArray[np.uint64], b: int, session: int, keys: NDArray[np.uint64]) -> None:
    """Row ``b`` of ``keys``: (1, the order id's key) for a purchase row with an id, (0, its
    session, 0, …) for one without (all purchase rows of a session are one order)."""
    width = orders.shape[1]
    by_id = width > 0 and orders[b, width - 1] == 0
    keys[b, 0] = np.uint64(1 if by_id else 0)
    for j in range(width):
        keys[b, j + 1] = orders[b, j] if by_id else np.uint64(0)
    if not by_id:
        keys[b, 1 if width else 0] = np.uint64(session)


@inline
def _user_orders(
    blo: int,
    bhi: int,
    b_time: NDArray[np.int64],
    b_value: NDArray[np.float64],
    orders: NDArray[np.uint64],
    purchase_session: NDArray[np.int64],
    order_keys: NDArray[np.uint64],
    table: NDArray[np.int64],
    touched: NDArray[np.int64],
    order_of: NDArray[np.int64],
    order_time: NDArray[np.int64],
    order_session: NDArray[np.int64],
    order_value: NDArray[np.float64],
) -> int:
    """SPEC §3 orders of one user's purchase rows (in (time, row) order): ``order_of[b -
    blo]`` (0, 1, … in the order they happen: their first rows), and each order's time and
    session (of its first row) and value (the sum over its rows, in order); returns how many."""
    for b in range(blo, bhi):
        _order_key(orders, b, purchase_session[b - blo], order_keys)
    count = 0
    for b in range(blo, bhi):
        known = count
        o, count = local_code(order_keys, b, blo, table, touched, order_of, count)
        if count > known:
            order_time[o], order_session[o], order_value[o] = (
                b_time[b],
                purchase_session[b - blo],
                0.0,
            )
        order_value[o] += b_value[b]
    forget(table, touched, count)
    return count


@inline
def _abandoned(fields: NDArray[np.int64], at: int, layout: Layout) -> bool:
    """SPEC §6: a cart session with no purchase at or after its first add-to-cart."""
    first_cart = moment(fields, at, layout, FIRST_CART)
    last_purchase = moment(fields, at, layout, LAST_PURCHASE)
    return first_cart != NEVER and not (last_purchase != NEVER and last_purchase >= first_cart)


@inline
def _stage(rank: int, owns: int, last_advocacy: int, first_order: int) -> int:
    """SPEC §5: advocacy (an advocacy event at or after the user's first order), retention (owns
    a repeat order), purchase (owns the first order), else the deepest event-defined stage."""
    if NEVER not in (first_order, last_advocacy) and last_advocacy >= first_order:
        return ADVOCACY_STAGE
    if owns & 2:
        return RETENTION_STAGE
    if owns & 1:
        return PURCHASE_STAGE
    return rank


@inline
def _scratch(
    starts: NDArray[np.int64], b_starts: NDArray[np.int64], order_width: int, purchases: int
) -> tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.uint64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
]:
    """Working arrays for one user at a time: a ``local_code`` table and its used slots, the
    session of each partial, the session of each purchase row, order keys, the order of each
    purchase row, and each order's time, session and value."""
    longest = 1
    for u in range(starts.shape[0] - 1):
        longest = max(longest, starts[u + 1] - starts[u], b_starts[u + 1] - b_starts[u])
    capacity = 16
    while capacity < 2 * longest:
        capacity *= 2
    return (
        np.full(capacity, EMPTY, np.int64),
        np.empty(longest, np.int64),
        np.empty(longest, np.int64),
        np.empty(longest, np.int64),
        np.empty((purchases, order_width + 1), np.uint64),
        np.empty(longest, np.int64),
        np.empty(longest, np.int64),
        np.empty(longest, np.int64),
        np.empty(longest, np.float64),
    )


Facts = tuple[
    NDArray[np.int64],  # user (index of the user in the chunk)
    NDArray[np.int64],  # head: the session's first partial
    NDArray[np.int64],  # fields (merged)
    NDArray[np.int64],  # events
    NDArray[np.uint8],  # stage
    NDArray[np.float64],  # cart value
    NDArray[np.int64],  # orders placed in the session
    NDArray[np.float64],  # their value
    NDArray[np.int64],  # next_order_time (abandoned cart sessions)
    NDArray[np.float64],  # next_order_value
]


@kernel
def user_facts(
    starts: NDArray[np.int64],
    fields: NDArray[np.int64],
    events: NDArray[np.uint32],
    rank: NDArray[np.uint8],
    cart: NDArray[np.float64],
    sessions: NDArray[np.uint64],
    gap: int,
    b_starts: NDArray[np.int64],
    b_time: NDArray[np.int64],
    b_row: NDArray[np.int64],
    b_value: NDArray[np.float64],
    b_sessions: NDArray[np.uint64],
    b_orders: NDArray[np.uint64],
    layout: NDArray[np.int64],
) -> Facts:
    """One row of facts per session of every user: user ``u``'s partials are ``starts[u]`` to
    ``starts[u + 1]`` (in order of their first event), its purchase rows ``b_starts[u]`` to
    ``b_starts[u + 1]`` (in (time, row) order); sessions by key (``sessions``, ``b_sessions``)
    or, with no key columns, by the inactivity rule with ``gap``; orders by ``b_orders`` (no
    columns without an order column)."""
    n = fields.shape[0]
    columns = _columns(layout)
    scratch = _scratch(starts, b_starts, b_orders.shape[1], b_time.shape[0])
    table, touched, session_of, purchase_session, order_keys = scratch[:5]
    order_of, order_time, order_session, order_value = scratch[5:]
    user, head, merged = (
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty((n, fields.shape[1]), np.int64),
    )
    total_events, deepest, owns = (
        np.empty(n, np.int64),
        np.empty(n, np.uint8),
        np.empty(n, np.uint8),
    )
    cart_value, placed, placed_value = np.empty(n), np.empty(n, np.int64), np.empty(n)
    stage, next_time, next_value = np.empty(n, np.uint8), np.empty(n, np.int64), np.empty(n)
    total = 0
    for u in range(starts.shape[0] - 1):
        lo, hi, blo, bhi = starts[u], starts[u + 1], b_starts[u], b_starts[u + 1]
        count = _user_sessions(lo, hi, fields, sessions, gap, table, touched, session_of)
        seen = 0
        for p in range(lo, hi):
            at = total + session_of[p - lo]
            if session_of[p - lo] == seen:
                seen += 1
                merged[at], head[at], user[at] = fields[p], p, u
                total_events[at], deepest[at] = events[p], rank[p]
                cart_value[at] = cart[p]
                owns[at], placed[at], placed_value[at] = 0, 0, 0.0
                next_time[at], next_value[at] = NEVER, np.nan
                continue
            if _merge(merged, at, fields, p, columns):
                head[at] = p
            total_events[at] += events[p]
            deepest[at] = max(deepest[at], rank[p])
            cart_value[at] += cart[p]
        _purchase_sessions(
            lo, hi, fields, sessions, session_of, table, blo, bhi, b_time, b_row, b_sessions,
            purchase_session,
        )  # fmt: skip
        if sessions.shape[1] > 0:
            forget(table, touched, count)
        placed_orders = _user_orders(
            blo, bhi, b_time, b_value, b_orders, purchase_session, order_keys, table, touched,
            order_of, order_time, order_session, order_value,
        )  # fmt: skip
        for o in range(placed_orders):
            at = total + order_session[o]
            placed[at] += 1
            placed_value[at] += order_value[o]
            owns[at] |= 1 if o == 0 else 2
        first_order = order_time[0] if placed_orders else NEVER
        for at in range(total, total + count):
            advocacy = moment(merged, at, columns, LAST_ADVOCACY)
            stage[at] = _stage(deepest[at], owns[at], advocacy, first_order)
            if _abandoned(merged, at, columns):
                # The user's first order strictly after the session's last event (SPEC §6).
                k = np.searchsorted(order_time[:placed_orders], merged[at, LAST], side="right")
                if k < placed_orders:
                    next_time[at], next_value[at] = order_time[k], order_value[k]
        total += count
    return (
        user[:total], head[:total], merged[:total], total_events[:total], stage[:total],
        cart_value[:total], placed[:total], placed_value[:total], next_time[:total],
        next_value[:total],
    )  # fmt: skip


@kernel
def order_rows(
    starts: NDArray[np.int64],
    fields: NDArray[np.int64],
    sessions: NDArray[np.uint64],
    gap: int,
    b_starts: NDArray[np.int64],
    b_time: NDArray[np.int64],
    b_row: NDArray[np.int64],
    b_value: NDArray[np.float64],
    b_sessions: NDArray[np.uint64],
    b_orders: NDArray[np.uint64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The user (index), order (0, 1, … in the order they happen within the user) and session
    (0, 1, … within the user, in order of first event: ``user_facts``' rows of the user) of
    every purchase row (inputs as ``user_facts``)."""
    scratch = _scratch(starts, b_starts, b_orders.shape[1], b_time.shape[0])
    table, touched, session_of, purchase_session, order_keys = scratch[:5]
    order_of, order_time, order_session, order_value = scratch[5:]
    user, order = np.empty(b_time.shape[0], np.int64), np.empty(b_time.shape[0], np.int64)
    session = np.empty(b_time.shape[0], np.int64)
    for u in range(starts.shape[0] - 1):
        lo, hi, blo, bhi = starts[u], starts[u + 1], b_starts[u], b_starts[u + 1]
        count = _user_sessions(lo, hi, fields, sessions, gap, table, touched, session_of)
        _purchase_sessions(
            lo, hi, fields, sessions, session_of, table, blo, bhi, b_time, b_row, b_sessions,
            purchase_session,
        )  # fmt: skip
        if sessions.shape[1] > 0:
            forget(table, touched, count)
        _user_orders(
            blo, bhi, b_time, b_value, b_orders, purchase_session, order_keys, table, touched,
            order_of, order_time, order_session, order_value,
        )  # fmt: skip
        for b in range(blo, bhi):
            user[b], order[b], session[b] = u, order_of[b - blo], purchase_session[b - blo]
    return user, order, session
