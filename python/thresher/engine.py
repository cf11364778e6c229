"""Dedup in passes over streamed texts: :class:`DedupEngine`.

For corpora whose text does not fit in memory. Rows are numbered ``0, 1, ...``
in the order their sketches are added; every later pass is fed the texts of
the same rows in the same order, in batches of any size. The result is the
one :func:`thresher.dedup` gives on the whole column, whatever the batch
sizes and thread count.

Memory: the engine keeps ``16 + 2 + 8 * bands`` bytes per row (exact key,
flags, band keys) from :meth:`DedupEngine.add` on, and 4 more (the row
holding the first copy of its text) from :meth:`DedupEngine.find_candidates`
on: 190 bytes with the defaults' 21 bands (:meth:`DedupEngine.find_candidates`
also holds about 20 bytes per row for a moment, once the band keys are
freed, to group the candidates whose pairs it scores ahead); the
verification pass holds the profile (8 bytes per distinct shingle, or the
signature with ``verify="signature"``) of a row only while a candidate
partner of it is still to come; the scoring pass does the same for
representatives. No text is kept.

The methods that take texts (:meth:`DedupEngine.sketch`, :meth:`DedupEngine.verify`,
:meth:`DedupEngine.score`) take any input :mod:`thresher.frames` accepts: a
series-like input is the texts, a frame-like one gives its ``column``; a Polars
``LazyFrame`` is streamed in batches of ``batch_size`` rows. Sketches, edges
and results are Polars frames whatever the input. :meth:`DedupEngine.add` and
:meth:`DedupEngine.restore_edges` take any frame-like input, :meth:`DedupEngine.cluster`
any series-like one.

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

from typing import Any

import polars as pl

from thresher import _core, frames, lazy
from thresher._names import DEFAULT_SEED, Verify, dedup_options
from thresher.streams import priority_stream, text_stream


def _texts(texts: object, who: str, column: str) -> object:
    series = frames.read_series(texts, who, column)
    return text_stream(series.rename("text"), "text")


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

    def sketch(
        self, texts: Any, column: str = "text", *, batch_size: int = lazy.BATCH_SIZE
    ) -> pl.DataFrame:
        """Sketches of ``texts`` (a series, or a frame's ``column``; a
        ``LazyFrame`` is read in batches of ``batch_size`` rows): ``exact_key``
        (16-byte binary), ``has_content``, ``has_shingles`` and ``band_keys``
        (``pl.Array(pl.UInt64, bands)``), a Polars frame. Stateless: the frame
        can be stored (Parquet) and added later, by this engine or another with
        the same options."""
        if isinstance(texts, pl.LazyFrame):
            lazy.text_schema(texts, column)
            parts = [self.sketch(b[column]) for b in lazy.batches(texts, [column], batch_size)]
            return pl.concat(parts) if parts else self.sketch(pl.Series([], dtype=pl.String))
        return pl.DataFrame(self._inner.sketch(_texts(texts, "sketch", column)))

    def add(self, sketches: Any) -> None:
        """Appends ``sketches`` (from :meth:`sketch`; any frame-like input) as
        the next rows."""
        columns = ["exact_key", "has_content", "has_shingles", "band_keys"]
        frame = frames.read_frame(sketches, "add")
        self._inner.add(frame.select(columns).__arrow_c_stream__())

    def find_candidates(self, priority: Any = None) -> int:
        """Resolves exact duplicates and finds the LSH candidate pairs after
        the last :meth:`add`; returns how many pairs :meth:`verify` checks.

        Pass the ``priority`` that :meth:`cluster` will get, if any: verification
        then also scores the pairs that :meth:`cluster`'s representatives most
        likely need, so that :meth:`score` is seldom needed. The result is the
        same either way."""
        if priority is None:
            return self._inner.find_candidates(None)
        return self._inner.find_candidates(
            priority_stream(frames.read_values(priority, "find_candidates"))
        )

    def verify(
        self, texts: Any, column: str = "text", *, batch_size: int = lazy.BATCH_SIZE
    ) -> None:
        """Feeds the texts of the next rows (from row 0, in order; a series, or
        a frame's ``column``) to verification; feed every row before
        :meth:`verified_edges` or :meth:`cluster`. When :meth:`find_candidates`
        found no pair, this pass can be skipped."""
        if isinstance(texts, pl.LazyFrame):
            lazy.text_schema(texts, column)
            lazy.feed(texts, column, batch_size, self.verify)
            return
        self._inner.verify(_texts(texts, "verify", column))

    def verified_edges(self) -> pl.DataFrame:
        """``a``, ``b`` (rows, ``a < b``), ``similarity`` and ``exact``, as
        :func:`thresher.similar_pairs` gives them."""
        return pl.DataFrame(self._inner.verified_edges())

    def restore_edges(self, edges: Any) -> None:
        """Takes the :meth:`verified_edges` of an earlier run over the same
        rows (any frame-like input) instead of verifying again (to resume);
        call after the last :meth:`add`, instead of :meth:`find_candidates`
        and :meth:`verify`."""
        frame = frames.read_frame(edges, "restore_edges")
        self._inner.restore_edges(
            frame.select(["a", "b", "similarity", "exact"]).__arrow_c_stream__()
        )

    def cluster(self, priority: Any = None) -> int:
        """Joins rows into clusters. The representative of a cluster is its row
        of highest ``priority`` (one number per row, any series-like input;
        nulls rank lowest; ties and ``None`` go to the lowest row). Returns how
        many rows still need their similarity to the representative from
        :meth:`score`; when 0, call :meth:`result` directly."""
        if priority is None:
            return self._inner.cluster(None)
        return self._inner.cluster(priority_stream(frames.read_values(priority, "cluster")))

    def score(self, texts: Any, column: str = "text", *, batch_size: int = lazy.BATCH_SIZE) -> None:
        """Feeds the texts of the next rows (from row 0; a series, or a
        frame's ``column``) to the scoring pass."""
        if isinstance(texts, pl.LazyFrame):
            lazy.text_schema(texts, column)
            lazy.feed(texts, column, batch_size, self.score)
            return
        self._inner.score(_texts(texts, "score", column))

    def rows_to_score(self) -> pl.Series:
        """The rows (``UInt32``, ascending) whose texts :meth:`score` reads,
        after :meth:`cluster`. Every row is still fed to :meth:`score`, in
        order, but any text (an empty one) will do for the others: a caller
        that stores its texts in batches can skip reading the batches
        without such a row."""
        return pl.Series("row", self._inner.rows_to_score(), dtype=pl.UInt32)

    def result(self) -> pl.DataFrame:
        """One row per row: ``exact_key`` (hex), ``cluster_id`` (row of the
        representative), ``cluster_size``, ``is_duplicate``, ``duplicate_of``
        and ``similarity`` (to the representative), as :func:`thresher.dedup`
        adds them."""
        columns, _ = self._inner.result()
        return pl.DataFrame(columns)
