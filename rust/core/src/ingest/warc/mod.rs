//! WARC 1.0/1.1 and WET files (Common Crawl).
//!
//! # Records
//!
//! A record is a version line `WARC/1.x`, header lines `Name: value` (names
//! case-insensitive, continuation lines folded in) up to an empty line, a
//! block of exactly `Content-Length` bytes, then `\r\n\r\n`. Lines may end
//! with `\r\n` or `\n`; blank lines between records are ignored.
//!
//! * `response`: the block is an HTTP response (`http`): its status line and
//!   headers are read and dropped, and the body, its codings undone, is the
//!   payload. A block that does not start with `HTTP/` is taken whole, like a
//!   resource.
//! * `resource`: the block is the payload.
//!   Both give [`Format::Warc`] records (see *Payloads* below).
//! * `conversion` (WET extracted text): the block is the text, UTF-8;
//!   [`Format::Wet`] records. A block with no text is an `empty` row.
//! * `warcinfo`, `request`, `metadata`, `revisit`: not documents; skipped
//!   without an error row and counted ([`Sink::skipped`](super::Sink::skipped)) as `warc/` and the
//!   type (`warc/revisit`), as nothing of the input's text is lost by that.
//!   They are counted when their header is read, whatever their block. So
//!   are `resource` records at a `metadata:` URI (wget's log and manifest),
//!   counted as `warc/metadata`.
//! * Any other type (`continuation` segments, unknown types): an
//!   `unsupported` row, block skipped.
//!
//! A record's `offset` is that of its `WARC/` line; `url` is
//! `WARC-Target-URI`, `date` `WARC-Date` normalised by
//! [`dates`](super::dates) (one that is not a date is a `field` row, and is
//! kept in `meta` as `warc_date`), `id` `WARC-Record-ID`.
//!
//! # Payloads
//!
//! What `response` and `resource` records go through (`document`), in order:
//!
//! 1. **Content type.** The HTTP `Content-Type` of a response, the WARC one
//!    otherwise (`application/http` and `message/http`, the type of a whole
//!    HTTP message, count as none). A record whose bare MIME type (lowercase,
//!    without parameters) is not accepted by
//!    [`IngestOptions::content_types`](super::IngestOptions::content_types)
//!    is skipped and counted under that type (`image/png`), its body never
//!    decoded: images, scripts, styles and PDFs are not error rows.
//! 2. **Codings** (`http`). The codings of every `Content-Encoding` header,
//!    then those of every `Transfer-Encoding` header (comma-separated lists),
//!    are undone, last first: `chunked`, `gzip` (`x-gzip`, several members
//!    read as one), `deflate` (zlib-wrapped, as the standard says, or raw, as
//!    some servers send it), `br`, `zstd` (windows up to 8 MiB, as HTTP
//!    allows) and `identity`, in any combination. The decoded payload may
//!    hold at most `max_record_bytes` (checked as it is decoded, never
//!    allocated beyond; more is a `limit` row), and every
//!    decompressed byte is charged to the input's `max_input_bytes` and
//!    `max_ratio`. An unknown coding is an `unsupported` row, compressed data
//!    that does not decode (truncated included) a `corrupt` row, a bad chunked
//!    body a `malformed` row (a chunked body that ends where a chunk size
//!    would be, without the last `0` chunk, is taken as ended). Fallback: a
//!    payload with no compression declared that still starts with the gzip
//!    magic bytes (wget and Heritrix store some bodies so) is gunzipped when
//!    that works, and taken as it is when not.
//! 3. **Empty.** A payload of nothing but white space (a redirect, a `204`)
//!    is skipped and counted as `empty`.
//! 4. **Sniffing.** A record with no content type is HTML if its payload
//!    looks like HTML ([`looks_like_html`](super::html::looks_like_html)),
//!    else `text/plain`, and is filtered (skipped and counted) as that type.
//! 5. **Character set** ([`charset`](super::charset)): a byte order mark;
//!    else the `charset` of the `Content-Type` of step 1; else, for HTML, a
//!    `<meta charset>` or `<meta http-equiv="Content-Type">` in the first
//!    1024 bytes, and for XML and XHTML the XML declaration's `encoding`;
//!    else UTF-8 when the bytes are (mostly) valid UTF-8; else `chardetng`'s
//!    guess, given the top-level domain of `WARC-Target-URI`'s host. An
//!    unknown label counts as none. A declared charset is kept even when the
//!    bytes are not valid in it (a lying charset, kept as browsers keep it):
//!    each invalid sequence becomes U+FFFD, the record is flagged
//!    `invalid_utf8` and one `invalid_utf8` row, whose reason names the
//!    encoding, is written, as for any payload with bytes invalid in its
//!    encoding.
//! 6. **Binary.** A payload that is not UTF-16 with a NUL byte or dense in
//!    control bytes is a `binary` row.
//! 7. **HTML** (`text/html`, `application/xhtml+xml`, or sniffed) becomes
//!    its text by [`html_to_text`](super::html::html_to_text) in the
//!    `html` option's mode ([`HtmlMode::Text`](super::HtmlMode::Text) when
//!    unset), and the page's title goes to `title`. Other text stays as it
//!    is. A text that is empty once trimmed is skipped and counted as
//!    `empty`; one longer in UTF-8 than `max_record_bytes` (a legacy
//!    encoding's text grows in UTF-8) is a `limit` row.
//!
//! Rows about a payload that a coding changed are at the body's start; rows
//! about one that no coding changed are at the byte concerned.
//!
//! `meta` is a JSON object: `warc_type`; `content_type`, the content type of
//! step 1 as written (absent when there is none); for responses and
//! resources `raw_length` (the payload's bytes once its codings are undone),
//! `encoding` (the name of the encoding used, as `encoding_rs` writes it:
//! `UTF-8`, `Shift_JIS`, `GBK`, `EUC-KR`, `windows-1251`) and, for HTML,
//! `html` (the mode applied); for WET, `language`
//! (`WARC-Identified-Content-Language`) when present.
//!
//! # Bad input
//!
//! Memory is bounded by `max_record_bytes` per record: a block longer than
//! that is a `limit` row and is read through without being held; the next
//! record is still read. A record without a numeric `Content-Length`, with a
//! header line without a colon, or with a header section longer than
//! [`MAX_HEADER_BYTES`] is `malformed`; reading resumes at the next line
//! starting `WARC/1.`. Data where a record should start is one `malformed`
//! row at its offset, and reading resumes the same way. A member that ends
//! inside a record's headers or block is a `corrupt` row at the record's
//! offset, unless a line starting `WARC/1.` lies inside the block: then its
//! `Content-Length` was too large, the record is a `malformed` row and
//! reading resumes at that line, so the records it swallowed are read (at
//! most `max_record_bytes` of them are held; more are reported, not read).

