"""Benchmark journeykit against DuckDB on generated logs of the ``journeykit sample`` shape.

    python bench/bench.py --events 10M 100M            # every case
    python bench/bench.py --events 10M --case funnel   # one case

Each measurement runs in a child process (wall time and that child's peak RSS from ``wait4``);
journeykit runs as a user would run it (``journeykit CMD FILE --format csv``) and DuckDB runs the
equivalent SQL on the same Parquet file. The figures are compared (same numbers) before the timing
is printed. Generated files are cached in ``bench/out/``. Needs ``pip install -e .[bench]``.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

OUT = Path(__file__).parent / "out"
STEPS = ("product_view", "add_to_cart", "checkout", "purchase")


@dataclass(frozen=True)
class Case:
    journeykit: list[str]
    duckdb_sql: Callable[[Path], str]
    same: Callable[[pl.DataFrame, list[tuple[object, ...]]], bool]


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


CASES = {
    "funnel": Case(
        journeykit=["funnel", "--steps", ",".join(STEPS), "--window", "1d"],
        duckdb_sql=funnel_sql,
        same=lambda ours, theirs: ours["units"].to_list() == list(theirs[0]),
    ),
}


def measure(command: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS in MiB and stdout of one child process."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE) as child:
        output = child.stdout.read() if child.stdout else b""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"failed ({child.returncode}): {' '.join(command)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


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


def run_case(name: str, case: Case, path: Path) -> None:
    ours_s, ours_mb, ours_out = measure(
        [
            sys.executable,
            "-m",
            "journeykit",
            case.journeykit[0],
            str(path),
            *case.journeykit[1:],
            "--format",
            "csv",
            "--quiet",
        ]
    )
    script = (
        "import duckdb, json; con = duckdb.connect(); "
        "con.execute('SET enable_progress_bar=false'); "
        f"print(json.dumps(con.sql({case.duckdb_sql(path)!r}).fetchall(), default=str))"
    )
    theirs_s, theirs_mb, theirs_out = measure([sys.executable, "-c", script])
    ours = pl.read_csv(io.BytesIO(ours_out))
    theirs = [tuple(row) for row in json.loads(theirs_out)]
    if not case.same(ours, theirs):
        raise SystemExit(f"{name}: different numbers!\njourneykit:\n{ours}\nduckdb: {theirs}")
    print(
        f"{name:12} {path.name:22} journeykit {ours_s:7.2f}s {ours_mb:7.0f} MiB | "
        f"duckdb {theirs_s:7.2f}s {theirs_mb:7.0f} MiB | "
        f"ratio {ours_s / theirs_s:.2f}x | same numbers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", nargs="+", default=["10M"])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    for size in args.events:
        path = sample_file(int(float(size.rstrip("Mm")) * 1_000_000))
        for name in args.case or sorted(CASES):
            run_case(name, CASES[name], path)


if __name__ == "__main__":
    main()
