//! Reading a paper-listing member in blocks of whole lines, in bounded memory.
//!
//! A block is taken straight from the reader's buffer (at most `block_bytes`,
//! cut after the last `\n` in it), so reading from memory or through a
//! `BufReader` copies nothing. A line that does not end inside the buffer is
//! gathered in a carry buffer of at most `max_record_bytes + 1` bytes and fed
//! as a block of its own; a longer line is reported as a `limit` row and read
//! through without being kept. Memory is thus bounded by the block size plus
//! one line, whatever the size of the member.
//!
//! Each block is decoded on its own: a cut right after `\n` never splits a
//! UTF-8 sequence, so the text and the invalid runs are exactly those of the
//! whole member, and offsets are mapped back to member offsets through the
//! block's [`Decoded`] and its base offset. The classification state and the
//! pairing state (see [`Listing`]) carry over from block to block, so the
//! events are those of the whole text. Records, and rows of each kind, come
//! in member order; the `invalid_utf8` rows of a block are reported when it
//! is decoded, so they may come before an `unpaired` row for a title held
//! over from an earlier block.

use std::io::{self, BufRead};

use memchr::{memchr, memrchr};

use super::{Event, Listing, Placement};
use crate::ingest::bounded::ReadContext;
use crate::ingest::decode::{spans_by_line, Decoded};
use crate::ingest::location::Location;
use crate::ingest::record::{ErrorKind, Format};

/// Reads `reader` to its end in blocks of at most `block_bytes` (more only
/// for a single line longer than that), reporting records and error rows to
/// `cx` as [`super::read`] documents.
pub(super) fn read_blocks(
    reader: &mut dyn BufRead,
    loc: &Location,
    cx: &mut ReadContext<'_>,
    block_bytes: usize,
) {
    let max_line = usize::try_from(cx.options.limits.max_record_bytes).unwrap_or(usize::MAX);
    let mut out = Output {
        loc,
        cx,
        max_line,
        reported: false,
    };
    let mut listing = Listing::new(max_line);
    let mut blocks = Blocks {
        base: 0,
        carry: Vec::new(),
        skipping: false,
        max_line,
        block_bytes: block_bytes.max(1),
    };
    loop {
        match blocks.step(reader, &mut listing, &mut out) {
            Ok(Step::More) => {}
            Ok(Step::Stopped) => return,
            Ok(Step::End) => break,
            Err(e) => {
                // What was read is complete: report it, then the failure at
                // the first byte that was not parsed.
                if listing.finish(&mut |ev| out.emit(ev)) {
                    out.cx.read_failed(loc, blocks.base, &e);
                }
                return;
            }
        }
    }
    if !listing.finish(&mut |ev| out.emit(ev)) {
        return;
    }
    if !out.reported {
        let reason = format!("empty {}: no papers", loc.noun());
        out.cx.error(loc, 0, ErrorKind::Empty, reason);
    }
}

/// What one [`Blocks::step`] achieved.
enum Step {
    /// Keep going.
    More,
    /// The sink asked to stop.
    Stopped,
    /// End of the member; everything read was fed.
    End,
}

/// Position in the member and the partial line being gathered.
struct Blocks {
    /// Member offset of the first byte not yet fed (the start of `carry`).
    base: u64,
    /// The start of a line that did not end inside the reader's buffer.
    carry: Vec<u8>,
    /// Inside a line longer than `max_line`, already reported.
    skipping: bool,
    max_line: usize,
    block_bytes: usize,
}