use std::io::BufRead;

use memchr::memmem;

use super::bounded::ReadContext;
use super::lines::{Line, LineReader, ReadFailure};
use super::location::Location;
use super::record::{ErrorKind, Format};
use super::sink::skipped_warc_type;

mod document;
mod http;
mod salvage;

use salvage::Salvage;

/// The start of every record's version line.
const VERSION_PREFIX: &[u8] = b"WARC/1.";

/// A UTF-8 byte order mark, skipped before the first record.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Largest header section (version line included) of a record, in bytes.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Longest header line, in bytes.
const MAX_HEADER_LINE_BYTES: u64 = 64 << 10;

/// Record types that are not documents, skipped and counted without a row.
const NOT_DOCUMENTS: [&str; 4] = ["warcinfo", "request", "metadata", "revisit"];

/// Reads WARC or WET records.
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let mut lines = LineReader::new(reader, MAX_HEADER_LINE_BYTES);
    let mut tail = read_records(&mut lines, loc, cx);
    // A record whose block ran past the end of the member held the records
    // that follow it: read them again from the bytes kept.
    while let Some(Tail { bytes, offset }) = tail {
        let mut rest = &bytes[..];
        let mut lines = LineReader::starting_at(&mut rest, MAX_HEADER_LINE_BYTES, offset);
        tail = read_records(&mut lines, loc, cx);
    }
}

