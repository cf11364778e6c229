"""The test suite's own rules: seed tests may skip only outside CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, require_seeds


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_missing_seeds_fail_in_ci(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="seed dumps not found"):
        require_seeds(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pytest.fail.Exception):
        require_seeds(tmp_path / "empty")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_missing_seeds_skip_outside_ci(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="seed dumps not found"):
        require_seeds(tmp_path / "absent")


def test_present_seeds_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    (tmp_path / "000_x.txt").write_text("x")
    assert require_seeds(tmp_path) == tmp_path
    assert SEEDS.name == "seeds"
