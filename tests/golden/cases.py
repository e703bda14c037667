"""The golden cases: every command's machine output on every file in ``../shared/data/``, the
bundled samples and variants of the sample in other conventions (text users, epoch times, no
session column, shuffled rows), held byte for byte in ``tests/golden/``.

``python -m tests.golden.cases`` rewrites the golden files from the current code: run it only
when an output is meant to change, and say why in the commit.
"""

import hashlib
import json
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).parent.parent.parent
GOLDEN = Path(__file__).parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "data" / "samples" / "events.parquet"
INLINE_BYTES = 16_000
"""Outputs up to this size are kept whole (readable diffs); larger ones (the per-session
``--emit`` files) by their SHA-256 and row count."""

FILES = {
    "sample": (str(SAMPLE), []),
    "sample_csv": (str(ROOT / "data" / "samples" / "events.csv"), []),
    "rees46": (str(SHARED / "rees46-2019oct-head" / "events.csv.gz"), []),
    "rees46_parquet": (str(SHARED / "rees46-2019oct-head" / "events.parquet"), []),
    "taobao_prefix": (str(SHARED / "taobao-userbehavior-prefix" / "events.csv.gz"), []),
    "taobao_slice": (str(SHARED / "taobao-userbehavior-slice" / "events.csv.gz"), []),
    "completejourney": (
        str(SHARED / "completejourney" / "transactions.parquet"),
        ["--rows-are", "purchase"],
    ),
    "text_users": ("text_users.parquet", []),
    "no_sessions": ("no_sessions.csv", []),
}
"""name → (path, load flags); the last two are written by ``variants`` into a folder."""

HOLD = {
    "rees46": "product_id",
    "rees46_parquet": "product_id",
    "taobao_prefix": "item_id",
    "taobao_slice": "item_id",
    "completejourney": "product_id",
}
BREAKDOWN = {
    "rees46": "brand",
    "rees46_parquet": "brand",
    "taobao_prefix": "category_id",
    "taobao_slice": "category_id",
    "completejourney": "store_id",
}
SINCE = {
    "rees46": ("2019-10-01 01:00", "2019-10-01 02:00"),
    "rees46_parquet": ("2019-10-01 01:00", "2019-10-01 02:00"),
    "taobao_prefix": ("2017-11-27", "2017-12-01"),
    "taobao_slice": ("2017-11-26 02:00", "2017-11-26 03:00"),
    "completejourney": ("2017-03-01", "2017-06-01"),
}
SAMPLE_SINCE = ("2026-10-12", "2026-10-26")
TOUCH = {
    "rees46": "category_code",
    "rees46_parquet": "brand",
    "taobao_prefix": "category_id",
    "taobao_slice": "category_id",
    "completejourney": "store_id",
}


def _funnel_steps(name: str) -> list[str]:
    if name.startswith("taobao"):
        return ["--steps", "product_view,add_to_cart,purchase"]
    if name == "completejourney":
        return ["--steps", "purchase,purchase"]
    return []


