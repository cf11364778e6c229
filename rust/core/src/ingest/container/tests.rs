//! Tests of the containers: every codec, tar and zip, nesting, damaged
//! archives and the safety limits.

use std::io::{Cursor, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use tar::EntryType;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive};

use crate::ingest::bounded::{ByteBudget, ReadContext};
use crate::ingest::collect::collected;
use crate::ingest::location::Location;
use crate::ingest::member::{self, read_file};
use crate::ingest::options::Limits;
use crate::ingest::record::ErrorKind;
use crate::ingest::sniff::Codec;
use crate::ingest::{ingest_bytes, Format, IngestError, IngestOptions, Ingested, Record, Sink};

const CODECS: [Codec; 4] = [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz];

fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Gzip => {
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Codec::Zstd => zstd::stream::encode_all(data, 3).unwrap(),
        Codec::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Codec::Xz => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    compress(Codec::Gzip, data)
}

/// A tar of `(type, name, data)` entries; names are written raw (no
/// checks), and a link's data is its target.
fn tar_of(entries: &[(EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for &(kind, name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(kind);
        header.set_mode(0o644);
        let body = if matches!(kind, EntryType::Symlink | EntryType::Link) {
            header.as_old_mut().linkname[..data.len()].copy_from_slice(data);
            &[][..]
        } else {
            data
        };
        header.set_size(body.len() as u64);
        header.set_cksum();
        builder.append(&header, body).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A tar of regular files.
fn tar_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<_> = files
        .iter()
        .map(|&(name, data)| (EntryType::Regular, name, data))
        .collect();
    tar_of(&entries)
}

/// A zip of `(name, data, method)` entries; a name ending in `/` is a directory.
fn zip_of(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for &(name, data, method) in entries {
        let options = SimpleFileOptions::default().compression_method(method);
        if name.ends_with('/') {
            writer.add_directory(name, options).unwrap();
        } else {
            writer.start_file(name, options).unwrap();
            writer.write_all(data).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<_> = files
        .iter()
        .map(|&(name, data)| (name, data, CompressionMethod::Deflated))
        .collect();
    zip_of(&entries)
}

/// Reads a file on disk as `scan` does.
fn read_path(path: &Path, options: &IngestOptions) -> Ingested {
    collected(options, |cx| read_file(path, cx))
}

/// (member, offset, text) of every record.
fn records(out: &Ingested) -> Vec<(Option<&str>, u64, &str)> {
    out.records
        .iter()
        .map(|r| (r.member.as_deref(), r.offset, r.text.as_str()))
        .collect()
}

/// (member, offset, kind) of every error row.
fn errors(out: &Ingested) -> Vec<(Option<&str>, u64, ErrorKind)> {
    out.errors
        .iter()
        .map(|e| (e.member.as_deref(), e.offset, e.kind))
        .collect()
}

fn reason(out: &Ingested, index: usize) -> &str {
    &out.errors[index].reason
}

fn options_with(change: impl FnOnce(&mut Limits)) -> IngestOptions {
    let mut options = IngestOptions::default();
    change(&mut options.limits);
    options
}

#[test]
fn each_codec_round_trips_a_text_member() {
    for codec in CODECS {
        let bytes = compress(codec, b"\n  Hello, compressed world.\n");
        let out = ingest_bytes("doc.txt.z", &bytes, &IngestOptions::default());
        assert_eq!(errors(&out), vec![], "{codec:?}");
        assert_eq!(out.records.len(), 1, "{codec:?}");
        let record = &out.records[0];
        assert_eq!(record.source, "doc.txt.z");
        assert_eq!(record.member, None);
        assert_eq!(record.offset, 3);
        assert_eq!(record.format, Format::PlainText);
        assert_eq!(record.text, "Hello, compressed world.");
    }
}

#[test]
fn concatenated_streams_are_read_as_one() {
    for codec in CODECS {
        let mut bytes = compress(codec, b"first half, ");
        bytes.extend(compress(codec, b"second half."));
        let out = ingest_bytes("two.z", &bytes, &IngestOptions::default());
        assert_eq!(errors(&out), vec![], "{codec:?}");
        assert_eq!(
            records(&out),
            vec![(None, 0, "first half, second half.")],
            "{codec:?}"
        );
    }
}

#[test]
fn garbage_after_a_gzip_member_is_reported_and_ignored() {
    let member = gzip(b"kept text");
    let mut bytes = member.clone();
    bytes.extend_from_slice(b"this is not gzip");
    let out = ingest_bytes("tail.gz", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![(None, 0, "kept text")]);
    assert_eq!(errors(&out), vec![(None, 9, ErrorKind::Corrupt)]);
    let at = format!("compressed byte {}", member.len());
    assert!(reason(&out, 0).contains(&at), "{}", reason(&out, 0));
}

/// Text that does not compress to almost nothing.
fn varied_text(words: usize) -> Vec<u8> {
    (0..words)
        .map(|i| format!("word{} ", i * 7919 % 10007))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn truncated_streams_are_one_corrupt_row() {
    let text = varied_text(3000);
    for codec in CODECS {
        let bytes = compress(codec, &text);
        for cut in [bytes.len() / 2, bytes.len() - 1, 7] {
            let out = ingest_bytes("cut.z", &bytes[..cut], &IngestOptions::default());
            assert_eq!(records(&out), vec![], "{codec:?} cut at {cut}");
            assert_eq!(
                errors(&out),
                vec![(None, 0, ErrorKind::Corrupt), (None, 0, ErrorKind::Empty)],
                "{codec:?} cut at {cut}: {:?}",
                out.errors
            );
        }
    }
}

#[test]
fn corrupt_gzip_body_is_one_corrupt_row() {
    let mut bytes = gzip(b"some text that will not survive");
    for b in &mut bytes[10..20] {
        *b = 0xff;
    }
    let out = ingest_bytes("bad.gz", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Corrupt), (None, 0, ErrorKind::Empty)]
    );
    assert!(reason(&out, 0).starts_with("corrupt or truncated data"));
}

#[test]
fn tar_members_in_archive_order() {
    let bytes = tar_of(&[
        (EntryType::Regular, "a.txt", b"alpha"),
        (EntryType::Directory, "dir/", b""),
        (EntryType::Regular, "dir/b.txt", b"  beta"),
        (EntryType::Regular, "c.txt", b"gamma\n"),
    ]);
    let out = ingest_bytes("bundle.tar", &bytes, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![
            (Some("a.txt"), 0, "alpha"),
            (Some("dir/b.txt"), 2, "beta"),
            (Some("c.txt"), 0, "gamma"),
        ]
    );
    assert!(out.records.iter().all(|r| r.source == "bundle.tar"));
}

#[test]
fn compressed_tars() {
    let tar = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
    for codec in CODECS {
        let out = ingest_bytes(
            "bundle.tar.z",
            &compress(codec, &tar),
            &IngestOptions::default(),
        );
        assert_eq!(errors(&out), vec![], "{codec:?}");
        assert_eq!(
            records(&out),
            vec![(Some("a.txt"), 0, "alpha"), (Some("b.txt"), 0, "beta")],
            "{codec:?}"
        );
    }
}

#[test]
fn zip_on_disk_is_read_in_central_directory_order() {
    let bytes = zip_of(&[
        ("a.txt", b"alpha", CompressionMethod::Deflated),
        ("sub/", b"", CompressionMethod::Stored),
        ("sub/b.txt", b" beta", CompressionMethod::Stored),
        ("c.txt", b"gamma", CompressionMethod::Bzip2),
        ("d.txt", b"delta", CompressionMethod::Zstd),
    ]);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    let out = read_path(file.path(), &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![
            (Some("a.txt"), 0, "alpha"),
            (Some("sub/b.txt"), 1, "beta"),
            (Some("c.txt"), 0, "gamma"),
            (Some("d.txt"), 0, "delta"),
        ]
    );
    let source = file.path().to_string_lossy();
    assert!(out.records.iter().all(|r| r.source == source));
    // The same archive as a stream member reads the same.
    let streamed = ingest_bytes("x.zip", &bytes, &IngestOptions::default());
    assert_eq!(records(&streamed), records(&out));
}

#[test]
fn zip_in_tar_and_tar_in_zip() {
    let zip = zip_files(&[("z1.txt", b"zip one"), ("z2.txt", b"zip two")]);
    let tar = tar_files(&[("before.txt", b"before"), ("inner.zip", &zip)]);
    let out = ingest_bytes("outer.tar", &tar, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![
            (Some("before.txt"), 0, "before"),
            (Some("inner.zip!/z1.txt"), 0, "zip one"),
            (Some("inner.zip!/z2.txt"), 0, "zip two"),
        ]
    );

    let tar = tar_files(&[("t1.txt", b"tar one")]);
    let zip = zip_files(&[("inner.tar", &tar), ("after.txt", b"after")]);
    let out = ingest_bytes("outer.zip", &zip, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![
            (Some("inner.tar!/t1.txt"), 0, "tar one"),
            (Some("after.txt"), 0, "after"),
        ]
    );
}

#[test]
fn four_levels_of_nesting() {
    let inner = gzip(&tar_files(&[("doc.txt", b"deep document")]));
    let outer = zip_files(&[("inner.tar.gz", &inner)]);
    let bundle = tar_files(&[("outer.zip", &outer)]);
    let out = ingest_bytes("bundle.tar", &bundle, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![(Some("outer.zip!/inner.tar.gz!/doc.txt"), 0, "deep document")]
    );
    assert_eq!(out.records[0].source, "bundle.tar");
}

#[test]
fn corrupt_tar_header_keeps_earlier_members() {
    let mut bytes = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")]);
    // b's header follows a's header and a's one data block.
    bytes[1024] ^= 0x20;
    let out = ingest_bytes("bad.tar", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(errors(&out), vec![(None, 1024, ErrorKind::Corrupt)]);
    assert!(reason(&out, 0).contains("checksum"), "{}", reason(&out, 0));
}

#[test]
fn truncated_tar_member_is_reported_once() {
    let long = varied_text(500);
    let bytes = tar_files(&[("a.txt", b"alpha"), ("b.txt", &long), ("c.txt", b"gamma")]);
    let cut = 1024 + 512 + long.len() / 2;
    let out = ingest_bytes("cut.tar", &bytes[..cut], &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("b.txt"), 0, ErrorKind::Corrupt),
            (Some("b.txt"), 0, ErrorKind::Empty)
        ]
    );
    assert!(reason(&out, 0).contains("cut short"), "{}", reason(&out, 0));

    // Truncated inside gzip: the gzip error is reported once, by the member.
    let gz = gzip(&bytes);
    let out = ingest_bytes("cut.tar.gz", &gz[..gz.len() / 2], &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("b.txt"), 0, ErrorKind::Corrupt),
            (Some("b.txt"), 0, ErrorKind::Empty)
        ],
        "{:?}",
        out.errors
    );
}

#[test]
fn error_after_a_complete_tar_is_still_reported() {
    let tar = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
    let gz = gzip(&tar);
    // Without its trailer (CRC and size) the gzip stream is truncated, but
    // the tar inside is whole: its members arrive, then the error.
    let out = ingest_bytes("cut.tar.gz", &gz[..gz.len() - 8], &IngestOptions::default());
    assert_eq!(
        records(&out),
        vec![(Some("a.txt"), 0, "alpha"), (Some("b.txt"), 0, "beta")]
    );
    assert_eq!(
        errors(&out),
        vec![(None, tar.len() as u64, ErrorKind::Corrupt)]
    );
}

/// Where each entry's data starts in a zip.
fn zip_data_starts(bytes: &[u8]) -> Vec<u64> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().data_start().unwrap())
        .collect()
}

