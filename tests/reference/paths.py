"""Reference paths, transitions and journey map (SPEC §14).

Plain, slow, obviously-correct Python used to cross-check the production implementation.  Built
only on the other reference modules: `model` (events, sessions), `funnel` (unit evaluation for
`dropped_at`) and `stages` (session stages for the journey map).

AMBIGUITIES AND CHOICES
1. Names are matched exactly against `Event.event` (events are already normalized, so alias
   resolution is the loader's job and is not repeated here).  `a|b` matches either name; parts are
   stripped of surrounding blanks and empty parts are ignored.
2. Exactly one of after / before / dropped_at must be given; depth ≥ 1 and top ≥ 1; for dropped_at
   2 ≤ K ≤ len(steps).  Violations raise ValueError (the CLI's exit 2).
3. since/until are defined by the SPEC only for dropped_at (as the funnel's entry range).  With
   after/before they raise ValueError rather than guess a meaning.  steps/window/order are ignored
   with after/before.
4. dropped_at with steps=None uses the §4 default: the canonical chain page_view, product_view,
   add_to_cart, checkout, purchase restricted to the names present in the data (at least two, else
   ValueError).  Steps with `|` alternatives are not supported (the reference funnel matches plain
   names) and raise ValueError.
5. dropped_at units: the §4 funnel units (the user, or the session with by="session") that enter
   (an in-range step-1 event), whose level is exactly K − 1 and that are not in progress (level < n
   and the latest in-range step-1 time + window strictly after the last timestamp of ALL events).
   The anchor is `matched[K-2]` of the reference funnel's chosen attempt for ordered/strict (its
   step-(K−1) event), and the last of the chosen attempt's matched events in (time, row) order for
   any.  The path is the events after the anchor's POSITION in the unit's (time, row) sequence, all
   of them (not limited by until).  For ordered, a same-instant earlier step with a higher row can
   therefore appear in the path.  The level counts are cross-checked against the reference funnel.
6. collapse: runs of consecutive events (in the unit's (time, row) sequence) with the same name
   become one event, the run's first.  after/before anchor on the collapsed sequence (the first
   matching collapsed event = the run holding the first matching raw event).  dropped_at anchors on
   the run holding the chosen raw event and the path starts at the next run.
7. The path lists at most `depth` elements: after → the next min(depth, available) names, then
   "(end)" only if fewer than depth followed; before → "(start)" only if fewer than depth preceded,
   then the preceding names oldest first.  So a path of an anchor that is the last event is "(end)".
8. share = units / anchored units (a float; no rounding here).  Rows sorted by (−units, path) with
   Python's str order.  The (other) row has units = Σ of the rows beyond `top` and their share sum
   (units_other / anchored); it is omitted when no rows are beyond `top`.  No anchored unit → [].
9. Transitions: the chain outward from the anchor is c0 = anchor's own event name (not the pattern),
   c1, c2, … = the path elements at distance 1, 2, … (for before: the path read newest first, with
   "(start)" farthest).  Depth d is c(d−1) → c(d) for after and c(d) → c(d−1) for before (time
   order).  There are exactly len(path) transitions per unit; units = number of units having that
   (depth, from, to).  Sorted by (depth, −units, from, to).
10. Journey map stages are session_stage() on the whole log (no since/until).  has_order_column is
   an extra argument; None infers it from the data (some event has a non-null order_id), like
   model.py infers money columns.
11. Journey map order of a user's sessions: (first event's time, session key as text).  The key's
   text is the session value (with a session column) or the gap-session index; a null session
   value sorts before any text.  (With gap sessions first times never tie.)
12. since/until on the journey map keep sessions whose first event time is in [since, until); the
   kept sessions are consecutive in the user's sequence as filtered (a skipped session in between
   does not break a pair).  users = distinct users having the pair, transitions = number of pairs.
   Rows sorted by the ladder rank of from, then of to, with (start) before awareness and (end)
   after advocacy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from .funnel import evaluate_unit, funnel
from .model import DEFAULT_GAP, Event, in_range, order_key, session_events, sessions
from .stages import STAGES, session_stage

START = "(start)"
END = "(end)"
OTHER = "(other)"
SEPARATOR = " > "
DEFAULT_STEPS = ["page_view", "product_view", "add_to_cart", "checkout", "purchase"]


# ----------------------------------------------------------------------------------------------
# units, names, collapse
# ----------------------------------------------------------------------------------------------
def name_set(pattern: str) -> set[str]:
    """`a|b` → {"a", "b"}."""
    return {part.strip() for part in pattern.split("|") if part.strip()}


def units_of(
    events: list[Event], *, by: str, has_session_column: bool, gap: timedelta
) -> dict[Any, list[Event]]:
    """Each unit's events ordered by (time, row): the user, or the session (§3)."""
    if by not in ("user", "session"):
        raise ValueError(f"unknown by {by!r}")
    session_of = sessions(events, has_session_column=has_session_column, gap=gap)
    out: dict[Any, list[Event]] = defaultdict(list)
    for e in events:
        out[e.user if by == "user" else session_of[e.row]].append(e)
    for seq in out.values():
        seq.sort(key=order_key)
    return dict(out)


