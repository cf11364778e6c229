//! Tests of the WARC and WET parser.

use std::io::Write;

use super::*;
use crate::ingest::bounded::ByteBudget;
use crate::ingest::html::html_to_text;
use crate::ingest::options::{ContentTypes, HtmlMode, Limits};
use crate::ingest::{ingest_bytes, IngestOptions, Ingested, Record};

/// A WARC file built record by record, remembering offsets.
#[derive(Default)]
struct Warc {
    bytes: Vec<u8>,
}

impl Warc {
    /// Appends a record with a correct Content-Length; returns its offset.
    fn record(&mut self, headers: &[(&str, &str)], block: &[u8]) -> u64 {
        self.record_with("WARC/1.0", "\r\n", headers, block)
    }

    fn record_with(
        &mut self,
        version: &str,
        eol: &str,
        headers: &[(&str, &str)],
        block: &[u8],
    ) -> u64 {
        let offset = self.bytes.len() as u64;
        let mut head = format!("{version}{eol}");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}{eol}"));
        }
        head.push_str(&format!("Content-Length: {}{eol}{eol}", block.len()));
        self.bytes.extend_from_slice(head.as_bytes());
        self.bytes.extend_from_slice(block);
        self.bytes
            .extend_from_slice(format!("{eol}{eol}").as_bytes());
        offset
    }

    /// Appends raw bytes; returns their offset.
    fn raw(&mut self, bytes: &[u8]) -> u64 {
        let offset = self.bytes.len() as u64;
        self.bytes.extend_from_slice(bytes);
        offset
    }

    fn read(&self, options: &IngestOptions) -> Ingested {
        ingest_bytes("crawl.warc", &self.bytes, options)
    }
}

fn typed(warc_type: &str) -> (&str, &str) {
    ("WARC-Type", warc_type)
}

fn skipped(out: &Ingested) -> Vec<(&str, u64)> {
    out.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

fn errors(out: &Ingested) -> Vec<(u64, ErrorKind)> {
    out.errors.iter().map(|e| (e.offset, e.kind)).collect()
}

fn docs(out: &Ingested) -> Vec<(u64, Format, &str)> {
    out.records
        .iter()
        .map(|r| (r.offset, r.format, r.text.as_str()))
        .collect()
}

/// `data` gzipped.
pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// `data` deflated in a zlib wrapper.
pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib")
}

/// `data` deflated without a wrapper.
pub(super) fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// `data` compressed with brotli.
pub(super) fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).expect("brotli");
    }
    out
}

