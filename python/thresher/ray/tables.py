"""What the Ray stages share: Arrow blocks as Polars frames, values sent
to every task, and the hash bucket the groupings go by."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import ray

#: The column every grouping goes by.
BUCKET = "_thresher_bucket"


def frame_of(batch: pa.Table) -> pl.DataFrame:
    """An Arrow block (or batch) as a Polars frame."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def resolved(value: Any) -> Any:
    """``value``, fetched from the object store if it is a reference there."""
    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


def bucket(column: str, partitions: int) -> pl.Expr:
    """The bucket (``0..partitions``) of the values of ``column``: a hash,
    the same on every node for the same value and type."""
    return (pl.col(column).hash(seed=0) % partitions).cast(pl.Int64).alias(BUCKET)
