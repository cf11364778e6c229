"""Dedup of a Ray dataset: :func:`dedup`, with the clusters, representatives
and similarities of :func:`thresher.dedup` on the same rows sorted by
``id_column``.

The stages, each a Ray Data operation on Arrow tables, the work of each in
thresher's Rust core with the GIL released:

1. **Sketch** (``map_batches``): each row's id, exact key (binary), content
   flags and LSH band keys. When ``ds`` is cheap to read again
   (materialized, or from :func:`thresher.ray.read_dumps`: its blocks are
   in the object store already), the sketches leave out the row's other
   columns, and the stages that need the texts (4, 6 and 7) read them
   from ``ds`` again: the object store holds each text once. Otherwise
   (a read of files, say) ``ds`` runs once, into sketches that keep every
   column, with the exact key in hex for the output.
2. **Exact copies**: rows with content, bucketed by a hash of their exact
   key and grouped by bucket (``groupby(bucket).map_groups``, one call per
   bucket); each bucket links every row to the lowest id with its key.
   Only the copies (not their first rows) leave the stage.
3. **Candidates**: one ``(band, key, id)`` row per band of each row with
   shingles that copies no earlier row (the copies' ids are sent to every
   task, up to :data:`MAX_SENT_IDS`; beyond, each row carries its exact
   key and each ``(band, key)`` group keeps the lowest id of each exact
   key: every copy of a text has all its band keys, so that is its first
   row), bucketed by key and grouped by bucket. Each bucket's pairs come
   from the same bucket rules as the local engine's
   (``_core.candidate_pairs``), among first rows as the local engine's.
4. **Verification**: the pairs, bucketed by their first id, meet the
   texts of both their rows in one grouping: the pairs' ids and buckets
   (up to :data:`MAX_SENT_PAIRS` pairs) are sent to every task, and each
   row in a pair sends its text to each bucket that holds one of its
   pairs, once. Each distinct pair (a pair two band keys share comes from
   two buckets) gets its similarity from ``_core.pair_similarities_by_row``
   (each text of the bucket profiled once);
   pairs at or above the threshold are the near edges. Beyond
   :data:`MAX_SENT_PAIRS` pairs, every text moves in two groupings: by
   the pair's first id and the row's id, each pair takes the text of its
   first id; then by its second id, the other.
5. **Components** on the driver (``components="local"``, or ``"auto"`` up
   to :data:`MAX_LOCAL_EDGES` edges): union-find over the edges
   (``_core.clusters``), the representative by ``keep``; about 64 bytes
   per edge on the driver. With ``components="distributed"`` (or beyond
   the bound), stages 5 to 7 run on the cluster instead
   (:mod:`thresher.ray.components`), and the output joins the rows with
   their cluster values.
6. **Scores**: members whose similarity to their representative is not an
   edge already (few) get it on the driver, their texts fetched by a
   filter over the rows.
7. **Output** (``map_batches`` over the rows: ``ds``, or the sketches that
   kept them): every row with its columns and its exact key in hex (from
   the sketch, or computed again from the text by the sketch's own scan,
   ``_core.exact_keys``, where the sketches left the texts out), the
   clustered rows' values broadcast to every task.

A grouping by bucket is a shuffle that Ray Data runs (its sort shuffle up
to :data:`MAX_SORT_SHUFFLE_BLOCKS` blocks, its hash shuffle beyond: see
``shuffle``); thresher only
chooses the number of buckets (``partitions``) and groups within each bucket
in Rust, so that Ray never sees one group per key. The rows of stages 3 and
4 cross the shuffle packed (``tables.packed``): each map block gives one
row per bucket, its columns lists, which the sort shuffle moves whole
instead of sorting millions of small rows. The result does not
depend on ``partitions``, the block sizes or the number of nodes: every
reduction is over sets (pairs sorted and deduplicated, clusters from the
set of edges).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import ray
import ray.data

from thresher import _core
from thresher._names import DEFAULT_SEED, Keep, Verify, dedup_options
from thresher.errors import InvalidOptionError
from thresher.keep import check_keep, priority_expr, warn_undated, warn_undated_clusters
from thresher.ray.read import is_cheap_to_read_again, known_schema
from thresher.ray.tables import (
    BUCKET,
    Shuffle,
    appended,
    bucket,
    collect,
    context_settings,
    frame_of,
    packed,
    resolved,
    shuffle_strategy,
    unpacked,
)
from thresher.streams import text_stream

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

Components = Literal["auto", "local", "distributed"]
_LOG = logging.getLogger("thresher.ray")

#: The columns :func:`dedup` adds, as :func:`thresher.dedup` names them.
RESULT_COLUMNS = tuple(_core.dedup_columns())
#: Sketched rows in up to this many blocks are grouped by Ray Data's sort
#: shuffle (``shuffle="auto"``); it splits every input block into as many
#: parts as there are input blocks, so a million intermediate objects at
#: most; beyond, by its hash shuffle.
MAX_SORT_SHUFFLE_BLOCKS = 1_000
#: Candidate pairs up to this many have their ids and buckets sent to
#: every task of the verification, so that only texts of rows in a pair
#: move, in one grouping (16 bytes a pair on the driver, up to 32 in each
#: task); beyond, every text moves, in two groupings.
MAX_SENT_PAIRS = 20_000_000
#: Exact copies up to this many have their ids sent to every task of the
#: candidates stage, which leaves them out before the shuffle; beyond,
#: each band row carries its exact key (16 bytes more) and the buckets
#: leave copies out.
MAX_SENT_IDS = 50_000_000
#: With ``components="auto"``, the components are found on the driver up
#: to this many edges (exact copies and near pairs; about 64 bytes each
#: there, 6.4 GB in all), on the cluster beyond.
MAX_LOCAL_EDGES = 100_000_000
_KEY = "_thresher_exact_key"
_CONTENT = "_thresher_has_content"
_SHINGLES = "_thresher_has_shingles"
_BANDS = "_thresher_band_keys"
#: The exact key in hex, in sketches that keep their rows' columns.
_HEX_KEY = "_thresher_exact_key_hex"
_INTERNAL = (_KEY, _CONTENT, _SHINGLES, _BANDS, _HEX_KEY)


_IDS = {"id": pl.UInt64}
_ROUTED_PAIRS = {"a": pl.UInt64, "b": pl.UInt64, BUCKET: pl.Int64}
_EDGES = {"a": pl.UInt64, "b": pl.UInt64, "similarity": pl.Float64}
_COPIES = {"id": pl.UInt64, "rep": pl.UInt64}


def _sketch(
    batch: pa.Table, *, column: str, id_column: str, options: dict[str, Any], keep_rows: bool
) -> pa.Table:
    """Stage 1: the batch's ids with their exact key (binary), content
    flags and band keys; with ``keep_rows``, after all the rows' columns,
    with the exact key in hex too (for the output)."""
    texts = frame_of(batch.select([column]))
    sketches = pl.DataFrame(_core.DedupEngine(options).sketch(text_stream(texts, column)))
    hex_key = [_hex_keys(sketches["exact_key"]).alias(_HEX_KEY)] if keep_rows else []
    added = pl.DataFrame(
        [
            *hex_key,
            sketches["exact_key"].alias(_KEY),
            sketches["has_content"].alias(_CONTENT),
            sketches["has_shingles"].alias(_SHINGLES),
            sketches["band_keys"].alias(_BANDS),
        ]
    )
    return appended(batch if keep_rows else batch.select([id_column]), added)


def _hex_keys(keys: pl.Series) -> pl.Series:
    """Binary exact keys (the core's, little-endian) in the core's hex (the
    128-bit key written big-endian)."""
    little = keys.bin.encode("hex").to_frame("little")
    return little.select(
        pl.concat_str([pl.col("little").str.slice(2 * i, 2) for i in reversed(range(16))])
    ).to_series()


def _id_range(block: pa.Table, id_column: str) -> tuple[int, int, int] | None:
    """Lowest and highest id of a block of sketches, and its rows; ``None``
    for a block of no rows."""
    if not block.num_rows:
        return None
    ids = pc.min_max(block.column(id_column))
    return int(ids["min"].as_py()), int(ids["max"].as_py()), block.num_rows


_id_range_task = ray.remote(_id_range)


def _sketch_blocks(sketched: ray.data.Dataset, id_column: str) -> Any:
    """The blocks of text-free sketches with the range of their ids, for
    the output to take its exact keys from (see :func:`_sketched_keys`):
    an object-store reference to a list of ``(lowest, highest, rows,
    block)``."""
    refs = sketched.to_arrow_refs()
    ranges = ray.get([_id_range_task.remote(ref, id_column) for ref in refs])
    blocks = [(*found, ref) for found, ref in zip(ranges, refs, strict=True) if found]
    return ray.put(blocks)


def _sketched_keys(ids: pl.Series, blocks: Any, id_column: str) -> pl.Series | None:
    """The hex exact keys of the rows ``ids`` from the sketch blocks whose
    id range meets theirs; ``None`` (compute them from the texts instead)
    when those blocks hold more than twice as many rows, as where ids are
    spread across blocks. The rows of :func:`thresher.ray.read_dumps`
    come in runs of consecutive ids, as do their sketches."""
    if blocks is None or not len(ids):
        return None
    low, high = ids.min(), ids.max()
    meeting = [block for block in resolved(blocks) if block[0] <= high and block[1] >= low]
    if sum(block[2] for block in meeting) > 2 * len(ids):
        return None
    tables = ray.get([block[3] for block in meeting])
    keys = pl.concat(
        [
            frame_of(table.select([id_column, _KEY])).select(
                pl.col(id_column).cast(pl.UInt64).alias("id"), pl.col(_KEY)
            )
            for table in tables
        ]
    )
    found = ids.to_frame("id").join(keys, on="id", how="left", maintain_order="left")[_KEY]
    if found.null_count():
        return None
    return _hex_keys(found)


def _key_buckets(batch: pa.Table, *, id_column: str, partitions: int) -> pa.Table:
    """Stage 2 input: ``id``, the exact key and its bucket, of rows with content."""
    # Only the columns used go through Polars (a filter would copy the texts).
    return (
        frame_of(batch.select([id_column, _KEY, _CONTENT]))
        .filter(pl.col(_CONTENT))
        .select(
            pl.col(id_column).cast(pl.UInt64).alias("id"),
            pl.col(_KEY),
            bucket(_KEY, partitions),
        )
        .to_arrow()
    )


def _exact_copies(group: pa.Table) -> pa.Table:
    """Stage 2, one bucket: ``id`` and ``rep`` (the lowest id with its key)
    of every row that copies an earlier one."""
    return (
        frame_of(group)
        .with_columns(pl.col("id").min().over(_KEY).alias("rep"))
        .filter(pl.col("id") != pl.col("rep"))
        .select("id", "rep")
        .to_arrow()
    )


def _band_rows(
    batch: pa.Table, *, id_column: str, bands: int, partitions: int, copies: Any = None
) -> pa.Table:
    """Stage 3 input: one ``(band, key, id)`` row per band of each row with
    shingles, with the key's bucket, packed by bucket. With ``copies`` (a
    table of the ids of every copy), copies are left out; without, each
    row carries its exact key, for the buckets to leave them out."""
    frame = frame_of(batch.select([id_column, _KEY, _SHINGLES, _BANDS])).filter(pl.col(_SHINGLES))
    ids = pl.col(id_column).cast(pl.UInt64)
    if copies is not None:
        frame = frame.filter(~ids.is_in(frame_of(resolved(copies))["id"].implode()))
    keys = frame.select(pl.col(_BANDS).arr.explode().alias("key"))
    carried = [ids.repeat_by(bands).explode().alias("id")]
    if copies is None:
        carried.append(pl.col(_KEY).repeat_by(bands).explode())
    rows = pl.concat([keys, frame.select(carried)], how="horizontal").with_columns(
        (pl.int_range(pl.len(), dtype=pl.UInt32) % bands).alias("band"),
    )
    rows = rows.with_columns((pl.col("key") % partitions).cast(pl.Int64).alias(BUCKET))
    return packed(rows, {name: rows.schema[name] for name in _BAND_COLUMNS if name in rows.columns})


#: The columns of stage 3's rows (the exact key only where copies were not sent).
_BAND_COLUMNS = ("band", "key", "id", _KEY)


def _pairs_of_bucket(group: pa.Table, *, partitions: int) -> pa.Table:
    """Stage 3, one bucket of band keys: its candidate pairs ``a < b``
    among the rows that copy no earlier row, as stage 4's rows (bucketed
    by ``a``). Where the rows carry their exact key, copies are still in:
    every copy of a text has all its band keys, so the lowest id of each
    exact key in a ``(band, key)`` group is its first row, and only it
    stays."""
    group_rows = frame_of(group)
    rows = unpacked(group_rows, [name for name in _BAND_COLUMNS if name in group_rows.columns])
    if _KEY in rows.columns:
        rows = rows.group_by("band", "key", _KEY).agg(pl.col("id").min())
    pairs = pl.DataFrame(
        _core.candidate_pairs(rows.select("band", "key", "id").__arrow_c_stream__())
    )
    return _verify_rows(pairs.lazy(), partitions, "a").to_arrow()


#: The rows of stage 4's two groupings: pairs (``a``, ``b``, the text of
#: ``a`` once known) and texts (``text`` under ``a`` or under ``b``).
_VERIFY_SCHEMA = {"a": pl.UInt64, "b": pl.UInt64, "text_a": pl.String, "text": pl.String}


def _verify_rows(frame: pl.LazyFrame, partitions: int, by: str) -> pl.DataFrame:
    """``frame`` in the columns of :data:`_VERIFY_SCHEMA` (missing ones
    null), bucketed by ``by``."""
    names = frame.collect_schema().names()
    columns = [
        pl.col(name).cast(dtype) if name in names else pl.lit(None, dtype).alias(name)
        for name, dtype in _VERIFY_SCHEMA.items()
    ]
    return frame.select(columns).with_columns(bucket(by, partitions)).collect()


def _text_rows(
    batch: pa.Table,
    *,
    id_column: str,
    column: str,
    partitions: int,
    under: str,
) -> pa.Table:
    """Stage 4's texts beyond :data:`MAX_SENT_PAIRS` pairs: each row's id
    (as ``under``: ``a`` or ``b``) and ``text``, bucketed by id."""
    frame = (
        frame_of(batch)
        .lazy()
        .select(
            pl.col(id_column).cast(pl.UInt64).alias(under),
            pl.col(column).cast(pl.String).fill_null("").alias("text"),
        )
    )
    return _verify_rows(frame, partitions, under).to_arrow()


def _attach_first_texts(group: pa.Table, *, partitions: int) -> pa.Table:
    """Stage 4, first grouping (by ``a``): each distinct pair with the
    text of ``a``, bucketed by ``b`` for the second."""
    rows = frame_of(group)
    texts = rows.filter(pl.col("b").is_null()).select("a", pl.col("text").alias("text_a"))
    pairs = rows.filter(pl.col("b").is_not_null()).select("a", "b").unique()
    joined = pairs.join(texts, on="a", how="inner")
    return _verify_rows(joined.lazy(), partitions, "b").to_arrow()


def _score_second(group: pa.Table, *, options: dict[str, Any], cutoff: float) -> pa.Table:
    """Stage 4, second grouping (by ``b``): the pairs with both texts,
    scored; those at or above ``cutoff`` are the near edges."""
    rows = frame_of(group)
    texts = rows.filter(pl.col("a").is_null()).select("b", pl.col("text").alias("text_b"))
    pairs = rows.filter(pl.col("a").is_not_null()).select("a", "b", "text_a")
    joined = pairs.join(texts, on="b", how="inner")
    return _scored(joined, options, cutoff).to_arrow()


def _routes(pairs: pl.DataFrame) -> pl.DataFrame:
    """Where each row in a pair sends its text: ``id`` and ``_thresher_bucket``
    (the bucket of a pair of it, by its first id), each once."""
    both = pl.concat(
        [
            pairs.select(pl.col("a").alias("id"), BUCKET),
            pairs.select(pl.col("b").alias("id"), BUCKET),
        ]
    )
    return both.unique()


#: Stage 4's rows, packed by bucket: pairs (``a``, ``b``) and texts
#: (``id``, ``text``), each row one kind (the other's lists null); the
#: types of the lists' values.
_PACKED_VERIFY: dict[str, PolarsDataType] = {
    "a": pl.UInt64,
    "b": pl.UInt64,
    "id": pl.UInt64,
    "text": pl.String,
}


def _packed_verify_rows(frame: pl.DataFrame, columns: list[str]) -> pa.Table:
    """``frame``'s ``columns`` (with :data:`BUCKET`) packed by bucket, in the
    columns of :data:`_PACKED_VERIFY` (the others null)."""
    lists = frame_of(packed(frame, {name: _PACKED_VERIFY[name] for name in columns}))
    return lists.select(
        BUCKET,
        *(
            pl.col(name) if name in columns else pl.lit(None, pl.List(dtype)).alias(name)
            for name, dtype in _PACKED_VERIFY.items()
        ),
    ).to_arrow()


def _packed_pairs(batch: pa.Table) -> pa.Table:
    """Stage 4's pairs (``a``, ``b``, bucketed by ``a``), packed by bucket."""
    return _packed_verify_rows(frame_of(batch).select("a", "b", BUCKET), ["a", "b"])