#[test]
fn corrupt_zip_member_leaves_the_others() {
    for method in [CompressionMethod::Deflated, CompressionMethod::Stored] {
        let files: [(&str, &[u8], CompressionMethod); 3] = [
            ("a.txt", b"alpha alpha alpha", method),
            ("b.txt", b"beta beta beta", method),
            ("c.txt", b"gamma gamma gamma", method),
        ];
        let mut bytes = zip_of(&files);
        let start = zip_data_starts(&bytes)[1] as usize;
        // Deflate: an invalid block type; stored: a changed letter (bad CRC).
        bytes[start] = if method == CompressionMethod::Stored {
            b'B'
        } else {
            0xff
        };
        let out = ingest_bytes("bad.zip", &bytes, &IngestOptions::default());
        assert_eq!(
            records(&out),
            vec![
                (Some("a.txt"), 0, "alpha alpha alpha"),
                (Some("c.txt"), 0, "gamma gamma gamma"),
            ],
            "{method:?}"
        );
        assert_eq!(
            errors(&out),
            vec![
                (Some("b.txt"), 0, ErrorKind::Corrupt),
                (Some("b.txt"), 0, ErrorKind::Empty)
            ],
            "{method:?}: {:?}",
            out.errors
        );
    }
}

#[test]
fn encrypted_zip_entry_is_unsupported() {
    let mut bytes = zip_files(&[("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")]);
    // Set the "encrypted" flag of b in its local and central headers.
    let archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let local = archive.by_index_data(1).unwrap().header_start() as usize;
    let central = archive.by_index_data(1).unwrap().central_header_start() as usize;
    drop(archive);
    bytes[local + 6] |= 1;
    bytes[central + 8] |= 1;
    let out = ingest_bytes("locked.zip", &bytes, &IngestOptions::default());
    assert_eq!(
        records(&out),
        vec![(Some("a.txt"), 0, "alpha"), (Some("c.txt"), 0, "gamma")]
    );
    assert_eq!(
        errors(&out),
        vec![(Some("b.txt"), 0, ErrorKind::Unsupported)]
    );
    assert!(reason(&out, 0).contains("encrypted"));
}

