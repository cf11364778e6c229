//! The block masks with AVX2 (x86-64 only): byte compares in two 32-byte
//! registers and their sign bits gathered by `movemask`. LLVM builds the
//! portable loops' bit masks a bit at a time on CPUs without AVX-512; these
//! give the same masks in a few instructions per block.

use super::block_masks::{BlockMasks, Mapped, BLOCK};
use std::arch::x86_64::*;

/// The block masks from AVX2 instructions; a value exists only where the
/// CPU has AVX2.
#[derive(Clone, Copy)]
pub(super) struct Avx2Masks(());

impl Avx2Masks {
    /// # Safety
    /// The CPU must run [`Level::Avx2`](crate::simd::Level::Avx2).
    pub(super) unsafe fn new() -> Self {
        Self(())
    }
}

/// Bytes of one register.
const HALF: usize = BLOCK / 2;

/// Lanes of `c` with `from <= byte < from + n` (wrapping), as `0xFF`.
///
/// # Safety
/// The CPU must run AVX2 (so for the helpers below).
#[inline(always)]
unsafe fn below(c: __m256i, from: u8, n: u8) -> __m256i {
    // SAFETY: the caller's contract: the CPU runs AVX2.
    unsafe {
        let shifted = _mm256_sub_epi8(c, _mm256_set1_epi8(from as i8));
        // Unsigned `shifted < n`: the minimum with `n - 1` is `shifted`.
        _mm256_cmpeq_epi8(
            _mm256_min_epu8(shifted, _mm256_set1_epi8((n - 1) as i8)),
            shifted,
        )
    }
}

/// The sign bits of the bytes of two registers, as one 64-bit mask.
#[inline(always)]
unsafe fn bits(low: __m256i, high: __m256i) -> u64 {
    // SAFETY: the caller's contract: the CPU runs AVX2.
    let (low, high) = unsafe { (_mm256_movemask_epi8(low), _mm256_movemask_epi8(high)) };
    u64::from(low as u32) | u64::from(high as u32) << 32
}

impl Avx2Masks {
    /// One half of [`BlockMasks::map`]: mapped bytes, spaces, non-ASCII.
    #[inline(always)]
    unsafe fn map_half(c: __m256i) -> (__m256i, __m256i) {
        // SAFETY: the caller's contract: the CPU runs AVX2.
        unsafe {
            // As `is_ascii_space` and `to_ascii_lowercase`.
            let spaces = _mm256_or_si256(
                _mm256_cmpeq_epi8(c, _mm256_set1_epi8(b' ' as i8)),
                below(c, b'\t', 5),
            );
            let upper = below(c, b'A', 26);
            let lower = _mm256_add_epi8(c, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
            let out = _mm256_blendv_epi8(lower, _mm256_set1_epi8(b' ' as i8), spaces);
            (out, spaces)
        }
    }

    /// One half of [`BlockMasks::words`]: lowercase ASCII letters and
    /// digits.
    #[inline(always)]
    unsafe fn alnum_half(c: __m256i) -> __m256i {
        // SAFETY: the caller's contract: the CPU runs AVX2.
        unsafe { _mm256_or_si256(below(c, b'a', 26), below(c, b'0', 10)) }
    }
}

impl BlockMasks for Avx2Masks {
    #[inline(always)]
    fn map(self, block: &[u8; BLOCK]) -> Mapped {
        let mut mapped = [0u8; BLOCK];
        // SAFETY: `self` proves the CPU has AVX2; the loads and stores
        // touch the 64 bytes of `block` and `mapped`.
        let (spaces, high) = unsafe {
            let low = _mm256_loadu_si256(block.as_ptr().cast());
            let top = _mm256_loadu_si256(block.as_ptr().add(HALF).cast());
            let (out_low, spaces_low) = Self::map_half(low);
            let (out_top, spaces_top) = Self::map_half(top);
            _mm256_storeu_si256(mapped.as_mut_ptr().cast(), out_low);
            _mm256_storeu_si256(mapped.as_mut_ptr().add(HALF).cast(), out_top);
            (bits(spaces_low, spaces_top), bits(low, top))
        };
        (mapped, spaces, high)
    }

    #[inline(always)]
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64) {
        // SAFETY: as in `map`; the loads read the 64 bytes of `block`.
        unsafe {
            let low = _mm256_loadu_si256(block.as_ptr().cast());
            let top = _mm256_loadu_si256(block.as_ptr().add(HALF).cast());
            let alnum = bits(Self::alnum_half(low), Self::alnum_half(top));
            let high = if UNICODE { bits(low, top) } else { 0 };
            (alnum | high, high)
        }
    }
}