def _routed_texts(batch: pa.Table, *, id_column: str, column: str, routes: Any) -> pa.Table:
    """Stage 4's texts: the text of each row in a pair (``id``, ``text``),
    once for each bucket in ``routes`` it goes to, packed by bucket."""
    frame = (
        frame_of(batch.select([id_column, column]))
        .lazy()
        .select(
            pl.col(id_column).cast(pl.UInt64).alias("id"),
            pl.col(column).cast(pl.String).fill_null("").alias("text"),
        )
    )
    routed = frame.join(frame_of(resolved(routes)).lazy(), on="id", how="inner").collect()
    return _packed_verify_rows(routed, ["id", "text"])


def _score_bucket(group: pa.Table, *, options: dict[str, Any], cutoff: float) -> pa.Table:
    """Stage 4, one bucket: its distinct pairs with the texts of both their
    rows, scored; those at or above ``cutoff`` are the near edges."""
    rows = frame_of(group)
    texts = unpacked(rows, ["id", "text"]).rename({"id": "a"}).unique("a")
    pairs = unpacked(rows, ["a", "b"]).unique()
    # Each text is profiled once, however many pairs it is in.
    row_of = texts.select(pl.col("a").alias("id")).with_row_index("row")
    indexed = pairs.join(row_of.rename({"id": "a", "row": "ra"}), on="a", how="inner").join(
        row_of.rename({"id": "b", "row": "rb"}), on="b", how="inner"
    )
    rows_paired = indexed.select(
        pl.col("ra").cast(pl.UInt64).alias("a"), pl.col("rb").cast(pl.UInt64).alias("b")
    )
    values = pl.DataFrame(
        _core.pair_similarities_by_row(
            text_stream(texts, "text"), rows_paired.__arrow_c_stream__(), options, cutoff
        )
    )
    edges = indexed.select("a", "b").with_columns(values["similarity"])
    return edges.filter(pl.col("similarity") >= cutoff).to_arrow()


