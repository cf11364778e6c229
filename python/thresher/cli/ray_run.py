"""``thresher dedup --ray [ADDRESS]``: the outputs of a local run, computed
on a Ray cluster by :mod:`thresher.ray`.

The files are read by Ray tasks (:func:`thresher.ray.read.read_with_facts`)
and deduplicated by :func:`thresher.ray.dedup`, whose stages are written
under ``DIR/.thresher-work/ray`` so that a run whose driver died resumes
from its last finished stage (the inputs are read again; that is the cheap
part). The driver then does what a local run's passes 3 and 4 do with what
the cluster found:

* it collects the rows that belong to a cluster of more than one record
  (``doc_id``, ``cluster_id``, ``cluster_size``, ``is_duplicate``,
  ``exact_key``, ``similarity``: about 60 bytes each) for the cluster table,
  the ``exact`` column, the counts and the report's samples;
* it streams the result, in ``doc_id`` order, into ``kept.parquet`` and
  ``duplicates.parquet`` with the local run's writer
  (:class:`~thresher.cli.pipeline.OutputSinks`), one block at a time.

The files are the local run's, row for row: the same records, clusters,
representatives, similarities and ``exact`` flags (``tests/test_ray.py``).
``--keep newest`` ranks the local run's own date priority (seconds since
1970, :func:`~thresher.cli.pipeline.date_priority`), so its ties are the
local run's too. With ``--sharded``, the cluster's tasks write
``kept.parquet`` and ``duplicates.parquet`` instead, as folders of parts
that the driver then names in ``doc_id`` order (a sort on the cluster
first, should the parts' rows interleave).
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

from thresher.cli.error_groups import files_without_records
from thresher.cli.outputs import write_json, write_parquet
from thresher.cli.pipeline import (
    NO_DATE,
    DedupOptions,
    DedupRun,
    OutputSinks,
    Scanned,
    cluster_table,
    date_priority,
    empty_output,
    holding_work_lock,
    open_run,
    sample_columns,
    sample_rows,
)
from thresher.errors import ThresherError
from thresher.keep import KeepWarning
from thresher.progress import Reporter

__all__ = ["run_dedup_on_ray"]

#: The ``--keep newest`` priority added to the rows: seconds since 1970,
#: null without a readable date.
_DATE_SECONDS = "_thresher_date_seconds"
#: What the driver keeps of each row in a cluster of more than one record.
_CLUSTERED = {
    "doc_id": pl.UInt64,
    "cluster_id": pl.UInt64,
    "cluster_size": pl.UInt64,
    "is_duplicate": pl.Boolean,
    "exact_key": pl.String,
    "similarity": pl.Float64,
    "dated": pl.Boolean,
}
#: Rows per part of a sharded output, at least (the last may have fewer).
_ROWS_PER_PART = 250_000
_NEAR_EDGES = {"a": pl.UInt64, "b": pl.UInt64, "similarity": pl.Float64, "exact": pl.Boolean}


class _OutOfOrder(Exception):
    """The cluster gave the result's blocks out of ``doc_id`` order."""


def _with_date_seconds(batch: pa.Table) -> pa.Table:
    """The batch with its ``--keep newest`` priority as a local run computes
    it, null where a local run gives the lowest priority (no readable
    date): :func:`thresher.ray.dedup` ranks nulls below every date."""
    from thresher.ray.tables import appended, frame_of

    # Only the dates go through Polars (an export of the texts copies them).
    seconds = date_priority(frame_of(batch.select(["date"]))["date"]).alias(_DATE_SECONDS)
    column = seconds.to_frame().select(
        pl.when(pl.col(_DATE_SECONDS) == NO_DATE)
        .then(None)
        .otherwise(pl.col(_DATE_SECONDS))
        .alias(_DATE_SECONDS)
    )
    return appended(batch, column)


