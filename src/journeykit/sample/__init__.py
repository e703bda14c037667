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

from journeykit.sample.export import generate, users_for_events, write_sample
from journeykit.sample.params import DEFAULT_PERSONAS, Persona, SampleParams

__all__ = [
    "DEFAULT_PERSONAS",
    "Persona",
    "SampleParams",
    "generate",
    "users_for_events",
    "write_sample",
]