/// `data` in chunks of `size` bytes (with an extension and a trailer).
pub(super) fn chunked(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(size) {
        out.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\nX-Trailer: y\r\n\r\n");
    out
}

/// An HTTP response with these headers and body.
fn response_with(headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn http(content_type: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nServer: x\r\n\r\n{body}")
        .into_bytes()
}

#[test]
fn documents_of_each_type_with_their_fields() {
    let mut w = Warc::default();
    let info = w.record(
        &[
            typed("warcinfo"),
            ("Content-Type", "application/warc-fields"),
        ],
        b"software: test\r\n",
    );
    w.record(
        &[typed("request")],
        b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
    );
    let response = w.record(
        &[
            typed("response"),
            ("WARC-Target-URI", "<https://a.example/page>"),
            ("WARC-Date", "2024-01-02T03:04:05Z"),
            ("warc-record-id", "<urn:uuid:0001>"),
            ("Content-Type", "application/http; msgtype=response"),
        ],
        &http("text/html; charset=utf-8", "\r\n  <p>Hello</p>\n"),
    );
    w.record(&[typed("metadata")], b"fetchTimeMs: 12\r\n");
    w.record(&[typed("revisit")], b"");
    let resource = w.record_with(
        "WARC/1.1",
        "\n",
        &[
            typed("resource"),
            ("WARC-Target-URI", "file:///notes.txt"),
            ("Content-Type", "text/plain"),
        ],
        b"Some notes.\n",
    );
    let wet = w.record(
        &[
            typed("conversion"),
            ("WARC-Target-URI", "https://b.example/"),
            ("WARC-Date", "2024-02-03T04:05:06Z"),
            ("WARC-Record-ID", "<urn:uuid:0002>"),
            ("WARC-Identified-Content-Language", "eng,fra"),
            ("Content-Type", "text/plain"),
        ],
        "Extracted text\nwith two lines.\n".as_bytes(),
    );
    let out = w.read(&IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert!(info == 0 && response > 0);
    assert_eq!(
        docs(&out),
        vec![
            (response, Format::Warc, "Hello"),
            (resource, Format::Warc, "Some notes."),
            (wet, Format::Wet, "Extracted text\nwith two lines."),
        ]
    );
    let expected = |offset, format, text: &str| Record {
        source: "crawl.warc".to_owned(),
        member: None,
        offset,
        part: None,
        format,
        id: None,
        title: None,
        text: text.to_owned(),
        url: None,
        date: None,
        meta: None,
        invalid_utf8: false,
    };
    assert_eq!(
        out.records[0],
        Record {
            id: Some("<urn:uuid:0001>".to_owned()),
            url: Some("https://a.example/page".to_owned()),
            date: Some("2024-01-02T03:04:05Z".to_owned()),
            meta: Some(
                r#"{"content_type":"text/html; charset=utf-8","encoding":"UTF-8","html":"text","raw_length":17,"warc_type":"response"}"#.to_owned()
            ),
            ..expected(response, Format::Warc, "Hello")
        }
    );
    assert_eq!(
        out.records[1],
        Record {
            url: Some("file:///notes.txt".to_owned()),
            meta: Some(
                r#"{"content_type":"text/plain","encoding":"UTF-8","raw_length":12,"warc_type":"resource"}"#
                    .to_owned()
            ),
            ..expected(resource, Format::Warc, "Some notes.")
        }
    );
    assert_eq!(
        out.records[2],
        Record {
            id: Some("<urn:uuid:0002>".to_owned()),
            url: Some("https://b.example/".to_owned()),
            date: Some("2024-02-03T04:05:06Z".to_owned()),
            meta: Some(
                r#"{"content_type":"text/plain","language":"eng,fra","warc_type":"conversion"}"#
                    .to_owned()
            ),
            ..expected(wet, Format::Wet, "Extracted text\nwith two lines.")
        }
    );
    assert_eq!(
        skipped(&out),
        [
            ("warc/metadata", 1),
            ("warc/request", 1),
            ("warc/revisit", 1),
            ("warc/warcinfo", 1)
        ]
    );
}

#[test]
fn bodies_that_are_not_documents_are_skipped_or_rows() {
    let mut w = Warc::default();
    w.record(&[typed("response")], &http("image/png", "\u{89}PNG"));
    w.record(
        &[typed("resource"), ("Content-Type", "application/pdf")],
        b"%PDF-1.4",
    );
    let gzip = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b",
    );
    w.record(
        &[typed("response")],
        b"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n",
    );
    let chunked = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
    );
    let bad_chunks = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHello\r\n",
    );
    let binary = w.record(&[typed("response")], b"HTTP/1.1 200 OK\r\n\r\nab\0cd");
    // The NUL: 2 bytes into the 5-byte body, before the closing "\r\n\r\n".
    let binary_at = w.bytes.len() as u64 - 4 - 5 + 2;
    assert!(binary_at > binary);
    let no_head_end = w.record(&[typed("response")], b"HTTP/1.1 200 OK\r\nServer: x");
    let segment = w.record(&[typed("continuation")], b"rest of a segment");
    let untyped = w.record(&[], b"what am I");
    let compress = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\n\r\nxyz",
    );
    let good = w.record(
        &[typed("response"), ("WARC-Target-URI", "https://c.example/")],
        &http("application/xhtml+xml", "<html>fine</html>"),
    );
    let out = w.read(&IngestOptions::default());
    assert_eq!(
        docs(&out),
        vec![
            (chunked, Format::Warc, "Hello, world"),
            (good, Format::Warc, "fine"),
        ]
    );
    assert_eq!(
        out.records[0].meta.as_deref(),
        Some(r#"{"encoding":"UTF-8","raw_length":12,"warc_type":"response"}"#)
    );
    assert_eq!(
        errors(&out),
        vec![
            (gzip, ErrorKind::Corrupt),
            (bad_chunks, ErrorKind::Malformed),
            (binary_at, ErrorKind::Binary),
            (no_head_end, ErrorKind::Malformed),
            (segment, ErrorKind::Unsupported),
            (untyped, ErrorKind::Unsupported),
            (compress, ErrorKind::Unsupported),
        ]
    );
    let reason = |i: usize| out.errors[i].reason.as_str();
    assert!(reason(0).starts_with("corrupt gzip HTTP body: "));
    assert_eq!(
        reason(4),
        "WARC-Type continuation is not read; record skipped"
    );
    assert_eq!(reason(5), "WARC-Type (missing) is not read; record skipped");
    assert_eq!(
        reason(6),
        "HTTP coding \"compress\" is not decoded; not read"
    );
    assert_eq!(
        skipped(&out),
        [("application/pdf", 1), ("empty", 1), ("image/png", 1)]
    );
}

fn conversion(text: &[u8]) -> (Vec<(&'static str, &'static str)>, Vec<u8>) {
    (vec![("WARC-Type", "conversion")], text.to_vec())
}

