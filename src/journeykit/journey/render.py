"""The journey analyses for people: stage bars, money-first abandonment, a headline panel."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from journeykit.durations import format_duration
from journeykit.journey.abandonment import AbandonmentResult
from journeykit.journey.spec import Period
from journeykit.journey.stages import StagesResult
from journeykit.journey.summary import SummaryResult
from journeykit.output.human import bar, count, money, percent, plural

NO_MONEY = "no price or revenue column: money figures are not available"


def period_label(period: Period) -> str:
    """`` · 2019-10-01 → 2019-10-08`` for a period, ``""`` for the whole log."""
    if period.since is None and period.until is None:
        return ""
    since = _when(period.since).removesuffix(" 00:00:00") if period.since else "start"
    until = _when(period.until).removesuffix(" 00:00:00") if period.until else "end"
    return f" · {since} → {until}"


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _ratio(numerator: int | float | None, denominator: int | float | None) -> float | None:
    return None if not denominator or numerator is None else numerator / denominator


# --- stages -------------------------------------------------------------------------------------


def render_stages(result: StagesResult) -> Group:
    """Both views: the session distribution and the user ladder (the one asked for first)."""
    views = [_session_view(result), _user_view(result)]
    if result.spec.by == "user":
        views.reverse()
    return Group(*views[0], Text(""), *views[1])


def _session_view(result: StagesResult) -> list[RenderableType]:
    table = result.sessions
    grid = Table(
        title=f"Sessions by deepest journey stage{period_label(result.spec)}",
        title_justify="left",
        title_style="bold",
    )
    for name in ("stage", "sessions", "share", ""):
        grid.add_column(name, justify="left" if name in ("stage", "") else "right")
    grid.add_column("bounces", justify="right")
    grid.add_column("bounce rate", justify="right")
    for row in table.iter_rows(named=True):
        grid.add_row(
            row["stage"],
            count(row["sessions"]),
            percent(row["share"]),
            bar(row["share"]),
            count(row["bounces"]),
            percent(_ratio(row["bounces"], row["sessions"])),
        )
    sessions, bounces = int(table["sessions"].sum()), int(table["bounces"].sum())
    note = (
        f"Bounce rate {percent(result.bounce_rate)}: {bounces:,} of {sessions:,} sessions "
        "are a single event."
    )
    return [grid, Text(note, style="dim")]


def _user_view(result: StagesResult) -> list[RenderableType]:
    grid = Table(
        title=f"User journey ladder{period_label(result.spec)}",
        title_justify="left",
        title_style="bold",
    )
    for name in ("stage", "users", "reached", "overall", "from prev."):
        grid.add_column(name, justify="left" if name in ("stage", "reached") else "right")
    for index, row in enumerate(result.users.iter_rows(named=True)):
        grid.add_row(
            row["stage"],
            count(row["users"]),
            bar(row["conversion_overall"]),
            percent(row["conversion_overall"]),
            percent(row["conversion_from_previous"]) if index else "",
        )
    note = (
        "Each row counts the users who got at least that far (deepest stage over their sessions)."
    )
    return [grid, Text(note, style="dim")]


# --- abandonment --------------------------------------------------------------------------------


def render_abandonment(result: AbandonmentResult) -> Group:
    """The money first (left in carts, came back), then the counts, then the breakdown."""
    total = result.total.row(0, named=True)
    window = format_duration(result.spec.recovery_window.total_seconds())
    if not total["cart_sessions"] and not total["checkout_sessions"]:
        return Group(Text(f"No add-to-cart or checkout in these sessions{_period(result)}."))
    parts: list[RenderableType] = [
        Panel(
            _headline(total, window, has_money=result.has_money),
            title=f"Cart abandonment{period_label(result.spec)}",
            title_align="left",
            expand=False,
        ),
        _counts(total, window),
    ]
    if result.spec.breakdown is not None:
        parts.append(_breakdown(result))
    if not result.has_money:
        parts.append(Text(NO_MONEY, style="dim"))
    return Group(*parts)


def _period(result: AbandonmentResult) -> str:
    label = period_label(result.spec)
    return f" ({label.removeprefix(' · ')})" if label else ""


def _headline(total: dict[str, Any], window: str, *, has_money: bool) -> Text:
    abandoned, recovered = total["abandoned"], total["recovered"]
    text = Text()
    if has_money:
        text.append(money(total["value_at_risk"]), style="bold")
        text.append(f" left in {plural(abandoned, 'abandoned cart')}\n")
        text.append(money(total["recovered_revenue"]), style="bold green")
        text.append(f" came back: {plural(recovered, 'cart')} recovered within {window}")
    else:
        text.append(f"{abandoned:,}", style="bold")
        text.append(f" of {plural(total['cart_sessions'], 'cart session')} abandoned\n")
        text.append(f"{recovered:,}", style="bold green")
        text.append(f" recovered by a later order within {window}")
    text.append(f" ({percent(total['recovery_rate'])})")
    if total["recovery_pending"]:
        pending = plural(total["recovery_pending"], "abandoned cart")
        text.append(f"\n{pending} still inside the recovery window (may yet come back)")
    return text


def _counts(total: dict[str, Any], window: str) -> Table:
    grid = Table(show_header=True, box=None, padding=(0, 2))
    grid.add_column("")
    grid.add_column("sessions", justify="right")
    grid.add_column("rate", justify="right")
    grid.add_column("", style="dim")
    rows = [
        ("cart sessions", "cart_sessions", None, "with an add-to-cart"),
        ("converted", "converted", "cart_sessions", "purchase at or after the first cart"),
        ("abandoned", "abandoned", "cart_sessions", "no purchase after the cart"),
        ("recovered", "recovered", "abandoned", f"ordered later, within {window}"),
        ("recovery pending", "recovery_pending", "abandoned", "window still open at data end"),
        ("checkout sessions", "checkout_sessions", None, "with a checkout"),
        ("checkout abandoned", "checkout_abandoned", "checkout_sessions", "no purchase after it"),
    ]
    for label, column, over, meaning in rows:
        rate = percent(_ratio(total[column], total[over])) if over else ""
        grid.add_row(label, count(total[column]), rate, meaning)
    return grid


BREAKDOWN_ROWS = 20
"""Breakdown values shown on a terminal (machine formats carry them all)."""

_BREAKDOWN_CELLS: tuple[tuple[str, bool, Callable[[dict[str, Any]], str]], ...] = (
    ("cart sessions", False, lambda r: count(r["cart_sessions"])),
    ("abandoned", False, lambda r: count(r["abandoned"])),
    ("rate", False, lambda r: percent(r["abandonment_rate"])),
    ("value at risk", True, lambda r: money(r["value_at_risk"])),
    ("", False, lambda r: bar(r["leak"], 12) if r["leak"] is not None else ""),
    ("recovered", False, lambda r: count(r["recovered"])),
    ("recovered revenue", True, lambda r: money(r["recovered_revenue"])),
    ("pending", False, lambda r: count(r["recovery_pending"])),
)


def _breakdown(result: AbandonmentResult) -> Table:
    """One row per value, the biggest leak first (money, else abandoned carts), and a total."""
    column, total = result.spec.breakdown or "", result.total
    key = "value_at_risk" if result.has_money else "abandoned"
    table = result.table.sort([key, column], descending=[True, False], nulls_last=True)
    cells = [c for c in _BREAKDOWN_CELLS if result.has_money or not c[1]]
    grid = Table(title=f"By {column}, biggest leak first", title_justify="left", title_style="bold")
    grid.add_column(column)
    for header, _, _ in cells:
        grid.add_column(header, justify="left" if header == "" else "right")
    biggest = total[key][0] or 0
    for row in table.head(BREAKDOWN_ROWS).iter_rows(named=True):
        row["leak"] = _ratio(row[key], biggest) or 0.0
        grid.add_row(str(row[column]), *(cell(row) for _, _, cell in cells))
    if table.height > BREAKDOWN_ROWS:
        more = table.height - BREAKDOWN_ROWS
        grid.add_row(f"… {plural(more, 'more value')}", style="dim")
    grid.add_section()
    grid.add_row(
        "total", *(cell(total.row(0, named=True) | {"leak": None}) for _, _, cell in cells)
    )
    return grid


# --- summary ------------------------------------------------------------------------------------


def render_summary(result: SummaryResult) -> Panel | Table:
    """A compact panel: traffic, conversion, customers and money (a KPI table per period with
    a trend)."""
    if result.spec.trend is not None:
        return _summary_trend(result)
    f = result.figures()
    groups = [
        [
            ("events", count(f["events"])),
            ("users", count(f["users"])),
            ("sessions", count(f["sessions"])),
            ("bounce rate", percent(f["bounce_rate"])),
        ],
        [
            ("sessions with purchase", count(f["sessions_with_purchase"])),
            ("session conversion", percent(f["session_conversion_rate"])),
            ("cart abandonment", percent(f["cart_abandonment_rate"])),
            ("orders", count(f["orders"])),
        ],
        [
            ("revenue", money(f["revenue"])),
            ("average order value", money(f["average_order_value"])),
            ("customers", count(f["customers"])),
            ("repeat customers", f"{count(f['repeat_customers'])}"),
            ("repeat purchase rate", percent(f["repeat_purchase_rate"])),
        ],
    ]
    grid = Table.grid(padding=(0, 2))
    for _ in groups:
        grid.add_column(style="dim")
        grid.add_column(justify="right", style="bold")
    for index in range(max(len(g) for g in groups)):
        cells = [g[index] if index < len(g) else ("", "") for g in groups]
        grid.add_row(*(part for cell in cells for part in cell))
    return Panel(
        grid,
        title=f"Summary{period_label(result.spec)}",
        title_align="left",
        subtitle=_span(f),
        subtitle_align="left",
        expand=False,
    )


def _span(f: dict[str, Any]) -> str:
    dropped = f["dropped_rows"]
    span = f"{_when(f['first_event'])} → {_when(f['last_event'])} UTC"
    return span + (f" · {dropped:,} rows dropped" if dropped else "")


_TREND_KPIS = (
    ("users", "users", count),
    ("sessions", "sessions", count),
    ("bounce", "bounce_rate", percent),
    ("conversion", "session_conversion_rate", percent),
    ("cart aband.", "cart_abandonment_rate", percent),
    ("orders", "orders", count),
    ("revenue", "revenue", money),
    ("AOV", "average_order_value", money),
    ("customers", "customers", count),
    ("repeat", "repeat_purchase_rate", percent),
)


def _summary_trend(result: SummaryResult) -> Table:
    """One row of headline figures per period."""
    grid = Table(
        title=f"Summary by {result.spec.trend}{period_label(result.spec)}",
        title_justify="left",
        title_style="bold",
    )
    grid.add_column(result.spec.trend or "period")
    for label, _, _ in _TREND_KPIS:
        grid.add_column(label, justify="right")
    for row in result.table.iter_rows(named=True):
        grid.add_row(str(row["period"]), *(show(row[key]) for _, key, show in _TREND_KPIS))
    return grid
