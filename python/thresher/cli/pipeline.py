"""The phases of ``thresher dedup`` and ``thresher scan``, with their checkpoints.

``dedup`` holds no more of the corpus's text than its ``--memory`` budget,
and parses its inputs once. Pass 1 scans them, streaming batches of
``batch_size`` records in ``doc_id`` order, and spools every batch's records
(all columns, see :meth:`WorkDir.write_spool
<thresher.cli.workdir.WorkDir.write_spool>`: held in memory while the budget
lasts, else written into the work directory as Arrow IPC); the later passes
read the spool, never the inputs:

1. **sketch**: exact key, flags and LSH band keys of every record
   (:meth:`DedupEngine.sketch`), written as one chunk per batch to the work
   directory and added to the engine (``16 + 2 + 8 * bands + 4`` bytes per
   record with the first copy of its text, found next; 190 at the
   defaults), with the ``--keep`` priority (8 bytes); and the batch spooled;
2. **verify**: only when LSH found candidate pairs: the spooled texts, for
   the engine to verify them (it holds a shingle set, 8 bytes per distinct
   shingle, only for records whose candidate partner is still to come), and
   to score ahead each record of a group of three or more candidates with
   the group's likely representative;
3. **cluster**: union-find and representatives; a read of the spool's
   batches holding records that still need their similarity to their
   representative (linked to it indirectly, in a group that verification
   split); the cluster fields of every record (about 100 bytes) are held
   from here on;
4. **write**: the spooled records again, each batch joined with its cluster
   fields and streamed straight into ``kept.parquet`` or
   ``duplicates.parquet`` (:class:`thresher._core.ParquetSink`: row
   groups encoded in parallel, up to ``--threads`` per file), under
   temporary names; then the spool is deleted.

Disk: the work directory holds, besides small checkpoints (about 100 bytes
per record), the spool, about the size of the text compressed with the
spool's codec (:data:`~thresher.cli.workdir.SPOOL_COMPRESSION`), until pass
4 ends, then the outputs being written.

Every phase's result is checkpointed in ``DIR/.thresher-work`` (see
:mod:`thresher.cli.workdir`), so a killed run started again with the same
arguments continues where it stopped and ends with the same outputs (a
killed pass 4 starts over from the spool).
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl

import thresher
from thresher import _core
from thresher._names import DEFAULT_FIELDS, FieldOptions
from thresher.cli.error_groups import errors_by_kind, files_without_records, group_errors
from thresher.cli.outputs import (
    ROW_GROUP_ROWS,
    IpcCodec,
    OutputError,
    atomic,
    publish,
    remove_stale_temporaries,
    write_checkpoint,
    write_json,
    write_parquet,
)
from thresher.cli.workdir import (
    SPOOL_COMPRESSION,
    WORK_DIR_NAME,
    WorkDir,
    WorkLock,
    default_spool_memory,
    input_fingerprint,
)
from thresher.errors import ThresherError
from thresher.progress import Phase, Reporter

__all__ = [
    "DEDUP_COLUMNS",
    "NO_DATE",
    "OUTPUT_FILES",
    "RECORD_COLUMNS",
    "DedupOptions",
    "DedupRun",
    "OutputSinks",
    "Scanned",
    "cluster_table",
    "clusters_without_dates",
    "date_priority",
    "empty_output",
    "holding_work_lock",
    "open_run",
    "run_dedup",
    "run_scan",
    "sample_columns",
    "sample_rows",
]

#: Columns of every record, as :func:`thresher.scan` yields them.
RECORD_COLUMNS = [
    "doc_id",
    "source",
    "member",
    "offset",
    "part",
    "format",
    "title",
    "text",
    "id",
    "url",
    "date",
    "meta",
    "invalid_utf8",
]
#: Columns added to the records in ``kept.parquet`` and ``duplicates.parquet``.
DEDUP_COLUMNS = ["exact_key", "cluster_id", "cluster_size", "duplicate_of", "similarity", "exact"]
#: The files ``thresher dedup`` writes into its output directory.
OUTPUT_FILES = [
    "kept.parquet",
    "duplicates.parquet",
    "clusters.parquet",
    "errors.parquet",
    "report.html",
    "summary.json",
]
_SKETCH_COLUMNS = ["exact_key", "has_content", "has_shingles", "band_keys"]
#: Priority of a record without a date under ``--keep newest``: it loses to any date.
NO_DATE = -(2**62)
#: Clusters shown with sample texts in the report, and members shown per cluster.
_SAMPLE_CLUSTERS = 6
_SAMPLE_MEMBERS = 3
_SAMPLE_CHARS = 1500
#: Batches that may wait for each output sink in pass 4 (memory against
#: the two sinks' threads idling).
_QUEUED_PER_SINK = 2


def _default_names(option: str) -> list[str]:
    """The default names of field option ``option``, as a list."""
    return list(DEFAULT_FIELDS[option])


@dataclass(frozen=True)
class DedupOptions:
    """Options of ``thresher dedup``; all but ``threads`` go into the resume manifest."""

    threshold: float = 0.8
    ngram: int = 5
    num_perm: int = 128
    seed: int = thresher.DEFAULT_SEED
    verify: str = "exact"
    format: str = "auto"
    #: The field options (``text_field`` ... ``date_field``): names tried in
    #: order, ``[]`` for a field turned off.
    text_field: list[str] = field(default_factory=lambda: _default_names("text_field"))
    title_field: list[str] = field(default_factory=lambda: _default_names("title_field"))
    id_field: list[str] = field(default_factory=lambda: _default_names("id_field"))
    url_field: list[str] = field(default_factory=lambda: _default_names("url_field"))
    date_field: list[str] = field(default_factory=lambda: _default_names("date_field"))
    keep: str = "first"
    batch_size: int = 16_384
    follow_symlinks: bool = False
    html: str | None = None
    content_types: str | None = None
    threads: int | None = field(default=None, compare=False)
    #: Codec of the spool (``--spool-compression``); any codec is read back,
    #: so a resumed run may use another.
    spool_compression: IpcCodec = field(default=SPOOL_COMPRESSION, compare=False)
    #: Bytes of spooled batches held in memory instead of written
    #: (``--memory``); ``None`` for :func:`default_spool_memory`.
    spool_memory: int | None = field(default=None, compare=False)

    def reader_options(self) -> dict[str, Any]:
        """The options that decide which records the inputs give (the
        keyword arguments :func:`thresher.scan` and :func:`thresher.ingest`
        share)."""
        return {
            "format": self.format,
            "text_field": self.text_field,
            "title_field": self.title_field,
            "id_field": self.id_field,
            "url_field": self.url_field,
            "date_field": self.date_field,
            "follow_symlinks": self.follow_symlinks,
            "html": self.html,
            "content_types": self.content_types,
        }

    def parameters(self) -> dict[str, Any]:
        """The options that decide the result (not ``threads``,
        ``spool_compression`` nor ``spool_memory``)."""
        params = asdict(self)
        params.pop("threads")
        params.pop("spool_compression")
        params.pop("spool_memory")
        return params


def date_priority(dates: pl.Series) -> pl.Series:
    """``--keep newest`` priority: seconds since 1970 of an ISO date or timestamp
    (its first 19 characters; a zone suffix is ignored); missing, empty or
    unreadable dates get the lowest priority. A date or datetime column is
    taken as it is. Computed per batch, so that it streams
    (:func:`thresher.dedup` ranks the whole column instead; the two differ
    only between dates within the same second)."""
    if dates.dtype.is_temporal() and dates.dtype != pl.Time and dates.dtype != pl.Duration:
        stamps = dates.cast(pl.Datetime("us")).dt.epoch("s")
        return stamps.fill_null(NO_DATE).cast(pl.Int64).rename("priority")
    text = dates.cast(pl.String).str.strip_chars().str.replace(" ", "T").str.slice(0, 19)
    stamp = text.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
    day = text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    combined = stamp.fill_null(day.cast(pl.Datetime("us")))
    return combined.dt.epoch("s").fill_null(NO_DATE).cast(pl.Int64).rename("priority")


def _priority(frame: pl.DataFrame, keep: str) -> pl.Series:
    if keep == "longest":
        return cast(pl.Series, thresher.keep_priority(frame, "longest")).rename("priority")
    if keep == "newest":
        return date_priority(frame["date"])
    return pl.Series("priority", [0] * frame.height, dtype=pl.Int64)


def _engine(options: DedupOptions) -> thresher.DedupEngine:
    return thresher.DedupEngine(
        threshold=options.threshold,
        ngram=options.ngram,
        num_perm=options.num_perm,
        seed=options.seed,
        verify=options.verify,  # type: ignore[arg-type]
    )


def cluster_table(result: pl.DataFrame) -> pl.DataFrame:
    """One row per cluster of more than one record: ``cluster_id``, ``size``,
    ``representative_doc_id``, ``exact_duplicates``, ``near_duplicates`` and
    ``min_similarity`` (lowest similarity of a member to the representative)."""
    dup = pl.col("is_duplicate")
    return (
        result.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(
            size=pl.len().cast(pl.UInt64),
            representative_doc_id=pl.col("doc_id").filter(~dup).first(),
            exact_duplicates=(dup & pl.col("exact")).sum().cast(pl.UInt64),
            near_duplicates=(dup & ~pl.col("exact")).sum().cast(pl.UInt64),
            min_similarity=pl.col("similarity").filter(dup).min(),
        )
        .sort("cluster_id")
    )


def clusters_without_dates(result: pl.DataFrame) -> int:
    """Clusters of more than one record none of whose members has a readable
    date, where ``--keep newest`` could only keep the lowest ``doc_id``; 0
    when ``result`` has no ``dated`` column (another keep policy)."""
    if "dated" not in result.columns:
        return 0
    undated = (
        result.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(pl.col("dated").any())
        .filter(~pl.col("dated"))
    )
    return undated.height


def sample_rows(result: pl.DataFrame, clusters: pl.DataFrame) -> pl.Series:
    """doc_ids of the records shown in the report: the largest clusters'
    representatives and their least similar members."""
    top = clusters.sort(["size", "cluster_id"], descending=[True, False]).head(_SAMPLE_CLUSTERS)
    members = (
        result.filter(pl.col("cluster_id").is_in(top["cluster_id"].implode()))
        .sort(["cluster_id", "is_duplicate", "exact", "similarity", "doc_id"])
        .group_by("cluster_id", maintain_order=True)
        .head(_SAMPLE_MEMBERS + 1)
    )
    return members["doc_id"]


def _batches(scan: thresher.Scan) -> Iterator[pl.DataFrame]:
    """The batches of ``scan`` that hold records. A scan whose inputs give
    only errors yields one empty batch: every pass skips it alike, so batch
    ``i`` is the same batch in each."""
    return (frame for frame in scan if frame.height)


def _read_ahead(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """``frames``, the next one read on another thread (GIL released) while
    the caller works on this one: batches of the spool. (The scan's batches
    are read ahead by :class:`thresher.Scan` itself.)"""
    with ThreadPoolExecutor(1, thread_name_prefix="thresher-read") as pool:
        ahead = pool.submit(next, frames, None)
        while (frame := ahead.result()) is not None:
            ahead = pool.submit(next, frames, None)
            yield frame
            # Dropped before the next batch is taken, not after.
            del frame


class _SpoolProgress:
    """The progress of a pass over the spool: records read out of the total."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.records = 0

    @property
    def progress(self) -> dict[str, int]:
        return {"records": self.records, "records_total": self.total}


