//! The AVX2 kernel of the later rounds. A bin filled in round `r` keeps its
//! value for good (later keys are larger), so in a later round a throw can
//! only matter if its bin was empty when the round began. Each round hashes
//! 8 shingles at once ([`later_hash`] in 32-bit lanes), looks their bins up
//! in a bitmap of the bins empty at the round's start (one register, for
//! up to 256 bins), packs the hashes that hit such a bin to the front of
//! the register by a table of permutations and stores them; after the
//! first rounds these hits are few. Then it applies the hits. No branch
//! depends on the hashes until then, so none is mispredicted per register.
//!
//! [`later_hash`]: super::portable::later_hash

use super::portable::{later_bin, later_multipliers, later_rounds, random_rounds_end};
use super::EMPTY;
use crate::simd::kernel;
use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// Widths whose bitmap of empty bins fits in one 256-bit register.
pub(super) const MAX_BINS: usize = 256;

/// 32-bit lanes of a register.
const LANES: usize = 8;

/// Hits held before they are applied (plus one register of slack).
const HITS: usize = 256;

/// For each 8-bit mask, the lanes whose bit is set, in order (then zeros):
/// the permutation that packs those lanes to the front.
static PACK: [[u8; LANES]; 256] = {
    let mut table = [[0u8; LANES]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut packed) = (0, 0);
        while lane < LANES {
            if mask >> lane & 1 == 1 {
                table[mask][packed] = lane as u8;
                packed += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
};

kernel!(avx2;
/// [`later_rounds`] (the random rounds and the fill), same values; for
/// `acc.len() <= MAX_BINS` by the bitmap and lane minima, beyond it the
/// portable loops.
///
/// The hits' count and the bitmap of empty bins are locals (registers), not
/// fields behind a pointer: the count is carried from one register of
/// throws to the next, and the bitmap is read whole at the end of each
/// round, right after the hits changed it. In memory, the first went
/// through a store and a load per register of throws, and the second was a
/// wide load of words just stored one by one, which waits for the stores
/// to reach the cache.
pub(super) fn later_rounds_avx2(round_keys: &[u64], p: &[u32], q: &[u32], acc: &mut [u64]) {
    let k = acc.len();
    if k > MAX_BINS || p.is_empty() {
        return later_rounds(round_keys, p, q, acc);
    }
    // Words in registers of 8, the last one padded with the first shingle
    // (a minimum does not change when it sees it twice).
    let full = p.len() - p.len() % LANES;
    let (p_rest, q_rest) = (rest_register(p, full), rest_register(q, full));
    // Left uninitialised: a short text would pay to zero them for a few
    // hits. The first `len` are written.
    let mut hits = [MaybeUninit::<u32>::uninit(); HITS + LANES];
    let mut len = 0;
    let mut empty = empty_bins(acc);
    let scale = _mm256_set1_epi64x(k as i64);
    let shift = k
        .is_power_of_two()
        .then(|| _mm_cvtsi32_si128(32 - k.trailing_zeros() as i32));
    let end = random_rounds_end(k);
    for (round, &key) in (1..end).zip(&round_keys[1..end]) {
        let (a, b) = later_multipliers(key);
        let thrower = Thrower {
            a: _mm256_set1_epi32(a as i32),
            b: _mm256_set1_epi32(b as i32),
            scale,
            shift,
            empty,
        };
        let high = (round as u64) << 32;
        let mut i = 0;
        while i < full {
            // SAFETY: `i + LANES <= full <= p.len() == q.len()`.
            let (pv, qv) = unsafe {
                (
                    _mm256_loadu_si256(p.as_ptr().add(i).cast()),
                    _mm256_loadu_si256(q.as_ptr().add(i).cast()),
                )
            };
            len = thrower.throw(pv, qv, &mut hits, len);
            if len > HITS {
                // Applied early, still against the bitmap of the round's
                // start: the order of the minima does not matter.
                empty = apply_hits(&hits[..len], high, acc, empty);
                len = 0;
            }
            i += LANES;
        }
        if full < p.len() {
            len = thrower.throw(p_rest, q_rest, &mut hits, len);
        }
        empty = apply_hits(&hits[..len], high, acc, empty);
        len = 0;
        if _mm256_testz_si256(empty, empty) == 1 {
            return;
        }
    }
    let mut words = [0u32; LANES];
    // SAFETY: `words` holds one register.
    unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), empty) };
    fill_empty_bins(round_keys, p, q, (p_rest, q_rest), &words, acc);
}
);

