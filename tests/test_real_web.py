"""Real web pages end to end: HTML text, HTTP payloads as a crawler stores
them, character sets, and broken pages.

Every page is read at test time from this machine: the Rust toolchains'
rustdoc pages (``~/.rustup``), Debian's HTML documentation, gettext
catalogues (``/usr/share/locale``), images under ``/usr/share``; ``wget``
crawls a local HTTP server. Outside CI a missing source skips the test; in CI
it fails. ``benches/web_corpus.py`` writes the WARC records and holds a
plain-Python visible-text extraction used as an independent check.
"""

from __future__ import annotations

import gettext
import gzip
import html
import http.server
import json
import random
import shutil
import subprocess
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from conftest import REPO_ROOT, require

import thresher
from thresher.reference import jaccard, shingles

sys.path.insert(0, str(REPO_ROOT / "benches"))
import web_corpus
from web_corpus import http_response, plain_shell, rustdoc_shell, visible_text, warc_record


def text_shingles(text: str) -> set:
    return shingles(text, 5)


def pairs_of(frame: pl.DataFrame) -> set[tuple[int, int]]:
    """Pairs of rows in one cluster of ``thresher.dedup`` (threshold 0.8)."""
    out = thresher.dedup(frame.select("text"))
    clusters: dict[int, list[int]] = {}
    for row, cluster in enumerate(out["cluster_id"].to_list()):
        clusters.setdefault(cluster, []).append(row)
    return {(a, b) for rows in clusters.values() for i, a in enumerate(rows) for b in rows[i + 1 :]}


def write_warc(path: Path, items: list[tuple[str, bytes]]) -> dict[str, int]:
    """Writes ``(uri, HTTP response)`` items as response records; returns
    each uri's record offset."""
    offsets = {}
    with open(path, "wb") as out:
        for uri, block in items:
            offsets[uri] = out.tell()
            out.write(warc_record(block, uri))
    return offsets


def meta_of(row: dict) -> dict:
    return json.loads(row["meta"]) if row["meta"] else {}


# ---------------------------------------------------------------------------
# HTML: one site template is not a duplicate; one page in two versions is.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rust_docs() -> list[tuple[str, Path]]:
    roots = web_corpus.rustdoc_roots()
    require(len(roots) >= 2, "two Rust toolchains' HTML docs (~/.rustup) not found")
    return roots


def api_pages(root: Path, n: int, seed: int, min_bytes: int, max_bytes: int) -> list[str]:
    """``n`` rustdoc API pages of ``min_bytes`` to ``max_bytes``, sampled
    with ``seed``."""
    api, _ = web_corpus.rustdoc_pages(root, max_bytes=max_bytes)
    api = [rel for rel in api if (root / rel).stat().st_size >= min_bytes]
    return sorted(random.Random(seed).sample(api, min(n, len(api))))


def test_template_pages_are_not_duplicates_and_versions_are_found(tmp_path, rust_docs):
    (old_version, old_root), (new_version, new_root) = rust_docs[0], rust_docs[-1]
    # Small pages (2-12 KB: their template outweighs their text) of one
    # version, and larger pages (a version string changes less of their
    # text) of both.
    small = api_pages(new_root, 100, 15, 0, 12_000)
    both = [r for r in api_pages(new_root, 40, 15, 12_000, 60_000) if (old_root / r).is_file()]
    items: list[tuple[str, bytes]] = []
    pages: list[tuple[str, str, str]] = []  # (rel, version, plain-Python text)
    for version, root, rels in (
        (new_version, new_root, small + both),
        (old_version, old_root, both),
    ):
        for rel in rels:
            body = (root / rel).read_bytes()
            items.append((f"https://doc.rust-lang.org/{version}/{rel}", http_response(body)))
            pages.append((rel, version, "\n".join(visible_text(body)[1])))
    write_warc(tmp_path / "docs.warc", items)
    result = thresher.ingest(tmp_path / "docs.warc")
    assert result.errors.height == 0, result.errors.to_dicts()[:3]
    records = result.records
    assert records["url"].to_list() == [uri for uri, _ in items]
    assert all(meta_of(r)["html"] == "text" for r in records.iter_rows(named=True))
    assert records["title"].null_count() == 0
    found = pairs_of(records)
    sets = [text_shingles(t) for _, _, t in pages]
    template_pairs = version_pairs = 0
    for a in range(len(pages)):
        for b in range(a + 1, len(pages)):
            j = jaccard(sets[a], sets[b])
            if pages[a][0] != pages[b][0] and j < 0.5:
                template_pairs += 1
                assert (a, b) not in found, (pages[a][:2], pages[b][:2], j)
            if pages[a][0] == pages[b][0] and j >= 0.9:
                version_pairs += 1
                assert (a, b) in found, (pages[a][:2], pages[b][:2], j)
    assert template_pairs > 5_000 and version_pairs >= 20, (template_pairs, version_pairs)
    # The same pages as raw HTML: their markup makes the template pairs alike.
    raw = thresher.ingest(tmp_path / "docs.warc", html="raw").records
    raw_false = sum(
        1
        for a, b in pairs_of(raw)
        if pages[a][0] != pages[b][0] and jaccard(sets[a], sets[b]) < 0.5
    )
    assert raw_false > 0


