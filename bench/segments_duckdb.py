#!/usr/bin/env python3
"""journeykit `segments --by rfm` (SPEC §16) in DuckDB SQL.

usage: segments_duckdb.py PATH --cols ... [--events ...] [--time-unit ...] [--gap 1800]

Sessions and orders as ../shared/bench/sessions.py (SPEC §3); per customer R = days from the
last order to the data's last event, F = orders, M = Σ order values (rounded to 6 decimals for
the thresholds); quintile thresholds at 1-based positions ceil(j·n/5) of the sorted values;
scores 1 + #{x > q_j} (R: 5 − that); FM = floor((F + M)/2 + 0.5); the first matching segment.
Prints segment, users, share, sessions, orders, revenue, average_order_value. For bench/bench.py.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "shared" / "bench"))

import duckdb
from common import emit, last_us_duckdb, log_of, parser
from sessions import events_cte, line, order_key

SEGMENTS = ["champions", "loyal", "new", "promising", "at_risk", "hibernating", "lost"]
ap = parser(__doc__)
args = ap.parse_args()
log = log_of(args)
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
now = last_us_duckdb(con, log)
first = "struct_pack(t := t, r := r)"


def score(column: str, thresholds: str, *, recency: bool = False) -> str:
    above = " + ".join(f"({column} > {thresholds}[{j}])::INT" for j in range(1, 5))
    return f"(5 - ({above}))" if recency else f"(1 + {above})"


def quintiles(column: str) -> str:
    positions = ", ".join(
        f"list_sort(list({column}))[ceil({j} * count(*) / 5)::INT]" for j in (1, 2, 3, 4)
    )
    return f"[{positions}]"


sql = f"""
WITH {events_cte(log, money=True, rows=True)},
sessions AS (SELECT u, count(*) AS n FROM (SELECT DISTINCT u, s FROM e) GROUP BY u),
bought AS (SELECT u, s, t, r, {line(log)} AS v, {order_key(log)} AS ok
           FROM e WHERE {log.is_event("purchase", column="ev")}),
placed AS (SELECT u, min({first}).t AS t, sum(v) AS value FROM bought GROUP BY u, ok),
customers AS (SELECT u, ({now} - max(t)) / 86400000000.0 AS recency, count(*) AS f,
                     sum(value) AS m, round(sum(value), 6) AS m6
              FROM placed GROUP BY u),
q AS (SELECT {quintiles("recency")} AS qr, {quintiles("f")} AS qf, {quintiles("m6")} AS qm
      FROM customers),
scored AS (SELECT c.*, {score("recency", "qr", recency=True)} AS rs, {score("f", "qf")} AS fs,
                  {score("m6", "qm")} AS ms FROM customers c, q),
labelled AS (SELECT *, floor((fs + ms) / 2 + 0.5) AS fm FROM scored),
segmented AS (SELECT u, f, m, CASE
    WHEN rs >= 4 AND fm >= 4 THEN 'champions' WHEN rs >= 3 AND fm >= 3 THEN 'loyal'
    WHEN rs >= 4 AND f = 1 THEN 'new' WHEN rs >= 3 THEN 'promising' WHEN fm >= 3 THEN 'at_risk'
    WHEN rs = 2 THEN 'hibernating' ELSE 'lost' END AS segment FROM labelled)
SELECT segment, count(*), sum(n), sum(f), sum(m)
FROM segmented JOIN sessions USING (u) GROUP BY segment
"""
rows = {name: (users, n, f, m) for name, users, n, f, m in con.execute(sql).fetchall()}
total = sum(users for users, *_ in rows.values())
out = []
for name in SEGMENTS:
    users, n, f, m = rows.get(name, (0, 0, 0, 0.0))
    out.append([name, users, users / total if total else None, n, f, m, m / f if f else None])
columns = ["segment", "users", "share", "sessions", "orders", "revenue", "average_order_value"]
emit("segments", "duckdb", columns, out)
