"""Events in a database (SPEC §17): ``postgresql://``, ``sqlite:///`` and ``duckdb:///`` URIs
with ``--table NAME`` or ``--query SQL``.

The query runs in the database and its result comes back as Arrow: PostgreSQL and SQLite
through their ADBC drivers (the Arrow project's own; PostgreSQL's copies rows out in binary),
DuckDB through its own client. Messages name the database without its password.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

import polars as pl

from journeykit import progress
from journeykit.errors import DataError, UsageError, first_line

_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
_SCHEMES |= {"duckdb": "duckdb", "mysql": "mysql", "mariadb": "mysql"}


@dataclass(frozen=True)
class Database:
    """A database URI as given, and what messages may show of it."""

    uri: str
    kind: str
    parts: SplitResult

    @property
    def shown(self) -> str:
        """The URI without its password (in the user part or a ``password=`` parameter)."""
        return self.scrubbed(self.uri)

    @property
    def secrets(self) -> list[str]:
        found = [self.parts.password] if self.parts.password else []
        found += [v for k, v in parse_qsl(self.parts.query) if k.lower() == "password" and v]
        return found

    def scrubbed(self, text: str) -> str:
        """``text`` with the password, if any, replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    @property
    def file(self) -> Path:
        """A file database's path: ``sqlite:///events.db`` is relative, ``sqlite:////x`` not."""
        return Path(self.uri.split(":///", 1)[1]) if ":///" in self.uri else Path(self.parts.path)


def database_of(path: str) -> Database | None:
    """The database a path names, or ``None`` for a file, glob or other URI."""
    scheme = path.split("://", 1)[0].lower() if "://" in path else ""
    kind = _SCHEMES.get(scheme)
    if kind is None:
        return None
    try:
        database = Database(path, kind, urlsplit(path))
    except ValueError:
        raise UsageError(f"{scheme}://…: not a valid database URI") from None
    try:
        database.parts.port  # noqa: B018 (urllib checks the port when it is asked for)
    except ValueError:
        raise UsageError(f"{database.shown}: the port is not a number from 1 to 65535") from None
    return database


def read_database(database: Database, table: str | None, query: str | None) -> pl.DataFrame:
    """The rows of ``table`` or of ``query``, read in the database."""
    if (table is None) == (query is None):
        raise UsageError(
            f"{database.shown}: name what to read with --table NAME or --query SQL (one of them)"
        )
    if database.kind == "mysql":
        raise UsageError(
            f"{database.shown}: MySQL is not read directly (no Arrow reader for it here); "
            "export the table to Parquet or CSV, or copy it into DuckDB or PostgreSQL"
        )
    sql = query if query is not None else f"SELECT * FROM {_quoted(table or '')}"
    progress.phase(f"querying {database.shown}")
    connection = _connect(database)
    try:
        if database.kind == "duckdb":
            data = connection.sql(sql).to_arrow_table()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                data = cursor.fetch_arrow_table()
    except Exception as exc:  # each driver has its own error classes
        what = f"table {table}" if table is not None else "the query"
        raise DataError(
            f"{database.shown}: cannot read {what} ({database.scrubbed(first_line(exc))})"
        ) from None
    finally:
        connection.close()
    return pl.from_arrow(data, rechunk=False)  # type: ignore[return-value]


def _connect(database: Database) -> Any:
    try:
        if database.kind == "postgresql":
            import adbc_driver_postgresql.dbapi as postgresql

            return postgresql.connect(database.uri)
        path = database.file
        if not path.is_file():
            raise DataError(f"{database.shown}: no such file {path}")
        if database.kind == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite

            return sqlite.connect(f"file:{path.resolve()}?mode=ro")
        import duckdb

        return duckdb.connect(str(path), read_only=True)
    except DataError:
        raise
    except Exception as exc:
        host = database.parts.hostname or "localhost"
        where = f"{host}:{database.parts.port or 5432}" if database.kind == "postgresql" else path
        raise DataError(
            f"{database.shown}: cannot connect to {where} ({database.scrubbed(first_line(exc))})"
        ) from None


def _quoted(table: str) -> str:
    """``schema.table`` as quoted SQL identifiers."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))
