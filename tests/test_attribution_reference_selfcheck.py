"""Hand-computed checks of the reference attribution (tests/reference/attribution.py, SPEC §15).

Every expected number is a literal worked out by hand; the comment next to it says how.
Times are minutes after T0 = 2026-03-02 12:00 UTC (a Monday); D = one day in minutes.
"""

from datetime import UTC, datetime, timedelta

import pytest
from tests.reference.attribution import attribution
from tests.reference.model import Event

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
D = 24 * 60  # one day, in minutes
SEC = 1 / 60  # one second, in minutes


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def log(*items):
    """items: (user, minutes, event[, channel[, {extra fields}]]); row = position.

    channel: a value for dims["channel"]; "-" (or omitted) leaves the key out.
    """
    out = []
    for row, item in enumerate(items):
        user, when, name = item[:3]
        channel = item[3] if len(item) > 3 else "-"
        extra = dict(item[4]) if len(item) > 4 else {}
        dims = {} if channel == "-" else {"channel": channel}
        out.append(Event(user=user, time=at(when), event=name, row=row, dims=dims, **extra))
    return out


def run(events, **kw):
    kw.setdefault("touch", "channel")
    return attribution(events, **kw)


def by_touch(rows, model, field):
    return {r["touch"]: r[field] for r in rows if r["model"] == model}


# ----------------------------------------------------------------------------------- path rules
def test_own_session_is_in_the_path_even_when_it_started_before_the_lookback():
    # session column: s1 starts at 0 (ads) and holds the purchase at 31D → t = 31D, window
    # [t − 30D, t] = [1D, 31D].  s0 at −1D (social): out.  s2 at 20D (email): in.  s1 starts at 0 <
    # 1D, but it is the order's own session → in.  Path by s: ads (0), email (20D).
    ev = log(
        (1, -D, "page_view", "social", {"session": "s0"}),
        (1, 0, "page_view", "ads", {"session": "s1"}),
        (1, 20 * D, "page_view", "email", {"session": "s2"}),
        (1, 31 * D, "purchase", "-", {"session": "s1"}),
    )
    rows = run(ev, has_session_column=True, models=("first", "last"))
    assert by_touch(rows, "first", "conversions") == {"ads": 1.0, "email": 0.0}  # first = ads
    assert by_touch(rows, "last", "conversions") == {"email": 1.0, "ads": 0.0}  # last = email
    assert by_touch(rows, "first", "orders_touched") == {"ads": 1, "email": 1}  # social not listed


def test_session_exactly_at_the_lookback_boundary_is_in():
    # user 1: ads session at 0, purchase (own session, email) at 30D → s = t − 30D exactly → in.
    # user 2: social session at −1s, purchase (email) at 30D → t − s = 30D + 1s → out.
    ev = log(
        (1, 0, "page_view", "ads"),
        (1, 30 * D, "purchase", "email"),
        (2, -SEC, "page_view", "social"),
        (2, 30 * D, "purchase", "email"),
    )
    rows = run(ev, models=("first",))
    # user 1 path [ads, email] → first ads; user 2 path [email] → first email
    assert [(r["touch"], r["conversions"], r["orders_touched"]) for r in rows] == [
        ("ads", 1.0, 1),
        ("email", 1.0, 2),  # both paths hold email
    ]
    # a lookback one second shorter drops user 1's ads session: email gets both orders
    rows = run(ev, models=("first",), lookback=timedelta(days=30) - timedelta(seconds=1))
    assert [(r["touch"], r["conversions"]) for r in rows] == [("email", 2.0)]


# ------------------------------------------------------------------------------------ weights
def test_position_weights_for_1_2_3_and_5_sessions():
    # one user per path length m; sessions one hour apart, purchase 1 minute into the last one.
    items = []
    for user, prefix, m in ((1, "a", 1), (2, "b", 2), (3, "c", 3), (4, "d", 5)):
        for i in range(m):
            items.append((user, 60 * i, "page_view", f"{prefix}{i + 1}"))
        items.append((user, 60 * (m - 1) + 1, "purchase", "-"))
    rows = run(log(*items), models=("position",))
    conv = by_touch(rows, "position", "conversions")
    assert conv == {
        "a1": 1.0,  # m = 1: 1
        "b1": 0.5,  # m = 2: ½ each
        "b2": 0.5,
        "c1": 0.4,  # m = 3: 0.4 first, 0.4 last, 0.2 / 1 middle
        "c2": 0.2,
        "c3": 0.4,
        "d1": 0.4,  # m = 5: 0.4, 0.2/3 = 0.0667 ×3 → 0.067, 0.4
        "d2": 0.067,
        "d3": 0.067,
        "d4": 0.067,
        "d5": 0.4,
    }
    share = by_touch(rows, "position", "conversion_share")
    assert share["a1"] == pytest.approx(0.25)  # 1 / 4 orders
    assert share["d2"] == pytest.approx(0.2 / 3 / 4)  # unrounded 0.0667 / 4 = 0.01667
    # ordering: conversions desc, then touch: 1.0 a1; 0.5 b1 b2; 0.4 c1 c3 d1 d5; 0.2 c2; 0.067 d*
    assert [r["touch"] for r in rows] == [
        "a1",
        "b1",
        "b2",
        "c1",
        "c3",
        "d1",
        "d5",
        "c2",
        "d2",
        "d3",
        "d4",
    ]


