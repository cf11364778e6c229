//! MinHash signatures over hashed shingles: fast similarity sketching.
//!
//! The sketch is the *fast similarity sketch* of Dahlgaard, Knudsen and
//! Thorup (FOCS 2017), an O(n + k log k) replacement for classic
//! k-permutation MinHash with the same estimator (the share of equal
//! positions) and the same guarantee per position: for two sets of Jaccard
//! similarity J, each position is equal with probability J (plus 2^-32 for
//! an accidental equality of two different values).
//!
//! Each shingle hash `x` is thrown at the `k` bins in rounds. In round
//! `r < k` it lands in a pseudo-random bin with the key `(r, v)`; in round
//! `k <= r < 2k` it lands in bin `r - k` (so every bin is hit by every
//! shingle once), again with key `(r, v)`. Both come from one mix per round,
//! `z = mix64(x + round_key[r])`: the bin is the high 32 bits scaled to `k`
//! (Lemire's multiply-shift), `v` the low 32 bits. Each bin keeps its
//! smallest key, compared as `r << 32 | v`; the signature holds the `v` of
//! every bin. Keys of round `r` are all below those of round `r + 1`, so the
//! rounds stop as soon as no bin is empty: one round for sets much larger
//! than `k`, about `(k / n) ln k` rounds for `n` shingles otherwise.
//!
//! The bin minimum of `A` and of `B` agree exactly when the minimum over
//! `A ∪ B` lies in `A ∩ B`, which for exchangeable shingles happens with
//! probability `|A ∩ B| / |A ∪ B|`. Round 0 is one-permutation hashing
//! (bins see disjoint shingles, so errors are those of sampling without
//! replacement, below classic MinHash); later rounds fill the bins it left
//! empty with fresh draws instead of copies of other bins, so short texts
//! keep the classic error too (see the tests at the end).
//!
//! `round_key` is a splitmix64 stream started at the seed. An empty set has
//! the signature of all `u32::MAX`. Values depend only on the shingle hashes
//! and the seed, never on the CPU or the build. The AVX2 path (chosen at run
//! time) runs the portable code; the AVX-512 one (module `avx512`) uses that a
//! bin filled in one round never changes in a later one (its key is
//! smaller), so after round 0 it only applies the throws into bins still
//! empty, found with a bitmap test on 8 shingles at once (for widths `2^p`
//! up to 128, where the CPU has AVX-512 VBMI, a byte-table lookup instead,
//! on mixes short of their last step, which leaves the top bits alone).
//! The tests check every path against the definition written the slow way.

/// Default number of permutations.
pub const DEFAULT_NUM_PERM: usize = 128;
/// Default seed of the permutations.
pub const DEFAULT_SEED: u64 = 42;

/// Bin of the accumulator that no shingle has reached yet.
const EMPTY: u64 = u64::MAX;

/// Widths up to this keep their bins on the stack.
const STACK_BINS: usize = 512;

/// Widths up to this (the default among them) use a smaller stack array.
const SMALL_STACK_BINS: usize = DEFAULT_NUM_PERM;

/// Shingles mixed together before they are scattered to their bins.
const CHUNK: usize = 16;

/// The sketch of one signature width and seed.
#[derive(Debug, Clone)]
pub struct MinHasher {
    /// `2 * num_perm` round keys.
    round_keys: Vec<u64>,
    num_perm: usize,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

/// The multipliers of [`mix64`] (shared with its vector form).
const MIX_MUL: [u64; 2] = [0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB];

/// The splitmix64 finaliser: a bijection of `u64` with full avalanche.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(MIX_MUL[0]);
    z = (z ^ (z >> 27)).wrapping_mul(MIX_MUL[1]);
    z ^ (z >> 31)
}

/// Bin in `0..k` of a mixed value: its high 32 bits scaled to `k`.
#[inline(always)]
fn bin_of(z: u64, k: usize) -> usize {
    (((z >> 32) * k as u64) >> 32) as usize
}

impl MinHasher {
    /// The sketch of `num_perm` values from `seed`.
    pub fn new(num_perm: usize, seed: u64) -> Self {
        let mut state = seed;
        let round_keys = (0..2 * num_perm).map(|_| splitmix64(&mut state)).collect();
        Self {
            round_keys,
            num_perm,
        }
    }