def _clustered_rows(batch: pa.Table, *, dated: bool) -> pa.Table:
    """The batch's rows in a cluster of more than one record, narrowed to
    :data:`_CLUSTERED`."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    has_date = pl.col(_DATE_SECONDS).is_not_null() if dated else pl.lit(None, pl.Boolean)
    return (
        frame.filter(pl.col("cluster_size") > 1)
        .select(
            *(pl.col(name).cast(dtype) for name, dtype in _CLUSTERED.items() if name != "dated"),
            has_date.alias("dated"),
        )
        .to_arrow()
    )


def _connect(address: str | None, quiet: bool) -> bool:
    """Connect to the Ray cluster at ``address`` (``None``: ``RAY_ADDRESS``
    or a new local one), unless this process already is; whether this call
    connected (and so disconnects at the end)."""
    import ray
    import ray.data

    context = ray.data.DataContext.get_current()
    # The result streams out in doc_id order without a sort when the
    # blocks keep their order (checked as they are written).
    context.execution_options.preserve_order = True
    if quiet:
        context.enable_progress_bars = False
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray's own INFO lines (each dataset's plan and its end) would bury
    # thresher's progress; its warnings and errors still show.
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    ray.init(address=address or None, log_to_driver=False, logging_level=logging.WARNING)
    return True


def run_dedup_on_ray(
    inputs: list[str],
    out: Path,
    options: DedupOptions,
    reporter: Reporter,
    address: str | None,
    *,
    sharded: bool = False,
    quiet: bool = False,
) -> tuple[dict[str, Any], str]:
    """Run ``thresher dedup --ray``: :func:`~thresher.cli.pipeline.run_dedup`'s
    outputs and return value, computed on the Ray cluster at ``address``
    (``None``: the cluster ``RAY_ADDRESS`` names, or a new local one; the
    cluster this process is already connected to, if any).

    With ``sharded``, ``kept.parquet`` and ``duplicates.parquet`` are
    directories of Parquet parts (``part-000000.parquet`` ...) that the
    cluster's tasks write, in ``doc_id`` order across the parts, instead
    of single files the driver writes: for outputs larger than the
    driver's disk or its bandwidth."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ThresherError(
            "--ray needs Ray Data: pip install 'thresher[ray]' (or 'ray[data]')"
        ) from exc
    started = time.perf_counter()
    # Absolute: the cluster's tasks, which write the stages and the sharded
    # outputs, run in their own working directories.
    out = out.absolute()
    with holding_work_lock(out):
        # The layout of the outputs is part of the run: another one starts over.
        layout = {"engine": "ray", "sharded": sharded}
        run, state, published = open_run(inputs, out, options, reporter, manifest_extra=layout)
        if published is not None:
            return published, state
        context = ray.data.DataContext.get_current()
        was_ordered = context.execution_options.preserve_order
        had_bars = context.enable_progress_bars
        connected = _connect(address, quiet)
        try:
            return _run(run, started, sharded), state
        finally:
            context.execution_options.preserve_order = was_ordered
            context.enable_progress_bars = had_bars
            if connected:
                ray.shutdown()


def _run(run: DedupRun, started: float, sharded: bool) -> dict[str, Any]:
    import thresher.ray as tray
    from thresher.ray.read import known_schema, mark_cheap_to_read_again, read_with_facts
    from thresher.ray.tables import collect

    o, work, reporter = run.options, run.work, run.reporter
    with reporter.phase("read", "ray: read") as phase:
        records, errors_ds, facts = read_with_facts(run.inputs, **o.reader_options())
        errors = collect(errors_ds, dict(_empty_errors().schema))
        write_parquet(errors, work.errors)
        rows = sum(facts.records_per_file.values())
        run.records_total = rows
        sizes = 0
        for path in facts.paths:
            try:
                sizes += os.stat(path).st_size
            except OSError:
                pass
        progress = {
            "files_done": len(facts.paths),
            "bytes_done": sizes,
            "records": rows,
            "errors": errors.height,
        }
        phase.note(**progress)
    run.timings["read"] = phase.elapsed
    with_records = {facts.sources[i] for i, n in facts.records_per_file.items() if n}
    scanned = Scanned(
        batches=0,
        rows=rows,
        progress=progress,
        skipped=facts.skipped,
        files_without_records=files_without_records(
            [*run.walked, *errors["source"].to_list()], with_records
        ),
    )

    newest = o.keep == "newest"
    if newest:
        # A cheap map over the read's blocks: dedup reads its texts again,
        # and takes its schema from a block of no rows.
        schema = known_schema(records)
        records = mark_cheap_to_read_again(
            records.map_batches(_with_date_seconds, batch_format="pyarrow"),
            None if schema is None else _with_date_seconds(schema.empty_table()).schema,
        )
    stage_timings: dict[str, float] = {}
    with reporter.phase("dedup", "ray: dedup") as phase:
        with warnings.catch_warnings():
            # A local run counts the undated clusters in its summary instead.
            warnings.simplefilter("ignore", KeepWarning)
            result = tray.dedup(
                records,
                "text",
                threshold=o.threshold,
                ngram=o.ngram,
                num_perm=o.num_perm,
                seed=o.seed,
                verify=o.verify,  # type: ignore[arg-type]
                keep=o.keep,  # type: ignore[arg-type]
                date_column=_DATE_SECONDS if newest else "date",
                id_column="doc_id",
                timings=stage_timings,
                work_dir=work.root / "ray",
            )
    run.timings.update({f"ray_{k}": v for k, v in stage_timings.items()})
    run.timings["dedup"] = phase.elapsed

    with reporter.phase("cluster", "clusters") as phase:
        clustered = collect(
            result.map_batches(partial(_clustered_rows, dated=newest), batch_format="pyarrow"),
            _CLUSTERED,
        )
        representatives = clustered.filter(~pl.col("is_duplicate")).select(
            "cluster_id", pl.col("exact_key").alias("_representative_key")
        )
        clustered = _with_exact(clustered, representatives)
        if not newest:
            clustered = clustered.drop("dated")
        clusters = cluster_table(clustered)
        phase.note(clusters=clusters.height)
    run.timings["cluster"] = phase.elapsed

    with reporter.phase("write", "write") as phase:
        wanted = sample_rows(clustered, clusters)
        if work.read_json(work.write_done) is not None:
            phase.skipped = True
        else:
            write = _write_shards if sharded else _write_outputs
            write_parquet(write(run, result, representatives, wanted), work.samples)
            write_json({"batches": 0}, work.write_done)
    run.timings["write"] = phase.elapsed

    edges = _near_edges(work.root / "ray" / "verify")
    return run.finish(scanned, clustered, edges, clusters, started)


