"""Signature speed on short documents, beside the long-document corpus.

Builds, at run time, a corpus of short documents of real text from this
machine: paragraphs of 30 to 100 words from Debian package descriptions
(``/var/lib/dpkg/status``), man pages (``/usr/share/man``, roff stripped),
Python stdlib docstrings and plain-text files under ``/usr/share/doc``;
distinct texts only, shuffled with a fixed seed, about ``--mb`` MB of UTF-8
in all.  Nothing of it is stored in the repository.

Beside it runs the long-document corpus of ``benches/bench_speed.py`` (the
quality corpus, 50 to 800 words a document), so that neither regresses.
``--corpus languages`` runs a third: paragraphs of 30 words or more from the
translated man pages under ``/usr/share/man/LANG`` (German, French,
Russian, Ukrainian, Polish and the others installed), text in other
scripts and with accents, cased, as the scraped web is.

On each corpus it measures signatures (128 permutations, word 5-grams), text
in -> signatures out: ``thresher.minhash`` at each ``--thread-counts``; rensa
handed pre-split shingles (``RMinHash`` update+digest, the
``digest_matrix_from_token_sets`` path, its ``_rho`` variant) at one thread;
datasketch's ``MinHash.bulk`` with the Python shingling its users write, at
one thread.  The workers are bench_speed's (one subprocess per measurement,
``RAYON_NUM_THREADS`` set per process, warm-up first, the same tokenisation
for every library); the report gives signatures/s and MB/s and thresher's
ratios to rensa's pre-split matrix path and to datasketch's bulk API (the
targets of issue 17: 3x and 100x at one thread), from wall time and, for
one thread, from the process's CPU time too (steadier on a shared machine).

Usage: ``python benches/bench_short.py [--corpus short|long|both|languages|all] [--mb 24]
[--thread-counts 1,2] [--repeat 3] [--skip-datasketch] [--write-docs PATH]``.
``--write-docs PATH`` writes the corpus ``--corpus`` names (short, long or
languages; with the default, ``both``, the short one) as texts separated
by NUL bytes
(the input of ``cargo run --release -p thresher-core --example
signature_speed PATH``) and exits.  Results go to ``benches/out/short.json``.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import inspect
import json
import os
import random
import re
import shlex
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_speed as bs  # noqa: E402
import eval_quality as q  # noqa: E402

OUT = HERE / "out" / "short.json"
MIN_WORDS, MAX_WORDS = 30, 100
SHUFFLE_SEED = 17
#: Plain-text files under /usr/share/doc read for paragraphs.
DOC_NAMES = re.compile(r"(README|NEWS|FAQ|TODO|AUTHORS|THANKS|\.txt|\.md)(\.gz)?$", re.I)

# ---------------------------------------------------------------------------
# The short corpus.
# ---------------------------------------------------------------------------


def _fits(text: str) -> str | None:
    """``text`` with its whitespace collapsed, if it has 30 to 100 words."""
    words = text.split()
    return " ".join(words) if MIN_WORDS <= len(words) <= MAX_WORDS else None


def dpkg_docs(path: str = "/var/lib/dpkg/status") -> Iterator[str]:
    """Long package descriptions, whole or by paragraph."""
    if not os.path.isfile(path):
        return
    desc: list[str] = []
    for line in [*q.read_text(path).splitlines(), ""]:
        if line.startswith(" ") and desc:
            desc.append("" if line.strip() == "." else line.strip())
            continue
        if desc:
            text = "\n".join(desc)
            whole = _fits(text)
            yield from [whole] if whole else filter(None, map(_fits, q.split_blank(text)))
            desc = []
        if line.startswith("Description:"):
            desc = [line.removeprefix("Description:").strip()]


def man_docs() -> Iterator[str]:
    """Paragraphs of the man pages, roff stripped."""
    root = Path("/usr/share/man")
    for path in sorted(root.glob("man*/*.gz")) if root.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        for section in q.man_page_sections(path):
            yield from filter(None, map(_fits, q.split_blank(section)))


def python_docs() -> Iterator[str]:
    """Paragraphs of the docstrings of Python's standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts):
        try:
            tree = ast.parse(q.read_text(path))
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                continue
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield from filter(None, map(_fits, q.split_blank(inspect.cleandoc(doc))))


