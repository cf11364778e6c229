//! Property-based fuzzing of the sniffer and every parser and container.
//!
//! Valid inputs of every format and container are built, then mutated (bytes
//! flipped, cut, inserted, deleted, spliced) and read with each format forced
//! and with detection. Whatever the bytes, reading must not panic, must give
//! the same output twice, and every problem must be an error row with a
//! location and a reason. `THRESHER_FUZZ_CASES` sets the number of cases per
//! property (default 256); CI runs a bounded number.
//!
//! Inputs that once crashed a parser are kept as regression cases at the end.

// Test code: building the seed inputs may panic on a broken writer.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;
use thresher_core::ingest::sniff::sniff;
use thresher_core::ingest::{
    ingest_bytes, Format, FormatChoice, IngestOptions, Ingested, Limits, TextUnit,
};

fn cases() -> u32 {
    std::env::var("THRESHER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const TEXT: &[u8] = b"A plain document about rivers.\n\nSecond paragraph here.\n";

fn listing() -> Vec<u8> {
    let mut s = String::from("new\n\nSubscribe\n\nbyAK and the research community\n\nMar 14\n\n");
    for i in 0..4 {
        s.push_str(&format!("Paper Title Number {i}\n\n"));
        s.push_str(&"This abstract describes a study of many things. ".repeat(8));
        s.push_str("\n\n");
    }
    s.into_bytes()
}

fn jsonl() -> Vec<u8> {
    b"{\"id\": 1, \"title\": \"t\", \"text\": \"first row\", \"lang\": \"en\"}\n{\"text\": \"second row\"}\n"
        .to_vec()
}

fn warc() -> Vec<u8> {
    let mut out = Vec::new();
    let records: [(&str, &[u8]); 2] = [
        (
            "response",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello page</p>",
        ),
        ("conversion", b"Plain extracted text of the page."),
    ];
    for (kind, block) in records {
        out.extend_from_slice(
            format!(
                "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: http://x/\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Length: {}\r\n\r\n",
                block.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(block);
        out.extend_from_slice(b"\r\n\r\n");
    }
    out
}

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, true),
        Field::new("lang", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![
                Some("row one"),
                None,
                Some("row three"),
            ])),
            Arc::new(StringArray::from(vec![Some("en"), Some("fr"), None])),
        ],
    )
    .expect("batch")
}

fn parquet() -> Vec<u8> {
    let b = batch();
    let mut out = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut out, b.schema(), None).expect("writer");
    writer.write(&b).expect("write");
    writer.close().expect("close");
    out
}

fn arrow_file() -> Vec<u8> {
    let b = batch();
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut out, &b.schema()).expect("writer");
    writer.write(&b).expect("write");
    writer.finish().expect("finish");
    drop(writer);
    out
}

fn arrow_stream() -> Vec<u8> {
    let b = batch();
    let mut out = Vec::new();
    let mut writer =
        arrow_ipc::writer::StreamWriter::try_new(&mut out, &b.schema()).expect("writer");
    writer.write(&b).expect("write");
    writer.finish().expect("finish");
    drop(writer);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *data)
            .expect("tar member");
    }
    builder.into_inner().expect("tar")
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, data) in members {
        writer.start_file(*name, options).expect("zip member");
        writer.write_all(data).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

/// Valid inputs of every format and container.
fn seeds() -> Vec<Vec<u8>> {
    let listing = listing();
    let jsonl = jsonl();
    let warc = warc();
    let parquet = parquet();
    vec![
        TEXT.to_vec(),
        listing.clone(),
        jsonl.clone(),
        warc.clone(),
        parquet.clone(),
        arrow_file(),
        arrow_stream(),
        gzip(&jsonl),
        zstd::encode_all(&warc[..], 3).expect("zstd"),
        tar(&[
            ("a.txt", TEXT),
            ("b.jsonl", &jsonl),
            ("c.parquet", &parquet),
        ]),
        gzip(&tar(&[("l.txt", &listing), ("w.warc", &warc)])),
        zip(&[("x.txt", TEXT), ("y.jsonl.gz", &gzip(&jsonl))]),
        tar(&[("inner.zip", &zip(&[("deep.txt", TEXT)]))]),
    ]
}

/// One edit of a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(p, x)| Mutation::Flip(p, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Repeat(p, n)),
    ]
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if data.is_empty() {
            break;
        }
        let len = data.len();
        match m {
            Mutation::Flip(p, x) => data[p % len] ^= x,
            Mutation::Truncate(p) => data.truncate(p % len),
            Mutation::Insert(p, bytes) => {
                let at = p % len;
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let at = p % len;
                data.drain(at..(at + n).min(len));
            }
            Mutation::Repeat(p, n) => {
                let at = p % len;
                let piece: Vec<u8> = data[at..(at + n).min(len)].to_vec();
                data.splice(at..at, piece);
            }
        }
    }
    data
}

