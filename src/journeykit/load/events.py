"""``load_events``: the one place where input becomes the normalized event frame.

The normalized frame has ``user``, ``time`` (UTC, µs), ``event`` (canonical names), ``row`` (input
order) and, when the data has them, ``session``, ``price``, ``quantity``, ``revenue``, ``order_id``;
every other input column is kept under its own name as a dimension. Bad rows are counted once, in a
single profiling pass, and dropped.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, partial
from typing import Any

import polars as pl
from polars.lazyframe.group_by import LazyGroupBy

from journeykit import progress
from journeykit.errors import DataError, UsageError, did_you_mean
from journeykit.load.footer import FooterFacts, read_footers
from journeykit.load.roles import INTERNAL_NAMES, Roles, detect_roles
from journeykit.load.sources import (
    InputFormat,
    Reading,
    Source,
    open_sources,
    read_failure,
    schema_of,
)
from journeykit.load.timestamps import describe_time, epoch_unit, is_epoch, to_utc
from journeykit.load.vocabulary import CANONICAL_EVENTS, EventMapping, build_mapping

ROWS_ARE_COLUMN = "__rows_are"
FOOTER_WORTH_BYTES = 64 * 2**20
"""Reading Parquet footers (importing pyarrow, about 0.15 s) saves a pass over the user and time
columns: worth it from files of about this size."""
SAMPLE_ROWS = 100_000
"""The event names of this many first rows are taken as present when the footers make a pass
unnecessary: only rows with other names are then grouped (see ``_sampled_groups``)."""


@dataclass(frozen=True)
class LoadOptions:
    """Everything that decides how input is read (flags win over the config file)."""

    input_format: InputFormat | None = None
    delimiter: str | None = None
    table: str | None = None
    query: str | None = None
    stitch: str | None = None
    """The anonymous id column whose visits join their user's (SPEC §17)."""
    columns: dict[str, str | None] = field(default_factory=dict)
    rows_are: str | None = None
    assume_tz: str = "UTC"
    dedupe: bool = False
    strict: bool = False
    aliases: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """What profiling the whole input found (one light pass, or footers and a filtered one)."""

    rows: int
    dropped: dict[str, int]
    first: datetime | None
    last: datetime | None
    events: tuple[str, ...]
    """The events (normalized names) of the kept rows, sorted."""
    event_counts: dict[str, int] | None = None
    """Kept rows per event, when the pass counted them (from footers, the profile only proves
    which events occur: ``EventLog.event_counts`` counts them when asked)."""
    user_range: tuple[int, int] | None = None
    """The smallest and largest user of integer user columns (over every input row): the
    engine gives users in a compact range direct codes."""
    session_nulls: bool = True
    """Whether the session column may hold nulls (an integer key then needs a null flag)."""
    sampled: dict[str, int] | None = None
    """Without ``event_counts``: rows per event among the first ``SAMPLE_ROWS`` rows, for
    estimates (``EventLog.rows_estimate``)."""
    duplicates: int = 0
    """Exact duplicate rows removed before the profile (``--dedupe``; ``rows`` counts the
    others)."""
    raw_counts: dict[str, int | None] = field(default_factory=dict)
    """Kept rows per raw event name (``None`` for names the profile proved present without
    counting them)."""
    unusable_money: dict[str, int] = field(default_factory=dict)
    """Values read as missing, by ``_money_checks`` name (``price negative``, ``quantity
    non-numeric``, …): non-numeric money values and negative prices (SPEC §17)."""

    @property
    def dropped_rows(self) -> int:
        return sum(self.dropped.values())


