"""Reference headline figures (SPEC §7b).

AMBIGUITIES AND CHOICES
1. since/until keep events in [since, until) before sessions and orders are built.  Whether a money
   column exists is decided over ALL events passed in (before the filter), so a range with only
   null prices still reports revenue 0.0, not None.
2. revenue = Σ order values (None when the data has neither revenue nor price);
   average_order_value = revenue / orders (None when orders == 0 or revenue is None).
3. cart_abandonment_rate = abandoned / cart sessions per §6 computed on the filtered events with no
   further session selection; None when there is no cart session.
4. sessions_with_purchase counts sessions that contain a purchase EVENT (not sessions that own an
   order).  session_conversion_rate = sessions_with_purchase / sessions.
5. All other rates are None on a zero denominator; first_event / last_event are datetimes (None when
   no events remain).  dropped_rows is passed through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .abandonment import abandonment
from .model import (
    DEFAULT_GAP,
    PURCHASE,
    Event,
    has_price,
    has_revenue,
    in_range,
    money_source,
    orders,
    orders_by_user,
    ratio,
    session_events,
)


def summary(
    events: Iterable[Event],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    dropped_rows: int = 0,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> dict[str, Any]:
    all_events = list(events)
    price_col = has_price(all_events) if has_price_column is None else has_price_column
    revenue_col = has_revenue(all_events) if has_revenue_column is None else has_revenue_column
    source = money_source(all_events, price_col, revenue_col)
    kept = [e for e in all_events if in_range(e.time, since, until)]

    by_session = session_events(kept, has_session_column=has_session_column, gap=gap)
    n_sessions = len(by_session)
    bounces = sum(1 for evs in by_session.values() if len(evs) == 1)
    with_purchase = sum(1 for evs in by_session.values() if any(e.event == PURCHASE for e in evs))
    all_orders = orders(
        kept,
        has_session_column=has_session_column,
        gap=gap,
        has_order_column=has_order_column,
        has_price_column=price_col,
        has_revenue_column=revenue_col,
    )
    user_orders = orders_by_user(all_orders)
    n_orders = len(all_orders)
    revenue = None if source is None else sum(o.value or 0.0 for o in all_orders)
    customers = sum(1 for os_ in user_orders.values() if len(os_) >= 1)
    repeat = sum(1 for os_ in user_orders.values() if len(os_) >= 2)
    ab = abandonment(
        kept,
        has_session_column=has_session_column,
        gap=gap,
        has_order_column=has_order_column,
        has_price_column=price_col,
        has_revenue_column=revenue_col,
    )[0]
    return {
        "events": len(kept),
        "users": len({e.user for e in kept}),
        "sessions": n_sessions,
        "bounce_rate": ratio(bounces, n_sessions),
        "sessions_with_purchase": with_purchase,
        "session_conversion_rate": ratio(with_purchase, n_sessions),
        "cart_abandonment_rate": ab["abandonment_rate"],
        "orders": n_orders,
        "revenue": revenue,
        "average_order_value": (None if revenue is None or n_orders == 0 else revenue / n_orders),
        "customers": customers,
        "repeat_customers": repeat,
        "repeat_purchase_rate": ratio(repeat, customers),
        "first_event": min((e.time for e in kept), default=None),
        "last_event": max((e.time for e in kept), default=None),
        "dropped_rows": dropped_rows,
    }
