"""``text_unit`` for every format: records cut into lines and paragraphs,
with ``offset`` (where the source record is) and ``part`` (the unit's index
in it); and the ``empty`` row of a file that gives no record."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from archive_builders import warc_record

import thresher


def parts(records: pl.DataFrame) -> list[tuple[object, ...]]:
    return list(records.select("offset", "part", "text").iter_rows())


def test_jsonl_records_are_cut_into_paragraphs(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "title": "First", "text": "Para one.\nStill one.\n\n\nPara two.", "lang": "en"},
        {"id": "b", "text": "   "},
        {"id": "c", "text": "Only one."},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    starts = [0, data.index(b'{"id": "b"'), data.index(b'{"id": "c"')]

    result = thresher.ingest(path, text_unit="paragraph")
    assert result.errors.height == 0, result.errors
    assert parts(result.records) == [
        (starts[0], 0, "Para one.\nStill one."),
        (starts[0], 1, "Para two."),
        # A record with no non-blank line is kept whole.
        (starts[1], 0, "   "),
        (starts[2], 0, "Only one."),
    ]
    first_two = result.records.head(2)
    assert first_two["id"].to_list() == ["a", "a"]
    assert first_two["title"].to_list() == ["First", "First"]
    assert [json.loads(m) for m in first_two["meta"]] == [{"lang": "en"}] * 2
    assert result.records["doc_id"].to_list() == [0, 1, 2, 3]

    lines_result = thresher.ingest(path, text_unit="line")
    assert parts(lines_result.records)[:3] == [
        (starts[0], 0, "Para one."),
        (starts[0], 1, "Still one."),
        (starts[0], 2, "Para two."),
    ]
    whole = thresher.ingest(path)
    assert whole.records["part"].null_count() == whole.records.height == 3


def test_the_part_column_follows_offset() -> None:
    assert thresher.ingest([]).records.columns[3:6] == ["offset", "part", "format"]


def test_parquet_rows_are_cut_with_their_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pl.DataFrame(
        {
            "text": ["Row zero, para one.\n\nRow zero, para two.", "Row one.", "a\n\nb\n\nc"],
            "id": [10, 11, 12],
        }
    ).write_parquet(path)
    result = thresher.ingest(path, text_unit="paragraph")
    assert result.errors.height == 0, result.errors
    assert parts(result.records) == [
        (0, 0, "Row zero, para one."),
        (0, 1, "Row zero, para two."),
        (1, 0, "Row one."),
        (2, 0, "a"),
        (2, 1, "b"),
        (2, 2, "c"),
    ]
    assert result.records["id"].to_list() == ["10", "10", "11", "12", "12", "12"]
    assert set(result.records["format"]) == {"parquet"}


def test_warc_records_are_cut_by_the_lines_a_reader_sees(tmp_path: Path) -> None:
    page = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><title>T</title></head><body><h1>Heading</h1>"
        b"<p>First <b>para</b>.</p><script>x()</script><p>Second para.</p></body></html>"
    )
    response = warc_record(
        "response",
        {
            "WARC-Record-ID": "<urn:uuid:1>",
            "WARC-Target-URI": "https://example.org/a",
            "WARC-Date": "2024-01-02T03:04:05Z",
            "Content-Type": "application/http; msgtype=response",
        },
        page,
    )
    conversion = warc_record(
        "conversion",
        {"WARC-Record-ID": "<urn:uuid:2>", "Content-Type": "text/plain"},
        b"Plain one.\n\nPlain two.\n",
    )
    path = tmp_path / "crawl.warc"
    path.write_bytes(response + conversion)

    lines = thresher.ingest(path, text_unit="line")
    assert lines.errors.height == 0, lines.errors
    assert parts(lines.records) == [
        (0, 0, "Heading"),
        (0, 1, "First para."),
        (0, 2, "Second para."),
        (len(response), 0, "Plain one."),
        (len(response), 1, "Plain two."),
    ]
    page_units = lines.records.head(3)
    assert set(page_units["url"]) == {"https://example.org/a"}
    assert set(page_units["date"]) == {"2024-01-02T03:04:05Z"}
    assert set(page_units["title"]) == {"T"}
    # Extracted HTML has one line per block and no blank lines: the page
    # is one paragraph; the plain conversion record has two.
    paragraphs = thresher.ingest(path, text_unit="paragraph")
    assert parts(paragraphs.records) == [
        (0, 0, "Heading\nFirst para.\nSecond para."),
        (len(response), 0, "Plain one."),
        (len(response), 1, "Plain two."),
    ]


def test_plain_text_offsets_stay_those_of_the_units(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"one\n\n  two\nthree\n")
    result = thresher.ingest(path, text_unit="paragraph")
    assert parts(result.records) == [(0, 0, "one"), (7, 1, "two\nthree")]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_scan_gives_the_same_units_in_any_batch_size(tmp_path: Path, batch_size: int) -> None:
    for i in range(3):
        line = json.dumps({"text": f"file {i} a\n\nfile {i} b\n\nfile {i} c"})
        (tmp_path / f"{i}.jsonl").write_text(line + "\n" + line + "\n")
    expected = thresher.ingest(tmp_path, text_unit="paragraph").records
    frames = list(thresher.scan(tmp_path, batch_size, text_unit="paragraph", threads=2))
    assert pl.concat(frames).equals(expected)
    assert expected.height == 18


def test_a_shard_without_the_text_field_is_an_empty_row(tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text(json.dumps({"text": "kept"}) + "\n")
    shard = tmp_path / "b.jsonl"
    shard.write_text("".join(json.dumps({"body": f"c{i}", "url": "u"}) + "\n" for i in range(5)))
    result = thresher.ingest(tmp_path)
    assert result.records["text"].to_list() == ["kept"]
    empty = result.errors.filter(pl.col("kind") == "empty")
    assert empty.select("source", "offset").rows() == [(str(shard), 0)]
    assert empty["reason"][0] == (
        "no records from this file: 5 missing_field rows "
        '(first: no text field (tried "text", "content", "raw_content"); found "body", "url")'
    )
    assert result.errors.filter(pl.col("kind") == "missing_field").height == 5


def test_an_html_file_is_cut_after_its_text_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<!DOCTYPE html>\n<html><body>\n<h1>Title</h1>\n<p>Body\n text.</p>\n</body></html>\n"
    )
    result = thresher.ingest(path, text_unit="line", html="text")
    assert parts(result.records) == [(0, 0, "Title"), (0, 1, "Body text.")]
