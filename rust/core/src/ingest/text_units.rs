//! `text_unit` for every format: records cut into lines or paragraphs.
//!
//! Plain text is cut while it is read ([`super::plain_text`]), so that a
//! unit's `offset` is its byte offset in the member. The other formats
//! (JSON Lines, Parquet, Arrow, WARC/WET, paper listings) give whole
//! records; with `text_unit` set to [`TextUnit::Line`] or
//! [`TextUnit::Paragraph`], a sink wrapped around their parser cuts each
//! record's text by the same rules, after `html_fields` has turned HTML into
//! text (so a page is cut by the lines a reader sees: one per block, blank
//! lines collapsed, which makes a page's paragraph its whole text):
//!
//! - a line unit is each non-blank line, trimmed;
//! - a paragraph unit is each run of non-blank lines (separated by one or
//!   more blank lines), its lines joined by `\n` and trimmed;
//! - a line is blank when it holds only whitespace; trimming drops
//!   surrounding whitespace and a leading byte order mark.
//!
//! Each unit becomes a record with everything of its source record (source,
//! member, `offset`, id, title, url, date, meta, `invalid_utf8`) but the
//! text, and `part`, the unit's index in its source record (0-based). A
//! record whose text has no non-blank unit is kept whole, with `part` 0:
//! nothing is lost. For plain text, `part` is the unit's index among the
//! member's records; an HTML page that `html` turns into text is read whole
//! and cut here, like a record of the other formats. With
//! [`TextUnit::File`], `part` is `None`.

use std::borrow::Cow;

use super::bounded::ReadContext;
use super::options::TextUnit;
use super::record::{Format, IngestError, Record};
use super::sink::Sink;

/// Runs `parse` (a parser of `format`) with a sink that cuts the records it
/// gives into `options.text_unit` units, numbering them in `part`.
pub(super) fn parse_with_units(
    format: Format,
    cx: &mut ReadContext<'_>,
    parse: impl FnOnce(&mut ReadContext<'_>),
) {
    let unit = cx.options.text_unit;
    if unit == TextUnit::File {
        return parse(cx);
    }
    let mut sink = UnitRecords {
        inner: &mut *cx.sink,
        unit,
        // Plain text arrives already cut: its records are only numbered.
        cut: format != Format::PlainText,
        next_part: 0,
    };
    let mut inner = ReadContext {
        options: cx.options,
        sink: &mut sink,
        input_budget: cx.input_budget,
    };
    parse(&mut inner);
}

impl UnitRecords<'_> {
    /// Hands on the units of `record`, numbered from `first_part`; a record
    /// without a unit whole.
    fn cut_record(&mut self, mut record: Record, first_part: u64) {
        // The text is taken out, so that copies of the record do not copy it.
        let whole = std::mem::take(&mut record.text);
        let mut texts: Vec<String> = units(&whole, self.unit)
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        let Some(last) = texts.pop() else {
            record.text = whole;
            record.part = Some(first_part);
            self.next_part = first_part + 1;
            return self.inner.record(record);
        };
        let mut part = first_part;
        for text in texts {
            if self.inner.is_stopped() {
                return;
            }
            self.inner.record(Record {
                text,
                part: Some(part),
                ..record.clone()
            });
            part += 1;
        }
        record.text = last;
        record.part = Some(part);
        self.next_part = part + 1;
        self.inner.record(record);
    }
}

/// A sink that cuts records into units before handing them on.
struct UnitRecords<'a> {
    inner: &'a mut dyn Sink,
    unit: TextUnit,
    /// Whether records are cut (false: plain text, whose records are units
    /// already and are numbered in the member).
    cut: bool,
    /// `part` of the next unit of a plain-text member.
    next_part: u64,
}

