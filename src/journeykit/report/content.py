"""What the report says, as data: sections of cards, sentences, tables and notes.

``report.html`` and ``report.md`` render the same sections, so they cannot say different things.
Every number is read from a library result; this module only picks, formats and compares.
"""

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from journeykit.durations import format_duration
from journeykit.journey import StagesResult
from journeykit.output.human import count, money, percent
from journeykit.periods import ReportPeriod
from journeykit.report.build import PeriodFigures, Report
from journeykit.report.compare import (
    ABANDONMENT,
    HEADLINE,
    Change,
    Figure,
    arrow,
    delta_text,
    in_words,
    relative_text,
    tone,
    value_text,
)


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    arrow: str
    delta: str
    relative: str
    tone: str
    previous: str
    """The previous period's value."""


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: int = 1
    """How many leading columns hold text (left-aligned)."""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lede: str = ""
    cards: tuple[Card, ...] = ()
    sentences: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    caption: str = ""
    """Under the chart (HTML only)."""
    legend: str = ""
    """Under the tables: how to read them."""
    notes: tuple[str, ...] = field(default_factory=tuple)


def title(report: Report) -> str:
    kind = "Weekly" if report.spec.period == "week" else "Monthly"
    return f"{kind} report {report.period.id}"


def subtitle(report: Report) -> str:
    return f"{report.period.title} · {report.spec.tz}"


def comparison_line(report: Report) -> str:
    previous = report.previous.period
    return f"{report.log.label} · compared with {previous.id} ({previous.title})"


def cards(report: Report, pick: str, figures: tuple[Figure, ...]) -> tuple[Card, ...]:
    """One card per figure of the one-row tables ``summary`` or ``abandonment``."""
    now, before = _row(report.current, pick), _row(report.previous, pick)
    money_ok = report.log.has_money
    made = []
    for figure in figures:
        if figure.kind == "money" and not money_ok:
            continue
        change = Change(before[figure.column], now[figure.column], figure.kind)
        made.append(
            Card(
                label=figure.label,
                value=value_text(change.current, figure.kind),
                arrow=arrow(change),
                delta=delta_text(change),
                relative=relative_text(change),
                tone=tone(change, figure),
                previous=value_text(change.previous, figure.kind),
            )
        )
    return tuple(made)


def _row(figures: PeriodFigures, pick: str) -> dict[str, Any]:
    table = figures.summary.table if pick == "summary" else figures.abandonment.total
    return table.row(0, named=True)


def headline_section(report: Report) -> Section:
    unit = report.spec.period
    return Section(
        "headline",
        "Headline",
        lede=f"Everything that happened in the {unit}: sessions and orders are built from its "
        "events only. Arrows compare with the previous "
        f"{unit} ({report.previous.period.id}); rates change by percentage points (pp).",
        cards=cards(report, "summary", HEADLINE),
    )


STAGE_HEADERS = (
    "Stage",
    "Sessions",
    "Share",
    "Share change",
    "Bounces",
    "Users at or past it",
    "Of users",
    "Of users change",
)


def funnel_section(report: Report) -> Section:
    now, before = report.current.funnel, report.previous.funnel
    if now is None or before is None:
        return Section("funnel", "Funnel", notes=("Not enough funnel events in the data.",))
    spec, period = now.spec, report.period
    lede = (
        f"Users whose first step ({spec.steps[0]}) happened in {period.id}, and how many went on "
        f"through each next step, in order, within {in_words(spec.window)}"
        f" (steps after the {report.spec.period} ends count)."
    )
    previous_rows = before.table.rows_by_key("step", named=True, unique=True)
    rows = tuple(
        _funnel_row(step, previous_rows.get(step["step"], {}))
        for step in now.table.iter_rows(named=True)
    )
    headers = (
        "Step",
        "Event",
        f"Users {report.previous.period.id}",
        f"Users {period.id}",
        "Change",
        "From previous step",
        "Overall",
        "Change overall",
        "Median time from previous",
        "Median time from first",
        "In progress",
    )
    caption = "Bars: users reaching each step; labels: users · conversion from the previous step."
    return Section("funnel", "Funnel", lede, tables=(Table(headers, rows, 2),), caption=caption)


def _funnel_row(step: dict[str, Any], earlier: dict[str, Any]) -> tuple[str, ...]:
    users = Change(earlier.get("units"), step["units"])
    overall = Change(earlier.get("conversion_overall"), step["conversion_overall"], "rate")
    return (
        str(step["step"]),
        step["event"],
        count(users.previous),
        count(users.current),
        f"{arrow(users)} {relative_text(users)}".strip(),
        percent(step["conversion_from_previous"]),
        percent(overall.current),
        f"{arrow(overall)} {delta_text(overall)}".strip(),
        format_duration(step["median_seconds_from_previous"]) or "–",
        format_duration(step["median_seconds_from_first"]) or "–",
        count(step["in_progress"]),
    )