def test_last_non_direct_falls_back_to_last():
    # user 1 path [ads, direct]: last non-direct = ads.
    # user 2 path [(DIRECT), null→(none)]: both direct (case-insensitive) → falls back to last =
    # (none).
    ev = log(
        (1, 0, "page_view", "ads"),
        (1, 60, "page_view", "direct"),
        (1, 61, "purchase"),
        (2, 0, "page_view", "(DIRECT)"),
        (2, 60, "page_view", None),
        (2, 61, "purchase"),
    )
    rows = run(ev, models=("last", "last_non_direct"))
    assert [(r["model"], r["touch"], r["conversions"]) for r in rows] == [
        # last: direct 1 (user 1), (none) 1 (user 2); "(" sorts before letters
        ("last", "(none)", 1.0),
        ("last", "direct", 1.0),
        ("last", "(DIRECT)", 0.0),
        ("last", "ads", 0.0),
        # last_non_direct: ads 1 (user 1), (none) 1 (fallback, user 2)
        ("last_non_direct", "(none)", 1.0),
        ("last_non_direct", "ads", 1.0),
        ("last_non_direct", "(DIRECT)", 0.0),
        ("last_non_direct", "direct", 0.0),
    ]


def test_time_decay_two_sessions_one_half_life_apart():
    # ads at 0, purchase at 7D opening its own session (email); half-life 7D.
    # raw: ads 2^(−7/7) = ½, email 2^0 = 1 → normalised ads ⅓, email ⅔.
    # revenue 30: ads 10, email 20; revenue shares ⅓, ⅔.
    ev = log((1, 0, "page_view", "ads"), (1, 7 * D, "purchase", "email", {"revenue": 30.0}))
    rows = run(ev, models=("time_decay",))
    assert [(r["touch"], r["conversions"]) for r in rows] == [("email", 0.667), ("ads", 0.333)]
    assert by_touch(rows, "time_decay", "revenue") == pytest.approx({"email": 20.0, "ads": 10.0})
    assert by_touch(rows, "time_decay", "revenue_share") == pytest.approx(
        {"email": 2 / 3, "ads": 1 / 3}
    )
    assert by_touch(rows, "time_decay", "conversion_share") == pytest.approx(
        {"email": 2 / 3, "ads": 1 / 3}  # one order
    )


def test_touch_repeated_in_one_path_sums_its_weights():
    # path [ads, email, ads] (sessions at 0, 60, 120; purchase at 121).
    ev = log(
        (1, 0, "page_view", "ads"),
        (1, 60, "page_view", "email"),
        (1, 120, "page_view", "ads"),
        (1, 121, "purchase"),
    )
    rows = run(ev, models=("linear", "position"))
    # linear: ⅓ each → ads ⅔ = 0.667, email 0.333
    assert by_touch(rows, "linear", "conversions") == {"ads": 0.667, "email": 0.333}
    # position m = 3: ads 0.4 + 0.4 = 0.8, email 0.2
    assert by_touch(rows, "position", "conversions") == {"ads": 0.8, "email": 0.2}
    # one order touched by ads, counted once
    assert by_touch(rows, "linear", "orders_touched") == {"ads": 1, "email": 1}


def test_null_touch_is_none_and_only_the_first_event_counts():
    # user 1: the session's first event has no channel key, its second has ads → touch (none).
    # user 2: channel explicitly None → (none).  ads never opens a session → not listed.
    ev = log(
        (1, 0, "page_view"),
        (1, 1, "page_view", "ads"),
        (1, 2, "purchase", "ads"),
        (2, 0, "page_view", None),
        (2, 1, "purchase"),
    )
    rows = run(ev, models=("first",))
    assert [(r["touch"], r["conversions"], r["orders_touched"]) for r in rows] == [
        ("(none)", 2.0, 2)
    ]


def test_linear_rounding_is_half_to_even():
    # 16 sessions, linear: each 1/16 = 0.0625 exactly → 3 decimals half to even → 0.062
    items = [(1, 60 * i, "page_view", f"t{i:02d}") for i in range(16)]
    items.append((1, 60 * 15 + 1, "purchase"))
    rows = run(log(*items), models=("linear",))
    assert {r["conversions"] for r in rows} == {0.062}
    assert {r["conversion_share"] for r in rows} == {0.0625}  # unrounded


# -------------------------------------------------------------------------------------- money
def test_no_money_column_gives_null_revenue_and_zero_total_gives_null_share():
    ev = log((1, 0, "page_view", "ads"), (1, 1, "purchase"))
    rows = run(ev, models=("first",))
    assert [(r["revenue"], r["revenue_share"]) for r in rows] == [(None, None)]  # no money column
    # a price column whose only value is 0: revenue 0.0, total 0 → share None
    ev = log((1, 0, "page_view", "ads"), (1, 1, "purchase", "-", {"price": 0.0}))
    rows = run(ev, models=("first",))
    assert [(r["revenue"], r["revenue_share"]) for r in rows] == [(0.0, None)]


