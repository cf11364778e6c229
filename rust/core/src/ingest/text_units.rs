//! `text_unit` for every format: records cut into lines or paragraphs.
//!
//! Plain text is cut while it is read ([`super::plain_text`]), so that a
//! unit's `offset` is its byte offset in the member. The other formats
//! (JSON Lines, Parquet, Arrow, WARC/WET, paper listings) give whole
//! records; with `text_unit` set to [`TextUnit::Line`] or
//! [`TextUnit::Paragraph`], a sink wrapped around their parser cuts each
//! record's text by the same rules, after `html_fields` has turned HTML into
//! text (so a page is cut by the lines a reader sees):
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
//! member's records. With [`TextUnit::File`], `part` is `None`.

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

/// A sink that cuts records into units before handing them on.
struct UnitRecords<'a> {
    inner: &'a mut dyn Sink,
    unit: TextUnit,
    /// Whether records are cut (false: numbered only, as plain text is).
    cut: bool,
    /// `part` of the next plain-text record of the member.
    next_part: u64,
}

impl Sink for UnitRecords<'_> {
    fn record(&mut self, mut record: Record) {
        if !self.cut {
            record.part = Some(self.next_part);
            self.next_part += 1;
            self.inner.record(record);
            return;
        }
        // The text is taken out, so that copies of the record do not copy it.
        let whole = std::mem::take(&mut record.text);
        let mut texts: Vec<String> = units(&whole, self.unit)
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        let Some(last) = texts.pop() else {
            record.text = whole;
            record.part = Some(0);
            return self.inner.record(record);
        };
        let count = texts.len() as u64;
        for (part, text) in (0..).zip(texts) {
            if self.inner.is_stopped() {
                return;
            }
            self.inner.record(Record {
                text,
                part: Some(part),
                ..record.clone()
            });
        }
        record.text = last;
        record.part = Some(count);
        self.inner.record(record);
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
        TextUnit::Paragraph => paragraphs(text)
            .map(|p| join_lines(trim_text(p)))
            .collect(),
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
