"""``thresher dedup --index PATH``: the run's records against a persistent
:class:`thresher.Index`, and ``thresher index stats PATH``.

Before the run, :func:`open_index` opens the index for adding (creating it,
with the run's parameters, when absent) and refuses one made with other
parameters. After the run has written its outputs, :func:`apply_index`
marks the run's clusters that match a stored document: every record of
such a cluster is a duplicate (its kept record moves from
``kept.parquet`` to ``duplicates.parquet``), and both files gain the
column ``index_match``, the stored id of the index document its cluster
matched (null for the others). Then it adds every record of the run to the
index, duplicates too, each in the cluster it joined, as
:meth:`thresher.Index.dedup` does, and updates ``summary.json``
(``index_matches``, ``index_bridges``: the run's clusters that match two or
more stored clusters, ``kept``, ``duplicates``, and ``index``: its path and
documents).

Records are stored with the id ``SOURCE[!MEMBER]@OFFSET[.PART]``, so that a
later run's ``index_match`` says where the earlier record came from.

Rerunning is safe. The add is labelled with a digest of the run's
outputs (:func:`run_label`), recorded atomically with it in the index's
manifest. A run whose outputs have a label the index already holds (the
same command again, or one killed after the add and before its outputs
were rewritten) adds nothing and matches against the index as it was
before that add, so it writes the same outputs as the first run.
``summary.json`` then says ``"added": 0`` and ``"already_added": true``
under ``index``.

The step holds the run's records in memory (the run itself does not): a
known limit.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import polars as pl

import thresher
from thresher.cli.outputs import write_json, write_parquet
from thresher.streams import priority_stream, text_stream

#: The dedup parameters an index and a run must share.
PARAMETERS = ("threshold", "ngram", "num_perm", "seed", "verify")
#: The column both output files gain.
MATCH_COLUMN = "index_match"


class IndexMismatch(Exception):
    """The index exists with other parameters than the run's (exit 2)."""


def open_index(path: Path, parameters: dict[str, Any]) -> thresher.Index:
    """The index in ``path`` open for adding, created with ``parameters``
    (:data:`PARAMETERS`) if absent; :class:`IndexMismatch` when it holds
    other parameters, or stores ids of another kind than the command's."""
    wanted = {name: parameters[name] for name in PARAMETERS}
    if not (path / "MANIFEST").exists():
        return thresher.Index.create(path, **wanted)
    index = thresher.Index.open(path, "a")
    stored = {name: index.options[name] for name in PARAMETERS}
    if stored != wanted:
        raise IndexMismatch(
            f"--index {path} was made with other parameters:\n"
            f"  index: {_show(stored)}\n  run:   {_show(wanted)}\n"
            "use the index's parameters or another --index"
        )
    ids = index.stats()["ids"]
    if ids not in ("string", "none") or (ids == "none" and len(index)):
        raise IndexMismatch(
            f"--index {path} stores {'no' if ids == 'none' else ids} ids of its documents; "
            "the command stores string ids (made by thresher.Index without id_column?)"
        )
    return index


def _show(parameters: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in parameters.items())


def _record_ids(rows: pl.DataFrame) -> pl.Series:
    """``SOURCE[!MEMBER]@OFFSET[.PART]`` of each record."""
    member = pl.lit("!") + pl.col("member")
    part = pl.lit(".") + pl.col("part").cast(pl.String)
    return rows.select(
        pl.concat_str(
            pl.col("source").fill_null(""),
            member.fill_null(""),
            pl.lit("@"),
            pl.col("offset").cast(pl.String).fill_null(""),
            part.fill_null(""),
        ).alias("id")
    )["id"]


