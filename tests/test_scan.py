"""scan(): batches in doc_id order, the same whatever the thread count and
batch size, and equal to ingest() once collected."""

from __future__ import annotations

import signal
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


def test_read_ahead_gives_the_same_frames_errors_and_skipped(corpus: Path) -> None:
    runs = []
    for read_ahead in (True, False):
        with thresher.scan(corpus, batch_size=7, threads=2, read_ahead=read_ahead) as scan:
            frames = list(scan)
            runs.append((pl.concat(frames), [f.height for f in frames], scan.errors, scan.skipped))
    (records, heights, errors, skipped), (records_0, heights_0, errors_0, skipped_0) = runs
    assert records.equals(records_0)
    assert heights == heights_0
    assert errors.equals(errors_0)
    assert skipped == skipped_0


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("thresher-scan")]


def test_closing_a_scan_that_reads_ahead_ends_its_thread(corpus: Path) -> None:
    scan = thresher.scan(corpus, batch_size=5, threads=2)
    first = next(scan)
    assert first["doc_id"].to_list() == list(range(5))
    assert _reader_threads()
    scan.close()
    assert not _reader_threads()
    with pytest.raises(StopIteration):
        next(scan)
    # Ran to its end, a scan ends its thread too.
    with thresher.scan(corpus, batch_size=5) as whole:
        assert sum(frame.height for frame in whole) > 100
        assert not _reader_threads()


class _Batches:
    """A stand-in for the core's scan: hands out ``count`` one-row batches,
    fails instead of handing out batch ``fail_at``, and waits for ``gate``
    before batch ``wait_at``."""

    def __init__(self, count: int, fail_at: int = -1, wait_at: int = -1) -> None:
        self.count, self.fail_at, self.wait_at = count, fail_at, wait_at
        self.calls = 0
        self.gate = threading.Event()

    def next_batch(self) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        call, self.calls = self.calls, self.calls + 1
        if call == self.wait_at:
            self.gate.wait(10)
        if call == self.fail_at:
            raise thresher.InputError("batch could not be read", source="dump.jsonl")
        if call >= self.count:
            return None
        return pl.DataFrame({"doc_id": [call]}), pl.DataFrame()

    def close(self) -> None:
        pass


def _ids(scan: thresher.Scan) -> list[int]:
    return [frame["doc_id"][0] for frame in scan]


def test_an_error_read_ahead_is_raised_when_its_batch_is_asked_for() -> None:
    scan = thresher.Scan(_Batches(4, fail_at=2), read_ahead=True)  # type: ignore[arg-type]
    assert [next(scan)["doc_id"][0], next(scan)["doc_id"][0]] == [0, 1]
    with pytest.raises(thresher.InputError, match="could not be read"):
        next(scan)
    # As without read-ahead, the next call goes on after the failed batch.
    assert _ids(scan) == [3]


def test_ctrl_c_while_waiting_for_a_batch_read_ahead_loses_no_batch() -> None:
    batches = _Batches(4, wait_at=1)
    scan = thresher.Scan(batches, read_ahead=True)  # type: ignore[arg-type]
    assert next(scan)["doc_id"][0] == 0  # batch 1 is now read ahead, held at the gate
    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main
    timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        next(scan)
    timer.join()
    batches.gate.set()
    assert _ids(scan) == [1, 2, 3]