kernel!(avx2;
/// Each hit `u` (written by [`Thrower::throw`]) keeps its key `high | u` in
/// its bin if smallest, and its bin's bit is cleared from `empty`, which is
/// returned.
#[inline]
fn apply_hits(hits: &[MaybeUninit<u32>], high: u64, acc: &mut [u64], empty: __m256i) -> __m256i {
    let k = acc.len();
    // Lane `i` holds bits `32 i ..= 32 i + 31`: shifting 1 left by
    // `bin - 32 i` sets the bin's bit in its lane, and the lanes whose
    // shift is out of `0..32` (negative counts wrap) come out 0.
    let lane_starts = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    let one = _mm256_set1_epi32(1);
    let mut empty = empty;
    for u in hits {
        // SAFETY: the caller passes only written hits.
        let u = unsafe { u.assume_init() };
        let bin = later_bin(u, k);
        let slot = &mut acc[bin];
        *slot = (*slot).min(high | u64::from(u));
        let counts = _mm256_sub_epi32(_mm256_set1_epi32(bin as i32), lane_starts);
        empty = _mm256_andnot_si256(_mm256_sllv_epi32(one, counts), empty);
    }
    empty
}
);

kernel!(avx2;
/// [`fill_by_bin`](super::portable::fill_by_bin) of the bins set in
/// `empty`: for each, the minimum of its hash over the shingles (their
/// words in registers of 8, the last one `rest`), by lane minima.
fn fill_empty_bins(
    round_keys: &[u64],
    p: &[u32],
    q: &[u32],
    (p_rest, q_rest): (__m256i, __m256i),
    empty: &[u32; LANES],
    acc: &mut [u64],
) {
    let k = acc.len();
    let end = random_rounds_end(k) as u64;
    let full = p.len() - p.len() % LANES;
    for (word, &bits) in empty.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let bin = word * 32 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let (a, b) = later_multipliers(round_keys[k + bin]);
            let (a, b) = (_mm256_set1_epi32(a as i32), _mm256_set1_epi32(b as i32));
            let hash = |pv, qv| later_hash_lanes(pv, qv, a, b);
            let mut low = hash(p_rest, q_rest);
            let mut i = 0;
            while i < full {
                // SAFETY: `i + LANES <= full <= p.len() == q.len()`.
                let (pv, qv) = unsafe {
                    (
                        _mm256_loadu_si256(p.as_ptr().add(i).cast()),
                        _mm256_loadu_si256(q.as_ptr().add(i).cast()),
                    )
                };
                low = _mm256_min_epu32(low, hash(pv, qv));
                i += LANES;
            }
            let low = _mm_min_epu32(_mm256_castsi256_si128(low), _mm256_extracti128_si256::<1>(low));
            let low = _mm_min_epu32(low, _mm_shuffle_epi32::<0b0100_1110>(low));
            let low = _mm_min_epu32(low, _mm_shuffle_epi32::<0b1011_0001>(low));
            let low = _mm_cvtsi128_si32(low) as u32;
            acc[bin] = ((end + bin as u64) << 32) | u64::from(low);
        }
    }
}
);

kernel!(avx2;
/// [`later_hash`](super::portable::later_hash) in 8 lanes: `p * a + q * b`
/// modulo 2^32.
#[inline]
fn later_hash_lanes(p: __m256i, q: __m256i, a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi32(_mm256_mullo_epi32(p, a), _mm256_mullo_epi32(q, b))
}
);

