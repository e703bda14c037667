"""Changes against the previous period, and how each figure is shown.

A change is presentation, not a metric: ``current − previous`` and ``(current − previous) /
previous`` of two figures the library computed. Rates change by percentage points.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from journeykit.output.human import count, money, percent

Kind = Literal["count", "money", "rate"]


@dataclass(frozen=True)
class Figure:
    """A column of a result table as a reader sees it."""

    column: str
    label: str
    kind: Kind
    higher_is_better: bool | None = True
    """``None``: neither direction is good or bad (shown neutral)."""


HEADLINE = (
    Figure("revenue", "Revenue", "money"),
    Figure("orders", "Orders", "count"),
    Figure("average_order_value", "Average order value", "money"),
    Figure("session_conversion_rate", "Session conversion", "rate"),
    Figure("sessions", "Sessions", "count"),
    Figure("users", "Users", "count"),
    Figure("customers", "Customers", "count"),
    Figure("repeat_purchase_rate", "Repeat purchase rate", "rate"),
    Figure("cart_abandonment_rate", "Cart abandonment", "rate", higher_is_better=False),
    Figure("bounce_rate", "Bounce rate", "rate", higher_is_better=False),
)
ABANDONMENT = (
    Figure("cart_sessions", "Cart sessions", "count", None),
    Figure("abandoned", "Abandoned carts", "count", False),
    Figure("abandonment_rate", "Abandonment rate", "rate", False),
    Figure("checkout_abandonment_rate", "Checkout abandonment", "rate", False),
    Figure("value_at_risk", "Value at risk", "money", False),
    Figure("recovered", "Recovered carts", "count"),
    Figure("recovery_rate", "Recovery rate", "rate"),
    Figure("recovered_revenue", "Recovered revenue", "money"),
)

Number = int | float


@dataclass(frozen=True)
class Change:
    previous: Number | None
    current: Number | None
    kind: Kind = "count"
    """How the change is shown; its direction is judged at that precision."""

    @property
    def absolute(self) -> Number | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous

    @property
    def relative(self) -> float | None:
        """``None`` when there is nothing to compare with (no previous value, or 0)."""
        if self.absolute is None or not self.previous:
            return None
        return self.absolute / abs(self.previous)

    @property
    def shown(self) -> float | None:
        """The absolute change as shown: rates in points with 1 decimal, money with 2."""
        delta = self.absolute
        if delta is None:
            return None
        if self.kind == "rate":
            return round(delta * 100, 1)
        return round(delta, 2 if self.kind == "money" else 0)

    @property
    def direction(self) -> int:
        """1 up, −1 down, 0 unchanged (as shown) or unknown."""
        delta = self.shown
        return 0 if not delta else (1 if delta > 0 else -1)


def value_text(value: Number | None, kind: Kind) -> str:
    """``1,234``, ``1,234.50`` or ``12.3%`` (``–`` when there is no value)."""
    if value is None:
        return "–"
    if kind == "rate":
        return percent(value)
    return money(value) if kind == "money" else count(value)


def delta_text(change: Change) -> str:
    """``+1.2 pp`` for rates, ``+1,234.50`` / ``−12`` otherwise; ``–`` when unknown."""
    delta = change.shown
    if delta is None:
        return "–"
    sign = {1: "+", -1: "−", 0: "±"}[change.direction]
    size = abs(delta)
    if change.kind == "rate":
        return f"{sign}{size:.1f} pp"
    return sign + (money(size) if change.kind == "money" else count(size))


def relative_text(change: Change) -> str:
    """``+12.3%``, ``−4.0%``; ``–`` when the previous value is missing or 0."""
    relative = change.relative
    if relative is None:
        return "–"
    sign = "+" if relative > 0 else "−" if relative < 0 else "±"
    return f"{sign}{abs(relative):.1%}"


def arrow(change: Change) -> str:
    """``▲`` up, ``▼`` down, ``=`` unchanged, nothing when there is no comparison."""
    if change.absolute is None:
        return ""
    return {1: "▲", -1: "▼", 0: "="}[change.direction]


def tone(change: Change, figure: Figure) -> str:
    """``good``, ``bad`` or ``flat``: the colour of the change."""
    if change.direction == 0 or figure.higher_is_better is None:
        return "flat"
    return "good" if (change.direction > 0) == figure.higher_is_better else "bad"


def in_words(span: timedelta) -> str:
    """``7 days``, ``30 minutes``, ``1 day 12 hours``: a window in a sentence.

    >>> in_words(timedelta(days=1, hours=12))
    '1 day 12 hours'
    """
    seconds, parts = int(span.total_seconds()), []
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}" + ("" if amount == 1 else "s"))
    return " ".join(parts[:2]) or "0 seconds"
