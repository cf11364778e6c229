"""Input errors grouped by source file and kind, for a person to read.

A run may give thousands of error rows; one file without a text field gives
one per line. What a person needs first is which files gave nothing at all
and what went wrong where, so the rows are grouped by ``(source, kind)``:
a count and the first reason of each group, the files that gave no records
first (then by count, most first; ties by path and kind, so the order is
deterministic). The terminal summary, ``report.html`` and ``summary.json``
all take their figures from here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import polars as pl

__all__ = [
    "NO_ROWS_KIND",
    "TERMINAL_ROWS",
    "errors_by_kind",
    "files_without_records",
    "group_errors",
    "short_source",
    "terminal_lines",
]

#: The ``kind`` shown for a file that gave no records and no error row (a web
#: archive whose records were all skipped as not documents, say).
NO_ROWS_KIND = "(none)"
#: Groups shown in the terminal summary; the rest are counted in one line.
TERMINAL_ROWS = 10
_FILE_CHARS = 48
_REASON_CHARS = 72

_GROUP_SCHEMA = {
    "source": pl.String,
    "kind": pl.String,
    "count": pl.UInt64,
    "first_reason": pl.String,
    "no_records": pl.Boolean,
}


def errors_by_kind(errors: pl.DataFrame) -> dict[str, int]:
    """Error rows counted by ``kind``: every kind present, sorted by name."""
    if errors.height == 0:
        return {}
    counts = errors.group_by("kind").len().sort("kind")
    return {str(k): int(n) for k, n in counts.iter_rows()}


def files_without_records(
    candidates: Iterable[str | None], with_records: Collection[str]
) -> list[str]:
    """The sorted sources among ``candidates`` (files the walk listed, sources
    of error rows) that no record came from."""
    return sorted({c for c in candidates if c} - set(with_records))


def group_errors(errors: pl.DataFrame, without_records: Collection[str]) -> pl.DataFrame:
    """One row per ``(source, kind)`` of ``errors``: ``count``, ``first_reason``
    (the reason of its first row in scan order) and ``no_records`` (whether
    the source is one of ``without_records``). A file of ``without_records``
    with no error row gets a row of kind :data:`NO_ROWS_KIND` and count 0, so
    that it is listed too. Files without records come first, then the
    largest counts; ties go by source and kind."""
    without = sorted(set(without_records))
    if errors.height:
        groups = (
            errors.with_columns(pl.col("source").fill_null(""))
            .group_by(["source", "kind"], maintain_order=True)
            .agg(count=pl.len().cast(pl.UInt64), first_reason=pl.col("reason").first())
        )
    else:
        groups = pl.DataFrame(schema={k: v for k, v in _GROUP_SCHEMA.items() if k != "no_records"})
    silent = [s for s in without if s not in set(groups["source"].to_list())]
    if silent:
        groups = pl.concat(
            [
                groups,
                pl.DataFrame(
                    {
                        "source": silent,
                        "kind": [NO_ROWS_KIND] * len(silent),
                        "count": [0] * len(silent),
                        "first_reason": ["no records, and no error row says why"] * len(silent),
                    },
                    schema=groups.schema,
                ),
            ]
        )
    return groups.with_columns(
        no_records=pl.col("source").is_in(pl.Series(without, dtype=pl.String).implode())
    ).sort(
        ["no_records", "count", "source", "kind"],
        descending=[True, True, False, False],
    )


def short_source(source: str, inputs: Iterable[str]) -> str:
    """``source`` relative to the input directory it was found in."""
    for top in inputs:
        prefix = top.rstrip("/") + "/"
        if source.startswith(prefix) and len(source) > len(prefix):
            return source[len(prefix) :]
    return source


def _clip(text: str, width: int, *, keep_end: bool = False) -> str:
    """``text`` cut to ``width`` characters, marked with ``...``; ``keep_end``
    keeps its end (a path's file name) rather than its start."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return "..." + text[-(width - 3) :] if keep_end else text[: width - 3] + "..."


def terminal_lines(
    groups: list[dict[str, Any]], inputs: Iterable[str], *, limit: int = TERMINAL_ROWS, where: str
) -> list[str]:
    """The grouped errors (rows of :func:`group_errors`, in its order) as lines
    of a plain-text table: file (relative to its input, ``[no records]``
    after a file that gave none), kind, count and first reason; at most
    ``limit`` rows, then ``... and N more (see WHERE)``. No lines when there
    are no groups."""
    if not groups:
        return []
    inputs = list(inputs)
    shown = groups[:limit]
    rows = []
    for g in shown:
        name = short_source(g["source"], inputs) if g["source"] else "(no file)"
        mark = " [no records]" if g["no_records"] else ""
        name = _clip(name, _FILE_CHARS - len(mark), keep_end=True) + mark
        rows.append(
            (name, g["kind"], f"{g['count']:,}", _clip(g["first_reason"] or "", _REASON_CHARS))
        )
    header = ("file", "kind", "count", "first reason")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]

    def line(cells: tuple[str, str, str, str]) -> str:
        file, kind, count, reason = cells
        return (
            f"  {file:<{widths[0]}}  {kind:<{widths[1]}}  {count:>{widths[2]}}  {reason}".rstrip()
        )

    n_without = len({g["source"] for g in groups if g["no_records"]})
    title = "input errors by file and kind"
    if n_without:
        title += f" ({n_without:,} file(s) gave no records, listed first)"
    out = [title + ":", line(header), *(line(r) for r in rows)]
    if len(groups) > len(shown):
        out.append(f"  ... and {len(groups) - len(shown):,} more (see {where})")
    return out
