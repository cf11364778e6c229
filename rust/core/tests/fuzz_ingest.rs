//! Property-based fuzzing of the sniffer and every parser and container.
//!
//! Valid inputs of every format and container are built, then mutated (bytes
//! flipped, cut, inserted, deleted, spliced, numbers rewritten) and read with
//! each format forced and with detection. Whatever the bytes, reading must
//! not panic or hang (each case has [`CASE_TIMEOUT`]), must give the same
//! output twice, every problem must be an error row with a reason, no record
//! may be longer than `max_record_bytes`, and the offsets of a text member
//! lie inside it. Besides:
//! - wrapping a member in a compressed stream changes nothing, and in a tar
//!   or zip only its member path;
//! - a compressed stream, zip or tar cut short is always reported;
//! - the scanner gives the same records and errors on one thread and three;
//! - a date field holding anything (the year 99999, negative, huge or
//!   fractional epochs, junk, mixed types in one field, Arrow dates and
//!   timestamps of any value) keeps its record, with a normalised date or a
//!   `field` row.
//!
//! `THRESHER_FUZZ_CASES` sets the number of cases per property (default 256;
//! the scanner property runs a tenth of them); CI runs a bounded number.
//!
//! Inputs that once failed are kept as regression cases at the end.

// Test code: building the seed inputs may panic on a broken writer.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use proptest::prelude::*;
use thresher_core::ingest::dates;
use thresher_core::ingest::location::MEMBER_SEPARATOR;
use thresher_core::ingest::scan::{ScanConfig, Scanner};
use thresher_core::ingest::sniff::{sniff, Sniffed};
use thresher_core::ingest::{
    ingest_bytes, Format, FormatChoice, HtmlMode, IngestError, IngestOptions, Ingested, Limits,
    Record, TextUnit,
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
    warc_of(&[
        (
            "response",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello page</p>",
        ),
        ("conversion", b"Plain extracted text of the page."),
    ])
}

/// A WARC whose response has a chunked HTTP body (with a chunk extension).
fn warc_chunked() -> Vec<u8> {
    warc_of(&[(
        "response",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nHello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
    )])
}

/// A WARC of `(WARC-Type, block)` records.
fn warc_of(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(kind, block) in records {
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
    zip_with(members, zip::CompressionMethod::Deflated)
}

fn zip_with(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in members {
        writer.start_file(*name, options).expect("zip member");
        writer.write_all(data).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2")
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).expect("xz");
    e.finish().expect("xz")
}

/// A member name longer than a tar header holds: the tar crate writes a GNU
/// long-name entry before it.
const LONG_NAME: &str = "a/very/long/directory/name/that/does/not/fit/in/the/hundred/bytes/of/a/tar/header/field/doc.jsonl";

/// Valid inputs of every format and container, built once.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(build_seeds)
}

fn build_seeds() -> Vec<Vec<u8>> {
    let listing = listing();
    let jsonl = jsonl();
    let warc = warc();
    let parquet = parquet();
    let jsonl_bad_utf8 = b"{\"text\": \"caf\xe9 au lait\"}\n{\"text\": \"ok\"}\n".to_vec();
    let mut nested_zip = zip(&[("deep.txt", TEXT)]);
    for _ in 0..2 {
        nested_zip = zip(&[("a.zip", &nested_zip), ("b.zip", &nested_zip)]);
    }
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
        warc_chunked(),
        zip_with(
            &[("s.txt", TEXT), ("t.warc", &warc)],
            zip::CompressionMethod::Stored,
        ),
        bzip2(&jsonl),
        xz(TEXT),
        tar(&[(LONG_NAME, &jsonl), ("short.txt", TEXT)]),
        jsonl_bad_utf8,
        [BOM, &jsonl[..]].concat(),
        [BOM, &warc[..]].concat(),
        jsonl_surrogates(),
        // Zips nested three deep, two copies at each level.
        zip(&[("n0.zip", &nested_zip), ("n1.zip", &nested_zip)]),
        // Two entries of one name, and one with its own.
        raw_zip(
            &[(b"first".as_slice()), (b"second".as_slice()), (TEXT)],
            &[("a.txt", 0), ("a.txt", 1), ("b.txt", 2)],
        ),
        // Dates of every kind, good and bad, mixed in one field.
        jsonl_dates(),
        dates_arrow_stream(),
    ]
}

/// Date values of every kind the date parser meets, valid and not, as JSON.
const DATE_VALUES: [&str; 18] = [
    "\"2024-01-02T03:04:05+01:00\"",
    "\"2024-01-02 03:04\"",
    "\"Tue, 1 Jul 2003 10:52:37 +0200\"",
    "\"99999-01-01T00:00:00Z\"",
    "\"+99999-01-01\"",
    "\"0000-12-31\"",
    "1700000000",
    "1700000000123",
    "-86400",
    "-62135596801",
    "1700000000.5",
    "123456789012345678901234567890",
    "-9223372036854775808",
    "1e308",
    "true",
    "[2024, 1, 2]",
    "{\"y\": 2024}",
    "\"yesterday\"",
];

/// JSON Lines whose `date` field holds each of [`DATE_VALUES`].
fn jsonl_dates() -> Vec<u8> {
    DATE_VALUES
        .iter()
        .enumerate()
        .map(|(i, date)| format!("{{\"text\": \"dated {i}\", \"date\": {date}}}\n"))
        .collect::<String>()
        .into_bytes()
}

/// An Arrow stream with a timestamp column, an out-of-range value included.
fn dates_arrow_stream() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Second, Some("+02:00".into())),
            true,
        ),
    ]));
    let b = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
            Arc::new(
                TimestampSecondArray::from(vec![Some(1_700_000_000), None, Some(-86_400)])
                    .with_timezone("+02:00"),
            ),
        ],
    )
    .expect("batch");
    stream_of(&b)
}

fn stream_of(b: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer =
        arrow_ipc::writer::StreamWriter::try_new(&mut out, &b.schema()).expect("writer");
    writer.write(b).expect("write");
    writer.finish().expect("finish");
    drop(writer);
    out
}

/// A UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// JSON Lines as Python's `json.dumps` writes strings holding lone
/// surrogates, with a valid surrogate pair between them.
fn jsonl_surrogates() -> Vec<u8> {
    concat!(
        "{\"text\": \"lone \\ud800 high\", \"t\": \"\\udc00\"}\n",
        "{\"text\": \"pair \\ud83d\\ude00 and \\uDFFF low\"}\n",
    )
    .as_bytes()
    .to_vec()
}

