//! The canonical form, the key of exact duplicates: normalised, whitespace
//! runs collapsed to one space, trimmed; a whitespace run next to a
//! character of a script written without spaces (or CJK punctuation) is
//! dropped instead. Its definition ([`exact_form`]), and the block-wise
//! collapse that the scan makes it with for text without such characters.

use super::block_masks::{bits_from, padded_tail, BlockMasks, Mapped, BLOCK};
use super::normalisation::normalise;
use super::scripts::joins_without_space;

/// Canonical form for exact-duplicate keys: normalised, whitespace runs
/// collapsed to one space, trimmed; a whitespace run is dropped entirely
/// where the character just before it or just after it belongs to a script
/// written without spaces or is CJK punctuation (U+3001 to U+303F), so that
/// a Chinese, Japanese or Thai text wrapped at another width has the same
/// form.
pub fn exact_form(text: &str) -> String {
    exact_form_of_normalised(&normalise(text))
}

/// [`exact_form`] for text that is already normalised.
pub fn exact_form_of_normalised(normalised: &str) -> String {
    let mut out = String::with_capacity(normalised.len());
    for_each_canonical_piece(normalised, |piece| out.push_str(piece));
    out
}

/// Writes the canonical form of the normalised `normalised` to `out`
/// (cleared first): [`exact_form_of_normalised`] into bytes.
pub(super) fn canonical_into(normalised: &str, out: &mut Vec<u8>) {
    out.clear();
    for_each_canonical_piece(normalised, |piece| out.extend_from_slice(piece.as_bytes()));
}

/// Calls `f` with the pieces of the canonical form of `normalised`, in
/// order: its maximal runs of non-whitespace characters, and a `" "`
/// between two of them unless the character before the gap or the one
/// after it [`joins_without_space`].
#[inline]
fn for_each_canonical_piece(normalised: &str, mut f: impl FnMut(&str)) {
    let mut last: Option<char> = None;
    for piece in normalised.split_whitespace() {
        let first = piece.chars().next();
        if let (Some(before), Some(after)) = (last, first) {
            if !joins_without_space(before) && !joins_without_space(after) {
                f(" ");
            }
        }
        f(piece);
        last = piece.chars().next_back();
    }
}

/// Zero bytes kept after the canonical form, so that words can be loaded
/// 16 bytes at a time.
pub(super) const PAD: usize = 16;

/// Writes the canonical form of `text` (lowercased, whitespace runs
/// collapsed to one space, trimmed) to the front of `out`, followed by at
/// least [`PAD`] bytes; returns its length. `text` is ASCII, or UTF-8 whose
/// only whitespace is ASCII, whose non-ASCII characters are already in
/// lower case (their bytes are copied unchanged) and none of which
/// [`joins_without_space`] (this collapse keeps every gap). Works on
/// 64-byte blocks.
#[inline(always)]
pub(super) fn ascii_exact_form_into(
    masks: impl BlockMasks,
    text: &[u8],
    out: &mut Vec<u8>,
) -> usize {
    ascii_exact_form_checked(masks, text, out).0
}

/// [`ascii_exact_form_into`], and whether `text` has a non-ASCII byte (for
/// any `text`: the canonical form is the same for every bit of `UNICODE`).
#[inline(always)]
pub(super) fn ascii_exact_form_checked(
    masks: impl BlockMasks,
    text: &[u8],
    out: &mut Vec<u8>,
) -> (usize, bool) {
    // Every byte read is written first (or is padding written below): only
    // room is needed, so memory kept from earlier texts is not zeroed again.
    let room = text.len() + BLOCK + PAD;
    if out.len() < room {
        out.resize(room, 0);
    }
    let mut len = 0usize;
    // Leading whitespace is dropped like a run after a space.
    let mut prev_space = 1u64;
    let mut high = 0u64;
    let mut blocks = text.chunks_exact(BLOCK);
    for block in &mut blocks {
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
            continue;
        };
        let block_high;
        (len, block_high) = collapse_block(masks, block, u64::MAX, out, len, &mut prev_space);
        high |= block_high;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mapped = match padded_tail(text, rest.len()) {
            Some(block) => masks.map(&block),
            None => masks.map_rest(rest),
        };
        high |= mapped.2;
        len = collapse_mapped(mapped, !bits_from(rest.len()), out, len, &mut prev_space);
    }
    if len > 0 && out[len - 1] == b' ' {
        len -= 1;
    }
    out[len..len + PAD].fill(0);
    (len, high != 0)
}

/// Appends the canonical form of one block at `out[len..]` (which has room
/// for 64 more bytes) and returns the new length. `valid`: the bytes of the
/// block that are text; `prev_space`: bit 0 set when the byte before the
/// block was whitespace (or nothing was written yet). A whitespace byte after
/// whitespace is dropped, the others are kept (whitespace as a space,
/// letters lowercased), copied in runs: no branch per byte.
#[inline(always)]
fn collapse_block(
    masks: impl BlockMasks,
    block: &[u8; BLOCK],
    valid: u64,
    out: &mut [u8],
    len: usize,
    prev_space: &mut u64,
) -> (usize, u64) {
    let mapped = masks.map(block);
    let high = mapped.2;
    (collapse_mapped(mapped, valid, out, len, prev_space), high)
}

/// [`collapse_block`] of a block already mapped by [`BlockMasks::map`].
#[inline(always)]
fn collapse_mapped(
    (mapped, spaces, _): Mapped,
    valid: u64,
    out: &mut [u8],
    mut len: usize,
    prev_space: &mut u64,
) -> usize {
    let dropped = spaces & ((spaces << 1) | *prev_space);
    *prev_space = spaces >> 63;
    let mut keep = !dropped & valid;
    if keep == u64::MAX {
        if let Some(dst) = out.get_mut(len..len + BLOCK) {
            dst.copy_from_slice(&mapped);
            return len + BLOCK;
        }
    }
    // Each run is copied as a whole block from its start: a fixed-size copy
    // (two vector moves, no call to `memmove`). The bytes past the run are
    // overwritten by the next run or block, or lie past the end (where the
    // padding is written last).
    let mut source = [0u8; 2 * BLOCK];
    source[..BLOCK].copy_from_slice(&mapped);
    while keep != 0 {
        let from = keep.trailing_zeros() as usize;
        let run = (!(keep >> from)).trailing_zeros() as usize;
        if let (Some(dst), Some(src)) = (
            out.get_mut(len..len + BLOCK),
            source.get(from..from + BLOCK),
        ) {
            dst.copy_from_slice(src);
        }
        len += run;
        keep &= bits_from(from + run);
    }
    len
}
