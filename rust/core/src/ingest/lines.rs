//! Reading lines with a length limit, keeping byte offsets.
//!
//! [`LineReader`] splits a `BufRead` on `\n` and hands out each line without
//! its `\n` (and without a `\r` just before it), with the line's byte offset
//! in the member. Lines are borrowed from the reader's own buffer when they
//! lie whole in it, and copied into one reused buffer otherwise, so reading a
//! line allocates nothing once that buffer has grown.
//!
//! Memory is bounded: a line longer than the reader's limit is never held
//! whole. It is read through in chunks to its end and reported as
//! [`Line::TooLong`] with its offset and length, so the caller can write an
//! error row and go on with the next line.
//!
//! The reader also reads or skips blocks of a known length
//! ([`LineReader::read_block`], [`LineReader::skip`]), for formats that mix
//! lines and counted bodies (WARC), keeping the offsets right.

use std::io::{self, BufRead};

use memchr::memchr;

/// One line of the member.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line within the limit.
    Text {
        /// Byte offset of the line's first byte in the member.
        offset: u64,
        /// The line, without `\n` and without a `\r` just before it.
        bytes: &'a [u8],
    },
    /// A line longer than the limit; its bytes were read through, not kept.
    TooLong {
        /// Byte offset of the line's first byte in the member.
        offset: u64,
        /// Its length in bytes, without `\n` and a `\r` just before it.
        len: u64,
    },
}

/// A read that failed, and how far into the member reading had got.
#[derive(Debug)]
pub struct ReadFailure {
    /// Bytes of the member read before the failure.
    pub offset: u64,
    /// The error the reader returned.
    pub error: io::Error,
}

/// The reason of the error row for a line longer than `limit` bytes.
pub fn too_long_reason(len: u64, limit: u64) -> String {
    format!("line longer than max_record_bytes ({limit} bytes): {len} bytes; skipped")
}

/// Splits a stream into lines of at most a given length, with their offsets.
pub struct LineReader<'r> {
    reader: &'r mut dyn BufRead,
    /// Longest line handed out whole, in bytes (without `\n` and `\r`).
    max_line: usize,
    /// Offset in the member of the next byte not yet handed out.
    position: u64,
    /// Bytes of the reader's buffer handed out as a borrowed line and not
    /// yet consumed (they are consumed on the next call).
    pending: usize,
    /// Lines that do not lie whole in the reader's buffer are gathered here.
    buf: Vec<u8>,
    /// Whether the last line handed out ended with `\n`.
    ended: bool,
}

/// Where the next line ends, as far as the reader's buffer shows.
enum Probe {
    /// The member has no more bytes.
    End,
    /// The buffer holds a whole line of `len` bytes (`\r` excluded) ending
    /// with a `\n` at `newline`.
    Whole { len: usize, newline: usize },
    /// The line does not lie whole in the buffer, or is too long.
    Partial,
}

impl<'r> LineReader<'r> {
    /// Reads lines of at most `max_line_bytes` bytes from `reader`, whose
    /// first byte is at offset 0 of the member.
    pub fn new(reader: &'r mut dyn BufRead, max_line_bytes: u64) -> Self {
        Self::starting_at(reader, max_line_bytes, 0)
    }

    /// Reads lines of at most `max_line_bytes` bytes from `reader`, whose
    /// first byte is at offset `position` of the member (bytes of the member
    /// read again, as when a parser resumes inside a block it read).
    pub fn starting_at(reader: &'r mut dyn BufRead, max_line_bytes: u64, position: u64) -> Self {
        LineReader {
            reader,
            max_line: usize::try_from(max_line_bytes).unwrap_or(usize::MAX),
            position,
            pending: 0,
            buf: Vec::new(),
            ended: true,
        }
    }

    /// Offset in the member of the next byte to read.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether the last line read ended with `\n` (false for a last line cut
    /// short by the end of the member).
    pub fn last_line_ended(&self) -> bool {
        self.ended
    }

