"""The command line as a user meets it: exit codes, streams, formats, help."""

import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import shared

from journeykit.funnel import FunnelSpec, funnel
from journeykit.load.events import load_events

TAOBAO = shared("taobao-userbehavior-prefix", "events.csv.gz")
REES_CSV = shared("rees46-2019oct-head", "events.csv.gz")
REES_PARQUET = shared("rees46-2019oct-head", "events.parquet")


def run(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_and_help_with_examples():
    assert run("--version").stdout.decode().startswith("journeykit ")
    helped = run("funnel", "--help").stdout.decode()
    assert "--steps" in helped and "Examples" in helped and "journeykit funnel" in helped


def test_help_does_not_import_polars():
    code = (
        "import sys; from journeykit.cli.app import app, _register; _register(); "
        "import typer.main; typer.main.get_command(app); "
        "assert 'polars' not in sys.modules, 'polars imported by --help'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_csv_output_equals_the_library_result():
    expected = funnel(
        load_events([TAOBAO]), FunnelSpec(steps=("product_view", "add_to_cart", "purchase"))
    ).table
    result = run("funnel", TAOBAO, "--format", "csv")
    assert result.returncode == 0, result.stderr
    printed = pl.read_csv(io.BytesIO(result.stdout))
    assert printed["event"].to_list() == ["product_view", "add_to_cart", "purchase"]
    assert printed["units"].to_list() == expected["units"].to_list()
    assert printed["conversion_overall"].to_list() == pytest.approx(
        expected["conversion_overall"].to_list(), abs=1e-6
    )


def test_piped_output_defaults_to_csv_and_is_deterministic():
    first, second = run("funnel", REES_CSV), run("funnel", REES_CSV)
    assert first.stdout.startswith(b"step,event,units,")
    assert first.stdout == second.stdout


def test_csv_and_parquet_inputs_give_identical_output():
    assert run("funnel", REES_CSV).stdout == run("funnel", REES_PARQUET).stdout


def test_stdin_reads_csv(tmp_path):
    frame = pl.read_csv(REES_CSV)
    from_stdin = run("funnel", "-", stdin=frame.write_csv().encode())
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == run("funnel", REES_CSV).stdout


def test_output_file_format_from_extension(tmp_path):
    target = tmp_path / "funnel.json"
    result = run("funnel", TAOBAO, "--output", str(target))
    assert result.returncode == 0 and result.stdout == b""
    assert pl.read_json(target)["units"].to_list()[0] == 812
    assert [p.name for p in tmp_path.iterdir()] == ["funnel.json"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.csv"], 1, "missing.csv: no such file"),
        ([TAOBAO, "--steps", "pv,cartt"], 2, "did you mean 'cart'?"),
        ([TAOBAO, "--window", "7"], 2, "--window: '7' is not a duration"),
        ([TAOBAO, "--user-col", "visitor"], 2, "no column 'visitor' for --user-col"),
        ([shared("completejourney", "transactions.parquet")], 1, "--rows-are purchase"),
        ([TAOBAO, "--breakdown", "chanel"], 1, "no column 'chanel' for --breakdown"),
        ([TAOBAO, "--tz", "Mars/Base"], 2, "unknown time zone"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(tmp_path, args, code, message):
    target = tmp_path / "out.csv"
    result = run("funnel", *args, "--output", str(target))
    stderr = result.stderr.decode()
    assert result.returncode == code
    assert message in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert not target.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("user_id,ts,event\n", "no rows"),
        ("user_id,ts,event\n1,yesterday,view\n", "no usable rows"),
    ],
)
def test_bad_files_exit_1(tmp_path, content, message):
    path = tmp_path / "events.csv"
    path.write_text(content)
    result = run("funnel", str(path))
    assert result.returncode == 1
    assert message in result.stderr.decode()


def test_strict_fails_on_dropped_rows(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user_id,ts,event\n1,2026-01-01,view\n,2026-01-01,cart\n2,2026-01-01,cart\n")
    loose = run("funnel", str(path))
    assert loose.returncode == 0
    assert "dropped 1 of 3 rows: 1 null user_id" in loose.stderr.decode()
    assert run("funnel", str(path), "--quiet").stderr == b""
    assert run("funnel", str(path), "--strict").returncode == 1


def test_unknown_option_is_a_usage_error():
    assert run("funnel", TAOBAO, "--windw", "1d").returncode == 2


def test_broken_pipe_exits_quietly():
    command = (
        f"set -o pipefail; {sys.executable} -m journeykit funnel {REES_CSV} "
        "--breakdown product_id | head -1"
    )
    result = subprocess.run(["bash", "-c", command], capture_output=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith(b"product_id,step")
    assert result.stderr == b""


def test_table_format_is_for_people():
    result = run("funnel", TAOBAO, "--format", "table", env={"NO_COLOR": "1"})
    text = result.stdout.decode()
    assert "\x1b[" not in text
    assert "73.3%" in text and "1d 5h" in text and "812" in text


def test_config_named_funnel_and_bad_key(tmp_path):
    config = tmp_path / "journeykit.toml"
    config.write_text('[funnels.buy]\nsteps = ["pv", "buy"]\nwindow = "1d"\n')
    named = run("funnel", TAOBAO, "--config", str(config), "--funnel", "buy")
    assert named.returncode == 0, named.stderr
    assert b"product_view" in named.stdout and b"purchase" in named.stdout
    config.write_text('[funnels.buy]\nsteps = ["pv", "buy"]\nwindoww = "1d"\n')
    bad = run("funnel", TAOBAO, "--config", str(config), "--funnel", "buy")
    assert bad.returncode == 2
    assert "funnels.buy.windoww → unknown key (did you mean 'window'?)" in bad.stderr.decode()


def test_every_command_has_examples_and_a_readme_section():
    from typer.main import get_command

    from journeykit.cli.app import _register, app

    _register()
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert {"funnel", "stages", "abandonment", "summary", "retention", "sample"} <= set(commands)
    for name, command in commands.items():
        assert "journeykit " + name in (command.epilog or ""), f"{name} --help has no example"
        assert f"`journeykit {name}`" in readme, f"README does not document {name}"


def test_since_until_are_read_in_tz_for_every_command():
    # 2017-11-26 09:00 in Shanghai is 01:00 UTC: the slice starts then, so nothing is lost.
    for command in ("funnel", "summary", "stages", "abandonment"):
        local = run(
            command,
            shared("taobao-userbehavior-slice", "events.csv.gz"),
            "--tz",
            "Asia/Shanghai",
            "--since",
            "2017-11-26T09:00",
            "--until",
            "2017-11-27",
        )
        utc = run(
            command,
            shared("taobao-userbehavior-slice", "events.csv.gz"),
            "--since",
            "2017-11-26T01:00",
            "--until",
            "2017-11-26T16:00",
        )
        assert local.returncode == 0, local.stderr
        assert local.stdout == utc.stdout


def test_help_shows_bracketed_defaults_and_syntax():
    # Rich reads [..] as markup: the help texts escape it, so it is shown, not swallowed.
    shown = subprocess.run(
        [sys.executable, "-m", "journeykit", "funnel", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        check=True,
    ).stdout
    assert "[default: 7d]" in shown and "NAME[@i-j]" in shown
