"""``thresher`` against hostile or careless use: two runs into one ``--out``,
outputs that would overwrite or read back the inputs, the user's own files in
``--out``, inputs that give only errors, and ``--out`` paths or options that
cannot work. Each must end with an exit code and one line, never a traceback,
a wrong result or a lost file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from thresher.cli import pipeline
from thresher.cli.workdir import LOCK_NAME, WORK_DIR_NAME
from thresher.progress import Reporter


def thresher_command() -> list[str]:
    """The installed ``thresher`` script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def run(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*thresher_command(), *args], capture_output=True, text=True, check=False, timeout=120
    )
    if rc is not None:
        assert proc.returncode == rc, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def dead_pid() -> int:
    """The id of a process that has ended (stands for one killed with SIGKILL)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def texts(tmp_path: Path) -> Path:
    """A directory of three JSONL documents, two of them near duplicates."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    base = "the quick brown fox jumps over the lazy dog near the quiet river bank today"
    docs = [base, base + " again", "something else entirely, with many words in it"]
    (inputs / "a.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    return inputs


# A thresher run in its own process that stops at the start of pass 1 (after
# it has taken the lock and opened the work directory) until `go` exists.
_HELD_RUN = """
import sys, time
from pathlib import Path
from thresher.cli import main, pipeline

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
real = pipeline.DedupRun.sketch

def held(self, engine):
    ready.touch()
    while not go.exists():
        time.sleep(0.02)
    return real(self, engine)

pipeline.DedupRun.sketch = held
sys.exit(main(sys.argv[3:]))
"""


def start_held(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    ready, go = tmp_path / "ready", tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HELD_RUN, str(ready), str(go), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the held run never reached pass 1"
        time.sleep(0.02)
    return proc, go


# -- 1: one run at a time per --out ------------------------------------------


def test_a_second_run_into_the_same_out_is_refused(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"
    first, go = start_held(tmp_path, "dedup", str(inputs), "--out", str(out), "-q")
    try:
        second = run("dedup", str(inputs), "--out", str(out), "--threshold", "0.9", "-q", rc=2)
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {first.pid}" in lines[0] and str(out) in lines[0], lines
        assert not (out / "summary.json").exists()
    finally:
        go.touch()
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["threshold"] == 0.8  # the first run's, whole
    assert not (out / WORK_DIR_NAME).exists()
    # Once the first run has ended, the same command runs.
    run("dedup", str(inputs), "--out", str(out), "--threshold", "0.9", "-q")
    assert json.loads((out / "summary.json").read_text())["parameters"]["threshold"] == 0.9


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"
    first, _ = start_held(tmp_path, "dedup", str(inputs), "--out", str(out), "-q")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    assert (out / WORK_DIR_NAME / LOCK_NAME).exists()  # left behind by SIGKILL
    run("dedup", str(inputs), "--out", str(out), "-q")
    assert sorted(p.name for p in out.iterdir()) == sorted(pipeline.OUTPUT_FILES)


def test_a_stale_lock_file_is_taken_over(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"
    (out / WORK_DIR_NAME).mkdir(parents=True)
    lock = out / WORK_DIR_NAME / LOCK_NAME
    lock.write_text(json.dumps({"pid": dead_pid(), "host": "elsewhere"}))
    run("dedup", str(inputs), "--out", str(out), "-q")
    assert (out / "summary.json").exists() and not lock.exists()
    # A lock file that says nothing readable is taken over as well.
    (out / WORK_DIR_NAME).mkdir()
    lock.write_bytes(b"\x00garbage")
    _, state = pipeline.run_dedup([str(inputs)], out, pipeline.DedupOptions(), Reporter())
    assert state == "new"  # the lock file alone is no earlier work


def test_the_lock_is_released_when_a_run_fails(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"

    class Boom(Exception):
        pass

    def fail(_: object, __: object) -> None:
        raise Boom

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.DedupRun, "sketch", fail)
        with pytest.raises(Boom):
            pipeline.run_dedup([str(inputs)], out, pipeline.DedupOptions(), Reporter())
    # The same process runs again: its own lock was released.
    pipeline.run_dedup([str(inputs)], out, pipeline.DedupOptions(), Reporter())
    assert (out / "summary.json").exists()
    assert pl.read_parquet(out / "kept.parquet").height >= 1
    assert os.listdir(out) and not (out / WORK_DIR_NAME).exists()


# -- 7: the user's own .tmp-* files are not ours to delete --------------------


def user_files(directory: Path) -> list[Path]:
    """Files and folders of the user's whose names look like temporaries."""
    made = [directory / ".tmp-notes.txt", directory / ".tmp-dir" / "keep.txt"]
    made.append(directory / f".tmp-{dead_pid()}-records.parquet.orig")
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's")
    return made


def test_dedup_leaves_the_users_tmp_files_in_out(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"
    out.mkdir()
    mine = user_files(out)
    run("dedup", str(inputs), "--out", str(out), "-q")
    assert all(p.read_text() == "the user's" for p in mine)
    assert (out / "summary.json").exists()


def test_scan_leaves_the_users_tmp_files_beside_its_output(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "o" / "records.parquet"
    out.parent.mkdir()
    mine = user_files(out.parent)
    # What a scan killed with SIGKILL left: removed.
    stale = out.parent / f".tmp-thresher-{dead_pid()}-records.parquet.parts"
    stale.mkdir()
    (stale / "records-000000.parquet").write_bytes(b"half written")
    run("scan", str(inputs), "--out", str(out), "-q")
    assert all(p.read_text() == "the user's" for p in mine)
    assert not stale.exists()
    assert pl.read_parquet(out).height == 3


# -- 8: scan's outputs never overwrite or read back its inputs ----------------


def usage_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with the usage and one error line naming ``words``."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    assert all(w in errors[0] for w in words), (words, errors)


def test_scan_refuses_outputs_that_hit_its_inputs(tmp_path: Path) -> None:
    inputs = texts(tmp_path)
    data = inputs / "a.jsonl"
    original = data.read_bytes()
    (tmp_path / "link.parquet").symlink_to(data)
    records, errs = str(tmp_path / "r.parquet"), str(tmp_path / "e.parquet")
    for args, words in (
        (["--out", str(data)], ["--out", "input"]),  # would overwrite the input
        (["--out", str(tmp_path / "link.parquet")], ["--out", "input"]),  # the same, resolved
        (["--out", records, "--errors", str(data)], ["--errors", "input"]),
        (["--out", records, "--errors", records], ["--errors", "--out"]),  # one file, two tables
        (["--out", str(inputs / "r.parquet")], ["--out", "inside"]),  # read back by the next run
        (["--out", records, "--errors", str(inputs / "sub" / "e.parquet")], ["--errors", "inside"]),
    ):
        usage_error(run("scan", str(inputs), *args, rc=None), *words)
        assert data.read_bytes() == original, args
        assert sorted(p.name for p in inputs.iterdir()) == ["a.jsonl"], args
        assert not Path(records).exists() and not Path(errs).exists(), args
    # Outputs apart from the inputs: fine.
    run("scan", str(data), "--out", records, "--errors", errs, "-q")
    assert pl.read_parquet(records).height == 3 and pl.read_parquet(errs).height == 0


# -- 15: inputs that give only errors ------------------------------------------


def only_errors(tmp_path: Path) -> Path:
    """An empty .gz, a binary file and a JSONL line without the text field."""
    inputs = tmp_path / "bad"
    inputs.mkdir()
    (inputs / "empty.gz").write_bytes(b"")
    (inputs / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (inputs / "notext.jsonl").write_text('{"body": "no text field here"}\n')
    return inputs


def test_dedup_of_inputs_that_give_only_errors(tmp_path: Path) -> None:
    good_out = tmp_path / "good"
    run("dedup", str(texts(tmp_path)), "--out", str(good_out), "-q")
    inputs, out = only_errors(tmp_path), tmp_path / "out"
    run("dedup", str(inputs), "--out", str(out), "-q")
    assert sorted(p.name for p in out.iterdir()) == sorted(pipeline.OUTPUT_FILES)
    for name in ("kept.parquet", "duplicates.parquet", "clusters.parquet", "errors.parquet"):
        assert pl.read_parquet_schema(out / name) == pl.read_parquet_schema(good_out / name), name
    for name in ("kept.parquet", "duplicates.parquet", "clusters.parquet"):
        assert pl.read_parquet(out / name).height == 0, name
    errors = pl.read_parquet(out / "errors.parquet")
    # Each file's row, and an `empty` row for those whose row is not one.
    names = [Path(s).name for s in errors["source"]]
    assert sorted(zip(names, errors["kind"], strict=True)) == [
        ("blob.bin", "binary"),
        ("blob.bin", "empty"),
        ("empty.gz", "empty"),
        ("notext.jsonl", "empty"),
        ("notext.jsonl", "missing_field"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["records_in"], summary["kept"], summary["duplicates"]) == (0, 0, 0)
    assert summary["errors"] == 5
    run("dedup", str(inputs), "--out", str(tmp_path / "strict"), "--strict", "-q", rc=1)
    assert (tmp_path / "strict" / "errors.parquet").exists()


def test_scan_of_inputs_that_give_only_errors(tmp_path: Path) -> None:
    inputs, out, errs = only_errors(tmp_path), tmp_path / "r.parquet", tmp_path / "e.parquet"
    run("scan", str(inputs), "--out", str(out), "--errors", str(errs), "--strict", "-q", rc=1)
    assert pl.read_parquet(out).height == 0 and pl.read_parquet(errs).height == 5


# -- 16: unusable --out paths and options are usage errors, checked first ------


def test_unusable_out_paths_are_usage_errors(tmp_path: Path) -> None:
    inputs = texts(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "at-all")
    before = sorted(p.name for p in tmp_path.iterdir())
    for args, words in (
        (["dedup", str(inputs), "--out", str(a_file / "out")], ["--out", "not a directory"]),
        (["dedup", str(inputs), "--out", str(tmp_path / "dangling")], ["--out", "symbolic link"]),
        (["dedup", str(inputs), "--out", str(tmp_path / "dangling" / "x")], ["symbolic link"]),
        (["scan", str(inputs), "--out", str(a_file / "r.parquet")], ["--out", "not a directory"]),
        (
            [
                "scan",
                str(inputs),
                "--out",
                str(tmp_path / "r.parquet"),
                "--errors",
                str(a_file / "e"),
            ],
            ["--errors", "not a directory"],
        ),
    ):
        usage_error(run(*args, rc=None), *words)
        assert sorted(p.name for p in tmp_path.iterdir()) == before, args
    assert not (tmp_path / "nowhere").exists()


def test_bad_options_are_usage_errors_before_anything_is_written(tmp_path: Path) -> None:
    inputs, out = texts(tmp_path), tmp_path / "out"
    for args, words in (
        (["--seed", "-1"], ["--seed"]),
        (["--seed", str(2**64)], ["--seed"]),
        (["--num-perm", "100000"], ["num_perm"]),
    ):
        usage_error(run("dedup", str(inputs), "--out", str(out), *args, rc=None), *words)
        assert not out.exists(), args  # no work directory left behind
    run("dedup", str(inputs), "--out", str(out), "--seed", str(2**64 - 1), "-q")


def test_an_unwritable_out_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from thresher.cli import main, workdir

    inputs, out = texts(tmp_path), tmp_path / "out"
    # Simulated, since root may write anywhere: mkdir of --out is refused ...
    real_mkdir = Path.mkdir

    def refused_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self == out:
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as mp:
        mp.setattr(Path, "mkdir", refused_mkdir)
        with pytest.raises(SystemExit) as exit_info:
            main(["dedup", str(inputs), "--out", str(out), "-q"])
    assert exit_info.value.code == 2
    usage_error(subprocess.CompletedProcess([], 2, "", capsys.readouterr().err), "--out")
    # ... and, --out being there, its lock file cannot be created.
    out.mkdir()
    real_open = os.open

    def refused_open(path: object, *args: object, **kwargs: object) -> int:
        if str(path).endswith(LOCK_NAME):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as mp:
        mp.setattr(workdir.os, "open", refused_open)
        with pytest.raises(SystemExit) as exit_info:
            main(["dedup", str(inputs), "--out", str(out), "-q"])
    assert exit_info.value.code == 2
    usage_error(subprocess.CompletedProcess([], 2, "", capsys.readouterr().err), "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_out_is_a_usage_error(tmp_path: Path) -> None:
    inputs, parent = texts(tmp_path), tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        usage_error(run("dedup", str(inputs), "--out", str(parent / "out"), rc=None), "--out")
        usage_error(run("dedup", str(inputs), "--out", str(parent), rc=None), "--out")
    finally:
        parent.chmod(0o700)