@dataclass(frozen=True)
class EventLog:
    """A loaded event log: the normalized lazy frame plus what loading learned about it."""

    roles: Roles
    profile: Profile
    mapping: EventMapping
    label: str
    dimensions: tuple[str, ...]
    normalized: Callable[[list[str] | None], pl.LazyFrame]
    """The normalized frame, optionally restricted to rows with the given raw event names."""
    warnings: tuple[str, ...] = ()
    source_notes: tuple[tuple[str, str], ...] = ()
    """What was read and how (``Source.notes``)."""
    time_form: str = ""
    """How the time column was read, in words (``timestamps.describe_time``)."""

    @property
    def frame(self) -> pl.LazyFrame:
        """Every kept event, normalized (lazy: nothing is read until collected)."""
        return self.normalized(None)

    def events(self, names: Iterable[str]) -> pl.LazyFrame:
        """The normalized frame restricted to the (normalized) event ``names``.

        The filter is applied to the raw input column, so it reaches the file scan: a funnel over
        4 of 20 event names reads and normalizes only those rows.
        """
        wanted = set(names)
        return self.normalized([raw for raw, name in self.mapping.names.items() if name in wanted])

    @property
    def has_sessions(self) -> bool:
        return self.roles.has("session")

    @property
    def has_money(self) -> bool:
        return self.roles.has("price") or self.roles.has("revenue")

    @cached_property
    def event_counts(self) -> dict[str, int]:
        """Kept rows per event: the profile's counts, or one group-by when it has none."""
        if self.profile.event_counts is not None:
            return self.profile.event_counts
        per_event = self.frame.group_by("event").agg(pl.len())
        (counted,) = _collect(self.label, per_event)
        return dict(sorted(counted.iter_rows()))

    def rows_estimate(self, events: set[str] | None) -> int:
        """Kept rows whose event is in ``events`` (all kept rows for ``None``): exact when the
        profile counted events, else estimated from the first rows (for planning memory only).
        """
        kept = self.profile.rows - self.profile.dropped_rows
        counts = self.profile.event_counts or self.profile.sampled
        if events is None or not counts:
            return kept
        return round(kept * sum(counts.get(e, 0) for e in events) / sum(counts.values()))

    def event_name(self, name: str) -> str | None:
        """The event of this log that ``name`` means: itself, what its raw value maps to, or a
        canonical name through the aliases; ``None`` when it is none of these."""
        if name in self.profile.events:
            return name
        if name in self.mapping.names:
            return self.mapping.names[name]
        canonical = build_mapping([name]).names[name]
        return canonical if canonical in CANONICAL_EVENTS else None

    def unknown_event(self, name: str, *, option: str, also: tuple[str, ...] = ()) -> UsageError:
        """The usage error for an event name that ``event_name`` does not know."""
        present = set(self.profile.events)
        choices = present | set(CANONICAL_EVENTS) | set(self.mapping.names) | set(also)
        return UsageError(
            f"{option}: '{name}' is neither a known event nor an event in {self.label}"
            f"{did_you_mean(name, choices)}; events found: {', '.join(sorted(present))}"
        )

    def column(self, name: str, *, option: str) -> str:
        """The normalized column for a user-given column name (``--breakdown``, ``--hold``)."""
        if name in self.dimensions:
            return name
        for role, source in self.roles.columns.items():
            if source is not None and name in (source, INTERNAL_NAMES[role]):
                return INTERNAL_NAMES[role]
        known = [*self.dimensions, *(s for s in self.roles.columns.values() if s)]
        raise DataError(
            f"{self.label}: no column '{name}' for {option}{did_you_mean(name, known)}; "
            f"columns are: {', '.join(known)}"
        )


def load_events(paths: list[str], options: LoadOptions | None = None) -> EventLog:
    """Open, profile and normalize an event log (lazily: nothing but the profile is computed).

    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> log.profile.rows  # doctest: +SKIP
    """
    options = options or LoadOptions()
    reading = Reading(options.input_format, options.delimiter, options.table, options.query)
    return load_frame(open_sources(paths, reading), options)


