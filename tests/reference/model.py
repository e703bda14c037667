"""Reference model: the normalized event and the derived structure of SPEC §3.

Plain, slow, obviously-correct Python used to cross-check the production implementation.

AMBIGUITIES AND CHOICES
1. "A column exists" cannot be seen from `Event` records, so by default a money column is taken
   to exist when at least one event carries a non-null value in it (`has_price`, `has_revenue`).
   Every function that needs it also accepts an explicit `has_price_column` / `has_revenue_column`
   override (None = infer).  Inference is done over ALL events passed in, before any since/until
   filtering (column existence is a property of the data, not of a time range).
2. Session keys: with a session column, `(user, session_value)` (a null value gives `(user, None)`);
   without one, `(user, n)` where n is the 0-based index of the gap-session within the user's
   event sequence ordered by (time, row).
3. Order keys: `("order_id", user, order_id)` for purchase rows with a non-null order id when the
   order column exists; otherwise `("session", session_key)` (all remaining purchase rows of the
   session).  An order id spanning several sessions is ONE order that belongs to the session of
   its first purchase row (by (time, row)).
4. Order value: with a revenue column, Σ revenue over its rows (a null revenue counts 0); else with
   a price column Σ price × quantity (null quantity → 1, null price → 0); else None.
5. A user's orders are ranked by (order time, first row); the first is the first order, every later
   one (including one at the very same instant but a later row) is a repeat order.
6. Purchases are the events named exactly "purchase".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DEFAULT_GAP = timedelta(minutes=30)

PAGE_VIEW = "page_view"
PRODUCT_VIEW = "product_view"
SEARCH = "search"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
CHECKOUT = "checkout"
PURCHASE = "purchase"
ADVOCACY_EVENTS = ("review", "referral", "share")


@dataclass(frozen=True)
class Event:
    user: str | int
    time: datetime  # timezone-aware UTC
    event: str
    row: int  # input row order (tie-breaker)
    session: str | int | None = None  # only meaningful when has_session_column=True
    price: float | None = None
    quantity: float | None = None
    revenue: float | None = None
    order_id: str | int | None = None
    dims: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Order:
    user: str | int
    key: Any
    time: datetime  # time of its first purchase row
    session_key: Any  # session of its first purchase row
    value: float | None  # None when the data has neither revenue nor price
    rows: tuple[int, ...]  # its purchase rows, ordered by (time, row)


def order_key(e: Event) -> tuple[datetime, int]:
    """The SPEC's order of events: timestamp, then input row order."""
    return (e.time, e.row)


def has_price(events: Iterable[Event]) -> bool:
    return any(e.price is not None for e in events)


def has_revenue(events: Iterable[Event]) -> bool:
    return any(e.revenue is not None for e in events)


def has_money(events: Iterable[Event]) -> bool:
    events = list(events)
    return has_price(events) or has_revenue(events)


def events_by_user(events: Iterable[Event]) -> dict[Any, list[Event]]:
    """Each user's events ordered by (time, row)."""
    out: dict[Any, list[Event]] = defaultdict(list)
    for e in events:
        out[e.user].append(e)
    for evs in out.values():
        evs.sort(key=order_key)
    return dict(out)


def sessions(
    events: Iterable[Event], *, has_session_column: bool, gap: timedelta = DEFAULT_GAP
) -> dict[int, Any]:
    """Map each event's row to its session key (SPEC §3)."""
    result: dict[int, Any] = {}
    for user, evs in events_by_user(events).items():
        if has_session_column:
            for e in evs:
                result[e.row] = (user, e.session)
        else:
            index = -1
            previous: Event | None = None
            for e in evs:
                if previous is None or e.time - previous.time >= gap:
                    index += 1
                result[e.row] = (user, index)
                previous = e
    return result


def session_events(
    events: Iterable[Event], *, has_session_column: bool, gap: timedelta = DEFAULT_GAP
) -> dict[Any, list[Event]]:
    """Each session's events ordered by (time, row)."""
    events = list(events)
    session_of = sessions(events, has_session_column=has_session_column, gap=gap)
    out: dict[Any, list[Event]] = defaultdict(list)
    for e in events:
        out[session_of[e.row]].append(e)
    for evs in out.values():
        evs.sort(key=order_key)
    return dict(out)


def _order_value(rows: list[Event], money_from: str | None) -> float | None:
    if money_from is None:
        return None
    total = 0.0
    for e in rows:
        if money_from == "revenue":
            total += e.revenue if e.revenue is not None else 0.0
        else:
            price = e.price if e.price is not None else 0.0
            quantity = e.quantity if e.quantity is not None else 1.0
            total += price * quantity
    return total


def money_source(
    events: Iterable[Event],
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> str | None:
    """'revenue', 'price' or None (no money columns)."""
    events = list(events)
    rev = has_revenue(events) if has_revenue_column is None else has_revenue_column
    pri = has_price(events) if has_price_column is None else has_price_column
    if rev:
        return "revenue"
    if pri:
        return "price"
    return None


def orders(
    events: Iterable[Event],
    *,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> list[Order]:
    """All orders (SPEC §3), ordered by (time, first row)."""
    events = list(events)
    source = money_source(events, has_price_column, has_revenue_column)
    session_of = sessions(events, has_session_column=has_session_column, gap=gap)
    groups: dict[Any, list[Event]] = defaultdict(list)
    for e in events:
        if e.event != PURCHASE:
            continue
        if has_order_column and e.order_id is not None:
            key = ("order_id", e.user, e.order_id)
        else:
            key = ("session", session_of[e.row])
        groups[key].append(e)
    result = []
    for key, rows in groups.items():
        rows.sort(key=order_key)
        first = rows[0]
        result.append(
            Order(
                user=first.user,
                key=key,
                time=first.time,
                session_key=session_of[first.row],
                value=_order_value(rows, source),
                rows=tuple(e.row for e in rows),
            )
        )
    result.sort(key=lambda o: (o.time, o.rows[0]))
    return result


def orders_by_user(all_orders: Iterable[Order]) -> dict[Any, list[Order]]:
    """Each user's orders ranked by (time, first row); index 0 is the first order."""
    out: dict[Any, list[Order]] = defaultdict(list)
    for o in all_orders:
        out[o.user].append(o)
    for user_orders in out.values():
        user_orders.sort(key=lambda o: (o.time, o.rows[0]))
    return dict(out)


def in_range(t: datetime, since: datetime | None, until: datetime | None) -> bool:
    """Half-open [since, until)."""
    if since is not None and t < since:
        return False
    return not (until is not None and t >= until)


def ratio(numerator: float, denominator: float) -> float | None:
    if denominator == 0:
        return None
    return numerator / denominator


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    if n % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def mean(values: list[float]) -> float | None:
    if not values:
        return None
    return sum(values) / len(values)
