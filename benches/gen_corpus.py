"""Generate a synthetic dump of any size with known near-duplicate clusters.

The corpus is meant for scale runs (``benches/bench_scale.py``): millions of
documents, written fast (everything is vectorised with numpy; one core), with
a ground truth of planted duplicates.

* **Vocabulary**: ``--vocab`` (50,000) distinct pseudo-words of 1 to 11
  bytes, built from syllables; about 3% are non-ASCII (a Latin letter with a
  diacritic such as "ï" or "ß", Cyrillic, CJK ideographs), at random ranks
  past the first 100, so the Unicode path of the tokeniser is exercised a
  little.  Shorter ASCII words get the frequent ranks.
* **Originals**: a length drawn uniformly from ``--min-words`` to
  ``--max-words``, words drawn from a Zipf-Mandelbrot law over the vocabulary
  (``p(r) ~ 1 / (r + 2.7)``), separated by spaces, with commas and full stops
  (the next word capitalised) here and there.
* **Copies**: a share ``--dup-rate`` of the documents are copies of an
  original (its "source", which has a smaller id).  Sources get a
  heavy-tailed number of copies (zeta law, exponent 2.5, at most
  ``--max-cluster``).  A share ``--exact-share`` of copies are *exact*: the same
  words and punctuation with case kept or changed (lower, UPPER, Capitalised) and
  some spaces turned into double spaces or line breaks; thresher's exact form
  (NFKC, lowercase, whitespace collapsed) is the same.  The others are *near*
  copies: a target Jaccard ``t`` is drawn (60% from N(0.8, 0.05), 40% uniform
  on [0.6, 1.0]) and ``k = round(m (1 - t) / (5 (1 + t)))`` edits are made
  (``m`` shingles; at least one), evenly spread with a random phase so that
  their 5-gram windows do not overlap: 60% substitutions, 20% insertions and
  20% deletions of a word.  A substitution spaced this way changes 5 of ``m``
  shingles, so the true Jaccard similarity of word 5-grams is close to ``t``
  (measure it: ``bench_scale.py`` prints the histogram).
* **Placement**: documents are made in blocks of 262,144 (a cluster never
  leaves its block); each block is shuffled and dealt to all shards, so the
  members of a cluster are spread across shards and positions.

Output in ``--out``:

* ``shards/shard-NNNN.jsonl.zst``: JSON Lines (``{"id": ..., "text": ...}``),
  zstd level ``--level`` (1: it writes about 3 times faster than level 3 and
  the files are 8% larger); or with ``--format parquet``
  ``shards/shard-NNNN-BBBB.parquet`` (columns ``id``, ``text``; one file per
  shard and block, since Parquet files cannot be appended to).
* ``truth.parquet``: for every document ``id``, ``source_id`` (null for
  originals), ``kind`` (``original``, ``exact``, ``near``), ``edits`` (word
  edits of a near copy, else 0) and ``shard``.
* ``params.json``: the parameters (the output is a deterministic function of
  them) and counts, bytes and time taken.

``thresher.ingest(out / "shards")`` reads the dump.  Ids are 9-digit strings.

Usage: ``python benches/gen_corpus.py --docs 1000000 --out benches/data/corpus-1m``
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

#: Changing the generator's output for the same parameters bumps this.
GENERATOR_VERSION = 1
BLOCK_DOCS = 1 << 18
ID_DIGITS = 9
NGRAM = 5
#: Bytes of one rendered table row: a word (at most 11 bytes) and its separator.
ROW = 16
MAX_WORD_BYTES = 11
ZIPF_TABLE = 1 << 22
ZIPF_OFFSET = 2.7
CLUSTER_ALPHA = 2.5

# Separators after a word.  JSON text escapes line breaks.
SP, COMMA, STOP, END, SP2, NL, PARA = range(7)
# The last word's separator ends the JSON line, or the Parquet text (\x01 splits texts).
SEPS_JSON = [" ", ", ", ". ", '."}\n', "  ", "\\n", ".\\n\\n"]
SEPS_RAW = [" ", ", ", ". ", ".\x01", "  ", "\n", ".\n\n"]
HEAD = b'","text":"'
ID_PREFIX = b'{"id":"'
#: Bytes of JSON around a text: ``{"id":"`` + id + ``","text":"`` ... ``"}\n``.
FRAMING = len(ID_PREFIX) + ID_DIGITS + len(HEAD) + 3
NSEP = len(SEPS_JSON)
# Case variants of a word.
LOWER, CAPITAL, UPPER = range(3)
NCASE = 3
KINDS = ["original", "exact", "near"]
ORIGINAL, EXACT, NEAR = range(3)
SUB, INS, DEL = range(3)

_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"
_ACCENTED = "éèêëàâäïîôöüûùçñåøæß"
_CYRILLIC = "абвгдежзиклмнопрстуфхцчшщыэюя"


def _normal_form(word: str) -> str:
    return unicodedata.normalize("NFKC", word).lower()


def make_vocab(size: int, seed: int) -> list[str]:
    """``size`` distinct pseudo-words (distinct after NFKC + lowercasing), the
    most frequent rank first."""
    rng = np.random.default_rng([seed, 0x766F63])
    seen: set[str] = set()
    words: list[tuple[float, str]] = []
    other: list[str] = []
    while len(words) + len(other) < size:
        u = rng.random()
        if u < 0.015:  # Latin with a diacritic
            w = _syllables(rng)
            i = int(rng.integers(len(w)))
            w = w[:i] + _ACCENTED[int(rng.integers(len(_ACCENTED)))] + w[i + 1 :]
        elif u < 0.022:
            w = "".join(
                _CYRILLIC[int(i)] for i in rng.integers(len(_CYRILLIC), size=rng.integers(2, 6))
            )
        elif u < 0.03:  # CJK ideographs, 3 bytes each
            w = "".join(chr(0x4E00 + int(i)) for i in rng.integers(0x5000, size=rng.integers(1, 4)))
        else:
            w = _syllables(rng)
        w = _normal_form(w)
        if not w or len(w.encode()) > MAX_WORD_BYTES or w in seen or not w.isalnum():
            continue
        seen.add(w)
        if w.isascii():
            words.append((len(w) + 3.0 * rng.random(), w))
        else:
            other.append(w)
    words.sort()
    ranked = [w for _, w in words]
    # Non-ASCII words at random ranks past the first 100.
    for w, r in zip(other, rng.integers(100, max(101, size), len(other)), strict=True):
        ranked.insert(int(r), w)
    return ranked


def _syllables(rng: np.random.Generator) -> str:
    n = 1 + min(int(rng.geometric(0.45)), 4)
    parts = []
    for _ in range(n):
        s = _CONSONANTS[int(rng.integers(len(_CONSONANTS)))] + _VOWELS[int(rng.integers(5))]
        if rng.random() < 0.25:
            s += _CONSONANTS[int(rng.integers(len(_CONSONANTS)))]
        parts.append(s)
    w = "".join(parts)
    if rng.random() < 0.2:
        w = w[1:]
    return w[:MAX_WORD_BYTES]


def _case_variants(word: str) -> list[str]:
    """The word lower, Capitalised and UPPER; a variant whose exact form differs
    (``"ß".upper() == "SS"``) or that is too long is replaced by the word."""
    out = [word]
    for v in (word[:1].upper() + word[1:], word.upper()):
        ok = _normal_form(v) == word and len(v.encode()) <= MAX_WORD_BYTES
        out.append(v if ok else word)
    return out


def token_table(vocab: list[str], raw: bool) -> np.ndarray:
    """Rendered rows, ``ROW`` bytes each, zero-padded, as one ``complex128`` each
    (numpy gathers 16-byte scalars much faster than rows of a 2-D array): row
    ``(word * NCASE + case) * NSEP + sep`` is the word in that case followed by
    the separator."""
    seps = [s.encode() for s in (SEPS_RAW if raw else SEPS_JSON)]
    variants = [v.encode() for w in vocab for v in _case_variants(w)]
    base = np.zeros((len(variants), ROW), np.uint8)
    lens = np.fromiter((len(v) for v in variants), np.int64, len(variants))
    flat = np.frombuffer(b"".join(variants), np.uint8)
    rows = np.repeat(np.arange(len(variants)), lens)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
    base[rows, cols] = flat
    table = np.zeros((len(variants), NSEP, ROW), np.uint8)
    ridx = np.arange(len(variants))
    for s, sep in enumerate(seps):
        table[:, s] = base
        for j, byte in enumerate(sep):
            table[ridx, s, lens + j] = byte
    return table.reshape(-1, ROW).view(np.complex128).ravel()


def zipf_table(vocab_size: int) -> np.ndarray:
    """Inverse-CDF lookup: ``table[uniform integer below ZIPF_TABLE]`` is a rank."""
    p = 1.0 / (np.arange(1, vocab_size + 1) + ZIPF_OFFSET)
    counts = np.maximum(1, np.floor(p / p.sum() * ZIPF_TABLE)).astype(np.int64)
    counts[0] += ZIPF_TABLE - counts.sum()
    dtype = np.uint16 if vocab_size <= 1 << 16 else np.int32
    return np.repeat(np.arange(vocab_size, dtype=dtype), counts)


def ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each ``(s, n)``."""
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    shift = np.repeat(starts.astype(np.int64) - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def _excl_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), np.int64)
    np.cumsum(x[:-1], out=out[1:])
    return out


