"""Reference cart abandonment (SPEC §6).

AMBIGUITIES AND CHOICES
1. Sessions, orders and the data's last timestamp are built from ALL events passed in; since/until
   only select which sessions are reported: a session's anchor is its first add_to_cart, or its
   first checkout when it has no add_to_cart; anchor in [since, until).  A session with neither is
   never reported.
2. converted: some purchase EVENT in the session with time >= time of its first add_to_cart
   (timestamps only).  checkout_abandoned: a session with a checkout and no purchase event in the
   session with time >= its first checkout.  checkout_sessions include checkout-only sessions
   (no add_to_cart); they are not cart sessions.
3. value_at_risk per abandoned cart session = max(0, Σ price×qty over add_to_cart rows −
   Σ price×qty over remove_from_cart rows) with null quantity → 1 and null price → 0.  With a
   revenue column but no price column the figure is therefore 0 (the SPEC names price × quantity
   only).  Both money columns (value_at_risk, recovered_revenue) are None when the data has
   neither price nor revenue.
4. Recovered: an abandoned (cart) session whose user has an order (any session, model.orders) with
   last < order.time <= last + window, last = the session's last event time.  The "first such
   order" is the earliest by (time, first row); its value is added to recovered_revenue once per
   session it recovers.  Checkout-only abandoned sessions are never "recovered" (recovery is over
   `abandoned`).
5. recovery_pending: abandoned, not recovered, last + window > data's last timestamp (strictly).
6. Rates with a zero denominator are None.
7. Breakdown: dims[COL] of the session's first event (by (time,row)); None → "(none)".  One row per
   value seen among the reported sessions, ordered by (value is None, str(value)); without a
   breakdown, exactly one row (zeros when nothing is reported).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .model import (
    ADD_TO_CART,
    CHECKOUT,
    DEFAULT_GAP,
    PURCHASE,
    REMOVE_FROM_CART,
    Event,
    in_range,
    money_source,
    orders,
    orders_by_user,
    ratio,
    session_events,
)

NONE_LABEL = "(none)"


def _line_value(e: Event) -> float:
    price = e.price if e.price is not None else 0.0
    quantity = e.quantity if e.quantity is not None else 1.0
    return price * quantity


def session_facts(
    events: Iterable[Event],
    *,
    recovery_window: timedelta = timedelta(days=7),
    since: datetime | None = None,
    until: datetime | None = None,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> dict[Any, dict[str, Any]]:
    """Per reported session: what §6 needs to know about it."""
    events = list(events)
    money = money_source(events, has_price_column, has_revenue_column) is not None
    last_ts = max((e.time for e in events), default=None)
    by_session = session_events(events, has_session_column=has_session_column, gap=gap)
    user_orders = orders_by_user(
        orders(
            events,
            has_session_column=has_session_column,
            gap=gap,
            has_order_column=has_order_column,
            has_price_column=has_price_column,
            has_revenue_column=has_revenue_column,
        )
    )
    facts = {}
    for key, evs in by_session.items():
        carts = [e for e in evs if e.event == ADD_TO_CART]
        checkouts = [e for e in evs if e.event == CHECKOUT]
        purchases = [e for e in evs if e.event == PURCHASE]
        if not carts and not checkouts:
            continue
        anchor = carts[0].time if carts else checkouts[0].time
        if not in_range(anchor, since, until):
            continue
        f: dict[str, Any] = {
            "first_event": evs[0],
            "cart": bool(carts),
            "checkout": bool(checkouts),
        }
        f["converted"] = bool(carts) and any(p.time >= carts[0].time for p in purchases)
        f["abandoned"] = bool(carts) and not f["converted"]
        f["checkout_abandoned"] = bool(checkouts) and not any(
            p.time >= checkouts[0].time for p in purchases
        )
        if f["abandoned"]:
            added = sum(_line_value(e) for e in evs if e.event == ADD_TO_CART)
            removed = sum(_line_value(e) for e in evs if e.event == REMOVE_FROM_CART)
            f["value_at_risk"] = max(0.0, added - removed)
            last = evs[-1].time
            recovering = [
                o
                for o in user_orders.get(evs[0].user, [])
                if last < o.time <= last + recovery_window
            ]
            f["recovered"] = bool(recovering)
            f["recovered_value"] = recovering[0].value if recovering else None
            f["pending"] = (
                (not recovering) and last_ts is not None and (last + recovery_window > last_ts)
            )
        else:
            f["value_at_risk"] = 0.0
            f["recovered"] = False
            f["recovered_value"] = None
            f["pending"] = False
        f["money"] = money
        facts[key] = f
    return facts


def _row(group: list[dict[str, Any]], money: bool) -> dict[str, Any]:
    cart_sessions = sum(1 for f in group if f["cart"])
    converted = sum(1 for f in group if f["converted"])
    abandoned = sum(1 for f in group if f["abandoned"])
    checkout_sessions = sum(1 for f in group if f["checkout"])
    checkout_abandoned = sum(1 for f in group if f["checkout_abandoned"])
    recovered = sum(1 for f in group if f["recovered"])
    if money:
        value_at_risk: float | None = sum(f["value_at_risk"] for f in group if f["abandoned"])
        recovered_revenue: float | None = sum(
            (f["recovered_value"] or 0.0) for f in group if f["recovered"]
        )
    else:
        value_at_risk = None
        recovered_revenue = None
    return {
        "cart_sessions": cart_sessions,
        "converted": converted,
        "abandoned": abandoned,
        "abandonment_rate": ratio(abandoned, cart_sessions),
        "checkout_sessions": checkout_sessions,
        "checkout_abandoned": checkout_abandoned,
        "checkout_abandonment_rate": ratio(checkout_abandoned, checkout_sessions),
        "value_at_risk": value_at_risk,
        "recovered": recovered,
        "recovery_rate": ratio(recovered, abandoned),
        "recovered_revenue": recovered_revenue,
        "recovery_pending": sum(1 for f in group if f["pending"]),
    }


def abandonment(
    events: Iterable[Event],
    *,
    recovery_window: timedelta = timedelta(days=7),
    breakdown: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> list[dict[str, Any]]:
    events = list(events)
    money = money_source(events, has_price_column, has_revenue_column) is not None
    facts = session_facts(
        events,
        recovery_window=recovery_window,
        since=since,
        until=until,
        has_session_column=has_session_column,
        gap=gap,
        has_order_column=has_order_column,
        has_price_column=has_price_column,
        has_revenue_column=has_revenue_column,
    )
    if breakdown is None:
        return [_row(list(facts.values()), money)]
    values = sorted(
        {f["first_event"].dims.get(breakdown) for f in facts.values()},
        key=lambda v: (v is None, str(v)),
    )
    rows = []
    for value in values:
        group = [f for f in facts.values() if f["first_event"].dims.get(breakdown) == value]
        row = {breakdown: NONE_LABEL if value is None else value}
        row.update(_row(group, money))
        rows.append(row)
    return rows
