"""A persistent index at scale: build it from ``--docs`` generated documents,
then dedup one more "day" of ``--day`` documents against it.

The corpus comes from ``benches/gen_corpus.py`` (Parquet, planted exact and
near copies, clusters spread over the whole corpus within blocks of 262,144
documents), generated once into ``benches/data/index-<docs+day>`` and reused.
Its first ``--docs`` rows (in shard order) are the past; the next ``--day``
rows are the new day, whose copies of earlier documents are the matches to
find. Each step runs in a fresh process, so that its peak RSS (``VmHWM``) is
its own:

1. ``create`` + ``add``: ``Index.add(pl.scan_parquet(...).head(docs))``,
   streamed in batches, with the ids;
2. ``dedup``: ``Index.dedup(day)`` (the day's rows among themselves and
   against the index; they are added after);
3. ``compact``: ``Index.compact()``.

Reported: documents per second of each step, peak RSS, the index's bytes on
disk and bytes per document, the day's matches, and a linear projection to
``--project`` documents.

    .venv-bench/bin/python benches/bench_index.py [--docs 20000000] [--day 1000000]
        [--verify signature|exact] [--project 1000000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

STEP = r"""
import json, sys, time
import polars as pl
import thresher
step, index_path, shards, docs, day, verify = sys.argv[1:7]
docs, day = int(docs), int(day)
files = sorted(shards.split(","))
lazy = pl.scan_parquet(files).select("id", "text")
start = time.perf_counter()
out = {}
if step == "add":
    index = thresher.Index.create(index_path, verify=verify)
    index.add(lazy.head(docs), id_column="id")
    out["documents"] = len(index)
elif step == "dedup":
    index = thresher.Index.open(index_path, "a")
    rows = lazy.slice(docs, day).collect()
    loaded = time.perf_counter()
    result = index.dedup(rows, id_column="id")
    out["load_s"] = loaded - start
    out["rows"] = result.height
    out["duplicates"] = int(result["is_duplicate"].sum())
    out["matched"] = int(result["match_id"].is_not_null().sum())
    out["documents"] = len(index)
elif step == "compact":
    index = thresher.Index.open(index_path, "a")
    index.compact()
    out["documents"] = len(index)
out["seconds"] = time.perf_counter() - start
status = open("/proc/self/status").read().splitlines()
out["peak_rss"] = int(next(l for l in status if l.startswith("VmHWM")).split()[1]) * 1024
print(json.dumps(out))
"""


def corpus(total: int) -> list[Path]:
    """The Parquet shards of a generated corpus of ``total`` documents."""
    root = DATA / f"index-{total}"
    if not (root / "params.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(
            [
                *(sys.executable, str(HERE / "gen_corpus.py"), "--docs", str(total)),
                *("--out", str(root), "--format", "parquet"),
                *("--min-words", "40", "--max-words", "200"),
            ],
            check=True,
        )
    return sorted((root / "shards").glob("*.parquet"))


def step(name: str, index: Path, shards: list[Path], docs: int, day: int, verify: str) -> dict:
    args = [name, str(index), ",".join(map(str, shards)), str(docs), str(day), verify]
    proc = subprocess.run(
        [sys.executable, "-c", STEP, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000_000)
    parser.add_argument("--day", type=int, default=1_000_000)
    parser.add_argument("--verify", choices=["signature", "exact"], default="signature")
    parser.add_argument("--project", type=int, default=1_000_000_000)
    parser.add_argument("--index", type=Path, default=HERE / "out" / "index")
    args = parser.parse_args()
    shards = corpus(args.docs + args.day)
    shutil.rmtree(args.index, ignore_errors=True)
    args.index.parent.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}")
    started = time.perf_counter()
    add = step("add", args.index, shards, args.docs, args.day, args.verify)
    size = disk_bytes(args.index)
    dedup = step("dedup", args.index, shards, args.docs, args.day, args.verify)
    compact = step("compact", args.index, shards, args.docs, args.day, args.verify)
    size_after = disk_bytes(args.index)
    print(f"load average at end: {os.getloadavg()}; {time.perf_counter() - started:.0f} s in all")
    per_doc = size / add["documents"]
    print()
    print(f"{args.docs:,} documents stored, a day of {args.day:,}; verify={args.verify}")
    print()
    print("| step | documents | seconds | documents/s | peak RSS |")
    print("|---|---|---|---|---|")
    print(
        f"| add (build the index) | {args.docs:,} | {add['seconds']:.1f} "
        f"| {args.docs / add['seconds']:,.0f} | {add['peak_rss'] / 1e6:,.0f} MB |"
    )
    day_s = dedup["seconds"] - dedup["load_s"]
    print(
        f"| dedup a day against it (then add it) | {args.day:,} | {day_s:.1f} "
        f"| {args.day / day_s:,.0f} | {dedup['peak_rss'] / 1e6:,.0f} MB |"
    )
    print(
        f"| compact | {compact['documents']:,} | {compact['seconds']:.1f} "
        f"| {compact['documents'] / compact['seconds']:,.0f} "
        f"| {compact['peak_rss'] / 1e6:,.0f} MB |"
    )
    print()
    print(
        f"on disk: {size / 1e6:,.0f} MB after the build ({per_doc:,.0f} bytes per document), "
        f"{size_after / 1e6:,.0f} MB after the day and compact"
    )
    print(
        f"the day: {dedup['duplicates']:,} duplicates, {dedup['matched']:,} rows matched the index"
    )
    scale = args.project / args.docs
    print()
    print(f"projection to {args.project:,} documents (linear in the stored documents):")
    tb = per_doc * args.project / 1e12
    print(f"  on disk: {per_doc:,.0f} B x {args.project:,} = {tb:,.2f} TB")
    print(
        f"  build: {add['seconds']:.1f} s x {scale:,.0f} = {add['seconds'] * scale / 3600:,.1f} h "
        f"on this machine's 2 cores"
    )
    print(
        f"  compact: {compact['seconds']:.1f} s x {scale:,.0f} = "
        f"{compact['seconds'] * scale / 3600:,.1f} h"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
