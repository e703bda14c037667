"""The synthetic event log: schema, determinism, realism and writing (journeykit.sample)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from journeykit.errors import UsageError
from journeykit.load.vocabulary import CANONICAL_EVENTS
from journeykit.sample import (
    SampleParams,
    export,
    generate,
    simulate,
    users_for_events,
    write_sample,
)

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "user_id": pl.Int64,
    "session_id": pl.String,
    "event_time": pl.Datetime("us", "UTC"),
    "event_type": pl.String,
    "product_id": pl.Int64,
    "price": pl.Float64,
    "quantity": pl.Int64,
    "order_id": pl.String,
    "channel": pl.String,
    "device": pl.String,
    "country": pl.String,
    "variant": pl.String,
}
CANONICAL = set(CANONICAL_EVENTS)


def _log(params: SampleParams, chunk_users: int = 200_000) -> pl.DataFrame:
    return pl.concat(list(generate(params, chunk_users)))


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    return _log(SampleParams(users=2000))


@pytest.fixture(scope="module")
def sessions(log: pl.DataFrame) -> pl.DataFrame:
    event = pl.col("event_type")
    return log.group_by("session_id").agg(
        pl.col("user_id").first(),
        pl.len().alias("events"),
        pl.col("event_time").min().alias("first"),
        pl.col("event_time").max().alias("last"),
        pl.col("event_time").filter(event == "add_to_cart").min().alias("first_cart"),
        pl.col("event_time").filter(event == "purchase").max().alias("last_purchase"),
    )


def test_schema_columns_and_dtypes_are_exact(log: pl.DataFrame) -> None:
    assert list(log.schema.items()) == list(SCHEMA.items())
    assert set(log["event_type"].unique()) == CANONICAL
    assert set(log["channel"].unique()) == {
        "organic", "paid_search", "social", "email", "direct", "referral"
    }  # fmt: skip
    assert set(log["device"].unique()) == {"desktop", "mobile", "tablet"}


def test_columns_are_null_exactly_where_they_do_not_apply(log: pl.DataFrame) -> None:
    event = pl.col("event_type")
    priced = event.is_in(["product_view", "add_to_cart", "remove_from_cart", "purchase"])
    counted = event.is_in(["add_to_cart", "remove_from_cart", "purchase"])
    with_product = priced | event.is_in(["review", "share"])
    checks = log.select(
        price=(pl.col("price").is_not_null() == priced).all(),
        quantity=(pl.col("quantity").is_not_null() == counted).all(),
        order=(pl.col("order_id").is_not_null() == (event == "purchase")).all(),
        product=(pl.col("product_id").is_not_null() == with_product).all(),
        positive=(pl.col("price") > 0).all(),
        items=pl.col("quantity").is_between(1, 3).all(),
        unique=pl.col("session_id").n_unique() == pl.struct("user_id", "session_id").n_unique(),
    )
    assert checks.row(0, named=True) == dict.fromkeys(checks.columns, True)


def test_same_params_give_the_same_rows_and_another_seed_other_rows() -> None:
    params = SampleParams(users=300)
    assert _log(params).equals(_log(params))
    assert not _log(params).equals(_log(SampleParams(users=300, seed=8)))


def test_rows_do_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate, "BLOCK_USERS", 200)  # chunks then cut across random streams
    params = SampleParams(users=900, days=14)
    chunks = list(generate(params, chunk_users=250))
    assert len(chunks) == 4
    for index, chunk in enumerate(chunks):
        assert chunk["user_id"].is_between(250 * index + 1, 250 * index + 250).all()
    assert (
        pl.concat(chunks)
        .sort("user_id", maintain_order=True)
        .equals(_log(params).sort("user_id", maintain_order=True))
    )


def test_rows_are_sorted_by_time_within_the_period(log: pl.DataFrame) -> None:
    assert log["event_time"].is_sorted()
    start = SampleParams().start
    first, last = log.select(first=pl.col("event_time").min(), last=pl.col("event_time").max()).row(
        0
    )
    assert start <= first
    assert last < start + timedelta(days=SampleParams().days)


def test_events_per_user_and_arrivals_are_spread_over_the_period(log: pl.DataFrame) -> None:
    assert 15 <= log.height / 2000 <= 40
    first_days = log.group_by("user_id").agg(pl.col("event_time").min().dt.date())
    assert first_days["event_time"].n_unique() >= 25


def test_every_purchase_row_has_an_order_id_and_a_price(log: pl.DataFrame) -> None:
    purchases = log.filter(pl.col("event_type") == "purchase")
    assert purchases.height > 100
    assert purchases["order_id"].null_count() == 0
    assert purchases["price"].null_count() == 0


def test_order_lines_share_user_and_session_and_many_orders_have_several(
    log: pl.DataFrame,
) -> None:
    orders = (
        log.filter(pl.col("event_type") == "purchase")
        .group_by("order_id")
        .agg(
            pl.len().alias("lines"),
            pl.col("session_id").n_unique().alias("sessions"),
            pl.col("user_id").n_unique().alias("users"),
            (pl.col("event_time").n_unique() < pl.len()).alias("tied"),
        )
    )
    assert (orders["sessions"] == 1).all()
    assert (orders["users"] == 1).all()
    assert 0.1 < (orders["lines"] > 1).mean() < 0.6  # type: ignore[operator]
    assert orders["tied"].sum() > 10


def test_cart_abandonment_is_between_40_and_90_percent(sessions: pl.DataFrame) -> None:
    carts = sessions.filter(pl.col("first_cart").is_not_null())
    converted = carts["last_purchase"].fill_null(carts["first"]) >= carts["first_cart"]
    converted &= carts["last_purchase"].is_not_null()
    rate = 1 - converted.mean()  # type: ignore[operator]
    assert 0.4 <= rate <= 0.9


def test_some_abandoned_carts_are_recovered_within_a_week(sessions: pl.DataFrame) -> None:
    abandoned = sessions.filter(
        pl.col("first_cart").is_not_null() & pl.col("last_purchase").is_null()
    )
    orders = sessions.filter(pl.col("last_purchase").is_not_null()).select(
        "user_id", pl.col("last_purchase").alias("ordered")
    )
    recovered = abandoned.join(orders, on="user_id").filter(
        (pl.col("ordered") > pl.col("last"))
        & (pl.col("ordered") <= pl.col("last") + timedelta(days=7))
    )
    assert recovered["session_id"].n_unique() > 0.05 * abandoned.height


def test_some_customers_order_again(log: pl.DataFrame) -> None:
    orders = (
        log.filter(pl.col("event_type") == "purchase")
        .group_by("user_id")
        .agg(pl.col("order_id").n_unique().alias("orders"))
    )
    repeat_share = (orders["orders"] >= 2).mean()
    assert 0.1 < repeat_share < 0.7  # type: ignore[operator]


def test_reviews_come_after_the_users_first_purchase(log: pl.DataFrame) -> None:
    first_order = (
        log.filter(pl.col("event_type") == "purchase")
        .group_by("user_id")
        .agg(pl.col("event_time").min().alias("first_order"))
    )
    reviews = log.filter(pl.col("event_type") == "review").join(
        first_order, on="user_id", how="left"
    )
    assert reviews.height > 20
    assert (reviews["event_time"] > reviews["first_order"]).all()
    late = reviews["event_time"] - reviews["first_order"] > timedelta(days=1)
    assert late.any()
    advocacy = log.filter(pl.col("event_type").is_in(["referral", "share"]))
    assert set(advocacy["event_type"]) == {"referral", "share"}


def _checkout_sessions(params: SampleParams) -> pl.DataFrame:
    """Sessions with a checkout: their start, the user's variant and whether they bought."""
    event = pl.col("event_type")
    return (
        _log(params)
        .group_by("session_id")
        .agg(
            pl.col("event_time").min().alias("start"),
            pl.col("variant").first(),
            (event == "checkout").any().alias("checkout"),
            (event == "purchase").any().alias("bought"),
        )
        .filter("checkout")
    )


