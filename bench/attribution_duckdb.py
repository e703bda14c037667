#!/usr/bin/env python3
"""journeykit `attribution` (SPEC §15) for the first, last and linear models, in DuckDB SQL.

usage: attribution_duckdb.py PATH --cols ... [--touch COL] [--events ...] [--time-unit ...]
       [--lookback 30d] [--gap 1800]

Sessions are (user, session value), or without a session column the inactivity rule (as
../shared/bench/sessions.py); a session's touch is the value on its first event (time, row).
An order (SPEC §3: order id, else the session's purchases) is placed at its first purchase row;
its path is a range join: the user's sessions starting in [t − lookback, t], plus its own session
when that started earlier, ranked by (start, session key as text). Prints model, touch,
conversions (3 decimals), orders_touched in journeykit's row order. For bench/bench.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "shared" / "bench"))

import duckdb
from common import emit, log_of, parser, window_us
from sessions import line, order_key

ap = parser(__doc__)
ap.add_argument("--touch", help="the touch column (default: journeykit's detection, SPEC §15)")
ap.add_argument("--lookback", default="30d")
args = ap.parse_args()
log = log_of(args)
TOUCHES = (
    "channel",
    "utm_source",
    "source",
    "traffic_source",
    "acquisition_channel",
    "campaign",
    "utm_campaign",
)
if args.touch is None:
    names = {name.lower(): name for name in duckdb.read_parquet(log.path).columns}
    args.touch = next(names[t] for t in TOUCHES if t in names)
touch = '"' + args.touch.replace('"', '""') + '"'
money = [f"{log.q('price')} AS price"] if log.col("price") else []
money += [f"{log.q('quantity')} AS quantity"] if log.col("quantity") else []
orders = [f"{log.q('order')} AS order_id"] if log.col("order") else []
session = [f"{log.q('session')} AS s"] if log.col("session") else []
cols = [
    f"{log.user()} AS u",
    f"{log.t_us()} AS t",
    "file_row_number AS r",
    f"{log.q('event')} AS ev",
    f"{touch}::VARCHAR AS touch",
    *money,
    *orders,
    *session,
]
base = f"SELECT {', '.join(cols)} FROM {log.parquet(rows=True)}"
if session:
    events = f"e AS ({base})"
else:
    w = "PARTITION BY u ORDER BY t"
    events = (
        f"e0 AS ({base}), e1 AS (SELECT *, CASE WHEN t - lag(t) OVER ({w}) >= {log.gap_us} "
        f"THEN 1 ELSE 0 END AS new FROM e0), e AS MATERIALIZED (SELECT * EXCLUDE (new), "
        f"sum(new) OVER ({w} RANGE UNBOUNDED PRECEDING) AS s FROM e1)"
    )
first = "struct_pack(t := t, r := r)"
lookback = window_us(args.lookback)
sql = f"""
WITH {events},
sess AS (SELECT u, s, min(t) AS st, coalesce(arg_min(touch, {first}), '(none)') AS touch
         FROM e GROUP BY u, s),
bought AS (SELECT u, s, t, r, {line(log)} AS v, {order_key(log)} AS ok
           FROM e WHERE {log.is_event("purchase", column="ev")}),
o AS (SELECT row_number() OVER () AS oid, u, min({first}).t AS t, arg_min(s, {first}) AS own
      FROM bought GROUP BY u, ok),
path AS (SELECT o.oid, x.st, x.s, x.touch FROM o JOIN sess x
           ON x.u = o.u AND x.st BETWEEN o.t - {lookback} AND o.t
         UNION ALL
         SELECT o.oid, x.st, x.s, x.touch FROM o JOIN sess x
           ON x.u = o.u AND x.s IS NOT DISTINCT FROM o.own AND x.st < o.t - {lookback}),
ranked AS (SELECT touch, oid, row_number() OVER w AS i, count(*) OVER (PARTITION BY oid) AS m
           FROM path WINDOW w AS (PARTITION BY oid ORDER BY st, s::VARCHAR NULLS FIRST))
SELECT touch, sum((i = 1)::INT) AS first, sum((i = m)::INT) AS last, sum(1.0 / m) AS linear,
       count(DISTINCT oid) AS touched
FROM ranked GROUP BY touch
"""
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
credited = con.execute(sql).fetchall()
out = []
for index, model in enumerate(("first", "last", "linear"), start=1):
    rows = [(row[0], round(float(row[index]), 3), int(row[4])) for row in credited]
    rows.sort(key=lambda row: (-row[1], row[0].encode()))
    out += [[model, name, conversions, touched] for name, conversions, touched in rows]
emit("attribution", "duckdb", ["model", "touch", "conversions", "orders_touched"], out)
