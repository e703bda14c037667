"""Reference touchpoint attribution (SPEC §15).

Plain, slow, obviously-correct Python used to cross-check the production implementation.  Built
only on `model` (events, sessions, orders, order values, money detection).

AMBIGUITIES AND CHOICES
1. `touch` names a key of `Event.dims` (column resolution / the default touch column list is the
   loader's job).  A missing key or a None value is null → "(none)"; any other value is `str(value)`
   (so an empty string stays "" — turning blanks into nulls is the loader's job too).
2. Sessions and orders are built from ALL events passed in (no since/until filtering of events):
   since/until select orders by their time (first purchase row) in the half-open [since, until),
   and paths may use any session of the user, also ones that start before `since`.  Money columns
   and `has_order_column` are inferred over all events when not given (a money column exists if
   some event has a non-null value; the order column exists if some event has a non-null
   order_id), like model.py.
3. Path of an order at t: the user's sessions whose first event time s satisfies
   t − lookback ≤ s ≤ t (both ends inclusive), plus the order's own session (the session of its
   first purchase row) even when it started before t − lookback; each session at most once.  With
   a session column another session of the user that starts at exactly t is in the path (s ≤ t),
   even if it starts at a later row than the purchase.
4. Path order: (s, session key as text).  The key's text is the session value (with a session
   column) or the gap-session index; a null session value sorts before any text (same choice as
   paths.py).  With gap sessions first times never tie, so the tie-break only matters with a session
   column (for first / last / last_non_direct / position).
5. last_non_direct: a label is direct when `label.casefold()` is one of "direct", "(direct)",
   "(none)"; no stripping of blanks.  The test is on the label after null → "(none)", so a literal
   "(NONE)" value is direct too.  With no non-direct session the credit goes to the last session.
6. time_decay: raw w_i = 2 ** (−(t − s_i) / half_life) (t − s_i ≥ 0 always), normalised by their
   sum.  half_life must be positive; lookback must be ≥ 0 (ValueError otherwise).
7. A touch value in several sessions of one path sums the weights of those sessions; it counts once
   in orders_touched for that order.  Two orders in one session are two orders with their own paths.
8. conversions = round(Σ weights, 3) (Python's round on the float: half to even on the binary
   value).  Sorting uses the rounded conversions.  Shares use the unrounded sums: conversion_share =
   Σ weights / number of orders in range (each order's weights sum to exactly 1 in exact
   arithmetic, so the model total is the order count); revenue_share = revenue / Σ order values of
   the orders in range (None when that total is 0).  revenue and the shares are not rounded.
9. Without any money column revenue and revenue_share are None for every row.  With money an order
   whose value is 0 contributes 0.
10. Every selected model lists every touch value occurring in any path of an in-range order (zero
   credits included).  orders_touched is the same for every model.  No order in range → [].
11. `models` may be given in any order; rows follow the canonical order first, last,
   last_non_direct, linear, position, time_decay; duplicates are ignored; an unknown name raises
   ValueError.  Within a model: conversions (rounded) descending, then touch by Python str order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from .model import (
    DEFAULT_GAP,
    Event,
    Order,
    has_price,
    has_revenue,
    in_range,
    orders,
    session_events,
)

NONE_LABEL = "(none)"
MODELS = ("first", "last", "last_non_direct", "linear", "position", "time_decay")
DIRECT_LABELS = ("direct", "(direct)", "(none)")


def touch_label(value: object) -> str:
    return NONE_LABEL if value is None else str(value)


def is_direct(label: str) -> bool:
    return label.casefold() in DIRECT_LABELS


def session_text(key: Any) -> tuple[bool, str]:
    """Tie-break text of a session key (user, value-or-index); a null value sorts first."""
    value = key[1]
    return (value is not None, "" if value is None else str(value))


def order_path(
    order: Order,
    user_sessions: list[tuple[datetime, Any, str]],
    lookback: timedelta,
) -> list[tuple[datetime, str]]:
    """The order's path as (s, touch label), ordered by (s, session key as text).

    user_sessions: (first event time, session key, touch label) of every session of the user.
    """
    chosen = []
    for start, key, label in user_sessions:
        in_window = order.time - lookback <= start <= order.time
        if in_window or key == order.session_key:
            chosen.append((start, session_text(key), label))
    chosen.sort(key=lambda item: (item[0], item[1]))
    return [(start, label) for start, _, label in chosen]


def _first(path, t, half_life):
    return [1.0] + [0.0] * (len(path) - 1)


def _last(path, t, half_life):
    return [0.0] * (len(path) - 1) + [1.0]


def _last_non_direct(path, t, half_life):
    m = len(path)
    chosen = m - 1
    for i in range(m - 1, -1, -1):
        if not is_direct(path[i][1]):
            chosen = i
            break
    return [1.0 if i == chosen else 0.0 for i in range(m)]


def _linear(path, t, half_life):
    m = len(path)
    return [1.0 / m] * m


def _position(path, t, half_life):
    m = len(path)
    if m == 1:
        return [1.0]
    if m == 2:
        return [0.5, 0.5]
    return [0.4] + [0.2 / (m - 2)] * (m - 2) + [0.4]


def _time_decay(path, t, half_life):
    raw = [2.0 ** (-((t - start) / half_life)) for start, _ in path]
    total = sum(raw)
    return [r / total for r in raw]


WEIGHTS = {
    "first": _first,
    "last": _last,
    "last_non_direct": _last_non_direct,
    "linear": _linear,
    "position": _position,
    "time_decay": _time_decay,
}


def path_weights(
    model: str, path: list[tuple[datetime, str]], t: datetime, half_life: timedelta
) -> list[float]:
    """One weight per session of the path (they sum to 1)."""
    return WEIGHTS[model](path, t, half_life)


def _check(models: tuple[str, ...], lookback: timedelta, half_life: timedelta) -> None:
    for name in models:
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r}")
    if half_life <= timedelta(0):
        raise ValueError("half_life must be positive")
    if lookback < timedelta(0):
        raise ValueError("lookback must not be negative")


def _model_rows(
    model: str,
    selected: list[Order],
    paths: list[list[tuple[datetime, str]]],
    touched: dict[str, int],
    money: bool,
    half_life: timedelta,
) -> list[dict[str, Any]]:
    labels = sorted(touched)
    credit = dict.fromkeys(labels, 0.0)
    value_credit = dict.fromkeys(labels, 0.0)
    for order, path in zip(selected, paths, strict=True):
        weights = path_weights(model, path, order.time, half_life)
        for (_, label), w in zip(path, weights, strict=True):
            credit[label] += w
            if money:
                value_credit[label] += w * order.value
    n_orders = len(selected)
    total_value = sum(o.value for o in selected) if money else 0.0
    rows = []
    for label in labels:
        revenue = value_credit[label] if money else None
        revenue_share = revenue / total_value if money and total_value != 0 else None
        rows.append(
            {
                "model": model,
                "touch": label,
                "conversions": round(credit[label], 3),
                "conversion_share": credit[label] / n_orders,
                "revenue": revenue,
                "revenue_share": revenue_share,
                "orders_touched": touched[label],
            }
        )
    rows.sort(key=lambda r: (-r["conversions"], r["touch"]))
    return rows


def attribution(
    events: list[Event],
    *,
    touch: str,
    lookback: timedelta = timedelta(days=30),
    models: tuple[str, ...] = MODELS,
    half_life: timedelta = timedelta(days=7),
    since: datetime | None = None,
    until: datetime | None = None,
    session_gap: timedelta = DEFAULT_GAP,
    has_session_column: bool = False,
    has_order_column: bool | None = None,
    has_price_column: bool | None = None,
    has_revenue_column: bool | None = None,
) -> list[dict[str, Any]]:
    """Rows {model, touch, conversions, conversion_share, revenue, revenue_share,
    orders_touched}."""
    events = list(events)
    _check(models, lookback, half_life)
    if has_order_column is None:
        has_order_column = any(e.order_id is not None for e in events)
    if has_price_column is None:
        has_price_column = has_price(events)
    if has_revenue_column is None:
        has_revenue_column = has_revenue(events)
    money = has_price_column or has_revenue_column

    # every session of every user: (first event time, key, touch label of its first event)
    by_session = session_events(events, has_session_column=has_session_column, gap=session_gap)
    sessions_of_user: dict[Any, list[tuple[datetime, Any, str]]] = defaultdict(list)
    for key, evs in by_session.items():
        first = evs[0]
        sessions_of_user[first.user].append((first.time, key, touch_label(first.dims.get(touch))))

    all_orders = orders(
        events,
        has_session_column=has_session_column,
        gap=session_gap,
        has_order_column=has_order_column,
        has_price_column=has_price_column,
        has_revenue_column=has_revenue_column,
    )
    selected = [o for o in all_orders if in_range(o.time, since, until)]
    if not selected:
        return []
    paths = [order_path(o, sessions_of_user[o.user], lookback) for o in selected]

    # orders_touched: each order counts once per distinct label in its path
    touched: dict[str, int] = defaultdict(int)
    for path in paths:
        for label in {label for _, label in path}:
            touched[label] += 1

    rows: list[dict[str, Any]] = []
    for model in MODELS:
        if model in models:
            rows.extend(_model_rows(model, selected, paths, dict(touched), money, half_life))
    return rows
