//! WARC 1.0/1.1 and WET files (Common Crawl).
//!
//! # Records
//!
//! A record is a version line `WARC/1.x`, header lines `Name: value` (names
//! case-insensitive, continuation lines folded in) up to an empty line, a
//! block of exactly `Content-Length` bytes, then `\r\n\r\n`. Lines may end
//! with `\r\n` or `\n`; blank lines between records are ignored.
//!
//! * `response`: the block is an HTTP response; its status line and headers
//!   are dropped (a chunked body is de-chunked) and the body is the text. A
//!   body whose HTTP `Content-Type` is not text (`image/*`,
//!   `application/pdf`, ...) or whose `Content-Encoding` is not `identity` is
//!   an `unsupported` row. A block that does not start with `HTTP/` is taken
//!   whole, like a resource.
//! * `resource`: the block is the document (same `Content-Type` rule, from the
//!   WARC header).
//!   Both give [`Format::Warc`] records.
//! * `conversion` (WET extracted text): the block is the text;
//!   [`Format::Wet`] records.
//! * `warcinfo`, `request`, `metadata`, `revisit`: not documents; skipped
//!   without an error row, as nothing of the input's text is lost by that.
//! * Any other type (`continuation` segments, unknown types): an
//!   `unsupported` row, block skipped.
//!
//! A record's `offset` is that of its `WARC/` line; `url` is
//! `WARC-Target-URI`, `date` `WARC-Date`, `id` `WARC-Record-ID`; `meta` is a
//! JSON object with `warc_type`, `content_type` (the WARC `Content-Type`, or
//! the HTTP one for responses; absent when there is none) and, for WET,
//! `language` (`WARC-Identified-Content-Language`) when present. The text is
//! the block decoded as UTF-8 (invalid bytes replaced with U+FFFD, reported
//! as `invalid_utf8` and flagged; a body in another charset shows up this
//! way), trimmed. A body with binary content is a `binary` row, one with no
//! text an `empty` row.
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
use serde_json::{Map, Value};

use super::bounded::ReadContext;
use super::decode::{binary_marker, Decoded};
use super::lines::{Line, LineReader, ReadFailure};
use super::location::Location;
use super::record::{ErrorKind, Format};

/// The start of every record's version line.
const VERSION_PREFIX: &[u8] = b"WARC/1.";

/// A UTF-8 byte order mark, skipped before the first record.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Largest header section (version line included) of a record, in bytes.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Longest header line, in bytes.
const MAX_HEADER_LINE_BYTES: u64 = 64 << 10;

/// Record types that are not documents, skipped without a row.
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
        "response" | "resource" => Format::Warc,
        "conversion" => Format::Wet,
        t if NOT_DOCUMENTS.contains(&t) => return skip_block(lines, offset, length, loc, cx),
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
    emit(&record, loc, cx);
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

/// Watches a block go past chunk by chunk and keeps its bytes from the first
/// line starting `WARC/1.` on, up to a limit.
struct Salvage {
    /// Offset in the member of the next byte fed.
    position: u64,
    /// Most bytes kept.
    cap: u64,
    /// Bytes of [`VERSION_PREFIX`] matched at the start of the current line;
    /// `None` when the current line does not start like a version line.
    matched: Option<usize>,
    /// Offset in the member of the version line found, if any.
    start: Option<u64>,
    kept: Vec<u8>,
    /// Whether more than `cap` bytes followed the version line.
    overflowed: bool,
}

