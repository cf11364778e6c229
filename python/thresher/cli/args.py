"""The ``thresher`` command: argument parsing and exit codes only.

The work is done in :mod:`thresher.cli.pipeline`; what is shown while it runs in
:mod:`thresher.progress`. Exit codes: 0 success; 1 finished, but the inputs
had errors and ``--strict`` was given; 2 bad usage; 3 the run failed; 130
interrupted (Ctrl-C or SIGTERM; ``dedup`` keeps its finished work for a rerun).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any, cast

import polars as pl

import thresher
from thresher._names import (
    DEFAULT_FIELDS,
    FIELD_OPTIONS,
    FORMATS,
    HTML_MODES,
    KEEP_VALUES,
    VERIFY_VALUES,
    FieldOptions,
)
from thresher.cli.outputs import OutputError
from thresher.cli.workdir import SPOOL_CODECS, SPOOL_COMPRESSION, OutputInUse, parse_size
from thresher.inputs import InputNotFoundError, expand_paths
from thresher.progress import duration

EXIT_OK = 0
EXIT_INPUT_ERRORS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130


class _UsageError(Exception):
    """Arguments that parse but make no sense (exit code 2)."""


def _sample_dir() -> Path:
    return Path(str(resources.files("thresher") / "samples"))


def _demo(args: argparse.Namespace) -> int:
    inputs = [Path(p) for p in args.inputs] or [_sample_dir()]
    started = time.perf_counter()
    result = thresher.ingest(inputs)
    records = result.records
    deduped = thresher.dedup(records, threshold=args.threshold)
    elapsed = time.perf_counter() - started
    # An exact duplicate has the same exact key as its cluster's representative.
    rep_key = pl.col("exact_key").gather(pl.col("cluster_id"))
    exact = deduped.filter(pl.col("is_duplicate") & (pl.col("exact_key") == rep_key)).height
    near = deduped.filter(pl.col("is_duplicate")).height - exact
    kept = deduped.filter(~pl.col("is_duplicate")).height
    print(f"thresher {thresher.__version__}: read {', '.join(str(p) for p in inputs)}")
    print(
        f"{records.height} records from {records['source'].n_unique()} file(s), "
        f"{result.errors.height} error row(s)"
    )
    print(
        f"kept {kept}, exact duplicates {exact}, near duplicates {near} "
        f"(threshold {args.threshold}) in {duration(elapsed)}"
    )
    if records.height != kept + exact + near:
        raise thresher.ThresherError("records were lost: kept + duplicates != records")
    clusters = (
        deduped.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(pl.len().alias("size"), pl.col("title").first(), pl.col("similarity").min())
        .sort(["size", "cluster_id"], descending=[True, False])
        .head(args.show)
    )
    if clusters.height:
        print("largest clusters:")
        with pl.Config(fmt_str_lengths=70, tbl_hide_dataframe_shape=True):
            print(clusters)
    if result.errors.height:
        print("errors:")
        print(result.errors)
    if args.out:
        from thresher.cli.pipeline import DedupOptions, run_dedup
        from thresher.progress import Reporter

        run_dedup(
            [str(p) for p in inputs],
            Path(args.out),
            DedupOptions(threshold=args.threshold),
            Reporter(),
        )
        print(f"wrote the dedup outputs and {Path(args.out) / 'report.html'}")
    return 0


def _check_inputs(inputs: list[str]) -> list[str]:
    """The inputs with their globs expanded; a usage error for one that does
    not exist, a glob matching nothing, or a URL."""
    try:
        return expand_paths(inputs)
    except InputNotFoundError as exc:
        # "input not found: X", "no input matches the pattern: X"
        raise _UsageError(f"{exc.strerror}: {exc.filename}") from None
    except thresher.InvalidOptionError as exc:
        raise _UsageError(str(exc)) from None


def _check_out_path(flag: str, path: Path, *, directory: bool) -> None:
    """Refuse an output path that cannot be created: under a file, through a
    symbolic link to nowhere, or in a directory this process cannot write in.
    ``directory``: the path is a directory to create (else a file in one)."""
    given = Path(os.path.abspath(path))
    probe = given if directory or (path.is_symlink() and not path.exists()) else given.parent
    while not probe.exists():
        if probe.is_symlink():
            where = "" if probe == given else f" lies under {probe}, which"
            raise _UsageError(
                f"{flag} {path}{where} is a symbolic link to {os.readlink(probe)}, "
                "which does not exist"
            )
        probe = probe.parent
    if not probe.is_dir():
        raise _UsageError(f"{flag} {path} lies under {probe}, which is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise _UsageError(f"{flag} {path}: cannot write in {probe} (permission denied)")


def _check_outputs_apart(inputs: list[str], outputs: list[tuple[str, Path]]) -> None:
    """Refuse an output (``(flag, path)``) that is an input, lies inside an
    input directory (a later run would read it back) or is another output;
    paths are compared resolved (symbolic links followed)."""
    tops = [(top, Path(top).resolve(), os.path.isdir(top)) for top in inputs]
    seen: dict[Path, str] = {}
    for flag, path in outputs:
        target = path.resolve()
        for top, resolved, is_dir in tops:
            if target == resolved and not is_dir:
                raise _UsageError(f"{flag} {path} is input {top}: it would be overwritten")
            if is_dir and target.is_relative_to(resolved):
                raise _UsageError(
                    f"{flag} {path} lies inside input {top}: its outputs would be read"
                )
        if target in seen:
            raise _UsageError(f"{flag} {path} is the same file as {seen[target]}")
        seen[target] = flag


def _check_out_not_walked(inputs: list[str], out: Path, follow_symlinks: bool) -> None:
    """--out reached through a symlink inside an input: the walk would read it."""
    from thresher.cli.workdir import walked_into

    source = walked_into(inputs, out, follow_symlinks)
    if source is not None:
        raise _UsageError(f"--out {out} is read through a link in the inputs ({source})")


def _size(text: str) -> int:
    """``--memory``'s value in bytes."""
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _dedup(args: argparse.Namespace) -> int:
    from thresher.cli.pipeline import DedupOptions, run_dedup
    from thresher.progress import make_reporter

    args.inputs = _check_inputs(args.inputs)
    if not 0 < args.threshold <= 1:
        raise _UsageError("--threshold must be in (0, 1]")
    for name in ("ngram", "num_perm", "batch_size"):
        if getattr(args, name) < 1:
            raise _UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.seed < 2**64:
        raise _UsageError("--seed must be in 0..2**64-1")
    try:
        # Every option the engine checks, before anything is written.
        thresher.DedupEngine(
            threshold=args.threshold,
            ngram=args.ngram,
            num_perm=args.num_perm,
            seed=args.seed,
            verify=args.verify,
        )
    except thresher.InvalidOptionError as exc:
        raise _UsageError(str(exc)) from None
    _check_ingest_options(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {out} exists and is not a directory")
    _check_out_path("--out", out, directory=True)
    _check_outputs_apart(args.inputs, [("--out", out)])
    _check_out_not_walked(args.inputs, out, args.follow_symlinks)
    if args.sharded and args.ray is None:
        raise _UsageError("--sharded needs --ray (the cluster writes the parts)")
    if args.ray is not None and args.index is not None:
        raise _UsageError("--ray and --index cannot be combined (the index is on one machine)")
    index = _open_index(args)
    options = DedupOptions(
        threshold=args.threshold,
        ngram=args.ngram,
        num_perm=args.num_perm,
        seed=args.seed,
        verify=args.verify,
        format=args.format,
        **_fields(args),
        keep=args.keep,
        batch_size=args.batch_size,
        follow_symlinks=args.follow_symlinks,
        html=args.html,
        content_types=args.content_types,
        threads=args.threads,
        spool_compression=args.spool_compression,
        spool_memory=args.memory,
    )
    reporter = make_reporter(json_log=args.json, quiet=args.quiet)
    try:
        if args.ray is not None:
            from thresher.cli.ray_run import run_dedup_on_ray

            summary, _ = run_dedup_on_ray(
                list(args.inputs),
                out,
                options,
                reporter,
                args.ray or None,
                sharded=args.sharded,
                quiet=args.quiet or args.json,
            )
        else:
            summary, _ = run_dedup(list(args.inputs), out, options, reporter)
        if index is not None:
            from thresher.cli.index_step import apply_index

            summary = apply_index(index, Path(args.index), out)
    finally:
        reporter.close()
    groups = _error_groups(out / "errors.parquet", summary.get("files_without_records", []))
    warning = _undated_warning(summary.get("clusters_without_dates", 0))
    if args.json:
        from thresher.progress import JsonLog

        assert isinstance(reporter, JsonLog)
        if warning:
            reporter.emit("warning", message=warning)
        reporter.emit("summary", **summary, error_groups=groups)
    elif not args.quiet:
        mb = summary["bytes"] / 1e6
        print(
            f"thresher {summary['thresher_version']}: {summary['records_in']:,} records from "
            f"{summary['files']:,} file(s) ({mb:,.1f} MB), {summary['errors']:,} input error(s)"
        )
        print(
            f"kept {summary['kept']:,}, exact duplicates {summary['exact_duplicates']:,}, "
            f"near duplicates {summary['near_duplicates']:,} in {summary['clusters']:,} "
            f"clusters (threshold {args.threshold:g}) in {duration(summary['timings']['total'])}"
        )
        if "index_matches" in summary:
            print(
                f"matched the index: {summary['index_matches']:,} record(s); "
                f"the index now holds {summary['index']['documents']:,} documents"
            )
            if summary["index"].get("already_added"):
                print(
                    "the index already held this run's records (an earlier run of the "
                    "same inputs added them): matched against it as it was before, added none"
                )
        if summary["skipped"]:
            print(f"skipped {_skipped_line(summary['skipped'])}")
        _print_error_groups(groups, args.inputs, "errors.parquet / report.html")
        print(f"wrote {out}/: {', '.join(summary['outputs'])}")
    if warning and not args.json:
        # On stderr, and even with --quiet: it says the result is not what was asked.
        print(f"thresher: warning: {warning}", file=sys.stderr)
    if args.strict and summary["errors"]:
        return EXIT_INPUT_ERRORS
    return EXIT_OK


def _open_index(args: argparse.Namespace) -> thresher.Index | None:
    """``--index``: the index open for adding (see ``index_step``)."""
    if args.index is None:
        return None
    from thresher.cli.index_step import IndexMismatch, open_index

    parameters = {name: getattr(args, name) for name in ("threshold", "ngram", "num_perm", "seed")}
    parameters["verify"] = args.verify
    try:
        return open_index(Path(args.index), parameters)
    except IndexMismatch as exc:
        raise _UsageError(str(exc)) from None


def _index_stats(args: argparse.Namespace) -> int:
    from thresher.cli.index_step import print_stats, stats_rows

    figures = stats_rows(Path(args.path))
    if args.json:
        print(json.dumps(figures))
    else:
        print_stats(figures)
    return EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    from thresher.cli.pipeline import run_scan
    from thresher.progress import JsonLog, make_reporter

    args.inputs = _check_inputs(args.inputs)
    if args.batch_size < 1:
        raise _UsageError("--batch-size must be at least 1")
    _check_ingest_options(args)
    out = Path(args.out)
    if out.is_dir():
        raise _UsageError(f"--out {out} is a directory; give a file name such as records.parquet")
    errors_out = Path(args.errors) if args.errors else None
    outputs = [("--out", out)] + ([("--errors", errors_out)] if errors_out else [])
    for flag, path in outputs:
        _check_out_path(flag, path, directory=False)
    _check_outputs_apart(args.inputs, outputs)
    reporter = make_reporter(json_log=args.json, quiet=args.quiet)
    try:
        counters = run_scan(
            list(args.inputs),
            out,
            errors_out,
            batch_size=args.batch_size,
            format=args.format,
            fields=_fields(args),
            threads=args.threads,
            reporter=reporter,
            follow_symlinks=args.follow_symlinks,
            html=args.html,
            content_types=args.content_types,
        )
    finally:
        reporter.close()
    if isinstance(reporter, JsonLog):
        reporter.emit("summary", **counters)
    elif not args.quiet:
        print(
            f"wrote {counters['records']:,} records from {counters['files_done']:,} file(s) "
            f"to {out}; {counters['errors']:,} input error(s)"
            + (f" in {errors_out}" if errors_out else "")
        )
        if counters["skipped"]:
            print(f"skipped {_skipped_line(counters['skipped'])}")
        where = str(errors_out) if errors_out else "--errors FILE to keep every row"
        _print_error_groups(counters["error_groups"], args.inputs, where)
    if args.strict and counters["errors"]:
        return EXIT_INPUT_ERRORS
    return EXIT_OK


def _check_ingest_options(args: argparse.Namespace) -> None:
    """Every ingest option the core checks, before anything is read or written."""
    try:
        thresher.ingest([], html=args.html, content_types=args.content_types, **_fields(args))
    except thresher.InvalidOptionError as exc:
        raise _UsageError(str(exc)) from None


def _error_groups(errors_path: Path, without_records: list[str]) -> list[dict[str, Any]]:
    """The rows of ``errors.parquet`` grouped by file and kind, files without
    records first (see :func:`thresher.cli.error_groups.group_errors`)."""
    from thresher.cli.error_groups import group_errors

    return group_errors(pl.read_parquet(errors_path), without_records).to_dicts()


def _print_error_groups(groups: list[dict[str, Any]], inputs: list[str], where: str) -> None:
    """The grouped errors as a table on stdout, ``where`` naming what holds them all."""
    from thresher.cli.error_groups import terminal_lines

    for line in terminal_lines(groups, inputs, where=where):
        print(line)


def _undated_warning(clusters: int) -> str:
    """What ``--keep newest`` says about clusters without a readable date ("" if none)."""
    if not clusters:
        return ""
    noun = "cluster has" if clusters == 1 else "clusters have"
    return (
        f"--keep newest: {clusters:,} {noun} no member with a readable date; "
        "the lowest doc_id was kept in each (clusters_without_dates in summary.json)"
    )


def _field_list(value: str) -> list[str]:
    """A ``--...-field`` value: names separated by commas; ``""`` is none."""
    return [name.strip() for name in value.split(",") if name.strip()]


def _fields(args: argparse.Namespace) -> FieldOptions:
    """The field options given, the core's defaults for the others."""
    given = {option: getattr(args, option) for option in FIELD_OPTIONS}
    return cast(
        FieldOptions,
        {o: list(DEFAULT_FIELDS[o]) if v is None else v for o, v in given.items()},
    )


def _skipped_line(skipped: dict[str, int]) -> str:
    """``12 records that are not documents (image/png 7, warc/request 5)``."""
    total = sum(skipped.values())
    top = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{key} {count:,}" for key, count in top[:6])
    more = ", ..." if len(top) > 6 else ""
    return f"{total:,} records that are not documents ({shown}{more})"


def _run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads", type=int, default=None, metavar="N", help="worker threads (default: all cores)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout (for pipelines)")
    p.add_argument("--strict", action="store_true", help="exit with 1 when any input had errors")


def _ingest_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or archives")
    p.add_argument(
        "--format", choices=FORMATS, default="auto", help="force a format (default: sniffed)"
    )
    what = {
        "text_field": "the text",
        "title_field": "the title",
        "id_field": "the record's own id",
        "url_field": "the URL",
        "date_field": "the date (ISO 8601, RFC 2822, epoch seconds or milliseconds, Arrow dates)",
    }
    for option in FIELD_OPTIONS:
        off = "" if option == "text_field" else "; '' for none"
        p.add_argument(
            "--" + option.replace("_", "-"),
            type=_field_list,
            default=None,
            metavar="NAMES",
            help=f"JSONL fields or Parquet/Arrow columns that may hold {what[option]}, tried "
            f"in order, separated by commas (default: {','.join(DEFAULT_FIELDS[option])}{off})",
        )
    p.add_argument(
        "--batch-size", type=int, default=16_384, metavar="N", help="records per batch (16384)"
    )
    p.add_argument(
        "--html",
        choices=HTML_MODES,
        default=None,
        help="what is kept of HTML: the visible 'text', the 'main' content, or 'raw' HTML "
        "(default: 'text' for web-archive records of HTML type, other inputs as they are; "
        "'text' and 'main' also apply to text files and fields that look like HTML)",
    )
    p.add_argument(
        "--content-types",
        default=None,
        metavar="TYPES",
        help="content types of web-archive records read as documents, separated by commas, "
        "e.g. 'text/html,text/plain' or 'text/*' (default: HTML, XHTML and plain text); "
        "other records are skipped and counted",
    )
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symlinks inside input directories wherever they lead (default: only "
        "those into the inputs; the others are error rows)",
    )


_DEDUP_HELP = """\
Find exact and near duplicates in INPUTs (files, directories, archives, nested to
any depth) and write into DIR:

  kept.parquet        the records kept, with provenance and cluster fields
  duplicates.parquet  every removed record: duplicate_of, cluster_id, similarity, exact
  clusters.parquet    one row per cluster of two or more records
  errors.parquet      every input problem (nothing is dropped silently)
  summary.json        counts (records_in == kept + duplicates), records skipped as
                      not documents (by content type), parameters, timings
  report.html         a page with the counts, charts and the largest clusters

Memory stays bounded: the inputs are parsed once (the later passes read their
records back from a spool: held in memory up to --memory, the rest in
DIR/.thresher-work) and about 200 bytes per record are held besides (see the
README). A run that is killed and started again with the same arguments resumes
from DIR/.thresher-work.

With --ray the work runs on a Ray cluster (thresher.ray) and this machine writes
the same files; the driver holds about 60 bytes per record in a cluster of two or
more, and resumes from the cluster's last finished stage.

Examples:
  thresher dedup crawl/ --out deduped/
  thresher dedup dumps.tar.gz extra/ --out out/ --threshold 0.9 --keep longest
  thresher dedup shards/*.jsonl.zst --text-field content --out out/ --json > log.jsonl
  thresher dedup mixed/ --text-field text,body --date-field published --out out/
  thresher dedup /shared/crawl/ --out /shared/deduped/ --ray auto
"""

_SCAN_HELP = """\
Read INPUTs (ingest only, no dedup) and stream every record into one Parquet file.

Examples:
  thresher scan crawl/ --out records.parquet
  thresher scan dump.tar.zst --out records.parquet --errors errors.parquet --strict
"""

_DEMO_HELP = """\
Ingest the sample dumps bundled with thresher (or INPUTs), dedup them in memory
and print a summary.

Examples:
  thresher demo
  thresher demo ./dumps --threshold 0.9
  thresher demo --out demo-out/     # also write the outputs and report.html
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``thresher`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="thresher",
        description="Ingest scraped text dumps and find exact and near duplicates.",
        epilog="Examples:\n  thresher demo\n  thresher dedup crawl/ --out deduped/\n"
        "  thresher scan crawl/ --out records.parquet\n\n"
        "exit codes: 0 success, 1 input errors with --strict, 2 bad usage, 3 failure, "
        "130 interrupted",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=thresher.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    dedup = sub.add_parser(
        "dedup",
        help="find duplicates and write kept/duplicates/clusters/errors/report",
        description=_DEDUP_HELP,
        formatter_class=raw,
    )
    _ingest_flags(dedup)
    dedup.add_argument("--out", required=True, metavar="DIR", help="output directory")
    dedup.add_argument("--threshold", type=float, default=0.8, help="Jaccard threshold (0.8)")
    dedup.add_argument("--ngram", type=int, default=5, help="words per shingle (5)")
    dedup.add_argument("--num-perm", type=int, default=128, help="MinHash values (128)")
    dedup.add_argument("--seed", type=int, default=thresher.DEFAULT_SEED, help="MinHash seed")
    dedup.add_argument(
        "--verify",
        choices=VERIFY_VALUES,
        default="exact",
        help="verify candidates by exact Jaccard (default) or the signature estimate",
    )
    dedup.add_argument(
        "--keep",
        choices=KEEP_VALUES,
        default="first",
        help="which record of a cluster is kept: lowest doc_id (default), longest text, "
        "latest date (records without a date lose)",
    )
    dedup.add_argument(
        "--index",
        metavar="PATH",
        help="also dedup against this persistent index and add the run's records to it "
        "(created with the run's parameters when absent)",
    )
    dedup.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run on a Ray cluster (pip install 'thresher[ray]'): the one at ADDRESS "
        "('auto' for the one started on this machine, ray://HOST:PORT for a remote "
        "one), or without ADDRESS the one RAY_ADDRESS names, else a new local one; "
        "the same outputs as a local run",
    )
    dedup.add_argument(
        "--sharded",
        action="store_true",
        help="with --ray: kept.parquet and duplicates.parquet are folders of Parquet "
        "parts (part-000000.parquet ..., in doc_id order) written by the cluster, "
        "for outputs larger than this machine's disk",
    )
    dedup.add_argument(
        "--spool-compression",
        choices=SPOOL_CODECS,
        default=SPOOL_COMPRESSION,
        help="codec of the records pass 1 keeps in DIR/.thresher-work for the later "
        "passes: 'lz4' (default, about a third of the text's size on prose), 'zstd' "
        "(smaller, slower) or 'uncompressed' (the text's size; about 10%% faster)",
    )
    dedup.add_argument(
        "--memory",
        type=_size,
        default=None,
        metavar="SIZE",
        help="records of pass 1 held in memory for the later passes instead of "
        "spooled to disk, at most SIZE bytes (K, M, G suffixes; default a quarter of "
        "the memory this process may use, a cgroup's limit included, at most 2G); 0 "
        "spools every batch, which lets a run killed after pass 1 resume without "
        "reading its inputs again",
    )
    _run_flags(dedup)
    # Only dedup checkpoints its work (DIR/.thresher-work), so only it resumes.
    dedup.set_defaults(run=_dedup, resumes=True)

    scan = sub.add_parser(
        "scan",
        help="ingest only: records into one Parquet file",
        description=_SCAN_HELP,
        formatter_class=raw,
    )
    _ingest_flags(scan)
    scan.add_argument("--out", required=True, metavar="FILE", help="Parquet file to write")
    scan.add_argument("--errors", metavar="FILE", help="also write the error rows here")
    _run_flags(scan)
    scan.set_defaults(run=_scan)

    index = sub.add_parser("index", help="inspect a persistent index (thresher.Index)")
    index_sub = index.add_subparsers(dest="index_command", required=True)
    stats = index_sub.add_parser(
        "stats",
        help="documents, segments, bytes on disk, parameters, format version",
    )
    stats.add_argument("path", metavar="PATH", help="the index directory")
    stats.add_argument("--json", action="store_true", help="one JSON object on stdout")
    stats.set_defaults(run=_index_stats)

    demo = sub.add_parser(
        "demo",
        help="ingest and dedup the bundled sample dumps (or INPUTs)",
        description=_DEMO_HELP,
        formatter_class=raw,
    )
    demo.add_argument("inputs", nargs="*", help="files or directories (default: bundled samples)")
    demo.add_argument("--threshold", type=float, default=0.8, help="Jaccard threshold")
    demo.add_argument("--show", type=int, default=5, help="clusters to print")
    demo.add_argument("--out", metavar="DIR", help="also write the dedup outputs and report here")
    demo.set_defaults(run=_demo)
    return parser


def interrupted_message(args: argparse.Namespace) -> str:
    """What Ctrl-C prints: a rerun resumes only for commands that checkpoint
    their work (``dedup``); ``scan`` and ``demo`` start again from scratch."""
    message = "thresher: interrupted; no output was written."
    if getattr(args, "resumes", False):
        message += " Finished work is kept: run the same command again to resume."
    return message


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thresher`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    threads = getattr(args, "threads", None)
    if threads is not None:
        if threads < 1:
            parser.error("--threads must be at least 1")
        # Read by the rayon pool when it is first built, by the first parallel call.
        os.environ["RAYON_NUM_THREADS"] = str(threads)
    if _in_main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.run(args))
    except (_UsageError, OutputError) as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print(interrupted_message(args), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`thresher demo | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OutputInUse as exc:
        # Not a mistake in the arguments, so one line without the usage.
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except thresher.ThresherError as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _in_main_thread() -> bool:
    # Signal handlers can only be set in the main thread.
    import threading

    return threading.current_thread() is threading.main_thread()
