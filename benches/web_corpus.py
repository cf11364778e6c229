"""Real web pages from this machine, wrapped in WARC files at run time.

The pages are the HTML documentation installed here:

* ``rustdoc``: API pages (``std``, ``core``, ``alloc``...) of every Rust
  toolchain's documentation under ``~/.rustup/toolchains`` (one site
  template, thousands of pages with different text);
* ``mdbook``: the books shipped with those toolchains (``book``,
  ``reference``, ``cargo``...; another template);
* ``debian``: the HTML files under ``/usr/share/doc`` (many templates);
* ``python-doc``: the Python manual (Sphinx), when ``python3.x-doc`` is
  installed.

A page at the same relative path in two toolchains' documentation is the same
page from two versions of the docs (the ``group`` of a :class:`Page`). The
corpus also holds re-wrapped copies: the visible text of a real page put into
another site's template (a Debian or Python page inside a real rustdoc page's
shell, a rustdoc page inside a plain blog-like page).

Nothing is copied into the repository: :func:`build_corpus` samples the pages
with a fixed seed and writes the WARC files into a directory it is given.
"""

from __future__ import annotations

import gzip
import html
import html.parser
import io
import json
import os
import random
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

#: Where rustup keeps its toolchains.
RUSTUP_TOOLCHAINS = Path(os.environ.get("RUSTUP_HOME", Path.home() / ".rustup")) / "toolchains"
#: Debian's documentation.
DEBIAN_DOC = Path("/usr/share/doc")
#: The crates whose rustdoc API pages are used (the rest of a toolchain's
#: documentation is mdbook books, sources and assets).
API_CRATES = ("alloc", "core", "proc_macro", "std", "std_detect", "test")
#: Directories of a toolchain's documentation that are not pages.
NOT_PAGES = ("src", "static.files", "trait.impl", "type.impl", "search.index")
#: Pages smaller than this are rustdoc's redirect stubs and the like.
MIN_PAGE_BYTES = 2_000
#: Date of every record (the corpus must not depend on the clock).
WARC_DATE = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Page:
    """One page of the corpus.

    Attributes:
        uri: ``WARC-Target-URI`` of its record; unique in a corpus.
        kind: ``rustdoc``, ``mdbook``, ``debian``, ``python-doc`` or
            ``rewrap``.
        group: the same page in other versions shares it (for ``rewrap``, the
            group of the page it copies).
        version: documentation version (``""`` where there is only one).
        path: the file it was read from (for ``rewrap``, the copied page's).
        origin: for ``rewrap``, the ``uri`` of the copied page.
    """

    uri: str
    kind: str
    group: str
    version: str
    path: str
    origin: str | None = None


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------

_RUSTDOC_VERSION = re.compile(rb'data-rustdoc-version="([^" ]+)')


def rustdoc_roots() -> list[tuple[str, Path]]:
    """``(version, html root)`` of each distinct toolchain documentation
    installed, sorted by version (toolchain links to the same directory count
    once)."""
    roots: dict[Path, str] = {}
    if not RUSTUP_TOOLCHAINS.is_dir():
        return []
    for toolchain in sorted(RUSTUP_TOOLCHAINS.iterdir()):
        root = (toolchain / "share" / "doc" / "rust" / "html").resolve()
        index = root / "std" / "index.html"
        if root in roots or not index.is_file():
            continue
        found = _RUSTDOC_VERSION.search(index.read_bytes()[:8192])
        if found:
            roots[root] = found.group(1).decode()
    return sorted(((v, r) for r, v in roots.items()), key=lambda vr: _version_key(vr[0]))


def _version_key(version: str) -> tuple:
    numbers = re.findall(r"\d+", version)
    return tuple(int(n) for n in numbers[:3]), version


def _html_files(root: Path, max_bytes: int) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".html"):
                continue
            path = os.path.join(dirpath, name)
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            if MIN_PAGE_BYTES <= size <= max_bytes:
                yield os.path.relpath(path, root)