def doc_docs() -> Iterator[str]:
    """Paragraphs of the plain-text files under /usr/share/doc."""
    root = Path("/usr/share/doc")
    paths = sorted(p for p in root.rglob("*") if DOC_NAMES.search(p.name)) if root.is_dir() else []
    for path in paths:
        if path.is_symlink() or not path.is_file():
            continue
        try:
            if path.suffix == ".gz":
                with gzip.open(path, "rb") as fh:
                    raw = fh.read(400_000).decode("utf-8", errors="replace")
            else:
                raw = q.read_text(path)
        except (OSError, EOFError):
            continue
        yield from filter(None, map(_fits, q.split_blank(raw)))


def short_corpus(mb: float) -> tuple[list[str], dict[str, int]]:
    """Distinct short documents from every source in turn (package
    descriptions, docstrings, doc files, then man pages) until ``mb`` MB, in
    a shuffled order; and the number taken from each source."""
    seen: set[str] = set()
    docs: list[str] = []
    counts: dict[str, int] = {}
    size, limit = 0, int(mb * 1e6)
    sources = [
        ("dpkg", dpkg_docs),
        ("python-doc", python_docs),
        ("usr-share-doc", doc_docs),
        ("man", man_docs),
    ]
    for name, source in sources:
        counts[name] = 0
        for doc in source():
            if size >= limit:
                break
            if doc in seen:
                continue
            seen.add(doc)
            docs.append(doc)
            counts[name] += 1
            size += len(doc.encode())
    random.Random(SHUFFLE_SEED).shuffle(docs)
    return docs, counts


def language_corpus() -> tuple[list[str], dict[str, int]]:
    """Distinct paragraphs of 30 words or more (whitespace collapsed) of the
    translated man pages, language by language in name order, shuffled with
    a fixed seed; and the number taken from each language."""
    root = Path("/usr/share/man")
    langs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("man"))
    seen: set[str] = set()
    docs: list[str] = []
    counts: dict[str, int] = {}
    for lang in langs:
        counts[lang] = 0
        for path in sorted((root / lang).glob("man*/*.gz")):
            if path.is_symlink() or not path.is_file():
                continue
            for section in q.man_page_sections(path):
                for para in q.split_blank(section):
                    words = para.split()
                    doc = " ".join(words)
                    if len(words) < MIN_WORDS or doc in seen:
                        continue
                    seen.add(doc)
                    docs.append(doc)
                    counts[lang] += 1
    random.Random(SHUFFLE_SEED).shuffle(docs)
    return docs, {k: v for k, v in counts.items() if v}


def long_corpus() -> tuple[list[str], str]:
    """bench_speed's corpus: the cached quality corpus, else built."""
    if q.DATA.exists():
        return pl.read_parquet(q.DATA)["text"].to_list(), str(q.DATA)
    df, _ = q.build_corpus(None)
    return df["text"].to_list(), "eval_quality.build_corpus(None)"


# ---------------------------------------------------------------------------
# Measurement and report.
# ---------------------------------------------------------------------------


