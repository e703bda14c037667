"""The report's touchpoint section (SPEC §15): revenue share by model, and its change."""

from journeykit.attribution.render import LABELS, disagreement, lookback_text, touch_order
from journeykit.attribution.run import AttributionResult
from journeykit.output.human import count, percent
from journeykit.report.build import Report
from journeykit.report.compare import Change, arrow, delta_text
from journeykit.report.content import Section, Table


def touchpoints_section(report: Report) -> Section:
    now, before = report.current.touchpoints, report.previous.touchpoints
    title = "Touchpoints"
    if now is None or before is None:
        note = (
            "No touch column (channel, utm_source, source, …): name one with [columns] touch "
            "in journeykit.toml."
        )
        return Section("touchpoints", title, notes=(note,))
    if now.table.is_empty():
        return Section("touchpoints", title, notes=(f"No orders in {report.period.id}.",))
    share = "revenue_share" if now.has_money else "conversion_share"
    what = share.removesuffix("_share")
    lede = (
        f"The {count(now.orders)} orders of {report.period.id}, credited to the {now.spec.touch} "
        f"of the sessions in their {lookback_text(now)} path under each model: the share of "
        f"{what}, and its change from {report.previous.period.id}."
    )
    models = list(dict.fromkeys(now.table["model"]))
    headers = (now.spec.touch, *(LABELS[model] for model in models))
    earlier = _shares(before, share)
    rows = tuple(
        (
            touch,
            *(_cell(_shares(now, share).get((m, touch)), earlier.get((m, touch))) for m in models),
        )
        for touch in touch_order(now.table, models)
    )
    sentences = (disagreement(now.table, share, models),)
    table = Table(headers, rows)
    return Section("touchpoints", title, lede, sentences=sentences, tables=(table,))


def _shares(result: AttributionResult, share: str) -> dict[tuple[str, str], float | None]:
    return {(row["model"], row["touch"]): row[share] for row in result.table.iter_rows(named=True)}


def _cell(now: float | None, before: float | None) -> str:
    change = Change(before, now, "rate")
    return f"{percent(now)} {arrow(change)} {delta_text(change)}".strip()
