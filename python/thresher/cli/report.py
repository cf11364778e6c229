"""``report.html``: one self-contained page about a ``thresher dedup`` run.

Counts (with a warning, at the top, naming the input files that gave no
records), a histogram of cluster sizes, the distribution of similarities of
the accepted near-duplicate pairs, the LSH probability curve of the chosen
bands and rows with the threshold marked, the largest clusters with sample
texts side by side (words that differ from the representative highlighted),
and the input errors: grouped by file and kind (files without records first
and marked), then the first error rows one by one.
Charts are inline SVG; there is no script, no external asset, no network.
"""

from __future__ import annotations

import difflib
import html
import itertools
import math
import re
from pathlib import Path
from typing import Any, cast

import polars as pl

from thresher.cli.error_groups import group_errors, short_source
from thresher.cli.outputs import write_text

__all__ = ["lsh_probability", "render_report", "write_report"]

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#f6f7f9; --card:#fff;
  --kept:#3b6fd8; --exact:#d8713b; --near:#8e5bd1; --err:#c0392b; --accent:#0f9d76; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 36px 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
.sub { color: var(--muted); margin: 0 0 20px; font-size: 13.5px; word-break: break-all; }
.cards { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 14px; }
.card .n { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); font-size: 12.5px; text-transform: uppercase;
  letter-spacing: 0.04em; }
.share { display: flex; height: 12px; border-radius: 6px; overflow: hidden; margin: 14px 0 4px;
  background: var(--line); }
.legend { color: var(--muted); font-size: 13px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px;
  margin: 0 5px 0 12px; vertical-align: -1px; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 12px 6px; }
.chart p { color: var(--muted); font-size: 12.5px; margin: 2px 0 0; }
svg text { font-family: inherit; fill: var(--muted); font-size: 11px; }
svg .title { fill: var(--ink); font-size: 12px; font-weight: 600; }
.cluster { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 14px; margin-bottom: 14px; }
.cluster .meta { color: var(--muted); font-size: 13px; margin-bottom: 10px; }
.side { display: grid; gap: 12px; }
.doc { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px;
  font-size: 13px; line-height: 1.45; max-height: 300px; overflow: auto; }
