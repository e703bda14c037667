"""``journeykit report`` (SPEC §9): period selection, hand-computed figures, files that equal the
commands' output, determinism and cron behaviour (exit codes, quiet, no partial folder)."""

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import log_of, shared

from journeykit.errors import DataError
from journeykit.report import (
    ReportPeriod,
    ReportSpec,
    build_report,
    choose_period,
    containing,
    last_complete,
    report_files,
    triangle_up_to,
    write_report,
)
from journeykit.report.compare import Change, arrow, delta_text, relative_text

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "data" / "samples" / "events.parquet")
PRICED = ("user_id", "ts", "event", "price")
# Week 2026-W10 is Mon 2 – Sun 8 March 2026, W11 is 9–15 March, W12 starts on 16 March.
SHOP = [
    (1, "2026-03-03T10:00", "page_view", None),
    (1, "2026-03-03T10:01", "product_view", None),
    (1, "2026-03-03T10:02", "add_to_cart", 10.0),
    (1, "2026-03-03T10:03", "purchase", 10.0),  # u1: first order (W10), worth 10
    (1, "2026-03-10T10:00", "page_view", None),
    (1, "2026-03-10T10:05", "purchase", 20.0),  # u1: repeat order (W11), worth 20
    (2, "2026-03-11T09:00", "page_view", None),
    (2, "2026-03-11T09:01", "add_to_cart", 5.0),  # u2: abandoned cart (W11), 5 at risk
    (3, "2026-03-16T08:00", "page_view", None),  # the data's last event, in W12
]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args], cwd=cwd, capture_output=True, check=False
    )


def rows_of(payload: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(payload.decode())))


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "kind", "expected_id", "expected_start"),
    [
        (datetime(2019, 12, 30, 0, 0), "week", "2020-W01", date(2019, 12, 30)),
        (datetime(2019, 12, 29, 23, 59), "week", "2019-W52", date(2019, 12, 23)),
        (datetime(2021, 1, 3, 12), "week", "2020-W53", date(2020, 12, 28)),
        (datetime(2021, 1, 4, 0, 0), "week", "2021-W01", date(2021, 1, 4)),
        (datetime(2027, 1, 1, 9), "week", "2026-W53", date(2026, 12, 28)),
        (datetime(2026, 12, 31, 23, 59), "month", "2026-12", date(2026, 12, 1)),
    ],
)
def test_period_ids_follow_iso_years(moment, kind, expected_id, expected_start):
    period = containing(moment, kind)
    assert (period.id, period.start) == (expected_id, expected_start)


def test_previous_and_next_periods_cross_year_boundaries():
    week = ReportPeriod("week", date(2021, 1, 4))
    assert week.previous().id == "2020-W53" and week.previous().previous().id == "2020-W52"
    assert ReportPeriod("month", date(2026, 1, 1)).previous().id == "2025-12"
    assert ReportPeriod("month", date(2025, 12, 1)).shifted(1).start == date(2026, 1, 1)


def test_last_complete_period_ends_at_or_before_the_last_timestamp():
    # completejourney ends on Monday 2018-01-01 04:01: the week in progress is 2018-W01.
    assert last_complete(datetime(2018, 1, 1, 4, 1, tzinfo=UTC), "week").id == "2017-W52"
    # A last event exactly at Monday 00:00 completes the week before it.
    assert last_complete(datetime(2021, 1, 4, tzinfo=UTC), "week").id == "2020-W53"
    # Sunday 23:59:59 does not: the week ends at Monday 00:00.
    assert last_complete(datetime(2021, 1, 3, 23, 59, 59, tzinfo=UTC), "week").id == "2020-W52"
    assert last_complete(datetime(2018, 1, 1, 4, tzinfo=UTC), "month").id == "2017-12"


def test_periods_follow_the_calendar_of_the_time_zone():
    # Sunday 2026-03-08 20:00 UTC is Monday 05:00 in Tokyo: the next week there.
    moment = datetime(2026, 3, 8, 20, tzinfo=UTC)
    assert containing(moment, "week", "UTC").id == "2026-W10"
    tokyo = containing(moment, "week", "Asia/Tokyo")
    assert tokyo.id == "2026-W11"
    assert tokyo.since == datetime(2026, 3, 8, 15, tzinfo=UTC)  # Monday 00:00 JST


