"""The clean-tree rules (ruff format, ruff lint, mypy) as tests, so CI enforces them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_format_and_lint_are_clean():
    formatted = run("ruff", "format", "--check", "src", "tests", "bench")
    assert formatted.returncode == 0, formatted.stdout
    linted = run("ruff", "check", "src", "tests", "bench")
    assert linted.returncode == 0, linted.stdout


def test_mypy_strict_is_clean():
    checked = run("mypy")
    assert checked.returncode == 0, checked.stdout
