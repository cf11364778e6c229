"""Polars columns handed to the core as one-column Arrow C streams
(``__arrow_c_stream__``): texts and priorities."""

from __future__ import annotations

import polars as pl

from thresher.errors import InvalidOptionError


def text_stream(frame: pl.DataFrame | pl.Series, column: str) -> object:
    """The strings of ``frame[column]`` (or of a Series named ``column``)."""
    if isinstance(frame, pl.Series):
        frame = frame.to_frame()
    if column not in frame.columns:
        raise InvalidOptionError(f"column {column!r} not found; columns are {frame.columns}")
    texts = frame.select(pl.col(column))
    if texts.schema[column] not in (pl.String, pl.Null):
        raise InvalidOptionError(f"column {column!r} must hold strings, not {texts.schema[column]}")
    return texts.select(pl.col(column).cast(pl.String)).__arrow_c_stream__()


def priority_stream(priority: pl.Series) -> object:
    """A numeric Series as ``Int64`` priorities (nulls rank lowest in the core)."""
    if not isinstance(priority, pl.Series) or not priority.dtype.is_numeric():
        raise InvalidOptionError("priority must be a numeric polars Series")
    return priority.cast(pl.Int64).rename("priority").to_frame().__arrow_c_stream__()