.doc.rep { border-color: #b9cbf3; background: #f7f9fe; }
.doc .hd { font-size: 12px; color: var(--muted); margin-bottom: 6px; word-break: break-all; }
.doc .hd b { color: var(--ink); }
.doc .t { font-weight: 600; margin-bottom: 4px; }
.tag { display:inline-block; font-size: 11px; border-radius: 4px; padding: 0 6px;
  margin-left: 6px; color: #fff; }
.tag.rep { background: var(--kept); } .tag.exact { background: var(--exact); }
.tag.near { background: var(--near); }
ins { background: #d5f0e0; text-decoration: none; border-radius: 2px; padding: 0 2px; }
del { background: #fde2e0; color: #8a2c22; border-radius: 2px; padding: 0 2px; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: 13px;
  border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #fafbfc; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; align-items: start; }
.empty { color: var(--muted); font-style: italic; }
.warn { background: #fdf0ee; border: 1px solid #f1c0b9; border-left: 5px solid var(--err);
  border-radius: 8px; padding: 10px 14px; margin: 16px 0 0; }
.warn p { margin: 0; } .warn p + p { margin-top: 6px; }
tr.no-records td { background: #fdf0ee; }
tr.no-records td:first-child { border-left: 4px solid var(--err); }
.tag.none { background: var(--err); }
#errors h3 { margin-top: 18px; } #errors h3:first-child { margin-top: 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""


def lsh_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that a pair of this Jaccard similarity shares at least one
    LSH band: ``1 - (1 - s**rows) ** bands``."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else _e(n)


def _nice_max(value: float, integer: bool = True) -> tuple[float, list[float]]:
    """An axis maximum >= value and 3-5 tick positions (whole numbers for counts)."""
    if value <= 0:
        return 1.0, [0.0, 1.0]
    exp = 10 ** math.floor(math.log10(value))
    for step in (0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0):
        s = step * exp
        if integer and s < 1:
            continue
        if value / s <= 5:
            top = math.ceil(value / s) * s
            ticks = [i * s for i in range(round(top / s) + 1)]
            return top, ticks
    return value, [0.0, value]


def _tick_label(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:g}"


class _Plot:
    """A small SVG plot area with labelled axes."""

    def __init__(self, title: str, x_label: str, y_label: str) -> None:
        self.w, self.h = 360, 250
        self.left, self.right, self.top, self.bottom = 52, 14, 28, 46
        self.title, self.x_label, self.y_label = title, x_label, y_label
        self.parts: list[str] = []

    @property
    def pw(self) -> float:
        return self.w - self.left - self.right

    @property
    def ph(self) -> float:
        return self.h - self.top - self.bottom

    def x(self, frac: float) -> float:
        return self.left + frac * self.pw

    def y(self, frac: float) -> float:
        return self.top + (1 - frac) * self.ph

    def y_axis(self, top: float, ticks: list[float], fmt: Any = _tick_label) -> None:
        for t in ticks:
            yy = self.y(t / top)
            self.parts.append(
                f'<line x1="{self.left}" x2="{self.w - self.right}" y1="{yy:.1f}" '
                f'y2="{yy:.1f}" stroke="#e3e6ec"/>'
                f'<text x="{self.left - 6}" y="{yy + 3.5:.1f}" text-anchor="end">{fmt(t)}</text>'
            )

    def x_tick(self, frac: float, label: str) -> None:
        xx = self.x(frac)
        self.parts.append(
            f'<text x="{xx:.1f}" y="{self.top + self.ph + 15}" text-anchor="middle">'
            f"{_e(label)}</text>"
        )

    def svg(self, css_class: str) -> str:
        axes = (
            f'<line x1="{self.left}" x2="{self.w - self.right}" y1="{self.y(0):.1f}" '
            f'y2="{self.y(0):.1f}" stroke="#9aa3b2"/>'
            f'<text class="title" x="{self.left}" y="16">{_e(self.title)}</text>'
            f'<text x="{self.left + self.pw / 2:.1f}" y="{self.h - 8}" text-anchor="middle">'
            f"{_e(self.x_label)}</text>"
            f'<text transform="translate(13,{self.top + self.ph / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{_e(self.y_label)}</text>'
        )
        return (
            f'<svg class="{css_class}" viewBox="0 0 {self.w} {self.h}" width="100%" '
            f'role="img" aria-label="{_e(self.title)}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(self.parts)
            + axes
            + "</svg>"
        )


def _bars(plot: _Plot, labels: list[str], values: list[int], color: str) -> None:
    top, ticks = _nice_max(max(values) if values else 0)
    plot.y_axis(top, ticks)
    n = max(len(values), 1)
    slot = plot.pw / n
    every = max(1, math.ceil(n / 10))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x0 = plot.left + i * slot + slot * 0.12
        height = plot.ph * value / top
        plot.parts.append(
            f'<rect x="{x0:.1f}" y="{plot.y(value / top):.1f}" width="{slot * 0.76:.1f}" '
            f'height="{height:.1f}" rx="2" fill="{color}"><title>{_e(label)}: '
            f"{value:,}</title></rect>"
        )
        if i % every == 0:
            plot.x_tick((i + 0.5) / n, label)


def cluster_size_chart(sizes: pl.Series) -> str:
    """Histogram of cluster sizes (clusters of two or more records)."""
    plot = _Plot("Cluster sizes", "records in cluster", "clusters")
    if sizes.len() == 0:
        return plot.svg("chart-sizes") + '<p class="empty">No clusters: nothing was duplicated.</p>'
    counts = sizes.value_counts().sort(sizes.name)
    largest = int(sizes.max())  # type: ignore[arg-type]
    if largest <= 16:
        found = dict(zip(counts[sizes.name].to_list(), counts["count"].to_list(), strict=True))
        labels = [str(s) for s in range(2, largest + 1)]
        values = [int(found.get(s, 0)) for s in range(2, largest + 1)]
    else:
        edges = [2, 3, 4, 5, 6, 8, 11, 16, 32, 64, 128, 256, 512, 1024, 10**18]
        labels, values = [], []
        for lo, hi in itertools.pairwise(edges):
            if lo > largest:
                break
            n = int(sizes.filter((sizes >= lo) & (sizes < hi)).len())
            labels.append(
                str(lo) if hi == lo + 1 else f"{lo}+" if hi > largest else f"{lo}-{hi - 1}"
            )
            values.append(n)
    _bars(plot, labels, values, "#3b6fd8")
    noun = "cluster" if sizes.len() == 1 else "clusters"
    return plot.svg("chart-sizes") + (
        f"<p>{sizes.len():,} {noun} of two or more records; the largest holds {largest:,}.</p>"
    )


def similarity_chart(similarities: pl.Series, threshold: float) -> str:
    """Histogram of the similarities of accepted near-duplicate pairs."""
    plot = _Plot("Similarity of accepted pairs", "Jaccard similarity", "pairs")
    lo = math.floor(threshold * 20) / 20
    width = 0.02 if 1 - lo <= 0.4 else 0.05
    n_bins = max(1, round((1 - lo) / width))
    values = [0] * n_bins
    for s in similarities.to_list():
        i = min(n_bins - 1, max(0, int((s - lo) / width)))
        values[i] += 1
    labels = [f"{lo + i * width:.2f}" for i in range(n_bins)]
    _bars(plot, labels, values, "#8e5bd1")
    fx = (threshold - lo) / (1 - lo) if lo < 1 else 0
    x = plot.x(fx)
    plot.parts.append(
        f'<line class="threshold" x1="{x:.1f}" x2="{x:.1f}" y1="{plot.top}" y2="{plot.y(0):.1f}" '
        f'stroke="#c0392b" stroke-dasharray="4 3"/>'
        f'<text x="{x + 4:.1f}" y="{plot.top + 10}" style="fill:#c0392b">threshold '
        f"{threshold:g}</text>"
    )
    if similarities.len() == 0:
        note = "No near-duplicate pairs were accepted."
    else:
        note = (
            f"{similarities.len():,} near-duplicate pairs, median "
            f"{cast(float, similarities.median()):.3f}; exact duplicates are not shown."
        )
    return plot.svg("chart-similarity") + f"<p>{note}</p>"


def lsh_chart(bands: int, rows: int, threshold: float) -> str:
    """The S-curve ``1 - (1 - s^r)^b`` with the threshold marked."""
    plot = _Plot(f"LSH: {bands} bands of {rows} rows", "Jaccard similarity", "P(candidate)")
    plot.y_axis(1.0, [0, 0.25, 0.5, 0.75, 1.0], fmt=lambda v: f"{v:g}")
    points = [
        f"{plot.x(i / 200):.1f},{plot.y(lsh_probability(i / 200, bands, rows)):.1f}"
        for i in range(201)
    ]
    plot.parts.append(
        f'<polyline class="lsh-curve" points="{" ".join(points)}" fill="none" '
        f'stroke="#0f9d76" stroke-width="2.2"/>'
    )
    for t in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        plot.x_tick(t, f"{t:g}")
    p = lsh_probability(threshold, bands, rows)
    x, y = plot.x(threshold), plot.y(p)
    plot.parts.append(
        f'<line class="threshold" x1="{x:.1f}" x2="{x:.1f}" y1="{plot.top}" y2="{plot.y(0):.1f}" '
        f'stroke="#c0392b" stroke-dasharray="4 3"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#c0392b"/>'
        f'<text x="{plot.w - plot.right:.1f}" y="{plot.y(0.12):.1f}" text-anchor="end" '
        f'style="fill:#c0392b">P = {p:.3f} at threshold {threshold:g}</text>'
    )
    return plot.svg("chart-lsh") + (
        f"<p>A pair at the threshold becomes a candidate with probability {p:.3f}; "
        "every candidate is then verified.</p>"
    )


_WORD = re.compile(r"\S+|\s+")


def _diff_html(base: str, other: str, context: int = 24) -> str:
    """``other`` with the words not in ``base`` marked ``<ins>`` and the words of
    ``base`` missing from it marked ``<del>``; long unchanged stretches are cut
    to ``context`` tokens (words and spaces) around each change."""
    a, b = _WORD.findall(base), _WORD.findall(other)
    out: list[str] = []
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    if all(op == "equal" for op, *_ in ops):
        head = "".join(b[: 4 * context])
        return _e(head) + (" &hellip;" if len(b) > 4 * context else "")
    for i, (op, a0, a1, b0, b1) in enumerate(ops):
        if op == "equal":
            run = b[b0:b1]
            first, last = i == 0, i == len(ops) - 1
            if first and len(run) > context:
                out.append("&hellip; " + _e("".join(run[-context:])))
            elif last and len(run) > context:
                out.append(_e("".join(run[:context])) + " &hellip;")
            elif not first and not last and len(run) > 2 * context:
                out.append(_e("".join(run[:context])) + " &hellip; " + _e("".join(run[-context:])))
            else:
                out.append(_e("".join(run)))
            continue
        if op in ("replace", "delete") and "".join(a[a0:a1]).strip():
            out.append(f"<del>{_e(''.join(a[a0:a1]))}</del>")
        if op in ("replace", "insert") and "".join(b[b0:b1]).strip():
            out.append(f"<ins>{_e(''.join(b[b0:b1]))}</ins>")
    return "".join(out)


def _excerpt(text: str, words: int = 96) -> str:
    tokens = _WORD.findall(text)
    return _e("".join(tokens[:words])) + (" &hellip;" if len(tokens) > words else "")


#: Rows of the grouped error table; the rest are counted below it.
GROUP_ROWS = 200
#: Error rows listed one by one.
ERROR_ROWS = 50


def _doc(row: dict[str, Any], body: str, is_rep: bool, inputs: list[str]) -> str:
    if is_rep:
        tag = '<span class="tag rep">kept</span>'
    elif row["exact"]:
        tag = '<span class="tag exact">exact, identical text</span>'
    else:
        tag = f'<span class="tag near">near, {row["similarity"]:.3f}</span>'
    source = short_source(row["source"] or "", inputs)
    where = _e(source) + (f"!/{_e(row['member'])}" if row.get("member") else "")
    title = f'<div class="t">{_e(row["title"])}</div>' if row.get("title") else ""
    return (
        f'<div class="doc{" rep" if is_rep else ""}"><div class="hd"><b>doc {row["doc_id"]}'
        f"</b>{tag}<br>{where}</div>{title}<div>{body}</div></div>"
    )


def _clusters_section(clusters: pl.DataFrame, samples: pl.DataFrame, inputs: list[str]) -> str:
    if clusters.height == 0 or samples.height == 0:
        return '<p class="empty">No clusters.</p>'
    top = clusters.sort(["size", "cluster_id"], descending=[True, False]).head(6)
    blocks = []
    for c in top.iter_rows(named=True):
        members = samples.filter(pl.col("cluster_id") == c["cluster_id"]).sort(
            ["is_duplicate", "exact", "similarity", "doc_id"]
        )
        rows = members.to_dicts()
        reps = [r for r in rows if not r["is_duplicate"]]
        if not reps:
            continue
        rep = reps[0]
        others = [r for r in rows if r["is_duplicate"]]
        cards = [_doc(rep, _excerpt(rep["text"] or ""), True, inputs)]
        cards += [
            _doc(r, _diff_html(rep["text"] or "", r["text"] or ""), False, inputs) for r in others
        ]
        min_sim = c["min_similarity"]
        blocks.append(
            f'<div class="cluster"><h3>Cluster {c["cluster_id"]}: {c["size"]:,} records</h3>'
            f'<div class="meta">{c["exact_duplicates"]:,} exact and {c["near_duplicates"]:,} '
            f"near duplicates of doc {c['representative_doc_id']}; lowest similarity "
            f"{min_sim:.3f}. Showing the kept record and its least similar members, "
            "with the words they <ins>add</ins> and <del>drop</del> marked.</div>"
            f'<div class="side" style="grid-template-columns: repeat({len(cards)}, 1fr)">'
            + "".join(cards)
            + "</div></div>"
        )
    return "".join(blocks)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_fmt(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _groups_table(groups: pl.DataFrame, inputs: list[str]) -> str:
    """The errors grouped by file and kind (see
    :func:`~thresher.cli.error_groups.group_errors`), at most
    :data:`GROUP_ROWS` rows; a file without records is marked."""
    shown = groups.head(GROUP_ROWS)
    rows = []
    for g in shown.iter_rows(named=True):
        name = _e(short_source(g["source"], inputs)) if g["source"] else "(no file)"
        mark = ' <span class="tag none">no records</span>' if g["no_records"] else ""
        row_class = ' class="no-records"' if g["no_records"] else ""
        rows.append(
            f"<tr{row_class}><td>{name}{mark}</td>"
            f'<td>{_e(g["kind"])}</td><td class="num">{g["count"]:,}</td>'
            f"<td>{_e(g['first_reason'])}</td></tr>"
        )
    html_rows = "".join(rows)
    table = (
        '<table id="error-groups"><tr><th>file</th><th>kind</th><th>count</th>'
        f"<th>first reason</th></tr>{html_rows}</table>"
    )
    if groups.height > shown.height:
        table += (
            f"<p>{groups.height - shown.height:,} more groups; every row is in errors.parquet.</p>"
        )
    return table


def _warnings(summary: dict[str, Any], inputs: list[str]) -> str:
    """The banner under the counts: files that gave no records, clusters that
    ``--keep newest`` could not choose by date."""
    notes = []
    without = summary.get("files_without_records") or []
    if without:
        names = ", ".join(_e(short_source(s, inputs)) for s in without[:5])
        more = f" and {len(without) - 5:,} more" if len(without) > 5 else ""
        notes.append(
            f'<p id="warn-no-records"><b>{len(without):,} input file(s) gave no records:</b> '
            f'{names}{more}. See <a href="#errors">input errors</a>.</p>'
        )
    undated = summary.get("clusters_without_dates") or 0
    if undated:
        notes.append(
            f'<p id="warn-no-dates"><b>{undated:,} cluster(s) had no member with a readable '
            "date:</b> keep newest kept the lowest doc_id in each.</p>"
        )
    return f'<section class="warn">{"".join(notes)}</section>' if notes else ""


def render_report(
    *,
    summary: dict[str, Any],
    clusters: pl.DataFrame,
    similarities: pl.Series,
    samples: pl.DataFrame,
    errors: pl.DataFrame,
    groups: pl.DataFrame | None = None,
) -> str:
    """The HTML of the report (see the module docstring). ``groups``: the
    errors grouped by file and kind (computed from ``errors`` and the
    summary's ``files_without_records`` when not given)."""
    if groups is None:
        groups = group_errors(errors, summary.get("files_without_records") or [])
    p = summary["parameters"]
    n_in = summary["records_in"] or 1
    cards = [
        ("records in", summary["records_in"], "records-in"),
        ("kept", summary["kept"], "kept"),
        ("exact duplicates", summary["exact_duplicates"], "exact"),
        ("near duplicates", summary["near_duplicates"], "near"),
        ("clusters", summary["clusters"], "clusters"),
        ("input errors", summary["errors"], "errors"),
    ]
    cards_html = "".join(
        f'<div class="card" id="count-{key}"><div class="n">{n:,}</div>'
        f'<div class="l">{_e(label)}</div></div>'
        for label, n, key in cards
    )
    share = "".join(
        f'<div style="width:{100 * summary[k] / n_in:.3f}%;background:var(--{c})"></div>'
        for k, c in (("kept", "kept"), ("exact_duplicates", "exact"), ("near_duplicates", "near"))
    )
    pct = {k: 100 * summary[k] / n_in for k in ("kept", "exact_duplicates", "near_duplicates")}
    legend = (
        f'<i style="background:var(--kept);margin-left:0"></i>kept {pct["kept"]:.1f}%'
        f'<i style="background:var(--exact)"></i>exact duplicates {pct["exact_duplicates"]:.1f}%'
        f'<i style="background:var(--near)"></i>near duplicates {pct["near_duplicates"]:.1f}%'
    )
    sizes = clusters["size"] if clusters.height else pl.Series("size", [], pl.UInt64)
    charts = (
        f'<div class="chart">{cluster_size_chart(sizes)}</div>'
        f'<div class="chart">{similarity_chart(similarities, p["threshold"])}</div>'
        f'<div class="chart">{lsh_chart(p["bands"], p["rows"], p["threshold"])}</div>'
    )
    params = _table(
        ["parameter", "value"],
        [[k, v] for k, v in p.items()],
    )
    timings = _table(
        ["phase", "seconds"],
        [[k, f"{v:.2f}"] for k, v in summary["timings"].items()],
    )
    errors_html = ""
    if groups.height:
        errors_html += "<h3>By file and kind</h3>" + _groups_table(groups, summary["inputs"])
    if errors.height:
        shown = errors.head(ERROR_ROWS)
        errors_html += "<h3>Error rows</h3>" + _table(
            ["source", "member", "offset", "kind", "reason"],
            [
                [r["source"], r["member"], r["offset"], r["kind"], r["reason"]]
                for r in shown.iter_rows(named=True)
            ],
            numeric={2},
        )
        if errors.height > shown.height:
            errors_html += f"<p>{errors.height - shown.height:,} more in errors.parquet.</p>"
    if not errors_html:
        errors_html = '<p class="empty">No input errors.</p>'
    inputs = ", ".join(summary["inputs"])
    mb = summary["bytes"] / 1e6
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>thresher report: {summary["kept"]:,} of {summary["records_in"]:,} records kept</title>
<style>{_CSS}</style></head>
<body><main>
<h1>Deduplication report</h1>
<p class="sub">thresher {_e(summary["thresher_version"])} &middot; {summary["files"]:,} files,
{mb:,.1f} MB &middot; threshold {p["threshold"]:g}, {p["ngram"]}-word shingles,
{p["num_perm"]} permutations, keep {_e(p["keep"])} &middot; inputs: {_e(inputs)}</p>
<section id="counts"><div class="cards">{cards_html}</div>
<div class="share">{share}</div><div class="legend">{legend}</div></section>
{_warnings(summary, summary["inputs"])}
<h2>Distributions</h2>
<section class="charts">{charts}</section>
<h2>Largest clusters</h2>
<section id="clusters">{_clusters_section(clusters, samples, summary["inputs"])}</section>
<h2>Input errors</h2>
<section id="errors">{errors_html}</section>
<h2>Run</h2>
<section class="two">{params}{timings}</section>
<footer>records_in = kept + duplicates: {summary["records_in"]:,} =
{summary["kept"]:,} + {summary["duplicates"]:,}. Files: kept.parquet, duplicates.parquet,
clusters.parquet, errors.parquet, summary.json.</footer>
</main></body></html>
"""


def write_report(
    path: Path,
    *,
    summary: dict[str, Any],
    clusters: pl.DataFrame,
    similarities: pl.Series,
    samples: pl.DataFrame,
    errors: pl.DataFrame,
    groups: pl.DataFrame | None = None,
) -> None:
    """Render the report and write it to ``path`` atomically."""
    write_text(
        render_report(
            summary=summary,
            clusters=clusters,
            similarities=similarities,
            samples=samples,
            errors=errors,
            groups=groups,
        ),
        path,
    )
