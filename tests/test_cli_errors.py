"""Errors a user cannot miss: the command's input errors grouped by file and
kind (terminal summary, report.html, summary.json), the files that gave no
records named first, and ``--keep newest`` saying when it had no date."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from archive_builders import compress, jsonl_bytes, warc_record
from browser import chromium, rendered_dom, screenshot
from PIL import Image

import thresher
from thresher.cli import pipeline
from thresher.cli.error_groups import (
    NO_ROWS_KIND,
    errors_by_kind,
    files_without_records,
    group_errors,
    terminal_lines,
)
from thresher.progress import Reporter

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron".split()


def sentence(i: int, n: int = 24) -> str:
    """A text of ``n`` words that shares few shingles with another ``i``."""
    return " ".join(WORDS[(i * 7 + k * (i % 5 + 1)) % len(WORDS)] + str(i + k) for k in range(n))


def thresher_command() -> list[str]:
    """The installed ``thresher`` script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def cells(line: str) -> list[str]:
    """The cells of a line of the terminal's error table (two spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


def run(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*thresher_command(), *args], capture_output=True, text=True, check=False, timeout=120
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSONL shard without a text field (only ``body``), a good JSONL shard,
    a good Parquet shard and a JSONL shard with more malformed lines than the
    first has lines, so that ordering by count alone would put it first."""
    root = tmp_path_factory.mktemp("errors") / "corpus"
    root.mkdir()
    (root / "a-good.jsonl").write_bytes(jsonl_bytes([{"text": sentence(i)} for i in range(6)]))
    pl.DataFrame({"text": [sentence(i) for i in range(10, 16)]}).write_parquet(
        root / "b-good.parquet"
    )
    good = [f'{{"text": "{sentence(i)}"}}' for i in range(20, 25)]
    bad = ['{"text": broken', "[1, 2]", '"just a string"', "{", "nope", "{}x", "[", "]", "12 13"]
    (root / "c-malformed.jsonl").write_text("\n".join(good + bad) + "\n")
    (root / "z-no-text.jsonl").write_bytes(jsonl_bytes([{"body": sentence(i)} for i in range(3)]))
    return root


