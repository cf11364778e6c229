"""``thresher dedup`` and ``thresher scan`` as installed, end to end, on generated
directories of nested archives: every output file, the invariant, exit codes,
JSON logs, Ctrl-C, SIGKILL and resume, and the report in a real browser."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from archive_builders import compress, jsonl_bytes, tar_bytes, warc_record, zip_bytes
from browser import chromium, rendered_dom, screenshot

import thresher
from thresher.cli import pipeline
from thresher.cli.pipeline import DEDUP_COLUMNS, OUTPUT_FILES, RECORD_COLUMNS
from thresher.cli.workdir import WorkDir
from thresher.progress import Reporter
from thresher.sample_dumps import generate_corpus

PARQUETS = ["kept.parquet", "duplicates.parquet", "clusters.parquet", "errors.parquet"]


def thresher_command() -> list[str]:
    """The installed ``thresher`` script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "thresher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "thresher.cli"]


def run(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*thresher_command(), *args], capture_output=True, text=True, check=False, timeout=120
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*thresher_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dumps with planted duplicates: plain files, a tar.gz holding a zip and a
    truncated gzip member, a .zst in a subdirectory, and a binary file."""
    root = tmp_path_factory.mktemp("corpus")
    generate_corpus(root / "gen", n_files=7, papers_per_file=40, seed=11)
    data = [p.read_bytes() for p in sorted((root / "gen").glob("*.txt"))]
    inputs = root / "inputs"
    (inputs / "plain").mkdir(parents=True)
    (inputs / "deep" / "er").mkdir(parents=True)
    (inputs / "plain" / "listing_000.txt").write_bytes(data[0])
    (inputs / "plain" / "listing_001.txt").write_bytes(data[1])
    inner = zip_bytes({"a/listing_002.txt": data[2], "listing_003.txt": data[3]})
    broken = compress(data[4], "gz")[:300]  # truncated: an error row
    nested = tar_bytes({"inner.zip": inner, "broken.txt.gz": broken, "l5.txt": data[5]}, "gz")
    (inputs / "nested.tar.gz").write_bytes(nested)
    (inputs / "deep" / "er" / "listing_006.txt.zst").write_bytes(compress(data[6], "zst"))
    (inputs / "junk.bin").write_bytes(bytes(range(256)) * 16)
    return inputs


@pytest.fixture(scope="module")
def reference_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted run with small batches (many chunks)."""
    out = tmp_path_factory.mktemp("ref") / "out"
    run("dedup", str(corpus), "--out", str(out), "--batch-size", "8", "--quiet")
    return out


def read_outputs(out: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / name) for name in PARQUETS}


def assert_same_outputs(a: Path, b: Path) -> None:
    for name in PARQUETS:
        fa, fb = pl.read_parquet(a / name), pl.read_parquet(b / name)
        assert fa.equals(fb), name
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    sa.pop("timings"), sb.pop("timings")
    assert sa == sb


