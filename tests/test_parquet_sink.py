"""``_core.ParquetSink``, which encodes row groups on a thread pool of its
own: a child made by ``fork`` after its parent wrote with one (and so
started the pool) gets a pool of its own instead of one whose threads
stayed in the parent, and writes the same bytes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import polars as pl

from thresher import _core

ROWS = 5000


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"id": list(range(ROWS)), "text": [f"text {i} " + "w" * (i % 300) for i in range(ROWS)]}
    )


def _write(path: Path, schema: object, rows: object) -> int:
    sink = _core.ParquetSink(path, schema, 1000)
    sink.write(rows)
    return int(sink.finish())


def test_a_forked_child_writes_with_encoders_of_its_own(tmp_path: Path) -> None:
    frame = _frame()
    assert (
        _write(tmp_path / "parent.parquet", frame.__arrow_c_stream__(), frame.__arrow_c_stream__())
        == ROWS
    )
    # Exported before the fork, so that the child runs no Polars code.
    schema, rows = frame.__arrow_c_stream__(), frame.__arrow_c_stream__()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            code = 0 if _write(tmp_path / "child.parquet", schema, rows) == ROWS else 1
        except BaseException:
            code = 2
        os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung writing Parquet")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    child = (tmp_path / "child.parquet").read_bytes()
    assert child == (tmp_path / "parent.parquet").read_bytes()
    assert pl.read_parquet(tmp_path / "child.parquet").equals(frame.cast({"text": pl.String}))
