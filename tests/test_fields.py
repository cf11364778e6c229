"""Field options: lists of names tried in order, per record and per row, the
``url`` and ``date`` columns of JSONL and Parquet, dates normalised or
reported as ``field`` rows, and the CLI's ``--...-field`` flags."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import thresher
from thresher import _core, _names
from thresher.cli import args as cli_args
from thresher.cli.pipeline import DedupOptions


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return list(frame.select(columns).iter_rows())


@pytest.fixture
def mixed_corpus(tmp_path: Path) -> Path:
    """Shards with ``text`` in some and ``content`` in others, dates as ISO
    strings, epoch numbers and missing."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(
        corpus / "a.jsonl",
        [
            {"text": "alpha", "url": "https://a/1", "date": "2024-01-02T03:04:05+02:00"},
            {"text": "beta", "timestamp": 1_700_000_000},
            {"text": "gamma", "created_at": "Tue, 1 Jul 2003 10:52:37 +0200"},
        ],
    )
    write_jsonl(
        corpus / "b.jsonl",
        [
            {"content": "delta", "url": "https://b/1", "date": 1_700_000_000_123},
            {"content": "epsilon", "crawl_date": "2024-05-06"},
        ],
    )
    pl.DataFrame(
        {
            "content": ["zeta", "eta", "theta"],
            "url": ["https://c/1", None, "https://c/3"],
            "date": ["2021-03-04 05:06:07", None, "1700000000.5"],
        }
    ).write_parquet(corpus / "c.parquet")
    pl.DataFrame(
        {"text": ["iota", "kappa"], "date": [1_600_000_000, -86_400]},
    ).write_parquet(corpus / "d.parquet")
    return corpus


EXPECTED = [
    ("a.jsonl", "alpha", "https://a/1", "2024-01-02T01:04:05Z"),
    ("a.jsonl", "beta", None, "2023-11-14T22:13:20Z"),
    ("a.jsonl", "gamma", None, "2003-07-01T08:52:37Z"),
    ("b.jsonl", "delta", "https://b/1", "2023-11-14T22:13:20.123000Z"),
    ("b.jsonl", "epsilon", None, "2024-05-06T00:00:00Z"),
    ("c.parquet", "zeta", "https://c/1", "2021-03-04T05:06:07Z"),
    ("c.parquet", "eta", None, None),
    ("c.parquet", "theta", "https://c/3", "2023-11-14T22:13:20.500000Z"),
    ("d.parquet", "iota", None, "2020-09-13T12:26:40Z"),
    ("d.parquet", "kappa", None, "1969-12-31T00:00:00Z"),
]


def test_mixed_shards_read_in_one_call_row_by_row(mixed_corpus: Path) -> None:
    result = thresher.ingest(mixed_corpus)
    assert result.errors.height == 0, result.errors.to_dicts()
    got = [
        (Path(source).name, text, url, day)
        for source, text, url, day in rows(result.records, "source", "text", "url", "date")
    ]
    assert got == EXPECTED
    # The fields taken leave meta; nothing else was there.
    assert result.records["meta"].to_list() == [None] * len(EXPECTED)


def test_scan_gives_the_same_columns(mixed_corpus: Path) -> None:
    with thresher.scan(mixed_corpus, batch_size=3) as scan:
        frame = pl.concat(list(scan))
    assert rows(frame, "text", "url", "date") == [row[1:] for row in EXPECTED]


def test_parquet_takes_the_first_column_not_null_in_each_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pl.DataFrame(
        {
            "text": ["a", None, None, "d"],
            "content": ["ignored", "b", None, None],
            "lang": ["en", "fr", "de", None],
        }
    ).write_parquet(path)
    result = thresher.ingest(path)
    assert rows(result.records, "offset", "text", "meta") == [
        (0, "a", '{"content":"ignored","lang":"en"}'),
        (1, "b", '{"lang":"fr"}'),
        (3, "d", '{"lang":null}'),
    ]
    assert rows(result.errors, "offset", "kind") == [(2, "missing_field")]
    reason = result.errors["reason"][0]
    assert '"text", "content"' in reason and '"raw_content"' in reason


