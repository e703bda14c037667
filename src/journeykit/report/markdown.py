"""``report.md``: the sections of ``report.html`` as Markdown text and tables."""

from datetime import datetime

import polars as pl

from journeykit import __version__
from journeykit.output.write import markdown
from journeykit.report.build import Report
from journeykit.report.content import Card, Section, Table, comparison_line, subtitle, title


def render_markdown(
    report: Report, sections: list[Section], files_written: list[str], stamp: datetime | None
) -> str:
    state = "complete" if report.complete else "in progress"
    lines = [
        f"# {title(report)}",
        "",
        f"{subtitle(report)} · {state}",
        "",
        comparison_line(report),
    ]
    previous = report.previous.period.id
    for section in sections:
        lines += ["", *_section(section, report.period.id, previous)]
    made = f" on {stamp:%Y-%m-%d %H:%M} UTC" if stamp is not None else ""
    lines += [
        "",
        "---",
        "",
        f"Made by journeykit {__version__} (`journeykit report`){made}. "
        f"Tables: {', '.join(files_written)}.",
    ]
    return "\n".join(lines) + "\n"


def _section(section: Section, current: str, previous: str) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.lede:
        lines += [section.lede, ""]
    if section.cards:
        lines += [_cards(section.cards, current, previous), ""]
    lines += [line for sentence in section.sentences for line in (sentence, "")]
    lines += [line for table in section.tables for line in (_table(table), "")]
    if section.legend:
        lines += [f"_{section.legend}_", ""]
    lines += [f"- {note}" for note in section.notes]
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _cards(cards: tuple[Card, ...], current: str, previous: str) -> str:
    headers = ("Figure", current, "Change", "Change %", previous)
    rows = tuple(
        (c.label, c.value, f"{c.arrow} {c.delta}".strip(), c.relative, c.previous) for c in cards
    )
    return _table(Table(headers, rows))


def _table(table: Table) -> str:
    frame = pl.DataFrame(
        [list(row) for row in table.rows],
        schema={name: pl.String for name in table.headers},
        orient="row",
    )
    return markdown(frame).rstrip("\n")
