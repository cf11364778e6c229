"""Ingest: the paper-listing parser on real and synthetic dumps, and bad input."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import polars as pl
import pytest

import thresher

HEADER_WORDS = ("Subscribe",)


def independent_pairs(path: Path) -> list[tuple[str, str]]:
    """An oracle for the seed files only: their known layout is a header of
    short lines up to the line before the first long one, then strictly
    alternating title / abstract lines. The first title may be glued to
    ``Subscribe``. Built from the file at test time; no seed text is stored."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    first_abstract = next(i for i, line in enumerate(lines) if len(line) > 300)
    body = lines[first_abstract - 1 :]
    for word in HEADER_WORDS:
        if body[0].startswith(word) and body[0][len(word)].isupper():
            body[0] = body[0][len(word) :]
    assert len(body) % 2 == 0
    return list(zip(body[0::2], body[1::2], strict=True))


EXPECTED_COUNTS = {"000": 43, "001": 200, "002": 57}


def test_seed_dumps_parse_exactly(seeds_dir: Path) -> None:
    result = thresher.ingest(seeds_dir)
    assert result.errors.height == 0, result.errors
    records = result.records
    assert records.columns[:8] == [
        "doc_id",
        "source",
        "member",
        "offset",
        "part",
        "format",
        "title",
        "text",
    ]
    assert records["doc_id"].to_list() == list(range(records.height))
    assert set(records["format"]) == {"paper_listing"}
    files = sorted(seeds_dir.glob("*.txt"))
    assert len(files) == 3
    for path in files:
        got = records.filter(pl.col("source") == str(path))
        expected = independent_pairs(path)
        assert got.height == EXPECTED_COUNTS[path.name[:3]] == len(expected)
        assert list(zip(got["title"], got["text"], strict=True)) == expected
        raw = path.read_bytes()
        for offset, title in zip(got["offset"], got["title"], strict=True):
            assert raw[offset:].startswith(title.encode())
        # Offsets increase: records come in file order.
        assert got["offset"].is_sorted()
    # No boilerplate ever becomes a title.
    boilerplate = {"new", "subscribe", "byak and the research community", "mar 14"}
    assert not any(t.lower() in boilerplate for t in records["title"])
    assert not any(t.startswith("Subscribe") for t in records["title"])


def test_seed_glued_first_title(seeds_dir: Path) -> None:
    """The glued first title of 001 is split off exactly (checked against the
    file itself so that no seed text is copied here)."""
    records = thresher.ingest(seeds_dir / "001_d7f9e2e2d5a92d28.txt").records
    first = records.row(0, named=True)
    raw = (seeds_dir / "001_d7f9e2e2d5a92d28.txt").read_text(encoding="utf-8")
    glued_line = raw.splitlines()[2]
    assert glued_line == "Subscribe" + first["title"]
    assert first["offset"] == raw.encode().index(first["title"].encode())
    assert first["text"] == raw.splitlines()[3].strip()
    # Unicode survives byte-exact.
    assert any("\u00e9" in t for t in records["title"])


def test_seed_exact_duplicates_across_files(seeds_dir: Path) -> None:
    records = thresher.ingest(seeds_dir).records
    deduped = thresher.dedup(records)
    # Oracle: identical abstracts (after whitespace/case normalisation).
    norm = records["text"].map_elements(lambda t: " ".join(t.lower().split()), pl.String)
    first_row: dict[str, int] = {}
    expected_dups = {}
    for i, t in enumerate(norm):
        if t in first_row:
            expected_dups[i] = first_row[t]
        else:
            first_row[t] = i
    assert len(expected_dups) > 0
    sources = records["source"]
    assert any(sources[i] != sources[j] for i, j in expected_dups.items())
    for row, rep in expected_dups.items():
        got = deduped.row(row, named=True)
        assert got["is_duplicate"]
        assert got["similarity"] == 1.0
        assert got["exact_key"] == deduped["exact_key"][rep]
    kept = deduped.filter(~pl.col("is_duplicate")).height
    duplicates = deduped.filter(pl.col("is_duplicate")).height
    assert records.height == kept + duplicates
    # Against the records counted in the files themselves, not the output.
    assert kept + duplicates == sum(EXPECTED_COUNTS.values())
    # Distinct papers are not merged with each other.
    assert duplicates == len(expected_dups)


