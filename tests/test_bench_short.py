"""The short-document corpus of ``benches/bench_short.py``: real paragraphs of
30 to 100 words from files on this machine, built at run time. Where a source
is missing the test skips, except in CI, where it fails."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, require

sys.path.insert(0, str(REPO_ROOT / "benches"))
import bench_short


def check_short(docs: list[str]) -> None:
    for doc in docs:
        assert bench_short.MIN_WORDS <= len(doc.split()) <= bench_short.MAX_WORDS, doc
        assert doc == " ".join(doc.split())


@pytest.mark.parametrize(
    ("source", "path"),
    [
        (bench_short.dpkg_docs, "/var/lib/dpkg/status"),
        (bench_short.man_docs, "/usr/share/man"),
        (bench_short.python_docs, None),
        (bench_short.doc_docs, "/usr/share/doc"),
    ],
)
def test_every_source_gives_short_paragraphs(source, path) -> None:
    if path is not None:
        require(Path(path).exists(), f"{path} is missing")
    docs = list(itertools.islice(source(), 200))
    require(len(docs) >= 20, f"{source.__name__} gives {len(docs)} paragraphs")
    check_short(docs)


def test_corpus_is_distinct_deterministic_and_of_the_size_asked() -> None:
    require(Path("/var/lib/dpkg/status").exists(), "/var/lib/dpkg/status is missing")
    docs, counts = bench_short.short_corpus(0.3)
    again, _ = bench_short.short_corpus(0.3)
    assert docs == again
    assert len(set(docs)) == len(docs) == sum(counts.values())
    size = sum(len(d.encode()) for d in docs)
    assert 0.3e6 <= size < 0.3e6 + 2000
    check_short(docs)


def test_language_corpus_is_distinct_deterministic_and_not_only_ascii() -> None:
    root = Path("/usr/share/man")
    langs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("man")]
    require(bool(langs), "no translated man pages under /usr/share/man")
    docs, counts = bench_short.language_corpus()
    assert docs == bench_short.language_corpus()[0]
    assert len(set(docs)) == len(docs) == sum(counts.values()) > 100
    for doc in docs:
        assert len(doc.split()) >= bench_short.MIN_WORDS
        assert doc == " ".join(doc.split())
    assert sum(not doc.isascii() for doc in docs) > len(docs) // 4
    if (root / "ru").is_dir():
        # Cyrillic small letters, U+0430 to U+044F.
        assert any(any("\u0430" <= c <= "\u044f" for c in doc) for doc in docs)