def _scored(pairs: pl.DataFrame, options: dict[str, Any], cutoff: float) -> pl.DataFrame:
    """``a``, ``b`` and ``similarity`` of ``pairs`` (with ``text_a`` and
    ``text_b``) whose similarity is at least ``cutoff``."""
    values = pl.DataFrame(
        _core.pair_similarities(
            text_stream(pairs, "text_a"), text_stream(pairs, "text_b"), options, cutoff
        )
    )
    edges = pairs.select("a", "b").with_columns(values["similarity"])
    return edges.filter(pl.col("similarity") >= cutoff)


def _texts_of(batch: pa.Table, *, id_column: str, column: str, wanted: Any) -> pa.Table:
    """``id`` and ``text`` of the batch's rows whose id is in ``wanted``."""
    frame = frame_of(batch.select([id_column, column])).select(
        pl.col(id_column).cast(pl.UInt64).alias("id"),
        pl.col(column).cast(pl.String).fill_null("").alias("text"),
    )
    return frame.join(frame_of(resolved(wanted)), on="id", how="semi").to_arrow()


def _output(
    batch: pa.Table,
    *,
    id_column: str,
    column: str,
    clustered: Any,
    id_type: pa.DataType,
    sketch_blocks: Any = None,
) -> pa.Table:
    """Stage 7: the batch's rows (the input's, or sketches that kept them)
    with :data:`RESULT_COLUMNS`: the exact key of each text (from the
    sketch, from the text-free ``sketch_blocks``, or computed again from
    the text), and the clustered rows' values
    ``clustered`` (sent to every task), or, where it is ``None``, the
    values joined to the rows already."""
    if _HEX_KEY in batch.column_names:
        keys = frame_of(batch.select([_HEX_KEY])).rename({_HEX_KEY: "exact_key"})
    else:
        row_ids = frame_of(batch.select([id_column]))[id_column].cast(pl.UInt64)
        sketched = _sketched_keys(row_ids, sketch_blocks, id_column)
        if sketched is not None:
            keys = sketched.alias("exact_key").to_frame()
        else:
            texts = frame_of(batch.select([column]))
            keys = pl.DataFrame(_core.exact_keys(text_stream(texts, column)))
    own = [name for name in batch.column_names if name not in _INTERNAL]
    if clustered is None:
        joined = frame_of(batch.select(own))
        kept = [name for name in own if name not in ("_thresher_id", *_INFO_COLUMNS)]
        for name, dtype in _INFO_SCHEMA.items():
            if name not in joined.columns:
                joined = joined.with_columns(pl.lit(None, dtype).alias(name))
    else:
        # Only the ids go through Polars; the rows' own columns stay as
        # they are in Arrow.
        kept = own
        frame = frame_of(batch.select([id_column]))
        info = frame_of(resolved(clustered))
        ids = pl.col(id_column).cast(pl.UInt64).alias("_thresher_id")
        joined = frame.with_columns(ids).join(
            info, on="_thresher_id", how="left", maintain_order="left"
        )
    return appended(batch.select(kept), keys.hstack(_result_columns(joined, id_type)))