def load_frame(
    source: Source | pl.DataFrame | pl.LazyFrame, options: LoadOptions | None = None
) -> EventLog:
    """Like ``load_events`` for data already in memory (a frame is labelled ``<frame>``).

    >>> frame = pl.DataFrame({"user_id": [1, 1], "ts": ["2026-01-01 10:00", "2026-01-01 10:05"],
    ...                       "event": ["view", "purchase"]})
    >>> load_frame(frame).event_counts
    {'product_view': 1, 'purchase': 1}
    """
    options = options or LoadOptions()
    if not isinstance(source, Source):
        source = Source(frame=source.lazy(), label="<frame>")
    progress.phase(f"profiling {source.label}")
    raw = source.frame
    if options.rows_are is not None:
        raw = raw.with_columns(pl.lit(options.rows_are).alias(ROWS_ARE_COLUMN))
    available = [c for c in schema_of(raw).names() if c != ROWS_ARE_COLUMN]
    roles = detect_roles(
        available, options.columns, source=source.label, event_optional=options.rows_are is not None
    )
    if options.rows_are is not None:
        roles = Roles({**roles.columns, "event": ROWS_ARE_COLUMN})
    if options.dedupe:
        (before,) = _collect(source.label, raw.select(pl.len()))
        raw = raw.unique(maintain_order=True)
    plain = not options.dedupe and options.stitch is None
    known = _footers(source, roles, options.assume_tz) if plain else None
    time_expr, time_form = _time_expression(raw, roles, options.assume_tz, source.label, known)
    if options.stitch is not None:
        raw = _stitched(
            raw, roles, _stitch_column(options.stitch, available, source.label), time_expr
        )
    profile, mapping = _profile(raw, roles, time_expr, options.aliases, source.label, known)
    if options.dedupe:
        profile = replace(profile, duplicates=before.item() - profile.rows)
    _check_usable(profile, roles, options.strict, source.label)
    dimensions = tuple(
        c
        for c in available
        if c not in roles.columns.values() and c not in INTERNAL_NAMES.values() and c != "row"
    )
    return EventLog(
        normalized=partial(_normalize, raw, roles, time_expr, mapping, dimensions, profile),
        roles=roles,
        profile=profile,
        mapping=mapping,
        label=source.label,
        dimensions=dimensions,
        warnings=_warnings(profile, roles, mapping),
        source_notes=source.notes,
        time_form=time_form,
    )


def _stitch_column(name: str, available: list[str], label: str) -> str:
    if name in available:
        return name
    raise UsageError(
        f"{label}: no column '{name}' for --stitch (or [columns] stitch)"
        f"{did_you_mean(name, available)}; columns are: {', '.join(available)}"
    )


def _stitched(raw: pl.LazyFrame, roles: Roles, column: str, time_expr: pl.Expr) -> pl.LazyFrame:
    """``raw`` with identities stitched through ``column`` (SPEC §17): each of its values seen
    with a user belongs to the user of its earliest such row (time, then input row); a row
    without a user takes that user, else the value itself; a row with neither keeps a null."""
    user = roles.columns["user"]
    assert user is not None
    schema = schema_of(raw)
    same = schema[user] == schema[column]
    ids = pl.col(user) if same else pl.col(user).cast(pl.String)
    anonymous = pl.col(column) if same else pl.col(column).cast(pl.String)
    anonymous = pl.when(~_blank(column, schema[column])).then(anonymous)
    has_user = ~_blank(user, schema[user])
    rows = raw.with_row_index("__stitch_row").with_columns(
        ids.alias("__stitch_user"), anonymous.alias("__stitch_id"), time_expr.alias("__stitch_time")
    )
    known = rows.filter(
        has_user & pl.col("__stitch_id").is_not_null() & pl.col("__stitch_time").is_not_null()
    )
    owners = known.group_by("__stitch_id").agg(
        pl.col("__stitch_user").sort_by("__stitch_time", "__stitch_row").first().alias("__owner")
    )
    joined = rows.join(owners, on="__stitch_id", how="left", maintain_order="left")
    stitched = (
        pl.when(has_user)
        .then(pl.col("__stitch_user"))
        .otherwise(pl.coalesce("__owner", "__stitch_id"))
    )
    return joined.with_columns(stitched.alias(user)).drop(
        "__stitch_row", "__stitch_user", "__stitch_id", "__stitch_time", "__owner"
    )


def _time_expression(
    raw: pl.LazyFrame, roles: Roles, assume_tz: str, label: str, known: FooterFacts | None
) -> tuple[pl.Expr, str]:
    """The UTC time of each row, and how it is read in words; integer epochs take their unit
    from the footers or one pass."""
    column = roles.columns["time"]
    assert column is not None
    dtype = schema_of(raw)[column]
    unit = None
    if is_epoch(dtype):
        unit = known.epoch_unit if known is not None else None
        if unit is None:
            max_abs = _collect(label, raw.select(pl.col(column).abs().max()))[0].item()
            unit = epoch_unit(float(max_abs or 0))
    form = describe_time(dtype, assume_tz=assume_tz, unit=unit)
    return to_utc(column, dtype, assume_tz=assume_tz, unit=unit), form


