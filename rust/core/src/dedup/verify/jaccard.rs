//! Exact Jaccard similarity of sorted, distinct shingle-hash sets, with an
//! early exit once a threshold is out of reach.
//!
//! The common count comes from a merge of the two sets. Where the CPU has
//! AVX-512 (or AVX2), the merge compares blocks of eight against eight (four
//! against four) in every pair of lanes, through rotations, and moves on by
//! whole blocks, so its chain of dependent steps is an eighth (a quarter) as
//! long as the element-by-element merge's; the remainder (less than a block
//! left in one set) is merged one by one. All give the same count, so the
//! same similarities.

use crate::simd::{kernel, Level};

/// Exact Jaccard similarity of two sorted, deduplicated sets.
/// Two empty sets have similarity 0: there is nothing to compare.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    jaccard_at_least(a, b, 0.0)
}

/// Jaccard similarity from the common count and the two set sizes.
fn jaccard_of_counts(common: usize, a: usize, b: usize) -> f64 {
    common as f64 / (a + b - common) as f64
}

/// Merge steps between two checks of whether the threshold is still reachable.
const REACH_CHECK_STEPS: usize = 32;

/// Where a merge stands: the next index into each set, and the common
/// elements found before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Merge {
    i: usize,
    j: usize,
    common: usize,
}

impl Merge {
    /// The most common elements the whole merge can still find.
    fn reachable(&self, n: usize, m: usize) -> usize {
        self.common + (n - self.i).min(m - self.j)
    }
}

/// The fewest common elements for which two sets of sizes `n` and `m` reach
/// `threshold`, as [`jaccard_of_counts`] computes it (it grows with the common
/// count, also in floating point); `usize::MAX` where no count reaches it.
fn common_needed(n: usize, m: usize, threshold: f64) -> usize {
    if threshold.is_nan() || threshold <= 0.0 {
        return 0;
    }
    // J = c / (n + m - c) >= t  <=>  c >= t (n + m) / (1 + t): start at the
    // floor of that and step past any rounding (one step, as a rule).
    let top = n.min(m);
    let reaches = |c: usize| jaccard_of_counts(c, n, m) >= threshold;
    let estimate = threshold * (n + m) as f64 / (1.0 + threshold);
    let mut c = (estimate as usize).min(top);
    if reaches(c) {
        while c > 0 && reaches(c - 1) {
            c -= 1;
        }
        return c;
    }
    while c < top {
        c += 1;
        if reaches(c) {
            return c;
        }
    }
    usize::MAX
}

/// [`jaccard`] of two sorted, deduplicated sets when it is at least
/// `threshold`; otherwise some value below `threshold` (an upper bound),
/// found as soon as the threshold is out of reach: from the set sizes alone
/// (J <= min/max), or part way through the merge. Values at or above the
/// threshold are exactly [`jaccard`]'s, so deciding with either gives the
/// same pairs.
pub fn jaccard_at_least(a: &[u64], b: &[u64], threshold: f64) -> f64 {
    jaccard_at_least_with(BlockMerge::detected(), a, b, threshold)
}

/// [`jaccard_at_least`] with the block merge `blocks`, for comparisons
/// (every merge gives the same value); one the CPU lacks (see
/// [`BlockMerge::runs_here`]) is merged element by element instead.
pub fn jaccard_at_least_by(blocks: BlockMerge, a: &[u64], b: &[u64], threshold: f64) -> f64 {
    let blocks = if blocks.runs_here() {
        blocks
    } else {
        BlockMerge::None
    };
    jaccard_at_least_with(blocks, a, b, threshold)
}

/// [`jaccard_at_least`] with the block merge `blocks`, which the CPU runs.
fn jaccard_at_least_with(blocks: BlockMerge, a: &[u64], b: &[u64], threshold: f64) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (n, m) = (a.len(), b.len());
    let needed = common_needed(n, m, threshold);
    let start = Merge {
        i: 0,
        j: 0,
        common: 0,
    };
    if start.reachable(n, m) < needed {
        return jaccard_of_counts(start.reachable(n, m), n, m);
    }
    match merge_by(blocks, a, b, needed, start) {
        Ok(done) => jaccard_of_counts(done.common, n, m),
        Err(stopped) => jaccard_of_counts(stopped.reachable(n, m), n, m),
    }
}

