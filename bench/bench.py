"""journeykit against the fastest known peers, on logs of several shapes, numbers checked first.

    python bench/bench.py --shape sample peers --events 10M 100M          # every command
    python bench/bench.py --shape peers --events 100M --case funnel --pairs 5
    python bench/bench.py --shape sample peers --events 100M --overhead trend compare
    python bench/bench.py --file my_export.parquet \\
        --cols user=visitor,time=ts,event=action --events-map view=product_view,cart=add_to_cart \\
        --journeykit-args "--user-col visitor --time-col ts --event-col action"

Shapes: ``sample`` is ``journeykit sample`` scaled up (``../shared/bench/gen_sample.py``),
``peers`` the independent generator ``../shared/bench/gen.py``; files are written once to
``bench/out/``. ``--file`` runs on any Parquet file with a column map (the peers need it; see
``../shared/bench/README.md``).

The peers are the scripts in ``../shared/bench/`` (DuckDB backward ASOF and ClickHouse
``windowFunnel`` via chdb for the funnel, DuckDB and plain Polars for retention, DuckDB SQL for
stages, abandonment and summary; ``bench/paths_duckdb.py``, DuckDB ``lead()`` windows, for
``paths --after add_to_cart --depth 3``; ``bench/attribution_duckdb.py``, a range join of orders
to sessions, for ``attribution``'s first, last and linear models; ``bench/segments_duckdb.py`` for
``segments --by rfm``). Every command first runs once
per engine and ``../shared/bench/same.py`` checks that each peer printed journeykit's numbers; a
peer that disagrees is reported and left out. Then ``--pairs`` rounds alternate journeykit and
each peer (whole processes, as a user runs them); the figures are medians over the rounds: wall
time, CPU time / wall (cores used), peak RSS, and the ratio to the fastest peer (median of the
per-round ratios). Needs ``pip install -e .[bench]``.

``--overhead`` measures journeykit against itself instead: a capability against the plain command
it extends (``trend``: ``funnel --trend week`` against ``funnel``; ``compare``: ``compare
--segment device`` against ``funnel --breakdown device``; ``exclude``: ``--exclude
remove_from_cart@2-3`` (1.2% of the sample's rows, absent from the peers shape);
``exclude_page_view``: ``--exclude page_view@2-3`` (a fifth of the sample's rows, three quarters
of the peers'); ``alternatives``: ``checkout|remove_from_cart``), alternating the two the same
way.
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
OUT = Path(__file__).resolve().parent / "out"
STEPS = "product_view,add_to_cart,checkout,purchase"
SHAPES = {
    "sample": (
        "gen_sample.py",
        "user=user_id,time=event_time,event=event_type,session=session_id,price=price,"
        "quantity=quantity,order=order_id",
    ),
    "peers": ("gen.py", "user=user_id,time=ts,event=event,session=session_id,price=price"),
}
CASES = {
    "funnel": (
        ["funnel", "--steps", STEPS, "--window", "1d"],
        [
            ("funnel_duckdb.py", ["--steps", STEPS, "--window", "1d"]),
            ("funnel_chdb.py", ["--steps", STEPS, "--window", "1d"]),
        ],
    ),
    "retention": (
        ["retention", "--period", "week"],
        [("retention_duckdb.py", []), ("retention_polars.py", [])],
    ),
    "stages": (["stages", "--by", "session"], [("stages_duckdb.py", [])]),
    "abandonment": (["abandonment"], [("abandonment_duckdb.py", [])]),
    "summary": (["summary"], [("summary_duckdb.py", [])]),
    "attribution": (["attribution"], [("attribution_duckdb.py", [])]),
    "segments": (["segments", "--by", "rfm"], [("segments_duckdb.py", [])]),
    "paths": (
        ["paths", "--after", "add_to_cart", "--depth", "3"],
        [("paths_duckdb.py", ["--after", "add_to_cart", "--depth", "3"])],
    ),
}
"""case → (journeykit's arguments, the peers: a script of ../shared/bench/, or of bench/ when
there is none there, with its arguments)."""
COMPARED = {"attribution": ("model", {"first", "last", "linear"})}
"""case → (column, values): the rows of journeykit's output the peers compute (journeykit is
timed on every row)."""


FUNNEL = ["funnel", "--steps", STEPS, "--window", "1d"]
OVERHEADS = {
    "trend": ([*FUNNEL, "--trend", "week"], FUNNEL),
    "compare": (
        ["compare", "--segment", "device", "--steps", STEPS, "--window", "1d"],
        [*FUNNEL, "--breakdown", "device"],
    ),
    "exclude": ([*FUNNEL, "--exclude", "remove_from_cart@2-3"], FUNNEL),
    "exclude_page_view": ([*FUNNEL, "--exclude", "page_view@2-3"], FUNNEL),
    "alternatives": (
        [
            "funnel",
            "--steps",
            STEPS.replace("checkout", "checkout|remove_from_cart"),
            "--window",
            "1d",
        ],
        FUNNEL,
    ),
}
"""capability → (its command, the plain command it extends)."""


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_gib: float
    stdout: bytes


def measure(command: list[str], env: dict[str, str] | None = None) -> Run:
    """One child process (``env`` added to this one's): wall time, CPU time (user + system)
    and peak RSS, from ``wait4``."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        environment = {**os.environ, **(env or {})}
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=environment)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        err = child.stderr.read().decode() if child.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {shlex.join(command)}\n{err}")
        out.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20, out.read())