impl Sink for UnitRecords<'_> {
    fn record(&mut self, mut record: Record) {
        if !self.cut {
            // A plain-text record is one unit already, unless it is an HTML
            // page read whole: its extracted text is cut here.
            if several_units(&record.text, self.unit) {
                return self.cut_record(record, self.next_part);
            }
            record.part = Some(self.next_part);
            self.next_part += 1;
            self.inner.record(record);
            return;
        }
        self.cut_record(record, 0);
    }

    fn error(&mut self, error: IngestError) {
        self.inner.error(error);
    }

    fn skipped(&mut self, key: &str) {
        self.inner.skipped(key);
    }

    fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

/// The units of `text` for `unit`, in order; empty when `text` has no
/// non-blank line. [`TextUnit::File`] gives the whole text, trimmed.
pub fn units(text: &str, unit: TextUnit) -> Vec<Cow<'_, str>> {
    match unit {
        TextUnit::File => {
            let body = trim_text(text);
            if body.is_empty() {
                Vec::new()
            } else {
                vec![Cow::Borrowed(body)]
            }
        }
        TextUnit::Line => lines(text)
            .filter(|line| !is_blank(line.as_bytes()))
            .map(|line| Cow::Borrowed(trim_text(line)))
            .collect(),
        TextUnit::Paragraph => paragraphs(text).map(|p| join_lines(trim_text(p))).collect(),
    }
}

/// Whether `text` holds more than one unit (without copying any).
fn several_units(text: &str, unit: TextUnit) -> bool {
    match unit {
        TextUnit::File => false,
        TextUnit::Line => lines(text)
            .filter(|line| !is_blank(line.as_bytes()))
            .nth(1)
            .is_some(),
        TextUnit::Paragraph => paragraphs(text).nth(1).is_some(),
    }
}

/// The lines of `text`: split on `\n`, without a `\r` just before it; a
/// last line without `\n` is a line, and `text` ending with `\n` has no
/// empty line after it (as [`super::lines::LineReader`] reads a member).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let pieces = (!text.is_empty()).then(|| text.split('\n'));
    pieces
        .into_iter()
        .flatten()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
}

/// The paragraphs of `text`: each run of non-blank lines as the slice of
/// `text` from its first line's start to its last line's end (line ends
/// inside kept as they are).
fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    let base = text.as_ptr() as usize;
    let mut open: Option<(usize, usize)> = None;
    let mut lines = lines(text).map(Some).chain(std::iter::once(None));
    std::iter::from_fn(move || {
        for line in lines.by_ref() {
            match line {
                Some(line) if !is_blank(line.as_bytes()) => {
                    let start = line.as_ptr() as usize - base;
                    let end = start + line.len();
                    open = Some(open.map_or((start, end), |(s, _)| (s, end)));
                }
                _ => {
                    if let Some((start, end)) = open.take() {
                        return Some(&text[start..end]);
                    }
                }
            }
        }
        None
    })
}