@dataclass
class Scanned:
    batches: int
    rows: int
    progress: dict[str, int]
    skipped: dict[str, int]
    files_without_records: list[str]


class DedupRun:
    def __init__(
        self, inputs: list[str], out: Path, options: DedupOptions, reporter: Reporter
    ) -> None:
        self.inputs = inputs
        self.out = out
        self.options = options
        self.reporter = reporter
        memory = options.spool_memory
        self.work = WorkDir(
            out,
            options.spool_compression,
            default_spool_memory() if memory is None else memory,
        )
        self.timings: dict[str, float] = {}
        self.priorities: list[pl.Series] = []
        #: The sources of the files the scan reads, as the manifest lists them.
        self.walked: list[str] = []
        #: Records the first pass read: the total the later passes count to.
        self.records_total: int | None = None
        #: Batches the first pass read (and spooled).
        self.batches = 0

    def scan(self) -> thresher.Scan:
        o = self.options
        return thresher.scan(self.inputs, o.batch_size, threads=o.threads, **o.reader_options())

    def spooled(self, phase: Phase, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
        """The batches pass 1 spooled, in order (only ``columns``, if given),
        with ``phase`` showing the records read out of the total. The next
        batch is read (GIL released) while the caller works on this one."""
        counter = _SpoolProgress(self.records_total or 0)
        phase.watch(counter)
        batches = (self.work.read_spool(index, columns) for index in range(self.batches))
        for frame in _read_ahead(batches):
            yield frame
            counter.records += frame.height
            # Dropped before the next batch is taken, not after.
            del frame

    def feed_texts(self, phase: Phase, feed: Callable[[pl.Series], None]) -> None:
        """The spooled texts, batch by batch, handed to ``feed`` (an engine
        pass), with ``phase`` showing its progress."""
        for frame in self.spooled(phase, ["text"]):
            feed(frame["text"])

    def feed_texts_of_rows(
        self, phase: Phase, feed: Callable[[pl.Series], None], rows: list[int]
    ) -> int:
        """:meth:`feed_texts` for a pass that reads only the texts of
        ``rows`` (ascending): a batch holding none of them is not read, and
        ``feed`` gets as many empty texts instead. Returns the batches read."""
        counter = _SpoolProgress(self.records_total or 0)
        phase.watch(counter)
        start = read = 0
        for index in range(self.batches):
            height = self.work.spooled_rows(index)
            if height is None:
                raise ThresherError(f"spool chunk {index} is missing or unreadable")
            first = bisect.bisect_left(rows, start)
            if first < len(rows) and rows[first] < start + height:
                feed(self.work.read_spool(index, ["text"])["text"])
                read += 1
            else:
                feed(pl.repeat("", height, dtype=pl.String, eager=True))
            start += height
            counter.records += height
        return read

    def check_spool(self) -> None:
        """A finished pass 1 whose spool is not whole (batches the killed run
        held in memory, a chunk deleted, or the work directory of a run that
        spooled nothing) is forgotten, with
        the passes after it, so that pass 1 runs again: it reuses the sketch
        chunks and spools the batches anew. Nothing to do once pass 4 is done."""
        work = self.work
        done = work.read_json(work.sketch_done)
        if done is None or work.read_json(work.write_done) is not None:
            return
        if all(work.spool_chunk(i).exists() for i in range(int(done["batches"]))):
            return
        self.reporter.message(
            "the spooled records are incomplete (the batches a run holds in memory "
            "end with it): reading the inputs again"
        )
        for path in (work.sketch_done, work.edges, work.result):
            path.unlink(missing_ok=True)

    # -- pass 1 -------------------------------------------------------------
    def sketch(self, engine: thresher.DedupEngine | None) -> Scanned:
        work = self.work
        with self.reporter.phase("sketch", "pass 1: sketch") as phase:
            done = work.read_json(work.sketch_done)
            if done is not None:
                phase.skipped = True
                phase.note(**done["progress"])
                self.records_total = int(done["rows"])
                self.batches = int(done["batches"])
                if engine is not None:
                    for i in range(done["batches"]):
                        stored = pl.read_parquet(work.chunk(i))
                        engine.add(stored.select(_SKETCH_COLUMNS))
                        self.priorities.append(stored["priority"])
                return Scanned(
                    done["batches"],
                    done["rows"],
                    done["progress"],
                    done.get("skipped", {}),
                    done.get("files_without_records", []),
                )
            assert engine is not None, "no checkpoint, so the engine is needed"
            batches = rows = reused = 0
            with_records: set[str] = set()
            # The spool is written (GIL released) while the batch is
            # sketched; one spool write at most is in flight.
            spooling: Future[None] | None = None
            with (
                self.scan() as scan,
                ThreadPoolExecutor(1, thread_name_prefix="thresher-spool") as pool,
            ):
                phase.watch(scan)
                for index, frame in enumerate(_batches(scan)):
                    if frame["doc_id"][0] != rows:
                        raise ThresherError("scan batches are not in doc_id order")
                    if spooling is not None:
                        spooling.result()
                        spooling = None
                    if work.spooled_rows(index) != frame.height:
                        spooling = pool.submit(work.write_spool, index, frame)
                    path = work.chunk(index)
                    chunk: pl.DataFrame | None = None
                    if path.exists():
                        chunk = pl.read_parquet(path)
                    if chunk is not None and (
                        chunk.height != frame.height or chunk["doc_id"][0] != rows
                    ):
                        chunk = None
                    if chunk is None:
                        sketches = engine.sketch(frame["text"])
                        chunk = sketches.select(_SKETCH_COLUMNS).with_columns(
                            doc_id=frame["doc_id"], priority=_priority(frame, self.options.keep)
                        )
                        write_checkpoint(chunk, path)
                    else:
                        reused += 1
                    engine.add(chunk.select(_SKETCH_COLUMNS))
                    self.priorities.append(chunk["priority"])
                    with_records.update(frame["source"].unique().to_list())
                    rows += frame.height
                    batches = index + 1
                if spooling is not None:
                    spooling.result()
                errors = scan.errors
                progress = dict(scan.progress)
                skipped = scan.skipped
            if reused:
                self.reporter.message(f"reused {reused} of {batches} sketch chunks", reused=reused)
            write_parquet(errors, work.errors)
            without = files_without_records(
                [*self.walked, *errors["source"].to_list()], with_records
            )
            done = {
                "batches": batches,
                "rows": rows,
                "progress": progress,
                "skipped": skipped,
                "files_without_records": without,
            }
            write_json(done, work.sketch_done)
            self.records_total = rows
            self.batches = batches
        self.timings["sketch"] = phase.elapsed
        return Scanned(batches, rows, progress, skipped, without)

    def priority(self) -> pl.Series | None:
        """The representatives' priority of every row (from pass 1), or
        ``None`` for ``keep="first"``."""
        if self.options.keep == "first" or not self.priorities:
            return None
        return pl.concat(self.priorities)

    # -- pass 2 -------------------------------------------------------------
    def verify(self, engine: thresher.DedupEngine | None) -> pl.DataFrame:
        work = self.work
        with self.reporter.phase("verify", "pass 2: verify") as phase:
            if work.edges.exists():
                phase.skipped = True
                edges = pl.read_parquet(work.edges)
                if engine is not None:
                    engine.restore_edges(edges)
                return edges
            assert engine is not None, "no checkpoint, so the engine is needed"
            candidates = engine.find_candidates(self.priority())
            phase.note(candidates=candidates)
            # With no candidate pair there is nothing to verify: no scan.
            if candidates:
                self.feed_texts(phase, engine.verify)
            edges = engine.verified_edges()
            write_checkpoint(edges, work.edges)
        self.timings["verify"] = phase.elapsed
        return edges

    # -- pass 3 -------------------------------------------------------------
    def cluster(self, engine: thresher.DedupEngine | None) -> pl.DataFrame:
        work = self.work
        with self.reporter.phase("cluster", "pass 3: cluster") as phase:
            if work.result.exists():
                phase.skipped = True
                return pl.read_parquet(work.result)
            assert engine is not None, "no checkpoint, so the engine is needed"
            priority = self.priority()
            to_score = engine.cluster(priority)
            phase.note(to_score=to_score)
            if to_score:
                rows = engine.rows_to_score().to_list()
                read = self.feed_texts_of_rows(phase, engine.score, rows)
                phase.note(batches_read=read)
            raw = engine.result().select(
                pl.col("exact_key").cast(pl.String),
                pl.col("cluster_id").cast(pl.UInt64),
                pl.col("cluster_size").cast(pl.UInt64),
                pl.col("is_duplicate").cast(pl.Boolean),
                pl.col("duplicate_of").cast(pl.UInt64),
                pl.col("similarity").cast(pl.Float64),
            )
            key = pl.col("exact_key")
            result = raw.with_row_index("doc_id").with_columns(
                pl.col("doc_id").cast(pl.UInt64),
                exact=pl.col("is_duplicate") & (key == key.gather(pl.col("cluster_id"))),
            )
            if self.options.keep == "newest":
                # Kept with the result, so that a resumed run can still count
                # the clusters that had no date to choose by.
                dated = priority if priority is not None else pl.Series([], dtype=pl.Int64)
                result = result.with_columns(dated=dated != NO_DATE)
            write_checkpoint(result, work.result)
        self.priorities = []
        self.timings["cluster"] = phase.elapsed
        return result

    # -- pass 4 -------------------------------------------------------------
    def write(self, result: pl.DataFrame, wanted: pl.Series) -> None:
        """Join each spooled batch with its cluster fields and stream it into
        ``kept.parquet`` or ``duplicates.parquet`` in ``final/``. A killed pass
        4 starts over (the spool makes that cheap), so the files appear whole,
        each by a rename, before ``write/done.json`` says so."""
        work = self.work
        with self.reporter.phase("write", "pass 4: write") as phase:
            if work.read_json(work.write_done) is not None:
                phase.skipped = True
                return
            counter = _SpoolProgress(self.records_total or 0)
            phase.watch(counter)
            dedup_cols = result.select([*DEDUP_COLUMNS, "is_duplicate"])
            with OutputSinks(work.final, wanted) as sinks:
                # Read on this thread: the sinks' two threads already keep
                # both cores busy, and reading ahead made the pass slower.
                for index in range(self.batches):
                    frame = work.read_spool(index)
                    work.release_spool(index)
                    start = frame["doc_id"][0]
                    sinks.add(frame.hstack(dedup_cols.slice(start, frame.height).get_columns()))
                    counter.records += frame.height
                    # Dropped before the next batch is read, not after.
                    del frame
            samples = sinks.samples
            write_parquet(samples, work.samples)
            write_json({"batches": self.batches}, work.write_done)
            work.drop_spool()
        self.timings["write"] = phase.elapsed

    # -- outputs ------------------------------------------------------------
    def finish(
        self,
        scanned: Scanned,
        result: pl.DataFrame,
        edges: pl.DataFrame,
        clusters: pl.DataFrame,
        started: float,
    ) -> dict[str, Any]:
        from thresher.cli.report import write_report

        work, final = self.work, self.work.final
        with self.reporter.phase("outputs", "outputs"):
            samples = pl.read_parquet(work.samples)
            write_parquet(clusters, final / "clusters.parquet", fsync=True)
            errors = pl.read_parquet(work.errors)
            write_parquet(errors, final / "errors.parquet", fsync=True)
            kept_n = int(pl.scan_parquet(final / "kept.parquet").select(pl.len()).collect().item())
            dup_n = int(
                pl.scan_parquet(final / "duplicates.parquet").select(pl.len()).collect().item()
            )
            # Against the scanner's own count of the records it read, not only
            # the rows pass 1 saw: a record lost before pass 1 counts too.
            read_n = int(scanned.progress.get("records", scanned.rows))
            if not kept_n + dup_n == scanned.rows == read_n:
                raise ThresherError(
                    f"records were lost: {read_n} read, {scanned.rows} in, "
                    f"{kept_n} kept + {dup_n} duplicates"
                )
            exact_n = int(result["exact"].sum())
            bands, rows = thresher.banding(self.options.threshold, self.options.num_perm)
            timings = {k: round(v, 3) for k, v in self.timings.items()}
            timings["total"] = round(time.perf_counter() - started, 3)
            summary: dict[str, Any] = {
                "thresher_version": thresher.__version__,
                "inputs": self.inputs,
                "files": scanned.progress.get("files_done", 0),
                "bytes": scanned.progress.get("bytes_done", 0),
                "records_in": scanned.rows,
                "kept": kept_n,
                "duplicates": dup_n,
                "exact_duplicates": exact_n,
                "near_duplicates": dup_n - exact_n,
                "clusters": clusters.height,
                "largest_cluster": int(cast(int, clusters["size"].max())) if clusters.height else 0,
                "errors": errors.height,
                "errors_by_kind": errors_by_kind(errors),
                "files_without_records": scanned.files_without_records,
                "clusters_without_dates": clusters_without_dates(result),
                "skipped": dict(sorted(scanned.skipped.items())),
                "parameters": {**self.options.parameters(), "bands": bands, "rows": rows},
                "timings": timings,
                "outputs": OUTPUT_FILES,
            }
            near = edges.filter(~pl.col("exact"))["similarity"] if edges.height else None
            write_report(
                final / "report.html",
                summary=summary,
                clusters=clusters,
                similarities=near if near is not None else pl.Series([], dtype=pl.Float64),
                samples=samples,
                errors=errors,
                groups=group_errors(errors, scanned.files_without_records),
            )
            write_json(summary, final / "summary.json", fsync=True)
            write_json({"complete": True}, work.final_done)
        self.publish()
        return summary

    def publish(self) -> None:
        final = self.work.final
        publish(
            [(final / name, self.out / name) for name in OUTPUT_FILES if name != "summary.json"],
            last=(final / "summary.json", self.out / "summary.json"),
        )
        self.work.remove()


def sample_columns(rows: pl.DataFrame) -> pl.DataFrame:
    """What the report shows of its sample rows (written with ``is_duplicate``)."""
    return rows.select(
        "doc_id",
        "cluster_id",
        "is_duplicate",
        "exact",
        "similarity",
        "source",
        "member",
        "title",
        pl.col("text").str.slice(0, _SAMPLE_CHARS),
    )


class OutputSinks:
    """``kept.parquet`` and ``duplicates.parquet`` in ``final``, streamed
    batch by batch (in ``doc_id`` order) under temporary names and renamed
    into place when the block ends without an exception; ``samples`` then
    holds the rows ``wanted`` (doc_ids) for the report."""

    def __init__(self, final: Path, wanted: pl.Series) -> None:
        self.final = final
        self.wanted = wanted.implode()
        self.samples = pl.DataFrame()
        self._samples: list[pl.DataFrame] = []
        self._stack = contextlib.ExitStack()
        #: Each sink's writes in flight, oldest first.
        self._writing: dict[str, collections.deque[Future[None]]] = {}

    def __enter__(self) -> OutputSinks:
        stack = self._stack.__enter__()
        kept_path = stack.enter_context(atomic(self.final / "kept.parquet", fsync=True))
        dups_path = stack.enter_context(atomic(self.final / "duplicates.parquet", fsync=True))
        # One thread per sink, so that each sink's batches stay in order and
        # neither waits for the other (kept.parquet takes most rows).
        self._pools = {
            name: stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix=f"thresher-{name}"))
            for name in ("kept", "dups")
        }
        self._writing = {name: collections.deque() for name in self._pools}
        schema = empty_output().__arrow_c_stream__
        self._kept = _core.ParquetSink(kept_path, schema(), ROW_GROUP_ROWS)
        self._dups = _core.ParquetSink(dups_path, schema(), ROW_GROUP_ROWS)
        return self

    def add(self, joined: pl.DataFrame) -> None:
        """Write a batch of records with :data:`DEDUP_COLUMNS` and
        ``is_duplicate``, in the outputs' column order."""
        dup = pl.col("is_duplicate")
        self._samples.append(sample_columns(joined.filter(pl.col("doc_id").is_in(self.wanted))))
        # Each sink encodes (GIL released) on its own thread while the next
        # batches are read; at most two batches wait for each sink.
        writes = {
            "dups": (self._dups.write, joined.filter(dup)),
            "kept": (self._kept.write, joined.filter(~dup)),
        }
        for name, (write, rows) in writes.items():
            queue = self._writing[name]
            while len(queue) >= _QUEUED_PER_SINK:
                queue.popleft().result()
            stream = rows.drop("is_duplicate").__arrow_c_stream__()
            queue.append(self._pools[name].submit(write, stream))

    def __exit__(self, kind: Any, value: Any, trace: Any) -> bool | None:
        try:
            for queue in self._writing.values():
                while queue:
                    queue.popleft().result()
            if kind is None:
                self._kept.finish()
                self._dups.finish()
                self.samples = pl.concat(self._samples) if self._samples else pl.DataFrame()
        except BaseException:
            # The temporaries are removed, and this error is the one raised.
            self._stack.__exit__(*sys.exc_info())
            raise
        return self._stack.__exit__(kind, value, trace)