def _bought(sessions: pl.DataFrame, keep: pl.Expr) -> float:
    return float(sessions.filter(keep)["bought"].mean())  # type: ignore[arg-type]


def test_the_variant_is_a_user_attribute_split_in_half(log: pl.DataFrame) -> None:
    per_user = log.group_by("user_id").agg(pl.col("variant").n_unique().alias("values"))
    assert per_user["values"].max() == 1
    shares = log.group_by("user_id").agg(pl.col("variant").first())["variant"].value_counts()
    assert dict(shares.rows()) == pytest.approx({"A": 1000, "B": 1000}, rel=0.1)


def test_variant_b_buys_more_after_checkout_and_the_incident_less() -> None:
    params = SampleParams(users=20_000)
    sessions = _checkout_sessions(params)
    incident_start = params.start + timedelta(days=params.incident_day)
    incident = pl.col("start").is_between(
        incident_start, incident_start + timedelta(days=params.incident_days), closed="left"
    )
    a, b = (_bought(sessions, (pl.col("variant") == v) & ~incident) for v in "AB")
    assert 1.08 < b / a < 1.2  # × 1.2 on each persona's rate, fewer where others buy anyway
    during, outside = _bought(sessions, incident), _bought(sessions, ~incident)
    # Half the ordinary purchases fail; recovered carts and re-orders still go through.
    assert 0.55 < during / outside < 0.8
    neutral = SampleParams(users=20_000, variant_lift=0, incident_failure_rate=0)
    plain = _checkout_sessions(neutral)
    a, b = (_bought(plain, pl.col("variant") == v) for v in "AB")
    assert b / a == pytest.approx(1, abs=0.04)


