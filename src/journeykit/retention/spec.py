"""The validated description of one retention table, and how its event names are resolved."""

from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeykit.errors import DataError, UsageError
from journeykit.load.events import EventLog
from journeykit.periods import Period

ANY_EVENT = "any"
"""``--cohort-event any`` / ``--return-event any``: every event counts (new / active users)."""

Mode = Literal["on", "unbounded"]
Value = Literal["users", "revenue"]


class RetentionSpec(BaseModel):
    """What to count (SPEC §7). Event names are names in the normalized log, or ``any``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: Period = "week"
    periods: int = Field(default=8, ge=1, le=1000)
    cohort_event: str = "purchase"
    return_event: str = "purchase"
    mode: Mode = "on"
    value: Value = "users"
    tz: str = "UTC"
    session_gap: timedelta = timedelta(minutes=30)
    """Only used by ``value="revenue"`` on data with no order id (orders are then sessions)."""

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{tz}'") from None
        return tz


def resolve_event(log: EventLog, name: str, option: str) -> str:
    """The event of ``log`` that ``name`` means: itself, its canonical name, or ``any``.

    A canonical event absent from the data resolves to itself (it then counts nothing); a name
    that is neither is a usage error with a did-you-mean.
    """
    name = name.strip()
    resolved = name if name == ANY_EVENT else log.event_name(name)
    if resolved is None:
        raise log.unknown_event(name, option=option, also=(ANY_EVENT,))
    return resolved


def build_spec(
    log: EventLog,
    *,
    cohort_event: str = "purchase",
    return_event: str = "purchase",
    **rest: object,
) -> tuple[RetentionSpec, list[str]]:
    """A ``RetentionSpec`` from command-line values, and warnings about events the data lacks."""
    cohort = resolve_event(log, cohort_event, "--cohort-event")
    returning = resolve_event(log, return_event, "--return-event")
    spec = RetentionSpec.model_validate({"cohort_event": cohort, "return_event": returning, **rest})
    _check_value(log, spec)
    present = log.profile.events
    warnings = []
    if cohort != ANY_EVENT and cohort not in present:
        warnings.append(f"cohort event '{cohort}' does not occur in {log.label}: no cohorts")
    if returning not in (ANY_EVENT, cohort) and returning not in present:
        warnings.append(
            f"return event '{returning}' does not occur in {log.label}: every later period is 0"
        )
    return spec, warnings


def _check_value(log: EventLog, spec: RetentionSpec) -> None:
    """``--value revenue`` counts order values: it needs money, purchases and ``--mode on``."""
    if spec.value != "revenue":
        return
    if spec.return_event != "purchase":
        raise UsageError(
            "--value revenue: revenue comes from orders, so --return-event must be purchase "
            f"(got '{spec.return_event}')"
        )
    if spec.mode != "on":
        raise UsageError(
            "--value revenue takes --mode on (revenue per period; add periods up for a running "
            "total)"
        )
    if not log.has_money:
        raise DataError(
            f"{log.label}: --value revenue needs a price or revenue column (none found); "
            "name one with --price-col or --revenue-col"
        )
