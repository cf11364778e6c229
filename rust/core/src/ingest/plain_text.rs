//! Plain text: the whole member, each line, or each paragraph is one document.
//!
//! * [`TextUnit::File`]: the whole member, trimmed, up to `max_record_bytes`.
//! * [`TextUnit::Line`]: each non-blank line, trimmed; its offset is that of
//!   its first non-whitespace byte. A line longer than `max_record_bytes` is a
//!   `limit` row and is read through without being held.
//! * [`TextUnit::Paragraph`]: each run of non-blank lines (separated by one or
//!   more blank lines), its lines joined by `\n` and trimmed; its offset is
//!   that of its first non-whitespace byte. A paragraph longer than
//!   `max_record_bytes` is a `limit` row and is read through to its end.
//!
//! A line is blank when it holds only whitespace. A document with binary
//! content ([`binary_marker`]) is a `binary` row, not a record. Invalid UTF-8
//! is replaced with U+FFFD, reported as `invalid_utf8` and flagged on the
//! record. A member with no text at all is an `empty` row. A leading byte
//! order mark is dropped.
//!
//! With `html` set to `"text"` or `"main"`, a member that starts like an
//! HTML page is read whole whatever the unit (its lines are cut after its
//! text is extracted, by `text_units`), and a document that looks like an
//! HTML page is decoded in the character set its `<meta>` (or XML
//! declaration) names, else UTF-8 when valid, else the one detected (see
//! [`super::charset`]); `meta` records the `encoding`, bytes invalid in it
//! are reported as `invalid_utf8`, and `html_fields` then keeps its text.

use std::borrow::Cow;
use std::io::BufRead;

use super::bounded::{read_bounded, ReadContext};
use super::charset::{self, Hints, Markup};
use super::decode::{binary_marker, Decoded};
use super::html::looks_like_html;
use super::lines::{too_long_reason, Line, LineReader};
use super::location::Location;
use super::options::{HtmlMode, IngestOptions, TextUnit};
use super::record::{ErrorKind, Format};
use super::text_units::{is_blank, join_lines, trim_text};

/// Reads a plain-text member as documents cut by `options.text_unit`. An
/// HTML page that `html` asks to turn into text is read whole, and cut
/// after its text is extracted (by `text_units`).
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    match cx.options.text_unit {
        TextUnit::File => read_whole(reader, loc, cx),
        _ if starts_html_page(reader, cx.options) => read_whole(reader, loc, cx),
        TextUnit::Line => read_lines(reader, loc, cx),
        TextUnit::Paragraph => read_paragraphs(reader, loc, cx),
    }
}

/// Each non-blank line as one document.
fn read_lines(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let limit = cx.options.limits.max_record_bytes;
    let mut lines = LineReader::new(reader, limit);
    let mut saw_text = false;
    loop {
        if cx.sink.is_stopped() {
            return;
        }
        match lines.next_line() {
            Ok(None) => break,
            Ok(Some(Line::TooLong { offset, len })) => {
                saw_text = true;
                cx.error(loc, offset, ErrorKind::Limit, too_long_reason(len, limit));
            }
            Ok(Some(Line::Text { offset, bytes })) => {
                if !is_blank(bytes) {
                    saw_text = true;
                    emit_document(bytes, offset, loc, cx, as_is);
                }
            }
            Err(failure) => {
                cx.read_failed(loc, failure.offset, &failure.error);
                return;
            }
        }
    }
    if !saw_text {
        report_empty(loc, cx);
    }
}

/// A paragraph being gathered: its bytes exactly as in the member.
struct Paragraph {
    /// Offset of its first line in the member.
    start: u64,
    /// Offset just after its last line's text (before that line's end).
    end: u64,
    bytes: Vec<u8>,
    /// It grew past the limit: its lines are read through, not kept.
    too_long: bool,
    /// Whether any line was added since it was last cleared.
    open: bool,
}

impl Paragraph {
    /// Adds a non-blank line at `offset` (or an over-long one, `bytes` =
    /// `None`) unless the paragraph would pass `limit` bytes.
    fn push(&mut self, offset: u64, len: u64, bytes: Option<&[u8]>, limit: u64) {
        if !self.open {
            self.open = true;
            self.start = offset;
            self.end = offset;
            self.too_long = false;
            self.bytes.clear();
        }
        // The line end between the previous line and this one: `\n` or `\r\n`.
        let separator: &[u8] = match offset - self.end {
            0 => b"",
            1 => b"\n",
            _ => b"\r\n",
        };
        let total = (self.bytes.len() + separator.len()) as u64 + len;
        match bytes {
            Some(bytes) if !self.too_long && total <= limit => {
                self.bytes.extend_from_slice(separator);
                self.bytes.extend_from_slice(bytes);
            }
            _ => {
                self.too_long = true;
                self.bytes.clear();
            }
        }
        self.end = offset + len;
    }
}

