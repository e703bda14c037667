"""Hand-computed checks of the reference implementation (tests/reference) against SPEC wording.

Every expected number is a literal worked out by hand; the comment next to it says how.
Times are minutes after T0 = 2026-03-02 12:00 UTC (a Monday) unless stated otherwise.
"""

from datetime import UTC, datetime, timedelta

import pytest
from tests.reference.abandonment import abandonment
from tests.reference.funnel import funnel
from tests.reference.model import Event, orders, sessions
from tests.reference.retention import retention
from tests.reference.stages import session_stage, stages_by_session, stages_by_user
from tests.reference.summary import summary

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SEC = 1 / 60  # one second, in minutes


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def log(*items):
    """items: (user, minutes-or-datetime, event[, {extra fields}]); row = position."""
    out = []
    for row, item in enumerate(items):
        user, when, name = item[:3]
        extra = dict(item[3]) if len(item) > 3 else {}
        time = when if isinstance(when, datetime) else at(when)
        out.append(Event(user=user, time=time, event=name, row=row, **extra))
    return out


def col(rows, name):
    return [r[name] for r in rows]


def units(events, steps, **kw):
    return col(funnel(events, list(steps), **kw), "units")


NO_SESSION = {"has_session_column": False, "has_order_column": False}


# ---------------------------------------------------------------------------------------- model
def test_session_gap_of_exactly_30_minutes_starts_a_new_session():
    # gaps: 0→29m59s (< 30m: same), 29m59s→59m59s (exactly 30m: new session)
    ev = log((1, 0, "page_view"), (1, 30 - SEC, "page_view"), (1, 60 - SEC, "page_view"))
    s = sessions(ev, has_session_column=False)
    assert s[0] == s[1]
    assert s[1] != s[2]
    assert len(set(s.values())) == 2


def test_session_column_null_value_is_its_own_session():
    ev = log(
        (1, 0, "a", {"session": "s1"}),
        (1, 1, "b", {"session": None}),
        (1, 2, "c", {"session": "s1"}),
        (2, 3, "d", {"session": "s1"}),
    )
    s = sessions(ev, has_session_column=True)
    # (1,s1) holds rows 0 and 2; (1,None) row 1; (2,s1) row 3 → 3 sessions
    assert s[0] == s[2] == (1, "s1")
    assert s[1] == (1, None)
    assert s[3] == (2, "s1")


# --------------------------------------------------------------------------------------- funnel
def test_window_boundary_is_inclusive():
    assert units(log((1, 0, "A"), (1, 60, "B")), "AB", window=HOUR) == [1, 1]  # 60m == window
    assert units(log((1, 0, "A"), (1, 60 + SEC, "B")), "AB", window=HOUR) == [1, 0]  # 1s past


def test_restart_from_later_first_step_converts_and_times_come_from_that_attempt():
    # A 13:00, A 13:30, B 13:45, C 14:15, window 1h: 13:00 attempt stops at B (C is 75m later),
    # 13:30 attempt reaches C 45m after its start → level 3; chosen attempt = 13:30 one.
    ev = log((1, 60, "A"), (1, 90, "A"), (1, 105, "B"), (1, 135, "C"))
    rows = funnel(ev, ["A", "B", "C"], window=HOUR)
    assert col(rows, "units") == [1, 1, 1]
    # A→B = 13:45-13:30 = 900 s, B→C = 14:15-13:45 = 1800 s
    assert col(rows, "median_seconds_from_previous") == [None, 900.0, 1800.0]
    assert col(rows, "mean_seconds_from_previous") == [None, 900.0, 1800.0]


@pytest.mark.parametrize("file_order", [["A", "B"], ["B", "A"]])
def test_equal_timestamps_match_in_either_file_order(file_order):
    ev = log(*[(1, 0, name) for name in file_order])
    assert units(ev, "AB") == [1, 1]
    rows = funnel(ev, ["A", "B"])
    assert rows[1]["median_seconds_from_previous"] == 0.0  # same instant → 0 s


def test_strict_does_not_swap_equal_timestamps():
    # B (row 0) precedes A (row 1) at the same instant: in strict mode the sequence is B, A.
    assert units(log((1, 0, "B"), (1, 0, "A")), "AB", order="strict") == [1, 0]
    assert units(log((1, 0, "A"), (1, 0, "B")), "AB", order="strict") == [1, 1]