impl Blocks {
    /// Feeds the next block (or gathers or skips part of a long line).
    fn step(
        &mut self,
        reader: &mut dyn BufRead,
        listing: &mut Listing,
        out: &mut Output<'_, '_>,
    ) -> io::Result<Step> {
        let avail = match reader.fill_buf() {
            Ok(avail) => avail,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Step::More),
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(self.end(listing, out));
        }
        if self.skipping {
            let n = match memchr(b'\n', avail) {
                Some(i) => {
                    self.skipping = false;
                    i + 1
                }
                None => avail.len(),
            };
            reader.consume(n);
            self.base += n as u64;
            return Ok(Step::More);
        }
        if self.carry.is_empty() {
            let window = &avail[..avail.len().min(self.block_bytes)];
            if let Some(i) = memrchr(b'\n', window) {
                let n = i + 1;
                let go = out.feed(listing, &window[..n], self.base);
                reader.consume(n);
                self.base += n as u64;
                return Ok(go.into());
            }
        }
        // A line that does not end in the window: gather it, up to the limit
        // (looking one byte past it, for the newline).
        let room = self
            .max_line
            .saturating_sub(self.carry.len())
            .saturating_add(1);
        let part = &avail[..avail.len().min(room)];
        match memchr(b'\n', part) {
            Some(i) => {
                self.carry.extend_from_slice(&part[..=i]);
                reader.consume(i + 1);
                Ok(self.feed_carry(listing, out).into())
            }
            None if part.len() == room => {
                let offset = self.base;
                reader.consume(room);
                self.base += (self.carry.len() + room) as u64;
                self.carry.clear();
                self.skipping = true;
                Ok(out.emit(Event::TooLong { offset }).into())
            }
            None => {
                self.carry.extend_from_slice(part);
                let n = part.len();
                reader.consume(n);
                Ok(Step::More)
            }
        }
    }

    /// End of the member: the last line may lack its newline.
    fn end(&mut self, listing: &mut Listing, out: &mut Output<'_, '_>) -> Step {
        if self.skipping || self.carry.is_empty() || self.feed_carry(listing, out) {
            Step::End
        } else {
            Step::Stopped
        }
    }

    /// Feeds the gathered line as a block of its own.
    fn feed_carry(&mut self, listing: &mut Listing, out: &mut Output<'_, '_>) -> bool {
        let go = out.feed(listing, &self.carry, self.base);
        self.base += self.carry.len() as u64;
        self.carry.clear();
        go
    }
}

impl From<bool> for Step {
    /// `true`: keep going; `false`: the sink asked to stop.
    fn from(go: bool) -> Step {
        if go {
            Step::More
        } else {
            Step::Stopped
        }
    }
}

/// One decoded block, at member offset `base`.
struct InBlock<'d> {
    base: u64,
    decoded: &'d Decoded<'d>,
}

impl Placement for InBlock<'_> {
    fn offset(&self, at: usize) -> u64 {
        self.base + self.decoded.original_offset(at) as u64
    }

    fn invalid(&self, start: usize, end: usize) -> bool {
        let spans = self.decoded.invalid_spans();
        if spans.is_empty() {
            return false;
        }
        let start = self.decoded.original_offset(start);
        let end = self.decoded.original_offset(end);
        let first = spans.partition_point(|s| s.offset + s.len <= start);
        spans.get(first).is_some_and(|s| s.offset < end)
    }
}

/// Turns events into records and error rows.
struct Output<'c, 'x> {
    loc: &'c Location,
    cx: &'c mut ReadContext<'x>,
    max_line: usize,
    /// A record or a row about the content was reported.
    reported: bool,
}

impl Output<'_, '_> {
    /// Decodes and feeds one block of whole lines that starts at member
    /// offset `base`. False when the sink asked to stop.
    fn feed(&mut self, listing: &mut Listing, bytes: &[u8], base: u64) -> bool {
        let decoded = Decoded::new(bytes);
        // One row per line with invalid UTF-8: the same whatever the blocks.
        for spans in spans_by_line(bytes, decoded.invalid_spans()) {
            self.cx.report_invalid_spans(self.loc, base, spans);
        }
        let place = InBlock {
            base,
            decoded: &decoded,
        };
        listing.feed(decoded.text(), &place, &mut |ev| self.emit(ev))
    }

    /// Reports one event. False when the sink asked to stop.
    fn emit(&mut self, ev: Event<'_>) -> bool {
        self.reported = true;
        match ev {
            Event::Paper {
                title,
                text,
                invalid,
            } => {
                // Lines inside a block are not gathered, so the limit on
                // record length is applied to the paper as a whole here.
                if text.len().max(title.text.len()) > self.max_line {
                    let reason = format!(
                        "paper longer than max_record_bytes ({} bytes); skipped",
                        self.max_line
                    );
                    self.cx
                        .error(self.loc, title.offset, ErrorKind::Limit, reason);
                    return !self.cx.sink.is_stopped();
                }
                let mut record = self
                    .loc
                    .record_ref(title.offset, Format::PaperListing, &text);
                record.title = Some(&title.text);
                record.invalid_utf8 = invalid;
                self.cx.sink.record_ref(record);
            }
            Event::Unpaired { offset, reason } => {
                self.cx.error(self.loc, offset, ErrorKind::Unpaired, reason);
            }
            Event::TooLong { offset } => {
                let reason = format!(
                    "line longer than max_record_bytes ({} bytes); skipped",
                    self.max_line
                );
                self.cx.error(self.loc, offset, ErrorKind::Limit, reason);
            }
        }
        !self.cx.sink.is_stopped()
    }
}
