"""The command on a web archive: --html, --content-types, and the records
that are not documents counted in summary.json."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl

PAGE = (
    "<!DOCTYPE html><html><head><title>Page {n}</title><style>p {{ color: red }}</style>"
    "</head><body><nav>Home | About | Contact</nav><p>{text}</p>"
    "<script>track({n})</script></body></html>"
)
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thresher.cli", *args], capture_output=True, text=True, check=False
    )


def warc_record(uri: str, content_type: str, body: bytes, *, gzipped: bool = False) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
    if gzipped:
        body = gzip.compress(body, mtime=0)
        head += "Content-Encoding: gzip\r\n"
    block = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    headers = (
        "WARC/1.1\r\nWARC-Type: response\r\n"
        f"WARC-Target-URI: {uri}\r\nWARC-Date: 2026-12-05T00:00:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{abs(hash(uri)):032x}>\r\n"
        "Content-Type: application/http;msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    )
    return headers.encode() + block + b"\r\n\r\n"


def write_crawl(path: Path) -> None:
    """Three pages (two carry the same text in other markup, one of them
    gzipped), an image, a script and a style sheet."""
    text_a = " ".join(WORDS * 3)
    text_b = " ".join(reversed(WORDS * 3))
    records = [
        warc_record(
            "http://a.example/1", "text/html; charset=utf-8", PAGE.format(n=1, text=text_a).encode()
        ),
        warc_record(
            "http://b.example/copy",
            "text/html",
            f"<html><body><div class=x><p>{text_a}</p></div></body></html>".encode(),
            gzipped=True,
        ),
        warc_record("http://a.example/2", "text/html", PAGE.format(n=2, text=text_b).encode()),
        warc_record("http://a.example/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        warc_record("http://a.example/app.js", "application/javascript", b"track(1); track(2);"),
        warc_record("http://a.example/site.css", "text/css; charset=utf-8", b"p { color: red }"),
    ]
    path.write_bytes(b"".join(records))


def test_dedup_reads_pages_by_their_text_and_counts_what_it_skips(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl.warc"
    write_crawl(crawl)
    out = tmp_path / "out"
    done = run_cli("dedup", str(crawl), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records_in"] == 3
    assert summary["errors"] == 0
    assert summary["skipped"] == {"application/javascript": 1, "image/png": 1, "text/css": 1}
    assert summary["parameters"]["html"] is None
    duplicates = pl.read_parquet(out / "duplicates.parquet")
    # The page copied into other markup (and gzipped) is a duplicate of the
    # first: their visible texts differ only by the first page's menu.
    assert duplicates["url"].to_list() == ["http://b.example/copy"]
    kept = pl.read_parquet(out / "kept.parquet")
    assert "track(" not in " ".join(kept["text"].to_list())
    assert sorted(t for t in kept["title"].to_list() if t) == ["Page 1", "Page 2"]


def test_scan_takes_html_and_content_types(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl.warc"
    write_crawl(crawl)
    out = tmp_path / "records.parquet"
    done = run_cli(
        "scan",
        str(crawl),
        "--out",
        str(out),
        "--html",
        "raw",
        "--content-types",
        "text/*",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = [json.loads(line) for line in done.stdout.splitlines() if line.strip()][-1]
    assert summary["skipped"] == {"application/javascript": 1, "image/png": 1}
    records = pl.read_parquet(out)
    # text/css is asked for now; raw keeps the markup of the pages.
    assert records.height == 4
    assert records.filter(pl.col("url") == "http://a.example/1")["text"][0].startswith("<!DOCTYPE")
    bad = run_cli("scan", str(crawl), "--out", str(out), "--content-types", "html")
    assert bad.returncode == 2 and "content type" in bad.stderr
