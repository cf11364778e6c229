"""A pure-Python reference of thresher's text model, written independently of
the Rust code: words, shingles, Jaccard similarity and the exact-duplicate form.

Tests, benchmarks and the sample generator use it to compute ground truth.
It is slow and meant for checking, not for production use.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["exact_form", "jaccard", "shingles", "words"]


_WORD_RE = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Words of ``text``: maximal runs of alphanumeric characters after NFKC + lowercasing.

    This mirrors thresher's tokeniser.  Python's notion of an alphanumeric
    character (``str.isalnum``-like, via ``[^\\W_]``) can differ from Rust's
    ``char::is_alphanumeric`` on a few rare characters (some combining marks and
    number forms), so a pair right at a threshold can rarely be judged differently.
    """
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, ngram: int = 5) -> set[tuple[str, ...]]:
    """Distinct word ``ngram``-shingles of ``text``.

    A text with at least one but fewer than ``ngram`` words has a single
    shingle made of all its words; a text without words has none.
    """
    ws = words(text)
    if not ws:
        return set()
    n = max(1, min(ngram, len(ws)))
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def jaccard(a: set, b: set) -> float:
    """Jaccard similarity ``|a & b| / |a | b|`` (0.0 when either set is empty)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def exact_form(text: str) -> str:
    """Key under which two texts are exact duplicates: NFKC, lowercase, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())