def _footers(source: Source, roles: Roles, assume_tz: str) -> FooterFacts | None:
    """What the Parquet footers prove (``footer.read_footers``), for big files whose time
    column is a timestamp (zone-less ones read in UTC) or integer epochs."""
    user, time = roles.columns["user"], roles.columns["time"]
    assert user is not None and time is not None
    files = source.parquet_files
    if sum(f.stat().st_size for f in files) < FOOTER_WORTH_BYTES:
        return None
    dtype = schema_of(source.frame)[time]
    if not (isinstance(dtype, pl.Datetime) or dtype.is_integer()):
        return None
    session, price = roles.columns.get("session"), roles.columns.get("price")
    also = (session,) if session is not None else ()
    signed = (price,) if price is not None else ()
    naive_is_utc = assume_tz == "UTC"
    return read_footers(files, user, time, naive_is_utc=naive_is_utc, also=also, signed=signed)


def _money_checks(roles: Roles, schema: pl.Schema, known: FooterFacts | None) -> dict[str, pl.Expr]:
    """Counts of unusable money values (``Profile.unusable_money``) the profile must make:
    text that is not a number in a price, quantity or revenue column, and negative prices
    (unless the footers prove there are none)."""
    checks = {}
    for role in ("price", "quantity", "revenue"):
        column = roles.columns.get(role)
        if column is None:
            continue
        number = pl.col(column).cast(pl.Float64, strict=False)
        if _is_text(schema[column]):
            text = ~_blank(column, schema[column])
            checks[f"{role} non-numeric"] = (text & number.is_null()).sum()
        if role == "price" and (known is None or column in known.negative):
            checks["price negative"] = (number < 0).sum()
    return checks


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def _blank(column: str, dtype: pl.DataType) -> pl.Expr:
    """Null, or (for text, categorical included) empty after stripping whitespace."""
    blank = pl.col(column).is_null()
    if _is_text(dtype):
        blank = blank | (pl.col(column).cast(pl.String).str.strip_chars() == "")
    return blank


def _profile(
    raw: pl.LazyFrame,
    roles: Roles,
    time_expr: pl.Expr,
    aliases: dict[str, list[str]],
    label: str,
    known: FooterFacts | None,
) -> tuple[Profile, EventMapping]:
    """Rows per raw event name, dropped rows by reason, and the first and last usable time.

    The usual case costs two light aggregations run together: rows per raw event name (a
    group-by on one column) and whole-input counts of unusable rows with the first and last
    usable time (and the range of integer users). With ``known`` footers (no null user or time)
    the footers give the row count and the time and user ranges, and the event names come from
    ``_sampled_groups``. Only inputs that do have unusable rows pay for the per-event
    corrections.
    """
    schema = schema_of(raw)
    user, event = roles.columns["user"], roles.columns["event"]
    assert user is not None and event is not None
    bad_user = _blank(user, schema[user])
    usable_time = pl.when(~bad_user).then(time_expr)
    raw_event = pl.col(event).cast(pl.String).alias("raw_event")
    money = _money_checks(roles, schema, known)
    if known is not None:
        groups = _sampled_groups(raw, raw_event, label)
        figures: dict[str, Any] = {"rows": known.rows, "bad_user": 0, "unusable": 0}
        figures.update(first=known.first, last=known.last, users=known.users)
        figures["session_nulls"] = roles.columns.get("session") in known.nulls
        if money:
            figures.update(_collect(label, raw.select(**money))[0].row(0, named=True))
    else:
        figures_of = raw.select(
            rows=pl.len(),
            bad_user=bad_user.sum(),
            unusable=usable_time.null_count(),
            first=usable_time.min(),
            last=usable_time.max(),
            users=_range(user) if schema[user].is_integer() else None,
            session_nulls=_has_nulls(roles.columns.get("session")),
            **money,
        )
        groups, totals = _collect(label, _rows_per(raw.group_by(raw_event)), figures_of)
        figures = totals.row(0, named=True)
    groups = groups.with_columns(kept=pl.col("rows"))
    if figures["unusable"]:
        unusable = raw.filter(usable_time.is_null()).group_by(raw_event).agg(unusable=pl.len())
        groups = groups.join(
            _collect(label, unusable)[0], on="raw_event", how="left", nulls_equal=True
        ).with_columns(kept=pl.col("rows") - pl.col("unusable").fill_null(0))
    is_blank_event = _blank("raw_event", pl.String())
    named = groups.filter(~is_blank_event & (pl.col("kept").is_null() | (pl.col("kept") > 0)))
    mapping = build_mapping(sorted(named["raw_event"].to_list()), aliases)
    dropped = {
        "user": figures["bad_user"],
        "time": figures["unusable"] - figures["bad_user"],
        "event": int(groups.filter(is_blank_event)["kept"].sum()),
    }
    if dropped["event"]:
        # The first and last times must come from rows that are kept.
        named_rows = raw.filter(~_blank(event, schema[event]))
        span = named_rows.select(first=usable_time.min(), last=usable_time.max())
        figures.update(_collect(label, span)[0].row(0, named=True))
    users = figures["users"]
    profile = Profile(
        rows=figures["rows"],
        dropped=dropped,
        first=figures["first"],
        last=figures["last"],
        events=tuple(sorted({mapping.names[raw_name] for raw_name in named["raw_event"]})),
        event_counts=_event_counts(named, mapping),
        user_range=None if users is None or None in users else (users[0], users[1]),
        session_nulls=bool(figures["session_nulls"]),
        sampled=_sampled_counts(named, mapping) if "sampled" in named.columns else None,
        raw_counts=dict(named.select("raw_event", "kept").iter_rows()),
        unusable_money={name: figures[name] for name in money if figures[name]},
    )
    return profile, mapping


