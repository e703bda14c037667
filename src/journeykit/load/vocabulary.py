"""Event names → the canonical vocabulary (SPEC §2), with the "canonical name wins" rule."""

from dataclasses import dataclass

CANONICAL_ALIASES: dict[str, tuple[str, ...]] = {
    "page_view": (
        "pageview",
        "page_view",
        "$pageview",
        "view_page",
        "screen_view",
        "session_start",
        "landing",
    ),
    "product_view": (
        "view",
        "view_item",
        "product_view",
        "product_viewed",
        "pv",
        "detail",
        "item_view",
    ),
    "search": ("search", "view_search_results"),
    "add_to_cart": ("cart", "addtocart", "add_to_cart", "product_added", "added_to_cart"),
    "remove_from_cart": ("remove_from_cart", "removefromcart", "product_removed"),
    "checkout": ("checkout", "begin_checkout", "checkout_started", "initiate_checkout"),
    "purchase": ("purchase", "transaction", "buy", "order_completed", "order", "completed_order"),
    "review": ("review", "write_review"),
    "referral": ("referral", "refer_friend"),
    "share": ("share",),
}

CANONICAL_EVENTS = tuple(CANONICAL_ALIASES)
DEFAULT_FUNNEL = ("page_view", "product_view", "add_to_cart", "checkout", "purchase")


@dataclass(frozen=True)
class EventMapping:
    """How each raw event name found in the data maps to the name journeykit uses."""

    names: dict[str, str]
    """raw name → canonical (or unchanged) name, for every raw name in the data."""
    shadowed: tuple[tuple[str, str], ...]
    """(alias, canonical) pairs kept as they are because the canonical name also occurs."""

    def renamed(self) -> dict[str, str]:
        return {raw: name for raw, name in self.names.items() if raw != name}


def build_mapping(raw_names: list[str], extra: dict[str, list[str]] | None = None) -> EventMapping:
    """Map the raw names of one log; aliases are case-insensitive and yield to canonical names.

    >>> build_mapping(["pv", "cart", "buy"]).names
    {'pv': 'product_view', 'cart': 'add_to_cart', 'buy': 'purchase'}
    >>> build_mapping(["cart", "add_to_cart"]).names
    {'cart': 'cart', 'add_to_cart': 'add_to_cart'}
    """
    aliases = _alias_table(extra or {})
    present = {name.lower() for name in raw_names}
    names: dict[str, str] = {}
    shadowed: list[tuple[str, str]] = []
    for raw in raw_names:
        key = raw.lower()
        canonical = aliases.get(key)
        if canonical is None:
            names[raw] = raw
        elif key != canonical and canonical in present:
            names[raw] = raw
            shadowed.append((raw, canonical))
        else:
            names[raw] = canonical
    return EventMapping(names=names, shadowed=tuple(sorted(shadowed)))


def _alias_table(extra: dict[str, list[str]]) -> dict[str, str]:
    table = {alias: canonical for canonical, group in CANONICAL_ALIASES.items() for alias in group}
    table.update({canonical: canonical for canonical in CANONICAL_EVENTS})
    for canonical, group in extra.items():
        table.update({alias.lower(): canonical for alias in group})
    return table
