"""The ``thresher dedup`` command on a generated corpus of nested archives:
wall time, records/s, MB/s and peak RSS of the command, at a quarter, a half
and all of ``--papers`` (so that memory per record can be read off: a line
fitted through the three peaks gives the fixed part and the bytes per
record), against ``thresher.ingest`` + ``thresher.dedup`` in memory on the
whole corpus in the same run, printed as markdown tables. Each size runs
twice: with the default ``--memory`` (pass 1's records held in memory up to
a quarter of RAM, at most 2 GiB, the rest spooled to disk) and with
``--memory 0`` (every batch spooled to disk: the bounded-memory path, whose
peaks give the line). ``--repeat N`` runs each N times and reports the
fastest run's time and the median peak RSS.

The corpus (``benches/data/cli``): paper-listing dumps in which about 15% of
the papers are verbatim copies and 15% near copies (a few words edited) of
earlier ones, stored as plain files, ``.zst`` files, and tar.gz archives of
zips of dumps. ``--papers`` sets its size (the bundled samples hold 180).
Each run is the installed ``thresher`` command in a fresh process, measured
with ``os.wait4`` (peak RSS of that process alone).

    .venv-bench/bin/python benches/bench_cli.py [--papers 400000] [--threads 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from thresher import sample_dumps

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "cli"
OUT = HERE / "out"
PAPERS_PER_FILE = 400


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def write_corpus(papers: int, seed: int, shards: int = 1) -> tuple[Path, int]:
    """Write (or reuse) a corpus of about ``papers`` papers; returns its
    directory and the bytes of text in it.

    With ``shards`` > 1 the corpus is that many independent corpora of
    ``papers / shards`` papers each (seeds ``seed * 1000 + i``), written by
    parallel processes into ``shard-NN`` folders: the same shape (share of
    copies and near copies, file layout) written ``shards`` times faster, for
    machines with many cores and little time. Copies then stay within a
    shard."""
    if shards <= 1:
        root = DATA / f"papers-{papers}-seed-{seed}"
    else:
        root = DATA / f"papers-{papers}-seed-{seed}-x{shards}"
    marker = root / ".done.json"
    if marker.exists():
        return root, json.loads(marker.read_text())["text_bytes"]
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    if shards <= 1:
        text_bytes = _write_dumps(root, papers, seed)
    else:
        from concurrent.futures import ProcessPoolExecutor

        each = max(1, papers // shards)
        with ProcessPoolExecutor(min(shards, os.cpu_count() or 1)) as pool:
            jobs = [
                pool.submit(_write_dumps, root / f"shard-{i:02d}", each, seed * 1000 + i)
                for i in range(shards)
            ]
            text_bytes = sum(job.result() for job in jobs)
    marker.write_text(json.dumps({"text_bytes": text_bytes}))
    return root, text_bytes


def _write_dumps(root: Path, papers: int, seed: int) -> int:
    """The dumps of about ``papers`` papers under ``root``; returns the bytes
    of text written."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fresh: list[tuple[str, str]] = []
    dumps: list[bytes] = []
    for f in range(max(1, papers // PAPERS_PER_FILE)):
        listing: list[tuple[str, str]] = []
        for _ in range(PAPERS_PER_FILE):
            roll = rng.random()
            if fresh and roll < 0.15:
                listing.append(rng.choice(fresh))
            elif fresh and roll < 0.30:
                title, abstract = rng.choice(fresh)
                listing.append((title, sample_dumps.near_copy(rng, abstract)[0]))
            else:
                paper = sample_dumps.generate_paper(rng)
                fresh.append(paper)
                listing.append(paper)
        text = sample_dumps.generate_dump(
            rng, len(listing), layout=sample_dumps.LAYOUTS[f % 2], papers=listing
        )
        dumps.append(text.encode())
    zstd = _zstd_compressor(level=3)
    # Groups of 8 dumps: 2 plain, 2 .zst, 4 in a tar.gz holding two zips.
    for g in range(0, len(dumps), 8):
        group = dumps[g : g + 8]
        d = root / f"crawl-{g // 8:03d}"
        d.mkdir()
        for i, data in enumerate(group[:2]):
            (d / f"listing-{i}.txt").write_bytes(data)
        for i, data in enumerate(group[2:4]):
            (d / f"listing-{i}.txt.zst").write_bytes(zstd.compress(data))
        rest = group[4:]
        if rest:
            zips = {
                f"part-{j}.zip": _zip({f"p/{j}-{k}.txt": x for k, x in enumerate(rest[j : j + 2])})
                for j in range(0, len(rest), 2)
            }
            (d / "archive.tar.gz").write_bytes(_tar_gz(zips))
    return sum(len(x) for x in dumps)


def _zstd_compressor(level: int) -> Any:
    """A zstd compressor: the ``zstandard`` package's, else pyarrow's codec
    (the same frame format; the device machine has pyarrow but not
    ``zstandard``)."""
    try:
        import zstandard
    except ImportError:
        import pyarrow

        codec = pyarrow.Codec("zstd", compression_level=level)

        class _Arrow:
            def compress(self, data: bytes) -> bytes:
                return codec.compress(data, asbytes=True)

        return _Arrow()
    return zstandard.ZstdCompressor(level=level)


def thresher_program() -> str:
    """The installed ``thresher`` command: beside this Python, else on PATH
    (a ``pip install --target`` puts it in that folder's ``bin``)."""
    beside = Path(sys.executable).parent / "thresher"
    if beside.exists():
        return str(beside)
    found = shutil.which("thresher")
    if found is None:
        raise SystemExit("the thresher command is not installed beside this Python nor on PATH")
    return found


def run_command(corpus: Path, out: Path, threads: int, memory: str | None) -> dict[str, Any]:
    """One ``thresher dedup --json`` run in a fresh process (with ``--memory
    memory`` unless ``None``): seconds, peak RSS (``os.wait4``), the peak RSS
    seen in each phase (sampled every 20 ms with psutil, when installed) and
    the summary."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [thresher_program(), "dedup", str(corpus), "--out", str(out), "--json"]
    cmd += ["--threads", str(threads)]
    if memory is not None:
        cmd += ["--memory", memory]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    phase = ["start"]
    phase_rss: dict[str, int] = {}
    reaped = threading.Event()
    sampler = threading.Thread(
        target=_sample_rss, args=(proc.pid, reaped, phase, phase_rss), daemon=True
    )
    sampler.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "phase_start":
            phase[0] = event["phase"]
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    reaped.set()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {code}")
    sampler.join()
    summary = json.loads((out / "summary.json").read_text())
    return {
        "seconds": seconds,
        "rss": usage.ru_maxrss * 1024,
        "phase_rss": phase_rss,
        "summary": summary,
    }


def _sample_rss(pid: int, reaped: threading.Event, phase: list[str], peaks: dict[str, int]) -> None:
    """Peak RSS of process ``pid`` in each phase, until it ends. It never
    waits for the process (``Popen.poll`` would reap it before the caller's
    ``os.wait4`` reads its resource usage); a process that has ended is a
    zombie, whose memory psutil refuses to read."""
    try:
        import psutil
    except ImportError:
        return
    try:
        process = psutil.Process(pid)
        while not reaped.is_set():
            rss = process.memory_info().rss
            peaks[phase[0]] = max(peaks.get(phase[0], 0), rss)
            time.sleep(0.02)
    except psutil.Error:
        return


IN_MEMORY = r"""
import json, os, sys, time, thresher
start = time.perf_counter()
records = thresher.ingest(sys.argv[1]).records
read = time.perf_counter() - start
result = thresher.dedup(records)
total = time.perf_counter() - start
print(json.dumps({"ingest": read, "dedup": total - read, "seconds": total,
                  "duplicates": int(result["is_duplicate"].sum())}))
"""


def run_in_memory(corpus: Path, threads: int) -> dict[str, Any]:
    """``thresher.ingest`` then ``thresher.dedup`` in a fresh process with
    ``threads`` threads: seconds of each, the process's wall time (start and
    imports included, as in the command's), and peak RSS (``os.wait4``)."""
    env = {**os.environ, "RAYON_NUM_THREADS": str(threads), "POLARS_MAX_THREADS": str(threads)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", IN_MEMORY, str(corpus)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("ingest + dedup in memory failed")
    wall = time.perf_counter() - started
    return {**json.loads(output), "wall": wall, "rss": usage.ru_maxrss * 1024}


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``: returns ``(a, b)``."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


def _row(r: dict[str, Any], papers: int, stored: int, text_bytes: int) -> dict[str, Any]:
    s = r["summary"]
    return {
        "papers": papers,
        "files": s["files"],
        "stored_mb": stored / 1e6,
        "text_mb": text_bytes / 1e6,
        "records": s["records_in"],
        "kept": s["kept"],
        "exact": s["exact_duplicates"],
        "near": s["near_duplicates"],
        "errors": s["errors"],
        "seconds": r["seconds"],
        "records_s": s["records_in"] / r["seconds"],
        "mb_s": text_bytes / 1e6 / r["seconds"],
        "rss_mb": r["rss"] / 1e6,
        "timings": s["timings"],
        "phase_rss_mb": {k: v / 1e6 for k, v in r["phase_rss"].items()},
    }


def _combine(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for runs of the same command: the fastest run's figures, with
    the median of the runs' peak RSS (whole run and by phase; pass 4's peak
    depends on how many row groups are in flight, so one run does not pin
    the per-record term down) and every run's peak in ``rss_runs_mb``."""
    row = dict(min(repeats, key=lambda r: r["seconds"]))
    row["rss_runs_mb"] = [r["rss_mb"] for r in repeats]
    row["rss_mb"] = statistics.median(row["rss_runs_mb"])
    phases = dict.fromkeys(k for r in repeats for k in r["phase_rss_mb"])
    row["phase_rss_mb"] = {
        k: statistics.median(r["phase_rss_mb"][k] for r in repeats if k in r["phase_rss_mb"])
        for k in phases
    }
    return row


def _print_runs(title: str, rows: list[dict[str, Any]]) -> None:
    """The table of the command's runs at the three sizes, the line through
    their peaks, and their phases."""
    print(f"\n{title}\n")
    print(
        "| records | input files | stored MB | text MB | kept | exact | near | wall s "
        "| records/s | MB/s of text | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['records']:,} | {r['files']} | {r['stored_mb']:.1f} | {r['text_mb']:.1f} "
            f"| {r['kept']:,} | {r['exact']:,} | {r['near']:,} | {r['seconds']:.1f} "
            f"| {r['records_s']:,.0f} | {r['mb_s']:.1f} | {r['rss_mb']:.0f} MB |"
        )
    if any(len(r["rss_runs_mb"]) > 1 for r in rows):
        for r in rows:
            runs = ", ".join(f"{mb:.0f}" for mb in r["rss_runs_mb"])
            print(f"peak RSS of each run, {r['records']:,} records: {runs} MB (median above)")
    fixed, per_record = fit_line([r["records"] for r in rows], [r["rss_mb"] * 1e6 for r in rows])
    print(
        f"\npeak RSS fits {fixed / 1e6:.0f} MB + {per_record:.0f} bytes per record "
        f"(least squares over the {len(rows)} sizes)"
    )
    for r in rows:
        print(f"phases, {r['records']:,} records: seconds {r['timings']}")
        peaks = ", ".join(f"{k} {v:.0f} MB" for k, v in r["phase_rss_mb"].items())
        print(f"    peak RSS by phase: {peaks}")
    small, large = rows[0], rows[-1]
    if small["phase_rss_mb"] and large["phase_rss_mb"]:
        extra = large["records"] - small["records"]
        slopes = ", ".join(
            f"{k} {(large['phase_rss_mb'][k] - small['phase_rss_mb'][k]) * 1e6 / extra:.0f} B"
            for k in large["phase_rss_mb"]
            if k in small["phase_rss_mb"]
        )
        print(f"peak RSS growth per extra record, by phase: {slopes}")


def main() -> int:
    """Write the corpus, run the command at three sizes and the in-memory
    path on the largest, print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=400_000, help="papers in the corpus")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of the command per size and --memory: the fastest run's time, "
        "the median peak RSS",
    )
    parser.add_argument("--write-corpus", type=int, metavar="PAPERS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_corpus:
        write_corpus(args.write_corpus, args.seed)
        return 0
    print(f"load average at start: {os.getloadavg()}")
    runs: dict[str, list[dict[str, Any]]] = {"default": [], "0": []}
    for papers in (args.papers // 4, args.papers // 2, args.papers):
        # Written by a child process: a child forked from a parent holding the
        # generated text would count the parent's pages in its peak RSS.
        subprocess.run(
            [sys.executable, __file__, "--write-corpus", str(papers), "--seed", str(args.seed)],
            check=True,
        )
        corpus, text_bytes = write_corpus(papers, args.seed)
        stored = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
        for memory, rows in runs.items():
            flag = None if memory == "default" else memory
            repeats = [
                _row(
                    run_command(corpus, OUT / f"cli-{papers}", args.threads, flag),
                    papers,
                    stored,
                    text_bytes,
                )
                for _ in range(args.repeat)
            ]
            rows.append(_combine(repeats))
    in_memory = run_in_memory(corpus, args.threads)
    print(f"load average at end: {os.getloadavg()}")
    mem_mb_s = runs["0"][-1]["text_mb"] / in_memory["wall"]
    for memory, rows in runs.items():
        large = rows[-1]
        if in_memory["duplicates"] != large["exact"] + large["near"]:
            raise SystemExit(
                f"in memory found {in_memory['duplicates']} duplicates, "
                f"the command (--memory {memory}) {large['exact'] + large['near']}"
            )
        _print_runs(f"--memory {memory}", rows)
    print()
    print("| path, whole corpus (fresh process each) | wall s | MB/s of text | peak RSS |")
    print("|---|---|---|---|")
    print(
        f"| thresher.ingest + thresher.dedup in memory (ingest {in_memory['ingest']:.1f} s, "
        f"dedup {in_memory['dedup']:.1f} s) | {in_memory['wall']:.1f} | {mem_mb_s:.1f} "
        f"| {in_memory['rss'] / 1e6:.0f} MB |"
    )
    for memory, rows in runs.items():
        large = rows[-1]
        print(
            f"| thresher dedup (the command, --memory {memory}) | {large['seconds']:.1f} "
            f"| {large['mb_s']:.1f} | {large['rss_mb']:.0f} MB |"
        )
    for memory, rows in runs.items():
        print(
            f"the command with --memory {memory} runs at "
            f"{rows[-1]['mb_s'] / mem_mb_s:.2f}x the in-memory path's throughput"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "cli.json").write_text(
        json.dumps({"runs": runs, "in_memory": in_memory, "threads": args.threads}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
