"""Speed of thresher against rensa and datasketch on the quality corpus.

Runs every library on the corpus of ``benches/eval_quality.py`` (the cached
``benches/data/quality_corpus.parquet`` when it exists and ``--max-docs`` is not
given) and measures:

1. signatures, text in -> signatures out (128 permutations, word 5-grams):
   thresher.minhash; rensa RMinHash per document and its bulk matrix paths,
   with pre-split shingles (shingling time excluded) and with the Python
   shingling its users must write; datasketch MinHash.update_batch and
   MinHash.bulk including shingling (encoded to bytes); Python shingling alone.
2. full near-dedup at the threshold (0.8): thresher.similar_pairs
   (``verify="exact"`` and ``"signature"``), rensa RMinHashLSH with exact
   verification of its candidates in Python, datasketch MinHashLSH (default
   banding) with and without exact verification; recall and precision against
   the exact brute-force truth (every pair with word-5-gram Jaccard >= 0.8).

Every measurement runs in its own subprocess (so thread counts, which rayon
reads once per process, and peak RSS are per measurement); timings are the
best of ``--repeat`` runs after a warm-up on a few documents.  Shingles given
to rensa and datasketch follow thresher's tokenisation: NFKC, lowercase, words
``[^\\W_]+``, 5-grams of words joined by single spaces.

Usage: ``python benches/bench_speed.py [--max-docs N] [--skip-datasketch] [--repeat 3]
[--thread-counts 1,2]``.  The signatures section ends with thresher's MB/s,
docs/s and peak RSS per thread count and its ratios to rensa's fastest
full-set path handed pre-split shingles and to datasketch's bulk API.
Results go to ``benches/out/speed.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import eval_quality as q  # noqa: E402

OUT = HERE / "out" / "speed.json"
NGRAM = 5
NUM_PERM = 128
SEED = 42
WARMUP_DOCS = 200
#: Pairs down to this Jaccard similarity are used to judge signature estimates.
ESTIMATE_FLOOR = 0.5
RANDOM_PAIRS = 20_000
#: Seeds of the signatures judged against exact Jaccard.  Errors of pairs that
#: share documents are correlated (the corpus has large clusters of licence
#: texts), so one seed's mean error says little; several seeds are averaged.
ESTIMATE_SEEDS = (1, 2, 3, 7, 42)
#: Every timing runs for at least this long in all (and at least --repeat times).
MIN_TIMED_S = 1.0
#: ... but at most this many times.
MAX_RUNS = 200
#: datasketch runs on the whole corpus when projected to take at most this long.
DATASKETCH_BUDGET_S = 120.0

# ---------------------------------------------------------------------------
# Helpers shared by the parent and the workers.
# ---------------------------------------------------------------------------


def shingle_set(text: str, ngram: int = NGRAM) -> set[str]:
    """thresher's shingles as strings: NFKC, lowercase, ``[^\\W_]+`` words,
    ``ngram`` consecutive words joined by a space (the whole text if shorter)."""
    ws = q.words(text)  # thresher.reference.words: NFKC, lowercase, [^\W_]+
    if len(ws) <= ngram:
        return {" ".join(ws)} if ws else set()
    return set(map(" ".join, zip(*[ws[i:] for i in range(ngram)], strict=False)))


def best_of(fn: Callable[[], Any], repeat: int, budget_s: float = float("inf")) -> dict:
    """Run ``fn`` at least ``repeat`` times and for at least ``MIN_TIMED_S`` in
    all (like ``timeit``'s autorange: a call of milliseconds is timed over many
    runs, one of seconds over ``repeat``), at most ``MAX_RUNS`` times, and
    fewer once ``budget_s`` is spent; the best and the median time, and the
    least process CPU time."""
    times: list[float] = []
    cpu: list[float] = []
    result = None
    while len(times) < max(1, repeat) or (sum(times) < MIN_TIMED_S and len(times) < MAX_RUNS):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        cpu.append(time.process_time() - c0)
        times.append(time.perf_counter() - t0)
        if sum(times) > budget_s:
            break
    return {
        "seconds": min(times),
        # CPU time of the whole process (every thread): on a shared machine
        # the steadier figure for one thread.
        "cpu_seconds": min(cpu),
        "median_seconds": statistics.median(times),
        "runs": [round(t, 4) for t in times],
        "result": result,
    }


def current_rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak RSS of this process.  ``VmHWM`` rather than ``ru_maxrss``: on Linux
    the latter survives fork + exec, so a worker would report the parent's peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def n_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------
# Workers: one measurement per process.
# ---------------------------------------------------------------------------


def w_pyshingle(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    run = best_of(lambda: [shingle_set(t) for t in texts], args.repeat)
    n_shingles = sum(len(s) for s in run.pop("result"))
    return {"timings": {"shingle": run}, "shingles": n_shingles}


def w_thresher_sig(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    import thresher

    series = pl.Series("text", texts)
    thresher.minhash(series.head(WARMUP_DOCS), ngram=NGRAM, num_perm=NUM_PERM, seed=SEED)
    run = best_of(
        lambda: thresher.minhash(series, ngram=NGRAM, num_perm=NUM_PERM, seed=SEED), args.repeat
    )
    sig = run.pop("result").to_numpy()
    np.save(tmp / f"sig_thresher_{args.threads}.npy", np.asarray(sig, dtype=np.uint32))
    return {"timings": {"minhash": run}}


def w_thresher_pairs(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    import thresher

    df = pl.DataFrame({"text": texts})
    out: dict[str, Any] = {"timings": {}, "pairs": {}}
    for verify in ("exact", "signature"):
        kw = {"threshold": args.threshold, "ngram": NGRAM, "num_perm": NUM_PERM, "seed": SEED}
        thresher.similar_pairs(df.head(WARMUP_DOCS), verify=verify, **kw)
        run = best_of(lambda v=verify, k=kw: thresher.similar_pairs(df, verify=v, **k), args.repeat)
        edges = run.pop("result")
        out["timings"][verify] = run
        out["pairs"][verify] = [list(r) for r in edges.select("a", "b").iter_rows()]
        out[f"exact_edges_{verify}"] = int(edges["exact"].sum())
    out["banding"] = list(thresher.banding(args.threshold, NUM_PERM))
    return out


def w_rensa_sig(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    from rensa import RMinHash

    token_sets = [shingle_set(t) for t in texts]
    warm = token_sets[:WARMUP_DOCS]

    def per_object(sets: list[set[str]]) -> list[list[int]]:
        out = []
        for ts in sets:
            m = RMinHash(NUM_PERM, SEED)
            m.update(ts)
            out.append(m.digest())
        return out

    def matrix(sets: list[set[str]]) -> Any:
        return RMinHash.digest_matrix_from_token_sets(sets, NUM_PERM, SEED)

    def rho(sets: list[set[str]]) -> Any:
        return RMinHash.digest_matrix_from_token_sets_rho(sets, NUM_PERM, SEED)

    timings = {}
    per_object(warm)
    r = best_of(lambda: per_object(token_sets), args.repeat)
    objects = np.asarray(r.pop("result"), dtype=np.uint32)
    timings["update_digest"] = r
    matrix(warm)
    r = best_of(lambda: matrix(token_sets), args.repeat)
    mat = np.asarray(r.pop("result").to_rows(), dtype=np.uint32)
    timings["matrix"] = r
    rho(warm)
    r = best_of(lambda: rho(token_sets), args.repeat)
    rho_mat = np.asarray(r.pop("result").to_rows(), dtype=np.uint32)
    timings["rho"] = r
    r = best_of(lambda: matrix([shingle_set(t) for t in texts]), args.repeat)
    r.pop("result")
    timings["shingle_matrix"] = r
    r = best_of(lambda: per_object([shingle_set(t) for t in texts]), args.repeat)
    r.pop("result")
    timings["shingle_update_digest"] = r
    return {
        "timings": timings,
        "matrix_equals_update_digest_rows": int((mat == objects).all(axis=1).sum()),
        "rho_empty_slot_share": float((rho_mat == 2**32 - 1).mean()),
        "rows": len(texts),
    }


def w_datasketch_sig(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    from datasketch import MinHash

    def per_doc(docs: list[str]) -> list[np.ndarray]:
        out = []
        for t in docs:
            m = MinHash(num_perm=NUM_PERM)
            m.update_batch([s.encode() for s in shingle_set(t)])
            out.append(m.hashvalues)
        return out

    def bulk(docs: list[str]) -> list[np.ndarray]:
        data = [[s.encode() for s in shingle_set(t)] for t in docs]
        return [m.hashvalues for m in MinHash.bulk(data, num_perm=NUM_PERM)]

    # Probe the speed on a small prefix; the whole corpus if it is cheap enough.
    probe = texts[: min(len(texts), 500)]
    per_doc(texts[:20])
    t0 = time.perf_counter()
    per_doc(probe)
    per_doc_s = (time.perf_counter() - t0) / max(1, len(probe))
    n = len(texts) if per_doc_s * len(texts) * 2 <= DATASKETCH_BUDGET_S / 2 else len(probe)
    docs = texts[:n]
    budget = DATASKETCH_BUDGET_S / 4
    r1 = best_of(lambda: per_doc(docs), args.repeat, budget)
    a = np.asarray(r1.pop("result"))
    r2 = best_of(lambda: bulk(docs), args.repeat, budget)
    b = np.asarray(r2.pop("result"))
    return {
        "docs": n,
        "timings": {"update_batch": r1, "bulk": r2},
        "bulk_equals_update_batch_rows": int((a == b).all(axis=1).sum()),
    }


def _candidates(lists: list[list[int]]) -> set[tuple[int, int]]:
    out = set()
    for i, keys in enumerate(lists):
        for j in keys:
            if j != i:
                out.add((i, j) if i < j else (j, i))
    return out


def _verify(cands: set[tuple[int, int]], sets: list[set[str]], threshold: float) -> list:
    out = []
    for a, b in cands:
        sa, sb = sets[a], sets[b]
        inter = len(sa & sb)
        union = len(sa) + len(sb) - inter
        if union and inter >= threshold * union - 1e-9:
            out.append((a, b))
    return out


def w_rensa_pairs(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    from rensa import RMinHash, RMinHashLSH

    def pipeline(docs: list[str]) -> dict:
        t0 = time.perf_counter()
        sets = [shingle_set(t) for t in docs]
        t1 = time.perf_counter()
        mhs = RMinHash.from_token_sets(sets, NUM_PERM, SEED)
        t2 = time.perf_counter()
        lsh = RMinHashLSH(args.threshold, NUM_PERM, args.bands)
        lsh.insert_many(mhs)
        cands = _candidates(lsh.query_all(mhs))
        t3 = time.perf_counter()
        verified = _verify(cands, sets, args.threshold)
        t4 = time.perf_counter()
        return {
            "cands": cands,
            "verified": verified,
            "split": {
                "shingle": t1 - t0,
                "sketch": t2 - t1,
                "lsh_index_query": t3 - t2,
                "verify": t4 - t3,
            },
        }

    pipeline(texts[:WARMUP_DOCS])
    run = best_of(lambda: pipeline(texts), args.repeat)
    res = run.pop("result")
    return {
        "timings": {"pipeline": run},
        "split": {k: round(v, 4) for k, v in res["split"].items()},
        "candidates": sorted(res["cands"]),
        "verified": sorted(res["verified"]),
        "bands": args.bands,
    }


def w_datasketch_pairs(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    docs = texts[: args.docs] if args.docs else texts

    def pipeline(docs: list[str]) -> dict:
        t0 = time.perf_counter()
        sets = [shingle_set(t) for t in docs]
        data = [[s.encode() for s in ss] for ss in sets]
        t1 = time.perf_counter()
        mhs = MinHash.bulk(data, num_perm=NUM_PERM)
        t2 = time.perf_counter()
        lsh = MinHashLSH(threshold=args.threshold, num_perm=NUM_PERM)
        with lsh.insertion_session() as session:
            for i, m in enumerate(mhs):
                session.insert(i, m)
        cands = _candidates([lsh.query(m) for m in mhs])
        t3 = time.perf_counter()
        verified = _verify(cands, sets, args.threshold)
        t4 = time.perf_counter()
        return {
            "cands": cands,
            "verified": verified,
            "params": [lsh.b, lsh.r],
            "split": {
                "shingle": t1 - t0,
                "sketch": t2 - t1,
                "lsh_index_query": t3 - t2,
                "verify": t4 - t3,
            },
        }

    pipeline(docs[:WARMUP_DOCS])
    run = best_of(lambda: pipeline(docs), args.repeat, DATASKETCH_BUDGET_S / 2)
    res = run.pop("result")
    return {
        "docs": len(docs),
        "timings": {"pipeline": run},
        "split": {k: round(v, 4) for k, v in res["split"].items()},
        "candidates": sorted(res["cands"]),
        "verified": sorted(res["verified"]),
        "bands_rows": res["params"],
    }


def w_estimates(texts: list[str], args: argparse.Namespace, tmp: Path) -> dict:
    """Signatures for every seed of ESTIMATE_SEEDS (untimed)."""
    from rensa import RMinHash

    import thresher

    series = pl.Series("text", texts)
    sets = [shingle_set(t) for t in texts]
    data = [[s.encode() for s in ss] for ss in sets]
    names: list[str] = []
    for seed in ESTIMATE_SEEDS:
        sigs = {
            "thresher": thresher.minhash(series, ngram=NGRAM, num_perm=NUM_PERM, seed=seed),
            "rensa": RMinHash.digest_matrix_from_token_sets(sets, NUM_PERM, seed).to_rows(),
            "rensa_rho": RMinHash.digest_matrix_from_token_sets_rho(sets, NUM_PERM, seed).to_rows(),
        }
        if args.docs:  # datasketch wanted
            from datasketch import MinHash

            mhs = MinHash.bulk(data, num_perm=NUM_PERM, seed=seed)
            sigs["datasketch"] = [m.hashvalues for m in mhs]
        for name, sig in sigs.items():
            arr = sig.to_numpy() if isinstance(sig, pl.Series) else sig
            np.save(tmp / f"est_{name}_{seed}.npy", np.asarray(arr, dtype=np.uint32))
        names = list(sigs)
    return {"names": names, "seeds": list(ESTIMATE_SEEDS)}


WORKERS: dict[str, Callable[[list[str], argparse.Namespace, Path], dict]] = {
    "pyshingle": w_pyshingle,
    "thresher_sig": w_thresher_sig,
    "thresher_pairs": w_thresher_pairs,
    "rensa_sig": w_rensa_sig,
    "rensa_pairs": w_rensa_pairs,
    "datasketch_sig": w_datasketch_sig,
    "datasketch_pairs": w_datasketch_pairs,
    "estimates": w_estimates,
}


def worker_main(args: argparse.Namespace) -> int:
    tmp = Path(args.tmp)
    texts = pl.read_parquet(tmp / "corpus.parquet")["text"].to_list()
    baseline = current_rss_mb()
    result = WORKERS[args.worker](texts, args, tmp)
    result["rss_baseline_mb"] = round(baseline, 1)
    result["rss_peak_mb"] = round(peak_rss_mb(), 1)
    result["threads"] = args.threads
    (tmp / f"result_{args.tag}.json").write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------
# Parent: orchestration, scoring, report.
# ---------------------------------------------------------------------------


def spawn(tmp: Path, worker: str, threads: int, args: argparse.Namespace, **extra: Any) -> dict:
    tag = "_".join([worker, str(threads), *(f"{k}{v}" for k, v in extra.items())])
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        worker,
        "--tag",
        tag,
        "--threads",
        str(threads),
        "--tmp",
        str(tmp),
        "--repeat",
        str(args.repeat),
        "--threshold",
        str(args.threshold),
    ]
    for k, v in extra.items():
        cmd += [f"--{k}", str(v)]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), POLARS_MAX_THREADS=str(threads))
    t0 = time.perf_counter()
    sys.stdout.flush()
    print(f"  running {tag} ...", end="", flush=True, file=sys.stderr)
    subprocess.run(cmd, env=env, check=True)
    print(f" {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return json.loads((tmp / f"result_{tag}.json").read_text())


def score(found: set, truth: set) -> dict:
    hits = len(found & truth)
    return {
        "found": len(found),
        "recall": hits / len(truth) if truth else 1.0,
        "precision": hits / len(found) if found else 1.0,
    }


def estimate_quality(
    sig: np.ndarray,
    pairs: dict[tuple[int, int], float],
    random_pairs: list,
    sets: list,
    threshold: float,
) -> dict:
    """Equal-slot share of the signatures against the exact Jaccard similarity."""
    n = sig.shape[0]
    sub = [(p, j) for p, j in pairs.items() if p[1] < n]
    a = np.fromiter((p[0] for p, _ in sub), dtype=np.int64, count=len(sub))
    b = np.fromiter((p[1] for p, _ in sub), dtype=np.int64, count=len(sub))
    j = np.fromiter((x for _, x in sub), dtype=np.float64, count=len(sub))
    est = (sig[a] == sig[b]).mean(axis=1)
    err = est - j
    rp = [(x, y) for x, y in random_pairs if x < n and y < n]
    ra = np.array([x for x, _ in rp], dtype=np.int64)
    rb = np.array([y for _, y in rp], dtype=np.int64)
    rj = np.array([q.jaccard(sets[x], sets[y]) for x, y in rp])
    rest = (sig[ra] == sig[rb]).mean(axis=1)
    k = sig.shape[1]
    hi = j >= threshold
    return {
        "pairs": len(sub),
        "bias": float(err.mean()) if len(sub) else 0.0,
        "bias_below_threshold": float(err[~hi].mean()) if (~hi).any() else 0.0,
        "bias_at_or_above_threshold": float(err[hi].mean()) if hi.any() else 0.0,
        "rmse": float(np.sqrt((err**2).mean())) if len(sub) else 0.0,
        "expected_rmse": float(np.sqrt((j * (1 - j) / k).mean())) if len(sub) else 0.0,
        "max_abs_err": float(np.abs(err).max()) if len(sub) else 0.0,
        "random_pairs": len(rp),
        "random_mean_est": float(rest.mean()) if len(rp) else 0.0,
        "random_mean_exact": float(rj.mean()) if len(rp) else 0.0,
        "random_max_est": float(rest.max()) if len(rp) else 0.0,
    }


#: rensa's paths that compute a full MinHash of the whole set (not rho).
RENSA_FULL_SET = ("rensa RMinHash update+digest", "rensa digest_matrix_from_token_sets")


def speed_ratios(sig_rows: list[dict], threads: list[int]) -> list[str]:
    """thresher's signature speed over rensa's fastest full-set path handed
    pre-split shingles and over datasketch's bulk API (with its shingling),
    per thread count; the targets of issue 4 are 2x and 100x."""
    lines = []
    ds = next((r for r in sig_rows if r["name"] == "datasketch MinHash.bulk + shingling"), None)
    for t in threads:
        thr = next(r for r in sig_rows if r["name"] == "thresher.minhash" and r["threads"] == t)
        rensa = [r for r in sig_rows if r["name"] in RENSA_FULL_SET and r["threads"] == t]
        best = max(rensa, key=lambda r: r["mb_per_s"])
        line = (
            f"thresher {t} thr: {thr['mb_per_s']:.1f} MB/s, {thr['docs_per_s']:.0f} docs/s, "
            f"peak RSS {thr['rss_peak_mb']:.0f} MB; "
            f"x{thr['mb_per_s'] / best['mb_per_s']:.2f} rensa's fastest pre-split "
            f"({best['name']}, {t} thr, {best['mb_per_s']:.1f} MB/s; target 2x)"
        )
        if ds is not None:
            line += (
                f"; x{thr['mb_per_s'] / ds['mb_per_s']:.1f} datasketch bulk "
                f"({ds['mb_per_s']:.2f} MB/s; target 100x)"
            )
        lines.append(line)
    return lines


def fmt_table(headers: list[str], rows: list[list[Any]], left: int = 1) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i < left else c.rjust(widths[i]) for i, c in enumerate(r)
        )

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in cells)])


def parent_main(args: argparse.Namespace) -> int:
    print("command: " + shlex.join([sys.executable, *sys.argv]), flush=True)
    ncpus = n_cpus()
    # Thread counts measured: --thread-counts, else 1 and all CPUs; "N" in
    # the report below is the largest of them.
    threads = sorted(set(args.thread_counts or [1, ncpus]))
    nthreads = threads[-1]
    import thresher

    info = {
        "cpu": cpu_model(),
        "logical_cpus": ncpus,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "thresher": version("thresher"),
        "thresher_module": str(Path(thresher.__file__).parent),
        "rensa": version("rensa"),
        "datasketch": version("datasketch"),
        "polars": version("polars"),
        "numpy": version("numpy"),
        "thread_counts": threads,
    }
    print(f"cpu: {info['cpu']} ({ncpus} logical CPUs available); {info['platform']}")
    print(
        f"versions: python {info['python']}, thresher {info['thresher']} "
        f"({info['thresher_module']}), rensa {info['rensa']}, datasketch {info['datasketch']}, "
        f"polars {info['polars']}, numpy {info['numpy']}"
    )
    info["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"threads: 1 and {nthreads} (RAYON_NUM_THREADS and POLARS_MAX_THREADS per subprocess); "
        f"timings: best of {args.repeat} after a warm-up on {WARMUP_DOCS} docs"
    )

    t0 = time.perf_counter()
    if args.max_docs is None and q.DATA.exists():
        df = pl.read_parquet(q.DATA)
        origin = str(q.DATA)
    else:
        df, _ = q.build_corpus(args.max_docs)
        origin = f"eval_quality.build_corpus({args.max_docs})"
    texts = df["text"].to_list()
    n_docs = len(texts)
    n_bytes = sum(len(t.encode()) for t in texts)
    sets = [q.shingles(t) for t in texts]
    mismatched = sum(
        1
        for t, s in zip(texts, sets, strict=True)
        if {tuple(x.split(" ")) for x in shingle_set(t)} != s
    )
    truth_low = q.all_pairs(sets, min(ESTIMATE_FLOOR, args.threshold))
    truth = {p for p, j in truth_low.items() if j >= args.threshold}
    truth_s = time.perf_counter() - t0
    n_shingles = sum(len(s) for s in sets)
    print(
        f"corpus: {n_docs} docs, {n_bytes / 1e6:.2f} MB UTF-8, {n_shingles} distinct shingles "
        f"({n_shingles / max(1, n_docs):.0f}/doc) from {origin}"
    )
    print(
        f"truth: {len(truth)} pairs with J >= {args.threshold} "
        f"({len(truth_low)} with J >= {min(ESTIMATE_FLOOR, args.threshold)}), "
        f"exact brute force in pure Python, {truth_s:.1f}s incl. corpus load; "
        f"bench shingles differing from eval_quality's: {mismatched} docs"
    )

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="thresher-bench-") as tmpdir:
        tmp = Path(tmpdir)
        df.select("text").write_parquet(tmp / "corpus.parquet")
        results["pyshingle"] = spawn(tmp, "pyshingle", 1, args)
        for t in threads:
            results[f"thresher_sig_{t}"] = spawn(tmp, "thresher_sig", t, args)
            results[f"rensa_sig_{t}"] = spawn(tmp, "rensa_sig", t, args)
        if not args.skip_datasketch:
            results["datasketch_sig"] = spawn(tmp, "datasketch_sig", 1, args)
        for t in threads:
            results[f"thresher_pairs_{t}"] = spawn(tmp, "thresher_pairs", t, args)
            for bands in args.rensa_bands:
                results[f"rensa_pairs_{bands}_{t}"] = spawn(
                    tmp, "rensa_pairs", t, args, bands=bands
                )
        if not args.skip_datasketch:
            # Project datasketch's pipeline time from its signature speed.
            ds = results["datasketch_sig"]
            per_doc = ds["timings"]["bulk"]["seconds"] / ds["docs"]
            projected = per_doc * n_docs * 2.5 * args.repeat
            ds_docs = n_docs
            if projected > DATASKETCH_BUDGET_S:
                ds_docs = max(WARMUP_DOCS, int(n_docs * DATASKETCH_BUDGET_S / projected))
            results["datasketch_pairs"] = spawn(tmp, "datasketch_pairs", 1, args, docs=ds_docs)
        est = spawn(tmp, "estimates", nthreads, args, docs=int(not args.skip_datasketch))
        # -- 3. Signature estimates (per seed, then averaged) ----------------
        rng = random.Random(7)
        random_pairs = []
        while len(random_pairs) < RANDOM_PAIRS and n_docs > 1:
            a, b = rng.randrange(n_docs), rng.randrange(n_docs)
            if a != b:
                random_pairs.append((min(a, b), max(a, b)))
        per_seed = {
            name: [
                estimate_quality(
                    np.load(tmp / f"est_{name}_{seed}.npy"),
                    truth_low,
                    random_pairs,
                    sets,
                    args.threshold,
                )
                for seed in est["seeds"]
            ]
            for name in est["names"]
        }
        thresher_deterministic = bool(
            np.array_equal(
                np.load(tmp / "sig_thresher_1.npy"), np.load(tmp / f"sig_thresher_{nthreads}.npy")
            )
        )

    # -- 1. Signatures ------------------------------------------------------
    mb = n_bytes / 1e6
    sig_rows: list[dict] = []

    def add_sig(name: str, res: dict, key: str, docs: int | None = None, note: str = "") -> None:
        docs = docs or n_docs
        sec = res["timings"][key]["seconds"]
        nb = sum(len(t.encode()) for t in texts[:docs]) / 1e6 if docs != n_docs else mb
        sig_rows.append(
            {
                "name": name,
                "threads": res["threads"],
                "docs": docs,
                "seconds": sec,
                "runs": res["timings"][key]["runs"],
                "mb_per_s": nb / sec,
                "docs_per_s": docs / sec,
                "rss_peak_mb": res["rss_peak_mb"],
                "rss_baseline_mb": res["rss_baseline_mb"],
                "note": note,
            }
        )

    for t in threads:
        add_sig("thresher.minhash", results[f"thresher_sig_{t}"], "minhash")
    for t in threads:
        r = results[f"rensa_sig_{t}"]
        add_sig("rensa RMinHash update+digest", r, "update_digest", note="pre-split")
        add_sig("rensa digest_matrix_from_token_sets", r, "matrix", note="pre-split")
        add_sig("rensa digest_matrix_..._rho", r, "rho", note="pre-split, other sketch")
        add_sig("rensa update+digest + shingling", r, "shingle_update_digest")
        add_sig("rensa digest_matrix + shingling", r, "shingle_matrix")
    if "datasketch_sig" in results:
        r = results["datasketch_sig"]
        add_sig("datasketch update_batch + shingling", r, "update_batch", r["docs"])
        add_sig("datasketch MinHash.bulk + shingling", r, "bulk", r["docs"])
    add_sig("Python shingling only", results["pyshingle"], "shingle", note="no hashing")
    thr = {t: results[f"thresher_sig_{t}"]["timings"]["minhash"]["seconds"] for t in threads}
    for row in sig_rows:
        row["thr1_speedup"] = (n_docs / thr[1]) / row["docs_per_s"]
        row["thrN_speedup"] = (n_docs / thr[nthreads]) / row["docs_per_s"]

    # -- 2. Near-dedup ------------------------------------------------------
    pair_rows: list[dict] = []

    def add_pairs(name: str, res: dict, key: str, found, cands=None, docs=None) -> None:
        docs = docs or n_docs
        tr = {p for p in truth if p[1] < docs}
        row = {
            "name": name,
            "threads": res["threads"],
            "docs": docs,
            "seconds": res["timings"][key]["seconds"],
            "median_seconds": res["timings"][key]["median_seconds"],
            "runs": res["timings"][key]["runs"],
            "truth_pairs": len(tr),
            **score({tuple(p) for p in found}, tr),
            "rss_peak_mb": res["rss_peak_mb"],
            "rss_baseline_mb": res["rss_baseline_mb"],
        }
        if cands is not None:
            raw = score({tuple(p) for p in cands}, tr)
            row.update(candidates=raw["found"], raw_recall=raw["recall"])
            row["raw_precision"] = raw["precision"]
        if "split" in res:
            row["split"] = res["split"]
        pair_rows.append(row)

    for t in threads:
        r = results[f"thresher_pairs_{t}"]
        b, rr = r["banding"]
        for verify in ("exact", "signature"):
            add_pairs(f"thresher similar_pairs {verify} ({b}x{rr})", r, verify, r["pairs"][verify])
    for bands in args.rensa_bands:
        for t in threads:
            r = results[f"rensa_pairs_{bands}_{t}"]
            name = f"rensa LSH {bands}x{NUM_PERM // bands} + exact verify"
            add_pairs(name, r, "pipeline", r["verified"], r["candidates"])
    if "datasketch_pairs" in results:
        r = results["datasketch_pairs"]
        b, rr = r["bands_rows"]
        name = f"datasketch LSH {b}x{rr} + exact verify"
        add_pairs(name, r, "pipeline", r["verified"], r["candidates"], r["docs"])
    thr_pairs = {
        t: next(
            row
            for row in pair_rows
            if row["name"].startswith("thresher similar_pairs exact") and row["threads"] == t
        )
        for t in threads
    }
    for row in pair_rows:
        # Per-document time ratios, so that a datasketch subset is comparable.
        per_doc = row["seconds"] / row["docs"]
        for t, key in ((1, "vs_thr1"), (nthreads, "vs_thrN")):
            row[key] = per_doc / (thr_pairs[t]["seconds"] / n_docs)

    estimates: dict[str, dict] = {}
    for name, runs in per_seed.items():
        agg: dict[str, Any] = {"seeds": est["seeds"]}
        for key in runs[0]:
            if key in ("pairs", "random_pairs"):
                agg[key] = runs[0][key]
            elif key in ("max_abs_err", "random_max_est"):
                agg[key] = max(r[key] for r in runs)
            else:
                agg[key] = float(np.mean([r[key] for r in runs]))
        agg["bias_sd_over_seeds"] = float(np.std([r["bias"] for r in runs]))
        agg["rmse_range"] = [min(r["rmse"] for r in runs), max(r["rmse"] for r in runs)]
        agg["per_seed"] = runs
        estimates[name] = agg
    # rho leaves many slots empty (u32::MAX) and which slots are filled is not
    # a function of the set alone: equal-slot counting is no Jaccard estimate
    # for it (it is meant for rensa's own LSH duplicate flags).
    rho_empty = results[f"rensa_sig_{nthreads}"]["rho_empty_slot_share"]
    checks = {
        "thresher_signatures_identical_1_vs_all_threads": thresher_deterministic,
        "rensa_matrix_rows_equal_update_digest": {
            t: f"{results[f'rensa_sig_{t}']['matrix_equals_update_digest_rows']}/{n_docs}"
            for t in threads
        },
        "bench_shingles_differing_from_eval_quality": mismatched,
    }
    if "datasketch_sig" in results:
        ds = results["datasketch_sig"]
        checks["datasketch_bulk_rows_equal_update_batch"] = (
            f"{ds['bulk_equals_update_batch_rows']}/{ds['docs']}"
        )

    # -- Report -------------------------------------------------------------
    print()
    print(
        f"1. signatures, text -> {NUM_PERM} x uint32 (word {NGRAM}-grams); MB/s of source text; "
        "'thr1 x'/'thrN x' = thresher's docs/s (1 / all threads) over this row's"
    )
    print(
        fmt_table(
            [
                *("", "thr", "docs", "time s", "MB/s", "docs/s"),
                *("thr1 x", "thrN x", "RSS MB", "+RSS", "note"),
            ],
            [
                [
                    r["name"],
                    r["threads"],
                    r["docs"],
                    f"{r['seconds']:.3f}",
                    f"{r['mb_per_s']:.1f}",
                    f"{r['docs_per_s']:.0f}",
                    f"{r['thr1_speedup']:.1f}",
                    f"{r['thrN_speedup']:.1f}",
                    f"{r['rss_peak_mb']:.0f}",
                    f"{r['rss_peak_mb'] - r['rss_baseline_mb']:.0f}",
                    r["note"],
                ]
                for r in sig_rows
            ],
        )
    )
    print(
        "   pre-split: shingles built beforehand, not timed (MB/s still of the source text); "
        "RSS MB: peak RSS of that subprocess; +RSS: over its RSS after imports and corpus load"
    )
    for line in speed_ratios(sig_rows, threads):
        print("   " + line)
    print()
    print(
        f"2. near-dedup at J >= {args.threshold}, text -> pairs; recall/precision vs exact truth; "
        "'/thr1'/'/thrN' = this row's time per doc over thresher exact's (1 / all threads)"
    )
    print(
        fmt_table(
            [
                "",
                "thr",
                "docs",
                "time s",
                "/thr1",
                "/thrN",
                "cands",
                "raw R",
                "raw P",
                "found",
                "recall",
                "prec",
                "RSS MB",
                "+RSS",
            ],
            [
                [
                    r["name"],
                    r["threads"],
                    r["docs"],
                    f"{r['seconds']:.4f}",
                    f"{r['vs_thr1']:.1f}",
                    f"{r['vs_thrN']:.1f}",
                    r.get("candidates", "-"),
                    f"{r['raw_recall']:.4f}" if "raw_recall" in r else "-",
                    f"{r['raw_precision']:.4f}" if "raw_precision" in r else "-",
                    r["found"],
                    f"{r['recall']:.4f}",
                    f"{r['precision']:.4f}",
                    f"{r['rss_peak_mb']:.0f}",
                    f"{r['rss_peak_mb'] - r['rss_baseline_mb']:.0f}",
                ]
                for r in pair_rows
            ],
        )
    )
    for r in pair_rows:
        if "split" in r:
            split = ", ".join(f"{k} {v:.3f}" for k, v in r["split"].items())
            print(f"   {r['name']} (thr {r['threads']}): {split} s")
    for r in pair_rows:
        print(
            f"   {r['name']} (thr {r['threads']}): best {r['seconds']:.4f} s, "
            f"median {r['median_seconds']:.4f} s of {len(r['runs'])} runs"
        )
    if "datasketch_pairs" in results and results["datasketch_pairs"]["docs"] < n_docs:
        print(
            f"   datasketch ran on the first {results['datasketch_pairs']['docs']} docs only "
            f"(projected > {DATASKETCH_BUDGET_S:.0f}s); truth restricted to them"
        )
    print()
    print(
        f"3. signature estimates (equal-slot share) vs exact Jaccard on the pairs with J >= "
        f"{min(ESTIMATE_FLOOR, args.threshold)} and {RANDOM_PAIRS} random pairs; "
        f"mean over seeds {', '.join(map(str, ESTIMATE_SEEDS))}"
    )
    print(
        fmt_table(
            [
                *("signatures", "pairs", "bias", "sd", "bias J<t", "bias J>=t"),
                *("rmse", "rmse range", "expect", "max|err|", "rand est", "rand J"),
            ],
            [
                [
                    name,
                    e["pairs"],
                    f"{e['bias']:+.4f}",
                    f"{e['bias_sd_over_seeds']:.4f}",
                    f"{e['bias_below_threshold']:+.4f}",
                    f"{e['bias_at_or_above_threshold']:+.4f}",
                    f"{e['rmse']:.4f}",
                    f"{e['rmse_range'][0]:.4f}-{e['rmse_range'][1]:.4f}",
                    f"{e['expected_rmse']:.4f}",
                    f"{e['max_abs_err']:.3f}",
                    f"{e['random_mean_est']:.5f}",
                    f"{e['random_mean_exact']:.5f}",
                ]
                for name, e in estimates.items()
            ],
        )
    )
    print(
        "   sd: of the bias over seeds; expect: RMSE of an ideal MinHash, sqrt(mean(J(1-J)/k)); "
        "rand: mean over random pairs"
    )
    print(
        f"   rensa_rho: {rho_empty:.0%} of slots empty and the filled slots vary with the set, "
        "so equal-slot share is no Jaccard estimate for it (it feeds rensa's own LSH flags)"
    )
    print("checks: " + json.dumps(checks))
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"load average (1, 5, 15 min) at start {info['loadavg_start']}, at end "
        f"{info['loadavg_end']}: other work on the machine inflates the timings"
    )

    report = {
        "command": [sys.executable, *sys.argv],
        "info": info,
        "corpus": {
            "origin": origin,
            "docs": n_docs,
            "bytes": n_bytes,
            "shingles": n_shingles,
            "true_pairs": len(truth),
            "pairs_for_estimates": len(truth_low),
        },
        "threshold": args.threshold,
        "repeat": args.repeat,
        "signatures": sig_rows,
        "near_dedup": pair_rows,
        "estimates": estimates,
        "checks": checks,
        "workers": {
            k: {kk: vv for kk, vv in v.items() if kk not in ("pairs", "candidates", "verified")}
            for k, v in results.items()
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-docs", type=int, default=None)
    parser.add_argument("--skip-datasketch", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--thread-counts",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help="comma-separated thread counts, e.g. 1,2 (default: 1 and all CPUs)",
    )
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument(
        "--rensa-bands",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[16, 32],
        help="comma-separated RMinHashLSH band counts (default 16,32)",
    )
    # Internal: one measurement in a subprocess.
    for name in ("--worker", "--tag", "--tmp"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    for name in ("--threads", "--bands", "--docs"):
        parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    return parent_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