def test_dedup_writes_every_output(corpus: Path, reference_run: Path) -> None:
    out = reference_run
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    summary = json.loads((out / "summary.json").read_text())
    frames = read_outputs(out)
    kept, dups = frames["kept.parquet"], frames["duplicates.parquet"]
    clusters, errors = frames["clusters.parquet"], frames["errors.parquet"]

    # The invariant, in the summary and in the files.
    assert summary["records_in"] == summary["kept"] + summary["duplicates"]
    # ... and against the input, counted by a separate ingest.
    records_in = thresher.ingest([str(corpus)]).records.height
    assert records_in > 0 and kept.height + dups.height == records_in == summary["records_in"]
    assert summary["kept"] == kept.height and summary["duplicates"] == dups.height
    assert summary["duplicates"] == summary["exact_duplicates"] + summary["near_duplicates"]
    assert summary["exact_duplicates"] > 0 and summary["near_duplicates"] > 0
    ids = pl.concat([kept["doc_id"], dups["doc_id"]]).sort()
    assert ids.to_list() == list(range(summary["records_in"]))
    assert summary["files"] == 5 and summary["bytes"] > 0
    assert summary["thresher_version"] == thresher.__version__
    assert summary["parameters"]["threshold"] == 0.8
    assert (summary["parameters"]["bands"], summary["parameters"]["rows"]) == thresher.banding()
    assert set(summary["timings"]) >= {"sketch", "verify", "cluster", "write", "total"}

    # Columns: the records with provenance, then the dedup fields.
    assert kept.columns == RECORD_COLUMNS + DEDUP_COLUMNS
    assert dups.columns == RECORD_COLUMNS + DEDUP_COLUMNS
    assert dups.schema["exact"] == pl.Boolean
    assert kept["duplicate_of"].null_count() == kept.height
    assert dups["duplicate_of"].null_count() == 0
    assert not kept["exact"].any()
    # Every duplicate points at a kept representative; exact iff same exact key.
    joined = dups.join(
        kept.select(pl.col("doc_id").alias("duplicate_of"), pl.col("exact_key").alias("rep_key")),
        on="duplicate_of",
        how="left",
    )
    assert joined["rep_key"].null_count() == 0
    assert (joined["exact"] == (joined["exact_key"] == joined["rep_key"])).all()
    assert (dups["cluster_id"] == dups["duplicate_of"]).all()
    assert (dups.filter("exact")["similarity"] == 1.0).all()
    assert dups["similarity"].min() > 0.5  # type: ignore[operator]
    assert dups["member"].str.contains("inner.zip!/").any()

    # Same decisions as the in-memory library call.
    ingested = thresher.ingest([str(corpus)])
    expected = thresher.dedup(ingested.records)
    library = expected.filter("is_duplicate").select(
        "doc_id", pl.col("duplicate_of").cast(pl.UInt64), "similarity"
    )
    assert dups.select("doc_id", "duplicate_of", "similarity").equals(library)
    assert errors.height > 0 and errors.equals(ingested.errors)
    assert summary["errors"] == errors.height
    assert {"binary", "corrupt"} <= set(errors["kind"].to_list())

    # Clusters: one row per cluster of 2+, sizes add up.
    assert clusters.columns == [
        "cluster_id",
        "size",
        "representative_doc_id",
        "exact_duplicates",
        "near_duplicates",
        "min_similarity",
    ]
    assert clusters.height == summary["clusters"]
    assert int(clusters["size"].sum()) == dups.height + clusters.height
    assert (
        clusters["size"] == clusters["exact_duplicates"] + clusters["near_duplicates"] + 1
    ).all()
    assert set(clusters["representative_doc_id"].to_list()) <= set(kept["doc_id"].to_list())


def test_report_is_self_contained(reference_run: Path) -> None:
    page = (reference_run / "report.html").read_text()
    summary = json.loads((reference_run / "summary.json").read_text())
    assert page.startswith("<!DOCTYPE html>")
    for needle in ("<script", "<link", "src=", "https://", "@import"):
        assert needle not in page, needle
    for cls in ("chart-sizes", "chart-similarity", "chart-lsh", "lsh-curve", "threshold"):
        assert cls in page
    assert f"{summary['kept']:,}" in page


def test_report_renders_in_chromium(reference_run: Path, tmp_path: Path) -> None:
    browser = chromium()
    summary = json.loads((reference_run / "summary.json").read_text())
    url = (reference_run / "report.html").as_uri()
    html = rendered_dom(browser, url)
    for key, field in (
        ("records-in", "records_in"),
        ("kept", "kept"),
        ("exact", "exact_duplicates"),
        ("near", "near_duplicates"),
        ("errors", "errors"),
    ):
        assert f'id="count-{key}"><div class="n">{summary[field]:,}</div>' in html, key
    assert html.count("<svg") >= 3 and "<polyline" in html and "<rect" in html
    assert 'class="cluster"' in html and "<ins>" in html
    shot = tmp_path / "report.png"
    screenshot(browser, url, shot, 1280, 2000)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_json_logs_are_json_lines(corpus: Path, tmp_path: Path) -> None:
    proc = run("dedup", str(corpus), "--out", str(tmp_path / "o"), "--json", "--threads", "1")
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "summary" and "phase_start" in kinds and "phase_end" in kinds
    phases = [e["phase"] for e in events if e["event"] == "phase_end"]
    assert phases == ["sketch", "verify", "cluster", "write", "outputs"]
    sketch_end = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "sketch")
    assert sketch_end["files_done"] == sketch_end["files_total"] == 5
    assert sketch_end["records"] == events[-1]["records_in"]
    assert all("time" in e for e in events)