    /// Number of values in a signature.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Writes the signature of `shingles` into `out`: its first
    /// `num_perm` values (the rest, if `out` is longer, `u32::MAX`).
    /// `shingles` may hold a hash more than once; order does not matter.
    ///
    /// Uses AVX-512 or AVX2 where the CPU has them (detected at run time, so
    /// a portable build gets them too); every path computes the same values.
    pub fn signature_into(&self, shingles: &[u64], out: &mut [u32]) {
        out.fill(u32::MAX);
        let k = self.num_perm;
        if k == 0 || shingles.is_empty() {
            return;
        }
        // The usual widths sketch on the stack: no allocation per text, and
        // for the default width no more bins to fill than it uses.
        if k <= SMALL_STACK_BINS {
            let mut stack = [EMPTY; SMALL_STACK_BINS];
            self.sketch_bins(shingles, &mut stack[..k], out);
        } else if k <= STACK_BINS {
            let mut stack = [EMPTY; STACK_BINS];
            self.sketch_bins(shingles, &mut stack[..k], out);
        } else {
            self.sketch_bins(shingles, &mut vec![EMPTY; k], out);
        }
    }

    /// The sketch into `acc` (length `num_perm`, all [`EMPTY`]), then its
    /// values into `out`.
    #[inline(always)]
    fn sketch_bins(&self, shingles: &[u64], acc: &mut [u64], out: &mut [u32]) {
        sketch_dispatched(&self.round_keys, shingles, acc);
        for (slot, &key) in out.iter_mut().zip(acc.iter()) {
            *slot = key as u32;
        }
    }

    /// The signature of `shingles`.
    pub fn signature(&self, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![0; self.num_perm()];
        self.signature_into(shingles, &mut out);
        out
    }
}

/// Whether the CPU has what [`sketch_avx512`] enables.
#[cfg(target_arch = "x86_64")]
fn avx512_detected() -> bool {
    std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
}

/// [`sketch`] on the widest vector unit the CPU has.
fn sketch_dispatched(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512_detected() {
            // SAFETY: the CPU supports the features the function enables.
            unsafe { sketch_avx512(round_keys, shingles, acc) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { sketch_avx2(round_keys, shingles, acc) };
            return;
        }
    }
    sketch(round_keys, shingles, acc)
}

/// The portable kernel: the bin minima of all rounds that can still change
/// one, into `acc` (length `k`, all [`EMPTY`]; `round_keys` of length `2k`).
#[inline(always)]
fn sketch(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    if shingles.is_empty() {
        return;
    }
    for (round, &key) in round_keys.iter().enumerate().take(k) {
        throw_round(shingles, key, round, acc);
        if !acc.contains(&EMPTY) {
            return;
        }
    }
    fill_by_bin(round_keys, shingles, acc);
}

/// Round `round < k` of every shingle (`shingles` not empty).
#[inline(always)]
fn throw_round(shingles: &[u64], key: u64, round: usize, acc: &mut [u64]) {
    let high = (round as u64) << 32;
    let mut chunks = shingles.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        throw_chunk(chunk, key, high, acc);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // A full chunk again: the first shingle repeated is no new
        // element (a minimum does not change when it sees it twice).
        let mut padded = [shingles[0]; CHUNK];
        padded[..rest.len()].copy_from_slice(rest);
        throw_chunk(&padded, key, high, acc);
    }
}

/// Fills the bins still empty after `k` rounds: round `k + b` sends every
/// shingle to bin `b`, so its minimum fills it.
fn fill_by_bin(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    let k = acc.len();
    for (b, slot) in acc.iter_mut().enumerate() {
        if *slot != EMPTY {
            continue;
        }
        let round = k + b;
        let key = round_keys[round];
        let low = shingles
            .iter()
            .map(|&x| mix64(x.wrapping_add(key)) & 0xFFFF_FFFF)
            .min()
            .unwrap_or(0xFFFF_FFFF);
        *slot = ((round as u64) << 32) | low;
    }
}