#[test]
fn tar_links_and_devices_are_unsupported() {
    let bytes = tar_of(&[
        (EntryType::Regular, "a.txt", b"alpha"),
        (EntryType::Symlink, "soft", b"a.txt"),
        (EntryType::Link, "hard", b"a.txt"),
        (EntryType::Fifo, "pipe", b""),
        (EntryType::Regular, "z.txt", b"omega"),
    ]);
    let out = ingest_bytes("links.tar", &bytes, &IngestOptions::default());
    assert_eq!(
        records(&out),
        vec![(Some("a.txt"), 0, "alpha"), (Some("z.txt"), 0, "omega")]
    );
    assert_eq!(
        errors(&out),
        vec![
            (Some("soft"), 0, ErrorKind::Unsupported),
            (Some("hard"), 0, ErrorKind::Unsupported),
            (Some("pipe"), 0, ErrorKind::Unsupported),
        ]
    );
    assert!(reason(&out, 0).contains("symbolic link to \"a.txt\""));
    assert!(reason(&out, 1).contains("hard link"));
}

#[test]
fn hostile_names_are_reported_verbatim() {
    let bytes = tar_files(&[
        ("../../etc/passwd", b"not a password"),
        ("/abs/path", b"absolute"),
    ]);
    let out = ingest_bytes("evil.tar", &bytes, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![
            (Some("../../etc/passwd"), 0, "not a password"),
            (Some("/abs/path"), 0, "absolute"),
        ]
    );
    let bytes = zip_files(&[("../up.txt", b"up"), ("/root.txt", b"root")]);
    let out = ingest_bytes("evil.zip", &bytes, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(
        records(&out),
        vec![(Some("../up.txt"), 0, "up"), (Some("/root.txt"), 0, "root")]
    );
}

#[test]
fn empty_containers_are_one_empty_row() {
    let empty_row = vec![(None, 0, ErrorKind::Empty)];
    let only_dir = tar_of(&[(EntryType::Directory, "dir/", b"")]);
    let out = ingest_bytes("dirs.tar", &only_dir, &IngestOptions::default());
    assert_eq!(errors(&out), empty_row);
    assert_eq!(reason(&out, 0), "empty archive: no members");

    let empty_zip = zip_of(&[]);
    let out = ingest_bytes("empty.zip", &empty_zip, &IngestOptions::default());
    assert_eq!(errors(&out), empty_row);
    assert_eq!(reason(&out, 0), "empty archive: no members");

    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&empty_zip).unwrap();
    let out = read_path(file.path(), &IngestOptions::default());
    assert_eq!(errors(&out), empty_row);
    assert_eq!(reason(&out, 0), "empty archive: no members");

    for codec in CODECS {
        let out = ingest_bytes("empty.z", &compress(codec, b""), &IngestOptions::default());
        assert_eq!(errors(&out), empty_row, "{codec:?}");
        assert_eq!(reason(&out, 0), "empty file: no data");
    }
}

