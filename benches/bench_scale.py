"""Deduplication at scale: time, peak memory and quality on a generated corpus.

Generates (``benches/gen_corpus.py``), or reuses when its ``params.json``
matches, a corpus of ``--docs`` documents with planted exact and near
duplicates, then for each ``--threads`` value runs, in a fresh subprocess
with ``RAYON_NUM_THREADS`` set (so that peak RSS is its own)::

    records = thresher.ingest(corpus / "shards").records
    thresher.dedup(records, "text", threshold=0.8)

Measured:

* time of ``ingest`` and of ``dedup``, docs/s and MB/s of text (MB = 10^6
  bytes) over both;
* memory, from ``/proc/self/status``: RSS before ingest (Python, Polars,
  thresher), RSS after ingest (mostly the records frame: the text and the
  other columns), peak RSS of ``dedup`` (``VmHWM``, reset after ingest through
  ``/proc/self/clear_refs`` where the kernel allows, else the peak of the whole
  process) and the peak of the whole process.  **Memory per document beyond
  the text** is ``(dedup peak - RSS after ingest) / docs``: what dedup needs on
  top of the ingested frame.  ``(peak - RSS before ingest - text bytes) / docs``
  is reported too: everything beyond the text, the other ingest columns
  included.  The text size is ``str.len_bytes().sum()`` of the text column;
  its size as an Arrow large-string array (plus 8-byte offsets) and Polars'
  estimate of the whole records frame are reported beside.
* quality against exact Jaccard similarity of word 5-gram shingles
  (``thresher.reference.shingles``; never another library), from the planted
  truth (``truth.parquet``):

  - *recall*: of a random sample of up to ``--sample`` planted pairs
    (a copy and its source), those with exact Jaccard >= the threshold, the
    share that thresher put in the same cluster; separately for exact copies
    (where it must be 1) and near copies.  The histogram of the exact Jaccard
    of the sampled near pairs shows how the generator spread them.
  - *precision*: of a random sample of up to ``--sample`` rows marked
    ``is_duplicate``, the share whose exact Jaccard to their representative is
    >= the threshold ("direct"); a row below it is still counted correct when
    it and its representative belong to the same planted cluster (a chain:
    two copies of one source each >= the threshold to the source, joined by
    union-find through it), else it is a false positive.  Also the largest
    difference between thresher's ``similarity`` and the exact Jaccard.
  - *random pairs*: a sample of pairs of rows in different thresher clusters;
    any with exact Jaccard >= the threshold is a missed pair.

Prints a markdown table row per run and writes ``benches/out/scale.json``
(runs are merged with earlier ones there, keyed by corpus, threads and options).

Usage: ``python benches/bench_scale.py --docs 1000000 [--threads 1 2] [--sample 20000]``
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_corpus  # noqa: E402

OUT = HERE / "out" / "scale.json"
DATA = HERE / "data"
#: Parameters of the corpus that decide whether an existing one is reused.
CORPUS_KEYS = (
    "generator_version",
    "docs",
    "shards",
    "dup_rate",
    "exact_share",
    "min_words",
    "max_words",
    "vocab",
    "max_cluster",
    "seed",
    "format",
)
HIST_EDGES = [0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]


def proc_status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``); -1 if unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def reset_peak() -> bool:
    """Resets ``VmHWM`` to the current RSS (Linux >= 4.0); False where refused."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Worker: one ingest + dedup in its own process.