def empty_output() -> pl.DataFrame:
    records = thresher.ingest([]).records
    return records.with_columns(
        exact_key=pl.lit(None, pl.String),
        cluster_id=pl.lit(None, pl.UInt64),
        cluster_size=pl.lit(None, pl.UInt64),
        duplicate_of=pl.lit(None, pl.UInt64),
        similarity=pl.lit(None, pl.Float64),
        exact=pl.lit(None, pl.Boolean),
    ).clear()


def run_dedup(
    inputs: list[str], out: Path, options: DedupOptions, reporter: Reporter
) -> tuple[dict[str, Any], str]:
    """Run ``thresher dedup``: find duplicates among the records of ``inputs`` and
    write ``kept.parquet``, ``duplicates.parquet``, ``clusters.parquet``,
    ``errors.parquet``, ``report.html`` and ``summary.json`` into ``out``.

    Returns the summary and how the work directory was found: ``"new"``,
    ``"resumed"`` (a killed run's finished work was reused) or
    ``"restarted"`` (it belonged to other arguments or inputs and was
    discarded). Raises :class:`KeyboardInterrupt` on Ctrl-C, leaving the
    finished checkpoints (and no output file) behind, and
    :class:`~thresher.cli.workdir.OutputInUse` when another run holds the
    lock on ``out``'s work directory.
    """
    started = time.perf_counter()
    with holding_work_lock(out):
        return _run_dedup_locked(inputs, out, options, reporter, started)


