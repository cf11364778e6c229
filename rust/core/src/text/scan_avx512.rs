//! The scan with AVX-512 (x86-64 only): block masks from compares into mask
//! registers, and a word scan that compresses word starts and ends into
//! lists and hashes 8 words per step. Same bytes and hashes as the portable
//! scan.

use super::block_masks::{bits_from, BlockMasks, Mapped, BLOCK};
use super::canonical::PAD;
use super::word_hashing::{
    le_u64, short_word_hash, word_hash, WORD_BLOCK, WORD_HASH_SEED, WORD_LEN_MUL,
};
use super::word_scan::word_hashes;
use super::word_split::for_each_word_of_utf8;

/// The block masks from AVX-512BW instructions; a value exists only where
/// the CPU has AVX-512 F, BW, DQ and VL (the masks use F and BW, the word
/// scan's [`hash_runs`] DQ and VL too).
#[derive(Clone, Copy)]
pub(super) struct Avx512Masks(());

impl Avx512Masks {
    /// # Safety
    /// The CPU must run [`Level::Avx512`](crate::simd::Level::Avx512),
    /// which has AVX-512 F, BW, DQ and VL.
    pub(super) unsafe fn new() -> Self {
        Self(())
    }
}

impl BlockMasks for Avx512Masks {
    #[inline(always)]
    fn map(self, block: &[u8; BLOCK]) -> Mapped {
        use std::arch::x86_64::*;
        let mut mapped = [0u8; BLOCK];
        // SAFETY: `self` proves the CPU has AVX-512 F and BW; the load and
        // the store touch the 64 bytes of `block` and `mapped`.
        let (spaces, high) = unsafe {
            let c = _mm512_loadu_si512(block.as_ptr().cast());
            let byte = |b: u8| _mm512_set1_epi8(b as i8);
            let below =
                |from: u8, n: u8| _mm512_cmplt_epu8_mask(_mm512_sub_epi8(c, byte(from)), byte(n));
            // As `is_ascii_space` and `to_ascii_lowercase`.
            let spaces = _mm512_cmpeq_epi8_mask(c, byte(b' ')) | below(b'\t', 5);
            let lower = _mm512_mask_add_epi8(c, below(b'A', 26), c, byte(0x20));
            let out = _mm512_mask_mov_epi8(lower, spaces, byte(b' '));
            _mm512_storeu_si512(mapped.as_mut_ptr().cast(), out);
            (spaces, _mm512_movepi8_mask(c))
        };
        (mapped, spaces, high)
    }

    #[inline(always)]
    fn map_rest(self, rest: &[u8]) -> Mapped {
        use std::arch::x86_64::*;
        let n = rest.len().min(BLOCK);
        let mut b = [0u8; BLOCK];
        // SAFETY: `self` proves the CPU has AVX-512 F and BW; the masked
        // load reads only the first `n` bytes, which `rest` has (the other
        // lanes are zero and their memory is not touched); the store writes
        // the 64 bytes of `b`.
        unsafe {
            let v = _mm512_maskz_loadu_epi8(!bits_from(n), rest.as_ptr().cast());
            _mm512_storeu_si512(b.as_mut_ptr().cast(), v);
        }
        self.map(&b)
    }

    #[inline(always)]
    fn words<const UNICODE: bool>(self, block: &[u8; BLOCK]) -> (u64, u64) {
        use std::arch::x86_64::*;
        // SAFETY: as in `map`; the load reads the 64 bytes of `block`.
        unsafe {
            let c = _mm512_loadu_si512(block.as_ptr().cast());
            let byte = |b: u8| _mm512_set1_epi8(b as i8);
            let below =
                |from: u8, n: u8| _mm512_cmplt_epu8_mask(_mm512_sub_epi8(c, byte(from)), byte(n));
            let alnum = below(b'a', 26) | below(b'0', 10);
            let high = if UNICODE { _mm512_movepi8_mask(c) } else { 0 };
            (alnum | high, high)
        }
    }