/// One round for one chunk of shingles: mixes, bins and keys computed
/// together (this part vectorises), then each bin keeps its minimum.
#[inline(always)]
fn throw_chunk(chunk: &[u64], key: u64, high: u64, acc: &mut [u64]) {
    let k = acc.len();
    let mut bins = [0usize; CHUNK];
    let mut keys = [0u64; CHUNK];
    for ((b, v), &x) in bins.iter_mut().zip(keys.iter_mut()).zip(chunk) {
        let z = mix64(x.wrapping_add(key));
        *b = bin_of(z, k);
        *v = high | (z & 0xFFFF_FFFF);
    }
    for (&b, &v) in bins.iter().zip(&keys) {
        if let Some(slot) = acc.get_mut(b) {
            *slot = (*slot).min(v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sketch_avx2(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    sketch(round_keys, shingles, acc)
}

/// [`sketch`] with AVX-512: the bitmap kernel for widths up to
/// [`avx512::MAX_BINS`], the portable code compiled for AVX-512 beyond.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,popcnt,bmi1,bmi2")]
unsafe fn sketch_avx512(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    if acc.len() <= avx512::MAX_BINS {
        avx512::sketch(round_keys, shingles, acc)
    } else {
        sketch(round_keys, shingles, acc)
    }
}

/// The AVX-512 kernel. A bin filled in round `r` keeps its value for good
/// (later keys are larger), so after round 0 a throw can only matter if its
/// bin was empty when its round began: each later round tests the bins of 8
/// shingles at once against a bitmap of those bins (one register), packs
/// the few hits together and applies only them. These rounds are most of
/// the work of [`sketch`] and mostly hit nothing. For `k = 2^p` (the default
/// width among them) the bin of Lemire's scaling is the top `p` bits of the
/// mix, found by one shift and packed with its hit where it already is.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{fill_by_bin, EMPTY, MIX_MUL};
    use std::arch::x86_64::*;

    /// Widths whose bitmap of empty bins fits in one 512-bit register.
    pub(super) const MAX_BINS: usize = 512;

    /// 64-bit lanes of a register.
    const LANES: usize = 8;

    /// Hits packed before they are applied (plus one register of slack).
    const HITS: usize = 128;

    /// Most later rounds thrown before their hits are applied.
    const MAX_BATCH: usize = 4;

    /// [`super::sketch`] for `acc.len() <= MAX_BINS`, same values.
    #[target_feature(enable = "avx512f,avx512dq,popcnt,bmi1,bmi2")]
    pub(super) fn sketch(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
        let k = acc.len();
        // For k = 2^p the bin of Lemire's scaling is the top p bits of z.
        // Texts of few shingles per bin spend their time in many short
        // rounds, where rebuilding the table costs more than it saves.
        if (2..=TABLE_BINS).contains(&k)
            && k.is_power_of_two()
            && shingles.len() * 2 >= k
            && table_detected()
        {
            // SAFETY: the CPU has the features the function enables.
            unsafe { sketch_table(round_keys, shingles, acc) }
        } else if k >= 2 && k.is_power_of_two() {
            sketch_with::<true>(round_keys, shingles, acc)
        } else {
            sketch_with::<false>(round_keys, shingles, acc)
        }
    }

    /// [`sketch`], binning by a shift where `POW2` (`acc.len()` then a
    /// power of two, at least 2).
    #[target_feature(enable = "avx512f,avx512dq,popcnt,bmi1,bmi2")]
    pub(super) fn sketch_with<const POW2: bool>(
        round_keys: &[u64],
        shingles: &[u64],
        acc: &mut [u64],
    ) {
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

    /// Widths of [`sketch_table`]: powers of two up to this.
    pub(super) const TABLE_BINS: usize = 128;

    /// Whether the CPU has what [`sketch_table`] adds to [`sketch`].
    pub(super) fn table_detected() -> bool {
        std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
    }

    /// [`sketch`] for `k = 2^p`, `2 <= k <=` [`TABLE_BINS`]. The later
    /// rounds look their bins up in a table of 128 bytes (two registers,
    /// `0xFF` for an empty bin), one byte shuffle for 8 shingles, and stop
    /// their mix before its last step: the bin, the top `p` bits, is
    /// already there (the last step, `z ^ (z >> 31)`, keeps the top 31
    /// bits), and the few hits finish it one by one.
    #[target_feature(enable = "avx512f,avx512dq,avx512bw,avx512vbmi,popcnt,bmi1,bmi2")]
    pub(super) fn sketch_table(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
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

    /// The bins of mixed values for `k` bins: Lemire's scaling of the high
    /// half ([`super::bin_of`]) in general; for `k = 2^p` (`POW2`) the same
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
        #[target_feature(enable = "avx512f")]
        fn new(k: usize) -> Self {
            let shift = if POW2 { 64 - k.trailing_zeros() } else { 55 };
            let scale = if POW2 { u64::from(shift) } else { k as u64 };
            Self {
                scale: _mm512_set1_epi64(scale as i64),
                shift,
            }
        }

        /// [`super::bin_of`] of each lane.
        #[target_feature(enable = "avx512f")]
        fn bins(self, z: __m512i) -> __m512i {
            if POW2 {
                _mm512_srlv_epi64(z, self.scale)
            } else {
                _mm512_srli_epi64::<32>(_mm512_mul_epu32(_mm512_srli_epi64::<32>(z), self.scale))
            }
        }

        /// Each lane's key `(z & 0xFFFF_FFFF) | high` (`high` the round
        /// above bit 32, below 2^41) with its bin `bin` at bit `shift`.
        #[target_feature(enable = "avx512f")]
        fn pack(self, z: __m512i, bin: __m512i, high: __m512i) -> __m512i {
            if POW2 {
                // z's own top bits are the bin; the bits between it and the
                // low half are cleared and take the round.
                let keep = _mm512_set1_epi64((!0u64 << self.shift | 0xFFFF_FFFF) as i64);
                _mm512_ternarylogic_epi64::<0xEA>(z, keep, high)
            } else {
                let keys =
                    _mm512_ternarylogic_epi64::<0xEA>(z, _mm512_set1_epi64(0xFFFF_FFFF), high);
                _mm512_or_si512(_mm512_slli_epi64::<55>(bin), keys)
            }
        }
    }

    /// Round 0 of `full` (whole registers) and `rest`: every bin is empty,
    /// every shingle keeps its minimum.
    #[target_feature(enable = "avx512f,avx512dq,popcnt,bmi1,bmi2")]
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
        /// Round `round >= 1` of `full` (whole registers) and `rest`: holds
        /// the throws into bins set in `empty`.
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = "avx512f,avx512dq,popcnt,bmi1,bmi2")]
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

        /// Each hit held keeps its minimum in its bin, which is no longer
        /// empty.
        #[target_feature(enable = "avx512f,popcnt,bmi1,bmi2")]
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
    }

    /// Bitmap of the empty bins of `acc` (bit `b % 64` of lane `b / 64`)
    /// and their number.
    #[target_feature(enable = "avx512f,avx512dq,popcnt")]
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

    /// The 8 values of `chunk`.
    #[target_feature(enable = "avx512f")]
    fn load(chunk: &[u64]) -> __m512i {
        assert_eq!(chunk.len(), LANES);
        // SAFETY: `chunk` holds the 8 values read.
        unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) }
    }

    /// The values of `rest` (at most 8), then `pad`; none if it is empty.
    #[target_feature(enable = "avx512f")]
    fn load_padded(rest: &[u64], pad: u64) -> Option<__m512i> {
        if rest.is_empty() {
            return None;
        }
        let lanes = u8::MAX >> (LANES - rest.len());
        let pad = _mm512_set1_epi64(pad as i64);
        // SAFETY: the mask reads the values of `rest` only.
        Some(unsafe { _mm512_mask_loadu_epi64(pad, lanes, rest.as_ptr().cast()) })
    }

    /// Eight values, aligned for a vector store.
    #[repr(align(64))]
    struct Lanes([u64; LANES]);

    impl Lanes {
        #[target_feature(enable = "avx512f")]
        fn store(&mut self, v: __m512i) {
            // SAFETY: `self` holds 8 values, aligned to 64 bytes.
            unsafe { _mm512_store_si512(self.0.as_mut_ptr().cast(), v) }
        }
    }

    /// [`super::mix64`] of each lane.
    #[target_feature(enable = "avx512f,avx512dq")]
    fn mix(z: __m512i) -> __m512i {
        let z = mix_but_last(z);
        _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z))
    }

    /// [`super::mix64`] of each lane but its last step, `z ^ (z >> 31)`.
    #[target_feature(enable = "avx512f,avx512dq")]
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
}