def debian_text_pages(n: int) -> list[Path]:
    """``n`` of Debian's HTML pages with 300 to 3,000 words of visible text."""
    debian, _ = web_corpus.debian_pages(max_bytes=200_000)
    out = []
    for path in debian:
        words = sum(len(b.split()) for b in visible_text(Path(path).read_bytes())[1])
        if 300 <= words <= 3_000:
            out.append(Path(path))
        if len(out) == n:
            break
    return out


def test_same_text_in_other_templates_is_found(tmp_path, rust_docs):
    originals = debian_text_pages(6)
    require(len(originals) == 6, "Debian HTML docs (/usr/share/doc) not found")
    shell = (rust_docs[-1][1] / "std" / "mem" / "fn.swap.html").read_bytes()
    items = []
    for i, path in enumerate(originals):
        body = path.read_bytes()
        title, blocks = visible_text(body)
        items.append((f"file://{path}", http_response(body, "text/html")))
        items.append((f"https://a.example/{i}", http_response(rustdoc_shell(shell, title, blocks))))
        items.append((f"https://b.example/{i}", http_response(plain_shell(title, blocks))))
    write_warc(tmp_path / "copies.warc", items)
    result = thresher.ingest(tmp_path / "copies.warc")
    assert result.errors.height == 0, result.errors.to_dicts()[:3]
    clusters = thresher.dedup(result.records.select("text"))["cluster_id"].to_list()
    for i in range(len(originals)):
        assert len(set(clusters[3 * i : 3 * i + 3])) == 1, (originals[i], clusters)
    assert len(set(clusters)) == len(originals)


# ---------------------------------------------------------------------------
# Payloads: a real crawler's WARC of a site with compressed and chunked pages.
# ---------------------------------------------------------------------------

ENCODINGS = ("plain", "gzip", "chunked", "gzip-chunked", "deflate", "zstd")


