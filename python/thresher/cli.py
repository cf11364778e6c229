"""The ``thresher`` command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import resources
from pathlib import Path

import polars as pl

import thresher


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
        f"(threshold {args.threshold}) in {elapsed:.2f} s"
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
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thresher",
        description="Ingest scraped text dumps and find exact and near duplicates.",
    )
    parser.add_argument("--version", action="version", version=thresher.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="ingest and dedup the bundled sample dumps (or INPUTs)",
        description="Ingest the sample dumps bundled with thresher, dedup them and print a "
        "summary. Example: thresher demo; thresher demo ./dumps --threshold 0.9",
    )
    demo.add_argument("inputs", nargs="*", help="files or directories (default: bundled samples)")
    demo.add_argument("--threshold", type=float, default=0.8, help="Jaccard threshold")
    demo.add_argument("--show", type=int, default=5, help="clusters to print")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader went away (`thresher demo | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
