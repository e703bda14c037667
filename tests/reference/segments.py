"""Reference segments and personas (SPEC §16).

Plain, slow, obviously-correct Python used to cross-check the production implementation.

AMBIGUITIES AND CHOICES
1. Column existence (order id, price, revenue) is inferred over ALL events passed in, before the
   `at` cut (as in model.py choice 1); each can be forced with has_*_column.  "The data has money"
   means a revenue or a price column exists (model.money_source is not None).
2. `at`: only events with t < at are kept, then sessions and orders are built from them, and
   now = at.  Without `at`, now = the latest timestamp of any event (the events passed in).  A user
   with no event before `at` has no row.
3. recency_days = (now - time of the user's LAST order) in days, as a float (seconds / 86400); the
   last order is the last by (order time, first row), its time is its first purchase row (§3).
   No rounding is applied to R or F; M (values and thresholds) is rounded to 6 decimals before the
   comparison only; the emitted revenue is not rounded.
4. Thresholds: q_j = the value at 1-based position ceil(j*n/5) of the ascending list of the n
   customers' values (j = 1..4), computed with exact integer arithmetic.  F/M score =
   1 + #{j: x > q_j}; R score = 5 - #{j: x > q_j} (small recency = recent = high score).
5. FM = floor((F + M)/2 + 0.5) (half rounds up: 3.5 -> 4); without money FM = F (the F score)
   and m_score is None.  "new" tests the F-count (orders == 1), not the F score.
6. lifecycle "engaged_visitor": a user without orders with >= 2 sessions, or with at least one
   event named exactly "add_to_cart" or "checkout" (in the kept events).
7. Emit columns: sessions = number of the user's sessions; events = number of the user's kept
   events; orders = number of orders; revenue = Σ order values (0.0 for a user without orders when
   there is money, None without money); first_order/last_order = order times (None for
   non-customers); recency_days, r_score, f_score, m_score, rfm_segment are None for non-customers.
   Timestamps are the datetimes of the events (UTC).  Rows are sorted by user (natural ordering of
   the user values).
8. Tables: lifecycle and custom cover all users; rfm covers customers only, so its `sessions`,
   `orders`, `revenue` sums and its share / revenue_share denominators are over customers (the
   customers' sessions, which include their sessions without an order).  share = users / table
   users; revenue_share = revenue / table revenue; average_order_value = revenue / orders; any rate
   with a zero denominator is None; without money revenue, revenue_share, average_order_value are
   None.  Empty segments appear with users 0, sessions 0, orders 0, revenue 0.0 (or None).
9. custom: a list of (name, predicate); each predicate gets a copy of the user's emit row (without
   custom_segment).  The first predicate returning True wins; None and False are not a match; any
   other result (non-bool) raises ValueError (the SPEC's exit 2).  The name "other" is reserved
   (ValueError), and segments(by="custom") without `custom` raises ValueError.  An unknown `by`
   raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .model import (
    ADD_TO_CART,
    CHECKOUT,
    DEFAULT_GAP,
    Event,
    events_by_user,
    money_source,
    orders,
    orders_by_user,
    ratio,
    session_events,
)

LIFECYCLE = ["repeat_buyer", "first_time_buyer", "engaged_visitor", "first_time_visitor"]
RFM = ["champions", "loyal", "new", "promising", "at_risk", "hibernating", "lost"]
OTHER = "other"

Custom = list[tuple[str, Callable[[dict], "bool | None"]]]


def thresholds(values: list[float]) -> list[float]:
    """q_1..q_4: the value at 1-based position ceil(j*n/5) of the ascending list."""
    ordered = sorted(values)
    n = len(ordered)
    result = []
    for j in range(1, 5):
        position = -(-(j * n) // 5)  # ceil(j*n/5) in integers
        result.append(ordered[position - 1])
    return result


def count_above(x: float, qs: list[float]) -> int:
    return sum(1 for q in qs if x > q)


def lifecycle_of(n_orders: int, n_sessions: int, names: set[str]) -> str:
    if n_orders >= 2:
        return "repeat_buyer"
    if n_orders == 1:
        return "first_time_buyer"
    if n_sessions >= 2 or ADD_TO_CART in names or CHECKOUT in names:
        return "engaged_visitor"
    return "first_time_visitor"


RFM_RULES: list[tuple[str, Callable[[int, int, int], bool]]] = [
    ("champions", lambda r, fm, n: r >= 4 and fm >= 4),
    ("loyal", lambda r, fm, n: r >= 3 and fm >= 3),
    ("new", lambda r, fm, n: r >= 4 and n == 1),
    ("promising", lambda r, fm, n: r >= 3),
    ("at_risk", lambda r, fm, n: fm >= 3),
    ("hibernating", lambda r, fm, n: r == 2),
]


def rfm_segment_of(r: int, fm: int, f_count: int) -> str:
    """First matching rule of SPEC §16, else lost (f_count = number of orders)."""
    for name, rule in RFM_RULES:
        if rule(r, fm, f_count):
            return name
    return "lost"


def _check_custom(custom: Custom | None) -> None:
    if custom is None:
        return
    for name, _ in custom:
        if name == OTHER:
            raise ValueError("'other' is a reserved segment name")


def _custom_segment(row: dict, custom: Custom) -> str:
    for name, predicate in custom:
        result = predicate(dict(row))
        if result is None or result is False:
            continue
        if result is True:
            return name
        raise ValueError(f"segment {name!r}: non-boolean result {result!r}")
    return OTHER


def _score(rows: list[dict[str, Any]], money: bool) -> None:
    """Fill r_score, f_score, m_score, rfm_segment of the customers' rows."""
    customers = [row for row in rows if row["orders"] >= 1]
    if not customers:
        return
    r_q = thresholds([row["recency_days"] for row in customers])
    f_q = thresholds([row["orders"] for row in customers])
    m_q = thresholds([round(row["revenue"], 6) for row in customers]) if money else []
    for row in customers:
        r = 5 - count_above(row["recency_days"], r_q)
        f = 1 + count_above(row["orders"], f_q)
        if money:
            m = 1 + count_above(round(row["revenue"], 6), m_q)
            fm = math.floor((f + m) / 2 + 0.5)
        else:
            m = None
            fm = f
        row["r_score"] = r
        row["f_score"] = f
        row["m_score"] = m
        row["rfm_segment"] = rfm_segment_of(r, fm, row["orders"])


