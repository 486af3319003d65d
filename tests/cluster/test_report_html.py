"""``report.html`` in a real headless browser (Debian's Chromium): it opens offline with no console
message, and its namespace graphs and heat-map matrices render. .ci/run installs Chromium and sets
NETFENCE_REQUIRE_BROWSER=1, so a missing browser fails there instead of skipping."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netfence.evidence import report, report_html

FIXTURE = Path(__file__).parent / "fixtures" / "run-lab"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> str:
    if BROWSER is None:
        if os.environ.get("NETFENCE_REQUIRE_BROWSER") == "1":
            pytest.fail("NETFENCE_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    return BROWSER


def _open(browser: str, page: Path, *extra: str) -> tuple[str, list[str]]:
    """The DOM after load, and every console message the page logged."""
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--enable-logging=stderr", "--v=0", *extra, "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def test_the_harness_sees_console_errors(browser: str, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("deliberate"); missing();</script>')
    _, console = _open(browser, page)
    assert any("deliberate" in line for line in console) and any("missing is not defined" in line for line in console)


def test_the_lab_report_renders_with_no_console_message(browser: str, tmp_path: Path) -> None:
    built = report.build(report.load_run(FIXTURE))
    page = tmp_path / "report.html"
    page.write_text(report_html.to_html(built), encoding="utf-8")
    dom, console = _open(browser, page)
    assert console == []
    names = {label.split("/")[0] for m in built["matrices"] for label in (*m["sources"], *m["targets"]) if "/" in label
             and ":" not in label.split("/")[0]}
    assert dom.count("<svg") == 3 and dom.count('class="node"') == 3 * len(names)
    assert dom.count('class="edge"') == sum(len(report_html.namespace_edges(built, r)) for r in report_html.ROUNDS) > 0
    assert dom.count('class="matrix"') == len(built["matrices"])
    assert len(re.findall(r'class="[a-z-]+ off"', dom)) >= 1  # the disagreements are marked in the matrices
    assert "http://" not in dom.replace("http://www.w3.org/2000/svg", "")  # nothing fetched, no external asset
    assert "<h2>Coverage</h2>" in dom and "predicted pairs:" in dom  # what report.md says, the HTML says too
    shot = tmp_path / "report.png"
    _open(browser, page, "--window-size=1280,1800", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
