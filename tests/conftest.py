"""Shared fixtures: paths to the real seed dumps and a helper to write files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT.parent / "shared" / "seeds"


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set, as CI services do, and not false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(available: bool, message: str) -> None:
    """Skips the test when a source is missing, except in CI, where it fails."""
    if not available:
        if in_ci():
            pytest.fail(f"{message}, and CI must have it", pytrace=False)
        pytest.skip(message)


def require_seeds(path: Path) -> Path:
    """``path`` if it holds the seed dumps. Otherwise the test skips, except in
    CI, which always has them: there a missing folder fails the test instead of
    letting every seed test pass by skipping."""
    if not path.is_dir() or not any(path.glob("*.txt")):
        message = f"seed dumps not found at {path}"
        if in_ci():
            pytest.fail(f"{message}, and CI must have them", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
def seeds_dir() -> Path:
    """The real paper-listing dumps; tests using it skip where the folder is
    absent, except in CI, where they fail."""
    return require_seeds(SEEDS)
