"""Hostile input paths: symlinks leaving the input tree, special files, the
same file named twice, names that are not UTF-8, and what the resume
manifest and the ``--out`` check make of them. Every fixture is built here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import thresher
from thresher.cli import pipeline
from thresher.cli.workdir import input_fingerprint
from thresher.progress import Reporter

GOOD = "Ducks in a row\nA careful study of ducks that line up."
SECRET = "root:topsecret:19000:0:99999:7:::"


def kinds(errors: pl.DataFrame) -> list[str]:
    return sorted(errors["kind"].to_list())


def ingest_in_subprocess(*args: str, timeout: float = 60) -> dict[str, object]:
    """``thresher.ingest`` in a child process, so that a hang fails the test
    instead of blocking the suite."""
    code = textwrap.dedent(
        """
        import json, sys, thresher
        kw = json.loads(sys.argv[1])
        r = thresher.ingest(sys.argv[2:], **kw)
        print(json.dumps({"texts": r.records["text"].to_list(),
                          "errors": r.errors.select("source", "kind", "reason").rows()}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(proc.stdout)


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    """``in/`` holds a good file and links to a file and a directory outside it."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text(GOOD)
    (tmp_path / "shadow").write_text(SECRET)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "more.txt").write_text("more words from outside the tree")
    os.symlink(tmp_path / "shadow", inputs / "leak.txt")
    os.symlink(tmp_path / "elsewhere", inputs / "outdir")
    return inputs


# -- 11: links out of the tree, special files ------------------------------------


def test_links_out_of_the_input_tree_are_not_followed(leaky: Path) -> None:
    result = thresher.ingest(leaky)
    assert result.records["text"].to_list() == [GOOD]
    errors = result.errors.sort("source")
    assert errors["kind"].to_list() == ["unsupported", "unsupported"]
    assert [os.path.basename(s) for s in errors["source"]] == ["leak.txt", "outdir"]
    assert str(leaky.parent / "shadow") in errors["reason"][0]
    assert str(leaky.parent / "elsewhere") in errors["reason"][1]
    with thresher.scan(leaky) as scan:
        texts = [t for frame in scan for t in frame["text"]]
        assert texts == [GOOD]
        assert kinds(scan.errors) == ["unsupported", "unsupported"]


def test_follow_symlinks_opts_in(leaky: Path) -> None:
    result = thresher.ingest(leaky, follow_symlinks=True)
    assert sorted(result.records["text"].to_list()) == sorted(
        [GOOD, SECRET, "more words from outside the tree"]
    )
    assert result.errors.height == 0
    with thresher.scan(leaky, follow_symlinks=True) as scan:
        assert sum(frame.height for frame in scan) == 3


def test_links_inside_the_tree_are_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text(GOOD)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "b.txt").write_text("text kept in a hidden folder")
    os.symlink(tmp_path / ".hidden", tmp_path / "shown")
    os.symlink("real/a.txt", tmp_path / "alias.txt")
    result = thresher.ingest(tmp_path)
    assert sorted(result.records["text"].to_list()) == sorted(
        [GOOD, "text kept in a hidden folder"]
    )
    assert result.errors.height == 0


def test_an_input_that_is_a_link_is_followed(tmp_path: Path, leaky: Path) -> None:
    os.symlink(leaky, tmp_path / "named")
    result = thresher.ingest(tmp_path / "named")
    assert result.records["text"].to_list() == [GOOD]
    assert kinds(result.errors) == ["unsupported", "unsupported"]
    assert thresher.ingest(leaky / "leak.txt").records["text"].to_list() == [SECRET]


def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe")
    os.symlink("/dev/zero", tmp_path / "zero")
    os.symlink(tmp_path / "pipe", tmp_path / "pipe-link")
    for follow in (False, True):
        got = ingest_in_subprocess(json.dumps({"follow_symlinks": follow}), str(tmp_path))
        assert got["texts"] == [GOOD]
        errors = sorted(got["errors"])  # type: ignore[arg-type]
        assert [os.path.basename(e[0]) for e in errors] == ["pipe", "pipe-link", "zero"]
        assert {e[1] for e in errors} == {"unsupported"}
    explicit = ingest_in_subprocess("{}", str(tmp_path / "pipe"), "/dev/zero")
    assert explicit["texts"] == []
    reasons = {e[0]: (e[1], e[2]) for e in explicit["errors"]}  # type: ignore[union-attr]
    assert reasons[str(tmp_path / "pipe")][0] == "unsupported"
    assert "fifo" in reasons[str(tmp_path / "pipe")][1]
    assert reasons["/dev/zero"][0] == "unsupported"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs procfs")
def test_procfs_files_are_not_read(tmp_path: Path) -> None:
    os.symlink("/proc/self/status", tmp_path / "status")
    got = ingest_in_subprocess('{"follow_symlinks": true}', str(tmp_path), "/proc/version")
    assert got["texts"] == []
    assert [e[1] for e in got["errors"]] == ["unsupported", "unsupported"]  # type: ignore[union-attr]


# -- 10: the same file named twice ----------------------------------------------


def test_a_file_named_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text(GOOD)
    os.symlink("d/x.txt", tmp_path / "link.txt")
    monkeypatch.chdir(tmp_path)
    paths = ["d/x.txt", "./d/x.txt", str(tmp_path / "d" / "x.txt"), "link.txt", "d", "d/"]
    result = thresher.ingest(paths)
    assert result.records["text"].to_list() == [GOOD]
    assert result.errors.height == 0
    # The path kept does not depend on the order the paths are given in.
    again = thresher.ingest(list(reversed(paths)))
    assert again.records["source"].to_list() == result.records["source"].to_list()


# -- 17a: names that are not UTF-8 ----------------------------------------------


def test_names_that_are_not_utf8_stay_distinct(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    for name, body in ((b"a\xff.txt", "first text here"), (b"a\xfe.txt", "second text")):
        try:
            fd = os.open(root + b"/" + name, os.O_WRONLY | os.O_CREAT)
        except OSError:
            pytest.skip("the file system refuses names that are not UTF-8")
        os.write(fd, body.encode())
        os.close(fd)
    records = thresher.ingest(tmp_path).records.sort("text")
    sources = records["source"].to_list()
    assert len(set(sources)) == 2
    assert sources[0].endswith("a\\xff.txt")
    assert sources[1].endswith("a\\xfe.txt")


# -- 2: the resume manifest ------------------------------------------------------


def _killed_run(
    inputs: Path, out: Path, options: pipeline.DedupOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.publish

    def killed(files: list[tuple[Path, Path]], last: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "publish", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_dedup([str(inputs)], out, options, Reporter())
    monkeypatch.setattr(pipeline, "publish", real)


def test_resume_sees_a_change_inside_a_linked_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, data = tmp_path / "in", tmp_path / "data"
    inputs.mkdir()
    data.mkdir()
    (inputs / "good.txt").write_text(GOOD)
    (data / "a.txt").write_text("linked text, first version")
    os.symlink(data, inputs / "linked")
    out, options = tmp_path / "o", pipeline.DedupOptions(batch_size=8, follow_symlinks=True)
    _killed_run(inputs, out, options, monkeypatch)
    (data / "b.txt").write_text("a second linked file")
    summary, state = pipeline.run_dedup([str(inputs)], out, options, Reporter())
    assert state == "restarted"
    assert summary["records_in"] == 3


def test_resume_sees_a_change_that_keeps_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = inputs / "a.txt"
    path.write_text("version one of the text")
    (inputs / "b.txt").write_text(GOOD)
    out, options = tmp_path / "o", pipeline.DedupOptions(batch_size=8)
    _killed_run(inputs, out, options, monkeypatch)
    st = path.stat()
    path.write_text("version two of the text")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    _, state = pipeline.run_dedup([str(inputs)], out, options, Reporter())
    assert state == "restarted"
    kept = pl.read_parquet(out / "kept.parquet")
    assert "version two of the text" in kept["text"].to_list()


def test_fingerprint_follows_the_readers_walk(tmp_path: Path, leaky: Path) -> None:
    (leaky / ".hidden.txt").write_text("skipped by the reader")
    files = [entry[0] for entry in input_fingerprint([str(leaky)])]
    assert [os.path.basename(f) for f in files] == ["good.txt"]
    followed = input_fingerprint([str(leaky)], follow_symlinks=True)
    assert len(followed) == 3


# -- 9: --out reached through a link ---------------------------------------------


def _thresher(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "thresher"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_a_run_never_reads_its_own_out(tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "good.txt").write_text(GOOD)
    os.symlink(out, inputs / "mirror")
    for _ in range(2):
        proc = _thresher("dedup", str(inputs), "--out", str(out), "--quiet")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["records_in"] == 1
    proc = _thresher("dedup", str(inputs), "--out", str(out), "--quiet", "--follow-symlinks")
    assert proc.returncode == 2
    assert "--out" in proc.stderr and "mirror" in proc.stderr
