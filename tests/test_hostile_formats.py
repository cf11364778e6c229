"""Ingest of hostile format details: WARC lengths that lie, byte order marks,
JSON that Python writes but strict parsers refuse, huge integers, and
inputs with more records than ingest should hold. Every record is kept or
reported."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl

import thresher


def warc_record(text: str, length: int | None = None, warc_type: str = "conversion") -> bytes:
    block = text.encode()
    claimed = len(block) if length is None else length
    head = f"WARC/1.0\r\nWARC-Type: {warc_type}\r\nContent-Length: {claimed}\r\n\r\n"
    return head.encode() + block + b"\r\n\r\n"


def rows(errors: pl.DataFrame) -> list[tuple[int, str]]:
    return errors.select("offset", "kind").rows()


def test_warc_content_length_past_the_end_resyncs(tmp_path: Path) -> None:
    first = warc_record("first document")
    bad = warc_record("short", length=50_000)
    rest = [warc_record(f"document {i}") for i in range(3)]
    data = first + bad + b"".join(rest)
    (tmp_path / "crawl.warc").write_bytes(data)
    result = thresher.ingest(tmp_path)
    texts = ["first document"] + [f"document {i}" for i in range(3)]
    assert result.records["text"].to_list() == texts
    assert rows(result.errors) == [(len(first), "malformed")]
    assert "runs past the end" in result.errors["reason"][0]
    # Over max_record_bytes, the records inside are still read.
    limited = thresher.ingest(tmp_path, limits=thresher.Limits(max_record_bytes=1000))
    assert limited.records["text"].to_list() == texts
    assert rows(limited.errors) == [(len(first), "limit"), (len(first), "malformed")]


def test_jsonl_with_a_byte_order_mark(tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"row {i}", "n": i}) for i in range(3)]
    body = "\n".join(lines) + "\n"
    (tmp_path / "d.jsonl").write_bytes(b"\xef\xbb\xbf" + body.encode())
    (tmp_path / "w.warc").write_bytes(b"\xef\xbb\xbf" + warc_record("in a warc"))
    result = thresher.ingest(tmp_path)
    assert result.errors.height == 0
    records = result.records
    assert records["text"].to_list() == ["row 0", "row 1", "row 2", "in a warc"]
    assert records["format"].to_list() == ["jsonl"] * 3 + ["wet"]
    second = 3 + len(lines[0]) + 1
    assert records["offset"].to_list()[:3] == [0, second, second + len(lines[1]) + 1]


def test_jsonl_with_lone_surrogates(tmp_path: Path) -> None:
    # Python's json.dumps writes a lone surrogate as an escape.
    lines = [json.dumps({"text": f"row {i} \ud800 end", "tag": "\udc00"}) for i in range(20)]
    assert "\\ud800" in lines[0]
    lines.append(json.dumps({"text": "pair \U0001f600"}))
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    result = thresher.ingest(tmp_path)
    records = result.records
    assert records.height == 21
    assert records["format"].unique().to_list() == ["jsonl"]
    assert records["text"][0] == "row 0 \ufffd end"
    assert json.loads(records["meta"][0]) == {"tag": "\ufffd"}
    assert records["text"][20] == "pair \U0001f600"
    assert records["invalid_utf8"].to_list() == [True] * 20 + [False]
    assert set(result.errors["kind"]) == {"invalid_utf8"}
    assert result.errors.height == 20


def test_integers_beyond_64_bits_stay_exact(tmp_path: Path) -> None:
    big = 2**70 + 1
    line = json.dumps({"text": "t", "big": big, "neg": -big, "id": 2**64, "f": 1.5})
    (tmp_path / "d.jsonl").write_text(line + "\n")
    result = thresher.ingest(tmp_path)
    record = result.records.row(0, named=True)
    assert json.loads(record["meta"]) == {"big": big, "neg": -big, "f": 1.5}
    assert record["id"] == str(2**64)


def test_max_records_bounds_ingest_and_scan_reads_everything(tmp_path: Path) -> None:
    lines = b"".join(b"line %d\n" % i for i in range(5000))
    (tmp_path / "many.txt.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "other.txt").write_bytes(b"one\ntwo\n")
    limits = thresher.Limits(max_records=1000)
    result = thresher.ingest(tmp_path, text_unit="line", limits=limits)
    records = result.records
    assert records.height == 1000 + 2
    assert records["doc_id"].to_list() == list(range(1002))
    assert records["text"][999] == "line 999"
    errors = result.errors
    assert rows(errors) == [(lines.index(b"line 1000\n"), "limit")]
    reason = errors["reason"][0]
    assert "max_records (1000)" in reason
    assert "the 4000 records after the first 1000" in reason
    assert "thresher.scan" in reason
    scanned = pl.concat(list(thresher.scan(tmp_path, text_unit="line", limits=limits)))
    assert scanned.height == 5000 + 2
    assert thresher.Limits().max_records == 10_000_000
