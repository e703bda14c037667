"""Hand-computed checks of the reference segments module (tests/reference/segments.py, SPEC §16).

Every expected number is a literal worked out by hand; the comment next to it says how.
Times are minutes after T0 = 2026-03-02 12:00 UTC; DAY = 1440 minutes.  Sessions come from the
30-minute rule; purchases one day apart are separate sessions, hence separate orders.
"""

from datetime import UTC, datetime, timedelta

import pytest
from tests.reference.model import Event
from tests.reference.segments import rfm_segment_of, segments, thresholds, users

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = 1440


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def log(*items):
    """items: (user, minutes, event[, price]); row = position."""
    out = []
    for row, item in enumerate(items):
        user, minutes, name = item[:3]
        price = item[3] if len(item) > 3 else None
        out.append(Event(user=user, time=at(minutes), event=name, row=row, price=price))
    return out


def buy(user, day, price=10.0):
    return (user, day * DAY, "purchase", price)


def by_user(rows):
    return {row["user"]: row for row in rows}


def scores(rows):
    """user -> (r, f, m, segment)."""
    return {
        r["user"]: (r["r_score"], r["f_score"], r["m_score"], r["rfm_segment"])
        for r in rows
        if r["orders"]
    }


# ------------------------------------------------------------------------------------ thresholds
def test_thresholds_with_few_values_and_ties():
    # n = 1: ceil(j/5) = 1 for j = 1..4 → every q is the only value
    assert thresholds([7]) == [7, 7, 7, 7]
    # n = 2: ceil(2j/5) = 1, 1, 2, 2
    assert thresholds([2, 1]) == [1, 1, 2, 2]
    # n = 3: ceil(3j/5) = 1, 2, 2, 3
    assert thresholds([3, 1, 2]) == [1, 2, 2, 3]
    # n = 5: positions 1..4
    assert thresholds([1, 1, 1, 1, 2]) == [1, 1, 1, 1]
    # n = 6: ceil(6j/5) = 2, 3, 4, 5 → [1,1,1,1,1,3] positions 2..5 are all 1
    assert thresholds([1, 1, 1, 1, 1, 3]) == [1, 1, 1, 1]


def test_one_customer_is_new():
    ev = log(("a", 0, "page_view"), buy("a", 0.001))
    (row,) = users(ev)
    # n = 1: q = [x]*4 → nothing above: R = 5, F = 1, M = 1; FM = floor(1 + 0.5) = 1
    # R ≥ 4 and one order → new; recency 0 (the purchase is the last event)
    assert (row["r_score"], row["f_score"], row["m_score"], row["rfm_segment"]) == (5, 1, 1, "new")
    assert row["recency_days"] == 0.0


def test_two_customers():
    ev = log(
        buy("A", 0, 10.0),
        ("W", 1 * DAY, "page_view"),  # a non-customer
        buy("B", 5, 20.0),
        buy("B", 10, 20.0),  # last event: now = day 10
    )
    rows = by_user(users(ev))
    # recency A = 10, B = 0 → R list [0, 10], q = [0, 0, 10, 10]: A 10 > 0,0 → R = 5 - 2 = 3; B → 5
    # F list [1, 2], q = [1, 1, 2, 2]: A → 1, B 2 > 1,1 → 3
    # M list [10, 40], q = [10, 10, 40, 40]: A → 1, B → 3
    # A: FM = floor(1 + 0.5) = 1, R = 3 → promising;  B: FM = floor(3 + 0.5) = 3, R = 5 → loyal
    assert scores(rows.values()) == {"A": (3, 1, 1, "promising"), "B": (5, 3, 3, "loyal")}
    assert rows["A"]["recency_days"] == 10.0
    assert rows["B"]["recency_days"] == 0.0
    assert rows["B"]["first_order"] == at(5 * DAY)
    assert rows["B"]["last_order"] == at(10 * DAY)
    assert rows["B"]["revenue"] == 40.0
    # W: no order → RFM columns None, revenue 0 (the data has money)
    w = rows["W"]
    assert [w[k] for k in ("recency_days", "r_score", "f_score", "m_score", "rfm_segment")] == [
        None
    ] * 5
    assert (w["revenue"], w["orders"], w["first_order"], w["last_order"]) == (0.0, 0, None, None)
    assert w["lifecycle"] == "first_time_visitor"

    table = segments(ev, by="rfm")
    # customers only: 2 users, revenue 50; W is not in the table
    assert [r["segment"] for r in table] == [
        "champions",
        "loyal",
        "new",
        "promising",
        "at_risk",
        "hibernating",
        "lost",
    ]
    t = {r["segment"]: r for r in table}
    # loyal = B: share 1/2, 2 sessions, 2 orders, 40, 40/50 = 0.8, AOV 40/2 = 20
    assert t["loyal"] == {
        "segment": "loyal",
        "users": 1,
        "share": 0.5,
        "sessions": 2,
        "orders": 2,
        "revenue": 40.0,
        "revenue_share": 0.8,
        "average_order_value": 20.0,
    }
    # promising = A: 1/2, 1 session, 1 order, 10, 10/50 = 0.2, AOV 10
    assert t["promising"]["users"] == 1
    assert t["promising"]["revenue_share"] == pytest.approx(0.2)
    assert t["promising"]["average_order_value"] == 10.0
    # an empty segment: zeros, share 0/2 = 0, AOV 0/0 → None
    assert t["lost"] == {
        "segment": "lost",
        "users": 0,
        "share": 0.0,
        "sessions": 0,
        "orders": 0,
        "revenue": 0.0,
        "revenue_share": 0.0,
        "average_order_value": None,
    }