/// A tar whose one member `zeros.bin` holds `size` zero bytes, written
/// through `out` in chunks (the whole never sits in memory).
fn write_zero_tar(out: &mut impl Write, size: u64) {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..9].copy_from_slice(b"zeros.bin");
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    out.write_all(header.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size / chunk.len() as u64 {
        out.write_all(&chunk).unwrap();
    }
    out.write_all(&[0u8; 1024]).unwrap();
}

const BOMB_BYTES: u64 = 80 << 20;

#[test]
fn gzip_bomb_stops_at_the_ratio_limit() {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    write_zero_tar(&mut encoder, BOMB_BYTES);
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let out = ingest_bytes("bomb.tar.gz", &bomb, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    // The member is binary (sniffed from its start); skipping the rest of
    // it trips the ratio once 64 MiB came out.
    assert_eq!(
        errors(&out),
        vec![
            (Some("zeros.bin"), 0, ErrorKind::Binary),
            (Some("zeros.bin"), 0, ErrorKind::Empty),
            (None, 512 + BOMB_BYTES, ErrorKind::Limit),
        ]
    );
    assert!(reason(&out, 2).contains("gzip stream expands more than max_ratio (200:1)"));
}

#[test]
fn zip_bomb_stops_at_the_ratio_limit() {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("inner.tar", SimpleFileOptions::default())
        .unwrap();
    write_zero_tar(&mut writer, BOMB_BYTES);
    writer
        .start_file("after.txt", SimpleFileOptions::default())
        .unwrap();
    writer.write_all(b"never read").unwrap();
    let bomb = writer.finish().unwrap().into_inner();
    let out = ingest_bytes("bomb.zip", &bomb, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("inner.tar!/zeros.bin"), 0, ErrorKind::Binary),
            (Some("inner.tar!/zeros.bin"), 0, ErrorKind::Empty),
            (Some("inner.tar"), 512 + BOMB_BYTES, ErrorKind::Limit),
        ]
    );
    assert!(reason(&out, 2).contains("zip archive expands more than max_ratio"));
}

#[test]
fn member_limit() {
    let options = options_with(|l| l.max_member_bytes = 4096);
    let out = ingest_bytes("big.gz", &gzip(&varied_text(2000)), &options);
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Limit), (None, 0, ErrorKind::Empty)]
    );
    assert!(reason(&out, 0)
        .contains("decompressed gzip stream larger than max_member_bytes (4096 bytes)"));

    // In a plain tar, only the big member is skipped.
    let big = varied_text(1000);
    let tar = tar_files(&[("big.txt", &big), ("small.txt", b"small")]);
    let out = ingest_bytes("mixed.tar", &tar, &options);
    assert_eq!(records(&out), vec![(Some("small.txt"), 0, "small")]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("big.txt"), 0, ErrorKind::Limit),
            (Some("big.txt"), 0, ErrorKind::Empty)
        ]
    );
    assert!(reason(&out, 0).contains("tar member larger than max_member_bytes (4096 bytes)"));
}

