"""Near duplicates among real web pages, judged by their text, not their markup.

Builds a corpus of a few thousand real HTML pages from this machine's
documentation (``web_corpus.py``: rustdoc API pages and mdbook books of every
installed Rust toolchain, Debian's HTML docs, the Python manual, and copies of
some pages' text re-wrapped in another site's template), written as WARC
``response`` records into ``benches/data/web`` (or ``--out-dir``), with a
fixed seed.

Ground truth: every pair of pages whose texts, as thresher extracts them with
``html="text"``, have an exact word-5-gram Jaccard similarity (the pure-Python
``thresher.reference``) at or above the threshold. No blocking: identical
shingle sets are grouped first (every pair inside a group is a true pair), and
the distinct sets are compared all against all by prefix filtering
(``eval_quality.all_pairs``), which is exact.

Each mode (``html="text"``, ``"main"``, ``"raw"``) is then ingested and run
through ``thresher.similar_pairs`` at the threshold; its pairs (each exact
duplicate's link to its first copy and each near edge, expanded to every pair
of rows of the two exact groups it joins, as they have the same shingles) are
judged against that one truth. The pairs are also counted by what they are:
the same page in two documentation versions, a page and its re-wrapped copy,
and every other pair (pages that only share a template, or really share text).

Speed: the WARC files ingested end to end by ``thresher.scan`` with one
thread (MB of WARC per second per core) for each mode, and, when installed,
BeautifulSoup's ``get_text()`` and trafilatura's ``extract()`` on the same
pages. Figures go to ``benches/out/html_quality.json``.

Usage: ``python benches/eval_html_quality.py [--threshold 0.8] [--out-dir DIR]
[--repeat 3] [--compare-pages 400]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import polars as pl

import thresher
from thresher.reference import jaccard, shingles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_quality import all_pairs
from web_corpus import (
    CorpusSpec,
    Page,
    build_corpus,
    http_response,
    visible_text,
    warc_record,
    write_warc,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "web"
OUT = HERE / "out" / "html_quality.json"
NGRAM = 5
MODES = ("text", "main", "raw")
TARGETS = {"recall": 0.99, "precision": 0.995}
CATEGORIES = ("version", "rewrap", "other")

Pair = tuple[int, int]


def ingest_mode(warc_dir: Path, pages: list[Page], mode: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records of one mode, in page order (the corpus's record order)."""
    result = thresher.ingest(warc_dir, html=mode)
    order = {p.uri: i for i, p in enumerate(pages)}
    records = result.records.with_columns(
        pl.col("url").replace_strict(order, default=None, return_dtype=pl.Int64).alias("page")
    )
    missing = len(pages) - records["page"].drop_nulls().n_unique()
    if missing or records.height != len(pages):
        raise SystemExit(f"html={mode}: {records.height} records for {len(pages)} pages")
    return records.sort("page"), result.errors


def shingle_sets(texts: list[str]) -> list[frozenset[int]]:
    """Each text's distinct word 5-grams, as hashes (within this process,
    equal shingles have equal hashes; 64-bit collisions are negligible)."""
    return [frozenset(hash(s) for s in shingles(t, NGRAM)) for t in texts]


