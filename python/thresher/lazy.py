"""Dedup of a Polars ``LazyFrame`` in passes, batch by batch, never collected whole.

Each pass that needs texts runs the plan again through Polars' streaming
engine (``collect_batches``), selecting only the text column (and, for
``keep="newest"``, the date column in the first pass), and feeds the batches
to a :class:`thresher.DedupEngine`. Memory is the engine's (about 200 bytes a
row, see :mod:`thresher.engine`), the result columns' (about 70 bytes a row),
the priorities' (8 bytes a row, and the dates while they are ranked) and a
few batches of texts in flight. The plan must give the same rows in the same order
every time it runs (a scan of files does; an unordered ``group_by`` does not).
The result equals :func:`thresher.dedup` of the collected frame, whatever the
batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import polars as pl

from thresher._names import Keep
from thresher.errors import InvalidOptionError
from thresher.keep import check_keep, priority_expr
from thresher.progress import Reporter, RowProgress

if TYPE_CHECKING:
    from thresher.engine import DedupEngine

#: Rows per batch when a LazyFrame is read, unless told otherwise.
BATCH_SIZE = 65_536


def text_schema(lazy: pl.LazyFrame, column: str) -> pl.Schema:
    """The plan's schema, after checking that ``column`` holds strings."""
    schema = lazy.collect_schema()
    if column not in schema:
        raise InvalidOptionError(f"column {column!r} not found; columns are {schema.names()}")
    if schema[column] not in (pl.String, pl.Null):
        raise InvalidOptionError(f"column {column!r} must hold strings, not {schema[column]}")
    return schema


def check_batch_size(batch_size: int) -> int:
    """``batch_size``, or :class:`InvalidOptionError` when it is below 1."""
    if batch_size < 1:
        raise InvalidOptionError("batch_size must be at least 1")
    return batch_size


def batches(lazy: pl.LazyFrame, columns: list[str], batch_size: int) -> Iterator[pl.DataFrame]:
    """The plan's ``columns``, streamed in order in frames of about ``batch_size`` rows."""
    plan = lazy.select(columns)
    chunk_size = check_batch_size(batch_size)
    return plan.collect_batches(chunk_size=chunk_size, maintain_order=True, engine="streaming")


def feed(
    lazy: pl.LazyFrame,
    column: str,
    batch_size: int,
    sink: Callable[[pl.Series], None],
    rows: RowProgress | None = None,
) -> None:
    """Hands the texts of ``column`` to ``sink``, batch by batch (counting
    them in ``rows``)."""
    for batch in batches(lazy, [column], batch_size):
        sink(batch[column])
        if rows is not None:
            rows.advance(batch.height)


def sketch(
    engine: DedupEngine,
    lazy: pl.LazyFrame,
    column: str,
    batch_size: int,
    keep: Keep = "first",
    date_column: str = "date",
    rows: RowProgress | None = None,
) -> pl.Series | None:
    """Adds the sketches of every row to ``engine``; returns the priorities of
    ``keep`` (``None`` for ``"first"``), computed from the same batches: text
    lengths batch by batch, or the rank of the dates gathered from them.
    Each batch is counted in ``rows``."""
    schema = lazy.collect_schema()
    check_keep(keep, schema.names(), date_column)
    wanted = [column] if keep != "newest" else [column, date_column]
    expr = priority_expr(keep, column, date_column, None) if keep == "longest" else None
    parts: list[pl.Series] = []
    for batch in batches(lazy, wanted, batch_size):
        engine.add(engine.sketch(batch[column]))
        if expr is not None:
            parts.append(batch.select(expr).to_series())
        elif keep == "newest":
            parts.append(batch[date_column])
        if rows is not None:
            rows.advance(batch.height)
    if keep == "first":
        return None
    gathered = pl.concat(parts) if parts else pl.Series(column, [], dtype=pl.Int64)
    if keep == "longest":
        return gathered
    newest = priority_expr(keep, column, date_column, schema[date_column])
    assert newest is not None
    return gathered.to_frame(date_column).select(newest).to_series()


def dedup(
    engine: DedupEngine,
    lazy: pl.LazyFrame,
    column: str,
    keep: Keep,
    date_column: str,
    batch_size: int,
    rows: RowProgress | None = None,
) -> tuple[pl.DataFrame, pl.Series | None]:
    """The result columns of :func:`thresher.dedup` over ``lazy`` from a new
    ``engine``, in its passes, and the priorities used. ``rows`` shows each
    pass that reads the texts (``sketch``, ``verify``, ``score``)."""
    text_schema(lazy, column)
    rows = rows if rows is not None else RowProgress(Reporter())
    with rows.stage("sketch", "dedup: sketch"):
        priority = sketch(engine, lazy, column, batch_size, keep, date_column, rows)
    if engine.find_candidates(priority):
        with rows.stage("verify", "dedup: verify"):
            feed(lazy, column, batch_size, engine.verify, rows)
    if engine.cluster(priority):
        with rows.stage("score", "dedup: score"):
            feed(lazy, column, batch_size, engine.score, rows)
    return engine.result(), priority


def similar_pairs(
    engine: DedupEngine, lazy: pl.LazyFrame, column: str, batch_size: int
) -> pl.DataFrame:
    """The edges of :func:`thresher.similar_pairs` over ``lazy`` from a new
    ``engine``, in passes."""
    text_schema(lazy, column)
    sketch(engine, lazy, column, batch_size)
    if engine.find_candidates():
        feed(lazy, column, batch_size, engine.verify)
    return engine.verified_edges()
