"""``thresher dedup`` parses its inputs once: pass 1 spools the records (held
in memory up to ``--memory``, the rest in the work directory) and the later
passes read the spool. A run killed after pass 1 finishes from the spool on
disk even when the inputs can no longer be read, with the outputs of an
uninterrupted run; a spool that is missing a chunk, or batches that the
killed run held in memory, are read again from the inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from archive_builders import tar_bytes, zip_bytes

from thresher.cli import workdir
from thresher.cli.workdir import HASHED_FILE_BYTES, cgroup_memory_limits, parse_size
from thresher.sample_dumps import generate_corpus

OUTPUT_BYTES = ["kept.parquet", "duplicates.parquet", "clusters.parquet", "errors.parquet"]
ARGS = ["--batch-size", "64", "--threads", "2"]


def _thresher() -> list[str]:
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def _dedup(inputs: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [*_thresher(), "dedup", str(inputs), "--out", str(out), *ARGS, *extra, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _killed_after_pass_1(inputs: Path, out: Path) -> None:
    """Run dedup and SIGKILL it as pass 2 starts, once pass 1 has checkpointed
    and spooled every batch to disk."""
    _killed_after_pass_1_with(inputs, out, "--memory", "0")


def _killed_after_pass_1_with(inputs: Path, out: Path, *extra: str) -> None:
    """:func:`_killed_after_pass_1` with ``extra`` arguments."""
    proc = subprocess.Popen(
        [*_thresher(), "dedup", str(inputs), "--out", str(out), *ARGS, *extra, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "phase_start" and event["phase"] == "verify":
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (out / ".thresher-work" / "sketch" / "done.json").exists()
    assert not (out / "summary.json").exists()


def _summary(out: Path) -> dict[str, Any]:
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("timings")
    return summary


def _assert_same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUT_BYTES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _summary(a) == _summary(b)


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """A plain tar holding a stored zip of dumps with planted duplicates,
    larger than :data:`HASHED_FILE_BYTES` (so that the run's fingerprint of
    it is its size and time), and one small dump beside it."""
    gen = tmp_path / "gen"
    generate_corpus(gen, n_files=6, papers_per_file=250, seed=5)
    data = [p.read_bytes() for p in sorted(gen.glob("*.txt"))]
    root = tmp_path / "inputs"
    root.mkdir()
    inner = zip_bytes({f"d/{i}.txt": d for i, d in enumerate(data[:5])}, zipfile.ZIP_STORED)
    (root / "archive.tar").write_bytes(tar_bytes({"inner.zip": inner}))
    (root / "small.txt").write_bytes(data[5])
    assert (root / "archive.tar").stat().st_size > HASHED_FILE_BYTES
    return root


def _spoil(path: Path) -> None:
    """Overwrite the middle of ``path`` with zeros, keeping its size and time."""
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(st.st_size // 4)
        fh.write(bytes(st.st_size // 2))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_resume_after_pass_1_reads_the_spool_not_the_inputs(inputs: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    events = _dedup(inputs, reference)
    ends = {e["phase"]: e for e in events if e["event"] == "phase_end"}
    assert ends["sketch"]["files_done"] == 2 and ends["sketch"]["bytes_done"] > 0
    assert _summary(reference)["records_in"] == 1500

    out = tmp_path / "resumed"
    _killed_after_pass_1(inputs, out)
    spool = sorted((out / ".thresher-work" / "spool").glob("records-*.arrow"))
    assert len(spool) == -(-1500 // 64)
    _spoil(inputs / "archive.tar")
    events = _dedup(inputs, out)
    assert any(e.get("state") == "resumed" for e in events)
    ends = {e["phase"]: e for e in events if e["event"] == "phase_end"}
    assert ends["sketch"]["reused"] and not ends["verify"]["reused"]
    _assert_same_outputs(reference, out)

    # The spoiled archive does read differently: the spool, not luck, gave
    # the same outputs.
    fresh = tmp_path / "fresh"
    _dedup(inputs, fresh)
    assert _summary(fresh) != _summary(reference)


def test_a_missing_spool_chunk_is_written_again(inputs: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    _dedup(inputs, reference)
    out = tmp_path / "o"
    _killed_after_pass_1(inputs, out)
    work = out / ".thresher-work"
    (work / "spool" / "records-000003.arrow").unlink()
    events = _dedup(inputs, out)
    assert any("spooled records are incomplete" in e.get("message", "") for e in events)
    reused = [e["reused"] for e in events if e["event"] == "message" and "reused" in e]
    assert reused == [-(-1500 // 64)]  # every sketch chunk reused, the spool rewritten
    _assert_same_outputs(reference, out)


@pytest.mark.parametrize("codec", ["uncompressed", "zstd"])
def test_the_spool_codec_changes_only_the_spool(inputs: Path, tmp_path: Path, codec: str) -> None:
    reference = tmp_path / "reference"
    _dedup(inputs, reference)
    out = tmp_path / "o"
    _killed_after_pass_1(inputs, out)  # spooled with the default codec, lz4
    lz4_bytes = sum(p.stat().st_size for p in (out / ".thresher-work" / "spool").iterdir())
    # A resumed run reads the lz4 spool whatever codec it is given.
    _dedup(inputs, out, "--spool-compression", codec)
    _assert_same_outputs(reference, out)
    # A fresh run with the other codec: same outputs, a spool of another size.
    other = tmp_path / "other"
    _killed_after_pass_1_with(inputs, other, "--spool-compression", codec, "--memory", "0")
    other_bytes = sum(p.stat().st_size for p in (other / ".thresher-work" / "spool").iterdir())
    if codec == "uncompressed":
        assert other_bytes > 2 * lz4_bytes
    else:
        assert other_bytes < lz4_bytes
    _dedup(inputs, other, "--spool-compression", codec)
    _assert_same_outputs(reference, other)


def _spooled(out: Path) -> int:
    return len(list((out / ".thresher-work" / "spool").glob("records-*.arrow")))


def test_batches_held_in_memory_are_read_again_after_a_kill(inputs: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    _dedup(inputs, reference, "--memory", "0")
    out = tmp_path / "o"
    _killed_after_pass_1_with(inputs, out, "--memory", "1G")
    assert _spooled(out) == 0  # every batch was held, none written
    events = _dedup(inputs, out, "--memory", "1G")
    assert any("spooled records are incomplete" in e.get("message", "") for e in events)
    reused = [e["reused"] for e in events if e["event"] == "message" and "reused" in e]
    assert reused == [-(-1500 // 64)]  # the sketches are reused, the records read again
    _assert_same_outputs(reference, out)


def test_a_budget_holds_the_first_batches_and_spools_the_rest(inputs: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    _dedup(inputs, reference, "--memory", "0")
    out = tmp_path / "o"
    # About 100 KB a batch of 64 records: a few are held, the rest written.
    _killed_after_pass_1_with(inputs, out, "--memory", "600K")
    batches = -(-1500 // 64)
    assert 0 < batches - _spooled(out) < batches // 2
    _dedup(inputs, out, "--memory", "600K")
    _assert_same_outputs(reference, out)
    held = tmp_path / "held"
    _dedup(inputs, held, "--memory", "1G")
    _assert_same_outputs(reference, held)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("123", 123),
        ("512K", 512 << 10),
        ("2g", 2 << 30),
        ("3MiB", 3 << 20),
        ("1TB", 1 << 40),
    ],
)
def test_memory_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1", "1.5G", "G", "2X"])
def test_a_memory_size_that_is_no_size_is_a_usage_error(text: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)
    proc = subprocess.run(
        [*_thresher(), "dedup", str(tmp_path), "--out", str(tmp_path / "o"), "--memory", text],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "--memory" in proc.stderr and "not a size" in proc.stderr


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_memory_limits_of_v2_and_v1_hierarchies(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    root = tmp_path / "fs"
    _write(proc, "4:memory:/job/task\n1:cpu:/job\n0::/pod/box\n")
    # v2: the process's cgroup has no limit, the one above it 3 GiB; the
    # mount's root (a container's own cgroup) 5 GiB.
    _write(root / "pod" / "box" / "memory.max", "max\n")
    _write(root / "pod" / "memory.max", f"{3 << 30}\n")
    _write(root / "memory.max", f"{5 << 30}\n")
    # v1: the task's limit, and the kernel's "unlimited" above it.
    _write(root / "memory" / "job" / "task" / "memory.limit_in_bytes", f"{1 << 30}\n")
    _write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")
    # A cpu limit is no memory limit.
    _write(root / "cpu" / "job" / "memory.limit_in_bytes", "1\n")
    assert sorted(cgroup_memory_limits(proc, root)) == [1 << 30, 3 << 30, 5 << 30]


def test_cgroup_memory_limits_without_cgroups(tmp_path: Path) -> None:
    assert cgroup_memory_limits(tmp_path / "missing", tmp_path) == []
    _write(tmp_path / "cgroup", "0::/\n")
    _write(tmp_path / "fs" / "memory.max", "junk\n")
    assert cgroup_memory_limits(tmp_path / "cgroup", tmp_path / "fs") == []


def test_the_default_memory_is_a_quarter_of_the_cgroup_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workdir, "cgroup_memory_limits", lambda: [1 << 30])
    assert workdir.memory_limit() == 1 << 30
    assert workdir.default_spool_memory() == 256 << 20
    monkeypatch.setattr(workdir, "cgroup_memory_limits", lambda: [1 << 50])
    assert workdir.default_spool_memory() == min(
        workdir.SPOOL_MEMORY_CAP, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    )


def test_input_fingerprint_is_the_same_with_any_hash_threads(tmp_path: Path) -> None:
    for i in range(9):
        (tmp_path / f"dump-{i}.txt").write_bytes(f"file {i} ".encode() * (i * 1000 + 1))
    (tmp_path / "big.txt").write_bytes(b"x" * (HASHED_FILE_BYTES + 1))
    one = workdir.input_fingerprint([str(tmp_path)], threads=1)
    assert [entry[0].rsplit("/", 1)[-1] for entry in one] == sorted(
        p.name for p in tmp_path.iterdir()
    )
    assert one[0][3] is None and all(entry[3] for entry in one[1:])  # big.txt is not hashed
    for threads in (None, 3, 16):
        assert workdir.input_fingerprint([str(tmp_path)], threads=threads) == one
