//! Tests of the WARC and WET parser.

use super::*;
use crate::ingest::bounded::ByteBudget;
use crate::ingest::options::Limits;
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

fn errors(out: &Ingested) -> Vec<(u64, ErrorKind)> {
    out.errors.iter().map(|e| (e.offset, e.kind)).collect()
}

fn docs(out: &Ingested) -> Vec<(u64, Format, &str)> {
    out.records
        .iter()
        .map(|r| (r.offset, r.format, r.text.as_str()))
        .collect()
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
            (response, Format::Warc, "<p>Hello</p>"),
            (resource, Format::Warc, "Some notes."),
            (wet, Format::Wet, "Extracted text\nwith two lines."),
        ]
    );
    let expected = |offset, format, text: &str| Record {
        source: "crawl.warc".to_owned(),
        member: None,
        offset,
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
                r#"{"content_type":"text/html; charset=utf-8","warc_type":"response"}"#.to_owned()
            ),
            ..expected(response, Format::Warc, "<p>Hello</p>")
        }
    );
    assert_eq!(
        out.records[1],
        Record {
            url: Some("file:///notes.txt".to_owned()),
            meta: Some(r#"{"content_type":"text/plain","warc_type":"resource"}"#.to_owned()),
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
}

#[test]
fn bodies_that_are_not_text_are_rows() {
    let mut w = Warc::default();
    let image = w.record(&[typed("response")], &http("image/png", "\u{89}PNG"));
    let pdf = w.record(
        &[typed("resource"), ("Content-Type", "application/pdf")],
        b"%PDF-1.4",
    );
    let gzip = w.record(
        &[typed("response")],
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b",
    );
    let redirect = w.record(
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
    let good = w.record(
        &[typed("response"), ("WARC-Target-URI", "https://c.example/")],
        &http("application/xhtml+xml", "<html>fine</html>"),
    );
    let out = w.read(&IngestOptions::default());
    assert_eq!(
        docs(&out),
        vec![
            (chunked, Format::Warc, "Hello, world"),
            (good, Format::Warc, "<html>fine</html>"),
        ]
    );
    assert_eq!(
        out.records[0].meta.as_deref(),
        Some(r#"{"warc_type":"response"}"#)
    );
    assert_eq!(
        errors(&out),
        vec![
            (image, ErrorKind::Unsupported),
            (pdf, ErrorKind::Unsupported),
            (gzip, ErrorKind::Unsupported),
            (redirect, ErrorKind::Empty),
            (bad_chunks, ErrorKind::Malformed),
            (binary_at, ErrorKind::Binary),
            (no_head_end, ErrorKind::Malformed),
            (segment, ErrorKind::Unsupported),
            (untyped, ErrorKind::Unsupported),
        ]
    );
    let reason = |i: usize| out.errors[i].reason.as_str();
    assert_eq!(reason(0), "non-text content (image/png); not read");
    assert_eq!(reason(1), "non-text content (application/pdf); not read");
    assert_eq!(
        reason(2),
        "HTTP Content-Encoding gzip is not decoded; not read"
    );
    assert_eq!(reason(3), "WARC response record with no text");
    assert_eq!(
        reason(7),
        "WARC-Type continuation is not read; record skipped"
    );
    assert_eq!(reason(8), "WARC-Type (missing) is not read; record skipped");
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
    let response = w.record(&[typed("response")], b"HTTP/1.1 200 OK\n\nna\xffve");
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
        vec![(bad, ErrorKind::Limit), (bad, ErrorKind::Malformed)]
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
