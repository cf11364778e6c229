"""Dumps read as Ray tasks: :func:`read_dumps` and
:func:`read_dumps_and_errors`.

The driver walks the inputs with thresher's own walk (so the files and
their order are :func:`thresher.ingest`'s). The files are then read by Ray
tasks (runs of consecutive files, four per CPU), each run by one call of
the core's reader, as :func:`thresher.ingest` makes it, whose Arrow tables
go on as they are (a Polars frame's export would copy every text). Each
task gives three objects: its records,
its error rows, and the counts of each file (records, and records skipped
by type: web archive records that are not documents). The records' blocks
become the dataset as they are; once every file is read, each record's
``doc_id`` becomes the count of records in the runs before its own plus
its number in its run: the ``doc_id`` the local reader gives it. A file
is read by one task, whatever its size (an archive is not split by
member).
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import ray
import ray.data
from ray.data.dataset import MaterializedDataset

import thresher
from thresher import _core
from thresher.errors import ThresherError
from thresher.inputs import expand_paths
from thresher.ray.tables import collect, frame_of

#: The file number (walk order) of a read task's counts.
_FILE = "_thresher_file"
#: The run (read task) of each record of a read task's table.
_RUN = "_thresher_run"
#: Datasets whose rows are blocks in the object store already, under maps
#: that copy no text: :func:`thresher.ray.dedup` reads their texts again
#: instead of materializing a copy. With their schema where it is known
#: (a lazy dataset's ``schema()`` runs its first block).
_CHEAP_TO_READ_AGAIN: weakref.WeakKeyDictionary[ray.data.Dataset, pa.Schema | None] = (
    weakref.WeakKeyDictionary()
)


def mark_cheap_to_read_again(
    ds: ray.data.Dataset, schema: pa.Schema | None = None
) -> ray.data.Dataset:
    """Marks ``ds`` (rows already in the object store, under maps that
    copy no text and cost little) as one that :func:`thresher.ray.dedup`
    may read again instead of materializing, with its ``schema`` if
    known; returns it."""
    _CHEAP_TO_READ_AGAIN[ds] = schema
    return ds


def is_cheap_to_read_again(ds: ray.data.Dataset) -> bool:
    """Whether reading ``ds`` again costs little: it is materialized, or
    was marked by :func:`mark_cheap_to_read_again` (as :func:`read_dumps`
    marks its rows, whose blocks are in the object store already)."""
    return isinstance(ds, MaterializedDataset) or ds in _CHEAP_TO_READ_AGAIN


def known_schema(ds: ray.data.Dataset) -> pa.Schema | None:
    """The schema ``ds`` was marked with, if any."""
    return _CHEAP_TO_READ_AGAIN.get(ds)


def _read_run(
    run: list[tuple[int, str, str]], options: dict[str, Any], run_number: int
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Reads a run of files (walk number, path, source as the walk names
    it): their records (``doc_id`` numbers them within the run; the run's
    number in ``_thresher_run``), their error rows, and the counts of each
    file (``_thresher_file``, ``type``: null for the records or the type of
    the records skipped, ``count``).

    The run is read by one call of the core's reader (each call costs some
    milliseconds of thread start-up, which thousands of small files add up
    to), with :func:`thresher.ingest`'s options; the records and errors
    are then named by the walk's sources instead of the paths read."""
    paths = [path for _, path, _ in run]
    # The core's Arrow tables as they are, not through Polars frames (whose
    # export copies every text): records in the schema ingest()'s frames
    # export, which for the texts is the core's own.
    records_table, errors_table, skipped = _core.ingest(
        expand_paths(paths), thresher._ingest_options(**options)
    )
    records = pa.table(records_table).cast(_records_schema())
    read_paths = pa.array(paths, pa.large_string())
    where = pc.index_in(records.column("source"), value_set=read_paths)
    if where.null_count:
        # The core names each record by the path it was given.
        unknown = pc.unique(pc.filter(records.column("source"), pc.is_null(where)))
        raise ThresherError(f"read_dumps: records from {unknown.to_pylist()[:3]}, not a path read")
    sources = pa.array([source for _, _, source in run], pa.large_string())
    records = records.set_column(
        records.schema.get_field_index("source"), "source", sources.take(where)
    )
    per_index = pc.value_counts(where).to_pylist()
    per_path = {paths[item["values"]]: item["counts"] for item in per_index}
    names = {path: source for _, path, source in run}
    errors = pl.DataFrame(errors_table).with_columns(pl.col("source").replace(names))
    counts: dict[str, list[Any]] = {_FILE: [], "type": [], "count": []}
    for number, path, _ in run:
        counts[_FILE].append(number)
        counts["type"].append(None)
        counts["count"].append(per_path.get(path, 0))
    for kind, count in dict(skipped).items():
        counts[_FILE].append(run[0][0])
        counts["type"].append(kind)
        counts["count"].append(count)
    table = records.append_column(_RUN, pa.array([run_number] * records.num_rows, pa.int64()))
    count_table = pl.DataFrame(
        counts, schema={_FILE: pl.Int64, "type": pl.String, "count": pl.Int64}
    )
    return table, errors.to_arrow(), count_table.to_arrow()


