"""Real servers for the source tests, started here and stopped at the end (nothing left behind).

* ``postgres``: a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``) in a temporary folder on
  a free port of 127.0.0.1, run as an unprivileged user when the tests run as root, with the
  sample loaded into table ``events``; password authentication (scram-sha-256).
* ``s3``: an S3-compatible server (``moto`` in server mode) on a free port of 127.0.0.1 that
  checks request signatures, with bucket ``shop`` holding the sample as Parquet, as CSV, and as
  hive-partitioned Parquet keys ``hive/day=…/part.parquet``.
"""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "events.parquet"
PASSWORD = "s3cret-Pw-9"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    port: int

    def uri(self, password: str = PASSWORD, port: int | None = None) -> str:
        return f"postgresql://journeykit:{password}@127.0.0.1:{port or self.port}/postgres"


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    initdb = found[0] if found else shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)"
        )
    return Path(initdb).parent


def _server_user() -> str | None:
    """Who runs the server: PostgreSQL refuses root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(
        "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL"
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        load_table(server.uri(), "events", pl.read_parquet(SAMPLE))
        yield server


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A PostgreSQL server of its own, stopped and removed at the end."""
    bin_dir, user = _postgres_bin(), _server_user()
    folder = Path(tempfile.mkdtemp(prefix="journeykit-pg-"))
    (folder / "password").write_text(PASSWORD)
    if user is not None:
        account = pwd.getpwnam(user)
        for path in (folder, folder / "password"):
            os.chown(path, account.pw_uid, account.pw_gid)
    data, port = folder / "data", free_port()

    def as_server(*command: str) -> None:
        subprocess.run(command, check=True, capture_output=True, user=user, cwd=folder)

    as_server(
        str(bin_dir / "initdb"), "-D", str(data), "-U", "journeykit", "-A", "scram-sha-256",
        f"--pwfile={folder / 'password'}", "-E", "UTF8", "--locale=C", "--no-sync",
    )  # fmt: skip
    options = f"-p {port} -h 127.0.0.1 -k {folder} -F"
    pg_ctl = str(bin_dir / "pg_ctl")
    as_server(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start")
    try:
        yield Postgres(port)
    finally:
        as_server(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def load_table(uri: str, table: str, frame: pl.DataFrame) -> None:
    import adbc_driver_postgresql.dbapi as postgresql

    with postgresql.connect(uri) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest(table, frame.to_arrow(), mode="create")
        connection.commit()


@dataclass(frozen=True)
class S3:
    env: dict[str, str]
    """What a user sets to reach the server (endpoint, region, keys)."""

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def with_secret(self, secret: str) -> dict[str, str]:
        return {**self.env, "AWS_SECRET_ACCESS_KEY": secret}


def hive_days(frame: pl.DataFrame, days: int = 3) -> dict[str, pl.DataFrame]:
    """The first ``days`` days of ``frame`` by key ``day=YYYY-MM-DD``."""
    day = pl.col("event_time").dt.date()
    dates = frame.select(day.unique().sort().head(days)).to_series().to_list()
    return {f"day={d}": frame.filter(day == d) for d in dates}


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    with s3_server() as server:
        client = server.client()
        client.create_bucket(Bucket="shop")
        _fill_bucket(client, tmp_path_factory.mktemp("s3"))
        yield server


@contextmanager
def s3_server() -> Iterator[S3]:
    """An S3 server of its own that checks signatures, with one user allowed everything."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # The first three requests (the IAM user, its key and its policy) need no signature.
    server_env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(endpoint, server)
        anyone = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        anyone |= {"aws_access_key_id": "none", "aws_secret_access_key": "none"}
        iam = boto3.client("iam", **anyone)
        iam.create_user(UserName="analyst")
        key = iam.create_access_key(UserName="analyst")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
        policy["Statement"][0]["Resource"] = "*"
        iam.put_user_policy(UserName="analyst", PolicyName="all", PolicyDocument=json.dumps(policy))
        yield S3(
            {
                "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true",
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            }
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(endpoint: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the S3 server (moto) stopped at start")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the S3 server (moto) did not start within 30 s")


def _fill_bucket(client: Any, folder: Path) -> None:
    frame = pl.read_parquet(SAMPLE)
    frame.write_csv(folder / "events.csv")
    client.upload_file(str(SAMPLE), "shop", "events.parquet")
    client.upload_file(str(folder / "events.csv"), "shop", "export/events.csv")
    for key, part in hive_days(frame).items():
        part.write_parquet(folder / "part.parquet")
        client.upload_file(str(folder / "part.parquet"), "shop", f"hive/{key}/part.parquet")