    /// The next line, or `None` at the end of the member. A last line without
    /// `\n` is a line; an empty member, or one ending with `\n`, has no empty
    /// line after it.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, ReadFailure> {
        self.settle();
        let offset = self.position;
        match self.probe()? {
            Probe::End => Ok(None),
            Probe::Whole { len, newline } => {
                self.ended = true;
                self.pending = newline + 1;
                self.position += newline as u64 + 1;
                let available = self
                    .reader
                    .fill_buf()
                    .map_err(|error| ReadFailure { offset, error })?;
                // The buffer still holds the bytes probed (nothing was consumed).
                let bytes = &available[..len.min(available.len())];
                Ok(Some(Line::Text { offset, bytes }))
            }
            Probe::Partial => self.gather_line(offset),
        }
    }

    /// Appends up to `len` bytes to `out`; returns how many were read (fewer
    /// only at the end of the member).
    pub fn read_block(&mut self, len: u64, out: &mut Vec<u8>) -> Result<u64, ReadFailure> {
        self.settle();
        self.pass_through(len, |chunk| out.extend_from_slice(chunk))
    }

    /// Skips up to `len` bytes without keeping them; returns how many were
    /// skipped (fewer only at the end of the member).
    pub fn skip(&mut self, len: u64) -> Result<u64, ReadFailure> {
        self.skip_with(len, |_| {})
    }

    /// Skips up to `len` bytes, showing them to `look` chunk by chunk
    /// without keeping them; returns how many were skipped (fewer only at
    /// the end of the member).
    pub fn skip_with(&mut self, len: u64, look: impl FnMut(&[u8])) -> Result<u64, ReadFailure> {
        self.settle();
        self.pass_through(len, look)
    }

    /// Consumes the bytes of the line handed out last.
    fn settle(&mut self) {
        if self.pending > 0 {
            self.reader.consume(self.pending);
            self.pending = 0;
        }
    }

    /// Fills the reader's buffer and looks for the end of the next line in it.
    fn probe(&mut self) -> Result<Probe, ReadFailure> {
        let max_line = self.max_line;
        let available = self.fill()?;
        if available.is_empty() {
            return Ok(Probe::End);
        }
        let Some(newline) = memchr(b'\n', available) else {
            return Ok(Probe::Partial);
        };
        let len = if newline > 0 && available[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        if len > max_line {
            return Ok(Probe::Partial);
        }
        Ok(Probe::Whole { len, newline })
    }

    /// Reads a line that does not lie whole in the reader's buffer: gathers
    /// it in `buf`, or reads it through when it is too long.
    fn gather_line(&mut self, offset: u64) -> Result<Option<Line<'_>>, ReadFailure> {
        self.buf.clear();
        // The limit plus one byte, for a `\r` before the `\n`.
        let keep = self.max_line.saturating_add(1);
        let mut len: u64 = 0;
        let mut too_long = false;
        let mut last_is_cr = false;
        self.ended = false;
        loop {
            let available = fill(&mut *self.reader, self.position)?;
            if available.is_empty() {
                break;
            }
            let newline = memchr(b'\n', available);
            let part = &available[..newline.unwrap_or(available.len())];
            if !too_long {
                if self.buf.len() + part.len() > keep {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            if let Some(&last) = part.last() {
                last_is_cr = last == b'\r';
            }
            let taken = part.len();
            let used = taken + usize::from(newline.is_some());
            self.reader.consume(used);
            self.position += used as u64;
            len += taken as u64;
            if newline.is_some() {
                self.ended = true;
                break;
            }
        }
        if last_is_cr {
            len -= 1;
        }
        if too_long || len > self.max_line as u64 {
            return Ok(Some(Line::TooLong { offset, len }));
        }
        if len == 0 && self.position == offset {
            return Ok(None);
        }
        if last_is_cr {
            self.buf.pop();
        }
        Ok(Some(Line::Text {
            offset,
            bytes: &self.buf,
        }))
    }

    /// Hands up to `len` bytes to `take`, chunk by chunk, consuming them.
    fn pass_through(&mut self, len: u64, mut take: impl FnMut(&[u8])) -> Result<u64, ReadFailure> {
        let mut done = 0u64;
        while done < len {
            let available = self.fill()?;
            if available.is_empty() {
                break;
            }
            let want = usize::try_from(len - done).unwrap_or(usize::MAX);
            let n = want.min(available.len());
            take(&available[..n]);
            self.reader.consume(n);
            self.position += n as u64;
            done += n as u64;
        }
        Ok(done)
    }

    /// The reader's buffer, filled if it was empty; empty at the end.
    fn fill(&mut self) -> Result<&[u8], ReadFailure> {
        fill(&mut *self.reader, self.position)
    }
}

/// `reader`'s buffer, filled if it was empty (interrupted reads retried);
/// a failure is reported at `position`.
fn fill(reader: &mut dyn BufRead, position: u64) -> Result<&[u8], ReadFailure> {
    // Retry without holding the buffer's borrow across iterations; the
    // second call returns the bytes just buffered without reading. At the
    // end nothing is buffered, so it would read again: answer at once.
    loop {
        match reader.fill_buf() {
            Ok([]) => return Ok(&[]),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(ReadFailure {
                    offset: position,
                    error,
                })
            }
        }
    }
    reader.fill_buf().map_err(|error| ReadFailure {
        offset: position,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    /// Every line of `input` read with a `capacity`-byte buffer, as
    /// `(offset, Ok(text) | Err(len))`.
    fn lines_of(input: &[u8], max: u64, capacity: usize) -> Vec<(u64, Result<String, u64>)> {
        let mut reader = BufReader::with_capacity(capacity, input);
        let mut lines = LineReader::new(&mut reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(match line {
                Line::Text { offset, bytes } => {
                    (offset, Ok(String::from_utf8(bytes.to_vec()).unwrap()))
                }
                Line::TooLong { offset, len } => (offset, Err(len)),
            });
        }
        assert_eq!(lines.position(), input.len() as u64);
        out
    }

    fn text(offset: u64, s: &str) -> (u64, Result<String, u64>) {
        (offset, Ok(s.to_owned()))
    }

    #[test]
    fn offsets_crlf_and_last_line_without_newline() {
        let input = b"one\r\ntwo\n\nthree\r\r\nfour";
        let expected = vec![
            text(0, "one"),
            text(5, "two"),
            text(9, ""),
            text(10, "three\r"),
            text(18, "four"),
        ];
        // Whole lines in the buffer, and lines cut across tiny buffers.
        for capacity in [1, 2, 3, 7, 64] {
            assert_eq!(
                lines_of(input, 100, capacity),
                expected,
                "capacity {capacity}"
            );
        }
    }

    #[test]
    fn knows_whether_the_last_line_ended() {
        for capacity in [2, 64] {
            let mut reader = BufReader::with_capacity(capacity, &b"ab\ncd"[..]);
            let mut lines = LineReader::new(&mut reader, 10);
            assert!(lines.next_line().unwrap().is_some());
            assert!(lines.last_line_ended());
            assert!(lines.next_line().unwrap().is_some());
            assert!(!lines.last_line_ended());
        }
    }

    #[test]
    fn trailing_newline_makes_no_empty_line() {
        assert_eq!(lines_of(b"a\n", 10, 64), vec![text(0, "a")]);
        assert_eq!(lines_of(b"", 10, 64), vec![]);
        assert_eq!(lines_of(b"\n", 10, 64), vec![text(0, "")]);
        assert_eq!(lines_of(b"\r", 10, 64), vec![text(0, "")]);
    }

    #[test]
    fn over_long_lines_are_skipped_with_their_length() {
        let input = b"short\nthis line is too long\r\nok\nexactly10!\r\n0123456789A";
        for capacity in [1, 4, 64] {
            assert_eq!(
                lines_of(input, 10, capacity),
                vec![
                    text(0, "short"),
                    (6, Err(21)),
                    text(29, "ok"),
                    text(32, "exactly10!"),
                    (44, Err(11)),
                ],
                "capacity {capacity}"
            );
        }
    }

    #[test]
    fn blocks_are_read_and_skipped_with_offsets() {
        let input = b"head\nBLOCK1rest\nSKIPPEDtail\n";
        let mut reader = BufReader::with_capacity(4, &input[..]);
        let mut lines = LineReader::new(&mut reader, 100);
        assert!(matches!(
            lines.next_line().unwrap(),
            Some(Line::Text {
                offset: 0,
                bytes: b"head"
            })
        ));
        let mut block = Vec::new();
        assert_eq!(lines.read_block(6, &mut block).unwrap(), 6);
        assert_eq!(block, b"BLOCK1");
        assert!(matches!(
            lines.next_line().unwrap(),
            Some(Line::Text {
                offset: 11,
                bytes: b"rest"
            })
        ));
        assert_eq!(lines.skip(7).unwrap(), 7);
        assert_eq!(lines.position(), 23);
        assert!(matches!(
            lines.next_line().unwrap(),
            Some(Line::Text {
                offset: 23,
                bytes: b"tail"
            })
        ));
        // Past the end: short reads, no error.
        assert_eq!(lines.skip(5).unwrap(), 0);
        assert_eq!(lines.read_block(5, &mut block).unwrap(), 0);
        assert_eq!(lines.next_line().unwrap(), None);
    }

    /// Yields `good` bytes, then fails.
    struct FailAfter {
        data: Vec<u8>,
        at: usize,
    }

    impl Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.data.len() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "boom"));
            }
            let n = buf.len().min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn read_errors_carry_the_offset_reached() {
        let source = FailAfter {
            data: b"first\nsecond li".to_vec(),
            at: 0,
        };
        let mut reader = BufReader::with_capacity(4, source);
        let mut lines = LineReader::new(&mut reader, 100);
        assert!(matches!(
            lines.next_line().unwrap(),
            Some(Line::Text {
                offset: 0,
                bytes: b"first"
            })
        ));
        let failure = lines.next_line().unwrap_err();
        assert_eq!(failure.offset, 15);
        assert_eq!(failure.error.kind(), io::ErrorKind::InvalidData);
    }

    /// Interrupted once before every read.
    struct Flaky<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            self.data.read(buf)
        }
    }

    #[test]
    fn interrupted_reads_are_retried() {
        let mut reader = BufReader::with_capacity(
            3,
            Flaky {
                data: b"ab\ncdef\n",
                interrupt: false,
            },
        );
        let mut lines = LineReader::new(&mut reader, 100);
        let mut got = Vec::new();
        while let Some(Line::Text { offset, bytes }) = lines.next_line().unwrap() {
            got.push((offset, bytes.to_vec()));
        }
        assert_eq!(got, vec![(0, b"ab".to_vec()), (3, b"cdef".to_vec())]);
    }
}