def _write_outputs(
    run: DedupRun, result: Any, representatives: pl.DataFrame, wanted: pl.Series
) -> pl.DataFrame:
    """``kept.parquet`` and ``duplicates.parquet``, written by the driver;
    the samples. A sort on the cluster first when the result's blocks
    lost their order."""
    try:
        return _write(run, result, representatives, wanted)
    except _OutOfOrder:
        run.reporter.message("the result came out of doc_id order: sorting it on the cluster")
        return _write(run, result.sort("doc_id"), representatives, wanted)


def _empty_errors() -> pl.DataFrame:
    """The error rows' columns, without rows."""
    import thresher

    return thresher.ingest([]).errors


def _with_exact(rows: pl.DataFrame, representatives: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``exact``: a duplicate whose exact key is its
    representative's, as a local run sets it."""
    joined = rows.join(representatives, on="cluster_id", how="left", maintain_order="left")
    exact = pl.col("is_duplicate") & (
        pl.col("exact_key") == pl.col("_representative_key")
    ).fill_null(False)
    return joined.with_columns(exact.alias("exact")).drop("_representative_key")


def _write(
    run: DedupRun, result: Any, representatives: pl.DataFrame, wanted: pl.Series
) -> pl.DataFrame:
    """Stream ``result`` into the outputs, checking that its blocks come in
    ``doc_id`` order (:class:`_OutOfOrder` when they do not); the samples."""
    from thresher.ray.tables import frame_of

    columns = dict(empty_output().schema)
    expected = 0
    with OutputSinks(run.work.final, wanted) as sinks:
        for batch in result.iter_batches(batch_size=None, batch_format="pyarrow"):
            frame = frame_of(batch)
            if not frame.height:
                continue
            # Each block must go on from the last, one doc_id at a time.
            ids = frame["doc_id"].cast(pl.UInt64)
            if ids[0] != expected or not bool((ids.diff().drop_nulls() == 1).all()):
                raise _OutOfOrder
            expected += frame.height
            sinks.add(_as_output(frame, representatives, columns))
    return sinks.samples


def _as_output(
    rows: pl.DataFrame, representatives: pl.DataFrame, columns: dict[str, Any]
) -> pl.DataFrame:
    """``rows`` as the outputs hold them (``columns``, with ``exact``),
    and ``is_duplicate``."""
    return _with_exact(rows, representatives).select(
        *(pl.col(name).cast(dtype) for name, dtype in columns.items()),
        pl.col("is_duplicate"),
    )


def _output_rows(batch: pa.Table, *, representatives: Any, columns: dict[str, Any]) -> pa.Table:
    """:func:`_as_output` of a block, in a task."""
    from thresher.ray.tables import frame_of, resolved

    return _as_output(frame_of(batch), frame_of(resolved(representatives)), columns).to_arrow()


def _side(batch: pa.Table, *, duplicates: bool) -> pa.Table:
    """The rows of one output: the duplicates, or the records kept."""
    from thresher.ray.tables import frame_of

    frame = frame_of(batch)
    wanted = pl.col("is_duplicate") if duplicates else ~pl.col("is_duplicate")
    return frame.filter(wanted).drop("is_duplicate").to_arrow()


def _samples_of(batch: pa.Table, *, wanted: Any) -> pa.Table:
    """The batch's rows that the report shows (``doc_id`` in ``wanted``)."""
    from thresher.ray.tables import frame_of, resolved

    frame = frame_of(batch)
    return frame.join(frame_of(resolved(wanted)), on="doc_id", how="semi").to_arrow()


def _write_shards(
    run: DedupRun, result: Any, representatives: pl.DataFrame, wanted: pl.Series
) -> pl.DataFrame:
    """``kept.parquet`` and ``duplicates.parquet`` as directories of parts
    written by the cluster, renamed into ``doc_id`` order; the samples.
    A sort on the cluster first when the parts' rows interleave."""
    import ray

    from thresher.ray.tables import collect

    work = run.work
    schema = empty_output().schema
    rows = result.map_batches(
        partial(
            _output_rows,
            representatives=ray.put(representatives.to_arrow()),
            columns=dict(schema),
        ),
        batch_format="pyarrow",
    ).materialize()
    for attempt in range(2):
        ordered = True
        for name, duplicates in (("kept.parquet", False), ("duplicates.parquet", True)):
            place = work.final / name
            temporary = work.final / f"{name}.parts"
            shutil.rmtree(temporary, ignore_errors=True)
            rows.map_batches(
                partial(_side, duplicates=duplicates), batch_format="pyarrow"
            ).write_parquet(os.fspath(temporary), min_rows_per_file=_ROWS_PER_PART)
            ordered = ordered and _put_parts_in_order(temporary, schema)
            if os.path.isdir(place):
                shutil.rmtree(place)
            os.replace(temporary, place)
        if ordered:
            break
        if attempt == 0:
            run.reporter.message("the result came out of doc_id order: sorting it on the cluster")
            rows = rows.sort("doc_id").materialize()
        else:
            raise ThresherError("the sorted result's parts are still out of doc_id order")
    wanted_ids = ray.put(pa.table({"doc_id": wanted.cast(pl.UInt64).to_arrow()}))
    found = collect(
        rows.map_batches(partial(_samples_of, wanted=wanted_ids), batch_format="pyarrow"),
        {**dict(schema), "is_duplicate": pl.Boolean},
    )
    return sample_columns(found)


def _put_parts_in_order(directory: Path, schema: pl.Schema) -> bool:
    """Name the parts in ``directory`` ``part-000000.parquet`` ... in
    ``doc_id`` order (one empty part when there are no rows); ``False``
    when their rows interleave or a part is not sorted, which no naming
    can fix."""
    spans: list[tuple[int, int, Path]] = []
    for path in sorted(directory.glob("*.parquet")):
        ids = pl.read_parquet(path, columns=["doc_id"])["doc_id"]
        if ids.is_empty():
            path.unlink()
            continue
        if not ids.is_sorted():
            return False
        spans.append((int(ids[0]), int(ids[-1]), path))
    spans.sort()
    for before, after in itertools.pairwise(spans):
        if before[1] >= after[0]:
            return False
    for number, (_, _, path) in enumerate(spans):
        path.rename(directory / f"part-{number:06d}.parquet")
    if not spans:
        pl.DataFrame(schema=schema).write_parquet(directory / "part-000000.parquet")
    return True


def _near_edges(place: Path) -> pl.DataFrame:
    """The verified near edges thresher.ray kept (for the report's
    similarity histogram); none when there were no rows."""
    if not place.is_dir():
        return pl.DataFrame(schema=_NEAR_EDGES)
    edges = pl.read_parquet(place)
    return edges.select(
        pl.col("a").cast(pl.UInt64),
        pl.col("b").cast(pl.UInt64),
        pl.col("similarity").cast(pl.Float64),
        pl.lit(False).alias("exact"),
    )
