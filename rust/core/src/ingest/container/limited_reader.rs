//! The readers containers put around a member's bytes: counting the
//! compressed bytes taken, checking the expansion ratio, and enforcing the
//! byte limits (per member, per input).

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

use crate::ingest::bounded::{self, ByteBudget, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::member;
use crate::ingest::options::Limits;

/// A byte count shared between a reader and whoever watches it.
pub(super) type Counter = Rc<Cell<u64>>;

/// Counts the bytes read from `inner` into a shared counter.
pub(super) struct CountingReader<R> {
    inner: R,
    count: Counter,
}

impl<R> CountingReader<R> {
    pub(super) fn new(inner: R, count: Counter) -> Self {
        CountingReader { inner, count }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The expansion check of one compressed stream (or one zip archive, all its
/// entries together).
#[derive(Clone)]
pub(super) struct Ratio {
    /// What expands ("gzip stream", "zip archive"), for the message.
    what: &'static str,
    /// Compressed bytes read so far.
    compressed: Counter,
    /// Decompressed bytes produced so far.
    output: Counter,
    max: u64,
}

impl Ratio {
    pub(super) fn new(what: &'static str, compressed: Counter, max: u64) -> Self {
        Ratio {
            what,
            compressed,
            output: Counter::default(),
            max,
        }
    }

    /// Counts `n` more decompressed bytes; the reason once the output, past
    /// [`Limits::RATIO_GRACE_BYTES`], exceeds `max` times the input.
    fn add(&self, n: u64) -> Result<(), String> {
        let output = self.output.get().saturating_add(n);
        self.output.set(output);
        let compressed = self.compressed.get();
        if output > Limits::RATIO_GRACE_BYTES && output > compressed.saturating_mul(self.max) {
            return Err(format!(
                "{} expands more than max_ratio ({}:1): {output} bytes from {compressed} \
                 compressed bytes, likely a decompression bomb; not read further",
                self.what, self.max
            ));
        }
        Ok(())
    }
}

/// Why a [`LimitedReader`] returned an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The inner reader failed: corrupt data, or a limit of an outer layer.
    Inner,
    /// The inner reader ended before the declared size.
    Truncated,
    /// More than `max_member_bytes`.
    MemberLimit,
    /// The input's `max_input_bytes` budget is spent.
    InputLimit,
    /// The expansion ratio is too high: this stream's, or the whole
    /// input's over all its nesting levels.
    Ratio,
}

/// A member's bytes with the safety limits applied: at most `max_bytes`,
/// charged to the input's budget, and the ratio checked, as configured. A
/// limit is an error (a [`bounded::limit_error`]) returned once the bytes up to
/// the limit were read, and repeated on later reads; `stop` says what stopped
/// the reader.
pub(super) struct LimitedReader<'b, R> {
    inner: R,
    /// What the bytes are ("tar member"), for messages.
    what: &'static str,
    /// Bytes returned so far.
    pub(super) produced: u64,
    max_bytes: u64,
    /// The declared size: ending short of it is a truncation.
    expected: Option<u64>,
    /// The input's budget, its limit and the largest expansion of the input.
    budget: Option<(&'b ByteBudget, u64, u64)>,
    ratio: Option<Ratio>,
    pub(super) stop: Option<Stop>,
    /// The limit that was hit, repeated on later reads.
    limit_hit: Option<String>,
}

impl<'b, R: Read> LimitedReader<'b, R> {
    pub(super) fn new(inner: R, what: &'static str, max_bytes: u64) -> Self {
        LimitedReader {
            inner,
            what,
            produced: 0,
            max_bytes,
            expected: None,
            budget: None,
            ratio: None,
            stop: None,
            limit_hit: None,
        }
    }

    /// Charges every byte to the input's `budget`, held to the input's
    /// `max_input_bytes` and `max_ratio` of `limits`.
    pub(super) fn charging(mut self, budget: &'b ByteBudget, limits: &Limits) -> Self {
        self.budget = Some((budget, limits.max_input_bytes, limits.max_ratio));
        self
    }

    /// Checks the expansion ratio.
    pub(super) fn with_ratio(mut self, ratio: Ratio) -> Self {
        self.ratio = Some(ratio);
        self
    }

    /// Expects exactly `size` bytes; fewer is an `UnexpectedEof` error.
    pub(super) fn expecting(mut self, size: u64) -> Self {
        self.expected = Some(size);
        self
    }

    /// Bytes that may still be read before a limit.
    fn allowed(&self) -> u64 {
        let member = self.max_bytes.saturating_sub(self.produced);
        let input = self.budget.map_or(u64::MAX, |(budget, limit, _)| {
            limit.saturating_sub(budget.used())
        });
        member.min(input)
    }

    /// Records that a limit was hit; its error.
    fn limit(&mut self, stop: Stop, reason: String) -> io::Error {
        self.stop = Some(stop);
        self.limit_hit = Some(reason.clone());
        bounded::limit_error(reason)
    }

    /// Applies the limits to `n` bytes just read.
    fn check(&mut self, n: u64) -> Result<(), io::Error> {
        if self.produced.saturating_add(n) > self.max_bytes {
            let reason = format!(
                "{} larger than max_member_bytes ({} bytes)",
                self.what, self.max_bytes
            );
            return Err(self.limit(Stop::MemberLimit, reason));
        }
        if let Some((budget, _, _)) = self.budget {
            if let Err(e) = budget.take(n) {
                return Err(self.limit(Stop::InputLimit, e.to_string()));
            }
        }
        let ratio = self.ratio.as_ref().map_or(Ok(()), |ratio| ratio.add(n));
        if let Err(reason) = ratio {
            return Err(self.limit(Stop::Ratio, reason));
        }
        // The whole input's expansion, after this stream's own (which is
        // the closer one when both are hit).
        if let Some((budget, _, max_ratio)) = self.budget {
            if let Err(reason) = budget.check_ratio(max_ratio) {
                return Err(self.limit(Stop::Ratio, reason));
            }
        }
        Ok(())
    }

    /// The inner reader ended.
    fn at_end(&mut self) -> io::Result<usize> {
        match self.expected {
            Some(expected) if self.produced < expected => {
                self.stop = Some(Stop::Truncated);
                let err = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("data cut short after {} of {expected} bytes", self.produced),
                );
                Err(err)
            }
            _ => Ok(0),
        }
    }

    /// Reads the member through this reader.
    pub(super) fn read_member(&mut self, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
        member::read_member(self, loc, depth, cx);
    }
}

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(reason) = &self.limit_hit {
            return Err(bounded::limit_error(reason.clone()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Up to the nearest limit, then one byte to see whether there is more.
        let allowed = self.allowed().max(1);
        let want = usize::try_from(allowed).map_or(buf.len(), |a| a.min(buf.len()));
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(0) => return self.at_end(),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.stop = Some(Stop::Inner);
                return Err(e);
            }
        };
        self.check(n as u64)?;
        self.produced += n as u64;
        Ok(n)
    }
}