def runs(seq: list[Event]) -> list[list[Event]]:
    """Runs of consecutive events with the same name."""
    out: list[list[Event]] = []
    for e in seq:
        if out and out[-1][0].event == e.event:
            out[-1].append(e)
        else:
            out.append([e])
    return out


# ----------------------------------------------------------------------------------------------
# anchors and paths: each returns (anchor name, path elements) or None when the unit has no anchor
# ----------------------------------------------------------------------------------------------
def after_path(names: list[str], index: int, depth: int) -> list[str]:
    following = names[index + 1 : index + 1 + depth]
    if len(following) < depth:
        following.append(END)
    return following


def before_path(names: list[str], index: int, depth: int) -> list[str]:
    preceding = names[max(0, index - depth) : index]
    if len(preceding) < depth:
        preceding.insert(0, START)
    return preceding


def name_anchor(
    seq: list[Event], wanted: set[str], *, direction: str, depth: int, collapse: bool
) -> tuple[str, list[str]] | None:
    items = [run[0] for run in runs(seq)] if collapse else list(seq)
    names = [e.event for e in items]
    index = next((i for i, name in enumerate(names) if name in wanted), None)
    if index is None:
        return None
    if direction == "after":
        return names[index], after_path(names, index, depth)
    return names[index], before_path(names, index, depth)


def dropped_anchor(
    seq: list[Event], chosen: Event, *, depth: int, collapse: bool
) -> tuple[str, list[str]]:
    if collapse:
        grouped = runs(seq)
        index = next(i for i, run in enumerate(grouped) if any(e.row == chosen.row for e in run))
        names = [run[0].event for run in grouped]
    else:
        index = next(i for i, e in enumerate(seq) if e.row == chosen.row)
        names = [e.event for e in seq]
    return chosen.event, after_path(names, index, depth)


# ----------------------------------------------------------------------------------------------
# dropped_at: funnel levels (§4) on the raw events
# ----------------------------------------------------------------------------------------------
def resolve_steps(events: list[Event], steps: list[str] | None) -> list[str]:
    if steps is None:
        present = {e.event for e in events}
        steps = [s for s in DEFAULT_STEPS if s in present]
    steps = list(steps)
    if len(steps) < 2:
        raise ValueError("a funnel needs at least two steps")
    if any("|" in s for s in steps):
        raise ValueError("the reference funnel does not support step alternatives")
    return steps


