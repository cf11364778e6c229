"""Ingest: every container and format, nested, with known contents; every
record and its provenance (source, member, offset, format) checked."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from archive_builders import (
    arrow_file_bytes,
    arrow_stream_bytes,
    compress,
    jsonl_bytes,
    parquet_bytes,
    tar_bytes,
    warc_record,
    zip_bytes,
)

import thresher

DOC = b"A plain document about rivers and the boats that sail on them.\n"


def rows(records: pl.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return list(records.select(columns).iter_rows())


@pytest.mark.parametrize("codec", ["gz", "bz2", "xz", "zst"])
def test_each_codec_is_sniffed_from_content(tmp_path: Path, codec: str) -> None:
    # A misleading name: the content decides.
    path = tmp_path / "doc.txt"
    path.write_bytes(compress(DOC, codec))
    result = thresher.ingest(path)
    assert result.errors.height == 0, result.errors
    assert rows(result.records, "source", "member", "offset", "format", "text") == [
        (str(path), None, 0, "text", DOC.decode().strip())
    ]


@pytest.mark.parametrize("codec", [None, "gz", "bz2", "xz", "zst"])
def test_tar_members_in_order_with_offsets(tmp_path: Path, codec: str | None) -> None:
    members = {"b.txt": b"second doc words", "a/one.txt": b"  first doc words\n", "c.txt": DOC}
    path = tmp_path / "bundle"
    path.write_bytes(tar_bytes(members, codec))
    result = thresher.ingest(path)
    assert result.errors.height == 0, result.errors
    assert rows(result.records, "member", "offset", "text") == [
        ("b.txt", 0, "second doc words"),
        ("a/one.txt", 2, "first doc words"),
        ("c.txt", 0, DOC.decode().strip()),
    ]
    assert set(result.records["source"]) == {str(path)}


def test_nested_archives_keep_their_path(tmp_path: Path) -> None:
    jsonl = jsonl_bytes([{"text": "json one"}, {"text": "json two", "lang": "en"}])
    inner_zip = zip_bytes({"deep/x.txt": b"deepest words", "rows.jsonl.gz": compress(jsonl, "gz")})
    inner_tar = tar_bytes({"inner.zip": inner_zip, "plain.txt": b"middle words"}, "zst")
    outer = tmp_path / "outer.zip"
    outer.write_bytes(zip_bytes({"inner.tar.zst": inner_tar, "top.txt": b"top words"}))
    result = thresher.ingest(outer)
    assert result.errors.height == 0, result.errors
    assert rows(result.records, "member", "offset", "format", "text") == [
        ("inner.tar.zst!/inner.zip!/deep/x.txt", 0, "text", "deepest words"),
        ("inner.tar.zst!/inner.zip!/rows.jsonl.gz", 0, "jsonl", "json one"),
        (
            "inner.tar.zst!/inner.zip!/rows.jsonl.gz",
            len(jsonl.splitlines()[0]) + 1,
            "jsonl",
            "json two",
        ),
        ("inner.tar.zst!/plain.txt", 0, "text", "middle words"),
        ("top.txt", 0, "text", "top words"),
    ]
    assert result.records["doc_id"].to_list() == list(range(5))


def test_directories_of_archives_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.tar").write_bytes(tar_bytes({"m1.txt": b"one", "m2.txt": b"two"}))
    (tmp_path / "a.txt.gz").write_bytes(compress(b"zero", "gz"))
    result = thresher.ingest(tmp_path)
    assert rows(result.records, "text") == [("zero",), ("one",), ("two",)]


def test_jsonl_fields_title_id_and_meta(tmp_path: Path) -> None:
    lines = [
        {"id": 7, "title": "T1", "text": "body one", "lang": "en", "score": 0.5},
        {"text": "body two"},
        {"id": "x-2", "content": "not the text field", "text": "body three", "tags": ["a", "b"]},
    ]
    data = jsonl_bytes(lines)
    path = tmp_path / "rows.jsonl"
    path.write_bytes(data)
    result = thresher.ingest(path)
    assert result.errors.height == 0, result.errors
    r = result.records
    offsets = [0, len(data.splitlines()[0]) + 1]
    offsets.append(offsets[1] + len(data.splitlines()[1]) + 1)
    assert rows(r, "offset", "format", "id", "title", "text") == [
        (offsets[0], "jsonl", "7", "T1", "body one"),
        (offsets[1], "jsonl", None, None, "body two"),
        (offsets[2], "jsonl", "x-2", None, "body three"),
    ]
    assert json.loads(r["meta"][0]) == {"lang": "en", "score": 0.5}
    assert r["meta"][1] is None
    assert json.loads(r["meta"][2]) == {"content": "not the text field", "tags": ["a", "b"]}


def test_jsonl_text_field_option(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(jsonl_bytes([{"content": "c1", "text": "t1"}, {"content": "c2"}]))
    r = thresher.ingest(path, text_field="content", title_field=None, id_field=None).records
    assert r["text"].to_list() == ["c1", "c2"]
    assert json.loads(r["meta"][0]) == {"text": "t1"}


def test_warc_and_wet_records(tmp_path: Path) -> None:
    info = warc_record("warcinfo", {"WARC-Record-ID": "<urn:uuid:0>"}, b"software: test\r\n")
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body>Hello web page</body></html>"
    )
    response = warc_record(
        "response",
        {
            "WARC-Record-ID": "<urn:uuid:1>",
            "WARC-Target-URI": "https://example.org/a",
            "WARC-Date": "2024-01-02T03:04:05Z",
            "Content-Type": "application/http; msgtype=response",
        },
        http,
    )
    conversion = warc_record(
        "conversion",
        {
            "WARC-Record-ID": "<urn:uuid:2>",
            "WARC-Target-URI": "https://example.org/b",
            "WARC-Date": "2024-01-02T03:04:06Z",
            "Content-Type": "text/plain",
        },
        "Extracted text of page b.\nSecond line é.".encode(),
    )
    data = info + response + conversion
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(compress(data, "gz"))
    result = thresher.ingest(path)
    assert result.errors.height == 0, result.errors
    assert rows(result.records, "offset", "format", "id", "url", "date", "text") == [
        (
            len(info),
            "warc",
            "<urn:uuid:1>",
            "https://example.org/a",
            "2024-01-02T03:04:05Z",
            # HTML keeps the text a reader sees (html="text", the default).
            "Hello web page",
        ),
        (
            len(info) + len(response),
            "wet",
            "<urn:uuid:2>",
            "https://example.org/b",
            "2024-01-02T03:04:06Z",
            "Extracted text of page b.\nSecond line é.",
        ),
    ]
    meta = [json.loads(m) for m in result.records["meta"]]
    assert meta[0]["warc_type"] == "response"
    assert meta[0]["content_type"].startswith("text/html")
    assert meta[0]["encoding"] == "UTF-8" and meta[0]["html"] == "text"
    assert meta[0]["raw_length"] == len(b"<html><body>Hello web page</body></html>")
    raw = thresher.ingest(path, html="raw").records
    assert raw["text"][0] == "<html><body>Hello web page</body></html>"
    assert meta[1]["warc_type"] == "conversion"
    assert result.skipped == {"warc/warcinfo": 1}


FRAME = pl.DataFrame(
    {
        "id": [10, 11, 12],
        "title": ["t0", None, "t2"],
        "text": ["row zero", "row one", "row two"],
        "lang": ["en", "fr", None],
        "score": [1.5, None, 2.0],
    }
)


@pytest.mark.parametrize(
    ("name", "builder", "fmt"),
    [
        ("data.parquet", parquet_bytes, "parquet"),
        ("data.arrow", arrow_file_bytes, "arrow"),
        ("data.arrows", arrow_stream_bytes, "arrow"),
    ],
)
def test_columnar_files_on_disk_and_in_archives(
    tmp_path: Path, name: str, builder: object, fmt: str
) -> None:
    data = builder(FRAME)  # type: ignore[operator]
    (tmp_path / name).write_bytes(data)
    (tmp_path / "wrapped.tar.gz").write_bytes(tar_bytes({name: data}, "gz"))
    result = thresher.ingest(tmp_path)
    assert result.errors.height == 0, result.errors
    r = result.records
    expected = [
        (0, fmt, "10", "t0", "row zero"),
        (1, fmt, "11", None, "row one"),
        (2, fmt, "12", "t2", "row two"),
    ]
    assert (
        rows(r.filter(pl.col("member").is_null()), "offset", "format", "id", "title", "text")
        == expected
    )
    assert (
        rows(r.filter(pl.col("member") == name), "offset", "format", "id", "title", "text")
        == expected
    )
    assert json.loads(r["meta"][0]) == {"lang": "en", "score": 1.5}
    assert json.loads(r["meta"][2]) == {"lang": None, "score": 2.0}


def test_text_units(tmp_path: Path) -> None:
    data = b"first line\n\n  second para\nstill second\n\n\n third\n"
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    by_line = thresher.ingest(path, text_unit="line").records
    assert rows(by_line, "offset", "text") == [
        (0, "first line"),
        (14, "second para"),
        (26, "still second"),
        (42, "third"),
    ]
    by_para = thresher.ingest(path, text_unit="paragraph").records
    assert rows(by_para, "offset", "text") == [
        (0, "first line"),
        (14, "second para\nstill second"),
        (42, "third"),
    ]
    whole = thresher.ingest(path).records
    assert rows(whole, "offset", "text") == [(0, data.decode().strip())]
    with pytest.raises(ValueError, match="text unit"):
        thresher.ingest(path, text_unit="sentence")  # type: ignore[arg-type]


def test_forced_format_still_unwraps_containers(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(compress(b'{"text": "a"}\n', "gz"))
    assert thresher.ingest(path, format="text").records["text"].to_list() == ['{"text": "a"}']
    assert thresher.ingest(path, format="jsonl").records["text"].to_list() == ["a"]