/// Byte strings worth inserting: a byte order mark, escapes of lone and
/// paired surrogates, a WARC version line.
const TOKENS: [&[u8]; 5] = [
    BOM,
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\r\nWARC/1.0\r\n",
];

/// A zip written by hand, for what zip writers refuse to write: `bodies`
/// are stored entries (local headers named `l{k}.txt`) in file order,
/// `central` the central-directory entries as `(name, index into bodies)`,
/// so that entries may share a name or point at one local header.
fn raw_zip(bodies: &[&[u8]], central: &[(&str, usize)]) -> Vec<u8> {
    let crc = |data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        crc.sum()
    };
    let u16_le = |n: usize| u16::try_from(n).expect("u16").to_le_bytes();
    let u32_le = |n: usize| u32::try_from(n).expect("u32").to_le_bytes();
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for (k, data) in bodies.iter().enumerate() {
        let name = format!("l{k}.txt");
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
    for &(name, k) in central {
        let data = bodies[k];
        out.extend_from_slice(b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00");
        out.extend_from_slice(&crc(data).to_le_bytes());
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u32_le(data.len()));
        out.extend_from_slice(&u16_le(name.len()));
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
        out.extend_from_slice(&u32_le(offsets[k]));
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

/// One edit of a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize),
    /// Replaces the run of ASCII digits at or after a position (a length,
    /// a chunk size, a tar octal field) with another number.
    Number(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(p, x)| Mutation::Flip(p, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), prop::sample::select(&TOKENS[..]))
            .prop_map(|(p, t)| Mutation::Insert(p, t.to_vec())),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Repeat(p, n)),
        (
            any::<usize>(),
            prop_oneof![0..1024u64, Just(u64::MAX), any::<u64>()]
        )
            .prop_map(|(p, n)| Mutation::Number(p, n)),
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
            Mutation::Number(p, n) => {
                let at = p % len;
                let Some(start) = data[at..].iter().position(u8::is_ascii_digit) else {
                    continue;
                };
                let start = at + start;
                let end = data[start..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(len, |e| start + e);
                data.splice(start..end, n.to_string().into_bytes());
            }
        }
    }
    data
}

/// Record limits a case may run with: roomy, and small enough that the
/// seeds' records (rows, lines, WARC blocks) hit them.
const RECORD_LIMITS: [u64; 3] = [1 << 20, 64, 8];

/// Longest a case may take to read (twice); far above what any case needs,
/// so that only a hang (or a near-hang) trips it.
const CASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Small limits so that mutated length fields cannot make a case slow.
fn options(format: FormatChoice, unit: TextUnit) -> IngestOptions {
    options_with(format, unit, RECORD_LIMITS[0])
}

