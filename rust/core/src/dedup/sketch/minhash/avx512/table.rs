//! The AVX-512 VBMI kernel for widths `2^p` up to [`TABLE_BINS`]: the
//! bins still empty in a byte table looked up by one shuffle for 8
//! shingles, on mixes short of their last step.

use super::super::portable::fill_by_bin;
use super::super::EMPTY;
use super::{load, load_padded, mix_but_last, throw_first_round, Binner, HITS, LANES, MAX_BATCH};
use crate::simd::kernel;
use std::arch::x86_64::*;

/// Widths of [`sketch_table`]: powers of two up to this.
pub(in crate::dedup::sketch::minhash) const TABLE_BINS: usize = 128;

kernel!(avx512vbmi;
/// [`super::sketch`] for `k = 2^p`, `2 <= k <=` [`TABLE_BINS`]. The later
/// rounds look their bins up in a table of 128 bytes (two registers,
/// `0xFF` for an empty bin), one byte shuffle for 8 shingles, and stop
/// their mix before its last step: the bin, the top `p` bits, is
/// already there (the last step, `z ^ (z >> 31)`, keeps the top 31
/// bits), and the few hits finish it one by one.
pub(in crate::dedup::sketch::minhash) fn sketch_table(
    round_keys: &[u64],
    shingles: &[u64],
    acc: &mut [u64],
) {
    let k = acc.len();
    let Some(&first) = shingles.first() else {
        return;
    };
    debug_assert!((2..=TABLE_BINS).contains(&k) && k.is_power_of_two());
    let binner = Binner::<true>::new(k);
    let full = &shingles[..shingles.len() - shingles.len() % LANES];
    let rest = load_padded(&shingles[full.len()..], first);
    throw_first_round(full, rest, round_keys[0], binner, acc);
    // Bit `b` for an empty bin `b`.
    let mut empty = 0u128;
    let empty_key = _mm512_set1_epi64(EMPTY as i64);
    for (i, chunk) in acc.chunks(LANES).enumerate() {
        // Padded with a full bin.
        let v = load_padded(chunk, 0).unwrap_or(empty_key);
        empty |= u128::from(_mm512_cmpeq_epi64_mask(v, empty_key)) << (LANES * i);
    }
    // The bin, the top p bits of each lane, to the low bits of its top
    // byte (where the byte shuffle takes its index).
    let to_index = _mm_cvtsi64_si128(i64::from(binner.shift) - 56);
    let top_byte = _mm512_set1_epi64(0xFF << 56);
    let mut hits = TableHits {
        hits: [0; HITS + LANES],
        len: 0,
        ends: [0; MAX_BATCH + 1],
        highs: [0; MAX_BATCH + 1],
        segments: 0,
    };
    // As in `sketch_with`: hits applied after a batch of rounds.
    let batch = (k / shingles.len()).clamp(1, MAX_BATCH);
    let mut round = 1;
    while empty != 0 && round < k {
        let end = (round + batch).min(k);
        let low = _mm512_movm_epi8(empty as u64);
        let high = _mm512_movm_epi8((empty >> 64) as u64);
        for (r, &key) in round_keys.iter().enumerate().take(end).skip(round) {
            let key = _mm512_set1_epi64(key as i64);
            let round_high = (r as u64) << 32;
            let mut len = hits.len;
            for x in full.chunks_exact(LANES).map(|c| load(c)).chain(rest) {
                let y = mix_but_last(_mm512_add_epi64(x, key));
                let index = _mm512_srl_epi64(y, to_index);
                let flags = _mm512_permutex2var_epi8(low, index, high);
                let hit = _mm512_test_epi64_mask(flags, top_byte);
                // SAFETY: `len <= HITS` here, so the register's 8 values fit.
                unsafe {
                    _mm512_storeu_si512(
                        hits.hits.as_mut_ptr().add(len).cast(),
                        _mm512_maskz_compress_epi64(hit, y),
                    );
                }
                len += hit.count_ones() as usize;
                if len > HITS - LANES {
                    hits.len = len;
                    hits.close(round_high);
                    hits.apply(binner.shift, &mut empty, acc);
                    len = 0;
                }
            }
            hits.len = len;
            hits.close(round_high);
        }
        hits.apply(binner.shift, &mut empty, acc);
        round = end;
    }
    if empty != 0 {
        fill_by_bin(round_keys, shingles, acc);
    }
}
);

/// The hits of [`sketch_table`]: mixed values short of the last step,
/// in segments of one round each.
struct TableHits {
    hits: [u64; HITS + LANES],
    len: usize,
    /// Where each segment ends in `hits`.
    ends: [usize; MAX_BATCH + 1],
    /// The round of each segment, above bit 32.
    highs: [u64; MAX_BATCH + 1],
    segments: usize,
}

impl TableHits {
    /// Ends the segment of the round `high` (above bit 32).
    #[inline(always)]
    fn close(&mut self, high: u64) {
        if let (Some(end), Some(slot)) = (
            self.ends.get_mut(self.segments),
            self.highs.get_mut(self.segments),
        ) {
            (*end, *slot) = (self.len, high);
            self.segments += 1;
        }
    }

    /// Each hit keeps its minimum in its bin (bits `shift` and up),
    /// which leaves `empty`.
    #[inline(always)]
    fn apply(&mut self, shift: u32, empty: &mut u128, acc: &mut [u64]) {
        let mut start = 0;
        for (&end, &high) in self.ends.iter().zip(&self.highs).take(self.segments) {
            for &y in &self.hits[start..end] {
                let b = (y >> shift) as usize;
                let key = high | ((y ^ (y >> 31)) & 0xFFFF_FFFF);
                if let Some(slot) = acc.get_mut(b) {
                    *slot = (*slot).min(key);
                }
                *empty &= !(1u128 << b);
            }
            start = end;
        }
        (self.len, self.segments) = (0, 0);
    }
}
