"""What ``journeykit segments`` computes (SPEC §16), validated."""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

By = Literal["lifecycle", "rfm", "custom"]
LIFECYCLE = ("repeat_buyer", "first_time_buyer", "engaged_visitor", "first_time_visitor")
RFM = ("champions", "loyal", "new", "promising", "at_risk", "hibernating", "lost")
OTHER = "other"


class SegmentsSpec(BaseModel):
    """Users as of ``at`` (only events before it; ``None``: the whole log, now = its last
    event), in the segments of ``by``; ``custom``: (name, SQL expression) in file order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: By = "lifecycle"
    at: datetime | None = None
    session_gap: timedelta = timedelta(minutes=30)
    custom: tuple[tuple[str, str], ...] = ()
