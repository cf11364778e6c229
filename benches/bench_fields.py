"""Ingest of structured records (JSONL and Parquet): what field lists, date
parsing and text units cost, end to end through ``thresher.scan``.

Writes a corpus of real text from this machine (the Python standard
library's source files, cut into short documents and long ones: 90% of 100
to 600 bytes, 10% of 2 to 12 KB) to ``benches/data/fields``: JSONL shards
whose records carry ``id``, ``url``, an ISO ``date`` and the ``text``, and
the same records as Parquet. A second set of JSONL shards spreads the text
over ``text``, ``content`` and ``raw_content`` and the date over ISO
strings, epoch seconds and epoch milliseconds (``--mixed``), which only a
build with field lists reads whole.

Each measurement is a fresh process streaming everything through
``thresher.scan(..., batch_size=65536, threads=1)``; best of ``--repeat``.
The interpreter given by ``--python`` (default: this one) runs the scans, so
that two builds can be compared on the same corpus:

    .venv-bench/bin/python benches/bench_fields.py [--rows 600000] [--repeat 3]
        [--python /other/venv/bin/python] [--mixed]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "fields"
SHARDS = 8

SCAN = r"""
import json, sys, time, thresher
paths, options = sys.argv[1:-1], json.loads(sys.argv[-1])
start = time.perf_counter()
records = 0
with thresher.scan(paths, batch_size=65536, threads=1, **options) as scan:
    for frame in scan:
        records += frame.height
    errors = scan.errors.height
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "records": records, "errors": errors}))
"""


def source_text() -> str:
    """The standard library's source, in a fixed order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "test" not in p.parts)
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def documents(rows: int, seed: int) -> list[str]:
    text = source_text()
    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        size = rng.randint(2_000, 12_000) if rng.random() < 0.1 else rng.randint(100, 600)
        start = rng.randrange(0, len(text) - size)
        out.append(text[start : start + size])
    return out


def write_corpus(rows: int) -> int:
    """Writes the corpus unless it is there; returns its bytes of text."""
    import polars as pl

    marker = DATA / f"rows-{rows}"
    if marker.exists():
        return int(marker.read_text())
    DATA.mkdir(parents=True, exist_ok=True)
    for old in DATA.iterdir():
        old.unlink()
    docs = documents(rows, seed=16)
    per_shard = -(-rows // SHARDS)
    for shard in range(SHARDS):
        chunk = docs[shard * per_shard : (shard + 1) * per_shard]
        base = shard * per_shard
        plain, mixed = [], []
        for i, text in enumerate(chunk):
            n = base + i
            seconds = 1_500_000_000 + n * 37
            url = f"https://example.org/{n}"
            plain.append({"id": f"doc-{n}", "url": url, "date": _iso(seconds), "text": text})
            field = ("text", "content", "raw_content")[n % 3]
            date: tuple[str, object] = (
                ("date", _iso(seconds)),
                ("timestamp", seconds),
                ("created_at", seconds * 1000),
            )[n % 3]
            mixed.append({"id": f"doc-{n}", "url": url, date[0]: date[1], field: text})
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in plain)
        (DATA / f"plain-{shard:02}.jsonl").write_text(lines, encoding="utf-8")
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in mixed)
        (DATA / f"mixed-{shard:02}.jsonl").write_text(lines, encoding="utf-8")
        pl.DataFrame(plain).write_parquet(DATA / f"plain-{shard:02}.parquet")
    total = sum(len(d.encode()) for d in docs)
    marker.write_text(str(total))
    return total


def _iso(seconds: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan(python: str, paths: list[Path], options: dict[str, object], repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        proc = subprocess.run(
            [python, "-c", SCAN, *map(str, paths), json.dumps(options)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(proc.stdout)
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--mixed", action="store_true", help="also the mixed-schema shards")
    parser.add_argument(
        "--new-options",
        action="store_true",
        help="also runs with date_field=None and text_unit='paragraph' (needs a build with them)",
    )
    args = parser.parse_args()
    text_bytes = write_corpus(args.rows)
    jsonl = sorted(DATA.glob("plain-*.jsonl"))
    parquet = sorted(DATA.glob("plain-*.parquet"))
    cases: list[tuple[str, list[Path], dict[str, object]]] = [
        ("jsonl", jsonl, {}),
        ("parquet", parquet, {}),
    ]
    if args.new_options:
        cases += [
            ("jsonl, date_field=None", jsonl, {"date_field": None}),
            ("jsonl, text_unit=paragraph", jsonl, {"text_unit": "paragraph"}),
            ("parquet, text_unit=paragraph", parquet, {"text_unit": "paragraph"}),
        ]
    if args.mixed:
        cases.append(("jsonl, mixed schemas", sorted(DATA.glob("mixed-*.jsonl")), {}))
    print(f"{text_bytes / 1e6:,.0f} MB of text in {args.rows:,} records; {args.python}")
    print("| input | MB/s of input text | records | error rows |")
    print("|---|---:|---:|---:|")
    for name, paths, options in cases:
        r = scan(args.python, paths, options, args.repeat)
        rate = text_bytes / r["seconds"] / 1e6
        print(f"| {name} | {rate:,.0f} | {r['records']:,} | {r['errors']:,} |", flush=True)


if __name__ == "__main__":
    main()