/// How the merge compares the two sets before the last few values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockMerge {
    /// Blocks of 8 (AVX-512F).
    Avx512,
    /// Blocks of 4 (AVX2).
    Avx2,
    /// None: element by element throughout.
    None,
}

impl BlockMerge {
    /// The widest block merge this CPU runs (the one [`jaccard_at_least`]
    /// takes).
    pub fn detected() -> BlockMerge {
        [BlockMerge::Avx512, BlockMerge::Avx2]
            .into_iter()
            .find(|blocks| blocks.runs_here())
            .unwrap_or(BlockMerge::None)
    }

    /// Whether this CPU runs the merge.
    pub fn runs_here(self) -> bool {
        self.level().runs_here()
    }

    /// The CPU level whose features the merge's kernel is compiled with.
    fn level(self) -> Level {
        match self {
            BlockMerge::Avx512 => Level::Avx512,
            BlockMerge::Avx2 => Level::Avx2,
            BlockMerge::None => Level::Portable,
        }
    }

    /// Every merge this CPU runs, element by element first.
    pub fn supported() -> Vec<BlockMerge> {
        [BlockMerge::None, BlockMerge::Avx2, BlockMerge::Avx512]
            .into_iter()
            .filter(|blocks| blocks.runs_here())
            .collect()
    }
}

