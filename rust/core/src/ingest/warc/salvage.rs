//! Salvage: the records inside a block whose `Content-Length` ran past the
//! end of the member, found as the block goes past.

use super::{Tail, VERSION_PREFIX};

/// Watches a block go past chunk by chunk and keeps its bytes from the first
/// line starting `WARC/1.` on, up to a limit.
pub(super) struct Salvage {
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
    pub(super) fn new(position: u64, cap: u64) -> Self {
        Salvage {
            position,
            cap,
            matched: Some(0),
            start: None,
            kept: Vec::new(),
            overflowed: false,
        }
    }

    pub(super) fn feed(&mut self, chunk: &[u8]) {
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
    pub(super) fn finish(self) -> Result<Option<Tail>, u64> {
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
