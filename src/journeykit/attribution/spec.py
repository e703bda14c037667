"""What ``journeykit attribution`` computes (SPEC §15), validated."""

from datetime import timedelta
from typing import Literal, cast

from pydantic import field_validator

from journeykit.engine.attribution import MODELS
from journeykit.errors import DataError
from journeykit.journey.spec import Period
from journeykit.load.events import EventLog

Model = Literal["first", "last", "last_non_direct", "linear", "position", "time_decay"]
TOUCH_COLUMNS = (
    "channel",
    "utm_source",
    "source",
    "traffic_source",
    "acquisition_channel",
    "campaign",
    "utm_campaign",
)
"""The touch column when none is named: the first of these the log has (any case)."""
DIRECT = frozenset({"direct", "(direct)", "(none)"})
"""Touch labels (compared in lower case) that ``last_non_direct`` passes over."""


class AttributionSpec(Period):
    """Orders placed in ``[since, until)``, each credited to the touch values (column ``touch``,
    a normalized column name) of its path's sessions under each of ``models``."""

    touch: str
    lookback: timedelta = timedelta(days=30)
    models: tuple[Model, ...] = MODELS  # type: ignore[assignment]
    half_life: timedelta = timedelta(days=7)
    session_gap: timedelta = timedelta(minutes=30)

    @field_validator("half_life")
    @classmethod
    def _positive(cls, half_life: timedelta) -> timedelta:
        if half_life <= timedelta(0):
            raise ValueError("the half-life must be positive")
        return half_life

    @field_validator("models")
    @classmethod
    def _in_order(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        """The models in SPEC order, each once."""
        return tuple(model for model in MODELS if model in models)


def models_of(text: str) -> tuple[Model, ...]:
    """``--model``: ``all`` or one model name."""
    chosen = MODELS if text == "all" else (text,)
    return tuple(cast(Model, model) for model in chosen)


def touch_column(log: EventLog, named: str | None) -> str:
    """The touch column: ``named`` (``--touch`` or the config's), else the first of
    ``TOUCH_COLUMNS`` the log has, in any case; a data error naming ``--touch`` without one."""
    if named is not None:
        return log.column(named, option="--touch")
    by_case = {column.lower(): column for column in log.dimensions}
    for candidate in TOUCH_COLUMNS:
        if candidate in by_case:
            return by_case[candidate]
    columns = ", ".join(log.dimensions) or "none"
    raise DataError(
        f"{log.label}: no touch column (none of {', '.join(TOUCH_COLUMNS)}); name one with "
        f"--touch COL (columns: {columns})"
    )
