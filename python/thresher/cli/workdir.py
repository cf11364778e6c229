"""The work directory of a ``thresher dedup`` run: what makes it resumable.

``DIR/.thresher-work/`` holds

* ``manifest.json``: the parameters that change the result, the thresher
  version, and the size and modification time of every input file. A rerun
  whose manifest differs (other arguments, an input changed) starts over;
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
from pathlib import Path
from typing import Any

from thresher.cli.outputs import remove_temporaries, write_json

__all__ = ["WORK_DIR_NAME", "WorkDir", "input_fingerprint"]

WORK_DIR_NAME = ".thresher-work"


def input_fingerprint(inputs: list[str]) -> list[list[Any]]:
    """``[path, size, mtime_ns]`` of every file under ``inputs``, in sorted order."""
    found: list[list[Any]] = []
    for top in inputs:
        if os.path.isdir(top):
            for root, dirs, files in os.walk(top, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(root, name)
                    try:
                        st = os.stat(path)
                    except OSError:
                        continue
                    found.append([path, st.st_size, st.st_mtime_ns])
        else:
            try:
                st = os.stat(top)
                found.append([top, st.st_size, st.st_mtime_ns])
            except OSError:
                found.append([top, -1, -1])
    return found


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
