//! Inputs that give nothing: an input file or archive member that yields
//! zero records is itself an `empty` error row, saying why.
//!
//! Every read of a file opened or a member ([`super::member`]) runs under
//! [`report_if_no_records`], a sink that counts what passes through it. When
//! the read gave no record and no `empty` row at offset 0 (the row a parser
//! writes for an empty member, or the one this module wrote for a member
//! inside), it writes one at offset 0, whose reason sums up the member's
//! error rows by kind with the first reason of each (`no records from this
//! file: 693 missing_field rows (first: no text field "text"; found ...)`), and the records skipped
//! on purpose by key (`12 records skipped: image/png 10, warc/request 2`).
//!
//! So each file or innermost member that gives no records has one `empty`
//! row of its own; a container (a tar, a zip, a compressed stream) has none
//! in addition to its members' rows, and one of its own only when no member
//! inside has one (the archive could not be listed, or held nothing that
//! was read). A file that cannot be opened (or is not a regular file) has
//! only the row that says so, as the paths the walk refuses.

use std::collections::BTreeMap;

use super::bounded::ReadContext;
use super::location::Location;
use super::record::{ErrorKind, IngestError, Record, RecordRef};
use super::sink::Sink;

/// Longest first reason quoted per kind, in bytes (cut at a character).
const MAX_QUOTED_REASON: usize = 300;

/// Runs `read` (the read of the file or member at `loc`); then, if it gave
/// no record and no `empty` row at offset 0, reports an `empty` row at
/// offset 0 of `loc` saying why.
pub(super) fn report_if_no_records(
    loc: &Location,
    cx: &mut ReadContext<'_>,
    read: impl FnOnce(&mut ReadContext<'_>),
) {
    let mut counts = Counting {
        inner: &mut *cx.sink,
        records: 0,
        empty_reported: false,
        errors: Vec::new(),
        skipped: BTreeMap::new(),
    };
    let mut inner = ReadContext {
        options: cx.options,
        sink: &mut counts,
        input_budget: cx.input_budget,
    };
    read(&mut inner);
    if counts.records > 0 || counts.empty_reported || counts.is_stopped() {
        return;
    }
    let reason = counts.reason(loc.noun());
    counts.inner.error(loc.error(0, ErrorKind::Empty, reason));
}

/// Error rows of one kind: how many, and the first one's reason.
struct KindCount {
    kind: ErrorKind,
    count: u64,
    first: String,
}

/// A sink that counts what it hands on.
struct Counting<'a> {
    inner: &'a mut dyn Sink,
    records: u64,
    /// An `empty` row at offset 0 went through.
    empty_reported: bool,
    /// Error rows by kind, in the order each kind first came.
    errors: Vec<KindCount>,
    skipped: BTreeMap<String, u64>,
}

impl Counting<'_> {
    /// Why nothing came: the error rows by kind (most first) with the first
    /// reason of each, and the skipped records by key (most first).
    fn reason(&self, noun: &str) -> String {
        let mut parts = Vec::new();
        if !self.errors.is_empty() {
            let mut kinds: Vec<&KindCount> = self.errors.iter().collect();
            // Stable: kinds with as many rows stay in the order they came.
            kinds.sort_by_key(|k| std::cmp::Reverse(k.count));
            let each: Vec<String> = kinds
                .iter()
                .map(|k| match k.count {
                    1 => format!("1 {} row ({})", k.kind.name(), quoted(&k.first)),
                    n => format!("{n} {} rows (first: {})", k.kind.name(), quoted(&k.first)),
                })
                .collect();
            parts.push(each.join(", "));
        }
        if !self.skipped.is_empty() {
            let total: u64 = self.skipped.values().sum();
            let mut keys: Vec<(&String, &u64)> = self.skipped.iter().collect();
            keys.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
            let each: Vec<String> = keys.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let records = if total == 1 { "record" } else { "records" };
            parts.push(format!("{total} {records} skipped: {}", each.join(", ")));
        }
        if parts.is_empty() {
            return format!("no records from this {noun}");
        }
        format!("no records from this {noun}: {}", parts.join("; "))
    }
}

/// `reason` cut to [`MAX_QUOTED_REASON`] bytes.
fn quoted(reason: &str) -> String {
    if reason.len() <= MAX_QUOTED_REASON {
        return reason.to_owned();
    }
    let mut end = MAX_QUOTED_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &reason[..end])
}