def _result_columns(joined: pl.DataFrame, id_type: pa.DataType) -> pl.DataFrame:
    """:data:`RESULT_COLUMNS` after ``exact_key``, from rows with their
    ``_thresher_id`` and clustered values (null where not clustered)."""
    own = pl.col("_thresher_id")
    out = joined.with_columns(
        pl.coalesce("cluster_id", own).alias("cluster_id"),
        pl.col("cluster_size").fill_null(1).alias("cluster_size"),
        pl.col("is_duplicate").fill_null(False).alias("is_duplicate"),
        pl.col("similarity").fill_null(1.0).alias("similarity"),
    ).with_columns(
        pl.when(pl.col("is_duplicate")).then(pl.col("cluster_id")).alias("duplicate_of"),
    )
    id_dtype = pl.from_arrow(pa.array([], type=id_type)).dtype  # type: ignore[union-attr]
    out = out.with_columns(
        pl.col("cluster_id").cast(id_dtype),
        pl.col("duplicate_of").cast(id_dtype),
    )
    return out.select(RESULT_COLUMNS[1:])


def _check_options(
    ds: ray.data.Dataset,
    column: str,
    id_column: str,
    keep: Keep,
    date_column: str,
    components: str,
    partitions: int | None,
) -> pa.Schema:
    arrow = known_schema(ds)
    if arrow is None:
        schema = ds.schema()
        if schema is None:
            raise InvalidOptionError("the dataset has no schema (is it empty of blocks?)")
        arrow = schema.base_schema
    assert isinstance(arrow, pa.Schema)
    names = arrow.names
    for name, what in ((column, "text"), (id_column, "id")):
        if name not in names:
            raise InvalidOptionError(f"{what} column {name!r} not found; columns are {names}")
    if not pa.types.is_integer(arrow.field(id_column).type):
        raise InvalidOptionError(
            f"id column {id_column!r} must hold integers (unique per row), "
            f"not {arrow.field(id_column).type}"
        )
    taken = [c for c in RESULT_COLUMNS if c in names]
    if taken:
        raise InvalidOptionError(f"the dataset already has result column(s) {taken}")
    check_keep(keep, names, date_column)
    if components not in ("auto", "local", "distributed"):
        raise InvalidOptionError(
            f'components must be "auto", "local" or "distributed", got {components!r}'
        )
    if partitions is not None and partitions < 1:
        raise InvalidOptionError("partitions must be at least 1")
    return arrow