/// The merge from `at` to the end of either set, by the block merge
/// `blocks` (which the CPU must support), then element by element: `Ok`
/// with the final state, or `Err` with the state at which fewer than
/// `needed` common elements became reachable.
fn merge_by(
    blocks: BlockMerge,
    a: &[u64],
    b: &[u64],
    needed: usize,
    at: Merge,
) -> Result<Merge, Merge> {
    #[cfg(target_arch = "x86_64")]
    let at = match blocks {
        // SAFETY: `blocks` is a merge the CPU supports.
        BlockMerge::Avx512 => unsafe { merge_blocks_avx512(a, b, needed, at) }?,
        // SAFETY: as above.
        BlockMerge::Avx2 => unsafe { merge_blocks_avx2(a, b, needed, at) }?,
        BlockMerge::None => at,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = blocks;
    merge_one_by_one(a, b, needed, at)
}

/// [`merge_by`] element by element, branch-free, checking reachability every
/// [`REACH_CHECK_STEPS`] steps.
fn merge_one_by_one(a: &[u64], b: &[u64], needed: usize, at: Merge) -> Result<Merge, Merge> {
    let (n, m) = (a.len(), b.len());
    let (mut i, mut j, mut common) = (at.i, at.j, at.common);
    while i < n && j < m {
        let steps = REACH_CHECK_STEPS.min(n - i).min(m - j);
        for _ in 0..steps {
            let (x, y) = (a[i], b[j]);
            common += usize::from(x == y);
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        let now = Merge { i, j, common };
        if now.reachable(n, m) < needed {
            return Err(now);
        }
    }
    Ok(Merge { i, j, common })
}

/// Values in a 512-bit vector.
const LANES: usize = 8;

/// Values in a 256-bit vector.
const AVX2_LANES: usize = 4;

/// Where a block merge goes after comparing the blocks of `width` values at
/// `i` and `j`: past the block (or both) whose last value is the smaller.
/// The next blocks depend on these two values alone, so they are read as
/// scalars, volatile: otherwise the compiler takes them out of the vectors
/// just loaded, which puts a vector-to-integer move on the chain from one
/// step to the next (about 20 cycles a step instead of a load and a compare).
///
/// # Safety
/// `i + width <= a.len()` and `j + width <= b.len()`, `width >= 1`.
#[inline(always)]
unsafe fn next_blocks(a: &[u64], b: &[u64], i: usize, j: usize, width: usize) -> (usize, usize) {
    // SAFETY: inside both blocks (the caller's guarantee).
    let (last_a, last_b) = unsafe {
        (
            std::ptr::read_volatile(a.as_ptr().add(i + width - 1)),
            std::ptr::read_volatile(b.as_ptr().add(j + width - 1)),
        )
    };
    (
        i + width * usize::from(last_a <= last_b),
        j + width * usize::from(last_b <= last_a),
    )
}

/// Defines a block merge: `$name`, compiled with the features of the
/// [`Level`] tagged `$level` (see [`kernel!`]), merges by
/// blocks of `$width` while both sets have a whole block left, and returns
/// `Ok` with where it stopped (the rest is for [`merge_one_by_one`]).
/// `$common` counts the values of the block of `a` at `$pa` found in the
/// block of `b` at `$pb` (it is pasted into the loop, so it inlines).
///
/// Each step compares a block of `a` with a block of `b` in every lane pair
/// and counts the lanes of `a` with a match, then moves past the block (or
/// both) whose last value is the smaller. A matching pair shares exactly one
/// step, since the pair of blocks changes at every step and the sets are
/// distinct, so each common element is counted once.
macro_rules! block_merge {
    ($(#[$doc:meta])* $name:ident, $level:ident, $width:expr,
     |$pa:ident, $pb:ident| $common:block) => {
        kernel!($level;
        $(#[$doc])*
        unsafe fn $name(a: &[u64], b: &[u64], needed: usize, at: Merge) -> Result<Merge, Merge> {
            #[allow(unused_imports)]
            use std::arch::x86_64::*;
            let (n, m) = (a.len(), b.len());
            let (mut i, mut j, mut common) = (at.i, at.j, at.common);
            while i + $width <= n && j + $width <= m {
                // SAFETY: both blocks lie inside their sets (the loop condition).
                let ($pa, $pb) = unsafe { (a.as_ptr().add(i), b.as_ptr().add(j)) };
                common += $common;
                // SAFETY: the blocks just compared.
                (i, j) = unsafe { next_blocks(a, b, i, j, $width) };
                let now = Merge { i, j, common };
                if now.reachable(n, m) < needed {
                    return Err(now);
                }
            }
            Ok(Merge { i, j, common })
        }
        );
    };
}

block_merge!(
    /// Blocks of [`LANES`]: 7 rotations, 8 compares, one popcount a step.
    ///
    /// # Safety
    /// The CPU must run [`Level::Avx512`].
    merge_blocks_avx512, avx512, LANES, |pa, pb| {
        // SAFETY: `pa` and `pb` start whole blocks (the macro's loop).
        let (va, vb) = unsafe { (_mm512_loadu_si512(pa.cast()), _mm512_loadu_si512(pb.cast())) };
        let mut hits = _mm512_cmpeq_epi64_mask(va, vb);
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<1>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<2>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<3>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<4>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<5>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<6>(vb, vb));
        hits |= _mm512_cmpeq_epi64_mask(va, _mm512_alignr_epi64::<7>(vb, vb));
        hits.count_ones() as usize
    }
);

block_merge!(
    /// Blocks of [`AVX2_LANES`] (for CPUs with AVX2 but not AVX-512): 3
    /// rotations, 4 compares, one popcount a step.
    ///
    /// # Safety
    /// The CPU must run [`Level::Avx2`].
    merge_blocks_avx2, avx2, AVX2_LANES, |pa, pb| {
        // SAFETY: `pa` and `pb` start whole blocks (the macro's loop).
        let (va, vb) = unsafe { (_mm256_loadu_si256(pa.cast()), _mm256_loadu_si256(pb.cast())) };
        let r1 = _mm256_permute4x64_epi64::<0b00_11_10_01>(vb);
        let r2 = _mm256_permute4x64_epi64::<0b01_00_11_10>(vb);
        let r3 = _mm256_permute4x64_epi64::<0b10_01_00_11>(vb);
        let mut hits = _mm256_cmpeq_epi64(va, vb);
        hits = _mm256_or_si256(hits, _mm256_cmpeq_epi64(va, r1));
        hits = _mm256_or_si256(hits, _mm256_cmpeq_epi64(va, r2));
        hits = _mm256_or_si256(hits, _mm256_cmpeq_epi64(va, r3));
        _mm256_movemask_pd(_mm256_castsi256_pd(hits)).count_ones() as usize
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// With a threshold, values at or above it are exact, and values
        /// below it stay below it.
        #[test]
        fn jaccard_at_least_decides_like_jaccard(
            a in proptest::collection::btree_set(0u64..300, 0..200),
            b in proptest::collection::btree_set(0u64..300, 0..200),
            spread in proptest::bool::ANY,
            threshold in 0.0f64..1.0,
        ) {
            // Small values, all in the first quarter of the range, or the
            // same sets spread over the whole range (every merge chain).
            let place = |v: u64| if spread { v.wrapping_mul(0x9E37_79B9_7F4A_7C15) } else { v };
            let a: std::collections::BTreeSet<u64> = a.into_iter().map(place).collect();
            let b: std::collections::BTreeSet<u64> = b.into_iter().map(place).collect();
            let common = a.intersection(&b).count();
            let expected = if a.is_empty() || b.is_empty() {
                0.0
            } else {
                common as f64 / (a.len() + b.len() - common) as f64
            };
            let (a, b): (Vec<u64>, Vec<u64>) = (a.into_iter().collect(), b.into_iter().collect());
            let exact = jaccard(&a, &b);
            proptest::prop_assert_eq!(exact, expected);
            let bounded = jaccard_at_least(&a, &b, threshold);
            if exact >= threshold {
                proptest::prop_assert_eq!(bounded, exact);
            } else {
                proptest::prop_assert!(bounded < threshold && bounded >= exact);
            }
        }

        /// The block merge and the one-by-one merge count the same common
        /// elements from any starting point, and stop (or not) alike.
        #[test]
        fn block_merge_counts_like_one_by_one(
            a in proptest::collection::btree_set(0u64..2000, 0..400),
            b in proptest::collection::btree_set(0u64..2000, 0..400),
            skip_a in 0usize..20,
            skip_b in 0usize..20,
            threshold in 0.0f64..1.0,
        ) {
            let (a, b): (Vec<u64>, Vec<u64>) = (a.into_iter().collect(), b.into_iter().collect());
            let (i, j) = (skip_a.min(a.len()), skip_b.min(b.len()));
            // From any point, both count the common elements of the rest.
            let at = Merge { i, j, common: 0 };
            let needed = common_needed(a.len(), b.len(), threshold);
            let one_by_one = merge_one_by_one(&a, &b, 0, at).unwrap();
            let full_reaches = one_by_one.common >= needed;
            for blocks in BlockMerge::supported() {
                let with_blocks = merge_by(blocks, &a, &b, 0, at).unwrap();
                proptest::prop_assert_eq!(one_by_one.common, with_blocks.common);
                let decided = merge_by(blocks, &a, &b, needed, at);
                proptest::prop_assert!(!full_reaches || decided.is_ok());
                if let Err(stopped) = decided {
                    proptest::prop_assert!(stopped.reachable(a.len(), b.len()) < needed);
                    proptest::prop_assert!(one_by_one.common < needed);
                }
            }
        }

        /// The needed count is the least count whose Jaccard reaches the
        /// threshold.
        #[test]
        fn common_needed_is_the_least_reaching_count(
            n in 1usize..5000,
            m in 1usize..5000,
            random_threshold in 0.0f64..1.0,
            exact_at in 0.0f64..1.0,
            on_a_count in proptest::bool::ANY,
        ) {
            let top = n.min(m);
            // A threshold anywhere, or exactly the Jaccard of some count.
            let threshold = if on_a_count {
                jaccard_of_counts((exact_at * top as f64) as usize, n, m)
            } else {
                random_threshold
            };
            let needed = common_needed(n, m, threshold);
            if needed == usize::MAX {
                proptest::prop_assert!(jaccard_of_counts(top, n, m) < threshold);
            } else {
                proptest::prop_assert!(needed <= top);
                proptest::prop_assert!(jaccard_of_counts(needed, n, m) >= threshold);
                if needed > 0 {
                    proptest::prop_assert!(jaccard_of_counts(needed - 1, n, m) < threshold);
                }
            }
        }
    }

    #[test]
    fn long_sets_have_exact_jaccard() {
        // Identical long sets: every block step matches all eight lanes.
        let a: Vec<u64> = (0..1000).map(|v| v * 3).collect();
        assert_eq!(jaccard(&a, &a), 1.0);
        let b: Vec<u64> = (0..1000).map(|v| v * 3 + u64::from(v % 4 == 0)).collect();
        assert_eq!(jaccard(&a, &b), 750.0 / 1250.0);
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }
}