    #[inline(always)]
    fn word_hashes<const UNICODE: bool>(
        self,
        buf: &[u8],
        len: usize,
        hashes: &mut Vec<u64>,
    ) -> usize {
        avx512_word_hashes::<UNICODE>(self, buf, len, hashes)
    }
}

/// Bytes of text whose word starts and ends the AVX-512 word scan finds
/// before it hashes those words.
const SEGMENT: usize = 16 * BLOCK;
/// Room for the word starts (or ends) of one segment: at most one per two
/// bytes, and a store of 16 past the last one.
const SEGMENT_ROOM: usize = SEGMENT / 2 + 16;

/// [`word_hashes`] on AVX-512, the same hashes in the same order. Word runs
/// are found in segments of [`SEGMENT`] bytes: the offsets of their starts
/// and ends (one bit each in the block masks) are compressed into two lists
/// with `vpcompressd`, 16 bit positions per instruction, with no branch per
/// word; then the runs are hashed 8 at a time, their first 16 bytes
/// gathered from the text. A group with a run longer than 16 bytes (or,
/// with `UNICODE`, one with a non-ASCII byte) is handled run by run, as
/// `WordCursor::emit` does.
#[inline(always)]
fn avx512_word_hashes<const UNICODE: bool>(
    masks: Avx512Masks,
    buf: &[u8],
    len: usize,
    hashes: &mut Vec<u64>,
) -> usize {
    use std::mem::MaybeUninit;
    let text_len = len.min(buf.len());
    if buf.len() - text_len < PAD {
        // The gathers below read 16 bytes from each word start.
        return word_hashes::<UNICODE>(masks, buf, len, hashes);
    }
    let room = text_len / 2 + 1;
    if hashes.len() < room {
        hashes.resize(room, 0);
    }
    let out = &mut hashes[..];
    let mut starts = MaybeUninit::<[u32; SEGMENT_ROOM]>::uninit();
    let mut ends = MaybeUninit::<[u32; SEGMENT_ROOM]>::uninit();
    let (starts, ends) = (
        starts.as_mut_ptr().cast::<u32>(),
        ends.as_mut_ptr().cast::<u32>(),
    );
    let mut count = 0usize;
    // The start of a run still open at the start of the segment.
    let mut pending: Option<usize> = None;
    let mut carry = 0u64;
    let mut seg_base = 0usize;
    while seg_base < text_len {
        let seg_end = (seg_base + SEGMENT).min(text_len);
        let (mut n_starts, mut n_ends) = (0usize, 0usize);
        let mut at = seg_base;
        while at < seg_end {
            let m = match buf.get(at..at + BLOCK).map(<&[u8; BLOCK]>::try_from) {
                Some(Ok(block)) => masks.words::<UNICODE>(block).0,
                _ => {
                    let mut b = [0u8; BLOCK];
                    let rest = buf.get(at..text_len).unwrap_or_default();
                    b[..rest.len()].copy_from_slice(rest);
                    masks.words::<UNICODE>(&b).0
                }
            };
            // Only the last block of the text is partial (a segment is
            // whole blocks); its bits past the text are cleared.
            let m = m & !bits_from(seg_end - at);
            let before = (m << 1) | carry;
            carry = m >> 63;
            let rel = (at - seg_base) as u32;
            // SAFETY: the lists have room for every start (end) of the
            // segment, at most one per two of its bytes, and the 16 that
            // one store writes past the last.
            unsafe {
                compress_positions(masks, m & !before, rel, starts, &mut n_starts);
                compress_positions(masks, !m & before, rel, ends, &mut n_ends);
            }
            at += BLOCK;
        }
        // Runs pair the starts and ends in order; the first end closes
        // the run left open by earlier segments, if any.
        let mut first_end = 0;
        if let Some(start) = pending {
            if n_ends == 0 {
                // The run goes on through the whole segment.
                seg_base = seg_end;
                continue;
            }
            // SAFETY: `n_ends > 0` entries of `ends` are written.
            let end = seg_base + unsafe { *ends } as usize;
            emit_run::<UNICODE>(buf, start, end, out, &mut count);
            first_end = 1;
            pending = None;
        }
        let runs = n_ends - first_end;
        // SAFETY: the first `n_starts >= runs` starts and `n_ends` ends are
        // written; their offsets are at most the segment's length from
        // `seg_base`, and the text has `PAD` bytes after it.
        unsafe {
            hash_runs::<UNICODE>(
                masks,
                buf,
                seg_base,
                starts,
                ends.add(first_end),
                runs,
                out,
                &mut count,
            );
        }
        if n_starts > runs {
            // SAFETY: entry `runs < n_starts` is written.
            pending = Some(seg_base + unsafe { *starts.add(runs) } as usize);
        }
        seg_base = seg_end;
    }
    if let Some(start) = pending {
        emit_run::<UNICODE>(buf, start, text_len, out, &mut count);
    }
    count
}