class _Clock:
    """Seconds per stage into ``timings`` (when given)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = now - self.last
        self.last = now


class _Stages:
    """Where each stage's output lives: in the object store only, or also
    as Parquet under ``work_dir``, so that a driver that dies is restarted
    from its last finished stage. A stage is finished once its marker
    (``NAME.done.json``) exists; its files are written under a temporary
    name first. The work directory belongs to one run: ``key`` (the
    options) differing from its ``manifest.json`` clears it."""

    def __init__(self, work_dir: str | os.PathLike[str] | None, key: dict[str, Any]) -> None:
        # Absolute: the tasks that write the stages run in other directories.
        self.root = None if work_dir is None else Path(work_dir).absolute()
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = self.root / "manifest.json"
        wanted = json.dumps(key, sort_keys=True)
        if not manifest.exists() or manifest.read_text(encoding="utf-8") != wanted:
            for entry in self.root.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            _write_durably(manifest, wanted)

    def dataset(self, name: str, build: Callable[[], ray.data.Dataset]) -> ray.data.Dataset:
        """Stage ``name``'s dataset: read back if finished, else built,
        materialized and written."""
        if self.root is None:
            return build().materialize()
        place, done = self.root / name, self.root / f"{name}.done.json"
        if done.exists():
            _LOG.info("thresher.ray: stage %s read back from %s", name, place)
            # Materialized: later stages read it more than once.
            return ray.data.read_parquet(os.fspath(place)).materialize()
        ds = build().materialize()
        temporary = self.root / f"{name}.tmp"
        shutil.rmtree(temporary, ignore_errors=True)
        if ds.count():
            ds.write_parquet(os.fspath(temporary))
        else:
            temporary.mkdir()
            # A shuffle of no rows gives blocks without columns: kept so.
            schema = ds.schema()
            empty = pa.table({}) if schema is None else schema.base_schema.empty_table()
            pq.write_table(empty, temporary / "empty.parquet")
        shutil.rmtree(place, ignore_errors=True)
        temporary.rename(place)
        _write_durably(done, json.dumps({"rows": ds.count()}))
        return ds

    def frame(self, name: str, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """Stage ``name``'s frame (on the driver): read back if finished,
        else built and written."""
        if self.root is None:
            return build()
        place = self.root / f"{name}.parquet"
        if place.exists():
            _LOG.info("thresher.ray: stage %s read back from %s", name, place)
            return pl.read_parquet(place)
        frame = build()
        temporary = self.root / f"{name}.parquet.tmp"
        frame.write_parquet(temporary)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        temporary.rename(place)
        return frame


def _write_durably(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    temporary.rename(path)


def _default_partitions() -> int:
    """Twice the cluster's CPUs: enough buckets to keep every CPU busy
    with room for skew."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(2, 2 * cpus)


