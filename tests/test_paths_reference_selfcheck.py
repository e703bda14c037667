"""Hand-computed checks of the reference paths module (tests/reference/paths.py, SPEC §14).

Every expected number is a literal worked out by hand; the comment next to it says how.
Times are minutes after T0 = 2026-03-02 12:00 UTC (a Monday) unless stated otherwise.
"""

from datetime import UTC, datetime, timedelta

import pytest
from tests.reference.model import Event
from tests.reference.paths import journey_map, paths, transitions

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def log(*items):
    """items: (user, minutes, event[, {extra fields}]); row = position."""
    out = []
    for row, item in enumerate(items):
        user, minutes, name = item[:3]
        extra = dict(item[3]) if len(item) > 3 else {}
        out.append(Event(user=user, time=at(minutes), event=name, row=row, **extra))
    return out


def seq(user, start, *names, step=1):
    """One user's events, `step` minutes apart from `start`."""
    return [(user, start + i * step, name) for i, name in enumerate(names)]


def triples(rows):
    return [(r["path"], r["units"], r["share"]) for r in rows]


def edges(rows):
    return [(r["depth"], r["from"], r["to"], r["units"]) for r in rows]


# ---------------------------------------------------------------------------------- after/before
def test_after_anchors_on_the_first_match_and_ends_with_end():
    ev = log(
        *seq(1, 0, "a", "X", "b", "X", "c"),  # first X is the 2nd event → next 2: b, X
        *seq(2, 0, "X", "a"),  # only a follows → a > (end)
        *seq(3, 0, "a"),  # no X: not counted
        *seq(4, 0, "X"),  # nothing follows → (end)
    )
    # anchored units = 3 (users 1, 2, 4), each path once → share 1/3
    # order by path text: "(end)" < "a > (end)" < "b > X"  ("(" sorts before letters)
    assert triples(paths(ev, after="X", depth=2)) == [
        ("(end)", 1, pytest.approx(1 / 3)),
        ("a > (end)", 1, pytest.approx(1 / 3)),
        ("b > X", 1, pytest.approx(1 / 3)),
    ]
    # depth 1: user 1 → b, user 2 → a, user 4 → (end); exactly depth events follow → no (end)
    assert [r["path"] for r in paths(ev, after="X", depth=1)] == ["(end)", "a", "b"]


def test_before_takes_the_events_before_oldest_first_with_start():
    ev = log(
        *seq(1, 0, "a", "b", "c", "X", "X"),  # 2 before the first X: b, c
        *seq(2, 0, "a", "X"),  # only a before → (start) > a
        *seq(3, 0, "X"),  # nothing before → (start)
    )
    assert triples(paths(ev, before="X", depth=2)) == [
        ("(start)", 1, pytest.approx(1 / 3)),
        ("(start) > a", 1, pytest.approx(1 / 3)),
        ("b > c", 1, pytest.approx(1 / 3)),
    ]


def test_alternatives_anchor_on_the_first_event_matching_either_name():
    # c, b, d, a, e: the first of a|b is b (2nd event) → next event d
    ev = log(*seq(1, 0, "c", "b", "d", "a", "e"))
    assert triples(paths(ev, after="a|b", depth=1)) == [("d", 1, 1.0)]
    assert triples(paths(ev, before="a | b", depth=1)) == [("c", 1, 1.0)]


def test_collapse_merges_runs_before_anchoring():
    ev = log(*seq(1, 0, "a", "a", "X", "X", "b", "b", "c"))
    # raw: first X at index 2 → next two: X, b
    assert [r["path"] for r in paths(ev, after="X", depth=2)] == ["X > b"]
    # collapsed: a, X, b, c → after X: b, c
    assert [r["path"] for r in paths(ev, after="X", depth=2, collapse=True)] == ["b > c"]
    ev2 = log(*seq(1, 0, "a", "a", "b", "b", "X"))
    # raw: 2 before X: b, b; collapsed a, b, X → a, b
    assert [r["path"] for r in paths(ev2, before="X", depth=2)] == ["b > b"]
    assert [r["path"] for r in paths(ev2, before="X", depth=2, collapse=True)] == ["a > b"]


