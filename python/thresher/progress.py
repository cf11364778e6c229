"""What thresher tells a person or a pipeline while it runs: the ``thresher``
command, and the library's long calls with ``progress=True``.

Three reporters with one interface: :class:`TerminalProgress` draws a ``rich``
progress bar per phase on a terminal (files, bytes, records, rate),
:class:`JsonLog` writes one JSON object per line to stdout for pipelines, and
:class:`Reporter` itself says nothing (``--quiet``, or stderr not a terminal).
The counters come from :attr:`thresher.Scan.progress`, polled from a thread
(the scan takes its lock with the GIL released, so polling never blocks it).
A phase that reads the inputs shows the bytes read of them (compressed bytes,
as stored) out of their total size, which advances inside one big file, with
a percentage and an estimate of the time left; a phase that goes over rows
already read (the command's later passes, the passes of
:func:`thresher.dedup`) shows rows done out of the known total, with the
same percentage and estimate.

The library draws with the same :class:`TerminalProgress`:
:func:`thresher.ingest` watches its scan like the command's first pass, and
:func:`thresher.dedup` reports its passes through :class:`RowProgress`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any, Protocol

__all__ = [
    "JsonLog",
    "Phase",
    "Reporter",
    "RowProgress",
    "TerminalProgress",
    "duration",
    "eta",
    "library_reporter",
    "make_reporter",
]

#: Seconds between ``progress`` events of ``--json``, if set (default 1).
INTERVAL_ENV = "THRESHER_PROGRESS_INTERVAL"


class _Progressing(Protocol):
    @property
    def progress(self) -> dict[str, int]: ...


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _count(n: int) -> str:
    """``1,234``, ``12.3k``, ``4.6M``: a count in at most six characters."""
    if n < 10_000:
        return f"{n:,}"
    for unit, size in (("k", 1e3), ("M", 1e6), ("G", 1e9)):
        if n / size < 999.95 or unit == "G":
            return f"{n / size:.1f}{unit}"
    return str(n)


def _fit(detail: str, width: int) -> str:
    """``detail`` cut to ``width`` visible characters (markup kept whole)."""
    from rich.text import Text

    text = Text.from_markup(detail)
    if len(text) <= max(width, 1):
        return detail
    text.truncate(max(width, 1), overflow="ellipsis")
    return text.markup


def duration(seconds: float) -> str:
    """A time span for a person: ``4.2 s`` under a minute, else ``1:02:03``
    (hours, minutes, seconds)."""
    if seconds < 60:
        return f"{max(seconds, 0.0):.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def eta(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the rate so far to go from ``done`` to ``total``, or
    ``None`` before there is a rate."""
    if done <= 0 or elapsed <= 0 or total <= 0:
        return None
    return max(total - done, 0) * elapsed / done


def _read_part(c: dict[str, int], elapsed: float) -> str | None:
    """``12.3 MB/45.6 MB 27% ETA 0:01:02``: the bytes of the inputs read, if known."""
    total = c.get("bytes_total")
    if not total or "bytes_read" not in c:
        return None
    done = min(c["bytes_read"], total)
    done_text, total_text = _bytes(done), _bytes(total)
    if done_text.split()[-1] == total_text.split()[-1]:
        done_text = done_text.split()[0]  # 12.3/45.6 GB
    text = f"{done_text}/{total_text} {100 * done // total}%"
    left = eta(done, total, elapsed)
    if left is not None and done < total:
        text += f" ETA {duration(left)}"
    return text


def _rows_part(c: dict[str, int], elapsed: float) -> str | None:
    """``12.3k/45.6k rows 27% ETA 0:01:02``: rows done out of a known total."""
    total = c.get("records_total")
    if not total or "records" not in c:
        return None
    done = min(c["records"], total)
    text = f"{_count(done)}/{_count(total)} rows {100 * done // total}%"
    left = eta(done, total, elapsed)
    if left is not None and done < total:
        text += f" ETA {duration(left)}"
    return text


