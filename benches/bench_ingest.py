"""Ingest throughput: plain, gzip and zstd paper-listing dumps, one thread and
all threads, with peak RSS; and the decompressors alone as the bound.

Writes a corpus of generated paper-listing dumps (``--size-mb`` of text in
files of about ``--file-mb``) to ``benches/data/ingest``, as plain files, as
``.gz`` (zlib level 6) and as ``.zst`` (level 3). Each measurement runs in its
own subprocess that streams the corpus through ``thresher.scan`` and drops
the frames, so peak RSS is the scanner's, not the corpus's. RSS is measured
at two corpus sizes to show it does not grow with the input. Besides MB/s
of text per wall-clock second, each run gives MB of text per CPU-second of
the whole process (all threads: workers, the consumer, Python): the
figure that holds on a busy machine.

    .venv-bench/bin/python benches/bench_ingest.py [--size-mb 1024] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import zlib
from pathlib import Path

import zstandard

from thresher import sample_dumps

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "ingest"
OUT = HERE / "out"

SCAN = r"""
import json, resource, sys, time, thresher
paths, threads = sys.argv[1:-1], int(sys.argv[-1])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
start, cpu_start = time.perf_counter(), cpu()
records = errors = 0
with thresher.scan(paths, batch_size=65536, threads=threads) as scan:
    for frame in scan:
        records += frame.height
    errors = scan.errors.height
elapsed, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu_seconds, "records": records,
                  "errors": errors, "rss": rss}))
"""

DECOMPRESS = r"""
import json, sys, time, zlib, zstandard
codec, paths = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
total = 0
for path in paths:
    with open(path, "rb") as fh:
        if codec == "gz":
            d = zlib.decompressobj(31)
            while chunk := fh.read(1 << 20):
                total += len(d.decompress(chunk))
        else:
            reader = zstandard.ZstdDecompressor().stream_reader(fh)
            while chunk := reader.read(1 << 20):
                total += len(chunk)
print(json.dumps({"seconds": time.perf_counter() - start, "bytes": total}))
"""


def write_corpus(size_mb: int, file_mb: int, seed: int) -> dict[str, list[Path]]:
    """Plain, .gz and .zst copies of the same generated dumps; reused when present."""
    marker = DATA / f"corpus-{size_mb}-{file_mb}-{seed}.json"
    if marker.exists():
        names = json.loads(marker.read_text())
        return {k: [DATA / k / n for n in v] for k, v in names.items()}
    for kind in ("plain", "gz", "zst"):
        (DATA / kind).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # A pool of distinct dump pages; files are pages drawn from it.
    pages = [
        sample_dumps.generate_dump(
            rng, 150, layout=sample_dumps.LAYOUTS[i % 2], glued_title=i % 3 == 0
        )
        for i in range(48)
    ]
    names: dict[str, list[str]] = {"plain": [], "gz": [], "zst": []}
    written = 0
    index = 0
    zstd = zstandard.ZstdCompressor(level=3)
    while written < size_mb << 20:
        parts: list[str] = []
        size = 0
        while size < file_mb << 20:
            page = rng.choice(pages)
            parts.append(page)
            size += len(page)
        data = "".join(parts).encode()
        name = f"dump_{index:05d}.txt"
        (DATA / "plain" / name).write_bytes(data)
        (DATA / "gz" / (name + ".gz")).write_bytes(gzip_bytes(data))
        (DATA / "zst" / (name + ".zst")).write_bytes(zstd.compress(data))
        for kind, suffix in (("plain", ""), ("gz", ".gz"), ("zst", ".zst")):
            names[kind].append(name + suffix)
        written += len(data)
        index += 1
    marker.write_text(json.dumps(names))
    return {k: [DATA / k / n for n in v] for k, v in names.items()}


def gzip_bytes(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def run_json(script: str, args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(script: str, args: list[str], repeat: int) -> dict[str, float]:
    runs = [run_json(script, args) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="corpus size (text)")
    parser.add_argument("--file-mb", type=int, default=16, help="size of one dump file")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    print(f"load average at start: {os.getloadavg()}")
    corpus = write_corpus(args.size_mb, args.file_mb, args.seed)
    text_bytes = sum(p.stat().st_size for p in corpus["plain"])
    print(f"corpus: {len(corpus['plain'])} files, {text_bytes / 1e6:.0f} MB of text")
    results = []
    for kind in ("plain", "gz", "zst"):
        stored = sum(p.stat().st_size for p in corpus[kind])
        paths = [str(p) for p in corpus[kind]]
        bound = None
        if kind != "plain":
            d = best(DECOMPRESS, [kind, *paths], args.repeat)
            bound = text_bytes / d["seconds"] / 1e6
        for threads in sorted({1, cpus}):
            r = best(SCAN, [*paths, str(threads)], args.repeat)
            row = {
                "input": kind,
                "threads": threads,
                "stored_mb": stored / 1e6,
                "seconds": r["seconds"],
                "text_mb_s": text_bytes / r["seconds"] / 1e6,
                "cpu_seconds": r["cpu_seconds"],
                "text_mb_per_cpu_s": text_bytes / r["cpu_seconds"] / 1e6,
                "records": r["records"],
                "errors": r["errors"],
                "rss_mb": r["rss"] / 1e6,
                "decompress_only_mb_s": bound,
            }
            results.append(row)
            extra = f", decompressor alone {bound:.0f} MB/s (1 thread)" if bound else ""
            print(
                f"{kind:5} threads={threads:2}: {row['text_mb_s']:7.0f} MB/s of text "
                f"({row['text_mb_per_cpu_s']:.0f} MB per CPU-second), "
                f"{r['records']:,} records, {r['errors']} errors, "
                f"peak RSS {row['rss_mb']:.0f} MB{extra}"
            )
    # RSS against input size: a quarter of the corpus, then all of it.
    quarter = [str(p) for p in corpus["plain"][: max(1, len(corpus["plain"]) // 4)]]
    small = run_json(SCAN, [*quarter, str(cpus)])
    large = run_json(SCAN, [*(str(p) for p in corpus["plain"]), str(cpus)])
    print(
        f"peak RSS, {cpus} threads: {small['rss'] / 1e6:.0f} MB for a quarter of the corpus, "
        f"{large['rss'] / 1e6:.0f} MB for all of it"
    )
    print(f"load average at end: {os.getloadavg()}")
    OUT.mkdir(exist_ok=True)
    (OUT / "ingest.json").write_text(
        json.dumps(
            {
                "text_bytes": text_bytes,
                "runs": results,
                "rss_quarter": small["rss"],
                "rss_full": large["rss"],
                "when": time.strftime("%Y-%m-%d %H:%M"),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