def test_titles_do_not_depend_on_the_locale():
    assert ReportPeriod("week", date(2020, 12, 28)).title == "Mon 28 Dec 2020 – Sun 3 Jan 2021"
    assert ReportPeriod("week", date(2026, 3, 9)).title == "Mon 9 Mar – Sun 15 Mar 2026"
    assert ReportPeriod("month", date(2026, 11, 1)).title == "November 2026"


def test_default_period_is_the_last_complete_one_and_at_picks_any():
    log = log_of(SHOP, PRICED)
    assert choose_period(log, "week", "UTC", None).id == "2026-W11"
    assert choose_period(log, "month", "UTC", datetime(2026, 3, 31, tzinfo=UTC)).id == "2026-03"
    at = datetime(2026, 3, 4, tzinfo=UTC)
    assert choose_period(log, "week", "UTC", at).id == "2026-W10"


def test_an_empty_period_is_a_data_error_that_says_what_to_do():
    log = log_of(SHOP, PRICED)
    with pytest.raises(DataError, match=r"month 2026-02 \(February 2026\) has no events.*--at"):
        choose_period(log, "month", "UTC", None)
    with pytest.raises(DataError, match=r"week 2026-W20 .* has no events"):
        choose_period(log, "week", "UTC", datetime(2026, 5, 12, tzinfo=UTC))


# --- figures, by hand ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop_files() -> dict[str, bytes]:
    log = log_of(SHOP, PRICED)
    report = build_report(log, choose_period(log, "week", "UTC", None), ReportSpec())
    return report_files(report, {"paths": ["<frame>"]})


def test_summary_csv_has_one_row_per_period(shop_files):
    rows = rows_of(shop_files["summary.csv"])
    assert [r["period"] for r in rows] == ["2026-W10", "2026-W11"]
    assert [(r["events"], r["users"], r["orders"], r["revenue"]) for r in rows] == [
        ("4", "1", "1", "10.00"),
        ("4", "2", "1", "20.00"),
    ]


def test_funnel_counts_entries_of_each_period(shop_files):
    rows = rows_of(shop_files["funnel.csv"])
    units = {(r["period"], r["event"]): int(r["units"]) for r in rows}
    steps = ["page_view", "product_view", "add_to_cart", "purchase"]  # no checkout in the data
    assert [units["2026-W10", s] for s in steps] == [1, 1, 1, 1]
    # u1 and u2 enter in W11; u1's product view was in W10, so both stop at step 1.
    assert [units["2026-W11", s] for s in steps] == [2, 0, 0, 0]
    in_progress = {(r["period"], r["step"]): int(r["in_progress"]) for r in rows}
    assert in_progress["2026-W11", "2"] == 2  # windows close on 17 and 18 March, after 16 March


def test_stages_and_abandonment_of_the_period(shop_files):
    stages = {
        (r["period"], r["stage"]): int(r["sessions"]) for r in rows_of(shop_files["stages.csv"])
    }
    assert stages["2026-W11", "retention"] == 1  # u1's repeat order
    assert stages["2026-W11", "decision"] == 1  # u2's abandoned cart
    assert stages["2026-W10", "purchase"] == 1
    carts = {r["period"]: r for r in rows_of(shop_files["abandonment.csv"])}
    assert (carts["2026-W11"]["abandoned"], carts["2026-W11"]["value_at_risk"]) == ("1", "5.00")
    assert carts["2026-W11"]["recovery_pending"] == "1"  # 11 + 7 days > 16 March
    assert carts["2026-W10"]["abandoned"] == "0"


def test_retention_triangle_stops_at_the_reported_period(shop_files):
    # The data reaches W12 (partial), but the W11 report shows cells up to W11 only.
    rows = rows_of(shop_files["retention.csv"])
    assert [(r["cohort"], r["period"], r["retained"], r["partial"]) for r in rows] == [
        ("2026-03-02", "0", "1", "false"),
        ("2026-03-02", "1", "1", "false"),
    ]