def test_by_session_makes_each_session_a_unit():
    # a@0 X@1 b@2 | 38-minute gap ≥ 30m | c@40 X@41 → two gap-sessions
    ev = log((1, 0, "a"), (1, 1, "X"), (1, 2, "b"), (1, 40, "c"), (1, 41, "X"))
    # by user: the first X (@1) → b, c
    assert triples(paths(ev, after="X", depth=2)) == [("b > c", 1, 1.0)]
    # by session: session 1 → b > (end); session 2 → (end); 2 anchored units → 0.5 each
    assert triples(paths(ev, after="X", depth=2, by="session")) == [
        ("(end)", 1, 0.5),
        ("b > (end)", 1, 0.5),
    ]
    # with a session column: rows 0–2 in s1, rows 3–4 in s2 regardless of the gap;
    # s2 = c, X → before X: (start) > c; s1 = a, X, b → (start) > a
    ev_col = log(
        (1, 0, "a", {"session": "s1"}),
        (1, 1, "X", {"session": "s1"}),
        (1, 50, "b", {"session": "s1"}),
        (1, 2, "c", {"session": "s2"}),
        (1, 3, "X", {"session": "s2"}),
    )
    rows = paths(ev_col, before="X", depth=2, by="session", has_session_column=True)
    assert triples(rows) == [("(start) > a", 1, 0.5), ("(start) > c", 1, 0.5)]


def test_equal_timestamps_are_ordered_by_input_row():
    # rows: b@5 (0), X@5 (1), c@5 (2), a@3 (3) → sequence a, b, X, c
    ev = log((1, 5, "b"), (1, 5, "X"), (1, 5, "c"), (1, 3, "a"))
    assert [r["path"] for r in paths(ev, after="X", depth=2)] == ["c > (end)"]
    assert [r["path"] for r in paths(ev, before="X", depth=2)] == ["a > b"]


def test_top_and_the_other_row():
    # depth 1: users 1, 2 → "a"; users 3, 4 → "B"; user 5 → "c"; 5 anchored units
    ev = log(
        *seq(1, 0, "X", "a"),
        *seq(2, 0, "X", "a"),
        *seq(3, 0, "X", "B"),
        *seq(4, 0, "X", "B"),
        *seq(5, 0, "X", "c"),
    )
    # units tie 2–2: Python order "B" < "a" (upper case first)
    assert triples(paths(ev, after="X", depth=1, top=2)) == [
        ("B", 2, 0.4),
        ("a", 2, 0.4),
        ("(other)", 1, 0.2),  # the "c" row
    ]
    assert triples(paths(ev, after="X", depth=1, top=1)) == [
        ("B", 2, 0.4),
        ("(other)", 3, 0.6),  # a (2) + c (1)
    ]
    # top = 3 = number of paths: nothing left over → no (other) row
    assert triples(paths(ev, after="X", depth=1, top=3)) == [
        ("B", 2, 0.4),
        ("a", 2, 0.4),
        ("c", 1, 0.2),
    ]


def test_no_anchor_and_no_events_give_no_rows():
    assert paths(log(*seq(1, 0, "a", "b")), after="X") == []
    assert paths([], after="X") == []
    assert transitions(log(*seq(1, 0, "a", "b")), before="X") == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"after": "X", "depth": 0},
        {"after": "X", "top": 0},
        {"after": "X", "before": "X"},
        {},
        {"dropped_at": 1, "steps": ["a", "X"]},
        {"dropped_at": 3, "steps": ["a", "X"]},
        {"after": "X", "since": T0},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        paths(log(*seq(1, 0, "a", "X")), **kwargs)


# ------------------------------------------------------------------------------------ dropped_at
def test_dropped_at_excludes_in_progress_and_uses_the_chosen_attempts_event():
    # steps A, B, C, window 1h, K = 3 → units at level exactly 2, not in progress.
    # The last timestamp of the log is 200 (user 1's Z).
    ev = log(
        # user 1: attempts A@0 (→ B@10) and A@20 (→ B@30) both reach level 2; the chosen attempt
        # is the earliest-starting one, so the anchor is B@10 (not B@-5, the first B, nor B@30,
        # the later attempt's). Latest A@20 + 60 = 80 ≤ 200 → finished.
        # path after B@10, depth 3: A@20, B@30, Z@200
        (1, -5, "B"),
        (1, 0, "A"),
        (1, 10, "B"),
        (1, 20, "A"),
        (1, 30, "B"),
        (1, 200, "Z"),
        # user 2: level 2 but A@150 + 60 = 210 > 200 → in progress → excluded
        (2, 150, "A"),
        (2, 160, "B"),
        # user 3: level 3 (complete) → excluded
        (3, 0, "A"),
        (3, 5, "B"),
        (3, 6, "C"),
        # user 4: level 1 → excluded at K = 3
        (4, 0, "A"),
        # user 5: level 2, A@100 + 60 = 160 ≤ 200 → finished; after B@110: D, then (end)
        (5, 100, "A"),
        (5, 110, "B"),
        (5, 120, "D"),
    )
    kw = {"steps": ["A", "B", "C"], "window": HOUR, "depth": 3}
    assert triples(paths(ev, dropped_at=3, **kw)) == [
        ("A > B > Z", 1, 0.5),  # 2 anchored units (users 1, 5)
        ("D > (end)", 1, 0.5),
    ]
    # K = 2: level exactly 1 → user 4 only (A@0 + 60 ≤ 200); nothing after A@0 → (end)
    assert triples(paths(ev, dropped_at=2, **kw)) == [("(end)", 1, 1.0)]
    # since = 15 → only A@20, A@100, A@150 start attempts: user 1 enters with A@20 → B@30,
    # level 2, anchor B@30 → path Z > (end); user 3 has no step-1 event in range; user 5 as before
    assert triples(paths(ev, dropped_at=3, since=at(15), **kw)) == [
        ("D > (end)", 1, 0.5),
        ("Z > (end)", 1, 0.5),
    ]