# ---------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    import thresher
    from thresher import reference

    corpus = Path(args.worker)
    rss_start = proc_status("VmRSS")
    t0 = time.perf_counter()
    ingested = thresher.ingest(corpus / "shards")
    t_ingest = time.perf_counter() - t0
    records = ingested.records
    n_errors = ingested.errors.height
    del ingested
    rss_ingest = proc_status("VmRSS")
    peak_ingest = proc_status("VmHWM")
    text_bytes = int(records["text"].str.len_bytes().cast(pl.UInt64).sum())
    # As one Arrow large-string array: the bytes plus 64-bit offsets.
    text_arrow = text_bytes + 8 * (records.height + 1)
    frame_bytes = int(records.estimated_size())
    peak_reset = reset_peak()

    t1 = time.perf_counter()
    out = thresher.dedup(records, "text", threshold=args.threshold, verify=args.verify)
    t_dedup = time.perf_counter() - t1
    peak_dedup = proc_status("VmHWM")
    peak = max(peak_ingest, peak_dedup)
    docs = out.height
    n_dup = int(out["is_duplicate"].sum())
    n_exact_dup = int(
        out.filter(pl.col("is_duplicate") & (pl.col("similarity") >= 1.0)).height
    )  # includes near copies at exactly 1.0, rare
    n_clusters = int(out.filter(pl.col("cluster_size") > 1)["cluster_id"].n_unique())
    largest = int(out["cluster_size"].max() or 0)

    # Quality against the planted truth and exact Jaccard.
    t_q = time.perf_counter()
    rng = random.Random(args.seed)
    res = out.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        "id",
        "cluster_id",
        "is_duplicate",
        "similarity",
    )
    text_source = records["text"]
    del out, records
    truth = pl.read_parquet(corpus / "truth.parquet")
    rows = res.select("id", "row")
    t = truth.join(rows, on="id", how="inner").join(
        rows.rename({"id": "source_id", "row": "src_row"}), on="source_id", how="left"
    )
    missing_ids = truth.height - t.height
    # Planted cluster of each row: the row of its source, or its own.
    group_of = np.full(docs, -1, np.int64)
    group_of[t["row"].to_numpy()] = t.select(pl.coalesce("src_row", "row"))["src_row"].to_numpy()
    cluster = res["cluster_id"].to_numpy()
    shingle_cache: dict[int, set] = {}

    def load(rows_needed: list[int]) -> None:
        need = sorted({r for r in rows_needed if r not in shingle_cache})
        if need:
            got = text_source.gather(need).to_list()
            for r, txt in zip(need, got, strict=True):
                shingle_cache[r] = reference.shingles(txt or "")

    def jac(a: int, b: int) -> float:
        return reference.jaccard(shingle_cache[a], shingle_cache[b])

    planted = t.filter(pl.col("src_row").is_not_null()).select("row", "src_row", "kind")
    all_same = planted.with_columns(
        same=pl.Series(cluster[planted["row"].to_numpy()] == cluster[planted["src_row"].to_numpy()])
    )
    exact_all = all_same.filter(pl.col("kind") == "exact")
    sample = (
        planted.sample(min(args.sample, planted.height), seed=args.seed)
        if planted.height
        else planted
    )
    pairs = list(zip(sample["row"].to_list(), sample["src_row"].to_list(), strict=True))
    kinds = sample["kind"].to_list()
    load([x for p in pairs for x in p])
    hist = [0] * (len(HIST_EDGES) - 1)
    recall: dict[str, list[int]] = {"exact": [0, 0], "near": [0, 0]}
    missed: list[dict[str, Any]] = []
    near_j: list[float] = []
    for (a, b), kind in zip(pairs, kinds, strict=True):
        j = jac(a, b)
        if kind == "near":
            near_j.append(j)
            # Bins [lo, hi), the last one [0.95, 1.0].
            i = min(len(hist) - 1, bisect.bisect_right(HIST_EDGES, j) - 1)
            hist[i] += 1
        if j >= args.threshold:
            recall[kind][1] += 1
            if cluster[a] == cluster[b]:
                recall[kind][0] += 1
            elif len(missed) < 5:
                missed.append({"rows": [a, b], "jaccard": round(j, 4), "kind": kind})

    dups = res.filter(pl.col("is_duplicate"))
    dsample = dups.sample(min(args.sample, dups.height), seed=args.seed) if dups.height else dups
    drows = dsample["row"].to_list()
    reps = dsample["cluster_id"].cast(pl.Int64).to_list()
    sims = dsample["similarity"].to_list()
    load(drows + reps)
    direct = chained = 0
    false_pos: list[dict[str, Any]] = []
    sim_err = 0.0
    for r, rep, sim in zip(drows, reps, sims, strict=True):
        j = jac(r, rep)
        sim_err = max(sim_err, abs(j - sim))
        if j >= args.threshold:
            direct += 1
        elif group_of[r] == group_of[rep] >= 0:
            chained += 1
        elif len(false_pos) < 5:
            false_pos.append({"rows": [r, rep], "jaccard": round(j, 4)})
    n_false = len(drows) - direct - chained

    rand_pairs: list[tuple[int, int]] = []
    while len(rand_pairs) < min(args.sample, docs * (docs - 1) // 2) and docs > 1:
        a, b = rng.randrange(docs), rng.randrange(docs)
        if a != b and cluster[a] != cluster[b]:
            rand_pairs.append((a, b))
    load([x for p in rand_pairs for x in p])
    rand_j = [jac(a, b) for a, b in rand_pairs]
    t_quality = time.perf_counter() - t_q

    def share(x: list[int]) -> float | None:
        return round(x[0] / x[1], 6) if x[1] else None

    total = t_ingest + t_dedup
    return {
        "docs": docs,
        "errors": n_errors,
        "missing_ids": missing_ids,
        "threads": os.environ.get("RAYON_NUM_THREADS", "default"),
        "text_bytes": text_bytes,
        "text_arrow_bytes": text_arrow,
        "records_frame_bytes": frame_bytes,
        "seconds": {
            "ingest": round(t_ingest, 3),
            "dedup": round(t_dedup, 3),
            "total": round(total, 3),
            "quality_check": round(t_quality, 3),
        },
        "docs_per_s": round(docs / total, 1),
        "mb_per_s": round(text_bytes / 1e6 / total, 2),
        "rss": {
            "start": rss_start,
            "after_ingest": rss_ingest,
            "peak_ingest": peak_ingest,
            "peak_dedup": peak_dedup,
            "peak": peak,
            "peak_reset_worked": peak_reset,
        },
        "bytes_per_doc_dedup": round((peak_dedup - rss_ingest) / docs, 1),
        "bytes_per_doc_beyond_text": round((peak - rss_start - text_bytes) / docs, 1),
        "result": {
            "duplicates": n_dup,
            "duplicates_at_similarity_1": n_exact_dup,
            "clusters": n_clusters,
            "largest_cluster": largest,
        },
        "quality": {
            "threshold": args.threshold,
            "planted_pairs": planted.height,
            "exact_pairs_same_cluster_all": round(float(exact_all["same"].mean()), 6)
            if exact_all.height
            else None,
            "sampled_pairs": len(pairs),
            "recall_exact": share(recall["exact"]),
            "recall_near": share(recall["near"]),
            "recall": share(
                [recall["exact"][0] + recall["near"][0], recall["exact"][1] + recall["near"][1]]
            ),
            "pairs_at_or_above_threshold": recall["exact"][1] + recall["near"][1],
            "missed_examples": missed,
            "near_jaccard_histogram": {
                f"{lo:.2f}-{hi:.2f}": c
                for lo, hi, c in zip(HIST_EDGES[:-1], HIST_EDGES[1:], hist, strict=True)
            },
            "near_jaccard_mean": round(sum(near_j) / len(near_j), 4) if near_j else None,
            "near_share_at_or_above_threshold": round(
                sum(j >= args.threshold for j in near_j) / len(near_j), 4
            )
            if near_j
            else None,
            "sampled_duplicates": len(drows),
            "precision_direct": round(direct / len(drows), 6) if drows else None,
            "precision": round((direct + chained) / len(drows), 6) if drows else None,
            "chained": chained,
            "false_positives": n_false,
            "false_positive_examples": false_pos,
            "max_similarity_error": round(sim_err, 6),
            "random_pairs": len(rand_pairs),
            "random_pairs_at_or_above_threshold": sum(j >= args.threshold for j in rand_j),
            "random_pairs_max_jaccard": round(max(rand_j), 4) if rand_j else None,
        },
    }


# ---------------------------------------------------------------------------
# Parent.
# ---------------------------------------------------------------------------


def corpus_params(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "generator_version": gen_corpus.GENERATOR_VERSION,
        "docs": args.docs,
        "shards": max(1, min(args.shards, args.docs)),
        "dup_rate": args.dup_rate,
        "exact_share": args.exact_share,
        "min_words": args.min_words,
        "max_words": args.max_words,
        "vocab": args.vocab,
        "max_cluster": args.max_cluster,
        "seed": args.seed,
        "format": args.format,
    }


def ensure_corpus(args: argparse.Namespace) -> tuple[Path, dict[str, Any], bool]:
    """The corpus directory, its params.json and whether it was generated now."""
    want = corpus_params(args)
    corpus = args.corpus or DATA / (
        f"scale-{args.docs}-w{args.min_words}-{args.max_words}-d{args.dup_rate}-s{args.seed}"
        f"-{args.format}"
    )
    pfile = corpus / "params.json"
    if pfile.exists() and not args.regen:
        have = json.loads(pfile.read_text())
        if {k: have.get(k) for k in CORPUS_KEYS} == want and (corpus / "truth.parquet").exists():
            return corpus, have, False
    print(f"generating {args.docs:,} documents into {corpus} ...", file=sys.stderr, flush=True)
    kw = {k: v for k, v in want.items() if k not in ("generator_version", "docs")}
    params = gen_corpus.generate(corpus, args.docs, verbose=True, **kw)
    return corpus, params, True


def run_worker(corpus: Path, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(corpus),
            "--result",
            str(result),
            "--threshold",
            str(args.threshold),
            "--verify",
            args.verify,
            "--sample",
            str(args.sample),
            "--seed",
            str(args.seed),
        ]
        subprocess.run(cmd, env=env, check=True)
        return json.loads(result.read_text())


def mib(x: int) -> str:
    return f"{x / 2**20:,.0f} MiB"


HEADER = (
    "| docs | text MB | threads | ingest s | dedup s | total s | docs/s | MB/s | peak RSS "
    "| RSS after ingest | dedup peak | B/doc beyond text (dedup) | B/doc beyond text (all) "
    "| recall | precision (direct) | false pos |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_row(r: dict[str, Any]) -> str:
    q = r["quality"]
    s = r["seconds"]
    return (
        f"| {r['docs']:,} | {r['text_bytes'] / 1e6:,.0f} | {r['threads']} | {s['ingest']:.2f} "
        f"| {s['dedup']:.2f} | {s['total']:.2f} | {r['docs_per_s']:,.0f} | {r['mb_per_s']:.1f} "
        f"| {mib(r['rss']['peak'])} | {mib(r['rss']['after_ingest'])} "
        f"| {mib(r['rss']['peak_dedup'])} | {r['bytes_per_doc_dedup']:,.0f} "
        f"| {r['bytes_per_doc_beyond_text']:,.0f} | {q['recall']} "
        f"| {q['precision']} ({q['precision_direct']}) | {q['false_positives']} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, help="corpus directory (default under data/)")
    parser.add_argument("--regen", action="store_true", help="generate even if present")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--dup-rate", type=float, default=0.2)
    parser.add_argument("--exact-share", type=float, default=0.3)
    parser.add_argument("--min-words", type=int, default=40)
    parser.add_argument("--max-words", type=int, default=200)
    parser.add_argument("--vocab", type=int, default=50_000)
    parser.add_argument("--max-cluster", type=int, default=64)
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[n_cpus()], help="RAYON_NUM_THREADS"
    )
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--verify", choices=["exact", "signature"], default="exact")
    parser.add_argument("--sample", type=int, default=20_000, help="pairs checked per measure")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        Path(args.result).write_text(json.dumps(worker(args)))
        return 0

    load_start = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    corpus, params, generated = ensure_corpus(args)
    gen_s = time.perf_counter() - t0
    runs = []
    for threads in args.threads:
        r = run_worker(corpus, threads, args)
        r["threads"] = threads
        r["verify"] = args.verify
        r["corpus"] = {k: params.get(k) for k in CORPUS_KEYS}
        runs.append(r)
    load_end = [round(x, 2) for x in os.getloadavg()]

    print(HEADER)
    for r in runs:
        print(table_row(r))
    for r in runs:
        q = r["quality"]
        print(
            f"\nthreads={r['threads']}: {r['errors']} error rows, {r['missing_ids']} ids missing; "
            f"{r['result']['duplicates']:,} duplicates in {r['result']['clusters']:,} clusters "
            f"(largest {r['result']['largest_cluster']}); text {r['text_bytes']:,} B "
            f"(with Arrow offsets {r['text_arrow_bytes']:,} B, records frame "
            f"{r['records_frame_bytes']:,} B)"
        )
        print(
            f"  recall {q['recall']} on {q['pairs_at_or_above_threshold']:,} sampled planted pairs "
            f"with J >= {q['threshold']} (exact copies {q['recall_exact']}, near "
            f"{q['recall_near']}; all exact pairs same cluster: "
            f"{q['exact_pairs_same_cluster_all']}); missed: {q['missed_examples']}"
        )
        print(
            f"  precision {q['precision']} (direct {q['precision_direct']}, chained "
            f"{q['chained']}, false {q['false_positives']}) on {q['sampled_duplicates']:,} "
            f"duplicate rows; max |similarity - exact J| {q['max_similarity_error']}; random "
            f"pairs across clusters >= threshold: {q['random_pairs_at_or_above_threshold']} of "
            f"{q['random_pairs']:,} (max J {q['random_pairs_max_jaccard']})"
        )
        print(
            f"  near pairs: mean J {q['near_jaccard_mean']}, share >= threshold "
            f"{q['near_share_at_or_above_threshold']}; histogram of exact J:"
        )
        top = max(q["near_jaccard_histogram"].values(), default=0)
        for band, c in q["near_jaccard_histogram"].items():
            print(f"    [{band}): {c:6d} {'#' * round(50 * c / max(1, top))}")
    print(
        f"\ncorpus {corpus} ({'generated' if generated else 'reused'}"
        f"{f' in {gen_s:.1f} s' if generated else ''}); load average at start {load_start}, "
        f"at end {load_end}",
        file=sys.stderr,
    )

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": n_cpus(),
        "loadavg_start": load_start,
        "loadavg_end": load_end,
        "generation_seconds": params.get("seconds"),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(OUT.read_text()).get("runs", []) if OUT.exists() else []

    def key(r: dict[str, Any]) -> str:
        return json.dumps(
            [r.get("corpus"), r.get("threads"), r.get("verify"), r["quality"]["threshold"]],
            sort_keys=True,
        )

    new_keys = {key(r) for r in runs}
    for r in runs:
        r["machine"] = info
    merged = [r for r in old if key(r) not in new_keys] + runs
    OUT.write_text(json.dumps({"runs": merged}, indent=2) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


def n_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