def parse_count(text: str) -> int:
    text = text.upper()
    scale = {"K": 1e3, "M": 1e6, "G": 1e9}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * scale)


def shape_file(shape: str, events: int) -> Path:
    """The generated log of ``shape`` with about ``events`` events (made once)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{shape}_{events}.parquet"
    if not path.exists():
        script = SHARED / SHAPES[shape][0]
        print(f"writing {path} ...", flush=True)
        subprocess.run([sys.executable, str(script), str(events), str(path)], check=True)
    return path


def check(
    case: str, path: Path, peer_map: list[str], jk_args: list[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """journeykit's command and the peers that print the same numbers."""
    args, peers = CASES[case]
    jk = ["journeykit", *args[:1], str(path), *args[1:], *jk_args, "--format", "csv"]
    jk[0] = str(Path(sys.executable).parent / "journeykit")
    with tempfile.TemporaryDirectory() as folder:
        ours = Path(folder) / "journeykit.csv"
        ours.write_bytes(_compared(case, measure(jk).stdout))
        agreeing = {}
        for script, extra in peers:
            command = [sys.executable, str(_script(script)), str(path), *peer_map, *extra]
            theirs = Path(folder) / "peer.json"
            theirs.write_bytes(measure(command).stdout)
            same = subprocess.run(
                [sys.executable, str(SHARED / "same.py"), str(ours), str(theirs)],
                capture_output=True,
                text=True,
                check=False,
            )
            name = script.removesuffix(".py")
            if same.returncode == 0:
                agreeing[name] = command
            else:
                print(f"  {case}: {name} disagrees, left out: {same.stdout.strip()}")
    return jk, agreeing


def _compared(case: str, csv: bytes) -> bytes:
    """The lines of journeykit's CSV that the peers of ``case`` compute (``COMPARED``)."""
    if case not in COMPARED:
        return csv
    column, values = COMPARED[case]
    header, *rows = csv.decode().splitlines()
    index = header.split(",").index(column)
    kept = [row for row in rows if row.split(",")[index] in values]
    return ("\n".join([header, *kept]) + "\n").encode()


def _script(name: str) -> Path:
    """A peer script: ../shared/bench/'s, else bench/'s own (``paths_duckdb.py``)."""
    shared = SHARED / name
    return shared if shared.exists() else Path(__file__).resolve().parent / name


