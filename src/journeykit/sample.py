"""Synthetic e-commerce event logs for demos, tests and benchmarks (SPEC §10).

Users are simulated in blocks of ``BLOCK_USERS``, each with its own random stream and vectorised
NumPy (no loop over users or events): the rows depend only on the parameters, never on the chunk
size, and 100M events stream in bounded memory. ``write_sample`` writes one file sorted by
(event_time, user_id, the user's own event order): same parameters, same bytes.

Behaviours and the :class:`SampleParams` (or per-persona :class:`Persona`) field driving each:

* Users get a hidden persona (``Persona.share``: bargain hunters, brand loyalists, impulse buyers,
  window shoppers), a device (``device_mix``), a country (``country_mix``) and a first channel
  (``channel_mix``); first visits are spread uniformly over the ``days`` from ``start``.
* Visits (sessions): ``Geometric(churn)`` per user (at most ``max_sessions``), each starting
  ``min_session_gap_minutes`` + Exp(``gap_hours``) after the previous one ends, so a 30-minute
  inactivity rule recovers them; one starting between midnight and 7am local time moves to the
  morning with ``night_skip_rate``; events after the period are dropped. Later visits come from
  ``return_channel_mix`` unless the first channel is kept (``channel_stickiness``);
  ``device_switch_rate`` of visits use another device.
* Flow: ``bounce_rate`` of visits are one page_view; the others add ``searches`` searches and
  ``views`` product views (means), a cart with ``cart_rate`` (one viewed product, plus others with
  ``extra_line_rate`` each, removed again with ``remove_rate``; ``extra_quantity_rate`` of lines
  hold 2-3 items), a checkout with ``checkout_rate`` and a purchase with ``purchase_rate``. Events
  are ``event_gap_seconds`` apart (log-normal median, 1 s to 20 min); ``tie_rate`` of them share
  the previous event's timestamp.
* Products: ``products`` items with Zipf(``popularity_exponent``) popularity and log-normal prices
  (``median_price``, ``price_spread``); price-sensitive personas compare two products and keep the
  cheaper (``price_sensitivity``); loyal ones view their favourite product (``loyalty``).
* Orders: the cart lines left become purchase rows sharing an ``order_id``; a further line shares
  the previous one's timestamp with ``order_line_tie_rate``, else follows 1-5 s later.
* Recovery: the visit after an abandoned cart buys it with ``recovery_rate``, 1 h +
  Exp(``recovery_delay_hours``) later, by email with ``recovery_email_share``.
* Repeat orders: a customer's browsing visit is a quick re-order of the favourite product with
  ``reorder_rate``.
* Advocacy: the visit after an order opens with a review of it with ``review_rate``; an order is
  followed by a referral with ``referral_rate``; ``share_rate`` of product views are shared.
"""

import contextlib
import gzip
import itertools
import math
import tempfile
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from journeykit.errors import UsageError

Array = npt.NDArray[Any]
Mix = tuple[tuple[str, float], ...]
EVENTS = ("page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "checkout",
          "purchase", "review", "referral", "share")  # fmt: skip
PAGE, VIEW, SEARCH, CART, REMOVE, CHECKOUT, PURCHASE, REVIEW, REFERRAL, SHARE = range(10)
BOUNCE, BROWSE, CART_LEFT, CHECKOUT_LEFT, BOUGHT, RECOVERY, REORDER = range(7)  # visit kinds
BLOCK_USERS = 2_000  # users sharing one random stream
DEFAULT_CHUNK_USERS = 200_000
WRITE_CHUNK_USERS = 100_000  # users per chunk that write_sample spills to disk
SLAB_ROWS = 1_000_000  # rows per time slab that write_sample merges and writes at once
_DAY = 86_400.0
_PILOT_USERS = 6_000
_UTC_OFFSET = {"US": -5, "CA": -5, "BR": -3, "GB": 0, "DE": 1, "FR": 1, "ES": 1, "IT": 1, "NL": 1,
               "PL": 1, "IN": 5.5, "JP": 9, "AU": 10}  # fmt: skip