#[test]
fn input_limit_spans_members() {
    let options = options_with(|l| l.max_input_bytes = 10_000);
    let first = varied_text(700);
    let second = varied_text(800);
    assert!(first.len() > 5000 && second.len() > 5000);
    let tar_gz = gzip(&tar_files(&[("a.txt", &first), ("b.txt", &second)]));
    let zip = zip_files(&[("a.txt", &first), ("b.txt", &second), ("c.txt", b"c")]);
    for (name, bytes) in [("two.tar.gz", tar_gz), ("two.zip", zip)] {
        let out = ingest_bytes(name, &bytes, &options);
        assert_eq!(records(&out).len(), 1, "{name}");
        assert_eq!(out.records[0].member.as_deref(), Some("a.txt"));
        assert_eq!(
            errors(&out),
            vec![
                (Some("b.txt"), 0, ErrorKind::Limit),
                (Some("b.txt"), 0, ErrorKind::Empty)
            ],
            "{name}"
        );
        assert!(
            reason(&out, 0).contains("max_input_bytes (10000 bytes)"),
            "{name}"
        );
    }
}

#[test]
fn nesting_is_bounded_by_max_depth() {
    let mut bytes = b"deep text".to_vec();
    for _ in 0..20 {
        bytes = gzip(&bytes);
    }
    let out = ingest_bytes("deep.gz", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Limit), (None, 0, ErrorKind::Empty)]
    );
    assert!(reason(&out, 0).contains("max_depth (8)"));

    let options = options_with(|l| l.max_depth = 3);
    let mut bytes = b"deep text".to_vec();
    for _ in 0..3 {
        bytes = gzip(&bytes);
    }
    let out = ingest_bytes("three.gz", &bytes, &options);
    assert_eq!(records(&out), vec![(None, 0, "deep text")]);
    let out = ingest_bytes("four.gz", &gzip(&bytes), &options);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Limit), (None, 0, ErrorKind::Empty)]
    );

    // Archives count too: tar (1) > zip (2) > tar (3) > zip (4).
    let zip = zip_files(&[("doc.txt", b"doc")]);
    let tar = tar_files(&[("z.zip", &zip)]);
    let zip = zip_files(&[("t.tar", &tar)]);
    let tar = tar_files(&[("z.zip", &zip)]);
    let out = ingest_bytes("nest.tar", &tar, &options);
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("z.zip!/t.tar!/z.zip"), 0, ErrorKind::Limit),
            (Some("z.zip!/t.tar!/z.zip"), 0, ErrorKind::Empty)
        ]
    );
}

#[test]
fn long_tar_headers_are_limited() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    let name = "n".repeat(2 << 20);
    builder
        .append_data(&mut header, &name, &b"data"[..])
        .unwrap();
    let bytes = builder.into_inner().unwrap();
    let out = ingest_bytes("long.tar", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Limit), (None, 0, ErrorKind::Empty)]
    );
    assert!(reason(&out, 0).contains("tar entry headers"));
}

#[test]
fn zip_without_central_directory_is_read_from_local_headers() {
    let bytes = zip_files(&[("a.txt", b"alpha"), ("b.txt", &varied_text(300))]);
    let cd = ZipArchive::new(Cursor::new(&bytes))
        .unwrap()
        .central_directory_start() as usize;
    let out = ingest_bytes("cut.zip", &bytes[..cd + 10], &IngestOptions::default());
    assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
    assert!(reason(&out, 0).contains("local headers instead"));
    assert_eq!(
        out.records
            .iter()
            .map(|r| r.member.as_deref())
            .collect::<Vec<_>>(),
        vec![Some("a.txt"), Some("b.txt")]
    );

    // Cut inside b's data: a is read, b is corrupt.
    let b_start = zip_data_starts(&bytes)[1] as usize;
    let out = ingest_bytes("cut.zip", &bytes[..b_start + 20], &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(
        errors(&out),
        vec![
            (None, 0, ErrorKind::Corrupt),
            (Some("b.txt"), 0, ErrorKind::Corrupt),
            (Some("b.txt"), 0, ErrorKind::Empty)
        ]
    );

    // Nothing readable at all.
    let out = ingest_bytes(
        "junk.zip",
        b"PK\x03\x04 not really a zip",
        &IngestOptions::default(),
    );
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Corrupt), (None, 0, ErrorKind::Empty)]
    );
    assert!(reason(&out, 0).starts_with("not a readable zip archive"));
}