class Phase:
    """One phase of a run, as handed out by :meth:`Reporter.phase`."""

    def __init__(self, reporter: Reporter, name: str, label: str, interval: float) -> None:
        self.reporter = reporter
        self.name = name
        self.label = label
        self.started = time.perf_counter()
        self.counters: dict[str, int] = {}
        #: Set to ``True`` when the phase's work was reused from the work directory.
        self.skipped = False
        self._interval = interval
        self._source: _Progressing | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the phase started."""
        return time.perf_counter() - self.started

    def watch(self, source: _Progressing) -> None:
        """Poll ``source.progress`` (a :class:`thresher.Scan`) until the phase ends."""
        self._source = source
        self._thread = threading.Thread(target=self._poll, name="thresher-progress", daemon=True)
        self._thread.start()

    def note(self, **counters: int) -> None:
        """Set counters by hand (phases that do not scan)."""
        self.counters.update(counters)
        self.reporter.update(self)

    def _poll(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        if self._source is not None:
            with contextlib.suppress(Exception):
                self.counters.update(self._source.progress)
        self.reporter.update(self)

    def stop(self) -> None:
        """End polling and take the last counters."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._sample()


class Reporter:
    """Reports nothing; the base of the others."""

    interval = 1.0

    def message(self, text: str, **fields: Any) -> None:
        """A line for a person (``text``) or a log event (``fields``)."""

    def update(self, phase: Phase) -> None:
        """New counters for ``phase``."""

    def start(self, phase: Phase) -> None:
        """``phase`` begins."""

    def end(self, phase: Phase, skipped: bool) -> None:
        """``phase`` has ended (``skipped``: its result came from the work directory)."""

    def close(self) -> None:
        """The run is over."""

    @contextlib.contextmanager
    def phase(self, name: str, label: str) -> Iterator[Phase]:
        """Run a phase: ``with reporter.phase("sketch", "pass 1: sketch") as p: ...``.

        Set ``p.skipped = True`` inside when the phase's work was reused.
        """
        handle = Phase(self, name, label, self.interval)
        self.start(handle)
        try:
            yield handle
        finally:
            handle.stop()
        self.end(handle, handle.skipped)


