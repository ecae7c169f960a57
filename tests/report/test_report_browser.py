"""The report in a real headless browser (Debian's Chromium): it renders, is not blank, and the
page logs no console error; figures decode and every in-page link resolves (checked by the browser).

The session fixture installs Chromium with apt-get when it is missing and we are root. If it cannot
be had, the test fails under CI (``CI=true``) and is skipped locally with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dltheory.lab import Experiment, run_experiment
from dltheory.report import build_report
from tests.lab.test_framework import TOY

CHROMIUM = "/usr/bin/chromium"

# Appended to a copy of the report: the browser itself checks the images and the links.
PROBE = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) console.error("broken image " + img.alt);
  }
  for (const a of document.querySelectorAll('a[href^="#"]')) {
    if (!document.getElementById(a.getAttribute("href").slice(1))) console.error("dangling link " + a.href);
  }
  console.info("probe-done images=" + document.images.length);
});
</script>"""


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    reason = ""
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        out = subprocess.run("apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium",
                             shell=True, capture_output=True, text=True, env=env, timeout=900)
        reason = out.stderr[-500:]
        path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        message = f"Chromium is not installed and could not be installed ({reason or 'not root or no apt-get'})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def render(chromium: str, html: Path, png: Path, size=(1280, 2000)) -> list[str]:
    """Screenshot ``html`` into ``png``; returns the page's console messages."""
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=5000", f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
         html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, cwd=html.parent,
    )
    assert png.is_file(), out.stderr[-2000:]
    return re.findall(r":CONSOLE[^\]]*\] (.*)", out.stderr)


def pixel_std(png: Path) -> float:
    import matplotlib.image as mpimg

    image = mpimg.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    return float(np.asarray(image[..., :3]).std())


def test_report_renders_in_chromium_without_console_errors(tmp_path, chromium):
    def broken(config, rng):
        raise RuntimeError("kaboom")

    results = tmp_path / "results"
    run_experiment(TOY, out_dir=results, seed=2)
    run_experiment(Experiment("broken", "effective", "Broken", "", TOY.config_cls, broken), out_dir=results,
                   catch_errors=True)
    report = build_report(results)
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))

    messages = render(chromium, probed, tmp_path / "report.png")
    assert any("probe-done images=1" in m for m in messages), messages  # the page's script ran
    assert [m for m in messages if "probe-done" not in m] == []  # no errors, broken images or dangling links
    assert pixel_std(tmp_path / "report.png") > 0.05  # not blank

    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'id="summary-table"' in dom and "mean-zero" in dom and "kaboom" in dom


def test_the_browser_check_can_fail(tmp_path, chromium):
    """Negative controls: a page with a script error, and a blank page, are caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><h1>x</h1><img src='data:image/png;base64,AAAA' alt='bad'>"
                   "<a href='#nowhere'>x</a><script>undefinedFunction();</script>" + PROBE + "</body></html>")
    messages = render(chromium, bad, tmp_path / "bad.png", size=(400, 300))
    joined = "\n".join(messages)
    assert "undefinedFunction" in joined and "broken image bad" in joined and "dangling link" in joined
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body style='background:#fff'></body></html>")
    render(chromium, blank, tmp_path / "blank.png", size=(400, 300))
    assert pixel_std(tmp_path / "blank.png") < 1e-6
