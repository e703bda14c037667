"""``report.html`` in a real headless browser (Debian's Chromium, installed by ``.ci/run``):
it renders, logs no console error, makes no request but the file itself, runs no script, and a
screenshot is saved (``$JOURNEYKIT_SCREENSHOT_DIR`` keeps a copy to look at)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "data" / "samples" / "events.parquet"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_FACTS = """() => ({
    title: document.querySelector('h1').textContent,
    sections: [...document.querySelectorAll('section')].map(s => s.id),
    scripts: document.scripts.length,
    charts: [...document.querySelectorAll('figure svg')].map(svg => {
        const box = svg.getBoundingClientRect();
        return [box.width, box.height];
    }),
    marks: document.querySelectorAll('figure svg path, figure svg rect').length,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
})"""


def _browser_or_skip() -> str:
    if CHROMIUM is None:
        pytest.skip(
            "Chromium is not installed and could not be (.ci/run installs Debian's chromium "
            "when it runs as root with apt-get): the browser check of report.html did not run"
        )
    pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = subprocess.run(
        [sys.executable, "-m", "journeykit", "report", str(SAMPLE), "--out", str(out)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return out / "2026-W47" / "report.html"


def test_report_renders_offline_without_errors(report_html, tmp_path):
    executable = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report_html.as_uri(), wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == [report_html.as_uri()]
    assert facts["title"].startswith("Weekly report 2026-W47")
    assert facts["sections"] == [
        "headline",
        "funnel",
        "stages",
        "journeys",
        "dropoff",
        "abandonment",
        "touchpoints",
        "segments",
        "retention",
        "trend",
        "comparison",
        "quality",
    ]
    assert facts["scripts"] == 0 and not facts["overflow"]
    assert len(facts["charts"]) == 5 and all(w > 200 and h > 80 for w, h in facts["charts"])
    assert facts["marks"] > 50
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("JOURNEYKIT_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "report.png")