def test_dropped_at_with_collapse_skips_the_anchors_whole_run():
    # steps A, B, C, K = 3; anchor = B@10 (greedy from A@0); last timestamp 500 (user 9)
    ev = log(
        *seq(1, 0, "A"),
        *seq(1, 10, "B", "B", "X", "X", "Y"),
        (9, 500, "Z"),
    )
    kw = {"steps": ["A", "B", "C"], "window": HOUR, "depth": 3}
    # raw: after B@10: B, X, X
    assert [r["path"] for r in paths(ev, dropped_at=3, **kw)] == ["B > X > X"]
    # collapsed: the run B@10, B@11 is the anchor's; then runs X, Y, then (end)
    assert [r["path"] for r in paths(ev, dropped_at=3, collapse=True, **kw)] == ["X > Y > (end)"]


def test_dropped_at_anchor_before_its_step_one_event_at_the_same_instant():
    # Choice 5: B@0 (row 0), B@0 (row 1), A@0 (row 2), then W@1. Greedy from A@0 takes the earliest
    # eligible B (equal time is allowed): B row 0, which sits BEFORE A in the (time, row) sequence.
    # The path is what follows that position: B, A, W (depth 3).
    ev = log((1, 0, "B"), (1, 0, "B"), (1, 0, "A"), (1, 1, "W"), (9, 500, "Z"))
    kw = {"steps": ["A", "B", "C"], "window": HOUR, "depth": 3}
    assert [r["path"] for r in paths(ev, dropped_at=3, **kw)] == ["B > A > W"]
    # collapsed: runs [B, B], [A], [W]; the anchor's run is [B, B] → A, W, (end)
    assert [r["path"] for r in paths(ev, dropped_at=3, collapse=True, **kw)] == ["A > W > (end)"]


def test_dropped_at_with_order_any_anchors_on_the_last_matched_event():
    # steps A, B, C, any, window 1h: user 1 has A@0, C@10, A@15, X@20 → inside [0, 60]: A and C
    # → level 2 (B never occurs). Matched: A@0, C@10 (earliest of each) → last = C@10.
    # Path after C@10 (depth 3): A, X, (end). User 9 (Z@500) keeps it from being in progress.
    ev = log((1, 0, "A"), (1, 10, "C"), (1, 15, "A"), (1, 20, "X"), (9, 500, "Z"))
    kw = {"steps": ["A", "B", "C"], "window": HOUR, "depth": 3}
    assert triples(paths(ev, dropped_at=3, order="any", **kw)) == [("A > X > (end)", 1, 1.0)]
    # ordered: C can't be step 2 → level 1 → not at level 2 → no rows at K = 3
    assert paths(ev, dropped_at=3, **kw) == []


def test_dropped_at_by_session():
    # A@0 B@5 | 55-minute gap ≥ 30m | C@60; the last timestamp is 1000 (user 9's Z).
    # by user, window 1h: C@60 is 60 min after A@0 (inclusive) → level 3 → not dropped.
    # by session: session 1 = A, B → level 2; A@0 + 60 = 60 ≤ 1000 → finished.
    ev = log((1, 0, "A"), (1, 5, "B"), (1, 60, "C"), (9, 1000, "Z"))
    kw = {"steps": ["A", "B", "C"], "window": HOUR, "depth": 2}
    assert paths(ev, dropped_at=3, **kw) == []  # user level 3
    # session (1, 0) = A, B: anchor B@5, nothing follows in the session → (end)
    assert triples(paths(ev, dropped_at=3, by="session", **kw)) == [("(end)", 1, 1.0)]
    # default 7-day window: 0 + 10080 > 1000 → in progress → excluded
    assert paths(ev, dropped_at=3, steps=["A", "B", "C"], depth=2, by="session") == []


