"""``thresher dedup --index PATH`` over two days of a generated corpus with
planted copies, and ``thresher index stats``: the second day's records that
copy the first day's are marked with the stored id they matched, the index
grows by every record, other parameters are a usage error (exit 2) naming
both sets, and stats prints the index's figures."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import polars as pl

import thresher

WORDS = [f"{a}{b}" for a in ("ta", "ve", "mo", "ri", "su", "gl") for b in range(120)]


def run(*args: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "thresher"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def days(root: Path) -> tuple[Path, Path, set[str]]:
    """Two JSONL days. Day 2 holds exact copies (other case) and near copies
    (one word changed) of some day-1 texts, and new texts; returns the two
    files and day 2's planted texts."""
    rng = random.Random(7)

    def text() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(60))

    first = [text() for _ in range(40)]
    planted = []
    for i, base in enumerate(first[:12]):
        if i % 2:
            planted.append(base.upper())
        else:
            words = base.split()
            words[30] = "zzchanged"
            planted.append(" ".join(words))
    second = [text() for _ in range(25)] + planted
    rng.shuffle(second)
    paths = []
    for name, texts in (("day1.jsonl", first), ("day2.jsonl", second)):
        path = root / name
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
        paths.append(path)
    return paths[0], paths[1], set(planted)


def test_two_days_against_an_index(tmp_path: Path) -> None:
    day1, day2, planted = days(tmp_path)
    index = tmp_path / "idx"
    common = ["--index", str(index), "--threshold", "0.7", "-q"]
    run("dedup", str(day1), "--out", str(tmp_path / "out1"), *common)
    summary1 = json.loads((tmp_path / "out1" / "summary.json").read_text())
    assert summary1["index_matches"] == 0
    assert summary1["index"]["documents"] == 40
    run("dedup", str(day2), "--out", str(tmp_path / "out2"), *common)
    out2 = tmp_path / "out2"
    summary2 = json.loads((out2 / "summary.json").read_text())
    kept = pl.read_parquet(out2 / "kept.parquet")
    dups = pl.read_parquet(out2 / "duplicates.parquet")
    matched = dups.filter(pl.col("index_match").is_not_null())
    assert set(matched["text"]) == planted
    assert summary2["index_matches"] == len(planted)
    assert summary2["index_bridges"] == 0
    assert kept["index_match"].null_count() == kept.height == summary2["kept"] == 25
    assert summary2["duplicates"] == dups.height == len(planted)
    # The stored id names the day-1 record: its file and byte offset.
    assert all(m.startswith(str(day1)) for m in matched["index_match"])
    assert summary2["index"]["documents"] == 40 + 37
    # Other parameters: a usage error naming both sets; nothing written.
    proc = run("dedup", str(day2), "--out", str(tmp_path / "out3"), "--index", str(index), rc=2)
    assert "threshold=0.7" in proc.stderr and "threshold=0.8" in proc.stderr
    assert not (tmp_path / "out3" / "summary.json").exists()
    # index stats: a table, and --json.
    table = run("index", "stats", str(index)).stdout
    assert "documents" in table and "77" in table and "index_format" in table
    figures = json.loads(run("index", "stats", str(index), "--json").stdout)
    assert figures["documents"] == 77
    assert figures["parameters"]["threshold"] == 0.7
    assert figures["bytes"] > 0 and figures["segments"] == 2
    assert figures["index_format"] >= 2 and figures["ids"] == "string"


def test_a_rerun_matches_the_index_as_it_was_and_adds_nothing(tmp_path: Path) -> None:
    """The same day run again, or a run killed after its add and before its
    outputs were rewritten, gives the first run's outputs, byte for byte,
    and leaves the index as it was."""
    day1, day2, planted = days(tmp_path)
    index = tmp_path / "idx"
    common = ["--index", str(index), "--threshold", "0.7", "-q"]
    run("dedup", str(day1), "--out", str(tmp_path / "out1"), *common)
    run("dedup", str(day2), "--out", str(tmp_path / "out2"), *common)
    first = {
        n: (tmp_path / "out2" / n).read_bytes() for n in ("kept.parquet", "duplicates.parquet")
    }
    again = run("dedup", str(day2), "--out", str(tmp_path / "again"), *common[:-1])
    assert "already held this run's records" in again.stdout
    for name, data in first.items():
        assert (tmp_path / "again" / name).read_bytes() == data, name
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert summary["index"] == {
        "path": str(index),
        "documents": 77,
        "added": 0,
        "already_added": True,
    }
    assert summary["index_matches"] == len(planted)
    # Killed between the add and the rewrite of the outputs: in-process,
    # the rewrite fails as a crash would stop it.
    code = f"""
import sys
import thresher.cli.index_step as step
def crash(*a, **k):
    raise SystemExit(9)
step.write_parquet = crash
from thresher.cli import main
sys.exit(main(["dedup", {str(day2)!r}, "--out", {str(tmp_path / "out3")!r},
               "--index", {str(tmp_path / "idx3")!r}, "--threshold", "0.7", "-q"]))
"""
    run(
        "dedup",
        str(day1),
        "--out",
        str(tmp_path / "o1"),
        "--index",
        str(tmp_path / "idx3"),
        *common[2:],
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert len(thresher.Index.open(tmp_path / "idx3")) == 77, "the add happened"
    run(
        "dedup",
        str(day2),
        "--out",
        str(tmp_path / "out3"),
        "--index",
        str(tmp_path / "idx3"),
        *common[2:],
    )
    for name, data in first.items():
        assert (tmp_path / "out3" / name).read_bytes() == data, name
    assert len(thresher.Index.open(tmp_path / "idx3")) == 77