LISTING = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\nMar 14\n\n"
    "Quantum Widgets for Sparse Gardens\n\n"
    + "We study quantum widgets in sparse gardens. " * 20
    + "\n\nA Second Title About Ducks\n\n"
    + "Ducks are studied here with great care and many words. " * 15
    + "\n"
)


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_synthetic_listing_and_plain_text(tmp_path: Path) -> None:
    write(tmp_path / "a_listing.dat", LISTING)
    write(tmp_path / "b_note.md", "Just a note.\nWith two lines.\n")
    result = thresher.ingest(tmp_path)
    assert result.errors.height == 0
    r = result.records
    assert r["format"].to_list() == ["paper_listing", "paper_listing", "text"]
    assert r["title"].to_list()[:2] == [
        "Quantum Widgets for Sparse Gardens",
        "A Second Title About Ducks",
    ]
    assert r["title"][2] is None
    assert r["text"][2] == "Just a note.\nWith two lines."
    assert r["text"][0].startswith("We study quantum widgets") and r["text"][0].endswith("gardens.")


def test_format_can_be_forced(tmp_path: Path) -> None:
    write(tmp_path / "x.txt", LISTING)
    r = thresher.ingest(tmp_path, format="text").records
    assert r.height == 1 and r["format"][0] == "text"
    with pytest.raises(ValueError, match="unknown format"):
        thresher.ingest(tmp_path, format="csv")  # type: ignore[arg-type]


def test_unpaired_lines_are_reported_with_offsets(tmp_path: Path) -> None:
    orphan = "An orphan abstract without any title line. " * 12
    dump = LISTING + "\n" + orphan + "\n\nDangling Title With No Abstract\n"
    path = write(tmp_path / "d.txt", dump)
    result = thresher.ingest(path)
    assert result.records.height == 2
    errors = result.errors
    assert errors.height == 2
    raw = dump.encode()
    offsets = errors["offset"].to_list()
    assert raw[offsets[0] :].startswith(b"An orphan abstract")
    assert raw[offsets[1] :].startswith(b"Dangling Title")
    assert all(errors["reason"].str.len_chars() > 10)


def test_bad_input_loses_nothing(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.txt", b" \n\n\t\n")
    write(tmp_path / "binary.bin", bytes(range(256)) * 8)
    write(tmp_path / "junk.txt", b"\x01\x02\x03\x04\x05\x06" * 100)
    bad_utf8 = LISTING.replace("Ducks are", "Du\xffcks are", 1).encode("latin-1")
    write(tmp_path / "latin.txt", bad_utf8)
    write(tmp_path / "good.txt", LISTING)
    os.symlink(tmp_path / "does-not-exist.txt", tmp_path / "vanished.txt")
    result = thresher.ingest(tmp_path)
    reasons = dict(
        zip(
            [os.path.basename(s) for s in result.errors["source"]],
            result.errors["reason"],
            strict=True,
        )
    )
    assert "empty file" in reasons["empty.txt"]
    assert "empty file" in reasons["blank.txt"]
    assert "binary" in reasons["binary.bin"]
    assert "binary" in reasons["junk.txt"]
    assert "invalid UTF-8" in reasons["latin.txt"]
    assert "cannot open" in reasons["vanished.txt"]
    # Every good record still arrives: 2 from good.txt, 2 from latin.txt.
    r = result.records
    assert r.group_by("source").len().sort("source")["len"].to_list() == [2, 2]
    latin = r.filter(pl.col("source").str.ends_with("latin.txt"))
    assert "Du\ufffdcks are" in latin["text"][1]
    # The error offset points at the invalid byte in the file.
    err = result.errors.filter(pl.col("source").str.ends_with("latin.txt"))
    assert bad_utf8[err["offset"][0]] == 0xFF
    # Record offsets after the bad byte are still file byte offsets.
    assert bad_utf8[latin["offset"][1] :].startswith(b"A Second Title")


def test_read_dumps_warns_on_errors(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", LISTING)
    write(tmp_path / "empty.txt", b"")
    with pytest.warns(thresher.IngestWarning, match="empty file"):
        records = thresher.read_dumps(tmp_path)
    assert records.height == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert thresher.read_dumps(tmp_path / "good.txt").height == 2


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "good.txt", LISTING)
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    os.symlink(tmp_path / "self", tmp_path / "self")
    result = thresher.ingest(tmp_path)
    assert result.records.height == 2
    assert any("self" in s for s in result.errors["source"])


def test_ingest_is_deterministic(tmp_path: Path) -> None:
    for i in range(8):
        write(tmp_path / f"f{i}.txt", LISTING.replace("Ducks", f"Ducks {i}"))
    first = thresher.ingest(tmp_path).records
    second = thresher.ingest(sorted(tmp_path.iterdir(), reverse=True)).records
    assert first.equals(second)