impl Salvage {
    /// Watches a block whose first byte is at `position` (a line start).
    fn new(position: u64, cap: u64) -> Self {
        Salvage {
            position,
            cap,
            matched: Some(0),
            start: None,
            kept: Vec::new(),
            overflowed: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let len = chunk.len() as u64;
        if self.start.is_some() {
            self.keep(chunk);
        } else if let Some(from) = self.search(chunk) {
            self.keep(&chunk[from..]);
        }
        self.position += len;
    }

    /// Looks for a version line in `chunk`; on finding one, sets `start`
    /// and `kept` (with the part of it that came in earlier chunks) and
    /// returns where the rest of it starts in `chunk`.
    fn search(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < chunk.len() {
            let Some(m) = self.matched else {
                match memchr::memchr(b'\n', &chunk[i..]) {
                    Some(j) => {
                        i += j + 1;
                        self.matched = Some(0);
                        continue;
                    }
                    None => return None,
                }
            };
            let want = &VERSION_PREFIX[m..];
            let n = want.len().min(chunk.len() - i);
            if chunk[i..i + n] != want[..n] {
                self.matched = None;
                continue;
            }
            if m + n == VERSION_PREFIX.len() {
                self.start = Some(self.position + i as u64 - m as u64);
                self.kept.extend_from_slice(&VERSION_PREFIX[..m]);
                return Some(i);
            }
            self.matched = Some(m + n);
            i += n;
        }
        None
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.overflowed {
            return;
        }
        if (self.kept.len() + bytes.len()) as u64 > self.cap {
            self.overflowed = true;
            self.kept = Vec::new();
            return;
        }
        self.kept.extend_from_slice(bytes);
    }

    /// The bytes kept from the version line found; `Err` with its offset
    /// when they were too many to keep.
    fn finish(self) -> Result<Option<Tail>, u64> {
        match self.start {
            None => Ok(None),
            Some(at) if self.overflowed => Err(at),
            Some(offset) => Ok(Some(Tail {
                bytes: self.kept,
                offset,
            })),
        }
    }
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

/// The document of a record: its body and content type.
struct Body<'a> {
    bytes: std::borrow::Cow<'a, [u8]>,
    /// Offset of the body in the member.
    start: u64,
    content_type: Option<String>,
}

/// Emits a record's document, or the row that says why it has none.
fn emit(raw: &RawRecord<'_>, loc: &Location, cx: &mut ReadContext<'_>) {
    let body = match body_of(raw) {
        Ok(body) => body,
        Err((kind, reason)) => {
            cx.error(loc, raw.offset, kind, reason);
            return;
        }
    };
    if let Some(at) = binary_marker(&body.bytes) {
        cx.report_binary(loc, body.start + at as u64);
        return;
    }
    let decoded = Decoded::new(&body.bytes);
    let text = decoded.text().trim();
    if text.is_empty() {
        cx.error(
            loc,
            raw.offset,
            ErrorKind::Empty,
            format!("WARC {} record with no text", raw.warc_type),
        );
        return;
    }
    let lossy = cx.report_invalid_utf8(loc, body.start, &decoded);
    let headers = raw.headers;
    let mut record = loc.record(raw.offset, raw.format, text.to_owned());
    record.url = headers.get("WARC-Target-URI").map(unbracket);
    record.date = headers.get("WARC-Date").map(str::to_owned);
    record.id = headers.get("WARC-Record-ID").map(str::to_owned);
    record.meta = Some(meta(raw, body.content_type));
    record.invalid_utf8 = lossy;
    cx.sink.record(record);
}

/// The body of a record and its content type, or the row that says why it
/// is not read.
fn body_of<'a>(raw: &RawRecord<'a>) -> Result<Body<'a>, (ErrorKind, String)> {
    let warc_content_type = raw.headers.get("Content-Type").map(str::to_owned);
    let whole = Body {
        bytes: raw.block.into(),
        start: raw.block_start,
        content_type: warc_content_type,
    };
    let body = if raw.warc_type == "response" && raw.block.starts_with(b"HTTP/") {
        http_body(raw.block, raw.block_start)?
    } else {
        whole
    };
    if let Some(content_type) = &body.content_type {
        if !is_text_type(content_type) {
            return Err((
                ErrorKind::Unsupported,
                format!("non-text content ({content_type}); not read"),
            ));
        }
    }
    Ok(body)
}

/// The body of an HTTP response held in `block` (at `start` in the member).
fn http_body(block: &[u8], start: u64) -> Result<Body<'_>, (ErrorKind, String)> {
    let Some((head_len, body_at)) = header_end(block) else {
        return Err((
            ErrorKind::Malformed,
            "HTTP headers of a response never end (no empty line)".to_owned(),
        ));
    };
    let head = String::from_utf8_lossy(&block[..head_len]);
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let content_type = header("Content-Type").filter(|v| !v.is_empty());
    if let Some(encoding) = header("Content-Encoding") {
        if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
            return Err((
                ErrorKind::Unsupported,
                format!("HTTP Content-Encoding {encoding} is not decoded; not read"),
            ));
        }
    }
    let raw_body = &block[body_at..];
    let chunked =
        header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let bytes = if chunked {
        dechunk(raw_body)
            .map_err(|e| (ErrorKind::Malformed, format!("bad chunked HTTP body: {e}")))?
            .into()
    } else {
        raw_body.into()
    };
    Ok(Body {
        bytes,
        start: start + body_at as u64,
        content_type,
    })
}

/// The length of an HTTP head (status line and headers) and where the body
/// starts, at the first empty line (`\r\n\r\n` or `\n\n`).
fn header_end(block: &[u8]) -> Option<(usize, usize)> {
    let crlf = memmem::find(block, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = memmem::find(block, b"\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Decodes an HTTP chunked body (chunk extensions and trailers ignored).
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let Some(eol) = memchr::memchr(b'\n', data) else {
            return Err("chunk size line without an end".to_owned());
        };
        let line = String::from_utf8_lossy(&data[..eol]);
        let digits = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(digits, 16)
            .map_err(|_| format!("chunk size {:?} is not hexadecimal", clip(digits, 20)))?;
        data = &data[eol + 1..];
        if size == 0 {
            return Ok(out);
        }
        let Some(chunk) = data.get(..size) else {
            return Err(format!(
                "chunk of {size} bytes but only {} left",
                data.len()
            ));
        };
        out.extend_from_slice(chunk);
        data = &data[size..];
        data = data
            .strip_prefix(b"\r\n")
            .or_else(|| data.strip_prefix(b"\n"))
            .unwrap_or(data);
    }
}

/// Whether a MIME type (with parameters) is text that can be read.
fn is_text_type(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    const TEXT_APPLICATIONS: [&str; 9] = [
        "application/xhtml+xml",
        "application/xml",
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/x-sh",
        "application/http",
        "message/http",
    ];
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.ends_with("+xml")
        || mime.ends_with("+json")
        || TEXT_APPLICATIONS.contains(&mime.as_str())
}

/// The `meta` JSON object of a record.
fn meta(raw: &RawRecord<'_>, content_type: Option<String>) -> String {
    let mut fields = Map::new();
    fields.insert("warc_type".to_owned(), Value::from(raw.warc_type));
    if let Some(content_type) = content_type {
        fields.insert("content_type".to_owned(), Value::from(content_type));
    }
    if raw.format == Format::Wet {
        if let Some(language) = raw.headers.get("WARC-Identified-Content-Language") {
            fields.insert("language".to_owned(), Value::from(language));
        }
    }
    Value::Object(fields).to_string()
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