class JsonLog(Reporter):
    """One JSON object per line: ``{"time", "event", ...}`` with events ``message``,
    ``phase_start``, ``progress`` (about once a second, or every
    ``THRESHER_PROGRESS_INTERVAL`` seconds), ``phase_end`` and the final
    ``summary``. A phase that reads the inputs carries the scan's counters,
    among them ``bytes_read`` out of ``bytes_total``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        with contextlib.suppress(ValueError):
            wanted = float(os.environ.get(INTERVAL_ENV, ""))
            if wanted > 0:
                self.interval = wanted
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line."""
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        line = json.dumps({"time": now, "event": event, **fields}, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def message(self, text: str, **fields: Any) -> None:
        self.emit("message", message=text, **fields)

    def start(self, phase: Phase) -> None:
        self.emit("phase_start", phase=phase.name, label=phase.label)

    def update(self, phase: Phase) -> None:
        self.emit("progress", phase=phase.name, seconds=round(phase.elapsed, 3), **phase.counters)

    def end(self, phase: Phase, skipped: bool) -> None:
        self.emit(
            "phase_end",
            phase=phase.name,
            seconds=round(phase.elapsed, 3),
            reused=skipped,
            **phase.counters,
        )


class TerminalProgress(Reporter):
    """A ``rich`` progress bar per phase on stderr: files, bytes, records, rate."""

    interval = 0.1

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console if console is not None else Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<14}"),
            BarColumn(bar_width=14),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._progress.start()

    #: Columns taken by the spinner, label, bar and elapsed time, with the
    #: spaces between them; the detail gets the rest of the line.
    FIXED_COLUMNS = 41

    def _detail(self, phase: Phase, done: bool = False) -> str:
        """The counters after the bar, cut to fit the line: while a phase
        runs, the bytes read with the time left, then files (when more than
        one) and records; once it is done, files, bytes, records and rate."""
        c = phase.counters
        if not c:
            return ""
        parts = []
        read = None if done else _read_part(c, phase.elapsed)
        rows = None if done or read is not None else _rows_part(c, phase.elapsed)
        if rows is not None:
            parts.append(rows)
        elif read is not None:
            parts.append(read)
            if c.get("files_total", 0) > 1:
                parts.append(f"{c.get('files_done', 0)}/{c['files_total']} files")
            if "records" in c and c.get("records_total"):
                parts.append(f"{_count(c['records'])}/{_count(c['records_total'])} rec")
            elif "records" in c:
                parts.append(f"{_count(c['records'])} rec")
        else:
            if "files_total" in c:
                parts.append(f"{c.get('files_done', 0)}/{c['files_total']} files")
            if "bytes_total" in c or "bytes_done" in c:
                parts.append(_bytes(c.get("bytes_total") or c.get("bytes_done", 0)))
            if "records" in c:
                rate = c["records"] / phase.elapsed if phase.elapsed > 0 else 0.0
                parts.append(f"{c['records']:,} records {_count(int(rate))}/s")
        if c.get("errors"):
            parts.append(f"[yellow]{c['errors']} errors[/]")
        return _fit(" ".join(parts), self.console.width - self.FIXED_COLUMNS)

    def message(self, text: str, **fields: Any) -> None:
        self.console.print(text, highlight=False)

    def start(self, phase: Phase) -> None:
        self._tasks[phase.name] = self._progress.add_task(phase.label, total=None, detail="")

    def update(self, phase: Phase) -> None:
        task = self._tasks.get(phase.name)
        if task is None:
            return
        c = phase.counters
        # The bar follows the bytes read when they are known, so that it
        # moves inside one big file; else the records of a later pass, or
        # the files done.
        total: int | None
        if c.get("bytes_total") and "bytes_read" in c:
            total, completed = c["bytes_total"], c["bytes_read"]
        elif c.get("records_total") and "records" in c:
            total, completed = c["records_total"], c["records"]
        else:
            total, completed = c.get("files_total") or None, c.get("files_done", 0)
        self._progress.update(task, total=total, completed=completed, detail=self._detail(phase))

    def end(self, phase: Phase, skipped: bool) -> None:
        task = self._tasks.get(phase.name)
        if task is None:
            return
        detail = "reused from the work directory" if skipped else self._detail(phase, done=True)
        self._progress.update(task, total=1, completed=1, detail=detail)
        self._progress.stop_task(task)

    def close(self) -> None:
        self._progress.stop()


def make_reporter(*, json_log: bool, quiet: bool) -> Reporter:
    """The reporter for these flags: JSON lines, a terminal bar, or nothing
    (``--quiet``, or stderr is not a terminal)."""
    if json_log:
        return JsonLog()
    if quiet or not sys.stderr.isatty():
        return Reporter()
    return TerminalProgress()


def library_reporter(enabled: bool) -> Reporter:
    """The reporter of a library call: the terminal bar on stderr (in a
    notebook, ``rich`` draws it in the cell's output) when ``progress=True``,
    else the silent base. Close it when the call ends."""
    return TerminalProgress() if enabled else Reporter()


class RowProgress:
    """The passes of a library call over rows, drawn by ``reporter``: each
    :meth:`stage` is a phase whose bar counts the rows handed to
    :meth:`advance` out of ``total`` (once known: the first stage's count when
    ``total`` is ``None``, as for a ``LazyFrame``)."""

    def __init__(self, reporter: Reporter, total: int | None = None) -> None:
        self.reporter = reporter
        self.total = total
        self._phase: Phase | None = None
        self._done = 0

    @contextlib.contextmanager
    def stage(self, name: str, label: str) -> Iterator[RowProgress]:
        """A pass: ``with rows.stage("sketch", "sketch"): ... rows.advance(n)``."""
        with self.reporter.phase(name, label) as phase:
            self._phase, self._done = phase, 0
            self._show()
            try:
                yield self
            finally:
                self._phase = None
        if self.total is None:
            self.total = self._done

    def advance(self, rows: int) -> None:
        """``rows`` more rows of the current stage are done."""
        self._done += rows
        self._show()

    def _show(self) -> None:
        if self._phase is None:
            return
        counters = {"records": self._done}
        if self.total is not None:
            counters["records_total"] = self.total
        self._phase.note(**counters)
