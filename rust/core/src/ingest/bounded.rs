//! Bounded reading: the byte budget of one input, the context parsers read
//! under (options, sink, budget), the `io::Error` a safety limit raises and
//! how a failed read becomes an error row, and reads that stop at a size.

use std::cell::Cell;
use std::io::{self, Read};

use super::decode::{Decoded, InvalidSpan};
use super::location::Location;
use super::options::{IngestOptions, Limits};
use super::record::ErrorKind;
use super::sink::Sink;

/// Decompressed bytes one input may still produce: at most
/// [`super::Limits::max_input_bytes`], and, once the input's size is known
/// ([`ByteBudget::set_input_bytes`]), at most [`super::Limits::max_ratio`]
/// times that size past [`super::Limits::RATIO_GRACE_BYTES`]. Every
/// decompressing reader of the input charges it, at every nesting level, so
/// that nested archives (each within its own ratio) cannot multiply their
/// allowances.
#[derive(Debug)]
pub struct ByteBudget {
    used: Cell<u64>,
    limit: u64,
    /// The input's own size (its compressed bytes), when known.
    input_bytes: Cell<Option<u64>>,
}

impl ByteBudget {
    pub fn new(limit: u64) -> Self {
        ByteBudget {
            used: Cell::new(0),
            limit,
            input_bytes: Cell::new(None),
        }
    }

    /// Notes the size of the input this budget is for: its decompressed
    /// bytes are then held to a ratio of it ([`ByteBudget::check_ratio`]).
    pub fn set_input_bytes(&self, bytes: u64) {
        self.input_bytes.set(Some(bytes));
    }

    /// Counts `n` more bytes; an error once the total passes the limit.
    pub fn take(&self, n: u64) -> io::Result<()> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        if used > self.limit {
            return Err(limit_error(format!(
                "input decompresses to more than max_input_bytes ({} bytes)",
                self.limit
            )));
        }
        Ok(())
    }

    /// The reason, once the bytes taken, past [`Limits::RATIO_GRACE_BYTES`],
    /// exceed `max_ratio` times the input's size (if known).
    ///
    /// [`Limits::RATIO_GRACE_BYTES`]: super::Limits::RATIO_GRACE_BYTES
    pub fn check_ratio(&self, max_ratio: u64) -> Result<(), String> {
        let Some(input) = self.input_bytes.get() else {
            return Ok(());
        };
        let used = self.used.get();
        if used > Limits::RATIO_GRACE_BYTES && used > input.saturating_mul(max_ratio) {
            return Err(format!(
                "input expands more than max_ratio ({max_ratio}:1) over all nesting levels \
                 together: {used} decompressed bytes from {input} input bytes, likely a \
                 (nested) decompression bomb; not read further"
            ));
        }
        Ok(())
    }

    pub fn used(&self) -> u64 {
        self.used.get()
    }
}

/// Everything a parser needs besides its input: options, where to put what
/// it reads, and the input's byte budget.
pub struct ReadContext<'a> {
    pub options: &'a IngestOptions,
    pub sink: &'a mut dyn Sink,
    pub input_budget: &'a ByteBudget,
}

impl ReadContext<'_> {
    /// Reports an error row.
    pub fn error(
        &mut self,
        loc: &Location,
        offset: u64,
        kind: ErrorKind,
        reason: impl Into<String>,
    ) {
        self.sink.error(loc.error(offset, kind, reason));
    }

    /// Reports binary content (see [`super::decode::binary_marker`]) at
    /// `offset` in the member; the document or member is not parsed.
    pub fn report_binary(&mut self, loc: &Location, offset: u64) {
        let reason =
            format!("binary content (NUL or control bytes near byte {offset}); not parsed");
        self.error(loc, offset, ErrorKind::Binary, reason);
    }

    /// Reports the invalid UTF-8 of `decoded` (whose bytes start at `base` in
    /// the member) as one `invalid_utf8` row at its first run, so that a
    /// Latin-1 document gives one row, not one per accented letter; true if
    /// there was any.
    pub fn report_invalid_utf8(
        &mut self,
        loc: &Location,
        base: u64,
        decoded: &Decoded<'_>,
    ) -> bool {
        self.report_invalid_spans(loc, base, decoded.invalid_spans())
    }

    /// Reports `spans` (offsets relative to `base`) as one `invalid_utf8` row
    /// at the first; true if there was any.
    pub fn report_invalid_spans(
        &mut self,
        loc: &Location,
        base: u64,
        spans: &[InvalidSpan],
    ) -> bool {
        let Some(first) = spans.first() else {
            return false;
        };
        self.report_invalid_in(loc, base + first.offset as u64, spans, "UTF-8")
    }

    /// Reports `spans`, sequences that are not valid in `encoding` (its
    /// name), as one `invalid_utf8` row at `offset` (where the first is, or
    /// where the text starts when the spans cannot be placed in the member);
    /// true if there was any.
    pub fn report_invalid_in(
        &mut self,
        loc: &Location,
        offset: u64,
        spans: &[InvalidSpan],
        encoding: &str,
    ) -> bool {
        if spans.is_empty() {
            return false;
        }
        let bytes: usize = spans.iter().map(|span| span.len).sum();
        let reason = if spans.len() == 1 {
            format!(
                "invalid {encoding} ({bytes} byte(s)); replaced with U+FFFD, the record is kept and flagged"
            )
        } else {
            format!(
                "invalid {encoding} ({} runs, {bytes} bytes, the first here); replaced with U+FFFD, \
                 the record is kept and flagged",
                spans.len()
            )
        };
        self.error(loc, offset, ErrorKind::InvalidUtf8, reason);
        true
    }

    /// Reports a failed read at `offset` as a `corrupt`, `limit` or `io` row.
    pub fn read_failed(&mut self, loc: &Location, offset: u64, err: &io::Error) {
        let kind = error_kind(err);
        let reason = match kind {
            ErrorKind::Limit => format!("limit reached: {err}; the rest of this member is skipped"),
            ErrorKind::Corrupt => {
                format!("corrupt or truncated data: {err}; the rest of this member is skipped")
            }
            _ => format!("read failed: {err}; the rest of this member is skipped"),
        };
        self.error(loc, offset, kind, reason);
    }
}

/// The payload of an `io::Error` raised when a safety limit is hit.
#[derive(Debug)]
pub struct LimitExceeded(pub String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

/// An `io::Error` that [`error_kind`] reports as [`ErrorKind::Limit`].
pub fn limit_error(message: String) -> io::Error {
    io::Error::other(LimitExceeded(message))
}

/// The error-row kind of a failed read.
pub fn error_kind(err: &io::Error) -> ErrorKind {
    if err
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<LimitExceeded>().is_some())
    {
        return ErrorKind::Limit;
    }
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::Interrupted => {
            ErrorKind::Io
        }
        _ => ErrorKind::Corrupt,
    }
}

/// Fills `buf` as far as the stream allows; returns the bytes read.
pub fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    match fill_prefix(reader, buf) {
        (n, None) => Ok(n),
        (_, Some(err)) => Err(err),
    }
}

/// Fills `buf` as far as the stream allows; returns the bytes read and the
/// error that stopped it early, if any.
pub(super) fn fill_prefix(reader: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// Reads the rest of `reader` into memory, at most `limit` bytes. Returns the
/// bytes and whether more were left (the rest is not read).
pub fn read_bounded(reader: &mut dyn Read, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    let mut probe = [0u8; 1];
    let more = read_up_to(reader, &mut probe)? > 0;
    Ok((bytes, more))
}
