"""Benchmark journeykit against DuckDB (and plain Polars) on generated logs of the ``journeykit
sample`` shape.

    python bench/bench.py --events 10M 100M              # every case
    python bench/bench.py --events 10M --case funnel     # one case
    python bench/bench.py --events 100M --repeat 2       # best of two runs per engine

Each measurement runs in a child process (wall time and that child's peak RSS from ``wait4``);
journeykit runs as a user would run it (``journeykit CMD FILE --format csv``), DuckDB runs the
equivalent SQL on the same Parquet file and, for ``summary`` and ``retention``, a plain lazy Polars
query written directly on the file runs too. The figures are compared (same numbers: counts
exactly, rates and money within the rounding of the CSV's decimals) before the timing is printed.
Generated files are cached in ``bench/out/``. Needs ``pip install -e .[bench]``.
"""

import argparse
import io
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

OUT = Path(__file__).parent / "out"
STEPS = ("product_view", "add_to_cart", "checkout", "purchase")
STAGES = ("awareness", "consideration", "decision", "purchase", "retention", "advocacy")
RATE, MONEY = 6, 2
"""Decimals journeykit's CSV gives rates and money (SPEC §8)."""
RECOVERY = "INTERVAL 7 DAY"
PERIODS = 8

Rows = list[tuple[object, ...]]
Columns = Sequence[tuple[str, int | None]]
"""Compared columns of journeykit's CSV and their decimals (``None``: exact)."""


@dataclass(frozen=True)
class Case:
    journeykit: list[str]
    duckdb_sql: Callable[[Path], str]
    same: Callable[[pl.DataFrame, Rows], bool]
    polars: Callable[[Path], Rows] | None = None
    """A plain Polars query computing the same rows (run in a child process, like the others)."""


def funnel_sql(path: Path) -> str:
    steps = ", ".join(f"'{s}'" for s in STEPS)
    joins = []
    for k in range(2, len(STEPS) + 1):
        joins.append(
            f"m{k} AS (SELECT m{k - 1}.*, s.t AS t{k} FROM m{k - 1} ASOF LEFT JOIN "
            f"(SELECT user_id, event_time t FROM e WHERE event_type = '{STEPS[k - 1]}') s "
            f"ON m{k - 1}.user_id = s.user_id AND s.t >= m{k - 1}.t{k - 1})"
        )
    level = " ".join(
        f"WHEN t{k} IS NULL OR t{k} - t1 > INTERVAL 1 DAY THEN {k - 1}"
        for k in range(2, len(STEPS) + 1)
    )
    counts = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, len(STEPS) + 1))
    return f"""
        WITH e AS (SELECT user_id, event_time, event_type FROM read_parquet('{path}')
                   WHERE event_type IN ({steps})),
        m1 AS (SELECT user_id, event_time AS t1 FROM e WHERE event_type = '{STEPS[0]}'),
        {", ".join(joins)},
        attempts AS (SELECT user_id, CASE {level} ELSE {len(STEPS)} END AS level
                     FROM m{len(STEPS)}),
        units AS (SELECT user_id, max(level) AS level FROM attempts GROUP BY user_id)
        SELECT {counts} FROM units
    """


# Sessions, orders and stages in SQL (SPEC §3, §5, §6, §7b). A session is (user, session_id), a
# null id being its own session; an order is (user, order_id), else the purchases of one session;
# it happens at its first purchase row and belongs to that row's session.
LINE = "coalesce(price, 0) * coalesce(quantity, 1)"
ORDER_KEY = "coalesce('o:' || order_id, 's:' || coalesce(s, ''))"
LOST = "first_cart IS NOT NULL AND NOT coalesce(last_purchase >= first_cart, false)"
SESSION_FACTS = {
    "n": "count(*)",
    "first_event": "min(t)",
    "last_event": "max(t)",
    "consideration": "bool_or(ev IN ('product_view', 'search'))",
    "decision": "bool_or(ev IN ('add_to_cart', 'checkout'))",
    "last_advocacy": "max(t) FILTER (WHERE ev IN ('review', 'referral', 'share'))",
    "first_cart": "min(t) FILTER (WHERE ev = 'add_to_cart')",
    "first_checkout": "min(t) FILTER (WHERE ev = 'checkout')",
    "last_purchase": "max(t) FILTER (WHERE ev = 'purchase')",
    "cart_value": f"coalesce(sum({LINE}) FILTER (WHERE ev = 'add_to_cart'), 0) "
    f"- coalesce(sum({LINE}) FILTER (WHERE ev = 'remove_from_cart'), 0)",
    "revenue": f"sum({LINE}) FILTER (WHERE ev = 'purchase')",
}


