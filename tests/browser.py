"""Headless Chromium for the tests that check what ``report.html`` looks
like: the browser (a failure in CI, which installs it; a skip elsewhere),
the DOM it renders, and a screenshot of the page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import in_ci

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def chromium() -> str:
    """The Chromium binary; fails the test in CI when it is missing, skips it
    elsewhere."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if in_ci():
            pytest.fail("chromium is not installed, and CI must have it", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return browser


def rendered_dom(browser: str, url: str) -> str:
    """The page's DOM after Chromium has rendered it."""
    proc = subprocess.run(
        [browser, *FLAGS, "--dump-dom", url], capture_output=True, text=True, timeout=90
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(browser: str, url: str, shot: Path, width: int, height: int) -> None:
    """A PNG screenshot of the page in a ``width`` x ``height`` window."""
    proc = subprocess.run(
        [browser, *FLAGS, f"--screenshot={shot}", f"--window-size={width},{height}", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