def rustdoc_pages(root: Path, max_bytes: int) -> tuple[list[str], list[str]]:
    """Relative paths of the rustdoc API pages and of the mdbook pages of one
    toolchain's documentation, sorted."""
    api: list[str] = []
    books: list[str] = []
    for entry in sorted(os.listdir(root)):
        if entry in NOT_PAGES or not (root / entry).is_dir():
            continue
        target = api if entry in API_CRATES else books
        for rel in _html_files(root / entry, max_bytes):
            name = os.path.basename(rel)
            if name in ("print.html", "toc.html", "404.html", "all.html"):
                continue
            target.append(f"{entry}/{rel}")
    return api, books


def debian_pages(max_bytes: int) -> tuple[list[str], list[str]]:
    """Absolute paths of Debian's HTML documentation and of the Python manual
    (when installed), sorted."""
    debian: list[str] = []
    python_doc: list[str] = []
    if not DEBIAN_DOC.is_dir():
        return debian, python_doc
    for rel in _html_files(DEBIAN_DOC, max_bytes):
        path = str(DEBIAN_DOC / rel)
        if re.match(r"python3\.\d+/html/", rel):
            python_doc.append(path)
        else:
            debian.append(path)
    return debian, python_doc


# ---------------------------------------------------------------------------
# Visible text, in plain Python (for re-wrapping and as an independent check).
# ---------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "td tfoot th thead tr ul".split()
)
_HIDDEN_TAGS = frozenset(("script", "style", "template", "noscript", "head"))
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


