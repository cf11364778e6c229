//! The portable word scan: the words of the canonical form found from the
//! block masks (one step per word, not per byte) and hashed in batches that
//! vectorise.

use super::block_masks::{bits_from, BlockMasks, BLOCK};
use super::word_hashing::{le_u64, short_word_hash, word_hash, WORD_BLOCK};
use super::word_split::for_each_word_of_utf8;
use std::mem::MaybeUninit;

/// Words taken per batch of [`WordBatch`].
const BATCH: usize = 64;
/// A slot's `len` when its `lo` is already the word's hash (a word longer
/// than 16 bytes, hashed on its own).
const HASHED: u64 = u64::MAX;

/// Word hashes written to the front of a slice with room for all of them.
/// Finding words and hashing them are split: the word scan only loads each
/// word's first 16 bytes into a batch; a full batch is hashed by one plain
/// loop over the slots, which vectorises (8 words per AVX-512 step), where
/// hashing word by word would be a chain of scalar multiplies per word.
struct WordBatch<'a> {
    slots: &'a mut WordSlots,
    held: usize,
    out: &'a mut [u64],
    count: usize,
}

/// The words held by a [`WordBatch`]: each one's first 16 bytes (or its
/// hash) and its length. Apart from the batch's counters, so that these
/// stay in registers rather than being written back with every word.
///
/// The slots start uninitialised: a short text would otherwise pay to zero
/// 1.5 KiB for a few words. A batch reads only the slots it has written.
struct WordSlots {
    lo: [MaybeUninit<u64>; BATCH],
    hi: [MaybeUninit<u64>; BATCH],
    len: [MaybeUninit<u64>; BATCH],
}

impl WordSlots {
    #[inline(always)]
    fn new() -> Self {
        Self {
            lo: [MaybeUninit::uninit(); BATCH],
            hi: [MaybeUninit::uninit(); BATCH],
            len: [MaybeUninit::uninit(); BATCH],
        }
    }
}

impl<'a> WordBatch<'a> {
    #[inline(always)]
    fn new(slots: &'a mut WordSlots, out: &'a mut [u64]) -> Self {
        Self {
            slots,
            held: 0,
            out,
            count: 0,
        }
    }

    /// Adds the word `buf[start..start + len]`.
    #[inline(always)]
    fn push(&mut self, buf: &[u8], start: usize, len: usize) {
        if self.held >= BATCH {
            self.flush();
        }
        let slot = self.held % BATCH;
        match buf.get(start..start + WORD_BLOCK) {
            Some(bytes) if len <= WORD_BLOCK => {
                let (lo, hi) = bytes.split_at(8);
                self.slots.lo[slot].write(le_u64(lo));
                self.slots.hi[slot].write(le_u64(hi));
                self.slots.len[slot].write(len as u64);
            }
            _ => {
                self.slots.lo[slot]
                    .write(word_hash(buf.get(start..start + len).unwrap_or_default()));
                // `hi` is not read for a hashed word, but every slot below
                // `held` is initialised in full.
                self.slots.hi[slot].write(0);
                self.slots.len[slot].write(HASHED);
            }
        }
        self.held += 1;
    }

    /// Hashes the held words to the output.
    #[inline(always)]
    fn flush(&mut self) {
        let held = self.held.min(BATCH);
        // The slice has room for every word (see `word_hashes`), so this
        // always writes.
        if let Some(out) = self.out.get_mut(self.count..self.count + held) {
            let slots = &*self.slots;
            let slots = slots.lo.iter().zip(&slots.hi).zip(&slots.len);
            for (h, ((lo, hi), len)) in out.iter_mut().zip(slots) {
                // SAFETY: `out` has `held` slots, and `push` wrote all
                // three values of each of the first `held` slots.
                let (lo, hi, len) =
                    unsafe { (lo.assume_init(), hi.assume_init(), len.assume_init()) };
                *h = if len == HASHED {
                    lo
                } else {
                    short_word_hash(lo, hi, len)
                };
            }
            self.count += held;
        }
        self.held = 0;
    }

    /// Hashes what is held; returns the number of words.
    #[inline(always)]
    fn finish(mut self) -> usize {
        self.flush();
        self.count
    }
}

/// Where the word scan stands between blocks.
struct WordCursor {
    in_word: bool,
    start: usize,
    /// Bit 0: whether the last byte of the previous block was in a word.
    carry: u64,
    /// Whether the run being read has a non-ASCII byte in an earlier block.
    high_before: bool,
}