/// Reads records up to the end of `lines`, or up to a record whose block ran
/// past the end: then the bytes of its block from the first version line
/// on, to be read again.
fn read_records(
    lines: &mut LineReader<'_>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Option<Tail> {
    let mut block = Vec::new();
    let mut next = find_record(lines, loc, cx, true);
    while let Found::Record(offset) = next {
        if cx.sink.is_stopped() {
            return None;
        }
        next = match read_record(lines, offset, &mut block, loc, cx) {
            Outcome::Read => find_record(lines, loc, cx, true),
            Outcome::Broken => find_record(lines, loc, cx, false),
            Outcome::NextRecord(offset) => Found::Record(offset),
            Outcome::Resync(tail) => return Some(tail),
            Outcome::Failed => return None,
        };
    }
    None
}

/// Bytes of a block that ran past the end of the member, from the first line
/// starting `WARC/1.` in it, at `offset` in the member.
struct Tail {
    bytes: Vec<u8>,
    offset: u64,
}

/// Where the search for the next record ended.
enum Found {
    /// A version line at this offset (already read).
    Record(u64),
    /// The end of the member, or a failed read (reported).
    End,
}

/// How reading one record ended.
enum Outcome {
    /// The whole record was read (or reported); the next one follows.
    Read,
    /// The record was broken (reported); resume at the next version line.
    Broken,
    /// A version line at this offset cut the record's headers short.
    NextRecord(u64),
    /// The record's block ran past the end of the member, and records start
    /// inside it (reported): read them from the bytes kept.
    Resync(Tail),
    /// A read failed (reported); stop.
    Failed,
}

/// Reads up to the next version line, skipping blank lines. Anything else is
/// skipped too, reported as one `malformed` row when `report` is set.
fn find_record(
    lines: &mut LineReader<'_>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    report: bool,
) -> Found {
    let mut reported = !report;
    loop {
        let garbage_at = match lines.next_line() {
            Ok(None) => return Found::End,
            Err(failure) => {
                report_failure(&failure, loc, cx);
                return Found::End;
            }
            Ok(Some(Line::TooLong { offset, .. })) => offset,
            Ok(Some(Line::Text { offset, bytes })) => {
                // A byte order mark before the first record is not data.
                let (offset, bytes) = match bytes.strip_prefix(BOM) {
                    Some(rest) if offset == 0 => (BOM.len() as u64, rest),
                    _ => (offset, bytes),
                };
                if bytes.starts_with(VERSION_PREFIX) {
                    return Found::Record(offset);
                }
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                offset
            }
        };
        if !reported {
            reported = true;
            cx.error(
                loc,
                garbage_at,
                ErrorKind::Malformed,
                "data that is not a WARC record; skipped to the next line starting \"WARC/1.\"",
            );
        }
    }
}

fn report_failure(failure: &ReadFailure, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.read_failed(loc, failure.offset, &failure.error);
}

/// A record's named headers, in order, names as written.
#[derive(Debug, Default)]
struct Headers(Vec<(String, String)>);