def test_triangle_up_to_keeps_the_last_cohorts_and_their_cells_up_to_the_period():
    table = pl.DataFrame(
        {
            "cohort": ["2026-02-23"] * 3 + ["2026-03-02"] * 3 + ["2026-03-09"] * 3 + ["average"],
            "period": [0, 1, 2] * 3 + [1],
            "rate": [1.0, 0.5, 0.25, 1.0, 0.2, 0.1, 1.0, None, None, 0.3],
        }
    )
    shown = triangle_up_to(table, ReportPeriod("week", date(2026, 3, 2)), periods=1)
    assert shown.rows() == [("2026-02-23", 0, 1.0), ("2026-02-23", 1, 0.5), ("2026-03-02", 0, 1.0)]


def test_summary_json_holds_figures_changes_and_provenance(shop_files):
    document = json.loads(shop_files["summary.json"])
    assert document["report"]["id"] == "2026-W11" and document["report"]["complete"] is True
    assert document["report"]["since"] == "2026-03-09T00:00:00Z"
    assert document["report"]["previous"]["id"] == "2026-W10"
    revenue = document["changes"]["summary"]["revenue"]
    assert revenue == {"previous": 10.0, "current": 20.0, "absolute": 10.0, "relative": 1.0}
    assert document["inputs"]["paths"] == ["<frame>"] and document["inputs"]["rows"] == 9
    assert document["options"]["funnel"]["window"] == "7d"
    assert document["journeykit"] and "generated_at" not in document
    assert [r["period"] for r in document["figures"]["summary"]] == ["2026-W10", "2026-W11"]


def test_markdown_and_html_say_the_same_things(shop_files):
    text = shop_files["report.md"].decode()
    assert "# Weekly report 2026-W11" in text
    assert "| Revenue | 20.00 | ▲ +10.00 | +100.0% | 10.00 |" in text
    assert "2 users who entered the funnel in 2026-W11 have not finished it" in text
    page = shop_files["report.html"].decode()
    for phrase in ("Weekly report 2026-W11", "20.00", "▲ +10.00", "(+100.0%)", "have not finished"):
        assert phrase in page
    # no funnel user stopped with a closed window (the 2 dropped are in progress): no drop-off
    assert "No funnel drop-off to follow" in page
    assert page.count("<svg") == 4 and "<script" not in page
    assert "src=" not in page and 'href="http' not in page


def test_changes_are_shown_with_sign_points_and_percent():
    assert delta_text(Change(0.25, 0.30, "rate")) == "+5.0 pp"
    assert delta_text(Change(100.0, 90.5, "money")) == "−9.50"
    assert relative_text(Change(200, 150)) == "−25.0%"
    assert relative_text(Change(0, 5)) == "–" and delta_text(Change(None, 5)) == "–"
    # A change too small to show is no change: no arrow up for +0.0 pp.
    tiny = Change(0.1470, 0.1471, "rate")
    assert (delta_text(tiny), arrow(tiny), tiny.direction) == ("±0.0 pp", "=", 0)