#[test]
fn oversized_block_is_a_limit_row_and_the_next_record_is_read() {
    let mut w = Warc::default();
    let (h, b) = conversion(b"small one");
    let first = w.record(&h, &b);
    let big = w.record(&[typed("conversion")], &[b'x'; 100]);
    let big_skipped = w.record(&[typed("warcinfo")], &[b'y'; 100]);
    let last = w.record(&h, b"small two");
    let options = IngestOptions {
        limits: Limits {
            max_record_bytes: 50,
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let out = w.read(&options);
    assert!(big_skipped > big);
    assert_eq!(
        docs(&out),
        vec![
            (first, Format::Wet, "small one"),
            (last, Format::Wet, "small two")
        ]
    );
    assert_eq!(errors(&out), vec![(big, ErrorKind::Limit)]);
    assert_eq!(
        out.errors[0].reason,
        "WARC record block longer than max_record_bytes (50 bytes): 100 bytes; skipped"
    );
}

#[test]
fn garbage_is_one_row_per_resync() {
    let mut w = Warc::default();
    let lead = w.raw(b"junk before\r\nmore junk\r\n");
    let first = w.record(&[typed("conversion")], b"one");
    let junk = w.raw(b"\r\nstray line\nWARC/0.9 not a version\n");
    let second = w.record(&[typed("conversion")], b"two");
    let junk2 = w.raw(&[b'z'; 70_000]);
    w.raw(b"\n");
    let third = w.record_with("WARC/1.1", "\n", &[typed("conversion")], b"three");
    let options = IngestOptions::with_format(Format::Warc);
    let out = w.read(&options);
    assert_eq!(
        docs(&out),
        vec![
            (first, Format::Wet, "one"),
            (second, Format::Wet, "two"),
            (third, Format::Wet, "three"),
        ]
    );
    assert_eq!(
        errors(&out),
        vec![
            (lead, ErrorKind::Malformed),
            (junk + 2, ErrorKind::Malformed),
            (junk2, ErrorKind::Malformed),
        ]
    );
}

#[test]
fn broken_headers_are_rows_and_reading_resumes() {
    let mut w = Warc::default();
    let no_length = w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\n\r\nlost text\r\n\r\n");
    let first = w.record(&[typed("conversion")], b"one");
    let bad_length =
        w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 12x\r\n\r\nlost\r\n\r\n");
    let no_colon =
        w.raw(b"WARC/1.0\r\nWARC-Type conversion\r\nContent-Length: 4\r\n\r\nlost\r\n\r\n");
    let unended = w.raw(b"WARC/1.1\r\nWARC-Type: conversion\r\nContent-Length: 4\r\n");
    let second = w.record(
        &[
            typed("conversion"),
            ("WARC-Identified-Content-Language", "deu"),
        ],
        b"two",
    );
    let out = w.read(&IngestOptions::default());
    assert_eq!(
        docs(&out),
        vec![(first, Format::Wet, "one"), (second, Format::Wet, "two")]
    );
    assert_eq!(
        out.records[1].meta.as_deref(),
        Some(r#"{"language":"deu","warc_type":"conversion"}"#)
    );
    assert_eq!(
        errors(&out),
        vec![
            (no_length, ErrorKind::Malformed),
            (bad_length, ErrorKind::Malformed),
            (no_colon, ErrorKind::Malformed),
            (unended, ErrorKind::Malformed),
        ]
    );
    let reasons: Vec<&str> = out.errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons[..2],
        [
            "WARC record without Content-Length; skipped to the next record",
            "WARC Content-Length \"12x\" is not a number; skipped to the next record",
        ]
    );
    assert_eq!(
        reasons[3],
        format!(
            "WARC headers never end: a new record starts at byte {second} before the empty line; record skipped"
        )
    );
}

#[test]
fn header_section_that_never_ends_is_malformed() {
    let mut w = Warc::default();
    let endless = w.raw(b"WARC/1.0\r\n");
    let line = format!("X-Filler: {}\r\n", "f".repeat(1000));
    for _ in 0..1100 {
        w.raw(line.as_bytes());
    }
    w.raw(b"\r\n");
    let next = w.record(&[typed("conversion")], b"after");
    let out = w.read(&IngestOptions::default());
    assert_eq!(docs(&out), vec![(next, Format::Wet, "after")]);
    assert_eq!(errors(&out), vec![(endless, ErrorKind::Malformed)]);
    assert!(out.errors[0]
        .reason
        .starts_with("WARC header section longer than"));
}

#[test]
fn truncated_records_are_corrupt_rows() {
    let mut w = Warc::default();
    let first = w.record(&[typed("conversion")], b"whole");
    let cut = w.record(&[typed("conversion")], b"cut short here");
    w.bytes.truncate(w.bytes.len() - 4 - 6);
    let out = w.read(&IngestOptions::default());
    assert_eq!(docs(&out), vec![(first, Format::Wet, "whole")]);
    assert_eq!(errors(&out), vec![(cut, ErrorKind::Corrupt)]);
    assert_eq!(
        out.errors[0].reason,
        "truncated WARC record: Content-Length is 14 bytes but the member ends after 8"
    );

    let mut w = Warc::default();
    w.record(&[typed("conversion")], b"whole");
    let cut = w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Le");
    let out = w.read(&IngestOptions::default());
    assert_eq!(out.records.len(), 1);
    assert_eq!(errors(&out), vec![(cut, ErrorKind::Corrupt)]);
}

#[test]
fn invalid_utf8_is_replaced_reported_and_flagged() {
    let mut w = Warc::default();
    let body = b"  caf\xe9 au lait";
    let at = w.record(&[typed("conversion")], body);
    let body_start = w.bytes.len() as u64 - 4 - body.len() as u64;
    // A lying charset: declared UTF-8, and a byte that is not.
    let response = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\nContent-Type: text/plain; charset=utf-8\n\nna\xffve",
    );
    let response_body = w.bytes.len() as u64 - 4 - 5;
    let out = w.read(&IngestOptions::default());
    assert_eq!(
        docs(&out),
        vec![
            (at, Format::Wet, "caf\u{fffd} au lait"),
            (response, Format::Warc, "na\u{fffd}ve"),
        ]
    );
    assert!(out.records.iter().all(|r| r.invalid_utf8));
    assert_eq!(
        errors(&out),
        vec![
            (body_start + 5, ErrorKind::InvalidUtf8),
            (response_body + 2, ErrorKind::InvalidUtf8),
        ]
    );
}

/// Yields its bytes, then fails.
struct FailAfter<'a>(&'a [u8]);

