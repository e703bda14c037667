"""Identity stitching ``--stitch COL`` (SPEC §17), each rule on a hand-made log."""

import polars as pl
from tests.conftest import at
from tests.test_sources import error_of, output, run

from journeykit.funnel import FunnelSpec, funnel
from journeykit.journey import SummarySpec, summary
from journeykit.load.events import LoadOptions, load_frame

COLUMNS = ["user_id", "anonymous_id", "ts", "event"]


def stitched(rows, **options):
    frame = pl.DataFrame([list(r) for r in rows], schema=COLUMNS, orient="row")
    return load_frame(frame, LoadOptions(stitch="anonymous_id", **options))


def users_of(log) -> list:
    return log.frame.sort("row").collect()["user"].to_list()


VISIT = [
    (None, "a1", at(0), "page_view"),
    (None, "a1", at(1), "product_view"),
    ("u1", "a1", at(2), "add_to_cart"),
    ("u1", None, at(3), "checkout"),
    ("u1", "a1", at(4), "purchase"),
]


def test_a_visit_that_starts_anonymous_and_ends_logged_in_is_one_session():
    log = stitched(VISIT)
    assert users_of(log) == ["u1"] * 5
    table = summary(log, SummarySpec()).table
    assert table["users"].item() == 1 and table["sessions"].item() == 1
    steps = ("page_view", "product_view", "add_to_cart", "checkout", "purchase")
    assert funnel(log, FunnelSpec(steps=steps)).table["units"].to_list() == [1, 1, 1, 1, 1]


def test_without_stitching_the_anonymous_rows_are_bad_rows():
    frame = pl.DataFrame([list(r) for r in VISIT], schema=COLUMNS, orient="row")
    log = load_frame(frame, LoadOptions())
    assert log.profile.dropped == {"user": 2, "time": 0, "event": 0}


def test_the_earliest_login_row_wins_by_time_then_input_row():
    rows = [
        (None, "d1", at(0), "page_view"),
        ("u1", "d1", at(10), "page_view"),  # later in time, earlier in the input
        ("u2", "d1", at(5), "page_view"),  # the earliest row with a user: d1 is u2's
        ("u3", "d2", at(7), "page_view"),
        ("u4", "d2", at(7), "page_view"),  # same time: the earlier input row (u3) wins
        (None, "d2", at(8), "page_view"),
    ]
    assert users_of(stitched(rows)) == ["u2", "u1", "u2", "u3", "u4", "u3"]


def test_a_device_never_logged_in_keeps_its_own_id():
    rows = [(None, "d9", at(0), "page_view"), (None, "d9", at(1), "product_view")]
    rows += [("u1", "d1", at(0), "page_view")]
    log = stitched(rows)
    assert users_of(log) == ["d9", "d9", "u1"]
    assert summary(log, SummarySpec()).table["users"].item() == 2


def test_rows_with_neither_are_counted_as_bad_rows():
    rows = [("u1", "d1", at(0), "page_view"), (None, None, at(1), "page_view")]
    rows += [("", " ", at(2), "page_view")]  # blank counts as missing, for both columns
    log = stitched(rows)
    assert log.profile.dropped == {"user": 2, "time": 0, "event": 0}
    assert users_of(log) == ["u1"]


def test_rows_with_unusable_time_do_not_claim_an_id():
    rows = [("u1", "d1", "not a time", "page_view"), ("u2", "d1", at(5), "page_view")]
    rows += [(None, "d1", at(6), "page_view")]
    log = stitched(rows)
    assert users_of(log) == ["u2", "u2"] and log.profile.dropped["time"] == 1


def test_integer_users_and_text_ids_stitch_as_text():
    frame = pl.DataFrame(
        {"user_id": [None, 7], "anonymous_id": ["a1", "a1"], "ts": [at(0), at(1)]}
        | {"event": ["page_view", "purchase"]}
    )
    log = load_frame(frame, LoadOptions(stitch="anonymous_id"))
    assert users_of(log) == ["7", "7"]


def test_cli_flag_and_config_key(tmp_path):
    path = tmp_path / "visit.csv"
    pl.DataFrame([list(r) for r in VISIT], schema=COLUMNS, orient="row").write_csv(path)
    flag = output("summary", str(path), "--stitch", "anonymous_id")
    assert flag.splitlines()[1].startswith("5,1,1,")
    config = tmp_path / "journeykit.toml"
    config.write_text('[columns]\nstitch = "anonymous_id"\n')
    assert output("summary", str(path), "--config", str(config)) == flag
    line = error_of(run("summary", str(path), "--stitch", "anonymus_id"), 2)
    assert "no column 'anonymus_id' for --stitch (or [columns] stitch)" in line
    assert "anonymous_id" in line