def dropped_units(
    events: list[Event],
    units: dict[Any, list[Event]],
    *,
    k: int,
    steps: list[str],
    window: timedelta,
    order: str,
    since: datetime | None,
    until: datetime | None,
) -> tuple[dict[Any, Event], int]:
    """(unit → its anchor event, for units at level exactly k − 1 that are not in progress;
    the number of in-progress units at level exactly k − 1)."""
    last_ts = max(e.time for e in events)
    at_level: dict[Any, Event] = {}
    progressing_at_level = 0
    for key, seq in units.items():
        info = evaluate_unit(seq, steps, window=window, order=order, since=since, until=until)
        if info is None or info["level"] != k - 1:
            continue
        if info["last_start_time"] + window > last_ts:  # level k − 1 < n: not complete
            progressing_at_level += 1
            continue
        matched = info["matched"]
        at_level[key] = matched[-1] if order == "any" else matched[k - 2]
    return at_level, progressing_at_level


# ----------------------------------------------------------------------------------------------
# per-unit paths, shared by paths() and transitions()
# ----------------------------------------------------------------------------------------------
def unit_paths(
    events: list[Event],
    *,
    after: str | None = None,
    before: str | None = None,
    dropped_at: int | None = None,
    steps: list[str] | None = None,
    window: timedelta = timedelta(days=7),
    order: str = "ordered",
    since: datetime | None = None,
    until: datetime | None = None,
    depth: int = 3,
    by: str = "user",
    collapse: bool = False,
    session_gap: timedelta = DEFAULT_GAP,
    has_session_column: bool = False,
) -> list[tuple[str, list[str], str]]:
    """(anchor name, path elements, direction) for every anchored unit."""
    if sum(x is not None for x in (after, before, dropped_at)) != 1:
        raise ValueError("give exactly one of after, before, dropped_at")
    if depth < 1:
        raise ValueError("depth must be >= 1")
    events = list(events)
    if not events:
        return []
    units = units_of(events, by=by, has_session_column=has_session_column, gap=session_gap)
    if dropped_at is None:
        if since is not None or until is not None:
            raise ValueError("since/until are only defined with dropped_at")
        direction = "after" if after is not None else "before"
        pattern = after if after is not None else before
        assert pattern is not None
        wanted = name_set(pattern)
        found = [
            name_anchor(seq, wanted, direction=direction, depth=depth, collapse=collapse)
            for seq in units.values()
        ]
        return [(a, p, direction) for a, p in (f for f in found if f is not None)]
    funnel_kwargs: dict[str, Any] = dict(
        steps=resolve_steps(events, steps), window=window, order=order, since=since, until=until
    )
    unit_kwargs = dict(by=by, has_session_column=has_session_column, gap=session_gap)
    return dropped_paths(
        events,
        units,
        k=dropped_at,
        depth=depth,
        collapse=collapse,
        funnel_kwargs=funnel_kwargs,
        unit_kwargs=unit_kwargs,
    )


def dropped_paths(
    events: list[Event],
    units: dict[Any, list[Event]],
    *,
    k: int,
    depth: int,
    collapse: bool,
    funnel_kwargs: dict[str, Any],
    unit_kwargs: dict[str, Any],
) -> list[tuple[str, list[str], str]]:
    if not 2 <= k <= len(funnel_kwargs["steps"]):
        raise ValueError("dropped_at must be between 2 and the number of steps")
    anchors, progressing = dropped_units(events, units, k=k, **funnel_kwargs)
    rows = funnel(events, **funnel_kwargs, **unit_kwargs)
    assert rows[k - 1]["dropped"] == len(anchors) + progressing, "level count differs from funnel"
    assert rows[k - 1]["in_progress"] == progressing, "in-progress count differs from funnel"
    out = []
    for key, chosen in anchors.items():
        anchor, path = dropped_anchor(units[key], chosen, depth=depth, collapse=collapse)
        out.append((anchor, path, "after"))
    return out