/// Small limits so that mutated length fields cannot make a case slow.
fn options(format: FormatChoice, unit: TextUnit) -> IngestOptions {
    IngestOptions {
        format,
        text_unit: unit,
        limits: Limits {
            max_member_bytes: 4 << 20,
            max_input_bytes: 8 << 20,
            max_record_bytes: 1 << 20,
            max_buffered_bytes: 4 << 20,
            ..Limits::default()
        },
        ..IngestOptions::default()
    }
}

fn choices() -> Vec<FormatChoice> {
    let mut all = vec![FormatChoice::Auto];
    all.extend(Format::ALL.into_iter().map(FormatChoice::Fixed));
    all
}

/// Reads `data` and checks the invariants that hold for any input.
fn check(data: &[u8], options: &IngestOptions) -> Ingested {
    let first = ingest_bytes("fuzz.bin", data, options);
    let again = ingest_bytes("fuzz.bin", data, options);
    assert_eq!(first, again, "reading the same bytes twice differed");
    for e in &first.errors {
        assert_eq!(e.source, "fuzz.bin");
        assert!(!e.reason.trim().is_empty(), "error row without a reason");
    }
    for r in &first.records {
        assert_eq!(r.source, "fuzz.bin");
        if let Some(meta) = &r.meta {
            let parsed: serde_json::Value = serde_json::from_str(meta).expect("meta is JSON");
            assert!(parsed.is_object(), "meta is a JSON object");
        }
    }
    first
}

#[test]
fn seeds_read_without_errors() {
    for (i, seed) in seeds().iter().enumerate() {
        let out = check(seed, &options(FormatChoice::Auto, TextUnit::File));
        assert!(!out.records.is_empty(), "seed {i} gave no records");
        assert!(
            out.errors.iter().all(|e| e.kind.name() == "missing_field"),
            "seed {i}: {:?}",
            out.errors
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_never_panic(
        seed in 0..13usize,
        mutations in prop::collection::vec(mutation(), 1..6),
        choice in 0..8usize,
        unit in prop_oneof![Just(TextUnit::File), Just(TextUnit::Line), Just(TextUnit::Paragraph)],
    ) {
        let data = apply(seeds()[seed].clone(), &mutations);
        check(&data, &options(choices()[choice], unit));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..2048),
        choice in 0..8usize,
    ) {
        let format = choices()[choice];
        check(&data, &options(format, TextUnit::Line));
        let _ = sniff(&data, format);
    }

    #[test]
    fn mutated_prefixes_sniff_like_their_containers(
        seed in 0..13usize,
        mutations in prop::collection::vec(mutation(), 0..3),
    ) {
        let data = apply(seeds()[seed].clone(), &mutations);
        // The sniffer looks at a prefix only: any cut of it must not panic.
        for cut in [0, 1, 4, 8, 262, 511, 512, 1024] {
            let _ = sniff(&data[..cut.min(data.len())], FormatChoice::Auto);
        }
    }
}

/// Inputs found by the fuzzer that once failed; each must read cleanly.
#[test]
fn regressions() {
    let cases: Vec<(&str, Vec<u8>, FormatChoice)> = vec![
        ("empty input", Vec::new(), FormatChoice::Auto),
        ("lone gzip magic", vec![0x1f, 0x8b], FormatChoice::Auto),
        (
            "ustar magic without a header",
            {
                let mut v = vec![b'a'; 512];
                v[257..262].copy_from_slice(b"ustar");
                v
            },
            FormatChoice::Auto,
        ),
        ("parquet magic only", b"PAR1".to_vec(), FormatChoice::Auto),
        (
            "arrow stream marker only",
            vec![0xff; 8],
            FormatChoice::Auto,
        ),
        (
            "warc without content length",
            b"WARC/1.0\r\nWARC-Type: conversion\r\n\r\nabc".to_vec(),
            FormatChoice::Auto,
        ),
        (
            "warc huge content length",
            b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 99999999999999999999\r\n\r\nabc"
                .to_vec(),
            FormatChoice::Auto,
        ),
    ];
    for (name, data, choice) in cases {
        let out = check(&data, &options(choice, TextUnit::File));
        assert!(
            out.records.is_empty() || name.starts_with("warc"),
            "{name}: {out:?}"
        );
        assert!(!out.errors.is_empty(), "{name}: no error row");
    }
}
