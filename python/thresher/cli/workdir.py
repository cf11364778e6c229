"""The work directory of a ``thresher dedup`` run: what makes it resumable.

``DIR/.thresher-work/`` holds

* ``manifest.json``: the parameters that change the result, the thresher
  version, and the size, modification time and (up to 1 MiB) content hash
  of every file the scan reads, listed by the core's own walk with the
  run's symlink policy. A rerun whose manifest differs (other arguments, an
  input changed) starts over;
* ``sketch/``: one Parquet chunk of pass-1 sketches per scanned batch, and
  ``sketch/done.json`` once the scan has ended (with its counters);
* ``spool/``: the records of each scanned batch, every column, as an
  Arrow IPC file (compressed, see :data:`SPOOL_COMPRESSION`): what passes 2
  to 4 read instead of the inputs, so the inputs are parsed once. About the
  size of the text compressed (a third to a half of it on prose); removed
  once pass 4 has written the outputs. Batches are first held in memory,
  as long as they fit the run's budget (``--memory``, see
  :func:`default_spool_memory`), and only the ones beyond it are written
  here: a held batch costs neither a codec nor a disk write, but it is lost
  with the process, so a resumed run reads the inputs again for it;
* ``errors.parquet``: the scan's error rows, with ``sketch/done.json``;
* ``edges.parquet``: the verified pairs, after pass 2;
* ``result.parquet``: the cluster fields of every row, after clustering;
* ``write/``: ``samples.parquet`` (the records the report shows) and
  ``done.json``, once pass 4 has written ``kept.parquet`` and
  ``duplicates.parquet`` into ``final/``;
* ``final/``: the finished outputs before they are renamed into ``DIR``;
* ``lock``: held (``fcntl.flock``) by the run using the directory, with its
  process id and host for the message a second run gives. The OS releases it
  when the process ends, however it ends, so the lock of a killed run is
  taken over by the next.

Every file in it is written atomically, so what a killed run leaves is
either whole or absent. The scan is deterministic (same inputs and batch
size, same batches), so chunk ``i`` of a rerun is chunk ``i`` of the run
that was killed. The directory is removed after a successful run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from thresher import _core
from thresher.cli.outputs import IpcCodec, remove_temporaries, write_ipc, write_json
from thresher.errors import ThresherError

__all__ = [
    "LOCK_NAME",
    "SPOOL_CODECS",
    "SPOOL_COMPRESSION",
    "SPOOL_MEMORY_CAP",
    "WORK_DIR_NAME",
    "OutputInUse",
    "WorkDir",
    "WorkLock",
    "cgroup_memory_limits",
    "default_spool_memory",
    "input_fingerprint",
    "memory_limit",
    "parse_size",
    "walked_into",
]

WORK_DIR_NAME = ".thresher-work"
#: The lock file in the work directory.
LOCK_NAME = "lock"
#: Default codec of the spool's Arrow IPC chunks (``--spool-compression``): on
#: the 800,000-record bench corpus (2 threads, a quiet machine) a run with lz4
#: took 12.5 s and wrote a spool of about 0.3 times the text, one without a
#: codec 11.1 s and 1.0 times; zstd is smaller and slower still.
SPOOL_COMPRESSION: IpcCodec = "lz4"
#: The codecs ``--spool-compression`` accepts.
SPOOL_CODECS: tuple[IpcCodec, ...] = ("lz4", "zstd", "uncompressed")
#: The most ``--memory`` is by default: 2 GiB holds the records of about 1.5
#: million paper-listing records of 1.3 KB (Polars' estimate of the frames).
SPOOL_MEMORY_CAP = 2 << 30
#: Files up to this size are also fingerprinted by a hash of their content,
#: which catches a change that keeps the size and the modification time.
HASHED_FILE_BYTES = 1 << 20


def _content_hash(path: Path) -> str | None:
    """sha256 of a regular file's bytes; ``None`` if it cannot be read or is
    no longer a regular file (opened without waiting, as the core does)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 16):
            digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)


def input_fingerprint(
    inputs: list[str], follow_symlinks: bool = False, threads: int | None = None
) -> list[list[Any]]:
    """``[source, size, mtime_ns, sha256]`` of every file the scan of
    ``inputs`` reads, in its order: the list comes from the core's own walk
    with the same symlink policy, so it cannot differ from what is read.
    ``sha256`` is ``None`` for files over :data:`HASHED_FILE_BYTES`; size and
    time are ``-1`` for a file that vanished since the walk. Files are
    hashed by ``threads`` threads (default: one per CPU, at most
    :data:`MAX_HASH_THREADS`); hashlib lets go of the GIL while it hashes."""
    files, _ = _core.walk(list(inputs), follow_symlinks)
    if threads is None:
        threads = min(MAX_HASH_THREADS, os.cpu_count() or 1)
    if threads <= 1 or len(files) <= 1:
        return [_file_fingerprint(path, source) for path, source in files]
    with ThreadPoolExecutor(threads, thread_name_prefix="thresher-hash") as pool:
        return list(pool.map(_file_fingerprint, *zip(*files, strict=True)))