def test_three_customers():
    ev = log(buy("C1", 0, 10.0), buy("C2", 1, 20.0), buy("C3", 2, 30.0))
    # now = day 2; recency C1 = 2, C2 = 1, C3 = 0 → sorted [0,1,2], q = [0, 1, 1, 2]
    #   C3: 0 above → R 5; C2: 1 > 0 → R 4; C1: 2 > 0,1,1 → R 2
    # F all 1 → q = [1]*4 → F 1
    # M [10, 20, 30], q = [10, 20, 20, 30]: C1 → 1; C2 20 > 10 → 2; C3 30 > 10,20,20 → 4
    # FM: C1 floor(1.5) = 1; C2 floor(2.0) = 2; C3 floor(3.0) = 3
    # C3: R 5, FM 3 → loyal; C2: R 4, one order → new; C1: R 2 → hibernating
    assert scores(users(ev)) == {
        "C1": (2, 1, 1, "hibernating"),
        "C2": (4, 1, 2, "new"),
        "C3": (5, 1, 4, "loyal"),
    }


def test_heavy_ties():
    ev = log(
        buy("U5", 0),
        *[buy(u, 3) for u in ("U1", "U2", "U3", "U4")],
        buy("U5", 3),  # U5: 2 orders, last one at day 3 like everyone → all recency 0
    )
    # R list [0]*5 → q = [0]*4 → R 5 for all
    # F [1,1,1,1,2], q = [1,1,1,1]: U1..U4 → 1, U5 → 5;  M [10,10,10,10,20] → same: 1 and 5
    # U1..U4: FM 1, one order, R 5 → new;  U5: FM floor(5.5) = 5 → champions
    assert scores(users(ev)) == {
        "U1": (5, 1, 1, "new"),
        "U2": (5, 1, 1, "new"),
        "U3": (5, 1, 1, "new"),
        "U4": (5, 1, 1, "new"),
        "U5": (5, 5, 5, "champions"),
    }


def test_money_floating_point_noise_ties():
    ev = log(
        ("X", 0, "purchase", 0.1),
        ("X", 1, "purchase", 0.2),  # same session → one order of 0.30000000000000004
        ("Y", 1, "purchase", 0.3),
    )
    rows = by_user(users(ev))
    assert rows["X"]["orders"] == 1
    # rounded to 6 decimals both are 0.3 → q = [0.3]*4 → both M 1 (unrounded X would get 3)
    assert rows["X"]["m_score"] == 1
    assert rows["Y"]["m_score"] == 1


def test_r_direction_recent_is_five():
    ev = log(*[buy(f"d{d}", d) for d in range(5)])  # buyer d{d} on day d; now = day 4
    # recency d0 = 4 ... d4 = 0; sorted [0,1,2,3,4], q = [0,1,2,3] → R = 5 - #above
    # d4 (0) → 5, d3 (1) → 4, d2 (2) → 3, d1 (3) → 2, d0 (4) → 1; F = M = 1 → FM 1
    # segments: 5, 4 → new; 3 → promising; 2 → hibernating; 1 → lost
    assert scores(users(ev)) == {
        "d0": (1, 1, 1, "lost"),
        "d1": (2, 1, 1, "hibernating"),
        "d2": (3, 1, 1, "promising"),
        "d3": (4, 1, 1, "new"),
        "d4": (5, 1, 1, "new"),
    }