# --- the command, on the sample and on real exports --------------------------------------------


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = run("report", SAMPLE, "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"" and result.stderr == b""  # quiet on success
    return out / "2026-W47"  # the sample ends on Sunday 2026-11-29 23:58: W48 is not over


def test_report_folder_holds_every_file(sample_report):
    names = sorted(p.name for p in sample_report.iterdir())
    assert names == sorted(
        [
            "report.html",
            "report.md",
            "summary.json",
            "summary.csv",
            "funnel.csv",
            "stages.csv",
            "stage_users.csv",
            "journey_map.csv",
            "dropoff_paths.csv",
            "abandonment.csv",
            "attribution.csv",
            "segments_lifecycle.csv",
            "segments_rfm.csv",
            "retention.csv",
            "trend_funnel.csv",
            "trend_summary.csv",
            "comparison.csv",
        ]
    )
    assert not [p for p in sample_report.parent.iterdir() if p.name.startswith(".")]


PERIODS = {"2026-W46": ("2026-11-09", "2026-11-16"), "2026-W47": ("2026-11-16", "2026-11-23")}
COMMANDS = {
    "summary.csv": ["summary"],
    "funnel.csv": ["funnel"],
    "stages.csv": ["stages"],
    "stage_users.csv": ["stages", "--by", "user"],
    "abandonment.csv": ["abandonment"],
    "attribution.csv": ["attribution"],
}
AS_OF = {"segments_lifecycle.csv": ["segments"], "segments_rfm.csv": ["segments", "--by", "rfm"]}


@pytest.mark.parametrize("name", sorted(AS_OF))
def test_segment_csvs_equal_the_command_as_of_each_period_end(sample_report, name):
    lines = (sample_report / name).read_text().splitlines()
    for period, (_, until) in PERIODS.items():
        command = [*AS_OF[name], SAMPLE, "--at", until, "--format", "csv"]
        printed = run(*command)
        assert printed.returncode == 0, printed.stderr.decode()
        mine = [line.split(",", 1)[1] for line in lines[1:] if line.startswith(f"{period},")]
        assert [lines[0].split(",", 1)[1], *mine] == printed.stdout.decode().splitlines()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_csv_equals_the_command_for_the_same_period(sample_report, name):
    lines = (sample_report / name).read_text().splitlines()
    assert lines[0].startswith("period,")
    for period, (since, until) in PERIODS.items():
        command = [*COMMANDS[name], SAMPLE, "--since", since, "--until", until, "--format", "csv"]
        printed = run(*command)
        assert printed.returncode == 0, printed.stderr.decode()
        expected = printed.stdout.decode().splitlines()
        mine = [line.split(",", 1)[1] for line in lines[1:] if line.startswith(f"{period},")]
        assert [lines[0].split(",", 1)[1], *mine] == expected, f"{name} {period}"


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("journey_map.csv", ["--stages"]),
        # W47's largest drop-off is step 2 → 3 (product_view → add_to_cart: funnel.csv)
        ("dropoff_paths.csv", ["--dropped-at", "3", "--collapse", "--depth", "3", "--top", "10"]),
    ],
)
def test_journey_csvs_equal_paths_for_the_reported_period(sample_report, name, command):
    since, until = PERIODS["2026-W47"]
    printed = run("paths", SAMPLE, *command, "--since", since, "--until", until, "--format", "csv")
    assert printed.returncode == 0, printed.stderr.decode()
    lines = (sample_report / name).read_text().splitlines()
    mine = [line.removeprefix("2026-W47,") for line in lines]
    assert [lines[0].split(",", 1)[1], *mine[1:]] == printed.stdout.decode().splitlines()


def test_the_largest_dropoff_is_the_funnels_largest_dropped(sample_report):
    funnel_rows = [
        line.split(",") for line in (sample_report / "funnel.csv").read_text().splitlines()
    ]
    header = funnel_rows[0]
    step, dropped = header.index("step"), header.index("dropped")
    waiting = header.index("in_progress")
    current = [row for row in funnel_rows[1:] if row[0] == "2026-W47" and row[step] != "1"]
    closed = {row[step]: int(row[dropped]) - int(row[waiting]) for row in current}
    assert max(closed, key=lambda k: (closed[k], -int(k))) == "3"


def test_retention_csv_is_the_commands_triangle_up_to_the_period(sample_report):
    printed = run("retention", SAMPLE, "--format", "csv")
    # cohort → last period shown: the seven weekly cohorts of the sample up to W47.
    starts = ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"]
    wanted = {start: 6 - i for i, start in enumerate([*starts, "2026-11-16"])}
    expected = [
        line
        for line in printed.stdout.decode().splitlines()[1:]
        if line.split(",")[0] in wanted and int(line.split(",")[1]) <= wanted[line.split(",")[0]]
    ]
    lines = (sample_report / "retention.csv").read_text().splitlines()
    assert lines[0] == printed.stdout.decode().splitlines()[0]
    assert lines[1:] == expected and len(expected) == 28