def test_repeated_step_name_needs_distinct_events():
    # pv, pv, cart with a single pv: the one pv cannot fill both steps → level 1.
    one_pv = log((1, 0, "pv"), (1, 1, "cart"))
    assert units(one_pv, ["pv", "pv", "cart"]) == [1, 0, 0]
    two_pv = log((1, 0, "pv"), (1, 1, "pv"), (1, 2, "cart"))
    assert units(two_pv, ["pv", "pv", "cart"]) == [1, 1, 1]
    # two pv at the same instant may fill steps 1 and 2
    tied = log((1, 5, "pv"), (1, 5, "pv"), (1, 6, "cart"))
    assert units(tied, ["pv", "pv", "cart"]) == [1, 1, 1]


def test_strict_interrupted_by_another_event():
    ev = log((1, 0, "A"), (1, 1, "X"), (1, 2, "B"))
    assert units(ev, "AB", order="strict") == [1, 0]  # X sits between A and B
    assert units(ev, "AB", order="ordered") == [1, 1]  # ordered ignores X
    # a later uninterrupted A→B still converts in strict mode
    ev2 = log((1, 0, "A"), (1, 1, "X"), (1, 2, "A"), (1, 3, "B"))
    assert units(ev2, "AB", order="strict") == [1, 1]


def test_any_order_counts_steps_inside_the_interval_from_a_step1_event():
    # user 1: C@0, A@10, B@20 → interval [10, 10+7d] holds A and B only (C is before) → level 2
    # user 2: A@0, C@10, B@20 → A, B, C all inside → level 3 (ordered would give 2: C before B)
    ev = log((1, 0, "C"), (1, 10, "A"), (1, 20, "B"), (2, 0, "A"), (2, 10, "C"), (2, 20, "B"))
    rows = funnel(ev, ["A", "B", "C"], order="any")
    assert col(rows, "units") == [2, 2, 1]  # levels 2 and 3; "at least k steps done"
    assert units(ev, "ABC", order="ordered") == [2, 2, 0]


def test_any_order_time_is_gap_between_sorted_earliest_matches():
    # A@0, C@3, B@5, B@7 → earliest of each step: A0, B5, C3 → in time order 0, 3, 5
    # row 2 time = 3-0 min = 180 s, row 3 time = 5-3 min = 120 s
    ev = log((1, 0, "A"), (1, 3, "C"), (1, 5, "B"), (1, 7, "B"))
    rows = funnel(ev, ["A", "B", "C"], order="any")
    assert col(rows, "units") == [1, 1, 1]
    assert col(rows, "median_seconds_from_previous") == [None, 180.0, 120.0]


def test_session_units_cap_the_window_by_the_session():
    # A@0 and B@40: 40m gap ≥ 30m → two gap-sessions.
    ev = log((1, 0, "A"), (1, 40, "B"))
    assert units(ev, "AB", by="user") == [1, 1]
    assert units(ev, "AB", by="session") == [1, 0]
    # with a session column putting both in "s1" they share a session
    ev_col = log((1, 0, "A", {"session": "s1"}), (1, 40, "B", {"session": "s1"}))
    assert units(ev_col, "AB", by="session", has_session_column=True) == [1, 1]


def test_in_progress_and_complete_only():
    # last data timestamp = 30 (user 3's X). window 1h.
    # user 1: A@0, 0+60 > 30 → in progress at level 1
    # user 2: A@-120, -120+60 = -60 ≤ 30 → finished, dropped
    # user 4: A@-30, -30+60 = 30, not strictly after 30 → not in progress
    ev = log((1, 0, "A"), (2, -120, "A"), (4, -30, "A"), (3, 30, "X"))
    rows = funnel(ev, ["A", "B"], window=HOUR)
    assert col(rows, "units") == [3, 0]
    assert col(rows, "dropped") == [0, 3]
    assert col(rows, "in_progress") == [0, 1]  # level exactly k-1 = 1
    rows = funnel(ev, ["A", "B"], window=HOUR, complete_only=True)
    assert col(rows, "units") == [2, 0]  # user 1 removed
    assert col(rows, "in_progress") == [0, 0]
    assert col(rows, "conversion_from_previous") == [1.0, 0.0]