def events_cte(path: Path, *, rows: bool = False) -> str:
    """``e``: the events under short names (``r``: the input row, for ties in time)."""
    row, option = (", file_row_number AS r", ", file_row_number = true") if rows else ("", "")
    return (
        f"e AS (SELECT user_id AS u, session_id AS s, event_time AS t, event_type AS ev, "
        f"price, quantity, order_id{row} FROM read_parquet('{path}'{option}))"
    )


def sessions_cte(*facts: str) -> str:
    """``sess``: one row per session with the named ``SESSION_FACTS``."""
    select = ", ".join(f"{SESSION_FACTS[name]} AS {name}" for name in facts)
    return f"sess AS (SELECT u, s, {select} FROM e GROUP BY u, s)"


def summary_sql(path: Path) -> str:
    facts = sessions_cte("n", "first_event", "last_event", "first_cart", "last_purchase", "revenue")
    return f"""
        WITH {events_cte(path)}, {facts},
        per_user AS (SELECT u, count(DISTINCT {ORDER_KEY}) AS k FROM e
                     WHERE ev = 'purchase' GROUP BY u),
        totals AS (SELECT sum(n) AS events, count(DISTINCT u) AS users, count(*) AS sessions,
                          count(*) FILTER (WHERE n = 1) AS bounces,
                          count(last_purchase) AS with_purchase, count(first_cart) AS carts,
                          count(*) FILTER (WHERE {LOST}) AS abandoned, sum(revenue) AS revenue,
                          epoch_us(min(first_event)) AS first, epoch_us(max(last_event)) AS last
                   FROM sess),
        buyers AS (SELECT sum(k) AS orders, count(*) AS customers,
                          count(*) FILTER (WHERE k >= 2) AS repeaters FROM per_user)
        SELECT events, users, sessions, bounces / sessions, with_purchase,
               with_purchase / sessions, abandoned / carts, orders, revenue, revenue / orders,
               customers, repeaters, repeaters / customers, first, last
        FROM totals, buyers
    """


def abandonment_sql(path: Path) -> str:
    facts = sessions_cte(
        "last_event", "first_cart", "first_checkout", "last_purchase", "cart_value"
    )
    recovered = f"next_t <= last_event + {RECOVERY}"
    return f"""
        WITH {events_cte(path)}, {facts},
        orders AS (SELECT u, min(t) AS t, sum({LINE}) AS v FROM e WHERE ev = 'purchase'
                   GROUP BY u, {ORDER_KEY}),
        carts AS (SELECT *, {LOST} AS lost FROM sess
                  WHERE first_cart IS NOT NULL OR first_checkout IS NOT NULL),
        next AS (SELECT l.last_event, o.t AS next_t, o.v AS next_v
                 FROM (SELECT u, last_event FROM carts WHERE lost) l
                 ASOF LEFT JOIN orders o ON l.u = o.u AND o.t > l.last_event),
        back AS (SELECT count(*) FILTER (WHERE {recovered}) AS recovered,
                        sum(next_v) FILTER (WHERE {recovered}) AS revenue,
                        count(*) FILTER (WHERE NOT coalesce({recovered}, false)
                            AND last_event + {RECOVERY} > (SELECT max(last_event) FROM sess))
                            AS pending FROM next),
        lost AS (SELECT count(first_cart) AS carts, count(*) FILTER (WHERE lost) AS abandoned,
                        count(first_checkout) AS checkouts,
                        count(*) FILTER (WHERE first_checkout IS NOT NULL
                            AND NOT coalesce(last_purchase >= first_checkout, false))
                            AS checkouts_lost,
                        sum(greatest(cart_value, 0)) FILTER (WHERE lost) AS at_risk FROM carts)
        SELECT carts, carts - abandoned, abandoned, abandoned / carts, checkouts, checkouts_lost,
               checkouts_lost / checkouts, at_risk, recovered, recovered / abandoned, revenue,
               pending
        FROM lost, back
    """