@contextlib.contextmanager
def holding_work_lock(out: Path) -> Iterator[None]:
    """Create ``out`` and hold the lock on its work directory for the block
    (:class:`~thresher.cli.workdir.OutputInUse` when another run holds it)."""
    lock = WorkLock(out / WORK_DIR_NAME)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise OutputError.wrap("--out", out, exc) from exc
    try:
        yield
    finally:
        lock.release()


def open_run(
    inputs: list[str],
    out: Path,
    options: DedupOptions,
    reporter: Reporter,
    manifest_extra: dict[str, Any] | None = None,
) -> tuple[DedupRun, str, dict[str, Any] | None]:
    """The run of ``inputs`` into ``out`` (its lock held), its work
    directory opened: the run, how the directory was found (see
    :func:`run_dedup`) and, when a killed run had finished its outputs,
    its summary (the outputs are then published: nothing is left to do).
    ``manifest_extra`` tells runs that share the options but not the
    work directory's layout apart (``--ray``)."""
    # Only thresher's own leftovers beside the outputs, never the user's files.
    for name in OUTPUT_FILES:
        remove_stale_temporaries(out / name)
    run = DedupRun(inputs, out, options, reporter)
    files = input_fingerprint(inputs, options.follow_symlinks, options.threads)
    run.walked = [str(f[0]) for f in files]
    manifest = {
        "thresher_version": thresher.__version__,
        "sketch_format": _core.SKETCH_FORMAT,
        "inputs": inputs,
        "parameters": options.parameters(),
        "files": files,
        **(manifest_extra or {}),
    }
    state = run.work.open(manifest)
    if state == "resumed":
        reporter.message(f"resuming the earlier run in {run.work.root}", state=state)
    elif state == "restarted":
        reporter.message(
            "the work directory belonged to other arguments or changed inputs: starting over",
            state=state,
        )
    if run.work.read_json(run.work.final_done) is not None:
        # Killed while renaming the finished outputs: finish the renames.
        summary = run.work.read_json(run.work.final / "summary.json")
        if summary is None:
            summary = run.work.read_json(out / "summary.json")
        run.publish()
        return run, state, summary
    return run, state, None