def test_since_until_select_step1_events_and_later_steps_may_fall_after_until():
    ev = log((1, 0, "A"), (1, 10, "B"), (2, 60, "A"), (2, 70, "B"))
    assert units(ev, "AB", since=at(60)) == [1, 1]  # only user 2 enters (half-open: 60 in)
    assert units(ev, "AB", until=at(60)) == [1, 1]  # only user 1 enters (60 excluded)
    assert units(ev, "AB", until=at(5)) == [1, 1]  # B@10 after until still counts
    assert units(ev, "AB", since=at(61), until=at(100)) == [0, 0]
    rows = funnel(ev, ["A", "B"], since=at(61))
    assert col(rows, "conversion_from_previous") == [None, None]  # nobody entered


def test_breakdown_uses_chosen_attempts_first_touch_and_none_label():
    # user 1: A@0 ads, A@30 seo, B@35, window 1h → earliest attempt reaching level 2 is A@0 → ads
    # user 2: A@0 without channel → "(none)", level 1
    ev = log(
        (1, 0, "A", {"dims": {"channel": "ads"}}),
        (1, 30, "A", {"dims": {"channel": "seo"}}),
        (1, 35, "B"),
        (2, 0, "A"),
    )
    rows = funnel(ev, ["A", "B"], window=HOUR, breakdown="channel")
    assert [(r["channel"], r["step"], r["units"]) for r in rows] == [
        ("ads", 1, 1),
        ("ads", 2, 1),
        ("(none)", 1, 1),
        ("(none)", 2, 0),
    ]
    assert next(iter(rows[0])) == "channel"  # breakdown column first
    assert rows[1]["median_seconds_from_previous"] == 35 * 60.0  # from A@0 to B@35 = 2100 s


def test_rates_dropped_and_even_count_median():
    # user 1: A@0 B@1 (60 s), user 2: A@0 B@3 (180 s), user 3: A@0 only, user 4: A@0 B@2 C@3
    ev = log(
        (1, 0, "A"),
        (1, 1, "B"),
        (2, 0, "A"),
        (2, 3, "B"),
        (3, 0, "A"),
        (4, 0, "A"),
        (4, 2, "B"),
        (4, 3, "C"),
        (9, 100000, "X"),
    )
    rows = funnel(ev, ["A", "B", "C"], window=HOUR)
    assert col(rows, "units") == [4, 3, 1]
    assert col(rows, "dropped") == [0, 1, 2]
    assert col(rows, "conversion_from_previous") == [1.0, 0.75, pytest.approx(1 / 3)]
    assert col(rows, "conversion_overall") == [1.0, 0.75, 0.25]
    # step 2 gaps 60, 180, 120 s → median 120, mean 120; step 3: one gap 60 s
    assert col(rows, "median_seconds_from_previous") == [None, 120.0, 60.0]
    assert col(rows, "mean_seconds_from_previous") == [None, 120.0, 60.0]
    # even count: drop user 4 → step 2 gaps 60, 180 → median (60+180)/2 = 120, mean 120
    ev2 = log((1, 0, "A"), (1, 1, "B"), (2, 0, "A"), (2, 4, "B"))
    rows2 = funnel(ev2, ["A", "B"])
    assert rows2[1]["median_seconds_from_previous"] == 150.0  # (60 + 240) / 2


def test_hold_keeps_the_same_product_through_the_funnel():
    # user 1 views p1 then carts p2: with hold=product_id no unit converts
    ev = log(
        (1, 0, "product_view", {"dims": {"product_id": "p1"}}),
        (1, 1, "add_to_cart", {"dims": {"product_id": "p2"}}),
    )
    assert units(ev, ["product_view", "add_to_cart"]) == [1, 1]
    assert units(ev, ["product_view", "add_to_cart"], hold="product_id") == [1, 0]


