"""The library's ``progress=True``: the command's bar over ``ingest`` and the
passes of ``dedup``, with results equal to those without a bar."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

import thresher
from thresher import progress as progress_module
from thresher.progress import Reporter, RowProgress, TerminalProgress


class _Recorder(Reporter):
    """Keeps every counter update of every phase, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, int]]] = []
        self.started: list[str] = []

    def start(self, phase: progress_module.Phase) -> None:
        self.started.append(phase.name)

    def update(self, phase: progress_module.Phase) -> None:
        self.events.append((phase.name, dict(phase.counters)))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    """Every library bar reports to one recorder instead of the terminal."""
    recorder = _Recorder()
    monkeypatch.setattr(
        thresher, "library_reporter", lambda enabled: recorder if enabled else Reporter()
    )
    return recorder


def _paragraphs(n: int, seed: int = 7) -> list[str]:
    """``n`` texts with planted exact and near copies."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(3000)]
    texts: list[str] = []
    for i in range(n):
        if i > 10 and i % 7 == 0:
            texts.append(texts[rng.randrange(i)])
        elif i > 10 and i % 5 == 0:
            base = texts[rng.randrange(i)].split()
            base[rng.randrange(len(base))] = "changed"
            texts.append(" ".join(base))
        else:
            texts.append(" ".join(rng.choice(words) for _ in range(60)))
    return texts


def _big_gzip(path: Path, records: int) -> Path:
    """A ``.jsonl.gz`` of ``records`` records, a few MB compressed."""
    rng = random.Random(3)
    words = [f"word{i}" for i in range(20_000)]
    with gzip.open(path, "wt", compresslevel=1) as out:
        for i in range(records):
            text = " ".join(rng.choice(words) for _ in range(120))
            out.write(f'{{"id": "{i}", "text": "{text}"}}\n')
    return path


def test_ingest_with_progress_equals_ingest_and_reports_bytes_inside_the_file(
    tmp_path: Path, recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Reporter, "interval", 0.005)
    path = _big_gzip(tmp_path / "one.jsonl.gz", 60_000)
    plain = thresher.ingest(path)
    shown = thresher.ingest(path, progress=True)
    assert shown.records.equals(plain.records)
    assert shown.errors.equals(plain.errors)
    assert shown.skipped == plain.skipped
    assert recorder.started == ["ingest"]
    total = path.stat().st_size
    read = [c["bytes_read"] for _, c in recorder.events if "bytes_read" in c]
    assert read[-1] == total
    assert any(0 < b < total for b in read), "the bar never moved inside the file"
    assert recorder.events[-1][1]["records"] == plain.records.height


def test_ingest_with_progress_of_errors_only_keeps_the_schema(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"\x1f\x8b\x08\x00 truncated")
    plain = thresher.ingest(junk)
    shown = thresher.ingest(junk, progress=True)
    assert shown.records.schema == plain.records.schema
    assert shown.records.height == plain.records.height == 0
    assert shown.errors.equals(plain.errors)


@pytest.mark.filterwarnings("ignore::thresher.KeepWarning")
@pytest.mark.parametrize("keep", ["first", "longest", "newest"])
@pytest.mark.parametrize("lazy", [False, True])
def test_dedup_with_progress_equals_dedup(recorder: _Recorder, keep: str, lazy: bool) -> None:
    texts = _paragraphs(3000)
    dates = [None if i % 11 == 0 else f"2024-01-{1 + i % 28:02d}" for i in range(len(texts))]
    frame = pl.DataFrame({"text": texts, "date": dates})
    expected = thresher.dedup(frame, keep=keep)  # type: ignore[arg-type]
    given = frame.lazy() if lazy else frame
    got = thresher.dedup(given, keep=keep, batch_size=500, progress=True)  # type: ignore[arg-type]
    if lazy:
        got = got.collect()
    assert got.equals(expected)
    assert expected["is_duplicate"].sum() > 500
    assert recorder.started[0] == "sketch" and "verify" in recorder.started
    for name in recorder.started:
        counts = [c for n, c in recorder.events if n == name]
        # Every pass counts up to all the rows, out of the total known for
        # a DataFrame from the start and for a LazyFrame after the first pass.
        assert counts[-1]["records"] == len(texts)
        assert [c["records"] for c in counts] == sorted(c["records"] for c in counts)
        if name != "sketch" or not lazy:
            assert all(c["records_total"] == len(texts) for c in counts)


def test_dedup_without_progress_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    thresher.dedup(pl.DataFrame({"text": _paragraphs(200)}))
    thresher.ingest([])
    assert capsys.readouterr().err == ""


def test_rows_are_drawn_with_a_percentage_and_time_left() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=False)
    reporter = TerminalProgress(console=console)
    rows = RowProgress(reporter, total=40_000)
    with rows.stage("verify", "dedup: verify") as stage:
        stage.advance(10_000)
        assert stage._phase is not None
        detail = reporter._detail(stage._phase)
    reporter.close()
    assert detail.startswith("10.0k/40.0k rows 25%")
    assert "ETA" in detail


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_ingest_progress_moves_inside_a_parquet_or_arrow_file(
    tmp_path: Path, recorder: _Recorder, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(Reporter, "interval", 0.002)
    rng = random.Random(5)
    words = [f"word{i}" for i in range(20_000)]
    texts = [" ".join(rng.choice(words) for _ in range(150)) for _ in range(60_000)]
    frame = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    path = tmp_path / f"big.{kind}"
    if kind == "parquet":
        frame.write_parquet(path, row_group_size=2_000, compression="uncompressed")
    else:
        frame.write_ipc(path, compression="uncompressed", record_batch_size=2_000)
    plain = thresher.ingest(path)
    shown = thresher.ingest(path, progress=True)
    assert shown.records.equals(plain.records)
    assert plain.records.height == len(texts)
    total = path.stat().st_size
    read = [c["bytes_read"] for _, c in recorder.events if "bytes_read" in c]
    assert read[-1] == total
    assert any(0 < b < total for b in read), "the bar never moved inside the file"
