"""The component step on Ray Data (``components="distributed"``): clusters,
representatives and similarities without gathering the edges on one node.

1. **Components** by large-star / small-star (Kiveris et al., "Connected
   Components in MapReduce and Beyond", SoCC 2014). Each round groups the
   edges, both directions, by a hash bucket of their first node: large-star
   links each larger neighbour of a node to the node's smallest neighbour
   (or itself), small-star links each smaller neighbour of a node and the
   node to the smallest of them. Rounds stop when one leaves the edge set
   as it was (compared by count and a 64-bit hash sum); the edges are then
   stars, each row linked to its component's lowest id.
2. **Representatives**: the rows of each component (grouped by a bucket of
   the component), with what ``keep`` ranks them by, joined on id; the
   representative is the highest priority, then the lowest id, as
   ``_core.clusters`` picks it.
3. **Similarities** to the representative: 1 where the row and its
   representative have the same first row (exact copies), else the near
   edge between the two first rows (a join on the pair), else scored, the
   texts brought by the same two groupings as verification.

Every step groups or joins by hash buckets of ids; nothing grows with the
rows on the driver. The result is the one the driver's union-find gives.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import ray
import ray.data

from thresher._names import Keep
from thresher.keep import priority_expr
from thresher.ray.tables import BUCKET, bucket, frame_of


def _both_ways(edges: pl.DataFrame, partitions: int) -> pl.DataFrame:
    """Each edge ``(u, v)`` in both directions, once, without loops,
    bucketed by ``u``."""
    both = pl.concat(
        [
            edges.select(pl.col("u").cast(pl.UInt64), pl.col("v").cast(pl.UInt64)),
            edges.select(
                pl.col("v").cast(pl.UInt64).alias("u"), pl.col("u").cast(pl.UInt64).alias("v")
            ),
        ]
    )
    return both.filter(pl.col("u") != pl.col("v")).unique().with_columns(bucket("u", partitions))


def _start(batch: pa.Table, *, first: str, second: str, partitions: int) -> pa.Table:
    """The edges ``(first, second)`` of ``batch`` as rounds take them."""
    edges = frame_of(batch).select(pl.col(first).alias("u"), pl.col(second).alias("v"))
    return _both_ways(edges, partitions).to_arrow()


def _large_star(group: pa.Table, *, partitions: int) -> pa.Table:
    """Each node's larger neighbours, linked to its smallest neighbour or
    itself."""
    rows = frame_of(group).select("u", "v")
    low = rows.group_by("u").agg(pl.col("v").min().alias("m"))
    low = low.with_columns(pl.min_horizontal("m", "u").alias("m"))
    out = (
        rows.join(low, on="u")
        .filter(pl.col("v") > pl.col("u"))
        .select(pl.col("v").alias("u"), pl.col("m").alias("v"))
    )
    return _both_ways(out, partitions).to_arrow()


def _small_star(group: pa.Table, *, partitions: int) -> pa.Table:
    """Each node and its smaller neighbours, linked to the smallest of
    them."""
    rows = frame_of(group).select("u", "v")
    smaller = rows.filter(pl.col("v") < pl.col("u"))
    low = smaller.group_by("u").agg(pl.col("v").min().alias("m"))
    members = pl.concat(
        [smaller.select("u", pl.col("v").alias("x")), low.select("u", pl.col("u").alias("x"))]
    )
    out = (
        members.join(low, on="u")
        .filter(pl.col("x") != pl.col("m"))
        .select(pl.col("x").alias("u"), pl.col("m").alias("v"))
    )
    return _both_ways(out, partitions).to_arrow()


def _fingerprint(batch: pa.Table) -> pa.Table:
    frame = frame_of(batch)
    hashes = frame.select(pl.struct("u", "v").hash(seed=1) // (1 << 32)).to_series()
    return pa.table({"rows": [frame.height], "sum": [int(hashes.sum() or 0)]})


def _summed(ds: ray.data.Dataset) -> tuple[int, int]:
    tables = ray.get(ds.map_batches(_fingerprint, batch_format="pyarrow").to_arrow_refs())
    # An empty block can come back as it went in, without the columns.
    tables = [t for t in tables if "rows" in t.column_names]
    rows = sum(sum(t.column("rows").to_pylist()) for t in tables)
    total = sum(sum(t.column("sum").to_pylist()) for t in tables)
    return rows, total


def _labels(batch: pa.Table, *, partitions: int) -> pa.Table:
    """From star edges: each node's component (the lower end of its edge,
    or itself at the centre), bucketed by component."""
    frame = frame_of(batch)
    labels = frame.select(pl.col("u").alias("id"), pl.min_horizontal("u", "v").alias("comp"))
    return labels.with_columns(bucket("comp", partitions)).to_arrow()


def components(
    copies: ray.data.Dataset, near: ray.data.Dataset, partitions: int
) -> ray.data.Dataset:
    """``id`` and ``comp`` (the lowest id of its component) of every row
    with an edge: exact copies (``id``, ``rep``) or near edges (``a``,
    ``b``). Bucketed by ``comp``."""
    # A dataset of no rows is left out (a shuffle of no blocks has no
    # columns); the caller has edges in one of the two at least.
    starts = [
        ds.map_batches(
            partial(_start, first=first, second=second, partitions=partitions),
            batch_format="pyarrow",
        )
        for ds, first, second in ((copies, "id", "rep"), (near, "a", "b"))
        if ds.count()
    ]
    edges = starts[0] if len(starts) == 1 else starts[0].union(*starts[1:])
    edges = edges.materialize()
    seen = _summed(edges)
    while True:
        edges = (
            edges.groupby(BUCKET, num_partitions=partitions)
            .map_groups(partial(_large_star, partitions=partitions), batch_format="pyarrow")
            .groupby(BUCKET, num_partitions=partitions)
            .map_groups(partial(_small_star, partitions=partitions), batch_format="pyarrow")
            .materialize()
        )
        now = _summed(edges)
        if now == seen:
            break
        seen = now
    return edges.map_batches(partial(_labels, partitions=partitions), batch_format="pyarrow")


def _representatives(group: pa.Table, *, keep: Keep, column: str, date_column: str) -> pa.Table:
    """One component bucket: each row's representative and cluster size,
    and its priority (for the warning of ``keep="newest"``)."""
    rows = frame_of(group).unique("id")
    if keep == "first":
        ranked = rows.with_columns(pl.lit(None, pl.Int64).alias("priority"))
    else:
        dtype = rows.schema[date_column] if keep == "newest" else None
        expr = priority_expr(keep, column, date_column, dtype)
        assert expr is not None
        # A rank within the bucket orders as one over the whole column.
        ranked = rows.with_columns(expr.cast(pl.Int64).alias("priority"))
    best = (
        ranked.sort(["comp", "priority", "id"], descending=[False, True, False], nulls_last=True)
        .group_by("comp", maintain_order=True)
        .agg(pl.col("id").first().alias("rep"), pl.len().cast(pl.UInt64).alias("cluster_size"))
    )
    return ranked.join(best, on="comp").select("id", "rep", "cluster_size", "priority").to_arrow()


def _keyed(batch: pa.Table, *, id_column: str, columns: list[str]) -> pa.Table:
    return (
        frame_of(batch).select(pl.col(id_column).cast(pl.UInt64).alias("id"), *columns).to_arrow()
    )


def _pair_of_firsts(batch: pa.Table) -> pa.Table:
    """Each row's pair of first rows (its own, its representative's)."""
    frame = frame_of(batch)
    for name in ("first_id", "first_rep"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.UInt64).alias(name))
    frame = frame.with_columns(
        pl.col("first_id").cast(pl.UInt64).fill_null(pl.col("id")),
        pl.col("first_rep").cast(pl.UInt64).fill_null(pl.col("rep")),
    )
    return frame.with_columns(
        pl.min_horizontal("first_id", "first_rep").alias("a"),
        pl.max_horizontal("first_id", "first_rep").alias("b"),
    ).to_arrow()


def clustered(
    labels: ray.data.Dataset,
    sketched: ray.data.Dataset,
    copies: ray.data.Dataset,
    near: ray.data.Dataset,
    *,
    id_column: str,
    column: str,
    keep: Keep,
    date_column: str,
    partitions: int,
    score: Any,
) -> ray.data.Dataset:
    """``_thresher_id``, ``cluster_id``, ``cluster_size``, ``is_duplicate``,
    ``similarity`` and ``_thresher_priority`` of every row with an edge.
    ``score(pairs)`` gives the similarity of a dataset of pairs ``a``,
    ``b`` (the verification's groupings, cutoff 0)."""
    if keep != "first":
        wanted = [column] if keep == "longest" else [date_column]
        values = sketched.map_batches(
            partial(_keyed, id_column=id_column, columns=wanted), batch_format="pyarrow"
        )
        labels = labels.select_columns(["id", "comp", BUCKET]).join(
            values, "inner", partitions, on=("id",)
        )
    reps = labels.groupby(BUCKET, num_partitions=partitions).map_groups(
        partial(_representatives, keep=keep, column=column, date_column=date_column),
        batch_format="pyarrow",
    )
    # Joins with a dataset of no rows are left out (a shuffle of no
    # blocks has no columns): their columns come in as nulls.
    if copies.count():
        first_of_id = copies.rename_columns({"rep": "first_id"})
        first_of_rep = copies.rename_columns({"id": "rep", "rep": "first_rep"})
        reps = reps.join(first_of_id, "left_outer", partitions, on=("id",)).join(
            first_of_rep, "left_outer", partitions, on=("rep",)
        )
    with_firsts = reps.map_batches(_pair_of_firsts, batch_format="pyarrow")
    if near.count():
        with_firsts = with_firsts.join(
            near,
            "left_outer",
            partitions,
            on=("a", "b"),  # type: ignore[arg-type]
        )
    with_firsts = with_firsts.materialize()
    to_score = with_firsts.map_batches(_unscored, batch_format="pyarrow")
    scored = score(to_score) if to_score.count() else None
    if scored is not None:
        with_firsts = with_firsts.join(
            scored.rename_columns({"similarity": "scored"}), "left_outer", partitions, on=("a", "b")
        )
    return with_firsts.map_batches(_finished, batch_format="pyarrow")


def _unscored(batch: pa.Table) -> pa.Table:
    """The distinct pairs of first rows that no edge scores."""
    frame = _with_similarity(frame_of(batch))
    frame = frame.filter(pl.col("similarity").is_null() & (pl.col("a") != pl.col("b")))
    return frame.select("a", "b").unique().to_arrow()


def _with_similarity(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with a ``similarity`` column (nulls when no near edge was
    joined)."""
    if "similarity" in frame.columns:
        return frame
    return frame.with_columns(pl.lit(None, pl.Float64).alias("similarity"))


def _finished(batch: pa.Table) -> pa.Table:
    frame = _with_similarity(frame_of(batch))
    scored = pl.col("scored") if "scored" in frame.columns else pl.lit(None, pl.Float64)
    similarity = (
        pl.when(pl.col("a") == pl.col("b"))
        .then(1.0)
        .otherwise(pl.coalesce("similarity", scored))
        .alias("similarity")
    )
    return frame.select(
        pl.col("id").cast(pl.UInt64).alias("_thresher_id"),
        pl.col("rep").cast(pl.UInt64).alias("cluster_id"),
        pl.col("cluster_size").cast(pl.UInt64),
        (pl.col("id") != pl.col("rep")).alias("is_duplicate"),
        similarity,
        pl.col("priority").cast(pl.Int64).alias("_thresher_priority"),
    ).to_arrow()
