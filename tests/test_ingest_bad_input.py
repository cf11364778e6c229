"""Ingest: each kind of bad input gives error rows with a location and a
reason, every good record still arrives, and safety limits hold."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import polars as pl
import pytest
from archive_builders import compress, tar_bytes, zip_bytes

import thresher

GOOD = b"Good words that should always arrive."


def kinds(errors: pl.DataFrame) -> list[str]:
    return sorted(errors["kind"].to_list())


def test_truncated_gzip_and_zstd(tmp_path: Path) -> None:
    body = b"".join(b"line %d of a long document\n" % i for i in range(20_000))
    for codec in ("gz", "zst", "bz2", "xz"):
        data = compress(body, codec)
        (tmp_path / f"cut.{codec}").write_bytes(data[: len(data) // 2])
    (tmp_path / "good.txt").write_bytes(GOOD)
    result = thresher.ingest(tmp_path)
    assert result.records["text"].to_list() == [GOOD.decode()]
    errors = result.errors
    # Each cut file: a corrupt row, and the empty row of a file with no record.
    assert errors["kind"].to_list() == ["corrupt", "empty"] * 4
    assert all("truncated" in r or "corrupt" in r for r in errors["reason"])


def test_corrupt_member_among_good_ones(tmp_path: Path) -> None:
    bad_gz = compress(b"x" * 5000, "gz")
    bad_gz = bad_gz[:20] + b"\xff" * 20 + bad_gz[40:]
    members = {"a.txt": b"alpha words", "b.txt.gz": bad_gz, "c.txt": b"gamma words"}
    (tmp_path / "t.tar").write_bytes(tar_bytes(members))
    (tmp_path / "z.zip").write_bytes(zip_bytes(members))
    result = thresher.ingest(tmp_path)
    assert rows_of(result.records) == [
        ("t.tar", "a.txt", "alpha words"),
        ("t.tar", "c.txt", "gamma words"),
        ("z.zip", "a.txt", "alpha words"),
        ("z.zip", "c.txt", "gamma words"),
    ]
    assert result.errors["member"].to_list() == ["b.txt.gz"] * 4
    assert result.errors["kind"].to_list() == ["corrupt", "empty"] * 2


def rows_of(records: pl.DataFrame) -> list[tuple[str, str | None, str]]:
    return [
        (os.path.basename(s), m, t)
        for s, m, t in records.select("source", "member", "text").iter_rows()
    ]


def test_corrupt_zip_entry_data(tmp_path: Path) -> None:
    payload = os.urandom(2000).hex().encode()  # compresses to about 2 KB
    data = bytearray(zip_bytes({"one.txt": payload, "two.txt": b"second member words"}))
    start = data.index(b"one.txt") + len("one.txt")  # the entry's data follows its name
    for i in range(start + 20, start + 70):
        data[i] ^= 0x5A
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    result = thresher.ingest(tmp_path)
    assert result.records["text"].to_list() == ["second member words"]
    assert result.errors["member"].to_list() == ["one.txt", "one.txt"]
    assert result.errors["kind"].to_list() == ["corrupt", "empty"]


def test_invalid_utf8_is_flagged_and_kept(tmp_path: Path) -> None:
    data = b'{"text": "caf\xe9 au lait"}\n{"text": "clean"}\n'
    (tmp_path / "x.jsonl").write_bytes(data)
    result = thresher.ingest(tmp_path)
    r = result.records
    assert r["text"].to_list() == ["caf\ufffd au lait", "clean"]
    assert r["invalid_utf8"].to_list() == [True, False]
    assert result.errors["kind"].to_list() == ["invalid_utf8"]
    assert data[result.errors["offset"][0]] == 0xE9


def test_bad_json_lines_and_missing_fields(tmp_path: Path) -> None:
    lines = [
        b'{"text": "one"}',
        b'{"text": "two", broken',
        b'{"body": "no text field"}',
        b'{"text": 42}',
        b"[1, 2, 3]",
        b'{"text": "with\x00nul"}',
        b'{"text": "six"}',
        b'{"text": "truncated',
    ]
    data = b"\n".join(lines)
    (tmp_path / "x.jsonl").write_bytes(data)
    result = thresher.ingest(tmp_path / "x.jsonl", format="jsonl")
    assert result.records["text"].to_list() == ["one", "six"]
    errors = result.errors.sort("offset")
    starts = [data.index(line) for line in lines]
    assert errors["offset"].to_list() == [starts[i] for i in (1, 2, 3, 4, 5, 7)]
    assert errors["kind"].to_list() == [
        "malformed",
        "missing_field",
        "missing_field",
        "malformed",
        "malformed",
        "malformed",
    ]


def test_nul_bytes_and_binary_junk(tmp_path: Path) -> None:
    (tmp_path / "junk.bin").write_bytes(os.urandom(100_000))
    (tmp_path / "nul.txt").write_bytes(b"text\x00with nul")
    (tmp_path / "lines.txt").write_bytes(b"good line\nbad\x00line\nother line\n")
    (tmp_path / "packed.tar").write_bytes(tar_bytes({"junk.bin": os.urandom(5000), "ok.txt": GOOD}))
    result = thresher.ingest(tmp_path, text_unit="line")
    assert rows_of(result.records) == [
        ("lines.txt", None, "good line"),
        ("lines.txt", None, "other line"),
        ("packed.tar", "ok.txt", GOOD.decode()),
    ]
    # The first row of each source (a source that gave no record has an
    # `empty` row after it).
    by_source: dict[str, str] = {}
    for source, kind in zip(
        result.errors["source"].map_elements(os.path.basename, pl.String),
        result.errors["kind"],
        strict=True,
    ):
        by_source.setdefault(source, kind)
    assert by_source["nul.txt"] == "binary"
    assert by_source["lines.txt"] == "binary"
    assert by_source["packed.tar"] == "binary"
    # Random bytes are binary, or, rarely, a corrupt stream if they start with a magic number.
    assert by_source["junk.bin"] in {"binary", "corrupt"}


def test_empty_archives_and_streams(tmp_path: Path) -> None:
    (tmp_path / "empty.tar").write_bytes(tar_bytes({}))
    (tmp_path / "empty.zip").write_bytes(zip_bytes({}))
    (tmp_path / "empty.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "good.txt").write_bytes(GOOD)
    result = thresher.ingest(tmp_path)
    assert result.records.height == 1
    assert kinds(result.errors) == ["empty", "empty", "empty"]


def test_vanished_files_and_symlink_loops(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_bytes(GOOD)
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.txt")
    os.symlink(tmp_path, tmp_path / "loop")
    result = thresher.ingest(tmp_path)
    assert result.records["text"].to_list() == [GOOD.decode()]
    sources = [os.path.basename(s) for s in result.errors["source"]]
    assert sources == ["dangling.txt"]
    assert set(result.errors["kind"]) == {"io"}


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = tmp_path / "secret.txt"
    path.write_bytes(GOOD)
    path.chmod(0)
    result = thresher.ingest(path)
    assert result.errors["kind"].to_list() == ["io"]


def test_record_length_limit(tmp_path: Path) -> None:
    data = b"short one\n" + b"x" * 10_000 + b"\nshort two\n"
    (tmp_path / "t.txt").write_bytes(data)
    limits = thresher.Limits(max_record_bytes=1000)
    result = thresher.ingest(tmp_path, text_unit="line", limits=limits)
    assert result.records["text"].to_list() == ["short one", "short two"]
    assert result.errors.select("offset", "kind").rows() == [(10, "limit")]


def test_nesting_depth_limit(tmp_path: Path) -> None:
    data = GOOD
    for _ in range(12):
        data = compress(data, "gz")
    (tmp_path / "deep.gz").write_bytes(data)
    result = thresher.ingest(tmp_path)
    assert result.records.height == 0
    assert result.errors["kind"].to_list() == ["limit", "empty"]
    assert "max_depth" in result.errors["reason"][0]
    deeper = thresher.ingest(tmp_path, limits=thresher.Limits(max_depth=20))
    assert deeper.records["text"].to_list() == [GOOD.decode()]


def test_member_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.gz").write_bytes(compress(b"word " * 100_000, "gz"))
    (tmp_path / "small.gz").write_bytes(compress(GOOD, "gz"))
    result = thresher.ingest(tmp_path, limits=thresher.Limits(max_member_bytes=10_000))
    assert result.records["text"].to_list() == [GOOD.decode()]
    assert result.errors["kind"].to_list() == ["limit", "empty"]
    assert "max_member_bytes" in result.errors["reason"][0]


def test_unsafe_member_names_are_only_reported(tmp_path: Path) -> None:
    members = {"../../escape.txt": b"escaped words", "/abs/path.txt": b"absolute words"}
    (tmp_path / "evil.tar").write_bytes(tar_bytes(members))
    cwd_before = set(Path.cwd().iterdir())
    result = thresher.ingest(tmp_path / "evil.tar")
    assert result.records["member"].to_list() == ["../../escape.txt", "/abs/path.txt"]
    assert not (tmp_path.parent.parent / "escape.txt").exists()
    assert set(Path.cwd().iterdir()) == cwd_before


def write_gzip_bomb(path: Path, decompressed: int) -> None:
    """A gzip stream of `decompressed` bytes of one repeated letter, written
    in chunks so that the test itself stays small."""
    chunk = b"a" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        for _ in range(decompressed // len(chunk)):
            out.write(compressor.compress(chunk))
        out.write(compressor.flush())


BOMB_SCRIPT = textwrap.dedent(
    """
    import sys, thresher
    result = thresher.ingest(sys.argv[1])
    # The peak resident set of this process image: getrusage's ru_maxrss
    # would count the parent's (pytest's, hundreds of MB by then), as it
    # carries over a fork.
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    rss_mb = int(fields["VmHWM"].split()[0]) / 1024
    print(result.records.height, result.errors.height, result.errors["kind"][0], round(rss_mb))
    print(result.errors["reason"][0])
    """
)


def test_gzip_bomb_with_default_limits(tmp_path: Path) -> None:
    """1 GB of one letter, gzipped (about 1 MB): the default limits stop it
    with one limit row, and the process stays under 500 MB RSS."""
    bomb = tmp_path / "bomb.gz"
    write_gzip_bomb(bomb, 1 << 30)
    assert bomb.stat().st_size < 2 << 20
    out = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(bomb)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.splitlines()
    records, errors, kind, rss_mb = out[0].split()
    # The limit row, and the empty row of a file that gave no record.
    assert (records, errors, kind) == ("0", "2", "limit")
    assert int(rss_mb) < 500, out
    assert "max_ratio" in out[1] or "max_record_bytes" in out[1]
