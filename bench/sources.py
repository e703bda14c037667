#!/usr/bin/env python3
"""Reading events where they live (SPEC §17): S3 and PostgreSQL against DuckDB's own readers.

    python bench/sources.py --duckdb-python /path/to/venv/bin/python [--rows 5M] [--pairs 3]

For each shape (``sample``, ``peers``: the first ``--rows`` rows of ``bench/out``'s 10M files,
written by ``bench/bench.py``), a local S3 server (moto) gets the rows as one Parquet object and
a throwaway PostgreSQL cluster as a table (``tests/servers.py`` starts and stops both). Then,
whole processes alternated ``--pairs`` times:

* ``journeykit read``: journeykit's reader (``open_sources``) of the URI, every column into
  memory: Polars' S3 reader, or the PostgreSQL ADBC driver (binary COPY);
* ``duckdb read``: DuckDB reading the same rows into Arrow (``read_parquet`` through httpfs;
  ``ATTACH … (TYPE postgres)``); DuckDB's extensions come from PyPI for DuckDB 1.4.4, so it runs
  in its own environment: ``pip install duckdb==1.4.4 duckdb-ext-httpfs duckdb-ext-postgres
  pyarrow`` and pass its python;
* ``journeykit summary``: the whole command on the URI, against the same command on the local
  Parquet file (what the transfer adds to a real command).

Row counts are checked equal first. Prints wall time, cores, peak RSS, rows/s and the ratio of
journeykit's reader to DuckDB's.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import Run, measure, parse_count, shape_file
from tests.servers import PASSWORD, S3, Postgres, postgres_server, s3_server

SETUP = """
import sys
import polars as pl
from tests.servers import load_table
source, rows, local, uri, table = sys.argv[1:6]
frame = pl.read_parquet(source, n_rows=int(rows))
frame.write_parquet(local)
load_table(uri, table, frame)
print(frame.height)
"""
"""Writes the rows to a local file and loads them into PostgreSQL, in a process of its own (a
child forked from a parent holding the rows would count them in its peak RSS)."""
JOURNEYKIT_READ = """
import sys
from journeykit.load.sources import Reading, open_sources
reading = Reading(table=sys.argv[2] if len(sys.argv) > 2 else None)
print(open_sources([sys.argv[1]], reading).frame.collect().height)
"""
DUCKDB_READ = """
import sys, duckdb
from pathlib import Path
import duckdb_ext
folder = Path(duckdb_ext.__path__[0]) / "extensions"
con = duckdb.connect(config={"extension_directory": str(folder)})
con.execute("SET enable_progress_bar = false")
kind, target, table = sys.argv[1:4]
if kind == "s3":
    con.execute("LOAD httpfs")
    endpoint, key, secret = target.split("|")
    con.execute(f"CREATE SECRET (TYPE S3, KEY_ID '{key}', SECRET '{secret}', ENDPOINT '{endpoint}',"
                " URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')")
    query = f"SELECT * FROM read_parquet('{table}')"
else:
    con.execute("LOAD postgres")
    con.execute(f"ATTACH '{target}' AS pg (TYPE postgres, READ_ONLY)")
    query = f"SELECT * FROM pg.public.{table}"
print(con.sql(query).to_arrow_table().num_rows)
"""


def timed(label: str, command: list[str], env: dict[str, str], pairs: int) -> list[Run]:
    """``pairs`` runs of ``command``; prints the medians (and rows/s for a reader)."""
    runs = [measure(command, env) for _ in range(pairs)]
    wall = statistics.median(r.wall for r in runs)
    cores = statistics.median(r.cpu / r.wall for r in runs)
    rss = max(r.rss_gib for r in runs)
    rate = ""
    if "read" in label:
        rate = f"  {int(runs[0].stdout) / wall / 1e6:6.2f} M rows/s"
    print(f"  {label:34} {wall:7.2f} s  {cores:4.2f} cores  {rss:5.2f} GiB{rate}")
    return runs


def ratio(ours: list[Run], theirs: list[Run], what: str) -> None:
    ratios = [a.wall / b.wall for a, b in zip(ours, theirs, strict=True)]
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    print(f"  {what}: {statistics.median(ratios):.2f}x ({spread})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--duckdb-python", required=True, help="python with duckdb 1.4.4 + extensions")
    ap.add_argument("--rows", default="5M")
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, s3_server() as s3, postgres_server() as pg:
        s3.client().create_bucket(Bucket="bench")
        for shape in ("sample", "peers"):
            compare(shape, parse_count(args.rows), Path(tmp), s3, pg, args)


def compare(
    shape: str, rows: int, tmp: Path, s3: S3, pg: Postgres, args: argparse.Namespace
) -> None:
    """One shape: the readers, checked equal, then timed; the summary command on each source."""
    python, pairs = sys.executable, args.pairs
    local, table = tmp / f"{shape}.parquet", f"events_{shape}"
    source = str(shape_file(shape, 10_000_000))
    setup = [python, "-c", SETUP, source, str(rows), str(local), pg.uri(), table]
    height = int(measure(setup, {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}).stdout)
    s3.client().upload_file(str(local), "bench", f"{shape}.parquet")
    uri, env = f"s3://bench/{shape}.parquet", s3.env
    print(f"{shape}: {height:,} rows, {local.stat().st_size / 2**20:.0f} MiB of Parquet")
    keys = [env["AWS_ENDPOINT_URL"].removeprefix("http://"), env["AWS_ACCESS_KEY_ID"]]
    keys.append(env["AWS_SECRET_ACCESS_KEY"])
    dsn = f"host=127.0.0.1 port={pg.port} user=journeykit password={PASSWORD} dbname=postgres"
    readers = {
        "s3": (
            [python, "-c", JOURNEYKIT_READ, uri],
            [args.duckdb_python, "-c", DUCKDB_READ, "s3", "|".join(keys), uri],
        ),
        "pg": (
            [python, "-c", JOURNEYKIT_READ, pg.uri(), table],
            [args.duckdb_python, "-c", DUCKDB_READ, "pg", dsn, table],
        ),
    }
    for ours, theirs in readers.values():
        counted = {int(measure(ours, env).stdout), int(measure(theirs, env).stdout)}
        assert counted == {height}, counted
    for source, (ours, theirs) in readers.items():
        mine = timed(f"journeykit read ({source})", ours, env, pairs)
        peer = timed(f"duckdb read ({source})", theirs, env, pairs)
        ratio(mine, peer, f"journeykit's {source} reader to DuckDB's")
    summary = [str(Path(python).parent / "journeykit"), "summary", "--format", "csv"]
    on_file = timed("journeykit summary (local file)", [*summary, str(local)], env, pairs)
    on_s3 = timed("journeykit summary (s3)", [*summary, uri], env, pairs)
    on_pg = timed("journeykit summary (pg)", [*summary, pg.uri(), "--table", table], env, pairs)
    assert on_s3[0].stdout == on_file[0].stdout == on_pg[0].stdout
    ratio(on_s3, on_file, "summary on s3 to the local file")
    ratio(on_pg, on_file, "summary on pg to the local file")


if __name__ == "__main__":
    main()