/// Found by fuzzing: a stored zip inside a stored zip, the outer one cut
/// inside its central directory, was read as the inner zip (the zip
/// crate took the inner end record and the outer local header for
/// prepended junk): members at the wrong path and no error row.
#[test]
fn cut_zip_holding_a_stored_zip_is_not_taken_for_the_inner_one() {
    let inner = zip_of(&[("s.txt", b"inner text", CompressionMethod::Stored)]);
    let outer = zip_of(&[("m.zip", &inner, CompressionMethod::Stored)]);
    for cut in [outer.len() - 10, outer.len() - 30] {
        let out = ingest_bytes("cut.zip", &outer[..cut], &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("m.zip!/s.txt"), 0, "inner text")]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)], "{out:?}");
        assert!(reason(&out, 0).contains("local headers instead"));
    }
}

/// Data after a zip's end record (another archive appended, junk) was
/// dropped without a word; now the archive is read from its local
/// headers and the damage is reported.
#[test]
fn zip_followed_by_other_data_is_reported() {
    let mut bytes = zip_files(&[("a.txt", b"alpha")]);
    bytes.extend_from_slice(&zip_files(&[("b.txt", b"beta")]));
    let out = ingest_bytes("two.zip", &bytes, &IngestOptions::default());
    // The local headers stop at the first archive's central directory.
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
    assert!(
        reason(&out, 0).contains("does not point to a readable central directory"),
        "{out:?}"
    );

    // Junk after the end record.
    let mut junk = zip_files(&[("a.txt", b"alpha")]);
    junk.extend_from_slice(b"trailing junk");
    let out = ingest_bytes("junk.zip", &junk, &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
    assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
    assert!(reason(&out, 0).contains("no end of central directory record at the end"));

    // A comment that reaches the end is the end record's own: fine.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer.set_comment("a comment".to_owned()).unwrap();
    writer
        .start_file("c.txt", SimpleFileOptions::default())
        .unwrap();
    writer.write_all(b"gamma").unwrap();
    let commented = writer.finish().unwrap().into_inner();
    let out = ingest_bytes("c.zip", &commented, &IngestOptions::default());
    assert_eq!(records(&out), vec![(Some("c.txt"), 0, "gamma")]);
    assert_eq!(errors(&out), vec![]);
}

#[test]
fn zip_member_too_big_to_buffer() {
    let zip = zip_files(&[("a.txt", &varied_text(2000))]);
    let tar = tar_files(&[("z.zip", &zip), ("after.txt", b"after")]);
    let options = options_with(|l| l.max_buffered_bytes = 1000);
    let out = ingest_bytes("t.tar", &tar, &options);
    assert_eq!(records(&out), vec![(Some("after.txt"), 0, "after")]);
    assert_eq!(
        errors(&out),
        vec![
            (Some("z.zip"), 0, ErrorKind::Limit),
            (Some("z.zip"), 0, ErrorKind::Empty)
        ]
    );
    assert!(reason(&out, 0).contains("max_buffered_bytes (1000 bytes)"));
}

/// A sink that stops after its first record.
#[derive(Default)]
struct FirstOnly(Ingested);

impl Sink for FirstOnly {
    fn record(&mut self, record: Record) {
        self.0.records.push(record);
    }
    fn error(&mut self, error: IngestError) {
        self.0.errors.push(error);
    }
    fn skipped(&mut self, key: &str) {
        self.0.skipped(key);
    }
    fn is_stopped(&self) -> bool {
        !self.0.records.is_empty()
    }
}

#[test]
fn a_stopped_sink_ends_the_archive() {
    let files: [(&str, &[u8]); 3] = [("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")];
    for bytes in [tar_files(&files), zip_files(&files)] {
        let options = IngestOptions::default();
        let budget = ByteBudget::new(options.limits.max_input_bytes);
        let mut sink = FirstOnly::default();
        let mut cx = ReadContext {
            options: &options,
            sink: &mut sink,
            input_budget: &budget,
        };
        member::read_member(&mut &bytes[..], &Location::file("x"), 0, &mut cx);
        assert_eq!(records(&sink.0), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&sink.0), vec![]);
    }
}

/// An xz stream of `data` whose LZMA2 dictionary size is rewritten to
/// `2^(code / 2 + 12)`-ish (the props byte of its one block header, whose
/// CRC32 is fixed), as `xz --lzma2=dict=1GiB` would write it.
fn xz_with_dictionary_code(data: &[u8], code: u8) -> Vec<u8> {
    let mut bytes = compress(Codec::Xz, data);
    // Stream header (12 bytes), then the block header: its size byte, flags,
    // then the LZMA2 filter flags (id 0x21, props size 1, props byte).
    let start = 12;
    let header_len = (usize::from(bytes[start]) + 1) * 4;
    assert_eq!(&bytes[start + 2..start + 4], &[0x21, 0x01]);
    bytes[start + 4] = code;
    let crc_at = start + header_len - 4;
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[start..crc_at]);
    bytes[crc_at..crc_at + 4].copy_from_slice(&crc.sum().to_le_bytes());
    bytes
}

