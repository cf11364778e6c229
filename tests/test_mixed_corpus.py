"""Issue 16's end-to-end check: a mixed JSONL and Parquet corpus, with the text
under ``text`` in some shards and ``content`` in others, dates as ISO strings,
epoch numbers and missing, and one shard with no text field at all, dedups in
one ``thresher dedup --keep newest`` run that keeps the newest record of every
cluster, checked row by row; the shard without text is named first."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

#: Documents with planted copies; each copy has its own date (or none).
N_BASES = 40
WORDS = 90


def thresher_command() -> list[str]:
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_texts(seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
        for _ in range(3000)
    ]
    return [[rng.choice(vocabulary) for _ in range(WORDS)] for _ in range(N_BASES)]


def variant(words: list[str], copy: int) -> str:
    """Copy 0 is the base; others change one word near the end (Jaccard > 0.85)."""
    if copy == 0:
        return " ".join(words)
    changed = list(words)
    changed[WORDS - 1 - copy] = f"variant{copy}"
    return " ".join(changed)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int | None]]:
    """Four shards holding copies of each base, and one shard without text.
    Returns the directory and, per record id, its date in epoch seconds."""
    root = tmp_path_factory.mktemp("mixed")
    bases = base_texts(16)
    rng = random.Random(7)
    dates: dict[str, int | None] = {}
    iso_rows, epoch_rows, pq_ms, pq_missing = [], [], [], []
    for b, words in enumerate(bases):
        # Distinct dates per copy, in an order unrelated to the shard order.
        stamps = rng.sample(range(1_500_000_000, 1_700_000_000, 86_400), 3)
        iso_rows.append({"id": f"b{b}-iso", "text": variant(words, 0), "date": iso(stamps[0])})
        dates[f"b{b}-iso"] = stamps[0]
        epoch_rows.append(
            {"id": f"b{b}-epoch", "content": variant(words, 1), "timestamp": stamps[1]}
        )
        dates[f"b{b}-epoch"] = stamps[1]
        pq_ms.append(
            {"id": f"b{b}-ms", "content": variant(words, 2), "created_at": stamps[2] * 1000}
        )
        dates[f"b{b}-ms"] = stamps[2]
        if b % 4 == 0:  # some clusters also hold a copy without a date
            pq_missing.append({"id": f"b{b}-none", "text": variant(words, 3), "date": None})
            dates[f"b{b}-none"] = None
    (root / "a_iso.jsonl").write_text("\n".join(json.dumps(r) for r in iso_rows) + "\n")
    (root / "b_epoch.jsonl").write_text("\n".join(json.dumps(r) for r in epoch_rows) + "\n")
    pl.DataFrame(pq_ms).write_parquet(root / "c_millis.parquet")
    pl.DataFrame(
        pq_missing, schema={"id": pl.String, "text": pl.String, "date": pl.String}
    ).write_parquet(root / "d_nodate.parquet")
    no_text = [
        {"id": f"x{i}", "body": "no text field here", "date": iso(1_600_000_000)} for i in range(25)
    ]
    (root / "z_notext.jsonl").write_text("\n".join(json.dumps(r) for r in no_text) + "\n")
    # More error rows than the shard without text, but some records: named after it.
    # (The sniffer reads a file as JSON Lines when most of its first lines are.)
    singles = base_texts(99)[:8]
    messy = []
    odd_dates: list[tuple[str, object, int | None]] = [
        ("e-neg", -86_400, -86_400),  # before 1970: a date
        ("e-far", "99999-01-01", None),  # past year 9999: a `field` row
        ("e-junk", [1, 2], None),  # not a date at all: a `field` row
        *((f"e-{i}", None, None) for i in range(5)),
    ]
    for (key, value, seconds), words in zip(odd_dates, singles, strict=True):
        messy.append(json.dumps({"id": key, "text": " ".join(words), "date": value}))
        dates[key] = seconds
    messy += ['{"text": "cut off', *(f"not json {i}" for i in range(30))]
    (root / "e_messy.jsonl").write_text("\n".join(messy) + "\n")
    return root, dates


@pytest.fixture(scope="module")
def run_out(
    corpus: tuple[Path, dict[str, int | None]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root, _ = corpus
    out = tmp_path_factory.mktemp("out") / "out"
    proc = subprocess.run(
        [*thresher_command(), "dedup", str(root), "--out", str(out), "--keep", "newest"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return out, proc


def test_every_record_read_with_its_date(
    corpus: tuple[Path, dict[str, int | None]],
    run_out: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, dates = corpus
    out, _ = run_out
    records = pl.concat(
        [pl.read_parquet(out / "kept.parquet"), pl.read_parquet(out / "duplicates.parquet")]
    )
    assert sorted(records["id"].to_list()) == sorted(dates)
    for row in records.iter_rows(named=True):
        expected = dates[row["id"]]
        assert row["date"] == (None if expected is None else iso(expected)), row["id"]
        assert row["text"], row["id"]


def test_keep_newest_row_by_row(
    corpus: tuple[Path, dict[str, int | None]],
    run_out: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, dates = corpus
    out, _ = run_out
    kept = pl.read_parquet(out / "kept.parquet")
    dups = pl.read_parquet(out / "duplicates.parquet")
    id_of = dict(pl.concat([kept, dups]).select("doc_id", "id").rows())
    # Every base is one cluster of all its copies.
    members: dict[str, list[str]] = {}
    for row in dups.iter_rows(named=True):
        members.setdefault(id_of[row["duplicate_of"]], []).append(row["id"])
    assert len(members) == N_BASES
    for representative, copies in members.items():
        group = [representative, *copies]
        base = representative.split("-")[0]
        assert all(c.startswith(base + "-") for c in group), group
        newest = max((c for c in group if dates[c] is not None), key=lambda c: dates[c] or 0)
        assert representative == newest, (group, {c: dates[c] for c in group})


def test_shard_without_text_named_first(
    corpus: tuple[Path, dict[str, int | None]],
    run_out: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, _ = corpus
    out, proc = run_out
    summary = json.loads((out / "summary.json").read_text())
    no_text = str(root / "z_notext.jsonl")
    assert summary["files_without_records"] == [no_text]
    errors = pl.read_parquet(out / "errors.parquet")
    messy = str(root / "e_messy.jsonl")
    assert set(errors["source"].to_list()) == {no_text, messy}
    by_source = dict(errors["source"].value_counts().iter_rows())
    assert by_source[messy] > by_source[no_text]  # so count alone would put it first
    assert errors.filter(pl.col("source") == messy)["kind"].value_counts().sort("kind").rows() == [
        ("field", 2),
        ("malformed", 31),
    ]
    assert summary["errors_by_kind"] == dict(sorted(errors["kind"].value_counts().iter_rows()))
    # The terminal summary and the report name it before any other file.
    terminal = proc.stdout + proc.stderr
    assert -1 < terminal.find("z_notext.jsonl") < terminal.find("e_messy.jsonl"), terminal
    report = (out / "report.html").read_text()
    assert -1 < report.find("z_notext.jsonl") < report.find("e_messy.jsonl")