def dedup(
    ds: ray.data.Dataset,
    column: str = "text",
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    verify: Verify = "exact",
    keep: Keep = "first",
    date_column: str = "date",
    id_column: str = "doc_id",
    components: Components = "auto",
    partitions: int | None = None,
    shuffle: Shuffle | Literal["auto"] = "auto",
    timings: dict[str, float] | None = None,
    work_dir: str | os.PathLike[str] | None = None,
) -> ray.data.Dataset:
    """Find exact and near duplicates among the rows of ``ds`` on a Ray
    cluster; see :func:`thresher.dedup` for the meaning of the options.

    Rows are ordered by ``id_column`` (integers, one per row, such as the
    ``doc_id`` of :func:`read_dumps`): on the same rows sorted by it,
    :func:`thresher.dedup` gives the same clusters, representatives,
    similarities and exact keys, with ``cluster_id`` and ``duplicate_of``
    naming rows by their ``id_column`` value instead of their position
    (``keep="first"`` keeps the lowest id).

    Args:
        components: where the connected components are found:
            ``"local"`` (union-find on the driver: about 64 bytes per edge
            there), ``"distributed"`` (large-star / small-star on the
            cluster, representatives and similarities there too; see
            :mod:`thresher.ray.components`) or ``"auto"`` (local up to
            :data:`MAX_LOCAL_EDGES` edges, distributed beyond). Both give
            the same result.
        partitions: buckets of each hash shuffle (default: twice the
            cluster's CPUs). The result does not depend on it.
        shuffle: how Ray Data moves the rows of stages 2 to 4 to their
            buckets: ``"sort"`` (its pull-based sort shuffle, run by
            tasks; on a small cluster each grouping costs a fraction of a
            second of fixed time), ``"hash"`` (the shuffle Ray Data is
            configured with: by default its hash shuffle, run by
            aggregator actors started for each grouping, about 3 seconds
            each on 2 CPUs, but without the sort shuffle's map x reduce
            intermediate blocks, whose number grows with the square of the
            blocks) or ``"auto"`` (sort up to
            :data:`MAX_SORT_SHUFFLE_BLOCKS` blocks of sketched rows, hash
            beyond). The result does not depend on it; the distributed
            components always use the hash shuffle (Ray Data's joins need
            it).
        timings: a dict to fill with the seconds each stage took
            (``sketch``, ``exact``, ``candidates``, ``verify``,
            ``components``), for profiling.
        work_dir: a directory every node can read and write (a shared
            file system; any local path on a one-machine cluster). Each
            stage's output is written there as Parquet, so that a run
            whose driver died restarts from its last finished stage when
            called again with the same dataset, options and
            ``work_dir``. A ``work_dir`` holding another run's stages
            (other options) is cleared; it cannot tell two datasets apart,
            so give each dataset its own.

    Returns:
        The rows of ``ds`` with ``exact_key``, ``cluster_id``,
        ``cluster_size``, ``is_duplicate``, ``duplicate_of`` and
        ``similarity``, in no particular order (sort by ``id_column``).
        Stages 1 to 6 run before this returns; stage 7 runs when the
        dataset is consumed. The stages, and datasets derived from the
        result, run without Ray Data's per-operator resource reservation
        (``DataContext.op_resource_reservation_enabled``), which on a small
        cluster runs a map's tasks one at a time.
    """
    options = dedup_options(threshold, ngram, num_perm, seed, verify)
    schema = _check_options(ds, column, id_column, keep, date_column, components, partitions)
    if shuffle not in ("auto", "sort", "hash"):
        raise InvalidOptionError(f'shuffle must be "auto", "sort" or "hash", got {shuffle!r}')
    parts = partitions if partitions is not None else _default_partitions()
    bands, _ = _core.banding(threshold, num_perm)
    clock = _Clock(timings)
    # Rows cheap to read again stay where they are, and the sketches
    # leave out their columns (the stages that need the texts read them
    # from ``ds`` again: the object store holds every text once); other
    # rows (a read of files, say) are read once, into sketches that keep
    # them.
    keep_rows = not is_cheap_to_read_again(ds)
    stages = _Stages(
        work_dir,
        {
            "thresher": _core.__version__,
            "sketch_format": _core.SKETCH_FORMAT,
            "options": options,
            "column": column,
            "id_column": id_column,
            "keep": keep,
            "date_column": date_column,
            "partitions": parts,
            "components": components,
            "sketches_keep_rows": keep_rows,
        },
    )

    # Ray Data reserves part of the CPUs for each operator of a stage (a
    # map, then a shuffle); on a small cluster its maps then run one task
    # at a time. The stages run without the reservation (they are
    # materialized one by one, so no operator starves another), and so
    # does the output, which derives from ``rows`` (its context is a copy
    # made while the setting was off).
    with context_settings([ds], op_resource_reservation_enabled=False):
        # A dataset of its own context (see above).
        source = ray.data.Dataset.copy(ds, _deep_copy=True)
        sketched = stages.dataset(
            "sketch",
            lambda: source.map_batches(
                partial(
                    _sketch,
                    column=column,
                    id_column=id_column,
                    options=options,
                    keep_rows=keep_rows,
                ),
                batch_format="pyarrow",
            ),
        )
    # What stages 4, 6 and 7 read the texts and other columns from.
    rows = sketched if keep_rows else source
    clock.lap("sketch")
    if not sketched.count():
        # No rows: nothing to group (a shuffle of no blocks has no columns).
        return rows.map_batches(
            partial(
                _output,
                id_column=id_column,
                column=column,
                clustered=_components_of_nothing().to_arrow(),
                id_type=schema.field(id_column).type,
            ),
            batch_format="pyarrow",
        )

    # Stages 2 to 4 group by bucket with the strategy chosen by ``shuffle``.
    if shuffle == "auto":
        shuffle = "sort" if sketched.num_blocks() <= MAX_SORT_SHUFFLE_BLOCKS else "hash"
    with (
        shuffle_strategy([ds, rows, sketched], shuffle),
        context_settings([ds, rows, sketched], op_resource_reservation_enabled=False),
    ):
        # 2. Exact copies: (id, rep) of every copy.
        copies = stages.dataset(
            "exact",
            lambda: (
                sketched.map_batches(
                    partial(_key_buckets, id_column=id_column, partitions=parts),
                    batch_format="pyarrow",
                )
                .groupby(BUCKET, num_partitions=parts)
                .map_groups(_exact_copies, batch_format="pyarrow")
            ),
        )
        clock.lap("exact")

        # 3. Candidates among the rows that copy no earlier row, as stage 4's
        # rows bucketed by their first id.
        # The copies' ids go to every task while they are few enough.
        sent_copies: Any = None
        if copies.count() <= MAX_SENT_IDS:
            sent_copies = ray.put(collect(copies.select_columns(["id"]), _IDS).to_arrow())
        pairs = stages.dataset(
            "candidates",
            lambda: (
                sketched.map_batches(
                    partial(
                        _band_rows,
                        id_column=id_column,
                        bands=bands,
                        partitions=parts,
                        copies=sent_copies,
                    ),
                    batch_format="pyarrow",
                )
                .groupby(BUCKET, num_partitions=parts)
                .map_groups(partial(_pairs_of_bucket, partitions=parts), batch_format="pyarrow")
            ),
        )
        clock.lap("candidates")

        # 4. Verification: each pair meets the texts of both its ids in one
        # grouping by bucket, or (beyond MAX_SENT_PAIRS) in two.
        def texts_under(under: str) -> ray.data.Dataset:
            return rows.map_batches(
                partial(
                    _text_rows,
                    id_column=id_column,
                    column=column,
                    partitions=parts,
                    under=under,
                ),
                batch_format="pyarrow",
            )

        def similarities(bucketed: ray.data.Dataset, cutoff: float) -> ray.data.Dataset:
            """The pairs of ``bucketed`` (stage 4's rows, by ``a``) with their
            similarity, those at or above ``cutoff``."""
            if bucketed.count() <= MAX_SENT_PAIRS:
                # Each text goes to the buckets of its pairs, once each.
                pairs = collect(bucketed.select_columns(["a", "b", BUCKET]), _ROUTED_PAIRS)
                routes = ray.put(_routes(pairs).to_arrow())
                texts = rows.map_batches(
                    partial(_routed_texts, id_column=id_column, column=column, routes=routes),
                    batch_format="pyarrow",
                )
                packed_pairs = bucketed.map_batches(_packed_pairs, batch_format="pyarrow")
                return (
                    packed_pairs.union(texts)
                    .groupby(BUCKET, num_partitions=parts)
                    .map_groups(
                        partial(_score_bucket, options=options, cutoff=cutoff),
                        batch_format="pyarrow",
                    )
                )
            # Too many pairs to send: every text moves, twice.
            with_first = (
                bucketed.union(texts_under("a"))
                .groupby(BUCKET, num_partitions=parts)
                .map_groups(partial(_attach_first_texts, partitions=parts), batch_format="pyarrow")
            )
            return (
                with_first.union(texts_under("b"))
                .groupby(BUCKET, num_partitions=parts)
                .map_groups(
                    partial(_score_second, options=options, cutoff=cutoff),
                    batch_format="pyarrow",
                )
            )

        def verified_edges() -> ray.data.Dataset:
            if not pairs.count():
                return ray.data.from_arrow(pl.DataFrame(schema=_EDGES).to_arrow())
            return similarities(pairs, threshold)

        def scores(to_score: ray.data.Dataset) -> ray.data.Dataset:
            bucketed = to_score.map_batches(
                partial(_bucketed_pairs, partitions=parts), batch_format="pyarrow"
            )
            return similarities(bucketed, 0.0)

        near_edges = stages.dataset("verify", verified_edges)
    # "auto": the driver's union-find while the edges fit its bound.
    edges = copies.count() + near_edges.count()
    if components == "distributed" or (components == "auto" and edges > MAX_LOCAL_EDGES):
        return _distributed(
            rows,
            copies,
            near_edges,
            scores,
            stages=stages,
            clock=clock,
            id_column=id_column,
            column=column,
            keep=keep,
            date_column=date_column,
            partitions=parts,
            id_type=schema.field(id_column).type,
        )

    near = collect(near_edges, _EDGES)
    exact = collect(copies, _COPIES)
    clock.lap("verify")

    # 5. Components on the driver, over the rows that have an edge.
    clustered = stages.frame(
        "components",
        lambda: _components(rows, near, exact, id_column, column, keep, date_column, options),
    )
    clock.lap("components")
    if keep == "newest":
        # As thresher.dedup: clusters none of whose rows has a date keep
        # their first row, and a warning says how many.
        warn_undated(clustered, clustered["_thresher_priority"], stacklevel=2)
    return rows.map_batches(
        partial(
            _output,
            id_column=id_column,
            column=column,
            sketch_blocks=None if keep_rows else _sketch_blocks(sketched, id_column),
            clustered=ray.put(clustered.to_arrow()),
            id_type=schema.field(id_column).type,
        ),
        batch_format="pyarrow",
    )