def test_exit_codes(corpus: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o")
    assert run("dedup", str(corpus), "--out", out, "--strict", "-q", check_rc=1).stdout == ""
    assert (tmp_path / "o" / "summary.json").exists()  # finished, but with input errors
    clean = corpus / "plain"
    run("dedup", str(clean), "--out", str(tmp_path / "c"), "--strict", "-q", check_rc=0)
    for bad in (
        ["dedup", str(corpus)],  # no --out
        ["dedup", str(tmp_path / "missing"), "--out", out],
        ["dedup", str(corpus), "--out", out, "--threshold", "1.5"],
        ["dedup", str(corpus), "--out", out, "--keep", "oldest"],
        ["dedup", str(corpus), "--out", out, "--threads", "0"],
        ["dedup", str(corpus), "--out", str(corpus / "plain" / "out")],  # would read itself
        ["scan", str(corpus), "--out", str(tmp_path)],  # a directory
        ["frobnicate"],
    ):
        proc = run(*bad, check_rc=2)
        assert "usage:" in proc.stderr, bad


def test_help_everywhere() -> None:
    for args in (["--help"], ["dedup", "--help"], ["scan", "--help"], ["demo", "--help"]):
        proc = run(*args)
        assert "Examples:" in proc.stdout, args
    dedup_help = run("dedup", "--help").stdout
    for flag in (
        "--threshold",
        "--ngram",
        "--num-perm",
        "--verify",
        "--format",
        "--text-field",
        "--keep",
        "--threads",
        "--quiet",
        "--json",
        "--strict",
    ):
        assert flag in dedup_help, flag


def test_scan_writes_records(corpus: Path, tmp_path: Path) -> None:
    out, errs = tmp_path / "records.parquet", tmp_path / "errors.parquet"
    proc = run("scan", str(corpus), "--out", str(out), "--errors", str(errs), "--batch-size", "16")
    assert "records" in proc.stdout
    expected = thresher.ingest([str(corpus)])
    assert pl.read_parquet(out).equals(expected.records)
    assert pl.read_parquet(errs).equals(expected.errors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["errors.parquet", "records.parquet"]
    run("scan", str(corpus), "--out", str(out), "--strict", "-q", check_rc=1)


def test_scan_removes_what_a_killed_scan_left(corpus: Path, tmp_path: Path) -> None:
    # A finished process's id stands for a scan that was killed with SIGKILL.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    out = tmp_path / "records.parquet"
    stale = tmp_path / f".tmp-{dead_pid}-records.parquet.parts"
    stale.mkdir()
    (stale / "records-000000.parquet").write_bytes(b"half written")
    live = tmp_path / f".tmp-{os.getpid()}-records.parquet.parts"
    live.mkdir()
    run("scan", str(corpus), "--out", str(out), "-q")
    assert not stale.exists()
    assert live.exists(), "a running process's temporaries are left alone"
    assert pl.read_parquet(out).height == thresher.ingest([str(corpus)]).records.height


def test_keep_longest_and_newest(tmp_path: Path) -> None:
    base = "the quick brown fox jumps over the lazy dog near the quiet river bank today"
    docs = [
        ("<urn:a>", "2024-01-05T10:00:00Z", base),
        ("<urn:b>", "2025-03-01T08:30:00Z", base + " again"),
        ("<urn:c>", "2023-12-31T23:59:59Z", base + " and then once more it jumps"),
    ]
    warc = b"".join(
        warc_record(
            "resource",
            {"WARC-Record-ID": rid, "WARC-Date": date, "Content-Type": "text/plain"},
            text.encode(),
        )
        for rid, date, text in docs
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "crawl.warc.gz").write_bytes(compress(warc, "gz"))
    (tmp_path / "in" / "x.jsonl").write_bytes(jsonl_bytes([{"text": base}]))
    inputs = str(tmp_path / "in")
    kept_ids = {}
    for keep in ("first", "longest", "newest"):
        out = tmp_path / keep
        run("dedup", inputs, "--out", str(out), "--keep", keep, "--threshold", "0.5", "-q")
        kept = pl.read_parquet(out / "kept.parquet")
        dups = pl.read_parquet(out / "duplicates.parquet")
        assert kept.height + dups.height == 4
        assert kept.height == 1, (keep, kept, dups)
        kept_ids[keep] = kept["doc_id"][0]
        assert (dups["duplicate_of"] == kept_ids[keep]).all()
        library = thresher.dedup(thresher.ingest(inputs).records, keep=keep, threshold=0.5)  # type: ignore[arg-type]
        assert library.filter(~pl.col("is_duplicate"))["doc_id"].to_list() == [kept_ids[keep]]
    assert kept_ids == {"first": 0, "longest": 2, "newest": 1}


def test_pass_3_reads_only_the_batches_it_scores(tmp_path: Path) -> None:
    """Families of texts that drift link by link: verification splits some
    candidate groups, so a few members need their similarity to a
    representative that verification did not score ahead. Pass 3 reads only
    the spool batches holding them, and the results are the library's."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(5000)]
    texts: list[str] = []
    for _ in range(25):
        words = [rng.choice(vocab) for _ in range(200)]
        # Two links apart, texts are still near duplicates; three apart, or
        # across the wide gap in the middle, mostly not.
        for drift in (2, 2, 2, 7, 2, 2, 2, 0):
            texts.append(" ".join(words))
            for _ in range(drift):
                words[rng.randrange(len(words))] = rng.choice(vocab)
    rng.shuffle(texts)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "drift.jsonl").write_bytes(jsonl_bytes([{"text": t} for t in texts]))
    inputs = str(tmp_path / "in")
    records = thresher.ingest(inputs).records
    scored = 0
    for keep in ("first", "longest"):
        out = tmp_path / keep
        args = ["--out", str(out), "--keep", keep, "--batch-size", "8", "--json"]
        proc = run("dedup", inputs, *args)
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        cluster = next(e for e in events if e["event"] == "phase_end" and e["phase"] == "cluster")
        if cluster["to_score"]:
            assert 0 < cluster["batches_read"] < len(texts) // 8
            scored += 1
        expected = thresher.dedup(records, keep=keep).select(  # type: ignore[arg-type]
            "doc_id", "cluster_id", pl.col("duplicate_of").cast(pl.UInt64), "similarity"
        )
        both = pl.concat([pl.read_parquet(out / name) for name in PARQUETS[:2]]).sort("doc_id")
        got = both.select("doc_id", "cluster_id", "duplicate_of", "similarity")
        assert got.with_columns(pl.col("cluster_id").cast(expected["cluster_id"].dtype)).equals(
            expected.with_columns(pl.col("doc_id").cast(got["doc_id"].dtype))
        )
        assert both["duplicate_of"].is_not_null().sum() > 60
    assert scored, "no run left rows to score: the corpus no longer tests pass 3"


def wait_for(predicate, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def chunks(out: Path) -> list[Path]:
    return sorted((out / ".thresher-work" / "sketch").glob("chunk-*.parquet"))


def writing_kept(out: Path) -> bool:
    """Whether pass 4 has begun writing ``kept.parquet`` (under a temporary name)."""
    final = out / ".thresher-work" / "final"
    return any(final.glob(".tmp-thresher-*-kept.parquet"))


def test_sigkill_resume_gives_identical_outputs(
    corpus: Path, reference_run: Path, tmp_path: Path
) -> None:
    """Killed in pass 1 or pass 4, with the spool on disk (``--memory 0``)
    or held in memory (then lost with the run: the inputs are read again)."""
    for when, ready, memory in (
        ("sketch", lambda out: len(chunks(out)) >= 5, "0"),
        ("write", writing_kept, "0"),
        ("write", writing_kept, "1G"),
    ):
        args = [str(corpus), "--batch-size", "8", "--memory", memory]
        out = tmp_path / f"{when}-{memory}"
        proc = start("dedup", *args, "--out", str(out), "--quiet")
        wait_for(lambda out=out, ready=ready: ready(out), proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        left = {p.name for p in out.iterdir()}
        assert left == {".thresher-work"}, left  # nothing half-written
        done = len(chunks(out))
        assert done >= 5
        again = run("dedup", *args, "--out", str(out), "--json")
        messages = [json.loads(line) for line in again.stdout.splitlines()]
        assert any(m.get("state") == "resumed" for m in messages), when
        reused = [e for e in messages if e["event"] == "phase_end" and e["reused"]]
        if when == "write" and memory == "0":
            assert {e["phase"] for e in reused} >= {"sketch", "verify", "cluster"}
        else:
            assert any(m.get("reused", 0) >= 5 for m in messages if m["event"] == "message")
        assert not (out / ".thresher-work").exists()
        assert_same_outputs(reference_run, out)


def test_changed_arguments_start_over(corpus: Path, reference_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    stale = out / ".thresher-work" / "sketch"
    stale.mkdir(parents=True)
    (out / ".thresher-work" / "manifest.json").write_text('{"parameters": {"threshold": 0.5}}')
    (stale / "chunk-000000.parquet").write_bytes(b"not parquet")
    proc = run("dedup", str(corpus), "--out", str(out), "--batch-size", "8", "--json")
    assert "starting over" in proc.stdout
    assert_same_outputs(reference_run, out)


def test_sketches_of_another_sketch_format_are_not_reused(
    corpus: Path, reference_run: Path, tmp_path: Path
) -> None:
    # Checkpoints of a build whose shingle hashes differ must not be mixed in.
    out = tmp_path / "o"
    proc = start("dedup", str(corpus), "--out", str(out), "--batch-size", "8")
    wait_for(lambda: len(chunks(out)) >= 3, proc)
    proc.kill()
    proc.communicate(timeout=60)
    manifest_path = out / ".thresher-work" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["sketch_format"] == thresher._core.SKETCH_FORMAT
    manifest["sketch_format"] -= 1
    manifest_path.write_text(json.dumps(manifest))
    proc = run("dedup", str(corpus), "--out", str(out), "--batch-size", "8", "--json")
    assert "starting over" in proc.stdout
    assert_same_outputs(reference_run, out)


def test_ctrl_c_leaves_no_outputs(corpus: Path, reference_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    proc = start("dedup", str(corpus), "--out", str(out), "--batch-size", "8")
    wait_for(lambda: len(chunks(out)) >= 3, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert {p.name for p in out.iterdir()} == {".thresher-work"}
    leftovers = [p for p in (out / ".thresher-work").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    run("dedup", str(corpus), "--out", str(out), "--batch-size", "8", "-q")
    assert_same_outputs(reference_run, out)


def test_threads_do_not_change_outputs(corpus: Path, reference_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    run("dedup", str(corpus), "--out", str(out), "--batch-size", "8", "--threads", "2", "-q")
    assert_same_outputs(reference_run, out)


def test_killed_while_publishing_finishes_on_rerun(
    corpus: Path, reference_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.publish

    def killed_after_first_rename(files: list[tuple[Path, Path]], last: object = None) -> None:
        os.replace(*files[0])
        raise KeyboardInterrupt  # stands for a kill between two renames

    monkeypatch.setattr(pipeline, "publish", killed_after_first_rename)
    out, options = tmp_path / "o", pipeline.DedupOptions(batch_size=8)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_dedup([str(corpus)], out, options, Reporter())
    assert (out / "kept.parquet").exists() and not (out / "summary.json").exists()
    monkeypatch.setattr(pipeline, "publish", real)
    _, state = pipeline.run_dedup([str(corpus)], out, options, Reporter())
    assert state == "resumed"
    assert_same_outputs(reference_run, out)


def test_only_exact_duplicates(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name, text in (
        ("a", "alpha beta gamma delta epsilon zeta"),
        ("b", "Alpha  beta gamma delta epsilon zeta"),
        ("c", "one two three four five six seven"),
    ):
        (tmp_path / "in" / f"{name}.txt").write_text(text + "\n")
    out = tmp_path / "o"
    run("dedup", str(tmp_path / "in"), "--out", str(out), "-q")
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["kept"], summary["exact_duplicates"], summary["near_duplicates"]) == (2, 1, 0)
    assert pl.read_parquet(out / "duplicates.parquet")["exact"].to_list() == [True]


def test_library_options_reach_the_run(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["--verify", "signature", "--ngram", "3", "--num-perm", "64", "--threshold", "0.7"]
    run("dedup", str(corpus), "--out", str(out), *args, "--seed", "5", "-q")
    summary = json.loads((out / "summary.json").read_text())
    p = summary["parameters"]
    assert (p["verify"], p["ngram"], p["num_perm"], p["threshold"], p["seed"]) == (
        "signature",
        3,
        64,
        0.7,
        5,
    )
    assert (p["bands"], p["rows"]) == thresher.banding(0.7, 64)
    assert summary["records_in"] == summary["kept"] + summary["duplicates"]
    records = thresher.ingest([str(corpus)]).records
    assert summary["kept"] + summary["duplicates"] == records.height
    expected = thresher.dedup(
        records,
        threshold=0.7,
        ngram=3,
        num_perm=64,
        seed=5,
        verify="signature",
    )
    assert summary["duplicates"] == int(expected["is_duplicate"].sum())


def test_demo_writes_outputs(tmp_path: Path) -> None:
    proc = run("demo", "--out", str(tmp_path / "demo"))
    assert "report.html" in proc.stdout
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["records_in"] == 180
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == sorted(OUTPUT_FILES)


def test_progress_bar_on_a_terminal_only(corpus: Path, tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*thresher_command(), "dedup", str(corpus), "--out", str(tmp_path / "tty")],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the run is over
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 0
    screen = seen.decode(errors="replace")
    for label in ("pass 1: sketch", "pass 2: verify", "pass 4: write", "files", "records"):
        assert label in screen, label
    assert "kept" in stdout
    # Not a terminal: no progress at all on stderr.
    quiet = run("dedup", str(corpus), "--out", str(tmp_path / "pipe"))
    assert quiet.stderr == "" and "kept" in quiet.stdout


def test_changed_input_starts_over(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(corpus / "plain", inputs)
    real = pipeline.publish

    def killed(files: list[tuple[Path, Path]], last: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "publish", killed)
    out, options = tmp_path / "o", pipeline.DedupOptions(batch_size=8)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_dedup([str(inputs)], out, options, Reporter())
    assert (out / ".thresher-work" / "final" / "done.json").exists()
    monkeypatch.setattr(pipeline, "publish", real)
    first = inputs / "listing_000.txt"
    first.write_text(first.read_text() + "\nOne More Paper Title\nAn abstract added later.\n")
    summary, state = pipeline.run_dedup([str(inputs)], out, options, Reporter())
    assert state == "restarted"
    assert summary["records_in"] == thresher.ingest([str(inputs)]).records.height


def test_an_output_that_loses_a_record_fails_the_run(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pass 4 alone (the only reader of every column) loses a record.
    real = WorkDir.read_spool

    def lossy(self: WorkDir, index: int, columns: list[str] | None = None) -> pl.DataFrame:
        frame = real(self, index, columns)
        return frame.head(-1) if columns is None and index == 0 else frame

    monkeypatch.setattr(WorkDir, "read_spool", lossy)
    out = tmp_path / "o"
    with pytest.raises(thresher.ThresherError, match="records were lost"):
        pipeline.run_dedup([str(corpus)], out, pipeline.DedupOptions(batch_size=8), Reporter())
    assert not (out / "summary.json").exists()


def test_a_scan_that_loses_a_record_fails_the_run(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every pass sees the same n - 1 rows, so the outputs agree with pass 1;
    # only the scanner's own count of what it read shows the loss.
    real = thresher.Scan.__next__

    def lossy(self: thresher.Scan) -> pl.DataFrame:
        return real(self).head(-1)

    monkeypatch.setattr(thresher.Scan, "__next__", lossy)
    options = pipeline.DedupOptions(batch_size=1_000_000)
    with pytest.raises(thresher.ThresherError, match="records were lost"):
        pipeline.run_dedup([str(corpus)], tmp_path / "o", options, Reporter())


def test_publish_replaces_a_file_by_a_folder_and_back(tmp_path: Path) -> None:
    """A run with --ray --sharded writes kept.parquet as a folder of parts
    where a local run had written a file, and the other way round."""
    from thresher.cli.outputs import publish

    final, out = tmp_path / "final", tmp_path / "out"
    final.mkdir()
    out.mkdir()
    (out / "kept.parquet").write_text("file of an earlier run")
    (final / "kept.parquet").mkdir()
    (final / "kept.parquet" / "part-000000.parquet").write_text("part")
    publish([(final / "kept.parquet", out / "kept.parquet")])
    assert (out / "kept.parquet" / "part-000000.parquet").read_text() == "part"
    (final / "kept.parquet").write_text("file again")
    publish([(final / "kept.parquet", out / "kept.parquet")])
    assert (out / "kept.parquet").read_text() == "file again"