/// Share of positions where two signatures agree: the MinHash estimate of
/// Jaccard similarity. Empty-set signatures (all `u32::MAX`) estimate 0.
pub fn estimated_jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.iter().all(|&v| v == u32::MAX) {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaccard::jaccard;
    use crate::text::shingle_set;
    use proptest::prelude::*;

    #[test]
    fn signatures_are_deterministic_and_seeded() {
        let s = shingle_set("the quick brown fox jumps over the lazy dog again", 3);
        let h = MinHasher::new(64, 7);
        assert_eq!(h.signature(&s), MinHasher::new(64, 7).signature(&s));
        assert_ne!(h.signature(&s), MinHasher::new(64, 8).signature(&s));
        assert!(h.signature(&[]).iter().all(|&v| v == u32::MAX));
        assert_eq!(estimated_jaccard(&h.signature(&[]), &h.signature(&[])), 0.0);
        assert!(MinHasher::new(0, 1).signature(&s).is_empty());
        // Duplicates and order do not matter.
        let mut doubled: Vec<u64> = s.iter().rev().copied().collect();
        doubled.extend_from_slice(&s);
        assert_eq!(h.signature(&doubled), h.signature(&s));
        // A single shingle fills every bin (through the fixed rounds).
        assert!(h.signature(&s[..1]).iter().all(|&v| v != u32::MAX));
    }

    #[test]
    fn signature_values_are_pinned() {
        // Signatures must be identical across builds and CPUs; stored
        // signatures depend on these values (tokeniser, shingle hash, seed
        // stream and sketch together). Changed with the word hash (see
        // `text::tests::shingle_hashes_are_stable`). A change here must
        // raise `sketch::SKETCH_FORMAT`.
        let h = MinHasher::new(8, DEFAULT_SEED);
        let fox = shingle_set("The quick brown fox jumps over the lazy dog", 5);
        let short = shingle_set("Fréchet means", 5);
        let long = shingle_set(&words_text(&(0..300).collect::<Vec<_>>()), 5);
        let long = MinHasher::new(128, DEFAULT_SEED).signature(&long);
        assert_eq!(
            (
                h.signature(&fox),
                h.signature(&short),
                &long[..8],
                &long[120..]
            ),
            (
                vec![
                    1373263159, 2307490241, 288902743, 145493571, 2387160883, 2400344250,
                    1700527931, 2866623679
                ],
                vec![
                    3778299446, 3683872492, 3796246446, 223769176, 4192817629, 648549923,
                    584955354, 992768522
                ],
                &[
                    44086024, 168469390, 1249241638, 815025368, 154881420, 210562348, 573208056,
                    2390293455
                ][..],
                &[
                    2761631611, 1410959118, 124137891, 2432460390, 2405954952, 2175566322,
                    518939865, 585116898
                ][..]
            )
        );
    }

    /// The kernel written the slow way: every round to the end, no chunks.
    fn naive(h: &MinHasher, shingles: &[u64]) -> Vec<u32> {
        let k = h.num_perm();
        let mut acc = vec![EMPTY; k];
        for (round, &key) in h.round_keys.iter().enumerate() {
            for &x in shingles {
                let z = mix64(x.wrapping_add(key));
                let b = if round < k { bin_of(z, k) } else { round - k };
                acc[b] = acc[b].min(((round as u64) << 32) | (z & 0xFFFF_FFFF));
            }
        }
        acc.iter().map(|&v| v as u32).collect()
    }

    /// Checks every kernel the CPU can run against [`naive`].
    fn check_every_path(num_perm: usize, seed: u64, shingles: &[u64]) -> Result<(), TestCaseError> {
        let h = MinHasher::new(num_perm, seed);
        let expected = naive(&h, shingles);
        let values = |kernel: &dyn Fn(&mut [u64])| {
            let mut acc = vec![EMPTY; num_perm];
            if !shingles.is_empty() {
                kernel(&mut acc);
            }
            acc.iter().map(|&v| v as u32).collect::<Vec<_>>()
        };
        prop_assert_eq!(
            &values(&|acc| sketch(&h.round_keys, shingles, acc)),
            &expected
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                let avx2 = values(&|acc| unsafe { sketch_avx2(&h.round_keys, shingles, acc) });
                prop_assert_eq!(&avx2, &expected);
            }
            if avx512_detected() {
                // SAFETY: the CPU has what the function enables.
                let avx512 = values(&|acc| unsafe { sketch_avx512(&h.round_keys, shingles, acc) });
                prop_assert_eq!(&avx512, &expected);
                if (2..=avx512::MAX_BINS).contains(&num_perm) && num_perm.is_power_of_two() {
                    // The bitmap kernel, which the table kernel replaces
                    // for the narrower of these widths.
                    // SAFETY: as above.
                    let bitmap = values(&|acc| unsafe {
                        avx512::sketch_with::<true>(&h.round_keys, shingles, acc)
                    });
                    prop_assert_eq!(&bitmap, &expected);
                }
                if (2..=avx512::TABLE_BINS).contains(&num_perm)
                    && num_perm.is_power_of_two()
                    && avx512::table_detected()
                {
                    // SAFETY: the CPU has what the function enables.
                    let table = values(&|acc| unsafe {
                        avx512::sketch_table(&h.round_keys, shingles, acc)
                    });
                    prop_assert_eq!(&table, &expected);
                }
            }
        }
        prop_assert_eq!(h.signature(shingles), expected);
        Ok(())
    }

    #[test]
    fn power_of_two_widths_match_the_definition() {
        // The AVX-512 kernel bins these by a shift: every one of them, at
        // lengths that take one round, many, or the fixed ones.
        let mut state = 5;
        let shingles: Vec<u64> = (0..1500).map(|_| splitmix64(&mut state)).collect();
        for p in 0..=10 {
            for len in [1, 7, 8, 9, 30, 129, 1500] {
                check_every_path(1 << p, p as u64, &shingles[..len]).unwrap();
            }
        }
    }

    /// Shingle hashes, some of them repeated (drawn from a small range).
    fn shingle_lists(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u64>> {
        prop_oneof![
            prop::collection::vec(any::<u64>(), len.clone()),
            prop::collection::vec(0u64..40, len),
        ]
    }

    proptest! {
        /// Every kernel gives exactly the values of the definition (no early
        /// stop, no chunks), for any width.
        #[test]
        fn dispatched_kernel_matches_portable(
            shingles in shingle_lists(0..300),
            num_perm in 1usize..70,
            seed in any::<u64>(),
        ) {
            check_every_path(num_perm, seed, &shingles)?;
        }

        /// The same for the usual widths, those around the limits of the
        /// kernels, and short texts (many rounds, often the fixed ones).
        #[test]
        fn dispatched_kernel_matches_portable_at_usual_widths(
            shingles in prop_oneof![shingle_lists(1..50), shingle_lists(50..700)],
            num_perm in prop::sample::select(
                vec![64usize, 127, 128, 129, 200, 256, 511, 512, 513, 600],
            ),
            seed in any::<u64>(),
        ) {
            check_every_path(num_perm, seed, &shingles)?;
        }
    }

    fn words_text(words: &[u16]) -> String {
        words
            .iter()
            .map(|w| format!("w{w}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The estimate's standard error is sqrt(J(1-J)/k); allow 4.5 sigma
        /// plus the granularity of one position.
        #[test]
        fn estimate_stays_within_expected_error(
            base in prop::collection::vec(0u16..2000, 40..400),
            edits in prop::collection::vec((0usize..400, 0u16..2000), 0..200),
            seed in any::<u64>(),
        ) {
            let mut other = base.clone();
            for (pos, word) in edits {
                let len = other.len();
                other[pos % len] = word;
            }
            let (a, b) = (shingle_set(&words_text(&base), 3), shingle_set(&words_text(&other), 3));
            let exact = jaccard(&a, &b);
            let k = 256;
            let h = MinHasher::new(k, seed);
            let estimate = estimated_jaccard(&h.signature(&a), &h.signature(&b));
            let sigma = (exact * (1.0 - exact) / k as f64).sqrt();
            prop_assert!((estimate - exact).abs() <= 4.5 * sigma + 1.0 / k as f64,
                "exact {exact} estimate {estimate} sigma {sigma}");
        }
    }

    #[test]
    fn estimate_is_unbiased_over_many_seeds() {
        let a = shingle_set(&words_text(&(0..300).collect::<Vec<_>>()), 2);
        let b = shingle_set(&words_text(&(100..400).collect::<Vec<_>>()), 2);
        let exact = jaccard(&a, &b);
        let trials = 200;
        let mean: f64 = (0..trials)
            .map(|seed| {
                let h = MinHasher::new(128, seed);
                estimated_jaccard(&h.signature(&a), &h.signature(&b))
            })
            .sum::<f64>()
            / trials as f64;
        // Standard error of the mean: sqrt(J(1-J)/128/200) ~ 0.0029.
        assert!((mean - exact).abs() < 0.012, "mean {mean} exact {exact}");
    }

    /// Classic k-permutation MinHash (the sketch before this one), as the
    /// yardstick of the error tests.
    fn classic(shingles: &[u64], k: usize, seed: u64) -> Vec<u32> {
        let mut state = seed;
        (0..k)
            .map(|_| {
                let a = splitmix64(&mut state) | 1;
                let b = splitmix64(&mut state);
                shingles
                    .iter()
                    .map(|&x| (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32)
                    .min()
                    .unwrap_or(u32::MAX)
            })
            .collect()
    }

    /// Pairs of random sets of `len` shingles and a spread of similarities:
    /// `(a, b, exact Jaccard)`.
    fn generated_pairs(len: usize, count: usize, seed: u64) -> Vec<(Vec<u64>, Vec<u64>, f64)> {
        let mut state = seed;
        (0..count)
            .map(|i| {
                // Shared share from 0.3 to 1.
                let shared = len * (30 + (i * 70) / count.max(1)) / 100;
                let common: Vec<u64> = (0..shared).map(|_| splitmix64(&mut state)).collect();
                let mut a = common.clone();
                let mut b = common;
                a.extend((shared..len).map(|_| splitmix64(&mut state)));
                b.extend((shared..len).map(|_| splitmix64(&mut state)));
                a.sort_unstable();
                b.sort_unstable();
                let j = jaccard(&a, &b);
                (a, b, j)
            })
            .collect()
    }

    /// (RMSE, bias, RMSE of an ideal classic MinHash) over pairs and seeds.
    fn error_of(
        pairs: &[(Vec<u64>, Vec<u64>, f64)],
        k: usize,
        sign: impl Fn(&[u64], u64) -> Vec<u32>,
    ) -> (f64, f64, f64) {
        let (mut sq, mut sum, mut ideal, mut n) = (0.0, 0.0, 0.0, 0.0);
        for seed in 0..8u64 {
            for (a, b, j) in pairs {
                let e = estimated_jaccard(&sign(a, seed), &sign(b, seed)) - j;
                sq += e * e;
                sum += e;
                ideal += j * (1.0 - j) / k as f64;
                n += 1.0;
            }
        }
        ((sq / n).sqrt(), sum / n, (ideal / n).sqrt())
    }

    #[test]
    fn estimate_error_is_at_the_classic_level_for_short_and_long_texts() {
        let k = 128;
        // Short texts (20 to 100 shingles, where most bins need more than
        // one round), texts with about k shingles, and long texts.
        for (len, count) in [(20, 150), (50, 150), (100, 120), (128, 120), (1000, 40)] {
            let pairs = generated_pairs(len, count, len as u64);
            let (rmse, bias, ideal) = error_of(&pairs, k, |s, seed| {
                MinHasher::new(k, seed ^ 0xABCD).signature(s)
            });
            let (classic_rmse, classic_bias, _) =
                error_of(&pairs, k, |s, seed| classic(s, k, seed ^ 0xABCD));
            eprintln!(
                "{len} shingles: rmse {rmse:.4} bias {bias:+.4}; classic {classic_rmse:.4} \
                 {classic_bias:+.4}; ideal classic {ideal:.4}"
            );
            // The RMSE of `count * 8` estimates is itself uncertain by about
            // 1/sqrt(2 * count * 8): allow 12% over the ideal classic figure.
            assert!(rmse <= ideal * 1.12, "{len}: rmse {rmse} ideal {ideal}");
            assert!(
                bias.abs() <= 3.0 * ideal / ((count * 8) as f64).sqrt() + 0.002,
                "{len}: bias {bias}"
            );
        }
    }
}
