"""thresher: fast ingest and exact/near-duplicate detection for scraped text dumps.

The heavy lifting happens in Rust (``thresher._core``); this module converts
Polars data to Arrow streams and back and holds the documented defaults.

>>> import polars as pl, thresher
>>> df = pl.DataFrame({"text": ["a b c d e f", "a b c d e f", "x y z"]})
>>> thresher.dedup(df)["is_duplicate"].to_list()
[False, True, False]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from thresher import _core
from thresher.errors import InvalidOptionError, ThresherError

__all__ = [
    "DEFAULT_SEED",
    "Ingest",
    "IngestWarning",
    "InvalidOptionError",
    "ThresherError",
    "__version__",
    "banding",
    "dedup",
    "ingest",
    "minhash",
    "read_dumps",
    "similar_pairs",
]

__version__: str = _core.__version__

#: Seed of the MinHash permutations used when none is given.
DEFAULT_SEED = 42

Format = Literal["auto", "paper_listing", "text"]
Verify = Literal["exact", "signature"]
PathLike = str | os.PathLike[str]


class IngestWarning(UserWarning):
    """Some inputs could not be read completely; see ``Ingest.errors``."""


@dataclass(frozen=True)
class Ingest:
    """What :func:`ingest` read.

    Attributes:
        records: one row per document: ``doc_id``, ``source``, ``member``,
            ``offset``, ``format``, ``title``, ``text``.
        errors: one row per problem: ``source``, ``member``, ``offset``,
            ``reason``. Lines that could not be paired, unreadable, empty or
            binary files, and invalid UTF-8 (records kept, text decoded with
            U+FFFD) all appear here.
    """

    records: pl.DataFrame
    errors: pl.DataFrame


def _paths(paths: PathLike | Iterable[PathLike]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def ingest(paths: PathLike | Iterable[PathLike], format: Format = "auto") -> Ingest:
    """Read dumps from files and directories (recursively, in sorted order).

    Args:
        paths: a file or directory, or several.
        format: ``"auto"`` detects each file's format from its content (a
            paper-listing page dump, else plain text with one document per
            file); ``"paper_listing"`` or ``"text"`` force one.

    Returns:
        An :class:`Ingest` with ``records`` and ``errors`` frames. ``doc_id``
        is stable: files in sorted path order, then records in file order.
    """
    records, errors = _core.ingest(_paths(paths), format)
    return Ingest(records=pl.DataFrame(records), errors=pl.DataFrame(errors))


def read_dumps(paths: PathLike | Iterable[PathLike], format: Format = "auto") -> pl.DataFrame:
    """The records of :func:`ingest`; warns with :class:`IngestWarning` on errors."""
    result = ingest(paths, format=format)
    if result.errors.height:
        first = result.errors.row(0, named=True)
        warnings.warn(
            f"{result.errors.height} input problem(s), first: {first['source']} "
            f"at byte {first['offset']}: {first['reason']}; use thresher.ingest() for all",
            IngestWarning,
            stacklevel=2,
        )
    return result.records


def _text_stream(frame: pl.DataFrame | pl.Series, column: str) -> object:
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    if column not in frame.columns:
        raise InvalidOptionError(f"column {column!r} not found; columns are {frame.columns}")
    texts = frame.select(pl.col(column))
    if texts.schema[column] not in (pl.String, pl.Null):
        raise InvalidOptionError(f"column {column!r} must hold strings, not {texts.schema[column]}")
    return texts.select(pl.col(column).cast(pl.String)).__arrow_c_stream__()


def _run_dedup(
    frame: pl.DataFrame | pl.Series,
    column: str,
    threshold: float,
    ngram: int,
    num_perm: int,
    seed: int,
    verify: Verify,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    stream = _text_stream(frame, column)
    columns, edges = _core.dedup(stream, float(threshold), ngram, num_perm, seed, verify)
    return pl.DataFrame(columns), pl.DataFrame(edges)


def dedup(
    frame: pl.DataFrame,
    column: str = "text",
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    verify: Verify = "exact",
) -> pl.DataFrame:
    """Find exact and near duplicates among the rows of ``frame``.

    Texts are normalised (NFKC, lowercase); words are maximal runs of Unicode
    letters and digits; shingles are runs of ``ngram`` words. Rows with the
    same normalised text (whitespace collapsed) are exact duplicates. Other
    rows are compared by MinHash LSH, with bands chosen so that a pair exactly
    at ``threshold`` becomes a candidate with probability >= 0.99, and every
    candidate is verified: by the exact Jaccard similarity of the shingle sets
    (``verify="exact"``) or by the signature estimate (``"signature"``).
    Verified pairs are joined into clusters represented by their lowest row.
    Rows with empty text are never duplicates.

    Returns:
        The rows of ``frame`` in order, plus ``exact_key`` (xxh3-128 hex of
        the normalised text), ``cluster_id`` (row index of the cluster's
        representative), ``cluster_size``, ``is_duplicate``, ``duplicate_of``
        (null unless a duplicate) and ``similarity`` (to the representative;
        1.0 for representatives and exact duplicates).
    """
    columns, _ = _run_dedup(frame, column, threshold, ngram, num_perm, seed, verify)
    taken = [c for c in columns.columns if c in frame.columns]
    if taken:
        raise InvalidOptionError(f"frame already has result column(s) {taken}")
    return pl.concat([frame, columns], how="horizontal")


def similar_pairs(
    frame: pl.DataFrame,
    column: str = "text",
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    verify: Verify = "exact",
) -> pl.DataFrame:
    """The verified edges behind :func:`dedup`: ``a``, ``b`` (row indices,
    ``a < b``), ``similarity`` and ``exact``, sorted by ``(a, b)``.

    Each exact duplicate is linked to the first row with the same normalised
    text (``exact=True``, similarity 1.0); near-duplicate edges join distinct
    texts whose similarity is at least ``threshold``.
    """
    _, edges = _run_dedup(frame, column, threshold, ngram, num_perm, seed, verify)
    return edges


def minhash(
    series: pl.Series,
    *,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
) -> pl.Series:
    """MinHash signatures of a string series as a ``pl.Array(pl.UInt32, num_perm)``
    series named ``signature``. A text without words gets all ``2**32 - 1``.
    The values are the ones :func:`dedup` uses with the same options."""
    if not isinstance(series, pl.Series):
        raise InvalidOptionError("minhash() takes a polars Series of strings")
    stream = _text_stream(series.rename("text"), "text")
    return pl.DataFrame(_core.minhash(stream, ngram, num_perm, seed)).to_series()


def banding(threshold: float = 0.8, num_perm: int = 128) -> tuple[int, int]:
    """The ``(bands, rows)`` LSH banding thresher uses for these options."""
    return _core.banding(float(threshold), num_perm)
