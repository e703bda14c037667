"""The validated description of one funnel, and how step names are resolved against a log."""

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeykit.config import Config, FunnelConfig
from journeykit.durations import parse_duration
from journeykit.errors import DataError, UsageError, did_you_mean
from journeykit.load.events import EventLog
from journeykit.load.vocabulary import DEFAULT_FUNNEL
from journeykit.periods import Period

Order = Literal["ordered", "strict", "any"]
Unit = Literal["user", "session"]


class FunnelSpec(BaseModel):
    """What to count. Column names are normalized names (see ``EventLog.column``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[str, ...]
    window: timedelta = timedelta(days=7)
    by: Unit = "user"
    order: Order = "ordered"
    breakdown: str | None = None
    hold: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    complete_only: bool = False
    session_gap: timedelta = timedelta(minutes=30)
    trend: Period | None = None
    """One funnel per calendar period of entry (SPEC §11)."""
    tz: str = "UTC"
    """The zone of the trend's calendar."""
    baseline: int = Field(default=4, ge=1)
    """Earlier periods (not flagged) an anomaly test compares with."""
    alpha: float = Field(default=0.01, gt=0, lt=1)

    @field_validator("steps")
    @classmethod
    def _at_least_two(cls, steps: tuple[str, ...]) -> tuple[str, ...]:
        if len(steps) < 2:
            raise ValueError("a funnel needs at least two steps")
        return steps


def resolve_steps(log: EventLog, requested: list[str] | None) -> tuple[tuple[str, ...], list[str]]:
    """Steps as event names of ``log``, and warnings for canonical steps absent from it.

    With no request, the default chain restricted to the events present in the data.
    """
    present = set(log.profile.events)
    if requested is None:
        steps = tuple(step for step in DEFAULT_FUNNEL if step in present)
        if len(steps) < 2:
            raise DataError(
                f"{log.label}: only {len(steps)} of the default funnel events "
                f"({', '.join(DEFAULT_FUNNEL)}) occur; choose steps with --steps "
                f"(events found: {', '.join(sorted(present)) or 'none'})"
            )
        return steps, []
    steps = tuple(_resolve_one(log, name.strip()) for name in requested)
    if len(steps) < 2:
        raise UsageError(
            "--steps: a funnel needs at least two steps, e.g. --steps view,cart,purchase"
        )
    missing = [s for s in dict.fromkeys(steps) if s not in present]
    return steps, [f"step '{s}' does not occur in {log.label}: it counts 0" for s in missing]


def _resolve_one(log: EventLog, name: str) -> str:
    resolved = log.event_name(name)
    if resolved is None:
        raise log.unknown_event(name, option="--steps")
    return resolved


def build_spec(
    log: EventLog,
    config: Config,
    *,
    steps: str | None,
    name: str | None,
    window: str | None,
    by: Unit | None,
    order: Order | None,
    **rest: Any,
) -> tuple[FunnelSpec, list[str]]:
    """A ``FunnelSpec`` from command-line values, filling gaps from a named funnel in the config.

    ``rest`` holds ``breakdown``/``hold`` (input column names) and the remaining spec fields.
    """
    named = _named_funnel(config, name)
    requested = steps.split(",") if steps else (list(named.steps) if named else None)
    resolved, warnings = resolve_steps(log, requested)
    window_text = window or (named.window if named else None) or "7d"
    for option in ("breakdown", "hold"):
        if rest.get(option) is not None:
            rest[option] = log.column(rest[option], option=f"--{option}")
    spec = FunnelSpec(
        steps=resolved,
        window=parse_duration(window_text, option="--window"),
        by=by or (named.by if named and named.by else "user"),
        order=order or (named.order if named and named.order else "ordered"),
        **rest,
    )
    return spec, warnings


def _named_funnel(config: Config, name: str | None) -> FunnelConfig | None:
    if name is None:
        return None
    if name not in config.funnels:
        known = ", ".join(sorted(config.funnels)) or "none defined"
        raise UsageError(
            f"--funnel: no funnel '{name}' in the config{did_you_mean(name, set(config.funnels))}"
            f" (funnels: {known})"
        )
    return config.funnels[name]