def users(
    events: list[Event],
    *,
    at: datetime | None = None,
    session_gap: timedelta = DEFAULT_GAP,
    has_session_column: bool = False,
    has_order_column: bool | None = None,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
    custom: Custom | None = None,
) -> list[dict[str, Any]]:
    """One emit row per user, sorted by user (SPEC §16 --emit)."""
    events = list(events)
    _check_custom(custom)
    # column existence: over all events, before the `at` cut (choice 1)
    if has_order_column is None:
        has_order_column = any(e.order_id is not None for e in events)
    source = money_source(events, has_price_column, has_revenue_column)
    money = source is not None
    has_revenue_column = source == "revenue"
    has_price_column = source == "price"

    if at is not None:
        events = [e for e in events if e.time < at]
        now = at
    elif events:
        now = max(e.time for e in events)
    else:
        return []

    by_user = events_by_user(events)
    by_session = session_events(events, has_session_column=has_session_column, gap=session_gap)
    session_count: dict[Any, int] = {}
    for evs in by_session.values():
        user = evs[0].user
        session_count[user] = session_count.get(user, 0) + 1
    user_orders = orders_by_user(
        orders(
            events,
            has_session_column=has_session_column,
            gap=session_gap,
            has_order_column=has_order_column,
            has_price_column=has_price_column,
            has_revenue_column=has_revenue_column,
        )
    )

    rows: list[dict[str, Any]] = []
    for user in sorted(by_user):
        evs = by_user[user]
        os_ = user_orders.get(user, [])
        if money:
            revenue: float | None = 0.0
            for o in os_:
                revenue += o.value
        else:
            revenue = None
        rows.append(
            {
                "user": user,
                "first_event": evs[0].time,
                "last_event": evs[-1].time,
                "sessions": session_count[user],
                "events": len(evs),
                "orders": len(os_),
                "revenue": revenue,
                "first_order": os_[0].time if os_ else None,
                "last_order": os_[-1].time if os_ else None,
                "recency_days": (now - os_[-1].time).total_seconds() / 86400 if os_ else None,
                "r_score": None,
                "f_score": None,
                "m_score": None,
                "lifecycle": lifecycle_of(len(os_), session_count[user], {e.event for e in evs}),
                "rfm_segment": None,
            }
        )

    _score(rows, money)
    if custom is not None:
        for row in rows:
            row["custom_segment"] = _custom_segment(row, custom)
    return rows


def segments(
    events: list[Event],
    *,
    by: str = "lifecycle",
    at: datetime | None = None,
    session_gap: timedelta = DEFAULT_GAP,
    has_session_column: bool = False,
    has_order_column: bool | None = None,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
    custom: Custom | None = None,
) -> list[dict[str, Any]]:
    """Rows {segment, users, share, sessions, orders, revenue, revenue_share,
    average_order_value} in the SPEC's segment order, empty segments included."""
    if by == "lifecycle":
        names, column = list(LIFECYCLE), "lifecycle"
    elif by == "rfm":
        names, column = list(RFM), "rfm_segment"
    elif by == "custom":
        if not custom:
            raise ValueError("--by custom needs [segments]")
        names, column = [name for name, _ in custom] + [OTHER], "custom_segment"
    else:
        raise ValueError(f"unknown --by {by!r}")
    events = list(events)
    source = money_source(events, has_price_column, has_revenue_column)
    money = source is not None
    rows = users(
        events,
        at=at,
        session_gap=session_gap,
        has_session_column=has_session_column,
        has_order_column=has_order_column,
        has_price_column=has_price_column,
        has_revenue_column=has_revenue_column,
        custom=custom,
    )
    if by == "rfm":
        rows = [row for row in rows if row["orders"] >= 1]

    table_users = len(rows)
    table_revenue = sum(row["revenue"] for row in rows) if money else None
    result = []
    for name in names:
        members = [row for row in rows if row[column] == name]
        n_orders = sum(row["orders"] for row in members)
        revenue = sum((row["revenue"] for row in members), 0.0) if money else None
        result.append(
            {
                "segment": name,
                "users": len(members),
                "share": ratio(len(members), table_users),
                "sessions": sum(row["sessions"] for row in members),
                "orders": n_orders,
                "revenue": revenue,
                "revenue_share": ratio(revenue, table_revenue) if money else None,
                "average_order_value": ratio(revenue, n_orders) if money else None,
            }
        )
    return result
