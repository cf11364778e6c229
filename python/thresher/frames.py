"""Inputs of every kind, seen as Polars, and results handed back in the kind given.

The functions that take texts (:func:`thresher.dedup`, :func:`thresher.similar_pairs`,
:func:`thresher.minhash`, the passes of :class:`thresher.DedupEngine`) accept:

- a Polars ``DataFrame``, ``LazyFrame`` or ``Series``;
- a pandas ``DataFrame`` or ``Series``;
- a pyarrow ``Table``, ``RecordBatch``, ``RecordBatchReader``, ``ChunkedArray``
  or ``Array``;
- any other object with ``__arrow_c_stream__`` (the Arrow PyCapsule stream
  interface): a stream of structs is a frame, any other stream a series.

A frame's texts are its ``column``; a series is the texts itself. pandas and
pyarrow are optional: they are never imported here, and an object is only
taken for one of theirs when its module is already loaded (which it must be,
for such an object to exist). Anything else raises :class:`TypeError`.

Eager inputs become Polars without copying where Arrow allows; of a pandas or
Arrow frame only the columns needed are converted. A ``LazyFrame`` is never
collected whole: :mod:`thresher.lazy` runs it batch by batch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast

import polars as pl

from thresher.errors import InvalidOptionError

#: What the functions that take texts accept, for error messages.
ACCEPTED = (
    "a Polars DataFrame, LazyFrame or Series; a pandas DataFrame or Series; "
    "a pyarrow Table, RecordBatch, RecordBatchReader, ChunkedArray or Array; "
    "or any object with __arrow_c_stream__"
)

#: Where an input came from: decides the kind of the results.
Origin = Literal["polars", "pandas", "arrow", "stream"]


def type_name(value: object) -> str:
    """``module.qualname`` of the type of ``value`` (``builtins.list``)."""
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def rejected(value: object, who: str) -> TypeError:
    """The :class:`TypeError` for an input of a kind no function takes."""
    hint = ""
    if isinstance(value, (list, tuple, str)) or type_name(value) == "numpy.ndarray":
        hint = " (wrap texts in pl.Series(...) first)"
    return TypeError(f"{who}() got a {type_name(value)}{hint}; it takes {ACCEPTED}")


def _loaded(module: str) -> Any | None:
    """The module if it is imported already, else ``None`` (never imports it)."""
    return sys.modules.get(module)


def _module(name: str) -> Any:
    """A module an input came from, so loaded already (untyped: pandas and
    pyarrow are optional, and so are their type stubs)."""
    return sys.modules[name]


@dataclass(frozen=True)
class Source:
    """An eager input seen as Polars.

    Attributes:
        origin: the library the input came from.
        value: the input as given.
        series: whether it is series-like (the texts itself).
        columns: the input's column names (a series: its name, or ``column``).
        frame: the columns needed, as Polars; a series is the column ``column``.
        column: the name of the text column in ``frame``.
    """

    origin: Origin
    value: object
    series: bool
    columns: list[str]
    frame: pl.DataFrame
    column: str

    @property
    def texts(self) -> pl.Series:
        """The texts, as a Polars Series."""
        return self.frame[self.column]

    def rows_with(self, result: pl.DataFrame) -> Any:
        """The input's rows with ``result``'s columns appended, in the input's
        kind: Polars for Polars and Arrow C streams, a pandas DataFrame for
        pandas (index kept), a pyarrow Table for pyarrow."""
        if self.origin == "pandas":
            return _pandas_rows_with(self, result)
        if self.origin == "arrow":
            return _arrow_rows_with(self, result)
        # Polars, or an Arrow C stream (read once: ``frame`` holds all of it).
        base = self.frame.rename({self.column: self.columns[0]}) if self.series else self.frame
        return pl.concat([base, result], how="horizontal")

    def table(self, result: pl.DataFrame) -> Any:
        """A table of results that are not rows of the input (edges): pandas for
        pandas input, else Polars."""
        if self.origin == "pandas":
            return _to_pandas(result)
        return result


def read(
    value: object,
    who: str,
    column: str,
    needed: Iterable[str] = (),
    *,
    series_only: bool = False,
) -> Source | pl.LazyFrame:
    """``value`` as a :class:`Source`, or the LazyFrame itself (its column is
    checked by the caller, which streams it).

    ``needed`` names columns other than ``column`` that are converted too (the
    date column of ``keep="newest"``) when present. A frame without ``column``
    raises :class:`InvalidOptionError`; a frame where ``series_only``, or a
    value of any other kind, :class:`TypeError` naming it.
    """
    wanted = [column, *(c for c in needed if c != column)]
    if series_only and _is_frame(value):
        raise TypeError(f"{who}() takes a series, not a {type_name(value)}")
    if isinstance(value, pl.LazyFrame):
        return value
    if isinstance(value, pl.DataFrame):
        _check_column(value.columns, column)
        return Source("polars", value, False, value.columns, value, column)
    if isinstance(value, pl.Series):
        name = value.name or column
        return Source("polars", value, True, [name], value.rename(column).to_frame(), column)
    pandas = _loaded("pandas")
    if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
        return _from_pandas(value, pandas, column, wanted)
    pyarrow = _loaded("pyarrow")
    if pyarrow is not None and isinstance(value, _arrow_kinds(pyarrow)):
        return _from_arrow(value, pyarrow, column, wanted)
    if hasattr(value, "__arrow_c_stream__"):
        frame, series = _stream_frame(value, column)
        if series_only and not series:
            raise TypeError(f"{who}() takes a series, not a stream of structs ({type_name(value)})")
        _check_column(frame.columns, column)
        return Source("stream", value, series, frame.columns, frame, column)
    raise rejected(value, who)


def _arrow_kinds(pyarrow: Any) -> tuple[type, ...]:
    return (
        pyarrow.Table,
        pyarrow.RecordBatch,
        pyarrow.RecordBatchReader,
        pyarrow.ChunkedArray,
        pyarrow.Array,
    )


def _is_frame(value: object) -> bool:
    """Whether ``value`` is a frame of a known library (not an Arrow C stream,
    which says so only when read)."""
    if isinstance(value, (pl.DataFrame, pl.LazyFrame)):
        return True
    pandas = _loaded("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return True
    pyarrow = _loaded("pyarrow")
    kinds = (
        () if pyarrow is None else (pyarrow.Table, pyarrow.RecordBatch, pyarrow.RecordBatchReader)
    )
    return isinstance(value, kinds)


def read_series(value: object, who: str, column: str = "text") -> pl.Series:
    """The texts of an eager input (a frame's ``column``, or a series) as Polars."""
    source = read(value, who, column)
    if isinstance(source, pl.LazyFrame):
        raise TypeError(f"{who}() takes no LazyFrame here; collect it, or stream it in batches")
    return source.texts


def read_values(value: object, who: str) -> pl.Series:
    """A series-like input (not a frame) as a Polars Series (priorities)."""
    source = read(value, who, "values", series_only=True)
    assert isinstance(source, Source) and source.series
    return source.texts


def read_frame(value: object, who: str) -> pl.DataFrame:
    """A frame-like input (not a LazyFrame) whole, as a Polars DataFrame
    (sketches, edges)."""
    if isinstance(value, pl.DataFrame):
        return value
    if isinstance(value, (pl.Series, pl.LazyFrame)):
        raise TypeError(f"{who}() takes a frame, not a {type_name(value)}; {ACCEPTED}")
    pandas = _loaded("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return pl.from_pandas(value)
    pyarrow = _loaded("pyarrow")
    if pyarrow is not None and isinstance(value, (pyarrow.Table, pyarrow.RecordBatch)):
        return pl.DataFrame(pl.from_arrow(value))
    if pyarrow is not None and isinstance(value, pyarrow.RecordBatchReader):
        return pl.DataFrame(pl.from_arrow(value.read_all()))
    if hasattr(value, "__arrow_c_stream__"):
        frame, series = _stream_frame(value, "value")
        if not series:
            return frame
    raise rejected(value, who)


def _check_column(columns: list[str], column: str) -> None:
    if column not in columns:
        raise InvalidOptionError(f"column {column!r} not found; columns are {columns}")


def _from_pandas(value: Any, pandas: Any, column: str, wanted: list[str]) -> Source:
    if isinstance(value, pandas.Series):
        name = column if value.name is None else str(value.name)
        texts = cast(pl.Series, _pandas_to_polars(value, column)).rename(column)
        return Source("pandas", value, True, [name], texts.to_frame(), column)
    columns = [str(c) for c in value.columns]
    _check_column(columns, column)
    present = [c for c in wanted if c in value.columns]
    frame = cast(pl.DataFrame, _pandas_to_polars(value[present], column))
    return Source("pandas", value, False, columns, frame, column)


def _pandas_to_polars(value: Any, column: str) -> pl.DataFrame | pl.Series:
    """pandas data as Polars; values of mixed types (an object column of
    strings and numbers) raise :class:`InvalidOptionError`."""
    try:
        return pl.from_pandas(value.reset_index(drop=True))
    except (TypeError, ValueError, pl.exceptions.PolarsError) as error:
        raise InvalidOptionError(
            f"column {column!r} of the pandas input does not convert to Arrow "
            f"(values of mixed types?): {error}"
        ) from error


def _from_arrow(value: Any, pyarrow: Any, column: str, wanted: list[str]) -> Source:
    if isinstance(value, (pyarrow.ChunkedArray, pyarrow.Array)):
        texts = pl.Series(column, value)
        return Source("arrow", value, True, [column], texts.to_frame(), column)
    if isinstance(value, pyarrow.RecordBatchReader):
        # A stream is read once; dedup needs its texts in several passes.
        value = value.read_all()
    if isinstance(value, pyarrow.RecordBatch):
        value = pyarrow.Table.from_batches([value])
    _check_column(value.column_names, column)
    present = [c for c in wanted if c in value.column_names]
    frame = pl.DataFrame(pl.from_arrow(value.select(present)))
    return Source("arrow", value, False, list(value.column_names), frame, column)


def _stream_frame(value: Any, column: str) -> tuple[pl.DataFrame, bool]:
    """An ``__arrow_c_stream__`` object as a frame, and whether it was a series
    (a stream of anything but structs, named ``column``)."""
    stream = pl.Series(value)
    if stream.dtype == pl.Struct:
        return stream.struct.unnest(), False
    return stream.rename(column).to_frame(), True


def _to_pandas(frame: pl.DataFrame, index: Any = None) -> Any:
    """A Polars frame of plain columns as pandas, integers with nulls as pandas'
    nullable integers (not floats), without needing pyarrow."""
    pandas = _module("pandas")
    columns: dict[str, Any] = {}
    for name, values in frame.to_dict().items():
        if values.dtype.is_integer() and values.null_count():
            columns[name] = pandas.arrays.IntegerArray(
                values.fill_null(0).to_numpy(), values.is_null().to_numpy()
            )
        elif values.dtype == pl.String:
            columns[name] = values.to_numpy().astype(object)
        else:
            columns[name] = values.to_numpy()
    return pandas.DataFrame(columns, index=index)


def _pandas_rows_with(source: Source, result: pl.DataFrame) -> Any:
    pandas = _module("pandas")
    value: Any = source.value
    base = value.to_frame(name=source.columns[0]) if source.series else value
    return pandas.concat([base, _to_pandas(result, index=base.index)], axis=1)


def _arrow_rows_with(source: Source, result: pl.DataFrame) -> Any:
    pyarrow = _module("pyarrow")
    value: Any = source.value
    if source.series:
        table = pyarrow.table({source.columns[0]: value})
    elif isinstance(value, pyarrow.RecordBatch):
        table = pyarrow.Table.from_batches([value])
    else:
        table = value
    for name in result.columns:
        table = table.append_column(
            name, result[name].to_arrow(compat_level=pl.CompatLevel.oldest())
        )
    return table