def stages_sql(path: Path) -> str:
    facts = sessions_cte("n", "consideration", "decision", "last_advocacy")
    stage = (
        "CASE WHEN coalesce(last_advocacy >= first_order_t, false) THEN 5 "
        "WHEN coalesce(repeat_order, false) THEN 4 WHEN coalesce(first_order, false) THEN 3 "
        "WHEN decision THEN 2 WHEN consideration THEN 1 ELSE 0 END"
    )
    return f"""
        WITH {events_cte(path, rows=True)}, {facts},
        orders AS (SELECT u, s, t, row_number() OVER (PARTITION BY u ORDER BY t, r) AS number
                   FROM (SELECT u, min(t) AS t, arg_min(s, t) AS s, arg_min(r, t) AS r FROM e
                         WHERE ev = 'purchase' GROUP BY u, {ORDER_KEY})),
        placed AS (SELECT u, s, bool_or(number = 1) AS first_order,
                          bool_or(number >= 2) AS repeat_order FROM orders GROUP BY u, s),
        firsts AS (SELECT u, t AS first_order_t FROM orders WHERE number = 1),
        staged AS (SELECT {stage} AS stage, n FROM sess
                   LEFT JOIN placed ON sess.u = placed.u AND sess.s IS NOT DISTINCT FROM placed.s
                   LEFT JOIN firsts ON sess.u = firsts.u),
        counts AS (SELECT stage, count(*) AS sessions,
                          count(*) FILTER (WHERE n = 1) AS bounces FROM staged GROUP BY stage),
        ladder AS (SELECT range AS stage FROM range({len(STAGES)}))
        SELECT ({list(STAGES)})[stage + 1], coalesce(sessions, 0),
               coalesce(sessions, 0) / (SELECT sum(sessions) FROM counts), coalesce(bounces, 0)
        FROM ladder LEFT JOIN counts USING (stage) ORDER BY stage
    """


def retention_sql(path: Path) -> str:
    """Weekly first-purchase cohorts returning with a purchase in week k (``TimeZone`` UTC)."""
    week = "date_trunc('week', event_time)::DATE"
    observed = "CASE WHEN start <= last_week THEN"
    return f"""
        WITH active AS (SELECT DISTINCT user_id AS u, {week} AS w FROM read_parquet('{path}')
                        WHERE event_type = 'purchase'),
        cohorts AS (SELECT u, min(w) AS cohort FROM active GROUP BY u),
        sizes AS (SELECT cohort, count(*) AS size FROM cohorts GROUP BY cohort),
        cells AS (SELECT cohort, (w - cohort) // 7 AS k, count(*) AS retained
                  FROM active JOIN cohorts USING (u)
                  WHERE w > cohort AND w <= cohort + {7 * PERIODS} GROUP BY ALL),
        last AS (SELECT date_trunc('week', max(event_time))::DATE AS last_week
                 FROM read_parquet('{path}')),
        grid AS (SELECT cohort, k, size, cohort + (7 * k)::INTEGER AS start, last_week
                 FROM sizes, range({PERIODS + 1}) AS periods(k), last),
        cell AS (SELECT cohort, k, size,
                        {observed} (CASE WHEN k = 0 THEN size ELSE coalesce(retained, 0) END)
                        END AS retained, {observed} start = last_week END AS partial
                 FROM grid LEFT JOIN cells USING (cohort, k)),
        average AS (SELECT 'average' AS cohort, k,
                           coalesce(sum(size) FILTER (WHERE retained IS NOT NULL), 0) AS size,
                           sum(retained) AS retained, bool_or(partial) AS partial, 1 AS is_average
                    FROM cell GROUP BY k),
        rows AS (SELECT strftime(cohort, '%Y-%m-%d') AS cohort, k, size, retained, partial,
                        0 AS is_average FROM cell
                 UNION ALL SELECT * FROM average)
        SELECT cohort, k, size, retained, CASE WHEN size > 0 THEN retained / size END, partial
        FROM rows ORDER BY is_average, cohort, k
    """


