"""Dedup in passes over streamed texts: :class:`DedupEngine`.

For corpora whose text does not fit in memory. Rows are numbered ``0, 1, ...``
in the order their sketches are added; every later pass is fed the texts of
the same rows in the same order, in batches of any size. The result is the
one :func:`thresher.dedup` gives on the whole column, whatever the batch
sizes and thread count.

Memory: the engine keeps ``16 + 2 + 8 * bands`` bytes per row (exact key,
flags, band keys) from :meth:`DedupEngine.add` on, and 4 more (the row
holding the first copy of its text) from :meth:`DedupEngine.find_candidates`
on: 190 bytes with the defaults' 21 bands; the
verification pass holds the profile (8 bytes per distinct shingle, or the
signature with ``verify="signature"``) of a row only while a candidate
partner of it is still to come; the scoring pass does the same for
representatives. No text is kept.

>>> engine = thresher.DedupEngine(threshold=0.8)  # doctest: +SKIP
>>> for frame in thresher.scan("dumps/"):
...     engine.add(engine.sketch(frame["text"]))
>>> engine.find_candidates()
>>> for frame in thresher.scan("dumps/"):
...     engine.verify(frame["text"])
>>> if engine.cluster():
...     for frame in thresher.scan("dumps/"):
...         engine.score(frame["text"])
>>> columns = engine.result()
"""

from __future__ import annotations

import polars as pl

from thresher import _core
from thresher._names import DEFAULT_SEED, Verify, dedup_options
from thresher.errors import InvalidOptionError
from thresher.streams import priority_stream, text_stream


def _texts(texts: pl.Series) -> object:
    if not isinstance(texts, pl.Series):
        raise InvalidOptionError("texts must be a polars Series of strings")
    return text_stream(texts.rename("text"), "text")


class DedupEngine:
    """Exact and near-duplicate detection in passes; see the module docs.

    Args:
        threshold: minimum Jaccard similarity of near duplicates.
        ngram: words per shingle.
        num_perm: MinHash values per signature.
        seed: seed of the MinHash permutations.
        verify: ``"exact"`` (Jaccard of the shingle sets) or ``"signature"``
            (the MinHash estimate).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.8,
        ngram: int = 5,
        num_perm: int = 128,
        seed: int = DEFAULT_SEED,
        verify: Verify = "exact",
    ) -> None:
        self._inner = _core.DedupEngine(dedup_options(threshold, ngram, num_perm, seed, verify))

    @property
    def banding(self) -> tuple[int, int]:
        """``(bands, rows)`` of the LSH banding."""
        return self._inner.banding()

    @property
    def rows(self) -> int:
        """Rows added so far."""
        return self._inner.rows()

    def sketch(self, texts: pl.Series) -> pl.DataFrame:
        """Sketches of ``texts``: ``exact_key`` (16-byte binary),
        ``has_content``, ``has_shingles`` and ``band_keys``
        (``pl.Array(pl.UInt64, bands)``). Stateless: the frame can be stored
        (Parquet) and added later, by this engine or another with the same
        options."""
        return pl.DataFrame(self._inner.sketch(_texts(texts)))

    def add(self, sketches: pl.DataFrame) -> None:
        """Appends ``sketches`` (from :meth:`sketch`) as the next rows."""
        columns = ["exact_key", "has_content", "has_shingles", "band_keys"]
        self._inner.add(sketches.select(columns).__arrow_c_stream__())

    def find_candidates(self) -> int:
        """Resolves exact duplicates and finds the LSH candidate pairs after
        the last :meth:`add`; returns how many pairs :meth:`verify` checks."""
        return self._inner.find_candidates()

    def verify(self, texts: pl.Series) -> None:
        """Feeds the texts of the next rows (from row 0, in order) to
        verification; feed every row before :meth:`verified_edges` or
        :meth:`cluster`. When :meth:`find_candidates` found no pair, this pass
        can be skipped."""
        self._inner.verify(_texts(texts))

    def verified_edges(self) -> pl.DataFrame:
        """``a``, ``b`` (rows, ``a < b``), ``similarity`` and ``exact``, as
        :func:`thresher.similar_pairs` gives them."""
        return pl.DataFrame(self._inner.verified_edges())

    def restore_edges(self, edges: pl.DataFrame) -> None:
        """Takes the :meth:`verified_edges` of an earlier run over the same
        rows instead of verifying again (to resume); call after the last
        :meth:`add`, instead of :meth:`find_candidates` and :meth:`verify`."""
        self._inner.restore_edges(
            edges.select(["a", "b", "similarity", "exact"]).__arrow_c_stream__()
        )

    def cluster(self, priority: pl.Series | None = None) -> int:
        """Joins rows into clusters. The representative of a cluster is its row
        of highest ``priority`` (one number per row; nulls rank lowest; ties
        and ``None`` go to the lowest row). Returns how many rows still need
        their similarity to the representative from :meth:`score`; when 0,
        call :meth:`result` directly."""
        if priority is None:
            return self._inner.cluster(None)
        return self._inner.cluster(priority_stream(priority))

    def score(self, texts: pl.Series) -> None:
        """Feeds the texts of the next rows (from row 0) to the scoring pass."""
        self._inner.score(_texts(texts))

    def result(self) -> pl.DataFrame:
        """One row per row: ``exact_key`` (hex), ``cluster_id`` (row of the
        representative), ``cluster_size``, ``is_duplicate``, ``duplicate_of``
        and ``similarity`` (to the representative), as :func:`thresher.dedup`
        adds them."""
        columns, _ = self._inner.result()
        return pl.DataFrame(columns)
