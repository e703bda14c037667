"""What ``journeykit paths`` computes (SPEC §14), validated."""

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from journeykit.funnel.spec import FunnelSpec, Unit
from journeykit.journey.spec import Period, StageRules

Direction = Literal["after", "before"]


class PathsSpec(BaseModel):
    """Paths from an anchor: the first event named ``anchor`` (event names of the log, joined
    by ``|``; the command line resolves aliases and raw names first), or, with ``dropped_at`` K,
    the chosen attempt's step-(K−1) event of the units of ``funnel`` that stopped there.
    ``direction`` is ``after`` and ``by`` the funnel's for ``dropped_at``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    anchor: str | None = None
    direction: Direction = "after"
    dropped_at: int | None = None
    funnel: FunnelSpec | None = None
    depth: int = Field(default=3, ge=1)
    top: int = Field(default=20, ge=1)
    by: Unit = "user"
    collapse: bool = False
    session_gap: timedelta = timedelta(minutes=30)

    @model_validator(mode="after")
    def _one_anchor(self) -> "PathsSpec":
        if (self.anchor is None) == (self.dropped_at is None):
            raise ValueError("give either an anchor event or dropped_at")
        if (self.funnel is None) != (self.dropped_at is None):
            raise ValueError("a funnel goes with dropped_at, and only with it")
        if self.funnel is not None and self.dropped_at is not None:
            if self.direction != "after" or self.by != self.funnel.by:
                raise ValueError("dropped_at looks after the anchor, by the funnel's unit")
            if not 2 <= self.dropped_at <= len(self.funnel.steps):
                raise ValueError(f"dropped_at must be from 2 to {len(self.funnel.steps)}")
        return self

    @property
    def gap(self) -> timedelta:
        """The inactivity gap of sessions (the funnel's with ``dropped_at``)."""
        return self.funnel.session_gap if self.funnel is not None else self.session_gap

    @property
    def last_step(self) -> str | None:
        """With ``dropped_at`` K: step K − 1's event, the last step the units reached."""
        if self.funnel is None or self.dropped_at is None:
            return None
        return self.funnel.steps[self.dropped_at - 2]


class JourneyMapSpec(Period):
    """The journey map (``paths --stages``): sessions whose first event lies in
    ``[since, until)``, each labelled by its §5 stage under ``rules``."""

    rules: StageRules = Field(default_factory=StageRules)
    session_gap: timedelta = timedelta(minutes=30)
