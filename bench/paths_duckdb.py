#!/usr/bin/env python3
"""journeykit `paths --after NAME --depth D` (SPEC §14) in DuckDB SQL with window functions.

usage: paths_duckdb.py PATH --cols ... [--events ...] [--time-unit ...] [--after add_to_cart]
       [--depth 3] [--top 20] [--plain]

Each user's first NAME event by (time, input row); the path is the next D events by `lead()` over
(user, time, row), `(end)` after the last. The default query first keeps each user's events from
that anchor on (a join on the anchor's (time, row)), so the window sorts only those; `--plain`
runs `lead()` over every event. Prints path, units, share: the top paths by units then path,
then `(other)`. Written for bench/bench.py, in the style of ../shared/bench/ (common.py).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "shared" / "bench"))

import duckdb
from common import emit, log_of, parser

ap = parser(__doc__)
ap.add_argument("--after", default="add_to_cart")
ap.add_argument("--depth", type=int, default=3)
ap.add_argument("--top", type=int, default=20)
ap.add_argument("--plain", action="store_true", help="lead() over every event")
args = ap.parse_args()
log = log_of(args)
leads = ", ".join(f"lead(ev, {d}) OVER w AS n{d}" for d in range(1, args.depth + 1))
cells = ", ".join(f"n{d}" for d in range(1, args.depth + 1))
base = f"SELECT {log.user()} AS u, {log.t_us()} AS t, file_row_number AS r, {log.q('event')} AS ev"
anchor = log.is_event(args.after, column="ev")
window = "WINDOW w AS (PARTITION BY u ORDER BY t, r)"
if args.plain:
    sql = f"""
    WITH e AS ({base} FROM {log.parquet(rows=True)}),
    walked AS (SELECT u, t, r, {anchor} AS anchor, {leads} FROM e {window})
    SELECT {", ".join(f"p.n{d}" for d in range(1, args.depth + 1))}, count(*) FROM (
        SELECT arg_min(struct_pack({cells}), struct_pack(t := t, r := r)) AS p
        FROM walked WHERE anchor GROUP BY u
    ) GROUP BY ALL
    """
else:
    sql = f"""
    WITH e AS ({base} FROM {log.parquet(rows=True)}),
    anchors AS (SELECT u, min(struct_pack(t := t, r := r)) AS a FROM e WHERE {anchor} GROUP BY u),
    tail AS (SELECT e.* FROM e JOIN anchors USING (u)
             WHERE e.t > a.t OR (e.t = a.t AND e.r >= a.r)),
    walked AS (SELECT {leads} FROM tail {window} QUALIFY row_number() OVER w = 1)
    SELECT {cells}, count(*) FROM walked GROUP BY ALL
    """
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
rows = con.execute(sql).fetchall()
canonical = log.events
counts: dict[str, int] = {}
for *names, units in rows:
    path = []
    for name in names:
        if name is None:
            path.append("(end)")
            break
        path.append(canonical.get(name, name))
    text = " > ".join(path)
    counts[text] = counts.get(text, 0) + units
anchored = sum(counts.values())
ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0].encode()))
out = [[path, units, units / anchored] for path, units in ranked[: args.top]]
rest = sum(units for _, units in ranked[args.top :])
if rest:
    out.append(["(other)", rest, rest / anchored])
emit("paths", "duckdb", ["path", "units", "share"], out)
