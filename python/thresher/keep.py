"""Which row a cluster keeps: the priorities of ``keep=`` and the warning for
``keep="newest"`` without dates.

A priority is computed row by row for ``"longest"``, so a stream can compute
it batch by batch; ``"newest"`` ranks the whole date column (dates only, not
the texts), so that any sortable type works: ISO strings, dates, datetimes and
numbers.
"""

from __future__ import annotations

import warnings

import polars as pl

from thresher._names import Keep
from thresher.errors import InvalidOptionError


class KeepWarning(UserWarning):
    """``keep="newest"`` could not apply to some clusters: none of their rows has
    a date, so they keep their first row."""


def priority_expr(keep: Keep, column: str, date_column: str, date_dtype: object) -> pl.Expr | None:
    """The priority of ``keep`` as an expression over the text ``column`` or the
    ``date_column`` (of type ``date_dtype``); ``None`` for ``"first"``.
    ``"longest"`` is row by row; ``"newest"`` ranks the whole column."""
    if keep == "first":
        return None
    if keep == "longest":
        return pl.col(column).cast(pl.String).str.len_chars().fill_null(0).cast(pl.Int64)
    if keep == "newest":
        dates = pl.col(date_column)
        if date_dtype == pl.String:
            # ISO 8601 strings sort in time order; "" counts as missing.
            dates = dates.replace("", None)
        return dates.rank("dense").fill_null(0).cast(pl.Int64)
    raise InvalidOptionError(f'keep must be "first", "longest" or "newest", got {keep!r}')


def check_keep(keep: Keep, columns: list[str], date_column: str) -> None:
    """Raises :class:`InvalidOptionError` for an unknown ``keep``, or for
    ``"newest"`` without ``date_column``, before any work starts."""
    if keep not in ("first", "longest", "newest"):
        raise InvalidOptionError(f'keep must be "first", "longest" or "newest", got {keep!r}')
    if keep == "newest" and date_column not in columns:
        raise InvalidOptionError(f'keep="newest" needs a {date_column!r} column')


def frame_priority(
    frame: pl.DataFrame, keep: Keep, column: str, date_column: str
) -> pl.Series | None:
    """:func:`priority_expr` over a Polars frame holding the columns it needs."""
    check_keep(keep, frame.columns, date_column)
    dtype = frame.schema[date_column] if keep == "newest" else None
    expr = priority_expr(keep, column, date_column, dtype)
    return None if expr is None else frame.select(expr).to_series()


def warn_undated(columns: pl.DataFrame, priority: pl.Series, stacklevel: int) -> int:
    """Warns with :class:`KeepWarning` when clusters of ``keep="newest"``
    (``cluster_id``, ``cluster_size`` in ``columns``) have no row with a date
    (``priority`` 0); returns how many."""
    undated = (
        columns.select("cluster_id", "cluster_size")
        .with_columns(priority.alias("priority"))
        .filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(pl.col("priority").max())
        .filter(pl.col("priority") == 0)
        .height
    )
    warn_undated_clusters(undated, stacklevel + 1)
    return undated


def warn_undated_clusters(undated: int, stacklevel: int) -> None:
    """Warns with :class:`KeepWarning` that ``undated`` clusters (if any)
    of ``keep="newest"`` have no row with a date and keep their first row."""
    if undated:
        warnings.warn(
            f'keep="newest": {undated} cluster(s) of duplicates have no row with a date; '
            "each keeps its first row",
            KeepWarning,
            stacklevel=stacklevel + 1,
        )
