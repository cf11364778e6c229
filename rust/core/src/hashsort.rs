//! Sorting hash values: the distinct values of a list, ascending.
//!
//! Shingle hashes are spread evenly over `u64`. One counting pass on their
//! top bits, with two to four buckets per value, puts them in order up to
//! the few values that share a bucket; one insertion-sort pass then finishes
//! the order, moving only those. For the sets exact verification compares
//! (hundreds to thousands of values) that is about twice as fast as a
//! comparison sort. Values that are not spread evenly (many repeats, or all
//! in one bucket) only make the insertion pass longer; the result is the
//! same for any input.

/// Lists shorter than this are sorted by comparison.
const MIN_BUCKETED: usize = 32;

/// At most `2^MAX_BUCKET_BITS` buckets (the counts stay in the L1/L2 cache).
const MAX_BUCKET_BITS: u32 = 16;

/// Lists with more values per bucket than this (too long for the cap on
/// buckets) are sorted by comparison.
const MAX_VALUES_PER_BUCKET: usize = 4;

/// The insertion pass gives up after this many moves per value (values
/// spread evenly need well under one).
const MAX_MOVES_PER_VALUE: usize = 8;

/// Reusable memory for [`HashSorter::sorted_distinct_into`].
#[derive(Debug, Default)]
pub struct HashSorter {
    /// Per bucket, where its values end in the output (then, after the
    /// scatter, where they begin).
    ends: Vec<u32>,
    scratch: Vec<u64>,
}

impl HashSorter {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distinct values of `values`, ascending, into `out` (cleared first).
    pub fn sorted_distinct_into(&mut self, values: &[u64], out: &mut Vec<u64>) {
        out.clear();
        let n = values.len();
        if !(MIN_BUCKETED..=MAX_VALUES_PER_BUCKET << MAX_BUCKET_BITS).contains(&n) {
            out.extend_from_slice(values);
            out.sort_unstable();
            out.dedup();
            return;
        }
        // Two to four buckets per value: the next power of two above 2n.
        let bits = (usize::BITS - (n - 1).leading_zeros() + 1).min(MAX_BUCKET_BITS);
        let shift = 64 - bits;
        let ends = &mut self.ends;
        ends.clear();
        ends.resize((1 << bits) + 1, 0);
        for &v in values {
            ends[(v >> shift) as usize + 1] += 1;
        }
        let mut total = 0u32;
        for end in ends.iter_mut() {
            total += *end;
            *end = total;
        }
        // `ends[b + 1]` is the end of bucket `b`; fill each bucket from its end.
        out.resize(n, 0);
        for &v in values {
            let end = &mut ends[(v >> shift) as usize + 1];
            *end -= 1;
            out[*end as usize] = v;
        }
        if !insertion_sort(out, MAX_MOVES_PER_VALUE * n) {
            // Values crowd a few buckets (not hashes spread evenly): the
            // comparison sort bounds the time.
            out.sort_unstable();
        }
        out.dedup();
    }

    /// [`Self::sorted_distinct_into`] written back over the first values of
    /// `values`; returns how many there are.
    pub fn sorted_distinct_in_slice(&mut self, values: &mut [u64]) -> usize {
        // Placeholder until the in-place sorter lands: sort into scratch, copy back.
        let mut out = std::mem::take(&mut self.scratch);
        self.sorted_distinct_into(values, &mut out);
        values[..out.len()].copy_from_slice(&out);
        let len = out.len();
        self.scratch = out;
        len
    }
}

/// Sorts `values` in place, which is fast when each value is already close
/// to its place; gives up (returning false, `values` reordered but not
/// sorted) after `max_moves` moves.
fn insertion_sort(values: &mut [u64], max_moves: usize) -> bool {
    let mut moves = 0usize;
    for i in 1..values.len() {
        let v = values[i];
        if values[i - 1] <= v {
            continue;
        }
        let mut j = i;
        while j > 0 && values[j - 1] > v {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = v;
        moves += i - j;
        if moves > max_moves {
            return false;
        }
    }
    true
}

/// The distinct values of `values`, ascending.
pub fn sorted_distinct(values: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(values.len());
    HashSorter::new().sorted_distinct_into(values, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(values: &[u64]) -> Vec<u64> {
        let mut v = values.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    }

    proptest! {
        /// Any values: spread, clustered in a few buckets, or repeated.
        #[test]
        fn same_as_sort_and_dedup(
            values in prop::collection::vec(any::<u64>(), 0..3000),
            clustered in prop::collection::vec(0u64..50, 0..3000),
        ) {
            let mut sorter = HashSorter::new();
            let mut out = Vec::new();
            sorter.sorted_distinct_into(&values, &mut out);
            prop_assert_eq!(&out, &reference(&values));
            // Few distinct values, all in the lowest bucket.
            sorter.sorted_distinct_into(&clustered, &mut out);
            prop_assert_eq!(&out, &reference(&clustered));
            let mut both = values.clone();
            both.extend(clustered.iter().map(|c| c << 58));
            prop_assert_eq!(sorted_distinct(&both), reference(&both));
        }
    }

    #[test]
    fn extremes_and_sizes_around_the_cuts() {
        let cap = MAX_VALUES_PER_BUCKET << MAX_BUCKET_BITS;
        for n in [0, 1, 31, 32, 33, 1 << 15, (1 << 16) + 3, cap, cap + 1] {
            let mut state = n as u64;
            let mut values: Vec<u64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    state
                })
                .collect();
            values.extend([0, u64::MAX, u64::MAX, 0]);
            assert_eq!(sorted_distinct(&values), reference(&values), "n = {n}");
        }
    }

    #[test]
    fn values_crowding_one_bucket_fall_back_to_the_comparison_sort() {
        // Distinct, descending, all below 2^40: one bucket, the worst order.
        let values: Vec<u64> = (0..100_000u64).rev().collect();
        let mut out = Vec::new();
        HashSorter::new().sorted_distinct_into(&values, &mut out);
        assert_eq!(out, reference(&values));
        let mut moved = values.clone();
        assert!(!insertion_sort(&mut moved, 8 * values.len()));
    }
}
