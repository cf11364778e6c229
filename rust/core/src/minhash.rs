//! MinHash signatures over hashed shingles.
//!
//! Permutation `i` maps a 64-bit shingle hash `x` to the high 32 bits of
//! `a_i * x + b_i (mod 2^64)`, with `a_i` odd and `a_i`, `b_i` drawn from a
//! splitmix64 stream started at the seed. The signature keeps the minimum of
//! each permutation over the shingle set. An empty set has the signature of
//! all `u32::MAX`. Values depend only on the seed, never on the CPU or build.

/// Default number of permutations.
pub const DEFAULT_NUM_PERM: usize = 128;
/// Default seed of the permutations.
pub const DEFAULT_SEED: u64 = 42;

/// The permutation family of one signature width and seed.
#[derive(Debug, Clone)]
pub struct MinHasher {
    multipliers: Vec<u64>,
    increments: Vec<u64>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MinHasher {
    /// Permutations for `num_perm` values from `seed`.
    pub fn new(num_perm: usize, seed: u64) -> Self {
        let mut state = seed;
        let mut multipliers = Vec::with_capacity(num_perm);
        let mut increments = Vec::with_capacity(num_perm);
        for _ in 0..num_perm {
            multipliers.push(splitmix64(&mut state) | 1);
            increments.push(splitmix64(&mut state));
        }
        Self {
            multipliers,
            increments,
        }
    }

    /// Number of values in a signature.
    pub fn num_perm(&self) -> usize {
        self.multipliers.len()
    }

    /// Writes the signature of `shingles` into `out` (length `num_perm`).
    ///
    /// Uses AVX-512 or AVX2 where the CPU has them (detected at run time, so
    /// a portable build gets them too); every path computes the same values.
    pub fn signature_into(&self, shingles: &[u64], out: &mut [u32]) {
        let n = out.len().min(self.multipliers.len());
        out.fill(u32::MAX);
        let (mults, incs, out) = (&self.multipliers[..n], &self.increments[..n], &mut out[..n]);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512dq") {
                // SAFETY: the CPU supports the features the function enables.
                unsafe { sketch_avx512(mults, incs, shingles, out) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                unsafe { sketch_avx2(mults, incs, shingles, out) };
                return;
            }
        }
        sketch(mults, incs, shingles, out);
    }

    /// The signature of `shingles`.
    pub fn signature(&self, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![0; self.num_perm()];
        self.signature_into(shingles, &mut out);
        out
    }
}

/// Permutations handled together: their minima stay in vector registers
/// while all shingles stream past.
const BLOCK: usize = 16;

/// The portable kernel: for each block of permutations, the minimum over all
/// shingles of the high half of `a * x + b`.
#[inline(always)]
fn sketch(mults: &[u64], incs: &[u64], shingles: &[u64], out: &mut [u32]) {
    let mut blocks = out.chunks_exact_mut(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        let a: &[u64; BLOCK] = mults[offset..offset + BLOCK]
            .try_into()
            .unwrap_or(&[0; BLOCK]);
        let b: &[u64; BLOCK] = incs[offset..offset + BLOCK]
            .try_into()
            .unwrap_or(&[0; BLOCK]);
        let mut acc = [u32::MAX; BLOCK];
        for &x in shingles {
            for j in 0..BLOCK {
                acc[j] = acc[j].min((a[j].wrapping_mul(x).wrapping_add(b[j]) >> 32) as u32);
            }
        }
        block.copy_from_slice(&acc);
        offset += BLOCK;
    }
    let rest = blocks.into_remainder();
    for (i, slot) in rest.iter_mut().enumerate() {
        let (a, b) = (mults[offset + i], incs[offset + i]);
        for &x in shingles {
            *slot = (*slot).min((a.wrapping_mul(x).wrapping_add(b) >> 32) as u32);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sketch_avx2(mults: &[u64], incs: &[u64], shingles: &[u64], out: &mut [u32]) {
    sketch(mults, incs, shingles, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn sketch_avx512(mults: &[u64], incs: &[u64], shingles: &[u64], out: &mut [u32]) {
    sketch(mults, incs, shingles, out)
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
    }

    #[test]
    fn signature_values_are_pinned() {
        // Signatures must be identical across builds and CPUs; stored
        // signatures depend on these values (tokeniser, shingle hash, seed
        // stream and permutations together).
        let h = MinHasher::new(8, DEFAULT_SEED);
        let fox = shingle_set("The quick brown fox jumps over the lazy dog", 5);
        assert_eq!(
            h.signature(&fox),
            [
                782768362, 2311298306, 1723304751, 640236891, 505622622, 447406946, 459699989,
                66919440
            ]
        );
        let short = shingle_set("Fréchet means", 5);
        assert_eq!(
            h.signature(&short),
            [
                2774708460, 1184660465, 3114886894, 3095807017, 221280117, 1426381881, 3066155618,
                1763348933
            ]
        );
    }

    proptest! {
        /// The vectorised paths give exactly the portable values.
        #[test]
        fn dispatched_kernel_matches_portable(
            shingles in prop::collection::vec(any::<u64>(), 0..300),
            num_perm in 1usize..70,
            seed in any::<u64>(),
        ) {
            let h = MinHasher::new(num_perm, seed);
            let mut portable = vec![u32::MAX; num_perm];
            sketch(&h.multipliers, &h.increments, &shingles, &mut portable);
            let mut naive = vec![u32::MAX; num_perm];
            for &x in &shingles {
                for (i, slot) in naive.iter_mut().enumerate() {
                    let v = (h.multipliers[i].wrapping_mul(x).wrapping_add(h.increments[i]) >> 32) as u32;
                    *slot = (*slot).min(v);
                }
            }
            prop_assert_eq!(&portable, &naive);
            prop_assert_eq!(h.signature(&shingles), naive);
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
}