def _bucketed_pairs(batch: pa.Table, *, partitions: int) -> pa.Table:
    """Pairs ``a``, ``b`` as stage 4's rows, bucketed by ``a``."""
    return _verify_rows(frame_of(batch).lazy().select("a", "b"), partitions, "a").to_arrow()


def _with_row_id(batch: pa.Table, *, id_column: str) -> pa.Table:
    frame = frame_of(batch)
    return frame.with_columns(pl.col(id_column).cast(pl.UInt64).alias("_thresher_id")).to_arrow()


def _undated(batch: pa.Table) -> pa.Table:
    frame = frame_of(batch)
    return pa.table({"undated": [int((frame["_thresher_priority"] == 0).sum())]})


def _distributed(
    rows: ray.data.Dataset,
    copies: ray.data.Dataset,
    near: ray.data.Dataset,
    score: Callable[[ray.data.Dataset], ray.data.Dataset],
    *,
    stages: _Stages,
    clock: _Clock,
    id_column: str,
    column: str,
    keep: Keep,
    date_column: str,
    partitions: int,
    id_type: pa.DataType,
) -> ray.data.Dataset:
    """Stages 5 to 7 with ``components="distributed"``: see
    :mod:`thresher.ray.components`; the output joins the rows with their
    cluster values instead of sending those to every task."""
    from thresher.ray import components as distributed

    clock.lap("verify")
    if not copies.count() and not near.count():
        nothing = _components_of_nothing().to_arrow()
        return rows.map_batches(
            partial(
                _output, id_column=id_column, column=column, id_type=id_type, clustered=nothing
            ),
            batch_format="pyarrow",
        )
    clustered = stages.dataset(
        "components",
        lambda: distributed.clustered(
            distributed.components(copies, near, partitions),
            rows,
            copies,
            near,
            id_column=id_column,
            column=column,
            keep=keep,
            date_column=date_column,
            partitions=partitions,
            score=score,
        ),
    )
    clock.lap("components")
    if keep == "newest":
        # The highest priority of each cluster is its representative's.
        reps = clustered.map_batches(_representative_rows, batch_format="pyarrow")
        counts = ray.get(reps.map_batches(_undated, batch_format="pyarrow").to_arrow_refs())
        # An empty block can come back as it went in, without the column.
        undated = sum(
            sum(t.column("undated").to_pylist()) for t in counts if "undated" in t.column_names
        )
        warn_undated_clusters(undated, stacklevel=3)
    joined = rows.map_batches(
        partial(_with_row_id, id_column=id_column), batch_format="pyarrow"
    ).join(clustered, "left_outer", partitions, on=("_thresher_id",))
    return joined.map_batches(
        partial(_output, id_column=id_column, column=column, id_type=id_type, clustered=None),
        batch_format="pyarrow",
    )


