"""HTML to text on real pages: thresher's extractor against Python's
trafilatura (``trafilatura.extract``) and BeautifulSoup's ``get_text()``
(with the ``lxml`` parser and with ``html.parser``), in MB/s on one core,
and the main-content quality of each, printed as markdown tables.

The pages are the ``.html`` files under the rustdoc HTML of each installed
Rust toolchain and ``/usr/share/doc`` (or the directories given): an equal
share of ``--pages`` (default 2,000) from each directory, taken evenly
spaced in path order (install ``python3-doc`` for Sphinx pages); their list is
written to ``benches/out/html_pages.txt``. thresher's figures come from the
Rust example ``html_speed`` run on that list (release build, one thread),
which also writes its main-mode texts and the ground truth to
``benches/out/html_dump``: on rustdoc pages the text of ``<section
id="main-content">``, on Sphinx pages that of ``<div class="body"
role="main">`` (each through thresher's text mode), and the site's sidebar.
Python's extractors run here, one page after another, timed by this
process's CPU time.

Quality is per page, averaged: recall is the share of the ground truth's
words (lowercased runs of letters and digits, counted with multiplicity)
found in the output, precision the share of the output's words in the
ground truth, and "sidebar leak" the share of the sidebar's words (those
not in the ground truth) that appear in the output.

    .venv/bin/python benches/bench_html.py [--pages 2000] [--repeat 3] [DIR ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
WORD = re.compile(r"\w+")


def default_dirs() -> list[Path]:
    toolchains = Path.home() / ".rustup" / "toolchains"
    dirs = sorted(
        p / "share/doc/rust/html"
        for p in (toolchains.iterdir() if toolchains.is_dir() else [])
        if (p / "share/doc/rust/html").is_dir()
    )
    return [*dirs, Path("/usr/share/doc")]


def choose(dirs: list[Path], pages: int) -> list[str]:
    """.html/.htm files, an equal share of `pages` from each directory, evenly
    spaced in path order (as the Rust example chooses them)."""
    chosen: list[str] = []
    seen: set[str] = set()
    for n, d in enumerate(dirs):
        share = pages * (n + 1) // len(dirs) - pages * n // len(dirs)
        found = []
        for parent, _, files in os.walk(d):
            for f in files:
                path = os.path.join(parent, f)
                if f.lower().endswith((".html", ".htm")) and not os.path.islink(path):
                    found.append(path)
        found.sort(key=os.fsencode)
        if len(found) > share:
            found = [found[i * len(found) // share] for i in range(share)]
        chosen.extend(p for p in found if p not in seen)
        seen.update(found)
    return chosen


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORD.findall(text))


def thresher_rust(list_file: Path, repeat: int, dump: Path) -> dict[str, float]:
    cmd = [
        "cargo", "run", "-q", "--release", "-p", "thresher-core", "--example", "html_speed",
        "--", "--list", str(list_file), "--repeat", str(repeat), "--dump", str(dump),
    ]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    sys.stderr.write(out)
    speeds = {}
    for line in out.splitlines():
        if line.startswith("mode="):
            fields = dict(kv.split("=", 1) for kv in line.split())
            speeds[fields["mode"]] = float(fields["mb_per_cpu_s"])
    return speeds


def timed(fn: Callable[[str], str], pages: list[str], repeat: int) -> tuple[float, list[str]]:
    """Best MB per CPU-second over `repeat` runs, and the texts."""
    mb = sum(len(p.encode()) for p in pages) / 1e6
    best, texts = 0.0, []
    for _ in range(repeat):
        started = time.process_time()
        texts = [fn(p) for p in pages]
        best = max(best, mb / max(time.process_time() - started, 1e-9))
    return best, texts


def quality(
    texts: list[str], pages: list[str], dump: Path
) -> dict[str, tuple[float, float, float, int]]:
    """Per site: mean recall, mean precision, sidebar leak, pages."""
    sums: dict[str, list[float]] = {}
    for i, text in enumerate(texts):
        truth_file = dump / f"{i}.truth.txt"
        if not truth_file.exists():
            continue
        truth = words(truth_file.read_text())
        if not truth:
            continue
        got = words(text)
        nav = [w for w in words((dump / f"{i}.nav.txt").read_text()) if w not in truth]
        site = "rustdoc" if '<section id="main-content"' in pages[i] else "sphinx"
        overlap = sum((truth & got).values())
        s = sums.setdefault(site, [0.0, 0.0, 0.0, 0.0, 0.0])
        s[0] += overlap / sum(truth.values())
        s[1] += overlap / sum(got.values()) if got else 0.0
        s[2] += sum(1 for w in nav if w in got)
        s[3] += len(nav)
        s[4] += 1
    return {
        site: (s[0] / s[4], s[1] / s[4], s[2] / max(s[3], 1), int(s[4]))
        for site, s in sorted(sums.items())
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", type=Path)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import trafilatura
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

    OUT.mkdir(exist_ok=True)
    paths = choose(args.dirs or default_dirs(), args.pages)
    list_file = OUT / "html_pages.txt"
    list_file.write_text("".join(p + "\n" for p in paths))
    dump = OUT / "html_dump"
    for old in dump.glob("*.txt") if dump.is_dir() else []:
        old.unlink()
    pages = [Path(p).read_bytes().decode("utf-8", "replace") for p in paths]
    mb = sum(len(p.encode()) for p in pages) / 1e6
    print(f"{len(pages)} pages, {mb:.1f} MB\n")

    rust = thresher_rust(list_file, args.repeat, dump)
    main_texts = [(dump / f"{i}.main.txt").read_text() for i in range(len(pages))]

    extractors: list[tuple[str, Callable[[str], str], int]] = [
        ("BeautifulSoup get_text() (lxml)", lambda h: BeautifulSoup(h, "lxml").get_text(), 1),
        ("BeautifulSoup get_text() (html.parser)",
         lambda h: BeautifulSoup(h, "html.parser").get_text(), 1),
        ("trafilatura.extract()", lambda h: trafilatura.extract(h) or "", 1),
    ]  # fmt: skip
    rows = [
        ("thresher text mode (Rust)", rust.get("text", 0.0), None),
        ("thresher main mode (Rust)", rust.get("main", 0.0), main_texts),
    ]
    for name, fn, repeat in extractors:
        speed, texts = timed(fn, pages, repeat)
        rows.append((name, speed, texts))
        print(f"{name}: {speed:.1f} MB/s", file=sys.stderr)

    print("| extractor | MB per CPU-second |")
    print("|---|---:|")
    for name, speed, _ in rows:
        print(f"| {name} | {speed:,.1f} |")
    print()
    print("| extractor | site | pages | recall | precision | sidebar leak |")
    print("|---|---|---:|---:|---:|---:|")
    for name, _, texts in rows:
        if texts is None:
            continue
        for site, (r, p, leak, n) in quality(texts, pages, dump).items():
            print(f"| {name} | {site} | {n} | {r:.3f} | {p:.3f} | {leak:.3f} |")


if __name__ == "__main__":
    main()