def _records_schema() -> pa.Schema:
    """The Arrow schema of :attr:`thresher.Ingest.records` exported."""
    return thresher.ingest([]).records.to_arrow().schema


# Spread over the nodes: by default the driver's node takes the runs
# while its worker is leased, and the other nodes can stand idle.
_read_run_task = ray.remote(num_returns=3, scheduling_strategy="SPREAD")(_read_run)


def _number_records(batch: pa.Table, *, first_ids: list[int], columns: list[str]) -> pa.Table:
    """The records with their global ``doc_id`` (``first_ids``: the first
    ``doc_id`` of each run), in Arrow: the texts are not copied."""
    first = pc.take(pa.array(first_ids, pa.uint64()), batch.column(_RUN))
    ids = pc.add(batch.column("doc_id").cast(pa.uint64()), first)
    numbered = batch.set_column(batch.schema.get_field_index("doc_id"), "doc_id", ids)
    return numbered.select(columns)


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


def _runs(items: list[Any], count: int) -> list[list[Any]]:
    """``items`` in ``count`` contiguous runs of near-equal length, in order."""
    size, extra = divmod(len(items), count)
    runs, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        runs.append(items[start:end])
        start = end
    return runs


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
    facts = ReadFacts(
        paths=[os.fspath(path) for path, _ in files],
        sources=[source for _, source in files],
        records_per_file={},
        skipped={},
    )
    if not files:
        empty = ray.data.from_arrow(nothing.records.to_arrow())
        return empty, ray.data.from_arrow(walk_errors.to_arrow()), facts
    # Files in contiguous runs, four runs per CPU: enough tasks to balance
    # files of different sizes, few enough that a task's start-up (about
    # a second for a fresh worker) is paid rarely. Plain Ray tasks, each
    # giving its records, errors and counts as three objects: Ray Data
    # then takes the records' blocks as they are.
    cpus = int(ray.cluster_resources().get("CPU", 1))
    # The tasks read absolute paths: a worker's working directory is not
    # the driver's.
    here = os.getcwd()
    runs = _runs(
        [
            (number, os.path.join(here, os.fspath(path)), source)
            for number, (path, source) in enumerate(files)
        ],
        min(len(files), 4 * max(cpus, 1)),
    )
    refs: list[Any] = [
        _read_run_task.remote(run, ingest_options, number) for number, run in enumerate(runs)
    ]
    record_refs = [r[0] for r in refs]
    error_refs = [r[1] for r in refs]
    counts = pl.concat([frame_of(t) for t in ray.get([r[2] for r in refs])])
    skipped = (
        counts.filter(pl.col("type").is_not_null()).group_by("type").agg(pl.col("count").sum())
    )
    facts.skipped.update(zip(skipped["type"], skipped["count"], strict=True))
    counts = counts.filter(pl.col("type").is_null())
    per_file = dict(zip(counts[_FILE].to_list(), counts["count"].to_list(), strict=True))
    facts.records_per_file.update(per_file)
    first_ids: list[int] = []
    total = 0
    for run in runs:
        first_ids.append(total)
        total += sum(int(per_file.get(number, 0)) for number, _, _ in run)
    if total:
        # Only runs that gave records: Ray Data maps a block of no rows to
        # a block of no columns, which breaks a concatenation of blocks.
        record_refs = [
            ref
            for ref, run in zip(record_refs, runs, strict=True)
            if any(per_file.get(number, 0) for number, _, _ in run)
        ]
        number = partial(_number_records, first_ids=first_ids, columns=nothing.records.columns)
        # The blocks' schema, from a block of no rows: the schema of a
        # lazy dataset is otherwise found by running its first block.
        template = _records_schema().empty_table()
        template = template.append_column(_RUN, pa.array([], pa.int64()))
        records = mark_cheap_to_read_again(
            ray.data.from_arrow_refs(record_refs).map_batches(
                number, batch_format="pyarrow", batch_size=None
            ),
            number(template).schema,
        )
    else:
        # A map over blocks of no rows gives no blocks, and so no schema.
        records = ray.data.from_arrow(nothing.records.to_arrow())
    errors: ray.data.Dataset = ray.data.from_arrow_refs(error_refs)
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
    found = collect(errors, dict(thresher.ingest([]).errors.schema))
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