def test_a_30_minute_gap_rule_recovers_the_sessions(log: pl.DataFrame) -> None:
    ordered = log.sort("user_id", "event_time", maintain_order=True)
    new_user = pl.col("user_id") != pl.col("user_id").shift()
    gap = pl.col("event_time").diff() >= timedelta(minutes=30)
    rebuilt = ordered.with_columns((new_user.fill_null(True) | gap).cum_sum().alias("rebuilt"))
    pairs = rebuilt.group_by("session_id").agg(
        pl.col("rebuilt").n_unique().alias("pieces"), pl.col("rebuilt").first()
    )
    same = (pairs["pieces"] == 1) & pairs["rebuilt"].is_first_distinct()
    assert same.mean() >= 0.95  # type: ignore[operator]


def test_sessions_have_bounces_short_gaps_and_some_exact_ties(
    log: pl.DataFrame, sessions: pl.DataFrame
) -> None:
    bounce_rate = (sessions["events"] == 1).mean()
    assert 0.15 < bounce_rate < 0.6  # type: ignore[operator]
    within = log.sort("session_id", "event_time", maintain_order=True).select(
        pl.col("event_time").diff().over("session_id").alias("gap")
    )["gap"]
    assert within.max() < timedelta(minutes=30)  # type: ignore[operator]
    assert 0.005 < (within == timedelta(0)).mean() < 0.1  # type: ignore[operator]
    assert (sessions.group_by("user_id").len()["len"] > 1).mean() > 0.4  # type: ignore[operator]


@pytest.mark.parametrize("name", ["events.parquet", "events.csv.gz", "events.csv"])
def test_written_files_round_trip(tmp_path: Path, name: str) -> None:
    params = SampleParams(users=150, days=10)
    rows = write_sample(params, tmp_path / name)
    expected = _log(params)
    assert rows == expected.height
    assert _read(tmp_path / name).equals(expected)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    text = pl.read_csv(path, schema_overrides={**SCHEMA, "event_time": pl.String})
    time = pl.col("event_time").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", time_unit="us")
    return text.with_columns(time.dt.replace_time_zone("UTC"))


@pytest.mark.parametrize("name", ["events.parquet", "events.csv.gz"])
def test_writing_twice_gives_identical_bytes(tmp_path: Path, name: str) -> None:
    params = SampleParams(users=120, days=7)
    write_sample(params, tmp_path / "a" / name)
    write_sample(params, tmp_path / "b" / name)
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_merging_spilled_chunks_gives_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = SampleParams(users=700, days=14)
    write_sample(params, tmp_path / "whole.parquet")
    monkeypatch.setattr(export, "WRITE_CHUNK_USERS", 150)
    monkeypatch.setattr(export, "SLAB_ROWS", 1_000)
    write_sample(params, tmp_path / "merged.parquet")
    merged = pl.read_parquet(tmp_path / "merged.parquet")
    assert merged.equals(pl.read_parquet(tmp_path / "whole.parquet"))
    assert pl.read_parquet_metadata(tmp_path / "merged.parquet") is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged.parquet", "whole.parquet"]


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "events.csv"
    out.write_text("old\n")

    def failing(params: SampleParams, spill_to: Path) -> Iterator[pl.DataFrame]:
        yield _log(SampleParams(users=20))
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "_sorted_frames", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_sample(SampleParams(users=20), out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["events.csv"]


def test_an_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.parquet, \.csv or \.csv\.gz"):
        write_sample(SampleParams(users=10), tmp_path / "events.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "changes",
    [{"users": 0}, {"days": 0}, {"seed": -1}, {"tie_rate": 1.5}, {"device_mix": ()}],
)
def test_invalid_parameters_are_usage_errors(changes: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        SampleParams(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("target", "days"), [(30_000, 28), (120_000, 28), (40_000, 7)])
def test_users_for_events_hits_the_target_within_10_percent(target: int, days: int) -> None:
    params = SampleParams(days=days, seed=11)
    users = users_for_events(target, params)
    rows = sum(chunk.height for chunk in generate(SampleParams(users=users, days=days, seed=11)))
    assert abs(rows - target) <= 0.1 * target
