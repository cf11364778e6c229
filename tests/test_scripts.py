"""Scripts written without spaces: thresher against the pure-Python reference.

Real Chinese, Japanese and Thai text comes from the gettext catalogues that
Debian packages install (``/usr/share/locale/*/LC_MESSAGES/*.mo``); documents
are built from their translated messages at test time. Where the catalogues
are missing the tests skip, except in CI, where they fail.

Every code point of the unspaced ranges is also checked: exact keys and
token sets against the reference.
"""

from __future__ import annotations

import gettext
import itertools
import random
import time
import unicodedata
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from conftest import in_ci

import thresher
from thresher import reference

LOCALES = Path("/usr/share/locale")
LANGUAGES = ("zh_CN", "zh_TW", "ja", "th")
THRESHOLD = 0.8
#: Messages per document, and one in this many is replaced in a near copy.
MESSAGES_PER_DOC = 40
EDIT_ONE_IN = 20


def _is_unspaced(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in reference.UNSPACED_RANGES)


@cache
def _messages(language: str) -> tuple[str, ...]:
    """The distinct translated messages of ``language`` with at least four
    characters of an unspaced script, in a fixed order."""
    files = sorted((LOCALES / language / "LC_MESSAGES").glob("*.mo"))
    found: set[str] = set()
    for path in files:
        try:
            with path.open("rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        except (OSError, UnicodeError, LookupError):
            continue
        for key, value in catalog.items():
            if key == "" or not isinstance(value, str):
                continue
            value = value.strip()
            if sum(map(_is_unspaced, value)) >= 4:
                found.add(value)
    return tuple(sorted(found))


def _require(language: str) -> tuple[str, ...]:
    messages = _messages(language)
    if len(messages) < 4_000:
        message = f"too few {language} gettext messages under {LOCALES} ({len(messages)})"
        if in_ci():
            pytest.fail(f"{message}, and CI must have them", pytrace=False)
        pytest.skip(message)
    return messages


def _joins(ch: str) -> bool:
    return _is_unspaced(ch) or 0x3001 <= ord(ch) <= 0x303F


def rewrap(text: str, width: int) -> str:
    """``text`` with a line break after about every ``width`` characters,
    where a line may break: beside a character of an unspaced script or CJK
    punctuation (never inside a Latin word), as a text editor or a web page
    would wrap it."""
    out: list[str] = []
    line = 0
    for i, ch in enumerate(text):
        if line >= width and i > 0 and (_joins(text[i - 1]) or _joins(ch)):
            out.append("\n")
            line = 0
        out.append(ch)
        line += 1
    return "".join(out)


def _documents(messages: tuple[str, ...], seed: int) -> list[list[str]]:
    """Disjoint documents of MESSAGES_PER_DOC shuffled messages each."""
    pool = list(messages)
    random.Random(seed).shuffle(pool)
    n = len(pool) // MESSAGES_PER_DOC
    return [pool[i * MESSAGES_PER_DOC : (i + 1) * MESSAGES_PER_DOC] for i in range(n)]


def _near_copy(doc: list[str], spare: list[str], rng: random.Random) -> list[str]:
    """``doc`` with one message in EDIT_ONE_IN replaced: by another message,
    or by itself cut short."""
    out = list(doc)
    for start in range(0, len(out), EDIT_ONE_IN):
        i = rng.randrange(start, min(start + EDIT_ONE_IN, len(out)))
        if rng.random() < 0.5 and len(out[i]) > 8:
            out[i] = out[i][: len(out[i]) // 2]
        else:
            out[i] = spare.pop()
    return out


def _frame(texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"text": texts}, schema={"text": pl.String})


@pytest.mark.parametrize("language", LANGUAGES)
def test_rewrapped_documents_are_exact_duplicates(language: str) -> None:
    docs = _documents(_require(language), seed=1)[:12]
    texts: list[str] = []
    for doc in docs:
        text = "\n".join(doc)
        texts.append(text)
        for width in (7, 16, 33, 70):
            wrapped = rewrap(text, width)
            assert wrapped != text
            assert reference.exact_form(wrapped) == reference.exact_form(text)
            texts.append(wrapped)
    out = thresher.dedup(_frame(texts), threshold=THRESHOLD)
    per_doc = 5
    for d in range(len(docs)):
        rows = out.slice(d * per_doc, per_doc)
        assert rows["exact_key"].n_unique() == 1, language
        assert rows["cluster_id"].to_list() == [d * per_doc] * per_doc
        assert rows["similarity"].to_list() == [1.0] * per_doc
    # No two documents share a cluster.
    assert out["cluster_id"].n_unique() == len(docs)


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_message_in_twenty_changed_is_a_near_duplicate(language: str) -> None:
    messages = _require(language)
    docs = _documents(messages, seed=2)
    spare = [m for d in docs[40:] for m in d]
    rng = random.Random(3)
    docs = docs[:40]
    copies = [_near_copy(doc, spare, rng) for doc in docs]
    texts = ["\n".join(d) for d in docs] + ["\n".join(c) for c in copies]
    pairs = thresher.similar_pairs(_frame(texts), threshold=THRESHOLD)
    found = {(a, b): s for a, b, s in pairs.select("a", "b", "similarity").iter_rows()}
    clearing = 0
    for i in range(len(docs)):
        j = reference.jaccard(
            reference.shingles(texts[i]), reference.shingles(texts[i + len(docs)])
        )
        if j >= THRESHOLD:
            clearing += 1
            assert found.get((i, i + len(docs))) == pytest.approx(j, abs=1e-12), (language, i)
    # Most near copies clear the threshold: the check is not vacuous.
    assert clearing >= 0.75 * len(docs), (language, clearing)
    # Nothing but the near copies is paired.
    assert all(b == a + len(docs) for a, b in found)


def _true_pairs(sets: list[set], threshold: float) -> dict[tuple[int, int], float]:
    """Every pair with reference Jaccard >= threshold (pairs sharing a shingle)."""
    postings: dict[tuple, list[int]] = {}
    for i, s in enumerate(sets):
        for sh in s:
            postings.setdefault(sh, []).append(i)
    candidates: set[tuple[int, int]] = set()
    for rows in postings.values():
        if len(rows) < 50:
            candidates.update(itertools.combinations(rows, 2))
    out = {}
    for a, b in candidates:
        j = reference.jaccard(sets[a], sets[b])
        if j >= threshold:
            out[(a, b)] = j
    return out


def _corpus(language: str) -> list[str]:
    """A few hundred documents: distinct ones, re-wrapped copies, near copies
    (one message in twenty changed) and mixes of two documents."""
    messages = _require(language)
    docs = _documents(messages, seed=4)
    rng = random.Random(5)
    base = docs[: min(150, len(docs) - 60)]
    spare = [m for d in docs[len(base) :] for m in d]
    texts = ["\n".join(d) for d in base]
    for k, doc in enumerate(base):
        kind = k % 3
        if kind == 0:
            texts.append(rewrap("\n".join(doc), rng.randrange(10, 80)))
        elif kind == 1:
            texts.append("\n".join(_near_copy(doc, spare, rng)))
        else:
            other = base[(k + 1) % len(base)]
            texts.append("\n".join(doc[: len(doc) // 2] + other[len(other) // 2 :]))
        if k % 5 == 0:
            # A near copy of a near copy, re-wrapped: a chain.
            texts.append(rewrap("\n".join(_near_copy(doc, spare, rng)), rng.randrange(10, 80)))
    return texts


def _components(n: int, pairs: set[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(n)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_recall_and_precision_against_reference(language: str) -> None:
    texts = _corpus(language)
    sets = [reference.shingles(t) for t in texts]
    truth = _true_pairs(sets, THRESHOLD)
    started = time.perf_counter()
    pairs = thresher.similar_pairs(_frame(texts), threshold=THRESHOLD)
    seconds = time.perf_counter() - started
    found = {(a, b): s for a, b, s in pairs.select("a", "b", "similarity").iter_rows()}
    keys = [reference.exact_form(t) for t in texts]
    # An exact duplicate is linked to the first copy of its text only, and
    # near-duplicate edges join first copies: a pair counts as found through
    # the first copies of its two texts.
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)

    def through_first(a: int, b: int) -> bool:
        fa, fb = sorted((first[keys[a]], first[keys[b]]))
        return fa == fb or (fa, fb) in found

    hit = [p for p in truth if through_first(*p)]
    recall = len(hit) / len(truth)
    precision = sum(1 for p in found if p in truth) / len(found)
    print(
        f"\n{language}: {len(texts)} docs, {len(truth)} true pairs (J >= {THRESHOLD}), "
        f"{len(found)} found, recall {recall:.4f}, precision {precision:.4f}, "
        f"{seconds:.3f}s"
    )
    assert recall >= 0.99, language
    assert precision == 1.0, language
    # Verified similarities are the reference's exact Jaccard.
    for p, s in found.items():
        assert s == pytest.approx(truth[p], abs=1e-12), (language, p)
    # Different documents are not merged: the clusters are the reference's.
    out = thresher.dedup(_frame(texts), threshold=THRESHOLD)
    expected = _components(len(texts), set(truth))
    assert out["cluster_id"].to_list() == expected


def _code_points() -> list[str]:
    """Every code point of the unspaced ranges and of CJK punctuation that
    this Python's Unicode database assigns, and some Hangul and Latin."""
    ranges = (*reference.UNSPACED_RANGES, (0x3000, 0x303F), (0xAC00, 0xAC20), (0x1100, 0x1110))
    chars = []
    for lo, hi in ranges:
        for u in range(lo, hi + 1):
            ch = chr(u)
            if unicodedata.category(ch) != "Cn":
                chars.append(ch)
    return [*sorted(set(chars)), "a", "\u0301", "\ufe00", "\U000e0100", "\uff76", "\uff9e"]


def _first_misgrouped(texts: list[str], labels: list, thresher_labels: list) -> str | None:
    """The first text whose class under the reference's ``labels`` is not its
    class under ``thresher_labels`` (two labellings of the same texts), or
    None when both group the texts alike."""
    by_ref: dict = {}
    by_thr: dict = {}
    for i, (r, t) in enumerate(zip(labels, thresher_labels, strict=True)):
        by_ref.setdefault(r, i)
        by_thr.setdefault(t, i)
        if by_ref[r] != by_thr[t]:
            return texts[i]
    return None


def test_every_code_point_gets_the_reference_exact_key() -> None:
    texts = []
    for ch in _code_points():
        texts += [f"x {ch} y", f"x{ch}y", f"x {ch}y", f"x{ch} y", f"{ch}\n{ch} 。 {ch}z"]
    out = thresher.dedup(_frame(texts), threshold=1.0)
    odd = _first_misgrouped(texts, [reference.exact_form(t) for t in texts], out["exact_key"])
    assert odd is None, repr(odd)


@pytest.mark.parametrize("ngram", [1, 2])
def test_every_code_point_gets_the_reference_tokens(ngram: int) -> None:
    """Texts have the same signature exactly when the reference gives them
    the same shingle set: a letter that is a token, a mark that joins the
    letter before it, a run that ends, each in several neighbourhoods."""
    texts = []
    for ch in _code_points():
        texts += [
            f"q{ch}r",
            f"q {ch} r",
            f"q|{ch}|r",
            f"漢{ch}",
            f"漢|{ch}",
            f"漢 {ch}",
            f"ก{ch}{ch}",
            f"한{ch}",
        ]
    signatures = thresher.minhash(pl.Series(texts), ngram=ngram, num_perm=32)
    ref = [frozenset(reference.shingles(t, ngram)) for t in texts]
    odd = _first_misgrouped(texts, ref, [tuple(s) for s in signatures.to_list()])
    assert odd is None, repr(odd)