def _run_dedup_locked(
    inputs: list[str], out: Path, options: DedupOptions, reporter: Reporter, started: float
) -> tuple[dict[str, Any], str]:
    run, state, published = open_run(inputs, out, options, reporter)
    if published is not None:
        return published, state
    run.check_spool()
    engine = None if run.work.result.exists() else _engine(options)
    # Each pass frees what it held; the C heap keeps freed memory unless told
    # (Polars allocates elsewhere and cannot reuse it), so give it back.
    scanned = run.sketch(engine)
    _core.release_free_memory()
    edges = run.verify(engine)
    _core.release_free_memory()
    result = run.cluster(engine)
    del engine
    _core.release_free_memory()
    clusters = cluster_table(result)
    run.write(result, sample_rows(result, clusters))
    _core.release_free_memory()
    summary = run.finish(scanned, result, edges, clusters, started)
    return summary, state


def run_scan(
    inputs: list[str],
    out: Path,
    errors_out: Path | None,
    *,
    batch_size: int,
    format: str,
    fields: FieldOptions,
    threads: int | None,
    reporter: Reporter,
    follow_symlinks: bool = False,
    html: str | None = None,
    content_types: str | None = None,
) -> dict[str, Any]:
    """Run ``thresher scan``: stream the records of ``inputs`` into one Parquet
    file ``out`` (and the error rows into ``errors_out``), atomically.

    Returns the counters of the scan (``files_done``, ``bytes_done``,
    ``records``, ``errors``), ``skipped`` (the records that are not
    documents, by content type), ``errors_by_kind``,
    ``files_without_records`` and ``error_groups`` (the error rows grouped
    by file and kind, see :func:`~thresher.cli.error_groups.group_errors`).
    """
    for flag, path in (("--out", out), ("--errors", errors_out)):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError.wrap(flag, path, exc) from exc
            # A killed earlier run may have left its part files beside the output.
            remove_stale_temporaries(path)
    walked, _ = _core.walk(list(inputs), follow_symlinks)
    with_records: set[str] = set()
    # Streamed straight into ``out`` under a temporary name, renamed at the end.
    with atomic(out, fsync=True) as tmp:
        with reporter.phase("scan", "scan") as phase:
            with thresher.scan(
                inputs,
                batch_size,
                format=format,  # type: ignore[arg-type]
                **fields,
                threads=threads,
                follow_symlinks=follow_symlinks,
                html=html,  # type: ignore[arg-type]
                content_types=content_types,
            ) as scan:
                phase.watch(scan)
                empty = thresher.ingest([]).records
                sink = _core.ParquetSink(tmp, empty.__arrow_c_stream__(), ROW_GROUP_ROWS)
                for frame in scan:
                    sink.write(frame.__arrow_c_stream__())
                    with_records.update(frame["source"].unique().to_list())
                errors = scan.errors
                progress = dict(scan.progress)
                skipped = scan.skipped
        _core.release_free_memory()
        with reporter.phase("outputs", "outputs"):
            sink.finish()
            if errors_out is not None:
                write_parquet(errors, errors_out)
    without = files_without_records(
        [*(str(source) for _, source in walked), *errors["source"].to_list()], with_records
    )
    return {
        **progress,
        "errors": errors.height,
        "errors_by_kind": errors_by_kind(errors),
        "files_without_records": without,
        "error_groups": group_errors(errors, without).to_dicts(),
        "skipped": dict(sorted(skipped.items())),
        "out": os.fspath(out),
    }