# ---------------------------------------------------------------------------- FM and priorities
def test_fm_rounds_half_up():
    ev = log(
        buy("P", 10, 40.0),
        buy("Q", 10, 10.0),
        buy("S", 9, 20.0),
        buy("S", 10, 20.0),
        buy("T", 8, 5.0),
        buy("T", 9, 5.0),
        buy("T", 10, 10.0),
        buy("V", 8, 10.0),
        buy("V", 9, 10.0),
        buy("V", 10, 10.0),
    )
    # all last orders at day 10 = now → R 5 for all
    # F counts P 1, Q 1, S 2, T 3, V 3 → sorted [1,1,2,3,3], q = [1,1,2,3]
    #   → P 1, Q 1, S 2 > 1,1 → 3, T/V 3 > 1,1,2 → 4
    # M P 40, Q 10, S 40, T 20, V 30 → sorted [10,20,30,40,40], q = [10,20,30,40]
    #   → Q 1, T 2, V 3, P/S 4
    # FM: P (1+4)/2 = 2.5 → 3 (half even would give 2); Q 1; S (3+4)/2 = 3.5 → 4;
    #     T (4+2)/2 = 3 → 3; V (4+3)/2 = 3.5 → 4
    # P: R 5, FM 3 → loyal (before new, although P has one order)
    # Q: FM 1 → new; S, V: FM 4 → champions; T: FM 3 → loyal
    assert scores(users(ev)) == {
        "P": (5, 1, 4, "loyal"),
        "Q": (5, 1, 1, "new"),
        "S": (5, 3, 4, "champions"),
        "T": (5, 4, 2, "loyal"),
        "V": (5, 4, 3, "champions"),
    }


def test_rule_order():
    # a one-order customer has F = 1, so with money FM ≤ floor(3.5) = 3 and the data cannot make
    # it a champion; the rule order itself: champions before new, loyal before new
    assert rfm_segment_of(5, 4, 1) == "champions"
    assert rfm_segment_of(4, 3, 1) == "loyal"
    assert rfm_segment_of(4, 2, 1) == "new"
    assert rfm_segment_of(4, 2, 2) == "promising"
    assert rfm_segment_of(2, 3, 1) == "at_risk"
    assert rfm_segment_of(2, 2, 1) == "hibernating"
    assert rfm_segment_of(1, 2, 5) == "lost"


def test_no_money():
    ev = log(buy("A", 1, None), buy("B", 0, None), buy("B", 1, None), ("C", 0, "page_view"))
    rows = by_user(users(ev))
    # no price/revenue anywhere → no money; recency both 0 → R 5
    # F [1, 2], q = [1,1,2,2] → A 1, B 3; FM = F: A 1 → new; B 3 → loyal
    assert scores(rows.values()) == {"A": (5, 1, None, "new"), "B": (5, 3, None, "loyal")}
    assert [rows[u]["revenue"] for u in "ABC"] == [None, None, None]
    t = {r["segment"]: r for r in segments(ev, by="rfm")}
    assert (t["loyal"]["users"], t["loyal"]["share"], t["loyal"]["orders"]) == (1, 0.5, 2)
    assert t["loyal"]["revenue"] is None
    assert t["loyal"]["revenue_share"] is None
    assert t["loyal"]["average_order_value"] is None


# ------------------------------------------------------------------------------------- lifecycle
def test_lifecycle():
    ev = log(
        buy("R1", 0, 10.0),
        buy("R1", 1, 30.0),
        buy("F1", 0, 20.0),
        ("E1", 0, "page_view"),
        ("E1", 40, "page_view"),  # 40 ≥ 30 min → 2 sessions → engaged
        ("E2", 0, "page_view"),
        ("E2", 5, "checkout"),  # one session with a checkout → engaged
        ("E3", 0, "page_view"),
        ("E3", 30, "page_view"),  # exactly 30 min → new session → engaged
        ("V1", 0, "page_view"),
        ("V1", 29, "product_view"),  # 29 min → one session, no cart → visitor
        ("V2", 0, "remove_from_cart"),  # not a decision event → visitor
    )
    rows = by_user(users(ev))
    assert {u: r["lifecycle"] for u, r in rows.items()} == {
        "E1": "engaged_visitor",
        "E2": "engaged_visitor",
        "E3": "engaged_visitor",
        "F1": "first_time_buyer",
        "R1": "repeat_buyer",
        "V1": "first_time_visitor",
        "V2": "first_time_visitor",
    }
    assert list(rows) == ["E1", "E2", "E3", "F1", "R1", "V1", "V2"]  # sorted by user
    assert (rows["E1"]["sessions"], rows["E1"]["events"]) == (2, 2)
    assert (rows["V1"]["first_event"], rows["V1"]["last_event"]) == (at(0), at(29))

    table = segments(ev)  # lifecycle by default; 7 users, revenue 60
    got = [
        (
            r["segment"],
            r["users"],
            r["sessions"],
            r["orders"],
            r["revenue"],
            r["average_order_value"],
        )
        for r in table
    ]
    assert got == [
        ("repeat_buyer", 1, 2, 2, 40.0, 20.0),  # AOV 40 / 2
        ("first_time_buyer", 1, 1, 1, 20.0, 20.0),
        ("engaged_visitor", 3, 5, 0, 0.0, None),  # sessions 2 + 1 + 2; AOV 0/0 → None
        ("first_time_visitor", 2, 2, 0, 0.0, None),
    ]
    assert [r["share"] for r in table] == pytest.approx([1 / 7, 1 / 7, 3 / 7, 2 / 7])
    assert [r["revenue_share"] for r in table] == pytest.approx([40 / 60, 20 / 60, 0.0, 0.0])


