//! The AVX-512 kernel. A bin filled in round `r` keeps its value for good
//! (later keys are larger), so after round 0 a throw can only matter if its
//! bin was empty when its round began: each later round tests the bins of 8
//! shingles at once against a bitmap of those bins (one register), packs
//! the few hits together and applies only them. These rounds are most of
//! the work of [`portable::sketch`] and mostly hit nothing. For `k = 2^p` (the default
//! width among them) the bin of Lemire's scaling is the top `p` bits of the
//! mix, found by one shift and packed with its hit where it already is.
//!
//! [`portable::sketch`]: super::portable::sketch

use super::portable::{fill_by_bin, MIX_MUL};
use super::EMPTY;
use crate::simd::{dispatch, kernel};
use std::arch::x86_64::*;

mod table;
pub(super) use table::{sketch_table, TABLE_BINS};

/// Widths whose bitmap of empty bins fits in one 512-bit register.
pub(super) const MAX_BINS: usize = 512;

/// 64-bit lanes of a register.
const LANES: usize = 8;

/// Hits packed before they are applied (plus one register of slack).
const HITS: usize = 128;

/// Most later rounds thrown before their hits are applied.
const MAX_BATCH: usize = 4;

kernel!(avx512;
/// [`super::sketch`] for `acc.len() <= MAX_BINS`, same values.
pub(super) fn sketch(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    // For k = 2^p the bin of Lemire's scaling is the top p bits of z.
    // Texts of few shingles per bin spend their time in many short
    // rounds, where rebuilding the table costs more than it saves.
    if (2..=TABLE_BINS).contains(&k) && k.is_power_of_two() && shingles.len() * 2 >= k {
        dispatch!(
            Avx512Vbmi => sketch_table(round_keys, shingles, acc);
            else sketch_with::<true>(round_keys, shingles, acc)
        )
    } else if k >= 2 && k.is_power_of_two() {
        sketch_with::<true>(round_keys, shingles, acc)
    } else {
        sketch_with::<false>(round_keys, shingles, acc)
    }
}
);

kernel!(avx512;
/// [`sketch`], binning by a shift where `POW2` (`acc.len()` then a
/// power of two, at least 2).
pub(super) fn sketch_with<const POW2: bool>(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    let Some(&first) = shingles.first() else {
        return;
    };
    let binner = Binner::<POW2>::new(k);
    // Shingles in registers of 8, the last one padded with the first
    // shingle (a minimum does not change when it sees it twice).
    let full = &shingles[..shingles.len() - shingles.len() % LANES];
    let rest = load_padded(&shingles[full.len()..], first);
    throw_first_round(full, rest, round_keys[0], binner, acc);
    let (empty, left) = empty_bins(acc);
    let mut still = Still {
        empty,
        left,
        hits: [0; HITS + LANES],
        len: 0,
    };
    // Hits are applied after a batch of rounds, all tested against the
    // bins empty when the batch began: a bin filled in the batch takes
    // more throws, but none changes it (their keys are larger). Batches
    // save a mispredicted branch and a restart per round; they pay off
    // where a round fills few of the bins (few shingles per bin).
    let batch = (k / shingles.len()).clamp(1, MAX_BATCH);
    let mut round = 1;
    while still.left > 0 && round < k {
        let end = (round + batch).min(k);
        let empty = still.empty;
        for (r, &key) in round_keys.iter().enumerate().take(end).skip(round) {
            still.throw_round(full, rest, r, key, empty, binner, acc);
        }
        still.apply(binner, acc);
        round = end;
    }
    if still.left > 0 {
        fill_by_bin(round_keys, shingles, acc);
    }
}
);

/// The bins of mixed values for `k` bins: Lemire's scaling of the high
/// half ([`super::portable::bin_of`]) in general; for `k = 2^p` (`POW2`) the same
/// value, the top `p` bits, by one shift. Also how a hit packs its bin
/// above its key (bits `shift` and up).
#[derive(Clone, Copy)]
struct Binner<const POW2: bool> {
    /// `k`, or where `POW2` `64 - p` in each lane.
    scale: __m512i,
    /// The lowest bit of the bin in a packed hit: 55 (bins below 2^9),
    /// or `64 - p` where `POW2` (the bin stays where it is in `z`).
    shift: u32,
}

