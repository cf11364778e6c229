"""Text to signatures, language by language: ``thresher.minhash`` at one
thread on the paragraphs of this machine's translated man pages.

For each language directory under ``/usr/share/man`` (``de``, ``fr``, ``ru``,
``ja``, ``ko``, ``zh_CN``...), the distinct paragraphs of 200 bytes or more
(roff stripped, whitespace collapsed; bytes rather than words, so that
Chinese and Japanese, written without spaces, count too), repeated to about
2 MB, are signed three times; the best time gives MB/s. Languages with
fewer than 20 such paragraphs are left out. Nothing is stored in the
repository. ``bench_short.py --corpus languages`` compares thresher with
rensa and datasketch on the same man pages; this script shows which
scripts are slower than others.

    .venv-bench/bin/python benches/bench_languages.py [--langs ja,ru,de]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import eval_quality as q  # noqa: E402

MAN = Path("/usr/share/man")
MIN_BYTES = 200
MIN_DOCS = 20
CALL_BYTES = 2_000_000


def paragraphs(lang: str) -> list[str]:
    """Distinct paragraphs of at least ``MIN_BYTES`` bytes of the man pages
    of ``lang``, whitespace collapsed, in file order."""
    seen: set[str] = set()
    docs = []
    for path in sorted((MAN / lang).glob("man*/*.gz")):
        if path.is_symlink() or not path.is_file():
            continue
        for section in q.man_page_sections(path):
            for para in q.split_blank(section):
                doc = " ".join(para.split())
                if len(doc.encode()) >= MIN_BYTES and doc not in seen:
                    seen.add(doc)
                    docs.append(doc)
    return docs


def speed(docs: list[str]) -> tuple[float, float]:
    """MB per call and the best MB/s of three calls of ``thresher.minhash``
    on ``docs`` repeated to about ``CALL_BYTES``."""
    import thresher

    size = sum(len(d.encode()) for d in docs)
    texts = pl.Series("text", docs * max(1, CALL_BYTES // size))
    mb = size * max(1, CALL_BYTES // size) / 1e6
    thresher.minhash(texts[:100])
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        thresher.minhash(texts)
        best = min(best, time.perf_counter() - start)
    return mb, mb / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default=None, help="comma-separated; default all")
    args = parser.parse_args()
    if not MAN.is_dir():
        raise SystemExit(f"{MAN} is missing")
    langs = (
        args.langs.split(",")
        if args.langs
        else sorted(p.name for p in MAN.iterdir() if p.is_dir() and not p.name.startswith("man"))
    )
    print(f"RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}; load {os.getloadavg()[0]:.2f}")
    print("| language | paragraphs | bytes each | MB/s |")
    print("|---|---|---|---|")
    for lang in langs:
        docs = paragraphs(lang)
        if len(docs) < MIN_DOCS:
            continue
        _, mb_s = speed(docs)
        each = sum(len(d.encode()) for d in docs) / len(docs)
        print(f"| {lang} | {len(docs):,} | {each:,.0f} | {mb_s:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