_COMPACT = {"user_id": pl.Int64, "visit": pl.Int32, "event_time": pl.Int64, "event": pl.UInt8,
            "product": pl.Int32, "cents": pl.Int32, "quantity": pl.Int16, "channel": pl.UInt8,
            "device": pl.UInt8, "country": pl.UInt8}  # fmt: skip


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
    """Every knob of the simulation (the module docstring says which behaviour each drives).

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

    >>> SampleParams(users=100, seed=3).days
    28
    """

    users: int = 2000
    days: int = 28
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

    def __post_init__(self) -> None:
        sizes = (self.users, self.days, self.products, self.max_sessions)
        if min(sizes) < 1 or self.seed < 0 or self.users >= 10**8 or self.max_sessions > 99:
            raise UsageError("sample: need 1 <= users < 10^8, 1 <= max_sessions <= 99, seed >= 0")
        mixes = (self.channel_mix, self.return_channel_mix, self.device_mix, self.country_mix)
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

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel the log can hold (``email`` is used by cart recovery)."""
        return tuple(dict.fromkeys([*_names(self.channel_mix + self.return_channel_mix), "email"]))


def _names(mix: Mix) -> list[str]:
    return [name for name, _ in mix]


def _group_first(keys: Array) -> Array:
    """Index of the first row of each row's run of equal ``keys``."""
    new = np.ones(keys.size, dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.maximum.accumulate(np.where(new, np.arange(keys.size), 0))


def _run_cumsum(values: Array, first: Array) -> Array:
    """Cumulative sum of ``values`` that restarts at each run (``first`` from ``_group_first``)."""
    total = np.cumsum(values)
    return total - total[first] + values[first] if values.size else total


@dataclass(frozen=True)
class _Catalog:
    cents: Array  # price of each product
    lookup: Array  # product at each of 2**16 popularity quantiles: a fast inverse CDF

    @classmethod
    def build(cls, params: SampleParams) -> "_Catalog":
        rng = np.random.default_rng([params.seed, 0])
        price = rng.lognormal(math.log(params.median_price), params.price_spread, params.products)
        popularity = rng.permutation(
            np.arange(1.0, params.products + 1) ** -params.popularity_exponent
        )
        quantiles = (np.arange(2**16) + 0.5) / 2**16
        lookup = np.searchsorted(np.cumsum(popularity) / popularity.sum(), quantiles)
        return cls((np.floor(price) * 100 + 99).astype(np.int32), lookup)

    def draw(self, rng: np.random.Generator, size: int) -> Array:
        return self.lookup[rng.integers(0, 2**16, size)]


@dataclass
class _Users:
    persona: Array
    device: Array
    country: Array
    channel: Array
    favourite: Array


@dataclass
class _Visits:
    user: Array
    persona: Array
    kind: Array
    earliest: Array  # seconds into the period, if earlier visits took no time

    def __post_init__(self) -> None:
        self.first = _group_first(self.user)
        self.number = np.arange(self.user.size) - self.first + 1


@dataclass
class _Lines:
    visit: Array
    product: Array
    quantity: Array

    def select(self, mask: Array, shift: int = 0) -> "_Lines":
        return _Lines(self.visit[mask] + shift, self.product[mask], self.quantity[mask])


class _Block:
    """Simulates one block of users with its own random stream (see the module docstring)."""

    def __init__(self, params: SampleParams, catalog: _Catalog, index: int) -> None:
        self.params, self.catalog = params, catalog
        self.rng = np.random.default_rng([params.seed, 1, index])
        self.first_user_id = index * BLOCK_USERS + 1
        self.parts: list[tuple[Array, Array, int, Array, Array]] = []

    def rate(self, name: str, persona: Array) -> Array:
        return np.array([getattr(p, name) for p in self.params.personas], dtype=float)[persona]

    def chance(self, probability: Array | float, size: int) -> Array:
        return self.rng.random(size) < probability

    def draw(self, weights: Array | list[float], size: int) -> Array:
        """Indices into ``weights``, drawn in proportion to them."""
        cumulative = np.cumsum(weights) / np.sum(weights)
        drawn = np.searchsorted(cumulative, self.rng.random(size), side="right")
        return np.minimum(drawn, len(weights) - 1)

    def channel(self, mix: Mix, size: int) -> Array:
        """Channel codes (positions in ``params.channels``) drawn from ``mix``."""
        codes = np.array([self.params.channels.index(name) for name, _ in mix])
        return codes[self.draw([weight for _, weight in mix], size)]

    def add(self, visit: Array, key: Array | float, event: int, product: Array | None = None,
            quantity: Array | None = None) -> None:  # fmt: skip
        """Add events; ``key`` orders them within their visit."""
        product = np.full(visit.size, -1) if product is None else product
        quantity = np.zeros(visit.size, dtype=np.int64) if quantity is None else quantity
        key = np.broadcast_to(np.asarray(key, dtype=float), visit.shape)
        self.parts.append((visit, key, event, product, quantity))

    def simulate(self, count: int) -> pl.DataFrame:
        """``count`` users as a compact frame (codes, cents), in (user, event order) order."""
        users, visits = self.users(count)
        channel, device = self.visit_channels_and_devices(users, visits)
        self.add(np.arange(visits.user.size), 0.0, PAGE)
        self.after_checkout(visits, self.order_lines(users, visits, self.browse(users, visits)))
        visit, event, product, quantity = self.ordered()
        offset = self.offsets(visits, visit, event)
        start = self.starts(users, visits, visit, offset)
        millis = np.round((start[visit] + offset) * 1000).astype(np.int64)
        keep = millis < self.params.days * _DAY * 1000
        visit, user = visit[keep], visits.user[visit[keep]]
        columns = [self.first_user_id + user, visits.number[visit], millis[keep] * 1000
                   + _epoch_us(self.params), event[keep], product[keep],
                   self.catalog.cents[product[keep]], quantity[keep], channel[visit],
                   device[visit], users.country[user]]  # fmt: skip
        return pl.DataFrame(dict(zip(_COMPACT, columns, strict=True)), schema=_COMPACT)

    def users(self, count: int) -> tuple[_Users, _Visits]:
        """Users, and their visits that start inside the period, with each visit's kind."""
        params, personas = self.params, self.params.personas
        users = _Users(
            self.draw([p.share for p in personas], count),
            self.draw([weight for _, weight in params.device_mix], count),
            self.draw([weight for _, weight in params.country_mix], count),
            self.channel(params.channel_mix, count),
            self.catalog.draw(self.rng, count),
        )
        arrival = self.rng.random(count) * params.days * _DAY
        churn = self.rate("churn", users.persona)
        user = np.repeat(
            np.arange(count), np.minimum(self.rng.geometric(churn), params.max_sessions)
        )
        persona, first = users.persona[user], _group_first(user)
        kind = self.kinds(persona, first)
        gap = self.rng.exponential(self.rate("gap_hours", persona) * 3600)
        gap += params.min_session_gap_minutes * 60
        back = 3600 + self.rng.exponential(params.recovery_delay_hours * 3600, user.size)
        gap = np.where(kind == RECOVERY, back, gap)
        earliest = _run_cumsum(np.where(first == np.arange(user.size), arrival[user], gap), first)
        keep = earliest < params.days * _DAY
        return users, _Visits(user[keep], persona[keep], kind[keep], earliest[keep])

    def kinds(self, persona: Array, first: Array) -> Array:
        """What each visit does: bounce, browse, cart left, checkout left, bought, ..."""
        size, rate = persona.size, self.rate
        bounce = self.chance(rate("bounce_rate", persona), size)
        cart = ~bounce & self.chance(rate("cart_rate", persona), size)
        checkout = cart & self.chance(rate("checkout_rate", persona), size)
        bought = checkout & self.chance(rate("purchase_rate", persona), size)
        outcome = [BOUGHT, CHECKOUT_LEFT, CART_LEFT, BOUNCE]
        kind = np.select([bought, checkout, cart, bounce], outcome, BROWSE)
        after_left_cart = np.r_[False, (cart & ~bought)[:-1]] & (first != np.arange(size))
        wants = after_left_cart & self.chance(rate("recovery_rate", persona), size)
        recover = wants & ~np.r_[False, wants[:-1]]
        ordered = bought | recover
        customer = _run_cumsum(ordered, first) - ordered > 0
        reorder = customer & (kind <= BROWSE) & ~recover
        reorder &= self.chance(rate("reorder_rate", persona), size)
        return np.select([recover, reorder], [RECOVERY, REORDER], kind)

    def visit_channels_and_devices(self, users: _Users, visits: _Visits) -> tuple[Array, Array]:
        params, size, channels = self.params, visits.user.size, self.params.channels
        later = self.channel(params.return_channel_mix, size)
        stay = (visits.number == 1) | self.chance(params.channel_stickiness, size)
        channel = np.where(stay, users.channel[visits.user], later)
        by_email = (visits.kind == RECOVERY) & self.chance(params.recovery_email_share, size)
        channel = np.where(by_email, channels.index("email"), channel)
        other = self.draw([weight for _, weight in params.device_mix], size)
        switch = self.chance(params.device_switch_rate, size)
        return channel, np.where(switch, other, users.device[visits.user])

    def browse(self, users: _Users, visits: _Visits) -> _Lines:
        """Searches, product views, shares and carts; returns the cart lines kept."""
        kind, persona, size = visits.kind, visits.persona, visits.user.size
        browsing = (kind >= BROWSE) & (kind <= BOUGHT)
        views = np.where(
            browsing, 1 + self.rng.poisson(np.maximum(self.rate("views", persona) - 1, 0)), 0
        )
        searches = np.where(browsing, self.rng.poisson(self.rate("searches", persona)), 0)
        search = np.repeat(np.arange(size), searches)
        self.add(search, 1 + self.rng.random(search.size), SEARCH)
        view = np.repeat(np.arange(size), views)
        view_key, product = 1 + self.rng.random(view.size), self.products(users, visits, view)
        self.add(view, view_key, VIEW, product)
        shared = self.chance(self.params.share_rate, view.size)
        self.add(view[shared], view_key[shared] + 2e-5, SHARE, product[shared])
        chosen_view = np.floor(self.rng.random(size) * views).astype(np.int64)[view]
        chosen = np.arange(view.size) - _group_first(view) == chosen_view
        extra = self.chance(self.rate("extra_line_rate", persona[view]), view.size)
        line = ((kind >= CART_LEFT) & (kind <= BOUGHT))[view] & (chosen | extra)
        cart = _Lines(view[line], product[line], self.quantities(int(line.sum())))
        self.add(cart.visit, view_key[line] + 1e-5, CART, cart.product, cart.quantity)
        removed = ~chosen[line] & self.chance(
            self.rate("remove_rate", persona[cart.visit]), line.sum()
        )
        gone = cart.select(removed)
        self.add(gone.visit, 2 + self.rng.random(gone.visit.size) / 2, REMOVE, gone.product,
                 gone.quantity)  # fmt: skip
        return cart.select(~removed)

    def products(self, users: _Users, visits: _Visits, view: Array) -> Array:
        size, persona, cents = view.size, visits.persona[view], self.catalog.cents
        first, second = self.catalog.draw(self.rng, size), self.catalog.draw(self.rng, size)
        cheaper = np.where(cents[second] < cents[first], second, first)
        product = np.where(
            self.chance(self.rate("price_sensitivity", persona), size), cheaper, first
        )
        loyal = self.chance(self.rate("loyalty", persona), size)
        return np.where(loyal, users.favourite[visits.user[view]], product)

    def quantities(self, size: int) -> Array:
        more = self.chance(self.params.extra_quantity_rate, size)
        return np.where(more, 2 + self.rng.integers(0, 2, size), 1)

    def order_lines(self, users: _Users, visits: _Visits, cart: _Lines) -> _Lines:
        """Lines bought: carts kept to the end, re-orders of the favourite, recovered carts."""
        reorder = np.flatnonzero(visits.kind == REORDER)
        again = users.favourite[visits.user[reorder]]
        repeat = _Lines(reorder, again, self.quantities(reorder.size))
        self.add(repeat.visit, 1.5, VIEW, repeat.product)
        self.add(repeat.visit, 1.6, CART, repeat.product, repeat.quantity)
        recovered = cart.select(np.r_[visits.kind[1:] == RECOVERY, False][cart.visit], shift=1)
        lead = np.unique(recovered.visit, return_index=True)[1]
        self.add(recovered.visit[lead], 1.5, VIEW, recovered.product[lead])
        lines = [cart.select(visits.kind[cart.visit] == BOUGHT), repeat, recovered]
        merged = _Lines(*(np.concatenate([vars(x)[f] for x in lines]) for f in vars(cart)))
        return merged.select(np.argsort(merged.visit, kind="stable"))

    def after_checkout(self, visits: _Visits, lines: _Lines) -> None:
        """Checkouts, purchase rows, referrals, and reviews in the user's next visit."""
        params, size = self.params, visits.user.size
        self.add(np.flatnonzero(visits.kind >= CHECKOUT_LEFT), 3.0, CHECKOUT)
        rank = np.arange(lines.visit.size) - _group_first(lines.visit)
        self.add(lines.visit, 4 + rank * 1e-3, PURCHASE, lines.product, lines.quantity)
        ordered, lead = np.unique(lines.visit, return_index=True)
        self.add(ordered[self.chance(params.referral_rate, ordered.size)], 5.0, REFERRAL)
        following = np.minimum(ordered + 1, size - 1)
        same_user = (visits.user[following] == visits.user[ordered]) & (ordered + 1 < size)
        review = same_user & self.chance(params.review_rate, ordered.size)
        self.add(following[review], 0.1, VIEW, lines.product[lead][review])
        self.add(following[review], 0.2, REVIEW, lines.product[lead][review])

    def ordered(self) -> tuple[Array, Array, Array, Array]:
        """Every event's (visit, event, product, quantity), sorted by visit and key."""
        visits, keys, events, products, quantities = zip(*self.parts, strict=True)
        visit, key, product, quantity = map(np.concatenate, (visits, keys, products, quantities))
        event = np.repeat(events, [part.size for part in visits])
        order = np.argsort(visit * (1 << 24) + (key * (1 << 20)).astype(np.int64), kind="stable")
        return visit[order], event[order], product[order], quantity[order]

    def offsets(self, visits: _Visits, visit: Array, event: Array) -> Array:
        """Seconds from the start of its visit to each event."""
        params, size = self.params, visit.size
        first = _group_first(visit)
        median = self.rate("event_gap_seconds", visits.persona[visit])
        gap = np.clip(median * self.rng.lognormal(0.0, 0.8, size), 1.0, 20 * 60.0)
        pay = 15 + self.rng.exponential(45.0, size)
        tied = self.chance(params.order_line_tie_rate, size)
        next_line = np.where(tied, 0.0, self.rng.integers(1, 6, size))
        after_purchase = np.r_[False, event[:-1] == PURCHASE]
        gap = np.where(event == PURCHASE, np.where(after_purchase, next_line, pay), gap)
        gap[self.chance(params.tie_rate, size) | (first == np.arange(size))] = 0.0
        return _run_cumsum(gap, first)

    def starts(self, users: _Users, visits: _Visits, visit: Array, offset: Array) -> Array:
        """Seconds into the period at which each visit starts, after earlier ones and the night."""
        params, first, size = self.params, visits.first, visits.user.size
        duration = offset[np.searchsorted(visit, np.arange(size), side="right") - 1]
        start = visits.earliest + _run_cumsum(duration, first) - duration
        utc_offset = np.array([_UTC_OFFSET.get(n, 0) * 3600 for n in _names(params.country_mix)])
        local = (params.start.timestamp() + start + utc_offset[users.country[visits.user]]) % _DAY
        night = (local < 7 * 3600) & self.chance(params.night_skip_rate, size)
        push = np.where(night, 7 * 3600 - local + self.rng.exponential(3 * 3600.0, size), 0.0)
        return start + _run_cumsum(push, first)


def _epoch_us(params: SampleParams) -> int:
    return round(params.start.timestamp() * 1_000_000)


def _id_words(texts: list[str]) -> Array:
    return np.frombuffer("".join(texts).encode(), dtype="<u4")


_ID_HEAD = _id_words([f"s{i:03d}" for i in range(1000)])
_ID_BODY = _id_words([f"{i:04d}" for i in range(10_000)])
_ID_TAIL = _id_words([f"{i // 100}-{i % 100:02d}" for i in range(1000)])


def _visit_ids(compact: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Session ids ``s00000012-03`` (user id, visit number) and, on purchase rows, ``o00000012-03``.

    Written as 12-byte Arrow string views from digit tables: ten times faster than formatting.
    """
    import pyarrow as pa  # type: ignore[import-untyped]

    user, visit = compact["user_id"].to_numpy(), compact["visit"].to_numpy()
    views = np.empty((user.size, 4), dtype=np.uint32)
    views[:, 0] = 12
    views[:, 1] = _ID_HEAD[user // 100_000]
    views[:, 2] = _ID_BODY[user // 10 % 10_000]
    views[:, 3] = _ID_TAIL[user % 10 * 100 + visit]
    orders = views.copy()
    orders[:, 1] -= ord("s") - ord("o")  # the first byte is the lowest
    purchase = pa.py_buffer(np.packbits(compact["event"].to_numpy() == PURCHASE, bitorder="little"))
    return (
        pl.Series(pa.Array.from_buffers(pa.string_view(), user.size, [None, pa.py_buffer(views)])),
        pl.Series(
            pa.Array.from_buffers(pa.string_view(), user.size, [purchase, pa.py_buffer(orders)])
        ),
    )


def _decode(column: str, names: list[str] | tuple[str, ...]) -> pl.Expr:
    return pl.col(column).cat.to(pl.Enum(list(names))).cast(pl.String)


def _to_public(compact: pl.DataFrame, params: SampleParams) -> pl.DataFrame:
    """The export columns, in order and with their dtypes, from a compact frame."""
    event, product = pl.col("event"), pl.col("product").cast(pl.Int64)
    priced = event.is_in([VIEW, CART, REMOVE, PURCHASE])
    session_id, order_id = _visit_ids(compact)
    return compact.select(
        "user_id",
        session_id=pl.lit(session_id),
        event_time=pl.col("event_time").cast(pl.Datetime("us", "UTC")),
        event_type=_decode("event", EVENTS),
        product_id=pl.when(product >= 0).then(product + 10_001),
        price=pl.when(priced).then((pl.col("cents") / 100).round(2)),
        quantity=pl.when(pl.col("quantity") > 0).then(pl.col("quantity").cast(pl.Int64)),
        order_id=pl.lit(order_id),
        channel=_decode("channel", params.channels),
        device=_decode("device", _names(params.device_mix)),
        country=_decode("country", _names(params.country_mix)),
    )


def _compact_chunks(params: SampleParams, chunk_users: int) -> Iterator[pl.DataFrame]:
    """Compact frames of ``chunk_users`` whole users each, in (user, event order) order."""
    if chunk_users < 1:
        raise UsageError("sample: chunk_users must be >= 1")
    catalog, cached = _Catalog.build(params), (-1, pl.DataFrame())
    for low in range(0, params.users, chunk_users):
        high, parts = min(low + chunk_users, params.users), []
        for block in range(low // BLOCK_USERS, (high - 1) // BLOCK_USERS + 1):
            if cached[0] != block:
                count = min(BLOCK_USERS, params.users - block * BLOCK_USERS)
                cached = block, _Block(params, catalog, block).simulate(count)
            parts.append(cached[1])
        chunk = pl.concat(parts)
        begin, end = np.searchsorted(chunk["user_id"].to_numpy(), [low + 1, high + 1])
        yield chunk.slice(int(begin), int(end - begin))


def generate(
    params: SampleParams, chunk_users: int = DEFAULT_CHUNK_USERS
) -> Iterator[pl.DataFrame]:
    """Yield the log in chunks of ``chunk_users`` whole users (rows never depend on it), by time.

    >>> chunks = list(generate(SampleParams(users=300, days=7), chunk_users=100))
    >>> len(chunks), chunks[0].columns[:4]
    (3, ['user_id', 'session_id', 'event_time', 'event_type'])
    """
    for chunk in _compact_chunks(params, chunk_users):
        yield _to_public(chunk.sort("event_time", maintain_order=True), params)


def users_for_events(target_events: int, params: SampleParams) -> int:
    """How many users give about ``target_events`` events with ``params`` (measured on a pilot).

    >>> 3_000 < users_for_events(100_000, SampleParams()) < 6_000
    True
    """
    pilot = replace(params, users=_PILOT_USERS)
    events = sum(chunk.height for chunk in _compact_chunks(pilot, _PILOT_USERS))
    return max(1, round(target_events * _PILOT_USERS / max(events, 1)))


def write_sample(params: SampleParams, out: Path) -> int:
    """Write the log to ``out`` (.parquet, .csv or .csv.gz) sorted by time; return its rows.

    The file appears atomically: written to a temporary file beside ``out``, then renamed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_sample(SampleParams(users=20, days=7), Path(folder) / "events.csv.gz") > 20
    True
    """
    name = out.name.lower()
    fmt = next((f for f in ("csv.gz", "csv", "parquet") if name.endswith("." + f)), None)
    if fmt is None:
        raise UsageError(f"--out {out}: unknown extension; use .parquet, .csv or .csv.gz")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    empty = _to_public(pl.DataFrame(schema=_COMPACT), params)
    try:  # closing() removes the spill folder at once, even on failure
        with contextlib.closing(_sorted_frames(params, out.parent)) as frames:
            if fmt == "parquet":
                rows = _write_parquet(frames, temporary, empty)
            else:
                rows = _write_csv(frames, temporary, gzipped=fmt == "csv.gz")
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return rows


def _sorted_frames(params: SampleParams, spill_to: Path) -> Generator[pl.DataFrame]:
    """The whole log in time order: one chunk as is, or chunks merged slab by slab via disk."""
    chunks = _compact_chunks(params, WRITE_CHUNK_USERS)
    if params.users <= WRITE_CHUNK_USERS:
        yield _to_public(next(chunks).sort("event_time", maintain_order=True), params)
        return
    with tempfile.TemporaryDirectory(prefix=".journeykit-sample-", dir=spill_to) as folder:
        for slab in range(_spill(chunks, params, Path(folder))):
            paths = sorted(Path(folder).glob(f"{slab:06d}-*.arrow"))
            merged = pl.concat([pl.read_ipc(path) for path in paths])
            yield _to_public(merged.sort("event_time", maintain_order=True), params)


def _spill(chunks: Iterator[pl.DataFrame], params: SampleParams, folder: Path) -> int:
    """Write each chunk, cut into time slabs, to ``folder``; return the number of slabs.

    Slab edges are quantiles of the first chunk's times, so each slab holds about SLAB_ROWS rows.
    """
    edges = np.zeros(0, dtype=np.int64)
    for index, chunk in enumerate(chunks):
        times = chunk["event_time"].to_numpy()
        if index == 0:
            slabs = math.ceil(times.size * math.ceil(params.users / WRITE_CHUNK_USERS) / SLAB_ROWS)
            edges = np.quantile(times, np.arange(1, slabs) / slabs, method="lower")
        slab = np.searchsorted(edges, times, side="right")
        order = np.argsort(slab, kind="stable")
        bounds = np.searchsorted(slab[order], np.arange(edges.size + 2)).tolist()
        by_slab = chunk[order]
        for number, (low, high) in enumerate(itertools.pairwise(bounds)):
            path = folder / f"{number:06d}-{index:06d}.arrow"
            by_slab.slice(low, high - low).write_ipc(path, compression="uncompressed")
    return edges.size + 1


def _write_parquet(frames: Iterator[pl.DataFrame], path: Path, empty: pl.DataFrame) -> int:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    rows, newest = 0, pl.CompatLevel.newest()
    with pq.ParquetWriter(
        path,
        empty.to_arrow(compat_level=newest).schema,
        compression="zstd",
        store_schema=False,
        use_dictionary=["event_type", "channel", "device", "country", "order_id"],
        column_encoding={"event_time": "DELTA_BINARY_PACKED"},
        write_statistics=["user_id", "event_time"],
    ) as writer:
        for frame in frames:
            writer.write_table(frame.to_arrow(compat_level=newest))
            rows += frame.height
    return rows


def _write_csv(frames: Iterator[pl.DataFrame], path: Path, *, gzipped: bool) -> int:
    rows, header = 0, True
    with path.open("xb") as raw, contextlib.ExitStack() as stack:
        packed = stack.enter_context(gzip.GzipFile("", "wb", 6, raw, mtime=0)) if gzipped else raw
        handle = cast(IO[bytes], packed)
        for frame in frames:
            frame.write_csv(
                handle,
                include_header=header,
                float_precision=2,
                datetime_format="%Y-%m-%dT%H:%M:%S%.3fZ",
            )
            rows, header = rows + frame.height, False
    return rows