def encode_body(body: bytes, encoding: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The body as sent and its headers (before any chunking)."""
    if encoding.startswith("gzip"):
        return gzip.compress(body, mtime=0), [("Content-Encoding", "gzip")]
    if encoding == "deflate":
        return zlib.compress(body), [("Content-Encoding", "deflate")]
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(body), [("Content-Encoding", "zstd")]
    return body, []


class Site:
    """What the local server serves: path -> (content type, body, encoding)."""

    def __init__(self, pages: list[bytes], png: bytes, jpeg: bytes, js: bytes, css: bytes) -> None:
        self.files: dict[str, tuple[str, bytes, str]] = {}
        links = []
        for i, page in enumerate(pages):
            for enc in ENCODINGS:
                path = f"/{enc}/page{i}.html"
                self.files[path] = ("text/html; charset=utf-8", page, enc)
                links.append(f'<a href="{path}">page {i} ({enc})</a>')
        self.files["/img/logo.png"] = ("image/png", png, "plain")
        self.files["/img/photo.jpg"] = ("image/jpeg", jpeg, "plain")
        self.files["/static/app.js"] = ("application/javascript", js, "plain")
        self.files["/static/site.css"] = ("text/css", css, "plain")
        index = (
            "<!DOCTYPE html><html><head><title>Local mirror</title>"
            '<link rel="stylesheet" href="/static/site.css"><script src="/static/app.js"></script>'
            "</head><body><h1>Local mirror of some documentation</h1><ul>"
            + "".join(f"<li>{link}</li>" for link in links)
            + '</ul><img src="/img/logo.png" alt="logo"><img src="/img/photo.jpg" alt="photo">'
            '<a href="/missing.html">gone</a></body></html>'
        )
        self.files["/index.html"] = ("text/html; charset=utf-8", index.encode(), "plain")
        self.requested: list[str] = []

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.requested.append(self.path)
                if self.path not in site.files:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                ctype, body, enc = site.files[self.path]
                sent, headers = encode_body(body, enc)
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                for name, value in headers:
                    self.send_header(name, value)
                if enc.endswith("chunked"):
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for at in range(0, len(sent), 997):
                        part = sent[at : at + 997]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(sent)))
                    self.end_headers()
                    self.wfile.write(sent)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def served_site(rust_docs) -> Iterator[tuple[str, Site]]:
    require(shutil.which("wget") is not None, "wget not installed")
    root = rust_docs[-1][1]
    pages = [(root / rel).read_bytes() for rel in api_pages(root, 3, 7, 0, 30_000)]
    pages += [p.read_bytes() for p in debian_text_pages(1)]
    pngs = sorted(Path("/usr/share/pixmaps").glob("*.png")) + sorted(
        (root / "static.files").glob("*.png")
    )
    jpegs = sorted(Path("/usr/share").glob("doc/*/*.jpg"))
    scripts = sorted((root / "static.files").glob("main-*.js"))
    styles = sorted((root / "static.files").glob("rustdoc-*.css"))
    require(bool(pngs and jpegs and scripts and styles), "real PNG/JPEG/JS/CSS files not found")
    site = Site(
        pages,
        pngs[0].read_bytes(),
        jpegs[0].read_bytes(),
        scripts[0].read_bytes(),
        styles[0].read_bytes(),
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), site.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()


def crawl(base: str, out: Path) -> Path:
    """``wget -r`` of the site into a gzipped WARC file, as a crawl does."""
    subprocess.run(
        [
            "wget",
            "-q",
            "-r",
            "-l",
            "1",
            "-e",
            "robots=off",
            "--compression=none",
            "--no-warc-keep-log",
            f"--warc-file={out / 'crawl'}",
            "-P",
            str(out / "mirror"),
            f"{base}/index.html",
        ],
        check=False,
        timeout=60,
    )
    warc = out / "crawl.warc.gz"
    assert warc.is_file()
    return warc


def test_crawler_warc_payloads(tmp_path, served_site):
    base, site = served_site
    crawl_dir = tmp_path / "crawl"
    crawl_dir.mkdir()
    warc = crawl(base, crawl_dir)
    assert sorted(site.requested) == sorted([*site.files, "/missing.html"])
    # The crawler kept the bodies as sent: compressed, and with chunk framing.
    records = list(web_corpus.warc_records(warc.read_bytes()))
    responses = {
        h["warc-target-uri"].strip("<>")[len(base) :]: block
        for h, block in records
        if h["warc-type"] == "response"
    }
    assert set(responses) == {*site.files, "/missing.html"}
    for path, block in responses.items():
        head, _, body = block.partition(b"\r\n\r\n")
        if path.startswith("/gzip/"):
            assert body[:2] == b"\x1f\x8b" and b"Content-Encoding: gzip" in head
        if path.startswith("/gzip-chunked/") or path.startswith("/chunked/"):
            assert b"Transfer-Encoding: chunked" in head and body.endswith(b"\r\n0\r\n\r\n")
        if path.startswith("/zstd/"):
            assert body[:4] == b"\x28\xb5\x2f\xfd"

    result = thresher.ingest(warc)
    assert result.errors.height == 0, result.errors.to_dicts()
    got = result.records
    paths = [u[len(base) :] if u.startswith(base) else u for u in got["url"].to_list()]
    page_paths = sorted(
        p for p, (ctype, _, _) in site.files.items() if ctype.startswith("text/html")
    )
    # wget stores its own files (command line, log manifest) as records at
    # metadata: URIs; they are the crawler's, not the site's documents.
    crawler_files = [
        h["warc-target-uri"].strip("<>")
        for h, _ in records
        if h["warc-type"] in ("resource", "metadata")
    ]
    assert crawler_files and all(r.startswith("metadata://") for r in crawler_files)
    assert sorted(paths) == page_paths
    text = dict(zip(paths, got["text"].to_list(), strict=True))
    title = dict(zip(paths, got["title"].to_list(), strict=True))
    n_pages = sum(1 for p in page_paths if p.startswith("/plain/"))
    for i in range(n_pages):
        plain = text[f"/plain/page{i}.html"]
        assert len(plain.split()) > 20 and "<" not in plain[:200]
        for enc in ENCODINGS[1:]:
            assert text[f"/{enc}/page{i}.html"] == plain, enc
            assert title[f"/{enc}/page{i}.html"] == title[f"/plain/page{i}.html"]
    for path in page_paths:
        meta = meta_of(got.row(paths.index(path), named=True))
        assert meta["raw_length"] > 0 and meta["content_type"].startswith("text/html")

    kinds = Counter(h["warc-type"] for h, _ in records)
    expected = {
        "image/png": 1,
        "image/jpeg": 1,
        "application/javascript": 1,
        "text/css": 1,
        "empty": 1,
        "warc/request": kinds["request"],
        "warc/warcinfo": kinds["warcinfo"],
        "warc/metadata": len(crawler_files),
    }
    assert kinds["request"] == len(site.files) + 1 and kinds["warcinfo"] == 1
    assert result.skipped == expected
    with thresher.scan(warc, batch_size=3) as scan:
        assert sum(frame.height for frame in scan) == got.height
        assert scan.skipped == expected
        assert scan.errors.height == 0
    # The command counts them the same in summary.json; asking for styles
    # too makes the style sheet a document.
    out = tmp_path / "out"
    command = [sys.executable, "-m", "thresher.cli", "dedup", str(warc), "--out", str(out)]
    run = subprocess.run(
        [*command, "--content-types", "text/html,text/css"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == {k: v for k, v in expected.items() if k != "text/css"}
    assert summary["records_in"] == got.height + 1
    # Asking for every type: scripts and styles become documents, and the
    # images are records or error rows, not lost silently.
    everything = thresher.ingest(warc, content_types="*/*")
    urls = set(everything.records["url"].to_list())
    assert {f"{base}/static/app.js", f"{base}/static/site.css"} <= urls
    assert everything.records.height + everything.errors.height >= got.height + 4


# ---------------------------------------------------------------------------
# Character sets: one page in four legacy encodings decodes to the same text.
# ---------------------------------------------------------------------------

#: Language, its legacy encoding (encoding_rs name, label), and the Python
#: codecs whose mappings must agree on a character for it to be used (the
#: WHATWG tables are those of the Windows code pages).
CHARSETS = {
    "ja": ("Shift_JIS", "shift_jis", ("shift_jis", "cp932")),
    "zh_CN": ("GBK", "gbk", ("gbk", "gb18030")),
    "ko": ("EUC-KR", "euc-kr", ("euc_kr", "cp949")),
    "ru": ("windows-1251", "windows-1251", ("cp1251",)),
}
CATALOGUES = ("coreutils", "grep", "sed", "tar", "findutils", "dpkg", "apt", "bash", "libc")


def catalogue_sentences(lang: str, codecs: tuple[str, ...], n: int = 40) -> list[str]:
    """``n`` translated messages of the language's gettext catalogues that
    every codec of ``codecs`` encodes and decodes back to the same text."""
    out: list[str] = []
    for name in CATALOGUES:
        path = Path(f"/usr/share/locale/{lang}/LC_MESSAGES/{name}.mo")
        if not path.is_file():
            continue
        with open(path, "rb") as fh:
            catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
        for key in sorted(k for k in catalog if isinstance(k, str) and k):
            text = " ".join(str(catalog[key]).split())
            if not (15 <= len(text) <= 160) or text.isascii() or "%" in text:
                continue
            try:
                encoded = [text.encode(c) for c in codecs]
            except UnicodeEncodeError:
                continue
            if len(set(encoded)) != 1 or any(
                e.decode(c) != text for e, c in zip(encoded, codecs, strict=True)
            ):
                continue
            if text not in out:
                out.append(text)
            if len(out) == n:
                return out
    return out


def charset_page(sentences: list[str], declaration: str) -> str:
    title = html.escape(sentences[0])
    body = "".join(f"<p>{html.escape(s)}</p>\n" for s in sentences[1:])
    head = declaration + f"<title>{title}</title>"
    return (
        f"<!DOCTYPE html>\n<html><head>{head}</head><body><h1>{title}</h1>\n{body}</body></html>\n"
    )


#: How each variant declares its charset (label): HTTP Content-Type, meta, or nothing.
VARIANTS = ("header", "meta-charset", "http-equiv", "xml", "undeclared")


@pytest.fixture(scope="module")
def charset_records(tmp_path_factory) -> dict[tuple[str, str], dict]:
    require(
        Path("/usr/share/locale/ja/LC_MESSAGES").is_dir(),
        "gettext catalogues (/usr/share/locale) not found",
    )
    items = []
    for lang, (_, label, codecs) in CHARSETS.items():
        sentences = catalogue_sentences(lang, codecs)
        require(len(sentences) >= 30, f"too few {lang} catalogue messages")
        utf8 = charset_page(sentences, '<meta charset="utf-8">').encode()
        items.append((f"https://x.example/{lang}/utf-8", http_response(utf8)))
        for variant in VARIANTS:
            ctype = "text/html"
            if variant == "header":
                page, ctype = charset_page(sentences, ""), f"text/html; charset={label}"
            elif variant == "meta-charset":
                page = charset_page(sentences, f'<meta charset="{label}">')
            elif variant == "http-equiv":
                decl = f'<meta http-equiv="Content-Type" content="text/html; charset={label}">'
                page = charset_page(sentences, decl)
            elif variant == "xml":
                page = f'<?xml version="1.0" encoding="{label}"?>\n' + charset_page(sentences, "")
                page = page.replace("<html>", '<html xmlns="http://www.w3.org/1999/xhtml">')
                ctype = "application/xhtml+xml"
            else:
                page = charset_page(sentences, "")
            body = page.encode(codecs[0])
            items.append((f"https://x.example/{lang}/{variant}", http_response(body, ctype)))
    path = tmp_path_factory.mktemp("charsets") / "charsets.warc"
    write_warc(path, items)
    result = thresher.ingest(path)
    rows: dict[tuple[str, str], dict] = {}
    for row in result.records.iter_rows(named=True):
        _, lang, variant = row["url"].rsplit("/", 2)
        rows[(lang, variant)] = row
    assert len(rows) == len(items)
    rows[("errors", "")] = {"errors": result.errors.to_dicts()}
    return rows


def test_legacy_charsets_give_no_error_rows(charset_records):
    assert charset_records[("errors", "")]["errors"] == []


@pytest.mark.parametrize("lang", sorted(CHARSETS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_legacy_charsets_decode_to_the_utf8_text(charset_records, lang, variant):
    reference = charset_records[(lang, "utf-8")]
    row = charset_records[(lang, variant)]
    encoding = CHARSETS[lang][0]
    assert meta_of(reference)["encoding"] == "UTF-8"
    assert meta_of(row)["encoding"] == encoding
    assert not row["invalid_utf8"]
    assert row["text"] == reference["text"]
    assert row["title"] == reference["title"] and row["title"]
    assert "\ufffd" not in row["text"]


def test_utf8_reference_page_holds_every_sentence(charset_records):
    for lang, (_, _, codecs) in CHARSETS.items():
        text = charset_records[(lang, "utf-8")]["text"]
        sentences = catalogue_sentences(lang, codecs)
        assert all(s in text for s in sentences[1:]), lang


# ---------------------------------------------------------------------------
# Bad input: broken markup, lying charsets and broken payloads never crash.
# ---------------------------------------------------------------------------


def bad_pages() -> list[tuple[str, bytes]]:
    rng = random.Random(15)
    russian = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 20
    japanese = "これは日本語の文章です。文字コードの宣言が正しくありません。" * 20
    gz = gzip.compress(b"<html><body><p>" + b"truncated gzip page " * 200 + b"</p></body></html>")
    return [
        ("mismatched", http_response(b"<html><body><p>Hello <b>world</i></p></div></span>end")),
        (
            "unclosed-tags",
            http_response(b"<html><body><div><p>open <ul><li>item <table><tr><td>cell"),
        ),
        ("unclosed-script", http_response(b"<p>visible words here</p><script>var s = '<p>x</p>';")),
        ("unclosed-comment", http_response(b"<p>before the comment</p><!-- <p>never closed</p>")),
        ("deep-nesting", http_response(b"<div>" * 200_000 + b"deep text" + b"</div>" * 10)),
        ("nul-bytes", http_response(b"<p>nul\x00in\x00the\x00middle</p>")),
        ("broken-entities", http_response(b"<p>&amp &#xZZ; &#99999999; &unknown; &lt</p>")),
        ("binary-as-html", http_response(rng.randbytes(20_000), "text/html")),
        (
            "lying-utf8",
            http_response(f"<p>{russian}</p>".encode("cp1251"), "text/html; charset=utf-8"),
        ),
        (
            "lying-shift-jis",
            http_response(f"<p>{japanese}</p>".encode(), "text/html; charset=shift_jis"),
        ),
        (
            "unknown-charset",
            http_response(b'<meta charset="klingon"><p>plain words</p>', "text/html"),
        ),
        (
            "truncated-gzip",
            http_response(gz[: len(gz) // 2], "text/html", [("Content-Encoding", "gzip")]),
        ),
        (
            "not-gzip",
            http_response(b"<p>not compressed</p>", "text/html", [("Content-Encoding", "gzip")]),
        ),
        (
            "bad-chunks",
            http_response(
                b"zz\r\n<p>x</p>\r\n0\r\n\r\n", "text/html", [("Transfer-Encoding", "chunked")]
            ),
        ),
        (
            "unknown-coding",
            http_response(b"<p>x</p>", "text/html", [("Content-Encoding", "lzma9")]),
        ),
        ("good-after", http_response(b"<html><body><p>the last page is fine</p></body></html>")),
    ]


@pytest.mark.parametrize("html_mode", [None, "text", "main", "raw"])
def test_bad_pages_give_records_or_error_rows(tmp_path, html_mode):
    items = [(f"https://bad.example/{name}", block) for name, block in bad_pages()]
    offsets = write_warc(tmp_path / "bad.warc", items)
    result = thresher.ingest(tmp_path / "bad.warc", html=html_mode)
    records, errors = result.records, result.errors
    starts = sorted(offsets.values())
    ends = dict(zip(starts, [*starts[1:], (tmp_path / "bad.warc").stat().st_size], strict=True))
    seen = records["offset"].to_list() + errors["offset"].to_list()
    for name, start in offsets.items():
        assert any(start <= at < ends[start] for at in seen), f"{name}: neither record nor error"
    by_name = {row["url"].rsplit("/", 1)[1]: row for row in records.iter_rows(named=True)}
    assert "the last page is fine" in by_name["good-after"]["text"]
    flagged = {r["offset"] for r in records.iter_rows(named=True) if r["invalid_utf8"]}
    invalid_at = errors.filter(pl.col("kind") == "invalid_utf8")["offset"].to_list()
    assert flagged == {s for s in starts for at in invalid_at if s <= at < ends[s]}
    # U+FFFD only where bytes were invalid (or the page itself asks for it).
    for name, row in by_name.items():
        if name not in ("broken-entities", "binary-as-html", "nul-bytes"):
            assert row["invalid_utf8"] or "\ufffd" not in row["text"], name
    if html_mode != "raw":
        assert "visible words here" in by_name["unclosed-script"]["text"]
        assert "before the comment" in by_name["unclosed-comment"]["text"]
        assert "never closed" not in by_name["unclosed-comment"]["text"]
        assert "deep text" in by_name["deep-nesting"]["text"]
        lying = by_name["lying-utf8"]
        assert lying["invalid_utf8"] and meta_of(lying)["encoding"] == "UTF-8"
    with thresher.scan(tmp_path / "bad.warc", html=html_mode, batch_size=2) as scan:
        assert sum(f.height for f in scan) == records.height
        assert scan.errors.height == errors.height
