"""``journeykit sample``."""

from pathlib import Path
from typing import Annotated

import typer

EXAMPLES = """

[bold]Examples[/bold]

  journeykit sample --out data/samples/events.parquet

  journeykit sample --users 500 --days 14 --seed 3 --out small.csv.gz
"""


def sample(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="File to write (.parquet, .csv, .csv.gz).")
    ],
    users: Annotated[int, typer.Option(min=1, help="Number of synthetic users.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Days of activity.")] = 56,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 7,
) -> None:
    """Write a realistic synthetic event log (personas, sessions, carts, repeat orders)."""
    from journeykit.sample import SampleParams, write_sample

    rows = write_sample(SampleParams(users=users, days=days, seed=seed), out)
    typer.echo(f"journeykit: wrote {rows:,} events to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(sample)
