"""Progress of the ``thresher`` command inside one big file: the ``--json``
progress events of a scan over one large compressed archive show the bytes
read of it advancing before it ends, the later passes of ``dedup`` (which
read the spool, not the inputs) count records, and the terminal's text
stays short."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from thresher.progress import INTERVAL_ENV, Phase, TerminalProgress, duration, eta

#: Bytes of text in the archive (about 10 MB once gzipped).
TEXT_BYTES = 40_000_000


def _thresher() -> list[str]:
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def _source_files() -> list[Path]:
    """Real text on this machine: the Python standard library's sources."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(root.rglob("*.py")) if root.is_dir() else []
    if sum(f.stat().st_size for f in files) < TEXT_BYTES:
        if os.environ.get("CI") == "true":
            pytest.fail(f"fewer than {TEXT_BYTES} bytes of Python sources under {root}")
        pytest.skip(f"fewer than {TEXT_BYTES} bytes of Python sources under {root}")
    return files


def _json_events(*args: str) -> list[dict[str, Any]]:
    """The ``--json`` events of ``thresher ARGS --json --threads 1``, with a
    progress event every 10 ms."""
    proc = subprocess.run(
        [*_thresher(), *args, "--json", "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, INTERVAL_ENV: "0.01"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``.jsonl.gz`` of about 40 MB of text, one record per source file."""
    path = tmp_path_factory.mktemp("big") / "sources.jsonl.gz"
    written = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for source in _source_files():
            text = source.read_text(encoding="utf-8", errors="replace")
            out.write(json.dumps({"text": text, "id": str(source)}) + "\n")
            written += len(text)
            if written >= TEXT_BYTES:
                break
    return path


def test_json_progress_shows_bytes_read_inside_one_archive(
    big_archive: Path, tmp_path: Path
) -> None:
    size = big_archive.stat().st_size
    events = _json_events("scan", str(big_archive), "--out", str(tmp_path / "r.parquet"))
    scan = [e for e in events if e.get("phase") == "scan" and e["event"] == "progress"]
    assert scan and all(e["bytes_total"] == size for e in scan)
    read = [e["bytes_read"] for e in scan]
    assert read == sorted(read)
    inside = sorted({b for b in read if 0 < b < size})
    assert len(inside) >= 2, (size, read)
    assert all(e["files_done"] == 0 for e in scan if 0 < e["bytes_read"] < size)
    end = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "scan")
    assert end["bytes_read"] == end["bytes_total"] == end["bytes_done"] == size
    assert end["files_done"] == 1


def test_durations_and_time_left_read_at_a_glance() -> None:
    assert duration(4.25) == "4.2 s"
    assert duration(59.94) == "59.9 s"
    assert duration(3723.9) == "1:02:03"
    assert duration(36_000) == "10:00:00"
    assert eta(0, 100, 5.0) is None
    assert eta(25, 100, 10.0) == pytest.approx(30.0)
    assert eta(100, 100, 10.0) == 0.0


def test_terminal_line_fits_80_columns() -> None:
    from rich.console import Console

    out = io.StringIO()
    terminal = TerminalProgress(Console(file=out, width=80, force_terminal=True))
    phase = Phase(terminal, "sketch", "pass 1: sketch", 1.0)
    terminal.start(phase)
    phase.started -= 62.0
    phase.counters.update(
        files_total=1,
        files_done=0,
        bytes_done=0,
        bytes_total=45_600_000_000,
        bytes_read=12_300_000_000,
        records=12_345_678,
        errors=0,
    )
    detail = terminal._detail(phase)
    assert detail.startswith("12.3/45.6 GB 26% ETA 0:02:")
    assert "files" not in detail and "12.3M rec" in detail
    terminal.update(phase)
    terminal.close()
    lines = [line for line in out.getvalue().splitlines() if "pass 1" in line]
    assert lines, out.getvalue()
    last = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", lines[-1].split("\r")[-1])
    assert detail in last and re.search(r" \d+:\d\d:\d\d ", last), last
    assert len(last.rstrip()) <= 80, last


def test_later_passes_read_the_spool_and_show_records_out_of_the_first_pass(
    big_archive: Path, tmp_path: Path
) -> None:
    size = big_archive.stat().st_size
    events = _json_events(
        "dedup", str(big_archive), "--out", str(tmp_path / "o"), "--batch-size", "64"
    )
    records_in = events[-1]["records_in"]
    by_phase: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["event"] in ("progress", "phase_end") and "phase" in e:
            by_phase.setdefault(e["phase"], []).append(e)
    # Only pass 1 reads the inputs: its events count their files and bytes.
    sketch_end = by_phase["sketch"][-1]
    assert sketch_end["bytes_read"] == sketch_end["bytes_done"] == size
    for name in ("verify", "cluster", "write"):
        for e in by_phase[name]:
            assert not {"bytes_read", "bytes_done", "files_done"} & e.keys(), e
            if "records" in e:  # verify and score read only when needed
                assert e["records_total"] == records_in, e
    write = [e["records"] for e in by_phase["write"]]
    assert write == sorted(write) and write[-1] == records_in
    assert len({r for r in write if 0 < r < records_in}) >= 2, write


def test_terminal_shows_a_later_pass_as_records_out_of_the_total() -> None:
    from rich.console import Console

    terminal = TerminalProgress(Console(file=io.StringIO(), width=80, force_terminal=True))
    phase = Phase(terminal, "write", "pass 4: write", 1.0)
    terminal.start(phase)
    phase.started -= 10.0
    phase.counters.update(records=12_345, records_total=49_380)
    detail = terminal._detail(phase)
    assert detail.startswith("12.3k/49.4k rows 25% ETA 30."), detail
    task = terminal._progress.tasks[0]
    terminal.update(phase)
    assert (task.total, task.completed) == (49_380, 12_345)
    terminal.close()