def _capitalise(seps: np.ndarray, starts: np.ndarray) -> np.ndarray:
    case = np.zeros(len(seps), np.uint8)
    case[1:] = (seps[:-1] == STOP) | (seps[:-1] == PARA)
    case[starts] = CAPITAL
    return case


class _Block:
    """Documents of one block, in id order: word, separator and case per token."""

    def __init__(self, rng: np.random.Generator, n: int, cfg: dict[str, Any], zt: np.ndarray):
        vocab_size = cfg["vocab"]
        n_copy = min(round(n * cfg["dup_rate"]), n - 1)
        n_orig = n - n_copy
        lens = rng.integers(cfg["min_words"], cfg["max_words"] + 1, n_orig).astype(np.int64)
        words = zt[rng.integers(0, ZIPF_TABLE, int(lens.sum()), dtype=np.uint32)]
        lut = np.full(256, SP, np.uint8)
        lut[:32] = COMMA
        lut[:17] = STOP
        seps = lut[rng.integers(0, 256, len(words), dtype=np.uint8)]
        off = _excl_cumsum(lens)
        seps[off + lens - 1] = END
        case = _capitalise(seps, off)

        # Sources and kinds of the copies.
        sizes = rng.zipf(CLUSTER_ALPHA, max(16, 2 * n_copy))
        sizes = sizes[sizes <= cfg["max_cluster"]]
        while sizes.sum() < n_copy:
            sizes = np.concatenate([sizes, sizes])
        n_src = int(np.searchsorted(np.cumsum(sizes), n_copy)) + 1
        sizes = sizes[:n_src].copy()
        sizes[-1] -= sizes.sum() - n_copy
        sources = rng.choice(n_orig, n_src, replace=n_src > n_orig)
        src = rng.permutation(np.repeat(sources, sizes)) if n_copy else np.zeros(0, np.int64)
        exact = rng.random(n_copy) < cfg["exact_share"]
        src_e, src_n = src[exact], src[~exact]

        # Exact copies: case and whitespace only.
        idx = ragged_arange(off[src_e], lens[src_e])
        e_words = words[idx]
        e_seps = seps[idx].copy()
        r = rng.integers(0, 256, len(idx), dtype=np.uint8)
        e_seps[(e_seps == SP) & (r < 13)] = SP2
        e_seps[(e_seps == SP) & (r >= 243)] = NL
        e_seps[(e_seps == STOP) & (r < 64)] = PARA
        mode = rng.integers(0, 4, len(src_e))  # keep, lower, UPPER, Capitalised
        per_tok = np.repeat(mode, lens[src_e])
        e_case = np.array([0, LOWER, UPPER, CAPITAL], np.uint8)[per_tok]
        keep_case = per_tok == 0
        e_case[keep_case] = case[idx][keep_case]

        # Near copies: k evenly spread word edits.
        n_lens = lens[src_n]
        m = np.maximum(n_lens - (NGRAM - 1), 1)
        t = np.where(
            rng.random(len(src_n)) < 0.6,
            np.clip(rng.normal(0.8, 0.05, len(src_n)), 0.6, 0.99),
            rng.uniform(0.6, 1.0, len(src_n)),
        )
        k = np.maximum(1, np.rint(m * (1 - t) / (NGRAM * (1 + t)))).astype(np.int64)
        k = np.minimum(k, n_lens)
        idx = ragged_arange(off[src_n], n_lens)
        nw = words[idx].copy()
        ns = seps[idx].copy()
        n_off = _excl_cumsum(n_lens)
        ce = np.repeat(np.arange(len(src_n)), k)
        j = np.arange(int(k.sum())) - np.repeat(_excl_cumsum(k), k)
        gap = n_lens / k
        phase = rng.random(len(src_n)) * gap
        pos = np.minimum(np.floor(phase[ce] + j * gap[ce]).astype(np.int64), n_lens[ce] - 1)
        kind = rng.choice(3, len(ce), p=[0.6, 0.2, 0.2])
        kind[n_lens[ce] < 3] = SUB
        fp = n_off[ce] + pos
        sub = fp[kind == SUB]
        new = zt[rng.integers(0, ZIPF_TABLE, len(sub), dtype=np.uint32)]
        new = np.where(new == nw[sub], (new.astype(np.int64) + 1) % vocab_size, new)
        nw[sub] = new
        keep = np.ones(len(nw), bool)
        keep[fp[kind == DEL]] = False
        ins = fp[kind == INS]
        ins_adj = ins - (np.cumsum(~keep) - ~keep)[ins]
        ins_words = zt[rng.integers(0, ZIPF_TABLE, len(ins), dtype=np.uint32)]
        nw = np.insert(nw[keep], ins_adj, ins_words)
        ns = np.insert(ns[keep], ins_adj, SP)
        n_new = (
            n_lens
            + np.bincount(ce[kind == INS], minlength=len(src_n))
            - np.bincount(ce[kind == DEL], minlength=len(src_n))
        )
        n_off2 = _excl_cumsum(n_new)
        ns[n_off2 + n_new - 1] = END
        n_case = _capitalise(ns, n_off2)

        w = np.concatenate([words, e_words, nw]).astype(np.int32)
        w *= NCASE
        w += np.concatenate([case, e_case, n_case])
        w *= NSEP
        w += np.concatenate([seps, e_seps, ns])
        #: Table row of every token, documents in id order.
        self.tokens = w
        self.lens = np.concatenate([lens, lens[src_e], n_new])
        self.offsets = _excl_cumsum(self.lens)
        self.source = np.concatenate([np.full(n_orig, -1), src_e, src_n]).astype(np.int64)
        self.kind = np.concatenate(
            [np.full(n_orig, ORIGINAL), np.full(len(src_e), EXACT), np.full(len(src_n), NEAR)]
        ).astype(np.uint8)
        self.edits = np.concatenate([np.zeros(n_orig + len(src_e), np.int64), k])

    def render(self, table: np.ndarray, sel: np.ndarray, ids: np.ndarray | None) -> bytes:
        """Documents ``sel`` (block indices, in this order) as bytes: JSON lines
        when ``ids`` are given, else texts each ended by ``\\x01``."""
        rows = table[self.tokens[ragged_arange(self.offsets[sel], self.lens[sel])]]
        if ids is not None:
            heads = np.empty(2 * len(sel), np.complex128)
            heads[0::2] = _id_rows(ids).view(np.complex128).ravel()
            heads[1::2] = _HEAD_ROW
            rows = np.insert(rows, np.repeat(_excl_cumsum(self.lens[sel]), 2), heads)
        flat = rows.view(np.uint8)
        return flat[flat != 0].tobytes()


