//! The per-block byte masks of the scan: 64 bytes at a time, which are
//! whitespace, which are not ASCII, which may be part of a word. The
//! portable masks are their definition.

use super::word_scan::word_hashes;

/// Bytes of the canonical form handled as one block.
pub(super) const BLOCK: usize = 64;

/// The per-block byte masks of the scan. [`PortableMasks`] is their
/// definition; [`Avx512Masks`] gives the same results with AVX-512BW
/// compares into mask registers and [`Avx2Masks`] with AVX2 compares and
/// `movemask`, neither of which LLVM makes of the portable loops.
///
/// [`Avx512Masks`]: super::scan_avx512::Avx512Masks
/// [`Avx2Masks`]: super::scan_avx2::Avx2Masks
pub(super) trait BlockMasks: Copy {
    /// [`map_block`].
    fn map(self, block: &[u8; BLOCK]) -> Mapped;
    /// [`map_block`] of `rest` (shorter than a block) padded with zeros.
    #[inline(always)]
    fn map_rest(self, rest: &[u8]) -> Mapped {
        let mut b = [0u8; BLOCK];
        let n = rest.len().min(BLOCK);
        b[..n].copy_from_slice(&rest[..n]);
        self.map(&b)
    }
    /// [`word_masks`].
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64);
    /// [`word_hashes`] with these masks.
    #[inline(always)]
    fn word_hashes<const UNICODE: bool>(
        self,
        buf: &[u8],
        len: usize,
        hashes: &mut Vec<u64>,
    ) -> usize {
        word_hashes::<UNICODE>(self, buf, len, hashes)
    }
}

/// The portable block masks.
#[derive(Clone, Copy)]
pub(super) struct PortableMasks;

impl BlockMasks for PortableMasks {
    #[inline(always)]
    fn map(self, block: &[u8; BLOCK]) -> Mapped {
        map_block(block)
    }

    #[inline(always)]
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64) {
        word_masks::<UNICODE>(block)
    }
}

/// A block mapped by [`map_block`], the bit mask of its whitespace and that
/// of its non-ASCII bytes.
pub(super) type Mapped = ([u8; BLOCK], u64, u64);

/// The last `rest` bytes of `text` (`rest < BLOCK`) followed by zeros, by
/// fixed-size copies, where `text` has a whole block: the last block of
/// `text` is placed before a block of zeros and a block is read from
/// `rest` bytes before its end. (A copy of `rest` bytes and zeroing the
/// others would call `memcpy` and `memset` for every text.) `None` for a
/// text shorter than a block.
#[inline(always)]
pub(super) fn padded_tail(text: &[u8], rest: usize) -> Option<[u8; BLOCK]> {
    let last = text.get(text.len().checked_sub(BLOCK)?..)?;
    let mut two = [0u8; 2 * BLOCK];
    two[..BLOCK].copy_from_slice(last);
    let from = BLOCK.checked_sub(rest)?;
    two.get(from..from + BLOCK)
        .and_then(|block| <[u8; BLOCK]>::try_from(block).ok())
}

/// One block mapped byte for byte: whitespace to a space, letters to lower
/// case; and the bit masks of its whitespace and of its non-ASCII bytes.
#[inline(always)]
fn map_block(block: &[u8; BLOCK]) -> Mapped {
    let mut mapped = [0u8; BLOCK];
    let mut spaces = 0u64;
    let mut high = 0u64;
    for (i, (&c, m)) in block.iter().zip(mapped.iter_mut()).enumerate() {
        let space = is_ascii_space(c);
        *m = if space { b' ' } else { c.to_ascii_lowercase() };
        spaces |= u64::from(space) << i;
        high |= u64::from(c >= 0x80) << i;
    }
    (mapped, spaces, high)
}

/// Whitespace as `char::is_whitespace` has it, for ASCII bytes.
#[inline(always)]
fn is_ascii_space(c: u8) -> bool {
    c == b' ' || c.wrapping_sub(b'\t') < 5
}

/// Bit `i` set when byte `i` of the block may be part of a word: a lowercase
/// ASCII letter or digit or (with `UNICODE`) a byte of a non-ASCII character;
/// and the mask of the non-ASCII bytes.
#[inline(always)]
fn word_masks<const UNICODE: bool>(block: &[u8; BLOCK]) -> (u64, u64) {
    let mut m = 0u64;
    let mut high = 0u64;
    for (i, &c) in block.iter().enumerate() {
        let alnum = c.wrapping_sub(b'a') < 26 || c.wrapping_sub(b'0') < 10;
        m |= u64::from(alnum || (UNICODE && c >= 0x80)) << i;
        if UNICODE {
            high |= u64::from(c >= 0x80) << i;
        }
    }
    (m, high)
}

/// Bits `from..` of a block.
#[inline(always)]
pub(super) fn bits_from(from: usize) -> u64 {
    u64::MAX.checked_shl(from as u32).unwrap_or(0)
}