# --------------------------------------------------------------------------------------- stages
def test_stage_purchase_only_session_repeat_and_advocacy_before_first_order():
    # user 1 session a: review@0 (before any order) → awareness (bounce: single event)
    # user 1 session b (gap ≥ 30m): purchase@60 → first order → purchase (bounce)
    # user 1 session c: purchase@200, share@200 → repeat order + advocacy at/after first → advocacy
    # user 2 session: product_view@0, add_to_cart@1 → decision
    # user 3 session: purchase@0 → purchase; purchase@100 → retention (2-event? no: 1 event each)
    ev = log(
        (1, 0, "review"),
        (1, 60, "purchase"),
        (1, 200, "purchase"),
        (1, 200, "share"),
        (2, 0, "product_view"),
        (2, 1, "add_to_cart"),
        (3, 0, "purchase"),
        (3, 100, "purchase"),
    )
    st = session_stage(ev, **NO_SESSION)
    assert st[(1, 0)] == "awareness"
    assert st[(1, 1)] == "purchase"
    assert st[(1, 2)] == "advocacy"
    assert st[(2, 0)] == "decision"
    assert st[(3, 0)] == "purchase"
    assert st[(3, 1)] == "retention"
    rows = stages_by_session(ev, **NO_SESSION)
    # 6 sessions: awareness 1, consideration 0, decision 1, purchase 2, retention 1, advocacy 1
    assert col(rows, "sessions") == [1, 0, 1, 2, 1, 1]
    assert col(rows, "share") == [1 / 6, 0.0, 1 / 6, 2 / 6, 1 / 6, 1 / 6]
    # single-event sessions: (1,0), (1,1), (3,0), (3,1)
    assert col(rows, "bounces") == [1, 0, 0, 2, 1, 0]


def test_stages_by_user_are_cumulative():
    # A: one order + review after it → advocacy; B: product_view → consideration;
    # C: two orders (separate sessions) → retention; D: page_view → awareness
    ev = log(
        ("A", 0, "purchase"),
        ("A", 1, "review"),
        ("B", 0, "product_view"),
        ("C", 0, "purchase"),
        ("C", 100, "purchase"),
        ("D", 0, "page_view"),
    )
    rows = stages_by_user(ev, **NO_SESSION)
    # ≥awareness 4, ≥consideration 3 (A,B,C), ≥decision 2 (A,C), ≥purchase 2, ≥retention 2
    # (the advocate with one order counts on the retention row), ≥advocacy 1
    assert col(rows, "users") == [4, 3, 2, 2, 2, 1]
    assert col(rows, "conversion_from_previous") == [1.0, 0.75, 2 / 3, 1.0, 1.0, 0.5]
    assert col(rows, "conversion_overall") == [1.0, 0.75, 0.5, 0.5, 0.5, 0.25]


def test_advocacy_at_the_same_instant_as_first_order_counts():
    ev = log((1, 0, "share"), (1, 0, "purchase"))  # share row before purchase row, same time
    assert session_stage(ev, **NO_SESSION)[(1, 0)] == "advocacy"


# ---------------------------------------------------------------------------------- abandonment
def test_value_at_risk_floors_each_session_at_zero():
    # s1 (user 1): cart 10×2 = 20, remove 10×1 = 10 → 10
    # s2 (user 2): cart 5×1 = 5, remove 8 (quantity null → 1) = 8 → -3 → floored to 0
    # s3 (user 3): cart 4, purchase after → converted, not at risk
    ev = log(
        (1, 0, "add_to_cart", {"price": 10.0, "quantity": 2.0}),
        (1, 1, "remove_from_cart", {"price": 10.0, "quantity": 1.0}),
        (2, 0, "add_to_cart", {"price": 5.0}),
        (2, 1, "remove_from_cart", {"price": 8.0}),
        (3, 0, "add_to_cart", {"price": 4.0}),
        (3, 1, "purchase", {"price": 4.0}),
    )
    (row,) = abandonment(ev, **NO_SESSION)
    assert row["cart_sessions"] == 3
    assert row["converted"] == 1
    assert row["abandoned"] == 2
    assert row["abandonment_rate"] == 2 / 3
    assert row["value_at_risk"] == 10.0  # 10 + 0
    assert row["recovered"] == 0
    assert row["recovery_rate"] == 0.0


