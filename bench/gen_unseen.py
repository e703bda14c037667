"""A log in another export's conventions, made from a ``peers`` log (``../shared/bench/gen.py``):
text user ids, integer epoch-microsecond times, GA4 event names, no session column, and rows in
no particular order — every general path of the engine at once.

    python bench/gen_unseen.py bench/out/peers_100000000.parquet bench/out/unseen_100000000.parquet

Columns: ``user_pseudo_id`` (text), ``event_timestamp`` (int64 µs), ``event_name`` (page_view,
view_item, add_to_cart, begin_checkout, purchase), ``price``, ``traffic_source``, ``device``. The
peers read it with ``--cols user=user_pseudo_id,time=event_timestamp,event=event_name,price=price
--time-unit us --events view_item=product_view,begin_checkout=checkout``.
"""

import sys

import polars as pl

NAMES = {"product_view": "view_item", "checkout": "begin_checkout"}


def main(source: str, target: str) -> None:
    events = pl.scan_parquet(source)
    renamed = pl.col("event").replace(NAMES)
    shuffled = events.with_columns(order=pl.struct("user_id", "ts").hash(7)).sort("order")
    shuffled.select(
        (
            "u"
            + pl.col("user_id").cast(pl.String)
            + ".17"
            + (pl.col("user_id") % 97).cast(pl.String)
        ).alias("user_pseudo_id"),
        pl.col("ts").dt.epoch("us").alias("event_timestamp"),
        renamed.alias("event_name"),
        "price",
        pl.col("channel").alias("traffic_source"),
        "device",
    ).sink_parquet(target, row_group_size=1 << 20)


if __name__ == "__main__":
    main(*sys.argv[1:3])