/// Found by the hostile-input review: a valid xz stream whose dictionary
/// (1 GiB) is over the decoder's memory limit was a `corrupt` row.
#[test]
fn xz_over_the_decoder_memory_limit_is_a_limit_row() {
    let small = xz_with_dictionary_code(b"fits in memory", 20);
    let out = ingest_bytes("small.xz", &small, &IngestOptions::default());
    assert_eq!(records(&out), vec![(None, 0, "fits in memory")]);

    let bytes = xz_with_dictionary_code(b"needs a 1 GiB dictionary", 36);
    let out = ingest_bytes("big-dict.xz", &bytes, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![(None, 0, ErrorKind::Limit), (None, 0, ErrorKind::Empty)]
    );
    assert!(
        reason(&out, 0).contains("memory limit (268435456 bytes)"),
        "{}",
        reason(&out, 0)
    );
}

/// A zip of `copies` deflated entries `{stem}{i}.{ext}`, each holding `data`.
fn zip_of_copies(stem: &str, ext: &str, data: &[u8], copies: usize) -> Vec<u8> {
    let names: Vec<String> = (0..copies).map(|i| format!("{stem}{i}.{ext}")).collect();
    let entries: Vec<_> = names
        .iter()
        .map(|name| (name.as_str(), data, CompressionMethod::Deflated))
        .collect();
    zip_of(&entries)
}

/// Found by the hostile-input review (42.zip style): every inner archive
/// had its own expansion allowance (64 MiB before its ratio is checked),
/// so nested archives, each harmless alone, expanded without limit. Now
/// the ratio also holds for the whole input, all levels together.
#[test]
fn nested_zip_bomb_stops_at_the_input_ratio_limit() {
    let mut tar = Vec::new();
    write_zero_tar(&mut tar, 6 << 20);
    // Each inner zip gives 8 x 6 MiB = 48 MiB: under the 64 MiB grace of its
    // own ratio. The outer one holds 8 of them: 384 MiB from a few KiB.
    let inner = zip_of_copies("t", "tar", &tar, 8);
    let outer = zip_of_copies("b", "zip", &inner, 8);
    assert!(outer.len() < 64 << 10, "{}", outer.len());
    let out = ingest_bytes("nested.zip", &outer, &IngestOptions::default());
    assert_eq!(records(&out), vec![]);
    let limits: Vec<_> = out
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::Limit)
        .collect();
    assert!(!limits.is_empty(), "no limit row: {:?}", errors(&out));
    assert!(
        limits[0].reason.contains("max_ratio (200:1)")
            && limits[0].reason.contains("all nesting levels"),
        "{}",
        limits[0].reason
    );
    // Read up to the limit (64 MiB, past 200 x the input), not 384 MiB.
    let binary = errors(&out)
        .iter()
        .filter(|e| e.2 == ErrorKind::Binary)
        .count();
    assert!(
        binary <= 12,
        "{binary} tar members read: {:?}",
        errors(&out)
    );
    // The inner zip stops at the limit, then the outer one at its next
    // member (its reader hits the same spent allowance): the rest of the
    // input is not read.
    // b2.zip gives no record, and no member inside it has an `empty` row:
    // it has one of its own.
    let last = &out.errors[out.errors.len() - 3..];
    assert_eq!(
        last.iter()
            .map(|e| (e.member.as_deref(), e.kind))
            .collect::<Vec<_>>(),
        vec![
            (limits[0].member.as_deref(), ErrorKind::Limit),
            (Some("b2.zip"), ErrorKind::Limit),
            (Some("b2.zip"), ErrorKind::Empty)
        ],
        "{:?}",
        errors(&out)
    );
    assert!(last[1].reason.contains("all nesting levels"));

    // The same on disk (read in place, the file's size known from its
    // metadata).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.zip");
    std::fs::write(&path, &outer).unwrap();
    let on_disk = read_path(&path, &IngestOptions::default());
    assert_eq!(errors(&on_disk), errors(&out));
}

/// A zip written by hand, for what zip writers refuse to write: `locals`
/// are the stored `(name, data)` entries in file order, `central` the
/// central-directory entries as `(name, index into locals)`, so that
/// several entries may share a name or point at one local header.
fn raw_zip(locals: &[(&str, &[u8])], central: &[(&str, usize)]) -> Vec<u8> {
    let crc = |data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        crc.sum()
    };
    let u16_le = |n: usize| u16::try_from(n).unwrap().to_le_bytes();
    let u32_le = |n: usize| u32::try_from(n).unwrap().to_le_bytes();
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for &(name, data) in locals {
        offsets.push(out.len());
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00");
        out.extend_from_slice(&crc(data).to_le_bytes());
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u16_le(name.len()));
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
    }
    let cd_start = out.len();
    for &(name, local) in central {
        let data = locals[local].1;
        out.extend_from_slice(b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00");
        out.extend_from_slice(&crc(data).to_le_bytes());
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u16_le(name.len()));
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&0o100_644u32.wrapping_shl(16).to_le_bytes());
        out.extend_from_slice(&u32_le(offsets[local]));
        out.extend_from_slice(name.as_bytes());
    }
    let cd_len = out.len() - cd_start;
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&u16_le(central.len()));
    out.extend_from_slice(&u16_le(central.len()));
    out.extend_from_slice(&u32_le(cd_len));
    out.extend_from_slice(&u32_le(cd_start));
    out.extend_from_slice(&[0, 0]);
    out
}