def truth_pairs(sets: list[frozenset[int]], threshold: float) -> dict[Pair, float]:
    """Every pair ``(a, b)``, ``a < b``, with exact Jaccard >= threshold."""
    groups: dict[frozenset[int], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        if s:
            groups[s].append(i)
    members = list(groups.values())
    distinct = [sets[m[0]] for m in members]
    out: dict[Pair, float] = {}
    for m in members:
        for x, a in enumerate(m):
            for b in m[x + 1 :]:
                out[(a, b)] = 1.0
    for (ga, gb), j in all_pairs(distinct, threshold).items():
        for a in members[ga]:
            for b in members[gb]:
                out[(min(a, b), max(a, b))] = j
    return out


def found_pairs(frame: pl.DataFrame, threshold: float) -> tuple[set[Pair], float]:
    """The pairs thresher reports (exact links and near edges, expanded over
    exact groups), and the seconds ``similar_pairs`` took."""
    t0 = time.perf_counter()
    edges = thresher.similar_pairs(frame.select("text"), threshold=threshold)
    seconds = time.perf_counter() - t0
    group: dict[int, list[int]] = defaultdict(list)
    first: dict[int, int] = {}
    for a, b in edges.filter(pl.col("exact")).select("a", "b").iter_rows():
        first[b] = a
        group[a] = group[a] or [a]
        group[a].append(b)

    def members(i: int) -> list[int]:
        return group.get(first.get(i, i)) or [i]

    out: set[Pair] = set()
    for rows in group.values():
        out.update((a, b) for x, a in enumerate(rows) for b in rows[x + 1 :])
    for a, b in edges.filter(~pl.col("exact")).select("a", "b").iter_rows():
        out.update((min(x, y), max(x, y)) for x in members(a) for y in members(b) if x != y)
    return out, seconds


def components(n: int, edges: set[Pair]) -> list[int]:
    """Each row's cluster (lowest row of its connected component)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [root(i) for i in range(n)]


def category(pages: list[Page], a: int, b: int) -> str:
    """``version`` (same page, two documentation versions), ``rewrap`` (a page
    and a copy of its text in another template) or ``other``."""
    pa, pb = pages[a], pages[b]
    if pa.group == pb.group:
        if "rewrap" in (pa.kind, pb.kind):
            return "rewrap"
        return "version"
    return "other"


def judge(
    pages: list[Page],
    truth: dict[Pair, float],
    found: set[Pair],
    sets: list[frozenset[int]],
    threshold: float,
    max_cluster_pairs: int = 300_000,
) -> dict:
    """Recall: true pairs whose pages end in one cluster (thresher links
    large groups of near-identical pages through a spanning set of edges, not
    every pair). Precision: reported pairs whose text Jaccard clears the
    threshold. Cluster precision: pairs of pages in one cluster that do
    (sampled with a fixed seed beyond ``max_cluster_pairs``)."""
    import random

    cluster = components(len(pages), found)
    found_truth = {p for p in truth if cluster[p[0]] == cluster[p[1]]}
    true_edges = {p for p in found if p in truth}
    false_edges = found - true_edges
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(cluster):
        members[c].append(i)
    n_cluster_pairs = sum(len(m) * (len(m) - 1) // 2 for m in members.values())
    if n_cluster_pairs <= max_cluster_pairs:
        cluster_pairs = [
            (a, b) for m in members.values() for x, a in enumerate(m) for b in m[x + 1 :]
        ]
    else:
        rng = random.Random(0)
        big = [m for m in members.values() if len(m) > 1]
        weights = [len(m) * (len(m) - 1) for m in big]
        cluster_pairs = []
        for m in rng.choices(big, weights=weights, k=max_cluster_pairs):
            a, b = rng.sample(m, 2)
            cluster_pairs.append((min(a, b), max(a, b)))
    good = sum(
        1 for p in cluster_pairs if p in truth or jaccard(sets[p[0]], sets[p[1]]) >= threshold
    )
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for p in truth:
        by_cat[category(pages, *p)]["true"] += 1
    for p in found_truth:
        by_cat[category(pages, *p)]["found"] += 1
    for p in false_edges:
        by_cat[category(pages, *p)]["false_edges"] += 1
    fp_j = sorted((jaccard(sets[a], sets[b]), a, b) for a, b in false_edges)
    miss_j = sorted((truth[p], *p) for p in truth.keys() - found_truth)

    def example(j: float, a: int, b: int) -> dict:
        return {"text_jaccard": round(j, 4), "a": pages[a].uri, "b": pages[b].uri}

    return {
        "edges": len(found),
        "clusters_of_2_or_more": sum(1 for m in members.values() if len(m) > 1),
        "largest_cluster": max(len(m) for m in members.values()),
        "true_pairs_found": len(found_truth),
        "true_pairs_missed": len(truth) - len(found_truth),
        "false_edges": len(false_edges),
        "recall": len(found_truth) / len(truth) if truth else 1.0,
        "precision": len(true_edges) / len(found) if found else 1.0,
        "cluster_pairs": n_cluster_pairs,
        "cluster_pairs_judged": len(cluster_pairs),
        "cluster_precision": good / len(cluster_pairs) if cluster_pairs else 1.0,
        "by_category": {c: dict(v) for c, v in sorted(by_cat.items())},
        "false_edge_text_jaccard_median": (
            round(statistics.median(j for j, *_ in fp_j), 4) if fp_j else None
        ),
        "false_edge_examples": [example(*x) for x in fp_j[:5]],
        "missed_examples": [example(*x) for x in miss_j[-5:]],
    }


def scan_speed(warc_dir: Path, mode: str, repeat: int) -> dict:
    """MB/s of WARC through ``thresher.scan`` with one thread (best and
    median of ``repeat`` runs) and with every thread (best)."""
    size = sum(f.stat().st_size for f in warc_dir.iterdir())

    def run(threads: int) -> float:
        t0 = time.perf_counter()
        with thresher.scan(warc_dir, threads=threads, html=mode) as scan:
            for _ in scan:
                pass
        return time.perf_counter() - t0

    one = [run(1) for _ in range(repeat)]
    every = [run(os.cpu_count() or 1) for _ in range(repeat)]
    return {
        "warc_mb": round(size / 1e6, 2),
        "mb_s_1_thread_best": round(size / 1e6 / min(one), 1),
        "mb_s_1_thread_median": round(size / 1e6 / statistics.median(one), 1),
        "mb_s_all_threads_best": round(size / 1e6 / min(every), 1),
        "threads": os.cpu_count(),
    }


def extractor_speeds(pages: list[Page], n: int, seed: int, work: Path, repeat: int) -> dict:
    """MB/s of HTML, one thread, on the same ``n`` pages: thresher (each
    mode, the pages as one WARC file through ``thresher.scan``, best of
    ``repeat``), BeautifulSoup ``get_text()`` and trafilatura ``extract()``
    (when installed, one run)."""
    import random

    files = sorted({p.path for p in pages if p.kind != "rewrap"})
    chosen = random.Random(seed).sample(files, min(n, len(files)))
    sample = [Path(f).read_bytes() for f in chosen]
    size = sum(len(b) for b in sample) / 1e6
    out: dict[str, object] = {"pages": len(sample), "html_mb": round(size, 2)}
    work.mkdir(parents=True, exist_ok=True)
    warc = work / "sample.warc"
    write_warc(
        warc,
        (warc_record(http_response(b), f"file://{f}") for f, b in zip(chosen, sample, strict=True)),
    )
    for mode in MODES:
        best = math.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            with thresher.scan(warc, threads=1, html=mode) as scan:
                for _ in scan:
                    pass
            best = min(best, time.perf_counter() - t0)
        out[f"thresher_{mode}_mb_s"] = round(size / best, 1)
    try:
        import warnings

        from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

        # The Python manual has XHTML pages; they are timed as HTML like the rest.
        warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

        for parser in ("lxml", "html.parser"):
            try:
                t0 = time.perf_counter()
                for body in sample:
                    BeautifulSoup(body, parser).get_text()
                out[f"bs4_get_text_{parser}_mb_s"] = round(size / (time.perf_counter() - t0), 2)
            except Exception as exc:  # a missing parser
                out[f"bs4_get_text_{parser}_mb_s"] = f"unavailable: {exc}"
    except ImportError:
        out["bs4"] = "not installed"
    try:
        import trafilatura

        t0 = time.perf_counter()
        for body in sample:
            trafilatura.extract(body)
        out["trafilatura_extract_mb_s"] = round(size / (time.perf_counter() - t0), 2)
        out["trafilatura_version"] = trafilatura.__version__
    except ImportError:
        out["trafilatura"] = "not installed"
    return out


def agreement(pages: list[Page], frame: pl.DataFrame) -> dict:
    """Jaccard between thresher's ``html="text"`` text and a plain-Python
    extraction of the visible text (``web_corpus.visible_text``), per page."""
    js = []
    for page, text in zip(pages, frame["text"].to_list(), strict=True):
        if page.kind == "rewrap":
            continue
        _title, blocks = visible_text(Path(page.path).read_bytes())
        js.append(jaccard(shingles(text, NGRAM), shingles("\n".join(blocks), NGRAM)))
    js.sort()
    return {
        "pages": len(js),
        "median": round(statistics.median(js), 4) if js else None,
        "p10": round(js[len(js) // 10], 4) if js else None,
        "below_0.8": sum(1 for j in js if j < 0.8),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--out-dir", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-pages", type=int, default=400)
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")

    t0 = time.perf_counter()
    pages = build_corpus(args.out_dir, CorpusSpec(), seed=args.seed)
    warc_dir = args.out_dir / "warc"
    kinds = Counter(p.kind for p in pages)
    print(f"corpus: {len(pages)} pages in {time.perf_counter() - t0:.1f}s -> {warc_dir}")
    print("  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))

    frames = {}
    errors = {}
    for mode in MODES:
        frames[mode], err = ingest_mode(warc_dir, pages, mode)
        errors[mode] = dict(Counter(err["kind"].to_list()))

    t0 = time.perf_counter()
    sets = shingle_sets(frames["text"]["text"].to_list())
    truth = truth_pairs(sets, args.threshold)
    truth_s = time.perf_counter() - t0
    cats = Counter(category(pages, *p) for p in truth)
    print(
        f"truth: {len(truth)} pairs with text J >= {args.threshold} ({truth_s:.1f}s): {dict(cats)}"
    )
    versioned = sum(1 for p in pages if p.version and p.kind != "rewrap") - len(
        {p.group for p in pages if p.version and p.kind != "rewrap"}
    )
    print(f"  version pairs in the corpus: {versioned}")

    results = {}
    for mode in MODES:
        found, seconds = found_pairs(frames[mode], args.threshold)
        results[mode] = judge(pages, truth, found, sets, args.threshold)
        results[mode]["similar_pairs_seconds"] = round(seconds, 3)
        results[mode]["errors"] = errors[mode]
        results[mode]["speed"] = scan_speed(warc_dir, mode, args.repeat)
    agree = agreement(pages, frames["text"])
    compare = extractor_speeds(
        pages, args.compare_pages, args.seed, args.out_dir / "sample", args.repeat
    )

    print()
    print(
        "| html | recall | precision | cluster precision | version pairs found / true "
        "| rewrap found / true | other found / true | false edges (median text J) "
        "| largest cluster | MB/s 1 thread, best (median) | MB/s all threads | error rows |"
    )
    print("|---" * 12 + "|")
    for mode, r in results.items():
        c = r["by_category"]
        cells = [
            f"{c.get(k, {}).get('found', 0)} / {c.get(k, {}).get('true', 0)}" for k in CATEGORIES
        ]
        sp = r["speed"]
        print(
            f"| {mode} | {r['recall']:.4f} | {r['precision']:.4f} | {r['cluster_precision']:.4f} | "
            + " | ".join(cells)
            + f" | {r['false_edges']} ({r['false_edge_text_jaccard_median']}) | "
            f"{r['largest_cluster']} | {sp['mb_s_1_thread_best']} ({sp['mb_s_1_thread_median']}) | "
            f"{sp['mb_s_all_threads_best']} | {sum(r['errors'].values())} |"
        )
    print(f"\nagreement of html=text with a plain-Python visible-text extraction: {agree}")
    print(f"extractors, one thread, on {compare['pages']} of the pages: {compare}")
    for mode, r in results.items():
        for ex in r["missed_examples"][-3:]:
            print(f"  missed ({mode}): {ex}")
        for ex in r["false_edge_examples"][:3]:
            print(f"  false positive ({mode}): {ex}")
    ok = results["text"]["recall"] >= TARGETS["recall"]
    ok &= results["text"]["precision"] >= TARGETS["precision"]
    print(f"\nhtml=text meets recall >= 0.99 and precision >= 0.995: {ok}")

    report = {
        "command": "python benches/eval_html_quality.py " + " ".join(argv or sys.argv[1:]),
        "threshold": args.threshold,
        "ngram": NGRAM,
        "seed": args.seed,
        "pages": len(pages),
        "pages_by_kind": dict(kinds),
        "spec": asdict(CorpusSpec()),
        "true_pairs": len(truth),
        "true_pairs_by_category": dict(cats),
        "version_pairs_in_corpus": versioned,
        "truth_seconds": round(truth_s, 2),
        "results": results,
        "agreement_with_plain_python": agree,
        "extractors_same_pages": compare,
        "targets": TARGETS,
        "meets_targets": bool(ok),
        "thresher": thresher.__version__,
        "load_average_end": os.getloadavg(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
