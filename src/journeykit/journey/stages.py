"""``stages(log, spec)``: sessions by deepest journey stage and the user ladder (SPEC §5)."""

from dataclasses import dataclass, replace
from functools import partial

import polars as pl

from journeykit.journey.spec import STAGES, StagesSpec
from journeykit.journey.units import UnitOptions, session_facts
from journeykit.load.events import EventLog

SESSION_COLUMNS = ["stage", "sessions", "share", "bounces"]
USER_COLUMNS = ["stage", "users", "conversion_from_previous", "conversion_overall"]
SESSION_ROW_COLUMNS = ["user", "session", "stage", "first_event", "last_event", "events"]


@dataclass(frozen=True)
class StagesResult:
    """``table`` is ``sessions`` or ``users`` as ``spec.by`` asks; the user ladder is computed
    unless the spec leaves it out (``StagesSpec.counts_users``)."""

    table: pl.DataFrame
    sessions: pl.DataFrame
    counted_users: pl.DataFrame | None
    spec: StagesSpec
    session_rows: pl.DataFrame | None = None
    user_rows: pl.DataFrame | None = None

    @property
    def users(self) -> pl.DataFrame:
        """The user ladder (``USER_COLUMNS``)."""
        if self.counted_users is None:
            raise ValueError("the user ladder was not counted (StagesSpec(ladder=False))")
        return self.counted_users

    @property
    def rows(self) -> pl.DataFrame | None:
        """One labelled row per session (or per user with ``by="user"``) when ``spec.rows``."""
        return self.user_rows if self.spec.by == "user" else self.session_rows

    @property
    def bounce_rate(self) -> float | None:
        """Single-event sessions / sessions (``None`` without sessions)."""
        total = int(self.sessions["sessions"].sum())
        return int(self.sessions["bounces"].sum()) / total if total else None


def stages(log: EventLog, spec: StagesSpec) -> StagesResult:
    """Sessions whose first event lies in ``[spec.since, spec.until)``, by deepest stage.

    Stages are judged on the whole log (an order in the period that is the user's third is a
    repeat order); a user's stage is the deepest over their sessions in the period.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> stages(log, StagesSpec()).table  # doctest: +SKIP
    """
    options = UnitOptions(
        rules=spec.rules,
        session_gap=spec.session_gap,
        session_ids=spec.rows,
        moments=("last_advocacy",),
        money=spec.rows,
    )
    if spec.rows:
        return stages_from_facts(session_facts(log, options), spec, has_money=log.has_money)
    counts = session_facts(log, options, reduce=partial(stage_counts, spec=spec))
    return _result(counts, spec)


def stages_from_facts(facts: pl.DataFrame, spec: StagesSpec, *, has_money: bool) -> StagesResult:
    """The stage tables (and labelled rows with ``spec.rows``) from session facts."""
    result = _result(stage_counts(facts, spec), spec)
    if not spec.rows:
        return result
    selected = facts.filter(spec.contains(pl.col("first_event")))
    sessions = selected.select(*SESSION_ROW_COLUMNS, "orders", "order_value").sort(
        "user", "first_event", "session", nulls_last=True
    )
    users = per_user_stages(selected, has_money=has_money).sort("user")
    return replace(result, session_rows=_labelled(sessions), user_rows=_labelled(users))


def stage_counts(facts: pl.DataFrame | pl.LazyFrame, spec: StagesSpec) -> pl.DataFrame:
    """Partial counts per stage code: ``sessions``, ``bounces`` and (with
    ``spec.counts_users``) ``users`` (at that stage).

    Counts from chunks of whole users add up, so chunks can be reduced to these few rows.
    """
    selected = facts.lazy()
    if spec.bounded:
        selected = selected.filter(spec.contains(pl.col("first_event")))
    by_session = selected.group_by("stage").agg(
        pl.len().cast(pl.Int64).alias("sessions"),
        pl.col("single_event").sum().cast(pl.Int64).alias("bounces"),
    )
    if not spec.counts_users:
        return by_session.collect()
    by_user = (
        selected.group_by("user")
        .agg(pl.col("stage").max())
        .group_by("stage")
        .agg(pl.len().cast(pl.Int64).alias("users"))
    )
    sessions, users = pl.collect_all([by_session, by_user])
    return sessions.join(users, on="stage", how="full", coalesce=True).fill_null(0)


def _result(counts: pl.DataFrame, spec: StagesSpec) -> StagesResult:
    ladder = pl.DataFrame({"stage": pl.Series(range(len(STAGES)), dtype=pl.UInt8)})
    totals = counts.group_by("stage").agg(pl.exclude("stage").sum())
    totals = ladder.join(totals, on="stage", how="left").fill_null(0)
    sessions = session_distribution(totals)
    users = user_ladder(totals) if spec.counts_users else None
    table = users if users is not None and spec.by == "user" else sessions
    return StagesResult(table=table, sessions=sessions, counted_users=users, spec=spec)


def session_distribution(totals: pl.DataFrame) -> pl.DataFrame:
    """``stage, sessions, share, bounces``: shares sum to 1 (null when there are no sessions)."""
    total = pl.col("sessions").sum()
    share = pl.when(total > 0).then(pl.col("sessions") / total).alias("share")
    return _labelled(totals.with_columns(share)).select(SESSION_COLUMNS)


def user_ladder(totals: pl.DataFrame) -> pl.DataFrame:
    """``stage, users, conversion_from_previous, conversion_overall``, counts cumulative.

    ``totals`` holds the users whose deepest stage is each stage; a row counts those at or deeper.
    """
    reached = totals.with_columns(pl.col("users").cum_sum(reverse=True))
    first, previous = pl.col("users").first(), pl.col("users").shift(1)
    is_first = pl.int_range(pl.len()) == 0
    rates = [
        pl.when(is_first)
        .then(pl.when(first > 0).then(1.0))
        .otherwise(pl.when(previous > 0).then(pl.col("users") / previous))
        .alias("conversion_from_previous"),
        pl.when(first > 0).then(pl.col("users") / first).alias("conversion_overall"),
    ]
    return _labelled(reached.with_columns(rates)).select(USER_COLUMNS)


def per_user_stages(sessions: pl.DataFrame, *, has_money: bool) -> pl.DataFrame:
    """One row per user: deepest stage over the sessions given, and their activity."""
    value = pl.col("order_value").sum() if has_money else pl.lit(None, dtype=pl.Float64)
    return sessions.group_by("user").agg(
        pl.col("stage").max(),
        pl.len().cast(pl.Int64).alias("sessions"),
        pl.col("first_event").min(),
        pl.col("last_event").max(),
        pl.col("events").sum().cast(pl.Int64),
        pl.col("orders").sum().cast(pl.Int64),
        value.alias("order_value"),
    )


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Stage codes → stage names."""
    names = pl.Series(STAGES, dtype=pl.String)
    return frame.with_columns(
        pl.col("stage").replace_strict(list(range(len(STAGES))), names, return_dtype=pl.String)
    )
