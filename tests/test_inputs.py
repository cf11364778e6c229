"""Input paths: globs expand, missing paths and URLs raise before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import thresher


def _corpus(root: Path) -> list[Path]:
    files = [
        root / "a" / "one.txt",
        root / "a" / "deep" / "two.txt",
        root / "b" / "three.txt",
        root / "b" / "notes.md",
    ]
    for i, path in enumerate(files):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"document number {i} with some words")
    return files


def test_globs_expand_sorted_and_recursive(tmp_path: Path) -> None:
    _corpus(tmp_path)
    flat = thresher.ingest(str(tmp_path / "*" / "*.txt")).records
    assert [Path(s).name for s in flat["source"]] == ["one.txt", "three.txt"]
    deep = thresher.ingest(str(tmp_path / "**" / "*.txt")).records
    assert [Path(s).name for s in deep["source"]] == ["two.txt", "one.txt", "three.txt"]
    with thresher.scan([tmp_path / "b" / "*.md"]) as scan:
        assert [Path(s).name for f in scan for s in f["source"]] == ["notes.md"]


def test_an_existing_name_with_glob_characters_is_a_path(tmp_path: Path) -> None:
    odd = tmp_path / "odd[1]*.txt"
    odd.write_text("a file whose name looks like a pattern")
    records = thresher.ingest(odd).records
    assert records["source"].to_list() == [str(odd)]


def test_missing_paths_and_empty_globs_raise_before_reading(tmp_path: Path) -> None:
    (good,) = _corpus(tmp_path)[:1]
    for missing in (tmp_path / "nope.txt", tmp_path / "*.zip", tmp_path / "**" / "*.jsonl.zst"):
        with pytest.raises(FileNotFoundError) as raised:
            thresher.ingest([good, missing])
        assert raised.value.filename == str(missing)
        assert isinstance(raised.value, thresher.InputNotFoundError)
        with pytest.raises(FileNotFoundError):
            thresher.scan([good, missing])


def test_urls_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    for url in ("s3://bucket/crawl.warc.gz", "https://example.com/x.jsonl", "hf://datasets/x"):
        with pytest.raises(thresher.InvalidOptionError, match="remote input is not supported"):
            thresher.ingest(url)


def test_the_command_expands_globs_and_names_what_is_missing(tmp_path: Path) -> None:
    _corpus(tmp_path)
    out = tmp_path / "records.parquet"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "thresher.cli", "scan", *args, "--out", str(out), "-q"]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    done = run(str(tmp_path / "**" / "*.txt"))
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(out).height == 3
    missing = run(str(tmp_path / "*.zip"))
    assert missing.returncode == 2 and "no input matches" in missing.stderr
    gone = run(str(tmp_path / "nope.txt"))
    assert gone.returncode == 2 and f"input not found: {tmp_path / 'nope.txt'}" in gone.stderr
    url = run("s3://bucket/x")
    assert url.returncode == 2 and "remote input is not supported" in url.stderr
