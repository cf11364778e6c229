"""Atomic file writes for the ``thresher`` command.

Every file is written under a temporary name in the directory it belongs to
and renamed over its final name only once complete, so a reader (or a rerun
after a crash, even SIGKILL) sees either nothing or the whole file, never half
of one. Tables larger than memory (``kept.parquet``, ``scan --out``) are
streamed into their temporary name by :class:`thresher._core.ParquetSink`
in bounded memory (Polars' streaming sink held most of the table).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import polars as pl

from thresher.errors import ThresherError

__all__ = [
    "IpcCodec",
    "OutputError",
    "atomic",
    "publish",
    "remove_stale_temporaries",
    "remove_temporaries",
    "temporary_name",
    "write_ipc",
    "write_json",
    "write_parquet",
    "write_text",
]

#: Prefix of every temporary name, followed by the writer's pid and the final
#: name. Leftovers of a killed run are removed on start, and only names of
#: this form (or :data:`LEGACY_TEMP_PREFIX`'s): never a user's ``.tmp-*``.
TEMP_PREFIX = ".tmp-thresher-"
#: The prefix thresher 0.1 used (``.tmp-PID-NAME``), still recognised as ours.
LEGACY_TEMP_PREFIX = ".tmp-"
#: Rows per Parquet row group. Polars' writers buffer a whole row group, so this
#: bounds their memory (the default, 512**2 rows, is 340 MB of 1.3 KB texts).
ROW_GROUP_ROWS = 16_384


class OutputError(ThresherError):
    """An output path cannot be created or written (a usage error, exit code 2)."""

    @classmethod
    def wrap(cls, flag: str, path: Path, exc: OSError) -> OutputError:
        """The error for ``exc``, raised while preparing output ``path``."""
        return cls(f"{flag} {path}: cannot write there ({exc.strerror or exc})")


def temporary_name(path: Path) -> Path:
    """A name beside ``path`` for writing it before the rename (unique to this process)."""
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")


@contextlib.contextmanager
def atomic(path: Path, *, fsync: bool) -> Iterator[Path]:
    """Yield a temporary name beside ``path`` to write; rename it onto
    ``path`` when the block ends without an exception, else remove it."""
    tmp = temporary_name(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_parquet(
    frame: pl.DataFrame,
    path: Path,
    *,
    fsync: bool = False,
    compression: Literal["zstd", "lz4"] = "zstd",
) -> None:
    """Write ``frame`` to ``path`` atomically (temporary name, then rename),
    zstd-compressed unless told otherwise."""
    with atomic(path, fsync=fsync) as tmp:
        frame.write_parquet(tmp, compression=compression, row_group_size=ROW_GROUP_ROWS)


def write_checkpoint(frame: pl.DataFrame, path: Path) -> None:
    """:func:`write_parquet` with lz4, for the work directory's large
    checkpoints (sketch chunks, edges, results), read back only by thresher:
    their band keys and row numbers hardly compress, and zstd cost a
    quarter of a second per 800,000 records."""
    write_parquet(frame, path, compression="lz4")


#: The codecs of Arrow IPC files.
IpcCodec = Literal["uncompressed", "lz4", "zstd"]


def write_ipc(frame: pl.DataFrame, path: Path, *, compression: IpcCodec) -> None:
    """Write ``frame`` to ``path`` as an Arrow IPC file compressed with
    ``compression`` (``"lz4"``, ``"zstd"`` or ``"uncompressed"``), atomically."""
    with atomic(path, fsync=False) as tmp:
        frame.write_ipc(tmp, compression=compression)


def write_text(text: str, path: Path, *, fsync: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic(path, fsync=fsync) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(obj: Any, path: Path, *, fsync: bool = False) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", path, fsync=fsync)


def _temporary_of(name: str) -> tuple[int, str] | None:
    """``(pid, final name)`` if ``name`` is one :func:`temporary_name` makes
    (or thresher 0.1 made), else ``None``."""
    for prefix in (TEMP_PREFIX, LEGACY_TEMP_PREFIX):
        if name.startswith(prefix):
            pid, sep, rest = name[len(prefix) :].partition("-")
            if pid.isdigit() and sep and rest:
                return int(pid), rest
    return None


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()


def remove_temporaries(directory: Path) -> None:
    """Remove the temporary files a killed run left in ``directory`` (not
    recursive). Only for directories thresher owns (the work directory)."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        if _temporary_of(entry.name) is not None:
            _remove(entry)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of ``path`` that a process no longer running left
    behind, e.g. after a SIGKILL: exactly the names :func:`temporary_name`
    gives ``path`` and its part folder ``path.parts``. Those of live processes
    are left alone, and so is every other file beside ``path`` (a user's
    ``.tmp-notes.txt`` too)."""
    if not path.parent.is_dir():
        return
    ours = {path.name, path.name + ".parts"}
    for entry in path.parent.iterdir():
        found = _temporary_of(entry.name)
        if found is None or found[1] not in ours or _process_alive(found[0]):
            continue
        _remove(entry)


def publish(files: list[tuple[Path, Path]], last: tuple[Path, Path] | None = None) -> None:
    """Rename finished files onto their final names.

    ``last`` (the summary) is removed first and renamed last, so its presence
    says that every other file beside it belongs to the same run.
    """
    if last is not None:
        with contextlib.suppress(FileNotFoundError):
            last[1].unlink()
    for src, dst in files:
        if src.exists():
            # A directory (sharded output) replaces a file of an earlier
            # run, or a file a directory: os.replace does neither.
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            elif src.is_dir() and (dst.exists() or dst.is_symlink()):
                dst.unlink()
            os.replace(src, dst)
    if last is not None and last[0].exists():
        os.replace(last[0], last[1])