def _event_counts(named: pl.DataFrame, mapping: EventMapping) -> dict[str, int] | None:
    """Kept rows per normalized event, ``None`` when some name's rows were not counted."""
    if named["kept"].has_nulls():
        return None
    counts: dict[str, int] = {}
    for raw_name, kept in named.select("raw_event", "kept").iter_rows():
        counts[mapping.names[raw_name]] = counts.get(mapping.names[raw_name], 0) + kept
    return dict(sorted(counts.items()))


def _has_nulls(column: str | None) -> pl.Expr | bool:
    return False if column is None else pl.col(column).null_count() > 0


def _range(column: str) -> pl.Expr:
    return pl.concat_list(pl.col(column).min(), pl.col(column).max())


def _sampled_counts(named: pl.DataFrame, mapping: EventMapping) -> dict[str, int]:
    """Rows per normalized event among the sampled first rows (names found only after them
    count as their exact rows, usually few)."""
    counts: dict[str, int] = {}
    for raw_name, sampled, rows in named.select("raw_event", "sampled", "rows").iter_rows():
        name = mapping.names[raw_name]
        counts[name] = counts.get(name, 0) + (sampled if sampled is not None else rows or 0)
    return counts


def _rows_per(groups: LazyGroupBy) -> pl.LazyFrame:
    return groups.agg(rows=pl.len().cast(pl.Int64))


def _sampled_groups(raw: pl.LazyFrame, raw_event: pl.Expr, label: str) -> pl.DataFrame:
    """Raw event names (``raw_event, rows``) without a group-by over every row.

    The names of the first rows occur (their ``rows`` are left null: not counted); only the rows
    with other names, or none, are grouped and counted: usually few, and a filter on a
    dictionary-encoded Parquet column skips whole pages whose dictionary matches nothing.
    Blank names are never taken from the sample, so their rows are always counted.
    """
    (seen,) = _collect(label, _rows_per(raw.head(SAMPLE_ROWS).group_by(raw_event)))
    seen = seen.filter(~_blank("raw_event", pl.String()))
    others = raw.filter(raw_event.is_null() | ~raw_event.is_in(seen["raw_event"].implode()))
    (counted,) = _collect(label, _rows_per(others.group_by(raw_event)))
    present = seen.select("raw_event", rows=pl.lit(None, pl.Int64), sampled="rows")
    return pl.concat([present, counted], how="diagonal")