impl<const POW2: bool> Binner<POW2> {
    kernel!(avx512;
    fn new(k: usize) -> Self {
        let shift = if POW2 { 64 - k.trailing_zeros() } else { 55 };
        let scale = if POW2 { u64::from(shift) } else { k as u64 };
        Self {
            scale: _mm512_set1_epi64(scale as i64),
            shift,
        }
    }
    );

    kernel!(avx512;
    /// [`super::portable::bin_of`] of each lane.
    fn bins(self, z: __m512i) -> __m512i {
        if POW2 {
            _mm512_srlv_epi64(z, self.scale)
        } else {
            _mm512_srli_epi64::<32>(_mm512_mul_epu32(_mm512_srli_epi64::<32>(z), self.scale))
        }
    }
    );

    kernel!(avx512;
    /// Each lane's key `(z & 0xFFFF_FFFF) | high` (`high` the round
    /// above bit 32, below 2^41) with its bin `bin` at bit `shift`.
    fn pack(self, z: __m512i, bin: __m512i, high: __m512i) -> __m512i {
        if POW2 {
            // z's own top bits are the bin; the bits between it and the
            // low half are cleared and take the round.
            let keep = _mm512_set1_epi64((!0u64 << self.shift | 0xFFFF_FFFF) as i64);
            _mm512_ternarylogic_epi64::<0xEA>(z, keep, high)
        } else {
            let keys = _mm512_ternarylogic_epi64::<0xEA>(z, _mm512_set1_epi64(0xFFFF_FFFF), high);
            _mm512_or_si512(_mm512_slli_epi64::<55>(bin), keys)
        }
    }
    );
}

kernel!(avx512;
/// Round 0 of `full` (whole registers) and `rest`: every bin is empty,
/// every shingle keeps its minimum.
fn throw_first_round<const POW2: bool>(
    full: &[u64],
    rest: Option<__m512i>,
    key: u64,
    binner: Binner<POW2>,
    acc: &mut [u64],
) {
    let key = _mm512_set1_epi64(key as i64);
    let shift = binner.shift;
    for x in full.chunks_exact(LANES).map(|c| load(c)).chain(rest) {
        let z = mix(_mm512_add_epi64(x, key));
        // Bin and key in one value each (the key's round is 0).
        let mut packed = Lanes([0; LANES]);
        packed.store(binner.pack(z, binner.bins(z), _mm512_setzero_si512()));
        for &p in &packed.0 {
            if let Some(slot) = acc.get_mut((p >> shift) as usize) {
                *slot = (*slot).min(p & 0xFFFF_FFFF);
            }
        }
    }
}
);

/// The bins still empty during the later rounds, and the hits not yet
/// applied.
struct Still {
    /// Bitmap of the empty bins (bit `b % 64` of lane `b / 64`).
    empty: __m512i,
    /// Their number.
    left: usize,
    /// Throws into bins empty when their round began, each as its bin
    /// (bits [`Binner::shift`] and up) and its key (the bits below:
    /// round, `v`).
    hits: [u64; HITS + LANES],
    /// Hits held.
    len: usize,
}

impl Still {
    kernel!(avx512;
    /// Round `round >= 1` of `full` (whole registers) and `rest`: holds
    /// the throws into bins set in `empty`.
    #[allow(clippy::too_many_arguments)]
    fn throw_round<const POW2: bool>(
        &mut self,
        full: &[u64],
        rest: Option<__m512i>,
        round: usize,
        key: u64,
        empty: __m512i,
        binner: Binner<POW2>,
        acc: &mut [u64],
    ) {
        let key = _mm512_set1_epi64(key as i64);
        let high = _mm512_set1_epi64(((round as u64) << 32) as i64);
        // In a register, not through `self` (the stores below could
        // reach it as far as the compiler knows).
        let mut len = self.len;
        for x in full.chunks_exact(LANES).map(|c| load(c)).chain(rest) {
            let z = mix(_mm512_add_epi64(x, key));
            let bin = binner.bins(z);
            let word = _mm512_permutexvar_epi64(_mm512_srli_epi64::<6>(bin), empty);
            // The bin's bit to bit 0 (the rotation counts modulo 64).
            let bit = _mm512_rorv_epi64(word, bin);
            let hit = _mm512_test_epi64_mask(bit, _mm512_set1_epi64(1));
            let packed = binner.pack(z, bin, high);
            // SAFETY: `len <= HITS` here, so the register's 8 values fit.
            unsafe {
                _mm512_storeu_si512(
                    self.hits.as_mut_ptr().add(len).cast(),
                    _mm512_maskz_compress_epi64(hit, packed),
                );
            }
            len += hit.count_ones() as usize;
            if len > HITS - LANES {
                self.len = len;
                self.apply(binner, acc);
                len = 0;
            }
        }
        self.len = len;
    }
    );