fn options_with(format: FormatChoice, unit: TextUnit, max_record_bytes: u64) -> IngestOptions {
    IngestOptions {
        format,
        text_unit: unit,
        limits: Limits {
            max_member_bytes: 4 << 20,
            max_input_bytes: 8 << 20,
            max_record_bytes,
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

fn unit() -> impl Strategy<Value = TextUnit> {
    prop_oneof![
        Just(TextUnit::File),
        Just(TextUnit::Line),
        Just(TextUnit::Paragraph)
    ]
}

/// Reads `data` twice on another thread; fails if that takes longer than
/// [`CASE_TIMEOUT`] (a hang), or if the two reads differ.
fn read_twice_in_time(data: &[u8], options: &IngestOptions) -> Ingested {
    let (data, options) = (data.to_vec(), options.clone());
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let first = ingest_bytes("fuzz.bin", &data, &options);
        let again = ingest_bytes("fuzz.bin", &data, &options);
        // The receiver is gone only when the case already failed on time.
        let _ = done.send((first, again));
    });
    let (first, again) = match result.recv_timeout(CASE_TIMEOUT) {
        Ok(both) => both,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading took more than {CASE_TIMEOUT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the reading thread panicked"),
    };
    assert_eq!(first, again, "reading the same bytes twice differed");
    first
}

/// Error rows that stand for one input record each: all but
/// `invalid_utf8` rows (their records are kept) and the `empty` row of a
/// member that gave no record.
fn outcome_rows(out: &Ingested) -> usize {
    out.errors
        .iter()
        .filter(|e| e.kind.name() != "invalid_utf8" && !e.reason.starts_with("no records from"))
        .count()
}

/// Checks the invariants that hold for any output read with `options`.
fn check_output(out: &Ingested, options: &IngestOptions) {
    let max = options.limits.max_record_bytes;
    for e in &out.errors {
        assert!(!e.reason.trim().is_empty(), "error row without a reason");
    }
    // An input that gives no record says so, once per member at most.
    let mut empty: Vec<Option<&str>> = out
        .errors
        .iter()
        .filter(|e| e.kind.name() == "empty" && e.offset == 0)
        .map(|e| e.member.as_deref())
        .collect();
    assert!(
        !out.records.is_empty() || !empty.is_empty(),
        "no record and no empty row: {out:?}"
    );
    let rows = empty.len();
    empty.dedup();
    assert_eq!(empty.len(), rows, "two empty rows for one member: {out:?}");
    check_parts(&out.records, options.text_unit);
    for r in &out.records {
        // Each invalid byte may become a 3-byte U+FFFD; valid text never grows.
        let allowed = if r.invalid_utf8 { max * 3 } else { max };
        assert!(
            r.text.len() as u64 <= allowed,
            "record of {} bytes, more than max_record_bytes ({max}): {r:?}",
            r.text.len()
        );
        if let Some(meta) = &r.meta {
            let parsed: serde_json::Value = serde_json::from_str(meta).expect("meta is JSON");
            assert!(parsed.is_object(), "meta is a JSON object");
        }
    }
}

/// `part` numbers the units of a source record (of a member, for plain
/// text) from 0, and is `None` with whole files.
fn check_parts(records: &[Record], unit: TextUnit) {
    let mut previous: Option<&Record> = None;
    for r in records {
        if unit == TextUnit::File {
            assert_eq!(r.part, None, "{r:?}");
            continue;
        }
        let same_source = previous.is_some_and(|p| {
            p.member == r.member && (r.format == Format::PlainText || p.offset == r.offset)
        });
        let expected = match previous {
            Some(p) if same_source => p.part.map(|n| n + 1),
            _ => Some(0),
        };
        assert_eq!(r.part, expected, "part after {previous:?}: {r:?}");
        previous = Some(r);
    }
}

/// Reads `data` and checks the invariants that hold for any input.
fn check(data: &[u8], options: &IngestOptions) -> Ingested {
    let out = read_twice_in_time(data, options);
    check_output(&out, options);
    // A text format read as is: offsets are byte offsets into `data`.
    if let Sniffed::Format(format) = sniff(data, options.format) {
        if !matches!(format, Format::Parquet | Format::Arrow) {
            let len = data.len() as u64;
            for r in &out.records {
                assert!(
                    r.offset < len,
                    "record offset {} past the data: {r:?}",
                    r.offset
                );
            }
            for e in &out.errors {
                assert!(
                    e.offset <= len,
                    "error offset {} past the data: {e:?}",
                    e.offset
                );
            }
        }
    }
    assert!(out.records.iter().all(|r| r.source == "fuzz.bin"));
    assert!(out.errors.iter().all(|e| e.source == "fuzz.bin"));
    out
}

/// Reads `dir` with the scanner on `threads` threads, in batches of 3
/// records so that batches cut across files: the records (as one Arrow
/// batch) and the error rows.
fn scan(dir: &Path, options: &IngestOptions, threads: usize) -> (RecordBatch, Vec<IngestError>) {
    let config = ScanConfig {
        batch_size: 3,
        threads,
        window: 0,
    };
    let mut scanner = Scanner::start(&[dir.to_path_buf()], options, config).expect("scanner");
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    let mut next_doc_id = 0;
    while let Some(batch) = scanner.next_batch().expect("batch") {
        assert_eq!(batch.first_doc_id, next_doc_id, "doc ids run on");
        next_doc_id += batch.num_rows() as u64;
        records.extend(batch.records);
        errors.extend(batch.errors);
    }
    let schema = thresher_core::ingest::arrow::records_schema().expect("schema");
    let records = arrow_select::concat::concat_batches(&schema, &records).expect("concat");
    (records, errors)
}

#[test]
fn seeds_read_without_errors() {
    for (i, seed) in seeds().iter().enumerate() {
        let out = check(seed, &options(FormatChoice::Auto, TextUnit::File));
        assert!(!out.records.is_empty(), "seed {i} gave no records");
        // The one seed with invalid UTF-8 reports it, and keeps the record.
        assert!(
            out.errors
                .iter()
                .all(|e| matches!(e.kind.name(), "missing_field" | "invalid_utf8" | "field")),
            "seed {i}: {:?}",
            out.errors
        );
    }
}

/// The seeds' paths through the containers: each is read as expected.
#[test]
fn seeds_cover_their_paths() {
    let opts = options(FormatChoice::Auto, TextUnit::File);
    let texts = |i: usize| -> Vec<String> {
        check(&seeds()[i], &opts)
            .records
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(texts(13), ["Hello, world"]);
    assert_eq!(texts(14).len(), 3);
    assert_eq!(texts(15), ["first row", "second row"]);
    assert_eq!(texts(16).len(), 1);
    let long = check(&seeds()[17], &opts);
    assert_eq!(
        long.records[0].member.as_deref(),
        Some(LONG_NAME),
        "{long:?}"
    );
    let bad = check(&seeds()[18], &opts);
    assert!(bad.records[0].invalid_utf8);
    assert_eq!(bad.errors[0].kind.name(), "invalid_utf8");
    // A byte order mark hides no format.
    let formats = |i: usize| -> Vec<Format> {
        check(&seeds()[i], &opts)
            .records
            .iter()
            .map(|r| r.format)
            .collect()
    };
    assert_eq!(formats(19), formats(2));
    assert_eq!(texts(19), texts(2));
    assert_eq!(formats(20), formats(3));
    assert_eq!(texts(20), texts(3));
    // Lone surrogate escapes are U+FFFD, the records kept and flagged.
    let lone = check(&seeds()[21], &opts);
    assert_eq!(
        texts(21),
        ["lone \u{fffd} high", "pair \u{1f600} and \u{fffd} low"]
    );
    assert!(lone
        .records
        .iter()
        .all(|r| r.format == Format::Jsonl && r.invalid_utf8));
    assert_eq!(lone.errors.len(), 2);
    let members = |i: usize| -> Vec<String> {
        check(&seeds()[i], &opts)
            .records
            .into_iter()
            .map(|r| r.member.unwrap_or_default())
            .collect()
    };
    let nested = members(22);
    assert_eq!(nested.len(), 8);
    assert_eq!(nested[0], "n0.zip!/a.zip!/a.zip!/deep.txt");
    assert_eq!(nested[7], "n1.zip!/b.zip!/b.zip!/deep.txt");
    assert_eq!(members(23), ["a.txt", "a.txt@41", "b.txt"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Zips whose central-directory entries share names and point at shared
    /// bodies, nested in zips or not: every entry is a record or a `corrupt`
    /// row (never dropped), no two records share a member path, and each
    /// body is read once however many entries point at it. Mutated, they
    /// keep the invariants of any input.
    #[test]
    fn zip_entries_sharing_names_and_bodies(
        entries in prop::collection::vec((0..3usize, 0..3usize), 1..8),
        nesting in 0..3usize,
        mutations in prop::collection::vec(mutation(), 0..3),
    ) {
        let bodies: [&[u8]; 3] = [b"body zero", b"body one", b"body two"];
        let names = ["a.txt", "b.txt", "a.txt\u{0}"];
        let central: Vec<(&str, usize)> =
            entries.iter().map(|&(name, body)| (names[name], body)).collect();
        let mut data = raw_zip(&bodies, &central);
        for level in 0..nesting {
            data = zip(&[(&format!("z{level}.zip"), &data)]);
        }
        let opts = options(FormatChoice::Auto, TextUnit::File);
        let out = check(&data, &opts);
        let corrupt = out.errors.iter().filter(|e| e.kind.name() == "corrupt").count();
        prop_assert_eq!(out.records.len() + corrupt, entries.len(), "{:?}", out);
        let mut paths: Vec<_> = out.records.iter().map(|r| r.member.clone()).collect();
        paths.sort();
        paths.dedup();
        prop_assert_eq!(paths.len(), out.records.len(), "{:?}", out);
        let mut used: Vec<usize> = entries.iter().map(|&(_, body)| body).collect();
        used.sort_unstable();
        used.dedup();
        let mut texts: Vec<_> = out.records.iter().map(|r| r.text.clone()).collect();
        texts.sort();
        let mut expected: Vec<String> = used
            .iter()
            .map(|&k| String::from_utf8_lossy(bodies[k]).into_owned())
            .collect();
        expected.sort();
        prop_assert_eq!(texts, expected);
        check(&apply(data, &mutations), &opts);
    }

    /// Zips nested in zips, several copies at each level: the input's
    /// budget holds over all levels together (every record fits in it, and
    /// a limit row says when it was spent).
    #[test]
    fn nested_zips_share_one_budget(
        depth in 1..4usize,
        copies in 1..6usize,
        words in 1..40_000usize,
    ) {
        let text: String = (0..words).map(|i| format!("w{} ", i % 977)).collect();
        let mut data = zip(&[("t.txt", text.as_bytes())]);
        for _ in 0..depth {
            let names: Vec<String> = (0..copies).map(|i| format!("c{i}.zip")).collect();
            let members: Vec<(&str, &[u8])> =
                names.iter().map(|n| (n.as_str(), data.as_slice())).collect();
            data = zip(&members);
        }
        let opts = options(FormatChoice::Auto, TextUnit::File);
        let out = check(&data, &opts);
        let read: usize = out.records.iter().map(|r| r.text.len()).sum();
        prop_assert!(read as u64 <= opts.limits.max_input_bytes);
        let leaves = copies.pow(u32::try_from(depth).expect("depth"));
        if out.records.len() < leaves {
            prop_assert!(
                out.errors.iter().any(|e| e.kind.name() == "limit"),
                "{} of {} leaves read without a limit row", out.records.len(), leaves
            );
        } else {
            prop_assert!(out.errors.is_empty(), "{:?}", out.errors);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_never_panic(
        seed in 0..seeds().len(),
        mutations in prop::collection::vec(mutation(), 1..6),
        choice in 0..8usize,
        unit in unit(),
        record_limit in 0..RECORD_LIMITS.len(),
        html in 0..3usize,
    ) {
        let data = apply(seeds()[seed].clone(), &mutations);
        // HTML turned into text, then cut into units, in text members too.
        let html = [None, Some(HtmlMode::Text), Some(HtmlMode::Main)][html];
        let options = IngestOptions {
            html,
            ..options_with(choices()[choice], unit, RECORD_LIMITS[record_limit])
        };
        check(&data, &options);
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
        seed in 0..seeds().len(),
        mutations in prop::collection::vec(mutation(), 0..3),
    ) {
        let data = apply(seeds()[seed].clone(), &mutations);
        // The sniffer looks at a prefix only: any cut of it must not panic.
        for cut in [0, 1, 4, 8, 262, 511, 512, 1024] {
            let _ = sniff(&data[..cut.min(data.len())], FormatChoice::Auto);
        }
    }
}

/// A container put around a member to check that reading through it changes
/// nothing but the member path.
#[derive(Debug, Clone, Copy)]
enum Wrapper {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
    Tar,
    Zip,
    ZipStored,
}

impl Wrapper {
    const ALL: [Wrapper; 7] = [
        Wrapper::Gzip,
        Wrapper::Zstd,
        Wrapper::Bzip2,
        Wrapper::Xz,
        Wrapper::Tar,
        Wrapper::Zip,
        Wrapper::ZipStored,
    ];

    /// Name of the one member of an archive wrapper.
    const MEMBER: &'static str = "m.bin";

    fn wrap(self, data: &[u8]) -> Vec<u8> {
        match self {
            Wrapper::Gzip => gzip(data),
            Wrapper::Zstd => zstd::encode_all(data, 3).expect("zstd"),
            Wrapper::Bzip2 => bzip2(data),
            Wrapper::Xz => xz(data),
            Wrapper::Tar => tar(&[(Self::MEMBER, data)]),
            Wrapper::Zip => zip(&[(Self::MEMBER, data)]),
            Wrapper::ZipStored => zip_with(&[(Self::MEMBER, data)], zip::CompressionMethod::Stored),
        }
    }

    fn is_archive(self) -> bool {
        matches!(self, Wrapper::Tar | Wrapper::Zip | Wrapper::ZipStored)
    }
}

/// A member path one archive level down.
fn nested(member: &Option<String>) -> Option<String> {
    Some(match member {
        None => Wrapper::MEMBER.to_owned(),
        Some(inner) => format!("{}{MEMBER_SEPARATOR}{inner}", Wrapper::MEMBER),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// A member read inside a (valid) compressed stream gives exactly what it
    /// gives on its own; inside a tar or zip, the same records and error rows
    /// (kind and offset; the wording may say "member" for "file") one member
    /// level down.
    #[test]
    fn wrapping_a_member_changes_only_its_path(
        seed in 0..seeds().len(),
        mutations in prop::collection::vec(mutation(), 0..5),
        wrapper in 0..Wrapper::ALL.len(),
        choice in 0..8usize,
        unit in unit(),
        record_limit in 0..RECORD_LIMITS.len(),
    ) {
        let wrapper = Wrapper::ALL[wrapper];
        let data = apply(seeds()[seed].clone(), &mutations);
        let opts = options_with(choices()[choice], unit, RECORD_LIMITS[record_limit]);
        let bare = check(&data, &opts);
        let wrapped = check(&wrapper.wrap(&data), &opts);
        if !wrapper.is_archive() {
            prop_assert_eq!(wrapped, bare);
            return Ok(());
        }
        let moved: Vec<Record> = bare
            .records
            .into_iter()
            .map(|r| Record { member: nested(&r.member), ..r })
            .collect();
        prop_assert_eq!(wrapped.records, moved);
        let where_what = |errors: &[IngestError]| -> Vec<(Option<String>, u64, &'static str)> {
            errors.iter().map(|e| (e.member.clone(), e.offset, e.kind.name())).collect()
        };
        let moved_errors: Vec<_> = where_what(&bare.errors)
            .into_iter()
            .map(|(member, offset, kind)| (nested(&member), offset, kind))
            .collect();
        prop_assert_eq!(where_what(&wrapped.errors), moved_errors);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// A compressed stream, zip or tar archive cut short is reported:
    /// whatever records come out, at least one error row says data was lost.
    #[test]
    fn a_cut_container_is_never_silent(
        seed in 0..seeds().len(),
        wrapper in 0..Wrapper::ALL.len(),
        cut in any::<usize>(),
    ) {
        let wrapper = Wrapper::ALL[wrapper];
        let mut data = wrapper.wrap(&seeds()[seed]);
        // A tar ends with its member's padding (under 512 bytes) and two zero
        // blocks: a cut there loses nothing, so cut before them.
        let end = if matches!(wrapper, Wrapper::Tar) { data.len() - 1536 } else { data.len() };
        // Keep the magic bytes (6 for xz), or it is no longer that container.
        data.truncate(6 + cut % (end - 6));
        let out = check(&data, &options(FormatChoice::Auto, TextUnit::File));
        prop_assert!(
            // (A cut header leaves binary junk: that is reported too.)
            out.errors.iter().any(|e| matches!(e.kind.name(), "corrupt" | "empty" | "binary")),
            "cut at {} of {:?}: {:?}", data.len(), wrapper, out
        );
    }
}

proptest! {
    // Files and threads are slow: a tenth of the cases, at least 8.
    #![proptest_config(ProptestConfig { cases: (cases() / 10).max(8), failure_persistence: None, ..ProptestConfig::default() })]

    /// The same files give the same records and error rows, in the same
    /// order, on one thread and on three; and the scanner (which reads zip,
    /// Parquet and Arrow files in place) keeps the invariants.
    #[test]
    fn scanning_is_the_same_on_any_thread_count(
        files in prop::collection::vec(
            (0..seeds().len(), prop::collection::vec(mutation(), 0..4)),
            1..6,
        ),
        choice in 0..8usize,
        unit in unit(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        for (i, (seed, mutations)) in files.iter().enumerate() {
            let data = apply(seeds()[*seed].clone(), mutations);
            std::fs::write(dir.path().join(format!("f{i}.bin")), data).expect("write");
        }
        let opts = options(choices()[choice], unit);
        let one = scan(dir.path(), &opts, 1);
        let three = scan(dir.path(), &opts, 3);
        prop_assert_eq!(&one, &three);
    }
}

/// A date value as JSON: strings in the accepted forms with components in
/// and out of range (the year 99999, month 13, hour 25), numbers of any size
/// and sign (negative epochs, floats, integers beyond 64 bits), numeric
/// strings, junk strings, booleans, arrays, objects and null.
fn date_value() -> impl Strategy<Value = String> {
    let iso = (
        0u32..=120_000,
        0u32..=13,
        0u32..=32,
        0u32..=25,
        0u32..=61,
        0u32..=61,
        prop::option::of(0u32..1_000_000_000),
        prop::sample::select(vec!["Z", "", "+02:00", "-0930", "+14", "z", "+99:99"]),
        prop::sample::select(vec!["T", " ", "t"]),
    )
        .prop_map(|(y, mo, d, h, mi, s, f, zone, sep)| {
            let frac = f.map(|f| format!(".{f}")).unwrap_or_default();
            format!("\"{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{frac}{zone}\"")
        });
    let rfc2822 = (
        prop::sample::select(vec!["Mon", "Tue", "Sun", "Xyz"]),
        0u32..=40,
        prop::sample::select(vec!["Jan", "Jul", "Dec", "Foo"]),
        0u32..=120_000,
        0u32..=25,
        0u32..=61,
        prop::sample::select(vec!["+0200", "GMT", "-9999", "UT"]),
    )
        .prop_map(|(wd, d, mo, y, h, m, z)| format!("\"{wd}, {d} {mo} {y} {h:02}:{m:02}:00 {z}\""));
    prop_oneof![
        iso,
        rfc2822,
        any::<i64>().prop_map(|n| n.to_string()),
        (-200_000_000_000_000i64..300_000_000_000_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| serde_json::to_string(&x).expect("float")),
        "-?[1-9][0-9]{18,60}(\\.[0-9]{1,12})?",
        "-?[1-9](\\.[0-9]{1,3})?e-?[0-9]{1,4}",
        any::<i64>().prop_map(|n| format!("\"{n}\"")),
        "\\PC{0,40}".prop_map(|s| serde_json::to_string(&s).expect("string")),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_owned()),
        Just("[1, 2]".to_owned()),
        Just("{\"y\": 2024}".to_owned()),
    ]
}

/// A date column of any Arrow type the date reader handles (and one it does
/// not), built from arbitrary 64-bit values.
fn date_column(kind: usize, values: &[Option<i64>], texts: &[String]) -> ArrayRef {
    let ints = || Int64Array::from(values.to_vec());
    match kind {
        0 => Arc::new(ints()),
        1 => Arc::new(Float64Array::from_iter(
            values.iter().map(|v| v.map(|v| f64::from_bits(v as u64))),
        )),
        2 => Arc::new(TimestampSecondArray::from(values.to_vec()).with_timezone("+05:30")),
        3 => Arc::new(TimestampMillisecondArray::from(values.to_vec())),
        4 => Arc::new(TimestampMicrosecondArray::from(values.to_vec()).with_timezone("UTC")),
        5 => Arc::new(TimestampNanosecondArray::from(values.to_vec())),
        6 => Arc::new(Date32Array::from_iter(
            values.iter().map(|v| v.map(|v| v as i32)),
        )),
        7 => Arc::new(Date64Array::from(values.to_vec())),
        8 => Arc::new(UInt64Array::from_iter(
            values.iter().map(|v| v.map(|v| v as u64)),
        )),
        9 => Arc::new(BooleanArray::from_iter(
            values.iter().map(|v| v.map(|v| v % 2 == 0)),
        )),
        _ => Arc::new(StringArray::from_iter(
            values
                .iter()
                .zip(texts.iter().cycle())
                .map(|(v, t)| v.map(|_| t.as_str())),
        )),
    }
}

/// Checks what holds for records read with dates: every record is kept; a
/// date, when there is one, is in the normalised form (it parses to itself);
/// each `field` row is at a record without a date.
fn check_dates(out: &Ingested, records: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.records.len(), records, "{:?}", out.errors);
    for r in &out.records {
        if let Some(date) = &r.date {
            prop_assert!(date.len() == 20 || date.len() == 27, "{}", date);
            prop_assert!(
                date.ends_with('Z') && date.as_bytes()[10] == b'T',
                "{}",
                date
            );
            let again = dates::parse_str(date);
            prop_assert_eq!(again.as_ref(), Ok(date));
        }
    }
    for e in &out.errors {
        prop_assert_eq!(e.kind.name(), "field", "{:?}", e);
        prop_assert!(e.reason.starts_with("date field "), "{}", e.reason);
        let record = out.records.iter().find(|r| r.offset == e.offset);
        prop_assert!(record.is_some_and(|r| r.date.is_none()), "{:?}", e);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Date fields holding anything, of mixed types in one field: the
    /// records are all kept, with a normalised date or a `field` row.
    #[test]
    fn jsonl_dates_of_any_value_keep_their_records(
        values in prop::collection::vec(date_value(), 1..12),
        field in prop::sample::select(vec!["date", "timestamp", "created_at"]),
    ) {
        let data: String = values
            .iter()
            .map(|v| format!("{{\"text\": \"t\", \"{field}\": {v}}}\n"))
            .collect();
        let out = check(data.as_bytes(), &options(FormatChoice::Auto, TextUnit::File));
        check_dates(&out, values.len())?;
    }

    /// Date columns of any type holding any value, read from Arrow and
    /// Parquet: the same.
    #[test]
    fn columnar_dates_of_any_value_keep_their_rows(
        kind in 0..11usize,
        values in prop::collection::vec(prop::option::of(prop_oneof![
            any::<i64>(),
            -100_000_000_000i64..100_000_000_000,
            -3_000_000i64..3_000_000,
        ]), 1..12),
        texts in prop::collection::vec(prop_oneof![
            date_value(),
            "\\PC{0,30}",
        ], 1..4),
    ) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, false),
            Field::new("date", date_column(kind, &values, &texts).data_type().clone(), true),
        ]));
        let text = Arc::new(StringArray::from(vec!["t"; values.len()]));
        let b = RecordBatch::try_new(schema, vec![text, date_column(kind, &values, &texts)])
            .expect("batch");
        let out = check(&stream_of(&b), &options(FormatChoice::Auto, TextUnit::File));
        check_dates(&out, values.len())?;
        // Parquet stores seconds as milliseconds: a second out of that range
        // cannot be written.
        let mut bytes = Vec::new();
        let written = parquet::arrow::ArrowWriter::try_new(&mut bytes, b.schema(), None)
            .and_then(|mut w| {
                w.write(&b)?;
                w.close()
            });
        if written.is_ok() {
            let out = check(&bytes, &options(FormatChoice::Auto, TextUnit::File));
            check_dates(&out, values.len())?;
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

/// Cut containers the fuzzer found read without an error row; each must now
/// report the loss.
#[test]
fn regressions_cut_containers() {
    let cut = |mut data: Vec<u8>, at: usize| {
        data.truncate(at);
        data
    };
    let stored = zip::CompressionMethod::Stored;
    let inner_zip = zip_with(&[("s.txt", TEXT)], stored);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // The Arrow stream reader took the gzip decoder's UnexpectedEof for
        // the end of the stream.
        ("gzip of an arrow stream, cut at 268", {
            let data = gzip(&arrow_stream());
            cut(data, 268)
        }),
        // The zip crate read the stored inner zip as the archive, at the
        // wrong member paths, and said nothing of the lost outer one.
        ("stored zip in a stored zip, cut in the outer directory", {
            let data = zip_with(&[("m.bin", &inner_zip)], stored);
            let len = data.len();
            cut(data, len - 10)
        }),
    ];
    for (name, data) in cases {
        let out = check(&data, &options(FormatChoice::Auto, TextUnit::File));
        assert!(
            out.errors.iter().any(|e| e.kind.name() == "corrupt"),
            "{name}: {out:?}"
        );
        assert!(
            out.records
                .iter()
                .all(|r| r.member.as_deref().is_none_or(|m| m.starts_with("m.bin"))),
            "{name}: {out:?}"
        );
    }
}

// HTTP payloads in WARC files: codings and character sets (issue 15).
//
// Responses are built with any stack of codings (known, unknown and
// repeated) and any declared charset (right, wrong, unknown), in the HTTP
// header or in a `<meta>`, then optionally mutated. Whatever they are,
// reading must not panic or hang, must give the same output (counts of
// skipped records included) twice, and must keep the invariants of
// `check`. Unmutated, every record is exactly one of: a document, a
// skipped count, or an error row; and a page with known codings and its
// true charset declared reads back as its text.

/// Short texts of several scripts, each with an encoding that can hold it.
const CHARSET_TEXTS: [(&str, &str); 6] = [
    ("shift_jis", "猫が窓の外で鳥を見ています。"),
    ("gbk", "这本书讲的是一个小村庄的故事。"),
    ("euc-kr", "우리는 주말마다 시장에 갑니다."),
    ("windows-1251", "Кошка спит на тёплом подоконнике."),
    ("iso-8859-2", "Příliš žluťoučký kůň úpěl."),
    ("utf-8", "Plain ASCII words, then ünïcödé."),
];

/// Codings a response may declare: each is applied to the body as named,
/// except the last two, which are not codings a decoder knows.
const CODINGS: [&str; 9] = [
    "gzip", "x-gzip", "deflate", "br", "zstd", "identity", "chunked", "compress", "bogus",
];

/// Applies a coding to a body as a server would; `raw` deflate is sent
/// without its zlib wrapper.
fn encode_coding(coding: &str, body: &[u8], raw: bool) -> Vec<u8> {
    match coding {
        "gzip" | "x-gzip" => gzip(body),
        "deflate" if raw => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body).expect("deflate");
            e.finish().expect("deflate")
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body).expect("zlib");
            e.finish().expect("zlib")
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 3, 18);
                w.write_all(body).expect("brotli");
            }
            out
        }
        "zstd" => zstd::encode_all(body, 1).expect("zstd"),
        "chunked" => {
            let mut out = Vec::new();
            for chunk in body.chunks(7) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }
        _ => body.to_vec(),
    }
}

/// How one fuzzed response is built.
#[derive(Debug, Clone)]
struct Payload {
    text: usize,
    /// The charset declared, by index into `CHARSET_TEXTS` (possibly not
    /// the text's own), or an unknown label, or none.
    declared: Option<Result<usize, String>>,
    in_meta: bool,
    html: bool,
    codings: Vec<usize>,
    raw_deflate: bool,
    /// In `Transfer-Encoding` rather than `Content-Encoding`.
    transfer: bool,
}

fn payload() -> impl Strategy<Value = Payload> {
    (
        0..CHARSET_TEXTS.len(),
        prop_oneof![
            Just(None),
            (0..CHARSET_TEXTS.len()).prop_map(|i| Some(Ok(i))),
            "[a-z0-9_-]{0,12}".prop_map(|l| Some(Err(l))),
        ],
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0..CODINGS.len(), 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(text, declared, in_meta, html, codings, raw_deflate, transfer)| Payload {
                text,
                declared,
                in_meta,
                html,
                codings,
                raw_deflate,
                transfer,
            },
        )
}

impl Payload {
    fn label(&self) -> Option<String> {
        match &self.declared {
            None => None,
            Some(Ok(i)) => Some(CHARSET_TEXTS[*i].0.to_owned()),
            Some(Err(label)) => Some(label.clone()),
        }
    }

    /// The document before encoding, as a string.
    fn document(&self) -> String {
        let text = CHARSET_TEXTS[self.text].1;
        if !self.html {
            return text.to_owned();
        }
        let meta = match (self.in_meta, self.label()) {
            (true, Some(label)) => format!("<meta charset=\"{label}\">"),
            _ => String::new(),
        };
        format!("<html><head>{meta}</head><body><p>{text}</p></body></html>")
    }

    /// The HTTP response.
    fn response(&self) -> Vec<u8> {
        let own = CHARSET_TEXTS[self.text].0;
        let encoding = encoding_rs::Encoding::for_label(own.as_bytes()).expect("label");
        let document = self.document();
        let (bytes, _, _) = encoding.encode(&document);
        let mut body = bytes.into_owned();
        let names: Vec<&str> = self.codings.iter().map(|&i| CODINGS[i]).collect();
        for name in &names {
            body = encode_coding(name, &body, self.raw_deflate);
        }
        let mime = if self.html { "text/html" } else { "text/plain" };
        let content_type = match (self.in_meta && self.html, self.label()) {
            (false, Some(label)) => format!("{mime}; charset={label}"),
            _ => mime.to_owned(),
        };
        let coding_header = if self.transfer {
            "Transfer-Encoding"
        } else {
            "Content-Encoding"
        };
        let mut out = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n");
        if !names.is_empty() {
            out.push_str(&format!("{coding_header}: {}\r\n", names.join(", ")));
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// Whether reading must give back the document's text exactly: every
    /// coding known, and the true charset declared or none at all for
    /// UTF-8. (A chunked coding under a compression is valid too.)
    fn round_trips(&self) -> bool {
        let known = self
            .codings
            .iter()
            .all(|&i| !matches!(CODINGS[i], "compress" | "bogus"));
        let declared_right = match &self.declared {
            Some(Ok(i)) => CHARSET_TEXTS[*i].0 == CHARSET_TEXTS[self.text].0,
            None => CHARSET_TEXTS[self.text].0 == "utf-8",
            Some(Err(_)) => false,
        };
        known && declared_right
    }
}

/// Records with several payloads, and whether each round-trips.
fn payload_warc(payloads: &[Payload]) -> Vec<u8> {
    let responses: Vec<Vec<u8>> = payloads.iter().map(Payload::response).collect();
    let records: Vec<(&str, &[u8])> = responses
        .iter()
        .map(|r| ("response", r.as_slice()))
        .collect();
    warc_of(&records)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn http_payloads_with_any_codings_and_charsets(
        payloads in prop::collection::vec(payload(), 1..4),
        mutations in prop::collection::vec(mutation(), 0..3),
        record_limit in 0..RECORD_LIMITS.len(),
    ) {
        let clean = payload_warc(&payloads);
        let options = options_with(FormatChoice::Auto, TextUnit::File, RECORD_LIMITS[record_limit]);
        let out = check(&clean, &options);
        let skipped: u64 = out.skipped.values().sum();
        let rows = outcome_rows(&out);
        prop_assert_eq!(out.records.len() + skipped as usize + rows, payloads.len(), "{:?}", out);
        if record_limit == 0 {
            for (p, record) in payloads.iter().zip(&out.records) {
                if p.round_trips() && out.records.len() == payloads.len() {
                    let expected = if p.html {
                        thresher_core::ingest::html::html_to_text(
                            &p.document(),
                            thresher_core::ingest::HtmlMode::Text,
                        )
                        .text
                    } else {
                        p.document()
                    };
                    prop_assert_eq!(record.text.as_str(), expected.trim());
                    prop_assert!(!record.invalid_utf8);
                }
            }
        }
        if !mutations.is_empty() {
            check(&apply(clean, &mutations), &options);
        }
    }

    #[test]
    fn arbitrary_http_bodies_with_any_headers(
        body in prop::collection::vec(any::<u8>(), 0..600),
        content_type in "(text/html|text/plain|application/xhtml\\+xml|image/png|)(; charset=[a-zA-Z0-9_-]{0,10})?",
        codings in "[a-z, -]{0,20}",
        magic in prop_oneof![Just(&b""[..]), Just(&b"\x1f\x8b\x08"[..]), Just(&b"\xef\xbb\xbf"[..]), Just(&b"\xff\xfe"[..]), Just(&b"<?xml version='1.0' encoding='"[..]), Just(&b"<meta charset="[..])],
    ) {
        let mut block = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Encoding: {codings}\r\n\r\n"
        )
        .into_bytes();
        block.extend_from_slice(magic);
        block.extend_from_slice(&body);
        let data = warc_of(&[("response", &block), ("resource", &body)]);
        let out = check(&data, &options(FormatChoice::Auto, TextUnit::File));
        let skipped: u64 = out.skipped.values().sum();
        let rows = outcome_rows(&out);
        prop_assert_eq!(out.records.len() + skipped as usize + rows, 2, "{:?}", out);
    }
}

/// Payloads the fuzzer's shapes make by hand: each reads without a panic,
/// as one outcome per record.
#[test]
fn regressions_http_payloads() {
    let blocks: Vec<&[u8]> = vec![
        // A gzip member then garbage, a lone zlib header, a brotli stream
        // cut short, a zstd frame header only.
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n\x78\x9c",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\n\x0b",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\n\x28\xb5\x2f\xfd",
        // Unclosed tags and quotes in the meta prescan.
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<meta charset='gbk<p>\xb9\xfa",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<!-- <meta charset=gbk",
        // UTF-16 declared, odd length.
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nabc",
        // The replacement encoding's labels count as none.
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=iso-2022-kr\r\n\r\nplain",
    ];
    let records: Vec<(&str, &[u8])> = blocks.iter().map(|b| ("response", *b)).collect();
    let data = warc_of(&records);
    let out = check(&data, &options(FormatChoice::Auto, TextUnit::File));
    let skipped: u64 = out.skipped.values().sum();
    let rows = outcome_rows(&out);
    assert_eq!(
        out.records.len() + skipped as usize + rows,
        blocks.len(),
        "{out:?}"
    );
    assert!(out.records.iter().any(|r| r.text == "plain"), "{out:?}");
}

// HTML to text: whatever the string, every mode returns, in time, the same
// output twice, with the text and title bounded by the input's size; the
// raw mode returns the input. Seeds: a page using every rule, and real
// rustdoc pages read at test time (in CI they must be there).

mod html {
    use super::*;
    use thresher_core::ingest::html::{html_to_text, looks_like_html, HtmlText};
    use thresher_core::ingest::HtmlMode;

    /// Longest one string may take in all three modes (twice); far above
    /// what a case needs (the main mode parses a tree).
    const HTML_TIMEOUT: Duration = Duration::from_secs(10);

    const PAGE: &str = "<?xml version=\"1.0\"?><!-- c --><!DOCTYPE html><html><head>\
        <title>A &amp; B</title><style>p{}</style><script>if (a<b) x='</p>';</script></head>\
        <body><nav><ul><li><a href='/x?a=1&b=2' title=\"a > b\">Home</a><li>About</ul></nav>\
        <article><h1>Head&eacute;</h1><p>Text &copy 2024 &#233;&#x1F600;&#0; &bogus;<br>line\
        <pre>\n  keep   this\n</pre><table><tr><th>a<th>b<tr><td>1<td>2</table>\
        <textarea>\n t </textarea><template><p>hidden</p></template><svg><title>i</title>\
        <![CDATA[x]]></svg><math><![CDATA[y<z]]></math><xmp><b></xmp>1 < 2 <3</p></article>\
        <footer>Copyright</footer><plaintext><b>rest";

    /// Real rustdoc pages of at most 150 KB, evenly spaced in `std/`.
    fn real_pages() -> Vec<String> {
        let home =
            std::env::var_os("HOME").map_or_else(|| "/root".into(), std::path::PathBuf::from);
        let mut files: Vec<_> = std::fs::read_dir(home.join(".rustup/toolchains"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|t| t.path().join("share/doc/rust/html/std"))
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= 150_000))
            .collect();
        files.sort();
        let pages: Vec<String> = (0..6)
            .filter_map(|i| files.get(i * files.len() / 6))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        if pages.is_empty() && std::env::var("CI").as_deref() == Ok("true") {
            panic!("no rustdoc HTML pages under ~/.rustup/toolchains (rust-docs component)");
        }
        pages
    }

    fn html_seeds() -> &'static [String] {
        static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
        SEEDS.get_or_init(|| {
            let mut seeds = vec![PAGE.to_owned()];
            seeds.extend(real_pages());
            seeds
        })
    }

    /// All three modes of `html`, twice, on another thread within
    /// [`HTML_TIMEOUT`]; checks determinism and the bounds.
    fn check_html(html: String) {
        let (done, result) = mpsc::channel();
        let input = Arc::new(html);
        let shared = Arc::clone(&input);
        std::thread::spawn(move || {
            let run = || HtmlMode::ALL.map(|mode| html_to_text(&shared, mode));
            let _ = done.send((run(), run(), looks_like_html(shared.as_bytes())));
        });
        let (first, again, _) = match result.recv_timeout(HTML_TIMEOUT) {
            Ok(out) => out,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("html_to_text took more than {HTML_TIMEOUT:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("html_to_text panicked"),
        };
        assert_eq!(first, again, "the same HTML gave two outputs");
        let [text, main, raw]: [HtmlText; 3] = first;
        assert_eq!(raw.text, *input);
        for out in [&text, &main, &raw] {
            assert_eq!(out.title, text.title, "the modes' titles differ");
            assert!(out
                .title
                .as_ref()
                .is_none_or(|t| t.len() <= 2 * input.len()));
        }
        // References expand at most 6/5 (`&nGg;`); separators need a tag.
        assert!(
            text.text.len() <= 2 * input.len(),
            "{} > 2 x {}",
            text.text.len(),
            input.len()
        );
        assert!(
            main.text.len() <= 2 * input.len() + 64,
            "main text too long"
        );
        let space = [' ', '\t', '\n', '\r', '\x0c'];
        assert!(
            !text.text.starts_with(space) && !text.text.ends_with(space),
            "not trimmed"
        );
    }

    fn html_alphabet() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "<",
            ">",
            "</",
            "/>",
            "<!--",
            "-->",
            "--!>",
            "<!",
            "<?",
            "&",
            "&amp",
            "&amp;",
            "&#",
            "&#x",
            ";",
            "\"",
            "'",
            "=",
            " ",
            "\n",
            "\r",
            "\t",
            "a",
            "p",
            "div",
            "br",
            "pre",
            "td",
            "tr",
            "title",
            "script",
            "style",
            "textarea",
            "template",
            "svg",
            "math",
            "plaintext",
            "xmp",
            "<![CDATA[",
            "]]>",
            "é",
            "日",
            "\u{0}",
        ]);
        prop::collection::vec(pieces, 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn html_to_text_on_any_string(html in any::<String>()) {
            check_html(html);
        }

        #[test]
        fn html_to_text_on_markup_soup(html in html_alphabet()) {
            check_html(html);
        }

        #[test]
        fn html_to_text_on_mutated_pages(
            seed in any::<prop::sample::Index>(),
            mutations in prop::collection::vec(mutation(), 1..8),
        ) {
            let seeds = html_seeds();
            let page = seeds[seed.index(seeds.len())].as_bytes().to_vec();
            check_html(String::from_utf8_lossy(&apply(page, &mutations)).into_owned());
        }
    }

    #[test]
    fn html_seeds_give_text_and_titles() {
        for seed in html_seeds() {
            let out = html_to_text(seed, HtmlMode::Text);
            assert!(!out.text.is_empty());
            assert!(out.title.is_some());
            assert!(looks_like_html(seed.as_bytes()));
            check_html(seed.clone());
        }
    }
}