# ----------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------
def paths(events: list[Event], *, top: int = 20, **options: Any) -> list[dict[str, Any]]:
    """Rows {path, units, share} sorted by units desc then path; then one (other) row."""
    if top < 1:
        raise ValueError("top must be >= 1")
    found = unit_paths(events, **options)
    anchored = len(found)
    counts = Counter(SEPARATOR.join(path) for _, path, _ in found)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = [{"path": p, "units": u, "share": u / anchored} for p, u in ranked[:top]]
    rest = sum(u for _, u in ranked[top:])
    if ranked[top:]:
        rows.append({"path": OTHER, "units": rest, "share": rest / anchored})
    return rows


def chain_transitions(anchor: str, path: list[str], direction: str) -> list[tuple[int, str, str]]:
    """(depth, from, to) for one unit: depth d joins distances d − 1 and d, in time order."""
    outward = [anchor, *(path if direction == "after" else reversed(path))]
    out = []
    for d in range(1, len(outward)):
        near, far = outward[d - 1], outward[d]
        out.append((d, near, far) if direction == "after" else (d, far, near))
    return out


def transitions(events: list[Event], **options: Any) -> list[dict[str, Any]]:
    """``unit_paths``'s options (``paths`` less ``top``)."""
    """Rows {depth, from, to, units} sorted by depth, units desc, from, to."""
    found = unit_paths(events, **options)
    counts: Counter[tuple[int, str, str]] = Counter()
    for anchor, path, direction in found:
        counts.update(chain_transitions(anchor, path, direction))
    ranked = sorted(counts.items(), key=lambda item: (item[0][0], -item[1], item[0][1], item[0][2]))
    return [{"depth": d, "from": f, "to": t, "units": u} for (d, f, t), u in ranked]


# ----------------------------------------------------------------------------------------------
# journey map
# ----------------------------------------------------------------------------------------------
NODE_RANK = {START: -1, **{stage: i for i, stage in enumerate(STAGES)}, END: len(STAGES)}


def session_sort_key(key: Any, first_time: datetime) -> tuple[Any, ...]:
    value = key[1]
    return (first_time, value is not None, "" if value is None else str(value))


def user_stage_sequences(
    events: list[Event],
    *,
    session_gap: timedelta,
    has_session_column: bool,
    has_order_column: bool,
    since: datetime | None,
    until: datetime | None,
) -> dict[Any, list[str]]:
    """user → the stages of its in-range sessions, in session order (stages on the whole log)."""
    stage_of = session_stage(
        events,
        has_session_column=has_session_column,
        gap=session_gap,
        has_order_column=has_order_column,
    )
    by_session = session_events(events, has_session_column=has_session_column, gap=session_gap)
    keyed: dict[Any, list[tuple[tuple[Any, ...], str]]] = defaultdict(list)
    for key, evs in by_session.items():
        first = evs[0].time
        if in_range(first, since, until):
            keyed[evs[0].user].append((session_sort_key(key, first), stage_of[key]))
    return {user: [stage for _, stage in sorted(items)] for user, items in keyed.items()}


def journey_map(
    events: list[Event],
    *,
    session_gap: timedelta = DEFAULT_GAP,
    has_session_column: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    has_order_column: bool | None = None,
) -> list[dict[str, Any]]:
    """Rows {from, to, users, transitions} in ladder order of from, then to."""
    events = list(events)
    if has_order_column is None:
        has_order_column = any(e.order_id is not None for e in events)
    sequences = user_stage_sequences(
        events,
        session_gap=session_gap,
        has_session_column=has_session_column,
        has_order_column=has_order_column,
        since=since,
        until=until,
    )
    pairs: Counter[tuple[str, str]] = Counter()
    users: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for user, stages in sequences.items():
        nodes = [START, *stages, END]
        for pair in pairwise(nodes):
            pairs[pair] += 1
            users[pair].add(user)
    ranked = sorted(pairs, key=lambda p: (NODE_RANK[p[0]], NODE_RANK[p[1]]))
    return [
        {"from": f, "to": t, "users": len(users[(f, t)]), "transitions": pairs[(f, t)]}
        for f, t in ranked
    ]