def test_parquet_date_and_timestamp_columns(tmp_path: Path) -> None:
    path = tmp_path / "dates.parquet"
    instant = datetime(2024, 1, 2, 3, 4, 5, 250_000, tzinfo=timezone.utc)
    pl.DataFrame(
        {
            "text": ["a", "b", "c"],
            "date": [date(2024, 1, 2), None, date(1, 1, 1)],
            "timestamp": [None, instant, None],
        },
        schema_overrides={"timestamp": pl.Datetime("ms", "Europe/Paris")},
    ).write_parquet(path)
    result = thresher.ingest(path)
    assert result.errors.height == 0, result.errors.to_dicts()
    assert result.records["date"].to_list() == [
        "2024-01-02T00:00:00Z",
        "2024-01-02T03:04:05.250000Z",
        "0001-01-01T00:00:00Z",
    ]


def test_dates_that_do_not_parse_keep_the_record(tmp_path: Path) -> None:
    values: list[object] = [
        "99999-01-01",
        "+99999-01-01T00:00:00",
        -86_400,
        -(10**18),
        1.5,
        12345678901234567890123,
        True,
        {"y": 2024},
        [2024, 1, 2],
        "next tuesday",
        "2024-02-30",
    ]
    path = write_jsonl(
        tmp_path / "d.jsonl", [{"text": f"t{i}", "date": v} for i, v in enumerate(values)]
    )
    result = thresher.ingest(path)
    assert result.records.height == len(values)
    good = {2: "1969-12-31T00:00:00Z", 4: "1970-01-01T00:00:01.500000Z"}
    assert result.records["date"].to_list() == [good.get(i) for i in range(len(values))]
    errors = result.errors
    assert set(errors["kind"]) == {"field"}
    offsets = result.records["offset"].to_list()
    bad = [i for i in range(len(values)) if i not in good]
    assert errors["offset"].to_list() == [offsets[i] for i in bad]
    for i, meta, reason in zip(
        bad, result.records["meta"].gather(bad), errors["reason"], strict=True
    ):
        # The raw value stays in meta; the reason names the field and the value.
        assert json.loads(meta)["date"] == values[i]
        assert reason.startswith('date field "date" holds '), reason
        assert "the record is kept without a date" in reason
    assert "the year 99999 is outside 1..=9999" in errors["reason"][1]


def test_field_options_take_a_name_a_list_or_none(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "f.jsonl",
        [
            {"body": "b1", "text": "t1", "headline": "h1", "link": "l1", "published": "2020-01-01"},
            {"text": "t2", "title": "ti2", "date": "2021-01-01"},
        ],
    )
    result = thresher.ingest(
        path,
        text_field=["body", "text"],
        title_field=("headline", "title"),
        url_field="link",
        date_field=["published", "date"],
    )
    assert rows(result.records, "text", "title", "url", "date") == [
        ("b1", "h1", "l1", "2020-01-01T00:00:00Z"),
        ("t2", "ti2", None, "2021-01-01T00:00:00Z"),
    ]
    assert json.loads(result.records["meta"][0]) == {"text": "t1"}

    off = thresher.ingest(path, title_field=None, url_field=[], date_field=None)
    assert off.records["title"].to_list() == [None, None]
    assert off.records["date"].to_list() == [None, None]
    assert json.loads(off.records["meta"][1]) == {"date": "2021-01-01", "title": "ti2"}

    with pytest.raises(thresher.InvalidOptionError, match="text_field must name at least one"):
        thresher.ingest(path, text_field=[])
    with pytest.raises(thresher.InvalidOptionError, match="text_field must name at least one"):
        thresher.ingest(path, text_field=None)
    with pytest.raises(thresher.InvalidOptionError, match="date_field holds an empty name"):
        thresher.ingest(path, date_field=["date", ""])
    with pytest.raises(TypeError, match="title_field must be a field name"):
        thresher.ingest(path, title_field=7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="id_field must be a field name"):
        thresher.ingest(path, id_field=["id", 3])  # type: ignore[list-item]