impl WordCursor {
    /// Each change between word and not is one set bit. Word starts and
    /// ends alternate, so they are taken in pairs with `trailing_zeros`:
    /// one step per word, no branch per byte nor on the state.
    #[inline(always)]
    fn block<const UNICODE: bool>(
        &mut self,
        (m, high): (u64, u64),
        base: usize,
        buf: &[u8],
        hashes: &mut WordBatch<'_>,
    ) {
        let before = (m << 1) | self.carry;
        self.carry = m >> 63;
        let mut starts = m & !before;
        let mut ends = !m & before;
        if self.in_word {
            if ends == 0 {
                // The run goes on through the whole block.
                self.high_before |= UNICODE && high != 0;
                return;
            }
            let end = ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let unicode = UNICODE && (self.high_before || high & !bits_from(end) != 0);
            self.emit::<UNICODE>(buf, base + end, unicode, hashes);
            self.in_word = false;
        }
        // Each remaining end closes the lowest remaining start.
        while ends != 0 {
            let start = starts.trailing_zeros() as usize;
            let end = ends.trailing_zeros() as usize;
            starts &= starts.wrapping_sub(1);
            ends &= ends - 1;
            self.start = base + start;
            let unicode = UNICODE && high & bits_from(start) & !bits_from(end) != 0;
            self.emit::<UNICODE>(buf, base + end, unicode, hashes);
        }
        if starts != 0 {
            // A run goes on into the next block.
            let start = starts.trailing_zeros() as usize;
            self.start = base + start;
            self.in_word = true;
            self.high_before = UNICODE && high & bits_from(start) != 0;
        }
    }

    /// The run `start..end` ends: one ASCII word, or (with non-ASCII bytes)
    /// the words `char::is_alphanumeric` finds in it.
    #[inline(always)]
    fn emit<const UNICODE: bool>(
        &self,
        buf: &[u8],
        end: usize,
        unicode: bool,
        hashes: &mut WordBatch<'_>,
    ) {
        if !(UNICODE && unicode) {
            hashes.push(buf, self.start, end - self.start);
            return;
        }
        // Runs start and end at ASCII bytes (or the ends), so at character
        // boundaries of the UTF-8 canonical form.
        let Some(run) = buf.get(self.start..end) else {
            return;
        };
        for_each_word_of_utf8(run, |from, len| hashes.push(buf, self.start + from, len));
    }
}

/// Writes the [`word_hash`] of every word of the normalised, lowercase text
/// `buf[..len]` (followed by at least [`PAD`](super::canonical::PAD) bytes; with `UNICODE`, any
/// UTF-8, else ASCII only) to the front of `hashes`, in order, and returns
/// how many there are. `hashes` is lengthened when it has too little room;
/// what follows the words is left as it was.
#[inline(always)]
pub(super) fn word_hashes<const UNICODE: bool>(
    masks: impl BlockMasks,
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    let text = &buf[..len.min(buf.len())];
    // Words are separated by at least one byte, so there are at most
    // ceil(len / 2) of them.
    let room = text.len() / 2 + 1;
    if hashes.len() < room {
        hashes.resize(room, 0);
    }
    let mut slots = WordSlots::new();
    let mut hashes = WordBatch::new(&mut slots, hashes);
    let mut cursor = WordCursor {
        in_word: false,
        start: 0,
        carry: 0,
        high_before: false,
    };
    let mut base = 0usize;
    let mut blocks = text.chunks_exact(BLOCK);
    for block in &mut blocks {
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
            continue;
        };
        cursor.block::<UNICODE>(masks.words::<UNICODE>(block), base, buf, &mut hashes);
        base += BLOCK;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // The last partial block is read in place from `buf` where it has
        // room for a whole block (the canonical form always has), its bits
        // past the text cleared: the same masks as for a zero-padded copy,
        // whose padding is never a word byte.
        let valid = !bits_from(rest.len());
        let (m, high) = match buf.get(base..base + BLOCK).map(<&[u8; BLOCK]>::try_from) {
            Some(Ok(block)) => masks.words::<UNICODE>(block),
            _ => {
                let mut b = [0u8; BLOCK];
                b[..rest.len()].copy_from_slice(rest);
                masks.words::<UNICODE>(&b)
            }
        };
        cursor.block::<UNICODE>((m & valid, high & valid), base, buf, &mut hashes);
    }
    if cursor.in_word {
        let unicode = UNICODE && cursor.high_before;
        cursor.emit::<UNICODE>(buf, text.len(), unicode, &mut hashes);
    }
    hashes.finish()
}
