"""Dumps read as Ray tasks: :func:`read_dumps` and
:func:`read_dumps_and_errors`.

The driver walks the inputs with thresher's own walk (so the files and
their order are :func:`thresher.ingest`'s). The files are then read by Ray
tasks (runs of consecutive files, four per CPU), each file by
:func:`thresher.ingest`; its records and error rows travel in one table,
told apart by a flag. Once every file is read, the
records of each file are counted (per block, summed on the driver) and
each record's ``doc_id`` becomes the count of records in the files before
its own plus its number in its file: the ``doc_id`` the local reader gives
it. A file is read by one task, whatever its size (an archive is not split by
member). The records each file skipped (web archive records that are not
documents) travel as rows of a third kind, counted like the records.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import ray
import ray.data

import thresher
from thresher import _core
from thresher.ray.tables import frame_of

#: What each row of a read task's table is: one of the three below.
_KIND = "_thresher_kind"
_RECORD, _ERROR, _SKIPPED = 0, 1, 2
#: On the rows of kind ``_SKIPPED``: the type skipped and how many.
_SKIPPED_TYPE = "_thresher_skipped_type"
_SKIPPED_COUNT = "_thresher_skipped"
#: The file number (walk order) of each row of a read task's table.
_FILE = "_thresher_file"
#: The error columns a record table lacks.
_ERROR_ONLY = ("kind", "reason")


def _read_files(batch: pa.Table, *, options: dict[str, Any]) -> pa.Table:
    """Reads the files of ``batch`` (``file``, ``path``, ``source``): their
    records, error rows and counts of skipped records in one table."""
    parts = []
    for number, path, source in zip(
        batch.column("file").to_pylist(),
        batch.column("path").to_pylist(),
        batch.column("source").to_pylist(),
        strict=True,
    ):
        read = thresher.ingest(path, **options)
        records = read.records.with_columns(
            pl.lit(source).alias("source"),
            *(pl.lit(None, pl.String).alias(name) for name in _ERROR_ONLY),
            pl.lit(_RECORD, pl.Int8).alias(_KIND),
        )
        errors = read.errors.with_columns(
            pl.lit(source).alias("source"), pl.lit(_ERROR, pl.Int8).alias(_KIND)
        )
        skipped = pl.DataFrame(
            {
                _SKIPPED_TYPE: list(read.skipped),
                _SKIPPED_COUNT: list(read.skipped.values()),
                _KIND: [_SKIPPED] * len(read.skipped),
            },
            schema={_SKIPPED_TYPE: pl.String, _SKIPPED_COUNT: pl.Int64, _KIND: pl.Int8},
        )
        rows = pl.concat([records, errors, skipped], how="diagonal_relaxed")
        parts.append(rows.with_columns(pl.lit(number, pl.Int64).alias(_FILE)))
    return pl.concat(parts, how="diagonal_relaxed").to_arrow()


def _count_records(batch: pa.Table) -> pa.Table:
    """The records of each file in ``batch`` and those it skipped, by type:
    ``_thresher_file``, ``_thresher_skipped_type`` (null for the records),
    ``count``."""
    frame = frame_of(batch)
    kind = pl.col(_KIND)
    counts = frame.group_by(_FILE, _SKIPPED_TYPE).agg(
        pl.when(kind == _RECORD)
        .then(1)
        .when(kind == _SKIPPED)
        .then(pl.col(_SKIPPED_COUNT))
        .otherwise(0)
        .sum()
        .cast(pl.Int64)
        .alias("count")
    )
    return counts.to_arrow()


def _number_records(batch: pa.Table, *, first_ids: dict[int, int], columns: list[str]) -> pa.Table:
    """Records only, with their global ``doc_id`` (``first_ids``: the first
    ``doc_id`` of each file)."""
    frame = frame_of(batch)
    offsets = pl.DataFrame(
        {_FILE: list(first_ids), "_first": list(first_ids.values())},
        schema={_FILE: pl.Int64, "_first": pl.UInt64},
    )
    records = (
        frame.filter(pl.col(_KIND) == _RECORD)
        .join(offsets, on=_FILE, how="left")
        .with_columns((pl.col("doc_id").cast(pl.UInt64) + pl.col("_first")).alias("doc_id"))
    )
    return records.select(columns).to_arrow()


def _error_rows(batch: pa.Table, *, columns: list[str]) -> pa.Table:
    """Error rows only, in the columns of :attr:`thresher.Ingest.errors`."""
    frame = frame_of(batch)
    return frame.filter(pl.col(_KIND) == _ERROR).select(columns).to_arrow()


@dataclass(frozen=True)
class ReadFacts:
    """What a read found besides its rows, for ``thresher dedup --ray``'s
    summary: the files walked (``paths`` to read, ``sources`` as records
    name them, in walk order), the records of each (by walk number) and the
    records skipped, by type (:attr:`thresher.Ingest.skipped`)."""

    paths: list[str]
    sources: list[str]
    records_per_file: dict[int, int]
    skipped: dict[str, int]


def read_dumps_and_errors(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], **ingest_options: Any
) -> tuple[ray.data.Dataset, ray.data.Dataset]:
    """:func:`read_dumps`, and the error rows :attr:`thresher.Ingest.errors`
    would hold, as a second dataset (the walk's own errors first, then each
    file's in walk order)."""
    records, errors, _ = read_with_facts(paths, **ingest_options)
    return records, errors


def read_with_facts(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], **ingest_options: Any
) -> tuple[ray.data.Dataset, ray.data.Dataset, ReadFacts]:
    """:func:`read_dumps_and_errors`, and the :class:`ReadFacts` of the read."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    inputs = [os.fspath(p) for p in paths]
    if "progress" in ingest_options:
        raise TypeError("read_dumps has no progress bar of its own: Ray Data shows one")
    # Every option is checked here, before any task starts.
    nothing = thresher.ingest([], **ingest_options)
    follow = bool(ingest_options.get("follow_symlinks", False))
    files, walk_table = _core.walk(inputs, follow)
    walk_errors = pl.DataFrame(walk_table)
    items = [
        {"file": number, "path": os.fspath(path), "source": source}
        for number, (path, source) in enumerate(files)
    ]
    facts = ReadFacts(
        paths=[os.fspath(path) for path, _ in files],
        sources=[source for _, source in files],
        records_per_file={},
        skipped={},
    )
    if not items:
        records = ray.data.from_arrow(nothing.records.to_arrow())
        return records, ray.data.from_arrow(walk_errors.to_arrow()), facts
    # Files in contiguous runs, four runs per CPU: enough tasks to balance
    # files of different sizes, few enough that a task's start-up (about
    # a second for a fresh worker) is paid rarely.
    cpus = int(ray.cluster_resources().get("CPU", 1))
    read = (
        ray.data.from_items(items, override_num_blocks=min(len(items), 4 * max(cpus, 1)))
        .map_batches(
            partial(_read_files, options=ingest_options),
            batch_size=None,
            batch_format="pyarrow",
        )
        .materialize()
    )
    counts = pl.from_arrow(
        pa.concat_tables(
            ray.get(
                read.map_batches(
                    _count_records,
                    batch_format="pyarrow",
                    batch_size=None,
                ).to_arrow_refs()
            )
        )
    )
    assert isinstance(counts, pl.DataFrame)
    skipped = (
        counts.filter(pl.col(_SKIPPED_TYPE).is_not_null())
        .group_by(_SKIPPED_TYPE)
        .agg(pl.col("count").sum())
    )
    facts.skipped.update(zip(skipped[_SKIPPED_TYPE], skipped["count"], strict=True))
    counts = (
        counts.filter(pl.col(_SKIPPED_TYPE).is_null()).group_by(_FILE).agg(pl.col("count").sum())
    )
    per_file = dict(zip(counts[_FILE].to_list(), counts["count"].to_list(), strict=True))
    facts.records_per_file.update(per_file)
    first_ids: dict[int, int] = {}
    total = 0
    for number in range(len(items)):
        first_ids[number] = total
        total += int(per_file.get(number, 0))
    records = read.map_batches(
        partial(_number_records, first_ids=first_ids, columns=nothing.records.columns),
        batch_format="pyarrow",
        batch_size=None,
    )
    errors = read.map_batches(
        partial(_error_rows, columns=nothing.errors.columns),
        batch_format="pyarrow",
        batch_size=None,
    )
    if walk_errors.height:
        errors = ray.data.from_arrow(walk_errors.to_arrow()).union(errors)
    return records, errors, facts


def read_dumps(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], **ingest_options: Any
) -> ray.data.Dataset:
    """The records :func:`thresher.ingest` reads from ``paths``, as a Ray
    dataset read by Ray tasks (runs of files), with the same ``doc_id``\\ s;
    sorted by ``doc_id`` they are :attr:`thresher.Ingest.records`, row for
    row. ``ingest_options`` are :func:`thresher.ingest`'s keyword arguments
    (``format``, the field names, ``text_unit``, ``limits``,
    ``follow_symlinks``, ``html``, ``content_types``).

    The files are read when this is called (the ``doc_id``\\ s need every
    file's count). Error rows are never dropped unseen: when there are any,
    a :class:`thresher.IngestWarning` says how many and of which kinds; use
    :func:`read_dumps_and_errors` to get them."""
    records, errors = read_dumps_and_errors(paths, **ingest_options)
    frames = [pl.from_arrow(t) for t in ray.get(errors.to_arrow_refs())]
    found = pl.concat([f for f in frames if isinstance(f, pl.DataFrame)], how="vertical_relaxed")
    if found.height:
        kinds = found.group_by("kind").len().sort("kind")
        shown = ", ".join(f"{k}: {n}" for k, n in kinds.iter_rows())
        warnings.warn(
            f"read_dumps: {found.height} error row(s) ({shown}); "
            "thresher.ray.read_dumps_and_errors returns them",
            thresher.IngestWarning,
            stacklevel=2,
        )
    return records