# ------------------------------------------------------------------------------ ranges, listing
def test_since_until_select_orders_by_order_time_and_paths_reach_back():
    # user 1: ads at 0, purchase at 5D (own session email).  user 2: social at 9D, purchase 10D.
    ev = log(
        (1, 0, "page_view", "ads"),
        (1, 5 * D, "purchase", "email"),
        (2, 9 * D, "page_view", "social"),
        (2, 10 * D, "purchase", "social"),
    )
    # [5D, 10D): user 1's order (t = 5D = since) in, user 2's (t = 10D = until) out.
    # user 1 path reaches back to ads at 0 < since: first ads 1, email 0.
    rows = run(ev, models=("first",), since=at(5 * D), until=at(10 * D))
    assert [(r["touch"], r["conversions"]) for r in rows] == [("ads", 1.0), ("email", 0.0)]
    # until 5D (exclusive): nothing in range → no rows
    assert run(ev, until=at(5 * D)) == []
    # since 5D + 1s: only user 2 → path [social, social(own)] — sessions at 9D and 10D
    rows = run(ev, models=("first",), since=at(5 * D + SEC))
    assert [(r["touch"], r["conversions"], r["orders_touched"]) for r in rows] == [
        ("social", 1.0, 1)
    ]


def test_zero_credit_touch_is_still_listed_under_first():
    # path [ads, email]: first gives email 0 — still a row with shares 0.0 and orders_touched 1.
    ev = log((1, 0, "page_view", "ads"), (1, 60, "page_view", "email"), (1, 61, "purchase"))
    rows = run(ev, models=("first",))
    assert rows == [
        {
            "model": "first",
            "touch": "ads",
            "conversions": 1.0,
            "conversion_share": 1.0,
            "revenue": None,
            "revenue_share": None,
            "orders_touched": 1,
        },
        {
            "model": "first",
            "touch": "email",
            "conversions": 0.0,
            "conversion_share": 0.0,
            "revenue": None,
            "revenue_share": None,
            "orders_touched": 1,
        },
    ]


def test_two_orders_in_one_session():
    # email session at −60; ads session from 0 with orders o1 (price 10 at 10) and o2 (price 30
    # at 20).  Both orders: path [email, ads].
    ev = log(
        (1, -60, "page_view", "email"),
        (1, 0, "page_view", "ads"),
        (1, 10, "purchase", "-", {"order_id": "o1", "price": 10.0}),
        (1, 20, "purchase", "-", {"order_id": "o2", "price": 30.0}),
    )
    rows = run(ev)
    # models in canonical order, 2 touches each
    assert [r["model"] for r in rows] == [
        m
        for m in ("first", "last", "last_non_direct", "linear", "position", "time_decay")
        for _ in range(2)
    ]
    assert by_touch(rows, "last", "conversions") == {"ads": 2.0, "email": 0.0}  # 1 per order
    assert by_touch(rows, "last", "conversion_share") == {"ads": 1.0, "email": 0.0}  # 2 / 2
    assert by_touch(rows, "last", "revenue") == {"ads": 40.0, "email": 0.0}  # 10 + 30
    assert by_touch(rows, "first", "conversions") == {"email": 2.0, "ads": 0.0}
    # linear: ½ per order each → 1.0 each; revenue ½·10 + ½·30 = 20 each, share 20/40 = 0.5
    assert by_touch(rows, "linear", "conversions") == {"ads": 1.0, "email": 1.0}
    assert by_touch(rows, "linear", "revenue") == {"ads": 20.0, "email": 20.0}
    assert by_touch(rows, "linear", "revenue_share") == {"ads": 0.5, "email": 0.5}
    assert by_touch(rows, "position", "orders_touched") == {"ads": 2, "email": 2}
    # without the order column both purchases form ONE order of the session (value 40)
    rows = run(ev, has_order_column=False, models=("last",))
    assert [(r["touch"], r["conversions"], r["revenue"], r["orders_touched"]) for r in rows] == [
        ("ads", 1.0, 40.0, 1),
        ("email", 0.0, 0.0, 1),
    ]


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError):
        run(log((1, 0, "purchase")), models=("u_shaped",))


def test_sessions_starting_at_the_same_instant_are_ordered_by_session_key_text():
    # session column: "b" (ads, row 0) and "a" (email, row 1) both start at 0; purchase in "b" at 5.
    # Path order by (s, key text): a (email), b (ads) → first email, last ads.
    ev = log(
        (1, 0, "page_view", "ads", {"session": "b"}),
        (1, 0, "page_view", "email", {"session": "a"}),
        (1, 5, "purchase", "-", {"session": "b"}),
    )
    rows = run(ev, has_session_column=True, models=("first", "last"))
    assert by_touch(rows, "first", "conversions") == {"email": 1.0, "ads": 0.0}
    assert by_touch(rows, "last", "conversions") == {"ads": 1.0, "email": 0.0}
