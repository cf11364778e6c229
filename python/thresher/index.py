"""A persistent index of kept documents: :class:`Index`.

Scraped dumps arrive every day. An index keeps, on disk, what dedup needs of
every document added (exact key, LSH band keys, the cluster it joined, and
the signature, or with ``verify="exact"`` the shingle set), so that
tomorrow's rows are deduplicated against everything stored without reading
old texts again.

>>> index = thresher.Index.create("news.idx", threshold=0.8, verify="exact")  # doctest: +SKIP
>>> for day in days:
...     result = index.dedup(day)  # dedup columns, plus match_id
...     kept = result.filter(~pl.col("is_duplicate"))

The index is a directory of immutable sorted segments behind a manifest
switched atomically by rename: an :meth:`Index.add` (or the add inside
:meth:`Index.dedup`) is atomic, a killed process leaves the index as it was
before or after, one writer at a time holds it (a second writer gets an
error naming the holder), and readers keep the snapshot they opened.
Lookups sort a batch's keys and merge them with each segment's sorted
blocks, one block at a time, so memory does not grow with the index.

Stored ids are ``0, 1, ...`` in add order. With ``id_column``, an add
also stores each row's id of the user's (a string column, or an integer
column kept as ``UInt64``; no nulls), and :meth:`Index.query`'s and
:meth:`Index.dedup`'s ``match_id`` is that id. An index stores such ids
for every document or for none, of one type: the first add decides
(``stats()["ids"]``: ``"none"``, ``"string"`` or ``"uint64"``), and a later
add that differs raises :class:`thresher.InvalidOptionError`. Ids need not
be unique; a match names the stored document's id as given. Inputs are a Polars
``DataFrame`` or ``Series``, a ``LazyFrame`` (streamed by :meth:`Index.add`,
collected by the others), or an iterable of frames such as
:func:`thresher.scan`'s stream (frame by frame in :meth:`Index.add`); the other kinds
:func:`thresher.dedup` takes work too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import polars as pl

from thresher import _core, frames
from thresher._names import DEFAULT_SEED, Verify, dedup_options
from thresher.streams import priority_stream, text_stream

Mode = Literal["r", "a"]

#: Columns :meth:`Index.query` adds.
QUERY_COLUMNS = ("match_id", "similarity", "exact")
#: Columns :meth:`Index.dedup` adds: :func:`thresher.dedup`'s and ``match_id``.
DEDUP_COLUMNS = (
    "exact_key",
    "cluster_id",
    "cluster_size",
    "is_duplicate",
    "duplicate_of",
    "similarity",
    "match_id",
    "index_clusters",
)


def _frame(value: Any, who: str, column: str) -> pl.DataFrame:
    """``value`` as one Polars frame holding ``column`` (a series becomes a
    one-column frame named ``column``)."""
    if isinstance(value, pl.LazyFrame):
        return value.collect()
    if isinstance(value, pl.Series):
        return value.rename(column).to_frame()
    if isinstance(value, pl.DataFrame) or hasattr(value, "__arrow_c_stream__"):
        source = frames.read(value, who, column)
        assert not isinstance(source, pl.LazyFrame)
        return source.frame
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        parts = [_frame(part, who, column) for part in value]
        if not parts:
            return pl.DataFrame({column: pl.Series([], dtype=pl.String)})
        return pl.concat(parts, how="vertical_relaxed")
    return frames.read(value, who, column).frame  # type: ignore[union-attr]


def _id_stream(frame: pl.DataFrame, id_column: str | None) -> object | None:
    """``frame[id_column]`` for the core: strings as they are, integers as
    ``UInt64``; none without an id column."""
    from thresher.errors import InvalidOptionError

    if id_column is None:
        return None
    if id_column not in frame.columns:
        raise InvalidOptionError(f"id column {id_column!r} not found; columns are {frame.columns}")
    ids = frame[id_column]
    if ids.null_count():
        raise InvalidOptionError(f"id column {id_column!r} has {ids.null_count()} nulls")
    if ids.dtype == pl.String:
        pass
    elif ids.dtype.is_integer():
        if ids.len() and ids.min() < 0:  # type: ignore[operator]
            raise InvalidOptionError(f"id column {id_column!r} has negative ids")
        ids = ids.cast(pl.UInt64)
    else:
        raise InvalidOptionError(
            f"id column {id_column!r} must hold strings or integers, not {ids.dtype}"
        )
    return ids.rename("id").to_frame().__arrow_c_stream__()


def _check_free(frame: pl.DataFrame, added: Iterable[str]) -> None:
    clash = [name for name in added if name in frame.columns]
    if clash:
        from thresher.errors import InvalidOptionError

        raise InvalidOptionError(f"the input already has columns named {clash}; rename them first")


class Index:
    """An on-disk index of kept documents; see the module docs.

    Made by :meth:`create` or :meth:`open`, not by calling the class.
    """

    def __init__(self, inner: _core.Index) -> None:
        self._inner = inner

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        threshold: float = 0.8,
        ngram: int = 5,
        num_perm: int = 128,
        seed: int = DEFAULT_SEED,
        verify: Verify = "signature",
    ) -> Index:
        """Creates an empty index in the directory ``path`` (absent or
        empty), open for adding. The options are :func:`thresher.dedup`'s
        and stay the index's for good. ``verify="signature"`` stores each
        document's MinHash signature (4 bytes per ``num_perm``) and verifies
        by its estimate; ``"exact"`` stores the shingle set (about 8 bytes per
        distinct shingle) and verifies by exact Jaccard, against old
        documents too."""
        options = dedup_options(threshold, ngram, num_perm, seed, verify)
        return cls(_core.Index.create(os.fspath(path), options))

    @classmethod
    def open(cls, path: str | os.PathLike[str], mode: Mode = "r") -> Index:
        """Opens the index in ``path``: ``mode="r"`` to read (this object
        keeps the index as it is now, whatever a writer adds meanwhile),
        ``"a"`` to add (one writer at a time; a second gets
        :class:`thresher.UsageError` naming the holder). An index of another
        format version raises :class:`thresher.InputError` naming both."""
        return cls(_core.Index.open(os.fspath(path), mode))

    @property
    def options(self) -> dict[str, Any]:
        """The index's dedup options (``threshold``, ``ngram``, ``num_perm``,
        ``seed``, ``verify``) and the ``mode`` it is open in."""
        return dict(self._inner.options())

    def __len__(self) -> int:
        """Documents stored."""
        return len(self._inner)

    def add(
        self,
        frame: Any,
        column: str = "text",
        id_column: str | None = None,
        *,
        batch_size: int = 100_000,
    ) -> range:
        """Stores the documents of ``frame``'s ``column`` (or of a series),
        each a cluster of its own, in one atomic step; returns their stored
        ids. With ``id_column``, stores that column's ids too (see the
        module docs).

        A ``LazyFrame`` is streamed in batches of about ``batch_size`` rows,
        and an iterable of frames (such as :func:`thresher.scan`'s stream)
        frame by frame: each batch is written as its own segment, so memory
        holds one batch, and the manifest switches once at the end, so the
        whole stream is still one atomic add (an error or a crash midway
        leaves the index as it was)."""
        if isinstance(frame, pl.LazyFrame):
            from thresher.lazy import batches

            names = [column] if id_column is None else [column, id_column]
            return self._add_stream(batches(frame, names, batch_size), column, id_column)
        if (
            isinstance(frame, Iterable)
            and not isinstance(frame, (str, bytes, pl.DataFrame, pl.Series))
            and not hasattr(frame, "__arrow_c_stream__")
        ):
            return self._add_stream(iter(frame), column, id_column)
        texts = _frame(frame, "add", column)
        ids = _id_stream(texts, id_column)
        first, end = self._inner.add(text_stream(texts, column), None, ids)
        return range(first, end)

    def _add_stream(self, parts: Iterator[Any], column: str, id_column: str | None) -> range:
        """Adds each part as a segment, all made live at once."""
        self._inner.begin_add()
        try:
            for part in parts:
                texts = _frame(part, "add", column)
                if texts.height:
                    ids = _id_stream(texts, id_column)
                    self._inner.add(text_stream(texts, column), None, ids)
        except BaseException:
            self._inner.abort_add()
            raise
        first, end = self._inner.commit_add()
        return range(first, end)

    def query(self, frame: Any, column: str = "text") -> pl.DataFrame:
        """The rows of ``frame`` plus, for each, its best match in the index:
        ``match_id`` (the user's id stored with it, else its stored id; null
        without a match), ``similarity``
        (1.0 for an exact match) and ``exact``. The best match is the first
        stored document with the row's normalised text, else the most
        similar stored document at or above the threshold (lowest id on
        ties). The index is not changed."""
        rows = _frame(frame, "query", column)
        _check_free(rows, QUERY_COLUMNS)
        matches = pl.DataFrame(self._inner.query(text_stream(rows, column)))
        return pl.concat([rows, matches.select(QUERY_COLUMNS)], how="horizontal")

    def dedup(self, frame: Any, column: str = "text", id_column: str | None = None) -> pl.DataFrame:
        """The daily step: dedups the rows of ``frame`` among themselves and
        against the index, then adds every row (duplicates too) with the
        cluster it joined, so that later days match through old duplicates.

        A row is kept (``is_duplicate`` false) exactly when one
        :func:`thresher.dedup` with ``keep="first"`` over everything added
        so far and these rows would keep it: its cluster among these rows
        matches nothing stored and it is the cluster's first row.

        Returns the rows plus :func:`thresher.dedup`'s columns, with stored
        ids where that gives rows: ``cluster_id`` (the stored id of the
        cluster's first document, old or new), ``cluster_size`` (rows of
        this batch in the cluster), ``is_duplicate``, ``duplicate_of`` (the
        cluster's first document, for duplicates), ``similarity`` (to the
        row's index match when it has one, else to its representative in
        the batch), ``match_id`` (as :meth:`query`), and ``index_clusters``:
        how many stored clusters the row's cluster in the batch matches
        (through any of its rows and any stored document at or above the
        threshold, not only the best). Two or more: this batch bridges
        clusters that earlier days kept apart; what was kept stays kept, so
        one run over everything would have kept fewer. The rows of such
        clusters are ``result.filter(pl.col("index_clusters") > 1)``. The
        index does not record bridges: a later batch that matches the same
        stored clusters bridges them again. With
        ``id_column``, the rows are added with those ids (as :meth:`add`);
        ``cluster_id`` and ``duplicate_of`` stay stored ids."""
        rows = _frame(frame, "dedup", column)
        _check_free(rows, DEDUP_COLUMNS)
        ids = _id_stream(rows, id_column)
        texts = rows.select(column)
        options = self.options
        options.pop("mode")
        matches = pl.DataFrame(self._inner.query(text_stream(texts, column)))
        batch = pl.DataFrame(_core.dedup(text_stream(texts, column), options, None)[0])
        first = len(self)
        n = rows.height
        work = pl.DataFrame(
            {
                "row": pl.int_range(0, n, dtype=pl.Int64, eager=True),
                "rep": batch["cluster_id"].cast(pl.Int64),
                "match_cluster": matches["match_cluster"].cast(pl.Int64),
            }
        )
        # The stored cluster each batch cluster joins: the lowest one any of
        # its rows matched (none: the cluster is new, its first row kept).
        joined = work.group_by("rep").agg(pl.col("match_cluster").min().alias("joined"))
        work = work.join(joined, on="rep", how="left", maintain_order="left")
        # Every stored cluster the batch cluster's rows match: two or more,
        # and the batch bridges clusters that earlier days kept apart.
        bridged = (
            pl.DataFrame({"rep": work["rep"], "c": matches["match_clusters"]})
            .explode("c")
            .group_by("rep")
            .agg(pl.col("c").drop_nulls().n_unique().cast(pl.UInt32).alias("index_clusters"))
        )
        work = work.join(bridged, on="rep", how="left", maintain_order="left")
        cluster_id = pl.coalesce(pl.col("joined"), pl.col("rep") + first)
        work = work.with_columns(
            cluster_id=cluster_id,
            is_duplicate=pl.col("joined").is_not_null() | (pl.col("rep") != pl.col("row")),
            # For the core: a stored id, or -(1 + row) of a batch row.
            code=pl.coalesce(pl.col("joined"), -(pl.col("rep") + 1)),
        )
        self._inner.add(
            text_stream(texts, column), priority_stream(work["code"].rename("cluster")), ids
        )
        work = work.with_columns(
            duplicate_of=pl.when(pl.col("is_duplicate")).then(pl.col("cluster_id")),
        )
        columns = pl.DataFrame(
            {
                "exact_key": batch["exact_key"],
                "cluster_id": work["cluster_id"].cast(pl.UInt64),
                "cluster_size": batch["cluster_size"],
                "is_duplicate": work["is_duplicate"],
                "duplicate_of": work["duplicate_of"].cast(pl.UInt64),
                "similarity": matches["similarity"].fill_null(batch["similarity"]),
                "match_id": matches["match_id"],
                "index_clusters": work["index_clusters"],
            }
        )
        return pl.concat([rows, columns], how="horizontal")

    def stats(self) -> dict[str, Any]:
        """Figures of the index: ``documents``, ``segments``, ``bytes`` (on
        disk), ``doc_bytes`` and ``key_bytes`` (of each kind of block),
        ``exact_entries`` and ``band_entries``, ``ids`` (the type of the
        user's ids it stores: ``"none"``, ``"string"`` or ``"uint64"``) and
        ``index_format`` (the on-disk format version)."""
        return dict(self._inner.stats())

    def compact(self) -> None:
        """Merges the index's segments into one (in bounded memory), then
        switches to it atomically; readers open before keep theirs."""
        self._inner.compact()

    def check(self) -> dict[str, Any]:
        """Reads the whole index and checks that it is consistent (raises
        :class:`thresher.InputError` naming the first problem). Returns
        ``documents``, ``blocks`` read, and the ``leftovers`` (of an
        interrupted write) and ``foreign`` files in the directory."""
        return dict(self._inner.check())
