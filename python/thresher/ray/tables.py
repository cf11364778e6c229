"""What the Ray stages share: Arrow blocks as Polars frames, small
datasets collected on the driver, values sent to every task, and the hash
bucket the groupings go by."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import ray
import ray.data

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

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


def appended(table: pa.Table, columns: pl.DataFrame) -> pa.Table:
    """``table`` with the columns of ``columns`` (as many rows) after its
    own, which are not copied (a round trip through Polars would copy every
    string)."""
    added = columns.to_arrow()
    for index, field in enumerate(added.schema):
        table = table.append_column(field, added.column(index))
    return table


def resolved(value: Any) -> Any:
    """``value``, fetched from the object store if it is a reference there."""
    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


def packed(frame: pl.DataFrame, columns: dict[str, PolarsDataType]) -> pa.Table:
    """The rows of ``frame`` as one row per bucket (:data:`BUCKET`), each of
    ``columns`` (cast to its type) a list of the bucket's values: a
    grouping then moves a few large values instead of many small rows
    (Ray Data's sort shuffle sorts and slices rows; lists are copied
    whole)."""
    return (
        frame.select(BUCKET, *(pl.col(name).cast(dtype) for name, dtype in columns.items()))
        .group_by(BUCKET)
        .agg(list(columns))
        .to_arrow()
    )


def unpacked(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows :func:`packed` packed, from the rows of ``frame`` whose
    ``columns`` are lists (not null)."""
    rows = frame.filter(pl.col(columns[0]).is_not_null()).select(columns)
    return rows.explode(columns)


def bucket(column: str, partitions: int) -> pl.Expr:
    """The bucket (``0..partitions``) of the values of ``column``: a hash,
    the same on every node for the same value and type."""
    return (pl.col(column).hash(seed=0) % partitions).cast(pl.Int64).alias(BUCKET)


#: How Ray Data moves rows to their buckets (``thresher.ray.dedup``'s ``shuffle``).
Shuffle = Literal["sort", "hash"]


@contextlib.contextmanager
def context_settings(datasets: list[ray.data.Dataset], **settings: Any) -> Iterator[None]:
    """Ray Data ``settings`` (``DataContext`` attributes) for what the block
    builds and runs, set on the contexts of ``datasets`` (which the
    datasets derived from each share; a materialized dataset has its own)
    and on the current one (that of datasets read back from Parquet), all
    restored after. A setting this Ray version does not have is left
    out."""
    from ray.data.context import DataContext

    found = [*(ds.context for ds in datasets), DataContext.get_current()]
    contexts = {id(c): c for c in found}.values()
    before = [
        (c, {name: getattr(c, name) for name in settings if hasattr(c, name)}) for c in contexts
    ]
    try:
        for context, values in before:
            for name in values:
                setattr(context, name, settings[name])
        yield
    finally:
        for context, values in before:
            for name, value in values.items():
                setattr(context, name, value)


@contextlib.contextmanager
def shuffle_strategy(datasets: list[ray.data.Dataset], shuffle: Shuffle) -> Iterator[None]:
    """Ray Data's pull-based sort shuffle for the groupings the block builds
    and runs when ``shuffle`` is ``"sort"`` (see :func:`context_settings`);
    Ray Data's configured shuffle (its hash shuffle unless told otherwise)
    for ``"hash"``."""
    from ray.data.context import ShuffleStrategy

    if shuffle == "hash":
        # Ray Data's own configured shuffle (its hash shuffle by default).
        yield
        return
    with context_settings(datasets, shuffle_strategy=ShuffleStrategy.SORT_SHUFFLE_PULL_BASED):
        yield