def _representative_rows(batch: pa.Table) -> pa.Table:
    frame = frame_of(batch)
    return frame.filter(pl.col("_thresher_id") == pl.col("cluster_id")).to_arrow()


def _components(
    rows: ray.data.Dataset,
    near: pl.DataFrame,
    exact: pl.DataFrame,
    id_column: str,
    column: str,
    keep: Keep,
    date_column: str,
    options: dict[str, Any],
) -> pl.DataFrame:
    """Stages 5 and 6: ``_thresher_id``, ``cluster_id`` (id),
    ``cluster_size``, ``is_duplicate`` and ``similarity`` of every row in a
    cluster of two or more."""
    near = near.select(pl.col("a").cast(pl.UInt64), pl.col("b").cast(pl.UInt64), "similarity")
    exact = exact.select(pl.col("id").cast(pl.UInt64), pl.col("rep").cast(pl.UInt64))
    nodes = (
        pl.concat([near["a"], near["b"], exact["id"], exact["rep"]])
        .unique()
        .sort()
        .rename("id")
        .to_frame()
        .with_row_index("row")
    )
    if nodes.height == 0:
        return _components_of_nothing()
    dense = nodes.rename({"id": "a", "row": "ra"})
    edges = pl.concat(
        [
            near.select("a", "b"),
            exact.select(pl.col("rep").alias("a"), pl.col("id").alias("b")),
        ]
    )
    edges = edges.join(dense, on="a").join(dense.rename({"a": "b", "ra": "rb"}), on="b")
    priority = None
    expr_columns = [column] if keep == "longest" else [date_column] if keep == "newest" else []
    if expr_columns:
        wanted = ray.put(nodes.select("id").to_arrow())
        values = collect(
            rows.map_batches(
                partial(_rows_of, id_column=id_column, columns=expr_columns, wanted=wanted),
                batch_format="pyarrow",
            ),
            {"id": pl.UInt64, **dict.fromkeys(expr_columns, pl.String)},
        )
        values = nodes.join(values, on="id", how="left").sort("row")
        dtype = values.schema[date_column] if keep == "newest" else None
        expr = priority_expr(keep, column, date_column, dtype)
        assert expr is not None
        priority = values.select(expr).to_series().cast(pl.Int64).rename("priority").to_frame()
    found = pl.DataFrame(
        _core.clusters(
            nodes.height,
            edges.select(pl.col("ra").alias("a"), pl.col("rb").alias("b")).__arrow_c_stream__(),
            None if priority is None else priority.__arrow_c_stream__(),
        )
    )
    ids = nodes["id"]
    members = nodes.with_columns(
        rep=ids.gather(found["representative"].cast(pl.UInt32)),
        cluster_size=found["size"],
        priority=None if priority is None else priority["priority"],
    )
    # Similarity to the representative: 1 for itself and exact copies
    # (same first row), the near edge between the two first rows where
    # there is one, else scored now.
    first_of = exact.rename({"id": "x", "rep": "first"})
    members = (
        members.join(first_of.rename({"x": "id", "first": "first_id"}), on="id", how="left")
        .join(first_of.rename({"x": "rep", "first": "first_rep"}), on="rep", how="left")
        .with_columns(
            pl.col("first_id").fill_null(pl.col("id")),
            pl.col("first_rep").fill_null(pl.col("rep")),
        )
        .with_columns(
            a=pl.min_horizontal("first_id", "first_rep"),
            b=pl.max_horizontal("first_id", "first_rep"),
        )
        .join(near, on=["a", "b"], how="left")
        .with_columns(
            pl.when(pl.col("a") == pl.col("b"))
            .then(1.0)
            .otherwise(pl.col("similarity"))
            .alias("similarity")
        )
    )
    to_score = members.filter(pl.col("similarity").is_null()).select("a", "b").unique()
    if to_score.height:
        # Few rows (members not linked to their representative by an
        # edge): their texts come to the driver.
        needed = pl.concat([to_score["a"], to_score["b"]]).unique().rename("id").to_frame()
        texts = collect(
            rows.map_batches(
                partial(
                    _texts_of,
                    id_column=id_column,
                    column=column,
                    wanted=ray.put(needed.to_arrow()),
                ),
                batch_format="pyarrow",
            ),
            {"id": pl.UInt64, "text": pl.String},
        )
        pairs = to_score.join(texts.rename({"id": "a", "text": "text_a"}), on="a").join(
            texts.rename({"id": "b", "text": "text_b"}), on="b"
        )
        scored = _scored(pairs, options, 0.0).rename({"similarity": "scored"})
        members = members.join(scored, on=["a", "b"], how="left").with_columns(
            pl.coalesce("similarity", "scored").alias("similarity")
        )
    return members.select(
        pl.col("id").alias("_thresher_id"),
        pl.col("rep").alias("cluster_id"),
        pl.col("cluster_size").cast(pl.UInt64),
        (pl.col("id") != pl.col("rep")).alias("is_duplicate"),
        pl.col("similarity"),
        pl.col("priority").cast(pl.Int64).alias("_thresher_priority"),
    )


#: The values of a clustered row, beside its id.
_INFO_SCHEMA = {
    "cluster_id": pl.UInt64,
    "cluster_size": pl.UInt64,
    "is_duplicate": pl.Boolean,
    "similarity": pl.Float64,
    "_thresher_priority": pl.Int64,
}
_INFO_COLUMNS = tuple(_INFO_SCHEMA)


def _components_of_nothing() -> pl.DataFrame:
    """What :func:`_components` gives when no row has an edge."""
    return pl.DataFrame(schema={"_thresher_id": pl.UInt64, **_INFO_SCHEMA})


def _rows_of(batch: pa.Table, *, id_column: str, columns: list[str], wanted: pa.Table) -> pa.Table:
    """``id`` and ``columns`` of the batch's rows whose id is in ``wanted``."""
    frame = frame_of(batch).select(pl.col(id_column).cast(pl.UInt64).alias("id"), *columns)
    return frame.join(frame_of(resolved(wanted)), on="id", how="semi").to_arrow()