impl std::io::Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("disk on fire"));
        }
        self.0.read(buf)
    }
}

#[test]
fn a_failed_read_stops_with_a_row_at_the_offset_reached() {
    let mut w = Warc::default();
    let first = w.record(&[typed("conversion")], b"one");
    w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 50\r\n\r\npartial");
    let options = IngestOptions::default();
    let mut out = Ingested::default();
    let budget = ByteBudget::new(u64::MAX);
    let mut cx = ReadContext {
        options: &options,
        sink: &mut out,
        input_budget: &budget,
    };
    let mut reader = std::io::BufReader::with_capacity(16, FailAfter(&w.bytes));
    read(&mut reader, &Location::file("crawl.warc"), &mut cx);
    assert_eq!(docs(&out), vec![(first, Format::Wet, "one")]);
    assert_eq!(
        errors(&out),
        vec![(w.bytes.len() as u64, ErrorKind::Corrupt)]
    );
    assert!(out.errors[0].reason.contains("disk on fire"));
}

#[test]
fn content_length_past_the_end_resyncs_at_the_records_inside() {
    let mut w = Warc::default();
    let first = w.record(&[typed("conversion")], b"one");
    let bad =
        w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 5000\r\n\r\nshort\r\n\r\n");
    let second = w.record(&[typed("conversion")], b"two");
    // A second bad record inside the first one's claimed block.
    let bad2 =
        w.raw(b"WARC/1.0\r\nWARC-Type: warcinfo\r\nContent-Length: 4000\r\n\r\ninfo\r\n\r\n");
    w.record(&[typed("warcinfo")], b"software: x\r\n");
    let fourth = w.record(&[typed("conversion")], b"four");
    let out = w.read(&IngestOptions::default());
    assert_eq!(
        docs(&out),
        vec![
            (first, Format::Wet, "one"),
            (second, Format::Wet, "two"),
            (fourth, Format::Wet, "four"),
        ]
    );
    assert_eq!(
        errors(&out),
        vec![(bad, ErrorKind::Malformed), (bad2, ErrorKind::Malformed)]
    );
    assert_eq!(
        out.errors[0].reason,
        format!(
            "WARC Content-Length (5000 bytes) runs past the end of the member, and a record \
             starts inside the block at byte {second}; record skipped, reading resumed there"
        )
    );
}