impl Headers {
    /// The value of header `name` (case-insensitive); the first if repeated.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How reading a header section ended.
enum HeaderEnd {
    Complete(Headers),
    Stop(Outcome),
}

/// Reads one record whose version line, at `offset`, was just read.
fn read_record(
    lines: &mut LineReader<'_>,
    offset: u64,
    block: &mut Vec<u8>,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Outcome {
    let headers = match read_headers(lines, offset, loc, cx) {
        HeaderEnd::Complete(headers) => headers,
        HeaderEnd::Stop(outcome) => return outcome,
    };
    let Some(length) = content_length(&headers, offset, loc, cx) else {
        return Outcome::Broken;
    };
    let warc_type = headers.get("WARC-Type").unwrap_or("").to_ascii_lowercase();
    let format = match warc_type.as_str() {
        // wget stores its log and manifest as resources at `metadata:` URIs.
        "resource" if is_crawler_metadata(&headers) => {
            cx.sink.skipped(&skipped_warc_type("metadata"));
            return skip_block(lines, offset, length, loc, cx);
        }
        "response" | "resource" => Format::Warc,
        "conversion" => Format::Wet,
        t if NOT_DOCUMENTS.contains(&t) => {
            cx.sink.skipped(&skipped_warc_type(t));
            return skip_block(lines, offset, length, loc, cx);
        }
        t => {
            let shown = if t.is_empty() { "(missing)" } else { t };
            cx.error(
                loc,
                offset,
                ErrorKind::Unsupported,
                format!("WARC-Type {shown} is not read; record skipped"),
            );
            return skip_block(lines, offset, length, loc, cx);
        }
    };
    let limit = cx.options.limits.max_record_bytes;
    if length > limit {
        cx.error(
            loc,
            offset,
            ErrorKind::Limit,
            format!(
                "WARC record block longer than max_record_bytes ({limit} bytes): {length} bytes; skipped"
            ),
        );
        return skip_block(lines, offset, length, loc, cx);
    }
    block.clear();
    let block_start = lines.position();
    match lines.read_block(length, block) {
        Ok(n) if n < length => {
            if let Some(at) = version_line_in(block) {
                block.drain(..at);
                let tail = Tail {
                    bytes: std::mem::take(block),
                    offset: block_start + at as u64,
                };
                return resync(offset, length, tail, loc, cx);
            }
            report_truncated(offset, length, n, loc, cx);
            return Outcome::Read;
        }
        Ok(_) => {}
        Err(failure) => {
            report_failure(&failure, loc, cx);
            return Outcome::Failed;
        }
    }
    let record = RawRecord {
        offset,
        headers: &headers,
        warc_type: &warc_type,
        format,
        block,
        block_start,
    };
    document::emit(&record, loc, cx);
    Outcome::Read
}

/// Reads header lines up to the empty line that ends them.
fn read_headers(
    lines: &mut LineReader<'_>,
    offset: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> HeaderEnd {
    let mut headers = Headers::default();
    let broken = |cx: &mut ReadContext<'_>, reason: String| {
        cx.error(loc, offset, ErrorKind::Malformed, reason);
        HeaderEnd::Stop(Outcome::Broken)
    };
    let truncated = |cx: &mut ReadContext<'_>| {
        let reason = "truncated WARC record: the member ends inside its headers";
        cx.error(loc, offset, ErrorKind::Corrupt, reason);
        HeaderEnd::Stop(Outcome::Read)
    };
    loop {
        if lines.position() - offset > MAX_HEADER_BYTES {
            return broken(
                cx,
                format!(
                    "WARC header section longer than {MAX_HEADER_BYTES} bytes without an empty line; record skipped"
                ),
            );
        }
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return truncated(cx),
            Err(failure) => {
                report_failure(&failure, loc, cx);
                return HeaderEnd::Stop(Outcome::Failed);
            }
        };
        let (at, text) = match line {
            Line::Text { offset, bytes } => (offset, String::from_utf8_lossy(bytes).into_owned()),
            Line::TooLong { offset: at, len } => {
                return broken(
                    cx,
                    format!(
                        "WARC header line at byte {at} longer than {MAX_HEADER_LINE_BYTES} bytes ({len} bytes); record skipped"
                    ),
                )
            }
        };
        if !lines.last_line_ended() {
            return truncated(cx);
        }
        if text.is_empty() {
            return HeaderEnd::Complete(headers);
        }
        if text.as_bytes().starts_with(VERSION_PREFIX) {
            cx.error(
                loc,
                offset,
                ErrorKind::Malformed,
                format!(
                    "WARC headers never end: a new record starts at byte {at} before the empty line; record skipped"
                ),
            );
            return HeaderEnd::Stop(Outcome::NextRecord(at));
        }
        if let Some(folded) = text.strip_prefix([' ', '\t']) {
            if let Some((_, value)) = headers.0.last_mut() {
                value.push(' ');
                value.push_str(folded.trim());
                continue;
            }
        }
        match text.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => headers
                .0
                .push((name.trim().to_owned(), value.trim().to_owned())),
            _ => {
                return broken(
                    cx,
                    format!(
                    "WARC header line at byte {at} is not \"Name: value\" ({:?}); record skipped",
                    clip(&text, 60)
                ),
                )
            }
        }
    }
}

