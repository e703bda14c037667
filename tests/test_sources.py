"""Events where they live (SPEC §17): object storage, databases, from the command line.

Every source must give the same bytes as the sample's Parquet file for the same events; the
servers are real (``tests.servers``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.servers import PASSWORD, SAMPLE, free_port, hive_days, postgres, s3

__all__ = ["postgres", "s3"]  # the fixtures


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args],
        capture_output=True,
        text=True,
        env={**clean, "NO_COLOR": "1", **(env or {})},
        check=False,
    )


def output(*args: str, env: dict[str, str] | None = None) -> str:
    result = run(*args, "--format", "csv", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def error_of(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journeykit: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


COMMANDS = [("funnel",), ("stages",), ("summary",), ("abandonment",)]


@pytest.fixture(scope="module")
def on_parquet() -> dict[tuple[str, ...], str]:
    return {command: output(*command, str(SAMPLE)) for command in COMMANDS}


# --- object storage --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["s3://shop/events.parquet", "s3://shop/export/events.csv"])
def test_s3_objects_give_the_parquet_files_bytes(s3, on_parquet, key):
    for command in COMMANDS:
        assert output(*command, key, env=s3.env) == on_parquet[command], (command, key)


def test_s3_glob_over_hive_partitioned_keys(s3, tmp_path):
    local = tmp_path / "hive"
    for key, part in hive_days(pl.read_parquet(SAMPLE)).items():
        (local / key).mkdir(parents=True)
        part.write_parquet(local / key / "part.parquet")
    remote = output("summary", "s3://shop/hive/**/*.parquet", env=s3.env)
    assert remote == output("summary", str(local))
    assert remote.splitlines()[1].startswith("852,95,146,")  # three days of the sample


def test_s3_missing_key_is_one_line(s3):
    line = error_of(run("funnel", "s3://shop/nope.parquet", env=s3.env), 1)
    assert "s3://shop/nope.parquet" in line and "not found" in line


def test_s3_wrong_credentials_never_show_the_secret(s3):
    result = run("funnel", "s3://shop/events.parquet", env=s3.with_secret("not-the-Secret-42"))
    line = error_of(result, 1)
    assert "s3://shop/events.parquet" in line and "403" in line
    assert "not-the-Secret-42" not in result.stderr + result.stdout
    assert s3.env["AWS_SECRET_ACCESS_KEY"] not in result.stderr


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_table_gives_the_parquet_files_bytes(postgres, on_parquet):
    for command in COMMANDS:
        got = output(*command, postgres.uri(), "--table", "events")
        assert got == on_parquet[command], command


def test_postgres_report_has_the_same_bytes(postgres, tmp_path):
    for name, source in (("parquet", [str(SAMPLE)]), ("pg", [postgres.uri(), "--table", "events"])):
        result = run("report", *source, "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(tmp_path / "parquet") for p in (tmp_path / "parquet").rglob("*"))
    assert any(p.name == "report.html" for p in written)
    # The report names its source (the database without its password); summary.json also
    # records how it was invoked.
    label = f"{postgres.uri(password='***')} (table events)"
    for path in written:
        if not (tmp_path / "parquet" / path).is_file():
            continue
        expected = (tmp_path / "parquet" / path).read_bytes()
        got = (tmp_path / "pg" / path).read_bytes()
        assert PASSWORD.encode() not in got, path
        if path.name == "summary.json":
            expected_json, got_json = json.loads(expected), json.loads(got)
            inputs = got_json.pop("inputs")
            assert inputs["paths"] == [postgres.uri(password="***")]
            assert inputs["options"] == {"table": "events"} and inputs["label"] == label
            expected_json.pop("inputs")
            assert got_json == expected_json
        else:
            assert got == expected.replace(str(SAMPLE).encode(), label.encode()), path


def test_postgres_query_runs_in_the_database(postgres, tmp_path):
    query = "SELECT * FROM events WHERE channel = 'email' ORDER BY user_id, event_time"
    local = tmp_path / "email.parquet"
    pl.read_parquet(SAMPLE).filter(pl.col("channel") == "email").sort(
        "user_id", "event_time", maintain_order=True
    ).write_parquet(local)
    assert output("funnel", postgres.uri(), "--query", query) == output("funnel", str(local))


def test_postgres_refused_connection_names_host_and_cause(postgres):
    closed = free_port()
    result = run("funnel", postgres.uri(port=closed), "--table", "events")
    line = error_of(result, 1)
    assert f"127.0.0.1:{closed}" in line and "refused" in line.lower()
    assert PASSWORD not in result.stderr


def test_postgres_bad_password_is_exit_1_without_it(postgres):
    result = run("funnel", postgres.uri(password="Wrong-pass-7"), "--table", "events")
    line = error_of(result, 1)
    assert "password authentication failed" in line and "127.0.0.1" in line
    assert "Wrong-pass-7" not in result.stderr and PASSWORD not in result.stderr


def test_postgres_missing_table_is_one_line(postgres):
    line = error_of(run("funnel", postgres.uri(), "--table", "nothing_here"), 1)
    assert "table nothing_here" in line and "nothing_here" in line.split("(", 1)[1]


# --- SQLite and DuckDB files -----------------------------------------------------------------


@pytest.fixture(scope="module")
def database_files(tmp_path_factory) -> dict[str, Path]:
    import adbc_driver_sqlite.dbapi as sqlite

    folder = tmp_path_factory.mktemp("databases")
    frame = pl.read_parquet(SAMPLE)
    with sqlite.connect(str(folder / "shop.db")) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest("events", frame.to_arrow(), mode="create")
        connection.commit()
    with duckdb.connect(str(folder / "shop.duckdb")) as connection:
        connection.register("frame", frame.to_arrow())
        connection.execute("CREATE TABLE events AS SELECT * FROM frame")
    return {"sqlite": folder / "shop.db", "duckdb": folder / "shop.duckdb"}


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_database_files_give_the_parquet_files_bytes(database_files, on_parquet, kind):
    before = database_files[kind].read_bytes()
    uri = f"{kind}:///{database_files[kind]}"
    for command in COMMANDS:
        assert output(*command, uri, "--table", "events") == on_parquet[command], command
    assert database_files[kind].read_bytes() == before  # read only


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_database_file_errors(database_files, tmp_path, kind):
    missing = error_of(run("funnel", f"{kind}:///{tmp_path}/none.db", "--table", "events"), 1)
    assert "no such file" in missing and not (tmp_path / "none.db").exists()
    uri = f"{kind}:///{database_files[kind]}"
    bad = error_of(run("funnel", uri, "--query", "SELECT * FROM nowhere"), 1)
    assert "cannot read the query" in bad and "nowhere" in bad


def test_database_usage_errors(database_files, tmp_path):
    uri = f"sqlite:///{database_files['sqlite']}"
    assert "--table NAME or --query SQL" in error_of(run("funnel", uri), 2)
    both = run("funnel", uri, "--table", "events", "--query", "SELECT 1")
    assert "one of them" in error_of(both, 2)
    assert "a database" in error_of(run("funnel", str(SAMPLE), "--table", "events"), 2)
    mysql = error_of(run("funnel", "mysql://me:pw123@127.0.0.1/shop", "--table", "e"), 2)
    assert "MySQL" in mysql and "pw123" not in mysql and "me:***@127.0.0.1" in mysql


def test_passwords_in_parameters_and_bad_ports():
    closed = free_port()
    uri = f"postgresql://journeykit@127.0.0.1:{closed}/postgres?password=Param-Secret-3"
    result = run("funnel", uri, "--table", "events")
    assert "password=***" in error_of(result, 1) and "Param-Secret-3" not in result.stderr
    line = error_of(run("funnel", "postgresql://me:Pw-5@127.0.0.1:abc/db", "--table", "e"), 2)
    assert "port" in line and "Pw-5" not in line


def test_presigned_url_query_strings_are_never_shown(s3):
    uri = "s3://shop/nope.parquet?X-Amz-Signature=Sig-Secret-8"
    result = run("inspect", uri, env=s3.env)
    line = error_of(result, 1)
    assert "s3://shop/nope.parquet?…" in line and "Sig-Secret-8" not in result.stderr