def test_same_command_twice_gives_identical_bytes(sample_report, tmp_path):
    again = run("report", SAMPLE, "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr.decode()
    for path in sample_report.iterdir():
        assert (tmp_path / "2026-W47" / path.name).read_bytes() == path.read_bytes(), path.name


def test_stamp_and_print_path(tmp_path):
    result = run("report", SAMPLE, "--out", str(tmp_path), "--stamp", "--print-path")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == f"{tmp_path / '2026-W47'}\n"
    document = json.loads((tmp_path / "2026-W47" / "summary.json").read_text())
    assert document["generated_at"].endswith("Z")


def test_a_second_run_replaces_the_folder_whole(tmp_path):
    log = log_of(SHOP, PRICED)
    report = build_report(log, choose_period(log, "week", "UTC", None), ReportSpec())
    stale = tmp_path / "2026-W11"
    stale.mkdir()
    (stale / "old.txt").write_text("from an earlier run")
    folder = write_report(report, tmp_path, {})
    assert folder == stale and not (folder / "old.txt").exists()
    assert (folder / "report.html").exists() and len(list(tmp_path.iterdir())) == 1


def test_empty_period_exits_1_with_a_message_and_leaves_nothing(tmp_path):
    rees = shared("rees46-2019oct-head", "events.parquet")  # 2h50 of one Tuesday
    out = tmp_path / "reports"
    result = run("report", rees, "--out", str(out))
    assert result.returncode == 1 and result.stdout == b""
    message = result.stderr.decode()
    assert "no complete week to report: week 2019-W39" in message
    assert "--at 2019-09-30" in message and "Traceback" not in message
    assert not out.exists()


def test_bad_options_are_usage_errors(tmp_path):
    assert run("report", SAMPLE, "--out", str(tmp_path), "--period", "year").returncode == 2
    result = run("report", SAMPLE, "--out", str(tmp_path), "--at", "last tuesday")
    assert result.returncode == 2 and b"--at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_out_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("report", SAMPLE, "--out", str(blocker / "reports"))
    assert (
        result.returncode == 1 and b"--out" in result.stderr and b"Traceback" not in result.stderr
    )


@pytest.mark.parametrize(
    ("parts", "flags", "folder"),
    [
        (("rees46-2019oct-head", "events.csv.gz"), ["--at", "2019-10-01"], "2019-W40"),
        (("taobao-userbehavior-prefix", "events.csv.gz"), [], "2017-W47"),
        (("taobao-userbehavior-slice", "events.csv.gz"), ["--at", "2017-11-26"], "2017-W47"),
        (("completejourney", "transactions.parquet"), ["--rows-are", "purchase"], "2017-W52"),
    ],
)
def test_runs_on_real_exports(tmp_path, parts, flags, folder):
    result = run("report", shared(*parts), "--out", str(tmp_path), *flags)
    assert result.returncode == 0, result.stderr.decode()
    made = tmp_path / folder
    assert (made / "report.html").stat().st_size > 10_000
    document = json.loads((made / "summary.json").read_text())
    assert document["report"]["id"] == folder


def test_month_report_at_a_year_boundary(tmp_path):
    data = shared("completejourney", "transactions.parquet")
    result = run(
        "report", data, "--rows-are", "purchase", "--period", "month", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr.decode()
    rows = rows_of((tmp_path / "2017-12" / "summary.csv").read_bytes())
    assert [r["period"] for r in rows] == ["2017-11", "2017-12"]
    assert rows[1]["first_event"].startswith("2017-12-01") and rows[1]["last_event"] < "2018-01-01"


def test_help_imports_neither_polars_nor_chart_libraries():
    code = (
        "import sys; from journeykit.cli.app import app, _register; _register(); "
        "import typer.main; typer.main.get_command(app); "
        "heavy = {'polars', 'altair', 'vl_convert'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    helped = run("report", "--help").stdout.decode()
    assert "--out" in helped and "--at" in helped and "crontab" in helped
    assert "--format" not in helped


def test_a_report_on_another_calendar_compares_utc_instants():
    # Tokyo's W11 starts on Sunday 8 March 15:00 UTC; the commands' --since with a non-UTC
    # --tz must give the same instant.
    log = log_of(SHOP, PRICED)
    period = choose_period(log, "week", "Asia/Tokyo", None)
    assert (period.id, period.since) == ("2026-W11", datetime(2026, 3, 8, 15, tzinfo=UTC))
    spec = ReportSpec(tz="Asia/Tokyo")
    files = report_files(build_report(log, period, spec), {})
    rows = rows_of(files["summary.csv"])
    assert [(r["period"], r["events"]) for r in rows] == [("2026-W10", "4"), ("2026-W11", "4")]