def summary_polars(path: Path) -> Rows:
    """The ``summary_sql`` row as a plain lazy Polars query on the Parquet file."""
    ev, t = pl.col("event_type"), pl.col("event_time")
    events = pl.scan_parquet(path)
    line = pl.col("price").fill_null(0) * pl.col("quantity").fill_null(1)
    sessions = events.group_by("user_id", "session_id").agg(
        n=pl.len(),
        first_cart=pl.when(ev == "add_to_cart").then(t).min(),
        last_purchase=pl.when(ev == "purchase").then(t).max(),
    )
    lost = pl.col("first_cart").is_not_null() & ~(
        pl.col("last_purchase") >= pl.col("first_cart")
    ).fill_null(False)
    totals = sessions.select(
        sessions=pl.len(),
        bounces=(pl.col("n") == 1).sum(),
        with_purchase=pl.col("last_purchase").count(),
        carts=pl.col("first_cart").count(),
        abandoned=lost.sum(),
        users=pl.col("user_id").n_unique(),
    )
    whole = events.select(
        events=pl.len(),
        revenue=pl.when(ev == "purchase").then(line).sum(),
        first=t.min().dt.epoch("us"),
        last=t.max().dt.epoch("us"),
    )
    key = pl.coalesce(
        pl.lit("o:") + pl.col("order_id"), pl.lit("s:") + pl.col("session_id").fill_null("")
    )
    per_user = events.filter(ev == "purchase").group_by("user_id").agg(k=key.n_unique())
    buyers = per_user.select(
        orders=pl.col("k").sum(), customers=pl.len(), repeaters=(pl.col("k") >= 2).sum()
    )
    frames = pl.collect_all([totals, whole, buyers], engine="streaming")
    f = {name: value for frame in frames for name, value in frame.row(0, named=True).items()}
    return [
        (
            f["events"],
            f["users"],
            f["sessions"],
            f["bounces"] / f["sessions"],
            f["with_purchase"],
            f["with_purchase"] / f["sessions"],
            f["abandoned"] / f["carts"],
            f["orders"],
            f["revenue"],
            f["revenue"] / f["orders"],
            f["customers"],
            f["repeaters"],
            f["repeaters"] / f["customers"],
            f["first"],
            f["last"],
        )
    ]