def test_defaults_come_from_the_core() -> None:
    assert _names.DEFAULT_FIELDS == dict(_core.DEFAULT_FIELDS) == thresher.DEFAULT_FIELDS
    assert thresher.DEFAULT_FIELDS == {
        "text_field": ("text", "content", "raw_content"),
        "title_field": ("title",),
        "id_field": ("id",),
        "url_field": ("url",),
        "date_field": ("date", "timestamp", "crawl_date", "created_at"),
    }
    assert DedupOptions().text_field == ["text", "content", "raw_content"]
    assert DedupOptions().date_field == ["date", "timestamp", "crawl_date", "created_at"]


def test_cli_field_flags_parse_into_lists() -> None:
    parser = cli_args.build_parser()
    args = parser.parse_args(
        [
            "scan",
            "in",
            "--out",
            "o.parquet",
            "--text-field",
            "text, content,,raw",
            "--title-field",
            "",
            "--date-field",
            "published",
        ]
    )
    assert cli_args._fields(args) == {
        "text_field": ["text", "content", "raw"],
        "title_field": [],
        "id_field": ["id"],
        "url_field": ["url"],
        "date_field": ["published"],
    }
    plain = parser.parse_args(["dedup", "in", "--out", "o"])
    assert cli_args._fields(plain)["text_field"] == ["text", "content", "raw_content"]


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thresher.cli", *argv], capture_output=True, text=True, check=False
    )


def test_cli_scan_with_field_flags(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"body": "one", "published": "2020-05-06T07:08:09Z", "title": "T"},
            {"text": "two", "published": 1_600_000_000},
        ],
    )
    out = tmp_path / "records.parquet"
    done = run_cli(
        "scan",
        str(tmp_path / "in.jsonl"),
        "--out",
        str(out),
        "--text-field",
        "body,text",
        "--title-field",
        "",
        "--date-field",
        "published",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    frame = pl.read_parquet(out)
    assert rows(frame, "text", "title", "date") == [
        ("one", None, "2020-05-06T07:08:09Z"),
        ("two", None, "2020-09-13T12:26:40Z"),
    ]
    assert json.loads(frame["meta"][0]) == {"title": "T"}


def test_cli_refuses_an_empty_text_field(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    done = run_cli(
        "scan", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o.parquet"), "--text-field", ""
    )
    assert done.returncode == cli_args.EXIT_USAGE
    assert "text_field must name at least one field" in done.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_cli_dedup_keeps_the_newest_across_jsonl_and_parquet(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = " ".join(f"word{i}" for i in range(40))
    undated = " ".join(f"other{i}" for i in range(40))
    write_jsonl(
        corpus / "a.jsonl",
        [
            {"text": words, "id": "old", "date": "2020-01-01T00:00:00+05:00"},
            {"text": undated, "id": "undated-1"},
        ],
    )
    pl.DataFrame(
        {"content": [words, undated], "id": ["new", "undated-2"], "timestamp": [1.7e12, None]}
    ).write_parquet(corpus / "b.parquet")
    write_jsonl(corpus / "c.jsonl", [{"text": words, "id": "no-date"}])
    out = tmp_path / "out"
    done = run_cli("dedup", str(corpus), "--out", str(out), "--keep", "newest", "--json")
    assert done.returncode == 0, done.stderr
    kept = pl.read_parquet(out / "kept.parquet")
    duplicates = pl.read_parquet(out / "duplicates.parquet")
    assert rows(kept, "id", "date") == [
        ("undated-1", None),
        ("new", "2023-11-14T22:13:20Z"),
    ]
    assert sorted(duplicates["id"].to_list()) == ["no-date", "old", "undated-2"]
    # The cluster with no date at all is counted and warned about.
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["clusters_without_dates"] == 1
    events = [json.loads(line) for line in done.stdout.splitlines()]
    warned = [e for e in events if e.get("event") == "warning"]
    assert len(warned) == 1 and "1 cluster has no member" in warned[0]["message"], events

    first = tmp_path / "first"
    done = run_cli("dedup", str(corpus), "--out", str(first), "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    assert summary["clusters_without_dates"] == 0
