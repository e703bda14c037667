"""Reference journey stages (SPEC §5).

AMBIGUITIES AND CHOICES
1. A session's stage is the deepest stage whose condition it meets; lower conditions are not
   required (a purchase-only session is at "purchase", a lone review after the first order is at
   "advocacy").
2. "a session has an order" = the order belongs to the session (model: the session of the order's
   first purchase row).  A session that only holds later rows of an order that started in another
   session does NOT get purchase/retention from it.
3. advocacy: a review/referral/share event whose timestamp is >= the time of the user's first order
   (timestamps only, "at or after"; ties count).  Users without orders never reach advocacy.
4. purchase: the session holds the user's first order; retention: the session holds any later
   order (orders ranked by (time, first row)).
5. by user: the deepest stage over the user's sessions; which equals: advocacy if any advocacy event
   at/after first order, else retention if >= 2 orders, else purchase if >= 1 order, else decision /
   consideration / awareness by the events the user has.  Every user with an event is counted.
6. by user rates: row 1 has both rates 1.0 (None when there are no users); a zero denominator gives
   None.  by session: share = sessions / total sessions (None when there are none); all six rows
   are always returned.
7. Optional since/until keep events in [since, until) before sessions and orders are built (as in
   the summary, §7b); the SPEC defines no range for stages, so the default is no filtering.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .model import (
    ADD_TO_CART,
    ADVOCACY_EVENTS,
    CHECKOUT,
    DEFAULT_GAP,
    PRODUCT_VIEW,
    SEARCH,
    Event,
    in_range,
    orders,
    orders_by_user,
    ratio,
    session_events,
)

STAGES = ["awareness", "consideration", "decision", "purchase", "retention", "advocacy"]
RANK = {name: i for i, name in enumerate(STAGES)}


def _filter(events: Iterable[Event], since: datetime | None, until: datetime | None) -> list[Event]:
    return [e for e in events if in_range(e.time, since, until)]


def _order_kinds_by_session(user_orders: dict[Any, list[Any]]) -> dict[Any, list[str]]:
    """session key -> "purchase" (holds the user's first order) / "retention" (a later order)."""
    order_kinds: dict[Any, list[str]] = {}
    for os_ in user_orders.values():
        for i, o in enumerate(os_):
            kind = "purchase" if i == 0 else "retention"
            order_kinds.setdefault(o.session_key, []).append(kind)
    return order_kinds


def session_stage(
    events: Iterable[Event],
    *,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[Any, str]:
    events = _filter(events, since, until)
    by_session = session_events(events, has_session_column=has_session_column, gap=gap)
    all_orders = orders(
        events, has_session_column=has_session_column, gap=gap, has_order_column=has_order_column
    )
    user_orders = orders_by_user(all_orders)
    first_order_time = {u: os_[0].time for u, os_ in user_orders.items()}
    order_kinds = _order_kinds_by_session(user_orders)

    result = {}
    for key, evs in by_session.items():
        user = evs[0].user
        stage = "awareness"
        names = {e.event for e in evs}
        if PRODUCT_VIEW in names or SEARCH in names:
            stage = "consideration"
        if ADD_TO_CART in names or CHECKOUT in names:
            stage = "decision"
        kinds = order_kinds.get(key, [])
        if "purchase" in kinds:
            stage = "purchase"
        if "retention" in kinds:
            stage = "retention"
        if user in first_order_time:
            for e in evs:
                if e.event in ADVOCACY_EVENTS and e.time >= first_order_time[user]:
                    stage = "advocacy"
        result[key] = stage
    return result


def stages_by_session(
    events: Iterable[Event],
    *,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    events = _filter(events, since, until)
    stage_of = session_stage(
        events, has_session_column=has_session_column, gap=gap, has_order_column=has_order_column
    )
    by_session = session_events(events, has_session_column=has_session_column, gap=gap)
    total = len(stage_of)
    rows = []
    for stage in STAGES:
        keys = [k for k, s in stage_of.items() if s == stage]
        bounces = sum(1 for k in keys if len(by_session[k]) == 1)
        rows.append(
            {
                "stage": stage,
                "sessions": len(keys),
                "share": ratio(len(keys), total),
                "bounces": bounces,
            }
        )
    return rows


def user_stage(
    events: Iterable[Event],
    *,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[Any, str]:
    """A user's stage computed directly from the by-user wording of §5."""
    events = _filter(events, since, until)
    all_orders = orders(
        events, has_session_column=has_session_column, gap=gap, has_order_column=has_order_column
    )
    user_orders = orders_by_user(all_orders)
    names_of: dict[Any, set[str]] = {}
    for e in events:
        names_of.setdefault(e.user, set()).add(e.event)
    result = {}
    for user, names in names_of.items():
        stage = "awareness"
        if PRODUCT_VIEW in names or SEARCH in names:
            stage = "consideration"
        if ADD_TO_CART in names or CHECKOUT in names:
            stage = "decision"
        n_orders = len(user_orders.get(user, []))
        if n_orders >= 1:
            stage = "purchase"
        if n_orders >= 2:
            stage = "retention"
        if n_orders >= 1:
            first = user_orders[user][0].time
            if any(
                e.user == user and e.event in ADVOCACY_EVENTS and e.time >= first for e in events
            ):
                stage = "advocacy"
        result[user] = stage
    return result


def stages_by_user(
    events: Iterable[Event],
    *,
    has_session_column: bool,
    gap: timedelta = DEFAULT_GAP,
    has_order_column: bool,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    events = list(events)
    kwargs = dict(
        has_session_column=has_session_column,
        gap=gap,
        has_order_column=has_order_column,
        since=since,
        until=until,
    )
    stage_of = user_stage(events, **kwargs)
    # cross-check: deepest over sessions gives the same answer
    per_session = session_stage(events, **kwargs)
    deepest: dict[Any, str] = {}
    for key, stage in per_session.items():
        user = key[0]
        if user not in deepest or RANK[stage] > RANK[deepest[user]]:
            deepest[user] = stage
    assert deepest == stage_of, "user stage != deepest session stage"

    counts = [sum(1 for s in stage_of.values() if RANK[s] >= RANK[stage]) for stage in STAGES]
    rows = []
    for i, stage in enumerate(STAGES):
        if i == 0:
            prev = 1.0 if counts[0] > 0 else None
            overall = 1.0 if counts[0] > 0 else None
        else:
            prev = ratio(counts[i], counts[i - 1])
            overall = ratio(counts[i], counts[0])
        rows.append(
            {
                "stage": stage,
                "users": counts[i],
                "conversion_from_previous": prev,
                "conversion_overall": overall,
            }
        )
    return rows
