"""The knobs of the synthetic log: :class:`Persona`, :class:`SampleParams` and their defaults."""

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from journeykit.errors import UsageError

Mix = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Persona:
    """A hidden behaviour profile: its share of users and per-visit probabilities and means."""

    name: str
    share: float  # fraction of users
    churn: float  # probability that a visit is the user's last
    gap_hours: float  # mean extra hours between visits
    bounce_rate: float  # visits that are a single page_view
    views: float  # mean product views in a non-bounce visit (at least 1)
    searches: float  # mean searches in a non-bounce visit
    cart_rate: float  # P(cart | non-bounce visit)
    checkout_rate: float  # P(checkout | cart)
    purchase_rate: float  # P(purchase | checkout)
    extra_line_rate: float  # P(another viewed product also goes to the cart)
    remove_rate: float  # P(such an extra line is removed again)
    recovery_rate: float  # P(the visit after an abandoned cart buys it)
    reorder_rate: float  # P(a customer's browsing visit is a quick re-order)
    price_sensitivity: float  # P(comparing two products and keeping the cheaper)
    loyalty: float  # P(a product view is of the user's favourite product)
    event_gap_seconds: float  # median seconds between events of a visit


# fmt: off
DEFAULT_PERSONAS = (
    #       name          share churn gap_hours bounce views searches cart checkout purchase
    #                     extra_line remove recovery reorder price_sensitivity loyalty gap_seconds
    Persona("bargain_hunter", .30, .12, 48, .25, 7.0, 1.2, .35, .35, .50,
                              .35, .35, .25, .02, .90, .00, 35),
    Persona("brand_loyalist", .15, .08, 72, .15, 2.5, 0.2, .45, .70, .80,
                              .15, .05, .40, .25, .00, .60, 25),
    Persona("impulse_buyer",  .20, .20, 72, .25, 2.0, 0.2, .35, .60, .75,
                              .10, .05, .15, .05, .20, .00, 10),
    Persona("window_shopper", .35, .12, 48, .50, 4.0, 0.5, .06, .25, .50,
                              .20, .10, .05, .00, .30, .00, 30),
)
# fmt: on


@dataclass(frozen=True)
class SampleParams:
    """Every knob of the simulation (the package docstring says which behaviour each drives).

    Defaults: users=2000, days=28, seed=7 (any int >= 0), start=2026-10-05 00:00 UTC (a Monday).
    personas=DEFAULT_PERSONAS: bargain hunters 30% (many views, 82% cart abandonment, cheap
    products), brand loyalists 15% (few views, 56% of carts bought, re-orders), impulse buyers 20%
    (10 s between events, 45% of carts bought), window shoppers 35% (half bounce, rare carts).
    channel_mix (first visit): organic .30, paid_search .25, social .18, direct .12, referral .08,
    email .07; return_channel_mix (later visits): direct .35, email .25, organic .20, paid_search
    .10, social .07, referral .03; channel_stickiness=0.4 keeps the first channel instead.
    device_mix: mobile .58, desktop .35, tablet .07; device_switch_rate=0.1.
    country_mix: US .30, GB .14, DE .13, FR .10, CA .07, ES .07, IT .07, AU .07, NL .05.
    min_session_gap_minutes=45, max_sessions=60 (at most 99), night_skip_rate=0.7.
    products=500, popularity_exponent=1.1, median_price=35.0, price_spread=0.8.
    extra_quantity_rate=0.15, order_line_tie_rate=0.6, tie_rate=0.02.
    recovery_delay_hours=20.0, recovery_email_share=0.6.
    review_rate=0.25, referral_rate=0.06, share_rate=0.015.
    variant_mix: A .5, B .5; variant_lift=0.2 (in every variant but the first, a checkout
    visit buys with (1 + lift) × the persona's purchase_rate, at most 1).
    incident_day=35, incident_days=7, incident_failure_rate=0.5 (from Monday 2026-11-09 to
    Sunday 2026-11-15, half the purchases of visits starting then fail: the visit ends at
    checkout).

    >>> SampleParams(users=100, seed=3).days
    56
    """

    users: int = 2000
    days: int = 56
    seed: int = 7
    start: datetime = datetime(2026, 10, 5, tzinfo=UTC)
    personas: tuple[Persona, ...] = DEFAULT_PERSONAS
    channel_mix: Mix = (("organic", .3), ("paid_search", .25), ("social", .18), ("direct", .12),
                        ("referral", .08), ("email", .07))  # fmt: skip
    return_channel_mix: Mix = (("direct", .35), ("email", .25), ("organic", .2),
                               ("paid_search", .1), ("social", .07), ("referral", .03))  # fmt: skip
    channel_stickiness: float = 0.4
    device_mix: Mix = (("mobile", 0.58), ("desktop", 0.35), ("tablet", 0.07))
    device_switch_rate: float = 0.1
    country_mix: Mix = (("US", .3), ("GB", .14), ("DE", .13), ("FR", .1), ("CA", .07),
                        ("ES", .07), ("IT", .07), ("AU", .07), ("NL", .05))  # fmt: skip
    min_session_gap_minutes: float = 45.0
    max_sessions: int = 60
    night_skip_rate: float = 0.7
    products: int = 500
    popularity_exponent: float = 1.1
    median_price: float = 35.0
    price_spread: float = 0.8
    extra_quantity_rate: float = 0.15
    order_line_tie_rate: float = 0.6
    tie_rate: float = 0.02
    recovery_delay_hours: float = 20.0
    recovery_email_share: float = 0.6
    review_rate: float = 0.25
    referral_rate: float = 0.06
    share_rate: float = 0.015
    variant_mix: Mix = (("A", 0.5), ("B", 0.5))
    variant_lift: float = 0.2
    incident_day: float = 35.0
    incident_days: float = 7.0
    incident_failure_rate: float = 0.5

    def __post_init__(self) -> None:
        sizes = (self.users, self.days, self.products, self.max_sessions)
        if min(sizes) < 1 or self.seed < 0 or self.users >= 10**8 or self.max_sessions > 99:
            raise UsageError("sample: need 1 <= users < 10^8, 1 <= max_sessions <= 99, seed >= 0")
        mixes = (self.channel_mix, self.return_channel_mix, self.device_mix, self.country_mix,
                 self.variant_mix)  # fmt: skip
        for mix in (*mixes, tuple((p.name, p.share) for p in self.personas)):
            if not mix or min(w for _, w in mix) < 0 or sum(w for _, w in mix) <= 0:
                raise UsageError("sample: every mix needs weights >= 0 with a positive sum")
        owners: list[Any] = [self, *self.personas]
        rate_like = ("rate", "share", "stickiness", "sensitivity", "loyalty", "churn")
        rates = [
            getattr(o, f.name) for o in owners for f in fields(o) if f.name.endswith(rate_like)
        ]
        if self.start.tzinfo is None or not all(0 <= rate <= 1 for rate in rates):
            raise UsageError("sample: start needs a time zone; rates must be within [0, 1]")
        if self.variant_lift < -1 or min(self.incident_day, self.incident_days) < 0:
            raise UsageError("sample: variant_lift >= -1; incident_day and incident_days >= 0")

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel the log can hold (``email`` is used by cart recovery)."""
        return tuple(dict.fromkeys([*names(self.channel_mix + self.return_channel_mix), "email"]))


def names(mix: Mix) -> list[str]:
    return [name for name, _ in mix]
