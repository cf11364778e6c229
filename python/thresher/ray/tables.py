"""What the Ray stages share: Arrow blocks as Polars frames, small
datasets collected on the driver, values sent to every task, and the hash
bucket the groupings go by."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import ray
import ray.data

#: The column every grouping goes by.
BUCKET = "_thresher_bucket"


def frame_of(batch: pa.Table) -> pl.DataFrame:
    """An Arrow block (or batch) as a Polars frame."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def collect(ds: ray.data.Dataset, empty: dict[str, Any]) -> pl.DataFrame:
    """A (small) dataset on the driver, as one Polars frame; with no rows,
    an empty frame of the schema ``empty``."""
    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    if not tables:
        return pl.DataFrame(schema=empty)
    return frame_of(pa.concat_tables(tables, promote_options="permissive"))


def resolved(value: Any) -> Any:
    """``value``, fetched from the object store if it is a reference there."""
    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


def bucket(column: str, partitions: int) -> pl.Expr:
    """The bucket (``0..partitions``) of the values of ``column``: a hash,
    the same on every node for the same value and type."""
    return (pl.col(column).hash(seed=0) % partitions).cast(pl.Int64).alias(BUCKET)


#: How Ray Data moves rows to their buckets (``thresher.ray.dedup``'s ``shuffle``).
Shuffle = Literal["sort", "hash"]


@contextlib.contextmanager
def shuffle_strategy(datasets: list[ray.data.Dataset], shuffle: Shuffle) -> Iterator[None]:
    """Ray Data's pull-based sort shuffle for the groupings the block builds
    and runs when ``shuffle`` is ``"sort"``, set on the contexts of
    ``datasets`` (which the datasets derived from each share; a
    materialized dataset has its own) and on the current one (that of
    datasets read back from Parquet), all restored after; Ray Data's
    configured shuffle (its hash shuffle unless told otherwise) for
    ``"hash"``."""
    from ray.data.context import DataContext, ShuffleStrategy

    if shuffle == "hash":
        # Ray Data's own configured shuffle (its hash shuffle by default).
        yield
        return
    found = [*(ds.context for ds in datasets), DataContext.get_current()]
    contexts = {id(c): c for c in found}.values()
    before = [(c, c.shuffle_strategy) for c in contexts]
    try:
        for context, _ in before:
            context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
        yield
    finally:
        for context, strategy in before:
            context.shuffle_strategy = strategy