def test_purchase_before_first_cart_does_not_convert_and_checkout_abandonment():
    # user 1 session: purchase@0, add_to_cart@1, checkout@2 → no purchase at/after cart → abandoned,
    #   and no purchase at/after checkout → checkout abandoned
    # user 2 session: checkout@0 only → checkout session (not a cart session), abandoned at checkout
    # user 3 session: add_to_cart@0, checkout@1, purchase@1 (same instant as checkout) → converted
    ev = log(
        (1, 0, "purchase"),
        (1, 1, "add_to_cart"),
        (1, 2, "checkout"),
        (2, 0, "checkout"),
        (3, 0, "add_to_cart"),
        (3, 1, "purchase"),
        (3, 1, "checkout"),
    )
    (row,) = abandonment(ev, **NO_SESSION)
    assert (row["cart_sessions"], row["converted"], row["abandoned"]) == (2, 1, 1)
    assert (row["checkout_sessions"], row["checkout_abandoned"]) == (3, 2)
    assert row["checkout_abandonment_rate"] == 2 / 3
    assert row["value_at_risk"] is None  # no price, no revenue → money is null
    assert row["recovered_revenue"] is None


def test_recovery_window_edge_is_inclusive_and_one_second_past_is_not():
    week = 7 * 24 * 60
    # user 1: abandoned session ends at 0 (cart@0); order at exactly +7d → recovered (t ≤ last+7d)
    # user 2: abandoned session ends at 0; order at +7d+1s → not recovered; last+7d < data end
    ev = log(
        (1, 0, "add_to_cart", {"price": 3.0}),
        (1, week, "purchase", {"price": 25.0}),
        (2, 0, "add_to_cart", {"price": 3.0}),
        (2, week + SEC, "purchase", {"price": 40.0, "quantity": 2.0}),
    )
    (row,) = abandonment(ev, **NO_SESSION)
    assert row["cart_sessions"] == 4 - 2  # the purchase-only sessions have no cart
    assert row["abandoned"] == 2
    assert row["recovered"] == 1
    assert row["recovery_rate"] == 0.5
    assert row["recovered_revenue"] == 25.0  # value of user 1's order
    assert row["recovery_pending"] == 0  # data ends 7d+1s after both sessions
    assert row["value_at_risk"] == 6.0  # 3 + 3


def test_recovery_pending_near_data_end_and_since_until_selection():
    # user 1: cart@0, data ends at 1 day (user 9) → 0+7d > 1d → pending
    # user 2: cart@-10 days; 7d later is before the data end → not pending, not recovered
    ev = log((1, 0, "add_to_cart"), (2, -10 * 24 * 60, "add_to_cart"), (9, 24 * 60, "page_view"))
    (row,) = abandonment(ev, **NO_SESSION)
    assert (row["abandoned"], row["recovered"], row["recovery_pending"]) == (2, 0, 1)
    (row,) = abandonment(ev, since=at(0), **NO_SESSION)  # only user 1's cart is in range
    assert (row["cart_sessions"], row["recovery_pending"]) == (1, 1)
    (row,) = abandonment(ev, until=at(0), **NO_SESSION)  # only user 2 (until is exclusive)
    assert (row["cart_sessions"], row["recovery_pending"]) == (1, 0)


# ------------------------------------------------------------------------------ orders / summary
def test_multi_row_orders_counted_once_and_revenue_beats_price():
    # order O1: two purchase rows with revenue 10 + 5 → one order worth 15 (revenue over price)
    # user 2: purchase rows in two gap-sessions, no order_id → two orders → repeat customer
    ev = log(
        (1, 0, "purchase", {"order_id": "O1", "revenue": 10.0, "price": 99.0}),
        (1, 1, "purchase", {"order_id": "O1", "revenue": 5.0, "price": 99.0}),
        (2, 0, "purchase", {"price": 7.0}),
        (2, 100, "purchase", {"price": 7.0}),
    )
    got = orders(ev, has_session_column=False, has_order_column=True)
    assert len(got) == 3
    assert sorted(o.value for o in got) == [0.0, 0.0, 15.0]  # revenue column exists: null → 0
    s = summary(ev, has_session_column=False, has_order_column=True, dropped_rows=4)
    assert s["orders"] == 3
    assert s["revenue"] == 15.0
    assert s["average_order_value"] == 5.0  # 15 / 3
    assert (s["customers"], s["repeat_customers"], s["repeat_purchase_rate"]) == (2, 1, 0.5)
    assert s["dropped_rows"] == 4