def retention_polars(path: Path) -> Rows:
    """The ``retention_sql`` table as a plain lazy Polars query on the Parquet file."""
    events = pl.scan_parquet(path)
    active = (
        events.filter(pl.col("event_type") == "purchase")
        .select("user_id", pl.col("event_time").dt.truncate("1w").dt.date().alias("week"))
        .unique()
    )
    cohorts = active.group_by("user_id").agg(pl.col("week").min().alias("cohort"))
    k = ((pl.col("week") - pl.col("cohort")).dt.total_days() // 7).alias("k")
    counts = (
        active.join(cohorts, on="user_id")
        .group_by("cohort", k)
        .agg(pl.len().alias("retained"))
        .filter(pl.col("k").is_between(0, PERIODS))
    )
    last = events.select(pl.col("event_time").max().dt.truncate("1w").dt.date())
    counts, last = pl.collect_all([counts, last], engine="streaming")
    return retention_rows(counts, last.item())


def retention_rows(counts: pl.DataFrame, last_week: object) -> Rows:
    """Cohort sizes and returning users per (cohort, k) → the long table with the average."""
    size, retained = pl.col("size"), pl.col("retained")
    start = pl.col("cohort") + pl.duration(weeks=pl.col("k"))
    observed = pl.when(start <= pl.lit(last_week))
    grid = (
        counts.filter(pl.col("k") == 0)
        .select("cohort", pl.col("retained").alias("size"))
        .join(pl.DataFrame({"k": range(PERIODS + 1)}), how="cross")
        .join(counts.filter(pl.col("k") >= 1), on=["cohort", "k"], how="left")
        .with_columns(
            observed.then(
                pl.when(pl.col("k") == 0).then(size).otherwise(retained.fill_null(0))
            ).alias("retained"),
            observed.then(start == pl.lit(last_week)).alias("partial"),
        )
        .sort("cohort", "k")
    )
    seen = retained.is_not_null()
    average = (
        grid.group_by("k")
        .agg(
            size.filter(seen).sum(),
            pl.when(seen.any()).then(retained.filter(seen).sum()),
            pl.when(seen.any()).then(pl.col("partial").filter(seen).any()),
        )
        .sort("k")
        .with_columns(pl.lit("average").alias("cohort"))
    )
    table = pl.concat(
        [grid.with_columns(pl.col("cohort").cast(pl.String)), average], how="diagonal"
    )
    rate = pl.when(size > 0).then(retained / size).alias("rate")
    return table.select("cohort", "k", "size", "retained", rate, "partial").rows()


def same_value(ours: object, theirs: object, decimals: int | None) -> bool:
    """Equal, or (``decimals``) within the rounding of a figure printed with that many."""
    if ours is None or theirs is None or decimals is None:
        return ours == theirs
    assert isinstance(ours, int | float) and isinstance(theirs, int | float)
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=0.5 * 10.0**-decimals + 1e-6)


def same_rows(ours: pl.DataFrame, theirs: Rows, columns: Columns) -> bool:
    """journeykit's ``columns`` row by row against the other engine's rows."""
    rows = ours.select(name for name, _ in columns).rows()
    return len(rows) == len(theirs) and all(
        len(other) == len(columns)
        and all(same_value(a, b, d) for a, b, (_, d) in zip(mine, other, columns, strict=True))
        for mine, other in zip(rows, theirs, strict=True)
    )


def same_summary(ours: pl.DataFrame, theirs: Rows) -> bool:
    """Timestamps as epoch microseconds, the rest like ``same_rows``."""
    epochs = [
        pl.col(name).str.to_datetime(time_zone="UTC").dt.epoch("us")
        for name in ("first_event", "last_event")
    ]
    return same_rows(ours.with_columns(epochs), theirs, SUMMARY)


SUMMARY: Columns = [
    *[("events", None), ("users", None), ("sessions", None), ("bounce_rate", RATE)],
    *[("sessions_with_purchase", None), ("session_conversion_rate", RATE)],
    *[("cart_abandonment_rate", RATE), ("orders", None), ("revenue", MONEY)],
    *[("average_order_value", MONEY), ("customers", None), ("repeat_customers", None)],
    *[("repeat_purchase_rate", RATE), ("first_event", None), ("last_event", None)],
]
ABANDONMENT: Columns = [
    *[("cart_sessions", None), ("converted", None), ("abandoned", None)],
    *[("abandonment_rate", RATE), ("checkout_sessions", None), ("checkout_abandoned", None)],
    *[("checkout_abandonment_rate", RATE), ("value_at_risk", MONEY), ("recovered", None)],
    *[("recovery_rate", RATE), ("recovered_revenue", MONEY), ("recovery_pending", None)],
]
STAGE_ROWS: Columns = [("stage", None), ("sessions", None), ("share", RATE), ("bounces", None)]
RETENTION: Columns = [
    *[("cohort", None), ("period", None), ("cohort_size", None), ("retained", None)],
    *[("rate", RATE), ("partial", None)],
]
CASES = {
    "funnel": Case(
        journeykit=["funnel", "--steps", ",".join(STEPS), "--window", "1d"],
        duckdb_sql=funnel_sql,
        same=lambda ours, theirs: ours["units"].to_list() == list(theirs[0]),
    ),
    "summary": Case(["summary"], summary_sql, same_summary, polars=summary_polars),
    "abandonment": Case(["abandonment"], abandonment_sql, partial(same_rows, columns=ABANDONMENT)),
    "stages": Case(
        ["stages", "--by", "session"], stages_sql, partial(same_rows, columns=STAGE_ROWS)
    ),
    "retention": Case(
        ["retention", "--period", "week"],
        retention_sql,
        partial(same_rows, columns=RETENTION),
        polars=retention_polars,
    ),
}


