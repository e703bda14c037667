"""Shell habits: a progress display on a terminal only, completion, help without noise."""

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared

COMPLETEJOURNEY = shared("completejourney", "transactions.parquet")
# About two seconds of work: profiling and reading 1.5 million rows, then the stages.
LONG = ["stages", COMPLETEJOURNEY, "--rows-are", "purchase"]


def journeykit(*args: str) -> list[str]:
    return [sys.executable, "-m", "journeykit", *args]


def test_progress_is_drawn_on_a_terminal(tmp_path):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        journeykit(*LONG, "--output", str(tmp_path / "stages.csv")),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        drawn += chunk
    assert process.wait(timeout=120) == 0
    os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn.decode(errors="replace"))
    assert "1,469,307 rows read" in text  # the rows read, counted as batches arrive
    assert re.search(r"(reading events|computing) · ", text)
    assert (tmp_path / "stages.csv").read_text().startswith("stage,")


def test_nothing_but_warnings_on_a_piped_stderr(tmp_path):
    result = subprocess.run(journeykit(*LONG), capture_output=True, check=False)
    assert result.returncode == 0 and result.stderr == b""
    path = tmp_path / "money.csv"
    path.write_text("user_id,ts,event,price\n1,2026-03-02 12:00:00,purchase,-3\n")
    warned = subprocess.run(journeykit("summary", str(path)), capture_output=True, check=False)
    assert warned.stderr.decode().splitlines() == [
        "journeykit: warning: 1 negative price value read as missing"
    ]


def test_shell_completion_is_offered():
    script = str(Path(sys.executable).parent / "journeykit")  # as installed
    result = subprocess.run(
        [script, "--show-completion", "bash"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "_journeykit_completion" in result.stdout
    assert "complete -o default -F _journeykit_completion journeykit" in result.stdout
    assert (
        "--install-completion"
        in subprocess.run(journeykit("--help"), capture_output=True, text=True, check=True).stdout
    )


def test_flags_show_no_type_in_help():
    helped = subprocess.run(
        journeykit("report", "--help"),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "120"},
    ).stdout
    assert "<bool>" not in helped
    assert re.search(r"--stamp\s+Write the time", helped)
    assert "<path>" in helped  # options with values keep their type
