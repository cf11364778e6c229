"""Shared fixtures: paths to the real seed dumps and a helper to write files."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT.parent / "shared" / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    """The real paper-listing dumps; tests using it skip where the folder is absent."""
    if not SEEDS.is_dir() or not any(SEEDS.glob("*.txt")):
        pytest.skip(f"seed dumps not found at {SEEDS}")
    return SEEDS
