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
//! and the seed, never on the CPU or the build: the AVX-512 and AVX2 paths
//! (chosen at run time) run the same code as the portable one.

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

/// The splitmix64 finaliser: a bijection of `u64` with full avalanche.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
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

/// [`sketch`] on the widest vector unit the CPU has.
fn sketch_dispatched(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
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
        if !acc.contains(&EMPTY) {
            return;
        }
    }
    // Bins still empty after k rounds: round k + b sends every shingle to
    // bin b, so its minimum fills it.
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn sketch_avx512(round_keys: &[u64], shingles: &[u64], acc: &mut [u64]) {
    sketch(round_keys, shingles, acc)
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
    use crate::text::{jaccard, shingle_set};
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
        // `text::tests::shingle_hashes_are_stable`).
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

    proptest! {
        /// The vectorised paths give exactly the portable values, and these
        /// are those of the definition (no early stop, no chunks).
        #[test]
        fn dispatched_kernel_matches_portable(
            shingles in prop::collection::vec(any::<u64>(), 0..300),
            num_perm in 1usize..70,
            seed in any::<u64>(),
        ) {
            let h = MinHasher::new(num_perm, seed);
            let mut portable = vec![EMPTY; num_perm];
            sketch(&h.round_keys, &shingles, &mut portable);
            let portable: Vec<u32> = portable.iter().map(|&v| v as u32).collect();
            prop_assert_eq!(&portable, &naive(&h, &shingles));
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    let mut acc = vec![EMPTY; num_perm];
                    // SAFETY: the CPU has AVX2.
                    unsafe { sketch_avx2(&h.round_keys, &shingles, &mut acc) };
                    let v: Vec<u32> = acc.iter().map(|&v| v as u32).collect();
                    prop_assert_eq!(&v, &portable);
                }
                if std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    let mut acc = vec![EMPTY; num_perm];
                    // SAFETY: the CPU has AVX-512 F, DQ and VL.
                    unsafe { sketch_avx512(&h.round_keys, &shingles, &mut acc) };
                    let v: Vec<u32> = acc.iter().map(|&v| v as u32).collect();
                    prop_assert_eq!(&v, &portable);
                }
            }
            prop_assert_eq!(h.signature(&shingles), portable);
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