def run_label(out: Path) -> str:
    """The label of a run's add: a digest of ``kept.parquet`` and
    ``duplicates.parquet`` as the run wrote them (the same inputs and
    parameters give the same bytes, whatever the batch size)."""
    digest = hashlib.sha256()
    for name in ("kept.parquet", "duplicates.parquet"):
        with open(out / name, "rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    return f"thresher dedup {digest.hexdigest()}"


def apply_index(index: thresher.Index, path: Path, out: Path) -> dict[str, Any]:
    """Marks the run's records in ``out`` that match ``index`` (in
    ``path``), adds them all
    to it, and rewrites the outputs and ``summary.json``; returns the new
    summary (see the module docs)."""
    kept = pl.read_parquet(out / "kept.parquet")
    dups = pl.read_parquet(out / "duplicates.parquet")
    rows = pl.concat(
        [kept.with_columns(_dup=pl.lit(False)), dups.with_columns(_dup=pl.lit(True))],
        how="vertical_relaxed",
    ).sort("doc_id")
    n = rows.height
    label = run_label(out)
    added = index._inner.labelled(label)
    texts = rows.select(pl.col("text").fill_null(""))
    # An earlier run added these records: match as the index was before.
    before = added[0] if added is not None else None
    matches = pl.DataFrame(index._inner.query(text_stream(texts, "text"), before))
    work = pl.DataFrame(
        {
            "row": pl.int_range(0, n, dtype=pl.Int64, eager=True),
            "cluster": rows["cluster_id"],
            "match_cluster": matches["match_cluster"].cast(pl.Int64),
            "match_id": matches["match_id"].cast(pl.String),
        }
    )
    # Per run cluster: the lowest stored cluster any record matched, the
    # stored id its first matching record matched, and its first row.
    bridges = (
        pl.DataFrame({"cluster": rows["cluster_id"], "c": matches["match_clusters"]})
        .explode("c")
        .group_by("cluster")
        .agg(pl.col("c").drop_nulls().n_unique().alias("k"))
        .filter(pl.col("k") > 1)
        .height
    )
    per = work.group_by("cluster").agg(
        joined=pl.col("match_cluster").min(),
        match=pl.col("match_id").drop_nulls().first(),
        first_row=pl.col("row").min(),
    )
    work = work.join(per, on="cluster", how="left", maintain_order="left")
    codes = work.select(pl.coalesce(pl.col("joined"), -(pl.col("first_row") + 1)).alias("c"))
    rows = rows.with_columns(
        work["match"].alias(MATCH_COLUMN),
        _dup=pl.col("_dup") | work["joined"].is_not_null(),
    )
    if added is None:
        ids = _record_ids(rows).rename("id").to_frame().__arrow_c_stream__()
        index._inner.label_next_add(label)
        index._inner.add(text_stream(texts, "text"), priority_stream(codes["c"]), ids)
    new_kept = rows.filter(~pl.col("_dup")).drop("_dup")
    new_dups = rows.filter(pl.col("_dup")).drop("_dup")
    write_parquet(new_kept, out / "kept.parquet", fsync=True)
    write_parquet(new_dups, out / "duplicates.parquet", fsync=True)
    summary = thresher_summary(out)
    summary.update(
        kept=new_kept.height,
        duplicates=new_dups.height,
        index_matches=int(work["joined"].is_not_null().sum()),
        index_bridges=bridges,
        index={
            "path": os.fspath(path),
            "documents": len(index),
            "added": 0 if added is not None else n,
            "already_added": added is not None,
        },
    )
    write_json(summary, out / "summary.json", fsync=True)
    return summary


def thresher_summary(out: Path) -> dict[str, Any]:
    """The run's ``summary.json``."""
    import json

    return dict(json.loads((out / "summary.json").read_text(encoding="utf-8")))


def stats_rows(path: Path) -> dict[str, Any]:
    """The figures ``thresher index stats`` prints: documents, segments,
    bytes on disk, parameters and format version."""
    index = thresher.Index.open(path, "r")
    stats = index.stats()
    options = index.options
    return {
        "path": os.fspath(path),
        "documents": stats["documents"],
        "segments": stats["segments"],
        "bytes": stats["bytes"],
        "bytes_per_document": round(stats["bytes"] / stats["documents"], 1)
        if stats["documents"]
        else None,
        "index_format": stats["index_format"],
        "ids": stats["ids"],
        "parameters": {name: options[name] for name in PARAMETERS},
    }


def print_stats(figures: dict[str, Any]) -> None:
    """``figures`` as a two-column table."""
    lines = [(k, v) for k, v in figures.items() if k != "parameters"]
    lines += [(k, v) for k, v in figures["parameters"].items()]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        print(f"{key:<{width}}  {shown}")
