"""The ``thresher`` command as installed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import thresher
from thresher.cli import args as cli_args
from thresher.sample_dumps import generate_corpus


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thresher.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def counts(output: str) -> dict[str, int]:
    found = {}
    for key, pattern in {
        "records": r"(\d+) records",
        "errors": r"(\d+) error row",
        "kept": r"kept (\d+)",
        "exact": r"exact duplicates (\d+)",
        "near": r"near duplicates (\d+)",
    }.items():
        match = re.search(pattern, output)
        assert match, (pattern, output)
        found[key] = int(match.group(1))
    return found


def ground_truth(truth: dict[str, Any]) -> tuple[int, int]:
    """Papers written by the generator, and how many of them are duplicates:
    counted from what it planted, independently of thresher's output."""
    total = sum(len(papers) for papers in truth["files"].values())
    # Kept records are the connected components of the true duplicate graph.
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b, *_ in list(truth["exact_pairs"]) + list(truth["near_pairs"]):
        parent[find(tuple(a))] = find(tuple(b))
    duplicates = sum(1 for node in list(parent) if find(node) != node)
    return total, duplicates


def test_demo_on_bundled_samples(tmp_path: Path) -> None:
    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stderr
    c = counts(proc.stdout)
    assert c["records"] == 180 and c["errors"] == 0
    assert c["records"] == c["kept"] + c["exact"] + c["near"]
    assert c["exact"] > 0 and c["near"] > 0
    assert "largest clusters" in proc.stdout
    # The bundled samples are the generator's defaults: its ground truth
    # counts the input and the duplicates without reading the demo's output.
    total, duplicates = ground_truth(generate_corpus(tmp_path))
    assert total == 180 == c["kept"] + c["exact"] + c["near"]
    assert c["kept"] == total - duplicates


def test_demo_matches_generated_ground_truth(tmp_path: Path) -> None:
    truth = generate_corpus(tmp_path, n_files=2, papers_per_file=40, seed=3)
    proc = run_cli("demo", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    c = counts(proc.stdout)
    total, duplicates = ground_truth(truth)
    assert c["records"] == total
    assert c["records"] == c["kept"] + c["exact"] + c["near"]
    assert duplicates > 0
    assert c["kept"] == total - duplicates


def test_help_and_version() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "demo" in proc.stdout
    proc = run_cli("demo", "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout
    proc = run_cli("--version")
    assert proc.stdout.strip() == thresher.__version__
    assert run_cli("frobnicate").returncode == 2


@pytest.mark.parametrize(
    ("command", "target", "resumes"),
    [
        (["dedup", ".", "--out", "{tmp}/out"], "thresher.cli.pipeline.run_dedup", True),
        (["scan", ".", "--out", "{tmp}/records.parquet"], "thresher.cli.pipeline.run_scan", False),
        (["demo"], "thresher.ingest", False),
    ],
)
def test_ctrl_c_promises_resume_only_where_it_resumes(
    command: list[str],
    target: str,
    resumes: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    # Leave the test process's SIGTERM handler alone.
    monkeypatch.setattr(cli_args, "_in_main_thread", lambda: False)
    argv = [a.format(tmp=tmp_path) for a in command]
    assert cli_args.main(argv) == cli_args.EXIT_INTERRUPTED
    stderr = capsys.readouterr().err
    assert "interrupted; no output was written" in stderr
    assert ("resume" in stderr) == resumes, stderr