def stages_section(report: Report) -> Section:
    now, before = report.current.stages, report.previous.stages
    rows = tuple(
        _stage_row(stage, before, now.users.rows_by_key("stage", named=True, unique=True))
        for stage in now.sessions.iter_rows(named=True)
    )
    lede = (
        f"Sessions that started in {report.period.id}, by the deepest stage they reached "
        "(awareness → consideration → decision → purchase → retention → advocacy), and users "
        "by the deepest stage over their sessions."
    )
    caption = "Bars: share of sessions whose deepest stage is each stage."
    table = Table(STAGE_HEADERS, rows)
    return Section("stages", "Journey stages", lede, tables=(table,), caption=caption)


def _stage_row(
    stage: dict[str, Any], before: StagesResult, users_now: dict[Any, Any]
) -> tuple[str, ...]:
    name = stage["stage"]
    earlier = before.sessions.filter(pl.col("stage") == name).row(0, named=True)
    earlier_users = before.users.filter(pl.col("stage") == name).row(0, named=True)
    share = Change(earlier["share"], stage["share"], "rate")
    reach = Change(
        earlier_users["conversion_overall"], users_now[name]["conversion_overall"], "rate"
    )
    return (
        name,
        count(stage["sessions"]),
        percent(share.current),
        f"{arrow(share)} {delta_text(share)}".strip(),
        count(stage["bounces"]),
        count(users_now[name]["users"]),
        percent(reach.current),
        f"{arrow(reach)} {delta_text(reach)}".strip(),
    )


def abandonment_section(report: Report) -> Section:
    row = _row(report.current, "abandonment")
    window = in_words(report.spec.recovery_window)
    lede = (
        f"Sessions that added to cart in {report.period.id} (by their first add-to-cart), "
        f"whether they bought, and whether the customer came back to order within {window}."
    )
    if not row["cart_sessions"]:
        return Section(
            "abandonment",
            "Cart abandonment",
            lede,
            sentences=(f"No session added to cart in {report.period.id}.",),
        )
    money_ok = report.log.has_money
    left = f", leaving {money(row['value_at_risk'])} in their carts" if money_ok else ""
    worth = f", worth {money(row['recovered_revenue'])}" if money_ok else ""
    sentence = (
        f"{count(row['abandoned'])} of {count(row['cart_sessions'])} cart sessions ended without "
        f"a purchase{left}; {count(row['recovered'])} of them "
        f"({percent(row['recovery_rate'])}) came back with an order within {window}{worth}."
    )
    if row["recovery_pending"]:
        sentence += f" {count(row['recovery_pending'])} are still inside their recovery window."
    return Section(
        "abandonment",
        "Cart abandonment",
        lede,
        cards=cards(report, "abandonment", ABANDONMENT),
        sentences=(sentence,),
    )


def retention_section(report: Report) -> Section:
    kind = report.spec.period
    lede = (
        f"Customers grouped by the {kind} of their first order (first-time cohorts), and the "
        f"share who ordered again in each {kind} after it, up to {report.period.id}."
    )
    if report.triangle.height == 0:
        return Section("retention", "Retention", lede, sentences=("No orders: no cohorts.",))
    sentences = [s for s in (_returned(report, 1), _returned(report, 2)) if s is not None]
    caption = (
        f"Rows: cohorts by the {kind} of the first order, with their size; columns: {kind}s "
        f"after it. * partial: the data ends inside that {kind}."
    )
    legend = f"Cells: share of the cohort who ordered in that {kind}; * partial: the data ends "
    legend += f"inside that {kind}; blank: not reached yet."
    return Section(
        "retention",
        "Retention",
        lede,
        sentences=tuple(sentences),
        caption=caption,
        legend=legend,
        tables=(retention_table(report),),
    )


def _returned(report: Report, back: int) -> str | None:
    """How the cohort of ``back`` periods ago came back one period later."""
    cohort, returned_in = report.period.shifted(-back), report.period.shifted(1 - back)
    cell = triangle_cell(report.triangle, cohort, 1)
    if cell is None:
        return None
    return (
        f"Of the {count(cell['cohort_size'])} customers whose first order was in {cohort.id}, "
        f"{percent(cell['rate'])} ordered again in {returned_in.id}."
    )


def triangle_cell(triangle: pl.DataFrame, cohort: ReportPeriod, k: int) -> dict[str, Any] | None:
    found = triangle.filter(
        (pl.col("cohort") == cohort.start.isoformat()) & (pl.col("period") == k)
    )
    return found.row(0, named=True) if found.height else None


def retention_table(report: Report) -> Table:
    """The triangle, wide: cohort, size, then the rate of periods 1…N."""
    kind, periods = report.spec.period, report.spec.retention_periods
    rows = []
    for group in report.triangle.partition_by("cohort", maintain_order=True):
        cells = {row["period"]: row for row in group.iter_rows(named=True)}
        first = cells[min(cells)]
        cohort = ReportPeriod(kind, _date(first["cohort"]), report.spec.tz).id
        rates = [_rate_text(cells.get(k)) for k in range(1, periods + 1)]
        rows.append((cohort, count(first["cohort_size"]), *rates))
    headers = ("Cohort", "Customers", *(f"{kind} {k}" for k in range(1, periods + 1)))
    return Table(headers, tuple(rows))


