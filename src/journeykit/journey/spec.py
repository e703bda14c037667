"""What the journey analyses count: stage rules, periods and the three specs (SPEC §5, §6, §7b).

Specs are frozen Pydantic models holding normalized names (event names as they appear in the
loaded log, column names from ``EventLog.column``); the CLI builds them from flags and config.
"""

from datetime import datetime, timedelta
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from journeykit.config import StagesConfig
from journeykit.errors import UsageError, did_you_mean
from journeykit.load.events import EventLog

STAGES = ("awareness", "consideration", "decision", "purchase", "retention", "advocacy")
"""The journey ladder, shallowest first; a stage's code is its index here."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageRules(_Spec):
    """Events that make a session reach each event-defined stage (purchases come from orders)."""

    consideration: tuple[str, ...] = ("product_view", "search")
    decision: tuple[str, ...] = ("add_to_cart", "checkout")
    advocacy: tuple[str, ...] = ("review", "referral", "share")


class Period(_Spec):
    """A half-open time range ``[since, until)``; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    @property
    def bounded(self) -> bool:
        """Whether either end is set."""
        return self.since is not None or self.until is not None

    def contains(self, column: pl.Expr) -> pl.Expr:
        """``column`` (a Datetime expression) lies in the period; null never does."""
        inside = column.is_not_null()
        if self.since is not None:
            inside = inside & (column >= self.since)
        if self.until is not None:
            inside = inside & (column < self.until)
        return inside


class StagesSpec(Period):
    """``journeykit stages``: sessions whose first event lies in the period, by deepest stage."""

    by: Literal["session", "user"] = "session"
    rules: StageRules = StageRules()
    session_gap: timedelta = timedelta(minutes=30)
    rows: bool = False
    """Also return one labelled row per session and per user (``StagesResult.rows``)."""
    ladder: bool = True
    """Count users by deepest stage for the user ladder even when ``by`` is ``session`` (a
    terminal shows both views; machine output of the sessions alone needs no per-user pass)."""

    @property
    def counts_users(self) -> bool:
        """Whether users are counted by deepest stage (the user ladder)."""
        return self.ladder or self.by == "user"


class AbandonmentSpec(Period):
    """``journeykit abandonment``: cart sessions whose first add-to-cart lies in the period."""

    recovery_window: timedelta = timedelta(days=7)
    breakdown: str | None = None
    session_gap: timedelta = timedelta(minutes=30)


class SummarySpec(Period):
    """``journeykit summary``: headline figures over the events inside the period (one row per
    calendar period of ``trend``, in ``tz``)."""

    session_gap: timedelta = timedelta(minutes=30)
    trend: Literal["day", "week", "month"] | None = None
    tz: str = "UTC"


def check_period(since: datetime | None, until: datetime | None) -> None:
    """A usage error when ``--since`` is not before ``--until``."""
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since {since.isoformat()} must be before --until {until.isoformat()}")


def resolve_rules(log: EventLog, config: StagesConfig) -> tuple[StageRules, list[str]]:
    """Stage rules from the config, with each name resolved like a funnel step.

    A name present in the data is kept; a raw name or alias becomes the name the log uses; a
    name that is neither canonical nor present is kept and warned about (it matches nothing).
    """
    warnings: list[str] = []
    resolved = {
        stage: tuple(_resolve(log, stage, name, warnings) for name in getattr(config, stage))
        for stage in ("consideration", "decision", "advocacy")
    }
    return StageRules(**resolved), warnings


def _resolve(log: EventLog, stage: str, name: str, warnings: list[str]) -> str:
    resolved = log.event_name(name)
    if resolved is not None:
        return resolved
    present = set(log.profile.events)
    warnings.append(
        f"stages.{stage}: event '{name}' does not occur in {log.label}"
        f"{did_you_mean(name, present)}; it matches nothing"
    )
    return name