impl Sink for Counting<'_> {
    fn record(&mut self, record: Record) {
        self.records += 1;
        self.inner.record(record);
    }

    fn record_ref(&mut self, record: RecordRef<'_>) {
        self.records += 1;
        self.inner.record_ref(record);
    }

    fn error(&mut self, error: IngestError) {
        if error.kind == ErrorKind::Empty && error.offset == 0 {
            self.empty_reported = true;
        }
        match self.errors.iter_mut().find(|k| k.kind == error.kind) {
            Some(k) => k.count += 1,
            None => self.errors.push(KindCount {
                kind: error.kind,
                count: 1,
                first: error.reason.clone(),
            }),
        }
        self.inner.error(error);
    }

    fn skipped(&mut self, key: &str) {
        match self.skipped.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                self.skipped.insert(key.to_owned(), 1);
            }
        }
        self.inner.skipped(key);
    }

    fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;

    use crate::ingest::{ingest_bytes, ErrorKind, Format, IngestOptions, Ingested};

    /// `(member, offset, kind)` of every error row.
    fn rows(out: &Ingested) -> Vec<(Option<&str>, u64, ErrorKind)> {
        out.errors
            .iter()
            .map(|e| (e.member.as_deref(), e.offset, e.kind))
            .collect()
    }

    fn empty_reason(out: &Ingested) -> &str {
        let empty: Vec<_> = out
            .errors
            .iter()
            .filter(|e| e.kind == ErrorKind::Empty)
            .collect();
        assert_eq!(empty.len(), 1, "{:?}", out.errors);
        &empty[0].reason
    }

    fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.into_inner().unwrap()
    }

    #[test]
    fn a_jsonl_shard_without_the_text_field_is_named() {
        let shard = "{\"body\": \"a\", \"url\": \"u\"}\n".repeat(3);
        let out = ingest_bytes("s.jsonl", shard.as_bytes(), &IngestOptions::default());
        assert!(out.records.is_empty());
        assert_eq!(
            rows(&out),
            [
                (None, 0, ErrorKind::MissingField),
                (None, 26, ErrorKind::MissingField),
                (None, 52, ErrorKind::MissingField),
                (None, 0, ErrorKind::Empty),
            ]
        );
        assert_eq!(
            empty_reason(&out),
            "no records from this file: 3 missing_field rows (first: no text field (tried \
             \"text\", \"content\", \"raw_content\"); found \"body\", \"url\")"
        );
    }

    #[test]
    fn a_jsonl_file_of_bad_lines_sums_them_up_by_kind() {
        let out = ingest_bytes(
            "bad.jsonl",
            b"{oops\n[1]\n{\"text\": 3}\n",
            &IngestOptions::with_format(Format::Jsonl),
        );
        assert!(out.records.is_empty());
        let reason = empty_reason(&out);
        assert!(
            reason.starts_with(
                "no records from this file: 2 malformed rows (first: not a JSON object: "
            ),
            "{reason}"
        );
        assert!(
            reason
                .ends_with(", 1 missing_field row (text field \"text\" is a number, not a string)"),
            "{reason}"
        );
        assert_eq!(out.errors.last().map(|e| e.offset), Some(0));
    }

    #[test]
    fn a_parquet_file_without_the_text_column_is_named() {
        let content: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let bytes = parquet(vec![("body", content)]);
        let out = ingest_bytes("p.parquet", &bytes, &IngestOptions::default());
        assert_eq!(
            rows(&out),
            [
                (None, 0, ErrorKind::MissingField),
                (None, 0, ErrorKind::Empty)
            ]
        );
        assert_eq!(
            empty_reason(&out),
            "no records from this file: 1 missing_field row (no text column (tried \"text\", \
             \"content\", \"raw_content\"); the columns are [\"body\"]; nothing read)"
        );
    }

    #[test]
    fn empty_members_have_one_empty_row() {
        let text: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
        let auto = IngestOptions::default();
        let jsonl = IngestOptions::with_format(Format::Jsonl);
        let cases: [(&str, Vec<u8>, &IngestOptions, &str); 4] = [
            ("e.txt", Vec::new(), &auto, "empty file: no data"),
            ("b.txt", b" \n\t\n".to_vec(), &auto, "empty file: no text"),
            (
                "b.jsonl",
                b"\n \n".to_vec(),
                &jsonl,
                "empty file: no JSON lines",
            ),
            (
                "e.parquet",
                parquet(vec![("text", text)]),
                &auto,
                "Parquet file with no rows",
            ),
        ];
        for (name, bytes, options, reason) in cases {
            let out = ingest_bytes(name, &bytes, options);
            assert_eq!(rows(&out), [(None, 0, ErrorKind::Empty)], "{name}");
            assert_eq!(out.errors[0].reason, reason, "{name}");
        }
    }

    #[test]
    fn a_warc_of_images_counts_what_it_skipped() {
        let mut warc = Vec::new();
        for (warc_type, content_type) in [
            ("resource", "image/png"),
            ("request", "application/http"),
            ("resource", "image/png"),
        ] {
            let block = b"\x89PNG....";
            write!(
                warc,
                "WARC/1.0\r\nWARC-Type: {warc_type}\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\n\r\n",
                block.len()
            )
            .unwrap();
            warc.extend_from_slice(block);
            warc.extend_from_slice(b"\r\n\r\n");
        }
        let out = ingest_bytes("i.warc", &warc, &IngestOptions::default());
        assert!(out.records.is_empty());
        assert_eq!(rows(&out), [(None, 0, ErrorKind::Empty)]);
        assert_eq!(
            out.errors[0].reason,
            "no records from this file: 3 records skipped: image/png 2, warc/request 1"
        );
    }

    fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in members {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn archives_leave_it_to_their_members() {
        // Each member that gives nothing has its row; the archive none.
        let jsonl = IngestOptions::with_format(Format::Jsonl);
        let bytes = zip(&[
            ("a.jsonl", b"{oops\n"),
            ("b.jsonl", b"{\"text\": \"kept\"}\n"),
            ("c.jsonl", b"{\"body\": 1}\n"),
        ]);
        let out = ingest_bytes("z.zip", &bytes, &jsonl);
        assert_eq!(out.records.len(), 1);
        assert_eq!(
            rows(&out),
            [
                (Some("a.jsonl"), 0, ErrorKind::Malformed),
                (Some("a.jsonl"), 0, ErrorKind::Empty),
                (Some("c.jsonl"), 0, ErrorKind::MissingField),
                (Some("c.jsonl"), 0, ErrorKind::Empty),
            ]
        );
        // All members fail: still only theirs.
        let bytes = zip(&[("a.jsonl", b"{oops\n"), ("b.txt", b"")]);
        let out = ingest_bytes("z.zip", &bytes, &jsonl);
        assert_eq!(
            rows(&out),
            [
                (Some("a.jsonl"), 0, ErrorKind::Malformed),
                (Some("a.jsonl"), 0, ErrorKind::Empty),
                (Some("b.txt"), 0, ErrorKind::Empty),
            ]
        );
        // An archive that cannot be listed has one of its own.
        let out = ingest_bytes("z.zip", b"PK\x03\x04 junk", &IngestOptions::default());
        assert_eq!(
            rows(&out),
            [(None, 0, ErrorKind::Corrupt), (None, 0, ErrorKind::Empty)]
        );
    }

    #[test]
    fn files_that_cannot_be_opened_have_only_their_own_row() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.jsonl");
        let read = |path: &std::path::Path| {
            crate::ingest::collect::collected(&IngestOptions::default(), |cx| {
                crate::ingest::member::read_file(path, cx)
            })
        };
        assert_eq!(rows(&read(&missing)), [(None, 0, ErrorKind::Io)]);
        // Opened, then nothing: an empty row.
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, b"{\"x\": 1}\n{\"x\": 2}\n").unwrap();
        assert_eq!(
            rows(&read(&bad)),
            [
                (None, 0, ErrorKind::MissingField),
                (None, 9, ErrorKind::MissingField),
                (None, 0, ErrorKind::Empty)
            ]
        );
    }

    #[test]
    fn long_reasons_are_cut() {
        let long = "é".repeat(400);
        let line = serde_json::json!({ long.clone(): 1 }).to_string();
        let out = ingest_bytes("l.jsonl", line.as_bytes(), &IngestOptions::default());
        let reason = empty_reason(&out);
        assert!(reason.ends_with("...)"), "{reason}");
        assert!(reason.len() < 400, "{}", reason.len());
    }
}