def test_order_value_is_price_times_quantity_without_revenue():
    # one session, two purchase rows, no order column → one order: 2×3 + 4×(null→1) = 10
    ev = log(
        (1, 0, "purchase", {"price": 2.0, "quantity": 3.0}),
        (1, 1, "purchase", {"price": 4.0}),
        (1, 2, "purchase"),
    )  # null price counts 0
    (o,) = orders(ev, has_session_column=False, has_order_column=False)
    assert o.value == 10.0
    assert o.rows == (0, 1, 2)
    assert o.time == at(0)


def test_summary_without_money_and_with_since_until():
    # kept range [0, 100): user 1 page_view@0 (bounce session), user 2: add_to_cart@10, purchase@11,
    # user 3: add_to_cart@20 (abandoned), user 4 page_view@200 is outside the range
    ev = log(
        (1, 0, "page_view"),
        (2, 10, "add_to_cart"),
        (2, 11, "purchase"),
        (3, 20, "add_to_cart"),
        (4, 200, "page_view"),
    )
    s = summary(ev, since=at(0), until=at(100), **NO_SESSION)
    assert s["events"] == 4
    assert s["users"] == 3
    assert s["sessions"] == 3
    assert s["bounce_rate"] == 2 / 3  # users 1 and 3 have one-event sessions
    assert s["sessions_with_purchase"] == 1
    assert s["session_conversion_rate"] == 1 / 3
    assert s["cart_abandonment_rate"] == 0.5  # 2 cart sessions, user 3 abandoned
    assert s["orders"] == 1
    assert s["revenue"] is None  # no price, no revenue
    assert s["average_order_value"] is None
    assert (s["customers"], s["repeat_customers"], s["repeat_purchase_rate"]) == (1, 0, 0.0)
    assert (s["first_event"], s["last_event"]) == (at(0), at(20))


# ------------------------------------------------------------------------------------ retention
def d(y, m, day, h=12):
    return datetime(y, m, day, h, tzinfo=UTC)


def test_iso_week_label_across_year_end():
    # 2025-01-01 is a Wednesday; its ISO week starts Monday 2024-12-30.
    ev = log((1, d(2025, 1, 1), "purchase"), (1, d(2025, 1, 7), "purchase"))
    rows = retention(ev, periods=1)
    assert rows[0]["cohort"] == "2024-12-30"
    # 2025-01-07 (Tuesday) is in week 2025-01-06 = cohort + 1, which holds the last timestamp
    assert (rows[1]["retained"], rows[1]["rate"], rows[1]["partial"]) == (1, 1.0, True)


def test_tz_moves_an_event_into_the_next_week():
    # 2024-12-29 23:30 UTC = 2024-12-30 00:30 in Berlin (UTC+1): UTC week 2024-12-23, Berlin 12-30
    ev = log((1, datetime(2024, 12, 29, 23, 30, tzinfo=UTC), "purchase"))
    assert retention(ev, periods=0)[0]["cohort"] == "2024-12-23"
    assert retention(ev, periods=0, tz="Europe/Berlin")[0]["cohort"] == "2024-12-30"


def test_month_periods():
    # user 1: Jan 31 then Feb 1 → cohort 2024-01-01, returns in period 1; data ends Mar 15.
    # user 2: Jan 5 only. Cohort size 2; period 1 retained 1; period 2 (March) retained 0, partial.
    ev = log(
        (1, d(2024, 1, 31), "purchase"),
        (1, d(2024, 2, 1), "purchase"),
        (2, d(2024, 1, 5), "purchase"),
        (3, d(2024, 3, 15), "page_view"),
    )
    rows = retention(ev, period="month", periods=3)
    jan = [r for r in rows if r["cohort"] == "2024-01-01"]
    assert col(jan, "retained") == [2, 1, 0, None]  # April starts after Mar 15 → not observed
    assert col(jan, "rate") == [1.0, 0.5, 0.0, None]
    assert col(jan, "partial") == [False, False, True, None]