def bench(case: str, path: Path, peer_map: list[str], jk_args: list[str], pairs: int) -> None:
    jk, peers = check(case, path, peer_map, jk_args)
    runs: dict[str, list[Run]] = {"journeykit": [], **{name: [] for name in peers}}
    ratios = []
    for _ in range(pairs):
        ours = measure(jk)
        runs["journeykit"].append(ours)
        theirs = {name: measure(command) for name, command in peers.items()}
        for name, run in theirs.items():
            runs[name].append(run)
        if theirs:
            ratios.append(ours.wall / min(run.wall for run in theirs.values()))
    for name, measured in runs.items():
        wall = statistics.median(r.wall for r in measured)
        cores = statistics.median(r.cpu / r.wall for r in measured)
        rss = max(r.rss_gib for r in measured)
        print(f"  {case:12} {name:20} {wall:7.2f} s  {cores:4.2f} cores  {rss:5.2f} GiB")
    if ratios:
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"  {case:12} ratio to the fastest peer: {statistics.median(ratios):.2f}x ({spread})")


def overhead(name: str, path: Path, jk_args: list[str], pairs: int) -> None:
    """A capability's command against the plain one, alternated; the median per-round ratio
    (``S`` in the printed commands stands for ``STEPS``)."""
    jk = str(Path(sys.executable).parent / "journeykit")
    commands = {
        label: [jk, args[0], str(path), *args[1:], *jk_args, "--format", "csv"]
        for label, args in zip((name, "plain"), OVERHEADS[name], strict=True)
    }
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    for _ in range(pairs):
        for label, command in commands.items():
            runs[label].append(measure(command))
    for label, measured in runs.items():
        wall = statistics.median(r.wall for r in measured)
        cores = statistics.median(r.cpu / r.wall for r in measured)
        rss = max(r.rss_gib for r in measured)
        shown = shlex.join(OVERHEADS[name][label != name]).replace(STEPS, "S")
        print(f"  {name:9} {shown:52} {wall:7.2f} s  {cores:4.2f} cores  {rss:5.2f} GiB")
    ratios = [a.wall / b.wall for a, b in zip(runs[name], runs["plain"], strict=True)]
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    print(f"  {name:9} ratio to the plain command: {statistics.median(ratios):.2f}x ({spread})")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shape", nargs="*", default=[], choices=sorted(SHAPES))
    ap.add_argument("--events", nargs="*", default=["10M"])
    ap.add_argument("--file", type=Path, help="any Parquet file (with --cols)")
    ap.add_argument("--cols", help="the file's column map for the peers: role=column,...")
    ap.add_argument("--events-map", default="", help="raw=canonical event names for the peers")
    ap.add_argument("--time-unit", default="datetime", help="the peers' --time-unit")
    ap.add_argument("--journeykit-args", default="", help="extra journeykit flags (column flags)")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="default: all")
    ap.add_argument("--pairs", type=int, default=3, help="alternating rounds (median reported)")
    ap.add_argument(
        "--overhead", nargs="*", choices=sorted(OVERHEADS), help="journeykit against itself"
    )
    args = ap.parse_args()
    targets: list[tuple[Path, list[str]]] = []
    for shape in args.shape or ([] if args.file else ["sample", "peers"]):
        for events in args.events:
            targets.append((shape_file(shape, parse_count(events)), ["--cols", SHAPES[shape][1]]))
    if args.file:
        if not args.cols:
            raise SystemExit("--file needs --cols (the peers do not guess columns)")
        peer_map = ["--cols", args.cols, "--time-unit", args.time_unit]
        targets.append(
            (args.file, peer_map + (["--events", args.events_map] if args.events_map else []))
        )
    for path, peer_map in targets:
        print(f"{path.name}:", flush=True)
        if args.overhead:
            for name in args.overhead:
                overhead(name, path, shlex.split(args.journeykit_args), args.pairs)
            continue
        for case in args.case or list(CASES):
            bench(case, path, peer_map, shlex.split(args.journeykit_args), args.pairs)


if __name__ == "__main__":
    main()