/// Found by the hostile-input review: of two zip entries with one name,
/// only the last was read (at the first's place), without a word; `unzip`
/// and Python's `zipfile` list both. Both are read now, the later one at
/// a member path that names its local header's offset.
#[test]
fn zip_entries_sharing_a_name_are_all_read() {
    let bytes = raw_zip(
        &[
            ("a.txt", b"first"),
            ("b.txt", b"middle"),
            ("a.txt", b"second"),
        ],
        &[("a.txt", 0), ("b.txt", 1), ("a.txt", 2)],
    );
    // Local headers of 30 bytes, then the name and the data.
    let second = (30 + 5 + 5) + (30 + 5 + 6);
    let renamed = format!("a.txt@{second}");
    let expected = vec![
        (Some("a.txt"), 0, "first"),
        (Some("b.txt"), 0, "middle"),
        (Some(renamed.as_str()), 0, "second"),
    ];
    let out = ingest_bytes("dup.zip", &bytes, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(records(&out), expected);

    // On disk, and without a central directory (from the local headers).
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    let out = read_path(file.path(), &IngestOptions::default());
    assert_eq!(records(&out), expected);
    let cd = ZipArchive::new(Cursor::new(&bytes))
        .unwrap()
        .central_directory_start() as usize;
    let out = ingest_bytes("cut.zip", &bytes[..cd + 4], &IngestOptions::default());
    assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
    assert_eq!(records(&out), expected);
}

/// Found by the hostile-input review: central-directory entries that all
/// point at one compressed body (a 62 KB zip gave 1.05 GB of text) were
/// each read. Overlapping entries are corrupt rows now; of entries that
/// share bytes, only the first in the file is read.
#[test]
fn overlapping_zip_entries_are_read_once() {
    let body = varied_text(20);
    let bytes = raw_zip(
        &[("a.txt", &body), ("z.txt", b"apart")],
        &[("a.txt", 0), ("b.txt", 0), ("z.txt", 1), ("c.txt", 0)],
    );
    let out = ingest_bytes("overlap.zip", &bytes, &IngestOptions::default());
    let text = String::from_utf8(body.clone()).unwrap();
    assert_eq!(
        records(&out),
        vec![(Some("a.txt"), 0, text.trim()), (Some("z.txt"), 0, "apart")]
    );
    assert_eq!(
        errors(&out),
        vec![
            (Some("b.txt"), 0, ErrorKind::Corrupt),
            (Some("c.txt"), 0, ErrorKind::Corrupt)
        ]
    );
    assert!(
        reason(&out, 0).contains("overlaps zip entry \"a.txt\""),
        "{}",
        reason(&out, 0)
    );

    // An entry whose data holds the next entry's local header (as in
    // quoted-overlap bombs): the outer one is read, the inner one is not.
    let inner = raw_zip(&[("in.txt", b"inner")], &[("in.txt", 0)]);
    let inner_local = &inner[..30 + 6 + 5];
    let mut outer_body = b"outer text ".to_vec();
    let inner_at = 30 + 5 + outer_body.len();
    outer_body.extend_from_slice(inner_local);
    let mut bytes = raw_zip(&[("o.txt", &outer_body)], &[("o.txt", 0)]);
    // Add a central entry for the local header inside o.txt's data.
    let cd_start = bytes.len() - 22 - (46 + 5);
    let mut entry = inner[inner.len() - 22 - (46 + 6)..inner.len() - 22].to_vec();
    entry[42..46].copy_from_slice(&u32::try_from(inner_at).unwrap().to_le_bytes());
    bytes.splice(bytes.len() - 22..bytes.len() - 22, entry);
    let end = bytes.len() - 22;
    bytes[end + 8..end + 10].copy_from_slice(&2u16.to_le_bytes());
    bytes[end + 10..end + 12].copy_from_slice(&2u16.to_le_bytes());
    let cd_len = u32::try_from(end - cd_start).unwrap();
    bytes[end + 12..end + 16].copy_from_slice(&cd_len.to_le_bytes());
    let out = ingest_bytes("quoted.zip", &bytes, &IngestOptions::default());
    // (o.txt holds the header's binary bytes, so it is a binary row.)
    assert_eq!(records(&out), vec![]);
    assert_eq!(
        out.errors
            .iter()
            .map(|e| (e.member.as_deref(), e.kind))
            .collect::<Vec<_>>(),
        vec![
            (Some("o.txt"), ErrorKind::Binary),
            (Some("o.txt"), ErrorKind::Empty),
            (Some("in.txt"), ErrorKind::Corrupt)
        ]
    );
}
