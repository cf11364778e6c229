"""Parallel efficiency: signatures, in-memory dedup and the command at 1, 2,
4, ... threads on the ``bench_cli`` corpus.

For each thread count ``N`` (``--threads 1,2,4,8,16``), a fresh process with
``RAYON_NUM_THREADS=N`` and ``POLARS_MAX_THREADS=N`` times, on the records
of the corpus (read once by ``thresher.ingest`` in that process, not timed
with the rest):

* ``signatures``: ``thresher.minhash(records["text"])``;
* ``dedup``: ``thresher.dedup(records)``, everything in memory;

and the installed command ``thresher dedup CORPUS --out OUT --threads N
--quiet`` runs in its own process. Each figure is the best of
``--repeat``. The table gives MB/s of text, the speed-up over one thread
and the parallel efficiency (speed-up / N): 100% is perfect scaling.

    .venv-bench/bin/python benches/bench_threads.py [--papers 200000] [--threads 1,2]
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
sys.path.insert(0, str(HERE))

from bench_cli import OUT, thresher_program, write_corpus  # noqa: E402

IN_MEMORY = r"""
import json, sys, time, thresher
corpus, repeat = sys.argv[1], int(sys.argv[2])
records = thresher.ingest(corpus).records
texts = records["text"]
thresher.minhash(texts.head(2000))  # warm-up: thread pool, code paths
best = {}
for _ in range(repeat):
    start = time.perf_counter()
    thresher.minhash(texts)
    signatures = time.perf_counter() - start
    start = time.perf_counter()
    result = thresher.dedup(records)
    dedup = time.perf_counter() - start
    best["signatures"] = min(best.get("signatures", signatures), signatures)
    best["dedup"] = min(best.get("dedup", dedup), dedup)
best["duplicates"] = int(result["is_duplicate"].sum())
print(json.dumps(best))
"""


def _env(threads: int) -> dict[str, str]:
    return {**os.environ, "RAYON_NUM_THREADS": str(threads), "POLARS_MAX_THREADS": str(threads)}


def in_memory(corpus: Path, threads: int, repeat: int) -> dict[str, float]:
    """Seconds of the in-memory stages at ``threads`` threads (best of ``repeat``)."""
    proc = subprocess.run(
        [sys.executable, "-c", IN_MEMORY, str(corpus), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        env=_env(threads),
    )
    return json.loads(proc.stdout)


def command(corpus: Path, threads: int, repeat: int) -> tuple[float, int]:
    """Seconds of ``thresher dedup`` at ``threads`` threads (best of
    ``repeat``) and the duplicates it found."""
    script = thresher_program()
    out = OUT / f"threads-{threads}"
    best = float("inf")
    duplicates = -1
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        cmd = [script, "dedup", str(corpus), "--out", str(out), "--quiet"]
        start = time.perf_counter()
        subprocess.run([*cmd, "--threads", str(threads)], check=True, env=_env(threads))
        best = min(best, time.perf_counter() - start)
        duplicates = json.loads((out / "summary.json").read_text())["duplicates"]
    shutil.rmtree(out, ignore_errors=True)
    return best, duplicates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=200_000, help="papers in the corpus")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--shards",
        type=int,
        default=1,
        help="write the corpus as this many independent shards, in parallel",
    )
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    corpus, text_bytes = write_corpus(args.papers, args.seed, args.shards)
    mb = text_bytes / 1e6
    seconds: dict[str, dict[int, float]] = {"signatures": {}, "dedup": {}, "command": {}}
    for n in counts:
        stages = in_memory(corpus, n, args.repeat)
        seconds["signatures"][n] = stages["signatures"]
        seconds["dedup"][n] = stages["dedup"]
        seconds["command"][n], command_dups = command(corpus, n, args.repeat)
        if command_dups != stages["duplicates"]:
            raise SystemExit(
                f"{n} threads: the command found {command_dups} duplicates, "
                f"dedup in memory {stages['duplicates']}"
            )
        print(f"{n} threads: {json.dumps(stages)} command {seconds['command'][n]:.2f} s")
    print(f"\n{args.papers:,} papers, {mb:,.0f} MB of text; CPU count {os.cpu_count()}\n")
    print("| stage | threads | seconds | MB/s of text | speed-up | efficiency |")
    print("|---|---|---|---|---|---|")
    for stage, by_count in seconds.items():
        base = by_count[counts[0]] * counts[0]
        for n in counts:
            s = by_count[n]
            speedup = base / s
            print(
                f"| {stage} | {n} | {s:.2f} | {mb / s:,.0f} | "
                f"{speedup:.2f}x | {100 * speedup / n:.0f}% |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
