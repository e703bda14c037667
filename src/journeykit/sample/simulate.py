"""The vectorised simulation: blocks of users, each with its own random stream, as compact frames.

A compact frame holds codes and cents (``COMPACT``); ``journeykit.sample.export`` decodes it.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from journeykit.errors import UsageError
from journeykit.sample.params import Mix, SampleParams, names

Array = npt.NDArray[Any]
EVENTS = ("page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "checkout",
          "purchase", "review", "referral", "share")  # fmt: skip
PAGE, VIEW, SEARCH, CART, REMOVE, CHECKOUT, PURCHASE, REVIEW, REFERRAL, SHARE = range(10)
BOUNCE, BROWSE, CART_LEFT, CHECKOUT_LEFT, BOUGHT, RECOVERY, REORDER = range(7)  # visit kinds
BLOCK_USERS = 2_000  # users sharing one random stream
_DAY = 86_400.0
_UTC_OFFSET = {"US": -5, "CA": -5, "BR": -3, "GB": 0, "DE": 1, "FR": 1, "ES": 1, "IT": 1, "NL": 1,
               "PL": 1, "IN": 5.5, "JP": 9, "AU": 10}  # fmt: skip
COMPACT = {"user_id": pl.Int64, "visit": pl.Int32, "event_time": pl.Int64, "event": pl.UInt8,
           "product": pl.Int32, "cents": pl.Int32, "quantity": pl.Int16, "channel": pl.UInt8,
           "device": pl.UInt8, "country": pl.UInt8, "variant": pl.UInt8}  # fmt: skip


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
    variant: Array


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
    """Simulates one block of users with its own random stream (see the package docstring)."""

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
                   device[visit], users.country[user], users.variant[user]]  # fmt: skip
        return pl.DataFrame(dict(zip(COMPACT, columns, strict=True)), schema=COMPACT)

    def users(self, count: int) -> tuple[_Users, _Visits]:
        """Users, and their visits that start inside the period, with each visit's kind."""
        params, personas = self.params, self.params.personas
        users = _Users(
            self.draw([p.share for p in personas], count),
            self.draw([weight for _, weight in params.device_mix], count),
            self.draw([weight for _, weight in params.country_mix], count),
            self.channel(params.channel_mix, count),
            self.catalog.draw(self.rng, count),
            self.draw([weight for _, weight in params.variant_mix], count),
        )
        arrival = self.rng.random(count) * params.days * _DAY
        churn = self.rate("churn", users.persona)
        user = np.repeat(
            np.arange(count), np.minimum(self.rng.geometric(churn), params.max_sessions)
        )
        persona, first = users.persona[user], _group_first(user)
        kind = self.kinds(persona, first, users.variant[user] > 0)
        gap = self.rng.exponential(self.rate("gap_hours", persona) * 3600)
        gap += params.min_session_gap_minutes * 60
        back = 3600 + self.rng.exponential(params.recovery_delay_hours * 3600, user.size)
        gap = np.where(kind == RECOVERY, back, gap)
        earliest = _run_cumsum(np.where(first == np.arange(user.size), arrival[user], gap), first)
        incident = (earliest >= params.incident_day * _DAY) & (
            earliest < (params.incident_day + params.incident_days) * _DAY
        )
        failed = (kind == BOUGHT) & incident
        failed &= self.chance(params.incident_failure_rate, user.size)
        kind = np.where(failed, CHECKOUT_LEFT, kind)
        keep = earliest < params.days * _DAY
        return users, _Visits(user[keep], persona[keep], kind[keep], earliest[keep])

    def kinds(self, persona: Array, first: Array, treated: Array) -> Array:
        """What each visit does: bounce, browse, cart left, checkout left, bought, ...
        (``treated``: the user is in a variant other than the first)."""
        size, rate = persona.size, self.rate
        bounce = self.chance(rate("bounce_rate", persona), size)
        cart = ~bounce & self.chance(rate("cart_rate", persona), size)
        checkout = cart & self.chance(rate("checkout_rate", persona), size)
        lift = np.where(treated, 1 + self.params.variant_lift, 1.0)
        buys = np.minimum(rate("purchase_rate", persona) * lift, 1.0)
        bought = checkout & self.chance(buys, size)
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
        utc_offset = np.array([_UTC_OFFSET.get(n, 0) * 3600 for n in names(params.country_mix)])
        local = (params.start.timestamp() + start + utc_offset[users.country[visits.user]]) % _DAY
        night = (local < 7 * 3600) & self.chance(params.night_skip_rate, size)
        push = np.where(night, 7 * 3600 - local + self.rng.exponential(3 * 3600.0, size), 0.0)
        return start + _run_cumsum(push, first)


def _epoch_us(params: SampleParams) -> int:
    return round(params.start.timestamp() * 1_000_000)


def compact_chunks(params: SampleParams, chunk_users: int) -> Iterator[pl.DataFrame]:
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
