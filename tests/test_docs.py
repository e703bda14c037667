"""Docs that cannot drift: every ``$ journeykit …`` example in the README and examples/ runs, and
prints exactly what the docs show."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*.md"))]
BLOCK = re.compile(r"```(?:console|text)?\n(\$ journeykit [^\n]*)\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        for match in BLOCK.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, match.group(1)[2:], match.group(2)))
    return found


def test_the_docs_have_examples():
    assert len(examples()) >= 3


@pytest.mark.parametrize(("doc", "command", "shown"), examples())
def test_documented_example_prints_what_the_docs_show(doc, command, shown):
    args = shlex.split(command)[1:]
    if "--format" not in args and "-f" not in args and "--out" not in args:
        args += ["--format", "table"]
    result = subprocess.run(
        [sys.executable, "-m", "journeykit", *args],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == 0, f"{doc}: {command}\n{result.stderr.decode()}"
    printed = result.stdout.decode()
    assert [line.rstrip() for line in printed.splitlines()] == [
        line.rstrip() for line in shown.splitlines()
    ], f"{doc}: {command} prints something else"