#: Threads that hash the inputs at most, by default: beyond a few, a disk
#: (rather than the page cache) is the bound.
MAX_HASH_THREADS = 8


def _file_fingerprint(path: Path, source: str) -> list[Any]:
    """``[source, size, mtime_ns, sha256]`` of one walked file."""
    try:
        st = os.stat(path)
    except OSError:
        return [source, -1, -1, None]
    digest = _content_hash(path) if st.st_size <= HASHED_FILE_BYTES else None
    return [source, st.st_size, st.st_mtime_ns, digest]


class OutputInUse(ThresherError):
    """Another running process holds the work directory's lock (exit code 2)."""


class WorkLock:
    """An exclusive lock on a work directory, held by one run at a time.

    ``fcntl.flock`` on ``root/lock``: the OS drops it when the process ends
    (even by SIGKILL), so a lock file a dead process left is simply taken
    over. The holder writes its pid and host into the file, for the message
    of a run that finds the lock held. The lock file may be deleted with the
    work directory while held; :meth:`acquire` then checks that the file it
    locked is still the one at ``root/lock``, so two runs never hold two
    different files.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`OutputInUse` naming its holder."""
        while True:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputInUse(
                    f"{self.root.parent} is in use by another thresher run ({holder}); "
                    "wait for it to end or choose another --out"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            try:
                here = os.stat(self.path)
            except FileNotFoundError:
                here = None
            mine = os.fstat(fd)
            if here is not None and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                break
            # The file was removed (a run ended) between our open and flock.
            os.close(fd)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        """Let the lock go (the file stays, unless the directory was removed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WorkLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    """``pid N on host H`` from a held lock file (its holder may still be writing it)."""
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError, TypeError):
            holder = json.loads(os.pread(fd, 4096, 0))
            return f"pid {int(holder['pid'])} on host {holder['host']}"
        time.sleep(0.01)
    return "pid unknown"


def walked_into(inputs: list[str], directory: Path, follow_symlinks: bool = False) -> str | None:
    """The ``source`` of the first file the scan of ``inputs`` would read from
    inside ``directory`` (whatever links lead there), or ``None``."""
    if not directory.is_dir():
        return None
    inside = os.path.realpath(directory)
    files, _ = _core.walk(list(inputs), follow_symlinks)
    for path, source in files:
        if Path(os.path.realpath(path)).is_relative_to(inside):
            return source
    return None


def default_spool_memory() -> int:
    """The default of ``--memory``: a quarter of the memory this process may
    use (:func:`memory_limit`), at most :data:`SPOOL_MEMORY_CAP` (0 where
    that is unknown)."""
    limit = memory_limit()
    if limit is None:
        return 0
    return max(0, min(SPOOL_MEMORY_CAP, limit // 4))


def memory_limit() -> int | None:
    """Bytes of memory this process may use: the machine's physical memory,
    or less where a cgroup's memory limit (a container's, a job's) is lower;
    ``None`` where neither can be read."""
    limits = cgroup_memory_limits()
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    return min(limits) if limits else None


#: A cgroup v1 limit at or above this is "no limit" (the kernel writes the
#: largest page-aligned ``i64``).
_NO_CGROUP_LIMIT = 1 << 60


def cgroup_memory_limits(
    proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> list[int]:
    """The memory limits of this process's cgroup and of the cgroups above
    it, cgroup v2 (``memory.max``) and v1 (``memory.limit_in_bytes``), as
    far as they are mounted under ``root``. Inside a container the mount
    usually starts at the container's own cgroup, so the file at the mount's
    root is read too. Unlimited and unreadable ones are left out."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return []
    limits: list[int] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            places, name = [root, root / "unified"], "memory.max"
        elif "memory" in controllers.split(","):
            places, name = [root / "memory"], "memory.limit_in_bytes"
        else:
            continue
        parts = [part for part in path.split("/") if part and part not in (".", "..")]
        for place in places:
            for depth in range(len(parts), -1, -1):
                limit = _read_memory_limit(place.joinpath(*parts[:depth], name))
                if limit is not None:
                    limits.append(limit)
    return limits


def _read_memory_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # "max": no limit
    limit = int(text)
    return limit if limit < _NO_CGROUP_LIMIT else None


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes in ``text``: a whole number with an optional binary unit
    (``K``, ``M``, ``G`` or ``T``, optionally followed by ``iB`` or ``B``),
    such as ``0``, ``512M`` or ``2GiB``. Raises :class:`ValueError`."""
    value = text.strip().upper()
    for suffix in ("IB", "B"):
        if value.endswith(suffix) and value[: -len(suffix)][-1:] in "KMGT":
            value = value[: -len(suffix)]
            break
    unit = value[-1:] if value[-1:] in "KMGT" else ""
    number = value[: len(value) - len(unit)].strip()
    if not number.isdigit():
        raise ValueError(f"not a size: {text!r} (use a whole number, e.g. 0, 512M or 2G)")
    return int(number) * _SIZE_UNITS[unit]


class WorkDir:
    """The resumable state of one run in ``out/.thresher-work``, and the
    spool's batches held in memory (up to ``spool_memory`` bytes)."""

    def __init__(
        self,
        out: Path,
        spool_compression: IpcCodec = SPOOL_COMPRESSION,
        spool_memory: int = 0,
    ) -> None:
        self.root = out / WORK_DIR_NAME
        #: Codec of the spool chunks written (any codec is read).
        self.spool_compression = spool_compression
        #: Bytes of spooled batches held in memory at most (Polars' estimate).
        self.spool_memory = spool_memory
        #: The batches held in memory instead of written, by index, each
        #: with the bytes it takes; and their sum.
        self._held: dict[int, tuple[pl.DataFrame, int]] = {}
        self._held_bytes = 0
        self.sketch = self.root / "sketch"
        self.spool = self.root / "spool"
        self.write = self.root / "write"
        self.final = self.root / "final"
        self.manifest_path = self.root / "manifest.json"
        self.errors = self.root / "errors.parquet"
        self.edges = self.root / "edges.parquet"
        self.result = self.root / "result.parquet"
        self.sketch_done = self.sketch / "done.json"
        self.write_done = self.write / "done.json"
        self.samples = self.write / "samples.parquet"
        self.final_done = self.final / "done.json"

    @staticmethod
    def digest(manifest: dict[str, Any]) -> str:
        """A short hash of a manifest, for messages."""
        text = json.dumps(manifest, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def open(self, manifest: dict[str, Any]) -> str:
        """Prepare the directory for a run with ``manifest``.

        Returns ``"new"`` (no earlier work), ``"resumed"`` (earlier work of the
        same run is kept) or ``"restarted"`` (earlier work of another run, or
        of changed inputs, was discarded).
        """
        state = "new"
        # The lock file (held by this run) is no earlier work and stays.
        earlier = (
            [e for e in self.root.iterdir() if e.name != LOCK_NAME] if self.root.is_dir() else []
        )
        if earlier:
            try:
                old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old == manifest:
                state = "resumed"
            else:
                for entry in earlier:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                state = "restarted"
        for directory in (self.root, self.sketch, self.spool, self.write, self.final):
            directory.mkdir(parents=True, exist_ok=True)
            remove_temporaries(directory)
        if state != "resumed":
            write_json(manifest, self.manifest_path)
        return state

    def chunk(self, index: int) -> Path:
        """Path of the pass-1 sketch chunk of batch ``index``."""
        return self.sketch / f"chunk-{index:06d}.parquet"

    def spool_chunk(self, index: int) -> Path:
        """Path of the spooled records of batch ``index`` (Arrow IPC)."""
        return self.spool / f"records-{index:06d}.arrow"

    def spooled_rows(self, index: int) -> int | None:
        """Rows in spooled batch ``index``, or ``None`` when it is neither
        held nor on disk (or its chunk is unreadable)."""
        held = self._held.get(index)
        if held is not None:
            return held[0].height
        path = self.spool_chunk(index)
        if not path.exists():
            return None
        try:
            return int(pl.scan_ipc(path).select(pl.len()).collect().item())
        except (OSError, pl.exceptions.PolarsError):
            return None

    def read_spool(self, index: int, columns: list[str] | None = None) -> pl.DataFrame:
        """The spooled records of batch ``index`` (only ``columns``, if given)."""
        held = self._held.get(index)
        if held is not None:
            frame = held[0]
            return frame if columns is None else frame.select(columns)
        return pl.read_ipc(
            self.spool_chunk(index),
            columns=columns,
        )

    def write_spool(self, index: int, frame: pl.DataFrame) -> None:
        """Spool the records of batch ``index``: held in memory while the
        held batches fit ``spool_memory``, else written atomically."""
        size = int(frame.estimated_size())
        if self._held_bytes + size <= self.spool_memory:
            self._held[index] = (frame, size)
            self._held_bytes += size
            return
        write_ipc(frame, self.spool_chunk(index), compression=self.spool_compression)

    def release_spool(self, index: int) -> None:
        """Let go of batch ``index`` if it is held in memory (pass 4, once it
        is written to the outputs); a chunk on disk stays until
        :meth:`drop_spool`."""
        held = self._held.pop(index, None)
        if held is not None:
            self._held_bytes -= held[1]

    def drop_spool(self) -> None:
        """Delete the spool (its records are in the outputs once pass 4 is done)."""
        self._held.clear()
        self._held_bytes = 0
        shutil.rmtree(self.spool, ignore_errors=True)

    def read_json(self, path: Path) -> Any:
        """The JSON in ``path``, or ``None`` when it is not there."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def remove(self) -> None:
        """Delete the work directory (after a successful run)."""
        shutil.rmtree(self.root, ignore_errors=True)
