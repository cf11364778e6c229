//! Plain text: the whole member, each line, or each paragraph is one document.

use std::io::BufRead;

use super::decode::{binary_marker, Decoded};
use super::member::{read_bounded, ReadContext};
use super::{ErrorKind, Format, Location, TextUnit};

/// Reads a plain-text member as documents cut by `options.text_unit`.
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    match cx.options.text_unit {
        TextUnit::File => read_whole(reader, loc, cx),
        TextUnit::Line | TextUnit::Paragraph => cx.error(
            loc,
            0,
            ErrorKind::Unsupported,
            "line and paragraph units not read yet",
        ),
    }
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
    if let Some(offset) = binary_marker(&bytes) {
        cx.error(
            loc,
            offset as u64,
            ErrorKind::Binary,
            format!("binary content (NUL or control bytes near byte {offset}); not parsed"),
        );
        return;
    }
    let decoded = Decoded::new(&bytes);
    let lossy = cx.report_invalid_utf8(loc, 0, &decoded);
    match whole_file(decoded.text()) {
        None => {
            let reason = format!("empty {}: no text", loc.noun());
            cx.error(loc, 0, ErrorKind::Empty, reason);
        }
        Some(doc) => {
            let offset = decoded.original_offset(doc.offset) as u64;
            let mut record = loc.record(offset, Format::PlainText, doc.text);
            record.invalid_utf8 = lossy;
            cx.sink.record(record);
        }
    }
}

/// A document cut from a plain-text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextDocument {
    /// Byte offset of the first non-whitespace character.
    pub offset: usize,
    /// The text, trimmed.
    pub text: String,
}

/// The whole file as one document, or `None` when it holds only whitespace.
pub fn whole_file(text: &str) -> Option<TextDocument> {
    let body = text.trim_start_matches('\u{feff}').trim();
    if body.is_empty() {
        return None;
    }
    let offset = body.as_ptr() as usize - text.as_ptr() as usize;
    Some(TextDocument {
        offset,
        text: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_file_is_trimmed_with_offset() {
        let doc = whole_file("\n\n  Hello there.\n").expect("document");
        assert_eq!(doc.offset, 4);
        assert_eq!(doc.text, "Hello there.");
        assert!(whole_file(" \n\t").is_none());
        assert_eq!(whole_file("\u{feff}x").map(|d| d.offset), Some(3));
    }
}
