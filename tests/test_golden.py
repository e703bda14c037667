"""Every command's machine output on every real file, the samples and variants of the sample in
other conventions is byte-identical to the golden files (``tests/golden/cases.py``)."""

import json
from pathlib import Path

import pytest
from tests.golden.cases import GOLDEN, cases, golden_of, variants
from typer.testing import CliRunner

from journeykit.cli.app import _register, app
from journeykit.errors import JourneykitError

EXPECTED = json.loads((GOLDEN / "outputs.json").read_text())
_register()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("variants")
    variants(made)
    return made


def _run(path: str, args: list[str], folder: Path) -> bytes:
    args = [a.replace("{out}", str(folder)) for a in args]
    args = [str(folder / a) if a in ("text_users.parquet", "no_sessions.csv") else a for a in args]
    result = CliRunner().invoke(app, [*args, "--format", "csv", "--quiet"])
    if isinstance(result.exception, JourneykitError):
        error = result.exception
        return f"exit {error.exit_code}: journeykit: error: {error}\n".encode()
    assert result.exit_code == 0, result.output
    if "--emit" in args:
        emitted = folder / "emit.csv"
        data = emitted.read_bytes()
        emitted.unlink()
        return data
    return result.stdout_bytes


@pytest.mark.parametrize(("case", "path", "args"), cases(), ids=[c[0] for c in cases()])
def test_output_is_byte_identical_to_the_golden_file(case, path, args, folder):
    assert golden_of(_run(path, args, folder), folder) == EXPECTED[case]