@pytest.fixture(scope="module")
def dedup_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The output directory of ``thresher dedup`` on :func:`corpus`, and its stdout."""
    out = tmp_path_factory.mktemp("errors-out") / "o"
    proc = run("dedup", str(corpus), "--out", str(out), "--threads", "1")
    return out, proc.stdout


class _Tables(HTMLParser):
    """Each ``<table>`` of a page as its ``id``, its rows (``class``, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str | None, list[tuple[str | None, list[str]]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append((found.get("id"), []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append((found.get("class"), []))
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_tables(page: str) -> list[tuple[str | None, list[tuple[str | None, list[str]]]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def expected_groups(errors: pl.DataFrame, corpus: Path) -> list[tuple[str, str, int]]:
    """``(file, kind, count)`` of the error rows, counted here apart from the
    command: the shard without text first, then by count, most first, ties
    by file and kind."""
    counts = Counter(
        (Path(source).relative_to(corpus).as_posix(), kind)
        for source, kind in errors.select("source", "kind").iter_rows()
    )
    no_text = "z-no-text.jsonl"
    return [
        (file, kind, n)
        for (file, kind), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0] != no_text, -kv[1], kv[0][0], kv[0][1])
        )
    ]


def test_shard_without_text_is_first_in_the_terminal_summary(
    corpus: Path, dedup_run: tuple[Path, str]
) -> None:
    out, stdout = dedup_run
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("input errors by file"))
    assert "1 file(s) gave no records" in lines[start]
    header, *rows = (cells(line) for line in lines[start + 1 :] if line.startswith("  "))
    assert header == ["file", "kind", "count", "first reason"]
    expected = expected_groups(pl.read_parquet(out / "errors.parquet"), corpus)
    marked = [
        (f"{file} [no records]" if file == "z-no-text.jsonl" else file, kind, str(n))
        for file, kind, n in expected
    ]
    assert [tuple(r[:3]) for r in rows] == marked
    assert rows[0][0] == "z-no-text.jsonl [no records]"
    assert ("c-malformed.jsonl", "malformed", "9") in marked
    reasons = " ".join(r[3] for r in rows if r[0].startswith("z-no-text"))
    assert "body" in reasons, "a reason says which fields were found"


def test_summary_json_names_files_without_records(
    corpus: Path, dedup_run: tuple[Path, str]
) -> None:
    out, _ = dedup_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files_without_records"] == [str(corpus / "z-no-text.jsonl")]
    errors = pl.read_parquet(out / "errors.parquet")
    counted = Counter(errors["kind"].to_list())
    assert summary["errors_by_kind"] == dict(counted)
    assert list(summary["errors_by_kind"]) == sorted(counted)
    assert sum(summary["errors_by_kind"].values()) == summary["errors"] == errors.height
    assert summary["clusters_without_dates"] == 0  # always present; 0 unless --keep newest
    assert summary["records_in"] == 6 + 6 + 5


def test_report_groups_errors_before_the_rows(corpus: Path, dedup_run: tuple[Path, str]) -> None:
    out, _ = dedup_run
    page = (out / "report.html").read_text()
    tables = page_tables(page)
    ids = [t[0] for t in tables]
    header, *rows = tables[ids.index("error-groups")][1]
    assert header[1] == ["file", "kind", "count", "first reason"]
    errors = pl.read_parquet(out / "errors.parquet")
    expected = expected_groups(errors, corpus)
    no_text = "z-no-text.jsonl"
    assert [(css, cell[0], cell[1], int(cell[2].replace(",", ""))) for css, cell in rows] == [
        ("no-records" if f == no_text else None, f"{f} no records" if f == no_text else f, k, n)
        for f, k, n in expected
    ]
    assert rows[0][0] == "no-records" and rows[0][1][0].startswith(no_text)
    assert "body" in " ".join(cell[3] for _, cell in rows if cell[0].startswith(no_text))
    # The grouped table comes before the list of error rows, which stays.
    rows_table = next(
        i for i, t in enumerate(tables) if t[1] and t[1][0][1][:2] == ["source", "member"]
    )
    assert ids.index("error-groups") < rows_table
    assert len(tables[rows_table][1]) - 1 == errors.height
    assert page.index('id="warn-no-records"') < page.index('id="error-groups"')


def test_strict_fails_on_input_errors(corpus: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o")
    run("dedup", str(corpus), "--out", out, "--strict", "-q", check_rc=1)
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["files_without_records"]
    run("scan", str(corpus), "--out", str(tmp_path / "r.parquet"), "--strict", "-q", check_rc=1)
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(corpus / "a-good.jsonl", clean)
    run("dedup", str(clean), "--out", str(tmp_path / "c"), "--strict", "-q", check_rc=0)


def test_scan_prints_the_groups_and_returns_them(corpus: Path, tmp_path: Path) -> None:
    proc = run("scan", str(corpus), "--out", str(tmp_path / "r.parquet"))
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("input errors by file"))
    assert cells(lines[start + 2])[0] == "z-no-text.jsonl [no records]"
    logged = run("scan", str(corpus), "--out", str(tmp_path / "j.parquet"), "--json")
    summary = json.loads(logged.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["files_without_records"] == [str(corpus / "z-no-text.jsonl")]
    errors = thresher.ingest([str(corpus)]).errors
    assert summary["errors_by_kind"] == dict(sorted(Counter(errors["kind"].to_list()).items()))
    assert summary["error_groups"][0]["source"] == str(corpus / "z-no-text.jsonl")


def test_report_renders_the_groups_in_chromium(dedup_run: tuple[Path, str], tmp_path: Path) -> None:
    browser = chromium()
    out, _ = dedup_run
    url = (out / "report.html").as_uri()
    tables = page_tables(rendered_dom(browser, url))
    groups = next(t[1] for t in tables if t[0] == "error-groups")
    assert groups[1] == ("no-records", groups[1][1]) and groups[1][1][0].startswith("z-no-text")
    shot = tmp_path / "report.png"
    screenshot(browser, url, shot, 1280, 2400)
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (1280, 2400)
        rgb = image.convert("RGB").tobytes()
    pixels = [rgb[i : i + 3] for i in range(0, len(rgb), 3)]
    # The warning banner and the marked row are drawn in their tint (#fdf0ee):
    # about 1180 x 40 pixels of banner and 1180 x 30 of row at the least.
    tint = sum(1 for p in pixels if abs(p[0] - 253) + abs(p[1] - 240) + abs(p[2] - 238) <= 6)
    assert tint > 1180 * 60, tint


def test_groups_order_and_terminal_cap() -> None:
    errors = pl.DataFrame(
        {
            "source": [f"/in/f{i:02d}.jsonl" for i in range(12) for _ in range(i % 3 + 1)]
            + ["/in/empty.jsonl", None],
            "member": None,
            "offset": 0,
            "kind": ["malformed"] * sum(i % 3 + 1 for i in range(12)) + ["empty", "io"],
            "reason": "why",
        },
        schema_overrides={"member": pl.String, "offset": pl.UInt64},
    )
    without = files_without_records(
        ["/in/f00.jsonl", "/in/empty.jsonl", "/in/skipped.warc", None],
        {"/in/f00.jsonl"},
    )
    assert without == ["/in/empty.jsonl", "/in/skipped.warc"]
    groups = group_errors(errors, without)
    order = groups.select("source", "kind", "count").rows()
    # Files without records first (the one with no error row gets a row of
    # its own), then most errors first, ties by path.
    assert order[:3] == [
        ("/in/empty.jsonl", "empty", 1),
        ("/in/skipped.warc", NO_ROWS_KIND, 0),
        ("/in/f02.jsonl", "malformed", 3),
    ]
    assert [r[2] for r in order[2:]] == sorted((r[2] for r in order[2:]), reverse=True)
    # An error row without a source is kept, under an empty one.
    assert ("", "io", 1) in order
    # The order does not depend on the order of the rows (only first_reason does).
    again = group_errors(errors.reverse(), without)
    assert again.drop("first_reason").equals(groups.drop("first_reason"))
    assert errors_by_kind(errors) == {"empty": 1, "io": 1, "malformed": errors.height - 2}
    lines = terminal_lines(groups.to_dicts(), ["/in"], where="errors.parquet / report.html")
    assert lines[0].startswith("input errors by file and kind (2 file(s) gave no records")
    assert len(lines) == 2 + 10 + 1
    assert cells(lines[2]) == ["empty.jsonl [no records]", "empty", "1", "why"]
    assert lines[-1] == f"  ... and {groups.height - 10} more (see errors.parquet / report.html)"
    assert terminal_lines([], ["/in"], where="x") == []


def undated_corpus(root: Path) -> Path:
    """Two clusters: one of web-archive records with dates, one of JSONL
    lines without a date field, and a single dated record between them."""
    inputs = root / "in"
    inputs.mkdir()
    dated = sentence(1)
    warc = b"".join(
        warc_record(
            "resource",
            {"WARC-Record-ID": f"<urn:{i}>", "WARC-Date": date, "Content-Type": "text/plain"},
            text.encode(),
        )
        for i, (date, text) in enumerate(
            [
                ("2021-01-01T00:00:00Z", dated),
                ("2024-06-01T00:00:00Z", dated),
                ("2022-01-01T00:00:00Z", sentence(2)),
            ]
        )
    )
    (inputs / "a.warc.gz").write_bytes(compress(warc, "gz"))
    undated = sentence(3)
    (inputs / "b.jsonl").write_bytes(jsonl_bytes([{"text": undated}, {"text": undated}]))
    return inputs


def test_keep_newest_warns_about_clusters_without_dates(tmp_path: Path) -> None:
    inputs = undated_corpus(tmp_path)
    out = tmp_path / "newest"
    proc = run("dedup", str(inputs), "--out", str(out), "--keep", "newest")
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, proc.stderr
    assert "1 cluster has no member with a readable date" in warnings[0]
    assert "lowest doc_id was kept" in warnings[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["clusters"] == 2 and summary["clusters_without_dates"] == 1
    kept = pl.read_parquet(out / "kept.parquet")
    # The dated cluster keeps its newest record (doc 1); the undated one its lowest (doc 3).
    assert kept["doc_id"].to_list() == [1, 2, 3]
    quiet = run("dedup", str(inputs), "--out", str(tmp_path / "q"), "--keep", "newest", "-q")
    assert quiet.stdout == "" and "1 cluster has no member" in quiet.stderr
    logged = run("dedup", str(inputs), "--out", str(tmp_path / "j"), "--keep", "newest", "--json")
    events = [json.loads(line) for line in logged.stdout.splitlines()]
    assert [e["message"] for e in events if e["event"] == "warning"] == [
        warnings[0].split(": ", 2)[2]
    ]
    assert events[-1]["clusters_without_dates"] == 1
    for keep in ("first", "longest"):
        other = run("dedup", str(inputs), "--out", str(tmp_path / keep), "--keep", keep)
        assert "warning" not in other.stderr
        summary = json.loads((tmp_path / keep / "summary.json").read_text())
        assert summary["clusters_without_dates"] == 0


def test_clusters_without_dates_survive_a_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = undated_corpus(tmp_path)
    out, options = tmp_path / "o", pipeline.DedupOptions(keep="newest", threshold=0.8)

    def killed(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt  # stands for a kill after clustering

    monkeypatch.setattr(pipeline.DedupRun, "write", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_dedup([str(inputs)], out, options, Reporter())
    monkeypatch.undo()
    summary, state = pipeline.run_dedup([str(inputs)], out, options, Reporter())
    assert state == "resumed"
    assert summary["clusters_without_dates"] == 1


def test_date_priority_takes_date_columns_as_they_are() -> None:
    # When the core gives ``date`` as a date or datetime column, --keep newest
    # ranks it the same as the ISO text of the same instants.
    instants = [datetime.datetime(2024, 1, 2, 3, 4, 5), None, datetime.datetime(1969, 7, 20)]
    as_text = pl.Series(["2024-01-02T03:04:05Z", None, "1969-07-20"])
    expected = pipeline.date_priority(as_text).to_list()
    assert expected[1] == pipeline.NO_DATE and expected[2] < 0
    for column in (
        pl.Series(instants),
        pl.Series(instants).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
        pl.Series([d.date() if d else None for d in instants]),
    ):
        got = pipeline.date_priority(column).to_list()
        if column.dtype == pl.Date:
            assert got == [expected[0] - (3 * 3600 + 4 * 60 + 5), *expected[1:]]
        else:
            assert got == expected, column.dtype