    kernel!(avx512;
    /// Each hit held keeps its minimum in its bin, which is no longer
    /// empty.
    fn apply<const POW2: bool>(&mut self, binner: Binner<POW2>, acc: &mut [u64]) {
        let shift = binner.shift;
        let low = (1u64 << shift) - 1;
        // In registers while the hits go (not through `self`).
        let (mut empty, mut left) = (self.empty, self.left);
        // Lane `i` holds bits `64 i ..`: shifted by `b - 64 i`, a 1 is
        // bit `b` there and 0 in the others (counts from 64, or negative
        // ones wrapped, shift everything out).
        let first_bits = _mm512_set_epi64(448, 384, 320, 256, 192, 128, 64, 0);
        let one = _mm512_set1_epi64(1);
        for &hit in &self.hits[..self.len] {
            let b = (hit >> shift) as usize;
            if let Some(slot) = acc.get_mut(b) {
                left -= usize::from(*slot == EMPTY);
                *slot = (*slot).min(hit & low);
                let at = _mm512_sub_epi64(_mm512_set1_epi64(b as i64), first_bits);
                empty = _mm512_andnot_si512(_mm512_sllv_epi64(one, at), empty);
            }
        }
        (self.empty, self.left, self.len) = (empty, left, 0);
    }
    );
}

kernel!(avx512;
/// Bitmap of the empty bins of `acc` (bit `b % 64` of lane `b / 64`)
/// and their number.
fn empty_bins(acc: &[u64]) -> (__m512i, usize) {
    let mut words = [0u64; LANES];
    let empty = _mm512_set1_epi64(EMPTY as i64);
    for (i, chunk) in acc.chunks(LANES).enumerate() {
        // Padded with a full bin.
        let v = load_padded(chunk, 0).unwrap_or(empty);
        let m = _mm512_cmpeq_epi64_mask(v, empty);
        words[i / 8] |= u64::from(m) << (8 * (i % 8));
    }
    let left = words.iter().map(|w| w.count_ones() as usize).sum();
    // SAFETY: `words` holds the 8 values read.
    let bits = unsafe { _mm512_loadu_si512(words.as_ptr().cast()) };
    (bits, left)
}
);

kernel!(avx512;
/// The 8 values of `chunk`.
fn load(chunk: &[u64]) -> __m512i {
    assert_eq!(chunk.len(), LANES);
    // SAFETY: `chunk` holds the 8 values read.
    unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) }
}
);

kernel!(avx512;
/// The values of `rest` (at most 8), then `pad`; none if it is empty.
fn load_padded(rest: &[u64], pad: u64) -> Option<__m512i> {
    if rest.is_empty() {
        return None;
    }
    let lanes = u8::MAX >> (LANES - rest.len());
    let pad = _mm512_set1_epi64(pad as i64);
    // SAFETY: the mask reads the values of `rest` only.
    Some(unsafe { _mm512_mask_loadu_epi64(pad, lanes, rest.as_ptr().cast()) })
}
);

/// Eight values, aligned for a vector store.
#[repr(align(64))]
struct Lanes([u64; LANES]);

impl Lanes {
    kernel!(avx512;
    fn store(&mut self, v: __m512i) {
        // SAFETY: `self` holds 8 values, aligned to 64 bytes.
        unsafe { _mm512_store_si512(self.0.as_mut_ptr().cast(), v) }
    }
    );
}

kernel!(avx512;
/// [`super::mix64`] of each lane.
fn mix(z: __m512i) -> __m512i {
    let z = mix_but_last(z);
    _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z))
}
);

kernel!(avx512;
/// [`super::mix64`] of each lane but its last step, `z ^ (z >> 31)`.
fn mix_but_last(z: __m512i) -> __m512i {
    let z = _mm512_mullo_epi64(
        _mm512_xor_si512(z, _mm512_srli_epi64::<30>(z)),
        _mm512_set1_epi64(MIX_MUL[0] as i64),
    );
    _mm512_mullo_epi64(
        _mm512_xor_si512(z, _mm512_srli_epi64::<27>(z)),
        _mm512_set1_epi64(MIX_MUL[1] as i64),
    )
}
);