/// The lines of a paragraph joined by `\n` (its `\r\n` line ends become `\n`).
pub(super) fn join_lines(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` without surrounding whitespace and a leading byte order mark.
pub(super) fn trim_text(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .trim_end()
}

/// Whether a line holds only whitespace (a line with invalid UTF-8 is not
/// blank).
pub(super) fn is_blank(bytes: &[u8]) -> bool {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    std::str::from_utf8(bytes).is_ok_and(|s| trim_text(s).is_empty())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;

    use super::*;
    use crate::ingest::{ingest_bytes, HtmlMode, IngestOptions, Ingested};

    fn options(unit: TextUnit) -> IngestOptions {
        IngestOptions {
            text_unit: unit,
            ..IngestOptions::default()
        }
    }

    /// `(offset, part, text)` of every record.
    fn parts(out: &Ingested) -> Vec<(u64, Option<u64>, &str)> {
        out.records
            .iter()
            .map(|r| (r.offset, r.part, r.text.as_str()))
            .collect()
    }

    fn texts(text: &str, unit: TextUnit) -> Vec<String> {
        units(text, unit).into_iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn units_follow_the_plain_text_rules() {
        let text = "\u{feff}  one\r\ntwo  \r\n \t\r\n\r\nthree\n\u{a0}\nfour\r\r\nfive\n";
        assert_eq!(
            texts(text, TextUnit::Line),
            ["one", "two", "three", "four", "five"]
        );
        assert_eq!(
            texts(text, TextUnit::Paragraph),
            ["one\ntwo", "three", "four\r\nfive"]
        );
        assert_eq!(
            texts(text, TextUnit::File),
            ["one\r\ntwo  \r\n \t\r\n\r\nthree\n\u{a0}\nfour\r\r\nfive"]
        );
        for blank in ["", "\n", " \r\n\t\n", "\u{feff}"] {
            for unit in [TextUnit::Line, TextUnit::Paragraph, TextUnit::File] {
                assert!(units(blank, unit).is_empty(), "{blank:?} {unit:?}");
            }
        }
        // One unit, no line end: borrowed, not copied.
        assert!(matches!(
            units(" a b ", TextUnit::Paragraph)[..],
            [Cow::Borrowed("a b")]
        ));
    }

    /// Plain text cut by `plain_text` and the same text cut by `units` give
    /// the same texts.
    #[test]
    fn units_cut_text_as_plain_text_does() {
        let text = "\u{feff}A first\r\n  line\n\n\n\u{2003}\nB para \n\tgoes on\r\n \r\nC\rD\nlast";
        for unit in [TextUnit::Line, TextUnit::Paragraph] {
            let plain = ingest_bytes(
                "t.txt",
                text.as_bytes(),
                &IngestOptions {
                    text_unit: unit,
                    ..IngestOptions::with_format(Format::PlainText)
                },
            );
            let from_plain: Vec<&str> = plain.records.iter().map(|r| r.text.as_str()).collect();
            assert_eq!(texts(text, unit), from_plain, "{unit:?}");
        }
    }

    #[test]
    fn plain_text_units_are_numbered_in_the_member() {
        let text = b"one\n\ntwo\nthree\n";
        let out = ingest_bytes("t.txt", text, &options(TextUnit::Line));
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "one"),
                (5, Some(1), "two"),
                (9, Some(2), "three")
            ]
        );
        let out = ingest_bytes("t.txt", text, &options(TextUnit::Paragraph));
        assert_eq!(
            parts(&out),
            [(0, Some(0), "one"), (5, Some(1), "two\nthree")]
        );
        let out = ingest_bytes("t.txt", text, &options(TextUnit::File));
        assert_eq!(parts(&out), [(0, None, "one\n\ntwo\nthree")]);
    }

    #[test]
    fn jsonl_records_are_cut_with_their_fields() {
        let first = serde_json::json!({
            "id": 7, "title": "T", "text": "para one\nline two\n\n  para two  \n", "lang": "en"
        });
        let second = serde_json::json!({"text": "caf\u{e9}"});
        let jsonl = format!("{first}\n{second}\n");
        let second_at = jsonl.find("{\"text\"").unwrap() as u64;

        let out = ingest_bytes("d.jsonl", jsonl.as_bytes(), &options(TextUnit::Line));
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "para one"),
                (0, Some(1), "line two"),
                (0, Some(2), "para two"),
                (second_at, Some(0), "caf\u{e9}"),
            ]
        );
        for r in &out.records[..3] {
            assert_eq!(r.id.as_deref(), Some("7"));
            assert_eq!(r.title.as_deref(), Some("T"));
            assert_eq!(r.meta.as_deref(), Some(r#"{"lang":"en"}"#));
            assert_eq!((r.source.as_str(), r.format), ("d.jsonl", Format::Jsonl));
        }

        let out = ingest_bytes("d.jsonl", jsonl.as_bytes(), &options(TextUnit::Paragraph));
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "para one\nline two"),
                (0, Some(1), "para two"),
                (second_at, Some(0), "caf\u{e9}"),
            ]
        );
        let out = ingest_bytes("d.jsonl", jsonl.as_bytes(), &options(TextUnit::File));
        assert!(out.records.iter().all(|r| r.part.is_none()));
        assert_eq!(out.records.len(), 2);
    }

    #[test]
    fn records_without_a_unit_are_kept_whole() {
        let jsonl = b"{\"text\": \"  \\n \\n\", \"id\": \"blank\"}\n{\"text\": \"\"}\n";
        for unit in [TextUnit::Line, TextUnit::Paragraph] {
            let out = ingest_bytes("d.jsonl", jsonl, &options(unit));
            assert_eq!(parts(&out), [(0, Some(0), "  \n \n"), (35, Some(0), "")]);
            assert_eq!(out.records[0].id.as_deref(), Some("blank"));
            assert!(out.errors.is_empty(), "{:?}", out.errors);
        }
    }

    #[test]
    fn invalid_utf8_flag_is_copied_to_every_unit() {
        let jsonl = b"{\"text\": \"a\\nb \xff\"}\n";
        let out = ingest_bytes("d.jsonl", jsonl, &options(TextUnit::Line));
        assert_eq!(parts(&out), [(0, Some(0), "a"), (0, Some(1), "b \u{fffd}")]);
        assert!(out.records.iter().all(|r| r.invalid_utf8));
    }

    fn columnar_batch() -> RecordBatch {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("row zero\n\nsecond para\nstill second"),
            Some("  "),
            Some("row two"),
        ]));
        let id: ArrayRef = Arc::new(Int64Array::from(vec![10, 11, 12]));
        let lang: ArrayRef = Arc::new(StringArray::from(vec!["en", "fr", "de"]));
        RecordBatch::try_from_iter(vec![("text", text), ("id", id), ("lang", lang)]).unwrap()
    }

    fn parquet(batch: &RecordBatch) -> Vec<u8> {
        let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), None).unwrap();
        writer.write(batch).unwrap();
        writer.into_inner().unwrap()
    }

    fn arrow_stream(batch: &RecordBatch) -> Vec<u8> {
        let mut writer =
            arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema()).unwrap();
        writer.write(batch).unwrap();
        writer.into_inner().unwrap()
    }

    #[test]
    fn parquet_and_arrow_rows_are_cut_with_their_row_numbers() {
        let batch = columnar_batch();
        for (bytes, format) in [
            (parquet(&batch), Format::Parquet),
            (arrow_stream(&batch), Format::Arrow),
        ] {
            let out = ingest_bytes("d", &bytes, &options(TextUnit::Line));
            assert_eq!(
                parts(&out),
                [
                    (0, Some(0), "row zero"),
                    (0, Some(1), "second para"),
                    (0, Some(2), "still second"),
                    (1, Some(0), "  "),
                    (2, Some(0), "row two"),
                ],
                "{format:?}"
            );
            let ids: Vec<_> = out.records.iter().map(|r| r.id.as_deref()).collect();
            assert_eq!(
                ids,
                [Some("10"), Some("10"), Some("10"), Some("11"), Some("12")]
            );
            assert!(out.records.iter().all(|r| r.format == format));
            assert_eq!(out.records[2].meta.as_deref(), Some(r#"{"lang":"en"}"#));

            let out = ingest_bytes("d", &bytes, &options(TextUnit::Paragraph));
            assert_eq!(
                parts(&out),
                [
                    (0, Some(0), "row zero"),
                    (0, Some(1), "second para\nstill second"),
                    (1, Some(0), "  "),
                    (2, Some(0), "row two"),
                ],
                "{format:?}"
            );
        }
    }

    /// A WARC `resource` record of `content_type` with `block`.
    fn warc_record(content_type: &str, uri: &str, block: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: {uri}\r\n\
             WARC-Date: 2024-01-02T03:04:05Z\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        out.extend_from_slice(block);
        out.extend_from_slice(b"\r\n\r\n");
        out
    }

    /// HTML is cut after its text is extracted: one line per block (blank
    /// lines collapse, as a browser shows them), so a page's paragraph is its
    /// whole text and its lines are its blocks.
    #[test]
    fn warc_records_are_cut_after_html_extraction() {
        let page = b"<html><head><title>P</title></head><body><p>First <b>para</b></p>\
                     <p>Second\n  para</p><script>no()</script></body></html>";
        let mut warc = warc_record("text/html", "https://a.example/", page);
        let second_at = warc.len() as u64;
        warc.extend(warc_record("text/plain", "https://b.example/", b"x\n\ny\n"));

        let out = ingest_bytes("c.warc", &warc, &options(TextUnit::Paragraph));
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "First para\nSecond para"),
                (second_at, Some(0), "x"),
                (second_at, Some(1), "y"),
            ]
        );
        let out = ingest_bytes("c.warc", &warc, &options(TextUnit::Line));
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "First para"),
                (0, Some(1), "Second para"),
                (second_at, Some(0), "x"),
                (second_at, Some(1), "y"),
            ]
        );
        let r = &out.records[1];
        assert_eq!(r.url.as_deref(), Some("https://a.example/"));
        assert_eq!(r.date.as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(r.title.as_deref(), Some("P"));
        assert_eq!(r.format, Format::Warc);
        assert!(r.meta.as_deref().is_some_and(|m| m.contains("resource")));
    }

    #[test]
    fn html_members_are_read_whole_and_cut_after_extraction() {
        let page = "\n<!DOCTYPE html>\n<html><body>\n<p>One\n\n two</p>\n\n<div>Three</div>\n</body></html>\n";
        let html = IngestOptions {
            html: Some(HtmlMode::Text),
            ..options(TextUnit::Line)
        };
        let out = ingest_bytes("p.html", page.as_bytes(), &html);
        assert_eq!(
            parts(&out),
            [(1, Some(0), "One two"), (1, Some(1), "Three")]
        );
        // Not asked to extract: cut by the member's own lines.
        let out = ingest_bytes("p.html", page.as_bytes(), &options(TextUnit::Line));
        assert_eq!(out.records.len(), 6);
        assert_eq!(out.records[2].text, "<p>One");
        assert_eq!(out.records[2].part, Some(2));
    }

    #[test]
    fn max_records_counts_units() {
        let dir = tempfile::tempdir().unwrap();
        let line = serde_json::json!({ "text": "a\nb\nc" }).to_string();
        std::fs::write(dir.path().join("d.jsonl"), format!("{line}\n{line}\n")).unwrap();
        let options = IngestOptions {
            limits: crate::ingest::Limits {
                max_records: 4,
                ..crate::ingest::Limits::default()
            },
            ..options(TextUnit::Line)
        };
        let out = crate::ingest::ingest_paths(
            &[dir.path().to_path_buf()],
            &options,
            &crate::cancel::Cancel::new(),
        )
        .unwrap();
        let rows: usize = out.records.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 4);
        assert_eq!(out.errors.len(), 1);
        let e = &out.errors[0];
        assert_eq!(e.offset, line.len() as u64 + 1);
        assert!(
            e.reason.contains("the 2 records after the first 4"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn html_fields_are_cut_by_the_lines_a_reader_sees() {
        let page = "<!DOCTYPE html><html><body><p>One</p><div>Two</div><p>Three <i>x</i></p></body></html>";
        let line = serde_json::json!({ "text": page }).to_string();
        let out = ingest_bytes(
            "d.jsonl",
            line.as_bytes(),
            &IngestOptions {
                html: Some(HtmlMode::Text),
                ..options(TextUnit::Line)
            },
        );
        assert_eq!(
            parts(&out),
            [
                (0, Some(0), "One"),
                (0, Some(1), "Two"),
                (0, Some(2), "Three x")
            ]
        );
    }
}