def measure(texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """bench_speed's signature workers on ``texts``."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="thresher-short-") as tmpdir:
        tmp = Path(tmpdir)
        pl.DataFrame({"text": texts}).write_parquet(tmp / "corpus.parquet")
        for t in args.thread_counts:
            results[f"thresher_{t}"] = bs.spawn(tmp, "thresher_sig", t, args)
        results["rensa_1"] = bs.spawn(tmp, "rensa_sig", 1, args)
        if not args.skip_datasketch:
            results["datasketch_1"] = bs.spawn(tmp, "datasketch_sig", 1, args)
    return results


def rows_of(texts: list[str], results: dict[str, Any], args: argparse.Namespace) -> list[dict]:
    sizes = [len(t.encode()) for t in texts]
    rows = []

    def add(name: str, res: dict, key: str, docs: int | None = None) -> None:
        docs = docs or len(texts)
        sec = res["timings"][key]["seconds"]
        cpu = res["timings"][key].get("cpu_seconds", sec)
        rows.append(
            {
                "name": name,
                "threads": res["threads"],
                "docs": docs,
                "seconds": sec,
                "runs": res["timings"][key]["runs"],
                "mb_per_s": sum(sizes[:docs]) / 1e6 / sec,
                "cpu_mb_per_s": sum(sizes[:docs]) / 1e6 / cpu,
                "docs_per_s": docs / sec,
            }
        )

    for t in args.thread_counts:
        add("thresher.minhash", results[f"thresher_{t}"], "minhash")
    r = results["rensa_1"]
    add("rensa RMinHash update+digest (pre-split)", r, "update_digest")
    add("rensa digest_matrix_from_token_sets (pre-split)", r, "matrix")
    add("rensa digest_matrix_..._rho (pre-split, other sketch)", r, "rho")
    if "datasketch_1" in results:
        r = results["datasketch_1"]
        add("datasketch MinHash.bulk + shingling", r, "bulk", r["docs"])
    return rows


def report(label: str, texts: list[str], rows: list[dict], origin: str) -> list[str]:
    n_bytes = sum(len(t.encode()) for t in texts)
    words = sorted(len(t.split()) for t in texts)
    lines = [
        f"## {label} corpus: {len(texts)} docs, {n_bytes / 1e6:.1f} MB UTF-8, "
        f"{n_bytes / max(1, len(texts)):.0f} B/doc, words/doc median {words[len(words) // 2]} "
        f"(min {words[0]}, max {words[-1]}); {origin}",
        "",
    ]
    table = [
        [
            r["name"],
            r["threads"],
            r["docs"],
            f"{r['docs_per_s']:,.0f}",
            f"{r['mb_per_s']:.1f}",
            f"{r['cpu_mb_per_s']:.1f}" if r["threads"] == 1 else "",
        ]
        for r in rows
    ]
    headers = ["path", "thr", "docs", "signatures/s", "MB/s", "MB/s of CPU time"]
    lines.append(bs.fmt_table(headers, table))
    thr1 = next(r for r in rows if r["name"] == "thresher.minhash" and r["threads"] == 1)
    rensa = next(r for r in rows if r["name"].startswith("rensa digest_matrix_from"))
    ds = next((r for r in rows if r["name"].startswith("datasketch")), None)
    for key, what in (("mb_per_s", "wall"), ("cpu_mb_per_s", "CPU")):
        ratio = f"thresher 1 thr ({what} time): x{thr1[key] / rensa[key]:.2f} rensa pre-split"
        if ds is not None:
            ratio += f", x{thr1[key] / ds[key]:.0f} datasketch bulk"
        lines.append(ratio + " (targets 3x and 100x)")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", choices=["short", "long", "both", "languages", "all"], default="both"
    )
    parser.add_argument("--mb", type=float, default=24.0, help="size of the short corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--thread-counts", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2]
    )
    parser.add_argument("--skip-datasketch", action="store_true")
    parser.add_argument("--write-docs", type=Path, default=None)
    args = parser.parse_args(argv)
    args.threshold = 0.8  # read by bench_speed.spawn
    args.thread_counts = sorted(set(args.thread_counts) | {1})

    if args.write_docs is not None:
        docs: list[str]
        if args.corpus == "languages":
            docs, counts = language_corpus()
        elif args.corpus == "long":
            docs, source = long_corpus()
            counts = {source: len(docs)}
        elif args.corpus in ("short", "both"):
            docs, counts = short_corpus(args.mb)
        else:
            parser.error("--write-docs writes one corpus: --corpus short, long or languages")
        args.write_docs.write_bytes(b"\0".join(d.encode() for d in docs))
        print(f"{len(docs)} docs from {counts} -> {args.write_docs}")
        return 0

    print("command: " + shlex.join([sys.executable, *sys.argv]), flush=True)
    import thresher

    print(
        f"cpu: {bs.cpu_model()}; thresher {bs.version('thresher')} "
        f"({Path(thresher.__file__).parent}), rensa {bs.version('rensa')}, "
        f"datasketch {bs.version('datasketch')}; load average {os.getloadavg()[0]:.2f}"
    )
    lines: list[str] = []
    out: dict[str, Any] = {}
    corpora = {
        "both": ["short", "long"],
        "all": ["short", "long", "languages"],
    }.get(args.corpus, [args.corpus])
    for label in corpora:
        t0 = time.perf_counter()
        if label == "short":
            texts, counts = short_corpus(args.mb)
            origin = "paragraphs of " + ", ".join(f"{k} {v}" for k, v in counts.items())
        elif label == "languages":
            texts, counts = language_corpus()
            langs = ", ".join(f"{k} {v}" for k, v in counts.items())
            origin = f"paragraphs of man pages in {langs}"
        else:
            texts, origin = long_corpus()
        origin += f"; built in {time.perf_counter() - t0:.0f}s"
        results = measure(texts, args)
        rows = rows_of(texts, results, args)
        out[label] = {"origin": origin, "docs": len(texts), "rows": rows}
        lines += report(label, texts, rows, origin)
    lines.append(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("\n".join(lines))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
