"""Quality of thresher's near-duplicate detection on real text from this machine.

Builds a deterministic corpus of a few thousand documents from text found
locally:

* ``copyright``: ``/usr/share/doc/*/copyright`` files (many near-identical
  licence texts), split into chunks of paragraphs;
* ``man``: a fixed sample of man pages (``/usr/share/man/man*/*.gz``), roff
  markup stripped crudely, split into sections;
* ``python-doc``: docstrings of the Python standard library;
* ``rust-doc``: the Rust release notes and book shipped with rustup toolchains
  (stable and nightly: natural near-duplicates between versions);
* ``derived``: copies of a random subset of the above with random word edits,
  so that there are many pairs with Jaccard similarity around the threshold.

The corpus is deduplicated by exact text (NFKC, lowercase, whitespace collapsed;
the first copy is kept) so that thresher's exact-duplicate linking does not
matter, and written to ``benches/data/quality_corpus.parquet``.

The ground truth is every pair of documents whose word-5-gram Jaccard
similarity is at least the threshold, computed exactly in pure Python (prefix
filtering over shingles ordered by document frequency, then exact
verification).  It is compared with ``thresher.similar_pairs`` (``verify="exact"``
and ``verify="signature"``); figures go to ``benches/out/quality.json``.

Tokenisation mirrors thresher: NFKC, lowercase, words are maximal runs of
alphanumeric characters (``[^\\W_]+``).  Python's notion of alphanumeric can
differ from Rust's ``char::is_alphanumeric`` on a few rare characters (some
combining marks and number forms), so a pair right at the threshold may be
judged differently; false positives are therefore reported with their exact
similarity, and a precision that counts pairs with J >= threshold - 0.02 as
correct is reported too.

Usage: ``python benches/eval_quality.py [--threshold 0.8] [--max-docs N]``
"""

from __future__ import annotations

import argparse
import ast
import glob
import gzip
import html.parser
import inspect
import json
import math
import os
import random
import re
import sys
import sysconfig
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from thresher import reference
from thresher.reference import exact_form as exact_key
from thresher.reference import jaccard, words

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "quality_corpus.parquet"
OUT = HERE / "out" / "quality.json"

SEED = 20240314
NGRAM = 5
MIN_WORDS, MAX_WORDS = 50, 800
#: Default number of real documents taken from each source (before exact dedup).
CAPS = {"copyright": 1400, "man": 1400, "python-doc": 1100, "rust-doc": 1100}
#: Share of real documents that get one edited copy (some get two).
DERIVED_SHARE = 0.22

# ---------------------------------------------------------------------------
# Reference tokenisation.
# ---------------------------------------------------------------------------


def shingles(text: str, ngram: int = NGRAM) -> set[tuple[str, ...]]:
    return reference.shingles(text, ngram)


# ---------------------------------------------------------------------------
# Chunking.
# ---------------------------------------------------------------------------


def _n_words(text: str) -> int:
    return len(text.split())


def chunk_paragraphs(paragraphs: Iterable[str], target: int = 120) -> Iterator[str]:
    """Greedily merge paragraphs into documents of about ``target`` words.

    Documents have between MIN_WORDS and MAX_WORDS whitespace-separated words;
    longer paragraphs are cut into MAX_WORDS windows, short leftovers dropped.
    """
    buf: list[str] = []
    size = 0
    for para in paragraphs:
        para = " ".join(para.split())
        n = _n_words(para)
        if n == 0:
            continue
        if n > MAX_WORDS:
            if size >= MIN_WORDS:
                yield "\n\n".join(buf)
            buf, size = [], 0
            toks = para.split()
            for i in range(0, len(toks), MAX_WORDS):
                piece = toks[i : i + MAX_WORDS]
                if len(piece) >= MIN_WORDS:
                    yield " ".join(piece)
            continue
        if size + n > MAX_WORDS:
            if size >= MIN_WORDS:
                yield "\n\n".join(buf)
            buf, size = [], 0
        buf.append(para)
        size += n
        if size >= target:
            yield "\n\n".join(buf)
            buf, size = [], 0
    if size >= MIN_WORDS:
        yield "\n\n".join(buf)


