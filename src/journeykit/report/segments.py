"""The report's segments section (SPEC §16): lifecycle and RFM sizes and revenue, and their
change."""

import polars as pl

from journeykit.output.human import count, percent
from journeykit.report.build import PeriodFigures, Report
from journeykit.report.compare import Change, arrow, delta_text, relative_text
from journeykit.report.content import Section, Table
from journeykit.segments.run import table_of

HEADERS = ("Users", "Users change", "Share", "Revenue share", "Revenue change")


def segments_section(report: Report) -> Section:
    now, before = report.current, report.previous
    lede = (
        f"Users by lifecycle, and customers by RFM score (recency, frequency, money in quintiles), "
        f"as of the end of {report.period.id} (every event before it), against the end of "
        f"{report.previous.period.id}."
    )
    tables = tuple(_table(now, before, by) for by in ("lifecycle", "rfm"))
    return Section("segments", "Segments", lede, tables=tables)


def segments_tables(figures: PeriodFigures) -> dict[str, pl.DataFrame]:
    """``lifecycle`` and ``rfm`` tables of a period (the report's CSV files)."""
    assert figures.segments is not None
    return {by: table_of(figures.segments, by) for by in ("lifecycle", "rfm")}


def segments_table(figures: PeriodFigures, by: str) -> pl.DataFrame:
    """The ``by`` table of a period."""
    return segments_tables(figures)[by]


def _table(now: PeriodFigures, before: PeriodFigures, by: str) -> Table:
    current, previous = segments_tables(now)[by], segments_tables(before)[by]
    earlier = {row["segment"]: row for row in previous.iter_rows(named=True)}
    rows = []
    for row in current.iter_rows(named=True):
        old = earlier.get(row["segment"], {})
        users = Change(old.get("users"), row["users"])
        revenue = Change(old.get("revenue_share"), row["revenue_share"], "rate")
        rows.append(
            (
                row["segment"],
                count(row["users"]),
                f"{arrow(users)} {relative_text(users)}".strip(),
                percent(row["share"]),
                percent(row["revenue_share"]),
                f"{arrow(revenue)} {delta_text(revenue)}".strip(),
            )
        )
    name = "Lifecycle" if by == "lifecycle" else "RFM segment"
    return Table((name, *HEADERS), tuple(rows))