/// Whether a record's target is a `metadata:` URI: a crawler's own files
/// (wget's log, manifest and arguments), not a page.
fn is_crawler_metadata(headers: &Headers) -> bool {
    headers
        .get("WARC-Target-URI")
        .map(|uri| uri.trim_start_matches('<'))
        .is_some_and(|uri| {
            uri.get(..9)
                .is_some_and(|s| s.eq_ignore_ascii_case("metadata:"))
        })
}

/// The record's `Content-Length`, or `None` (reported) when it is missing or
/// not a number.
fn content_length(
    headers: &Headers,
    offset: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Option<u64> {
    let reason = match headers.get("Content-Length") {
        None => "WARC record without Content-Length; skipped to the next record".to_owned(),
        Some(value) => match value.parse::<u64>() {
            Ok(length) => return Some(length),
            Err(_) => format!(
                "WARC Content-Length {:?} is not a number; skipped to the next record",
                clip(value, 40)
            ),
        },
    };
    cx.error(loc, offset, ErrorKind::Malformed, reason);
    None
}

/// Skips a block of `length` bytes. When the member ends inside it, the
/// records that start in it are read again (at most `max_record_bytes` of
/// them are held).
fn skip_block(
    lines: &mut LineReader<'_>,
    offset: u64,
    length: u64,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Outcome {
    let mut salvage = Salvage::new(lines.position(), cx.options.limits.max_record_bytes);
    match lines.skip_with(length, |chunk| salvage.feed(chunk)) {
        Ok(n) if n < length => match salvage.finish() {
            Ok(Some(tail)) => resync(offset, length, tail, loc, cx),
            Ok(None) => {
                report_truncated(offset, length, n, loc, cx);
                Outcome::Read
            }
            Err(at) => {
                let limit = cx.options.limits.max_record_bytes;
                cx.error(
                    loc,
                    offset,
                    ErrorKind::Malformed,
                    format!(
                        "WARC Content-Length ({length} bytes) runs past the end of the member; \
                         the records inside it from byte {at} on are more than max_record_bytes \
                         ({limit} bytes) and are not read"
                    ),
                );
                Outcome::Read
            }
        },
        Ok(_) => Outcome::Read,
        Err(failure) => {
            report_failure(&failure, loc, cx);
            Outcome::Failed
        }
    }
}

/// Reports a record whose block ran past the end of the member and holds
/// the records in `tail`, which are read next.
fn resync(
    offset: u64,
    length: u64,
    tail: Tail,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Outcome {
    cx.error(
        loc,
        offset,
        ErrorKind::Malformed,
        format!(
            "WARC Content-Length ({length} bytes) runs past the end of the member, and a record \
             starts inside the block at byte {}; record skipped, reading resumed there",
            tail.offset
        ),
    );
    Outcome::Resync(tail)
}

/// Where the first line starting `WARC/1.` begins in a block.
fn version_line_in(block: &[u8]) -> Option<usize> {
    if block.starts_with(VERSION_PREFIX) {
        return Some(0);
    }
    memmem::find(block, b"\nWARC/1.").map(|i| i + 1)
}

fn report_truncated(offset: u64, length: u64, got: u64, loc: &Location, cx: &mut ReadContext<'_>) {
    cx.error(
        loc,
        offset,
        ErrorKind::Corrupt,
        format!(
            "truncated WARC record: Content-Length is {length} bytes but the member ends after {got}"
        ),
    );
}

/// A record of a document type whose block was read whole.
struct RawRecord<'a> {
    offset: u64,
    headers: &'a Headers,
    /// Lowercase.
    warc_type: &'a str,
    format: Format,
    block: &'a [u8],
    /// Offset of the block in the member.
    block_start: u64,
}

/// A URI without the angle brackets WARC 1.0 writers put around it.
fn unbracket(uri: &str) -> String {
    uri.strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .unwrap_or(uri)
        .to_owned()
}

/// At most `chars` characters of `text`, for a reason.
fn clip(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
