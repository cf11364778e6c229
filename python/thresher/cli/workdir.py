"""The work directory of a ``thresher dedup`` run: what makes it resumable.

``DIR/.thresher-work/`` holds

* ``manifest.json``: the parameters that change the result, the thresher
  version, and the size, modification time and (up to 1 MiB) content hash
  of every file the scan reads, listed by the core's own walk with the
  run's symlink policy. A rerun whose manifest differs (other arguments, an
  input changed) starts over;
* ``sketch/``: one Parquet chunk of pass-1 sketches per scanned batch, and
  ``sketch/done.json`` once the scan has ended (with its counters);
* ``errors.parquet``: the scan's error rows, with ``sketch/done.json``;
* ``edges.parquet``: the verified pairs, after pass 2;
* ``result.parquet``: the cluster fields of every row, after clustering;
* ``write/``: the kept, duplicate and sample parts of each batch (pass 4);
* ``final/``: the finished outputs before they are renamed into ``DIR``.

Every file in it is written atomically, so what a killed run leaves is
either whole or absent. The scan is deterministic (same inputs and batch
size, same batches), so chunk ``i`` of a rerun is chunk ``i`` of the run
that was killed. The directory is removed after a successful run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from thresher import _core
from thresher.cli.outputs import remove_temporaries, write_json

__all__ = ["WORK_DIR_NAME", "WorkDir", "input_fingerprint", "walked_into"]

WORK_DIR_NAME = ".thresher-work"
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


def input_fingerprint(inputs: list[str], follow_symlinks: bool = False) -> list[list[Any]]:
    """``[source, size, mtime_ns, sha256]`` of every file the scan of
    ``inputs`` reads, in its order: the list comes from the core's own walk
    with the same symlink policy, so it cannot differ from what is read.
    ``sha256`` is ``None`` for files over :data:`HASHED_FILE_BYTES`; size and
    time are ``-1`` for a file that vanished since the walk."""
    files, _ = _core.walk(list(inputs), follow_symlinks)
    found: list[list[Any]] = []
    for path, source in files:
        try:
            st = os.stat(path)
        except OSError:
            found.append([source, -1, -1, None])
            continue
        digest = _content_hash(path) if st.st_size <= HASHED_FILE_BYTES else None
        found.append([source, st.st_size, st.st_mtime_ns, digest])
    return found


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


class WorkDir:
    """The resumable state of one run in ``out/.thresher-work``."""

    def __init__(self, out: Path) -> None:
        self.root = out / WORK_DIR_NAME
        self.sketch = self.root / "sketch"
        self.write = self.root / "write"
        self.final = self.root / "final"
        self.manifest_path = self.root / "manifest.json"
        self.errors = self.root / "errors.parquet"
        self.edges = self.root / "edges.parquet"
        self.result = self.root / "result.parquet"
        self.sketch_done = self.sketch / "done.json"
        self.write_done = self.write / "done.json"
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
        if self.root.exists():
            try:
                old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old == manifest:
                state = "resumed"
            else:
                shutil.rmtree(self.root)
                state = "restarted"
        for directory in (self.root, self.sketch, self.write, self.final):
            directory.mkdir(parents=True, exist_ok=True)
            remove_temporaries(directory)
        if state != "resumed":
            write_json(manifest, self.manifest_path)
        return state

    def chunk(self, index: int) -> Path:
        """Path of the pass-1 sketch chunk of batch ``index``."""
        return self.sketch / f"chunk-{index:06d}.parquet"

    def read_json(self, path: Path) -> Any:
        """The JSON in ``path``, or ``None`` when it is not there."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def remove(self) -> None:
        """Delete the work directory (after a successful run)."""
        shutil.rmtree(self.root, ignore_errors=True)