def _normalize(
    raw: pl.LazyFrame,
    roles: Roles,
    time_expr: pl.Expr,
    mapping: EventMapping,
    dimensions: tuple[str, ...],
    profile: Profile,
    raw_names: list[str] | None = None,
) -> pl.LazyFrame:
    """The normalized frame; with ``raw_names``, only rows whose raw event is one of them.

    That filter is on the input column, before any renaming, so it reaches the file scan.
    """
    schema = schema_of(raw)
    user, event = roles.columns["user"], roles.columns["event"]
    assert user is not None and event is not None
    raw_event = pl.col(event) if schema[event] == pl.String else pl.col(event).cast(pl.String)
    columns = [
        pl.col(user).alias("user"),
        time_expr.alias("time"),
        _renamed(raw_event, mapping).alias("event"),
        pl.col("__row").alias("row"),
    ]
    for role in ("session", "price", "quantity", "revenue", "order"):
        source = roles.columns.get(role)
        if source is not None:
            expr = pl.col(source)
            if role in ("price", "quantity", "revenue"):
                expr = expr.cast(pl.Float64, strict=False)
            if role == "price" and "price negative" in profile.unusable_money:
                expr = pl.when(expr >= 0).then(expr)
            columns.append(expr.alias(INTERNAL_NAMES[role]))
    columns.extend(pl.col(d) for d in dimensions)
    # The profile knows which tests can drop a row; a test that drops nothing is left out, so a
    # filter on the event name alone reaches the scan (which then decodes only matching rows).
    # Named raw events are never blank: the name filter replaces the blank-event test.
    dropped = profile.dropped
    keep = [] if raw_names is None else [raw_event.is_in(raw_names)]
    if dropped["event"] and raw_names is None:
        keep.append(~_blank(event, schema[event]))
    if dropped["user"]:
        keep.append(~_blank(user, schema[user]))
    frame = raw.with_row_index("__row")
    frame = frame.filter(*keep) if keep else frame
    frame = frame.select(columns)
    return frame.filter(pl.col("time").is_not_null()) if dropped["time"] else frame


def _renamed(raw_event: pl.Expr, mapping: EventMapping) -> pl.Expr:
    """Raw names → canonical names (when/then: far cheaper than ``replace`` for a few names)."""
    renamed = raw_event
    for raw_name, name in mapping.renamed().items():
        renamed = pl.when(raw_event == raw_name).then(pl.lit(name)).otherwise(renamed)
    return renamed


def _check_usable(profile: Profile, roles: Roles, strict: bool, label: str) -> None:
    if profile.rows == 0:
        raise DataError(f"{label}: no rows (the input has a header but no events)")
    if profile.dropped_rows == profile.rows:
        raise DataError(
            f"{label}: no usable rows, {dropped_summary(profile, roles)}; "
            "check the column flags (--user-col, --time-col, --event-col, --assume-tz)"
        )
    if strict and profile.dropped_rows:
        raise DataError(f"{label}: {dropped_summary(profile, roles)} (--strict)")


def dropped_summary(profile: Profile, roles: Roles) -> str:
    """``dropped 12 of 1,204,311 rows: 10 null user_id, 2 unparsable event_time``."""
    what = {"user": "null {}", "time": "unparsable {}", "event": "null {}"}
    parts = [what[reason].format(roles.columns[reason]) for reason in what]
    details = ", ".join(
        f"{profile.dropped[r]:,} {p}"
        for r, p in zip(what, parts, strict=True)
        if profile.dropped[r]
    )
    return f"dropped {profile.dropped_rows:,} of {profile.rows:,} rows: {details}"


def _warnings(profile: Profile, roles: Roles, mapping: EventMapping) -> tuple[str, ...]:
    notes = [
        f"'{alias}' kept as '{alias}': '{canonical}' also occurs in the data"
        for alias, canonical in mapping.shadowed
    ]
    if profile.dropped_rows:
        notes.append(dropped_summary(profile, roles))
    for check, count in profile.unusable_money.items():
        role, problem = check.split(" ")
        values = f"{count:,} {problem} {roles.columns[role]} value" + ("s" if count > 1 else "")
        notes.append(f"{values} read as missing")
    return tuple(notes)


def _collect(label: str, *queries: pl.LazyFrame) -> list[pl.DataFrame]:
    """Run ``queries`` together on the streaming engine; read failures become a ``DataError``."""
    try:
        return pl.collect_all(queries, engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise read_failure(label, exc) from None