# ----------------------------------------------------------------------------------- transitions
def test_transitions_after():
    ev = log(
        *seq(1, 0, "X", "a", "b"),  # path a > b > (end): X→a, a→b, b→(end)
        *seq(2, 0, "X", "a"),  # path a > (end): X→a, a→(end)
        *seq(3, 0, "a"),  # no anchor
        *seq(4, 0, "Y", "a"),  # anchor Y (own name, not "X|Y"): Y→a, a→(end)
    )
    assert edges(transitions(ev, after="X|Y", depth=3)) == [
        (1, "X", "a", 2),  # users 1, 2
        (1, "Y", "a", 1),
        (2, "a", "(end)", 2),  # users 2, 4
        (2, "a", "b", 1),
        (3, "b", "(end)", 1),
    ]
    # depth 1 with anchor as the last event: X → (end)
    assert edges(transitions(log(*seq(1, 0, "a", "X")), after="X", depth=1)) == [
        (1, "X", "(end)", 1)
    ]


def test_transitions_before_follow_time_outward_from_the_anchor():
    ev = log(
        *seq(1, 0, "a", "b", "X"),  # path (start) > a > b: b→X, a→b, (start)→a
        *seq(2, 0, "b", "X"),  # path (start) > b: b→X, (start)→b
    )
    assert edges(transitions(ev, before="X", depth=3)) == [
        (1, "b", "X", 2),
        (2, "(start)", "b", 1),  # ties at 1 unit: from "(start)" < "a"
        (2, "a", "b", 1),
        (3, "(start)", "a", 1),
    ]


def test_transitions_ignore_top_and_follow_dropped_at_paths():
    ev = log(*seq(1, 0, "A", "B", "X"), *seq(2, 0, "A", "B", "Y"), (9, 500, "Z"))
    # K = 3 of A, B, C: both users at level 2, anchor B; paths X > (end) and Y > (end)
    rows = transitions(ev, dropped_at=3, steps=["A", "B", "C"], window=HOUR, depth=2)
    assert edges(rows) == [
        (1, "B", "X", 1),
        (1, "B", "Y", 1),
        (2, "X", "(end)", 1),
        (2, "Y", "(end)", 1),
    ]


# ----------------------------------------------------------------------------------- journey map
def jm(rows):
    return [(r["from"], r["to"], r["users"], r["transitions"]) for r in rows]


def test_journey_map_counts_users_and_transitions():
    ev = log(
        # user 1: sessions (1 hour apart) awareness, consideration, awareness, consideration
        (1, 0, "page_view"),
        (1, 60, "product_view"),
        (1, 120, "page_view"),
        (1, 180, "product_view"),
        # user 2: one awareness session
        (2, 0, "page_view"),
        # user 3: a decision session, then a purchase session (first order)
        (3, 0, "product_view"),
        (3, 1, "add_to_cart"),
        (3, 60, "purchase"),
    )
    assert jm(journey_map(ev)) == [
        ("(start)", "awareness", 2, 2),  # users 1, 2
        ("(start)", "decision", 1, 1),
        ("awareness", "consideration", 1, 2),  # user 1, twice
        ("awareness", "(end)", 1, 1),  # user 2
        ("consideration", "awareness", 1, 1),
        ("consideration", "(end)", 1, 1),
        ("decision", "purchase", 1, 1),
        ("purchase", "(end)", 1, 1),
    ]


def test_journey_map_orders_sessions_at_the_same_instant_by_key_text():
    # session values 10 and 9 both start at T0: as text "10" < "9" → session 10 first.
    ev = log(
        (1, 0, "page_view", {"session": 9}),  # awareness
        (1, 0, "product_view", {"session": 10}),  # consideration
    )
    # sequence (start), consideration, awareness, (end); rows in ladder order of from
    # (numeric order 9, 10 would give (start)→awareness→consideration→(end) instead)
    assert jm(journey_map(ev, has_session_column=True)) == [
        ("(start)", "consideration", 1, 1),
        ("awareness", "(end)", 1, 1),
        ("consideration", "awareness", 1, 1),
    ]


def test_journey_map_since_keeps_sessions_but_judges_stages_on_the_whole_log():
    ev = log(
        (1, 0, "purchase"),  # session 1: first order → purchase
        (1, 120, "purchase"),  # session 2: repeat order → retention
        (2, 0, "page_view"),  # user 2: no session starting at or after 60 → no rows
    )
    # only user 1's second session is kept; it is still "retention" (the whole log has 2 orders)
    assert jm(journey_map(ev, since=at(60))) == [
        ("(start)", "retention", 1, 1),
        ("retention", "(end)", 1, 1),
    ]
    # until = 60: user 1's first session and user 2's
    assert jm(journey_map(ev, until=at(60))) == [
        ("(start)", "awareness", 1, 1),
        ("(start)", "purchase", 1, 1),
        ("awareness", "(end)", 1, 1),
        ("purchase", "(end)", 1, 1),
    ]