#[test]
fn content_length_past_the_end_resyncs_over_the_record_limit() {
    let mut w = Warc::default();
    let bad =
        w.raw(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 900000\r\n\r\nshort\r\n\r\n");
    let mut expected = Vec::new();
    for i in 0..5 {
        let text = format!("doc {i}");
        let at = w.record(&[typed("conversion")], text.as_bytes());
        expected.push((at, text));
    }
    let options = IngestOptions {
        limits: Limits {
            max_record_bytes: 1000,
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let out = w.read(&options);
    let got: Vec<(u64, String)> = out
        .records
        .iter()
        .map(|r| (r.offset, r.text.clone()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        errors(&out),
        vec![(bad, ErrorKind::Limit), (bad, ErrorKind::Malformed)]
    );
    // Memory stays bounded: records inside that are more than
    // max_record_bytes are reported, not held.
    let options = IngestOptions {
        limits: Limits {
            max_record_bytes: 100,
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let out = w.read(&options);
    assert_eq!(docs(&out), vec![]);
    assert_eq!(
        errors(&out),
        vec![
            (bad, ErrorKind::Limit),
            (bad, ErrorKind::Malformed),
            (0, ErrorKind::Empty)
        ]
    );
    assert_eq!(
        out.errors[1].reason,
        format!(
            "WARC Content-Length (900000 bytes) runs past the end of the member; the records \
             inside it from byte {} on are more than max_record_bytes (100 bytes) and are not read",
            expected[0].0
        )
    );
}

#[test]
fn byte_order_mark_before_the_first_record_is_skipped() {
    let mut w = Warc::default();
    w.raw(b"\xef\xbb\xbf");
    let first = w.record(&[typed("conversion")], b"one");
    let out = ingest_bytes("crawl.warc", &w.bytes, &IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(docs(&out), vec![(first, Format::Wet, "one")]);
}

#[test]
fn salvage_finds_a_version_line_split_across_chunks() {
    let block = b"junk WARC/1.0 mid-line\nWA\nWARC/1.0\r\nrest\n";
    let at = block.len() - b"WARC/1.0\r\nrest\n".len();
    for size in [1, 2, 3, 7, 64] {
        let mut salvage = Salvage::new(100, 1000);
        block.chunks(size).for_each(|chunk| salvage.feed(chunk));
        let tail = salvage.finish().ok().flatten().expect("found");
        assert_eq!(tail.offset, 100 + at as u64, "chunks of {size}");
        assert_eq!(tail.bytes, &block[at..], "chunks of {size}");
    }
    let mut salvage = Salvage::new(0, 1000);
    salvage.feed(b"WARC/1.1\n");
    assert_eq!(salvage.finish().ok().flatten().map(|t| t.offset), Some(0));
    let mut salvage = Salvage::new(0, 1000);
    salvage.feed(b"no record\nWARC/0.9\n");
    assert!(matches!(salvage.finish(), Ok(None)));
}

/// A page, its text as `html_to_text` gives it, in a WARC response.
const PAGE: &str = "<!doctype html><html><head><title>Codings</title></head>\
    <body><p>One page, stored in many ways.</p><p>Second paragraph.</p></body></html>";

#[test]
fn compressed_and_chunked_responses_give_the_plain_text() {
    let page = PAGE.as_bytes();
    let html = ("Content-Type", "text/html");
    let zstd_page = zstd::encode_all(page, 3).expect("zstd");
    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let stored: Vec<(Headers<'_>, Vec<u8>)> = vec![
        (vec![html], page.to_vec()),
        (
            vec![
                html,
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ],
            chunked(&gzip(page), 10),
        ),
        (vec![html, ("Content-Encoding", "br")], brotli(page)),
        (vec![html, ("Content-Encoding", "zstd")], zstd_page),
        (vec![html, ("Content-Encoding", "deflate")], zlib(page)),
        (
            vec![html, ("Content-Encoding", "deflate")],
            raw_deflate(page),
        ),
        (
            vec![html, ("Content-Encoding", "gzip, br")],
            brotli(&gzip(page)),
        ),
        (
            vec![html, ("Transfer-Encoding", "gzip, chunked")],
            chunked(&gzip(page), 3),
        ),
        // Stored still gzipped while the headers say identity.
        (vec![html, ("Content-Encoding", "identity")], gzip(page)),
    ];
    let mut w = Warc::default();
    for (headers, body) in &stored {
        w.record(&[typed("response")], &response_with(headers, body));
    }
    let out = w.read(&IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(out.records.len(), stored.len());
    let expected = html_to_text(PAGE, HtmlMode::Text);
    let meta = format!(
        r#"{{"content_type":"text/html","encoding":"UTF-8","html":"text","raw_length":{},"warc_type":"response"}}"#,
        page.len()
    );
    for record in &out.records {
        assert_eq!(record.text, expected.text.trim());
        assert_eq!(record.title, expected.title);
        assert_eq!(record.meta.as_deref(), Some(meta.as_str()));
    }
}

#[test]
fn bombs_are_limit_rows_and_broken_compression_is_corrupt() {
    let mut w = Warc::default();
    let zeros = vec![b' '; 1 << 20];
    let mut bomb_body = b"<p>".to_vec();
    bomb_body.extend_from_slice(&zeros);
    let gz = ("Content-Encoding", "gzip");
    let bomb = w.record(
        &[typed("response")],
        &response_with(&[gz], &gzip(&bomb_body)),
    );
    let br_bomb = w.record(
        &[typed("response")],
        &response_with(&[("Content-Encoding", "br")], &brotli(&bomb_body)),
    );
    let mut cut = gzip(PAGE.as_bytes());
    cut.truncate(cut.len() - 12);
    let truncated = w.record(&[typed("response")], &response_with(&[gz], &cut));
    let garbage = w.record(
        &[typed("response")],
        &response_with(&[gz], b"\x1f\x8b\x08\x00garbage"),
    );
    let after = w.record(
        &[typed("response")],
        &response_with(&[gz], &gzip(b"still read")),
    );
    let options = IngestOptions {
        limits: Limits {
            max_record_bytes: 64 << 10,
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let out = w.read(&options);
    assert_eq!(docs(&out), vec![(after, Format::Warc, "still read")]);
    assert_eq!(
        errors(&out),
        vec![
            (bomb, ErrorKind::Limit),
            (br_bomb, ErrorKind::Limit),
            (truncated, ErrorKind::Corrupt),
            (garbage, ErrorKind::Corrupt),
        ]
    );
    assert_eq!(
        out.errors[0].reason,
        "gzip HTTP body decodes to more than max_record_bytes (65536 bytes); not read"
    );
}

/// The same short texts in four scripts, each with the encoding it is
/// often served in and the top-level domain of its country.
const TEXTS: [(&str, &str, &str); 4] = [
    (
        "Shift_JIS",
        "jp",
        "今日は雨が降っているので、図書館で本を読みました。明日は晴れるといいですね。\
         駅の近くに新しい喫茶店ができたそうです。",
    ),
    (
        "GBK",
        "cn",
        "我们明天早上八点在火车站见面，然后一起去山上看日出。\
         听说那里的风景非常美丽，空气也很新鲜。",
    ),
    (
        "EUC-KR",
        "kr",
        "오늘은 날씨가 좋아서 친구와 함께 공원에서 산책을 했습니다. \
         저녁에는 가족들과 맛있는 음식을 먹었습니다.",
    ),
    (
        "windows-1251",
        "ru",
        "Вчера вечером мы долго гуляли по набережной и говорили о книгах. \
         Завтра обещают тёплую и солнечную погоду.",
    ),
];

fn encode(encoding: &str, text: &str) -> Vec<u8> {
    let encoding = encoding_rs::Encoding::for_label(encoding.as_bytes()).expect("label");
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text} in {}", encoding.name());
    bytes.into_owned()
}

#[test]
fn pages_in_legacy_charsets_decode_to_the_same_text() {
    for (name, tld, text) in TEXTS {
        let page = |head: &str| {
            format!("{head}<html><head><title>T</title>{{meta}}</head><body><p>{text}</p></body></html>")
        };
        let html = |meta: &str| page("").replace("{meta}", meta);
        let xhtml =
            page(&format!("<?xml version=\"1.0\" encoding=\"{name}\"?>\n")).replace("{meta}", "");
        let uri = format!("http://www.example.{tld}/page");
        let target = ("WARC-Target-URI", uri.as_str());
        let declared_type = format!("text/html; charset={name}");
        let mut w = Warc::default();
        let mut cases: Vec<(&str, String)> = Vec::new();
        let mut add = |w: &mut Warc, how: &'static str, headers: &[(&str, &str)], doc: &str| {
            w.record(
                &[typed("response"), target],
                &response_with(headers, &encode(name, doc)),
            );
            cases.push((how, doc.to_owned()));
        };
        add(
            &mut w,
            "HTTP header",
            &[("Content-Type", &declared_type)],
            &html(""),
        );
        add(
            &mut w,
            "meta charset",
            &[("Content-Type", "text/html")],
            &html(&format!("<meta charset=\"{name}\">")),
        );
        add(
            &mut w,
            "meta http-equiv",
            &[("Content-Type", "text/html")],
            &html(&format!(
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset={name}\">"
            )),
        );
        add(
            &mut w,
            "XML declaration",
            &[("Content-Type", "application/xhtml+xml")],
            &xhtml,
        );
        add(
            &mut w,
            "undeclared HTML",
            &[("Content-Type", "text/html")],
            &html(""),
        );
        add(&mut w, "undeclared, untyped", &[], &html(""));
        add(
            &mut w,
            "undeclared text",
            &[("Content-Type", "text/plain")],
            text,
        );
        // A resource declares its charset in its WARC header.
        let resource_type = format!("text/plain; charset={name}");
        w.record(
            &[typed("resource"), ("Content-Type", &resource_type)],
            &encode(name, text),
        );
        cases.push(("resource", text.to_owned()));
        for mode in [HtmlMode::Raw, HtmlMode::Text] {
            let options = IngestOptions {
                html: Some(mode),
                ..IngestOptions::default()
            };
            let out = w.read(&options);
            assert_eq!(errors(&out), vec![], "{name}");
            assert_eq!(out.records.len(), cases.len(), "{name}");
            for (record, (how, doc)) in out.records.iter().zip(&cases) {
                let is_html = doc.contains("<html>");
                let expected = if is_html {
                    html_to_text(doc, mode).text
                } else {
                    doc.clone()
                };
                assert_eq!(record.text, expected.trim(), "{name}, {how}, {mode:?}");
                assert!(!record.invalid_utf8, "{name}, {how}");
                let meta: serde_json::Value =
                    serde_json::from_str(record.meta.as_deref().unwrap_or("")).expect("meta");
                assert_eq!(meta["encoding"], name, "{name}, {how}");
                assert_eq!(meta["raw_length"], encode(name, doc).len(), "{name}, {how}");
                let html_mode = is_html.then_some(mode.name());
                assert_eq!(meta["html"].as_str(), html_mode, "{name}, {how}");
            }
        }
    }
}

#[test]
fn undeclared_legacy_text_is_detected_without_a_domain_too() {
    let mut w = Warc::default();
    for (name, _, text) in TEXTS {
        let body = encode(name, &format!("{text}\n{text}"));
        w.record(
            &[
                typed("resource"),
                ("WARC-Target-URI", "https://example.com/"),
            ],
            &body,
        );
    }
    let out = w.read(&IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    for (record, (name, _, text)) in out.records.iter().zip(TEXTS) {
        assert_eq!(record.text, format!("{text}\n{text}"), "{name}");
    }
}

#[test]
fn a_lying_charset_is_kept_and_its_invalid_bytes_reported() {
    let (_, _, japanese) = TEXTS[0];
    let mut w = Warc::default();
    // Declared Shift_JIS, sent as UTF-8.
    let lying = w.record(
        &[typed("response")],
        &response_with(
            &[("Content-Type", "text/plain; charset=Shift_JIS")],
            japanese.as_bytes(),
        ),
    );
    let lying_body = w.bytes.len() as u64 - 4 - japanese.len() as u64;
    // Declared windows-1251 in meta, sent as UTF-8: kept as declared, as
    // browsers do (every byte is valid windows-1251: no row, mojibake).
    let russian = TEXTS[3].2;
    let doc = format!("<meta charset=windows-1251><p>{russian}</p>");
    w.record(
        &[typed("response")],
        &response_with(&[("Content-Type", "text/html")], doc.as_bytes()),
    );
    let out = w.read(&IngestOptions::default());
    assert_eq!(out.records.len(), 2);
    let (expected, _, _) = encoding_rs::SHIFT_JIS.decode(japanese.as_bytes());
    assert_eq!(out.records[0].text, expected.trim());
    assert!(out.records[0].text.contains('\u{fffd}'));
    assert!(out.records[0].invalid_utf8);
    assert_eq!(out.records[1].text, {
        let (mojibake, _, _) = encoding_rs::WINDOWS_1251.decode(doc.as_bytes());
        html_to_text(&mojibake, HtmlMode::Text)
            .text
            .trim()
            .to_owned()
    });
    assert!(!out.records[1].invalid_utf8);
    assert_eq!(errors(&out).len(), 1);
    let row = &out.errors[0];
    assert_eq!(row.kind, ErrorKind::InvalidUtf8);
    assert!(row.offset >= lying_body && row.offset < lying_body + japanese.len() as u64);
    assert!(row.offset > lying);
    assert!(
        row.reason.starts_with("invalid Shift_JIS ("),
        "{}",
        row.reason
    );
}

#[test]
fn utf16_with_a_byte_order_mark_is_text_not_binary() {
    let text = "Вчера вечером мы гуляли.";
    let mut body = vec![0xfe, 0xff];
    body.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let mut w = Warc::default();
    w.record(&[typed("resource"), ("Content-Type", "text/plain")], &body);
    let out = w.read(&IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    assert_eq!(out.records[0].text, text);
    assert!(out.records[0]
        .meta
        .as_deref()
        .is_some_and(|m| m.contains(r#""encoding":"UTF-16BE""#)));
}

/// A crawl of a small site: pages, and what pages load.
fn crawl() -> Warc {
    let mut w = Warc::default();
    w.record(&[typed("warcinfo")], b"software: test\r\n");
    let page = |w: &mut Warc, body: &str| {
        w.record(
            &[typed("request")],
            b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
        );
        w.record(
            &[typed("response"), ("WARC-Target-URI", "https://a.example/")],
            &response_with(
                &[
                    ("Content-Type", "text/html; charset=UTF-8"),
                    ("Content-Encoding", "gzip"),
                ],
                &gzip(body.as_bytes()),
            ),
        );
        w.record(&[typed("metadata")], b"outlink: x\r\n");
    };
    page(&mut w, "<html><body><p>First page.</p></body></html>");
    page(&mut w, "<html><body><p>Second page.</p></body></html>");
    page(
        &mut w,
        "<html><head><title></title></head><body>\n <div> </div><br>\n</body></html>",
    );
    for (mime, body) in [
        ("image/png", &b"\x89PNG\r\n\x1a\n\0\0"[..]),
        ("image/png", b"\x89PNG\r\n\x1a\n\0\x01"),
        ("image/jpeg", b"\xff\xd8\xff\xe0"),
        ("text/css", b"body { color: red }"),
        ("application/javascript", b"var x = 1;"),
        ("application/pdf", b"%PDF-1.7"),
        ("Text/CSS; charset=utf-8", b"p { margin: 0 }"),
    ] {
        w.record(
            &[typed("response")],
            &response_with(&[("Content-Type", mime)], body),
        );
    }
    w.record(&[typed("revisit")], b"HTTP/1.1 304 Not Modified\r\n\r\n");
    w.record(&[typed("revisit")], b"");
    w.record(
        &[typed("response")],
        b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    );
    w.record(
        &[typed("resource"), ("Content-Type", "text/plain")],
        b"  \r\n ",
    );
    w.record(&[typed("response")], &response_with(&[], b"untyped notes"));
    w.record(
        &[
            typed("resource"),
            (
                "WARC-Target-URI",
                "<metadata://gnu.org/software/wget/warc/wget.log>",
            ),
            ("Content-Type", "text/plain"),
        ],
        b"Opening WARC file crawl.warc.gz.\n",
    );
    w
}

#[test]
fn a_crawl_has_no_rows_for_what_is_not_a_document_and_counts_it() {
    let out = crawl().read(&IngestOptions::default());
    assert_eq!(errors(&out), vec![]);
    let texts: Vec<&str> = out.records.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["First page.", "Second page.", "untyped notes"]);
    assert_eq!(
        skipped(&out),
        [
            ("application/javascript", 1),
            ("application/pdf", 1),
            ("empty", 3),
            ("image/jpeg", 1),
            ("image/png", 2),
            ("text/css", 2),
            ("warc/metadata", 4),
            ("warc/request", 3),
            ("warc/revisit", 2),
            ("warc/warcinfo", 1),
        ]
    );
    // Other content types on request; untyped text is filtered as
    // text/plain.
    let options = IngestOptions {
        content_types: ContentTypes::new(&["text/html", "text/css"]).expect("types"),
        ..IngestOptions::default()
    };
    let out = crawl().read(&options);
    let texts: Vec<&str> = out.records.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "First page.",
            "Second page.",
            "body { color: red }",
            "p { margin: 0 }"
        ]
    );
    // A declared type is checked first: the empty text/plain resource is
    // counted under its type, the untyped notes under the type sniffed.
    assert_eq!(out.skipped.get("text/plain"), Some(&2));
    assert_eq!(out.skipped.get("text/css"), None);
    assert_eq!(out.skipped.get("empty"), Some(&2));
}

#[test]
fn counts_are_the_same_from_ingest_paths_and_any_scan() {
    use crate::cancel::Cancel;
    use crate::ingest::scan::{ScanConfig, Scanner};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..6 {
        let w = crawl();
        std::fs::write(dir.path().join(format!("c{i}.warc")), &w.bytes).expect("write");
        for (key, n) in w.read(&IngestOptions::default()).skipped {
            *expected.entry(key).or_insert(0) += n;
        }
    }
    let paths = vec![dir.path().to_path_buf()];
    let options = IngestOptions::default();
    let collected = crate::ingest::ingest_paths(&paths, &options, &Cancel::new()).expect("ingest");
    assert_eq!(collected.skipped, expected);
    let total: u64 = expected.values().sum();
    for (threads, batch_size) in [(1, 1), (3, 2), (8, 100)] {
        let config = ScanConfig {
            batch_size,
            threads,
            window: 0,
        };
        let mut scanner = Scanner::start(&paths, &options, config).expect("scan");
        while scanner.next_batch().expect("batch").is_some() {}
        assert_eq!(scanner.skipped(), expected, "{threads} threads");
        assert_eq!(scanner.progress().skipped, total);
    }
}

#[test]
fn warc_dates_are_normalised_and_bad_ones_are_field_rows() {
    let mut w = Warc::default();
    let resource = |w: &mut Warc, date: &str| {
        w.record(
            &[
                typed("resource"),
                ("WARC-Target-URI", "file:///a.txt"),
                ("WARC-Date", date),
                ("Content-Type", "text/plain"),
            ],
            b"Some notes.",
        )
    };
    resource(&mut w, "2024-01-02T03:04:05Z");
    resource(&mut w, "2024-01-02T03:04:05.250Z");
    resource(&mut w, "2024-01-02T03:04Z");
    let bad = resource(&mut w, "99999-01-01T00:00:00Z");
    let wet = w.record(
        &[
            typed("conversion"),
            ("WARC-Date", "not a date"),
            ("Content-Type", "text/plain"),
        ],
        b"Extracted.",
    );
    let out = w.read(&IngestOptions::default());
    let dates: Vec<Option<&str>> = out.records.iter().map(|r| r.date.as_deref()).collect();
    assert_eq!(
        dates,
        vec![
            Some("2024-01-02T03:04:05Z"),
            Some("2024-01-02T03:04:05.250000Z"),
            Some("2024-01-02T03:04:00Z"),
            None,
            None,
        ]
    );
    assert_eq!(
        errors(&out),
        vec![(bad, ErrorKind::Field), (wet, ErrorKind::Field)]
    );
    assert_eq!(
        out.errors[0].reason,
        "date field \"WARC-Date\" holds \"99999-01-01T00:00:00Z\", which is not a date: not in \
         a known form (ISO 8601, RFC 3339, RFC 2822 or an epoch number); the record is kept \
         without a date"
    );
    assert!(out.records[3]
        .meta
        .as_deref()
        .unwrap()
        .contains(r#""warc_date":"99999-01-01T00:00:00Z""#));
    assert!(out.records[4]
        .meta
        .as_deref()
        .unwrap()
        .contains(r#""warc_date":"not a date""#));
}
