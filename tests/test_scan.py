"""scan(): batches in doc_id order, the same whatever the thread count and
batch size, and equal to ingest() once collected."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest
from archive_builders import compress, jsonl_bytes, tar_bytes

import thresher


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    for i in range(12):
        rows = [{"text": f"file {i} row {j} words"} for j in range(i * 7 % 23 + 1)]
        data = jsonl_bytes(rows)
        if i % 3 == 0:
            (tmp_path / f"f{i:02}.jsonl.gz").write_bytes(compress(data, "gz"))
        elif i % 3 == 1:
            (tmp_path / f"f{i:02}.tar").write_bytes(tar_bytes({"a.jsonl": data, "b.txt": b"plain"}))
        else:
            (tmp_path / f"f{i:02}.jsonl").write_bytes(data + b"{broken\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    return tmp_path


def test_scan_matches_ingest_for_any_batching(corpus: Path) -> None:
    whole = thresher.ingest(corpus)
    assert whole.records.height > 100
    for batch_size, threads in [(1, 1), (7, 2), (50, 4), (10_000, 3)]:
        with thresher.scan(corpus, batch_size=batch_size, threads=threads) as scan:
            frames = list(scan)
            errors = scan.errors
            progress = scan.progress
        assert all(f.height == batch_size for f in frames[:-1])
        assert 0 < frames[-1].height <= batch_size
        assert pl.concat(frames).equals(whole.records)
        assert errors.equals(whole.errors)
        assert progress["files_done"] == progress["files_total"] == 13
        assert progress["records"] == whole.records.height


def test_scan_can_stop_early(corpus: Path) -> None:
    scan = thresher.scan(corpus, batch_size=5, threads=2)
    first = next(iter(scan))
    assert first["doc_id"].to_list() == list(range(5))
    scan.close()
    with pytest.raises(StopIteration):
        next(scan)


def test_scan_rejects_bad_options(corpus: Path) -> None:
    with pytest.raises(ValueError):
        thresher.scan(corpus, batch_size=0)
    with pytest.raises(ValueError):
        thresher.scan(corpus, format="csv")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        thresher.scan(corpus, limits=thresher.Limits(max_depth=0))


def test_empty_scan_has_schema(tmp_path: Path) -> None:
    scan = thresher.scan(tmp_path)
    assert list(scan) == []
    assert scan.errors.columns == ["source", "member", "offset", "kind", "reason"]


def test_progress_can_be_polled_while_another_thread_iterates(corpus: Path) -> None:
    scan = thresher.scan(corpus, batch_size=3, threads=2)
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            seen.append(scan.progress["records"])

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        total = sum(frame.height for frame in scan)
    finally:
        stop.set()
        poller.join(timeout=30)
    assert not poller.is_alive()
    assert seen == sorted(seen)
    assert total == scan.progress["records"] == thresher.ingest(corpus).records.height