# --------------------------------------------------------------------------------------------- at
def test_at_drops_later_events_and_moves_now():
    ev = log(
        buy("A", 0),
        buy("A", 5),
        ("B", 10 * DAY, "page_view"),  # only after the cut
        ("C", 1 * DAY, "page_view"),
        ("C", 3 * DAY, "page_view"),  # exactly at the cut: t < at fails → dropped
    )
    # without at: now = day 10; A has 2 orders, last at day 5 → recency 5
    full = by_user(users(ev))
    assert (full["A"]["orders"], full["A"]["recency_days"]) == (2, 5.0)
    assert full["A"]["lifecycle"] == "repeat_buyer"
    assert full["C"]["sessions"] == 2
    # at = day 3 (= C's second event, dropped): A keeps its day-0 order, now = day 3
    cut = by_user(users(ev, at=at(3 * DAY)))
    assert set(cut) == {"A", "C"}  # B has no event before the cut
    assert (cut["A"]["orders"], cut["A"]["recency_days"]) == (1, 3.0)
    assert cut["A"]["lifecycle"] == "first_time_buyer"
    assert (cut["C"]["sessions"], cut["C"]["events"], cut["C"]["last_event"]) == (1, 1, at(DAY))
    # a later at moves now further: at = day 12 → A's last order day 5 → recency 7
    assert by_user(users(ev, at=at(12 * DAY)))["A"]["recency_days"] == 7.0


# ----------------------------------------------------------------------------------------- custom
CUSTOM = [
    # SQL "orders >= 2 and revenue / orders < 20": revenue / 0 is NULL for a non-customer
    (
        "bargain_hunter",
        lambda r: (
            None if r["orders"] == 0 else r["orders"] >= 2 and r["revenue"] / r["orders"] < 20
        ),
    ),
    ("buyer", lambda r: r["orders"] >= 1),
    ("never", lambda r: None),
]


def test_custom_first_match_wins_none_is_no_match_and_other():
    ev = log(buy("X", 0, 10.0), buy("X", 1, 20.0), buy("Y", 0, 100.0), ("Z", 0, "page_view"))
    rows = by_user(users(ev, custom=CUSTOM))
    # X: 2 orders, 30 / 2 = 15 < 20 → bargain_hunter (buyer is also true, the first wins)
    # Y: 1 order → bargain False, buyer True → buyer
    # Z: bargain None (no match), buyer False, never None → other
    assert {u: r["custom_segment"] for u, r in rows.items()} == {
        "X": "bargain_hunter",
        "Y": "buyer",
        "Z": "other",
    }
    assert "custom_segment" not in users(ev)[0]
    table = segments(ev, by="custom", custom=CUSTOM)
    got = [
        (r["segment"], r["users"], r["orders"], r["revenue"], r["average_order_value"])
        for r in table
    ]
    assert got == [
        ("bargain_hunter", 1, 2, 30.0, 15.0),
        ("buyer", 1, 1, 100.0, 100.0),
        ("never", 0, 0, 0.0, None),  # empty segment included
        ("other", 1, 0, 0.0, None),  # Z: revenue 0 (money), 0 orders → AOV None
    ]
    # 3 users, revenue 130
    assert [r["share"] for r in table] == pytest.approx([1 / 3, 1 / 3, 0.0, 1 / 3])
    assert [r["revenue_share"] for r in table] == pytest.approx([30 / 130, 100 / 130, 0.0, 0.0])


def test_custom_errors():
    ev = log(("Z", 0, "page_view"))
    with pytest.raises(ValueError):
        segments(ev, by="custom")  # no [segments]
    with pytest.raises(ValueError):
        users(ev, custom=[("other", lambda r: True)])  # reserved name
    with pytest.raises(ValueError):
        users(ev, custom=[("n", lambda r: 1)])  # not a boolean


def test_empty_input():
    table = segments([])
    # no users: shares 0/0 → None; no money column → revenue None
    assert [(r["users"], r["share"], r["revenue"]) for r in table] == [(0, None, None)] * 4
    assert users([]) == []