def commands(name: str) -> dict[str, list[str]]:
    """Case id → command-line arguments after the path."""
    steps = _funnel_steps(name)
    hold = HOLD.get(name, "product_id")
    breakdown = BREAKDOWN.get(name, "channel")
    since, until = SINCE.get(name, SAMPLE_SINCE)
    period = ["--since", since, "--until", until]
    anchor = "purchase" if name == "completejourney" else "add_to_cart"
    touch = ["--touch", TOUCH[name]] if name in TOUCH else []
    return {
        "inspect": ["inspect"],
        "funnel": ["funnel", *steps],
        "funnel_session": ["funnel", *steps, "--by", "session"],
        "funnel_strict": ["funnel", *steps, "--order", "strict"],
        "funnel_any": ["funnel", *steps, "--order", "any", "--window", "1d"],
        "funnel_complete": ["funnel", *steps, "--window", "1h", "--complete-only"],
        "funnel_breakdown": ["funnel", *steps, "--breakdown", breakdown],
        "funnel_hold": ["funnel", *steps, "--hold", hold],
        "funnel_period": ["funnel", *steps, *period],
        "funnel_repeat": ["funnel", "--steps", "purchase,purchase,purchase", "--window", "30d"],
        "stages": ["stages", "--by", "session"],
        "stages_user": ["stages", "--by", "user"],
        "stages_period": ["stages", "--by", "session", *period],
        "stages_emit": ["stages", "--by", "session", "--emit", "{out}/emit.csv"],
        "stages_emit_user": ["stages", "--by", "user", "--emit", "{out}/emit.csv"],
        "abandonment": ["abandonment"],
        "abandonment_breakdown": ["abandonment", "--breakdown", breakdown, *period],
        "summary": ["summary"],
        "summary_period": ["summary", *period],
        "summary_gap": ["summary", "--session-gap", "10m"],
        "retention": ["retention"],
        "retention_month": ["retention", "--period", "month", "--mode", "unbounded"],
        "retention_revenue": ["retention", "--value", "revenue", "--periods", "4"],
        "paths_after": ["paths", "--after", anchor],
        "paths_before": ["paths", "--before", "purchase", "--by", "session", "--collapse"],
        "paths_dropped": ["paths", "--dropped-at", "2", *steps, "--window", "1h", "--transitions"],
        "paths_stages": ["paths", "--stages"],
        "paths_stages_period": ["paths", "--stages", *period],
        "attribution": ["attribution", *touch],
        "attribution_period": [
            "attribution",
            *touch,
            *period,
            "--model",
            "time_decay",
            "--lookback",
            "1d",
            "--half-life",
            "6h",
        ],
        "segments": ["segments"],
        "segments_rfm": ["segments", "--by", "rfm"],
        "segments_at": ["segments", "--by", "rfm", "--at", until],
        "segments_emit": ["segments", "--by", "rfm", "--emit", "{out}/emit.csv"],
        "retention_any": [
            "retention",
            "--cohort-event",
            "any",
            "--return-event",
            "any",
            "--period",
            "day",
            "--periods",
            "3",
        ],
    }


def variants(folder: Path) -> None:
    """The sample in other conventions: text user ids, epoch-millisecond times and shuffled rows
    (Parquet); no session column, shuffled (CSV)."""
    events = pl.read_parquet(SAMPLE)
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=11)
    shuffled.select(
        ("u-" + pl.col("user_id").cast(pl.String)).alias("user_id"),
        pl.col("event_time").dt.epoch("ms").alias("event_time"),
        pl.exclude("user_id", "event_time"),
    ).write_parquet(folder / "text_users.parquet")
    shuffled.drop("session_id").write_csv(folder / "no_sessions.csv")


def cases() -> list[tuple[str, str, list[str]]]:
    """(golden id, path, arguments) for every file and command."""
    found = []
    for name, (path, flags) in FILES.items():
        for case, args in commands(name).items():
            found.append((f"{name}.{case}", path, [args[0], path, *args[1:], *flags]))
    return found


def golden_of(output: bytes, folder: Path) -> dict[str, object]:
    """How an output is kept: whole when small (paths in messages made machine-independent),
    else by digest and row count."""
    if len(output) <= INLINE_BYTES:
        text = output.decode().replace(str(folder), "<tmp>").replace(str(SHARED), "<shared>")
        return {"text": text.replace(str(ROOT), "<root>")}
    return {"sha256": hashlib.sha256(output).hexdigest(), "lines": output.count(b"\n")}


def run_case(path: str, args: list[str], folder: Path) -> bytes:
    """The CSV a case prints (or, for ``--emit``, the emitted file), via the real command line."""
    import subprocess

    args = [a.replace("{out}", str(folder)) for a in args]
    args = [str(folder / a) if a in ("text_users.parquet", "no_sessions.csv") else a for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "journeykit", *args, "--format", "csv", "--quiet"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return f"exit {result.returncode}: {result.stderr.decode()}".encode()
    emitted = folder / "emit.csv"
    if "--emit" in args:
        data = emitted.read_bytes()
        emitted.unlink()
        return data
    return result.stdout


def main() -> None:
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        variants(folder)
        all_cases = cases()

        def one(case: tuple[str, str, list[str]]) -> tuple[str, dict[str, object]]:
            sub = folder / case[0]
            sub.mkdir()
            for name in ("text_users.parquet", "no_sessions.csv"):
                (sub / name).symlink_to(folder / name)
            return case[0], golden_of(run_case(case[1], case[2], sub), sub)

        with ThreadPoolExecutor(2) as pool:
            found = dict(pool.map(one, all_cases))
    (GOLDEN / "outputs.json").write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(found)} golden outputs")


if __name__ == "__main__":
    main()