def test_unobserved_cells_partial_period_and_weighted_average():
    # week cohorts: c1 = 2024-01-01 (users 1, 2), c2 = 2024-01-08 (user 3). Data ends 2024-01-17
    # (a Wednesday, in week 2024-01-15 = c1+2 = c2+1).
    # user 1 returns in c1+1 (Jan 10) and c1+2 (Jan 16); user 2 never; user 3 returns Jan 17.
    ev = log(
        (1, d(2024, 1, 1), "purchase"),
        (2, d(2024, 1, 3), "purchase"),
        (1, d(2024, 1, 10), "purchase"),
        (1, d(2024, 1, 16), "purchase"),
        (3, d(2024, 1, 8), "purchase"),
        (3, d(2024, 1, 17), "purchase"),
    )
    rows = retention(ev, periods=3)
    c1 = [r for r in rows if r["cohort"] == "2024-01-01"]
    c2 = [r for r in rows if r["cohort"] == "2024-01-08"]
    avg = [r for r in rows if r["cohort"] == "average"]
    assert [r["cohort"] for r in rows] == ["2024-01-01"] * 4 + ["2024-01-08"] * 4 + ["average"] * 4
    assert col(c1, "retained") == [2, 1, 1, None]  # week Jan 22 starts after Jan 17
    assert col(c1, "partial") == [False, False, True, None]
    assert col(c2, "retained") == [1, 1, None, None]
    assert col(c2, "partial") == [False, True, None, None]
    # average: k0 (2+1)/(2+1) = 1; k1 (1+1)/(2+1) = 2/3 partial (c2's cell is);
    # k2 only c1 observed: 1/2 partial; k3 no observed cell → None
    assert col(avg, "cohort_size") == [3, 3, 2, 0]
    assert col(avg, "retained") == [3, 2, 1, None]
    assert col(avg, "rate") == [1.0, 2 / 3, 0.5, None]
    assert col(avg, "partial") == [False, True, True, None]


def test_unbounded_mode_and_first_ever_cohort_event():
    # user 1 first purchase Jan 1 (week 2024-01-01), returns only in week +3 (Jan 22);
    # data ends Jan 30 (week Jan 29 = +4).  on: k1..k3 = 0,0,1; unbounded: 1,1,1, k4 = 0
    ev = log(
        (1, d(2024, 1, 22), "purchase"),
        (1, d(2024, 1, 1), "purchase"),
        (2, d(2024, 1, 30), "page_view"),
    )
    on = retention(ev, periods=4)
    assert on[0]["cohort"] == "2024-01-01"  # earliest purchase, whatever the row order
    assert col(on[:5], "retained") == [1, 0, 0, 1, 0]
    unb = retention(ev, periods=4, mode="unbounded")
    assert col(unb[:5], "retained") == [1, 1, 1, 1, 0]
    assert col(unb[:5], "partial") == [False, False, False, False, True]


# ------------------------------------------------------------------- search vs. brute force
def _brute_level(seq, steps, window):
    """Try every tuple of distinct events: the literal §4 ordered definition."""
    import itertools

    best = 0
    for s in (e for e in seq if e.event == steps[0]):
        for level in range(len(steps), best, -1):
            pools = [[e for e in seq if e.event == steps[i]] for i in range(1, level)]
            for combo in itertools.product(*pools):
                chain = [s, *combo]
                if (
                    len({e.row for e in chain}) == level
                    and all(a.time <= b.time for a, b in itertools.pairwise(chain))
                    and chain[-1].time - s.time <= window
                ):
                    best = level
                    break
            if best == level:
                break
    return best


def test_ordered_search_matches_brute_force_on_random_small_logs():
    import random

    rng = random.Random(7)
    for _ in range(400):
        seq = [
            Event(user=1, time=at(rng.randint(0, 5)), event=rng.choice("ABC"), row=i)
            for i in range(rng.randint(1, 7))
        ]
        steps = [rng.choice("ABC") for _ in range(rng.randint(2, 4))]
        window = timedelta(minutes=rng.randint(0, 4))
        level = sum(1 for r in funnel(seq, steps, window=window) if r["units"] == 1)
        assert level == _brute_level(seq, steps, window), (seq, steps, window)