@dataclass(frozen=True)
class Run:
    seconds: float
    mib: float
    output: bytes


def measure(command: list[str]) -> Run:
    """Wall seconds, peak RSS in MiB and stdout of one child process."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE) as child:
        output = child.stdout.read() if child.stdout else b""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"failed ({child.returncode}): {' '.join(command)}")
    return Run(time.perf_counter() - started, usage.ru_maxrss / 1024, output)


def sample_file(events: int) -> Path:
    from journeykit.sample import SampleParams, users_for_events, write_sample

    path = OUT / f"events_{events // 1_000_000}M.parquet"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        users = users_for_events(events, SampleParams())
        started = time.perf_counter()
        rows = write_sample(SampleParams(users=users, days=28, seed=1), path)
        print(
            f"generated {rows:,} events ({users:,} users) in {time.perf_counter() - started:.0f}s"
        )
    return path


def commands(case: Case, path: Path) -> dict[str, list[str]]:
    """The child process of each engine; every one but journeykit prints JSON rows."""
    ours = [sys.executable, "-m", "journeykit", case.journeykit[0], str(path)]
    duckdb = (
        "import duckdb, json; con = duckdb.connect(); "
        "con.execute('SET enable_progress_bar=false'); con.execute(\"SET TimeZone='UTC'\"); "
        f"print(json.dumps(con.sql({case.duckdb_sql(path)!r}).fetchall(), default=str))"
    )
    engines = {
        "journeykit": [*ours, *case.journeykit[1:], "--format", "csv", "--quiet"],
        "duckdb": [sys.executable, "-c", duckdb],
    }
    if case.polars is not None:
        engines["polars"] = [
            sys.executable,
            "-c",
            f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench; rows = bench.{case.polars.__name__}(bench.Path({str(path)!r})); "
            "print(json.dumps(rows, default=str))",
        ]
    return engines


def best_runs(engines: dict[str, list[str]], repeat: int) -> dict[str, Run]:
    """The fastest of ``repeat`` runs per engine, the engines taking turns."""
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for engine, command in engines.items():
            run = measure(command)
            if engine not in best or run.seconds < best[engine].seconds:
                best[engine] = run
    return best


def run_case(name: str, case: Case, path: Path, repeat: int) -> None:
    runs = best_runs(commands(case, path), repeat)
    load = os.getloadavg()[0]
    ours = pl.read_csv(io.BytesIO(runs["journeykit"].output))
    for engine, run in runs.items():
        theirs = [tuple(row) for row in json.loads(run.output)] if engine != "journeykit" else []
        if engine != "journeykit" and not case.same(ours, theirs):
            raise SystemExit(f"{name}: different numbers!\njourneykit:\n{ours}\n{engine}: {theirs}")
    figures = " | ".join(f"{e} {r.seconds:7.2f}s {r.mib:7.0f} MiB" for e, r in runs.items())
    fastest = min(r.seconds for e, r in runs.items() if e != "journeykit")
    print(
        f"{name:12} {path.name:22} {figures} | ratio {runs['journeykit'].seconds / fastest:.2f}x"
        f" | same numbers | best of {repeat}, load {load:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", nargs="+", default=["10M"])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine (best is kept)")
    args = parser.parse_args()
    for size in args.events:
        path = sample_file(int(float(size.rstrip("Mm")) * 1_000_000))
        for name in args.case or sorted(CASES):
            run_case(name, CASES[name], path, args.repeat)


if __name__ == "__main__":
    main()
