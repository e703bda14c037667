"""``report.html``: one self-contained page (inline CSS and SVG, no script, no network)."""

from datetime import datetime
from html import escape
from importlib.resources import files
from string import Template

from journeykit import __version__
from journeykit.report.build import Report
from journeykit.report.content import (
    Card,
    Section,
    Table,
    comparison_line,
    subtitle,
    title,
)

CHARTED = {"retention"}
"""Sections whose chart shows every number of their table (the table goes to report.md only)."""


def render_html(
    report: Report,
    sections: list[Section],
    charts: dict[str, str | None],
    files_written: list[str],
    stamp: datetime | None,
) -> str:
    """The page: a header, one ``<section>`` per section, and a footer linking the tables."""
    page = Template(files("journeykit.report").joinpath("template.html").read_text("utf-8"))
    body = [_header(report)]
    previous = report.previous.period.id
    body += [_section(section, charts.get(section.key), previous) for section in sections]
    body.append(_footer(files_written, stamp))
    return page.substitute(
        title=escape(f"{title(report)} · {subtitle(report)}"),
        version=escape(__version__),
        body="\n".join(body),
    )


def _header(report: Report) -> str:
    badge = (
        '<span class="badge ok">complete</span>'
        if report.complete
        else '<span class="badge warn">in progress</span>'
    )
    return (
        '<header><p class="eyebrow">journeykit</p>'
        f"<h1>{escape(title(report))} {badge}<small>{escape(subtitle(report))}</small></h1>"
        f'<p class="meta">{escape(comparison_line(report))}</p></header>'
    )


def _section(section: Section, chart: str | None, previous: str) -> str:
    parts = [f'<section id="{section.key}"><h2>{escape(section.title)}</h2>']
    if section.lede:
        parts.append(f'<p class="lede">{escape(section.lede)}</p>')
    if section.cards:
        parts.append(
            '<div class="cards">' + "".join(_card(c, previous) for c in section.cards) + "</div>"
        )
    parts += [f'<p class="headline-sentence">{escape(s)}</p>' for s in section.sentences]
    if chart is not None:
        caption = f'<figcaption id="{section.key}-title">{escape(section.caption)}</figcaption>'
        parts.append(f"<figure>{chart}{caption}</figure>")
    if chart is None or section.key not in CHARTED:
        parts += [_table(table) for table in section.tables]
    if section.notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in section.notes)
        parts.append(f'<ul class="quality">{items}</ul>')
    parts.append("</section>")
    return "\n".join(parts)


def _card(card: Card, previous: str) -> str:
    change = ""
    if card.arrow:
        change = (
            f'<div class="change {card.tone}">{card.arrow} {escape(card.delta)} '
            f'<span class="rel">({escape(card.relative)})</span></div>'
        )
    return (
        f'<div class="card"><div class="label">{escape(card.label)}</div>'
        f'<div class="value">{escape(card.value)}</div>{change}'
        f'<div class="prev">{escape(previous)}: {escape(card.previous)}</div></div>'
    )


def _table(table: Table) -> str:
    def cell(tag: str, index: int, text: str) -> str:
        kind = ' class="text"' if index < table.text_columns else ""
        words = " ".join(f"<span>{escape(word)}</span>" for word in text.split(" "))
        return f"<{tag}{kind}>{words if tag == 'th' else escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(table.headers))
    rows = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    table_html = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f'<div class="scroll">{table_html}</div>'


def _footer(files_written: list[str], stamp: datetime | None) -> str:
    links = " · ".join(f'<a href="{escape(name)}">{escape(name)}</a>' for name in files_written)
    made = f" on {stamp:%Y-%m-%d %H:%M} UTC" if stamp is not None else ""
    return (
        f"<footer>Made by journeykit {escape(__version__)} <code>journeykit report</code>{made}. "
        f"Same figures as tables: {links}.</footer>"
    )