class _VisibleText(html.parser.HTMLParser):
    """Blocks of visible text of a page and its ``<title>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title_parts: list[str] = []
        self._line: list[str] = []
        self._hidden: list[str] = []
        self._in_title = False

    def _flush(self) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.blocks.append(text)
        self._line = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _HIDDEN_TAGS and tag not in _VOID_TAGS:
            self._hidden.append(tag)
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _HIDDEN_TAGS and tag in self._hidden:
            while self._hidden and self._hidden.pop() != tag:
                pass
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._hidden:
            self._line.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def visible_text(page: bytes | str) -> tuple[str, list[str]]:
    """``(title, blocks)``: the page's title and its blocks of visible text
    (no scripts, styles, templates or head), each with spaces collapsed.
    Written with the standard library only, independently of thresher."""
    if isinstance(page, bytes):
        try:
            page = page.decode("utf-8")
        except UnicodeDecodeError:
            page = page.decode("cp1252", errors="replace")
    parser = _VisibleText()
    parser.feed(page)
    parser.close()
    return " ".join("".join(parser.title_parts).split()), parser.blocks


# ---------------------------------------------------------------------------
# Templates for re-wrapped copies.
# ---------------------------------------------------------------------------

_MAIN_SECTION = re.compile(rb'<section id="main-content"[^>]*>.*</section></div></main>', re.DOTALL)


def rustdoc_shell(shell: bytes, title: str, blocks: list[str]) -> bytes:
    """A real rustdoc page (``shell``) with its title and main content
    replaced by ``blocks``; its head, top bar and sidebar stay."""
    body = "".join(f"<p>{html.escape(b)}</p>" for b in blocks)
    main = (
        '<section id="main-content" class="content" tabindex="-1">'
        f'<div class="main-heading"><h1>{html.escape(title)}</h1></div>'
        f'<details class="toggle top-doc" open><summary class="hideme"><span>Expand '
        f'description</span></summary><div class="docblock">{body}</div></details>'
        "</section></div></main>"
    ).encode()
    page = _MAIN_SECTION.sub(lambda _: main, shell, count=1)
    return re.sub(
        rb"<title>.*?</title>", f"<title>{html.escape(title)}</title>".encode(), page, count=1
    )


def plain_shell(title: str, blocks: list[str]) -> bytes:
    """A small blog-like page holding ``blocks``, with its own navigation,
    styles, script and footer."""
    t = html.escape(title)
    body = "\n".join(f"<p>{html.escape(b)}</p>" for b in blocks)
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{t}</title>"
        "<style>body{font:16px/1.5 Georgia,serif;max-width:42em;margin:auto}"
        "nav a{margin-right:1em}footer{color:#777}</style>"
        "<script>window.dataLayer=window.dataLayer||[];function track(){}</script>"
        "</head><body><header><nav><a href=/>Home</a><a href=/archive>Archive</a>"
        "<a href=/about>About</a></nav></header>"
        f"<main><article><h1>{t}</h1>\n{body}\n</article></main>"
        "<footer>Mirrored for reading offline.</footer></body></html>\n"
    ).encode()


# ---------------------------------------------------------------------------
# WARC writing.
# ---------------------------------------------------------------------------


def http_response(
    body: bytes,
    content_type: str | None = "text/html; charset=utf-8",
    headers: Iterable[tuple[str, str]] = (),
    status: str = "200 OK",
) -> bytes:
    """An HTTP/1.1 response (head and body) as a crawler stores it. A
    ``Content-Length`` is added unless ``headers`` set ``Transfer-Encoding``."""
    lines = [f"HTTP/1.1 {status}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    extra = list(headers)
    if not any(k.lower() in ("transfer-encoding", "content-length") for k, _ in extra):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def warc_record(
    block: bytes,
    uri: str,
    warc_type: str = "response",
    content_type: str = "application/http;msgtype=response",
    date: str = WARC_DATE,
) -> bytes:
    """One WARC/1.1 record; its id is derived from ``uri`` and ``warc_type``,
    so a corpus is byte-for-byte the same at every run."""
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{warc_type} {uri}")
    head = (
        "WARC/1.1\r\n"
        f"WARC-Type: {warc_type}\r\n"
        f"WARC-Target-URI: {uri}\r\n"
        f"WARC-Date: {date}\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    )
    return head.encode("utf-8") + block + b"\r\n\r\n"


def write_warc(path: Path, records: Iterable[bytes], gzip_records: bool = False) -> int:
    """Writes ``records`` to ``path`` (each record its own gzip member when
    ``gzip_records``, as crawlers write ``.warc.gz``); returns bytes written."""
    with open(path, "wb") as out:
        for record in records:
            out.write(gzip.compress(record, mtime=0) if gzip_records else record)
        return out.tell()


def warc_records(data: bytes) -> Iterator[tuple[dict[str, str], bytes]]:
    """``(headers, block)`` of each record of a WARC file (plain or gzip
    members), parsed in plain Python to check what a crawler wrote."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    pos = 0
    while True:
        start = data.find(b"WARC/1.", pos)
        if start < 0:
            return
        end = data.index(b"\r\n\r\n", start)
        headers: dict[str, str] = {}
        for line in data[start:end].split(b"\r\n")[1:]:
            name, _, value = line.decode("utf-8").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        block = data[end + 4 : end + 4 + length]
        yield headers, block
        pos = end + 4 + length


# ---------------------------------------------------------------------------
# The corpus.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusSpec:
    """How many pages of each kind :func:`build_corpus` samples."""

    rustdoc: int = 1500
    #: Of which this many also come from every other documentation version.
    rustdoc_versions: int = 500
    mdbook: int = 350
    mdbook_versions: int = 150
    debian: int = 250
    python_doc: int = 300
    rewrap: int = 250
    max_page_bytes: int = 200_000
    records_per_file: int = 400


def _rust_uri(version: str, rel: str) -> str:
    return f"https://doc.rust-lang.org/{version}/{rel}"