/// Each paragraph (run of non-blank lines) as one document.
fn read_paragraphs(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let limit = cx.options.limits.max_record_bytes;
    let mut lines = LineReader::new(reader, limit);
    let mut paragraph = Paragraph {
        start: 0,
        end: 0,
        bytes: Vec::new(),
        too_long: false,
        open: false,
    };
    let mut saw_text = false;
    loop {
        if cx.sink.is_stopped() {
            return;
        }
        // Where the line about to be read starts (a failure may cut it).
        let line_start = lines.position();
        match lines.next_line() {
            Ok(None) => break,
            Ok(Some(Line::TooLong { offset, len })) => paragraph.push(offset, len, None, limit),
            Ok(Some(Line::Text { offset, bytes })) => {
                if is_blank(bytes) {
                    saw_text |= end_paragraph(&mut paragraph, loc, cx);
                } else {
                    paragraph.push(offset, bytes.len() as u64, Some(bytes), limit);
                }
            }
            Err(failure) => {
                // The paragraph (or line) being gathered is lost with the
                // rest: the row starts where it did.
                let offset = if paragraph.open {
                    paragraph.start
                } else {
                    line_start
                };
                cx.read_failed(loc, offset, &failure.error);
                return;
            }
        }
    }
    saw_text |= end_paragraph(&mut paragraph, loc, cx);
    if !saw_text {
        report_empty(loc, cx);
    }
}

/// Emits the open paragraph, if any, as a document or a `limit` row; true if
/// there was one.
fn end_paragraph(paragraph: &mut Paragraph, loc: &Location, cx: &mut ReadContext<'_>) -> bool {
    if !paragraph.open {
        return false;
    }
    paragraph.open = false;
    if paragraph.too_long {
        let limit = cx.options.limits.max_record_bytes;
        let len = paragraph.end - paragraph.start;
        cx.error(
            loc,
            paragraph.start,
            ErrorKind::Limit,
            format!("paragraph longer than max_record_bytes ({limit} bytes): {len} bytes; skipped"),
        );
    } else {
        emit_document(&paragraph.bytes, paragraph.start, loc, cx, join_lines);
    }
    true
}

/// A document's text as it is (see [`emit_document`]).
fn as_is(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

/// Emits the document held in `bytes` (at `base` in the member), trimmed and
/// shaped by `finish`; or a `binary` row, or nothing when it is blank. False
/// only when it is blank.
fn emit_document(
    bytes: &[u8],
    base: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    finish: impl for<'t> FnOnce(&'t str) -> Cow<'t, str>,
) -> bool {
    if let Some(at) = binary_marker(bytes) {
        cx.report_binary(loc, base + at as u64);
        return true;
    }
    if let Some(page) = html_page(bytes, cx.options) {
        return emit_html_page(bytes, page, base, loc, cx);
    }
    let decoded = Decoded::new(bytes);
    let body = trim_text(decoded.text());
    if body.is_empty() {
        return false;
    }
    let lossy = cx.report_invalid_utf8(loc, base, &decoded);
    let start = body.as_ptr() as usize - decoded.text().as_ptr() as usize;
    let offset = base + decoded.original_offset(start) as u64;
    let text = finish(body);
    let mut record = loc.record_ref(offset, Format::PlainText, &text);
    record.invalid_utf8 = lossy;
    cx.sink.record_ref(record);
    true
}

/// Whether the member in `reader` starts like an HTML page that `html` asks
/// to turn into text (see [`html_page`]).
fn starts_html_page(reader: &mut dyn BufRead, options: &IngestOptions) -> bool {
    matches!(options.html, Some(HtmlMode::Text | HtmlMode::Main))
        && reader.fill_buf().is_ok_and(looks_like_html)
}

/// The decoded text of a document that is an HTML page which `html` asks
/// to turn into text (the conversion itself is `html_fields`'s): decoded
/// in the character set the page declares in a `<meta>` or XML
/// declaration, else UTF-8 if valid, else the one detected. `None` for other
/// documents, which are read as UTF-8.
fn html_page<'a>(bytes: &'a [u8], options: &IngestOptions) -> Option<charset::Text<'a>> {
    if !matches!(options.html, Some(HtmlMode::Text | HtmlMode::Main)) || !looks_like_html(bytes) {
        return None;
    }
    let hints = Hints {
        declared: None,
        markup: Markup::Html,
        tld: None,
    };
    Some(charset::decode(bytes, &hints))
}

