"""``journey_map(log, spec)``: how users move between journey stages from session to session
(SPEC §14 ``--stages``).

The sequence engine labels every session with its §5 stage (``journeykit.journey.units``); each
chunk of whole users then pairs each user's consecutive sessions, so the counts of the chunks
add up (a user is in one chunk).
"""

from dataclasses import dataclass

import polars as pl

from journeykit.journey.spec import STAGES
from journeykit.journey.units import UnitOptions, session_facts
from journeykit.load.events import EventLog
from journeykit.paths.spec import JourneyMapSpec

MAP_COLUMNS = ["from", "to", "users", "transitions"]
START_NODE, END_NODE = "(start)", "(end)"
_START, _END = -1, len(STAGES)
"""Node codes: stage codes are 0 … len(STAGES) − 1, in ladder order."""


@dataclass(frozen=True)
class JourneyMapResult:
    """``table``: ``from, to, users, transitions``, in ladder order (``(start)`` first,
    ``(end)`` last). ``users``: the users with at least one session in the period."""

    table: pl.DataFrame
    users: int
    spec: JourneyMapSpec

    def moves_from(self) -> list[tuple[str, dict[str, int], int]]:
        """Each node with moves out of it, in ladder order: its moves by target node and their
        total (the rows of a from × to matrix)."""
        rows = []
        for source in [START_NODE, *STAGES]:
            pairs = self.table.filter(pl.col("from") == source).select("to", "transitions")
            moves = dict(pairs.rows())
            if moves:
                rows.append((source, moves, sum(moves.values())))
        return rows

    @staticmethod
    def targets() -> list[str]:
        """The matrix's columns: the stages, then ``(end)``."""
        return [*STAGES, END_NODE]


def journey_map(log: EventLog, spec: JourneyMapSpec) -> JourneyMapResult:
    """The journey map of ``log``: each user's sessions (first event in the period) in order of
    their first event (then session key as text), each by its stage judged on the whole log.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> journey_map(log, JourneyMapSpec()).table  # doctest: +SKIP
    """
    options = UnitOptions(
        rules=spec.rules,
        session_gap=spec.session_gap,
        session_ids=True,
        moments=("last_advocacy",),
        money=False,
    )
    counts = session_facts(log, options, reduce=lambda facts: _pairs(facts, spec))
    totals = counts.group_by("from", "to").agg(pl.col("users", "transitions").sum())
    users = int(totals.filter(pl.col("from") == _START)["users"].sum())
    table = _labelled(totals.sort("from", "to")).select(MAP_COLUMNS)
    return JourneyMapResult(table, users, spec)


def _pairs(facts: pl.LazyFrame, spec: JourneyMapSpec) -> pl.DataFrame:
    """A chunk's consecutive session pairs per (from, to) code: distinct users and pairs."""
    sessions = facts.filter(spec.contains(pl.col("first_event"))).select(
        "user", "first_event", pl.col("session").cast(pl.String), pl.col("stage").cast(pl.Int16)
    )
    order = ["first_event", "session"]
    steps = sessions.select(
        "user",
        pl.col("stage").shift(1, fill_value=_START).over("user", order_by=order).alias("from"),
        pl.col("stage").alias("to"),
    )
    ends = sessions.group_by("user").agg(
        pl.col("stage").sort_by(order).last().alias("from"), pl.lit(_END, pl.Int16).alias("to")
    )
    pairs = pl.concat([steps, ends])
    counted = pairs.group_by("from", "to").agg(
        pl.col("user").n_unique().cast(pl.Int64).alias("users"),
        pl.len().cast(pl.Int64).alias("transitions"),
    )
    return counted.collect()


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Node codes → ``(start)``, the stage names, ``(end)``."""
    codes = [_START, *range(len(STAGES)), _END]
    names = [START_NODE, *STAGES, END_NODE]
    return frame.with_columns(
        pl.col("from", "to").replace_strict(codes, names, return_dtype=pl.String)
    )
