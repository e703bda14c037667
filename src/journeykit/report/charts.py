"""The report's charts: Vega-Lite specs built with Altair, rendered offline to SVG by vl-convert.

Altair validates each spec against the Vega-Lite schema when it is built; vl-convert runs Vega
in an embedded engine (no browser, no network) and returns SVG text, identical for identical
input. Both are imported on first use, so the command line starts without them.
"""

import re
from typing import TYPE_CHECKING, Any

from journeykit.output.human import percent
from journeykit.periods import ReportPeriod
from journeykit.report.build import Report
from journeykit.report.style import FONT

if TYPE_CHECKING:
    import altair as alt

CURRENT, PREVIOUS = "#2563eb", "#cbd5e1"
WIDTH = 680


def funnel_chart(report: Report) -> str | None:
    """Users per step, this period against the previous one, labelled with step conversion."""
    if report.current.funnel is None or report.previous.funnel is None:
        return None
    rows = []
    for figures in (report.current, report.previous):
        assert figures.funnel is not None
        for step in figures.funnel.table.iter_rows(named=True):
            rows.append(
                {
                    "step": f"{step['step']}. {step['event']}",
                    "period": figures.period.id,
                    "units": step["units"],
                    "label": _step_label(step),
                }
            )
    return to_svg(_paired_bars(rows, report, "units", "users"), "funnel")


def _step_label(step: dict[str, Any]) -> str:
    """``487 · 50.2%``: users, and conversion from the previous step (not on step 1)."""
    if step["step"] == 1:
        return f"{step['units']:,}"
    return f"{step['units']:,} · {percent(step['conversion_from_previous'])}"


def stages_chart(report: Report) -> str:
    """Share of sessions by deepest journey stage, this period against the previous one."""
    rows = [
        {
            "step": stage["stage"],
            "period": figures.period.id,
            "units": stage["share"] or 0.0,
            "label": percent(stage["share"]),
        }
        for figures in (report.current, report.previous)
        for stage in figures.stages.sessions.iter_rows(named=True)
    ]
    return to_svg(_paired_bars(rows, report, "units", "share of sessions", "%"), "stages")


def _paired_bars(
    rows: list[dict[str, Any]], report: Report, field: str, title: str, axis_format: str = ",.0f"
) -> "alt.LayerChart":
    import altair as alt

    periods = [report.period.id, report.previous.period.id]
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        y=alt.Y("step:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
        yOffset=alt.YOffset("period:N", sort=periods),
        x=alt.X(f"{field}:Q", title=title, axis=alt.Axis(format=axis_format, tickCount=5)),
    )
    bars = base.mark_bar(cornerRadiusEnd=2).encode(
        color=alt.Color(
            "period:N",
            sort=periods,
            scale=alt.Scale(domain=periods, range=[CURRENT, PREVIOUS]),
            legend=alt.Legend(title=None, orient="top"),
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#334155").encode(text="label:N")
    return _styled(
        alt.LayerChart(layer=[bars, labels]).properties(width=WIDTH, height=alt.Step(15))
    )


def retention_chart(report: Report) -> str | None:
    """The triangle as a heatmap: a row per cohort, its size, then periods 1…N after it."""
    import altair as alt

    kind, periods = report.spec.period, report.spec.retention_periods
    rows = [_retention_cell(row, kind) for row in report.triangle.iter_rows(named=True)]
    if not rows:
        return None
    rates = [row["rate"] for row in rows if row["column"] != "customers" and row["rate"]]
    top = max(rates, default=1.0)
    columns = ["customers", *(f"{kind} {k}" for k in range(1, periods + 1))]
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=alt.X(
            "column:O",
            sort=columns,
            scale=alt.Scale(domain=columns),
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, ticks=False, domain=False),
        ),
        y=alt.Y("cohort:O", sort=None, title=None, axis=alt.Axis(ticks=False, domain=False)),
    )
    heat = alt.Color("rate:Q", scale=alt.Scale(scheme="blues", domain=[0, top]), legend=None)
    is_size = "datum.column === 'customers'"
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.condition(is_size, alt.value("#f1f5f9"), heat)
    )
    dark = f"datum.column !== 'customers' && datum.rate > {top * 0.6:.6f}"
    ink = alt.condition(dark, alt.value("white"), alt.value("#0f172a"))
    labels = base.mark_text(fontSize=12).encode(text="label:N", color=ink)
    chart = alt.LayerChart(layer=[cells, labels]).properties(
        width=alt.Step(76), height=alt.Step(28)
    )
    return to_svg(_styled(chart), "retention")


def _retention_cell(row: dict[str, Any], kind: str) -> dict[str, Any]:
    """One heatmap cell; period 0 becomes the cohort's size column."""
    cohort = _cohort_id(kind, row["cohort"])
    if row["period"] == 0:
        return {
            "cohort": cohort,
            "column": "customers",
            "rate": None,
            "label": f"{row['cohort_size']:,}",
        }
    label = "" if row["rate"] is None else percent(row["rate"]) + ("*" if row["partial"] else "")
    return {
        "cohort": cohort,
        "column": f"{kind} {row['period']}",
        "rate": row["rate"],
        "label": label,
    }


def _cohort_id(kind: str, label: str) -> str:
    from datetime import date

    return ReportPeriod("week" if kind == "week" else "month", date.fromisoformat(label)).id


def _styled(chart: "alt.LayerChart") -> "alt.LayerChart":
    styled: alt.LayerChart = (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=12,
            titleFontSize=12,
            titleFontWeight="normal",
            titleColor="#475569",
            labelColor="#334155",
            domainColor="#cbd5e1",
            tickColor="#cbd5e1",
            gridColor="#eef2f7",
        )
        .configure_legend(labelFontSize=12)
    )
    return styled


_ID = re.compile(r'\bid="([^"]+)"')


def to_svg(chart: "alt.LayerChart", name: str) -> str:
    """The chart as inline SVG, its ids prefixed with ``name`` so that charts on one page do
    not share gradient or clip ids."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    for identifier in dict.fromkeys(_ID.findall(svg)):
        svg = svg.replace(f'id="{identifier}"', f'id="{name}-{identifier}"')
        svg = svg.replace(f"url(#{identifier})", f"url(#{name}-{identifier})")
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{name}-title" ', 1)
