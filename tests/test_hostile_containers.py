"""Hostile containers (issue 14): zips with entries sharing a name or one
compressed body, nested zips that expand without bound, and an xz stream
whose dictionary is over the decoder's memory limit. Each input record is
read or reported; the limits hold for the whole input."""

from __future__ import annotations

import io
import lzma
import struct
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import thresher


def raw_zip(bodies: list[bytes], central: list[tuple[str, int]], *, deflate: bool = False) -> bytes:
    """A zip written by hand: ``bodies`` are entries (local headers named
    ``l{k}.txt``) in file order; ``central`` the central-directory entries as
    ``(name, index into bodies)``, so that several may point at one body."""
    method = 8 if deflate else 0
    out = bytearray()
    locals_ = []
    for k, body in enumerate(bodies):
        data = zlib.compress(body, 9)[2:-4] if deflate else body
        name = f"l{k}.txt".encode()
        crc = zlib.crc32(body)
        locals_.append((len(out), crc, len(data), len(body)))
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data),
            len(body), len(name), 0,
        )  # fmt: skip
        out += name + data
    cd_start = len(out)
    for name, k in central:
        offset, crc, size, usize = locals_[k]
        raw = name.encode()
        out += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, method, 0, 0x21, crc,
            size, usize, len(raw), 0, 0, 0, 0, 0o100644 << 16, offset,
        )  # fmt: skip
        out += raw
    cd_len = len(out) - cd_start
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), cd_len, cd_start, 0
    )
    return bytes(out)


def test_zip_entries_sharing_a_name_are_all_read(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.txt", "first copy")
            zf.writestr("b.txt", "other")
            zf.writestr("a.txt", "second copy")
    infos = zipfile.ZipFile(buf).infolist()
    assert [i.filename for i in infos] == ["a.txt", "b.txt", "a.txt"]
    (tmp_path / "dup.zip").write_bytes(buf.getvalue())
    result = thresher.ingest(tmp_path)
    assert result.errors.height == 0, result.errors
    assert list(zip(result.records["member"], result.records["text"], strict=True)) == [
        ("a.txt", "first copy"),
        ("b.txt", "other"),
        (f"a.txt@{infos[2].header_offset}", "second copy"),
    ]


def test_overlapping_zip_entries_are_read_once(tmp_path: Path) -> None:
    # 100 central-directory entries, one deflated body of 1 MiB of text: a
    # few KiB that read as 100 MiB.
    body = b"the same sentence over and over again.\n" * (1 << 20 // 39)
    central = [(f"e{i:03}.txt", 0) for i in range(100)]
    data = raw_zip([body], central, deflate=True)
    assert len(data) < 16 << 10
    (tmp_path / "overlap.zip").write_bytes(data)
    result = thresher.ingest(tmp_path, text_unit="file")
    assert result.records["member"].to_list() == ["e000.txt"]
    errors = result.errors
    assert errors["member"].to_list() == [f"e{i:03}.txt" for i in range(1, 100)]
    assert set(errors["kind"]) == {"corrupt"}
    assert all('overlaps zip entry "e000.txt"' in r for r in errors["reason"])


def zero_tar(size: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return buf.getvalue()


def zip_of_copies(stem: str, data: bytes, copies: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(copies):
            zf.writestr(f"{stem}{i}", data)
    return buf.getvalue()


def test_nested_zips_share_one_expansion_ratio(tmp_path: Path) -> None:
    # 8 zips of 8 tars of 6 MiB zeros: each inner zip (48 MiB) is under the
    # 64 MiB its own ratio allows, the whole (384 MiB) is not.
    inner = zip_of_copies("t", zero_tar(6 << 20), 8)
    outer = zip_of_copies("b", inner, 8)
    assert len(outer) < 64 << 10
    (tmp_path / "nested.zip").write_bytes(outer)
    result = thresher.ingest(tmp_path)
    assert result.records.height == 0
    errors = result.errors
    limits = errors.filter(errors["kind"] == "limit")
    assert limits.height >= 1
    assert all("max_ratio (200:1)" in r for r in limits["reason"])
    assert all("all nesting levels" in r for r in limits["reason"])
    # Read up to the limit (64 MiB), not 384 MiB: at most 12 tars of 6 MiB.
    assert (errors["kind"] == "binary").sum() <= 12


def xz_with_dictionary_code(data: bytes, code: int) -> bytes:
    """An xz stream whose LZMA2 dictionary size byte is ``code`` (36 is
    1 GiB), its block header's CRC32 fixed."""
    raw = bytearray(lzma.compress(data, format=lzma.FORMAT_XZ))
    start = 12
    header_len = (raw[start] + 1) * 4
    assert raw[start + 2 : start + 4] == b"\x21\x01"
    raw[start + 4] = code
    crc_at = start + header_len - 4
    raw[crc_at : crc_at + 4] = struct.pack("<I", zlib.crc32(raw[start:crc_at]))
    return bytes(raw)


def test_xz_over_the_decoder_memory_limit_is_a_limit_row(tmp_path: Path) -> None:
    (tmp_path / "a.xz").write_bytes(xz_with_dictionary_code(b"small dictionary", 20))
    (tmp_path / "b.xz").write_bytes(xz_with_dictionary_code(b"1 GiB dictionary", 36))
    result = thresher.ingest(tmp_path)
    assert result.records["text"].to_list() == ["small dictionary"]
    errors = result.errors
    assert errors["kind"].to_list() == ["limit", "empty"]
    assert "memory limit (268435456 bytes)" in errors["reason"][0]