/// Writes the offsets `rel + i` of the set bits `i` of `bits`, in order,
/// to `out[*count..]` and adds their number to `*count`.
///
/// # Safety
/// `out[*count..*count + popcount(bits) + 16]` must be writable. The CPU
/// features (AVX-512 F) come with the [`Avx512Masks`] argument.
#[inline(always)]
unsafe fn compress_positions(
    _: Avx512Masks,
    bits: u64,
    rel: u32,
    out: *mut u32,
    count: &mut usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: `Avx512Masks` proves the CPU has AVX-512 F; each store writes
    // 16 entries from `*count`, within the caller's room.
    unsafe {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for c in 0..4u32 {
            let chunk = (bits >> (16 * c)) as u16;
            let at = _mm512_add_epi32(iota, _mm512_set1_epi32((rel + 16 * c) as i32));
            let v = _mm512_maskz_compress_epi32(chunk, at);
            _mm512_storeu_si512(out.add(*count).cast(), v);
            *count += chunk.count_ones() as usize;
        }
    }
}

/// The words of the `runs` runs `seg_base + starts[i] .. seg_base + ends[i]`
/// to `out[*count..]`, 8 runs at a time in vector lanes.
///
/// # Safety
/// `starts` and `ends` must have `runs` entries written; each run must lie
/// in `buf` with at least 16 bytes of `buf` from its start. The CPU
/// features (AVX-512 F, DQ and VL) come with the [`Avx512Masks`] argument.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn hash_runs<const UNICODE: bool>(
    _: Avx512Masks,
    buf: &[u8],
    seg_base: usize,
    starts: *const u32,
    ends: *const u32,
    runs: usize,
    out: &mut [u64],
    count: &mut usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: `Avx512Masks` proves the CPU has AVX-512 F, DQ and VL; the
    // masked loads read only the `runs` entries written; the gathers read
    // 16 bytes from each run's start, which `buf` has (the caller's
    // promise); the store writes `out[*count..*count + lanes]`, checked.
    unsafe {
        let seg = buf.as_ptr().add(seg_base);
        let ones = _mm512_set1_epi64(-1);
        // `mix` in lanes (a macro, not a closure: a closure would not
        // inherit the caller's target features, and its intrinsics would
        // be calls).
        macro_rules! mix {
            ($x:expr) => {{
                let x = $x;
                let x = _mm512_xor_si512(x, _mm512_srli_epi64::<27>(x));
                let x = _mm512_mullo_epi64(x, _mm512_set1_epi64(0x3C79_AC49_2BA7_B653));
                let x = _mm512_xor_si512(x, _mm512_srli_epi64::<33>(x));
                let x = _mm512_mullo_epi64(x, _mm512_set1_epi64(0x1C69_B3F7_4AC4_AE35));
                _mm512_xor_si512(x, _mm512_srli_epi64::<27>(x))
            }};
        }
        let mut i = 0;
        while i < runs {
            let lanes = (runs - i).min(8);
            let lane_mask = (0xFFu32 >> (8 - lanes)) as __mmask8;
            let s = _mm256_maskz_loadu_epi32(lane_mask, starts.add(i).cast());
            let e = _mm256_maskz_loadu_epi32(lane_mask, ends.add(i).cast());
            let len = _mm512_cvtepu32_epi64(_mm256_sub_epi32(e, s));
            let zero = _mm512_setzero_si512();
            let lo = _mm512_mask_i32gather_epi64::<1>(zero, lane_mask, s, seg.cast());
            let hi = _mm512_mask_i32gather_epi64::<1>(zero, lane_mask, s, seg.add(8).cast());
            // As `short_word_hash`: the bytes past the word cleared.
            let bits = _mm512_slli_epi64::<3>(len);
            let lo = _mm512_andnot_si512(_mm512_sllv_epi64(ones, bits), lo);
            let hi_bits = _mm512_sub_epi64(
                _mm512_max_epu64(bits, _mm512_set1_epi64(64)),
                _mm512_set1_epi64(64),
            );
            let hi = _mm512_andnot_si512(_mm512_sllv_epi64(ones, hi_bits), hi);
            let mut odd =
                _mm512_mask_cmpgt_epu64_mask(lane_mask, len, _mm512_set1_epi64(WORD_BLOCK as i64));
            if UNICODE {
                odd |= _mm512_mask_test_epi64_mask(
                    lane_mask,
                    _mm512_or_si512(lo, hi),
                    _mm512_set1_epi64(0x8080_8080_8080_8080_u64 as i64),
                );
            }
            let len_term = _mm512_mullo_epi64(len, _mm512_set1_epi64(WORD_LEN_MUL as i64));
            let state = _mm512_xor_si512(_mm512_set1_epi64(WORD_HASH_SEED as i64), lo);
            let h = mix!(_mm512_xor_si512(
                mix!(state),
                _mm512_xor_si512(hi, len_term)
            ));
            if odd == 0 && *count + lanes <= out.len() {
                _mm512_mask_storeu_epi64(out.as_mut_ptr().add(*count).cast(), lane_mask, h);
                *count += lanes;
            } else {
                // In order: the lanes' hashes where they hold, the runs of
                // the other lanes one by one.
                let mut lane_hashes = [0u64; 8];
                _mm512_storeu_si512(lane_hashes.as_mut_ptr().cast(), h);
                for (lane, &hash) in lane_hashes.iter().enumerate().take(lanes) {
                    if odd & (1 << lane) == 0 {
                        if let Some(slot) = out.get_mut(*count) {
                            *slot = hash;
                        }
                        *count += 1;
                    } else {
                        let start = seg_base + *starts.add(i + lane) as usize;
                        let end = seg_base + *ends.add(i + lane) as usize;
                        emit_run::<UNICODE>(buf, start, end, out, count);
                    }
                }
            }
            i += 8;
        }
    }
}

/// The words of the run `buf[start..end]` to `out[*count..]`, one by one: one
/// word, or with `UNICODE` and non-ASCII bytes the words
/// [`for_each_word_of_utf8`] finds in it (as `WordCursor::emit`).
#[inline(never)]
fn emit_run<const UNICODE: bool>(
    buf: &[u8],
    start: usize,
    end: usize,
    out: &mut [u64],
    count: &mut usize,
) {
    let run = buf.get(start..end).unwrap_or_default();
    let mut put = |from: usize, len: usize| {
        // A short word from its first 16 bytes, as `WordBatch::push`.
        let hash = match buf.get(start + from..start + from + WORD_BLOCK) {
            Some(bytes) if len <= WORD_BLOCK => {
                let (lo, hi) = bytes.split_at(8);
                short_word_hash(le_u64(lo), le_u64(hi), len as u64)
            }
            _ => word_hash(run.get(from..from + len).unwrap_or_default()),
        };
        if let Some(slot) = out.get_mut(*count) {
            *slot = hash;
        }
        *count += 1;
    };
    if UNICODE && !run.is_ascii() {
        for_each_word_of_utf8(run, put);
    } else {
        put(0, run.len());
    }
}
