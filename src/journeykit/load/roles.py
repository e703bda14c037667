"""Column roles: which input column is the user, the timestamp, the event, … (SPEC §2)."""

from dataclasses import dataclass

from journeykit.errors import DataError, UsageError, did_you_mean

ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "user": (
        "user_id",
        "userid",
        "visitorid",
        "visitor_id",
        "user_pseudo_id",
        "distinct_id",
        "customer_id",
        "customerid",
        "household_id",
        "client_id",
        "anonymous_id",
    ),
    "time": (
        "timestamp",
        "event_time",
        "event_timestamp",
        "ts",
        "time",
        "datetime",
        "created_at",
        "transaction_timestamp",
        "order_date",
        "date",
    ),
    "event": ("event", "event_type", "event_name", "behavior_type", "action"),
    "session": (
        "session_id",
        "user_session",
        "ga_session_id",
        "$session_id",
        "sessionid",
        "visit_id",
    ),
    "price": ("price", "unit_price"),
    "quantity": ("quantity", "qty"),
    "revenue": ("revenue", "sales_value", "order_value", "amount"),
    "order": ("order_id", "transaction_id", "transactionid", "basket_id"),
}
"""Candidate names per role, in priority order; compared case-insensitively."""

REQUIRED_ROLES = ("user", "time", "event")

ROLE_FLAGS = {
    "user": "--user-col",
    "time": "--time-col",
    "event": "--event-col",
    "session": "--session-col",
    "price": "--price-col",
    "quantity": "--quantity-col",
    "revenue": "--revenue-col",
    "order": "--order-col",
}

INTERNAL_NAMES = {
    "user": "user",
    "time": "time",
    "event": "event",
    "session": "session",
    "price": "price",
    "quantity": "quantity",
    "revenue": "revenue",
    "order": "order_id",
}
"""Name of each role's column in the normalized frame."""


@dataclass(frozen=True)
class Roles:
    """The input column chosen for each role (``None``: the data has no such column)."""

    columns: dict[str, str | None]

    def source(self, role: str) -> str | None:
        return self.columns.get(role)

    def has(self, role: str) -> bool:
        return self.columns.get(role) is not None


def detect_roles(
    available: list[str],
    overrides: dict[str, str | None],
    *,
    source: str,
    event_optional: bool = False,
) -> Roles:
    """Pick a column for each role: explicit overrides first, then the SPEC's name lists."""
    lowered = {name.lower(): name for name in reversed(available)}
    chosen: dict[str, str | None] = {}
    for role, candidates in ROLE_NAMES.items():
        wanted = overrides.get(role)
        if wanted is not None:
            chosen[role] = _explicit(wanted, role, available, source)
            continue
        chosen[role] = next((lowered[c] for c in candidates if c in lowered), None)
    for role in REQUIRED_ROLES:
        if chosen[role] is None and not (role == "event" and event_optional):
            raise DataError(_missing_message(role, available, source))
    return Roles(chosen)


def _explicit(wanted: str, role: str, available: list[str], source: str) -> str:
    if wanted in available:
        return wanted
    by_case = [name for name in available if name.lower() == wanted.lower()]
    if by_case:
        return by_case[0]
    raise UsageError(
        f"{source}: no column '{wanted}' for {ROLE_FLAGS[role]}{did_you_mean(wanted, available)}; "
        f"columns are: {', '.join(available)}"
    )


def _missing_message(role: str, available: list[str], source: str) -> str:
    what = {"user": "user", "time": "timestamp", "event": "event"}[role]
    hint = f"name it with {ROLE_FLAGS[role]} COLUMN"
    if role == "event":
        hint += " (or use --rows-are purchase for a transaction export with one row per purchase)"
    return (
        f"{source}: no {what} column found (looked for {', '.join(ROLE_NAMES[role][:4])}, …); "
        f"columns are: {', '.join(available)}; {hint}"
    )
