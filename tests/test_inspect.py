"""``journeykit inspect`` (SPEC §18): what was understood, on small hand-made files."""

import io

import polars as pl
from tests.test_sources import output


def rows_of(*args: str) -> dict[tuple[str, str], str]:
    table = pl.read_csv(io.StringIO(output("inspect", *args)))
    assert table.columns == ["section", "key", "value"]
    return {(s, k): v for s, k, v in table.iter_rows()}


def test_everything_understood_of_a_semicolon_export(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "visitor_id;when;action;unit_price;channel\n"
        "1;2026-03-02 12:00:00;pageview;;ads\n"
        "1;2026-03-02 12:01:00;cart;2.5;ads\n"
        "1;2026-03-02 12:02:00;add_to_cart;2.5;ads\n"
        "2;2026-03-02 12:03:00;wishlist;;mail\n"
        ";2026-03-02 12:04:00;pageview;;mail\n"
        "3;yesterday;pageview;;mail\n"
        "3;2026-03-02 12:05:00;;;mail\n"
        "3;2026-03-02 12:06:00;zzz_sold;oops;mail\n"
    )
    config = tmp_path / "journeykit.toml"
    config.write_text('[columns]\nevent = "action"\n[events]\npurchase = ["zzz_sold"]\n')
    found = rows_of(str(path), "--time-col", "when", "--config", str(config))
    assert found[("source", "format")] == "csv"
    assert found[("source", "delimiter")] == "';' (detected from the header)"
    assert found[("rows", "read")] == "8" and found[("rows", "kept")] == "5"
    assert found[("rows", "dropped: null visitor_id")] == "1"
    assert found[("rows", "dropped: unparsable when")] == "1"
    assert found[("rows", "dropped: null action")] == "1"
    assert found[("columns", "user")] == "visitor_id (detected)"
    assert found[("columns", "time")] == "when (flag)"
    assert found[("columns", "event")] == "action (config)"
    assert found[("columns", "price")] == "unit_price (detected)"
    assert found[("columns", "session")] == "none found"
    assert found[("time", "read as")] == "ISO-8601 text (zone-less values read in UTC)"
    assert found[("time", "first")] == "2026-03-02T12:00:00Z"
    assert found[("time", "last")] == "2026-03-02T12:06:00Z"
    assert found[("events", "pageview")] == "1 row, alias of page_view"
    assert found[("events", "cart")] == "1 row, kept as it is: 'add_to_cart' also occurs"
    assert found[("events", "add_to_cart")] == "1 row, canonical"
    assert found[("events", "wishlist")] == "1 row, unknown name, kept (counts as activity)"
    assert found[("events", "zzz_sold")] == "1 row, config of purchase"
    assert found[("sessions", "from")] == "a new one after 30m without events (--session-gap)"
    assert found[("money", "from")] == "unit_price × 1 of each row"
    assert found[("dimensions", "channel")] == "2 distinct values"
    warnings = [v for (s, _), v in found.items() if s == "warnings"]
    assert warnings == [
        "'cart' kept as 'cart': 'add_to_cart' also occurs in the data",
        "dropped 3 of 8 rows: 1 null visitor_id, 1 unparsable when, 1 null action",
        "1 non-numeric unit_price value read as missing",
    ]


def test_epochs_rows_are_and_a_database(tmp_path):
    frame = pl.DataFrame({"customer_id": [1, 2], "order_date": [1_700_000_000_000] * 2})
    frame = frame.with_columns(amount=pl.lit(3.0), basket_id=pl.lit("b"))
    frame.write_parquet(tmp_path / "orders.parquet")
    found = rows_of(str(tmp_path / "orders.parquet"), "--rows-are", "purchase")
    assert found[("columns", "event")] == "none: every row is 'purchase' (--rows-are)"
    assert found[("time", "read as")] == (
        "integer epochs in milliseconds (decided from the largest value)"
    )
    assert found[("orders", "from")].startswith("the order column basket_id")
    assert found[("money", "from")] == "the revenue column amount"
    assert found[("dimensions", "none")] == "no other columns"
    import duckdb

    with duckdb.connect(str(tmp_path / "shop.duckdb")) as connection:
        connection.register("frame", frame.to_arrow())
        connection.execute("CREATE TABLE orders AS SELECT * FROM frame")
    uri = f"duckdb:///{tmp_path}/shop.duckdb"
    found = rows_of(uri, "--table", "orders", "--rows-are", "purchase")
    assert found[("source", "input")] == f"{uri} (table orders)"
    assert found[("source", "format")] == "duckdb database, table orders"


def test_the_command_prints_the_library_result():
    from datetime import timedelta

    from tests.servers import SAMPLE

    from journeykit.inspection import InspectSpec, inspection
    from journeykit.load.events import load_events

    origins = {role: "detected" for role in ("user", "time", "event", "session")}
    spec = InspectSpec(origins=origins, session_gap=timedelta(minutes=30), tz="UTC", aliases={})
    expected = inspection(load_events([str(SAMPLE)]), spec)
    printed = pl.read_csv(io.StringIO(output("inspect", str(SAMPLE))))
    assert printed.equals(expected)
    assert expected.filter(pl.col("section") == "rows")["value"].to_list() == ["59,197", "59,197"]


def test_dedupe_counts_the_duplicates_it_drops(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text(
        "user_id,ts,event\n1,2026-03-02 12:00:00,view\n1,2026-03-02 12:00:00,view\n"
        "2,2026-03-02 12:00:00,view\n2,2026-03-02 12:00:00,view\n"
    )
    found = rows_of(str(path), "--dedupe")
    assert found[("rows", "read")] == "4" and found[("rows", "kept")] == "2"
    assert found[("rows", "dropped: exact duplicates (--dedupe)")] == "2"
