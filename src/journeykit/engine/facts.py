"""Sessions, orders and session facts (SPEC §3, §5, §6, §7b): one user's events in (time, row)
order → the user's sessions and orders, and one row of facts per session, which stages, cart
abandonment and the summary aggregate.

Each event carries a ``kind`` (``kind_code``): the event-defined stage it reaches, whether it is
an add-to-cart, a remove, a checkout or a purchase, and whether it is an advocacy event. Its
``value`` is the cart line value of add-to-cart and remove rows and the order value of purchase
rows (0 without money). Sessions come from the session keys (one per distinct value; a null is
its own value) or, with no key columns, from the inactivity rule; orders from the order keys (a
purchase row with a null id, or any purchase row without an order column, belongs to the order
of its session).
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.group import forget, local_code, local_table
from journeykit.engine.jit import inline, kernel

NEVER = np.iinfo(np.int64).min
"""A time that does not exist (``first_cart`` of a session without add-to-cart, say)."""
CONSIDERATION, DECISION = 1, 2
CART, REMOVE, CHECKOUT, PURCHASE = 1, 2, 3, 4
ADVOCACY = 32
PURCHASE_STAGE, RETENTION_STAGE, ADVOCACY_STAGE = 3, 4, 5
"""Stage codes are indexes into ``journeykit.journey.spec.STAGES``; event-defined stages are
their rank (0 awareness, 1 consideration, 2 decision)."""


def kind_code(rank: int, event: int, advocacy: bool) -> int:
    """An event's ``kind``: its event-defined stage ``rank`` (0, ``CONSIDERATION``,
    ``DECISION``), which cart event it is (0, ``CART``, ``REMOVE``, ``CHECKOUT``, ``PURCHASE``)
    and whether it is an advocacy event."""
    return rank | event << 2 | (ADVOCACY if advocacy else 0)


@inline
def _scratch(
    starts: NDArray[np.int64], key_width: int
) -> tuple[  # working arrays for one user at a time, sized for the longest user
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
    table, touched = local_table(starts)
    longest = touched.shape[0]
    return (
        table,
        touched,
        np.empty(longest, np.int64),  # code of each row
        np.empty(longest, np.int64),  # session of each event
        np.empty((longest, key_width + 1), np.uint64),  # order key of each purchase row
        np.empty(longest, np.int64),  # order time
        np.empty(longest, np.int64),  # order session
        np.empty(longest, np.int64),  # order's first purchase row
        np.empty(longest, np.float64),  # order value
    )


@inline
def _user_sessions(
    lo: int,
    hi: int,
    time: NDArray[np.int64],
    sessions: NDArray[np.uint64],
    gap: int,
    table: NDArray[np.int64],
    touched: NDArray[np.int64],
    session_of: NDArray[np.int64],
) -> int:
    """SPEC §3 sessions of one user: ``session_of[p - lo]`` (0, 1, … in order of first event);
    returns how many. With session keys, a session is a distinct key; without, a new session
    starts at the first event and after every gap of at least ``gap``."""
    count = 0
    if sessions.shape[1] == 0:
        for p in range(lo, hi):
            if p == lo or time[p] - time[p - 1] >= gap:
                count += 1
            session_of[p - lo] = count - 1
        return count
    for p in range(lo, hi):
        _, count = local_code(sessions, p, lo, table, touched, session_of, count)
    forget(table, touched, count)
    return count


@inline
def _user_orders(
    lo: int,
    hi: int,
    time: NDArray[np.int64],
    kind: NDArray[np.uint8],
    value: NDArray[np.float64],
    orders: NDArray[np.uint64],
    session_of: NDArray[np.int64],
    table: NDArray[np.int64],
    touched: NDArray[np.int64],
    codes: NDArray[np.int64],
    keys: NDArray[np.uint64],
    order_time: NDArray[np.int64],
    order_session: NDArray[np.int64],
    order_row: NDArray[np.int64],
    order_value: NDArray[np.float64],
) -> int:
    """SPEC §3 orders of one user, in the order they happen (their first purchase row, in
    (time, row) order): time, session and first row of each, and the sum of its rows' values;
    returns how many."""
    rows = 0
    for p in range(lo, hi):
        if (kind[p] >> 2) & 7 == PURCHASE:
            _order_key(orders, p, session_of[p - lo], keys, rows)
            codes[rows] = p  # the purchase row, until its order code replaces it
            rows += 1
    count = 0
    for r in range(rows):
        p = codes[r]
        known = count
        o, count = local_code(keys, r, 0, table, touched, codes, count)
        if count > known:
            order_time[o], order_session[o], order_row[o] = time[p], session_of[p - lo], p
            order_value[o] = 0.0
        order_value[o] += value[p]
    forget(table, touched, count)
    return count


@inline
def _order_key(
    orders: NDArray[np.uint64], p: int, session: int, keys: NDArray[np.uint64], row: int
) -> None:
    """Row ``row`` of ``keys``: (1, the order id's key) for a purchase row with an id, (0, its
    session, 0, …) for one without (all purchase rows of a session are one order)."""
    width = orders.shape[1]
    by_id = width > 0 and orders[p, width - 1] == 0
    keys[row, 0] = np.uint64(1 if by_id else 0)
    for j in range(width):
        keys[row, j + 1] = orders[p, j] if by_id else np.uint64(0)
    if not by_id:
        keys[row, 1 if width else 0] = np.uint64(session)


Facts = tuple[
    NDArray[np.int64],  # user (index of the user in the chunk)
    NDArray[np.int64],  # position of the session's first event
    NDArray[np.int64],  # first_event
    NDArray[np.int64],  # last_event
    NDArray[np.int64],  # events
    NDArray[np.uint8],  # stage
    NDArray[np.int64],  # first_cart
    NDArray[np.int64],  # first_checkout
    NDArray[np.int64],  # last_purchase
    NDArray[np.float64],  # cart_value
    NDArray[np.int64],  # orders placed in the session
    NDArray[np.float64],  # their value
    NDArray[np.int64],  # next_order_time (abandoned cart sessions)
    NDArray[np.float64],  # next_order_value
]


@kernel
def session_facts(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    kind: NDArray[np.uint8],
    sessions: NDArray[np.uint64],
    gap: int,
    value: NDArray[np.float64],
    orders: NDArray[np.uint64],
) -> Facts:
    """The facts of every session of every user (``starts``), one row per session, users in
    order and each user's sessions in order of their first event. ``sessions`` (keys; no
    columns for the inactivity rule with ``gap``) and ``orders`` (order id keys; no columns
    without an order column) are in the events' order.
    """
    n = time.shape[0]
    table, touched, codes, session_of, keys, order_time, order_session, order_row, order_value = (
        _scratch(starts, orders.shape[1])
    )
    user, head = np.empty(n, np.int64), np.empty(n, np.int64)
    first_event, last_event = np.empty(n, np.int64), np.empty(n, np.int64)
    events, rank, owns = np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.uint8)
    moments = np.empty((n, 4), np.int64)  # first cart, first checkout, last purchase, advocacy
    cart_value, placed, placed_value = np.empty(n), np.empty(n, np.int64), np.empty(n)
    stage, next_time, next_value = np.empty(n, np.uint8), np.empty(n, np.int64), np.empty(n)
    total = 0
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        count = _user_sessions(lo, hi, time, sessions, gap, table, touched, session_of)
        for at in range(total, total + count):
            user[at], events[at], rank[at], owns[at], placed[at] = u, 0, 0, 0, 0
            moments[at], next_time[at] = NEVER, NEVER
            cart_value[at] = placed_value[at] = 0.0
            next_value[at] = np.nan
        for p in range(lo, hi):
            at = total + session_of[p - lo]
            if events[at] == 0:
                head[at], first_event[at] = p, time[p]
            events[at] += 1
            last_event[at] = time[p]
            rank[at] = max(rank[at], kind[p] & 3)
            cart_value[at] += _cart_event(kind[p], time[p], value[p], moments[at])
        placed_orders = _user_orders(
            lo, hi, time, kind, value, orders, session_of, table, touched, codes, keys,
            order_time, order_session, order_row, order_value,
        )  # fmt: skip
        for o in range(placed_orders):
            at = total + order_session[o]
            placed[at] += 1
            placed_value[at] += order_value[o]
            owns[at] |= 1 if o == 0 else 2
        first_order = order_time[0] if placed_orders else NEVER
        for at in range(total, total + count):
            first_cart, _, last_purchase, last_advocacy = moments[at]
            stage[at] = _stage(rank[at], owns[at], last_advocacy, first_order)
            converted = last_purchase != NEVER and last_purchase >= first_cart
            if first_cart != NEVER and not converted:
                # The user's first order strictly after the session's last event (SPEC §6).
                k = np.searchsorted(order_time[:placed_orders], last_event[at], side="right")
                if k < placed_orders:
                    next_time[at], next_value[at] = order_time[k], order_value[k]
        total += count
    return (
        user[:total], head[:total], first_event[:total], last_event[:total], events[:total],
        stage[:total], moments[:total, 0], moments[:total, 1], moments[:total, 2],
        cart_value[:total], placed[:total], placed_value[:total], next_time[:total],
        next_value[:total],
    )  # fmt: skip


@inline
def _cart_event(kind: int, time: int, value: float, moments: NDArray[np.int64]) -> float:
    """Record one event in its session's ``moments`` (first add-to-cart, first checkout, last
    purchase, last advocacy event); returns what it adds to the cart's value (SPEC §6: + an
    add-to-cart line, − a removed one)."""
    what = (kind >> 2) & 7
    if what == CHECKOUT and moments[1] == NEVER:
        moments[1] = time
    elif what == PURCHASE:
        moments[2] = time
    if kind & ADVOCACY:
        moments[3] = time
    if what == CART:
        moments[0] = time if moments[0] == NEVER else moments[0]
        return value
    return -value if what == REMOVE else 0.0


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


@kernel
def order_rows(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    kind: NDArray[np.uint8],
    sessions: NDArray[np.uint64],
    gap: int,
    value: NDArray[np.float64],
    orders: NDArray[np.uint64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Every purchase row of every user (same inputs as ``session_facts``): its user, its order
    (0, 1, … within the user, in the order they happen) and its position; users in order and
    each user's rows in (time, row) order."""
    n = time.shape[0]
    table, touched, codes, session_of, keys, order_time, order_session, order_row, order_value = (
        _scratch(starts, orders.shape[1])
    )
    user, order, position = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    total = 0
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        _user_sessions(lo, hi, time, sessions, gap, table, touched, session_of)
        _user_orders(
            lo, hi, time, kind, value, orders, session_of, table, touched, codes, keys,
            order_time, order_session, order_row, order_value,
        )  # fmt: skip
        r = 0
        for p in range(lo, hi):
            if (kind[p] >> 2) & 7 == PURCHASE:
                user[total], order[total], position[total] = u, codes[r], p
                total += 1
                r += 1
    return user[:total], order[:total], position[:total]