def split_blank(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------


def read_text(path: str | Path) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def copyright_docs() -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        if not os.path.isfile(path):
            continue
        lines = []
        for line in read_text(path).splitlines():
            s = line.strip()
            lines.append("" if s == "." else s)
        for doc in chunk_paragraphs(split_blank("\n".join(lines))):
            yield path, doc


_ROFF_ESCAPE = re.compile(
    r"\\f(\[[^\]]*\]|\(..|.)"  # font changes
    r"|\\\*(\[[^\]]*\]|\(..|.)"  # strings
    r"|\\\((..)"  # special characters
    r"|\\\[[^\]]*\]"
    r"|\\[&|^%:c]"
    r"|\\s[+-]?\d"
)


def strip_roff(src: str) -> str:
    out = []
    for line in src.splitlines():
        if line.startswith((".", "'")):
            out.append("" if line.startswith((".SH", ".SS", ".PP", ".P ", ".LP", ".TP")) else None)
            if out[-1] is None:
                out.pop()
            continue
        line = _ROFF_ESCAPE.sub("", line)
        line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ")
        out.append(line)
    return "\n".join(out)


def man_page_sections(path: str | os.PathLike[str]) -> list[str]:
    """The sections of a gzipped man page (its first 400 kB), roff stripped;
    none for an unreadable page or an alias (``.so``)."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read(400_000).decode("utf-8", errors="replace")
    except (OSError, EOFError):
        return []
    if raw.lstrip().startswith(".so "):
        return []
    return [strip_roff(section) for section in re.split(r"(?m)^\.SH\b.*$", raw)]


def man_docs(cap: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    pages = sorted(
        p
        for p in glob.glob("/usr/share/man/man*/*.gz")
        if os.path.isfile(p) and not os.path.islink(p)
    )
    rng.shuffle(pages)
    produced = 0
    for path in pages:
        if produced >= cap:
            return
        for section in man_page_sections(path):
            for doc in chunk_paragraphs(split_blank(section), target=150):
                produced += 1
                yield path, doc


def python_docs() -> Iterator[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts and p.is_file()
    )
    for path in files:
        try:
            tree = ast.parse(read_text(path))
        except (SyntaxError, ValueError):
            continue
        nodes = [tree] + [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        for node in nodes:
            doc = ast.get_docstring(node, clean=False)
            if not doc:
                continue
            doc = inspect.cleandoc(doc)
            n = _n_words(doc)
            if MIN_WORDS <= n <= MAX_WORDS:
                yield str(path), doc
            elif n > MAX_WORDS:
                for piece in chunk_paragraphs(split_blank(doc), target=200):
                    yield str(path), piece


class _HtmlText(html.parser.HTMLParser):
    """Text of ``<p>``, ``<li>`` and heading elements of an HTML page."""

    BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "dd", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._depth = 0
        self._skip = 0
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "nav", "pre"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self._flush()
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "nav", "pre"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self._flush()
            self._depth = max(0, self._depth - 1)

    def handle_data(self, data):
        if self._depth and not self._skip:
            self._buf.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        if text:
            self.paragraphs.append(text)
        self._buf = []


def rust_docs() -> Iterator[tuple[str, str]]:
    roots = sorted({os.path.realpath(p) for p in glob.glob("/root/.rustup/toolchains/*/share/doc")})
    for root in roots:
        notes = Path(root) / "rust" / "html" / "releases.md"
        if notes.is_file():
            text = read_text(notes)
            for section in re.split(r"(?m)^#+ .*$", text):
                paras = [re.sub(r"[*`\[\]]|\]\([^)]*\)", " ", p) for p in split_blank(section)]
                for doc in chunk_paragraphs(paras, target=150):
                    yield str(notes), doc
        for name in ("README.md",):
            for sub in ("rust", "cargo", "clippy", "rustfmt"):
                p = Path(root) / sub / name
                if p.is_file():
                    for doc in chunk_paragraphs(split_blank(read_text(p))):
                        yield str(p), doc
        book = Path(root) / "rust" / "html" / "book"
        for page in sorted(book.glob("ch*.html")) + sorted(book.glob("appendix-*.html")):
            parser = _HtmlText()
            parser.feed(read_text(page))
            for doc in chunk_paragraphs(parser.paragraphs, target=160):
                yield str(page), doc


# ---------------------------------------------------------------------------
# Derived near-duplicates.
# ---------------------------------------------------------------------------


def edit_words(rng: random.Random, text: str, target_j: float) -> str:
    """Copy of ``text`` with word edits aimed at Jaccard similarity ``target_j``.

    Mostly scattered substitutions/insertions/deletions (each touches up to
    ``NGRAM`` shingles), sometimes one contiguous block inserted or deleted.
    """
    toks = text.split()
    n = len(toks)
    if rng.random() < 0.25:
        # A block edit changes about (m + NGRAM - 1) shingles out of n.
        m = max(1, round(n * (1 - target_j) / (1 + target_j)))
        start = rng.randrange(0, max(1, n - m))
        if rng.random() < 0.5:
            return " ".join(toks[:start] + toks[start + m :])
        donor = [rng.choice(toks) for _ in range(m)]
        return " ".join(toks[:start] + donor + toks[start:])
    k = max(1, round(n * (1 - target_j) / (NGRAM * (1 + target_j))))
    positions = sorted(rng.sample(range(n), min(k, n)), reverse=True)
    vocab = ["data", "value", "system", "file", "use", "new", "may", "other", "such", "more"]
    for pos in positions:
        op = rng.random()
        if op < 0.5:
            toks[pos] = rng.choice(vocab + toks)
        elif op < 0.75:
            toks.insert(pos, rng.choice(vocab + toks))
        elif len(toks) > 1:
            del toks[pos]
    return " ".join(toks)


# ---------------------------------------------------------------------------
# Corpus.
# ---------------------------------------------------------------------------


def build_corpus(max_docs: int | None) -> tuple[pl.DataFrame, dict]:
    rng = random.Random(SEED)
    scale = 1.0
    if max_docs is not None:
        scale = min(1.0, max_docs / (sum(CAPS.values()) * (1 + DERIVED_SHARE * 1.2)))
    caps = {k: max(1, int(v * scale)) for k, v in CAPS.items()}
    real: list[tuple[str, str, str]] = []  # (source, path, text)
    raw_counts: dict[str, int] = {}
    for source, gen in (
        ("copyright", lambda: copyright_docs()),
        ("man", lambda: man_docs(4 * caps["man"], random.Random(SEED + 1))),
        ("python-doc", lambda: python_docs()),
        ("rust-doc", lambda: rust_docs()),
    ):
        docs = list(gen())
        raw_counts[source] = len(docs)
        if len(docs) > caps[source]:
            keep = sorted(random.Random(f"{SEED}-{source}").sample(range(len(docs)), caps[source]))
            docs = [docs[i] for i in keep]
        real.extend((source, path, text) for path, text in docs)
    derived: list[tuple[str, str, str]] = []
    for source, path, text in real:
        if rng.random() >= DERIVED_SHARE:
            continue
        for _ in range(2 if rng.random() < 0.2 else 1):
            target = rng.uniform(0.55, 1.0)
            derived.append((f"derived:{source}", path, edit_words(rng, text, target)))
    rows = real + derived
    order = list(range(len(rows)))
    random.Random(SEED + 2).shuffle(order)
    seen: set[str] = set()
    kept: list[tuple[str, str, str]] = []
    for i in order:
        source, path, text = rows[i]
        key = exact_key(text)
        if key in seen or not words(text):
            continue
        seen.add(key)
        kept.append(rows[i])
    if max_docs is not None:
        kept = kept[:max_docs]
    df = pl.DataFrame(
        {
            "doc_id": list(range(len(kept))),
            "source": [s for s, _, _ in kept],
            "path": [p for _, p, _ in kept],
            "text": [t for _, _, t in kept],
        }
    )
    info = {
        "candidates_per_source": raw_counts,
        "taken_per_source": dict(Counter(s for s, _, _ in real)) | {"derived": len(derived)},
        "docs_before_exact_dedup": len(rows),
        "docs_per_source": dict(sorted(Counter(df["source"].to_list()).items())),
    }
    return df, info


# ---------------------------------------------------------------------------
# Exact ground truth.
# ---------------------------------------------------------------------------


def all_pairs(sets: list[set], threshold: float) -> dict[tuple[int, int], float]:
    """Every pair ``(a, b)``, ``a < b``, with Jaccard(sets[a], sets[b]) >= threshold.

    Exact: shingles are ordered by ascending document frequency; if
    ``|A & B| >= o`` then the first ``|A| - o + 1`` shingles of A and the first
    ``|B| - o + 1`` of B intersect, and J >= t implies ``o >= t * max(|A|, |B|)``.
    Prefixes of length ``|X| - ceil(t * |X|) + 1`` are therefore long enough.
    Candidates are verified exactly (with the size filter first).
    """
    df: Counter = Counter()
    for s in sets:
        df.update(s)
    rank = {sh: i for i, (sh, _) in enumerate(sorted(df.items(), key=lambda kv: (kv[1], kv[0])))}
    index: dict[int, list[int]] = defaultdict(list)
    out: dict[tuple[int, int], float] = {}
    for b, s in enumerate(sets):
        if not s:
            continue
        ordered = sorted(rank[sh] for sh in s)
        need = math.ceil(threshold * len(s) - 1e-9)
        prefix = ordered[: len(s) - need + 1]
        candidates: set[int] = set()
        for tok in prefix:
            candidates.update(index[tok])
        for a in candidates:
            sa = sets[a]
            small, large = sorted((len(sa), len(s)))
            if small < threshold * large - 1e-9:
                continue
            j = jaccard(sa, s)
            if j >= threshold:
                out[(a, b)] = j
        for tok in prefix:
            index[tok].append(b)
    return out


# ---------------------------------------------------------------------------
# Evaluation.
# ---------------------------------------------------------------------------


def describe(df: pl.DataFrame, i: int, sets: list[set]) -> str:
    text = df["text"][i]
    head = " ".join(text.split()[:8])
    return f"#{i} {df['source'][i]} ({len(words(text))} words, {len(sets[i])} shingles): {head!r}"


def evaluate(
    df: pl.DataFrame,
    truth: dict[tuple[int, int], float],
    sets: list[set],
    threshold: float,
    verify: str,
) -> dict:
    import thresher

    t0 = time.perf_counter()
    pairs = thresher.similar_pairs(df, threshold=threshold, verify=verify)
    seconds = time.perf_counter() - t0
    found = {(a, b): s for a, b, s in pairs.select("a", "b", "similarity").iter_rows()}
    exact_edges = int(pairs["exact"].sum())
    hits = set(found) & set(truth)
    extra = {p: jaccard(sets[p[0]], sets[p[1]]) for p in set(found) - set(truth)}
    missed = {p: truth[p] for p in set(truth) - set(found)}
    tolerance = threshold - 0.02
    near_ok = sum(1 for j in extra.values() if j >= tolerance)
    sim_err = [abs(found[p] - truth[p]) for p in hits]
    result = {
        "verify": verify,
        "seconds": round(seconds, 3),
        "found": len(found),
        "exact_edges": exact_edges,
        "true_positives": len(hits),
        "false_positives": len(extra),
        "false_negatives": len(missed),
        "recall": len(hits) / len(truth) if truth else 1.0,
        "precision": len(hits) / len(found) if found else 1.0,
        "precision_allowing_0.02": (len(hits) + near_ok) / len(found) if found else 1.0,
        "max_similarity_error_on_hits": max(sim_err, default=0.0),
        # With verify="exact", a nonzero error means the Python and Rust
        # tokenisations disagree on that pair (e.g. Indic vowel signs, which
        # Rust counts as alphabetic and Python's `\w` does not).
        "similarity_mismatches_on_hits": sum(1 for x in sim_err if x > 1e-9),
        "false_positive_jaccards": sorted(round(j, 4) for j in extra.values()),
        "missed_jaccards": sorted(round(j, 4) for j in missed.values()),
        "missed_examples": [
            {
                "pair": list(p),
                "jaccard": j,
                "a": describe(df, p[0], sets),
                "b": describe(df, p[1], sets),
            }
            for p, j in sorted(missed.items(), key=lambda kv: -kv[1])[:10]
        ],
        "false_positive_examples": [
            {
                "pair": list(p),
                "jaccard": j,
                "reported": found[p],
                "a": describe(df, p[0], sets),
                "b": describe(df, p[1], sets),
            }
            for p, j in sorted(extra.items(), key=lambda kv: kv[1])[:10]
        ],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--max-docs", type=int, default=None)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    df, info = build_corpus(args.max_docs)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(DATA)
    build_s = time.perf_counter() - t0
    print(f"corpus: {df.height} docs in {build_s:.1f}s -> {DATA}")
    for source, n in info["docs_per_source"].items():
        print(f"  {source:<22} {n:>6}")

    t0 = time.perf_counter()
    sets = [shingles(t) for t in df["text"].to_list()]
    truth = all_pairs(sets, args.threshold)
    brute_s = time.perf_counter() - t0
    bins = Counter(min(int((j - args.threshold) / 0.05), 3) for j in truth.values())
    print(f"ground truth: {len(truth)} pairs with J >= {args.threshold} ({brute_s:.1f}s)")
    labels = ["[t, t+.05)", "[t+.05, t+.1)", "[t+.1, t+.15)", ">= t+.15"]
    print("  " + ", ".join(f"{labels[b]}: {bins.get(b, 0)}" for b in range(4)))

    results = [evaluate(df, truth, sets, args.threshold, v) for v in ("exact", "signature")]
    print()
    print(
        f"{'verify':<10} {'found':>7} {'recall':>8} {'prec':>8} {'prec~.02':>9} {'FP':>5} "
        f"{'FN':>5} {'time s':>8}"
    )
    for r in results:
        print(
            f"{r['verify']:<10} {r['found']:>7} {r['recall']:>8.4f} {r['precision']:>8.4f} "
            f"{r['precision_allowing_0.02']:>9.4f} {r['false_positives']:>5} "
            f"{r['false_negatives']:>5} {r['seconds']:>8.3f}"
        )
    for r in results:
        if r["missed_examples"]:
            print(f"\nmissed ({r['verify']}), J of the worst: {r['missed_jaccards'][-10:]}")
            for ex in r["missed_examples"][:5]:
                print(f"  J={ex['jaccard']:.4f}\n    {ex['a']}\n    {ex['b']}")
        if r["false_positive_examples"]:
            print(
                f"\nfalse positives ({r['verify']}), exact J: {r['false_positive_jaccards'][:10]}"
            )
            for ex in r["false_positive_examples"][:5]:
                print(f"  J={ex['jaccard']:.4f} reported={ex['reported']:.4f}")
                print(f"    {ex['a']}\n    {ex['b']}")

    report = {
        "threshold": args.threshold,
        "ngram": NGRAM,
        "docs": df.height,
        "corpus": info,
        "true_pairs": len(truth),
        "brute_force_seconds": round(brute_s, 2),
        "results": results,
        "targets": {"recall": 0.99, "precision_allowing_0.02": 0.995},
        "python": sys.version.split()[0],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
