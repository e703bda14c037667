"""A progress display on stderr for work that takes more than about a second.

Only on a terminal: when stderr is a pipe or a file (cron, shell pipelines) nothing is drawn, so
stderr holds warnings and errors alone. The display names the phase and the rows read so far,
and is cleared when the command ends. Library code reports with ``phase`` and ``rows_read``,
which cost nothing when no display is on.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DELAY_SECONDS = 1.0
"""Work shorter than this shows no display at all."""


class _Display:
    """What the display shows, updated from any thread."""

    def __init__(self) -> None:
        self.phase = "starting"
        self.rows = 0
        self.started = time.monotonic()
        self.live: Any = None
        self.spinner: Any = None
        self.stopped = False
        self.lock = threading.Lock()

    def __rich__(self) -> Any:
        from rich.spinner import Spinner

        elapsed = time.monotonic() - self.started
        rows = f" · {self.rows:,} rows read" if self.rows else ""
        text = f"{self.phase}{rows} · {elapsed:.0f}s"
        if self.spinner is None:
            self.spinner = Spinner("dots", style="cyan")
        self.spinner.update(text=text)
        return self.spinner

    def start(self) -> None:
        from rich.console import Console
        from rich.live import Live

        with self.lock:
            if self.live is None and not self.stopped:
                console = Console(stderr=True)
                self.live = Live(self, console=console, refresh_per_second=8, transient=True)
                self.live.start()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.live is not None:
                self.live.stop()
                self.live = None


_ACTIVE: list[_Display] = []
"""The display of the running command, if any."""


@contextmanager
def shown(enabled: bool) -> Iterator[None]:
    """Show progress while the block runs (from ``DELAY_SECONDS`` on), when ``enabled``."""
    if not enabled:
        yield
        return
    display = _Display()
    _ACTIVE.append(display)
    timer = threading.Timer(DELAY_SECONDS, display.start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        display.stop()
        _ACTIVE.remove(display)


def phase(name: str) -> None:
    """The work now under way (``reading events.parquet``, ``computing``)."""
    for display in _ACTIVE:
        display.phase = name


def rows_read(count: int) -> None:
    """``count`` more input rows read."""
    for display in _ACTIVE:
        display.rows += count