def build_corpus(out_dir: Path, spec: CorpusSpec = CorpusSpec(), seed: int = 15) -> list[Page]:
    """Samples real pages (fixed ``seed``) and writes them as WARC response
    records to ``out_dir/warc/pages-NNN.warc``, plus ``out_dir/pages.jsonl`` (one
    :class:`Page` a line, in record order). Returns the pages in record order."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: list[tuple[Page, bytes]] = []
    roots = rustdoc_roots()
    if roots:
        newest_version, newest = roots[-1]
        api, books = rustdoc_pages(newest, spec.max_page_bytes)
        others = roots[:-1]
        for rel_list, n, n_versions, kind in (
            (api, spec.rustdoc, spec.rustdoc_versions, "rustdoc"),
            (books, spec.mdbook, spec.mdbook_versions, "mdbook"),
        ):
            chosen = rng.sample(rel_list, min(n, len(rel_list)))
            versioned = set(rng.sample(chosen, min(n_versions, len(chosen))))
            for rel in chosen:
                versions = [(newest_version, newest)]
                if rel in versioned:
                    versions += [
                        (v, r)
                        for v, r in others
                        if MIN_PAGE_BYTES <= _size(r / rel) <= spec.max_page_bytes
                    ]
                for version, root in versions:
                    path = root / rel
                    page = Page(_rust_uri(version, rel), kind, rel, version, str(path))
                    pages.append((page, path.read_bytes()))
    debian, python_doc = debian_pages(spec.max_page_bytes)
    for paths, n, kind in (
        (debian, spec.debian, "debian"),
        (python_doc, spec.python_doc, "python-doc"),
    ):
        for path in sorted(rng.sample(paths, min(n, len(paths)))):
            pages.append((Page(f"file://{path}", kind, path, "", path), Path(path).read_bytes()))
    pages += _rewrapped(pages, spec.rewrap, rng, roots)
    rng.shuffle(pages)
    records = [
        warc_record(http_response(body, _served_type(body)), page.uri) for page, body in pages
    ]
    warc_dir = out_dir / "warc"
    warc_dir.mkdir(exist_ok=True)
    for i in range(0, len(records), spec.records_per_file):
        write_warc(
            warc_dir / f"pages-{i // spec.records_per_file:03}.warc",
            records[i : i + spec.records_per_file],
        )
    with open(out_dir / "pages.jsonl", "w", encoding="utf-8") as out:
        for page, _ in pages:
            out.write(json.dumps(asdict(page)) + "\n")
    return [page for page, _ in pages]


def _served_type(body: bytes) -> str:
    """What a server that knows only the file's bytes would send: the UTF-8
    charset when the bytes are UTF-8, else no charset (the page's own
    declaration or detection decides)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "text/html"
    return "text/html; charset=utf-8"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _rewrapped(
    pages: list[tuple[Page, bytes]], n: int, rng: random.Random, roots: list[tuple[str, Path]]
) -> list[tuple[Page, bytes]]:
    """Copies of the visible text of ``n`` sampled pages in another template:
    rustdoc pages in a plain page; other pages in a real rustdoc page's shell."""
    shell = _shell_page(roots)
    originals = list(pages)
    out: list[tuple[Page, bytes]] = []
    for page, body in rng.sample(originals, min(n, len(originals))):
        title, blocks = visible_text(body)
        if not blocks:
            continue
        if page.kind == "rustdoc" or shell is None:
            copy = plain_shell(title or "Untitled", blocks)
        else:
            copy = rustdoc_shell(shell, title or "Untitled", blocks)
        uri = f"https://mirror.example/{len(out)}/{page.group}"
        out.append((Page(uri, "rewrap", page.group, page.version, page.path, page.uri), copy))
    return out


def _shell_page(roots: list[tuple[str, Path]]) -> bytes | None:
    """A small real rustdoc function page, whose template holds copies."""
    if not roots:
        return None
    path = roots[-1][1] / "std" / "mem" / "fn.swap.html"
    return path.read_bytes() if path.is_file() else None


def load_pages(out_dir: Path) -> list[Page]:
    """The pages of a corpus written by :func:`build_corpus`, in record order."""
    with open(out_dir / "pages.jsonl", encoding="utf-8") as fh:
        return [Page(**json.loads(line)) for line in fh]