def _rate_text(cell: dict[str, Any] | None) -> str:
    if cell is None or cell["rate"] is None:
        return ""
    return percent(cell["rate"]) + ("*" if cell["partial"] else "")


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def trend_section(report: Report) -> Section:
    """The last periods up to the reported one, with the reported period's anomalies in words."""
    kind, tz = report.spec.period, report.spec.tz
    funnel_rows = report.trend.funnel
    overall: dict[Any, float | None] = {}
    marks: dict[Any, str] = {}
    if funnel_rows is not None:
        last = funnel_rows["step"].max()
        overall = dict(
            funnel_rows.filter(pl.col("step") == last)
            .select("period", "conversion_overall")
            .iter_rows()
        )
        for period, anomaly in funnel_rows.select("period", "anomaly").iter_rows():
            if anomaly in _MARKS:
                marks[period] = marks.get(period, "") + _MARKS[anomaly]
    money_ok = report.log.has_money
    headers = (
        kind.capitalize(),
        "Funnel conversion",
        "Sessions",
        "Session conversion",
        "Orders",
        *(("Revenue",) if money_ok else ()),
    )
    rows = tuple(
        (
            ReportPeriod(kind, row["period"], tz).id,
            f"{percent(overall.get(row['period']))} {marks.get(row['period'], '')}".strip(),
            count(row["sessions"]),
            percent(row["session_conversion_rate"]),
            count(row["orders"]),
            *((money(row["revenue"]),) if money_ok else ()),
        )
        for row in report.trend.summary.iter_rows(named=True)
    )
    return Section(
        "trend",
        f"The last {len(rows)} {kind}s",
        lede=f"Each {kind} on its own: the default funnel of the users who entered it (overall "
        "conversion to its last step) and the headline figures of its events.",
        sentences=tuple(_anomaly_sentences(report)),
        tables=(Table(headers, rows),),
        legend="▼/▲: a step's conversion from the previous step was unusually low/high against "
        f"the 4 earlier {kind}s not flagged (pooled two-proportion z-test, alpha 0.01).",
    )


_MARKS = {"low": "▼", "high": "▲"}


def _anomaly_sentences(report: Report) -> list[str]:
    rows = report.trend.funnel
    if rows is None:
        return ["No funnel: not enough funnel events in the data."]
    start, kind = report.period.start, report.spec.period
    flagged = rows.filter(
        (pl.col("period") == start) & pl.col("anomaly").is_in(["low", "high"])
    ).iter_rows(named=True)
    steps = report.trend.funnel_steps
    said = [
        f"{steps[row['step'] - 2]} → {row['event']}: {percent(row['conversion_from_previous'])} "
        f"of users went on, unusually {row['anomaly']} against the earlier {kind}s "
        f"(z = {row['z']:.2f})."
        for row in flagged
    ]
    if said:
        return said
    current = rows.filter(pl.col("period") == start)
    if current["partial"].any():
        window = in_words(report.spec.funnel_window)
        return [
            f"{report.period.id} is not tested yet: its users' {window} to convert run past the "
            "end of the data."
        ]
    if current["anomaly"].is_null().all():
        return [f"No anomaly test for {report.period.id}: too few users or earlier {kind}s."]
    return [f"No anomaly in {report.period.id}: every step converted as in the earlier {kind}s."]


def comparison_section(report: Report) -> Section:
    """``compare`` by the experiment column over the reported period."""
    result = report.comparison
    assert result is not None
    headers = ("Step", "Segment", "Users", "Reached", "Rate", "95% interval", "Diff", "Lift", "p")
    rows = tuple(
        (
            f"{row['step']} {row['event']}",
            f"{row['segment']}{' (control)' if row['control'] else ''}",
            count(row["n"]),
            count(row["x"]),
            percent(row["rate"]),
            f"{percent(row['rate_low'])}–{percent(row['rate_high'])}",
            "" if row["diff"] is None else f"{100 * row['diff']:+.1f} pp",
            "" if row["relative_lift"] is None else f"{row['relative_lift']:+.1%}",
            ("" if row["p_value"] is None else f"{row['p_value']:.3g}")
            + (" ✔" if row["significant"] else ""),
        )
        for row in result.table.iter_rows(named=True)
    )
    winners = result.table.filter(pl.col("significant").fill_null(False))
    sentences = [
        f"{row['segment']} vs {result.control} at {row['event']}: "
        f"{100 * row['diff']:+.1f} pp ({row['relative_lift']:+.1%}), significant."
        for row in winners.iter_rows(named=True)
        if row["relative_lift"] is not None
    ] or [f"No {result.spec.segment} differs significantly from {result.control}."]
    return Section(
        "comparison",
        f"By {result.spec.segment}",
        lede=f"Users who entered the funnel in {report.period.id}, by their {result.spec.segment} "
        f"on the first step: overall conversion to each step against the control "
        f"({result.control}, the largest).",
        sentences=tuple(sentences),
        tables=(Table(headers, rows, 2),),
        legend="✔ significant at 0.05 after Holm–Bonferroni; p needs 30 users in both segments.",
    )