/// Emits an HTML page decoded by [`html_page`]; true (it is never blank:
/// it looks like HTML).
fn emit_html_page(
    bytes: &[u8],
    page: charset::Text<'_>,
    base: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> bool {
    let encoding = page.choice.encoding.name();
    // `looks_like_html` saw only ASCII whitespace (and a byte order mark)
    // before the markup: the record starts where that ends.
    let leading = bytes.len() - bytes.trim_ascii_start().len();
    let lossy = match page.invalid.first() {
        Some(first) => {
            cx.report_invalid_in(loc, base + first.offset as u64, &page.invalid, encoding)
        }
        None => false,
    };
    let mut record = loc.record(
        base + leading as u64,
        Format::PlainText,
        page.text.trim().to_owned(),
    );
    record.invalid_utf8 = lossy;
    record.meta = Some(serde_json::json!({ "encoding": encoding }).to_string());
    cx.sink.record(record);
    true
}

/// Reports a member without any text.
fn report_empty(loc: &Location, cx: &mut ReadContext<'_>) {
    let reason = format!("empty {}: no text", loc.noun());
    cx.error(loc, 0, ErrorKind::Empty, reason);
}

/// The whole member as one document, up to `max_record_bytes`.
fn read_whole(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let limit = cx.options.limits.max_record_bytes;
    let (bytes, more) = match read_bounded(reader, limit) {
        Ok(read) => read,
        Err(e) => {
            cx.read_failed(loc, 0, &e);
            return;
        }
    };
    if more {
        cx.error(
            loc,
            0,
            ErrorKind::Limit,
            format!("document longer than max_record_bytes ({limit} bytes); not read"),
        );
        return;
    }
    if !emit_document(&bytes, 0, loc, cx, as_is) {
        report_empty(loc, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::options::Limits;
    use crate::ingest::{ingest_bytes, IngestOptions, Ingested};

    fn options(unit: TextUnit, max_record_bytes: u64) -> IngestOptions {
        IngestOptions {
            text_unit: unit,
            limits: Limits {
                max_record_bytes,
                ..Limits::default()
            },
            ..IngestOptions::with_format(Format::PlainText)
        }
    }

    fn docs(out: &Ingested) -> Vec<(u64, &str)> {
        out.records
            .iter()
            .map(|r| (r.offset, r.text.as_str()))
            .collect()
    }

    fn errors(out: &Ingested) -> Vec<(u64, ErrorKind)> {
        out.errors.iter().map(|e| (e.offset, e.kind)).collect()
    }

    #[test]
    fn whole_file_is_trimmed_with_offset() {
        let read = |bytes: &[u8]| ingest_bytes("f.txt", bytes, &IngestOptions::default());
        let doc = read(b"\n\n  Hello there.\n");
        assert_eq!(docs(&doc), vec![(4, "Hello there.")]);
        let blank = read(b" \n\t");
        assert!(blank.records.is_empty());
        assert_eq!(errors(&blank), vec![(0, ErrorKind::Empty)]);
        assert_eq!(docs(&read("\u{feff}x".as_bytes())), vec![(3, "x")]);
    }

    #[test]
    fn lines_are_trimmed_documents_with_offsets() {
        let input = "\u{feff}first line\r\n\n   \t\n  second  \r\n\u{a0}third\nlast";
        let out = ingest_bytes("t.txt", input.as_bytes(), &options(TextUnit::Line, 100));
        assert_eq!(errors(&out), vec![]);
        let at = |s: &str| input.find(s).unwrap() as u64;
        assert_eq!(
            docs(&out),
            vec![
                (3, "first line"),
                (at("second"), "second"),
                (at("third"), "third"),
                (at("last"), "last"),
            ]
        );
        let r = &out.records[0];
        assert_eq!((r.source.as_str(), r.member.clone()), ("t.txt", None));
        assert_eq!(
            (r.format, r.invalid_utf8, r.id.clone()),
            (Format::PlainText, false, None)
        );
    }

    #[test]
    fn line_problems_are_rows_between_good_lines() {
        let mut input = b"good one\n".to_vec();
        let long_at = input.len() as u64;
        input.extend_from_slice(&[b'x'; 40]);
        input.extend_from_slice(b"\n\x01\x02\x03\x04\x05\x06bin\n");
        let bad_at = input.len() as u64;
        input.extend_from_slice(b"  caf\xe9\n");
        let last_at = input.len() as u64;
        input.extend_from_slice(b"good two\n");
        input.extend_from_slice(&[b'.'; 300]);
        let out = ingest_bytes("t.txt", &input, &options(TextUnit::Line, 32));
        assert_eq!(
            docs(&out),
            vec![
                (0, "good one"),
                (bad_at + 2, "caf\u{fffd}"),
                (last_at, "good two")
            ]
        );
        assert!(out.records[1].invalid_utf8);
        assert!(!out.records[2].invalid_utf8);
        let end = last_at + 9;
        assert_eq!(
            errors(&out),
            vec![
                (long_at, ErrorKind::Limit),
                (long_at + 41, ErrorKind::Binary),
                (bad_at + 5, ErrorKind::InvalidUtf8),
                (end, ErrorKind::Limit),
            ]
        );
        assert_eq!(
            out.errors[0].reason,
            "line longer than max_record_bytes (32 bytes): 40 bytes; skipped"
        );
    }

    #[test]
    fn a_paragraph_cut_by_a_failed_read_is_reported_from_its_start() {
        use std::io::Write;
        let long: String = (0..40_000).map(|i| format!("w{i} ")).collect();
        let text = format!("first para\n\nsecond {long}\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let options = IngestOptions {
            text_unit: TextUnit::Paragraph,
            ..IngestOptions::default()
        };
        let out = ingest_bytes("cut.gz", &gz[..gz.len() / 2], &options);
        let texts: Vec<&str> = out.records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["first para"]);
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(
            (out.errors[0].offset, out.errors[0].kind),
            (12, ErrorKind::Corrupt)
        );
    }

    #[test]
    fn paragraphs_join_lines_and_skip_blank_runs() {
        let input = "\n  Para one\r\nstill one  \r\n\r\n \n\t\nPara two\n  indented\n\nlast\r\nend";
        let out = ingest_bytes(
            "t.txt",
            input.as_bytes(),
            &options(TextUnit::Paragraph, 100),
        );
        assert_eq!(errors(&out), vec![]);
        let at = |s: &str| input.find(s).unwrap() as u64;
        assert_eq!(
            docs(&out),
            vec![
                (at("Para one"), "Para one\nstill one"),
                (at("Para two"), "Para two\n  indented"),
                (at("last"), "last\nend"),
            ]
        );
    }

    #[test]
    fn paragraph_problems_are_rows_between_good_paragraphs() {
        let mut input = b"ok para\nline two\n\n".to_vec();
        let long_at = input.len() as u64;
        // Three lines within the line limit that together pass it, then an
        // over-long line inside the next bad paragraph.
        input.extend_from_slice(b"0123456789\n0123456789\n0123456789\n\n");
        let long2_at = input.len() as u64;
        input.extend_from_slice(b"short\n");
        input.extend_from_slice(&[b'y'; 50]);
        input.extend_from_slice(b"\nshort\n\n");
        let bin_at = input.len() as u64;
        input.extend_from_slice(b"text\n\x01\x02\x03\x04\x05\n\n");
        let bad_at = input.len() as u64;
        input.extend_from_slice(b"caf\xe9\r\nau lait\n\n");
        let out = ingest_bytes("t.txt", &input, &options(TextUnit::Paragraph, 30));
        assert_eq!(
            docs(&out),
            vec![(0, "ok para\nline two"), (bad_at, "caf\u{fffd}\nau lait")]
        );
        assert!(out.records[1].invalid_utf8);
        assert_eq!(
            errors(&out),
            vec![
                (long_at, ErrorKind::Limit),
                (long2_at, ErrorKind::Limit),
                (bin_at + 5, ErrorKind::Binary),
                (bad_at + 3, ErrorKind::InvalidUtf8),
            ]
        );
        assert_eq!(
            out.errors[0].reason,
            "paragraph longer than max_record_bytes (30 bytes): 32 bytes; skipped"
        );
    }

    #[test]
    fn binary_after_the_sniffed_prefix_is_a_row() {
        let mut input = Vec::new();
        for i in 0..10_000 {
            input.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        let nul_at = input.len() as u64 + 3;
        input.extend_from_slice(b"abc\0def\nafter\n");
        let out = ingest_bytes("t.txt", &input, &options(TextUnit::Line, 100));
        assert_eq!(out.records.len(), 10_001);
        assert_eq!(out.records[10_000].text, "after");
        assert_eq!(errors(&out), vec![(nul_at, ErrorKind::Binary)]);
    }

    #[test]
    fn blank_members_are_empty_rows() {
        for unit in [TextUnit::Line, TextUnit::Paragraph] {
            let out = ingest_bytes("t.txt", b" \n\r\n\t\n", &options(unit, 100));
            assert_eq!(out.records, vec![]);
            assert_eq!(errors(&out), vec![(0, ErrorKind::Empty)], "{unit:?}");
        }
    }
}
