"""A pure-Python reference of thresher's text model, written independently of
the Rust code: words, shingles, Jaccard similarity and the exact-duplicate form.

Tests, benchmarks and the sample generator use it to compute ground truth.
It is slow and meant for checking, not for production use.

The model, in brief: a text is normalised (NFKC, then lowercase). Its
canonical form collapses every whitespace run to one space and trims the
ends, except that a whitespace run next to a character of a script written
without spaces (see :data:`UNSPACED_RANGES`) or CJK punctuation (U+3001 to
U+303F) is dropped. Its words (tokens) are read from the canonical form: each
letter or number of a script written without spaces is one token, with the
combining marks that follow it; any other maximal run of alphanumeric
characters is one token. A shingle is ``ngram`` consecutive tokens.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

__all__ = ["UNSPACED_RANGES", "exact_form", "jaccard", "shingles", "words"]

#: Code point ranges (inclusive) of the scripts written without spaces
#: between words, where every letter is a token: Han (with its radicals,
#: iteration marks and numerals, compatibility ideographs and the
#: ideographic planes), kana, Bopomofo, Yi, Tangut, Khitan, Nushu; Thai,
#: Lao, Myanmar, Khmer, Tai Le, New Tai Lue, Tai Tham, Tai Viet, Ahom; and
#: Tibetan. Not Hangul: Korean is written with spaces.
UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x197F),  # Tai Le
    (0x1980, 0x19DF),  # New Tai Lue
    (0x19E0, 0x19FF),  # Khmer Symbols
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x2E80, 0x2EFF),  # CJK Radicals Supplement
    (0x2F00, 0x2FDF),  # Kangxi Radicals
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303B),  # Hangzhou numerals, vertical iteration mark
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),  # Bopomofo Extended
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA000, 0xA48F),  # Yi Syllables
    (0xA490, 0xA4CF),  # Yi Radicals
    (0xA9E0, 0xA9FF),  # Myanmar Extended-B
    (0xAA60, 0xAA7F),  # Myanmar Extended-A
    (0xAA80, 0xAADF),  # Tai Viet
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x116D0, 0x116FF),  # Myanmar Extended-C
    (0x11700, 0x1174F),  # Ahom
    (0x16FE0, 0x16FFF),  # Ideographic Symbols and Punctuation
    (0x17000, 0x187FF),  # Tangut
    (0x18800, 0x18AFF),  # Tangut Components
    (0x18B00, 0x18CFF),  # Khitan Small Script
    (0x18D00, 0x18D7F),  # Tangut Supplement
    (0x1AFF0, 0x1AFFF),  # Kana Extended-B
    (0x1B000, 0x1B0FF),  # Kana Supplement
    (0x1B100, 0x1B12F),  # Kana Extended-A
    (0x1B130, 0x1B16F),  # Small Kana Extension
    (0x1B170, 0x1B2FF),  # Nushu
    (0x20000, 0x2FFFF),  # Supplementary Ideographic Plane
    (0x30000, 0x3FFFF),  # Tertiary Ideographic Plane
)

#: CJK punctuation: whitespace beside it is dropped too.
_CJK_PUNCTUATION = (0x3001, 0x303F)

#: Unicode's White_Space characters (Rust's ``char::is_whitespace``).
#: Python's ``str.split()`` also splits at U+001C to U+001F; these do not.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITESPACE_RUNS = re.compile(f"[{_WHITESPACE}]+")


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


#: A character beside which whitespace is dropped.
_JOINER = re.compile(f"[{_class((*UNSPACED_RANGES, _CJK_PUNCTUATION))}]")
_UNSPACED = re.compile(f"[{_class(UNSPACED_RANGES)}]")

#: A word of text without unspaced scripts: a run of alphanumerics.
_WORD_RE = re.compile(r"[^\W_]+")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _canonical(normalised: str) -> str:
    pieces = [p for p in _WHITESPACE_RUNS.split(normalised) if p]
    if not pieces:
        return ""
    out = [pieces[0]]
    for before, after in itertools.pairwise(pieces):
        if not (_JOINER.match(before[-1]) or _JOINER.match(after[0])):
            out.append(" ")
        out.append(after)
    return "".join(out)


def _is_alphanumeric(ch: str) -> bool:
    return ch.isalnum()


def _tokens_with_unspaced(canonical: str) -> list[str]:
    """Tokens of a canonical form that has characters of unspaced scripts.

    One pass, one character at a time:

    * a combining mark (general category M) right after an unspaced
      letter, or after the marks already following one, joins its token;
    * any other character of an unspaced script ends the open token, and
      starts a new one if it is a letter or a number (category L or N);
    * another alphanumeric character joins an open run of them, or starts
      one;
    * anything else ends the open token.
    """
    tokens: list[str] = []
    open_kind = None  # "unspaced", "run" or None
    for ch in canonical:
        category = unicodedata.category(ch)
        if open_kind == "unspaced" and category[0] == "M":
            tokens[-1] += ch
        elif _UNSPACED.match(ch):
            if category[0] in "LN":
                tokens.append(ch)
                open_kind = "unspaced"
            else:
                open_kind = None
        elif _is_alphanumeric(ch):
            if open_kind == "run":
                tokens[-1] += ch
            else:
                tokens.append(ch)
                open_kind = "run"
        else:
            open_kind = None
    return tokens


def words(text: str) -> list[str]:
    """Tokens of ``text`` after NFKC + lowercasing, read from its canonical form.

    Each letter or number of a script written without spaces (Chinese,
    Japanese, Thai...; :data:`UNSPACED_RANGES`) is one token, together with
    the combining marks (Thai vowel and tone marks, variation selectors)
    right after it; elsewhere a token is a maximal run of alphanumeric
    characters. A line break inside such text therefore changes no token.

    Python's notion of an alphanumeric character (``str.isalnum``) can differ
    from Rust's ``char::is_alphanumeric`` on a few rare characters outside
    those scripts (combining marks that Unicode calls alphabetic, such as
    Devanagari vowel signs, and some number forms), so a pair right at a
    threshold can rarely be judged differently; in the unspaced scripts the
    two agree (letters and numbers by general category), up to the Unicode
    versions of the two implementations.
    """
    canonical = exact_form(text)
    if not _JOINER.search(canonical):
        # Whitespace is never part of a word: the runs of the plain text.
        return _WORD_RE.findall(canonical)
    return _tokens_with_unspaced(canonical)


def shingles(text: str, ngram: int = 5) -> set[tuple[str, ...]]:
    """Distinct ``ngram``-shingles of the tokens of ``text`` (see :func:`words`).

    A shingle is ``ngram`` words in spaced scripts and ``ngram`` characters
    in scripts written without spaces. A text with at least one but fewer
    than ``ngram`` tokens has a single shingle made of all of them; a text
    without tokens has none.
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
    """Key under which two texts are exact duplicates.

    NFKC, lowercase, each run of whitespace (Unicode White_Space) replaced by
    one space and the ends trimmed; but a whitespace run is removed entirely
    when the character before or after it belongs to a script written without
    spaces or is CJK punctuation (U+3001 to U+303F), so that a Chinese,
    Japanese or Thai text wrapped at another width has the same form.
    """
    return _canonical(_normalise(text))