kernel!(avx2;
/// The words `words[full..]` (fewer than 8) in a register, the lanes past
/// them holding `words[0]` (a minimum does not change when it sees a
/// shingle twice). A masked load, so no copy of a variable length.
fn rest_register(words: &[u32], full: usize) -> __m256i {
    let rest = words.len() - full;
    debug_assert!(rest < LANES && !words.is_empty());
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest as i32), lanes);
    // SAFETY: the masked load reads only the lanes of `mask`, which lie in
    // `words[full..]`; the pointer is in bounds (at most one past the end).
    let loaded = unsafe { _mm256_maskload_epi32(words.as_ptr().add(full).cast(), mask) };
    _mm256_blendv_epi8(_mm256_set1_epi32(words[0] as i32), loaded, mask)
}
);

kernel!(avx2;
/// The bitmap of `acc`'s empty bins: bit `b % 32` of lane `b / 32`.
/// Without a branch per bin (empty bins fall at random).
fn empty_bins(acc: &[u64]) -> __m256i {
    let mut bits = [0u32; LANES];
    let all = _mm256_set1_epi64x(EMPTY as i64);
    let mut quads = acc.chunks_exact(4);
    for (i, quad) in (&mut quads).enumerate() {
        // SAFETY: `quad` holds 4 values, one register.
        let slots = unsafe { _mm256_loadu_si256(quad.as_ptr().cast()) };
        let mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(slots, all))) as u32;
        let b = i * 4;
        bits[b / 32] |= mask << (b % 32);
    }
    let start = acc.len() - quads.remainder().len();
    for (b, &slot) in quads.remainder().iter().enumerate().map(|(i, s)| (start + i, s)) {
        bits[b / 32] |= u32::from(slot == EMPTY) << (b % 32);
    }
    // SAFETY: `bits` holds one register.
    unsafe { _mm256_loadu_si256(bits.as_ptr().cast()) }
}
);

/// One later round's constants.
struct Thrower {
    /// The round's multipliers in every lane.
    a: __m256i,
    b: __m256i,
    /// `k` in every 64-bit lane.
    scale: __m256i,
    /// `32 - m` when `k = 2^m`, for a shift instead of the scaling.
    shift: Option<__m128i>,
    /// The bins empty when the round began.
    empty: __m256i,
}

impl Thrower {
    kernel!(avx2;
    /// Throws 8 shingles (words `p`, `q`) and writes the hashes of those
    /// whose bin was empty when the round began to `hits`, from `len` on
    /// (`len <= HITS`); returns the new count.
    #[inline]
    fn throw(
        &self,
        p: __m256i,
        q: __m256i,
        hits: &mut [MaybeUninit<u32>; HITS + LANES],
        len: usize,
    ) -> usize {
        let u = later_hash_lanes(p, q, self.a, self.b);
        let bins = if let Some(shift) = self.shift {
            // `k = 2^m`: Lemire's scaling is the top `m` bits.
            _mm256_srl_epi32(u, shift)
        } else {
            // Lemire's scaling, `(u * k) >> 32`, in even and odd lanes.
            let even = _mm256_srli_epi64::<32>(_mm256_mul_epu32(u, self.scale));
            let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(u), self.scale);
            _mm256_blend_epi32::<0b1010_1010>(even, odd)
        };
        let words = _mm256_permutevar8x32_epi32(self.empty, _mm256_srli_epi32::<5>(bins));
        let bits = _mm256_srlv_epi32(words, _mm256_and_si256(bins, _mm256_set1_epi32(31)));
        let mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(bits))) as usize;
        let order = &PACK[mask & 0xFF];
        debug_assert!(len <= HITS);
        // SAFETY: `order` holds 8 bytes; `hits` has a register of room
        // past `len <= HITS`.
        unsafe {
            let order = _mm256_cvtepu8_epi32(_mm_loadl_epi64(order.as_ptr().cast()));
            let packed = _mm256_permutevar8x32_epi32(u, order);
            _mm256_storeu_si256(hits.as_mut_ptr().add(len).cast(), packed);
        }
        len + mask.count_ones() as usize
    }
    );
}