_HEAD_ROW = np.frombuffer(HEAD.ljust(ROW, b"\0"), np.complex128)[0]


def _id_rows(ids: np.ndarray) -> np.ndarray:
    """``{"id":"NNNNNNNNN`` for each id, one 16-byte row each."""
    rows = np.empty((len(ids), ROW), np.uint8)
    rows[:, : len(ID_PREFIX)] = np.frombuffer(ID_PREFIX, np.uint8)
    for i in range(ID_DIGITS):
        rows[:, len(ID_PREFIX) + i] = 48 + (ids // 10 ** (ID_DIGITS - 1 - i)) % 10
    return rows


def generate(
    out: str | Path,
    docs: int,
    *,
    shards: int = 16,
    dup_rate: float = 0.2,
    exact_share: float = 0.3,
    min_words: int = 40,
    max_words: int = 200,
    vocab: int = 50_000,
    max_cluster: int = 64,
    seed: int = 0,
    format: str = "jsonl",
    level: int = 1,
    verbose: bool = False,
) -> dict[str, Any]:
    """Write the corpus into ``out`` (replacing ``out/shards``); returns the
    contents of ``params.json``."""
    import zstandard

    if docs < 1 or docs >= 10**ID_DIGITS:
        raise ValueError(f"docs must be in [1, {10**ID_DIGITS})")
    if not 0 <= dup_rate < 1 or not 0 <= exact_share <= 1:
        raise ValueError("dup_rate must be in [0, 1) and exact_share in [0, 1]")
    if not 1 <= min_words <= max_words:
        raise ValueError("need 1 <= min_words <= max_words")
    if format not in ("jsonl", "parquet"):
        raise ValueError("format is jsonl or parquet")
    shards = max(1, min(shards, docs))
    params: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "docs": docs,
        "shards": shards,
        "dup_rate": dup_rate,
        "exact_share": exact_share,
        "min_words": min_words,
        "max_words": max_words,
        "vocab": vocab,
        "max_cluster": max_cluster,
        "seed": seed,
        "format": format,
    }
    t0 = time.perf_counter()
    out = Path(out)
    shard_dir = out / "shards"
    if shard_dir.exists():
        shutil.rmtree(shard_dir)
    shard_dir.mkdir(parents=True)
    (out / "params.json").unlink(missing_ok=True)
    words = make_vocab(vocab, seed)
    table = token_table(words, raw=format == "parquet")
    zt = zipf_table(vocab)
    framed = format == "jsonl"
    writers: list[Any] = []
    files: list[Any] = []
    if framed:
        for s in range(shards):
            fh = open(shard_dir / f"shard-{s:04d}.jsonl.zst", "wb")
            files.append(fh)
            # One compressor per stream: a context must not serve two at once.
            cctx = zstandard.ZstdCompressor(level=level)
            writers.append(cctx.stream_writer(fh, closefd=False))
    truth_parts: list[dict[str, np.ndarray]] = []
    text_bytes = 0
    n_blocks = math.ceil(docs / BLOCK_DOCS)
    for b in range(n_blocks):
        rng = np.random.default_rng([seed, b])
        base = b * BLOCK_DOCS
        n = min(BLOCK_DOCS, docs - base)
        blk = _Block(rng, n, params, zt)
        order = rng.permutation(n)
        cuts = np.linspace(0, n, shards + 1).astype(np.int64)
        shard_of = np.empty(n, np.int64)
        for s in range(shards):
            sel = order[cuts[s] : cuts[s + 1]]
            shard_of[sel] = s
            if len(sel) == 0:
                continue
            if framed:
                data = blk.render(table, sel, base + sel)
                writers[s].write(data)
                text_bytes += len(data) - len(sel) * FRAMING
            else:
                data = blk.render(table, sel, None)
                texts = pl.Series("text", [data.decode()]).str.split("\x01").list.head(len(sel))
                ids = pl.Series("id", base + sel).cast(pl.String).str.zfill(ID_DIGITS)
                frame = pl.DataFrame([ids, texts.explode()])
                text_bytes += len(data) - len(sel)
                frame.write_parquet(shard_dir / f"shard-{s:04d}-{b:04d}.parquet")
        truth_parts.append(
            {
                "id": base + np.arange(n),
                "source": np.where(blk.source >= 0, base + blk.source, -1),
                "kind": blk.kind,
                "edits": blk.edits,
                "shard": shard_of,
            }
        )
        if verbose:
            done = base + n
            print(f"  {done:,} docs, {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    for w in writers:
        w.close()
    for fh in files:
        fh.close()
    cols = {k: np.concatenate([p[k] for p in truth_parts]) for k in truth_parts[0]}
    truth = pl.DataFrame(
        {
            "id": cols["id"],
            "source": cols["source"],
            "kind": cols["kind"],
            "edits": cols["edits"].astype(np.int32),
            "shard": cols["shard"].astype(np.int32),
        }
    ).select(
        pl.col("id").cast(pl.String).str.zfill(ID_DIGITS),
        pl.when(pl.col("source") >= 0)
        .then(pl.col("source").cast(pl.String).str.zfill(ID_DIGITS))
        .alias("source_id"),
        pl.col("kind").replace_strict(dict(enumerate(KINDS)), return_dtype=pl.String),
        "edits",
        "shard",
    )
    truth.write_parquet(out / "truth.parquet")
    counts = truth["kind"].value_counts()
    seconds = time.perf_counter() - t0
    result = {
        **params,
        "counts": dict(zip(counts["kind"], counts["count"], strict=True)),
        "text_bytes": text_bytes,
        "file_bytes": sum(p.stat().st_size for p in shard_dir.iterdir()),
        "seconds": round(seconds, 3),
    }
    (out / "params.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="number of documents")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--shards", type=int, default=16, help="number of shard files")
    parser.add_argument("--dup-rate", type=float, default=0.2, help="share of copies")
    parser.add_argument("--exact-share", type=float, default=0.3, help="share of exact copies")
    parser.add_argument("--min-words", type=int, default=40)
    parser.add_argument("--max-words", type=int, default=200)
    parser.add_argument("--vocab", type=int, default=50_000, help="vocabulary size")
    parser.add_argument("--max-cluster", type=int, default=64, help="most copies of a source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--level", type=int, default=1, help="zstd level (jsonl)")
    args = parser.parse_args()
    result = generate(
        args.out,
        args.docs,
        shards=args.shards,
        dup_rate=args.dup_rate,
        exact_share=args.exact_share,
        min_words=args.min_words,
        max_words=args.max_words,
        vocab=args.vocab,
        max_cluster=args.max_cluster,
        seed=args.seed,
        format=args.format,
        level=args.level,
        verbose=True,
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
